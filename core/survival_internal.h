/* Private to the survival rule: what survival.c and survival_inputs.c
 * share. */
#ifndef VMHA_CORE_SURVIVAL_INTERNAL_H
#define VMHA_CORE_SURVIVAL_INTERNAL_H

#include "core/survival.h"

static inline uint64_t age_ms(uint64_t now_ms, uint64_t then_ms) {
        return now_ms > then_ms ? now_ms - then_ms : 0;
}

/* p acknowledged a message this host sent at or after since_ms, and that
 * acknowledgement published this host's membership. */
bool survival_acked_members_since(const struct survival_inputs *in, const struct core_peer *p, uint64_t since_ms);

#endif
