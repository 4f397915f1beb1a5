/* api.c - what every REST handler shares: the route table, JSON responses,
 * errors, field validation, sessions. */
#include "api.h"

#include <ctype.h>
#include <stdatomic.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KB 1024

static const ApiRoute ROUTES[] = {
    {HTTP_GET, "/api/health", api_health, LANE_FAST, false, 0, RATE_NONE},
    {HTTP_GET, "/api/stats", api_stats, LANE_FAST, false, 0, RATE_NONE},
    {HTTP_POST, "/api/auth/register", api_auth_register, LANE_SLOW, false, 4 * KB, RATE_REGISTER},
    {HTTP_POST, "/api/auth/login", api_auth_login, LANE_SLOW, false, 4 * KB, RATE_LOGIN},
    {HTTP_POST, "/api/auth/logout", api_auth_logout, LANE_FAST, true, 4 * KB, RATE_NONE},
    {HTTP_GET, "/api/me", api_me, LANE_FAST, true, 0, RATE_NONE},
    {HTTP_GET, "/api/garage", api_garage_get, LANE_FAST, true, 0, RATE_NONE},
    {HTTP_POST, "/api/garage/unlock", api_garage_unlock, LANE_FAST, true, 4 * KB, RATE_NONE},
    {HTTP_POST, "/api/garage/cars/{}/upgrade", api_garage_upgrade, LANE_FAST, true, 4 * KB,
     RATE_NONE},
    {HTTP_GET, "/api/bots", api_bots_list, LANE_FAST, true, 0, RATE_NONE},
    {HTTP_POST, "/api/bots", api_bots_create, LANE_SLOW, true, 256 * KB, RATE_NONE},
    {HTTP_GET, "/api/bots/{}", api_bots_get, LANE_FAST, true, 0, RATE_NONE},
    {HTTP_PUT, "/api/bots/{}", api_bots_update, LANE_SLOW, true, 256 * KB, RATE_NONE},
    {HTTP_DELETE, "/api/bots/{}", api_bots_delete, LANE_FAST, true, 0, RATE_NONE},
    {HTTP_GET, "/api/bots/{}/versions", api_bots_versions, LANE_FAST, true, 0, RATE_NONE},
    {HTTP_GET, "/api/bots/{}/versions/{}", api_bots_version, LANE_FAST, true, 0, RATE_NONE},
    {HTTP_GET, "/api/stages/generators", api_stages_generators, LANE_FAST, false, 0, RATE_NONE},
    {HTTP_GET, "/api/stages/{}", api_stages_get, LANE_FAST, false, 0, RATE_NONE},
    {HTTP_GET, "/api/races", api_races_list, LANE_FAST, false, 0, RATE_NONE},
    {HTTP_POST, "/api/races", api_races_create, LANE_FAST, true, 4 * KB, RATE_NONE},
    {HTTP_POST, "/api/races/quick", api_races_quick, LANE_FAST, true, 4 * KB, RATE_NONE},
    {HTTP_GET, "/api/races/{}", api_races_get, LANE_FAST, false, 0, RATE_NONE},
    {HTTP_GET, "/api/races/{}/results", api_races_results, LANE_FAST, false, 0, RATE_NONE},
    {HTTP_GET, "/api/races/{}/replay", api_races_replay, LANE_FAST, false, 0, RATE_NONE},
    /* Re-simulates the whole race: CPU work, so the slow lane. */
    {HTTP_GET, "/api/races/{}/replay.json", api_races_replay_json, LANE_SLOW, false, 0, RATE_NONE},
    {HTTP_GET, "/api/rules", api_rules_list, LANE_FAST, false, 0, RATE_NONE},
    {HTTP_GET, "/api/rules/{}", api_rules_get, LANE_FAST, false, 0, RATE_NONE},
    {HTTP_GET, "/api/replays/local", api_replays_local, LANE_FAST, false, 0, RATE_NONE},
    {HTTP_GET, "/api/leaderboard/bots", api_leaderboard_bots, LANE_FAST, false, 0, RATE_NONE},
    {HTTP_GET, "/api/leaderboard/players", api_leaderboard_players, LANE_FAST, false, 0, RATE_NONE},
};

/* Matches path against pattern segment by segment; "{}" takes any one
 * non-empty segment into req->params. */
static bool match(const char *pattern, const char *path, ApiRequest *req) {
    int np = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (p[0] == '{' && p[1] == '}') {
            size_t n = strcspn(s, "/");
            if (n == 0 || n >= sizeof req->params[0] || np == API_MAX_PARAMS) return false;
            if (req) {
                memcpy(req->params[np], s, n);
                req->params[np][n] = 0;
            }
            np++;
            s += n;
            p += 2;
        } else if (*p == *s) {
            p++;
            s++;
        } else {
            return false;
        }
    }
    return !*p && !*s;
}

const ApiRoute *api_route_find(int method, const char *path, ApiRequest *req, int *status) {
    bool path_known = false;
    size_t n = sizeof ROUTES / sizeof ROUTES[0];
    /* HEAD is GET without the body. */
    int m = method == HTTP_HEAD ? HTTP_GET : method;
    for (size_t i = 0; i < n; i++) {
        if (!match(ROUTES[i].pattern, path, NULL)) continue;
        path_known = true;
        if (ROUTES[i].method == m) {
            match(ROUTES[i].pattern, path, req);
            return &ROUTES[i];
        }
    }
    *status = path_known ? 405 : 404;
    return NULL;
}

void api_header(ApiResponse *res, const char *name, const char *value) {
    size_t used = strlen(res->headers);
    snprintf(res->headers + used, sizeof res->headers - used, "%s: %s\r\n", name, value);
}

void api_json(ApiResponse *res, int status, json_t *obj) {
    free(res->body);
    int prec = res->real_precision > 0 ? res->real_precision : 10;
    res->body = obj ? json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(prec)) : NULL;
    json_decref(obj);
    if (!res->body) {
        res->status = 500;
        res->body = strdup("{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}");
    } else {
        res->status = status;
    }
    res->len = res->body ? strlen(res->body) : 0;
    res->content_type = "application/json";
}

void api_error(ApiResponse *res, int status, const char *code, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    api_json(res, status, json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg));
}

void api_no_content(ApiResponse *res) {
    free(res->body);
    res->body = NULL;
    res->len = 0;
    res->status = 204;
    res->content_type = "application/json";
}

void api_internal(ApiResponse *res, const char *what, const CrError *err) {
    fprintf(stderr, "[server] %s: %s\n", what, err ? err->msg : "?");
    api_error(res, 500, "internal", "internal error (%s)", what);
}

bool api_utf8_ok(const char *s, size_t len) {
    /* jansson has already rejected invalid UTF-8 in strings; NUL is the
     * one thing it lets through (as \u0000). */
    return memchr(s, 0, len) == NULL;
}

bool api_get_string(ApiRequest *req, ApiResponse *res, const char *field, bool required,
                    size_t min_len, size_t max_len, const char **out) {
    *out = NULL;
    json_t *v = req->body ? json_object_get(req->body, field) : NULL;
    if (!v || json_is_null(v)) {
        if (!required) return true;
        api_error(res, 400, "bad_field", "'%s' is required", field);
        return false;
    }
    if (!json_is_string(v)) {
        api_error(res, 400, "bad_field", "'%s' must be a string", field);
        return false;
    }
    size_t len = json_string_length(v);
    if (!api_utf8_ok(json_string_value(v), len)) {
        api_error(res, 400, "bad_field", "'%s' must not contain NUL characters", field);
        return false;
    }
    if (len < min_len || len > max_len) {
        api_error(res, 400, "bad_field", "'%s' must be %zu to %zu bytes long", field, min_len,
                  max_len);
        return false;
    }
    *out = json_string_value(v);
    return true;
}

bool api_get_int_param(ApiRequest *req, ApiResponse *res, int index, const char *what,
                       int64_t *out) {
    const char *s = req->params[index];
    int64_t v = 0;
    if (!*s || strlen(s) > 15) goto bad;
    for (const char *c = s; *c; c++) {
        if (!isdigit((unsigned char)*c)) goto bad;
        v = v * 10 + (*c - '0');
    }
    if (v <= 0) goto bad;
    *out = v;
    return true;
bad:
    api_error(res, 404, "not_found", "no such %s", what);
    return false;
}

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool api_query(const ApiRequest *req, const char *name, char *buf, size_t size) {
    size_t nlen = strlen(name);
    const char *q = req->query;
    while (*q) {
        const char *amp = strchr(q, '&');
        size_t seg = amp ? (size_t)(amp - q) : strlen(q);
        if (seg > nlen && !strncmp(q, name, nlen) && q[nlen] == '=') {
            const char *v = q + nlen + 1, *end = q + seg;
            size_t o = 0;
            while (v < end && o + 1 < size) {
                if (*v == '%' && end - v >= 3 && hexval(v[1]) >= 0 && hexval(v[2]) >= 0) {
                    buf[o++] = (char)(hexval(v[1]) * 16 + hexval(v[2]));
                    v += 3;
                } else {
                    buf[o++] = *v == '+' ? ' ' : *v;
                    v++;
                }
            }
            buf[o] = 0;
            return true;
        }
        if (!amp) break;
        q = amp + 1;
    }
    return false;
}

/* A token is 32 hex characters of selector and 64 of secret verifier; the
 * database keeps the selector and BLAKE2b-256 of the verifier. */
bool api_authenticate(ApiCtx *ctx, ApiRequest *req, ApiResponse *res) {
    const char *t = req->token;
    uint8_t verifier[32], want[32], got[32];
    char selector[33];
    int64_t user_id = 0, expires = 0;
    CrError err = {{0}};
    if (strlen(t) != 96) goto unauthorized;
    for (int i = 0; i < 96; i++)
        if (hexval(t[i]) < 0) goto unauthorized;
    memcpy(selector, t, 32);
    selector[32] = 0;
    for (int i = 0; i < 32; i++)
        verifier[i] = (uint8_t)(hexval(t[32 + 2 * i]) * 16 + hexval(t[33 + 2 * i]));
    int r = store_session_get(ctx->store, selector, want, &user_id, &expires, &err);
    if (r == CR_ENOTFOUND) goto unauthorized;
    if (r) {
        api_internal(res, "session lookup", &err);
        return false;
    }
    crypto_generichash(got, sizeof got, verifier, sizeof verifier, NULL, 0);
    if (sodium_memcmp(got, want, sizeof got) != 0) goto unauthorized;
    if (expires <= req->now) {
        api_error(res, 401, "unauthorized", "your session has expired; log in again");
        return false;
    }
    r = store_user_get(ctx->store, user_id, &req->user, &err);
    if (r == CR_ENOTFOUND) goto unauthorized;
    if (r) {
        api_internal(res, "user lookup", &err);
        return false;
    }
    return true;
unauthorized:
    api_error(res, 401, "unauthorized", "log in first (no valid session)");
    return false;
}

void api_ctx_refresh(ApiCtx *ctx) {
    Scripts *next = atomic_exchange(&ctx->pending_scripts, NULL);
    if (!next) return;
    scripts_close(ctx->scripts);
    ctx->scripts = next;
}

void api_health(ApiCtx *ctx, ApiRequest *req, ApiResponse *res) {
    (void)req;
    api_json(res, 200,
             json_pack("{s:b,s:i,s:i}", "ok", 1, "protocol", 1, "schema",
                       store_schema_version(ctx->store)));
}
