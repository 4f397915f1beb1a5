/*
 * marshal.c - sensor records to plain Python data and on_tick's return value
 * to actions, both in C (ARCHITECTURE.md lesson 12: marshalling dominates a
 * bot call). Keys are interned once; the state holds only dicts, lists,
 * tuples, floats, ints, bools and str, nothing through which bot code could
 * reach the host. Actions are checked with exact types (`type(x) is float`),
 * so no bot-defined __eq__, __float__ or __hash__ ever runs here.
 */
#include <math.h>
#include <string.h>

#include "guards.h"

/* Interned keys, one per field name. */
enum {
    K_TICK,
    K_TIME,
    K_PHASE,
    K_X,
    K_Y,
    K_HEADING,
    K_SPEED,
    K_V_FORWARD,
    K_V_LEFT,
    K_ANGULAR_VELOCITY,
    K_SURFACE,
    K_EDGE_LEFT,
    K_EDGE_RIGHT,
    K_ON_ROAD,
    K_SLIDING,
    K_FINISHED,
    K_DNF,
    K_NITRO_CHARGES,
    K_NITRO_TIME,
    K_TOP_SPEED,
    K_CHECKPOINTS_PASSED,
    K_CHECKPOINTS_TOTAL,
    K_POSITION,
    K_CARS,
    K_PROGRESS,
    K_STAGE_LENGTH,
    K_RAYS,
    K_RAY_ANGLES,
    K_OPPONENTS,
    K_CHECKPOINTS,
    K_PACE,
    K_FORWARD,
    K_LEFT,
    K_DISTANCE,
    K_BEARING,
    K_HEADING_REL,
    K_REL_V_FORWARD,
    K_REL_V_LEFT,
    K_WIDTH,
    K_INDEX,
    K_IS_FINISH,
    K_AHEAD,
    K_CURVATURE,
    K_CHECKPOINT,
    K_OTHER,
    K_IMPULSE,
    K_WALL,
    K_DNF_REASON,
    K_COUNT
};

static const char *const KEY_NAMES[K_COUNT] = {"tick",
                                               "time",
                                               "phase",
                                               "x",
                                               "y",
                                               "heading",
                                               "speed",
                                               "v_forward",
                                               "v_left",
                                               "angular_velocity",
                                               "surface",
                                               "edge_left",
                                               "edge_right",
                                               "on_road",
                                               "sliding",
                                               "finished",
                                               "dnf",
                                               "nitro_charges",
                                               "nitro_time",
                                               "top_speed",
                                               "checkpoints_passed",
                                               "checkpoints_total",
                                               "position",
                                               "cars",
                                               "progress",
                                               "stage_length",
                                               "rays",
                                               "ray_angles",
                                               "opponents",
                                               "checkpoints",
                                               "pace",
                                               "forward",
                                               "left",
                                               "distance",
                                               "bearing",
                                               "heading_rel",
                                               "rel_v_forward",
                                               "rel_v_left",
                                               "width",
                                               "index",
                                               "is_finish",
                                               "ahead",
                                               "curvature",
                                               "checkpoint",
                                               "other",
                                               "impulse",
                                               "wall",
                                               "dnf_reason"};

static PyObject *g_key[K_COUNT];
static PyObject *g_surface_name[SURFACE_MAX + 1]; /* by index; after the last: "unknown" */
static int g_n_surfaces;
static PyObject *g_phase_name[4]; /* countdown, running, finished, unknown */
static PyObject *g_ray_angles;    /* tuple, shared by every state */

int marshal_init(const float *ray_angles, size_t n_rays, const float *pace_ahead, size_t n_pace) {
    (void)pace_ahead, (void)n_pace;
    static const char *const phases[] = {"countdown", "running", "finished", "unknown"};
    for (int i = 0; i < K_COUNT; i++) {
        if (!g_key[i] && !(g_key[i] = PyUnicode_InternFromString(KEY_NAMES[i]))) return -1;
    }
    if (!g_n_surfaces && marshal_set_surfaces(surface_table_default()) < 0) return -1;
    for (int i = 0; i < 4; i++) {
        if (!g_phase_name[i] && !(g_phase_name[i] = PyUnicode_InternFromString(phases[i])))
            return -1;
    }
    PyObject *t = PyTuple_New((Py_ssize_t)n_rays);
    if (!t) return -1;
    for (size_t i = 0; i < n_rays; i++) {
        PyObject *f = PyFloat_FromDouble(ray_angles[i]);
        if (!f) {
            Py_DECREF(t);
            return -1;
        }
        PyTuple_SET_ITEM(t, (Py_ssize_t)i, f);
    }
    Py_XSETREF(g_ray_angles, t);
    return 0;
}

/* Sets d[key] = v and drops the reference to v; tolerates v == NULL (an
 * earlier failure) by returning -1. */
static int put(PyObject *d, int key, PyObject *v) {
    if (!v) return -1;
    int rc = PyDict_SetItem(d, g_key[key], v);
    Py_DECREF(v);
    return rc;
}

static int put_f(PyObject *d, int key, double v) {
    return put(d, key, PyFloat_FromDouble(v));
}

static int put_i(PyObject *d, int key, long v) {
    return put(d, key, PyLong_FromLong(v));
}

static int put_b(PyObject *d, int key, bool v) {
    return put(d, key, PyBool_FromLong(v));
}

/* A bool field of a record that arrived as raw bytes, read as its byte: a
 * byte other than 0 or 1 loaded as bool would be undefined behaviour. */
#define RAW_BOOL(field) (*(const unsigned char *)&(field) != 0)

int marshal_set_surfaces(const SurfaceTable *t) {
    PyObject *names[SURFACE_MAX + 1] = {0};
    int n = t->count > 0 && t->count <= SURFACE_MAX ? t->count : 0;
    for (int i = 0; i <= n; i++) {
        if (!(names[i] = PyUnicode_InternFromString(i < n ? t->s[i].name : "unknown"))) {
            for (int k = 0; k < i; k++) Py_DECREF(names[k]);
            return -1;
        }
    }
    for (int i = 0; i <= SURFACE_MAX; i++) Py_CLEAR(g_surface_name[i]);
    for (int i = 0; i <= n; i++) g_surface_name[i] = names[i];
    g_n_surfaces = n;
    return 0;
}

static PyObject *surface_str(int32_t s) {
    return Py_NewRef(g_surface_name[s >= 0 && s < g_n_surfaces ? s : g_n_surfaces]);
}

static PyObject *opponent_dict(const SensorOpponent *o) {
    PyObject *d = PyDict_New();
    if (!d) return NULL;
    int rc = put_f(d, K_FORWARD, o->forward) | put_f(d, K_LEFT, o->left) |
             put_f(d, K_DISTANCE, o->distance) | put_f(d, K_BEARING, o->bearing) |
             put_f(d, K_SPEED, o->speed) | put_f(d, K_HEADING_REL, o->heading_rel) |
             put_f(d, K_REL_V_FORWARD, o->rel_vf) | put_f(d, K_REL_V_LEFT, o->rel_vl);
    if (rc) Py_CLEAR(d);
    return d;
}

static PyObject *checkpoint_dict(const SensorCheckpoint *c, int32_t total) {
    PyObject *d = PyDict_New();
    if (!d) return NULL;
    int rc = put_f(d, K_FORWARD, c->forward) | put_f(d, K_LEFT, c->left) |
             put_f(d, K_DISTANCE, c->distance) | put_f(d, K_BEARING, c->bearing) |
             put_f(d, K_WIDTH, c->width) | put_i(d, K_INDEX, c->index) |
             put_b(d, K_IS_FINISH, c->index >= total);
    if (rc) Py_CLEAR(d);
    return d;
}

static PyObject *pace_dict(const SensorPaceNote *p) {
    PyObject *d = PyDict_New();
    if (!d) return NULL;
    int rc = put_f(d, K_AHEAD, p->ahead) | put_f(d, K_FORWARD, p->forward) |
             put_f(d, K_LEFT, p->left) | put_f(d, K_BEARING, p->bearing) |
             put_f(d, K_WIDTH, p->width) | put_f(d, K_CURVATURE, p->curvature) |
             put(d, K_SURFACE, surface_str(p->surface));
    if (rc) Py_CLEAR(d);
    return d;
}

/* A list of n items made by make(i); NULL on error. */
static PyObject *list_of(int n, PyObject *(*make)(const SensorRecord *, int),
                         const SensorRecord *s) {
    PyObject *l = PyList_New(n);
    if (!l) return NULL;
    for (int i = 0; i < n; i++) {
        PyObject *v = make(s, i);
        if (!v) {
            Py_DECREF(l);
            return NULL;
        }
        PyList_SET_ITEM(l, i, v);
    }
    return l;
}

static PyObject *make_ray(const SensorRecord *s, int i) {
    return PyFloat_FromDouble(s->rays[i]);
}
static PyObject *make_opp(const SensorRecord *s, int i) {
    return opponent_dict(&s->opponents[i]);
}
static PyObject *make_cp(const SensorRecord *s, int i) {
    return checkpoint_dict(&s->checkpoints[i], s->checkpoints_total);
}
static PyObject *make_pace(const SensorRecord *s, int i) {
    return pace_dict(&s->pace[i]);
}

PyObject *marshal_state(const SensorRecord *s) {
    PyObject *d = PyDict_New();
    if (!d) return NULL;
    int phase = s->phase >= 0 && s->phase < 3 ? s->phase : 3;
    int n_opp = s->n_opponents < 0                      ? 0
                : s->n_opponents > SENSOR_MAX_OPPONENTS ? SENSOR_MAX_OPPONENTS
                                                        : s->n_opponents;
    int n_cp = s->n_checkpoints < 0                    ? 0
               : s->n_checkpoints > SENSOR_CHECKPOINTS ? SENSOR_CHECKPOINTS
                                                       : s->n_checkpoints;
    int rc = put_i(d, K_TICK, (long)s->tick) | put_f(d, K_TIME, s->time_s) |
             put(d, K_PHASE, Py_NewRef(g_phase_name[phase])) | put_f(d, K_X, s->x) |
             put_f(d, K_Y, s->y) | put_f(d, K_HEADING, s->heading) | put_f(d, K_SPEED, s->speed) |
             put_f(d, K_V_FORWARD, s->v_forward) | put_f(d, K_V_LEFT, s->v_left) |
             put_f(d, K_ANGULAR_VELOCITY, s->angular_velocity) |
             put(d, K_SURFACE, surface_str(s->surface)) | put_f(d, K_EDGE_LEFT, s->edge_left) |
             put_f(d, K_EDGE_RIGHT, s->edge_right) | put_b(d, K_ON_ROAD, RAW_BOOL(s->on_road)) |
             put_b(d, K_SLIDING, RAW_BOOL(s->sliding)) |
             put_b(d, K_FINISHED, RAW_BOOL(s->finished)) | put_b(d, K_DNF, RAW_BOOL(s->dnf)) |
             put_i(d, K_NITRO_CHARGES, s->nitro_charges) | put_f(d, K_NITRO_TIME, s->nitro_s) |
             put_f(d, K_TOP_SPEED, s->top_speed) |
             put_i(d, K_CHECKPOINTS_PASSED, s->checkpoints_passed) |
             put_i(d, K_CHECKPOINTS_TOTAL, s->checkpoints_total) |
             put_i(d, K_POSITION, s->position) | put_i(d, K_CARS, s->cars) |
             put_f(d, K_PROGRESS, s->progress) | put_f(d, K_STAGE_LENGTH, s->stage_length) |
             put(d, K_RAYS, list_of(SENSOR_RAYS, make_ray, s)) |
             put(d, K_RAY_ANGLES, Py_NewRef(g_ray_angles)) |
             put(d, K_OPPONENTS, list_of(n_opp, make_opp, s)) |
             put(d, K_CHECKPOINTS, list_of(n_cp, make_cp, s)) |
             put(d, K_PACE, list_of(SENSOR_PACE_NOTES, make_pace, s));
    if (rc) Py_CLEAR(d);
    return d;
}

PyObject *marshal_event(const BotWireEvent *ev, const char **method) {
    PyObject *d = PyDict_New();
    if (!d) return NULL;
    int rc = put_i(d, K_TICK, (long)ev->tick);
    switch (ev->type) {
        case BOT_EVENT_START:
            *method = "on_start";
            break;
        case BOT_EVENT_CHECKPOINT:
            *method = "on_checkpoint";
            rc |= put_i(d, K_CHECKPOINT, ev->a) | put_f(d, K_TIME, ev->value);
            break;
        case BOT_EVENT_COLLISION:
            *method = "on_collision";
            rc |= put_i(d, K_OTHER, ev->a) | put_b(d, K_WALL, ev->a < 0) |
                  put_f(d, K_IMPULSE, ev->value);
            break;
        default:
            *method = "on_finish";
            rc |= put_b(d, K_FINISHED, ev->a > 0) | put_b(d, K_DNF, ev->a <= 0) |
                  put_f(d, K_TIME, ev->value) |
                  put_i(d, K_DNF_REASON, ev->a < 0 ? -(long)ev->a : 0);
            break;
    }
    if (rc) Py_CLEAR(d);
    return d;
}

/* ---- actions ------------------------------------------------------------ */

/* An exact float or int (not bool) as a finite double. */
static int exact_number(PyObject *v, double *out) {
    if (PyFloat_CheckExact(v)) {
        *out = PyFloat_AS_DOUBLE(v);
    } else if (PyLong_CheckExact(v)) {
        int overflow;
        long long i = PyLong_AsLongLongAndOverflow(v, &overflow);
        if (overflow) return -1;
        *out = (double)i;
    } else {
        return -1;
    }
    return isfinite(*out) ? 0 : -1;
}

static const char *type_name(PyObject *v) {
    return Py_TYPE(v)->tp_name;
}

/* A str key for a message: its UTF-8 text cut to fit, or a placeholder for
 * a str that has no UTF-8 form (lone surrogates). Never NULL, no error left. */
static void key_text(PyObject *k, char *buf, size_t size) {
    Py_ssize_t n = 0;
    const char *s = PyUnicode_AsUTF8AndSize(k, &n);
    if (!s) {
        PyErr_Clear();
        snprintf(buf, size, "<not UTF-8>");
        return;
    }
    size_t keep = (size_t)n < size - 1 ? (size_t)n : size - 1;
    /* Cut on a character boundary so the message stays valid UTF-8. */
    while (keep > 0 && keep < (size_t)n && ((unsigned char)s[keep] & 0xc0) == 0x80) keep--;
    memcpy(buf, s, keep);
    buf[keep] = 0;
}

/* A drawing: ("line", x1, y1, x2, y2[, rgb]), ("circle", x, y, r[, rgb]),
 * ("text", x, y, "text"[, rgb]); a tuple or a list. */
static int parse_drawing(PyObject *item, BotDrawing *d, char *msg, size_t msg_size) {
    if (!PyTuple_CheckExact(item) && !PyList_CheckExact(item)) {
        snprintf(msg, msg_size, "debug drawings must be tuples, not %.40s", type_name(item));
        return -1;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(item);
    PyObject **v = PySequence_Fast_ITEMS(item);
    if (n < 1 || !PyUnicode_CheckExact(v[0])) {
        snprintf(msg, msg_size, "a debug drawing starts with \"line\", \"circle\" or \"text\"");
        return -1;
    }
    *d = (BotDrawing){.rgb = 0xffffff};
    int nums;
    if (PyUnicode_CompareWithASCIIString(v[0], "line") == 0) {
        d->kind = BOT_DRAW_LINE, nums = 4;
    } else if (PyUnicode_CompareWithASCIIString(v[0], "circle") == 0) {
        d->kind = BOT_DRAW_CIRCLE, nums = 3;
    } else if (PyUnicode_CompareWithASCIIString(v[0], "text") == 0) {
        d->kind = BOT_DRAW_TEXT, nums = 2;
    } else {
        snprintf(msg, msg_size, "unknown debug drawing kind");
        return -1;
    }
    Py_ssize_t want = 1 + nums + (d->kind == BOT_DRAW_TEXT);
    if (n != want && n != want + 1) {
        snprintf(msg, msg_size, "debug drawing has %zd items, expected %zd (+ optional color)", n,
                 want);
        return -1;
    }
    float *f[4] = {&d->a, &d->b, &d->c, &d->d};
    for (int i = 0; i < nums; i++) {
        double x;
        if (exact_number(v[1 + i], &x) < 0 || fabs(x) > 1e7) {
            snprintf(msg, msg_size, "debug drawing coordinates must be finite numbers");
            return -1;
        }
        *f[i] = (float)x;
    }
    if (d->kind == BOT_DRAW_TEXT) {
        PyObject *t = v[1 + nums];
        Py_ssize_t len;
        const char *s = PyUnicode_CheckExact(t) ? PyUnicode_AsUTF8AndSize(t, &len) : NULL;
        if (!s || len > BOT_DRAW_TEXT_MAX || memchr(s, 0, (size_t)len)) {
            PyErr_Clear();
            snprintf(msg, msg_size, "debug text must be a UTF-8 str of at most %d bytes, no NUL",
                     BOT_DRAW_TEXT_MAX);
            return -1;
        }
        memcpy(d->text, s, (size_t)len);
        d->text[len] = 0;
    }
    if (n == want + 1) {
        double c;
        if (!PyLong_CheckExact(v[want]) || exact_number(v[want], &c) < 0 || c < 0 || c > 0xffffff) {
            snprintf(msg, msg_size, "debug color must be an int 0xRRGGBB");
            return -1;
        }
        d->rgb = (uint32_t)c;
    }
    return 0;
}

enum {
    A_THROTTLE = 1 << 0,
    A_BRAKE = 1 << 1,
    A_STEER = 1 << 2,
    A_ACCELERATE = 1 << 3,
    A_TURN = 1 << 4
};

/* The debug list: good drawings kept, bad ones dropped with the first
 * reason in note. */
static void parse_debug(PyObject *v, BotActions *out, char *note, size_t note_size) {
    if (!PyList_CheckExact(v) && !PyTuple_CheckExact(v)) {
        snprintf(note, note_size, "debug must be a list of drawings, not %.40s", type_name(v));
        return;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(v);
    if (n > BOT_MAX_DRAWINGS) {
        snprintf(note, note_size, "debug has %zd drawings; the first %d are kept", n,
                 BOT_MAX_DRAWINGS);
        n = BOT_MAX_DRAWINGS;
    }
    int dropped = 0;
    char why[160] = "";
    for (Py_ssize_t i = 0; i < n; i++) {
        char reason[128];
        if (parse_drawing(PySequence_Fast_GET_ITEM(v, i), &out->draw[out->n_draw], reason,
                          sizeof reason) < 0) {
            if (!dropped++) snprintf(why, sizeof why, "item %zd: %s", i, reason);
            continue;
        }
        out->n_draw++;
    }
    if (dropped && !note[0]) {
        snprintf(note, note_size, "%d debug drawing%s dropped (%s)", dropped,
                 dropped > 1 ? "s" : "", why);
    }
}

int marshal_actions(PyObject *ret, BotActions *out, char *msg, size_t msg_size) {
    char note[BOT_MESSAGE_MAX];
    return marshal_actions_keep(ret, out, msg, msg_size, note, sizeof note);
}

int marshal_actions_keep(PyObject *ret, BotActions *out, char *msg, size_t msg_size, char *note,
                         size_t note_size) {
    *out = (BotActions){0};
    note[0] = 0;
    if (ret == Py_None) {
        snprintf(msg, msg_size, "on_tick returned None; it must return a dict of actions");
        return -1;
    }
    if (!PyDict_CheckExact(ret)) {
        snprintf(msg, msg_size, "on_tick returned a %.40s; it must return a dict of actions",
                 type_name(ret));
        return -1;
    }
    if (PyDict_GET_SIZE(ret) > 16) {
        snprintf(msg, msg_size, "on_tick returned %zd keys; the actions have at most 9",
                 PyDict_GET_SIZE(ret));
        return -1;
    }
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    unsigned seen = 0;
    bool left = false, right = false;
    CarInput *in = &out->input;
    while (PyDict_Next(ret, &pos, &k, &v)) {
        if (!PyUnicode_CheckExact(k)) {
            snprintf(msg, msg_size, "action keys must be str, not %.40s", type_name(k));
            return -1;
        }
        double x;
        if (!PyUnicode_CompareWithASCIIString(k, "throttle") ||
            !PyUnicode_CompareWithASCIIString(k, "steer") ||
            (!PyUnicode_CompareWithASCIIString(k, "brake") && !PyBool_Check(v))) {
            const char *name = PyUnicode_AsUTF8(k); /* ASCII: equal to a literal */
            if (!name) {
                PyErr_Clear();
                snprintf(msg, msg_size, "cannot read an action key");
                return -1;
            }
            bool steer = name[0] == 's';
            if (exact_number(v, &x) < 0) {
                snprintf(msg, msg_size, "%s must be a finite float, not %.40s", name, type_name(v));
                return -1;
            }
            if (x < (steer ? -1.0 : 0.0) || x > 1.0) {
                snprintf(msg, msg_size, "%s = %g is out of range [%d, 1]", name, x, steer ? -1 : 0);
                return -1;
            }
            if (steer) {
                in->steer = (float)x, seen |= A_STEER;
            } else if (name[0] == 't') {
                in->throttle = (float)x, seen |= A_THROTTLE;
            } else {
                in->brake = (float)x, seen |= A_BRAKE;
            }
            continue;
        }
        if (!PyUnicode_CompareWithASCIIString(k, "debug")) {
            parse_debug(v, out, note, note_size);
            continue;
        }
        /* The rest are switches: exact bools only. */
        static const char *const switches[] = {"nitro",     "handbrake",  "accelerate",
                                               "turn_left", "turn_right", "brake"};
        int which = -1;
        for (int i = 0; i < 6; i++) {
            if (!PyUnicode_CompareWithASCIIString(k, switches[i])) which = i;
        }
        if (which < 0) {
            char key[33];
            key_text(k, key, sizeof key);
            snprintf(msg, msg_size, "unknown action key \"%s\"", key);
            return -1;
        }
        if (!PyBool_Check(v)) {
            snprintf(msg, msg_size, "%s must be True or False, not %.40s", switches[which],
                     type_name(v));
            return -1;
        }
        bool on = v == Py_True;
        switch (which) {
            case 0:
                in->nitro = on;
                break;
            case 1:
                in->handbrake = on;
                break;
            case 2:
                seen |= A_ACCELERATE;
                in->throttle = on ? 1.0f : 0.0f;
                break;
            case 3:
                seen |= A_TURN, left = on;
                break;
            case 4:
                seen |= A_TURN, right = on;
                break;
            default:
                seen |= A_BRAKE;
                in->brake = on ? 1.0f : 0.0f;
                break;
        }
    }
    if ((seen & A_THROTTLE) && (seen & A_ACCELERATE)) {
        snprintf(msg, msg_size, "give either throttle or accelerate, not both");
        return -1;
    }
    if ((seen & A_STEER) && (seen & A_TURN)) {
        snprintf(msg, msg_size, "give either steer or turn_left/turn_right, not both");
        return -1;
    }
    if (seen & A_TURN) in->steer = (float)(left - right);
    return 0;
}
