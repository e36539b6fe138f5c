/* The planner's view of the live pool: built from the replicated HA state
 * (protected VMs, their owners, maintenance flags) and what each host
 * announces about itself (its memory for VMs, whether it is alive).
 *
 * vmhad uses it for the failures-tolerated figure in `haadm status` and for
 * admission control of changes. Pure: no I/O.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/hastate.h"
#include "planner/planner.h"

struct poolplan_host {
        uint32_t id;
        const char *name;
        bool alive;                     /* a surviving member, not fenced or gone */
        bool memory_known;
        uint64_t memory_mib;            /* memory available to VMs */
};

/* Builds a plan pool (host i of the pool is hosts[i]; VM j is s->vms[j]).
 * Returns 0, -ENODATA (with the name of a live host whose memory is not
 * known in *unknown) or -ENOMEM. */
int poolplan_build(const struct hastate *s, const struct poolplan_host *hosts, size_t n_hosts,
                   struct plan_pool **ret, const char **unknown);
