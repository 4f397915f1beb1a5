/*
 * surfaces.c - the surface table from surfaces.lua. Read once when the
 * scripts open, in a throwaway state of its own, raw and checked; every
 * stage generated from the snapshot is compiled with it. A snapshot
 * without surfaces.lua has the shipped table.
 */
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#include "lua/scripts_internal.h"

#define FILE_NAME "surfaces.lua"
static const char *const FIELDS[] = {"name", "grip", "drag", "top_speed", "colour", "line", NULL};

/* Raw field k of the table at t as a number; a Lua error naming where if
 * it is missing or not a number. */
static double raw_number(lua_State *L, int t, const char *k, const char *where) {
    lua_pushstring(L, k);
    int ty = lua_rawget(L, t);
    double v = lua_tonumber(L, -1);
    lua_pop(L, 1);
    if (ty != LUA_TNUMBER) luaL_error(L, "%s: field '%s' must be a number", where, k);
    return v;
}

static void raw_text(lua_State *L, int t, const char *k, char *out, size_t n, const char *where) {
    lua_pushstring(L, k);
    int ty = lua_rawget(L, t);
    size_t len = 0;
    const char *s = ty == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
    if (!s || len >= n)
        luaL_error(L, "%s: field '%s' must be a string (at most %d bytes)", where, k, (int)n - 1);
    memcpy(out, s, len + 1);
    lua_pop(L, 1);
}

/* Reads the entry table at t into e, checked alone; where names it. */
static void read_entry(lua_State *L, int t, SurfaceInfo *e, const char *where) {
    lua_pushnil(L);
    while (lua_next(L, t)) {
        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
        size_t i = 0;
        while (k && FIELDS[i] && strcmp(FIELDS[i], k) != 0) i++;
        if (!k || !FIELDS[i])
            luaL_error(L, "%s: unknown field '%s' (fields: name, grip, drag, top_speed, colour)",
                       where, k ? k : luaL_typename(L, -2));
        lua_pop(L, 1);
    }
    memset(e, 0, sizeof *e);
    raw_text(L, t, "name", e->name, sizeof e->name, where);
    e->grip = raw_number(L, t, "grip", where);
    e->drag = raw_number(L, t, "drag", where);
    e->top_speed = raw_number(L, t, "top_speed", where);
    raw_text(L, t, "colour", e->colour, sizeof e->colour, where);
    CrError err;
    if (surface_info_check(e, &err)) luaL_error(L, "%s: %s", where, err.msg);
}

/* The builtin surface{...}: checks one entry where it is written, so a
 * mistake is reported with its file and line, and returns it with the
 * line for the table's own checks. */
static int lua_surface(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    SurfaceInfo e;
    /* luaL_error prefixes the caller's file:line: (level 1, the line
     * written surface { ... }), so the name alone goes in here. */
    read_entry(L, 1, &e, "surface");
    lua_Debug ar;
    int line = lua_getstack(L, 1, &ar) && lua_getinfo(L, "l", &ar) ? ar.currentline : 0;
    lua_createtable(L, 0, 6);
    lua_pushstring(L, e.name);
    lua_setfield(L, -2, "name");
    lua_pushnumber(L, e.grip);
    lua_setfield(L, -2, "grip");
    lua_pushnumber(L, e.drag);
    lua_setfield(L, -2, "drag");
    lua_pushnumber(L, e.top_speed);
    lua_setfield(L, -2, "top_speed");
    lua_pushstring(L, e.colour);
    lua_setfield(L, -2, "colour");
    lua_pushinteger(L, line);
    lua_setfield(L, -2, "line");
    return 1;
}

typedef struct {
    SurfaceTable *out;
} Reader;

/* Argument: what surfaces.lua returned. */
static int read_module(lua_State *L) {
    Reader *r = lua_touserdata(L, 2);
    if (!lua_istable(L, 1))
        return luaL_error(L, FILE_NAME ": must return a list of surfaces, not a %s",
                          luaL_typename(L, 1));
    size_t n = lua_rawlen(L, 1);
    if (n < 2 || n > SURFACE_MAX)
        return luaL_error(L, FILE_NAME ": %d surfaces; a table has 2 to %d (the verge included)",
                          (int)n, SURFACE_MAX);
    SurfaceInfo e[SURFACE_MAX];
    int line[SURFACE_MAX];
    for (size_t i = 0; i < n; i++) {
        char where[120];
        snprintf(where, sizeof where, FILE_NAME ": surface %d", (int)i + 1);
        if (lua_rawgeti(L, 1, (lua_Integer)i + 1) != LUA_TTABLE)
            return luaL_error(L, "%s must be a table {name=, grip=, drag=, top_speed=, colour=}",
                              where);
        read_entry(L, lua_gettop(L), &e[i], where);
        lua_pushliteral(L, "line");
        line[i] = lua_rawget(L, -2) == LUA_TNUMBER ? (int)lua_tointeger(L, -1) : 0;
        lua_pop(L, 2);
    }
    CrError err;
    if (surface_table_init(r->out, e, n, &err)) {
        /* "surface K ..." names the entry; point at its line when known. */
        int k = 0;
        if (sscanf(err.msg, "surface %d", &k) == 1 && k >= 1 && k <= (int)n && line[k - 1])
            return luaL_error(L, FILE_NAME ":%d: %s", line[k - 1], err.msg);
        return luaL_error(L, FILE_NAME ": %s", err.msg);
    }
    return 0;
}

int surfaces_load(Scripts *sc, CrError *err) {
    sc->surfaces = *surface_table_default();
    if (!snapshot_file(sc, FILE_NAME)) return CR_OK;
    LuaHost *h = NULL;
    int rc = lhost_create(LHOST_DEFAULT_MEMORY, LHOST_DEFAULT_BUDGET, &h, err);
    if (rc) return rc;
    lua_pushcfunction(lhost_state(h), lua_surface);
    lhost_add_builtin(h, "surface");
    if (!(rc = snapshot_run(sc, h, FILE_NAME, err))) {
        Reader r = {&sc->surfaces};
        rc = lhost_protect(h, read_module, &r, 1, 0, err);
    }
    lhost_destroy(h);
    return rc;
}

const SurfaceTable *scripts_surfaces(const Scripts *sc) {
    return &sc->surfaces;
}
