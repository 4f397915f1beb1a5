/* ws.c - the WebSocket protocol "coderally.v1" at /ws: Origin and path
 * checked at the upgrade, a hello with the protocol version, messages capped
 * in size and rate, a bounded send queue per connection. Rooms come with the
 * shared race runner; until then every known message type gets an error
 * saying so. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server_internal.h"

#define WS_QUEUE 32
#define WS_RATE_PER_S 60

typedef struct {
    unsigned char *msgs[WS_QUEUE]; /* LWS_PRE + text */
    size_t lens[WS_QUEUE];
    int head, count;
    char rx[WS_MSG_MAX + 1];
    size_t rx_len;
    bool rx_overflow;
    int64_t rate_second;
    int rate_count;
    int close_status; /* close after the queue drains, with this status */
    char close_reason[64];
} WsConn;

size_t ws_conn_size(void) {
    return sizeof(WsConn);
}

static void ws_free(WsConn *w) {
    for (int i = 0; i < w->count; i++) free(w->msgs[(w->head + i) % WS_QUEUE]);
    w->count = 0;
}

/* Queues text; a client whose queue is full is too slow and is closed. */
static void ws_send(struct lws *wsi, WsConn *w, const char *text) {
    size_t len = strlen(text);
    if (w->count == WS_QUEUE) {
        w->close_status = LWS_CLOSE_STATUS_POLICY_VIOLATION;
        snprintf(w->close_reason, sizeof w->close_reason, "too slow: send queue full");
        lws_callback_on_writable(wsi);
        return;
    }
    unsigned char *m = malloc(LWS_PRE + len);
    if (!m) return;
    memcpy(m + LWS_PRE, text, len);
    int slot = (w->head + w->count) % WS_QUEUE;
    w->msgs[slot] = m;
    w->lens[slot] = len;
    w->count++;
    lws_callback_on_writable(wsi);
}

static void ws_send_json(struct lws *wsi, WsConn *w, json_t *o) {
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (s) ws_send(wsi, w, s);
    free(s);
}

static void ws_error(struct lws *wsi, WsConn *w, const char *code, const char *msg) {
    ws_send_json(wsi, w, json_pack("{s:s,s:s,s:s}", "type", "error", "code", code, "message", msg));
}

static void ws_close_after(struct lws *wsi, WsConn *w, int status, const char *code,
                           const char *msg) {
    ws_error(wsi, w, code, msg);
    w->close_status = status;
    snprintf(w->close_reason, sizeof w->close_reason, "%s", code);
    lws_callback_on_writable(wsi);
}

/* The Origin (if the client sent one, as browsers do) must name this host. */
static bool origin_ok(struct lws *wsi) {
    char origin[256], host[256];
    if (lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) <= 0) return true;
    if (lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN) <= 0) return false;
    if (lws_hdr_copy(wsi, host, sizeof host, WSI_TOKEN_HOST) <= 0) return false;
    const char *o = strstr(origin, "://");
    return o && !strcasecmp(o + 3, host);
}

static void on_message(struct lws *wsi, WsConn *w) {
    json_error_t jerr;
    json_t *m = json_loadb(w->rx, w->rx_len, JSON_REJECT_DUPLICATES, &jerr);
    const char *type = m ? json_string_value(json_object_get(m, "type")) : NULL;
    if (!m || !json_is_object(m)) {
        ws_error(wsi, w, "bad_json", "a message must be a JSON object with a \"type\"");
    } else if (!type) {
        ws_error(wsi, w, "bad_field", "\"type\" must be a string");
    } else if (!strcmp(type, "join_race") || !strcmp(type, "ready") || !strcmp(type, "input") ||
               !strcmp(type, "spectate") || !strcmp(type, "leave") || !strcmp(type, "auth")) {
        char msg[128];
        snprintf(msg, sizeof msg, "'%s' is not available yet: live races are not built", type);
        ws_error(wsi, w, "not_available", msg);
    } else {
        char msg[128];
        snprintf(msg, sizeof msg, "unknown message type '%.40s'", type);
        ws_error(wsi, w, "unknown_type", msg);
    }
    json_decref(m);
}

int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                size_t len) {
    WsConn *w = user;
    switch (reason) {
        case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
            char uri[64];
            if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0 || strcmp(uri, "/ws"))
                return -1;
            if (!origin_ok(wsi)) return -1;
            return 0;
        }
        case LWS_CALLBACK_ESTABLISHED:
            memset(w, 0, sizeof *w);
            ws_send_json(wsi, w,
                         json_pack("{s:s,s:i,s:n}", "type", "hello", "protocol",
                                   WS_PROTOCOL_VERSION, "user"));
            return 0;
        case LWS_CALLBACK_RECEIVE: {
            int64_t now = time(NULL);
            if (now != w->rate_second) {
                w->rate_second = now;
                w->rate_count = 0;
            }
            if (lws_is_first_fragment(wsi)) {
                w->rx_len = 0;
                w->rx_overflow = false;
            }
            if (w->rx_overflow || w->rx_len + len > WS_MSG_MAX) {
                w->rx_overflow = true;
                if (lws_is_final_fragment(wsi))
                    ws_close_after(wsi, w, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message_too_large",
                                   "a message is at most 4096 bytes");
                return 0;
            }
            memcpy(w->rx + w->rx_len, in, len);
            w->rx_len += len;
            if (!lws_is_final_fragment(wsi)) return 0;
            if (++w->rate_count > WS_RATE_PER_S) {
                ws_close_after(wsi, w, LWS_CLOSE_STATUS_POLICY_VIOLATION, "rate_limited",
                               "more than 60 messages in a second");
                return 0;
            }
            if (lws_frame_is_binary(wsi)) {
                ws_error(wsi, w, "bad_json", "messages are JSON text frames");
                return 0;
            }
            on_message(wsi, w);
            return 0;
        }
        case LWS_CALLBACK_SERVER_WRITEABLE:
            if (w->count) {
                int slot = w->head;
                unsigned char *m = w->msgs[slot];
                int n = lws_write(wsi, m + LWS_PRE, w->lens[slot], LWS_WRITE_TEXT);
                free(m);
                w->head = (w->head + 1) % WS_QUEUE;
                w->count--;
                if (n < (int)w->lens[slot]) return -1;
                if (w->count) {
                    lws_callback_on_writable(wsi);
                    return 0;
                }
            }
            if (w->close_status) {
                lws_close_reason(wsi, (enum lws_close_status)w->close_status,
                                 (unsigned char *)w->close_reason, strlen(w->close_reason));
                return -1;
            }
            return 0;
        case LWS_CALLBACK_CLOSED:
            ws_free(w);
            return 0;
        default:
            return 0;
    }
}
