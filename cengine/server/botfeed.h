/*
 * botfeed.h - a bot's private feed to its owner: the lines of its log, its
 * errors (line, tick, cause) and its debug drawings, as the WebSocket
 * messages bot_log, bot_error and bot_draw (docs/API.md). The room calls
 * botfeed_collect at the snapshot rate and sends what it returns to the
 * bot's owner only; other coders' bot output is private. Loop thread only.
 *
 * Size: everything but errors counts against BOTFEED_BYTES_PER_S per car
 * (message bytes in a one-second window). Past it, log lines and drawings
 * are dropped and counted, and the next bot_log / bot_draw says how many
 * (`dropped`). Errors are never dropped: there are at most
 * MATCH_MAX_BOT_ERRORS distinct ones, and a count change is re-sent at most
 * once a second.
 */
#ifndef CR_SERVER_BOTFEED_H
#define CR_SERVER_BOTFEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "match/match.h"

#define BOTFEED_BYTES_PER_S (64 * 1024)
#define BOTFEED_LINE_MAX 512 /* bytes of one log line; longer ones are cut */
#define BOTFEED_MSGS_MAX (2 + MATCH_MAX_BOT_ERRORS + 1)

/* One bot car's feed state, zeroed at the start of a race (caller-owned). */
typedef struct {
    size_t log_at;                          /* bytes of the log already passed on */
    int errors_at;                          /* distinct errors already sent */
    long error_count[MATCH_MAX_BOT_ERRORS]; /* count each was last sent with */
    int64_t counts_at_ns;                   /* when counts were last re-sent */
    bool load_error_sent;
    bool draw_any;       /* the last bot_draw sent had drawings */
    uint32_t draw_tick;  /* tick of the drawings last passed on (sent or dropped) */
    bool draw_seen;      /* draw_tick is valid */
    int64_t window_ns;   /* start of the current one-second budget */
    size_t window_bytes; /* message bytes sent in it */
    long dropped_lines;  /* since the last bot_log */
    long dropped_draws;  /* since the last bot_draw */
} BotFeed;

/* The news in car's feed since the last call on f: at most BOTFEED_MSGS_MAX
 * messages as JSON texts in out (malloc'd; the caller frees them); returns
 * how many. Nothing for a car that is not a bot. */
int botfeed_collect(BotFeed *f, const Match *m, int car, int64_t now_ns, char **out);

/* Splits a sandbox error message into the bot's line and the cause:
 * "on_tick: line 5 in on_tick; line 9 in f: ZeroDivisionError: division by
 * zero" gives 9 (the innermost frame of bot code) and "ZeroDivisionError:
 * division by zero"; "on_tick: CPU budget of 10.0 ms exceeded at line 7 in
 * spin" gives 7 and "CPU budget of 10.0 ms exceeded"; a load problem
 * "NAME:3: SyntaxError: ..." gives 3, and "NAME:1: Bot(): line 4 in
 * __init__: ValueError: ..." (Bot() raised) 4 and "ValueError: ...". Returns the line, or 0 when the
 * message names none (cause is then the message without its method). */
int botfeed_parse_error(const char *msg, char *cause, size_t size);

#endif
