/*
 * ladder.h - the background ladder: races saved bots against each other so
 * their ratings mean something (like CodinGame's leagues or RoboRumble).
 * Each race takes the least-raced bot version and the bots rated closest to
 * it, runs it headless through the race runner (cengine/match/) flat out,
 * and records it like any race (kind ladder, results, replay, ratings) in
 * one transaction.
 *
 * A ladder has its own thread, its own Store connection, its own Scripts
 * snapshot and, per race, its own zygote: nothing it does waits on, or
 * makes wait, the server's event loop. The thread is niced (its bot
 * processes inherit that) and time-sliced to a share of one core.
 */
#ifndef CR_SERVER_LADDER_H
#define CR_SERVER_LADDER_H

#include <stdbool.h>
#include <stddef.h>

#include "coderally.h"

typedef struct Ladder Ladder;

#define LADDER_MAX_BOTS 6 /* bots per ladder race */

typedef struct {
    const char *db_path;
    const char *scripts_dir;
    const ConfigOverride *sets;
    size_t n_sets;
    const char *botd_path; /* NULL: next to the executable */
    /* Share of one core, 0..1 (LADDER_CPU_SHARE): the thread runs for a
     * slice then sleeps slice * (1 - share) / share. 1 = flat out. */
    double cpu_share;
} LadderConfig;

/* Opens the ladder's store connection and scripts; no thread yet. */
int ladder_create(const LadderConfig *cfg, Ladder **out, CrError *err);
/* Stops the thread (the race in flight is recorded aborted) and frees all.
 * NULL does nothing. */
void ladder_destroy(Ladder *l);
/* Starts the background thread: races one after another while at least
 * two bots are saved, otherwise looks again every few seconds. */
int ladder_start(Ladder *l, CrError *err);
/* One ladder race now, on the calling thread (tests, and the thread's
 * body). *raced is false when fewer than two bots are saved. */
int ladder_race(Ladder *l, bool *raced, CrError *err);
/* Races finished (recorded) and aborted since create. Any thread. */
long ladder_races_done(const Ladder *l);
long ladder_races_aborted(const Ladder *l);

#endif
