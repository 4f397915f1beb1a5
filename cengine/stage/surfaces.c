/* surfaces.c - surface tables: the shipped default, checking a table a
 * script made, and lookups by name (never on the tick path: the simulation
 * indexes a stage's copy). */
#include <assert.h>
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "coderally.h"
#include "stage/stage_internal.h"
#include "util/hash.h"

/* The shipped values; scripts/surfaces.lua must say the same (a test
 * checks), so stages made from the shipped scripts hash as before. */
static const SurfaceInfo DEFAULT_ENTRIES[SURFACE_COUNT] = {
    [SURFACE_ASPHALT] = {"asphalt", 1.00, 0.04, 1.00, "#55585e"},
    [SURFACE_GRAVEL] = {"gravel", 0.68, 0.10, 0.93, "#b08a57"},
    [SURFACE_ICE] = {"ice", 0.22, 0.02, 0.97, "#cfe9f7"},
    [SURFACE_OFFROAD] = {"offroad", 0.50, 1.10, 0.45, "#3f6b35"},
};

static SurfaceTable g_default;
static pthread_once_t g_default_once = PTHREAD_ONCE_INIT;

static uint64_t table_hash(const SurfaceTable *t) {
    uint64_t h = HASH_SEED;
    for (int i = 0; i < t->count; i++) {
        const SurfaceInfo *e = &t->s[i];
        h = hash_bytes(h, e->name, strlen(e->name) + 1);
        h = hash_double(h, e->grip);
        h = hash_double(h, e->drag);
        h = hash_double(h, e->top_speed);
        h = hash_bytes(h, e->colour, strlen(e->colour) + 1);
    }
    return h;
}

static bool valid_name(const char *s) {
    size_t n = strnlen(s, CR_NAME_MAX);
    if (n == 0 || n >= CR_NAME_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '_' ||
              s[i] == '-'))
            return false;
    return true;
}

static bool valid_colour(const char *c) {
    if (strnlen(c, SURFACE_COLOUR_MAX) != 7 || c[0] != '#') return false;
    for (int i = 1; i < 7; i++)
        if (!isxdigit((unsigned char)c[i])) return false;
    return true;
}

/* lo <= v <= hi, NaN refused. */
static bool in_range(double v, double lo, double hi) {
    return v >= lo && v <= hi;
}

int surface_info_check(const SurfaceInfo *e, CrError *err) {
    const char *bad = NULL;
    if (!valid_name(e->name))
        bad = "name must be 1-31 characters of a-z, 0-9, _ and -";
    else if (!in_range(e->grip, 0.01, 2.0))
        bad = "grip must be a number 0.01..2";
    else if (!in_range(e->drag, 0.0, 5.0))
        bad = "drag must be a number 0..5";
    else if (!in_range(e->top_speed, 0.05, 1.5))
        bad = "top_speed must be a number 0.05..1.5";
    else if (!valid_colour(e->colour))
        bad = "colour must be \"#rrggbb\"";
    if (!bad) return CR_OK;
    snprintf(err->msg, sizeof err->msg, "%s", bad);
    return CR_EINVAL;
}

int surface_table_init(SurfaceTable *out, const SurfaceInfo *entries, size_t n, CrError *err) {
    if (n == 0 || n > SURFACE_MAX) {
        snprintf(err->msg, sizeof err->msg,
                 "%zu surfaces: a table has 2 to %d (the verge included)", n, SURFACE_MAX);
        return CR_EINVAL;
    }
    SurfaceTable t = {.count = (int)n, .verge = -1};
    for (size_t i = 0; i < n; i++) {
        const SurfaceInfo *e = &entries[i];
        CrError why;
        if (surface_info_check(e, &why)) {
            snprintf(err->msg, sizeof err->msg, "surface %zu ('%.31s'): %.900s", i + 1,
                     valid_name(e->name) ? e->name : "?", why.msg);
            return CR_EINVAL;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(entries[j].name, e->name) == 0) {
                snprintf(err->msg, sizeof err->msg, "surface %zu: '%s' is already surface %zu",
                         i + 1, e->name, j + 1);
                return CR_EINVAL;
            }
        if (strcmp(e->name, "offroad") == 0) t.verge = (int)i;
        t.s[i] = *e;
    }
    if (t.verge < 0 || n < 2) {
        snprintf(err->msg, sizeof err->msg,
                 "surfaces: need an 'offroad' entry (the verge) and at least one road surface");
        return CR_EINVAL;
    }
    t.hash = table_hash(&t);
    *out = t;
    return CR_OK;
}

static void build_default(void) {
    CrError e;
    int rc = surface_table_init(&g_default, DEFAULT_ENTRIES, SURFACE_COUNT, &e);
    assert(rc == CR_OK);
    (void)rc;
}

const SurfaceTable *surface_table_default(void) {
    pthread_once(&g_default_once, build_default);
    return &g_default;
}

static bool same_entry(const SurfaceInfo *a, const SurfaceInfo *b) {
    return strcmp(a->name, b->name) == 0 && a->grip == b->grip && a->drag == b->drag &&
           a->top_speed == b->top_speed && strcmp(a->colour, b->colour) == 0;
}

bool surface_table_is_default(const SurfaceTable *t) {
    const SurfaceTable *d = surface_table_default();
    if (t == d) return true;
    if (t->count != d->count || t->verge != d->verge) return false;
    for (int i = 0; i < d->count; i++)
        if (!same_entry(&t->s[i], &d->s[i])) return false;
    return true;
}

int surface_table_find(const SurfaceTable *t, const char *name) {
    for (int i = 0; i < t->count; i++)
        if (i != t->verge && strcmp(t->s[i].name, name) == 0) return i;
    return -1;
}

const char *surface_table_name(const SurfaceTable *t, Surface s) {
    return s >= 0 && s < t->count ? t->s[s].name : "unknown";
}

/* The AI's tuned notes for the shipped surfaces, by name. */
static const struct {
    const char *name;
    double grip, lateral, brake;
    bool loose, no_nitro;
} AI_TUNED[] = {
    {"asphalt", 1.00, 38.0, 26.0, false, false},
    {"gravel", 0.68, 24.0, 18.0, true, false},
    {"ice", 0.22, 8.5, 6.0, false, true},
    {"offroad", 0.50, 14.0, 12.0, false, false},
};

void stage_ai_note(const SurfaceInfo *s, StageAiNote *out) {
    for (size_t i = 0; i < sizeof AI_TUNED / sizeof AI_TUNED[0]; i++) {
        if (strcmp(s->name, AI_TUNED[i].name) != 0) continue;
        /* Exactly the tuned value when the grip is the shipped one. */
        double f = s->grip == AI_TUNED[i].grip ? 1.0 : s->grip / AI_TUNED[i].grip;
        *out = (StageAiNote){AI_TUNED[i].lateral * f, AI_TUNED[i].brake * f, AI_TUNED[i].loose,
                             AI_TUNED[i].no_nitro};
        return;
    }
    /* A modder's surface: as asphalt scaled by grip; loose between ice and
     * asphalt, too slippery for nitro below a third of asphalt's grip. */
    *out = (StageAiNote){38.0 * s->grip, 26.0 * s->grip, s->grip >= 0.4 && s->grip < 0.9,
                         s->grip < 0.33};
}
