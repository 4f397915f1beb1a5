/*
 * ai.c - the built-in AI driver. It sees only the sensor record, as a bot
 * does: it steers for the road centre a speed-dependent distance ahead and
 * picks the speed it can carry into the sharpest corner in its pace notes,
 * braking early enough for the ones further on. A fair opponent and the
 * reference the Python template ports.
 */
#include <math.h>

#include "coderally.h"
#include "util/fastmath.h"

/* Sideways acceleration the AI dares to use, u/s^2, per surface. */
static const double AI_LATERAL[SURFACE_COUNT] = {38.0, 24.0, 8.5, 14.0};
/* Braking it plans with, u/s^2, per surface. */
static const double AI_BRAKE[SURFACE_COUNT] = {26.0, 18.0, 6.0, 12.0};

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

void ai_drive(const SensorRecord *s, double skill, CarInput *out) {
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
        int surf = n->surface >= 0 && n->surface < SURFACE_COUNT ? n->surface : SURFACE_GRAVEL;
        double lat = AI_LATERAL[surf] * margin;
        double curv = fabs(n->curvature);
        double v_corner = curv > 1e-4 ? sqrt(lat / curv) : 1e9;
        double brake = AI_BRAKE[s->surface < SURFACE_COUNT ? s->surface : SURFACE_GRAVEL];
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
    if (s->sliding && fabs(bearing) > 0.6 && s->surface == SURFACE_GRAVEL && speed > 12)
        out->handbrake = true;

    /* Nitro on a straight when there is room to use it. */
    bool straight = true;
    for (int k = 0; k < SENSOR_PACE_NOTES; k++)
        straight =
            straight && fabs(s->pace[k].curvature) < 0.006 && s->pace[k].surface != SURFACE_ICE;
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
