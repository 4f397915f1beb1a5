/*
 * ai.c - the built-in AI driver. It sees only the sensor record, as a bot
 * does: it steers for the road centre a speed-dependent distance ahead and
 * picks the speed it can carry into the sharpest corner in its pace notes,
 * braking early enough for the ones further on. A fair opponent and the
 * reference the Python template ports.
 */
#include <math.h>
#include <pthread.h>

#include "coderally.h"
#include "stage/stage_internal.h"
#include "util/fastmath.h"

static double clampd(double v, double lo, double hi) {
    return v < lo ? lo : v > hi ? hi : v;
}

/* The road centre `dist` ahead, interpolated between pace notes (from the
 * car itself for distances before the first note). */
static void aim_point(const SensorRecord *s, double dist, double *fwd, double *left) {
    double pf = 0, pl = 0, pa = 0;
    for (int k = 0; k < SENSOR_PACE_NOTES; k++) {
        const SensorPaceNote *n = &s->pace[k];
        if (n->ahead >= dist || k == SENSOR_PACE_NOTES - 1) {
            double span = n->ahead - pa;
            double u = span > 1e-6 ? clampd((dist - pa) / span, 0, 1) : 1;
            *fwd = pf + (n->forward - pf) * u;
            *left = pl + (n->left - pl) * u;
            return;
        }
        pf = n->forward, pl = n->left, pa = n->ahead;
    }
}

/* The note for surface i; an index the table lacks reads as index 1's
 * (gravel's in the shipped table, the careful middle): a sensor record is
 * plain data a caller may have made. A table has at least 2 entries. */
static const StageAiNote *note(const StageAiNote *notes, int count, int i) {
    return &notes[i >= 0 && i < count ? i : SURFACE_GRAVEL];
}

static StageAiNote g_default_notes[SURFACE_COUNT];
static pthread_once_t g_default_once = PTHREAD_ONCE_INIT;

static void build_default_notes(void) {
    const SurfaceTable *t = surface_table_default();
    for (int i = 0; i < SURFACE_COUNT; i++) stage_ai_note(&t->s[i], &g_default_notes[i]);
}

static void drive(const StageAiNote *notes, int count, const SensorRecord *s, double skill,
                  CarInput *out);

void ai_drive(const SensorRecord *s, double skill, CarInput *out) {
    pthread_once(&g_default_once, build_default_notes);
    drive(g_default_notes, SURFACE_COUNT, s, skill, out);
}

void ai_drive_on(const Stage *st, const SensorRecord *s, double skill, CarInput *out) {
    drive(st->ai, st->surfaces.count, s, skill, out);
}

static void drive(const StageAiNote *notes, int count, const SensorRecord *s, double skill,
                  CarInput *out) {
    *out = (CarInput){0};
    if (s->phase != PHASE_RUNNING || s->finished || s->dnf) return;
    skill = clampd(skill, 0, 1);
    double speed = s->v_forward;
    double look = clampd(5.0 + 0.38 * fabs(speed), 7.0, 40.0);
    double af, al;
    aim_point(s, look, &af, &al);
    double bearing = fast_atan2f((float)al, (float)af);
    out->steer = (float)clampd(bearing * 2.4 - s->angular_velocity * 0.10, -1, 1);

    /* The speed to carry: limited by every corner ahead, each reachable
     * with planned braking from here. */
    double margin = 0.72 + 0.22 * skill;
    double vmax = s->top_speed * 1.3;
    for (int k = 0; k < SENSOR_PACE_NOTES; k++) {
        const SensorPaceNote *n = &s->pace[k];
        double lat = note(notes, count, n->surface)->lateral * margin;
        double curv = fabs(n->curvature);
        double v_corner = curv > 1e-4 ? sqrt(lat / curv) : 1e9;
        double brake = note(notes, count, s->surface)->brake;
        double dist = fmax(0.0, n->ahead - 8.0 - 0.1 * speed);
        double v_now = sqrt(v_corner * v_corner + 2 * brake * margin * dist);
        if (v_now < vmax) vmax = v_now;
    }
    /* Approaching the road edge: ease off. */
    if (!s->on_road) vmax = fmin(vmax, 12.0);
    if (s->rays[SENSOR_RAYS / 2] < 12.0) vmax = fmin(vmax, 6.0 + s->rays[SENSOR_RAYS / 2]);

    if (speed < vmax - 1.0) {
        out->throttle = 1.0f;
    } else if (speed > vmax + 1.0) {
        out->brake = (float)clampd((speed - vmax) / 6.0, 0.25, 1.0);
    } else {
        out->throttle = 0.35f;
    }
    /* Sliding wide in a corner: a dab of handbrake tightens the line only on
     * loose surfaces, and only when the nose points away from the aim. */
    if (s->sliding && fabs(bearing) > 0.6 && note(notes, count, s->surface)->loose && speed > 12)
        out->handbrake = true;

    /* Nitro on a straight when there is room to use it. */
    bool straight = true;
    for (int k = 0; k < SENSOR_PACE_NOTES; k++)
        straight = straight && fabs(s->pace[k].curvature) < 0.006 &&
                   !note(notes, count, s->pace[k].surface)->no_nitro;
    if (straight && s->nitro_charges > 0 && s->nitro_s <= 0 && speed > 0.6 * s->top_speed &&
        s->rays[SENSOR_RAYS / 2] > 100 && skill > 0.5)
        out->nitro = true;

    /* Stuck against something ahead: back out, steering the other way. */
    if (fabs(speed) < 2.0 && s->rays[SENSOR_RAYS / 2] < 3.0) {
        out->throttle = 0;
        out->brake = 1.0f;
        out->steer = -out->steer;
    }
}
