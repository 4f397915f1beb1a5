/* ratelimit.c - open-addressed table of (key, window start, count). */
#include "ratelimit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX 96

typedef struct {
    char key[KEY_MAX];
    int64_t start;
    int count;
} Slot;

struct RateLimit {
    Slot *slots;
    int n;
};

RateLimit *ratelimit_create(int slots) {
    RateLimit *rl = calloc(1, sizeof *rl);
    if (!rl) return NULL;
    rl->slots = calloc((size_t)slots, sizeof *rl->slots);
    if (!rl->slots) {
        free(rl);
        return NULL;
    }
    rl->n = slots;
    return rl;
}

void ratelimit_destroy(RateLimit *rl) {
    if (!rl) return;
    free(rl->slots);
    free(rl);
}

static uint64_t fnv(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* The slot for key, (re)started if its window is over; with create false,
 * NULL when key has no live window. Probes 8 slots, then takes the stalest. */
static Slot *find(RateLimit *rl, const char *key, int64_t now, int window_s, bool create) {
    uint64_t h = fnv(key);
    Slot *stalest = NULL;
    for (int i = 0; i < 8; i++) {
        Slot *s = &rl->slots[(h + (uint64_t)i) % (uint64_t)rl->n];
        if (!strncmp(s->key, key, KEY_MAX - 1)) {
            if (now - s->start >= window_s) {
                if (!create) return NULL;
                s->start = now;
                s->count = 0;
            }
            return s;
        }
        if (!stalest || s->start < stalest->start) stalest = s;
    }
    if (!create) return NULL;
    snprintf(stalest->key, KEY_MAX, "%s", key);
    stalest->start = now;
    stalest->count = 0;
    return stalest;
}

int ratelimit_count(RateLimit *rl, const char *key, int64_t now, int window_s) {
    Slot *s = find(rl, key, now, window_s, false);
    return s ? s->count : 0;
}

int ratelimit_add(RateLimit *rl, const char *key, int64_t now, int window_s) {
    Slot *s = find(rl, key, now, window_s, true);
    return ++s->count;
}

int ratelimit_retry_after(RateLimit *rl, const char *key, int64_t now, int window_s) {
    Slot *s = find(rl, key, now, window_s, false);
    int64_t left = s ? s->start + window_s - now : 1;
    return left < 1 ? 1 : (int)left;
}
