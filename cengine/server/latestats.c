/* latestats.c - tick lateness and send counts (latestats.h), and the route
 * GET /api/stats that shows them. */
#include "latestats.h"

#include <stdatomic.h>

#include "api.h"

static _Atomic uint64_t buckets[LATESTATS_BUCKETS];
static _Atomic uint64_t ticks, states, sends;
static _Atomic int64_t max_late;
static _Atomic int64_t ws_open;
static _Atomic uint64_t ws_too_slow;

static int bucket_of(int64_t ns) {
    if (ns < 0) ns = 0;
    int64_t us = ns / 1000;
    if (us < 1000) return (int)(us / 10);
    int64_t ms = us / 1000;
    if (ms < 100) return LATESTATS_FINE + (int)ms - 1;
    return LATESTATS_BUCKETS - 1;
}

int64_t latestats_bucket_us(int i) {
    if (i < LATESTATS_FINE) return (int64_t)(i + 1) * 10;
    if (i < LATESTATS_FINE + LATESTATS_COARSE) return (int64_t)(i - LATESTATS_FINE + 2) * 1000;
    return INT64_MAX;
}

void latestats_tick(int64_t late_ns) {
    atomic_fetch_add_explicit(&buckets[bucket_of(late_ns)], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&ticks, 1, memory_order_relaxed);
    /* Only the loop thread writes: a plain compare is enough. */
    if (late_ns > atomic_load_explicit(&max_late, memory_order_relaxed))
        atomic_store_explicit(&max_late, late_ns, memory_order_relaxed);
}

void latestats_sent(int n) {
    atomic_fetch_add_explicit(&states, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&sends, (uint64_t)n, memory_order_relaxed);
}

void latestats_ws_open(int delta) {
    atomic_fetch_add_explicit(&ws_open, delta, memory_order_relaxed);
}

void latestats_ws_too_slow(void) {
    atomic_fetch_add_explicit(&ws_too_slow, 1, memory_order_relaxed);
}

void latestats_read(LateStats *out) {
    out->ws_open = atomic_load_explicit(&ws_open, memory_order_relaxed);
    out->ws_too_slow = atomic_load_explicit(&ws_too_slow, memory_order_relaxed);
    out->ticks = atomic_load_explicit(&ticks, memory_order_relaxed);
    out->states = atomic_load_explicit(&states, memory_order_relaxed);
    out->state_sends = atomic_load_explicit(&sends, memory_order_relaxed);
    out->max_late_ns = atomic_load_explicit(&max_late, memory_order_relaxed);
    for (int i = 0; i < LATESTATS_BUCKETS; i++)
        out->bucket[i] = atomic_load_explicit(&buckets[i], memory_order_relaxed);
}

/* {"ticks", "max_late_us", "game_states", "game_state_sends",
 *  "late_us": [[upper_edge_us, count], ...], "ws_connections",
 *  "ws_closed_too_slow"} (non-empty buckets; the last edge is null). */
void api_stats(ApiCtx *ctx, ApiRequest *req, ApiResponse *res) {
    (void)ctx;
    (void)req;
    LateStats s;
    latestats_read(&s);
    json_t *hist = json_array();
    for (int i = 0; i < LATESTATS_BUCKETS; i++)
        if (s.bucket[i])
            json_array_append_new(hist,
                                  json_pack("[o,I]",
                                            i == LATESTATS_BUCKETS - 1
                                                ? json_null()
                                                : json_integer((json_int_t)latestats_bucket_us(i)),
                                            (json_int_t)s.bucket[i]));
    api_json(
        res, 200,
        json_pack("{s:I,s:f,s:I,s:I,s:o,s:I,s:I}", "ticks", (json_int_t)s.ticks, "max_late_us",
                  (double)s.max_late_ns / 1e3, "game_states", (json_int_t)s.states,
                  "game_state_sends", (json_int_t)s.state_sends, "late_us", hist, "ws_connections",
                  (json_int_t)s.ws_open, "ws_closed_too_slow", (json_int_t)s.ws_too_slow));
}
