/* Emergency mode: HA is armed but this host cannot take part safely.
 *
 * A host in emergency mode starts no protected VM and holds no HA
 * ownership. Each cause has a fixed name, a sentence saying what it means
 * and the next step, so that vmhad's banner and `haadm emergency` tell the
 * administrator the same thing at the console. The fence-loop damping rule
 * lives here too. Pure code: the checks themselves are done by callers.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum emergency_cause {
        EMERGENCY_DISK_MISSING,         /* the heartbeat device cannot be found or opened */
        EMERGENCY_DISK_UNREADABLE,      /* reads fail or hang */
        EMERGENCY_DISK_CORRUPT,         /* no valid superblock */
        EMERGENCY_DISK_OTHER_CLUSTER,   /* the superblock belongs to another cluster */
        EMERGENCY_COROSYNC_DOWN,        /* corosync not running or not configured */
        EMERGENCY_WATCHDOG,             /* no watchdog, or vmhad refused it (watchdog_open()) */
        EMERGENCY_MAILBOX_FENCE,        /* an unacknowledged FENCE in this host's mailbox */
        EMERGENCY_FENCE_LOOP,           /* too many self-fences within an hour */
        EMERGENCY_DAEMON_DOWN,          /* vmhad is not running or does not answer */
        _EMERGENCY_CAUSE_MAX,
};

const char *emergency_cause_name(enum emergency_cause c);
/* What it means and what to do next, one or two sentences. */
const char *emergency_cause_help(enum emergency_cause c);
/* Causes that only `haadm emergency --clear` ends (the others end when the
 * condition itself is gone). */
bool emergency_cause_needs_clear(enum emergency_cause c);

/* Fence-loop damping: true when at least max_per_hour of the self-fence
 * times (unix seconds) fall within the hour before now and after the last
 * clear (cleared_at, 0 for never). */
bool emergency_fence_loop(const int64_t *fence_times, size_t n, int64_t now, int64_t cleared_at,
                          unsigned max_per_hour);

/* Parses the fence history (lines "UNIX_SECONDS REASON") into at most max
 * times; malformed lines are skipped. Returns the count. */
size_t emergency_history_parse(const char *text, int64_t *times, size_t max);
