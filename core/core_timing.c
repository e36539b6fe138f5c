/* Derivation of the core's timing from the pool's one `timeout`. */
#include <errno.h>
#include <string.h>

#include "core/core_timing.h"

int core_timing_init(struct core_timing *t, uint32_t timeout_ms) {
        if (timeout_ms == 0)
                timeout_ms = CORE_DEFAULT_TIMEOUT_MS;
        if (timeout_ms < CORE_MIN_TIMEOUT_MS || timeout_ms > CORE_MAX_TIMEOUT_MS)
                return -ERANGE;

        memset(t, 0, sizeof(*t));
        t->timeout_ms = timeout_ms;
        t->disk_interval_ms = timeout_ms / 10;
        t->disk_timeout_ms = timeout_ms;
        t->watchdog_timeout_ms = timeout_ms;
        t->settle_ms = 2 * t->disk_interval_ms;
        t->s2_margin_ms = t->watchdog_timeout_ms / 2 > 1000 ? t->watchdog_timeout_ms / 2 : 1000;
        t->io_grace_ms = t->disk_interval_ms;
        t->token_ms = timeout_ms / 5;
        t->feed_bound_ms = t->s2_margin_ms / 10;
        /* A reader skips a publisher whose slot has not advanced for the
         * settle window; half an interval below it leaves room for the
         * time a completion and a read take to be reported. */
        t->yield_gap_ms = t->settle_ms - t->disk_interval_ms / 2;
        return 0;
}

void core_timing_set_unsafe(struct core_timing *t, const struct core_unsafe_knobs *k) {
        t->unsafe = *k;
        if (k->no_margin)
                t->s2_margin_ms = 0;
}
