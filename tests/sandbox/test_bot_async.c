/*
 * test_bot_async.c - the bot link never blocks (ARCHITECTURE lesson 19):
 * revives, zygote restarts, stale zygote replies and a clean zygote spawn,
 * through the real host API and the real coderally-botd.
 *
 *   test_bot_async revive [TICKS]  a bot slow to start that dies on every
 *                            tick does not slow a flat-out race (8,000 bot
 *                            ticks unless TICKS); no link call blocks
 *   test_bot_async zygote    the zygote killed mid-race comes back, bots return
 *   test_bot_async calls     a server-style loop (no waiting at all) while
 *                            slow bots start: every call returns at once
 *   test_bot_async stale     a zygote reply nobody waits for is discarded
 *   test_bot_async duplicate DUP_ZYGOTE   every zygote reply arrives twice
 *   test_bot_async broken    a "zygote" that exits at once (/bin/false):
 *                            bots fail to load with a clear error, soon
 *   test_bot_async hygiene   a caller with SIGPROF blocked and ignored and an
 *                            extra inheritable fd: the zygote gets neither
 *   test_bot_async watch     watch mode (bot_host_watch), driven like the
 *                            server: one poll on the host's fd and its wake
 *                            time, nothing else; a good bot, one that dies
 *                            on every tick, one that never loads, the zygote
 *                            killed; only busy sockets are in the set, and
 *                            the fds come back to where they started
 *
 * Timing claims are made robust for a loaded 2-core machine: the hard ones
 * are counts (ticks stepped while the bot was away) and the longest single
 * link call; the wall-time comparison uses medians and a generous margin.
 */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bot_link.h"

#ifndef CR_BOTD_PATH
#define CR_BOTD_PATH "coderally-botd"
#endif

static int g_failed, g_passed;
static double g_worst_call_us; /* the longest single non-waiting link call */
static const char *g_worst_call = "";

#define CHECK(cond, ...)                                             \
    do {                                                             \
        if (!(cond)) {                                               \
            printf("  FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            printf(__VA_ARGS__);                                     \
            printf("\n");                                            \
            ok = false;                                              \
        }                                                            \
    } while (0)

static long g_sleeps; /* voluntary context switches inside such calls */

static long voluntary_switches(void) {
    struct rusage ru;
    getrusage(RUSAGE_THREAD, &ru);
    return ru.ru_nvcsw;
}

static int64_t thread_cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static double g_worst_cpu_us; /* the most CPU one such call used */

/* Times one link call that must not wait. Wall time on a loaded machine
 * includes preemption (and CPU-quota throttling); a voluntary context
 * switch inside a call that also took over a millisecond means it slept
 * (waited), which must never happen, and its CPU time is what the call
 * itself cost. A voluntary switch in a call under a millisecond is not a
 * wait on a bot (a bot's reply, start or death takes milliseconds): under
 * heavy load the sanitizer's allocator lock or a page fault can yield for a
 * moment, and counting that made the suite flaky. */
#define TIMED(call)                                             \
    do {                                                        \
        long v0_ = voluntary_switches();                        \
        int64_t c0_ = thread_cpu_ns();                          \
        int64_t t0_ = bot_now_ns();                             \
        call;                                                   \
        double us_ = (double)(bot_now_ns() - t0_) / 1e3;        \
        double cpu_ = (double)(thread_cpu_ns() - c0_) / 1e3;    \
        if (us_ > 1000) g_sleeps += voluntary_switches() - v0_; \
        if (cpu_ > g_worst_cpu_us) g_worst_cpu_us = cpu_;       \
        if (us_ > g_worst_call_us) {                            \
            g_worst_call_us = us_;                              \
            g_worst_call = #call;                               \
        }                                                       \
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
}

static const char HONEST[] =
    "class Bot:\n"
    "    def on_tick(self, state):\n"
    "        return {'throttle': 1.0, 'steer': 0.25}\n";

/* Slow to start (a CPU-bound __init__ well inside the start budget), then
 * out of memory on every tick: the worker dies and is revived, again and
 * again, until the bot is disabled. */
static const char SLOW_OOM[] =
    "class Bot:\n"
    "    def __init__(self):\n"
    "        n = 0\n"
    "        for i in range(400000):\n"
    "            n = n + i\n"
    "        self.n = n\n"
    "    def on_tick(self, state):\n"
    "        s = 'x' * (3 * 10 ** 9)\n"
    "        return {'throttle': 1.0}\n";

/* Waits (the test's own polling) until every link has loaded. */
static bool load_all(BotLink **links, int n) {
    if (bot_links_collect(links, (size_t)n) != CR_OK) return false;
    for (int i = 0; i < n; i++) {
        CrError err;
        if (bot_link_start_result(links[i], &err) != CR_OK) {
            printf("  load failed: %s\n", err.msg);
            return false;
        }
    }
    return true;
}

/* Stand-in for a room's step between bot ticks: a little CPU work so the
 * race is not pure pipe ping-pong. */
static volatile double g_sink;
static void step_work(void) {
    double x = 0;
    for (int i = 0; i < 20000; i++) x += (double)i * 1e-9;
    g_sink = x;
}

typedef struct {
    double wall_s;
    long away_ticks; /* ticks the bad bot answered UNAVAILABLE */
    long ok_honest;  /* honest bot OK replies */
    long back;       /* times the bad bot came back to READY */
    long restarts;
    BotLinkState final;
} RaceFigures;

/* A flat-out race loop as the CLI runs it: send every bot its tick, pump
 * and poll until replies are in (bot_links_collect), step. */
static bool run_race(BotHost *host, bool with_bad, int ticks, RaceFigures *f) {
    *f = (RaceFigures){0};
    BotSpec hs = {.name = "honest", .source = HONEST, .source_len = strlen(HONEST), .seed = 1};
    BotSpec bs = {.name = "slow_oom",
                  .source = SLOW_OOM,
                  .source_len = strlen(SLOW_OOM),
                  .seed = 2,
                  .memory_limit_mb = 50};
    BotLink *links[2] = {NULL, NULL};
    CrError err;
    int n = with_bad ? 2 : 1;
    bool ok = true;
    TIMED(ok = bot_link_create(host, &hs, &links[0], &err) == CR_OK);
    if (ok && with_bad) TIMED(ok = bot_link_create(host, &bs, &links[1], &err) == CR_OK);
    if (!ok || !load_all(links, n)) {
        bot_link_destroy(links[0]);
        bot_link_destroy(links[1]);
        return false;
    }
    BotLinkState prev = BOT_LINK_READY;
    int64_t t0 = bot_now_ns();
    for (int t = 0; t < ticks; t++) {
        SensorRecord s;
        fake_record(&s, (uint32_t)t * 3);
        for (int i = 0; i < n; i++) TIMED(bot_link_send_tick(links[i], &s, NULL, 0));
        bot_links_collect(links, (size_t)n);
        for (int i = 0; i < n; i++) TIMED(bot_link_pump(links[i]));
        if (bot_link_reply(links[0])->status == BOT_STATUS_OK) f->ok_honest++;
        if (with_bad) {
            if (bot_link_reply(links[1])->status == BOT_STATUS_UNAVAILABLE) f->away_ticks++;
            BotLinkState st = bot_link_state(links[1]);
            if (st == BOT_LINK_READY && prev == BOT_LINK_REVIVING) f->back++;
            prev = st;
        }
        step_work();
    }
    f->wall_s = (double)(bot_now_ns() - t0) / 1e9;
    if (with_bad) {
        BotLinkStats st;
        bot_link_stats(links[1], &st);
        f->restarts = st.restarts;
        f->final = bot_link_state(links[1]);
    }
    for (int i = 0; i < n; i++) TIMED(bot_link_finish(links[i], NULL, 0));
    bot_links_collect(links, (size_t)n);
    for (int i = 0; i < n; i++) TIMED(bot_link_destroy(links[i]));
    return true;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void test_revive(BotHost *host, int ticks) {
    enum { RUNS = 3 };
    bool ok = true;
    double base[RUNS], bad[RUNS];
    RaceFigures f = {0};
    long away_min = -1, back_max = 0, restarts_max = 0;
    g_worst_call_us = 0;
    g_worst_cpu_us = 0;
    g_sleeps = 0;
    for (int r = 0; r < RUNS && ok; r++) {
        RaceFigures b;
        CHECK(run_race(host, false, ticks, &b), "baseline race failed");
        CHECK(run_race(host, true, ticks, &f), "race with the bad bot failed");
        base[r] = b.wall_s;
        bad[r] = f.wall_s;
        CHECK(b.ok_honest == ticks, "baseline: honest answered %ld of %d", b.ok_honest, ticks);
        CHECK(f.ok_honest == ticks, "honest answered %ld of %d next to the bad bot", f.ok_honest,
              ticks);
        if (away_min < 0 || f.away_ticks < away_min) away_min = f.away_ticks;
        if (f.back > back_max) back_max = f.back;
        if (f.restarts > restarts_max) restarts_max = f.restarts;
    }
    qsort(base, RUNS, sizeof base[0], cmp_double);
    qsort(bad, RUNS, sizeof bad[0], cmp_double);
    double mb = base[RUNS / 2], mx = bad[RUNS / 2];
    printf(
        "  race of %d bot ticks: median %.3f s without the bad bot, %.3f s with it "
        "(%.0f%%); bad bot away for >= %ld ticks, back %ld times, %ld restarts; "
        "longest link call %.0f us wall (%s), %.0f us CPU\n",
        ticks, mb, mx, 100 * (mx / mb - 1), away_min, back_max, restarts_max, g_worst_call_us,
        g_worst_call, g_worst_cpu_us);
    /* The race went on while the bot was away: it did not wait for revives. */
    CHECK(away_min >= 100, "only %ld ticks stepped while the bot was away", away_min);
    CHECK(restarts_max >= 2, "the bot died only %ld times", restarts_max);
    CHECK(back_max >= 1, "the revived bot never got its car back");
    /* Every link call returned at once, even while workers were loading. */
    CHECK(g_sleeps == 0 && g_worst_cpu_us < 20000,
          "link calls slept %ld times; the most CPU one used: %.0f us", g_sleeps, g_worst_cpu_us);
    /* The wall-time comparison is measured on the Release build and
     * recorded in docs/BENCHMARKS.md. Under make test -j the bad bot's
     * start-ups (about 0.75 s of CPU) compete with the race and with other
     * suites, so wall time cannot tell waiting from contention here: the
     * checks above can (the old synchronous revive fails both); this one
     * only catches a gross stall, such as a wait for a deadline. */
    CHECK(mx <= 2 * mb + 1.5, "%.3f s against %.3f s", mx, mb);
    report("a slow-starting bot that dies on every tick does not slow the race", ok);
}

static void test_zygote(BotHost *host) {
    bool ok = true;
    BotSpec hs = {.name = "honest", .source = HONEST, .source_len = strlen(HONEST), .seed = 1};
    BotLink *links[3] = {NULL, NULL, NULL}, *late[2] = {NULL, NULL};
    CrError err;
    for (int i = 0; i < 3; i++)
        CHECK(bot_link_create(host, &hs, &links[i], &err) == CR_OK, "%s", err.msg);
    CHECK(load_all(links, 3), "bots did not load");
    pid_t zpid = bot_host_pid(host);
    pid_t wpid = bot_link_pid(links[0]);
    long away = 0, after_ok = 0;
    g_worst_call_us = 0;
    g_worst_cpu_us = 0;
    g_sleeps = 0;
    int t = 0;
    int64_t until = bot_now_ns() + 20000000000LL;
    bool killed = false;
    for (; ok && bot_now_ns() < until; t++) {
        if (t == 100) {
            /* A bot joining just before the kill has its spawn request
             * outstanding at the zygote that dies; one joining just after
             * asks while the zygote is down. Both load from the next. */
            CHECK(bot_link_create(host, &hs, &late[0], &err) == CR_OK, "%s", err.msg);
            CHECK(kill(zpid, SIGKILL) == 0, "kill");
            CHECK(bot_link_create(host, &hs, &late[1], &err) == CR_OK, "%s", err.msg);
            killed = true;
        }
        SensorRecord s;
        fake_record(&s, (uint32_t)t * 3);
        for (int i = 0; i < 3; i++) TIMED(bot_link_send_tick(links[i], &s, NULL, 0));
        bot_links_collect(links, 3);
        int n_ok = 0;
        for (int i = 0; i < 3; i++) {
            BotStatus st = bot_link_reply(links[i])->status;
            if (st == BOT_STATUS_OK) n_ok++;
            if (killed && st != BOT_STATUS_OK) away++;
        }
        if (killed && n_ok == 3 && ++after_ok >= 50) break;
        step_work();
    }
    BotHostStats hst;
    bot_host_stats(host, &hst);
    printf(
        "  zygote %d killed at tick 100; back as %d; %ld bot-ticks neutral; race went on to "
        "tick %d; longest link call %.0f us wall, %.0f us CPU\n",
        (int)zpid, (int)bot_host_pid(host), away, t, g_worst_call_us, g_worst_cpu_us);
    CHECK(after_ok >= 50, "bots did not come back (%ld good ticks after the kill)", after_ok);
    CHECK(hst.zygote_deaths == 1 && hst.zygote_starts == 2, "deaths %ld starts %ld",
          hst.zygote_deaths, hst.zygote_starts);
    CHECK(bot_host_pid(host) > 0 && bot_host_pid(host) != zpid, "zygote not replaced");
    CHECK(bot_link_pid(links[0]) != wpid, "worker not replaced");
    CHECK(away > 0, "no tick was neutral: the kill was not noticed");
    CHECK(g_sleeps == 0 && g_worst_cpu_us < 20000,
          "link calls slept %ld times; the most CPU one used: %.0f us", g_sleeps, g_worst_cpu_us);
    for (int i = 0; i < 3; i++) {
        BotLinkStats st;
        bot_link_stats(links[i], &st);
        size_t n;
        const char *log = bot_link_log(links[i], &n);
        CHECK(st.restarts == 0, "a zygote death counted against bot %d (%ld); log: %.*s", i,
              st.restarts, (int)n, log);
        bot_link_destroy(links[i]);
    }
    for (int i = 0; i < 2; i++) {
        if (!late[i]) continue;
        bot_links_collect(&late[i], 1);
        CHECK(bot_link_start_result(late[i], &err) == CR_OK, "late bot %d: %s", i, err.msg);
        SensorRecord s;
        fake_record(&s, 3);
        bot_link_send_tick(late[i], &s, NULL, 0);
        bot_links_collect(&late[i], 1);
        size_t n;
        const char *log = bot_link_log(late[i], &n);
        CHECK(bot_link_reply(late[i])->status == BOT_STATUS_OK, "late bot %d: status %d; log: %.*s",
              i, bot_link_reply(late[i])->status, (int)n, log);
        bot_link_destroy(late[i]);
    }
    report("the zygote killed mid-race is restarted and the bots return", ok);
}

/* ---- watch mode ---------------------------------------------------------- */

static int64_t g_wake = INT64_MAX;
static long g_wake_calls;
static void on_wake(void *ud, int64_t t) {
    (void)ud;
    g_wake = t;
    g_wake_calls++;
}

static int count_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    if (!d) return -1;
    while (readdir(d)) n++;
    closedir(d);
    return n - 3; /* ".", ".." and the DIR's own */
}

/* One turn of a server-style loop: poll the host's one fd until the wake
 * time (at most ms), then service. Never calls a pump. */
static void watch_turn(BotHost *host, int fd, int ms) {
    int64_t left = g_wake == INT64_MAX ? (int64_t)ms * 1000000 : g_wake - bot_now_ns();
    if (left > (int64_t)ms * 1000000) left = (int64_t)ms * 1000000;
    if (left < 0) left = 0;
    struct pollfd p = {fd, POLLIN, 0};
    int r = poll(&p, 1, (int)((left + 999999) / 1000000));
    if (r > 0 || bot_now_ns() >= g_wake) {
        int64_t t0 = bot_now_ns();
        bot_host_service(host);
        double us = (double)(bot_now_ns() - t0) / 1e3;
        if (us > g_worst_call_us) g_worst_call_us = us, g_worst_call = "bot_host_service";
    }
}

static const char DIES[] =
    "class Bot:\n"
    "    def __init__(self):\n"
    "        self.hoard = []\n"
    "    def on_tick(self, state):\n"
    "        while True:\n"
    "            self.hoard.append([0] * 2000000)\n";
static const char NEVER[] =
    "class Bot:\n"
    "    def __init__(self):\n"
    "        raise ValueError('never starts')\n"
    "    def on_tick(self, state):\n"
    "        return {}\n";

static void test_watch(BotHost *host) {
    bool ok = true;
    CrError err;
    int fd = -1;
    CHECK(bot_host_watched(host) == -1, "watched before watch mode");
    CHECK(bot_host_watch(host, on_wake, NULL, &fd, &err) == CR_OK && fd >= 0, "%s", err.msg);
    int fd2 = -1;
    CHECK(bot_host_watch(host, on_wake, NULL, &fd2, &err) == CR_OK && fd2 == fd, "fd changed");
    int base_fds = count_fds();
    CHECK(bot_host_watched(host) == 1, "the zygote's socket is not watched: %d",
          bot_host_watched(host));
    const char *src[3] = {HONEST, DIES, NEVER};
    BotLink *links[3];
    for (int i = 0; i < 3; i++) {
        BotSpec spec = {.name = "w", .source = src[i], .source_len = strlen(src[i]), .seed = 1};
        CHECK(bot_link_create(host, &spec, &links[i], &err) == CR_OK, "%s", err.msg);
    }
    /* Loading: only readiness and the wake timer move it along. */
    int64_t until = bot_now_ns() + 60000000000LL;
    while (bot_now_ns() < until && (bot_link_start_result(links[0], NULL) == 1 ||
                                    bot_link_start_result(links[1], NULL) == 1 ||
                                    bot_link_start_result(links[2], NULL) == 1))
        watch_turn(host, fd, 100);
    CHECK(bot_link_start_result(links[0], &err) == CR_OK, "good bot: %s", err.msg);
    CHECK(bot_link_start_result(links[1], &err) == CR_OK, "dying bot: %s", err.msg);
    CHECK(bot_link_start_result(links[2], &err) == CR_ESCRIPT && strstr(err.msg, "never starts"),
          "the bot that never starts: %s", err.msg);
    CHECK(bot_link_state(links[2]) == BOT_LINK_DISABLED, "state %s",
          bot_link_state_name(bot_link_state(links[2])));
    pid_t zpid = bot_host_pid(host);
    long good = 0, good_after = 0, idle_extra = 0;
    bool killed = false;
    g_worst_call_us = 0;
    until = bot_now_ns() + 60000000000LL;
    for (int t = 0; ok && bot_now_ns() < until; t++) {
        if (t == 40) {
            CHECK(kill(zpid, SIGKILL) == 0, "kill");
            killed = true;
        }
        SensorRecord s;
        fake_record(&s, (uint32_t)t * 3);
        for (int i = 0; i < 3; i++) bot_link_send_tick(links[i], &s, NULL, 0);
        /* A bot tick's worth of loop (50 ms at 20 Hz). */
        int64_t tick_end = bot_now_ns() + 50000000;
        while (bot_now_ns() < tick_end) {
            watch_turn(host, fd, 5);
            /* In the set: the zygote's socket and the workers with a
             * request in flight, nothing else. */
            int want = bot_host_pid(host) > 0;
            for (int i = 0; i < 3; i++) want += bot_link_fd(links[i]) >= 0;
            if (bot_host_watched(host) != want) idle_extra++;
        }
        if (bot_link_reply(links[0])->status == BOT_STATUS_OK) {
            good++;
            if (killed) good_after++;
        }
        if (killed && good_after >= 20 && bot_link_disabled(links[1])) break;
    }
    BotLinkStats gs, ds;
    bot_link_stats(links[0], &gs);
    bot_link_stats(links[1], &ds);
    BotHostStats hs;
    bot_host_stats(host, &hs);
    printf(
        "  good bot %ld OK ticks (%ld after the zygote kill); dying bot %ld restarts, %s; "
        "zygote starts %ld; wake calls %ld; longest service %.0f us; round trip p50 %.2f ms\n",
        good, good_after, ds.restarts, bot_link_state_name(bot_link_state(links[1])),
        hs.zygote_starts, g_wake_calls, g_worst_call_us, bot_host_rtt_quantile(&hs, 0.5) / 1e3);
    CHECK(good_after >= 20, "the good bot did not come back after the zygote kill");
    CHECK(hs.zygote_starts == 2 && bot_host_pid(host) != zpid, "zygote not restarted");
    CHECK(ds.restarts >= 2 && bot_link_disabled(links[1]),
          "the dying bot was not revived until disabled (restarts %ld, %s)", ds.restarts,
          bot_link_state_name(bot_link_state(links[1])));
    CHECK(idle_extra == 0, "%ld times the set held other sockets than the busy ones", idle_extra);
    for (int i = 0; i < 3; i++) bot_link_destroy(links[i]);
    for (int k = 0; k < 5; k++) watch_turn(host, fd, 10);
    CHECK(bot_host_watched(host) == 1, "%d sockets watched with no link left",
          bot_host_watched(host));
    CHECK(count_fds() == base_fds, "fds: %d, %d before the bots", count_fds(), base_fds);
    report("watch mode: readiness and the wake timer alone drive bots, revives and restarts", ok);
}

/* Slow to start, then a good bot. */
static const char SLOW[] =
    "class Bot:\n"
    "    def __init__(self):\n"
    "        n = 0\n"
    "        for i in range(400000):\n"
    "            n = n + i\n"
    "        self.n = n\n"
    "    def on_tick(self, state):\n"
    "        return {'throttle': 0.5}\n";

/* A server's use: poll the host's fds with a timeout, pump, send ticks on a
 * schedule, never call anything that waits. While five slow bots start,
 * the loop keeps turning and no call takes long; then they all drive. */
static void test_calls(BotHost *host) {
    enum { N = 6 };
    bool ok = true;
    BotSpec hs = {.name = "honest", .source = HONEST, .source_len = strlen(HONEST), .seed = 1};
    BotSpec ss = {.name = "slow", .source = SLOW, .source_len = strlen(SLOW), .seed = 2};
    BotLink *links[N] = {NULL};
    CrError err;
    g_worst_call_us = 0;
    g_worst_cpu_us = 0;
    g_sleeps = 0;
    for (int i = 0; i < N; i++)
        TIMED(CHECK(bot_link_create(host, i ? &ss : &hs, &links[i], &err) == CR_OK, "%s", err.msg));
    if (!ok) return;
    long turns = 0, turns_starting = 0, ok_slow = 0;
    int64_t until = bot_now_ns() + 20000000000LL;
    uint32_t tick = 0;
    while (bot_now_ns() < until) {
        struct pollfd fds[1 + N];
        int64_t wake;
        size_t k;
        TIMED(k = bot_host_pollfds(host, fds, 1 + N, &wake));
        int64_t left = wake - bot_now_ns();
        if (left > 2000000) left = 2000000; /* our own 'tick' every 2 ms */
        if (left < 0) left = 0;
        (void)poll(fds, k, (int)(left / 1000000));
        TIMED(bot_host_pump_polled(host, fds, k));
        bool starting = false;
        for (int i = 0; i < N; i++) {
            BotLinkState st = bot_link_state(links[i]);
            if (st == BOT_LINK_STARTING) starting = true;
            if (st == BOT_LINK_READY) {
                if (i > 0 && bot_link_reply(links[i])->status == BOT_STATUS_OK) ok_slow++;
                SensorRecord s;
                fake_record(&s, tick += 3);
                TIMED(bot_link_send_tick(links[i], &s, NULL, 0));
            }
        }
        turns++;
        if (starting) turns_starting++;
        if (ok_slow >= 5 * (N - 1) * 10) break;
    }
    for (int i = 0; i < N; i++) TIMED(bot_link_finish(links[i], NULL, 0));
    for (int i = 0; i < N; i++) TIMED(bot_link_destroy(links[i]));
    printf(
        "  %ld loop turns, %ld of them while bots were starting; %ld good slow-bot replies; "
        "longest call %.0f us (%s)\n",
        turns, turns_starting, ok_slow, g_worst_call_us, g_worst_call);
    CHECK(turns_starting >= 20, "the loop turned only %ld times while bots started",
          turns_starting);
    CHECK(ok_slow >= 5 * (N - 1) * 10, "the slow bots answered only %ld times", ok_slow);
    CHECK(g_sleeps == 0 && g_worst_cpu_us < 20000,
          "link calls slept %ld times; the most CPU one used: %.0f us", g_sleeps, g_worst_cpu_us);
    report("no link call waits, even while workers start", ok);
}

static void test_stale(BotHost *host) {
    bool ok = true;
    BotSpec hs = {.name = "honest", .source = HONEST, .source_len = strlen(HONEST), .seed = 1};
    CrError err;
    /* Asks for a worker and goes away before the zygote answers: the answer
     * carries a sequence number no link waits for. */
    BotLink *gone = NULL;
    CHECK(bot_link_create(host, &hs, &gone, &err) == CR_OK, "%s", err.msg);
    bot_link_destroy(gone);
    BotLink *l = NULL;
    CHECK(bot_link_create(host, &hs, &l, &err) == CR_OK, "%s", err.msg);
    CHECK(l && load_all(&l, 1), "the next bot did not load");
    /* Let the zygote's stale answer arrive if it is still on its way. */
    BotHostStats st;
    int64_t until = bot_now_ns() + 10000000000LL;
    do {
        bot_host_pump(host);
        bot_host_stats(host, &st);
        if (st.stale_replies) break;
        usleep(2000);
    } while (bot_now_ns() < until);
    CHECK(st.stale_replies == 1, "stale replies %ld", st.stale_replies);
    CHECK(st.spawn_requests == 2, "spawn requests %ld", st.spawn_requests);
    if (l) {
        SensorRecord s;
        fake_record(&s, 3);
        bot_link_send_tick(l, &s, NULL, 0);
        bot_links_collect(&l, 1);
        CHECK(bot_link_reply(l)->status == BOT_STATUS_OK, "status %d", bot_link_reply(l)->status);
    }
    bot_link_destroy(l);
    report("a zygote reply nobody waits for is discarded; the next bot gets its own", ok);
}

/* Run with dup_zygote (a relay that sends every zygote reply twice) as the
 * zygote: each link takes the first copy; the second is discarded and the
 * worker it names, which a link owns, is left alone. */
static void test_duplicate(BotHost *host) {
    bool ok = true;
    BotSpec hs = {.name = "honest", .source = HONEST, .source_len = strlen(HONEST), .seed = 1};
    BotLink *links[2] = {NULL, NULL};
    CrError err;
    for (int i = 0; i < 2; i++)
        CHECK(bot_link_create(host, &hs, &links[i], &err) == CR_OK, "%s", err.msg);
    CHECK(load_all(links, 2), "bots did not load");
    BotHostStats st;
    int64_t until = bot_now_ns() + 10000000000LL;
    do {
        bot_host_pump(host);
        bot_host_stats(host, &st);
        if (st.stale_replies >= 2) break;
        usleep(2000);
    } while (bot_now_ns() < until);
    CHECK(st.stale_replies == 2 && st.spawn_requests == 2, "stale %ld of %ld requests",
          st.stale_replies, st.spawn_requests);
    for (int t = 1; t <= 20 && links[0] && links[1]; t++) {
        SensorRecord s;
        fake_record(&s, (uint32_t)t * 3);
        for (int i = 0; i < 2; i++) bot_link_send_tick(links[i], &s, NULL, 0);
        bot_links_collect(links, 2);
        for (int i = 0; i < 2; i++)
            CHECK(bot_link_reply(links[i])->status == BOT_STATUS_OK, "bot %d tick %d: status %d", i,
                  t, bot_link_reply(links[i])->status);
        if (!ok) break;
    }
    for (int i = 0; i < 2; i++) {
        BotLinkStats ls;
        if (!links[i]) continue;
        bot_link_stats(links[i], &ls);
        CHECK(ls.restarts == 0 && ls.errors == 0, "bot %d: restarts %ld errors %ld", i, ls.restarts,
              ls.errors);
        bot_link_destroy(links[i]);
    }
    report("a duplicated zygote reply is discarded and harms no worker", ok);
}

/* The host runs /bin/false as its zygote: it dies before serving anyone,
 * is restarted with a back-off, and after a few such deaths first loads fail
 * with a clear message instead of waiting out their deadline. */
static void test_broken(BotHost *host) {
    bool ok = true;
    BotSpec hs = {.name = "honest", .source = HONEST, .source_len = strlen(HONEST), .seed = 1};
    BotLink *l = NULL;
    CrError err;
    int64_t t0 = bot_now_ns();
    CHECK(bot_link_create(host, &hs, &l, &err) == CR_OK, "%s", err.msg);
    if (l) {
        bot_links_collect(&l, 1);
        double s = (double)(bot_now_ns() - t0) / 1e9;
        int rc = bot_link_start_result(l, &err);
        CHECK(rc == CR_ESCRIPT && strstr(err.msg, "does not start"), "rc %d: %s", rc, err.msg);
        CHECK(bot_link_state(l) == BOT_LINK_DISABLED, "state %s",
              bot_link_state_name(bot_link_state(l)));
        CHECK(s < 10, "took %.1f s to give up", s);
        BotHostStats st;
        bot_host_stats(host, &st);
        CHECK(st.zygote_deaths >= 3, "zygote deaths %ld", st.zygote_deaths);
        printf("  gave up after %.2f s and %ld zygote starts: %s\n", s, st.zygote_starts, err.msg);
    }
    bot_link_destroy(l);
    char *problems = NULL;
    CHECK(bot_check_source(host, HONEST, strlen(HONEST), &problems, &err) == CR_OK, "%s", err.msg);
    CHECK(problems && strstr(problems, "does not start"), "check: %s",
          problems ? problems : "(null)");
    free(problems);
    report("a zygote that never starts fails first loads with a clear error", ok);
}

/* True if process pid has an fd open on path. */
static bool has_fd_on(pid_t pid, const char *path, int *n_fds) {
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(dir);
    *n_fds = -1;
    if (!d) return false;
    bool found = false;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        n++;
        char link[512], target[512];
        snprintf(link, sizeof link, "%s/%s", dir, e->d_name);
        ssize_t k = readlink(link, target, sizeof target - 1);
        if (k > 0) {
            target[k] = 0;
            if (!strcmp(target, path)) found = true;
        }
    }
    closedir(d);
    *n_fds = n;
    return found;
}

/* Run with SIGPROF blocked and ignored and an inheritable fd open (main sets
 * them up before the host starts). */
static void test_hygiene(BotHost *host, const char *extra_path) {
    bool ok = true;
    static const char spin[] =
        "class Bot:\n"
        "    def on_tick(self, state):\n"
        "        while True:\n"
        "            pass\n";
    BotSpec spec = {.name = "spin",
                    .source = spin,
                    .source_len = strlen(spin),
                    .seed = 1,
                    .tick_budget_ms = 50,
                    .hard_deadline_ms = 4000};
    CrError err;
    BotLink *l = NULL;
    CHECK(bot_link_create(host, &spec, &l, &err) == CR_OK, "%s", err.msg);
    CHECK(l && load_all(&l, 1), "did not load");
    int zfds = 0;
    CHECK(!has_fd_on(bot_host_pid(host), extra_path, &zfds), "the zygote has the caller's fd");
    CHECK(zfds >= 1 && zfds <= 4, "the zygote has %d fds (want stdio and its socket)", zfds);
    /* A worker closes every fd but its socket itself (worker_lockdown); if
     * its fd table ever becomes unreadable the output says so. */
    int wfds = 0;
    if (l) {
        bool w_has = has_fd_on(bot_link_pid(l), extra_path, &wfds);
        CHECK(!w_has, "the worker has the caller's fd");
        if (wfds < 0) printf("  worker fd table not readable (not dumpable); zygote checked\n");
        CHECK(wfds < 0 || wfds == 1, "the worker has %d fds", wfds);
    }
    if (l) {
        SensorRecord s;
        fake_record(&s, 3);
        int64_t t0 = bot_now_ns();
        bot_link_send_tick(l, &s, NULL, 0);
        bot_links_collect(&l, 1);
        double ms = (double)(bot_now_ns() - t0) / 1e6;
        BotLinkStats st;
        bot_link_stats(l, &st);
        /* The worker's own CPU timer (SIGPROF) ended the call: status
         * TIMEOUT with the worker alive, long before the host's kill. */
        CHECK(bot_link_reply(l)->status == BOT_STATUS_TIMEOUT && st.restarts == 0 && ms < 3000,
              "status %d restarts %ld after %.0f ms", bot_link_reply(l)->status, st.restarts, ms);
        printf(
            "  zygote fds %d, worker fds %d; spinning on_tick ended by its CPU budget after "
            "%.0f ms\n",
            zfds, wfds, ms);
    }
    bot_link_destroy(l);
    report("the zygote gets a clean signal mask and only its own fds", ok);
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    const char *botd = getenv("CR_BOTD") ? getenv("CR_BOTD") : CR_BOTD_PATH;
    const char *mode = argc >= 2 ? argv[1] : "";
    if (!strcmp(mode, "duplicate")) {
        if (argc < 3) return 2;
        botd = argv[2];
    }
    if (!strcmp(mode, "broken")) botd = "/bin/false";
    char extra[64] = "";
    int extra_fd = -1;
    if (!strcmp(mode, "hygiene")) {
        sigset_t prof;
        sigemptyset(&prof);
        sigaddset(&prof, SIGPROF);
        sigprocmask(SIG_BLOCK, &prof, NULL);
        signal(SIGPROF, SIG_IGN);
        snprintf(extra, sizeof extra, "/tmp/cr_hygiene_%d", (int)getpid());
        extra_fd = open(extra, O_CREAT | O_RDWR, 0600); /* inheritable on purpose */
        if (extra_fd < 0 || dup2(extra_fd, 40) < 0) return 1;
    }
    CrError err;
    BotHost *host;
    if (bot_host_start(botd, &host, &err)) {
        printf("cannot start %s: %s\n", botd, err.msg);
        return 1;
    }
    int rc = 0;
    if (!strcmp(mode, "revive")) {
        test_revive(host, argc >= 3 && atoi(argv[2]) > 0 ? atoi(argv[2]) : 8000);
    } else if (!strcmp(mode, "zygote")) {
        test_zygote(host);
    } else if (!strcmp(mode, "calls")) {
        test_calls(host);
    } else if (!strcmp(mode, "stale")) {
        test_stale(host);
    } else if (!strcmp(mode, "hygiene")) {
        test_hygiene(host, extra);
    } else if (!strcmp(mode, "broken")) {
        test_broken(host);
    } else if (!strcmp(mode, "duplicate")) {
        test_duplicate(host);
    } else if (!strcmp(mode, "watch")) {
        test_watch(host);
    } else {
        printf(
            "usage: test_bot_async revive|zygote|calls|stale|hygiene|broken|watch | duplicate "
            "DUP_ZYGOTE\n");
        rc = 2;
    }
    bot_host_stop(host);
    if (extra_fd >= 0) {
        close(extra_fd);
        close(40);
        unlink(extra);
    }
    if (rc) return rc;
    printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed ? 1 : 0;
}
