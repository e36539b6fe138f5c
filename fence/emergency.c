/* Emergency causes, their explanations, and fence-loop damping. */
#include "fence/emergency.h"

#include <stdlib.h>
#include <string.h>

static const struct {
        const char *name;
        const char *help;
        bool needs_clear;
} causes[] = {
        [EMERGENCY_DISK_MISSING] = { "heartbeat-device-missing",
                "The heartbeat device named in vmha.conf cannot be found or opened. Check the iSCSI session "
                "(iscsiadm -m session) and the device name, then restart vmhad.", false },
        [EMERGENCY_DISK_UNREADABLE] = { "heartbeat-device-unreadable",
                "Reads of the heartbeat device fail or hang. Check the storage path and the target; the "
                "host rejoins by itself once the device answers.", false },
        [EMERGENCY_DISK_CORRUPT] = { "heartbeat-region-corrupt",
                "The heartbeat device holds no valid vmha superblock. Run 'haadm disk dump DEVICE' to see "
                "what is wrong; only re-create it ('haadm disk init') when the whole pool is stopped.", false },
        [EMERGENCY_DISK_OTHER_CLUSTER] = { "heartbeat-region-of-another-cluster",
                "The heartbeat region belongs to another cluster than the one this host joined. Check "
                "vmha.conf's device; if the region was deliberately re-created, run "
                "'haadm emergency --clear'.", true },
        [EMERGENCY_COROSYNC_DOWN] = { "corosync-down",
                "Corosync is not running or not configured, so this host has no membership or quorum. "
                "Start it (systemctl start corosync) and check corosync.conf.", false },
        [EMERGENCY_WATCHDOG] = { "watchdog-unavailable",
                "No usable watchdog device: none exists, another program holds it, or vmhad refused it (the "
                "detail says why). Without it a frozen host could not be fenced. vmhad refuses a driver that "
                "stops its timer on close unless it supports magic close or is loaded with nowayout=1 (a crash "
                "of vmhad would disarm the host), and a device that cannot hold the pool's timeout exactly. A "
                "refused device whose timer outlives a close (magic close or nowayout) keeps running, because "
                "vmhad never writes the magic character on a refusal, and resets this host when it expires. "
                "Load a suitable driver (iTCO_wdt, ipmi_watchdog, xen_wdt; nowayout=1 where it lacks magic "
                "close), then restart vmhad: it opens the watchdog once per start.", false },
        [EMERGENCY_MAILBOX_FENCE] = { "unacknowledged-fence",
                "This host's mailbox holds a FENCE from the master that it never acknowledged. The master "
                "clears it when the host rejoins; otherwise check 'haadm status' on another host and run "
                "'haadm emergency --clear'.", true },
        [EMERGENCY_FENCE_LOOP] = { "fence-loop",
                "This host fenced itself too often within an hour and stays out of the pool so that it does "
                "not cycle. Find the cause in the fence history, fix it, then run 'haadm emergency --clear'.", true },
        [EMERGENCY_DAEMON_DOWN] = { "vmhad-not-running",
                "vmhad is not running or does not answer. See 'systemctl status vmhad' and "
                "'journalctl -u vmhad'.", false },
};
_Static_assert(sizeof(causes) / sizeof(causes[0]) == _EMERGENCY_CAUSE_MAX, "a text per cause");

const char *emergency_cause_name(enum emergency_cause c) {
        return (unsigned)c < _EMERGENCY_CAUSE_MAX ? causes[c].name : "unknown";
}

const char *emergency_cause_help(enum emergency_cause c) {
        return (unsigned)c < _EMERGENCY_CAUSE_MAX ? causes[c].help : "";
}

bool emergency_cause_needs_clear(enum emergency_cause c) {
        return (unsigned)c < _EMERGENCY_CAUSE_MAX && causes[c].needs_clear;
}

bool emergency_fence_loop(const int64_t *fence_times, size_t n, int64_t now, int64_t cleared_at,
                          unsigned max_per_hour) {
        unsigned recent = 0;

        if (max_per_hour == 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if (fence_times[i] > cleared_at && fence_times[i] <= now && now - fence_times[i] < 3600)
                        recent++;
        return recent >= max_per_hour;
}

size_t emergency_history_parse(const char *text, int64_t *times, size_t max) {
        size_t n = 0;
        const char *p = text;

        while (*p && n < max) {
                char *end = NULL;
                /* A line starts with its digits: strtoll() would skip the
                 * newline of an empty line and read the next line twice. */
                long long v = *p >= '0' && *p <= '9' ? strtoll(p, &end, 10) : 0;
                if (v > 0 && (*end == ' ' || *end == '\n' || *end == 0))
                        times[n++] = v;
                p = strchr(p, '\n');
                if (!p)
                        break;
                p++;
        }
        return n;
}
