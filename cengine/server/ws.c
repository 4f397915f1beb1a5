/* ws.c - the WebSocket protocol "coderally.v1" at /ws: Origin and path
 * checked at the upgrade, a hello with the protocol version, messages capped
 * in size and rate, a bounded send queue per connection (a client that lets
 * it fill is dropped, so it never holds anyone else up). */
#include <sodium.h>
#include <stdio.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "latestats.h"
#include "server_internal.h"

#define WS_QUEUE 128 /* > the burst the rate limit allows, so replies to it fit */
#define WS_RATE_PER_S 60
#define WS_CLOSE_QUIET_US 200000
#define WS_CLOSE_WAIT_NS 2000000000LL
#define WS_FRAGMENT 16384 /* larger messages go out in fragments of this size */
/* A connection being closed that cannot take even its close frame within
 * this many seconds (it has stopped reading) is cut without one. */
#define WS_KILL_S 3
/* The kernel's send buffer per connection. Left to autotune, it grows to
 * megabytes on a fast link: a client reading too slowly would fall a minute
 * of snapshots behind before its queue here even began to fill. The kernel
 * doubles it: 128 KiB, most of a race_start or seconds of game_state. */
#define WS_SNDBUF (64 * 1024)

typedef struct WsAuthJob WsAuthJob;
typedef struct WsJoinJob WsJoinJob;

typedef struct {
    WsAuthJob *job;  /* a session check in flight */
    WsJoinJob *join; /* a join being resolved */
    Room *room;      /* the room this socket plays or watches in, or NULL */
    /* A `ready` that arrived while this socket's join was still on a
     * worker: messages on a socket apply in order, so it is applied once
     * the join lands (1 ready, 0 not ready, -1 none). */
    int ready_after_join;
    StoreUser user; /* valid if authed */
    bool authed, hello_sent;
    bool counted;                         /* in Server.n_ws */
    char cookie_token[API_TOKEN_MAX + 1]; /* read at the upgrade */
    WsMsg *msgs[WS_QUEUE];                /* a reference to each */
    int head, count;
    size_t tx_off; /* bytes of msgs[head] out so far (a large one goes in fragments) */
    char rx[WS_MSG_MAX + 1];
    size_t rx_len;
    bool rx_overflow;
    int64_t rate_at_ns; /* token bucket: WS_RATE_PER_S tokens, refilled per ns */
    double rate_tokens;
    int close_status;   /* closing with this status: nothing more is read */
    bool close_ready;   /* the close may go out once the queue drains */
    bool too_slow;      /* its queue overflowed: dropped, nothing more is queued */
    int spectator_slot; /* 1 + its index in its room's spectators, or 0 */
    int64_t close_deadline_ns;
    char close_reason[64];
} WsConn;

/* A session check on a worker (the cookie at connect, or an `auth`
 * message). conn is NULL once the socket has closed. */
struct WsAuthJob {
    Job job;
    WsConn *conn;
    struct lws *wsi;
    ApiRequest req;
    ApiResponse res;
    bool ok;
};

/* A join_race being resolved on a worker. */
struct WsJoinJob {
    Job job;
    WsConn *conn;
    struct lws *wsi;
    StoreUser user;
    char race_id[STORE_RACE_ID_MAX + 1];
    int64_t car_id, bot_id;
    RoomSpec *quick; /* a quick race with no open room: the room to open */
    Seat seat;
    int rc;
    CrError err;
};

size_t ws_conn_size(void) {
    return sizeof(WsConn);
}

/* Lets go of every queued message (and of the one part-way out). */
static void ws_drop_queue(WsConn *w) {
    for (int i = 0; i < w->count; i++) ws_msg_unref(w->msgs[(w->head + i) % WS_QUEUE]);
    w->count = 0;
    w->head = 0;
    w->tx_off = 0;
}

static void ws_free(WsConn *w) {
    ws_drop_queue(w);
    if (w->job) w->job->conn = NULL;
    w->job = NULL;
    if (w->join) w->join->conn = NULL;
    w->join = NULL;
}

WsMsg *ws_msg_create(const char *text, size_t len) {
    WsMsg *m = malloc(sizeof *m + LWS_PRE + len);
    if (!m) return NULL;
    m->refs = 1;
    m->len = len;
    memcpy(m->buf + LWS_PRE, text, len);
    return m;
}

void ws_msg_unref(WsMsg *m) {
    if (m && --m->refs == 0) free(m);
}

/* The client has let WS_QUEUE messages pile up: it is not reading, or not
 * fast enough to follow a race. What is queued is dropped now (the shared
 * snapshots it references are stale by now, and a client that never reads
 * would hold them for ever), nothing more is queued, and the connection
 * closes with 1008 "too slow" as soon as the socket takes a frame -- or,
 * when it does not within WS_KILL_S (it has stopped reading, so its kernel
 * buffer is full), is cut without one. Dropping a message part-way out is
 * fine: a close frame may come between the fragments of a message. */
static void ws_too_slow(struct lws *wsi, WsConn *w) {
    ws_drop_queue(w);
    w->too_slow = true;
    w->close_status = LWS_CLOSE_STATUS_POLICY_VIOLATION;
    w->close_ready = true;
    snprintf(w->close_reason, sizeof w->close_reason, "too slow: send queue full");
    lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, WS_KILL_S);
    lws_callback_on_writable(wsi);
    latestats_ws_too_slow();
    fprintf(stderr, "[server] ws: closing a connection (user %lld): too slow, %d messages unsent\n",
            (long long)(w->authed ? w->user.id : 0), WS_QUEUE);
}

/* Queues a reference to m; a client whose queue is full is too slow and is
 * closed. */
static void ws_queue(struct lws *wsi, WsConn *w, WsMsg *m) {
    if (w->too_slow) return;
    if (w->count == WS_QUEUE) {
        ws_too_slow(wsi, w);
        return;
    }
    m->refs++;
    w->msgs[(w->head + w->count) % WS_QUEUE] = m;
    w->count++;
    lws_callback_on_writable(wsi);
}

void ws_send_shared(struct lws *wsi, WsMsg *m) {
    WsConn *w = lws_wsi_user(wsi);
    if (w) ws_queue(wsi, w, m);
}

static void ws_send(struct lws *wsi, WsConn *w, const char *text) {
    WsMsg *m = ws_msg_create(text, strlen(text));
    if (!m) return;
    ws_queue(wsi, w, m);
    ws_msg_unref(m);
}

static void ws_send_json(struct lws *wsi, WsConn *w, json_t *o) {
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (s) ws_send(wsi, w, s);
    free(s);
}

static void ws_error(struct lws *wsi, WsConn *w, const char *code, const char *msg) {
    ws_send_json(wsi, w, json_pack("{s:s,s:s,s:s}", "type", "error", "code", code, "message", msg));
}

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Sends the error, then closes once the client has gone quiet for
 * WS_CLOSE_QUIET_US (at most WS_CLOSE_WAIT_NS after the decision): closing
 * a socket with unread input makes the kernel reset the connection, and
 * the reset can destroy the error and the close frame before the client
 * reads them. */
static void ws_close_after(struct lws *wsi, WsConn *w, int status, const char *code,
                           const char *msg) {
    ws_error(wsi, w, code, msg);
    w->close_status = status;
    w->close_deadline_ns = now_ns() + WS_CLOSE_WAIT_NS;
    snprintf(w->close_reason, sizeof w->close_reason, "%s", code);
    lws_set_timer_usecs(wsi, WS_CLOSE_QUIET_US);
    /* A client that does not read cannot take the close frame either. */
    lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, (int)(WS_CLOSE_WAIT_NS / 1000000000) + WS_KILL_S);
}

static json_t *user_json(const WsConn *w) {
    if (!w->authed) return json_null();
    return json_pack("{s:I,s:s}", "id", (json_int_t)w->user.id, "username", w->user.username);
}

/* The room a reconnect puts the socket back in, for hello and auth. */
static json_t *room_json(Room *room) {
    if (!room) return json_null();
    return json_pack("{s:s,s:s}", "race_id", room_spec(room)->id, "state", room_state_name(room));
}

static void send_hello(struct lws *wsi, WsConn *w, Room *held) {
    w->hello_sent = true;
    ws_send_json(wsi, w,
                 json_pack("{s:s,s:i,s:o,s:o}", "type", "hello", "protocol", WS_PROTOCOL_VERSION,
                           "user", user_json(w), "room", room_json(held)));
}

static void auth_run(Job *job, void *thread_ctx) {
    WsAuthJob *j = (WsAuthJob *)job;
    j->ok = api_authenticate((ApiCtx *)thread_ctx, &j->req, &j->res);
}

static void auth_done(Job *job, void *loop_ud) {
    WsAuthJob *j = (WsAuthJob *)job;
    WsConn *w = j->conn;
    Server *srv = loop_ud;
    if (w) {
        w->job = NULL;
        if (srv) {
            if (j->ok) {
                w->user = j->req.user;
                w->authed = true;
            }
            /* A seat of theirs waiting since their connection dropped:
             * this socket takes it back, as joining again would. */
            Room *held = j->ok && !srv->stopping ? rooms_held_seat(srv->rooms, w->user.id) : NULL;
            if (held && w->room && w->room != held) room_leave(w->room, j->wsi);
            if (!w->hello_sent) {
                send_hello(j->wsi, w, held);
            } else if (j->ok) {
                ws_send_json(j->wsi, w,
                             json_pack("{s:s,s:o,s:o}", "type", "auth", "user", user_json(w),
                                       "room", room_json(held)));
            } else {
                ws_error(j->wsi, w, "unauthorized", "no valid session for that token");
            }
            if (held) room_reconnect(held, j->wsi, w->user.id);
        }
    }
    free(j->res.body);
    free(j);
}

/* Checks token on the fast lane; false if it could not be queued. */
static bool start_auth(struct lws *wsi, WsConn *w, const char *token) {
    Server *srv = server_of(wsi);
    WsAuthJob *j = calloc(1, sizeof *j);
    if (!j) return false;
    j->job.run = auth_run;
    j->job.done = auth_done;
    j->conn = w;
    j->wsi = wsi;
    j->req.now = time(NULL);
    snprintf(j->req.token, sizeof j->req.token, "%s", token);
    if (srv->stopping || workers_submit(srv->lanes[LANE_FAST], &j->job)) {
        free(j);
        return false;
    }
    w->job = j;
    return true;
}

/* The Origin (if the client sent one, as browsers do) must name this host. */
static bool origin_ok(struct lws *wsi) {
    char origin[256], host[256];
    if (lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) <= 0) return true;
    if (lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN) <= 0) return false;
    if (lws_hdr_copy(wsi, host, sizeof host, WSI_TOKEN_HOST) <= 0) return false;
    const char *o = strstr(origin, "://");
    return o && !strcasecmp(o + 3, host);
}

/* One message's worth from the bucket; false when it is empty (more than
 * WS_RATE_PER_S messages in the last second, bursts included). */
static bool rate_take(WsConn *w) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    if (!w->rate_at_ns)
        w->rate_tokens = WS_RATE_PER_S;
    else
        w->rate_tokens += (double)(now - w->rate_at_ns) * WS_RATE_PER_S / 1e9;
    if (w->rate_tokens > WS_RATE_PER_S) w->rate_tokens = WS_RATE_PER_S;
    w->rate_at_ns = now;
    if (w->rate_tokens < 1) return false;
    w->rate_tokens -= 1;
    return true;
}

static void join_run(Job *job, void *thread_ctx) {
    WsJoinJob *j = (WsJoinJob *)job;
    api_ctx_refresh(thread_ctx);
    j->rc = seat_resolve((ApiCtx *)thread_ctx, &j->user, j->car_id, j->bot_id, &j->seat, &j->err);
    StoreRace race;
    if (!j->rc && j->quick) j->rc = api_races_quick_room(thread_ctx, j->quick, &race, &j->err);
}

/* A ready change from the socket's player (in a room): once the server is
 * stopping no new race starts (rooms.c holds to that too), so ready is
 * answered with shutting_down rather than left to wait for nothing. */
static void ws_ready(struct lws *wsi, WsConn *w, bool ready) {
    if (ready && server_stopping(server_of(wsi)))
        ws_error(wsi, w, "shutting_down", "the server is shutting down: no new races start");
    else if (!w->room || room_ready(w->room, wsi, ready))
        ws_error(wsi, w, "not_in_race", "join a race first");
}

static void join_done(Job *job, void *loop_ud) {
    WsJoinJob *j = (WsJoinJob *)job;
    WsConn *w = j->conn;
    Server *srv = loop_ud;
    if (srv && j->quick && !j->rc) {
        CrError oerr = {{0}};
        j->quick->owner_id = j->user.id;
        if (rooms_open(srv->rooms, j->quick, &oerr))
            fprintf(stderr, "[server] quick race: %s\n", oerr.msg);
        snprintf(j->race_id, sizeof j->race_id, "%s", j->quick->id);
    }
    free(j->quick);
    Room *room = srv ? rooms_find(srv->rooms, j->race_id) : NULL;
    if (w) w->join = NULL;
    if (w && srv) {
        CrError err = {{0}};
        if (j->rc == CR_ENOTFOUND) {
            ws_error(j->wsi, w, "not_found", j->err.msg);
        } else if (j->rc) {
            ws_error(j->wsi, w, "internal", "could not load your car or bot");
        } else if (!room) {
            ws_error(j->wsi, w, "not_found", "no such race");
        } else {
            /* Into the new room first: a refused join leaves the socket
             * where it was. room_join takes the seat whatever happens. */
            Room *old = w->room;
            if (room_join(room, j->wsi, &j->seat, &err)) {
                /* Any other code is lobby.lua's join_attempt reason. */
                const char *why =
                    !strcmp(err.msg, "room_full")       ? "the room is full"
                    : !strcmp(err.msg, "race_started")  ? "the race has started without you"
                    : !strcmp(err.msg, "grace_expired") ? "your reconnect grace ran out"
                                                        : "the room's lobby refused you";
                ws_error(j->wsi, w, err.msg, why);
            } else {
                if (old && old != room) {
                    room_leave(old, j->wsi);
                    w->room = room;
                }
                if (w->ready_after_join >= 0 && w->room)
                    ws_ready(j->wsi, w, w->ready_after_join == 1);
            }
        }
        w->ready_after_join = -1;
    }
    seat_fini(&j->seat);
    free(j);
}

void ws_set_room(struct lws *wsi, Room *room) {
    WsConn *w = lws_wsi_user(wsi);
    if (w) w->room = room;
}

int ws_spectator_slot(struct lws *wsi) {
    const WsConn *w = lws_wsi_user(wsi);
    return w ? w->spectator_slot - 1 : -1;
}

void ws_set_spectator_slot(struct lws *wsi, int slot) {
    WsConn *w = lws_wsi_user(wsi);
    if (w) w->spectator_slot = slot + 1;
}

void ws_send_error(struct lws *wsi, const char *code, const char *msg) {
    WsConn *w = lws_wsi_user(wsi);
    if (w) ws_error(wsi, w, code, msg);
}

/* Race ids are short tokens ([A-Za-z0-9_-], at most STORE_RACE_ID_MAX). */
static const char *race_id_of(json_t *m) {
    const char *s = json_string_value(json_object_get(m, "race_id"));
    if (!s) return NULL;
    size_t n = strlen(s);
    if (n == 0 || n > STORE_RACE_ID_MAX) return NULL;
    for (size_t i = 0; i < n; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-", s[i]))
            return NULL;
    return s;
}

/* A positive integer id field, or 0 (absent/null allowed if optional), or -1. */
static int64_t id_of(json_t *m, const char *field, bool optional) {
    json_t *v = json_object_get(m, field);
    if (!v || json_is_null(v)) return optional ? 0 : -1;
    if (!json_is_integer(v) || json_integer_value(v) <= 0) return -1;
    return json_integer_value(v);
}

static const char *const ACTIONS[] = {"accelerate", "brake", "turn_left",
                                      "turn_right", "nitro", "handbrake"};

/* An input message: only {type, actions, tick}; actions only the six names,
 * each a boolean. A client never sends positions or anything else. */
static bool input_ok(struct lws *wsi, WsConn *w, json_t *m) {
    const char *key;
    json_t *v;
    json_object_foreach(m, key, v) {
        if (strcmp(key, "type") && strcmp(key, "actions") && strcmp(key, "tick")) {
            char msg[128];
            snprintf(msg, sizeof msg, "an input carries only actions (and tick), not '%.40s'", key);
            ws_error(wsi, w, "bad_field", msg);
            return false;
        }
    }
    json_t *tick = json_object_get(m, "tick");
    if (tick && !(json_is_integer(tick) && json_integer_value(tick) >= 0)) {
        ws_error(wsi, w, "bad_field", "\"tick\" must be a whole number >= 0");
        return false;
    }
    json_t *a = json_object_get(m, "actions");
    if (!json_is_object(a)) {
        ws_error(wsi, w, "bad_field", "\"actions\" must be an object of booleans");
        return false;
    }
    json_object_foreach(a, key, v) {
        bool known = false;
        for (size_t i = 0; i < sizeof ACTIONS / sizeof ACTIONS[0]; i++)
            known = known || !strcmp(key, ACTIONS[i]);
        if (!known || !json_is_boolean(v)) {
            char msg[160];
            snprintf(msg, sizeof msg,
                     "actions are accelerate, brake, turn_left, turn_right, nitro, handbrake, "
                     "each true or false (not '%.40s')",
                     key);
            ws_error(wsi, w, "bad_field", msg);
            return false;
        }
    }
    return true;
}

static void on_join(struct lws *wsi, WsConn *w, json_t *m, bool quick) {
    const char *race = race_id_of(m);
    Room *best = NULL;
    if (quick && w->authed) {
        /* The best open room, or (on the worker) a new one. */
        best = rooms_pick_quick(server_of(wsi)->rooms);
        race = best ? room_spec(best)->id : "";
    }
    int64_t car = id_of(m, "car_id", false), bot = id_of(m, "bot_id", true);
    if (!w->authed) {
        ws_error(wsi, w, "unauthorized", "log in first");
    } else if (!race) {
        ws_error(wsi, w, "bad_field", "\"race_id\" must be a race id string");
    } else if (car < 0) {
        ws_error(wsi, w, "bad_field", "\"car_id\" must be the id of one of your cars");
    } else if (bot < 0) {
        ws_error(wsi, w, "bad_field", "\"bot_id\" must be the id of one of your bots, or null");
    } else if (w->join) {
        ws_error(wsi, w, "busy", "a join is already being handled");
    } else {
        Server *srv = server_of(wsi);
        WsJoinJob *j = calloc(1, sizeof *j);
        if (!j) {
            ws_error(wsi, w, "busy", "the server is busy; try again");
            return;
        }
        j->job.run = join_run;
        j->job.done = join_done;
        j->conn = w;
        j->wsi = wsi;
        j->user = w->user;
        snprintf(j->race_id, sizeof j->race_id, "%s", race);
        if (quick && !best && !(j->quick = calloc(1, sizeof *j->quick))) {
            free(j);
            ws_error(wsi, w, "busy", "the server is busy; try again");
            return;
        }
        j->car_id = car;
        j->bot_id = bot;
        if (srv->stopping || workers_submit(srv->lanes[LANE_FAST], &j->job)) {
            free(j->quick);
            free(j);
            ws_error(wsi, w, "busy", "the server is busy; try again");
            return;
        }
        w->join = j;
    }
}

static void on_message(struct lws *wsi, WsConn *w) {
    json_error_t jerr;
    json_t *m = json_loadb(w->rx, w->rx_len, JSON_REJECT_DUPLICATES, &jerr);
    const char *type = m ? json_string_value(json_object_get(m, "type")) : NULL;
    if (!m || !json_is_object(m)) {
        ws_error(wsi, w, "bad_json", "a message must be a JSON object with a \"type\"");
    } else if (!type) {
        ws_error(wsi, w, "bad_field", "\"type\" must be a string");
    } else if (!strcmp(type, "auth")) {
        json_t *t = json_object_get(m, "token");
        if (!json_is_string(t) || json_string_length(t) > API_TOKEN_MAX)
            ws_error(wsi, w, "bad_field", "\"token\" must be a session token string");
        else if (w->job)
            ws_error(wsi, w, "busy", "a session check is already running");
        else if (!start_auth(wsi, w, json_string_value(t)))
            ws_error(wsi, w, "busy", "the server is busy; try again");
    } else if (!strcmp(type, "join_race")) {
        on_join(wsi, w, m, false);
    } else if (!strcmp(type, "quick_race")) {
        on_join(wsi, w, m, true);
    } else if (!strcmp(type, "input")) {
        if (input_ok(wsi, w, m)) {
            json_t *a = json_object_get(m, "actions");
            CarInput in = {0};
            bool l = json_is_true(json_object_get(a, "turn_left"));
            bool rt = json_is_true(json_object_get(a, "turn_right"));
            in.throttle = json_is_true(json_object_get(a, "accelerate")) ? 1.f : 0.f;
            in.brake = json_is_true(json_object_get(a, "brake")) ? 1.f : 0.f;
            in.steer = l == rt ? 0.f : (l ? 1.f : -1.f);
            in.nitro = json_is_true(json_object_get(a, "nitro"));
            in.handbrake = json_is_true(json_object_get(a, "handbrake"));
            json_t *tk = json_object_get(m, "tick");
            int64_t tick = tk ? (int64_t)json_integer_value(tk) : -1;
            int rc = w->room ? room_input(w->room, wsi, &in, tick) : CR_ENOTFOUND;
            if (rc == CR_ENOTFOUND)
                ws_error(wsi, w, "not_in_race", "join a race first");
            else if (rc)
                ws_error(wsi, w, "not_running",
                         "no input taken: the race is not running, or a bot drives your car");
        }
    } else if (!strcmp(type, "ready")) {
        json_t *v = json_object_get(m, "ready");
        if (v && !json_is_boolean(v))
            ws_error(wsi, w, "bad_field", "\"ready\" must be true or false");
        else if (w->join)
            w->ready_after_join = !v || json_is_true(v) ? 1 : 0;
        else
            ws_ready(wsi, w, !v || json_is_true(v));
    } else if (!strcmp(type, "leave")) {
        if (!w->room)
            ws_error(wsi, w, "not_in_race", "join a race first");
        else
            room_leave(w->room, wsi);
    } else if (!strcmp(type, "spectate")) {
        const char *id = race_id_of(m);
        Room *room = id ? rooms_find(server_of(wsi)->rooms, id) : NULL;
        if (!id) {
            ws_error(wsi, w, "bad_field", "\"race_id\" must be a race id string");
        } else if (!room) {
            ws_error(wsi, w, "not_found", "no such race");
        } else {
            if (w->room && w->room != room) room_leave(w->room, wsi);
            if (room_spectate(room, wsi)) ws_error(wsi, w, "busy", "the server is out of memory");
        }
    } else {
        char msg[128];
        snprintf(msg, sizeof msg, "unknown message type '%.40s'", type);
        ws_error(wsi, w, "unknown_type", msg);
    }
    json_decref(m);
}

/* Writes m, or its next fragment when it is large, to the socket; non-zero
 * if the socket is broken. A small message goes in one write from the shared
 * buffer: lws writes the frame header into its LWS_PRE bytes, the same
 * header for every receiver, and writes are one at a time on this thread. A
 * large one (a stage's geometry in race_start) goes WS_FRAGMENT bytes per
 * writeable callback, so lws never has to copy the rest of it per socket
 * when the kernel takes less; each fragment is copied to a scratch buffer
 * first, because its header in front of it would overwrite bytes of the
 * shared message other receivers still need. w->tx_off is where it stands
 * (0 once the message is out). */
static int ws_write_next(struct lws *wsi, WsConn *w, WsMsg *m) {
    if (m->len <= WS_FRAGMENT && !w->tx_off)
        return lws_write(wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT) < (int)m->len;
    static unsigned char scratch[LWS_PRE + WS_FRAGMENT];
    size_t left = m->len - w->tx_off, k = left < WS_FRAGMENT ? left : WS_FRAGMENT;
    int flags = lws_write_ws_flags(LWS_WRITE_TEXT, w->tx_off == 0, k == left);
    memcpy(scratch + LWS_PRE, m->buf + LWS_PRE + w->tx_off, k);
    if (lws_write(wsi, scratch + LWS_PRE, k, (enum lws_write_protocol)flags) < (int)k) return 1;
    w->tx_off = k == left ? 0 : w->tx_off + k;
    return 0;
}

int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                size_t len) {
    WsConn *w = user;
    switch (reason) {
        case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
            char uri[64];
            if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0 || strcmp(uri, "/ws"))
                return -1;
            if (!origin_ok(wsi)) return -1;
            /* Headers are gone by ESTABLISHED; keep the session cookie (lws
             * has allocated the zeroed per-connection data by now). */
            if (w) http_read_token(wsi, w->cookie_token, sizeof w->cookie_token);
            return 0;
        }
        case LWS_CALLBACK_ESTABLISHED: {
            w->ready_after_join = -1;
            int sndbuf = WS_SNDBUF;
            if (setsockopt(lws_get_socket_fd(wsi), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf))
                fprintf(stderr, "[server] ws: cannot set SO_SNDBUF (the kernel's default stays)\n");
            /* A browser's session cookie came with the upgrade: check it
             * first so the hello can say who this is. */
            char token[API_TOKEN_MAX + 1];
            snprintf(token, sizeof token, "%s", w->cookie_token);
            sodium_memzero(w->cookie_token, sizeof w->cookie_token);
            if (!*token || !start_auth(wsi, w, token)) send_hello(wsi, w, NULL);
            w->counted = true;
            server_of(wsi)->n_ws++;
            latestats_ws_open(1);
            if (server_of(wsi)->ws_closing) lws_callback_on_writable(wsi);
            return 0;
        }
        case LWS_CALLBACK_RECEIVE: {
            if (w->close_status) {
                /* Closing: input is dropped, and the close waits for quiet. */
                if (!w->close_ready && now_ns() < w->close_deadline_ns)
                    lws_set_timer_usecs(wsi, WS_CLOSE_QUIET_US);
                return 0;
            }
            if (lws_is_first_fragment(wsi)) {
                w->rx_len = 0;
                w->rx_overflow = false;
            }
            if (w->rx_overflow || w->rx_len + len > WS_MSG_MAX) {
                w->rx_overflow = true;
                if (lws_is_final_fragment(wsi))
                    ws_close_after(wsi, w, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message_too_large",
                                   "a message is at most 4096 bytes");
                return 0;
            }
            memcpy(w->rx + w->rx_len, in, len);
            w->rx_len += len;
            if (!lws_is_final_fragment(wsi)) return 0;
            if (!rate_take(w)) {
                ws_close_after(wsi, w, LWS_CLOSE_STATUS_POLICY_VIOLATION, "rate_limited",
                               "more than 60 messages in a second");
                return 0;
            }
            if (lws_frame_is_binary(wsi)) {
                ws_error(wsi, w, "bad_json", "messages are JSON text frames");
                return 0;
            }
            on_message(wsi, w);
            return 0;
        }
        case LWS_CALLBACK_SERVER_WRITEABLE:
            if (w->count) {
                int slot = w->head;
                WsMsg *m = w->msgs[slot];
                if (ws_write_next(wsi, w, m)) return -1;
                if (w->tx_off) {
                    lws_callback_on_writable(wsi); /* the next fragment */
                    return 0;
                }
                ws_msg_unref(m);
                w->head = (w->head + 1) % WS_QUEUE;
                w->count--;
                if (w->count) {
                    lws_callback_on_writable(wsi);
                    return 0;
                }
            }
            if (!w->count && !w->close_status && server_of(wsi)->ws_closing) {
                /* Shutdown: everything queued went out; now the close. */
                w->close_status = LWS_CLOSE_STATUS_GOINGAWAY;
                w->close_ready = true;
                snprintf(w->close_reason, sizeof w->close_reason, "server shutting down");
            }
            if (w->close_status && w->close_ready) {
                lws_close_reason(wsi, (enum lws_close_status)w->close_status,
                                 (unsigned char *)w->close_reason, strlen(w->close_reason));
                return -1;
            }
            return 0;
        case LWS_CALLBACK_TIMER:
            if (w->close_status) {
                w->close_ready = true;
                lws_callback_on_writable(wsi);
            }
            return 0;
        case LWS_CALLBACK_CLOSED:
            if (w->room) room_detach(w->room, wsi);
            ws_free(w);
            if (w->counted) {
                server_of(wsi)->n_ws--;
                latestats_ws_open(-1);
            }
            w->counted = false;
            return 0;
        default:
            return 0;
    }
}

int64_t ws_user_id(struct lws *wsi) {
    const WsConn *w = wsi ? lws_wsi_user(wsi) : NULL;
    return w && w->authed ? w->user.id : 0;
}
