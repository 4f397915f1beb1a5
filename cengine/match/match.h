/*
 * match.h - the race runner: one race from start to results, for every
 * driver of a race (`coderally race`, the benchmarks, replay verification,
 * the server's rooms). A match owns the stage, the rules, the room, the
 * built-in AI drivers, the Python bots (through the bot link), the replay
 * it records, the events, per-bot stats and logs, results and points.
 *
 * It never blocks and owns no clock: the caller passes the time in and
 * watches the bot sockets in its own poll loop. The CLI steps a match flat
 * out (match_run); the server steps each room on its 60 Hz schedule:
 *
 *   every wake-up:     match_fds -> poll -> match_pump(now)
 *   on the schedule:   match_step(now)      (even if a bot is late)
 *   flat out:          while (!match_can_step) { poll; match_pump }; match_step
 *
 * The timing rule, the same for every caller (docs/BOT_API.md): the sensor
 * record a bot gets on bot tick t describes the state after t steps; its
 * actions drive the car from the step t -> t+1 on, held until the next reply
 * is applied. A reply that is not in when step t -> t+1 is taken is late:
 * the car holds its previous input for that step, and the reply is applied
 * at the first step after it arrives. The built-in AI follows the same rule
 * (it decides synchronously). Humans hold what match_set_input set last.
 * The replay records the inputs as applied, so it is exact either way.
 *
 * Times (now_ns, wake_ns) are CLOCK_MONOTONIC nanoseconds, the bot link's
 * clock. Bots load, are revived and finish in the background (the bot
 * link's state machines): no call here waits for a worker or the zygote,
 * except match_wait and match_run, which poll by design.
 *
 * One zygote for many matches (the server): pass it as cfg.bot_host, poll
 * bot_host_pollfds (it covers every worker of every match) instead of
 * match_fds, call bot_host_pump (or bot_host_pump_polled) once per wake-up,
 * then match_pump for each match. Or, in an event loop of its own (the
 * server), bot_host_watch: one fd for the whole host, bot_host_service when
 * it is readable or its timer fires, and match_pump before match_step. A match that starts its own zygote (the
 * CLI) puts it in match_fds and pumps it in match_pump.
 */
#ifndef CR_MATCH_H
#define CR_MATCH_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coderally.h"

typedef struct Match Match;

/* The most fds match_fds fills: every bot's worker plus a zygote of its own. */
#define MATCH_MAX_FDS (CR_MAX_CARS + 1)
typedef struct BotHost BotHost; /* cengine/bot/bot_link.h: one zygote */

typedef enum {
    MATCH_STARTING = 0,  /* bots loading: match_step does not advance the race yet */
    MATCH_COUNTDOWN = 1, /* the race's countdown */
    MATCH_RUNNING = 2,
    MATCH_FINISHING = 3, /* race over; bots' on_finish and memory outstanding */
    MATCH_DONE = 4,      /* results and points final, replay written */
    MATCH_ABORTED = 5    /* rules failed, or the replay could not be written: match_error */
} MatchPhase;

/* "starting", "countdown", "running", "finishing", "done", "aborted". */
const char *match_phase_name(MatchPhase p);

/* A Python bot's source, for a CAR_BOT car. */
typedef struct {
    const char *name;   /* for messages and the log: e.g. the file name */
    const char *source; /* UTF-8, at most BOT_SOURCE_MAX bytes; copied */
    size_t source_len;
    const char *memory_json; /* self.memory at start, or NULL for {} */
} MatchBot;

typedef struct {
    /* Settings (DEFAULT_RULES, BOT_*), rules and stage generation. Only
     * used inside match_create: a match keeps the rules it started with. */
    Scripts *scripts;
    /* The stage: given (the match takes its own reference), or generated
     * from generator, seed and params when stage is NULL. */
    Stage *stage;
    const char *generator; /* also named in the replay header */
    uint64_t seed;         /* stage seed; also seeds AI skills and bots' random */
    const ConfigOverride *params;
    size_t n_params;
    const char *rules; /* rules/NAME.lua; NULL = DEFAULT_RULES */
    const CarEntry *cars;
    int n_cars;
    /* bots[i] drives car i if cars[i].kind is CAR_BOT (NULL if none). */
    const MatchBot *bots;
    BotHost *bot_host;           /* a zygote shared by matches; NULL = the match starts its own */
    const char *botd_path;       /* for a zygote of its own; NULL = next to the executable */
    double bot_hard_deadline_ms; /* wall clock per bot request before a kill; 0 = default */
    /* A bot that fails to load: false = match_create fails with its problems
     * (the CLI); true = its car is retired with the reason, the race goes on
     * (the server). */
    bool retire_failed_bots;
    /* Every car's input comes from match_set_input, whatever its kind: no
     * AI, no bots (replay verification, benchmarks). */
    bool external_inputs;
    const char *replay_path; /* write a replay here at the end; NULL = none */
} MatchConfig;

/* Sets up the match: stage, rules, room, AI, bots, replay file. Bots start
 * loading here; until the last one has loaded (or failed to) the match is
 * MATCH_STARTING and match_step does not advance the race. On failure
 * nothing is left allocated and err says why. A bot that does not load is
 * reported by the match_step that finds it (CR_ESCRIPT, its problems as
 * "NAME:LINE: message" lines; the match is then aborted), or, with
 * retire_failed_bots, its car is retired and the race goes on. The caller
 * owns *out. */
int match_create(const MatchConfig *cfg, Match **out, CrError *err);
/* Ends everything the match owns (bot workers included). NULL does nothing. */
void match_destroy(Match *m);

/* The sockets to watch for POLLIN (at most max), and in *wake_ns the
 * earliest time (CLOCK_MONOTONIC ns) match_pump must run even if none is
 * readable (INT64_MAX if none). Returns the number of fds filled. These are
 * the match's own bot workers (and its zygote and all of its sockets if it
 * started one); a zygote shared through cfg.bot_host is its owner's to poll
 * and pump (see above). */
int match_fds(const Match *m, struct pollfd *fds, int max, int64_t *wake_ns);
/* Reads whatever the bots have sent and kills the workers whose requests
 * are past their hard deadline at now_ns. Never waits. */
void match_pump(Match *m, int64_t now_ns);
/* True when match_step would not make a bot late: every reply due for the
 * next step is in or past its deadline; while starting, every bot has
 * loaded (or failed to); while finishing, every bot's on_finish and memory
 * are in; always once done or aborted. The flat-out loop waits for this;
 * the server does not. */
bool match_can_step(const Match *m);
/* Takes one step: the next tick of the race, or the next stage of starting
 * or finishing. Always makes progress in the race phases, late bots or not.
 * When the race ends, the match moves on to MATCH_FINISHING (and on to
 * MATCH_DONE in the same call when no bot has anything outstanding).
 * CR_OK; CR_ESCRIPT if the rules failed or (without retire_failed_bots) a
 * bot did not load, CR_EIO if the replay could not be written (the match is then MATCH_ABORTED and
 * err, which may be NULL, and match_error say why). Stepping a done or aborted match does nothing.
 */
int match_step(Match *m, int64_t now_ns, CrError *err);
/* Blocking conveniences for the CLI, benchmarks and tests (a server never
 * calls them): match_wait polls the bot sockets until match_can_step;
 * match_run steps flat out, waiting for bot replies, until done or aborted. */
int match_wait(Match *m, CrError *err);
int match_run(Match *m, CrError *err);

/* A human's (or, with external_inputs, any car's) input from the next step
 * on, held until changed. CR_EINVAL for a bad index or a car the match
 * drives itself (AI, bot). */
int match_set_input(Match *m, int car, const CarInput *in);
int match_set_packed_input(Match *m, int car, PackedInput in);
/* Takes a car out of the race (DNF_RETIRED): a player who left. Recorded
 * in the replay. */
int match_retire(Match *m, int car);
/* Hands a human's car to the built-in AI from the next bot tick on (a
 * player who did not come back in time); match_set_input is refused for it
 * from then on. CR_EINVAL unless car is a human car. */
int match_drive_by_ai(Match *m, int car);
/* Ends the race now: every car still running is retired, then the match
 * goes through MATCH_FINISHING (bots' on_finish and memory) to MATCH_DONE. */
void match_finish(Match *m);

MatchPhase match_phase(const Match *m);
/* Why the match was aborted ("file:line: message"), or NULL. */
const char *match_error(const Match *m);
uint32_t match_tick(const Match *m);
void match_snapshot(const Match *m, RaceSnapshot *out);
/* Events of the last race step, valid until the next match_step. */
const RaceEvent *match_events(const Match *m, size_t *n);
/* The room for read-only queries: cars, sensors, hash, results so far. */
const RaceRoom *match_room(const Match *m);
const Stage *match_stage(const Match *m);
const char *match_rules_name(const Match *m);
uint64_t match_rules_hash(const Match *m);

/* Final results in position order and their points (from the rules).
 * out and points hold race_car_count entries. CR_EINVAL unless MATCH_DONE. */
int match_results(const Match *m, RaceResult *out, int *points);

/* Per-bot figures. late: replies not in when their step was taken (the car
 * held its previous input); skipped: bot ticks not sent because the
 * previous reply was still outstanding; unavailable: bot ticks while the
 * worker was being replaced. */
typedef struct {
    long calls, timeouts, errors, restarts, late, skipped;
    long unavailable;         /* ticks with no worker ready (loading again): neutral input */
    double mean_us, worst_us; /* round trip of on_tick calls */
    bool failed;              /* did not load (retire_failed_bots): car retired */
} MatchBotStats;

/* CR_ENOTFOUND unless car is a bot car. */
int match_bot_stats(const Match *m, int car, MatchBotStats *out);
/* A bot's distinct errors (failed, timed-out or crashed on_tick calls), in
 * the order they first happened: the message (the worker's, e.g. "on_tick:
 * line 12 in on_tick: ZeroDivisionError: division by zero"), the bot tick of
 * the first occurrence and how many times it happened. Kept apart from the
 * bot's log, so a bot that prints past the log cap still has its errors. At
 * most MATCH_MAX_BOT_ERRORS distinct ones; repeats of others are counted in
 * *more (may be NULL). */
#define MATCH_MAX_BOT_ERRORS 16
#define MATCH_BOT_ERROR_MAX 1100
typedef struct {
    char message[MATCH_BOT_ERROR_MAX];
    uint32_t first_tick;
    long count;
} MatchBotError;
/* The table (valid until the next match_step) and its length; NULL, 0 if
 * car is not a bot. */
const MatchBotError *match_bot_errors(const Match *m, int car, int *n, long *more);
/* Why a bot did not load ("NAME:LINE: message" lines), or NULL if it did (or
 * car is not a bot). With retire_failed_bots its car is retired. */
const char *match_bot_load_error(const Match *m, int car);
/* Why the car of result x did not finish, as a word fit for everyone (never
 * the bot's own error text): "bot_load_failed", "time_limit", "stalled" or
 * "retired"; NULL for a finisher. */
const char *match_dnf_reason(const Match *m, const RaceResult *x);
/* self.memory as JSON once MATCH_DONE (NULL if it could not be saved, or
 * car is not a bot). */
const char *match_bot_memory(const Match *m, int car);
/* The bot's log (its prints and the host's notes), not NUL-terminated;
 * NULL and *len = 0 if car is not a bot. */
const char *match_bot_log(const Match *m, int car, size_t *len);

/* The debug drawings a bot returned with its last applied reply, in world
 * coordinates (u), as docs/BOT_API.md describes them: line (a, b) -> (c, d);
 * circle centre (a, b), radius c; text at (a, b). */
#define MATCH_MAX_DRAWINGS 32
#define MATCH_DRAW_TEXT_MAX 64
typedef struct {
    uint8_t kind; /* 0 line, 1 circle, 2 text */
    uint32_t rgb; /* 0xRRGGBB */
    float a, b, c, d;
    char text[MATCH_DRAW_TEXT_MAX + 1];
} MatchBotDrawing;
/* The table (valid until the next match_step) and its length, and in *tick
 * the race tick of the step from which that reply drives the car (0 before
 * the first reply: check *n). A reply with no drawings empties the table.
 * NULL, *n = 0 if car is not a bot. */
const MatchBotDrawing *match_bot_drawings(const Match *m, int car, int *n, uint32_t *tick);

/* Skill of the i-th AI driver in a race of this seed: 0.85..1. */
double match_ai_skill(uint64_t seed, int i);

#endif
