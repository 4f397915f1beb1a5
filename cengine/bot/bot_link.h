/*
 * bot_link.h - the host side of the Python bot sandbox: starts the
 * coderally-botd zygote, gets one sandboxed worker per bot from it, and talks
 * to the workers without blocking: send a tick's sensor records to every bot,
 * do other work, collect the actions by a deadline. The sockets can join any
 * poll/epoll loop (bot_link_fd). Pure C; no Python in this process.
 *
 * A worker that crashes, runs out of memory, exceeds its CPU limit or misses
 * the hard wall-clock deadline is killed and replaced before the bot's next
 * tick (its in-memory state is lost and its log says so); the bot loses only
 * that tick. Past BOT_MAX_RESTARTS the bot is disabled for the race.
 */
#ifndef CR_BOT_LINK_H
#define CR_BOT_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bot_proto.h"
#include "coderally.h"

#define BOT_MAX_RESTARTS 5

typedef struct BotHost BotHost;
typedef struct BotLink BotLink;

/* Starts the zygote from botd_path (NULL: coderally-botd next to the running
 * executable). The caller owns *out. */
int bot_host_start(const char *botd_path, BotHost **out, CrError *err);
/* Ends the zygote; links made from it must be destroyed first. */
void bot_host_stop(BotHost *host);
/* Default botd path next to /proc/self/exe, written into buf. */
int bot_host_default_path(char *buf, size_t size);

typedef struct {
    const char *name;   /* for the log: car name or file name */
    const char *source; /* bot source (UTF-8); copied */
    size_t source_len;
    const char *memory_json; /* self.memory at start, or NULL for {} */
    uint64_t seed;           /* seeds the bot's random */
    double tick_budget_ms;   /* CPU per on_tick (BOT_EXECUTION_TIMEOUT_MS); 0 = 10 */
    double start_budget_ms;  /* CPU for compiling and Bot(); 0 = 1000 */
    double hard_deadline_ms; /* wall clock per request before a kill; 0 = auto */
    double memory_limit_mb;  /* BOT_MEMORY_LIMIT_MB; 0 = 50 */
    size_t log_cap;          /* bytes of log kept by the host; 0 = 256 KiB */
    bool has_car;            /* car is the bot's car: enables coderally.predict() */
    CarStats car;
} BotSpec;

/* Per-bot figures. */
typedef struct {
    long calls, timeouts, errors, restarts;
    double total_us, worst_us; /* wall-clock round trips of on_tick */
    double cpu_us;             /* CPU the worker reported, summed */
} BotLinkStats;

/* The outcome of the last tick request. */
typedef struct {
    BotStatus status;
    CarInput input; /* neutral unless status is BOT_STATUS_OK */
    double wall_us, cpu_us;
} BotReply;

/* Spawns a worker and loads the bot in it (compile + Bot() under the start
 * budget), waiting for the answer. CR_ESCRIPT with "LINE: message" lines in
 * err if the source breaks the policy or Bot() fails. The caller owns *out. */
int bot_link_create(BotHost *host, const BotSpec *spec, BotLink **out, CrError *err);
void bot_link_destroy(BotLink *link);

/* Compiles source in a sandboxed worker under the policy without running it.
 * *problems gets "LINE: message\n" lines (empty if none; caller frees). */
int bot_check_source(BotHost *host, const char *source, size_t len, char **problems, CrError *err);

/* Sends one tick: events since the last tick, then the sensor record. A dead
 * worker is replaced first (synchronously). Never blocks on the bot. */
int bot_link_send_tick(BotLink *link, const SensorRecord *s, const BotWireEvent *events,
                       size_t n_events);
/* The socket to poll for readability while a reply is pending, or -1. */
int bot_link_fd(const BotLink *link);
bool bot_link_pending(const BotLink *link);
/* Reads what is available without blocking. 1 when the reply is complete
 * (or the worker died: the reply then says BOT_STATUS_CRASH), 0 if pending. */
int bot_link_pump(BotLink *link);
/* Kills the worker if its reply is overdue at now_ns (CLOCK_MONOTONIC);
 * the reply becomes BOT_STATUS_CRASH. */
void bot_link_expire(BotLink *link, int64_t now_ns);
/* Deadline (CLOCK_MONOTONIC ns) of the pending request, or INT64_MAX. */
int64_t bot_link_deadline(const BotLink *link);

/* Convenience for loops with nothing else to do: polls every pending link
 * until each has replied or passed its hard deadline. */
int bot_links_collect(BotLink *const *links, size_t n);

const BotReply *bot_link_reply(const BotLink *link);
/* Debug drawings returned with the last reply. */
const BotDrawing *bot_link_drawings(const BotLink *link, int *n);

/* At race end: delivers events (on_finish), then fetches self.memory. Waits. */
int bot_link_finish(BotLink *link, const BotWireEvent *events, size_t n_events, CrError *err);
/* self.memory as JSON after bot_link_finish (NULL if it could not be saved). */
const char *bot_link_memory(const BotLink *link);

/* The bot's log (prints and the host's notes). Not NUL-terminated. */
const char *bot_link_log(const BotLink *link, size_t *len);
/* Appends a host note to the log ("[tick N] ..."). */
void bot_link_note(BotLink *link, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void bot_link_stats(const BotLink *link, BotLinkStats *out);
pid_t bot_link_pid(const BotLink *link);
bool bot_link_disabled(const BotLink *link);

int64_t bot_now_ns(void);

#endif
