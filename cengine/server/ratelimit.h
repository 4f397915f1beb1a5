/*
 * ratelimit.h - fixed-window counters by key ("reg:1.2.3.4",
 * "login-user:ada"), for the event loop thread only.
 *
 * Keys are hashed with SipHash (libsodium crypto_shorthash) under a key made
 * at random by ratelimit_create, so nobody can choose keys that pile up on
 * one slot. A window that is still live is never evicted: the table grows
 * (up to max_slots) and reuses only expired windows. A key's class is its
 * prefix up to and including the first ':' ("login-user:"). When the table
 * is full of live windows, a new key of a class shares one overflow window
 * with every other untracked key of that class, and keeps sharing it until
 * that window ends even if room frees up meanwhile. A key too long to store
 * (RATELIMIT_KEY_MAX bytes or more) or an empty one shares a window with the
 * others like it of its class. The invariant
 * the callers rely on: the count a key reads is never lower than the
 * additions made under it in its current window. An attacker who fills the
 * table gets more refusals, for everyone of that class, never fewer.
 */
#ifndef CR_SERVER_RATELIMIT_H
#define CR_SERVER_RATELIMIT_H

#include <stdint.h>

/* The longest key stored in a slot of its own, with its NUL: fits
 * "login-user:" and a 63-byte name, "login-addr:" and an IPv6 address. */
#define RATELIMIT_KEY_MAX 80

typedef struct RateLimit RateLimit;

/* A table of `slots` slots that grows by doubling up to `max_slots` (both
 * rounded up to powers of two, at least 16). Memory peaks at about
 * max_slots * 104 bytes, twice that for a moment while the table is rebuilt. NULL when out of
 * memory or libsodium cannot start. */
RateLimit *ratelimit_create(int slots, int max_slots);
void ratelimit_destroy(RateLimit *rl);
/* The count of key's live window as of now (Unix seconds); 0 if none. */
int ratelimit_count(RateLimit *rl, const char *key, int64_t now);
/* Adds one to key's window, starting a window_s-long one if it has none
 * live; returns the new count. */
int ratelimit_add(RateLimit *rl, const char *key, int64_t now, int window_s);
/* Takes back one ratelimit_add of key's live window (a reservation that
 * turned out not to count); nothing if the window has ended or is at 0. */
void ratelimit_sub(RateLimit *rl, const char *key, int64_t now);
/* Seconds until key's window ends (>= 1). */
int ratelimit_retry_after(RateLimit *rl, const char *key, int64_t now);
/* The table's current size in slots (for tests and stats). */
int ratelimit_slots(const RateLimit *rl);

#endif
