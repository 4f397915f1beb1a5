/* fastmath.h - cheap, deterministic stand-ins for libm on the tick path. */
#ifndef CR_FASTMATH_H
#define CR_FASTMATH_H

#include <math.h>

/* atan2(y, x) within 1e-5 rad of libm's and several times cheaper: a sensor
 * record has up to 16 bearings. Pure arithmetic, so every build gives the
 * same bits. (0, 0) gives 0. */
static inline float fast_atan2f(float y, float x) {
    float ax = fabsf(x), ay = fabsf(y);
    if (ax == 0 && ay == 0) return 0;
    float a = ax > ay ? ay / ax : ax / ay;
    float s = a * a;
    /* Minimax polynomial for atan on [0, 1]. */
    float r =
        a * (0.99997726f +
             s * (-0.33262347f +
                  s * (0.19354346f + s * (-0.11643287f + s * (0.05265332f + s * -0.01172120f)))));
    if (ay > ax) r = 1.57079637f - r;
    if (x < 0) r = 3.14159274f - r;
    return y < 0 ? -r : r;
}

#endif
