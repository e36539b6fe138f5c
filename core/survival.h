/* The survival rule: does this host stay alive, and may it feed its watchdog?
 *
 * survival_decide() is the whole of DESIGN.md's rules 1-5 as one pure
 * function of what a host can know: its Corosync membership and quorum, the
 * slots it last read from the heartbeat disk (and when, on its own
 * monotonic clock, each one last advanced), whether its own disk I/O works,
 * its tiebreak result and the CPG acknowledgements of its peers. It reads no
 * clock and does no I/O; `now_ms` is the caller's monotonic time.
 *
 * The one idea: a host may keep running only while someone could see it
 * running. Either its slot keeps advancing on the disk (rules 1 and 2; the
 * watchdog is fed only right after a slot write), or every other host keeps
 * acknowledging it over CPG (rule 4; the watchdog is fed on those
 * acknowledgements). Whoever takes over its VMs (s2.h) waits until both
 * kinds of evidence have been gone for a watchdog timeout plus a margin.
 *
 * What the daemon does with it, every loop iteration (at least every disk
 * interval, and after every membership change, slot read or ack):
 *   - fold inputs in: survival_peer_observe_slot() after each slot read,
 *     survival_observe_membership() on each Corosync configuration change,
 *     survival_peer_observe_ack() on each CPG acknowledgement;
 *   - call survival_decide(); log the reason when the verdict changes;
 *   - FENCE is final for this incarnation: latch it, write FENCING to the
 *     slot when the disk allows, stop feeding, and never feed again;
 *   - feed the watchdog only when survival_may_feed() says so;
 *   - arm the watchdog when the verdict first becomes SURVIVE (a joining
 *     host runs no VMs and is never told to fence).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core_timing.h"
#include "heartbeat/disk_format.h"

#define CORE_MAX_HOST_ID   (DISK_MAX_SLOTS)     /* host ids run 1..255 */
#define SURVIVAL_REASON_MAX 256u

/* A set of host ids: the same bitmap as a slot's published view. */
struct core_view {
        uint8_t bits[DISK_VIEW_BYTES];
};

static inline bool core_view_has(const struct core_view *v, unsigned id) {
        return disk_view_test(v->bits, id);
}
static inline void core_view_add(struct core_view *v, unsigned id) {
        disk_view_set(v->bits, id);
}
void core_view_del(struct core_view *v, unsigned id);
unsigned core_view_count(const struct core_view *v);
/* Lowest id in v, or 0 when v is empty. */
unsigned core_view_min(const struct core_view *v);
bool core_view_equal(const struct core_view *a, const struct core_view *b);
bool core_view_intersects(const struct core_view *a, const struct core_view *b);
/* "{1,2,3}" into buf (always NUL-terminated); returns buf. */
char *core_view_format(const struct core_view *v, char *buf, size_t len);

/* What this host knows about one configured host (itself included). The
 * daemon keeps one per configured host and updates it only through the
 * survival_*observe* helpers below, which are pure too. */
struct core_peer {
        uint32_t id;

        /* The last slot read (valid once slot_seen). */
        bool slot_seen;
        enum disk_slot_state state;
        uint64_t incarnation;
        uint64_t seq;
        uint64_t ring_id;
        struct core_view view;
        uint32_t flags;                 /* DISK_SLOT_QUORATE | TIEBREAK_OK | DISK_OK */
        uint64_t advanced_ms;           /* observer time its seq (or incarnation) last changed */
        uint64_t writing_since_ms;      /* first advance seen after it last left the membership */
        bool advance_seen;              /* seen to advance at least once, not only read */
        bool fencing_seen;              /* FENCING read in this incarnation ... */
        uint64_t fencing_seen_ms;       /* ... first at this observer time */
        bool armed;                     /* its last slot publishes an armed watchdog */
        bool unknown;                   /* its last slot read could not be decoded: unknown, not silent */
        char unknown_why[96];
        /* Since when this host's completed slot writes have named it in
         * their view without a break, and its own slot read back so
         * (0: the last one did not, or a read showed otherwise). */
        uint64_t shown_since_ms;
        /* When a read first showed its TIEBREAK_OK flag changed from the
         * read before (0: never seen to change). For this host's own slot
         * it dates the read back of what its write published. */
        uint64_t tiebreak_changed_ms;

        /* Network. */
        bool member;                    /* in this host's current membership */
        uint64_t left_ms;               /* when it was last seen leaving (or first seen absent) */
        bool ack_seen;
        uint64_t ack_ms;                /* last CPG ack: "I count you in my membership" */
        bool ack_view_seen;
        struct core_view ack_view;      /* the membership that ack published ... */
        uint64_t ack_view_ms;           /* ... dated by the echoed message's send time */
};

/* Start tracking host `id` at observer time now_ms. A host never read yet
 * counts as silent since now_ms, and as absent since now_ms. */
void survival_peer_init(struct core_peer *p, uint32_t id, uint64_t now_ms);
/* Fold in a slot just read. Detects advances by seq or incarnation. */
void survival_peer_observe_slot(struct core_peer *p, const struct disk_slot *s, uint64_t now_ms);
/* Fold in a slot read that could not be decoded (bad checksum, torn, a
 * newer layout, another cluster): the host is unknown until its slot
 * decodes again. Under unsafe.unknown_as_silent the read is skipped. */
void survival_peer_observe_unknown(struct core_peer *p, const struct core_timing *t, const char *why);
/* Fold in an acknowledgement from p: evidence_ms is when this host sent
 * the message that the acknowledgement echoes (so freshness does not
 * rest on delivery delay). */
void survival_peer_observe_ack(struct core_peer *p, uint64_t evidence_ms);
/* Fold in the membership an acknowledgement of p published, dated as
 * above: it tells what p's engine believes when its slot cannot. */
void survival_peer_observe_ack_view(struct core_peer *p, const struct core_view *view, uint64_t evidence_ms);

/* This host's inputs. `peers` lists every configured host (this one too),
 * in any order, ids unique. */
struct survival_inputs {
        const struct core_timing *timing;
        uint32_t self_id;
        struct core_peer *peers;
        size_t n_peers;

        /* Corosync */
        struct core_view members;       /* current membership, self included */
        uint64_t ring_id;
        bool quorate;
        uint64_t membership_since_ms;   /* when the current membership was installed */

        /* Own disk I/O, maintained by survival_observe_io(): completion
         * times of the last successful read (of all slots) and slot write,
         * valid when *_ok_seen; and whether reads or writes are failing,
         * since the first failure after the last success. The disk counts
         * as lost once either has been failing for io_grace. (Not by the
         * age of the last success: a host resuming from a freeze has not
         * failed any I/O, it has merely not tried yet.) */
        bool read_ok_seen, write_ok_seen;
        uint64_t last_read_ok_ms, last_write_ok_ms;
        bool read_failing, write_failing;
        uint64_t read_failing_since_ms, write_failing_since_ms;
        /* Since when reads have succeeded without a failure between
         * (valid when read_ok_seen): the joining watch counts from here. */
        uint64_t reading_since_ms;

        bool tiebreak_ok;               /* this host reaches its tiebreak target (published next write) */
        bool published_tiebreak_ok;     /* what this host's last completed slot write said: rule 2 reads this */
        uint64_t published_tiebreak_since_ms; /* completion of the first write that said so (0: the first write) */
        /* What this host's completed slot writes show a reader, and since
         * when (the completion of the first write that showed it): state,
         * view and the QUORATE flag. Kept by survival_observe_published(). */
        struct core_view published_view;
        enum disk_slot_state published_state;
        bool published_quorate;
        uint64_t published_since_ms;
        bool joining;                   /* not yet SURVIVE since this daemon started */
        bool self_unarmed;              /* in emergency mode or without a watchdog: never master */
        /* This host's slot stood still for yield_gap (its loop stalled, its
         * writes hung or failed): a peer may have counted it out of rule 2
         * meanwhile and taken the pool. Kept by survival_note_time() and
         * published in the slot; cleared by a quorate verdict on a moving
         * slot. A partition in which every host yields never beats another. */
        bool self_yields;
        /* This host handled nothing for longer than a token (a freeze, a
         * stalled loop): Corosync may re-form without it, and the quorate
         * membership it knew is from before. Until a membership arrives or
         * this time passes, a quorate verdict is WAIT, and so is a SURVIVE
         * by rule 2. The engine keeps it. */
        uint64_t quorum_unconfirmed_until_ms;
        /* Set with it at the gap (at quorum_gap_ms), and kept past that
         * bound until Corosync's next membership, or until every other
         * member acknowledges a message sent since the gap publishing
         * this host's membership. A quorate verdict on a membership from
         * before clears no yield: the ring may have re-formed without this
         * host, and a reader may have taken the pool meanwhile. */
        bool quorum_from_before;
        uint64_t quorum_gap_ms;
        /* When this host's run of WAIT verdicts began (0: not waiting). The
         * caller keeps it: set at the first WAIT after a decided verdict,
         * cleared by the next SURVIVE or FENCE. WAIT lasts at most the
         * settle window from there, however the membership churns. */
        uint64_t wait_since_ms;
        /* When this daemon started reading the disk. A joining host without
         * quorum watches the disk for a whole disk timeout before it takes
         * the pool by rule 2: a host that booted a moment before or after it
         * may not have written its first slot yet. The watch counts from
         * here or from reading_since_ms, whichever is later: a host whose
         * reads failed has watched nothing. */
        uint64_t started_ms;
};

/* Before each event: latches self_yields when this host's last completed
 * slot write is older than yield_gap. */
void survival_note_time(struct survival_inputs *in, uint64_t now_ms);

enum survival_io {
        SURVIVAL_IO_READ,       /* a read of all slots (and claims) */
        SURVIVAL_IO_WRITE,      /* this host's slot write */
};

/* After each disk I/O completes, fails, or passes its deadline (a hung
 * I/O counts as failed at its deadline): records it for the survival rule
 * and for the takeover's read freshness. now_ms is the completion (or
 * deadline) time. */
void survival_observe_io(struct survival_inputs *in, enum survival_io op, bool ok, uint64_t now_ms);

/* After a slot write of this host completes: records what a reader now
 * sees of it (published_*), and since when. */
void survival_observe_published(struct survival_inputs *in, const struct disk_slot *written, uint64_t done_ms);

/* After a disk round has observed this host's own slot with the others:
 * a member that slot did not show (unreadable, or a view without it) has
 * not been shown with this host since (shown_since_ms restarts). */
void survival_observe_own_readback(struct survival_inputs *in);

/* On a Corosync configuration change: records the membership, quorum and
 * installation time, and each peer's member flag and departure time. */
void survival_observe_membership(struct survival_inputs *in, const struct core_view *members,
                                 uint64_t ring_id, bool quorate, uint64_t now_ms);

enum survival_kind {
        SURVIVAL_SURVIVE = 0,
        SURVIVAL_WAIT,
        SURVIVAL_FENCE,
};

/* Which of DESIGN.md's rules decided (rule 5 is what the daemon does on
 * FENCE); SURVIVAL_RULE_JOIN is a joining host that waits to be admitted. */
enum survival_rule {
        SURVIVAL_RULE_1_QUORUM = 1,
        SURVIVAL_RULE_2_DISK = 2,
        SURVIVAL_RULE_3_ISOLATED = 3,
        SURVIVAL_RULE_4_NO_DISK = 4,
        SURVIVAL_RULE_JOIN = 16,
};

struct survival_verdict {
        enum survival_kind kind;
        enum survival_rule rule;
        bool feed_on_acks;              /* rule 4: acknowledgements are fresh, feed now */
        bool own_disk_ok;
        struct core_view partition;     /* this host's partition as compared */
        char reason[SURVIVAL_REASON_MAX];
};

/* The survival rule. Returns 0, or -EINVAL on inconsistent inputs (self
 * not among the peers, an id out of range), in which case out is FENCE. */
int survival_decide(const struct survival_inputs *in, uint64_t now_ms, struct survival_verdict *out);

/* After each verdict: a quorate SURVIVE on a moving slot ends the yield. */
void survival_note_verdict(struct survival_inputs *in, const struct survival_verdict *v, uint64_t now_ms);

/* May the watchdog be fed now? Only right after a completed slot write
 * while SURVIVE or WAIT, or under rule 4 on fresh acknowledgements. */
bool survival_may_feed(const struct survival_verdict *v, bool slot_write_completed);

/* Own disk usable: a read and a write have succeeded since the daemon
 * started, and no I/O has been failing for io_grace or longer. */
bool survival_own_disk_ok(const struct survival_inputs *in, uint64_t now_ms);
/* Own read recent enough to act on disk evidence (takeover): within one interval. */
bool survival_own_read_fresh(const struct survival_inputs *in, uint64_t now_ms);

/* The master of this host's partition: the lowest id in the membership
 * whose slot shows neither FENCING nor an unarmed watchdog (this host: not
 * self_unarmed). 0 when no member qualifies, or while a member may still
 * act on an older view (see survival.c). Only meaningful under SURVIVE. */
uint32_t survival_master(const struct survival_inputs *in, uint64_t now_ms);

/* Slot flags this host should publish with its next write. */
uint32_t survival_slot_flags(const struct survival_inputs *in, uint64_t now_ms);

/* Fills what the survival rule publishes in this host's next slot write:
 * state (JOINING while joining, FENCING once fenced, else ALIVE), view
 * (the membership), ring id, flags and the watchdog timeout. The caller
 * sets host_id, incarnation, seq (+1 per write), the mailbox ack, the
 * claims generation and the wall-clock fields, then encodes it. */
void survival_fill_slot(const struct survival_inputs *in, bool fenced, uint64_t now_ms, struct disk_slot *slot);

const char *survival_kind_name(enum survival_kind k);
/* "rule 1" .. "rule 4", "joining". */
const char *survival_rule_name(enum survival_rule r);
/* The tiebreak target counts as reachable while its last reply is at most
 * three disk intervals old. */
static inline bool core_tiebreak_fresh(bool replied, uint64_t last_reply_ms, uint64_t now_ms, uint32_t interval_ms) {
        return replied && now_ms >= last_reply_ms && now_ms - last_reply_ms <= 3ull * interval_ms;
}

/* Looks a peer up by id; NULL when not configured. */
struct core_peer *survival_peer_find(struct core_peer *peers, size_t n, uint32_t id);
const struct core_peer *survival_peer_find_const(const struct core_peer *peers, size_t n, uint32_t id);
