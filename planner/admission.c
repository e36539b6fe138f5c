/* Admission control: would this change leave the pool less protected than
 * its failures-to-tolerate target?
 *
 * The change is applied to a copy of the pool and failures tolerated is
 * computed before and after. A change that cannot happen at all (a VM that
 * would not fit on its host, a host that cannot be emptied) is refused
 * whatever the target or the overcommit setting: overcommit is about HA
 * capacity, not about physical memory. The answer always carries a sentence
 * an administrator can act on: what the change does to failures tolerated,
 * and, when it is refused, which failure would leave which VMs unplaced.
 * The caller's budgets, time included, bound the two failures-tolerated
 * computations; a search cut short gives a lower bound, and so can only
 * refuse more.
 */
#include "planner/pack.h"
#include "planner/planner.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NAMED_VMS 8  /* a reason names at most this many VMs */

struct text {
        char *s;
        size_t len, cap;
        bool oom;
};

static void text_add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void text_add(struct text *t, const char *fmt, ...) {
        if (t->oom)
                return;
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
                t->oom = true;
                return;
        }
        if (t->len + (size_t)n + 1 > t->cap) {
                size_t cap = t->cap ? t->cap : 128;
                while (cap < t->len + (size_t)n + 1)
                        cap *= 2;
                char *s = realloc(t->s, cap);
                if (!s) {
                        t->oom = true;
                        return;
                }
                t->s = s;
                t->cap = cap;
        }
        va_start(ap, fmt);
        vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        t->len += (size_t)n;
}

/* "protecting vm-a (8192 MiB)", the subject of every sentence. */
static void describe_change(struct text *t, const struct plan_pool *pool, const struct plan_change *c) {
        const struct plan_vm *vm = c->kind == PLAN_CHANGE_HOST_MAINTENANCE ? NULL : plan_pool_vm(pool, c->vm);
        switch (c->kind) {
        case PLAN_CHANGE_PROTECT_VM:
                text_add(t, "protecting %s (%" PRIu64 " MiB)", vm->name, vm->memory_mib);
                break;
        case PLAN_CHANGE_GROW_VM:
                text_add(t, "growing %s from %" PRIu64 " to %" PRIu64 " MiB", vm->name, vm->memory_mib,
                         c->memory_mib);
                break;
        case PLAN_CHANGE_START_VM:
                text_add(t, "starting %s (%" PRIu64 " MiB) on %s", vm->name, vm->memory_mib,
                         plan_pool_host(pool, c->host)->name);
                break;
        case PLAN_CHANGE_HOST_MAINTENANCE:
                text_add(t, "putting %s into maintenance", plan_pool_host(pool, c->host)->name);
                break;
        }
}

static int check_indexes(const struct plan_pool *pool, const struct plan_change *c) {
        size_t nh = plan_pool_n_hosts(pool), nv = plan_pool_n_vms(pool);
        switch (c->kind) {
        case PLAN_CHANGE_PROTECT_VM:
                return c->vm < nv ? 0 : -EINVAL;
        case PLAN_CHANGE_GROW_VM:
                return c->vm < nv && c->memory_mib <= PLAN_MAX_MEMORY_MIB ? 0 : -EINVAL;
        case PLAN_CHANGE_START_VM:
                if (c->vm >= nv || c->host >= nh)
                        return -EINVAL;
                return plan_pool_vm(pool, c->vm)->host == PLAN_NO_HOST ? 0 : -EINVAL;
        case PLAN_CHANGE_HOST_MAINTENANCE:
                return c->host < nh ? 0 : -EINVAL;
        }
        return -EINVAL;
}

/* Applies the change to `pool` (a copy). Returns 1 and explains in t when
 * the change cannot happen at all. */
static int apply_change(struct plan_pool *pool, const struct plan_change *c, struct text *t) {
        int r;
        switch (c->kind) {
        case PLAN_CHANGE_PROTECT_VM:
                return plan_pool_set_vm_priority(pool, c->vm, PLAN_PRIORITY_RESTART);
        case PLAN_CHANGE_GROW_VM: {
                const struct plan_vm *vm = plan_pool_vm(pool, c->vm);
                if (vm->host != PLAN_NO_HOST && c->memory_mib > vm->memory_mib) {
                        int64_t free_mib = plan_pool_host_free_mib(pool, vm->host);
                        uint64_t more = c->memory_mib - vm->memory_mib;
                        if (free_mib < (int64_t)more) {
                                text_add(t, " is impossible: %s has %" PRId64 " MiB free, %" PRIu64 " MiB needed",
                                         plan_pool_host(pool, vm->host)->name, free_mib, more);
                                return 1;
                        }
                }
                return plan_pool_set_vm_memory(pool, c->vm, c->memory_mib);
        }
        case PLAN_CHANGE_START_VM: {
                const struct plan_host *h = plan_pool_host(pool, c->host);
                const struct plan_vm *vm = plan_pool_vm(pool, c->vm);
                if (h->state != PLAN_HOST_LIVE) {
                        text_add(t, " is impossible: %s is %s", h->name, plan_host_state_to_string(h->state));
                        return 1;
                }
                int64_t free_mib = plan_pool_host_free_mib(pool, c->host);
                if (free_mib < (int64_t)vm->memory_mib) {
                        text_add(t, " is impossible: %s has only %" PRId64 " MiB free", h->name, free_mib);
                        return 1;
                }
                return plan_pool_set_vm_host(pool, c->vm, c->host);
        }
        case PLAN_CHANGE_HOST_MAINTENANCE: {
                const struct plan_host *h = plan_pool_host(pool, c->host);
                if (h->state == PLAN_HOST_DEAD) {
                        text_add(t, " is impossible: %s is dead", h->name);
                        return 1;
                }
                struct plan_evacuation *ev = NULL;
                r = plan_evacuate_host(pool, c->host, NULL, &ev);
                if (r < 0)
                        return r;
                if (ev->n_unplaced > 0) {
                        text_add(t, " is impossible: %s cannot be emptied; ", h->name);
                        for (size_t i = 0; i < ev->n_unplaced; i++) {
                                const struct plan_vm *vm = plan_pool_vm(pool, ev->unplaced[i]);
                                text_add(t, "%s%s (%s)", i ? ", " : "", vm->name,
                                         vm->agile ? "no room elsewhere" : "pinned to the host");
                        }
                        text_add(t, " would stay");
                        plan_evacuation_free(ev);
                        return 1;
                }
                for (size_t i = 0; i < ev->n_migrations && r >= 0; i++)
                        r = plan_pool_set_vm_host(pool, ev->migrations[i].vm, ev->migrations[i].to);
                plan_evacuation_free(ev);
                if (r < 0)
                        return r;
                return plan_pool_set_host_state(pool, c->host, PLAN_HOST_MAINTENANCE);
        }
        }
        return -EINVAL;
}

/* "; the failure of {h2,h3} would leave vm-a, vm-c unplaced" */
static int explain_uncovered(struct text *t, const struct plan_pool *pool, const struct plan_ntol *n) {
        const size_t *set = n->n_uncovered ? n->uncovered : n->undecided;
        size_t k = n->n_uncovered ? n->n_uncovered : n->n_undecided;
        if (k == 0)
                return 0;
        text_add(t, "; the failure of {");
        for (size_t i = 0; i < k; i++)
                text_add(t, "%s%s", i ? "," : "", plan_pool_host(pool, set[i])->name);
        text_add(t, "}");
        if (!n->n_uncovered) {
                text_add(t, " could not be proven survivable within the search budget");
                return 0;
        }
        struct plan_restart_plan *p = NULL;
        int r = plan_restart_for_failure(pool, set, k, NULL, &p);
        if (r < 0)
                return r;
        size_t shown = 0, more = 0;
        for (size_t i = 0; i < p->n_unplaced; i++) {
                const struct plan_vm *vm = plan_pool_vm(pool, p->unplaced[i]);
                if (vm->priority != PLAN_PRIORITY_RESTART || !vm->agile)
                        continue;
                if (shown == MAX_NAMED_VMS) {
                        more++;
                        continue;
                }
                text_add(t, "%s%s", shown ? ", " : " would leave ", vm->name);
                shown++;
        }
        if (more)
                text_add(t, " and %zu more", more);
        text_add(t, shown ? " unplaced" : " would not leave room for every restart VM");
        plan_restart_plan_free(p);
        return 0;
}

int plan_check_change(const struct plan_pool *pool, const struct plan_change *change,
                      struct plan_admission **ret) {
        return plan_check_change_opts(pool, change, NULL, ret);
}

int plan_check_change_opts(const struct plan_pool *pool, const struct plan_change *change,
                           const struct plan_options *opts, struct plan_admission **ret) {
        struct plan_pool *after = NULL;
        struct plan_ntol *before_n = NULL, *after_n = NULL;
        struct plan_admission *a = NULL;
        struct text t = { 0 };
        int r = check_indexes(pool, change);
        if (r < 0)
                return r;

        a = calloc(1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        r = plan_failures_tolerated(pool, opts, &before_n);
        if (r < 0)
                goto out;
        r = plan_pool_dup(pool, &after);
        if (r < 0)
                goto out;

        describe_change(&t, pool, change);
        a->ntol_before = before_n->failures_tolerated;
        r = apply_change(after, change, &t);
        if (r < 0)
                goto out;
        if (r == 1) {
                r = 0;
                a->allowed = false;
                a->ntol_after = a->ntol_before;
                a->exact = before_n->exact;
                a->expired = before_n->stats.expired;
                goto done;
        }
        r = plan_failures_tolerated(after, opts, &after_n);
        if (r < 0)
                goto out;
        a->ntol_after = after_n->failures_tolerated;
        a->exact = before_n->exact && after_n->exact;
        a->expired = before_n->stats.expired || after_n->stats.expired;

        if (a->ntol_after < a->ntol_before)
                text_add(&t, " drops failures tolerated from %u to %u", a->ntol_before, a->ntol_after);
        else if (a->ntol_after > a->ntol_before)
                text_add(&t, " raises failures tolerated from %u to %u", a->ntol_before, a->ntol_after);
        else
                text_add(&t, " keeps failures tolerated at %u", a->ntol_after);
        if (!after_n->exact)
                text_add(&t, after_n->stats.expired ? " (at least: the search ran out of time)" : " (at least)");

        int target = plan_pool_target(pool);
        if (target == PLAN_NO_TARGET) {
                a->allowed = true;
                text_add(&t, " (no target set)");
        } else if (a->ntol_after >= (unsigned)target) {
                a->allowed = true;
                text_add(&t, " (target %d)", target);
        } else {
                text_add(&t, ", below the target %d", target);
                r = explain_uncovered(&t, after, after_n);
                if (r < 0)
                        goto out;
                if (plan_pool_allows_overcommit(pool)) {
                        a->allowed = true;
                        a->overcommitted = true;
                        text_add(&t, "; allowed because the pool allows overcommit: the pool becomes overcommitted");
                } else {
                        a->allowed = false;
                }
        }
        if (change->kind == PLAN_CHANGE_PROTECT_VM) {
                const struct plan_vm *vm = plan_pool_vm(pool, change->vm);
                if (!vm->agile)
                        text_add(&t, "; note: %s is pinned to its host, no other host can restart it", vm->name);
                else if (vm->host == PLAN_NO_HOST)
                        text_add(&t, "; note: %s is halted and counts once it runs", vm->name);
        }
done:
        if (t.oom) {
                r = -ENOMEM;
                goto out;
        }
        a->reason = t.s;
        t.s = NULL;
        *ret = a;
        a = NULL;
out:
        free(t.s);
        plan_pool_free(after);
        plan_ntol_free(before_n);
        plan_ntol_free(after_n);
        plan_admission_free(a);
        return r;
}

void plan_admission_free(struct plan_admission *admission) {
        if (!admission)
                return;
        free(admission->reason);
        free(admission);
}
