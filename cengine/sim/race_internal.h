/* race_internal.h - the race room's layout, shared by race.c and sensors.c. */
#ifndef CR_RACE_INTERNAL_H
#define CR_RACE_INTERNAL_H

#include "coderally.h"
#include "sim/car.h"

#define RACE_MAX_EVENTS (CR_MAX_CARS * 8 + 8)

typedef struct {
    CarBody body;
    CarEntry entry;
    int seg;         /* centre-line segment the car is on */
    double lateral;  /* u left of the centre line */
    double seg_t;    /* 0..1 along the segment */
    double progress; /* u along the route */
    double best_progress;
    uint32_t best_tick; /* when best_progress last grew by 1 u */
    int next_cp;        /* next gate: a checkpoint, or == ncp for the finish */
    bool finished, dnf;
    int dnf_reason;
    double finish_time, penalty, last_cp_time, offtrack_s;
    uint32_t contacts; /* bit j: touching car j last tick */
    int position;
} RaceCar;

struct RaceRoom {
    const Stage *stage;
    RaceRules rules;
    int n;
    RaceCar cars[CR_MAX_CARS];
    uint32_t tick;
    RacePhase phase;
    RaceEvent events[RACE_MAX_EVENTS];
    size_t n_events;
};

static inline bool race_car_active(const RaceCar *c) {
    return !c->finished && !c->dnf;
}

#endif
