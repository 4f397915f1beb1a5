/* api_bots.c - a player's bots: every save is checked by the sandbox first
 * and becomes a new version; only the owner ever sees a bot. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "bot_link.h"

#define BOT_NAME_MAX 40
#define BOT_CODE_MAX (200 * 1024)
#define BOTS_LIST_MAX 200
#define VERSIONS_MAX 1000

struct BotChecker {
    pthread_mutex_t mu;
    BotHost *host;
};

int bot_checker_create(const char *botd_path, BotChecker **out, CrError *err) {
    *out = NULL;
    BotChecker *bc = calloc(1, sizeof *bc);
    if (!bc) return CR_ENOMEM;
    int r = bot_host_start(botd_path, &bc->host, err);
    if (r) {
        free(bc);
        return r;
    }
    pthread_mutex_init(&bc->mu, NULL);
    *out = bc;
    return 0;
}

void bot_checker_destroy(BotChecker *bc) {
    if (!bc) return;
    bot_host_stop(bc->host);
    pthread_mutex_destroy(&bc->mu);
    free(bc);
}

int bot_checker_check(BotChecker *bc, const char *src, size_t len, char **problems, CrError *err) {
    pthread_mutex_lock(&bc->mu);
    int r = bot_check_source(bc->host, src, len, problems, err);
    pthread_mutex_unlock(&bc->mu);
    return r;
}

static json_t *bot_json(const StoreBot *b, bool with_code) {
    json_t *o = json_pack("{s:I,s:s,s:i,s:I,s:I}", "id", (json_int_t)b->id, "name", b->name,
                          "version", b->version, "created_at", (json_int_t)b->created_at,
                          "updated_at", (json_int_t)b->updated_at);
    if (with_code && b->code) json_object_set_new(o, "code", json_string(b->code));
    return o;
}

/* Runs the sandbox's check on code. true if it passes; otherwise res holds
 * the 422 with every problem and its line (or a 500/503). */
static bool check_code(ApiCtx *ctx, const char *code, ApiResponse *res) {
    char *problems = NULL;
    CrError err = {{0}};
    if (!ctx->bots) {
        api_error(res, 503, "busy", "the bot sandbox is not running on this server");
        return false;
    }
    if (bot_checker_check(ctx->bots, code, strlen(code), &problems, &err)) {
        api_internal(res, "bot check", &err);
        return false;
    }
    if (!problems || !*problems) {
        free(problems);
        return true;
    }
    json_t *arr = json_array();
    char *save = NULL;
    for (char *line = strtok_r(problems, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *end;
        long ln = strtol(line, &end, 10);
        const char *msg = line;
        if (end != line && *end == ':') {
            msg = end + 1;
            while (*msg == ' ') msg++;
        } else {
            ln = 0;
        }
        json_array_append_new(arr, json_pack("{s:i,s:s}", "line", (int)ln, "message", msg));
    }
    free(problems);
    size_t n = json_array_size(arr);
    json_t *first = json_array_get(arr, 0);
    char msg[512];
    snprintf(msg, sizeof msg, "the bot was not saved: %zu problem%s, the first on line %d: %s", n,
             n == 1 ? "" : "s", (int)json_integer_value(json_object_get(first, "line")),
             json_string_value(json_object_get(first, "message")));
    api_json(res, 422,
             json_pack("{s:{s:s,s:s,s:o}}", "error", "code", "bot_rejected", "message", msg,
                       "problems", arr));
    return false;
}

static bool get_name_code(ApiRequest *req, ApiResponse *res, bool name_required, const char **name,
                          const char **code) {
    return api_get_string(req, res, "name", name_required, 1, BOT_NAME_MAX, name) &&
           api_get_string(req, res, "code", true, 1, BOT_CODE_MAX, code);
}

void api_bots_create(ApiCtx *ctx, ApiRequest *req, ApiResponse *res) {
    if (!api_authenticate(ctx, req, res)) return;
    const char *name, *code;
    if (!get_name_code(req, res, true, &name, &code)) return;
    if (!check_code(ctx, code, res)) return;
    StoreBot b;
    CrError err = {{0}};
    if (store_bot_create(ctx->store, req->user.id, name, code, &b, &err)) {
        api_internal(res, "save bot", &err);
        return;
    }
    api_json(res, 201, json_pack("{s:o}", "bot", bot_json(&b, false)));
}

void api_bots_update(ApiCtx *ctx, ApiRequest *req, ApiResponse *res) {
    if (!api_authenticate(ctx, req, res)) return;
    int64_t id;
    if (!api_get_int_param(req, res, 0, "bot", &id)) return;
    const char *name, *code;
    if (!get_name_code(req, res, false, &name, &code)) return;
    StoreBot b = {0};
    CrError err = {{0}};
    /* Ownership first, so someone else's id is a 404 before any checking. */
    int r = store_bot_get(ctx->store, req->user.id, id, 0, &b, &err);
    free(b.code);
    if (r == CR_ENOTFOUND) {
        api_error(res, 404, "not_found", "no such bot");
        return;
    }
    if (r) {
        api_internal(res, "get bot", &err);
        return;
    }
    if (!check_code(ctx, code, res)) return;
    r = store_bot_update(ctx->store, req->user.id, id, name, code, &b, &err);
    if (r == CR_ENOTFOUND) {
        api_error(res, 404, "not_found", "no such bot");
        return;
    }
    if (r) {
        api_internal(res, "update bot", &err);
        return;
    }
    api_json(res, 200, json_pack("{s:o}", "bot", bot_json(&b, false)));
}

void api_bots_list(ApiCtx *ctx, ApiRequest *req, ApiResponse *res) {
    if (!api_authenticate(ctx, req, res)) return;
    StoreBot *bots = calloc(BOTS_LIST_MAX, sizeof *bots);
    size_t n = 0;
    CrError err = {{0}};
    if (!bots || store_bots_list(ctx->store, req->user.id, bots, BOTS_LIST_MAX, &n, &err)) {
        free(bots);
        api_internal(res, "list bots", &err);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(arr, bot_json(&bots[i], false));
    free(bots);
    api_json(res, 200, json_pack("{s:o}", "bots", arr));
}

void api_bots_get(ApiCtx *ctx, ApiRequest *req, ApiResponse *res) {
    if (!api_authenticate(ctx, req, res)) return;
    int64_t id;
    if (!api_get_int_param(req, res, 0, "bot", &id)) return;
    StoreBot b = {0};
    CrError err = {{0}};
    int r = store_bot_get(ctx->store, req->user.id, id, 0, &b, &err);
    char *mem = NULL;
    /* Only now that the bot is known to be the user's: its memory. */
    if (!r) r = store_bot_state_get(ctx->store, id, &mem, &err);
    if (r == CR_ENOTFOUND) {
        api_error(res, 404, "not_found", "no such bot");
    } else if (r) {
        api_internal(res, "get bot", &err);
    } else {
        json_t *o = bot_json(&b, true);
        /* The sandbox wrote it as JSON; anything else would be a bug there,
         * shown as null rather than failing the read of the code. */
        json_t *m = mem ? json_loads(mem, JSON_DECODE_ANY, NULL) : NULL;
        json_object_set_new(o, "memory", m ? m : json_null());
        /* The bot's own numbers, exactly as it kept them. */
        res->real_precision = 17;
        api_json(res, 200, json_pack("{s:o}", "bot", o));
    }
    free(mem);
    free(b.code);
}

void api_bots_delete(ApiCtx *ctx, ApiRequest *req, ApiResponse *res) {
    if (!api_authenticate(ctx, req, res)) return;
    int64_t id;
    if (!api_get_int_param(req, res, 0, "bot", &id)) return;
    CrError err = {{0}};
    int r = store_bot_delete(ctx->store, req->user.id, id, &err);
    if (r == CR_ENOTFOUND)
        api_error(res, 404, "not_found", "no such bot");
    else if (r)
        api_internal(res, "delete bot", &err);
    else
        api_no_content(res);
}

void api_bots_versions(ApiCtx *ctx, ApiRequest *req, ApiResponse *res) {
    if (!api_authenticate(ctx, req, res)) return;
    int64_t id;
    if (!api_get_int_param(req, res, 0, "bot", &id)) return;
    int *versions = calloc(VERSIONS_MAX, sizeof *versions);
    int64_t *times = calloc(VERSIONS_MAX, sizeof *times);
    size_t n = 0;
    CrError err = {{0}};
    int r = versions && times ? store_bot_versions(ctx->store, req->user.id, id, versions, times,
                                                   VERSIONS_MAX, &n, &err)
                              : CR_ENOMEM;
    if (r == CR_ENOTFOUND) {
        api_error(res, 404, "not_found", "no such bot");
    } else if (r) {
        api_internal(res, "bot versions", &err);
    } else {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, json_pack("{s:i,s:I}", "version", versions[i], "created_at",
                                                 (json_int_t)times[i]));
        api_json(res, 200, json_pack("{s:o}", "versions", arr));
    }
    free(versions);
    free(times);
}

void api_bots_version(ApiCtx *ctx, ApiRequest *req, ApiResponse *res) {
    if (!api_authenticate(ctx, req, res)) return;
    int64_t id, v;
    if (!api_get_int_param(req, res, 0, "bot", &id)) return;
    if (!api_get_int_param(req, res, 1, "version", &v)) return;
    if (v > 1000000000) {
        api_error(res, 404, "not_found", "no such version");
        return;
    }
    StoreBot b = {0};
    CrError err = {{0}};
    int r = store_bot_get(ctx->store, req->user.id, id, (int)v, &b, &err);
    if (r == CR_ENOTFOUND) {
        api_error(res, 404, "not_found", "%s", err.msg);
    } else if (r) {
        api_internal(res, "bot version", &err);
    } else {
        api_json(res, 200,
                 json_pack("{s:{s:i,s:s,s:I}}", "version", "version", b.version, "code", b.code,
                           "created_at", (json_int_t)b.created_at));
    }
    free(b.code);
}
