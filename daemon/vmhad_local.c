/* Local state in state_dir: the fence history (fence-loop damping, the
 * metrics' count of self-fences), the last self-fence, the cluster UUID
 * this host joined.
 */
#include "daemon/vmhad.h"

#include "daemon/fence_history.h"

#include <limits.h>
#include <qb/qblog.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void vmhad_state_path(const struct vmhad *d, const char *file, char *buf, size_t len) {
        snprintf(buf, len, "%s/%s", d->cfg.state_dir, file);
}

/* Fence-loop damping from the fence history, at start-up and on --clear;
 * also what the metrics count of it. */
void vmhad_check_fence_loop(struct vmhad *d) {
        char path[PATH_MAX + 32], why[256];
        int64_t *times, cleared = 0;
        size_t n;
        FILE *f;

        vmhad_state_path(d, "fence-history", path, sizeof(path));
        if (fence_history_read(path, &times, &n) < 0)
                qb_log(LOG_ERR, "cannot read the fence history %s: out of memory", path);
        d->self_fences = n;
        d->last_self_fence_unix = 0;
        for (size_t i = 0; i < n; i++)
                if (times[i] > d->last_self_fence_unix)
                        d->last_self_fence_unix = times[i];
        vmhad_state_path(d, "emergency-cleared", path, sizeof(path));
        f = fopen(path, "re");
        if (f) {
                long long v;
                if (fscanf(f, "%lld", &v) == 1)
                        cleared = v;
                fclose(f);
        }
        vmhad_state_path(d, "emergency-sticky", path, sizeof(path));
        if (emergency_fence_loop(times, n, (int64_t)time(NULL), cleared, d->cfg.max_fences_per_hour)) {
                f = fopen(path, "we");
                if (f) {
                        fprintf(f, "%u self-fences within an hour\n", d->cfg.max_fences_per_hour);
                        fclose(f);
                }
        }
        free(times);
        if (access(path, F_OK) == 0) {
                snprintf(why, sizeof(why), "at least %u self-fences within an hour", d->cfg.max_fences_per_hour);
                vmhad_emergency(d, EMERGENCY_FENCE_LOOP, true, why);
        } else {
                vmhad_emergency(d, EMERGENCY_FENCE_LOOP, false, NULL);
        }
}

/* The region's UUID is recorded at the first start; a different one later
 * means the device now holds another cluster's region (or a re-created
 * one), which only the administrator may accept. */
void vmhad_check_cluster_uuid(struct vmhad *d) {
        char path[PATH_MAX + 32], recorded[64] = "", uuid[37];
        FILE *f;

        disk_uuid_format(d->sb.uuid, uuid);
        vmhad_state_path(d, "cluster-uuid", path, sizeof(path));
        f = fopen(path, "re");
        if (f) {
                if (!fgets(recorded, sizeof(recorded), f))
                        recorded[0] = 0;
                fclose(f);
                recorded[strcspn(recorded, "\n")] = 0;
        }
        if (!recorded[0]) {
                f = fopen(path, "we");
                if (f) {
                        fprintf(f, "%s\n", uuid);
                        fclose(f);
                }
                return;
        }
        if (strcmp(recorded, uuid) != 0) {
                char why[160];
                snprintf(why, sizeof(why), "the region is %s, this host joined %s", uuid, recorded);
                vmhad_emergency(d, EMERGENCY_DISK_OTHER_CLUSTER, true, why);
        } else {
                vmhad_emergency(d, EMERGENCY_DISK_OTHER_CLUSTER, false, NULL);
        }
}

void vmhad_report_last_fence(struct vmhad *d) {
        char path[PATH_MAX + 32], line[512], when[64] = "", reason[448] = "";
        FILE *f;

        vmhad_state_path(d, "last-fence", path, sizeof(path));
        f = fopen(path, "re");
        if (!f)
                return;
        while (fgets(line, sizeof(line), f)) {
                line[strcspn(line, "\n")] = 0;
                if (strncmp(line, "time=", 5) == 0)
                        snprintf(when, sizeof(when), "%.63s", line + 5);
                else if (strncmp(line, "reason=", 7) == 0)
                        snprintf(reason, sizeof(reason), "%.447s", line + 7);
        }
        fclose(f);
        if (when[0])
                qb_log(LOG_WARNING, "this host fenced itself at %s: %s", when, reason);
}

/* Runs on the fence path, on a thread of its own under a bound. */
void vmhad_record_fence(const struct vmha_config *cfg, const char *reason) {
        char path[PATH_MAX + 32], when[64];
        time_t now = time(NULL);
        struct tm tm;
        FILE *f;

        snprintf(path, sizeof(path), "%s/fence-history", cfg->state_dir);
        f = fopen(path, "ae");
        if (f) {
                fprintf(f, "%lld %s\n", (long long)now, reason);
                fflush(f);
                fsync(fileno(f));
                fclose(f);
        }
        snprintf(path, sizeof(path), "%s/last-fence", cfg->state_dir);
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
        f = fopen(path, "we");
        if (!f)
                return;
        fprintf(f, "time=%s\nunix=%lld\nreason=%s\n", when, (long long)now, reason);
        fflush(f);
        fsync(fileno(f));
        fclose(f);
}
