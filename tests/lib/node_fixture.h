/* The node engine under test, one event at a time: a pool of three hosts,
 * this host is host 1, timeout 5 s (disk interval 500 ms, margin 2.5 s,
 * feed bound 250 ms). Shared by the engine's unit tests.
 */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/node.h"
#include "core/wire.h"

#define NH 3

struct fx {
        struct node *n;
        uint64_t now;
        uint64_t seq[NH + 1];
        struct node_slot_read slots[NH + 1];
        struct node_mailbox_read mbs[NH + 1];
        uint32_t own_wd_seq;
};

static const uint32_t ids[NH] = { 1, 2, 3 };
static const char *const names[NH] = { "alpha", "beta", "gamma" };

static inline size_t count(const struct fx *f, enum node_action_type t) {
        size_t n, c = 0;
        const struct node_action *a = node_actions(f->n, &n);
        for (size_t i = 0; i < n; i++)
                c += a[i].type == t;
        return c;
}

static inline const struct node_action *find(const struct fx *f, enum node_action_type t) {
        size_t n;
        const struct node_action *a = node_actions(f->n, &n);
        for (size_t i = n; i-- > 0;)
                if (a[i].type == t)
                        return &a[i];
        return NULL;
}

static inline bool logged(const struct fx *f, const char *needle) {
        size_t n;
        const struct node_action *a = node_actions(f->n, &n);
        for (size_t i = 0; i < n; i++)
                if (a[i].type == NODE_ACT_LOG && strstr(a[i].text, needle))
                        return true;
        return false;
}

static inline void handle(struct fx *f, const struct node_event *ev) {
        node_handle(f->n, ev, f->now);
}

static inline void membership(struct fx *f, uint64_t ring, const uint32_t *m, size_t n) {
        struct node_event ev = { .type = NODE_EV_MEMBERSHIP };
        for (size_t i = 0; i < n; i++) {
                core_view_add(&ev.u.membership.members, m[i]);
                core_view_add(&ev.u.membership.joined, m[i]);
        }
        ev.u.membership.ring_id = ring;
        handle(f, &ev);
}

static inline void quorum(struct fx *f, bool q) {
        struct node_event ev = { .type = NODE_EV_QUORUM };
        ev.u.quorum.quorate = q;
        handle(f, &ev);
}

/* Every peer's slot advances: ALIVE, view {1,2,3}, armed. */
static inline void disk_round(struct fx *f) {
        struct node_event ev = { .type = NODE_EV_DISK_READ };
        for (uint32_t id = 1; id <= NH; id++) {
                struct disk_slot *s = &f->slots[id].slot;
                if (f->slots[id].status != NODE_BLOCK_OK)
                        continue;
                s->host_id = id;
                s->state = DISK_SLOT_ALIVE;
                s->incarnation = 100 + id;
                s->seq = ++f->seq[id];
                s->ring_id = 1;
                s->watchdog_timeout_ms = 5000;
                s->flags = DISK_SLOT_QUORATE | DISK_SLOT_DISK_OK;
                memset(s->view, 0, sizeof(s->view));
                for (uint32_t j = 1; j <= NH; j++)
                        disk_view_set(s->view, j);
                f->mbs[id].status = NODE_BLOCK_OK;
        }
        ev.u.disk.ok = true;
        ev.u.disk.done_ms = f->now;
        ev.u.disk.max_id = NH;
        ev.u.disk.slots = f->slots;
        ev.u.disk.mailboxes = f->mbs;
        handle(f, &ev);
}

static inline void slot_written(struct fx *f, bool ok, uint64_t done_ms) {
        struct node_event ev = { .type = NODE_EV_SLOT_WRITTEN };
        ev.u.slot_written.ok = ok;
        ev.u.slot_written.seq = ++f->own_wd_seq;
        ev.u.slot_written.done_ms = done_ms;
        ev.u.slot_written.written.state = DISK_SLOT_ALIVE;
        handle(f, &ev);
}

static inline void watchdog_result(struct fx *f, bool armed) {
        struct node_event ev = { .type = NODE_EV_WATCHDOG };
        ev.u.watchdog.armed = armed;
        snprintf(ev.u.watchdog.detail, sizeof(ev.u.watchdog.detail), "%s", armed ? "" : "no device");
        handle(f, &ev);
}

static inline void tick(struct fx *f) {
        struct node_event ev = { .type = NODE_EV_TICK };
        handle(f, &ev);
}

/* A new engine at 1000 ms: quorate in the full membership, its first slot
 * write completed, no disk round yet. */
static inline void start(struct fx *f, const struct node_config *cfg, struct hastate *hs) {
        f->now = 1000;
        assert_int_equal(node_new(cfg, hs ? hs : hastate_new(), f->now, &f->n), 0);
        membership(f, 1, ids, NH);
        quorum(f, true);
        slot_written(f, true, f->now);
}

/* Up and surviving: quorate, the disk works, the watchdog is armed. */
static inline int setup_with(void **state, bool vms, struct hastate *hs) {
        static struct fx f;
        struct node_config cfg = { .self_id = 1, .hosts = ids, .host_names = names, .n_hosts = NH,
                                   .timeout_ms = 5000, .vm_memory_mib = 1024, .vms = vms };

        memset(&f, 0, sizeof(f));
        start(&f, &cfg, hs);
        disk_round(&f);
        assert_non_null(node_verdict(f.n));
        if (node_verdict(f.n)->kind != SURVIVAL_SURVIVE)
                fprintf(stderr, "# verdict: %s\n", node_verdict(f.n)->reason);
        assert_int_equal(node_verdict(f.n)->kind, SURVIVAL_SURVIVE);
        assert_non_null(find(&f, NODE_ACT_ARM_WATCHDOG));
        watchdog_result(&f, true);
        assert_true(node_armed(f.n));
        *state = &f;
        return 0;
}

static inline int teardown(void **state) {
        struct fx *f = *state;
        node_free(f->n);
        return 0;
}

static inline void claims_read(struct fx *f, const struct takeover_claim *c, size_t n) {
        struct node_event ev = { .type = NODE_EV_CLAIMS_READ };

        ev.u.claims = (struct node_claims_read){ .ok = true, .done_ms = f->now, .claims = c, .n_claims = n };
        handle(f, &ev);
}

static inline int setup(void **state) {
        return setup_with(state, false, NULL);
}
