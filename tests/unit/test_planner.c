/* Behaviour of the restart planner on small, hand-made pools: failures
 * tolerated, restart plans, evacuation plans and admission control. The
 * randomized comparisons against a brute-force oracle are in
 * test_planner_props.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planner/planner.h"

#define GIB 1024u

static struct plan_pool *pool_make(void) {
        struct plan_pool *p = NULL;
        assert_int_equal(plan_pool_new(&p), 0);
        return p;
}

static size_t host_add(struct plan_pool *p, const char *name, uint64_t mib, enum plan_host_state state) {
        size_t i;
        assert_int_equal(plan_pool_add_host(p, name, mib, state, &i), 0);
        return i;
}

static size_t vm_add(struct plan_pool *p, const char *name, uint64_t mib, const char *host,
                     enum plan_priority prio, int32_t order, bool agile) {
        struct plan_vm vm = PLAN_VM_INIT;
        vm.name = name;
        vm.memory_mib = mib;
        vm.priority = prio;
        vm.order = order;
        vm.agile = agile;
        if (host)
                assert_int_equal(plan_pool_find_host(p, host, &vm.host), 0);
        size_t i;
        assert_int_equal(plan_pool_add_vm(p, &vm, &i), 0);
        return i;
}

static size_t restart_vm(struct plan_pool *p, const char *name, uint64_t mib, const char *host) {
        return vm_add(p, name, mib, host, PLAN_PRIORITY_RESTART, 0, true);
}

static size_t host_of(const struct plan_pool *p, const char *name) {
        size_t i;
        assert_int_equal(plan_pool_find_host(p, name, &i), 0);
        return i;
}

static size_t vm_of(const struct plan_pool *p, const char *name) {
        size_t i;
        assert_int_equal(plan_pool_find_vm(p, name, &i), 0);
        return i;
}

static struct plan_ntol *ntol_of(const struct plan_pool *p) {
        struct plan_ntol *n = NULL;
        assert_int_equal(plan_failures_tolerated(p, NULL, &n), 0);
        return n;
}

/* Two hosts of 16 GiB, each running n restart VMs of 4 GiB. */
static struct plan_pool *two_hosts(unsigned per_host) {
        struct plan_pool *p = pool_make();
        host_add(p, "h1", 16 * GIB, PLAN_HOST_LIVE);
        host_add(p, "h2", 16 * GIB, PLAN_HOST_LIVE);
        char name[16];
        for (unsigned i = 0; i < 2 * per_host; i++) {
                snprintf(name, sizeof(name), "vm%u", i);
                restart_vm(p, name, 4 * GIB, i % 2 ? "h2" : "h1");
        }
        return p;
}

/* The instance first-fit, best-fit and worst-fit decreasing all fail on,
 * though it packs exactly: {4,4,3} {3,3,3} {4,3,3} into 11, 9, 10 GiB. */
static struct plan_pool *ffd_trap(void) {
        struct plan_pool *p = pool_make();
        host_add(p, "a", 30 * GIB, PLAN_HOST_LIVE);
        host_add(p, "b", 11 * GIB, PLAN_HOST_LIVE);
        host_add(p, "c", 9 * GIB, PLAN_HOST_LIVE);
        host_add(p, "d", 10 * GIB, PLAN_HOST_LIVE);
        const uint64_t sizes[] = { 4, 4, 4, 3, 3, 3, 3, 3, 3 };
        char name[16];
        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
                snprintf(name, sizeof(name), "t%zu", i);
                restart_vm(p, name, sizes[i] * GIB, "a");
        }
        return p;
}

/* ---- pool ---- */

static void test_pool_rejects_duplicate_names(void **state) {
        struct plan_pool *p = pool_make();
        host_add(p, "h1", GIB, PLAN_HOST_LIVE);
        assert_int_equal(plan_pool_add_host(p, "h1", GIB, PLAN_HOST_LIVE, NULL), -EEXIST);
        restart_vm(p, "v", GIB, "h1");
        struct plan_vm vm = PLAN_VM_INIT;
        vm.name = "v";
        assert_int_equal(plan_pool_add_vm(p, &vm, NULL), -EEXIST);
        vm.name = "w";
        vm.host = 7;
        assert_int_equal(plan_pool_add_vm(p, &vm, NULL), -EINVAL);
        plan_pool_free(p);
}

static void test_pool_compute_free_mib_counts_every_vm_whatever_its_priority(void **state) {
        struct plan_pool *p = pool_make();
        size_t h = host_add(p, "h1", 16 * GIB, PLAN_HOST_LIVE);
        restart_vm(p, "a", 2 * GIB, "h1");
        vm_add(p, "b", 3 * GIB, "h1", PLAN_PRIORITY_BEST_EFFORT, 0, true);
        vm_add(p, "c", 4 * GIB, "h1", PLAN_PRIORITY_NONE, 0, false);
        vm_add(p, "halted", 8 * GIB, NULL, PLAN_PRIORITY_RESTART, 0, true);
        assert_int_equal(plan_pool_host_free_mib(p, h), 7 * GIB);
        plan_pool_free(p);
}

static void test_pool_names_round_trip(void **state) {
        enum plan_priority pr;
        enum plan_host_state st;
        assert_int_equal(plan_priority_from_string("best-effort", &pr), 0);
        assert_int_equal(pr, PLAN_PRIORITY_BEST_EFFORT);
        assert_string_equal(plan_priority_to_string(PLAN_PRIORITY_RESTART), "restart");
        assert_int_equal(plan_priority_from_string("sometimes", &pr), -EINVAL);
        assert_int_equal(plan_host_state_from_string("maintenance", &st), 0);
        assert_int_equal(st, PLAN_HOST_MAINTENANCE);
        assert_int_equal(plan_host_state_from_string("asleep", &st), -EINVAL);
}

static void test_pool_dup_is_independent(void **state) {
        struct plan_pool *p = two_hosts(1), *q = NULL;
        plan_pool_set_target(p, 1);
        assert_int_equal(plan_pool_dup(p, &q), 0);
        assert_int_equal(plan_pool_set_vm_memory(q, 0, 1), 0);
        assert_int_equal(plan_pool_vm(p, 0)->memory_mib, 4 * GIB);
        assert_int_equal(plan_pool_target(q), 1);
        assert_int_equal(plan_pool_find_vm(q, "vm1", NULL), 0);
        plan_pool_free(p);
        plan_pool_free(q);
}

/* ---- failures tolerated ---- */

static void test_ntol_empty_pool_is_zero(void **state) {
        struct plan_pool *p = pool_make();
        struct plan_ntol *n = ntol_of(p);
        assert_int_equal(n->failures_tolerated, 0);
        assert_true(n->exact);
        assert_int_equal(n->n_uncovered, 0);
        plan_ntol_free(n);
        plan_pool_free(p);
}

static void test_ntol_two_identical_hosts_half_full_is_one(void **state) {
        struct plan_pool *p = two_hosts(2);     /* 8 of 16 GiB used on each */
        struct plan_ntol *n = ntol_of(p);
        assert_int_equal(n->failures_tolerated, 1);
        assert_true(n->exact);
        assert_int_equal(n->n_uncovered, 2);    /* both failing cannot be survived */
        plan_ntol_free(n);
        plan_pool_free(p);
}

static void test_ntol_two_identical_hosts_full_is_zero(void **state) {
        struct plan_pool *p = two_hosts(3);     /* 12 of 16 GiB used on each */
        struct plan_ntol *n = ntol_of(p);
        assert_int_equal(n->failures_tolerated, 0);
        assert_true(n->exact);
        assert_int_equal(n->n_uncovered, 1);
        plan_ntol_free(n);
        plan_pool_free(p);
}

static void test_ntol_without_restart_vms_every_host_may_fail(void **state) {
        struct plan_pool *p = pool_make();
        host_add(p, "h1", 16 * GIB, PLAN_HOST_LIVE);
        host_add(p, "h2", 16 * GIB, PLAN_HOST_LIVE);
        host_add(p, "h3", 16 * GIB, PLAN_HOST_LIVE);
        vm_add(p, "be", 15 * GIB, "h1", PLAN_PRIORITY_BEST_EFFORT, 0, true);
        vm_add(p, "no", 15 * GIB, "h2", PLAN_PRIORITY_NONE, 0, true);
        struct plan_ntol *n = ntol_of(p);
        assert_int_equal(n->failures_tolerated, 3);
        assert_true(n->exact);
        assert_int_equal(n->n_uncovered, 0);
        plan_ntol_free(n);
        plan_pool_free(p);
}

static void test_ntol_best_effort_vms_take_memory_from_survivors(void **state) {
        struct plan_pool *p = two_hosts(1);     /* 4 GiB restart VM on each */
        vm_add(p, "filler", 10 * GIB, "h2", PLAN_PRIORITY_BEST_EFFORT, 0, true);
        /* h2 has 2 GiB free: h1's 4 GiB VM has nowhere to go */
        struct plan_ntol *n = ntol_of(p);
        assert_int_equal(n->failures_tolerated, 0);
        assert_int_equal(n->n_uncovered, 1);
        assert_int_equal(n->uncovered[0], host_of(p, "h1"));
        plan_ntol_free(n);
        plan_pool_free(p);
}

static void test_ntol_non_agile_restart_vm_is_listed_and_left_out(void **state) {
        struct plan_pool *p = two_hosts(1);
        size_t pinned = vm_add(p, "pinned", 8 * GIB, "h1", PLAN_PRIORITY_RESTART, 0, false);
        /* h1 has 4 GiB free, h2 12: each takes the other's 4 GiB VM; pinned is ignored */
        struct plan_ntol *n = ntol_of(p);
        assert_int_equal(n->failures_tolerated, 1);
        assert_int_equal(n->n_non_agile, 1);
        assert_int_equal(n->non_agile[0], pinned);
        plan_ntol_free(n);
        plan_pool_free(p);
}

static void test_ntol_dead_host_is_neither_survivor_nor_candidate(void **state) {
        struct plan_pool *p = two_hosts(2);
        host_add(p, "dead", 64 * GIB, PLAN_HOST_DEAD);
        restart_vm(p, "ghost", 60 * GIB, "dead");
        struct plan_ntol *n = ntol_of(p);
        assert_int_equal(n->failures_tolerated, 1);     /* the dead host's room does not help */
        assert_int_equal(n->live_hosts, 2);
        plan_ntol_free(n);
        plan_pool_free(p);
}

static void test_ntol_maintenance_host_is_neither_survivor_nor_candidate(void **state) {
        struct plan_pool *p = two_hosts(3);
        host_add(p, "m", 64 * GIB, PLAN_HOST_MAINTENANCE);
        struct plan_ntol *n = ntol_of(p);
        assert_int_equal(n->failures_tolerated, 0);
        assert_int_equal(n->live_hosts, 2);
        plan_ntol_free(n);
        plan_pool_free(p);
}

static void test_ntol_ffd_fails_but_exact_packing_fits(void **state) {
        struct plan_pool *p = ffd_trap();
        struct plan_ntol *n = ntol_of(p);
        assert_int_equal(n->failures_tolerated, 1);
        assert_true(n->exact);
        assert_int_equal(n->upper_bound, 1);
        assert_true(n->stats.exact_runs >= 1);
        assert_int_equal(n->n_uncovered, 2);
        plan_ntol_free(n);
        plan_pool_free(p);
}

static void test_ntol_out_of_budget_is_an_inexact_lower_bound(void **state) {
        struct plan_pool *p = ffd_trap();
        struct plan_options o;
        plan_options_init(&o);
        o.pack_budget = 1;
        struct plan_ntol *n = NULL;
        assert_int_equal(plan_failures_tolerated(p, &o, &n), 0);
        assert_int_equal(n->failures_tolerated, 0);
        assert_false(n->exact);
        assert_int_equal(n->upper_bound, 1);    /* the sum condition allows one */
        assert_int_equal(n->n_uncovered, 0);
        assert_int_equal(n->n_undecided, 1);
        assert_int_equal(n->undecided[0], host_of(p, "a"));
        plan_ntol_free(n);
        plan_pool_free(p);
}

static void test_ntol_out_of_set_budget_stays_sound(void **state) {
        struct plan_pool *p = two_hosts(2);     /* ntol 1 */
        struct plan_options o;
        plan_options_init(&o);
        o.set_budget = 0;
        struct plan_ntol *n = NULL;
        assert_int_equal(plan_failures_tolerated(p, &o, &n), 0);
        assert_true(n->failures_tolerated <= 1);
        assert_true(n->exact || n->upper_bound >= 1);
        plan_ntol_free(n);
        plan_pool_free(p);
}

static void test_ntol_sum_condition_finds_worst_pair(void **state) {
        /* Four hosts of 32 GiB; h1 and h2 carry the most restart memory. */
        struct plan_pool *p = pool_make();
        host_add(p, "h1", 32 * GIB, PLAN_HOST_LIVE);
        host_add(p, "h2", 32 * GIB, PLAN_HOST_LIVE);
        host_add(p, "h3", 32 * GIB, PLAN_HOST_LIVE);
        host_add(p, "h4", 32 * GIB, PLAN_HOST_LIVE);
        restart_vm(p, "a", 16 * GIB, "h1");
        restart_vm(p, "b", 16 * GIB, "h2");
        restart_vm(p, "c", 8 * GIB, "h3");
        restart_vm(p, "d", 8 * GIB, "h4");
        vm_add(p, "e", 16 * GIB, "h3", PLAN_PRIORITY_NONE, 0, true);
        vm_add(p, "f", 16 * GIB, "h4", PLAN_PRIORITY_NONE, 0, true);
        /* {h1,h2}: 32 GiB to restart, 16 GiB free on h3+h4 */
        struct plan_ntol *n = ntol_of(p);
        assert_int_equal(n->failures_tolerated, 1);
        assert_int_equal(n->n_uncovered, 2);
        assert_int_equal(n->uncovered[0], host_of(p, "h1"));
        assert_int_equal(n->uncovered[1], host_of(p, "h2"));
        plan_ntol_free(n);
        plan_pool_free(p);
}

static void test_ntol_many_identical_hosts_uses_symmetry(void **state) {
        /* 40 hosts of 64 GiB, each with four 8 GiB restart VMs: r hosts
         * fail iff 32 r > 32 (40 - r), so ntol is 20. */
        struct plan_pool *p = pool_make();
        char name[32];
        for (unsigned h = 0; h < 40; h++) {
                snprintf(name, sizeof(name), "h%u", h);
                host_add(p, name, 64 * GIB, PLAN_HOST_LIVE);
        }
        for (unsigned v = 0; v < 160; v++) {
                char host[32];
                snprintf(name, sizeof(name), "v%u", v);
                snprintf(host, sizeof(host), "h%u", v % 40);
                restart_vm(p, name, 8 * GIB, host);
        }
        struct plan_ntol *n = ntol_of(p);
        assert_int_equal(n->failures_tolerated, 20);
        assert_true(n->exact);
        assert_true(n->stats.set_nodes < 1000);
        plan_ntol_free(n);
        plan_pool_free(p);
}

static void test_ntol_big_vm_needs_one_host_with_room(void **state) {
        /* 12 GiB free in total after h1 fails, but no single host has 10. */
        struct plan_pool *p = pool_make();
        host_add(p, "h1", 16 * GIB, PLAN_HOST_LIVE);
        host_add(p, "h2", 16 * GIB, PLAN_HOST_LIVE);
        host_add(p, "h3", 16 * GIB, PLAN_HOST_LIVE);
        restart_vm(p, "big", 10 * GIB, "h1");
        vm_add(p, "x", 10 * GIB, "h2", PLAN_PRIORITY_NONE, 0, true);
        vm_add(p, "y", 10 * GIB, "h3", PLAN_PRIORITY_NONE, 0, true);
        struct plan_ntol *n = ntol_of(p);
        assert_int_equal(n->failures_tolerated, 0);
        assert_true(n->exact);
        assert_int_equal(n->uncovered[0], host_of(p, "h1"));
        plan_ntol_free(n);
        plan_pool_free(p);
}

/* ---- restart plans ---- */

static struct plan_restart_plan *restart_plan(const struct plan_pool *p, const char *failed) {
        size_t f = host_of(p, failed);
        struct plan_restart_plan *plan = NULL;
        assert_int_equal(plan_restart_for_failure(p, &f, 1, NULL, &plan), 0);
        return plan;
}

static void test_restart_plan_follows_order_groups_then_best_effort(void **state) {
        struct plan_pool *p = pool_make();
        host_add(p, "h1", 64 * GIB, PLAN_HOST_LIVE);
        host_add(p, "h2", 64 * GIB, PLAN_HOST_LIVE);
        vm_add(p, "be", 8 * GIB, "h1", PLAN_PRIORITY_BEST_EFFORT, -5, true);
        vm_add(p, "late", 2 * GIB, "h1", PLAN_PRIORITY_RESTART, 2, true);
        vm_add(p, "first-small", 1 * GIB, "h1", PLAN_PRIORITY_RESTART, 0, true);
        vm_add(p, "first-big", 4 * GIB, "h1", PLAN_PRIORITY_RESTART, 0, true);
        vm_add(p, "middle", 2 * GIB, "h1", PLAN_PRIORITY_RESTART, 1, true);
        vm_add(p, "off", 2 * GIB, "h1", PLAN_PRIORITY_NONE, 0, true);
        struct plan_restart_plan *plan = restart_plan(p, "h1");
        const char *expect[] = { "first-big", "first-small", "middle", "late", "be" };
        assert_int_equal(plan->n_restarts, 5);
        for (size_t i = 0; i < 5; i++) {
                assert_string_equal(plan_pool_vm(p, plan->restarts[i].vm)->name, expect[i]);
                assert_int_equal(plan->restarts[i].host, host_of(p, "h2"));
        }
        assert_int_equal(plan->n_unplaced, 0);  /* "off" has priority none: not restarted, not listed */
        plan_restart_plan_free(plan);
        plan_pool_free(p);
}

static void test_restart_plan_lists_what_does_not_fit(void **state) {
        struct plan_pool *p = pool_make();
        host_add(p, "h1", 64 * GIB, PLAN_HOST_LIVE);
        host_add(p, "h2", 10 * GIB, PLAN_HOST_LIVE);
        vm_add(p, "a", 6 * GIB, "h1", PLAN_PRIORITY_RESTART, 0, true);
        vm_add(p, "b", 6 * GIB, "h1", PLAN_PRIORITY_RESTART, 1, true);
        vm_add(p, "c", 3 * GIB, "h1", PLAN_PRIORITY_BEST_EFFORT, 0, true);
        vm_add(p, "d", 8 * GIB, "h1", PLAN_PRIORITY_BEST_EFFORT, 0, true);
        struct plan_restart_plan *plan = restart_plan(p, "h1");
        assert_int_equal(plan->n_restarts, 2);
        assert_string_equal(plan_pool_vm(p, plan->restarts[0].vm)->name, "a");
        assert_string_equal(plan_pool_vm(p, plan->restarts[1].vm)->name, "c");
        assert_int_equal(plan->n_unplaced, 2);
        assert_string_equal(plan_pool_vm(p, plan->unplaced[0])->name, "b");
        assert_string_equal(plan_pool_vm(p, plan->unplaced[1])->name, "d");
        plan_restart_plan_free(plan);
        plan_pool_free(p);
}

static void test_restart_plan_earlier_order_group_wins_the_room(void **state) {
        /* The 8 GiB VM of order 1 alone would fit, but order 0 goes first. */
        struct plan_pool *p = pool_make();
        host_add(p, "h1", 64 * GIB, PLAN_HOST_LIVE);
        host_add(p, "h2", 8 * GIB, PLAN_HOST_LIVE);
        vm_add(p, "big", 8 * GIB, "h1", PLAN_PRIORITY_RESTART, 1, true);
        vm_add(p, "small", 2 * GIB, "h1", PLAN_PRIORITY_RESTART, 0, true);
        struct plan_restart_plan *plan = restart_plan(p, "h1");
        assert_int_equal(plan->n_restarts, 1);
        assert_string_equal(plan_pool_vm(p, plan->restarts[0].vm)->name, "small");
        assert_int_equal(plan->n_unplaced, 1);
        assert_string_equal(plan_pool_vm(p, plan->unplaced[0])->name, "big");
        plan_restart_plan_free(plan);
        plan_pool_free(p);
}

static void test_restart_plan_pinned_vm_is_unplaced(void **state) {
        struct plan_pool *p = two_hosts(1);
        vm_add(p, "pinned", GIB, "h1", PLAN_PRIORITY_RESTART, 0, false);
        struct plan_restart_plan *plan = restart_plan(p, "h1");
        assert_int_equal(plan->n_restarts, 1);
        assert_int_equal(plan->n_unplaced, 1);
        assert_string_equal(plan_pool_vm(p, plan->unplaced[0])->name, "pinned");
        plan_restart_plan_free(plan);
        plan_pool_free(p);
}

static void test_restart_plan_uses_exact_packing_when_greedy_fails(void **state) {
        struct plan_pool *p = ffd_trap();
        struct plan_restart_plan *plan = restart_plan(p, "a");
        assert_int_equal(plan->n_restarts, 9);
        assert_int_equal(plan->n_unplaced, 0);
        int64_t used[4] = { 0 };
        for (size_t i = 0; i < plan->n_restarts; i++)
                used[plan->restarts[i].host] += (int64_t)plan_pool_vm(p, plan->restarts[i].vm)->memory_mib;
        for (size_t h = 1; h < 4; h++)
                assert_true(used[h] <= plan_pool_host_free_mib(p, h));
        plan_restart_plan_free(plan);
        plan_pool_free(p);
}

static void test_restart_plan_never_uses_dead_or_failed_hosts(void **state) {
        struct plan_pool *p = two_hosts(1);
        host_add(p, "dead", 64 * GIB, PLAN_HOST_DEAD);
        host_add(p, "maint", 64 * GIB, PLAN_HOST_MAINTENANCE);
        size_t f[2] = { host_of(p, "h1"), host_of(p, "h2") };
        struct plan_restart_plan *plan = NULL;
        assert_int_equal(plan_restart_for_failure(p, f, 2, NULL, &plan), 0);
        assert_int_equal(plan->n_restarts, 0);
        assert_int_equal(plan->n_unplaced, 2);
        plan_restart_plan_free(plan);
        size_t bad = 99;
        assert_int_equal(plan_restart_for_failure(p, &bad, 1, NULL, &plan), -EINVAL);
        plan_pool_free(p);
}

/* ---- evacuation ---- */

/* Replays the migrations and checks that no step overcommits any host. */
static void check_evacuation(const struct plan_pool *p, size_t host, const struct plan_evacuation *ev) {
        size_t nh = plan_pool_n_hosts(p), nv = plan_pool_n_vms(p);
        int64_t *used = calloc(nh, sizeof(*used));
        size_t *at = calloc(nv, sizeof(*at));
        assert_non_null(used);
        assert_non_null(at);
        for (size_t i = 0; i < nv; i++) {
                at[i] = plan_pool_vm(p, i)->host;
                if (at[i] != PLAN_NO_HOST)
                        used[at[i]] += (int64_t)plan_pool_vm(p, i)->memory_mib;
        }
        for (size_t k = 0; k < ev->n_migrations; k++) {
                const struct plan_migration *m = &ev->migrations[k];
                const struct plan_vm *vm = plan_pool_vm(p, m->vm);
                assert_true(vm->agile);
                assert_int_equal(at[m->vm], m->from);
                assert_int_not_equal(m->to, host);
                assert_int_equal(plan_pool_host(p, m->to)->state, PLAN_HOST_LIVE);
                used[m->to] += (int64_t)vm->memory_mib;
                assert_true(used[m->to] <= (int64_t)plan_pool_host(p, m->to)->memory_mib);
                used[m->from] -= (int64_t)vm->memory_mib;
                at[m->vm] = m->to;
        }
        for (size_t i = 0; i < nv; i++) {
                bool listed = false;
                for (size_t k = 0; k < ev->n_unplaced; k++)
                        listed |= ev->unplaced[k] == i;
                assert_true(listed == (at[i] == host && host != PLAN_NO_HOST));
        }
        free(used);
        free(at);
}

static void test_evacuation_moves_every_vm_directly_when_room(void **state) {
        struct plan_pool *p = two_hosts(2);
        size_t h1 = host_of(p, "h1");
        struct plan_evacuation *ev = NULL;
        assert_int_equal(plan_evacuate_host(p, h1, NULL, &ev), 0);
        assert_int_equal(ev->n_migrations, 2);
        assert_int_equal(ev->n_unplaced, 0);
        check_evacuation(p, h1, ev);
        plan_evacuation_free(ev);
        plan_pool_free(p);
}

static void test_evacuation_first_moves_a_vm_to_make_room(void **state) {
        /* big (24 GiB) fits nowhere: a has 20 free, b has 20 free. Moving
         * "small" (8 GiB) from a to b first leaves 28 on a. */
        struct plan_pool *p = pool_make();
        host_add(p, "h", 64 * GIB, PLAN_HOST_LIVE);
        host_add(p, "a", 28 * GIB, PLAN_HOST_LIVE);
        host_add(p, "b", 20 * GIB, PLAN_HOST_LIVE);
        vm_add(p, "big", 24 * GIB, "h", PLAN_PRIORITY_RESTART, 0, true);
        vm_add(p, "small", 8 * GIB, "a", PLAN_PRIORITY_NONE, 0, true);
        size_t h = host_of(p, "h");
        struct plan_evacuation *ev = NULL;
        assert_int_equal(plan_evacuate_host(p, h, NULL, &ev), 0);
        assert_int_equal(ev->n_unplaced, 0);
        assert_int_equal(ev->n_migrations, 2);
        assert_int_equal(ev->migrations[0].vm, vm_of(p, "small"));
        assert_int_equal(ev->migrations[0].to, host_of(p, "b"));
        assert_int_equal(ev->migrations[1].vm, vm_of(p, "big"));
        assert_int_equal(ev->migrations[1].to, host_of(p, "a"));
        check_evacuation(p, h, ev);
        plan_evacuation_free(ev);
        plan_pool_free(p);
}

static void test_evacuation_lists_pinned_and_homeless_vms(void **state) {
        struct plan_pool *p = pool_make();
        host_add(p, "h", 64 * GIB, PLAN_HOST_LIVE);
        host_add(p, "a", 16 * GIB, PLAN_HOST_LIVE);
        host_add(p, "dead", 64 * GIB, PLAN_HOST_DEAD);
        vm_add(p, "pinned", 2 * GIB, "h", PLAN_PRIORITY_RESTART, 0, false);
        vm_add(p, "huge", 32 * GIB, "h", PLAN_PRIORITY_RESTART, 0, true);
        vm_add(p, "ok", 8 * GIB, "h", PLAN_PRIORITY_NONE, 0, true);
        size_t h = host_of(p, "h");
        struct plan_evacuation *ev = NULL;
        assert_int_equal(plan_evacuate_host(p, h, NULL, &ev), 0);
        assert_int_equal(ev->n_migrations, 1);
        assert_int_equal(ev->migrations[0].vm, vm_of(p, "ok"));
        assert_int_equal(ev->n_unplaced, 2);
        check_evacuation(p, h, ev);
        plan_evacuation_free(ev);
        plan_pool_free(p);
}

static void test_evacuation_never_overcommits_a_host_midway(void **state) {
        /* Many VMs into tight hosts: every step is replayed and checked. */
        struct plan_pool *p = pool_make();
        host_add(p, "h", 128 * GIB, PLAN_HOST_LIVE);
        host_add(p, "a", 50 * GIB, PLAN_HOST_LIVE);
        host_add(p, "b", 50 * GIB, PLAN_HOST_LIVE);
        host_add(p, "c", 50 * GIB, PLAN_HOST_LIVE);
        const uint64_t on_h[] = { 20, 14, 9, 7, 5, 3 };
        const uint64_t on_a[] = { 12, 10, 6 };
        const uint64_t on_b[] = { 16, 8 };
        const uint64_t on_c[] = { 18, 4, 2 };
        char name[16];
        for (size_t i = 0; i < 6; i++) {
                snprintf(name, sizeof(name), "h%zu", i);
                restart_vm(p, name, on_h[i] * GIB, "h");
        }
        for (size_t i = 0; i < 3; i++) {
                snprintf(name, sizeof(name), "a%zu", i);
                restart_vm(p, name, on_a[i] * GIB, "a");
                snprintf(name, sizeof(name), "c%zu", i);
                restart_vm(p, name, on_c[i] * GIB, "c");
        }
        for (size_t i = 0; i < 2; i++) {
                snprintf(name, sizeof(name), "b%zu", i);
                restart_vm(p, name, on_b[i] * GIB, "b");
        }
        size_t h = host_of(p, "h");
        struct plan_evacuation *ev = NULL;
        assert_int_equal(plan_evacuate_host(p, h, NULL, &ev), 0);
        assert_int_equal(ev->n_unplaced, 0);
        check_evacuation(p, h, ev);
        plan_evacuation_free(ev);
        plan_pool_free(p);
}

static void test_evacuating_a_dead_host_is_einval(void **state) {
        struct plan_pool *p = pool_make();
        size_t d = host_add(p, "d", GIB, PLAN_HOST_DEAD);
        struct plan_evacuation *ev = NULL;
        assert_int_equal(plan_evacuate_host(p, d, NULL, &ev), -EINVAL);
        assert_int_equal(plan_evacuate_host(p, 5, NULL, &ev), -EINVAL);
        plan_pool_free(p);
}

/* ---- admission control ---- */

/* Three hosts of 32 GiB; restart VMs a, b, c of 8 GiB on h1, h2, h3 and
 * unprotected VMs x, y, z of 8 GiB beside them: 16 GiB free on each host,
 * ntol 2 (any one host takes the 16 GiB of the other two). */
static struct plan_pool *admission_pool(int target, bool overcommit) {
        struct plan_pool *p = pool_make();
        host_add(p, "h1", 32 * GIB, PLAN_HOST_LIVE);
        host_add(p, "h2", 32 * GIB, PLAN_HOST_LIVE);
        host_add(p, "h3", 32 * GIB, PLAN_HOST_LIVE);
        restart_vm(p, "vm-a", 8 * GIB, "h1");
        restart_vm(p, "vm-b", 8 * GIB, "h2");
        restart_vm(p, "vm-c", 8 * GIB, "h3");
        vm_add(p, "vm-x", 8 * GIB, "h1", PLAN_PRIORITY_NONE, 0, true);
        vm_add(p, "vm-y", 8 * GIB, "h2", PLAN_PRIORITY_NONE, 0, true);
        vm_add(p, "vm-z", 8 * GIB, "h3", PLAN_PRIORITY_NONE, 0, true);
        vm_add(p, "vm-halted", 8 * GIB, NULL, PLAN_PRIORITY_RESTART, 0, true);
        assert_int_equal(plan_pool_set_target(p, target), 0);
        plan_pool_set_allow_overcommit(p, overcommit);
        return p;
}

static struct plan_admission *check(const struct plan_pool *p, struct plan_change c) {
        struct plan_admission *a = NULL;
        assert_int_equal(plan_check_change(p, &c, &a), 0);
        assert_non_null(a->reason);
        return a;
}

static void test_admission_refuses_protecting_a_vm_below_target_with_reason(void **state) {
        struct plan_pool *p = admission_pool(2, false);
        struct plan_admission *a = check(p, (struct plan_change){ .kind = PLAN_CHANGE_PROTECT_VM,
                                                                  .vm = vm_of(p, "vm-x") });
        assert_false(a->allowed);
        assert_int_equal(a->ntol_before, 2);
        assert_int_equal(a->ntol_after, 1);
        assert_non_null(strstr(a->reason, "protecting vm-x (8192 MiB) drops failures tolerated from 2 to 1, "
                                          "below the target 2; the failure of {h1,"));
        assert_non_null(strstr(a->reason, "unplaced"));
        plan_admission_free(a);
        plan_pool_free(p);
}

static void test_admission_allows_protecting_when_target_is_kept(void **state) {
        struct plan_pool *p = admission_pool(1, false);
        struct plan_admission *a = check(p, (struct plan_change){ .kind = PLAN_CHANGE_PROTECT_VM,
                                                                  .vm = vm_of(p, "vm-x") });
        assert_true(a->allowed);
        assert_false(a->overcommitted);
        assert_string_equal(a->reason, "protecting vm-x (8192 MiB) drops failures tolerated from 2 to 1 (target 1)");
        plan_admission_free(a);
        plan_pool_free(p);
}

static void test_admission_with_overcommit_allows_but_says_overcommitted(void **state) {
        struct plan_pool *p = admission_pool(2, true);
        struct plan_admission *a = check(p, (struct plan_change){ .kind = PLAN_CHANGE_PROTECT_VM,
                                                                  .vm = vm_of(p, "vm-x") });
        assert_true(a->allowed);
        assert_true(a->overcommitted);
        assert_non_null(strstr(a->reason, "the pool becomes overcommitted"));
        plan_admission_free(a);
        plan_pool_free(p);
}

static void test_admission_refuses_growing_a_vm_below_target(void **state) {
        struct plan_pool *p = admission_pool(2, false);
        struct plan_admission *a = check(p, (struct plan_change){ .kind = PLAN_CHANGE_GROW_VM,
                                                                  .vm = vm_of(p, "vm-b"),
                                                                  .memory_mib = 16 * GIB });
        assert_false(a->allowed);
        assert_int_equal(a->ntol_after, 1);
        assert_non_null(strstr(a->reason, "growing vm-b from 8192 to 16384 MiB drops failures tolerated from 2 to 1"));
        plan_admission_free(a);
        plan_pool_free(p);
}

static void test_admission_refuses_growing_past_the_host_memory(void **state) {
        struct plan_pool *p = admission_pool(PLAN_NO_TARGET, true);
        struct plan_admission *a = check(p, (struct plan_change){ .kind = PLAN_CHANGE_GROW_VM,
                                                                  .vm = vm_of(p, "vm-a"),
                                                                  .memory_mib = 40 * GIB });
        assert_false(a->allowed);
        assert_non_null(strstr(a->reason, "is impossible: h1 has 16384 MiB free"));
        plan_admission_free(a);
        plan_pool_free(p);
}

static void test_admission_starting_a_vm_counts_its_memory(void **state) {
        struct plan_pool *p = admission_pool(2, false);
        struct plan_admission *a = check(p, (struct plan_change){ .kind = PLAN_CHANGE_START_VM,
                                                                  .vm = vm_of(p, "vm-halted"),
                                                                  .host = host_of(p, "h2") });
        /* after: h2 carries 16 GiB of restart VMs and has 8 GiB free; when
         * h1 and h2 fail, 24 GiB of VMs meet 16 GiB free on h3 */
        assert_false(a->allowed);
        assert_int_equal(a->ntol_after, 1);
        assert_non_null(strstr(a->reason, "starting vm-halted (8192 MiB) on h2 drops"));
        plan_admission_free(a);

        struct plan_change running = { .kind = PLAN_CHANGE_START_VM, .vm = vm_of(p, "vm-a"), .host = 0 };
        assert_int_equal(plan_check_change(p, &running, &a), -EINVAL);
        plan_pool_free(p);
}

static void test_admission_refuses_maintenance_that_breaks_the_target(void **state) {
        struct plan_pool *p = admission_pool(2, false);
        struct plan_admission *a = check(p, (struct plan_change){ .kind = PLAN_CHANGE_HOST_MAINTENANCE,
                                                                  .host = host_of(p, "h3") });
        /* two live hosts left: at most 1 failure */
        assert_false(a->allowed);
        assert_true(a->ntol_after <= 1);
        assert_non_null(strstr(a->reason, "putting h3 into maintenance drops failures tolerated from 2 to "));
        plan_admission_free(a);
        plan_pool_free(p);
}

static void test_admission_refuses_maintenance_of_a_host_with_a_pinned_vm(void **state) {
        struct plan_pool *p = admission_pool(PLAN_NO_TARGET, true);
        vm_add(p, "stuck", GIB, "h2", PLAN_PRIORITY_NONE, 0, false);
        struct plan_admission *a = check(p, (struct plan_change){ .kind = PLAN_CHANGE_HOST_MAINTENANCE,
                                                                  .host = host_of(p, "h2") });
        assert_false(a->allowed);
        assert_non_null(strstr(a->reason, "stuck (pinned to the host)"));
        plan_admission_free(a);
        plan_pool_free(p);
}

static void test_admission_without_target_allows_everything_possible(void **state) {
        struct plan_pool *p = admission_pool(PLAN_NO_TARGET, false);
        struct plan_admission *a = check(p, (struct plan_change){ .kind = PLAN_CHANGE_PROTECT_VM,
                                                                  .vm = vm_of(p, "vm-x") });
        assert_true(a->allowed);
        assert_non_null(strstr(a->reason, "(no target set)"));
        plan_admission_free(a);
        plan_pool_free(p);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_pool_rejects_duplicate_names),
                cmocka_unit_test(test_pool_compute_free_mib_counts_every_vm_whatever_its_priority),
                cmocka_unit_test(test_pool_names_round_trip),
                cmocka_unit_test(test_pool_dup_is_independent),
                cmocka_unit_test(test_ntol_empty_pool_is_zero),
                cmocka_unit_test(test_ntol_two_identical_hosts_half_full_is_one),
                cmocka_unit_test(test_ntol_two_identical_hosts_full_is_zero),
                cmocka_unit_test(test_ntol_without_restart_vms_every_host_may_fail),
                cmocka_unit_test(test_ntol_best_effort_vms_take_memory_from_survivors),
                cmocka_unit_test(test_ntol_non_agile_restart_vm_is_listed_and_left_out),
                cmocka_unit_test(test_ntol_dead_host_is_neither_survivor_nor_candidate),
                cmocka_unit_test(test_ntol_maintenance_host_is_neither_survivor_nor_candidate),
                cmocka_unit_test(test_ntol_ffd_fails_but_exact_packing_fits),
                cmocka_unit_test(test_ntol_out_of_budget_is_an_inexact_lower_bound),
                cmocka_unit_test(test_ntol_out_of_set_budget_stays_sound),
                cmocka_unit_test(test_ntol_sum_condition_finds_worst_pair),
                cmocka_unit_test(test_ntol_many_identical_hosts_uses_symmetry),
                cmocka_unit_test(test_ntol_big_vm_needs_one_host_with_room),
                cmocka_unit_test(test_restart_plan_follows_order_groups_then_best_effort),
                cmocka_unit_test(test_restart_plan_lists_what_does_not_fit),
                cmocka_unit_test(test_restart_plan_earlier_order_group_wins_the_room),
                cmocka_unit_test(test_restart_plan_pinned_vm_is_unplaced),
                cmocka_unit_test(test_restart_plan_uses_exact_packing_when_greedy_fails),
                cmocka_unit_test(test_restart_plan_never_uses_dead_or_failed_hosts),
                cmocka_unit_test(test_evacuation_moves_every_vm_directly_when_room),
                cmocka_unit_test(test_evacuation_first_moves_a_vm_to_make_room),
                cmocka_unit_test(test_evacuation_lists_pinned_and_homeless_vms),
                cmocka_unit_test(test_evacuation_never_overcommits_a_host_midway),
                cmocka_unit_test(test_evacuating_a_dead_host_is_einval),
                cmocka_unit_test(test_admission_refuses_protecting_a_vm_below_target_with_reason),
                cmocka_unit_test(test_admission_allows_protecting_when_target_is_kept),
                cmocka_unit_test(test_admission_with_overcommit_allows_but_says_overcommitted),
                cmocka_unit_test(test_admission_refuses_growing_a_vm_below_target),
                cmocka_unit_test(test_admission_refuses_growing_past_the_host_memory),
                cmocka_unit_test(test_admission_starting_a_vm_counts_its_memory),
                cmocka_unit_test(test_admission_refuses_maintenance_that_breaks_the_target),
                cmocka_unit_test(test_admission_refuses_maintenance_of_a_host_with_a_pinned_vm),
                cmocka_unit_test(test_admission_without_target_allows_everything_possible),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
