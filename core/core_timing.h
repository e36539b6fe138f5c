/* Timing of the safety core, derived from one value.
 *
 * Every delay the survival rule, the watchdog and the S2 wait depend on
 * comes from the pool's `timeout` (DESIGN.md, "Timing"). Deriving them in
 * one place keeps their relations true by construction: detection plus the
 * settle window stays well below the watchdog timeout, and the S2 margin is
 * never zero.
 *
 * The `unsafe` knobs exist only so that the scenario simulator can switch
 * off one fix at a time and show the counterexample (CE1-CE3) it prevents.
 * core_timing_init() always clears them; production code never sets them.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define CORE_DEFAULT_TIMEOUT_MS 5000u
#define CORE_MIN_TIMEOUT_MS     2000u
#define CORE_MAX_TIMEOUT_MS     600000u

/* Test-only switches, each undoing one of the design's fixes. */
struct core_unsafe_knobs {
        bool no_margin;         /* CE1: S2 margin 0 */
        bool no_fresh_ack;      /* CE2: rule 4 without fresh acknowledgements */
        bool no_claims;         /* CE3: S2 against the replicated owner, no disk claims */
        bool stale_feed;        /* feed on any completed write, however late it is handled */
        bool unknown_as_silent; /* an undecodable slot is skipped, so it looks silent */
        bool unarmed_owner;     /* emergency mode not enforced: unarmed hosts own VMs, lead, look armed */
        bool hasty_join;        /* a joining host takes the pool by the disk at once, even from a live partition */
        bool blind_watch;       /* a joining host's disk watch counts from its start, though its reads failed */
        bool unknown_master;    /* a member whose slot is unreadable is taken to agree with the membership */
        bool no_yield;          /* a host whose slot stood still competes under rule 2 as if it had not */
        bool mutual_yield;      /* a yielding partition skips other yielding partitions as not on the disk */
        bool stale_quorum;      /* a host that stood still past a token trusts the quorum it had before */
        bool stale_partition;   /* ... and, without quorum, the partition it had before, under rule 2 */
        bool stale_yield;       /* a quorate verdict on a membership from before a gap clears the yield */
        bool same_ring;         /* a membership on the ring known before a gap counts as Corosync confirming it */
        bool fencing_quorum;    /* a quorate partition counts its FENCING members toward its majority */
        bool lone_publisher;    /* another partition is counted from its publisher's view alone */
        bool hasty_fencing;     /* rule 2 counts another partition's host out the moment it reads its FENCING */
        bool quorate_join;      /* joining hosts take the pool by quorum beside a partition that holds it by rule 2 */
        bool hasty_quorum;      /* a partition that becomes quorate leads at once beside a host that holds the pool by rule 2 */
        bool unknown_settled;   /* rule 2 takes an unreadable slot's view as settled with this membership */
        bool young_member;      /* rule 2 counts a member the moment it joins, before the disk shows it with this host */
        bool young_tiebreak;    /* rule 2 trusts a tiebreak flag the moment it changes, before every reader has seen it */
        bool stale_ack_master;  /* an unreadable member's acknowledgement keeps the master however old it is */
        bool joiner_view;       /* the master ignores the view a joining member publishes */
        bool overlap_claims;    /* a claim block is rewritten while a timed-out write to it may still land */
        bool stale_collect;     /* takeovers are planned on a collect however long ago it completed */
        bool single_collect;    /* one pass over the claim blocks is taken for a snapshot */
        /* Not a fix switched off but a stress: every surviving host plans
         * takeovers as if it were master, so that restarts race and tie.
         * Claims alone must keep S1 then (DESIGN.md, "Claims"). */
        bool split_masters;
};

struct core_timing {
        uint32_t timeout_ms;
        uint32_t disk_interval_ms;      /* timeout/10: slot write, read, CPG ack period */
        uint32_t disk_timeout_ms;       /* timeout: a slot silent this long is not disk-alive */
        uint32_t watchdog_timeout_ms;   /* timeout */
        uint32_t settle_ms;             /* 2 x disk interval: the longest a verdict stays WAIT */
        uint32_t s2_margin_ms;          /* max(1000, watchdog/2); 0 only with unsafe.no_margin */
        uint32_t io_grace_ms;           /* disk interval: own I/O failing this long = disk lost */
        uint32_t token_ms;              /* suggested Corosync token, timeout/5 */
        uint32_t feed_bound_ms;         /* a feed rests on a write completed at most this long ago: margin/10 */
        uint32_t yield_gap_ms;          /* own slot still this long: peers may have counted it out (1.5 intervals) */
        struct core_unsafe_knobs unsafe;
};

/* Fills t from timeout_ms (0 means the default). Returns -ERANGE when the
 * value is outside [CORE_MIN_TIMEOUT_MS, CORE_MAX_TIMEOUT_MS]. */
int core_timing_init(struct core_timing *t, uint32_t timeout_ms);

/* Tests only: applies the knobs (no_margin sets the margin to 0). */
void core_timing_set_unsafe(struct core_timing *t, const struct core_unsafe_knobs *k);

/* When Corosync declares a host lost: after its token and then the
 * consensus (0: Corosync's default, 1.2 tokens). */
static inline uint64_t core_timing_detect_ms(uint32_t token_ms, uint32_t consensus_ms) {
        return (uint64_t)token_ms + (consensus_ms ? consensus_ms : (uint64_t)token_ms * 12 / 10);
}

/* The S2 wait: watchdog timeout plus margin. */
static inline uint64_t core_timing_s2_wait_ms(const struct core_timing *t) {
        return (uint64_t)t->watchdog_timeout_ms + t->s2_margin_ms;
}
