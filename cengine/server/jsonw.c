/* jsonw.c - the fixed-buffer JSON writer (jsonw.h). */
#include "jsonw.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "coderally.h"

void jsonw_init(JsonW *w, char *buf, size_t cap) {
    *w = (JsonW){.buf = buf, .cap = cap};
}

static void put(JsonW *w, const char *s, size_t n) {
    if (w->overflow || w->len + n > w->cap) {
        w->overflow = true;
        return;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

static void putc_(JsonW *w, char c) {
    put(w, &c, 1);
}

/* Before any value or member: the comma that separates it from the last. */
static void sep(JsonW *w) {
    if (w->comma) putc_(w, ',');
    w->comma = false;
}

void jsonw_object(JsonW *w) {
    sep(w);
    putc_(w, '{');
}

void jsonw_end_object(JsonW *w) {
    putc_(w, '}');
    w->comma = true;
}

void jsonw_array(JsonW *w) {
    sep(w);
    putc_(w, '[');
}

void jsonw_end_array(JsonW *w) {
    putc_(w, ']');
    w->comma = true;
}

static void raw_string(JsonW *w, const char *s) {
    putc_(w, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            char e[2] = {'\\', (char)*p};
            put(w, e, 2);
        } else if (*p < 0x20) {
            /* jansson's escapes: the short ones, else \u00XX. */
            static const char SHORT[] = "\bb\ff\nn\rr\tt";
            const char *k = memchr(SHORT, *p, sizeof SHORT - 1);
            char e[8];
            int n = k && (k - SHORT) % 2 == 0 ? snprintf(e, sizeof e, "\\%c", k[1])
                                              : snprintf(e, sizeof e, "\\u%04X", *p);
            put(w, e, (size_t)n);
        } else {
            putc_(w, (char)*p);
        }
    }
    putc_(w, '"');
}

void jsonw_key(JsonW *w, const char *key) {
    sep(w);
    raw_string(w, key);
    putc_(w, ':');
}

void jsonw_int(JsonW *w, int64_t v) {
    char b[24];
    int n = snprintf(b, sizeof b, "%lld", (long long)v);
    sep(w);
    put(w, b, (size_t)n);
    w->comma = true;
}

void jsonw_real(JsonW *w, double v) {
    if (!isfinite(v)) {
        jsonw_null(w);
        return;
    }
    char b[40];
    int n = snprintf(b, sizeof b, "%.7g", v);
    /* As jansson: the exponent without '+' and leading zeros ... */
    char *e = memchr(b, 'e', (size_t)n);
    if (e) {
        char *d = e + 1, *s = d;
        if (*s == '-') d = ++s;
        if (*s == '+') s++;
        while (*s == '0' && s[1]) s++;
        memmove(d, s, strlen(s) + 1);
        n = (int)strlen(b);
    } else if (!memchr(b, '.', (size_t)n)) {
        /* ... and a ".0" so it reads back as a real. */
        b[n++] = '.';
        b[n++] = '0';
    }
    sep(w);
    put(w, b, (size_t)n);
    w->comma = true;
}

void jsonw_string(JsonW *w, const char *s) {
    sep(w);
    raw_string(w, s);
    w->comma = true;
}

void jsonw_null(JsonW *w) {
    sep(w);
    put(w, "null", 4);
    w->comma = true;
}

void jsonw_kint(JsonW *w, const char *key, int64_t v) {
    jsonw_key(w, key);
    jsonw_int(w, v);
}

void jsonw_kreal(JsonW *w, const char *key, double v) {
    jsonw_key(w, key);
    jsonw_real(w, v);
}

void jsonw_kstring(JsonW *w, const char *key, const char *s) {
    jsonw_key(w, key);
    jsonw_string(w, s);
}

int jsonw_finish(const JsonW *w, size_t *len) {
    *len = w->overflow ? 0 : w->len;
    return w->overflow ? CR_ENOMEM : 0;
}
