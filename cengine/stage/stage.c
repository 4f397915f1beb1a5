/*
 * stage.c - compiling a validated stage description into the Stage the
 * simulation reads: route tables, the distance-field raster, the start grid.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stage/stage_internal.h"
#include "util/hash.h"

static StageTile *tile_at(const Stage *st, int tx, int ty) {
    if (tx < 0 || ty < 0 || tx >= st->tiles_w || ty >= st->tiles_h) return NULL;
    return st->tiles[(size_t)ty * (size_t)st->tiles_w + (size_t)tx];
}

/* Cell (cx, cy) in raster coordinates; NULL tile means far outside. */
static inline float cell_sd(const Stage *st, int cx, int cy) {
    if (cx < 0 || cy < 0) return STAGE_FAR;
    const StageTile *t = tile_at(st, cx / STAGE_TILE, cy / STAGE_TILE);
    if (!t) return STAGE_FAR;
    return t->sd[(cy % STAGE_TILE) * STAGE_TILE + cx % STAGE_TILE];
}

double stage_edge_dist(const Stage *st, double x, double y) {
    double fx = (x - st->ox) / STAGE_CELL - 0.5, fy = (y - st->oy) / STAGE_CELL - 0.5;
    double flx = floor(fx), fly = floor(fy);
    int cx = (int)flx, cy = (int)fly;
    double ax = fx - flx, ay = fy - fly;
    double s00 = cell_sd(st, cx, cy), s10 = cell_sd(st, cx + 1, cy);
    double s01 = cell_sd(st, cx, cy + 1), s11 = cell_sd(st, cx + 1, cy + 1);
    return (s00 * (1 - ax) + s10 * ax) * (1 - ay) + (s01 * (1 - ax) + s11 * ax) * ay;
}

void stage_cell(const Stage *st, double x, double y, float *sd, int *seg, Surface *surf) {
    double fx = (x - st->ox) / STAGE_CELL, fy = (y - st->oy) / STAGE_CELL;
    int cx = (int)floor(fx), cy = (int)floor(fy);
    const StageTile *t = (cx < 0 || cy < 0) ? NULL : tile_at(st, cx / STAGE_TILE, cy / STAGE_TILE);
    if (!t) {
        *sd = STAGE_FAR;
        *seg = -1;
        *surf = SURFACE_OFFROAD;
        return;
    }
    int k = (cy % STAGE_TILE) * STAGE_TILE + cx % STAGE_TILE;
    *sd = t->sd[k];
    *seg = t->sd[k] >= STAGE_FAR ? -1 : t->seg[k];
    *surf = t->sd[k] <= 0 ? (Surface)t->surf[k] : SURFACE_OFFROAD;
}

void stage_gradient(const Stage *st, double x, double y, double *gx, double *gy) {
    const double h = 0.5;
    double dx = stage_edge_dist(st, x + h, y) - stage_edge_dist(st, x - h, y);
    double dy = stage_edge_dist(st, x, y + h) - stage_edge_dist(st, x, y - h);
    double l = hypot(dx, dy);
    if (l < 1e-12) {
        *gx = 0, *gy = 0;
        return;
    }
    *gx = dx / l, *gy = dy / l;
}

void stage_probe(const Stage *st, double x, double y, StageProbe *out) {
    float sd;
    int seg;
    stage_cell(st, x, y, &sd, &seg, &out->surface);
    out->edge_dist = stage_edge_dist(st, x, y);
    out->wall_dist = out->edge_dist - CR_VERGE;
    /* The nearest cell and the interpolation can disagree right at the
     * edge; the interpolated distance is the smoother truth. */
    if (out->edge_dist > 0) out->surface = SURFACE_OFFROAD;
}

double stage_raycast(const Stage *st, double x, double y, double angle, double max_dist) {
    double c = cos(angle), s = sin(angle);
    double t = 0;
    /* Sphere tracing: the edge distance bounds how far the ray can go before
     * it can leave the road, so step by it. Sampling the nearest cell is off
     * by up to 0.71 u, hence the margin. */
    for (int i = 0; i < 96 && t < max_dist; i++) {
        double d = stage_edge_dist(st, x + c * t, y + s * t);
        if (d >= 0) return t;
        double step = -d;
        if (step < 0.25) step = 0.25;
        t += step;
    }
    return t < max_dist ? t : max_dist;
}

void stage_project(const Stage *st, int seg, double x, double y, double *t, double *lateral,
                   double *dist2) {
    const StagePoint *a = &st->pts[seg], *b = &st->pts[seg + 1];
    double vx = b->x - a->x, vy = b->y - a->y;
    double l2 = vx * vx + vy * vy;
    double u = ((x - a->x) * vx + (y - a->y) * vy) / l2;
    double uc = u < 0 ? 0 : u > 1 ? 1 : u;
    double px = a->x + uc * vx - x, py = a->y + uc * vy - y;
    *t = uc;
    *lateral = (st->dx[seg] * (y - a->y) - st->dy[seg] * (x - a->x));
    *dist2 = px * px + py * py;
}

int stage_track_segment(const Stage *st, int hint, double x, double y) {
    int nseg = (int)st->n - 1;
    if (hint < 0 || hint >= nseg) hint = 0;
    int best = hint;
    double bt, bl, bd;
    stage_project(st, hint, x, y, &bt, &bl, &bd);
    /* Walk to the neighbour that is closer until none is: segments are at
     * least STAGE_MIN_SPACING long and cars move less than that per tick. */
    for (int dir = -1; dir <= 1; dir += 2) {
        for (int i = best + dir; i >= 0 && i < nseg; i += dir) {
            double t, l, d;
            stage_project(st, i, x, y, &t, &l, &d);
            if (d < bd) {
                bd = d, best = i;
            } else if (abs(i - best) > 4) {
                break;
            }
        }
    }
    /* A car thrown far from the hint (or a bad hint) falls back to the
     * raster's nearest segment. */
    double hw = st->pts[best].width / 2 + CR_VERGE + 2;
    if (bd > hw * hw) {
        float sd;
        int seg;
        Surface surf;
        stage_cell(st, x, y, &sd, &seg, &surf);
        if (seg >= 0 && seg < nseg) best = seg;
    }
    return best;
}

void stage_point_at(const Stage *st, double s, double *x, double *y, double *dirx, double *diry,
                    int *seg) {
    size_t lo = 0, hi = st->n - 1;
    if (s <= 0) s = 0;
    if (s >= st->length) s = st->length;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (st->cum[mid] <= s)
            lo = mid;
        else
            hi = mid;
    }
    double l = st->cum[lo + 1] - st->cum[lo];
    double u = (s - st->cum[lo]) / l;
    const StagePoint *a = &st->pts[lo], *b = &st->pts[lo + 1];
    *x = a->x + (b->x - a->x) * u;
    *y = a->y + (b->y - a->y) * u;
    *dirx = st->dx[lo];
    *diry = st->dy[lo];
    if (seg) *seg = (int)lo;
}

/* Writes every raster cell within reach of segment i: its distance to the
 * segment's road edge, keeping the smallest over all segments. */
static int raster_segment(Stage *st, size_t i, double reach) {
    const StagePoint *a = &st->pts[i], *b = &st->pts[i + 1];
    double vx = b->x - a->x, vy = b->y - a->y;
    double l2 = vx * vx + vy * vy;
    int x0 = (int)floor((fmin(a->x, b->x) - reach - st->ox) / STAGE_CELL);
    int x1 = (int)floor((fmax(a->x, b->x) + reach - st->ox) / STAGE_CELL);
    int y0 = (int)floor((fmin(a->y, b->y) - reach - st->oy) / STAGE_CELL);
    int y1 = (int)floor((fmax(a->y, b->y) + reach - st->oy) / STAGE_CELL);
    for (int cy = y0; cy <= y1; cy++) {
        for (int cx = x0; cx <= x1; cx++) {
            double px = st->ox + (cx + 0.5) * STAGE_CELL, py = st->oy + (cy + 0.5) * STAGE_CELL;
            double u = ((px - a->x) * vx + (py - a->y) * vy) / l2;
            u = u < 0 ? 0 : u > 1 ? 1 : u;
            double qx = a->x + u * vx - px, qy = a->y + u * vy - py;
            double d = sqrt(qx * qx + qy * qy);
            if (d > reach) continue;
            double hw = (a->width + (b->width - a->width) * u) / 2;
            float sd = (float)(d - hw);
            size_t ti = (size_t)(cy / STAGE_TILE) * (size_t)st->tiles_w + (size_t)(cx / STAGE_TILE);
            StageTile *t = st->tiles[ti];
            if (!t) {
                t = malloc(sizeof *t);
                if (!t) return CR_ENOMEM;
                for (int k = 0; k < STAGE_TILE * STAGE_TILE; k++) {
                    t->sd[k] = STAGE_FAR;
                    t->seg[k] = 0;
                    t->surf[k] = SURFACE_OFFROAD;
                }
                st->tiles[ti] = t;
            }
            int k = (cy % STAGE_TILE) * STAGE_TILE + cx % STAGE_TILE;
            if (sd < t->sd[k]) {
                t->sd[k] = sd;
                t->seg[k] = (uint16_t)i;
                t->surf[k] = (uint8_t)a->surface;
            }
        }
    }
    return CR_OK;
}

static int build_raster(Stage *st) {
    double max_w = 0, minx = INFINITY, maxx = -INFINITY, miny = INFINITY, maxy = -INFINITY;
    for (size_t i = 0; i < st->n; i++) {
        max_w = fmax(max_w, st->pts[i].width);
        minx = fmin(minx, st->pts[i].x), maxx = fmax(maxx, st->pts[i].x);
        miny = fmin(miny, st->pts[i].y), maxy = fmax(maxy, st->pts[i].y);
    }
    /* Beyond the wall by a few cells, so the wall's normal is defined. */
    double reach = max_w / 2 + CR_VERGE + 4;
    double margin = reach + 2 * STAGE_CELL;
    st->ox = floor(minx - margin);
    st->oy = floor(miny - margin);
    double span_x = maxx + margin - st->ox, span_y = maxy + margin - st->oy;
    st->tiles_w = (int)(span_x / (STAGE_CELL * STAGE_TILE)) + 1;
    st->tiles_h = (int)(span_y / (STAGE_CELL * STAGE_TILE)) + 1;
    st->tiles = calloc((size_t)st->tiles_w * (size_t)st->tiles_h, sizeof *st->tiles);
    if (!st->tiles) return CR_ENOMEM;
    for (size_t i = 0; i + 1 < st->n; i++) {
        double hw = fmax(st->pts[i].width, st->pts[i + 1].width) / 2;
        int rc = raster_segment(st, i, hw + CR_VERGE + 4);
        if (rc) return rc;
    }
    return CR_OK;
}

static void build_grid(Stage *st) {
    for (int k = 0; k < CR_MAX_CARS; k++) {
        int row = k / 2, col = k % 2;
        double s = STAGE_GRID_FRONT - row * STAGE_GRID_ROW;
        double x, y, dx, dy;
        int seg;
        stage_point_at(st, s, &x, &y, &dx, &dy, &seg);
        double off = col == 0 ? 2.5 : -2.5; /* left, then right */
        st->grid_x[k] = x - dy * off;
        st->grid_y[k] = y + dx * off;
        st->grid_heading[k] = atan2(dy, dx);
        st->grid_seg[k] = seg;
    }
}

int stage_compile(const StageDesc *desc, const StageLimits *limits, Stage **out, CrError *err) {
    *out = NULL;
    int rc = stage_validate(desc, limits, err);
    if (rc) return rc;
    Stage *st = calloc(1, sizeof *st);
    if (!st) return CR_ENOMEM;
    size_t n = desc->n_points;
    st->n = n;
    st->ncp = desc->n_checkpoints;
    st->pts = malloc(n * sizeof *st->pts);
    st->cum = malloc(n * sizeof *st->cum);
    st->curv = malloc(n * sizeof *st->curv);
    st->dx = malloc(n * sizeof *st->dx);
    st->dy = malloc(n * sizeof *st->dy);
    st->cps = malloc(st->ncp * sizeof *st->cps);
    if (!st->pts || !st->cum || !st->curv || !st->dx || !st->dy || !st->cps) {
        rc = CR_ENOMEM;
        goto fail;
    }
    memcpy(st->pts, desc->points, n * sizeof *st->pts);
    memcpy(st->cps, desc->checkpoints, st->ncp * sizeof *st->cps);
    st->cum[0] = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        double vx = st->pts[i + 1].x - st->pts[i].x, vy = st->pts[i + 1].y - st->pts[i].y;
        double l = hypot(vx, vy);
        st->dx[i] = vx / l;
        st->dy[i] = vy / l;
        st->cum[i + 1] = st->cum[i] + l;
    }
    st->dx[n - 1] = st->dx[n - 2];
    st->dy[n - 1] = st->dy[n - 2];
    st->length = st->cum[n - 1];
    st->curv[0] = st->curv[n - 1] = 0;
    for (size_t i = 1; i + 1 < n; i++) {
        double a = atan2(st->dx[i - 1] * st->dy[i] - st->dy[i - 1] * st->dx[i],
                         st->dx[i - 1] * st->dx[i] + st->dy[i - 1] * st->dy[i]);
        st->curv[i] = a / ((st->cum[i + 1] - st->cum[i - 1]) / 2);
    }
    uint64_t h = HASH_SEED;
    for (size_t i = 0; i < n; i++) {
        h = hash_double(h, st->pts[i].x);
        h = hash_double(h, st->pts[i].y);
        h = hash_double(h, st->pts[i].width);
        h = hash_u64(h, (uint64_t)st->pts[i].surface);
    }
    for (size_t i = 0; i < st->ncp; i++) h = hash_u64(h, st->cps[i]);
    st->hash = h;
    rc = build_raster(st);
    if (rc) goto fail;
    build_grid(st);
    *out = st;
    return CR_OK;
fail:
    stage_destroy(st);
    if (rc == CR_ENOMEM && err) strcpy(err->msg, "out of memory compiling the stage");
    return rc;
}

void stage_destroy(Stage *st) {
    if (!st) return;
    if (st->tiles) {
        for (size_t i = 0; i < (size_t)st->tiles_w * (size_t)st->tiles_h; i++) free(st->tiles[i]);
        free(st->tiles);
    }
    free(st->pts);
    free(st->cum);
    free(st->curv);
    free(st->dx);
    free(st->dy);
    free(st->cps);
    free(st);
}

double stage_length(const Stage *st) {
    return st->length;
}
size_t stage_point_count(const Stage *st) {
    return st->n;
}
const StagePoint *stage_points(const Stage *st) {
    return st->pts;
}
size_t stage_checkpoint_count(const Stage *st) {
    return st->ncp;
}
uint32_t stage_checkpoint_point(const Stage *st, size_t i) {
    return st->cps[i];
}
double stage_point_distance(const Stage *st, size_t i) {
    return st->cum[i];
}
uint64_t stage_hash(const Stage *st) {
    return st->hash;
}
