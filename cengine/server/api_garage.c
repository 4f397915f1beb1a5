/* api_garage.c - the garage: my cars with their levels and stats, unlocking
 * a car type, buying an upgrade level. Names, prices, max levels and what a
 * level does come from scripts/upgrades.lua (through the scripts API); a
 * purchase and its points change are one store transaction. */
#include <stdio.h>
#include <string.h>

#include "api.h"

#define GARAGE_CARS_MAX 64
#define UPGRADE_RETRIES 3

static json_t *stats_json(const CarStats *s) {
    return json_pack("{s:f,s:f,s:f,s:f,s:i,s:i,s:f,s:f}", "top_speed", s->top_speed, "acceleration",
                     s->acceleration, "grip", s->grip, "braking", s->braking, "nitro_capacity",
                     s->nitro_capacity, "nitro_duration", s->nitro_duration, "handling",
                     s->handling, "weight", s->weight);
}

/* A car as the garage shows it: levels, resulting stats, the price and value
 * of each stat's next level (null at the top). */
static json_t *car_json(ApiCtx *ctx, const StoreCar *c) {
    json_t *levels = json_object(), *next_costs = json_object(), *next_values = json_object();
    UpgradeLevel ul[STORE_UPGRADE_STATS];
    size_t nl = 0;
    CrError err = {{0}};
    for (int i = 0; i < STORE_UPGRADE_STATS; i++) {
        const char *stat = STORE_UPGRADE_STAT_NAMES[i];
        const UpgradeInfo *u = NULL;
        int level = c->levels[i];
        json_object_set_new(levels, stat, json_integer(level));
        if (scripts_find_upgrade(ctx->scripts, stat, &u, &err)) {
            /* Not upgradable in these scripts: nothing to buy. */
            json_object_set_new(next_costs, stat, json_null());
            json_object_set_new(next_values, stat, json_null());
            continue;
        }
        /* A designer may have lowered max_level since the purchase. */
        if (level > u->max_level) level = u->max_level;
        ul[nl].stat = stat;
        ul[nl].level = level;
        nl++;
        double next = 0;
        if (level < u->max_level &&
            !scripts_upgrade_value(ctx->scripts, c->car_type, stat, level + 1, &next, &err)) {
            json_object_set_new(next_costs, stat, json_integer(u->cost[level]));
            json_object_set_new(next_values, stat, json_real(next));
        } else {
            json_object_set_new(next_costs, stat, json_null());
            json_object_set_new(next_values, stat, json_null());
        }
    }
    CarStats stats;
    json_t *sj = scripts_car_stats(ctx->scripts, c->car_type, ul, nl, &stats, &err)
                     ? json_null()
                     : stats_json(&stats);
    const CarTypeInfo *t = NULL;
    const char *name = c->name;
    if (!scripts_find_car_type(ctx->scripts, c->car_type, &t, &err) && !*name) name = t->name;
    return json_pack("{s:I,s:s,s:s,s:o,s:o,s:o,s:o,s:I}", "id", (json_int_t)c->id, "car_type",
                     c->car_type, "name", name, "levels", levels, "stats", sj, "next_costs",
                     next_costs, "next_values", next_values, "unlocked_at",
                     (json_int_t)c->unlocked_at);
}

static json_t *upgrades_json(ApiCtx *ctx) {
    json_t *o = json_object();
    size_t n = scripts_upgrade_count(ctx->scripts);
    for (size_t i = 0; i < n; i++) {
        const UpgradeInfo *u = scripts_upgrade(ctx->scripts, i);
        json_t *costs = json_array();
        for (int k = 0; k < u->max_level; k++)
            json_array_append_new(costs, json_integer(u->cost[k]));
        json_object_set_new(o, u->stat,
                            json_pack("{s:s,s:s,s:i,s:o}", "name", u->name, "description",
                                      u->description, "max_level", u->max_level, "costs", costs));
    }
    return o;
}

void api_garage_get(ApiCtx *ctx, ApiRequest *req, ApiResponse *res) {
    if (!api_authenticate(ctx, req, res)) return;
    StoreCar cars[GARAGE_CARS_MAX];
    size_t n = 0;
    CrError err = {{0}};
    if (store_cars_list(ctx->store, req->user.id, cars, GARAGE_CARS_MAX, &n, &err)) {
        api_internal(res, "garage", &err);
        return;
    }
    json_t *jc = json_array(), *jt = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(jc, car_json(ctx, &cars[i]));
    size_t nt = scripts_car_type_count(ctx->scripts);
    for (size_t i = 0; i < nt; i++) {
        const CarTypeInfo *t = scripts_car_type_info(ctx->scripts, i);
        bool owned = false;
        for (size_t k = 0; k < n; k++) owned = owned || !strcmp(cars[k].car_type, t->id);
        json_array_append_new(
            jt, json_pack("{s:s,s:s,s:s,s:I,s:b,s:o}", "car_type", t->id, "name", t->name,
                          "description", t->description, "price", (json_int_t)t->price, "owned",
                          owned, "stats", stats_json(&t->base)));
    }
    api_json(res, 200,
             json_pack("{s:I,s:o,s:o,s:o}", "points", (json_int_t)req->user.points, "cars", jc,
                       "car_types", jt, "upgrades", upgrades_json(ctx)));
}

void api_garage_unlock(ApiCtx *ctx, ApiRequest *req, ApiResponse *res) {
    if (!api_authenticate(ctx, req, res)) return;
    const char *type;
    if (!api_get_string(req, res, "car_type", true, 1, CR_NAME_MAX - 1, &type)) return;
    const CarTypeInfo *t;
    CrError err = {{0}};
    if (scripts_find_car_type(ctx->scripts, type, &t, &err)) {
        api_error(res, 400, "bad_field", "'car_type': %s", err.msg);
        return;
    }
    int64_t car_id = 0, points = 0;
    int r = store_car_unlock(ctx->store, req->user.id, t->id, t->name, t->price, &car_id, &points,
                             &err);
    if (r == STORE_ECONFLICT) {
        api_error(res, 409, "already_unlocked", "you already have a %s", t->name);
        return;
    }
    if (r == STORE_EPOINTS) {
        api_error(res, 402, "not_enough_points", "a %s costs %lld points; you have %lld", t->name,
                  (long long)t->price, (long long)req->user.points);
        return;
    }
    StoreCar c;
    if (r || (r = store_car_get(ctx->store, req->user.id, car_id, &c, &err))) {
        api_internal(res, "unlock", &err);
        return;
    }
    api_json(res, 201,
             json_pack("{s:o,s:I}", "car", car_json(ctx, &c), "points", (json_int_t)points));
}

void api_garage_upgrade(ApiCtx *ctx, ApiRequest *req, ApiResponse *res) {
    if (!api_authenticate(ctx, req, res)) return;
    int64_t car_id;
    if (!api_get_int_param(req, res, 0, "car", &car_id)) return;
    const char *stat;
    if (!api_get_string(req, res, "stat", true, 1, CR_NAME_MAX - 1, &stat)) return;
    const UpgradeInfo *u;
    CrError err = {{0}};
    int idx = store_upgrade_stat_index(stat);
    if (idx < 0 || scripts_find_upgrade(ctx->scripts, stat, &u, &err)) {
        api_error(res, 400, "bad_field", "'stat': %s",
                  idx < 0 ? "not an upgradable stat" : err.msg);
        return;
    }
    /* Read the level, price it, then buy exactly that level: if another
     * request bought it meanwhile the store says so and we price again. */
    for (int attempt = 0; attempt < UPGRADE_RETRIES; attempt++) {
        StoreCar c;
        int r = store_car_get(ctx->store, req->user.id, car_id, &c, &err);
        if (r == CR_ENOTFOUND) {
            api_error(res, 404, "not_found", "no such car");
            return;
        }
        if (r) {
            api_internal(res, "upgrade", &err);
            return;
        }
        int level = c.levels[idx];
        if (level >= u->max_level) {
            api_error(res, 409, "max_level", "%s is at its top level (%d)", u->name, u->max_level);
            return;
        }
        int64_t cost = u->cost[level], points = 0;
        r = store_car_upgrade(ctx->store, req->user.id, car_id, idx, level, cost, &points, &err);
        if (r == STORE_ECONFLICT) continue;
        if (r == STORE_EPOINTS) {
            StoreUser me;
            int64_t have = store_user_get(ctx->store, req->user.id, &me, &err) ? 0 : me.points;
            api_error(res, 402, "not_enough_points",
                      "level %d of %s costs %lld points; you have %lld", level + 1, u->name,
                      (long long)cost, (long long)have);
            return;
        }
        if (r == CR_ENOTFOUND) {
            api_error(res, 404, "not_found", "no such car");
            return;
        }
        if (r || (r = store_car_get(ctx->store, req->user.id, car_id, &c, &err))) {
            api_internal(res, "upgrade", &err);
            return;
        }
        api_json(res, 200,
                 json_pack("{s:o,s:I}", "car", car_json(ctx, &c), "points", (json_int_t)points));
        return;
    }
    api_error(res, 409, "conflict", "the car kept changing; try again");
}
