/*
 * tickclock.h - a room's tick schedule on the wall clock, without drift:
 * tick k is due at t0 + k * 1e9 / rate ns (integer arithmetic, so rounding
 * never accumulates). A late wake-up runs every tick that is due, up to a
 * cap per wake-up; a room that falls further behind than TICKCLOCK_MAX_BEHIND
 * ticks moves its origin forward and counts the ticks it dropped, so they are
 * never skipped silently. Times are CLOCK_MONOTONIC ns. No allocation.
 */
#ifndef CR_SERVER_TICKCLOCK_H
#define CR_SERVER_TICKCLOCK_H

#include <stdint.h>

#define TICKCLOCK_MAX_BEHIND 30 /* ticks (half a second at 60 Hz) */

typedef struct {
    int64_t t0_ns;    /* when tick 0 was due (moved forward after drops) */
    uint64_t base;    /* tick number at t0 */
    uint64_t next;    /* the next tick to run */
    int rate;         /* ticks per second */
    uint64_t dropped; /* ticks given up after falling too far behind */
    int64_t worst_late_ns;
} TickClock;

void tickclock_start(TickClock *c, int64_t now_ns, int rate);
/* When tick is due. */
int64_t tickclock_deadline(const TickClock *c, uint64_t tick);
/* How many ticks are due at now_ns, at most max; moves the origin (and
 * counts the drop) first if the room is more than TICKCLOCK_MAX_BEHIND
 * behind. The caller runs them, calling tickclock_ran after each. */
int tickclock_due(TickClock *c, int64_t now_ns, int max);
/* Records that tick `next` ran at now_ns (its lateness) and moves on. */
void tickclock_ran(TickClock *c, int64_t now_ns);
/* ns from now until the next tick is due (0 if it is due already). */
int64_t tickclock_wait_ns(const TickClock *c, int64_t now_ns);

/* The grid that rooms start their clocks on, so rooms share wake-ups and
 * their load spreads over the tick period: `phases` instants per tick,
 * instant g at epoch_ns + g / (rate * phases) s (exact integers). */
int64_t tickclock_grid_ns(int64_t epoch_ns, int rate, int phases, uint64_t g);
/* The first grid instant at or after now_ns. */
uint64_t tickclock_grid_next(int64_t epoch_ns, int rate, int phases, int64_t now_ns);
/* Of the n_buckets instants from g0 on, the one whose bucket
 * (g % n_buckets) carries the least load; the earliest on a tie. */
uint64_t tickclock_grid_pick(const int *load, int n_buckets, uint64_t g0);

#endif
