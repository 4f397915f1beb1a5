/*
 * race_bots.c - the Python bots of one match (see race_bots.h): one
 * sandboxed worker per bot from a coderally-botd zygote; each bot tick sends
 * every bot its sensor record at once, and the replies are applied as they
 * come in, never waited for. Loading, reviving and finishing run in the
 * background in the bot link's state machines.
 */
#include "match/race_bots.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot_link.h"

typedef enum { BOT_IDLE, BOT_AWAITING, BOT_REPLIED } BotWait;

struct RaceBots {
    BotHost *host;
    bool own_host;
    bool retire_failed;
    bool finish_started;
    char *name[CR_MAX_CARS]; /* for messages: the bot's file name */
    int n;
    int car[CR_MAX_CARS];
    BotLink *link[CR_MAX_CARS];
    char *failed[CR_MAX_CARS]; /* why bot i did not load, or NULL */
    BotWait wait[CR_MAX_CARS];
    bool late_now[CR_MAX_CARS]; /* counted late for the outstanding reply */
    long late[CR_MAX_CARS], skipped[CR_MAX_CARS];
    bool finished;
    BotWireEvent pending[CR_MAX_CARS][BOT_MAX_EVENTS];
    size_t n_pending[CR_MAX_CARS];
    uint32_t sent_tick[CR_MAX_CARS]; /* bot tick of the outstanding request */
    /* Distinct errors per bot, outside the log's cap (match_bot_errors). */
    MatchBotError errors[CR_MAX_CARS][MATCH_MAX_BOT_ERRORS];
    int n_errors[CR_MAX_CARS];
    long more_errors[CR_MAX_CARS];
    /* The drawings of each bot's reply applied last (match_bot_drawings):
     * the live debug overlay's, kept whether or not a replay is written. */
    MatchBotDrawing draw[CR_MAX_CARS][MATCH_MAX_DRAWINGS];
    int n_draw[CR_MAX_CARS];
    uint32_t draw_tick[CR_MAX_CARS];
};

/* Counts bot i's failed reply, keeping the first of each distinct message. */
static void note_error(RaceBots *rb, int i, const char *msg) {
    if (!msg[0]) msg = "the call failed";
    for (int k = 0; k < rb->n_errors[i]; k++) {
        MatchBotError *e = &rb->errors[i][k];
        if (!strncmp(e->message, msg, sizeof e->message - 1)) {
            e->count++;
            return;
        }
    }
    if (rb->n_errors[i] == MATCH_MAX_BOT_ERRORS) {
        rb->more_errors[i]++;
        return;
    }
    MatchBotError *e = &rb->errors[i][rb->n_errors[i]++];
    snprintf(e->message, sizeof e->message, "%s", msg);
    e->first_tick = rb->sent_tick[i];
    e->count = 1;
}

/* "LINE: message" lines as "FILE:LINE: message" lines, in place in err. */
static void prefix_lines(CrError *err, const char *file) {
    char out[sizeof err->msg];
    size_t o = 0;
    const char *p = err->msg;
    while (*p && o + 1 < sizeof out) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        int k = snprintf(out + o, sizeof out - o, "%s%s:%.*s", o ? "\n" : "", file, (int)len, p);
        if (k < 0) break;
        o += (size_t)k < sizeof out - o ? (size_t)k : sizeof out - o - 1;
        p += len + (nl ? 1 : 0);
    }
    out[o] = 0;
    memcpy(err->msg, out, o + 1);
}

/* A per-bot seed so bots in one race draw different numbers, and the same
 * bot in the same race always the same ones. */
static uint64_t bot_seed(uint64_t seed, int i) {
    uint64_t z = seed + 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* The one place bots are started: the links load in the background
 * (race_bots_loading, race_bots_start_result). */
int race_bots_start(const RaceBotsConfig *cfg, BotHost *host, const MatchBot *bots, const int *cars,
                    int n, uint64_t seed, bool retire_failed, RaceBots **out, CrError *err) {
    *out = NULL;
    if (n < 0 || n > CR_MAX_CARS) {
        snprintf(err->msg, sizeof err->msg, "at most %d bots", CR_MAX_CARS);
        return CR_EINVAL;
    }
    RaceBots *rb = calloc(1, sizeof *rb);
    if (!rb) return CR_ENOMEM;
    int rc = CR_OK;
    rb->host = host;
    rb->retire_failed = retire_failed;
    if (!host) {
        rc = bot_host_start(cfg->botd_path, &rb->host, err);
        rb->own_host = rc == CR_OK;
    }
    for (int i = 0; rc == CR_OK && i < n; i++) {
        const char *name = bots[i].name ? bots[i].name : "bot";
        rb->car[i] = cars[i];
        rb->n = i + 1;
        rb->name[i] = strdup(name);
        if (!rb->name[i]) {
            rc = CR_ENOMEM;
            break;
        }
        const char *base = strrchr(name, '/');
        BotSpec spec = {.name = base ? base + 1 : name,
                        .source = bots[i].source ? bots[i].source : "",
                        .source_len = bots[i].source ? bots[i].source_len : 0,
                        .memory_json = bots[i].memory_json,
                        .seed = bot_seed(seed, i),
                        .tick_budget_ms = cfg->timeout_ms,
                        .hard_deadline_ms = cfg->hard_deadline_ms,
                        .memory_limit_mb = cfg->memory_limit_mb,
                        .has_car = cfg->cars != NULL,
                        .car = cfg->cars ? cfg->cars[cars[i]].stats : (CarStats){0},
                        .surfaces = cfg->surfaces,
                        .stage_json = cfg->stage_json};
        rc = bot_link_create(rb->host, &spec, &rb->link[i], err);
        if (rc == CR_ESCRIPT) prefix_lines(err, name);
        if (rc && retire_failed && rc != CR_ENOMEM) {
            rb->failed[i] = strdup(err->msg);
            rc = rb->failed[i] ? CR_OK : CR_ENOMEM;
        }
    }
    if (rc) {
        race_bots_destroy(rb);
        return rc;
    }
    *out = rb;
    return CR_OK;
}

bool race_bots_loading(const RaceBots *rb) {
    for (int i = 0; rb && i < rb->n; i++) {
        CrError e;
        if (rb->link[i] && bot_link_start_result(rb->link[i], &e) == 1) return true;
    }
    return false;
}

int race_bots_start_result(RaceBots *rb, CrError *err) {
    for (int i = 0; i < rb->n; i++) {
        if (!rb->link[i]) continue;
        int rc = bot_link_start_result(rb->link[i], err);
        if (rc == CR_OK || rc == 1) continue;
        prefix_lines(err, rb->name[i]);
        if (!rb->retire_failed) return rc;
        rb->failed[i] = strdup(err->msg);
        if (!rb->failed[i]) return CR_ENOMEM;
        bot_link_destroy(rb->link[i]);
        rb->link[i] = NULL;
    }
    return CR_OK;
}

bool race_bots_failed(const RaceBots *rb, int i, const char **why) {
    if (!rb || i < 0 || i >= rb->n || !rb->failed[i]) return false;
    if (why) *why = rb->failed[i];
    return true;
}

int race_bots_send(RaceBots *rb, const RaceRoom *room, CrError *err) {
    for (int i = 0; i < rb->n; i++) {
        if (!rb->link[i]) continue;
        if (rb->wait[i] == BOT_AWAITING) {
            rb->skipped[i]++;
            continue;
        }
        SensorRecord s;
        int rc = race_sensors(room, rb->car[i], &s);
        if (rc) {
            snprintf(err->msg, sizeof err->msg, "no sensors for car %d", rb->car[i]);
            return rc;
        }
        rb->sent_tick[i] = race_tick(room);
        bot_link_send_tick(rb->link[i], &s, rb->pending[i], rb->n_pending[i]);
        rb->n_pending[i] = 0;
        rb->late_now[i] = false;
        /* A disabled or unrevivable bot has no request out: its (neutral)
         * reply is already there. */
        rb->wait[i] = bot_link_pending(rb->link[i]) ? BOT_AWAITING : BOT_REPLIED;
    }
    return CR_OK;
}

void race_bots_pump(RaceBots *rb, int64_t now_ns, bool whole_host) {
    if (!rb) return;
    /* A shared zygote is its owner's to pump (once for all its matches). */
    if (rb->own_host || whole_host) bot_host_pump(rb->host);
    for (int i = 0; i < rb->n; i++) {
        if (rb->wait[i] != BOT_AWAITING) continue;
        if (!bot_link_pump(rb->link[i])) bot_link_expire(rb->link[i], now_ns);
        if (!bot_link_pending(rb->link[i])) rb->wait[i] = BOT_REPLIED;
    }
}

bool race_bots_ready(const RaceBots *rb) {
    for (int i = 0; rb && i < rb->n; i++)
        if (rb->wait[i] == BOT_AWAITING) return false;
    return true;
}

int race_bots_fds(const RaceBots *rb, struct pollfd *fds, int max, int64_t *deadline_ns,
                  bool whole_host) {
    if (!rb) return 0;
    if (rb->own_host || whole_host) { /* the zygote and every link */
        int64_t wake;
        size_t k = bot_host_pollfds(rb->host, fds, (size_t)max, &wake);
        if (wake < *deadline_ns) *deadline_ns = wake;
        return (int)k;
    }
    int k = 0;
    for (int i = 0; i < rb->n; i++) {
        if (!rb->link[i]) continue;
        int64_t d = bot_link_deadline(rb->link[i]);
        if (d < *deadline_ns) *deadline_ns = d;
        int fd = bot_link_fd(rb->link[i]);
        if (fd >= 0 && k < max) fds[k++] = (struct pollfd){fd, POLLIN, 0};
    }
    return k;
}

/* Keeps the debug drawings bot i returned with the reply just applied. */
static void keep_drawings(RaceBots *rb, int i, uint32_t tick) {
    int n;
    const BotDrawing *d = bot_link_drawings(rb->link[i], &n);
    if (n > MATCH_MAX_DRAWINGS) n = MATCH_MAX_DRAWINGS;
    for (int k = 0; k < n; k++) {
        MatchBotDrawing *o = &rb->draw[i][k];
        *o = (MatchBotDrawing){d[k].kind, d[k].rgb, d[k].a, d[k].b, d[k].c, d[k].d, ""};
        snprintf(o->text, sizeof o->text, "%s", d[k].text);
    }
    rb->n_draw[i] = n;
    rb->draw_tick[i] = tick;
}

/* Records the drawings just kept for bot i in the replay. */
static int record_drawings(ReplayWriter *rw, const RaceBots *rb, int i, uint32_t tick) {
    ReplayDrawing out[REPLAY_MAX_DRAWINGS];
    int n = rb->n_draw[i] < REPLAY_MAX_DRAWINGS ? rb->n_draw[i] : REPLAY_MAX_DRAWINGS;
    for (int k = 0; k < n; k++) {
        const MatchBotDrawing *d = &rb->draw[i][k];
        out[k] = (ReplayDrawing){d->kind, d->rgb, d->a, d->b, d->c, d->d, ""};
        snprintf(out[k].text, sizeof out[k].text, "%s", d->text);
    }
    return replay_writer_drawings(rw, tick, rb->car[i], out, n);
}

int race_bots_apply(RaceBots *rb, RaceRoom *room, ReplayWriter *rw) {
    uint32_t tick = race_tick(room);
    for (int i = 0; i < rb->n; i++) {
        if (rb->wait[i] == BOT_AWAITING && !rb->late_now[i]) {
            rb->late[i]++;
            rb->late_now[i] = true;
            bot_link_note(rb->link[i], "reply late: the car holds its input");
        }
        if (rb->wait[i] != BOT_REPLIED) continue;
        rb->wait[i] = BOT_IDLE;
        BotStatus st = bot_link_reply(rb->link[i])->status;
        if (st != BOT_STATUS_OK && st != BOT_STATUS_UNAVAILABLE)
            note_error(rb, i, bot_link_reply_message(rb->link[i]));
        /* neutral unless the call succeeded (see bot_link.h) */
        race_set_input(room, rb->car[i], &bot_link_reply(rb->link[i])->input);
        keep_drawings(rb, i, tick);
        if (rw && record_drawings(rw, rb, i, tick)) return -1;
    }
    return 0;
}

static void queue(RaceBots *rb, int i, const RaceEvent *e, uint8_t type, int32_t a, double v) {
    if (rb->n_pending[i] >= BOT_MAX_EVENTS) return; /* a flood of collisions: keep the first */
    rb->pending[i][rb->n_pending[i]++] = (BotWireEvent){e->tick, type, a, v};
}

void race_bots_events(RaceBots *rb, const RaceEvent *events, size_t n) {
    if (!rb) return;
    for (size_t k = 0; k < n; k++) {
        const RaceEvent *e = &events[k];
        for (int i = 0; i < rb->n; i++) {
            if (e->type == EVENT_START) {
                queue(rb, i, e, BOT_EVENT_START, 0, 0);
                continue;
            }
            if (e->car != rb->car[i]) continue;
            switch (e->type) {
                case EVENT_CHECKPOINT:
                    queue(rb, i, e, BOT_EVENT_CHECKPOINT, e->a, e->value);
                    break;
                case EVENT_COLLISION:
                    queue(rb, i, e, BOT_EVENT_COLLISION, e->a, e->value);
                    break;
                case EVENT_FINISH:
                    queue(rb, i, e, BOT_EVENT_FINISH, 1, e->value);
                    break;
                case EVENT_DNF:
                    queue(rb, i, e, BOT_EVENT_FINISH, -(e->a > 0 ? e->a : 1), 0);
                    break;
                default:
                    break;
            }
        }
    }
}

/* Starts every bot's finish (on_finish, then self.memory) once; true when
 * all are done. */
bool race_bots_finish(RaceBots *rb) {
    if (!rb->finish_started) {
        rb->finish_started = true;
        for (int i = 0; i < rb->n; i++) {
            if (!rb->link[i]) continue;
            /* A bot whose memory cannot be saved keeps its old memory; its
             * log says why. The race result stands either way. */
            (void)bot_link_finish(rb->link[i], rb->pending[i], rb->n_pending[i]);
            rb->n_pending[i] = 0;
        }
    }
    return !race_bots_finishing(rb);
}

bool race_bots_finishing(const RaceBots *rb) {
    if (!rb->finish_started) return false;
    for (int i = 0; i < rb->n; i++)
        if (rb->link[i] && bot_link_state(rb->link[i]) != BOT_LINK_FINISHED) return true;
    return false;
}

int race_bots_count(const RaceBots *rb) {
    return rb ? rb->n : 0;
}

void race_bots_stats(const RaceBots *rb, int i, MatchBotStats *out) {
    *out = (MatchBotStats){0};
    if (!rb || i < 0 || i >= rb->n) return;
    out->late = rb->late[i];
    out->skipped = rb->skipped[i];
    out->failed = rb->failed[i] != NULL;
    if (!rb->link[i]) return;
    BotLinkStats st;
    bot_link_stats(rb->link[i], &st);
    out->calls = st.calls;
    out->timeouts = st.timeouts;
    out->errors = st.errors;
    out->restarts = st.restarts;
    out->unavailable = st.unavailable;
    out->mean_us = st.calls ? st.total_us / (double)st.calls : 0;
    out->worst_us = st.worst_us;
}

const char *race_bots_memory(const RaceBots *rb, int i) {
    if (!rb || i < 0 || i >= rb->n || !rb->link[i]) return NULL;
    return bot_link_memory(rb->link[i]);
}

const char *race_bots_log(const RaceBots *rb, int i, size_t *len) {
    *len = 0;
    if (!rb || i < 0 || i >= rb->n) return NULL;
    if (!rb->link[i]) {
        const char *why = rb->failed[i] ? rb->failed[i] : "";
        *len = strlen(why);
        return why;
    }
    return bot_link_log(rb->link[i], len);
}

const MatchBotError *race_bots_errors(const RaceBots *rb, int i, int *n, long *more) {
    if (!rb || i < 0 || i >= rb->n) return NULL;
    *n = rb->n_errors[i];
    if (more) *more = rb->more_errors[i];
    return rb->errors[i];
}

const MatchBotDrawing *race_bots_drawings(const RaceBots *rb, int i, int *n, uint32_t *tick) {
    if (!rb || i < 0 || i >= rb->n) return NULL;
    *n = rb->n_draw[i];
    *tick = rb->draw_tick[i];
    return rb->draw[i];
}

int race_bots_car(const RaceBots *rb, int i) {
    return rb && i >= 0 && i < rb->n ? rb->car[i] : -1;
}

void race_bots_destroy(RaceBots *rb) {
    if (!rb) return;
    for (int i = 0; i < CR_MAX_CARS; i++) {
        bot_link_destroy(rb->link[i]);
        free(rb->failed[i]);
        free(rb->name[i]);
    }
    if (rb->own_host) bot_host_stop(rb->host);
    free(rb);
}
