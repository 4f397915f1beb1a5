/*
 * race.c - the race room: the grid, the countdown, fixed 60 Hz steps of every
 * car, collisions, checkpoints in order, finish, DNF, positions, and the
 * events of each tick. No allocation after race_create.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/race_internal.h"
#include "stage/stage_internal.h"
#include "util/hash.h"

int car_stats_validate(const CarStats *k, CrError *err) {
    struct {
        const char *name;
        double v, lo, hi;
    } f[] = {
        {"top_speed", k->top_speed, 5, 200},
        {"acceleration", k->acceleration, 1, 100},
        {"grip", k->grip, 0.2, 3},
        {"braking", k->braking, 1, 150},
        {"nitro_capacity", k->nitro_capacity, 0, 10},
        {"nitro_duration", k->nitro_duration, 0, 600},
        {"handling", k->handling, 0.3, 6},
        {"weight", k->weight, 300, 3000},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        if (!(f[i].v >= f[i].lo && f[i].v <= f[i].hi)) {
            if (err)
                snprintf(err->msg, sizeof err->msg, "car stat %s = %g is outside %g..%g", f[i].name,
                         f[i].v, f[i].lo, f[i].hi);
            return CR_EINVAL;
        }
    }
    return CR_OK;
}

/* Where the car is along the route: its segment (from the last one), the
 * lateral offset and the progress. */
static void track(const Stage *st, RaceCar *c) {
    c->seg = stage_track_segment(st, c->seg, c->body.x, c->body.y);
    double t, lat, d2;
    stage_project(st, c->seg, c->body.x, c->body.y, &t, &lat, &d2);
    c->lateral = lat;
    c->seg_t = t;
    c->progress = st->cum[c->seg] + t * (st->cum[c->seg + 1] - st->cum[c->seg]);
}

int race_create(const Stage *stage, const CarEntry *cars, int n_cars, const RaceRules *rules,
                RaceRoom **out, CrError *err) {
    *out = NULL;
    if (n_cars < 1 || n_cars > CR_MAX_CARS) {
        snprintf(err->msg, sizeof err->msg, "a race takes 1 to %d cars, not %d", CR_MAX_CARS,
                 n_cars);
        return CR_EINVAL;
    }
    if (rules->countdown_ticks < 0 || rules->time_limit_ticks < 1 || rules->stall_limit_ticks < 0) {
        snprintf(err->msg, sizeof err->msg,
                 "race rules: countdown, time limit or stall limit "
                 "out of range");
        return CR_EINVAL;
    }
    for (int i = 0; i < n_cars; i++) {
        int rc = car_stats_validate(&cars[i].stats, err);
        if (rc) return rc;
    }
    RaceRoom *r = calloc(1, sizeof *r);
    if (!r) return CR_ENOMEM;
    r->stage = stage;
    r->rules = *rules;
    r->n = n_cars;
    r->phase = rules->countdown_ticks > 0 ? PHASE_COUNTDOWN : PHASE_RUNNING;
    for (int i = 0; i < n_cars; i++) {
        RaceCar *c = &r->cars[i];
        c->entry = cars[i];
        c->entry.name[CR_NAME_MAX - 1] = 0;
        c->entry.car_type[CR_NAME_MAX - 1] = 0;
        car_init(&c->body, &cars[i].stats, stage->grid_x[i], stage->grid_y[i],
                 stage->grid_heading[i]);
        c->seg = stage->grid_seg[i];
        track(stage, c);
        c->best_progress = c->progress;
        c->position = i + 1;
    }
    *out = r;
    return CR_OK;
}

void race_destroy(RaceRoom *r) {
    free(r);
}

int race_set_input(RaceRoom *r, int car, const CarInput *in) {
    if (car < 0 || car >= r->n || !in) return CR_EINVAL;
    car_set_input(&r->cars[car].body, in);
    return CR_OK;
}

int race_set_packed_input(RaceRoom *r, int car, PackedInput p) {
    if (car < 0 || car >= r->n) return CR_EINVAL;
    CarInput in = input_unpack(p);
    return race_set_input(r, car, &in);
}

PackedInput race_input(const RaceRoom *r, int car) {
    PackedInput none = {0, 0, 0, 0};
    return car >= 0 && car < r->n ? input_pack(&r->cars[car].body.input) : none;
}

static void emit(RaceRoom *r, EventType type, int car, int a, double value) {
    if (r->n_events >= RACE_MAX_EVENTS) return; /* bounded; cannot happen in practice */
    r->events[r->n_events++] = (RaceEvent){r->tick, (int16_t)type, (int16_t)car, a, value};
}

static double race_time(const RaceRoom *r) {
    return ((double)r->tick - r->rules.countdown_ticks) / CR_TICK_RATE;
}

static void set_dnf(RaceRoom *r, RaceCar *c, int reason) {
    c->dnf = true;
    c->dnf_reason = reason;
    c->body.vx = c->body.vy = c->body.angvel = 0;
    emit(r, EVENT_DNF, (int)(c - r->cars), reason, race_time(r));
}

int race_retire(RaceRoom *r, int car) {
    if (car < 0 || car >= r->n) return CR_EINVAL;
    if (race_car_active(&r->cars[car])) set_dnf(r, &r->cars[car], DNF_RETIRED);
    return CR_OK;
}

/* Calls a rules hook; a penalty is added to the car's time. */
static int call_hook(RaceRoom *r, double (*hook)(void *, const RuleEvent *), RaceCar *c,
                     RuleEvent *ev, CrError *err) {
    if (!hook) return CR_OK;
    ev->car = (int)(c - r->cars);
    double p = hook(r->rules.ud, ev);
    if (p < 0 || !isfinite(p)) {
        const char *why = r->rules.last_error ? r->rules.last_error(r->rules.ud) : NULL;
        if (err)
            snprintf(err->msg, sizeof err->msg, "race rules failed at tick %u: %s", r->tick,
                     why ? why : "a hook returned an invalid penalty");
        r->phase = PHASE_FINISHED;
        return CR_ESCRIPT;
    }
    if (p > 0) {
        c->penalty += p;
        emit(r, EVENT_PENALTY, ev->car, 0, p);
    }
    return CR_OK;
}

/* Did the move from (x0, y0) to (x1, y1) cross point i's gate forwards,
 * within the road? Sets *frac to where in the move it happened. */
static bool crosses_gate(const Stage *st, size_t i, double x0, double y0, double x1, double y1,
                         double *frac) {
    const StagePoint *p = &st->pts[i];
    double dx = st->dx[i], dy = st->dy[i];
    double s0 = (x0 - p->x) * dx + (y0 - p->y) * dy;
    double s1 = (x1 - p->x) * dx + (y1 - p->y) * dy;
    if (!(s0 < 0 && s1 >= 0)) return false;
    double f = s0 / (s0 - s1);
    double cx = x0 + (x1 - x0) * f - p->x, cy = y0 + (y1 - y0) * f - p->y;
    double lat = -dy * cx + dx * cy;
    *frac = f;
    return fabs(lat) <= p->width / 2;
}

static void update_positions(RaceRoom *r) {
    int order[CR_MAX_CARS];
    for (int i = 0; i < r->n; i++) order[i] = i;
    for (int i = 1; i < r->n; i++) {
        int k = order[i], j = i - 1;
        while (j >= 0) {
            const RaceCar *a = &r->cars[order[j]], *b = &r->cars[k];
            /* Is b ahead of a? */
            bool ahead;
            if (a->finished != b->finished)
                ahead = b->finished;
            else if (a->finished)
                ahead = b->finish_time + b->penalty < a->finish_time + a->penalty;
            else if (a->dnf != b->dnf)
                ahead = a->dnf;
            else if (a->next_cp != b->next_cp)
                ahead = b->next_cp > a->next_cp;
            else
                ahead = b->progress > a->progress;
            if (!ahead) break;
            order[j + 1] = order[j];
            j--;
        }
        order[j + 1] = k;
    }
    for (int i = 0; i < r->n; i++) r->cars[order[i]].position = i + 1;
}

int race_step(RaceRoom *r, CrError *err) {
    if (r->phase == PHASE_FINISHED) {
        r->n_events = 0;
        return CR_OK;
    }
    r->tick++;
    r->n_events = 0;
    if (r->phase == PHASE_COUNTDOWN) {
        if (r->tick >= (uint32_t)r->rules.countdown_ticks) {
            r->phase = PHASE_RUNNING;
            emit(r, EVENT_START, -1, 0, 0);
            for (int i = 0; i < r->n; i++) r->cars[i].best_tick = r->tick;
        }
        return CR_OK;
    }
    const Stage *st = r->stage;
    double ox[CR_MAX_CARS], oy[CR_MAX_CARS];
    for (int i = 0; i < r->n; i++) {
        RaceCar *c = &r->cars[i];
        ox[i] = c->body.x, oy[i] = c->body.y;
        if (!race_car_active(c)) continue;
        double impulse = car_step(&c->body, st);
        if (impulse > 0) {
            emit(r, EVENT_COLLISION, i, -1, impulse);
            RuleEvent ev = {
                .checkpoint = -1, .time_s = race_time(r), .impulse = impulse, .other = -1};
            int rc = call_hook(r, r->rules.on_collision, c, &ev, err);
            if (rc) return rc;
        }
    }
    for (int i = 0; i < r->n; i++) {
        RaceCar *a = &r->cars[i];
        for (int j = i + 1; j < r->n; j++) {
            RaceCar *b = &r->cars[j];
            if (!race_car_active(a) || !race_car_active(b)) continue;
            double imp = car_collide(&a->body, &b->body);
            double dx = b->body.x - a->body.x, dy = b->body.y - a->body.y;
            const double reach = 2 * CR_CAR_RADIUS + 0.05;
            bool touching = imp > 0 || dx * dx + dy * dy < reach * reach;
            bool was = (a->contacts >> j) & 1;
            if (touching) {
                a->contacts |= 1u << j;
                b->contacts |= 1u << i;
            } else {
                a->contacts &= ~(1u << j);
                b->contacts &= ~(1u << i);
            }
            if (imp > 0 && !was) {
                emit(r, EVENT_COLLISION, i, j, imp);
                emit(r, EVENT_COLLISION, j, i, imp);
                RuleEvent ev = {
                    .checkpoint = -1, .time_s = race_time(r), .impulse = imp, .other = j};
                int rc = call_hook(r, r->rules.on_collision, a, &ev, err);
                if (rc) return rc;
                ev.other = i;
                rc = call_hook(r, r->rules.on_collision, b, &ev, err);
                if (rc) return rc;
            }
        }
    }
    double now = race_time(r);
    for (int i = 0; i < r->n; i++) {
        RaceCar *c = &r->cars[i];
        if (!race_car_active(c)) continue;
        track(st, c);
        if (c->body.surface == r->stage->verge) c->offtrack_s += 1.0 / CR_TICK_RATE;
        if (c->progress > c->best_progress + 1.0) {
            c->best_progress = c->progress;
            c->best_tick = r->tick;
        }
        size_t gate = c->next_cp < (int)st->ncp ? st->cps[c->next_cp] : st->n - 1;
        double frac;
        if (crosses_gate(st, gate, ox[i], oy[i], c->body.x, c->body.y, &frac)) {
            double when = now - (1 - frac) / CR_TICK_RATE;
            RuleEvent ev = {.checkpoint = c->next_cp,
                            .time_s = when,
                            .split_s = when - c->last_cp_time,
                            .offtrack_s = c->offtrack_s,
                            .other = -1};
            if (c->next_cp < (int)st->ncp) {
                emit(r, EVENT_CHECKPOINT, i, c->next_cp, when);
                c->next_cp++;
                c->last_cp_time = when;
                c->offtrack_s = 0;
                int rc = call_hook(r, r->rules.on_checkpoint, c, &ev, err);
                if (rc) return rc;
            } else {
                c->finished = true;
                c->finish_time = when;
                ev.checkpoint = -1;
                int rc = call_hook(r, r->rules.on_finish, c, &ev, err);
                if (rc) return rc;
                emit(r, EVENT_FINISH, i, 0, when + c->penalty);
            }
            continue;
        }
        if (r->rules.stall_limit_ticks > 0 &&
            r->tick - c->best_tick >= (uint32_t)r->rules.stall_limit_ticks)
            set_dnf(r, c, DNF_STALLED);
    }
    if (r->tick - (uint32_t)r->rules.countdown_ticks >= (uint32_t)r->rules.time_limit_ticks) {
        for (int i = 0; i < r->n; i++)
            if (race_car_active(&r->cars[i])) set_dnf(r, &r->cars[i], DNF_TIME_LIMIT);
    }
    update_positions(r);
    bool done = true;
    for (int i = 0; i < r->n; i++) done = done && !race_car_active(&r->cars[i]);
    if (done) {
        r->phase = PHASE_FINISHED;
        emit(r, EVENT_RACE_END, -1, 0, now);
    }
    return CR_OK;
}

uint32_t race_tick(const RaceRoom *r) {
    return r->tick;
}
RacePhase race_phase(const RaceRoom *r) {
    return r->phase;
}
int race_car_count(const RaceRoom *r) {
    return r->n;
}
const CarEntry *race_car(const RaceRoom *r, int car) {
    return car >= 0 && car < r->n ? &r->cars[car].entry : NULL;
}
const Stage *race_stage(const RaceRoom *r) {
    return r->stage;
}

const RaceEvent *race_events(const RaceRoom *r, size_t *n) {
    *n = r->n_events;
    return r->events;
}

void race_snapshot(const RaceRoom *r, RaceSnapshot *out) {
    out->tick = r->tick;
    out->phase = r->phase;
    out->time_s = (float)race_time(r);
    out->n_cars = r->n;
    for (int i = 0; i < r->n; i++) {
        const RaceCar *c = &r->cars[i];
        CarSnapshot *s = &out->cars[i];
        s->x = (float)c->body.x, s->y = (float)c->body.y, s->heading = (float)c->body.heading;
        s->vx = (float)c->body.vx, s->vy = (float)c->body.vy;
        s->angular_velocity = (float)c->body.angvel;
        s->throttle = c->body.input.throttle, s->steer = c->body.input.steer;
        s->surface = (uint8_t)c->body.surface;
        s->flags = (uint8_t)((c->body.sliding ? CAR_FLAG_SLIDING : 0) |
                             (c->body.nitro_ticks > 0 ? CAR_FLAG_NITRO : 0) |
                             (c->body.surface == r->stage->verge ? CAR_FLAG_OFFROAD : 0) |
                             (c->finished ? CAR_FLAG_FINISHED : 0) | (c->dnf ? CAR_FLAG_DNF : 0) |
                             (c->body.input.brake > 0 ? CAR_FLAG_BRAKING : 0) |
                             (c->body.nitro_held ? CAR_FLAG_NITRO_HELD : 0));
        s->nitro_charges = (uint8_t)c->body.nitro_charges;
        s->nitro_ticks = (uint16_t)c->body.nitro_ticks;
        s->position = (uint8_t)c->position;
        s->checkpoints = (int16_t)c->next_cp;
        s->progress = (float)c->progress;
        s->time_s = c->finished ? (float)(c->finish_time + c->penalty) : 0.0f;
        s->penalty_s = (float)c->penalty;
    }
}

void race_results(const RaceRoom *r, RaceResult *out) {
    for (int i = 0; i < r->n; i++) {
        const RaceCar *c = &r->cars[i];
        RaceResult *res = &out[c->position - 1];
        res->car = i;
        res->position = c->position;
        res->finished = c->finished;
        res->dnf = c->dnf;
        res->dnf_reason = c->dnf_reason;
        res->time_s = c->finished ? c->finish_time + c->penalty : 0;
        res->penalty_s = c->penalty;
        res->checkpoints = c->next_cp;
        res->progress = c->progress;
    }
}

uint64_t race_hash(const RaceRoom *r) {
    uint64_t h = hash_u64(HASH_SEED, r->tick);
    h = hash_u64(h, (uint64_t)r->phase);
    for (int i = 0; i < r->n; i++) {
        const RaceCar *c = &r->cars[i];
        const CarBody *b = &c->body;
        h = hash_double(h, b->x);
        h = hash_double(h, b->y);
        h = hash_double(h, b->vx);
        h = hash_double(h, b->vy);
        h = hash_double(h, b->heading);
        h = hash_double(h, b->angvel);
        h = hash_u64(h, (uint64_t)b->nitro_charges << 32 | (uint32_t)b->nitro_ticks);
        h = hash_u64(h, (uint64_t)c->next_cp << 8 | (uint64_t)c->finished << 1 | c->dnf);
        h = hash_double(h, c->penalty);
        h = hash_double(h, c->finish_time);
    }
    return h;
}
