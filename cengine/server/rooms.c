/* rooms.c - the room registry and each room's lobby. */
#include "rooms.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_internal.h"

typedef struct {
    bool used;
    Seat seat;
    struct lws *wsi; /* NULL while disconnected */
    bool ready;
} Player;

typedef enum { ROOM_OPEN = 0, ROOM_COUNTDOWN, ROOM_RUNNING, ROOM_FINISHED } RoomState;

static const char *const STATE_NAMES[] = {"open", "countdown", "running", "finished"};

struct Room {
    RoomSpec spec;
    RoomState state;
    Player players[CR_MAX_CARS];
    struct lws **spectators;
    int n_spectators;
};

struct Rooms {
    Room *rooms[ROOMS_MAX];
};

Rooms *rooms_create(void) {
    return calloc(1, sizeof(Rooms));
}

static void room_free(Room *r) {
    if (!r) return;
    for (int i = 0; i < CR_MAX_CARS; i++)
        if (r->players[i].used) {
            if (r->players[i].wsi) ws_set_room(r->players[i].wsi, NULL);
            seat_fini(&r->players[i].seat);
        }
    for (int i = 0; i < r->n_spectators; i++) ws_set_room(r->spectators[i], NULL);
    free(r->spectators);
    free(r);
}

void rooms_destroy(Rooms *rs) {
    if (!rs) return;
    for (int i = 0; i < ROOMS_MAX; i++) room_free(rs->rooms[i]);
    free(rs);
}

int rooms_open(Rooms *rs, const RoomSpec *spec, CrError *err) {
    for (int i = 0; i < ROOMS_MAX; i++) {
        if (rs->rooms[i]) continue;
        Room *r = calloc(1, sizeof *r);
        if (!r) break;
        r->spec = *spec;
        if (r->spec.max_cars < 1) r->spec.max_cars = 1;
        if (r->spec.max_cars > CR_MAX_CARS) r->spec.max_cars = CR_MAX_CARS;
        rs->rooms[i] = r;
        return 0;
    }
    snprintf(err->msg, sizeof err->msg, "too many rooms open (%d)", ROOMS_MAX);
    return CR_ENOMEM;
}

Room *rooms_find(Rooms *rs, const char *id) {
    for (int i = 0; i < ROOMS_MAX; i++)
        if (rs->rooms[i] && !strcmp(rs->rooms[i]->spec.id, id)) return rs->rooms[i];
    return NULL;
}

const RoomSpec *room_spec(const Room *r) {
    return &r->spec;
}

static Player *player_of_socket(Room *r, struct lws *wsi) {
    for (int i = 0; i < CR_MAX_CARS; i++)
        if (r->players[i].used && r->players[i].wsi == wsi) return &r->players[i];
    return NULL;
}

static int players(const Room *r) {
    int n = 0;
    for (int i = 0; i < CR_MAX_CARS; i++) n += r->players[i].used;
    return n;
}

int room_join(Room *r, struct lws *wsi, Seat *seat, CrError *err) {
    Player *slot = NULL;
    for (int i = 0; i < CR_MAX_CARS && !slot; i++)
        if (r->players[i].used && r->players[i].seat.user_id == seat->user_id)
            slot = &r->players[i];
    if (!slot && r->state != ROOM_OPEN) {
        snprintf(err->msg, sizeof err->msg, "race_started");
        seat_fini(seat);
        return CR_EINVAL;
    }
    if (!slot && players(r) >= r->spec.max_cars) {
        snprintf(err->msg, sizeof err->msg, "room_full");
        seat_fini(seat);
        return CR_EINVAL;
    }
    if (slot) {
        /* A reconnect (or a new car before the start): the slot keeps its
         * place; its old socket, if any, is no longer in the room. */
        if (slot->wsi && slot->wsi != wsi) ws_set_room(slot->wsi, NULL);
        if (r->state == ROOM_OPEN) {
            seat_fini(&slot->seat);
            slot->seat = *seat;
            slot->ready = false;
        } else {
            seat_fini(seat);
        }
    } else {
        for (int i = 0; i < CR_MAX_CARS && !slot; i++)
            if (!r->players[i].used) slot = &r->players[i];
        slot->used = true;
        slot->seat = *seat;
        slot->ready = false;
    }
    memset(seat, 0, sizeof *seat);
    /* A spectator who takes a slot stops spectating. */
    for (int i = 0; i < r->n_spectators; i++)
        if (r->spectators[i] == wsi) r->spectators[i] = r->spectators[--r->n_spectators];
    slot->wsi = wsi;
    ws_set_room(wsi, r);
    room_broadcast_lobby(r);
    return 0;
}

int room_ready(Room *r, struct lws *wsi, bool ready) {
    Player *p = player_of_socket(r, wsi);
    if (!p) return CR_ENOTFOUND;
    p->ready = ready;
    room_broadcast_lobby(r);
    bool all = true;
    for (int i = 0; i < CR_MAX_CARS; i++)
        if (r->players[i].used && !r->players[i].ready) all = false;
    if (all && r->state == ROOM_OPEN) {
        /* The countdown and the race need the shared race runner
         * (cengine/match/), which this build does not have yet. */
        for (int i = 0; i < CR_MAX_CARS; i++)
            if (r->players[i].used && r->players[i].wsi)
                ws_send_error(r->players[i].wsi, "not_available",
                              "everyone is ready, but races cannot start on this build yet: "
                              "the race runner is not merged");
    }
    return 0;
}

void room_leave(Room *r, struct lws *wsi) {
    Player *p = player_of_socket(r, wsi);
    if (p) {
        if (r->state == ROOM_OPEN) {
            seat_fini(&p->seat);
            memset(p, 0, sizeof *p);
        } else {
            p->wsi = NULL; /* in a race: the car stays, as lobby rules say */
        }
    }
    for (int i = 0; i < r->n_spectators; i++)
        if (r->spectators[i] == wsi) r->spectators[i] = r->spectators[--r->n_spectators];
    ws_set_room(wsi, NULL);
    room_broadcast_lobby(r);
}

int room_spectate(Room *r, struct lws *wsi) {
    if (player_of_socket(r, wsi)) return 0;
    for (int i = 0; i < r->n_spectators; i++)
        if (r->spectators[i] == wsi) return 0;
    if (r->n_spectators == ROOM_SPECTATORS_MAX) return CR_ENOMEM;
    if (r->n_spectators % 16 == 0) {
        struct lws **grown =
            realloc(r->spectators, (size_t)(r->n_spectators + 16) * sizeof *r->spectators);
        if (!grown) return CR_ENOMEM;
        r->spectators = grown;
    }
    r->spectators[r->n_spectators++] = wsi;
    ws_set_room(wsi, r);
    room_broadcast_lobby(r);
    return 0;
}

static json_t *lobby_json(const Room *r) {
    json_t *ps = json_array();
    for (int i = 0; i < CR_MAX_CARS; i++) {
        const Player *p = &r->players[i];
        if (!p->used) continue;
        json_t *o = json_pack("{s:{s:I,s:s},s:I,s:s,s:s,s:b,s:b}", "user", "id",
                              (json_int_t)p->seat.user_id, "username", p->seat.username, "car_id",
                              (json_int_t)p->seat.car_id, "car_type", p->seat.car.car_type, "kind",
                              p->seat.bot_id ? "bot" : "human", "ready", p->ready, "connected",
                              p->wsi != NULL);
        json_object_set_new(o, "bot_id",
                            p->seat.bot_id ? json_integer(p->seat.bot_id) : json_null());
        json_array_append_new(ps, o);
    }
    json_error_t jerr;
    json_t *params = json_loads(r->spec.params_json, 0, &jerr);
    if (!params) params = json_object();
    return json_pack("{s:s,s:s,s:s,s:s,s:I,s:o,s:s,s:i,s:b,s:o,s:i}", "type", "lobby", "race_id",
                     r->spec.id, "state", STATE_NAMES[r->state], "generator", r->spec.generator,
                     "seed", (json_int_t)r->spec.seed, "params", params, "rules", r->spec.rules,
                     "max_cars", r->spec.max_cars, "ai_fill", r->spec.ai_fill, "players", ps,
                     "spectators", r->n_spectators);
}

void room_broadcast_lobby(Room *r) {
    json_t *o = lobby_json(r);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!s) return;
    WsMsg *m = ws_msg_create(s, strlen(s));
    free(s);
    if (!m) return;
    for (int i = 0; i < CR_MAX_CARS; i++)
        if (r->players[i].used && r->players[i].wsi) ws_send_shared(r->players[i].wsi, m);
    for (int i = 0; i < r->n_spectators; i++) ws_send_shared(r->spectators[i], m);
    ws_msg_unref(m);
}
