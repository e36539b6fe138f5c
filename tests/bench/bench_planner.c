/* bench_planner: failures tolerated on large generated pools, against the
 * method xapi publishes (ocaml/xapi/binpack.ml).
 *
 * For pools of 16, 32 and 64 hosts with 500, 2,000 and 8,000 VMs, several
 * seeds each, it prints the time to compute ntol, whether the answer is
 * exact, and ntol; then the same for xapi's method: exact enumeration of
 * failure orders (each failed host's VMs packed biggest-fit-decreasing on the
 * hosts still up) while C(n,r)·r! < 3500 and n <= 32, otherwise its
 * approximation (every protected VM as big as the largest, the r hosts with
 * most capacity fail, the r hosts with most protected VMs lose them). It
 * counts the pools where xapi's answer is below or above our exact value,
 * and spot-checks every answer with restart plans on the same pool.
 *
 * Generated pools: VM sizes 1 to 64 GiB skewed small (powers of two, plus
 * some 512 MiB, 3, 6, 12 and 24 GiB), 75 % restart, 15 % best-effort,
 * 10 % none, 3 % pinned; host memory from one or two host models sized for
 * 60 to 90 % use, minus a dom0 share so that free memory is not round.
 * Asserts nothing about time.
 */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "planner/planner.h"
#include "tests/lib/rng.h"

#define SEEDS 8
#define XAPI_EXHAUSTIVE_LIMIT 3500


static double rng_unit(struct rng *r) {
        return (double)(rng_next(r) >> 11) / 9007199254740992.0;
}

static unsigned rng_below(struct rng *r, unsigned n) {
        return (unsigned)(rng_next(r) % n);
}

static double now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static uint64_t vm_size_mib(struct rng *r, bool odd_sizes) {
        if (odd_sizes) {
                /* log-uniform 512 MiB .. 64 GiB, any multiple of 4 MiB */
                double x = exp(log(512.0) + rng_unit(r) * (log(65536.0) - log(512.0)));
                return ((uint64_t)x / 4) * 4;
        }
        static const struct {
                uint64_t mib;
                unsigned weight;
        } mix[] = {
                { 512, 4 }, { 1024, 22 }, { 2048, 22 }, { 3072, 3 }, { 4096, 18 }, { 6144, 3 },
                { 8192, 12 }, { 12288, 2 }, { 16384, 7 }, { 24576, 2 }, { 32768, 4 }, { 65536, 1 },
        };
        unsigned total = 0;
        for (size_t i = 0; i < sizeof(mix) / sizeof(mix[0]); i++)
                total += mix[i].weight;
        unsigned x = rng_below(r, total);
        for (size_t i = 0; i < sizeof(mix) / sizeof(mix[0]); i++) {
                if (x < mix[i].weight)
                        return mix[i].mib;
                x -= mix[i].weight;
        }
        return 1024;
}

static struct plan_pool *generate(unsigned n_hosts, unsigned n_vms, uint64_t seed, bool odd_sizes, double *use_ret) {
        struct rng r = { .s = seed * 0x9e3779b97f4a7c15ull + 1 };
        struct plan_pool *p = NULL;
        if (plan_pool_new(&p) < 0)
                abort();
        uint64_t *sizes = calloc(n_vms, sizeof(*sizes));
        uint64_t total = 0;
        for (unsigned v = 0; v < n_vms; v++) {
                sizes[v] = vm_size_mib(&r, odd_sizes);
                total += sizes[v];
        }
        double use = 0.6 + 0.3 * rng_unit(&r);
        /* One or two host models; the bigger one 1.5 or 2 times the other. */
        bool two_models = rng_below(&r, 2);
        double ratio = rng_below(&r, 2) ? 1.5 : 2.0;
        unsigned n_big = two_models ? n_hosts / 2 : 0;
        double units = (double)(n_hosts - n_big) + (double)n_big * ratio;
        double base_gib = (double)total / 1024.0 / use / units;
        uint64_t *mem = calloc(n_hosts, sizeof(*mem));
        int64_t *room = calloc(n_hosts, sizeof(*room));
        char name[32];
        for (unsigned h = 0; h < n_hosts; h++) {
                double gib = h < n_big ? base_gib * ratio : base_gib;
                uint64_t rounded = ((uint64_t)ceil(gib / 16.0)) * 16;  /* DIMM-ish sizes */
                uint64_t dom0 = 2048 + rng_below(&r, 2048);          /* Xen + dom0 share */
                mem[h] = rounded * 1024 - dom0;
                room[h] = (int64_t)mem[h];
                snprintf(name, sizeof(name), "host%02u", h);
                if (plan_pool_add_host(p, name, mem[h], PLAN_HOST_LIVE, NULL) < 0)
                        abort();
        }
        /* Place VMs on a random host with room, trying a few. */
        uint64_t placed = 0;
        for (unsigned v = 0; v < n_vms; v++) {
                struct plan_vm vm = PLAN_VM_INIT;
                snprintf(name, sizeof(name), "vm%05u", v);
                vm.name = name;
                vm.memory_mib = sizes[v];
                unsigned roll = rng_below(&r, 100);
                vm.priority = roll < 75 ? PLAN_PRIORITY_RESTART : roll < 90 ? PLAN_PRIORITY_BEST_EFFORT : PLAN_PRIORITY_NONE;
                vm.agile = rng_below(&r, 100) >= 3;
                vm.order = (int32_t)rng_below(&r, 3);
                for (unsigned t = 0; t < 2 * n_hosts; t++) {
                        unsigned h = rng_below(&r, n_hosts);
                        if (room[h] >= (int64_t)sizes[v]) {
                                vm.host = h;
                                room[h] -= (int64_t)sizes[v];
                                placed += sizes[v];
                                break;
                        }
                }
                if (plan_pool_add_vm(p, &vm, NULL) < 0)
                        abort();
        }
        uint64_t all = 0;
        for (unsigned h = 0; h < n_hosts; h++)
                all += mem[h];
        *use_ret = (double)placed / (double)all;
        free(sizes);
        free(mem);
        free(room);
        return p;
}

/* ---- xapi's method, transcribed from binpack.ml ---- */

struct xapi {
        size_t n_hosts, n_vms;
        int64_t *free_mib;      /* per host */
        uint64_t *size;         /* per protected VM */
        size_t *host;           /* per protected VM: placement */
};

static void xapi_build(const struct plan_pool *p, struct xapi *x) {
        size_t nh = plan_pool_n_hosts(p), nv = plan_pool_n_vms(p);
        x->n_hosts = nh;
        x->free_mib = calloc(nh, sizeof(*x->free_mib));
        x->size = calloc(nv + 1, sizeof(*x->size));
        x->host = calloc(nv + 1, sizeof(*x->host));
        x->n_vms = 0;
        for (size_t h = 0; h < nh; h++)
                x->free_mib[h] = plan_pool_host_free_mib(p, h);
        for (size_t i = 0; i < nv; i++) {
                const struct plan_vm *vm = plan_pool_vm(p, i);
                if (vm->host == PLAN_NO_HOST || vm->priority != PLAN_PRIORITY_RESTART || !vm->agile)
                        continue;
                x->size[x->n_vms] = vm->memory_mib;
                x->host[x->n_vms] = vm->host;
                x->n_vms++;
        }
}

static void xapi_done(struct xapi *x) {
        free(x->free_mib);
        free(x->size);
        free(x->host);
}

static int cmp_u64_desc(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? 1 : x > y ? -1 : 0;
}

/* simulate_failure_approximation */
static bool xapi_approximation(const struct xapi *x, unsigned r) {
        uint64_t biggest = 0;
        for (size_t i = 0; i < x->n_vms; i++)
                if (x->size[i] > biggest)
                        biggest = x->size[i];
        if (x->n_vms == 0 || biggest == 0)
                return true;
        uint64_t *cap = calloc(x->n_hosts, sizeof(*cap)), *count = calloc(x->n_hosts, sizeof(*count));
        for (size_t h = 0; h < x->n_hosts; h++)
                cap[h] = x->free_mib[h] > 0 ? (uint64_t)x->free_mib[h] / biggest : 0;
        for (size_t i = 0; i < x->n_vms; i++)
                count[x->host[i]]++;
        qsort(cap, x->n_hosts, sizeof(*cap), cmp_u64_desc);
        qsort(count, x->n_hosts, sizeof(*count), cmp_u64_desc);
        uint64_t left = 0, move = 0;
        for (size_t h = r; h < x->n_hosts; h++)
                left += cap[h];
        for (size_t h = 0; h < r; h++)
                move += count[h];
        free(cap);
        free(count);
        return move <= left;
}

struct vm_ref {
        uint64_t size;
        size_t vm;
};

static int cmp_ref_desc(const void *a, const void *b) {
        const struct vm_ref *x = a, *y = b;
        return x->size < y->size ? 1 : x->size > y->size ? -1 : 0;
}

/* simulate_failure for one permutation: hosts fail one after the other,
 * each one's VMs (including those it received) go biggest fit decreasing. */
static bool xapi_permutation(const struct xapi *x, const size_t *order, unsigned r, int64_t *free_mib,
                             size_t *where, bool *dead, struct vm_ref *refs) {
        memcpy(free_mib, x->free_mib, x->n_hosts * sizeof(*free_mib));
        memcpy(where, x->host, x->n_vms * sizeof(*where));
        memset(dead, 0, x->n_hosts * sizeof(*dead));
        for (unsigned k = 0; k < r; k++) {
                size_t d = order[k];
                dead[d] = true;
                size_t n = 0;
                for (size_t i = 0; i < x->n_vms; i++)
                        if (where[i] == d)
                                refs[n++] = (struct vm_ref){ .size = x->size[i], .vm = i };
                qsort(refs, n, sizeof(*refs), cmp_ref_desc);
                for (size_t i = 0; i < n; i++) {
                        size_t big = SIZE_MAX;
                        for (size_t h = 0; h < x->n_hosts; h++)
                                if (!dead[h] && (big == SIZE_MAX || free_mib[h] > free_mib[big]))
                                        big = h;
                        if (big == SIZE_MAX || free_mib[big] < (int64_t)refs[i].size)
                                return false;
                        free_mib[big] -= (int64_t)refs[i].size;
                        where[refs[i].vm] = big;
                }
        }
        return true;
}

static bool next_permutation(size_t *a, unsigned n) {
        if (n < 2)
                return false;
        unsigned i = n - 1;
        while (i > 0 && a[i - 1] >= a[i])
                i--;
        if (i == 0)
                return false;
        unsigned j = n - 1;
        while (a[j] <= a[i - 1])
                j--;
        size_t t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
        for (unsigned l = i, m = n - 1; l < m; l++, m--) {
                t = a[l];
                a[l] = a[m];
                a[m] = t;
        }
        return true;
}

static bool xapi_exhaustive(const struct xapi *x, unsigned r) {
        size_t *comb = calloc(r + 1, sizeof(*comb)), *perm = calloc(r + 1, sizeof(*perm));
        int64_t *free_mib = calloc(x->n_hosts, sizeof(*free_mib));
        size_t *where = calloc(x->n_vms + 1, sizeof(*where));
        bool *dead = calloc(x->n_hosts, sizeof(*dead));
        struct vm_ref *refs = calloc(x->n_vms + 1, sizeof(*refs));
        bool ok = true;
        for (unsigned i = 0; i < r; i++)
                comb[i] = i;
        while (ok) {
                memcpy(perm, comb, r * sizeof(*perm));
                do
                        ok = xapi_permutation(x, perm, r, free_mib, where, dead, refs);
                while (ok && next_permutation(perm, r));
                /* next combination */
                int i = (int)r - 1;
                while (i >= 0 && comb[i] == x->n_hosts - r + (unsigned)i)
                        i--;
                if (i < 0)
                        break;
                comb[i]++;
                for (unsigned j = (unsigned)i + 1; j < r; j++)
                        comb[j] = comb[j - 1] + 1;
        }
        free(comb);
        free(perm);
        free(free_mib);
        free(where);
        free(dead);
        free(refs);
        return ok;
}

/* C(n,r)·r! = n!/(n-r)!, capped */
static uint64_t failure_orders(unsigned n, unsigned r) {
        uint64_t v = 1;
        for (unsigned i = 0; i < r; i++) {
                v *= n - i;
                if (v >= XAPI_EXHAUSTIVE_LIMIT)
                        return XAPI_EXHAUSTIVE_LIMIT;
        }
        return v;
}

/* compute_max_host_failures_tolerated: the largest r whose plan works. */
static unsigned xapi_ntol(const struct plan_pool *p, bool *used_approximation) {
        struct xapi x;
        xapi_build(p, &x);
        unsigned n = (unsigned)x.n_hosts, r;
        *used_approximation = false;
        for (r = 1; r <= n; r++) {
                if (r == n && x.n_vms > 0)
                        break;  /* plan_trivially_never_possible */
                bool ok;
                if (n <= 32 && failure_orders(n, r) < XAPI_EXHAUSTIVE_LIMIT) {
                        ok = xapi_exhaustive(&x, r);
                } else {
                        ok = xapi_approximation(&x, r);
                        *used_approximation = true;
                }
                if (!ok)
                        break;
        }
        xapi_done(&x);
        return r - 1;
}

struct totals {
        unsigned pools, exact, under, over, check_failures;
        double worst_64x2000;
};

/* Spot check of the answer on the big pool itself: restart plans for 20
 * random failures of ntol hosts must place every agile restart VM, and the
 * plan for the uncovered failure must leave some restart VM out. */
static bool answer_holds(const struct plan_pool *p, const struct plan_ntol *n, uint64_t seed) {
        struct rng r = { .s = seed | 1 };
        size_t nh = plan_pool_n_hosts(p);
        size_t *failed = calloc(nh + 1, sizeof(*failed));
        bool *in = calloc(nh + 1, sizeof(*in));
        bool ok = true;
        for (unsigned t = 0; t < 20 && ok && n->failures_tolerated > 0; t++) {
                memset(in, 0, nh * sizeof(*in));
                for (size_t k = 0; k < n->failures_tolerated;) {
                        size_t h = rng_below(&r, (unsigned)nh);
                        if (!in[h] && plan_pool_host(p, h)->state == PLAN_HOST_LIVE) {
                                in[h] = true;
                                failed[k++] = h;
                        }
                }
                struct plan_restart_plan *plan = NULL;
                if (plan_restart_for_failure(p, failed, n->failures_tolerated, NULL, &plan) < 0)
                        abort();
                for (size_t i = 0; i < plan->n_unplaced; i++) {
                        const struct plan_vm *vm = plan_pool_vm(p, plan->unplaced[i]);
                        if (vm->priority == PLAN_PRIORITY_RESTART && vm->agile)
                                ok = false;
                }
                plan_restart_plan_free(plan);
        }
        if (ok && n->n_uncovered) {
                struct plan_restart_plan *plan = NULL;
                if (plan_restart_for_failure(p, n->uncovered, n->n_uncovered, NULL, &plan) < 0)
                        abort();
                bool left_out = false;
                for (size_t i = 0; i < plan->n_unplaced; i++) {
                        const struct plan_vm *vm = plan_pool_vm(p, plan->unplaced[i]);
                        left_out |= vm->priority == PLAN_PRIORITY_RESTART && vm->agile;
                }
                ok = left_out;
                plan_restart_plan_free(plan);
        }
        free(failed);
        free(in);
        return ok;
}

static void run_mix(bool odd, struct totals *t) {
        static const unsigned host_counts[] = { 16, 32, 64 };
        static const unsigned vm_counts[] = { 500, 2000, 8000 };

        printf("\n== VM sizes: %s\n", odd ? "any multiple of 4 MiB, log-uniform 512 MiB..64 GiB"
                                          : "round (512 MiB..64 GiB, skewed small)");
        printf("%5s %5s %4s %5s | %5s %5s %5s %9s %7s %6s | %5s %6s %9s | %s\n", "hosts", "vms", "seed", "use%",
               "ntol", "exact", "max", "ms", "sets", "packs", "xapi", "method", "xapi ms", "xapi vs exact");
        for (size_t hi = 0; hi < 3; hi++) {
                for (size_t vi = 0; vi < 3; vi++) {
                        unsigned under = 0, over = 0, exact = 0;
                        double sum_ms = 0, max_ms = 0, sum_xms = 0;
                        for (unsigned seed = 1; seed <= SEEDS; seed++) {
                                double use;
                                struct plan_pool *p = generate(host_counts[hi], vm_counts[vi],
                                                               seed * 1000 + hi * 10 + vi + (odd ? 500 : 0), odd, &use);
                                double t0 = now_ms();
                                struct plan_ntol *n = NULL;
                                if (plan_failures_tolerated(p, NULL, &n) < 0)
                                        abort();
                                double ms = now_ms() - t0;
                                bool approx;
                                t0 = now_ms();
                                unsigned x = xapi_ntol(p, &approx);
                                double xms = now_ms() - t0;
                                const char *verdict = "(ours inexact)";
                                if (n->exact) {
                                        exact++;
                                        if (x < n->failures_tolerated) {
                                                under++;
                                                verdict = "under-reports";
                                        } else if (x > n->failures_tolerated) {
                                                over++;
                                                verdict = "OVER-REPORTS";
                                        } else {
                                                verdict = "same";
                                        }
                                } else if (x > n->upper_bound) {
                                        over++;
                                        verdict = "OVER-REPORTS";
                                }
                                printf("%5u %5u %4u %5.1f | %5u %5s %5u %9.2f %7" PRIu64 " %6" PRIu64
                                       " | %5u %6s %9.2f | %s\n",
                                       host_counts[hi], vm_counts[vi], seed, use * 100, n->failures_tolerated,
                                       n->exact ? "yes" : "no", n->upper_bound, ms, n->stats.sets_checked,
                                       n->stats.exact_runs, x, approx ? "approx" : "exact", xms, verdict);
                                if (!answer_holds(p, n, seed)) {
                                        t->check_failures++;
                                        printf("      ^ CHECK FAILED: a tolerated failure left a restart VM out, or the "
                                               "uncovered failure fits\n");
                                }
                                sum_ms += ms;
                                sum_xms += xms;
                                if (ms > max_ms)
                                        max_ms = ms;
                                if (host_counts[hi] == 64 && vm_counts[vi] == 2000 && n->exact &&
                                    ms > t->worst_64x2000)
                                        t->worst_64x2000 = ms;
                                plan_ntol_free(n);
                                plan_pool_free(p);
                        }
                        printf("%5u %5u  all       | exact %u/%u, mean %.2f ms, max %.2f ms | xapi mean %.2f ms, "
                               "under-reports %u, over-reports %u\n",
                               host_counts[hi], vm_counts[vi], exact, SEEDS, sum_ms / SEEDS, max_ms,
                               sum_xms / SEEDS, under, over);
                        t->under += under;
                        t->over += over;
                        t->exact += exact;
                        t->pools += SEEDS;
                }
        }
}

int main(void) {
        struct totals t = { 0 };
        printf("ntol: ours (max = upper bound, equal to ntol when exact; sets = failure sets checked one by one;\n"
               "packs = exact bin-packing searches); xapi = binpack.ml's method on the same pool\n");
        run_mix(false, &t);
        run_mix(true, &t);
        printf("\n%u pools: ours exact on %u; against our exact values xapi's method under-reports on %u and "
               "over-reports on %u\n", t.pools, t.exact, t.under, t.over);
        printf("spot checks of the answers (restart plans of random tolerated failures and of the uncovered one): "
               "%u failed\n", t.check_failures);
        printf("64 hosts x 2,000 VMs: slowest exact ntol %.2f ms (goal: under 1000 ms)\n", t.worst_64x2000);
        return 0;
}
