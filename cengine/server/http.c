/* http.c - HTTP on the event loop: reads a request (body capped before it is
 * buffered), routes /api/ requests to a worker lane and writes the answer
 * when the job comes back; serves web/dist for everything else. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "server_internal.h"

#define CHUNK 16384
/* docs/API.md "Rate limits" */
#define LOGIN_ADDR_LIMIT 30 /* attempts per address per minute */
#define LOGIN_ADDR_WINDOW_S 60
#define LOGIN_USER_LIMIT 10 /* failures per account per 15 minutes */
#define LOGIN_USER_WINDOW_S 900

typedef struct HttpConn HttpConn;

/* A request in a worker lane. conn is NULL once the connection is gone; the
 * job is then freed when it comes back. */
typedef struct {
    Job job;
    HttpConn *conn;
    struct lws *wsi;
    const ApiRoute *route;
    ApiRequest req;
    ApiResponse res;
    char login_user[64]; /* for the per-account login limit */
} HttpJob;

struct HttpConn {
    HttpJob *job; /* in flight */
    int method;
    char path[512];
    char query[1024];
    const ApiRoute *route;
    char *body;
    size_t body_len, body_expect;
    /* The response being written. */
    bool responding, headers_sent, close_after;
    int status;
    const char *ctype;
    char headers[768];
    unsigned char *out; /* LWS_PRE + len bytes */
    size_t out_len, out_off;
};

size_t http_conn_size(void) {
    return sizeof(HttpConn);
}

static void conn_reset(HttpConn *c) {
    if (c->job) c->job->conn = NULL; /* the worker's answer will be dropped */
    free(c->body);
    free(c->out);
    memset(c, 0, sizeof *c);
}

static void job_free(HttpJob *j) {
    json_decref(j->req.body);
    free(j->req.picked);
    free(j->res.body);
    free(j->res.open_room);
    free(j);
}

/* Queues a response on c and asks for a writeable callback. body is copied. */
static void respond(struct lws *wsi, HttpConn *c, int status, const char *ctype,
                    const char *headers, const char *body, size_t len) {
    free(c->out);
    c->out = malloc(LWS_PRE + len + 1);
    if (!c->out) {
        c->close_after = true;
        len = 0;
        status = 500;
        c->out = malloc(LWS_PRE + 1);
    } else if (len) {
        memcpy(c->out + LWS_PRE, body, len);
    }
    c->out_len = len;
    c->out_off = 0;
    c->status = status;
    c->ctype = ctype;
    snprintf(c->headers, sizeof c->headers, "%s", headers ? headers : "");
    c->responding = true;
    c->headers_sent = false;
    lws_callback_on_writable(wsi);
}

static void respond_error(struct lws *wsi, HttpConn *c, int status, const char *code,
                          const char *msg, const char *headers) {
    json_t *o = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    respond(wsi, c, status, "application/json", headers, s ? s : "", s ? strlen(s) : 0);
    free(s);
}

static int method_of(struct lws *wsi) {
    if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI)) return HTTP_GET;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI)) return HTTP_POST;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_PUT_URI)) return HTTP_PUT;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_DELETE_URI)) return HTTP_DELETE;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI)) return HTTP_HEAD;
    return HTTP_OTHER;
}

/* The session token from "Authorization: Bearer X" or the cr_session
 * cookie, into out ("" if none or too long). */
void http_read_token(struct lws *wsi, char *out, size_t size) {
    char buf[1024];
    out[0] = 0;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION) < (int)sizeof buf &&
        lws_hdr_copy(wsi, buf, sizeof buf, WSI_TOKEN_HTTP_AUTHORIZATION) > 0) {
        if (!strncasecmp(buf, "Bearer ", 7)) {
            const char *t = buf + 7;
            while (*t == ' ') t++;
            if (strlen(t) < size) snprintf(out, size, "%s", t);
        }
        return;
    }
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_COOKIE) >= (int)sizeof buf ||
        lws_hdr_copy(wsi, buf, sizeof buf, WSI_TOKEN_HTTP_COOKIE) <= 0)
        return;
    for (char *p = buf; p && *p;) {
        while (*p == ' ' || *p == ';') p++;
        if (!strncmp(p, "cr_session=", 11)) {
            p += 11;
            size_t n = strcspn(p, ";");
            if (n < size) {
                memcpy(out, p, n);
                out[n] = 0;
            }
            return;
        }
        p = strchr(p, ';');
    }
}

static void peer_of(struct lws *wsi, char *buf, size_t size) {
    if (!lws_get_peer_simple(wsi, buf, size)) snprintf(buf, size, "?");
}

/* The per-account login limit's key: usernames are unique ignoring ASCII
 * case (the store's NOCASE), so "Ada" and "ada" share one window. */
static void login_key(const char *login_user, char *buf, size_t size) {
    snprintf(buf, size, "login-user:%s", login_user);
    for (char *p = buf; *p; p++)
        if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
}

/* Per-address and per-account limits, checked before any work is queued.
 * false with a 429 already queued when a limit is hit. A login that passes
 * reserves one failure on its account before its hash is checked, so
 * attempts in flight count as well: many at once cannot slip past the limit
 * while their answers are pending. http_job_done (or a dispatch that fails)
 * takes the reservation back unless the login failed. */
static bool rate_ok(Server *srv, struct lws *wsi, HttpConn *c, const char *login_user) {
    char peer[64], key[160], ukey[160], hdr[64];
    int64_t now = time(NULL);
    int window = 0, limit = 0;
    if (c->route->rate == RATE_NONE) return true;
    peer_of(wsi, peer, sizeof peer);
    if (c->route->rate == RATE_REGISTER) {
        snprintf(key, sizeof key, "reg:%s", peer);
        window = 600;
        limit = srv->cfg->register_limit > 0 ? srv->cfg->register_limit : 10;
    } else {
        snprintf(key, sizeof key, "login-addr:%s", peer);
        window = LOGIN_ADDR_WINDOW_S;
        limit = LOGIN_ADDR_LIMIT;
        login_key(login_user, ukey, sizeof ukey);
        if (*login_user && ratelimit_count(srv->rl, ukey, now) >= LOGIN_USER_LIMIT) {
            snprintf(hdr, sizeof hdr, "Retry-After: %d\r\n",
                     ratelimit_retry_after(srv->rl, ukey, now));
            respond_error(wsi, c, 429, "rate_limited",
                          "too many failed logins for this account; wait and try again", hdr);
            return false;
        }
    }
    if (ratelimit_add(srv->rl, key, now, window) > limit) {
        snprintf(hdr, sizeof hdr, "Retry-After: %d\r\n", ratelimit_retry_after(srv->rl, key, now));
        respond_error(wsi, c, 429, "rate_limited", "too many requests; wait and try again", hdr);
        return false;
    }
    if (c->route->rate == RATE_LOGIN && *login_user)
        ratelimit_add(srv->rl, ukey, now, LOGIN_USER_WINDOW_S);
    return true;
}

/* Takes back rate_ok's reservation for a login that did not fail. */
static void login_release(Server *srv, const char *login_user) {
    char ukey[160];
    if (!*login_user) return;
    login_key(login_user, ukey, sizeof ukey);
    ratelimit_sub(srv->rl, ukey, time(NULL));
}

static void http_job_done(Job *job, void *loop_ud);

static void run_job(Job *job, void *thread_ctx) {
    HttpJob *j = (HttpJob *)job;
    api_ctx_refresh(thread_ctx);
    j->route->handler((ApiCtx *)thread_ctx, &j->req, &j->res);
    if (!j->res.status) api_error(&j->res, 500, "internal", "the handler gave no answer");
}

/* The request is complete: parse the body, apply limits, queue the job. */
static void dispatch(Server *srv, struct lws *wsi, HttpConn *c) {
    json_t *body = NULL;
    if (srv->stopping) {
        respond_error(wsi, c, 503, "shutting_down", "the server is shutting down", NULL);
        return;
    }
    if (c->body_len) {
        json_error_t jerr;
        body = json_loadb(c->body, c->body_len, JSON_REJECT_DUPLICATES, &jerr);
        if (!body || !json_is_object(body)) {
            char msg[256];
            if (body)
                snprintf(msg, sizeof msg, "the body must be a JSON object");
            else
                snprintf(msg, sizeof msg, "the body is not JSON: %s (line %d, column %d)",
                         jerr.text, jerr.line, jerr.column);
            json_decref(body);
            respond_error(wsi, c, 400, "bad_json", msg, NULL);
            return;
        }
    }
    char login_user[64] = "";
    json_t *u = body ? json_object_get(body, "username") : NULL;
    if (c->route->rate == RATE_LOGIN && json_is_string(u) && json_string_length(u) < 64)
        snprintf(login_user, sizeof login_user, "%s", json_string_value(u));
    if (!rate_ok(srv, wsi, c, login_user)) {
        json_decref(body);
        return;
    }
    HttpJob *j = calloc(1, sizeof *j);
    if (!j) {
        json_decref(body);
        login_release(srv, login_user);
        respond_error(wsi, c, 503, "busy", "out of memory; try again", NULL);
        return;
    }
    j->job.run = run_job;
    j->job.done = http_job_done;
    j->conn = c;
    j->wsi = wsi;
    j->route = c->route;
    j->req.method = c->method;
    j->req.body = body;
    j->req.now = time(NULL);
    snprintf(j->req.query, sizeof j->req.query, "%s", c->query);
    snprintf(j->req.path, sizeof j->req.path, "%s", c->path);
    snprintf(j->login_user, sizeof j->login_user, "%s", login_user);
    int dummy;
    api_route_find(c->method, c->path, &j->req, &dummy);
    http_read_token(wsi, j->req.token, sizeof j->req.token);
    /* Rooms live on this thread: the quick race's pick is made here, the
     * same one the WebSocket quick_race makes (ws.c on_join). */
    Room *best = c->route->handler == api_races_quick ? rooms_pick_quick(srv->rooms) : NULL;
    if (best && (j->req.picked = malloc(sizeof *j->req.picked))) *j->req.picked = *room_spec(best);
    if ((best && !j->req.picked) || workers_submit(srv->lanes[c->route->lane], &j->job)) {
        job_free(j);
        login_release(srv, login_user);
        respond_error(wsi, c, 503, "busy", "the server is busy; try again", "Retry-After: 1\r\n");
        return;
    }
    c->job = j;
}

/* Back on the loop: a login that did not fail gives back its reservation
 * on the per-account limit; the answer goes to the connection if it is
 * still there. */
static void http_job_done(Job *job, void *loop_ud) {
    HttpJob *j = (HttpJob *)job;
    Server *srv = loop_ud;
    if (srv && j->route->rate == RATE_LOGIN && !j->res.login_failed)
        login_release(srv, j->login_user);
    if (srv && j->res.open_room) {
        CrError err = {{0}};
        if (rooms_open(srv->rooms, j->res.open_room, &err)) {
            /* Its database row stays open until the next start marks it
             * aborted; nobody can join it meanwhile. */
            api_error(&j->res, 503, "busy", "%s", err.msg);
        }
    }
    if (srv && j->conn) {
        HttpConn *c = j->conn;
        c->job = NULL;
        respond(j->wsi, c, j->res.status, j->res.content_type, j->res.headers, j->res.body,
                j->res.len);
    } else if (j->conn) {
        j->conn->job = NULL;
    }
    job_free(j);
}

void server_take_done(Server *srv) {
    for (int lane = 0; lane < 2; lane++) {
        Job *list = srv->lanes[lane] ? workers_take_done(srv->lanes[lane]) : NULL;
        while (list) {
            Job *j = list;
            list = list->next;
            j->done(j, srv);
        }
    }
}

/* ---- static files ------------------------------------------------------- */

static const char *mime_of(const char *path) {
    static const struct {
        const char *ext, *mime;
    } T[] = {{".html", "text/html; charset=utf-8"},
             {".js", "text/javascript; charset=utf-8"},
             {".mjs", "text/javascript; charset=utf-8"},
             {".css", "text/css; charset=utf-8"},
             {".json", "application/json"},
             {".map", "application/json"},
             {".svg", "image/svg+xml"},
             {".png", "image/png"},
             {".jpg", "image/jpeg"},
             {".jpeg", "image/jpeg"},
             {".gif", "image/gif"},
             {".ico", "image/x-icon"},
             {".webp", "image/webp"},
             {".wasm", "application/wasm"},
             {".woff", "font/woff"},
             {".woff2", "font/woff2"},
             {".ttf", "font/ttf"},
             {".txt", "text/plain; charset=utf-8"},
             {".py", "text/plain; charset=utf-8"}};
    const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
    if (dot && (!slash || dot > slash))
        for (size_t i = 0; i < sizeof T / sizeof T[0]; i++)
            if (!strcasecmp(dot, T[i].ext)) return T[i].mime;
    return "application/octet-stream";
}

static const char NO_WEB_PAGE[] =
    "<!doctype html><meta charset=utf-8><title>CodeRally</title>"
    "<h1>CodeRally server is running</h1>"
    "<p>The browser client has not been built, so there is nothing to show here yet. "
    "Build it with <code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code> "
    "(it goes to <code>web/dist</code>) and reload this page.</p>"
    "<p>The REST API is under <a href=\"/api/health\">/api/</a> and described in "
    "<code>docs/API.md</code>.</p>\n";

/* Serves path from web_root; never outside it (the resolved real path must
 * lie under the root). Unknown paths without an extension get index.html so
 * the client's own routes work on reload. */
static int serve_static(Server *srv, struct lws *wsi, HttpConn *c, const char *path) {
    if (!srv->have_web) {
        respond(wsi, c, 200, "text/html; charset=utf-8", NULL, NO_WEB_PAGE, sizeof NO_WEB_PAGE - 1);
        return 0;
    }
    if (strstr(path, "..") || strchr(path, '\\') || path[0] != '/') {
        respond_error(wsi, c, 404, "not_found", "no such file", NULL);
        return 0;
    }
    char want[PATH_MAX * 2], real[PATH_MAX];
    snprintf(want, sizeof want, "%s%s", srv->web_root, strcmp(path, "/") ? path : "/index.html");
    struct stat sb;
    if (!realpath(want, real) || stat(real, &sb) || !S_ISREG(sb.st_mode)) {
        const char *slash = strrchr(path, '/');
        if (slash && strchr(slash, '.')) {
            respond_error(wsi, c, 404, "not_found", "no such file", NULL);
            return 0;
        }
        snprintf(want, sizeof want, "%s/index.html", srv->web_root);
        if (!realpath(want, real)) {
            respond_error(wsi, c, 404, "not_found", "no such file", NULL);
            return 0;
        }
    }
    size_t rl = strlen(srv->web_root);
    if (strncmp(real, srv->web_root, rl) || real[rl] != '/') {
        respond_error(wsi, c, 404, "not_found", "no such file", NULL);
        return 0;
    }
    int n = lws_serve_http_file(wsi, real, mime_of(real), NULL, 0);
    if (n < 0) return -1;
    if (n > 0 && lws_http_transaction_completed(wsi)) return -1;
    return 0;
}

/* ---- writing ------------------------------------------------------------ */

static int write_headers(struct lws *wsi, HttpConn *c) {
    unsigned char buf[LWS_PRE + 2048], *start = buf + LWS_PRE, *p = start,
                                       *end = buf + sizeof buf - 1;
    if (lws_add_http_common_headers(wsi, (unsigned)c->status, c->ctype, c->out_len, &p, end))
        return -1;
    if (lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                    (const unsigned char *)"no-store", 8, &p, end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"x-content-type-options:",
                                    (const unsigned char *)"nosniff", 7, &p, end))
        return -1;
    /* Extra "Name: value\r\n" lines from the handler. */
    for (char *line = c->headers; *line;) {
        char *eol = strstr(line, "\r\n"), *colon = strchr(line, ':');
        if (!eol || !colon || colon > eol) break;
        char name[64];
        size_t nl = (size_t)(colon - line);
        if (nl + 2 > sizeof name) break;
        for (size_t i = 0; i < nl; i++)
            name[i] = (char)((line[i] >= 'A' && line[i] <= 'Z') ? line[i] + 32 : line[i]);
        name[nl] = ':';
        name[nl + 1] = 0;
        const char *v = colon + 1;
        while (*v == ' ') v++;
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)name, (const unsigned char *)v,
                                        (int)(eol - v), &p, end))
            return -1;
        line = eol + 2;
    }
    if (lws_finalize_write_http_header(wsi, start, &p, end)) return -1;
    c->headers_sent = true;
    return 0;
}

static int on_writeable(struct lws *wsi, HttpConn *c) {
    if (!c->responding) return 0;
    if (!c->headers_sent) {
        if (write_headers(wsi, c)) return -1;
        if (c->out_len == 0 || c->method == HTTP_HEAD) goto done;
        lws_callback_on_writable(wsi);
        return 0;
    }
    size_t left = c->out_len - c->out_off, n = left > CHUNK ? CHUNK : left;
    bool final = n == left;
    if (lws_write(wsi, c->out + LWS_PRE + c->out_off, n,
                  final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
        return -1;
    c->out_off += n;
    if (!final) {
        lws_callback_on_writable(wsi);
        return 0;
    }
done:
    if (c->close_after) return -1;
    {
        bool close = false;
        c->responding = false;
        free(c->out);
        c->out = NULL;
        if (lws_http_transaction_completed(wsi)) close = true;
        return close ? -1 : 0;
    }
}

/* ---- the callback ------------------------------------------------------- */

static int on_http(Server *srv, struct lws *wsi, HttpConn *c, const char *uri) {
    conn_reset(c);
    c->method = method_of(wsi);
    snprintf(c->path, sizeof c->path, "%s", uri);
    /* lws gives the query string as fragments of WSI_TOKEN_HTTP_URI_ARGS. */
    for (int i = 0, off = 0;; i++) {
        char frag[512];
        int n = lws_hdr_copy_fragment(wsi, frag, sizeof frag, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (n <= 0) break;
        if (off + n + 2 >= (int)sizeof c->query) break;
        off +=
            snprintf(c->query + off, sizeof c->query - (size_t)off, "%s%s", off ? "&" : "", frag);
    }
    if (strncmp(uri, "/api/", 5) && strcmp(uri, "/api")) {
        if (c->method != HTTP_GET && c->method != HTTP_HEAD) {
            respond_error(wsi, c, 405, "method_not_allowed", "only GET here", NULL);
            return 0;
        }
        return serve_static(srv, wsi, c, uri);
    }
    int status = 404;
    c->route = api_route_find(c->method, uri, NULL, &status);
    if (!c->route) {
        respond_error(wsi, c, status, status == 404 ? "not_found" : "method_not_allowed",
                      status == 404 ? "no such route" : "that method is not allowed here", NULL);
        return 0;
    }
    char cl[32];
    long long expect = 0;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0 &&
        lws_hdr_copy(wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0) {
        char *end;
        expect = strtoll(cl, &end, 10);
        if (*end || expect < 0) expect = -1;
    }
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0) {
        /* Bodies are capped before they are read, so their length must be
         * known up front. */
        c->close_after = true;
        respond_error(wsi, c, 411, "length_required",
                      "send the body with a Content-Length, not chunked", "Connection: close\r\n");
        return 0;
    }
    if (expect < 0 || (size_t)expect > c->route->body_max) {
        /* Refused before reading it; the connection closes after the answer
         * since the unread body would otherwise be taken as the next request. */
        c->close_after = true;
        char msg[128];
        snprintf(msg, sizeof msg, "the body is over %zu bytes", c->route->body_max);
        respond_error(wsi, c, 413, "body_too_large", msg, "Connection: close\r\n");
        return 0;
    }
    if (expect > 0) {
        c->body_expect = (size_t)expect;
        c->body = malloc(c->body_expect + 1);
        if (!c->body) return -1;
        return 0; /* LWS_CALLBACK_HTTP_BODY follows */
    }
    dispatch(srv, wsi, c);
    return 0;
}

int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                  size_t len) {
    HttpConn *c = user;
    Server *srv = server_of(wsi);
    switch (reason) {
        case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
            /* A worker finished something (or a signal came). */
            if (srv) server_take_done(srv);
            return 0;
        case LWS_CALLBACK_HTTP:
            return on_http(srv, wsi, c, in);
        case LWS_CALLBACK_HTTP_BODY:
            if (!c->body || c->responding) return 0;
            if (c->body_len + len > c->body_expect) {
                c->close_after = true;
                respond_error(wsi, c, 413, "body_too_large", "the body is longer than announced",
                              NULL);
                return 0;
            }
            memcpy(c->body + c->body_len, in, len);
            c->body_len += len;
            return 0;
        case LWS_CALLBACK_HTTP_BODY_COMPLETION:
            if (c->responding || c->job) return 0;
            dispatch(srv, wsi, c);
            return 0;
        case LWS_CALLBACK_HTTP_WRITEABLE:
            return on_writeable(wsi, c);
        case LWS_CALLBACK_HTTP_FILE_COMPLETION:
            if (lws_http_transaction_completed(wsi)) return -1;
            return 0;
        case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
            /* A WebSocket upgrade that named no protocol, or not ours, lands on
             * this first (default) protocol: refuse it. */
            return -1;
        case LWS_CALLBACK_CLOSED_HTTP:
        case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
            if (c) conn_reset(c);
            return 0;
        default:
            break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}
