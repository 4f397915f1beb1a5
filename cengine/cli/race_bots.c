/*
 * race_bots.c - Python bots in a CLI race (see race_bots.h): one sandboxed
 * worker per bot file from a coderally-botd zygote; each bot tick sends every
 * bot its sensor record at once and collects the actions by the deadline.
 */
#include "race_bots.h"
#include "util/file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bot_link.h"

struct RaceBots {
    BotHost *host;
    int n;
    int car[CR_MAX_CARS];
    BotLink *link[CR_MAX_CARS];
    BotWireEvent pending[CR_MAX_CARS][BOT_MAX_EVENTS];
    size_t n_pending[CR_MAX_CARS];
};

/* Reads a whole bot file, at most BOT_SOURCE_MAX bytes. */
static int read_source(const char *path, char **out, size_t *len, CrError *err) {
    if (file_read(path, BOT_SOURCE_MAX, out, len, err)) return CR_EIO;
    if (*len > BOT_SOURCE_MAX) {
        free(*out);
        *out = NULL;
        snprintf(err->msg, sizeof err->msg, "%s:1: the source is over %u bytes", path,
                 BOT_SOURCE_MAX);
        return CR_ESCRIPT;
    }
    return CR_OK;
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

int race_bots_start(const RaceBotsConfig *cfg, const char *const *files, const int *cars, int n,
                    uint64_t seed, RaceBots **out, CrError *err) {
    *out = NULL;
    if (n < 0 || n > CR_MAX_CARS) {
        snprintf(err->msg, sizeof err->msg, "at most %d bots", CR_MAX_CARS);
        return CR_EINVAL;
    }
    RaceBots *rb = calloc(1, sizeof *rb);
    if (!rb) return CR_ENOMEM;
    int rc = bot_host_start(cfg->botd_path, &rb->host, err);
    for (int i = 0; rc == CR_OK && i < n; i++) {
        char *src;
        size_t len;
        rc = read_source(files[i], &src, &len, err);
        if (rc) break;
        const char *base = strrchr(files[i], '/');
        BotSpec spec = {.name = base ? base + 1 : files[i],
                        .source = src,
                        .source_len = len,
                        .seed = bot_seed(seed, i),
                        .tick_budget_ms = cfg->timeout_ms,
                        .memory_limit_mb = cfg->memory_limit_mb,
                        .has_car = cfg->cars != NULL,
                        .car = cfg->cars ? cfg->cars[cars[i]].stats : (CarStats){0},
                        .surfaces = cfg->surfaces};
        rc = bot_link_create(rb->host, &spec, &rb->link[i], err);
        free(src);
        if (rc == CR_ESCRIPT) prefix_lines(err, files[i]);
        if (rc) break;
        rb->car[i] = cars[i];
        rb->n = i + 1;
    }
    /* The workers load in parallel; a CLI race waits for them (and reports
     * a bot that does not load) before its first tick. */
    if (rc == CR_OK) rc = bot_links_collect(rb->link, (size_t)rb->n);
    for (int i = 0; rc == CR_OK && i < rb->n; i++) {
        rc = bot_link_start_result(rb->link[i], err);
        if (rc == CR_ESCRIPT) prefix_lines(err, files[i]);
    }
    if (rc) {
        race_bots_destroy(rb);
        return rc;
    }
    *out = rb;
    return CR_OK;
}

int race_bots_tick(RaceBots *rb, const RaceRoom *room, CarInput *inputs, CrError *err) {
    for (int i = 0; i < rb->n; i++) {
        SensorRecord s;
        int rc = race_sensors(room, rb->car[i], &s);
        if (rc) {
            snprintf(err->msg, sizeof err->msg, "no sensors for car %d", rb->car[i]);
            return rc;
        }
        bot_link_send_tick(rb->link[i], &s, rb->pending[i], rb->n_pending[i]);
        rb->n_pending[i] = 0;
    }
    int rc = bot_links_collect(rb->link, (size_t)rb->n);
    if (rc) {
        snprintf(err->msg, sizeof err->msg, "waiting for bots failed");
        return rc;
    }
    for (int i = 0; i < rb->n; i++) inputs[rb->car[i]] = bot_link_reply(rb->link[i])->input;
    return CR_OK;
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

int race_bots_finish(RaceBots *rb, const RaceRoom *room, CrError *err) {
    (void)room;
    for (int i = 0; i < rb->n; i++) {
        /* A bot whose memory cannot be saved keeps its old memory; its log
         * says why. The race result stands either way. */
        (void)bot_link_finish(rb->link[i], rb->pending[i], rb->n_pending[i]);
        rb->n_pending[i] = 0;
    }
    int rc = bot_links_collect(rb->link, (size_t)rb->n);
    if (rc) snprintf(err->msg, sizeof err->msg, "waiting for bots failed");
    return rc;
}

int race_bots_count(const RaceBots *rb) {
    return rb ? rb->n : 0;
}

void race_bots_stats(const RaceBots *rb, int i, BotStats *out) {
    *out = (BotStats){0};
    if (!rb || i < 0 || i >= rb->n) return;
    BotLinkStats st;
    bot_link_stats(rb->link[i], &st);
    out->calls = st.calls;
    out->timeouts = st.timeouts;
    out->errors = st.errors;
    out->restarts = st.restarts;
    long answered = st.calls - st.unavailable; /* ticks sent to a worker */
    out->mean_us = answered > 0 ? st.total_us / (double)answered : 0;
    out->worst_us = st.worst_us;
}

const char *race_bots_memory(const RaceBots *rb, int i) {
    if (!rb || i < 0 || i >= rb->n) return NULL;
    return bot_link_memory(rb->link[i]);
}

const BotDrawing *race_bots_drawings(const RaceBots *rb, int i, int *n) {
    *n = 0;
    if (!rb || i < 0 || i >= rb->n) return NULL;
    return bot_link_drawings(rb->link[i], n);
}

int race_bots_car(const RaceBots *rb, int i) {
    return rb && i >= 0 && i < rb->n ? rb->car[i] : -1;
}

int race_bots_write_logs(const RaceBots *rb, const RaceRoom *room, const char *dir, CrError *err) {
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        snprintf(err->msg, sizeof err->msg, "%.900s: %s", dir, strerror(errno));
        return CR_EIO;
    }
    for (int i = 0; i < rb->n; i++) {
        /* Car names come from the race setup; keep them to safe characters. */
        char name[CR_NAME_MAX];
        snprintf(name, sizeof name, "%s", race_car(room, rb->car[i])->name);
        for (char *p = name; *p; p++) {
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
                *p = '_';
        }
        if (name[0] == '.' || !name[0]) name[0] = '_';
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.log", dir, name);
        FILE *f = fopen(path, "w");
        size_t len;
        const char *log = bot_link_log(rb->link[i], &len);
        bool ok = f && fwrite(log, 1, len, f) == len;
        if (f && fclose(f) != 0) ok = false;
        if (!ok) {
            snprintf(err->msg, sizeof err->msg, "%.900s: cannot write", path);
            return CR_EIO;
        }
    }
    return CR_OK;
}

void race_bots_destroy(RaceBots *rb) {
    if (!rb) return;
    for (int i = 0; i < CR_MAX_CARS; i++) bot_link_destroy(rb->link[i]);
    bot_host_stop(rb->host);
    free(rb);
}
