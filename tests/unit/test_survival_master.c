/* Unit tests of the master role: which member leads a partition, and
 * when the role may change hands (DESIGN.md, "Rule 2 gives one winner"). */
#include "tests/unit/survival_fixture.h"

/* The master role changes hands only once every member that publishes on
 * the disk publishes this membership. */
static void test_master_waits_until_members_publish_the_membership(void **state) {
        struct fx f;

        fx_init(&f, 3, 3);
        for (int i = 0; i < 3; i++)
                f.peers[i].flags = DISK_SLOT_DISK_OK;
        fx_members(&f, VIEW(2, 3), true, NOW);
        fx_publish(&f, 2, VIEW(1, 2, 3));       /* host 2 has not written {2,3} yet */
        assert_int_equal(survival_master(&f.in, NOW), 0);
        fx_publish(&f, 2, VIEW(2, 3));
        assert_int_equal(survival_master(&f.in, NOW), 2);
}

/* A member whose slot cannot be read may still act on an older view: the
 * role changes hands only once its acknowledgement of a message sent since
 * the membership formed publishes this membership. */
static void test_master_waits_for_an_unreadable_member_to_acknowledge(void **state) {
        struct fx f;
        struct core_view v23 = VIEW(2, 3), v123 = VIEW(1, 2, 3);

        fx_init(&f, 3, 3);
        fx_members(&f, v23, true, NOW - 100);
        f.peers[1].unknown = true;
        assert_int_equal(survival_master(&f.in, NOW), 0);    /* no acknowledgement yet */
        survival_peer_observe_ack_view(&f.peers[1], &v23, NOW - 200);
        assert_int_equal(survival_master(&f.in, NOW), 0);    /* sent before the membership formed */
        survival_peer_observe_ack_view(&f.peers[1], &v123, NOW - 50);
        assert_int_equal(survival_master(&f.in, NOW), 0);    /* an older view */
        survival_peer_observe_ack_view(&f.peers[1], &v23, NOW - 40);
        assert_int_equal(survival_master(&f.in, NOW), 2);
        survival_peer_observe_ack_view(&f.peers[1], &v123, NOW - 60);
        assert_int_equal(survival_master(&f.in, NOW), 2);    /* an older echo says nothing new */

        f.peers[1].ack_view_seen = false;
        f.t.unsafe.unknown_master = true;
        assert_int_equal(survival_master(&f.in, NOW), 2);
}

/* An unreadable member's acknowledgement counts only while it is fresh: a
 * member cut off from this host stops acknowledging at once, but takes the
 * pool by the disk only a token and a settle window later. */
static void test_master_needs_a_fresh_acknowledgement_from_an_unreadable_member(void **state) {
        struct fx f;
        struct core_view v23 = VIEW(2, 3);
        uint64_t acked = NOW - 100;

        fx_init(&f, 3, 3);
        fx_members(&f, v23, true, NOW - 10000);
        f.peers[1].unknown = true;
        survival_peer_observe_ack_view(&f.peers[1], &v23, acked);
        assert_int_equal(survival_master(&f.in, NOW), 2);
        assert_int_equal(survival_master(&f.in, acked + f.t.settle_ms), 2);
        assert_int_equal(survival_master(&f.in, acked + f.t.settle_ms + 1), 0);

        f.t.unsafe.stale_ack_master = true;
        assert_int_equal(survival_master(&f.in, acked + 60000), 2);
}

/* A joining member may take the pool by the disk on the view it publishes
 * and lead it before its next write: the role changes hands only once it
 * publishes this membership too. */
static void test_master_waits_while_a_joining_member_publishes_another_view(void **state) {
        struct fx f;

        fx_init(&f, 2, 1);
        f.peers[1].state = DISK_SLOT_JOINING;
        fx_publish(&f, 2, VIEW(2));
        assert_int_equal(survival_master(&f.in, NOW), 0);
        fx_publish(&f, 2, VIEW(1, 2));
        assert_int_equal(survival_master(&f.in, NOW), 1);

        fx_publish(&f, 2, VIEW(2));
        f.t.unsafe.joiner_view = true;
        assert_int_equal(survival_master(&f.in, NOW), 1);
}

static void test_master_is_the_lowest_member_not_fencing(void **state) {
        struct fx f;

        fx_init(&f, 3, 3);
        assert_int_equal(survival_master(&f.in, NOW), 1);
        f.peers[0].state = DISK_SLOT_FENCING;
        assert_int_equal(survival_master(&f.in, NOW), 2);
        fx_members(&f, VIEW(3), false, NOW);
        assert_int_equal(survival_master(&f.in, NOW), 3);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_master_waits_until_members_publish_the_membership),
                cmocka_unit_test(test_master_waits_for_an_unreadable_member_to_acknowledge),
                cmocka_unit_test(test_master_needs_a_fresh_acknowledgement_from_an_unreadable_member),
                cmocka_unit_test(test_master_waits_while_a_joining_member_publishes_another_view),
                cmocka_unit_test(test_master_is_the_lowest_member_not_fencing),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
