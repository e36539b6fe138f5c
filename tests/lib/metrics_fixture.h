/* A realistic metrics snapshot for the renderer's tests: a pool of five
 * hosts seen from h1 (one fenced, one never read, one whose name needs
 * escaping and one with a non-ASCII name), a survivor in a quorate
 * partition, one emergency cause cleared, and disk latencies observed the
 * way the disk thread does. */
#pragma once

#include "daemon/disk_latency.h"
#include "daemon/metrics.h"

#include <stdio.h>
#include <string.h>

/* The name of host 4, as the renderer must escape it: a double quote, a
 * backslash and a newline. */
#define METRICS_FIXTURE_ODD_NAME "h4 \"lab\" \\rack\nB"

struct metrics_fixture {
        struct metrics_host hosts[5];
        struct metrics_cause causes[3];
        struct metrics_snapshot snap;
};

static inline void metrics_fixture_host(struct metrics_host *h, uint32_t id, const char *name,
                                        enum metrics_host_state st, bool seen, uint64_t age_ms) {
        memset(h, 0, sizeof(*h));
        h->id = id;
        snprintf(h->name, sizeof(h->name), "%s", name);
        h->state = st;
        h->slot_seen = seen;
        h->slot_age_ms = age_ms;
}

static inline void metrics_fixture_init(struct metrics_fixture *f) {
        static const uint64_t write_us[] = { 80, 120, 300, 450, 900, 1800, 4000, 700000 };
        struct metrics_snapshot *s = &f->snap;

        memset(f, 0, sizeof(*f));
        metrics_fixture_host(&f->hosts[0], 1, "h1", METRICS_HOST_ALIVE, true, 120);
        f->hosts[0].master = true;
        metrics_fixture_host(&f->hosts[1], 2, "h2", METRICS_HOST_ALIVE, true, 480);
        metrics_fixture_host(&f->hosts[2], 3, "h3", METRICS_HOST_FENCED, true, 12345);
        metrics_fixture_host(&f->hosts[3], 4, METRICS_FIXTURE_ODD_NAME, METRICS_HOST_JOINING, false, 0);
        metrics_fixture_host(&f->hosts[4], 5, "h\xc3\xb4te5", METRICS_HOST_LEFT, true, 61000);
        f->causes[0] = (struct metrics_cause){ "heartbeat-device-unreadable", false };
        f->causes[1] = (struct metrics_cause){ "corosync-down", false };
        f->causes[2] = (struct metrics_cause){ "fence-loop", false };

        s->cluster = "pool1";
        s->self = "h1";
        s->hosts = f->hosts;
        s->n_hosts = 5;
        s->verdict = METRICS_VERDICT_SURVIVE;
        s->verdict_rule = 1;
        s->quorate = true;
        s->ha_enabled = true;
        s->watchdog_armed = true;
        s->ntol_known = true;
        s->failures_tolerated = 1;
        s->ntol_exact = true;
        s->failures_to_tolerate = 1;
        s->protected_vms = 3;
        s->self_fences = 2;
        s->last_self_fence_unix = 1700000000;
        s->longest_cb_us = 12345;
        s->longest_cb = "disk completion";
        s->causes = f->causes;
        s->n_causes = 3;
        for (size_t i = 0; i < sizeof(write_us) / sizeof(write_us[0]); i++)
                disk_latency_observe(&s->disk[DISK_OP_SLOT_WRITE], write_us[i], write_us[i] > 500000);
        disk_latency_observe(&s->disk[DISK_OP_READ_ROUND], 2600, false);
        disk_latency_observe(&s->disk[DISK_OP_READ_ROUND], 200000000, true);   /* past every bound */
        disk_latency_observe(&s->disk[DISK_OP_MAILBOX_READ], 1000, false);     /* on a bound */
        disk_latency_observe(&s->disk[DISK_OP_MAILBOX_WRITE], 250, false);
}
