/*
 * lhost.h - a sandboxed Lua 5.4 state for one purpose (config, one race's
 * rules, one stage generation). Scripts see an allow-listed, frozen set of
 * builtins through their own _ENV; unknown globals are an error. A count hook
 * enforces an instruction budget that pcall cannot swallow, an allocator
 * enforces a memory cap, and every call returns "file:line: message" plus a
 * traceback instead of crashing.
 */
#ifndef CR_LHOST_H
#define CR_LHOST_H

#include <lua.h>
#include <stdint.h>

#include "coderally.h"

#define LHOST_DEFAULT_MEMORY (64u << 20)
#define LHOST_DEFAULT_BUDGET 200000000ULL /* VM instructions per call */
#define LHOST_DEFAULT_WATCHDOG_MS 10000   /* CPU time per call */
/* The wall-clock backstop allows LHOST_WALL_FACTOR times the CPU allowance
 * plus LHOST_WALL_SLACK_MS (or LhostBudget.wall_ms when set). */
#define LHOST_WALL_FACTOR 100u
#define LHOST_WALL_SLACK_MS 1000u

/* What one use of a state may spend. Instructions are VM instructions
 * counted by the hook (every 1000), plus the work charged for C library
 * functions that loop (patterns, string.rep, table.sort/concat/unpack). A
 * window groups calls (a tick of a race, for rules): its budget is shared by
 * every call in it. The watchdog is the thread's CPU clock (so a loaded
 * machine does not trip it), read in the count hook every few thousand
 * instructions; it backs the counts (work they miss, such as comparing long
 * strings) and is the only limit that is not deterministic, with a
 * wall-clock backstop far past it (LHOST_WALL_FACTOR) for whatever the CPU
 * clock cannot see. Any limit tripped is an error pcall
 * cannot swallow. */
typedef struct {
    uint64_t call_instructions;
    uint64_t window_instructions; /* 0: no window limit */
    uint32_t call_ms;             /* watchdog per call */
    uint32_t window_ms;           /* watchdog per window; 0: none */
    uint32_t wall_ms;             /* wall-clock backstop per call; 0: from the CPU allowance */
    const char *window_name;      /* "tick": how messages call a window */
} LhostBudget;

typedef struct LuaHost LuaHost;

/* A fresh state with the standard allow-list. */
int lhost_create(size_t mem_limit, uint64_t instr_budget, LuaHost **out, CrError *err);
void lhost_destroy(LuaHost *h);
lua_State *lhost_state(LuaHost *h);

/* Pops the value on top of the stack and makes it a builtin named name,
 * frozen (read-only, recursively for tables). Call before loading scripts. */
void lhost_add_builtin(LuaHost *h, const char *name);

/* Loads code as text (never bytecode) with a fresh _ENV over the builtins,
 * runs it and leaves its first return value on the stack. chunkname is
 * what messages call the file ("@stages/forest.lua"). */
int lhost_run_string(LuaHost *h, const char *code, size_t len, const char *chunkname, CrError *err);

/* From inside a Lua C function: loads code as a text chunk with a fresh
 * _ENV over the builtins and pushes it; raises a Lua error if it cannot. */
void lhost_push_chunk(lua_State *L, const char *code, size_t len, const char *chunkname);

/* Budgets (see LhostBudget); lhost_create sets call_instructions and the
 * default watchdog. begin_window starts a new window (a new tick). */
void lhost_set_budget(LuaHost *h, const LhostBudget *b);
const LhostBudget *lhost_budget(const LuaHost *h);
void lhost_begin_window(LuaHost *h);
/* Instructions (and charged work) the last or current call has spent. */
uint64_t lhost_spent(const LuaHost *h);

/* From a C function scripts call: charges work (in instructions) for what
 * it is about to do; raises the budget error, naming the caller's line and
 * what, if that breaks the budget. */
void lhost_charge(lua_State *L, double work, const char *what);

/* "file:line:" of the innermost running Lua function with a line, or "". */
void lhost_where(lua_State *L, char *out, size_t n);

/* The count hook, for states that need it re-armed by hand. */
void lhost_budget_hook(lua_State *L, lua_Debug *ar);

/* Runs fn, which may call the Lua API unprotected, with a recovery point:
 * a Lua error there (which would be a panic) makes this return CR_ESCRIPT
 * with the message, and marks the state dead (every later call on it fails
 * with that message) instead of aborting the process. */
int lhost_guard(LuaHost *h, void (*fn)(lua_State *L, void *ud), void *ud, CrError *err);

/* lua_pcall with the traceback handler and a fresh instruction budget.
 * The function and its nargs arguments are on the stack. */
int lhost_call(LuaHost *h, int nargs, int nresults, CrError *err);

/* Runs the C function fn in protected mode with the nargs values on top of
 * the stack (they are consumed) followed by ud as a light userdata, leaving
 * nresults results, under
 * the budget and the traceback handler. Every C read of a script's tables
 * that is not raw goes through here, so a metamethod that errors is an
 * error in err, never a panic. */
int lhost_protect(LuaHost *h, lua_CFunction fn, void *ud, int nargs, int nresults, CrError *err);

/* Bytes the state holds now. */
size_t lhost_memory(const LuaHost *h);

/* Pushes a read-only proxy of the table at idx (recursively). */
void lhost_push_frozen(lua_State *L, int idx);

#endif
