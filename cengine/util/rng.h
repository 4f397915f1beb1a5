/* rng.h - the host's random numbers: xoshiro256** seeded through splitmix64.
 * Scripts and races draw only from here (never libc rand) so that a seed
 * reproduces a stage or race exactly on every build. */
#ifndef CR_RNG_H
#define CR_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t s[4];
} Rng;

void rng_init(Rng *r, uint64_t seed);
uint64_t rng_next(Rng *r);
/* Uniform in [0, 1) with 53 bits. */
double rng_float(Rng *r);
/* Uniform integer in [lo, hi]; lo <= hi. */
int64_t rng_int(Rng *r, int64_t lo, int64_t hi);

#endif
