/*
 * cmd_tournament.c - `coderally tournament`: many races over seeds and
 * generators on every core, a summary per generator, and a paired
 * comparison of two bots on the same seeds.
 *
 * Jobs are processes (fork): each opens its own scripts and its own bot
 * zygote, which all of its matches share, and runs its share of the races
 * flat out through the race runner, sending one fixed-size record per race
 * back on a pipe. Processes rather than threads because the Lua host and
 * the zygote's signal handling were built for one match driver per process;
 * results are indexed by race, so the summary does not depend on which job
 * ran what or in which order.
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bot_link.h"
#include "bot_proto.h"
#include "cli.h"
#include "common.h"
#include "match/match.h"
#include "sim/replay.h"
#include "util/file.h"
#include "util/json.h"

static const char *const CMD = "tournament";

#define MAX_GENERATORS 16
#define MAX_RACES 100000
#define MAX_JOBS 64
#define NAME_MAX_LEN 160 /* a bot's name in the report */

static void usage(FILE *f) {
    fputs(
        "usage: coderally tournament [--bot FILE ...] [--compare A.py B.py]\n"
        "                            [--seeds A..B] [--generator NAME ...] [--ai K]\n"
        "                            [--jobs N] [--rules NAME] [--param KEY=VALUE ...]\n"
        "                            [--json] [--scripts DIR] [--set KEY=VALUE ...]\n"
        "\n"
        "  --bot FILE         a Python bot in every race (repeatable; front of the grid)\n"
        "  --compare A B      race every seed once with A and once with B in the same\n"
        "                     seat against the same AI field; report which is faster,\n"
        "                     by how much (95% confidence interval) and the win count\n"
        "  --seeds A..B       stage seeds A to B inclusive, or one seed (default 1..10)\n"
        "  --generator NAME   stage generator (repeatable; default forest)\n"
        "  --ai K             built-in AI drivers in every race (default 3)\n"
        "  --jobs N           races run in parallel (default: the number of cores)\n"
        "  --rules NAME       rule set in rules/ (default DEFAULT_RULES)\n"
        "  --param K=V        generator parameter override (repeatable)\n"
        "  --json             print one JSON object instead of the summary\n",
        f);
}

typedef struct {
    CommonOpts common;
    const char *generators[MAX_GENERATORS];
    int n_generators;
    const char *rules;
    uint64_t seed_lo, seed_hi;
    long long ai, jobs;
    bool json;
    const char *bots[CR_MAX_CARS];
    int n_bots;
    const char *compare[2];
    ConfigOverride params[REPLAY_MAX_PARAMS];
    int n_params;
} TourOpts;

/* "A..B" or "N". */
static int parse_seeds(const char *v, TourOpts *o) {
    const char *dots = strstr(v, "..");
    char lo[32], hi[32];
    if (!dots) {
        snprintf(lo, sizeof lo, "%s", v);
        snprintf(hi, sizeof hi, "%s", v);
    } else {
        snprintf(lo, sizeof lo, "%.*s", (int)(dots - v) < 31 ? (int)(dots - v) : 31, v);
        snprintf(hi, sizeof hi, "%s", dots + 2);
    }
    if (cli_parse_u64(CMD, "--seeds", lo, &o->seed_lo) ||
        cli_parse_u64(CMD, "--seeds", hi, &o->seed_hi))
        return -1;
    if (o->seed_hi < o->seed_lo) {
        cli_error(CMD, "--seeds %s: the range is empty (A..B needs A <= B)", v);
        return -1;
    }
    return 0;
}

static int parse(int argc, char **argv, TourOpts *o) {
    memset(o, 0, sizeof *o);
    cli_common_init(&o->common);
    o->seed_lo = 1;
    o->seed_hi = 10;
    o->ai = 3;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    o->jobs = cores > 0 ? (cores < MAX_JOBS ? cores : MAX_JOBS) : 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int c = cli_common_opt(CMD, argc, argv, &i, &o->common);
        if (c < 0) return 2;
        if (c > 0) continue;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 1;
        }
        if (!strcmp(a, "--json")) {
            o->json = true;
            continue;
        }
        bool takes = !strcmp(a, "--generator") || !strcmp(a, "--seeds") || !strcmp(a, "--ai") ||
                     !strcmp(a, "--bot") || !strcmp(a, "--compare") || !strcmp(a, "--jobs") ||
                     !strcmp(a, "--rules") || !strcmp(a, "--param");
        if (!takes) {
            cli_error(CMD, "unknown option '%s' (see --help)", a);
            return 2;
        }
        const char *v = cli_value(CMD, argc, argv, &i);
        if (!v) return 2;
        if (!strcmp(a, "--generator")) {
            if (o->n_generators == MAX_GENERATORS) {
                cli_error(CMD, "at most %d --generator options", MAX_GENERATORS);
                return 2;
            }
            o->generators[o->n_generators++] = v;
        } else if (!strcmp(a, "--seeds")) {
            if (parse_seeds(v, o)) return 2;
        } else if (!strcmp(a, "--ai")) {
            if (cli_parse_int(CMD, a, v, 0, CR_MAX_CARS - 1, &o->ai)) return 2;
        } else if (!strcmp(a, "--jobs")) {
            if (cli_parse_int(CMD, a, v, 1, MAX_JOBS, &o->jobs)) return 2;
        } else if (!strcmp(a, "--bot")) {
            if (o->n_bots == CR_MAX_CARS) {
                cli_error(CMD, "at most %d bots", CR_MAX_CARS);
                return 2;
            }
            o->bots[o->n_bots++] = v;
        } else if (!strcmp(a, "--compare")) {
            if (o->compare[0]) {
                cli_error(CMD, "--compare given twice");
                return 2;
            }
            if (i + 1 >= argc || argv[i + 1][0] == '-') {
                cli_error(CMD, "--compare needs two bot files: --compare A.py B.py");
                return 2;
            }
            o->compare[0] = v;
            o->compare[1] = argv[++i];
        } else if (!strcmp(a, "--rules")) {
            o->rules = v;
        } else {
            if (o->n_params == REPLAY_MAX_PARAMS) {
                cli_error(CMD, "at most %d --param options", REPLAY_MAX_PARAMS);
                return 2;
            }
            if (cli_split_kv(CMD, a, (char *)v, &o->params[o->n_params++])) return 2;
        }
    }
    if (!o->n_generators) o->generators[o->n_generators++] = "forest";
    if (!o->n_bots && !o->compare[0]) {
        cli_error(CMD, "nothing to race: give --bot FILE or --compare A.py B.py");
        return 2;
    }
    if (o->n_bots && o->compare[0]) {
        cli_error(CMD, "--bot and --compare do not mix: a comparison races one bot at a time");
        return 2;
    }
    int per_race = (o->compare[0] ? 1 : o->n_bots) + (int)o->ai;
    if (per_race > CR_MAX_CARS) {
        cli_error(CMD, "a race takes at most %d cars; %d bots and %lld AI make %d", CR_MAX_CARS,
                  o->compare[0] ? 1 : o->n_bots, o->ai, per_race);
        return 2;
    }
    uint64_t seeds = o->seed_hi - o->seed_lo + 1;
    uint64_t races = seeds * (uint64_t)o->n_generators * (o->compare[0] ? 2u : 1u);
    if (seeds > MAX_RACES || races > MAX_RACES) {
        cli_error(CMD, "at most %d races per tournament", MAX_RACES);
        return 2;
    }
    return 0;
}

/* One race to run: generator, seed and (with --compare) which bot. */
typedef struct {
    int generator;
    uint64_t seed;
    int variant; /* --compare: 0 = A, 1 = B */
} Task;

/* One race's outcome for the bot seats, sent from a job to the parent. */
typedef struct {
    int32_t task;
    int32_t failed; /* the race could not be run: error says why */
    int32_t n;      /* bot seats filled */
    struct {
        int8_t finished, dnf_reason;
        int16_t position;
        double time_s;
        int32_t errors, timeouts, late; /* failed calls, CPU timeouts, late replies */
    } seat[CR_MAX_CARS];
    char error[320];
} TaskResult;

/* The race's bots: sources read once, before the jobs fork. */
typedef struct {
    const char *path[CR_MAX_CARS];
    char *source[CR_MAX_CARS];
    size_t len[CR_MAX_CARS];
    int n;
} Sources;

/* "bots/my_bot.py" -> "my_bot" */
static void stem(const char *path, char *out, size_t n) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t len = strcspn(base, ".");
    if (len == 0) len = strlen(base);
    if (len >= n) len = n - 1;
    memcpy(out, base, len);
    out[len] = 0;
}

/* Steps m flat out with its bots on a zygote shared by the job's matches. */
static int run_match(Match *m, BotHost *host, CrError *err) {
    while (match_phase(m) != MATCH_DONE && match_phase(m) != MATCH_ABORTED) {
        while (!match_can_step(m)) {
            struct pollfd fds[MATCH_MAX_FDS + 8];
            int64_t wake = INT64_MAX;
            size_t k = host ? bot_host_pollfds(host, fds, sizeof fds / sizeof fds[0], &wake) : 0;
            int64_t now = bot_now_ns();
            int timeout = wake == INT64_MAX ? 50
                          : wake <= now     ? 0
                                            : (int)((wake - now) / 1000000 + 1);
            if (poll(fds, k, timeout) < 0 && errno != EINTR) {
                snprintf(err->msg, sizeof err->msg, "poll: %s", strerror(errno));
                return CR_EIO;
            }
            if (host) bot_host_pump(host);
            match_pump(m, bot_now_ns());
        }
        int rc = match_step(m, bot_now_ns(), err);
        if (rc) return rc;
    }
    return CR_OK;
}

static void run_task(const TourOpts *o, Scripts *sc, BotHost *host, const Sources *src,
                     const Task *t, int index, TaskResult *out) {
    memset(out, 0, sizeof *out);
    out->task = index;
    CarEntry cars[CR_MAX_CARS];
    MatchBot bots[CR_MAX_CARS];
    memset(bots, 0, sizeof bots);
    const char *def = "hatch";
    scripts_config_string(sc, "DEFAULT_CAR", &def);
    int n_bots = o->compare[0] ? 1 : src->n;
    int n = n_bots + (int)o->ai;
    CrError err = {{0}};
    for (int i = 0; i < n; i++) {
        CarEntry *c = &cars[i];
        memset(c, 0, sizeof *c);
        if (scripts_car_stats(sc, def, NULL, 0, &c->stats, &err)) goto fail;
        snprintf(c->car_type, sizeof c->car_type, "%s", def);
        if (i < n_bots) {
            int b = o->compare[0] ? t->variant : i;
            c->kind = CAR_BOT;
            stem(src->path[b], c->name, sizeof c->name);
            bots[i] = (MatchBot){
                .name = src->path[b], .source = src->source[b], .source_len = src->len[b]};
        } else {
            c->kind = CAR_AI;
            snprintf(c->name, sizeof c->name, "AI %d", i - n_bots + 1);
        }
    }
    MatchConfig cfg = {.scripts = sc,
                       .generator = o->generators[t->generator],
                       .seed = t->seed,
                       .params = o->params,
                       .n_params = (size_t)o->n_params,
                       .rules = o->rules,
                       .cars = cars,
                       .n_cars = n,
                       .bots = bots,
                       .bot_host = host,
                       .retire_failed_bots = true};
    Match *m = NULL;
    if (match_create(&cfg, &m, &err) || run_match(m, host, &err)) {
        match_destroy(m);
        goto fail;
    }
    RaceResult res[CR_MAX_CARS];
    int points[CR_MAX_CARS];
    if (match_results(m, res, points)) {
        snprintf(err.msg, sizeof err.msg, "%s", match_error(m) ? match_error(m) : "no results");
        match_destroy(m);
        goto fail;
    }
    out->n = n_bots;
    for (int i = 0; i < n; i++) {
        int car = res[i].car;
        if (car >= n_bots) continue;
        out->seat[car].finished = res[i].finished;
        out->seat[car].dnf_reason = (int8_t)res[i].dnf_reason;
        out->seat[car].position = (int16_t)res[i].position;
        out->seat[car].time_s = res[i].time_s;
        MatchBotStats st;
        if (match_bot_stats(m, car, &st) == CR_OK) {
            out->seat[car].errors = (int32_t)st.errors;
            out->seat[car].timeouts = (int32_t)st.timeouts;
            out->seat[car].late = (int32_t)st.late;
        }
        const char *why = match_bot_load_error(m, car);
        if (why && !out->error[0])
            snprintf(out->error, sizeof out->error, "%.40s did not load: %.240s", cars[car].name,
                     why);
    }
    match_destroy(m);
    return;
fail:
    out->failed = 1;
    snprintf(out->error, sizeof out->error, "%.40s seed %llu: %.240s", o->generators[t->generator],
             (unsigned long long)t->seed, err.msg);
}

static int write_all(int fd, const void *p, size_t n) {
    const char *b = p;
    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        b += w, n -= (size_t)w;
    }
    return 0;
}

/* A job: races tasks job, job + jobs, ... and writes their results to fd. */
static int job_main(const TourOpts *o, const Sources *src, const Task *tasks, int n_tasks, int job,
                    int fd) {
    Scripts *sc = NULL;
    BotHost *host = NULL;
    CrError err = {{0}};
    int rc = 1;
    if (cli_open_scripts(CMD, &o->common, &sc)) goto out;
    if (bot_host_start(NULL, &host, &err)) {
        cli_error(CMD, "%s", err.msg);
        goto out;
    }
    for (int i = job; i < n_tasks; i += (int)o->jobs) {
        TaskResult r;
        run_task(o, sc, host, src, &tasks[i], i, &r);
        if (write_all(fd, &r, sizeof r)) goto out;
    }
    rc = 0;
out:
    bot_host_stop(host);
    scripts_close(sc);
    return rc;
}

/* ---- statistics ---------------------------------------------------------- */

/* Two-sided 95% critical value of Student's t with df degrees of freedom. */
static double t_crit95(int df) {
    static const double t[31] = {0,     12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365,
                                 2.306, 2.262,  2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
                                 2.120, 2.110,  2.101, 2.093, 2.086, 2.080, 2.074, 2.069,
                                 2.064, 2.060,  2.056, 2.052, 2.048, 2.045, 2.042};
    if (df < 1) return INFINITY;
    if (df <= 30) return t[df];
    /* Beyond the table: interpolate in 1/df through 40, 60, 120 and infinity. */
    static const double dfs[4] = {30, 40, 60, 120}, ts[4] = {2.042, 2.021, 2.000, 1.980};
    for (int k = 0; k < 3; k++)
        if (df <= dfs[k + 1]) {
            double a = 1 / dfs[k], b = 1 / dfs[k + 1], x = 1.0 / df;
            return ts[k] + (ts[k + 1] - ts[k]) * (a - x) / (a - b);
        }
    double a = 1 / 120.0, x = 1.0 / df;
    return 1.960 + (1.980 - 1.960) * x / a;
}

typedef struct {
    char gen[64], bot[NAME_MAX_LEN];
    int races, finished;
    long errors, timeouts, late; /* summed over the races: a clean run has none */
    double pos_sum, time_sum;
} SummaryRow;

typedef struct {
    int pairs, both_finished, b_wins, a_wins;
    double mean, lo, hi;
    bool significant;
    char verdict[256];
} Comparison;

/* Paired comparison of A and B (tasks 2k and 2k+1 race the same stage). */
static void compare(const TaskResult *res, int n_tasks, const char *a, const char *b,
                    Comparison *c) {
    memset(c, 0, sizeof *c);
    double sum = 0, sq = 0;
    int n = 0;
    for (int i = 0; i + 1 < n_tasks; i += 2) {
        const TaskResult *ra = &res[i], *rb = &res[i + 1];
        if (ra->failed || rb->failed) continue;
        c->pairs++;
        bool fa = ra->seat[0].finished, fb = rb->seat[0].finished;
        double ta = ra->seat[0].time_s, tb = rb->seat[0].time_s;
        if (fb && (!fa || tb < ta)) c->b_wins++;
        if (fa && (!fb || ta < tb)) c->a_wins++;
        if (!fa || !fb) continue;
        double d = ta - tb; /* > 0: B is faster */
        n++;
        sum += d;
        sq += d * d;
    }
    c->both_finished = n;
    if (n == 0) {
        snprintf(c->verdict, sizeof c->verdict,
                 "no comparison: no seed where both finished (%s won %d, %s won %d of %d)", a,
                 c->a_wins, b, c->b_wins, c->pairs);
        return;
    }
    c->mean = sum / n;
    double var = n > 1 ? (sq - n * c->mean * c->mean) / (n - 1) : 0;
    double half = n > 1 ? t_crit95(n - 1) * sqrt(var > 0 ? var : 0) / sqrt(n) : INFINITY;
    c->lo = c->mean - half;
    c->hi = c->mean + half;
    c->significant = n > 1 && (c->lo > 0 || c->hi < 0);
    if (c->significant) {
        bool b_faster = c->mean > 0;
        snprintf(c->verdict, sizeof c->verdict,
                 "%s is faster by %.2f s per stage (95%% CI %.2f-%.2f), %d of %d seeds",
                 b_faster ? b : a, fabs(c->mean), b_faster ? c->lo : -c->hi,
                 b_faster ? c->hi : -c->lo, b_faster ? c->b_wins : c->a_wins, c->pairs);
    } else {
        snprintf(c->verdict, sizeof c->verdict,
                 "no significant difference (%s - %s = %+.2f s per stage, 95%% CI %.2f to %.2f; "
                 "%s won %d, %s won %d of %d seeds)",
                 a, b, c->mean, isfinite(c->lo) ? c->lo : -INFINITY, c->hi, a, c->a_wins, b,
                 c->b_wins, c->pairs);
    }
}

/* ---- progress -------------------------------------------------------------- */

static void progress(int done, int total, bool tty, int *last_decile) {
    if (tty) {
        int w = 30, k = total ? done * w / total : w;
        fprintf(stderr, "\r[%.*s%*s] %d/%d races", k, "##############################", w - k, "",
                done, total);
        if (done == total) fputc('\n', stderr);
        fflush(stderr);
        return;
    }
    int decile = total ? done * 10 / total : 10;
    if (decile != *last_decile) {
        *last_decile = decile;
        fprintf(stderr, "tournament: %d/%d races\n", done, total);
    }
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* path's last two components: "v2/my_bot.py". */
static const char *tail2(const char *path) {
    const char *end = path + strlen(path), *p = end;
    int slashes = 0;
    while (p > path && !(p[-1] == '/' && ++slashes == 2)) p--;
    return p;
}

/* Names for the comparison: file stems, or the ends of the paths if the
 * stems agree (two versions of one bot), or the whole paths. */
static void compare_names(const TourOpts *o, char *a, char *b, size_t n) {
    stem(o->compare[0], a, n);
    stem(o->compare[1], b, n);
    if (!strcmp(a, b)) {
        snprintf(a, n, "%s", tail2(o->compare[0]));
        snprintf(b, n, "%s", tail2(o->compare[1]));
    }
    if (!strcmp(a, b)) {
        snprintf(a, n, "%s", o->compare[0]);
        snprintf(b, n, "%s", o->compare[1]);
    }
}

static void print_report(const TourOpts *o, const SummaryRow *rows, int n_rows, const Comparison *c,
                         const char *na, const char *nb, int races, int failed, double secs) {
    if (o->json) {
        printf("{\"races\": %d, \"failed\": %d, \"jobs\": %lld, \"seconds\": ", races, failed,
               o->jobs);
        json_write_number(stdout, secs);
        fputs(", \"races_per_s\": ", stdout);
        json_write_number(stdout, secs > 0 ? races / secs : 0);
        printf(", \"seeds\": [%llu, %llu], \"summary\": [", (unsigned long long)o->seed_lo,
               (unsigned long long)o->seed_hi);
        for (int i = 0; i < n_rows; i++) {
            const SummaryRow *r = &rows[i];
            fputs(i ? ", {\"generator\": " : "{\"generator\": ", stdout);
            json_write_string(stdout, r->gen);
            fputs(", \"bot\": ", stdout);
            json_write_string(stdout, r->bot);
            printf(", \"races\": %d, \"finished\": %d, \"finish_rate\": ", r->races, r->finished);
            json_write_number(stdout, r->races ? (double)r->finished / r->races : 0);
            fputs(", \"mean_position\": ", stdout);
            if (r->races)
                json_write_number(stdout, r->pos_sum / r->races);
            else
                fputs("null", stdout);
            fputs(", \"mean_time_s\": ", stdout);
            if (r->finished)
                json_write_number(stdout, r->time_sum / r->finished);
            else
                fputs("null", stdout);
            printf(", \"errors\": %ld, \"timeouts\": %ld, \"late\": %ld}", r->errors, r->timeouts,
                   r->late);
        }
        fputs("]", stdout);
        if (c) {
            fputs(", \"compare\": {\"a\": ", stdout);
            json_write_string(stdout, na);
            fputs(", \"b\": ", stdout);
            json_write_string(stdout, nb);
            printf(
                ", \"pairs\": %d, \"both_finished\": %d, \"a_wins\": %d, \"b_wins\": %d, "
                "\"mean_diff_s\": ",
                c->pairs, c->both_finished, c->a_wins, c->b_wins);
            json_write_number(stdout, c->mean);
            fputs(", \"ci95\": ", stdout);
            if (isfinite(c->lo) && isfinite(c->hi) && c->both_finished) {
                fputs("[", stdout);
                json_write_number(stdout, c->lo);
                fputs(", ", stdout);
                json_write_number(stdout, c->hi);
                fputs("]", stdout);
            } else {
                fputs("null", stdout);
            }
            printf(", \"significant\": %s, \"verdict\": ", c->significant ? "true" : "false");
            json_write_string(stdout, c->verdict);
            fputs("}", stdout);
        }
        fputs("}\n", stdout);
        return;
    }
    printf("%d races (%d failed) on %lld jobs in %.1f s: %.2f races/s\n\n", races, failed, o->jobs,
           secs, secs > 0 ? races / secs : 0);
    printf("%-16s %-24s %6s %9s %9s %10s\n", "Generator", "Bot", "Races", "Finished", "Mean pos",
           "Mean time");
    for (int i = 0; i < n_rows; i++) {
        const SummaryRow *r = &rows[i];
        char t[32] = "-";
        if (r->finished) snprintf(t, sizeof t, "%.2f s", r->time_sum / r->finished);
        printf("%-16s %-24s %6d %8.0f%% %9.2f %10s\n", r->gen, r->bot, r->races,
               r->races ? 100.0 * r->finished / r->races : 0, r->races ? r->pos_sum / r->races : 0,
               t);
    }
    if (c) printf("\n%s\n", c->verdict);
}

int cmd_tournament(int argc, char **argv) {
    TourOpts o;
    int prc = parse(argc, argv, &o);
    if (prc) return prc == 1 ? 0 : 2;
    int status = 1;
    Sources src = {0};
    Task *tasks = NULL;
    TaskResult *res = NULL;
    bool *have = NULL;
    SummaryRow *rows = NULL;
    pid_t pids[MAX_JOBS] = {0};
    int fds[MAX_JOBS];
    for (int j = 0; j < MAX_JOBS; j++) fds[j] = -1;
    CrError err = {{0}};

    /* Fail fast on what every job would fail on: scripts, bot files. */
    Scripts *sc = NULL;
    if (cli_open_scripts(CMD, &o.common, &sc)) return 1;
    scripts_close(sc);
    src.n = o.compare[0] ? 2 : o.n_bots;
    for (int i = 0; i < src.n; i++) {
        src.path[i] = o.compare[0] ? o.compare[i] : o.bots[i];
        if (file_read(src.path[i], BOT_SOURCE_MAX, &src.source[i], &src.len[i], &err)) {
            cli_error(CMD, "%s", err.msg);
            goto out;
        }
    }

    int per_seed = o.compare[0] ? 2 : 1;
    uint64_t n_seeds = o.seed_hi - o.seed_lo + 1;
    int n_tasks = (int)(n_seeds * (uint64_t)o.n_generators * (uint64_t)per_seed);
    tasks = calloc((size_t)n_tasks, sizeof *tasks);
    res = calloc((size_t)n_tasks, sizeof *res);
    have = calloc((size_t)n_tasks, sizeof *have);
    if (!tasks || !res || !have) {
        cli_error(CMD, "out of memory");
        goto out;
    }
    /* A comparison's pair is adjacent (2k: A, 2k+1: B) so compare() pairs them. */
    int k = 0;
    for (int g = 0; g < o.n_generators; g++)
        for (uint64_t s = o.seed_lo; s <= o.seed_hi; s++)
            for (int v = 0; v < per_seed; v++) tasks[k++] = (Task){g, s, v};
    if (o.jobs > n_tasks) o.jobs = n_tasks;

    double t0 = now_s();
    fflush(NULL);
    for (int j = 0; j < o.jobs; j++) {
        int p[2];
        if (pipe(p) < 0) {
            cli_error(CMD, "pipe: %s", strerror(errno));
            goto out;
        }
        pid_t pid = fork();
        if (pid < 0) {
            cli_error(CMD, "fork: %s", strerror(errno));
            close(p[0]);
            close(p[1]);
            goto out;
        }
        if (pid == 0) {
            close(p[0]);
            for (int q = 0; q < j; q++) close(fds[q]);
            int rc = job_main(&o, &src, tasks, n_tasks, j, p[1]);
            close(p[1]);
            _exit(rc);
        }
        close(p[1]);
        pids[j] = pid;
        fds[j] = p[0];
    }

    bool tty = isatty(STDERR_FILENO);
    int done = 0, last_decile = -1, open_fds = (int)o.jobs;
    progress(0, n_tasks, tty, &last_decile);
    /* A result is one fixed-size record; a pipe hands it over whole or in
     * pieces, so each job's bytes are gathered until a record is complete. */
    static TaskResult partial[MAX_JOBS];
    size_t got[MAX_JOBS] = {0};
    while (open_fds > 0) {
        struct pollfd pf[MAX_JOBS];
        int map[MAX_JOBS], np = 0;
        for (int j = 0; j < o.jobs; j++)
            if (fds[j] >= 0) {
                pf[np] = (struct pollfd){fds[j], POLLIN, 0};
                map[np++] = j;
            }
        if (poll(pf, (nfds_t)np, -1) < 0) {
            if (errno == EINTR) continue;
            cli_error(CMD, "poll: %s", strerror(errno));
            goto out;
        }
        for (int q = 0; q < np; q++) {
            if (!pf[q].revents) continue;
            int j = map[q];
            ssize_t r = read(fds[j], (char *)&partial[j] + got[j], sizeof partial[j] - got[j]);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) {
                close(fds[j]);
                fds[j] = -1;
                open_fds--;
                continue;
            }
            got[j] += (size_t)r;
            if (got[j] < sizeof partial[j]) continue;
            got[j] = 0;
            int t = partial[j].task;
            if (t < 0 || t >= n_tasks || have[t]) continue;
            res[t] = partial[j];
            have[t] = true;
            progress(++done, n_tasks, tty, &last_decile);
        }
    }
    bool jobs_ok = true;
    for (int j = 0; j < o.jobs; j++) {
        int st;
        if (waitpid(pids[j], &st, 0) == pids[j] && !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
            jobs_ok = false;
        pids[j] = 0;
    }
    double secs = now_s() - t0;
    if (done < n_tasks || !jobs_ok) {
        cli_error(CMD, "a job failed: %d of %d races reported", done, n_tasks);
        goto out;
    }

    /* Summary rows: generator x bot (seat). */
    int n_entries = o.compare[0] ? 2 : o.n_bots;
    int n_rows = o.n_generators * n_entries, failed = 0;
    rows = calloc((size_t)n_rows, sizeof *rows);
    if (!rows) goto out;
    char na[NAME_MAX_LEN] = "", nb[NAME_MAX_LEN] = "";
    if (o.compare[0]) compare_names(&o, na, nb, sizeof na);
    for (int g = 0; g < o.n_generators; g++)
        for (int e = 0; e < n_entries; e++) {
            SummaryRow *r = &rows[g * n_entries + e];
            snprintf(r->gen, sizeof r->gen, "%s", o.generators[g]);
            if (o.compare[0])
                snprintf(r->bot, sizeof r->bot, "%s", e ? nb : na);
            else
                stem(o.bots[e], r->bot, sizeof r->bot);
        }
    const char *first_error = NULL;
    for (int i = 0; i < n_tasks; i++) {
        const TaskResult *r = &res[i];
        if (r->error[0] && !first_error) first_error = r->error;
        if (r->failed) {
            failed++;
            continue;
        }
        for (int s = 0; s < r->n; s++) {
            int e = o.compare[0] ? tasks[i].variant : s;
            SummaryRow *row = &rows[tasks[i].generator * n_entries + e];
            row->races++;
            row->errors += r->seat[s].errors;
            row->timeouts += r->seat[s].timeouts;
            row->late += r->seat[s].late;
            row->pos_sum += r->seat[s].position;
            if (r->seat[s].finished) {
                row->finished++;
                row->time_sum += r->seat[s].time_s;
            }
        }
    }
    if (first_error) cli_error(CMD, "%s", first_error);
    if (failed == n_tasks) {
        cli_error(CMD, "no race could be run");
        goto out;
    }
    Comparison c;
    if (o.compare[0]) compare(res, n_tasks, na, nb, &c);
    print_report(&o, rows, n_rows, o.compare[0] ? &c : NULL, na, nb, n_tasks, failed, secs);
    status = 0;
out:
    for (int j = 0; j < MAX_JOBS; j++) {
        if (fds[j] >= 0) close(fds[j]);
        if (pids[j] > 0) {
            kill(pids[j], SIGKILL);
            waitpid(pids[j], NULL, 0);
        }
    }
    for (int i = 0; i < CR_MAX_CARS; i++) free(src.source[i]);
    free(tasks);
    free(res);
    free(have);
    free(rows);
    return status;
}
