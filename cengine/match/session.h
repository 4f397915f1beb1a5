/*
 * session.h - one race set up from scripts: the generated stage, the rules
 * loaded for it and the race room, owned together. The CLI race, replay
 * verification, the benchmark and the Lua test module all start races here
 * (through match.c, except the Lua test module, which has no bots).
 */
#ifndef CR_SESSION_H
#define CR_SESSION_H

#include "coderally.h"

typedef struct {
    Stage *stage;
    Rules *rules;
    RaceRoom *room;
    double ai_skill[CR_MAX_CARS]; /* for CAR_AI cars */
} Session;

/* Generates the stage, loads rules (NULL = the DEFAULT_RULES setting) and
 * creates the room. On failure nothing is left allocated. */
int session_start(Scripts *sc, const char *generator, uint64_t seed, const ConfigOverride *params,
                  size_t n_params, const char *rules, const CarEntry *cars, int n_cars,
                  Session *out, CrError *err);
/* Same, on an already compiled stage that the session does not own. */
int session_start_on(Scripts *sc, const Stage *stage, const char *rules, const CarEntry *cars,
                     int n_cars, Session *out, CrError *err);
void session_end(Session *s);

/* On bot ticks (every CR_BOT_TICK_EVERY), sets the input of every AI car
 * from its sensor record. Returns whether this was a bot tick. */
bool session_drive_ai(Session *s);

/* Steps until the race finishes (every car AI-driven or holding its last
 * input). CR_ESCRIPT if the rules fail. */
int session_run(Session *s, CrError *err);

/* Skill of the i-th AI driver in a race of this seed: 0.85..1. */
double session_ai_skill(uint64_t seed, int i);

#endif
