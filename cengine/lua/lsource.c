/*
 * lsource.c - a scan of Lua source text that knows just enough of the lexer
 * (comments, short and long strings, numerals) to find operators outside
 * strings and comments.
 */
#include "lua/lsource.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *s;
    size_t n, i;
    int line;
} Scan;

/* At '[': the level of a long bracket "[==[" (number of '='), or -1. */
static int long_bracket_level(const Scan *sc, size_t at) {
    size_t j = at + 1;
    int level = 0;
    while (j < sc->n && sc->s[j] == '=') j++, level++;
    return j < sc->n && sc->s[j] == '[' ? level : -1;
}

/* Skips a long string or comment body opened at sc->i with the given level. */
static void skip_long(Scan *sc, int level) {
    sc->i += (size_t)level + 2;
    while (sc->i < sc->n) {
        char c = sc->s[sc->i];
        if (c == '\n') sc->line++;
        if (c == ']') {
            size_t j = sc->i + 1;
            int l = 0;
            while (j < sc->n && sc->s[j] == '=') j++, l++;
            if (l == level && j < sc->n && sc->s[j] == ']') {
                sc->i = j + 1;
                return;
            }
        }
        sc->i++;
    }
}

/* Skips white space and comments. */
static void skip_blank(Scan *sc) {
    while (sc->i < sc->n) {
        char c = sc->s[sc->i];
        if (c == '\n') {
            sc->line++, sc->i++;
        } else if (isspace((unsigned char)c)) {
            sc->i++;
        } else if (c == '-' && sc->i + 1 < sc->n && sc->s[sc->i + 1] == '-') {
            sc->i += 2;
            int level = sc->i < sc->n && sc->s[sc->i] == '[' ? long_bracket_level(sc, sc->i) : -1;
            if (level >= 0) {
                skip_long(sc, level);
            } else {
                while (sc->i < sc->n && sc->s[sc->i] != '\n') sc->i++;
            }
        } else {
            return;
        }
    }
}

/* Skips the numeral at sc->i (a digit or '.' is there): digits, letters,
 * points, and a sign after a decimal exponent 'e' or a hex exponent 'p'. */
static void skip_numeral(Scan *sc) {
    size_t start = sc->i;
    bool hex = sc->n - start > 1 && sc->s[start] == '0' && (sc->s[start + 1] | 0x20) == 'x';
    while (sc->i < sc->n) {
        char c = sc->s[sc->i];
        char prev = (char)(sc->i > start ? sc->s[sc->i - 1] | 0x20 : 0);
        if (isalnum((unsigned char)c) || c == '.' ||
            ((c == '+' || c == '-') && prev == (hex ? 'p' : 'e')))
            sc->i++;
        else
            break;
    }
}

/* Is the token at sc->i a numeral equal to 2 (2, 2.0, 0x2, 2e0...)?
 * Consumes it if it is a numeral. */
static bool numeral_is_two(Scan *sc) {
    size_t start = sc->i;
    if (start >= sc->n || !(isdigit((unsigned char)sc->s[start]) || sc->s[start] == '.'))
        return false;
    skip_numeral(sc);
    size_t len = sc->i - start;
    char buf[64];
    if (len >= sizeof buf) return false;
    memcpy(buf, sc->s + start, len);
    buf[len] = 0;
    char *end;
    double v = strtod(buf, &end);
    return *end == 0 && v == 2.0;
}

static void skip_short_string(Scan *sc) {
    char q = sc->s[sc->i++];
    while (sc->i < sc->n && sc->s[sc->i] != q) {
        if (sc->s[sc->i] == '\\' && sc->i + 1 < sc->n) sc->i++;
        if (sc->s[sc->i] == '\n') sc->line++;
        sc->i++;
    }
    sc->i++;
}

int lsource_check(const char *code, size_t len, const char *chunkname, CrError *err) {
    Scan sc = {code, len, 0, 1};
    const char *name = chunkname ? chunkname : "?";
    if (*name == '@' || *name == '=') name++;
    while (sc.i < sc.n) {
        char c = code[sc.i];
        if (c == '\n' || isspace((unsigned char)c) ||
            (c == '-' && sc.i + 1 < sc.n && code[sc.i + 1] == '-')) {
            skip_blank(&sc);
        } else if (c == '"' || c == '\'') {
            skip_short_string(&sc);
        } else if (c == '[' && long_bracket_level(&sc, sc.i) >= 0) {
            skip_long(&sc, long_bracket_level(&sc, sc.i));
        } else if (c == '^') {
            int line = sc.line;
            sc.i++;
            skip_blank(&sc);
            bool ok = numeral_is_two(&sc);
            skip_blank(&sc);
            if (ok && sc.i < sc.n && code[sc.i] == '^') ok = false; /* x^2^y is x^(2^y) */
            if (!ok) {
                snprintf(err->msg, sizeof err->msg,
                         "%s:%d: '^' is only allowed with the exponent 2 (x^2): other powers "
                         "differ in the last bit between machines; write x*x*x, math.sqrt(x) or "
                         "math.exp(y * math.log(x))",
                         name, line);
                return CR_ESCRIPT;
            }
        } else if (isdigit((unsigned char)c) ||
                   (c == '.' && sc.i + 1 < sc.n && isdigit((unsigned char)code[sc.i + 1]))) {
            skip_numeral(&sc); /* so the '-' of "1e-2" is not an operator */
        } else if (isalpha((unsigned char)c) || c == '_') {
            while (sc.i < sc.n && (isalnum((unsigned char)code[sc.i]) || code[sc.i] == '_')) sc.i++;
        } else {
            sc.i++;
        }
    }
    return CR_OK;
}
