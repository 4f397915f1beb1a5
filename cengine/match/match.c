/*
 * match.c - the race runner (see match.h): a Session (stage, rules, room,
 * AI skills) plus the bots, the replay writer and the phase machine that
 * takes a race from loading its bots to results and points.
 */
#include "match/match.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "match/race_bots.h"
#include "match/session.h"
#include "sim/replay.h"
#include "util/json.h"

struct Match {
    Session s;
    RaceBots *bots;   /* NULL if the race has no bots */
    ReplayWriter *rw; /* NULL if no replay is recorded */
    MatchPhase phase;
    bool external;
    int n_cars;
    int bot_of_car[CR_MAX_CARS]; /* index into bots, or -1 */
    bool ai_drives[CR_MAX_CARS]; /* AI cars and humans handed to the AI */
    uint64_t seed;
    RaceResult results[CR_MAX_CARS];
    int points[CR_MAX_CARS];
    const RaceEvent *events; /* of the last race step */
    size_t n_events;
    char error[sizeof(((CrError *)0)->msg)];
};

static const char *const PHASE_NAMES[] = {"starting",  "countdown", "running",
                                          "finishing", "done",      "aborted"};

const char *match_phase_name(MatchPhase p) {
    return (unsigned)p < sizeof PHASE_NAMES / sizeof *PHASE_NAMES ? PHASE_NAMES[p] : "?";
}

double match_ai_skill(uint64_t seed, int i) {
    return session_ai_skill(seed, i);
}

/* Aborts the match with err's message; returns code. */
static int abort_match(Match *m, int code, const CrError *err) {
    snprintf(m->error, sizeof m->error, "%s", err->msg);
    m->phase = MATCH_ABORTED;
    replay_writer_abort(m->rw);
    m->rw = NULL;
    return code;
}

static int open_replay(Match *m, const MatchConfig *cfg, CrError *err) {
    if (!cfg->generator)
        return cr_fail(err, CR_EINVAL, "a replay needs the generator's name in the match config");
    const GeneratorInfo *gi;
    int rc = scripts_find_generator(cfg->scripts, cfg->generator, &gi, err);
    if (rc) return rc;
    if (cfg->n_params > REPLAY_MAX_PARAMS)
        return cr_fail(err, CR_EINVAL, "a replay holds at most %d parameters", REPLAY_MAX_PARAMS);
    ReplayHeader *h = calloc(1, sizeof *h);
    if (!h) return CR_ENOMEM;
    snprintf(h->generator, sizeof h->generator, "%s", gi->name);
    snprintf(h->generator_version, sizeof h->generator_version, "%s", gi->version);
    h->seed = cfg->seed;
    h->surfaces_hash = stage_surfaces(m->s.stage)->hash;
    h->stage_limits = scripts_stage_limits(cfg->scripts);
    h->n_params = (int)cfg->n_params;
    for (size_t i = 0; i < cfg->n_params; i++) {
        snprintf(h->param_key[i], sizeof h->param_key[i], "%s", cfg->params[i].key);
        snprintf(h->param_value[i], sizeof h->param_value[i], "%s", cfg->params[i].value);
    }
    snprintf(h->rules, sizeof h->rules, "%s", rules_name(m->s.rules));
    h->rules_hash = rules_hash(m->s.rules);
    h->stage_hash = stage_hash(m->s.stage);
    h->n_cars = cfg->n_cars;
    memcpy(h->cars, cfg->cars, (size_t)cfg->n_cars * sizeof *cfg->cars);
    rc = replay_writer_open(cfg->replay_path, h, &m->rw, err);
    free(h);
    return rc;
}

/* The stage's identity as bots see it (self.stage, docs/BOT_API.md):
 * {"generator": NAME or null, "seed": N, "params": {overrides}, "hash":
 * "16 hex digits"}. The caller frees it; NULL when out of memory. */
static char *stage_identity(const Match *m, const MatchConfig *cfg) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    fputs("{\"generator\": ", f);
    if (cfg->generator)
        json_write_string(f, cfg->generator);
    else
        fputs("null", f);
    fprintf(f, ", \"seed\": %llu, \"params\": {", (unsigned long long)cfg->seed);
    for (size_t i = 0; i < cfg->n_params; i++) {
        if (i) fputs(", ", f);
        json_write_string(f, cfg->params[i].key);
        fputs(": ", f);
        json_write_string(f, cfg->params[i].value);
    }
    fprintf(f, "}, \"hash\": \"%016llx\"}", (unsigned long long)stage_hash(m->s.stage));
    if (fclose(f) != 0 || len > BOT_STAGE_MAX) {
        free(buf);
        return NULL;
    }
    return buf;
}

static int start_bots(Match *m, const MatchConfig *cfg, CrError *err) {
    MatchBot bots[CR_MAX_CARS];
    int cars[CR_MAX_CARS], n = 0;
    for (int i = 0; i < cfg->n_cars; i++) {
        m->bot_of_car[i] = -1;
        if (cfg->cars[i].kind != CAR_BOT || m->external) continue;
        if (!cfg->bots || !cfg->bots[i].source)
            return cr_fail(err, CR_EINVAL, "car %d (%s) is a bot car without a bot", i,
                           cfg->cars[i].name);
        m->bot_of_car[i] = n;
        bots[n] = cfg->bots[i];
        cars[n++] = i;
    }
    if (!n) return CR_OK;
    RaceBotsConfig bc = {cfg->botd_path,
                         50,
                         10,
                         cfg->bot_hard_deadline_ms,
                         cfg->cars,
                         stage_surfaces(m->s.stage),
                         NULL};
    scripts_config_number(cfg->scripts, "BOT_MEMORY_LIMIT_MB", &bc.memory_limit_mb);
    scripts_config_number(cfg->scripts, "BOT_EXECUTION_TIMEOUT_MS", &bc.timeout_ms);
    char *stage = stage_identity(m, cfg);
    bc.stage_json = stage;
    int rc = race_bots_start(&bc, cfg->bot_host, bots, cars, n, cfg->seed, cfg->retire_failed_bots,
                             &m->bots, err);
    free(stage);
    return rc;
}

static MatchPhase race_to_match_phase(RacePhase p) {
    return p == PHASE_COUNTDOWN ? MATCH_COUNTDOWN
           : p == PHASE_RUNNING ? MATCH_RUNNING
                                : MATCH_FINISHING;
}

/* Once every bot has loaded (or failed to): the cars of bots that failed
 * are retired, and the bots get the state before the first step. Until
 * then the match stays MATCH_STARTING. */
static int try_begin(Match *m, CrError *err) {
    if (m->bots && race_bots_loading(m->bots)) return CR_OK;
    int rc = m->bots ? race_bots_start_result(m->bots, err) : CR_OK;
    if (rc) return rc;
    for (int b = 0; b < race_bots_count(m->bots); b++) {
        if (!race_bots_failed(m->bots, b, NULL)) continue;
        int car = race_bots_car(m->bots, b);
        race_retire(m->s.room, car);
        if (m->rw && replay_writer_retire(m->rw, race_tick(m->s.room), car))
            return cr_fail(err, CR_EIO, "cannot write the replay");
    }
    m->phase = race_to_match_phase(race_phase(m->s.room));
    if (m->bots && race_tick(m->s.room) % CR_BOT_TICK_EVERY == 0)
        return race_bots_send(m->bots, m->s.room, err);
    return CR_OK;
}

int match_create(const MatchConfig *cfg, Match **out, CrError *err) {
    *out = NULL;
    if (!cfg->scripts) return cr_fail(err, CR_EINVAL, "a match needs scripts");
    if (cfg->n_cars < 1 || cfg->n_cars > CR_MAX_CARS || !cfg->cars)
        return cr_fail(err, CR_EINVAL, "a race takes 1 to %d cars, not %d", CR_MAX_CARS,
                       cfg->n_cars);
    if (!cfg->stage && !cfg->generator)
        return cr_fail(err, CR_EINVAL, "a match needs a stage or a generator");
    Match *m = calloc(1, sizeof *m);
    if (!m) return CR_ENOMEM;
    m->external = cfg->external_inputs;
    m->n_cars = cfg->n_cars;
    m->seed = cfg->seed;
    for (int i = 0; i < cfg->n_cars; i++) m->ai_drives[i] = cfg->cars[i].kind == CAR_AI;
    int rc;
    if (cfg->stage) {
        rc = session_start_on(cfg->scripts, cfg->stage, cfg->rules, cfg->cars, cfg->n_cars, &m->s,
                              err);
        if (rc == CR_OK) {
            m->s.stage = stage_ref(cfg->stage);
            int ai = 0;
            for (int i = 0; i < cfg->n_cars; i++)
                if (cfg->cars[i].kind == CAR_AI)
                    m->s.ai_skill[i] = session_ai_skill(cfg->seed, ai++);
        }
    } else {
        rc = session_start(cfg->scripts, cfg->generator, cfg->seed, cfg->params, cfg->n_params,
                           cfg->rules, cfg->cars, cfg->n_cars, &m->s, err);
    }
    if (rc) {
        free(m);
        return rc;
    }
    if ((rc = start_bots(m, cfg, err))) goto fail;
    if (cfg->replay_path && (rc = open_replay(m, cfg, err))) goto fail;
    m->phase = MATCH_STARTING;
    if ((rc = try_begin(m, err))) goto fail;
    *out = m;
    return CR_OK;
fail:
    match_destroy(m);
    return rc;
}

void match_destroy(Match *m) {
    if (!m) return;
    replay_writer_abort(m->rw);
    race_bots_destroy(m->bots);
    session_end(&m->s);
    free(m);
}

int match_fds(const Match *m, struct pollfd *fds, int max, int64_t *wake_ns) {
    *wake_ns = INT64_MAX;
    return race_bots_fds(m->bots, fds, max, wake_ns, false);
}

void match_pump(Match *m, int64_t now_ns) {
    race_bots_pump(m->bots, now_ns, false);
}

bool match_can_step(const Match *m) {
    switch (m->phase) {
        case MATCH_STARTING:
            return !race_bots_loading(m->bots);
        case MATCH_COUNTDOWN:
        case MATCH_RUNNING:
            return race_bots_ready(m->bots);
        case MATCH_FINISHING:
            return !m->bots || !race_bots_finishing(m->bots);
        default:
            return true;
    }
}

/* Race over: results, points, the replay's end record. */
static int complete(Match *m, CrError *err) {
    RaceRoom *room = m->s.room;
    race_results(room, m->results);
    int rc = rules_points(m->s.rules, m->results, m->n_cars, m->points, err);
    if (rc) return abort_match(m, rc, err);
    if (m->rw) {
        rc = replay_writer_close(m->rw, race_tick(room), race_hash(room), err);
        m->rw = NULL;
        if (rc) return abort_match(m, rc, err);
    }
    m->phase = MATCH_DONE;
    return CR_OK;
}

static int replay_failed(Match *m, CrError *err) {
    cr_fail(err, CR_EIO, "cannot write the replay");
    return abort_match(m, CR_EIO, err);
}

static int finish_step(Match *m, CrError *err) {
    if (m->bots && !race_bots_finish(m->bots)) return CR_OK;
    return complete(m, err);
}

/* On bot ticks, the AI decides from the state now for the next step, as
 * session_drive_ai does (an AI-only race gives the same result). */
static void drive_ai(Match *m) {
    RaceRoom *room = m->s.room;
    if (race_tick(room) % CR_BOT_TICK_EVERY != 0) return;
    for (int i = 0; i < m->n_cars; i++) {
        if (!m->ai_drives[i]) continue;
        SensorRecord rec;
        CarInput in;
        race_sensors(room, i, &rec);
        ai_drive_on(race_stage(room), &rec, m->s.ai_skill[i], &in);
        race_set_input(room, i, &in);
    }
}

/* One race tick under the timing rule of match.h. */
static int step_race(Match *m, int64_t now_ns, CrError *err) {
    RaceRoom *room = m->s.room;
    uint32_t tick = race_tick(room);
    if (m->bots) {
        race_bots_pump(m->bots, now_ns, false);
        if (race_bots_apply(m->bots, room, m->rw)) return replay_failed(m, err);
    }
    if (!m->external) drive_ai(m);
    /* Every tick, not only bot ticks: the writer keeps changes only. */
    for (int i = 0; m->rw && i < m->n_cars; i++)
        if (replay_writer_input(m->rw, tick, i, race_input(room, i))) return replay_failed(m, err);
    int rc = race_step(room, err);
    if (rc) return abort_match(m, rc, err);
    m->events = race_events(room, &m->n_events);
    if (m->bots && m->n_events) race_bots_events(m->bots, m->events, m->n_events);
    uint32_t now = race_tick(room);
    if (m->rw && now % REPLAY_HASH_EVERY == 0 && replay_writer_hash(m->rw, now, race_hash(room)))
        return replay_failed(m, err);
    m->phase = race_to_match_phase(race_phase(room));
    if (m->phase == MATCH_FINISHING) return CR_OK;
    if (m->bots && now % CR_BOT_TICK_EVERY == 0) {
        rc = race_bots_send(m->bots, room, err);
        if (rc) return abort_match(m, rc, err);
    }
    return CR_OK;
}

int match_step(Match *m, int64_t now_ns, CrError *err) {
    CrError scratch;
    if (!err) err = &scratch; /* the reason stays in match_error */
    m->n_events = 0;
    switch (m->phase) {
        case MATCH_STARTING: {
            /* A bot that did not load fails the match (unless its car is
             * retired instead: retire_failed_bots). */
            int rc = try_begin(m, err);
            return rc ? abort_match(m, rc, err) : CR_OK;
        }
        case MATCH_COUNTDOWN:
        case MATCH_RUNNING: {
            int rc = step_race(m, now_ns, err);
            if (rc || m->phase != MATCH_FINISHING) return rc;
            return finish_step(m, err); /* start finishing at once */
        }
        case MATCH_FINISHING:
            return finish_step(m, err);
        case MATCH_DONE:
        case MATCH_ABORTED:
            return CR_OK;
    }
    return CR_OK;
}

static int64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int match_wait(Match *m, CrError *err) {
    while (!match_can_step(m)) {
        /* A shared zygote included: nobody else pumps it while we wait. */
        struct pollfd fds[256];
        int64_t wake = INT64_MAX;
        int n = race_bots_fds(m->bots, fds, 256, &wake, true);
        int64_t left_ms = wake == INT64_MAX ? 1000 : (wake - mono_ns() + 999999) / 1000000;
        if (left_ms < 0) left_ms = 0;
        if (poll(fds, (nfds_t)n, (int)(left_ms > 1000 ? 1000 : left_ms)) < 0 && errno != EINTR)
            return cr_fail(err, CR_EIO, "poll: %s", strerror(errno));
        race_bots_pump(m->bots, mono_ns(), true);
    }
    return CR_OK;
}

int match_run(Match *m, CrError *err) {
    while (m->phase != MATCH_DONE && m->phase != MATCH_ABORTED) {
        int rc = match_wait(m, err);
        if (rc) return rc;
        rc = match_step(m, mono_ns(), err);
        if (rc) return rc;
    }
    return CR_OK;
}

static bool drives_itself(const Match *m, int car) {
    return !m->external && (race_car(m->s.room, car)->kind != CAR_HUMAN || m->ai_drives[car]);
}

int match_drive_by_ai(Match *m, int car) {
    if (car < 0 || car >= m->n_cars || m->external || race_car(m->s.room, car)->kind != CAR_HUMAN)
        return CR_EINVAL;
    if (!m->ai_drives[car]) {
        m->ai_drives[car] = true;
        /* Past the grid's AI drivers, so their skills stay as they were. */
        m->s.ai_skill[car] = session_ai_skill(m->seed, CR_MAX_CARS + car);
    }
    return CR_OK;
}

int match_set_input(Match *m, int car, const CarInput *in) {
    if (car < 0 || car >= m->n_cars || drives_itself(m, car)) return CR_EINVAL;
    return race_set_input(m->s.room, car, in);
}

int match_set_packed_input(Match *m, int car, PackedInput in) {
    if (car < 0 || car >= m->n_cars || drives_itself(m, car)) return CR_EINVAL;
    return race_set_packed_input(m->s.room, car, in);
}

int match_retire(Match *m, int car) {
    if (car < 0 || car >= m->n_cars) return CR_EINVAL;
    if (m->phase == MATCH_DONE || m->phase == MATCH_ABORTED) return CR_OK;
    size_t before, after;
    race_events(m->s.room, &before);
    int rc = race_retire(m->s.room, car);
    const RaceEvent *ev = race_events(m->s.room, &after);
    if (rc || after == before) return rc; /* already out */
    /* The DNF event is the bot's to hear with its next tick. */
    if (m->bots) race_bots_events(m->bots, ev + before, after - before);
    if (m->rw && replay_writer_retire(m->rw, race_tick(m->s.room), car)) {
        CrError err;
        return replay_failed(m, &err);
    }
    return CR_OK;
}

void match_finish(Match *m) {
    if (m->phase == MATCH_DONE || m->phase == MATCH_ABORTED || m->phase == MATCH_FINISHING) return;
    for (int i = 0; i < m->n_cars; i++) match_retire(m, i);
    m->phase = MATCH_FINISHING;
}

MatchPhase match_phase(const Match *m) {
    return m->phase;
}

const char *match_error(const Match *m) {
    return m->phase == MATCH_ABORTED ? m->error : NULL;
}

uint32_t match_tick(const Match *m) {
    return race_tick(m->s.room);
}

void match_snapshot(const Match *m, RaceSnapshot *out) {
    race_snapshot(m->s.room, out);
}

const RaceEvent *match_events(const Match *m, size_t *n) {
    *n = m->n_events;
    return m->events;
}

const RaceRoom *match_room(const Match *m) {
    return m->s.room;
}

const Stage *match_stage(const Match *m) {
    return m->s.stage;
}

const char *match_rules_name(const Match *m) {
    return rules_name(m->s.rules);
}

uint64_t match_rules_hash(const Match *m) {
    return rules_hash(m->s.rules);
}

int match_results(const Match *m, RaceResult *out, int *points) {
    if (m->phase != MATCH_DONE) return CR_EINVAL;
    memcpy(out, m->results, (size_t)m->n_cars * sizeof *out);
    memcpy(points, m->points, (size_t)m->n_cars * sizeof *points);
    return CR_OK;
}

static int bot_index(const Match *m, int car) {
    return car >= 0 && car < m->n_cars ? m->bot_of_car[car] : -1;
}

int match_bot_stats(const Match *m, int car, MatchBotStats *out) {
    int b = bot_index(m, car);
    if (b < 0) return CR_ENOTFOUND;
    race_bots_stats(m->bots, b, out);
    return CR_OK;
}

const char *match_bot_memory(const Match *m, int car) {
    int b = bot_index(m, car);
    return b < 0 || m->phase != MATCH_DONE ? NULL : race_bots_memory(m->bots, b);
}

const MatchBotError *match_bot_errors(const Match *m, int car, int *n, long *more) {
    int b = bot_index(m, car);
    *n = 0;
    if (more) *more = 0;
    return b < 0 ? NULL : race_bots_errors(m->bots, b, n, more);
}

const char *match_bot_load_error(const Match *m, int car) {
    int b = bot_index(m, car);
    const char *why = NULL;
    return b >= 0 && race_bots_failed(m->bots, b, &why) ? why : NULL;
}

const char *match_dnf_reason(const Match *m, const RaceResult *x) {
    if (x->finished) return NULL;
    if (match_bot_load_error(m, x->car)) return "bot_load_failed";
    if (x->dnf_reason == DNF_TIME_LIMIT) return "time_limit";
    if (x->dnf_reason == DNF_STALLED) return "stalled";
    return "retired";
}

const char *match_bot_log(const Match *m, int car, size_t *len) {
    int b = bot_index(m, car);
    *len = 0;
    return b < 0 ? NULL : race_bots_log(m->bots, b, len);
}

const MatchBotDrawing *match_bot_drawings(const Match *m, int car, int *n, uint32_t *tick) {
    int b = bot_index(m, car);
    *n = 0;
    *tick = 0;
    return b < 0 ? NULL : race_bots_drawings(m->bots, b, n, tick);
}
