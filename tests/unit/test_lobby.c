/* test_lobby.c - lobby.lua as a hostile designer writes it: the shipped
 * lobby, erroring metamethods in what hooks return, budget burn, wrong
 * return types (each a clear error naming lobby.lua and the line, with the
 * built-in answer in the outputs), a broken lobby.lua refused at open and
 * reload, and a room keeping the lobby it opened with. */
#include <unistd.h>

#include "test.h"
#include "fixtures.h"

static char tmpdir[256];

static void write_lobby(const char *text) {
    char path[512];
    snprintf(path, sizeof path, "%s/lobby.lua", tmpdir);
    FILE *f = fopen(path, "w");
    if (!f) abort();
    fputs(text, f);
    fclose(f);
}

static void make_scripts(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/cr_lobby_%d", (int)getpid());
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

static const LobbyPlayer PLAYERS[3] = {{1, "ann", false, true, true, 0},
                                       {2, "bob", false, false, true, 0},
                                       {3, "cy", true, true, true, 0}};

static LobbyRoom room_of(int n, int max) {
    return (LobbyRoom){"r1", "open", max, n, PLAYERS, 0};
}

/* A lobby from text, in a fresh snapshot; NULL (with err) if it is refused. */
static Lobby *lobby_from(const char *text, CrError *err) {
    make_scripts();
    write_lobby(text);
    Scripts *sc = NULL;
    Lobby *lb = NULL;
    if (scripts_open(tmpdir, NULL, 0, &sc, err) == CR_OK) lobby_load(sc, &lb, err);
    scripts_close(sc); /* the lobby holds its own reference */
    drop_scripts();
    return lb;
}

TEST(shipped_lobby_is_the_builtin_behaviour) {
    CrError err = {0};
    make_scripts();
    Scripts *sc;
    ASSERT_EQ_INT(scripts_open(tmpdir, NULL, 0, &sc, &err), CR_OK);
    Lobby *lb;
    ASSERT_EQ_INT(lobby_load(sc, &lb, &err), CR_OK);
    scripts_close(sc);
    drop_scripts();
    ASSERT_TRUE(lobby_has_script(lb));
    ASSERT_NEAR(lobby_grace_s(lb), 10, 0);
    ASSERT_EQ_INT(lobby_min_players(lb), 1);
    bool ok, start;
    double cd;
    char reason[64];
    LobbyRoom r = room_of(2, 4);
    ASSERT_EQ_INT(lobby_join_attempt(lb, &r, &PLAYERS[2], &ok, reason, sizeof reason, &err), 0);
    ASSERT_TRUE(ok);
    LobbyRoom full = room_of(2, 2);
    ASSERT_EQ_INT(lobby_join_attempt(lb, &full, &PLAYERS[2], &ok, reason, sizeof reason, &err), 0);
    ASSERT_TRUE(!ok);
    ASSERT_EQ_STR(reason, "room_full");
    ASSERT_EQ_INT(lobby_should_start(lb, &r, &start, &cd, &err), 0);
    ASSERT_TRUE(!start); /* bob is not ready */
    LobbyRoom ready = {"r1", "open", 4, 1, PLAYERS, 0};
    ASSERT_EQ_INT(lobby_should_start(lb, &ready, &start, &cd, &err), 0);
    ASSERT_TRUE(start);
    ASSERT_NEAR(cd, 0, 0);
    int n = -1;
    ASSERT_EQ_INT(lobby_ai_fill(lb, &r, &n, &err), 0);
    ASSERT_EQ_INT(n, 0);
    LobbyLeave lv;
    ASSERT_EQ_INT(lobby_leave(lb, &r, &PLAYERS[0], "running", "left", &lv, &err), 0);
    ASSERT_EQ_INT(lv, LOBBY_RETIRE);
    /* The shipped lobby is the match-handler form without a loop: nothing
     * runs between events. */
    ASSERT_NEAR(lobby_loop_hz(lb), 0, 0);
    ASSERT_EQ_INT(lobby_init(lb, &r, &err), 0);
    ASSERT_EQ_INT(lobby_join(lb, &r, &PLAYERS[0], &err), 0);
    ASSERT_EQ_INT(lobby_terminate(lb, &r, "finished", &err), 0);
    lobby_destroy(lb);
}

TEST(builtin_lobby_without_a_script) {
    CrError err = {0};
    Lobby *lb;
    ASSERT_EQ_INT(lobby_load(NULL, &lb, &err), CR_OK);
    ASSERT_TRUE(!lobby_has_script(lb));
    bool start;
    double cd;
    LobbyRoom ready = {"r1", "open", 4, 1, PLAYERS, 0};
    ASSERT_EQ_INT(lobby_should_start(lb, &ready, &start, &cd, &err), 0);
    ASSERT_TRUE(start);
    ASSERT_TRUE(cd < 0);
    lobby_destroy(lb);
}

TEST(designer_rules_apply) {
    CrError err = {0};
    Lobby *lb = lobby_from(
        "return { min_players = 2, grace_s = 30,\n"
        "  join_attempt = function(room, p)\n"
        "    if p.kind == 'bot' then return false, 'humans only' end\n"
        "    room.max_cars = 99; return true end,\n"
        "  should_start = function(room)\n"
        "    if room.n_ready >= 2 then return 5 end end,\n"
        "  ai_fill = function(room) return 8 - room.n_players end,\n"
        "  on_leave = function(room, p, phase)\n"
        "    if phase == 'running' then return 'ai' end return 'retire' end }\n",
        &err);
    ASSERT_TRUE(lb);
    ASSERT_NEAR(lobby_grace_s(lb), 30, 0);
    ASSERT_EQ_INT(lobby_min_players(lb), 2);
    bool ok, start;
    double cd;
    char reason[64];
    LobbyRoom r = room_of(3, 4);
    ASSERT_EQ_INT(lobby_join_attempt(lb, &r, &PLAYERS[2], &ok, reason, sizeof reason, &err), 0);
    ASSERT_TRUE(!ok);
    ASSERT_EQ_STR(reason, "humans only");
    ASSERT_EQ_INT(lobby_join_attempt(lb, &r, &PLAYERS[0], &ok, reason, sizeof reason, &err), 0);
    ASSERT_TRUE(ok);
    ASSERT_EQ_INT(lobby_should_start(lb, &r, &start, &cd, &err), 0);
    ASSERT_TRUE(start);
    ASSERT_NEAR(cd, 5, 0);
    int n;
    ASSERT_EQ_INT(lobby_ai_fill(lb, &r, &n, &err), 0);
    ASSERT_EQ_INT(n, 1); /* 5 asked, the room has one seat left */
    LobbyLeave lv;
    ASSERT_EQ_INT(lobby_leave(lb, &r, &PLAYERS[0], "running", "timeout", &lv, &err), 0);
    ASSERT_EQ_INT(lv, LOBBY_AI);
    /* The legacy on_leave is never asked before the race. */
    ASSERT_EQ_INT(lobby_leave(lb, &r, &PLAYERS[0], "open", "left", &lv, &err), 0);
    ASSERT_EQ_INT(lv, LOBBY_RETIRE);
    lobby_destroy(lb);
}

#define EVIL                                                                            \
    "local function boom() error('metamethod ran') end\n"                               \
    "local evil = setmetatable({}, {__index = boom, __newindex = boom, __len = boom,\n" \
    "  __eq = boom, __lt = boom, __le = boom, __tostring = boom, __name = 'evil',\n"    \
    "  __concat = boom, __call = boom})\n"

TEST(hostile_hooks_fail_safe_with_file_and_line) {
    CrError err = {0};
    Lobby *lb = lobby_from(EVIL
                           "return {\n"                                     /* 5 */
                           "  join_attempt = function() return evil end,\n" /* 6 */
                           "  should_start = function() return '3' end,\n"  /* 7 */
                           "  ai_fill = function() return 1.5 end,\n"       /* 8 */
                           "  on_leave = function() return evil end,\n"     /* 9 */
                           "  on_join = function() while true do end end,\n"
                           "  on_ready = function(room) error('designer bug') end }\n",
                           &err);
    ASSERT_TRUE(lb);
    bool ok = false, start = true;
    double cd;
    char reason[64];
    LobbyRoom r = room_of(1, 4);
    ASSERT_EQ_INT(lobby_join_attempt(lb, &r, &PLAYERS[1], &ok, reason, sizeof reason, &err),
                  CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "lobby.lua:6: join_attempt must return true or false");
    ASSERT_TRUE(ok); /* the safe default: not full, so in */
    ASSERT_EQ_INT(lobby_should_start(lb, &r, &start, &cd, &err), CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "lobby.lua:7: should_start must return nil or a countdown");
    ASSERT_TRUE(start); /* ann alone and ready: the built-in rule starts */
    int n = -1;
    ASSERT_EQ_INT(lobby_ai_fill(lb, &r, &n, &err), CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "lobby.lua:8: ai_fill must return a whole number");
    ASSERT_EQ_INT(n, 0);
    LobbyLeave lv = LOBBY_HOLD;
    ASSERT_EQ_INT(lobby_leave(lb, &r, &PLAYERS[0], "running", "left", &lv, &err), CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "lobby.lua:9: on_leave must return");
    ASSERT_EQ_INT(lv, LOBBY_RETIRE);
    ASSERT_TRUE(lobby_join(lb, &r, &PLAYERS[0], &err) < 0);
    ASSERT_CONTAINS(err.msg, "lobby.lua");
    ASSERT_TRUE(lobby_ready(lb, &r, &PLAYERS[0], &err) < 0);
    ASSERT_CONTAINS(err.msg, "lobby.lua:11: designer bug");
    /* The state is still usable after a budget burn. */
    ASSERT_EQ_INT(lobby_ai_fill(lb, &r, &n, &err), CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "ai_fill");
    lobby_destroy(lb);
}

TEST(broken_lobby_is_refused_at_open_with_file_and_line) {
    static const struct {
        const char *text, *want;
    } CASES[] = {
        {"return {\n  x = = 1 }\n", "lobby.lua:2:"},
        {"return 42\n", "lobby.lua must return a table"},
        {"return { grace_s = -1 }\n", "field 'grace_s' must be a number 0..600"},
        {"return { min_players = 1.5 }\n", "field 'min_players' must be a whole number"},
        {"return { min_players = '2' }\n", "field 'min_players'"},
        {"return { on_leave = 'retire' }\n", "on_leave must be a function, not a string"},
        {"return { on_leeve = function() end }\n", "unknown field 'on_leeve'"},
        {"error('top level')\n", "lobby.lua:1: top level"},
        {"while true do end\n", "lobby.lua"},
        {EVIL "return { grace_s = evil }\n", "field 'grace_s' must be a number"},
        {EVIL "return { should_start = evil }\n", "should_start must be a function"},
        {"return { loop = function() end }\n", "'loop' needs init"},
        {"return { leave = function() end }\n", "'leave' needs init"},
        {"return { init = function() end, on_leave = function() end }\n",
         "'on_leave' is the legacy form"},
        {"return { init = 5 }\n", "init must be a function, not a number"},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        CrError err = {0};
        Lobby *lb = lobby_from(CASES[i].text, &err);
        if (lb) lobby_destroy(lb);
        if (lb) FAIL_AT("case %zu loaded", i);
        ASSERT_CONTAINS(err.msg, CASES[i].want);
    }
}

TEST(reload_keeps_last_good_and_rooms_keep_theirs) {
    CrError err = {0};
    make_scripts();
    write_lobby("return { grace_s = 3 }\n");
    Scripts *sc, *next = NULL;
    ASSERT_EQ_INT(scripts_open(tmpdir, NULL, 0, &sc, &err), CR_OK);
    Lobby *room_lobby;
    ASSERT_EQ_INT(lobby_load(sc, &room_lobby, &err), CR_OK);
    write_lobby("return { grace_s = }\n");
    ASSERT_EQ_INT(scripts_reload(sc, &next, &err), CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "lobby.lua:1:");
    ASSERT_TRUE(!next);
    write_lobby("return { grace_s = 7 }\n");
    ASSERT_EQ_INT(scripts_reload(sc, &next, &err), CR_OK);
    Lobby *fresh;
    ASSERT_EQ_INT(lobby_load(next, &fresh, &err), CR_OK);
    scripts_close(sc);
    scripts_close(next);
    drop_scripts();
    ASSERT_NEAR(lobby_grace_s(room_lobby), 3, 0);
    ASSERT_NEAR(lobby_grace_s(fresh), 7, 0);
    lobby_destroy(room_lobby);
    lobby_destroy(fresh);
}

/* The match-handler form: init's state is the same table in every later
 * hook, which get it second; hooks run in the order the room calls them. A
 * refusing join_attempt reads the state back out. */
#define LOG_LOBBY                                                                            \
    "local function note(state, what) state.log[#state.log + 1] = what end\n"                \
    "return {\n"                                                                             \
    "  init = function(room) return { log = { 'init:' .. room.id } }, 4, 'warm-up' end,\n"   \
    "  join_attempt = function(room, state, p)\n"                                            \
    "    if p.username == 'probe' then return false, table.concat(state.log, ',') end\n"     \
    "    note(state, 'attempt:' .. p.username) return true end,\n"                           \
    "  join = function(room, state, p) note(state, 'join:' .. p.username) end,\n"            \
    "  ready = function(room, state, p) note(state, 'ready:' .. p.username) end,\n"          \
    "  should_start = function(room, state) note(state, 'start?') end,\n"                    \
    "  ai_fill = function(room, state) note(state, 'fill') return 2 end,\n"                  \
    "  leave = function(room, state, p, phase, why)\n"                                       \
    "    note(state, 'leave:' .. p.username .. ':' .. phase .. ':' .. why)\n"                \
    "    if phase == 'open' then return nil end return 'hold' end,\n"                        \
    "  loop = function(room, state, t)\n"                                                    \
    "    note(state, 'loop' .. t.tick .. (t.race_tick and ('@' .. t.race_tick) or ''))\n"    \
    "    if t.tick == 2 then return { start = 3, message = 'go soon', label = 'hot' } end\n" \
    "    if t.tick == 3 then return { kick = { 2, 3 }, reason = 'afk' } end\n"               \
    "    if t.tick == 4 then return { start = false } end end,\n"                            \
    "  terminate = function(room, state, reason) note(state, 'end:' .. reason) end,\n"       \
    "}\n"

static void probe(Lobby *lb, const LobbyRoom *r, char *out, size_t n) {
    static const LobbyPlayer PROBE = {9, "probe", false, false, true, 0};
    bool ok = true;
    CrError err = {0};
    if (lobby_join_attempt(lb, r, &PROBE, &ok, out, n, &err) || ok) snprintf(out, n, "?");
}

TEST(handler_hooks_run_in_order_with_their_state) {
    CrError err = {0};
    Lobby *lb = lobby_from(LOG_LOBBY, &err);
    ASSERT_TRUE(lb);
    LobbyRoom r = room_of(2, 4);
    ASSERT_NEAR(lobby_loop_hz(lb), 1, 0); /* before init: the default */
    ASSERT_EQ_INT(lobby_init(lb, &r, &err), 0);
    ASSERT_NEAR(lobby_loop_hz(lb), 4, 0);
    ASSERT_EQ_STR(lobby_label(lb), "warm-up");
    bool ok, start;
    double cd;
    char reason[256];
    ASSERT_EQ_INT(lobby_join_attempt(lb, &r, &PLAYERS[1], &ok, reason, sizeof reason, &err), 0);
    ASSERT_TRUE(ok);
    ASSERT_EQ_INT(lobby_join(lb, &r, &PLAYERS[1], &err), 0);
    ASSERT_EQ_INT(lobby_ready(lb, &r, &PLAYERS[1], &err), 0);
    ASSERT_EQ_INT(lobby_should_start(lb, &r, &start, &cd, &err), 0);
    ASSERT_TRUE(!start); /* nil: keep waiting */
    LobbyTick t = {.n = 1, .elapsed_s = 0.25};
    LobbyActions a;
    ASSERT_EQ_INT(lobby_loop(lb, &r, &t, &a, &err), 0);
    ASSERT_EQ_INT(a.start, 0);
    ASSERT_EQ_INT(a.n_kick, 0);
    ASSERT_TRUE(!a.label_changed);
    t.n = 2;
    ASSERT_EQ_INT(lobby_loop(lb, &r, &t, &a, &err), 0);
    ASSERT_EQ_INT(a.start, 1);
    ASSERT_NEAR(a.countdown_s, 3, 0);
    ASSERT_EQ_STR(a.message, "go soon");
    ASSERT_TRUE(a.label_changed);
    ASSERT_EQ_STR(lobby_label(lb), "hot");
    t.n = 3;
    ASSERT_EQ_INT(lobby_loop(lb, &r, &t, &a, &err), 0);
    ASSERT_EQ_INT(a.n_kick, 2);
    ASSERT_EQ_INT(a.kick[0], 2);
    ASSERT_EQ_INT(a.kick[1], 3);
    ASSERT_EQ_STR(a.reason, "afk");
    ASSERT_EQ_STR(a.message, "");
    t = (LobbyTick){.n = 4, .elapsed_s = 1, .racing = true, .race_tick = 120};
    ASSERT_EQ_INT(lobby_loop(lb, &r, &t, &a, &err), 0);
    ASSERT_EQ_INT(a.start, -1);
    int n;
    ASSERT_EQ_INT(lobby_ai_fill(lb, &r, &n, &err), 0);
    ASSERT_EQ_INT(n, 2);
    LobbyLeave lv = LOBBY_AI;
    ASSERT_EQ_INT(lobby_leave(lb, &r, &PLAYERS[1], "open", "timeout", &lv, &err), 0);
    ASSERT_EQ_INT(lv, LOBBY_RETIRE); /* before the race the answer means nothing */
    ASSERT_EQ_INT(lobby_leave(lb, &r, &PLAYERS[0], "running", "kicked", &lv, &err), 0);
    ASSERT_EQ_INT(lv, LOBBY_HOLD);
    ASSERT_EQ_INT(lobby_terminate(lb, &r, "aborted", &err), 0);
    probe(lb, &r, reason, sizeof reason);
    ASSERT_EQ_STR(reason,
                  "init:r1,attempt:bob,join:bob,ready:bob,start?,loop1,loop2,loop3,loop4@120,"
                  "fill,leave:bob:open:timeout,leave:ann:running:kicked,end:aborted");
    lobby_destroy(lb);
}

/* The legacy form keeps its arguments (no state) and may not have a loop. */
TEST(legacy_form_gets_no_state) {
    CrError err = {0};
    Lobby *lb = lobby_from(
        "return { join_attempt = function(room, p, extra)\n"
        "  return false, p.username .. ':' .. tostring(extra) end }\n",
        &err);
    ASSERT_TRUE(lb);
    LobbyRoom r = room_of(1, 4);
    ASSERT_EQ_INT(lobby_init(lb, &r, &err), 0);
    ASSERT_NEAR(lobby_loop_hz(lb), 0, 0);
    bool ok;
    char reason[64];
    ASSERT_EQ_INT(lobby_join_attempt(lb, &r, &PLAYERS[1], &ok, reason, sizeof reason, &err), 0);
    ASSERT_EQ_STR(reason, "bob:nil");
    LobbyActions a;
    LobbyTick t = {.n = 1};
    ASSERT_EQ_INT(lobby_loop(lb, &r, &t, &a, &err), 0); /* no loop: nothing */
    ASSERT_EQ_INT(a.start, 0);
    lobby_destroy(lb);
}

/* What init and loop return is checked; a failing init leaves an empty
 * state and the defaults; a failed loop asks for nothing. */
TEST(bad_init_and_loop_answers_fail_safe_with_line) {
    static const struct {
        const char *init, *loop, *want;
    } CASES[] = {
        {"return 5", "return nil", "lobby.lua:1: init must return a state table (or nil)"},
        {"return {}, 60", "return nil", "lobby.lua:1: init: the loop rate must be a number 1..10"},
        {"return {}, 1, 7", "return nil", "init: the label must be a string"},
        {"return {}, 1, string.rep('x', 65)", "return nil",
         "the label must be a string of at most 64"},
        {"return {}", "return 5", "lobby.lua:3: loop must return nil or a table of actions"},
        {"return {}", "return { stat = 1 }", "lobby.lua:3: loop: unknown action 'stat'"},
        {"return {}", "return { start = 61 }", "start must be a countdown of 0..60"},
        {"return {}", "return { start = true }", "start must be a countdown"},
        {"return {}", "return { kick = 2 }", "kick must be a list of at most 16 user ids"},
        {"return {}", "return { kick = { 'ann' } }", "kick[1] must be a user id"},
        {"return {}", "local k = {} for i = 1, 17 do k[i] = i end return { kick = k }",
         "at most 16 user ids"},
        {"return {}", "return { message = string.rep('x', 201) }", "message must be a string"},
        {"return {}", "return { message = '\\xff\\xfe' }", "message must be UTF-8 text"},
        {"return {}", "return { reason = {} }", "reason must be a string"},
        {"return {}", "error('loop bug')", "lobby.lua:3: loop bug"},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        char text[512];
        snprintf(text, sizeof text,
                 "return { init = function(room)\n"
                 "  %s end,\n"
                 "  loop = function(room, state, t) %s end,\n"
                 "  should_start = function(room, state) state.n = (state.n or 0) + 1\n"
                 "    return state.n end }\n",
                 CASES[i].init, CASES[i].loop);
        CrError err = {0};
        Lobby *lb = lobby_from(text, &err);
        if (!lb) FAIL_AT("case %zu refused: %s", i, err.msg);
        LobbyRoom r = room_of(1, 4);
        int rc = lobby_init(lb, &r, &err);
        if (rc == 0) {
            LobbyTick t = {.n = 1};
            LobbyActions a;
            a.start = 7;
            rc = lobby_loop(lb, &r, &t, &a, &err);
            if (a.start || a.n_kick || a.message[0] || a.label_changed)
                FAIL_AT("case %zu: a failed loop asked for something", i);
        } else {
            ASSERT_NEAR(lobby_loop_hz(lb), 1, 0); /* the default */
            ASSERT_EQ_STR(lobby_label(lb), "");
        }
        if (rc != CR_ESCRIPT) FAIL_AT("case %zu: rc %d", i, rc);
        ASSERT_CONTAINS(err.msg, CASES[i].want);
        /* The state is a table whatever init did, and persists. */
        bool start;
        double cd;
        ASSERT_EQ_INT(lobby_should_start(lb, &r, &start, &cd, &err), 0);
        ASSERT_EQ_INT(lobby_should_start(lb, &r, &start, &cd, &err), 0);
        ASSERT_NEAR(cd, 2, 0);
        lobby_destroy(lb);
    }
}

/* A lobby whose state grows without end hits the memory cap: a clear error
 * naming the line, the built-in answers, no crash; the room can go on. */
TEST(huge_state_hits_the_memory_cap) {
    CrError err = {0};
    Lobby *lb = lobby_from(
        "return { init = function() return { junk = {} } end,\n"
        "  loop = function(room, state, t)\n"
        "    state.junk[#state.junk + 1] = string.rep('x', 262144) .. t.tick end,\n"
        "  should_start = function() return 5 end }\n",
        &err);
    ASSERT_TRUE(lb);
    LobbyRoom r = room_of(1, 4);
    ASSERT_EQ_INT(lobby_init(lb, &r, &err), 0);
    int rc = 0, calls = 0;
    LobbyActions a;
    while (rc == 0 && calls < 1000) {
        LobbyTick t = {.n = ++calls};
        rc = lobby_loop(lb, &r, &t, &a, &err);
    }
    ASSERT_EQ_INT(rc, CR_ESCRIPT);
    if (calls <= 5) FAIL_AT("after %d calls: %s", calls, err.msg); /* the cap, not the budget */
    ASSERT_CONTAINS(err.msg, "memory cap of 8192 KiB exceeded");
    ASSERT_CONTAINS(err.msg, "lobby.lua:3:");
    ASSERT_TRUE(lobby_memory(lb) <= (8u << 20));
    /* Every hook now either works or fails safe. */
    bool start = false;
    double cd = 0;
    rc = lobby_should_start(lb, &r, &start, &cd, &err);
    if (rc) {
        ASSERT_CONTAINS(err.msg, "memory cap");
        ASSERT_TRUE(start); /* ann alone and ready: the built-in answer */
        ASSERT_TRUE(cd < 0);
    } else {
        ASSERT_NEAR(cd, 5, 0);
    }
    lobby_destroy(lb);
}

/* docs/MODDING.md's example lobby (the same text): it announces once, then
 * starts with four players or after a minute. */
TEST(modding_example_lobby) {
    CrError err = {0};
    Lobby *lb = lobby_from(
        "return {\n"
        "  init = function(_room) return { announced = false } end,\n"
        "  loop = function(room, state, tick)\n"
        "    if room.phase ~= \"open\" or room.n_players == 0 then return nil end\n"
        "    if room.n_players >= 4 or tick.elapsed_s >= 60 then\n"
        "      return { start = 5, message = \"Starting in 5 seconds\", label = \"starting\" }\n"
        "    end\n"
        "    if not state.announced then\n"
        "      state.announced = true\n"
        "      return { message = \"Waiting for 4 players (or a minute)\" }\n"
        "    end\n"
        "  end,\n"
        "}\n",
        &err);
    ASSERT_TRUE(lb);
    LobbyRoom r = room_of(3, 8);
    ASSERT_EQ_INT(lobby_init(lb, &r, &err), 0);
    ASSERT_NEAR(lobby_loop_hz(lb), 1, 0);
    LobbyTick t = {.n = 1, .elapsed_s = 1};
    LobbyActions a;
    ASSERT_EQ_INT(lobby_loop(lb, &r, &t, &a, &err), 0);
    ASSERT_EQ_STR(a.message, "Waiting for 4 players (or a minute)");
    t = (LobbyTick){.n = 2, .elapsed_s = 2};
    ASSERT_EQ_INT(lobby_loop(lb, &r, &t, &a, &err), 0);
    ASSERT_EQ_STR(a.message, "");
    ASSERT_EQ_INT(a.start, 0);
    t = (LobbyTick){.n = 60, .elapsed_s = 60};
    ASSERT_EQ_INT(lobby_loop(lb, &r, &t, &a, &err), 0);
    ASSERT_EQ_INT(a.start, 1);
    ASSERT_NEAR(a.countdown_s, 5, 0);
    ASSERT_TRUE(a.label_changed);
    ASSERT_EQ_STR(lobby_label(lb), "starting");
    lobby_destroy(lb);
}

TEST_MAIN
