/*
 * test_sandbox.c - the bot sandbox through its host API (cengine/bot/), with
 * synthetic sensor records so it needs no stage.
 *
 *   test_sandbox hostile DIR   every hostile bot in DIR next to one honest bot
 *   test_sandbox positive      memory, logs, events, actions, determinism,
 *                              non-blocking use, the host's hard kill
 *
 * Each hostile file starts with "# expect: KIND" (compile, blocked, timeout,
 * crash, error, flood, dropped, ok), optionally followed by "# line: N"
 * (the refusal or the error names line N) and "# log: TEXT" (in the log). For every one the test
 * proves: the attempt fails as expected, "ESCAPED" (printed only if it succeeded) never appears,
 * the canary file's secret appears in no output, and the honest bot - the same worker throughout -
 * answers every tick correctly.
 */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bot_link.h"

#ifndef CR_BOTD_PATH
#define CR_BOTD_PATH "coderally-botd"
#endif

static int g_failed, g_passed;
static char g_secret[64], g_canary[256];

#define CHECK(cond, ...)                                             \
    do {                                                             \
        if (!(cond)) {                                               \
            printf("  FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            printf(__VA_ARGS__);                                     \
            printf("\n");                                            \
            ok = false;                                              \
        }                                                            \
    } while (0)

static void report(const char *name, bool ok) {
    printf("%s %s\n", ok ? "ok  " : "FAIL", name);
    if (ok)
        g_passed++;
    else
        g_failed++;
}

static void fake_record(SensorRecord *s, uint32_t tick) {
    memset(s, 0, sizeof *s);
    s->tick = tick;
    s->phase = PHASE_RUNNING;
    s->x = (float)tick, s->y = 1, s->speed = 20, s->v_forward = 20, s->top_speed = 50;
    s->on_road = true, s->checkpoints_total = 3, s->cars = 2, s->position = 1;
    for (int i = 0; i < SENSOR_RAYS; i++) s->rays[i] = 30;
    s->n_checkpoints = 1;
    s->checkpoints[0] = (SensorCheckpoint){50, 5, 50.2f, 0.1f, 12, 0};
    for (int i = 0; i < SENSOR_PACE_NOTES; i++) {
        s->pace[i] = (SensorPaceNote){
            SENSOR_PACE_AHEAD[i], SENSOR_PACE_AHEAD[i], 1, 0.05f, 12, 0.001f, SURFACE_ASPHALT};
    }
}

/* Creates a link and waits (polling) for the first load, as a CLI does. */
static int create_loaded(BotHost *host, const BotSpec *spec, BotLink **l, CrError *err) {
    int rc = bot_link_create(host, spec, l, err);
    if (rc == CR_OK) rc = bot_links_collect(l, 1);
    if (rc == CR_OK) rc = bot_link_start_result(*l, err);
    if (rc != CR_OK) {
        bot_link_destroy(*l);
        *l = NULL;
    }
    return rc;
}

/* Pumps and polls until l is in state want (or a terminal state), at most
 * ms. The tests' own waiting; the link never waits. */
static BotLinkState wait_state(BotHost *host, BotLink *l, BotLinkState want, int ms) {
    int64_t until = bot_now_ns() + (int64_t)ms * 1000000;
    for (;;) {
        bot_host_pump(host);
        BotLinkState st = bot_link_state(l);
        if (st == want || st == BOT_LINK_DISABLED || st == BOT_LINK_FINISHED ||
            bot_now_ns() > until)
            return st;
        struct pollfd fds[64];
        int64_t wake;
        size_t k = bot_host_pollfds(host, fds, 64, &wake);
        int64_t left = wake - bot_now_ns();
        if (left > 20000000) left = 20000000;
        if (left < 0) left = 0;
        (void)poll(fds, k, (int)(left / 1000000));
    }
}

static int finish_wait(BotLink *l, const BotWireEvent *ev, size_t n) {
    bot_link_finish(l, ev, n);
    bot_links_collect(&l, 1);
    return bot_link_memory(l) ? CR_OK : CR_EINVAL;
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) buf[n] = 0;
    *len = (size_t)n;
    return buf;
}

/* Replaces every "@CANARY@" and "@DEEP@" marker. */
static char *expand(const char *src) {
    size_t deep = 30000, cap = strlen(src) + 2 * deep + 4096;
    char *out = malloc(cap);
    size_t o = 0;
    for (const char *p = src; *p;) {
        if (!strncmp(p, "@CANARY@", 8)) {
            o += (size_t)snprintf(out + o, cap - o, "%s", g_canary);
            p += 8;
        } else if (!strncmp(p, "@DEEP@", 6)) {
            for (size_t i = 0; i < deep; i++) out[o++] = '(';
            out[o++] = '1';
            for (size_t i = 0; i < deep; i++) out[o++] = ')';
            p += 6;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = 0;
    return out;
}

static bool leaked(const char *s, size_t n) {
    return memmem(s, n, g_secret, strlen(g_secret)) != NULL;
}

static void make_canary(void) {
    char dir[] = "/tmp/crsbx-XXXXXX";
    if (!mkdtemp(dir)) abort();
    snprintf(g_canary, sizeof g_canary, "%s/secret.txt", dir);
    srand((unsigned)getpid());
    snprintf(g_secret, sizeof g_secret, "CANARY-%08x%08x", (unsigned)rand(), (unsigned)rand());
    FILE *f = fopen(g_canary, "w");
    fputs(g_secret, f);
    fclose(f);
}

static void remove_canary(void) {
    unlink(g_canary);
    char *slash = strrchr(g_canary, '/');
    *slash = 0;
    rmdir(g_canary);
}

static const char HONEST[] =
    "import math\n"
    "class Bot:\n"
    "    def __init__(self):\n"
    "        self.n = 0\n"
    "    def on_tick(self, state):\n"
    "        self.n = self.n + 1\n"
    "        return {'throttle': 1.0, 'steer': 0.25, 'brake': 0.0}\n";

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool honest_ok(BotLink *honest, const char *name) {
    const BotReply *r = bot_link_reply(honest);
    bool ok = true;
    CHECK(r->status == BOT_STATUS_OK && r->input.throttle == 1.0f && r->input.steer == 0.25f,
          "honest bot disturbed next to %s (status %d)", name, r->status);
    return ok;
}

static void run_hostile(BotHost *host, BotLink *honest, const char *dir, const char *file,
                        uint32_t *tick) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    size_t len;
    char *raw = read_file(path, &len);
    char *src = raw ? expand(raw) : NULL;
    char expect[32] = "";
    if (raw) sscanf(raw, "# expect: %31s", expect);
    /* Optional second line "# line: N": the refusal must name line N. */
    int line = 0;
    const char *nl = raw ? strchr(raw, '\n') : NULL;
    if (nl) sscanf(nl + 1, "# line: %d", &line);
    char at[32];
    snprintf(at, sizeof at, "%d:", line);
    /* Optional "# log: TEXT" line: the bot's log must contain TEXT. */
    char want_log[128] = "";
    const char *lg = raw ? strstr(raw, "\n# log: ") : NULL;
    if (lg) sscanf(lg + 8, "%127[^\n]", want_log);
    bool ok = src != NULL && expect[0];
    BotSpec spec = {.name = file,
                    .source = src,
                    .source_len = src ? strlen(src) : 0,
                    .seed = 7,
                    .log_cap = 16384,
                    /* Every hostile outcome here comes from the worker's own CPU
                     * limits; the host's wall-clock kill has its own test in
                     * "positive". A loaded machine (8 people, 2 cores) must not
                     * turn a timeout into a kill. */
                    .hard_deadline_ms = 3000,
                    .has_car = true, /* predict() works, as in a race */
                    .car = {44, 15, 1.0, 30, 2, 100, 2.3, 1050}};
    if (src && strlen(src) > BOT_SOURCE_MAX) spec.source_len = BOT_SOURCE_MAX;
    CrError err = {{0}};
    BotLink *bot = NULL;
    int rc = ok ? create_loaded(host, &spec, &bot, &err) : -1;
    if (!strcmp(expect, "compile")) {
        CHECK(rc == CR_ESCRIPT, "loaded although it should be refused (rc %d)", rc);
        CHECK(strchr(err.msg, ':') != NULL, "no line number in \"%s\"", err.msg);
        CHECK(!line || !strncmp(err.msg, at, strlen(at)), "not refused at line %d: %s", line,
              err.msg);
        CHECK(!leaked(err.msg, strlen(err.msg)), "secret in the error");
    } else if (ok) {
        CHECK(rc == CR_OK, "did not load: %s", err.msg);
    }
    for (int t = 0; bot && t < 4; t++) {
        SensorRecord s;
        fake_record(&s, *tick += 3);
        bot_link_send_tick(bot, &s, NULL, 0);
        bot_link_send_tick(honest, &s, NULL, 0);
        BotLink *both[2] = {bot, honest};
        CHECK(bot_links_collect(both, 2) == CR_OK, "collect failed");
        ok &= honest_ok(honest, file);
    }
    if (bot) {
        BotLinkStats st;
        bot_link_stats(bot, &st);
        size_t n;
        const char *log = bot_link_log(bot, &n);
        CHECK(!memmem(log, n, "ESCAPED", 7), "escape succeeded: %.*s", (int)(n > 300 ? 300 : n),
              log);
        CHECK(!leaked(log, n), "secret in the log");
        CHECK(!want_log[0] || memmem(log, n, want_log, strlen(want_log)), "no \"%s\" in the log",
              want_log);
        if (!strcmp(expect, "blocked")) {
            CHECK(memmem(log, n, "blocked", 7) != NULL, "no 'blocked' in log: %.*s",
                  (int)(n > 300 ? 300 : n), log);
            CHECK(st.errors == 0 && st.timeouts == 0 && st.restarts == 0, "bot disturbed");
        } else if (!strcmp(expect, "timeout")) {
            CHECK(st.timeouts >= 1, "no timeout (errors %ld)", st.errors);
            CHECK(st.restarts == 0, "timeout needed a restart");
        } else if (!strcmp(expect, "crash")) {
            CHECK(st.restarts >= 1, "worker not replaced (timeouts %ld errors %ld)", st.timeouts,
                  st.errors);
        } else if (!strcmp(expect, "error")) {
            CHECK(st.errors >= 1 && st.restarts == 0, "errors %ld restarts %ld", st.errors,
                  st.restarts);
            snprintf(at, sizeof at, "line %d ", line);
            CHECK(!line || memmem(log, n, at, strlen(at)), "no error at line %d", line);
        } else if (!strcmp(expect, "ok")) {
            /* A construct the docs call allowed: it loads and runs clean. */
            CHECK(st.errors == 0 && st.timeouts == 0 && st.restarts == 0,
                  "errors %ld timeouts %ld restarts %ld", st.errors, st.timeouts, st.restarts);
        } else if (!strcmp(expect, "dropped")) {
            /* Bad debug drawings: logged and dropped, throttle 1.0 applied. */
            CHECK(memmem(log, n, "debug", 5) != NULL, "no note on the drawings in the log");
            CHECK(st.errors == 0 && st.timeouts == 0 && st.restarts == 0, "bot disturbed");
            CHECK(bot_link_reply(bot)->status == BOT_STATUS_OK &&
                      bot_link_reply(bot)->input.throttle == 1.0f,
                  "the actions were not applied");
        } else if (!strcmp(expect, "flood")) {
            CHECK(n <= 16384, "log %zu bytes over its cap", n);
            CHECK(memmem(log, n, "truncated", 9) != NULL, "no truncation note");
        } else {
            CHECK(0, "unknown expectation %s", expect);
        }
        if (!ok) printf("  log: %.*s\n", (int)(n > 600 ? 600 : n), log);
    }
    bot_link_destroy(bot);
    free(src);
    free(raw);
    char name[300];
    snprintf(name, sizeof name, "hostile %s (%s)", file, expect);
    report(name, ok);
}

static int hostile(BotHost *host, const char *dir) {
    BotSpec hs = {.name = "honest", .source = HONEST, .source_len = strlen(HONEST), .seed = 1};
    CrError err;
    BotLink *honest;
    if (create_loaded(host, &hs, &honest, &err)) {
        printf("FAIL honest bot: %s\n", err.msg);
        return 1;
    }
    DIR *d = opendir(dir);
    if (!d) return 1;
    char *files[256];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 256) {
        size_t l = strlen(e->d_name);
        if (l > 3 && !strcmp(e->d_name + l - 3, ".py")) files[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(files, (size_t)n, sizeof files[0], cmp_str);
    uint32_t tick = 0;
    pid_t honest_pid = bot_link_pid(honest);
    for (int i = 0; i < n; i++) {
        run_hostile(host, honest, dir, files[i], &tick);
        free(files[i]);
    }
    bool ok = true;
    BotLinkStats st;
    bot_link_stats(honest, &st);
    CHECK(st.errors == 0 && st.timeouts == 0 && st.restarts == 0, "honest bot had trouble");
    CHECK(bot_link_pid(honest) == honest_pid, "honest worker was replaced");
    CHECK(n >= 40, "only %d hostile bots", n);
    report("honest neighbour unaffected by every hostile bot", ok);
    bot_link_destroy(honest);
    return 0;
}

/* ---- positive tests ----------------------------------------------------- */

static BotLink *load(BotHost *host, const char *src, const char *memory, uint64_t seed,
                     CrError *err) {
    BotSpec spec = {
        .name = "t", .source = src, .source_len = strlen(src), .memory_json = memory, .seed = seed};
    BotLink *l = NULL;
    if (create_loaded(host, &spec, &l, err) != CR_OK) return NULL;
    return l;
}

static const BotReply *tick_once(BotLink *l, uint32_t tick, const BotWireEvent *ev, size_t n) {
    SensorRecord s;
    fake_record(&s, tick);
    bot_link_send_tick(l, &s, ev, n);
    bot_links_collect(&l, 1);
    return bot_link_reply(l);
}

static void test_memory(BotHost *host) {
    static const char src[] =
        "class Bot:\n"
        "    def __init__(self):\n"
        "        self.memory['runs'] = self.memory.get('runs', 0) + 1\n"
        "    def on_tick(self, state):\n"
        "        self.memory['last'] = state['tick']\n"
        "        return {}\n";
    CrError err;
    bool ok = true;
    BotLink *l = load(host, src, "{\"runs\": 2, \"best\": [1.5, null, \"x\"]}", 1, &err);
    CHECK(l != NULL, "%s", err.msg);
    if (l) {
        tick_once(l, 30, NULL, 0);
        CHECK(finish_wait(l, NULL, 0) == CR_OK, "memory not saved");
        const char *m = bot_link_memory(l);
        CHECK(m && !strcmp(m, "{\"runs\":3,\"best\":[1.5,null,\"x\"],\"last\":30}"), "memory %s",
              m ? m : "(null)");
    }
    bot_link_destroy(l);
    /* Not JSON-serialisable or over the cap: refused, the log says why. */
    static const char bad[] =
        "class Bot:\n"
        "    def on_tick(self, state):\n"
        "        self.memory['big'] = 'x' * 100000\n"
        "        return {}\n";
    l = load(host, bad, NULL, 1, &err);
    CHECK(l != NULL, "%s", err.msg);
    if (l) {
        tick_once(l, 3, NULL, 0);
        CHECK(finish_wait(l, NULL, 0) != CR_OK, "oversized memory accepted");
        size_t n;
        const char *log = bot_link_log(l, &n);
        CHECK(memmem(log, n, "cap", 3) != NULL, "log does not say why: %.*s", (int)n, log);
    }
    bot_link_destroy(l);
    report("memory persists, and is capped and checked", ok);
}

static void test_events_and_logs(BotHost *host) {
    static const char src[] =
        "class Bot:\n"
        "    def on_start(self, ev):\n"
        "        print('start', ev['tick'])\n"
        "    def on_checkpoint(self, ev):\n"
        "        print('checkpoint', ev['checkpoint'], ev['time'])\n"
        "    def on_collision(self, ev):\n"
        "        print('collision', ev['other'], ev['wall'], ev['impulse'])\n"
        "    def on_finish(self, ev):\n"
        "        print('finish', ev['finished'], ev['time'])\n"
        "    def on_tick(self, state):\n"
        "        print('tick', state['tick'], len(state['rays']), state['surface'])\n"
        "        return {}\n";
    CrError err;
    bool ok = true;
    BotLink *l = load(host, src, NULL, 1, &err);
    CHECK(l != NULL, "%s", err.msg);
    if (l) {
        BotWireEvent ev[3] = {{180, BOT_EVENT_START, 0, 0},
                              {300, BOT_EVENT_CHECKPOINT, 0, 5.5},
                              {301, BOT_EVENT_COLLISION, -1, 120.0}};
        tick_once(l, 303, ev, 3);
        BotWireEvent fin = {900, BOT_EVENT_FINISH, 1, 12.25};
        finish_wait(l, &fin, 1);
        size_t n;
        const char *log = bot_link_log(l, &n);
        const char *want =
            "start 180\ncheckpoint 0 5.5\ncollision -1 True 120.0\n"
            "tick 303 9 asphalt\nfinish True 12.25\n";
        CHECK(n == strlen(want) && !memcmp(log, want, n), "log was:\n%.*s", (int)n, log);
    }
    bot_link_destroy(l);
    report("events are delivered and print goes to the log", ok);
}

static void test_actions(BotHost *host) {
    static const char src[] =
        "class Bot:\n"
        "    def on_tick(self, state):\n"
        "        if state['tick'] == 3:\n"
        "            return {'accelerate': True, 'turn_left': True, 'nitro': True,\n"
        "                    'brake': False, 'handbrake': True}\n"
        "        if state['tick'] == 6:\n"
        "            return {'throttle': 0.5, 'steer': -1, 'brake': 0.25,\n"
        "                    'debug': [('line', 0, 0, 10.5, 2), ('circle', 1, 2, 3, 0xff0000),\n"
        "                              ('text', 5, 5, 'hi')]}\n"
        "        return {'throttle': 0.5, 'accelerate': True}\n";
    CrError err;
    bool ok = true;
    BotLink *l = load(host, src, NULL, 1, &err);
    CHECK(l != NULL, "%s", err.msg);
    if (l) {
        const BotReply *r = tick_once(l, 3, NULL, 0);
        CHECK(r->status == BOT_STATUS_OK && r->input.throttle == 1 && r->input.steer == 1 &&
                  r->input.nitro && r->input.handbrake && r->input.brake == 0,
              "seed booleans: status %d", r->status);
        r = tick_once(l, 6, NULL, 0);
        int nd;
        const BotDrawing *d = bot_link_drawings(l, &nd);
        CHECK(r->status == BOT_STATUS_OK && r->input.throttle == 0.5f && r->input.steer == -1.0f &&
                  r->input.brake == 0.25f,
              "floats: status %d", r->status);
        CHECK(nd == 3 && d[0].kind == BOT_DRAW_LINE && d[0].c == 10.5f && d[1].rgb == 0xff0000 &&
                  !strcmp(d[2].text, "hi"),
              "drawings %d", nd);
        r = tick_once(l, 9, NULL, 0);
        CHECK(r->status == BOT_STATUS_ERROR && r->input.throttle == 0, "conflict accepted");
        size_t n;
        const char *log = bot_link_log(l, &n);
        CHECK(memmem(log, n, "either throttle or accelerate", 29) != NULL, "log: %.*s", (int)n,
              log);
    }
    bot_link_destroy(l);
    report("actions: floats, seed booleans, drawings, conflicts refused", ok);
}

static void test_random_replays(BotHost *host) {
    static const char src[] =
        "import random\n"
        "class Bot:\n"
        "    def on_tick(self, state):\n"
        "        print(random.random(), random.randint(1, 1000))\n"
        "        return {}\n";
    CrError err;
    bool ok = true;
    char logs[3][256];
    uint64_t seeds[3] = {42, 42, 43};
    for (int i = 0; i < 3; i++) {
        BotLink *l = load(host, src, NULL, seeds[i], &err);
        CHECK(l != NULL, "%s", err.msg);
        if (!l) break;
        tick_once(l, 3, NULL, 0);
        size_t n;
        const char *log = bot_link_log(l, &n);
        snprintf(logs[i], sizeof logs[i], "%.*s", (int)n, log);
        bot_link_destroy(l);
    }
    CHECK(!strcmp(logs[0], logs[1]), "same seed differs: %s vs %s", logs[0], logs[1]);
    CHECK(strcmp(logs[0], logs[2]) != 0, "different seeds agree");
    report("random is seeded per race and bot", ok);
}

static void test_check(BotHost *host) {
    static const char src[] =
        "import os\n"
        "class Bot:\n"
        "    def on_tick(self, state):\n"
        "        x = state.__class__\n"
        "        return eval('1')\n";
    char *problems = NULL;
    CrError err;
    bool ok = true;
    CHECK(bot_check_source(host, src, strlen(src), &problems, &err) == CR_OK, "%s", err.msg);
    CHECK(problems && strstr(problems, "1: import of \"os\"") && strstr(problems, "4: ") &&
              strstr(problems, "5: "),
          "problems: %s", problems ? problems : "(null)");
    free(problems);
    problems = NULL;
    CHECK(bot_check_source(host, HONEST, strlen(HONEST), &problems, &err) == CR_OK, "%s", err.msg);
    CHECK(problems && !problems[0], "honest bot has problems: %s", problems);
    free(problems);
    report("check lists every problem with its line", ok);
}

/* The host's own wall-clock kill: a worker that is stopped (SIGSTOP) never
 * answers, and a C-level CPU bomb with a large CPU budget outlives a short
 * hard deadline. Both are killed and replaced; the bot carries on. */
static void test_hard_kill(BotHost *host) {
    static const char src[] =
        "class Bot:\n"
        "    def on_tick(self, state):\n"
        "        if state['tick'] == 3:\n"
        "            x = 10 ** 10 ** 8\n"
        "        return {'throttle': 1.0}\n";
    BotSpec spec = {.name = "k",
                    .source = src,
                    .source_len = strlen(src),
                    .seed = 1,
                    .tick_budget_ms = 5000,
                    .hard_deadline_ms = 150};
    CrError err;
    bool ok = true;
    BotLink *l = NULL;
    CHECK(create_loaded(host, &spec, &l, &err) == CR_OK, "%s", err.msg);
    if (l) {
        int64_t t0 = bot_now_ns();
        const BotReply *r = tick_once(l, 3, NULL, 0);
        double ms = (double)(bot_now_ns() - t0) / 1e6;
        CHECK(r->status == BOT_STATUS_TIMEOUT && ms < 1000, "status %d after %.0f ms", r->status,
              ms);
        /* The replacement loads in the background; the link says when. */
        CHECK(wait_state(host, l, BOT_LINK_READY, 10000) == BOT_LINK_READY, "not revived");
        r = tick_once(l, 6, NULL, 0);
        CHECK(r->status == BOT_STATUS_OK && r->input.throttle == 1, "not replaced: %d", r->status);
        /* Freeze the worker: only the host's deadline can end this. */
        pid_t pid = bot_link_pid(l);
        kill(pid, SIGSTOP);
        r = tick_once(l, 9, NULL, 0);
        CHECK(r->status == BOT_STATUS_TIMEOUT, "frozen worker: status %d", r->status);
        CHECK(wait_state(host, l, BOT_LINK_READY, 10000) == BOT_LINK_READY, "not revived");
        r = tick_once(l, 12, NULL, 0);
        CHECK(r->status == BOT_STATUS_OK && bot_link_pid(l) != pid, "not replaced after kill");
        BotLinkStats st;
        bot_link_stats(l, &st);
        CHECK(st.restarts == 2, "restarts %ld", st.restarts);
        size_t n;
        const char *log = bot_link_log(l, &n);
        CHECK(memmem(log, n, "state lost", 10) != NULL, "log: %.*s", (int)n, log);
    }
    bot_link_destroy(l);
    report("host kills and replaces a worker past the hard deadline", ok);
}

/* The host side does not block: after sending, the fd is pollable and pump
 * returns 0 until the reply is there. */
static void test_nonblocking(BotHost *host) {
    static const char src[] =
        "class Bot:\n"
        "    def on_tick(self, state):\n"
        "        n = 0\n"
        "        for i in range(20000):\n"
        "            n = n + i\n"
        "        return {'throttle': 1.0}\n";
    CrError err;
    bool ok = true;
    BotLink *l = load(host, src, NULL, 1, &err);
    CHECK(l != NULL, "%s", err.msg);
    if (l) {
        SensorRecord s;
        fake_record(&s, 3);
        int64_t t0 = bot_now_ns();
        bot_link_send_tick(l, &s, NULL, 0);
        double send_us = (double)(bot_now_ns() - t0) / 1e3;
        CHECK(bot_link_pending(l) && bot_link_fd(l) >= 0, "nothing pending");
        /* Whether the reply is already there depends on the scheduler; what
         * must hold is that asking does not wait for it. */
        t0 = bot_now_ns();
        (void)bot_link_pump(l);
        double pump_us = (double)(bot_now_ns() - t0) / 1e3;
        CHECK(send_us < 1000, "send blocked for %.0f us", send_us);
        CHECK(pump_us < 1000, "pump blocked for %.0f us", pump_us);
        bot_links_collect(&l, 1);
        CHECK(bot_link_reply(l)->status == BOT_STATUS_OK, "status");
    }
    bot_link_destroy(l);
    report("send/pump/collect never block on the bot", ok);
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    const char *botd = getenv("CR_BOTD") ? getenv("CR_BOTD") : CR_BOTD_PATH;
    make_canary();
    CrError err;
    BotHost *host;
    if (bot_host_start(botd, &host, &err)) {
        printf("cannot start %s: %s\n", botd, err.msg);
        return 1;
    }
    if (argc >= 3 && !strcmp(argv[1], "hostile")) {
        hostile(host, argv[2]);
    } else if (argc >= 2 && !strcmp(argv[1], "positive")) {
        test_memory(host);
        test_events_and_logs(host);
        test_actions(host);
        test_random_replays(host);
        test_check(host);
        test_hard_kill(host);
        test_nonblocking(host);
    } else {
        printf("usage: test_sandbox hostile DIR | positive\n");
        return 2;
    }
    bot_host_stop(host);
    remove_canary();
    printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed ? 1 : 0;
}
