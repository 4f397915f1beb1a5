/* api_garage.c - the garage: my cars, unlocking a car type, buying an
 * upgrade level. Waits for the upgrades API of the scripts (names, prices,
 * max levels) to land; until then every route says so. */
#include "api.h"

static void pending(ApiCtx *ctx, ApiRequest *req, ApiResponse *res) {
    if (!api_authenticate(ctx, req, res)) return;
    api_error(res, 501, "not_implemented",
              "the garage needs the upgrades API of the scripts, which has not landed yet");
}

void api_garage_get(ApiCtx *ctx, ApiRequest *req, ApiResponse *res) {
    pending(ctx, req, res);
}
void api_garage_unlock(ApiCtx *ctx, ApiRequest *req, ApiResponse *res) {
    pending(ctx, req, res);
}
void api_garage_upgrade(ApiCtx *ctx, ApiRequest *req, ApiResponse *res) {
    pending(ctx, req, res);
}
