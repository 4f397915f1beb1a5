/*
 * rules.c - one race's rules from rules/NAME.lua of a snapshot, in a Lua
 * state of its own that lives as long as the race and holds a reference to
 * the snapshot: a reload changes new races only. Hooks run on events
 * (checkpoint, finish, collision) on the tick path, so each call has a small
 * instruction budget and every tick another, backed by a wall-clock
 * watchdog; a failure stops this race only.
 */
#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua/scripts_internal.h"
#include "util/hash.h"

#define fail scripts_fail
#define MAX_PENALTY_S 3600

enum { HOOK_CHECKPOINT, HOOK_FINISH, HOOK_COLLISION, HOOK_POINTS, HOOK_COUNT };
static const char *const HOOK_NAMES[HOOK_COUNT] = {"on_checkpoint", "on_finish", "on_collision",
                                                   "points"};

static const LhostBudget SETUP_BUDGET = {
    .call_instructions = RULES_SETUP_INSTRUCTIONS, .call_ms = 1000, .window_name = "window"};
static const LhostBudget TICK_BUDGET = {.call_instructions = RULES_CALL_INSTRUCTIONS,
                                        .window_instructions = RULES_TICK_INSTRUCTIONS,
                                        .call_ms = RULES_WATCHDOG_MS,
                                        .window_ms = RULES_WATCHDOG_MS,
                                        .window_name = "tick"};

struct Rules {
    Scripts *sc; /* the snapshot it came from: one reference */
    LuaHost *host;
    char name[CR_NAME_MAX];
    char file[CR_NAME_MAX + 16]; /* "rules/NAME.lua" */
    int hook_ref[HOOK_COUNT];    /* LUA_NOREF when absent */
    int hook_line[HOOK_COUNT];   /* where each hook is defined */
    int64_t tick;                /* the tick of the last hook call */
    RaceRules race;
    RulesNumbers numbers;
    uint64_t hash;
    CrError error; /* the last hook failure */
    /* who is who, for points() */
    int n_cars;
    char car_name[CR_MAX_CARS][CR_NAME_MAX];
    CarKind car_kind[CR_MAX_CARS];
};

/* ---- hooks -------------------------------------------------------------- */

typedef struct {
    Rules *r;
    int which;
    const RuleEvent *ev;
    double penalty;
} HookCall;

/* Checks a hook's penalty on top of the stack: nil (0) or a number of
 * seconds 0..3600. Strings are refused: "2" is a mistake, not 2 s. */
static double check_penalty(lua_State *L, const Rules *r, int which) {
    int t = lua_type(L, -1);
    if (t == LUA_TNIL) return 0;
    if (t != LUA_TNUMBER)
        luaL_error(L, "%s:%d: %s must return a penalty in seconds (a number) or nil, not a %s",
                   r->file, r->hook_line[which], HOOK_NAMES[which], lua_typename(L, t));
    double p = lua_tonumber(L, -1);
    if (p != p)
        luaL_error(L, "%s:%d: %s returned NaN as a penalty; it must be 0..%d seconds", r->file,
                   r->hook_line[which], HOOK_NAMES[which], MAX_PENALTY_S);
    if (p < 0)
        luaL_error(L, "%s:%d: %s returned a negative penalty (%f s); it must be 0..%d seconds",
                   r->file, r->hook_line[which], HOOK_NAMES[which], p, MAX_PENALTY_S);
    if (!(p <= MAX_PENALTY_S))
        luaL_error(L, "%s:%d: %s returned a penalty of %f s; it must be 0..%d seconds", r->file,
                   r->hook_line[which], HOOK_NAMES[which], p, MAX_PENALTY_S);
    return p;
}

/* Argument: the HookCall. Builds the event, calls the hook, checks what it
 * returned; all inside the protected call. */
static int call_hook(lua_State *L) {
    HookCall *c = lua_touserdata(L, 1);
    const RuleEvent *ev = c->ev;
    lua_rawgeti(L, LUA_REGISTRYINDEX, c->r->hook_ref[c->which]);
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
    lua_call(L, 1, 1);
    c->penalty = check_penalty(L, c->r, c->which);
    return 0;
}

/* The tick an event belongs to: hooks see the race time of the event, which
 * within a tick is at most one tick before the tick's own time. */
static int64_t tick_of(const RuleEvent *ev) {
    return (int64_t)ceil(ev->time_s * CR_TICK_RATE - 1e-6);
}

static double run_hook(Rules *r, int which, const RuleEvent *ev) {
    int64_t tick = tick_of(ev);
    if (tick != r->tick) {
        r->tick = tick;
        lhost_begin_window(r->host);
    }
    HookCall c = {r, which, ev, 0};
    if (lhost_protect(r->host, call_hook, &c, 0, 0, &r->error)) return -1;
    return c.penalty;
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

/* ---- loading ------------------------------------------------------------ */

typedef struct {
    Rules *r;
    const Stage *stage; /* NULL when only checking */
    double countdown, limit, stall;
    bool per_stage; /* the field just read is a function of the stage */
} Loader;

/* Field k of the rules table at 1: a number of seconds, or a function of
 * the stage returning one (called only when there is a stage). */
static double seconds_field(lua_State *L, Loader *ld, const char *k, double lo, double hi,
                            bool required) {
    const Rules *r = ld->r;
    lua_pushstring(L, k);
    int t = lua_rawget(L, 1);
    if (t == LUA_TNIL) {
        if (required) luaL_error(L, "%s: field '%s' (seconds) is missing", r->file, k);
        lua_pop(L, 1);
        return 0;
    }
    ld->per_stage = t == LUA_TFUNCTION;
    if (t == LUA_TFUNCTION) {
        if (!ld->stage) {
            lua_pop(L, 1);
            return lo;
        }
        lua_createtable(L, 0, 3);
        lua_pushnumber(L, stage_length(ld->stage));
        lua_setfield(L, -2, "length");
        lua_pushinteger(L, (lua_Integer)stage_checkpoint_count(ld->stage));
        lua_setfield(L, -2, "checkpoints");
        lua_pushinteger(L, (lua_Integer)stage_point_count(ld->stage));
        lua_setfield(L, -2, "points");
        lua_call(L, 1, 1);
    }
    double v = lua_type(L, -1) == LUA_TNUMBER ? lua_tonumber(L, -1) : NAN;
    if (!(v >= lo && v <= hi))
        luaL_error(L, "%s: %s must be (or return) a number of seconds in %d..%d, not %s", r->file,
                   k, (int)lo, (int)hi,
                   lua_type(L, -1) == LUA_TNUMBER ? "that number" : luaL_typename(L, -1));
    lua_pop(L, 1);
    return v;
}

/* Arguments: the rules table, the Loader. Raw reads only. */
static int read_rules(lua_State *L) {
    Loader *ld = lua_touserdata(L, 2);
    Rules *r = ld->r;
    if (!lua_istable(L, 1))
        return luaL_error(L, "%s: must return a rules table, not a %s", r->file,
                          luaL_typename(L, 1));
    static const char *const known[] = {"name",
                                        "description",
                                        "version",
                                        "countdown_s",
                                        "time_limit_s",
                                        "stall_limit_s",
                                        "on_checkpoint",
                                        "on_finish",
                                        "on_collision",
                                        "points",
                                        NULL};
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        lua_pop(L, 1);
        const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        bool found = false;
        for (const char *const *p = known; k && *p && !found; p++) found = !strcmp(k, *p);
        if (!found)
            return luaL_error(L,
                              "%s: unknown field '%s' in the rules table (known: name, "
                              "description, version, countdown_s, time_limit_s, stall_limit_s, "
                              "on_checkpoint, on_finish, on_collision, points)",
                              r->file, k ? k : luaL_typename(L, -1));
    }
    lua_pushliteral(L, "name");
    int t = lua_rawget(L, 1);
    if (t != LUA_TSTRING)
        return luaL_error(L, "%s: field 'name' must be the string '%s'", r->file, r->name);
    if (strcmp(lua_tostring(L, -1), r->name) != 0)
        return luaL_error(L, "%s: name '%s' must match the file name '%s'", r->file,
                          lua_tostring(L, -1), r->name);
    lua_pop(L, 1);
    for (int i = 0; i < 2; i++) {
        static const char *const strs[] = {"description", "version"};
        lua_pushstring(L, strs[i]);
        t = lua_rawget(L, 1);
        if (t != LUA_TNIL && t != LUA_TSTRING)
            return luaL_error(L, "%s: field '%s' must be a string", r->file, strs[i]);
        lua_pop(L, 1);
    }
    for (int i = 0; i < HOOK_COUNT; i++) {
        lua_pushstring(L, HOOK_NAMES[i]);
        t = lua_rawget(L, 1);
        if (t == LUA_TNIL) {
            lua_pop(L, 1);
            continue;
        }
        if (t != LUA_TFUNCTION)
            return luaL_error(L, "%s: %s must be a function, not a %s", r->file, HOOK_NAMES[i],
                              lua_typename(L, t));
        lua_Debug ar;
        lua_pushvalue(L, -1);
        lua_getinfo(L, ">S", &ar);
        r->hook_line[i] = ar.linedefined;
        r->hook_ref[i] = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    RulesNumbers *nu = &r->numbers;
    ld->countdown = seconds_field(L, ld, "countdown_s", 0, 30, true);
    nu->countdown_per_stage = ld->per_stage;
    ld->limit = seconds_field(L, ld, "time_limit_s", 10, 3600, true);
    nu->time_limit_per_stage = ld->per_stage;
    ld->stall = seconds_field(L, ld, "stall_limit_s", 0, 3600, false);
    nu->stall_limit_per_stage = ld->per_stage;
    return 0;
}

static int load(Scripts *sc, const char *name, const Stage *stage, Rules **out, CrError *err) {
    *out = NULL;
    if (!scripts_valid_name(name))
        return fail(err, CR_EINVAL, "bad rule set name '%s' (a-z, 0-9, _ and -)", name);
    Rules *r = calloc(1, sizeof *r);
    if (!r) return CR_ENOMEM;
    r->sc = scripts_ref(sc);
    snprintf(r->name, sizeof r->name, "%s", name);
    snprintf(r->file, sizeof r->file, "rules/%s.lua", name);
    for (int i = 0; i < HOOK_COUNT; i++) r->hook_ref[i] = LUA_NOREF;
    r->tick = INT64_MIN;
    int rc = scripts_new_host(sc, RULES_MEMORY, &SETUP_BUDGET, &r->host, err);
    if (rc) goto fail;
    const ScriptFile *f = snapshot_file(sc, r->file);
    if (!f) {
        rc = fail(err, CR_ENOTFOUND, "no rule set '%s' (%s not found in %s)", name, r->file,
                  sc->dir);
        goto fail;
    }
    if ((rc = snapshot_run(sc, r->host, r->file, err))) goto fail;
    Loader ld = {r, stage, 0, 0, 0, false};
    if ((rc = lhost_protect(r->host, read_rules, &ld, 1, 0, err))) goto fail;
    lhost_set_budget(r->host, &TICK_BUDGET);
    r->race = (RaceRules){
        .countdown_ticks = (int)lround(ld.countdown * CR_TICK_RATE),
        .time_limit_ticks = (int)lround(ld.limit * CR_TICK_RATE),
        .stall_limit_ticks = (int)lround(ld.stall * CR_TICK_RATE),
        .ud = r,
        .on_checkpoint = r->hook_ref[HOOK_CHECKPOINT] != LUA_NOREF ? on_checkpoint : NULL,
        .on_finish = r->hook_ref[HOOK_FINISH] != LUA_NOREF ? on_finish : NULL,
        .on_collision = r->hook_ref[HOOK_COLLISION] != LUA_NOREF ? on_collision : NULL,
        .last_error = last_error,
    };
    r->numbers.countdown_s = ld.countdown;
    r->numbers.time_limit_s = ld.limit;
    r->numbers.stall_limit_s = ld.stall;
    /* Identity of the rules a replay was made with: the bytes that ran. */
    r->hash = hash_bytes(HASH_SEED, f->text, f->len);
    *out = r;
    return CR_OK;
fail:
    rules_destroy(r);
    return rc;
}

int rules_load(Scripts *sc, const char *name, const Stage *stage, Rules **out, CrError *err) {
    return load(sc, name, stage, out, err);
}

size_t scripts_rule_sets(const Scripts *sc, char (*names)[CR_NAME_MAX], size_t max) {
    size_t n = 0;
    for (size_t i = 0; i < sc->nfiles; i++) {
        const char *rel = sc->files[i].rel;
        size_t len = strlen(rel);
        if (strncmp(rel, "rules/", 6) != 0 || len <= 10 || strcmp(rel + len - 4, ".lua") ||
            len - 10 >= CR_NAME_MAX || strchr(rel + 6, '/'))
            continue;
        char name[CR_NAME_MAX];
        snprintf(name, sizeof name, "%.*s", (int)(len - 10), rel + 6);
        if (!scripts_valid_name(name)) continue;
        if (n < max) snprintf(names[n], CR_NAME_MAX, "%s", name);
        n++;
    }
    return n;
}

int rules_check_all(Scripts *sc, CrError *err) {
    for (size_t i = 0; i < sc->nfiles; i++) {
        const char *rel = sc->files[i].rel;
        if (strncmp(rel, "rules/", 6) != 0) continue;
        char name[CR_NAME_MAX * 2];
        snprintf(name, sizeof name, "%.*s", (int)(strlen(rel) - 10), rel + 6);
        if (!scripts_valid_name(name)) continue; /* cannot be asked for */
        Rules *r;
        int rc = load(sc, name, NULL, &r, err);
        if (rc) return rc;
        rules_destroy(r);
    }
    return CR_OK;
}

void rules_destroy(Rules *r) {
    if (!r) return;
    lhost_destroy(r->host);
    scripts_close(r->sc);
    free(r);
}

const RaceRules *rules_race(const Rules *r) {
    return &r->race;
}

const RulesNumbers *rules_numbers(const Rules *r) {
    return &r->numbers;
}

const char *rules_name(const Rules *r) {
    return r->name;
}

uint64_t rules_hash(const Rules *r) {
    return r->hash;
}

void rules_set_cars(Rules *r, const CarEntry *cars, int n) {
    r->n_cars = n < 0 ? 0 : n > CR_MAX_CARS ? CR_MAX_CARS : n;
    for (int i = 0; i < r->n_cars; i++) {
        snprintf(r->car_name[i], sizeof r->car_name[i], "%s", cars[i].name);
        r->car_kind[i] = cars[i].kind;
    }
}

/* ---- points ------------------------------------------------------------- */

typedef struct {
    Rules *r;
    const RaceResult *results;
    int n;
    int *points;
} PointsCall;

/* Argument: the PointsCall. */
static int call_points(lua_State *L) {
    PointsCall *c = lua_touserdata(L, 1);
    const Rules *r = c->r;
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->hook_ref[HOOK_POINTS]);
    lua_createtable(L, c->n, 0);
    for (int i = 0; i < c->n; i++) {
        const RaceResult *res = &c->results[i];
        lua_createtable(L, 0, 12);
        lua_pushinteger(L, res->car + 1);
        lua_setfield(L, -2, "car");
        if (res->car >= 0 && res->car < r->n_cars) {
            lua_pushstring(L, r->car_name[res->car]);
            lua_setfield(L, -2, "name");
            lua_pushstring(L, car_kind_name(r->car_kind[res->car]));
            lua_setfield(L, -2, "kind");
        }
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
        lua_pushnumber(L, res->penalty_s);
        lua_setfield(L, -2, "penalty_s");
        lua_pushinteger(L, res->checkpoints);
        lua_setfield(L, -2, "checkpoints");
        lua_pushinteger(L, c->n);
        lua_setfield(L, -2, "cars");
        lua_rawseti(L, -2, i + 1);
    }
    lua_call(L, 1, 1);
    int line = r->hook_line[HOOK_POINTS];
    if (!lua_istable(L, -1))
        return luaL_error(L, "%s:%d: points must return a list of %d whole numbers, not a %s",
                          r->file, line, c->n, luaL_typename(L, -1));
    for (int i = 0; i < c->n; i++) {
        lua_rawgeti(L, -1, i + 1);
        int ok = lua_type(L, -1) == LUA_TNUMBER;
        lua_Integer v = ok ? lua_tointegerx(L, -1, &ok) : 0;
        lua_pop(L, 1);
        if (!ok || v < 0 || v > 1000000)
            return luaL_error(L, "%s:%d: points[%d] must be a whole number 0..1000000", r->file,
                              line, i + 1);
        c->points[i] = (int)v;
    }
    return 0;
}

int rules_points(Rules *r, const RaceResult *results, int n, int *points, CrError *err) {
    if (r->hook_ref[HOOK_POINTS] == LUA_NOREF) {
        for (int i = 0; i < n; i++) points[i] = 0;
        return CR_OK;
    }
    /* Off the tick path: the generous setup budget. */
    LhostBudget saved = *lhost_budget(r->host);
    lhost_set_budget(r->host, &SETUP_BUDGET);
    PointsCall c = {r, results, n, points};
    int rc = lhost_protect(r->host, call_points, &c, 0, 0, err);
    lhost_set_budget(r->host, &saved);
    return rc;
}
