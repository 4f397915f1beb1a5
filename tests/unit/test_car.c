/* test_car.c - the car model: elastic collisions, grip and drift by surface,
 * off-track slowdown, walls, nitro, input quantisation. */
#include "fixtures.h"
#include "sim/car.h"
#include "stage/stage_internal.h"
#include "test.h"

static double momentum_x(const CarBody *a, const CarBody *b) {
    return a->stats.weight * a->vx + b->stats.weight * b->vx;
}
static double momentum_y(const CarBody *a, const CarBody *b) {
    return a->stats.weight * a->vy + b->stats.weight * b->vy;
}
static double energy(const CarBody *a, const CarBody *b) {
    return 0.5 * a->stats.weight * (a->vx * a->vx + a->vy * a->vy) +
           0.5 * b->stats.weight * (b->vx * b->vx + b->vy * b->vy);
}

/* Car-car collisions are elastic: momentum is conserved to rounding and so
 * is kinetic energy (stated tolerance: 1e-9 relative), for unequal masses
 * and an oblique hit. */
TEST(collision_conserves_momentum_and_energy) {
    CarStats heavy = fixture_stats(), light = fixture_stats();
    heavy.weight = 1600;
    light.weight = 900;
    CarBody a, b;
    car_init(&a, &heavy, 0, 0, 0);
    car_init(&b, &light, 2.0, 0.7, 0);
    a.vx = 30, a.vy = 2;
    b.vx = -12, b.vy = 5;
    double px = momentum_x(&a, &b), py = momentum_y(&a, &b), e = energy(&a, &b);
    double j = car_collide(&a, &b);
    ASSERT_TRUE(j > 0);
    ASSERT_NEAR(momentum_x(&a, &b), px, 1e-9 * fabs(px) + 1e-9);
    ASSERT_NEAR(momentum_y(&a, &b), py, 1e-9 * fabs(py) + 1e-9);
    ASSERT_NEAR(energy(&a, &b), e, 1e-9 * e);
    /* They now separate, and are no longer overlapping. */
    double dx = b.x - a.x, dy = b.y - a.y;
    ASSERT_TRUE((b.vx - a.vx) * dx + (b.vy - a.vy) * dy >= 0);
    ASSERT_NEAR(sqrt(dx * dx + dy * dy), 2 * CR_CAR_RADIUS, 1e-9);
}

TEST(separating_cars_exchange_nothing) {
    CarStats k = fixture_stats();
    CarBody a, b;
    car_init(&a, &k, 0, 0, 0);
    car_init(&b, &k, 2.0, 0, 0);
    a.vx = -5, b.vx = 5;
    ASSERT_EQ_INT(car_collide(&a, &b) == 0, 1);
    ASSERT_NEAR(a.vx, -5, 0);
    ASSERT_NEAR(b.vx, 5, 0);
}

/* Drives a car at 30 u/s along a straight of surface s with full left steer
 * for 40 ticks; returns the largest sideways speed seen and whether it slid. */
static double corner(Surface s, bool *slid) {
    Stage *st = fixture_stage(600, 0, 0, 0, 30, s, 100);
    CarStats k = fixture_stats();
    CarBody car;
    car_init(&car, &k, 80, 0, 0);
    car.vx = 30;
    CarInput in = {0.3f, 0, 1.0f, false, false};
    car_set_input(&car, &in);
    double worst = 0;
    *slid = false;
    for (int t = 0; t < 40; t++) {
        car_step(&car, st);
        double vl = -car.vx * car.hs + car.vy * car.hc;
        if (fabs(vl) > worst) worst = fabs(vl);
        *slid = *slid || car.sliding;
    }
    stage_destroy(st);
    return worst;
}

TEST(ice_slides_where_asphalt_grips) {
    bool slid_asphalt, slid_ice, slid_gravel;
    double lat_asphalt = corner(SURFACE_ASPHALT, &slid_asphalt);
    double lat_gravel = corner(SURFACE_GRAVEL, &slid_gravel);
    double lat_ice = corner(SURFACE_ICE, &slid_ice);
    ASSERT_TRUE(!slid_asphalt);
    ASSERT_LT(lat_asphalt, 0.01);
    ASSERT_TRUE(slid_ice);
    ASSERT_LT(5.0, lat_ice);
    /* Gravel sits in between. */
    ASSERT_LT(lat_asphalt, lat_gravel);
    ASSERT_LT(lat_gravel, lat_ice);
}

TEST(more_grip_stat_slides_less) {
    Stage *st = fixture_stage(600, 0, 0, 0, 30, SURFACE_GRAVEL, 100);
    double lat[2];
    for (int g = 0; g < 2; g++) {
        CarStats k = fixture_stats();
        k.grip = g ? 1.6 : 0.8;
        CarBody car;
        car_init(&car, &k, 80, 0, 0);
        car.vx = 35;
        CarInput in = {0.3f, 0, 1.0f, false, false};
        car_set_input(&car, &in);
        lat[g] = 0;
        for (int t = 0; t < 30; t++) {
            car_step(&car, st);
            lat[g] = fmax(lat[g], fabs(-car.vx * car.hs + car.vy * car.hc));
        }
    }
    ASSERT_LT(lat[1], lat[0]);
    stage_destroy(st);
}

TEST(off_track_slows_the_car) {
    Stage *st = fixture_stage(800, 0, 0, 0, 12, SURFACE_ASPHALT, 100);
    CarStats k = fixture_stats();
    CarBody on, off;
    /* Same speed and full throttle; one on the road, one on the verge
     * (6 u half width + 3 u: inside the 5 u verge, clear of the wall). */
    car_init(&on, &k, 100, 0, 0);
    car_init(&off, &k, 100, 9.0, 0);
    on.vx = off.vx = 35;
    CarInput in = {1.0f, 0, 0, false, false};
    car_set_input(&on, &in);
    car_set_input(&off, &in);
    for (int t = 0; t < 90; t++) {
        car_step(&on, st);
        car_step(&off, st);
    }
    ASSERT_EQ_INT(off.surface, SURFACE_OFFROAD);
    ASSERT_EQ_INT(on.surface, SURFACE_ASPHALT);
    ASSERT_LT(off.vx, 0.7 * on.vx);
    stage_destroy(st);
}

TEST(wall_bounces_the_car_back) {
    Stage *st = fixture_stage(800, 0, 0, 0, 12, SURFACE_ASPHALT, 100);
    CarStats k = fixture_stats();
    CarBody car;
    car_init(&car, &k, 200, 0, M_PI / 2);
    car.vy = 25; /* straight at the left wall, 6 + 5 u away */
    double impulse = 0;
    for (int t = 0; t < 60; t++) impulse += car_step(&car, st);
    ASSERT_TRUE(impulse > 0);
    ASSERT_LT(car.vy, 0);                                  /* bounced */
    ASSERT_LT(car.y, 6 + CR_VERGE - CR_CAR_RADIUS + 0.05); /* never through */
    stage_destroy(st);
}

TEST(nitro_fires_one_charge_per_press) {
    Stage *st = fixture_stage(1500, 0, 0, 0, 20, SURFACE_ASPHALT, 100);
    CarStats k = fixture_stats();
    CarBody a, b;
    car_init(&a, &k, 70, 4, 0);
    car_init(&b, &k, 70, -4, 0);
    CarInput plain = {1, 0, 0, false, false}, boost = {1, 0, 0, true, false};
    car_set_input(&a, &plain);
    car_set_input(&b, &boost);
    for (int t = 0; t < 60; t++) {
        car_step(&a, st);
        car_step(&b, st);
    }
    ASSERT_EQ_INT(b.nitro_charges, k.nitro_capacity - 1); /* held: one charge */
    ASSERT_LT(a.vx, b.vx);
    stage_destroy(st);
}

TEST(brake_at_standstill_reverses) {
    Stage *st = fixture_stage(800, 0, 0, 0, 20, SURFACE_ASPHALT, 100);
    CarStats k = fixture_stats();
    CarBody car;
    car_init(&car, &k, 200, 0, 0);
    CarInput in = {0, 1, 0, false, false};
    car_set_input(&car, &in);
    for (int t = 0; t < 60; t++) car_step(&car, st);
    ASSERT_LT(car.vx, -1);
    ASSERT_LT(-8.5, car.vx); /* reverse is slow */
    stage_destroy(st);
}

TEST(inputs_are_quantised_and_clamped) {
    CarInput in = {NAN, 7.0f, -3.0f, true, true};
    PackedInput p = input_pack(&in);
    ASSERT_EQ_INT(p.throttle, 0);
    ASSERT_EQ_INT(p.brake, 255);
    ASSERT_EQ_INT(p.steer, -127);
    ASSERT_EQ_INT(p.flags, 3);
    CarInput half = {0.5f, 0.25f, 0.333f, false, false};
    CarInput q = input_unpack(input_pack(&half));
    ASSERT_NEAR(q.throttle, 0.5, 1.0 / 255);
    ASSERT_NEAR(q.steer, 0.333, 1.0 / 127);
    /* Quantising twice changes nothing: a replay re-applies the same bits. */
    PackedInput a = input_pack(&q), b = input_pack(&half);
    ASSERT_TRUE(memcmp(&a, &b, sizeof a) == 0);
    CarInput inf = {INFINITY, -INFINITY, INFINITY, false, false};
    PackedInput pi = input_pack(&inf);
    ASSERT_EQ_INT(pi.throttle, 255);
    ASSERT_EQ_INT(pi.brake, 0);
    ASSERT_EQ_INT(pi.steer, 127);
}

TEST(stats_outside_their_ranges_are_refused) {
    CarStats k = fixture_stats();
    CrError err;
    ASSERT_EQ_INT(car_stats_validate(&k, &err), CR_OK);
    k.grip = NAN;
    ASSERT_EQ_INT(car_stats_validate(&k, &err), CR_EINVAL);
    ASSERT_CONTAINS(err.msg, "grip");
    k = fixture_stats();
    k.weight = 0;
    ASSERT_EQ_INT(car_stats_validate(&k, &err), CR_EINVAL);
    ASSERT_CONTAINS(err.msg, "weight");
}

TEST_MAIN
