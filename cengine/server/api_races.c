/* api_races.c - races as stored: the list (open rooms, live and finished
 * races), one race, its results, its replay file. No login needed: races
 * are public, like a results board. Rooms themselves (creating, joining)
 * come with the shared race runner. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

#define RACES_LIST_MAX 100

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
    for (size_t i = 0; i < n; i++) json_array_append_new(arr, race_json(&races[i]));
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
    json_t *o = race_json(&r);
    json_object_set_new(o, "results", results);
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

void api_races_replay(ApiCtx *ctx, ApiRequest *req, ApiResponse *res) {
    StoreRace r;
    if (!find_race(ctx, req, res, &r)) return;
    void *data = NULL;
    size_t len = 0;
    CrError err = {{0}};
    int rc = store_race_replay(ctx->store, r.id, &data, &len, &err);
    if (rc == CR_ENOTFOUND) {
        api_error(res, 404, "not_found", "this race has no replay (not finished?)");
        return;
    }
    if (rc) {
        api_internal(res, "replay", &err);
        return;
    }
    free(res->body);
    res->body = data;
    res->len = len;
    res->status = 200;
    res->content_type = "application/octet-stream";
    char disp[96];
    snprintf(disp, sizeof disp, "attachment; filename=\"race-%s.replay\"", r.id);
    api_header(res, "Content-Disposition", disp);
}
