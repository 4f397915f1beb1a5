/* crwasm.c - the flat API of crwasm.h over the engine. The rule hooks mirror
 * scripts/rules/standard.lua in C, since the browser has no Lua. */
#include "wasm/crwasm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/race_internal.h"
#include "util/dmath.h"

static CrError last_err;
static char hex_buf[17];

/* The cutting rule, one instance per room (rooms outlive no rules). */
typedef struct {
    RaceRoom *room;
    double allowance_s, penalty_per_s;
} CutRule;

#define CRW_MAX_ROOMS 64
static CutRule cut_rules[CRW_MAX_ROOMS];

const char *crw_last_error(void) {
    return last_err.msg;
}

static void set_error(const char *msg) {
    snprintf(last_err.msg, sizeof last_err.msg, "%s", msg);
}

static const char *to_hex(uint64_t v) {
    snprintf(hex_buf, sizeof hex_buf, "%016llx", (unsigned long long)v);
    return hex_buf;
}

Stage *crw_stage_create(const double *points, int n_points, const uint32_t *cps, int n_cp,
                        double min_length, double max_length) {
    Stage *st = NULL;
    StagePoint *pts = NULL;
    if (n_points < 2 || n_points > 100000 || n_cp < 0 || n_cp > n_points || !points ||
        (n_cp > 0 && !cps)) {
        set_error("stage: bad point or checkpoint count");
        return NULL;
    }
    pts = malloc(sizeof *pts * (size_t)n_points);
    if (!pts) {
        set_error("stage: out of memory");
        return NULL;
    }
    for (int i = 0; i < n_points; i++) {
        const double *p = points + 4 * i;
        int s = (int)p[3];
        if (!(p[3] >= 0 && p[3] < SURFACE_OFFROAD) || (double)s != p[3]) {
            snprintf(last_err.msg, sizeof last_err.msg, "stage: point %d has no road surface", i);
            goto out;
        }
        pts[i] = (StagePoint){p[0], p[1], p[2], (Surface)s};
    }
    StageDesc desc = {pts, (size_t)n_points, cps, (size_t)n_cp, NULL};
    StageLimits lim = {min_length, max_length};
    if (stage_compile(&desc, &lim, &st, &last_err)) st = NULL;
out:
    free(pts);
    return st;
}

void crw_stage_destroy(Stage *stage) {
    stage_destroy(stage);
}

const char *crw_stage_hash(const Stage *stage) {
    return to_hex(stage_hash(stage));
}

double crw_stage_length(const Stage *stage) {
    return stage_length(stage);
}

/* Same arithmetic as standard.lua's on_checkpoint and on_finish. */
static double cut_penalty(void *ud, const RuleEvent *ev) {
    const CutRule *r = ud;
    double over = ev->offtrack_s - r->allowance_s;
    if (over > 0) return over * r->penalty_per_s;
    return 0;
}

static const char *no_error(void *ud) {
    (void)ud;
    return NULL;
}

RaceRoom *crw_race_create(const Stage *stage, int n_cars, const double *stats, const int *kinds,
                          int countdown_ticks, int time_limit_ticks, int stall_limit_ticks,
                          double allowance_s, double penalty_per_s) {
    if (!stage || n_cars < 1 || n_cars > CR_MAX_CARS || !stats || !kinds) {
        set_error("race: needs a stage and 1 to 16 cars");
        return NULL;
    }
    CutRule *slot = NULL;
    for (int i = 0; i < CRW_MAX_ROOMS && !slot; i++)
        if (!cut_rules[i].room) slot = &cut_rules[i];
    if (!slot) {
        set_error("race: too many rooms at once");
        return NULL;
    }
    CarEntry cars[CR_MAX_CARS];
    memset(cars, 0, sizeof cars);
    for (int i = 0; i < n_cars; i++) {
        const double *s = stats + CRW_STATS * i;
        if (kinds[i] < CAR_AI || kinds[i] > CAR_HUMAN) {
            set_error("race: bad car kind");
            return NULL;
        }
        snprintf(cars[i].name, sizeof cars[i].name, "car %d", i + 1);
        snprintf(cars[i].car_type, sizeof cars[i].car_type, "car");
        cars[i].kind = (CarKind)kinds[i];
        cars[i].stats = (CarStats){s[0], s[1], s[2], s[3], (int)s[4], (int)s[5], s[6], s[7]};
    }
    *slot = (CutRule){NULL, allowance_s, penalty_per_s};
    RaceRules rules = {
        .countdown_ticks = countdown_ticks,
        .time_limit_ticks = time_limit_ticks,
        .stall_limit_ticks = stall_limit_ticks,
        .ud = slot,
        .on_checkpoint = cut_penalty,
        .on_finish = cut_penalty,
        .last_error = no_error,
    };
    RaceRoom *room = NULL;
    if (race_create(stage, cars, n_cars, &rules, &room, &last_err)) return NULL;
    slot->room = room;
    return room;
}

void crw_race_destroy(RaceRoom *room) {
    if (!room) return;
    for (int i = 0; i < CRW_MAX_ROOMS; i++)
        if (cut_rules[i].room == room) cut_rules[i].room = NULL;
    race_destroy(room);
}

int crw_race_set_input(RaceRoom *room, int car, int throttle, int brake, int steer, int flags) {
    if (throttle < 0 || throttle > 255 || brake < 0 || brake > 255 || steer < -127 || steer > 127 ||
        flags < 0 || flags > 3) {
        set_error("input: value out of range");
        return CR_EINVAL;
    }
    PackedInput p = {(uint8_t)throttle, (uint8_t)brake, (int8_t)steer, (uint8_t)flags};
    return race_set_packed_input(room, car, p);
}

int crw_race_drive_ai(RaceRoom *room, int car, double skill) {
    SensorRecord s;
    int rc = race_sensors(room, car, &s);
    if (rc) return rc;
    CarInput in;
    ai_drive(&s, skill, &in);
    return race_set_input(room, car, &in);
}

int crw_race_step(RaceRoom *room) {
    return race_step(room, &last_err);
}

uint32_t crw_race_step_to(RaceRoom *room, uint32_t tick) {
    while (race_tick(room) < tick && race_phase(room) != PHASE_FINISHED)
        if (race_step(room, &last_err)) break;
    return race_tick(room);
}

uint32_t crw_race_tick(const RaceRoom *room) {
    return race_tick(room);
}

int crw_race_phase(const RaceRoom *room) {
    return (int)race_phase(room);
}

void crw_race_snapshot(const RaceRoom *room, float *out) {
    RaceSnapshot s;
    race_snapshot(room, &s);
    out[0] = (float)s.tick;
    out[1] = (float)s.phase;
    out[2] = s.time_s;
    out[3] = (float)s.n_cars;
    for (int i = 0; i < s.n_cars; i++) {
        const CarSnapshot *c = &s.cars[i];
        float *o = out + CRW_SNAP_HEADER + CRW_SNAP_CAR * i;
        float v[CRW_SNAP_CAR] = {c->x,
                                 c->y,
                                 c->heading,
                                 c->vx,
                                 c->vy,
                                 c->angular_velocity,
                                 c->throttle,
                                 c->steer,
                                 c->surface,
                                 c->flags,
                                 c->nitro_charges,
                                 c->position,
                                 c->checkpoints,
                                 c->progress,
                                 c->nitro_ticks};
        memcpy(o, v, sizeof v);
    }
}

int crw_race_sensors(const RaceRoom *room, int car, float *out) {
    SensorRecord s;
    int rc = race_sensors(room, car, &s);
    if (rc) return rc;
    out[0] = s.x;
    out[1] = s.y;
    out[2] = s.heading;
    for (int i = 0; i < SENSOR_RAYS; i++) out[3 + i] = s.rays[i];
    out[3 + SENSOR_RAYS] = NAN;
    out[4 + SENSOR_RAYS] = NAN;
    if (s.n_checkpoints > 0) {
        /* Back from the car frame to the world. */
        double f = s.checkpoints[0].forward, l = s.checkpoints[0].left;
        double sn, c;
        dm_sincos(s.heading, &sn, &c);
        out[3 + SENSOR_RAYS] = (float)(s.x + f * c - l * sn);
        out[4 + SENSOR_RAYS] = (float)(s.y + f * sn + l * c);
    }
    return CR_OK;
}

const char *crw_race_hash(const RaceRoom *room) {
    return to_hex(race_hash(room));
}

int crw_race_set_car(RaceRoom *room, int car, double x, double y, double heading, double vx,
                     double vy, double angvel, int nitro_charges) {
    if (car < 0 || car >= room->n || !isfinite(x) || !isfinite(y) || !isfinite(heading) ||
        !isfinite(vx) || !isfinite(vy) || !isfinite(angvel) || nitro_charges < 0) {
        set_error("set_car: bad car or state");
        return CR_EINVAL;
    }
    CarBody *b = &room->cars[car].body;
    /* car_init derives the cached heading trig the way the engine does. */
    CarInput in = b->input;
    CarStats stats = b->stats; /* car_init clears the body before copying stats */
    car_init(b, &stats, x, y, heading);
    b->input = in;
    b->vx = vx;
    b->vy = vy;
    b->angvel = angvel;
    b->nitro_charges = nitro_charges;
    return CR_OK;
}

struct CrwCar {
    CarBody body;
};

CrwCar *crw_car_create(const double *stats) {
    if (!stats) {
        set_error("car: needs stats");
        return NULL;
    }
    const double *s = stats;
    CarStats k = {s[0], s[1], s[2], s[3], (int)s[4], (int)s[5], s[6], s[7]};
    if (car_stats_validate(&k, &last_err)) return NULL;
    CrwCar *car = malloc(sizeof *car);
    if (!car) {
        set_error("car: out of memory");
        return NULL;
    }
    car_init(&car->body, &k, 0, 0, 0);
    return car;
}

void crw_car_destroy(CrwCar *car) {
    free(car);
}

int crw_car_set_state(CrwCar *car, const double *s) {
    for (int i = 0; i < CRW_CAR_STATE; i++)
        if (!isfinite(s[i])) {
            set_error("car state: numbers must be finite");
            return CR_EINVAL;
        }
    if (!(s[6] >= 0 && s[6] <= 255) || !(s[7] >= 0 && s[7] <= 65535) || (s[8] != 0 && s[8] != 1) ||
        (s[9] != 0 && s[9] != 1)) {
        set_error("car state: nitro charges, nitro ticks or a flag out of range");
        return CR_EINVAL;
    }
    CarBody *b = &car->body;
    CarInput in = b->input;
    CarStats stats = b->stats; /* car_init clears the body before copying stats */
    /* car_init derives the cached heading trig the way car_step does. */
    car_init(b, &stats, s[0], s[1], s[2]);
    b->input = in;
    b->vx = s[3];
    b->vy = s[4];
    b->angvel = s[5];
    b->nitro_charges = (int)s[6];
    b->nitro_ticks = (int)s[7];
    b->nitro_held = s[8] != 0;
    b->sliding = s[9] != 0;
    return CR_OK;
}

void crw_car_state(const CrwCar *car, double *out) {
    const CarBody *b = &car->body;
    double v[CRW_CAR_STATE] = {b->x,          b->y,      b->heading,       b->vx,
                               b->vy,         b->angvel, b->nitro_charges, b->nitro_ticks,
                               b->nitro_held, b->sliding};
    memcpy(out, v, sizeof v);
}

int crw_car_set_input(CrwCar *car, int throttle, int brake, int steer, int flags) {
    if (throttle < 0 || throttle > 255 || brake < 0 || brake > 255 || steer < -127 || steer > 127 ||
        flags < 0 || flags > 3) {
        set_error("input: value out of range");
        return CR_EINVAL;
    }
    CarInput in = input_unpack(
        (PackedInput){(uint8_t)throttle, (uint8_t)brake, (int8_t)steer, (uint8_t)flags});
    car_set_input(&car->body, &in);
    return CR_OK;
}

void crw_car_step(CrwCar *car, const Stage *stage) {
    car_step(&car->body, stage);
}
