/*
 * roomboard.h - the live rooms as seen from outside the event loop. The loop
 * publishes a small summary of each room (state, players, spectators)
 * whenever its lobby changes; REST workers copy one out under the board's
 * mutex, so they never touch a Room. The board also keeps the rooms a
 * POST /api/races has promised but the loop has not opened yet, so the
 * per-user cap and ROOMS_MAX hold across the worker-to-loop hand-over.
 */
#ifndef CR_SERVER_ROOMBOARD_H
#define CR_SERVER_ROOMBOARD_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

typedef struct RoomBoard RoomBoard;

typedef struct {
    int64_t user_id;
    char username[STORE_USERNAME_MAX + 1];
    char car_type[CR_NAME_MAX];
    bool bot;       /* a bot drives the car, else the keyboard */
    bool ready;     /* before the race */
    bool connected; /* false while a dropped player's seat is held */
} RoomBoardPlayer;

typedef struct {
    char id[STORE_RACE_ID_MAX + 1];
    int64_t owner_id;  /* who opened it (0: nobody's) */
    const char *state; /* a static string: "open", "countdown", "running", "finished" */
    int max_cars;
    int n_players; /* seats taken, held ones included */
    RoomBoardPlayer players[CR_MAX_CARS];
    int spectators;
    int64_t expires_at; /* Unix s when an empty open room closes, or 0 */
} RoomSummary;

/* Refusals of roomboard_reserve. */
enum { ROOMBOARD_EFULL = -200, ROOMBOARD_ECAP = -201 };

/* max_rooms: how many rooms may be live or promised at once. */
RoomBoard *roomboard_create(int max_rooms);
void roomboard_destroy(RoomBoard *b);

/* The loop: s replaces the room's summary (by id), or adds it. reserved:
 * the room is one roomboard_reserve promised to s->owner_id, whose promise
 * it now fulfils (in the same step, so a reader never counts it twice).
 * false when the board is full (the room stays unlisted). */
bool roomboard_publish(RoomBoard *b, const RoomSummary *s, bool reserved);
/* The loop: the room is gone. */
void roomboard_remove(RoomBoard *b, const char *id);

/* Any thread: a copy of the room's summary into out; false if no live room
 * has that id. */
bool roomboard_get(RoomBoard *b, const char *id, RoomSummary *out);
/* Any thread: promises owner one more open room, unless that would make
 * more than max_rooms live or promised (ROOMBOARD_EFULL) or give owner more
 * than per_user open ones, counting promises (ROOMBOARD_ECAP). *have: the
 * owner's open and promised rooms before this call. */
int roomboard_reserve(RoomBoard *b, int64_t owner, int per_user, int *have);
/* Any thread: a promise that will not be kept (the request failed). */
void roomboard_release(RoomBoard *b, int64_t owner);

#endif
