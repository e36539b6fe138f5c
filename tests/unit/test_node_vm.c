/* The node engine's VM steps, one event at a time: a VM this host owns is
 * claimed, written, confirmed by a double collect and started; one that
 * dies here is restarted in place, each time after a longer back-off; the
 * claim write that outlasts its deadline holds every other write back.
 */
#include "tests/lib/node_fixture.h"

#include "core/hastate.h"

#define VM 77

/* HA state with one restart VM owned by this host. */
static struct hastate *one_vm(bool ha_enabled) {
        struct hastate *s = hastate_new();
        struct hastate_msg p = { .type = HASTATE_MSG_POOL_SETTINGS, .sender = 1 };
        struct hastate_msg m = { .type = HASTATE_MSG_VM_PROTECT, .sender = 1 };
        struct hastate_error err;

        p.u.pool.ha_enabled = ha_enabled;
        assert_int_equal(hastate_apply(s, &p, &err), 0);
        m.u.vm.id = VM;
        strcpy(m.u.vm.name, "vm-a");
        m.u.vm.priority = HASTATE_PRIORITY_RESTART;
        m.u.vm.memory_mib = 256;
        strcpy(m.u.vm.config, "/srv/vm-a.cfg");
        m.u.vm.owner = 1;
        m.u.vm.started = true;
        assert_non_null(s);
        assert_int_equal(hastate_apply(s, &m, &err), 0);
        return s;
}

static int setup_vm(void **state) {
        return setup_with(state, true, one_vm(true));
}

static int setup_ha_disabled(void **state) {
        return setup_with(state, true, one_vm(false));
}

static void running(struct fx *f, bool vm_runs) {
        static const uint64_t id = VM;
        struct node_event ev = { .type = NODE_EV_VMS_RUNNING };

        ev.u.vms.ids = &id;
        ev.u.vms.count = vm_runs ? 1 : 0;
        handle(f, &ev);
}

static void claims_written(struct fx *f, bool ok, bool in_flight, bool late) {
        struct node_event ev = { .type = NODE_EV_CLAIMS_WRITTEN };

        ev.u.claims_written = (struct node_claims_written){ .ok = ok, .in_flight = in_flight, .late = late,
                                                            .done_ms = f->now };
        handle(f, &ev);
}

/* A disk round, then the collect's two agreeing passes over `claims`. */
/* Every line the engine logged since the last clear_seen(). */
static char seen[16384];

static void clear_seen(void) {
        seen[0] = 0;
}

static void note_log(const struct fx *f) {
        size_t n;
        const struct node_action *a = node_actions(f->n, &n);
        for (size_t i = 0; i < n; i++)
                if (a[i].type == NODE_ACT_LOG && strlen(seen) + strlen(a[i].text) + 2 < sizeof(seen)) {
                        strcat(seen, a[i].text);
                        strcat(seen, "\n");
                }
}

static void round_and_collect(struct fx *f, const struct takeover_claim *claims, size_t n) {
        disk_round(f);
        note_log(f);
        claims_read(f, claims, n);
        note_log(f);
        claims_read(f, claims, n);
        note_log(f);
}

static void show_log(const struct fx *f) {
        fprintf(stderr, "# engine log:\n%s", seen);
}

/* From a collect that shows the last claim at seq, through its write and
 * the confirming collect: true when the engine started the VM. */
static bool restart_cycle(struct fx *f, uint64_t *seq) {
        struct takeover_claim c = { .host_id = 1, .vm_id = VM, .claim_seq = *seq };
        const struct node_action *w;

        slot_written(f, true, f->now);  /* a live host writes its slot every interval */
        note_log(f);
        round_and_collect(f, &c, *seq ? 1 : 0);
        w = find(f, NODE_ACT_WRITE_CLAIMS);
        if (!w)
                return false;
        assert_int_equal(w->n_claims, 1);
        assert_int_equal(w->claims[0].vm_id, VM);
        assert_int_equal(w->claims[0].claim_seq, *seq + 1);
        ++*seq;
        claims_written(f, true, false, false);
        assert_non_null(find(f, NODE_ACT_READ_CLAIMS));
        c.claim_seq = *seq;
        claims_read(f, &c, 1);
        claims_read(f, &c, 1);
        return find(f, NODE_ACT_START_VM) != NULL;
}

/* restart_cycle, which must start the VM; the engine's log if not. */
static void restarts(struct fx *f, uint64_t *seq) {
        clear_seen();
        if (!restart_cycle(f, seq)) {
                show_log(f);
                fail_msg("the VM did not start at %llu ms", (unsigned long long)f->now);
        }
}

static void test_an_owned_vm_starts_after_its_claim_is_confirmed(void **state) {
        struct fx *f = *state;
        uint64_t seq = 0;

        running(f, false);
        restarts(f, &seq);
        assert_int_equal(find(f, NODE_ACT_START_VM)->vm_id, VM);
        assert_true(logged(f, "start vm-a: claim seq 1 is the newest"));
}

/* A small world around the engine: the disk answers every claim write
 * and collect at once, a disk round comes every 500 ms and a tick every
 * 250 ms, and the VM dies right after each start. */
struct world {
        uint64_t seq;                   /* the VM's claim on the disk */
        uint64_t starts[16];
        size_t n_starts;
        bool dead;                      /* died since its last start: tell the engine */
};

static void serve(struct fx *f, struct world *w) {
        const struct node_action *a;

        note_log(f);
        if ((a = find(f, NODE_ACT_START_VM)) && w->n_starts < 16) {
                w->starts[w->n_starts++] = f->now;
                w->dead = true;
        }
        if ((a = find(f, NODE_ACT_WRITE_CLAIMS))) {
                w->seq = a->claims[0].claim_seq;
                claims_written(f, true, false, false);
                serve(f, w);
                return;
        }
        if (find(f, NODE_ACT_READ_CLAIMS)) {
                struct takeover_claim c = { .host_id = 1, .vm_id = VM, .claim_seq = w->seq };
                claims_read(f, &c, w->seq ? 1 : 0);
                serve(f, w);
        }
}

static void run_until(struct fx *f, struct world *w, uint64_t end) {
        /* The collect that the set-up's disk round asked for. */
        struct takeover_claim c = { .host_id = 1, .vm_id = VM, .claim_seq = w->seq };
        claims_read(f, &c, w->seq ? 1 : 0);
        serve(f, w);
        while (f->now < end) {
                f->now += 250;
                if (w->dead) {
                        running(f, false);
                        w->dead = false;
                }
                tick(f);
                note_log(f);
                if (f->now % 500 == 0) {
                        slot_written(f, true, f->now);
                        note_log(f);
                        disk_round(f);
                        serve(f, w);
                }
        }
}

static void test_a_vm_that_keeps_dying_here_is_restarted_after_a_growing_back_off(void **state) {
        struct fx *f = *state;
        struct world w = { 0 };
        uint64_t t0;

        running(f, false);
        clear_seen();
        run_until(f, &w, f->now + 20000);
        if (w.n_starts < 5) {
                show_log(f);
                fail_msg("%zu starts in 20 s", w.n_starts);
        }
        t0 = w.starts[0];
        /* Each restart waits 1, 2, 4, 8 s after the start before it,
         * give or take the 500 ms disk round that notices it may go. */
        for (size_t i = 1; i < 5; i++) {
                uint64_t gap = w.starts[i] - w.starts[i - 1], want = 1000ull << (i - 1);
                if (gap < want || gap > want + 500)
                        fail_msg("restart %zu came %llu ms after the start before it, not %llu", i,
                                 (unsigned long long)gap, (unsigned long long)want);
        }
        assert_non_null(strstr(seen, "vm-a: restart here held back"));
        assert_true(t0 > 0);
}

static void test_the_back_off_forgets_starts_older_than_its_window(void **state) {
        struct fx *f = *state;
        struct world w = { 0 };

        running(f, false);
        run_until(f, &w, f->now + 20000);
        assert_true(w.n_starts >= 5);
        /* It keeps running now, for more than the window. */
        w.dead = false;
        running(f, true);
        {
                static const uint64_t id = VM;
                struct node_event ev = { .type = NODE_EV_VMS_RUNNING };
                ev.u.vms.ids = &id;
                ev.u.vms.count = 1;
                uint64_t end = f->now + 11 * 60000;
                while (f->now < end) {
                        f->now += 250;
                        handle(f, &ev);
                        tick(f);
                        if (f->now % 500 == 0) {
                                slot_written(f, true, f->now);
                                disk_round(f);
                                serve(f, &w);
                        }
                }
        }
        /* Then it dies twice: one second between the two starts again. */
        w.n_starts = 0;
        w.dead = true;
        run_until(f, &w, f->now + 3000);
        assert_true(w.n_starts >= 2);
        assert_true(w.starts[1] - w.starts[0] <= 1500);
}

static void test_a_claim_write_past_its_deadline_holds_every_other_write_back(void **state) {
        struct fx *f = *state;
        struct takeover_claim c = { .host_id = 1, .vm_id = VM, .claim_seq = 1 };

        running(f, false);
        round_and_collect(f, NULL, 0);
        assert_non_null(find(f, NODE_ACT_WRITE_CLAIMS));
        claims_written(f, false, true, false);
        assert_true(logged(f, "outlasts its deadline"));
        for (int i = 0; i < 6; i++) {
                f->now += 500;
                round_and_collect(f, &c, 1);
                assert_null(find(f, NODE_ACT_WRITE_CLAIMS));
                assert_null(find(f, NODE_ACT_START_VM));
        }
        /* It landed after all: confirmed as usual. */
        claims_written(f, true, false, true);
        assert_non_null(find(f, NODE_ACT_READ_CLAIMS));
        claims_read(f, &c, 1);
        claims_read(f, &c, 1);
        assert_non_null(find(f, NODE_ACT_START_VM));
}

static void request(struct fx *f, bool started) {
        struct hastate_msg m = { .type = HASTATE_MSG_VM_REQUEST, .sender = 2 };
        struct hastate_error err;

        m.u.request.vm_id = VM;
        m.u.request.started = started;
        assert_int_equal(hastate_apply((struct hastate *)node_state(f->n), &m, &err), 0);
}

/* Time passes with the pool healthy and the VM running here or not;
 * returns how many stops the engine asked for meanwhile. */
static int pass_time(struct fx *f, uint64_t ms, bool vm_runs) {
        uint64_t end = f->now + ms;
        int stops = 0;

        while (f->now < end) {
                f->now += 250;
                running(f, vm_runs);
                stops += find(f, NODE_ACT_STOP_VM) != NULL;
                tick(f);
                if (f->now % 500 == 0) {
                        slot_written(f, true, f->now);
                        disk_round(f);
                        claims_read(f, NULL, 0);
                        claims_read(f, NULL, 0);
                        assert_null(find(f, NODE_ACT_WRITE_CLAIMS));
                }
        }
        return stops;
}

static void test_a_vm_requested_stopped_is_stopped_and_not_started(void **state) {
        struct fx *f = *state;
        uint64_t seq = 0;

        assert_int_equal(pass_time(f, 2000, true), 0);
        request(f, false);
        running(f, true);
        assert_non_null(find(f, NODE_ACT_STOP_VM));
        assert_int_equal(find(f, NODE_ACT_STOP_VM)->vm_id, VM);
        assert_true(logged(f, "stop vm-a: its requested state is stopped"));
        /* Asked once; again only while it still runs half a minute on. */
        assert_int_equal(pass_time(f, 29000, true), 0);
        assert_int_equal(pass_time(f, 1500, true), 1);
        /* Stopped: nothing starts it again. */
        assert_int_equal(pass_time(f, 5000, false), 0);
        request(f, true);
        f->now += 500;
        restarts(f, &seq);
}

static void test_a_stop_requested_while_a_claim_is_confirmed_aborts_the_start(void **state) {
        struct fx *f = *state;
        struct takeover_claim c = { .host_id = 1, .vm_id = VM, .claim_seq = 1 };

        running(f, false);
        round_and_collect(f, NULL, 0);
        assert_non_null(find(f, NODE_ACT_WRITE_CLAIMS));
        claims_written(f, true, false, false);
        request(f, false);
        claims_read(f, &c, 1);
        claims_read(f, &c, 1);
        assert_null(find(f, NODE_ACT_START_VM));
        assert_true(logged(f, "abort: stopped by request meanwhile"));
}

/* A master in maintenance places nothing on itself: the VM waits. */
static void test_a_master_in_maintenance_places_nothing_on_itself(void **state) {
        struct fx *f = *state;
        struct hastate_msg m = { .type = HASTATE_MSG_VM_OWNER, .sender = 2 };
        struct hastate_error err;
        uint64_t seq = 0;

        m.u.owner.vm_id = VM;
        m.u.owner.owner = 0;    /* not placed yet */
        assert_int_equal(hastate_apply((struct hastate *)node_state(f->n), &m, &err), 0);
        m = (struct hastate_msg){ .type = HASTATE_MSG_HOST_MAINTENANCE, .sender = 2 };
        m.u.maintenance.host_id = 1;
        m.u.maintenance.on = true;
        assert_int_equal(hastate_apply((struct hastate *)node_state(f->n), &m, &err), 0);
        running(f, false);
        clear_seen();
        for (int i = 0; i < 4; i++) {
                f->now += 500;
                assert_false(restart_cycle(f, &seq));
        }
        assert_non_null(strstr(seen, "this host, the master, is in maintenance and takes no VM"));
        m.u.maintenance.on = false;
        assert_int_equal(hastate_apply((struct hastate *)node_state(f->n), &m, &err), 0);
        f->now += 500;
        restarts(f, &seq);
}

static void test_with_ha_disabled_nothing_is_claimed_or_started(void **state) {
        struct fx *f = *state;
        uint64_t seq = 0;

        running(f, false);
        clear_seen();
        for (int i = 0; i < 4; i++) {
                f->now += 500;
                assert_false(restart_cycle(f, &seq));
        }
        assert_non_null(strstr(seen, "HA is disabled for the pool: no protected VM is started"));
        /* Said once, not at every round. */
        assert_null(strstr(strstr(seen, "HA is disabled") + 1, "HA is disabled"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_an_owned_vm_starts_after_its_claim_is_confirmed, setup_vm,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_a_vm_that_keeps_dying_here_is_restarted_after_a_growing_back_off,
                                                setup_vm, teardown),
                cmocka_unit_test_setup_teardown(test_the_back_off_forgets_starts_older_than_its_window, setup_vm,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_a_claim_write_past_its_deadline_holds_every_other_write_back,
                                                setup_vm, teardown),
                cmocka_unit_test_setup_teardown(test_a_vm_requested_stopped_is_stopped_and_not_started, setup_vm,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_a_stop_requested_while_a_claim_is_confirmed_aborts_the_start,
                                                setup_vm, teardown),
                cmocka_unit_test_setup_teardown(test_a_master_in_maintenance_places_nothing_on_itself, setup_vm,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_with_ha_disabled_nothing_is_claimed_or_started,
                                                setup_ha_disabled, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
