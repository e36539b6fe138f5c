/* The HA state's on-disk form and whether it fits a config copy (see
 * hastate_disk.h for the rule). Pure: the capacity comes in as a number. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/hastate_disk.h"
#include "heartbeat/disk_format.h"

int hastate_disk_encode(const struct hastate *s, uint8_t **buf, size_t *len, size_t *raw_len) {
        uint8_t *raw = NULL, *z = NULL;
        size_t rlen, cap;
        int r;

        r = hastate_snapshot_encode(s, &raw, &rlen);
        if (r < 0)
                return r;
        cap = compressBound((uLong)rlen);
        z = malloc(cap);
        if (!z) {
                free(raw);
                return -ENOMEM;
        }
        /* compressBound() always suffices: -ENOSPC cannot happen, and a
         * snapshot is never empty nor beyond DISK_CONFIG_RAW_MAX. */
        r = disk_config_deflate(raw, rlen, z, cap, len);
        free(raw);
        if (r < 0) {
                free(z);
                return r == -ENOSPC ? -ENOMEM : r;
        }
        *buf = z;
        *raw_len = rlen;
        return 0;
}

int hastate_disk_check(const struct hastate *s, uint64_t capacity, bool measure, struct hastate_disk_size *out) {
        uint8_t *z;
        size_t zlen, rlen;
        int r;

        memset(out, 0, sizeof(*out));
        out->capacity = capacity;
        out->n_vms = s->n_vms;
        /* The worst case needs only the snapshot's length, not the
         * snapshot itself. */
        rlen = hastate_snapshot_len(s);
        out->raw_len = rlen;
        out->bound = disk_config_bytes_max(rlen);
        out->needed = out->bound;
        out->fits = capacity == 0 || (out->bound && out->bound <= capacity);
        if (out->fits && !measure)
                return 0;
        r = hastate_disk_encode(s, &z, &zlen, &rlen);
        if (r < 0)
                return r;
        free(z);
        out->compressed = true;
        out->stored_len = zlen;
        if (!out->fits) {
                out->needed = sizeof(struct disk_raw_config) + zlen +
                              (uint64_t)HASTATE_DISK_OWNER_RESERVE * s->n_vms;
                out->fits = out->needed <= capacity;
        }
        return 0;
}

void hastate_disk_explain(const struct hastate_disk_size *sz, char *buf, size_t len) {
        if (sz->fits) {
                snprintf(buf, len, "the HA configuration needs %llu bytes on disk, a config copy of the heartbeat "
                         "region holds %llu", (unsigned long long)sz->needed, (unsigned long long)sz->capacity);
                return;
        }
        snprintf(buf, len,
                 "the HA configuration would need %llu bytes on disk, a config copy of the heartbeat region holds %llu "
                 "(%zu VMs: %zu bytes compressed, a %zu-byte header, %u bytes per VM kept for ownership changes); "
                 "remove VMs, or re-create the region at its default size, which holds any configuration vmhad "
                 "accepts ('haadm disk init' with the pool stopped)",
                 (unsigned long long)sz->needed, (unsigned long long)sz->capacity, sz->n_vms, sz->stored_len,
                 sizeof(struct disk_raw_config), HASTATE_DISK_OWNER_RESERVE);
}

size_t hastate_disk_vms_for(uint64_t capacity) {
        size_t lo = 0, hi = HASTATE_MAX_VMS;

        if (disk_config_bytes_max(hastate_snapshot_max_len(0)) > capacity)
                return 0;
        /* The worst case grows with n: the largest n whose worst case fits. */
        while (lo < hi) {
                size_t mid = lo + (hi - lo + 1) / 2;
                if (disk_config_bytes_max(hastate_snapshot_max_len(mid)) <= capacity)
                        lo = mid;
                else
                        hi = mid - 1;
        }
        return lo;
}

uint32_t hastate_disk_blocks_for(size_t n_vms) {
        if (n_vms > HASTATE_MAX_VMS)
                return 0;
        return disk_config_blocks_for(hastate_snapshot_max_len(n_vms));
}
