/* rerun.c - a replay re-simulated: verify its hashes or export it (rerun.h). */
#include "match/rerun.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "match/match.h"
#include "util/json.h"

static void export_drawings(FILE *f, const Replay *r, const ReplayDrawSet *ds) {
    static const char *const KIND[] = {"line", "circle", "text"};
    fprintf(f, "{\"tick\": %u, \"car\": %u, \"drawings\": [", ds->tick, ds->car);
    for (int i = 0; i < ds->n; i++) {
        const ReplayDrawing *d = &r->drawings[ds->first + (size_t)i];
        fprintf(f,
                "%s{\"kind\": \"%s\", \"rgb\": %u, \"a\": %.3f, \"b\": %.3f, \"c\": %.3f, "
                "\"d\": %.3f, \"text\": ",
                i ? ", " : "", KIND[d->kind], d->rgb, d->a, d->b, d->c, d->d);
        json_write_string(f, d->text);
        fputs("}", f);
    }
    fputs("]}\n", f);
}

static void export_snapshot(FILE *f, const RaceSnapshot *s) {
    fprintf(f, "{\"tick\": %u, \"phase\": %d, \"time_s\": ", s->tick, s->phase);
    json_write_number(f, s->time_s);
    fputs(", \"cars\": [", f);
    for (int i = 0; i < s->n_cars; i++) {
        const CarSnapshot *c = &s->cars[i];
        fprintf(f,
                "%s{\"x\": %.3f, \"y\": %.3f, \"heading\": %.4f, \"vx\": %.3f, \"vy\": %.3f, "
                "\"flags\": %u, \"position\": %u, \"checkpoints\": %d}",
                i ? ", " : "", c->x, c->y, c->heading, c->vx, c->vy, c->flags, c->position,
                c->checkpoints);
    }
    fputs("]}\n", f);
}

/* After each exported line: the output still good and within the cap. */
static int export_check(const RerunOptions *opt, RerunReport *rep, CrError *err) {
    if (ferror(opt->out)) return cr_fail(err, CR_EIO, "cannot write the export");
    long pos = ftell(opt->out); /* -1 on a pipe: no cap there (the CLI sets none) */
    if (pos >= 0) rep->bytes = (size_t)pos;
    if (opt->max_bytes && pos >= 0 && (size_t)pos > opt->max_bytes)
        return cr_fail(err, CR_EINVAL, "the export is larger than %zu bytes", opt->max_bytes);
    return CR_OK;
}

/* The scripts to re-run r with: sc itself, or sc's folder under the STAGE_*
 * settings r was recorded with when they differ from sc's. */
static int scripts_for(Scripts *sc, const Replay *r, Scripts **out, RerunReport *rep,
                       CrError *err) {
    const StageLimits *rec = &r->header.stage_limits, now = scripts_stage_limits(sc);
    bool recorded = rec->min_length > 0 || rec->max_length > 0;
    if (!recorded || (rec->min_length == now.min_length && rec->max_length == now.max_length)) {
        *out = scripts_ref(sc);
        return CR_OK;
    }
    char lo[40], hi[40];
    snprintf(lo, sizeof lo, "%.17g", rec->min_length);
    snprintf(hi, sizeof hi, "%.17g", rec->max_length);
    ConfigOverride ov[2] = {{"STAGE_MIN_LENGTH", lo}, {"STAGE_MAX_LENGTH", hi}};
    rep->stage_settings = true;
    return scripts_open_more(sc, ov, 2, out, err);
}

int rerun_replay(Scripts *sc0, const Replay *r, const RerunOptions *opt, RerunReport *rep,
                 CrError *err) {
    memset(rep, 0, sizeof *rep);
    const ReplayHeader *h = &r->header;
    bool exporting = opt->every > 0;
    if (exporting && !opt->out) return cr_fail(err, CR_EINVAL, "an export needs somewhere to go");
    Scripts *sc = NULL;
    int rc = scripts_for(sc0, r, &sc, rep, err);
    if (rc) return rc;
    ConfigOverride params[REPLAY_MAX_PARAMS];
    for (int i = 0; i < h->n_params; i++)
        params[i] = (ConfigOverride){h->param_key[i], h->param_value[i]};
    Match *m = NULL;
    const GeneratorInfo *gi;
    if ((rc = scripts_find_generator(sc, h->generator, &gi, err))) goto out;
    if (strcmp(gi->version, h->generator_version) != 0)
        snprintf(rep->generator_version_now, sizeof rep->generator_version_now, "%s", gi->version);
    /* The recorded inputs drive every car: the runner without AI or bots. */
    MatchConfig cfg = {.scripts = sc,
                       .generator = h->generator,
                       .seed = h->seed,
                       .params = params,
                       .n_params = (size_t)h->n_params,
                       .rules = h->rules,
                       .cars = h->cars,
                       .n_cars = h->n_cars,
                       .external_inputs = true};
    if ((rc = match_create(&cfg, &m, err))) goto out;
    uint64_t surf_now = stage_surfaces(match_stage(m))->hash;
    if (h->surfaces_hash && h->surfaces_hash != surf_now) {
        rc = cr_fail(err, CR_ESTAGE,
                     "surfaces.lua changed since the recording (surfaces %016" PRIx64
                     ", recorded %016" PRIx64 "): the stage differs from the recorded one",
                     surf_now, h->surfaces_hash);
        goto out;
    }
    if (stage_hash(match_stage(m)) != h->stage_hash) {
        rc = cr_fail(err, CR_ESTAGE,
                     "the stage differs from the recorded one (generator %s changed since?)",
                     h->generator);
        goto out;
    }
    rep->rules_changed = match_rules_hash(m) != h->rules_hash;
    size_t in = 0, hs = 0, ds = 0, rt = 0;
    RaceSnapshot snap;
    const RaceRoom *room = match_room(m);
    while (race_tick(room) < r->final_tick) {
        uint32_t tick = race_tick(room);
        for (; rt < r->n_retires && r->retires[rt].tick <= tick; rt++)
            match_retire(m, r->retires[rt].car);
        for (; in < r->n_inputs && r->inputs[in].tick <= tick; in++)
            match_set_packed_input(m, r->inputs[in].car, r->inputs[in].input);
        for (; ds < r->n_draw_sets && r->draw_sets[ds].tick <= tick; ds++) {
            if (!exporting) continue;
            export_drawings(opt->out, r, &r->draw_sets[ds]);
            if ((rc = export_check(opt, rep, err))) goto out;
        }
        if ((rc = match_step(m, 0, err))) goto out;
        uint32_t now = race_tick(room);
        if (exporting && now % (uint32_t)opt->every == 0) {
            race_snapshot(room, &snap);
            export_snapshot(opt->out, &snap);
            if ((rc = export_check(opt, rep, err))) goto out;
        }
        for (; hs < r->n_hashes && r->hashes[hs].tick <= now; hs++) {
            if (r->hashes[hs].tick == now && r->hashes[hs].hash != race_hash(room)) {
                rc = cr_fail(err, CR_EMISMATCH,
                             "MISMATCH at tick %u (%.2f s): state hash %016" PRIx64
                             ", recorded %016" PRIx64 "; the previous check at tick %u matched",
                             now, now / (double)CR_TICK_RATE, race_hash(room), r->hashes[hs].hash,
                             hs ? r->hashes[hs - 1].tick : 0);
                goto out;
            }
            rep->hashes_checked += r->hashes[hs].tick == now;
        }
        if (match_phase(m) == MATCH_DONE || match_phase(m) == MATCH_ABORTED) break;
    }
    /* Cars retired when the race was ended early, after its last step. */
    for (; rt < r->n_retires && r->retires[rt].tick <= race_tick(room); rt++)
        match_retire(m, r->retires[rt].car);
    rep->final_tick = race_tick(room);
    if (race_tick(room) != r->final_tick || race_hash(room) != r->final_hash) {
        rc = cr_fail(err, CR_EMISMATCH,
                     "MISMATCH at the end: tick %u hash %016" PRIx64
                     ", recorded tick %u hash %016" PRIx64,
                     race_tick(room), race_hash(room), r->final_tick, r->final_hash);
        goto out;
    }
    if (exporting && fflush(opt->out) != 0) rc = cr_fail(err, CR_EIO, "cannot write the export");
out:
    match_destroy(m);
    scripts_close(sc);
    return rc;
}
