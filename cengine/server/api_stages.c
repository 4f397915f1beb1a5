/* api_stages.c - the generators, and one stage's full geometry as JSON for a
 * renderer (or as SVG). No login needed. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "util/file.h"

#define STAGE_PARAMS_MAX 16
#define SVG_MAX (8 << 20)

void api_stages_generators(ApiCtx *ctx, ApiRequest *req, ApiResponse *res) {
    (void)req;
    json_t *arr = json_array();
    size_t n = scripts_generator_count(ctx->scripts);
    for (size_t i = 0; i < n; i++) {
        const GeneratorInfo *g = scripts_generator(ctx->scripts, i);
        const char *bad = scripts_generator_error(ctx->scripts, i);
        json_t *params = json_array();
        for (size_t k = 0; k < g->n_params; k++) {
            const GeneratorParam *p = &g->params[k];
            json_array_append_new(
                params, json_pack("{s:s,s:f,s:f,s:f,s:s}", "name", p->name, "default", p->def,
                                  "min", p->min, "max", p->max, "description", p->description));
        }
        json_array_append_new(
            arr, json_pack("{s:s,s:s,s:s,s:o,s:s?}", "name", g->name, "version", g->version,
                           "description", g->description, "params", params, "error", bad));
    }
    api_json(res, 200, json_pack("{s:o}", "generators", arr));
}

static json_t *num(double v) {
    return json_real(round(v * 1000.0) / 1000.0);
}
static json_t *pt(double x, double y) {
    return json_pack("[o,o]", num(x), num(y));
}

/* Unit normal to the left of the centre line at point i. */
static void normal_at(const StagePoint *p, size_t n, size_t i, double *nx, double *ny) {
    size_t a = i > 0 ? i - 1 : 0, b = i + 1 < n ? i + 1 : n - 1;
    double dx = p[b].x - p[a].x, dy = p[b].y - p[a].y, len = hypot(dx, dy);
    if (len <= 0) len = 1;
    *nx = -dy / len;
    *ny = dx / len;
}

static json_t *gate(const StagePoint *p, size_t n, size_t i) {
    double nx, ny, h = p[i].width / 2;
    normal_at(p, n, i, &nx, &ny);
    return json_pack("{s:I,s:o,s:o}", "point", (json_int_t)i, "left",
                     pt(p[i].x + nx * h, p[i].y + ny * h), "right",
                     pt(p[i].x - nx * h, p[i].y - ny * h));
}

/* The start grid as the engine lays it out: a race of max_cars cars on this
 * stage, read before its first tick. */
static json_t *grid(Scripts *sc, const char *starter_car, const Stage *st, int max_cars) {
    json_t *arr = json_array();
    CarEntry cars[CR_MAX_CARS];
    CrError err = {{0}};
    memset(cars, 0, sizeof cars);
    if (max_cars > CR_MAX_CARS) max_cars = CR_MAX_CARS;
    for (int i = 0; i < max_cars; i++) {
        snprintf(cars[i].name, sizeof cars[i].name, "car%d", i);
        snprintf(cars[i].car_type, sizeof cars[i].car_type, "%s", starter_car);
        if (scripts_car_stats(sc, cars[i].car_type, NULL, 0, &cars[i].stats, &err)) return arr;
    }
    RaceRules rules = {.countdown_ticks = 180, .time_limit_ticks = 60 * 60};
    RaceRoom *room = NULL;
    if (race_create(st, cars, max_cars, &rules, &room, &err)) return arr;
    RaceSnapshot snap;
    race_snapshot(room, &snap);
    for (int i = 0; i < snap.n_cars; i++)
        json_array_append_new(
            arr, json_pack("{s:o,s:o}", "position", pt(snap.cars[i].x, snap.cars[i].y), "heading",
                           num(snap.cars[i].heading)));
    race_destroy(room);
    return arr;
}

json_t *api_stage_geometry(Scripts *sc, const char *starter_car, const char *gen, uint64_t seed,
                           const Stage *st) {
    const StagePoint *p = stage_points(st);
    size_t n = stage_point_count(st);
    json_t *centre = json_array(), *width = json_array(), *left = json_array(),
           *right = json_array(), *surf = json_array(), *wl = json_array(), *wr = json_array();
    for (size_t i = 0; i < n; i++) {
        double nx, ny, h = p[i].width / 2, w = h + CR_VERGE;
        normal_at(p, n, i, &nx, &ny);
        /* Exact: a client compiles the same stage from these (and checks
         * its hash), so they must round-trip. */
        json_array_append_new(centre, json_pack("[f,f]", p[i].x, p[i].y));
        json_array_append_new(width, json_real(p[i].width));
        json_array_append_new(left, pt(p[i].x + nx * h, p[i].y + ny * h));
        json_array_append_new(right, pt(p[i].x - nx * h, p[i].y - ny * h));
        json_array_append_new(wl, pt(p[i].x + nx * w, p[i].y + ny * w));
        json_array_append_new(wr, pt(p[i].x - nx * w, p[i].y - ny * w));
        if (i + 1 < n) json_array_append_new(surf, json_string(surface_name(p[i].surface)));
    }
    json_t *cps = json_array();
    for (size_t i = 0; i < stage_checkpoint_count(st); i++) {
        json_t *g = gate(p, n, stage_checkpoint_point(st, i));
        json_object_set_new(g, "index", json_integer((json_int_t)i));
        json_array_append_new(cps, g);
    }
    double max_players = 8;
    scripts_config_number(sc, "MAX_CONCURRENT_PLAYERS", &max_players);
    char hash[17];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)stage_hash(st));
    double heading = n > 1 ? atan2(p[1].y - p[0].y, p[1].x - p[0].x) : 0;
    json_t *start = json_pack("{s:i,s:o,s:o}", "point", 0, "heading", num(heading), "grid",
                              grid(sc, starter_car, st, (int)max_players));
    return json_pack("{s:s,s:I,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:{s:o,s:o},s:o,s:o,s:o}", "generator",
                     gen, "seed", (json_int_t)seed, "hash", hash, "length", num(stage_length(st)),
                     "centre", centre, "width", width, "left", left, "right", right, "surfaces",
                     surf, "walls", "left", wl, "right", wr, "checkpoints", cps, "start", start,
                     "finish", gate(p, n, n - 1));
}

static void svg(ApiResponse *res, const char *gen, uint64_t seed, const Stage *st) {
    char path[] = "/tmp/coderally-svg-XXXXXX";
    int fd = mkstemp(path);
    CrError err = {{0}};
    if (fd < 0) {
        api_internal(res, "svg temp file", NULL);
        return;
    }
    close(fd);
    char title[96];
    snprintf(title, sizeof title, "%s seed %llu", gen, (unsigned long long)seed);
    char *buf = NULL;
    size_t len = 0;
    if (stage_write_svg(st, title, path, &err) || file_read(path, SVG_MAX, &buf, &len, &err)) {
        unlink(path);
        api_internal(res, "svg", &err);
        return;
    }
    unlink(path);
    free(res->body);
    res->body = buf;
    res->len = len;
    res->status = 200;
    res->content_type = "image/svg+xml";
}

bool api_stage_from_query(ApiCtx *ctx, ApiRequest *req, ApiResponse *res, const char *gen,
                          const char *skip, uint64_t *seed_out, Stage **out) {
    *out = NULL;
    /* seed=N and PARAM=VALUE pairs from the query string. */
    uint64_t seed = 1;
    char keys[STAGE_PARAMS_MAX][64], vals[STAGE_PARAMS_MAX][64];
    ConfigOverride params[STAGE_PARAMS_MAX];
    size_t np = 0;
    for (const char *q = req->query; *q;) {
        const char *amp = strchr(q, '&');
        size_t seg = amp ? (size_t)(amp - q) : strlen(q);
        const char *eq = memchr(q, '=', seg);
        size_t kl = eq ? (size_t)(eq - q) : seg;
        if (seg && kl < 64 && kl > 0) {
            char key[64];
            memcpy(key, q, kl);
            key[kl] = 0;
            char val[64];
            if (!api_query(req, key, val, sizeof val)) val[0] = 0;
            if (skip && !strcmp(key, skip)) {
                /* the caller's own argument */
            } else if (!strcmp(key, "seed")) {
                char *end;
                errno = 0;
                unsigned long long s = strtoull(val, &end, 10);
                if (!*val || *end || val[0] == '-' || errno || s > API_SEED_MAX) {
                    api_error(res, 400, "bad_field", "'seed' must be a whole number 0..%llu",
                              API_SEED_MAX);
                    return false;
                }
                seed = s;
            } else {
                if (np == STAGE_PARAMS_MAX) {
                    api_error(res, 400, "bad_field", "at most %d parameters", STAGE_PARAMS_MAX);
                    return false;
                }
                snprintf(keys[np], sizeof keys[np], "%s", key);
                snprintf(vals[np], sizeof vals[np], "%s", val);
                params[np].key = keys[np];
                params[np].value = vals[np];
                np++;
            }
        } else if (seg) {
            api_error(res, 400, "bad_field", "malformed query argument");
            return false;
        }
        if (!amp) break;
        q = amp + 1;
    }
    CrError err = {{0}};
    int r = scripts_generate_stage(ctx->scripts, gen, seed, params, np, out, &err);
    if (r == CR_EINVAL || r == CR_ENOTFOUND) {
        api_error(res, 400, "bad_field", "%s", err.msg);
        return false;
    }
    if (r) {
        api_error(res, 500, "stage_failed", "%s", err.msg);
        return false;
    }
    *seed_out = seed;
    return true;
}

void api_stages_get(ApiCtx *ctx, ApiRequest *req, ApiResponse *res) {
    char gen[sizeof req->params[0]];
    snprintf(gen, sizeof gen, "%s", req->params[0]);
    bool as_svg = false;
    size_t gl = strlen(gen);
    if (gl > 4 && !strcmp(gen + gl - 4, ".svg")) {
        gen[gl - 4] = 0;
        as_svg = true;
    }
    const GeneratorInfo *gi;
    CrError err = {{0}};
    if (scripts_find_generator(ctx->scripts, gen, &gi, &err)) {
        api_error(res, 404, "not_found", "%s", err.msg);
        return;
    }
    uint64_t seed;
    Stage *st;
    if (!api_stage_from_query(ctx, req, res, gen, NULL, &seed, &st)) return;
    if (as_svg)
        svg(res, gen, seed, st);
    else {
        res->real_precision = API_STAGE_PRECISION;
        api_json(res, 200,
                 api_stage_geometry(ctx->scripts, ctx->settings->starter_car, gen, seed, st));
    }
    stage_destroy(st);
}
