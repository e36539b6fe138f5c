/* Unit tests of the survival rule: when a slot advances, the yield of a
 * host whose slot stood still, the membership from before a gap and a
 * FENCING just read (DESIGN.md, "Rule 2 gives one winner"). */
#include "tests/unit/survival_fixture.h"

/* A new sequence number alone, same incarnation, is an advance: the slot
 * is alive; the same one read again is not. */
static void test_a_new_seq_of_the_same_incarnation_is_an_advance(void **state) {
        struct core_peer p;
        struct disk_slot s = { .host_id = 2, .state = DISK_SLOT_ALIVE, .incarnation = 77, .seq = 5 };

        (void)state;
        survival_peer_init(&p, 2, 0);
        survival_peer_observe_slot(&p, &s, 1000);
        assert_int_equal(p.advanced_ms, 1000);
        survival_peer_observe_slot(&p, &s, 2000);
        assert_int_equal(p.advanced_ms, 1000);          /* the same slot again */
        s.seq = 6;
        survival_peer_observe_slot(&p, &s, 3000);
        assert_int_equal(p.advanced_ms, 3000);          /* seq alone moved */
        s.incarnation = 78;
        survival_peer_observe_slot(&p, &s, 4000);
        assert_int_equal(p.advanced_ms, 4000);          /* a new incarnation, same seq */
}

/* ---- the yield of a host whose slot stood still ---- */

static void test_a_slot_that_stood_still_latches_the_yield(void **state) {
        struct fx f;
        struct survival_verdict v = { .kind = SURVIVAL_SURVIVE, .rule = SURVIVAL_RULE_1_QUORUM };
        struct disk_slot slot;

        fx_init(&f, 2, 1);
        survival_note_time(&f.in, NOW + f.t.yield_gap_ms);
        assert_false(f.in.self_yields);         /* an ordinary interval */
        survival_note_time(&f.in, NOW + f.t.yield_gap_ms + 1);
        assert_true(f.in.self_yields);
        survival_fill_slot(&f.in, false, NOW + f.t.yield_gap_ms + 1, &slot);
        assert_true(slot.flags & DISK_SLOT_YIELDS);
        /* A quorate verdict ends it only once the slot moves again. */
        survival_note_verdict(&f.in, &v, NOW + f.t.yield_gap_ms + 1);
        assert_true(f.in.self_yields);
        survival_observe_io(&f.in, SURVIVAL_IO_WRITE, true, NOW + f.t.yield_gap_ms + 2);
        survival_note_verdict(&f.in, &v, NOW + f.t.yield_gap_ms + 2);
        assert_false(f.in.self_yields);
}

/* After a gap, a quorate verdict on the membership from before clears no
 * yield, until Corosync gives a membership or every other member
 * acknowledges a message sent since the gap with this membership. */
static void test_a_quorum_from_before_the_gap_keeps_the_yield(void **state) {
        struct fx f;
        struct survival_verdict v = { .kind = SURVIVAL_SURVIVE, .rule = SURVIVAL_RULE_1_QUORUM };
        struct core_view all = VIEW(1, 2, 3);
        uint64_t later;

        fx_init(&f, 3, 1);
        later = NOW + f.t.yield_gap_ms + 2;
        f.in.self_yields = true;
        f.in.quorum_from_before = true;
        f.in.quorum_gap_ms = NOW;
        survival_observe_io(&f.in, SURVIVAL_IO_WRITE, true, later);
        survival_note_verdict(&f.in, &v, later);
        assert_true(f.in.self_yields);
        survival_peer_observe_ack_view(&f.peers[1], &all, NOW + 1);
        survival_peer_observe_ack_view(&f.peers[2], &all, NOW - 1);    /* echoes a message from before */
        survival_note_verdict(&f.in, &v, later);
        assert_true(f.in.self_yields);
        survival_peer_observe_ack_view(&f.peers[2], &all, NOW + 1);
        survival_note_verdict(&f.in, &v, later);
        assert_false(f.in.quorum_from_before);
        assert_false(f.in.self_yields);

        f.in.self_yields = true;
        f.in.quorum_from_before = true;
        f.in.quorum_gap_ms = NOW + 2;
        f.t.unsafe.stale_yield = true;
        survival_note_verdict(&f.in, &v, later);
        assert_false(f.in.self_yields);
}

static void test_a_late_slot_write_completion_latches_the_yield(void **state) {
        struct fx f;

        fx_init(&f, 2, 1);
        survival_observe_io(&f.in, SURVIVAL_IO_WRITE, true, NOW + f.t.disk_interval_ms);
        assert_false(f.in.self_yields);
        survival_observe_io(&f.in, SURVIVAL_IO_WRITE, true, NOW + f.t.disk_interval_ms + f.t.yield_gap_ms + 1);
        assert_true(f.in.self_yields);
}

static void test_a_yielding_host_loses_a_tie_it_would_win(void **state) {
        struct fx f;

        /* The stall of stall_then_split_yields: h1 wakes alone, h2 took the pool. */
        fx_init(&f, 2, 1);
        fx_members(&f, VIEW(1), false, NOW - 5000);
        fx_publish(&f, 2, VIEW(2));
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);   /* the tie, by the lower id */
        f.in.self_yields = true;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_FENCE);
        assert_string_equal(f.v.reason, "lost: no quorum, disk shows partition {2}, and {1} yields: its slot stood still");
        /* With no one else on the disk it survives all the same. */
        f.peers[1].advanced_ms = NOW - f.t.disk_timeout_ms - 1;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);
}

static void test_a_partition_that_yields_whole_does_not_compete(void **state) {
        struct fx f;

        fx_init(&f, 2, 2);
        fx_members(&f, VIEW(2), false, NOW - 5000);
        fx_publish(&f, 1, VIEW(1));
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_FENCE);     /* h1 wins the tie */
        f.peers[0].flags |= DISK_SLOT_YIELDS;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);
        assert_string_equal(f.v.reason, "survive: no quorum, no other partition on the disk, {2} wins");
}

/* Two partitions that both yield may each have skipped the other: a
 * yielding host counts a yielding partition on the disk and fences. */
static void test_a_yielding_host_counts_a_yielding_partition(void **state) {
        struct fx f;

        fx_init(&f, 2, 2);
        fx_members(&f, VIEW(2), false, NOW - 5000);
        fx_publish(&f, 1, VIEW(1));
        f.peers[0].flags |= DISK_SLOT_YIELDS;
        f.in.self_yields = true;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_FENCE);
        assert_string_equal(f.v.reason, "lost: no quorum, disk shows partition {1}, and {2} yields: its slot stood still");
        f.t.unsafe.mutual_yield = true;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);
}

static void test_a_partition_with_one_moving_slot_competes_as_before(void **state) {
        struct fx f;

        /* {1,4} against {2,3}: h1 yields, but h4's slot moves and speaks for
         * the partition, so readers decide as they did before the yield. */
        fx_init(&f, 4, 2);
        fx_members(&f, VIEW(2, 3), false, NOW - 5000);
        fx_publish(&f, 1, VIEW(1, 4));
        fx_publish(&f, 4, VIEW(1, 4));
        fx_publish(&f, 2, VIEW(2, 3));
        fx_publish(&f, 3, VIEW(2, 3));
        f.peers[0].flags |= DISK_SLOT_YIELDS;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_FENCE);
        assert_string_equal(f.v.reason, "lost: no quorum, disk shows partition {1,4} beats {2,3} (tie, lowest node id)");
}

static void test_unsafe_no_yield_knob_never_yields(void **state) {
        struct fx f;
        struct core_unsafe_knobs k = { .no_yield = true };

        fx_init(&f, 2, 1);
        core_timing_set_unsafe(&f.t, &k);
        survival_note_time(&f.in, NOW + 10 * f.t.yield_gap_ms);
        survival_observe_io(&f.in, SURVIVAL_IO_WRITE, true, NOW + 10 * f.t.yield_gap_ms);
        assert_false(f.in.self_yields);
}

/* After a gap, a survival by rule 2 on the membership from before waits
 * for Corosync; a loss stands. */
static void test_rule_2_on_a_membership_from_before_waits(void **state) {
        struct fx f;

        fx_init(&f, 3, 1);
        fx_members(&f, VIEW(1, 3), false, NOW - 5000);
        fx_publish(&f, 1, VIEW(1, 3));
        fx_publish(&f, 3, VIEW(1, 3));
        f.peers[1].advanced_ms = NOW - f.t.disk_timeout_ms - 1;         /* h2 is long gone */
        f.in.quorum_unconfirmed_until_ms = NOW + 1;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_WAIT);
        assert_int_equal(f.v.rule, SURVIVAL_RULE_2_DISK);
        assert_string_equal(f.v.reason, "wait: this host stood still; its membership {1,3} is from before, "
                                        "until Corosync confirms it");
        f.in.quorum_unconfirmed_until_ms = NOW;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);
        f.in.quorum_unconfirmed_until_ms = NOW + 1;
        f.t.unsafe.stale_partition = true;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);

        /* A loss is not held off: {2,3} beats {1}. */
        f.t.unsafe.stale_partition = false;
        fx_members(&f, VIEW(1), false, NOW - 5000);
        fx_publish(&f, 1, VIEW(1));
        fx_publish(&f, 2, VIEW(2, 3));
        fx_publish(&f, 3, VIEW(2, 3));
        f.peers[1].advanced_ms = NOW;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_FENCE);
}

/* {1} against the quorate {2,3}, and h3 has just written FENCING: without
 * it, {2} ties {1} and h1 would win by its lower id, but h2 has not read it
 * yet and may still lead {2,3}. h1 waits a settle window from its read. */
static void test_a_fencing_just_read_counts_only_after_a_settle_window(void **state) {
        struct fx f;

        fx_init(&f, 3, 1);
        fx_members(&f, VIEW(1), false, NOW - 5000);
        fx_publish(&f, 1, VIEW(1));
        fx_publish(&f, 2, VIEW(2, 3));
        fx_publish(&f, 3, VIEW(2, 3));
        f.peers[2].state = DISK_SLOT_FENCING;
        f.peers[2].fencing_seen = true;
        f.peers[2].fencing_seen_ms = NOW - f.t.settle_ms + 1;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_WAIT);
        assert_int_equal(f.v.rule, SURVIVAL_RULE_2_DISK);
        assert_string_equal(f.v.reason, "wait: partition {2,3} beats {1} until it reads the FENCING its members wrote");
        f.peers[2].fencing_seen_ms = NOW - f.t.settle_ms;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);
        assert_string_equal(f.v.reason, "survive: no quorum, disk shows partition {1} beats {2} (tie, lowest node id)");
        f.peers[2].fencing_seen_ms = NOW;
        f.t.unsafe.hasty_fencing = true;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);

        /* A host that loses anyway fences at once: h2 against {1} and h3. */
        f.t.unsafe.hasty_fencing = false;
        fx_init(&f, 3, 2);
        fx_members(&f, VIEW(2), false, NOW - 5000);
        fx_publish(&f, 1, VIEW(1, 3));
        fx_publish(&f, 2, VIEW(2));
        fx_publish(&f, 3, VIEW(1, 3));
        f.peers[2].state = DISK_SLOT_FENCING;
        f.peers[2].fencing_seen = true;
        f.peers[2].fencing_seen_ms = NOW;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_FENCE);
}

/* {1,3} | {2,4}: h1 still publishes {1,2,4}, but the JOINING h3 names h1
 * already. Seen from h2, h1's partition is {1,3}: a tie that h1 wins. */
static void test_a_partition_counts_every_slot_that_names_its_publisher(void **state) {
        struct fx f;

        fx_init(&f, 4, 2);
        fx_members(&f, VIEW(2, 4), false, NOW - 5000);
        fx_publish(&f, 1, VIEW(1, 2, 4));
        fx_publish(&f, 2, VIEW(2, 4));
        fx_publish(&f, 3, VIEW(1, 3));
        fx_publish(&f, 4, VIEW(2, 4));
        f.peers[2].state = DISK_SLOT_JOINING;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_FENCE);
        assert_string_equal(f.v.reason, "lost: no quorum, disk shows partition {1,3} beats {2,4} (tie, lowest node id)");
        f.t.unsafe.lone_publisher = true;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);
        assert_string_equal(f.v.reason, "survive: no quorum, disk shows partition {2,4} beats {1} (bigger)");
}

/* h1 and h2 boot into {1,2}, quorate, while h3 holds the pool by rule 2:
 * they wait until h3 has fenced, or its slot has been silent for a disk
 * timeout; not when a member's ALIVE slot advances (it is in the pool). */
static void test_a_quorate_joiner_waits_for_a_holder_to_fence(void **state) {
        struct fx f;

        fx_init(&f, 3, 1);
        fx_members(&f, VIEW(1, 2), true, NOW - 5000);
        f.in.joining = true;
        fx_publish(&f, 3, VIEW(3));
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_WAIT);
        assert_string_equal(f.v.reason, "joining: host 3 holds the pool without quorum; the quorate partition {1,2} "
                                        "takes it once that host has fenced");
        f.t.unsafe.quorate_join = true;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);
        f.t.unsafe.quorate_join = false;
        f.peers[2].state = DISK_SLOT_FENCING;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);
        assert_int_equal(f.v.rule, SURVIVAL_RULE_1_QUORUM);
        f.peers[2].state = DISK_SLOT_ALIVE;
        f.peers[2].advanced_ms = NOW - f.t.disk_timeout_ms - 1;        /* silent: no holder */
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);
        f.peers[2].advanced_ms = NOW;
        f.peers[1].advance_seen = true;        /* h2 is in the pool already: its partition holds it */
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);
}

/* The same, but h3's slot cannot be read: it may be the holder's. They
 * wait until their own slot has shown {1,2}, JOINING and quorate, for a
 * disk timeout and the S2 wait: a holder has fenced by then. */
static void test_a_quorate_joiner_waits_out_an_unreadable_slot(void **state) {
        struct fx f;
        struct disk_slot mine = { .host_id = 1, .state = DISK_SLOT_JOINING, .flags = DISK_SLOT_QUORATE };
        struct core_view both = VIEW(1, 2);
        uint64_t bound;

        fx_init(&f, 3, 1);
        fx_members(&f, both, true, NOW - 5000);
        f.in.joining = true;
        fx_publish(&f, 3, VIEW(3));
        survival_peer_observe_unknown(&f.peers[2], &f.t, "bad checksum");
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_WAIT);
        assert_string_equal(f.v.reason, "joining: host 3 has an unreadable slot (bad checksum) and may hold the pool "
                                        "without quorum; the quorate partition {1,2} takes it once that host must "
                                        "have fenced");
        f.t.unsafe.quorate_join = true;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);
        f.t.unsafe.quorate_join = false;
        memcpy(mine.view, both.bits, DISK_VIEW_BYTES);
        bound = f.t.disk_timeout_ms + core_timing_s2_wait_ms(&f.t);
        fx_show(&f, &mine, NOW - bound + 1);
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_WAIT);
        fx_show(&f, &mine, NOW - bound);  /* the same slot: it counts from the first */
        assert_int_equal(f.in.published_since_ms, NOW - bound + 1);
        f.in.published_since_ms = NOW - bound;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);
        /* A slot that shows no quorum, or another view, counts anew. */
        mine.flags = 0;
        fx_show(&f, &mine, NOW);
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_WAIT);
        mine.flags = DISK_SLOT_QUORATE;
        mine.view[0] = 0;
        fx_show(&f, &mine, NOW - bound);
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_WAIT);
}

/* {1,4} ties {2,3} and wins by the lowest node id, but h4 has just
 * joined and h1's slot has not named it for a settle window: h2 may have
 * decided a moment ago on h1 alone. h1 waits until it has. */
static void test_a_member_counts_once_the_disk_shows_it(void **state) {
        struct fx f;

        fx_init(&f, 4, 1);
        fx_members(&f, VIEW(1, 4), false, NOW - 5000);
        fx_publish(&f, 2, VIEW(2, 3));
        fx_publish(&f, 3, VIEW(2, 3));
        fx_publish(&f, 4, VIEW(4));
        f.peers[3].state = DISK_SLOT_JOINING;
        f.peers[3].shown_since_ms = NOW - f.t.settle_ms + 1;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_WAIT);
        assert_string_equal(f.v.reason, "wait: {1,4} beats {2,3} only with {4}, until the disk has shown "
                                        "{4} with this host for a settle window");
        f.t.unsafe.young_member = true;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);
        f.t.unsafe.young_member = false;
        f.peers[3].shown_since_ms = NOW - f.t.settle_ms;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);
        assert_string_equal(f.v.reason, "survive: no quorum, disk shows partition {1,4} beats {2,3} (tie, lowest node id)");
        /* A win without it does not wait. */
        f.peers[3].shown_since_ms = NOW;
        f.peers[2].state = DISK_SLOT_FENCING;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);
}

/* {2} ties {1} and wins by the tiebreak target, which h2 has just begun
 * to reach: h1 may have decided a moment ago on h2's flag from before and
 * won by the lowest node id. h2 waits until its slot has shown the flag
 * for a settle window; so it does for a flag of h1's that it has just read
 * change, and while its own slot does not read back what it published. */
static void test_a_tiebreak_flag_counts_once_the_disk_shows_it(void **state) {
        struct fx f;
        struct disk_slot s = { .host_id = 1, .state = DISK_SLOT_ALIVE, .incarnation = 7, .seq = 1,
                               .flags = DISK_SLOT_TIEBREAK_OK };

        fx_init(&f, 2, 2);
        fx_members(&f, VIEW(2), false, NOW - 5000);
        fx_publish(&f, 1, VIEW(1));
        f.peers[0].flags = 0;
        f.peers[1].flags = DISK_SLOT_TIEBREAK_OK;
        f.in.tiebreak_ok = f.in.published_tiebreak_ok = true;
        f.in.published_tiebreak_since_ms = NOW - f.t.settle_ms + 1;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_WAIT);
        assert_string_equal(f.v.reason, "wait: {2} beats {1} only by the tiebreak result host 2 published a moment "
                                        "ago, until the disk has shown it for a settle window");
        f.t.unsafe.young_tiebreak = true;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);
        f.t.unsafe.young_tiebreak = false;
        f.in.published_tiebreak_since_ms = NOW - f.t.settle_ms;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);
        assert_string_equal(f.v.reason,
                            "survive: no quorum, disk shows partition {2} beats {1} (tie, tiebreak target reachable)");

        /* Its own slot still reads back the flag from before. */
        f.peers[1].flags = 0;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_WAIT);
        /* A read back a moment ago. */
        f.peers[1].flags = DISK_SLOT_TIEBREAK_OK;
        f.peers[1].tiebreak_changed_ms = NOW - f.t.settle_ms + 1;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_WAIT);
        f.peers[1].tiebreak_changed_ms = NOW - f.t.settle_ms;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);
        /* A slot that reads back unreadable shows every reader a host that
         * may reach the target: the flag it published long ago stands. */
        f.peers[1].unknown = true;
        f.peers[1].flags = 0;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);
        f.peers[1].unknown = false;
        f.peers[1].flags = DISK_SLOT_TIEBREAK_OK;

        /* h1's flag read to change: young for a settle window. */
        survival_peer_init(&f.peers[0], 1, 0);
        survival_peer_observe_slot(&f.peers[0], &s, NOW - 5000);
        assert_int_equal(f.peers[0].tiebreak_changed_ms, 0);    /* the first read is no change */
        s.flags = 0;
        s.seq = 2;
        survival_peer_observe_slot(&f.peers[0], &s, NOW - f.t.settle_ms + 1);
        assert_int_equal(f.peers[0].tiebreak_changed_ms, NOW - f.t.settle_ms + 1);
        fx_publish(&f, 1, VIEW(1));
        f.peers[0].advanced_ms = NOW;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_WAIT);
        assert_string_equal(f.v.reason, "wait: {2} beats {1} only by the tiebreak result host 1 published a moment "
                                        "ago, until the disk has shown it for a settle window");
        s.seq = 3;
        survival_peer_observe_slot(&f.peers[0], &s, NOW);
        assert_int_equal(f.peers[0].tiebreak_changed_ms, NOW - f.t.settle_ms + 1);      /* unchanged */
        f.peers[0].tiebreak_changed_ms = NOW - f.t.settle_ms;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);

        /* A win that holds either way does not wait: h1 with the target
         * loses to {1}, whatever h1's flag was. */
        fx_init(&f, 2, 1);
        fx_members(&f, VIEW(1), false, NOW - 5000);
        fx_publish(&f, 2, VIEW(2));
        f.peers[0].flags = DISK_SLOT_TIEBREAK_OK;
        f.peers[1].flags = 0;
        f.peers[1].tiebreak_changed_ms = NOW;
        f.in.tiebreak_ok = f.in.published_tiebreak_ok = true;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);
}

/* A slot write that names a host starts its count; one that does not
 * ends it. */
static void test_a_slot_write_counts_who_it_names(void **state) {
        struct fx f;
        struct disk_slot w = { .host_id = 1, .state = DISK_SLOT_ALIVE };
        struct core_view v = VIEW(1, 2);

        fx_init(&f, 3, 1);
        memcpy(w.view, v.bits, DISK_VIEW_BYTES);
        fx_show(&f, &w, NOW);
        assert_int_equal(f.peers[1].shown_since_ms, 1);         /* named before: kept */
        assert_int_equal(f.peers[2].shown_since_ms, 0);
        v = VIEW(1, 2, 3);
        memcpy(w.view, v.bits, DISK_VIEW_BYTES);
        fx_show(&f, &w, NOW + 1);
        assert_int_equal(f.peers[2].shown_since_ms, NOW + 1);
        assert_int_equal(f.in.published_since_ms, NOW + 1);
        (void)state;
}

/* A member counts as shown only while this host's own slot reads back
 * naming it: an unreadable slot, or one that reads without it, shows
 * nobody, and the settle window starts again with the next write. */
static void test_a_member_is_shown_only_while_the_slot_reads_back(void **state) {
        struct fx f;
        struct disk_slot w = { .host_id = 1, .state = DISK_SLOT_ALIVE };
        struct core_view v = VIEW(1, 4);

        fx_init(&f, 4, 1);
        fx_members(&f, v, false, NOW - 5000);
        fx_publish(&f, 2, VIEW(2, 3));
        fx_publish(&f, 3, VIEW(2, 3));
        fx_publish(&f, 4, VIEW(1, 4));
        f.peers[3].state = DISK_SLOT_JOINING;
        survival_observe_own_readback(&f.in);
        assert_int_equal(f.peers[3].shown_since_ms, 1);         /* reads back with h4: kept */
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);
        survival_peer_observe_unknown(&f.peers[0], &f.t, "bad checksum");
        survival_observe_own_readback(&f.in);
        assert_int_equal(f.peers[3].shown_since_ms, 0);
        assert_int_equal(f.peers[0].shown_since_ms, 0);
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_WAIT);
        f.t.unsafe.young_member = true;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);
        f.t.unsafe.young_member = false;
        /* Read back again, the next write starts the window anew. */
        memcpy(w.view, v.bits, DISK_VIEW_BYTES);
        fx_show(&f, &w, NOW - f.t.settle_ms + 1);
        f.peers[0].unknown = false;
        survival_observe_own_readback(&f.in);
        assert_int_equal(f.peers[3].shown_since_ms, NOW - f.t.settle_ms + 1);
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_WAIT);
        /* A slot that reads back without h4 (an older write) shows
         * nobody with it either. */
        f.peers[3].shown_since_ms = NOW - f.t.settle_ms;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);
        f.peers[0].view = VIEW(1);
        survival_observe_own_readback(&f.in);
        assert_int_equal(f.peers[3].shown_since_ms, 0);
        assert_int_equal(f.peers[0].shown_since_ms, NOW - f.t.settle_ms + 1);
        (void)state;
}

/* A partition that has just become quorate waits while a host outside it
 * may hold the pool by rule 2, until its slot has shown the quorate view
 * for a settle window: that host reads it within the window and fences. */
static void test_a_new_quorum_waits_out_a_rule2_holder(void **state) {
        struct fx f;
        struct disk_slot w = { .host_id = 2, .state = DISK_SLOT_ALIVE, .flags = DISK_SLOT_QUORATE };
        struct core_view ours = VIEW(2, 3);

        fx_init(&f, 3, 2);
        fx_members(&f, ours, true, NOW - 5000);
        fx_publish(&f, 1, VIEW(1));
        memcpy(w.view, ours.bits, DISK_VIEW_BYTES);
        w.flags = 0;
        fx_show(&f, &w, NOW - 5000);     /* shown, but not as quorate */
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_WAIT);
        assert_string_equal(f.v.reason, "wait: host 1 may hold the pool without quorum; it fences once it reads "
                                        "this quorate partition {2,3}, which the disk is to show for a settle window");
        f.t.unsafe.hasty_quorum = true;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);
        f.t.unsafe.hasty_quorum = false;
        w.flags = DISK_SLOT_QUORATE;
        fx_show(&f, &w, NOW - f.t.settle_ms + 1);
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_WAIT);
        f.in.published_since_ms = NOW - f.t.settle_ms;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);
        /* A slot that reads back unreadable has shown nothing to anyone. */
        survival_peer_observe_unknown(&f.peers[1], &f.t, "bad checksum");
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_WAIT);
        fx_show(&f, &w, NOW - f.t.settle_ms);
        f.peers[1].unknown = false;
        /* Nobody to wait for: a quorate slot, or a stale one. */
        fx_show(&f, &w, NOW);
        f.in.published_since_ms = NOW;
        f.peers[0].flags = DISK_SLOT_QUORATE;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);
        f.peers[0].flags = 0;
        f.peers[0].advanced_ms = NOW - f.t.settle_ms - 1;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);
}

/* Seen from that holder: JOINING slots whose view is quorate compete, and
 * win; a lone JOINING host does not. */
static void test_a_holder_loses_to_joiners_with_a_quorate_view(void **state) {
        struct fx f;

        fx_init(&f, 3, 3);
        fx_members(&f, VIEW(3), false, NOW - 5000);
        fx_publish(&f, 1, VIEW(1, 2));
        fx_publish(&f, 2, VIEW(1, 2));
        fx_publish(&f, 3, VIEW(3));
        f.peers[0].state = f.peers[1].state = DISK_SLOT_JOINING;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_FENCE);
        assert_string_equal(f.v.reason, "lost: no quorum, disk shows partition {1,2} beats {3} (bigger)");
        fx_publish(&f, 1, VIEW(1));
        f.peers[1].advanced_ms = NOW - 10000;  /* h2 is dead */
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_a_new_seq_of_the_same_incarnation_is_an_advance),
                cmocka_unit_test(test_a_slot_that_stood_still_latches_the_yield),
                cmocka_unit_test(test_a_late_slot_write_completion_latches_the_yield),
                cmocka_unit_test(test_a_quorum_from_before_the_gap_keeps_the_yield),
                cmocka_unit_test(test_a_yielding_host_loses_a_tie_it_would_win),
                cmocka_unit_test(test_a_partition_that_yields_whole_does_not_compete),
                cmocka_unit_test(test_a_yielding_host_counts_a_yielding_partition),
                cmocka_unit_test(test_a_partition_with_one_moving_slot_competes_as_before),
                cmocka_unit_test(test_unsafe_no_yield_knob_never_yields),
                cmocka_unit_test(test_rule_2_on_a_membership_from_before_waits),
                cmocka_unit_test(test_a_fencing_just_read_counts_only_after_a_settle_window),
                cmocka_unit_test(test_a_partition_counts_every_slot_that_names_its_publisher),
                cmocka_unit_test(test_a_quorate_joiner_waits_for_a_holder_to_fence),
                cmocka_unit_test(test_a_quorate_joiner_waits_out_an_unreadable_slot),
                cmocka_unit_test(test_a_member_counts_once_the_disk_shows_it),
                cmocka_unit_test(test_a_tiebreak_flag_counts_once_the_disk_shows_it),
                cmocka_unit_test(test_a_slot_write_counts_who_it_names),
                cmocka_unit_test(test_a_member_is_shown_only_while_the_slot_reads_back),
                cmocka_unit_test(test_a_new_quorum_waits_out_a_rule2_holder),
                cmocka_unit_test(test_a_holder_loses_to_joiners_with_a_quorate_view),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
