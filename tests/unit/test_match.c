/* test_match.c - the race runner: AI-only races give what the plain AI
 * loop gives, humans hold their input, the bot timing rule (applied from
 * the step after the sensors, late replies held and counted), a rules
 * failure aborts only its own match, and no call waits for a slow bot.
 * Bots run in the real sandbox (coderally-botd). */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "match/match.h"
#include "match/session.h"
#include "sim/replay.h"
#include "test.h"
#include "util/file.h"

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static Scripts *open_scripts(const ConfigOverride *sets, size_t n) {
    Scripts *sc = NULL;
    CrError err;
    const char *dir = getenv("CR_SCRIPTS");
    if (scripts_open(dir ? dir : "scripts", sets, n, &sc, &err)) {
        fprintf(stderr, "  scripts: %s\n", err.msg);
        return NULL;
    }
    return sc;
}

/* A copy of the scripts in a fresh temporary dir (dir: "/tmp/cr_match_XXXXXX")
 * with rules/NAME.lua holding text. */
static Scripts *scripts_copy(char *dir, const char *name, const char *text) {
    if (!mkdtemp(dir)) return NULL;
    const char *src = getenv("CR_SCRIPTS");
    char cmd[2048], path[1100];
    snprintf(cmd, sizeof cmd, "cp -r '%s'/. '%s'", src ? src : "scripts", dir);
    if (system(cmd) != 0) return NULL;
    snprintf(path, sizeof path, "%s/rules/%s.lua", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) return NULL;
    fputs(text, f);
    fclose(f);
    Scripts *sc;
    CrError err;
    if (scripts_open(dir, NULL, 0, &sc, &err)) {
        fprintf(stderr, "  scripts: %s\n", err.msg);
        return NULL;
    }
    return sc;
}

static void drop_copy(const char *dir) {
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "  could not remove %s\n", dir);
}

static void make_cars(Scripts *sc, CarEntry *cars, int n, const CarKind *kinds) {
    memset(cars, 0, (size_t)n * sizeof *cars);
    for (int i = 0; i < n; i++) {
        CrError err;
        if (scripts_car_stats(sc, "hatch", NULL, 0, &cars[i].stats, &err)) abort();
        snprintf(cars[i].name, sizeof cars[i].name, "car%d", i + 1);
        snprintf(cars[i].car_type, sizeof cars[i].car_type, "hatch");
        cars[i].kind = kinds ? kinds[i] : CAR_AI;
    }
}

TEST(ai_only_races_equal_the_plain_ai_loop) {
    Scripts *sc = open_scripts(NULL, 0);
    ASSERT_TRUE(sc);
    const char *gens[] = {"forest", "coast", "mountain"};
    for (int g = 0; g < 3; g++) {
        for (uint64_t seed = 1; seed <= 3; seed++) {
            CarEntry cars[4];
            make_cars(sc, cars, 4, NULL);
            CrError err;
            Session s;
            ASSERT_EQ_INT(session_start(sc, gens[g], seed, NULL, 0, NULL, cars, 4, &s, &err),
                          CR_OK);
            ASSERT_EQ_INT(session_run(&s, &err), CR_OK);
            RaceResult want[4], got[4];
            int want_pts[4], got_pts[4];
            race_results(s.room, want);
            ASSERT_EQ_INT(rules_points(s.rules, want, 4, want_pts, &err), CR_OK);
            Match *m;
            MatchConfig cfg = {
                .scripts = sc, .generator = gens[g], .seed = seed, .cars = cars, .n_cars = 4};
            ASSERT_EQ_INT(match_create(&cfg, &m, &err), CR_OK);
            ASSERT_EQ_INT(match_phase(m), MATCH_COUNTDOWN);
            ASSERT_EQ_INT(match_run(m, &err), CR_OK);
            ASSERT_EQ_INT(match_phase(m), MATCH_DONE);
            ASSERT_EQ_INT(match_results(m, got, got_pts), CR_OK);
            ASSERT_EQ_U64(race_hash(match_room(m)), race_hash(s.room));
            ASSERT_EQ_INT(match_tick(m), race_tick(s.room));
            for (int i = 0; i < 4; i++) {
                ASSERT_EQ_INT(got[i].car, want[i].car);
                ASSERT_TRUE(got[i].time_s == want[i].time_s);
                ASSERT_EQ_INT(got_pts[i], want_pts[i]);
            }
            match_destroy(m);
            session_end(&s);
        }
    }
    scripts_close(sc);
}

TEST(a_human_car_holds_the_input_it_was_given) {
    Scripts *sc = open_scripts(NULL, 0);
    ASSERT_TRUE(sc);
    CarEntry cars[2];
    CarKind kinds[2] = {CAR_HUMAN, CAR_AI};
    make_cars(sc, cars, 2, kinds);
    CrError err;
    Match *m;
    MatchConfig cfg = {.scripts = sc, .generator = "forest", .seed = 2, .cars = cars, .n_cars = 2};
    ASSERT_EQ_INT(match_create(&cfg, &m, &err), CR_OK);
    CarInput in = {.throttle = 0.5f, .steer = 0.1f};
    ASSERT_EQ_INT(match_set_input(m, 0, &in), CR_OK);
    /* The runner drives AI cars itself; a bad index is refused too. */
    ASSERT_EQ_INT(match_set_input(m, 1, &in), CR_EINVAL);
    ASSERT_EQ_INT(match_set_input(m, 2, &in), CR_EINVAL);
    ASSERT_EQ_INT(match_set_input(m, -1, &in), CR_EINVAL);
    PackedInput want = input_pack(&in);
    for (int t = 0; t < 400; t++) {
        ASSERT_EQ_INT(match_step(m, now_ns(), &err), CR_OK);
        PackedInput got = race_input(match_room(m), 0);
        ASSERT_TRUE(memcmp(&got, &want, sizeof got) == 0);
    }
    ASSERT_EQ_INT(match_phase(m), MATCH_RUNNING);
    RaceSnapshot snap;
    match_snapshot(m, &snap);
    ASSERT_TRUE(snap.cars[0].progress > 1);
    /* A player who does not come back: the AI takes the car over. */
    ASSERT_EQ_INT(match_drive_by_ai(m, 1), CR_EINVAL);
    ASSERT_EQ_INT(match_drive_by_ai(m, 0), CR_OK);
    ASSERT_EQ_INT(match_set_input(m, 0, &in), CR_EINVAL);
    for (int t = 0; t < 30; t++) ASSERT_EQ_INT(match_step(m, now_ns(), &err), CR_OK);
    PackedInput now = race_input(match_room(m), 0);
    ASSERT_TRUE(memcmp(&now, &want, sizeof now) != 0);
    /* Leaving: the car is retired; match_finish ends the race for all. */
    ASSERT_EQ_INT(match_retire(m, 0), CR_OK);
    match_finish(m);
    ASSERT_EQ_INT(match_phase(m), MATCH_FINISHING);
    ASSERT_EQ_INT(match_step(m, now_ns(), &err), CR_OK);
    ASSERT_EQ_INT(match_phase(m), MATCH_DONE);
    RaceResult res[2];
    int pts[2];
    ASSERT_EQ_INT(match_results(m, res, pts), CR_OK);
    ASSERT_TRUE(res[0].dnf && res[1].dnf);
    ASSERT_EQ_INT(res[0].dnf_reason, DNF_RETIRED);
    match_destroy(m);
    scripts_close(sc);
}

TEST(a_race_that_lost_cars_replays_exactly) {
    Scripts *sc = open_scripts(NULL, 0);
    ASSERT_TRUE(sc);
    CarEntry cars[3];
    CarKind kinds[3] = {CAR_HUMAN, CAR_AI, CAR_AI};
    make_cars(sc, cars, 3, kinds);
    CrError err;
    Match *m;
    const char *path = "/tmp/cr_match_retire.rpl";
    MatchConfig cfg = {.scripts = sc,
                       .generator = "mountain",
                       .seed = 3,
                       .cars = cars,
                       .n_cars = 3,
                       .replay_path = path};
    ASSERT_EQ_INT(match_create(&cfg, &m, &err), CR_OK);
    for (int t = 0; t < 700; t++) {
        CarInput in = {.throttle = 1, .steer = (float)((t / 40) % 3 - 1) * 0.3f};
        ASSERT_EQ_INT(match_set_input(m, 0, &in), CR_OK);
        ASSERT_EQ_INT(match_step(m, now_ns(), &err), CR_OK);
        if (t == 400) ASSERT_EQ_INT(match_retire(m, 0), CR_OK); /* the player left */
    }
    match_finish(m); /* the room closed early: the AI cars are retired too */
    ASSERT_EQ_INT(match_step(m, now_ns(), &err), CR_OK);
    ASSERT_EQ_INT(match_phase(m), MATCH_DONE);
    uint64_t hash = race_hash(match_room(m));
    match_destroy(m);
    Replay *r;
    ASSERT_EQ_INT(replay_read(path, &r, &err), CR_OK);
    ASSERT_EQ_INT(r->n_retires, 3);
    ASSERT_EQ_INT(r->retires[0].tick, 401);
    ASSERT_EQ_INT(r->retires[0].car, 0);
    ASSERT_EQ_INT(r->retires[2].tick, 700);
    ASSERT_EQ_U64(r->final_hash, hash);
    replay_free(r);
    /* `coderally replay verify` re-simulates it to the same hashes. */
    const char *dir = getenv("CR_SCRIPTS");
    char *argv[] = {"replay", "verify", (char *)path, "--scripts", (char *)(dir ? dir : "scripts"),
                    NULL};
    ASSERT_EQ_INT(cmd_replay(5, argv), 0);
    remove(path);
    scripts_close(sc);
}

/* A bot whose throttle encodes the tick of the sensors it was given, so
 * the input in force shows which state it came from. */
static const char TICK_BOT[] =
    "class Bot:\n"
    "    def on_tick(self, state):\n"
    "        n = 0\n"
    "        for i in range(LOOPS):\n"
    "            n += i\n"
    "        return {'throttle': (state['tick'] % 251) / 255.0, 'steer': 0.0}\n";

static uint8_t tick_throttle(uint32_t tick) {
    CarInput in = {.throttle = (float)((tick % 251) / 255.0)};
    return input_pack(&in).throttle;
}

/* A match with one bot car (TICK_BOT looping `loops` times per call). */
static Match *bot_match(Scripts *sc, int loops, char *src, size_t cap, CrError *err) {
    snprintf(src, cap, "LOOPS = %d\n%s", loops, TICK_BOT);
    static CarEntry cars[2];
    CarKind kinds[2] = {CAR_BOT, CAR_AI};
    make_cars(sc, cars, 2, kinds);
    static MatchBot bots[2];
    bots[0] = (MatchBot){.name = "tick_bot.py", .source = src, .source_len = strlen(src)};
    MatchConfig cfg = {.scripts = sc,
                       .generator = "forest",
                       .seed = 1,
                       .cars = cars,
                       .n_cars = 2,
                       .bots = bots,
                       .botd_path = CR_BOTD_PATH};
    Match *m = NULL;
    if (match_create(&cfg, &m, err)) fprintf(stderr, "  match_create: %s\n", err->msg);
    return m;
}

/* Until every bot has loaded and been sent the state before the first
 * step (at once with a synchronous bot link, a few ms with an
 * asynchronous one). */
static int until_started(Match *m, CrError *err) {
    while (match_phase(m) == MATCH_STARTING) {
        int rc = match_wait(m, err);
        if (!rc) rc = match_step(m, now_ns(), err);
        if (rc) return rc;
    }
    return CR_OK;
}

TEST(bot_actions_apply_from_the_step_after_their_sensors) {
    Scripts *sc = open_scripts(NULL, 0);
    ASSERT_TRUE(sc);
    char src[1024];
    CrError err;
    Match *m = bot_match(sc, 1, src, sizeof src, &err);
    ASSERT_TRUE(m);
    ASSERT_EQ_INT(until_started(m, &err), CR_OK);
    const RaceRoom *room = match_room(m);
    for (int k = 0; k < 300; k++) {
        uint32_t t = match_tick(m);
        ASSERT_EQ_INT(match_wait(m, &err), CR_OK);
        ASSERT_TRUE(match_can_step(m));
        ASSERT_EQ_INT(match_step(m, now_ns(), &err), CR_OK);
        /* The step t -> t+1 ran on the actions from the sensors of the
         * last bot tick at or before t, held in between. */
        uint32_t from = t - t % CR_BOT_TICK_EVERY;
        ASSERT_EQ_INT(race_input(room, 0).throttle, tick_throttle(from));
    }
    MatchBotStats st;
    ASSERT_EQ_INT(match_bot_stats(m, 0, &st), CR_OK);
    ASSERT_EQ_INT(st.late, 0);
    ASSERT_EQ_INT(st.errors + st.timeouts, 0);
    /* Bot ticks 0, 3, ..., 300: tick 300's sensors went out after the
     * step that reached it. */
    ASSERT_EQ_INT(st.calls, 101);
    ASSERT_EQ_INT(match_bot_stats(m, 1, &st), CR_ENOTFOUND);
    match_destroy(m);
    scripts_close(sc);
}

TEST(a_late_reply_holds_the_previous_input_and_counts) {
    ConfigOverride set = {"BOT_EXECUTION_TIMEOUT_MS", "1000"};
    Scripts *sc = open_scripts(&set, 1);
    ASSERT_TRUE(sc);
    char src[1024];
    CrError err;
    /* Tens of milliseconds per call: always late when stepped at once. */
    Match *m = bot_match(sc, 300000, src, sizeof src, &err);
    ASSERT_TRUE(m);
    ASSERT_EQ_INT(until_started(m, &err), CR_OK);
    const RaceRoom *room = match_room(m);
    ASSERT_TRUE(!match_can_step(m));
    /* Server-style: the step is taken on schedule, the reply is not in. */
    ASSERT_EQ_INT(match_step(m, now_ns(), &err), CR_OK);
    ASSERT_EQ_INT(race_input(room, 0).throttle, 0);
    MatchBotStats st;
    match_bot_stats(m, 0, &st);
    ASSERT_EQ_INT(st.late, 1);
    /* Still outstanding at the next steps: held, counted once. */
    ASSERT_EQ_INT(match_step(m, now_ns(), &err), CR_OK);
    ASSERT_EQ_INT(match_step(m, now_ns(), &err), CR_OK);
    match_bot_stats(m, 0, &st);
    ASSERT_EQ_INT(st.late, 1);
    /* Bot tick 3 came while tick 0's reply was outstanding: not sent. */
    ASSERT_EQ_INT(st.skipped, 1);
    ASSERT_EQ_INT(match_wait(m, &err), CR_OK);
    ASSERT_EQ_INT(match_step(m, now_ns(), &err), CR_OK);
    /* The late reply (sensors of tick 0) is applied on arrival. */
    ASSERT_EQ_INT(race_input(room, 0).throttle, tick_throttle(0));
    match_bot_stats(m, 0, &st);
    ASSERT_EQ_INT(st.timeouts + st.errors, 0);
    size_t len;
    const char *log = match_bot_log(m, 0, &len);
    ASSERT_TRUE(log && memmem(log, len, "reply late", 10));
    match_destroy(m);
    scripts_close(sc);
}

TEST(no_call_waits_for_a_slow_bot) {
    ConfigOverride set = {"BOT_EXECUTION_TIMEOUT_MS", "1000"};
    Scripts *sc = open_scripts(&set, 1);
    ASSERT_TRUE(sc);
    char src[1024];
    CrError err;
    Match *m = bot_match(sc, 3000000, src, sizeof src, &err);
    ASSERT_TRUE(m);
    ASSERT_EQ_INT(until_started(m, &err), CR_OK);
    /* Drive it like the server: every call, whatever the bot is doing,
     * returns at once. 100 ms is far above any call's own work, far below
     * the bot's time per call. */
    int64_t worst = 0, t0 = now_ns(), first_reply = -1;
    for (int steps = 0; steps < 60; steps++) {
        struct pollfd fds[MATCH_MAX_FDS];
        int64_t wake, a = now_ns();
        int n = match_fds(m, fds, MATCH_MAX_FDS, &wake);
        match_pump(m, now_ns());
        if (match_can_step(m) && first_reply < 0) first_reply = now_ns() - t0;
        ASSERT_EQ_INT(match_step(m, now_ns(), &err), CR_OK);
        int64_t d = now_ns() - a;
        if (d > worst) worst = d;
        (void)n;
        usleep(2000);
    }
    ASSERT_LT(worst, 100e6);
    /* ...while the bot really was slower than that bound. */
    ASSERT_TRUE(first_reply < 0 || first_reply > 100000000LL);
    MatchBotStats st;
    match_bot_stats(m, 0, &st);
    ASSERT_TRUE(st.late >= 1);
    ASSERT_TRUE(st.skipped >= 1);
    match_destroy(m);
    scripts_close(sc);
}

TEST(a_rules_failure_aborts_only_its_own_match) {
    char dir[] = "/tmp/cr_match_XXXXXX";
    Scripts *sc = scripts_copy(dir, "angry",
                               "return { name = 'angry', countdown_s = 0, time_limit_s = 300,\n"
                               "  on_checkpoint = function(ev)\n"
                               "    error('no checkpoints today')\n"
                               "  end }\n");
    ASSERT_TRUE(sc);
    CrError err;
    CarEntry cars[3];
    make_cars(sc, cars, 3, NULL);
    Match *angry, *calm;
    MatchConfig cfg = {.scripts = sc,
                       .generator = "coast",
                       .seed = 4,
                       .rules = "angry",
                       .cars = cars,
                       .n_cars = 3,
                       .replay_path = "/tmp/cr_match_angry.rpl"};
    ASSERT_EQ_INT(match_create(&cfg, &angry, &err), CR_OK);
    cfg.rules = "standard";
    cfg.replay_path = NULL;
    ASSERT_EQ_INT(match_create(&cfg, &calm, &err), CR_OK);
    int angry_rc = CR_OK;
    while (match_phase(calm) != MATCH_DONE) {
        CrError e1, e2;
        int rc = match_step(angry, now_ns(), &e1);
        if (rc) {
            angry_rc = rc;
            ASSERT_CONTAINS(e1.msg, "angry.lua:3: no checkpoints today");
        }
        ASSERT_EQ_INT(match_step(calm, now_ns(), &e2), CR_OK);
    }
    ASSERT_EQ_INT(angry_rc, CR_ESCRIPT);
    ASSERT_EQ_INT(match_phase(angry), MATCH_ABORTED);
    ASSERT_CONTAINS(match_error(angry), "angry.lua:3: no checkpoints today");
    RaceResult res[3];
    int pts[3];
    ASSERT_EQ_INT(match_results(angry, res, pts), CR_EINVAL);
    /* Stepping an aborted match does nothing; no half replay is left. */
    uint32_t t = match_tick(angry);
    ASSERT_EQ_INT(match_step(angry, now_ns(), &err), CR_OK);
    ASSERT_EQ_INT(match_tick(angry), t);
    ASSERT_TRUE(access("/tmp/cr_match_angry.rpl", F_OK) != 0);
    ASSERT_EQ_INT(match_results(calm, res, pts), CR_OK);
    ASSERT_TRUE(res[0].finished);
    ASSERT_EQ_INT(pts[0], 25);
    match_destroy(angry);
    match_destroy(calm);
    scripts_close(sc);
    drop_copy(dir);
}

/* Two template bots and an AI, 240 ticks from the start, stepped by
 * make_step (flat out or on a schedule); the final hash. */
static Match *template_match(Scripts *sc, const char *replay, char **src, CrError *err) {
    size_t len;
    if (file_read(CR_TEMPLATES "/checkpoint_follower.py", 1 << 16, src, &len, err)) return NULL;
    static CarEntry cars[3];
    CarKind kinds[3] = {CAR_BOT, CAR_BOT, CAR_AI};
    make_cars(sc, cars, 3, kinds);
    static MatchBot bots[3];
    bots[0] = bots[1] =
        (MatchBot){.name = "checkpoint_follower.py", .source = *src, .source_len = len};
    MatchConfig cfg = {.scripts = sc,
                       .generator = "coast",
                       .seed = 5,
                       .rules = "quick",
                       .cars = cars,
                       .n_cars = 3,
                       .bots = bots,
                       .botd_path = CR_BOTD_PATH,
                       .replay_path = replay};
    Match *m = NULL;
    if (match_create(&cfg, &m, err)) fprintf(stderr, "  match_create: %s\n", err->msg);
    return m;
}

TEST(a_live_race_gives_what_a_local_race_gives) {
    char dir[] = "/tmp/cr_match_XXXXXX";
    Scripts *sc = scripts_copy(dir, "quick",
                               "return { name = 'quick', countdown_s = 0, time_limit_s = 300 }\n");
    ASSERT_TRUE(sc);
    CrError err;
    char *src_a = NULL, *src_b = NULL;
    /* Local: flat out, waiting for every reply. */
    Match *a = template_match(sc, NULL, &src_a, &err);
    ASSERT_TRUE(a);
    while (match_tick(a) < 240) {
        ASSERT_EQ_INT(match_wait(a, &err), CR_OK);
        ASSERT_EQ_INT(match_step(a, now_ns(), &err), CR_OK);
    }
    uint64_t local = race_hash(match_room(a));
    /* Live: a tick every 1/60 s on an integer schedule, whatever the bots
     * do; the bots' sockets watched in between, as the server does. */
    const char *path = "/tmp/cr_match_live.rpl";
    Match *b = template_match(sc, path, &src_b, &err);
    ASSERT_TRUE(b);
    int64_t t0 = now_ns();
    for (uint32_t k = 1; match_tick(b) < 240; k++) {
        int64_t due = t0 + (int64_t)k * 1000000000 / CR_TICK_RATE;
        for (int64_t now = now_ns(); now < due; now = now_ns()) {
            struct pollfd fds[MATCH_MAX_FDS];
            int64_t wake;
            int n = match_fds(b, fds, MATCH_MAX_FDS, &wake);
            if (wake > due) wake = due;
            int ms = (int)((wake - now) / 1000000);
            ASSERT_TRUE(poll(fds, (nfds_t)n, ms < 0 ? 0 : ms) >= 0);
            match_pump(b, now_ns());
        }
        ASSERT_EQ_INT(match_step(b, now_ns(), &err), CR_OK);
    }
    uint64_t live = race_hash(match_room(b));
    long late = 0;
    for (int car = 0; car < 2; car++) {
        MatchBotStats st;
        ASSERT_EQ_INT(match_bot_stats(b, car, &st), CR_OK);
        ASSERT_EQ_INT(st.errors + st.timeouts, 0);
        late += st.late;
    }
    /* The same race, unless the machine was too loaded to answer within a
     * tick: then the difference is only what the late replies changed. */
    if (late == 0)
        ASSERT_EQ_U64(live, local);
    else
        printf("note: %ld late replies on a loaded machine; live and local differ\n", late);
    for (int car = 0; car < 2 && late; car++) {
        size_t len;
        const char *log = match_bot_log(b, car, &len);
        for (const char *l = log, *end = log + len; l < end;) {
            const char *nl = memchr(l, '\n', (size_t)(end - l));
            int ll = (int)((nl ? nl : end) - l);
            if (memmem(l, (size_t)ll, "late", 4)) printf("  car %d: %.*s\n", car, ll, l);
            l = nl ? nl + 1 : end;
        }
    }
    /* Either way the live race's replay re-simulates it exactly. */
    match_finish(b);
    while (match_phase(b) == MATCH_FINISHING) {
        ASSERT_EQ_INT(match_wait(b, &err), CR_OK);
        ASSERT_EQ_INT(match_step(b, now_ns(), &err), CR_OK);
    }
    ASSERT_EQ_INT(match_phase(b), MATCH_DONE);
    match_destroy(a);
    match_destroy(b);
    free(src_a);
    free(src_b);
    char *argv[] = {"replay", "verify", (char *)path, "--scripts", dir, NULL};
    ASSERT_EQ_INT(cmd_replay(5, argv), 0);
    remove(path);
    scripts_close(sc);
    drop_copy(dir);
}

TEST(bad_configs_are_refused_with_a_reason) {
    Scripts *sc = open_scripts(NULL, 0);
    ASSERT_TRUE(sc);
    CarEntry cars[2];
    CarKind kinds[2] = {CAR_BOT, CAR_AI};
    make_cars(sc, cars, 2, kinds);
    CrError err;
    Match *m = (Match *)1;
    MatchConfig cfg = {.scripts = sc, .generator = "forest", .seed = 1, .cars = cars};
    ASSERT_EQ_INT(match_create(&cfg, &m, &err), CR_EINVAL);
    ASSERT_TRUE(m == NULL);
    cfg.n_cars = 2;
    ASSERT_EQ_INT(match_create(&cfg, &m, &err), CR_EINVAL);
    ASSERT_CONTAINS(err.msg, "without a bot");
    cfg.n_cars = 1;
    cfg.generator = "nowhere";
    cars[0].kind = CAR_AI;
    ASSERT_EQ_INT(match_create(&cfg, &m, &err), CR_ENOTFOUND);
    /* A bot that does not compile: its problems with file and line, or,
     * for the server, its car retired and the race going on. */
    cars[0].kind = CAR_BOT;
    MatchBot bad = {.name = "bad.py", .source = "import os\n", .source_len = 10};
    cfg.generator = "forest";
    cfg.bots = &bad;
    cfg.botd_path = CR_BOTD_PATH;
    cfg.n_cars = 2;
    MatchBot bots[2] = {bad, {0}};
    cfg.bots = bots;
    /* Known at once or, with the bot loading in the background, from the
     * step that finds it failed: either way the same error. */
    int rc = match_create(&cfg, &m, &err);
    if (rc == CR_OK) {
        rc = match_run(m, &err);
        ASSERT_EQ_INT(match_phase(m), MATCH_ABORTED);
        match_destroy(m);
    }
    ASSERT_EQ_INT(rc, CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "bad.py:1:");
    cfg.retire_failed_bots = true;
    ASSERT_EQ_INT(match_create(&cfg, &m, &err), CR_OK);
    ASSERT_EQ_INT(match_run(m, &err), CR_OK);
    MatchBotStats st;
    ASSERT_EQ_INT(match_bot_stats(m, 0, &st), CR_OK);
    ASSERT_TRUE(st.failed);
    size_t len;
    const char *why = match_bot_log(m, 0, &len);
    ASSERT_TRUE(why && memmem(why, len, "bad.py:1:", 9));
    RaceResult res[2];
    int pts[2];
    ASSERT_EQ_INT(match_results(m, res, pts), CR_OK);
    ASSERT_TRUE(res[0].finished && res[0].car == 1);
    ASSERT_EQ_INT(res[1].dnf_reason, DNF_RETIRED);
    /* Everyone's word for it: the load failed (the error is the owner's). */
    ASSERT_TRUE(!strcmp(match_dnf_reason(m, &res[1]), "bot_load_failed"));
    ASSERT_TRUE(match_dnf_reason(m, &res[0]) == NULL);
    match_destroy(m);
    scripts_close(sc);
}

TEST_MAIN
