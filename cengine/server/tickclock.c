/* tickclock.c - the integer tick schedule. */
#include "tickclock.h"

void tickclock_start(TickClock *c, int64_t now_ns, int rate) {
    c->t0_ns = now_ns;
    c->base = 0;
    c->next = 0;
    c->rate = rate > 0 ? rate : 60;
    c->dropped = 0;
    c->worst_late_ns = 0;
}

int64_t tickclock_deadline(const TickClock *c, uint64_t tick) {
    uint64_t k = tick - c->base;
    /* Whole seconds and the remainder separately: exact, and no overflow
     * for any realistic uptime. */
    uint64_t secs = k / (uint64_t)c->rate, rem = k % (uint64_t)c->rate;
    return c->t0_ns + (int64_t)(secs * 1000000000ull + rem * 1000000000ull / (uint64_t)c->rate);
}

int tickclock_due(TickClock *c, int64_t now_ns, int max) {
    if (now_ns < tickclock_deadline(c, c->next)) return 0;
    uint64_t behind = 0;
    /* Ticks due: the first whose deadline is still ahead, minus next. */
    uint64_t k = c->next - c->base;
    uint64_t elapsed = (uint64_t)(now_ns - c->t0_ns);
    uint64_t due_upto = elapsed / 1000000000ull * (uint64_t)c->rate +
                        (elapsed % 1000000000ull) * (uint64_t)c->rate / 1000000000ull;
    /* deadline() rounds k * 1e9 / rate down, this rounds up: line them up. */
    while (tickclock_deadline(c, c->base + due_upto + 1) <= now_ns) due_upto++;
    behind = due_upto + 1 - k;
    if (behind > TICKCLOCK_MAX_BEHIND) {
        /* Too far behind to catch up without a burst of ticks: give the
         * extra ones up (counted) and restart the schedule from now. */
        c->dropped += behind - 1;
        c->t0_ns = now_ns;
        c->base = c->next;
        behind = 1;
    }
    return behind > (uint64_t)max ? max : (int)behind;
}

void tickclock_ran(TickClock *c, int64_t now_ns) {
    int64_t late = now_ns - tickclock_deadline(c, c->next);
    if (late > c->worst_late_ns) c->worst_late_ns = late;
    c->next++;
}

int64_t tickclock_wait_ns(const TickClock *c, int64_t now_ns) {
    int64_t d = tickclock_deadline(c, c->next) - now_ns;
    return d > 0 ? d : 0;
}

int64_t tickclock_grid_ns(int64_t epoch_ns, int rate, int phases, uint64_t g) {
    uint64_t per_s = (uint64_t)rate * (uint64_t)phases;
    return epoch_ns + (int64_t)(g / per_s * 1000000000ull + g % per_s * 1000000000ull / per_s);
}

uint64_t tickclock_grid_next(int64_t epoch_ns, int rate, int phases, int64_t now_ns) {
    uint64_t per_s = (uint64_t)rate * (uint64_t)phases;
    uint64_t since = now_ns > epoch_ns ? (uint64_t)(now_ns - epoch_ns) : 0;
    /* grid_ns() rounds down, this too: step up to the first not before now. */
    uint64_t g = since / 1000000000ull * per_s + since % 1000000000ull * per_s / 1000000000ull;
    while (tickclock_grid_ns(epoch_ns, rate, phases, g) < now_ns) g++;
    return g;
}

uint64_t tickclock_grid_pick(const int *load, int n_buckets, uint64_t g0) {
    uint64_t best = g0;
    for (uint64_t g = g0; g < g0 + (uint64_t)n_buckets; g++)
        if (load[g % (uint64_t)n_buckets] < load[best % (uint64_t)n_buckets]) best = g;
    return best;
}
