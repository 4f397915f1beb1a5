/*
 * dmath.c - deterministic sin, cos, tan, atan, atan2, asin, acos, hypot, exp,
 * log, log2. Argument reduction plus a short polynomial, using only
 * correctly rounded IEEE operations, so every conforming build (x86-64,
 * ARM, WebAssembly; Debug or Release) gives the same bits.
 *
 * The polynomials are truncated Taylor series, 1/n! and 1/n in closed form
 * (the compiler rounds each constant correctly), taken a few terms further
 * than a minimax fit would need so the truncation error stays far below half
 * an ulp. Tables (2/pi bits, pi/2 pieces, atan at the breakpoints, 2^(j/64),
 * ln 2 pieces) hold the nearest doubles to the exact values, computed with
 * 2000-bit arithmetic; a table entry's "lo" is the exact value minus "hi",
 * rounded.
 */
#include "util/dmath.h"

#include <math.h> /* fabs, sqrt, isnan, isinf: exact operations */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Never fuse a*b+c into one rounding: the build says so too
 * (-ffp-contract=off); this keeps the file exact when built elsewhere. */
#ifdef __clang__ /* GCC ignores the pragma and warns; its ISO C mode is already off */
#pragma STDC FP_CONTRACT OFF
#endif

/* ---- small exact tools -------------------------------------------------- */

/* Nearest integer (ties to even) for |x| < 2^51, in the current rounding
 * mode, which is always to-nearest here. */
static double round_near(double x) {
    const double shifter = 0x1.8p52;
    return (x + shifter) - shifter;
}

/* a + b = *s + *e exactly (Knuth's two-sum, no ordering needed). */
static void two_sum(double a, double b, double *s, double *e) {
    double sum = a + b;
    double bb = sum - a;
    *e = (a - (sum - bb)) + (b - bb);
    *s = sum;
}

/* a * b = *p + *e exactly, without FMA (Veltkamp split, Dekker product).
 * |a|, |b| < 2^995. */
static void two_prod(double a, double b, double *p, double *e) {
    const double split = 134217729.0; /* 2^27 + 1 */
    double ca = split * a, cb = split * b;
    double ah = ca - (ca - a), al = a - ah;
    double bh = cb - (cb - b), bl = b - bh;
    double prod = a * b;
    *e = ((ah * bh - prod) + ah * bl + al * bh) + al * bl;
    *p = prod;
}

/* 2^n for -1022 <= n <= 1023, exactly. */
static double pow2i(int n) {
    uint64_t bits = (uint64_t)(n + 1023) << 52;
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

static uint64_t bits_of(double x) {
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    return b;
}

static double from_bits(uint64_t b) {
    double x;
    memcpy(&x, &b, sizeof x);
    return x;
}

/* ---- argument reduction modulo pi/2 ------------------------------------- */

static const double INV_PIO2 = 0x1.45f306dc9c883p-1;
/* pi/2 in four pieces: the first three have 33 significant bits, so k times
 * each is exact for k < 2^20. */
static const double PIO2_1 = 0x1.921fb54400000p+0;
static const double PIO2_2 = 0x1.0b4611a600000p-34;
static const double PIO2_3 = 0x1.3198a2e000000p-69;
static const double PIO2_4 = 0x1.b839a252049c1p-104;
static const double PIO2_HI = 0x1.921fb54442d18p+0, PIO2_LO = 0x1.1a62633145c07p-54;
static const double PI_HI = 0x1.921fb54442d18p+1, PI_LO = 0x1.1a62633145c07p-53;

/* Bits of 2/pi after the binary point, 32 per word, behind two zero words
 * so that windows starting before the point read zeros. */
static const uint32_t TWO_OVER_PI[] = {
    0,          0,          0xa2f9836e, 0x4e441529, 0xfc2757d1, 0xf534ddc0, 0xdb629599,
    0x3c439041, 0xfe5163ab, 0xdebbc561, 0xb7246e3a, 0x424dd2e0, 0x06492eea, 0x09d1921c,
    0xfe1deb1c, 0xb129a73e, 0xe88235f5, 0x2ebb4484, 0xe99c7026, 0xb45f7e41, 0x3991d639,
    0x835339f4, 0x9c845f8b, 0xbdf9283b, 0x1ff897ff, 0xde05980f, 0xef2f118b, 0x5a0a6d1f,
    0x6d367ecf, 0x27cb09b7, 0x4f463f66, 0x9e5fea2d, 0x7527bac7, 0xebe5f17b, 0x3d0739f7,
    0x8a5292ea, 0x6bfb5fb1, 0x1f8d5d08, 0x56033046, 0xfc7b6bab, 0xf0cfbc20, 0x9af4361d};

/* Bits i .. i+31 of 2/pi, bit 1 being the first after the point; i > -63. */
static uint32_t two_over_pi_bits(int i) {
    int p = i - 1 + 64;
    int w = p >> 5, sh = p & 31;
    uint64_t v = ((uint64_t)TWO_OVER_PI[w] << 32) | TWO_OVER_PI[w + 1];
    return (uint32_t)(v >> (32 - sh));
}

/* Bits lo .. lo+63 of a little-endian 8-limb number. */
static uint64_t limbs_bits64(const uint32_t *p, int lo) {
    int l = lo >> 5, sh = lo & 31;
    uint64_t v = p[l] | ((uint64_t)p[l + 1] << 32);
    uint64_t next = l + 2 < 8 ? p[l + 2] : 0;
    return sh ? (v >> sh) | (next << (64 - sh)) : v;
}

/* Payne-Hanek reduction for large finite ax > 0: x * 2/pi with 2/pi's bits
 * taken only where they matter (bits that give multiples of 4 are dropped),
 * in exact integer arithmetic. Returns the quadrant; *hi + *lo is the rest
 * times pi/2, in [-pi/4, pi/4]. */
static int reduce_large(double ax, double *hi, double *lo) {
    uint64_t b = bits_of(ax);
    int e = (int)(b >> 52) - 1075; /* ax = m * 2^e */
    uint64_t m = (b & ((UINT64_C(1) << 52) - 1)) | (UINT64_C(1) << 52);
    int s = e - 2;
    uint32_t w[6]; /* little-endian window of 2/pi, 192 bits from bit s */
    for (int j = 0; j < 6; j++) w[5 - j] = two_over_pi_bits(s + 32 * j);
    /* x * 2/pi mod 4 = (m * W mod 2^191) * 2^-189. */
    uint32_t p[8] = {0};
    uint32_t mw[2] = {(uint32_t)m, (uint32_t)(m >> 32)};
    for (int i = 0; i < 2; i++) {
        uint64_t carry = 0;
        for (int k = 0; k < 6; k++) {
            uint64_t t = (uint64_t)mw[i] * w[k] + p[i + k] + carry;
            p[i + k] = (uint32_t)t;
            carry = t >> 32;
        }
        for (int k = i + 6; k < 8 && carry; k++) {
            uint64_t t = (uint64_t)p[k] + carry;
            p[k] = (uint32_t)t;
            carry = t >> 32;
        }
    }
    int q = (int)((p[5] >> 29) & 3);
    uint64_t fh = limbs_bits64(p, 125), fl = limbs_bits64(p, 61); /* fraction, 128 bits */
    double sign = 1.0;
    if (fh >> 63) { /* fraction >= 1/2: round the quadrant up, take 1 - f */
        q = (q + 1) & 3;
        sign = -1.0;
        fl = ~fl + 1;
        fh = ~fh + (fl == 0);
    }
    double c3 = (double)(uint32_t)(fh >> 32) * 0x1p-32, c2 = (double)(uint32_t)fh * 0x1p-64;
    double c1 = (double)(uint32_t)(fl >> 32) * 0x1p-96, c0 = (double)(uint32_t)fl * 0x1p-128;
    double fhi, flo;
    two_sum(c3, c2, &fhi, &flo);
    flo += c1 + c0;
    two_sum(fhi, flo, &fhi, &flo);
    /* times pi/2, in double-double */
    double ph, pe;
    two_prod(fhi, PIO2_HI, &ph, &pe);
    double t = pe + (fhi * PIO2_LO + flo * PIO2_HI);
    double rh = ph + t;
    *hi = sign * rh;
    *lo = sign * ((ph - rh) + t);
    return q;
}

/* x = q * pi/2 + (*hi + *lo) with |*hi| <= about pi/4; x finite, >= 0. */
static int reduce(double ax, double *hi, double *lo) {
    if (ax < 0x1p19) {
        double k = round_near(ax * INV_PIO2);
        double y0 = ax - k * PIO2_1; /* exact: Sterbenz, k * PIO2_1 exact */
        double h, l, h2, l2;
        two_sum(y0, -(k * PIO2_2), &h, &l);
        two_sum(h, -(k * PIO2_3), &h2, &l2);
        double rest = (l + l2) - k * PIO2_4;
        *hi = h2 + rest;
        *lo = (h2 - *hi) + rest;
        return (int)k & 3;
    }
    return reduce_large(ax, hi, lo);
}

/* ---- sin and cos on [-pi/4, pi/4] --------------------------------------- */

/* sin(r + rlo), |rlo| tiny next to r. Taylor to r^17: the first term left
 * out is below 2^-62 of the result. */
static double sin_kernel(double r, double rlo) {
    double z = r * r;
    double p = 1.0 / 120.0 +
               z * (-1.0 / 5040.0 +
                    z * (1.0 / 362880.0 +
                         z * (-1.0 / 39916800.0 +
                              z * (1.0 / 6227020800.0 +
                                   z * (-1.0 / 1307674368000.0 + z * (1.0 / 355687428096000.0))))));
    double v = r * z;
    return r + (v * (-1.0 / 6.0 + z * p) + rlo * (1.0 - 0.5 * z));
}

/* cos(r + rlo). Taylor to r^16. 1 - z/2 is formed exactly as w plus its
 * rounding error, which keeps the result within about half an ulp. */
static double cos_kernel(double r, double rlo) {
    double z = r * r;
    double q = 1.0 / 24.0 +
               z * (-1.0 / 720.0 +
                    z * (1.0 / 40320.0 +
                         z * (-1.0 / 3628800.0 +
                              z * (1.0 / 479001600.0 +
                                   z * (-1.0 / 87178291200.0 + z * (1.0 / 20922789888000.0))))));
    double hz = 0.5 * z;
    double w = 1.0 - hz;
    return w + (((1.0 - w) - hz) + (z * z * q - r * rlo));
}

void dm_sincos(double x, double *s, double *c) {
    double ax = fabs(x);
    if (ax <= 0x1.921fb54442d18p-1) { /* pi/4: no reduction */
        if (ax < 0x1p-27) {
            *s = x; /* keeps -0 */
            *c = 1.0;
            return;
        }
        *s = sin_kernel(x, 0.0);
        *c = cos_kernel(x, 0.0);
        return;
    }
    if (!(ax < INFINITY)) { /* NaN or infinity */
        *s = *c = x - x;
        return;
    }
    double hi, lo;
    int q = reduce(ax, &hi, &lo);
    double sk = sin_kernel(hi, lo), ck = cos_kernel(hi, lo);
    double sv, cv;
    switch (q) {
        case 0:
            sv = sk, cv = ck;
            break;
        case 1:
            sv = ck, cv = -sk;
            break;
        case 2:
            sv = -sk, cv = -ck;
            break;
        default:
            sv = -ck, cv = sk;
            break;
    }
    *s = x < 0 ? -sv : sv;
    *c = cv;
}

double dm_sin(double x) {
    double s, c;
    dm_sincos(x, &s, &c);
    return s;
}

double dm_cos(double x) {
    double s, c;
    dm_sincos(x, &s, &c);
    return c;
}

double dm_tan(double x) {
    double s, c;
    dm_sincos(x, &s, &c);
    return s / c;
}

/* ---- atan ---------------------------------------------------------------- */

/* Breakpoints c_j = tan(j pi/32) (as doubles), atan(c_j) as hi + lo, and the
 * upper end of each breakpoint's range, tan((j + 1/2) pi/32). */
static const double ATAN_C[16] = {0x0.0p+0,
                                  0x1.936bb8c5b2da2p-4,
                                  0x1.975f5e0553158p-3,
                                  0x1.36a08355c63dcp-2,
                                  0x1.a827999fcef32p-2,
                                  0x1.11ab7190834ecp-1,
                                  0x1.561b82ab7f990p-1,
                                  0x1.a43002ae42850p-1,
                                  0x1.0000000000000p+0,
                                  0x1.37efd8d87607ep+0,
                                  0x1.7f218e25a7461p+0,
                                  0x1.def13b73c1406p+0,
                                  0x1.3504f333f9de6p+1,
                                  0x1.a5f59e90600ddp+1,
                                  0x1.41bfee2424771p+2,
                                  0x1.44e6c595afdccp+3};
static const double ATAN_HI[17] = {0x0.0p+0,
                                   0x1.921fb54442d18p-4,
                                   0x1.921fb54442d18p-3,
                                   0x1.2d97c7f3321d2p-2,
                                   0x1.921fb54442d18p-2,
                                   0x1.f6a7a2955385fp-2,
                                   0x1.2d97c7f3321d2p-1,
                                   0x1.5fdbbe9bba775p-1,
                                   0x1.921fb54442d18p-1,
                                   0x1.c463abeccb2bbp-1,
                                   0x1.f6a7a2955385ep-1,
                                   0x1.1475cc9eedf01p+0,
                                   0x1.2d97c7f3321d2p+0,
                                   0x1.46b9c347764a4p+0,
                                   0x1.5fdbbe9bba775p+0,
                                   0x1.78fdb9effea47p+0,
                                   0x1.921fb54442d18p+0};
static const double ATAN_LO[17] = {0x0.0p+0,
                                   -0x1.a6a92370f06b7p-60,
                                   0x1.f93470dfef04ap-58,
                                   0x1.ab73d134ce998p-56,
                                   0x1.c398861b78b55p-59,
                                   0x1.502d27c7987c2p-58,
                                   -0x1.8f57cafebcf16p-58,
                                   0x1.756cab91ebae2p-55,
                                   0x1.1a62633145c07p-55,
                                   0x1.8c8af69547e5ep-55,
                                   0x1.34dfa5661a3cbp-56,
                                   -0x1.5c0c8981e68dfp-54,
                                   0x1.fc774dbe287a0p-56,
                                   -0x1.eb08d130d92fep-55,
                                   0x1.e3cdb040ef2b3p-55,
                                   -0x1.0f05e34745b3ep-54,
                                   0x1.1a62633145c07p-54};
static const double ATAN_UPPER[16] = {
    0x1.927278a3b1162p-5, 0x1.2fcac73a60640p-3, 0x1.007fa758626aep-2, 0x1.6e649f7d78649p-2,
    0x1.e450e0d273e7ap-2, 0x1.32e1889047ffdp-1, 0x1.7bb99ed2990cfp-1, 0x1.d00cbc7384d2ep-1,
    0x1.1a73d55278c4bp+0, 0x1.592d11142fa55p+0, 0x1.ab1c35d8a74eap+0, 0x1.0ea21d716fbf7p+1,
    0x1.65bc6cc825147p+1, 0x1.ff01305ecd8dcp+1, 0x1.af73f4ca3310fp+2, 0x1.45affed201b55p+4};

/* atan(a + al) for a >= 0 (not NaN), al a tiny correction to a (0 if a is
 * exact). The reduced argument t is kept as t + tl, every rounding in it
 * recovered, so the only errors left are the polynomial's and the last
 * addition's. */
static double atan_pos(double a, double al) {
    /* j = how many upper ends lie at or below a: atan(a) is within pi/64
     * of j pi/32. */
    int j = 0;
    if (a >= ATAN_UPPER[15])
        j = 16;
    else if (a >= ATAN_UPPER[7])
        j = 8;
    if (j < 16) {
        if (a >= ATAN_UPPER[j + 3]) j += 4;
        if (a >= ATAN_UPPER[j + 1]) j += 2;
        if (a >= ATAN_UPPER[j]) j += 1;
    }
    /* atan(a) = atan(c) + atan(t), t = (a - c) / (1 + a c); |t| <= 0.05 */
    double t, tl, p, pe;
    if (j == 0) {
        t = a, tl = al;
    } else if (j == 16) { /* c = infinity: t = -1/a */
        t = -1.0 / a;
        if (a < 0x1p900) {
            two_prod(t, a, &p, &pe);
            tl = (-((1.0 + p) + pe) - t * al) / a;
        } else {
            tl = 0;
        }
    } else {
        double c = ATAN_C[j];
        double n = a - c; /* exact: a and c are within a factor of two */
        double dh, dl;
        two_prod(a, c, &p, &pe);
        two_sum(1.0, p, &dh, &dl);
        dl += pe + al * c;
        t = n / dh;
        two_prod(t, dh, &p, &pe);
        tl = (((n - p) - pe) + al - t * dl) / dh;
    }
    double z = t * t;
    double poly =
        z * (-1.0 / 3.0 +
             z * (1.0 / 5.0 +
                  z * (-1.0 / 7.0 + z * (1.0 / 9.0 + z * (-1.0 / 11.0 + z * (1.0 / 13.0))))));
    double s, e;
    two_sum(ATAN_HI[j], t, &s, &e);
    return s + (e + ((t * poly + tl) + ATAN_LO[j]));
}

double dm_atan(double x) {
    if (isnan(x)) return x + x;
    double ax = fabs(x);
    if (ax < 0x1p-27) return x; /* atan(x) rounds to x; keeps -0 */
    double r = atan_pos(ax, 0.0);
    return x < 0 ? -r : r;
}

double dm_atan2(double y, double x) {
    if (isnan(x) || isnan(y)) return x + y;
    double ay = fabs(y), ax = fabs(x);
    bool neg_x = signbit(x);
    double r;
    if (ay == 0) {
        r = neg_x ? PI_HI : 0.0;
    } else if (ax == 0 || isinf(ay)) {
        if (isinf(ax))
            r = neg_x ? 0x1.2d97c7f3321d2p+1 : 0x1.921fb54442d18p-1; /* 3pi/4, pi/4 */
        else
            r = PIO2_HI;
    } else if (isinf(ax)) {
        r = neg_x ? PI_HI : 0.0;
    } else {
        /* atan of the smaller over the larger, the quotient kept as q + ql
         * so its rounding does not reach the result, then moved to the
         * right octant around a constant whose tail is added last. */
        bool swap = ay > ax;
        double num = swap ? ax : ay, den = swap ? ay : ax;
        double q = num / den, ql = 0, p, pe;
        if (den < 0x1p900 && num > 0x1p-900 && q > 0x1p-900) {
            two_prod(q, den, &p, &pe);
            ql = ((num - p) - pe) / den;
        }
        double a = q < 0x1p-27 ? q + ql : atan_pos(q, ql);
        double c_hi = 0, c_lo = 0;
        if (swap) {
            c_hi = PIO2_HI, c_lo = PIO2_LO;
            if (!neg_x) a = -a;
        } else if (neg_x) {
            c_hi = PI_HI, c_lo = PI_LO, a = -a;
        }
        double sum, e;
        two_sum(c_hi, a, &sum, &e);
        r = sum + (e + c_lo);
    }
    return signbit(y) ? -r : r;
}

/* asin and acos through atan2: 1 - x*x is formed as (1 - x)(1 + x), whose
 * first factor is exact where it matters (|x| near 1). */
double dm_asin(double x) {
    if (isnan(x)) return x + x;
    double ax = fabs(x);
    if (ax > 1) return (x - x) / 0.0;
    if (ax < 0x1p-27) return x;
    return dm_atan2(x, sqrt((1.0 - ax) * (1.0 + ax)));
}

double dm_acos(double x) {
    if (isnan(x)) return x + x;
    double ax = fabs(x);
    if (ax > 1) return (x - x) / 0.0;
    return dm_atan2(sqrt((1.0 - ax) * (1.0 + ax)), x);
}

/* ---- hypot --------------------------------------------------------------- */

double dm_hypot(double x, double y) {
    x = fabs(x), y = fabs(y);
    if (isinf(x) || isinf(y)) return INFINITY;
    if (isnan(x) || isnan(y)) return x + y;
    if (x < y) {
        double t = x;
        x = y, y = t;
    }
    if (y == 0 || x > y * 0x1p54) return x; /* y*y is below half an ulp of x*x */
    double scale = 1.0;
    if (x > 0x1p500) {
        x *= 0x1p-600, y *= 0x1p-600, scale = 0x1p600;
    } else if (x < 0x1p-500) {
        x *= 0x1p600, y *= 0x1p600, scale = 0x1p-600;
    }
    double h = sqrt(x * x + y * y);
    /* One Newton step on the exact residual x^2 + y^2 - h^2. */
    double xx, xxe, yy, yye, hh, hhe, s, se;
    two_prod(x, x, &xx, &xxe);
    two_prod(y, y, &yy, &yye);
    two_prod(h, h, &hh, &hhe);
    two_sum(xx, yy, &s, &se);
    double e = ((s - hh) - hhe) + (se + xxe + yye);
    h += e / (2 * h);
    return h * scale;
}

/* ---- exp ----------------------------------------------------------------- */

static const double INV_LN2_64 = 0x1.71547652b82fep+6;
/* ln2/64 in two pieces; the first has 36 significant bits, so k times it is
 * exact for |k| < 2^17. */
static const double LN2_64_HI = 0x1.62e42fefa0000p-7, LN2_64_LO = 0x1.cf79abc9e3b3ap-46;

/* 2^(j/64) as hi + lo. */
static const double EXP_T[64][2] = {
    {0x1.0000000000000p+0, 0x0.0p+0},
    {0x1.02c9a3e778061p+0, -0x1.19083535b085dp-56},
    {0x1.059b0d3158574p+0, 0x1.d73e2a475b465p-55},
    {0x1.0874518759bc8p+0, 0x1.186be4bb284ffp-57},
    {0x1.0b5586cf9890fp+0, 0x1.8a62e4adc610bp-54},
    {0x1.0e3ec32d3d1a2p+0, 0x1.03a1727c57b53p-59},
    {0x1.11301d0125b51p+0, -0x1.6c51039449b3ap-54},
    {0x1.1429aaea92de0p+0, -0x1.32fbf9af1369ep-54},
    {0x1.172b83c7d517bp+0, -0x1.19041b9d78a76p-55},
    {0x1.1a35beb6fcb75p+0, 0x1.e5b4c7b4968e4p-55},
    {0x1.1d4873168b9aap+0, 0x1.e016e00a2643cp-54},
    {0x1.2063b88628cd6p+0, 0x1.dc775814a8495p-55},
    {0x1.2387a6e756238p+0, 0x1.9b07eb6c70573p-54},
    {0x1.26b4565e27cddp+0, 0x1.2bd339940e9d9p-55},
    {0x1.29e9df51fdee1p+0, 0x1.612e8afad1255p-55},
    {0x1.2d285a6e4030bp+0, 0x1.0024754db41d5p-54},
    {0x1.306fe0a31b715p+0, 0x1.6f46ad23182e4p-55},
    {0x1.33c08b26416ffp+0, 0x1.32721843659a6p-54},
    {0x1.371a7373aa9cbp+0, -0x1.63aeabf42eae2p-54},
    {0x1.3a7db34e59ff7p+0, -0x1.5e436d661f5e3p-56},
    {0x1.3dea64c123422p+0, 0x1.ada0911f09ebcp-55},
    {0x1.4160a21f72e2ap+0, -0x1.ef3691c309278p-58},
    {0x1.44e086061892dp+0, 0x1.89b7a04ef80d0p-59},
    {0x1.486a2b5c13cd0p+0, 0x1.3c1a3b69062f0p-56},
    {0x1.4bfdad5362a27p+0, 0x1.d4397afec42e2p-56},
    {0x1.4f9b2769d2ca7p+0, -0x1.4b309d25957e3p-54},
    {0x1.5342b569d4f82p+0, -0x1.07abe1db13cadp-55},
    {0x1.56f4736b527dap+0, 0x1.9bb2c011d93adp-54},
    {0x1.5ab07dd485429p+0, 0x1.6324c054647adp-54},
    {0x1.5e76f15ad2148p+0, 0x1.ba6f93080e65ep-54},
    {0x1.6247eb03a5585p+0, -0x1.383c17e40b497p-54},
    {0x1.6623882552225p+0, -0x1.bb60987591c34p-54},
    {0x1.6a09e667f3bcdp+0, -0x1.bdd3413b26456p-54},
    {0x1.6dfb23c651a2fp+0, -0x1.bbe3a683c88abp-57},
    {0x1.71f75e8ec5f74p+0, -0x1.16e4786887a99p-55},
    {0x1.75feb564267c9p+0, -0x1.0245957316dd3p-54},
    {0x1.7a11473eb0187p+0, -0x1.41577ee04992fp-55},
    {0x1.7e2f336cf4e62p+0, 0x1.05d02ba15797ep-56},
    {0x1.82589994cce13p+0, -0x1.d4c1dd41532d8p-54},
    {0x1.868d99b4492edp+0, -0x1.fc6f89bd4f6bap-54},
    {0x1.8ace5422aa0dbp+0, 0x1.6e9f156864b27p-54},
    {0x1.8f1ae99157736p+0, 0x1.5cc13a2e3976cp-55},
    {0x1.93737b0cdc5e5p+0, -0x1.75fc781b57ebcp-57},
    {0x1.97d829fde4e50p+0, -0x1.d185b7c1b85d1p-54},
    {0x1.9c49182a3f090p+0, 0x1.c7c46b071f2bep-56},
    {0x1.a0c667b5de565p+0, -0x1.359495d1cd533p-54},
    {0x1.a5503b23e255dp+0, -0x1.d2f6edb8d41e1p-54},
    {0x1.a9e6b5579fdbfp+0, 0x1.0fac90ef7fd31p-54},
    {0x1.ae89f995ad3adp+0, 0x1.7a1cd345dcc81p-54},
    {0x1.b33a2b84f15fbp+0, -0x1.2805e3084d708p-57},
    {0x1.b7f76f2fb5e47p+0, -0x1.5584f7e54ac3bp-56},
    {0x1.bcc1e904bc1d2p+0, 0x1.23dd07a2d9e84p-55},
    {0x1.c199bdd85529cp+0, 0x1.11065895048ddp-55},
    {0x1.c67f12e57d14bp+0, 0x1.2884dff483cadp-54},
    {0x1.cb720dcef9069p+0, 0x1.503cbd1e949dbp-56},
    {0x1.d072d4a07897cp+0, -0x1.cbc3743797a9cp-54},
    {0x1.d5818dcfba487p+0, 0x1.2ed02d75b3707p-55},
    {0x1.da9e603db3285p+0, 0x1.c2300696db532p-54},
    {0x1.dfc97337b9b5fp+0, -0x1.1a5cd4f184b5cp-54},
    {0x1.e502ee78b3ff6p+0, 0x1.39e8980a9cc8fp-55},
    {0x1.ea4afa2a490dap+0, -0x1.e9c23179c2893p-54},
    {0x1.efa1bee615a27p+0, 0x1.dc7f486a4b6b0p-54},
    {0x1.f50765b6e4540p+0, 0x1.9d3e12dd8a18bp-54},
    {0x1.fa7c1819e90d8p+0, 0x1.74853f3a5931ep-55},
};

double dm_exp(double x) {
    if (isnan(x)) return x + x;
    if (x > 710.0) return INFINITY;
    if (x < -746.0) return 0.0;
    if (fabs(x) < 0x1p-54) return 1.0 + x;
    /* x = (64 m + j) ln2/64 + r, |r| <= ln2/128 */
    double kf = round_near(x * INV_LN2_64);
    int k = (int)kf;
    double rhi = x - kf * LN2_64_HI; /* exact */
    double rlo = kf * LN2_64_LO;
    double r = rhi - rlo;
    double rerr = (rhi - r) - rlo;
    int j = k & 63;
    int m = (k - j) / 64;
    /* expm1(r), Taylor to r^6 */
    double p =
        r + r * r * (1.0 / 2 + r * (1.0 / 6 + r * (1.0 / 24 + r * (1.0 / 120 + r * (1.0 / 720)))));
    p += rerr;
    double t = EXP_T[j][0];
    double y = t + (EXP_T[j][1] + t * p);
    if (m > 1023) return y * pow2i(m - 1) * 2.0;
    if (m < -1021) return y * pow2i(m + 1000) * 0x1p-1000; /* one rounding into subnormals */
    return y * pow2i(m);
}

/* ---- log ----------------------------------------------------------------- */

static const double LN2_HI = 0x1.62e42fefa3800p-1, LN2_LO = 0x1.ef35793c76730p-45;
static const double INV_LN2 = 0x1.71547652b82fep+0;

/* Splits finite x > 0 as 2^k * (1 + f) with 1 + f in (sqrt(1/2), sqrt(2)]
 * and returns log(1 + f) - f as a correction, so log(x) = k ln2 + f + corr. */
static double log_parts(double x, int *k, double *f) {
    int kk = 0;
    if (x < 0x1p-1022) { /* subnormal: make it normal, exactly */
        x *= 0x1p54;
        kk = -54;
    }
    uint64_t b = bits_of(x);
    kk += (int)(b >> 52) - 1023;
    double m = from_bits((b & ((UINT64_C(1) << 52) - 1)) | (UINT64_C(1023) << 52));
    if (m > 0x1.6a09e667f3bcdp+0) {
        m *= 0.5;
        kk += 1;
    }
    double ff = m - 1.0; /* exact */
    /* log(1+f) = 2 atanh(s), s = f/(2+f) = f - hfsq + s (hfsq + R(s^2)) */
    double s = ff / (2.0 + ff);
    double z = s * s;
    double R =
        z *
        (2.0 / 3 +
         z * (2.0 / 5 +
              z * (2.0 / 7 +
                   z * (2.0 / 9 + z * (2.0 / 11 +
                                       z * (2.0 / 13 +
                                            z * (2.0 / 15 +
                                                 z * (2.0 / 17 +
                                                      z * (2.0 / 19 +
                                                           z * (2.0 / 21 + z * (2.0 / 23)))))))))));
    double hfsq = 0.5 * ff * ff;
    *k = kk;
    *f = ff;
    return s * (hfsq + R) - hfsq;
}

double dm_log(double x) {
    if (isnan(x)) return x + x;
    if (x < 0) return (x - x) / 0.0;
    if (x == 0) return -INFINITY;
    if (isinf(x)) return x;
    int k;
    double f;
    double corr = log_parts(x, &k, &f);
    double kf = k;
    return kf * LN2_HI + ((corr + kf * LN2_LO) + f);
}

double dm_log2(double x) {
    if (isnan(x)) return x + x;
    if (x < 0) return (x - x) / 0.0;
    if (x == 0) return -INFINITY;
    if (isinf(x)) return x;
    int k;
    double f;
    double corr = log_parts(x, &k, &f);
    return (double)k + (f + corr) * INV_LN2;
}
