/* api_replays.c - GET /api/replays/local: the one replay file that
 * `coderally replay view FILE` hands to its local server, so the browser's
 * replay viewer can open a race run from the CLI. Other servers have none. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

/* Replays are a few dozen KB a minute; a file far beyond that is not one. */
#define LOCAL_REPLAY_MAX (64L * 1024 * 1024)

void api_replays_local(ApiCtx *ctx, ApiRequest *req, ApiResponse *res) {
    (void)req;
    const char *path = ctx->settings->replay_file;
    if (!path) {
        api_error(res, 404, "not_found", "this server serves no local replay");
        return;
    }
    char *data = NULL;
    errno = 0;
    FILE *f = fopen(path, "rb");
    if (!f) goto fail;
    if (fseek(f, 0, SEEK_END) != 0) goto fail;
    long n = ftell(f);
    if (n < 0 || n > LOCAL_REPLAY_MAX || fseek(f, 0, SEEK_SET) != 0) goto fail;
    data = malloc(n ? (size_t)n : 1);
    if (!data || fread(data, 1, (size_t)n, f) != (size_t)n) goto fail;
    fclose(f);
    free(res->body);
    res->body = data;
    res->len = (size_t)n;
    res->status = 200;
    res->content_type = "application/octet-stream";
    api_header(res, "Content-Disposition", "attachment; filename=\"local.replay\"");
    return;
fail:;
    char msg[160];
    snprintf(msg, sizeof msg, "cannot read the replay file (%s)",
             errno ? strerror(errno) : "too large");
    free(data);
    if (f) fclose(f);
    api_error(res, 404, "not_found", "%s", msg);
}
