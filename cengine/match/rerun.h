/*
 * rerun.h - a recorded replay re-simulated on the race runner: every
 * recorded state hash checked (verify), or the race written out as JSON
 * lines for viewers (export). `coderally replay verify|export` and the
 * server's GET /api/races/{id}/replay.json both call it, so the CLI and the
 * API give byte-identical exports of the same replay.
 *
 * Export format (one JSON object per line, in tick order):
 *   {"tick": T, "car": C, "drawings": [{"kind", "rgb", "a", "b", "c", "d",
 *    "text"}]}                 a bot's debug drawings, before the step from T
 *   {"tick": T, "phase": P, "time_s": S, "cars": [{"x", "y", "heading", "vx",
 *    "vy", "flags", "position", "checkpoints"}]}   after the step reaching T,
 *                              for every T that is a multiple of `every`
 */
#ifndef CR_RERUN_H
#define CR_RERUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "coderally.h"
#include "sim/replay.h"

typedef struct {
    /* > 0: write the export to out, a snapshot every `every` ticks; 0: only
     * verify. */
    int every;
    FILE *out;
    /* Stop with CR_EINVAL once the export passes this many bytes (0: no
     * cap), so a server never builds an answer larger than it means to. */
    size_t max_bytes;
} RerunOptions;

/* What a rerun found beside its result; filled even when it fails. */
typedef struct {
    /* The generator's version now, when it differs from the recorded one
     * (a note: the stage hash decides). "" if the same. */
    char generator_version_now[CR_NAME_MAX];
    bool rules_changed;    /* rules/NAME.lua differs from the recording (a note) */
    bool stage_settings;   /* the replay's own STAGE_* settings were applied */
    size_t hashes_checked; /* state hashes that matched */
    uint32_t final_tick;
    size_t bytes; /* exported */
} RerunReport;

/* Re-simulates r with the scripts of sc (or, when r records STAGE_*
 * settings that differ from sc's, with sc's folder opened again under the
 * recorded ones). CR_OK when every hash matched; CR_EMISMATCH naming the
 * first tick that differs; CR_ENOTFOUND (no such generator), CR_ESTAGE (the
 * stage or surfaces.lua changed since the recording), CR_ESCRIPT (a rules
 * failure), CR_EIO (out could not be written), CR_EINVAL (past
 * max_bytes) with err saying why. */
int rerun_replay(Scripts *sc, const Replay *r, const RerunOptions *opt, RerunReport *report,
                 CrError *err);

#endif
