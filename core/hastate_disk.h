/* The HA state as a config copy on the heartbeat disk stores it: the
 * snapshot compressed (heartbeat/disk_format.h), and whether it fits.
 *
 * A config copy holds a fixed number of bytes, set when the region was
 * made. The engine learns that capacity as a configuration value and
 * never reads the disk: a change whose resulting snapshot would not fit is
 * refused before it is replicated, with the bytes it needs and the bytes
 * the copy holds.
 *
 * The rule, in two steps:
 *   - a snapshot whose worst case (header + compressBound of its length)
 *     fits the copy fits, whatever it compresses to and whoever owns its
 *     VMs: nothing needs compressing to know it;
 *   - otherwise it is compressed, and it must fit with a reserve of
 *     HASTATE_DISK_OWNER_RESERVE bytes per VM left over, because ownership
 *     changes (never refused: they follow takeovers) make the same
 *     configuration compress a little worse.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/hastate.h"

/* Measured: moving the owners of thousands of VMs from one host to many
 * costs about 2.6 compressed bytes per VM; 8 keeps a wide margin. */
#define HASTATE_DISK_OWNER_RESERVE 8u

struct hastate_disk_size {
        uint64_t capacity;      /* bytes of a config copy, header included; 0: not known */
        size_t n_vms;
        size_t raw_len;         /* the snapshot, uncompressed */
        uint64_t bound;         /* header + compressBound(raw_len): the worst case on disk */
        bool compressed;        /* stored_len was measured (asked for, or the bound did not fit) */
        size_t stored_len;      /* the compressed snapshot, when measured */
        uint64_t needed;        /* what the check asks room for: the bound when it fits,
                                   else header + stored_len + the reserve */
        bool fits;
};

/* The snapshot as a config copy stores it: *buf (malloc'd, free() it)
 * holds *len bytes of zlib stream that inflate to *raw_len bytes.
 * Returns 0 or -ENOMEM. */
int hastate_disk_encode(const struct hastate *s, uint8_t **buf, size_t *len, size_t *raw_len);

/* Does s fit a config copy of capacity bytes (see the rule above)? Fills
 * out; returns 0 or -ENOMEM. A capacity of 0 means unknown: it fits. With
 * measure, the snapshot is compressed even when its worst case fits, so
 * that stored_len reports what the disk holds. */
int hastate_disk_check(const struct hastate *s, uint64_t capacity, bool measure, struct hastate_disk_size *out);

/* The refusal an administrator reads: "the HA configuration would need N
 * bytes on disk (...), the heartbeat region's config copy holds M; ...". */
void hastate_disk_explain(const struct hastate_disk_size *sz, char *buf, size_t len);

/* How many VMs a config copy of capacity bytes holds in the worst case
 * (every name and config path at its longest), at most HASTATE_MAX_VMS;
 * and the blocks per copy for n_vms such VMs (0 if beyond the format). */
size_t hastate_disk_vms_for(uint64_t capacity);
uint32_t hastate_disk_blocks_for(size_t n_vms);
