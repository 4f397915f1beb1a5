/*
 * cmd_race.c - `coderally race`: a headless race run flat out through the
 * race runner (match.h); this file parses the options and prints results.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bot_link.h"
#include "bot_proto.h"
#include "cli.h"
#include "common.h"
#include "match/match.h"
#include "sim/replay.h"
#include "util/file.h"
#include "util/json.h"

#define MAX_BOTS CR_MAX_CARS
#define MAX_PARAMS REPLAY_MAX_PARAMS

static const char *const CMD = "race";

static void usage(FILE *f) {
    fputs(
        "usage: coderally race [--generator NAME] [--seed N] [--ai K] [--bot FILE ...]\n"
        "                      [--car TYPE ...] [--rules NAME] [--param KEY=VALUE ...]\n"
        "                      [--replay FILE] [--bot-log DIR] [--memory FILE] [--json]\n"
        "                      [--scripts DIR] [--set KEY=VALUE ...]\n"
        "\n"
        "  --generator NAME  stage generator (default: forest; `coderally stage --list`)\n"
        "  --seed N          stage and race seed (default 1)\n"
        "  --ai K            number of built-in AI drivers (default 0; 3 if no bots)\n"
        "  --bot FILE        a Python bot (repeatable); bots take the front of the grid\n"
        "  --car TYPE        car type for the next car (repeatable; default DEFAULT_CAR)\n"
        "  --rules NAME      rule set in rules/ (default DEFAULT_RULES)\n"
        "  --param K=V       generator parameter override (repeatable)\n"
        "  --replay FILE     write a replay for `coderally replay verify`\n"
        "  --bot-log DIR     write each bot's log to DIR/car<N>-<name>.log (N: grid slot)\n"
        "  --memory FILE     load each bot's self.memory from FILE (JSON keyed by bot\n"
        "                    name) before the race and save it there after\n"
        "  --json            print one JSON object instead of a table\n",
        f);
}

typedef struct {
    CommonOpts common;
    const char *generator, *rules, *replay, *bot_log, *memory;
    uint64_t seed;
    long long ai;
    bool ai_given, json;
    const char *bots[MAX_BOTS];
    int n_bots;
    const char *cars[CR_MAX_CARS];
    int n_cars;
    ConfigOverride params[MAX_PARAMS];
    int n_params;
} RaceOpts;

static int parse(int argc, char **argv, RaceOpts *o) {
    memset(o, 0, sizeof *o);
    cli_common_init(&o->common);
    o->generator = "forest";
    o->seed = 1;
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
        const char *v = NULL;
        bool takes = !strcmp(a, "--generator") || !strcmp(a, "--seed") || !strcmp(a, "--ai") ||
                     !strcmp(a, "--bot") || !strcmp(a, "--car") || !strcmp(a, "--rules") ||
                     !strcmp(a, "--param") || !strcmp(a, "--replay") || !strcmp(a, "--bot-log") ||
                     !strcmp(a, "--memory");
        if (!takes) {
            cli_error(CMD, "unknown option '%s' (see --help)", a);
            return 2;
        }
        if (!(v = cli_value(CMD, argc, argv, &i))) return 2;
        if (!strcmp(a, "--generator")) {
            o->generator = v;
        } else if (!strcmp(a, "--seed")) {
            if (cli_parse_u64(CMD, a, v, &o->seed)) return 2;
        } else if (!strcmp(a, "--ai")) {
            if (cli_parse_int(CMD, a, v, 0, CR_MAX_CARS, &o->ai)) return 2;
            o->ai_given = true;
        } else if (!strcmp(a, "--bot")) {
            if (o->n_bots == MAX_BOTS) {
                cli_error(CMD, "at most %d bots", MAX_BOTS);
                return 2;
            }
            o->bots[o->n_bots++] = v;
        } else if (!strcmp(a, "--car")) {
            if (o->n_cars == CR_MAX_CARS) {
                cli_error(CMD, "at most %d --car options", CR_MAX_CARS);
                return 2;
            }
            o->cars[o->n_cars++] = v;
        } else if (!strcmp(a, "--rules")) {
            o->rules = v;
        } else if (!strcmp(a, "--param")) {
            if (o->n_params == MAX_PARAMS) {
                cli_error(CMD, "at most %d --param options", MAX_PARAMS);
                return 2;
            }
            if (cli_split_kv(CMD, a, (char *)v, &o->params[o->n_params++])) return 2;
        } else if (!strcmp(a, "--replay")) {
            o->replay = v;
        } else if (!strcmp(a, "--memory")) {
            o->memory = v;
        } else {
            o->bot_log = v;
        }
    }
    if (!o->ai_given) o->ai = o->n_bots ? 0 : 3;
    int total = o->n_bots + (int)o->ai;
    if (total < 1 || total > CR_MAX_CARS) {
        cli_error(CMD, "a race takes 1 to %d cars; %d bots and %lld AI make %d", CR_MAX_CARS,
                  o->n_bots, o->ai, total);
        return 2;
    }
    if (o->n_cars > total) {
        cli_error(CMD, "%d --car options for %d cars", o->n_cars, total);
        return 2;
    }
    if (o->bot_log && !o->n_bots) {
        cli_error(CMD, "--bot-log needs at least one --bot");
        return 2;
    }
    if (o->memory && !o->n_bots) {
        cli_error(CMD, "--memory needs at least one --bot");
        return 2;
    }
    return 0;
}

/* "bots/my_bot.py" -> "my_bot" */
static void bot_name(const char *path, char *out, size_t n) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t len = strcspn(base, ".");
    if (len == 0) len = strlen(base);
    if (len >= n) len = n - 1;
    memcpy(out, base, len);
    out[len] = 0;
}

static int build_cars(Scripts *sc, const RaceOpts *o, CarEntry *cars, int *n) {
    const char *def = "hatch";
    scripts_config_string(sc, "DEFAULT_CAR", &def);
    int total = o->n_bots + (int)o->ai;
    for (int i = 0; i < total; i++) {
        CarEntry *c = &cars[i];
        memset(c, 0, sizeof *c);
        const char *type = i < o->n_cars ? o->cars[i] : def;
        CrError err;
        if (scripts_car_stats(sc, type, NULL, 0, &c->stats, &err)) {
            cli_error(CMD, "%s", err.msg);
            return -1;
        }
        snprintf(c->car_type, sizeof c->car_type, "%s", type);
        if (i < o->n_bots) {
            c->kind = CAR_BOT;
            bot_name(o->bots[i], c->name, sizeof c->name);
        } else {
            c->kind = CAR_AI;
            snprintf(c->name, sizeof c->name, "AI %d", i - o->n_bots + 1);
        }
    }
    *n = total;
    return 0;
}

/* Why car's result is a DNF, for the table and --json: "time limit",
 * "stalled", "retired" (and in *detail, for a bot that did not load, "bot
 * failed to load: LINE: message"); NULL if the car was not a DNF. */
static const char *dnf_reason(const Match *m, const RaceResult *r, char *detail, size_t n) {
    detail[0] = 0;
    if (!r->dnf) return NULL;
    const char *why = match_bot_load_error(m, r->car);
    if (why) {
        /* "path/bot.py:3: message" -> "3: message"; first line only */
        const char *p = why;
        const char *colon = strstr(p, ".py:");
        if (colon) p = colon + 4;
        snprintf(detail, n, "bot failed to load: line %.*s", (int)strcspn(p, "\n"), p);
    }
    switch (r->dnf_reason) {
        case DNF_TIME_LIMIT:
            return "time limit";
        case DNF_STALLED:
            return "stalled";
        case DNF_RETIRED:
            return "retired";
        default:
            return "dnf";
    }
}

/* "my_bot" for a car's messages: its name (bots: the file's stem). */
static const char *car_label(const Match *m, int car) {
    return race_car(match_room(m), car)->name;
}

/* Prints, once per distinct error, the first occurrence (bot, tick, line,
 * cause) as soon as the runner has it; printed[car] counts those shown. */
static void print_new_errors(const Match *m, int *printed) {
    const RaceRoom *room = match_room(m);
    for (int car = 0; car < race_car_count(room); car++) {
        int n;
        const MatchBotError *e = match_bot_errors(m, car, &n, NULL);
        for (; e && printed[car] < n; printed[car]++) {
            const MatchBotError *x = &e[printed[car]];
            fprintf(stderr, "%s (car %d): tick %u: %s\n", car_label(m, car), car + 1, x->first_tick,
                    x->message);
        }
    }
}

/* At the end: how often each error came back, one line each. */
static void print_error_summary(const Match *m) {
    const RaceRoom *room = match_room(m);
    for (int car = 0; car < race_car_count(room); car++) {
        int n;
        long more;
        const MatchBotError *e = match_bot_errors(m, car, &n, &more);
        for (int k = 0; e && k < n; k++) {
            if (e[k].count > 1)
                fprintf(stderr, "%s (car %d): %s (tick %u), %ld more like it\n", car_label(m, car),
                        car + 1, e[k].message, e[k].first_tick, e[k].count - 1);
        }
        if (more > 0)
            fprintf(stderr, "%s (car %d): %ld more errors of other kinds (see --bot-log)\n",
                    car_label(m, car), car + 1, more);
    }
}

/* Steps the match flat out (as match_run), printing bot errors as they come. */
static int run_race(Match *m, CrError *err) {
    int printed[CR_MAX_CARS] = {0};
    bool load_reported = false;
    while (match_phase(m) != MATCH_DONE && match_phase(m) != MATCH_ABORTED) {
        int rc = match_wait(m, err);
        if (!rc) rc = match_step(m, bot_now_ns(), err);
        if (rc) return rc;
        print_new_errors(m, printed);
        if (!load_reported && match_phase(m) != MATCH_STARTING) {
            load_reported = true;
            for (int car = 0; car < race_car_count(match_room(m)); car++) {
                const char *why = match_bot_load_error(m, car);
                if (why)
                    fprintf(stderr, "%s (car %d): did not load, car retired:\n%s\n",
                            car_label(m, car), car + 1, why);
            }
        }
    }
    return CR_OK;
}

/* Bot i's figures if car is a bot car. */
static bool bot_stats(const Match *m, int car, MatchBotStats *st) {
    return match_bot_stats(m, car, st) == CR_OK;
}

static void print_table(const RaceOpts *o, const Match *m, const RaceResult *res,
                        const int *points) {
    const RaceRoom *room = match_room(m);
    const Stage *stage = match_stage(m);
    int n = race_car_count(room);
    printf("Stage: %s (seed %llu), %.0f u, %zu checkpoints; %u ticks (%.1f s simulated)\n\n",
           o->generator, (unsigned long long)o->seed, stage_length(stage),
           stage_checkpoint_count(stage), race_tick(room), race_tick(room) / (double)CR_TICK_RATE);
    printf("%-4s %-20s %-5s %-8s %10s %8s %6s %6s  %s\n", "Pos", "Name", "Kind", "Car", "Time",
           "Penalty", "CPs", "Points", "DNF reason");
    for (int i = 0; i < n; i++) {
        const RaceResult *r = &res[i];
        const CarEntry *c = race_car(room, r->car);
        char t[32];
        if (r->finished)
            snprintf(t, sizeof t, "%d:%06.3f", (int)(r->time_s / 60),
                     r->time_s - 60 * (int)(r->time_s / 60));
        else
            snprintf(t, sizeof t, "DNF");
        char detail[512];
        const char *why = dnf_reason(m, r, detail, sizeof detail);
        printf("%-4d %-20s %-5s %-8s %10s %8.1f %3d/%-2zu %6d  %s%s%s\n", r->position, c->name,
               car_kind_name(c->kind), c->car_type, t, r->penalty_s, r->checkpoints,
               stage_checkpoint_count(stage), points[i], why ? why : "", detail[0] ? ": " : "",
               detail);
    }
    if (o->n_bots > 0) {
        printf("\n%-20s %7s %8s %7s %9s %6s %7s %7s %10s %10s\n", "Bot", "Calls", "Timeouts",
               "Errors", "Restarts", "Late", "Skipped", "Unavail", "Mean us", "Worst us");
        for (int car = 0; car < n; car++) {
            MatchBotStats st;
            if (!bot_stats(m, car, &st)) continue;
            printf("%-20s %7ld %8ld %7ld %9ld %6ld %7ld %7ld %10.1f %10.1f\n",
                   race_car(room, car)->name, st.calls, st.timeouts, st.errors, st.restarts,
                   st.late, st.skipped, st.unavailable, st.mean_us, st.worst_us);
        }
    }
}

static void print_json(const RaceOpts *o, const Match *m, const RaceResult *res,
                       const int *points) {
    const RaceRoom *room = match_room(m);
    const Stage *stage = match_stage(m);
    int n = race_car_count(room);
    fputs("{\"generator\": ", stdout);
    json_write_string(stdout, o->generator);
    printf(", \"seed\": %llu, \"ticks\": %u, \"stage_length\": ", (unsigned long long)o->seed,
           race_tick(room));
    json_write_number(stdout, stage_length(stage));
    printf(", \"checkpoints\": %zu, \"rules\": ", stage_checkpoint_count(stage));
    json_write_string(stdout, match_rules_name(m));
    printf(", \"hash\": \"%016llx\", \"results\": [", (unsigned long long)race_hash(room));
    for (int i = 0; i < n; i++) {
        const RaceResult *r = &res[i];
        const CarEntry *c = race_car(room, r->car);
        printf("%s{\"position\": %d, \"name\": ", i ? ", " : "", r->position);
        json_write_string(stdout, c->name);
        printf(", \"kind\": \"%s\", \"car\": ", car_kind_name(c->kind));
        json_write_string(stdout, c->car_type);
        fputs(", \"time_s\": ", stdout);
        if (r->finished)
            json_write_number(stdout, r->time_s);
        else
            fputs("null", stdout);
        printf(", \"dnf\": %s, \"dnf_reason\": ", r->dnf ? "true" : "false");
        char detail[512];
        const char *why = dnf_reason(m, r, detail, sizeof detail);
        if (why)
            json_write_string(stdout, why);
        else
            fputs("null", stdout);
        fputs(", \"dnf_detail\": ", stdout);
        if (detail[0])
            json_write_string(stdout, detail);
        else
            fputs("null", stdout);
        fputs(", \"penalty_s\": ", stdout);
        json_write_number(stdout, r->penalty_s);
        printf(", \"checkpoints\": %d, \"points\": %d", r->checkpoints, points[i]);
        MatchBotStats st;
        if (bot_stats(m, r->car, &st)) {
            printf(
                ", \"bot\": {\"calls\": %ld, \"timeouts\": %ld, \"errors\": %ld, "
                "\"restarts\": %ld, \"late\": %ld, \"skipped\": %ld, \"unavailable\": %ld, "
                "\"mean_us\": ",
                st.calls, st.timeouts, st.errors, st.restarts, st.late, st.skipped, st.unavailable);
            json_write_number(stdout, st.mean_us);
            fputs(", \"worst_us\": ", stdout);
            json_write_number(stdout, st.worst_us);
            fputs(", \"memory\": ", stdout);
            const char *mem = match_bot_memory(m, r->car);
            fputs(mem ? mem : "null", stdout);
            fputs(", \"error_list\": [", stdout);
            int ne;
            const MatchBotError *e = match_bot_errors(m, r->car, &ne, NULL);
            for (int k = 0; k < ne; k++) {
                fputs(k ? ", {\"message\": " : "{\"message\": ", stdout);
                json_write_string(stdout, e[k].message);
                printf(", \"first_tick\": %u, \"count\": %ld}", e[k].first_tick, e[k].count);
            }
            fputs("]}", stdout);
        }
        fputs("}", stdout);
    }
    fputs("]}\n", stdout);
}

/* Writes DIR/car<N>-<name>.log for every bot car (N: its 1-based grid
 * slot, so two bots from files of the same name never share a log): the
 * bot's log (prints, capped, and the host's notes), then its distinct
 * errors, which the print cap never cuts. */
static int write_bot_logs(const Match *m, const char *dir, CrError *err) {
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        snprintf(err->msg, sizeof err->msg, "%.900s: %s", dir, strerror(errno));
        return CR_EIO;
    }
    const RaceRoom *room = match_room(m);
    for (int car = 0; car < race_car_count(room); car++) {
        size_t len;
        const char *log = match_bot_log(m, car, &len);
        if (!log) continue;
        /* Car names come from the race setup; keep them to safe characters. */
        char name[CR_NAME_MAX];
        snprintf(name, sizeof name, "%s", race_car(room, car)->name);
        for (char *p = name; *p; p++) {
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
                *p = '_';
        }
        char path[4096];
        snprintf(path, sizeof path, "%s/car%d-%s.log", dir, car + 1, name);
        FILE *f = fopen(path, "w");
        bool ok = f && fwrite(log, 1, len, f) == len;
        int ne;
        long more;
        const MatchBotError *e = match_bot_errors(m, car, &ne, &more);
        if (f && (ne > 0 || more > 0)) {
            fprintf(f, "%s--- errors (first tick, count, message) ---\n",
                    len && log[len - 1] != '\n' ? "\n" : "");
            for (int k = 0; k < ne; k++)
                fprintf(f, "tick %u, %ld times: %s\n", e[k].first_tick, e[k].count, e[k].message);
            if (more > 0) fprintf(f, "%ld more errors of other kinds\n", more);
        }
        if (f && ferror(f)) ok = false;
        if (f && fclose(f) != 0) ok = false;
        if (!ok) {
            snprintf(err->msg, sizeof err->msg, "%.900s: cannot write", path);
            return CR_EIO;
        }
    }
    return CR_OK;
}

/* The key of bot i in the --memory file: its name, or car<N>-<name> when
 * two bots of the race share a name. */
static void memory_key(const CarEntry *cars, int n_bots, int i, char *out, size_t n) {
    bool shared = false;
    for (int k = 0; k < n_bots; k++)
        if (k != i && !strcmp(cars[k].name, cars[i].name)) shared = true;
    int k = shared ? snprintf(out, n, "car%d-", i + 1) : 0;
    if (k < 0 || (size_t)k >= n) k = 0;
    size_t len = strnlen(cars[i].name, sizeof cars[i].name);
    if ((size_t)k + len >= n) len = n - (size_t)k - 1;
    memcpy(out + k, cars[i].name, len);
    out[(size_t)k + len] = 0;
}

/* Reads the --memory file: a JSON object keyed by bot; a missing file is
 * an empty one. Fills mem[i] (caller frees) with bot i's memory as JSON. */
static int memory_load(const char *path, const CarEntry *cars, int n_bots, json_t **root,
                       char **mem, CrError *err) {
    *root = NULL;
    struct stat sb;
    if (stat(path, &sb) < 0 && errno == ENOENT) {
        *root = json_object();
        return *root ? CR_OK : CR_ENOMEM;
    }
    json_error_t je;
    *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!*root) {
        snprintf(err->msg, sizeof err->msg, "%.700s:%d: not valid JSON: %.160s (nothing changed)",
                 path, je.line, je.text);
        return CR_EINVAL;
    }
    if (!json_is_object(*root)) {
        snprintf(err->msg, sizeof err->msg,
                 "%.900s: must be a JSON object keyed by bot name (nothing changed)", path);
        return CR_EINVAL;
    }
    for (int i = 0; i < n_bots; i++) {
        char key[CR_NAME_MAX + 16];
        memory_key(cars, n_bots, i, key, sizeof key);
        json_t *v = json_object_get(*root, key);
        if (!v) continue;
        if (!json_is_object(v)) {
            snprintf(err->msg, sizeof err->msg,
                     "%.900s: \"%s\" must be an object (a bot's self.memory; nothing changed)",
                     path, key);
            return CR_EINVAL;
        }
        mem[i] = json_dumps(v, JSON_COMPACT);
        if (!mem[i]) return CR_ENOMEM;
    }
    return CR_OK;
}

/* Puts each bot's memory after the race into root and writes it to path
 * atomically (a temporary file renamed over it), so a crash leaves the old
 * file. Bots whose memory was not saved keep their old entry. */
static int memory_save(const char *path, const Match *m, const CarEntry *cars, int n_bots,
                       json_t *root, CrError *err) {
    for (int i = 0; i < n_bots; i++) {
        const char *mem = match_bot_memory(m, i);
        if (!mem) continue;
        json_error_t je;
        json_t *v = json_loads(mem, 0, &je);
        if (!v) continue;
        char key[CR_NAME_MAX + 16];
        memory_key(cars, n_bots, i, key, sizeof key);
        json_object_set_new(root, key, v);
    }
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    bool ok =
        f && json_dumpf(root, f, JSON_INDENT(2) | JSON_SORT_KEYS) == 0 && fputc('\n', f) != EOF;
    if (f && fflush(f) != 0) ok = false;
    if (f && fsync(fileno(f)) != 0) ok = false;
    if (f && fclose(f) != 0) ok = false;
    if (!ok || rename(tmp, path) != 0) {
        snprintf(err->msg, sizeof err->msg, "%.900s: cannot write (%s); the old memory is kept",
                 path, strerror(errno));
        unlink(tmp);
        return CR_EIO;
    }
    return CR_OK;
}

int cmd_race(int argc, char **argv) {
    RaceOpts o;
    int prc = parse(argc, argv, &o);
    if (prc) return prc == 1 ? 0 : 2;
    Scripts *sc = NULL;
    if (cli_open_scripts(CMD, &o.common, &sc)) return 1;
    int status = 1;
    CrError err = {{0}};
    Match *m = NULL;
    CarEntry cars[CR_MAX_CARS];
    MatchBot bots[CR_MAX_CARS];
    char *sources[CR_MAX_CARS] = {0};
    char *memory[CR_MAX_CARS] = {0};
    json_t *memory_root = NULL;
    memset(bots, 0, sizeof bots);
    int n;
    if (build_cars(sc, &o, cars, &n)) goto out;
    if (o.memory && memory_load(o.memory, cars, o.n_bots, &memory_root, memory, &err)) {
        cli_error(CMD, "%s", err.msg);
        goto out;
    }
    for (int i = 0; i < o.n_bots; i++) {
        size_t len;
        if (file_read(o.bots[i], BOT_SOURCE_MAX, &sources[i], &len, &err)) {
            cli_error(CMD, "%s", err.msg);
            goto out;
        }
        bots[i] = (MatchBot){
            .name = o.bots[i], .source = sources[i], .source_len = len, .memory_json = memory[i]};
    }
    MatchConfig cfg = {.scripts = sc,
                       .generator = o.generator,
                       .seed = o.seed,
                       .params = o.params,
                       .n_params = (size_t)o.n_params,
                       .rules = o.rules,
                       .cars = cars,
                       .n_cars = n,
                       .bots = bots,
                       /* a bot that does not load is a DNF with its reason */
                       .retire_failed_bots = true,
                       .replay_path = o.replay};
    if (match_create(&cfg, &m, &err) || run_race(m, &err)) {
        cli_error(CMD, "%s", err.msg);
        goto out;
    }
    RaceResult res[CR_MAX_CARS];
    int points[CR_MAX_CARS];
    if (match_results(m, res, points)) {
        cli_error(CMD, "%s", match_error(m) ? match_error(m) : "the race did not finish");
        goto out;
    }
    print_error_summary(m);
    if (o.memory && memory_save(o.memory, m, cars, o.n_bots, memory_root, &err)) {
        cli_error(CMD, "%s", err.msg);
        goto out;
    }
    if (o.bot_log && write_bot_logs(m, o.bot_log, &err)) {
        cli_error(CMD, "%s", err.msg);
        goto out;
    }
    if (o.json)
        print_json(&o, m, res, points);
    else
        print_table(&o, m, res, points);
    status = 0;
out:
    match_destroy(m);
    for (int i = 0; i < CR_MAX_CARS; i++) {
        free(sources[i]);
        free(memory[i]);
    }
    json_decref(memory_root);
    scripts_close(sc);
    return status;
}
