/* lbounds.h - the library functions that loop in C, where the count hook
 * never fires, wrapped so their work is charged against the budget. */
#ifndef CR_LBOUNDS_H
#define CR_LBOUNDS_H

#include <lua.h>
#include <stddef.h>

/* Replaces string.find/match/gmatch/gsub/rep, utf8.len and
 * table.sort/concat/unpack/insert/remove/move in the real library tables
 * at str_idx and tab_idx (strings' metatable points at the string table,
 * so methods are covered too) with charging wrappers. */
void lbounds_install(lua_State *L, int str_idx, int tab_idx);

/* Worst-case steps of Lua's backtracking matcher for pattern p on a subject
 * of n bytes, every start position included (gsub and gmatch do no worse
 * than one find that fails everywhere): (n+1) starts unless anchored, times
 * (n+1) per repetition item (* + -, %b, back-references) that has anything
 * after it, times 2 per '?'. A repetition that ends the pattern never
 * backtracks and counts once. */
double lbounds_pattern_cost(size_t n, const char *p, size_t lp);

#endif
