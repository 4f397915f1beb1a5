/* hash.h - 64-bit FNV-1a, for state hashes in replays and stage identity.
 * Not cryptographic: it only has to make accidental differences visible. */
#ifndef CR_HASH_H
#define CR_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define HASH_SEED 0xcbf29ce484222325ULL

static inline uint64_t hash_bytes(uint64_t h, const void *data, size_t n) {
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static inline uint64_t hash_u64(uint64_t h, uint64_t v) {
    return hash_bytes(h, &v, sizeof v);
}

/* Hashes the bit pattern, so -0.0 and 0.0 differ: any drift shows. */
static inline uint64_t hash_double(uint64_t h, double d) {
    uint64_t v;
    memcpy(&v, &d, sizeof v);
    return hash_u64(h, v);
}

#endif
