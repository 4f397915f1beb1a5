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

typedef struct LuaHost LuaHost;

/* A fresh state with the standard allow-list. */
int lhost_create(size_t mem_limit, uint64_t instr_budget, LuaHost **out, CrError *err);
void lhost_destroy(LuaHost *h);
lua_State *lhost_state(LuaHost *h);

/* Pops the value on top of the stack and makes it a builtin named name,
 * frozen (read-only, recursively for tables). Call before loading scripts. */
void lhost_add_builtin(LuaHost *h, const char *name);

/* Loads path as text (never bytecode) with a fresh _ENV over the builtins,
 * runs it and leaves its first return value on the stack. chunkname is
 * what messages call the file. */
int lhost_run_file(LuaHost *h, const char *path, CrError *err);
int lhost_run_string(LuaHost *h, const char *code, size_t len, const char *chunkname, CrError *err);

/* From inside a Lua C function: loads path as a text chunk with a fresh
 * _ENV over the builtins and pushes it; raises a Lua error (named with the
 * path) if it cannot. Files over 1 MiB are refused. */
void lhost_push_chunk(lua_State *L, const char *path);

/* lua_pcall with the traceback handler and a fresh instruction budget.
 * The function and its nargs arguments are on the stack. */
int lhost_call(LuaHost *h, int nargs, int nresults, CrError *err);

/* Runs the C function fn in protected mode with the nargs values on top of
 * the stack (they are consumed) followed by ud as a light userdata, under
 * the budget and the traceback handler. Every C read of a script's tables
 * that is not raw goes through here, so a metamethod that errors is an
 * error in err, never a panic. */
int lhost_protect(LuaHost *h, lua_CFunction fn, void *ud, int nargs, CrError *err);

/* Bytes the state holds now. */
size_t lhost_memory(const LuaHost *h);

/* Pushes a read-only proxy of the table at idx (recursively). */
void lhost_push_frozen(lua_State *L, int idx);

#endif
