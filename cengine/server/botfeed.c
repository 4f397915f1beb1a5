/* botfeed.c - a bot's private feed to its owner (see botfeed.h): what is
 * new in its log, errors and drawings since the last call, as JSON texts. */
#include "botfeed.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_S 1000000000LL
#define ENVELOPE 64 /* bytes of a message around its payload, roughly */

static const char *const DRAW_KINDS[] = {"line", "circle", "text"};

/* The length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n) {
    unsigned char c = s[0];
    size_t len = c < 0x80                ? 1
                 : c >= 0xC2 && c < 0xE0 ? 2
                 : c >= 0xE0 && c < 0xF0 ? 3
                 : c >= 0xF0 && c < 0xF5 ? 4
                                         : 0;
    if (!len || len > n || c == 0) return 0;
    for (size_t j = 1; j < len; j++)
        if ((s[j] >> 6) != 2) return 0;
    if (len == 3 && ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] >= 0xA0))) return 0;
    if (len == 4 && ((c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] >= 0x90))) return 0;
    return len;
}

/* s[0..n) as a JSON string; bytes that are not UTF-8 (a print cut by the
 * sandbox's cap may end mid-character) and NULs become '?'. */
static json_t *text_json(const char *s, size_t n) {
    char *buf = malloc(n + 1);
    if (!buf) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        size_t len = utf8_len((const unsigned char *)s + i, n - i);
        if (!len) {
            buf[k++] = '?';
            i++;
            continue;
        }
        memcpy(buf + k, s + i, len);
        k += len;
        i += len;
    }
    json_t *j = json_stringn(buf, k);
    free(buf);
    return j;
}

/* Bytes s[0..n) take inside a JSON string, at most. */
static size_t json_cost(const char *s, size_t n) {
    size_t c = 3; /* quotes and a comma */
    for (size_t i = 0; i < n; i++) {
        unsigned char b = (unsigned char)s[i];
        c += b == '"' || b == '\\' ? 2 : b < 0x20 ? 6 : 1;
    }
    return c;
}

static char *dump(json_t *o) {
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(7)) : NULL;
    json_decref(o);
    return s;
}

/* Bytes left in the current one-second window. */
static size_t budget_left(BotFeed *f, int64_t now_ns) {
    if (now_ns - f->window_ns >= NS_PER_S || now_ns < f->window_ns) {
        f->window_ns = now_ns;
        f->window_bytes = 0;
    }
    return f->window_bytes < BOTFEED_BYTES_PER_S ? BOTFEED_BYTES_PER_S - f->window_bytes : 0;
}

static void budget_spend(BotFeed *f, const char *text) {
    if (text) f->window_bytes += strlen(text);
}

/* Copies at most size - 1 bytes of s up to its first newline. */
static void copy_line(char *out, size_t size, const char *s, size_t n) {
    const char *nl = memchr(s, '\n', n);
    if (nl) n = (size_t)(nl - s);
    if (n > size - 1) n = size - 1;
    memcpy(out, s, n);
    out[n] = 0;
}

/* A call's error: "METHOD: ...", METHOD a word. */
static int parse_call(const char *msg, char *cause, size_t size) {
    const char *rest = msg;
    const char *sep = strstr(msg, ": ");
    if (sep && memchr(msg, ' ', (size_t)(sep - msg)) == NULL) rest = sep + 2;
    int line = 0;
    if (!strncmp(rest, "line ", 5)) {
        /* "line 5 in on_tick; line 9 in f: Cause: text": the innermost frame. */
        const char *end = strstr(rest, ": ");
        if (end) {
            const char *last = rest;
            for (const char *q = rest; q < end; q++)
                if (q[0] == ';' && q[1] == ' ') last = q + 2;
            if (sscanf(last, "line %d", &line) != 1 || line < 0) line = 0;
            rest = end + 2;
        }
        copy_line(cause, size, rest, strlen(rest));
        return line;
    }
    /* "CPU budget of 10.0 ms exceeded at line 7 in spin" */
    const char *at = strstr(rest, " at line ");
    if (at && sscanf(at + 9, "%d", &line) == 1 && line > 0) {
        copy_line(cause, size, rest, (size_t)(at - rest));
        return line;
    }
    copy_line(cause, size, rest, strlen(rest));
    return 0;
}

int botfeed_parse_error(const char *msg, char *cause, size_t size) {
    size_t len = strlen(msg);
    /* A load problem: "NAME:LINE: message". */
    const char *colon = memchr(msg, ':', len);
    if (colon && isdigit((unsigned char)colon[1])) {
        char *end;
        long v = strtol(colon + 1, &end, 10);
        if (*end == ':' && v > 0 && v < 1000000) {
            end++;
            while (*end == ' ') end++;
            /* Bot() raised: the sandbox files that under line 1 with the
             * call's error as the message, whose innermost frame is the
             * line that matters. */
            char first[512];
            copy_line(first, sizeof first, end, strlen(end));
            if (!strncmp(first, "Bot(): ", 7)) {
                int inner = parse_call(first, cause, size);
                if (inner > 0) return inner;
            }
            copy_line(cause, size, end, strlen(end));
            return (int)v;
        }
    }
    return parse_call(msg, cause, size);
}

/* bot_log: the complete lines written since the last call, as many as the
 * budget allows; the rest are dropped and counted. */
static char *collect_log(BotFeed *f, const Match *m, int car, int64_t now_ns) {
    size_t len;
    const char *log = match_bot_log(m, car, &len);
    if (!log) return NULL;
    if (f->log_at > len) f->log_at = len;
    size_t avail = budget_left(f, now_ns);
    size_t bytes = ENVELOPE;
    json_t *lines = json_array();
    if (!lines) return NULL;
    const char *p = log + f->log_at, *end = log + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n;
        const char *next;
        if (nl) {
            n = (size_t)(nl - p);
            next = nl + 1;
        } else if ((size_t)(end - p) >= BOTFEED_LINE_MAX) {
            n = BOTFEED_LINE_MAX; /* a huge line without its end yet */
            next = p + n;
        } else {
            break; /* the rest of this line is still to come */
        }
        if (n > BOTFEED_LINE_MAX) n = BOTFEED_LINE_MAX;
        size_t cost = json_cost(p, n);
        if (bytes + cost <= avail) {
            json_array_append_new(lines, text_json(p, n));
            bytes += cost;
        } else {
            f->dropped_lines++;
        }
        p = next;
    }
    f->log_at = (size_t)(p - log);
    if (json_array_size(lines) == 0 && (f->dropped_lines == 0 || avail < ENVELOPE)) {
        json_decref(lines);
        return NULL;
    }
    char *s = dump(json_pack("{s:s,s:i,s:o,s:i}", "type", "bot_log", "car", car, "lines", lines,
                             "dropped", (int)f->dropped_lines));
    if (s) {
        budget_spend(f, s);
        f->dropped_lines = 0;
    }
    return s;
}

static char *error_msg(int car, const MatchBotError *e, int index) {
    char cause[MATCH_BOT_ERROR_MAX];
    int line = botfeed_parse_error(e->message, cause, sizeof cause);
    json_t *o = json_pack("{s:s,s:i,s:i,s:I,s:s,s:s,s:I}", "type", "bot_error", "car", car, "index",
                          index, "tick", (json_int_t)e->first_tick, "cause", cause, "message",
                          e->message, "count", (json_int_t)e->count);
    if (o) json_object_set_new(o, "line", line > 0 ? json_integer(line) : json_null());
    return dump(o);
}

/* bot_error: each distinct error once when it first happens, again (once a
 * second at most) when its count has grown; a load failure once. */
static int collect_errors(BotFeed *f, const Match *m, int car, int64_t now_ns, char **out) {
    int k = 0;
    const char *why = match_bot_load_error(m, car);
    if (why && !f->load_error_sent) {
        f->load_error_sent = true;
        char cause[MATCH_BOT_ERROR_MAX];
        int line = botfeed_parse_error(why, cause, sizeof cause);
        json_t *o = json_pack("{s:s,s:i,s:i,s:s,s:s,s:i}", "type", "bot_error", "car", car, "index",
                              -1, "cause", cause, "message", why, "count", 1);
        if (o) {
            json_object_set_new(o, "tick", json_null());
            json_object_set_new(o, "line", line > 0 ? json_integer(line) : json_null());
        }
        if ((out[k] = dump(o))) k++;
    }
    int n;
    const MatchBotError *e = match_bot_errors(m, car, &n, NULL);
    if (!e) return k;
    bool recount = now_ns - f->counts_at_ns >= NS_PER_S;
    for (int i = 0; i < n && i < MATCH_MAX_BOT_ERRORS; i++) {
        bool fresh = i >= f->errors_at;
        if (!fresh && !(recount && e[i].count != f->error_count[i])) continue;
        if ((out[k] = error_msg(car, &e[i], i))) k++;
        f->error_count[i] = e[i].count;
        if (!fresh) f->counts_at_ns = now_ns;
    }
    if (n > f->errors_at) f->errors_at = n;
    return k;
}

/* bot_draw: the drawings of the bot's latest reply, when there is a newer
 * one than last time (an empty list once, to clear, when it stops). */
static char *collect_draw(BotFeed *f, const Match *m, int car, int64_t now_ns) {
    int n;
    uint32_t tick;
    const MatchBotDrawing *d = match_bot_drawings(m, car, &n, &tick);
    if (!d || (n == 0 && !f->draw_any) || (f->draw_seen && tick == f->draw_tick)) return NULL;
    f->draw_seen = true;
    f->draw_tick = tick;
    json_t *arr = json_array();
    for (int i = 0; arr && i < n; i++) {
        json_t *o = json_pack("{s:s,s:I,s:f,s:f,s:f,s:f}", "kind", DRAW_KINDS[d[i].kind % 3], "rgb",
                              (json_int_t)d[i].rgb, "a", (double)d[i].a, "b", (double)d[i].b, "c",
                              (double)d[i].c, "d", (double)d[i].d);
        if (o && d[i].kind == 2)
            json_object_set_new(o, "text", text_json(d[i].text, strlen(d[i].text)));
        json_array_append_new(arr, o);
    }
    char *s = dump(json_pack("{s:s,s:i,s:I,s:o,s:i}", "type", "bot_draw", "car", car, "tick",
                             (json_int_t)tick, "drawings", arr, "dropped", (int)f->dropped_draws));
    if (!s) return NULL;
    if (strlen(s) > budget_left(f, now_ns)) {
        f->dropped_draws++;
        free(s);
        return NULL;
    }
    budget_spend(f, s);
    f->dropped_draws = 0;
    f->draw_any = n > 0;
    return s;
}

int botfeed_collect(BotFeed *f, const Match *m, int car, int64_t now_ns, char **out) {
    MatchBotStats st;
    if (!m || match_bot_stats(m, car, &st)) return 0;
    /* Errors first: they are never dropped, and a panel shows them first. */
    int k = collect_errors(f, m, car, now_ns, out);
    if ((out[k] = collect_log(f, m, car, now_ns))) k++;
    if ((out[k] = collect_draw(f, m, car, now_ns))) k++;
    return k;
}
