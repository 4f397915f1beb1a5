/* ratelimit.c - an open-addressed (linear probing) table of windows under a
 * keyed hash, plus one overflow window per key class (see ratelimit.h).
 *
 * A slot is empty (key[0] == 0), live (end > now) or expired. Probing stops
 * at an empty slot only, so an expired slot keeps the chain past it intact
 * and may take a new key in place. Occupied slots (live or expired) stay at
 * most 3/4 of the table; past that the table is rebuilt with its live windows
 * only, at a size that leaves it at most half full, up to max_slots. */
#include "ratelimit.h"

#include <limits.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MIN_SLOTS 16
#define CLASS_MAX 8       /* distinct classes with an overflow of their own */
#define CLASS_NAME_MAX 24 /* longer prefixes are cut: such classes share */

typedef struct {
    uint64_t hash;
    int64_t end; /* the window's end, Unix seconds; live while now < end */
    int count;
    char key[RATELIMIT_KEY_MAX];
} Slot;

struct RateLimit {
    Slot *slots;
    uint32_t mask; /* size - 1, size a power of two */
    uint32_t used; /* occupied slots, live or expired */
    uint32_t min_size, max_size;
    int64_t min_end; /* no window live at the last scan or started since ends sooner */
    Slot overflow[CLASS_MAX];
    int n_classes;
    unsigned char hkey[crypto_shorthash_KEYBYTES];
};

static uint32_t pow2_at_least(int n) {
    uint32_t s = MIN_SLOTS;
    while (s < (uint32_t)n && s < (1u << 30)) s <<= 1;
    return s;
}

RateLimit *ratelimit_create(int slots, int max_slots) {
    if (sodium_init() < 0) return NULL;
    RateLimit *rl = calloc(1, sizeof *rl);
    if (!rl) return NULL;
    rl->max_size = pow2_at_least(max_slots);
    rl->min_size = pow2_at_least(slots);
    if (rl->min_size > rl->max_size) rl->min_size = rl->max_size;
    rl->slots = calloc(rl->min_size, sizeof *rl->slots);
    if (!rl->slots) {
        free(rl);
        return NULL;
    }
    rl->mask = rl->min_size - 1;
    rl->min_end = INT64_MAX;
    crypto_shorthash_keygen(rl->hkey);
    return rl;
}

void ratelimit_destroy(RateLimit *rl) {
    if (!rl) return;
    free(rl->slots);
    free(rl);
}

int ratelimit_slots(const RateLimit *rl) {
    return (int)(rl->mask + 1);
}

static uint64_t key_hash(const RateLimit *rl, const char *key, size_t len) {
    unsigned char out[crypto_shorthash_BYTES];
    crypto_shorthash(out, (const unsigned char *)key, len, rl->hkey);
    uint64_t h;
    memcpy(&h, out, sizeof h);
    return h;
}

/* The overflow window of key's class (its prefix through the first ':', ""
 * if it has none). Keys that cannot have a slot (too long, empty) get one
 * apart, marked by a trailing '*', so they never push their class into
 * overflow. A class beyond CLASS_MAX shares the last window. */
static Slot *overflow_of(RateLimit *rl, const char *key, bool unstorable) {
    char name[CLASS_NAME_MAX];
    size_t n = strcspn(key, ":");
    n = key[n] == ':' ? n + 1 : 0;
    if (n > sizeof name - 2) n = sizeof name - 2;
    memcpy(name, key, n);
    if (unstorable) name[n++] = '*';
    name[n] = 0;
    for (int i = 0; i < rl->n_classes; i++)
        if (!strcmp(rl->overflow[i].key, name)) return &rl->overflow[i];
    if (rl->n_classes == CLASS_MAX) return &rl->overflow[CLASS_MAX - 1];
    Slot *s = &rl->overflow[rl->n_classes++];
    memcpy(s->key, name, n + 1);
    return s;
}

/* The slot holding key, or NULL; *spare gets the first slot on key's probe
 * path that may take a new key (expired or empty). The table always has an
 * empty slot, so the probe ends. */
static Slot *probe(RateLimit *rl, const char *key, uint64_t h, int64_t now, Slot **spare) {
    Slot *first = NULL;
    for (uint32_t i = (uint32_t)h & rl->mask;; i = (i + 1) & rl->mask) {
        Slot *s = &rl->slots[i];
        if (!s->key[0]) {
            *spare = first ? first : s;
            return NULL;
        }
        if (s->hash == h && !strcmp(s->key, key)) {
            *spare = first;
            return s;
        }
        if (!first && s->end <= now) first = s;
    }
}

/* Rebuilds the table with its live windows only, at the smallest size (from
 * the initial one up to the cap) at most half full with one more key. false,
 * with the table unchanged, when even the cap has no room for one more
 * (or memory runs out): the caller then treats the key conservatively. */
static bool make_room(RateLimit *rl, int64_t now) {
    uint32_t size = rl->mask + 1;
    /* At the cap, the live windows can only become fewer once one ends: till
     * then a rebuild frees nothing, so a full table is not rescanned per key. */
    if (size >= rl->max_size && now < rl->min_end) return false;
    uint32_t live = 0;
    int64_t min_end = INT64_MAX;
    for (uint32_t i = 0; i < size; i++) {
        const Slot *s = &rl->slots[i];
        if (!s->key[0] || s->end <= now) continue;
        live++;
        if (s->end < min_end) min_end = s->end;
    }
    rl->min_end = min_end;
    uint32_t want = rl->min_size;
    while (want < rl->max_size && (uint64_t)(live + 1) * 2 > want) want <<= 1;
    if ((uint64_t)(live + 1) * 4 > (uint64_t)want * 3) return false;
    Slot *fresh = calloc(want, sizeof *fresh);
    if (!fresh) return false;
    for (uint32_t i = 0; i < size; i++) {
        const Slot *s = &rl->slots[i];
        if (!s->key[0] || s->end <= now) continue;
        uint32_t j = (uint32_t)s->hash & (want - 1);
        while (fresh[j].key[0]) j = (j + 1) & (want - 1);
        fresh[j] = *s;
    }
    free(rl->slots);
    rl->slots = fresh;
    rl->mask = want - 1;
    rl->used = live;
    return true;
}

static void restart(Slot *s, int64_t now, int window_s) {
    s->end = now + (window_s > 0 ? window_s : 1);
    s->count = 0;
}

/* The window key's additions go to: its own slot, or its class's overflow.
 * With create false, NULL when key has no live window; with create true,
 * never NULL (a window is started if need be). */
static Slot *resolve(RateLimit *rl, const char *key, int64_t now, int window_s, bool create) {
    size_t len = strlen(key);
    bool storable = len > 0 && len < RATELIMIT_KEY_MAX;
    Slot *ov = overflow_of(rl, key, !storable);
    if (storable) {
        uint64_t h = key_hash(rl, key, len);
        Slot *spare;
        Slot *s = probe(rl, key, h, now, &spare);
        if (s && s->end > now) return s;
        if (s) {
            if (!create) return NULL;
            restart(s, now, window_s);
            if (s->end < rl->min_end) rl->min_end = s->end;
            return s;
        }
        /* Untracked keys of a class in overflow stay there until it ends,
         * so none of them starts afresh in a slot of its own meanwhile. */
        if (ov->end > now) return ov;
        if (!create) return NULL;
        if (!spare->key[0] && (uint64_t)(rl->used + 1) * 4 > (uint64_t)(rl->mask + 1) * 3) {
            spare = NULL;
            if (make_room(rl, now)) probe(rl, key, h, now, &spare);
        }
        if (spare) {
            if (!spare->key[0]) rl->used++;
            spare->hash = h;
            memcpy(spare->key, key, len + 1);
            restart(spare, now, window_s);
            if (spare->end < rl->min_end) rl->min_end = spare->end;
            return spare;
        }
    }
    if (ov->end > now) return ov;
    if (!create) return NULL;
    restart(ov, now, window_s);
    return ov;
}

int ratelimit_count(RateLimit *rl, const char *key, int64_t now) {
    Slot *s = resolve(rl, key, now, 0, false);
    return s ? s->count : 0;
}

int ratelimit_add(RateLimit *rl, const char *key, int64_t now, int window_s) {
    Slot *s = resolve(rl, key, now, window_s, true);
    if (s->count < INT_MAX) s->count++;
    return s->count;
}

void ratelimit_sub(RateLimit *rl, const char *key, int64_t now) {
    Slot *s = resolve(rl, key, now, 0, false);
    if (s && s->count > 0) s->count--;
}

int ratelimit_retry_after(RateLimit *rl, const char *key, int64_t now) {
    Slot *s = resolve(rl, key, now, 0, false);
    int64_t left = s ? s->end - now : 1;
    if (left < 1) return 1;
    return left > INT_MAX ? INT_MAX : (int)left;
}
