/*
 * jsonw.h - a JSON writer into the caller's fixed buffer, for the messages
 * built on the tick path (game_state, 20 per second per room): no
 * allocation and no tree, and numbers formatted exactly as jansson's
 * json_dumps(JSON_REAL_PRECISION(7)) does, so the bytes are those the
 * jansson encoder produced. Commas are placed for the caller. An overflow is
 * sticky and reported once, by jsonw_finish.
 *
 *   JsonW w; jsonw_init(&w, buf, sizeof buf);
 *   jsonw_object(&w); jsonw_kint(&w, "id", 3); jsonw_kreal(&w, "x", 1.5); jsonw_end_object(&w);
 *   -> {"id":3,"x":1.5}
 */
#ifndef CR_SERVER_JSONW_H
#define CR_SERVER_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *buf;
    size_t cap, len;
    bool comma; /* a value was written at this level: the next one needs a ',' */
    bool overflow;
} JsonW;

void jsonw_init(JsonW *w, char *buf, size_t cap);
void jsonw_object(JsonW *w);
void jsonw_end_object(JsonW *w);
void jsonw_array(JsonW *w);
void jsonw_end_array(JsonW *w);
/* A member's name; the next value is its value. */
void jsonw_key(JsonW *w, const char *key);
void jsonw_int(JsonW *w, int64_t v);
/* "%.7g" as jansson writes it (a ".0" when it would read as an integer,
 * no '+' or leading zeros in the exponent); NaN and infinities, which JSON
 * cannot carry, are written as null. */
void jsonw_real(JsonW *w, double v);
void jsonw_string(JsonW *w, const char *s);
void jsonw_null(JsonW *w);
/* A member in one call each. */
void jsonw_kint(JsonW *w, const char *key, int64_t v);
void jsonw_kreal(JsonW *w, const char *key, double v);
void jsonw_kstring(JsonW *w, const char *key, const char *s);
/* 0 and the length written (not NUL-terminated), or CR_ENOMEM if the
 * buffer was too small. */
int jsonw_finish(const JsonW *w, size_t *len);

#endif
