/* How long the disk thread's I/O takes: one latency histogram per kind of
 * I/O, for the metrics.
 *
 * The buckets are fixed: from 100 us (a local disk) to 60 s (the longest
 * I/O deadline, a disk interval at the largest timeout). Each bucket
 * counts the I/Os that took at most its bound and more than the previous
 * one, the last counts the rest; the renderer adds them up into
 * Prometheus' cumulative buckets. A failed I/O (an error, or its deadline
 * passed) is counted with the time it took, and once more as an error.
 * Pure code: the caller holds whatever lock guards the histogram.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

enum disk_op {
        DISK_OP_SLOT_WRITE,             /* this host's slot */
        DISK_OP_READ_ROUND,             /* every slot, once per disk interval */
        DISK_OP_MAILBOX_READ,           /* every mailbox, once per disk interval */
        DISK_OP_MAILBOX_WRITE,          /* another host's mailbox */
        DISK_OP_CONFIG_WRITE,           /* the HA state snapshot */
        DISK_OP_CLAIMS,                 /* ownership claims, written or collected */
        _DISK_OP_MAX,
};

#define DISK_LATENCY_BUCKETS 18         /* finite bounds; one more bucket counts the rest */

struct disk_latency {
        uint64_t bucket[DISK_LATENCY_BUCKETS + 1];
        uint64_t count;
        uint64_t sum_us;
        uint64_t errors;
};

/* The upper bound of bucket i (< DISK_LATENCY_BUCKETS), in microseconds,
 * increasing with i. */
uint64_t disk_latency_bound_us(unsigned i);
/* Counts one I/O of us microseconds; failed: it returned an error. */
void disk_latency_observe(struct disk_latency *h, uint64_t us, bool failed);
/* "slot_write", "read_round", ...: the label the metrics give the kind. */
const char *disk_op_name(enum disk_op op);
