/*
 * luamod.c - the host API as a Lua module (`require "crhost"`), so busted
 * specs run the shipped scripts through the very code the engine uses:
 * the same sandbox, generator loading, stage validation, rules and races.
 *
 *   local crhost = require "crhost"
 *   local sc = assert(crhost.open("scripts"))
 *   sc:generators()               -> { {name=, version=, description=, error=}, ... }
 *   sc:generate(name, seed, params [, svg_path]) -> info | nil, message
 *   sc:car_types()                -> { "coupe", "hatch", ... }
 *   sc:car_stats(type, levels)    -> stats | nil, message
 *   sc:garage()                   -> { cars = {{id=, name=, description=, price=}},
 *                                      upgrades = {{stat=, name=, max_level=, costs=,
 *                                                   values = {car_id = {level 0, 1, ...}}}} }
 *   sc:config(key)                -> value | nil, message
 *   sc:race{generator=, seed=, ai=, rules=, cars={types}} -> result | nil, message
 *   crhost.sandbox(code [, memory_bytes, instructions]) -> true, value | false, message
 */
#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>
#include <string.h>

#include "lua/lhost.h"
#include "match/session.h"

#define SCRIPTS_META "crhost.scripts"

int luaopen_crhost(lua_State *L);

static Scripts **check_scripts(lua_State *L) {
    Scripts **sc = luaL_checkudata(L, 1, SCRIPTS_META);
    luaL_argcheck(L, *sc != NULL, 1, "scripts closed");
    return sc;
}

static int fail(lua_State *L, const char *msg) {
    lua_pushnil(L);
    lua_pushstring(L, msg);
    return 2;
}

/* Reads a { key = value } table at idx into overrides backed by Lua strings
 * that stay on the stack. */
static size_t read_overrides(lua_State *L, int idx, ConfigOverride *out, size_t cap) {
    size_t n = 0;
    if (lua_isnoneornil(L, idx)) return 0;
    luaL_checktype(L, idx, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        luaL_argcheck(L, n < cap, idx, "too many entries");
        luaL_argcheck(L, lua_type(L, -2) == LUA_TSTRING, idx, "keys must be strings");
        out[n].key = lua_tostring(L, -2);
        out[n].value = luaL_tolstring(L, -1, NULL);
        /* Keep the string alive: move it below the key into a holder. */
        lua_rawsetp(L, LUA_REGISTRYINDEX, out[n].value);
        lua_pop(L, 1);
        n++;
    }
    return n;
}

static void clear_overrides(lua_State *L, const ConfigOverride *o, size_t n) {
    for (size_t i = 0; i < n; i++) {
        lua_pushnil(L);
        lua_rawsetp(L, LUA_REGISTRYINDEX, o[i].value);
    }
}

static int l_open(lua_State *L) {
    const char *dir = luaL_checkstring(L, 1);
    ConfigOverride ov[32];
    size_t n = read_overrides(L, 2, ov, 32);
    Scripts **ud = lua_newuserdatauv(L, sizeof *ud, 0);
    *ud = NULL;
    luaL_setmetatable(L, SCRIPTS_META);
    CrError err = {{0}};
    int rc = scripts_open(dir, ov, n, ud, &err);
    clear_overrides(L, ov, n);
    if (rc) return fail(L, err.msg);
    return 1;
}

static int l_gc(lua_State *L) {
    Scripts **sc = luaL_checkudata(L, 1, SCRIPTS_META);
    scripts_close(*sc);
    *sc = NULL;
    return 0;
}

static int l_generators(lua_State *L) {
    Scripts *sc = *check_scripts(L);
    size_t n = scripts_generator_count(sc);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        const GeneratorInfo *g = scripts_generator(sc, i);
        lua_createtable(L, 0, 5);
        lua_pushstring(L, g->name);
        lua_setfield(L, -2, "name");
        lua_pushstring(L, g->version);
        lua_setfield(L, -2, "version");
        lua_pushstring(L, g->description);
        lua_setfield(L, -2, "description");
        lua_pushstring(L, g->file);
        lua_setfield(L, -2, "file");
        const char *e = scripts_generator_error(sc, i);
        if (e) {
            lua_pushstring(L, e);
            lua_setfield(L, -2, "error");
        }
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static void push_stage_info(lua_State *L, const Stage *st) {
    lua_createtable(L, 0, 6);
    lua_pushnumber(L, stage_length(st));
    lua_setfield(L, -2, "length");
    lua_pushinteger(L, (lua_Integer)stage_point_count(st));
    lua_setfield(L, -2, "points");
    lua_pushinteger(L, (lua_Integer)stage_checkpoint_count(st));
    lua_setfield(L, -2, "checkpoints");
    char h[17];
    snprintf(h, sizeof h, "%016llx", (unsigned long long)stage_hash(st));
    lua_pushstring(L, h);
    lua_setfield(L, -2, "hash");
    /* Route distance per surface, for specs about what a generator makes. */
    const SurfaceTable *sf = stage_surfaces(st);
    double len[SURFACE_MAX] = {0};
    const StagePoint *p = stage_points(st);
    for (size_t i = 0; i + 1 < stage_point_count(st); i++)
        len[p[i].surface] += stage_point_distance(st, i + 1) - stage_point_distance(st, i);
    lua_createtable(L, 0, sf->count);
    for (int s = 0; s < sf->count; s++) {
        if (s == sf->verge) continue;
        lua_pushnumber(L, len[s]);
        lua_setfield(L, -2, sf->s[s].name);
    }
    lua_setfield(L, -2, "surfaces");
}

static int l_generate(lua_State *L) {
    Scripts *sc = *check_scripts(L);
    const char *name = luaL_checkstring(L, 2);
    lua_Integer seed = luaL_checkinteger(L, 3);
    ConfigOverride ov[32];
    size_t n = read_overrides(L, 4, ov, 32);
    CrError err = {{0}};
    Stage *st;
    int rc = scripts_generate_stage(sc, name, (uint64_t)seed, ov, n, &st, &err);
    clear_overrides(L, ov, n);
    if (rc) return fail(L, err.msg);
    /* An optional fifth argument: draw the stage as SVG into that file. */
    const char *svg = luaL_optstring(L, 5, NULL);
    if (svg) {
        char title[128];
        snprintf(title, sizeof title, "%s seed %lld", name, (long long)seed);
        if (stage_write_svg(st, title, svg, &err)) {
            stage_destroy(st);
            return fail(L, err.msg);
        }
    }
    push_stage_info(L, st);
    stage_destroy(st);
    return 1;
}

static int l_car_types(lua_State *L) {
    Scripts *sc = *check_scripts(L);
    size_t n = scripts_car_type_count(sc);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_pushstring(L, scripts_car_type(sc, i));
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static int l_car_stats(lua_State *L) {
    Scripts *sc = *check_scripts(L);
    const char *type = luaL_checkstring(L, 2);
    UpgradeLevel lv[16];
    size_t n = 0;
    if (!lua_isnoneornil(L, 3)) {
        luaL_checktype(L, 3, LUA_TTABLE);
        lua_pushnil(L);
        while (lua_next(L, 3)) {
            luaL_argcheck(L, n < 16 && lua_type(L, -2) == LUA_TSTRING, 3, "bad levels");
            lv[n].stat = lua_tostring(L, -2);
            lv[n].level = (int)luaL_checkinteger(L, -1);
            n++;
            lua_pop(L, 1);
        }
    }
    CarStats s;
    CrError err = {{0}};
    if (scripts_car_stats(sc, type, lv, n, &s, &err)) return fail(L, err.msg);
    lua_createtable(L, 0, 8);
    lua_pushnumber(L, s.top_speed);
    lua_setfield(L, -2, "top_speed");
    lua_pushnumber(L, s.acceleration);
    lua_setfield(L, -2, "acceleration");
    lua_pushnumber(L, s.grip);
    lua_setfield(L, -2, "grip");
    lua_pushnumber(L, s.braking);
    lua_setfield(L, -2, "braking");
    lua_pushinteger(L, s.nitro_capacity);
    lua_setfield(L, -2, "nitro_capacity");
    lua_pushinteger(L, s.nitro_duration);
    lua_setfield(L, -2, "nitro_duration");
    lua_pushnumber(L, s.handling);
    lua_setfield(L, -2, "handling");
    lua_pushnumber(L, s.weight);
    lua_setfield(L, -2, "weight");
    return 1;
}

/* What a garage shows: car types and upgrades with their prices, costs and
 * each level's value for each car type, from the C API. */
static int l_garage(lua_State *L) {
    Scripts *sc = *check_scripts(L);
    CrError err = {{0}};
    size_t nc = scripts_car_type_count(sc), nu = scripts_upgrade_count(sc);
    lua_createtable(L, 0, 2);
    lua_createtable(L, (int)nc, 0);
    for (size_t i = 0; i < nc; i++) {
        const CarTypeInfo *c = scripts_car_type_info(sc, i);
        lua_createtable(L, 0, 4);
        lua_pushstring(L, c->id);
        lua_setfield(L, -2, "id");
        lua_pushstring(L, c->name);
        lua_setfield(L, -2, "name");
        lua_pushstring(L, c->description);
        lua_setfield(L, -2, "description");
        lua_pushinteger(L, (lua_Integer)c->price);
        lua_setfield(L, -2, "price");
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "cars");
    lua_createtable(L, (int)nu, 0);
    for (size_t i = 0; i < nu; i++) {
        const UpgradeInfo *u = scripts_upgrade(sc, i);
        lua_createtable(L, 0, 5);
        lua_pushstring(L, u->stat);
        lua_setfield(L, -2, "stat");
        lua_pushstring(L, u->name);
        lua_setfield(L, -2, "name");
        lua_pushinteger(L, u->max_level);
        lua_setfield(L, -2, "max_level");
        lua_createtable(L, u->max_level, 0);
        for (int k = 1; k <= u->max_level; k++) {
            int64_t cost;
            if (scripts_upgrade_cost(sc, u->stat, k, &cost, &err)) return fail(L, err.msg);
            lua_pushinteger(L, (lua_Integer)cost);
            lua_rawseti(L, -2, k);
        }
        lua_setfield(L, -2, "costs");
        lua_createtable(L, 0, (int)nc);
        for (size_t c = 0; c < nc; c++) {
            const char *id = scripts_car_type(sc, c);
            lua_createtable(L, u->max_level + 1, 0);
            for (int k = 0; k <= u->max_level; k++) {
                double v;
                if (scripts_upgrade_value(sc, id, u->stat, k, &v, &err)) return fail(L, err.msg);
                lua_pushnumber(L, v);
                lua_rawseti(L, -2, k + 1);
            }
            lua_setfield(L, -2, id);
        }
        lua_setfield(L, -2, "values");
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "upgrades");
    return 1;
}

static int l_config(lua_State *L) {
    Scripts *sc = *check_scripts(L);
    const char *key = luaL_checkstring(L, 2);
    double v;
    const char *s;
    if (scripts_config_number(sc, key, &v) == CR_OK) {
        lua_pushnumber(L, v);
        return 1;
    }
    if (scripts_config_string(sc, key, &s) == CR_OK) {
        lua_pushstring(L, s);
        return 1;
    }
    return fail(L, "unknown setting");
}

/* A whole AI race, for specs about rules and generators. */
static int l_race(lua_State *L) {
    Scripts *sc = *check_scripts(L);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_getfield(L, 2, "generator");
    const char *gen = luaL_checkstring(L, -1);
    lua_getfield(L, 2, "seed");
    lua_Integer seed = luaL_optinteger(L, -1, 1);
    lua_getfield(L, 2, "ai");
    lua_Integer ai = luaL_optinteger(L, -1, 1);
    lua_getfield(L, 2, "rules");
    const char *rules = luaL_optstring(L, -1, NULL);
    luaL_argcheck(L, ai >= 1 && ai <= CR_MAX_CARS, 2, "ai must be 1..16");
    CarEntry cars[CR_MAX_CARS];
    memset(cars, 0, sizeof cars);
    CrError err = {{0}};
    for (int i = 0; i < ai; i++) {
        if (scripts_car_stats(sc, "hatch", NULL, 0, &cars[i].stats, &err)) return fail(L, err.msg);
        cars[i].kind = CAR_AI;
        snprintf(cars[i].name, sizeof cars[i].name, "AI %d", i + 1);
        snprintf(cars[i].car_type, sizeof cars[i].car_type, "hatch");
    }
    Session s;
    if (session_start(sc, gen, (uint64_t)seed, NULL, 0, rules, cars, (int)ai, &s, &err))
        return fail(L, err.msg);
    rules_set_cars(s.rules, cars, (int)ai);
    if (session_run(&s, &err)) {
        session_end(&s);
        return fail(L, err.msg);
    }
    RaceResult res[CR_MAX_CARS];
    int points[CR_MAX_CARS];
    race_results(s.room, res);
    if (rules_points(s.rules, res, (int)ai, points, &err)) {
        session_end(&s);
        return fail(L, err.msg);
    }
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, race_tick(s.room));
    lua_setfield(L, -2, "ticks");
    lua_pushnumber(L, stage_length(s.stage));
    lua_setfield(L, -2, "length");
    lua_createtable(L, (int)ai, 0);
    for (int i = 0; i < ai; i++) {
        lua_createtable(L, 0, 8);
        lua_pushinteger(L, res[i].position);
        lua_setfield(L, -2, "position");
        lua_pushstring(L, race_car(s.room, res[i].car)->name);
        lua_setfield(L, -2, "name");
        lua_pushboolean(L, res[i].finished);
        lua_setfield(L, -2, "finished");
        lua_pushboolean(L, res[i].dnf);
        lua_setfield(L, -2, "dnf");
        lua_pushinteger(L, res[i].dnf_reason);
        lua_setfield(L, -2, "dnf_reason");
        if (res[i].finished) {
            lua_pushnumber(L, res[i].time_s);
            lua_setfield(L, -2, "time_s");
        }
        lua_pushnumber(L, res[i].penalty_s);
        lua_setfield(L, -2, "penalty_s");
        lua_pushinteger(L, res[i].checkpoints);
        lua_setfield(L, -2, "checkpoints");
        lua_pushinteger(L, points[i]);
        lua_setfield(L, -2, "points");
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "results");
    session_end(&s);
    return 1;
}

/* Runs code as a script in a fresh sandbox; returns true plus its value
 * (converted to a string unless nil/boolean/number) or false plus the
 * error message. */
static int l_sandbox(lua_State *L) {
    size_t len;
    const char *code = luaL_checklstring(L, 1, &len);
    lua_Integer mem = luaL_optinteger(L, 2, LHOST_DEFAULT_MEMORY);
    lua_Integer budget = luaL_optinteger(L, 3, (lua_Integer)LHOST_DEFAULT_BUDGET);
    LuaHost *h;
    CrError err = {{0}};
    if (lhost_create((size_t)mem, (uint64_t)budget, &h, &err)) return fail(L, err.msg);
    int rc = lhost_run_string(h, code, len, "=sandbox", &err);
    if (rc) {
        lhost_destroy(h);
        lua_pushboolean(L, 0);
        lua_pushstring(L, err.msg);
        return 2;
    }
    lua_State *S = lhost_state(h);
    lua_pushboolean(L, 1);
    switch (lua_type(S, -1)) {
        case LUA_TNIL:
            lua_pushnil(L);
            break;
        case LUA_TBOOLEAN:
            lua_pushboolean(L, lua_toboolean(S, -1));
            break;
        case LUA_TNUMBER:
            lua_pushnumber(L, lua_tonumber(S, -1));
            break;
        default:
            lua_pushstring(L, luaL_tolstring(S, -1, NULL));
            break;
    }
    lhost_destroy(h);
    return 2;
}

static const luaL_Reg SCRIPTS_METHODS[] = {{"generators", l_generators},
                                           {"generate", l_generate},
                                           {"car_types", l_car_types},
                                           {"car_stats", l_car_stats},
                                           {"garage", l_garage},
                                           {"config", l_config},
                                           {"race", l_race},
                                           {NULL, NULL}};

static const luaL_Reg FUNCS[] = {{"open", l_open}, {"sandbox", l_sandbox}, {NULL, NULL}};

int luaopen_crhost(lua_State *L) {
    luaL_newmetatable(L, SCRIPTS_META);
    luaL_newlib(L, SCRIPTS_METHODS);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, l_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    luaL_newlib(L, FUNCS);
    return 1;
}
