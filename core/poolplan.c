/* Replicated state + host announcements -> planner pool. */
#include "core/poolplan.h"

#include <errno.h>

static enum plan_priority priority_of(enum hastate_priority p) {
        switch (p) {
        case HASTATE_PRIORITY_RESTART:
                return PLAN_PRIORITY_RESTART;
        case HASTATE_PRIORITY_BEST_EFFORT:
                return PLAN_PRIORITY_BEST_EFFORT;
        default:
                return PLAN_PRIORITY_NONE;
        }
}

int poolplan_build(const struct hastate *s, const struct poolplan_host *hosts, size_t n_hosts,
                   struct plan_pool **ret, const char **unknown) {
        struct plan_pool *pool;
        int r;

        for (size_t i = 0; i < n_hosts; i++)
                if (hosts[i].alive && !hosts[i].memory_known) {
                        *unknown = hosts[i].name;
                        return -ENODATA;
                }
        r = plan_pool_new(&pool);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n_hosts && r == 0; i++) {
                enum plan_host_state st = !hosts[i].alive ? PLAN_HOST_DEAD
                                          : core_view_has(&s->maintenance, hosts[i].id) ? PLAN_HOST_MAINTENANCE
                                                                                        : PLAN_HOST_LIVE;
                r = plan_pool_add_host(pool, hosts[i].name, hosts[i].memory_known ? hosts[i].memory_mib : 0, st,
                                       NULL);
        }
        for (size_t j = 0; j < s->n_vms && r == 0; j++) {
                const struct hastate_vm *v = &s->vms[j];
                struct plan_vm pv = PLAN_VM_INIT;
                pv.name = v->name;
                pv.memory_mib = v->memory_mib;
                pv.priority = priority_of(v->priority);
                pv.order = v->order;
                pv.start_delay_s = v->start_delay_ms / 1000;
                for (size_t i = 0; i < n_hosts; i++)
                        if (v->owner && hosts[i].id == v->owner && hosts[i].alive)
                                pv.host = i;
                r = plan_pool_add_vm(pool, &pv, NULL);
        }
        if (r == 0)
                r = plan_pool_set_target(pool, (int)s->pool.ftt_target);
        if (r < 0) {
                plan_pool_free(pool);
                return r;
        }
        plan_pool_set_allow_overcommit(pool, s->pool.allow_overcommit);
        *ret = pool;
        return 0;
}
