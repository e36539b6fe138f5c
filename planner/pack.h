/* Internal to planner/, not part of the public API: bin-packing
 * feasibility, shared by failures tolerated, restart plans and evacuation
 * plans, and the one pool helper they all need.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* Can items (sizes) be packed into bins (capacities; negative counts as 0)?
 * Tries the cheap necessary conditions, then best-fit and worst-fit
 * decreasing, then an exact branch and bound of at most node_budget nodes.
 * When the answer is PACK_FITS and assign is not NULL, assign[i] is the bin
 * of item i. stats may be NULL. Returns 0 or -ENOMEM. */
int pack_items(const uint64_t *items, size_t n_items, const int64_t *caps, size_t n_bins,
               uint64_t node_budget, size_t *assign, struct pack_stats *stats,
               enum pack_verdict *ret);

/* Free memory of every host (n_hosts entries, to free()), in one pass over
 * the VMs; implemented in pool.c. */
struct plan_pool;
int pool_compute_free_mib(const struct plan_pool *pool, int64_t **ret);

uint64_t pack_gcd(uint64_t a, uint64_t b);
