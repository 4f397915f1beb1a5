/*
 * stage.c - compiling a validated stage description into the Stage the
 * simulation reads: route tables, the distance-field raster, the start grid.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "stage/stage_internal.h"
#include "util/dmath.h"
#include "util/hash.h"

static StageTile *tile_at(const Stage *st, int tx, int ty) {
    if (tx < 0 || ty < 0 || tx >= st->tiles_w || ty >= st->tiles_h) return NULL;
    return st->tiles[(size_t)ty * (size_t)st->tiles_w + (size_t)tx];
}

/* Cell (cx, cy) in raster coordinates; outside the raster or in a missing
 * tile is far outside. The unsigned compare also rejects negatives. */
static inline float cell_sd(const Stage *st, int cx, int cy) {
    if ((unsigned)cx >= st->cells_w || (unsigned)cy >= st->cells_h) return STAGE_FAR;
    const StageTile *t = st->tiles[(size_t)(cy >> 4) * (size_t)st->tiles_w + (size_t)(cx >> 4)];
    return t ? t->sd[(cy & 15) * STAGE_TILE + (cx & 15)] : STAGE_FAR;
}

/* floor() for the raster: a libm call on baseline x86-64, and this is the
 * innermost loop of every sensor ray. */
static inline int fast_floor(double v) {
    int i = (int)v;
    return i - (v < i);
}

/* Bilinear edge distance between cell centres; with surf, also the surface
 * of the nearest of the four cells, from the same tile read. */
static inline double sample(const Stage *st, double x, double y, Surface *surf) {
    double fx = (x - st->ox) / STAGE_CELL - 0.5, fy = (y - st->oy) / STAGE_CELL - 0.5;
    int cx = fast_floor(fx), cy = fast_floor(fy);
    double ax = fx - cx, ay = fy - cy;
    double s00, s10, s01, s11;
    int near = (ax >= 0.5) + (ay >= 0.5) * 2;
    /* The four cells usually share a tile: read them directly. */
    if ((cx & 15) != 15 && (cy & 15) != 15 && (unsigned)cx < st->cells_w &&
        (unsigned)cy < st->cells_h) {
        const StageTile *t = st->tiles[(size_t)(cy >> 4) * (size_t)st->tiles_w + (size_t)(cx >> 4)];
        if (!t) {
            if (surf) *surf = st->verge;
            return STAGE_FAR;
        }
        int k = (cy & 15) * STAGE_TILE + (cx & 15);
        const float *p = &t->sd[k];
        s00 = p[0], s10 = p[1], s01 = p[STAGE_TILE], s11 = p[STAGE_TILE + 1];
        if (surf) {
            static const int OFF[4] = {0, 1, STAGE_TILE, STAGE_TILE + 1};
            *surf = t->surf[k + OFF[near]];
        }
    } else {
        s00 = cell_sd(st, cx, cy), s10 = cell_sd(st, cx + 1, cy);
        s01 = cell_sd(st, cx, cy + 1), s11 = cell_sd(st, cx + 1, cy + 1);
        if (surf) {
            float sd;
            int seg;
            stage_cell(st, st->ox + (cx + (near & 1) + 0.5) * STAGE_CELL,
                       st->oy + (cy + (near >> 1) + 0.5) * STAGE_CELL, &sd, &seg, surf);
            if (sd >= STAGE_FAR) *surf = st->verge;
        }
    }
    double e = (s00 * (1 - ax) + s10 * ax) * (1 - ay) + (s01 * (1 - ax) + s11 * ax) * ay;
    /* Beyond the edge is the verge, whatever the nearest segment is. */
    if (surf && e > 0) *surf = st->verge;
    return e;
}

double stage_edge_dist(const Stage *st, double x, double y) {
    return sample(st, x, y, NULL);
}

void stage_cell(const Stage *st, double x, double y, float *sd, int *seg, Surface *surf) {
    double fx = (x - st->ox) / STAGE_CELL, fy = (y - st->oy) / STAGE_CELL;
    int cx = (int)floor(fx), cy = (int)floor(fy);
    const StageTile *t = (cx < 0 || cy < 0) ? NULL : tile_at(st, cx / STAGE_TILE, cy / STAGE_TILE);
    if (!t) {
        *sd = STAGE_FAR;
        *seg = -1;
        *surf = st->verge;
        return;
    }
    int k = (cy % STAGE_TILE) * STAGE_TILE + cx % STAGE_TILE;
    *sd = t->sd[k];
    *seg = t->sd[k] >= STAGE_FAR ? -1 : t->seg[k];
    *surf = t->sd[k] <= 0 ? (Surface)t->surf[k] : st->verge;
}

void stage_gradient(const Stage *st, double x, double y, double *gx, double *gy) {
    const double h = 0.5;
    double dx = stage_edge_dist(st, x + h, y) - stage_edge_dist(st, x - h, y);
    double dy = stage_edge_dist(st, x, y + h) - stage_edge_dist(st, x, y - h);
    double l = dm_hypot(dx, dy);
    if (l < 1e-12) {
        *gx = 0, *gy = 0;
        return;
    }
    *gx = dx / l, *gy = dy / l;
}

void stage_probe(const Stage *st, double x, double y, StageProbe *out) {
    out->edge_dist = sample(st, x, y, &out->surface);
    out->wall_dist = out->edge_dist - CR_VERGE;
}

/* Sphere tracing through the distance field: the fallback when the quad
 * walk cannot say (a point outside every quad). The distance to the edge
 * bounds how far the ray can go before it can leave the road. Near the
 * edge, where sphere tracing crawls along a grazing ray, it steps at least
 * 1 u and bisects: the road is never narrower than that. */
static double raycast_field(const Stage *st, double x, double y, double c, double s,
                            double max_dist) {
    double px = x - st->ox, py = y - st->oy;
    double lo = 0, t = 0;
    for (int i = 0; i < 400; i++) {
        if (t >= max_dist) return max_dist;
        float d = cell_sd(st, fast_floor(px + c * t), fast_floor(py + s * t));
        if (d < -1.5f) {
            lo = t;
            t += -d - 0.71;
            continue;
        }
        double e = stage_edge_dist(st, x + c * t, y + s * t);
        if (e >= 0) break;
        lo = t;
        t += -e > 1.0 ? -e : 1.0;
    }
    double hi = t;
    for (int i = 0; i < 7; i++) {
        double mid = (lo + hi) / 2;
        if (stage_edge_dist(st, x + c * mid, y + s * mid) >= 0)
            hi = mid;
        else
            lo = mid;
    }
    return hi < max_dist ? hi : max_dist;
}

/* Where the ray (ox, oy) + t (c, s) crosses segment a-b: t, or -1. The
 * segment parameter is tested before dividing: most sides are missed. */
static inline double ray_hit(double ox, double oy, double c, double s, double ax, double ay,
                             double bx, double by) {
    double ex = bx - ax, ey = by - ay;
    double den = c * ey - s * ex;
    double wx = ax - ox, wy = ay - oy;
    double nu = wx * s - wy * c, nt = wx * ey - wy * ex;
    if (den > 1e-12) {
        if (nu < 0 || nu > den || nt < 0) return -1;
    } else if (den < -1e-12) {
        if (nu > 0 || nu < den || nt > 0) return -1;
    } else {
        return -1;
    }
    return nt / den;
}

int stage_locate_quad(const Stage *st, int seg, double x, double y) {
    if (seg < 0 || seg >= (int)st->n - 1) return -1;
    size_t q = st->rq_of_seg[seg];
    /* The segment comes from the foot of the perpendicular; the quad caps
     * are mitred. Near a cap the point can sit in the neighbouring quad:
     * move to the quad whose caps it lies between. */
    for (int k = 0; k < 4; k++) {
        uint32_t a = st->rq[q], b = st->rq[q + 1];
        double back = (st->edge[a].rx - st->edge[a].lx) * (y - st->edge[a].ly) -
                      (st->edge[a].ry - st->edge[a].ly) * (x - st->edge[a].lx);
        double front = (st->edge[b].rx - st->edge[b].lx) * (y - st->edge[b].ly) -
                       (st->edge[b].ry - st->edge[b].ly) * (x - st->edge[b].lx);
        /* Left to right across the road, the route direction is to the
         * left of the cap line: behind the back cap is to its right. */
        if (back < 0 && q > 0)
            q--;
        else if (front > 0 && q + 1 < st->nrq)
            q++;
        else
            break;
    }
    return (int)q;
}

double stage_raycast_quad(const Stage *st, int quad, double x, double y, double c, double s,
                          double max_dist) {
    if (quad < 0 || quad >= (int)st->nrq) return raycast_field(st, x, y, c, s, max_dist);
    size_t q = (size_t)quad;
    int came = 0; /* +1 entered through the back cap, -1 through the front */
    for (int steps = 0; steps < 4096; steps++) {
        uint32_t a = st->rq[q], b = st->rq[q + 1];
        /* The quad's four sides: left, right, back cap (a), front cap (b). */
        double best = INFINITY;
        int side = 0;
        double t =
            ray_hit(x, y, c, s, st->edge[a].lx, st->edge[a].ly, st->edge[b].lx, st->edge[b].ly);
        if (t >= 0 && t < best) best = t, side = 1;
        t = ray_hit(x, y, c, s, st->edge[a].rx, st->edge[a].ry, st->edge[b].rx, st->edge[b].ry);
        if (t >= 0 && t < best) best = t, side = 1;
        if (came != 1) {
            t = ray_hit(x, y, c, s, st->edge[a].lx, st->edge[a].ly, st->edge[a].rx, st->edge[a].ry);
            if (t >= 0 && t < best) best = t, side = 2;
        }
        if (came != -1) {
            t = ray_hit(x, y, c, s, st->edge[b].lx, st->edge[b].ly, st->edge[b].rx, st->edge[b].ry);
            if (t >= 0 && t < best) best = t, side = 3;
        }
        if (side == 0) return raycast_field(st, x, y, c, s, max_dist);
        if (best >= max_dist) return max_dist;
        if (side == 1) return best;
        /* Through a cap: into the next quad, or off either end of the road. */
        if (side == 2) {
            if (q == 0) return best;
            q--, came = -1;
        } else {
            if (q + 1 == st->nrq) return best;
            q++, came = 1;
        }
    }
    return raycast_field(st, x, y, c, s, max_dist);
}

double stage_raycast(const Stage *st, double x, double y, double angle, double max_dist) {
    if (stage_edge_dist(st, x, y) >= 0) return 0;
    float sd;
    int seg;
    Surface surf;
    stage_cell(st, x, y, &sd, &seg, &surf);
    double s, c;
    dm_sincos(angle, &s, &c);
    return stage_raycast_quad(st, stage_locate_quad(st, seg, x, y), x, y, c, s, max_dist);
}

/* Distance of p from the line through a and b (infinite if a == b). */
static double off_line(double ax, double ay, double bx, double by, double px, double py) {
    double vx = bx - ax, vy = by - ay;
    double len = sqrt(vx * vx + vy * vy);
    return len > 0 ? fabs(vx * (py - ay) - vy * (px - ax)) / len : INFINITY;
}

/* The mitred road edges and the merged ray quads. */
static int build_ray_quads(Stage *st) {
    size_t n = st->n;
    st->edge = malloc(n * sizeof *st->edge);
    st->rq = malloc(n * sizeof *st->rq);
    st->rq_of_seg = malloc(n * sizeof *st->rq_of_seg);
    if (!st->edge || !st->rq || !st->rq_of_seg) return CR_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        size_t a = i > 0 ? i - 1 : 0;
        /* Mitre: the normal halfway between the two segments, lengthened so
         * the edge stays half a width from both. */
        double nx = -(st->dy[a] + st->dy[i]), ny = st->dx[a] + st->dx[i];
        double l = sqrt(nx * nx + ny * ny);
        nx /= l, ny /= l;
        double cosh = nx * -st->dy[i] + ny * st->dx[i];
        double hw = st->pts[i].width / 2 / (cosh > 0.5 ? cosh : 0.5);
        st->edge[i].lx = st->pts[i].x + nx * hw, st->edge[i].ly = st->pts[i].y + ny * hw;
        st->edge[i].rx = st->pts[i].x - nx * hw, st->edge[i].ry = st->pts[i].y - ny * hw;
    }
    /* Greedy merge: extend a quad while every skipped edge point lies within
     * 10 cm of the merged edges: rays are that accurate. */
    const double tol = 0.1;
    size_t k = 0, i = 0;
    st->rq[0] = 0;
    while (i < n - 1) {
        size_t j = i + 1;
        while (j + 1 < n && j + 1 - i <= 64) {
            size_t cand = j + 1;
            bool ok = true;
            for (size_t m = i + 1; m < cand && ok; m++) {
                const StageEdge *a = &st->edge[i], *b = &st->edge[cand], *p = &st->edge[m];
                ok = off_line(a->lx, a->ly, b->lx, b->ly, p->lx, p->ly) <= tol &&
                     off_line(a->rx, a->ry, b->rx, b->ry, p->rx, p->ry) <= tol;
            }
            if (!ok) break;
            j = cand;
        }
        for (size_t m = i; m < j; m++) st->rq_of_seg[m] = (uint32_t)k;
        st->rq[++k] = (uint32_t)j;
        i = j;
    }
    st->rq_of_seg[n - 1] = (uint32_t)(k - 1);
    st->nrq = k;
    return CR_OK;
}

void stage_project(const Stage *st, int seg, double x, double y, double *t, double *lateral,
                   double *dist2) {
    const StagePoint *a = &st->pts[seg], *b = &st->pts[seg + 1];
    double vx = b->x - a->x, vy = b->y - a->y;
    double u = ((x - a->x) * vx + (y - a->y) * vy) * st->inv_len2[seg];
    double uc = u < 0 ? 0 : u > 1 ? 1 : u;
    double px = a->x + uc * vx - x, py = a->y + uc * vy - y;
    *t = uc;
    *lateral = (st->dx[seg] * (y - a->y) - st->dy[seg] * (x - a->x));
    *dist2 = px * px + py * py;
}

int stage_track_segment(const Stage *st, int hint, double x, double y) {
    int nseg = (int)st->n - 1;
    int seg = hint >= 0 && hint < nseg ? hint : 0, prev = -1;
    /* Walk to the segment whose span holds the point's foot: forwards past
     * the segment's end, backwards before its start. Cars move less than a
     * segment per tick, so this is usually one projection. On the outside of
     * a bend the foot can fall past both neighbours; stop there. */
    for (int k = 0; k < 64; k++) {
        const StagePoint *a = &st->pts[seg];
        double along = (x - a->x) * st->dx[seg] + (y - a->y) * st->dy[seg];
        double len = st->cum[seg + 1] - st->cum[seg];
        int next = along > len && seg < nseg - 1 ? seg + 1 : along < 0 && seg > 0 ? seg - 1 : seg;
        if (next == seg || next == prev) break;
        prev = seg;
        seg = next;
    }
    double t, l, d;
    stage_project(st, seg, x, y, &t, &l, &d);
    /* A car thrown far from the hint (or a bad hint) falls back to the
     * raster's nearest segment. */
    double hw = st->pts[seg].width / 2 + CR_VERGE + 2;
    if (d > hw * hw) {
        float sd;
        int cell_seg;
        Surface surf;
        stage_cell(st, x, y, &sd, &cell_seg, &surf);
        if (cell_seg >= 0 && cell_seg < nseg) seg = cell_seg;
    }
    return seg;
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
                    t->surf[k] = (uint8_t)st->verge;
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
    st->cells_w = (unsigned)st->tiles_w * STAGE_TILE;
    st->cells_h = (unsigned)st->tiles_h * STAGE_TILE;
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
        st->grid_heading[k] = dm_atan2(dy, dx);
        st->grid_seg[k] = seg;
    }
}

int stage_compile(const StageDesc *desc, const StageLimits *limits, Stage **out, CrError *err) {
    *out = NULL;
    int rc = stage_validate(desc, limits, err);
    if (rc) return rc;
    Stage *st = calloc(1, sizeof *st);
    if (!st) return CR_ENOMEM;
    atomic_init(&st->refs, 1);
    size_t n = desc->n_points;
    st->n = n;
    st->ncp = desc->n_checkpoints;
    st->surfaces = desc->surfaces ? *desc->surfaces : *surface_table_default();
    st->verge = st->surfaces.verge;
    for (int i = 0; i < st->surfaces.count; i++) stage_ai_note(&st->surfaces.s[i], &st->ai[i]);
    st->pts = malloc(n * sizeof *st->pts);
    st->cum = malloc(n * sizeof *st->cum);
    st->curv = malloc(n * sizeof *st->curv);
    st->dx = malloc(n * sizeof *st->dx);
    st->dy = malloc(n * sizeof *st->dy);
    st->cps = malloc(st->ncp * sizeof *st->cps);
    st->inv_len2 = malloc(n * sizeof *st->inv_len2);
    if (!st->pts || !st->cum || !st->curv || !st->dx || !st->dy || !st->cps || !st->inv_len2) {
        rc = CR_ENOMEM;
        goto fail;
    }
    memcpy(st->pts, desc->points, n * sizeof *st->pts);
    memcpy(st->cps, desc->checkpoints, st->ncp * sizeof *st->cps);
    st->cum[0] = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        double vx = st->pts[i + 1].x - st->pts[i].x, vy = st->pts[i + 1].y - st->pts[i].y;
        double l = dm_hypot(vx, vy);
        st->dx[i] = vx / l;
        st->dy[i] = vy / l;
        st->cum[i + 1] = st->cum[i] + l;
        st->inv_len2[i] = 1.0 / (vx * vx + vy * vy);
    }
    st->inv_len2[n - 1] = 0;
    st->dx[n - 1] = st->dx[n - 2];
    st->dy[n - 1] = st->dy[n - 2];
    st->length = st->cum[n - 1];
    st->curv[0] = st->curv[n - 1] = 0;
    for (size_t i = 1; i + 1 < n; i++) {
        double a = dm_atan2(st->dx[i - 1] * st->dy[i] - st->dy[i - 1] * st->dx[i],
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
    /* The surfaces are part of the stage (the same road of sand is another
     * stage); the default table adds nothing, so stages made with the
     * shipped surfaces keep the hashes they had before tables existed. */
    if (!surface_table_is_default(&st->surfaces)) h = hash_u64(h, st->surfaces.hash);
    st->hash = h;
    rc = build_raster(st);
    if (!rc) rc = build_ray_quads(st);
    if (rc) goto fail;
    build_grid(st);
    *out = st;
    return CR_OK;
fail:
    stage_destroy(st);
    if (rc == CR_ENOMEM && err) strcpy(err->msg, "out of memory compiling the stage");
    return rc;
}

Stage *stage_ref(Stage *st) {
    atomic_fetch_add(&st->refs, 1);
    return st;
}

void stage_destroy(Stage *st) {
    if (!st) return;
    if (atomic_fetch_sub(&st->refs, 1) > 1) return;
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
    free(st->inv_len2);
    free(st->edge);
    free(st->rq);
    free(st->rq_of_seg);
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

const SurfaceTable *stage_surfaces(const Stage *st) {
    return &st->surfaces;
}
