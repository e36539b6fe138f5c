/* The survival rule (DESIGN.md rules 1-5), pure.
 *
 * Rule 2 compares partitions as hosts publish them on the disk. A
 * partition is a published view; hosts that wrote FENCING count for
 * nothing, and hosts still JOINING are not competitors (they run no VMs and
 * wait instead of fencing). The views have settled when every disk-alive
 * member of this host's partition publishes exactly this host's membership
 * and every disk-alive competitor publishes a view disjoint from it. Until
 * then the verdict is WAIT, for at most the settle window after the
 * membership changed. After the window a view that still overlaps this
 * host's partition is read as "that host's view minus ours", and a host
 * that has not written for a whole settle window (a frozen host with a stale
 * view) is not a competitor. Every host strips the same hosts from the
 * same slots, so both sides still reach the same answer.
 *
 * A wrong survival verdict can cost availability but not S1: a surviving
 * host keeps its slot advancing (or, under rule 4, keeps every other host
 * acknowledging it), and S2 never takes over from a host that does.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/survival_internal.h"

static bool peer_fencing(const struct core_peer *p) {
        return p->slot_seen && p->state == DISK_SLOT_FENCING;
}

/* An unknown slot may be advancing: it counts as alive. */
static bool peer_disk_alive(const struct core_peer *p, const struct core_timing *t, uint64_t now_ms) {
        return p->unknown || (p->slot_seen && age_ms(now_ms, p->advanced_ms) <= t->disk_timeout_ms);
}

/* Whether a published view, less this host's members, is still a strict
 * majority of the configured hosts: a partition with quorum. */
static bool view_quorate(const struct survival_inputs *in, const struct core_view *view,
                         const struct core_view *members) {
        size_t k = 0;

        for (size_t i = 0; i < in->n_peers; i++)
                if (core_view_has(view, in->peers[i].id) && !core_view_has(members, in->peers[i].id))
                        k++;
        return 2 * k > in->n_peers;
}

uint32_t survival_master(const struct survival_inputs *in, uint64_t now_ms) {
        bool enforce = !in->timing->unsafe.unarmed_owner;
        uint32_t master = enforce && in->self_unarmed ? 0 : in->self_id;

        for (size_t i = 0; i < in->n_peers; i++) {
                const struct core_peer *p = &in->peers[i];

                if (p->id == in->self_id || (master && p->id > master) || !core_view_has(&in->members, p->id) ||
                    peer_fencing(p))
                        continue;
                /* A joining host arms once it joins: until then its slot's
                 * "not armed" says nothing, and skipping it would make two
                 * masters for a moment. */
                if (enforce && p->slot_seen && !p->armed && p->state != DISK_SLOT_JOINING)
                        continue;
                master = p->id;
        }
        /* The role changes hands only once every member that publishes on
         * the disk publishes this membership: until then the previous
         * master may still act on its older view, and two masters that
         * both reach the disk are a defect even when S2 prevents harm. */
        for (size_t i = 0; master && !in->timing->unsafe.hasty_join && i < in->n_peers; i++) {
                const struct core_peer *p = &in->peers[i];

                if (p->id == in->self_id || !core_view_has(&in->members, p->id))
                        continue;
                /* An unreadable slot may hide a member that acts on an
                 * older view by the disk: only its acknowledgement of a
                 * message sent since this membership formed tells, and
                 * only while it is fresh. A member whose Corosync has seen
                 * a split that this host's has not yet stops acknowledging
                 * at once, but decides by the disk only a token and a
                 * settle window later. */
                if (p->unknown && !in->timing->unsafe.unknown_master) {
                        uint64_t since = in->membership_since_ms;

                        if (!in->timing->unsafe.stale_ack_master && now_ms > in->timing->settle_ms &&
                            now_ms - in->timing->settle_ms > since)
                                since = now_ms - in->timing->settle_ms;
                        if (!survival_acked_members_since(in, p, since))
                                return 0;
                        continue;
                }
                /* A joining member may take the pool by the disk on the
                 * view it publishes, and act as master of it before its
                 * next write shows so. */
                if (p->slot_seen && !p->unknown && p->state == DISK_SLOT_JOINING &&
                    !in->timing->unsafe.joiner_view && !core_view_equal(&p->view, &in->members))
                        return 0;
                if (!p->slot_seen || p->unknown || p->state != DISK_SLOT_ALIVE || !(p->flags & DISK_SLOT_DISK_OK))
                        continue;
                if (!core_view_equal(&p->view, &in->members))
                        return 0;
        }
        return master;
}

uint32_t survival_slot_flags(const struct survival_inputs *in, uint64_t now_ms) {
        uint32_t f = 0;

        if (in->quorate)
                f |= DISK_SLOT_QUORATE;
        if (in->tiebreak_ok)
                f |= DISK_SLOT_TIEBREAK_OK;
        if (survival_own_disk_ok(in, now_ms))
                f |= DISK_SLOT_DISK_OK;
        if (in->self_yields)
                f |= DISK_SLOT_YIELDS;
        return f;
}

void survival_fill_slot(const struct survival_inputs *in, bool fenced, uint64_t now_ms, struct disk_slot *slot) {
        struct core_view view = in->members;

        core_view_add(&view, in->self_id);
        slot->state = fenced ? DISK_SLOT_FENCING : in->joining ? DISK_SLOT_JOINING : DISK_SLOT_ALIVE;
        slot->ring_id = in->ring_id;
        memcpy(slot->view, view.bits, DISK_VIEW_BYTES);
        slot->flags = survival_slot_flags(in, now_ms);
        slot->watchdog_timeout_ms = in->timing->watchdog_timeout_ms;
}

bool survival_may_feed(const struct survival_verdict *v, bool slot_write_completed) {
        if (v->kind == SURVIVAL_FENCE)
                return false;
        if (slot_write_completed)
                return true;
        return v->kind == SURVIVAL_SURVIVE && v->rule == SURVIVAL_RULE_4_NO_DISK && v->feed_on_acks;
}

const char *survival_kind_name(enum survival_kind k) {
        switch (k) {
        case SURVIVAL_SURVIVE: return "SURVIVE";
        case SURVIVAL_WAIT:    return "WAIT";
        case SURVIVAL_FENCE:   return "FENCE";
        }
        return "?";
}

const char *survival_rule_name(enum survival_rule r) {
        switch (r) {
        case SURVIVAL_RULE_1_QUORUM:   return "rule 1";
        case SURVIVAL_RULE_2_DISK:     return "rule 2";
        case SURVIVAL_RULE_3_ISOLATED: return "rule 3";
        case SURVIVAL_RULE_4_NO_DISK:  return "rule 4";
        case SURVIVAL_RULE_JOIN:       return "joining";
        }
        return "?";
}

/* How a partition compares under rule 2. */
struct partition_score {
        struct core_view hosts;         /* the hosts that count */
        unsigned size;
        bool tiebreak;
        unsigned lowest;
        bool all_yield;                 /* every host that counts yields */
        unsigned young_tiebreak;        /* a host whose tiebreak flag the scoring took as unsettled (0: none) */
};

/* How a partition's score takes tiebreak flags that changed a moment ago:
 * as read, or as the worst or the best they may look to another reader
 * that has not read the change yet, or read it before this host did. */
enum tiebreak_view { TIEBREAK_AS_READ, TIEBREAK_WORST, TIEBREAK_BEST };

/* Whether host p's tiebreak flag has not settled: a reader may still act
 * on its value from before. A peer's flag is young for a settle window
 * after this host first read the change. This host's own flag is young
 * for a settle window after the write that changed it, and until its slot
 * reads back what that write published, and for a settle window after
 * that read. (A slot that reads back unreadable shows every reader a host
 * that may reach the target: what it published matters no more.) */
static bool tiebreak_young(const struct survival_inputs *in, const struct core_peer *p, uint64_t now_ms) {
        uint32_t settle = in->timing->settle_ms;
        bool changed_lately = p->tiebreak_changed_ms && age_ms(now_ms, p->tiebreak_changed_ms) < settle;

        if (p->id != in->self_id)
                return !p->unknown && p->slot_seen && changed_lately;
        return !p->slot_seen || changed_lately ||
               (in->published_tiebreak_since_ms && age_ms(now_ms, in->published_tiebreak_since_ms) < settle) ||
               (!p->unknown && !(p->flags & DISK_SLOT_TIEBREAK_OK) != !in->published_tiebreak_ok);
}

/* young_since: a host whose FENCING this host first read after that time
 * still counts (0: none does). tv: how a tiebreak flag that has not
 * settled counts (now_ms dates it). */
static void score_partition_with(const struct survival_inputs *in, const struct core_view *view,
                                 uint64_t young_since_ms, enum tiebreak_view tv, uint64_t now_ms,
                                 struct partition_score *s) {
        memset(s, 0, sizeof(*s));
        s->all_yield = true;
        for (size_t i = 0; i < in->n_peers; i++) {
                const struct core_peer *p = &in->peers[i];
                uint32_t id = p->id;

                if (!core_view_has(view, id))
                        continue;
                if (id != in->self_id && peer_fencing(p) &&
                    !(young_since_ms && p->fencing_seen && p->fencing_seen_ms > young_since_ms))
                        continue;
                core_view_add(&s->hosts, id);
                s->size++;
                if (id == in->self_id ? !in->self_yields
                                      : (p->unknown || !p->slot_seen || !(p->flags & DISK_SLOT_YIELDS)))
                        s->all_yield = false;
                bool tb = id == in->self_id ? in->published_tiebreak_ok
                                            : (p->unknown || (p->slot_seen && (p->flags & DISK_SLOT_TIEBREAK_OK)));

                if (tv != TIEBREAK_AS_READ && tiebreak_young(in, p, now_ms)) {
                        tb = tv == TIEBREAK_BEST;
                        if (!s->young_tiebreak)
                                s->young_tiebreak = id;
                }
                if (tb)
                        s->tiebreak = true;
        }
        s->lowest = core_view_min(&s->hosts);
        if (s->size == 0)
                s->all_yield = false;
}

static void score_partition_at(const struct survival_inputs *in, const struct core_view *view,
                               uint64_t young_since_ms, struct partition_score *s) {
        score_partition_with(in, view, young_since_ms, TIEBREAK_AS_READ, 0, s);
}

static void score_partition(const struct survival_inputs *in, const struct core_view *view,
                            struct partition_score *s) {
        score_partition_at(in, view, 0, s);
}

/* > 0 when a beats b; *why names the deciding criterion. */
static int compare_partitions(const struct partition_score *a, const struct partition_score *b,
                              const char **why) {
        if (a->size != b->size) {
                *why = "bigger";
                return a->size > b->size ? 1 : -1;
        }
        if (a->tiebreak != b->tiebreak) {
                *why = "tie, tiebreak target reachable";
                return a->tiebreak ? 1 : -1;
        }
        *why = "tie, lowest node id";
        if (a->lowest == b->lowest)
                return 0;
        /* An empty partition (lowest 0) never beats a non-empty one. */
        if (a->lowest == 0 || b->lowest == 0)
                return a->lowest == 0 ? -1 : 1;
        return a->lowest < b->lowest ? 1 : -1;
}

static void verdict_set(struct survival_verdict *out, enum survival_kind kind, enum survival_rule rule,
                        const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void verdict_set(struct survival_verdict *out, enum survival_kind kind, enum survival_rule rule,
                        const char *fmt, ...) {
        va_list ap;

        out->kind = kind;
        out->rule = rule;
        va_start(ap, fmt);
        vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
        va_end(ap);
}

/* Rules 3 and 4: this host cannot use the disk. */
static void decide_without_disk(const struct survival_inputs *in, const struct core_view *members,
                                uint64_t now_ms, struct survival_verdict *out) {
        const struct core_timing *t = in->timing;
        struct core_view missing = { { 0 } };
        const struct core_peer *stale = NULL;
        char mv[128], ms[128];

        for (size_t i = 0; i < in->n_peers; i++) {
                const struct core_peer *p = &in->peers[i];

                if (p->id == in->self_id)
                        continue;
                if (!core_view_has(members, p->id))
                        core_view_add(&missing, p->id);
                else if (!stale && !t->unsafe.no_fresh_ack &&
                         (!p->ack_seen || age_ms(now_ms, p->ack_ms) > t->disk_interval_ms))
                        stale = p;
        }
        core_view_format(members, mv, sizeof(mv));
        core_view_format(&missing, ms, sizeof(ms));

        if (core_view_count(&missing) == 0 && !stale) {
                out->feed_on_acks = true;
                verdict_set(out, SURVIVAL_SURVIVE, SURVIVAL_RULE_4_NO_DISK,
                            "survive: disk lost, membership %s complete and acknowledged by every host", mv);
        } else if (in->joining) {
                verdict_set(out, SURVIVAL_WAIT, SURVIVAL_RULE_JOIN,
                            "joining: no usable disk yet, waiting for it or a complete membership (have %s)", mv);
        } else if (core_view_count(&missing) == 0) {
                /* The membership is still complete but an acknowledgement
                 * is late (a stalled token, a busy peer). Stop feeding at
                 * once, as rule 4 demands, but do not reboot: if every peer
                 * acknowledges again before the watchdog fires, this host
                 * was never out of anyone's membership and lives on; if
                 * not, the watchdog resets it, no later than any peer's S2
                 * wait assumes. */
                out->feed_on_acks = false;
                if (stale->ack_seen)
                        verdict_set(out, SURVIVAL_SURVIVE, SURVIVAL_RULE_4_NO_DISK,
                                    "holding: disk lost, host %u has not acknowledged this host for %llu ms; "
                                    "the watchdog is not fed until it does",
                                    stale->id, (unsigned long long)age_ms(now_ms, stale->ack_ms));
                else
                        verdict_set(out, SURVIVAL_SURVIVE, SURVIVAL_RULE_4_NO_DISK,
                                    "holding: disk lost, host %u has never acknowledged this host; "
                                    "the watchdog is not fed until it does", stale->id);
        } else if (in->quorate) {
                verdict_set(out, SURVIVAL_FENCE, SURVIVAL_RULE_4_NO_DISK,
                            "lost: disk lost and membership %s incomplete (missing %s)", mv, ms);
        } else {
                verdict_set(out, SURVIVAL_FENCE, SURVIVAL_RULE_3_ISOLATED,
                            "lost: no quorum and no disk, membership %s", mv);
        }
}

/* Another partition, `theirs`, scored as read (cand): keeps the best one
 * in *best, and in *best_best the best score another partition may have
 * to a reader that read a tiebreak flag before its change (the young flags
 * taken as reachable). */
static void keep_best(const struct survival_inputs *in, const struct core_view *theirs,
                      const struct partition_score *cand, uint64_t now_ms, bool *have_best,
                      struct partition_score *best, struct partition_score *best_best) {
        struct partition_score s;
        const char *why;

        score_partition_with(in, theirs, 0, TIEBREAK_BEST, now_ms, &s);
        if (!*have_best || compare_partitions(&s, best_best, &why) > 0)
                *best_best = s;
        if (!*have_best || compare_partitions(cand, best, &why) > 0)
                *best = *cand;
        *have_best = true;
}

/* Whether this partition beats `best` only by members that the disk has
 * not shown with this host for a settle window (this host's slot has not
 * named them that long): another partition counts them with this one only
 * once a view on the disk names them together, and it may have decided a
 * moment ago without them, still acting as master until its next read. A
 * joining host that Corosync has just made a member is one; so is a host
 * that has just joined this partition from another. A reader that
 * survives has read within two disk intervals, which is the settle window. */
static bool wins_only_by_young_members(const struct survival_inputs *in, const struct core_view *members,
                                       const struct partition_score *best, uint64_t now_ms, char *young,
                                       size_t size) {
        struct core_view old = *members, added;
        struct partition_score s;
        const char *why;

        memset(&added, 0, sizeof(added));
        for (size_t i = 0; i < in->n_peers; i++) {
                const struct core_peer *p = &in->peers[i];

                if (p->id == in->self_id || !core_view_has(members, p->id) ||
                    (p->shown_since_ms && age_ms(now_ms, p->shown_since_ms) >= in->timing->settle_ms))
                        continue;
                core_view_del(&old, p->id);
                core_view_add(&added, p->id);
        }
        if (core_view_equal(&old, members))
                return false;
        score_partition(in, &old, &s);
        core_view_format(&added, young, size);
        return compare_partitions(&s, best, &why) <= 0;
}

/* Rule 2: no quorum, but the disk works. */
static void decide_by_disk(const struct survival_inputs *in, const struct core_view *members,
                           uint64_t now_ms, struct survival_verdict *out) {
        const struct core_timing *t = in->timing;
        /* The window restarts with every membership change, but a run of
         * WAIT ends a settle window after it began: churn cannot keep a
         * host from deciding. */
        bool in_window = age_ms(now_ms, in->membership_since_ms) < t->settle_ms &&
                         !(in->wait_since_ms && age_ms(now_ms, in->wait_since_ms) >= t->settle_ms);
        const struct core_peer *unsettled = NULL;
        struct partition_score mine, best, cand, young, mine_worst, best_best;
        bool have_best = false, holder = false, beaten_young = false;
        /* A host of another partition that wrote FENCING a moment ago is
         * counted out by this host at once, but its partition learns of it
         * only from its own next read: until then it may lead as though
         * the host still counted (a quorate partition by rule 1). */
        uint64_t young_since = now_ms > t->settle_ms ? now_ms - t->settle_ms : 1;
        const char *why = "";
        char a[128], b[128], c[128];

        /* Rule 2 compares what the disk shows now: on reads this host made
         * a moment ago, not on what it read before its loop stalled. */
        if (!t->unsafe.hasty_join && in->read_ok_seen &&
            age_ms(now_ms, in->last_read_ok_ms) > 2ull * t->disk_interval_ms) {
                verdict_set(out, SURVIVAL_WAIT, in->joining ? SURVIVAL_RULE_JOIN : SURVIVAL_RULE_2_DISK,
                            "wait: this host's last disk read is %llu ms old",
                            (unsigned long long)age_ms(now_ms, in->last_read_ok_ms));
                return;
        }

        /* Have the views settled? */
        for (size_t i = 0; i < in->n_peers && !unsettled; i++) {
                const struct core_peer *p = &in->peers[i];

                if (p->id == in->self_id || !peer_disk_alive(p, t, now_ms))
                        continue;
                /* An unreadable slot may still publish the view from before
                 * (a host whose Corosync has not told it yet, still quorate
                 * there): not settled either. */
                if (p->unknown) {
                        if (!t->unsafe.unknown_settled)
                                unsettled = p;
                        continue;
                }
                if (p->state != DISK_SLOT_ALIVE)
                        continue;
                if (core_view_has(members, p->id) ? !core_view_equal(&p->view, members)
                                                   : core_view_intersects(&p->view, members))
                        unsettled = p;
        }
        if (unsettled && (in_window || in->joining)) {
                if (unsettled->unknown)
                        snprintf(c, sizeof(c), "has an unreadable slot (%s)", unsettled->unknown_why);
                else
                        snprintf(c, sizeof(c), "publishes %s", core_view_format(&unsettled->view, a, sizeof(a)));
                verdict_set(out, SURVIVAL_WAIT, in->joining ? SURVIVAL_RULE_JOIN : SURVIVAL_RULE_2_DISK,
                            "wait: views not settled, host %u %s, this host sees %s", unsettled->id, c,
                            core_view_format(members, b, sizeof(b)));
                return;
        }

        score_partition(in, members, &mine);
        score_partition_with(in, members, 0, TIEBREAK_WORST, now_ms, &mine_worst);
        out->partition = mine.hosts;
        for (size_t i = 0; i < in->n_peers; i++) {
                const struct core_peer *p = &in->peers[i];
                struct core_view theirs;

                /* A joining host also counts other joining hosts: at a cold
                 * start every host begins alone, and only one of them may
                 * take the pool by the disk before Corosync merges them
                 * (the others wait; they never fence while joining). */
                /* So does a host that yields: while its slot stood still, a
                 * joining host may have counted it out and taken the pool. */
                /* And a joining host whose published view is quorate: its
                 * partition takes the pool by rule 1 once this one has
                 * fenced (see quorate_join_holder). */
                bool competes = p->state == DISK_SLOT_ALIVE ||
                                ((in->joining || in->self_yields || view_quorate(in, &p->view, members)) &&
                                 p->state == DISK_SLOT_JOINING);
                if (p->id == in->self_id || core_view_has(members, p->id) || !peer_disk_alive(p, t, now_ms))
                        continue;
                /* A joining host never takes the pool from a partition that
                 * holds it (or may: an unknown slot): it waits to join. */
                holder |= p->unknown || p->state == DISK_SLOT_ALIVE;
                if (p->unknown) {
                        /* Unknown: it may be alive in a partition of its
                         * own, with its tiebreak target reachable. */
                        memset(&theirs, 0, sizeof(theirs));
                        core_view_add(&theirs, p->id);
                        score_partition(in, &theirs, &cand);
                        keep_best(in, &theirs, &cand, now_ms, &have_best, &best, &best_best);
                        continue;
                }
                if (!competes)
                        continue;
                if (core_view_intersects(&p->view, members) &&
                    age_ms(now_ms, p->advanced_ms) > t->settle_ms)
                        continue;       /* a stale publisher, e.g. frozen */
                theirs = p->view;
                for (size_t j = 0; j < in->n_peers; j++)
                        if (core_view_has(members, in->peers[j].id))
                                core_view_del(&theirs, in->peers[j].id);
                core_view_add(&theirs, p->id);
                /* Its own view may be from before, while a host that joined
                 * it since (a JOINING slot too) already names it: its hosts
                 * count it whole. */
                for (size_t j = 0; j < in->n_peers && !t->unsafe.lone_publisher; j++) {
                        const struct core_peer *q = &in->peers[j];

                        if (q->id != in->self_id && !core_view_has(members, q->id) && !q->unknown &&
                            peer_disk_alive(q, t, now_ms) && core_view_has(&q->view, p->id) &&
                            (q->state == DISK_SLOT_ALIVE || q->state == DISK_SLOT_JOINING))
                                core_view_add(&theirs, q->id);
                }
                score_partition(in, &theirs, &cand);
                score_partition_at(in, &theirs, young_since, &young);
                /* See below: it does not compete, except with a partition
                 * that yields too. Each may have skipped the other as a stale
                 * publisher, so a yielding partition counts every other one
                 * on the disk, yielding or not, and fences. */
                if (cand.all_yield && (!mine.all_yield || t->unsafe.mutual_yield))
                        continue;
                if (young.size > cand.size && compare_partitions(&mine, &young, &why) <= 0) {
                        beaten_young = true;
                        core_view_format(&young.hosts, b, sizeof(b));
                }
                keep_best(in, &theirs, &cand, now_ms, &have_best, &best, &best_best);
        }

        core_view_format(&mine.hosts, a, sizeof(a));
        if (in->joining && !t->unsafe.hasty_join) {
                /* A joining host takes the pool by the disk only from no one,
                 * and only after watching the disk for a whole disk timeout:
                 * a host that booted with it may not have written its first
                 * slot yet, and a slot seen once has not been seen to advance. */
                if (holder && have_best) {
                        core_view_format(&best.hosts, b, sizeof(b));
                        verdict_set(out, SURVIVAL_WAIT, SURVIVAL_RULE_JOIN,
                                    "joining: disk shows partition %s holds the pool, waiting to join", b);
                        return;
                }
                uint64_t watched_from = in->started_ms;

                if (!t->unsafe.blind_watch && in->read_ok_seen && in->reading_since_ms > watched_from)
                        watched_from = in->reading_since_ms;
                if (age_ms(now_ms, watched_from) < t->disk_timeout_ms) {
                        verdict_set(out, SURVIVAL_WAIT, SURVIVAL_RULE_JOIN,
                                    "joining: watching the disk for %u ms before taking the pool without quorum",
                                    t->disk_timeout_ms);
                        return;
                }
        }
        if (beaten_young && !mine.all_yield && !t->unsafe.hasty_fencing &&
            (!have_best || compare_partitions(&mine, &best, &why) > 0)) {
                /* This host would win only by the FENCING just read. */
                verdict_set(out, SURVIVAL_WAIT, in->joining ? SURVIVAL_RULE_JOIN : SURVIVAL_RULE_2_DISK,
                            "wait: partition %s beats %s until it reads the FENCING its members wrote", b, a);
                return;
        }
        if (!have_best) {
                verdict_set(out, SURVIVAL_SURVIVE, SURVIVAL_RULE_2_DISK,
                            "survive: no quorum, no other partition on the disk, %s wins", a);
                return;
        }
        core_view_format(&best.hosts, b, sizeof(b));
        /* Every host here yields: its slot stood still (a stalled loop, a
         * hung disk) long enough for the other side to skip it as a stale
         * publisher and take the pool. That side may already act as master;
         * it learns of the yield from the same write that shows this view. */
        if (mine.all_yield) {
                if (in->joining)
                        verdict_set(out, SURVIVAL_WAIT, SURVIVAL_RULE_JOIN,
                                    "joining: disk shows partition %s holds the pool, waiting to join", b);
                else
                        verdict_set(out, SURVIVAL_FENCE, SURVIVAL_RULE_2_DISK,
                                    "lost: no quorum, disk shows partition %s, and %s yields: its slot stood still",
                                    b, a);
                return;
        }
        if (compare_partitions(&mine, &best, &why) > 0 && !t->unsafe.young_tiebreak &&
            compare_partitions(&mine_worst, &best_best, &why) <= 0) {
                unsigned host = mine_worst.young_tiebreak ? mine_worst.young_tiebreak : best_best.young_tiebreak;

                verdict_set(out, SURVIVAL_WAIT, in->joining ? SURVIVAL_RULE_JOIN : SURVIVAL_RULE_2_DISK,
                            "wait: %s beats %s only by the tiebreak result host %u published a moment ago, "
                            "until the disk has shown it for a settle window", a, b, host);
        } else if (compare_partitions(&mine, &best, &why) > 0 && !in->joining && !t->unsafe.young_member &&
            wins_only_by_young_members(in, members, &best, now_ms, c, sizeof(c)))
                verdict_set(out, SURVIVAL_WAIT, SURVIVAL_RULE_2_DISK,
                            "wait: %s beats %s only with %s, until the disk has shown %s with this host "
                            "for a settle window", a, b, c, c);
        else if (compare_partitions(&mine, &best, &why) > 0)
                verdict_set(out, SURVIVAL_SURVIVE, SURVIVAL_RULE_2_DISK,
                            "survive: no quorum, disk shows partition %s beats %s (%s)", a, b, why);
        else if (in->joining)
                verdict_set(out, SURVIVAL_WAIT, SURVIVAL_RULE_JOIN,
                            "joining: disk shows partition %s holds the pool, waiting to join", b);
        else
                verdict_set(out, SURVIVAL_FENCE, SURVIVAL_RULE_2_DISK,
                            "lost: no quorum, disk shows partition %s beats %s (%s)", b, a, why);
}

/* This host's own slot, as it last read it back, decodes and shows what
 * its last completed write published: another host can read it too. A
 * slot that reads back unreadable shows nothing to anyone. */
static bool own_slot_reads_as_published(const struct survival_inputs *in) {
        const struct core_peer *self = survival_peer_find_const(in->peers, in->n_peers, in->self_id);

        return self && self->slot_seen && !self->unknown && self->state == in->published_state &&
               core_view_equal(&self->view, &in->published_view) &&
               !(self->flags & DISK_SLOT_QUORATE) == !in->published_quorate;
}

/* This host's slot has shown these members, quorate, for at least for_ms,
 * and reads back so. */
static bool quorate_view_shown(const struct survival_inputs *in, const struct core_view *members,
                               uint64_t now_ms, uint64_t for_ms) {
        return own_slot_reads_as_published(in) && in->published_quorate &&
               core_view_equal(&in->published_view, members) && age_ms(now_ms, in->published_since_ms) >= for_ms;
}

/* A host outside the members that may hold the pool by rule 2: its slot
 * says ALIVE and is disk-alive. A slot not seen to advance counts until
 * this host has read it for a disk timeout: it may be a dead host's, or
 * the holder's, read only since this host's disk came back. None when a
 * member is in the pool already (its ALIVE slot is seen to advance): the
 * partition that holds the pool is this one.
 *
 * A slot that cannot be read may be the holder's too (unreadable is not
 * silent), but may also stay so after its host died. It counts until this
 * host's slot has shown a JOINING quorate view of these members for a disk
 * timeout and the S2 wait: a holder that reads it fences; one whose reads
 * fail loses its disk within the disk timeout and fences by rule 4; either
 * way its watchdog has fired by then. */
static bool unknown_may_hold(const struct survival_inputs *in, const struct core_view *members, uint64_t now_ms) {
        const struct core_timing *t = in->timing;

        return in->published_state != DISK_SLOT_JOINING ||
               !quorate_view_shown(in, members, now_ms, (uint64_t)t->disk_timeout_ms + core_timing_s2_wait_ms(t));
}

static const struct core_peer *quorate_join_holder(const struct survival_inputs *in, const struct core_view *members,
                                                   uint64_t now_ms) {
        const struct core_peer *holder = NULL;

        for (size_t i = 0; i < in->n_peers; i++) {
                const struct core_peer *p = &in->peers[i];

                if (p->id == in->self_id || !peer_disk_alive(p, in->timing, now_ms) ||
                    (p->unknown ? !unknown_may_hold(in, members, now_ms) : p->state != DISK_SLOT_ALIVE))
                        continue;
                if (!core_view_has(members, p->id))
                        holder = holder ? holder : p;
                else if (!p->unknown && p->advance_seen)
                        return NULL;
        }
        return holder;
}

/* A host outside the members whose slot says it may hold the pool by rule
 * 2: ALIVE without the QUORATE flag and advancing (not a stale publisher),
 * or unreadable. */
static const struct core_peer *rule2_holder_beside(const struct survival_inputs *in,
                                                   const struct core_view *members, uint64_t now_ms) {
        for (size_t i = 0; i < in->n_peers; i++) {
                const struct core_peer *p = &in->peers[i];

                if (p->id == in->self_id || core_view_has(members, p->id))
                        continue;
                if (p->unknown || (p->slot_seen && p->state == DISK_SLOT_ALIVE && !(p->flags & DISK_SLOT_QUORATE) &&
                                   age_ms(now_ms, p->advanced_ms) <= in->timing->settle_ms))
                        return p;
        }
        return NULL;
}

/* Whether the members that have not published FENCING are still a strict
 * majority of the configured hosts. */
static bool majority_without_fencing(const struct survival_inputs *in, const struct core_view *members) {
        size_t alive = 0;

        for (size_t i = 0; i < in->n_peers; i++) {
                const struct core_peer *p = &in->peers[i];

                if (core_view_has(members, p->id) && (p->id == in->self_id || !peer_fencing(p)))
                        alive++;
        }
        return 2 * alive > in->n_peers;
}

int survival_decide(const struct survival_inputs *in, uint64_t now_ms, struct survival_verdict *out) {
        struct core_view members;
        char mv[128];

        memset(out, 0, sizeof(*out));
        if (in->self_id == 0 || in->self_id > CORE_MAX_HOST_ID ||
            !survival_peer_find_const(in->peers, in->n_peers, in->self_id)) {
                verdict_set(out, SURVIVAL_FENCE, SURVIVAL_RULE_3_ISOLATED,
                            "lost: invalid inputs, this host (%u) is not configured", in->self_id);
                return -EINVAL;
        }

        /* Corosync always counts the local node; make sure the view does. */
        members = in->members;
        core_view_add(&members, in->self_id);
        out->partition = members;
        out->own_disk_ok = survival_own_disk_ok(in, now_ms);

        /* With or without the disk: rule 1 and rule 4 both rest on it. */
        if (in->quorate && now_ms < in->quorum_unconfirmed_until_ms) {
                verdict_set(out, SURVIVAL_WAIT, out->own_disk_ok ? SURVIVAL_RULE_1_QUORUM : SURVIVAL_RULE_4_NO_DISK,
                            "wait: this host stood still; its quorate membership %s is from before, "
                            "until Corosync confirms it", core_view_format(&members, mv, sizeof(mv)));
                return 0;
        }
        if (!out->own_disk_ok) {
                decide_without_disk(in, &members, now_ms, out);
                return 0;
        }
        if (in->quorate && !in->timing->unsafe.fencing_quorum && !majority_without_fencing(in, &members)) {
                /* Votequorum still counts members that have written
                 * FENCING, rule 2 does not: decide as a partition without
                 * quorum does, or a partition across the cut that the disk
                 * makes the winner would lead at the same time. */
                size_t used;

                decide_by_disk(in, &members, now_ms, out);
                used = strlen(out->reason);
                snprintf(out->reason + used, sizeof(out->reason) - used,
                         "; quorate only with members that wrote FENCING");
                return 0;
        }
        if (in->quorate && in->joining && !in->timing->unsafe.quorate_join) {
                /* Hosts that boot into a quorate partition while another
                 * holds the pool by rule 2 (it won while they were down):
                 * that one counts their JOINING slots, loses to them and
                 * fences at its next read; until then it is still master. */
                const struct core_peer *h = quorate_join_holder(in, &members, now_ms);

                if (h && h->unknown)
                        verdict_set(out, SURVIVAL_WAIT, SURVIVAL_RULE_JOIN,
                                    "joining: host %u has an unreadable slot (%s) and may hold the pool without "
                                    "quorum; the quorate partition %s takes it once that host must have fenced",
                                    h->id, h->unknown_why, core_view_format(&members, mv, sizeof(mv)));
                else if (h)
                        verdict_set(out, SURVIVAL_WAIT, SURVIVAL_RULE_JOIN,
                                    "joining: host %u holds the pool without quorum; the quorate partition %s "
                                    "takes it once that host has fenced", h->id,
                                    core_view_format(&members, mv, sizeof(mv)));
                if (h)
                        return 0;
        }
        if (in->quorate && !in->timing->unsafe.hasty_quorum && !(in->joining && in->timing->unsafe.quorate_join)) {
                /* The same for a partition that has just become quorate or
                 * changed: a host outside it may have taken the pool by rule
                 * 2 while this one's view was from before. It fences once it
                 * reads this partition's quorate view. (A joining host waits
                 * so too when a member is in the pool already; knob
                 * quorate-join switches off a joining host's waits whole.) */
                const struct core_peer *h = rule2_holder_beside(in, &members, now_ms);

                /* A host that survives by rule 2 has read within a settle
                 * window, and a reader of this view loses to it. */
                if (h && !quorate_view_shown(in, &members, now_ms, in->timing->settle_ms)) {
                        verdict_set(out, SURVIVAL_WAIT, SURVIVAL_RULE_1_QUORUM,
                                    "wait: host %u may hold the pool without quorum; it fences once it reads "
                                    "this quorate partition %s, which the disk is to show for a settle window",
                                    h->id, core_view_format(&members, mv, sizeof(mv)));
                        return 0;
                }
        }
        if (in->quorate) {
                verdict_set(out, SURVIVAL_SURVIVE, SURVIVAL_RULE_1_QUORUM,
                            "survive: quorate partition %s reaches the disk",
                            core_view_format(&members, mv, sizeof(mv)));
                return 0;
        }
        decide_by_disk(in, &members, now_ms, out);
        /* Rule 2 counts the members as one partition: a member that has
         * meanwhile lost this host counts itself alone, skips this host's
         * still slot and wins, and its new view may not be on the disk
         * yet. A loss stands: a smaller membership would lose too. */
        if (out->kind == SURVIVAL_SURVIVE && now_ms < in->quorum_unconfirmed_until_ms &&
            !in->timing->unsafe.stale_partition)
                verdict_set(out, SURVIVAL_WAIT, SURVIVAL_RULE_2_DISK,
                            "wait: this host stood still; its membership %s is from before, "
                            "until Corosync confirms it", core_view_format(&members, mv, sizeof(mv)));
        return 0;
}
