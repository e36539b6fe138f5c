/* The node engine's event handling, one event at a time: what each event
 * makes the engine ask the shell to do (the fixture: tests/lib/node_fixture.h).
 */
#include "tests/lib/node_fixture.h"

static void test_feeds_on_a_fresh_write_with_a_deadline(void **state) {
        struct fx *f = *state;

        f->now += 500;
        slot_written(f, true, f->now - 10);
        const struct node_action *a = find(f, NODE_ACT_FEED);
        assert_non_null(a);
        assert_int_equal(a->deadline_ms, f->now - 10 + node_timing(f->n)->feed_bound_ms);
}

static void test_a_write_handled_late_feeds_nothing(void **state) {
        struct fx *f = *state;

        f->now += 500;
        slot_written(f, true, f->now - node_timing(f->n)->feed_bound_ms - 1);
        assert_null(find(f, NODE_ACT_FEED));
        assert_true(logged(f, "not feeding the watchdog"));
}

static void test_a_failed_write_feeds_nothing(void **state) {
        struct fx *f = *state;

        f->now += 500;
        slot_written(f, false, f->now);
        assert_null(find(f, NODE_ACT_FEED));
}

static void test_stale_feed_knob_feeds_late(void **state) {
        struct fx f = { 0 };
        struct node_config cfg = { .self_id = 1, .hosts = ids, .n_hosts = NH, .timeout_ms = 5000 };
        (void)state;

        cfg.unsafe.stale_feed = true;
        start(&f, &cfg, NULL);
        disk_round(&f);
        watchdog_result(&f, true);
        f.now += 5000;
        slot_written(&f, true, f.now - 4000);
        assert_non_null(find(&f, NODE_ACT_FEED));
        node_free(f.n);
}

static void test_poison_pill_fences_once_and_for_good(void **state) {
        struct fx *f = *state;
        size_t n;

        /* The inbox was read empty at start: a FENCE newer than that is an order. */
        f->now += 500;
        f->mbs[1].mb = (struct disk_mailbox){ .host_id = 1, .sender = 2, .command = DISK_MAILBOX_FENCE, .seq = 7 };
        snprintf(f->mbs[1].mb.reason, sizeof(f->mbs[1].mb.reason), "test");
        disk_round(f);
        assert_true(node_fencing(f->n));
        const struct node_action *fence = find(f, NODE_ACT_FENCE);
        assert_non_null(fence);
        assert_non_null(strstr(fence->text, "poison pill from beta"));
        assert_int_equal(fence->deadline_ms, f->now + 3 * node_timing(f->n)->disk_interval_ms);
        /* FENCING is queued for the disk before the fence itself. */
        const struct node_action *acts = node_actions(f->n, &n);
        size_t wi = n, fi = n;
        for (size_t i = 0; i < n; i++) {
                if (acts[i].type == NODE_ACT_WRITE_SLOT && acts[i].slot.state == DISK_SLOT_FENCING)
                        wi = i;
                if (acts[i].type == NODE_ACT_FENCE)
                        fi = i;
        }
        assert_true(wi < fi);

        /* Latched: no feed, no acknowledgement, no second fence. */
        f->now += 10;
        slot_written(f, true, f->now);
        assert_null(find(f, NODE_ACT_FEED));
        tick(f);
        assert_null(find(f, NODE_ACT_SEND));
        assert_null(find(f, NODE_ACT_FEED));
        f->mbs[1].mb.seq = 9;
        disk_round(f);
        assert_null(find(f, NODE_ACT_FENCE));
}

/* A FENCE already in the mailbox when this incarnation starts was meant for
 * an earlier one: emergency mode until cleared, not a fence. */
static void test_poison_pill_found_at_start_is_stale(void **state) {
        struct fx f = { 0 };
        struct node_config cfg = { .self_id = 1, .hosts = ids, .n_hosts = NH, .timeout_ms = 5000 };
        (void)state;

        start(&f, &cfg, NULL);
        f.mbs[1].mb = (struct disk_mailbox){ .host_id = 1, .sender = 2, .command = DISK_MAILBOX_FENCE, .seq = 4 };
        disk_round(&f);
        assert_false(node_fencing(f.n));
        assert_true(node_emergency_cause(f.n, EMERGENCY_MAILBOX_FENCE, NULL));
        node_free(f.n);
}

/* Emergency mode with the watchdog armed: no mastership, but the slot tells
 * the truth about the watchdog, so peers may still count the host's silence
 * as its death. */
static void test_emergency_gives_up_mastership_and_stays_armed(void **state) {
        struct fx *f = *state;
        struct node_event ev = { .type = NODE_EV_EMERGENCY };

        assert_int_equal(node_master(f->n), 1);
        ev.u.emergency.cause = EMERGENCY_FENCE_LOOP;
        ev.u.emergency.on = true;
        snprintf(ev.u.emergency.detail, sizeof(ev.u.emergency.detail), "3 fences");
        handle(f, &ev);
        const struct node_action *e = find(f, NODE_ACT_EMERGENCY);
        assert_non_null(e);
        assert_true(e->on);
        const struct node_action *w = find(f, NODE_ACT_WRITE_SLOT);
        assert_true(!w || w->slot.watchdog_timeout_ms == 5000);
        assert_int_equal(e->cause, EMERGENCY_FENCE_LOOP);
        assert_int_equal(node_master(f->n), 2);
        assert_true(node_in_emergency(f->n));

        ev.u.emergency.on = false;
        handle(f, &ev);
        assert_false(node_in_emergency(f->n));
        assert_int_equal(node_master(f->n), 1);
}

static void test_refused_watchdog_is_an_emergency(void **state) {
        struct fx f = { 0 };
        struct node_config cfg = { .self_id = 1, .hosts = ids, .n_hosts = NH, .timeout_ms = 5000 };
        (void)state;

        start(&f, &cfg, NULL);
        disk_round(&f);
        /* Not armed yet: published as a watchdog timeout of 0. */
        const struct node_action *w = find(&f, NODE_ACT_WRITE_SLOT);
        assert_non_null(w);
        assert_int_equal(w->slot.watchdog_timeout_ms, 0);
        watchdog_result(&f, false);
        const struct node_action *e = find(&f, NODE_ACT_EMERGENCY);
        assert_non_null(e);
        assert_int_equal(e->cause, EMERGENCY_WATCHDOG);
        assert_false(node_armed(f.n));
        assert_int_not_equal(node_master(f.n), 1);
        /* Unarmed: never fed, and asked to arm only once. */
        f.now += 500;
        slot_written(&f, true, f.now);
        assert_null(find(&f, NODE_ACT_FEED));
        disk_round(&f);
        assert_null(find(&f, NODE_ACT_ARM_WATCHDOG));
        node_free(f.n);
}

static void test_foreign_slot_is_unknown_and_an_emergency(void **state) {
        struct fx *f = *state;

        f->now += 500;
        f->slots[3].status = NODE_BLOCK_FOREIGN;
        snprintf(f->slots[3].why, sizeof(f->slots[3].why), "slot 3: belongs to cluster other");
        disk_round(f);
        const struct node_action *e = find(f, NODE_ACT_EMERGENCY);
        assert_non_null(e);
        assert_int_equal(e->cause, EMERGENCY_DISK_OTHER_CLUSTER);
        assert_true(node_inputs(f->n)->peers[2].unknown);
        f->slots[3].status = NODE_BLOCK_OK;
}

static void test_unreadable_slot_is_unknown_not_silent(void **state) {
        struct fx *f = *state;

        f->now += 500;
        f->slots[2].status = NODE_BLOCK_UNREADABLE;
        snprintf(f->slots[2].why, sizeof(f->slots[2].why), "slot 2: checksum mismatch");
        disk_round(f);
        assert_true(node_inputs(f->n)->peers[1].unknown);
        assert_null(find(f, NODE_ACT_EMERGENCY));
        f->slots[2].status = NODE_BLOCK_OK;
        f->now += 500;
        disk_round(f);
        assert_false(node_inputs(f->n)->peers[1].unknown);
}

static void test_suspend_beyond_the_margin_fences(void **state) {
        struct fx *f = *state;
        struct node_event ev = { .type = NODE_EV_CLOCK };

        ev.u.clock.jump_ms = node_timing(f->n)->s2_margin_ms;
        handle(f, &ev);
        assert_false(node_fencing(f->n));
        ev.u.clock.jump_ms = node_timing(f->n)->s2_margin_ms + 1;
        handle(f, &ev);
        assert_true(node_fencing(f->n));
        assert_non_null(find(f, NODE_ACT_FENCE));
}

/* An acknowledgement is dated by the send time of the message of this host
 * it echoes, never by when it arrived. */
static void test_ack_dated_by_the_echoed_message(void **state) {
        struct fx *f = *state;
        struct wire_ack a = { 0 };
        struct wire_header h = { .type = WIRE_ACK, .sender = 2, .seq = 1 };
        uint8_t buf[WIRE_HEADER_SIZE + WIRE_ACK_MAX_SIZE];
        struct node_event ev = { .type = NODE_EV_MESSAGE };
        uint64_t sent_at;

        f->now += 100;
        tick(f);                               /* this host's ack: its message seq */
        const struct node_action *s = find(f, NODE_ACT_SEND);
        assert_non_null(s);
        sent_at = f->now;
        uint64_t echoed = s->seq;

        f->now += 400;                          /* the peer answers 400 ms later */
        a.ring_id = 1;
        for (uint32_t j = 1; j <= NH; j++)
                disk_view_set(a.view, j);
        a.echo[a.n_echo++] = (struct wire_echo){ .host = 1, .seq = echoed };
        wire_header_encode(&h, buf);
        size_t len = WIRE_HEADER_SIZE + wire_ack_encode(&a, buf + WIRE_HEADER_SIZE);
        ev.u.message.from = 2;
        ev.u.message.data = buf;
        ev.u.message.len = len;
        handle(f, &ev);
        assert_true(node_inputs(f->n)->peers[1].ack_seen);
        assert_int_equal(node_inputs(f->n)->peers[1].ack_ms, sent_at);
        /* The membership it published, dated the same way (survival_master). */
        assert_true(node_inputs(f->n)->peers[1].ack_view_seen);
        assert_int_equal(node_inputs(f->n)->peers[1].ack_view_ms, sent_at);
        assert_memory_equal(node_inputs(f->n)->peers[1].ack_view.bits, a.view, DISK_VIEW_BYTES);

        /* An echo of a sequence this host never sent is no evidence. */
        f->now += 400;
        a.echo[0].seq = echoed + 1000;
        h.seq = 2;
        wire_header_encode(&h, buf);
        len = WIRE_HEADER_SIZE + wire_ack_encode(&a, buf + WIRE_HEADER_SIZE);
        ev.u.message.len = len;
        handle(f, &ev);
        assert_int_equal(node_inputs(f->n)->peers[1].ack_ms, sent_at);
}

/* An acknowledgement from host `from` (its message seq `seq`) that echoes
 * `echo` for host 1. */
static void ack_from(struct fx *f, uint32_t from, uint64_t seq, uint64_t echo) {
        static struct wire_ack a;
        static uint8_t buf[WIRE_HEADER_SIZE + WIRE_ACK_MAX_SIZE];
        struct wire_header h = { .type = WIRE_ACK, .sender = from, .seq = seq };
        struct node_event ev = { .type = NODE_EV_MESSAGE };

        memset(&a, 0, sizeof(a));
        a.ring_id = 1;
        for (uint32_t j = 1; j <= NH; j++)
                disk_view_set(a.view, j);
        a.echo[a.n_echo++] = (struct wire_echo){ .host = 1, .seq = echo };
        wire_header_encode(&h, buf);
        ev.u.message.from = from;
        ev.u.message.data = buf;
        ev.u.message.len = WIRE_HEADER_SIZE + wire_ack_encode(&a, buf + WIRE_HEADER_SIZE);
        handle(f, &ev);
}

/* A peer may still echo the last message of this host's previous
 * incarnation: numbered from a new base, this one never takes it for one
 * of its own. */
static void test_an_echo_of_the_previous_incarnation_is_no_evidence(void **state) {
        struct fx f;
        struct node_config cfg = { .self_id = 1, .hosts = ids, .host_names = names, .n_hosts = NH,
                                   .timeout_ms = 5000, .vm_memory_mib = 1024, .msg_seq_base = 7ull << 32 };
        const struct node_action *s;

        (void)state;
        memset(&f, 0, sizeof(f));
        start(&f, &cfg, NULL);
        f.now += 100;
        tick(&f);
        s = find(&f, NODE_ACT_SEND);
        assert_non_null(s);
        uint64_t mine = s->seq;
        assert_true(mine > 7ull << 32 && mine < (7ull << 32) + 64);
        f.now += 100;
        for (uint64_t old = 1; old <= 64; old++)        /* the old incarnation's messages */
                ack_from(&f, 2, old, old);
        assert_false(node_inputs(f.n)->peers[1].ack_seen);
        ack_from(&f, 2, 65, mine);
        assert_true(node_inputs(f.n)->peers[1].ack_seen);
        node_free(f.n);
}

/* What a host sent before it left is never echoed to it after it is back. */
static void test_a_host_that_left_is_not_echoed_its_old_sequence(void **state) {
        struct fx *f = *state;
        const uint32_t two[2] = { 1, 3 };
        const struct node_action *s;
        static struct wire_ack a;

        ack_from(f, 2, 41, 0);
        f->now += 100;
        tick(f);
        s = find(f, NODE_ACT_SEND);
        assert_non_null(s);
        assert_int_equal(wire_ack_decode((const uint8_t *)s->data + WIRE_HEADER_SIZE, s->len - WIRE_HEADER_SIZE, &a), 0);
        assert_int_equal(wire_ack_echo_for(&a, 2), 41);
        membership(f, 2, two, 2);
        membership(f, 3, ids, NH);
        f->now += 100;
        tick(f);
        s = find(f, NODE_ACT_SEND);
        assert_non_null(s);
        assert_int_equal(wire_ack_decode((const uint8_t *)s->data + WIRE_HEADER_SIZE, s->len - WIRE_HEADER_SIZE, &a), 0);
        assert_int_equal(wire_ack_echo_for(&a, 2), 0);
}

/* A gap in the events longer than a token (a freeze): the quorate
 * membership from before is no quorum until corosync speaks again. */
static void test_a_gap_past_a_token_makes_the_old_quorum_wait(void **state) {
        struct fx *f = *state;

        f->now += node_timing(f->n)->token_ms + 1;
        tick(f);
        assert_int_equal(node_verdict(f->n)->kind, SURVIVAL_WAIT);
        assert_true(logged(f, "counts for nothing until corosync confirms it"));
        membership(f, 2, ids, NH);
        assert_int_equal(node_verdict(f->n)->kind, SURVIVAL_SURVIVE);
        /* Without a membership it ends by itself, four tokens on. */
        f->now += node_timing(f->n)->token_ms + 1;
        tick(f);
        assert_int_equal(node_verdict(f->n)->kind, SURVIVAL_WAIT);
        for (uint64_t end = f->now + 4ull * node_timing(f->n)->token_ms; f->now < end;) {
                assert_int_equal(node_verdict(f->n)->kind, SURVIVAL_WAIT);
                f->now += 100;
                tick(f);
        }
        assert_int_equal(node_verdict(f->n)->kind, SURVIVAL_SURVIVE);
}

/* The ring this host knew, told again after the gap (Corosync stood still
 * too and has not noticed the token it lost), confirms nothing: only a new
 * ring does. Knob same-ring takes it as confirmation. */
static void test_the_old_ring_told_again_confirms_nothing(void **state) {
        struct fx *f = *state, g = { 0 };
        struct node_config cfg = { .self_id = 1, .hosts = ids, .n_hosts = NH, .timeout_ms = 5000 };

        f->now += node_timing(f->n)->token_ms + 1;
        tick(f);
        membership(f, 1, ids, NH);
        assert_int_equal(node_verdict(f->n)->kind, SURVIVAL_WAIT);
        membership(f, 2, ids, NH);
        assert_int_equal(node_verdict(f->n)->kind, SURVIVAL_SURVIVE);

        cfg.unsafe.same_ring = true;
        start(&g, &cfg, NULL);
        disk_round(&g);
        watchdog_result(&g, true);
        g.now += node_timing(g.n)->token_ms + 1;
        tick(&g);
        assert_int_equal(node_verdict(g.n)->kind, SURVIVAL_WAIT);
        membership(&g, 1, ids, NH);
        assert_int_equal(node_verdict(g.n)->kind, SURVIVAL_SURVIVE);
        node_free(g.n);
}

/* Two passes of the double collect agree on what the claims say, whatever
 * bytes their padding holds: a third pass would only delay the takeover. */
static void test_two_collects_agree_on_the_fields_not_the_padding(void **state) {
        struct fx *f = *state;
        struct takeover_claim a[2], b[2];

        memset(a, 0x00, sizeof(a));
        memset(b, 0xa5, sizeof(b));
        for (int i = 0; i < 2; i++) {
                a[i].host_id = b[i].host_id = 2 + (uint32_t)i;
                a[i].vm_id = b[i].vm_id = 7;
                a[i].claim_seq = b[i].claim_seq = 3 + (uint64_t)i;
        }
        claims_read(f, a, 2);
        assert_non_null(find(f, NODE_ACT_READ_CLAIMS));        /* the first pass asks for a second */
        claims_read(f, b, 2);
        assert_null(find(f, NODE_ACT_READ_CLAIMS));
        claims_read(f, a, 2);
        assert_non_null(find(f, NODE_ACT_READ_CLAIMS));
        b[1].claim_seq++;                                       /* a write landed in between */
        claims_read(f, b, 2);
        assert_non_null(find(f, NODE_ACT_READ_CLAIMS));
}

static void test_a_gap_shorter_than_a_token_changes_nothing(void **state) {
        struct fx *f = *state;

        f->now += node_timing(f->n)->token_ms;
        tick(f);
        assert_int_equal(node_verdict(f->n)->kind, SURVIVAL_SURVIVE);
}

/* The gap counts against the token corosync runs with, not timeout/5: a
 * longer token tolerates a longer gap, and its four tokens bound the wait. */
static void test_a_gap_counts_against_corosyncs_token(void **state) {
        struct fx *f = *state;
        uint32_t suggested = node_timing(f->n)->token_ms, token = 2 * suggested;

        node_set_token(f->n, 0);
        assert_int_equal(node_timing(f->n)->token_ms, suggested);
        node_set_token(f->n, token);
        assert_int_equal(node_timing(f->n)->token_ms, token);
        f->now += suggested + 1;
        tick(f);
        assert_int_equal(node_verdict(f->n)->kind, SURVIVAL_SURVIVE);
        f->now += token + 1;
        tick(f);
        assert_int_equal(node_verdict(f->n)->kind, SURVIVAL_WAIT);
        for (uint64_t end = f->now + 4ull * suggested + 100; f->now < end;) {
                assert_int_equal(node_verdict(f->n)->kind, SURVIVAL_WAIT);
                f->now += 100;
                tick(f);
        }
}

/* Corosync sees a lost host after token + consensus; 1.2 tokens when the
 * consensus is not set. At the timeout 2 s, 400 ms is within it, 1000 is not. */
static void test_detection_is_token_plus_consensus(void **state) {
        (void)state;
        assert_int_equal(core_timing_detect_ms(400, 0), 880);
        assert_int_equal(core_timing_detect_ms(800, 0), 1760);
        assert_int_equal(core_timing_detect_ms(800, 2000), 2800);
        assert_true(core_timing_detect_ms(1000, 0) >= 2000);
}

static void test_garbled_message_changes_nothing(void **state) {
        struct fx *f = *state;
        uint8_t junk[7] = { 1, 2, 3, 4, 5, 6, 7 };
        struct node_event ev = { .type = NODE_EV_MESSAGE };
        uint64_t gen = node_state(f->n)->generation;

        ev.u.message.from = 2;
        ev.u.message.data = junk;
        ev.u.message.len = sizeof(junk);
        handle(f, &ev);
        assert_true(logged(f, "garbled"));
        assert_int_equal(node_state(f->n)->generation, gen);
        assert_int_equal(count(f, NODE_ACT_SEND), 0);
}

/* Membership churn restarts the settle window again and again; the run
 * of WAIT still ends a settle window after it began. */
static void test_wait_ends_a_settle_window_after_it_began(void **state) {
        struct fx *f = *state;
        static const uint32_t me[1] = { 1 };
        uint64_t start, ring = 2;

        f->now += 500;
        membership(f, ring++, me, 1);
        quorum(f, false);
        assert_int_equal(node_verdict(f->n)->kind, SURVIVAL_WAIT);
        start = f->now;
        while (f->now < start + node_timing(f->n)->settle_ms - 300) {
                f->now += 300;
                membership(f, ring++, me, 1);
                disk_round(f);
                assert_int_equal(node_verdict(f->n)->kind, SURVIVAL_WAIT);
        }
        f->now += 400;
        membership(f, ring++, me, 1);
        disk_round(f);
        assert_int_equal(node_verdict(f->n)->kind, SURVIVAL_FENCE);
}

static void test_host_names_in_log_lines(void **state) {
        struct fx *f = *state;
        char buf[NODE_NAME_MAX];

        assert_string_equal(node_host_name(f->n, 3, buf), "gamma");
        assert_string_equal(node_host_name(f->n, 9, buf), "host 9");
}

static void test_corosync_lost_counts_alone_and_sends_nothing(void **state) {
        struct fx *f = *state;
        struct node_event ev = { .type = NODE_EV_COROSYNC_LOST };

        handle(f, &ev);
        assert_false(node_inputs(f->n)->quorate);
        assert_non_null(find(f, NODE_ACT_EMERGENCY));
        tick(f);
        assert_null(find(f, NODE_ACT_SEND));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_feeds_on_a_fresh_write_with_a_deadline, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_write_handled_late_feeds_nothing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_failed_write_feeds_nothing, setup, teardown),
                cmocka_unit_test(test_stale_feed_knob_feeds_late),
                cmocka_unit_test_setup_teardown(test_poison_pill_fences_once_and_for_good, setup, teardown),
                cmocka_unit_test(test_poison_pill_found_at_start_is_stale),
                cmocka_unit_test_setup_teardown(test_emergency_gives_up_mastership_and_stays_armed, setup, teardown),
                cmocka_unit_test(test_refused_watchdog_is_an_emergency),
                cmocka_unit_test_setup_teardown(test_foreign_slot_is_unknown_and_an_emergency, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unreadable_slot_is_unknown_not_silent, setup, teardown),
                cmocka_unit_test_setup_teardown(test_suspend_beyond_the_margin_fences, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ack_dated_by_the_echoed_message, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_gap_past_a_token_makes_the_old_quorum_wait, setup, teardown),
                cmocka_unit_test_setup_teardown(test_the_old_ring_told_again_confirms_nothing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_two_collects_agree_on_the_fields_not_the_padding, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_gap_shorter_than_a_token_changes_nothing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_gap_counts_against_corosyncs_token, setup, teardown),
                cmocka_unit_test(test_detection_is_token_plus_consensus),
                cmocka_unit_test(test_an_echo_of_the_previous_incarnation_is_no_evidence),
                cmocka_unit_test_setup_teardown(test_a_host_that_left_is_not_echoed_its_old_sequence, setup, teardown),
                cmocka_unit_test_setup_teardown(test_garbled_message_changes_nothing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_wait_ends_a_settle_window_after_it_began, setup, teardown),
                cmocka_unit_test_setup_teardown(test_host_names_in_log_lines, setup, teardown),
                cmocka_unit_test_setup_teardown(test_corosync_lost_counts_alone_and_sends_nothing, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
