/*
 * upgrades.c - car types and upgrades from upgrades.lua. Everything the
 * garage and the server need (names, prices, costs, the value of each stat
 * at each level for each car type) is read and validated once when the
 * scripts open, so the getters are plain C; only scripts_car_stats with a
 * mix of levels calls the script's stats() again.
 */
#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua/scripts_internal.h"

#define fail scripts_fail
#define LEVELS (CR_UPGRADE_MAX_LEVELS + 1)
#define MAX_PRICE 1e12

/* The CarStats fields by name; whole marks the integer ones. */
static const struct {
    const char *name;
    size_t off;
    bool whole;
} STATS[] = {
    {"top_speed", offsetof(CarStats, top_speed), false},
    {"acceleration", offsetof(CarStats, acceleration), false},
    {"grip", offsetof(CarStats, grip), false},
    {"braking", offsetof(CarStats, braking), false},
    {"nitro_capacity", offsetof(CarStats, nitro_capacity), true},
    {"nitro_duration", offsetof(CarStats, nitro_duration), true},
    {"handling", offsetof(CarStats, handling), false},
    {"weight", offsetof(CarStats, weight), false},
};
#define N_STATS (sizeof STATS / sizeof STATS[0])

static int stat_index(const char *name) {
    for (size_t i = 0; i < N_STATS; i++)
        if (strcmp(STATS[i].name, name) == 0) return (int)i;
    return -1;
}

static double stat_get(const CarStats *s, int i) {
    const char *p = (const char *)s + STATS[i].off;
    if (STATS[i].whole) return *(const int *)(const void *)p;
    return *(const double *)(const void *)p;
}

/* ---- reading the module (inside lhost_protect: errors are Lua errors) --- */

typedef struct {
    Scripts *sc;
    const char *file;
} Reader;

/* Raw field k of the table at t: a string copied into out, or "" when
 * absent and optional. */
static void raw_string(lua_State *L, int t, const char *k, char *out, size_t n, const char *what,
                       const char *file) {
    lua_pushstring(L, k);
    int ty = lua_rawget(L, t);
    if (ty == LUA_TNIL) {
        out[0] = '\0';
    } else if (ty == LUA_TSTRING) {
        snprintf(out, n, "%s", lua_tostring(L, -1));
    } else {
        luaL_error(L, "%s: %s: field '%s' must be a string, not a %s", file, what, k,
                   lua_typename(L, ty));
    }
    lua_pop(L, 1);
}

/* A whole number of points in 0..MAX_PRICE, checked before any cast. */
static int64_t read_points(lua_State *L, int idx, const char *what, const char *file) {
    double v = lua_type(L, idx) == LUA_TNUMBER ? lua_tonumber(L, idx) : NAN;
    if (!(v >= 0 && v <= MAX_PRICE && v == floor(v)))
        luaL_error(L, "%s: %s must be a whole number of points 0..10^12", file, what);
    return (int64_t)v;
}

static int cmp_car(const void *a, const void *b) {
    return strcmp(((const CarTypeInfo *)a)->id, ((const CarTypeInfo *)b)->id);
}

static int cmp_up(const void *a, const void *b) {
    return strcmp(((const UpgradeInfo *)a)->stat, ((const UpgradeInfo *)b)->stat);
}

static void read_car_types(lua_State *L, Reader *r, int t) {
    Scripts *sc = r->sc;
    size_t cap = 0;
    lua_pushnil(L);
    while (lua_next(L, t)) {
        if (lua_type(L, -2) != LUA_TSTRING || !scripts_valid_name(lua_tostring(L, -2)))
            luaL_error(L, "%s: car type ids are 1-31 characters of a-z, 0-9, _ and -", r->file);
        const char *id = lua_tostring(L, -2);
        if (!lua_istable(L, -1)) luaL_error(L, "%s: car type '%s' must be a table", r->file, id);
        if (sc->ncars == cap) {
            cap = cap ? cap * 2 : 8;
            CarTypeInfo *n = realloc(sc->cars, cap * sizeof *n);
            if (!n) luaL_error(L, "out of memory");
            sc->cars = n;
        }
        CarTypeInfo *c = &sc->cars[sc->ncars];
        memset(c, 0, sizeof *c);
        snprintf(c->id, sizeof c->id, "%s", id);
        char what[64];
        snprintf(what, sizeof what, "car type '%s'", id);
        int v = lua_gettop(L);
        raw_string(L, v, "name", c->name, sizeof c->name, what, r->file);
        if (!c->name[0]) snprintf(c->name, sizeof c->name, "%s", id);
        raw_string(L, v, "description", c->description, sizeof c->description, what, r->file);
        lua_pushliteral(L, "price");
        if (lua_rawget(L, v) != LUA_TNIL) {
            snprintf(what, sizeof what, "car type '%s': price", id);
            c->price = read_points(L, -1, what, r->file);
        }
        lua_pop(L, 2);
        sc->ncars++;
    }
    if (sc->ncars == 0) luaL_error(L, "%s: no car types", r->file);
    qsort(sc->cars, sc->ncars, sizeof *sc->cars, cmp_car);
}

static void read_upgrades(lua_State *L, Reader *r, int t) {
    Scripts *sc = r->sc;
    sc->ups = calloc(N_STATS, sizeof *sc->ups);
    if (!sc->ups) luaL_error(L, "out of memory");
    lua_pushnil(L);
    while (lua_next(L, t)) {
        const char *stat = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
        if (!stat || stat_index(stat) < 0)
            luaL_error(L,
                       "%s: upgrades: '%s' is not a car stat (top_speed, acceleration, grip, "
                       "braking, nitro_capacity, nitro_duration, handling, weight)",
                       r->file, stat ? stat : luaL_typename(L, -2));
        if (!lua_istable(L, -1)) luaL_error(L, "%s: upgrade '%s' must be a table", r->file, stat);
        UpgradeInfo *u = &sc->ups[sc->nups];
        snprintf(u->stat, sizeof u->stat, "%s", stat);
        char what[64];
        snprintf(what, sizeof what, "upgrade '%s'", stat);
        int v = lua_gettop(L);
        raw_string(L, v, "name", u->name, sizeof u->name, what, r->file);
        if (!u->name[0]) snprintf(u->name, sizeof u->name, "%s", stat);
        raw_string(L, v, "description", u->description, sizeof u->description, what, r->file);
        lua_pushliteral(L, "costs");
        if (lua_rawget(L, v) != LUA_TTABLE)
            luaL_error(L, "%s: upgrade '%s': field 'costs' must be a list of points per level",
                       r->file, stat);
        size_t n = lua_rawlen(L, -1);
        if (n < 1 || n > CR_UPGRADE_MAX_LEVELS)
            luaL_error(L, "%s: upgrade '%s' has %d levels; 1..%d are allowed", r->file, stat,
                       (int)(n > 9999 ? 9999 : n), CR_UPGRADE_MAX_LEVELS);
        u->max_level = (int)n;
        for (size_t k = 0; k < n; k++) {
            lua_rawgeti(L, -1, (lua_Integer)k + 1);
            snprintf(what, sizeof what, "upgrade '%s': costs[%zu]", stat, k + 1);
            u->cost[k] = read_points(L, -1, what, r->file);
            lua_pop(L, 1);
        }
        lua_pop(L, 2);
        sc->nups++; /* keys are distinct stats, so at most N_STATS */
    }
    if (sc->nups) qsort(sc->ups, sc->nups, sizeof *sc->ups, cmp_up);
}

/* Arguments: the module table, the Reader. */
static int read_module(lua_State *L) {
    Reader *r = lua_touserdata(L, 2);
    if (!lua_istable(L, 1))
        return luaL_error(L, "%s: must return a table {car_types=, upgrades=, stats=}", r->file);
    lua_pushliteral(L, "car_types");
    if (lua_rawget(L, 1) != LUA_TTABLE)
        return luaL_error(L, "%s: field 'car_types' must be a table", r->file);
    read_car_types(L, r, lua_gettop(L));
    lua_pushliteral(L, "upgrades");
    int t = lua_rawget(L, 1);
    if (t != LUA_TTABLE && t != LUA_TNIL)
        return luaL_error(L, "%s: field 'upgrades' must be a table", r->file);
    if (t == LUA_TTABLE) read_upgrades(L, r, lua_gettop(L));
    lua_pushliteral(L, "stats");
    if (lua_rawget(L, 1) != LUA_TFUNCTION)
        return luaL_error(L, "%s: field 'stats' must be a function(car_type, levels)", r->file);
    lua_pushvalue(L, -1);
    r->sc->stats_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

typedef struct {
    const char *car_type;
    CarStats *out;
} StatsReader;

/* Arguments: what stats() returned, the StatsReader. Whole stats must be
 * whole before they are converted, so no cast sees a wild double. */
static int read_stats(lua_State *L) {
    StatsReader *sr = lua_touserdata(L, 2);
    if (!lua_istable(L, 1))
        return luaL_error(L, "upgrades.lua: stats('%s') must return a table, not a %s",
                          sr->car_type, luaL_typename(L, 1));
    CarStats s = {0};
    for (size_t i = 0; i < N_STATS; i++) {
        lua_pushstring(L, STATS[i].name);
        int t = lua_rawget(L, 1);
        double v = lua_tonumber(L, -1);
        lua_pop(L, 1);
        if (t != LUA_TNUMBER || !isfinite(v))
            return luaL_error(L, "upgrades.lua: stats('%s') is missing number '%s'", sr->car_type,
                              STATS[i].name);
        char *p = (char *)&s + STATS[i].off;
        if (STATS[i].whole) {
            if (v != floor(v) || fabs(v) > 1e6)
                return luaL_error(L, "upgrades.lua: stats('%s'): %s = %f must be a whole number",
                                  sr->car_type, STATS[i].name, v);
            *(int *)(void *)p = (int)v;
        } else {
            *(double *)(void *)p = v;
        }
    }
    CrError e;
    if (car_stats_validate(&s, &e))
        return luaL_error(L, "upgrades.lua: stats('%s'): %s", sr->car_type, e.msg);
    *sr->out = s;
    return 0;
}

/* Calls stats(car_type, levels) with levels as stat -> level. */
static int call_stats(Scripts *sc, const char *car_type, const UpgradeLevel *levels, size_t n,
                      CarStats *out, CrError *err) {
    lua_State *L = lhost_state(sc->host);
    if (!lua_checkstack(L, 4)) return fail(err, CR_ESCRIPT, "Lua stack overflow");
    lua_rawgeti(L, LUA_REGISTRYINDEX, sc->stats_ref);
    lua_pushstring(L, car_type);
    lua_createtable(L, 0, (int)n);
    for (size_t i = 0; i < n; i++) {
        lua_pushinteger(L, levels[i].level);
        lua_setfield(L, -2, levels[i].stat); /* a fresh plain table: no metamethods */
    }
    int rc = lhost_call(sc->host, 2, 1, err);
    if (rc) return rc;
    StatsReader sr = {car_type, out};
    return lhost_protect(sc->host, read_stats, &sr, 1, 0, err);
}

int upgrades_load(Scripts *sc, CrError *err) {
    sc->stats_ref = LUA_NOREF;
    int rc = snapshot_run(sc, sc->host, "upgrades.lua", err);
    if (rc) return rc;
    Reader r = {sc, "upgrades.lua"};
    if ((rc = lhost_protect(sc->host, read_module, &r, 1, 0, err))) return rc;
    sc->values = calloc(sc->ncars * (sc->nups ? sc->nups : 1) * LEVELS, sizeof *sc->values);
    if (!sc->values) return CR_ENOMEM;
    for (size_t c = 0; c < sc->ncars; c++) {
        CarTypeInfo *ct = &sc->cars[c];
        if ((rc = call_stats(sc, ct->id, NULL, 0, &ct->base, err))) return rc;
        for (size_t u = 0; u < sc->nups; u++) {
            const UpgradeInfo *up = &sc->ups[u];
            int si = stat_index(up->stat);
            for (int lv = 0; lv <= up->max_level; lv++) {
                UpgradeLevel one = {up->stat, lv};
                CarStats s;
                if ((rc = call_stats(sc, ct->id, &one, 1, &s, err))) {
                    char m[sizeof err->msg];
                    snprintf(m, sizeof m, "%s", err->msg);
                    return fail(err, rc, "%s (car type '%s', %s at level %d)", m, ct->id, up->stat,
                                lv);
                }
                sc->values[(c * sc->nups + u) * LEVELS + (size_t)lv] = stat_get(&s, si);
            }
        }
    }
    return CR_OK;
}

void upgrades_free(Scripts *sc) {
    free(sc->cars);
    free(sc->ups);
    free(sc->values);
}

/* ---- the API ------------------------------------------------------------ */

size_t scripts_car_type_count(const Scripts *sc) {
    return sc->ncars;
}

const char *scripts_car_type(const Scripts *sc, size_t i) {
    return i < sc->ncars ? sc->cars[i].id : NULL;
}

const CarTypeInfo *scripts_car_type_info(const Scripts *sc, size_t i) {
    return i < sc->ncars ? &sc->cars[i] : NULL;
}

static int find_car(const Scripts *sc, const char *id, CrError *err) {
    for (size_t i = 0; i < sc->ncars; i++)
        if (strcmp(sc->cars[i].id, id) == 0) return (int)i;
    char list[512] = "";
    for (size_t i = 0; i < sc->ncars; i++) {
        size_t l = strlen(list);
        snprintf(list + l, sizeof list - l, "%s%s", i ? ", " : "", sc->cars[i].id);
    }
    fail(err, CR_ENOTFOUND, "unknown car type '%s' (known: %s)", id, list);
    return -1;
}

static int find_up(const Scripts *sc, const char *stat, CrError *err) {
    for (size_t i = 0; i < sc->nups; i++)
        if (strcmp(sc->ups[i].stat, stat) == 0) return (int)i;
    char list[512] = "";
    for (size_t i = 0; i < sc->nups; i++) {
        size_t l = strlen(list);
        snprintf(list + l, sizeof list - l, "%s%s", i ? ", " : "", sc->ups[i].stat);
    }
    fail(err, CR_ENOTFOUND, "unknown upgrade '%s' (upgradable: %s)", stat,
         sc->nups ? list : "none");
    return -1;
}

int scripts_find_car_type(const Scripts *sc, const char *id, const CarTypeInfo **out,
                          CrError *err) {
    int i = find_car(sc, id, err);
    if (i < 0) return CR_ENOTFOUND;
    *out = &sc->cars[i];
    return CR_OK;
}

size_t scripts_upgrade_count(const Scripts *sc) {
    return sc->nups;
}

const UpgradeInfo *scripts_upgrade(const Scripts *sc, size_t i) {
    return i < sc->nups ? &sc->ups[i] : NULL;
}

int scripts_find_upgrade(const Scripts *sc, const char *stat, const UpgradeInfo **out,
                         CrError *err) {
    int i = find_up(sc, stat, err);
    if (i < 0) return CR_ENOTFOUND;
    *out = &sc->ups[i];
    return CR_OK;
}

int scripts_upgrade_value(const Scripts *sc, const char *car_type, const char *stat, int level,
                          double *out, CrError *err) {
    int c = find_car(sc, car_type, err);
    if (c < 0) return CR_ENOTFOUND;
    int u = find_up(sc, stat, err);
    if (u < 0) return CR_ENOTFOUND;
    if (level < 0 || level > sc->ups[u].max_level)
        return fail(err, CR_EINVAL, "upgrade %s level %d is outside 0..%d", stat, level,
                    sc->ups[u].max_level);
    *out = sc->values[((size_t)c * sc->nups + (size_t)u) * LEVELS + (size_t)level];
    return CR_OK;
}

int scripts_upgrade_cost(const Scripts *sc, const char *stat, int to_level, int64_t *out,
                         CrError *err) {
    int u = find_up(sc, stat, err);
    if (u < 0) return CR_ENOTFOUND;
    if (to_level < 1 || to_level > sc->ups[u].max_level)
        return fail(err, CR_EINVAL, "upgrade %s has levels 1..%d to buy, not %d", stat,
                    sc->ups[u].max_level, to_level);
    *out = sc->ups[u].cost[to_level - 1];
    return CR_OK;
}

int scripts_car_stats(Scripts *sc, const char *car_type, const UpgradeLevel *levels,
                      size_t n_levels, CarStats *out, CrError *err) {
    if (find_car(sc, car_type, err) < 0) return CR_ENOTFOUND;
    for (size_t i = 0; i < n_levels; i++) {
        int u = find_up(sc, levels[i].stat, err);
        if (u < 0) return CR_EINVAL;
        if (levels[i].level < 0 || levels[i].level > sc->ups[u].max_level)
            return fail(err, CR_EINVAL, "upgrade %s level %d is outside 0..%d", levels[i].stat,
                        levels[i].level, sc->ups[u].max_level);
        for (size_t j = 0; j < i; j++)
            if (strcmp(levels[j].stat, levels[i].stat) == 0)
                return fail(err, CR_EINVAL, "upgrade %s is given twice", levels[i].stat);
    }
    if (n_levels == 0) {
        const CarTypeInfo *ct;
        scripts_find_car_type(sc, car_type, &ct, err);
        *out = ct->base;
        return CR_OK;
    }
    return call_stats(sc, car_type, levels, n_levels, out, err);
}
