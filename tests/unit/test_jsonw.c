/* test_jsonw.c - the fixed-buffer JSON writer writes what jansson writes
 * (the game_state encoder moved from one to the other: clients must not
 * see a byte change), parses back, and reports a buffer that is too small. */
#include <jansson.h>
#include <math.h>
#include <stdint.h>

#include "coderally.h"
#include "server/jsonw.h"
#include "test.h"

/* jansson's text for a real, as the old encoder wrote it. */
static void jansson_real(double v, char *out, size_t size) {
    json_t *r = json_real(v);
    char *s = json_dumps(r, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(7));
    snprintf(out, size, "%s", s ? s : "(none)");
    free(s);
    json_decref(r);
}

TEST(reals_are_byte_identical_to_jansson) {
    static const double fixed[] = {
        0.0,       -0.0,     1.0,      -1.0,    12.0,     0.5,       1e-5,
        -1e-5,     1e-4,     123456.7, 1234567, 12345678, 1e20,      -1e-20,
        3.14159,   2.5e-300, 1e300,    0.1,     1.0e7,    9999999.5, -0.000123456789,
        65.432101, 1e6,      100};
    char got[64], want[64];
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        char buf[64];
        JsonW w;
        jsonw_init(&w, buf, sizeof buf);
        jsonw_real(&w, fixed[i]);
        size_t n;
        ASSERT_EQ_INT(jsonw_finish(&w, &n), 0);
        snprintf(got, sizeof got, "%.*s", (int)n, buf);
        jansson_real(fixed[i], want, sizeof want);
        if (strcmp(got, want)) FAIL_AT("%.17g: '%s' vs jansson '%s'", fixed[i], got, want);
    }
    /* A spread of magnitudes and signs, as positions, speeds and angles. */
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double mant = (double)(x >> 11) / 9007199254740992.0;
        double v = ldexp(mant, (int)(x % 80) - 40) * ((x >> 7) & 1 ? -1 : 1);
        char buf[64];
        JsonW w;
        jsonw_init(&w, buf, sizeof buf);
        jsonw_real(&w, v);
        size_t n;
        ASSERT_EQ_INT(jsonw_finish(&w, &n), 0);
        snprintf(got, sizeof got, "%.*s", (int)n, buf);
        jansson_real(v, want, sizeof want);
        if (strcmp(got, want)) FAIL_AT("%.17g: '%s' vs jansson '%s'", v, got, want);
    }
}

TEST(a_message_matches_jansson_and_parses) {
    char buf[512];
    JsonW w;
    jsonw_init(&w, buf, sizeof buf);
    jsonw_object(&w);
    jsonw_kstring(&w, "type", "game_state");
    jsonw_kint(&w, "tick", 42);
    jsonw_kint(&w, "sent_us", 1764570000123456LL);
    jsonw_key(&w, "cars");
    jsonw_array(&w);
    for (int i = 0; i < 2; i++) {
        jsonw_object(&w);
        jsonw_kint(&w, "id", i);
        jsonw_kreal(&w, "x", 10.25 * i);
        jsonw_end_object(&w);
    }
    jsonw_end_array(&w);
    jsonw_key(&w, "race_info");
    jsonw_object(&w);
    jsonw_kstring(&w, "phase", "a \"quoted\"\\ \n\t\x01 name");
    jsonw_key(&w, "nothing");
    jsonw_null(&w);
    jsonw_key(&w, "empty");
    jsonw_array(&w);
    jsonw_end_array(&w);
    jsonw_end_object(&w);
    jsonw_end_object(&w);
    size_t n;
    ASSERT_EQ_INT(jsonw_finish(&w, &n), 0);
    json_t *o = json_pack("{s:s,s:i,s:I,s:[{s:i,s:f},{s:i,s:f}],s:{s:s,s:n,s:[]}}", "type",
                          "game_state", "tick", 42, "sent_us", (json_int_t)1764570000123456LL,
                          "cars", "id", 0, "x", 0.0, "id", 1, "x", 10.25, "race_info", "phase",
                          "a \"quoted\"\\ \n\t\x01 name", "nothing", "empty");
    char *want = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(7));
    json_decref(o);
    ASSERT_TRUE(want != NULL);
    if (strlen(want) != n || memcmp(want, buf, n)) FAIL_AT("'%.*s' vs '%s'", (int)n, buf, want);
    json_error_t jerr;
    json_t *back = json_loadb(buf, n, JSON_REJECT_DUPLICATES, &jerr);
    ASSERT_TRUE(back != NULL);
    json_decref(back);
    free(want);
}

TEST(non_finite_reals_are_null) {
    char buf[64];
    JsonW w;
    jsonw_init(&w, buf, sizeof buf);
    jsonw_array(&w);
    jsonw_real(&w, NAN);
    jsonw_real(&w, INFINITY);
    jsonw_end_array(&w);
    size_t n;
    ASSERT_EQ_INT(jsonw_finish(&w, &n), 0);
    ASSERT_TRUE(n == 11 && !memcmp(buf, "[null,null]", 11));
}

TEST(a_full_buffer_is_reported_not_overrun) {
    char buf[16];
    memset(buf, 'z', sizeof buf);
    JsonW w;
    jsonw_init(&w, buf, 10);
    jsonw_object(&w);
    jsonw_kstring(&w, "type", "game_state");
    jsonw_end_object(&w);
    size_t n = 99;
    ASSERT_EQ_INT(jsonw_finish(&w, &n), CR_ENOMEM);
    ASSERT_EQ_INT(n, 0);
    for (int i = 10; i < 16; i++) ASSERT_EQ_INT(buf[i], 'z');
}

TEST_MAIN
