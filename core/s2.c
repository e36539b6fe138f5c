/* S2, pure: the observer's evidence that a VM's owner is dead. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/s2.h"

int fenced_since(const struct core_peer *owner, uint64_t *since_ms) {
        uint64_t evidence;

        if (owner->member)
                return -EAGAIN;
        /* A FENCING confirmation is fixed once seen; otherwise the silence
         * started when the slot last advanced (or when tracking began). */
        evidence = owner->fencing_seen ? owner->fencing_seen_ms : owner->advanced_ms;
        *since_ms = evidence > owner->left_ms ? evidence : owner->left_ms;
        return 0;
}

bool s2_takeover_allowed(const struct core_timing *t, const struct core_peer *owner, uint64_t now_ms,
                         struct s2_result *r) {
        struct s2_result tmp;
        uint64_t since;

        if (!r)
                r = &tmp;
        memset(r, 0, sizeof(*r));
        if (!owner) {
                snprintf(r->reason, sizeof(r->reason), "owner is not a configured host");
                return false;
        }
        if (owner->unknown) {
                snprintf(r->reason, sizeof(r->reason), "host %u is unknown: its slot cannot be read (%s)", owner->id,
                         owner->unknown_why);
                return false;
        }
        if (!t->unsafe.unarmed_owner && owner->slot_seen && !owner->armed) {
                snprintf(r->reason, sizeof(r->reason),
                         "host %u publishes no armed watchdog: its silence proves nothing", owner->id);
                return false;
        }
        if (fenced_since(owner, &since) < 0) {
                snprintf(r->reason, sizeof(r->reason), "host %u is still in the membership", owner->id);
                return false;
        }
        r->counting = true;
        r->since_ms = since;
        r->ready_ms = since + core_timing_s2_wait_ms(t);
        if (now_ms < r->ready_ms) {
                snprintf(r->reason, sizeof(r->reason), "host %u %s, fenced only at %llu ms (in %llu ms)",
                         owner->id, owner->fencing_seen ? "confirmed FENCING" : "slot silent",
                         (unsigned long long)r->ready_ms, (unsigned long long)(r->ready_ms - now_ms));
                return false;
        }
        r->allowed = true;
        snprintf(r->reason, sizeof(r->reason),
                 "host %u fenced: out of the membership since %llu ms, %s since %llu ms, waited %llu ms",
                 owner->id, (unsigned long long)owner->left_ms,
                 owner->fencing_seen ? "confirmed FENCING" : "slot silent",
                 (unsigned long long)(owner->fencing_seen ? owner->fencing_seen_ms : owner->advanced_ms),
                 (unsigned long long)core_timing_s2_wait_ms(t));
        return true;
}
