/* server.c - start-up, the event loop and shutdown of `coderally serve`. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bot_link.h"
#include "ladder.h"
#include "server_internal.h"

#define QUEUE_FAST 256
#define QUEUE_SLOW 32
#define DRAIN_S 5
#define CLOSE_S 3 /* for the clients to answer the close frames */

static volatile sig_atomic_t stop_requested;
static struct lws_context *signal_ctx;

static void on_signal(int sig) {
    (void)sig;
    stop_requested = 1;
    /* Writes one byte to lws's wake-up pipe: safe in a signal handler. */
    if (signal_ctx) lws_cancel_service(signal_ctx);
}

bool server_stopping(const Server *srv) {
    /* The signal may have come during the lws_service() pass now running,
     * before the loop has seen it and set srv->stopping. */
    return srv->stopping || stop_requested;
}

Server *server_of(struct lws *wsi) {
    struct lws_context *ctx = lws_get_context(wsi);
    return ctx ? lws_context_user(ctx) : NULL;
}

static void wake_loop(void *ud) {
    lws_cancel_service(((Server *)ud)->lws);
}

static struct lws_protocols protocols[4];

/* ---- the race bots in the loop ------------------------------------------
 * Every race's bots come from one zygote (srv->race_host). Its sockets -- the
 * zygote's and each worker's while a request is in flight -- churn as bots
 * start, die, revive and finish, so lws does not get them one by one: the
 * host keeps them in an epoll set (bot_host_watch) and lws watches that
 * set's fd, adopted once as a raw file. Readable means some bot or the
 * zygote has spoken; bot_host_service then reads just those sockets. The
 * host's deadlines and back-offs run on an lws_sul timer. A room's tick
 * only reads what its own bots have sent since (match_pump) and never
 * waits for any of them. */
#define BOTS_PROTOCOL "coderally-bots"

static int bots_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len) {
    (void)user, (void)in, (void)len;
    Server *srv = server_of(wsi);
    switch (reason) {
        case LWS_CALLBACK_RAW_RX_FILE:
            if (srv && srv->race_host) bot_host_service(srv->race_host);
            return 0;
        case LWS_CALLBACK_RAW_CLOSE_FILE:
            if (srv && srv->bots_wsi == wsi) srv->bots_wsi = NULL;
            return 0;
        case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        case LWS_CALLBACK_ESTABLISHED:
            return -1; /* the name is on the vhost for the adoption, not for clients */
        default:
            return 0;
    }
}

static void bots_due(lws_sorted_usec_list_t *sul) {
    Server *srv = lws_container_of(sul, Server, bots_timer);
    srv->bots_timer_at = INT64_MAX;
    if (srv->race_host) bot_host_service(srv->race_host);
}

/* The host's "service me by t" (bot_host_watch): one timer, moved. */
static void bots_wake(void *ud, int64_t t) {
    Server *srv = ud;
    if (t == srv->bots_timer_at) return;
    srv->bots_timer_at = t;
    if (t == INT64_MAX) {
        lws_sul_cancel(&srv->bots_timer);
        return;
    }
    int64_t us = (t - bot_now_ns() + 999) / 1000;
    lws_sul_schedule(srv->lws, 0, &srv->bots_timer, bots_due, us > 0 ? us : 0);
}

/* Puts the race host's sockets into the loop. On failure the host is
 * stopped: bot cars are then retired with a reason, as with no sandbox. */
static void bots_adopt(Server *srv, struct lws_vhost *vh) {
    CrError err = {{0}};
    int ep = -1, fd = -1;
    if (!srv->race_host) return;
    if (!vh) {
        snprintf(err.msg, sizeof err.msg, "no vhost");
    } else if (!bot_host_watch(srv->race_host, bots_wake, srv, &ep, &err)) {
        /* lws closes what it adopted: give it a copy of the host's fd. */
        fd = fcntl(ep, F_DUPFD_CLOEXEC, 0);
        lws_sock_file_fd_type d = {.filefd = fd};
        if (fd < 0)
            snprintf(err.msg, sizeof err.msg, "dup: %s", strerror(errno));
        else if (!(srv->bots_wsi = lws_adopt_descriptor_vhost(vh, LWS_ADOPT_RAW_FILE_DESC, d,
                                                              BOTS_PROTOCOL, NULL)))
            snprintf(err.msg, sizeof err.msg, "lws cannot adopt the bots' fd");
    }
    if (srv->bots_wsi) return;
    fprintf(stderr, "[server] race bots not in the event loop (%s): bot cars will be retired\n",
            err.msg);
    lws_sul_cancel(&srv->bots_timer);
    srv->bots_timer_at = INT64_MAX;
    bot_host_stop(srv->race_host);
    srv->race_host = NULL;
}

#define WATCH_US 1000000

/* Reading and checking the scripts again costs tens of ms of Lua: a job on
 * the slow lane, never the loop. While it runs it owns the loop's snapshot
 * (the loop does not touch srv->scripts until it is back). */
typedef struct {
    Job job;
    Server *srv;
    Scripts *base, *next;
    Scripts *workers[2][SERVER_MAX_WORKERS];
    Scripts *races; /* the loop's copy for starting races */
    int rc;
    CrError err;
    double ms;
} ReloadJob;

static void reload_run(Job *job, void *thread_ctx) {
    (void)thread_ctx;
    ReloadJob *j = (ReloadJob *)job;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    j->rc = scripts_reload(j->base, &j->next, &j->err);
    /* The same folder once more per worker, right away, so all of them
     * move to this version together. */
    for (int l = 0; l < 2 && !j->rc; l++)
        for (int i = 0; i < j->srv->n_workers; i++) {
            CrError ignore;
            if (scripts_reload(j->next, &j->workers[l][i], &ignore)) j->workers[l][i] = NULL;
        }
    if (!j->rc) {
        CrError ignore;
        if (scripts_reload(j->next, &j->races, &ignore)) j->races = NULL;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    j->ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
}

static void reload_done(Job *job, void *loop_ud) {
    ReloadJob *j = (ReloadJob *)job;
    Server *srv = j->srv;
    if (!loop_ud) { /* shutdown: keep the base as the loop's */
        srv->scripts = j->base;
        scripts_close(j->next);
        scripts_close(j->races);
        for (int l = 0; l < 2; l++)
            for (int i = 0; i < SERVER_MAX_WORKERS; i++) scripts_close(j->workers[l][i]);
    } else if (j->rc) {
        srv->scripts = j->base;
        if (strcmp(j->err.msg, srv->scripts_broken)) {
            fprintf(stderr,
                    "[server] scripts: the edit is broken, keeping the last good version: %s\n",
                    j->err.msg);
            snprintf(srv->scripts_broken, sizeof srv->scripts_broken, "%s", j->err.msg);
        }
    } else {
        scripts_close(j->base);
        srv->scripts = j->next;
        /* Races running hold their own reference to the scripts they
         * started with; new races take this version. */
        if (j->races) {
            scripts_close(srv->loop_scripts);
            srv->loop_scripts = j->races;
        }
        srv->scripts_broken[0] = 0;
        for (int l = 0; l < 2; l++)
            for (int i = 0; i < SERVER_MAX_WORKERS; i++)
                if (j->workers[l][i])
                    scripts_close(
                        atomic_exchange(&srv->ctxs[l][i].pending_scripts, j->workers[l][i]));
        fprintf(stderr, "[server] scripts: reloaded %s (%.1f ms on a worker)\n",
                scripts_dir(j->next), j->ms);
    }
    srv->reloading = false;
    free(j);
}

/* Once a second: if anything under scripts/ changed (a stat per file), read
 * it again on a worker. A good new version is taken (new requests and new
 * races use it; races running keep theirs); a broken one is reported once
 * with its file and line and the last good version stays. */
static void watch_scripts(lws_sorted_usec_list_t *sul) {
    Server *srv = lws_container_of(sul, Server, scripts_watch);
    if (!srv->reloading && !srv->stopping && scripts_changed(srv->scripts)) {
        ReloadJob *j = calloc(1, sizeof *j);
        if (j) {
            j->job.run = reload_run;
            j->job.done = reload_done;
            j->srv = srv;
            j->base = srv->scripts;
            srv->scripts = NULL;
            srv->reloading = true;
            if (workers_submit(srv->lanes[LANE_SLOW], &j->job)) {
                srv->scripts = j->base;
                srv->reloading = false;
                free(j);
            }
        }
    }
    lws_sul_schedule(srv->lws, 0, &srv->scripts_watch, watch_scripts, WATCH_US);
}

static void fini_ctxs(Server *srv) {
    for (int l = 0; l < 2; l++)
        for (int i = 0; i < SERVER_MAX_WORKERS; i++) {
            store_close(srv->ctxs[l][i].store);
            scripts_close(srv->ctxs[l][i].scripts);
            scripts_close(atomic_exchange(&srv->ctxs[l][i].pending_scripts, NULL));
            srv->ctxs[l][i].store = NULL;
            srv->ctxs[l][i].scripts = NULL;
        }
}

/* Each worker thread gets its own database connection and its own scripts
 * (a Lua state is single-threaded). */
static int init_ctxs(Server *srv, int n, CrError *err) {
    for (int l = 0; l < 2; l++)
        for (int i = 0; i < n; i++) {
            ApiCtx *c = &srv->ctxs[l][i];
            c->settings = &srv->settings;
            c->bots = srv->bots;
            c->board = rooms_board(srv->rooms);
            int r = store_open(srv->cfg->db_path, NULL, &c->store, err);
            if (!r)
                r = scripts_open(srv->cfg->scripts_dir, srv->cfg->sets, srv->cfg->n_sets,
                                 &c->scripts, err);
            if (r) return r;
        }
    return 0;
}

static int read_settings(Server *srv, Scripts *sc, CrError *err) {
    double points = 1000;
    const char *car = "hatch";
    int r = scripts_config_number(sc, "STARTING_POINTS", &points);
    if (r && r != CR_ENOTFOUND) {
        snprintf(err->msg, sizeof err->msg, "STARTING_POINTS must be a number");
        return r;
    }
    if (points < 0 || points > 1e12) {
        snprintf(err->msg, sizeof err->msg, "STARTING_POINTS must be 0 or more");
        return CR_EINVAL;
    }
    r = scripts_config_string(sc, "DEFAULT_CAR", &car);
    if (r && r != CR_ENOTFOUND) {
        snprintf(err->msg, sizeof err->msg, "DEFAULT_CAR must be a string");
        return r;
    }
    /* A WebSocket quiet for WS_PING_S gets a ping; one that has not
     * answered within as long again (a peer gone without a FIN, a client
     * that stopped reading) is cut. */
    double ping_s = 30;
    r = scripts_config_number(sc, "WS_PING_S", &ping_s);
    if (r && r != CR_ENOTFOUND) {
        snprintf(err->msg, sizeof err->msg, "WS_PING_S must be a number");
        return r;
    }
    if (!(ping_s >= 1 && ping_s <= 3600) || ping_s != (double)(int)ping_s) {
        snprintf(err->msg, sizeof err->msg, "WS_PING_S must be whole seconds in 1..3600, got %g",
                 ping_s);
        return CR_EINVAL;
    }
    srv->ws_idle.secs_since_valid_ping = (uint16_t)ping_s;
    srv->ws_idle.secs_since_valid_hangup = (uint16_t)(2 * ping_s);
    srv->settings.starting_points = (int64_t)points;
    snprintf(srv->settings.starter_car, sizeof srv->settings.starter_car, "%s", car);
    CarStats stats;
    if ((r = scripts_car_stats(sc, car, NULL, 0, &stats, err))) return r;
    return 0;
}

/* The ladder (ladder.h) on its own thread, if LADDER_CPU_SHARE > 0. */
static int start_ladder(Server *srv, Ladder **out, CrError *err) {
    double share = 0.25;
    int r = scripts_config_number(srv->scripts, "LADDER_CPU_SHARE", &share);
    if (r && r != CR_ENOTFOUND) {
        snprintf(err->msg, sizeof err->msg, "LADDER_CPU_SHARE must be a number");
        return r;
    }
    if (share < 0 || share > 1) {
        snprintf(err->msg, sizeof err->msg, "LADDER_CPU_SHARE must be in 0..1 (0 = off), got %g",
                 share);
        return CR_EINVAL;
    }
    if (share == 0) return 0;
    const ServerConfig *cfg = srv->cfg;
    LadderConfig lc = {cfg->db_path, cfg->scripts_dir, cfg->sets,
                       cfg->n_sets,  cfg->botd_path,   share};
    if ((r = ladder_create(&lc, out, err)) || (r = ladder_start(*out, err))) return r;
    fprintf(stderr, "[server] ladder: racing saved bots on %.0f%% of a core\n", share * 100);
    return 0;
}

int server_run(const ServerConfig *cfg, CrError *err) {
    Server srv;
    memset(&srv, 0, sizeof srv);
    srv.cfg = cfg;
    int n = cfg->workers > 0 ? cfg->workers : 2;
    if (n > SERVER_MAX_WORKERS) n = SERVER_MAX_WORKERS;
    int status = 1, r;
    char *dummy = NULL;
    Scripts *sc = NULL;
    Store *st = NULL;
    Ladder *ladder = NULL;

    if (sodium_init() < 0) {
        snprintf(err->msg, sizeof err->msg, "libsodium failed to initialise");
        return CR_EINVAL;
    }
    /* Migrations once, before any worker opens the database. */
    if ((r = store_open(cfg->db_path, cfg->migrations_dir, &st, err))) return r;
    /* Races a crash or a kill left open or running can never finish now. */
    int stale = 0;
    r = store_races_abort_unfinished(st, time(NULL), &stale, err);
    store_close(st);
    if (r) return r;
    if (stale)
        fprintf(stderr, "[server] %d unfinished race(s) from the last run marked aborted\n", stale);
    if ((r = scripts_open(cfg->scripts_dir, cfg->sets, cfg->n_sets, &sc, err))) return r;
    r = read_settings(&srv, sc, err);
    scripts_close(sc);
    if (r) return r;

    /* A hash of a random password, verified at logins of unknown users so
     * they take as long as real ones. */
    dummy = malloc(crypto_pwhash_STRBYTES);
    uint8_t rnd[16];
    randombytes_buf(rnd, sizeof rnd);
    if (!dummy ||
        crypto_pwhash_str(dummy, (const char *)rnd, sizeof rnd, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE)) {
        snprintf(err->msg, sizeof err->msg, "cannot hash (out of memory?)");
        r = CR_ENOMEM;
        goto out;
    }
    srv.settings.dummy_hash = dummy;
    srv.settings.replay_file = cfg->replay_file;

    CrError berr = {{0}};
    if (bot_checker_create(cfg->botd_path, &srv.bots, &berr))
        fprintf(stderr, "[server] bot sandbox unavailable, bot saves will fail: %s\n", berr.msg);

    if (cfg->web_dir && realpath(cfg->web_dir, srv.web_root)) srv.have_web = true;
    if (!(srv.rooms = rooms_create(&srv))) {
        r = CR_ENOMEM;
        goto out;
    }
    int rate_cap = cfg->rate_slots > 0 ? cfg->rate_slots : 131072;
    if (!(srv.rl = ratelimit_create(rate_cap < 4096 ? rate_cap : 4096, rate_cap))) {
        r = CR_ENOMEM;
        goto out;
    }
    srv.n_workers = n;
    if ((r = init_ctxs(&srv, n, err))) goto out;
    if ((r = scripts_open(cfg->scripts_dir, cfg->sets, cfg->n_sets, &srv.scripts, err))) goto out;
    if ((r = scripts_open(cfg->scripts_dir, cfg->sets, cfg->n_sets, &srv.loop_scripts, err)))
        goto out;
    /* The races' bots get a zygote of their own: the checker's is used from
     * the worker threads. */
    if (bot_host_start(cfg->botd_path, &srv.race_host, &berr))
        fprintf(stderr, "[server] no sandbox for races, bot cars will be retired: %s\n", berr.msg);

    protocols[0] = (struct lws_protocols){"http", http_callback, http_conn_size(), 0, 0, NULL, 0};
    protocols[1] =
        (struct lws_protocols){WS_PROTOCOL, ws_callback, ws_conn_size(), WS_MSG_MAX, 0, NULL, 0};
    protocols[2] = (struct lws_protocols){BOTS_PROTOCOL, bots_callback, 0, 0, 0, NULL, 0};
    srv.bots_timer_at = INT64_MAX;
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = cfg->port;
    info.iface = cfg->host && strcmp(cfg->host, "0.0.0.0") ? cfg->host : NULL;
    info.protocols = protocols;
    info.user = &srv;
    info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_DISABLE_IPV6;
    info.timeout_secs = 30;
    info.retry_and_idle_policy = &srv.ws_idle;
    info.max_http_header_data = 4096;
    lws_set_log_level(LLL_ERR, NULL);
    srv.lws = lws_create_context(&info);
    if (!srv.lws) {
        snprintf(err->msg, sizeof err->msg, "cannot listen on port %d (in use?)", cfg->port);
        r = CR_EIO;
        goto out;
    }
    void *fast[SERVER_MAX_WORKERS], *slow[SERVER_MAX_WORKERS];
    for (int i = 0; i < n; i++) {
        fast[i] = &srv.ctxs[LANE_FAST][i];
        slow[i] = &srv.ctxs[LANE_SLOW][i];
    }
    if ((r = workers_create("fast", n, QUEUE_FAST, fast, wake_loop, &srv, &srv.lanes[LANE_FAST],
                            err)) ||
        (r = workers_create("slow", n, QUEUE_SLOW, slow, wake_loop, &srv, &srv.lanes[LANE_SLOW],
                            err)))
        goto out;

    struct lws_vhost *vh = lws_get_vhost_by_name(srv.lws, "default");
    srv.port = vh ? lws_get_vhost_listen_port(vh) : cfg->port;
    bots_adopt(&srv, vh);
    printf("CodeRally server: open http://localhost:%d/%s  (database %s, %s)\n", srv.port,
           cfg->open_path ? cfg->open_path : "", cfg->db_path,
           srv.have_web ? srv.web_root : "web client not built");
    fflush(stdout);

    if ((r = start_ladder(&srv, &ladder, err))) goto out;
    lws_sul_schedule(srv.lws, 0, &srv.scripts_watch, watch_scripts, WATCH_US);
    signal_ctx = srv.lws;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    while (!stop_requested) {
        rooms_pace(srv.rooms);
        if (lws_service(srv.lws, 0) < 0) break;
    }

    /* Shutdown: refuse new work, let queued and running jobs finish and
     * their answers go out, then close. */
    srv.stopping = true;
    fprintf(stderr, "[server] stopping: finishing work in flight\n");
    ladder_destroy(ladder); /* its race in flight is recorded aborted */
    ladder = NULL;
    /* lws_service() waits for an event; a self-wake each round keeps the
     * drain moving while answers are written. */
    struct timespec pause = {0, 2 * 1000 * 1000};
    time_t until = time(NULL) + DRAIN_S;
    int quiet = 0;
    while (time(NULL) < until && quiet < 50) {
        size_t load = workers_load(srv.lanes[LANE_FAST]) + workers_load(srv.lanes[LANE_SLOW]);
        quiet = load ? 0 : quiet + 1;
        lws_cancel_service(srv.lws);
        lws_service(srv.lws, 0);
        nanosleep(&pause, NULL);
    }
    /* Rooms still open or racing end with this process: recorded as
     * aborted now rather than at the next start. */
    bool recorded = false;
    {
        Store *fin = NULL;
        CrError ferr = {{0}};
        int n_aborted = 0;
        if (store_open(cfg->db_path, NULL, &fin, &ferr) ||
            store_races_abort_unfinished(fin, time(NULL), &n_aborted, &ferr))
            fprintf(stderr, "[server] could not record unfinished races: %s\n", ferr.msg);
        else
            recorded = true;
        if (recorded && n_aborted)
            fprintf(stderr, "[server] %d unfinished race(s) recorded as aborted\n", n_aborted);
        store_close(fin);
    }
    /* Then the players hear it (race_end, aborted) and every WebSocket
     * gets its close frame, 1001 "going away", once its queue is out. */
    rooms_shutdown(srv.rooms, recorded);
    srv.ws_closing = true;
    lws_callback_on_writable_all_protocol(srv.lws, &protocols[1]);
    until = time(NULL) + CLOSE_S;
    while (srv.n_ws > 0 && time(NULL) < until) {
        lws_cancel_service(srv.lws);
        lws_service(srv.lws, 0);
        nanosleep(&pause, NULL);
    }
    if (srv.n_ws > 0) fprintf(stderr, "[server] %d WebSocket(s) did not close in time\n", srv.n_ws);
    status = 0;
out:
    signal_ctx = NULL;
    ladder_destroy(ladder);
    /* Pools first: their jobs may still hold connections' answers. */
    for (int l = 0; l < 2; l++) {
        if (srv.lanes[l]) {
            workers_destroy(srv.lanes[l]);
            srv.lanes[l] = NULL;
        }
    }
    /* Rooms before the context: they point at its sockets. */
    rooms_destroy(srv.rooms);
    if (srv.lws) lws_sul_cancel(&srv.scripts_watch);
    if (srv.lws) lws_sul_cancel(&srv.bots_timer);
    if (srv.race_host) {
        BotHostStats bs;
        bot_host_stats(srv.race_host, &bs);
        fprintf(stderr,
                "[server] bots: %ld tick replies, round trip p50 %.2f ms p99 %.2f ms; %ld zygote "
                "start(s)\n",
                bs.tick_replies, bot_host_rtt_quantile(&bs, 0.5) / 1e3,
                bot_host_rtt_quantile(&bs, 0.99) / 1e3, bs.zygote_starts);
    }
    lws_context_destroy(srv.lws);
    bot_host_stop(srv.race_host);
    scripts_close(srv.loop_scripts);
    fini_ctxs(&srv);
    scripts_close(srv.scripts);
    bot_checker_destroy(srv.bots);
    ratelimit_destroy(srv.rl);
    free(dummy);
    return status == 0 ? 0 : (r ? r : CR_EIO);
}
