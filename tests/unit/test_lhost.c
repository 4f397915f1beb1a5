/* test_lhost.c - the Lua sandbox and the scripts loader: allow-listed
 * globals, frozen builtins, budgets pcall cannot swallow, the memory cap,
 * errors with file and line, and what broken scripts produce. */
#include <sys/stat.h>
#include <unistd.h>

#include "lua/lhost.h"
#include "match/session.h"
#include "test.h"

/* Runs code in a fresh sandbox; returns the status and fills err. */
static int run(const char *code, size_t mem, uint64_t budget, CrError *err) {
    LuaHost *h;
    if (lhost_create(mem, budget, &h, err)) return -100;
    int rc = lhost_run_string(h, code, strlen(code), "=test", err);
    lhost_destroy(h);
    return rc;
}

static int run_default(const char *code, CrError *err) {
    return run(code, LHOST_DEFAULT_MEMORY, 10000000, err);
}

TEST(unknown_globals_are_errors_with_a_line) {
    CrError err;
    const char *names[] = {"io",     "os",       "require",   "load",    "loadstring",
                           "dofile", "loadfile", "debug",     "package", "collectgarbage",
                           "rawset", "_G",       "coroutine", "xpcall",  "string_dump",
                           NULL};
    for (const char **n = names; *n; n++) {
        char code[128];
        snprintf(code, sizeof code, "local x = 1\nreturn %s", *n);
        ASSERT_EQ_INT(run_default(code, &err), CR_ESCRIPT);
        ASSERT_CONTAINS(err.msg, "unknown global");
        ASSERT_CONTAINS(err.msg, *n);
        ASSERT_CONTAINS(err.msg, "test:2:");
    }
}

TEST(allowed_builtins_work) {
    CrError err;
    ASSERT_EQ_INT(run_default("assert(math.floor(2.5) == 2)\n"
                              "assert(string.format('%d', 3) == '3')\n"
                              "assert(table.concat({1, 2}, ',') == '1,2')\n"
                              "assert(select('#', 1, 2) == 2)\n"
                              "local t = setmetatable({}, {__index = function() return 7 end})\n"
                              "assert(t.x == 7)\n"
                              "assert(('abc'):upper() == 'ABC')\n"
                              "local n = 0; for k in pairs(math) do n = n + 1 end\n"
                              "assert(n > 10)\n"

                              "return true",
                              &err),
                  CR_OK);
}

TEST(dangerous_library_functions_are_gone) {
    CrError err;
    ASSERT_EQ_INT(run_default("assert(string.dump == nil)\n"
                              "assert(('x').dump == nil)\n"
                              "assert(math.random == nil and math.randomseed == nil)\n"
                              "assert(getmetatable('') == 'locked')\n"
                              "return true",
                              &err),
                  CR_OK);
}

TEST(builtins_are_read_only) {
    CrError err;
    ASSERT_EQ_INT(run_default("math.sin = nil", &err), CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "read-only");
    ASSERT_EQ_INT(run_default("string.rep = print", &err), CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "read-only");
    ASSERT_EQ_INT(run_default("setmetatable(math, {})", &err), CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "protected metatable");
    /* No new globals either: state lives in locals. */
    ASSERT_EQ_INT(run_default("local y = 1\nx = 5\nreturn x", &err), CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "test:2: assignment to undeclared global 'x'");
    ASSERT_TRUE(strstr(err.msg, "test:2: test:2:") == NULL);
}

TEST(instruction_budget_cannot_be_swallowed) {
    CrError err;
    ASSERT_EQ_INT(run_default("while true do end", &err), CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "instruction budget");
    /* pcall in a loop: the hook fires again on the next instruction. */
    ASSERT_EQ_INT(run_default("while true do pcall(function() while true do end end) end", &err),
                  CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "instruction budget");
    /* Finalizers run with hooks off: a looping __gc would never stop. */
    ASSERT_EQ_INT(run_default("setmetatable({}, {__gc = function() while true do end end})", &err),
                  CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "__gc");
    /* An error object whose __tostring loops is still stopped. */
    ASSERT_EQ_INT(run_default("error(setmetatable({}, {__tostring = function() "
                              "while true do end end}))",
                              &err),
                  CR_ESCRIPT);
}

TEST(memory_cap_holds) {
    CrError err;
    ASSERT_EQ_INT(run("local t = {} for i = 1, 1e7 do t[i] = i end", 1u << 20, 100000000, &err),
                  CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "memory cap");
    ASSERT_EQ_INT(run("return ('x'):rep(1e9)", 1u << 20, 100000000, &err), CR_ESCRIPT);
    /* pcall cannot recover enough to carry on allocating. */
    ASSERT_EQ_INT(run("local t = {}\nwhile true do pcall(function() t[#t + 1] = ('y'):rep(1e4) "
                      "end) end",
                      1u << 20, 100000000, &err),
                  CR_ESCRIPT);
}

TEST(bytecode_is_refused) {
    CrError err;
    LuaHost *h;
    ASSERT_EQ_INT(lhost_create(LHOST_DEFAULT_MEMORY, 1000000, &h, &err), CR_OK);
    const char chunk[] = "\x1bLua\x54\x00";
    ASSERT_EQ_INT(lhost_run_string(h, chunk, sizeof chunk - 1, "=bin", &err), CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "binary");
    lhost_destroy(h);
}

TEST(errors_carry_a_traceback) {
    CrError err;
    ASSERT_EQ_INT(run_default("local function inner() error('kaput') end\n"
                              "local function outer() inner() end\n"
                              "outer()",
                              &err),
                  CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "test:1: kaput");
    ASSERT_CONTAINS(err.msg, "stack traceback");
    ASSERT_CONTAINS(err.msg, "outer");
    ASSERT_EQ_INT(run_default("return 1 +", &err), CR_ESCRIPT); /* syntax */
    ASSERT_CONTAINS(err.msg, "test:1:");
    ASSERT_EQ_INT(run_default("error({})", &err), CR_ESCRIPT); /* a non-string error */
}

/* ---- the scripts directory ---------------------------------------------- */

static char tmpdir[256];

static void write_file(const char *rel, const char *text) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

/* A scripts directory copied from the repository's, to break bits of. */
static void make_scripts(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/cr_scripts_%d", (int)getpid());
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

TEST(the_shipped_scripts_load) {
    make_scripts();
    Scripts *sc;
    CrError err;
    ASSERT_EQ_INT(scripts_open(tmpdir, NULL, 0, &sc, &err), CR_OK);
    ASSERT_LT(2, scripts_generator_count(sc));
    for (size_t i = 0; i < scripts_generator_count(sc); i++)
        ASSERT_TRUE(scripts_generator_error(sc, i) == NULL);
    double v;
    ASSERT_EQ_INT(scripts_config_number(sc, "STAGE_MIN_LENGTH", &v), CR_OK);
    ASSERT_NEAR(v, 1000, 0);
    ASSERT_EQ_INT(scripts_config_number(sc, "NO_SUCH_KEY", &v), CR_ENOTFOUND);
    CarStats k;
    UpgradeLevel lv[] = {{"grip", 2}};
    ASSERT_EQ_INT(scripts_car_stats(sc, "hatch", lv, 1, &k, &err), CR_OK);
    ASSERT_NEAR(k.grip, 1.1, 1e-9);
    lv[0].level = 99;
    ASSERT_EQ_INT(scripts_car_stats(sc, "hatch", lv, 1, &k, &err), CR_EINVAL);
    ASSERT_CONTAINS(err.msg, "level 99");
    ASSERT_EQ_INT(scripts_car_stats(sc, "tank", NULL, 0, &k, &err), CR_ENOTFOUND);
    ASSERT_CONTAINS(err.msg, "hatch");
    scripts_close(sc);
    drop_scripts();
}

TEST(upgrades_api_names_prices_and_levels) {
    make_scripts();
    Scripts *sc;
    CrError err;
    ASSERT_EQ_INT(scripts_open(tmpdir, NULL, 0, &sc, &err), CR_OK);
    ASSERT_EQ_INT(scripts_car_type_count(sc), 3);
    const CarTypeInfo *ct = scripts_car_type_info(sc, 0); /* sorted by id */
    ASSERT_EQ_STR(ct->id, "coupe");
    ASSERT_EQ_STR(ct->name, "Turbo Coupe");
    ASSERT_CONTAINS(ct->description, "asphalt");
    ASSERT_EQ_INT(ct->price, 1500);
    ASSERT_NEAR(ct->base.top_speed, 52, 0);
    ASSERT_TRUE(scripts_car_type_info(sc, 3) == NULL);
    ASSERT_EQ_INT(scripts_find_car_type(sc, "hatch", &ct, &err), CR_OK);
    ASSERT_EQ_INT(ct->price, 0);
    ASSERT_EQ_INT(ct->base.nitro_capacity, 2);
    ASSERT_EQ_INT(scripts_find_car_type(sc, "tank", &ct, &err), CR_ENOTFOUND);
    ASSERT_CONTAINS(err.msg, "coupe, hatch, raider");

    ASSERT_EQ_INT(scripts_upgrade_count(sc), 8);
    const UpgradeInfo *up = scripts_upgrade(sc, 0);
    ASSERT_EQ_STR(up->stat, "acceleration");
    ASSERT_TRUE(scripts_upgrade(sc, 8) == NULL);
    ASSERT_EQ_INT(scripts_find_upgrade(sc, "top_speed", &up, &err), CR_OK);
    ASSERT_EQ_STR(up->name, "Top speed");
    ASSERT_EQ_INT(up->max_level, 5);
    ASSERT_EQ_INT(up->cost[0], 200);
    ASSERT_EQ_INT(up->cost[4], 1200);
    ASSERT_EQ_INT(scripts_find_upgrade(sc, "colour", &up, &err), CR_ENOTFOUND);
    ASSERT_CONTAINS(err.msg, "top_speed");

    /* "What the next level changes": value now and value at the next level. */
    double v;
    ASSERT_EQ_INT(scripts_upgrade_value(sc, "hatch", "top_speed", 0, &v, &err), CR_OK);
    ASSERT_NEAR(v, 44, 0);
    ASSERT_EQ_INT(scripts_upgrade_value(sc, "hatch", "top_speed", 1, &v, &err), CR_OK);
    ASSERT_NEAR(v, 46, 0);
    ASSERT_EQ_INT(scripts_upgrade_value(sc, "hatch", "top_speed", 5, &v, &err), CR_OK);
    ASSERT_NEAR(v, 53, 0);
    ASSERT_EQ_INT(scripts_upgrade_value(sc, "raider", "weight", 3, &v, &err), CR_OK);
    ASSERT_NEAR(v, 1350 - 120, 0);
    ASSERT_EQ_INT(scripts_upgrade_value(sc, "coupe", "nitro_capacity", 2, &v, &err), CR_OK);
    ASSERT_NEAR(v, 4, 0);
    ASSERT_EQ_INT(scripts_upgrade_value(sc, "hatch", "top_speed", 6, &v, &err), CR_EINVAL);
    ASSERT_CONTAINS(err.msg, "0..5");
    ASSERT_EQ_INT(scripts_upgrade_value(sc, "hatch", "top_speed", -1, &v, &err), CR_EINVAL);
    ASSERT_EQ_INT(scripts_upgrade_value(sc, "tank", "top_speed", 1, &v, &err), CR_ENOTFOUND);
    ASSERT_EQ_INT(scripts_upgrade_value(sc, "hatch", "colour", 1, &v, &err), CR_ENOTFOUND);

    /* Pricing a purchase. */
    int64_t cost;
    ASSERT_EQ_INT(scripts_upgrade_cost(sc, "grip", 1, &cost, &err), CR_OK);
    ASSERT_EQ_INT(cost, 250);
    ASSERT_EQ_INT(scripts_upgrade_cost(sc, "grip", 4, &cost, &err), CR_OK);
    ASSERT_EQ_INT(cost, 900);
    ASSERT_EQ_INT(scripts_upgrade_cost(sc, "grip", 5, &cost, &err), CR_EINVAL);
    ASSERT_CONTAINS(err.msg, "1..4");
    ASSERT_EQ_INT(scripts_upgrade_cost(sc, "grip", 0, &cost, &err), CR_EINVAL);
    ASSERT_EQ_INT(scripts_upgrade_cost(sc, "paint", 1, &cost, &err), CR_ENOTFOUND);

    /* Mixed levels go through stats(); bad levels are refused before it. */
    CarStats k;
    UpgradeLevel lv[] = {{"grip", 4}, {"top_speed", 5}};
    ASSERT_EQ_INT(scripts_car_stats(sc, "hatch", lv, 2, &k, &err), CR_OK);
    ASSERT_NEAR(k.grip, 1.2, 1e-9);
    ASSERT_NEAR(k.top_speed, 53, 0);
    UpgradeLevel bad[] = {{"colour", 1}};
    ASSERT_EQ_INT(scripts_car_stats(sc, "hatch", bad, 1, &k, &err), CR_EINVAL);
    ASSERT_CONTAINS(err.msg, "colour");
    UpgradeLevel twice[] = {{"grip", 1}, {"grip", 2}};
    ASSERT_EQ_INT(scripts_car_stats(sc, "hatch", twice, 2, &k, &err), CR_EINVAL);
    scripts_close(sc);
    drop_scripts();
}

/* A broken upgrades.lua is refused when the scripts open, naming what. */
TEST(broken_upgrades_are_refused_at_open) {
    static const struct {
        const char *from, *to, *expect;
    } cases[] = {
        {"costs = { 200, 350, 550, 800, 1200 }", "costs = { 200, '350', 550, 800, 1200 }",
         "costs[2] must be a whole number"},
        {"costs = { 200, 350, 550, 800, 1200 }", "costs = { 200, -1, 550, 800, 1200 }",
         "costs[2] must be a whole number"},
        {"costs = { 200, 350, 550, 800, 1200 }", "costs = { 200, 0/0, 550, 800, 1200 }",
         "costs[2] must be a whole number"},
        {"price = 1500", "price = 1e300", "price must be a whole number"},
        {"price = 1500", "price = 2.5", "price must be a whole number"},
        {"name = \"Turbo Coupe\"", "name = 7", "field 'name' must be a string"},
        /* One more cost than deltas: level 6 makes stats() fail. */
        {"costs = { 200, 350, 550, 800, 1200 }", "costs = { 200, 350, 550, 800, 1200, 1500 }",
         "top_speed at level 6"},
        /* Levels that take a stat out of range are caught at open. */
        {"deltas = { -40, -40, -40 }", "deltas = { -40, -40, -1000 }", "weight"},
        {"deltas = { 1, 1 }", "deltas = { 1, 0.5 }", "whole number"},
        {"weight = { name", "colour = { name", "'colour' is not a car stat"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        make_scripts();
        char path[512];
        snprintf(path, sizeof path, "%s/upgrades.lua", tmpdir);
        FILE *f = fopen(path, "r");
        char text[8192];
        size_t n = fread(text, 1, sizeof text - 1, f);
        fclose(f);
        text[n] = 0;
        char *at = strstr(text, cases[i].from);
        ASSERT_TRUE(at != NULL);
        char out[8192];
        snprintf(out, sizeof out, "%.*s%s%s", (int)(at - text), text, cases[i].to,
                 at + strlen(cases[i].from));
        write_file("upgrades.lua", out);
        Scripts *sc = NULL;
        CrError err;
        ASSERT_EQ_INT(scripts_open(tmpdir, NULL, 0, &sc, &err), CR_ESCRIPT);
        ASSERT_CONTAINS(err.msg, "upgrades.lua");
        ASSERT_CONTAINS(err.msg, cases[i].expect);
        ASSERT_TRUE(sc == NULL);
        drop_scripts();
    }
}

TEST(overrides_are_typed_and_known) {
    make_scripts();
    Scripts *sc;
    CrError err;
    ConfigOverride ok[] = {{"STAGE_MAX_LENGTH", "2500"}};
    ASSERT_EQ_INT(scripts_open(tmpdir, ok, 1, &sc, &err), CR_OK);
    ASSERT_NEAR(scripts_stage_limits(sc).max_length, 2500, 0);
    scripts_close(sc);
    ConfigOverride unknown[] = {{"STAGE_MAX_LENGHT", "2500"}};
    ASSERT_EQ_INT(scripts_open(tmpdir, unknown, 1, &sc, &err), CR_ENOTFOUND);
    ASSERT_CONTAINS(err.msg, "STAGE_MAX_LENGHT");
    ConfigOverride bad[] = {{"PORT", "eighty"}};
    ASSERT_EQ_INT(scripts_open(tmpdir, bad, 1, &sc, &err), CR_EINVAL);
    ASSERT_CONTAINS(err.msg, "PORT must be a number");
    ConfigOverride fixed[] = {{"TICK_RATE", "30"}};
    ASSERT_EQ_INT(scripts_open(tmpdir, fixed, 1, &sc, &err), CR_EINVAL);
    ASSERT_CONTAINS(err.msg, "fixed at 60");
    setenv("CODERALLY_STAGE_MIN_LENGTH", "1200", 1);
    ASSERT_EQ_INT(scripts_open(tmpdir, NULL, 0, &sc, &err), CR_OK);
    ASSERT_NEAR(scripts_stage_limits(sc).min_length, 1200, 0);
    scripts_close(sc);
    setenv("CODERALLY_STAGE_MIN_LENGTH", "lots", 1);
    ASSERT_EQ_INT(scripts_open(tmpdir, NULL, 0, &sc, &err), CR_EINVAL);
    ASSERT_CONTAINS(err.msg, "CODERALLY_STAGE_MIN_LENGTH");
    unsetenv("CODERALLY_STAGE_MIN_LENGTH");
    drop_scripts();
}

TEST(broken_generators_are_reported_with_file_and_line) {
    make_scripts();
    write_file("stages/broken.lua",
               "return {\n  name = 'broken',\n  version = '1',\n"
               "  generate = function(seed) return nil + 1 end\n");
    write_file("stages/liar.lua",
               "return { name = 'liar', version = '1',\n"
               "  generate = function(seed, p)\n"
               "    local pts = {}\n"
               "    for i = 0, 600 do pts[#pts + 1] = {x = i * 2, y = 0, width = 12,\n"
               "      surface = i == 300 and 'lava' or 'asphalt'} end\n"
               "    return {points = pts, checkpoints = {200}}\n"
               "  end }\n");
    write_file("stages/skinny.lua",
               "return { name = 'skinny', version = '1',\n"
               "  generate = function(seed, p)\n"
               "    local pts = {}\n"
               "    for i = 0, 600 do pts[#pts + 1] = {x = i * 2, y = 0,\n"
               "      width = i == 250 and 3 or 12, surface = 'gravel'} end\n"
               "    return {points = pts, checkpoints = {200}}\n"
               "  end }\n");
    write_file("stages/loop.lua",
               "return { name = 'loop', version = '1',\n"
               "  generate = function() while true do end end }\n");
    Scripts *sc;
    CrError err;
    ASSERT_EQ_INT(scripts_open(tmpdir, NULL, 0, &sc, &err), CR_OK);
    const GeneratorInfo *gi;
    ASSERT_EQ_INT(scripts_find_generator(sc, "broken", &gi, &err), CR_OK);
    Stage *st;
    /* A syntax error: listed as broken, refused with file:line. */
    ASSERT_EQ_INT(scripts_generate_stage(sc, "broken", 1, NULL, 0, &st, &err), CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "broken.lua:");
    ASSERT_EQ_INT(scripts_generate_stage(sc, "liar", 1, NULL, 0, &st, &err), CR_ESTAGE);
    ASSERT_CONTAINS(err.msg, "liar.lua:2: generate(seed=1)");
    ASSERT_CONTAINS(err.msg, "point 301");
    ASSERT_CONTAINS(err.msg, "lava");
    ASSERT_EQ_INT(scripts_generate_stage(sc, "skinny", 1, NULL, 0, &st, &err), CR_ESTAGE);
    ASSERT_CONTAINS(err.msg, "skinny.lua:2");
    ASSERT_CONTAINS(err.msg, "point 251");
    ASSERT_CONTAINS(err.msg, "width 3");
    ASSERT_EQ_INT(scripts_generate_stage(sc, "loop", 1, NULL, 0, &st, &err), CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "instruction budget");
    ASSERT_EQ_INT(scripts_generate_stage(sc, "nope", 1, NULL, 0, &st, &err), CR_ENOTFOUND);
    ASSERT_CONTAINS(err.msg, "known:");
    ConfigOverride bad[] = {{"no_such_param", "1"}};
    ASSERT_EQ_INT(scripts_generate_stage(sc, "forest", 1, bad, 1, &st, &err), CR_EINVAL);
    ASSERT_CONTAINS(err.msg, "no_such_param");
    scripts_close(sc);
    drop_scripts();
}

TEST(generators_share_code_through_import) {
    make_scripts();
    char dir[512];
    snprintf(dir, sizeof dir, "%s/lib", tmpdir);
    mkdir(dir, 0755);
    write_file(
        "lib/straight.lua",
        "local M = {}\n"
        "function M.points(n, surface)\n"
        "  local pts = {}\n"
        "  for i = 0, n do pts[#pts + 1] = {x = i * 2, y = 0, width = 12, surface = surface} end\n"
        "  return pts\n"
        "end\n"
        "return M\n");
    write_file("lib/selfish.lua", "return import('selfish')\n");
    write_file("lib/nested.lua", "return { kit = import('straight'), limits = rally.limits }\n");
    write_file("lib/flaky.lua", "error('not today')\n");
    write_file("stages/nest.lua",
               "local n = import('nested')\n"
               "assert(n.limits.min_length == 1000, 'nested frozen table lost its fields')\n"
               "assert(type(n.kit.points) == 'function', 'nested module lost its fields')\n"
               "local ok, e1 = pcall(import, 'flaky')\n"
               "local ok2, e2 = pcall(import, 'flaky')\n"
               "assert(not ok and not ok2 and e2:find('not today'), e2)\n"
               "return { name = 'nest', version = '1', generate = function() end }\n");
    write_file("stages/drag.lua",
               "local kit = import('straight')\n"
               "return { name = 'drag', version = '1',\n"
               "  generate = function(seed, p)\n"
               "    return {points = kit.points(600, 'asphalt'), checkpoints = {200}}\n"
               "  end }\n");
    write_file("stages/vandal.lua",
               "local kit = import('straight')\n"
               "kit.points = nil\n"
               "return { name = 'vandal', version = '1', generate = kit.points }\n");
    write_file("stages/cycle.lua", "import('selfish')\nreturn {}\n");
    write_file("stages/escape.lua", "import('../config')\nreturn {}\n");
    write_file("stages/ghost.lua", "import('nothing')\nreturn {}\n");
    Scripts *sc;
    CrError err;
    ASSERT_EQ_INT(scripts_open(tmpdir, NULL, 0, &sc, &err), CR_OK);
    Stage *st;
    const GeneratorInfo *gi;
    ASSERT_EQ_INT(scripts_generate_stage(sc, "drag", 1, NULL, 0, &st, &err), CR_OK);
    ASSERT_NEAR(stage_length(st), 1200, 1e-9);
    stage_destroy(st);
    ASSERT_TRUE(scripts_find_generator(sc, "nest", &gi, &err) == CR_OK);
    for (size_t i = 0; i < scripts_generator_count(sc); i++)
        if (!strcmp(scripts_generator(sc, i)->name, "nest") && scripts_generator_error(sc, i))
            FAIL_AT("nest: %s", scripts_generator_error(sc, i));
    ASSERT_EQ_INT(scripts_generate_stage(sc, "vandal", 1, NULL, 0, &st, &err), CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "read-only");
    ASSERT_EQ_INT(scripts_generate_stage(sc, "cycle", 1, NULL, 0, &st, &err), CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "imports itself");
    ASSERT_EQ_INT(scripts_generate_stage(sc, "escape", 1, NULL, 0, &st, &err), CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "bad module name");
    ASSERT_EQ_INT(scripts_generate_stage(sc, "ghost", 1, NULL, 0, &st, &err), CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "lib/nothing.lua");
    scripts_close(sc);
    drop_scripts();
}

TEST(generators_are_deterministic) {
    make_scripts();
    /* Two separate loads, so the stage cache cannot answer for the second. */
    Scripts *sc, *sc2;
    CrError err;
    ASSERT_EQ_INT(scripts_open(tmpdir, NULL, 0, &sc, &err), CR_OK);
    ASSERT_EQ_INT(scripts_open(tmpdir, NULL, 0, &sc2, &err), CR_OK);
    for (size_t g = 0; g < scripts_generator_count(sc); g++) {
        const char *name = scripts_generator(sc, g)->name;
        Stage *a, *b, *c;
        ASSERT_EQ_INT(scripts_generate_stage(sc, name, 7, NULL, 0, &a, &err), CR_OK);
        ASSERT_EQ_INT(scripts_generate_stage(sc2, name, 7, NULL, 0, &b, &err), CR_OK);
        ASSERT_EQ_INT(scripts_generate_stage(sc, name, 8, NULL, 0, &c, &err), CR_OK);
        ASSERT_TRUE(a != b);
        ASSERT_EQ_U64(stage_hash(a), stage_hash(b));
        ASSERT_TRUE(stage_hash(a) != stage_hash(c));
        stage_destroy(a);
        stage_destroy(b);
        stage_destroy(c);
    }
    scripts_close(sc2);
    scripts_close(sc);
    drop_scripts();
}

TEST(stages_are_cached_by_generator_seed_and_params) {
    make_scripts();
    Scripts *sc;
    CrError err;
    ASSERT_EQ_INT(scripts_open(tmpdir, NULL, 0, &sc, &err), CR_OK);
    Stage *a, *b, *c, *d;
    ConfigOverride p1[] = {{"width", "10"}}, p2[] = {{"width", "10.0"}};
    ASSERT_EQ_INT(scripts_generate_stage(sc, "forest", 3, p1, 1, &a, &err), CR_OK);
    ASSERT_EQ_INT(scripts_generate_stage(sc, "forest", 3, p2, 1, &b, &err), CR_OK);
    ASSERT_EQ_INT(scripts_generate_stage(sc, "forest", 3, NULL, 0, &c, &err), CR_OK);
    ASSERT_EQ_INT(scripts_generate_stage(sc, "forest", 4, p1, 1, &d, &err), CR_OK);
    ASSERT_TRUE(a == b); /* "10" and "10.0" are the same request */
    ASSERT_TRUE(a != c && a != d);
    /* Fill the cache past its size: the oldest goes, but references held
     * elsewhere stay valid, also after the scripts are closed. */
    for (uint64_t seed = 100; seed < 140; seed++) {
        Stage *x;
        ASSERT_EQ_INT(scripts_generate_stage(sc, "coast", seed, NULL, 0, &x, &err), CR_OK);
        stage_destroy(x);
    }
    Stage *e;
    ASSERT_EQ_INT(scripts_generate_stage(sc, "forest", 3, p1, 1, &e, &err), CR_OK);
    ASSERT_TRUE(e != a);
    ASSERT_EQ_U64(stage_hash(e), stage_hash(a));
    scripts_close(sc);
    ASSERT_LT(1000, stage_length(a));
    stage_destroy(a);
    stage_destroy(b);
    stage_destroy(c);
    stage_destroy(d);
    stage_destroy(e);
    drop_scripts();
}

TEST(broken_rules_are_refused_and_hook_errors_stop_the_race) {
    make_scripts();
    write_file("rules/bad.lua",
               "return { name = 'bad', countdown_s = 'soon', time_limit_s = 100 }\n");
    write_file("rules/angry.lua",
               "return { name = 'angry', countdown_s = 0, time_limit_s = 300,\n"
               "  on_checkpoint = function(ev)\n"
               "    error('no checkpoints today')\n"
               "  end }\n");
    Scripts *sc;
    CrError err;
    ASSERT_EQ_INT(scripts_open(tmpdir, NULL, 0, &sc, &err), CR_OK);
    Stage *st;
    ASSERT_EQ_INT(scripts_generate_stage(sc, "forest", 3, NULL, 0, &st, &err), CR_OK);
    Rules *r;
    ASSERT_EQ_INT(rules_load(sc, "bad", st, &r, &err), CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "countdown_s");
    ASSERT_EQ_INT(rules_load(sc, "missing", st, &r, &err), CR_ENOTFOUND);
    ASSERT_EQ_INT(rules_load(sc, "../config", st, &r, &err), CR_EINVAL);
    CarEntry car = {.name = "x", .car_type = "hatch", .kind = CAR_AI};
    ASSERT_EQ_INT(scripts_car_stats(sc, "hatch", NULL, 0, &car.stats, &err), CR_OK);
    Session s;
    ASSERT_EQ_INT(session_start_on(sc, st, "angry", &car, 1, &s, &err), CR_OK);
    ASSERT_EQ_INT(session_run(&s, &err), CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "angry.lua:3: no checkpoints today");
    session_end(&s);
    stage_destroy(st);
    scripts_close(sc);
    drop_scripts();
}

TEST(standard_rules_score_and_penalise) {
    make_scripts();
    Scripts *sc;
    CrError err;
    ASSERT_EQ_INT(scripts_open(tmpdir, NULL, 0, &sc, &err), CR_OK);
    CarEntry cars[3];
    memset(cars, 0, sizeof cars);
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ_INT(scripts_car_stats(sc, "hatch", NULL, 0, &cars[i].stats, &err), CR_OK);
        cars[i].kind = CAR_AI;
    }
    Session s;
    ASSERT_EQ_INT(session_start(sc, "forest", 5, NULL, 0, "standard", cars, 3, &s, &err), CR_OK);
    ASSERT_EQ_INT(rules_race(s.rules)->countdown_ticks, 180);
    ASSERT_EQ_INT(session_run(&s, &err), CR_OK);
    RaceResult res[3];
    int pts[3];
    race_results(s.room, res);
    ASSERT_EQ_INT(rules_points(s.rules, res, 3, pts, &err), CR_OK);
    ASSERT_EQ_INT(pts[0], 25);
    ASSERT_EQ_INT(pts[1], 18);
    ASSERT_EQ_INT(pts[2], 15);
    session_end(&s);
    scripts_close(sc);
    drop_scripts();
}

TEST_MAIN
