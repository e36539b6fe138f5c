/* Invariant S2: when is a VM's owner known to be dead?
 *
 * DESIGN.md: the owner is out of the observer's membership, and either it
 * confirmed FENCING on the disk or its slot has been silent. The wait is
 * the watchdog timeout plus the margin, on the observer's clock, from the
 * later of (the confirmation, or the start of the silence) and (the owner's
 * departure from the membership).
 *
 * Why this is enough: a host feeds its watchdog only right after a slot
 * write (so its last feed is no later than the last advance any reader
 * sees), or under rule 4 on acknowledgements, which this observer stopped
 * sending when the owner left its membership. Either way the owner's
 * watchdog has fired by then, unless it fires later than its nominal
 * timeout by more than the margin.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "core/core_timing.h"
#include "core/survival.h"

#define S2_REASON_MAX 224u

struct s2_result {
        bool allowed;           /* the owner is certainly dead now */
        bool counting;          /* the S2 clock runs (owner out and silent or fencing) */
        uint64_t since_ms;      /* start of the S2 clock, valid when counting */
        uint64_t ready_ms;      /* since_ms + watchdog + margin, valid when counting */
        char reason[S2_REASON_MAX];
};

/* The start of the S2 clock for `owner`: 0 and *since_ms set, or -EAGAIN
 * while the owner is a member of this host's membership. The owner's slot
 * may still be advancing; that restarts the clock, so callers compare
 * against now via s2_takeover_allowed(). */
int fenced_since(const struct core_peer *owner, uint64_t *since_ms);

/* Whether S2 allows taking over from `owner` at now_ms; fills r (may be
 * NULL). `owner == NULL` (an unknown host id) never allows a takeover. */
bool s2_takeover_allowed(const struct core_timing *t, const struct core_peer *owner, uint64_t now_ms,
                         struct s2_result *r);
