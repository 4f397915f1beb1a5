/*
 * generators.c - the stage generators of a snapshot (stages/NAME.lua): their
 * headers (name, version, description, params), loaded lazily; generation in
 * a fresh throwaway state that sees nothing of the game; the stage read back
 * raw and validated; a small cache of compiled stages.
 */
#include <errno.h>
#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua/scripts_internal.h"
#include "stage/stage_internal.h"

#define fail scripts_fail

static const LhostBudget GEN_BUDGET = {
    .call_instructions = GEN_INSTRUCTIONS, .call_ms = GEN_WATCHDOG_MS, .window_name = "window"};

/* ---- the listing -------------------------------------------------------- */

static int cmp_gen(const void *a, const void *b) {
    return strcmp(((const GenEntry *)a)->info.name, ((const GenEntry *)b)->info.name);
}

int generators_scan(Scripts *sc, CrError *err) {
    size_t cap = 0;
    for (size_t i = 0; i < sc->nfiles; i++) {
        const char *rel = sc->files[i].rel;
        if (strncmp(rel, "stages/", 7) != 0) continue;
        const char *base = rel + 7;
        size_t n = strlen(base);
        char name[CR_NAME_MAX * 2];
        snprintf(name, sizeof name, "%.*s", (int)(n - 4), base);
        if (!scripts_valid_name(name))
            return fail(err, CR_ESCRIPT,
                        "%s: generator file names are 1-31 characters of a-z, 0-9, _ and -", rel);
        if (sc->ngens == cap) {
            cap = cap ? cap * 2 : 8;
            GenEntry *ng = realloc(sc->gens, cap * sizeof *ng);
            if (!ng) return CR_ENOMEM;
            sc->gens = ng;
        }
        GenEntry *g = &sc->gens[sc->ngens++];
        memset(g, 0, sizeof *g);
        memcpy(g->info.name, name, strlen(name) + 1); /* valid names fit */
        snprintf(g->info.file, sizeof g->info.file, "%s", rel);
    }
    if (sc->ngens) qsort(sc->gens, sc->ngens, sizeof *sc->gens, cmp_gen);
    return CR_OK;
}

void generators_free(Scripts *sc) {
    for (size_t i = 0; i < sc->ngens; i++) free(sc->gens[i].error);
    free(sc->gens);
    for (int i = 0; i < STAGE_CACHE; i++) stage_destroy(sc->cache[i].stage);
}

/* ---- the generator table (read raw, inside lhost_protect) --------------- */

/* Raw field k of the table at t as a string (or a number, as version = 2)
 * into out; "" when absent and optional. */
static void raw_string(lua_State *L, int t, const char *k, char *out, size_t n, bool optional,
                       const char *file) {
    lua_pushstring(L, k);
    int ty = lua_rawget(L, t);
    if (ty == LUA_TNIL && optional) {
        out[0] = '\0';
    } else if (ty == LUA_TSTRING || ty == LUA_TNUMBER) {
        snprintf(out, n, "%s", lua_tostring(L, -1));
    } else {
        luaL_error(L, "%s: field '%s' must be a string, not %s", file, k,
                   ty == LUA_TNIL ? "missing" : lua_typename(L, ty));
    }
    lua_pop(L, 1);
}

static double raw_number(lua_State *L, int t, const char *k, bool *ok) {
    lua_pushstring(L, k);
    *ok = lua_rawget(L, t) == LUA_TNUMBER;
    double v = lua_tonumber(L, -1);
    lua_pop(L, 1);
    return v;
}

/* Every key of the table at t is one of known (NULL-terminated). */
static void only_known(lua_State *L, int t, const char *const *known, const char *what,
                       const char *file) {
    lua_pushnil(L);
    while (lua_next(L, t)) {
        lua_pop(L, 1);
        const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        bool found = false;
        for (const char *const *p = known; k && *p && !found; p++) found = strcmp(k, *p) == 0;
        if (!found) {
            char list[256] = "";
            for (const char *const *p = known; *p; p++) {
                size_t l = strlen(list);
                snprintf(list + l, sizeof list - l, "%s%s", p == known ? "" : ", ", *p);
            }
            luaL_error(L, "%s: unknown field '%s' in %s (known: %s)", file,
                       k ? k : luaL_typename(L, -1), what, list);
        }
    }
}

static int cmp_param(const void *a, const void *b) {
    return strcmp(((const GeneratorParam *)a)->name, ((const GeneratorParam *)b)->name);
}

/* Arguments: what the generator file returned, its GeneratorInfo (name and
 * file set). Checks name, version, generate and params, and fills info. */
static int read_header(lua_State *L) {
    GeneratorInfo *gi = lua_touserdata(L, 2);
    const char *file = gi->file;
    if (!lua_istable(L, 1))
        return luaL_error(L, "%s: a generator must return a table, not a %s", file,
                          luaL_typename(L, 1));
    static const char *const known[] = {"name",   "version",  "description",
                                        "params", "generate", NULL};
    only_known(L, 1, known, "the generator table", file);
    char name[CR_NAME_MAX];
    raw_string(L, 1, "name", name, sizeof name, false, file);
    raw_string(L, 1, "version", gi->version, sizeof gi->version, false, file);
    raw_string(L, 1, "description", gi->description, sizeof gi->description, true, file);
    if (strcmp(name, gi->name) != 0)
        return luaL_error(L, "%s: name '%s' must match the file name '%s'", file, name, gi->name);
    lua_pushliteral(L, "generate");
    if (lua_rawget(L, 1) != LUA_TFUNCTION)
        return luaL_error(L, "%s: field 'generate' must be a function", file);
    lua_pop(L, 1);
    lua_pushliteral(L, "params");
    int t = lua_rawget(L, 1);
    gi->n_params = 0;
    if (t != LUA_TNIL && t != LUA_TTABLE)
        return luaL_error(L, "%s: field 'params' must be a table", file);
    if (t == LUA_TTABLE) {
        int pt = lua_gettop(L);
        lua_pushnil(L);
        while (lua_next(L, pt)) {
            const char *pk = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
            if (!pk || !scripts_valid_name(pk))
                return luaL_error(L,
                                  "%s: parameter names are 1-31 characters of a-z, 0-9, _ "
                                  "and -",
                                  file);
            if (gi->n_params == CR_MAX_GEN_PARAMS)
                return luaL_error(L, "%s: at most %d parameters", file, CR_MAX_GEN_PARAMS);
            GeneratorParam *p = &gi->params[gi->n_params];
            memset(p, 0, sizeof *p);
            snprintf(p->name, sizeof p->name, "%s", pk);
            bool ok = lua_istable(L, -1), ok1 = false, ok2 = false, ok3 = false;
            if (ok) {
                int e = lua_gettop(L);
                static const char *const pknown[] = {"default", "min", "max", "description", NULL};
                char what[64];
                snprintf(what, sizeof what, "param '%s'", pk);
                only_known(L, e, pknown, what, file);
                p->def = raw_number(L, e, "default", &ok1);
                p->min = raw_number(L, e, "min", &ok2);
                p->max = raw_number(L, e, "max", &ok3);
                raw_string(L, e, "description", p->description, sizeof p->description, true, file);
            }
            if (!ok || !ok1 || !ok2 || !ok3 || !(p->min <= p->def && p->def <= p->max) ||
                !isfinite(p->min) || !isfinite(p->max))
                return luaL_error(L,
                                  "%s: param '%s' must be {default=, min=, max=} numbers with "
                                  "min <= default <= max",
                                  file, pk);
            gi->n_params++;
            lua_pop(L, 1);
        }
        qsort(gi->params, gi->n_params, sizeof *gi->params, cmp_param);
    }
    return 0;
}

/* Runs the generator's file from the snapshot in h and checks its header
 * into *gi; leaves the generator table on the stack on success. */
static int load_generator(const Scripts *sc, LuaHost *h, GeneratorInfo *gi, CrError *err) {
    int rc = snapshot_run(sc, h, gi->file, err);
    if (rc) return rc;
    lua_State *L = lhost_state(h);
    lua_pushvalue(L, -1);
    rc = lhost_protect(h, read_header, gi, 1, 0, err);
    if (rc) lua_pop(L, 1);
    return rc;
}

/* Loads generator g once, in a throwaway state, just for its header. */
static int probe(Scripts *sc, GenEntry *g) {
    if (g->probed) return CR_OK;
    CrError err = {{0}};
    LuaHost *h = NULL;
    int rc = scripts_new_host(sc, LHOST_DEFAULT_MEMORY, &GEN_BUDGET, &h, &err);
    if (!rc) rc = load_generator(sc, h, &g->info, &err);
    lhost_destroy(h);
    if (rc == CR_ENOMEM && !err.msg[0]) snprintf(err.msg, sizeof err.msg, "out of memory");
    if (rc && !(g->error = strdup(err.msg))) return CR_ENOMEM;
    g->probed = true;
    return CR_OK;
}

int generators_check_all(Scripts *sc, CrError *err) {
    for (size_t i = 0; i < sc->ngens; i++) {
        int rc = probe(sc, &sc->gens[i]);
        if (rc) return rc;
    }
    (void)err;
    return CR_OK;
}

size_t scripts_generator_count(const Scripts *sc) {
    return sc->ngens;
}

/* The listing's getters load lazily, so they change the snapshot's caches
 * (never what it means): the const is the caller's promise not to alter. */
const GeneratorInfo *scripts_generator(const Scripts *sc, size_t i) {
    if (i >= sc->ngens) return NULL;
    probe((Scripts *)sc, &((Scripts *)sc)->gens[i]);
    return &sc->gens[i].info;
}

const char *scripts_generator_error(const Scripts *sc, size_t i) {
    if (i >= sc->ngens) return NULL;
    GenEntry *g = &((Scripts *)sc)->gens[i];
    if (probe((Scripts *)sc, g)) return "out of memory";
    return g->error;
}

static GenEntry *find_gen(const Scripts *sc, const char *name, CrError *err) {
    for (size_t i = 0; i < sc->ngens; i++)
        if (strcmp(sc->gens[i].info.name, name) == 0) return &((Scripts *)sc)->gens[i];
    char known[512] = "";
    for (size_t i = 0; i < sc->ngens; i++) {
        size_t l = strlen(known);
        snprintf(known + l, sizeof known - l, "%s%s", i ? ", " : "", sc->gens[i].info.name);
    }
    fail(err, CR_ENOTFOUND, "no stage generator '%s' in stages/ of %s (known: %s)", name, sc->dir,
         sc->ngens ? known : "none");
    return NULL;
}

int scripts_find_generator(const Scripts *sc, const char *name, const GeneratorInfo **out,
                           CrError *err) {
    GenEntry *g = find_gen(sc, name, err);
    if (!g) return CR_ENOTFOUND;
    if (probe((Scripts *)sc, g)) return fail(err, CR_ENOMEM, "out of memory");
    *out = &g->info;
    return CR_OK;
}

/* ---- generation --------------------------------------------------------- */

typedef struct {
    const GeneratorInfo *gi;
    const ConfigOverride *params;
    size_t n;
    double values[CR_MAX_GEN_PARAMS];
} Params;

/* Declared defaults, then the overrides, each a known name with a number
 * inside min..max; checked in C against the header, so nothing of the
 * script is read here. */
static int resolve_params(Params *p, CrError *err) {
    const GeneratorInfo *gi = p->gi;
    for (size_t i = 0; i < gi->n_params; i++) p->values[i] = gi->params[i].def;
    for (size_t k = 0; k < p->n; k++) {
        size_t i = 0;
        while (i < gi->n_params && strcmp(gi->params[i].name, p->params[k].key) != 0) i++;
        if (i == gi->n_params)
            return fail(err, CR_EINVAL, "generator '%s' has no parameter '%s' (see %s)", gi->name,
                        p->params[k].key, gi->file);
        const GeneratorParam *d = &gi->params[i];
        char *end;
        errno = 0;
        double v = strtod(p->params[k].value, &end);
        if (end == p->params[k].value || *end || errno || !(v >= d->min && v <= d->max))
            return fail(err, CR_EINVAL,
                        "generator '%s': parameter %s = '%s' must be a number in %g..%g", gi->name,
                        d->name, p->params[k].value, d->min, d->max);
        p->values[i] = v;
    }
    return CR_OK;
}

/* Arguments: the Params. Returns the params table for generate(). */
static int push_params(lua_State *L) {
    const Params *p = lua_touserdata(L, 1);
    lua_createtable(L, 0, (int)p->gi->n_params);
    for (size_t i = 0; i < p->gi->n_params; i++) {
        lua_pushnumber(L, p->values[i]);
        lua_setfield(L, -2, p->gi->params[i].name); /* a fresh plain table */
    }
    return 1;
}

typedef struct {
    const char *where;
    const SurfaceTable *surfaces;
    StagePoint *pts;
    uint32_t *cps;
    StageDesc desc;
} StageRead;

static double point_number(lua_State *L, int t, const char *k, const StageRead *r, size_t i) {
    lua_pushstring(L, k);
    int ty = lua_rawget(L, t);
    double v = lua_tonumber(L, -1);
    lua_pop(L, 1);
    if (ty != LUA_TNUMBER)
        luaL_error(L, "%s: point %d: field '%s' must be a number", r->where, (int)(i + 1), k);
    return v;
}

/* Arguments: what generate() returned, the StageRead. Reads the stage raw
 * (no metamethod of the script runs) into r; every malformed entry named. */
static int read_stage(lua_State *L) {
    StageRead *r = lua_touserdata(L, 2);
    if (!lua_istable(L, 1))
        return luaL_error(L, "%s: generate must return a stage table, not a %s", r->where,
                          luaL_typename(L, 1));
    lua_pushliteral(L, "points");
    if (lua_rawget(L, 1) != LUA_TTABLE)
        return luaL_error(L, "%s: stage.points must be a list of points", r->where);
    int pt = lua_gettop(L);
    size_t n = lua_rawlen(L, pt);
    if (n < 2 || n > STAGE_MAX_POINTS)
        return luaL_error(L, "%s: a stage needs 2 to %d points, not %I", r->where, STAGE_MAX_POINTS,
                          (lua_Integer)n);
    if (!(r->pts = malloc(n * sizeof *r->pts))) return luaL_error(L, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if (lua_rawgeti(L, pt, (lua_Integer)i + 1) != LUA_TTABLE)
            return luaL_error(L, "%s: point %d must be a table {x=, y=, width=, surface=}",
                              r->where, (int)(i + 1));
        int t = lua_gettop(L);
        StagePoint *p = &r->pts[i];
        p->x = point_number(L, t, "x", r, i);
        p->y = point_number(L, t, "y", r, i);
        p->width = point_number(L, t, "width", r, i);
        lua_pushliteral(L, "surface");
        int ty = lua_rawget(L, t);
        const char *s = ty == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        int si = s ? surface_table_find(r->surfaces, s) : -1;
        if (si < 0) {
            char known[400] = "";
            for (int k = 0; k < r->surfaces->count; k++) {
                if (k == r->surfaces->verge) continue;
                size_t l = strlen(known);
                snprintf(known + l, sizeof known - l, "%s%s", l ? ", " : "",
                         r->surfaces->s[k].name);
            }
            char msg[1000];
            snprintf(msg, sizeof msg,
                     "%s: point %zu at (%.1f, %.1f): unknown surface '%.60s' (known: %s)", r->where,
                     i + 1, p->x, p->y, s ? s : lua_typename(L, ty), known);
            return luaL_error(L, "%s", msg);
        }
        p->surface = si;
        lua_pop(L, 2);
    }
    r->desc.points = r->pts;
    r->desc.n_points = n;
    lua_pushliteral(L, "checkpoints");
    if (lua_rawget(L, 1) != LUA_TTABLE)
        return luaL_error(L, "%s: stage.checkpoints must be a list of point indices", r->where);
    int ct = lua_gettop(L);
    size_t m = lua_rawlen(L, ct);
    if (m > STAGE_MAX_CHECKPOINTS)
        return luaL_error(L, "%s: at most %d checkpoints, not %I", r->where, STAGE_MAX_CHECKPOINTS,
                          (lua_Integer)m);
    if (!(r->cps = malloc((m ? m : 1) * sizeof *r->cps))) return luaL_error(L, "out of memory");
    for (size_t i = 0; i < m; i++) {
        lua_rawgeti(L, ct, (lua_Integer)i + 1);
        int ok;
        lua_Integer v = lua_tointegerx(L, -1, &ok);
        lua_pop(L, 1);
        if (!ok || v < 1 || (size_t)v > n)
            return luaL_error(L, "%s: checkpoint %d must be a point index 1..%d", r->where,
                              (int)(i + 1), (int)n);
        r->cps[i] = (uint32_t)(v - 1);
    }
    r->desc.checkpoints = r->cps;
    r->desc.n_checkpoints = m;
    return 0;
}

static int cmp_override(const void *a, const void *b) {
    return strcmp(((const ConfigOverride *)a)->key, ((const ConfigOverride *)b)->key);
}

/* The cache key: generator, version, seed, the surfaces' content hash
 * (a snapshot has one table, but the key says what the stage depends on)
 * and the overrides sorted by name
 * with their numbers normalised (so "14" and "14.0" are one stage). 0, or -1
 * if it does not fit (then the stage is not cached). */
static int cache_key(const GeneratorInfo *gi, uint64_t seed, uint64_t surfaces_hash,
                     const ConfigOverride *params, size_t n, char *key, size_t cap) {
    ConfigOverride sorted[64];
    if (n > 64) return -1;
    if (n) {
        memcpy(sorted, params, n * sizeof *params);
        qsort(sorted, n, sizeof *sorted, cmp_override);
    }
    int w = snprintf(key, cap, "%s\x1f%s\x1f%llu\x1f%016llx", gi->name, gi->version,
                     (unsigned long long)seed, (unsigned long long)surfaces_hash);
    for (size_t i = 0; i < n && w >= 0 && (size_t)w < cap; i++)
        w += snprintf(key + w, cap - (size_t)w, "\x1f%s=%.17g", sorted[i].key,
                      strtod(sorted[i].value, NULL));
    return w < 0 || (size_t)w >= cap ? -1 : 0;
}

static int generate(Scripts *sc, const GenEntry *g, uint64_t seed, Params *params, Stage **out,
                    CrError *err) {
    LuaHost *h = NULL;
    StageRead sr = {0};
    int rc = scripts_new_host(sc, LHOST_DEFAULT_MEMORY, &GEN_BUDGET, &h, err);
    if (rc) return rc;
    lua_State *L = lhost_state(h);
    GeneratorInfo info = g->info;
    if ((rc = load_generator(sc, h, &info, err))) goto out;
    lua_pushliteral(L, "generate");
    lua_rawget(L, -2); /* checked to be a function by read_header */
    lua_Debug ar;
    lua_pushvalue(L, -1);
    lua_getinfo(L, ">S", &ar);
    char where[700];
    snprintf(where, sizeof where, "%s:%d: generate(seed=%llu)", g->info.file, ar.linedefined,
             (unsigned long long)seed);
    lua_pushinteger(L, (lua_Integer)seed);
    if ((rc = lhost_protect(h, push_params, params, 0, 1, err))) goto out;
    if ((rc = lhost_call(h, 2, 1, err))) goto out;
    sr.where = where;
    sr.surfaces = &sc->surfaces;
    sr.desc.surfaces = &sc->surfaces;
    if ((rc = lhost_protect(h, read_stage, &sr, 1, 0, err))) {
        rc = CR_ESTAGE; /* the script ran; what it returned is wrong */
        goto out;
    }
    StageLimits lim = scripts_stage_limits(sc);
    CrError e2;
    rc = stage_compile(&sr.desc, &lim, out, &e2);
    if (rc == CR_ESTAGE)
        fail(err, rc, "%s returned an invalid stage: %s", where, e2.msg);
    else if (rc)
        fail(err, rc, "%s", e2.msg);
out:
    free(sr.pts);
    free(sr.cps);
    lhost_destroy(h);
    return rc;
}

int scripts_generate_stage(Scripts *sc, const char *name, uint64_t seed,
                           const ConfigOverride *params, size_t n_params, Stage **out,
                           CrError *err) {
    *out = NULL;
    GenEntry *g = find_gen(sc, name, err);
    if (!g) return CR_ENOTFOUND;
    if (probe(sc, g)) return fail(err, CR_ENOMEM, "out of memory");
    if (g->error) return fail(err, CR_ESCRIPT, "%s", g->error);
    Params p = {&g->info, params, n_params, {0}};
    int rc = resolve_params(&p, err);
    if (rc) return rc;
    char key[sizeof sc->cache[0].key];
    bool cacheable =
        cache_key(&g->info, seed, sc->surfaces.hash, params, n_params, key, sizeof key) == 0;
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
    rc = generate(sc, g, seed, &p, out, err);
    if (rc || !cacheable) return rc;
    stage_destroy(slot->stage);
    snprintf(slot->key, sizeof slot->key, "%s", key);
    slot->stage = stage_ref(*out);
    slot->used = ++sc->clock;
    return CR_OK;
}
