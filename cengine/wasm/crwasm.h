/*
 * crwasm.h - the engine's face to the browser: a flat C API (numbers and
 * pointers only) over coderally.h that Emscripten exports to JavaScript, for
 * client-side prediction of the player's own car and for re-simulating
 * replays. Built natively too, so its tests run under the sanitizers.
 *
 * Memory: handles are pointers; the caller owns what a _create returns and
 * frees it with the matching _destroy. Arrays are passed as pointers into the
 * module's heap. Errors: negative CR_E* codes, message in crw_last_error().
 */
#ifndef CR_CRWASM_H
#define CR_CRWASM_H

#include <stdint.h>

#include "coderally.h"

/* Floats per car written by crw_race_snapshot, after CRW_SNAP_HEADER floats
 * (tick, phase, time_s, n_cars). Per car, in order: x, y, heading, vx, vy,
 * angular_velocity, throttle, steer, surface, flags, nitro_charges,
 * position, checkpoints, progress, nitro_ticks. */
#define CRW_SNAP_HEADER 4
#define CRW_SNAP_CAR 15
/* Doubles in a car state (crw_car_set_state, crw_car_state), in order: x,
 * y, heading, vx, vy, angular_velocity, nitro_charges, nitro_ticks,
 * nitro_held (0/1), sliding (0/1). With the car's stats and input, that is
 * everything car_step reads: game_state carries each of them. */
#define CRW_CAR_STATE 10
/* Numbers per car in crw_race_create's stats: CarStats in declaration order. */
#define CRW_STATS 8
/* Floats written by crw_race_sensors: x, y, heading, then SENSOR_RAYS ray
 * distances, then the next checkpoint's world x and y (NaN if none). */
#define CRW_SENSORS (3 + SENSOR_RAYS + 2)

/* Message of the last failed call. Never NULL. */
const char *crw_last_error(void);

/* Compiles a stage from n_points centre-line points (x, y, width, surface as
 * 4 doubles each) and n_cp checkpoint point indices. NULL on a bad stage. */
Stage *crw_stage_create(const double *points, int n_points, const uint32_t *cps, int n_cp,
                        double min_length, double max_length);
void crw_stage_destroy(Stage *stage);
/* stage_hash as 16 lowercase hex digits (static buffer, valid until the next call). */
const char *crw_stage_hash(const Stage *stage);
double crw_stage_length(const Stage *stage);

/* Creates a race of n_cars on stage with stats (CRW_STATS doubles per car)
 * and kinds (CarKind per car). The rules are those of scripts/rules/
 * standard.lua expressed as numbers: countdown, time limit and stall limit
 * in ticks, and the cutting penalty: penalty_per_s seconds for every second
 * off the road beyond allowance_s between two gates. NULL on bad input. */
RaceRoom *crw_race_create(const Stage *stage, int n_cars, const double *stats, const int *kinds,
                          int countdown_ticks, int time_limit_ticks, int stall_limit_ticks,
                          double allowance_s, double penalty_per_s);
void crw_race_destroy(RaceRoom *room);
/* Sets a car's input in the packed form (0..255, 0..255, -127..127, flags). */
int crw_race_set_input(RaceRoom *room, int car, int throttle, int brake, int steer, int flags);
/* Lets the built-in AI choose car's input from its sensors, as the server does. */
int crw_race_drive_ai(RaceRoom *room, int car, double skill);
/* Advances one tick; CR_OK or a negative code. */
int crw_race_step(RaceRoom *room);
/* Steps until the race's tick reaches tick or it finishes; returns the tick. */
uint32_t crw_race_step_to(RaceRoom *room, uint32_t tick);
uint32_t crw_race_tick(const RaceRoom *room);
int crw_race_phase(const RaceRoom *room);
/* Writes CRW_SNAP_HEADER + n_cars * CRW_SNAP_CAR floats to out. */
void crw_race_snapshot(const RaceRoom *room, float *out);
/* Writes CRW_SENSORS floats for car; negative code for a bad car. */
int crw_race_sensors(const RaceRoom *room, int car, float *out);
/* race_hash as 16 lowercase hex digits (static buffer). */
const char *crw_race_hash(const RaceRoom *room);
/* Puts car at a state the server reported (prediction's reconciliation):
 * position, velocity, heading, angular velocity and nitro charges. */
int crw_race_set_car(RaceRoom *room, int car, double x, double y, double heading, double vx,
                     double vy, double angvel, int nitro_charges);

/* ---- one car alone: prediction of the player's own car ----------------- */

/* A car outside any race: the physics the server runs for each car every
 * tick (car_step), without the race's bookkeeping (checkpoints, finish,
 * time limits), so a re-simulation can restart from any state and tick. */
typedef struct CrwCar CrwCar;

/* A car with stats (CRW_STATS doubles) at the origin; NULL on bad stats. */
CrwCar *crw_car_create(const double *stats);
void crw_car_destroy(CrwCar *car);
/* Puts car in state (CRW_CAR_STATE doubles); CR_EINVAL, changing nothing,
 * on a non-finite number or a count out of range. The input is kept. */
int crw_car_set_state(CrwCar *car, const double *state);
/* Writes car's CRW_CAR_STATE doubles to out. */
void crw_car_state(const CrwCar *car, double *out);
/* Sets the input in the packed form, as crw_race_set_input. */
int crw_car_set_input(CrwCar *car, int throttle, int brake, int steer, int flags);
/* One tick of car_step on stage. */
void crw_car_step(CrwCar *car, const Stage *stage);

#endif
