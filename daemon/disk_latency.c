/* Latency histograms of the disk thread's I/O. */
#include "daemon/disk_latency.h"

#include <stddef.h>

static const uint64_t bounds_us[DISK_LATENCY_BUCKETS] = {
        100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000,
        100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000, 30000000, 60000000,
};

static const char *const op_names[] = {
        [DISK_OP_SLOT_WRITE] = "slot_write",
        [DISK_OP_READ_ROUND] = "read_round",
        [DISK_OP_MAILBOX_READ] = "mailbox_read",
        [DISK_OP_MAILBOX_WRITE] = "mailbox_write",
        [DISK_OP_CONFIG_WRITE] = "config_write",
        [DISK_OP_CLAIMS] = "claims",
};
_Static_assert(sizeof(op_names) / sizeof(op_names[0]) == _DISK_OP_MAX, "a name per kind of I/O");

uint64_t disk_latency_bound_us(unsigned i) {
        return i < DISK_LATENCY_BUCKETS ? bounds_us[i] : UINT64_MAX;
}

void disk_latency_observe(struct disk_latency *h, uint64_t us, bool failed) {
        unsigned i = 0;

        while (i < DISK_LATENCY_BUCKETS && us > bounds_us[i])
                i++;
        h->bucket[i]++;
        h->count++;
        h->sum_us += us;
        if (failed)
                h->errors++;
}

const char *disk_op_name(enum disk_op op) {
        return (unsigned)op < _DISK_OP_MAX ? op_names[op] : "unknown";
}
