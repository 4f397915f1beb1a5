/*
 * scripts.c - a scripts directory: settings from config.lua (overridden by
 * the environment and flags), car types and upgrades from upgrades.lua, and
 * the stage generators found in stages/. Generation runs each time in a fresh
 * throwaway state that sees nothing of the game.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua/scripts_internal.h"
#include "stage/stage_internal.h"

#define fail scripts_fail

int scripts_fail(CrError *err, int rc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return rc;
}

bool scripts_valid_name(const char *name) {
    size_t n = strlen(name);
    if (n == 0 || n >= CR_NAME_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)name[i]) || isdigit((unsigned char)name[i]) ||
              name[i] == '_' || name[i] == '-'))
            return false;
    return true;
}

int scripts_path(const Scripts *sc, const char *sub, const char *name, char *out, size_t n) {
    int w = sub ? snprintf(out, n, "%s/%s/%s", sc->dir, sub, name)
                : snprintf(out, n, "%s/%s", sc->dir, name);
    return w < 0 || (size_t)w >= n ? CR_EINVAL : CR_OK;
}

const char *scripts_dir(const Scripts *sc) {
    return sc->dir;
}

/* ---- config ------------------------------------------------------------- */

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
    if (config_find(sc, "STAGE_MIN_LENGTH")->num > config_find(sc, "STAGE_MAX_LENGTH")->num)
        return fail(err, CR_EINVAL, "config: STAGE_MIN_LENGTH is above STAGE_MAX_LENGTH");
    return CR_OK;
}

static int load_config(Scripts *sc, const ConfigOverride *ov, size_t nov, CrError *err) {
    char path[1024];
    if (scripts_path(sc, NULL, "config.lua", path, sizeof path)) return CR_EINVAL;
    lua_State *L = lhost_state(sc->host);
    int rc = lhost_run_file(sc->host, path, err);
    if (rc) return rc;
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        return fail(err, CR_ESCRIPT, "%s: must return a table of settings", path);
    }
    size_t cap = 0;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
        int t = lua_type(L, -1);
        if (!k || strlen(k) >= sizeof sc->cfg[0].key ||
            (t != LUA_TNUMBER && t != LUA_TSTRING && t != LUA_TBOOLEAN)) {
            lua_pop(L, 2);
            return fail(err, CR_ESCRIPT,
                        "%s: settings are NAME = number, string or boolean (bad entry %s)", path,
                        k ? k : "(not a string key)");
        }
        if (sc->ncfg == cap) {
            cap = cap ? cap * 2 : 16;
            ConfigEntry *n = realloc(sc->cfg, cap * sizeof *n);
            if (!n) {
                lua_pop(L, 2);
                return CR_ENOMEM;
            }
            sc->cfg = n;
        }
        ConfigEntry *e = &sc->cfg[sc->ncfg++];
        memset(e, 0, sizeof *e);
        strcpy(e->key, k);
        e->type = t;
        if (t == LUA_TNUMBER)
            e->num = lua_tonumber(L, -1);
        else if (t == LUA_TBOOLEAN)
            e->num = lua_toboolean(L, -1);
        else if (!(e->str = strdup(lua_tostring(L, -1)))) {
            lua_pop(L, 2);
            return CR_ENOMEM;
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    for (size_t i = 0; i < sc->ncfg; i++) {
        char name[80];
        snprintf(name, sizeof name, "CODERALLY_%s", sc->cfg[i].key);
        const char *v = getenv(name);
        if (v && (rc = config_set(&sc->cfg[i], v, name, err))) return rc;
    }
    for (size_t i = 0; i < nov; i++) {
        ConfigEntry *e = config_find(sc, ov[i].key);
        if (!e) return fail(err, CR_ENOTFOUND, "unknown setting '%s' (see %s)", ov[i].key, path);
        if ((rc = config_set(e, ov[i].value, "--set", err))) return rc;
    }
    return config_check(sc, err);
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

/* ---- the `rally` builtin and import() ------------------------------------ */

/* import(name): the shared module scripts/lib/NAME.lua, run once per state
 * in its own _ENV and frozen, so several generators can share a route kit
 * without copying it. Upvalue 1 is the scripts directory. */
static int lua_import(lua_State *L) {
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
    int t = lua_getfield(L, cache, name);
    if (t == LUA_TBOOLEAN) return luaL_error(L, "import: '%s' imports itself", name);
    if (t == LUA_TTABLE) {
        lua_rawgeti(L, -1, 1);
        return 1;
    }
    lua_pop(L, 1);
    lua_pushboolean(L, 0);
    lua_setfield(L, cache, name);
    char path[1200];
    snprintf(path, sizeof path, "%s/lib/%s.lua", lua_tostring(L, lua_upvalueindex(1)), name);
    lhost_push_chunk(L, path);
    /* Protected, so a failed load is forgotten (and can be retried) rather
     * than left looking like a cycle; the error then goes on up. */
    if (lua_pcall(L, 0, 1, 0) != LUA_OK) {
        lua_pushnil(L);
        lua_setfield(L, cache, name);
        return lua_error(L);
    }
    if (lua_type(L, -1) == LUA_TTABLE) {
        lhost_push_frozen(L, -1);
        lua_remove(L, -2);
    }
    lua_createtable(L, 1, 0);
    lua_pushvalue(L, -2);
    lua_rawseti(L, -2, 1);
    lua_setfield(L, cache, name);
    return 1;
}

int scripts_new_host(const Scripts *sc, LuaHost **out, CrError *err) {
    int rc = lhost_create(LHOST_DEFAULT_MEMORY, LHOST_DEFAULT_BUDGET, out, err);
    if (rc) return rc;
    lua_State *L = lhost_state(*out);
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
    for (int s = 0; s < SURFACE_OFFROAD; s++) {
        lua_pushstring(L, surface_name((Surface)s));
        lua_rawseti(L, -2, s + 1);
    }
    lua_setfield(L, -2, "surfaces");
    lhost_add_builtin(*out, "rally");
    lua_pushstring(L, sc->dir);
    lua_pushcclosure(L, lua_import, 1);
    lhost_add_builtin(*out, "import");
    return CR_OK;
}

/* ---- generators --------------------------------------------------------- */

static int cmp_gen(const void *a, const void *b) {
    return strcmp(((const GenEntry *)a)->info.name, ((const GenEntry *)b)->info.name);
}

/* Reads field k of the table on top as a string into out; missing is ok
 * when optional. */
static int get_string_field(lua_State *L, const char *k, char *out, size_t n, bool optional,
                            const char *file, CrError *err) {
    int t = lua_getfield(L, -1, k);
    if (t == LUA_TNIL && optional) {
        lua_pop(L, 1);
        return CR_OK;
    }
    if (t != LUA_TSTRING && t != LUA_TNUMBER) {
        lua_pop(L, 1);
        return fail(err, CR_ESCRIPT, "%s: field '%s' must be a string", file, k);
    }
    snprintf(out, n, "%s", lua_tostring(L, -1));
    lua_pop(L, 1);
    return CR_OK;
}

/* Checks a generator table on top of the stack: name, version, generate,
 * and params declared as {default=, min=, max=, description=}. */
static int check_generator(lua_State *L, GeneratorInfo *gi, CrError *err) {
    const char *file = gi->file;
    if (!lua_istable(L, -1))
        return fail(err, CR_ESCRIPT, "%s: a generator must return a table", file);
    char name[CR_NAME_MAX] = "";
    int rc = get_string_field(L, "name", name, sizeof name, false, file, err);
    if (!rc) rc = get_string_field(L, "version", gi->version, sizeof gi->version, false, file, err);
    if (!rc)
        rc = get_string_field(L, "description", gi->description, sizeof gi->description, true, file,
                              err);
    if (rc) return rc;
    if (strcmp(name, gi->name) != 0)
        return fail(err, CR_ESCRIPT, "%s: name '%s' must match the file name '%s'", file, name,
                    gi->name);
    if (lua_getfield(L, -1, "generate") != LUA_TFUNCTION) {
        lua_pop(L, 1);
        return fail(err, CR_ESCRIPT, "%s: field 'generate' must be a function", file);
    }
    lua_pop(L, 1);
    int t = lua_getfield(L, -1, "params");
    if (t != LUA_TNIL && t != LUA_TTABLE) {
        lua_pop(L, 1);
        return fail(err, CR_ESCRIPT, "%s: field 'params' must be a table", file);
    }
    if (t == LUA_TTABLE) {
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            const char *pk = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
            double v[3];
            static const char *const f[3] = {"default", "min", "max"};
            bool ok = lua_istable(L, -1);
            for (int i = 0; ok && i < 3; i++) {
                ok = lua_getfield(L, -1, f[i]) == LUA_TNUMBER;
                v[i] = lua_tonumber(L, -1);
                lua_pop(L, 1);
            }
            if (!ok || !(v[1] <= v[0] && v[0] <= v[2])) {
                lua_pop(L, 3);
                return fail(err, CR_ESCRIPT,
                            "%s: param '%s' must be {default=, min=, max=} numbers with "
                            "min <= default <= max",
                            file, pk);
            }
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    return CR_OK;
}

/* Loads one generator file in a throwaway state just to read its header. */
static int probe_generator(Scripts *sc, GenEntry *g) {
    CrError err = {{0}};
    LuaHost *h = NULL;
    int rc = scripts_new_host(sc, &h, &err);
    if (!rc) rc = lhost_run_file(h, g->info.file, &err);
    if (!rc) {
        rc = check_generator(lhost_state(h), &g->info, &err);
        lua_pop(lhost_state(h), 1);
    }
    lhost_destroy(h);
    if (rc && !(g->error = strdup(err.msg))) return CR_ENOMEM;
    return CR_OK;
}

static int scan_generators(Scripts *sc, CrError *err) {
    char dirpath[1024];
    if (scripts_path(sc, NULL, "stages", dirpath, sizeof dirpath)) return CR_EINVAL;
    DIR *d = opendir(dirpath);
    if (!d) return fail(err, CR_ENOTFOUND, "%s: %s", dirpath, strerror(errno));
    size_t cap = 0;
    int rc = CR_OK;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 4, ".lua") != 0) continue;
        char name[CR_NAME_MAX * 2];
        snprintf(name, sizeof name, "%.*s", (int)(n - 4), e->d_name);
        if (!scripts_valid_name(name)) {
            rc = fail(err, CR_ESCRIPT,
                      "%s/%s: generator file names are 1-31 characters of a-z, 0-9, _ and -",
                      dirpath, e->d_name);
            break;
        }
        if (sc->ngens == cap) {
            cap = cap ? cap * 2 : 8;
            GenEntry *ng = realloc(sc->gens, cap * sizeof *ng);
            if (!ng) {
                rc = CR_ENOMEM;
                break;
            }
            sc->gens = ng;
        }
        GenEntry *g = &sc->gens[sc->ngens++];
        memset(g, 0, sizeof *g);
        memcpy(g->info.name, name, strlen(name) + 1); /* valid names fit */
        int w = snprintf(g->info.file, sizeof g->info.file, "%s/%s", dirpath, e->d_name);
        if (w < 0 || (size_t)w >= sizeof g->info.file) {
            rc = fail(err, CR_EINVAL, "%s/%s: path too long", dirpath, e->d_name);
            break;
        }
        if ((rc = probe_generator(sc, g))) break;
    }
    closedir(d);
    if (rc) return rc;
    if (sc->ngens) qsort(sc->gens, sc->ngens, sizeof *sc->gens, cmp_gen);
    return CR_OK;
}

size_t scripts_generator_count(const Scripts *sc) {
    return sc->ngens;
}

const GeneratorInfo *scripts_generator(const Scripts *sc, size_t i) {
    return i < sc->ngens ? &sc->gens[i].info : NULL;
}

const char *scripts_generator_error(const Scripts *sc, size_t i) {
    return i < sc->ngens ? sc->gens[i].error : NULL;
}

static const GenEntry *find_gen(const Scripts *sc, const char *name, CrError *err) {
    for (size_t i = 0; i < sc->ngens; i++)
        if (strcmp(sc->gens[i].info.name, name) == 0) return &sc->gens[i];
    char known[512] = "";
    for (size_t i = 0; i < sc->ngens; i++) {
        size_t l = strlen(known);
        snprintf(known + l, sizeof known - l, "%s%s", i ? ", " : "", sc->gens[i].info.name);
    }
    fail(err, CR_ENOTFOUND, "no stage generator '%s' in %s/stages (known: %s)", name, sc->dir,
         sc->ngens ? known : "none");
    return NULL;
}

int scripts_find_generator(const Scripts *sc, const char *name, const GeneratorInfo **out,
                           CrError *err) {
    const GenEntry *g = find_gen(sc, name, err);
    if (!g) return CR_ENOTFOUND;
    *out = &g->info;
    return CR_OK;
}

/* Builds the params table for generate(): declared defaults, then the
 * overrides, each a known name with a number inside min..max. The
 * generator table is at gen_idx. Pushes the table. */
static int push_params(lua_State *L, int gen_idx, const GeneratorInfo *gi,
                       const ConfigOverride *params, size_t n, CrError *err) {
    lua_newtable(L);
    int out = lua_gettop(L);
    int has = lua_getfield(L, gen_idx, "params") == LUA_TTABLE;
    if (has) {
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            lua_getfield(L, -1, "default");
            lua_pushvalue(L, -3);
            lua_insert(L, -2);
            lua_rawset(L, out);
            lua_pop(L, 1);
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (!has || lua_getfield(L, -1, params[i].key) != LUA_TTABLE) {
            lua_pop(L, has ? 3 : 2);
            return fail(err, CR_EINVAL, "generator '%s' has no parameter '%s' (see %s)", gi->name,
                        params[i].key, gi->file);
        }
        char *end;
        double v = strtod(params[i].value, &end);
        lua_getfield(L, -1, "min");
        lua_getfield(L, -2, "max");
        double lo = lua_tonumber(L, -2), hi = lua_tonumber(L, -1);
        lua_pop(L, 3);
        if (end == params[i].value || *end || !(v >= lo && v <= hi)) {
            lua_pop(L, 2);
            return fail(err, CR_EINVAL,
                        "generator '%s': parameter %s = '%s' must be a number in "
                        "%g..%g",
                        gi->name, params[i].key, params[i].value, lo, hi);
        }
        lua_pushnumber(L, v);
        lua_setfield(L, out, params[i].key);
    }
    lua_pop(L, 1);
    return CR_OK;
}

/* Reads field k of the table on top as a number. */
static bool num_field(lua_State *L, const char *k, double *out) {
    int t = lua_getfield(L, -1, k);
    *out = lua_tonumber(L, -1);
    lua_pop(L, 1);
    return t == LUA_TNUMBER;
}

/* Converts the stage table on top of the stack into desc; every malformed
 * entry is named. Arrays are allocated into *pts and *cps. */
static int read_stage(lua_State *L, const char *where, StagePoint **pts, uint32_t **cps,
                      StageDesc *desc, CrError *err) {
    if (!lua_istable(L, -1))
        return fail(err, CR_ESTAGE, "%s: generate must return a stage table, not a %s", where,
                    luaL_typename(L, -1));
    if (lua_getfield(L, -1, "points") != LUA_TTABLE) {
        lua_pop(L, 1);
        return fail(err, CR_ESTAGE, "%s: stage.points must be a list of points", where);
    }
    size_t n = lua_rawlen(L, -1);
    if (n < 2 || n > STAGE_MAX_POINTS) {
        lua_pop(L, 1);
        return fail(err, CR_ESTAGE, "%s: a stage needs 2 to %d points, not %zu", where,
                    STAGE_MAX_POINTS, n);
    }
    *pts = malloc(n * sizeof **pts);
    if (!*pts) {
        lua_pop(L, 1);
        return CR_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        if (lua_rawgeti(L, -1, (lua_Integer)i + 1) != LUA_TTABLE) {
            lua_pop(L, 2);
            return fail(err, CR_ESTAGE, "%s: point %zu must be a table {x=, y=, width=, surface=}",
                        where, i + 1);
        }
        StagePoint *p = &(*pts)[i];
        static const char *const names[] = {"x", "y", "width"};
        double *dst[] = {&p->x, &p->y, &p->width};
        for (int k = 0; k < 3; k++) {
            if (!num_field(L, names[k], dst[k])) {
                lua_pop(L, 2);
                return fail(err, CR_ESTAGE, "%s: point %zu: field '%s' must be a number", where,
                            i + 1, names[k]);
            }
        }
        int t = lua_getfield(L, -1, "surface");
        const char *s = t == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        if (!s || surface_parse(s, &p->surface)) {
            char got[64];
            snprintf(got, sizeof got, "%s", s ? s : luaL_typename(L, -1));
            lua_pop(L, 3);
            return fail(err, CR_ESTAGE,
                        "%s: point %zu at (%.1f, %.1f): unknown surface '%s' (known: asphalt, "
                        "gravel, ice)",
                        where, i + 1, p->x, p->y, got);
        }
        lua_pop(L, 2);
    }
    lua_pop(L, 1);
    desc->points = *pts;
    desc->n_points = n;
    if (lua_getfield(L, -1, "checkpoints") != LUA_TTABLE) {
        lua_pop(L, 1);
        return fail(err, CR_ESTAGE, "%s: stage.checkpoints must be a list of point indices", where);
    }
    size_t m = lua_rawlen(L, -1);
    if (m > STAGE_MAX_CHECKPOINTS) {
        lua_pop(L, 1);
        return fail(err, CR_ESTAGE, "%s: at most %d checkpoints, not %zu", where,
                    STAGE_MAX_CHECKPOINTS, m);
    }
    *cps = malloc((m ? m : 1) * sizeof **cps);
    if (!*cps) {
        lua_pop(L, 1);
        return CR_ENOMEM;
    }
    for (size_t i = 0; i < m; i++) {
        lua_rawgeti(L, -1, (lua_Integer)i + 1);
        int ok;
        lua_Integer v = lua_tointegerx(L, -1, &ok);
        lua_pop(L, 1);
        if (!ok || v < 1 || (size_t)v > n) {
            lua_pop(L, 1);
            return fail(err, CR_ESTAGE, "%s: checkpoint %zu must be a point index 1..%zu", where,
                        i + 1, n);
        }
        (*cps)[i] = (uint32_t)(v - 1);
    }
    lua_pop(L, 1);
    desc->checkpoints = *cps;
    desc->n_checkpoints = m;
    return CR_OK;
}

static int cmp_override(const void *a, const void *b) {
    return strcmp(((const ConfigOverride *)a)->key, ((const ConfigOverride *)b)->key);
}

/* The cache key: generator, version, seed and the overrides sorted by name
 * with their numbers normalised (so "14" and "14.0" are one stage). 0, or -1
 * if it does not fit (then the stage is not cached). */
static int cache_key(const GeneratorInfo *gi, uint64_t seed, const ConfigOverride *params, size_t n,
                     char *key, size_t cap) {
    ConfigOverride sorted[64];
    if (n > 64) return -1;
    if (n) {
        memcpy(sorted, params, n * sizeof *params);
        qsort(sorted, n, sizeof *sorted, cmp_override);
    }
    int w = snprintf(key, cap, "%s\x1f%s\x1f%llu", gi->name, gi->version, (unsigned long long)seed);
    for (size_t i = 0; i < n && w >= 0 && (size_t)w < cap; i++)
        w += snprintf(key + w, cap - (size_t)w, "\x1f%s=%.17g", sorted[i].key,
                      strtod(sorted[i].value, NULL));
    return w < 0 || (size_t)w >= cap ? -1 : 0;
}

static int generate(Scripts *sc, const GenEntry *g, uint64_t seed, const ConfigOverride *params,
                    size_t n_params, Stage **out, CrError *err);

int scripts_generate_stage(Scripts *sc, const char *name, uint64_t seed,
                           const ConfigOverride *params, size_t n_params, Stage **out,
                           CrError *err) {
    *out = NULL;
    const GenEntry *g = find_gen(sc, name, err);
    if (!g) return CR_ENOTFOUND;
    if (g->error) return fail(err, CR_ESCRIPT, "%s", g->error);
    char key[sizeof sc->cache[0].key];
    bool cacheable = cache_key(&g->info, seed, params, n_params, key, sizeof key) == 0;
    CachedStage *slot = &sc->cache[0];
    for (int i = 0; cacheable && i < STAGE_CACHE; i++) {
        CachedStage *c = &sc->cache[i];
        if (c->stage && strcmp(c->key, key) == 0) {
            c->used = ++sc->clock;
            *out = stage_ref(c->stage);
            return CR_OK;
        }
        if (c->used < slot->used) slot = c;
    }
    int rc = generate(sc, g, seed, params, n_params, out, err);
    if (rc || !cacheable) return rc;
    stage_destroy(slot->stage);
    snprintf(slot->key, sizeof slot->key, "%s", key);
    slot->stage = stage_ref(*out);
    slot->used = ++sc->clock;
    return CR_OK;
}

static int generate(Scripts *sc, const GenEntry *g, uint64_t seed, const ConfigOverride *params,
                    size_t n_params, Stage **out, CrError *err) {
    LuaHost *h = NULL;
    StagePoint *pts = NULL;
    uint32_t *cps = NULL;
    int rc = scripts_new_host(sc, &h, err);
    if (rc) return rc;
    lua_State *L = lhost_state(h);
    if ((rc = lhost_run_file(h, g->info.file, err))) goto out;
    GeneratorInfo info = g->info;
    if ((rc = check_generator(L, &info, err))) goto out;
    if (strcmp(info.version, g->info.version) != 0) {
        rc = fail(err, CR_ESCRIPT, "%s changed while loading", g->info.file);
        goto out;
    }
    int gen = lua_gettop(L);
    lua_getfield(L, gen, "generate");
    lua_Debug ar;
    lua_pushvalue(L, -1);
    lua_getinfo(L, ">S", &ar);
    char where[700];
    snprintf(where, sizeof where, "%s:%d: generate(seed=%llu)", g->info.file, ar.linedefined,
             (unsigned long long)seed);
    lua_pushinteger(L, (lua_Integer)seed);
    if ((rc = push_params(L, gen, &g->info, params, n_params, err))) {
        lua_pop(L, 2);
        goto out;
    }
    if ((rc = lhost_call(h, 2, 1, err))) goto out;
    StageDesc desc = {0};
    rc = read_stage(L, where, &pts, &cps, &desc, err);
    if (!rc) {
        StageLimits lim = scripts_stage_limits(sc);
        CrError e2;
        rc = stage_compile(&desc, &lim, out, &e2);
        if (rc == CR_ESTAGE)
            fail(err, rc, "%s returned an invalid stage: %s", where, e2.msg);
        else if (rc)
            fail(err, rc, "%s", e2.msg);
    }
out:
    free(pts);
    free(cps);
    lhost_destroy(h);
    return rc;
}

/* ---- open/close --------------------------------------------------------- */

int scripts_open(const char *dir, const ConfigOverride *overrides, size_t n_overrides,
                 Scripts **out, CrError *err) {
    *out = NULL;
    Scripts *sc = calloc(1, sizeof *sc);
    if (!sc) return CR_ENOMEM;
    int rc = CR_ENOMEM;
    if (!(sc->dir = strdup(dir))) goto fail;
    /* Config first, in a plain host: rally.limits comes from it. */
    if ((rc = lhost_create(LHOST_DEFAULT_MEMORY, LHOST_DEFAULT_BUDGET, &sc->host, err))) goto fail;
    if ((rc = load_config(sc, overrides, n_overrides, err))) goto fail;
    lhost_destroy(sc->host);
    sc->host = NULL;
    if ((rc = scripts_new_host(sc, &sc->host, err))) goto fail;
    if ((rc = upgrades_load(sc, err))) goto fail;
    if ((rc = scan_generators(sc, err))) goto fail;
    *out = sc;
    return CR_OK;
fail:
    if (rc == CR_ENOMEM) snprintf(err->msg, sizeof err->msg, "out of memory loading %s", dir);
    scripts_close(sc);
    return rc;
}

void scripts_close(Scripts *sc) {
    if (!sc) return;
    for (int i = 0; i < STAGE_CACHE; i++) stage_destroy(sc->cache[i].stage);
    lhost_destroy(sc->host);
    for (size_t i = 0; i < sc->ncfg; i++) free(sc->cfg[i].str);
    free(sc->cfg);
    for (size_t i = 0; i < sc->ngens; i++) free(sc->gens[i].error);
    free(sc->gens);
    upgrades_free(sc);
    free(sc->dir);
    free(sc);
}
