/*
 * lobby.c - a room's lobby rules from lobby.lua of a snapshot (who may join,
 * when the countdown starts, AI fill, what a leaving player's car becomes,
 * the reconnect grace, a loop that may start, kick and message), in a Lua
 * state of its own per room that holds a reference to the snapshot, so a
 * room keeps the lobby it opened with. The match-handler form keeps the
 * script's state table in that state's registry between hooks. Hooks run
 * off the tick path but on the server's event loop, so each call has a
 * small budget; a hook that fails returns the safe default (the fixed C
 * behaviour) along with the error, and the room carries on.
 */
#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua/scripts_internal.h"

#define fail scripts_fail
#define LOBBY_FILE "lobby.lua"
#define LOBBY_MEMORY (8u << 20)
#define LOBBY_CALL_INSTRUCTIONS 200000ULL
#define LOBBY_SETUP_INSTRUCTIONS 2000000ULL

enum {
    H_INIT,
    H_JOIN_ATTEMPT,
    H_JOIN,
    H_READY,
    H_SHOULD_START,
    H_AI_FILL,
    H_LEAVE,
    H_LOOP,
    H_TERMINATE,
    H_COUNT
};
/* Field names per form; NULL: the hook does not exist in that form. */
static const char *const HANDLER_NAMES[H_COUNT] = {"init",  "join_attempt", "join",
                                                   "ready", "should_start", "ai_fill",
                                                   "leave", "loop",         "terminate"};
static const char *const LEGACY_NAMES[H_COUNT] = {
    NULL, "join_attempt", "on_join", "on_ready", "should_start", "ai_fill", "on_leave", NULL, NULL};

static const LhostBudget SETUP_BUDGET = {
    .call_instructions = LOBBY_SETUP_INSTRUCTIONS, .call_ms = 500, .window_name = "window"};
/* Hooks run on the event loop every live room shares: a few ms at most. */
static const LhostBudget CALL_BUDGET = {
    .call_instructions = LOBBY_CALL_INSTRUCTIONS, .call_ms = 20, .window_name = "window"};

static const char *const LEAVE_NAMES[] = {"retire", "ai", "hold"};

struct Lobby {
    Scripts *sc; /* one reference; NULL for the built-in lobby */
    LuaHost *host;
    bool handler; /* the match-handler form (init present) */
    int hook_ref[H_COUNT];
    int hook_line[H_COUNT];
    const char *hook_name[H_COUNT];
    int state_ref; /* the script's state table (handler form), once made */
    int min_players;
    double grace_s;
    double loop_hz;
    char label[LOBBY_LABEL_MAX + 1];
};

/* ---- loading ------------------------------------------------------------ */

/* A number field of the lobby table in lo..hi, or def when absent. */
static double number_field(lua_State *L, const char *k, double lo, double hi, double def,
                           bool whole) {
    lua_pushstring(L, k);
    int t = lua_rawget(L, 1);
    double v = def;
    if (t != LUA_TNIL) {
        v = t == LUA_TNUMBER ? lua_tonumber(L, -1) : NAN;
        if (!(v >= lo && v <= hi) || (whole && v != floor(v)))
            luaL_error(L, "%s: field '%s' must be a %s %d..%d", LOBBY_FILE, k,
                       whole ? "whole number" : "number", (int)lo, (int)hi);
    }
    lua_pop(L, 1);
    return v;
}

static bool is_one_of(const char *k, const char *const *names, int n) {
    for (int i = 0; i < n; i++)
        if (names[i] && !strcmp(k, names[i])) return true;
    return false;
}

/* Argument: the lobby table, then the Lobby. */
static int read_lobby(lua_State *L) {
    Lobby *lb = lua_touserdata(L, 2);
    if (!lua_istable(L, 1))
        return luaL_error(L, "%s must return a table of settings and hooks, not a %s", LOBBY_FILE,
                          luaL_typename(L, 1));
    lua_pushstring(L, "init");
    lb->handler = lua_rawget(L, 1) != LUA_TNIL;
    lua_pop(L, 1);
    static const char *const settings[] = {"name", "description", "min_players", "grace_s"};
    const char *const *mine = lb->handler ? HANDLER_NAMES : LEGACY_NAMES;
    const char *const *other = lb->handler ? LEGACY_NAMES : HANDLER_NAMES;
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        lua_pop(L, 1);
        const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        if (k && (is_one_of(k, settings, 4) || is_one_of(k, mine, H_COUNT))) continue;
        if (k && lb->handler && is_one_of(k, other, H_COUNT))
            return luaL_error(L,
                              "%s: '%s' is the legacy form of a hook; with init (the match-handler "
                              "form) write join, ready or leave(room, state, player, ...)",
                              LOBBY_FILE, k);
        if (k && is_one_of(k, other, H_COUNT))
            return luaL_error(L,
                              "%s: '%s' needs init (the match-handler form: init(room) returns "
                              "the state every hook gets as its second argument)",
                              LOBBY_FILE, k);
        return luaL_error(L,
                          "%s: unknown field '%s' in the lobby table (known: name, description, "
                          "min_players, grace_s, init, join_attempt, join, ready, should_start, "
                          "ai_fill, leave, loop, terminate; without init: on_join, on_ready, "
                          "on_leave instead of join, ready, leave)",
                          LOBBY_FILE, k ? k : luaL_typename(L, -1));
    }
    lb->min_players = (int)number_field(L, "min_players", 1, CR_MAX_CARS, 1, true);
    lb->grace_s = number_field(L, "grace_s", 0, 600, LOBBY_DEFAULT_GRACE_S, false);
    for (int i = 0; i < H_COUNT; i++) {
        if (!mine[i]) continue;
        lua_pushstring(L, mine[i]);
        int t = lua_rawget(L, 1);
        if (t == LUA_TNIL) {
            lua_pop(L, 1);
            continue;
        }
        if (t != LUA_TFUNCTION)
            return luaL_error(L, "%s: %s must be a function, not a %s", LOBBY_FILE, mine[i],
                              lua_typename(L, t));
        lua_Debug ar;
        lua_pushvalue(L, -1);
        lua_getinfo(L, ">S", &ar);
        lb->hook_line[i] = ar.linedefined;
        lb->hook_name[i] = mine[i];
        lb->hook_ref[i] = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    if (lb->hook_ref[H_LOOP] != LUA_NOREF) lb->loop_hz = 1;
    return 0;
}

int lobby_load(Scripts *sc, Lobby **out, CrError *err) {
    *out = NULL;
    Lobby *lb = calloc(1, sizeof *lb);
    if (!lb) return CR_ENOMEM;
    for (int i = 0; i < H_COUNT; i++) lb->hook_ref[i] = LUA_NOREF;
    lb->state_ref = LUA_NOREF;
    lb->min_players = 1;
    lb->grace_s = LOBBY_DEFAULT_GRACE_S;
    int rc = CR_OK;
    if (!sc || !snapshot_file(sc, LOBBY_FILE)) goto done; /* the built-in lobby */
    lb->sc = scripts_ref(sc);
    if ((rc = scripts_new_host(sc, LOBBY_MEMORY, &SETUP_BUDGET, &lb->host, err))) goto fail;
    if ((rc = snapshot_run(sc, lb->host, LOBBY_FILE, err))) goto fail;
    if ((rc = lhost_protect(lb->host, read_lobby, lb, 1, 0, err))) goto fail;
    lhost_set_budget(lb->host, &CALL_BUDGET);
done:
    *out = lb;
    return CR_OK;
fail:
    lobby_destroy(lb);
    return rc;
}

int lobby_check(Scripts *sc, CrError *err) {
    Lobby *lb;
    int rc = lobby_load(sc, &lb, err);
    lobby_destroy(lb);
    return rc;
}

void lobby_destroy(Lobby *lb) {
    if (!lb) return;
    lhost_destroy(lb->host);
    scripts_close(lb->sc);
    free(lb);
}

int lobby_min_players(const Lobby *lb) {
    return lb->min_players;
}

double lobby_grace_s(const Lobby *lb) {
    return lb->grace_s;
}

bool lobby_has_script(const Lobby *lb) {
    return lb->host != NULL;
}

double lobby_loop_hz(const Lobby *lb) {
    return lb->loop_hz;
}

const char *lobby_label(const Lobby *lb) {
    return lb->label;
}

size_t lobby_memory(const Lobby *lb) {
    return lb->host ? lhost_memory(lb->host) : 0;
}

/* ---- hooks -------------------------------------------------------------- */

typedef struct {
    Lobby *lb;
    int which;
    const LobbyRoom *room;
    const LobbyPlayer *player;
    const char *phase, *why; /* leave */
    const LobbyTick *tick;   /* loop */
    /* results */
    bool ok;
    char *reason;
    size_t reason_n;
    double countdown_s;
    bool start;
    int n;
    LobbyLeave leave;
    LobbyActions *actions;
    double loop_hz;
    char label[LOBBY_LABEL_MAX + 1];
    bool label_set;
} HookCall;

static void set_int(lua_State *L, const char *k, lua_Integer v) {
    lua_pushinteger(L, v);
    lua_setfield(L, -2, k);
}

static void set_num(lua_State *L, const char *k, double v) {
    lua_pushnumber(L, v);
    lua_setfield(L, -2, k);
}

static void set_str(lua_State *L, const char *k, const char *v) {
    lua_pushstring(L, v);
    lua_setfield(L, -2, k);
}

static void set_bool(lua_State *L, const char *k, bool v) {
    lua_pushboolean(L, v);
    lua_setfield(L, -2, k);
}

static void push_player(lua_State *L, const LobbyPlayer *p) {
    lua_createtable(L, 0, 7);
    set_int(L, "user_id", (lua_Integer)p->user_id);
    set_str(L, "username", p->username ? p->username : "");
    set_str(L, "kind", p->bot ? "bot" : "human");
    set_bool(L, "ready", p->ready);
    set_bool(L, "connected", p->connected);
    if (p->position > 0) set_int(L, "position", p->position);
}

/* Fresh tables on every call: what a hook does to them is lost. */
static void push_room(lua_State *L, const LobbyRoom *r) {
    lua_createtable(L, 0, 8);
    set_str(L, "id", r->id ? r->id : "");
    set_int(L, "max_cars", r->max_cars);
    set_str(L, "phase", r->phase ? r->phase : "open");
    lua_createtable(L, r->n_players, 0);
    int ready = 0;
    for (int i = 0; i < r->n_players; i++) {
        push_player(L, &r->players[i]);
        lua_rawseti(L, -2, i + 1);
        ready += r->players[i].ready;
    }
    lua_setfield(L, -2, "players");
    set_int(L, "n_players", r->n_players);
    set_int(L, "n_ready", ready);
    set_int(L, "n_spectators", r->n_spectators);
}

static void push_tick(lua_State *L, const LobbyTick *t) {
    lua_createtable(L, 0, 4);
    set_int(L, "tick", (lua_Integer)t->n);
    set_num(L, "elapsed_s", t->elapsed_s);
    if (t->racing) {
        set_int(L, "race_tick", (lua_Integer)t->race_tick);
        set_num(L, "race_time_s", t->race_time_s);
    }
}

/* The state table; made empty if init did not (or failed to) make one. */
static void push_state(lua_State *L, Lobby *lb) {
    if (lb->state_ref == LUA_NOREF) {
        lua_newtable(L);
        lb->state_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, lb->state_ref);
}

/* Well-formed UTF-8 without NULs: what a JSON string (and so a client)
 * can carry. */
static bool utf8_ok(const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        unsigned c = *p++;
        int more = c < 0x80             ? 0
                   : (c & 0xe0) == 0xc0 ? 1
                   : (c & 0xf0) == 0xe0 ? 2
                   : (c & 0xf8) == 0xf0 ? 3
                                        : -1;
        if (c == 0 || more < 0 || (c & 0xfe) == 0xc0 || end - p < more) return false;
        unsigned cp = c & (0x3fu >> more);
        for (int i = 0; i < more; i++, p++) {
            if ((*p & 0xc0) != 0x80) return false;
            cp = cp << 6 | (*p & 0x3fu);
        }
        if ((more == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (more == 3 && (cp < 0x10000 || cp > 0x10ffff)))
            return false;
    }
    return true;
}

/* A string of at most max bytes of UTF-8 at idx into out, or a Lua error. */
static void copy_string(lua_State *L, int idx, const char *what, char *out, size_t max,
                        const HookCall *c) {
    size_t n = 0;
    const char *s = lua_type(L, idx) == LUA_TSTRING ? lua_tolstring(L, idx, &n) : NULL;
    if (!s || n > max) {
        luaL_error(L, "%s:%d: %s: %s must be a string of at most %d bytes", LOBBY_FILE,
                   c->lb->hook_line[c->which], c->lb->hook_name[c->which], what, (int)max);
        return; /* not reached: luaL_error does not return */
    }
    if (!utf8_ok(s, n)) {
        luaL_error(L, "%s:%d: %s: %s must be UTF-8 text", LOBBY_FILE, c->lb->hook_line[c->which],
                   c->lb->hook_name[c->which], what);
        return;
    }
    memcpy(out, s, n);
    out[n] = '\0';
}

/* init returns state[, loop_hz[, label]]. */
static int read_init(lua_State *L, HookCall *c, int line, const char *name) {
    int t = lua_type(L, 1);
    if (t != LUA_TTABLE && t != LUA_TNIL)
        return luaL_error(L, "%s:%d: %s must return a state table (or nil), not a %s", LOBBY_FILE,
                          line, name, lua_typename(L, t));
    if (t == LUA_TNIL) {
        lua_newtable(L);
        lua_replace(L, 1);
    }
    c->loop_hz = c->lb->hook_ref[H_LOOP] != LUA_NOREF ? 1 : 0;
    if (!lua_isnil(L, 2)) {
        double hz = lua_type(L, 2) == LUA_TNUMBER ? lua_tonumber(L, 2) : NAN;
        if (!(hz >= 1 && hz <= LOBBY_LOOP_HZ_MAX))
            return luaL_error(L, "%s:%d: %s: the loop rate must be a number 1..%d per second",
                              LOBBY_FILE, line, name, LOBBY_LOOP_HZ_MAX);
        if (c->loop_hz) c->loop_hz = hz;
    }
    if (!lua_isnil(L, 3)) {
        copy_string(L, 3, "the label", c->label, LOBBY_LABEL_MAX, c);
        c->label_set = true;
    }
    lua_pushvalue(L, 1);
    c->lb->state_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

/* loop returns nil or {start, kick, reason, message, label}. */
static int read_actions(lua_State *L, HookCall *c, int line, const char *name) {
    LobbyActions *a = c->actions;
    int t = lua_type(L, 1);
    if (t == LUA_TNIL) return 0;
    if (t != LUA_TTABLE)
        return luaL_error(L, "%s:%d: %s must return nil or a table of actions, not a %s",
                          LOBBY_FILE, line, name, lua_typename(L, t));
    static const char *const known[] = {"start", "kick", "reason", "message", "label"};
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        lua_pop(L, 1);
        const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        if (!k || !is_one_of(k, known, 5))
            return luaL_error(L,
                              "%s:%d: %s: unknown action '%s' (known: start, kick, reason, "
                              "message, label)",
                              LOBBY_FILE, line, name, k ? k : luaL_typename(L, -1));
    }
    lua_pushstring(L, "start");
    t = lua_rawget(L, 1);
    if (t == LUA_TBOOLEAN && !lua_toboolean(L, -1)) {
        a->start = -1;
    } else if (t != LUA_TNIL) {
        double v = t == LUA_TNUMBER ? lua_tonumber(L, -1) : NAN;
        if (!(v >= 0 && v <= 60))
            return luaL_error(L, "%s:%d: %s: start must be a countdown of 0..60 seconds or false",
                              LOBBY_FILE, line, name);
        a->start = 1;
        a->countdown_s = v;
    }
    lua_pop(L, 1);
    lua_pushstring(L, "kick");
    t = lua_rawget(L, 1);
    if (t != LUA_TNIL) {
        lua_Unsigned n = t == LUA_TTABLE ? lua_rawlen(L, -1) : 0;
        if (t != LUA_TTABLE || n > CR_MAX_CARS)
            return luaL_error(L, "%s:%d: %s: kick must be a list of at most %d user ids",
                              LOBBY_FILE, line, name, CR_MAX_CARS);
        for (lua_Unsigned i = 1; i <= n; i++) {
            int ok = lua_rawgeti(L, -1, (lua_Integer)i) == LUA_TNUMBER;
            lua_Integer id = ok ? lua_tointegerx(L, -1, &ok) : 0;
            lua_pop(L, 1);
            if (!ok || id <= 0)
                return luaL_error(L, "%s:%d: %s: kick[%d] must be a user id (a whole number)",
                                  LOBBY_FILE, line, name, (int)i);
            a->kick[a->n_kick++] = id;
        }
    }
    lua_pop(L, 1);
    lua_pushstring(L, "reason");
    if (lua_rawget(L, 1) != LUA_TNIL) copy_string(L, -1, "reason", a->reason, LOBBY_REASON_MAX, c);
    lua_pop(L, 1);
    lua_pushstring(L, "message");
    if (lua_rawget(L, 1) != LUA_TNIL)
        copy_string(L, -1, "message", a->message, LOBBY_MESSAGE_MAX, c);
    lua_pop(L, 1);
    lua_pushstring(L, "label");
    if (lua_rawget(L, 1) != LUA_TNIL) {
        copy_string(L, -1, "label", c->label, LOBBY_LABEL_MAX, c);
        c->label_set = true;
    }
    lua_pop(L, 1);
    return 0;
}

/* Argument: the HookCall. Calls the hook and checks what it returned. */
static int call_hook(lua_State *L) {
    HookCall *c = lua_touserdata(L, 1);
    Lobby *lb = c->lb;
    int line = lb->hook_line[c->which];
    const char *name = lb->hook_name[c->which];
    lua_settop(L, 0);
    lua_rawgeti(L, LUA_REGISTRYINDEX, lb->hook_ref[c->which]);
    push_room(L, c->room);
    int nargs = 1;
    if (lb->handler && c->which != H_INIT) {
        push_state(L, lb);
        nargs++;
    }
    if (c->player) {
        push_player(L, c->player);
        nargs++;
    }
    if (c->phase) {
        lua_pushstring(L, c->phase);
        nargs++;
    }
    if (c->why) {
        lua_pushstring(L, c->why);
        nargs++;
    }
    if (c->tick) {
        push_tick(L, c->tick);
        nargs++;
    }
    lua_call(L, nargs, 3);
    int t = lua_type(L, 1);
    switch (c->which) {
        case H_INIT:
            return read_init(L, c, line, name);
        case H_LOOP:
            return read_actions(L, c, line, name);
        case H_JOIN_ATTEMPT:
            if (t != LUA_TBOOLEAN)
                return luaL_error(L, "%s:%d: %s must return true or false, reason; not a %s",
                                  LOBBY_FILE, line, name, lua_typename(L, t));
            c->ok = lua_toboolean(L, 1);
            if (!c->ok) {
                if (lua_type(L, 2) != LUA_TSTRING)
                    return luaL_error(L, "%s:%d: %s refused without a reason (a string)",
                                      LOBBY_FILE, line, name);
                /* The reason is the client's error code: UTF-8, and cut to fit. */
                size_t n;
                const char *why = lua_tolstring(L, 2, &n);
                if (!utf8_ok(why, n))
                    return luaL_error(L, "%s:%d: %s: the reason must be UTF-8 text", LOBBY_FILE,
                                      line, name);
                snprintf(c->reason, c->reason_n, "%s", why);
            }
            break;
        case H_SHOULD_START:
            if (t == LUA_TNIL || (t == LUA_TBOOLEAN && !lua_toboolean(L, 1))) {
                c->start = false;
            } else {
                double v = t == LUA_TNUMBER ? lua_tonumber(L, 1) : NAN;
                if (!(v >= 0 && v <= 60))
                    return luaL_error(L,
                                      "%s:%d: %s must return nil or a countdown of 0..60 seconds",
                                      LOBBY_FILE, line, name);
                c->start = true;
                c->countdown_s = v;
            }
            break;
        case H_AI_FILL: {
            int ok = t == LUA_TNUMBER;
            lua_Integer v = ok ? lua_tointegerx(L, 1, &ok) : 0;
            if (!ok || v < 0 || v > CR_MAX_CARS)
                return luaL_error(L, "%s:%d: %s must return a whole number of AI cars 0..%d",
                                  LOBBY_FILE, line, name, CR_MAX_CARS);
            c->n = (int)v;
            break;
        }
        case H_LEAVE: {
            /* Before the race the seat is simply freed: nothing to answer. */
            if (!strcmp(c->phase, "open")) break;
            const char *s = t == LUA_TSTRING ? lua_tostring(L, 1) : NULL;
            int found = -1;
            for (int i = 0; s && i < 3; i++)
                if (!strcmp(s, LEAVE_NAMES[i])) found = i;
            if (found < 0)
                return luaL_error(L, "%s:%d: %s must return \"retire\", \"ai\" or \"hold\"",
                                  LOBBY_FILE, line, name);
            c->leave = (LobbyLeave)found;
            break;
        }
        default:
            break; /* notifications: what they return is ignored */
    }
    return 0;
}

static int run(HookCall *c, CrError *err) {
    if (!c->lb->host || c->lb->hook_ref[c->which] == LUA_NOREF) return 0;
    int rc = lhost_protect(c->lb->host, call_hook, c, 0, 0, err);
    return rc ? rc : 1;
}

static int players_ready(const LobbyRoom *room) {
    int n = 0;
    for (int i = 0; i < room->n_players; i++) n += room->players[i].ready;
    return n;
}

int lobby_init(Lobby *lb, const LobbyRoom *room, CrError *err) {
    HookCall c = {.lb = lb, .which = H_INIT, .room = room};
    int rc = run(&c, err);
    if (rc <= 0) return rc < 0 ? rc : CR_OK;
    lb->loop_hz = c.loop_hz;
    if (c.label_set) snprintf(lb->label, sizeof lb->label, "%s", c.label);
    return CR_OK;
}

int lobby_join_attempt(Lobby *lb, const LobbyRoom *room, const LobbyPlayer *player, bool *ok,
                       char *reason, size_t reason_n, CrError *err) {
    reason[0] = '\0';
    *ok = room->n_players < room->max_cars;
    if (!*ok) snprintf(reason, reason_n, "room_full");
    if (!*ok) return CR_OK; /* the room's size is the server's, not the script's */
    HookCall c = {.lb = lb,
                  .which = H_JOIN_ATTEMPT,
                  .room = room,
                  .player = player,
                  .ok = true,
                  .reason = reason,
                  .reason_n = reason_n};
    int rc = run(&c, err);
    if (rc < 0) return rc; /* *ok stays the default: let them in */
    if (rc > 0) *ok = c.ok;
    return CR_OK;
}

int lobby_join(Lobby *lb, const LobbyRoom *room, const LobbyPlayer *player, CrError *err) {
    HookCall c = {.lb = lb, .which = H_JOIN, .room = room, .player = player};
    int rc = run(&c, err);
    return rc < 0 ? rc : CR_OK;
}

int lobby_ready(Lobby *lb, const LobbyRoom *room, const LobbyPlayer *player, CrError *err) {
    HookCall c = {.lb = lb, .which = H_READY, .room = room, .player = player};
    int rc = run(&c, err);
    return rc < 0 ? rc : CR_OK;
}

int lobby_should_start(Lobby *lb, const LobbyRoom *room, bool *start, double *countdown_s,
                       CrError *err) {
    /* The default: everyone (and at least min_players) ready; the rules'
     * own countdown (a negative countdown_s means "the rules decide"). */
    *start = room->n_players >= lb->min_players && players_ready(room) == room->n_players;
    *countdown_s = -1;
    HookCall c = {.lb = lb, .which = H_SHOULD_START, .room = room};
    int rc = run(&c, err);
    if (rc < 0) return rc;
    if (rc > 0) {
        *start = c.start && room->n_players >= lb->min_players;
        *countdown_s = c.start ? c.countdown_s : -1;
    }
    return CR_OK;
}

int lobby_ai_fill(Lobby *lb, const LobbyRoom *room, int *n, CrError *err) {
    *n = 0;
    HookCall c = {.lb = lb, .which = H_AI_FILL, .room = room};
    int rc = run(&c, err);
    if (rc < 0) return rc;
    if (rc > 0) *n = c.n;
    int room_left = room->max_cars - room->n_players;
    if (*n > room_left) *n = room_left > 0 ? room_left : 0;
    return CR_OK;
}

int lobby_leave(Lobby *lb, const LobbyRoom *room, const LobbyPlayer *player, const char *phase,
                const char *why, LobbyLeave *out, CrError *err) {
    *out = LOBBY_RETIRE;
    phase = phase ? phase : "open";
    /* The legacy on_leave was only ever asked about cars in a race. */
    if (!lb->handler && !strcmp(phase, "open")) return CR_OK;
    HookCall c = {.lb = lb,
                  .which = H_LEAVE,
                  .room = room,
                  .player = player,
                  .phase = phase,
                  .why = why ? why : "left",
                  .leave = LOBBY_RETIRE};
    int rc = run(&c, err);
    if (rc < 0) return rc;
    if (rc > 0) *out = c.leave;
    return CR_OK;
}

int lobby_loop(Lobby *lb, const LobbyRoom *room, const LobbyTick *tick, LobbyActions *out,
               CrError *err) {
    memset(out, 0, sizeof *out);
    HookCall c = {.lb = lb, .which = H_LOOP, .room = room, .tick = tick, .actions = out};
    int rc = run(&c, err);
    if (rc < 0) {
        memset(out, 0, sizeof *out); /* half-read actions are not acted on */
        return rc;
    }
    if (c.label_set && strcmp(c.label, lb->label)) {
        snprintf(lb->label, sizeof lb->label, "%s", c.label);
        out->label_changed = true;
    }
    return CR_OK;
}

int lobby_terminate(Lobby *lb, const LobbyRoom *room, const char *reason, CrError *err) {
    HookCall c = {.lb = lb, .which = H_TERMINATE, .room = room, .phase = reason};
    int rc = run(&c, err);
    return rc < 0 ? rc : CR_OK;
}

const char *lobby_leave_name(LobbyLeave l) {
    return (unsigned)l < 3 ? LEAVE_NAMES[l] : "retire";
}
