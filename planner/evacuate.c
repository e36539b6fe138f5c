/* Evacuation plan: the live migrations that empty a host before maintenance.
 *
 * A live migration holds the VM's memory on the target before it frees it
 * on the source, so a step is safe only if the target has room for the whole
 * VM at that moment. The plan is a sequence of such steps, each checked
 * against the free memory left by the steps before it, so no host is ever
 * overcommitted, even transiently.
 *
 * First the planner places all the host's VMs directly on the other live
 * hosts: spread out (roomiest host first, so that the pool keeps its
 * failures tolerated), or else packed by the exact packer used everywhere.
 * If even that fails, it takes
 * the VMs biggest first: a VM that fits somewhere goes to the tightest host
 * that takes it; one that fits nowhere gets room made for it: on some target
 * host, a few VMs are first moved to third hosts (each move itself safe),
 * choosing the target where the least memory has to move. A VM is moved at
 * most once. What cannot move (pinned VMs, or no room even so) is listed.
 */
#include "planner/pack.h"
#include "planner/planner.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct evac {
        const struct plan_pool *pool;
        size_t nh, nv, host;
        int64_t *res;           /* free memory per host, as the plan goes */
        bool *target_ok;        /* live and not the evacuated host */
        bool *moved;            /* per VM: already moved by this plan */
        size_t *on_host;        /* per VM: current host */
        struct plan_evacuation *plan;
        /* make-room scratch */
        size_t *cand, *pick, *dest, *best_pick, *best_dest;
        int64_t *res_try;
};

static void emit(struct evac *e, size_t vm, size_t to) {
        uint64_t size = plan_pool_vm(e->pool, vm)->memory_mib;
        size_t from = e->on_host[vm];
        e->plan->migrations[e->plan->n_migrations++] = (struct plan_migration){ .vm = vm, .from = from, .to = to };
        e->res[to] -= (int64_t)size;
        e->res[from] += (int64_t)size;
        e->on_host[vm] = to;
        e->moved[vm] = true;
}

static size_t tightest_host(const struct evac *e, const int64_t *res, uint64_t size, size_t avoid) {
        size_t pick = SIZE_MAX;
        for (size_t h = 0; h < e->nh; h++)
                if (e->target_ok[h] && h != avoid && res[h] >= (int64_t)size &&
                    (pick == SIZE_MAX || res[h] < res[pick]))
                        pick = h;
        return pick;
}

static int cmp_vm_size_desc(const void *a, const void *b, void *arg) {
        const struct plan_pool *pool = arg;
        size_t x = *(const size_t *)a, y = *(const size_t *)b;
        uint64_t sx = plan_pool_vm(pool, x)->memory_mib, sy = plan_pool_vm(pool, y)->memory_mib;
        if (sx != sy)
                return sx < sy ? 1 : -1;
        return x < y ? -1 : x > y;
}

/* Tries to free `need` MiB on host t by moving VMs of t to third hosts.
 * Candidates are tried biggest first, skipping any that would overshoot
 * when a smaller one suffices; each move must fit where it goes. On success
 * fills pick/dest (n entries) and returns the memory moved, else 0. */
static uint64_t room_on(struct evac *e, size_t t, uint64_t need, size_t *n_ret) {
        size_t nc = 0;
        for (size_t i = 0; i < e->nv; i++) {
                const struct plan_vm *vm = plan_pool_vm(e->pool, i);
                if (e->on_host[i] == t && vm->agile && !e->moved[i] && vm->memory_mib > 0)
                        e->cand[nc++] = i;
        }
        qsort_r(e->cand, nc, sizeof(*e->cand), cmp_vm_size_desc, (void *)e->pool);
        memcpy(e->res_try, e->res, e->nh * sizeof(*e->res));

        /* The smallest single VM that frees enough, if it can go somewhere. */
        for (size_t k = nc; k-- > 0;) {
                uint64_t s = plan_pool_vm(e->pool, e->cand[k])->memory_mib;
                if (s < need)
                        continue;
                size_t d = tightest_host(e, e->res_try, s, t);
                if (d == SIZE_MAX)
                        continue;
                e->pick[0] = e->cand[k];
                e->dest[0] = d;
                *n_ret = 1;
                return s;
        }
        /* Otherwise biggest first until enough is freed. */
        uint64_t freed = 0;
        size_t n = 0;
        for (size_t k = 0; k < nc && freed < need; k++) {
                uint64_t s = plan_pool_vm(e->pool, e->cand[k])->memory_mib;
                size_t d = tightest_host(e, e->res_try, s, t);
                if (d == SIZE_MAX)
                        continue;
                e->res_try[d] -= (int64_t)s;
                e->pick[n] = e->cand[k];
                e->dest[n] = d;
                n++;
                freed += s;
        }
        if (freed < need)
                return 0;
        *n_ret = n;
        return freed;
}

/* Makes room for vm somewhere, by moving the least memory, and migrates it. */
static bool make_room_and_move(struct evac *e, size_t vm) {
        uint64_t size = plan_pool_vm(e->pool, vm)->memory_mib;
        uint64_t best = 0;
        size_t best_t = SIZE_MAX, best_n = 0;
        for (size_t t = 0; t < e->nh; t++) {
                if (!e->target_ok[t] || e->res[t] >= (int64_t)size)
                        continue;
                if ((int64_t)plan_pool_host(e->pool, t)->memory_mib < (int64_t)size)
                        continue;
                uint64_t need = (uint64_t)((int64_t)size - e->res[t]);
                size_t n = 0;
                uint64_t moved = room_on(e, t, need, &n);
                if (moved == 0 || (best_t != SIZE_MAX && moved >= best))
                        continue;
                best = moved;
                best_t = t;
                best_n = n;
                memcpy(e->best_pick, e->pick, n * sizeof(*e->pick));
                memcpy(e->best_dest, e->dest, n * sizeof(*e->dest));
        }
        if (best_t == SIZE_MAX)
                return false;
        for (size_t k = 0; k < best_n; k++)
                emit(e, e->best_pick[k], e->best_dest[k]);
        emit(e, vm, best_t);
        return true;
}

static int evacuate(struct evac *e, const struct plan_options *opts) {
        size_t *pending = calloc(e->nv + 1, sizeof(*pending));
        uint64_t *sizes = calloc(e->nv + 1, sizeof(*sizes));
        int64_t *caps = calloc(e->nh + 1, sizeof(*caps));
        size_t *bin_host = calloc(e->nh + 1, sizeof(*bin_host));
        size_t *assign = calloc(e->nv + 1, sizeof(*assign));
        int r = 0;
        if (!pending || !sizes || !caps || !bin_host || !assign) {
                r = -ENOMEM;
                goto out;
        }
        size_t np = 0;
        for (size_t i = 0; i < e->nv; i++) {
                const struct plan_vm *vm = plan_pool_vm(e->pool, i);
                if (vm->host != e->host)
                        continue;
                if (vm->agile)
                        pending[np++] = i;
                else
                        e->plan->unplaced[e->plan->n_unplaced++] = i;
        }
        qsort_r(pending, np, sizeof(*pending), cmp_vm_size_desc, (void *)e->pool);

        size_t nb = 0;
        for (size_t h = 0; h < e->nh; h++)
                if (e->target_ok[h])
                        bin_host[nb++] = h;
        for (size_t i = 0; i < np; i++)
                sizes[i] = plan_pool_vm(e->pool, pending[i])->memory_mib;

        /* Spread first: the roomiest host for each VM, biggest first, keeps
         * free memory even across the pool, which is what failures
         * tolerated needs afterwards. */
        bool spread = true;
        for (size_t b = 0; b < nb; b++)
                caps[b] = e->res[bin_host[b]];
        for (size_t i = 0; i < np && spread; i++) {
                size_t pick = SIZE_MAX;
                for (size_t b = 0; b < nb; b++)
                        if (caps[b] >= (int64_t)sizes[i] && (pick == SIZE_MAX || caps[b] > caps[pick]))
                                pick = b;
                if (pick == SIZE_MAX) {
                        spread = false;
                } else {
                        caps[pick] -= (int64_t)sizes[i];
                        assign[i] = pick;
                }
        }
        if (spread) {
                for (size_t i = 0; i < np; i++)
                        emit(e, pending[i], bin_host[assign[i]]);
                goto out;
        }
        for (size_t b = 0; b < nb; b++)
                caps[b] = e->res[bin_host[b]];
        enum pack_verdict v;
        r = pack_items(sizes, np, caps, nb, opts->pack_budget, NULL, assign, NULL, &v);
        if (r < 0)
                goto out;
        if (v == PACK_FITS) {
                for (size_t i = 0; i < np; i++)
                        emit(e, pending[i], bin_host[assign[i]]);
                goto out;
        }

        for (size_t i = 0; i < np; i++) {
                size_t vm = pending[i];
                size_t t = tightest_host(e, e->res, sizes[i], SIZE_MAX);
                if (t != SIZE_MAX)
                        emit(e, vm, t);
                else if (!make_room_and_move(e, vm))
                        e->plan->unplaced[e->plan->n_unplaced++] = vm;
        }
out:
        free(pending);
        free(sizes);
        free(caps);
        free(bin_host);
        free(assign);
        return r;
}

int plan_evacuate_host(const struct plan_pool *pool, size_t host, const struct plan_options *opts,
                       struct plan_evacuation **ret) {
        size_t nh = plan_pool_n_hosts(pool), nv = plan_pool_n_vms(pool);
        struct plan_options o;
        if (opts)
                o = *opts;
        else
                plan_options_init(&o);
        if (host >= nh || plan_pool_host(pool, host)->state == PLAN_HOST_DEAD)
                return -EINVAL;

        struct evac e = { .pool = pool, .nh = nh, .nv = nv, .host = host };
        int r = pool_compute_free_mib(pool, &e.res);
        if (r < 0)
                return r;
        e.target_ok = calloc(nh + 1, sizeof(*e.target_ok));
        e.moved = calloc(nv + 1, sizeof(*e.moved));
        e.on_host = calloc(nv + 1, sizeof(*e.on_host));
        e.cand = calloc(nv + 1, sizeof(size_t));
        e.pick = calloc(nv + 1, sizeof(size_t));
        e.dest = calloc(nv + 1, sizeof(size_t));
        e.best_pick = calloc(nv + 1, sizeof(size_t));
        e.best_dest = calloc(nv + 1, sizeof(size_t));
        e.res_try = calloc(nh + 1, sizeof(int64_t));
        e.plan = calloc(1, sizeof(*e.plan));
        if (!e.target_ok || !e.moved || !e.on_host || !e.cand || !e.pick || !e.dest || !e.best_pick ||
            !e.best_dest || !e.res_try || !e.plan) {
                r = -ENOMEM;
                goto out;
        }
        /* each VM moves at most once */
        e.plan->migrations = calloc(nv + 1, sizeof(*e.plan->migrations));
        e.plan->unplaced = calloc(nv + 1, sizeof(*e.plan->unplaced));
        if (!e.plan->migrations || !e.plan->unplaced) {
                r = -ENOMEM;
                goto out;
        }
        for (size_t h = 0; h < nh; h++)
                e.target_ok[h] = h != host && plan_pool_host(pool, h)->state == PLAN_HOST_LIVE;
        for (size_t i = 0; i < nv; i++)
                e.on_host[i] = plan_pool_vm(pool, i)->host;

        r = evacuate(&e, &o);
        if (r < 0)
                goto out;
        *ret = e.plan;
        e.plan = NULL;
out:
        free(e.res);
        free(e.target_ok);
        free(e.moved);
        free(e.on_host);
        free(e.cand);
        free(e.pick);
        free(e.dest);
        free(e.best_pick);
        free(e.best_dest);
        free(e.res_try);
        plan_evacuation_free(e.plan);
        return r;
}

void plan_evacuation_free(struct plan_evacuation *evacuation) {
        if (!evacuation)
                return;
        free(evacuation->migrations);
        free(evacuation->unplaced);
        free(evacuation);
}
