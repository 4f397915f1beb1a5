/* cmd_replay.c - `coderally replay verify|info|export FILE`: re-simulate a
 * replay and check every recorded state hash, naming the first tick that
 * differs; print its header; or export its snapshots as JSON lines. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "common.h"
#include "match/match.h"
#include "sim/replay.h"
#include "util/json.h"

static const char *const CMD = "replay";

static void usage(FILE *f) {
    fputs(
        "usage: coderally replay verify FILE [--scripts DIR]\n"
        "       coderally replay info FILE\n"
        "       coderally replay export FILE [--every N] [--scripts DIR]\n"
        "       coderally replay view FILE [--port N] [--host ADDR] [--web DIR]\n"
        "\n"
        "  verify  re-simulate and check every state hash; names the first tick that differs\n"
        "  info    print what the replay holds\n"
        "  export  one JSON snapshot per line, every N ticks (default 3)\n"
        "  view    serve it to the browser's replay viewer on a local server; prints the URL\n",
        f);
}

static void info(const Replay *r) {
    const ReplayHeader *h = &r->header;
    printf("generator %s v%s, seed %" PRIu64 ", rules %s\n", h->generator, h->generator_version,
           h->seed, h->rules);
    printf("stage %016" PRIx64 ", surfaces %016" PRIx64 "%s\n", h->stage_hash, h->surfaces_hash,
           h->surfaces_hash == surface_table_default()->hash ? " (the shipped table)" : "");
    for (int i = 0; i < h->n_params; i++)
        printf("param %s=%s\n", h->param_key[i], h->param_value[i]);
    printf("%d cars, %zu input changes, %zu hashes, %zu drawing sets, %u ticks\n", h->n_cars,
           r->n_inputs, r->n_hashes, r->n_draw_sets, r->final_tick);
    for (int i = 0; i < h->n_cars; i++)
        printf("  car %d: %s (%s, %s)\n", i + 1, h->cars[i].name, car_kind_name(h->cars[i].kind),
               h->cars[i].car_type);
}

static void export_drawings(const Replay *r, const ReplayDrawSet *ds) {
    static const char *const KIND[] = {"line", "circle", "text"};
    printf("{\"tick\": %u, \"car\": %u, \"drawings\": [", ds->tick, ds->car);
    for (int i = 0; i < ds->n; i++) {
        const ReplayDrawing *d = &r->drawings[ds->first + (size_t)i];
        printf(
            "%s{\"kind\": \"%s\", \"rgb\": %u, \"a\": %.3f, \"b\": %.3f, \"c\": %.3f, "
            "\"d\": %.3f, \"text\": ",
            i ? ", " : "", KIND[d->kind], d->rgb, d->a, d->b, d->c, d->d);
        json_write_string(stdout, d->text);
        fputs("}", stdout);
    }
    fputs("]}\n", stdout);
}

static void export_snapshot(const RaceSnapshot *s) {
    printf("{\"tick\": %u, \"phase\": %d, \"time_s\": ", s->tick, s->phase);
    json_write_number(stdout, s->time_s);
    fputs(", \"cars\": [", stdout);
    for (int i = 0; i < s->n_cars; i++) {
        const CarSnapshot *c = &s->cars[i];
        printf(
            "%s{\"x\": %.3f, \"y\": %.3f, \"heading\": %.4f, \"vx\": %.3f, \"vy\": %.3f, "
            "\"flags\": %u, \"position\": %u, \"checkpoints\": %d}",
            i ? ", " : "", c->x, c->y, c->heading, c->vx, c->vy, c->flags, c->position,
            c->checkpoints);
    }
    fputs("]}\n", stdout);
}

/* Re-runs r; export_every > 0 prints snapshots instead of only checking. */
static int resimulate(const CommonOpts *common, const Replay *r, const char *path,
                      int export_every) {
    const ReplayHeader *h = &r->header;
    Scripts *sc;
    if (cli_open_scripts(CMD, common, &sc)) return 1;
    CrError err = {{0}};
    ConfigOverride params[REPLAY_MAX_PARAMS];
    for (int i = 0; i < h->n_params; i++)
        params[i] = (ConfigOverride){h->param_key[i], h->param_value[i]};
    Match *m = NULL;
    int status = 1;
    const GeneratorInfo *gi;
    if (scripts_find_generator(sc, h->generator, &gi, &err)) {
        cli_error(CMD, "%s: %s", path, err.msg);
        scripts_close(sc);
        return 1;
    }
    if (strcmp(gi->version, h->generator_version) != 0)
        fprintf(stderr,
                "coderally replay: note: generator %s is v%s, the replay was made with v%s\n",
                h->generator, gi->version, h->generator_version);
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
    if (match_create(&cfg, &m, &err)) {
        cli_error(CMD, "%s: %s", path, err.msg);
        scripts_close(sc);
        return 1;
    }
    uint64_t surf_now = stage_surfaces(match_stage(m))->hash;
    if (h->surfaces_hash && h->surfaces_hash != surf_now) {
        cli_error(CMD,
                  "%s: surfaces.lua changed since the recording (surfaces %016" PRIx64
                  ", recorded %016" PRIx64 "): the stage differs from the recorded one",
                  path, surf_now, h->surfaces_hash);
        goto out;
    }
    if (stage_hash(match_stage(m)) != h->stage_hash) {
        cli_error(CMD, "%s: the stage differs from the recorded one (generator %s changed since?)",
                  path, h->generator);
        goto out;
    }
    if (match_rules_hash(m) != h->rules_hash)
        fprintf(stderr, "coderally replay: note: rules/%s.lua changed since the recording\n",
                h->rules);
    size_t in = 0, hs = 0, ds = 0, rt = 0;
    RaceSnapshot snap;
    const RaceRoom *room = match_room(m);
    while (race_tick(room) < r->final_tick) {
        uint32_t tick = race_tick(room);
        for (; rt < r->n_retires && r->retires[rt].tick <= tick; rt++)
            match_retire(m, r->retires[rt].car);
        for (; in < r->n_inputs && r->inputs[in].tick <= tick; in++)
            match_set_packed_input(m, r->inputs[in].car, r->inputs[in].input);
        for (; ds < r->n_draw_sets && r->draw_sets[ds].tick <= tick; ds++)
            if (export_every > 0) export_drawings(r, &r->draw_sets[ds]);
        if (match_step(m, 0, &err)) {
            cli_error(CMD, "%s: %s", path, err.msg);
            goto out;
        }
        uint32_t now = race_tick(room);
        if (export_every > 0 && now % (uint32_t)export_every == 0) {
            race_snapshot(room, &snap);
            export_snapshot(&snap);
        }
        for (; hs < r->n_hashes && r->hashes[hs].tick <= now; hs++) {
            if (r->hashes[hs].tick == now && r->hashes[hs].hash != race_hash(room)) {
                cli_error(CMD,
                          "%s: MISMATCH at tick %u (%.2f s): state hash %016" PRIx64
                          ", recorded %016" PRIx64 "; the previous check at tick %u matched",
                          path, now, now / (double)CR_TICK_RATE, race_hash(room),
                          r->hashes[hs].hash, hs ? r->hashes[hs - 1].tick : 0);
                status = 3;
                goto out;
            }
        }
        if (match_phase(m) == MATCH_DONE || match_phase(m) == MATCH_ABORTED) break;
    }
    /* Cars retired when the race was ended early, after its last step. */
    for (; rt < r->n_retires && r->retires[rt].tick <= race_tick(room); rt++)
        match_retire(m, r->retires[rt].car);
    if (race_tick(room) != r->final_tick || race_hash(room) != r->final_hash) {
        cli_error(CMD,
                  "%s: MISMATCH at the end: tick %u hash %016" PRIx64
                  ", recorded tick %u "
                  "hash %016" PRIx64,
                  path, race_tick(room), race_hash(room), r->final_tick, r->final_hash);
        status = 3;
        goto out;
    }
    if (export_every == 0)
        printf("%s: OK, %zu hashes over %u ticks match\n", path, r->n_hashes, r->final_tick);
    status = 0;
out:
    match_destroy(m);
    scripts_close(sc);
    return status;
}

int cmd_replay(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *action = argv[1];
    if (!strcmp(action, "view")) return cmd_replay_view(argc, argv);
    if (strcmp(action, "verify") && strcmp(action, "info") && strcmp(action, "export")) {
        cli_error(CMD, "unknown action '%s' (verify, info, export or view)", action);
        return 2;
    }
    CommonOpts common;
    cli_common_init(&common);
    const char *file = NULL;
    long long every = 3;
    for (int i = 2; i < argc; i++) {
        int c = cli_common_opt(CMD, argc, argv, &i, &common);
        if (c < 0) return 2;
        if (c > 0) continue;
        if (!strcmp(argv[i], "--every") && !strcmp(action, "export")) {
            const char *v = cli_value(CMD, argc, argv, &i);
            if (!v || cli_parse_int(CMD, "--every", v, 1, 3600, &every)) return 2;
        } else if (argv[i][0] == '-' || file) {
            cli_error(CMD, "unexpected argument '%s' (see --help)", argv[i]);
            return 2;
        } else {
            file = argv[i];
        }
    }
    if (!file) {
        cli_error(CMD, "%s needs a replay FILE", action);
        return 2;
    }
    CrError err = {{0}};
    Replay *r;
    if (replay_read(file, &r, &err)) {
        cli_error(CMD, "%s", err.msg);
        return 1;
    }
    int status = 0;
    if (!strcmp(action, "info"))
        info(r);
    else
        status = resimulate(&common, r, file, !strcmp(action, "export") ? (int)every : 0);
    replay_free(r);
    return status;
}
