/* The planner's time budget: plan_options.expired, the caller's question
 * "is time up?", asked by failures tolerated, admission control and the
 * exact packer they share. The planner reads no clock, so neither do these
 * tests: the callbacks count the questions and answer "yes" at a chosen
 * one, and every bound is on counts.
 *
 *  - out of time at once, or at any later question, the answer is a lower
 *    bound marked inexact, never above the exact answer;
 *  - the question comes at least once every PLAN_EXPIRED_POLL_NODES nodes,
 *    in the failure-set search and inside one long exact packing; after a
 *    "yes" it is not asked again and not one node more is searched;
 *  - a deadline that never expires changes no result, whatever the count
 *    budgets;
 *  - admission control cut short refuses what it would allow, and says why.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planner/pack.h"
#include "planner/planner.h"
#include "tests/lib/rng.h"

#define GIB 1024u

/* The callback: counts its calls, says "expired" from call expire_at on
 * (0: never). */
struct asker {
        uint64_t calls;
        uint64_t expire_at;
};

static bool asker_expired(void *arg) {
        struct asker *a = arg;
        a->calls++;
        return a->expire_at != 0 && a->calls >= a->expire_at;
}

static struct plan_options options_asking(struct asker *a) {
        struct plan_options o;
        plan_options_init(&o);
        o.expired = asker_expired;
        o.expired_arg = a;
        return o;
}

static struct plan_ntol *ntol_with(const struct plan_pool *p, const struct plan_options *o) {
        struct plan_ntol *n = NULL;
        assert_int_equal(plan_failures_tolerated(p, o, &n), 0);
        return n;
}

static uint64_t nodes_of(const struct plan_ntol *n) {
        return n->stats.set_nodes + n->stats.pack_nodes;
}

/* ---- pools ---- */

static size_t host_add(struct plan_pool *p, const char *name, uint64_t mib) {
        size_t i;
        assert_int_equal(plan_pool_add_host(p, name, mib, PLAN_HOST_LIVE, &i), 0);
        return i;
}

static void restart_vm(struct plan_pool *p, const char *name, uint64_t mib, size_t host) {
        struct plan_vm vm = PLAN_VM_INIT;
        vm.name = name;
        vm.memory_mib = mib;
        vm.host = host;
        vm.priority = PLAN_PRIORITY_RESTART;
        assert_int_equal(plan_pool_add_vm(p, &vm, NULL), 0);
}

/* Greedy packings fail on it, the exact one fits: failures tolerated is 1,
 * and deciding it takes an exact packing. */
static struct plan_pool *ffd_trap(void) {
        struct plan_pool *p = NULL;
        assert_int_equal(plan_pool_new(&p), 0);
        size_t a = host_add(p, "a", 30 * GIB);
        host_add(p, "b", 11 * GIB);
        host_add(p, "c", 9 * GIB);
        host_add(p, "d", 10 * GIB);
        const uint64_t sizes[] = { 4, 4, 4, 3, 3, 3, 3, 3, 3 };
        char name[16];
        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
                snprintf(name, sizeof(name), "t%zu", i);
                restart_vm(p, name, sizes[i] * GIB, a);
        }
        return p;
}

/* 40 hosts of 64 GiB with four 8 GiB restart VMs each: r hosts fail iff
 * 32 r > 32 (40 - r), so failures tolerated is 20. */
static struct plan_pool *identical_hosts(void) {
        struct plan_pool *p = NULL;
        assert_int_equal(plan_pool_new(&p), 0);
        char name[32];
        for (unsigned h = 0; h < 40; h++) {
                snprintf(name, sizeof(name), "h%u", h);
                host_add(p, name, 64 * GIB);
        }
        for (unsigned v = 0; v < 160; v++) {
                snprintf(name, sizeof(name), "v%u", v);
                restart_vm(p, name, 8 * GIB, v % 40);
        }
        return p;
}

/* Hosts of 60 to 99 units, restart VMs of 3 to 22 placed where they fit:
 * sizes with no common divisor and free memory that is not round, so the
 * certificate proves little and both searches work. */
static struct plan_pool *generated_pool(unsigned seed, unsigned nh, unsigned nv) {
        struct rng r = { .s = seed * 0x9e3779b97f4a7c15ull };
        struct plan_pool *p = NULL;
        assert_int_equal(plan_pool_new(&p), 0);
        char name[16];
        for (unsigned h = 0; h < nh; h++) {
                snprintf(name, sizeof(name), "h%u", h);
                host_add(p, name, 60 + rng_next(&r) % 40);
        }
        for (unsigned v = 0; v < nv; v++) {
                uint64_t mib = 3 + rng_next(&r) % 20;
                size_t h = (size_t)(rng_next(&r) % nh);
                if (plan_pool_host_free_mib(p, h) < (int64_t)mib)
                        continue;
                snprintf(name, sizeof(name), "v%u", v);
                restart_vm(p, name, mib, h);
        }
        return p;
}

static void assert_same_indexes(const size_t *x, size_t nx, const size_t *y, size_t ny) {
        assert_int_equal(nx, ny);
        for (size_t i = 0; i < nx; i++)
                assert_int_equal(x[i], y[i]);
}

/* Two results agree in everything but who ended the search. */
static void assert_same_ntol(const struct plan_ntol *x, const struct plan_ntol *y) {
        assert_int_equal(x->failures_tolerated, y->failures_tolerated);
        assert_int_equal(x->exact, y->exact);
        assert_int_equal(x->upper_bound, y->upper_bound);
        assert_int_equal(x->live_hosts, y->live_hosts);
        assert_same_indexes(x->uncovered, x->n_uncovered, y->uncovered, y->n_uncovered);
        assert_same_indexes(x->undecided, x->n_undecided, y->undecided, y->n_undecided);
        assert_same_indexes(x->non_agile, x->n_non_agile, y->non_agile, y->n_non_agile);
        assert_int_equal(x->stats.levels, y->stats.levels);
        assert_int_equal(x->stats.set_nodes, y->stats.set_nodes);
        assert_int_equal(x->stats.sets_checked, y->stats.sets_checked);
        assert_int_equal(x->stats.ffd_fits, y->stats.ffd_fits);
        assert_int_equal(x->stats.exact_runs, y->stats.exact_runs);
        assert_int_equal(x->stats.pack_nodes, y->stats.pack_nodes);
}

/* Out of time at the k-th question, on a pool whose exact answer is
 * `truth`: a lower bound, marked inexact, and the search stopped at once. */
static void assert_cut_short(const struct plan_pool *p, uint64_t k, unsigned truth) {
        struct asker a = { .expire_at = k };
        struct plan_options o = options_asking(&a);
        struct plan_ntol *n = ntol_with(p, &o);
        if (n->failures_tolerated > truth)
                fail_msg("out of time at question %llu: %u failures tolerated, the exact answer is %u",
                         (unsigned long long)k, n->failures_tolerated, truth);
        assert_true(n->stats.expired);
        assert_false(n->exact);
        assert_true(n->upper_bound >= truth);
        assert_int_equal(n->n_uncovered, 0);
        assert_int_equal(a.calls, k);                   /* not asked again */
        assert_true(n->stats.sets_checked < k);         /* asked before each set */
        assert_true(nodes_of(n) <= (k - 1) * PLAN_EXPIRED_POLL_NODES);
        plan_ntol_free(n);
}

/* The exact answer without a deadline, and how often a deadline that never
 * expires is asked. */
static unsigned exact_answer(const struct plan_pool *p, uint64_t *ret_calls) {
        struct plan_ntol *n = ntol_with(p, NULL);
        assert_true(n->exact);
        unsigned truth = n->failures_tolerated;
        plan_ntol_free(n);
        struct asker a = { 0 };
        struct plan_options o = options_asking(&a);
        n = ntol_with(p, &o);
        assert_int_equal(n->failures_tolerated, truth);
        assert_false(n->stats.expired);
        plan_ntol_free(n);
        *ret_calls = a.calls;
        return truth;
}

/* ---- out of time ---- */

static void test_out_of_time_at_once_gives_an_inexact_lower_bound(void **state) {
        struct plan_pool *pools[] = { ffd_trap(), identical_hosts() };
        const unsigned truth[] = { 1, 20 };
        for (size_t i = 0; i < 2; i++) {
                struct asker a = { .expire_at = 1 };
                struct plan_options o = options_asking(&a);
                struct plan_ntol *n = ntol_with(pools[i], &o);
                assert_false(n->exact);
                assert_true(n->stats.expired);
                assert_true(n->failures_tolerated <= truth[i]);
                assert_true(n->upper_bound >= truth[i]);
                assert_int_equal(n->n_uncovered, 0);
                assert_int_equal(n->stats.levels, 0);   /* nothing searched */
                assert_int_equal(nodes_of(n), 0);
                assert_int_equal(a.calls, 1);
                plan_ntol_free(n);
                plan_pool_free(pools[i]);
        }
}

static void test_out_of_time_at_any_question_never_over_reports(void **state) {
        /* every question, on pools with a quick exact answer */
        struct plan_pool *small[] = { ffd_trap(), identical_hosts(), generated_pool(3, 16, 96) };
        for (size_t i = 0; i < 3; i++) {
                uint64_t calls;
                unsigned truth = exact_answer(small[i], &calls);
                assert_true(calls > 1);
                for (uint64_t k = 1; k <= calls; k++)
                        assert_cut_short(small[i], k, truth);
                plan_pool_free(small[i]);
        }
        /* questions spread over longer searches, many inside exact packings */
        const unsigned big[][2] = { { 20, 5 }, { 28, 1 } };
        for (size_t i = 0; i < 2; i++) {
                struct plan_pool *p = generated_pool(big[i][1], big[i][0], big[i][0] * 6);
                uint64_t calls;
                unsigned truth = exact_answer(p, &calls);
                for (uint64_t k = 1; k <= calls; k += 1 + k / 4)
                        assert_cut_short(p, k, truth);
                assert_cut_short(p, calls, truth);
                plan_pool_free(p);
        }
}

/* ---- how often ---- */

static void test_asked_at_least_every_1024_nodes_of_a_large_search(void **state) {
        /* 28 hosts: 300 failure sets, 57 exact packings of about 10,000
         * nodes each, so most questions come from inside the packer. */
        struct plan_pool *p = generated_pool(1, 28, 168);
        struct asker a = { 0 };
        struct plan_options o = options_asking(&a);
        struct plan_ntol *n = ntol_with(p, &o);
        assert_true(n->exact);
        uint64_t nodes = nodes_of(n);
        assert_true(n->stats.pack_nodes > 500 * PLAN_EXPIRED_POLL_NODES);
        assert_true(n->stats.pack_nodes > 100 * n->stats.sets_checked);
        /* never more than PLAN_EXPIRED_POLL_NODES nodes without a question */
        assert_true(nodes <= (a.calls + 1) * PLAN_EXPIRED_POLL_NODES);
        /* and no more questions than levels, sets and node batches */
        assert_true(a.calls <= n->stats.levels + n->stats.sets_checked + nodes / PLAN_EXPIRED_POLL_NODES);
        print_message("# %llu nodes (%llu in exact packings), %llu sets, %llu questions\n",
                      (unsigned long long)nodes, (unsigned long long)n->stats.pack_nodes,
                      (unsigned long long)n->stats.sets_checked, (unsigned long long)a.calls);
        plan_ntol_free(n);

        /* out of time at question k: at most k - 1 batches of nodes ran */
        const uint64_t ks[] = { 2, 3, 10, 50, 200, 600 };
        for (size_t i = 0; i < sizeof(ks) / sizeof(ks[0]); i++) {
                struct asker b = { .expire_at = ks[i] };
                o = options_asking(&b);
                n = ntol_with(p, &o);
                assert_true(n->stats.expired);
                assert_int_equal(b.calls, ks[i]);
                assert_true(nodes_of(n) <= (ks[i] - 1) * PLAN_EXPIRED_POLL_NODES);
                plan_ntol_free(n);
        }
        plan_pool_free(p);
}

static void test_packer_asks_once_every_1024_nodes(void **state) {
        /* Two instances the greedy packings miss and the exact search
         * takes tens of thousands of nodes to decide: one fits, one not. */
        static const struct {
                uint64_t items[22];
                size_t n;
                int64_t caps[7];
                size_t m;
                enum pack_verdict verdict;
        } cases[] = {
                { { 22, 30, 20, 24, 33, 29, 33, 32, 9, 34, 18, 11, 23, 28, 5, 31, 18, 21, 24, 26, 32, 18 }, 22,
                  { 86, 88, 86, 89, 86, 86 }, 6, PACK_FITS },
                { { 15, 30, 24, 31, 22, 32, 17, 20, 17, 17, 30, 16, 33, 16, 15, 31 }, 16,
                  { 56, 55, 54, 52, 54, 56, 53 }, 7, PACK_NO_FIT },
        };
        for (size_t c = 0; c < 2; c++) {
                struct asker a = { 0 };
                struct pack_deadline d = { .expired = asker_expired, .arg = &a };
                struct pack_stats st = { 0 };
                enum pack_verdict v;
                assert_int_equal(pack_items(cases[c].items, cases[c].n, cases[c].caps, cases[c].m, 1000000, &d,
                                            NULL, &st, &v), 0);
                assert_int_equal(v, cases[c].verdict);
                assert_int_equal(st.exact_runs, 1);
                assert_true(st.nodes > 20 * PLAN_EXPIRED_POLL_NODES);
                assert_int_equal(a.calls, st.nodes / PLAN_EXPIRED_POLL_NODES);
                assert_false(d.hit);

                /* the same verdict without a deadline */
                enum pack_verdict w;
                assert_int_equal(pack_items(cases[c].items, cases[c].n, cases[c].caps, cases[c].m, 1000000, NULL,
                                            NULL, NULL, &w), 0);
                assert_int_equal(w, v);

                /* out of time at the third question: unknown, at once */
                struct asker b = { .expire_at = 3 };
                d = (struct pack_deadline){ .expired = asker_expired, .arg = &b };
                st = (struct pack_stats){ 0 };
                assert_int_equal(pack_items(cases[c].items, cases[c].n, cases[c].caps, cases[c].m, 1000000, &d,
                                            NULL, &st, &v), 0);
                assert_int_equal(v, PACK_UNKNOWN);
                assert_true(d.hit);
                assert_int_equal(b.calls, 3);
                assert_true(st.nodes <= 3 * PLAN_EXPIRED_POLL_NODES);
        }
}

/* ---- no deadline, or one that never expires ---- */

static void test_deadline_that_never_expires_changes_no_result(void **state) {
        struct plan_options defaults;
        plan_options_init(&defaults);
        assert_null(defaults.expired);
        assert_null(defaults.expired_arg);

        struct plan_pool *pools[7] = { ffd_trap(), identical_hosts() };
        const unsigned gen[][2] = { { 16, 3 }, { 20, 5 }, { 28, 1 }, { 32, 6 } };
        for (size_t i = 0; i < 4; i++)
                pools[2 + i] = generated_pool(gen[i][1], gen[i][0], gen[i][0] * 6);
        /* a pinned restart VM, listed apart */
        struct plan_vm pinned = PLAN_VM_INIT;
        pinned.name = "pinned";
        pinned.memory_mib = GIB;
        pinned.host = 0;
        pinned.priority = PLAN_PRIORITY_RESTART;
        pinned.agile = false;
        pools[6] = ffd_trap();
        assert_int_equal(plan_pool_add_vm(pools[6], &pinned, NULL), 0);

        unsigned inexact = 0;
        for (size_t i = 0; i < 7; i++)
                for (unsigned budgets = 0; budgets < 4; budgets++) {
                        struct plan_options plain;
                        plan_options_init(&plain);
                        if (budgets == 1)
                                plain.pack_budget = 50;
                        if (budgets == 2)
                                plain.set_budget = 40;
                        if (budgets == 3)
                                plain.node_budget = 100;
                        struct asker a = { 0 };
                        struct plan_options asking = plain;
                        asking.expired = asker_expired;
                        asking.expired_arg = &a;
                        struct plan_ntol *x = ntol_with(pools[i], budgets ? &plain : NULL);
                        struct plan_ntol *y = ntol_with(pools[i], &asking);
                        assert_same_ntol(x, y);
                        assert_false(x->stats.expired);
                        assert_false(y->stats.expired);
                        assert_true(a.calls > 0);
                        inexact += !x->exact;
                        plan_ntol_free(x);
                        plan_ntol_free(y);
                }
        print_message("# 7 pools, 4 budgets each: %u inexact\n", inexact);
        assert_true(inexact >= 8);      /* the count budgets did run out */
        for (size_t i = 0; i < 7; i++)
                plan_pool_free(pools[i]);
}

/* ---- admission control ---- */

/* Three hosts of 32 GiB with 8 GiB to restart and 8 GiB more each:
 * protecting vm-x drops failures tolerated from 2 to 1. */
static struct plan_pool *admission_pool(void) {
        struct plan_pool *p = NULL;
        assert_int_equal(plan_pool_new(&p), 0);
        char name[16];
        for (size_t h = 0; h < 3; h++) {
                snprintf(name, sizeof(name), "h%zu", h + 1);
                host_add(p, name, 32 * GIB);
                snprintf(name, sizeof(name), "vm-%c", (char)('a' + h));
                restart_vm(p, name, 8 * GIB, h);
                struct plan_vm vm = PLAN_VM_INIT;
                snprintf(name, sizeof(name), "vm-%c", (char)('x' + h));
                vm.name = name;
                vm.memory_mib = 8 * GIB;
                vm.host = h;
                assert_int_equal(plan_pool_add_vm(p, &vm, NULL), 0);
        }
        assert_int_equal(plan_pool_set_target(p, 1), 0);
        return p;
}

static void test_admission_out_of_time_refuses_what_it_would_allow_and_says_so(void **state) {
        struct plan_pool *p = admission_pool();
        struct plan_change c = { .kind = PLAN_CHANGE_PROTECT_VM };
        assert_int_equal(plan_pool_find_vm(p, "vm-x", &c.vm), 0);

        struct plan_admission *plain = NULL, *defaults = NULL, *never = NULL, *cut = NULL;
        assert_int_equal(plan_check_change(p, &c, &plain), 0);
        assert_true(plain->allowed);
        assert_true(plain->exact);
        assert_false(plain->expired);
        assert_int_equal(plain->ntol_after, 1);

        assert_int_equal(plan_check_change_opts(p, &c, NULL, &defaults), 0);
        assert_int_equal(defaults->allowed, plain->allowed);
        assert_string_equal(defaults->reason, plain->reason);

        struct asker a = { 0 };
        struct plan_options o = options_asking(&a);
        assert_int_equal(plan_check_change_opts(p, &c, &o, &never), 0);
        assert_true(a.calls > 0);
        assert_int_equal(never->allowed, plain->allowed);
        assert_false(never->expired);
        assert_string_equal(never->reason, plain->reason);

        struct asker b = { .expire_at = 1 };
        o = options_asking(&b);
        assert_int_equal(plan_check_change_opts(p, &c, &o, &cut), 0);
        assert_false(cut->allowed);
        assert_false(cut->exact);
        assert_true(cut->expired);
        assert_true(cut->ntol_after <= plain->ntol_after);
        assert_non_null(strstr(cut->reason, "(at least: the search ran out of time), below the target 1"));

        plan_admission_free(plain);
        plan_admission_free(defaults);
        plan_admission_free(never);
        plan_admission_free(cut);
        plan_pool_free(p);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_out_of_time_at_once_gives_an_inexact_lower_bound),
                cmocka_unit_test(test_out_of_time_at_any_question_never_over_reports),
                cmocka_unit_test(test_asked_at_least_every_1024_nodes_of_a_large_search),
                cmocka_unit_test(test_packer_asks_once_every_1024_nodes),
                cmocka_unit_test(test_deadline_that_never_expires_changes_no_result),
                cmocka_unit_test(test_admission_out_of_time_refuses_what_it_would_allow_and_says_so),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
