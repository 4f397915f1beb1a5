/*
 * car.c - the car model. A car is a disc for collisions and a single-track
 * model for handling: throttle and brake act along the heading, steering sets
 * a yaw rate, and the tyres cancel sideways velocity up to a grip limit that
 * falls with surface, the car's grip stat and speed. Past the limit the car
 * slides and steers less well: that is the drift.
 */
#include "sim/car.h"

#include <math.h>

#include "stage/stage_internal.h"
#include "util/dmath.h"

#define LAT_GRIP 90.0      /* u/s^2 of sideways grip at grip 1 on asphalt */
#define GRIP_FALLOFF 80.0  /* u/s at which grip has fallen to half */
#define STEER_FALLOFF 90.0 /* u/s at which yaw authority has fallen to half */
#define SLIDE_CONTROL 0.7  /* share of steering left while sliding */
#define HANDBRAKE_GRIP 0.35
#define HANDBRAKE_DECEL 5.0 /* u/s^2 */
#define NITRO_ACCEL 1.6
#define NITRO_TOP 1.3
#define REVERSE_TOP 8.0 /* u/s */
#define WALL_RESTITUTION 0.45
#define WALL_FRICTION 0.85  /* share of tangential speed kept in a wall hit */
#define CAR_RESTITUTION 1.0 /* car-car collisions are elastic */

void car_init(CarBody *car, const CarStats *stats, double x, double y, double heading) {
    *car = (CarBody){0};
    car->x = x, car->y = y, car->heading = heading;
    dm_sincos(heading, &car->hs, &car->hc);
    car->stats = *stats;
    car->nitro_charges = stats->nitro_capacity;
    car->surface = SURFACE_ASPHALT;
}

/* Quantises v in [lo, hi] to a whole number of 1/steps; NaN counts as 0.
 * Plain arithmetic rather than lroundf: this runs for every input set. */
static int quantise(float v, float lo, float hi, float steps) {
    if (!(v == v)) v = 0;
    if (v < lo) v = lo;
    if (v > hi) v = hi;
    float q = v * steps;
    return q >= 0 ? (int)(q + 0.5f) : -(int)(-q + 0.5f);
}

PackedInput input_pack(const CarInput *in) {
    PackedInput p;
    p.throttle = (uint8_t)quantise(in->throttle, 0, 1, 255);
    p.brake = (uint8_t)quantise(in->brake, 0, 1, 255);
    p.steer = (int8_t)quantise(in->steer, -1, 1, 127);
    p.flags = (uint8_t)((in->nitro ? 1 : 0) | (in->handbrake ? 2 : 0));
    return p;
}

CarInput input_unpack(PackedInput p) {
    CarInput in;
    in.throttle = p.throttle / 255.0f;
    in.brake = p.brake / 255.0f;
    in.steer = (p.steer < -127 ? -127 : p.steer) / 127.0f;
    in.nitro = p.flags & 1;
    in.handbrake = (p.flags >> 1) & 1;
    return in;
}

void car_set_input(CarBody *car, const CarInput *in) {
    car->input = input_unpack(input_pack(in));
}

static double clamp(double v, double lo, double hi) {
    return v < lo ? lo : v > hi ? hi : v;
}

/* Pushes the car out of the wall and bounces it off the wall's normal. */
static double collide_wall(CarBody *car, const Stage *st) {
    double pen = stage_edge_dist(st, car->x, car->y) - CR_VERGE + CR_CAR_RADIUS;
    if (pen <= 0) {
        car->in_wall = false;
        return 0;
    }
    double nx, ny;
    stage_gradient(st, car->x, car->y, &nx, &ny); /* outward */
    if (nx == 0 && ny == 0) return 0;
    car->x -= nx * pen;
    car->y -= ny * pen;
    double vn = car->vx * nx + car->vy * ny;
    double impulse = 0;
    if (vn > 0) {
        double tx = car->vx - vn * nx, ty = car->vy - vn * ny;
        double vn_after = -WALL_RESTITUTION * vn;
        car->vx = tx * WALL_FRICTION + vn_after * nx;
        car->vy = ty * WALL_FRICTION + vn_after * ny;
        car->angvel *= 0.5;
        impulse = car->stats.weight * (1 + WALL_RESTITUTION) * vn;
    }
    bool first = !car->in_wall;
    car->in_wall = true;
    return first ? impulse : 0;
}

double car_step(CarBody *car, const Stage *st) {
    const CarStats *k = &car->stats;
    const CarInput *in = &car->input;
    StageProbe probe;
    stage_probe(st, car->x, car->y, &probe);
    car->surface = probe.surface;
    /* The stage's own table, by index: what the stage was made with. */
    const SurfaceInfo *sf = &st->surfaces.s[probe.surface];

    /* Nitro: a press fires one charge, which burns nitro_duration ticks. */
    if (in->nitro && !car->nitro_held && car->nitro_ticks == 0 && car->nitro_charges > 0) {
        car->nitro_charges--;
        car->nitro_ticks = k->nitro_duration;
    }
    car->nitro_held = in->nitro;
    bool boost = car->nitro_ticks > 0;
    if (boost) car->nitro_ticks--;

    double c = car->hc, s = car->hs;
    double vf = car->vx * c + car->vy * s;
    double vl = -car->vx * s + car->vy * c;
    double speed = sqrt(car->vx * car->vx + car->vy * car->vy);

    /* Longitudinal. */
    double top = k->top_speed * sf->top_speed * (boost ? NITRO_TOP : 1.0);
    double accel = k->acceleration * (boost ? NITRO_ACCEL : 1.0);
    double brake_eff = k->braking * clamp(sf->grip * 1.3, 0.3, 1.0);
    double a = 0;
    if (in->throttle > 0) {
        if (vf < -0.5)
            a += in->throttle * brake_eff; /* throttle while reversing brakes */
        else if (vf < top)
            a += in->throttle * accel * (1 - vf / top);
    }
    if (in->brake > 0) {
        if (vf > 0.5)
            a -= in->brake * brake_eff;
        else if (vf > -REVERSE_TOP)
            a -= in->brake * accel * 0.5; /* at standstill the brake reverses */
    }
    if (in->handbrake) a -= (vf > 0 ? 1 : vf < 0 ? -1 : 0) * HANDBRAKE_DECEL;
    a -= vf * sf->drag;
    if (vf > top) a -= (vf - top) * 1.5; /* off the nitro or onto a slower surface */
    double vf_new = vf + a * CAR_DT;
    /* Braking stops the car; it does not throw it into reverse. */
    if (in->brake > 0 && vf > 0.5 && vf_new < 0) vf_new = 0;
    if (in->throttle > 0 && vf < -0.5 && vf_new > 0) vf_new = 0;
    vf = vf_new;

    /* Steering: a target yaw rate, reached faster with more grip. */
    double authority = clamp(speed / 6.0, 0, 1) / (1 + speed / STEER_FALLOFF);
    double target = in->steer * k->handling * authority * (vf >= 0 ? 1 : -1);
    if (car->sliding) target *= SLIDE_CONTROL;
    double response = clamp(12.0 * sf->grip * k->grip, 1.5, 14.0) * CAR_DT;
    if (in->handbrake) response = fmax(response, 10.0 * CAR_DT); /* the rear steps out */
    car->angvel += (target - car->angvel) * clamp(response, 0, 1);
    car->heading += car->angvel * CAR_DT;
    if (car->heading > M_PI) car->heading -= 2 * M_PI;
    if (car->heading < -M_PI) car->heading += 2 * M_PI;

    /* The velocity keeps its world direction while the body turns; the
     * tyres then cancel the sideways part up to the grip limit. */
    double vx = vf * c - vl * s, vy = vf * s + vl * c;
    dm_sincos(car->heading, &s, &c);
    car->hc = c, car->hs = s;
    vf = vx * c + vy * s;
    vl = -vx * s + vy * c;
    double grip = LAT_GRIP * k->grip * sf->grip * (in->handbrake ? HANDBRAKE_GRIP : 1.0) /
                  (1 + speed / GRIP_FALLOFF);
    double need = fabs(vl) / CAR_DT;
    if (need <= grip) {
        vl = 0;
        car->sliding = false;
    } else {
        vl -= (vl > 0 ? 1 : -1) * grip * CAR_DT;
        car->sliding = fabs(vl) > 0.5;
    }
    car->vx = vf * c - vl * s;
    car->vy = vf * s + vl * c;
    car->x += car->vx * CAR_DT;
    car->y += car->vy * CAR_DT;
    /* The interpolated edge distance changes by at most sqrt(2) per unit
     * moved, so a car that started this far inside cannot have reached the
     * wall: skip the second raster read (the result is the same). */
    double moved = (fabs(car->vx) + fabs(car->vy)) * CAR_DT;
    if (probe.edge_dist + 1.5 * moved < CR_VERGE - CR_CAR_RADIUS) {
        car->in_wall = false;
        return 0;
    }
    return collide_wall(car, st);
}

double car_collide(CarBody *a, CarBody *b) {
    double dx = b->x - a->x, dy = b->y - a->y;
    double d2 = dx * dx + dy * dy;
    double r = 2 * CR_CAR_RADIUS;
    if (d2 >= r * r) return 0;
    double d = sqrt(d2);
    double nx, ny;
    if (d < 1e-9) {
        nx = 1, ny = 0; /* exactly on top of each other: any axis will do */
    } else {
        nx = dx / d, ny = dy / d;
    }
    double ima = 1 / a->stats.weight, imb = 1 / b->stats.weight;
    /* Separate by inverse mass, which leaves the centre of mass in place. */
    double pen = r - d;
    a->x -= nx * pen * ima / (ima + imb);
    a->y -= ny * pen * ima / (ima + imb);
    b->x += nx * pen * imb / (ima + imb);
    b->y += ny * pen * imb / (ima + imb);
    double vrel = (b->vx - a->vx) * nx + (b->vy - a->vy) * ny;
    if (vrel >= 0) return 0;
    double j = -(1 + CAR_RESTITUTION) * vrel / (ima + imb);
    a->vx -= j * ima * nx;
    a->vy -= j * ima * ny;
    b->vx += j * imb * nx;
    b->vy += j * imb * ny;
    return j;
}
