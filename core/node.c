/* The node engine: events, the survival verdict, feeding and fencing.
 *
 * node_handle() folds one event into the survival inputs, decides again
 * and queues what follows. The one idea, as in survival.h: this host may
 * keep running only while somebody could see it running, so every feed
 * rests on a piece of evidence that the observers saw too (a slot write
 * that completed a moment ago, or acknowledgements that echo a message
 * sent a moment ago), and the evidence's age is checked here, against the
 * event's own time, not against when the shell got round to handling it.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/node_internal.h"

#define LOG_CRIT_ 2
#define LOG_ERR_ 3
#define LOG_WARNING_ 4
#define LOG_NOTICE_ 5
#define LOG_INFO_ 6
#define LOG_DEBUG_ 7

/* ---- the action queue ---- */

static void queue_reset(struct node *n) {
        for (size_t i = 0; i < n->n_owned; i++)
                free(n->owned[i]);
        n->n_owned = 0;
        n->n_acts = 0;
}

struct node_action *node_push(struct node *n, enum node_action_type type) {
        if (n->n_acts == n->cap_acts) {
                size_t cap = n->cap_acts ? 2 * n->cap_acts : 16;
                struct node_action *a = realloc(n->acts, cap * sizeof(*a));
                if (!a)
                        abort();        /* out of memory on a few KiB: nothing sane is left */
                n->acts = a;
                n->cap_acts = cap;
        }
        struct node_action *a = &n->acts[n->n_acts++];
        memset(a, 0, sizeof(*a));
        a->type = type;
        return a;
}

void *node_own(struct node *n, size_t len) {
        void *p;

        if (n->n_owned == n->cap_owned) {
                size_t cap = n->cap_owned ? 2 * n->cap_owned : 8;
                void **o = realloc(n->owned, cap * sizeof(*o));
                if (!o)
                        abort();
                n->owned = o;
                n->cap_owned = cap;
        }
        p = calloc(1, len ? len : 1);
        if (!p)
                abort();
        n->owned[n->n_owned++] = p;
        return p;
}

void node_log(struct node *n, int level, const char *fmt, ...) {
        struct node_action *a = node_push(n, NODE_ACT_LOG);
        va_list ap;

        a->level = level;
        va_start(ap, fmt);
        vsnprintf(a->text, sizeof(a->text), fmt, ap);
        va_end(ap);
}

/* ---- emergency mode ---- */

bool node_in_emergency(const struct node *n) {
        for (int c = 0; c < _EMERGENCY_CAUSE_MAX; c++)
                if (n->emergency[c])
                        return true;
        return false;
}

static void update_unarmed(struct node *n) {
        n->in.self_unarmed = !n->armed || node_in_emergency(n);
}

void node_emergency_set(struct node *n, enum emergency_cause c, bool on, const char *detail) {
        struct node_action *a;

        if (c < 0 || c >= _EMERGENCY_CAUSE_MAX || n->emergency[c] == on)
                return;
        n->emergency[c] = on;
        snprintf(n->emergency_detail[c], sizeof(n->emergency_detail[c]), "%s", on && detail ? detail : "");
        update_unarmed(n);
        a = node_push(n, NODE_ACT_EMERGENCY);
        a->cause = c;
        a->on = on;
        snprintf(a->text, sizeof(a->text), "%s", on && detail ? detail : "");
}

/* ---- what this host publishes ---- */

static void publish_slot(struct node *n, uint64_t now_ms) {
        struct disk_slot s;
        struct node_action *a;

        memset(&s, 0, sizeof(s));
        survival_fill_slot(&n->in, n->fencing, now_ms, &s);
        /* "Not armed" is published as a watchdog timeout of 0: peers then
         * never read this host's silence as its death. A host in emergency
         * mode with its watchdog armed publishes the truth: it owns nothing
         * and leads nothing, but its silence is still its death, so a host
         * whose Corosync died and that fenced itself can be taken over. */
        if (!n->timing.unsafe.unarmed_owner && !n->armed)
                s.watchdog_timeout_ms = 0;
        s.host_id = n->cfg.self_id;
        s.mailbox_ack_seq = n->acked_seq;
        if (n->have_verdict)
                snprintf(s.reason, sizeof(s.reason), "%.*s", (int)sizeof(s.reason) - 1, n->verdict.reason);
        if (n->slot_queued && memcmp(&s, &n->slot, sizeof(s)) == 0)
                return;
        n->slot = s;
        n->slot_queued = true;
        a = node_push(n, NODE_ACT_WRITE_SLOT);
        a->slot = s;
}

/* ---- fencing ---- */

/* FENCE is final for this incarnation: no feed, no acknowledgement, no
 * takeover from now on. The shell writes FENCING under a short deadline,
 * then reboots; nothing it does before that write may block. */
void node_self_fence(struct node *n, const char *reason, uint64_t now_ms) {
        struct node_action *a;

        if (n->fencing)
                return;
        n->fencing = true;
        n->master = 0;
        node_log(n, LOG_CRIT_, "fencing self: %s", reason);
        publish_slot(n, now_ms);
        snprintf(n->slot.reason, sizeof(n->slot.reason), "%.*s", (int)sizeof(n->slot.reason) - 1, reason);
        n->acts[n->n_acts - 1].slot = n->slot;
        a = node_push(n, NODE_ACT_FENCE);
        snprintf(a->text, sizeof(a->text), "%s", reason);
        a->deadline_ms = now_ms + 3ull * n->timing.disk_interval_ms;
}

/* ---- the decision ---- */

bool node_is_master(const struct node *n) {
        return n->have_verdict && !n->fencing && n->verdict.kind == SURVIVAL_SURVIVE && n->master == n->cfg.self_id;
}

const char *node_host_name(const struct node *n, uint32_t id, char buf[NODE_NAME_MAX]) {
        if (id >= 1 && id <= CORE_MAX_HOST_ID && n->names[id][0])
                return n->names[id];
        snprintf(buf, NODE_NAME_MAX, "host %u", id);
        return buf;
}

/* Whether two reasons say the same but for their numbers: a joining host
 * logs a WAIT whose cause changed, not every new count of milliseconds. */
static bool same_shape(const char *a, const char *b) {
        while (*a && *b) {
                if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
                        while (isdigit((unsigned char)*a))
                                a++;
                        while (isdigit((unsigned char)*b))
                                b++;
                        continue;
                }
                if (*a++ != *b++)
                        return false;
        }
        return *a == *b;
}

void node_decide(struct node *n, uint64_t now_ms) {
        struct survival_verdict v;
        char name[NODE_NAME_MAX];
        bool was_yielding;

        if (n->fencing)
                return;
        /* A starting host decides nothing before it has heard Corosync and
         * had its first disk round (or the disk had its grace time to
         * answer): a verdict on missing inputs would be a guess. */
        if (!n->got_membership || (!n->got_round && now_ms - n->started_ms < n->timing.io_grace_ms))
                return;
        n->in.tiebreak_ok = core_tiebreak_fresh(n->tb_replied, n->tb_last_ms, now_ms, n->timing.disk_interval_ms);
        if (survival_decide(&n->in, now_ms, &v) < 0)
                node_log(n, LOG_ERR_, "survival rule: inconsistent inputs (%s)", v.reason);
        was_yielding = n->in.self_yields;
        survival_note_verdict(&n->in, &v, now_ms);
        if (was_yielding && !n->in.self_yields)
                node_log(n, LOG_NOTICE_, "this host's slot moves again in a quorate partition: it no longer yields");
        if (!n->have_verdict || v.kind != n->verdict.kind || v.rule != n->verdict.rule ||
            (v.rule == SURVIVAL_RULE_JOIN && !same_shape(v.reason, n->verdict.reason))) {
                if (v.rule == SURVIVAL_RULE_JOIN)
                        node_log(n, v.kind == SURVIVAL_FENCE ? LOG_CRIT_ : LOG_NOTICE_, "verdict %s: %s",
                                 survival_kind_name(v.kind), v.reason);
                else
                        node_log(n, v.kind == SURVIVAL_FENCE ? LOG_CRIT_ : LOG_NOTICE_, "verdict %s: %s [%s]",
                                 survival_kind_name(v.kind), v.reason, survival_rule_name(v.rule));
        }
        /* WAIT is bounded from the first WAIT after a decided verdict. */
        if (v.kind != SURVIVAL_WAIT)
                n->in.wait_since_ms = 0;
        else if (!n->in.wait_since_ms && n->have_verdict && n->verdict.kind != SURVIVAL_WAIT && !n->in.joining)
                n->in.wait_since_ms = now_ms ? now_ms : 1;
        n->verdict = v;
        n->have_verdict = true;
        if (v.kind == SURVIVAL_FENCE) {
                node_self_fence(n, v.reason, now_ms);
                return;
        }
        if (v.kind == SURVIVAL_SURVIVE) {
                if (n->in.joining) {
                        n->in.joining = false;
                        node_log(n, LOG_NOTICE_, "joined the pool: %s", v.reason);
                }
                if (!n->armed && !n->arm_requested) {
                        n->arm_requested = true;
                        node_push(n, NODE_ACT_ARM_WATCHDOG);
                }
                uint32_t m = survival_master(&n->in, now_ms);
                if (m != n->master) {
                        if (m)
                                node_log(n, LOG_NOTICE_, "master is now %s (id %u)%s", node_host_name(n, m, name), m,
                                         m == n->cfg.self_id ? ": this host" : "");
                        else
                                node_log(n, LOG_NOTICE_, "no master for now: a member publishes another view or has not answered lately, or every one is unarmed or fencing");
                        n->master = m;
                }
        } else if (v.kind == SURVIVAL_WAIT) {
                n->master = 0;
        }
        publish_slot(n, now_ms);
}

/* A feed rests on evidence; deadline_ms is when that evidence grows too
 * old to feed on. */
static void feed(struct node *n, uint64_t deadline_ms) {
        struct node_action *a;

        if (!n->armed || n->fencing || !n->have_verdict)
                return;
        a = node_push(n, NODE_ACT_FEED);
        a->deadline_ms = deadline_ms;
}

/* Once, when this host starts to yield (survival.h, self_yields). */
static void log_yield(struct node *n, uint64_t still_ms) {
        if (n->in.self_yields && !n->fencing)
                node_log(n, LOG_WARNING_, "this host's slot stood still for %llu ms: it yields under rule 2 until it is quorate again",
                         (unsigned long long)still_ms);
}

static void on_slot_written(struct node *n, const struct node_event *ev, uint64_t now_ms) {
        uint64_t done = ev->u.slot_written.done_ms;
        bool ok = ev->u.slot_written.ok, yielded = n->in.self_yields;
        uint64_t before = n->in.last_write_ok_ms;

        survival_observe_io(&n->in, SURVIVAL_IO_WRITE, ok, done);
        if (!yielded)
                log_yield(n, done - before);
        if (ok)
                survival_observe_published(&n->in, &ev->u.slot_written.written, done);
        node_decide(n, now_ms);
        if (!ok || n->fencing || !n->have_verdict || !survival_may_feed(&n->verdict, true))
                return;
        if (n->timing.unsafe.stale_feed) {
                feed(n, UINT64_MAX);
                return;
        }
        /* Handled late (the loop stalled after the write completed): the
         * observers' S2 clock may have started at that write. */
        if (now_ms > done + n->timing.feed_bound_ms) {
                node_log(n, LOG_WARNING_, "not feeding the watchdog: the slot write completed %llu ms ago",
                         (unsigned long long)(now_ms - done));
                return;
        }
        feed(n, done + n->timing.feed_bound_ms);
}

static void on_disk_read(struct node *n, const struct node_disk_read *r, uint64_t now_ms) {
        n->got_round = true;
        n->last_read_ok = r->ok;
        survival_observe_io(&n->in, SURVIVAL_IO_READ, r->ok, r->done_ms);
        if (r->ok) {
                for (size_t i = 0; i < n->n_peers; i++) {
                        struct core_peer *p = &n->peers[i];
                        const struct node_slot_read *s;

                        if (p->id > r->max_id)
                                continue;
                        s = &r->slots[p->id];
                        if (s->status == NODE_BLOCK_OK) {
                                survival_peer_observe_slot(p, &s->slot, now_ms);
                                continue;
                        }
                        survival_peer_observe_unknown(p, &n->timing, s->why);
                        if (s->status == NODE_BLOCK_FOREIGN)
                                node_emergency_set(n, EMERGENCY_DISK_OTHER_CLUSTER, true, s->why);
                }
                survival_observe_own_readback(&n->in);
                for (uint32_t id = 1; id <= r->max_id && id <= CORE_MAX_HOST_ID; id++) {
                        n->mailbox_ok[id] = r->mailboxes[id].status == NODE_BLOCK_OK;
                        if (n->mailbox_ok[id])
                                n->mailboxes[id] = r->mailboxes[id].mb;
                }
        }
        node_decide(n, now_ms);
        if (r->ok) {
                const struct node_slot_read *own = n->cfg.self_id <= r->max_id ? &r->slots[n->cfg.self_id] : NULL;
                node_handle_mailboxes(n, now_ms, own && own->status == NODE_BLOCK_OK ? own->slot.mailbox_ack_seq : 0);
                node_vm_on_disk_read(n, now_ms);
        }
}

static void on_membership(struct node *n, const struct node_event *ev, uint64_t now_ms) {
        struct core_view v = ev->u.membership.members;
        bool shrank = false, others_joined = false, news;
        char buf[512];

        /* CPG and votequorum report a change separately, a few ms apart.
         * Until votequorum speaks for the new membership, a quorum that
         * belonged to a bigger one is not evidence: count it as lost. */
        for (size_t i = 0; i < n->n_peers; i++)
                shrank |= core_view_has(&n->in.members, n->peers[i].id) && !core_view_has(&v, n->peers[i].id);
        core_view_add(&v, n->cfg.self_id);
        /* Only a new ring is Corosync speaking after a gap: the ring this
         * host knew, told again (a reconnection, a report queued while it
         * stood still), may be from before, if Corosync stood still too. */
        news = !n->got_membership || ev->u.membership.ring_id != n->in.ring_id ||
               !core_view_equal(&v, &n->in.members) || n->timing.unsafe.same_ring;
        survival_observe_membership(&n->in, &v, ev->u.membership.ring_id, shrank ? false : n->in.quorate, now_ms);
        n->got_membership = true;
        if (news) {
                n->in.quorum_unconfirmed_until_ms = 0;  /* corosync spoke after the gap */
                n->in.quorum_from_before = false;
        }
        node_log(n, LOG_NOTICE_, "membership %s%s", core_view_format(&v, buf, sizeof(buf)),
                 n->in.quorate ? " quorate" : "");
        for (size_t i = 0; i < n->n_peers; i++) {
                uint32_t id = n->peers[i].id;
                /* What a host that left sent says nothing of what it will
                 * send: never echo it to its next incarnation. */
                if (id != n->cfg.self_id && id <= CORE_MAX_HOST_ID && !core_view_has(&v, id))
                        n->rx_seq[id] = 0;
                if (!core_view_has(&ev->u.membership.joined, id))
                        continue;
                n->joined_ms[id] = now_ms;
                others_joined |= id != n->cfg.self_id;
        }
        if (others_joined)
                node_send_snapshot(n, now_ms);
        node_decide(n, now_ms);
}

static void on_tick(struct node *n, uint64_t now_ms) {
        node_send_ack(n, now_ms);
        node_decide(n, now_ms);
        /* Rule 4 feeds on acknowledgements judged fresh just now. */
        if (n->have_verdict && !n->fencing && survival_may_feed(&n->verdict, false))
                feed(n, now_ms + n->timing.feed_bound_ms);
}

/* A gap in the events longer than a token: Corosync may have re-formed
 * the ring without this host, and until it says so, the quorate
 * membership this host knew is from before. */
static void note_gap(struct node *n, uint64_t now_ms) {
        uint64_t gap = n->last_event_ms && now_ms > n->last_event_ms ? now_ms - n->last_event_ms : 0;

        n->last_event_ms = now_ms;
        if (gap <= n->timing.token_ms || n->timing.unsafe.stale_quorum || n->fencing)
                return;
        n->in.quorum_unconfirmed_until_ms = now_ms + 4ull * n->timing.token_ms;
        n->in.quorum_from_before = true;
        n->in.quorum_gap_ms = now_ms;
        node_log(n, LOG_WARNING_, "nothing handled for %llu ms: the membership from before counts for nothing until corosync confirms it (at most %u ms)",
                 (unsigned long long)gap, 4 * n->timing.token_ms);
}

void node_handle(struct node *n, const struct node_event *ev, uint64_t now_ms) {
        queue_reset(n);
        note_gap(n, now_ms);
        if (!n->in.self_yields && !n->fencing) {
                survival_note_time(&n->in, now_ms);
                log_yield(n, now_ms - n->in.last_write_ok_ms);
        }
        switch (ev->type) {
        case NODE_EV_MEMBERSHIP:
                on_membership(n, ev, now_ms);
                break;
        case NODE_EV_QUORUM:
                if (ev->u.quorum.quorate != n->vq_quorate)
                        node_log(n, LOG_NOTICE_, "quorum %s", ev->u.quorum.quorate ? "gained" : "lost");
                n->vq_quorate = ev->u.quorum.quorate;
                survival_observe_membership(&n->in, &n->in.members, n->in.ring_id, ev->u.quorum.quorate, now_ms);
                node_decide(n, now_ms);
                break;
        case NODE_EV_COROSYNC_LOST: {
                struct core_view alone = { { 0 } };
                core_view_add(&alone, n->cfg.self_id);
                node_emergency_set(n, EMERGENCY_COROSYNC_DOWN, true, "the connection to corosync was lost");
                node_log(n, LOG_CRIT_, "corosync is gone: this host now counts itself alone and without quorum");
                survival_observe_membership(&n->in, &alone, n->in.ring_id, false, now_ms);
                node_decide(n, now_ms);
                break;
        }
        case NODE_EV_MESSAGE:
                node_on_message(n, ev->u.message.from, ev->u.message.data, ev->u.message.len, now_ms);
                break;
        case NODE_EV_SLOT_WRITTEN:
                on_slot_written(n, ev, now_ms);
                break;
        case NODE_EV_DISK_READ:
                on_disk_read(n, &ev->u.disk, now_ms);
                break;
        case NODE_EV_CLAIMS_WRITTEN:
                node_vm_on_claims_written(n, &ev->u.claims_written, now_ms);
                break;
        case NODE_EV_CLAIMS_READ:
                node_vm_on_claims_read(n, &ev->u.claims, now_ms);
                break;
        case NODE_EV_TICK:
                on_tick(n, now_ms);
                break;
        case NODE_EV_TIEBREAK_REPLY:
                n->tb_replied = true;
                n->tb_last_ms = ev->u.tiebreak.at_ms;
                break;
        case NODE_EV_EMERGENCY:
                node_emergency_set(n, ev->u.emergency.cause, ev->u.emergency.on, ev->u.emergency.detail);
                node_decide(n, now_ms);
                break;
        case NODE_EV_WATCHDOG:
                n->arm_requested = false;
                n->armed = ev->u.watchdog.armed;
                update_unarmed(n);
                if (n->armed) {
                        node_log(n, LOG_NOTICE_, "watchdog armed");
                        node_emergency_set(n, EMERGENCY_WATCHDOG, false, NULL);
                } else {
                        n->arm_requested = true;        /* asked once per incarnation */
                        node_emergency_set(n, EMERGENCY_WATCHDOG, true, ev->u.watchdog.detail);
                }
                node_decide(n, now_ms);
                break;
        case NODE_EV_CLOCK:
                if (ev->u.clock.jump_ms > n->timing.s2_margin_ms) {
                        char why[160];
                        snprintf(why, sizeof(why), "this host was suspended for %llu ms: peers may have taken over",
                                 (unsigned long long)ev->u.clock.jump_ms);
                        node_self_fence(n, why, now_ms);
                }
                break;
        case NODE_EV_VMS_RUNNING:
                node_vm_set_running(n, ev->u.vms.ids, ev->u.vms.count);
                node_vm_check_stops(n, now_ms);
                break;
        }
}

const struct node_action *node_actions(const struct node *n, size_t *count) {
        *count = n->n_acts;
        return n->acts;
}

/* ---- life cycle ---- */

int node_new(const struct node_config *cfg, struct hastate *state, uint64_t now_ms, struct node **ret) {
        struct node *n;
        bool self_listed = false;

        if (!cfg || cfg->self_id < 1 || cfg->self_id > CORE_MAX_HOST_ID || cfg->n_hosts < 1 ||
            cfg->n_hosts > CORE_MAX_HOST_ID || !state)
                return -EINVAL;
        n = calloc(1, sizeof(*n));
        if (!n)
                return -ENOMEM;
        n->cfg = *cfg;
        n->msg_seq = cfg->msg_seq_base;
        if (core_timing_init(&n->timing, cfg->timeout_ms) < 0) {
                free(n);
                return -ERANGE;
        }
        core_timing_set_unsafe(&n->timing, &cfg->unsafe);
        for (size_t i = 0; i < cfg->n_hosts; i++) {
                uint32_t id = cfg->hosts[i];
                if (id < 1 || id > CORE_MAX_HOST_ID || survival_peer_find(n->peers, n->n_peers, id)) {
                        free(n);
                        return -EINVAL;
                }
                self_listed |= id == cfg->self_id;
                n->hosts[i] = id;
                if (cfg->host_names && cfg->host_names[i])
                        snprintf(n->names[id], sizeof(n->names[id]), "%s", cfg->host_names[i]);
                survival_peer_init(&n->peers[n->n_peers++], id, now_ms);
        }
        if (!self_listed || node_vm_init(n) < 0) {
                node_vm_free(n);
                free(n);
                return self_listed ? -ENOMEM : -EINVAL;
        }
        n->cfg.hosts = n->hosts;
        n->cfg.host_names = NULL;      /* copied into names */
        n->in.timing = &n->timing;
        n->in.self_id = cfg->self_id;
        n->in.peers = n->peers;
        n->in.n_peers = n->n_peers;
        n->in.joining = true;
        core_view_add(&n->in.members, cfg->self_id);
        n->in.membership_since_ms = now_ms;
        n->in.started_ms = now_ms;
        n->started_ms = now_ms;
        n->state = state;
        n->state_source = cfg->self_id;
        update_unarmed(n);
        *ret = n;
        return 0;
}

void node_free(struct node *n) {
        if (!n)
                return;
        queue_reset(n);
        free(n->owned);
        free(n->acts);
        node_vm_free(n);
        hastate_free(n->state);
        free(n);
}

/* ---- read-only views ---- */

const struct survival_inputs *node_inputs(const struct node *n) {
        return &n->in;
}

const struct survival_verdict *node_verdict(const struct node *n) {
        return n->have_verdict ? &n->verdict : NULL;
}

const struct hastate *node_state(const struct node *n) {
        return n->state;
}

const struct core_timing *node_timing(const struct node *n) {
        return &n->timing;
}

void node_set_token(struct node *n, uint32_t token_ms) {
        if (token_ms > 0)
                n->timing.token_ms = token_ms;
}

uint32_t node_master(const struct node *n) {
        return n->have_verdict && n->verdict.kind == SURVIVAL_SURVIVE && !n->fencing ? n->master : 0;
}

bool node_acts_on_disk(const struct node *n, uint64_t now_ms) {
        return node_master(n) != 0 && survival_own_read_fresh(&n->in, now_ms);
}

bool node_fencing(const struct node *n) {
        return n->fencing;
}

bool node_joining(const struct node *n) {
        return n->in.joining;
}

bool node_armed(const struct node *n) {
        return n->armed;
}

bool node_emergency_cause(const struct node *n, enum emergency_cause c, const char **detail) {
        if (c < 0 || c >= _EMERGENCY_CAUSE_MAX)
                return false;
        if (detail)
                *detail = n->emergency_detail[c];
        return n->emergency[c];
}

bool node_peer_emergency(const struct node *n, uint32_t id) {
        return id <= CORE_MAX_HOST_ID && n->peer_emergency[id];
}

uint64_t node_peer_memory_mib(const struct node *n, uint32_t id) {
        if (id == n->cfg.self_id)
                return n->cfg.vm_memory_mib;
        return id <= CORE_MAX_HOST_ID ? n->memory_mib[id] : 0;
}

uint64_t node_peer_joined_ms(const struct node *n, uint32_t id) {
        return id <= CORE_MAX_HOST_ID ? n->joined_ms[id] : 0;
}

const struct disk_mailbox *node_mailbox(const struct node *n, uint32_t id) {
        return id >= 1 && id <= CORE_MAX_HOST_ID && n->mailbox_ok[id] ? &n->mailboxes[id] : NULL;
}

bool node_disk_read_ok(const struct node *n) {
        return n->last_read_ok;
}
