/*
 * fuzz_stage.c - stage descriptions into stage_compile. The input decodes
 * into a StageDesc: a turtle walk (so that many inputs are plausible roads
 * that get past validation and into the spatial index), with any point's
 * coordinates, width or surface replaced by raw bit patterns (NaN, inf,
 * huge) on demand, checkpoint indices in or out of range, and limits as
 * config.lua could set them. A compiled stage is then probed and ray cast.
 *
 *   u8 limits mode (bit 2: a surface table of its own follows:
 *     u8 n, u8 verge, n x u8 grip, drag, top speed) |
 *   u8 n_checkpoints, n x (u8 mode, u16 or u32 index) |
 *   points until the input ends: u8 control, then per control bits
 *     bit 0: f64 x, f64 y (raw)   else: i8 turn, u8 step (turtle)
 *     bit 1: f64 width (raw)      else: u8 width / 8 (u)
 *     bit 2: i32 surface (raw)    else: surface = control >> 5 (0..7)
 */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "coderally.h"
#include "fuzz_input.h"

#define MAX_POINTS 8192
#define MAX_CPS 128

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A table of 2..9 surfaces as scripts/surfaces.lua could define, or NULL
 * (the default table) if the input asks for none or the table is refused. */
static const SurfaceTable *decode_table(FuzzInput *in, uint8_t mode, SurfaceTable *out) {
    if (!(mode & 4)) return NULL;
    SurfaceInfo e[9];
    size_t n = 2 + fuzz_u8(in) % 8;
    size_t verge = fuzz_u8(in) % n;
    for (size_t i = 0; i < n; i++) {
        snprintf(e[i].name, sizeof e[i].name, i == verge ? "offroad" : "s%zu", i);
        e[i].grip = 0.01 + fuzz_u8(in) / 255.0 * 1.99;
        e[i].drag = fuzz_u8(in) / 255.0 * 5;
        e[i].top_speed = 0.05 + fuzz_u8(in) / 255.0 * 1.45;
        snprintf(e[i].colour, sizeof e[i].colour, "#%02x%02x%02x", (unsigned)i * 20, 0x80, 0x40);
    }
    CrError err;
    return surface_table_init(out, e, n, &err) == CR_OK ? out : NULL;
}

static StageLimits decode_limits(FuzzInput *in, uint8_t mode) {
    switch (mode & 3) {
        case 0:
            return (StageLimits){1000, 3000}; /* config.lua's defaults */
        case 1:
            return (StageLimits){0, 1e9};
        default: {
            double lo = fuzz_u8(in) * 10.0;
            return (StageLimits){lo, lo + fuzz_u16(in)};
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static StagePoint pts[MAX_POINTS];
    static uint32_t cps[MAX_CPS];
    static SurfaceTable table;
    FuzzInput in = {data, size, 0};
    uint8_t mode = fuzz_u8(&in);
    StageLimits limits = decode_limits(&in, mode);
    const SurfaceTable *surfaces = decode_table(&in, mode, &table);
    const SurfaceTable *t = surfaces ? surfaces : surface_table_default();

    size_t n_cps = fuzz_u8(&in) % MAX_CPS;
    for (size_t i = 0; i < n_cps; i++) {
        cps[i] = fuzz_u8(&in) & 1 ? fuzz_u32(&in) : fuzz_u16(&in);
    }

    size_t n = 0;
    double x = 0, y = 0, heading = 0;
    while (fuzz_left(&in) > 0 && n < MAX_POINTS) {
        uint8_t c = fuzz_u8(&in);
        StagePoint *p = &pts[n++];
        if (c & 1) {
            p->x = fuzz_f64(&in);
            p->y = fuzz_f64(&in);
            if (isfinite(p->x) && isfinite(p->y)) x = p->x, y = p->y;
        } else {
            heading += (int8_t)fuzz_u8(&in) * 0.004;
            double step = fuzz_u8(&in) / 16.0;
            x += step * cos(heading);
            y += step * sin(heading);
            p->x = x, p->y = y;
        }
        p->width = c & 2 ? fuzz_f64(&in) : fuzz_u8(&in) / 8.0;
        if (c & 4) {
            int32_t s = (int32_t)fuzz_u32(&in);
            memcpy(&p->surface, &s, sizeof s < sizeof p->surface ? sizeof s : sizeof p->surface);
        } else {
            p->surface = (Surface)(c >> 5);
        }
    }

    StageDesc desc = {pts, n, cps, n_cps, surfaces};
    Stage *st = NULL;
    CrError err = {{0}};
    int rc = stage_compile(&desc, &limits, &st, &err);
    if (rc != CR_OK) {
        assert(st == NULL || rc == CR_OK);
        assert(err.msg[0] != 0); /* every refusal says why */
        return 0;
    }

    /* A stage that compiled is sane: finite, within limits, every point kept. */
    double len = stage_length(st);
    assert(isfinite(len) && len >= limits.min_length && len <= limits.max_length);
    assert(stage_point_count(st) >= 2);
    assert(stage_checkpoint_count(st) == n_cps);
    (void)stage_hash(st);
    const StagePoint *sp = stage_points(st);
    size_t m = stage_point_count(st);
    for (size_t i = 0; i < m; i++) {
        assert(isfinite(sp[i].x) && isfinite(sp[i].y) && isfinite(sp[i].width));
        assert(sp[i].surface >= 0 && sp[i].surface < t->count && sp[i].surface != t->verge);
        assert(isfinite(stage_point_distance(st, i)));
    }
    /* Probe and cast from the road, its edges and far away, as cars do. */
    size_t step = m / 64 + 1;
    for (size_t i = 0; i + 1 < m; i += step) {
        double px = sp[i].x, py = sp[i].y;
        double dx = sp[i + 1].x - px, dy = sp[i + 1].y - py;
        double a = atan2(dy, dx);
        StageProbe pr;
        stage_probe(st, px, py, &pr);
        assert(pr.surface >= 0 && pr.surface < t->count);
        stage_probe(st, px - dy * 3, py + dx * 3, &pr);
        stage_probe(st, px + 1e6, py - 1e6, &pr);
        double d = stage_raycast(st, px, py, a + 1.0, SENSOR_RAY_RANGE);
        assert(d >= 0 && d <= SENSOR_RAY_RANGE);
        d = stage_raycast(st, px, py, a, SENSOR_RAY_RANGE);
        assert(d >= 0 && d <= SENSOR_RAY_RANGE);
    }
    stage_destroy(st);
    return 0;
}
