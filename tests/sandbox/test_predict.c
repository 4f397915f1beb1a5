/*
 * test_predict.c - coderally.predict() against the real engine: a bot asks
 * the worker to predict its car N ticks ahead; the same car runs N ticks of
 * car_step on a real compiled stage (one surface, wide, straight: no walls
 * reached). Every number must be identical, on each surface, with nitro,
 * handbrake, reversing and spin. Also: the tick cap, bad arguments, the CPU
 * budget, and a host that gives no car stats.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot_link.h"
#include "fixtures.h"
#include "sim/car.h"

#ifndef CR_BOTD_PATH
#define CR_BOTD_PATH "coderally-botd"
#endif

static int g_failed, g_passed;

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
    ok ? g_passed++ : g_failed++;
}

typedef struct {
    const char *name;
    Surface surface;
    float x, y, heading, v_forward, v_left, angvel;
    int nitro_charges;
    const char *actions; /* Python dict */
    CarInput input;      /* the same actions, for the engine */
    int ticks;
} Scenario;

static void record_of(const Scenario *sc, SensorRecord *s) {
    memset(s, 0, sizeof *s);
    s->tick = 300;
    s->phase = PHASE_RUNNING;
    s->x = sc->x, s->y = sc->y, s->heading = sc->heading;
    s->v_forward = sc->v_forward, s->v_left = sc->v_left, s->angular_velocity = sc->angvel;
    s->speed = hypotf(sc->v_forward, sc->v_left);
    s->surface = sc->surface;
    s->on_road = sc->surface != SURFACE_OFFROAD;
    s->nitro_charges = sc->nitro_charges;
    s->top_speed = 44;
    s->checkpoints_total = 3, s->cars = 1, s->position = 1;
}

/* The engine's car from the same state, as the documentation says predict
 * builds it: velocity from v_forward/v_left along the heading. */
static bool engine_run(const Scenario *sc, const CarStats *stats, CarBody *car) {
    /* Off the road is only a verge on a real stage (walls near): the
     * scenarios stay on road surfaces. */
    Stage *st = fixture_stage(900, 0, 0, 0, 40, sc->surface, 300);
    car_init(car, stats, sc->x, sc->y, sc->heading);
    car->vx = (double)sc->v_forward * car->hc - (double)sc->v_left * car->hs;
    car->vy = (double)sc->v_forward * car->hs + (double)sc->v_left * car->hc;
    car->angvel = sc->angvel;
    car->surface = sc->surface;
    car->nitro_charges = sc->nitro_charges;
    car_set_input(car, &sc->input);
    bool clean = true;
    for (int t = 0; t < sc->ticks; t++) {
        if (car_step(car, st) != 0 || car->in_wall || car->surface != sc->surface) clean = false;
    }
    stage_destroy(st);
    return clean;
}

static char g_src[4096];

static const char *predict_bot(const Scenario *sc) {
    snprintf(g_src, sizeof g_src,
             "import coderally\n"
             "class Bot:\n"
             "    def on_tick(self, state):\n"
             "        p = coderally.predict(state, %s, %d)\n"
             "        q = coderally.predict(state, %s, %d)\n"
             "        assert p == q\n"
             "        print('P', *[repr(p[k]) for k in ('x', 'y', 'heading', 'vx', 'vy',\n"
             "              'angular_velocity', 'nitro_charges', 'nitro_time', 'sliding')])\n"
             "        return {}\n",
             sc->actions, sc->ticks, sc->actions, sc->ticks);
    return g_src;
}

static BotLink *start(BotHost *host, const char *src, const CarStats *stats) {
    BotSpec spec = {.name = "predict", .source = src, .source_len = strlen(src), .seed = 1};
    if (stats) spec.has_car = true, spec.car = *stats;
    CrError err = {{0}};
    BotLink *l = NULL;
    int rc = bot_link_create(host, &spec, &l, &err);
    if (rc == CR_OK) rc = bot_links_collect(&l, 1); /* the load is asynchronous */
    if (rc == CR_OK) rc = bot_link_start_result(l, &err);
    if (rc) {
        printf("  cannot start the bot: %s\n", err.msg);
        bot_link_destroy(l);
        return NULL;
    }
    return l;
}

static const char *tick(BotLink *l, const SensorRecord *s, size_t *n) {
    bot_link_send_tick(l, s, NULL, 0);
    bot_links_collect(&l, 1);
    return bot_link_log(l, n);
}

static void test_exact(BotHost *host, const Scenario *sc, const CarStats *stats) {
    bool ok = true;
    CarBody car;
    CHECK(engine_run(sc, stats, &car), "the engine's car left its surface or hit a wall");
    BotLink *l = start(host, predict_bot(sc), stats);
    CHECK(l != NULL, "no bot");
    if (l) {
        SensorRecord s;
        record_of(sc, &s);
        size_t n;
        const char *log = tick(l, &s, &n);
        const char *p = memmem(log, n, "P ", 2);
        CHECK(bot_link_reply(l)->status == BOT_STATUS_OK && p, "no prediction: %.*s", (int)n, log);
        if (p) {
            double want[] = {
                car.x,      car.y,      car.heading,       car.vx,
                car.vy,     car.angvel, car.nitro_charges, (double)car.nitro_ticks / CR_TICK_RATE,
                car.sliding};
            const char *names[] = {"x",      "y",       "heading",    "vx",     "vy",
                                   "angvel", "charges", "nitro_time", "sliding"};
            char *q = (char *)p + 2;
            for (int i = 0; i < 9; i++) {
                double got;
                if (!strncmp(q, "True", 4) || !strncmp(q, "False", 5)) {
                    got = *q == 'T';
                    q += *q == 'T' ? 4 : 5;
                } else {
                    got = strtod(q, &q);
                }
                CHECK(got == want[i], "%s: predicted %.17g, engine %.17g", names[i], got, want[i]);
                while (*q == ' ') q++;
            }
        }
        bot_link_destroy(l);
    }
    char name[128];
    snprintf(name, sizeof name, "predict == engine: %s", sc->name);
    report(name, ok);
}

/* A bot whose log must contain want after one tick (and the status given). */
static void test_log(BotHost *host, const char *name, const char *src, const CarStats *stats,
                     const char *want, BotStatus status) {
    bool ok = true;
    BotLink *l = start(host, src, stats);
    CHECK(l != NULL, "no bot");
    if (l) {
        SensorRecord s;
        Scenario sc = {.surface = SURFACE_ASPHALT, .x = 10, .v_forward = 20};
        record_of(&sc, &s);
        size_t n;
        const char *log = tick(l, &s, &n);
        CHECK(memmem(log, n, want, strlen(want)) != NULL, "no \"%s\" in: %.*s", want,
              (int)(n > 500 ? 500 : n), log);
        CHECK(bot_link_reply(l)->status == status, "status %d", bot_link_reply(l)->status);
        bot_link_destroy(l);
    }
    report(name, ok);
}

int main(void) {
    CrError err = {{0}};
    BotHost *host = NULL;
    if (bot_host_start(CR_BOTD_PATH, &host, &err)) {
        printf("FAIL cannot start the sandbox: %s\n", err.msg);
        return 1;
    }
    CarStats stats = fixture_stats();
    const Scenario scenarios[] = {
        {"asphalt, full throttle, light steer",
         SURFACE_ASPHALT,
         100,
         0.5f,
         0,
         20,
         0.5f,
         0.25f,
         2,
         "{'throttle': 1.0, 'steer': 0.1}",
         {1, 0, 0.1f, 0, 0},
         60},
        {"gravel, heading 0.25, slide, handbrake",
         SURFACE_GRAVEL,
         120,
         -3,
         0.25f,
         30,
         4,
         -0.5f,
         2,
         "{'throttle': 0.5, 'steer': -0.2, 'handbrake': True}",
         {0.5f, 0, -0.2f, 0, 1},
         45},
        {"ice, nitro",
         SURFACE_ICE,
         100,
         2,
         -0.125f,
         25,
         -1,
         0.125f,
         2,
         "{'throttle': 1.0, 'nitro': True, 'steer': 0.05}",
         {1, 0, 0.05f, 1, 0},
         90},
        {"asphalt, braking into reverse",
         SURFACE_ASPHALT,
         200,
         0,
         0,
         6,
         0,
         0,
         0,
         "{'brake': 1.0}",
         {0, 1, 0, 0, 0},
         120},
        {"zero ticks",
         SURFACE_ASPHALT,
         100,
         0,
         0.5f,
         10,
         1,
         0.5f,
         1,
         "{'steer': 1.0}",
         {0, 0, 1, 0, 0},
         0},
    };
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++) {
        test_exact(host, &scenarios[i], &stats);
    }
    test_log(host, "predict: ticks capped at 600",
             "import coderally\n"
             "class Bot:\n"
             "    def on_tick(self, state):\n"
             "        try:\n"
             "            coderally.predict(state, {}, 601)\n"
             "        except ValueError as e:\n"
             "            print('refused', e)\n"
             "        return {}\n",
             &stats, "refused predict(): ticks must be an int in 0..600", BOT_STATUS_OK);
    test_log(host, "predict: bad actions are refused like on_tick's",
             "import coderally\n"
             "class Bot:\n"
             "    def on_tick(self, state):\n"
             "        try:\n"
             "            coderally.predict(state, {'throttle': 2.0}, 10)\n"
             "        except ValueError as e:\n"
             "            print('refused', e)\n"
             "        return {}\n",
             &stats, "refused predict(): throttle = 2 is out of range", BOT_STATUS_OK);
    test_log(host, "predict: a state without the car's keys",
             "import coderally\n"
             "class Bot:\n"
             "    def on_tick(self, state):\n"
             "        try:\n"
             "            coderally.predict({'x': 1.0}, {}, 10)\n"
             "        except KeyError as e:\n"
             "            print('refused', e)\n"
             "        return {}\n",
             &stats, "refused 'predict(): state has no \"y\"'", BOT_STATUS_OK);
    test_log(host, "predict: charged to the CPU budget",
             "import coderally\n"
             "class Bot:\n"
             "    def on_tick(self, state):\n"
             "        while True:\n"
             "            coderally.predict(state, {'throttle': 1.0}, 600)\n",
             &stats, "CPU budget", BOT_STATUS_TIMEOUT);
    test_log(host, "predict: unavailable without the car's stats",
             "import coderally\n"
             "class Bot:\n"
             "    def on_tick(self, state):\n"
             "        try:\n"
             "            coderally.predict(state, {}, 10)\n"
             "        except RuntimeError as e:\n"
             "            print('refused', e)\n"
             "        return {}\n",
             NULL, "refused predict() is not available", BOT_STATUS_OK);
    bot_host_stop(host);
    printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed ? 1 : 0;
}
