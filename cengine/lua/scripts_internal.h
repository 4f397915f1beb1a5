/* scripts_internal.h - pieces of the scripts module shared with rules.c. */
#ifndef CR_SCRIPTS_INTERNAL_H
#define CR_SCRIPTS_INTERNAL_H

#include "coderally.h"
#include "lua/lhost.h"

/* A new sandboxed state with the `rally` builtin (rng, limits, surfaces). */
int scripts_new_host(const Scripts *sc, LuaHost **out, CrError *err);

/* Joins dir and name into out (size n); CR_EINVAL if it does not fit. */
int scripts_path(const Scripts *sc, const char *sub, const char *name, char *out, size_t n);

/* Is name a safe script name: [a-z0-9_-], 1..31 chars? */
bool scripts_valid_name(const char *name);

#endif
