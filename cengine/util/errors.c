/* errors.c - names of error codes, surfaces and car kinds. */
#include <string.h>

#include "coderally.h"

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

static const char *const SURFACE_NAMES[SURFACE_COUNT] = {"asphalt", "gravel", "ice", "offroad"};

const char *surface_name(Surface s) {
    return (unsigned)s < SURFACE_COUNT ? SURFACE_NAMES[s] : "unknown";
}

int surface_parse(const char *name, Surface *out) {
    for (int i = 0; i < SURFACE_OFFROAD; i++) {
        if (strcmp(name, SURFACE_NAMES[i]) == 0) {
            *out = (Surface)i;
            return CR_OK;
        }
    }
    return CR_ENOTFOUND;
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
