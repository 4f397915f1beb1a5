/* seat.c - resolving a join: the user's own car (upgraded stats from the
 * scripts) and own bot (latest version, memory). Runs on a worker. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_internal.h"

void seat_fini(Seat *s) {
    free(s->bot_code);
    free(s->bot_memory);
    s->bot_code = s->bot_memory = NULL;
}

int seat_resolve(ApiCtx *ctx, const StoreUser *user, int64_t car_id, int64_t bot_id, Seat *seat,
                 CrError *err) {
    memset(seat, 0, sizeof *seat);
    seat->user_id = user->id;
    snprintf(seat->username, sizeof seat->username, "%s", user->username);
    StoreCar car;
    int r = store_car_get(ctx->store, user->id, car_id, &car, err);
    if (r == CR_ENOTFOUND) {
        snprintf(err->msg, sizeof err->msg, "car %lld is not one of yours", (long long)car_id);
        return CR_ENOTFOUND;
    }
    if (r) return r;
    UpgradeLevel ul[STORE_UPGRADE_STATS];
    size_t nl = 0;
    for (int i = 0; i < STORE_UPGRADE_STATS; i++) {
        const UpgradeInfo *u;
        CrError ignore;
        if (scripts_find_upgrade(ctx->scripts, STORE_UPGRADE_STAT_NAMES[i], &u, &ignore)) continue;
        ul[nl].stat = STORE_UPGRADE_STAT_NAMES[i];
        ul[nl].level = car.levels[i] < u->max_level ? car.levels[i] : u->max_level;
        nl++;
    }
    seat->car_id = car.id;
    snprintf(seat->car.name, sizeof seat->car.name, "%.*s", CR_NAME_MAX - 1, user->username);
    snprintf(seat->car.car_type, sizeof seat->car.car_type, "%s", car.car_type);
    seat->car.kind = bot_id ? CAR_BOT : CAR_HUMAN;
    if ((r = scripts_car_stats(ctx->scripts, car.car_type, ul, nl, &seat->car.stats, err)))
        return r;
    if (bot_id) {
        StoreBot b = {0};
        r = store_bot_get(ctx->store, user->id, bot_id, 0, &b, err);
        if (r == CR_ENOTFOUND) {
            snprintf(err->msg, sizeof err->msg, "bot %lld is not one of yours", (long long)bot_id);
            return CR_ENOTFOUND;
        }
        if (r) return r;
        seat->bot_id = b.id;
        seat->bot_version = b.version;
        seat->bot_code = b.code;
        if ((r = store_bot_state_get(ctx->store, b.id, &seat->bot_memory, err))) {
            seat_fini(seat);
            return r;
        }
    }
    return 0;
}
