/* stage_dump.c - `cr-stage-dump`: runs a Lua generator natively and prints
 * the stage as the browser's engine takes it (centre-line points, checkpoint
 * indices, limits) plus the standard rules' tick numbers and the native
 * stage hash, so the WebAssembly build can be checked against this one. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coderally.h"
#include "sim/replay.h"
#include "wasm/crwasm.h"

static int usage(void) {
    fputs(
        "usage: cr-stage-dump SCRIPTS_DIR GENERATOR SEED [RULES]\n"
        "       cr-stage-dump SCRIPTS_DIR GENERATOR SEED RULES REPLAY   (hash per tick)\n",
        stderr);
    return 2;
}

/* Re-runs a replay through the crwasm API, natively, printing "tick hash"
 * per tick: the reference the WASM build's per-tick hashes are diffed with. */
static int trace_replay(const Stage *st, const RaceRules *rr, const char *path) {
    Replay *rp;
    CrError err = {{0}};
    if (replay_read(path, &rp, &err)) {
        fprintf(stderr, "cr-stage-dump: %s\n", err.msg);
        return 1;
    }
    const ReplayHeader *h = &rp->header;
    double stats[CR_MAX_CARS * CRW_STATS];
    int kinds[CR_MAX_CARS];
    for (int i = 0; i < h->n_cars; i++) {
        const CarStats *k = &h->cars[i].stats;
        double v[CRW_STATS] = {k->top_speed,      k->acceleration,   k->grip,     k->braking,
                               k->nitro_capacity, k->nitro_duration, k->handling, k->weight};
        memcpy(stats + CRW_STATS * i, v, sizeof v);
        kinds[i] = (int)h->cars[i].kind;
    }
    RaceRoom *room = crw_race_create(st, h->n_cars, stats, kinds, rr->countdown_ticks,
                                     rr->time_limit_ticks, rr->stall_limit_ticks, 2.0, 0.5);
    if (!room) {
        fprintf(stderr, "cr-stage-dump: %s\n", crw_last_error());
        replay_free(rp);
        return 1;
    }
    size_t in = 0;
    printf("%u %s\n", crw_race_tick(room), crw_race_hash(room));
    while (crw_race_tick(room) < rp->final_tick && crw_race_phase(room) != PHASE_FINISHED) {
        for (; in < rp->n_inputs && rp->inputs[in].tick <= crw_race_tick(room); in++) {
            PackedInput p = rp->inputs[in].input;
            crw_race_set_input(room, rp->inputs[in].car, p.throttle, p.brake, p.steer, p.flags);
        }
        if (crw_race_step(room)) break;
        printf("%u %s\n", crw_race_tick(room), crw_race_hash(room));
    }
    crw_race_destroy(room);
    replay_free(rp);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 4 || argc > 6) return usage();
    char *end;
    uint64_t seed = strtoull(argv[3], &end, 10);
    if (*end || end == argv[3]) return usage();
    const char *rules_name = argc == 5 ? argv[4] : "standard";
    Scripts *sc = NULL;
    Stage *st = NULL;
    Rules *rules = NULL;
    CrError err = {{0}};
    int status = 1;
    if (scripts_open(argv[1], NULL, 0, &sc, &err) ||
        scripts_generate_stage(sc, argv[2], seed, NULL, 0, &st, &err) ||
        rules_load(sc, rules_name, st, &rules, &err)) {
        fprintf(stderr, "cr-stage-dump: %s\n", err.msg);
        goto out;
    }
    StageLimits lim = scripts_stage_limits(sc);
    const RaceRules *rr = rules_race(rules);
    if (argc == 6) {
        status = trace_replay(st, rr, argv[5]);
        goto out;
    }
    printf("{\"generator\": \"%s\", \"seed\": %" PRIu64 ", \"hash\": \"%016" PRIx64
           "\", \"length\": %.17g, \"min_length\": %.17g, \"max_length\": %.17g,\n"
           " \"rules\": {\"countdown_ticks\": %d, \"time_limit_ticks\": %d, "
           "\"stall_limit_ticks\": %d},\n \"points\": [",
           argv[2], seed, stage_hash(st), stage_length(st), lim.min_length, lim.max_length,
           rr->countdown_ticks, rr->time_limit_ticks, rr->stall_limit_ticks);
    const StagePoint *p = stage_points(st);
    for (size_t i = 0; i < stage_point_count(st); i++)
        printf("%s[%.17g, %.17g, %.17g, %d]", i ? ", " : "", p[i].x, p[i].y, p[i].width,
               (int)p[i].surface);
    fputs("],\n \"checkpoints\": [", stdout);
    for (size_t i = 0; i < stage_checkpoint_count(st); i++)
        printf("%s%u", i ? ", " : "", stage_checkpoint_point(st, i));
    fputs("]}\n", stdout);
    status = 0;
out:
    rules_destroy(rules);
    stage_destroy(st);
    scripts_close(sc);
    return status;
}
