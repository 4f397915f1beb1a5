/*
 * latestats.h - the server's own load figures for `coderally bench server`
 * and operators: how late the rooms' ticks run (a histogram of every tick of
 * every room since start), how many game_state messages went out, and the
 * WebSocket connections (open now, dropped as too slow). The
 * loop thread records; any thread reads (relaxed atomics: a reader may see
 * a tick counted in one bucket before the total, which a benchmark's
 * percentiles do not notice). Readers diff two reads for a window.
 */
#ifndef CR_SERVER_LATESTATS_H
#define CR_SERVER_LATESTATS_H

#include <stdint.h>

/* Buckets: 10 us wide below 1 ms, 1 ms wide below 100 ms, then one more. */
#define LATESTATS_FINE 100
#define LATESTATS_COARSE 99
#define LATESTATS_BUCKETS (LATESTATS_FINE + LATESTATS_COARSE + 1)

/* One room tick ran late_ns after it was due (loop thread). */
void latestats_tick(int64_t late_ns);
/* One game_state was sent to n sockets (loop thread). */
void latestats_sent(int n);
/* A WebSocket connection opened (+1) or closed (-1) (loop thread). */
void latestats_ws_open(int delta);
/* A WebSocket connection was dropped for not taking its messages. */
void latestats_ws_too_slow(void);
/* The upper edge of bucket i in microseconds (the last one: INT64_MAX). */
int64_t latestats_bucket_us(int i);

typedef struct {
    uint64_t ticks, states, state_sends;
    int64_t ws_open;      /* WebSocket connections open now */
    uint64_t ws_too_slow; /* connections dropped as too slow since start */
    int64_t max_late_ns;
    uint64_t bucket[LATESTATS_BUCKETS];
} LateStats;

void latestats_read(LateStats *out);

#endif
