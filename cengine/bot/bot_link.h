/*
 * bot_link.h - the host side of the Python bot sandbox: starts the
 * coderally-botd zygote, gets one sandboxed worker per bot from it, and talks
 * to the workers without ever blocking. Pure C; no Python in this process.
 *
 * Everything is an asynchronous state machine driven by the caller's poll
 * loop: the caller asks the host for the fds to watch and a wake-up time
 * (bot_host_pollfds), polls, then calls bot_host_pump. No function here
 * waits for a bot, a worker or the zygote, on any path, error paths
 * included, except bot_links_collect and bot_check_source, the conveniences
 * for flat-out command-line loops (they poll).
 *
 * Link states (bot_link_state):
 *
 *   create ──► STARTING ──load ok──► READY ◄──reply──┐
 *                 │  ▲                 │ send_tick     │
 *     first load  │  │ back-off over   ▼               │
 *     fails       │  └── REVIVING ◄── BUSY ────────────┘
 *                 ▼        │ worker died, OOM, killed past the hard deadline
 *              DISABLED ◄──┘ past BOT_MAX_RESTARTS
 *   finish: READY/BUSY ──► FINISHING ──► FINISHED (any other state: FINISHED at once)
 *
 * A tick sent to a link that is not READY answers at once with
 * BOT_STATUS_UNAVAILABLE (neutral input). A lost worker is replaced in the
 * background after a back-off and the bot gets its car back when the new
 * worker has loaded it (in-memory state lost; the log says so). If the
 * zygote dies it is restarted with a back-off and links that need a worker
 * get it from the new one. Zygote replies carry the request's sequence
 * number; a reply nobody waits for is discarded and its worker killed.
 */
#ifndef CR_BOT_LINK_H
#define CR_BOT_LINK_H

#include <poll.h>
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
 * executable). Returns as soon as the process is spawned: the zygote imports
 * Python in the background and requests queue meanwhile. The zygote gets only
 * its own socket and stdio, an empty signal mask and default dispositions.
 * The caller owns *out. */
int bot_host_start(const char *botd_path, BotHost **out, CrError *err);
/* Kills the zygote and frees the host. Links still alive are detached (they
 * become DISABLED; destroy them as usual). Waits only for the kernel to tear
 * down SIGKILLed processes. */
void bot_host_stop(BotHost *host);
/* Default botd path next to /proc/self/exe, written into buf. */
int bot_host_default_path(char *buf, size_t size);

/* Fills fds (at most cap) with what the host and its links wait on and sets
 * *wake_ns (CLOCK_MONOTONIC) to the earliest deadline or back-off, INT64_MAX
 * if none. Returns the number of entries used; entries past cap are left out
 * (use a cap of at least 1 + links). */
size_t bot_host_pollfds(BotHost *host, struct pollfd *fds, size_t cap, int64_t *wake_ns);
/* Does every piece of work that is due, never waiting: reads the zygote and
 * the workers, sends what can be sent, expires deadlines, restarts the
 * zygote and revives workers whose back-off is over. Call after a poll
 * returns (readiness or timeout); calling it more often is harmless. */
void bot_host_pump(BotHost *host);
/* The same, reading only the sockets poll reported on: fds and n are what
 * bot_host_pollfds filled, with revents set by poll. Cheaper than
 * bot_host_pump for a host with many links. */
void bot_host_pump_polled(BotHost *host, const struct pollfd *fds, size_t n);

/* Inside another event loop (the server's): the host keeps an epoll set of
 * exactly the sockets it waits on -- the zygote's, and a worker's while its
 * load, tick or finish is in flight -- adding them as workers arrive and
 * removing each before it is closed, and hands back that set's fd, which
 * never changes for the host's life. The caller watches that one fd for
 * POLLIN and calls bot_host_service when it is readable and when the time
 * on_wake last named has come. on_wake(ud, t) means "service me by t"
 * (CLOCK_MONOTONIC ns; INT64_MAX: no timer needed) and replaces the last
 * such request; it is called from inside this module's functions (a tick
 * sent, a worker lost), so it must only arm a timer. The fd stays the
 * host's (the caller may dup it, never close it). Calling it again changes
 * on_wake and returns the same fd. */
typedef void (*BotWakeFn)(void *ud, int64_t wake_ns);
int bot_host_watch(BotHost *host, BotWakeFn on_wake, void *ud, int *fd, CrError *err);
/* Never waiting: reads the sockets the epoll set reports ready (and only
 * those), and once the time named through on_wake has come, every link's
 * timers (deadlines, back-offs, the zygote's restart); ends by naming the
 * next time through on_wake. Without bot_host_watch: bot_host_pump. */
void bot_host_service(BotHost *host);
/* Sockets in the epoll set now (the zygote's included); -1 without
 * bot_host_watch. For tests and leak checks. */
int bot_host_watched(const BotHost *host);

/* Round trips of tick requests (send to reply read) as the host saw them,
 * in buckets of BOT_RTT_BUCKET_US; the last bucket holds everything above. */
#define BOT_RTT_BUCKET_US 25
#define BOT_RTT_BUCKETS 1000
typedef struct {
    long zygote_starts;  /* including the first */
    long zygote_deaths;  /* exits, crashes, kills and hangs */
    long stale_replies;  /* zygote replies matched by no request: discarded */
    long spawn_requests; /* workers asked for */
    long tick_replies;   /* tick replies read (every link of the host) */
    long rtt_hist[BOT_RTT_BUCKETS];
} BotHostStats;
void bot_host_stats(const BotHost *host, BotHostStats *out);
/* The q-quantile (0..1) of the tick round trips in s, in microseconds (a
 * bucket's upper edge), 0 if there were none. */
double bot_host_rtt_quantile(const BotHostStats *s, double q);
/* The zygote's pid, or 0 while it is down. */
pid_t bot_host_pid(const BotHost *host);

typedef struct {
    const char *name;   /* for the log: car name or file name */
    const char *source; /* bot source (UTF-8); copied */
    size_t source_len;
    const char *memory_json; /* self.memory at start, or NULL for {} */
    const char *stage_json;  /* self.stage (the stage's identity, a JSON object at most
                                BOT_STAGE_MAX bytes), or NULL for {}; copied */
    uint64_t seed;           /* seeds the bot's random */
    double tick_budget_ms;   /* CPU per on_tick (BOT_EXECUTION_TIMEOUT_MS); 0 = 10 */
    double start_budget_ms;  /* CPU for compiling and Bot(); 0 = 1000 */
    double hard_deadline_ms; /* wall clock per request before a kill; 0 = auto */
    double memory_limit_mb;  /* BOT_MEMORY_LIMIT_MB; 0 = 50 */
    size_t log_cap;          /* bytes of log kept by the host; 0 = 256 KiB */
    bool check_only;         /* compile under the policy and stop (bot check) */
    bool has_car;            /* car is the bot's car: enables coderally.predict() */
    CarStats car;
    const SurfaceTable *surfaces; /* the stage's: names bots see, predict()'s physics; NULL:
                                     the default. Copied by bot_link_create. */
} BotSpec;

typedef enum {
    BOT_LINK_STARTING,  /* a worker is requested or loading the bot (first time) */
    BOT_LINK_READY,     /* loaded and idle: accepts a tick */
    BOT_LINK_BUSY,      /* a tick is in flight */
    BOT_LINK_REVIVING,  /* the worker was lost; a new one is on its way */
    BOT_LINK_DISABLED,  /* the first load failed, or too many restarts */
    BOT_LINK_FINISHING, /* on_finish and self.memory are being fetched */
    BOT_LINK_FINISHED   /* done (check_only links end here too) */
} BotLinkState;

/* Per-bot figures. */
typedef struct {
    long calls, timeouts, errors, restarts;
    long unavailable;          /* ticks answered at once: no worker ready */
    double total_us, worst_us; /* wall-clock round trips of on_tick */
    double cpu_us;             /* CPU the worker reported, summed */
} BotLinkStats;

/* The outcome of the last tick request. */
typedef struct {
    BotStatus status;
    CarInput input; /* neutral unless status is BOT_STATUS_OK */
    double wall_us, cpu_us;
} BotReply;

/* Makes a link in STARTING state and asks the zygote for a worker; returns
 * at once. Fails only on bad arguments (oversized source or memory:
 * CR_ESCRIPT/CR_EINVAL with the reason) or out of memory. Whether the bot
 * loaded is known later: bot_link_start_result. The caller owns *out. */
int bot_link_create(BotHost *host, const BotSpec *spec, BotLink **out, CrError *err);
/* Kills the worker (no waiting) and frees the link. NULL does nothing. */
void bot_link_destroy(BotLink *link);

BotLinkState bot_link_state(const BotLink *link);
const char *bot_link_state_name(BotLinkState state);
/* How the first load went: 1 while it is under way, CR_OK once the bot
 * loaded (later losses do not change that), CR_ESCRIPT with "LINE: message"
 * lines in err if the source breaks the policy, Bot() failed or the worker
 * died or ran out of time loading it. */
int bot_link_start_result(const BotLink *link, CrError *err);
/* For check_only links once FINISHED: "LINE: message\n" lines, "" if none. */
const char *bot_link_problems(const BotLink *link);

/* Compiles source in a sandboxed worker under the policy without running it,
 * waiting for the answer (a command-line convenience; it polls). *problems
 * gets "LINE: message\n" lines (empty if none; caller frees). */
int bot_check_source(BotHost *host, const char *source, size_t len, char **problems, CrError *err);

/* Sends one tick (events since the last tick, then the sensor record) if the
 * link is READY; otherwise the reply is at once BOT_STATUS_UNAVAILABLE with
 * neutral input and the events are dropped. A link still BUSY from the last
 * tick has a hung worker: it is killed and revived. Never blocks. */
int bot_link_send_tick(BotLink *link, const SensorRecord *s, const BotWireEvent *events,
                       size_t n_events);
/* The worker socket while the link waits on it (loading, tick, finish), or -1. */
int bot_link_fd(const BotLink *link);
/* True while a tick is in flight (BUSY). */
bool bot_link_pending(const BotLink *link);
/* Reads what the worker sent without blocking and advances this link.
 * 1 when no tick is in flight any more (the reply is complete, or the worker
 * died: the reply then says BOT_STATUS_CRASH), 0 while BUSY. */
int bot_link_pump(BotLink *link);
/* Kills the worker if what the link waits for is overdue at now_ns
 * (CLOCK_MONOTONIC); a tick's reply becomes BOT_STATUS_TIMEOUT. */
void bot_link_expire(BotLink *link, int64_t now_ns);
/* When the link next needs attention (a deadline or the end of a back-off,
 * CLOCK_MONOTONIC ns), or INT64_MAX. */
int64_t bot_link_deadline(const BotLink *link);

/* The one place that waits, for loops with nothing else to do: pumps the
 * host and polls until none of links is BUSY, FINISHING or STARTING for the
 * first time. Links that are REVIVING are not waited for. All links must
 * come from one host. */
int bot_links_collect(BotLink *const *links, size_t n);

const BotReply *bot_link_reply(const BotLink *link);
/* Why the last tick's reply is not BOT_STATUS_OK (the worker's message, e.g.
 * "on_tick: line 12 in on_tick: ZeroDivisionError: division by zero"), ""
 * if it is. Valid until the next tick is sent; the runner's error summary. */
const char *bot_link_reply_message(const BotLink *link);
/* Debug drawings returned with the last reply. */
const BotDrawing *bot_link_drawings(const BotLink *link, int *n);

/* At race end: starts delivering events (on_finish) and fetching
 * self.memory; returns at once. A BUSY link finishes once its tick reply is
 * in. A link that has no loaded worker goes straight to FINISHED without
 * memory (its log says why). The state is FINISHED when done. */
int bot_link_finish(BotLink *link, const BotWireEvent *events, size_t n_events);
/* self.memory as JSON once FINISHED (NULL if it could not be saved). */
const char *bot_link_memory(const BotLink *link);

/* The bot's log (prints and the host's notes). Not NUL-terminated. */
const char *bot_link_log(const BotLink *link, size_t *len);
/* Appends a host note to the log ("[tick N] ..."). */
void bot_link_note(BotLink *link, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void bot_link_stats(const BotLink *link, BotLinkStats *out);
/* The worker's pid, or 0 while there is none. */
pid_t bot_link_pid(const BotLink *link);
bool bot_link_disabled(const BotLink *link);

int64_t bot_now_ns(void);

#endif
