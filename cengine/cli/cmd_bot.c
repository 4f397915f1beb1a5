/*
 * cmd_bot.c - `coderally bot check FILE...`: compiles bots in a sandboxed
 * worker under the sandbox's policy and prints every problem as
 * FILE:LINE: message, one per line, the way editors read compiler output.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bot_link.h"
#include "cli.h"
#include "common.h"
#include "match/match.h"
#include "util/file.h"

static const char *const CMD = "bot";

/* Checks one file with a running host; 0 if it has no problem. */
static int bot_check_file(BotHost *host, const char *file) {
    size_t len;
    char *src;
    CrError err = {{0}};
    /* An oversized file is read as far as the cap and left to the
     * sandbox's check to report. */
    if (file_read(file, BOT_SOURCE_MAX, &src, &len, &err)) {
        cli_error(CMD, "%s", err.msg);
        return 1;
    }
    char *problems = NULL;
    int status = 1;
    if (bot_check_source(host, src, len, &problems, &err)) {
        cli_error(CMD, "%s", err.msg);
        goto out;
    }
    int count = 0;
    for (char *p = problems; p && *p;) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = 0;
        if (*p) {
            printf("%s:%s\n", file, p);
            count++;
        }
        p = nl ? nl + 1 : p + strlen(p);
    }
    if (count == 0) {
        printf("%s: ok\n", file);
        status = 0;
    }
out:
    free(problems);
    free(src);
    return status;
}

/* Checks every file with one sandbox host; 0 if none has a problem. */
static int bot_check(const char *const *files, int n, const char *botd) {
    CrError err = {{0}};
    BotHost *host = NULL;
    if (bot_host_start(botd, &host, &err)) {
        cli_error(CMD, "%s", err.msg);
        return 1;
    }
    int status = 0;
    for (int i = 0; i < n; i++) status |= bot_check_file(host, files[i]);
    bot_host_stop(host);
    return status;
}

int cmd_bot(int argc, char **argv) {
    const char *botd = NULL;
    const char **files = calloc((size_t)argc, sizeof *files);
    int n_files = 0;
    bool check = false;
    int rc = 2;
    if (!files) return 1;
    CommonOpts common; /* accepted like everywhere; the check needs no scripts */
    cli_common_init(&common);
    for (int i = 1; i < argc; i++) {
        int c = cli_common_opt(CMD, argc, argv, &i, &common);
        if (c < 0) goto out;
        if (c > 0) continue;
        if (!strcmp(argv[i], "--botd") && i + 1 < argc) {
            botd = argv[++i];
        } else if (!strcmp(argv[i], "check") && !check) {
            check = true;
        } else if (check && argv[i][0] != '-') {
            files[n_files++] = argv[i];
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf(
                "usage: coderally bot check FILE... [--botd PATH] [--scripts DIR] "
                "[--set KEY=VALUE]\n"
                "Compiles each FILE under the bot sandbox policy and lists every problem as\n"
                "FILE:LINE: message, including names that would be a NameError when the bot\n"
                "runs. Exit status 0 if there is none, 1 otherwise.\n");
            rc = 0;
            goto out;
        } else {
            cli_error(CMD, "unexpected argument '%s' (usage: coderally bot check FILE...)",
                      argv[i]);
            goto out;
        }
    }
    if (!check || n_files == 0) {
        cli_error(CMD, "usage: coderally bot check FILE...");
        goto out;
    }
    rc = bot_check(files, n_files, botd);
out:
    free(files);
    return rc;
}

/* ---- coderally bench bots ----------------------------------------------- */

static int cmp_dbl(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, int n, double p) {
    qsort(v, (size_t)n, sizeof *v, cmp_dbl);
    int i = (int)(p * (n - 1) + 0.5);
    return v[i < 0 ? 0 : i >= n ? n - 1 : i];
}

static void bench_record(SensorRecord *s, uint32_t tick) {
    memset(s, 0, sizeof *s);
    s->tick = tick, s->phase = PHASE_RUNNING, s->speed = 20, s->v_forward = 20;
    s->top_speed = 50, s->on_road = true, s->checkpoints_total = 5, s->cars = 8;
    for (int i = 0; i < SENSOR_RAYS; i++) s->rays[i] = 30;
    s->n_checkpoints = SENSOR_CHECKPOINTS;
    for (int i = 0; i < SENSOR_CHECKPOINTS; i++)
        s->checkpoints[i] = (SensorCheckpoint){40.0f * (float)(i + 1), 2, 40, 0.05f, 12, i};
    s->n_opponents = 3;
    for (int i = 0; i < 3; i++) s->opponents[i] = (SensorOpponent){10, 1, 10, 0.1f, 20, 0, 1, 0};
    for (int i = 0; i < SENSOR_PACE_NOTES; i++)
        s->pace[i] = (SensorPaceNote){
            SENSOR_PACE_AHEAD[i], SENSOR_PACE_AHEAD[i], 1, 0.05f, 12, 0.002f, SURFACE_ASPHALT};
}

static char g_templates[1024];

static char *template_source(const char *name, size_t *len) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", g_templates, name);
    char *src;
    CrError err;
    return file_read(path, BOT_SOURCE_MAX, &src, len, &err) ? NULL : src;
}

/* Private memory (kB) of pid from smaps_rollup. */
static long private_kb(pid_t pid) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/smaps_rollup", (int)pid);
    FILE *f = fopen(path, "r");
    long total = 0, v;
    if (!f) return -1;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "Private_Clean: %ld", &v) == 1 ||
            sscanf(line, "Private_Dirty: %ld", &v) == 1)
            total += v;
    }
    fclose(f);
    return total;
}

static double mono_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#define BENCH_RUNS 5
#define BENCH_CALLS 4000

/* Pins process pid (0 = this one) to CPU 0, or back to every CPU. */
static void pin(pid_t pid, bool one) {
    cpu_set_t set;
    CPU_ZERO(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    for (long c = 0; c < (one ? 1 : n); c++) CPU_SET((int)c, &set);
    (void)sched_setaffinity(pid, sizeof set, &set); /* a refusal only changes the figure */
}

/* Creates a link and waits (polling) until the bot has loaded. */
static int link_loaded(BotHost *host, const BotSpec *spec, BotLink **l, CrError *err) {
    int rc = bot_link_create(host, spec, l, err);
    if (rc == CR_OK) rc = bot_links_collect(l, 1);
    if (rc == CR_OK) rc = bot_link_start_result(*l, err);
    if (rc != CR_OK) {
        bot_link_destroy(*l);
        *l = NULL;
    }
    return rc;
}

/* Round trips of a trivial bot and worker start-up; median over runs.
 * Twice: as scheduled, and with host and worker pinned to one CPU. On an
 * otherwise idle VM the first is dominated by waking the worker's halted
 * vCPU; the second is what the pipe and the sandbox cost. */
static int bench_link(BotHost *host, double *rt_med, double *rt_p99, double *pin_med,
                      double *pin_p99, double *start_ms, long *priv_kb) {
    static const char trivial[] =
        "class Bot:\n    def on_tick(self, state):\n        return {'throttle': 1.0}\n";
    static double rt[BENCH_CALLS];
    double meds[BENCH_RUNS], p99s[BENCH_RUNS], starts[20];
    CrError err;
    for (int i = 0; i < 20; i++) {
        BotSpec spec = {.name = "t", .source = trivial, .source_len = strlen(trivial)};
        BotLink *l;
        double t0 = mono_s();
        if (link_loaded(host, &spec, &l, &err)) return -1;
        starts[i] = (mono_s() - t0) * 1e3;
        bot_link_destroy(l);
    }
    *start_ms = pct(starts, 20, 0.5);
    for (int variant = 0; variant < 2; variant++) {
        bool pinned = variant == 1;
        for (int run = 0; run < BENCH_RUNS; run++) {
            BotSpec spec = {.name = "t", .source = trivial, .source_len = strlen(trivial)};
            BotLink *l;
            if (link_loaded(host, &spec, &l, &err)) return -1;
            pin(0, pinned);
            pin(bot_link_pid(l), pinned);
            for (int i = 0; i < BENCH_CALLS; i++) {
                SensorRecord s;
                bench_record(&s, (uint32_t)i * 3);
                bot_link_send_tick(l, &s, NULL, 0);
                bot_links_collect(&l, 1);
                if (bot_link_reply(l)->status != BOT_STATUS_OK) return -1;
                rt[i] = bot_link_reply(l)->wall_us;
            }
            meds[run] = pct(rt, BENCH_CALLS, 0.5);
            p99s[run] = pct(rt, BENCH_CALLS, 0.99);
            bot_link_destroy(l);
        }
        pin(0, false);
        *(pinned ? pin_med : rt_med) = pct(meds, BENCH_RUNS, 0.5);
        *(pinned ? pin_p99 : rt_p99) = pct(p99s, BENCH_RUNS, 0.5);
    }
    /* Memory of a worker that has run the checkpoint follower for a while. */
    size_t len;
    char *src = template_source("checkpoint_follower.py", &len);
    BotSpec spec = {.name = "cf", .source = src, .source_len = len};
    BotLink *l;
    int rc = src ? link_loaded(host, &spec, &l, &err) : -1;
    free(src);
    if (rc) return -1;
    for (int i = 0; i < 500; i++) {
        SensorRecord s;
        bench_record(&s, (uint32_t)i * 3);
        bot_link_send_tick(l, &s, NULL, 0);
        bot_links_collect(&l, 1);
    }
    *priv_kb = private_kb(bot_link_pid(l));
    bot_link_destroy(l);
    return 0;
}

/* Three minutes (10,800 ticks) of racing eight checkpoint-follower bots on
 * forest seed 1 through the race runner, flat out; returns the wall time
 * and a hash of the final states. */
static int bench_race(const CommonOpts *common, BotHost *host, double *wall_s, uint64_t *hash,
                      long *calls) {
    Scripts *sc = NULL;
    Stage *stage = NULL;
    Match *m = NULL;
    CrError err = {{0}};
    int rc = -1;
    size_t len;
    char *src = template_source("checkpoint_follower.py", &len);
    if (!src) {
        snprintf(err.msg, sizeof err.msg, "cannot read checkpoint_follower.py");
        goto out;
    }
    if (scripts_open(common->scripts, common->sets, common->n_sets, &sc, &err) ||
        scripts_generate_stage(sc, "forest", 1, NULL, 0, &stage, &err))
        goto out;
    CarEntry cars[8];
    MatchBot bots[8];
    memset(cars, 0, sizeof cars);
    for (int i = 0; i < 8; i++) {
        if (scripts_car_stats(sc, "hatch", NULL, 0, &cars[i].stats, &err)) goto out;
        snprintf(cars[i].name, sizeof cars[i].name, "bot%d", i + 1);
        snprintf(cars[i].car_type, sizeof cars[i].car_type, "hatch");
        cars[i].kind = CAR_BOT;
        bots[i] = (MatchBot){.name = "checkpoint_follower.py", .source = src, .source_len = len};
    }
    MatchConfig cfg = {.scripts = sc,
                       .stage = stage,
                       .generator = "forest",
                       .seed = 1,
                       .rules = "standard",
                       .cars = cars,
                       .n_cars = 8,
                       .bots = bots,
                       .bot_host = host};
    *calls = 0;
    *hash = 0;
    /* Stages are shorter than three minutes: races back to back (workers
     * started anew for each from the one zygote, as a server would) until
     * 10,800 ticks ran. */
    long ticks = 0;
    double t0 = mono_s();
    while (ticks < 10800) {
        if (match_create(&cfg, &m, &err)) goto out;
        for (; ticks < 10800 && match_phase(m) < MATCH_FINISHING; ticks++)
            if (match_wait(m, &err) || match_step(m, bot_now_ns(), &err)) goto out;
        match_finish(m);
        while (match_phase(m) == MATCH_FINISHING)
            if (match_wait(m, &err) || match_step(m, bot_now_ns(), &err)) goto out;
        *hash = *hash * 31 + race_hash(match_room(m));
        for (int i = 0; i < 8; i++) {
            MatchBotStats st;
            match_bot_stats(m, i, &st);
            *calls += st.calls;
            if (st.errors || st.timeouts || st.late) {
                snprintf(err.msg, sizeof err.msg, "bot %d had %ld errors, %ld timeouts, %ld late",
                         i + 1, st.errors, st.timeouts, st.late);
                goto out;
            }
        }
        match_destroy(m);
        m = NULL;
    }
    *wall_s = mono_s() - t0;
    rc = 0;
out:
    if (rc) cli_error("bench", "bots race: %s", err.msg);
    match_destroy(m);
    stage_destroy(stage);
    scripts_close(sc);
    free(src);
    return rc;
}

#define PREDICT_CALLS 20
#define PREDICT_TICKS 60

/* coderally.predict() cost from the worker's own CPU figures: a bot making
 * PREDICT_CALLS calls of PREDICT_TICKS ticks per on_tick against one making
 * the same calls of 0 ticks (state in, dict out, no physics). Each bot
 * checks its predictions repeat exactly, or the benchmark fails. */
static int bench_predict(BotHost *host, const CarStats *car, double *call_us, double *tick_ns) {
    double med[2];
    for (int v = 0; v < 2; v++) {
        char src[1024];
        snprintf(src, sizeof src,
                 "import coderally\n"
                 "class Bot:\n"
                 "    def on_tick(self, state):\n"
                 "        a = {'throttle': 1.0, 'steer': 0.3}\n"
                 "        first = coderally.predict(state, a, %d)\n"
                 "        for i in range(%d):\n"
                 "            p = coderally.predict(state, a, %d)\n"
                 "        assert p == first\n"
                 "        return {}\n",
                 v ? 0 : PREDICT_TICKS, PREDICT_CALLS - 1, v ? 0 : PREDICT_TICKS);
        BotSpec spec = {.name = "predict",
                        .source = src,
                        .source_len = strlen(src),
                        .has_car = true,
                        .car = *car};
        BotLink *l;
        CrError err;
        if (link_loaded(host, &spec, &l, &err)) return -1;
        static double cpu[600];
        for (int i = 0; i < 600; i++) {
            SensorRecord s;
            bench_record(&s, (uint32_t)i * 3);
            s.x = (float)i, s.heading = 0.25f, s.angular_velocity = 0.5f;
            bot_link_send_tick(l, &s, NULL, 0);
            bot_links_collect(&l, 1);
            if (bot_link_reply(l)->status != BOT_STATUS_OK) {
                bot_link_destroy(l);
                return -1;
            }
            cpu[i] = bot_link_reply(l)->cpu_us;
        }
        med[v] = pct(cpu, 600, 0.5);
        bot_link_destroy(l);
    }
    *call_us = med[0] / PREDICT_CALLS;
    *tick_ns = (med[0] - med[1]) * 1e3 / (PREDICT_CALLS * PREDICT_TICKS);
    return 0;
}

/* Restricted vs plain on_tick of the checkpoint follower, measured by the
 * sandbox binary itself (coderally-botd --bench-ratio). */
static int bench_ratio(const char *botd, double *ratio, double *r_ns, double *p_ns) {
    char cmd[2600];
    snprintf(cmd, sizeof cmd, "'%s' --bench-ratio '%s/checkpoint_follower.py' 3000", botd,
             g_templates);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    char line[256];
    *ratio = 0;
    while (fgets(line, sizeof line, p)) {
        sscanf(line, "restricted_ns %lf", r_ns);
        sscanf(line, "plain_ns %lf", p_ns);
        sscanf(line, "ratio %lf", ratio);
    }
    return pclose(p) == 0 && *ratio > 0 ? 0 : -1;
}

int bench_bots(int argc, char **argv) {
    const char *botd = NULL;
    CommonOpts common;
    cli_common_init(&common);
    for (int i = 1; i < argc; i++) {
        int c = cli_common_opt("bench", argc, argv, &i, &common);
        if (c < 0) return 2;
        if (c > 0) continue;
        if (!strcmp(argv[i], "--botd") && i + 1 < argc) {
            botd = argv[++i];
        } else {
            cli_error("bench",
                      "usage: coderally bench bots [--botd PATH] [--scripts DIR] "
                      "[--set KEY=VALUE]");
            return 2;
        }
    }
    /* Fail on a bad scripts directory now, not after the link benchmark. */
    Scripts *check;
    if (cli_open_scripts("bench", &common, &check)) return 1;
    CarStats car;
    CrError serr;
    int src_rc = scripts_car_stats(check, "hatch", NULL, 0, &car, &serr);
    scripts_close(check);
    if (src_rc) {
        cli_error("bench", "%s", serr.msg);
        return 1;
    }
    char botd_buf[1024];
    if (!botd) {
        if (bot_host_default_path(botd_buf, sizeof botd_buf)) return 1;
        botd = botd_buf;
    }
    snprintf(g_templates, sizeof g_templates, "%s/../botsandbox/templates", cli_default_scripts());
    CrError err;
    BotHost *host;
    if (bot_host_start(botd, &host, &err)) {
        cli_error("bench", "%s", err.msg);
        return 1;
    }
    double med = 0, p99 = 0, pmed = 0, pp99 = 0, start_ms = 0;
    long priv = 0;
    double pcall = 0, ptick = 0;
    int rc = bench_link(host, &med, &p99, &pmed, &pp99, &start_ms, &priv);
    int prc = rc ? 0 : bench_predict(host, &car, &pcall, &ptick);
    if (rc || prc) {
        bot_host_stop(host);
        cli_error("bench", rc ? "bot link benchmark failed" : "predict benchmark failed");
        return 1;
    }
    printf("bench bots: %d runs of %d on_tick calls of a trivial bot\n", BENCH_RUNS, BENCH_CALLS);
    printf("  round trip per on_tick, as scheduled: median %.1f us, p99 %.1f us\n", med, p99);
    printf(
        "  round trip per on_tick, host and worker on one CPU: median %.1f us, p99 %.1f us   "
        "(target: median < 30 us)\n",
        pmed, pp99);
    printf("  worker start (spawn + load a small bot): %.2f ms   (target < 5 ms)\n", start_ms);
    printf("  private memory per worker: %.1f MB   (target < 12 MB)\n", priv / 1024.0);
    printf(
        "  coderally.predict(state, actions, %d): %.1f us CPU per call, %.0f ns per "
        "predicted tick\n",
        PREDICT_TICKS, pcall, ptick);
    double walls[BENCH_RUNS];
    uint64_t hash = 0, first = 0;
    long calls = 0;
    for (int r = 0; r < BENCH_RUNS; r++) {
        rc = bench_race(&common, host, &walls[r], &hash, &calls);
        if (rc) break;
        if (r == 0) first = hash;
        if (hash != first) {
            bot_host_stop(host);
            cli_error("bench", "the eight-bot race did not replay: hash %016llx vs %016llx",
                      (unsigned long long)hash, (unsigned long long)first);
            return 1;
        }
    }
    bot_host_stop(host);
    if (rc) return 1;
    printf(
        "  3-minute race, 8 checkpoint-follower bots: %.2f s wall (median of %d), "
        "%ld bot calls, hash %016llx   (target < 2 s)\n",
        pct(walls, BENCH_RUNS, 0.5), BENCH_RUNS, calls, (unsigned long long)first);
    double ratio, rns = 0, pns = 0;
    if (bench_ratio(botd, &ratio, &rns, &pns)) {
        cli_error("bench", "restricted/plain ratio failed");
        return 1;
    }
    printf(
        "  checkpoint follower on_tick: restricted %.0f ns, plain %.0f ns, ratio %.2fx   "
        "(target < 2x)\n",
        rns, pns, ratio);
    return 0;
}
