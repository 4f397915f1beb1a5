/* test_crwasm.c - the browser's lone car (crw_car_*), natively under the
 * sanitizers: restarted from the full state game_state carries, it steps
 * bit for bit as the race does; a bad state is refused and changes nothing. */
#include <math.h>
#include <string.h>

#include "fixtures.h"
#include "sim/race_internal.h"
#include "test.h"
#include "wasm/crwasm.h"

static const double STATS[CRW_STATS] = {44, 15, 1, 30, 3, 10, 2.3, 1050};

/* The packed input of tick t: throttle, then left, nitro, right with the
 * handbrake, nitro again (held across a restart), and so on. */
static PackedInput input_at(int t) {
    PackedInput p = {255, 0, 0, 0};
    if (t % 90 >= 30 && t % 90 < 50) p.steer = 127;
    if (t % 90 >= 60) p.steer = -127, p.flags = 2;
    if (t % 70 >= 40 && t % 70 < 60) p.flags |= 1;
    return p;
}

/* The race's car 0 as game_state describes it, at full precision. */
static void state_of(const RaceRoom *r, double *s) {
    const CarBody *b = &r->cars[0].body;
    double v[CRW_CAR_STATE] = {b->x,          b->y,      b->heading,       b->vx,
                               b->vy,         b->angvel, b->nitro_charges, b->nitro_ticks,
                               b->nitro_held, b->sliding};
    memcpy(s, v, sizeof v);
}

/* Runs a race to tick `from`, restarts a lone car from its state and steps
 * both to tick `to`; *at is the first tick they differ at (0: never). */
static void diverges(int from, int to, bool forget_nitro_held, int *at) {
    Stage *st = fixture_stage(800, 1.2, 150, 600, 16, SURFACE_ASPHALT, 150);
    ASSERT_TRUE(st != NULL);
    CarEntry ce = {0};
    ce.kind = CAR_HUMAN;
    const double *k = STATS;
    ce.stats = (CarStats){k[0], k[1], k[2], k[3], (int)k[4], (int)k[5], k[6], k[7]};
    RaceRules rules = fixture_rules();
    RaceRoom *r = NULL;
    CrError err;
    ASSERT_EQ_INT(race_create(st, &ce, 1, &rules, &r, &err), CR_OK);
    for (int t = 0; t < from; t++) {
        ASSERT_EQ_INT(race_set_packed_input(r, 0, input_at(t)), CR_OK);
        ASSERT_EQ_INT(race_step(r, &err), CR_OK);
    }
    CrwCar *car = crw_car_create(STATS);
    ASSERT_TRUE(car != NULL);
    double s[CRW_CAR_STATE], c[CRW_CAR_STATE];
    state_of(r, s);
    if (forget_nitro_held) s[8] = 0;
    ASSERT_EQ_INT(crw_car_set_state(car, s), CR_OK);
    *at = 0;
    for (int t = from; t < to && !*at; t++) {
        PackedInput p = input_at(t);
        ASSERT_EQ_INT(race_set_packed_input(r, 0, p), CR_OK);
        ASSERT_EQ_INT(crw_car_set_input(car, p.throttle, p.brake, p.steer, p.flags), CR_OK);
        ASSERT_EQ_INT(race_step(r, &err), CR_OK);
        crw_car_step(car, st);
        state_of(r, s);
        crw_car_state(car, c);
        if (memcmp(s, c, sizeof s)) *at = t + 1;
    }
    crw_car_destroy(car);
    race_destroy(r);
    stage_destroy(st);
}

/* Restarts mid-slide and mid-burn with nitro held: no tick differs. */
TEST(lone_car_steps_as_the_race_from_its_full_state) {
    for (int from = 1; from < 300; from += 23) {
        int at;
        diverges(from, from + 240, false, &at);
        ASSERT_EQ_INT(at, 0);
    }
}

/* The nitro-held flag is part of the state: without it a held key fires
 * another charge (held from tick 40; the 10-tick burn is over at 50). */
TEST(nitro_held_matters) {
    int at;
    diverges(50, 120, true, &at);
    ASSERT_EQ_INT(at, 51); /* the first step after the restart */
}

TEST(bad_states_are_refused_and_change_nothing) {
    CrwCar *car = crw_car_create(STATS);
    ASSERT_TRUE(car != NULL);
    double good[CRW_CAR_STATE] = {10, 20, 0.5, 3, 4, 0.25, 2, 7, 1, 0};
    ASSERT_EQ_INT(crw_car_set_state(car, good), CR_OK);
    double before[CRW_CAR_STATE], after[CRW_CAR_STATE];
    crw_car_state(car, before);
    ASSERT_TRUE(memcmp(before, good, sizeof good) == 0);
    for (int i = 0; i < CRW_CAR_STATE; i++) {
        double bad[CRW_CAR_STATE];
        memcpy(bad, good, sizeof bad);
        bad[i] = i < 6 ? NAN : -1;
        ASSERT_EQ_INT(crw_car_set_state(car, bad), CR_EINVAL);
        crw_car_state(car, after);
        ASSERT_TRUE(memcmp(before, after, sizeof after) == 0);
    }
    double inf_state[CRW_CAR_STATE];
    memcpy(inf_state, good, sizeof inf_state);
    inf_state[0] = INFINITY;
    ASSERT_EQ_INT(crw_car_set_state(car, inf_state), CR_EINVAL);
    ASSERT_CONTAINS(crw_last_error(), "finite");
    ASSERT_EQ_INT(crw_car_set_input(car, 0, 0, 128, 0), CR_EINVAL);
    ASSERT_EQ_INT(crw_car_set_input(car, 0, 0, 0, 4), CR_EINVAL);
    crw_car_destroy(car);
    double weak[CRW_STATS] = {1, 15, 1, 30, 3, 40, 2.3, 1050};
    ASSERT_TRUE(crw_car_create(weak) == NULL);
    ASSERT_CONTAINS(crw_last_error(), "top_speed");
    crw_car_destroy(NULL);
}

TEST_MAIN
