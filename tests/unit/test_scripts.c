/* test_scripts.c - the scripts snapshot as a hostile modder meets it:
 * tables with erroring metamethods in every place the host reads script
 * results, pattern bombs, budgets per call and per tick, errors that name
 * file and line whatever is thrown, strict rules tables, snapshots that an
 * edit on disk cannot reach, and reloads that keep the last good one. */
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>

#include "lua/lbounds.h"
#include "lua/lhost.h"
#include "test.h"
#include "fixtures.h"

static char tmpdir[256];

static void write_file(const char *rel, const char *text) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
    FILE *f = fopen(path, "w");
    if (!f) abort();
    fputs(text, f);
    fclose(f);
}

static void remove_file(const char *rel) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
    unlink(path);
}

static void make_scripts(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/cr_scripts2_%d", (int)getpid());
    char cmd[1024];
    const char *src = getenv("CR_SCRIPTS");
    snprintf(cmd, sizeof cmd, "rm -rf %s && cp -r %s %s && mkdir -p %s/lib", tmpdir,
             src ? src : "scripts", tmpdir, tmpdir);
    if (system(cmd) != 0) abort();
}

static void drop_scripts(void) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0) abort();
}

/* A table every metamethod of which errors (a script cannot add __gc). */
#define EVIL                                                                            \
    "local function boom() error('metamethod ran') end\n"                               \
    "local evil = setmetatable({}, {__index = boom, __newindex = boom, __len = boom,\n" \
    "  __pairs = boom, __eq = boom, __lt = boom, __le = boom, __tostring = boom,\n"     \
    "  __concat = boom, __call = boom, __name = 'evil'})\n"

/* A generator that returns `ret` from generate(). */
static void evil_generator(const char *name, const char *header, const char *ret) {
    char text[2048];
    snprintf(text, sizeof text,
             EVIL
             "return { name = '%s', version = '1', %s\n"
             "  generate = function(seed, p) return %s end }\n",
             name, header, ret);
    char rel[64];
    snprintf(rel, sizeof rel, "stages/%s.lua", name);
    write_file(rel, text);
}

TEST(metamethods_in_generators_are_never_run) {
    make_scripts();
    write_file("stages/evil1.lua", EVIL "return evil\n");
    evil_generator("evil2", "params = evil,", "nil");
    evil_generator("evil3", "params = { k = evil },", "nil");
    evil_generator("evil4", "", "evil");
    evil_generator("evil5", "", "{ points = evil, checkpoints = evil }");
    evil_generator("evil6", "", "{ points = { evil, evil }, checkpoints = {} }");
    evil_generator("evil7", "",
                   "{ points = { {x = 0, y = 0, width = 10, surface = evil},\n"
                   "  {x = 0, y = 0, width = 10, surface = evil} } }");
    write_file("stages/evil8.lua", EVIL
               "return setmetatable({ name = 'evil8', version = '1',\n"
               "  generate = function() return evil end }, getmetatable(evil))\n");
    Scripts *sc;
    CrError err;
    ASSERT_EQ_INT(scripts_open(tmpdir, NULL, 0, &sc, &err), CR_OK);
    static const struct {
        const char *name, *expect;
        int rc;
    } cases[] = {
        {"evil1", "stages/evil1.lua: field 'name' must be a string", CR_ESCRIPT},
        {"evil2", "stages/evil4.lua:", CR_ESTAGE},
        {"evil3", "stages/evil3.lua: param 'k' must be", CR_ESCRIPT},
        {"evil4", "stages/evil4.lua:6: generate(seed=1): stage.points must be a list", CR_ESTAGE},
        {"evil5", "a stage needs 2 to 20000 points, not 0", CR_ESTAGE},
        {"evil6", "point 1: field 'x' must be a number", CR_ESTAGE},
        {"evil7", "unknown surface", CR_ESTAGE},
        {"evil8", "stages/evil8.lua:6: generate(seed=1): stage.points must be a list", CR_ESTAGE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Stage *st = NULL;
        int rc = scripts_generate_stage(sc, cases[i].name, 1, NULL, 0, &st, &err);
        if (i == 1) { /* evil params read raw: no parameters, then a nil stage */
            ASSERT_EQ_INT(rc, CR_ESTAGE);
            ASSERT_CONTAINS(err.msg, "stages/evil2.lua:");
            ASSERT_CONTAINS(err.msg, "not a nil");
            continue;
        }
        ASSERT_EQ_INT(rc, cases[i].rc);
        ASSERT_CONTAINS(err.msg, cases[i].expect);
        ASSERT_TRUE(strstr(err.msg, "metamethod ran") == NULL);
        ASSERT_TRUE(st == NULL);
    }
    /* The others still work. */
    Stage *st;
    ASSERT_EQ_INT(scripts_generate_stage(sc, "forest", 1, NULL, 0, &st, &err), CR_OK);
    stage_destroy(st);
    scripts_close(sc);
    drop_scripts();
}

TEST(metamethods_in_config_upgrades_and_imports_are_never_run) {
    make_scripts();
    Scripts *sc;
    CrError err;
    write_file("config.lua", EVIL "return evil\n");
    ASSERT_EQ_INT(scripts_open(tmpdir, NULL, 0, &sc, &err), CR_EINVAL);
    ASSERT_CONTAINS(err.msg, "config.lua: setting TICK_RATE is missing");
    drop_scripts();

    static const char *const upgrades[] = {
        EVIL "return evil\n",
        EVIL "return { car_types = evil, stats = function() return evil end }\n",
        EVIL "return { car_types = { hatch = evil }, stats = function() return evil end }\n",
        EVIL
        "return { car_types = { hatch = {} }, upgrades = evil,\n"
        "  stats = function() return evil end }\n",
        EVIL
        "return { car_types = { hatch = {} }, upgrades = { grip = evil },\n"
        "  stats = function() return {} end }\n",
    };
    static const char *const expect[] = {
        "upgrades.lua: field 'car_types' must be a table", "upgrades.lua: no car types",
        "upgrades.lua: stats('hatch') is missing number 'top_speed'",
        "stats('hatch') is missing number 'top_speed'",
        "upgrades.lua: upgrade 'grip': field 'costs' must be a list"};
    for (size_t i = 0; i < sizeof upgrades / sizeof upgrades[0]; i++) {
        make_scripts();
        write_file("upgrades.lua", upgrades[i]);
        ASSERT_EQ_INT(scripts_open(tmpdir, NULL, 0, &sc, &err), CR_ESCRIPT);
        ASSERT_CONTAINS(err.msg, expect[i]);
        ASSERT_TRUE(strstr(err.msg, "metamethod ran") == NULL);
        drop_scripts();
    }

    /* An imported module's table is copied raw and frozen. */
    make_scripts();
    write_file("lib/evil.lua", EVIL "return setmetatable({ answer = 42 }, getmetatable(evil))\n");
    write_file("stages/user.lua",
               "local m = import('evil')\n"
               "assert(m.answer == 42)\n"
               "return { name = 'user', version = '1', generate = function() return m end }\n");
    ASSERT_EQ_INT(scripts_open(tmpdir, NULL, 0, &sc, &err), CR_OK);
    Stage *st;
    ASSERT_EQ_INT(scripts_generate_stage(sc, "user", 1, NULL, 0, &st, &err), CR_ESTAGE);
    ASSERT_CONTAINS(err.msg, "stage.points must be a list");
    scripts_close(sc);
    drop_scripts();
}

/* Calls a hook of r directly, as the race does, at race time t. */
static double hook(Rules *r, double (*fn)(void *, const RuleEvent *), double t) {
    RuleEvent ev = {.car = 0, .checkpoint = 0, .time_s = t, .other = -1};
    return fn(rules_race(r)->ud, &ev);
}

TEST(metamethods_in_rules_are_never_run) {
    make_scripts();
    write_file("rules/evil1.lua", EVIL "return evil\n");
    write_file("rules/evil2.lua", EVIL
               "return { name = 'evil2', countdown_s = 0, time_limit_s = function() return evil "
               "end }\n");
    write_file("rules/evil3.lua", EVIL
               "return { name = 'evil3', countdown_s = 0, time_limit_s = 60,\n"
               "  on_checkpoint = function() return evil end,\n"
               "  on_finish = function() return evil end,\n"
               "  on_collision = function() return evil end,\n"
               "  points = function() return evil end }\n");
    write_file("rules/evil4.lua", EVIL
               "return { name = 'evil4', countdown_s = 0, time_limit_s = 60,\n"
               "  points = function() return { evil } end }\n");
    Scripts *sc;
    CrError err;
    ASSERT_EQ_INT(scripts_open(tmpdir, NULL, 0, &sc, &err), CR_OK);
    Stage *st = fixture_stage(300, 0, 0, 0, 12, SURFACE_ASPHALT, 100);
    Rules *r;
    ASSERT_EQ_INT(rules_load(sc, "evil1", st, &r, &err), CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "rules/evil1.lua: field 'name' must be the string 'evil1'");
    ASSERT_EQ_INT(rules_load(sc, "evil2", st, &r, &err), CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "rules/evil2.lua: time_limit_s must be (or return) a number");
    ASSERT_EQ_INT(rules_load(sc, "evil3", st, &r, &err), CR_OK);
    const RaceRules *rr = rules_race(r);
    double (*hooks[3])(void *, const RuleEvent *) = {rr->on_checkpoint, rr->on_finish,
                                                     rr->on_collision};
    static const char *const lines[] = {"rules/evil3.lua:6: on_checkpoint must return",
                                        "rules/evil3.lua:7: on_finish must return",
                                        "rules/evil3.lua:8: on_collision must return"};
    for (int i = 0; i < 3; i++) {
        ASSERT_TRUE(hook(r, hooks[i], 1.0 + i) < 0);
        ASSERT_CONTAINS(rr->last_error(rr->ud), lines[i]);
        ASSERT_CONTAINS(rr->last_error(rr->ud), "not a table");
    }
    RaceResult res = {.car = 0, .position = 1, .finished = true, .time_s = 50};
    int pts;
    ASSERT_EQ_INT(rules_points(r, &res, 1, &pts, &err), CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "rules/evil3.lua:9: points[1] must be a whole number");
    rules_destroy(r);
    ASSERT_EQ_INT(rules_load(sc, "evil4", st, &r, &err), CR_OK);
    ASSERT_EQ_INT(rules_points(r, &res, 1, &pts, &err), CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "rules/evil4.lua:6: points[1] must be a whole number");
    ASSERT_TRUE(strstr(err.msg, "metamethod ran") == NULL);
    rules_destroy(r);
    stage_destroy(st);
    scripts_close(sc);
    drop_scripts();
}

/* A host bug on purpose: a non-raw read of a script table outside any
 * protected call, which in plain Lua would abort the process. */
static void unprotected_read(lua_State *L, void *ud) {
    (void)ud;
    lua_getfield(L, -1, "anything");
}

TEST(a_panic_is_caught_and_the_state_abandoned) {
    LuaHost *h;
    CrError err;
    ASSERT_EQ_INT(lhost_create(LHOST_DEFAULT_MEMORY, 1000000, &h, &err), CR_OK);
    const char *code = "return setmetatable({}, {__index = function() error('from __index') end})";
    ASSERT_EQ_INT(lhost_run_string(h, code, strlen(code), "=evil", &err), CR_OK);
    ASSERT_EQ_INT(lhost_guard(h, unprotected_read, NULL, &err), CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "from __index");
    ASSERT_CONTAINS(err.msg, "abandoned");
    /* Everything after that on this state fails the same way, at once. */
    ASSERT_EQ_INT(lhost_run_string(h, "return 1", 8, "=x", &err), CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "abandoned");
    lhost_destroy(h);
}

/* ---- pattern bombs and C loops ------------------------------------------ */

#define BOMB "string.find(string.rep('a', 30000), '.-.-.-.-b')"

TEST(pattern_bombs_fail_fast_in_generators) {
    make_scripts();
    write_file("stages/bomb.lua",
               "return { name = 'bomb', version = '1',\n"
               "  generate = function()\n"
               "    local x = 1\n"
               "    return " BOMB
               "\n"
               "  end }\n");
    /* The method form goes through the same wrapper. */
    write_file("stages/bomb2.lua",
               "return { name = 'bomb2', version = '1',\n"
               "  generate = function()\n"
               "    return (('a'):rep(30000)):match('(.-)(.-)(.-)b')\n"
               "  end }\n");
    write_file("stages/bomb3.lua",
               "return { name = 'bomb3', version = '1',\n"
               "  generate = function()\n"
               "    for _ in string.gmatch(('a'):rep(30000), 'a*a*a*b') do end\n"
               "  end }\n");
    write_file("stages/bomb4.lua",
               "return { name = 'bomb4', version = '1',\n"
               "  generate = function()\n"
               "    local ok = pcall(string.gsub, ('a'):rep(30000), '.-.-b', 'x')\n"
               "    return 'carried on after ' .. tostring(ok)\n"
               "  end }\n");
    write_file("stages/bomb6.lua",
               "return { name = 'bomb6', version = '1',\n"
               "  generate = function()\n"
               "    return string.find(string.rep('a', 30000), '\\0.-.-.-.-b')\n"
               "  end }\n");
    write_file("stages/bomb5.lua",
               "return { name = 'bomb5', version = '1',\n"
               "  generate = function()\n"
               "    local t = {}\n"
               "    return table.concat(t, ',', 1, 1e12)\n"
               "  end }\n");
    Scripts *sc;
    CrError err;
    ASSERT_EQ_INT(scripts_open(tmpdir, NULL, 0, &sc, &err), CR_OK);
    Stage *st;
    ASSERT_EQ_INT(scripts_generate_stage(sc, "bomb", 1, NULL, 0, &st, &err), CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "stages/bomb.lua:4: string.find on 30000 bytes");
    ASSERT_CONTAINS(err.msg, "over the instruction budget of 200000000 per call");
    ASSERT_EQ_INT(scripts_generate_stage(sc, "bomb2", 1, NULL, 0, &st, &err), CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "stages/bomb2.lua:3: string.match");
    ASSERT_EQ_INT(scripts_generate_stage(sc, "bomb3", 1, NULL, 0, &st, &err), CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "stages/bomb3.lua:3: string.gmatch");
    /* pcall cannot swallow it. */
    ASSERT_EQ_INT(scripts_generate_stage(sc, "bomb4", 1, NULL, 0, &st, &err), CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "stages/bomb4.lua:");
    ASSERT_CONTAINS(err.msg, "instruction budget of 200000000 per call exceeded");
    /* A NUL in the pattern does not hide what follows it. */
    ASSERT_EQ_INT(scripts_generate_stage(sc, "bomb6", 1, NULL, 0, &st, &err), CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "stages/bomb6.lua:3: string.find");
    ASSERT_EQ_INT(scripts_generate_stage(sc, "bomb5", 1, NULL, 0, &st, &err), CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "stages/bomb5.lua:4: table.concat");
    scripts_close(sc);
    drop_scripts();
}

/* Appending with table.insert stays linear: a generator may build its list
 * of points that way. */
TEST(building_a_list_with_insert_is_linear) {
    LuaHost *h;
    CrError err;
    ASSERT_EQ_INT(lhost_create(LHOST_DEFAULT_MEMORY, 20000000, &h, &err), CR_OK);
    const char *code =
        "local t = {}\n"
        "for i = 1, 100000 do table.insert(t, {x = i}) end\n"
        "for i = 1, 100000 do table.remove(t) end\n"
        "return #t";
    ASSERT_EQ_INT(lhost_run_string(h, code, strlen(code), "=list", &err), CR_OK);
    ASSERT_LT(lhost_spent(h), 10000000);
    /* Inserting at the front shifts everything: that is charged. */
    const char *front = "local t = {}\nfor i = 1, 100000 do table.insert(t, 1, i) end";
    ASSERT_EQ_INT(lhost_run_string(h, front, strlen(front), "=front", &err), CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "front:2: table.insert would cost");
    lhost_destroy(h);
}

TEST(pattern_cost_estimates) {
    /* Linear for what does not backtrack, polynomial for what does. */
    ASSERT_NEAR(lbounds_pattern_cost(100, "abc", 3), 101 + 3, 0);
    ASSERT_NEAR(lbounds_pattern_cost(100, "^abc", 4), 1 + 4, 0);
    ASSERT_NEAR(lbounds_pattern_cost(100, "%s+", 3), 101 * 101 + 3, 0);
    ASSERT_NEAR(lbounds_pattern_cost(100, ".-b", 3), 101 * 101 + 3, 0);
    ASSERT_NEAR(lbounds_pattern_cost(100, ".-.-b", 5), 101.0 * 101 * 101 + 5, 1);
    ASSERT_NEAR(lbounds_pattern_cost(100, "[%]a]*x", 7), 101 * 101 + 7, 0);
    ASSERT_NEAR(lbounds_pattern_cost(100, "a?b", 3), 101 * 2 + 3, 0);
    ASSERT_LT(1e20, lbounds_pattern_cost(30000, ".-.-.-.-b", 9));
}

/* ---- errors name file and line ------------------------------------------ */

static int run(LuaHost **h, const char *code, size_t mem, uint64_t budget, CrError *err) {
    if (lhost_create(mem, budget, h, err)) return -100;
    int rc = lhost_run_string(*h, code, strlen(code), "@stages/x.lua", err);
    lhost_destroy(*h);
    return rc;
}

TEST(every_error_names_file_and_line) {
    static const struct {
        const char *code, *expect;
    } cases[] = {
        {"local a = 1\nerror({})", "stages/x.lua:2: error object is a table value"},
        {"local a = 1\nerror(nil)", "stages/x.lua:2: error object is a nil value"},
        {"local a = 1\nerror(setmetatable({}, {__tostring = error}))",
         "stages/x.lua:2: error object is a table value"},
        {"local a = 1\nerror('plain', 0)", "stages/x.lua:2: plain"},
        {"local a = 1\nerror(42)", "stages/x.lua:2: 42"},
        {"local a = 1\nwhile true do end",
         "stages/x.lua:2: instruction budget of 1000000 per call"},
        {"local t = {}\nfor i = 1, 1e7 do t[i] = {} end", "stages/x.lua:2: memory cap of 1024 KiB"},
        {"local s = 'x'\nfor i = 1, 40 do s = s .. s end", "stages/x.lua:2:"},
        {"local a = 1\nreturn ('x'):rep(1e9)", "stages/x.lua:2:"},
        {"local a = 1\nreturn nil + 1", "stages/x.lua:2: attempt to perform arithmetic"},
        {"local a = 1\nreturn string.rep()", "stages/x.lua:2: bad argument #1 to 'rep'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        LuaHost *h;
        CrError err;
        ASSERT_EQ_INT(run(&h, cases[i].code, 1u << 20, 1000000, &err), CR_ESCRIPT);
        ASSERT_CONTAINS(err.msg, cases[i].expect);
        /* The first line starts with the position. */
        ASSERT_TRUE(strncmp(err.msg, "stages/x.lua:2:", 15) == 0);
    }
}

/* ---- budgets per call and per tick -------------------------------------- */

TEST(window_budget_is_shared_by_the_calls_of_a_tick) {
    LuaHost *h;
    CrError err;
    ASSERT_EQ_INT(lhost_create(LHOST_DEFAULT_MEMORY, 1000000, &h, &err), CR_OK);
    LhostBudget b = {.call_instructions = 100000,
                     .window_instructions = 150000,
                     .call_ms = 1000,
                     .window_ms = 1000,
                     .window_name = "tick"};
    lhost_set_budget(h, &b);
    const char *code = "return function(n) local x = 0 for i = 1, n do x = x + i end return x end";
    ASSERT_EQ_INT(lhost_run_string(h, code, strlen(code), "=burn", &err), CR_OK);
    lua_State *L = lhost_state(h);
    int fn = luaL_ref(L, LUA_REGISTRYINDEX);
    for (int tick = 0; tick < 3; tick++) {
        lhost_begin_window(h);
        /* About 80k instructions each: one fits, two do not. */
        lua_rawgeti(L, LUA_REGISTRYINDEX, fn);
        lua_pushinteger(L, 40000);
        ASSERT_EQ_INT(lhost_call(h, 1, 0, &err), CR_OK);
        lua_rawgeti(L, LUA_REGISTRYINDEX, fn);
        lua_pushinteger(L, 40000);
        ASSERT_EQ_INT(lhost_call(h, 1, 0, &err), CR_ESCRIPT);
        ASSERT_CONTAINS(err.msg, "burn:1: instruction budget of 150000 per tick exceeded");
    }
    /* One call over the per-call budget. */
    lhost_begin_window(h);
    lua_rawgeti(L, LUA_REGISTRYINDEX, fn);
    lua_pushinteger(L, 60000);
    ASSERT_EQ_INT(lhost_call(h, 1, 0, &err), CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "per call exceeded");
    lhost_destroy(h);
}

TEST(the_watchdog_stops_what_the_counts_miss) {
    LuaHost *h;
    CrError err;
    ASSERT_EQ_INT(lhost_create(LHOST_DEFAULT_MEMORY, 1000000, &h, &err), CR_OK);
    /* A budget too large to trip: only the clock can stop this. */
    LhostBudget b = {.call_instructions = UINT64_MAX / 2, .call_ms = 50, .window_name = "tick"};
    lhost_set_budget(h, &b);
    const char *code = "local a = 1\nwhile true do end";
    ASSERT_EQ_INT(lhost_run_string(h, code, strlen(code), "=slow", &err), CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "slow:2: watchdog: the script ran too long");
    lhost_destroy(h);
}

TEST(a_wall_clock_backstop_ends_what_the_cpu_clock_allows) {
    LuaHost *h;
    CrError err;
    ASSERT_EQ_INT(lhost_create(LHOST_DEFAULT_MEMORY, 1000000, &h, &err), CR_OK);
    /* Counts and CPU clock set out of reach: only the wall can stop this. */
    LhostBudget b = {.call_instructions = UINT64_MAX / 2,
                     .call_ms = 600000,
                     .wall_ms = 50,
                     .window_name = "tick"};
    lhost_set_budget(h, &b);
    const char *code = "local a = 1\nwhile true do end";
    ASSERT_EQ_INT(lhost_run_string(h, code, strlen(code), "=stuck", &err), CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "stuck:2: wall-clock watchdog: the script ran for over 50 ms");
    lhost_destroy(h);
}

/* Rules that burn: every hook call runs far past its budget. */
static const char BURN_RULES[] =
    "return { name = 'burn', countdown_s = 0, time_limit_s = 60,\n"
    "  on_checkpoint = function(ev)\n"
    "    local n = 0\n"
    "    while true do n = n + 1 end\n"
    "  end }\n";

TEST(a_burning_rules_hook_aborts_its_race_alone) {
    make_scripts();
    write_file("rules/burn.lua", BURN_RULES);
    Scripts *sc;
    CrError err;
    ASSERT_EQ_INT(scripts_open(tmpdir, NULL, 0, &sc, &err), CR_OK);
    Stage *st = fixture_stage(600, 0, 0, 0, 14, SURFACE_ASPHALT, 100);
    CarEntry car = {.name = "a", .car_type = "hatch", .kind = CAR_AI, .stats = fixture_stats()};
    Rules *burn, *std;
    ASSERT_EQ_INT(rules_load(sc, "burn", st, &burn, &err), CR_OK);
    ASSERT_EQ_INT(rules_load(sc, "standard", st, &std, &err), CR_OK);
    RaceRoom *a, *b;
    ASSERT_EQ_INT(race_create(st, &car, 1, rules_race(burn), &a, &err), CR_OK);
    ASSERT_EQ_INT(race_create(st, &car, 1, rules_race(std), &b, &err), CR_OK);
    CarInput full = {.throttle = 1};
    race_set_input(a, 0, &full);
    race_set_input(b, 0, &full);
    int rc_a = CR_OK;
    CrError err_a = {{0}};
    for (int t = 0; t < 60 * CR_TICK_RATE && race_phase(b) != PHASE_FINISHED; t++) {
        if (race_phase(a) != PHASE_FINISHED) {
            int rc = race_step(a, &err_a);
            if (rc) rc_a = rc;
        }
        ASSERT_EQ_INT(race_step(b, &err), CR_OK);
    }
    ASSERT_EQ_INT(rc_a, CR_ESCRIPT);
    ASSERT_CONTAINS(err_a.msg, "rules/burn.lua:4: instruction budget of 50000 per call exceeded");
    ASSERT_EQ_INT(race_phase(a), PHASE_FINISHED);
    /* The other race ran on to its end. */
    ASSERT_EQ_INT(race_phase(b), PHASE_FINISHED);
    RaceResult res;
    race_results(b, &res);
    ASSERT_TRUE(res.finished);
    race_destroy(a);
    race_destroy(b);
    rules_destroy(burn);
    rules_destroy(std);
    stage_destroy(st);
    scripts_close(sc);
    drop_scripts();
}

TEST(rules_budgets_are_per_call_and_per_tick) {
    make_scripts();
    /* Each call spends about 30k instructions: under the 50k per call;
     * three fit in the 100k of a tick, four do not. */
    write_file("rules/busy.lua",
               "return { name = 'busy', countdown_s = 0, time_limit_s = 60,\n"
               "  on_collision = function(ev)\n"
               "    local x = 0\n"
               "    for i = 1, 15000 do x = x + i end\n"
               "  end }\n");
    write_file("rules/bomb.lua",
               "return { name = 'bomb', countdown_s = 0, time_limit_s = 60,\n"
               "  on_finish = function(ev)\n"
               "    return " BOMB
               " and 0\n"
               "  end }\n");
    Scripts *sc;
    CrError err;
    ASSERT_EQ_INT(scripts_open(tmpdir, NULL, 0, &sc, &err), CR_OK);
    Stage *st = fixture_stage(300, 0, 0, 0, 12, SURFACE_ASPHALT, 100);
    Rules *r;
    ASSERT_EQ_INT(rules_load(sc, "busy", st, &r, &err), CR_OK);
    const RaceRules *rr = rules_race(r);
    /* A minute of ticks, one call each: never over. */
    for (int t = 1; t <= 60 * CR_TICK_RATE; t++)
        if (hook(r, rr->on_collision, (double)t / CR_TICK_RATE) != 0)
            FAIL_AT("tick %d: %s", t, rr->last_error(rr->ud));
    /* Four calls in one tick: the fourth is over the tick's budget. */
    double t = 61.0;
    for (int i = 0; i < 3; i++) ASSERT_NEAR(hook(r, rr->on_collision, t), 0, 0);
    ASSERT_TRUE(hook(r, rr->on_collision, t) < 0);
    ASSERT_CONTAINS(rr->last_error(rr->ud), "rules/busy.lua:");
    ASSERT_CONTAINS(rr->last_error(rr->ud), "instruction budget of 100000 per tick exceeded");
    /* The next tick has its own budget again. */
    ASSERT_NEAR(hook(r, rr->on_collision, t + 1.0 / CR_TICK_RATE), 0, 0);
    rules_destroy(r);
    ASSERT_EQ_INT(rules_load(sc, "bomb", st, &r, &err), CR_OK);
    rr = rules_race(r);
    ASSERT_TRUE(hook(r, rr->on_finish, 1) < 0);
    ASSERT_CONTAINS(rr->last_error(rr->ud), "rules/bomb.lua:3: string.find on 30000 bytes");
    ASSERT_CONTAINS(rr->last_error(rr->ud), "budget of 50000 per call");
    rules_destroy(r);
    stage_destroy(st);
    scripts_close(sc);
    drop_scripts();
}

/* ---- strict rules ------------------------------------------------------- */

TEST(rules_tables_are_strict) {
    make_scripts();
    write_file("rules/typo.lua",
               "return { name = 'typo', countdown_s = 0, time_limit_s = 60,\n"
               "  on_checkpiont = function() end }\n");
    write_file("rules/other.lua",
               "return { name = 'standard', countdown_s = 0, time_limit_s = 60 }\n");
    write_file("rules/hook.lua",
               "return { name = 'hook', countdown_s = 0, time_limit_s = 60,\n"
               "  on_finish = 'fast' }\n");
    write_file("rules/pen.lua",
               "local P = { '2', -1, 0/0, 1e9, 2 }\n"
               "local i = 0\n"
               "return { name = 'pen', countdown_s = 0, time_limit_s = 60,\n"
               "  on_checkpoint = function()\n"
               "    i = i + 1\n"
               "    return P[i]\n"
               "  end }\n");
    Scripts *sc;
    CrError err;
    ASSERT_EQ_INT(scripts_open(tmpdir, NULL, 0, &sc, &err), CR_OK);
    Stage *st = fixture_stage(300, 0, 0, 0, 12, SURFACE_ASPHALT, 100);
    Rules *r;
    ASSERT_EQ_INT(rules_load(sc, "typo", st, &r, &err), CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "rules/typo.lua: unknown field 'on_checkpiont'");
    ASSERT_EQ_INT(rules_load(sc, "other", st, &r, &err), CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "rules/other.lua: name 'standard' must match the file name 'other'");
    ASSERT_EQ_INT(rules_load(sc, "hook", st, &r, &err), CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "on_finish must be a function, not a string");
    ASSERT_EQ_INT(rules_load(sc, "pen", st, &r, &err), CR_OK);
    const RaceRules *rr = rules_race(r);
    static const char *const expect[] = {
        "rules/pen.lua:4: on_checkpoint must return a penalty in seconds (a number) or nil, not a "
        "string",
        "rules/pen.lua:4: on_checkpoint returned a negative penalty",
        "rules/pen.lua:4: on_checkpoint returned NaN",
        "rules/pen.lua:4: on_checkpoint returned a penalty of 1000000000"};
    for (int i = 0; i < 4; i++) {
        ASSERT_TRUE(hook(r, rr->on_checkpoint, 1 + i) < 0);
        ASSERT_CONTAINS(rr->last_error(rr->ud), expect[i]);
    }
    ASSERT_NEAR(hook(r, rr->on_checkpoint, 9), 2, 0);
    rules_destroy(r);
    stage_destroy(st);
    scripts_close(sc);
    drop_scripts();
}

TEST(points_see_who_is_who) {
    make_scripts();
    write_file("rules/who.lua",
               "return { name = 'who', countdown_s = 0, time_limit_s = 60,\n"
               "  points = function(results)\n"
               "    local out = {}\n"
               "    for i, r in ipairs(results) do\n"
               "      assert(r.car == 3 - i, 'car')\n"
               "      assert(r.name == (i == 1 and 'beta' or 'alpha'), 'name')\n"
               "      assert(r.kind == (i == 1 and 'bot' or 'ai'), 'kind')\n"
               "      assert(r.penalty_s == (i == 1 and 1.5 or 0), 'penalty')\n"
               "      out[i] = r.finished and 10 or 0\n"
               "    end\n"
               "    if #results == 1 then return { 'ten' } end\n"
               "    return out\n"
               "  end }\n");
    Scripts *sc;
    CrError err;
    ASSERT_EQ_INT(scripts_open(tmpdir, NULL, 0, &sc, &err), CR_OK);
    Stage *st = fixture_stage(300, 0, 0, 0, 12, SURFACE_ASPHALT, 100);
    Rules *r;
    ASSERT_EQ_INT(rules_load(sc, "who", st, &r, &err), CR_OK);
    CarEntry cars[2] = {{.name = "alpha", .kind = CAR_AI}, {.name = "beta", .kind = CAR_BOT}};
    rules_set_cars(r, cars, 2);
    RaceResult res[2] = {
        {.car = 1, .position = 1, .finished = true, .time_s = 40, .penalty_s = 1.5},
        {.car = 0, .position = 2, .dnf = true}};
    int pts[2];
    ASSERT_EQ_INT(rules_points(r, res, 2, pts, &err), CR_OK);
    ASSERT_EQ_INT(pts[0], 10);
    ASSERT_EQ_INT(pts[1], 0);
    ASSERT_EQ_INT(rules_points(r, res, 1, pts, &err), CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "rules/who.lua:2: points[1] must be a whole number");
    rules_destroy(r);
    stage_destroy(st);
    scripts_close(sc);
    drop_scripts();
}

TEST(on_collision_fires_for_both_cars) {
    make_scripts();
    write_file("rules/bump.lua",
               "return { name = 'bump', countdown_s = 0, time_limit_s = 60,\n"
               "  on_collision = function(ev) if ev.other then return 1 end end }\n");
    Scripts *sc;
    CrError err;
    ASSERT_EQ_INT(scripts_open(tmpdir, NULL, 0, &sc, &err), CR_OK);
    Stage *st = fixture_stage(600, 0, 0, 0, 14, SURFACE_ASPHALT, 100);
    Rules *r;
    ASSERT_EQ_INT(rules_load(sc, "bump", st, &r, &err), CR_OK);
    CarEntry cars[2] = {{.name = "a", .kind = CAR_AI, .stats = fixture_stats()},
                        {.name = "b", .kind = CAR_AI, .stats = fixture_stats()}};
    double pen[2] = {0, 0};
    /* Steer the two towards each other, whichever side each starts on. */
    for (int side = -1; side <= 1 && pen[0] == 0; side += 2) {
        RaceRoom *room;
        ASSERT_EQ_INT(race_create(st, cars, 2, rules_race(r), &room, &err), CR_OK);
        CarInput in0 = {.throttle = 0.5f, .steer = (float)side};
        CarInput in1 = {.throttle = 0.5f, .steer = (float)-side};
        race_set_input(room, 0, &in0);
        race_set_input(room, 1, &in1);
        for (int t = 0; t < 3 * CR_TICK_RATE; t++) {
            ASSERT_EQ_INT(race_step(room, &err), CR_OK);
            size_t n;
            const RaceEvent *ev = race_events(room, &n);
            for (size_t i = 0; i < n; i++)
                if (ev[i].type == EVENT_PENALTY) pen[ev[i].car] += ev[i].value;
        }
        race_destroy(room);
    }
    ASSERT_LT(0, pen[0]);
    ASSERT_NEAR(pen[0], pen[1], 0);
    rules_destroy(r);
    stage_destroy(st);
    scripts_close(sc);
    drop_scripts();
}

/* ---- snapshots and reload ----------------------------------------------- */

TEST(a_race_keeps_the_snapshot_it_started_with) {
    make_scripts();
    write_file("rules/live.lua",
               "return { name = 'live', countdown_s = 0, time_limit_s = 60,\n"
               "  on_checkpoint = function() return 1 end }\n");
    Scripts *sc;
    CrError err;
    ASSERT_EQ_INT(scripts_open(tmpdir, NULL, 0, &sc, &err), CR_OK);
    Stage *st = fixture_stage(300, 0, 0, 0, 12, SURFACE_ASPHALT, 100);
    Rules *r;
    ASSERT_EQ_INT(rules_load(sc, "live", st, &r, &err), CR_OK);
    uint64_t hash = rules_hash(r);
    /* An edit in progress: half a file on disk, a lib removed. */
    write_file("rules/live.lua", "return { name = 'live', countdown_s = ");
    write_file("stages/forest.lua", "return {");
    ASSERT_TRUE(scripts_changed(sc));
    /* The open snapshot does not see it: new races, generation, hashes. */
    Rules *r2;
    ASSERT_EQ_INT(rules_load(sc, "live", st, &r2, &err), CR_OK);
    ASSERT_EQ_U64(rules_hash(r2), hash);
    rules_destroy(r2);
    Stage *forest;
    ASSERT_EQ_INT(scripts_generate_stage(sc, "forest", 77, NULL, 0, &forest, &err), CR_OK);
    stage_destroy(forest);
    /* The reload refuses the broken edit, naming file and line; the old
     * snapshot stays in force. */
    Scripts *next;
    ASSERT_EQ_INT(scripts_reload(sc, &next, &err), CR_ESCRIPT);
    ASSERT_TRUE(next == NULL);
    ASSERT_CONTAINS(err.msg, "stages/forest.lua:1:");
    write_file("stages/forest.lua", "");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cp %s/stages/forest.lua %s/stages/forest.lua",
             getenv("CR_SCRIPTS") ? getenv("CR_SCRIPTS") : "scripts", tmpdir);
    ASSERT_EQ_INT(system(cmd), 0);
    ASSERT_EQ_INT(scripts_reload(sc, &next, &err), CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "rules/live.lua:1:");
    /* The race in progress still scores with the text it started with. */
    ASSERT_NEAR(hook(r, rules_race(r)->on_checkpoint, 1), 1, 0);
    /* A good edit is picked up by the new snapshot only. */
    write_file("rules/live.lua",
               "return { name = 'live', countdown_s = 0, time_limit_s = 60,\n"
               "  on_checkpoint = function() return 2 end }\n");
    ASSERT_EQ_INT(scripts_reload(sc, &next, &err), CR_OK);
    ASSERT_TRUE(!scripts_changed(next));
    Rules *r3;
    ASSERT_EQ_INT(rules_load(next, "live", st, &r3, &err), CR_OK);
    ASSERT_NEAR(hook(r3, rules_race(r3)->on_checkpoint, 1), 2, 0);
    ASSERT_TRUE(rules_hash(r3) != hash);
    /* The caller swaps: the old snapshot goes, its race keeps it alive. */
    scripts_close(sc);
    sc = next;
    ASSERT_NEAR(hook(r, rules_race(r)->on_checkpoint, 2), 1, 0);
    rules_destroy(r);
    rules_destroy(r3);
    stage_destroy(st);
    scripts_close(sc);
    drop_scripts();
}

TEST(import_reads_the_snapshot_not_the_disk) {
    make_scripts();
    write_file("lib/kit.lua", "return { width = 12 }\n");
    write_file("stages/kitted.lua",
               "local kit = import('kit')\n"
               "return { name = 'kitted', version = '1', generate = function()\n"
               "  local pts = {}\n"
               "  for i = 0, 600 do pts[#pts + 1] = {x = i * 2, y = 0, width = kit.width,\n"
               "    surface = 'asphalt'} end\n"
               "  return {points = pts, checkpoints = {200}}\n"
               "end }\n");
    Scripts *sc;
    CrError err;
    ASSERT_EQ_INT(scripts_open(tmpdir, NULL, 0, &sc, &err), CR_OK);
    remove_file("lib/kit.lua");
    Stage *st;
    ASSERT_EQ_INT(scripts_generate_stage(sc, "kitted", 1, NULL, 0, &st, &err), CR_OK);
    stage_destroy(st);
    Scripts *next;
    ASSERT_EQ_INT(scripts_reload(sc, &next, &err), CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "stages/kitted.lua:1:");
    ASSERT_CONTAINS(err.msg, "no module 'kit'");
    scripts_close(sc);
    drop_scripts();
}

TEST(generators_load_lazily) {
    make_scripts();
    /* Broken, but nobody asks for it: a race on forest never runs it. */
    write_file("stages/zzz.lua", "error('ran')\n");
    Scripts *sc;
    CrError err;
    ASSERT_EQ_INT(scripts_open(tmpdir, NULL, 0, &sc, &err), CR_OK);
    Stage *st;
    ASSERT_EQ_INT(scripts_generate_stage(sc, "forest", 1, NULL, 0, &st, &err), CR_OK);
    stage_destroy(st);
    const GeneratorInfo *gi;
    ASSERT_EQ_INT(scripts_find_generator(sc, "forest", &gi, &err), CR_OK);
    ASSERT_EQ_STR(gi->file, "stages/forest.lua");
    ASSERT_LT(0, gi->n_params);
    ASSERT_TRUE(gi->params[0].min <= gi->params[0].def && gi->params[0].def <= gi->params[0].max);
    size_t n = scripts_generator_count(sc);
    ASSERT_EQ_STR(scripts_generator(sc, n - 1)->name, "zzz");
    ASSERT_CONTAINS(scripts_generator_error(sc, n - 1), "stages/zzz.lua:1: ran");
    scripts_close(sc);
    drop_scripts();
}

TEST_MAIN
