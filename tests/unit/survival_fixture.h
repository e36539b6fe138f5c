/* The fixture of the survival rule's unit tests: a pool of up to four
 * hosts seen from one of them, with helpers to change what it sees. */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/core_timing.h"
#include "core/survival.h"

#define NOW 100000u

struct fx {
        struct core_timing t;
        struct core_peer peers[4];
        struct survival_inputs in;
        struct survival_verdict v;
};

static inline struct core_view view_of(const unsigned *ids, size_t n) {
        struct core_view v = { { 0 } };

        for (size_t i = 0; i < n; i++)
                core_view_add(&v, ids[i]);
        return v;
}
#define VIEW(...) view_of((const unsigned[]){ __VA_ARGS__ }, sizeof((const unsigned[]){ __VA_ARGS__ }) / sizeof(unsigned))

/* A healthy pool of n hosts seen from `self` at NOW: everyone a member,
 * quorate, every slot ALIVE with the full view and just advanced, every
 * ack fresh, own disk I/O fine, membership installed long ago. */
static inline void fx_init(struct fx *f, unsigned n, unsigned self) {
        struct core_view all = { { 0 } };

        memset(f, 0, sizeof(*f));
        assert_int_equal(core_timing_init(&f->t, 5000), 0);
        for (unsigned id = 1; id <= n; id++)
                core_view_add(&all, id);
        for (unsigned id = 1; id <= n; id++) {
                struct core_peer *p = &f->peers[id - 1];

                survival_peer_init(p, id, 0);
                p->slot_seen = true;
                p->state = DISK_SLOT_ALIVE;
                p->seq = 10;
                p->view = all;
                p->advanced_ms = NOW;
                p->member = true;
                p->ack_seen = true;
                p->ack_ms = NOW;
                p->armed = true;
                p->shown_since_ms = 1;          /* this host's slots name it since long ago */
        }
        f->in.timing = &f->t;
        f->in.self_id = self;
        f->in.peers = f->peers;
        f->in.n_peers = n;
        f->in.members = all;
        f->in.quorate = true;
        f->in.membership_since_ms = 0;
        f->in.published_view = all;
        f->in.published_state = DISK_SLOT_ALIVE;
        f->in.published_quorate = true;
        f->in.published_since_ms = 1;
        f->peers[self - 1].flags = DISK_SLOT_QUORATE;
        survival_observe_io(&f->in, SURVIVAL_IO_READ, true, NOW);
        survival_observe_io(&f->in, SURVIVAL_IO_WRITE, true, NOW);
        f->in.reading_since_ms = 0;     /* reads have worked since long ago */
}

/* This host's slot write w completed at `at`, and its read back shows it. */
static inline void fx_show(struct fx *f, const struct disk_slot *w, uint64_t at) {
        struct core_peer *self = &f->peers[f->in.self_id - 1];

        survival_observe_published(&f->in, w, at);
        self->state = w->state;
        memcpy(self->view.bits, w->view, DISK_VIEW_BYTES);
        self->flags = w->flags;
}

/* Membership changes to `members` (quorate or not) at time `at`, and this
 * host's slot shows it from then on. */
static inline void fx_members(struct fx *f, struct core_view members, bool quorate, uint64_t at) {
        struct disk_slot shown = { .host_id = f->in.self_id, .state = DISK_SLOT_ALIVE,
                                   .flags = quorate ? DISK_SLOT_QUORATE : 0 };

        survival_observe_membership(&f->in, &members, 2, quorate, at);
        memcpy(shown.view, members.bits, DISK_VIEW_BYTES);
        fx_show(f, &shown, at);
}

static inline void fx_publish(struct fx *f, unsigned id, struct core_view view) {
        f->peers[id - 1].view = view;
}

static inline void decide(struct fx *f) {
        assert_int_equal(survival_decide(&f->in, NOW, &f->v), 0);
}
