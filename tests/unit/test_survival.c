/* Unit tests of the pure safety core: survival rule, watchdog feeding, S2,
 * master choice, takeover planning and claim confirmation, timing. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/core_timing.h"
#include "core/s2.h"
#include "core/survival.h"
#include "core/takeover.h"

#include "tests/unit/survival_fixture.h"

/* ---- survival rule ---- */

static void test_quorate_host_with_disk_survives_by_rule_1(void **state) {
        struct fx f;

        fx_init(&f, 3, 2);
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);
        assert_int_equal(f.v.rule, SURVIVAL_RULE_1_QUORUM);
        assert_string_equal(f.v.reason, "survive: quorate partition {1,2,3} reaches the disk");
}

static void test_no_quorum_smaller_partition_fences(void **state) {
        struct fx f;

        fx_init(&f, 3, 3);
        fx_members(&f, VIEW(3), false, NOW - 5000);
        fx_publish(&f, 1, VIEW(1, 2));
        fx_publish(&f, 2, VIEW(1, 2));
        fx_publish(&f, 3, VIEW(3));
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_FENCE);
        assert_int_equal(f.v.rule, SURVIVAL_RULE_2_DISK);
        assert_string_equal(f.v.reason, "lost: no quorum, disk shows partition {1,2} beats {3} (bigger)");
}

static void test_no_quorum_bigger_partition_survives(void **state) {
        struct fx f;

        fx_init(&f, 4, 4);
        fx_members(&f, VIEW(2, 3, 4), false, NOW - 5000);       /* quorum off: rule 2 decides */
        fx_publish(&f, 1, VIEW(1));
        fx_publish(&f, 2, VIEW(2, 3, 4));
        fx_publish(&f, 3, VIEW(2, 3, 4));
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);
        assert_string_equal(f.v.reason, "survive: no quorum, disk shows partition {2,3,4} beats {1} (bigger)");
}

static void test_tie_goes_to_the_side_reaching_its_tiebreak_target(void **state) {
        struct fx f;

        fx_init(&f, 2, 2);
        fx_members(&f, VIEW(2), false, NOW - 5000);
        fx_publish(&f, 1, VIEW(1));
        fx_publish(&f, 2, VIEW(2));
        f.in.tiebreak_ok = f.in.published_tiebreak_ok = true;
        f.peers[1].flags = DISK_SLOT_TIEBREAK_OK;       /* and its slot reads back so */
        f.peers[0].flags = 0;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);
        assert_string_equal(f.v.reason,
                            "survive: no quorum, disk shows partition {2} beats {1} (tie, tiebreak target reachable)");

        /* And the other side, reading the same slots, loses. */
        fx_init(&f, 2, 1);
        fx_members(&f, VIEW(1), false, NOW - 5000);
        fx_publish(&f, 1, VIEW(1));
        fx_publish(&f, 2, VIEW(2));
        f.peers[1].flags = DISK_SLOT_TIEBREAK_OK;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_FENCE);
}

static void test_tie_without_tiebreak_goes_to_lowest_node_id(void **state) {
        struct fx f;

        fx_init(&f, 4, 3);
        fx_members(&f, VIEW(3, 4), false, NOW - 5000);
        fx_publish(&f, 1, VIEW(1, 2));
        fx_publish(&f, 2, VIEW(1, 2));
        fx_publish(&f, 3, VIEW(3, 4));
        fx_publish(&f, 4, VIEW(3, 4));
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_FENCE);
        assert_string_equal(f.v.reason, "lost: no quorum, disk shows partition {1,2} beats {3,4} (tie, lowest node id)");
}

static void test_fencing_hosts_are_not_competitors(void **state) {
        struct fx f;

        fx_init(&f, 3, 3);
        fx_members(&f, VIEW(3), false, NOW - 5000);
        fx_publish(&f, 1, VIEW(1, 2));
        fx_publish(&f, 2, VIEW(1, 2));
        f.peers[0].state = DISK_SLOT_FENCING;
        f.peers[1].state = DISK_SLOT_FENCING;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);
        assert_string_equal(f.v.reason, "survive: no quorum, no other partition on the disk, {3} wins");
}

/* {2,3} of 3 is quorate by votequorum, but host 3 wrote FENCING: host 2
 * decides as rule 2 does without it, and {1} wins the tie on its id. */
static void test_quorum_that_rests_on_a_fencing_member_decides_by_the_disk(void **state) {
        struct fx f;

        fx_init(&f, 3, 2);
        fx_members(&f, VIEW(2, 3), true, NOW - 5000);
        fx_publish(&f, 1, VIEW(1));
        fx_publish(&f, 2, VIEW(2, 3));
        fx_publish(&f, 3, VIEW(2, 3));
        f.peers[2].state = DISK_SLOT_FENCING;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_FENCE);
        assert_int_equal(f.v.rule, SURVIVAL_RULE_2_DISK);
        assert_non_null(strstr(f.v.reason, "quorate only with members that wrote FENCING"));

        /* With the fix switched off, rule 1 as before. */
        f.t.unsafe.fencing_quorum = true;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);
        assert_int_equal(f.v.rule, SURVIVAL_RULE_1_QUORUM);
        (void)state;
}

static void test_quorum_keeps_rule_1_while_the_rest_is_a_majority(void **state) {
        struct fx f;

        fx_init(&f, 4, 1);
        f.peers[3].state = DISK_SLOT_FENCING;   /* 3 of 4 left: still a majority */
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);
        assert_int_equal(f.v.rule, SURVIVAL_RULE_1_QUORUM);
        (void)state;
}

static void test_silent_slots_are_not_competitors(void **state) {
        struct fx f;

        fx_init(&f, 2, 2);
        fx_members(&f, VIEW(2), false, NOW - 10000);
        fx_publish(&f, 1, VIEW(1));
        f.peers[0].advanced_ms = NOW - f.t.disk_timeout_ms - 1;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);
}

static void test_unsettled_views_wait_within_the_settle_window(void **state) {
        struct fx f;

        fx_init(&f, 3, 3);
        fx_members(&f, VIEW(3), false, NOW - f.t.settle_ms + 10);
        /* hosts 1 and 2 still publish the old complete view */
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_WAIT);
        assert_true(survival_may_feed(&f.v, true));
        assert_false(survival_may_feed(&f.v, false));
}

static void test_unsettled_views_after_the_window_read_overlap_as_their_side(void **state) {
        struct fx f;

        /* After the window the overlapping views {1,2,3} count as {1,2}. */
        fx_init(&f, 3, 3);
        fx_members(&f, VIEW(3), false, NOW - f.t.settle_ms);
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_FENCE);
        assert_string_equal(f.v.reason, "lost: no quorum, disk shows partition {1,2} beats {3} (bigger)");
}

/* Churn: the membership changed a moment ago (as it does again and again),
 * but this host has been waiting since a settle window ago. WAIT ends. */
static void test_wait_is_bounded_from_its_first_wait_despite_churn(void **state) {
        struct fx f;

        fx_init(&f, 3, 3);
        fx_members(&f, VIEW(3), false, NOW - 10);
        f.in.wait_since_ms = NOW - f.t.settle_ms + 1;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_WAIT);
        f.in.wait_since_ms = NOW - f.t.settle_ms;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_FENCE);
        assert_string_equal(f.v.reason, "lost: no quorum, disk shows partition {1,2} beats {3} (bigger)");
}

static void test_stale_overlapping_publisher_is_ignored_after_the_window(void **state) {
        struct fx f;

        /* CE3's host 3: host 2 froze with view {2,3} and stopped writing. */
        fx_init(&f, 3, 3);
        fx_members(&f, VIEW(3), false, NOW - f.t.settle_ms);
        f.peers[0].state = DISK_SLOT_FENCING;
        fx_publish(&f, 2, VIEW(2, 3));
        f.peers[1].advanced_ms = NOW - f.t.settle_ms - 1;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);
}

static void test_disk_lost_with_complete_fresh_membership_survives_by_rule_4(void **state) {
        struct fx f;

        fx_init(&f, 3, 1);
        survival_observe_io(&f.in, SURVIVAL_IO_WRITE, false, NOW - f.t.io_grace_ms);
        decide(&f);
        assert_false(f.v.own_disk_ok);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);
        assert_int_equal(f.v.rule, SURVIVAL_RULE_4_NO_DISK);
        assert_true(f.v.feed_on_acks);
        assert_true(survival_may_feed(&f.v, false));
}

static void test_disk_failure_shorter_than_grace_keeps_the_disk(void **state) {
        struct fx f;

        fx_init(&f, 3, 1);
        survival_observe_io(&f.in, SURVIVAL_IO_READ, false, NOW - f.t.io_grace_ms + 1);
        survival_observe_io(&f.in, SURVIVAL_IO_READ, false, NOW);    /* still failing: same start */
        decide(&f);
        assert_true(f.v.own_disk_ok);
        assert_int_equal(f.v.rule, SURVIVAL_RULE_1_QUORUM);
        assert_false(survival_may_feed(&f.v, false));   /* no write completed: no feed */
}

static void test_a_resumed_host_that_has_not_retried_io_keeps_its_disk(void **state) {
        struct fx f;

        /* Frozen for 4 s: the last success is old, but nothing failed. */
        fx_init(&f, 3, 1);
        f.in.last_read_ok_ms = f.in.last_write_ok_ms = NOW - 4000;
        decide(&f);
        assert_true(f.v.own_disk_ok);
        survival_observe_io(&f.in, SURVIVAL_IO_WRITE, false, NOW - 600);
        decide(&f);
        assert_false(f.v.own_disk_ok);
        survival_observe_io(&f.in, SURVIVAL_IO_WRITE, true, NOW);
        decide(&f);
        assert_true(f.v.own_disk_ok);
}

static void test_disk_lost_with_a_stale_acknowledgement_stops_feeding(void **state) {
        struct fx f;

        /* CE2: a stale but complete view is not enough to feed the
         * watchdog; the host holds, unfed, until the acknowledgements come
         * back or the watchdog resets it. */
        fx_init(&f, 2, 1);
        survival_observe_io(&f.in, SURVIVAL_IO_READ, false, 0);
        f.peers[1].ack_ms = NOW - f.t.disk_interval_ms - 1;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);
        assert_int_equal(f.v.rule, SURVIVAL_RULE_4_NO_DISK);
        assert_false(f.v.feed_on_acks);
        assert_string_equal(f.v.reason, "holding: disk lost, host 2 has not acknowledged this host for 501 ms; "
                                        "the watchdog is not fed until it does");
        assert_false(survival_may_feed(&f.v, false));

        /* The acknowledgement comes back: feeding resumes. */
        survival_peer_observe_ack(&f.peers[1], NOW);
        decide(&f);
        assert_true(f.v.feed_on_acks);
        assert_true(survival_may_feed(&f.v, false));
}

static void test_unsafe_no_fresh_ack_knob_accepts_a_stale_view(void **state) {
        struct fx f;
        struct core_unsafe_knobs k = { .no_fresh_ack = true };

        fx_init(&f, 2, 1);
        core_timing_set_unsafe(&f.t, &k);
        survival_observe_io(&f.in, SURVIVAL_IO_READ, false, 0);
        f.peers[1].ack_ms = 0;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);
}

static void test_disk_lost_in_quorate_incomplete_partition_fences(void **state) {
        struct fx f;

        /* CE4's tempting refinement is not implemented. */
        fx_init(&f, 3, 1);
        fx_members(&f, VIEW(1, 3), true, NOW - 5000);
        survival_observe_io(&f.in, SURVIVAL_IO_READ, false, 0);
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_FENCE);
        assert_int_equal(f.v.rule, SURVIVAL_RULE_4_NO_DISK);
        assert_string_equal(f.v.reason, "lost: disk lost and membership {1,3} incomplete (missing {2})");
}

static void test_no_quorum_and_no_disk_fences_by_rule_3(void **state) {
        struct fx f;

        fx_init(&f, 3, 2);
        fx_members(&f, VIEW(2), false, NOW - 5000);
        survival_observe_io(&f.in, SURVIVAL_IO_READ, false, 0);
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_FENCE);
        assert_int_equal(f.v.rule, SURVIVAL_RULE_3_ISOLATED);
}

/* The joining watch counts from the first read of a run without failures:
 * a host whose reads failed since its start has watched nothing. */
static void test_joining_watch_counts_from_the_first_successful_read(void **state) {
        struct fx f;

        fx_init(&f, 2, 1);
        fx_members(&f, VIEW(1), false, NOW - 5000);
        f.peers[1].slot_seen = false;           /* no one else on the disk */
        f.in.joining = true;
        f.in.started_ms = NOW - 10 * f.t.disk_timeout_ms;
        survival_observe_io(&f.in, SURVIVAL_IO_READ, false, NOW - 100);
        survival_observe_io(&f.in, SURVIVAL_IO_READ, true, NOW - 50);
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_WAIT);
        assert_int_equal(f.v.rule, SURVIVAL_RULE_JOIN);
        survival_observe_io(&f.in, SURVIVAL_IO_READ, true, NOW);       /* a success goes on watching */
        assert_int_equal(f.in.reading_since_ms, NOW - 50);
        f.in.reading_since_ms = NOW - f.t.disk_timeout_ms;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);

        f.in.reading_since_ms = NOW - 50;
        f.t.unsafe.blind_watch = true;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);
}

/* A joining host without quorum never takes the pool from a partition that
 * holds it, even when it would win the comparison, and it watches the disk
 * for a whole timeout before it takes the pool from no one. */
static void test_joining_host_never_takes_the_pool_from_its_holder(void **state) {
        struct fx f;

        fx_init(&f, 2, 1);
        fx_members(&f, VIEW(1), false, NOW - 5000);
        fx_publish(&f, 2, VIEW(2));             /* a tie that host 1 would win by its id */
        f.in.joining = true;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_WAIT);
        assert_string_equal(f.v.reason, "joining: disk shows partition {2} holds the pool, waiting to join");

        f.peers[1].state = DISK_SLOT_JOINING;    /* both joining: the lower id may take it ... */
        f.in.started_ms = NOW - f.t.disk_timeout_ms + 1;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_WAIT);  /* ... after watching the disk for a timeout */
        f.in.started_ms = NOW - f.t.disk_timeout_ms;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);
}

/* Rule 2 decides on reads this host made a moment ago. */
static void test_rule_2_waits_for_a_fresh_read(void **state) {
        struct fx f;

        fx_init(&f, 3, 3);
        fx_members(&f, VIEW(3), false, NOW - 5000);
        fx_publish(&f, 1, VIEW(1, 2));
        fx_publish(&f, 2, VIEW(1, 2));
        survival_observe_io(&f.in, SURVIVAL_IO_READ, true, NOW - 2 * f.t.disk_interval_ms - 1);
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_WAIT);
        survival_observe_io(&f.in, SURVIVAL_IO_READ, true, NOW);
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_FENCE);
}

static void test_joining_host_waits_instead_of_fencing(void **state) {
        struct fx f;

        fx_init(&f, 3, 3);
        fx_members(&f, VIEW(3), false, NOW - 5000);
        fx_publish(&f, 1, VIEW(1, 2));
        fx_publish(&f, 2, VIEW(1, 2));
        f.in.joining = true;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_WAIT);
        assert_int_equal(f.v.rule, SURVIVAL_RULE_JOIN);
}

static void test_joining_hosts_are_not_competitors(void **state) {
        struct fx f;

        fx_init(&f, 2, 2);
        fx_members(&f, VIEW(2), false, NOW - 5000);
        fx_publish(&f, 1, VIEW(1));
        f.peers[0].state = DISK_SLOT_JOINING;
        decide(&f);
        assert_int_equal(f.v.kind, SURVIVAL_SURVIVE);
}

static void test_fence_never_feeds_and_write_feeds_survive(void **state) {
        struct survival_verdict v = { .kind = SURVIVAL_FENCE };

        assert_false(survival_may_feed(&v, true));
        v.kind = SURVIVAL_SURVIVE;
        v.rule = SURVIVAL_RULE_1_QUORUM;
        assert_true(survival_may_feed(&v, true));
        assert_false(survival_may_feed(&v, false));
}

static void test_self_not_configured_is_rejected(void **state) {
        struct fx f;

        fx_init(&f, 2, 2);
        f.in.self_id = 7;
        assert_int_equal(survival_decide(&f.in, NOW, &f.v), -EINVAL);
        assert_int_equal(f.v.kind, SURVIVAL_FENCE);
}

static void test_new_incarnation_clears_fencing_and_counts_as_advance(void **state) {
        struct core_peer p;
        struct disk_slot s = { .host_id = 2, .state = DISK_SLOT_FENCING, .incarnation = 1, .seq = 5 };

        survival_peer_init(&p, 2, 0);
        survival_peer_observe_slot(&p, &s, 1000);
        assert_true(p.fencing_seen);
        assert_int_equal(p.fencing_seen_ms, 1000);
        survival_peer_observe_slot(&p, &s, 2000);
        assert_int_equal(p.advanced_ms, 1000);          /* same seq: no advance */
        s.state = DISK_SLOT_JOINING;
        s.incarnation = 2;
        s.seq = 1;
        survival_peer_observe_slot(&p, &s, 3000);
        assert_false(p.fencing_seen);
        assert_int_equal(p.advanced_ms, 3000);
}

static void test_published_slot_carries_state_view_and_flags(void **state) {
        struct fx f;
        struct disk_slot slot = { 0 };

        fx_init(&f, 3, 2);
        f.in.tiebreak_ok = f.in.published_tiebreak_ok = true;
        f.in.ring_id = 9;
        survival_fill_slot(&f.in, false, NOW, &slot);
        assert_int_equal(slot.state, DISK_SLOT_ALIVE);
        assert_int_equal(slot.ring_id, 9);
        assert_int_equal(slot.flags, DISK_SLOT_QUORATE | DISK_SLOT_TIEBREAK_OK | DISK_SLOT_DISK_OK);
        assert_true(disk_view_test(slot.view, 1) && disk_view_test(slot.view, 3));
        f.in.joining = true;
        survival_fill_slot(&f.in, false, NOW, &slot);
        assert_int_equal(slot.state, DISK_SLOT_JOINING);
        survival_fill_slot(&f.in, true, NOW, &slot);
        assert_int_equal(slot.state, DISK_SLOT_FENCING);
}

/* ---- S2 ---- */

static void test_s2_never_allows_a_takeover_from_a_member(void **state) {
        struct fx f;
        uint64_t since;

        fx_init(&f, 2, 1);
        f.peers[1].advanced_ms = 0;
        assert_int_equal(fenced_since(&f.peers[1], &since), -EAGAIN);
        assert_false(s2_takeover_allowed(&f.t, &f.peers[1], NOW, NULL));
}

static void test_s2_waits_watchdog_plus_margin_from_the_later_event(void **state) {
        struct fx f;
        struct s2_result r;

        fx_init(&f, 2, 1);
        fx_members(&f, VIEW(1), false, 20000);          /* host 2 left at 20000 */
        f.peers[1].advanced_ms = 15000;                 /* silent since 15000 */
        assert_int_equal(core_timing_s2_wait_ms(&f.t), 7500);
        assert_false(s2_takeover_allowed(&f.t, &f.peers[1], 27499, &r));
        assert_int_equal(r.since_ms, 20000);
        assert_int_equal(r.ready_ms, 27500);
        assert_true(s2_takeover_allowed(&f.t, &f.peers[1], 27500, &r));

        /* Silence that starts after the departure counts from the silence. */
        f.peers[1].advanced_ms = 24000;
        assert_false(s2_takeover_allowed(&f.t, &f.peers[1], 31499, &r));
        assert_true(s2_takeover_allowed(&f.t, &f.peers[1], 31500, &r));
}

static void test_s2_fencing_confirmation_fixes_the_clock(void **state) {
        struct fx f;
        struct s2_result r;

        fx_init(&f, 2, 1);
        fx_members(&f, VIEW(1), false, 20000);
        f.peers[1].fencing_seen = true;
        f.peers[1].fencing_seen_ms = 21000;
        f.peers[1].advanced_ms = 26000;                 /* still writing FENCING */
        assert_true(s2_takeover_allowed(&f.t, &f.peers[1], 28500, &r));
        assert_string_equal(r.reason, "host 2 fenced: out of the membership since 20000 ms, confirmed FENCING "
                                      "since 21000 ms, waited 7500 ms");
}

static void test_s2_margin_is_never_zero_in_production(void **state) {
        struct core_timing t;

        assert_int_equal(core_timing_init(&t, 2000), 0);
        assert_int_equal(t.s2_margin_ms, 1000);
        assert_int_equal(core_timing_init(&t, 5000), 0);
        assert_int_equal(t.s2_margin_ms, 2500);
        assert_int_equal(t.disk_interval_ms, 500);
        assert_int_equal(t.settle_ms, 1000);
        assert_int_equal(t.watchdog_timeout_ms, 5000);
        assert_false(t.unsafe.no_margin || t.unsafe.no_fresh_ack || t.unsafe.no_claims);
        assert_int_equal(core_timing_init(&t, 0), 0);
        assert_int_equal(t.timeout_ms, 5000);
        assert_int_equal(core_timing_init(&t, 1999), -ERANGE);
}

/* ---- takeover ---- */

struct tk {
        struct fx f;
        struct takeover_claim claims[8];
        size_t n_claims;
        struct takeover_vm vms[4];
        struct takeover_inputs ti;
        struct takeover_action act[8];
        size_t n;
};

/* Host `self` of 3 survives as master-candidate; host 1 died long ago. */
static void tk_init(struct tk *k, unsigned self) {
        memset(k, 0, sizeof(*k));
        fx_init(&k->f, 3, self);
        fx_members(&k->f, VIEW(2, 3), true, 1000);
        k->f.peers[0].advanced_ms = 500;
        decide(&k->f);
        k->vms[0] = (struct takeover_vm){ .vm_id = 11, .replicated_owner = 1 };
        k->ti = (struct takeover_inputs){ .survival = &k->f.in, .verdict = &k->f.v, .claims = k->claims, .n_claims = 0,
                                          .vms = k->vms, .n_vms = 1 };
}

static int tk_plan(struct tk *k) {
        k->ti.n_claims = k->n_claims;
        return takeover_plan(&k->ti, NOW, k->act, 8, &k->n);
}

static void test_master_claims_vm_of_dead_owner_with_next_seq(void **state) {
        struct tk k;

        tk_init(&k, 2);
        k.claims[k.n_claims++] = (struct takeover_claim){ 1, 11, 4 };
        assert_int_equal(tk_plan(&k), 0);
        assert_int_equal(k.n, 1);
        assert_int_equal(k.act[0].kind, TAKEOVER_CLAIM);
        assert_int_equal(k.act[0].from_host, 1);
        assert_int_equal(k.act[0].claim_seq, 5);
}

static void test_non_master_takes_over_nothing(void **state) {
        struct tk k;

        tk_init(&k, 3);
        assert_int_equal(tk_plan(&k), 0);
        assert_int_equal(k.n, 0);
}

static void test_takeover_needs_a_fresh_disk_read(void **state) {
        struct tk k;

        tk_init(&k, 2);
        k.f.in.last_read_ok_ms = NOW - k.f.t.disk_interval_ms - 1;
        assert_int_equal(tk_plan(&k), -EAGAIN);
        assert_int_equal(k.n, 0);
}

static void test_takeover_needs_survive(void **state) {
        struct tk k;

        tk_init(&k, 2);
        k.f.v.kind = SURVIVAL_WAIT;
        assert_int_equal(tk_plan(&k), -EAGAIN);
}

static void test_takeover_checks_s2_against_the_recorded_owner_not_the_first_host(void **state) {
        struct tk k;

        /* CE3: host 1 (first host, long dead) lost v to host 3 by a claim;
         * host 3 is still in the membership: no takeover. */
        tk_init(&k, 2);
        k.claims[k.n_claims++] = (struct takeover_claim){ 1, 11, 1 };
        k.claims[k.n_claims++] = (struct takeover_claim){ 3, 11, 2 };
        assert_int_equal(tk_plan(&k), 0);
        assert_int_equal(k.n, 0);

        /* Host 3 left a moment ago and is silent: wait for S2. */
        fx_members(&k.f, VIEW(2), false, NOW - 100);
        k.f.peers[2].advanced_ms = NOW - 2000;
        k.f.v.kind = SURVIVAL_SURVIVE;
        assert_int_equal(tk_plan(&k), 0);
        assert_int_equal(k.n, 1);
        assert_int_equal(k.act[0].kind, TAKEOVER_WAIT);
        assert_int_equal(k.act[0].from_host, 3);
        assert_int_equal(k.act[0].ready_ms, NOW - 100 + 7500);
}

static void test_unsafe_no_claims_knob_checks_the_replicated_owner(void **state) {
        struct tk k;
        struct core_unsafe_knobs kn = { .no_claims = true };

        tk_init(&k, 2);
        core_timing_set_unsafe(&k.f.t, &kn);
        k.claims[k.n_claims++] = (struct takeover_claim){ 3, 11, 2 };
        assert_int_equal(tk_plan(&k), 0);
        assert_int_equal(k.n, 1);
        assert_int_equal(k.act[0].kind, TAKEOVER_START);
        assert_int_equal(k.act[0].from_host, 1);
}

static void test_any_survivor_restarts_its_own_vm_it_does_not_run(void **state) {
        struct tk k;

        tk_init(&k, 3);
        k.claims[k.n_claims++] = (struct takeover_claim){ 3, 11, 7 };
        assert_int_equal(tk_plan(&k), 0);
        assert_int_equal(k.n, 1);
        assert_int_equal(k.act[0].kind, TAKEOVER_CLAIM);
        assert_int_equal(k.act[0].from_host, 3);
        assert_int_equal(k.act[0].claim_seq, 8);
        k.vms[0].running_here = true;
        assert_int_equal(tk_plan(&k), 0);
        assert_int_equal(k.n, 0);
}

static void test_confirm_starts_only_when_no_other_claim_is_as_new(void **state) {
        struct tk k;
        char reason[TAKEOVER_REASON_MAX];

        tk_init(&k, 2);
        k.claims[k.n_claims++] = (struct takeover_claim){ 1, 11, 4 };
        k.claims[k.n_claims++] = (struct takeover_claim){ 2, 11, 5 };
        k.ti.n_claims = k.n_claims;
        assert_int_equal(takeover_confirm(&k.ti, NOW, 11, 5, reason, sizeof(reason)), 0);

        /* A concurrent claim with the same seq: nobody who sees it starts. */
        k.claims[k.n_claims++] = (struct takeover_claim){ 3, 11, 5 };
        k.ti.n_claims = k.n_claims;
        assert_int_equal(takeover_confirm(&k.ti, NOW, 11, 5, reason, sizeof(reason)), -EBUSY);
        assert_string_equal(reason, "abort vm 11: host 3 claims it with seq 5 >= 5");

        /* Own claim missing from the re-read: the write did not land. */
        k.ti.n_claims = 1;
        assert_int_equal(takeover_confirm(&k.ti, NOW, 11, 5, reason, sizeof(reason)), -ENOENT);
}

static void test_claims_owners_lists_every_host_at_the_top_seq(void **state) {
        struct takeover_claim c[] = { { 1, 11, 3 }, { 2, 11, 4 }, { 3, 11, 4 }, { 3, 12, 9 } };
        uint32_t owners[4];

        assert_int_equal(takeover_claims_max_seq(c, 4, 11), 4);
        assert_int_equal(takeover_claims_owners(c, 4, 11, owners, 4), 2);
        assert_int_equal(owners[0], 2);
        assert_int_equal(owners[1], 3);
        assert_int_equal(takeover_claims_owners(c, 4, 99, owners, 4), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_quorate_host_with_disk_survives_by_rule_1),
                cmocka_unit_test(test_no_quorum_smaller_partition_fences),
                cmocka_unit_test(test_no_quorum_bigger_partition_survives),
                cmocka_unit_test(test_tie_goes_to_the_side_reaching_its_tiebreak_target),
                cmocka_unit_test(test_tie_without_tiebreak_goes_to_lowest_node_id),
                cmocka_unit_test(test_fencing_hosts_are_not_competitors),
                cmocka_unit_test(test_quorum_that_rests_on_a_fencing_member_decides_by_the_disk),
                cmocka_unit_test(test_quorum_keeps_rule_1_while_the_rest_is_a_majority),
                cmocka_unit_test(test_silent_slots_are_not_competitors),
                cmocka_unit_test(test_unsettled_views_wait_within_the_settle_window),
                cmocka_unit_test(test_unsettled_views_after_the_window_read_overlap_as_their_side),
                cmocka_unit_test(test_wait_is_bounded_from_its_first_wait_despite_churn),
                cmocka_unit_test(test_stale_overlapping_publisher_is_ignored_after_the_window),
                cmocka_unit_test(test_disk_lost_with_complete_fresh_membership_survives_by_rule_4),
                cmocka_unit_test(test_disk_failure_shorter_than_grace_keeps_the_disk),
                cmocka_unit_test(test_a_resumed_host_that_has_not_retried_io_keeps_its_disk),
                cmocka_unit_test(test_disk_lost_with_a_stale_acknowledgement_stops_feeding),
                cmocka_unit_test(test_unsafe_no_fresh_ack_knob_accepts_a_stale_view),
                cmocka_unit_test(test_disk_lost_in_quorate_incomplete_partition_fences),
                cmocka_unit_test(test_no_quorum_and_no_disk_fences_by_rule_3),
                cmocka_unit_test(test_joining_host_waits_instead_of_fencing),
                cmocka_unit_test(test_joining_host_never_takes_the_pool_from_its_holder),
                cmocka_unit_test(test_joining_watch_counts_from_the_first_successful_read),
                cmocka_unit_test(test_rule_2_waits_for_a_fresh_read),
                cmocka_unit_test(test_joining_hosts_are_not_competitors),
                cmocka_unit_test(test_fence_never_feeds_and_write_feeds_survive),
                cmocka_unit_test(test_self_not_configured_is_rejected),
                cmocka_unit_test(test_new_incarnation_clears_fencing_and_counts_as_advance),
                cmocka_unit_test(test_published_slot_carries_state_view_and_flags),
                cmocka_unit_test(test_s2_never_allows_a_takeover_from_a_member),
                cmocka_unit_test(test_s2_waits_watchdog_plus_margin_from_the_later_event),
                cmocka_unit_test(test_s2_fencing_confirmation_fixes_the_clock),
                cmocka_unit_test(test_s2_margin_is_never_zero_in_production),
                cmocka_unit_test(test_master_claims_vm_of_dead_owner_with_next_seq),
                cmocka_unit_test(test_non_master_takes_over_nothing),
                cmocka_unit_test(test_takeover_needs_a_fresh_disk_read),
                cmocka_unit_test(test_takeover_needs_survive),
                cmocka_unit_test(test_takeover_checks_s2_against_the_recorded_owner_not_the_first_host),
                cmocka_unit_test(test_unsafe_no_claims_knob_checks_the_replicated_owner),
                cmocka_unit_test(test_any_survivor_restarts_its_own_vm_it_does_not_run),
                cmocka_unit_test(test_confirm_starts_only_when_no_other_claim_is_as_new),
                cmocka_unit_test(test_claims_owners_lists_every_host_at_the_top_seq),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
