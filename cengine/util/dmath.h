/* dmath.h - the engine's own transcendental functions. Same bits on every
 * machine and every build: only +, -, *, / and sqrt (all correctly rounded
 * in IEEE 754), no FMA (the build has -ffp-contract=off), no libm call.
 * libm's sin/cos/atan2 pick CPU-specific variants at run time, so replays
 * and stage hashes made with them are exact only on the machine that made
 * them. floor, fmod, sqrt and fabs are exact in IEEE and may stay libm.
 *
 * Accuracy, measured by tests/unit/test_dmath.c against glibc over millions
 * of inputs: within 1 ulp for sin, cos, atan, atan2, hypot, exp, log; within
 * 2 ulp for tan, asin, acos, log2. Special values (NaN, infinities, signed
 * zeros) follow C's Annex F. */
#ifndef CR_DMATH_H
#define CR_DMATH_H

double dm_sin(double x);
double dm_cos(double x);
/* Both at the cost of one argument reduction; the results are bit-identical
 * to dm_sin(x) and dm_cos(x). */
void dm_sincos(double x, double *s, double *c);
double dm_tan(double x);
double dm_atan(double x);
double dm_atan2(double y, double x);
double dm_asin(double x);
double dm_acos(double x);
/* sqrt(x*x + y*y) without overflow or underflow on the way. */
double dm_hypot(double x, double y);
double dm_exp(double x);
double dm_log(double x);
/* Exact for powers of two. */
double dm_log2(double x);

#endif
