/*
 * stage_internal.h - the compiled stage, for the simulation's hot path.
 *
 * The spatial index is a sparse raster of the signed distance to the road
 * edge (negative on the road), 1 u cells in 16 x 16 tiles allocated only
 * near the route. Surface lookup, wall collision (edge distance > CR_VERGE)
 * and sensor rays (sphere tracing through the distance field) each cost a
 * few raster samples, whatever the number of segments.
 *
 *   tiles[ty * tiles_w + tx] -> StageTile or NULL (NULL = far outside)
 *   StageTile.sd[cy * TILE + cx]  distance to the road edge at the cell centre
 *   StageTile.seg[...]            nearest centre-line segment
 *   StageTile.surf[...]           that segment's surface
 */
#ifndef CR_STAGE_INTERNAL_H
#define CR_STAGE_INTERNAL_H

#include "coderally.h"

#define STAGE_TILE 16
#define STAGE_CELL 1.0
#define STAGE_FAR 1000.0f      /* edge distance reported outside the raster */
#define STAGE_GRID_FRONT 60.0  /* u of route to the front row of the grid */
#define STAGE_GRID_ROW 7.0     /* u between grid rows */
#define STAGE_GRID_LENGTH 64.0 /* u at the start that must hold the grid */
#define STAGE_MIN_WIDTH (3.0 * CR_CAR_WIDTH)
#define STAGE_MAX_WIDTH 40.0
#define STAGE_MIN_SPACING 1.0
#define STAGE_MAX_SPACING 25.0
#define STAGE_MAX_TURN 0.7853981633974483 /* rad per point (45 degrees) */
#define STAGE_MAX_POINTS 20000
#define STAGE_MAX_CHECKPOINTS 64
#define STAGE_CHECKPOINT_GAP 50.0 /* u between checkpoints, start, finish */
#define STAGE_MAX_COORD 100000.0

/* The road edges at one centre-line point, together: a ray reads all four. */
typedef struct {
    double lx, ly, rx, ry;
} StageEdge;

typedef struct {
    float sd[STAGE_TILE * STAGE_TILE];
    uint16_t seg[STAGE_TILE * STAGE_TILE];
    uint8_t surf[STAGE_TILE * STAGE_TILE];
} StageTile;

/* What the built-in AI plans with on one surface: sideways acceleration and
 * braking it dares (u/s^2), and two habits. Derived from the surface table
 * when the stage is compiled, so the AI does no string work per tick. */
typedef struct {
    double lateral, brake;
    bool loose;    /* handbrake dabs help when sliding wide */
    bool no_nitro; /* too slippery to fire nitro on */
} StageAiNote;

/* The AI's note for one surface: the tuned one for a shipped name (scaled
 * by how far its grip was changed), else one scaled from grip. */
void stage_ai_note(const SurfaceInfo *s, StageAiNote *out);

struct Stage {
    _Atomic int refs; /* stage_ref / stage_destroy */
    StagePoint *pts;
    size_t n;
    double *cum;     /* route distance of point i */
    double *curv;    /* signed curvature at point i, 1/u, left positive */
    double *dx, *dy; /* unit direction of segment i; the last point repeats */
    uint32_t *cps;
    size_t ncp;
    double length;
    uint64_t hash;
    double ox, oy; /* world position of the raster's corner */
    int tiles_w, tiles_h;
    unsigned cells_w, cells_h; /* tiles_w * STAGE_TILE, tiles_h * STAGE_TILE */
    StageTile **tiles;
    int verge;        /* surfaces.verge, kept with the raster the hot path reads */
    double *inv_len2; /* 1 / squared length of segment i */
    /* Ray quads: the road as a chain of convex quads between the kept points
     * rq[k] and rq[k+1], with the mitred edge points, nearly collinear runs
     * merged so a ray along a straight crosses one quad, not fifty. */
    StageEdge *edge;     /* left and right edge points of point i */
    uint32_t *rq;        /* kept point indices, rq[0] = 0, rq[nrq] = n-1 */
    size_t nrq;          /* quads */
    uint32_t *rq_of_seg; /* quad holding segment i */
    double grid_x[CR_MAX_CARS], grid_y[CR_MAX_CARS], grid_heading[CR_MAX_CARS];
    int grid_seg[CR_MAX_CARS];
    /* Last, so the hot fields above share cache lines: about 1.4 KiB. */
    SurfaceTable surfaces; /* own copy; cars index it by surface */
    StageAiNote ai[SURFACE_MAX];
};

/* The ray quad holding (x, y) on segment seg, or -1. */
int stage_locate_quad(const Stage *st, int seg, double x, double y);
/* stage_raycast in direction (c, s) from a point in quad: walks the quads
 * (falls back to the distance field for quad -1). */
double stage_raycast_quad(const Stage *st, int quad, double x, double y, double c, double s,
                          double max_dist);

/* Edge distance at (x, y), bilinear between cell centres. */
double stage_edge_dist(const Stage *st, double x, double y);
/* Nearest-cell lookup: surface, segment and edge distance. */
void stage_cell(const Stage *st, double x, double y, float *sd, int *seg, Surface *surf);
/* Outward unit normal of the edge-distance field at (x, y). */
void stage_gradient(const Stage *st, double x, double y, double *gx, double *gy);

/* Projection of (x, y) onto segment seg: along-segment parameter t in [0,1],
 * signed lateral offset (left positive) and squared distance. */
void stage_project(const Stage *st, int seg, double x, double y, double *t, double *lateral,
                   double *dist2);
/* Nearest segment to (x, y) searching around hint (a car's last segment). */
int stage_track_segment(const Stage *st, int hint, double x, double y);
/* Centre-line point at route distance s: position, direction, segment. */
void stage_point_at(const Stage *st, double s, double *x, double *y, double *dirx, double *diry,
                    int *seg);

/* Checks desc against every rule; CR_ESTAGE with the message on failure. */
int stage_validate(const StageDesc *desc, const StageLimits *limits, CrError *err);

#endif
