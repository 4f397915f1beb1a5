/*
 * race_bots.h - the Python bots of one match: the glue between the race
 * runner (match.c) and the sandboxed bot workers (cengine/bot/,
 * coderally-botd). Internal to cengine/match/; everything that talks to the
 * bot link lives in race_bots.c, so a change of the link's API stays there.
 *
 * Never waits for a bot: race_bots_send sends every bot its sensor record,
 * race_bots_pump reads what has arrived (and kills what is overdue),
 * race_bots_apply puts the replies that are in on their cars. A bot whose
 * reply is not in when its car is stepped holds its previous input and the
 * reply counts as late (the timing rule is in docs/BOT_API.md).
 */
#ifndef CR_RACE_BOTS_H
#define CR_RACE_BOTS_H

#include <poll.h>

#include "bot_proto.h"
#include "coderally.h"
#include "match/match.h"
#include "sim/replay.h"

typedef struct RaceBots RaceBots;

typedef struct {
    const char *botd_path;        /* coderally-botd executable; NULL = next to coderally */
    double memory_limit_mb;       /* BOT_MEMORY_LIMIT_MB */
    double timeout_ms;            /* BOT_EXECUTION_TIMEOUT_MS, CPU per on_tick */
    double hard_deadline_ms;      /* 0 = the link's default */
    const CarEntry *cars;         /* the race's cars by index, for predict(); may be NULL */
    const SurfaceTable *surfaces; /* the stage's (stage_surfaces); NULL: the default */
    const char *stage_json;       /* every bot's self.stage (JSON object); NULL: {} */
} RaceBotsConfig;

/* Starts one worker per bot (source compiled inside the worker). cars[i]
 * is the race car bots[i] drives. host is a zygote shared with other
 * matches, or NULL to start one owned by rb. seed seeds each bot's
 * `random`. A bot that does not load fails with CR_ESCRIPT and its
 * problems as "NAME:LINE: message" lines in err (here or from
 * race_bots_start_result), unless retire_failed: then its car is listed by
 * race_bots_failed and the others go on. The caller owns *out. */
int race_bots_start(const RaceBotsConfig *cfg, BotHost *host, const MatchBot *bots, const int *cars,
                    int n, uint64_t seed, bool retire_failed, RaceBots **out, CrError *err);

/* True while a bot is still loading (spawn + compile + Bot()). */
bool race_bots_loading(const RaceBots *rb);
/* Once none is loading: CR_OK, or (without retire_failed) the first bot's
 * load error, CR_ESCRIPT with "NAME:LINE: message" lines in err. */
int race_bots_start_result(RaceBots *rb, CrError *err);
/* Bot i failed to load (retire_failed); *why gets the reason. */
bool race_bots_failed(const RaceBots *rb, int i, const char **why);

/* Sends every bot its sensor record of the room's current state plus the
 * events queued for it. A bot whose previous reply is still outstanding is
 * not sent this tick (it counts as skipped). */
int race_bots_send(RaceBots *rb, const RaceRoom *room, CrError *err);
/* Reads replies that have arrived and expires overdue requests at now_ns.
 * The zygote is pumped too if rb owns it, or if whole_host (the blocking
 * loop of match_wait, which nobody else pumps for); a shared zygote is
 * otherwise its owner's to pump, once for all its matches. */
void race_bots_pump(RaceBots *rb, int64_t now_ns, bool whole_host);
/* True when no reply is outstanding. */
bool race_bots_ready(const RaceBots *rb);
/* Fills fds with the sockets to watch (at most max): this match's workers,
 * and the zygote's under the same rule as race_bots_pump; returns how many;
 * *deadline_ns gets the earliest deadline (or is unchanged). */
int race_bots_fds(const RaceBots *rb, struct pollfd *fds, int max, int64_t *deadline_ns,
                  bool whole_host);
/* Before the step from the room's current tick: sets the input of every bot
 * whose reply is in and not yet applied (neutral for a failed call) and
 * records it and its drawings in rw (may be NULL); counts still outstanding
 * replies as late. -1 if the replay cannot be written. */
int race_bots_apply(RaceBots *rb, RaceRoom *room, ReplayWriter *rw);

/* Queues the events of the last step for the bots they concern. */
void race_bots_events(RaceBots *rb, const RaceEvent *events, size_t n);

/* At race end: delivers on_finish and collects each bot's memory; call
 * again until it returns true, when every bot is done (a bot whose memory
 * cannot be saved keeps its old memory; its log says why). */
bool race_bots_finish(RaceBots *rb);
/* True while finish requests are in flight (waiting would help). */
bool race_bots_finishing(const RaceBots *rb);

int race_bots_count(const RaceBots *rb);
void race_bots_stats(const RaceBots *rb, int i, MatchBotStats *out);
/* The bot's memory as JSON after race_bots_finish, or NULL. */
const char *race_bots_memory(const RaceBots *rb, int i);
/* The bot's log (prints and host notes); not NUL-terminated. */
const char *race_bots_log(const RaceBots *rb, int i, size_t *len);
/* Bot i's distinct errors (see match_bot_errors). */
const MatchBotError *race_bots_errors(const RaceBots *rb, int i, int *n, long *more);
/* Bot i's drawings from its last applied reply (see match_bot_drawings). */
const MatchBotDrawing *race_bots_drawings(const RaceBots *rb, int i, int *n, uint32_t *tick);
/* The race car index bot i drives, or -1. */
int race_bots_car(const RaceBots *rb, int i);

void race_bots_destroy(RaceBots *rb);

#endif
