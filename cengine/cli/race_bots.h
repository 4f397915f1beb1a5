/*
 * race_bots.h - Python bots in a CLI race: the glue between the race loop in
 * cmd_race.c and the sandboxed bot workers (cengine/bot/, coderally-botd).
 *
 * The race loop owns the RaceRoom. On every bot tick it calls race_bots_tick,
 * which sends each bot car's sensor record to its worker (all bots at once,
 * in parallel across processes), collects actions by the deadline and writes
 * the validated inputs. A bot that fails, times out or crashes gets neutral
 * input for that tick; only setting up the workers can fail the race.
 */
#ifndef CR_RACE_BOTS_H
#define CR_RACE_BOTS_H

#include "coderally.h"
#include "bot_proto.h"

typedef struct RaceBots RaceBots;

typedef struct {
    const char *botd_path;        /* coderally-botd executable; NULL = next to coderally */
    double memory_limit_mb;       /* BOT_MEMORY_LIMIT_MB */
    double timeout_ms;            /* BOT_EXECUTION_TIMEOUT_MS, CPU per on_tick */
    const CarEntry *cars;         /* the race's cars by index, for predict(); may be NULL */
    const SurfaceTable *surfaces; /* the stage's (stage_surfaces); NULL: the default */
} RaceBotsConfig;

/* Per-bot figures for the results table and --json. */
typedef struct {
    long calls, timeouts, errors, restarts;
    double mean_us, worst_us; /* round trip of on_tick calls */
} BotStats;

/* Starts one worker per file (source read and compiled inside the worker).
 * cars[i] is the race car index driven by files[i]. seed seeds each bot's
 * `random`. A file that cannot be read or does not compile fails with
 * CR_ESCRIPT and the problems listed in err. The caller owns *out. */
int race_bots_start(const RaceBotsConfig *cfg, const char *const *files, const int *cars, int n,
                    uint64_t seed, RaceBots **out, CrError *err);

/* Bot tick: fills inputs[car] for every bot car of room. */
int race_bots_tick(RaceBots *rb, const RaceRoom *room, CarInput *inputs, CrError *err);

/* Forwards the events of the last step (start, checkpoint, collision, finish)
 * to the bots they concern; delivered with their next tick. */
void race_bots_events(RaceBots *rb, const RaceEvent *events, size_t n);

/* At race end: delivers on_finish, collects each bot's memory (JSON). */
int race_bots_finish(RaceBots *rb, const RaceRoom *room, CrError *err);

int race_bots_count(const RaceBots *rb);
void race_bots_stats(const RaceBots *rb, int i, BotStats *out);
/* The bot's memory as JSON after race_bots_finish, or NULL. */
const char *race_bots_memory(const RaceBots *rb, int i);
/* Debug drawings the bot returned with its last actions (world coordinates;
 * see bot_proto.h), for overlays and replays. NULL and *n = 0 if none. */
const BotDrawing *race_bots_drawings(const RaceBots *rb, int i, int *n);
/* The race car index bot i drives, or -1. */
int race_bots_car(const RaceBots *rb, int i);
/* Writes DIR/<car name>.log for every bot. */
int race_bots_write_logs(const RaceBots *rb, const RaceRoom *room, const char *dir, CrError *err);

void race_bots_destroy(RaceBots *rb);

#endif
