/*
 * sensors.c - the sensor record: what one car's driver may know. Rays to the
 * road edge, opponents only inside the vision cone and range (fog of war),
 * the next gates, and pace notes on the road ahead, all in the car's frame.
 */
#include <math.h>
#include <string.h>

#include "sim/race_internal.h"
#include "stage/stage_internal.h"
#include "util/fastmath.h"

#define DEG(d) ((float)((d)*3.14159265358979323846 / 180.0))

const float SENSOR_RAY_ANGLES[SENSOR_RAYS] = {DEG(-90), DEG(-60), DEG(-35), DEG(-15), 0,
                                              DEG(15),  DEG(35),  DEG(60),  DEG(90)};
const float SENSOR_PACE_AHEAD[SENSOR_PACE_NOTES] = {10, 20, 35, 55, 80, 110};

/* cos and sin of SENSOR_RAY_ANGLES, as doubles (right to left). */
static const double RAY_COS[SENSOR_RAYS] = {
    0.0, 0.5, 0.8191520442889918, 0.9659258262890683, 1.0, 0.9659258262890683, 0.8191520442889918,
    0.5, 0.0};
static const double RAY_SIN[SENSOR_RAYS] = {
    -1.0, -0.8660254037844386, -0.573576436351046, -0.25881904510252074,
    0.0,  0.25881904510252074, 0.573576436351046,  0.8660254037844386,
    1.0};

typedef struct {
    double x, y, c, s;
} Frame;

static void to_car(const Frame *f, double wx, double wy, float *fwd, float *left) {
    double dx = wx - f->x, dy = wy - f->y;
    *fwd = (float)(dx * f->c + dy * f->s);
    *left = (float)(-dx * f->s + dy * f->c);
}

static void fill_gate(const Stage *st, const Frame *f, size_t point, int index,
                      SensorCheckpoint *g) {
    const StagePoint *p = &st->pts[point];
    to_car(f, p->x, p->y, &g->forward, &g->left);
    g->distance = sqrtf(g->forward * g->forward + g->left * g->left);
    g->bearing = fast_atan2f(g->left, g->forward);
    g->width = (float)p->width;
    g->index = index;
}

/* Pace notes: the road centre at each distance ahead, with the sharpest
 * curvature met since the previous note, so no corner hides between notes. */
static void fill_pace(const Stage *st, const RaceCar *c, const Frame *f, SensorRecord *out) {
    size_t i = (size_t)c->seg + 1;
    double from = c->progress;
    for (int k = 0; k < SENSOR_PACE_NOTES; k++) {
        double s = from + SENSOR_PACE_AHEAD[k];
        if (s > st->length) s = st->length;
        double sharp = 0;
        /* Walk the points up to s (they are in route order, so the walk
         * continues from note to note instead of searching each time). */
        while (i < st->n - 1 && st->cum[i] <= s) {
            if (fabs(st->curv[i]) > fabs(sharp)) sharp = st->curv[i];
            i++;
        }
        size_t seg = i - 1;
        double u = (s - st->cum[seg]) / (st->cum[seg + 1] - st->cum[seg]);
        u = u < 0 ? 0 : u > 1 ? 1 : u;
        const StagePoint *a = &st->pts[seg], *b = &st->pts[seg + 1];
        SensorPaceNote *n = &out->pace[k];
        n->ahead = (float)(s - from);
        to_car(f, a->x + (b->x - a->x) * u, a->y + (b->y - a->y) * u, &n->forward, &n->left);
        n->bearing = fast_atan2f(n->left, n->forward);
        n->width = (float)a->width;
        n->curvature = (float)sharp;
        n->surface = a->surface;
    }
}

int race_sensors(const RaceRoom *r, int car, SensorRecord *out) {
    if (car < 0 || car >= r->n) return CR_EINVAL;
    const Stage *st = r->stage;
    const RaceCar *c = &r->cars[car];
    const CarBody *b = &c->body;
    memset(out, 0, sizeof *out);
    Frame f = {b->x, b->y, b->hc, b->hs}; /* kept with the heading by car_step */
    out->tick = r->tick;
    out->time_s = (float)(((double)r->tick - r->rules.countdown_ticks) / CR_TICK_RATE);
    out->phase = r->phase;
    out->x = (float)b->x, out->y = (float)b->y, out->heading = (float)b->heading;
    out->speed = (float)sqrt(b->vx * b->vx + b->vy * b->vy);
    out->v_forward = (float)(b->vx * f.c + b->vy * f.s);
    out->v_left = (float)(-b->vx * f.s + b->vy * f.c);
    out->angular_velocity = (float)b->angvel;
    out->surface = b->surface;
    double t = c->seg_t, lat = c->lateral;
    double hw =
        (st->pts[c->seg].width + (st->pts[c->seg + 1].width - st->pts[c->seg].width) * t) / 2;
    out->edge_left = (float)(hw - lat);
    out->edge_right = (float)(hw + lat);
    out->on_road = b->surface != st->verge;
    out->sliding = b->sliding;
    out->finished = c->finished;
    out->dnf = c->dnf;
    out->nitro_charges = b->nitro_charges;
    out->nitro_s = (float)b->nitro_ticks / CR_TICK_RATE;
    out->top_speed = (float)b->stats.top_speed;
    out->checkpoints_passed = c->next_cp;
    out->checkpoints_total = (int32_t)st->ncp;
    out->position = c->position;
    out->cars = r->n;
    out->progress = (float)c->progress;
    out->stage_length = (float)st->length;
    /* Rays rotate the heading's direction by fixed angles: no sin/cos each. */
    if (out->on_road) {
        int quad = stage_locate_quad(st, c->seg, b->x, b->y);
        for (int i = 0; i < SENSOR_RAYS; i++) {
            double rc = f.c * RAY_COS[i] - f.s * RAY_SIN[i];
            double rs = f.s * RAY_COS[i] + f.c * RAY_SIN[i];
            out->rays[i] =
                (float)stage_raycast_quad(st, quad, b->x, b->y, rc, rs, SENSOR_RAY_RANGE);
        }
    }
    /* Opponents in sight, nearest first (insertion into a short list). */
    for (int j = 0; j < r->n; j++) {
        const RaceCar *o = &r->cars[j];
        if (j == car || !race_car_active(o)) continue;
        SensorOpponent op;
        double ox = o->body.x - b->x, oy = o->body.y - b->y;
        if (ox * ox + oy * oy > SENSOR_VISION_RANGE * SENSOR_VISION_RANGE) continue;
        to_car(&f, o->body.x, o->body.y, &op.forward, &op.left);
        op.distance = sqrtf(op.forward * op.forward + op.left * op.left);
        op.bearing = fast_atan2f(op.left, op.forward);
        if (fabsf(op.bearing) > SENSOR_VISION_HALF_ANGLE) continue;
        op.speed = (float)sqrt(o->body.vx * o->body.vx + o->body.vy * o->body.vy);
        double dh = o->body.heading - b->heading; /* both in [-pi, pi] */
        op.heading_rel = (float)(dh > M_PI ? dh - 2 * M_PI : dh <= -M_PI ? dh + 2 * M_PI : dh);
        double rvx = o->body.vx - b->vx, rvy = o->body.vy - b->vy;
        op.rel_vf = (float)(rvx * f.c + rvy * f.s);
        op.rel_vl = (float)(-rvx * f.s + rvy * f.c);
        int k = out->n_opponents < SENSOR_MAX_OPPONENTS ? out->n_opponents++ : SENSOR_MAX_OPPONENTS;
        while (k > 0 && out->opponents[k - 1].distance > op.distance) {
            if (k < SENSOR_MAX_OPPONENTS) out->opponents[k] = out->opponents[k - 1];
            k--;
        }
        if (k < SENSOR_MAX_OPPONENTS) out->opponents[k] = op;
    }
    for (int g = c->next_cp; g <= (int)st->ncp && out->n_checkpoints < SENSOR_CHECKPOINTS; g++) {
        size_t point = g < (int)st->ncp ? st->cps[g] : st->n - 1;
        fill_gate(st, &f, point, g, &out->checkpoints[out->n_checkpoints++]);
    }
    fill_pace(st, c, &f, out);
    return CR_OK;
}
