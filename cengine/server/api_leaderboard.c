/* api_leaderboard.c - players by points (bots by rating come with the ladder). */
#include <stdlib.h>

#include "api.h"

void api_leaderboard_players(ApiCtx *ctx, ApiRequest *req, ApiResponse *res) {
    char buf[16];
    long limit = 50;
    if (api_query(req, "limit", buf, sizeof buf)) {
        char *end;
        limit = strtol(buf, &end, 10);
        if (!*buf || *end || limit < 1 || limit > 100) {
            api_error(res, 400, "bad_field", "'limit' must be a whole number from 1 to 100");
            return;
        }
    }
    StorePlayerRank rows[100];
    size_t n = 0;
    CrError err = {{0}};
    if (store_leaderboard_players(ctx->store, rows, (size_t)limit, &n, &err)) {
        api_internal(res, "leaderboard", &err);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            arr, json_pack("{s:i,s:s,s:I,s:i,s:i}", "rank", rows[i].rank, "username",
                           rows[i].username, "points", (json_int_t)rows[i].points, "races",
                           rows[i].races, "wins", rows[i].wins));
    api_json(res, 200, json_pack("{s:o}", "players", arr));
}

void api_leaderboard_bots(ApiCtx *ctx, ApiRequest *req, ApiResponse *res) {
    char buf[16];
    long limit = 50;
    if (api_query(req, "limit", buf, sizeof buf)) {
        char *end;
        limit = strtol(buf, &end, 10);
        if (!*buf || *end || limit < 1 || limit > 100) {
            api_error(res, 400, "bad_field", "'limit' must be a whole number from 1 to 100");
            return;
        }
    }
    StoreBotRank rows[100];
    size_t n = 0;
    CrError err = {{0}};
    if (store_leaderboard_bots(ctx->store, rows, (size_t)limit, &n, &err)) {
        api_internal(res, "bot leaderboard", &err);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        const StoreBotRank *b = &rows[i];
        json_array_append_new(
            arr, json_pack("{s:i,s:I,s:i,s:s,s:s,s:f,s:f,s:f,s:i}", "rank", b->rank, "bot_id",
                           (json_int_t)b->bot_id, "version", b->version, "name", b->name, "owner",
                           b->owner, "rating", b->mu - 3 * b->sigma, "mu", b->mu, "sigma", b->sigma,
                           "races", b->races));
    }
    api_json(res, 200, json_pack("{s:o}", "bots", arr));
}
