/*
 * hostapi.c - what the host gives every script state beyond the sandbox's
 * builtins: `rally` (rng, the stage limits, the surface names) and
 * `import`, which runs scripts/lib/NAME.lua from the snapshot.
 */
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#include "lua/scripts_internal.h"
#include "stage/stage_internal.h"

/* Arguments: the ScriptFile, its chunk name. Loads and runs it. */
static int load_module(lua_State *L) {
    const ScriptFile *f = lua_touserdata(L, 1);
    lhost_push_chunk(L, f->text, f->len, lua_tostring(L, 2));
    lua_call(L, 0, 1);
    return 1;
}

/* import(name): the shared module lib/NAME.lua of the snapshot, run once per
 * state in its own _ENV and frozen, so several generators can share a route
 * kit without copying it. Upvalue 1 is the Scripts (it outlives the state). */
static int lua_import(lua_State *L) {
    const Scripts *sc = lua_touserdata(L, lua_upvalueindex(1));
    const char *name = luaL_checkstring(L, 1);
    if (!scripts_valid_name(name))
        return luaL_error(L, "import: bad module name '%s' (a-z, 0-9, _ and -)", name);
    lua_settop(L, 1);
    if (lua_getfield(L, LUA_REGISTRYINDEX, "coderally.imports") != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setfield(L, LUA_REGISTRYINDEX, "coderally.imports");
    }
    int cache = lua_gettop(L);
    /* Entries: false while loading (catches cycles), a table {value} once
     * loaded (so a module that returns nil is not run again). */
    lua_pushvalue(L, 1);
    int t = lua_rawget(L, cache);
    if (t == LUA_TBOOLEAN) return luaL_error(L, "import: '%s' imports itself", name);
    if (t == LUA_TTABLE) {
        lua_rawgeti(L, -1, 1);
        return 1;
    }
    lua_pop(L, 1);
    char rel[CR_NAME_MAX + 16];
    snprintf(rel, sizeof rel, "lib/%s.lua", name);
    const ScriptFile *f = snapshot_file(sc, rel);
    if (!f) return luaL_error(L, "import: no module '%s' (%s not found)", name, rel);
    lua_pushvalue(L, 1);
    lua_pushboolean(L, 0);
    lua_rawset(L, cache);
    char chunk[CR_NAME_MAX + 20];
    snprintf(chunk, sizeof chunk, "@%s", rel);
    /* Protected, so a failed load is forgotten (and can be retried) rather
     * than left looking like a cycle; the error then goes on up. */
    lua_pushcfunction(L, load_module);
    lua_pushlightuserdata(L, (void *)f);
    lua_pushstring(L, chunk);
    int status = lua_pcall(L, 2, 1, 0);
    if (status != LUA_OK) {
        lua_pushvalue(L, 1);
        lua_pushnil(L);
        lua_rawset(L, cache);
        return lua_error(L);
    }
    if (lua_type(L, -1) == LUA_TTABLE) {
        lhost_push_frozen(L, -1);
        lua_remove(L, -2);
    }
    lua_createtable(L, 1, 0);
    lua_pushvalue(L, -2);
    lua_rawseti(L, -2, 1);
    lua_pushvalue(L, 1);
    lua_insert(L, -2);
    lua_rawset(L, cache);
    return 1;
}

/* Arguments: the Scripts. Builds `rally` and `import` as builtins. */
static int add_rally(lua_State *L) {
    const Scripts *sc = lua_touserdata(L, 1);
    LuaHost *h = *(LuaHost **)lua_getextraspace(L);
    StageLimits lim = scripts_stage_limits(sc);
    lua_getfield(L, LUA_REGISTRYINDEX, "coderally.rally");
    lua_newtable(L);
    static const struct {
        const char *k;
        double v;
    } limits[] = {{"min_width", STAGE_MIN_WIDTH},
                  {"max_width", STAGE_MAX_WIDTH},
                  {"verge", CR_VERGE},
                  {"car_width", CR_CAR_WIDTH},
                  {"min_spacing", STAGE_MIN_SPACING},
                  {"max_spacing", STAGE_MAX_SPACING},
                  {"max_turn", STAGE_MAX_TURN},
                  {"checkpoint_gap", STAGE_CHECKPOINT_GAP},
                  {"grid_length", STAGE_GRID_LENGTH},
                  {"max_checkpoints", STAGE_MAX_CHECKPOINTS}};
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        lua_pushnumber(L, limits[i].v);
        lua_setfield(L, -2, limits[i].k);
    }
    lua_pushnumber(L, lim.min_length);
    lua_setfield(L, -2, "min_length");
    lua_pushnumber(L, lim.max_length);
    lua_setfield(L, -2, "max_length");
    lua_setfield(L, -2, "limits");
    lua_newtable(L);
    /* The road surfaces of the snapshot's table, in its order. */
    const SurfaceTable *sf = scripts_surfaces(sc);
    for (int s = 0, k = 0; s < sf->count; s++) {
        if (s == sf->verge) continue;
        lua_pushstring(L, sf->s[s].name);
        lua_rawseti(L, -2, ++k);
    }
    lua_setfield(L, -2, "surfaces");
    lhost_add_builtin(h, "rally");
    lua_pushlightuserdata(L, (void *)sc);
    lua_pushcclosure(L, lua_import, 1);
    lhost_add_builtin(h, "import");
    return 0;
}

int scripts_new_host(const Scripts *sc, size_t mem, const LhostBudget *budget, LuaHost **out,
                     CrError *err) {
    int rc = lhost_create(mem, budget->call_instructions, out, err);
    if (rc) return rc;
    lhost_set_budget(*out, budget);
    lua_State *L = lhost_state(*out);
    lua_pushcfunction(L, add_rally);
    lua_pushlightuserdata(L, (void *)sc);
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
        snprintf(err->msg, sizeof err->msg, "cannot set up a script state: %s",
                 lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "?");
        lhost_destroy(*out);
        *out = NULL;
        return CR_ENOMEM;
    }
    return CR_OK;
}
