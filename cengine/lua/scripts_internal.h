/* scripts_internal.h - the parts of a scripts snapshot shared by the files
 * that implement it (config, host API, generators, upgrades, rules). */
#ifndef CR_SCRIPTS_INTERNAL_H
#define CR_SCRIPTS_INTERNAL_H

#include <stdarg.h>

#include "coderally.h"
#include "lua/lhost.h"

typedef struct {
    char key[64];
    int type; /* LUA_TNUMBER, LUA_TSTRING or LUA_TBOOLEAN */
    double num;
    char *str;
} ConfigEntry;

typedef struct {
    GeneratorInfo info;
    char *error; /* why it failed to load, or NULL */
} GenEntry;

/* Recently generated stages, by generator, version, seed and params. */
#define STAGE_CACHE 16
typedef struct {
    char key[512];
    Stage *stage; /* one reference held by the cache */
    uint64_t used;
} CachedStage;

struct Scripts {
    char *dir;
    CachedStage cache[STAGE_CACHE];
    uint64_t clock;
    LuaHost *host; /* config and upgrades */
    ConfigEntry *cfg;
    size_t ncfg;
    GenEntry *gens;
    size_t ngens;
    /* upgrades.lua */
    int stats_ref; /* registry ref of its stats() function */
    CarTypeInfo *cars;
    size_t ncars;
    UpgradeInfo *ups;
    size_t nups;
    /* values[(car * nups + up) * (CR_UPGRADE_MAX_LEVELS + 1) + level] */
    double *values;
};

/* A new sandboxed state with the `rally` builtin (rng, limits, surfaces). */
int scripts_new_host(const Scripts *sc, LuaHost **out, CrError *err);

/* Joins dir and name into out (size n); CR_EINVAL if it does not fit. */
int scripts_path(const Scripts *sc, const char *sub, const char *name, char *out, size_t n);

/* Is name a safe script name: [a-z0-9_-], 1..31 chars? */
bool scripts_valid_name(const char *name);

/* snprintf into err->msg; returns rc. */
int scripts_fail(CrError *err, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Reads upgrades.lua into sc (car types, upgrades, every level's value). */
int upgrades_load(Scripts *sc, CrError *err);
void upgrades_free(Scripts *sc);

#endif
