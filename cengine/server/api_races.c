/* api_races.c - races as stored, and as their rooms stand now when they
 * are live here (the room board the loop publishes): the list (open rooms,
 * live and finished races), one race, its results, its replay file;
 * opening a room (within the per-user cap). No login needed to read: races
 * are public, like a results board. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "match/rerun.h"
#include "roomboard.h"
#include "rooms.h"
#include "server_internal.h"
#include "sim/replay.h"
#include "util/hash.h"

#define RACES_LIST_MAX 100

#define ROOM_PARAMS_MAX 16

/* A room's stage parameters as the generator takes them. */
typedef struct {
    char keys[ROOM_PARAMS_MAX][CR_NAME_MAX], vals[ROOM_PARAMS_MAX][40];
    ConfigOverride params[ROOM_PARAMS_MAX];
    size_t n;
} RoomParams;

/* obj's numbers into out; false unless obj is an object of at most
 * ROOM_PARAMS_MAX numbers with short names. */
static bool params_of(json_t *obj, RoomParams *out) {
    const char *k;
    json_t *v;
    out->n = 0;
    if (!json_is_object(obj) || json_object_size(obj) > ROOM_PARAMS_MAX) return false;
    json_object_foreach(obj, k, v) {
        if (!json_is_number(v) || strlen(k) >= CR_NAME_MAX) return false;
        snprintf(out->keys[out->n], sizeof out->keys[0], "%s", k);
        snprintf(out->vals[out->n], sizeof out->vals[0], "%.17g", json_number_value(v));
        out->params[out->n] = (ConfigOverride){out->keys[out->n], out->vals[out->n]};
        out->n++;
    }
    return true;
}

/* Race ids are short tokens; anything else is not one. */
static bool race_id_ok(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > STORE_RACE_ID_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

static json_t *race_json(const StoreRace *r) {
    json_error_t jerr;
    json_t *params = json_loads(r->params_json, 0, &jerr);
    if (!params) params = json_object();
    json_t *o =
        json_pack("{s:s,s:s,s:I,s:o,s:s,s:s,s:b,s:I,s:i,s:b}", "id", r->id, "generator",
                  r->generator, "seed", (json_int_t)r->seed, "params", params, "rules", r->rules,
                  "status", r->status, "ladder", r->ladder, "created_at", (json_int_t)r->created_at,
                  "results", r->n_results, "replay", r->replay_bytes > 0);
    json_object_set_new(o, "started_at", r->started_at ? json_integer(r->started_at) : json_null());
    json_object_set_new(o, "finished_at",
                        r->finished_at ? json_integer(r->finished_at) : json_null());
    json_object_set_new(o, "max_cars", r->max_cars ? json_integer(r->max_cars) : json_null());
    json_object_set_new(o, "ai_fill", r->max_cars ? json_boolean(r->ai_fill) : json_null());
    return o;
}

/* The room's live fields: null unless it is a room live in this server
 * (open, countdown, running; finished while its record is written), as
 * the loop last published it (roomboard.h). */
static void live_null(json_t *o) {
    json_object_set_new(o, "state", json_null());
    json_object_set_new(o, "players", json_null());
    json_object_set_new(o, "spectators", json_null());
    json_object_set_new(o, "free_seats", json_null());
    json_object_set_new(o, "expires_at", json_null());
}

static void live_fields(json_t *o, const RoomSummary *s) {
    json_t *ps = json_array();
    for (int i = 0; i < s->n_players; i++) {
        const RoomBoardPlayer *p = &s->players[i];
        json_array_append_new(
            ps, json_pack("{s:{s:I,s:s},s:s,s:s,s:b,s:b}", "user", "id", (json_int_t)p->user_id,
                          "username", p->username, "car_type", p->car_type, "kind",
                          p->bot ? "bot" : "human", "ready", p->ready, "connected", p->connected));
    }
    json_object_set_new(o, "state", json_string(s->state));
    json_object_set_new(o, "players", ps);
    json_object_set_new(o, "spectators", json_integer(s->spectators));
    int free_seats = s->max_cars - s->n_players;
    json_object_set_new(o, "free_seats", json_integer(free_seats > 0 ? free_seats : 0));
    json_object_set_new(o, "expires_at", s->expires_at ? json_integer(s->expires_at) : json_null());
}

/* race_json with the live fields. */
static json_t *race_live_json(ApiCtx *ctx, const StoreRace *r) {
    json_t *o = race_json(r);
    RoomSummary s;
    if (ctx->board && roomboard_get(ctx->board, r->id, &s))
        live_fields(o, &s);
    else
        live_null(o);
    return o;
}

/* EMPTY_ROOM_TIMEOUT_S as the worker's scripts say. */
static int empty_timeout_s(ApiCtx *ctx) {
    double t = ROOMS_EMPTY_TIMEOUT_S;
    scripts_config_number(ctx->scripts, "EMPTY_ROOM_TIMEOUT_S", &t);
    return (int)t;
}

/* race_json of a room this request opens: the loop opens it before the
 * answer goes out, empty. */
static json_t *race_new_json(ApiCtx *ctx, const StoreRace *r, int64_t now) {
    json_t *o = race_json(r);
    RoomSummary s = {
        .state = "open", .max_cars = r->max_cars, .expires_at = now + empty_timeout_s(ctx)};
    live_fields(o, &s);
    return o;
}

void api_races_list(ApiCtx *ctx, ApiRequest *req, ApiResponse *res) {
    char status[16];
    const char *want = NULL;
    if (api_query(req, "status", status, sizeof status)) {
        if (strcmp(status, "open") && strcmp(status, "running") && strcmp(status, "finished") &&
            strcmp(status, "aborted")) {
            api_error(res, 400, "bad_field", "'status' must be open, running, finished or aborted");
            return;
        }
        want = status;
    }
    StoreRace *races = calloc(RACES_LIST_MAX, sizeof *races);
    size_t n = 0;
    CrError err = {{0}};
    if (!races || store_races_list(ctx->store, want, races, RACES_LIST_MAX, &n, &err)) {
        free(races);
        api_internal(res, "list races", &err);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(arr, race_live_json(ctx, &races[i]));
    free(races);
    api_json(res, 200, json_pack("{s:o}", "races", arr));
}

/* The race named by the route, or false with a 404 in res. */
static bool find_race(ApiCtx *ctx, ApiRequest *req, ApiResponse *res, StoreRace *out) {
    CrError err = {{0}};
    if (!race_id_ok(req->params[0])) {
        api_error(res, 404, "not_found", "no such race");
        return false;
    }
    int r = store_race_get(ctx->store, req->params[0], out, &err);
    if (r == CR_ENOTFOUND) {
        api_error(res, 404, "not_found", "no such race");
        return false;
    }
    if (r) {
        api_internal(res, "get race", &err);
        return false;
    }
    return true;
}

static json_t *results_json(ApiCtx *ctx, const char *race_id, CrError *err, int *rc) {
    StoreRaceResult rows[CR_MAX_CARS * 2];
    size_t n = 0;
    *rc = store_race_results(ctx->store, race_id, rows, CR_MAX_CARS * 2, &n, err);
    json_t *arr = json_array();
    for (size_t i = 0; i < n && !*rc; i++) {
        const StoreRaceResult *x = &rows[i];
        json_t *o = json_pack("{s:i,s:s,s:b,s:i}", "position", x->position, "driver", x->driver,
                              "dnf", x->dnf, "points", x->points);
        json_object_set_new(o, "time", x->dnf ? json_null() : json_real(x->stage_time));
        json_object_set_new(o, "dnf_reason",
                            x->dnf && x->dnf_reason[0] ? json_string(x->dnf_reason) : json_null());
        json_object_set_new(o, "user",
                            x->user_id ? json_pack("{s:I,s:s}", "id", (json_int_t)x->user_id,
                                                   "username", x->username)
                                       : json_null());
        json_object_set_new(o, "car_id", x->car_id ? json_integer(x->car_id) : json_null());
        json_object_set_new(o, "bot",
                            x->bot_id ? json_pack("{s:I,s:i}", "id", (json_int_t)x->bot_id,
                                                  "version", x->bot_version)
                                      : json_null());
        json_array_append_new(arr, o);
    }
    return arr;
}

/* The race's rules numbers made from its stage, generated now: see
 * race_rules_numbers. */
static json_t *race_rules_numbers_make(ApiCtx *ctx, const StoreRace *race) {
    json_error_t jerr;
    json_t *pj = json_loads(race->params_json, 0, &jerr);
    RoomParams rp = {.n = 0};
    bool ok = !pj || params_of(pj, &rp);
    json_decref(pj);
    Stage *st = NULL;
    json_t *o = NULL;
    CrError err = {{0}};
    if (ok && !scripts_generate_stage(ctx->scripts, race->generator, race->seed, rp.params, rp.n,
                                      &st, &err))
        api_rules_numbers(ctx, race->rules, st, &o, &err);
    stage_destroy(st);
    return o ? o : json_null();
}

/* What a race's rules numbers are made from besides the race row: the
 * scripts' files (names, sizes, times) and the settings that stage
 * generation (its length limits) and the points by position (the grid
 * size) read. Rules scripts read no settings. */
static uint64_t rules_numbers_key(const Scripts *sc) {
    StageLimits lim = scripts_stage_limits(sc);
    double grid = CR_MAX_CARS;
    scripts_config_number(sc, "MAX_CONCURRENT_PLAYERS", &grid);
    uint64_t h = hash_u64(HASH_SEED, scripts_fingerprint(sc));
    h = hash_double(h, lim.min_length);
    h = hash_double(h, lim.max_length);
    return hash_double(h, grid);
}

/* The numbers of the race's rules for its stage (api_rules_numbers), as the
 * scripts are now: their hash says whether they are still the ones the race
 * ran with (a replay records that hash). null if they cannot be had (a
 * generator or rule set gone or broken since). Making them generates the
 * stage (5-20 ms of Lua), so they are kept in the race's row under the
 * scripts and settings they were made with (rules_numbers_key) and made
 * again only when those change: an anonymous GET costs a read. */
static json_t *race_rules_numbers(ApiCtx *ctx, const StoreRace *race) {
    uint64_t key = rules_numbers_key(ctx->scripts);
    char *kept = NULL;
    CrError err = {{0}};
    json_error_t jerr;
    if (store_race_rules_numbers_get(ctx->store, race->id, key, &kept, &err))
        fprintf(stderr, "[server] race %s: %s\n", race->id, err.msg);
    if (kept) {
        json_t *o = json_loads(kept, JSON_DECODE_ANY, &jerr);
        free(kept);
        if (o) return o;
    }
    json_t *o = race_rules_numbers_make(ctx, race);
    char *text = json_dumps(o, JSON_COMPACT | JSON_ENCODE_ANY);
    /* Not kept (the database busy): the next GET makes them again. */
    if (text && store_race_rules_numbers_set(ctx->store, race->id, key, text, &err))
        fprintf(stderr, "[server] race %s: %s\n", race->id, err.msg);
    free(text);
    return o;
}

void api_races_get(ApiCtx *ctx, ApiRequest *req, ApiResponse *res) {
    StoreRace r;
    if (!find_race(ctx, req, res, &r)) return;
    CrError err = {{0}};
    int rc;
    json_t *results = results_json(ctx, r.id, &err, &rc);
    if (rc) {
        json_decref(results);
        api_internal(res, "race results", &err);
        return;
    }
    json_t *o = race_live_json(ctx, &r);
    json_object_set_new(o, "results", results);
    json_object_set_new(o, "rules_numbers", race_rules_numbers(ctx, &r));
    api_json(res, 200, json_pack("{s:o}", "race", o));
}

void api_races_results(ApiCtx *ctx, ApiRequest *req, ApiResponse *res) {
    StoreRace r;
    if (!find_race(ctx, req, res, &r)) return;
    CrError err = {{0}};
    int rc;
    json_t *results = results_json(ctx, r.id, &err, &rc);
    if (rc) {
        json_decref(results);
        api_internal(res, "race results", &err);
        return;
    }
    api_json(res, 200,
             json_pack("{s:s,s:s,s:o}", "race_id", r.id, "status", r.status, "results", results));
}

/* The race named by the route and its stored replay (malloc'd), or false
 * with a 404 (no such race, or no replay yet) or 500 in res. */
static bool race_replay(ApiCtx *ctx, ApiRequest *req, ApiResponse *res, StoreRace *race,
                        void **data, size_t *len) {
    if (!find_race(ctx, req, res, race)) return false;
    CrError err = {{0}};
    int rc = store_race_replay(ctx->store, race->id, data, len, &err);
    if (rc == CR_ENOTFOUND) {
        api_error(res, 404, "not_found", "this race has no replay (not finished?)");
        return false;
    }
    if (rc) {
        api_internal(res, "replay", &err);
        return false;
    }
    return true;
}

void api_races_replay(ApiCtx *ctx, ApiRequest *req, ApiResponse *res) {
    StoreRace r;
    void *data = NULL;
    size_t len = 0;
    if (!race_replay(ctx, req, res, &r, &data, &len)) return;
    free(res->body);
    res->body = data;
    res->len = len;
    res->status = 200;
    res->content_type = "application/octet-stream";
    char disp[96];
    snprintf(disp, sizeof disp, "attachment; filename=\"race-%s.replay\"", r.id);
    api_header(res, "Content-Disposition", disp);
}

/* The export of a long race every 3 ticks is a few MiB; this bounds what
 * one request can make the server build. */
#define REPLAY_JSON_MAX (32u << 20)

/* GET /api/races/{id}/replay.json?every=N: the stored replay re-simulated
 * (match/rerun.c, the very code of `coderally replay export`, so the bytes
 * are the same) as JSON lines. Runs on the slow lane: it is CPU work. */
void api_races_replay_json(ApiCtx *ctx, ApiRequest *req, ApiResponse *res) {
    long every = 3;
    char ev[16];
    if (api_query(req, "every", ev, sizeof ev)) {
        char *end;
        every = strtol(ev, &end, 10);
        if (!*ev || *end || every < 1 || every > 3600) {
            api_error(res, 400, "bad_field", "'every' must be a whole number of ticks, 1 to 3600");
            return;
        }
    }
    StoreRace race;
    void *data = NULL;
    size_t len = 0;
    if (!race_replay(ctx, req, res, &race, &data, &len)) return;
    CrError err = {{0}};
    Replay *rp = NULL;
    int rc = replay_parse(data, len, "the stored replay", &rp, &err);
    free(data);
    if (rc) {
        api_internal(res, "replay.json", &err);
        return;
    }
    char *out = NULL;
    size_t out_len = 0;
    FILE *f = open_memstream(&out, &out_len);
    if (!f) {
        replay_free(rp);
        api_error(res, 503, "busy", "out of memory");
        return;
    }
    RerunOptions opt = {.every = (int)every, .out = f, .max_bytes = REPLAY_JSON_MAX};
    RerunReport rep;
    rc = rerun_replay(ctx->scripts, rp, &opt, &rep, &err);
    replay_free(rp);
    if (fclose(f) != 0 && !rc) rc = CR_ENOMEM;
    if (rc) {
        free(out);
        if (rc == CR_EINVAL)
            api_error(res, 422, "too_large",
                      "the export is over %u MiB; ask for fewer snapshots with ?every=N",
                      REPLAY_JSON_MAX >> 20);
        else if (rc == CR_EMISMATCH || rc == CR_ESTAGE || rc == CR_ENOTFOUND)
            api_error(res, 409, "conflict", "the scripts changed since this race: %s", err.msg);
        else
            api_internal(res, "replay.json", &err);
        return;
    }
    free(res->body);
    res->body = out;
    res->len = out_len;
    res->status = 200;
    res->content_type = "application/x-ndjson";
}

/* The rules name must be a file rules/NAME.lua of these scripts. */
static bool rules_exist(ApiCtx *ctx, const char *name) {
    size_t n = strlen(name);
    if (n == 0 || n >= CR_NAME_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789_", name[i])) return false;
    char path[1024];
    snprintf(path, sizeof path, "%s/rules/%s.lua", scripts_dir(ctx->scripts), name);
    return access(path, R_OK) == 0;
}

/* A place for the room spec is about to open, promised on the board so
 * that neither the user's MAX_OPEN_ROOMS_PER_USER nor ROOMS_MAX can be
 * passed by requests in flight together (rooms_open keeps or releases the
 * promise). false with a 429 or 503 in res, and nothing changed. */
static bool reserve_room(ApiCtx *ctx, ApiRequest *req, ApiResponse *res, RoomSpec *spec) {
    if (!ctx->board) return true;
    double cap = ROOMS_PER_USER;
    scripts_config_number(ctx->scripts, "MAX_OPEN_ROOMS_PER_USER", &cap);
    int have = 0;
    int rc = roomboard_reserve(ctx->board, req->user.id, (int)cap, &have);
    if (rc == ROOMBOARD_ECAP) {
        api_error(res, 429, "too_many_rooms",
                  "you have %d open room(s), the most one player may have open "
                  "(MAX_OPEN_ROOMS_PER_USER); race in one, or leave it empty and it closes "
                  "after %d s",
                  have, empty_timeout_s(ctx));
        return false;
    }
    if (rc) {
        api_error(res, 503, "busy", "too many rooms open (%d); try again later", ROOMS_MAX);
        return false;
    }
    spec->reserved = true;
    return true;
}

void api_races_create(ApiCtx *ctx, ApiRequest *req, ApiResponse *res) {
    if (!api_authenticate(ctx, req, res)) return;
    CrError err = {{0}};
    const char *gen, *rules;
    if (!api_get_string(req, res, "generator", true, 1, CR_NAME_MAX - 1, &gen)) return;
    const GeneratorInfo *gi;
    if (scripts_find_generator(ctx->scripts, gen, &gi, &err)) {
        api_error(res, 400, "bad_field", "'generator': %s", err.msg);
        return;
    }
    if (!api_get_string(req, res, "rules", false, 1, CR_NAME_MAX - 1, &rules)) return;
    if (!rules && scripts_config_string(ctx->scripts, "DEFAULT_RULES", &rules)) rules = "standard";
    if (!rules_exist(ctx, rules)) {
        api_error(res, 400, "bad_field", "'rules': no rules/%s.lua", rules);
        return;
    }
    uint64_t seed;
    json_t *js = json_object_get(req->body, "seed");
    if (!js || json_is_null(js)) {
        seed = randombytes_random();
    } else if (json_is_integer(js) && json_integer_value(js) >= 0 &&
               (uint64_t)json_integer_value(js) <= API_SEED_MAX) {
        seed = (uint64_t)json_integer_value(js);
    } else {
        api_error(res, 400, "bad_field",
                  "'seed' must be a whole number 0..%llu, or null for random", API_SEED_MAX);
        return;
    }
    double max_players = 8;
    scripts_config_number(ctx->scripts, "MAX_CONCURRENT_PLAYERS", &max_players);
    int max_cars = (int)max_players;
    json_t *jm = json_object_get(req->body, "max_cars");
    if (jm && !json_is_null(jm)) {
        if (!json_is_integer(jm) || json_integer_value(jm) < 1 ||
            json_integer_value(jm) > (json_int_t)max_players) {
            api_error(res, 400, "bad_field", "'max_cars' must be 1 to %d", (int)max_players);
            return;
        }
        max_cars = (int)json_integer_value(jm);
    }
    bool ai_fill = true;
    json_t *ja = json_object_get(req->body, "ai_fill");
    if (ja && !json_is_null(ja)) {
        if (!json_is_boolean(ja)) {
            api_error(res, 400, "bad_field", "'ai_fill' must be true or false");
            return;
        }
        ai_fill = json_is_true(ja);
    }
    /* params: numbers for the generator's declared parameters; the stage is
     * generated now so a bad one is refused before the room exists. */
    json_t *jp = json_object_get(req->body, "params");
    RoomParams rp;
    if (jp && !json_is_null(jp) && !params_of(jp, &rp)) {
        api_error(res, 400, "bad_field",
                  "'params' must be an object of at most %d numbers (by parameter name)",
                  ROOM_PARAMS_MAX);
        return;
    }
    size_t np = jp && !json_is_null(jp) ? rp.n : 0;
    ConfigOverride *params = rp.params;
    Stage *st = NULL;
    int r = scripts_generate_stage(ctx->scripts, gen, seed, params, np, &st, &err);
    stage_destroy(st);
    if (r == CR_EINVAL) {
        api_error(res, 400, "bad_field", "%s", err.msg);
        return;
    }
    if (r) {
        api_error(res, 500, "stage_failed", "%s", err.msg);
        return;
    }
    RoomSpec *spec = calloc(1, sizeof *spec);
    if (!spec) {
        api_error(res, 503, "busy", "out of memory");
        return;
    }
    snprintf(spec->generator, sizeof spec->generator, "%s", gi->name);
    spec->seed = seed;
    snprintf(spec->rules, sizeof spec->rules, "%s", rules);
    spec->max_cars = max_cars;
    spec->ai_fill = ai_fill;
    spec->owner_id = req->user.id;
    char *pj = jp && json_is_object(jp) ? json_dumps(jp, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    snprintf(spec->params_json, sizeof spec->params_json, "%s", pj ? pj : "{}");
    free(pj);
    if (!reserve_room(ctx, req, res, spec)) {
        free(spec);
        return;
    }
    StoreRace race;
    if (api_races_record_room(ctx, spec, &race, &err)) {
        if (spec->reserved) roomboard_release(ctx->board, spec->owner_id);
        free(spec);
        api_internal(res, "create race", &err);
        return;
    }
    api_json(res, 201, json_pack("{s:o}", "race", race_new_json(ctx, &race, req->now)));
    res->open_room = spec;
}

int api_races_record_room(ApiCtx *ctx, RoomSpec *spec, StoreRace *race, CrError *err) {
    uint8_t rnd[6];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(spec->id, sizeof spec->id, rnd, sizeof rnd);
    memset(race, 0, sizeof *race);
    snprintf(race->id, sizeof race->id, "%s", spec->id);
    snprintf(race->generator, sizeof race->generator, "%s", spec->generator);
    race->seed = spec->seed;
    snprintf(race->params_json, sizeof race->params_json, "%s", spec->params_json);
    snprintf(race->rules, sizeof race->rules, "%s", spec->rules);
    race->max_cars = spec->max_cars;
    race->ai_fill = spec->ai_fill;
    int r = store_race_create(ctx->store, race, err);
    return r ? r : store_race_get(ctx->store, spec->id, race, err);
}

int api_races_quick_room(ApiCtx *ctx, RoomSpec *spec, StoreRace *race, CrError *err) {
    const char *rules = "standard";
    scripts_config_string(ctx->scripts, "DEFAULT_RULES", &rules);
    double max_players = 8;
    scripts_config_number(ctx->scripts, "MAX_CONCURRENT_PLAYERS", &max_players);
    const GeneratorInfo *gi = NULL;
    for (size_t i = 0; i < scripts_generator_count(ctx->scripts) && !gi; i++)
        if (!scripts_generator_error(ctx->scripts, i)) gi = scripts_generator(ctx->scripts, i);
    if (!gi) {
        snprintf(err->msg, sizeof err->msg, "no stage generator loads");
        return CR_EINVAL;
    }
    snprintf(spec->generator, sizeof spec->generator, "%s", gi->name);
    spec->seed = randombytes_random();
    snprintf(spec->rules, sizeof spec->rules, "%s", rules);
    snprintf(spec->params_json, sizeof spec->params_json, "{}");
    spec->max_cars = (int)max_players;
    spec->ai_fill = true;
    return api_races_record_room(ctx, spec, race, err);
}

/* POST /api/races/quick: the loop picked the best open room before this ran
 * (req->picked, the same rooms_pick_quick as the WebSocket quick_race), or
 * found none; then the defaults open one, as quick_race does. */
void api_races_quick(ApiCtx *ctx, ApiRequest *req, ApiResponse *res) {
    if (!api_authenticate(ctx, req, res)) return;
    json_t *jc = json_object_get(req->body, "car_id"), *jb = json_object_get(req->body, "bot_id");
    if (!json_is_integer(jc) || json_integer_value(jc) <= 0) {
        api_error(res, 400, "bad_field", "'car_id' must be the id of one of your cars");
        return;
    }
    if (jb && !json_is_null(jb) && (!json_is_integer(jb) || json_integer_value(jb) <= 0)) {
        api_error(res, 400, "bad_field", "'bot_id' must be the id of one of your bots, or null");
        return;
    }
    /* The same check a join makes: the car and bot must be the user's own. */
    Seat seat;
    CrError err = {{0}};
    int r = seat_resolve(ctx, &req->user, json_integer_value(jc),
                         json_is_integer(jb) ? json_integer_value(jb) : 0, &seat, &err);
    seat_fini(&seat);
    if (r == CR_ENOTFOUND) {
        api_error(res, 404, "not_found", "%s", err.msg);
        return;
    }
    if (r) {
        api_internal(res, "quick race seat", &err);
        return;
    }
    StoreRace race;
    if (req->picked) {
        if ((r = store_race_get(ctx->store, req->picked->id, &race, &err))) {
            api_internal(res, "quick race", &err);
            return;
        }
        api_json(res, 200, json_pack("{s:o}", "race", race_live_json(ctx, &race)));
        return;
    }
    RoomSpec *spec = calloc(1, sizeof *spec);
    if (!spec) {
        api_error(res, 503, "busy", "out of memory");
        return;
    }
    spec->owner_id = req->user.id;
    if ((r = api_races_quick_room(ctx, spec, &race, &err))) {
        free(spec);
        if (r == CR_EINVAL)
            api_error(res, 503, "busy", "%s", err.msg);
        else
            api_internal(res, "quick race", &err);
        return;
    }
    api_json(res, 201, json_pack("{s:o}", "race", race_new_json(ctx, &race, req->now)));
    res->open_room = spec;
}
