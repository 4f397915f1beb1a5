/*
 * cmd_race.c - `coderally race`: a headless race run flat out. Bots and AI
 * drivers are called on bot ticks; the replay records every input change
 * and a state hash every second.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common.h"
#include "lua/session.h"
#include "race_bots.h"
#include "sim/replay.h"
#include "util/json.h"

#define MAX_BOTS CR_MAX_CARS
#define MAX_PARAMS REPLAY_MAX_PARAMS

static const char *const CMD = "race";

static void usage(FILE *f) {
    fputs(
        "usage: coderally race [--generator NAME] [--seed N] [--ai K] [--bot FILE ...]\n"
        "                      [--car TYPE ...] [--rules NAME] [--param KEY=VALUE ...]\n"
        "                      [--replay FILE] [--bot-log DIR] [--json]\n"
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
        "  --bot-log DIR     write each bot's log to DIR/<name>.log\n"
        "  --json            print one JSON object instead of a table\n",
        f);
}

typedef struct {
    CommonOpts common;
    const char *generator, *rules, *replay, *bot_log;
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
                     !strcmp(a, "--param") || !strcmp(a, "--replay") || !strcmp(a, "--bot-log");
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

static void print_table(const RaceOpts *o, const Session *s, const RaceResult *res,
                        const int *points, RaceBots *bots) {
    int n = race_car_count(s->room);
    printf("Stage: %s (seed %llu), %.0f u, %zu checkpoints; %u ticks (%.1f s simulated)\n\n",
           o->generator, (unsigned long long)o->seed, stage_length(s->stage),
           stage_checkpoint_count(s->stage), race_tick(s->room),
           race_tick(s->room) / (double)CR_TICK_RATE);
    printf("%-4s %-20s %-5s %-8s %10s %8s %6s %6s\n", "Pos", "Name", "Kind", "Car", "Time",
           "Penalty", "CPs", "Points");
    for (int i = 0; i < n; i++) {
        const RaceResult *r = &res[i];
        const CarEntry *c = race_car(s->room, r->car);
        char t[32];
        if (r->finished)
            snprintf(t, sizeof t, "%d:%06.3f", (int)(r->time_s / 60),
                     r->time_s - 60 * (int)(r->time_s / 60));
        else
            snprintf(t, sizeof t, "DNF");
        printf("%-4d %-20s %-5s %-8s %10s %8.1f %3d/%-2zu %6d\n", r->position, c->name,
               car_kind_name(c->kind), c->car_type, t, r->penalty_s, r->checkpoints,
               stage_checkpoint_count(s->stage), points[i]);
    }
    if (bots && race_bots_count(bots) > 0) {
        printf("\n%-20s %7s %8s %7s %9s %10s %10s\n", "Bot", "Calls", "Timeouts", "Errors",
               "Restarts", "Mean us", "Worst us");
        for (int b = 0; b < race_bots_count(bots); b++) {
            BotStats st;
            race_bots_stats(bots, b, &st);
            printf("%-20s %7ld %8ld %7ld %9ld %10.1f %10.1f\n",
                   race_car(s->room, race_bots_car(bots, b))->name, st.calls, st.timeouts,
                   st.errors, st.restarts, st.mean_us, st.worst_us);
        }
    }
}

static void print_json(const RaceOpts *o, const Session *s, const RaceResult *res,
                       const int *points, RaceBots *bots) {
    int n = race_car_count(s->room);
    fputs("{\"generator\": ", stdout);
    json_write_string(stdout, o->generator);
    printf(", \"seed\": %llu, \"ticks\": %u, \"stage_length\": ", (unsigned long long)o->seed,
           race_tick(s->room));
    json_write_number(stdout, stage_length(s->stage));
    printf(", \"checkpoints\": %zu, \"rules\": ", stage_checkpoint_count(s->stage));
    json_write_string(stdout, rules_name(s->rules));
    printf(", \"hash\": \"%016llx\", \"results\": [", (unsigned long long)race_hash(s->room));
    for (int i = 0; i < n; i++) {
        const RaceResult *r = &res[i];
        const CarEntry *c = race_car(s->room, r->car);
        printf("%s{\"position\": %d, \"name\": ", i ? ", " : "", r->position);
        json_write_string(stdout, c->name);
        printf(", \"kind\": \"%s\", \"car\": ", car_kind_name(c->kind));
        json_write_string(stdout, c->car_type);
        fputs(", \"time_s\": ", stdout);
        if (r->finished)
            json_write_number(stdout, r->time_s);
        else
            fputs("null", stdout);
        printf(", \"dnf\": %s, \"penalty_s\": ", r->dnf ? "true" : "false");
        json_write_number(stdout, r->penalty_s);
        printf(", \"checkpoints\": %d, \"points\": %d", r->checkpoints, points[i]);
        int bot = -1;
        for (int b = 0; bots && b < race_bots_count(bots); b++)
            if (race_bots_car(bots, b) == r->car) bot = b;
        if (bot >= 0) {
            BotStats st;
            race_bots_stats(bots, bot, &st);
            printf(
                ", \"bot\": {\"calls\": %ld, \"timeouts\": %ld, \"errors\": %ld, "
                "\"restarts\": %ld, \"mean_us\": ",
                st.calls, st.timeouts, st.errors, st.restarts);
            json_write_number(stdout, st.mean_us);
            fputs(", \"worst_us\": ", stdout);
            json_write_number(stdout, st.worst_us);
            fputs(", \"memory\": ", stdout);
            const char *mem = race_bots_memory(bots, bot);
            fputs(mem ? mem : "null", stdout);
            fputs("}", stdout);
        }
        fputs("}", stdout);
    }
    fputs("]}\n", stdout);
}

/* The debug drawings each bot returned this tick, into the replay. */
static int record_drawings(ReplayWriter *rw, const RaceBots *bots, uint32_t tick) {
    for (int b = 0; b < race_bots_count(bots); b++) {
        int n;
        const BotDrawing *d = race_bots_drawings(bots, b, &n);
        ReplayDrawing out[REPLAY_MAX_DRAWINGS];
        if (n > REPLAY_MAX_DRAWINGS) n = REPLAY_MAX_DRAWINGS;
        for (int i = 0; i < n; i++) {
            out[i] = (ReplayDrawing){d[i].kind, d[i].rgb, d[i].a, d[i].b, d[i].c, d[i].d, ""};
            snprintf(out[i].text, sizeof out[i].text, "%s", d[i].text);
        }
        if (replay_writer_drawings(rw, tick, race_bots_car(bots, b), out, n)) return -1;
    }
    return 0;
}

/* Runs the race to the end, driving AI and bots, recording the replay. */
static int run(Session *s, RaceBots *bots, ReplayWriter *rw, CrError *err) {
    RaceRoom *room = s->room;
    int n = race_car_count(room);
    CarInput inputs[CR_MAX_CARS];
    memset(inputs, 0, sizeof inputs);
    while (race_phase(room) != PHASE_FINISHED) {
        uint32_t tick = race_tick(room);
        if (session_drive_ai(s) && bots) {
            int rc = race_bots_tick(bots, room, inputs, err);
            if (rc) return rc;
            for (int i = 0; i < n; i++)
                if (race_car(room, i)->kind == CAR_BOT) race_set_input(room, i, &inputs[i]);
            if (rw && record_drawings(rw, bots, tick)) {
                snprintf(err->msg, sizeof err->msg, "cannot write the replay");
                return CR_EIO;
            }
        }
        /* Every tick, not only bot ticks: the writer keeps changes only. */
        for (int i = 0; rw && i < n; i++) {
            if (replay_writer_input(rw, tick, i, race_input(room, i))) {
                snprintf(err->msg, sizeof err->msg, "cannot write the replay");
                return CR_EIO;
            }
        }
        int rc = race_step(room, err);
        if (rc) return rc;
        size_t ne;
        const RaceEvent *ev = race_events(room, &ne);
        if (bots && ne) race_bots_events(bots, ev, ne);
        uint32_t now = race_tick(room);
        if (rw && now % REPLAY_HASH_EVERY == 0 && replay_writer_hash(rw, now, race_hash(room))) {
            snprintf(err->msg, sizeof err->msg, "cannot write the replay");
            return CR_EIO;
        }
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
    Session s = {0};
    RaceBots *bots = NULL;
    ReplayWriter *rw = NULL;
    CarEntry cars[CR_MAX_CARS];
    int n;
    if (build_cars(sc, &o, cars, &n)) goto out;
    if (session_start(sc, o.generator, o.seed, o.params, (size_t)o.n_params, o.rules, cars, n, &s,
                      &err)) {
        cli_error(CMD, "%s", err.msg);
        goto out;
    }
    if (o.n_bots) {
        RaceBotsConfig cfg = {NULL, 50, 10, cars, stage_surfaces(s.stage)};
        scripts_config_number(sc, "BOT_MEMORY_LIMIT_MB", &cfg.memory_limit_mb);
        scripts_config_number(sc, "BOT_EXECUTION_TIMEOUT_MS", &cfg.timeout_ms);
        int idx[MAX_BOTS];
        for (int i = 0; i < o.n_bots; i++) idx[i] = i;
        if (race_bots_start(&cfg, o.bots, idx, o.n_bots, o.seed, &bots, &err)) {
            cli_error(CMD, "%s", err.msg);
            goto out;
        }
    }
    if (o.replay) {
        ReplayHeader h;
        memset(&h, 0, sizeof h);
        const GeneratorInfo *gi;
        scripts_find_generator(sc, o.generator, &gi, &err);
        snprintf(h.generator, sizeof h.generator, "%s", gi->name);
        snprintf(h.generator_version, sizeof h.generator_version, "%s", gi->version);
        h.seed = o.seed;
        h.surfaces_hash = stage_surfaces(s.stage)->hash;
        h.n_params = o.n_params;
        for (int i = 0; i < o.n_params; i++) {
            snprintf(h.param_key[i], sizeof h.param_key[i], "%s", o.params[i].key);
            snprintf(h.param_value[i], sizeof h.param_value[i], "%s", o.params[i].value);
        }
        snprintf(h.rules, sizeof h.rules, "%s", rules_name(s.rules));
        h.rules_hash = rules_hash(s.rules);
        h.stage_hash = stage_hash(s.stage);
        h.n_cars = n;
        memcpy(h.cars, cars, (size_t)n * sizeof *cars);
        if (replay_writer_open(o.replay, &h, &rw, &err)) {
            cli_error(CMD, "%s", err.msg);
            goto out;
        }
    }
    if (run(&s, bots, rw, &err)) {
        cli_error(CMD, "%s", err.msg);
        goto out;
    }
    if (bots && race_bots_finish(bots, s.room, &err)) {
        cli_error(CMD, "%s", err.msg);
        goto out;
    }
    if (rw) {
        int rc = replay_writer_close(rw, race_tick(s.room), race_hash(s.room), &err);
        rw = NULL;
        if (rc) {
            cli_error(CMD, "%s", err.msg);
            goto out;
        }
    }
    RaceResult res[CR_MAX_CARS];
    int points[CR_MAX_CARS];
    race_results(s.room, res);
    if (rules_points(s.rules, res, n, points, &err)) {
        cli_error(CMD, "%s", err.msg);
        goto out;
    }
    if (bots && o.bot_log && race_bots_write_logs(bots, s.room, o.bot_log, &err)) {
        cli_error(CMD, "%s", err.msg);
        goto out;
    }
    if (o.json)
        print_json(&o, &s, res, points, bots);
    else
        print_table(&o, &s, res, points, bots);
    status = 0;
out:
    replay_writer_abort(rw);
    race_bots_destroy(bots);
    session_end(&s);
    scripts_close(sc);
    return status;
}
