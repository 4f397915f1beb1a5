/* test_race.c - the race room: checkpoints in order, finish, DNF, rules
 * hooks, determinism, sensors with fog of war, snapshots, replays. */
#include <unistd.h>

#include "fixtures.h"
#include "sim/race_internal.h"
#include "sim/replay.h"
#include "stage/stage_internal.h"
#include "test.h"

static RaceRoom *make_race(const Stage *st, int n, const RaceRules *rules) {
    CarEntry cars[CR_MAX_CARS];
    memset(cars, 0, sizeof cars);
    for (int i = 0; i < n; i++) {
        cars[i].stats = fixture_stats();
        cars[i].kind = CAR_AI;
        snprintf(cars[i].name, sizeof cars[i].name, "car %d", i);
    }
    RaceRoom *r;
    CrError err;
    RaceRules def = fixture_rules();
    if (race_create(st, cars, n, rules ? rules : &def, &r, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        abort();
    }
    return r;
}

/* Moves car i to (x, y) heading along +x at speed v (test-only surgery). */
static void place(RaceRoom *r, int i, double x, double y, double v) {
    CarBody *b = &r->cars[i].body;
    b->x = x, b->y = y, b->vx = v, b->vy = 0, b->heading = 0, b->hc = 1, b->hs = 0;
}

static int count_events(const RaceRoom *r, EventType type, int car) {
    size_t n;
    const RaceEvent *ev = race_events(r, &n);
    int k = 0;
    for (size_t i = 0; i < n; i++) k += ev[i].type == (int)type && (car < 0 || ev[i].car == car);
    return k;
}

/* Steps until the car's x passes `x` (or the tick budget runs out). */
static int drive_to(RaceRoom *r, int car, double x, int *cp_events) {
    CrError err;
    CarInput gas = {1, 0, 0, false, false};
    race_set_input(r, car, &gas);
    for (int t = 0; t < 3000 && r->cars[car].body.x < x; t++) {
        if (race_step(r, &err)) return -1;
        if (cp_events) *cp_events += count_events(r, EVENT_CHECKPOINT, car);
    }
    return 0;
}

TEST(checkpoints_count_in_order_and_a_missed_one_blocks_the_rest) {
    /* Straight 600 u, road 12 wide, checkpoints at 150, 300, 450 u. */
    Stage *st = fixture_stage(600, 0, 0, 0, 12, SURFACE_ASPHALT, 150);
    ASSERT_EQ_INT(stage_checkpoint_count(st), 3);
    RaceRoom *r = make_race(st, 1, NULL);
    /* Past checkpoint 1 on the verge (y = 8.5: off the 6 u half-width road,
     * inside the 5 u verge), then back on the road through checkpoint 2. */
    place(r, 0, 120, 8.5, 20);
    int cps = 0;
    ASSERT_EQ_INT(drive_to(r, 0, 200, &cps), 0);
    ASSERT_EQ_INT(cps, 0);
    place(r, 0, 280, 0, 20);
    ASSERT_EQ_INT(drive_to(r, 0, 320, &cps), 0);
    ASSERT_EQ_INT(cps, 0); /* 2 does not count before 1 */
    ASSERT_EQ_INT(r->cars[0].next_cp, 0);
    /* Across the finish without the checkpoints: not finished. */
    place(r, 0, 580, 0, 20);
    ASSERT_EQ_INT(drive_to(r, 0, 599, &cps), 0);
    ASSERT_TRUE(!r->cars[0].finished);
    /* Going back through checkpoint 1 properly counts it; then 2, 3 and the
     * finish follow in order. */
    place(r, 0, 140, 0, 20);
    ASSERT_EQ_INT(drive_to(r, 0, 160, &cps), 0);
    ASSERT_EQ_INT(cps, 1);
    ASSERT_EQ_INT(drive_to(r, 0, 600, &cps), 0);
    ASSERT_EQ_INT(cps, 3);
    ASSERT_TRUE(r->cars[0].finished);
    RaceResult res[1];
    race_results(r, res);
    ASSERT_TRUE(res[0].finished);
    ASSERT_EQ_INT(res[0].checkpoints, 3);
    ASSERT_EQ_INT(race_phase(r), PHASE_FINISHED);
    race_destroy(r);
    stage_destroy(st);
}

TEST(finish_time_is_interpolated_within_the_tick) {
    Stage *st = fixture_stage(300, 0, 0, 0, 12, SURFACE_ASPHALT, 100);
    RaceRoom *r = make_race(st, 1, NULL);
    r->cars[0].next_cp = (int)stage_checkpoint_count(st); /* only the finish left */
    place(r, 0, 290, 0, 30);
    CarInput coast = {0, 0, 0, false, false};
    race_set_input(r, 0, &coast);
    CrError err;
    while (!r->cars[0].finished) ASSERT_EQ_INT(race_step(r, &err), CR_OK);
    /* The crossing happened inside the last tick, not at its end. */
    double end = (double)r->tick / CR_TICK_RATE;
    ASSERT_LT(r->cars[0].finish_time, end);
    ASSERT_LT(end - 1.0 / CR_TICK_RATE, r->cars[0].finish_time);
    race_destroy(r);
    stage_destroy(st);
}

TEST(time_limit_and_stall_give_dnf) {
    Stage *st = fixture_stage(600, 0, 0, 0, 12, SURFACE_ASPHALT, 150);
    RaceRules rules = fixture_rules();
    rules.time_limit_ticks = 120;
    rules.stall_limit_ticks = 60;
    RaceRoom *r = make_race(st, 2, &rules);
    CarInput gas = {1, 0, 0, false, false};
    race_set_input(r, 0, &gas); /* car 1 sits still: stalls */
    CrError err;
    int stalled = -1;
    while (race_phase(r) != PHASE_FINISHED) {
        ASSERT_EQ_INT(race_step(r, &err), CR_OK);
        if (count_events(r, EVENT_DNF, 1)) stalled = (int)r->tick;
    }
    ASSERT_EQ_INT(stalled, 60);
    ASSERT_EQ_INT(r->cars[1].dnf_reason, DNF_STALLED);
    ASSERT_EQ_INT(r->cars[0].dnf_reason, DNF_TIME_LIMIT);
    ASSERT_EQ_INT(r->tick, 120);
    RaceResult res[2];
    race_results(r, res);
    ASSERT_EQ_INT(res[0].car, 0); /* further along ranks first */
    race_destroy(r);
    stage_destroy(st);
}

static double penalty_hook(void *ud, const RuleEvent *ev) {
    (void)ud;
    return ev->checkpoint == 0 ? 2.5 : 0;
}
static double failing_hook(void *ud, const RuleEvent *ev) {
    (void)ud, (void)ev;
    return -1;
}
static const char *hook_error(void *ud) {
    (void)ud;
    return "boom at rules.lua:7";
}

TEST(rules_hooks_add_penalties_and_failures_stop_the_race) {
    Stage *st = fixture_stage(400, 0, 0, 0, 12, SURFACE_ASPHALT, 150);
    RaceRules rules = fixture_rules();
    rules.on_checkpoint = penalty_hook;
    RaceRoom *r = make_race(st, 1, &rules);
    ASSERT_EQ_INT(drive_to(r, 0, 401, NULL), 0);
    ASSERT_TRUE(r->cars[0].finished);
    RaceResult res[1];
    race_results(r, res);
    ASSERT_NEAR(res[0].penalty_s, 2.5, 1e-12);
    ASSERT_NEAR(res[0].time_s, r->cars[0].finish_time + 2.5, 1e-12);
    /* The snapshot (game_state's times) says the same, in floats. */
    RaceSnapshot snap;
    race_snapshot(r, &snap);
    ASSERT_NEAR(snap.cars[0].time_s, res[0].time_s, 1e-4);
    ASSERT_NEAR(snap.cars[0].penalty_s, 2.5, 1e-6);
    race_destroy(r);

    rules.on_checkpoint = failing_hook;
    rules.last_error = hook_error;
    r = make_race(st, 1, &rules);
    CrError err = {{0}};
    CarInput gas = {1, 0, 0, false, false};
    race_set_input(r, 0, &gas);
    int rc = CR_OK;
    for (int t = 0; t < 3000 && rc == CR_OK; t++) rc = race_step(r, &err);
    ASSERT_EQ_INT(rc, CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "boom at rules.lua:7");
    ASSERT_EQ_INT(race_phase(r), PHASE_FINISHED);
    race_destroy(r);
    stage_destroy(st);
}

/* Two identical races driven by the AI end in identical states; changing
 * one input changes the hash. */
static uint64_t run_ai_race(const Stage *st, int perturb_tick, uint64_t *mid) {
    RaceRules rules = fixture_rules();
    rules.countdown_ticks = 30;
    RaceRoom *r = make_race(st, 6, &rules);
    CrError err;
    while (race_phase(r) != PHASE_FINISHED && r->tick < 6000) {
        if (r->tick % CR_BOT_TICK_EVERY == 0) {
            for (int i = 0; i < 6; i++) {
                SensorRecord s;
                CarInput in;
                race_sensors(r, i, &s);
                ai_drive(&s, 0.9 + 0.02 * i, &in);
                if ((int)r->tick == perturb_tick && i == 2) in.steer += 0.1f;
                race_set_input(r, i, &in);
            }
        }
        race_step(r, &err);
        if (r->tick == 600) *mid = race_hash(r);
    }
    uint64_t h = race_hash(r);
    race_destroy(r);
    return h;
}

TEST(same_inputs_same_hash) {
    Stage *st = fixture_stage(300, 2.0, 300, 400, 10, SURFACE_GRAVEL, 200);
    uint64_t m1, m2, m3;
    uint64_t a = run_ai_race(st, -1, &m1), b = run_ai_race(st, -1, &m2);
    ASSERT_EQ_U64(a, b);
    ASSERT_EQ_U64(m1, m2);
    uint64_t c = run_ai_race(st, 300, &m3);
    ASSERT_TRUE(c != a);
    ASSERT_TRUE(m3 != m1);
    stage_destroy(st);
}

TEST(countdown_ignores_nothing_but_moves_nothing) {
    Stage *st = fixture_stage(400, 0, 0, 0, 12, SURFACE_ASPHALT, 150);
    RaceRules rules = fixture_rules();
    rules.countdown_ticks = 180;
    RaceRoom *r = make_race(st, 2, &rules);
    CarInput gas = {1, 0, 0, false, false};
    race_set_input(r, 0, &gas);
    double x0 = r->cars[0].body.x;
    CrError err;
    for (int t = 0; t < 179; t++) race_step(r, &err);
    ASSERT_EQ_INT(race_phase(r), PHASE_COUNTDOWN);
    ASSERT_NEAR(r->cars[0].body.x, x0, 0);
    race_step(r, &err);
    ASSERT_EQ_INT(race_phase(r), PHASE_RUNNING);
    ASSERT_EQ_INT(count_events(r, EVENT_START, -1), 1);
    race_step(r, &err);
    ASSERT_LT(x0, r->cars[0].body.x);
    RaceSnapshot snap;
    race_snapshot(r, &snap);
    ASSERT_NEAR(snap.time_s, 1.0 / CR_TICK_RATE, 1e-6);
    ASSERT_EQ_INT(snap.n_cars, 2);
    /* No time before the finish, no penalty without a hook giving one. */
    ASSERT_NEAR(snap.cars[0].time_s, 0, 0);
    ASSERT_NEAR(snap.cars[0].penalty_s, 0, 0);
    race_destroy(r);
    stage_destroy(st);
}

TEST(cars_collide_on_the_grid_road) {
    Stage *st = fixture_stage(600, 0, 0, 0, 14, SURFACE_ASPHALT, 150);
    RaceRoom *r = make_race(st, 2, NULL);
    place(r, 0, 100, 0, 25);
    place(r, 1, 110, 0, 0);
    CarInput none = {0, 0, 0, false, false};
    race_set_input(r, 0, &none);
    race_set_input(r, 1, &none);
    CrError err;
    int hits = 0;
    for (int t = 0; t < 60; t++) {
        race_step(r, &err);
        hits += count_events(r, EVENT_COLLISION, 0);
    }
    ASSERT_EQ_INT(hits, 1); /* one contact, one event */
    ASSERT_LT(r->cars[0].body.vx, r->cars[1].body.vx);
    race_destroy(r);
    stage_destroy(st);
}

TEST(sensors_see_ahead_not_behind) {
    Stage *st = fixture_stage(150, 1.0, 200, 300, 12, SURFACE_ASPHALT, 150);
    RaceRoom *r = make_race(st, 3, NULL);
    place(r, 0, 100, 0, 10);
    place(r, 1, 140, 2, 10); /* 40 u ahead, slightly left: visible */
    place(r, 2, 70, 0, 10);  /* 30 u behind: outside the cone */
    /* Track segments for the placed cars. */
    for (int i = 0; i < 3; i++)
        r->cars[i].seg = stage_track_segment(st, -1, r->cars[i].body.x, r->cars[i].body.y);
    r->cars[0].progress = 100;
    SensorRecord s;
    ASSERT_EQ_INT(race_sensors(r, 0, &s), CR_OK);
    ASSERT_EQ_INT(s.n_opponents, 1);
    ASSERT_NEAR(s.opponents[0].forward, 40, 1e-3);
    ASSERT_NEAR(s.opponents[0].left, 2, 1e-3);
    ASSERT_NEAR(s.opponents[0].bearing, atan2(2, 40), 1e-5);
    /* Rays: 6 u to either side, long ahead. */
    ASSERT_NEAR(s.rays[0], 6, 0.1);
    ASSERT_NEAR(s.rays[SENSOR_RAYS - 1], 6, 0.1);
    ASSERT_LT(60, s.rays[SENSOR_RAYS / 2]);
    /* The next gate is checkpoint 0, ahead; the road bends left ahead. */
    ASSERT_EQ_INT(s.checkpoints[0].index, 0);
    ASSERT_LT(0, s.checkpoints[0].forward);
    ASSERT_LT(0, s.pace[SENSOR_PACE_NOTES - 1].curvature);
    ASSERT_NEAR(s.pace[0].ahead, 10, 1e-4);
    ASSERT_EQ_INT(s.checkpoints_total, (int)stage_checkpoint_count(st));
    ASSERT_EQ_INT(race_sensors(r, 3, &s), CR_EINVAL);
    ASSERT_EQ_INT(race_sensors(r, -1, &s), CR_EINVAL);
    race_destroy(r);
    stage_destroy(st);
}

TEST(bad_arguments_are_refused) {
    Stage *st = fixture_stage(400, 0, 0, 0, 12, SURFACE_ASPHALT, 150);
    CarEntry cars[CR_MAX_CARS + 1];
    memset(cars, 0, sizeof cars);
    for (int i = 0; i <= CR_MAX_CARS; i++) cars[i].stats = fixture_stats();
    RaceRules rules = fixture_rules();
    RaceRoom *r;
    CrError err;
    ASSERT_EQ_INT(race_create(st, cars, 0, &rules, &r, &err), CR_EINVAL);
    ASSERT_EQ_INT(race_create(st, cars, CR_MAX_CARS + 1, &rules, &r, &err), CR_EINVAL);
    cars[3].stats.top_speed = -1;
    ASSERT_EQ_INT(race_create(st, cars, 4, &rules, &r, &err), CR_EINVAL);
    ASSERT_CONTAINS(err.msg, "top_speed");
    cars[3].stats = fixture_stats();
    ASSERT_EQ_INT(race_create(st, cars, 4, &rules, &r, &err), CR_OK);
    CarInput in = {0};
    ASSERT_EQ_INT(race_set_input(r, 4, &in), CR_EINVAL);
    ASSERT_EQ_INT(race_set_input(r, -1, &in), CR_EINVAL);
    ASSERT_EQ_INT(race_retire(r, 9), CR_EINVAL);
    ASSERT_EQ_INT(race_retire(r, 1), CR_OK);
    ASSERT_TRUE(r->cars[1].dnf);
    race_destroy(r);
    race_destroy(NULL);
    stage_destroy(st);
}

TEST(replay_round_trip_and_damage) {
    Stage *st = fixture_stage(400, 0, 0, 0, 12, SURFACE_ASPHALT, 150);
    ReplayHeader h;
    memset(&h, 0, sizeof h);
    strcpy(h.generator, "forest");
    strcpy(h.generator_version, "1");
    h.seed = 99;
    h.n_params = 1;
    strcpy(h.param_key[0], "corners");
    strcpy(h.param_value[0], "12");
    strcpy(h.rules, "standard");
    h.rules_hash = 5;
    h.stage_hash = stage_hash(st);
    h.n_cars = 2;
    for (int i = 0; i < 2; i++) {
        h.cars[i].stats = fixture_stats();
        h.cars[i].kind = i ? CAR_BOT : CAR_AI;
        snprintf(h.cars[i].name, sizeof h.cars[i].name, "c%d", i);
        strcpy(h.cars[i].car_type, "hatch");
    }
    char path[64];
    snprintf(path, sizeof path, "test_replay_%d.bin", (int)getpid());
    ReplayWriter *w;
    CrError err;
    ASSERT_EQ_INT(replay_writer_open(path, &h, &w, &err), CR_OK);
    PackedInput a = {255, 0, -127, 1}, b = {10, 20, 30, 2};
    replay_writer_input(w, 0, 0, a);
    replay_writer_input(w, 1, 0, a); /* unchanged: not written */
    replay_writer_input(w, 3, 1, b);
    ReplayDrawing dr[2] = {{0, 0x00ff00, 1, 2, 3, 4, ""}, {2, 0xffffff, 5, 6, 0, 0, "apex"}};
    ASSERT_EQ_INT(replay_writer_drawings(w, 3, 1, dr, 2), CR_OK);
    ASSERT_EQ_INT(replay_writer_drawings(w, 3, 1, dr, REPLAY_MAX_DRAWINGS + 1), CR_EINVAL);
    replay_writer_hash(w, 60, 0x1234);
    ASSERT_EQ_INT(replay_writer_close(w, 61, 0xabcd, &err), CR_OK);
    Replay *rp;
    int rc = replay_read(path, &rp, &err);
    if (rc) fprintf(stderr, "  %s\n", err.msg);
    ASSERT_EQ_INT(rc, CR_OK);
    ASSERT_EQ_INT(rp->n_inputs, 2);
    ASSERT_EQ_INT(rp->inputs[1].tick, 3);
    ASSERT_EQ_INT(rp->inputs[1].input.steer, 30);
    ASSERT_EQ_INT(rp->n_hashes, 1);
    ASSERT_EQ_U64(rp->hashes[0].hash, 0x1234);
    ASSERT_EQ_U64(rp->final_hash, 0xabcd);
    ASSERT_EQ_INT(rp->header.seed, 99);
    ASSERT_TRUE(!strcmp(rp->header.param_value[0], "12"));
    ASSERT_EQ_INT(rp->header.cars[1].kind, CAR_BOT);
    ASSERT_EQ_INT(rp->n_draw_sets, 1);
    ASSERT_EQ_INT(rp->draw_sets[0].car, 1);
    ASSERT_EQ_INT(rp->draw_sets[0].n, 2);
    ASSERT_NEAR(rp->drawings[0].d, 4, 0);
    ASSERT_TRUE(!strcmp(rp->drawings[1].text, "apex"));
    ASSERT_EQ_INT(rp->drawings[1].rgb, 0xffffff);
    replay_free(rp);
    /* Truncate it: the reader says where. */
    FILE *f = fopen(path, "r+b");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    ASSERT_EQ_INT(truncate(path, size - 5), 0);
    ASSERT_EQ_INT(replay_read(path, &rp, &err), CR_EFORMAT);
    ASSERT_CONTAINS(err.msg, "byte");
    /* Not a replay at all. */
    f = fopen(path, "wb");
    fputs("hello", f);
    fclose(f);
    ASSERT_EQ_INT(replay_read(path, &rp, &err), CR_EFORMAT);
    ASSERT_CONTAINS(err.msg, "magic");
    remove(path);
    ASSERT_EQ_INT(replay_read(path, &rp, &err), CR_ENOTFOUND);
    stage_destroy(st);
}

TEST_MAIN
