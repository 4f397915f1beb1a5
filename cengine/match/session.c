/* session.c - a race built from scripts: stage, rules, room. */
#include "match/session.h"

#include <stdio.h>
#include <string.h>

#include "util/rng.h"

double session_ai_skill(uint64_t seed, int i) {
    Rng r;
    rng_init(&r, seed * 0x9e3779b97f4a7c15ULL + (uint64_t)i + 1);
    return 0.85 + 0.15 * rng_float(&r);
}

int session_start_on(Scripts *sc, const Stage *stage, const char *rules, const CarEntry *cars,
                     int n_cars, Session *out, CrError *err) {
    memset(out, 0, sizeof *out);
    if (!rules && scripts_config_string(sc, "DEFAULT_RULES", &rules)) rules = "standard";
    int rc = rules_load(sc, rules, stage, &out->rules, err);
    if (rc) return rc;
    rules_set_cars(out->rules, cars, n_cars); /* points() sees who is who */
    rc = race_create(stage, cars, n_cars, rules_race(out->rules), &out->room, err);
    if (rc) {
        rules_destroy(out->rules);
        out->rules = NULL;
        return rc;
    }
    for (int i = 0; i < CR_MAX_CARS; i++) out->ai_skill[i] = 1.0;
    return CR_OK;
}

int session_start(Scripts *sc, const char *generator, uint64_t seed, const ConfigOverride *params,
                  size_t n_params, const char *rules, const CarEntry *cars, int n_cars,
                  Session *out, CrError *err) {
    Stage *stage;
    int rc = scripts_generate_stage(sc, generator, seed, params, n_params, &stage, err);
    if (rc) return rc;
    rc = session_start_on(sc, stage, rules, cars, n_cars, out, err);
    if (rc) {
        stage_destroy(stage);
        return rc;
    }
    out->stage = stage;
    int ai = 0;
    for (int i = 0; i < n_cars; i++)
        if (cars[i].kind == CAR_AI) out->ai_skill[i] = session_ai_skill(seed, ai++);
    return CR_OK;
}

void session_end(Session *s) {
    race_destroy(s->room);
    rules_destroy(s->rules);
    stage_destroy(s->stage);
    memset(s, 0, sizeof *s);
}

bool session_drive_ai(Session *s) {
    if (race_tick(s->room) % CR_BOT_TICK_EVERY != 0) return false;
    int n = race_car_count(s->room);
    for (int i = 0; i < n; i++) {
        if (race_car(s->room, i)->kind != CAR_AI) continue;
        SensorRecord rec;
        CarInput in;
        race_sensors(s->room, i, &rec);
        ai_drive_on(race_stage(s->room), &rec, s->ai_skill[i], &in);
        race_set_input(s->room, i, &in);
    }
    return true;
}

int session_run(Session *s, CrError *err) {
    while (race_phase(s->room) != PHASE_FINISHED) {
        session_drive_ai(s);
        int rc = race_step(s->room, err);
        if (rc) return rc;
    }
    return CR_OK;
}
