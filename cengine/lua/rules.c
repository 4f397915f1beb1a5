/*
 * rules.c - one race's rules from rules/NAME.lua, in a Lua state of its own
 * that lives as long as the race: a reload of the file changes new races
 * only. Hooks run on events (checkpoint, finish, collision), never per tick.
 */
#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua/scripts_internal.h"
#include "util/hash.h"

enum { HOOK_CHECKPOINT, HOOK_FINISH, HOOK_COLLISION, HOOK_COUNT };
static const char *const HOOK_NAMES[HOOK_COUNT] = {"on_checkpoint", "on_finish", "on_collision"};

struct Rules {
    LuaHost *host;
    char name[CR_NAME_MAX];
    int table_ref;
    int hook_ref[HOOK_COUNT]; /* LUA_NOREF when absent */
    RaceRules race;
    uint64_t hash;
    CrError error; /* the last hook failure */
};

static double run_hook(Rules *r, int which, const RuleEvent *ev) {
    lua_State *L = lhost_state(r->host);
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->hook_ref[which]);
    lua_createtable(L, 0, 8);
    /* Cars are 1-based in Lua, like everything else there. */
    lua_pushinteger(L, ev->car + 1);
    lua_setfield(L, -2, "car");
    if (ev->checkpoint >= 0) {
        lua_pushinteger(L, ev->checkpoint + 1);
        lua_setfield(L, -2, "checkpoint");
    }
    lua_pushnumber(L, ev->time_s);
    lua_setfield(L, -2, "time_s");
    lua_pushnumber(L, ev->split_s);
    lua_setfield(L, -2, "split_s");
    lua_pushnumber(L, ev->offtrack_s);
    lua_setfield(L, -2, "offtrack_s");
    lua_pushnumber(L, ev->impulse);
    lua_setfield(L, -2, "impulse");
    if (ev->other >= 0) {
        lua_pushinteger(L, ev->other + 1);
        lua_setfield(L, -2, "other");
    }
    if (lhost_call(r->host, 1, 1, &r->error)) return -1;
    double p = 0;
    if (lua_isnumber(L, -1)) {
        p = lua_tonumber(L, -1);
    } else if (!lua_isnil(L, -1)) {
        snprintf(r->error.msg, sizeof r->error.msg,
                 "rules/%s.lua: %s must return a penalty in "
                 "seconds or nil, not a %s",
                 r->name, HOOK_NAMES[which], luaL_typename(L, -1));
        lua_pop(L, 1);
        return -1;
    }
    lua_pop(L, 1);
    if (p < 0 || !isfinite(p) || p > 3600) {
        snprintf(r->error.msg, sizeof r->error.msg,
                 "rules/%s.lua: %s returned penalty %g; it must be 0..3600 s", r->name,
                 HOOK_NAMES[which], p);
        return -1;
    }
    return p;
}

static double on_checkpoint(void *ud, const RuleEvent *ev) {
    return run_hook(ud, HOOK_CHECKPOINT, ev);
}
static double on_finish(void *ud, const RuleEvent *ev) {
    return run_hook(ud, HOOK_FINISH, ev);
}
static double on_collision(void *ud, const RuleEvent *ev) {
    return run_hook(ud, HOOK_COLLISION, ev);
}
static const char *last_error(void *ud) {
    return ((Rules *)ud)->error.msg;
}

/* Field k of the rules table: a number of seconds, or a function of the
 * stage returning one. */
static int seconds_field(Rules *r, const Stage *stage, const char *k, double lo, double hi,
                         bool required, double *out, CrError *err) {
    lua_State *L = lhost_state(r->host);
    int t = lua_getfield(L, -1, k);
    if (t == LUA_TNIL && !required) {
        lua_pop(L, 1);
        *out = 0;
        return CR_OK;
    }
    if (t == LUA_TFUNCTION) {
        lua_createtable(L, 0, 3);
        lua_pushnumber(L, stage_length(stage));
        lua_setfield(L, -2, "length");
        lua_pushinteger(L, (lua_Integer)stage_checkpoint_count(stage));
        lua_setfield(L, -2, "checkpoints");
        lua_pushinteger(L, (lua_Integer)stage_point_count(stage));
        lua_setfield(L, -2, "points");
        int rc = lhost_call(r->host, 1, 1, err);
        if (rc) return rc;
    }
    int isnum;
    double v = lua_tonumberx(L, -1, &isnum);
    lua_pop(L, 1);
    if (!isnum || !(v >= lo && v <= hi)) {
        snprintf(err->msg, sizeof err->msg,
                 "rules/%s.lua: %s must be (or return) seconds in "
                 "%g..%g",
                 r->name, k, lo, hi);
        return CR_ESCRIPT;
    }
    *out = v;
    return CR_OK;
}

int rules_load(Scripts *sc, const char *name, const Stage *stage, Rules **out, CrError *err) {
    *out = NULL;
    if (!scripts_valid_name(name)) {
        snprintf(err->msg, sizeof err->msg, "bad rule set name '%s'", name);
        return CR_EINVAL;
    }
    char file[CR_NAME_MAX + 8], path[1200];
    snprintf(file, sizeof file, "%s.lua", name);
    if (scripts_path(sc, "rules", file, path, sizeof path)) return CR_EINVAL;
    Rules *r = calloc(1, sizeof *r);
    if (!r) return CR_ENOMEM;
    snprintf(r->name, sizeof r->name, "%s", name);
    for (int i = 0; i < HOOK_COUNT; i++) r->hook_ref[i] = LUA_NOREF;
    r->table_ref = LUA_NOREF;
    int rc = scripts_new_host(sc, &r->host, err);
    if (rc) goto fail;
    lua_State *L = lhost_state(r->host);
    if ((rc = lhost_run_file(r->host, path, err))) {
        if (rc == CR_ENOTFOUND)
            snprintf(err->msg, sizeof err->msg, "no rule set '%s' (%.600s not found)", name, path);
        goto fail;
    }
    if (!lua_istable(L, -1)) {
        snprintf(err->msg, sizeof err->msg, "%.600s: must return a rules table", path);
        rc = CR_ESCRIPT;
        goto fail;
    }
    double countdown, limit, stall;
    if ((rc = seconds_field(r, stage, "countdown_s", 0, 30, true, &countdown, err)) ||
        (rc = seconds_field(r, stage, "time_limit_s", 10, 3600, true, &limit, err)) ||
        (rc = seconds_field(r, stage, "stall_limit_s", 0, 3600, false, &stall, err)))
        goto fail;
    for (int i = 0; i < HOOK_COUNT + 1; i++) {
        const char *hook = i < HOOK_COUNT ? HOOK_NAMES[i] : "points";
        int t = lua_getfield(L, -1, hook);
        if (t == LUA_TNIL) {
            lua_pop(L, 1);
            continue;
        }
        if (t != LUA_TFUNCTION) {
            snprintf(err->msg, sizeof err->msg, "%.600s: %s must be a function", path, hook);
            rc = CR_ESCRIPT;
            goto fail;
        }
        if (i < HOOK_COUNT)
            r->hook_ref[i] = luaL_ref(L, LUA_REGISTRYINDEX);
        else
            lua_pop(L, 1);
    }
    r->table_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    r->race = (RaceRules){
        .countdown_ticks = (int)lround(countdown * CR_TICK_RATE),
        .time_limit_ticks = (int)lround(limit * CR_TICK_RATE),
        .stall_limit_ticks = (int)lround(stall * CR_TICK_RATE),
        .ud = r,
        .on_checkpoint = r->hook_ref[HOOK_CHECKPOINT] != LUA_NOREF ? on_checkpoint : NULL,
        .on_finish = r->hook_ref[HOOK_FINISH] != LUA_NOREF ? on_finish : NULL,
        .on_collision = r->hook_ref[HOOK_COLLISION] != LUA_NOREF ? on_collision : NULL,
        .last_error = last_error,
    };
    /* Identity of the rules a replay was made with: the file's bytes. */
    FILE *f = fopen(path, "rb");
    uint64_t h = HASH_SEED;
    if (f) {
        char buf[4096];
        size_t got;
        while ((got = fread(buf, 1, sizeof buf, f)) > 0) h = hash_bytes(h, buf, got);
        fclose(f);
    }
    r->hash = h;
    *out = r;
    return CR_OK;
fail:
    rules_destroy(r);
    return rc;
}

void rules_destroy(Rules *r) {
    if (!r) return;
    lhost_destroy(r->host);
    free(r);
}

const RaceRules *rules_race(const Rules *r) {
    return &r->race;
}

const char *rules_name(const Rules *r) {
    return r->name;
}

uint64_t rules_hash(const Rules *r) {
    return r->hash;
}

int rules_points(Rules *r, const RaceResult *results, int n, int *points, CrError *err) {
    lua_State *L = lhost_state(r->host);
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->table_ref);
    int t = lua_getfield(L, -1, "points");
    lua_remove(L, -2);
    if (t != LUA_TFUNCTION) {
        lua_pop(L, 1);
        for (int i = 0; i < n; i++) points[i] = 0;
        return CR_OK;
    }
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        const RaceResult *res = &results[i];
        lua_createtable(L, 0, 6);
        lua_pushinteger(L, res->position);
        lua_setfield(L, -2, "position");
        lua_pushboolean(L, res->finished);
        lua_setfield(L, -2, "finished");
        lua_pushboolean(L, res->dnf);
        lua_setfield(L, -2, "dnf");
        if (res->finished) {
            lua_pushnumber(L, res->time_s);
            lua_setfield(L, -2, "time_s");
        }
        lua_pushinteger(L, res->checkpoints);
        lua_setfield(L, -2, "checkpoints");
        lua_pushinteger(L, n);
        lua_setfield(L, -2, "cars");
        lua_rawseti(L, -2, i + 1);
    }
    int rc = lhost_call(r->host, 1, 1, err);
    if (rc) return rc;
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        snprintf(err->msg, sizeof err->msg, "rules/%s.lua: points must return a list", r->name);
        return CR_ESCRIPT;
    }
    for (int i = 0; i < n; i++) {
        lua_rawgeti(L, -1, i + 1);
        int ok;
        lua_Integer v = lua_tointegerx(L, -1, &ok);
        lua_pop(L, 1);
        if (!ok || v < 0 || v > 1000000) {
            lua_pop(L, 1);
            snprintf(err->msg, sizeof err->msg,
                     "rules/%s.lua: points[%d] must be a whole number 0..1000000", r->name, i + 1);
            return CR_ESCRIPT;
        }
        points[i] = (int)v;
    }
    lua_pop(L, 1);
    return CR_OK;
}
