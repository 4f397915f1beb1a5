/*
 * guards.c - the _crguard module: the functions RestrictedPython-compiled bot
 * code calls for every attribute read (_getattr_), subscript (_getitem_),
 * loop (_getiter_), attribute or item write (_write_) and augmented
 * assignment (_inplacevar_). They run on every hot path of a bot, so they
 * are C: as Python functions they made a typical bot ~5x slower.
 *
 * Policy: no attribute whose name starts with "_", none of the inspection
 * attributes that reach frames, code or generators, str.format only through
 * crsandbox's formatter (whose "{0.x}" fields come back through these
 * guards), no `mro` (it hands out BaseException), no exception `.obj`;
 * type() with one argument only; special methods through super() only from
 * the bot's own classes; writes only into plain dicts and lists and into
 * objects of classes the bot defined itself.
 */
#include <math.h>
#include <string.h>
#include <time.h>

#include "guards.h"

volatile sig_atomic_t guard_expired;

static PyObject *g_timeout_type; /* crsandbox.BotTimeout */
static PyObject *g_blocked;      /* frozenset of attribute names never allowed */
static PyObject *g_bot_types;    /* set of classes created by bot code */
static PyObject *g_str_format;   /* crsandbox's str.format and format_map */
static PyObject *g_str_format_map;
static PyObject *g_super_names; /* special methods reachable through super() */
static PyObject *g_type_fn;     /* our type(), handed back for type(a_class) */

/* ---- CPU clock for bots ------------------------------------------------- */

static uint64_t g_cpu0_us, g_cpu_budget_us;
static uint64_t g_cpu_ticks, g_cpu_total_us;

/* The worker runs bot code on one thread. Its thread clock is exact; the
 * process clock is not once ITIMER_PROF is armed (Linux then samples the
 * group timer, updated only at scheduler ticks). */
uint64_t guard_cpu_now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void guard_cpu_begin(uint32_t budget_us) {
    g_cpu_budget_us = budget_us;
    g_cpu0_us = guard_cpu_now_us();
}

void guard_cpu_tick_done(uint64_t used_us) {
    g_cpu_ticks++;
    g_cpu_total_us += used_us;
}

static PyObject *cpu_used(PyObject *self, PyObject *unused) {
    (void)self, (void)unused;
    uint64_t now = guard_cpu_now_us();
    return PyFloat_FromDouble(now > g_cpu0_us ? (double)(now - g_cpu0_us) / 1000.0 : 0.0);
}

static PyObject *cpu_budget(PyObject *self, PyObject *unused) {
    (void)self, (void)unused;
    return PyFloat_FromDouble((double)g_cpu_budget_us / 1000.0);
}

static PyObject *cpu_average(PyObject *self, PyObject *unused) {
    (void)self, (void)unused;
    return PyFloat_FromDouble(g_cpu_ticks ? (double)g_cpu_total_us / 1000.0 / (double)g_cpu_ticks
                                          : 0.0);
}

/* ---- log ---------------------------------------------------------------- */

static char g_log[BOT_LOG_CHUNK_MAX];
static size_t g_log_len;   /* pending, not yet taken */
static size_t g_log_total; /* over the worker's life */
static size_t g_log_cap = 64 * 1024;
static bool g_log_truncated;

void guard_log_configure(size_t cap) {
    g_log_cap = cap;
}

/* Printing past the per-reply chunk or the lifetime cap keeps what fits and
 * then one note; the rest of that call's output is dropped. */
void guard_log_append(const char *s, size_t n) {
    static const char note[] = "[print output truncated]\n";
    if (g_log_truncated) return;
    size_t room = sizeof g_log - (sizeof note - 1) - g_log_len;
    size_t budget = g_log_cap > g_log_total ? g_log_cap - g_log_total : 0;
    size_t keep = n < room ? n : room;
    if (keep > budget) keep = budget;
    memcpy(g_log + g_log_len, s, keep);
    g_log_len += keep;
    g_log_total += keep;
    if (keep < n) {
        memcpy(g_log + g_log_len, note, sizeof note - 1);
        g_log_len += sizeof note - 1;
        g_log_truncated = true;
    }
}

const char *guard_log_take(size_t *n) {
    *n = g_log_len;
    g_log_len = 0;
    /* Cut by the chunk size only: the next call may print again. */
    if (g_log_total < g_log_cap) g_log_truncated = false;
    return g_log;
}

/* ---- helpers ------------------------------------------------------------ */

int guard_bind_timeout(PyObject *timeout_type) {
    Py_XINCREF(timeout_type);
    Py_XSETREF(g_timeout_type, timeout_type);
    return g_timeout_type ? 0 : -1;
}

PyObject *guard_raise_timeout(void) {
    PyErr_SetString(g_timeout_type ? g_timeout_type : PyExc_RuntimeError, "CPU budget exceeded");
    return NULL;
}

#define CHECK_EXPIRED() \
    if (guard_expired) return guard_raise_timeout()

/* 0 if bot code may touch attribute name of obj, else -1 with an error set. */
static int check_attr(PyObject *obj, PyObject *name) {
    if (!PyUnicode_CheckExact(name)) {
        PyErr_SetString(PyExc_TypeError, "attribute name must be a str");
        return -1;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(name);
    if (n > 0 && PyUnicode_READ_CHAR(name, 0) == '_') {
        PyErr_Format(PyExc_AttributeError,
                     "\"%U\" is an invalid attribute name because it starts with \"_\"", name);
        return -1;
    }
    int blocked = PySet_Contains(g_blocked, name);
    if (blocked < 0) return -1;
    if (blocked) goto refuse;
    if ((n == 6 && PyUnicode_CompareWithASCIIString(name, "format") == 0) ||
        (n == 10 && PyUnicode_CompareWithASCIIString(name, "format_map") == 0)) {
        if (PyUnicode_Check(obj) ||
            (PyType_Check(obj) && PyType_IsSubtype((PyTypeObject *)obj, &PyUnicode_Type))) {
            goto refuse;
        }
    }
    if (n == 3 && PyUnicode_CompareWithASCIIString(name, "obj") == 0 &&
        PyExceptionInstance_Check(obj)) {
        goto refuse;
    }
    return 0;
refuse:
    PyErr_Format(PyExc_AttributeError, "access to \"%U\" is not allowed in bots", name);
    return -1;
}

/* ---- the guards --------------------------------------------------------- */

/* s.format / s.format_map (bound) and str.format (unbound) through
 * crsandbox's guarded formatter; NULL without an error if name is neither. */
static PyObject *safe_format(PyObject *obj, PyObject *name) {
    /* On every attribute read: the cheap type tests first. */
    bool on_str = PyUnicode_Check(obj);
    if (!on_str && !(PyType_Check(obj) && PyType_IsSubtype((PyTypeObject *)obj, &PyUnicode_Type)))
        return NULL;
    if (!PyUnicode_CheckExact(name) || !g_str_format) return NULL;
    PyObject *fn = NULL;
    if (PyUnicode_CompareWithASCIIString(name, "format") == 0) {
        fn = g_str_format;
    } else if (PyUnicode_CompareWithASCIIString(name, "format_map") == 0) {
        fn = g_str_format_map;
    } else {
        return NULL;
    }
    return on_str ? PyMethod_New(fn, obj) : Py_NewRef(fn);
}

static PyObject *guarded_getattr(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    CHECK_EXPIRED();
    if (nargs < 2 || nargs > 3) {
        PyErr_SetString(PyExc_TypeError, "getattr expects 2 or 3 arguments");
        return NULL;
    }
    PyObject *fmt = safe_format(args[0], args[1]);
    if (fmt || PyErr_Occurred()) return fmt;
    if (check_attr(args[0], args[1]) < 0) return NULL;
    PyObject *v = PyObject_GetAttr(args[0], args[1]);
    if (!v && nargs == 3 && PyErr_ExceptionMatches(PyExc_AttributeError)) {
        PyErr_Clear();
        return Py_NewRef(args[2]);
    }
    return v;
}

static PyObject *guarded_hasattr(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    CHECK_EXPIRED();
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "hasattr expects 2 arguments");
        return NULL;
    }
    PyObject *fmt = safe_format(args[0], args[1]);
    if (fmt) {
        Py_DECREF(fmt);
        Py_RETURN_TRUE;
    }
    if (PyErr_Occurred()) return NULL;
    if (check_attr(args[0], args[1]) < 0) return NULL;
    PyObject *v = PyObject_GetAttr(args[0], args[1]);
    if (v) {
        Py_DECREF(v);
        Py_RETURN_TRUE;
    }
    if (!PyErr_ExceptionMatches(PyExc_AttributeError)) return NULL;
    PyErr_Clear();
    Py_RETURN_FALSE;
}

/* May bot code write into obj? Plain containers and its own objects. */
static int writable(PyObject *obj) {
    if (PyDict_CheckExact(obj) || PyList_CheckExact(obj)) return 1;
    int r = PySet_Contains(g_bot_types, (PyObject *)Py_TYPE(obj));
    if (r != 0) return r;
    return PyType_Check(obj) ? PySet_Contains(g_bot_types, obj) : 0;
}

static PyObject *guarded_write(PyObject *self, PyObject *obj) {
    (void)self;
    CHECK_EXPIRED();
    int r = writable(obj);
    if (r < 0) return NULL;
    if (!r) {
        PyErr_Format(PyExc_TypeError, "bots cannot modify objects of type %.64s",
                     Py_TYPE(obj)->tp_name);
        return NULL;
    }
    return Py_NewRef(obj);
}

static PyObject *guarded_setattr(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    CHECK_EXPIRED();
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "setattr expects 3 arguments");
        return NULL;
    }
    if (check_attr(args[0], args[1]) < 0) return NULL;
    PyObject *w = guarded_write(NULL, args[0]);
    if (!w) return NULL;
    Py_DECREF(w);
    if (PyObject_SetAttr(args[0], args[1], args[2]) < 0) return NULL;
    Py_RETURN_NONE;
}

static PyObject *guarded_getitem(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    CHECK_EXPIRED();
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "_getitem_ expects 2 arguments");
        return NULL;
    }
    return PyObject_GetItem(args[0], args[1]);
}

static PyObject *guarded_iter(PyObject *self, PyObject *obj) {
    (void)self;
    CHECK_EXPIRED();
    return PyObject_GetIter(obj);
}

/* RestrictedPython routes tuple targets of for loops and assignments through
 * these so a policy could inspect each element; ours has nothing to add to
 * Python's own unpacking, so they hand back an iterator / the value. */
static PyObject *iter_unpack_sequence(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    CHECK_EXPIRED();
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "_iter_unpack_sequence_ expects 3 arguments");
        return NULL;
    }
    return PyObject_GetIter(args[0]);
}

static PyObject *unpack_sequence(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    CHECK_EXPIRED();
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "_unpack_sequence_ expects 3 arguments");
        return NULL;
    }
    return Py_NewRef(args[0]);
}

static PyObject *apply(PyObject *self, PyObject *args, PyObject *kw) {
    (void)self;
    CHECK_EXPIRED();
    Py_ssize_t n = PyTuple_GET_SIZE(args);
    if (n < 1) {
        PyErr_SetString(PyExc_TypeError, "_apply_ needs a callable");
        return NULL;
    }
    PyObject *rest = PyTuple_GetSlice(args, 1, n);
    if (!rest) return NULL;
    PyObject *r = PyObject_Call(PyTuple_GET_ITEM(args, 0), rest, kw);
    Py_DECREF(rest);
    return r;
}

static PyObject *inplacevar(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    CHECK_EXPIRED();
    if (nargs != 3 || !PyUnicode_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "_inplacevar_ expects (op, x, y)");
        return NULL;
    }
    const char *op = PyUnicode_AsUTF8(args[0]);
    if (!op) return NULL;
    PyObject *x = args[1], *y = args[2];
    if (!strcmp(op, "+=")) return PyNumber_InPlaceAdd(x, y);
    if (!strcmp(op, "-=")) return PyNumber_InPlaceSubtract(x, y);
    if (!strcmp(op, "*=")) return PyNumber_InPlaceMultiply(x, y);
    if (!strcmp(op, "/=")) return PyNumber_InPlaceTrueDivide(x, y);
    if (!strcmp(op, "//=")) return PyNumber_InPlaceFloorDivide(x, y);
    if (!strcmp(op, "%=")) return PyNumber_InPlaceRemainder(x, y);
    if (!strcmp(op, "**=")) return PyNumber_InPlacePower(x, y, Py_None);
    if (!strcmp(op, "<<=")) return PyNumber_InPlaceLshift(x, y);
    if (!strcmp(op, ">>=")) return PyNumber_InPlaceRshift(x, y);
    if (!strcmp(op, "|=")) return PyNumber_InPlaceOr(x, y);
    if (!strcmp(op, "^=")) return PyNumber_InPlaceXor(x, y);
    if (!strcmp(op, "&=")) return PyNumber_InPlaceAnd(x, y);
    if (!strcmp(op, "@=")) return PyNumber_InPlaceMatrixMultiply(x, y);
    PyErr_Format(PyExc_ValueError, "unknown in-place operator %.8s", op);
    return NULL;
}

/* type(x) with one argument. The type of a class is handed back as this
 * function itself, so `type(type(x))` cannot reach the real type() and its
 * three-argument form (a class built past the metaclass below, with any
 * special method). */
static PyObject *guarded_type(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    CHECK_EXPIRED();
    if (nargs != 1) {
        PyErr_SetString(PyExc_TypeError,
                        "type() takes exactly one argument in bots (write a class statement "
                        "instead of type(name, bases, dict))");
        return NULL;
    }
    PyTypeObject *t = Py_TYPE(args[0]);
    if (PyType_IsSubtype(t, &PyType_Type)) {
        if (t == &PyType_Type && g_type_fn) return Py_NewRef(g_type_fn);
        PyErr_SetString(PyExc_TypeError, "the type of this class is not available to bots");
        return NULL;
    }
    return Py_NewRef((PyObject *)t);
}

/* super().NAME for the special methods a bot may define: only on a super
 * object bound to an instance (or subclass) of a class the bot defined. */
static PyObject *super_attr(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    CHECK_EXPIRED();
    if (nargs != 2 || !PyUnicode_CheckExact(args[1])) {
        PyErr_SetString(PyExc_TypeError, "_super_attr_ expects (super(), name)");
        return NULL;
    }
    if (!PyObject_TypeCheck(args[0], &PySuper_Type)) {
        PyErr_Format(PyExc_AttributeError,
                     "access to \"%U\" is not allowed in bots (only through super())", args[1]);
        return NULL;
    }
    int ok = g_super_names ? PySet_Contains(g_super_names, args[1]) : 0;
    if (ok < 0) return NULL;
    PyObject *cls = ok ? PyObject_GetAttrString(args[0], "__self_class__") : NULL;
    if (ok && !cls) return NULL;
    ok = cls && PyType_Check(cls) ? PySet_Contains(g_bot_types, cls) : 0;
    Py_XDECREF(cls);
    if (ok < 0) return NULL;
    if (!ok) {
        PyErr_Format(PyExc_AttributeError,
                     "access to \"%U\" is not allowed in bots (super() works in the bot's own "
                     "classes only)",
                     args[1]);
        return NULL;
    }
    return PyObject_GetAttr(args[0], args[1]);
}

/* check_name(name): raises as getattr would for a name bot code may never
 * read (for str.format fields, which only ever give text). */
static PyObject *check_name(PyObject *self, PyObject *name) {
    (void)self;
    CHECK_EXPIRED();
    if (check_attr(Py_None, name) < 0) return NULL;
    Py_RETURN_NONE;
}

/* Zygote set-up from crsandbox: the guarded formatters and the names
 * super_attr allows. */
static PyObject *set_policy(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 3 || !PyCallable_Check(args[0]) || !PyCallable_Check(args[1]) ||
        !PyFrozenSet_CheckExact(args[2])) {
        PyErr_SetString(PyExc_TypeError, "set_policy(format, format_map, frozenset)");
        return NULL;
    }
    Py_XSETREF(g_str_format, Py_NewRef(args[0]));
    Py_XSETREF(g_str_format_map, Py_NewRef(args[1]));
    Py_XSETREF(g_super_names, Py_NewRef(args[2]));
    Py_RETURN_NONE;
}

/* The metaclass of every class statement in bot code (RestrictedPython
 * writes `class X(metaclass=__metaclass__)`): builds the class with type()
 * and remembers it, which is what lets _write_ allow `self.x = 1`. */
static PyObject *make_class(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    CHECK_EXPIRED();
    if (nargs != 3 || !PyUnicode_CheckExact(args[0]) || !PyTuple_CheckExact(args[1]) ||
        !PyDict_CheckExact(args[2])) {
        PyErr_SetString(PyExc_TypeError, "bad class statement");
        return NULL;
    }
    PyObject *cls = PyObject_Vectorcall((PyObject *)&PyType_Type, args, 3, NULL);
    if (!cls) return NULL;
    if (PySet_Add(g_bot_types, cls) < 0) {
        Py_DECREF(cls);
        return NULL;
    }
    return cls;
}

static PyObject *is_bot_class(PyObject *self, PyObject *obj) {
    (void)self;
    int r = PyType_Check(obj) ? PySet_Contains(g_bot_types, obj) : 0;
    if (r < 0) return NULL;
    return PyBool_FromLong(r);
}

static PyObject *log_write(PyObject *self, PyObject *s) {
    (void)self;
    if (!PyUnicode_CheckExact(s)) {
        PyErr_SetString(PyExc_TypeError, "log_write expects a str");
        return NULL;
    }
    Py_ssize_t n;
    const char *p = PyUnicode_AsUTF8AndSize(s, &n);
    if (!p) return NULL;
    guard_log_append(p, (size_t)n);
    Py_RETURN_NONE;
}

/* ---- plain_copy: self.memory to plain JSON-able data -------------------- */

typedef struct {
    long nodes;
} CopyState;

#define COPY_MAX_DEPTH 32
#define COPY_MAX_NODES 100000

/* A deep copy made only of exact dict (str keys), list, str, int, float,
 * bool and None. Never calls bot code: exact type checks only. */
static PyObject *copy_plain(PyObject *o, int depth, CopyState *st) {
    if (depth > COPY_MAX_DEPTH) {
        PyErr_SetString(PyExc_ValueError, "self.memory is nested too deeply (or is recursive)");
        return NULL;
    }
    if (++st->nodes > COPY_MAX_NODES) {
        PyErr_SetString(PyExc_ValueError, "self.memory has too many values");
        return NULL;
    }
    if (o == Py_None || PyBool_Check(o) || PyUnicode_CheckExact(o)) return Py_NewRef(o);
    if (PyLong_CheckExact(o)) {
        int overflow;
        (void)PyLong_AsLongLongAndOverflow(o, &overflow);
        if (overflow) {
            PyErr_SetString(PyExc_ValueError, "self.memory holds an integer beyond 64 bits");
            return NULL;
        }
        return Py_NewRef(o);
    }
    if (PyFloat_CheckExact(o)) {
        if (!isfinite(PyFloat_AS_DOUBLE(o))) {
            PyErr_SetString(PyExc_ValueError, "self.memory holds NaN or an infinity");
            return NULL;
        }
        return Py_NewRef(o);
    }
    if (PyList_CheckExact(o) || PyTuple_CheckExact(o)) {
        Py_ssize_t n = PySequence_Fast_GET_SIZE(o);
        PyObject *out = PyList_New(n);
        if (!out) return NULL;
        for (Py_ssize_t i = 0; i < n && i < PySequence_Fast_GET_SIZE(o); i++) {
            PyObject *v = copy_plain(PySequence_Fast_GET_ITEM(o, i), depth + 1, st);
            if (!v) {
                Py_DECREF(out);
                return NULL;
            }
            PyList_SET_ITEM(out, i, v);
        }
        return out;
    }
    if (PyDict_CheckExact(o)) {
        PyObject *out = PyDict_New();
        if (!out) return NULL;
        Py_ssize_t pos = 0;
        PyObject *k, *v;
        while (PyDict_Next(o, &pos, &k, &v)) {
            if (!PyUnicode_CheckExact(k)) {
                PyErr_SetString(PyExc_ValueError, "self.memory keys must be str");
                Py_DECREF(out);
                return NULL;
            }
            Py_INCREF(k);
            Py_INCREF(v);
            PyObject *c = copy_plain(v, depth + 1, st);
            int rc = c ? PyDict_SetItem(out, k, c) : -1;
            Py_DECREF(k);
            Py_DECREF(v);
            Py_XDECREF(c);
            if (rc < 0) {
                Py_DECREF(out);
                return NULL;
            }
        }
        return out;
    }
    PyErr_Format(PyExc_ValueError,
                 "self.memory may hold only dict, list, str, int, float, bool and None, "
                 "not %.64s",
                 Py_TYPE(o)->tp_name);
    return NULL;
}

static PyObject *plain_copy(PyObject *self, PyObject *o) {
    (void)self;
    CopyState st = {0};
    return copy_plain(o, 0, &st);
}

/* ---- module ------------------------------------------------------------- */

static PyMethodDef guard_methods[] = {
    {"guarded_getattr", (PyCFunction)(void (*)(void))guarded_getattr, METH_FASTCALL, NULL},
    {"guarded_hasattr", (PyCFunction)(void (*)(void))guarded_hasattr, METH_FASTCALL, NULL},
    {"guarded_setattr", (PyCFunction)(void (*)(void))guarded_setattr, METH_FASTCALL, NULL},
    {"guarded_getitem", (PyCFunction)(void (*)(void))guarded_getitem, METH_FASTCALL, NULL},
    {"guarded_iter", guarded_iter, METH_O, NULL},
    {"guarded_write", guarded_write, METH_O, NULL},
    {"iter_unpack_sequence", (PyCFunction)(void (*)(void))iter_unpack_sequence, METH_FASTCALL,
     NULL},
    {"unpack_sequence", (PyCFunction)(void (*)(void))unpack_sequence, METH_FASTCALL, NULL},
    {"apply", (PyCFunction)(void (*)(void))apply, METH_VARARGS | METH_KEYWORDS, NULL},
    {"inplacevar", (PyCFunction)(void (*)(void))inplacevar, METH_FASTCALL, NULL},
    {"make_class", (PyCFunction)(void (*)(void))make_class, METH_FASTCALL, NULL},
    {"guarded_type", (PyCFunction)(void (*)(void))guarded_type, METH_FASTCALL, NULL},
    {"super_attr", (PyCFunction)(void (*)(void))super_attr, METH_FASTCALL, NULL},
    {"check_name", check_name, METH_O, NULL},
    {"predict", (PyCFunction)(void (*)(void))predict_call, METH_FASTCALL, NULL},
    {"set_policy", (PyCFunction)(void (*)(void))set_policy, METH_FASTCALL, NULL},
    {"cpu_used", cpu_used, METH_NOARGS, NULL},
    {"cpu_budget", cpu_budget, METH_NOARGS, NULL},
    {"cpu_average", cpu_average, METH_NOARGS, NULL},
    {"is_bot_class", is_bot_class, METH_O, NULL},
    {"log_write", log_write, METH_O, NULL},
    {"plain_copy", plain_copy, METH_O, NULL},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef guard_module = {PyModuleDef_HEAD_INIT,
                                          "_crguard",
                                          "C guards for RestrictedPython bot code",
                                          -1,
                                          guard_methods,
                                          NULL,
                                          NULL,
                                          NULL,
                                          NULL};

/* Attributes that reach frames, code objects, generator internals or
 * BaseException (RestrictedPython's INSPECT_ATTRIBUTES plus ours). Checked at
 * run time too, since getattr() takes computed names. */
static const char *const BLOCKED_NAMES[] = {
    "tb_frame",     "tb_next",  "f_back",   "f_builtins",    "f_code",    "f_generator",
    "f_globals",    "f_locals", "f_trace",  "co_code",       "gi_frame",  "gi_code",
    "gi_yieldfrom", "cr_await", "cr_frame", "cr_code",       "cr_origin", "ag_await",
    "ag_frame",     "ag_code",  "mro",      "with_traceback"};

PyObject *PyInit__crguard(void) {
    PyObject *m = PyModule_Create(&guard_module);
    if (!m) return NULL;
    PyObject *names = PyList_New(0);
    if (!names) goto fail;
    for (size_t i = 0; i < sizeof BLOCKED_NAMES / sizeof BLOCKED_NAMES[0]; i++) {
        PyObject *s = PyUnicode_InternFromString(BLOCKED_NAMES[i]);
        if (!s || PyList_Append(names, s) < 0) {
            Py_XDECREF(s);
            Py_DECREF(names);
            goto fail;
        }
        Py_DECREF(s);
    }
    g_blocked = PyFrozenSet_New(names);
    Py_DECREF(names);
    g_bot_types = PySet_New(NULL);
    if (!g_blocked || !g_bot_types) goto fail;
    /* Borrowed: the module keeps it alive for the process's life. */
    g_type_fn = PyObject_GetAttrString(m, "guarded_type");
    if (!g_type_fn) goto fail;
    Py_DECREF(g_type_fn);
    return m;
fail:
    Py_DECREF(m);
    return NULL;
}
