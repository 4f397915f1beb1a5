/*
 * fuzz_input.h - reads typed values off a fuzz input, front to back. Past
 * the end every read gives zeros, so a harness never has to check lengths
 * and a short input is still a valid (degenerate) case.
 */
#ifndef CR_FUZZ_INPUT_H
#define CR_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    const uint8_t *p;
    size_t n, pos;
} FuzzInput;

static inline void fuzz_take(FuzzInput *in, void *out, size_t n) {
    size_t k = in->n - in->pos < n ? in->n - in->pos : n;
    memcpy(out, in->p + in->pos, k);
    memset((uint8_t *)out + k, 0, n - k);
    in->pos += k;
}

static inline uint8_t fuzz_u8(FuzzInput *in) {
    uint8_t v;
    fuzz_take(in, &v, 1);
    return v;
}

static inline uint16_t fuzz_u16(FuzzInput *in) {
    uint16_t v;
    fuzz_take(in, &v, 2);
    return v;
}

static inline uint32_t fuzz_u32(FuzzInput *in) {
    uint32_t v;
    fuzz_take(in, &v, 4);
    return v;
}

static inline uint64_t fuzz_u64(FuzzInput *in) {
    uint64_t v;
    fuzz_take(in, &v, 8);
    return v;
}

/* Any bit pattern: NaN, infinities, subnormals, huge values. */
static inline double fuzz_f64(FuzzInput *in) {
    double v;
    fuzz_take(in, &v, 8);
    return v;
}

static inline size_t fuzz_left(const FuzzInput *in) {
    return in->n - in->pos;
}

#endif
