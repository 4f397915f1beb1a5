/*
 * fuzz_marshal.c - Python values into marshal_actions, the worker's check of
 * what a bot's on_tick returned, in embedded CPython configured as the
 * zygote configures it (isolated). The input is a small grammar that builds
 * the value: dicts, lists, tuples, str (any code points, lone surrogates
 * included, so keys need not encode as UTF-8), bytes, floats (any bit
 * pattern), ints (big ones too), None, bools, nested; the action keys and
 * drawing kinds are one byte away so inputs reach every branch.
 *
 * marshal_actions must return 0 or -1, leave no Python error set, say why
 * when it refuses, and accept only actions in range.
 */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "botd.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_DEPTH 8
#define MAX_ITEMS 40

static const char *const WORDS[] = {
    "throttle",   "brake", "steer",  "debug", "nitro", "handbrake", "accelerate", "turn_left",
    "turn_right", "line",  "circle", "text",  "",      "t",         "s",          "b"};

static PyObject *build(FuzzInput *in, int depth);

static PyObject *build_seq(FuzzInput *in, int depth, bool tuple) {
    Py_ssize_t n = fuzz_u8(in) % MAX_ITEMS;
    PyObject *l = PyList_New(0);
    for (Py_ssize_t i = 0; l && i < n && fuzz_left(in); i++) {
        PyObject *v = build(in, depth + 1);
        if (!v || PyList_Append(l, v) < 0) Py_CLEAR(l);
        Py_XDECREF(v);
    }
    if (l && tuple) {
        PyObject *t = PyList_AsTuple(l);
        Py_DECREF(l);
        return t;
    }
    return l;
}

static PyObject *build_dict(FuzzInput *in, int depth) {
    Py_ssize_t n = fuzz_u8(in) % 20;
    PyObject *d = PyDict_New();
    for (Py_ssize_t i = 0; d && i < n && fuzz_left(in); i++) {
        PyObject *k = build(in, depth + 1), *v = build(in, depth + 1);
        if (!k || !v) {
            Py_CLEAR(d);
        } else if (PyDict_SetItem(d, k, v) < 0) {
            PyErr_Clear(); /* unhashable key: leave it out */
        }
        Py_XDECREF(k);
        Py_XDECREF(v);
    }
    return d;
}

static PyObject *build_str(FuzzInput *in) {
    size_t n = fuzz_u8(in) % 80;
    Py_UCS4 cps[80];
    for (size_t i = 0; i < n; i++) {
        uint8_t c = fuzz_u8(in);
        /* Mostly ASCII; 0xd800.. gives lone surrogates, 0xff.. astral planes. */
        cps[i] = c < 0xf0 ? c : c < 0xf8 ? 0xd800 + (c & 7) : 0x1f600 + (c & 7);
    }
    return PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, cps, (Py_ssize_t)n);
}

static PyObject *build(FuzzInput *in, int depth) {
    uint8_t tag = fuzz_u8(in);
    if (depth >= MAX_DEPTH) tag %= 8; /* leaves only */
    switch (tag % 14) {
        case 0:
            Py_RETURN_NONE;
        case 1:
            Py_RETURN_TRUE;
        case 2:
            Py_RETURN_FALSE;
        case 3:
            return PyLong_FromLongLong((int64_t)fuzz_u64(in));
        case 4:
            return PyFloat_FromDouble(fuzz_f64(in));
        case 5: { /* a float near the ranges that matter */
            static const double near[] = {0.0,       -0.0,       1.0, -1.0,    0.5,
                                          1.0000001, -1.0000001, 1e7, 1e7 + 1, -1e7,
                                          16777215,  16777216,   -1};
            return PyFloat_FromDouble(near[fuzz_u8(in) % (sizeof near / sizeof near[0])]);
        }
        case 6:
            return PyLong_FromLong((int8_t)fuzz_u8(in));
        case 7: { /* a big int: 2**k + small */
            PyObject *one = PyLong_FromLong(1), *k = PyLong_FromLong(fuzz_u8(in));
            PyObject *v = one && k ? PyNumber_Lshift(one, k) : NULL;
            Py_XDECREF(one);
            Py_XDECREF(k);
            return v;
        }
        case 8:
            return PyUnicode_FromString(WORDS[fuzz_u8(in) % (sizeof WORDS / sizeof WORDS[0])]);
        case 9:
            return build_str(in);
        case 10: {
            size_t n = fuzz_u8(in) % 16;
            char b[16];
            fuzz_take(in, b, n);
            return PyBytes_FromStringAndSize(b, (Py_ssize_t)n);
        }
        case 11:
            return build_seq(in, depth, false);
        case 12:
            return build_seq(in, depth, true);
        default:
            return build_dict(in, depth);
    }
}

static void python_start(void) {
    PyPreConfig pre;
    PyPreConfig_InitIsolatedConfig(&pre);
    pre.allocator = PYMEM_ALLOCATOR_MALLOC; /* every object visible to ASan */
    PyStatus st = Py_PreInitialize(&pre);
    assert(!PyStatus_Exception(st));
    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    config.site_import = 0;
    config.install_signal_handlers = 0; /* libFuzzer owns the signals */
    config.use_hash_seed = 1;           /* as the zygote: reproducible runs */
    config.hash_seed = 0;
    st = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    assert(!PyStatus_Exception(st));
    static const float rays[SENSOR_RAYS] = {0};
    int rc = marshal_init(rays, SENSOR_RAYS, NULL, 0);
    assert(rc == 0);
}

static bool mentions_null(PyObject *v) {
    PyObject *r = PyObject_Repr(v);
    const char *s = r ? PyUnicode_AsUTF8(r) : NULL;
    bool yes = s && strstr(s, "(null)");
    Py_XDECREF(r);
    PyErr_Clear();
    return yes;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static bool started;
    if (!started) python_start(), started = true;
    FuzzInput in = {data, size, 0};
    PyObject *v = build(&in, 0);
    if (!v) {
        PyErr_Clear(); /* the grammar asked for something Python refused */
        return 0;
    }
    BotActions acts;
    char msg[BOT_MESSAGE_MAX];
    memset(msg, 0, sizeof msg);
    int rc = marshal_actions(v, &acts, msg, sizeof msg);
    assert(rc == 0 || rc == -1);
    assert(!PyErr_Occurred()); /* the contract: no Python error left behind */
    if (rc < 0) {
        assert(msg[0] != 0);
        /* glibc prints a NULL %s as "(null)": a name that did not encode
         * (unless the value itself holds that text). */
        assert(strstr(msg, "(null)") == NULL || mentions_null(v));
    } else {
        const CarInput *a = &acts.input;
        assert(a->throttle >= 0 && a->throttle <= 1);
        assert(a->brake >= 0 && a->brake <= 1);
        assert(a->steer >= -1 && a->steer <= 1);
        assert(acts.n_draw >= 0 && acts.n_draw <= BOT_MAX_DRAWINGS);
        for (int i = 0; i < acts.n_draw; i++) {
            const BotDrawing *d = &acts.draw[i];
            assert(d->kind <= BOT_DRAW_TEXT && d->rgb <= 0xffffff);
            assert(isfinite(d->a) && isfinite(d->b) && isfinite(d->c) && isfinite(d->d));
            assert(memchr(d->text, 0, sizeof d->text) != NULL);
        }
    }
    Py_DECREF(v);
    return 0;
}
