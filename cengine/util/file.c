/* file.c - whole-file reads with a cap. */
#include "util/file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int file_read(const char *path, size_t max, char **out, size_t *len, CrError *err) {
    *out = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        snprintf(err->msg, sizeof err->msg, "%s: %s", path, strerror(e));
        return e == ENOENT ? CR_ENOTFOUND : CR_EIO;
    }
    /* Grow as the file does, so a large cap costs nothing for a small file. */
    size_t cap = 0, n = 0, want = max + 1;
    char *buf = NULL;
    int rc = CR_OK;
    while (n < want) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16384;
            if (cap > want) cap = want;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                snprintf(err->msg, sizeof err->msg, "%s: out of memory", path);
                rc = CR_ENOMEM;
                break;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    if (rc == CR_OK && ferror(f)) {
        snprintf(err->msg, sizeof err->msg, "%s: read error", path);
        rc = CR_EIO;
    }
    fclose(f);
    if (rc == CR_OK && !buf && !(buf = malloc(1))) rc = CR_ENOMEM;
    if (rc) {
        free(buf);
        return rc;
    }
    buf[n] = 0;
    *out = buf;
    *len = n;
    return CR_OK;
}
