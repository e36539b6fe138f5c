/* Internal to planner/, not part of the public API: bin-packing
 * feasibility, shared by failures tolerated, restart plans and evacuation
 * plans, and the one pool helper they all need.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "planner/planner.h"

enum pack_verdict {
        PACK_FITS,      /* every item placed; assign[] says where */
        PACK_NO_FIT,    /* proven: no placement exists */
        PACK_UNKNOWN,   /* the exact search ran out of budget */
};

struct pack_stats {
        uint64_t greedy_fits;   /* decided by a greedy packing */
        uint64_t exact_runs;    /* needed the exact search */
        uint64_t nodes;         /* nodes of the exact searches */
};

/* The caller's time budget (plan_options.expired) over one computation,
 * shared by its failure-set search and all its exact packings, so that the
 * node count between two questions does not restart with every packing.
 * hit is sticky: once the callback said true it is not asked again. */
struct pack_deadline {
        bool (*expired)(void *arg);     /* NULL: never expires */
        void *arg;
        uint64_t nodes;                 /* search nodes since it was last asked */
        bool hit;
};

/* Asks now (unless it said true already). True: out of time. */
bool pack_deadline_check(struct pack_deadline *d);

/* Counts one search node and asks every PLAN_EXPIRED_POLL_NODES nodes.
 * True: out of time. */
static inline bool pack_deadline_tick(struct pack_deadline *d) {
        if (d->hit)
                return true;
        if (!d->expired || ++d->nodes < PLAN_EXPIRED_POLL_NODES)
                return false;
        return pack_deadline_check(d);
}

/* Can items (sizes) be packed into bins (capacities; negative counts as 0)?
 * Tries the cheap necessary conditions, then best-fit and worst-fit
 * decreasing, then an exact branch and bound of at most node_budget nodes,
 * which also stops when deadline (NULL: none) runs out. Both give
 * PACK_UNKNOWN; deadline->hit tells them apart. When the answer is
 * PACK_FITS and assign is not NULL, assign[i] is the bin of item i. stats
 * may be NULL. Returns 0 or -ENOMEM. */
int pack_items(const uint64_t *items, size_t n_items, const int64_t *caps, size_t n_bins,
               uint64_t node_budget, struct pack_deadline *deadline, size_t *assign,
               struct pack_stats *stats, enum pack_verdict *ret);

/* Free memory of every host (n_hosts entries, to free()), in one pass over
 * the VMs; implemented in pool.c. */
struct plan_pool;
int pool_compute_free_mib(const struct plan_pool *pool, int64_t **ret);

uint64_t pack_gcd(uint64_t a, uint64_t b);
