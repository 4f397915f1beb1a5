/*
 * guards.h - what the worker and the marshalling share with the _crguard
 * module beyond botd.h: the CPU clock bots can read (coderally.cpu_used())
 * and actions parsing that keeps the actions when only the drawings are bad.
 */
#ifndef CR_GUARDS_H
#define CR_GUARDS_H

#include "botd.h"

/* A call into bot code starts: cpu_used() counts from here against
 * budget_us. */
void guard_cpu_begin(uint32_t budget_us);
/* An on_tick call (events and marshalling included) used used_us of CPU:
 * feeds cpu_average(). */
void guard_cpu_tick_done(uint64_t used_us);
/* CPU time of this process in microseconds. */
uint64_t guard_cpu_now_us(void);

/* As marshal_actions; malformed debug drawings are dropped instead of
 * failing the actions, with the reason in note (empty if none). */
int marshal_actions_keep(PyObject *ret, BotActions *out, char *msg, size_t msg_size, char *note,
                         size_t note_size);

/* ---- predict.c ---------------------------------------------------------- */

#define PREDICT_MAX_TICKS 600 /* ticks one predict() call may run (10 s) */

/* The bot's car stats from the host (NULL: predict() is unavailable). */
void predict_set_car(const CarStats *stats);
/* The stage's surface table (from BOT_INIT): names and physics. */
void predict_set_surfaces(const SurfaceTable *t);
/* coderally.predict(state, actions, ticks[, nitro_held]) */
PyObject *predict_call(PyObject *self, PyObject *const *args, Py_ssize_t nargs);

#endif
