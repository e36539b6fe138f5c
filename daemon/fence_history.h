/* The fence history in state_dir: one line per self-fence of this host,
 * "UNIX_SECONDS REASON", appended on the way to every reboot (vmhad's
 * fence path). vmhad's fence-loop damping and the metrics' count of
 * self-fences read it, and so does haadm emergency.
 *
 * It is read up to its last FENCE_HISTORY_MAX bytes, thousands of fences:
 * the newest lines are the ones the damping needs, so a long history is
 * read from its end, never cut there.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define FENCE_HISTORY_MAX (1024 * 1024)

/* The self-fence times of the history at path, oldest first, malloc'd in
 * *times (NULL when there are none), their count in *n. A missing file is
 * an empty history; malformed lines are skipped. Returns 0 or -ENOMEM. */
int fence_history_read(const char *path, int64_t **times, size_t *n);
