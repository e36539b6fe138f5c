/* A small seeded PRNG (xorshift64*) for tests and benchmarks that must be
 * reproducible from their seed. Not for anything but test data. */
#pragma once

#include <stdint.h>

struct rng {
        uint64_t s;
};

static inline uint64_t rng_next(struct rng *r) {
        r->s ^= r->s >> 12;
        r->s ^= r->s << 25;
        r->s ^= r->s >> 27;
        return r->s * 0x2545f4914f6cdd1dull;
}
