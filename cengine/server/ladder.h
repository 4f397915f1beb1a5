/*
 * ladder.h - the background ladder: races saved bots against each other so
 * their ratings mean something (like CodinGame's leagues or RoboRumble).
 * Each race takes the least-raced bot version and the bots rated closest to
 * it, runs it headless through the race runner (cengine/match/) flat out,
 * and records it like any race (kind ladder, results, replay, ratings) in
 * one transaction.
 *
 * A ladder has its own thread, its own Store connection, its own Scripts
 * snapshot and its own bot zygote: nothing it does waits on, or makes
 * wait, the server's event loop. The zygote is started on the ladder's
 * thread at its first race with bots and kept for every race after (a
 * BotHost is single-threaded: it never leaves that thread); the host
 * restarts it if it dies, and it is stopped with the ladder. The thread is
 * niced (the zygote and its bot workers inherit that) and time-sliced to a
 * share of one core. Its races' replays are written in the server's
 * private folder (replaydir.h) and removed once stored.
 */
#ifndef CR_SERVER_LADDER_H
#define CR_SERVER_LADDER_H

#include <stdbool.h>
#include <stddef.h>

#include "coderally.h"
#include "replaydir.h"

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
    const ReplayDir *replays; /* where a race's replay is written until stored */
} LadderConfig;

/* Opens the ladder's store connection and scripts; no thread yet. */
int ladder_create(const LadderConfig *cfg, Ladder **out, CrError *err);
/* Stops the thread (the race in flight is recorded aborted), its zygote,
 * and frees all. NULL does nothing. */
void ladder_destroy(Ladder *l);
/* Starts the background thread: races one after another while at least
 * two bots are saved, otherwise looks again every few seconds. */
int ladder_start(Ladder *l, CrError *err);
/* One ladder race now, on the calling thread (tests, and the thread's
 * body). *raced is false when fewer than two bots are saved. The zygote
 * belongs to the thread that first raced: call it from one thread only. */
int ladder_race(Ladder *l, bool *raced, CrError *err);
/* Races finished (recorded) and aborted since create. Any thread. */
long ladder_races_done(const Ladder *l);
long ladder_races_aborted(const Ladder *l);

#endif
