/* api_rules.c - the rule sets of scripts/rules/ as numbers (countdown, time
 * limit, stall limit, points by position), read by the engine's own rules
 * loader, so clients such as the replay viewer never copy them. No login
 * needed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

#define RULES_LIST_MAX 64

/* seconds and ticks of one number; null for a function of the stage when
 * there is no stage. */
static void set_seconds(json_t *o, const char *name, double s, int ticks, bool per_stage,
                        bool have_stage) {
    char key[48];
    bool known = !per_stage || have_stage;
    snprintf(key, sizeof key, "%s_s", name);
    json_object_set_new(o, key, known ? json_real(s) : json_null());
    snprintf(key, sizeof key, "%s_ticks", name);
    json_object_set_new(o, key, known ? json_integer(ticks) : json_null());
}

int api_rules_numbers(ApiCtx *ctx, const char *name, const Stage *stage, json_t **out,
                      CrError *err) {
    *out = NULL;
    Rules *rules;
    int rc = rules_load(ctx->scripts, name, stage, &rules, err);
    if (rc) return rc;
    const RulesNumbers *nu = rules_numbers(rules);
    char hash[17];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)rules_hash(rules));
    json_t *o = json_pack("{s:s,s:s}", "name", rules_name(rules), "hash", hash);
    const RaceRules *rr = rules_race(rules); /* the ticks the race runs by */
    bool have = stage != NULL;
    set_seconds(o, "countdown", nu->countdown_s, rr->countdown_ticks, nu->countdown_per_stage,
                have);
    set_seconds(o, "time_limit", nu->time_limit_s, rr->time_limit_ticks, nu->time_limit_per_stage,
                have);
    set_seconds(o, "stall_limit", nu->stall_limit_s, rr->stall_limit_ticks,
                nu->stall_limit_per_stage, have);
    if (stage) {
        char sh[17];
        snprintf(sh, sizeof sh, "%016llx", (unsigned long long)stage_hash(stage));
        json_object_set_new(o, "stage_hash", json_string(sh));
    }
    json_t *per = json_array();
    if (nu->countdown_per_stage) json_array_append_new(per, json_string("countdown"));
    if (nu->time_limit_per_stage) json_array_append_new(per, json_string("time_limit"));
    if (nu->stall_limit_per_stage) json_array_append_new(per, json_string("stall_limit"));
    json_object_set_new(o, "per_stage", per);
    /* Points by position: what points() gives a full grid of finishers. */
    double grid = CR_MAX_CARS;
    scripts_config_number(ctx->scripts, "MAX_CONCURRENT_PLAYERS", &grid);
    int n = grid >= 1 && grid <= CR_MAX_CARS ? (int)grid : CR_MAX_CARS;
    RaceResult res[CR_MAX_CARS];
    int points[CR_MAX_CARS];
    memset(res, 0, sizeof res);
    for (int i = 0; i < n; i++)
        res[i] = (RaceResult){.car = i, .position = i + 1, .finished = true, .time_s = 60 + i};
    if ((rc = rules_points(rules, res, n, points, err))) {
        json_decref(o);
        rules_destroy(rules);
        return rc;
    }
    json_t *pts = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(pts, json_integer(points[i]));
    json_object_set_new(o, "points", pts);
    rules_destroy(rules);
    *out = o;
    return CR_OK;
}

void api_rules_list(ApiCtx *ctx, ApiRequest *req, ApiResponse *res) {
    (void)req;
    char names[RULES_LIST_MAX][CR_NAME_MAX];
    size_t n = scripts_rule_sets(ctx->scripts, names, RULES_LIST_MAX);
    if (n > RULES_LIST_MAX) n = RULES_LIST_MAX;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o;
        CrError err = {{0}};
        /* A broken rule set is listed with its error, as generators are. */
        if (api_rules_numbers(ctx, names[i], NULL, &o, &err))
            o = json_pack("{s:s,s:s}", "name", names[i], "error", err.msg);
        else
            json_object_set_new(o, "error", json_null());
        json_array_append_new(arr, o);
    }
    api_json(res, 200, json_pack("{s:o}", "rules", arr));
}

void api_rules_get(ApiCtx *ctx, ApiRequest *req, ApiResponse *res) {
    const char *name = req->params[0];
    char gen[CR_NAME_MAX];
    Stage *stage = NULL;
    if (api_query(req, "generator", gen, sizeof gen)) {
        uint64_t seed;
        if (!api_stage_from_query(ctx, req, res, gen, "generator", &seed, &stage)) return;
    } else if (req->query[0]) {
        api_error(res, 400, "bad_field",
                  "'seed' and stage parameters need 'generator' (the stage the numbers are for)");
        return;
    }
    json_t *o;
    CrError err = {{0}};
    int rc = api_rules_numbers(ctx, name, stage, &o, &err);
    stage_destroy(stage);
    if (rc == CR_ENOTFOUND || rc == CR_EINVAL) {
        api_error(res, 404, "not_found", "no rule set '%.64s'", name);
        return;
    }
    if (rc) {
        api_error(res, 500, "rules_failed", "%s", err.msg);
        return;
    }
    api_json(res, 200, json_pack("{s:o}", "rules", o));
}
