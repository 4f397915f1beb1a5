/*
 * bench_lobby.c - `coderally bench lobby`: what lobby.lua costs a server
 * that runs many rooms. Every room has its own lobby Lua state; this opens
 * --rooms of them and times their hooks as the server calls them (a full
 * room of 7 players of 8 in the view), for the scripts' own lobby.lua and for a
 * reference match handler with a loop, plus the race_start stage geometry
 * encoded once per room start. Medians and p99 over every call; the
 * reference loop's answers are checked, so a fast but wrong build fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "cli.h"
#include "common.h"

static const char *const CMD = "bench";

/* A designer's typical loop: presence bookkeeping in the state, a ready
 * count, a start, a message now and then. */
static const char REFERENCE_LOBBY[] =
    "return {\n"
    "  grace_s = 10,\n"
    "  init = function(room) return { seen = {}, ticks = 0 }, 1, 'open' end,\n"
    "  join = function(room, state, p) state.seen[p.user_id] = 0 end,\n"
    "  leave = function(room, state, p) state.seen[p.user_id] = nil return 'ai' end,\n"
    "  loop = function(room, state, t)\n"
    "    state.ticks = t.tick\n"
    "    local ready = 0\n"
    "    for _, p in ipairs(room.players) do\n"
    "      if p.ready then ready = ready + 1 end\n"
    "      if not p.connected then state.seen[p.user_id] = (state.seen[p.user_id] or 0) + 1 end\n"
    "    end\n"
    "    if room.phase == 'open' and room.n_players >= 2 and ready == room.n_players then\n"
    "      return { start = 5, label = 'starting' }\n"
    "    end\n"
    "    if t.tick % 30 == 0 then return { message = 'still here: ' .. room.n_players } end\n"
    "  end,\n"
    "}\n";

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + ts.tv_nsec * 1e-3;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Sorts v; its median and p99. */
static void stats(double *v, int n, double *med, double *p99) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    *med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    *p99 = v[(int)((n - 1) * 0.99)];
}

static const char *const NAMES[8] = {"ann", "bob", "cy", "di", "ed", "flo", "gus", "hal"};

static LobbyRoom full_room(LobbyPlayer players[8], const char *phase, bool all_ready) {
    for (int i = 0; i < 8; i++)
        players[i] = (LobbyPlayer){i + 1, NAMES[i], i % 3 == 2, all_ready || i % 2, i != 5, 0};
    /* 7 of 8 seats taken: join_attempt still asks the script. */
    return (LobbyRoom){"bench", phase, 8, 7, players, 3};
}

typedef struct {
    const char *what;
    double *t;
    int n;
} Series;

static void report(const char *lobby, Series *s) {
    double med, p99;
    stats(s->t, s->n, &med, &p99);
    printf("  %-8s %-13s median %7.1f us  p99 %7.1f us  (%d calls)\n", lobby, s->what, med, p99,
           s->n);
}

/* Opens `rooms` lobbies from sc and times their hooks `calls` times each.
 * Returns non-zero if the reference loop answered wrongly. */
static int bench_one(Scripts *sc, const char *label, int rooms, int calls, bool reference) {
    Lobby **lb = calloc((size_t)rooms, sizeof *lb);
    int n_series = 6, total = rooms * calls, status = !lb;
    Series s[6] = {{"open+init", NULL, 0},    {"join_attempt", NULL, 0}, {"join", NULL, 0},
                   {"should_start", NULL, 0}, {"leave", NULL, 0},        {"loop", NULL, 0}};
    for (int k = 0; k < n_series; k++)
        if (!(s[k].t = malloc((size_t)total * sizeof(double)))) status = 1;
    LobbyPlayer players[8];
    LobbyRoom room = full_room(players, "open", false);
    CrError err = {{0}};
    size_t mem = 0;
    for (int r = 0; r < rooms && !status; r++) {
        double t0 = now_us();
        if (lobby_load(sc, &lb[r], &err) || lobby_init(lb[r], &room, &err)) {
            cli_error(CMD, "%s", err.msg);
            status = 1;
            break;
        }
        s[0].t[s[0].n++] = now_us() - t0;
        mem += lobby_memory(lb[r]);
    }
    int messages = 0, starts = 0;
    for (int c = 0; c < calls && !status; c++) {
        for (int r = 0; r < rooms; r++) {
            bool ok, start;
            double cd, t0 = now_us();
            char reason[64];
            int rc =
                lobby_join_attempt(lb[r], &room, &players[c % 8], &ok, reason, sizeof reason, &err);
            double t1 = now_us();
            rc = rc ? rc : lobby_join(lb[r], &room, &players[c % 8], &err);
            double t2 = now_us();
            rc = rc ? rc : lobby_should_start(lb[r], &room, &start, &cd, &err);
            double t3 = now_us();
            LobbyLeave lv;
            rc = rc ? rc : lobby_leave(lb[r], &room, &players[c % 8], "running", "left", &lv, &err);
            double t4 = now_us();
            LobbyTick t = {.n = c + 1, .elapsed_s = c};
            LobbyActions a;
            rc = rc ? rc : lobby_loop(lb[r], &room, &t, &a, &err);
            double t5 = now_us();
            if (rc) {
                cli_error(CMD, "%s", err.msg);
                status = 1;
                break;
            }
            s[1].t[s[1].n++] = t1 - t0;
            s[2].t[s[2].n++] = t2 - t1;
            s[3].t[s[3].n++] = t3 - t2;
            s[4].t[s[4].n++] = t4 - t3;
            s[5].t[s[5].n++] = t5 - t4;
            messages += a.message[0] != 0;
            starts += a.start == 1;
        }
    }
    if (!status && reference) {
        /* Not everyone ready: a message every 30th loop and no start; all
         * ready: a start. */
        LobbyPlayer ready_players[8];
        LobbyRoom ready = full_room(ready_players, "open", true);
        LobbyTick t = {.n = 1};
        LobbyActions a;
        int want = rooms * (calls / 30);
        if (messages != want || starts != 0 || lobby_loop(lb[0], &ready, &t, &a, &err) ||
            a.start != 1 || a.countdown_s != 5 || strcmp(lobby_label(lb[0]), "starting")) {
            cli_error(CMD, "the reference loop answered wrongly (%d messages, want %d; %d starts)",
                      messages, want, starts);
            status = 1;
        }
    }
    if (!status) {
        printf("%s: %d rooms, %.0f KiB of Lua state per room after init\n", label, rooms,
               (double)mem / rooms / 1024);
        for (int k = 0; k < n_series; k++) report(label, &s[k]);
        if (lobby_loop_hz(lb[0]) > 0) {
            double med, p99;
            stats(s[5].t, s[5].n, &med, &p99);
            printf(
                "  %-8s 50 rooms looping at %.0f Hz: %.2f ms of the loop thread per second "
                "(%.3f%% of a core)\n",
                label, lobby_loop_hz(lb[0]), 50 * lobby_loop_hz(lb[0]) * med / 1e3,
                50 * lobby_loop_hz(lb[0]) * med / 1e4);
        } else {
            printf("  %-8s no loop: nothing runs between events\n", label);
        }
    }
    for (int r = 0; lb && r < rooms; r++) lobby_destroy(lb[r]);
    free(lb);
    for (int k = 0; k < n_series; k++) free(s[k].t);
    return status;
}

/* race_start's geometry: encoded once per room start. */
static int bench_geometry(Scripts *sc, int runs) {
    const char *car = "hatch";
    scripts_config_string(sc, "DEFAULT_CAR", &car);
    double *t = malloc((size_t)runs * sizeof *t);
    if (!t) return 1;
    int status = 0;
    for (size_t g = 0; g < scripts_generator_count(sc) && !status; g++) {
        if (scripts_generator_error(sc, g)) continue;
        const char *name = scripts_generator(sc, g)->name;
        Stage *st;
        CrError err = {{0}};
        if (scripts_generate_stage(sc, name, 1, NULL, 0, &st, &err)) {
            cli_error(CMD, "%s", err.msg);
            status = 1;
            break;
        }
        size_t len = 0;
        for (int r = 0; r < runs; r++) {
            double t0 = now_us();
            json_t *geo = api_stage_geometry(sc, car, name, 1, st);
            char *text =
                geo ? json_dumps(geo, JSON_COMPACT | JSON_REAL_PRECISION(API_STAGE_PRECISION))
                    : NULL;
            t[r] = now_us() - t0;
            json_decref(geo);
            if (!text) status = 1;
            len = text ? strlen(text) : 0;
            free(text);
        }
        stage_destroy(st);
        double med, p99;
        stats(t, runs, &med, &p99);
        printf("geometry %-10s %6.1f KiB, encoded in median %.2f ms (p99 %.2f ms)\n", name,
               (double)len / 1024, med / 1e3, p99 / 1e3);
    }
    free(t);
    return status;
}

int bench_lobby(int argc, char **argv) {
    CommonOpts common;
    cli_common_init(&common);
    long long rooms = 50, calls = 120;
    for (int i = 2; i < argc; i++) {
        int c = cli_common_opt(CMD, argc, argv, &i, &common);
        if (c < 0) return 2;
        if (c > 0) continue;
        const char *v;
        if (!strcmp(argv[i], "--rooms")) {
            if (!(v = cli_value(CMD, argc, argv, &i)) ||
                cli_parse_int(CMD, "--rooms", v, 1, 1000, &rooms))
                return 2;
        } else if (!strcmp(argv[i], "--calls")) {
            if (!(v = cli_value(CMD, argc, argv, &i)) ||
                cli_parse_int(CMD, "--calls", v, 30, 100000, &calls))
                return 2;
        } else {
            cli_error(CMD, "usage: coderally bench lobby [--rooms N] [--calls N] [--scripts DIR]");
            return 2;
        }
    }
    Scripts *sc = NULL, *ref = NULL;
    if (cli_open_scripts(CMD, &common, &sc)) return 1;
    /* The reference lobby in a copy of the scripts. */
    char dir[] = "/tmp/coderally-bench-lobby-XXXXXX", cmd[1024], path[256];
    int status = 1;
    if (!mkdtemp(dir)) {
        cli_error(CMD, "cannot make a temporary folder");
        scripts_close(sc);
        return 1;
    }
    snprintf(cmd, sizeof cmd, "cp -r '%s'/. '%s'", scripts_dir(sc), dir);
    snprintf(path, sizeof path, "%s/lobby.lua", dir);
    FILE *f = system(cmd) == 0 ? fopen(path, "w") : NULL;
    if (!f || fputs(REFERENCE_LOBBY, f) < 0) {
        cli_error(CMD, "cannot write %s", path);
        if (f) fclose(f);
        goto out;
    }
    fclose(f);
    CrError err = {{0}};
    if (scripts_open(dir, common.sets, common.n_sets, &ref, &err)) {
        cli_error(CMD, "%s", err.msg);
        goto out;
    }
    status = bench_one(sc, "shipped", (int)rooms, (int)calls, false) ||
             bench_one(ref, "loop", (int)rooms, (int)calls, true) || bench_geometry(sc, 20);
out:
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) status = 1;
    scripts_close(ref);
    scripts_close(sc);
    return status;
}
