/* server_internal.h - the server's state shared by its event-loop modules
 * (server.c, http.c, ws.c). Only the loop thread touches it. */
#ifndef CR_SERVER_INTERNAL_H
#define CR_SERVER_INTERNAL_H

#include <libwebsockets.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>

#include "api.h"
#include "ratelimit.h"
#include "rooms.h"
#include "server.h"
#include "workers.h"

#define SERVER_MAX_WORKERS 4
#define WS_PROTOCOL "coderally.v1"
#define WS_PROTOCOL_VERSION 1
#define WS_MSG_MAX 4096

typedef struct Server {
    const ServerConfig *cfg;
    struct lws_context *lws;
    WorkerPool *lanes[2]; /* LANE_FAST, LANE_SLOW */
    ApiCtx ctxs[2][SERVER_MAX_WORKERS];
    ApiSettings settings;
    BotChecker *bots;
    RateLimit *rl;
    Rooms *rooms;
    /* The scripts as the loop last read them well, watched for changes. */
    Scripts *scripts;
    int n_workers;  /* per lane */
    bool reloading; /* a ReloadJob holds the scripts */
    lws_sorted_usec_list_t scripts_watch;
    char scripts_broken[1024]; /* the last reload error reported, to say it once */
    Scripts *loop_scripts;     /* the loop thread's own, for starting races */
    BotHost *race_host;        /* the sandbox zygote the races' bots come from */
    /* race_host's sockets in the loop: its epoll set adopted as one raw fd,
     * and its timers (server.c). */
    struct lws *bots_wsi;
    lws_sorted_usec_list_t bots_timer;
    int64_t bots_timer_at; /* CLOCK_MONOTONIC ns; INT64_MAX: not armed */
    char web_root[PATH_MAX];
    bool have_web;
    bool stopping;
    bool ws_closing;        /* shutdown: every WebSocket closes (1001) once its queue is out */
    lws_retry_bo_t ws_idle; /* WS_PING_S: the ping and hang-up of a quiet WebSocket */
    int n_ws;               /* WebSocket connections established and not yet closed */
    int port;
} Server;

Server *server_of(struct lws *wsi);
/* Whether SIGTERM/SIGINT has come: no new race starts from then on. */
bool server_stopping(const Server *srv);

int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                  size_t len);
/* Takes finished jobs from every lane and runs their done() on the loop. */
void server_take_done(Server *srv);
/* The session token from "Authorization: Bearer X" or the cr_session
 * cookie, into out ("" if none or too long). */
void http_read_token(struct lws *wsi, char *out, size_t size);
size_t http_conn_size(void);

/* A player's grid slot as a join resolves it on a worker: their own car with
 * its upgraded stats, and their own bot's latest code and memory. */
typedef struct Seat {
    int64_t user_id;
    char username[STORE_USERNAME_MAX + 1];
    int64_t car_id;
    CarEntry car;
    int64_t bot_id; /* 0: driven by keyboard */
    int bot_version;
    char *bot_code;   /* malloc'd */
    char *bot_memory; /* malloc'd JSON or NULL */
} Seat;
void seat_fini(Seat *s);
/* Fills seat for user from car_id and bot_id (0 = none) with ctx's store
 * and scripts. CR_ENOTFOUND (which one in err) unless both are theirs. */
int seat_resolve(ApiCtx *ctx, const StoreUser *user, int64_t car_id, int64_t bot_id, Seat *seat,
                 CrError *err);

/* A WebSocket text message encoded once and shared by every receiver
 * (snapshots): each queue holds a reference. Loop thread only. */
typedef struct {
    int refs;
    size_t len;
    unsigned char buf[]; /* LWS_PRE bytes, then the text */
} WsMsg;
WsMsg *ws_msg_create(const char *text, size_t len); /* one reference */
void ws_msg_unref(WsMsg *m);
/* Queues a reference to m on a coderally.v1 socket. */
void ws_send_shared(struct lws *wsi, WsMsg *m);
/* Records which room a socket is in (NULL: none); rooms call it. */
void ws_set_room(struct lws *wsi, Room *room);
/* The socket's index in its room's spectator list (-1: not spectating),
 * kept by rooms.c so that a spectator leaves without a search. */
int ws_spectator_slot(struct lws *wsi);
void ws_set_spectator_slot(struct lws *wsi, int slot);
/* An error message to one socket. */
void ws_send_error(struct lws *wsi, const char *code, const char *msg);
/* The id of the user a coderally.v1 socket is logged in as, or 0. */
int64_t ws_user_id(struct lws *wsi);

int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                size_t len);
size_t ws_conn_size(void);

#endif
