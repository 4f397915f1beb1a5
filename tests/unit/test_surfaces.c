/* test_surfaces.c - surfaces as data: the shipped surfaces.lua is the
 * built-in table (so shipped stages hash as before), a fourth surface added
 * by a script reaches generators, the car model, the SVG and the stage
 * hash, and every malformed table is refused with where it is wrong. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixtures.h"
#include "sim/car.h"
#include "stage/stage_internal.h"
#include "test.h"

static char tmpdir[256];

static void write_file(const char *rel, const char *text) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
    FILE *f = fopen(path, "w");
    if (!f) abort();
    fputs(text, f);
    fclose(f);
}

static void make_scripts(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/cr_surfaces_%d", (int)getpid());
    char cmd[1024];
    const char *src = getenv("CR_SCRIPTS");
    snprintf(cmd, sizeof cmd, "rm -rf %s && cp -r %s %s", tmpdir, src ? src : "scripts", tmpdir);
    if (system(cmd) != 0) abort();
}

static void drop_scripts(void) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0) abort();
}

#define SURFACES_WITH(extra)                                                                    \
    "return {\n"                                                                                \
    "  surface { name = 'asphalt', grip = 1.00, drag = 0.04, top_speed = 1.00, colour = "       \
    "'#55585e' },\n"                                                                            \
    "  surface { name = 'gravel', grip = 0.68, drag = 0.10, top_speed = 0.93, colour = "        \
    "'#b08a57' },\n"                                                                            \
    "  surface { name = 'ice', grip = 0.22, drag = 0.02, top_speed = 0.97, colour = '#cfe9f7' " \
    "},\n"                                                                                      \
    "  surface { name = 'offroad', grip = 0.50, drag = 1.10, top_speed = 0.45, colour = "       \
    "'#3f6b35' },\n" extra "}\n"

/* A straight generator whose road is `surf` after the start grid. */
static const char *SANDY =
    "return { name = 'sandy', version = '1', description = 'a straight, sand after the grid',\n"
    "  params = {},\n"
    "  generate = function(seed, p)\n"
    "    local pts = {}\n"
    "    for i = 0, 700 do\n"
    "      pts[#pts + 1] = { x = i * 2, y = 0, width = 14,\n"
    "                        surface = i < 60 and 'asphalt' or 'sand' }\n"
    "    end\n"
    "    return { points = pts, checkpoints = { 300, 500 } }\n"
    "  end }\n";

static Scripts *open_dir(CrError *err, int *rc) {
    Scripts *sc = NULL;
    *rc = scripts_open(tmpdir, NULL, 0, &sc, err);
    return sc;
}

TEST(shipped_surfaces_lua_is_the_default_table) {
    const char *dir = getenv("CR_SCRIPTS");
    Scripts *sc = NULL;
    CrError err;
    ASSERT_EQ_INT(scripts_open(dir ? dir : "scripts", NULL, 0, &sc, &err), CR_OK);
    const SurfaceTable *t = scripts_surfaces(sc);
    ASSERT_TRUE(surface_table_is_default(t));
    ASSERT_EQ_U64(t->hash, surface_table_default()->hash);
    ASSERT_EQ_INT(t->count, 4);
    ASSERT_EQ_INT(t->verge, SURFACE_OFFROAD);
    ASSERT_EQ_STR(t->s[SURFACE_ICE].name, "ice");
    scripts_close(sc);
}

TEST(a_fourth_surface_from_a_script) {
    make_scripts();
    write_file("surfaces.lua",
               SURFACES_WITH("  surface { name = 'sand', grip = 0.80, drag = 0.04, top_speed = "
                             "0.60, colour = '#e0c070' },\n"));
    write_file("stages/sandy.lua", SANDY);
    CrError err;
    int rc;
    Scripts *sc = open_dir(&err, &rc);
    ASSERT_EQ_INT(rc, CR_OK);
    const SurfaceTable *t = scripts_surfaces(sc);
    ASSERT_EQ_INT(t->count, 5);
    ASSERT_EQ_INT(surface_table_find(t, "sand"), 4);
    ASSERT_EQ_INT(surface_table_find(t, "offroad"), -1); /* the verge is not a road */
    ASSERT_TRUE(!surface_table_is_default(t));
    Stage *st = NULL;
    rc = scripts_generate_stage(sc, "sandy", 1, NULL, 0, &st, &err);
    if (rc) FAIL_AT("%s", err.msg);
    /* The stage carries its own copy, and the generator's names became its
     * indices. */
    const SurfaceTable *own = stage_surfaces(st);
    ASSERT_EQ_U64(own->hash, t->hash);
    ASSERT_EQ_INT(stage_points(st)[100].surface, 4);
    StageProbe p;
    stage_probe(st, 400, 0, &p);
    ASSERT_EQ_STR(surface_table_name(own, p.surface), "sand");
    stage_probe(st, 400, 9, &p); /* beyond the edge: the verge */
    ASSERT_EQ_INT(p.surface, own->verge);

    /* The same points on the default table (sand read as asphalt) hash
     * differently: the hash covers the table. */
    StagePoint *pts = malloc(stage_point_count(st) * sizeof *pts);
    memcpy(pts, stage_points(st), stage_point_count(st) * sizeof *pts);
    for (size_t i = 0; i < stage_point_count(st); i++) pts[i].surface = SURFACE_ASPHALT;
    uint32_t cps[2] = {300, 500};
    StageDesc d = {pts, stage_point_count(st), cps, 2, NULL};
    StageLimits lim = {100, 20000};
    Stage *plain = NULL;
    ASSERT_EQ_INT(stage_compile(&d, &lim, &plain, &err), CR_OK);
    d.surfaces = own;
    Stage *sandless = NULL; /* the custom table, but all asphalt */
    ASSERT_EQ_INT(stage_compile(&d, &lim, &sandless, &err), CR_OK);
    ASSERT_TRUE(stage_hash(plain) != stage_hash(sandless));
    ASSERT_TRUE(stage_hash(st) != stage_hash(sandless));

    /* The car feels it: flat out on sand (top_speed 0.6, asphalt's drag)
     * settles where its physics says, about 0.6 of asphalt's speed. */
    CarStats k = {40, 30, 1, 40, 0, 0, 2.5, 1000};
    double v[2];
    Stage *on[2] = {plain, st};
    for (int s = 0; s < 2; s++) {
        CarBody car;
        car_init(&car, &k, 130, 0, 0);
        CarInput in = {.throttle = 1};
        car_set_input(&car, &in);
        for (int tick = 0; tick < 10 * CR_TICK_RATE && car.x < 1200; tick++) car_step(&car, on[s]);
        ASSERT_TRUE(car.surface == (s ? 4 : SURFACE_ASPHALT));
        v[s] = car.vx;
    }
    /* Steady state of a = accel (1 - v/top) - drag v: v = accel top / (accel + drag top). */
    double top_a = 40, top_s = 40 * 0.6;
    double want = (30 * top_s / (30 + 0.04 * top_s)) / (30 * top_a / (30 + 0.04 * top_a));
    ASSERT_NEAR(v[1] / v[0], want, 0.02);
    ASSERT_LT(v[1], 0.65 * v[0]);

    /* The picture draws sand in its colour. */
    char svg[600];
    snprintf(svg, sizeof svg, "%s/sandy.svg", tmpdir);
    ASSERT_EQ_INT(stage_write_svg(st, "sandy", svg, &err), CR_OK);
    FILE *f = fopen(svg, "r");
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    ASSERT_CONTAINS(buf, "stroke=\"#e0c070\"");

    /* The AI drives on its own table: a note for sand, scaled from grip. */
    ASSERT_NEAR(st->ai[4].lateral, 38.0 * 0.8, 1e-9);
    ASSERT_NEAR(st->ai[SURFACE_GRAVEL].lateral, 24.0, 0);

    free(pts);
    stage_destroy(plain);
    stage_destroy(sandless);
    stage_destroy(st);
    scripts_close(sc);
    drop_scripts();
}

TEST(a_generator_naming_an_unknown_surface_lists_the_table) {
    make_scripts();
    write_file("stages/sandy.lua", SANDY); /* no sand in the shipped table */
    CrError err;
    int rc;
    Scripts *sc = open_dir(&err, &rc);
    ASSERT_EQ_INT(rc, CR_OK);
    Stage *st = NULL;
    ASSERT_EQ_INT(scripts_generate_stage(sc, "sandy", 1, NULL, 0, &st, &err), CR_ESTAGE);
    ASSERT_CONTAINS(err.msg, "unknown surface 'sand' (known: asphalt, gravel, ice)");
    scripts_close(sc);
    drop_scripts();
}

TEST(bad_tables_are_refused_with_where) {
    static const struct {
        const char *extra, *want;
    } cases[] = {
        {"  surface { name = 'sand', grip = 3, drag = 0, top_speed = 1, colour = '#000000' },\n",
         "surfaces.lua:6: surface: grip must be a number 0.01..2"},
        {"  surface { name = 'sand', grip = 0/0, drag = 0, top_speed = 1, colour = '#000000' },\n",
         "surfaces.lua:6: surface: grip must be"},
        {"  surface { name = 'sand', grip = 1, drag = -1, top_speed = 1, colour = '#000000' },\n",
         "drag must be a number 0..5"},
        {"  surface { name = 'sand', grip = 1, drag = 0, top_speed = 9, colour = '#000000' },\n",
         "top_speed must be a number 0.05..1.5"},
        {"  surface { name = 'sand', grip = 1, drag = 0, top_speed = 1, colour = 'red' },\n",
         "colour must be \"#rrggbb\""},
        {"  surface { name = 'Sand!', grip = 1, drag = 0, top_speed = 1, colour = '#000000' },\n",
         "name must be 1-31 characters"},
        {"  surface { name = 'sand', grip = '1', drag = 0, top_speed = 1, colour = '#000000' },\n",
         "field 'grip' must be a number"},
        {"  surface { name = 'sand', grip = 1, drag = 0, top_speed = 1, colour = '#000000', "
         "gripp = 2 },\n",
         "unknown field 'gripp'"},
        {"  surface { name = 'ice', grip = 1, drag = 0, top_speed = 1, colour = '#000000' },\n",
         "surfaces.lua:6: surface 5: 'ice' is already surface 3"},
        {"  { name = 'sand', grip = 1, drag = 0, top_speed = 5, colour = '#000000' },\n",
         "surfaces.lua: surface 5: top_speed must be"},
        {"  'sand',\n", "surfaces.lua: surface 5 must be a table"},
    };
    make_scripts();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[4096];
        snprintf(text, sizeof text, SURFACES_WITH("%s"), cases[i].extra);
        write_file("surfaces.lua", text);
        CrError err = {{0}};
        int rc;
        Scripts *sc = open_dir(&err, &rc);
        ASSERT_TRUE(sc == NULL);
        ASSERT_TRUE(rc < 0);
        const char *want = cases[i].want;
        const char *dots = strstr(want, " ... ");
        if (dots) { /* both halves, in order */
            char head[200];
            snprintf(head, sizeof head, "%.*s", (int)(dots - want), want);
            ASSERT_CONTAINS(err.msg, head);
            ASSERT_CONTAINS(err.msg, dots + 5);
        } else {
            ASSERT_CONTAINS(err.msg, want);
        }
        /* The message starts with its file:line:, once. */
        if (strncmp(want, "surfaces.lua", 12) == 0)
            ASSERT_TRUE(strncmp(err.msg, want, strlen(want)) == 0);
        ASSERT_TRUE(strstr(err.msg, "surfaces.lua:6: surfaces.lua") == NULL);
    }
    /* Table-wide rules. */
    write_file("surfaces.lua",
               "return { surface { name = 'asphalt', grip = 1, drag = 0, top_speed = 1, colour = "
               "'#000000' }, surface { name = 'ice', grip = 1, drag = 0, top_speed = 1, colour = "
               "'#000000' } }\n");
    CrError err;
    int rc;
    ASSERT_TRUE(open_dir(&err, &rc) == NULL);
    ASSERT_CONTAINS(err.msg, "need an 'offroad' entry");
    char big[8192] = "return {\n";
    for (int i = 0; i < SURFACE_MAX + 1; i++) {
        size_t l = strlen(big);
        snprintf(big + l, sizeof big - l,
                 "  { name = 's%d', grip = 1, drag = 0, top_speed = 1, colour = '#000000' },\n", i);
    }
    strcat(big, "}\n");
    write_file("surfaces.lua", big);
    ASSERT_TRUE(open_dir(&err, &rc) == NULL);
    ASSERT_CONTAINS(err.msg, "17 surfaces; a table has 2 to 16");
    write_file("surfaces.lua", "return 'asphalt'\n");
    ASSERT_TRUE(open_dir(&err, &rc) == NULL);
    ASSERT_CONTAINS(err.msg, "must return a list of surfaces, not a string");
    drop_scripts();
}

TEST(a_hand_made_table_is_checked_by_stage_compile) {
    StagePoint pts[300];
    size_t n = fixture_road(pts, 300, 500, 0, 0, 0, 12, SURFACE_ASPHALT);
    uint32_t cps[1] = {120};
    SurfaceTable bad = *surface_table_default();
    bad.verge = 9;
    StageDesc d = {pts, n, cps, 1, &bad};
    StageLimits lim = {100, 20000};
    Stage *st = NULL;
    CrError err;
    ASSERT_EQ_INT(stage_compile(&d, &lim, &st, &err), CR_ESTAGE);
    ASSERT_CONTAINS(err.msg, "surface table is malformed");
    pts[10].surface = SURFACE_OFFROAD; /* the verge is never a road */
    d.surfaces = NULL;
    ASSERT_EQ_INT(stage_compile(&d, &lim, &st, &err), CR_ESTAGE);
    ASSERT_CONTAINS(err.msg, "unknown surface");
}

TEST_MAIN
