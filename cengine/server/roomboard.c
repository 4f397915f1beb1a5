/* roomboard.c - live rooms' summaries and open-room promises behind one
 * mutex. Both tables are fixed at max_rooms entries: a promise counts
 * against max_rooms like a room does, so neither can fill before the
 * other refuses. */
#include "roomboard.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int64_t owner;
    int n;
} Promise;

struct RoomBoard {
    pthread_mutex_t mu;
    int cap;
    int n_rooms;
    int n_promised;
    RoomSummary *rooms; /* cap entries; id[0] == 0: free */
    Promise *promises;  /* cap entries; n == 0: free */
};

RoomBoard *roomboard_create(int max_rooms) {
    RoomBoard *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->cap = max_rooms;
    b->rooms = calloc((size_t)max_rooms, sizeof *b->rooms);
    b->promises = calloc((size_t)max_rooms, sizeof *b->promises);
    if (!b->rooms || !b->promises || pthread_mutex_init(&b->mu, NULL)) {
        free(b->rooms);
        free(b->promises);
        free(b);
        return NULL;
    }
    return b;
}

void roomboard_destroy(RoomBoard *b) {
    if (!b) return;
    pthread_mutex_destroy(&b->mu);
    free(b->rooms);
    free(b->promises);
    free(b);
}

/* Callers hold the mutex. */
static RoomSummary *room_of(RoomBoard *b, const char *id) {
    for (int i = 0; i < b->cap; i++)
        if (b->rooms[i].id[0] && !strcmp(b->rooms[i].id, id)) return &b->rooms[i];
    return NULL;
}

static Promise *promise_of(RoomBoard *b, int64_t owner) {
    for (int i = 0; i < b->cap; i++)
        if (b->promises[i].n && b->promises[i].owner == owner) return &b->promises[i];
    return NULL;
}

static void unpromise(RoomBoard *b, int64_t owner) {
    Promise *p = promise_of(b, owner);
    if (!p) return;
    p->n--;
    b->n_promised--;
}

bool roomboard_publish(RoomBoard *b, const RoomSummary *s, bool reserved) {
    pthread_mutex_lock(&b->mu);
    RoomSummary *slot = room_of(b, s->id);
    for (int i = 0; i < b->cap && !slot; i++)
        if (!b->rooms[i].id[0]) {
            slot = &b->rooms[i];
            b->n_rooms++;
        }
    if (slot) *slot = *s;
    if (reserved) unpromise(b, s->owner_id);
    pthread_mutex_unlock(&b->mu);
    return slot != NULL;
}

void roomboard_remove(RoomBoard *b, const char *id) {
    pthread_mutex_lock(&b->mu);
    RoomSummary *slot = room_of(b, id);
    if (slot) {
        memset(slot, 0, sizeof *slot);
        b->n_rooms--;
    }
    pthread_mutex_unlock(&b->mu);
}

bool roomboard_get(RoomBoard *b, const char *id, RoomSummary *out) {
    pthread_mutex_lock(&b->mu);
    const RoomSummary *slot = room_of(b, id);
    if (slot) *out = *slot;
    pthread_mutex_unlock(&b->mu);
    return slot != NULL;
}

int roomboard_reserve(RoomBoard *b, int64_t owner, int per_user, int *have) {
    pthread_mutex_lock(&b->mu);
    Promise *p = promise_of(b, owner);
    int n = p ? p->n : 0;
    for (int i = 0; i < b->cap; i++)
        n += b->rooms[i].id[0] && b->rooms[i].owner_id == owner && b->rooms[i].state &&
             !strcmp(b->rooms[i].state, "open");
    *have = n;
    int rc = 0;
    if (b->n_rooms + b->n_promised >= b->cap) {
        rc = ROOMBOARD_EFULL;
    } else if (n >= per_user) {
        rc = ROOMBOARD_ECAP;
    } else {
        /* A free entry exists: promises are fewer than cap (checked above). */
        for (int i = 0; i < b->cap && !p; i++)
            if (!b->promises[i].n) p = &b->promises[i];
        assert(p);
        p->owner = owner;
        p->n++;
        b->n_promised++;
    }
    pthread_mutex_unlock(&b->mu);
    return rc;
}

void roomboard_release(RoomBoard *b, int64_t owner) {
    pthread_mutex_lock(&b->mu);
    unpromise(b, owner);
    pthread_mutex_unlock(&b->mu);
}
