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
    /* The lobby's own beat (lobby.lua's loop, and the grace of seats held
     * in an open room), far slower than the ticks. */
    lws_sorted_usec_list_t loop_sul;
    int64_t opened_ns;
    int64_t loop_next_ns;  /* when lobby.lua's loop is due */
    int64_t loop_n;        /* loops run */
    bool terminated;       /* lobby.lua's terminate has run */
    char *geometry;        /* the stage as GET /api/stages answers it, encoded once */
    bool geometry_pending; /* a worker is making it */
    char lobby_err[256];   /* the last lobby.lua error logged */
    int64_t lobby_err_repeats;
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
    lws_sul_cancel(&r->loop_sul);
    lobby_destroy(r->lobby);
    free(r->geometry);
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

static void room_terminate(Room *r, const char *reason);
static int64_t mono_ns(void);
static void room_geometry_prepare(Room *r);
static void room_loop_arm(Room *r);

void rooms_destroy(Rooms *rs) {
    if (!rs) return;
    lws_sul_cancel(&rs->pace);
    for (int i = 0; i < ROOMS_MAX; i++) {
        if (rs->rooms[i]) room_terminate(rs->rooms[i], "shutdown");
        room_free(rs->rooms[i]);
    }
    free(rs);
}

static LobbyRoom lobby_view(const Room *r, LobbyPlayer buf[CR_MAX_CARS]);
static void lobby_log(Room *r, int rc, const CrError *err);

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
        r->opened_ns = mono_ns();
        LobbyPlayer buf[CR_MAX_CARS];
        LobbyRoom view = lobby_view(r, buf);
        lobby_log(r, lobby_init(r->lobby, &view, &lerr), &lerr);
        room_geometry_prepare(r);
        r->loop_next_ns = r->opened_ns;
        if (lobby_loop_hz(r->lobby) > 0)
            r->loop_next_ns += (int64_t)(1e9 / lobby_loop_hz(r->lobby));
        room_loop_arm(r);
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

const char *room_state_name(const Room *r) {
    return STATE_NAMES[r->state];
}

static Player *player_of_socket(Room *r, struct lws *wsi) {
    for (int i = 0; i < CR_MAX_CARS; i++)
        if (r->players[i].used && r->players[i].wsi == wsi) return &r->players[i];
    return NULL;
}

static Player *player_of_user(Room *r, int64_t user_id) {
    for (int i = 0; i < CR_MAX_CARS; i++)
        if (r->players[i].used && r->players[i].seat.user_id == user_id) return &r->players[i];
    return NULL;
}

static int players(const Room *r) {
    int n = 0;
    for (int i = 0; i < CR_MAX_CARS; i++) n += r->players[i].used;
    return n;
}

/* The car a player drives in the running race, or -1. */
static int car_of_slot(const Room *r, const Player *p) {
    for (int i = 0; i < r->n_cars; i++)
        if (r->slot_of_car[i] == (int)(p - r->players)) return i;
    return -1;
}

static LobbyPlayer lobby_player(const Player *p) {
    return (LobbyPlayer){p->seat.user_id, p->seat.username, p->seat.bot_id != 0,
                         p->ready,        p->wsi != NULL,   0};
}

/* The room as lobby.lua sees it; players points into buf. */
static LobbyRoom lobby_view(const Room *r, LobbyPlayer buf[CR_MAX_CARS]) {
    RaceSnapshot snap;
    bool racing = r->match && r->state != ROOM_OPEN;
    if (racing) match_snapshot(r->match, &snap);
    int n = 0;
    for (int i = 0; i < CR_MAX_CARS; i++) {
        const Player *p = &r->players[i];
        if (!p->used) continue;
        buf[n] = lobby_player(p);
        int car = racing ? car_of_slot(r, p) : -1;
        if (car >= 0 && car < snap.n_cars) buf[n].position = snap.cars[car].position;
        n++;
    }
    return (LobbyRoom){r->spec.id, STATE_NAMES[r->state], r->spec.max_cars, n,
                       buf,        r->n_spectators};
}

/* A failing hook, logged once while it keeps failing the same way (a
 * broken loop would otherwise say it up to 10 times a second). */
static void lobby_log(Room *r, int rc, const CrError *err) {
    if (!rc) return;
    if (!strncmp(r->lobby_err, err->msg, sizeof r->lobby_err - 1)) {
        r->lobby_err_repeats++;
        return;
    }
    if (r->lobby_err_repeats)
        fprintf(stderr, "[server] room %s: (the last lobby.lua error repeated %lld times)\n",
                r->spec.id, (long long)r->lobby_err_repeats);
    r->lobby_err_repeats = 0;
    snprintf(r->lobby_err, sizeof r->lobby_err, "%.255s", err->msg);
    fprintf(stderr, "[server] room %s: %s\n", r->spec.id, err->msg);
}

static void room_consider_start(Room *r);
static void room_send_start(Room *r, struct lws *wsi);

/* The socket becomes the slot's (a new seat or a reconnect): a socket the
 * slot had before is no longer in the room, and a spectator who takes a
 * slot stops spectating. */
static void room_attach(Room *r, Player *slot, struct lws *wsi) {
    if (slot->wsi && slot->wsi != wsi) ws_set_room(slot->wsi, NULL);
    for (int i = 0; i < r->n_spectators; i++)
        if (r->spectators[i] == wsi) r->spectators[i] = r->spectators[--r->n_spectators];
    slot->wsi = wsi;
    slot->gone_ns = 0; /* back within the grace: the car is theirs again */
    ws_set_room(wsi, r);
}

int room_join(Room *r, struct lws *wsi, Seat *seat, CrError *err) {
    Player *slot = player_of_user(r, seat->user_id);
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
    bool is_new = !slot;
    if (!slot) {
        LobbyPlayer buf[CR_MAX_CARS],
            who = {seat->user_id, seat->username, seat->bot_id != 0, false, true, 0};
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
         * place. */
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
    room_attach(r, slot, wsi);
    if (is_new) {
        LobbyPlayer buf[CR_MAX_CARS], who = lobby_player(slot);
        LobbyRoom view = lobby_view(r, buf);
        CrError lerr = {{0}};
        lobby_log(r, lobby_join(r->lobby, &view, &who, &lerr), &lerr);
    }
    room_broadcast_lobby(r);
    if (room_running(r)) room_send_start(r, wsi);
    room_consider_start(r);
    room_loop_arm(r);
    return 0;
}

/* A seat whose socket dropped and that the user may take back: in a room
 * not yet over, within the grace (not expired). */
static bool seat_held(const Room *r, const Player *p) {
    return p->used && !p->wsi && !p->expired && r->state != ROOM_FINISHED && !r->ending &&
           !r->terminated;
}

Room *rooms_held_seat(Rooms *rs, int64_t user_id) {
    Room *best = NULL;
    for (int i = 0; i < ROOMS_MAX; i++) {
        Room *r = rs->rooms[i];
        Player *p = r ? player_of_user(r, user_id) : NULL;
        if (!p || !seat_held(r, p)) continue;
        if (!best || (room_running(r) && !room_running(best))) best = r;
    }
    return best;
}

int room_reconnect(Room *r, struct lws *wsi, int64_t user_id) {
    Player *p = player_of_user(r, user_id);
    if (!p || !seat_held(r, p)) return CR_ENOTFOUND;
    room_attach(r, p, wsi);
    room_broadcast_lobby(r);
    if (room_running(r)) room_send_start(r, wsi);
    room_consider_start(r);
    room_loop_arm(r);
    return 0;
}

static void room_start(Room *r);

int room_ready(Room *r, struct lws *wsi, bool ready) {
    Player *p = player_of_socket(r, wsi);
    if (!p) return CR_ENOTFOUND;
    p->ready = ready;
    LobbyPlayer buf[CR_MAX_CARS], who = lobby_player(p);
    LobbyRoom view = lobby_view(r, buf);
    CrError lerr = {{0}};
    lobby_log(r, lobby_ready(r->lobby, &view, &who, &lerr), &lerr);
    room_broadcast_lobby(r);
    room_consider_start(r);
    return 0;
}

static void room_start_due(lws_sorted_usec_list_t *sul) {
    Room *r = lws_container_of(sul, Room, start_sul);
    r->starting = false;
    if (r->state == ROOM_OPEN && !r->terminated && players(r) > 0) room_start(r);
}

/* The lobby said start (should_start, or a loop's start): now, or after a
 * countdown on a timer that a later "not yet" cancels. */
static void room_begin(Room *r, bool start, double countdown_s) {
    if (!start || players(r) == 0) {
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

/* After every join, ready change and leave while open: lobby.lua's
 * should_start decides (a failing hook falls back to "all ready"). */
static void room_consider_start(Room *r) {
    if (r->state != ROOM_OPEN || r->terminated) return; /* terminated: shutting down */
    LobbyPlayer buf[CR_MAX_CARS];
    LobbyRoom view = lobby_view(r, buf);
    bool start;
    double countdown_s;
    CrError lerr = {{0}};
    lobby_log(r, lobby_should_start(r->lobby, &view, &start, &countdown_s, &lerr), &lerr);
    room_begin(r, start, countdown_s);
}

/* The lobby's answer for a car whose driver is gone for good (why: "left",
 * "timeout", "kicked"). A bot's car keeps its bot whatever the answer. */
static void room_car_orphaned(Room *r, Player *p, int car, const char *why) {
    LobbyPlayer buf[CR_MAX_CARS], who = lobby_player(p);
    LobbyRoom view = lobby_view(r, buf);
    LobbyLeave what;
    CrError lerr = {{0}};
    lobby_log(r, lobby_leave(r->lobby, &view, &who, STATE_NAMES[r->state], why, &what, &lerr),
              &lerr);
    p->expired = true;
    p->gone_ns = 0;
    r->input_tick[car] = -1; /* no client's input drives it any more */
    if (p->seat.bot_id) return;
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

/* The player gives up their seat for good: before the race it is freed
 * (lobby.lua's leave is told), in a race lobby.lua decides what the car
 * becomes. Their socket, if any, is already out. */
static void room_give_up(Room *r, Player *p, const char *why) {
    if (r->state == ROOM_OPEN) {
        LobbyPlayer buf[CR_MAX_CARS], who = lobby_player(p);
        LobbyRoom view = lobby_view(r, buf);
        LobbyLeave ignored;
        CrError lerr = {{0}};
        lobby_log(r, lobby_leave(r->lobby, &view, &who, "open", why, &ignored, &lerr), &lerr);
        seat_fini(&p->seat);
        memset(p, 0, sizeof *p);
        return;
    }
    int car = car_of_slot(r, p);
    if (room_running(r) && car >= 0 && !p->expired) room_car_orphaned(r, p, car, why);
}

static void room_out(Room *r, struct lws *wsi, bool for_good) {
    Player *p = player_of_socket(r, wsi);
    if (p) {
        p->wsi = NULL;
        if (for_good) {
            room_give_up(r, p, "left");
        } else if (r->state == ROOM_OPEN) {
            /* The seat waits grace_s for its player (the loop timer frees
             * it after), not ready meanwhile. */
            p->ready = false;
            p->gone_ns = mono_ns();
        } else {
            /* In a race the car coasts (neutral input) and the player can
             * take it back within grace_s (room_tick then asks leave). */
            int car = car_of_slot(r, p);
            if (room_running(r) && car >= 0 && !p->seat.bot_id && !p->expired) {
                CarInput neutral = {0};
                match_set_input(r->match, car, &neutral);
                p->gone_ns = mono_ns();
            }
        }
    }
    for (int i = 0; i < r->n_spectators; i++)
        if (r->spectators[i] == wsi) r->spectators[i] = r->spectators[--r->n_spectators];
    ws_set_room(wsi, NULL);
    room_broadcast_lobby(r);
    room_consider_start(r);
    room_loop_arm(r);
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
    /* Watching a race under way: the stage and cars first, then game_state. */
    if (room_running(r)) room_send_start(r, wsi);
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
    const char *label = lobby_label(r->lobby);
    return json_pack("{s:s,s:s,s:s,s:s,s:I,s:o,s:s,s:i,s:b,s:o,s:i,s:o}", "type", "lobby",
                     "race_id", r->spec.id, "state", STATE_NAMES[r->state], "generator",
                     r->spec.generator, "seed", (json_int_t)r->spec.seed, "params", params, "rules",
                     r->spec.rules, "max_cars", r->spec.max_cars, "ai_fill", r->spec.ai_fill,
                     "players", ps, "spectators", r->n_spectators, "label",
                     label[0] ? json_string(label) : json_null());
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

/* ---- the lobby's loop ----------------------------------------------------- */

static void room_send_all(Room *r, json_t *o);

static int64_t grace_ns(const Room *r) {
    return (int64_t)(lobby_grace_s(r->lobby) * 1e9);
}

/* Seats held in an open room whose grace ran out are freed. */
static void room_expire_held(Room *r, int64_t now) {
    bool changed = false;
    for (int i = 0; i < CR_MAX_CARS; i++) {
        Player *p = &r->players[i];
        if (p->used && !p->wsi && p->gone_ns && now - p->gone_ns >= grace_ns(r)) {
            room_give_up(r, p, "timeout");
            changed = true;
        }
    }
    if (!changed) return;
    room_broadcast_lobby(r);
    room_consider_start(r);
}

/* A player the loop kicked: told why, out of the room, the seat given up. */
static void room_kick(Room *r, Player *p, const char *reason) {
    if (p->wsi) {
        ws_send_error(p->wsi, "kicked", reason[0] ? reason : "the room's lobby removed you");
        ws_set_room(p->wsi, NULL);
        p->wsi = NULL;
    }
    room_give_up(r, p, "kicked");
    p->expired = p->used; /* in a race: no taking the car back */
}

/* lobby.lua's loop, and what it asked for. */
static void room_run_loop(Room *r, int64_t now) {
    double hz = lobby_loop_hz(r->lobby);
    int64_t period = (int64_t)(1e9 / hz);
    r->loop_next_ns += period;
    if (r->loop_next_ns <= now) r->loop_next_ns = now + period; /* late: no catching up */
    LobbyTick t = {.n = ++r->loop_n, .elapsed_s = (double)(now - r->opened_ns) / 1e9};
    if (room_running(r)) {
        RaceSnapshot snap;
        match_snapshot(r->match, &snap);
        t.racing = true;
        t.race_tick = snap.tick;
        t.race_time_s = snap.time_s;
    }
    LobbyPlayer buf[CR_MAX_CARS];
    LobbyRoom view = lobby_view(r, buf);
    LobbyActions a;
    CrError lerr = {{0}};
    int rc = lobby_loop(r->lobby, &view, &t, &a, &lerr);
    lobby_log(r, rc, &lerr);
    if (rc) return;
    if (a.message[0])
        room_send_all(r, json_pack("{s:s,s:s,s:s}", "type", "lobby_message", "race_id", r->spec.id,
                                   "text", a.message));
    bool changed = a.label_changed;
    for (int i = 0; i < a.n_kick; i++) {
        Player *p = player_of_user(r, a.kick[i]);
        if (p && !p->expired) {
            room_kick(r, p, a.reason);
            changed = true;
        }
    }
    if (changed) room_broadcast_lobby(r);
    if (r->state != ROOM_OPEN) return;
    if (a.start > 0 && players(r) >= lobby_min_players(r->lobby))
        room_begin(r, true, a.countdown_s);
    else if (a.start < 0)
        room_begin(r, false, 0);
    else if (changed)
        room_consider_start(r);
}

static void room_loop_due(lws_sorted_usec_list_t *sul) {
    Room *r = lws_container_of(sul, Room, loop_sul);
    int64_t now = mono_ns();
    if (r->state == ROOM_OPEN) room_expire_held(r, now);
    if (lobby_loop_hz(r->lobby) > 0 && now >= r->loop_next_ns && !r->ending &&
        r->state != ROOM_FINISHED)
        room_run_loop(r, now);
    room_loop_arm(r);
}

/* The next beat: lobby.lua's loop at its rate, or sooner the end of a held
 * seat's grace in an open room (in a race room_tick watches those); none
 * with neither. */
static void room_loop_arm(Room *r) {
    if (!r->srv || !r->srv->lws || r->terminated || r->ending || r->state == ROOM_FINISHED) return;
    int64_t next = INT64_MAX;
    if (lobby_loop_hz(r->lobby) > 0) next = r->loop_next_ns;
    for (int i = 0; r->state == ROOM_OPEN && i < CR_MAX_CARS; i++) {
        const Player *p = &r->players[i];
        if (p->used && !p->wsi && p->gone_ns && p->gone_ns + grace_ns(r) < next)
            next = p->gone_ns + grace_ns(r);
    }
    if (next == INT64_MAX) {
        lws_sul_cancel(&r->loop_sul);
        return;
    }
    int64_t wait = next - mono_ns();
    lws_sul_schedule(r->srv->lws, 0, &r->loop_sul, room_loop_due,
                     wait > 0 ? (lws_usec_t)(wait / 1000) : 0);
}

/* lobby.lua's terminate, once: the room is over (reason "finished",
 * "aborted", "shutdown"). */
static void room_terminate(Room *r, const char *reason) {
    if (r->terminated) return;
    r->terminated = true;
    lws_sul_cancel(&r->loop_sul);
    LobbyPlayer buf[CR_MAX_CARS];
    LobbyRoom view = lobby_view(r, buf);
    CrError lerr = {{0}};
    lobby_log(r, lobby_terminate(r->lobby, &view, reason, &lerr), &lerr);
}

void rooms_shutdown(Rooms *rs, bool recorded) {
    for (int i = 0; i < ROOMS_MAX; i++) {
        Room *r = rs->rooms[i];
        if (!r) continue;
        bool racing = room_running(r);
        room_terminate(r, "shutdown");
        /* Nothing more runs in it: the sockets' queues can drain. */
        r->ticking = false;
        lws_sul_cancel(&r->start_sul);
        r->starting = false;
        r->ending = true;
        if (racing)
            room_send_all(r, json_pack("{s:s,s:s,s:b,s:b,s:[]}", "type", "race_end", "race_id",
                                       r->spec.id, "aborted", true, "saved", recorded, "results"));
    }
    /* No room ticks any more: the pacer stops. */
    lws_sul_cancel(&rs->pace);
    rs->next_due_ns = INT64_MAX;
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

/* race_start as the race stands now (the countdown left, the tick), with
 * the stage's geometry spliced in as encoded once at the start: the same
 * bytes as GET /api/stages/{generator} answers. */
static WsMsg *start_msg(const Room *r) {
    RaceSnapshot snap;
    match_snapshot(r->match, &snap);
    json_error_t jerr;
    json_t *params = json_loads(r->spec.params_json, 0, &jerr);
    if (!params) params = json_object();
    json_t *head = json_pack("{s:s,s:s,s:f,s:i,s:o}", "type", "race_start", "race_id", r->spec.id,
                             "countdown", snap.time_s < 0 ? -snap.time_s : 0.0, "tick",
                             (int)snap.tick, "cars", cars_json(r));
    json_t *stage = json_pack("{s:s,s:I,s:o}", "generator", r->spec.generator, "seed",
                              (json_int_t)r->spec.seed, "params", params);
    char *h = head ? json_dumps(head, JSON_COMPACT | JSON_REAL_PRECISION(7)) : NULL;
    char *st = stage ? json_dumps(stage, JSON_COMPACT) : NULL;
    json_decref(head);
    json_decref(stage);
    const char *geo = r->geometry ? r->geometry : "null";
    WsMsg *m = NULL;
    if (h && st) {
        /* Both dumps are objects ending in '}': {head...,"stage":{stage...,"geometry":G}} */
        size_t hl = strlen(h) - 1, sl = strlen(st) - 1, gl = strlen(geo);
        static const char K1[] = ",\"stage\":", K2[] = ",\"geometry\":";
        size_t len = hl + sizeof K1 - 1 + sl + sizeof K2 - 1 + gl + 2;
        char *text = malloc(len + 1);
        if (text) {
            snprintf(text, len + 1, "%.*s%s%.*s%s%s}}", (int)hl, h, K1, (int)sl, st, K2, geo);
            m = ws_msg_create(text, len);
            free(text);
        }
    }
    free(h);
    free(st);
    return m;
}

/* race_start to one socket that arrives in a race under way (a reconnect,
 * a spectator); the next game_state follows within 50 ms. */
static void room_send_start(Room *r, struct lws *wsi) {
    WsMsg *m = start_msg(r);
    if (!m) return;
    ws_send_shared(wsi, m);
    ws_msg_unref(m);
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
    room_terminate(r, match_phase(r->match) == MATCH_DONE ? "finished" : "aborted");
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
    for (int i = 0; i < CR_MAX_CARS; i++) {
        Player *p = &r->players[i];
        int car = p->used && p->gone_ns && !p->wsi ? car_of_slot(r, p) : -1;
        if (car >= 0 && now - p->gone_ns >= grace_ns(r)) {
            room_car_orphaned(r, p, car, "timeout");
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

/* ---- the stage's geometry, for race_start --------------------------------- */

/* The room's stage exactly as GET /api/stages/{generator}?seed=...&params
 * answers it, made on a worker as that route is (generating the stage and
 * its JSON takes tens of ms that must not stall the loop's ticks) while the
 * room fills. */
typedef struct {
    Job job;
    char race_id[STORE_RACE_ID_MAX + 1];
    ApiRequest req;
    ApiResponse res;
} GeometryJob;

static void geometry_run(Job *job, void *thread_ctx) {
    GeometryJob *j = (GeometryJob *)job;
    api_ctx_refresh(thread_ctx);
    api_stages_get(thread_ctx, &j->req, &j->res);
}

static bool geometry_matches(const char *text, const Stage *st);
static void room_send_stage(Room *r);

static void geometry_done(Job *job, void *loop_ud) {
    GeometryJob *j = (GeometryJob *)job;
    Server *srv = loop_ud;
    Room *r = srv ? rooms_find(srv->rooms, j->race_id) : NULL;
    if (r) r->geometry_pending = false;
    if (j->res.status != 200) {
        fprintf(stderr, "[server] room %s: no stage geometry: %.200s\n", j->race_id,
                j->res.body ? j->res.body : "");
    } else if (r && !r->geometry) {
        if (r->match && !geometry_matches(j->res.body, match_stage(r->match))) {
            fprintf(stderr, "[server] room %s: stage geometry from another scripts version\n",
                    j->race_id);
        } else {
            r->geometry = j->res.body;
            j->res.body = NULL;
            /* The race started before it landed: its race_start said
             * null, so the stage follows on its own. */
            if (r->match) room_send_stage(r);
        }
    }
    free(j->res.body);
    free(j);
}

/* The stage's geometry as a message of its own, {"type":"stage",...}, to
 * everyone in the room. */
static void room_send_stage(Room *r) {
    if (!r->geometry || r->geometry[0] != '{') return;
    static const char K[] = "{\"type\":\"stage\",";
    size_t gl = strlen(r->geometry);
    char *text = malloc(sizeof K - 1 + gl);
    if (!text) return;
    memcpy(text, K, sizeof K - 1);
    memcpy(text + sizeof K - 1, r->geometry + 1, gl - 1);
    WsMsg *m = ws_msg_create(text, sizeof K - 1 + gl - 1);
    free(text);
    if (!m) return;
    for (int i = 0; i < CR_MAX_CARS; i++)
        if (r->players[i].used && r->players[i].wsi) ws_send_shared(r->players[i].wsi, m);
    for (int i = 0; i < r->n_spectators; i++) ws_send_shared(r->spectators[i], m);
    ws_msg_unref(m);
}

static void room_geometry_prepare(Room *r) {
    if (!r->srv || !r->srv->lanes[LANE_FAST]) return;
    GeometryJob *j = calloc(1, sizeof *j);
    if (!j) return;
    j->job.run = geometry_run;
    j->job.done = geometry_done;
    snprintf(j->race_id, sizeof j->race_id, "%s", r->spec.id);
    j->req.method = HTTP_GET;
    snprintf(j->req.params[0], sizeof j->req.params[0], "%s", r->spec.generator);
    int n =
        snprintf(j->req.query, sizeof j->req.query, "seed=%llu", (unsigned long long)r->spec.seed);
    json_error_t jerr;
    json_t *params = json_loads(r->spec.params_json, 0, &jerr);
    const char *k;
    json_t *v;
    json_object_foreach(params, k, v) {
        /* Parameter names are checked when the room is made ([a-z0-9_]). */
        if (n > 0 && (size_t)n < sizeof j->req.query)
            n += snprintf(j->req.query + n, sizeof j->req.query - (size_t)n, "&%s=%.17g", k,
                          json_number_value(v));
    }
    json_decref(params);
    if (n < 0 || (size_t)n >= sizeof j->req.query ||
        workers_submit(r->srv->lanes[LANE_FAST], &j->job)) {
        free(j); /* race_start says null; GET /api/stages still answers */
        return;
    }
    r->geometry_pending = true;
}

/* Whether text is the geometry of st (its "hash" field). */
static bool geometry_matches(const char *text, const Stage *st) {
    char want[40];
    snprintf(want, sizeof want, "\"hash\":\"%016llx\"", (unsigned long long)stage_hash(st));
    return text && strstr(text, want);
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
    room_broadcast_lobby(r);
    /* The stage for everyone who watches, encoded on a worker while the
     * room filled, never here: 4-11 ms on this thread moved every room's
     * tick (a soak with races turning over at 50 rooms saw tick p99 4-7 ms
     * when it was). Not landed yet, or a reload since changed the
     * generator (its hash differs): race_start says null and a stage
     * message follows when a worker has made it. */
    if (!geometry_matches(r->geometry, match_stage(r->match))) {
        free(r->geometry);
        r->geometry = NULL;
        if (!r->geometry_pending) room_geometry_prepare(r);
    }
    WsMsg *sm = start_msg(r);
    for (int i = 0; sm && i < CR_MAX_CARS; i++)
        if (r->players[i].used && r->players[i].wsi) ws_send_shared(r->players[i].wsi, sm);
    for (int i = 0; sm && i < r->n_spectators; i++) ws_send_shared(r->spectators[i], sm);
    ws_msg_unref(sm);
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
