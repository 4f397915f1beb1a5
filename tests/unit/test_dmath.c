/* test_dmath.c - the deterministic math functions: accuracy against glibc
 * over millions of inputs (random, log-uniform over the whole exponent range,
 * near multiples of pi/2, special values), symmetries, and a golden hash of
 * the output bits over a fixed sweep, so a build on another machine proves
 * it computes the very same bits. */
#include <float.h>
#include <stdint.h>

#include "test.h"
#include "util/dmath.h"
#include "util/hash.h"
#include "util/rng.h"

/* Distance in units in the last place: doubles mapped onto a monotonic
 * integer line. NaN against NaN is 0, NaN against a number is huge. */
static uint64_t ulp_diff(double a, double b) {
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b) ? 0 : UINT64_MAX;
    int64_t ia, ib;
    memcpy(&ia, &a, 8);
    memcpy(&ib, &b, 8);
    if (ia < 0) ia = INT64_MIN - ia;
    if (ib < 0) ib = INT64_MIN - ib;
    return ia > ib ? (uint64_t)ia - (uint64_t)ib : (uint64_t)ib - (uint64_t)ia;
}

/* Any double, log-uniform over the exponents, either sign. */
static double any_double(Rng *r) {
    uint64_t b = rng_next(r);
    double d;
    memcpy(&d, &b, 8);
    return d;
}

static double uniform(Rng *r, double lo, double hi) {
    return lo + (hi - lo) * rng_float(r);
}

typedef double (*Fn1)(double);
typedef double (*Fn2)(double, double);

typedef struct {
    uint64_t worst;
    double at_x, at_y, got, want;
} Worst;

static void track(Worst *w, double x, double y, double got, double want) {
    uint64_t d = ulp_diff(got, want);
    if (d > w->worst || (w->worst == 0 && d == 0 && w->at_x == 0)) {
        if (d > w->worst) *w = (Worst){d, x, y, got, want};
    }
}

static const double SPECIALS[] = {0.0,
                                  -0.0,
                                  NAN,
                                  INFINITY,
                                  -INFINITY,
                                  DBL_MAX,
                                  -DBL_MAX,
                                  DBL_MIN,
                                  -DBL_MIN,
                                  0x1p-1074,
                                  -0x1p-1074,
                                  0x1.8p-1060,
                                  1.0,
                                  -1.0,
                                  0.5,
                                  2.0,
                                  0x1.921fb54442d18p+0,
                                  0x1.921fb54442d18p+1,
                                  0x1.921fb54442d18p-1,
                                  0x1p19,
                                  0x1p20,
                                  0x1p30,
                                  0x1p63,
                                  0x1p1023,
                                  1e22,
                                  709.782712893384,
                                  -708.3964185322641,
                                  -745.1332191019411,
                                  710.0,
                                  -746.0};
#define NSPECIAL (sizeof SPECIALS / sizeof SPECIALS[0])

/* Samples one function of one argument: specials, multiples of pi/2 and
 * their neighbours, n uniform draws in [-span, span] and n over every
 * exponent. */
static Worst sweep1(Fn1 mine, Fn1 ref, double span, int n, uint64_t seed) {
    Worst w = {0};
    Rng r;
    rng_init(&r, seed);
    for (size_t i = 0; i < NSPECIAL; i++)
        track(&w, SPECIALS[i], 0, mine(SPECIALS[i]), ref(SPECIALS[i]));
    for (int k = -2000; k <= 2000; k++) {
        double x = k * 0x1.921fb54442d18p+0;
        for (int s = -2; s <= 2; s++) {
            double y = x;
            for (int t = 0; t < abs(s); t++) y = nextafter(y, s < 0 ? -INFINITY : INFINITY);
            track(&w, y, 0, mine(y), ref(y));
        }
    }
    for (int i = 0; i < n; i++) {
        double x = uniform(&r, -span, span);
        track(&w, x, 0, mine(x), ref(x));
        x = any_double(&r);
        track(&w, x, 0, mine(x), ref(x));
    }
    return w;
}

static void report(const char *name, const Worst *w) {
    fprintf(stderr, "    %-6s worst %llu ulp at x=%a y=%a: %a vs glibc %a\n", name,
            (unsigned long long)w->worst, w->at_x, w->at_y, w->got, w->want);
}

#define N_RANDOM 400000

TEST(sin_cos_tan_match_glibc) {
    Worst s = sweep1(dm_sin, sin, 20, N_RANDOM, 1);
    Worst c = sweep1(dm_cos, cos, 20, N_RANDOM, 2);
    Worst t = sweep1(dm_tan, tan, 20, N_RANDOM, 3);
    Worst s2 = sweep1(dm_sin, sin, 2e6, N_RANDOM / 4, 4); /* the large-argument reduction */
    report("sin", &s), report("cos", &c), report("tan", &t), report("sin2e6", &s2);
    ASSERT_TRUE(s.worst <= 1 && c.worst <= 1 && s2.worst <= 1);
    ASSERT_TRUE(t.worst <= 2);
}

TEST(atan_asin_acos_match_glibc) {
    Worst a = sweep1(dm_atan, atan, 50, N_RANDOM, 5);
    Worst as = sweep1(dm_asin, asin, 1, N_RANDOM, 6);
    Worst ac = sweep1(dm_acos, acos, 1, N_RANDOM, 7);
    report("atan", &a), report("asin", &as), report("acos", &ac);
    ASSERT_TRUE(a.worst <= 1);
    ASSERT_TRUE(as.worst <= 2 && ac.worst <= 2);
}

TEST(exp_log_match_glibc) {
    Worst e = sweep1(dm_exp, exp, 750, N_RANDOM, 8);
    Worst l = sweep1(dm_log, log, 1e3, N_RANDOM, 9);
    Worst l2 = sweep1(dm_log2, log2, 1e3, N_RANDOM, 10);
    report("exp", &e), report("log", &l), report("log2", &l2);
    ASSERT_TRUE(e.worst <= 1 && l.worst <= 1);
    ASSERT_TRUE(l2.worst <= 2);
}

static Worst sweep2(Fn2 mine, Fn2 ref, double span, int n, uint64_t seed) {
    Worst w = {0};
    Rng r;
    rng_init(&r, seed);
    for (size_t i = 0; i < NSPECIAL; i++)
        for (size_t j = 0; j < NSPECIAL; j++)
            track(&w, SPECIALS[i], SPECIALS[j], mine(SPECIALS[i], SPECIALS[j]),
                  ref(SPECIALS[i], SPECIALS[j]));
    for (int i = 0; i < n; i++) {
        double x = uniform(&r, -span, span), y = uniform(&r, -span, span);
        track(&w, x, y, mine(x, y), ref(x, y));
        x = any_double(&r), y = any_double(&r);
        track(&w, x, y, mine(x, y), ref(x, y));
        /* nearly equal magnitudes, the hardest quotients */
        y = x * uniform(&r, 0.5, 2.0);
        track(&w, x, y, mine(x, y), ref(x, y));
    }
    return w;
}

TEST(atan2_hypot_match_glibc) {
    Worst a = sweep2(dm_atan2, atan2, 100, N_RANDOM, 11);
    Worst h = sweep2(dm_hypot, hypot, 1e3, N_RANDOM, 12);
    report("atan2", &a), report("hypot", &h);
    ASSERT_TRUE(a.worst <= 1);
    ASSERT_TRUE(h.worst <= 1);
}

/* The double nearest a multiple of pi/2 (6381956970095103 * 2^797): its
 * reduced argument is about 2^-61, so it needs every bit of the reduction.
 * The expected values are correctly rounded, from 3000-bit arithmetic;
 * glibc's cos is 8 ulp off here, so it is not the reference for this one. */
TEST(hardest_reduction) {
    double x = 0x1.6ac5b262ca1ffp+849;
    ASSERT_TRUE(dm_cos(x) == -0x1.14ae72e6ba22fp-61);
    ASSERT_TRUE(dm_sin(x) == 1.0);
    ASSERT_TRUE(dm_tan(x) == -0x1.d9ba9a7975636p+60);
}

/* Special values as C's Annex F has them, bit for bit (signed zeros). */
TEST(special_values) {
    ASSERT_TRUE(signbit(dm_sin(-0.0)) && dm_sin(-0.0) == 0);
    ASSERT_TRUE(dm_cos(-0.0) == 1.0 && dm_cos(0x1p-1074) == 1.0);
    ASSERT_TRUE(isnan(dm_sin(INFINITY)) && isnan(dm_cos(-INFINITY)) && isnan(dm_tan(NAN)));
    ASSERT_TRUE(signbit(dm_atan(-0.0)));
    ASSERT_TRUE(dm_atan(INFINITY) == 0x1.921fb54442d18p+0);
    ASSERT_TRUE(signbit(dm_atan2(-0.0, 1.0)) && dm_atan2(-0.0, 1.0) == 0);
    ASSERT_TRUE(dm_atan2(0.0, -0.0) == 0x1.921fb54442d18p+1);
    ASSERT_TRUE(dm_atan2(-0.0, -1.0) == -0x1.921fb54442d18p+1);
    ASSERT_TRUE(dm_atan2(1.0, 0.0) == 0x1.921fb54442d18p+0);
    ASSERT_TRUE(dm_atan2(-INFINITY, -INFINITY) == -0x1.2d97c7f3321d2p+1);
    ASSERT_TRUE(dm_hypot(INFINITY, NAN) == INFINITY && dm_hypot(NAN, -INFINITY) == INFINITY);
    ASSERT_TRUE(dm_hypot(3, 4) == 5 && dm_hypot(0x1p1000, 0x1p1000) == 0x1p1000 * sqrt(2));
    ASSERT_TRUE(dm_exp(0) == 1 && dm_exp(-INFINITY) == 0 && dm_exp(INFINITY) == INFINITY);
    ASSERT_TRUE(dm_exp(1000) == INFINITY && dm_exp(-1000) == 0);
    ASSERT_TRUE(dm_log(1) == 0 && !signbit(dm_log(1)) && dm_log(0) == -INFINITY);
    ASSERT_TRUE(dm_log(-0.0) == -INFINITY && isnan(dm_log(-1)) && dm_log(INFINITY) == INFINITY);
    ASSERT_TRUE(isnan(dm_asin(1.5)) && isnan(dm_acos(-1.0000001)));
    ASSERT_TRUE(dm_acos(1) == 0 && dm_asin(1) == 0x1.921fb54442d18p+0);
    for (int k = -1074; k <= 1023; k++) ASSERT_TRUE(dm_log2(ldexp(1.0, k)) == k);
}

/* Odd and even functions are exactly so, sincos is exactly sin and cos,
 * and hypot does not care about order or signs. */
TEST(symmetries) {
    Rng r;
    rng_init(&r, 13);
    for (int i = 0; i < 200000; i++) {
        double x = i % 2 ? uniform(&r, -1e4, 1e4) : any_double(&r);
        double y = uniform(&r, -1e4, 1e4);
        if (isnan(x)) continue;
        double s, c;
        dm_sincos(x, &s, &c);
        ASSERT_EQ_U64(ulp_diff(s, dm_sin(x)), 0);
        ASSERT_EQ_U64(ulp_diff(c, dm_cos(x)), 0);
        ASSERT_EQ_U64(ulp_diff(dm_sin(-x), -dm_sin(x)), 0);
        ASSERT_EQ_U64(ulp_diff(dm_cos(-x), dm_cos(x)), 0);
        ASSERT_EQ_U64(ulp_diff(dm_atan(-x), -dm_atan(x)), 0);
        ASSERT_EQ_U64(ulp_diff(dm_atan2(-y, x), -dm_atan2(y, x)), 0);
        ASSERT_EQ_U64(ulp_diff(dm_hypot(x, y), dm_hypot(-y, x)), 0);
        if (fabs(x) < 1e6) ASSERT_NEAR(s * s + c * c, 1.0, 4e-16);
    }
}

/* The output bits over a fixed sweep, hashed. Any change in any function on
 * any input of the sweep changes the hash; the constant was recorded on
 * x86-64 and must come out the same on every machine and build. Every NaN
 * counts as one pattern: the sign of a default NaN differs between CPUs. */
static uint64_t hash_result(uint64_t h, double v) {
    return isnan(v) ? hash_u64(h, 0x7ff8000000000000ULL) : hash_double(h, v);
}

#define GOLDEN_DMATH 0x53555590958e4707ULL

TEST(golden_bits) {
    uint64_t h = HASH_SEED;
    Rng r;
    rng_init(&r, 2026);
    for (int i = 0; i < 100000; i++) {
        double x =
            i < (int)NSPECIAL ? SPECIALS[i] : (i % 3 ? uniform(&r, -100, 100) : any_double(&r));
        double y = uniform(&r, -100, 100);
        double s, c;
        dm_sincos(x, &s, &c);
        h = hash_result(h, s), h = hash_result(h, c), h = hash_result(h, dm_tan(x));
        h = hash_result(h, dm_atan(x)), h = hash_result(h, dm_atan2(y, x));
        h = hash_result(h, dm_asin(x / 100)), h = hash_result(h, dm_acos(x / 100));
        h = hash_result(h, dm_hypot(x, y)), h = hash_result(h, dm_exp(x));
        h = hash_result(h, dm_log(x)), h = hash_result(h, dm_log2(x));
    }
    if (h != GOLDEN_DMATH) fprintf(stderr, "    golden hash now %#llx\n", (unsigned long long)h);
    ASSERT_EQ_U64(h, GOLDEN_DMATH);
}

TEST_MAIN
