/* lsource.h - checks on a script's source text before Lua compiles it. */
#ifndef CR_LSOURCE_H
#define CR_LSOURCE_H

#include <stddef.h>

#include "coderally.h"

/* Refuses the '^' operator unless its exponent is the literal 2. Lua
 * computes x^2 as x*x, exact everywhere, but every other power calls the C
 * library's pow, whose last bit differs between machines (glibc picks a
 * variant by CPU), and Lua also folds constant powers with it at compile
 * time. So this runs on the text, before compiling. CR_OK, or CR_ESCRIPT
 * with "file:line: message" in err; chunkname as for luaL_loadbuffer. */
int lsource_check(const char *code, size_t len, const char *chunkname, CrError *err);

#endif
