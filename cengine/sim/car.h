/*
 * car.h - one car's physical state and its per-tick update: surface grip and
 * drag, inputs, drift past the grip limit, wall collisions. Car-car
 * collisions are in car_collide. No allocation, no I/O: this is the hot path.
 */
#ifndef CR_CAR_H
#define CR_CAR_H

#include "coderally.h"

#define CAR_DT (1.0 / CR_TICK_RATE)

typedef struct {
    double x, y, vx, vy, heading, angvel;
    double hc, hs; /* cos and sin of heading, kept with it */
    Surface surface;
    bool sliding, in_wall;
    int nitro_charges, nitro_ticks; /* charges left; ticks left of the burn */
    bool nitro_held;                /* to fire one charge per press */
    CarInput input;                 /* quantised */
    CarStats stats;
} CarBody;

void car_init(CarBody *car, const CarStats *stats, double x, double y, double heading);
/* Quantises in (see CarInput) and stores it. */
void car_set_input(CarBody *car, const CarInput *in);

/* Advances one tick on stage. Returns the wall impulse (kg*u/s) if the car
 * hit a wall this tick (0 otherwise). */
double car_step(CarBody *car, const Stage *stage);

/* Elastic collision between two cars as discs of CR_CAR_RADIUS. Returns the
 * impulse magnitude (0 if they do not touch or are separating). */
double car_collide(CarBody *a, CarBody *b);

#endif
