/*
 * fuzz_lua.c - Lua source into the real script host, as a modder's file:
 * built twice, FUZZ_LUA_KIND "generator" (the input is stages/fuzz.lua, it
 * is listed, loaded and run (seed 1) for a stage that is then compiled) and "rules"
 * (the input is rules/fuzz.lua, loaded for a race that AI cars drive to the
 * end so every hook runs, then the points). The scripts dir is a private
 * copy of the shipped one (config, upgrades, lib/) in a temporary folder,
 * made once; only the fuzzed file changes between inputs.
 *
 * Whatever the source does, the host must come back with CR_OK or an error
 * code and a message: never a crash, an abort (a Lua panic), a leak or a
 * hang (libFuzzer's -timeout).
 */
#include <assert.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coderally.h"
#include "fixtures.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char g_dir[64];
static char g_file[128];
static Stage *g_stage;

static void copy_file(const char *from, const char *to) {
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    assert(in && out);
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) assert(fwrite(buf, 1, n, out) == n);
    fclose(in);
    assert(fclose(out) == 0);
}

static void remove_tree(void) {
    static const char *const subs[] = {"stages", "rules", "lib", ""};
    char path[512];
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", g_dir, subs[i]);
        DIR *d = opendir(path);
        if (!d) continue;
        struct dirent *e;
        while ((e = readdir(d))) {
            char f[1024];
            snprintf(f, sizeof f, "%s/%s", path, e->d_name);
            if (e->d_name[0] != '.') unlink(f);
        }
        closedir(d);
        rmdir(path);
    }
    stage_destroy(g_stage);
}

static void setup(void) {
    snprintf(g_dir, sizeof g_dir, "%s", "/tmp/crfuzz-lua.XXXXXX");
    assert(mkdtemp(g_dir));
    atexit(remove_tree);
    char a[512], b[512];
    static const char *const dirs[] = {"stages", "rules", "lib"};
    for (int i = 0; i < 3; i++) {
        snprintf(b, sizeof b, "%s/%s", g_dir, dirs[i]);
        assert(mkdir(b, 0700) == 0);
    }
    /* Everything but the shipped generators and rules. */
    static const char *const files[] = {"config.lua", "upgrades.lua", "surfaces.lua",
                                        "rules/standard.lua"};
    for (int i = 0; i < 4; i++) {
        snprintf(a, sizeof a, "%s/scripts/%s", CR_SOURCE_DIR, files[i]);
        snprintf(b, sizeof b, "%s/%s", g_dir, files[i]);
        if (access(a, R_OK) == 0) copy_file(a, b);
    }
    snprintf(a, sizeof a, "%s/scripts/lib", CR_SOURCE_DIR);
    DIR *lib = opendir(a);
    assert(lib);
    struct dirent *e;
    while ((e = readdir(lib))) {
        if (e->d_name[0] == '.') continue;
        char from[1024], to[1024];
        snprintf(from, sizeof from, "%s/%s", a, e->d_name);
        snprintf(to, sizeof to, "%s/lib/%s", g_dir, e->d_name);
        copy_file(from, to);
    }
    closedir(lib);
    bool gen = strcmp(FUZZ_LUA_KIND, "generator") == 0;
    snprintf(g_file, sizeof g_file, "%s/%s/fuzz.lua", g_dir, gen ? "stages" : "rules");
    /* A short curvy stage with three checkpoints, for the rules' races. */
    g_stage = fixture_stage(120, 1.2, 90, 120, 12, SURFACE_GRAVEL, 80);
    assert(g_stage);
}

/* FUZZ_VERBOSE=1 prints every refusal, to check that seeds get where they should. */
static void check_error(int rc, const CrError *err) {
    if (getenv("FUZZ_VERBOSE")) fprintf(stderr, "fuzz_lua: %d %s\n", rc, err->msg);
    assert(rc < 0 && rc >= CR_EMISMATCH);
    size_t n = strlen(err->msg);
    assert(n > 0);
    /* "...: " with nothing after it is a message that lost its reason. */
    assert(!(n >= 2 && err->msg[n - 2] == ':' && err->msg[n - 1] == ' '));
}

static void run_generators(Scripts *sc) {
    for (size_t i = 0; i < scripts_generator_count(sc); i++) {
        const GeneratorInfo *g = scripts_generator(sc, i);
        const char *why = scripts_generator_error(sc, i);
        if (why) {
            if (getenv("FUZZ_VERBOSE")) fprintf(stderr, "fuzz_lua: %s\n", why);
            continue;
        }
        Stage *st = NULL;
        CrError err = {{0}};
        int rc = scripts_generate_stage(sc, g->name, 1, NULL, 0, &st, &err);
        if (rc) {
            check_error(rc, &err);
            assert(!st);
            continue;
        }
        double len = stage_length(st);
        StageLimits lim = scripts_stage_limits(sc);
        assert(len >= lim.min_length && len <= lim.max_length);
        stage_destroy(st);
    }
}

static void run_rules(Scripts *sc) {
    Rules *rules = NULL;
    CrError err = {{0}};
    int rc = rules_load(sc, "fuzz", g_stage, &rules, &err);
    if (rc) {
        check_error(rc, &err);
        return;
    }
    (void)rules_hash(rules);
    CarEntry cars[3] = {{.name = "a", .car_type = "hatch", .kind = CAR_AI},
                        {.name = "b", .car_type = "hatch", .kind = CAR_AI},
                        {.name = "c", .car_type = "hatch", .kind = CAR_AI}};
    for (int i = 0; i < 3; i++) cars[i].stats = fixture_stats();
    RaceRoom *room = NULL;
    rc = race_create(g_stage, cars, 3, rules_race(rules), &room, &err);
    if (rc) {
        check_error(rc, &err);
        rules_destroy(rules);
        return;
    }
    /* Drive to the end or for at most 50 s of race time. */
    for (int t = 0; t < 3000 && race_phase(room) != PHASE_FINISHED; t++) {
        for (int c = 0; c < 3; c++) {
            SensorRecord s;
            CarInput in;
            assert(race_sensors(room, c, &s) == CR_OK);
            ai_drive(&s, 0.6 + 0.2 * c, &in);
            race_set_input(room, c, &in);
        }
        rc = race_step(room, &err);
        if (rc) {
            check_error(rc, &err);
            break;
        }
    }
    RaceResult res[3];
    int points[3];
    race_results(room, res);
    rc = rules_points(rules, res, 3, points, &err);
    if (rc) check_error(rc, &err);
    race_destroy(room);
    rules_destroy(rules);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!g_dir[0]) setup();
    FILE *f = fopen(g_file, "wb");
    assert(f);
    assert(fwrite(data, 1, size, f) == size);
    assert(fclose(f) == 0);

    Scripts *sc = NULL;
    CrError err = {{0}};
    int rc = scripts_open(g_dir, NULL, 0, &sc, &err);
    if (rc) {
        check_error(rc, &err);
        return 0;
    }
    if (strcmp(FUZZ_LUA_KIND, "generator") == 0) {
        run_generators(sc);
    } else {
        run_rules(sc);
    }
    scripts_close(sc);
    return 0;
}
