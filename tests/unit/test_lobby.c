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

static const LobbyPlayer PLAYERS[3] = {
    {1, "ann", false, true, true}, {2, "bob", false, false, true}, {3, "cy", true, true, true}};

static LobbyRoom room_of(int n, int max) {
    return (LobbyRoom){"r1", "open", max, n, PLAYERS};
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
    LobbyRoom ready = {"r1", "open", 4, 1, PLAYERS};
    ASSERT_EQ_INT(lobby_should_start(lb, &ready, &start, &cd, &err), 0);
    ASSERT_TRUE(start);
    ASSERT_NEAR(cd, 0, 0);
    int n = -1;
    ASSERT_EQ_INT(lobby_ai_fill(lb, &r, &n, &err), 0);
    ASSERT_EQ_INT(n, 0);
    LobbyLeave lv;
    ASSERT_EQ_INT(lobby_on_leave(lb, &r, &PLAYERS[0], "running", &lv, &err), 0);
    ASSERT_EQ_INT(lv, LOBBY_RETIRE);
    lobby_destroy(lb);
}

TEST(builtin_lobby_without_a_script) {
    CrError err = {0};
    Lobby *lb;
    ASSERT_EQ_INT(lobby_load(NULL, &lb, &err), CR_OK);
    ASSERT_TRUE(!lobby_has_script(lb));
    bool start;
    double cd;
    LobbyRoom ready = {"r1", "open", 4, 1, PLAYERS};
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
    ASSERT_EQ_INT(lobby_on_leave(lb, &r, &PLAYERS[0], "running", &lv, &err), 0);
    ASSERT_EQ_INT(lv, LOBBY_AI);
    ASSERT_EQ_INT(lobby_on_leave(lb, &r, &PLAYERS[0], "open", &lv, &err), 0);
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
    ASSERT_EQ_INT(lobby_on_leave(lb, &r, &PLAYERS[0], "running", &lv, &err), CR_ESCRIPT);
    ASSERT_CONTAINS(err.msg, "lobby.lua:9: on_leave must return");
    ASSERT_EQ_INT(lv, LOBBY_RETIRE);
    ASSERT_TRUE(lobby_on_join(lb, &r, &PLAYERS[0], &err) < 0);
    ASSERT_CONTAINS(err.msg, "lobby.lua");
    ASSERT_TRUE(lobby_on_ready(lb, &r, &PLAYERS[0], &err) < 0);
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

TEST_MAIN
