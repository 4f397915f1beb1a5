/*
 * rooms.h - live race rooms on the event loop: the lobby (players take grid
 * slots with their own car and bot, ready up, leave; spectators watch) and,
 * once the shared race runner is merged, the race itself. Loop thread only.
 * A room's lobby state is broadcast to everyone in it as one shared message.
 */
#ifndef CR_SERVER_ROOMS_H
#define CR_SERVER_ROOMS_H

#include <libwebsockets.h>
#include <stdbool.h>

#include "store.h"

typedef struct Rooms Rooms;
typedef struct Room Room;
typedef struct Seat Seat;
typedef struct RoomBoard RoomBoard;
struct Server;

#define ROOMS_MAX 256
/* The defaults of config.lua's EMPTY_ROOM_TIMEOUT_S (an open room with no
 * seat taken or held that long closes) and MAX_OPEN_ROOMS_PER_USER (open
 * rooms one account may have opened: POST /api/races refuses more). */
#define ROOMS_EMPTY_TIMEOUT_S 300
#define ROOMS_PER_USER 3

typedef struct RoomSpec {
    char id[STORE_RACE_ID_MAX + 1];
    char generator[CR_NAME_MAX];
    uint64_t seed;
    char params_json[512];
    char rules[CR_NAME_MAX];
    int max_cars; /* 1..MAX_CONCURRENT_PLAYERS */
    bool ai_fill; /* empty grid slots get AI drivers at the start */
    int64_t owner_id;
    /* A room roomboard_reserve promised to owner_id: rooms_open fulfils
     * the promise, or releases it when it fails. */
    bool reserved;
} RoomSpec;

Rooms *rooms_create(struct Server *srv);
/* Closes every room (their sockets stay open; they just leave). */
void rooms_destroy(Rooms *rs);
/* The loop calls this before each lws_service(): if a room's tick is due
 * within a millisecond (lws's poll() would spin through it), it sleeps
 * until then and runs every room that is due. One timer (lws_sul) wakes
 * the loop for the earliest room otherwise. */
void rooms_pace(Rooms *rs);
/* A new open room. CR_ENOMEM when ROOMS_MAX are open. An open room with
 * no seat taken or held for EMPTY_ROOM_TIMEOUT_S closes by itself
 * (lobby.lua's terminate "expired", its race recorded aborted). */
int rooms_open(Rooms *rs, const RoomSpec *spec, CrError *err);
/* The rooms' summaries as the REST workers read them (roomboard.h): every
 * room is on it from rooms_open to its end, updated with each lobby
 * broadcast. Lives as long as rs; safe from any thread. */
RoomBoard *rooms_board(Rooms *rs);
Room *rooms_find(Rooms *rs, const char *id);
/* The best room for a quick race: open (not counting down), not full, the
 * most players (the oldest on a tie); NULL if none. */
Room *rooms_pick_quick(Rooms *rs);
const RoomSpec *room_spec(const Room *r);
const char *room_state_name(const Room *r); /* "open", "countdown", "running", "finished" */

/* The socket's user takes a grid slot with seat (taken over: the room owns
 * it now, even on failure). A user already in the room gets their slot back
 * with the new seat and socket (a reconnect). "room_full", "race_started"
 * as CR_EINVAL with the code in err. */
int room_join(Room *r, struct lws *wsi, Seat *seat, CrError *err);
/* Sets the socket's player's ready flag. CR_ENOTFOUND if it has no slot. */
int room_ready(Room *r, struct lws *wsi, bool ready);
/* The socket leaves the room (its slot or its spectator place); in a race
 * its car is retired. */
void room_leave(Room *r, struct lws *wsi);
/* The socket is gone (closed): the seat waits grace_s for the player (in
 * an open room, not ready; in a race, the car coasts), who takes it back by
 * joining again or just by connecting (rooms_held_seat). */
void room_detach(Room *r, struct lws *wsi);
/* The room where user_id holds a seat that waits for them (their socket
 * dropped; in an open room or a race, within the grace), a race first; or
 * NULL. */
Room *rooms_held_seat(Rooms *rs, int64_t user_id);
/* The socket takes the user's held seat back (as joining again does): the
 * room gets the lobby, and in a race the socket gets race_start, then
 * game_state with everyone. CR_ENOTFOUND if no seat waits for them. */
int room_reconnect(Room *r, struct lws *wsi, int64_t user_id);
/* Server shutdown: every room's lobby.lua terminate("shutdown"); the
 * players and spectators of a race under way get race_end, aborted (saved:
 * recorded, whether the abort is in the database). Sockets stay open. */
void rooms_shutdown(Rooms *rs, bool recorded);
/* The socket watches (a race under way: race_start first). Any number may
 * watch a room (the server's connection limit is the bound); CR_ENOMEM
 * only when memory runs out. */
int room_spectate(Room *r, struct lws *wsi);
/* Everyone in the room gets the lobby state now. */
void room_broadcast_lobby(Room *r);
/* A human player's keyboard input for their car, held until the next.
 * tick is the client's tick of the input (-1: none given), echoed as the
 * car's input_tick in game_state. CR_ENOTFOUND: no slot; CR_EINVAL: the race
 * is not running or a bot drives that car. */
int room_input(Room *r, struct lws *wsi, const CarInput *in, int64_t tick);
/* Whether the room's race is running (inputs are taken). */
bool room_running(const Room *r);

#endif
