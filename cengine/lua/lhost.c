/*
 * lhost.c - the Lua sandbox. Allow-lists, not deny-lists: a script's _ENV is
 * an empty table whose __index is a C function over the frozen builtins; a
 * name that is not there raises "unknown global". Library tables are handed
 * out as read-only proxies so one script cannot change what another sees.
 */
#include "lua/lhost.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <lauxlib.h>
#include <lualib.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lua/lbounds.h"
#include "lua/lsource.h"
#include "util/dmath.h"
#include "util/rng.h"

#define HOOK_EVERY 1000
#define WATCH_EVERY 8 /* count hooks between two clock reads (~0.3 us each) */
#define PRINT_CAP (64 * 1024)
#define ALLOC_COST 16 /* instructions a malloc is worth, measured: see BENCHMARKS.md */

struct LuaHost {
    lua_State *L;
    size_t used, limit;
    LhostBudget budget;
    uint64_t spent;            /* instructions (and charged work) in this call */
    uint64_t window_spent;     /* ... in this window */
    uint64_t window_ns;        /* wall time of the calls of this window */
    uint64_t deadline_ns;      /* the watchdog's: this call must end by then */
    uint64_t wall_deadline_ns; /* the wall-clock backstop's (CLOCK_MONOTONIC) */
    uint64_t wall_t0_ns;       /* when this call started, on that clock */
    unsigned hooks;
    const char *tripped; /* which limit tripped in this call, or NULL */
    size_t printed;
    bool mem_tripped;    /* the cap refused an allocation during this call */
    bool in_call;        /* inside lhost_call: positions can be read */
    char mem_where[256]; /* "file:line:" of the refused allocation */
    int builtins_ref;    /* registry ref of the builtins table */
    jmp_buf *panic_jmp;  /* where a panic returns to, when armed */
    char panic_msg[512];
    bool dead; /* a panic left the state unusable */
};

static LuaHost *host_of(lua_State *L) {
    return *(LuaHost **)lua_getextraspace(L);
}

/* The memory cap. Lua runs an emergency collection and retries before it
 * reports "not enough memory". */
static void *host_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    LuaHost *h = ud;
    if (!ptr) osize = 0;
    if (nsize == 0) {
        free(ptr);
        h->used -= osize;
        return NULL;
    }
    if (nsize > osize && h->used + (nsize - osize) > h->limit) {
        if (!h->mem_tripped && h->in_call) lhost_where(h->L, h->mem_where, sizeof h->mem_where);
        h->mem_tripped = true;
        return NULL;
    }
    void *p = realloc(ptr, nsize);
    if (!p) return NULL;
    h->used = h->used - osize + nsize;
    /* Work the count hook does not see (a concatenation, tostring, a table
     * growing, string.upper of a long string) allocates its result: charge
     * ALLOC_COST instructions per allocation plus 1 per 16 bytes. */
    if (nsize > osize) {
        uint64_t w = ALLOC_COST + ((nsize - osize) >> 4);
        h->spent += w;
        h->window_spent += w;
    }
    return p;
}

/* The watchdog's clock: this thread's CPU time, not the wall. What it
 * backs is work the counts miss (long string comparisons, C loops), which is
 * CPU; a wall clock would also trip on a machine that is merely loaded and
 * abort races that did nothing wrong. */
static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The backstop's clock: the wall. It trips only far past the CPU allowance
 * (LHOST_WALL_FACTOR times it, plus LHOST_WALL_SLACK_MS), so a loaded machine
 * does not trip it, but a state that stops getting anywhere for any reason
 * the CPU clock cannot see still ends. */
static uint64_t wall_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void lhost_where(lua_State *L, char *out, size_t n) {
    lua_Debug ar;
    out[0] = '\0';
    for (int level = 0; lua_getstack(L, level, &ar); level++) {
        if (!lua_getinfo(L, "Sl", &ar)) break;
        if (ar.currentline > 0) {
            snprintf(out, n, "%s:%d:", ar.short_src, ar.currentline);
            return;
        }
    }
}

/* Which limit the work done so far breaks, or NULL. */
static const char *over_limit(LuaHost *h) {
    if (h->spent > h->budget.call_instructions) return "call";
    if (h->budget.window_instructions && h->window_spent > h->budget.window_instructions)
        return "window";
    if (h->mem_tripped) return "memory";
    if (++h->hooks % WATCH_EVERY == 0) {
        if (now_ns() > h->deadline_ns) return "clock";
        if (wall_ns() > h->wall_deadline_ns) return "wall";
    }
    return NULL;
}

/* Raises the error for the limit that tripped, naming the script's line
 * (level 0 in a hook is the Lua function that was running). Once tripped the
 * hook re-arms itself to fire on every instruction, so a script that catches
 * the error with pcall is stopped again at its very next instruction and the
 * error reaches the host. */
static int trip(lua_State *L, LuaHost *h, const char *which) {
    h->tripped = which;
    lua_sethook(L, lhost_budget_hook, LUA_MASKCOUNT, 1);
    char where[256];
    lhost_where(L, where, sizeof where);
    if (!strcmp(which, "call"))
        lua_pushfstring(L, "%s instruction budget of %I per call exceeded", where,
                        (lua_Integer)h->budget.call_instructions);
    else if (!strcmp(which, "window"))
        lua_pushfstring(L, "%s instruction budget of %I per %s exceeded", where,
                        (lua_Integer)h->budget.window_instructions, h->budget.window_name);
    else if (!strcmp(which, "memory"))
        lua_pushfstring(L, "%s memory cap of %I KiB exceeded", where,
                        (lua_Integer)(h->limit >> 10));
    else if (!strcmp(which, "wall"))
        lua_pushfstring(L, "%s wall-clock watchdog: the script ran for over %I ms of real time",
                        where, (lua_Integer)((h->wall_deadline_ns - h->wall_t0_ns) / 1000000u));
    else
        lua_pushfstring(L,
                        "%s watchdog: the script ran too long (%I ms per call, %I "
                        "ms per %s)",
                        where, (lua_Integer)h->budget.call_ms, (lua_Integer)h->budget.window_ms,
                        h->budget.window_name);
    return lua_error(L);
}

void lhost_budget_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    LuaHost *h = host_of(L);
    h->spent += HOOK_EVERY;
    h->window_spent += HOOK_EVERY;
    const char *which = h->tripped ? h->tripped : over_limit(h);
    if (which) trip(L, h, which);
}

void lhost_charge(lua_State *L, double work, const char *what) {
    LuaHost *h = host_of(L);
    uint64_t w = work >= 1e18 ? (uint64_t)1e18 : work > 0 ? (uint64_t)work : 0;
    h->spent += w;
    h->window_spent += w;
    if (h->spent > h->budget.call_instructions ||
        (h->budget.window_instructions && h->window_spent > h->budget.window_instructions)) {
        const char *which = h->spent > h->budget.call_instructions ? "call" : "window";
        h->tripped = which;
        lua_sethook(L, lhost_budget_hook, LUA_MASKCOUNT, 1);
        char where[256];
        lhost_where(L, where, sizeof where);
        lua_pushfstring(L,
                        "%s %s would cost about %I instructions: over the instruction budget "
                        "of %I per %s",
                        where, what, (lua_Integer)w,
                        (lua_Integer)(!strcmp(which, "call") ? h->budget.call_instructions
                                                             : h->budget.window_instructions),
                        !strcmp(which, "call") ? "call" : h->budget.window_name);
        lua_error(L);
    }
}

/* Does msg start with "chunk:line:"? */
static bool has_position(const char *msg) {
    const char *c = strchr(msg, ':');
    if (!c || c == msg || memchr(msg, '\n', (size_t)(c - msg))) return false;
    const char *d = c + 1;
    while (isdigit((unsigned char)*d)) d++;
    return d > c + 1 && *d == ':';
}

/* The message handler: the first line names file and line whatever was
 * thrown (a table, nil, an object whose __tostring errors: metamethods are
 * not run here), then the traceback. */
static int traceback(lua_State *L) {
    const char *msg;
    int t = lua_type(L, 1);
    if (t == LUA_TSTRING || t == LUA_TNUMBER)
        msg = lua_tostring(L, 1);
    else
        msg = lua_pushfstring(L, "error object is a %s value", lua_typename(L, t));
    char where[256];
    lhost_where(L, where, sizeof where);
    /* No Lua function on the stack: the host's own check of what a script
     * returned, which names the file itself; a traceback would say nothing. */
    if (!where[0]) {
        lua_pushstring(L, msg);
        return 1;
    }
    if (!has_position(msg)) msg = lua_pushfstring(L, "%s %s", where, msg);
    luaL_traceback(L, L, msg, 1);
    return 1;
}

/* _ENV's __index: allowed builtins, or an error naming the global. */
static int env_index(lua_State *L) {
    lua_pushvalue(L, 2);
    lua_rawget(L, lua_upvalueindex(1));
    if (!lua_isnil(L, -1)) return 1;
    const char *k = lua_tostring(L, 2);
    /* luaL_error names the script's line: level 1 is the code reading. */
    return luaL_error(L, "unknown global '%s'", k ? k : "?");
}

/* _ENV's __newindex: scripts keep their state in locals. An assignment to
 * an undeclared global is almost always a typo of a local's name. */
static int env_newindex(lua_State *L) {
    const char *k = lua_tostring(L, 2);
    return luaL_error(L, "assignment to undeclared global '%s' (declare it local)", k ? k : "?");
}

static int frozen_newindex(lua_State *L) {
    const char *k = lua_tostring(L, 2);
    return luaL_error(L, "attempt to modify read-only table (field '%s')", k ? k : "?");
}

/* ---- iteration in a defined order -------------------------------------- */

/* Lua 5.4 seeds string hashing per state, so raw next() order changes from
 * one run to the next. pairs and next go instead through the keys in this
 * order: 1, 2, ..., n while t[i] is present, then every other number
 * ascending, then strings (bytewise), then false, true. Keys of any other
 * type have no order that survives a restart and are refused. */

typedef struct {
    int cls; /* 0 number, 1 string, 2 boolean */
    bool is_int;
    lua_Integer i;
    lua_Number f;
    const char *s;
    size_t len;
    int idx; /* position in the keys table */
} OrderedKey;

/* Integer a against float b, exactly; -1, 0, 1. */
static int cmp_int_float(lua_Integer a, lua_Number b) {
    if (b >= 0x1p63) return -1;
    if (b < -0x1p63) return 1;
    lua_Number fl = floor(b);
    lua_Integer bi = (lua_Integer)fl;
    if (a != bi) return a < bi ? -1 : 1;
    return fl < b ? -1 : 0;
}

static int ordered_key_cmp(const void *pa, const void *pb) {
    const OrderedKey *a = pa, *b = pb;
    if (a->cls != b->cls) return a->cls < b->cls ? -1 : 1;
    if (a->cls == 0) {
        if (a->is_int && b->is_int) return a->i < b->i ? -1 : a->i > b->i;
        if (!a->is_int && !b->is_int) return a->f < b->f ? -1 : a->f > b->f;
        return a->is_int ? cmp_int_float(a->i, b->f) : -cmp_int_float(b->i, a->f);
    }
    if (a->cls == 1) {
        int c = memcmp(a->s, b->s, a->len < b->len ? a->len : b->len);
        if (c) return c < 0 ? -1 : 1;
        return a->len < b->len ? -1 : a->len > b->len;
    }
    return (int)a->i - (int)b->i;
}

/* Counts the work against the script's instruction budget: ordering keys is
 * C work the count hook does not see. */
static void charge_work(lua_State *L, size_t work) {
    lhost_charge(L, (double)work, "ordering keys for pairs");
}

/* For the table at t, pushes a keys table (the keys after the array run)
 * and a userdata of OrderedKey over it, sorted; sets *n to the array run
 * (keys 1..n) and returns the count of the rest. */
static size_t collect_ordered_keys(lua_State *L, int t, lua_Integer *n) {
    t = lua_absindex(L, t);
    luaL_checkstack(L, 6, "ordering keys");
    lua_Integer run = 0;
    while (lua_rawgeti(L, t, run + 1) != LUA_TNIL) {
        lua_pop(L, 1);
        run++;
    }
    lua_pop(L, 1);
    lua_newtable(L);
    int keys = lua_gettop(L);
    size_t m = 0;
    lua_pushnil(L);
    while (lua_next(L, t)) {
        lua_pop(L, 1);
        if (lua_isinteger(L, -1)) {
            lua_Integer k = lua_tointeger(L, -1);
            if (k >= 1 && k <= run) continue;
        }
        int ty = lua_type(L, -1);
        if (ty != LUA_TNUMBER && ty != LUA_TSTRING && ty != LUA_TBOOLEAN)
            luaL_error(L,
                       "pairs: a key of type %s has no defined order (keep such keys in a list "
                       "and use ipairs)",
                       lua_typename(L, ty));
        lua_pushvalue(L, -1);
        lua_rawseti(L, keys, (lua_Integer)++m);
    }
    OrderedKey *ok = lua_newuserdatauv(L, (m ? m : 1) * sizeof *ok, 0);
    for (size_t j = 0; j < m; j++) {
        lua_rawgeti(L, keys, (lua_Integer)j + 1);
        OrderedKey *k = &ok[j];
        *k = (OrderedKey){.idx = (int)j + 1};
        switch (lua_type(L, -1)) {
            case LUA_TNUMBER:
                k->is_int = lua_isinteger(L, -1);
                if (k->is_int)
                    k->i = lua_tointeger(L, -1);
                else
                    k->f = lua_tonumber(L, -1);
                break;
            case LUA_TSTRING:
                k->cls = 1;
                k->s = lua_tolstring(L, -1, &k->len); /* anchored by the keys table */
                break;
            default:
                k->cls = 2;
                k->i = lua_toboolean(L, -1);
        }
        lua_pop(L, 1);
    }
    qsort(ok, m, sizeof *ok, ordered_key_cmp); /* keys are distinct: a total order */
    charge_work(L, (size_t)run + m * 8);
    *n = run;
    return m;
}

/* Pushes key number pos (0-based) of the traversal; keys and ok as pushed
 * by collect_ordered_keys. */
static void push_ordered_key(lua_State *L, lua_Integer n, int keys, const OrderedKey *ok,
                             lua_Integer pos) {
    if (pos < n)
        lua_pushinteger(L, pos + 1);
    else
        lua_rawgeti(L, keys, ok[pos - n].idx);
}

/* The iterator pairs hands out. Upvalues: table, keys table, sorted keys,
 * n, count, next position. Keys removed during the loop are skipped. */
static int ordered_iter(lua_State *L) {
    lua_Integer n = lua_tointeger(L, lua_upvalueindex(4));
    lua_Integer total = n + lua_tointeger(L, lua_upvalueindex(5));
    lua_Integer pos = lua_tointeger(L, lua_upvalueindex(6));
    const OrderedKey *ok = lua_touserdata(L, lua_upvalueindex(3));
    while (pos < total) {
        push_ordered_key(L, n, lua_upvalueindex(2), ok, pos++);
        lua_pushvalue(L, -1);
        if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) {
            lua_pushinteger(L, pos);
            lua_replace(L, lua_upvalueindex(6));
            return 2;
        }
        lua_pop(L, 2);
    }
    lua_pushinteger(L, pos);
    lua_replace(L, lua_upvalueindex(6));
    lua_pushnil(L);
    return 1;
}

/* Pushes pairs' three results for the raw table at t: iterator, t, nil. */
static int push_ordered_pairs(lua_State *L, int t) {
    t = lua_absindex(L, t);
    lua_Integer n;
    lua_pushvalue(L, t);
    size_t m = collect_ordered_keys(L, t, &n);
    lua_pushinteger(L, n);
    lua_pushinteger(L, (lua_Integer)m);
    lua_pushinteger(L, 0);
    lua_pushcclosure(L, ordered_iter, 6);
    lua_pushvalue(L, t);
    lua_pushnil(L);
    return 3;
}

/* pairs(t): a __pairs metamethod decides, as in Lua; otherwise the order
 * above, over a snapshot of the keys taken now. */
static int ordered_pairs(lua_State *L) {
    luaL_checkany(L, 1);
    if (luaL_getmetafield(L, 1, "__pairs") != LUA_TNIL) {
        lua_pushvalue(L, 1);
        lua_call(L, 1, 3);
        return 3;
    }
    luaL_checktype(L, 1, LUA_TTABLE);
    return push_ordered_pairs(L, 1);
}

/* next(t, k) in the same order. Each call orders the keys afresh (and is
 * charged for it): loops belong to pairs; next is for next(t) == nil. */
static int ordered_next(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 2);
    lua_Integer n;
    size_t m = collect_ordered_keys(L, 1, &n);
    int keys = lua_gettop(L) - 1;
    const OrderedKey *ok = lua_touserdata(L, -1);
    lua_Integer pos = 0, total = n + (lua_Integer)m;
    if (!lua_isnil(L, 2)) {
        pos = -1;
        if (lua_isinteger(L, 2) && lua_tointeger(L, 2) >= 1 && lua_tointeger(L, 2) <= n) {
            pos = lua_tointeger(L, 2);
        } else {
            for (lua_Integer j = n; j < total && pos < 0; j++) {
                push_ordered_key(L, n, keys, ok, j);
                if (lua_rawequal(L, -1, 2)) pos = j + 1;
                lua_pop(L, 1);
            }
        }
        if (pos < 0) return luaL_error(L, "invalid key to 'next'");
    }
    if (pos >= total) {
        lua_pushnil(L);
        return 1;
    }
    push_ordered_key(L, n, keys, ok, pos);
    lua_pushvalue(L, -1);
    lua_rawget(L, 1);
    return 2;
}

/* pairs over a read-only proxy walks the original, in the same order. */
static int frozen_pairs(lua_State *L) {
    lua_getmetatable(L, 1);
    lua_getfield(L, -1, "__orig");
    return push_ordered_pairs(L, -1);
}

static int frozen_len(lua_State *L) {
    lua_getmetatable(L, 1);
    lua_getfield(L, -1, "__orig");
    lua_pushinteger(L, (lua_Integer)lua_rawlen(L, -1));
    return 1;
}

/* Is the value at idx one of our read-only proxies? */
static bool is_frozen(lua_State *L, int idx) {
    if (!lua_getmetatable(L, idx)) return false;
    lua_pushliteral(L, "__orig");
    bool frozen = lua_rawget(L, -2) == LUA_TTABLE;
    lua_pop(L, 2);
    return frozen;
}

void lhost_push_frozen(lua_State *L, int idx) {
    idx = lua_absindex(L, idx);
    luaL_checkstack(L, 8, "freezing a table");
    /* Copy first, freezing nested tables, so the proxy owns its contents. */
    lua_newtable(L);
    int copy = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        /* Nested tables are frozen too; one that is already a frozen proxy
         * is kept as it is (its own entries live behind it, not in it). */
        if (lua_type(L, -1) == LUA_TTABLE && !is_frozen(L, -1)) {
            lhost_push_frozen(L, -1);
            lua_replace(L, -2);
        }
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, copy);
    }
    lua_newtable(L); /* proxy */
    lua_newtable(L); /* its metatable */
    lua_pushvalue(L, copy);
    lua_setfield(L, -2, "__index");
    lua_pushvalue(L, copy);
    lua_setfield(L, -2, "__orig");
    lua_pushcfunction(L, frozen_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushcfunction(L, frozen_pairs);
    lua_setfield(L, -2, "__pairs");
    lua_pushcfunction(L, frozen_len);
    lua_setfield(L, -2, "__len");
    lua_pushliteral(L, "locked");
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    lua_remove(L, copy);
}

void lhost_add_builtin(LuaHost *h, const char *name) {
    lua_State *L = h->L;
    if (lua_type(L, -1) == LUA_TTABLE) {
        lhost_push_frozen(L, -1);
        lua_remove(L, -2);
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, h->builtins_ref);
    lua_insert(L, -2);
    lua_setfield(L, -2, name);
    lua_pop(L, 1);
}

/* print: to stderr with a tag, capped per state so a script cannot flood. */
static int host_print(lua_State *L) {
    LuaHost *h = host_of(L);
    int n = lua_gettop(L);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 1; i <= n; i++) {
        if (i > 1) luaL_addchar(&b, '\t');
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    if (h->printed < PRINT_CAP) {
        lua_Debug ar;
        const char *where = "?";
        int line = 0;
        if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar))
            where = ar.short_src, line = ar.currentline;
        fprintf(stderr, "[lua %s:%d] %.*s\n", where, line, (int)len, s);
        h->printed += len;
        if (h->printed >= PRINT_CAP) fprintf(stderr, "[lua] print output capped\n");
    }
    return 0;
}

/* ---- rng: the host's random numbers for scripts ------------------------- */

#define RNG_META "coderally.rng"

static Rng *check_rng(lua_State *L) {
    return luaL_checkudata(L, 1, RNG_META);
}

static int rng_new(lua_State *L) {
    lua_Integer seed;
    if (lua_isinteger(L, 1)) {
        seed = lua_tointeger(L, 1);
    } else {
        int ok;
        seed = lua_tointegerx(L, 1, &ok);
        if (!ok) return luaL_argerror(L, 1, "seed must be an integer");
    }
    Rng *r = lua_newuserdatauv(L, sizeof *r, 0);
    rng_init(r, (uint64_t)seed);
    luaL_setmetatable(L, RNG_META);
    return 1;
}

static int rng_float_l(lua_State *L) {
    lua_pushnumber(L, rng_float(check_rng(L)));
    return 1;
}

static int rng_range(lua_State *L) {
    Rng *r = check_rng(L);
    lua_Number a = luaL_checknumber(L, 2), b = luaL_checknumber(L, 3);
    lua_pushnumber(L, a + (b - a) * rng_float(r));
    return 1;
}

static int rng_int_l(lua_State *L) {
    Rng *r = check_rng(L);
    lua_Integer a = luaL_checkinteger(L, 2), b = luaL_checkinteger(L, 3);
    luaL_argcheck(L, a <= b, 3, "empty interval");
    lua_pushinteger(L, (lua_Integer)rng_int(r, a, b));
    return 1;
}

static int rng_chance(lua_State *L) {
    Rng *r = check_rng(L);
    lua_Number p = luaL_checknumber(L, 2);
    lua_pushboolean(L, rng_float(r) < p);
    return 1;
}

static const luaL_Reg RNG_METHODS[] = {{"float", rng_float_l},
                                       {"range", rng_range},
                                       {"int", rng_int_l},
                                       {"chance", rng_chance},
                                       {NULL, NULL}};

/* ---- the state ---------------------------------------------------------- */

/* Not here, and why: xpcall, because Lua calls its message handler from
 * inside the count hook when the budget trips, where hooks are off, so a
 * handler that loops would never be stopped; rawset, which writes through
 * the frozen proxies; setmetatable is wrapped (no __gc: finalizers also run
 * with hooks off). */
static const char *const BASE_ALLOWED[] = {
    "assert",   "error", "ipairs",   "next",   "pairs",  "pcall",        "select", "tonumber",
    "tostring", "type",  "rawequal", "rawlen", "rawget", "getmetatable", NULL};

static int safe_setmetatable(lua_State *L) {
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        if (lua_rawget(L, 2) != LUA_TNIL)
            return luaL_error(L, "__gc metamethods are not allowed in scripts");
        lua_pop(L, 1);
    }
    lua_settop(L, 2);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, 2, 1);
    return 1;
}

/* Copies the allowed fields of library table `lib` (on the stack top) into
 * a new table, dropping `drop`, and registers it as builtin `name`. */
static void add_lib(LuaHost *h, const char *name, const char *const *drop) {
    lua_State *L = h->L;
    lua_newtable(L);
    lua_pushnil(L);
    while (lua_next(L, -3)) {
        bool skip = false;
        const char *k = lua_tostring(L, -2);
        for (const char *const *d = drop; d && *d; d++) skip = skip || (k && strcmp(k, *d) == 0);
        if (skip) {
            lua_pop(L, 1);
            continue;
        }
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -4);
    }
    lua_remove(L, -2);
    lhost_add_builtin(h, name);
}

/* ---- math: the engine's deterministic functions ------------------------ */

/* libm's transcendental functions differ in the last bit between machines;
 * a stage must come out the same everywhere, so scripts get util/dmath.
 * sqrt, floor, fmod and the rest are exact in IEEE and stay Lua's own. */
static int math_sin(lua_State *L) {
    lua_pushnumber(L, dm_sin(luaL_checknumber(L, 1)));
    return 1;
}
static int math_cos(lua_State *L) {
    lua_pushnumber(L, dm_cos(luaL_checknumber(L, 1)));
    return 1;
}
static int math_tan(lua_State *L) {
    lua_pushnumber(L, dm_tan(luaL_checknumber(L, 1)));
    return 1;
}
static int math_asin(lua_State *L) {
    lua_pushnumber(L, dm_asin(luaL_checknumber(L, 1)));
    return 1;
}
static int math_acos(lua_State *L) {
    lua_pushnumber(L, dm_acos(luaL_checknumber(L, 1)));
    return 1;
}
/* math.atan(y [, x]): atan2, x defaulting to 1, as in Lua. */
static int math_atan(lua_State *L) {
    lua_Number y = luaL_checknumber(L, 1), x = luaL_optnumber(L, 2, 1);
    lua_pushnumber(L, dm_atan2(y, x));
    return 1;
}
static int math_exp(lua_State *L) {
    lua_pushnumber(L, dm_exp(luaL_checknumber(L, 1)));
    return 1;
}
/* math.log(x [, base]): base 2 is exact on powers of two; other bases are
 * log(x) / log(base). */
static int math_log(lua_State *L) {
    lua_Number x = luaL_checknumber(L, 1), r;
    if (lua_isnoneornil(L, 2)) {
        r = dm_log(x);
    } else {
        lua_Number base = luaL_checknumber(L, 2);
        r = base == 2.0 ? dm_log2(x) : dm_log(x) / dm_log(base);
    }
    lua_pushnumber(L, r);
    return 1;
}

static const luaL_Reg MATH_DETERMINISTIC[] = {
    {"sin", math_sin},   {"cos", math_cos},   {"tan", math_tan},
    {"asin", math_asin}, {"acos", math_acos}, {"atan", math_atan},
    {"exp", math_exp},   {"log", math_log},   {NULL, NULL}};

/* The math builtin from Lua's math library (table on the stack top):
 * without random/randomseed (scripts get the host's seeded rally.rng), the
 * transcendental functions replaced by the deterministic ones. */
static void add_math(LuaHost *h) {
    lua_State *L = h->L;
    static const char *const drop[] = {"random", "randomseed", NULL};
    lua_newtable(L);
    lua_pushnil(L);
    while (lua_next(L, -3)) {
        const char *k = lua_tostring(L, -2);
        bool skip = false;
        for (const char *const *d = drop; *d; d++) skip = skip || (k && strcmp(k, *d) == 0);
        if (skip) {
            lua_pop(L, 1);
            continue;
        }
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -4);
    }
    luaL_setfuncs(L, MATH_DETERMINISTIC, 0);
    lua_remove(L, -2);
    lhost_add_builtin(h, "math");
}

/* Builds the sandbox; runs protected, so a failure here (a tiny memory
 * cap) is an error, not a panic. Argument: the LuaHost. */
static int setup_state(lua_State *L) {
    LuaHost *h = lua_touserdata(L, 1);
    lua_settop(L, 0);
    /* Only the libraries we hand out pieces of; no io, os, package, debug. */
    luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
    luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 0);
    luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 0);
    luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 0);
    luaL_requiref(L, LUA_UTF8LIBNAME, luaopen_utf8, 0);
    /* Stack: 1 base, 2 math, 3 string, 4 table, 5 utf8. */
    enum { BASE = 1, MATH, STR, TAB, UTF };
    /* Pattern matching, string.rep and the table functions that loop in C
     * are charged against the budget (the count hook never fires in C). */
    lbounds_install(L, STR, TAB);
    lua_newtable(L);
    h->builtins_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    for (const char *const *n = BASE_ALLOWED; *n; n++) {
        lua_getfield(L, BASE, *n);
        lhost_add_builtin(h, *n);
    }
    lua_getfield(L, TAB, "unpack");
    lhost_add_builtin(h, "unpack");
    lua_getfield(L, BASE, "setmetatable");
    lua_pushcclosure(L, safe_setmetatable, 1);
    lhost_add_builtin(h, "setmetatable");
    lua_pushcfunction(L, host_print);
    lhost_add_builtin(h, "print");
    /* pairs and next in a defined order (see ordered_pairs). */
    lua_pushcfunction(L, ordered_pairs);
    lhost_add_builtin(h, "pairs");
    lua_pushcfunction(L, ordered_next);
    lhost_add_builtin(h, "next");
    static const char *const string_drop[] = {"dump", NULL};
    lua_pushvalue(L, MATH);
    add_math(h);
    /* string.dump must go from the real table too: every string's metatable
     * points at it. The metatable itself is locked against getmetatable. */
    lua_pushnil(L);
    lua_setfield(L, STR, "dump");
    lua_pushvalue(L, STR);
    add_lib(h, "string", string_drop);
    lua_pushvalue(L, TAB);
    add_lib(h, "table", NULL);
    lua_pushvalue(L, UTF);
    add_lib(h, "utf8", NULL);
    lua_pushliteral(L, "");
    if (lua_getmetatable(L, -1)) {
        lua_pushliteral(L, "locked");
        lua_setfield(L, -2, "__metatable");
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    /* The global table itself is not reachable from scripts: their _ENV is
     * their own. Empty it so nothing leaks through a C function's upvalues. */
    lua_settop(L, 0);
    lua_pushglobaltable(L);
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        lua_pushnil(L);
        lua_rawset(L, 1);
    }
    lua_settop(L, 0);
    luaL_newmetatable(L, RNG_META);
    luaL_newlib(L, RNG_METHODS);
    lua_setfield(L, -2, "__index");
    lua_pushliteral(L, "locked");
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushcfunction(L, rng_new);
    lua_setfield(L, -2, "rng");
    lua_setfield(L, LUA_REGISTRYINDEX, "coderally.rally");
    return 0;
}

/* The last line: a Lua error outside any protected call. The host's own
 * code never does that (reads of script values are raw or protected); if
 * a bug does, the operation under lhost_guard fails and the state is marked
 * dead, and only outside any guard does the process stop. */
static int on_panic(lua_State *L) {
    LuaHost *h = host_of(L);
    const char *m = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    snprintf(h->panic_msg, sizeof h->panic_msg, "%s", m ? m : "(error object is not a string)");
    fprintf(stderr, "coderally: Lua error outside a protected call: %s\n", h->panic_msg);
    h->dead = true;
    if (h->panic_jmp) longjmp(*h->panic_jmp, 1);
    return 0; /* Lua aborts */
}

int lhost_create(size_t mem_limit, uint64_t instr_budget, LuaHost **out, CrError *err) {
    *out = NULL;
    LuaHost *h = calloc(1, sizeof *h);
    if (!h) return CR_ENOMEM;
    h->limit = mem_limit;
    h->budget = (LhostBudget){.call_instructions = instr_budget,
                              .call_ms = LHOST_DEFAULT_WATCHDOG_MS,
                              .window_name = "window"};
    h->L = lua_newstate(host_alloc, h);
    if (!h->L) {
        free(h);
        snprintf(err->msg, sizeof err->msg, "cannot create a Lua state");
        return CR_ENOMEM;
    }
    lua_State *L = h->L;
    *(LuaHost **)lua_getextraspace(L) = h;
    lua_atpanic(L, on_panic);
    lua_pushcfunction(L, setup_state);
    lua_pushlightuserdata(L, h);
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
        snprintf(err->msg, sizeof err->msg, "cannot set up a Lua state in %zu KiB: %s",
                 mem_limit >> 10, lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "?");
        lhost_destroy(h);
        return CR_ENOMEM;
    }
    lua_sethook(L, lhost_budget_hook, LUA_MASKCOUNT, HOOK_EVERY);
    *out = h;
    return CR_OK;
}

void lhost_destroy(LuaHost *h) {
    if (!h) return;
    lua_close(h->L);
    free(h);
}

lua_State *lhost_state(LuaHost *h) {
    return h->L;
}

size_t lhost_memory(const LuaHost *h) {
    return h->used;
}

void lhost_set_budget(LuaHost *h, const LhostBudget *b) {
    h->budget = *b;
    if (!h->budget.window_name) h->budget.window_name = "window";
    h->window_spent = 0;
    h->window_ns = 0;
}

const LhostBudget *lhost_budget(const LuaHost *h) {
    return &h->budget;
}

void lhost_begin_window(LuaHost *h) {
    h->window_spent = 0;
    h->window_ns = 0;
}

uint64_t lhost_spent(const LuaHost *h) {
    return h->spent;
}

static int report(LuaHost *h, int status, CrError *err) {
    lua_State *L = h->L;
    const char *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    switch (status) {
        case LUA_ERRMEM:
            /* Lua does not call the message handler for these: the
             * allocator noted where the script was. */
            snprintf(err->msg, sizeof err->msg, "%s%smemory cap of %zu KiB exceeded", h->mem_where,
                     h->mem_where[0] ? " " : "", h->limit >> 10);
            break;
        case LUA_ERRERR:
            snprintf(err->msg, sizeof err->msg, "%s%serror while handling an error: %s",
                     h->mem_where, h->mem_where[0] ? " " : "", msg ? msg : "(no message)");
            break;
        default:
            snprintf(err->msg, sizeof err->msg, "%s", msg ? msg : "(error object is not a string)");
    }
    lua_pop(L, 1);
    return CR_ESCRIPT;
}

static int dead(LuaHost *h, CrError *err) {
    snprintf(err->msg, sizeof err->msg,
             "this script's Lua state was abandoned after an error outside a protected call: %s",
             h->panic_msg);
    return CR_ESCRIPT;
}

int lhost_call(LuaHost *h, int nargs, int nresults, CrError *err) {
    lua_State *L = h->L;
    if (h->dead) {
        lua_pop(L, nargs + 1);
        return dead(h, err);
    }
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, traceback);
    lua_insert(L, base);
    uint64_t t0 = now_ns();
    uint64_t left = h->budget.window_ms ? (uint64_t)h->budget.window_ms * 1000000u : UINT64_MAX;
    left = left > h->window_ns ? left - h->window_ns : 0;
    uint64_t per_call = (uint64_t)h->budget.call_ms * 1000000u;
    uint64_t allowance = per_call < left ? per_call : left;
    h->deadline_ns = t0 + allowance;
    uint64_t wall_allowance = h->budget.wall_ms ? (uint64_t)h->budget.wall_ms * 1000000u
                              : allowance > UINT64_MAX / (2 * LHOST_WALL_FACTOR)
                                  ? UINT64_MAX / 2
                                  : allowance * LHOST_WALL_FACTOR + LHOST_WALL_SLACK_MS * 1000000u;
    h->wall_t0_ns = wall_ns();
    h->wall_deadline_ns = h->wall_t0_ns + wall_allowance;
    h->spent = 0;
    h->hooks = 0;
    h->tripped = NULL;
    h->mem_tripped = false;
    h->mem_where[0] = '\0';
    h->in_call = true;
    lua_sethook(L, lhost_budget_hook, LUA_MASKCOUNT, HOOK_EVERY);
    int status = lua_pcall(L, nargs, nresults, base);
    h->in_call = false;
    lua_remove(L, base);
    h->window_ns += now_ns() - t0;
    /* Re-arm normally: a tripped budget leaves the hook firing every
     * instruction. */
    lua_sethook(L, lhost_budget_hook, LUA_MASKCOUNT, HOOK_EVERY);
    bool tripped = h->mem_tripped;
    h->mem_tripped = false;
    h->tripped = NULL;
    if (status != LUA_OK)
        return report(h,
                      tripped && status == LUA_ERRRUN && !has_position(lua_tostring(L, -1))
                          ? LUA_ERRMEM
                          : status,
                      err);
    return CR_OK;
}

int lhost_protect(LuaHost *h, lua_CFunction fn, void *ud, int nargs, int nresults, CrError *err) {
    lua_State *L = h->L;
    if (!lua_checkstack(L, 3)) {
        lua_pop(L, nargs);
        snprintf(err->msg, sizeof err->msg, "Lua stack overflow");
        return CR_ESCRIPT;
    }
    lua_pushcfunction(L, fn);
    lua_insert(L, -nargs - 1);
    lua_pushlightuserdata(L, ud);
    return lhost_call(h, nargs + 1, nresults, err);
}

int lhost_guard(LuaHost *h, void (*fn)(lua_State *L, void *ud), void *ud, CrError *err) {
    if (h->dead) return dead(h, err);
    jmp_buf jb;
    jmp_buf *prev = h->panic_jmp;
    h->panic_jmp = &jb;
    if (setjmp(jb) == 0) {
        fn(h->L, ud);
        h->panic_jmp = prev;
        return CR_OK;
    }
    h->panic_jmp = prev;
    return dead(h, err);
}

/* Sets a fresh _ENV (over the builtins) as the first upvalue of the chunk
 * at the top of the stack. */
static void set_env(LuaHost *h) {
    lua_State *L = h->L;
    lua_newtable(L);
    lua_newtable(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, h->builtins_ref);
    lua_pushcclosure(L, env_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, env_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_setmetatable(L, -2);
    lua_setupvalue(L, -2, 1);
}

/* Arguments: the loaded chunk, the LuaHost. Gives it its _ENV and runs it
 * for one result. */
static int run_chunk(lua_State *L) {
    LuaHost *h = lua_touserdata(L, 2);
    lua_settop(L, 1);
    set_env(h);
    lua_call(L, 0, 1);
    return 1;
}

int lhost_run_string(LuaHost *h, const char *code, size_t len, const char *chunkname,
                     CrError *err) {
    lua_State *L = h->L;
    int rc = lsource_check(code, len, chunkname, err);
    if (rc) return rc;
    if (h->dead) return dead(h, err);
    h->mem_where[0] = '\0';
    int status = luaL_loadbufferx(L, code, len, chunkname, "t");
    if (status != LUA_OK) return report(h, status, err);
    return lhost_protect(h, run_chunk, h, 1, 1, err);
}

void lhost_push_chunk(lua_State *L, const char *code, size_t len, const char *chunkname) {
    LuaHost *h = host_of(L);
    CrError err;
    if (lsource_check(code, len, chunkname, &err)) luaL_error(L, "%s", err.msg);
    if (luaL_loadbufferx(L, code, len, chunkname, "t") != LUA_OK) lua_error(L);
    set_env(h);
}
