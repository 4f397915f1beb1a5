/*
 * botd.h - internals of coderally-botd, the bot sandbox: the zygote
 * (botd.c), the worker's lock-down and request loop (worker.c), the guards
 * RestrictedPython-compiled code calls on every attribute, subscript, loop and
 * write (guards.c), and the C marshalling of sensor records and actions
 * (marshal.c). Never linked into the host.
 */
#ifndef CR_BOTD_H
#define CR_BOTD_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bot_proto.h"

/* ---- guards.c: the _crguard module -------------------------------------- */

/* Set by the CPU-timer signal handler once a call's budget is spent: from
 * then on every guard raises BotTimeout, so bot code can make no progress
 * even where it catches exceptions. Cleared before each call. */
extern volatile sig_atomic_t guard_expired;

PyObject *PyInit__crguard(void);
/* Resolves BotTimeout from crsandbox once the zygote imported it. */
int guard_bind_timeout(PyObject *timeout_type);
/* Raises BotTimeout; returns NULL for convenience. */
PyObject *guard_raise_timeout(void);

/* The worker's print log: guard_log_cap bytes over the worker's life. */
void guard_log_configure(size_t cap);
void guard_log_append(const char *s, size_t n);
/* The bytes printed since the last take (at most BOT_LOG_CHUNK_MAX); valid
 * until the next append. */
const char *guard_log_take(size_t *n);

/* ---- marshal.c ---------------------------------------------------------- */

/* Prepares interned keys and the constant tuples; 0 or -1 with a Python error. */
int marshal_init(const float *ray_angles, size_t n_rays, const float *pace_ahead, size_t n_pace);
/* The names states give surface indices (the stage's table, from
 * BOT_INIT); before any, the default table's. -1 on a Python error. */
int marshal_set_surfaces(const SurfaceTable *t);
/* The sensor record as plain Python data (a new dict). NULL on error. */
PyObject *marshal_state(const SensorRecord *s);
/* The argument of an event callback (a new dict); *method is its name. */
PyObject *marshal_event(const BotWireEvent *ev, const char **method);

typedef struct {
    CarInput input;
    int n_draw;
    BotDrawing draw[BOT_MAX_DRAWINGS];
} BotActions;

/* Converts what on_tick returned into actions with exact type checks and
 * never calls bot code. 0, or -1 with a reason in msg (and no Python error
 * set): the car then gets neutral input. */
int marshal_actions(PyObject *ret, BotActions *out, char *msg, size_t msg_size);

/* ---- worker.c ----------------------------------------------------------- */

typedef struct {
    uint32_t memory_limit_mb; /* BOT_MEMORY_LIMIT_MB on top of the baseline */
    uint32_t cpu_limit_s;     /* RLIMIT_CPU: the worker's lifetime CPU */
    size_t baseline_as;       /* bytes of address space the zygote uses */
} WorkerLimits;

/* Runs in the child after fork: locks the process down, then serves
 * requests on fd until it closes. Never returns. */
_Noreturn void worker_main(int fd, const WorkerLimits *limits, PyObject *sandbox);

/* Locks the calling process down as a worker does (tests use it). fd stays
 * usable; every other fd is closed. 0, or -1 with errno. */
int worker_lockdown(int fd, const WorkerLimits *limits);

#endif
