/* rooms.c - the room registry and each room's lobby. */
#include "rooms.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bot_link.h"
#include "botfeed.h"
#include "match/match.h"
#include "server_internal.h"
#include "jsonw.h"
#include "latestats.h"
#include "tickclock.h"
#include "util/file.h"

#define ROOM_CATCHUP_MAX 5
#define REPLAY_MAX (64 << 20)
/* Rooms tick on a grid of ROOMS_PHASES instants per 1/60 s: a new race
 * takes the least loaded phase (and, of three ticks, the least loaded
 * snapshot tick), so the rooms' work is spread over the tick period while
 * the rooms of one phase share a wake-up of the loop. */
#define ROOMS_PHASES 8
#define ROOMS_BUCKETS (ROOMS_PHASES * CR_BOT_TICK_EVERY)
/* lws's poll() waits whole milliseconds and spins (poll with timeout 0 over
 * every socket) through the last one: the pacer sleeps that part itself. */
#define ROOMS_SLEEP_NS 1000000

typedef struct {
    bool used;
    Seat seat;
    struct lws *wsi; /* NULL while disconnected */
    bool ready;
    int64_t gone_ns; /* when the socket dropped mid-race (grace runs), or 0 */
    bool expired;    /* grace ran out: the car is the lobby's (retired, AI, held) */
} Player;

typedef enum { ROOM_OPEN = 0, ROOM_COUNTDOWN, ROOM_RUNNING, ROOM_FINISHED } RoomState;

static const char *const STATE_NAMES[] = {"open", "countdown", "running", "finished"};

struct Room {
    RoomSpec spec;
    RoomState state;
    Player players[CR_MAX_CARS];
    struct lws **spectators;
    int n_spectators;
    /* The race, once everyone is ready. */
    Server *srv;
    Match *match;
    TickClock clock;
    bool ticking; /* on the pacer: its clock's ticks are run */
    int bucket;   /* its phase on the grid (0..ROOMS_BUCKETS-1) */
    int n_cars;
    int slot_of_car[CR_MAX_CARS];    /* player slot driving car i, or -1 (AI) */
    int64_t input_tick[CR_MAX_CARS]; /* client tick of car i's last applied input, -1 none */
    CarEntry cars[CR_MAX_CARS];
    char replay_path[128];
    bool ending;                      /* race over, its record being written */
    Lobby *lobby;                     /* lobby.lua of the snapshot the room opened with */
    lws_sorted_usec_list_t start_sul; /* the lobby's countdown before the race */
    bool starting;
    /* Each bot car's private feed to its owner (room_send_bot_feeds). */
    BotFeed feed[CR_MAX_CARS];
    int64_t feed_ns; /* when the feeds last went out */
};

struct Rooms {
    Server *srv;
    Room *rooms[ROOMS_MAX];
    int64_t epoch_ns;            /* instant 0 of the phase grid */
    int64_t next_due_ns;         /* the earliest tick of a ticking room, or INT64_MAX */
    lws_sorted_usec_list_t pace; /* wakes the loop for it */
};

static int64_t mono_ns(void);

Rooms *rooms_create(Server *srv) {
    Rooms *rs = calloc(1, sizeof(Rooms));
    if (rs) {
        rs->srv = srv;
        rs->epoch_ns = mono_ns();
        rs->next_due_ns = INT64_MAX;
    }
    return rs;
}

static void room_free(Room *r) {
    if (!r) return;
    lws_sul_cancel(&r->start_sul);
    lobby_destroy(r->lobby);
    match_destroy(r->match);
    if (r->replay_path[0]) unlink(r->replay_path);
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
    lws_sul_cancel(&rs->pace);
    for (int i = 0; i < ROOMS_MAX; i++) room_free(rs->rooms[i]);
    free(rs);
}

int rooms_open(Rooms *rs, const RoomSpec *spec, CrError *err) {
    for (int i = 0; i < ROOMS_MAX; i++) {
        if (rs->rooms[i]) continue;
        Room *r = calloc(1, sizeof *r);
        if (!r) break;
        r->spec = *spec;
        r->srv = rs->srv;
        if (r->spec.max_cars < 1) r->spec.max_cars = 1;
        if (r->spec.max_cars > CR_MAX_CARS) r->spec.max_cars = CR_MAX_CARS;
        /* A lobby.lua that fails here was checked when the scripts loaded,
         * so this is memory: the built-in lobby keeps the room usable. */
        CrError lerr = {{0}};
        if (lobby_load(rs->srv ? rs->srv->loop_scripts : NULL, &r->lobby, &lerr)) {
            fprintf(stderr, "[server] room %s: lobby: %s\n", spec->id, lerr.msg);
            if (lobby_load(NULL, &r->lobby, &lerr)) {
                free(r);
                break;
            }
        }
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

static int players(const Room *r);

Room *rooms_pick_quick(Rooms *rs) {
    Room *best = NULL;
    for (int i = 0; i < ROOMS_MAX; i++) {
        Room *r = rs->rooms[i];
        if (!r || r->state != ROOM_OPEN || r->starting || players(r) >= r->spec.max_cars) continue;
        if (!best || players(r) > players(best)) best = r;
    }
    return best;
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

/* The room as lobby.lua sees it; players points into buf. */
static LobbyRoom lobby_view(const Room *r, LobbyPlayer buf[CR_MAX_CARS]) {
    int n = 0;
    for (int i = 0; i < CR_MAX_CARS; i++) {
        const Player *p = &r->players[i];
        if (!p->used) continue;
        buf[n++] = (LobbyPlayer){p->seat.user_id, p->seat.username, p->seat.bot_id != 0, p->ready,
                                 p->wsi != NULL};
    }
    return (LobbyRoom){r->spec.id, STATE_NAMES[r->state], r->spec.max_cars, n, buf};
}

static LobbyPlayer lobby_player(const Player *p) {
    return (LobbyPlayer){p->seat.user_id, p->seat.username, p->seat.bot_id != 0, p->ready,
                         p->wsi != NULL};
}

static void lobby_log(const Room *r, int rc, const CrError *err) {
    if (rc) fprintf(stderr, "[server] room %s: %s\n", r->spec.id, err->msg);
}

static void room_consider_start(Room *r);

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
    if (slot && slot->expired) {
        snprintf(err->msg, sizeof err->msg, "grace_expired");
        seat_fini(seat);
        return CR_EINVAL;
    }
    if (!slot) {
        LobbyPlayer buf[CR_MAX_CARS],
            who = {seat->user_id, seat->username, seat->bot_id != 0, false, true};
        LobbyRoom view = lobby_view(r, buf);
        bool ok;
        char reason[sizeof err->msg];
        CrError lerr = {{0}};
        lobby_log(r, lobby_join_attempt(r->lobby, &view, &who, &ok, reason, sizeof reason, &lerr),
                  &lerr);
        if (!ok) {
            snprintf(err->msg, sizeof err->msg, "%s", reason);
            seat_fini(seat);
            return CR_EINVAL;
        }
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
    slot->gone_ns = 0; /* back within the grace: the car is theirs again */
    ws_set_room(wsi, r);
    LobbyPlayer buf[CR_MAX_CARS], who = lobby_player(slot);
    LobbyRoom view = lobby_view(r, buf);
    CrError lerr = {{0}};
    lobby_log(r, lobby_on_join(r->lobby, &view, &who, &lerr), &lerr);
    room_broadcast_lobby(r);
    room_consider_start(r);
    return 0;
}

static void room_start(Room *r);
static int64_t mono_ns(void);

int room_ready(Room *r, struct lws *wsi, bool ready) {
    Player *p = player_of_socket(r, wsi);
    if (!p) return CR_ENOTFOUND;
    p->ready = ready;
    LobbyPlayer buf[CR_MAX_CARS], who = lobby_player(p);
    LobbyRoom view = lobby_view(r, buf);
    CrError lerr = {{0}};
    lobby_log(r, lobby_on_ready(r->lobby, &view, &who, &lerr), &lerr);
    room_broadcast_lobby(r);
    room_consider_start(r);
    return 0;
}

static void room_start_due(lws_sorted_usec_list_t *sul) {
    Room *r = lws_container_of(sul, Room, start_sul);
    r->starting = false;
    if (r->state == ROOM_OPEN && players(r) > 0) room_start(r);
}

/* After every join, ready change and leave while open: lobby.lua's
 * should_start decides (a failing hook falls back to "all ready"). A
 * countdown waits on a timer that a later "not yet" cancels. */
static void room_consider_start(Room *r) {
    if (r->state != ROOM_OPEN) return;
    LobbyPlayer buf[CR_MAX_CARS];
    LobbyRoom view = lobby_view(r, buf);
    bool start;
    double countdown_s;
    CrError lerr = {{0}};
    lobby_log(r, lobby_should_start(r->lobby, &view, &start, &countdown_s, &lerr), &lerr);
    if (!start || view.n_players == 0) {
        if (r->starting) lws_sul_cancel(&r->start_sul);
        r->starting = false;
        return;
    }
    if (countdown_s <= 0) {
        if (r->starting) lws_sul_cancel(&r->start_sul);
        r->starting = false;
        room_start(r);
        return;
    }
    if (r->starting) return; /* already counting down */
    r->starting = true;
    if (r->srv && r->srv->lws)
        lws_sul_schedule(r->srv->lws, 0, &r->start_sul, room_start_due,
                         (lws_usec_t)(countdown_s * 1e6));
}

/* The lobby's answer for a car whose driver is gone for good. */
static void room_car_orphaned(Room *r, Player *p, int car) {
    LobbyPlayer buf[CR_MAX_CARS], who = lobby_player(p);
    LobbyRoom view = lobby_view(r, buf);
    LobbyLeave what;
    CrError lerr = {{0}};
    lobby_log(r, lobby_on_leave(r->lobby, &view, &who, STATE_NAMES[r->state], &what, &lerr), &lerr);
    p->expired = true;
    r->input_tick[car] = -1; /* no client's input drives it any more */
    if (what == LOBBY_AI)
        match_drive_by_ai(r->match, car);
    else if (what == LOBBY_RETIRE)
        match_retire(r->match, car);
    else {
        CarInput neutral = {0};
        match_set_input(r->match, car, &neutral);
    }
    fprintf(stderr, "[server] race %s: %s's car: %s\n", r->spec.id, p->seat.username,
            lobby_leave_name(what));
}

/* The car a player drives in the running race, or -1. */
static int car_of_slot(const Room *r, const Player *p) {
    for (int i = 0; i < r->n_cars; i++)
        if (r->slot_of_car[i] == (int)(p - r->players)) return i;
    return -1;
}

static void room_out(Room *r, struct lws *wsi, bool for_good) {
    Player *p = player_of_socket(r, wsi);
    if (p) {
        if (r->state == ROOM_OPEN) {
            seat_fini(&p->seat);
            memset(p, 0, sizeof *p);
        } else {
            /* In a race the car stays: for a player who left, lobby.lua's
             * on_leave decides; one who lost the connection coasts (neutral
             * input) and can take the car back by joining again within
             * grace_s (room_tick then asks on_leave). */
            int car = car_of_slot(r, p);
            if (room_running(r) && car >= 0 && !p->seat.bot_id) {
                CarInput neutral = {0};
                if (for_good)
                    room_car_orphaned(r, p, car);
                else if (!p->expired) {
                    match_set_input(r->match, car, &neutral);
                    p->gone_ns = mono_ns();
                }
            }
            p->wsi = NULL;
        }
    }
    for (int i = 0; i < r->n_spectators; i++)
        if (r->spectators[i] == wsi) r->spectators[i] = r->spectators[--r->n_spectators];
    ws_set_room(wsi, NULL);
    room_broadcast_lobby(r);
    room_consider_start(r);
}

void room_leave(Room *r, struct lws *wsi) {
    room_out(r, wsi, true);
}

void room_detach(Room *r, struct lws *wsi) {
    room_out(r, wsi, false);
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

/* ---- the race ----------------------------------------------------------- */

static int64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* o to everyone in the room, encoded once; takes the reference. */
static void room_send_all(Room *r, json_t *o) {
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(7)) : NULL;
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

/* The cars as the race knows them: who drives each. */
static json_t *cars_json(const Room *r) {
    json_t *arr = json_array();
    for (int i = 0; i < r->n_cars; i++) {
        int slot = r->slot_of_car[i];
        const Player *p = slot >= 0 ? &r->players[slot] : NULL;
        json_t *o = json_pack("{s:i,s:s,s:s,s:s}", "id", i, "name", r->cars[i].name, "car_type",
                              r->cars[i].car_type, "kind", car_kind_name(r->cars[i].kind));
        json_object_set_new(o, "user",
                            p ? json_pack("{s:I,s:s}", "id", (json_int_t)p->seat.user_id,
                                          "username", p->seat.username)
                              : json_null());
        json_array_append_new(arr, o);
    }
    return arr;
}

/* A game_state is at most this long (with room for per-car fields to come). */
#define STATE_JSON_MAX (256 + CR_MAX_CARS * 384)

/* One snapshot for every receiver: positions, heading, velocity, flags,
 * checkpoints, race position of every car. Written straight into a buffer
 * (jsonw: no JSON tree, no allocation but the shared message), as jansson
 * would have written it; a field is one jsonw_k*() line. */
static void room_send_state(Room *r) {
    RaceSnapshot snap;
    match_snapshot(r->match, &snap);
    /* When it left, for clients measuring delivery (Unix us). */
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    int64_t sent_us = (int64_t)wall.tv_sec * 1000000 + wall.tv_nsec / 1000;
    char buf[STATE_JSON_MAX];
    JsonW w;
    jsonw_init(&w, buf, sizeof buf);
    jsonw_object(&w);
    jsonw_kstring(&w, "type", "game_state");
    jsonw_kint(&w, "tick", (int)snap.tick);
    jsonw_kint(&w, "sent_us", sent_us);
    jsonw_key(&w, "cars");
    jsonw_array(&w);
    for (int i = 0; i < snap.n_cars; i++) {
        const CarSnapshot *c = &snap.cars[i];
        jsonw_object(&w);
        jsonw_kint(&w, "id", i);
        jsonw_kreal(&w, "x", c->x);
        jsonw_kreal(&w, "y", c->y);
        jsonw_kreal(&w, "heading", c->heading);
        jsonw_kreal(&w, "vx", c->vx);
        jsonw_kreal(&w, "vy", c->vy);
        /* angular_velocity, nitro_ticks and the NITRO_HELD flag complete the
         * state a client re-simulates its own car from; input_tick acks. */
        jsonw_kreal(&w, "angular_velocity", c->angular_velocity);
        jsonw_kint(&w, "flags", c->flags);
        jsonw_kint(&w, "checkpoints", c->checkpoints);
        jsonw_kint(&w, "position", c->position);
        jsonw_kint(&w, "nitro", c->nitro_charges);
        jsonw_kint(&w, "nitro_ticks", c->nitro_ticks);
        jsonw_kreal(&w, "progress", c->progress);
        jsonw_key(&w, "input_tick");
        if (r->input_tick[i] >= 0)
            jsonw_int(&w, r->input_tick[i]);
        else
            jsonw_null(&w);
        jsonw_end_object(&w);
    }
    jsonw_end_array(&w);
    jsonw_key(&w, "race_info");
    jsonw_object(&w);
    jsonw_kstring(&w, "phase", match_phase_name(match_phase(r->match)));
    jsonw_kreal(&w, "time", snap.time_s);
    jsonw_end_object(&w);
    jsonw_end_object(&w);
    size_t len;
    WsMsg *m = jsonw_finish(&w, &len) ? NULL : ws_msg_create(buf, len);
    if (!m) return;
    int to = r->n_spectators;
    for (int i = 0; i < CR_MAX_CARS; i++)
        if (r->players[i].used && r->players[i].wsi) {
            ws_send_shared(r->players[i].wsi, m);
            to++;
        }
    for (int i = 0; i < r->n_spectators; i++) ws_send_shared(r->spectators[i], m);
    ws_msg_unref(m);
    latestats_sent(to);
}

int room_input(Room *r, struct lws *wsi, const CarInput *in, int64_t tick) {
    Player *p = player_of_socket(r, wsi);
    if (!p) return CR_ENOTFOUND;
    if (!room_running(r) || p->seat.bot_id) return CR_EINVAL;
    for (int i = 0; i < r->n_cars; i++)
        if (r->slot_of_car[i] == (int)(p - r->players)) {
            int rc = match_set_input(r->match, i, in);
            /* Inputs apply on arrival, before the next step: the next
             * snapshot is the first to include it. */
            if (!rc) r->input_tick[i] = tick < 0 ? -1 : tick;
            return rc;
        }
    return CR_ENOTFOUND;
}

bool room_running(const Room *r) {
    return r->match && !r->ending && (r->state == ROOM_COUNTDOWN || r->state == ROOM_RUNNING);
}

/* ---- race end: one transaction on a worker, then race_end ----------------- */

typedef struct {
    Job job;
    Server *srv;
    char race_id[STORE_RACE_ID_MAX + 1];
    bool aborted;
    StoreRaceResult results[CR_MAX_CARS];
    size_t n;
    StoreBotMemory mem[CR_MAX_CARS];
    char *mem_json[CR_MAX_CARS];
    size_t n_mem;
    char *replay;
    size_t replay_len;
    int rc;
    CrError err;
} RaceEndJob;

static void race_end_run(Job *job, void *thread_ctx) {
    RaceEndJob *j = (RaceEndJob *)job;
    ApiCtx *ctx = thread_ctx;
    int64_t now = time(NULL);
    if (j->aborted)
        j->rc = store_race_abort(ctx->store, j->race_id, now, &j->err);
    else
        j->rc = store_race_finish(ctx->store, j->race_id, now, j->results, j->n, j->mem, j->n_mem,
                                  j->replay, j->replay_len, &j->err);
}

static void race_end_free(RaceEndJob *j) {
    for (size_t i = 0; i < j->n_mem; i++) free(j->mem_json[i]);
    free(j->replay);
    free(j);
}

static void rooms_remove(Rooms *rs, Room *r) {
    for (int i = 0; i < ROOMS_MAX; i++)
        if (rs->rooms[i] == r) rs->rooms[i] = NULL;
    room_free(r);
}

static void race_end_done(Job *job, void *loop_ud) {
    RaceEndJob *j = (RaceEndJob *)job;
    Server *srv = loop_ud;
    Room *r = srv ? rooms_find(srv->rooms, j->race_id) : NULL;
    if (j->rc)
        fprintf(stderr, "[server] race %s: could not record it: %s\n", j->race_id, j->err.msg);
    if (r) {
        json_t *res = json_array();
        for (size_t i = 0; i < j->n; i++) {
            const StoreRaceResult *x = &j->results[i];
            json_t *o = json_pack("{s:i,s:s,s:b,s:i}", "position", x->position, "driver", x->driver,
                                  "dnf", x->dnf, "points", x->points);
            json_object_set_new(o, "time", x->dnf ? json_null() : json_real(x->stage_time));
            json_object_set_new(o, "user",
                                x->user_id ? json_pack("{s:I,s:s}", "id", (json_int_t)x->user_id,
                                                       "username", x->username)
                                           : json_null());
            json_object_set_new(o, "car_id", x->car_id ? json_integer(x->car_id) : json_null());
            json_object_set_new(o, "bot_id", x->bot_id ? json_integer(x->bot_id) : json_null());
            json_array_append_new(res, o);
        }
        r->state = ROOM_FINISHED;
        room_send_all(r,
                      json_pack("{s:s,s:s,s:b,s:b,s:o}", "type", "race_end", "race_id", r->spec.id,
                                "aborted", j->aborted, "saved", j->rc == 0, "results", res));
        rooms_remove(srv->rooms, r);
    }
    race_end_free(j);
}

/* The race is over (or aborted): hand its record to a worker. */
static void room_end(Room *r) {
    r->ending = true;
    r->ticking = false;
    fprintf(stderr, "[server] race %s: %llu ticks, worst tick lateness %.3f ms, %llu dropped\n",
            r->spec.id, (unsigned long long)r->clock.next, (double)r->clock.worst_late_ns / 1e6,
            (unsigned long long)r->clock.dropped);
    RaceEndJob *j = calloc(1, sizeof *j);
    if (!j) return;
    j->job.run = race_end_run;
    j->job.done = race_end_done;
    j->srv = r->srv;
    snprintf(j->race_id, sizeof j->race_id, "%s", r->spec.id);
    RaceResult res[CR_MAX_CARS];
    int points[CR_MAX_CARS];
    j->aborted = match_phase(r->match) != MATCH_DONE || match_results(r->match, res, points);
    if (!j->aborted) {
        for (int i = 0; i < r->n_cars; i++) {
            const RaceResult *x = &res[i];
            StoreRaceResult *o = &j->results[j->n++];
            int slot = r->slot_of_car[x->car];
            const Player *p = slot >= 0 ? &r->players[slot] : NULL;
            snprintf(o->driver, sizeof o->driver, "%s", car_kind_name(r->cars[x->car].kind));
            if (p) {
                o->user_id = p->seat.user_id;
                snprintf(o->username, sizeof o->username, "%s", p->seat.username);
                o->car_id = p->seat.car_id;
                o->bot_id = p->seat.bot_id;
                o->bot_version = p->seat.bot_version;
                const char *mem = p->seat.bot_id ? match_bot_memory(r->match, x->car) : NULL;
                if (mem && (j->mem_json[j->n_mem] = strdup(mem))) {
                    j->mem[j->n_mem].bot_id = p->seat.bot_id;
                    j->mem[j->n_mem].json = j->mem_json[j->n_mem];
                    j->n_mem++;
                }
            }
            o->position = x->position;
            o->stage_time = x->time_s;
            o->dnf = !x->finished;
            o->points = points[i];
        }
        CrError err = {{0}};
        if (file_read(r->replay_path, REPLAY_MAX, &j->replay, &j->replay_len, &err) ||
            j->replay_len > REPLAY_MAX) {
            fprintf(stderr, "[server] race %s: no replay: %s\n", r->spec.id, err.msg);
            free(j->replay);
            j->replay = NULL;
            j->replay_len = 0;
        }
    }
    if (workers_submit(r->srv->lanes[LANE_FAST], &j->job)) {
        /* Queue full: the record waits for nothing; the next start marks
         * the race aborted. */
        race_end_done(&j->job, r->srv);
    }
}

static void room_send_bot_feeds(Room *r, int64_t now, bool final);

/* The room's 60 Hz beat: every tick that is due (a late wake-up catches
 * up, within a cap; the clock counts any it had to drop), a snapshot to
 * everyone at 20 Hz, the end when the match is done. Lateness is taken
 * when this room's turn comes, after any room that ran before it in the
 * same wake-up. */
static void room_tick(Room *r) {
    int64_t now = mono_ns();
    /* The shared zygote and every bot socket are served by the loop as
     * they become ready (server.c): this only takes up what this match's
     * bots sent since, without waiting. */
    match_pump(r->match, now);
    int64_t grace_ns = (int64_t)(lobby_grace_s(r->lobby) * 1e9);
    for (int i = 0; i < CR_MAX_CARS; i++) {
        Player *p = &r->players[i];
        int car = p->used && p->gone_ns && !p->wsi ? car_of_slot(r, p) : -1;
        if (car >= 0 && now - p->gone_ns >= grace_ns) {
            p->gone_ns = 0;
            room_car_orphaned(r, p, car);
            room_broadcast_lobby(r);
        }
    }
    int n = tickclock_due(&r->clock, now, ROOM_CATCHUP_MAX);
    for (int i = 0; i < n; i++) {
        CrError err = {{0}};
        if (match_step(r->match, now, &err))
            fprintf(stderr, "[server] race %s: %s\n", r->spec.id, err.msg);
        latestats_tick(now - tickclock_deadline(&r->clock, r->clock.next));
        tickclock_ran(&r->clock, now);
        MatchPhase ph = match_phase(r->match);
        if (ph == MATCH_RUNNING && r->state == ROOM_COUNTDOWN) {
            r->state = ROOM_RUNNING;
            room_broadcast_lobby(r);
        }
        if (ph == MATCH_DONE || ph == MATCH_ABORTED) {
            room_send_state(r);
            room_send_bot_feeds(r, now, true);
            room_end(r); /* may free r */
            return;
        }
        if (match_tick(r->match) % CR_BOT_TICK_EVERY == 0) room_send_state(r);
    }
    room_send_bot_feeds(r, now, false);
}

/* ---- the pacer: one timer for every room's ticks ------------------------ */

/* When a race starting now ticks first: the first grid instant at or after
 * now of the least loaded bucket (phase within the tick, and which tick of
 * CR_BOT_TICK_EVERY carries the snapshot), the soonest on a tie. */
static int64_t rooms_pick_start(const Rooms *rs, int64_t now, int *bucket) {
    int load[ROOMS_BUCKETS] = {0};
    for (int i = 0; i < ROOMS_MAX; i++)
        if (rs->rooms[i] && rs->rooms[i]->ticking) load[rs->rooms[i]->bucket]++;
    uint64_t g0 = tickclock_grid_next(rs->epoch_ns, CR_TICK_RATE, ROOMS_PHASES, now);
    uint64_t g = tickclock_grid_pick(load, ROOMS_BUCKETS, g0);
    *bucket = (int)(g % ROOMS_BUCKETS);
    return tickclock_grid_ns(rs->epoch_ns, CR_TICK_RATE, ROOMS_PHASES, g);
}

static void rooms_pace_due(lws_sorted_usec_list_t *sul);

/* Points the pacer's timer at the earliest tick due. */
static void rooms_arm(Rooms *rs) {
    int64_t due = INT64_MAX;
    for (int i = 0; i < ROOMS_MAX; i++) {
        const Room *r = rs->rooms[i];
        if (!r || !r->ticking) continue;
        int64_t d = tickclock_deadline(&r->clock, r->clock.next);
        if (d < due) due = d;
    }
    rs->next_due_ns = due;
    if (!rs->srv || !rs->srv->lws) return;
    if (due == INT64_MAX) {
        lws_sul_cancel(&rs->pace);
        return;
    }
    int64_t wait = due - mono_ns();
    lws_sul_schedule(rs->srv->lws, 0, &rs->pace, rooms_pace_due, wait > 0 ? wait / 1000 : 0);
}

/* Every room whose tick is due, in one pass. */
static void rooms_run_due(Rooms *rs) {
    int64_t now = mono_ns();
    for (int i = 0; i < ROOMS_MAX; i++) {
        Room *r = rs->rooms[i];
        if (r && r->ticking && tickclock_deadline(&r->clock, r->clock.next) <= now) room_tick(r);
    }
    rooms_arm(rs);
}

static void rooms_pace_due(lws_sorted_usec_list_t *sul) {
    rooms_run_due(lws_container_of(sul, Rooms, pace));
}

void rooms_pace(Rooms *rs) {
    int64_t due = rs->next_due_ns, now = mono_ns();
    if (due == INT64_MAX || due - now >= ROOMS_SLEEP_NS) return;
    if (due > now) {
        struct timespec ts = {(time_t)(due / 1000000000), (long)(due % 1000000000)};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
        }
    }
    rooms_run_due(rs);
}

typedef struct {
    Job job;
    char race_id[STORE_RACE_ID_MAX + 1];
} RaceStartJob;

static void race_start_run(Job *job, void *thread_ctx) {
    RaceStartJob *j = (RaceStartJob *)job;
    CrError err = {{0}};
    if (store_race_start(((ApiCtx *)thread_ctx)->store, j->race_id, time(NULL), &err))
        fprintf(stderr, "[server] race %s: %s\n", j->race_id, err.msg);
}

static void race_start_done(Job *job, void *loop_ud) {
    (void)loop_ud;
    free(job);
}

/* Everyone is ready: the grid (players in slot order, then AI drivers if
 * the room fills), the match, the countdown. On failure the room stays open
 * and the players are told why. */
static void room_start(Room *r) {
    Server *srv = r->srv;
    MatchBot bots[CR_MAX_CARS];
    memset(bots, 0, sizeof bots);
    memset(r->cars, 0, sizeof r->cars);
    int n = 0;
    CrError err = {{0}};
    for (int i = 0; i < CR_MAX_CARS; i++) {
        Player *p = &r->players[i];
        if (!p->used) continue;
        r->cars[n] = p->seat.car;
        r->slot_of_car[n] = i;
        if (p->seat.bot_id) {
            bots[n].name = p->seat.username;
            bots[n].source = p->seat.bot_code;
            bots[n].source_len = p->seat.bot_code ? strlen(p->seat.bot_code) : 0;
            bots[n].memory_json = p->seat.bot_memory;
        }
        n++;
    }
    const char *starter = srv->settings.starter_car;
    /* AI cars: every seat left when the room asked for ai_fill, else as
     * many as lobby.lua's ai_fill says (capped to the seats left). */
    LobbyPlayer lbuf[CR_MAX_CARS];
    LobbyRoom view = lobby_view(r, lbuf);
    int n_ai = 0;
    CrError lerr = {{0}};
    lobby_log(r, lobby_ai_fill(r->lobby, &view, &n_ai, &lerr), &lerr);
    int fill_to = r->spec.ai_fill ? r->spec.max_cars : n + n_ai;
    if (fill_to > r->spec.max_cars) fill_to = r->spec.max_cars;
    for (int ai = 1; n < fill_to; ai++, n++) {
        CarEntry *c = &r->cars[n];
        snprintf(c->name, sizeof c->name, "AI %d", ai);
        snprintf(c->car_type, sizeof c->car_type, "%s", starter);
        c->kind = CAR_AI;
        r->slot_of_car[n] = -1;
        if (scripts_car_stats(srv->loop_scripts, starter, NULL, 0, &c->stats, &err)) goto fail;
    }
    r->n_cars = n;
    for (int i = 0; i < CR_MAX_CARS; i++) r->input_tick[i] = -1;
    /* The room's params as the generator takes them. */
    json_error_t jerr;
    json_t *pj = json_loads(r->spec.params_json, 0, &jerr);
    char keys[16][CR_NAME_MAX], vals[16][40];
    ConfigOverride params[16];
    size_t np = 0;
    const char *k;
    json_t *v;
    json_object_foreach(pj, k, v) {
        if (np == 16) break;
        snprintf(keys[np], sizeof keys[np], "%s", k);
        snprintf(vals[np], sizeof vals[np], "%.17g", json_number_value(v));
        params[np].key = keys[np];
        params[np].value = vals[np];
        np++;
    }
    snprintf(r->replay_path, sizeof r->replay_path, "/tmp/coderally-race-%s-%d.replay", r->spec.id,
             (int)getpid());
    MatchConfig cfg = {
        .scripts = srv->loop_scripts,
        .generator = r->spec.generator,
        .seed = r->spec.seed,
        .params = params,
        .n_params = np,
        .rules = r->spec.rules,
        .cars = r->cars,
        .n_cars = n,
        .bots = bots,
        .bot_host = srv->race_host,
        .botd_path = srv->cfg->botd_path,
        .retire_failed_bots = true,
        .replay_path = r->replay_path,
    };
    /* Loading the bots waits on their workers (a few ms each) until the
     * asynchronous bot link lands: the one wait left on this thread. */
    int rc = match_create(&cfg, &r->match, &err);
    json_decref(pj);
    if (rc) goto fail;
    r->state = ROOM_COUNTDOWN;
    r->ending = false;
    int64_t now = mono_ns();
    tickclock_start(&r->clock, rooms_pick_start(srv->rooms, now, &r->bucket), CR_TICK_RATE);
    RaceSnapshot snap;
    match_snapshot(r->match, &snap);
    room_broadcast_lobby(r);
    json_t *params_obj = json_loads(r->spec.params_json, 0, &jerr);
    if (!params_obj) params_obj = json_object();
    room_send_all(
        r, json_pack("{s:s,s:s,s:f,s:i,s:o,s:{s:s,s:I,s:o}}", "type", "race_start", "race_id",
                     r->spec.id, "countdown", snap.time_s < 0 ? -snap.time_s : 0.0, "tick",
                     (int)snap.tick, "cars", cars_json(r), "stage", "generator", r->spec.generator,
                     "seed", (json_int_t)r->spec.seed, "params", params_obj));
    room_send_state(r);
    RaceStartJob *sj = calloc(1, sizeof *sj);
    if (sj) {
        sj->job.run = race_start_run;
        sj->job.done = race_start_done;
        snprintf(sj->race_id, sizeof sj->race_id, "%s", r->spec.id);
        if (workers_submit(srv->lanes[LANE_FAST], &sj->job)) free(sj);
    }
    r->ticking = true;
    rooms_arm(srv->rooms);
    return;
fail:
    fprintf(stderr, "[server] race %s could not start: %s\n", r->spec.id, err.msg);
    for (int i = 0; i < CR_MAX_CARS; i++) {
        r->players[i].ready = false;
        if (r->players[i].used && r->players[i].wsi)
            ws_send_error(r->players[i].wsi, "race_failed", err.msg);
    }
    room_broadcast_lobby(r);
}

/* ---- the bots' private feeds -------------------------------------------- */

/* Each bot car's news (log lines, errors, drawings: botfeed.h) to its
 * owner's sockets in the room only, at the snapshot rate (every wake-up
 * when final). Other players and spectators never get another coder's bot
 * output. */
static void room_send_bot_feeds(Room *r, int64_t now, bool final) {
    if (!final && now - r->feed_ns < 1000000000LL / 20) return;
    r->feed_ns = now;
    for (int car = 0; car < r->n_cars; car++) {
        int slot = r->slot_of_car[car];
        const Player *p = slot >= 0 ? &r->players[slot] : NULL;
        if (!p || !p->used || !p->seat.bot_id) continue;
        /* Nobody to tell: the feed waits (an owner who comes back gets the
         * errors, and the log within the byte cap). */
        bool watched = p->wsi != NULL;
        for (int i = 0; i < r->n_spectators && !watched; i++)
            watched = ws_user_id(r->spectators[i]) == p->seat.user_id;
        if (!watched) continue;
        char *texts[BOTFEED_MSGS_MAX];
        int n = botfeed_collect(&r->feed[car], r->match, car, now, texts);
        for (int k = 0; k < n; k++) {
            WsMsg *m = ws_msg_create(texts[k], strlen(texts[k]));
            free(texts[k]);
            if (!m) continue;
            if (p->wsi) ws_send_shared(p->wsi, m);
            /* The owner watching from another socket (a second tab). */
            for (int i = 0; i < r->n_spectators; i++)
                if (ws_user_id(r->spectators[i]) == p->seat.user_id)
                    ws_send_shared(r->spectators[i], m);
            ws_msg_unref(m);
        }
    }
}
