/*
 * fuzz_seeds.c - writes the seed corpora that are not plain files already:
 * real stages from the shipped generators in fuzz_stage's encoding, one
 * frame of every bot protocol message with real content (a template's
 * source, a sensor record from a real race), and on_tick return values in
 * fuzz_marshal's grammar. Run once; the output is committed under
 * tests/fuzz/corpus/ (the replay and Lua seeds are copied, see FUZZING.md).
 *   fuzz_seeds SCRIPTS_DIR TEMPLATE.py OUT_DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot_proto.h"
#include "coderally.h"

static const char *g_out;

static void put(const char *target, const char *name, const void *p, size_t n) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/%s", g_out, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "fuzz_seeds: cannot write %s\n", path);
        exit(1);
    }
}

/* ---- stages ------------------------------------------------------------- */

typedef struct {
    unsigned char *p;
    size_t n;
} Bytes;

static void add(Bytes *b, const void *p, size_t n) {
    b->p = realloc(b->p, b->n + n);
    if (!b->p) exit(1);
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void stage_seed(Scripts *sc, const char *gen, uint64_t seed) {
    Stage *st;
    CrError err;
    if (scripts_generate_stage(sc, gen, seed, NULL, 0, &st, &err)) {
        fprintf(stderr, "fuzz_seeds: %s\n", err.msg);
        exit(1);
    }
    Bytes b = {0};
    unsigned char mode = 0, n_cps = (unsigned char)stage_checkpoint_count(st);
    add(&b, &mode, 1);
    add(&b, &n_cps, 1);
    for (size_t i = 0; i < n_cps; i++) {
        uint16_t at = (uint16_t)stage_checkpoint_point(st, i);
        add(&b, &mode, 1);
        add(&b, &at, 2);
    }
    const StagePoint *p = stage_points(st);
    for (size_t i = 0; i < stage_point_count(st); i++) {
        unsigned char c = (unsigned char)(1 | 2 | p[i].surface << 5);
        add(&b, &c, 1);
        add(&b, &p[i].x, 8);
        add(&b, &p[i].y, 8);
        add(&b, &p[i].width, 8);
    }
    char name[64];
    snprintf(name, sizeof name, "%s-%llu", gen, (unsigned long long)seed);
    put("fuzz_stage", name, b.p, b.n);
    free(b.p);
    stage_destroy(st);
}

/* ---- frames ------------------------------------------------------------- */

/* Host-to-worker frames also go, in order, into one worker session. */
static Bytes g_session;

static void frame_seed(const char *name, BotBuf *b) {
    if (bot_buf_end(b)) exit(1);
    put("fuzz_bot_proto", name, b->data, b->len);
    uint8_t type = b->data[5];
    if (type == BOT_INIT || type == BOT_TICK || type == BOT_FINISH)
        add(&g_session, b->data, b->len);
}

static void str(BotBuf *b, const char *s) {
    bot_buf_str(b, s, strlen(s));
}

static void frames(Scripts *sc, const char *template_path) {
    FILE *f = fopen(template_path, "rb");
    static char src[BOT_SOURCE_MAX];
    size_t src_len = f ? fread(src, 1, sizeof src, f) : 0;
    if (f) fclose(f);

    /* A sensor record and events from a real race. */
    Stage *st;
    CrError err;
    if (scripts_generate_stage(sc, "forest", 1, NULL, 0, &st, &err)) exit(1);
    CarEntry cars[2] = {{.name = "a", .car_type = "hatch"}, {.name = "b", .car_type = "hatch"}};
    for (int i = 0; i < 2; i++) {
        if (scripts_car_stats(sc, "hatch", NULL, 0, &cars[i].stats, &err)) exit(1);
    }
    RaceRules rules = {0, 600 * CR_TICK_RATE, 0, NULL, NULL, NULL, NULL, NULL};
    RaceRoom *room;
    if (race_create(st, cars, 2, &rules, &room, &err)) exit(1);
    for (int t = 0; t < 400; t++) {
        for (int c = 0; c < 2; c++) {
            SensorRecord s;
            CarInput in;
            race_sensors(room, c, &s);
            ai_drive(&s, 0.8, &in);
            race_set_input(room, c, &in);
        }
        race_step(room, &err);
    }
    SensorRecord rec;
    race_sensors(room, 0, &rec);

    BotBuf b;
    bot_buf_init(&b);
    bot_buf_begin(&b, ZY_SPAWN, 0, 1);
    bot_buf_u32(&b, 50);
    bot_buf_u32(&b, 600);
    frame_seed("zy_spawn", &b);
    bot_buf_begin(&b, ZY_SPAWNED, 0, 1);
    bot_buf_u32(&b, 4242);
    frame_seed("zy_spawned", &b);
    bot_buf_begin(&b, ZY_FAILED, 0, 2);
    str(&b, "fork: Resource temporarily unavailable");
    frame_seed("zy_failed", &b);

    bot_buf_begin(&b, BOT_INIT, 0, 1);
    bot_buf_u32(&b, 1000000);
    bot_buf_u32(&b, 10000);
    bot_buf_u64(&b, 7);
    bot_buf_u32(&b, 65536);
    bot_buf_u32(&b, BOT_MEMORY_MAX);
    bot_buf_u8(&b, 0);
    bot_buf_u8(&b, SENSOR_RAYS);
    for (int i = 0; i < SENSOR_RAYS; i++) bot_buf_f32(&b, SENSOR_RAY_ANGLES[i]);
    bot_buf_u8(&b, SENSOR_PACE_NOTES);
    for (int i = 0; i < SENSOR_PACE_NOTES; i++) bot_buf_f32(&b, SENSOR_PACE_AHEAD[i]);
    str(&b, "checkpoint_follower");
    bot_buf_str(&b, src, src_len);
    str(&b, "{\"laps\": 3, \"best\": [1.5, 2.25]}");
    const CarStats *k = &cars[0].stats; /* for coderally.predict() */
    bot_buf_u8(&b, 1);
    bot_buf_f64(&b, k->top_speed);
    bot_buf_f64(&b, k->acceleration);
    bot_buf_f64(&b, k->grip);
    bot_buf_f64(&b, k->braking);
    bot_buf_u32(&b, (uint32_t)k->nitro_capacity);
    bot_buf_u32(&b, (uint32_t)k->nitro_duration);
    bot_buf_f64(&b, k->handling);
    bot_buf_f64(&b, k->weight);
    const SurfaceTable *t = surface_table_default(); /* the stage's surfaces */
    bot_buf_u8(&b, (uint8_t)t->count);
    for (int i = 0; i < t->count; i++) {
        str(&b, t->s[i].name);
        bot_buf_f64(&b, t->s[i].grip);
        bot_buf_f64(&b, t->s[i].drag);
        bot_buf_f64(&b, t->s[i].top_speed);
    }
    bot_buf_u8(&b, (uint8_t)t->verge);
    frame_seed("bot_init", &b);

    bot_buf_begin(&b, BOT_INIT_REPLY, 0, 1);
    bot_buf_u8(&b, BOT_STATUS_COMPILE);
    str(&b, "3: name 'os' is not allowed\n7: import is not allowed\n");
    str(&b, "hello from __init__\n");
    frame_seed("bot_init_reply", &b);

    BotWireEvent evs[2] = {{400, BOT_EVENT_CHECKPOINT, 0, 6.65},
                           {400, BOT_EVENT_COLLISION, -1, 812.5}};
    bot_buf_begin(&b, BOT_TICK, 0, 2);
    bot_buf_u32(&b, rec.tick);
    bot_buf_u16(&b, 2);
    for (int i = 0; i < 2; i++) bot_buf_event(&b, &evs[i]);
    bot_buf_u32(&b, sizeof rec);
    bot_buf_bytes(&b, &rec, sizeof rec);
    frame_seed("bot_tick", &b);
    add(&g_session, b.data, b.len);

    bot_buf_begin(&b, BOT_ACTIONS, 0, 2);
    bot_buf_u8(&b, BOT_STATUS_OK);
    bot_buf_u32(&b, 85);
    bot_buf_f32(&b, 1.0f);
    bot_buf_f32(&b, 0.0f);
    bot_buf_f32(&b, -0.25f);
    bot_buf_u8(&b, 1);
    str(&b, "");
    str(&b, "[tick 400] speed 31.2\n");
    bot_buf_u16(&b, 2);
    bot_buf_u8(&b, BOT_DRAW_LINE);
    bot_buf_u32(&b, 0xff0000);
    for (int i = 0; i < 4; i++) bot_buf_f32(&b, 10.0f * (float)i);
    str(&b, "");
    bot_buf_u8(&b, BOT_DRAW_TEXT);
    bot_buf_u32(&b, 0x00ff00);
    for (int i = 0; i < 4; i++) bot_buf_f32(&b, 5.0f);
    str(&b, "apex");
    frame_seed("bot_actions", &b);

    bot_buf_begin(&b, BOT_ACTIONS, BOT_FLAG_RESTART, 3);
    bot_buf_u8(&b, BOT_STATUS_ERROR);
    bot_buf_u32(&b, 10020);
    for (int i = 0; i < 3; i++) bot_buf_f32(&b, 0);
    bot_buf_u8(&b, 0);
    str(&b, "ran out of memory (limit 50 MB); the worker is replaced and its state lost");
    str(&b, "");
    bot_buf_u16(&b, 0);
    frame_seed("bot_actions_oom", &b);

    BotWireEvent fin = {2400, BOT_EVENT_FINISH, 1, 40.2};
    bot_buf_begin(&b, BOT_FINISH, 0, 4);
    bot_buf_u16(&b, 1);
    bot_buf_event(&b, &fin);
    frame_seed("bot_finish", &b);

    bot_buf_begin(&b, BOT_FINISH_REPLY, 0, 4);
    bot_buf_u8(&b, BOT_STATUS_OK);
    str(&b, "{\"laps\": 4}");
    str(&b, "");
    str(&b, "bye\n");
    frame_seed("bot_finish_reply", &b);

    bot_buf_begin(&b, BOT_FATAL, BOT_FLAG_RESTART, 0);
    str(&b, "CPU hard limit: the bot did not stop at its budget");
    frame_seed("bot_fatal", &b);
    put("fuzz_worker", "session", g_session.p, g_session.n);

    /* Check-only: the worker compiles the source against the policy. */
    static const char *const checks[2] = {
        "import os\nclass Bot:\n    def on_tick(self, s):\n        return {'throttle': 1.0}\n",
        "class Bot:\n    def on_tick(self, s):\n        return {'steer': s['rays'][0] / 150}\n"};
    for (int i = 0; i < 2; i++) {
        bot_buf_begin(&b, BOT_INIT, 0, 1);
        bot_buf_u32(&b, 300000);
        bot_buf_u32(&b, 10000);
        bot_buf_u64(&b, 1);
        bot_buf_u32(&b, 4096);
        bot_buf_u32(&b, BOT_MEMORY_MAX);
        bot_buf_u8(&b, 1);
        bot_buf_u8(&b, 0);
        bot_buf_u8(&b, 0);
        str(&b, "check");
        str(&b, checks[i]);
        str(&b, "");
        if (bot_buf_end(&b)) exit(1);
        put("fuzz_worker", i ? "check_ok" : "check_import", b.data, b.len);
    }
    free(g_session.p);
    bot_buf_fini(&b);
    race_destroy(room);
    stage_destroy(st);
}

/* ---- on_tick return values in fuzz_marshal's grammar -------------------- */

/* Tags of fuzz_marshal.c's build(). */
enum {
    T_NONE,
    T_TRUE,
    T_FALSE,
    T_I64,
    T_F64,
    T_NEAR,
    T_I8,
    T_BIG,
    T_WORD,
    T_STR,
    T_BYTES,
    T_LIST,
    T_TUPLE,
    T_DICT
};
/* Word indices of its WORDS[]. */
enum {
    W_THROTTLE,
    W_BRAKE,
    W_STEER,
    W_DEBUG,
    W_NITRO,
    W_HANDBRAKE,
    W_ACCELERATE,
    W_TURN_LEFT,
    W_TURN_RIGHT,
    W_LINE,
    W_CIRCLE,
    W_TEXT
};

static void marshal_seeds(void) {
    double half = 0.5, minus = -0.3;
    unsigned char a[64] = {T_DICT, 3, T_WORD, W_THROTTLE, T_F64}, *p = a + 5;
    memcpy(p, &half, 8), p += 8;
    *p++ = T_WORD, *p++ = W_STEER, *p++ = T_F64;
    memcpy(p, &minus, 8), p += 8;
    *p++ = T_WORD, *p++ = W_NITRO, *p++ = T_TRUE;
    put("fuzz_marshal", "throttle_steer_nitro", a, (size_t)(p - a));

    static const unsigned char switches[] = {
        T_DICT, 4,      T_WORD,  W_ACCELERATE, T_TRUE, T_WORD,      W_TURN_LEFT,
        T_TRUE, T_WORD, W_BRAKE, T_FALSE,      T_WORD, W_HANDBRAKE, T_FALSE};
    put("fuzz_marshal", "switches", switches, sizeof switches);

    /* {"throttle": 1, "debug": [("line", 0, 0, 10, 10), ("circle", 5, 5, 2, 255),
     *  ("text", 1, 2, "hi")]} */
    static const unsigned char debug[] = {
        T_DICT, 2,        T_WORD, W_THROTTLE, T_I8, 1, T_WORD, W_DEBUG, T_LIST, 3,   T_TUPLE, 5,
        T_WORD, W_LINE,   T_I8,   0,          T_I8, 0, T_I8,   10,      T_I8,   10,  T_TUPLE, 5,
        T_WORD, W_CIRCLE, T_I8,   5,          T_I8, 5, T_I8,   2,       T_I8,   127, T_TUPLE, 4,
        T_WORD, W_TEXT,   T_I8,   1,          T_I8, 2, T_STR,  2,       'h',    'i'};
    put("fuzz_marshal", "debug", debug, sizeof debug);

    /* {"\ud800": 1.0}: a key that does not encode as UTF-8. */
    static const unsigned char surrogate[] = {T_DICT, 1, T_STR, 1, 0xf0, T_NEAR, 2};
    put("fuzz_marshal", "surrogate_key", surrogate, sizeof surrogate);
    static const unsigned char none[] = {T_NONE};
    put("fuzz_marshal", "none", none, sizeof none);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: fuzz_seeds SCRIPTS_DIR TEMPLATE.py OUT_DIR\n");
        return 2;
    }
    g_out = argv[3];
    Scripts *sc;
    CrError err;
    if (scripts_open(argv[1], NULL, 0, &sc, &err)) {
        fprintf(stderr, "fuzz_seeds: %s\n", err.msg);
        return 1;
    }
    static const char *const gens[] = {"forest", "coast", "mountain"};
    for (int g = 0; g < 3; g++) {
        for (uint64_t seed = 1; seed <= 2; seed++) stage_seed(sc, gens[g], seed);
    }
    frames(sc, argv[2]);
    marshal_seeds();
    scripts_close(sc);
    return 0;
}
