/*
 * lbounds.c - bounded C library functions. The count hook only fires
 * between VM instructions, so string.find(("a"):rep(30000), ".-.-.-.-b")
 * would run for hours inside one instruction. Each wrapper here estimates
 * the worst case before calling the real function and charges it against
 * the state's budget (lhost_charge), which refuses with the script's line
 * when it does not fit. Estimates are deterministic: the same script fails
 * the same way on every machine.
 */
#include "lua/lbounds.h"

#include <lauxlib.h>
#include <lualib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lua/lhost.h"

#define SPECIALS "^$*+?.([%-"

double lbounds_pattern_cost(size_t n, const char *p, size_t lp) {
    double per = 1, starts = (double)n + 1;
    size_t i = 0;
    if (lp && p[0] == '^') {
        starts = 1;
        i = 1;
    }
    while (i < lp) {
        char c = p[i];
        size_t end;
        bool repeats = false; /* this item scans up to n bytes */
        if (c == '(' || c == ')') {
            i++;
            continue;
        }
        if (c == '%' && i + 1 < lp) {
            char d = p[i + 1];
            if (d == 'b') {
                end = i + 4;
                repeats = true;
            } else if (d == 'f') {
                /* %f[set]: a one-byte test; skip the set like '[' below. */
                size_t j = i + 3;
                if (j < lp && p[j] == '^') j++;
                do {
                    if (j >= lp) break;
                    j += p[j] == '%' ? 2 : 1;
                } while (j < lp && p[j] != ']');
                i = j + 1;
                continue;
            } else {
                end = i + 2;
                repeats = d >= '0' && d <= '9';
            }
        } else if (c == '[') {
            size_t j = i + 1;
            if (j < lp && p[j] == '^') j++;
            do {
                if (j >= lp) break;
                j += p[j] == '%' ? 2 : 1;
            } while (j < lp && p[j] != ']');
            end = j + 1;
        } else {
            end = i + 1;
        }
        if (end < lp && (p[end] == '*' || p[end] == '+' || p[end] == '-')) {
            end++;
            repeats = true;
        } else if (end < lp && p[end] == '?') {
            end++;
            per *= 2;
        }
        /* What follows, ignoring capture closes: nothing means no
         * backtracking into this item. */
        size_t k = end;
        while (k < lp && p[k] == ')') k++;
        if (repeats) per *= k < lp ? (double)n + 1 : 1;
        if (repeats && k >= lp) per += (double)n;
        i = end;
        if (per > 1e30) break;
    }
    return starts * per + (double)lp;
}

/* Upvalue 1 of every wrapper is the real function. Calls it with the
 * wrapper's arguments and returns all its results. */
static int forward(lua_State *L) {
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, n, LUA_MULTRET);
    return lua_gettop(L);
}

static void charge_pattern(lua_State *L, const char *fname, bool may_be_plain) {
    size_t n, lp;
    const char *s = luaL_checklstring(L, 1, &n);
    const char *p = luaL_checklstring(L, 2, &lp);
    (void)s;
    /* Every byte, not strpbrk: a NUL must not hide the specials after it. */
    bool specials = false;
    for (size_t i = 0; i < lp && !specials; i++) specials = p[i] && strchr(SPECIALS, p[i]);
    bool plain = (may_be_plain && lua_toboolean(L, 4)) || !specials;
    double cost;
    if (plain && may_be_plain)
        cost = (double)n + (double)lp;
    else
        cost = lbounds_pattern_cost(n, p, lp);
    char what[96];
    snprintf(what, sizeof what, "%s on %zu bytes with pattern of %zu", fname, n, lp);
    lhost_charge(L, cost, what);
}

static int b_find(lua_State *L) {
    charge_pattern(L, "string.find", true);
    return forward(L);
}

static int b_match(lua_State *L) {
    charge_pattern(L, "string.match", false);
    return forward(L);
}

static int b_gmatch(lua_State *L) {
    charge_pattern(L, "string.gmatch", false);
    return forward(L);
}

static int b_gsub(lua_State *L) {
    charge_pattern(L, "string.gsub", false);
    return forward(L);
}

static int b_rep(lua_State *L) {
    size_t l, lsep = 0;
    luaL_checklstring(L, 1, &l);
    lua_Integer n = luaL_checkinteger(L, 2);
    luaL_optlstring(L, 3, "", &lsep);
    double total = n > 0 ? (double)n * ((double)l + (double)lsep) : 0;
    lhost_charge(L, total / 16 + 1, "string.rep");
    return forward(L);
}

static int b_utf8_len(lua_State *L) {
    size_t l;
    luaL_checklstring(L, 1, &l);
    lhost_charge(L, (double)l / 16 + 1, "utf8.len");
    return forward(L);
}

/* Length of the table argument at idx as the real function will see it. */
static double len_of(lua_State *L, int idx) {
    luaL_checktype(L, idx, LUA_TTABLE);
    return (double)luaL_len(L, idx);
}

static int b_sort(lua_State *L) {
    double n = len_of(L, 1);
    lhost_charge(L, n > 1 ? 2 * n * log2(n) : 1, "table.sort");
    return forward(L);
}

static int b_concat(lua_State *L) {
    double i = (double)luaL_optinteger(L, 3, 1);
    double j = lua_isnoneornil(L, 4) ? len_of(L, 1) : (double)luaL_checkinteger(L, 4);
    lhost_charge(L, j >= i ? j - i + 1 : 1, "table.concat");
    return forward(L);
}

static int b_unpack(lua_State *L) {
    double i = (double)luaL_optinteger(L, 2, 1);
    double j = lua_isnoneornil(L, 3) ? (double)luaL_len(L, 1) : (double)luaL_checkinteger(L, 3);
    lhost_charge(L, j >= i ? j - i + 1 : 1, "table.unpack");
    return forward(L);
}

/* table.insert(t, pos, v) and table.remove(t, pos) shift the elements after
 * pos; without a position they append or drop the last, which is O(1) (and
 * charging n there would make building a list with insert quadratic). */
static int b_insert(lua_State *L) {
    if (lua_gettop(L) >= 3) lhost_charge(L, len_of(L, 1) + 1, "table.insert");
    return forward(L);
}

static int b_remove(lua_State *L) {
    if (lua_gettop(L) >= 2) lhost_charge(L, len_of(L, 1) + 1, "table.remove");
    return forward(L);
}

static int b_move(lua_State *L) {
    double f = (double)luaL_checkinteger(L, 2), e = (double)luaL_checkinteger(L, 3);
    lhost_charge(L, e >= f ? e - f + 1 : 1, "table.move");
    return forward(L);
}

static void wrap(lua_State *L, int lib, const char *name, lua_CFunction fn) {
    lua_getfield(L, lib, name);
    lua_pushcclosure(L, fn, 1);
    lua_setfield(L, lib, name);
}

void lbounds_install(lua_State *L, int str_idx, int tab_idx) {
    str_idx = lua_absindex(L, str_idx);
    tab_idx = lua_absindex(L, tab_idx);
    wrap(L, str_idx, "find", b_find);
    wrap(L, str_idx, "match", b_match);
    wrap(L, str_idx, "gmatch", b_gmatch);
    wrap(L, str_idx, "gsub", b_gsub);
    wrap(L, str_idx, "rep", b_rep);
    wrap(L, tab_idx, "sort", b_sort);
    wrap(L, tab_idx, "concat", b_concat);
    wrap(L, tab_idx, "unpack", b_unpack);
    wrap(L, tab_idx, "insert", b_insert);
    wrap(L, tab_idx, "remove", b_remove);
    wrap(L, tab_idx, "move", b_move);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    if (lua_getfield(L, -1, LUA_UTF8LIBNAME) == LUA_TTABLE)
        wrap(L, lua_gettop(L), "len", b_utf8_len);
    lua_pop(L, 2);
}
