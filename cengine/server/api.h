/*
 * api.h - REST requests and responses as the route handlers see them, and
 * the helpers they share (JSON bodies, errors, authentication). Handlers run
 * on a worker thread with that thread's ApiCtx (its own Store connection and
 * Scripts); they never touch libwebsockets.
 */
#ifndef CR_SERVER_API_H
#define CR_SERVER_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "coderally.h"
#include "store.h"

typedef struct BotHost BotHost;
struct RoomSpec;
typedef struct BotChecker BotChecker;

enum { HTTP_GET = 1, HTTP_POST, HTTP_PUT, HTTP_DELETE, HTTP_HEAD, HTTP_OTHER };

#define API_MAX_PARAMS 3
/* Seeds travel as JSON numbers and browsers read those as doubles: the
 * largest whole number a double holds exactly. */
#define API_SEED_MAX ((1ULL << 53) - 1)
#define API_TOKEN_MAX 128
#define API_SESSION_TTL_S (30 * 24 * 3600)

/* Settings the handlers need, shared read-only by every thread. */
typedef struct {
    int64_t starting_points;
    char starter_car[CR_NAME_MAX];
    const char *dummy_hash;  /* verified for unknown users at login */
    const char *replay_file; /* GET /api/replays/local, or NULL */
} ApiSettings;

/* One worker thread's world. */
typedef struct {
    Store *store;
    Scripts *scripts;
    BotChecker *bots; /* shared; serialises calls into the sandbox */
    const ApiSettings *settings;
    struct RoomBoard *board; /* the live rooms (roomboard.h); shared; NULL: none */
    /* Scripts reload: when the loop has read a good new version it reads
     * one more for each worker and leaves it here; the worker swaps it in
     * before its next job (a Scripts is for one thread at a time). */
    Scripts *_Atomic pending_scripts;
} ApiCtx;

/* Swaps in the scripts the loop left for this worker, if any. */
void api_ctx_refresh(ApiCtx *ctx);

typedef struct {
    int method;
    char path[512];
    char query[1024];                 /* raw, after '?', or "" */
    char params[API_MAX_PARAMS][128]; /* the {x} parts of the route */
    json_t *body;                     /* the parsed object, or NULL */
    char token[API_TOKEN_MAX + 1];    /* from Bearer or the cookie, or "" */
    int64_t now;                      /* Unix seconds */
    StoreUser user;                   /* filled for routes that need a user */
    /* POST /api/races/quick: the room the loop's rooms_pick_quick chose
     * before dispatch (a copy, malloc'd), or NULL when there was none. */
    struct RoomSpec *picked;
} ApiRequest;

typedef struct {
    int status;
    char *body; /* malloc'd */
    size_t len;
    const char *content_type;
    char headers[768]; /* extra "Name: value\r\n" lines */
    /* Hints for the loop: a failed login for this username (rate limits). */
    bool login_failed;
    /* Significant digits of reals in api_json (0: 10). 17 round-trips a
     * double exactly. */
    int real_precision;
    /* A room to open on the loop before the answer goes out (malloc'd). */
    struct RoomSpec *open_room;
} ApiResponse;

typedef void (*ApiHandler)(ApiCtx *ctx, ApiRequest *req, ApiResponse *res);

/* Sets res to a JSON response; takes the reference to obj. */
void api_json(ApiResponse *res, int status, json_t *obj);
/* {"error": {"code", "message"}} with status. */
void api_error(ApiResponse *res, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void api_no_content(ApiResponse *res);
/* An internal failure: logged with its message, answered as 500. */
void api_internal(ApiResponse *res, const char *what, const CrError *err);
/* Appends a header line. */
void api_header(ApiResponse *res, const char *name, const char *value);

/* Resolves req->token to a live session's user into req->user. false (with a
 * 401 in res) if there is none, it is malformed, forged or expired. */
bool api_authenticate(ApiCtx *ctx, ApiRequest *req, ApiResponse *res);

/* Field readers: false with a 400 bad_field naming the field in res. */
bool api_get_string(ApiRequest *req, ApiResponse *res, const char *field, bool required,
                    size_t min_len, size_t max_len, const char **out);
bool api_get_int_param(ApiRequest *req, ApiResponse *res, int index, const char *what,
                       int64_t *out);
/* A query argument's value (URL-decoded) into buf; false if absent. */
bool api_query(const ApiRequest *req, const char *name, char *buf, size_t size);
/* The stage of generator gen for the query's seed=N (default 1) and
 * PARAM=VALUE arguments (skip: one more argument that is the caller's, or
 * NULL). false with a 400 (bad seed, parameter or generator) or 500 in res.
 * The caller owns *out. */
bool api_stage_from_query(ApiCtx *ctx, ApiRequest *req, ApiResponse *res, const char *gen,
                          const char *skip, uint64_t *seed, Stage **out);
/* true if s is valid UTF-8 without NUL. */
bool api_utf8_ok(const char *s, size_t len);

/* The handlers, by resource. */
void api_health(ApiCtx *, ApiRequest *, ApiResponse *);
void api_stats(ApiCtx *, ApiRequest *, ApiResponse *); /* latestats.c */
void api_auth_register(ApiCtx *, ApiRequest *, ApiResponse *);
void api_auth_login(ApiCtx *, ApiRequest *, ApiResponse *);
void api_auth_logout(ApiCtx *, ApiRequest *, ApiResponse *);
void api_me(ApiCtx *, ApiRequest *, ApiResponse *);
void api_garage_get(ApiCtx *, ApiRequest *, ApiResponse *);
void api_garage_unlock(ApiCtx *, ApiRequest *, ApiResponse *);
void api_garage_upgrade(ApiCtx *, ApiRequest *, ApiResponse *);
void api_bots_create(ApiCtx *, ApiRequest *, ApiResponse *);
void api_bots_list(ApiCtx *, ApiRequest *, ApiResponse *);
void api_bots_get(ApiCtx *, ApiRequest *, ApiResponse *);
void api_bots_update(ApiCtx *, ApiRequest *, ApiResponse *);
void api_bots_delete(ApiCtx *, ApiRequest *, ApiResponse *);
void api_bots_versions(ApiCtx *, ApiRequest *, ApiResponse *);
void api_bots_version(ApiCtx *, ApiRequest *, ApiResponse *);
void api_stages_generators(ApiCtx *, ApiRequest *, ApiResponse *);
void api_stages_get(ApiCtx *, ApiRequest *, ApiResponse *);
/* One stage's geometry as GET /api/stages/{generator} answers it (the grid
 * for MAX_CONCURRENT_PLAYERS cars of starter_car); rooms send the same in
 * race_start. Dump it with JSON_REAL_PRECISION(API_STAGE_PRECISION): the
 * centre line must round-trip. A new reference, NULL when out of memory. */
#define API_STAGE_PRECISION 17
json_t *api_stage_geometry(Scripts *sc, const char *starter_car, const char *gen, uint64_t seed,
                           const Stage *st);
void api_leaderboard_players(ApiCtx *, ApiRequest *, ApiResponse *);
void api_leaderboard_bots(ApiCtx *, ApiRequest *, ApiResponse *);
void api_races_list(ApiCtx *, ApiRequest *, ApiResponse *);
void api_races_create(ApiCtx *, ApiRequest *, ApiResponse *);
void api_races_get(ApiCtx *, ApiRequest *, ApiResponse *);
void api_races_results(ApiCtx *, ApiRequest *, ApiResponse *);
void api_races_replay(ApiCtx *, ApiRequest *, ApiResponse *);
void api_races_replay_json(ApiCtx *, ApiRequest *, ApiResponse *);
void api_races_quick(ApiCtx *, ApiRequest *, ApiResponse *);
void api_rules_list(ApiCtx *, ApiRequest *, ApiResponse *);
void api_rules_get(ApiCtx *, ApiRequest *, ApiResponse *);

/* A new room's races row (status open) for spec, which gets a fresh random
 * id; *race is the row as stored. The loop then opens the room (rooms_open). */
int api_races_record_room(ApiCtx *ctx, struct RoomSpec *spec, StoreRace *race, CrError *err);
/* The room a quick race opens when rooms_pick_quick finds none, recorded
 * as above: the first stage generator that loads, a random seed,
 * DEFAULT_RULES, MAX_CONCURRENT_PLAYERS cars, AI fill. CR_EINVAL when no
 * generator loads. Shared by the WebSocket quick_race and POST
 * /api/races/quick. */
int api_races_quick_room(ApiCtx *ctx, struct RoomSpec *spec, StoreRace *race, CrError *err);
/* The numbers of rules/NAME.lua (countdown, time limit, stall limit, points
 * by position) as JSON, the stage-dependent ones for stage (NULL: null).
 * CR_ENOTFOUND for no such rule set; other errors with err. */
int api_rules_numbers(ApiCtx *ctx, const char *name, const Stage *stage, json_t **out,
                      CrError *err);
void api_replays_local(ApiCtx *, ApiRequest *, ApiResponse *);

/* The routes. */
typedef enum { LANE_FAST = 0, LANE_SLOW = 1 } ApiLane; /* slow: hashing, sandbox */

typedef struct {
    int method;
    const char *pattern; /* "/api/bots/{}/versions/{}" */
    ApiHandler handler;
    ApiLane lane;
    bool auth;
    size_t body_max; /* 0: no body allowed */
    int rate;        /* RATE_* class the loop applies before dispatch */
} ApiRoute;

enum { RATE_NONE = 0, RATE_REGISTER, RATE_LOGIN };

/* Finds the route for method and path (params filled into req). NULL with
 * *status 404 or 405 if there is none. */
const ApiRoute *api_route_find(int method, const char *path, ApiRequest *req, int *status);

/* Serialises calls into a BotHost (which is not thread-safe). */
int bot_checker_create(const char *botd_path, BotChecker **out, CrError *err);
void bot_checker_destroy(BotChecker *bc);
/* Problems as "LINE: message\n" lines in *problems (caller frees). */
int bot_checker_check(BotChecker *bc, const char *src, size_t len, char **problems, CrError *err);

#endif
