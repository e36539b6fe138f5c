/* The planner's model of a pool: hosts and VMs, by index, with the few
 * mutations admission control needs to try a change on a copy.
 *
 * The pool owns its names. It checks what it can check locally (unique
 * names, valid host indexes) and nothing about memory: an overcommitted pool
 * is a legitimate input that the planner must be able to describe.
 */
#include "planner/pack.h"
#include "planner/planner.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct plan_pool {
        struct plan_host *hosts;
        size_t n_hosts, cap_hosts;
        struct plan_vm *vms;
        size_t n_vms, cap_vms;
        size_t *vm_index;       /* open addressing: VM index + 1 by name hash, 0 = empty */
        size_t vm_index_size;   /* a power of two, at least twice n_vms */
        int target;
        bool allow_overcommit;
};

/* FNV-1a: VM names are looked up by hash, so that pools of thousands of VMs
 * load in linear time. */
static size_t name_hash(const char *s) {
        uint64_t h = 14695981039346656037ull;
        for (; *s; s++) {
                h ^= (unsigned char)*s;
                h *= 1099511628211ull;
        }
        return (size_t)h;
}

static int vm_index_rebuild(struct plan_pool *pool, size_t want) {
        size_t size = 64;
        while (size < 2 * want)
                size *= 2;
        size_t *t = calloc(size, sizeof(*t));
        if (!t)
                return -ENOMEM;
        for (size_t i = 0; i < pool->n_vms; i++) {
                size_t slot = name_hash(pool->vms[i].name) & (size - 1);
                while (t[slot])
                        slot = (slot + 1) & (size - 1);
                t[slot] = i + 1;
        }
        free(pool->vm_index);
        pool->vm_index = t;
        pool->vm_index_size = size;
        return 0;
}

int plan_pool_new(struct plan_pool **ret) {
        struct plan_pool *p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->target = PLAN_NO_TARGET;
        *ret = p;
        return 0;
}

void plan_pool_free(struct plan_pool *pool) {
        if (!pool)
                return;
        for (size_t i = 0; i < pool->n_hosts; i++)
                free((char *)pool->hosts[i].name);
        for (size_t i = 0; i < pool->n_vms; i++)
                free((char *)pool->vms[i].name);
        free(pool->hosts);
        free(pool->vms);
        free(pool->vm_index);
        free(pool);
}

static int grow(void **array, size_t *cap, size_t need, size_t elem) {
        if (need <= *cap)
                return 0;
        size_t n = *cap ? *cap * 2 : 16;
        while (n < need)
                n *= 2;
        void *a = realloc(*array, n * elem);
        if (!a)
                return -ENOMEM;
        *array = a;
        *cap = n;
        return 0;
}

int plan_pool_dup(const struct plan_pool *pool, struct plan_pool **ret) {
        struct plan_pool *p = NULL;
        int r = plan_pool_new(&p);
        if (r < 0)
                return r;
        p->target = pool->target;
        p->allow_overcommit = pool->allow_overcommit;
        for (size_t i = 0; i < pool->n_hosts; i++) {
                const struct plan_host *h = &pool->hosts[i];
                r = plan_pool_add_host(p, h->name, h->memory_mib, h->state, NULL);
                if (r < 0)
                        goto out;
        }
        for (size_t i = 0; i < pool->n_vms; i++) {
                r = plan_pool_add_vm(p, &pool->vms[i], NULL);
                if (r < 0)
                        goto out;
        }
        *ret = p;
        p = NULL;
out:
        plan_pool_free(p);
        return r;
}

int plan_pool_find_host(const struct plan_pool *pool, const char *name, size_t *ret_index) {
        for (size_t i = 0; i < pool->n_hosts; i++)
                if (strcmp(pool->hosts[i].name, name) == 0) {
                        if (ret_index)
                                *ret_index = i;
                        return 0;
                }
        return -ENOENT;
}

int plan_pool_find_vm(const struct plan_pool *pool, const char *name, size_t *ret_index) {
        if (!pool->vm_index)
                return -ENOENT;
        size_t mask = pool->vm_index_size - 1;
        for (size_t slot = name_hash(name) & mask; pool->vm_index[slot]; slot = (slot + 1) & mask) {
                size_t i = pool->vm_index[slot] - 1;
                if (strcmp(pool->vms[i].name, name) == 0) {
                        if (ret_index)
                                *ret_index = i;
                        return 0;
                }
        }
        return -ENOENT;
}

int plan_pool_add_host(struct plan_pool *pool, const char *name, uint64_t memory_mib,
                       enum plan_host_state state, size_t *ret_index) {
        if (!name || state > PLAN_HOST_MAINTENANCE || memory_mib > PLAN_MAX_MEMORY_MIB)
                return -EINVAL;
        if (plan_pool_find_host(pool, name, NULL) == 0)
                return -EEXIST;
        int r = grow((void **)&pool->hosts, &pool->cap_hosts, pool->n_hosts + 1, sizeof(*pool->hosts));
        if (r < 0)
                return r;
        char *copy = strdup(name);
        if (!copy)
                return -ENOMEM;
        pool->hosts[pool->n_hosts] = (struct plan_host){ .name = copy, .memory_mib = memory_mib, .state = state };
        if (ret_index)
                *ret_index = pool->n_hosts;
        pool->n_hosts++;
        return 0;
}

int plan_pool_add_vm(struct plan_pool *pool, const struct plan_vm *vm, size_t *ret_index) {
        if (!vm->name || (vm->host != PLAN_NO_HOST && vm->host >= pool->n_hosts) ||
            vm->priority > PLAN_PRIORITY_RESTART || vm->memory_mib > PLAN_MAX_MEMORY_MIB)
                return -EINVAL;
        if (plan_pool_find_vm(pool, vm->name, NULL) == 0)
                return -EEXIST;
        int r = grow((void **)&pool->vms, &pool->cap_vms, pool->n_vms + 1, sizeof(*pool->vms));
        if (r < 0)
                return r;
        if (pool->vm_index_size < 2 * (pool->n_vms + 1)) {
                r = vm_index_rebuild(pool, 2 * (pool->n_vms + 1));
                if (r < 0)
                        return r;
        }
        char *copy = strdup(vm->name);
        if (!copy)
                return -ENOMEM;
        size_t i = pool->n_vms;
        pool->vms[i] = *vm;
        pool->vms[i].name = copy;
        size_t mask = pool->vm_index_size - 1, slot = name_hash(copy) & mask;
        while (pool->vm_index[slot])
                slot = (slot + 1) & mask;
        pool->vm_index[slot] = i + 1;
        if (ret_index)
                *ret_index = i;
        pool->n_vms++;
        return 0;
}

size_t plan_pool_n_hosts(const struct plan_pool *pool) {
        return pool->n_hosts;
}

size_t plan_pool_n_vms(const struct plan_pool *pool) {
        return pool->n_vms;
}

const struct plan_host *plan_pool_host(const struct plan_pool *pool, size_t index) {
        return index < pool->n_hosts ? &pool->hosts[index] : NULL;
}

const struct plan_vm *plan_pool_vm(const struct plan_pool *pool, size_t index) {
        return index < pool->n_vms ? &pool->vms[index] : NULL;
}

/* One pass over the VMs for every host's free memory (n_hosts entries). */
int pool_compute_free_mib(const struct plan_pool *pool, int64_t **ret) {
        size_t nh = plan_pool_n_hosts(pool), nv = plan_pool_n_vms(pool);
        int64_t *f = calloc(nh ? nh : 1, sizeof(*f));
        if (!f)
                return -ENOMEM;
        for (size_t h = 0; h < nh; h++)
                f[h] = (int64_t)plan_pool_host(pool, h)->memory_mib;
        for (size_t i = 0; i < nv; i++) {
                const struct plan_vm *vm = plan_pool_vm(pool, i);
                if (vm->host != PLAN_NO_HOST)
                        f[vm->host] -= (int64_t)vm->memory_mib;
        }
        *ret = f;
        return 0;
}

int64_t plan_pool_host_free_mib(const struct plan_pool *pool, size_t host) {
        if (host >= pool->n_hosts)
                return 0;
        int64_t free_mib = (int64_t)pool->hosts[host].memory_mib;
        for (size_t i = 0; i < pool->n_vms; i++)
                if (pool->vms[i].host == host)
                        free_mib -= (int64_t)pool->vms[i].memory_mib;
        return free_mib;
}

int plan_pool_target(const struct plan_pool *pool) {
        return pool->target;
}

int plan_pool_set_target(struct plan_pool *pool, int target) {
        if (target < PLAN_NO_TARGET)
                return -EINVAL;
        pool->target = target;
        return 0;
}

bool plan_pool_allows_overcommit(const struct plan_pool *pool) {
        return pool->allow_overcommit;
}

void plan_pool_set_allow_overcommit(struct plan_pool *pool, bool allow) {
        pool->allow_overcommit = allow;
}

int plan_pool_set_host_state(struct plan_pool *pool, size_t host, enum plan_host_state state) {
        if (host >= pool->n_hosts || state > PLAN_HOST_MAINTENANCE)
                return -EINVAL;
        pool->hosts[host].state = state;
        return 0;
}

int plan_pool_set_vm_priority(struct plan_pool *pool, size_t vm, enum plan_priority priority) {
        if (vm >= pool->n_vms || priority > PLAN_PRIORITY_RESTART)
                return -EINVAL;
        pool->vms[vm].priority = priority;
        return 0;
}

int plan_pool_set_vm_memory(struct plan_pool *pool, size_t vm, uint64_t memory_mib) {
        if (vm >= pool->n_vms || memory_mib > PLAN_MAX_MEMORY_MIB)
                return -EINVAL;
        pool->vms[vm].memory_mib = memory_mib;
        return 0;
}

int plan_pool_set_vm_host(struct plan_pool *pool, size_t vm, size_t host) {
        if (vm >= pool->n_vms || (host != PLAN_NO_HOST && host >= pool->n_hosts))
                return -EINVAL;
        pool->vms[vm].host = host;
        return 0;
}

static const char *const state_names[] = {
        [PLAN_HOST_LIVE] = "live",
        [PLAN_HOST_DEAD] = "dead",
        [PLAN_HOST_MAINTENANCE] = "maintenance",
};

static const char *const priority_names[] = {
        [PLAN_PRIORITY_NONE] = "none",
        [PLAN_PRIORITY_BEST_EFFORT] = "best-effort",
        [PLAN_PRIORITY_RESTART] = "restart",
};

const char *plan_host_state_to_string(enum plan_host_state state) {
        return state <= PLAN_HOST_MAINTENANCE ? state_names[state] : "?";
}

const char *plan_priority_to_string(enum plan_priority priority) {
        return priority <= PLAN_PRIORITY_RESTART ? priority_names[priority] : "?";
}

int plan_host_state_from_string(const char *s, enum plan_host_state *ret) {
        for (size_t i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++)
                if (strcmp(s, state_names[i]) == 0) {
                        *ret = (enum plan_host_state)i;
                        return 0;
                }
        return -EINVAL;
}

int plan_priority_from_string(const char *s, enum plan_priority *ret) {
        for (size_t i = 0; i < sizeof(priority_names) / sizeof(priority_names[0]); i++)
                if (strcmp(s, priority_names[i]) == 0) {
                        *ret = (enum plan_priority)i;
                        return 0;
                }
        return -EINVAL;
}

void plan_options_init(struct plan_options *opts) {
        opts->set_budget = 100000;
        opts->node_budget = 2000000;
        opts->pack_budget = 20000;
        opts->expired = NULL;
        opts->expired_arg = NULL;
}
