/*
 * validate.c - every rule a generated stage must satisfy, each failure named
 * with the point index and position so a modder can find it in the output.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "stage/stage_internal.h"
#include "util/dmath.h"

static int fail(CrError *err, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return CR_ESTAGE;
}

static double seg_len(const StagePoint *a, const StagePoint *b) {
    return dm_hypot(b->x - a->x, b->y - a->y);
}

/* Signed angle from direction a to direction b, in (-pi, pi]. */
static double turn_angle(double ax, double ay, double bx, double by) {
    return dm_atan2(ax * by - ay * bx, ax * bx + ay * by);
}

static double point_seg_dist2(double px, double py, const StagePoint *a, const StagePoint *b) {
    double vx = b->x - a->x, vy = b->y - a->y;
    double l2 = vx * vx + vy * vy;
    double t = l2 > 0 ? ((px - a->x) * vx + (py - a->y) * vy) / l2 : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    double dx = a->x + t * vx - px, dy = a->y + t * vy - py;
    return dx * dx + dy * dy;
}

static double cross3(const StagePoint *a, const StagePoint *b, const StagePoint *c) {
    return (b->x - a->x) * (c->y - a->y) - (b->y - a->y) * (c->x - a->x);
}

static double seg_seg_dist(const StagePoint *a, const StagePoint *b, const StagePoint *c,
                           const StagePoint *d) {
    /* A crossing needs overlapping bounding boxes: for two far-apart,
     * exactly collinear segments the cross products are rounding noise and
     * their signs mean nothing. */
    bool boxes =
        fmax(fmin(a->x, b->x), fmin(c->x, d->x)) <= fmin(fmax(a->x, b->x), fmax(c->x, d->x)) &&
        fmax(fmin(a->y, b->y), fmin(c->y, d->y)) <= fmin(fmax(a->y, b->y), fmax(c->y, d->y));
    double d1 = cross3(a, b, c), d2 = cross3(a, b, d);
    double d3 = cross3(c, d, a), d4 = cross3(c, d, b);
    if (boxes && ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) &&
        ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)))
        return 0.0;
    double m = point_seg_dist2(a->x, a->y, c, d);
    double t = point_seg_dist2(b->x, b->y, c, d);
    if (t < m) m = t;
    t = point_seg_dist2(c->x, c->y, a, b);
    if (t < m) m = t;
    t = point_seg_dist2(d->x, d->y, a, b);
    if (t < m) m = t;
    return sqrt(m);
}

/* Segment-pair overlap through a uniform hash grid in CSR form, so the check
 * is about linear in the number of segments. */
static int check_overlap(const StageDesc *desc, const double *cum, double max_hw, CrError *err) {
    const StagePoint *p = desc->points;
    size_t nseg = desc->n_points - 1;
    const double cell = 32.0;
    double minx = p[0].x, maxx = p[0].x, miny = p[0].y, maxy = p[0].y;
    for (size_t i = 1; i < desc->n_points; i++) {
        minx = fmin(minx, p[i].x), maxx = fmax(maxx, p[i].x);
        miny = fmin(miny, p[i].y), maxy = fmax(maxy, p[i].y);
    }
    int gw = (int)((maxx - minx) / cell) + 1, gh = (int)((maxy - miny) / cell) + 1;
    size_t ncell = (size_t)gw * (size_t)gh;
    uint32_t *start = calloc(ncell + 1, sizeof *start);
    if (!start) return CR_ENOMEM;
    int rc = CR_OK;
    uint32_t *items = NULL;
    /* Pass 0 counts, pass 1 fills. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < nseg; i++) {
            int x0 = (int)((fmin(p[i].x, p[i + 1].x) - minx) / cell);
            int x1 = (int)((fmax(p[i].x, p[i + 1].x) - minx) / cell);
            int y0 = (int)((fmin(p[i].y, p[i + 1].y) - miny) / cell);
            int y1 = (int)((fmax(p[i].y, p[i + 1].y) - miny) / cell);
            for (int gy = y0; gy <= y1; gy++)
                for (int gx = x0; gx <= x1; gx++) {
                    size_t c = (size_t)gy * (size_t)gw + (size_t)gx;
                    if (pass == 0)
                        start[c + 1]++;
                    else
                        items[start[c]++] = (uint32_t)i;
                }
        }
        if (pass == 0) {
            for (size_t c = 0; c < ncell; c++) start[c + 1] += start[c];
            items = malloc(((size_t)start[ncell] + 1) * sizeof *items);
            if (!items) {
                rc = CR_ENOMEM;
                goto out;
            }
        } else {
            /* Filling advanced each start to the next cell's; shift back. */
            for (size_t c = ncell; c > 0; c--) start[c] = start[c - 1];
            start[0] = 0;
        }
    }
    for (size_t i = 0; i < nseg && rc == CR_OK; i++) {
        double hwi = fmax(p[i].width, p[i + 1].width) / 2;
        double reach = hwi + max_hw + 2 * CR_VERGE + 2;
        int x0 = (int)fmax(0, (fmin(p[i].x, p[i + 1].x) - reach - minx) / cell);
        int x1 = (int)fmin(gw - 1, (fmax(p[i].x, p[i + 1].x) + reach - minx) / cell);
        int y0 = (int)fmax(0, (fmin(p[i].y, p[i + 1].y) - reach - miny) / cell);
        int y1 = (int)fmin(gh - 1, (fmax(p[i].y, p[i + 1].y) + reach - miny) / cell);
        for (int gy = y0; gy <= y1 && rc == CR_OK; gy++)
            for (int gx = x0; gx <= x1 && rc == CR_OK; gx++) {
                size_t c = (size_t)gy * (size_t)gw + (size_t)gx;
                for (uint32_t k = start[c]; k < start[c + 1]; k++) {
                    size_t j = items[k];
                    if (j <= i + 1) continue;
                    double hwj = fmax(p[j].width, p[j + 1].width) / 2;
                    double clear = hwi + hwj + 2 * CR_VERGE + 2;
                    if (cum[j] - cum[i + 1] <= M_PI / 2 * clear) continue;
                    double d = seg_seg_dist(&p[i], &p[i + 1], &p[j], &p[j + 1]);
                    if (d < clear) {
                        rc = fail(err,
                                  "self-overlap: segment %zu at (%.1f, %.1f) passes %.1f u from "
                                  "segment %zu at (%.1f, %.1f), %.1f u further along the route; "
                                  "roads and verges need %.1f u",
                                  j, p[j].x, p[j].y, d, i, p[i].x, p[i].y, cum[j] - cum[i + 1],
                                  clear);
                        break;
                    }
                }
            }
    }
out:
    free(items);
    free(start);
    return rc;
}

int stage_validate(const StageDesc *desc, const StageLimits *limits, CrError *err) {
    const StagePoint *p = desc->points;
    size_t n = desc->n_points;
    if (n < 2 || n > STAGE_MAX_POINTS)
        return fail(err, "a stage needs 2 to %d points, not %zu", STAGE_MAX_POINTS, n);
    if (!(limits->min_length > 0) || !(limits->max_length >= limits->min_length))
        return fail(err, "stage length limits %.1f..%.1f are not a range", limits->min_length,
                    limits->max_length);
    const SurfaceTable *sf = desc->surfaces ? desc->surfaces : surface_table_default();
    if (sf->count < 2 || sf->count > SURFACE_MAX || sf->verge < 0 || sf->verge >= sf->count)
        return fail(err, "the surface table is malformed (made without surface_table_init?)");
    double max_hw = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(p[i].x) || !isfinite(p[i].y) || fabs(p[i].x) > STAGE_MAX_COORD ||
            fabs(p[i].y) > STAGE_MAX_COORD)
            return fail(err, "point %zu: position (%g, %g) is not finite or beyond +-%.0f", i + 1,
                        p[i].x, p[i].y, STAGE_MAX_COORD);
        if (!isfinite(p[i].width) || p[i].width < STAGE_MIN_WIDTH || p[i].width > STAGE_MAX_WIDTH)
            return fail(err,
                        "point %zu at (%.1f, %.1f): width %g is outside %.1f..%.1f (a car is %.1f "
                        "wide)",
                        i + 1, p[i].x, p[i].y, p[i].width, STAGE_MIN_WIDTH, STAGE_MAX_WIDTH,
                        CR_CAR_WIDTH);
        if (p[i].surface < 0 || p[i].surface >= sf->count || p[i].surface == sf->verge)
            return fail(err, "point %zu at (%.1f, %.1f): unknown surface %d", i + 1, p[i].x, p[i].y,
                        (int)p[i].surface);
        max_hw = fmax(max_hw, p[i].width / 2);
    }
    double *cum = malloc(n * sizeof *cum);
    if (!cum) return CR_ENOMEM;
    int rc = CR_OK;
    cum[0] = 0;
    for (size_t i = 1; i < n; i++) {
        double l = seg_len(&p[i - 1], &p[i]);
        if (l < STAGE_MIN_SPACING || l > STAGE_MAX_SPACING) {
            rc = fail(err,
                      "point %zu at (%.1f, %.1f): %.2f u from the previous point, not %.0f..%.0f",
                      i + 1, p[i].x, p[i].y, l, STAGE_MIN_SPACING, STAGE_MAX_SPACING);
            goto out;
        }
        cum[i] = cum[i - 1] + l;
    }
    double length = cum[n - 1];
    if (length < limits->min_length || length > limits->max_length) {
        rc = fail(err,
                  "stage length %.1f u is outside STAGE_MIN_LENGTH..STAGE_MAX_LENGTH %.0f..%.0f",
                  length, limits->min_length, limits->max_length);
        goto out;
    }
    for (size_t i = 1; i + 1 < n; i++) {
        double l0 = cum[i] - cum[i - 1], l1 = cum[i + 1] - cum[i];
        double a = turn_angle((p[i].x - p[i - 1].x) / l0, (p[i].y - p[i - 1].y) / l0,
                              (p[i + 1].x - p[i].x) / l1, (p[i + 1].y - p[i].y) / l1);
        if (fabs(a) > STAGE_MAX_TURN) {
            rc =
                fail(err, "point %zu at (%.1f, %.1f): the route turns %.1f degrees, more than %.0f",
                     i + 1, p[i].x, p[i].y, fabs(a) * 180 / M_PI, STAGE_MAX_TURN * 180 / M_PI);
            goto out;
        }
        if (fabs(a) > 1e-9) {
            double radius = (l0 + l1) / 2 / fabs(a);
            if (radius < p[i].width / 2 + 1) {
                rc = fail(err,
                          "point %zu at (%.1f, %.1f): turn radius %.1f u is below half the width "
                          "plus 1 (%.1f u): the inner edge folds over",
                          i + 1, p[i].x, p[i].y, radius, p[i].width / 2 + 1);
                goto out;
            }
        }
    }
    /* The start grid: straight enough and wide enough for CR_MAX_CARS. */
    {
        double total = 0;
        for (size_t i = 1; i + 1 < n && cum[i] < STAGE_GRID_LENGTH; i++) {
            double l0 = cum[i] - cum[i - 1], l1 = cum[i + 1] - cum[i];
            total += turn_angle((p[i].x - p[i - 1].x) / l0, (p[i].y - p[i - 1].y) / l0,
                                (p[i + 1].x - p[i].x) / l1, (p[i + 1].y - p[i].y) / l1);
            if (p[i].width < 10.0 || p[0].width < 10.0) {
                rc = fail(err,
                          "point %zu at (%.1f, %.1f): the start grid (first %.0f u) needs a "
                          "width of 10 u, not %g",
                          i + 1, p[i].x, p[i].y, STAGE_GRID_LENGTH, p[i].width);
                goto out;
            }
        }
        if (fabs(total) > 10 * M_PI / 180) {
            rc = fail(err, "the start grid (first %.0f u) turns %.1f degrees; at most 10",
                      STAGE_GRID_LENGTH, fabs(total) * 180 / M_PI);
            goto out;
        }
        if (length < STAGE_GRID_LENGTH + STAGE_CHECKPOINT_GAP) {
            rc = fail(err, "stage too short for its start grid");
            goto out;
        }
    }
    if (desc->n_checkpoints < 1 || desc->n_checkpoints > STAGE_MAX_CHECKPOINTS) {
        rc = fail(err, "a stage needs 1 to %d checkpoints, not %zu", STAGE_MAX_CHECKPOINTS,
                  desc->n_checkpoints);
        goto out;
    }
    for (size_t k = 0; k < desc->n_checkpoints; k++) {
        uint32_t c = desc->checkpoints[k];
        if (c == 0 || c >= n - 1) {
            rc = fail(err,
                      "checkpoint %zu: point %u is not strictly between the start and the "
                      "finish (points 1 and %zu)",
                      k + 1, c + 1, n);
            goto out;
        }
        double prev = k == 0 ? 0.0 : cum[desc->checkpoints[k - 1]];
        if (k > 0 && c <= desc->checkpoints[k - 1]) {
            rc = fail(err, "checkpoint %zu: point %u does not come after checkpoint %zu (point %u)",
                      k + 1, c + 1, k, desc->checkpoints[k - 1] + 1);
            goto out;
        }
        if (cum[c] - prev < STAGE_CHECKPOINT_GAP) {
            rc =
                fail(err, "checkpoint %zu at (%.1f, %.1f): only %.1f u after the %s; at least %.0f",
                     k + 1, p[c].x, p[c].y, cum[c] - prev, k == 0 ? "start" : "previous checkpoint",
                     STAGE_CHECKPOINT_GAP);
            goto out;
        }
        if (length - cum[c] < STAGE_CHECKPOINT_GAP) {
            rc = fail(err,
                      "checkpoint %zu at (%.1f, %.1f): only %.1f u before the finish; at least "
                      "%.0f",
                      k + 1, p[c].x, p[c].y, length - cum[c], STAGE_CHECKPOINT_GAP);
            goto out;
        }
    }
    rc = check_overlap(desc, cum, max_hw, err);
out:
    free(cum);
    return rc;
}
