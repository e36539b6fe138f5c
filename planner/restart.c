/* Restart plan: where the VMs of a failed set of hosts start again.
 *
 * Placement and execution order are two separate questions. Where the VMs
 * go is decided for all restart VMs at once, with the same packer that
 * failures tolerated uses, so that a failure the pool claims to tolerate
 * always gets a complete plan. When is their order group (ascending),
 * bigger first within a group. Since every survivor only ever receives VMs,
 * any execution order of a packing that fits also fits at every step.
 *
 * When the restart VMs do not all fit, the longest prefix of order groups
 * that packs is kept, and the rest go greedily (best fit) in order. Then the
 * best-effort VMs take what is left, greedily. Nothing is silently dropped:
 * whatever cannot be placed, including pinned (non-agile) VMs of a failed
 * host, is listed as unplaced.
 */
#include "planner/pack.h"
#include "planner/planner.h"

#include <errno.h>
#include <stdlib.h>

#define PLAN_PACK_BUDGET_FACTOR 50

struct rvm {
        size_t vm;
        uint64_t size;
        int32_t order;
};

static int cmp_rvm(const void *a, const void *b) {
        const struct rvm *x = a, *y = b;
        if (x->order != y->order)
                return x->order < y->order ? -1 : 1;
        if (x->size != y->size)
                return x->size < y->size ? 1 : -1;
        return x->vm < y->vm ? -1 : x->vm > y->vm;
}

/* Best fit: the survivor with the least room that still takes the VM. */
static size_t best_fit(const int64_t *res, size_t nb, uint64_t size) {
        size_t pick = SIZE_MAX;
        for (size_t b = 0; b < nb; b++)
                if (res[b] >= (int64_t)size && (pick == SIZE_MAX || res[b] < res[pick]))
                        pick = b;
        return pick;
}

/* Places list[0..n) onto res[]: jointly if they all pack, else the longest
 * prefix of order groups that packs, then greedily. bin[i] is the bin of
 * list[i] or SIZE_MAX. res[] is updated. */
static int place_restart_vms(const struct rvm *list, size_t n, int64_t *res, size_t nb,
                             uint64_t budget, size_t *bin) {
        uint64_t *sizes = calloc(n + 1, sizeof(*sizes));
        size_t *assign = calloc(n + 1, sizeof(*assign));
        int r = 0;
        if (!sizes || !assign) {
                r = -ENOMEM;
                goto out;
        }
        for (size_t i = 0; i < n; i++) {
                sizes[i] = list[i].size;
                bin[i] = SIZE_MAX;
        }

        /* Try everything, then shorter prefixes of whole order groups (with
         * a smaller budget each: the full search already had its chance). */
        size_t packed = 0;
        for (size_t end = n; end > 0;) {
                enum pack_verdict v;
                r = pack_items(sizes, end, res, nb, end == n ? budget : budget / PLAN_PACK_BUDGET_FACTOR, NULL,
                               assign, NULL, &v);
                if (r < 0)
                        goto out;
                if (v == PACK_FITS) {
                        packed = end;
                        break;
                }
                /* drop the last order group of the prefix */
                size_t start = end - 1;
                while (start > 0 && list[start - 1].order == list[end - 1].order)
                        start--;
                end = start;
        }
        for (size_t i = 0; i < packed; i++) {
                bin[i] = assign[i];
                res[assign[i]] -= (int64_t)list[i].size;
        }
        for (size_t i = packed; i < n; i++) {
                size_t b = best_fit(res, nb, list[i].size);
                if (b == SIZE_MAX)
                        continue;
                bin[i] = b;
                res[b] -= (int64_t)list[i].size;
        }
out:
        free(sizes);
        free(assign);
        return r;
}

int plan_restart_for_failure(const struct plan_pool *pool, const size_t *failed, size_t n_failed,
                             const struct plan_options *opts, struct plan_restart_plan **ret) {
        size_t nh = plan_pool_n_hosts(pool), nv = plan_pool_n_vms(pool);
        struct plan_options defaults;
        bool *in_f = NULL;
        int64_t *free_mib = NULL, *res = NULL;
        size_t *bin_host = NULL, *rbin = NULL, *bbin = NULL, *pinned = NULL, *pinned_b = NULL;
        struct rvm *rl = NULL, *bl = NULL;
        struct plan_restart_plan *plan = NULL;
        int r;

        if (!opts) {
                plan_options_init(&defaults);
                opts = &defaults;
        }
        for (size_t i = 0; i < n_failed; i++)
                if (failed[i] >= nh)
                        return -EINVAL;

        r = pool_compute_free_mib(pool, &free_mib);
        if (r < 0)
                return r;
        in_f = calloc(nh + 1, sizeof(*in_f));
        res = calloc(nh + 1, sizeof(*res));
        bin_host = calloc(nh + 1, sizeof(*bin_host));
        rl = calloc(nv + 1, sizeof(*rl));
        bl = calloc(nv + 1, sizeof(*bl));
        rbin = calloc(nv + 1, sizeof(*rbin));
        bbin = calloc(nv + 1, sizeof(*bbin));
        pinned = calloc(nv + 1, sizeof(*pinned));
        pinned_b = calloc(nv + 1, sizeof(*pinned_b));
        plan = calloc(1, sizeof(*plan));
        if (!in_f || !res || !bin_host || !rl || !bl || !rbin || !bbin || !pinned || !pinned_b || !plan) {
                r = -ENOMEM;
                goto out;
        }
        plan->restarts = calloc(nv + 1, sizeof(*plan->restarts));
        plan->unplaced = calloc(nv + 1, sizeof(*plan->unplaced));
        if (!plan->restarts || !plan->unplaced) {
                r = -ENOMEM;
                goto out;
        }
        for (size_t i = 0; i < n_failed; i++)
                in_f[failed[i]] = true;

        size_t nb = 0;
        for (size_t h = 0; h < nh; h++) {
                if (in_f[h] || plan_pool_host(pool, h)->state != PLAN_HOST_LIVE)
                        continue;
                bin_host[nb] = h;
                res[nb] = free_mib[h] > 0 ? free_mib[h] : 0;
                nb++;
        }

        size_t nr = 0, nbe = 0, n_pinned_r = 0, n_pinned_b = 0;
        for (size_t i = 0; i < nv; i++) {
                const struct plan_vm *vm = plan_pool_vm(pool, i);
                if (vm->host == PLAN_NO_HOST || !in_f[vm->host] || vm->priority == PLAN_PRIORITY_NONE)
                        continue;
                struct rvm e = { .vm = i, .size = vm->memory_mib, .order = vm->order };
                if (vm->priority == PLAN_PRIORITY_RESTART) {
                        if (vm->agile)
                                rl[nr++] = e;
                        else
                                pinned[n_pinned_r++] = i;
                } else {
                        if (vm->agile)
                                bl[nbe++] = e;
                        else
                                pinned_b[n_pinned_b++] = i;
                }
        }
        qsort(rl, nr, sizeof(*rl), cmp_rvm);
        qsort(bl, nbe, sizeof(*bl), cmp_rvm);

        uint64_t budget = opts->pack_budget * PLAN_PACK_BUDGET_FACTOR;
        r = place_restart_vms(rl, nr, res, nb, budget, rbin);
        if (r < 0)
                goto out;
        for (size_t i = 0; i < nbe; i++) {
                size_t b = best_fit(res, nb, bl[i].size);
                bbin[i] = b;
                if (b != SIZE_MAX)
                        res[b] -= (int64_t)bl[i].size;
        }
        for (size_t i = 0; i < nr; i++)
                if (rbin[i] != SIZE_MAX)
                        plan->restarts[plan->n_restarts++] =
                                (struct plan_restart){ .vm = rl[i].vm, .host = bin_host[rbin[i]] };
        for (size_t i = 0; i < nbe; i++)
                if (bbin[i] != SIZE_MAX)
                        plan->restarts[plan->n_restarts++] =
                                (struct plan_restart){ .vm = bl[i].vm, .host = bin_host[bbin[i]] };
        for (size_t i = 0; i < nr; i++)
                if (rbin[i] == SIZE_MAX)
                        plan->unplaced[plan->n_unplaced++] = rl[i].vm;
        for (size_t i = 0; i < n_pinned_r; i++)
                plan->unplaced[plan->n_unplaced++] = pinned[i];
        for (size_t i = 0; i < nbe; i++)
                if (bbin[i] == SIZE_MAX)
                        plan->unplaced[plan->n_unplaced++] = bl[i].vm;
        for (size_t i = 0; i < n_pinned_b; i++)
                plan->unplaced[plan->n_unplaced++] = pinned_b[i];
        *ret = plan;
        plan = NULL;
out:
        free(in_f);
        free(free_mib);
        free(res);
        free(bin_host);
        free(rl);
        free(bl);
        free(rbin);
        free(bbin);
        free(pinned);
        free(pinned_b);
        plan_restart_plan_free(plan);
        return r;
}

void plan_restart_plan_free(struct plan_restart_plan *plan) {
        if (!plan)
                return;
        free(plan->restarts);
        free(plan->unplaced);
        free(plan);
}
