/* vmhad's metrics in the Prometheus text exposition format (0.0.4).
 *
 * A pure renderer: vmhad fills a snapshot of its state (vmhad_metrics.c)
 * and metrics_render() turns it into text, the same text for the textfile
 * that node_exporter collects and for `haadm metrics`. Every family has
 * its HELP and TYPE lines, even when it has no sample: a value vmhad does
 * not know (the failures tolerated while a host's memory is unknown, the
 * age of a slot never read) is left out, never made up. Names start with
 * vmha_; label values are escaped as the format wants (backslash, double
 * quote, newline) and made valid UTF-8.
 */
#pragma once

#include "daemon/disk_latency.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest text: a pool of 255 hosts with the longest names fits
 * (tests/unit/test_metrics.c checks it). */
#define METRICS_TEXT_MAX (512 * 1024)
#define METRICS_NAME_MAX 64

/* A host's state as this host sees it; the same states as haadm status. */
enum metrics_host_state {
        METRICS_HOST_JOINING,
        METRICS_HOST_ALIVE,
        METRICS_HOST_FENCING,
        METRICS_HOST_FENCED,
        METRICS_HOST_LEFT,
        METRICS_HOST_EMERGENCY,
        _METRICS_HOST_STATE_MAX,
};

enum metrics_verdict {
        METRICS_VERDICT_NONE,           /* none yet */
        METRICS_VERDICT_SURVIVE,
        METRICS_VERDICT_WAIT,
        METRICS_VERDICT_FENCE,
        _METRICS_VERDICT_MAX,
};

struct metrics_host {
        uint32_t id;
        char name[METRICS_NAME_MAX];
        enum metrics_host_state state;
        bool master;
        bool slot_seen;                 /* its slot was read at least once */
        uint64_t slot_age_ms;           /* since its slot last advanced, on this host's clock */
};

struct metrics_cause {
        const char *name;               /* "fence-loop", as haadm emergency names it */
        bool on;
};

struct metrics_snapshot {
        const char *cluster;
        const char *self;               /* this host's name */
        const struct metrics_host *hosts;
        size_t n_hosts;

        enum metrics_verdict verdict;
        unsigned verdict_rule;          /* the rule that decided, 1..4; 0: none, or joining */
        bool quorate;
        bool ha_enabled;
        bool watchdog_armed;

        bool ntol_known;                /* false while a host's memory is unknown */
        unsigned failures_tolerated;
        bool ntol_exact;                /* false: a lower bound (the search ran out of time) */
        unsigned failures_to_tolerate;  /* the pool's target */
        size_t protected_vms;

        uint64_t self_fences;           /* from this host's fence history */
        int64_t last_self_fence_unix;   /* 0: none recorded */
        uint64_t vm_restarts;           /* protected VMs of failed hosts started here */
        uint64_t vm_migrations;         /* live migrations from this host completed */

        uint64_t longest_cb_us;         /* 0: not measured yet */
        const char *longest_cb;         /* which callback */

        bool emergency;
        const struct metrics_cause *causes;
        size_t n_causes;

        struct disk_latency disk[_DISK_OP_MAX];
};

/* Renders the snapshot. Returns 0 with the text in *text (malloc'd,
 * NUL-terminated, *len bytes without the NUL), -ENOMEM, or -E2BIG when it
 * would exceed METRICS_TEXT_MAX. */
int metrics_render(const struct metrics_snapshot *s, char **text, size_t *len);

/* "alive", "joining", ...: the state label. */
const char *metrics_host_state_name(enum metrics_host_state st);
const char *metrics_verdict_name(enum metrics_verdict v);
