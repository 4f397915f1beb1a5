/* errors.c - names of error codes, surfaces and car kinds; error messages. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "coderally.h"

int cr_fail(CrError *err, int code, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

const char *cr_strerror(int err) {
    switch (err) {
        case CR_OK:
            return "ok";
        case CR_ENOMEM:
            return "out of memory";
        case CR_EINVAL:
            return "invalid argument";
        case CR_ESCRIPT:
            return "script error";
        case CR_ESTAGE:
            return "invalid stage";
        case CR_EIO:
            return "i/o error";
        case CR_ENOTFOUND:
            return "not found";
        case CR_EFORMAT:
            return "malformed file";
        case CR_EMISMATCH:
            return "mismatch";
        default:
            return "unknown error";
    }
}

const char *surface_name(Surface s) {
    return surface_table_name(surface_table_default(), s);
}

int surface_parse(const char *name, Surface *out) {
    int i = surface_table_find(surface_table_default(), name);
    if (i < 0) return CR_ENOTFOUND;
    *out = i;
    return CR_OK;
}

const char *car_kind_name(CarKind kind) {
    switch (kind) {
        case CAR_AI:
            return "ai";
        case CAR_BOT:
            return "bot";
        case CAR_HUMAN:
            return "human";
    }
    return "unknown";
}
