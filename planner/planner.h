/* planner: how many host failures the pool survives, where VMs restart after
 * a failure, how to empty a host for maintenance, and whether a change keeps
 * the pool safe. A pure library: libc only, no I/O, no global state.
 *
 * The one idea: "failures tolerated" (ntol) is monotone. If the restart VMs
 * of a failed set F fit on the survivors, so do those of any subset of F. So
 * ntol + 1 is the size of the smallest failure set that does not fit, and the
 * planner looks for it level by level, worst candidates first, proving whole
 * families of failure sets safe at once with a first-fit-decreasing
 * certificate, and deciding the rest with an exact bin-packing search. It
 * never over-reports: a set it cannot decide within its budget counts as not
 * covered, and the answer is then marked inexact.
 *
 * Sizes are MiB. Hosts and VMs are named by their index in the pool.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PLAN_NO_HOST   SIZE_MAX   /* plan_vm.host of a halted VM */
#define PLAN_NO_TARGET (-1)       /* the pool has no failures-to-tolerate target */

/* Largest memory of a host or VM (1 EiB), so that sums over millions of
 * VMs stay far from overflowing 64 bits. */
#define PLAN_MAX_MEMORY_MIB (UINT64_C(1) << 40)

/* The ranges of the replicated settings. haadm's options, vmhad's control
 * requests and haadm plan's input all check them against these, so a value
 * one accepts the others accept too. */
/* The most memory a VM may have, and a host may offer VMs, in MiB (16 TiB):
 * vmha.conf's vm_memory_mib, haadm vm set --memory, vmhad's vm_set request
 * and haadm plan's memory_mib and --grow. The replicated HA state holds no
 * more for a VM (HASTATE_MAX_MEMORY_MIB, checked equal where vmhad applies
 * changes). PLAN_MAX_MEMORY_MIB above is only the library's bound against
 * overflow. */
#define PLAN_MAX_VM_MEMORY_MIB (UINT64_C(16) * 1024 * 1024)
#define PLAN_MAX_FAILURES_TO_TOLERATE 254       /* a pool has at most 255 hosts */
#define PLAN_MAX_START_DELAY_S 3600
#define PLAN_MIN_ORDER (-1000000)
#define PLAN_MAX_ORDER 1000000

enum plan_host_state {
        PLAN_HOST_LIVE,
        PLAN_HOST_DEAD,
        PLAN_HOST_MAINTENANCE,
};

enum plan_priority {
        PLAN_PRIORITY_NONE,         /* never restarted by HA */
        PLAN_PRIORITY_BEST_EFFORT,  /* restarted if room is left */
        PLAN_PRIORITY_RESTART,      /* protected: counted in failures tolerated */
};

struct plan_host {
        const char *name;           /* owned by the pool */
        uint64_t memory_mib;        /* memory available to VMs */
        enum plan_host_state state;
};

struct plan_vm {
        const char *name;           /* owned by the pool (copied on add) */
        uint64_t memory_mib;
        size_t host;                /* host index, PLAN_NO_HOST when halted */
        enum plan_priority priority;
        int32_t order;              /* restart order group, lower first */
        uint32_t start_delay_s;     /* wait after starting it, before the next */
        bool agile;                 /* false: pinned to its current host */
};

/* The defaults of a VM description; set name and memory_mib, then the rest. */
#define PLAN_VM_INIT { .name = NULL, .memory_mib = 0, .host = PLAN_NO_HOST, \
                .priority = PLAN_PRIORITY_NONE, .order = 0, .start_delay_s = 0, .agile = true }

struct plan_pool;

int plan_pool_new(struct plan_pool **ret);
void plan_pool_free(struct plan_pool *pool);
int plan_pool_dup(const struct plan_pool *pool, struct plan_pool **ret);

/* Names must be unique among hosts (resp. VMs): -EEXIST otherwise. A VM's
 * host must be a valid index or PLAN_NO_HOST, and memory at most
 * PLAN_MAX_MEMORY_MIB: -EINVAL otherwise. */
int plan_pool_add_host(struct plan_pool *pool, const char *name, uint64_t memory_mib,
                       enum plan_host_state state, size_t *ret_index);
int plan_pool_add_vm(struct plan_pool *pool, const struct plan_vm *vm, size_t *ret_index);

size_t plan_pool_n_hosts(const struct plan_pool *pool);
size_t plan_pool_n_vms(const struct plan_pool *pool);
const struct plan_host *plan_pool_host(const struct plan_pool *pool, size_t index);
const struct plan_vm *plan_pool_vm(const struct plan_pool *pool, size_t index);
int plan_pool_find_host(const struct plan_pool *pool, const char *name, size_t *ret_index);
int plan_pool_find_vm(const struct plan_pool *pool, const char *name, size_t *ret_index);

/* Memory of the host minus the memory of every VM on it, whatever their
 * priority. Negative when the host is overcommitted already. */
int64_t plan_pool_host_free_mib(const struct plan_pool *pool, size_t host);

/* The failures-to-tolerate target, or PLAN_NO_TARGET. */
int plan_pool_target(const struct plan_pool *pool);
int plan_pool_set_target(struct plan_pool *pool, int target);
bool plan_pool_allows_overcommit(const struct plan_pool *pool);
void plan_pool_set_allow_overcommit(struct plan_pool *pool, bool allow);

int plan_pool_set_host_state(struct plan_pool *pool, size_t host, enum plan_host_state state);
int plan_pool_set_vm_priority(struct plan_pool *pool, size_t vm, enum plan_priority priority);
int plan_pool_set_vm_memory(struct plan_pool *pool, size_t vm, uint64_t memory_mib);
int plan_pool_set_vm_host(struct plan_pool *pool, size_t vm, size_t host);

const char *plan_host_state_to_string(enum plan_host_state state);
const char *plan_priority_to_string(enum plan_priority priority);
int plan_host_state_from_string(const char *s, enum plan_host_state *ret);
int plan_priority_from_string(const char *s, enum plan_priority *ret);

/* Search budgets. The three budgets are counts, not times, so that answers
 * are the same on every machine. Pass NULL anywhere for the defaults.
 *
 * A caller on an event loop also needs a time budget, and the planner reads
 * no clock: `expired` is the caller's, and the failures-tolerated search
 * (plan_failures_tolerated, plan_check_change_opts) asks it whether to stop.
 * It is asked before each level of the search, before each failure set
 * decided one by one, and after PLAN_EXPIRED_POLL_NODES search nodes without
 * a question (nodes over failure sets and in exact packings count together).
 * So it is asked at a bounded rate, and the search runs past the deadline
 * by at most one set's greedy packings or that many nodes. Once it returns
 * true it is not asked again in that computation, and the answer is what
 * running out of a count budget gives: a lower bound, marked inexact, never
 * over-reported. NULL never expires. Restart and evacuation plans are acted
 * on, not reported, so they ignore it and keep to the count budgets. */
#define PLAN_EXPIRED_POLL_NODES 1024

struct plan_options {
        uint64_t set_budget;    /* failure sets decided one by one, per computation */
        uint64_t node_budget;   /* search nodes over failure sets, per computation */
        uint64_t pack_budget;   /* search nodes of one exact bin packing */
        bool (*expired)(void *arg);     /* true: out of time, stop; NULL: never */
        void *expired_arg;
};

/* The default budgets, and no time budget (expired = NULL). */
void plan_options_init(struct plan_options *opts);

struct plan_ntol_stats {
        uint64_t levels;        /* failure-set sizes examined */
        uint64_t set_nodes;     /* nodes of the search over failure sets */
        uint64_t sets_checked;  /* failure sets examined one by one */
        uint64_t ffd_fits;      /* ... proven by a greedy packing */
        uint64_t exact_runs;    /* ... that needed the exact search */
        uint64_t pack_nodes;    /* nodes of all exact searches */
        bool expired;           /* it said true: the time budget ended the search */
};

struct plan_ntol {
        unsigned failures_tolerated;
        bool exact;             /* false: failures_tolerated is a lower bound */
        unsigned upper_bound;   /* ntol <= upper_bound; equal when exact */
        unsigned live_hosts;
        /* A failure set of failures_tolerated + 1 live hosts whose restart VMs
         * do not fit, proven; n_uncovered == 0 when none exists or none was
         * found. Host indexes, ascending. */
        size_t *uncovered;
        size_t n_uncovered;
        /* When !exact: a set of that size the search could not decide. */
        size_t *undecided;
        size_t n_undecided;
        /* Running restart VMs that are not agile: they cannot move, so they
         * are left out of failures tolerated. VM indexes. */
        size_t *non_agile;
        size_t n_non_agile;
        struct plan_ntol_stats stats;
};

int plan_failures_tolerated(const struct plan_pool *pool, const struct plan_options *opts,
                            struct plan_ntol **ret);
void plan_ntol_free(struct plan_ntol *ntol);

struct plan_restart {
        size_t vm;
        size_t host;
};

struct plan_restart_plan {
        struct plan_restart *restarts;  /* in execution order */
        size_t n_restarts;
        size_t *unplaced;               /* restart, then best-effort VMs left out */
        size_t n_unplaced;
};

/* Where the restart and best-effort VMs of the hosts in `failed` start
 * (VMs with priority none stay down). Survivors are the live hosts not in
 * `failed`. Restart VMs go first, by ascending order group, then best-effort
 * VMs where room is left. When the agile restart VMs of `failed` can all be
 * placed, they are (in particular whenever failures tolerated >= n_failed).
 * -EINVAL for an out-of-range host index. */
int plan_restart_for_failure(const struct plan_pool *pool, const size_t *failed, size_t n_failed,
                             const struct plan_options *opts, struct plan_restart_plan **ret);
void plan_restart_plan_free(struct plan_restart_plan *plan);

struct plan_migration {
        size_t vm;
        size_t from;
        size_t to;
};

struct plan_evacuation {
        struct plan_migration *migrations;  /* in execution order */
        size_t n_migrations;
        size_t *unplaced;                   /* VMs that stay on the host */
        size_t n_unplaced;
};

/* Live migrations that empty `host`, one at a time; after every step every
 * host's VMs fit in its memory. VMs of other hosts may be moved first to
 * make room. VMs that cannot move (not agile, or no room) are listed.
 * -EINVAL if host is out of range or dead. */
int plan_evacuate_host(const struct plan_pool *pool, size_t host, const struct plan_options *opts,
                       struct plan_evacuation **ret);
void plan_evacuation_free(struct plan_evacuation *evacuation);

enum plan_change_kind {
        PLAN_CHANGE_PROTECT_VM,         /* vm: priority becomes restart */
        PLAN_CHANGE_GROW_VM,            /* vm: memory becomes memory_mib */
        PLAN_CHANGE_START_VM,           /* vm (halted): starts on host */
        PLAN_CHANGE_HOST_MAINTENANCE,   /* host: evacuated, then maintenance */
};

struct plan_change {
        enum plan_change_kind kind;
        size_t vm;
        size_t host;
        uint64_t memory_mib;
};

struct plan_admission {
        bool allowed;
        bool overcommitted;     /* allowed only because the pool allows overcommit */
        unsigned ntol_before;
        unsigned ntol_after;
        bool exact;             /* both ntol values are exact */
        bool expired;           /* the time budget (plan_options.expired) cut a search short */
        char *reason;           /* always set: what the change does, and why it is refused */
};

/* Admission control: does the change keep failures tolerated at or above
 * the pool's target? A change that cannot happen at all (a VM that does not
 * fit on its host, a host that cannot be emptied) is refused whatever the
 * target. Returns -EINVAL for a malformed change (bad index, starting a
 * running VM). Both failures-tolerated computations use the default
 * budgets and no time budget. */
int plan_check_change(const struct plan_pool *pool, const struct plan_change *change,
                      struct plan_admission **ret);

/* The same, with opts (NULL: the defaults) for both failures-tolerated
 * computations, time budget included. A search the time budget cuts short
 * gives a lower bound, so the change may be refused that would have been
 * allowed, never the other way round. The evacuation a maintenance change
 * needs keeps to the count budgets. */
int plan_check_change_opts(const struct plan_pool *pool, const struct plan_change *change,
                           const struct plan_options *opts, struct plan_admission **ret);
void plan_admission_free(struct plan_admission *admission);
