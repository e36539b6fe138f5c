/* Randomized properties of the restart planner, against a brute-force
 * oracle that shares no code with it: every failure set is enumerated, and
 * each is packed by exhaustive assignment of VMs to survivors.
 *
 *  - on small pools (2 to 7 hosts, up to 16 VMs), failures tolerated is never
 *    above the oracle, and equal to it when the planner says it is exact; a
 *    reported uncovered set really does not fit;
 *  - every restart plan fits the survivors' memory, lists every VM it does
 *    not place, and places every agile restart VM whenever they fit;
 *  - every evacuation step fits the memory of every host;
 *  - the bin packer (internal to planner/) agrees with exhaustive assignment
 *    on tight instances, and never says "no fit" when it ran out of budget;
 *  - on mid-size pools (6 to 12 hosts, 20 to 60 VMs), failures tolerated
 *    equals the enumeration of every failure set, each decided by that
 *    packer.
 * Everything is drawn from seeded PRNGs, so runs are reproducible; a failure
 * names the pool or instance number.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planner/pack.h"
#include "planner/planner.h"
#include "tests/lib/rng.h"

#define MAX_HOSTS 7
#define MAX_VMS 16


static unsigned rng_below(struct rng *r, unsigned n) {
        return (unsigned)(rng_next(r) % n);
}

/* ---- the oracle ---- */

static bool oracle_assign(const uint64_t *items, size_t n, size_t i, int64_t *cap, size_t m) {
        if (i == n)
                return true;
        for (size_t b = 0; b < m; b++) {
                if (cap[b] < (int64_t)items[i])
                        continue;
                bool seen = false;      /* a bin with the same room was already tried */
                for (size_t k = 0; k < b && !seen; k++)
                        seen = cap[k] == cap[b];
                if (seen)
                        continue;
                cap[b] -= (int64_t)items[i];
                bool ok = oracle_assign(items, n, i + 1, cap, m);
                cap[b] += (int64_t)items[i];
                if (ok)
                        return true;
        }
        return false;
}

static int cmp_desc(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? 1 : x > y ? -1 : 0;
}

/* Do the agile restart VMs of the live hosts in mask fit on the other live hosts? */
static bool oracle_fits(const struct plan_pool *p, unsigned mask) {
        size_t nh = plan_pool_n_hosts(p), nv = plan_pool_n_vms(p);
        uint64_t items[MAX_VMS];
        int64_t cap[MAX_HOSTS];
        size_t n = 0, m = 0;
        for (size_t h = 0; h < nh; h++)
                if (plan_pool_host(p, h)->state == PLAN_HOST_LIVE && !(mask & (1u << h))) {
                        int64_t f = plan_pool_host_free_mib(p, h);
                        cap[m++] = f > 0 ? f : 0;
                }
        uint64_t total = 0;
        for (size_t i = 0; i < nv; i++) {
                const struct plan_vm *vm = plan_pool_vm(p, i);
                if (vm->host != PLAN_NO_HOST && (mask & (1u << vm->host)) &&
                    vm->priority == PLAN_PRIORITY_RESTART && vm->agile) {
                        items[n++] = vm->memory_mib;
                        total += vm->memory_mib;
                }
        }
        if (n == 0)
                return true;
        if (m == 0)
                return false;
        int64_t room = 0;
        for (size_t b = 0; b < m; b++)
                room += cap[b];
        if ((int64_t)total > room)
                return false;
        qsort(items, n, sizeof(*items), cmp_desc);
        return oracle_assign(items, n, 0, cap, m);
}

static unsigned live_mask(const struct plan_pool *p) {
        unsigned mask = 0;
        for (size_t h = 0; h < plan_pool_n_hosts(p); h++)
                if (plan_pool_host(p, h)->state == PLAN_HOST_LIVE)
                        mask |= 1u << h;
        return mask;
}

static unsigned oracle_ntol(const struct plan_pool *p) {
        unsigned live = live_mask(p);
        unsigned n = (unsigned)__builtin_popcount(live);
        for (unsigned r = 1; r <= n; r++)
                for (unsigned f = live; f; f = (f - 1) & live)
                        if ((unsigned)__builtin_popcount(f) == r && !oracle_fits(p, f))
                                return r - 1;
        return n;
}

/* ---- random pools ---- */

/* Sizes from a few shapes: round GiB-like values, awkward values that
 * defeat greedy packing, and tight hosts. fit_initial: never place a VM on
 * a host it does not fit on (evacuation starts from a valid state). */
static struct plan_pool *random_pool(struct rng *r, bool fit_initial) {
        struct plan_pool *p = NULL;
        assert_int_equal(plan_pool_new(&p), 0);
        unsigned nh = 2 + rng_below(r, 6), nv = rng_below(r, MAX_VMS + 1);
        unsigned shape = rng_below(r, 4);
        if (shape == 3)         /* crowded: many mid-sized VMs, greedy packings struggle */
                nv = 10 + rng_below(r, MAX_VMS - 9);
        int64_t used[MAX_HOSTS] = { 0 };
        char name[16];
        for (unsigned h = 0; h < nh; h++) {
                unsigned roll = rng_below(r, 10);
                enum plan_host_state st = roll < 8 ? PLAN_HOST_LIVE : roll == 8 ? PLAN_HOST_DEAD : PLAN_HOST_MAINTENANCE;
                uint64_t mem = shape == 0 ? 8 + rng_below(r, 25) : shape == 1 ? 16 * (1 + rng_below(r, 4)) :
                               shape == 2 ? 10 + rng_below(r, 11) : 9 + rng_below(r, 16);
                snprintf(name, sizeof(name), "h%u", h);
                assert_int_equal(plan_pool_add_host(p, name, mem, st, NULL), 0);
        }
        for (unsigned v = 0; v < nv; v++) {
                struct plan_vm vm = PLAN_VM_INIT;
                snprintf(name, sizeof(name), "v%u", v);
                vm.name = name;
                vm.memory_mib = shape == 0 ? 1 + rng_below(r, 12) : shape == 1 ? 1u << rng_below(r, 5) :
                                shape == 2 ? 2 + rng_below(r, 6) : 3 + rng_below(r, 7);
                if (rng_below(r, 20) == 0)
                        vm.memory_mib = 0;
                unsigned roll = rng_below(r, 10);
                vm.priority = roll < 6 ? PLAN_PRIORITY_RESTART : roll < 8 ? PLAN_PRIORITY_BEST_EFFORT : PLAN_PRIORITY_NONE;
                vm.agile = rng_below(r, 10) != 0;
                vm.order = (int32_t)rng_below(r, 3) - 1;
                vm.start_delay_s = rng_below(r, 3);
                vm.host = rng_below(r, 12) == 0 ? PLAN_NO_HOST : rng_below(r, nh);
                if (fit_initial && vm.host != PLAN_NO_HOST) {
                        const struct plan_host *h = plan_pool_host(p, vm.host);
                        if (used[vm.host] + (int64_t)vm.memory_mib > (int64_t)h->memory_mib)
                                vm.host = PLAN_NO_HOST;
                }
                if (vm.host != PLAN_NO_HOST)
                        used[vm.host] += (int64_t)vm.memory_mib;
                assert_int_equal(plan_pool_add_vm(p, &vm, NULL), 0);
        }
        return p;
}

#define PROPERTY_POOLS 4000

static void test_ntol_never_exceeds_brute_force_and_matches_when_exact(void **state) {
        struct rng r = { .s = 0x5eed0001 };
        unsigned exact = 0, tight_budget = 0, searched = 0, positive = 0, inexact_below = 0;
        for (unsigned k = 0; k < PROPERTY_POOLS; k++) {
                struct plan_pool *p = random_pool(&r, rng_below(&r, 2));
                struct plan_options o;
                plan_options_init(&o);
                if (k % 5 == 4) {       /* budgets so small that searches give up */
                        o.pack_budget = 1 + rng_below(&r, 4);
                        o.set_budget = 1 + rng_below(&r, 6);
                        tight_budget++;
                }
                struct plan_ntol *n = NULL;
                assert_int_equal(plan_failures_tolerated(p, &o, &n), 0);
                unsigned want = oracle_ntol(p);
                if (n->failures_tolerated > want || (n->exact && n->failures_tolerated != want))
                        fail_msg("pool %u: planner says %u (%s), brute force %u", k, n->failures_tolerated,
                                 n->exact ? "exact" : "lower bound", want);
                if (n->exact)
                        exact++;
                else if (n->failures_tolerated < want)
                        inexact_below++;
                if (n->stats.exact_runs > 0)
                        searched++;
                if (want > 0)
                        positive++;
                if (n->n_uncovered) {
                        unsigned mask = 0;
                        for (size_t i = 0; i < n->n_uncovered; i++)
                                mask |= 1u << n->uncovered[i];
                        assert_int_equal(n->n_uncovered, n->failures_tolerated + 1);
                        assert_int_equal(mask & ~live_mask(p), 0);
                        if (oracle_fits(p, mask))
                                fail_msg("pool %u: reported uncovered set 0x%x fits", k, mask);
                }
                plan_ntol_free(n);
                plan_pool_free(p);
        }
        print_message("# %u pools: %u exact, %u with an exact packing search, %u with ntol > 0, "
                      "%u lower bounds below the truth\n", PROPERTY_POOLS, exact, searched, positive, inexact_below);
        /* with default budgets every small pool must be decided exactly */
        assert_int_equal(exact + tight_budget >= PROPERTY_POOLS, true);
}

static void check_restart_plan(const struct plan_pool *p, unsigned fmask, const struct plan_restart_plan *plan,
                               unsigned ntol, unsigned k) {
        size_t nh = plan_pool_n_hosts(p), nv = plan_pool_n_vms(p);
        int64_t room[MAX_HOSTS];
        unsigned seen[MAX_VMS] = { 0 };
        for (size_t h = 0; h < nh; h++)
                room[h] = plan_pool_host_free_mib(p, h);
        bool best_effort_started = false;
        int32_t last_order = INT32_MIN;
        for (size_t i = 0; i < plan->n_restarts; i++) {
                const struct plan_restart *rs = &plan->restarts[i];
                const struct plan_vm *vm = plan_pool_vm(p, rs->vm);
                assert_true(vm->host != PLAN_NO_HOST && (fmask & (1u << vm->host)));
                assert_true(vm->agile);
                assert_int_not_equal(vm->priority, PLAN_PRIORITY_NONE);
                assert_int_equal(plan_pool_host(p, rs->host)->state, PLAN_HOST_LIVE);
                assert_false(fmask & (1u << rs->host));
                room[rs->host] -= (int64_t)vm->memory_mib;
                if (room[rs->host] < 0)
                        fail_msg("pool %u: restart plan overcommits host %zu", k, rs->host);
                seen[rs->vm]++;
                if (vm->priority == PLAN_PRIORITY_BEST_EFFORT) {
                        best_effort_started = true;
                } else {
                        assert_false(best_effort_started);
                        assert_true(vm->order >= last_order);
                        last_order = vm->order;
                }
        }
        for (size_t i = 0; i < plan->n_unplaced; i++)
                seen[plan->unplaced[i]]++;
        bool fits = oracle_fits(p, fmask);
        for (size_t i = 0; i < nv; i++) {
                const struct plan_vm *vm = plan_pool_vm(p, i);
                bool candidate = vm->host != PLAN_NO_HOST && (fmask & (1u << vm->host)) &&
                                 vm->priority != PLAN_PRIORITY_NONE;
                assert_int_equal(seen[i], candidate ? 1 : 0);
                if (candidate && vm->priority == PLAN_PRIORITY_RESTART && vm->agile && fits) {
                        bool placed = false;
                        for (size_t j = 0; j < plan->n_restarts; j++)
                                placed |= plan->restarts[j].vm == i;
                        if (!placed)
                                fail_msg("pool %u: failure 0x%x fits (ntol %u) but %s is unplaced", k, fmask, ntol,
                                         vm->name);
                }
        }
}

static void check_evacuation(const struct plan_pool *p, size_t host, const struct plan_evacuation *ev, unsigned k) {
        size_t nh = plan_pool_n_hosts(p), nv = plan_pool_n_vms(p);
        int64_t used[MAX_HOSTS] = { 0 };
        size_t at[MAX_VMS];
        for (size_t i = 0; i < nv; i++) {
                at[i] = plan_pool_vm(p, i)->host;
                if (at[i] != PLAN_NO_HOST)
                        used[at[i]] += (int64_t)plan_pool_vm(p, i)->memory_mib;
        }
        for (size_t s = 0; s < ev->n_migrations; s++) {
                const struct plan_migration *m = &ev->migrations[s];
                const struct plan_vm *vm = plan_pool_vm(p, m->vm);
                assert_true(vm->agile);
                assert_int_equal(at[m->vm], m->from);
                assert_int_not_equal(m->to, host);
                assert_int_not_equal(m->to, m->from);
                assert_int_equal(plan_pool_host(p, m->to)->state, PLAN_HOST_LIVE);
                used[m->to] += (int64_t)vm->memory_mib;
                if (used[m->to] > (int64_t)plan_pool_host(p, m->to)->memory_mib)
                        fail_msg("pool %u: evacuation step %zu overcommits host %zu", k, s, m->to);
                used[m->from] -= (int64_t)vm->memory_mib;
                at[m->vm] = m->to;
        }
        for (size_t i = 0; i < nv; i++) {
                unsigned listed = 0;
                for (size_t j = 0; j < ev->n_unplaced; j++)
                        listed += ev->unplaced[j] == i;
                assert_int_equal(listed, at[i] == host ? 1 : 0);
        }
        (void)nh;
}

static void test_restart_and_evacuation_plans_respect_capacity(void **state) {
        struct rng r = { .s = 0x5eed0002 };
        for (unsigned k = 0; k < PROPERTY_POOLS; k++) {
                struct plan_pool *p = random_pool(&r, true);
                struct plan_ntol *n = NULL;
                assert_int_equal(plan_failures_tolerated(p, NULL, &n), 0);
                unsigned live = live_mask(p);
                size_t nh = plan_pool_n_hosts(p);
                /* every non-empty failure set of live hosts, plus one with a dead host */
                for (unsigned f = live; f; f = (f - 1) & live) {
                        size_t failed[MAX_HOSTS], nf = 0;
                        for (size_t h = 0; h < nh; h++)
                                if (f & (1u << h))
                                        failed[nf++] = h;
                        struct plan_restart_plan *plan = NULL;
                        assert_int_equal(plan_restart_for_failure(p, failed, nf, NULL, &plan), 0);
                        check_restart_plan(p, f, plan, n->failures_tolerated, k);
                        if (n->failures_tolerated >= nf)
                                assert_true(oracle_fits(p, f));
                        plan_restart_plan_free(plan);
                }
                for (size_t h = 0; h < nh; h++) {
                        struct plan_evacuation *ev = NULL;
                        int ret = plan_evacuate_host(p, h, NULL, &ev);
                        if (plan_pool_host(p, h)->state == PLAN_HOST_DEAD) {
                                assert_int_equal(ret, -EINVAL);
                                continue;
                        }
                        assert_int_equal(ret, 0);
                        check_evacuation(p, h, ev, k);
                        plan_evacuation_free(ev);
                }
                plan_ntol_free(n);
                plan_pool_free(p);
        }
}

#define PACK_INSTANCES 6000

static void test_packer_agrees_with_exhaustive_assignment(void **state) {
        struct rng r = { .s = 0x5eed0003 };
        unsigned searched = 0, no_fit = 0;
        for (unsigned k = 0; k < PACK_INSTANCES; k++) {
                size_t n = 1 + rng_below(&r, 12), m = 1 + rng_below(&r, 5);
                uint64_t items[12], sorted[12], total = 0;
                int64_t caps[5], room[5];
                unsigned unit = 1u << rng_below(&r, 4);         /* exercises the gcd */
                for (size_t i = 0; i < n; i++) {
                        items[i] = unit * (2 + rng_below(&r, 9));
                        total += items[i];
                }
                /* capacities around the total, so that many instances are tight */
                for (size_t b = 0; b < m; b++) {
                        caps[b] = (int64_t)(total / m) + (int64_t)rng_below(&r, (unsigned)(total / m / 2 + 2)) -
                                  (int64_t)(total / m / 4) + (int64_t)rng_below(&r, unit);
                        if (rng_below(&r, 10) == 0)
                                caps[b] = -(int64_t)rng_below(&r, 5);
                }
                memcpy(sorted, items, sizeof(items));
                qsort(sorted, n, sizeof(*sorted), cmp_desc);
                for (size_t b = 0; b < m; b++)
                        room[b] = caps[b] > 0 ? caps[b] : 0;
                bool truth = oracle_assign(sorted, n, 0, room, m);

                size_t assign[12];
                struct pack_stats st = { 0 };
                enum pack_verdict v;
                assert_int_equal(pack_items(items, n, caps, m, 1000000, NULL, assign, &st, &v), 0);
                if (v == PACK_UNKNOWN || (v == PACK_FITS) != truth)
                        fail_msg("instance %u: packer says %d, exhaustive assignment %s", k, v, truth ? "fits" : "does not");
                if (v == PACK_FITS) {
                        int64_t used[5] = { 0 };
                        for (size_t i = 0; i < n; i++) {
                                assert_true(assign[i] < m);
                                used[assign[i]] += (int64_t)items[i];
                        }
                        for (size_t b = 0; b < m; b++)
                                assert_true(used[b] <= (caps[b] > 0 ? caps[b] : 0));
                } else {
                        no_fit++;
                }
                searched += st.exact_runs > 0;

                /* a starved search may give up, never claim too much */
                assert_int_equal(pack_items(items, n, caps, m, 1 + rng_below(&r, 3), NULL, assign, NULL, &v), 0);
                if (v == PACK_NO_FIT)
                        assert_false(truth);
                if (v == PACK_FITS)
                        assert_true(truth);
        }
        print_message("# %u packing instances: %u do not fit, %u needed the exact search\n", PACK_INSTANCES, no_fit,
                      searched);
        assert_true(searched > 100);
}

/* Up to 12 hosts and 60 VMs: too big for exhaustive assignment, so each
 * failure set is decided by the packer, itself checked against exhaustive
 * assignment above; every set is still enumerated. */
#define MID_POOLS 1000

static void test_ntol_matches_enumeration_of_every_failure_set_on_mid_size_pools(void **state) {
        struct rng r = { .s = 0x5eed0004 };
        unsigned exact = 0;
        for (unsigned k = 0; k < MID_POOLS; k++) {
                struct plan_pool *p = NULL;
                assert_int_equal(plan_pool_new(&p), 0);
                unsigned nh = 6 + rng_below(&r, 7), nv = 20 + rng_below(&r, 41);
                char name[16];
                for (unsigned h = 0; h < nh; h++) {
                        snprintf(name, sizeof(name), "h%u", h);
                        assert_int_equal(plan_pool_add_host(p, name, 40 + rng_below(&r, 60),
                                                            rng_below(&r, 12) ? PLAN_HOST_LIVE : PLAN_HOST_DEAD, NULL), 0);
                }
                for (unsigned v = 0; v < nv; v++) {
                        struct plan_vm vm = PLAN_VM_INIT;
                        snprintf(name, sizeof(name), "v%u", v);
                        vm.name = name;
                        vm.memory_mib = 1 + rng_below(&r, k % 2 ? 12 : 25);
                        vm.host = rng_below(&r, nh);
                        vm.priority = rng_below(&r, 4) ? PLAN_PRIORITY_RESTART : PLAN_PRIORITY_NONE;
                        vm.agile = rng_below(&r, 15) != 0;
                        assert_int_equal(plan_pool_add_vm(p, &vm, NULL), 0);
                }
                struct plan_ntol *n = NULL;
                assert_int_equal(plan_failures_tolerated(p, NULL, &n), 0);

                unsigned live = live_mask(p), nl = (unsigned)__builtin_popcount(live), truth = nl;
                for (unsigned lvl = 1; lvl <= nl && truth == nl; lvl++)
                        for (unsigned f = live; f; f = (f - 1) & live) {
                                if ((unsigned)__builtin_popcount(f) != lvl)
                                        continue;
                                uint64_t items[64];
                                int64_t caps[16];
                                size_t ni = 0, nb = 0;
                                for (size_t i = 0; i < nv; i++) {
                                        const struct plan_vm *vm = plan_pool_vm(p, i);
                                        if ((f >> vm->host & 1) && vm->priority == PLAN_PRIORITY_RESTART && vm->agile)
                                                items[ni++] = vm->memory_mib;
                                }
                                for (size_t h = 0; h < nh; h++)
                                        if ((live >> h & 1) && !(f >> h & 1))
                                                caps[nb++] = plan_pool_host_free_mib(p, h);
                                enum pack_verdict v;
                                assert_int_equal(pack_items(items, ni, caps, nb, 10000000, NULL, NULL, NULL, &v), 0);
                                assert_int_not_equal(v, PACK_UNKNOWN);
                                if (v == PACK_NO_FIT) {
                                        truth = lvl - 1;
                                        break;
                                }
                        }
                if (n->failures_tolerated > truth || (n->exact && n->failures_tolerated != truth))
                        fail_msg("mid pool %u: planner says %u (%s), enumeration %u", k, n->failures_tolerated,
                                 n->exact ? "exact" : "lower bound", truth);
                exact += n->exact;
                plan_ntol_free(n);
                plan_pool_free(p);
        }
        print_message("# %u mid-size pools: %u exact\n", MID_POOLS, exact);
        assert_int_equal(exact, MID_POOLS);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ntol_never_exceeds_brute_force_and_matches_when_exact),
                cmocka_unit_test(test_restart_and_evacuation_plans_respect_capacity),
                cmocka_unit_test(test_packer_agrees_with_exhaustive_assignment),
                cmocka_unit_test(test_ntol_matches_enumeration_of_every_failure_set_on_mid_size_pools),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
