/*
 * ratelimit.h - fixed-window counters by key ("reg:1.2.3.4",
 * "login-user:ada"), for the event loop thread only. A bounded table: when it
 * is full the stalest window is reused, so memory never grows with traffic.
 */
#ifndef CR_SERVER_RATELIMIT_H
#define CR_SERVER_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

typedef struct RateLimit RateLimit;

RateLimit *ratelimit_create(int slots);
void ratelimit_destroy(RateLimit *rl);
/* Count of key's window (window_s long) as of now, without adding. */
int ratelimit_count(RateLimit *rl, const char *key, int64_t now, int window_s);
/* Adds one to key's window; returns the new count. */
int ratelimit_add(RateLimit *rl, const char *key, int64_t now, int window_s);
/* Seconds until key's window ends (>= 1). */
int ratelimit_retry_after(RateLimit *rl, const char *key, int64_t now, int window_s);

#endif
