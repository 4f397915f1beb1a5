/*
 * cmd_bench.c - `coderally bench sim|stage|bots`: the performance harness.
 * Several runs, medians, variants compared in the same run, and a
 * verification hash so a fast but wrong build is caught.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "cli.h"
#include "common.h"
#include "match/match.h"

static const char *const CMD = "bench";

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* CPU time of this thread: on a machine shared with other work it moves far
 * less than wall time, and the simulation is single-threaded. */
static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void machine(void) {
    struct utsname u;
    char model[256] = "unknown cpu";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f))
            if (!strncmp(line, "model name", 10)) {
                char *c = strchr(line, ':');
                if (c) snprintf(model, sizeof model, "%s", c + 2);
                model[strcspn(model, "\n")] = 0;
                break;
            }
        fclose(f);
    }
    if (uname(&u) == 0) printf("machine: %s, %s %s\n", model, u.sysname, u.release);
}

#define BENCH_STAGES 8

/* Races back to back, race j on stage j % BENCH_STAGES with AI skills
 * seeded by j, until exactly `ticks` ticks have been stepped; a finished
 * race is replaced by a fresh one, never stepped again. With tape == NULL
 * the AI drives (sensors at 20 Hz) and the inputs are recorded into
 * tape_out; with a tape every car replays the recorded inputs (physics and
 * rules only). Only the stepping is timed, not setting races up. Returns
 * the wall time, *cpu the thread's CPU time; *hash combines every race's
 * final hash. */
static double run_ticks(Scripts *sc, Stage *const *stages, const CarEntry *cars, int n_cars,
                        long ticks, PackedInput *tape_out, const PackedInput *tape, uint64_t *hash,
                        int *races, int *partial, double *cpu) {
    uint64_t h = 0;
    *cpu = 0;
    double total = 0;
    long t = 0;
    int j = 0;
    *partial = 0;
    for (; t < ticks; j++) {
        CrError err;
        Match *m;
        MatchConfig cfg = {.scripts = sc,
                           .stage = stages[j % BENCH_STAGES],
                           .seed = (uint64_t)j,
                           .cars = cars,
                           .n_cars = n_cars,
                           .external_inputs = tape != NULL};
        if (match_create(&cfg, &m, &err)) {
            cli_error(CMD, "%s", err.msg);
            return -1;
        }
        const RaceRoom *room = match_room(m);
        double t0 = now_s(), c0 = cpu_s();
        for (; t < ticks && match_phase(m) < MATCH_FINISHING; t++) {
            uint32_t tick = race_tick(room);
            /* Inputs change only on bot ticks; the tape is written and read
             * there only, so neither variant pays for bookkeeping the other
             * does not. */
            bool bot_tick = tick % CR_BOT_TICK_EVERY == 0;
            PackedInput *row = (tape ? (PackedInput *)tape : tape_out) + (size_t)t * (size_t)n_cars;
            if (tape && bot_tick)
                for (int i = 0; i < n_cars; i++) match_set_packed_input(m, i, row[i]);
            if (match_step(m, 0, &err)) {
                cli_error(CMD, "%s", err.msg);
                match_destroy(m);
                return -1;
            }
            if (!tape && bot_tick)
                for (int i = 0; i < n_cars; i++) row[i] = race_input(room, i);
        }
        total += now_s() - t0;
        *cpu += cpu_s() - c0;
        if (match_phase(m) < MATCH_FINISHING) *partial = 1;
        h = h * 31 + race_hash(room);
        match_destroy(m);
    }
    *hash = h;
    *races = j;
    return total;
}

static int bench_sim(int argc, char **argv) {
    CommonOpts common;
    cli_common_init(&common);
    long long runs = 7, ticks = 36000, n_cars = 8;
    const char *generator = NULL;
    for (int i = 2; i < argc; i++) {
        int c = cli_common_opt(CMD, argc, argv, &i, &common);
        if (c < 0) return 2;
        if (c > 0) continue;
        const char *a = argv[i], *v;
        if (!strcmp(a, "--runs") || !strcmp(a, "--ticks") || !strcmp(a, "--cars") ||
            !strcmp(a, "--generator")) {
            if (!(v = cli_value(CMD, argc, argv, &i))) return 2;
            if (!strcmp(a, "--generator"))
                generator = v;
            else if (cli_parse_int(CMD, a, v, 1, !strcmp(a, "--cars") ? CR_MAX_CARS : 100000000,
                                   !strcmp(a, "--runs")    ? &runs
                                   : !strcmp(a, "--ticks") ? &ticks
                                                           : &n_cars))
                return 2;
        } else {
            cli_error(CMD,
                      "usage: coderally bench sim [--runs N] [--ticks N] [--cars N] "
                      "[--generator NAME]");
            return 2;
        }
    }
    Scripts *sc;
    if (cli_open_scripts(CMD, &common, &sc)) return 1;
    int status = 1;
    Stage *stages[BENCH_STAGES] = {0};
    CarEntry cars[CR_MAX_CARS];
    memset(cars, 0, sizeof cars);
    for (int i = 0; i < n_cars; i++) {
        CrError err;
        if (scripts_car_stats(sc, "hatch", NULL, 0, &cars[i].stats, &err)) {
            cli_error(CMD, "%s", err.msg);
            goto out;
        }
        snprintf(cars[i].name, sizeof cars[i].name, "AI %d", i + 1);
        snprintf(cars[i].car_type, sizeof cars[i].car_type, "hatch");
        cars[i].kind = CAR_AI;
    }
    size_t ng = scripts_generator_count(sc);
    char covered[BENCH_STAGES * (CR_NAME_MAX + 8)] = "";
    for (int k = 0; k < BENCH_STAGES; k++) {
        const char *g =
            generator ? generator : scripts_generator(sc, (size_t)k % (ng ? ng : 1))->name;
        CrError err;
        if (scripts_generate_stage(sc, g, (uint64_t)(k + 1), NULL, 0, &stages[k], &err)) {
            cli_error(CMD, "%s", err.msg);
            goto out;
        }
        size_t o = strlen(covered);
        snprintf(covered + o, sizeof covered - o, "%s%s %d", k ? ", " : "", g, k + 1);
    }
    PackedInput *tape = malloc((size_t)ticks * (size_t)n_cars * sizeof *tape);
    double *full = malloc((size_t)runs * 4 * sizeof *full);
    double *phys = full + runs, *full_cpu = full + 2 * runs, *phys_cpu = full + 3 * runs;
    if (!tape || !full) {
        cli_error(CMD, "out of memory");
        free(tape), free(full);
        goto out;
    }
    machine();
    printf("bench sim: %lld cars, %lld ticks (%.0f s simulated) per run, %lld runs\n", n_cars,
           ticks, ticks / (double)CR_TICK_RATE, runs);
    printf("stages, raced in turn: %s\n", covered);
    uint64_t ref = 0;
    bool ok = true;
    for (int r = 0; r < runs && ok; r++) {
        uint64_t ha, hb;
        int races, partial;
        double ca, cb;
        double fa =
            run_ticks(sc, stages, cars, (int)n_cars, ticks, tape, NULL, &ha, &races, &partial, &ca);
        double fb =
            run_ticks(sc, stages, cars, (int)n_cars, ticks, NULL, tape, &hb, &races, &partial, &cb);
        if (fa < 0 || fb < 0) {
            ok = false;
            break;
        }
        full[r] = fa / ticks * 1e6;
        phys[r] = fb / ticks * 1e6;
        full_cpu[r] = ca / ticks * 1e6;
        phys_cpu[r] = cb / ticks * 1e6;
        printf(
            "run %d: full %.3f us/tick (CPU %.3f), physics+rules only %.3f us/tick (CPU %.3f), "
            "%d race(s)%s, hash %016" PRIx64 "\n",
            r + 1, full[r], full_cpu[r], phys[r], phys_cpu[r], races,
            partial ? " (the last cut short)" : "", ha);
        /* The replayed run must land on the same state, and every run on
         * the same hash: otherwise the build is wrong, however fast. */
        if (ha != hb || (r > 0 && ha != ref)) {
            cli_error(CMD,
                      "verification failed: hashes %016" PRIx64 " / %016" PRIx64 " / %016" PRIx64
                      " differ",
                      ha, hb, ref);
            ok = false;
        }
        ref = ha;
    }
    if (ok) {
        double mf = median(full, (int)runs), mp = median(phys, (int)runs);
        double cf = median(full_cpu, (int)runs), cp = median(phys_cpu, (int)runs);
        printf(
            "median wall: full %.3f us/tick (%.0fx real time), physics+rules only %.3f us/tick; "
            "sensors+AI %.3f us/tick\n",
            mf, 1e6 / CR_TICK_RATE / mf, mp, mf - mp);
        printf(
            "median CPU:  full %.3f us/tick, physics+rules only %.3f us/tick; sensors+AI "
            "%.3f us/tick\n",
            cf, cp, cf - cp);
        printf("verification hash: %016" PRIx64 "\n", ref);
        status = 0;
    }
    free(tape), free(full);
out:
    for (int k = 0; k < BENCH_STAGES; k++) stage_destroy(stages[k]);
    scripts_close(sc);
    return status;
}

static int bench_stage(int argc, char **argv) {
    CommonOpts common;
    cli_common_init(&common);
    long long runs = 20;
    for (int i = 2; i < argc; i++) {
        int c = cli_common_opt(CMD, argc, argv, &i, &common);
        if (c < 0) return 2;
        if (c > 0) continue;
        const char *v;
        if (!strcmp(argv[i], "--runs")) {
            if (!(v = cli_value(CMD, argc, argv, &i)) ||
                cli_parse_int(CMD, "--runs", v, 1, 10000, &runs))
                return 2;
        } else {
            cli_error(CMD, "usage: coderally bench stage [--runs N]");
            return 2;
        }
    }
    Scripts *sc;
    if (cli_open_scripts(CMD, &common, &sc)) return 1;
    double *t = malloc((size_t)runs * sizeof *t);
    if (!t) {
        scripts_close(sc);
        return 1;
    }
    machine();
    int status = 0;
    for (size_t g = 0; g < scripts_generator_count(sc) && !status; g++) {
        const char *name = scripts_generator(sc, g)->name;
        for (int r = 0; r < runs; r++) {
            Stage *st;
            CrError err;
            double t0 = now_s();
            if (scripts_generate_stage(sc, name, (uint64_t)r + 1, NULL, 0, &st, &err)) {
                cli_error(CMD, "%s", err.msg);
                status = 1;
                break;
            }
            t[r] = (now_s() - t0) * 1e3;
            stage_destroy(st);
        }
        if (!status)
            printf("%-10s generate+validate+compile: median %.2f ms over %lld seeds\n", name,
                   median(t, (int)runs), runs);
    }
    free(t);
    scripts_close(sc);
    return status;
}

int cmd_bench(int argc, char **argv) {
    if (argc < 2) {
        cli_error(CMD, "usage: coderally bench sim|stage|bots|server|lobby [options]");
        return 2;
    }
    if (!strcmp(argv[1], "sim")) return bench_sim(argc, argv);
    if (!strcmp(argv[1], "stage")) return bench_stage(argc, argv);
    if (!strcmp(argv[1], "bots")) return bench_bots(argc - 1, argv + 1);
    if (!strcmp(argv[1], "server")) return bench_server(argc - 1, argv + 1);
    if (!strcmp(argv[1], "lobby")) return bench_lobby(argc, argv);
    cli_error(CMD, "unknown benchmark '%s' (sim, stage, bots, server, lobby)", argv[1]);
    return 2;
}
