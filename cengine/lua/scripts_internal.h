/* scripts_internal.h - the parts of a scripts snapshot shared by the files
 * that implement it: snapshot (files in memory), scripts (open, reload,
 * references), config, hostapi (rally, import), generators, upgrades, rules. */
#ifndef CR_SCRIPTS_INTERNAL_H
#define CR_SCRIPTS_INTERNAL_H

#include <stdarg.h>
#include <stdatomic.h>

#include "coderally.h"
#include "lua/lhost.h"

/* Budgets per use (LhostBudget): generation is generous; a rules hook runs on
 * the tick path, so it is small per call and per tick: 100k instructions
 * (allocations charged) cost at most about 1 ms of CPU on our machine
 * (docs/BENCHMARKS.md), so one room's rules cannot delay a tick by more. */
#define GEN_INSTRUCTIONS 200000000ULL
#define GEN_WATCHDOG_MS 10000
#define RULES_CALL_INSTRUCTIONS 50000ULL
#define RULES_TICK_INSTRUCTIONS 100000ULL
/* The watchdog backs the counts; it is a clock, so not deterministic, and
 * set well above what the tick budget costs (about 1 ms) so a loaded
 * machine does not abort honest races. */
#define RULES_WATCHDOG_MS 10
#define RULES_SETUP_INSTRUCTIONS 10000000ULL /* loading, time limits, points */
#define RULES_MEMORY (16u << 20)

/* One file of the snapshot: its path relative to the scripts folder and
 * its text, read once when the snapshot was opened. */
typedef struct {
    char *rel; /* "stages/forest.lua" */
    char *text;
    size_t len;
    int64_t mtime_ns;
    int64_t size;
} ScriptFile;

typedef struct {
    char key[64];
    int type; /* LUA_TNUMBER, LUA_TSTRING or LUA_TBOOLEAN */
    double num;
    char *str;
} ConfigEntry;

typedef struct {
    GeneratorInfo info;
    bool probed; /* info and error are known (generators load lazily) */
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
    atomic_int refs;
    char *dir;
    /* the overrides it was opened with, for reload */
    ConfigOverride *ov;
    size_t nov;
    /* snapshot.c */
    ScriptFile *files; /* sorted by rel */
    size_t nfiles;
    char *listing; /* what the folders held: "rel\tsize\tmtime\n"... */
    /* stage cache */
    CachedStage cache[STAGE_CACHE];
    uint64_t clock;
    LuaHost *host; /* config and upgrades */
    ConfigEntry *cfg;
    size_t ncfg;
    GenEntry *gens;
    size_t ngens;
    SurfaceTable surfaces; /* surfaces.lua, or the default */
    /* upgrades.lua */
    int stats_ref; /* registry ref of its stats() function */
    CarTypeInfo *cars;
    size_t ncars;
    UpgradeInfo *ups;
    size_t nups;
    /* values[(car * nups + up) * (CR_UPGRADE_MAX_LEVELS + 1) + level] */
    double *values;
};

/* ---- snapshot.c ---- */
/* Reads every script the snapshot may use into sc->files. */
int snapshot_read(Scripts *sc, CrError *err);
void snapshot_free(Scripts *sc);
/* The file at rel ("rules/standard.lua"), or NULL. */
const ScriptFile *snapshot_file(const Scripts *sc, const char *rel);
/* Lists dir's script folders as snapshot_read would ("rel\tsize\tmtime\n"
 * per file); the caller frees *out. */
int snapshot_listing(const char *dir, char **out, CrError *err);
/* Runs file rel of the snapshot in h (chunk "@rel"), leaving its result;
 * CR_ENOTFOUND (with err) if the snapshot has no such file. */
int snapshot_run(const Scripts *sc, LuaHost *h, const char *rel, CrError *err);

/* ---- config.c ---- */
int config_load(Scripts *sc, CrError *err);
void config_free(Scripts *sc);

/* ---- hostapi.c ---- */
/* A new sandboxed state with the `rally` builtin (rng, limits, surfaces)
 * and `import` over this snapshot's lib/. The state must not outlive sc. */
int scripts_new_host(const Scripts *sc, size_t mem, const LhostBudget *budget, LuaHost **out,
                     CrError *err);

/* ---- generators.c ---- */
int generators_scan(Scripts *sc, CrError *err);
void generators_free(Scripts *sc);
/* Probes every generator; the first error found, if any, into err. */
int generators_check_all(Scripts *sc, CrError *err);

/* ---- surfaces.c ---- */
/* Reads surfaces.lua (if the snapshot has one) into sc->surfaces. */
int surfaces_load(Scripts *sc, CrError *err);

/* ---- upgrades.c ---- */
int upgrades_load(Scripts *sc, CrError *err);
void upgrades_free(Scripts *sc);

/* ---- rules.c ---- */
/* Loads and checks every rules/NAME.lua without a race. */
int rules_check_all(Scripts *sc, CrError *err);

/* ---- scripts.c ---- */
/* Is name a safe script name: [a-z0-9_-], 1..31 chars? */
bool scripts_valid_name(const char *name);
/* snprintf into err->msg; returns rc. */
int scripts_fail(CrError *err, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
