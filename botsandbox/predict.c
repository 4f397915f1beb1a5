/*
 * predict.c - coderally.predict(state, actions, ticks): the engine's own car
 * model (cengine/sim/car.c, linked in as is) run forward for a bot from the
 * state it was given. The worker has no stage: the car runs on one surface
 * (the state's), with no walls and no other cars. Deterministic, allocation
 * free apart from the result dict, and charged to the bot's CPU budget like
 * any code it runs.
 */
#include <math.h>
#include <string.h>

#include "guards.h"
#include "sim/car.h"
#include "stage/stage_internal.h"

static CarStats g_stats;
static bool g_have_stats;
static Surface g_surface; /* what the flat stage below is made of */
/* Only its surface table is read (car_step indexes it); the probe below
 * answers for the geometry. The race's table arrives with BOT_INIT. */
static Stage g_flat;
static bool g_flat_ready;

static void flat_default(void) {
    if (!g_flat_ready) g_flat.surfaces = *surface_table_default();
    g_flat_ready = true;
}

void predict_set_surfaces(const SurfaceTable *t) {
    g_flat.surfaces = *t;
    g_flat_ready = true;
}

void predict_set_car(const CarStats *stats) {
    g_have_stats = stats != NULL;
    if (stats) g_stats = *stats;
}

/* ---- the flat stage car_step runs on ------------------------------------ */

/* car.c asks the stage what lies under the car and where the walls are. In
 * the worker every point is deep inside a road of g_surface: car_step then
 * never reads the wall (its probe says the wall is out of reach). Only
 * predict() ever passes this "stage" (g_flat). */
void stage_probe(const Stage *stage, double x, double y, StageProbe *out) {
    (void)stage, (void)x, (void)y;
    out->surface = g_surface;
    out->edge_dist = -1e9;
    out->wall_dist = -1e9;
}

double stage_edge_dist(const Stage *stage, double x, double y) {
    (void)stage, (void)x, (void)y;
    return -1e9;
}

void stage_gradient(const Stage *stage, double x, double y, double *gx, double *gy) {
    (void)stage, (void)x, (void)y;
    *gx = 0, *gy = 0;
}

/* ---- reading the state --------------------------------------------------- */

/* state[key] as a finite double (exact float or int); -1 with an error. */
static int get_num(PyObject *state, const char *key, bool required, double dflt, double *out) {
    PyObject *v = PyDict_GetItemString(state, key); /* borrowed */
    if (!v) {
        if (!required) {
            *out = dflt;
            return 0;
        }
        PyErr_Format(PyExc_KeyError, "predict(): state has no \"%s\"", key);
        return -1;
    }
    if (PyFloat_CheckExact(v)) {
        *out = PyFloat_AS_DOUBLE(v);
    } else if (PyLong_CheckExact(v)) {
        *out = PyLong_AsDouble(v);
        if (*out == -1.0 && PyErr_Occurred()) return -1;
    } else {
        PyErr_Format(PyExc_TypeError, "predict(): state[\"%s\"] must be a float", key);
        return -1;
    }
    if (!isfinite(*out) || fabs(*out) > 1e9) {
        PyErr_Format(PyExc_ValueError, "predict(): state[\"%s\"] is out of range", key);
        return -1;
    }
    return 0;
}

static int get_bool(PyObject *state, const char *key, bool *out) {
    PyObject *v = PyDict_GetItemString(state, key);
    *out = v == Py_True;
    if (v && !PyBool_Check(v)) {
        PyErr_Format(PyExc_TypeError, "predict(): state[\"%s\"] must be a bool", key);
        return -1;
    }
    return 0;
}

static int get_surface(PyObject *state, Surface *out) {
    PyObject *v = PyDict_GetItemString(state, "surface");
    if (v && PyUnicode_CheckExact(v)) {
        flat_default();
        for (int i = 0; i < g_flat.surfaces.count; i++) {
            if (PyUnicode_CompareWithASCIIString(v, g_flat.surfaces.s[i].name) == 0) {
                *out = (Surface)i;
                return 0;
            }
        }
    }
    PyErr_SetString(PyExc_ValueError,
                    "predict(): state[\"surface\"] must be one of the surface names");
    return -1;
}

/* The car of state: position, heading, velocity (exact "vx"/"vy" when the
 * state is one predict() returned, else from v_forward/v_left), spin,
 * slide, nitro. */
static int car_from_state(PyObject *state, bool nitro_held, CarBody *car) {
    double x, y, h, vf, vl, w, charges, nitro_s, vx, vy;
    bool sliding;
    if (get_num(state, "x", true, 0, &x) || get_num(state, "y", true, 0, &y) ||
        get_num(state, "heading", true, 0, &h) || get_num(state, "v_forward", true, 0, &vf) ||
        get_num(state, "v_left", true, 0, &vl) || get_num(state, "angular_velocity", true, 0, &w) ||
        get_num(state, "nitro_charges", true, 0, &charges) ||
        get_num(state, "nitro_time", true, 0, &nitro_s) || get_bool(state, "sliding", &sliding) ||
        get_surface(state, &g_surface)) {
        return -1;
    }
    if (fabs(h) > 8 || charges < 0 || charges > 1000 || nitro_s < 0 || nitro_s > 1000) {
        PyErr_SetString(PyExc_ValueError, "predict(): heading or nitro out of range");
        return -1;
    }
    car_init(car, &g_stats, x, y, h);
    bool exact = PyDict_GetItemString(state, "vx") && PyDict_GetItemString(state, "vy");
    if (exact) {
        if (get_num(state, "vx", true, 0, &vx) || get_num(state, "vy", true, 0, &vy)) return -1;
    } else {
        vx = vf * car->hc - vl * car->hs;
        vy = vf * car->hs + vl * car->hc;
    }
    car->vx = vx, car->vy = vy;
    car->angvel = w;
    car->surface = g_surface;
    car->sliding = sliding;
    car->nitro_charges = (int)charges;
    car->nitro_ticks = (int)lround(nitro_s * CR_TICK_RATE);
    car->nitro_held = nitro_held;
    return 0;
}

static int put_num(PyObject *d, const char *key, PyObject *v) {
    if (!v) return -1;
    int rc = PyDict_SetItemString(d, key, v);
    Py_DECREF(v);
    return rc;
}

/* The predicted car as a state-like dict (the same keys and meaning as the
 * sensor state, in double precision) plus exact "vx", "vy", "nitro_held". */
static PyObject *car_to_state(const CarBody *b, long ticks) {
    PyObject *d = PyDict_New();
    if (!d) return NULL;
    double c = b->hc, s = b->hs;
    int rc = put_num(d, "x", PyFloat_FromDouble(b->x)) | put_num(d, "y", PyFloat_FromDouble(b->y)) |
             put_num(d, "heading", PyFloat_FromDouble(b->heading)) |
             put_num(d, "speed", PyFloat_FromDouble(sqrt(b->vx * b->vx + b->vy * b->vy))) |
             put_num(d, "v_forward", PyFloat_FromDouble(b->vx * c + b->vy * s)) |
             put_num(d, "v_left", PyFloat_FromDouble(-b->vx * s + b->vy * c)) |
             put_num(d, "angular_velocity", PyFloat_FromDouble(b->angvel)) |
             put_num(d, "vx", PyFloat_FromDouble(b->vx)) |
             put_num(d, "vy", PyFloat_FromDouble(b->vy)) |
             put_num(d, "surface", PyUnicode_FromString(g_flat.surfaces.s[b->surface].name)) |
             put_num(d, "sliding", PyBool_FromLong(b->sliding)) |
             put_num(d, "nitro_charges", PyLong_FromLong(b->nitro_charges)) |
             put_num(d, "nitro_time", PyFloat_FromDouble((double)b->nitro_ticks / CR_TICK_RATE)) |
             put_num(d, "nitro_held", PyBool_FromLong(b->nitro_held)) |
             put_num(d, "ticks", PyLong_FromLong(ticks));
    if (rc) Py_CLEAR(d);
    return d;
}

/* predict(state, actions, ticks[, nitro_held]) */
PyObject *predict_call(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (guard_expired) return guard_raise_timeout();
    if (nargs < 3 || nargs > 4) {
        PyErr_SetString(PyExc_TypeError, "predict(state, actions, ticks) takes 3 arguments");
        return NULL;
    }
    if (!g_have_stats) {
        PyErr_SetString(PyExc_RuntimeError,
                        "predict() is not available: the host did not give the car's stats");
        return NULL;
    }
    if (!PyDict_Check(args[0]) || !PyDict_CheckExact(args[1])) {
        PyErr_SetString(PyExc_TypeError, "predict(): state and actions must be dicts");
        return NULL;
    }
    long ticks = PyLong_CheckExact(args[2]) ? PyLong_AsLong(args[2]) : -1;
    if (PyErr_Occurred()) PyErr_Clear();
    if (ticks < 0 || ticks > PREDICT_MAX_TICKS) {
        PyErr_Format(PyExc_ValueError, "predict(): ticks must be an int in 0..%d",
                     PREDICT_MAX_TICKS);
        return NULL;
    }
    bool held = nargs == 4 && args[3] == Py_True;
    BotActions acts;
    char msg[BOT_MESSAGE_MAX], note[BOT_MESSAGE_MAX];
    if (marshal_actions_keep(args[1], &acts, msg, sizeof msg, note, sizeof note) < 0) {
        PyErr_Format(PyExc_ValueError, "predict(): %s", msg);
        return NULL;
    }
    CarBody car;
    if (car_from_state(args[0], held, &car) < 0) return NULL;
    car_set_input(&car, &acts.input);
    for (long t = 0; t < ticks; t++) {
        if ((t & 31) == 31 && guard_expired) return guard_raise_timeout();
        (void)car_step(&car, &g_flat);
    }
    return car_to_state(&car, ticks);
}
