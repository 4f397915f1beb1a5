/* cmd_replay.c - `coderally replay verify|info|export FILE`: re-simulate a
 * replay and check every recorded state hash, naming the first tick that
 * differs; print its header; or export its snapshots as JSON lines. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "common.h"
#include "match/rerun.h"
#include "sim/replay.h"

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
    if (h->stage_limits.max_length > 0)
        printf("stage settings STAGE_MIN_LENGTH=%g STAGE_MAX_LENGTH=%g\n",
               h->stage_limits.min_length, h->stage_limits.max_length);
    for (int i = 0; i < h->n_params; i++)
        printf("param %s=%s\n", h->param_key[i], h->param_value[i]);
    printf("%d cars, %zu input changes, %zu hashes, %zu drawing sets, %u ticks\n", h->n_cars,
           r->n_inputs, r->n_hashes, r->n_draw_sets, r->final_tick);
    for (int i = 0; i < h->n_cars; i++)
        printf("  car %d: %s (%s, %s)\n", i + 1, h->cars[i].name, car_kind_name(h->cars[i].kind),
               h->cars[i].car_type);
}

/* Re-runs r (match/rerun.c, shared with the server's replay.json):
 * export_every > 0 prints snapshots to stdout instead of only checking. */
static int resimulate(const CommonOpts *common, const Replay *r, const char *path,
                      int export_every) {
    const ReplayHeader *h = &r->header;
    Scripts *sc;
    if (cli_open_scripts(CMD, common, &sc)) return 1;
    CrError err = {{0}};
    RerunOptions opt = {.every = export_every, .out = stdout};
    RerunReport rep;
    int rc = rerun_replay(sc, r, &opt, &rep, &err);
    scripts_close(sc);
    if (rep.generator_version_now[0])
        fprintf(stderr,
                "coderally replay: note: generator %s is v%s, the replay was made with v%s\n",
                h->generator, rep.generator_version_now, h->generator_version);
    if (rep.stage_settings)
        fprintf(stderr,
                "coderally replay: note: re-generating the stage under the recorded "
                "STAGE_MIN_LENGTH=%g STAGE_MAX_LENGTH=%g\n",
                h->stage_limits.min_length, h->stage_limits.max_length);
    if (rep.rules_changed)
        fprintf(stderr, "coderally replay: note: rules/%s.lua changed since the recording\n",
                h->rules);
    if (rc) {
        cli_error(CMD, "%s: %s", path, err.msg);
        return rc == CR_EMISMATCH ? 3 : 1;
    }
    if (export_every == 0)
        printf("%s: OK, %zu hashes over %u ticks match\n", path, r->n_hashes, r->final_tick);
    return 0;
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
