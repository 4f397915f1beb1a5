/*
 * lobby.c - a room's lobby rules from lobby.lua of a snapshot (who may join,
 * when the countdown starts, AI fill, what a leaving player's car becomes,
 * the reconnect grace), in a Lua state of its own that holds a reference to
 * the snapshot, so a room keeps the lobby it opened with. Hooks run off the
 * tick path but on the server's event loop, so each call has a small budget;
 * a hook that fails returns the safe default (the fixed C behaviour) along
 * with the error, and the room carries on.
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

enum { H_JOIN_ATTEMPT, H_ON_JOIN, H_ON_READY, H_SHOULD_START, H_AI_FILL, H_ON_LEAVE, H_COUNT };
static const char *const HOOK_NAMES[H_COUNT] = {"join_attempt", "on_join", "on_ready",
                                                "should_start", "ai_fill", "on_leave"};

static const LhostBudget SETUP_BUDGET = {
    .call_instructions = LOBBY_SETUP_INSTRUCTIONS, .call_ms = 500, .window_name = "window"};
/* Hooks run on the event loop every live room shares: a few ms at most. */
static const LhostBudget CALL_BUDGET = {
    .call_instructions = LOBBY_CALL_INSTRUCTIONS, .call_ms = 20, .window_name = "window"};

static const char *const LEAVE_NAMES[] = {"retire", "ai", "hold"};

struct Lobby {
    Scripts *sc; /* one reference; NULL for the built-in lobby */
    LuaHost *host;
    int hook_ref[H_COUNT];
    int hook_line[H_COUNT];
    int min_players;
    double grace_s;
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

/* Argument: the lobby table, then the Lobby. */
static int read_lobby(lua_State *L) {
    Lobby *lb = lua_touserdata(L, 2);
    if (!lua_istable(L, 1))
        return luaL_error(L, "%s must return a table of settings and hooks, not a %s", LOBBY_FILE,
                          luaL_typename(L, 1));
    static const char *const known[] = {
        "name",         "description", "min_players", "grace_s",
        "join_attempt", "on_join",     "on_ready",    "should_start",
        "ai_fill",      "on_leave",    NULL};
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        lua_pop(L, 1);
        const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        bool found = false;
        for (const char *const *p = known; k && *p && !found; p++) found = !strcmp(k, *p);
        if (!found)
            return luaL_error(L,
                              "%s: unknown field '%s' in the lobby table (known: name, "
                              "description, min_players, grace_s, join_attempt, on_join, "
                              "on_ready, should_start, ai_fill, on_leave)",
                              LOBBY_FILE, k ? k : luaL_typename(L, -1));
    }
    lb->min_players = (int)number_field(L, "min_players", 1, CR_MAX_CARS, 1, true);
    lb->grace_s = number_field(L, "grace_s", 0, 600, LOBBY_DEFAULT_GRACE_S, false);
    for (int i = 0; i < H_COUNT; i++) {
        lua_pushstring(L, HOOK_NAMES[i]);
        int t = lua_rawget(L, 1);
        if (t == LUA_TNIL) {
            lua_pop(L, 1);
            continue;
        }
        if (t != LUA_TFUNCTION)
            return luaL_error(L, "%s: %s must be a function, not a %s", LOBBY_FILE, HOOK_NAMES[i],
                              lua_typename(L, t));
        lua_Debug ar;
        lua_pushvalue(L, -1);
        lua_getinfo(L, ">S", &ar);
        lb->hook_line[i] = ar.linedefined;
        lb->hook_ref[i] = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    return 0;
}

int lobby_load(Scripts *sc, Lobby **out, CrError *err) {
    *out = NULL;
    Lobby *lb = calloc(1, sizeof *lb);
    if (!lb) return CR_ENOMEM;
    for (int i = 0; i < H_COUNT; i++) lb->hook_ref[i] = LUA_NOREF;
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

/* ---- hooks -------------------------------------------------------------- */

typedef struct {
    Lobby *lb;
    int which;
    const LobbyRoom *room;
    const LobbyPlayer *player;
    const char *phase;
    /* results */
    bool ok;
    char *reason;
    size_t reason_n;
    double countdown_s;
    bool start;
    int n;
    LobbyLeave leave;
} HookCall;

static void push_player(lua_State *L, const LobbyPlayer *p) {
    lua_createtable(L, 0, 6);
    lua_pushinteger(L, (lua_Integer)p->user_id);
    lua_setfield(L, -2, "user_id");
    lua_pushstring(L, p->username ? p->username : "");
    lua_setfield(L, -2, "username");
    lua_pushstring(L, p->bot ? "bot" : "human");
    lua_setfield(L, -2, "kind");
    lua_pushboolean(L, p->ready);
    lua_setfield(L, -2, "ready");
    lua_pushboolean(L, p->connected);
    lua_setfield(L, -2, "connected");
}

/* Fresh tables on every call: what a hook does to them is lost. */
static void push_room(lua_State *L, const LobbyRoom *r) {
    lua_createtable(L, 0, 6);
    lua_pushstring(L, r->id ? r->id : "");
    lua_setfield(L, -2, "id");
    lua_pushinteger(L, r->max_cars);
    lua_setfield(L, -2, "max_cars");
    lua_pushstring(L, r->phase ? r->phase : "open");
    lua_setfield(L, -2, "phase");
    lua_createtable(L, r->n_players, 0);
    int ready = 0;
    for (int i = 0; i < r->n_players; i++) {
        push_player(L, &r->players[i]);
        lua_rawseti(L, -2, i + 1);
        ready += r->players[i].ready;
    }
    lua_setfield(L, -2, "players");
    lua_pushinteger(L, r->n_players);
    lua_setfield(L, -2, "n_players");
    lua_pushinteger(L, ready);
    lua_setfield(L, -2, "n_ready");
}

/* Argument: the HookCall. Calls the hook and checks what it returned. */
static int call_hook(lua_State *L) {
    HookCall *c = lua_touserdata(L, 1);
    Lobby *lb = c->lb;
    int line = lb->hook_line[c->which];
    const char *name = HOOK_NAMES[c->which];
    lua_settop(L, 0);
    lua_rawgeti(L, LUA_REGISTRYINDEX, lb->hook_ref[c->which]);
    push_room(L, c->room);
    int nargs = 1;
    if (c->player) {
        push_player(L, c->player);
        nargs++;
    }
    if (c->phase) {
        lua_pushstring(L, c->phase);
        nargs++;
    }
    lua_call(L, nargs, 2);
    int t = lua_type(L, 1);
    switch (c->which) {
        case H_JOIN_ATTEMPT:
            if (t != LUA_TBOOLEAN)
                return luaL_error(L, "%s:%d: %s must return true or false, reason; not a %s",
                                  LOBBY_FILE, line, name, lua_typename(L, t));
            c->ok = lua_toboolean(L, 1);
            if (!c->ok) {
                if (lua_type(L, 2) != LUA_TSTRING)
                    return luaL_error(L, "%s:%d: %s refused without a reason (a string)",
                                      LOBBY_FILE, line, name);
                snprintf(c->reason, c->reason_n, "%s", lua_tostring(L, 2));
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
        case H_ON_LEAVE: {
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

int lobby_on_join(Lobby *lb, const LobbyRoom *room, const LobbyPlayer *player, CrError *err) {
    HookCall c = {.lb = lb, .which = H_ON_JOIN, .room = room, .player = player, .phase = NULL};
    int rc = run(&c, err);
    return rc < 0 ? rc : CR_OK;
}

int lobby_on_ready(Lobby *lb, const LobbyRoom *room, const LobbyPlayer *player, CrError *err) {
    HookCall c = {.lb = lb, .which = H_ON_READY, .room = room, .player = player, .phase = NULL};
    int rc = run(&c, err);
    return rc < 0 ? rc : CR_OK;
}

int lobby_should_start(Lobby *lb, const LobbyRoom *room, bool *start, double *countdown_s,
                       CrError *err) {
    /* The default: everyone (and at least min_players) ready; the rules'
     * own countdown (a negative countdown_s means "the rules decide"). */
    *start = room->n_players >= lb->min_players && players_ready(room) == room->n_players;
    *countdown_s = -1;
    HookCall c = {.lb = lb, .which = H_SHOULD_START, .room = room, .player = NULL, .phase = NULL};
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
    HookCall c = {.lb = lb, .which = H_AI_FILL, .room = room, .player = NULL, .phase = NULL};
    int rc = run(&c, err);
    if (rc < 0) return rc;
    if (rc > 0) *n = c.n;
    int room_left = room->max_cars - room->n_players;
    if (*n > room_left) *n = room_left > 0 ? room_left : 0;
    return CR_OK;
}

int lobby_on_leave(Lobby *lb, const LobbyRoom *room, const LobbyPlayer *player, const char *phase,
                   LobbyLeave *out, CrError *err) {
    *out = LOBBY_RETIRE;
    HookCall c = {.lb = lb,
                  .which = H_ON_LEAVE,
                  .room = room,
                  .player = player,
                  .phase = phase ? phase : "open"};
    int rc = run(&c, err);
    if (rc < 0) return rc;
    if (rc > 0) *out = c.leave;
    return CR_OK;
}

const char *lobby_leave_name(LobbyLeave l) {
    return (unsigned)l < 3 ? LEAVE_NAMES[l] : "retire";
}
