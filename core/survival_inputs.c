/* The survival rule's inputs, pure: views, what this host observes of
 * each peer (slots, acknowledgements) and of its own disk I/O and slot
 * writes, and the yield it latches. survival.c decides on them. */
#include <stdio.h>
#include <string.h>

#include "core/survival_internal.h"

void core_view_del(struct core_view *v, unsigned id) {
        if (id < 8 * DISK_VIEW_BYTES)
                v->bits[id / 8] &= (uint8_t)~(1u << (id % 8));
}

unsigned core_view_count(const struct core_view *v) {
        unsigned n = 0;
        for (unsigned i = 0; i < DISK_VIEW_BYTES; i++)
                n += (unsigned)__builtin_popcount(v->bits[i]);
        return n;
}

unsigned core_view_min(const struct core_view *v) {
        for (unsigned i = 0; i < DISK_VIEW_BYTES; i++)
                if (v->bits[i])
                        return 8 * i + (unsigned)__builtin_ctz(v->bits[i]);
        return 0;
}

bool core_view_equal(const struct core_view *a, const struct core_view *b) {
        return memcmp(a->bits, b->bits, DISK_VIEW_BYTES) == 0;
}

bool core_view_intersects(const struct core_view *a, const struct core_view *b) {
        for (unsigned i = 0; i < DISK_VIEW_BYTES; i++)
                if (a->bits[i] & b->bits[i])
                        return true;
        return false;
}

char *core_view_format(const struct core_view *v, char *buf, size_t len) {
        size_t used = 0;

        if (len < 3) {
                if (len)
                        buf[0] = '\0';
                return buf;
        }
        buf[used++] = '{';
        for (unsigned id = 0; id < 8 * DISK_VIEW_BYTES; id++) {
                char digits[4];
                size_t n = 0;
                unsigned x = id;

                if (!core_view_has(v, id))
                        continue;
                do {
                        digits[n++] = (char)('0' + x % 10);
                        x /= 10;
                } while (x);
                if (used + n + 3 > len)
                        break;          /* truncated: still closed and terminated */
                if (buf[used - 1] != '{')
                        buf[used++] = ',';
                while (n > 0)
                        buf[used++] = digits[--n];
        }
        buf[used++] = '}';
        buf[used] = '\0';
        return buf;
}

struct core_peer *survival_peer_find(struct core_peer *peers, size_t n, uint32_t id) {
        for (size_t i = 0; i < n; i++)
                if (peers[i].id == id)
                        return &peers[i];
        return NULL;
}

const struct core_peer *survival_peer_find_const(const struct core_peer *peers, size_t n, uint32_t id) {
        for (size_t i = 0; i < n; i++)
                if (peers[i].id == id)
                        return &peers[i];
        return NULL;
}

void survival_peer_init(struct core_peer *p, uint32_t id, uint64_t now_ms) {
        memset(p, 0, sizeof(*p));
        p->id = id;
        p->state = DISK_SLOT_EMPTY;
        p->advanced_ms = now_ms;
        p->left_ms = now_ms;
}

void survival_peer_observe_slot(struct core_peer *p, const struct disk_slot *s, uint64_t now_ms) {
        bool new_incarnation = !p->slot_seen || s->incarnation != p->incarnation;

        if (new_incarnation || s->seq != p->seq) {
                p->advance_seen |= p->slot_seen;
                if (!p->member && p->advanced_ms <= p->left_ms)
                        p->writing_since_ms = now_ms;
                p->advanced_ms = now_ms;
        }
        if (new_incarnation)
                p->fencing_seen = false;
        if (p->slot_seen && !(s->flags & DISK_SLOT_TIEBREAK_OK) != !(p->flags & DISK_SLOT_TIEBREAK_OK))
                p->tiebreak_changed_ms = now_ms ? now_ms : 1;
        p->unknown = false;
        p->unknown_why[0] = '\0';
        p->armed = s->watchdog_timeout_ms != 0;
        p->slot_seen = true;
        p->state = s->state;
        p->incarnation = s->incarnation;
        p->seq = s->seq;
        p->ring_id = s->ring_id;
        memcpy(p->view.bits, s->view, DISK_VIEW_BYTES);
        p->flags = s->flags;
        if (s->state == DISK_SLOT_FENCING) {
                if (!p->fencing_seen) {
                        p->fencing_seen = true;
                        p->fencing_seen_ms = now_ms;
                }
        } else {
                p->fencing_seen = false;
        }
}

void survival_peer_observe_unknown(struct core_peer *p, const struct core_timing *t, const char *why) {
        if (t->unsafe.unknown_as_silent)
                return;
        p->unknown = true;
        snprintf(p->unknown_why, sizeof(p->unknown_why), "%s", why);
}

void survival_peer_observe_ack(struct core_peer *p, uint64_t evidence_ms) {
        if (p->ack_seen && evidence_ms <= p->ack_ms)
                return;         /* an older echo says nothing new */
        p->ack_seen = true;
        p->ack_ms = evidence_ms;
}

void survival_peer_observe_ack_view(struct core_peer *p, const struct core_view *view, uint64_t evidence_ms) {
        if (p->ack_view_seen && evidence_ms < p->ack_view_ms)
                return;
        p->ack_view_seen = true;
        p->ack_view = *view;
        p->ack_view_ms = evidence_ms;
}

void survival_observe_membership(struct survival_inputs *in, const struct core_view *members,
                                 uint64_t ring_id, bool quorate, uint64_t now_ms) {
        if (!core_view_equal(&in->members, members) || ring_id != in->ring_id)
                in->membership_since_ms = now_ms;
        in->members = *members;
        in->ring_id = ring_id;
        in->quorate = quorate;
        for (size_t i = 0; i < in->n_peers; i++) {
                struct core_peer *p = &in->peers[i];
                bool now_member = core_view_has(members, p->id);

                if (p->member && !now_member)
                        p->left_ms = now_ms;
                p->member = now_member;
        }
}

void survival_observe_io(struct survival_inputs *in, enum survival_io op, bool ok, uint64_t now_ms) {
        bool *seen = op == SURVIVAL_IO_READ ? &in->read_ok_seen : &in->write_ok_seen;
        uint64_t *last = op == SURVIVAL_IO_READ ? &in->last_read_ok_ms : &in->last_write_ok_ms;
        bool *failing = op == SURVIVAL_IO_READ ? &in->read_failing : &in->write_failing;
        uint64_t *since = op == SURVIVAL_IO_READ ? &in->read_failing_since_ms : &in->write_failing_since_ms;

        if (ok) {
                if (op == SURVIVAL_IO_WRITE && *seen && age_ms(now_ms, *last) > in->timing->yield_gap_ms &&
                    !in->timing->unsafe.no_yield)
                        in->self_yields = true;
                if (op == SURVIVAL_IO_READ && (!*seen || *failing))
                        in->reading_since_ms = now_ms;
                *seen = true;
                *last = now_ms;
                *failing = false;
        } else if (!*failing) {
                *failing = true;
                *since = now_ms;
        }
}

void survival_observe_published(struct survival_inputs *in, const struct disk_slot *written, uint64_t done_ms) {
        struct core_view v;
        bool quorate = written->flags & DISK_SLOT_QUORATE;

        memcpy(v.bits, written->view, DISK_VIEW_BYTES);
        if (in->write_ok_seen && !in->published_tiebreak_ok != !(written->flags & DISK_SLOT_TIEBREAK_OK))
                in->published_tiebreak_since_ms = done_ms ? done_ms : 1;
        in->published_tiebreak_ok = written->flags & DISK_SLOT_TIEBREAK_OK;
        for (size_t i = 0; i < in->n_peers; i++) {
                struct core_peer *p = &in->peers[i];

                if (!core_view_has(&v, p->id))
                        p->shown_since_ms = 0;
                else if (!p->shown_since_ms)
                        p->shown_since_ms = done_ms ? done_ms : 1;
        }
        if (in->published_state == written->state && in->published_quorate == quorate &&
            core_view_equal(&in->published_view, &v))
                return;
        in->published_view = v;
        in->published_state = written->state;
        in->published_quorate = quorate;
        in->published_since_ms = done_ms;
}

void survival_observe_own_readback(struct survival_inputs *in) {
        const struct core_peer *self = survival_peer_find_const(in->peers, in->n_peers, in->self_id);

        if (!self)
                return;
        for (size_t i = 0; i < in->n_peers; i++) {
                struct core_peer *p = &in->peers[i];

                if (self->unknown || !self->slot_seen || !core_view_has(&self->view, p->id))
                        p->shown_since_ms = 0;
        }
}

static bool slot_still(const struct survival_inputs *in, uint64_t now_ms) {
        return in->write_ok_seen && age_ms(now_ms, in->last_write_ok_ms) > in->timing->yield_gap_ms;
}

void survival_note_time(struct survival_inputs *in, uint64_t now_ms) {
        if (!in->timing->unsafe.no_yield && slot_still(in, now_ms))
                in->self_yields = true;
}

bool survival_acked_members_since(const struct survival_inputs *in, const struct core_peer *p, uint64_t since_ms) {
        return p->ack_view_seen && p->ack_view_ms >= since_ms && core_view_equal(&p->ack_view, &in->members);
}

/* Every other member acknowledged a message this host sent since the gap,
 * publishing this host's membership: the ring still holds it. */
static bool members_confirm(const struct survival_inputs *in) {
        for (size_t i = 0; i < in->n_peers; i++) {
                const struct core_peer *p = &in->peers[i];

                if (p->id == in->self_id || !core_view_has(&in->members, p->id))
                        continue;
                if (!survival_acked_members_since(in, p, in->quorum_gap_ms))
                        return false;
        }
        return true;
}

void survival_note_verdict(struct survival_inputs *in, const struct survival_verdict *v, uint64_t now_ms) {
        if (in->quorum_from_before && members_confirm(in))
                in->quorum_from_before = false;
        if (in->quorum_from_before && !in->timing->unsafe.stale_yield)
                return;
        if (v->kind == SURVIVAL_SURVIVE && v->rule == SURVIVAL_RULE_1_QUORUM && !slot_still(in, now_ms))
                in->self_yields = false;
}

bool survival_own_disk_ok(const struct survival_inputs *in, uint64_t now_ms) {
        const struct core_timing *t = in->timing;

        if (!in->read_ok_seen || !in->write_ok_seen)
                return false;
        if (in->read_failing && age_ms(now_ms, in->read_failing_since_ms) >= t->io_grace_ms)
                return false;
        return !in->write_failing || age_ms(now_ms, in->write_failing_since_ms) < t->io_grace_ms;
}

bool survival_own_read_fresh(const struct survival_inputs *in, uint64_t now_ms) {
        return in->read_ok_seen && age_ms(now_ms, in->last_read_ok_ms) <= in->timing->disk_interval_ms;
}
