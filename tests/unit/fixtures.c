/* fixtures.c - see fixtures.h. */
#include "fixtures.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

size_t fixture_road(StagePoint *pts, size_t cap, double straight, double turn, double arc,
                    double tail, double w, Surface surf) {
    const double step = 2.0;
    long ns = lround(straight / step), na = lround(arc / step), nt = lround(tail / step);
    double dh = na > 0 ? turn / (double)na : 0;
    double x = 0, y = 0, h = 0;
    size_t n = 0;
    for (long k = 0; k <= ns + na + nt && n < cap; k++) {
        pts[n++] = (StagePoint){x, y, w, surf};
        double d = (k >= ns && k < ns + na) ? dh : 0;
        /* Advance along the mid-step heading so arcs stay arcs. */
        x += step * cos(h + d / 2);
        y += step * sin(h + d / 2);
        h += d;
    }
    return n;
}

Stage *fixture_stage(double straight, double turn, double arc, double tail, double w, Surface surf,
                     double cp_every) {
    static StagePoint pts[8192];
    static uint32_t cps[64];
    size_t n = fixture_road(pts, 8192, straight, turn, arc, tail, w, surf);
    size_t m = 0;
    for (double s = cp_every; s < (n - 1) * 2.0 - 60 && m < 64; s += cp_every)
        cps[m++] = (uint32_t)(s / 2.0);
    StageDesc d = {pts, n, cps, m, NULL};
    StageLimits lim = {100, 20000};
    Stage *st = NULL;
    CrError err;
    if (stage_compile(&d, &lim, &st, &err)) {
        fprintf(stderr, "fixture stage: %s\n", err.msg);
        abort();
    }
    return st;
}

CarStats fixture_stats(void) {
    return (CarStats){44, 15, 1.0, 30, 2, 100, 2.3, 1050};
}

RaceRules fixture_rules(void) {
    return (RaceRules){0, 600 * CR_TICK_RATE, 0, NULL, NULL, NULL, NULL, NULL};
}
