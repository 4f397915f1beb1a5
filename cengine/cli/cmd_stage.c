/* cmd_stage.c - `coderally stage`: list generators, generate a stage, say
 * exactly what is wrong with a bad one, render it as SVG, and watch the
 * scripts to render it again whenever they change. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "common.h"
#include "util/json.h"

static const char *const CMD = "stage";

static void usage(FILE *f) {
    fputs(
        "usage: coderally stage --list [--scripts DIR]\n"
        "       coderally stage --generator NAME [--seed N] [--param KEY=VALUE ...]\n"
        "                       [--svg FILE] [--json] [--scripts DIR] [--set KEY=VALUE ...]\n"
        "       coderally stage --watch NAME --svg FILE [--seed N] [--param KEY=VALUE ...]\n"
        "\n"
        "  --list            name the generators found in DIR/stages with their parameters\n"
        "  --generator NAME  generate a stage and print its summary\n"
        "  --watch NAME      generate NAME, then again whenever a script changes, until\n"
        "                    interrupted (Ctrl-C); a broken edit is reported and the\n"
        "                    picture stays as it was\n"
        "  --seed N          the seed (default 1)\n"
        "  --svg FILE        render the stage: surfaces, edges, checkpoints, start, finish\n"
        "  --json            print the summary as JSON\n",
        f);
}

static void list(Scripts *sc) {
    size_t n = scripts_generator_count(sc);
    if (n == 0) printf("no generators in %s/stages\n", scripts_dir(sc));
    for (size_t i = 0; i < n; i++) {
        const GeneratorInfo *g = scripts_generator(sc, i);
        const char *bad = scripts_generator_error(sc, i);
        if (bad) {
            printf("%-12s BROKEN: %s\n", g->name, bad);
            continue;
        }
        printf("%-12s v%-4s %s\n", g->name, g->version, g->description);
        for (size_t k = 0; k < g->n_params; k++) {
            const GeneratorParam *p = &g->params[k];
            printf("%-12s   --param %s=%g  (%g..%g)%s%s\n", "", p->name, p->def, p->min, p->max,
                   p->description[0] ? "  " : "", p->description);
        }
    }
}

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig) {
    (void)sig;
    interrupted = 1;
}

/* Generates the stage and writes the SVG; prints one line either way. */
static int render(Scripts *sc, const char *generator, uint64_t seed, const ConfigOverride *params,
                  size_t n_params, const char *svg) {
    CrError err = {{0}};
    Stage *st = NULL;
    int rc = scripts_generate_stage(sc, generator, seed, params, n_params, &st, &err);
    if (!rc) {
        char title[96];
        snprintf(title, sizeof title, "%s seed %llu", generator, (unsigned long long)seed);
        rc = stage_write_svg(st, title, svg, &err);
    }
    if (rc)
        printf("error: %s\n", err.msg);
    else
        printf("wrote %s: %.1f u, %zu points, hash %016llx\n", svg, stage_length(st),
               stage_point_count(st), (unsigned long long)stage_hash(st));
    fflush(stdout);
    stage_destroy(st);
    return rc;
}

/* Polls the scripts folder (a stat per file, 5 times a second) and renders
 * again from a reloaded snapshot when it changes. A broken edit is printed
 * once and the last good snapshot kept; SIGINT ends it cleanly. */
static int watch(Scripts *sc, const char *generator, uint64_t seed, const ConfigOverride *params,
                 size_t n_params, const char *svg) {
    struct sigaction sa = {0}, old_int, old_term;
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    render(sc, generator, seed, params, n_params, svg);
    printf("watching %s for changes (Ctrl-C to stop)\n", scripts_dir(sc));
    fflush(stdout);
    uint64_t seen = scripts_fingerprint(sc);
    while (!interrupted) {
        struct timespec ts = {0, 200 * 1000000L};
        nanosleep(&ts, NULL);
        if (interrupted) break;
        uint64_t now = scripts_disk_fingerprint(scripts_dir(sc));
        if (now == seen) continue;
        seen = now;
        Scripts *next;
        CrError err = {{0}};
        if (scripts_reload(sc, &next, &err)) {
            printf("error: %s\n(kept the last good scripts)\n", err.msg);
            fflush(stdout);
            continue;
        }
        scripts_close(sc);
        sc = next;
        seen = scripts_fingerprint(sc);
        printf("reloaded\n");
        render(sc, generator, seed, params, n_params, svg);
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    printf("stopped\n");
    scripts_close(sc);
    return 0;
}

int cmd_stage(int argc, char **argv) {
    CommonOpts common;
    cli_common_init(&common);
    const char *generator = NULL, *svg = NULL, *watched = NULL;
    uint64_t seed = 1;
    bool do_list = false, json = false;
    ConfigOverride params[32];
    size_t n_params = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int c = cli_common_opt(CMD, argc, argv, &i, &common);
        if (c < 0) return 2;
        if (c > 0) continue;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--list")) {
            do_list = true;
        } else if (!strcmp(a, "--json")) {
            json = true;
        } else if (!strcmp(a, "--generator") || !strcmp(a, "--seed") || !strcmp(a, "--svg") ||
                   !strcmp(a, "--param") || !strcmp(a, "--watch")) {
            const char *v = cli_value(CMD, argc, argv, &i);
            if (!v) return 2;
            if (!strcmp(a, "--generator"))
                generator = v;
            else if (!strcmp(a, "--watch"))
                watched = v;
            else if (!strcmp(a, "--svg"))
                svg = v;
            else if (!strcmp(a, "--seed")) {
                if (cli_parse_u64(CMD, a, v, &seed)) return 2;
            } else {
                if (n_params == 32) {
                    cli_error(CMD, "at most 32 --param options");
                    return 2;
                }
                if (cli_split_kv(CMD, a, (char *)v, &params[n_params++])) return 2;
            }
        } else {
            cli_error(CMD, "unknown option '%s' (see --help)", a);
            return 2;
        }
    }
    if (!do_list && !generator && !watched) {
        cli_error(CMD, "say --list, --generator NAME or --watch NAME (see --help)");
        return 2;
    }
    if (watched && (generator || do_list || !svg)) {
        cli_error(CMD, "--watch NAME takes --svg FILE and no --generator or --list");
        return 2;
    }
    Scripts *sc;
    if (cli_open_scripts(CMD, &common, &sc)) return 1;
    if (watched) return watch(sc, watched, seed, params, n_params, svg);
    if (do_list) {
        list(sc);
        scripts_close(sc);
        return 0;
    }
    CrError err = {{0}};
    Stage *st = NULL;
    int status = 1;
    if (scripts_generate_stage(sc, generator, seed, params, n_params, &st, &err)) {
        cli_error(CMD, "%s", err.msg);
        goto out;
    }
    if (svg) {
        char title[96];
        snprintf(title, sizeof title, "%s seed %llu", generator, (unsigned long long)seed);
        if (stage_write_svg(st, title, svg, &err)) {
            cli_error(CMD, "%s", err.msg);
            goto out;
        }
    }
    const SurfaceTable *sf = stage_surfaces(st);
    size_t counts[SURFACE_MAX] = {0};
    double len[SURFACE_MAX] = {0};
    const StagePoint *p = stage_points(st);
    for (size_t i = 0; i + 1 < stage_point_count(st); i++) {
        counts[p[i].surface]++;
        len[p[i].surface] += stage_point_distance(st, i + 1) - stage_point_distance(st, i);
    }
    if (json) {
        fputs("{\"generator\": ", stdout);
        json_write_string(stdout, generator);
        printf(
            ", \"seed\": %llu, \"length\": %.3f, \"points\": %zu, \"checkpoints\": %zu, "
            "\"hash\": \"%016llx\", \"surfaces\": {",
            (unsigned long long)seed, stage_length(st), stage_point_count(st),
            stage_checkpoint_count(st), (unsigned long long)stage_hash(st));
        for (int s = 0, k = 0; s < sf->count; s++)
            if (s != sf->verge) printf("%s\"%s\": %.3f", k++ ? ", " : "", sf->s[s].name, len[s]);
        /* The table the stage was compiled with, in index order (what
         * sensors' surface numbers mean). */
        printf("}, \"surfaces_hash\": \"%016llx\", \"surface_table\": [",
               (unsigned long long)sf->hash);
        for (int s = 0; s < sf->count; s++)
            printf(
                "%s{\"name\": \"%s\", \"grip\": %.17g, \"drag\": %.17g, \"top_speed\": %.17g, "
                "\"colour\": \"%s\", \"verge\": %s}",
                s ? ", " : "", sf->s[s].name, sf->s[s].grip, sf->s[s].drag, sf->s[s].top_speed,
                sf->s[s].colour, s == sf->verge ? "true" : "false");
        fputs("]}\n", stdout);
    } else {
        printf("%s seed %llu: %.1f u, %zu points, %zu checkpoints, hash %016llx\n", generator,
               (unsigned long long)seed, stage_length(st), stage_point_count(st),
               stage_checkpoint_count(st), (unsigned long long)stage_hash(st));
        for (int s = 0; s < sf->count; s++)
            if (counts[s]) printf("  %-8s %7.1f u\n", sf->s[s].name, len[s]);
        if (svg) printf("wrote %s\n", svg);
    }
    status = 0;
out:
    stage_destroy(st);
    scripts_close(sc);
    return status;
}
