/*
 * config.c - settings from config.lua, then CODERALLY_<KEY> environment
 * variables, then --set overrides; each override parses as the type of the
 * default, and what the engine fixes or bounds is checked whatever the
 * source.
 */
#include <errno.h>
#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua/scripts_internal.h"

#define fail scripts_fail

static ConfigEntry *config_find(const Scripts *sc, const char *key) {
    for (size_t i = 0; i < sc->ncfg; i++)
        if (strcmp(sc->cfg[i].key, key) == 0) return &sc->cfg[i];
    return NULL;
}

/* Parses text as the type the key already has. */
static int config_set(ConfigEntry *e, const char *text, const char *source, CrError *err) {
    if (e->type == LUA_TNUMBER) {
        char *end;
        errno = 0;
        double v = strtod(text, &end);
        if (errno || end == text || *end || !isfinite(v))
            return fail(err, CR_EINVAL, "%s: %s must be a number, not '%s'", source, e->key, text);
        e->num = v;
    } else if (e->type == LUA_TBOOLEAN) {
        if (!strcmp(text, "true") || !strcmp(text, "1"))
            e->num = 1;
        else if (!strcmp(text, "false") || !strcmp(text, "0"))
            e->num = 0;
        else
            return fail(err, CR_EINVAL, "%s: %s must be true or false, not '%s'", source, e->key,
                        text);
    } else {
        char *s = strdup(text);
        if (!s) return CR_ENOMEM;
        free(e->str);
        e->str = s;
    }
    return CR_OK;
}

/* What the engine fixes or bounds, checked whatever the source. */
static int config_check(const Scripts *sc, CrError *err) {
    static const struct {
        const char *key;
        double lo, hi;
    } bounds[] = {
        {"TICK_RATE", CR_TICK_RATE, CR_TICK_RATE},
        {"BOT_TICK_RATE", CR_TICK_RATE / CR_BOT_TICK_EVERY, CR_TICK_RATE / CR_BOT_TICK_EVERY},
        {"STAGE_MIN_LENGTH", 200, 20000},
        {"STAGE_MAX_LENGTH", 200, 20000},
        {"PORT", 1, 65535},
        {"MAX_CONCURRENT_PLAYERS", 1, CR_MAX_CARS},
        {"BOT_MEMORY_LIMIT_MB", 8, 4096},
        {"BOT_EXECUTION_TIMEOUT_MS", 1, 1000},
    };
    for (size_t i = 0; i < sizeof bounds / sizeof bounds[0]; i++) {
        const ConfigEntry *e = config_find(sc, bounds[i].key);
        if (!e) return fail(err, CR_EINVAL, "config.lua: setting %s is missing", bounds[i].key);
        if (e->type != LUA_TNUMBER)
            return fail(err, CR_EINVAL, "config: %s must be a number", bounds[i].key);
        if (e->num < bounds[i].lo || e->num > bounds[i].hi) {
            if (bounds[i].lo == bounds[i].hi)
                return fail(err, CR_EINVAL, "config: %s is fixed at %g by the engine, not %g",
                            bounds[i].key, bounds[i].lo, e->num);
            return fail(err, CR_EINVAL, "config: %s = %g is outside %g..%g", bounds[i].key, e->num,
                        bounds[i].lo, bounds[i].hi);
        }
    }
    /* Settings a scripts folder may leave out (the server has defaults),
     * bounded when given. */
    static const struct {
        const char *key;
        double lo, hi;
    } optional[] = {
        {"EMPTY_ROOM_TIMEOUT_S", 1, 86400},
        {"MAX_OPEN_ROOMS_PER_USER", 1, 256},
    };
    for (size_t i = 0; i < sizeof optional / sizeof optional[0]; i++) {
        const ConfigEntry *e = config_find(sc, optional[i].key);
        if (!e) continue;
        if (e->type != LUA_TNUMBER || e->num < optional[i].lo || e->num > optional[i].hi ||
            e->num != floor(e->num))
            return fail(err, CR_EINVAL, "config: %s must be a whole number %g..%g", optional[i].key,
                        optional[i].lo, optional[i].hi);
    }
    if (config_find(sc, "STAGE_MIN_LENGTH")->num > config_find(sc, "STAGE_MAX_LENGTH")->num)
        return fail(err, CR_EINVAL, "config: STAGE_MIN_LENGTH is above STAGE_MAX_LENGTH");
    return CR_OK;
}

/* Arguments: what config.lua returned, the Scripts. Raw reads only; the
 * entries go straight into sc so a Lua error leaks nothing. */
static int read_config(lua_State *L) {
    Scripts *sc = lua_touserdata(L, 2);
    if (!lua_istable(L, 1)) return luaL_error(L, "config.lua: must return a table of settings");
    size_t cap = 0;
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
        int t = lua_type(L, -1);
        if (!k || strlen(k) >= sizeof sc->cfg[0].key ||
            (t != LUA_TNUMBER && t != LUA_TSTRING && t != LUA_TBOOLEAN))
            return luaL_error(L,
                              "config.lua: settings are NAME = number, string or boolean (bad "
                              "entry %s)",
                              k ? k : "(not a string key)");
        if (t == LUA_TNUMBER && !isfinite(lua_tonumber(L, -1)))
            return luaL_error(L, "config.lua: %s must be a finite number", k);
        if (sc->ncfg == cap) {
            cap = cap ? cap * 2 : 16;
            ConfigEntry *n = realloc(sc->cfg, cap * sizeof *n);
            if (!n) return luaL_error(L, "out of memory");
            sc->cfg = n;
        }
        ConfigEntry *e = &sc->cfg[sc->ncfg];
        memset(e, 0, sizeof *e);
        strcpy(e->key, k);
        e->type = t;
        if (t == LUA_TNUMBER)
            e->num = lua_tonumber(L, -1);
        else if (t == LUA_TBOOLEAN)
            e->num = lua_toboolean(L, -1);
        else if (!(e->str = strdup(lua_tostring(L, -1))))
            return luaL_error(L, "out of memory");
        sc->ncfg++;
        lua_pop(L, 1);
    }
    return 0;
}

int config_load(Scripts *sc, CrError *err) {
    int rc = snapshot_run(sc, sc->host, "config.lua", err);
    if (rc) return rc;
    if ((rc = lhost_protect(sc->host, read_config, sc, 1, 0, err))) return rc;
    for (size_t i = 0; i < sc->ncfg; i++) {
        char name[80];
        snprintf(name, sizeof name, "CODERALLY_%s", sc->cfg[i].key);
        const char *v = getenv(name);
        if (v && (rc = config_set(&sc->cfg[i], v, name, err))) return rc;
    }
    for (size_t i = 0; i < sc->nov; i++) {
        ConfigEntry *e = config_find(sc, sc->ov[i].key);
        if (!e)
            return fail(err, CR_ENOTFOUND, "unknown setting '%s' (see config.lua)", sc->ov[i].key);
        if ((rc = config_set(e, sc->ov[i].value, "--set", err))) return rc;
    }
    return config_check(sc, err);
}

void config_free(Scripts *sc) {
    for (size_t i = 0; i < sc->ncfg; i++) free(sc->cfg[i].str);
    free(sc->cfg);
}

int scripts_config_number(const Scripts *sc, const char *key, double *out) {
    const ConfigEntry *e = config_find(sc, key);
    if (!e) return CR_ENOTFOUND;
    if (e->type == LUA_TSTRING) return CR_EINVAL;
    *out = e->num;
    return CR_OK;
}

int scripts_config_string(const Scripts *sc, const char *key, const char **out) {
    const ConfigEntry *e = config_find(sc, key);
    if (!e) return CR_ENOTFOUND;
    if (e->type != LUA_TSTRING) return CR_EINVAL;
    *out = e->str;
    return CR_OK;
}

StageLimits scripts_stage_limits(const Scripts *sc) {
    StageLimits l = {1000, 3000};
    scripts_config_number(sc, "STAGE_MIN_LENGTH", &l.min_length);
    scripts_config_number(sc, "STAGE_MAX_LENGTH", &l.max_length);
    return l;
}
