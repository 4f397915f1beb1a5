#!/usr/bin/env python3
"""End-to-end tests of the rooms' lobby (scripts/lobby.lua as a match
handler), reconnects, race_start's stage geometry and the close frames at
SIGTERM: a real `coderally serve` per test with its own scripts folder and
database, a real HTTP client and real WebSocket clients.

usage: test_lobby.py CODERALLY_BINARY [TEST_NAME ...]
"""
import asyncio
import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import test_server as ts  # noqa: E402  (the shared Server and helpers)
from test_server import Server, auth, check, expect, register  # noqa: E402
import websockets  # noqa: E402
import websockets.exceptions  # noqa: E402

ROOT = ts.ROOT

# A match-handler lobby that writes what happens into its state and says it
# back: every loop (4 a second) sends the log as a lobby_message; it kicks
# anyone called kick*, refuses them afterwards (the state remembers), starts
# the race itself once two players are ready (should_start never does), and
# prints the log when the room ends.
HANDLER_LOBBY = r'''
local function note(state, what) state.log[#state.log + 1] = what end
return {
  grace_s = 2,
  init = function(room)
    return { log = { "init" }, kicked = {} }, 4, "warming up"
  end,
  join_attempt = function(_room, state, p)
    if state.kicked[p.user_id] then return false, "kicked_before" end
    note(state, "attempt:" .. p.username)
    return true
  end,
  join = function(_room, state, p) note(state, "join:" .. p.username) end,
  ready = function(_room, state, p) note(state, "ready:" .. p.username) end,
  should_start = function() return nil end,
  leave = function(_room, state, p, phase, why)
    note(state, "leave:" .. p.username .. ":" .. phase .. ":" .. why)
    return "ai"
  end,
  loop = function(room, state, t)
    local a = { message = room.phase .. "|" .. table.concat(state.log, ",") }
    for _, p in ipairs(room.players) do
      if p.username:sub(1, 4) == "kick" then
        a.kick = { p.user_id }
        a.reason = "no kickers here"
        state.kicked[p.user_id] = true
      end
    end
    if room.phase == "open" and room.n_players == 2 and room.n_ready == 2 and not state.go then
      state.go = true
      note(state, "go@" .. t.tick)
      a.start = 1
      a.label = "starting"
    end
    if t.race_tick and not state.raced then
      state.raced = true
      note(state, "race_seen")
    end
    return a
  end,
  terminate = function(_room, state, reason)
    print("TERMINATE " .. reason .. " " .. table.concat(state.log, ","))
  end,
}
'''

# Hooks that fail: join errors every time; the loop (10 a second) keeps
# growing the state until the 8 MiB cap stops it. The built-in answers keep
# the room working.
FAILING_LOBBY = r'''
return {
  init = function() return { junk = {} }, 10 end,
  join = function(_room, _state, _p) error("join bug") end,
  loop = function(_room, state, t)
    state.junk[#state.junk + 1] = string.rep("x", 262144) .. t.tick
  end,
}
'''

# The reconnect tests: the shipped behaviour with a short grace.
SHORT_GRACE_LOBBY = r'''
return {
  grace_s = 3,
  init = function() return {} end,
  leave = function(_room, _state, p, phase, why)
    print("LEAVE " .. p.username .. " " .. phase .. " " .. why)
    return "retire"
  end,
}
'''


def scripts_with(tmp, lobby):
    scripts = os.path.join(tmp, "scripts")
    subprocess.run(["cp", "-r", os.path.join(ROOT, "scripts"), scripts], check=True)
    open(os.path.join(scripts, "rules", "quick.lua"), "w").write(ts.QUICK_RULES)
    # A race long enough for a few reconnects on a loaded machine.
    long_rules = ts.QUICK_RULES.replace('name = "quick"', 'name = "long"').replace("return 10 end", "return 60 end")
    check(long_rules != ts.QUICK_RULES and "return 60 end" in long_rules, "QUICK_RULES changed shape")
    open(os.path.join(scripts, "rules", "long.lua"), "w").write(long_rules)
    open(os.path.join(scripts, "lobby.lua"), "w").write(lobby)
    return scripts


def ws_url(srv):
    return "ws://127.0.0.1:%d/ws" % srv.port


def connect(srv, token=None):
    headers = {"Cookie": "cr_session=" + token} if token else None
    return websockets.connect(ws_url(srv), subprotocols=["coderally.v1"], extra_headers=headers,
                              max_size=4 << 20)


async def until(ws, pred, timeout=20, seen=None):
    """The first message pred accepts (messages before it go to seen)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        m = json.loads(await asyncio.wait_for(ws.recv(), deadline - time.time()))
        if m["type"] == "error" and m.get("code") == "race_failed":
            raise AssertionError("race_failed: %s" % m["message"])
        if pred(m):
            return m
        if seen is not None:
            seen.append(m)
    raise AssertionError("timed out")


def is_type(t):
    return lambda m: m["type"] == t


def user_with_car(srv, name=None):
    name, token = register(srv, name)
    car = expect(srv.http.get("/api/garage", headers=auth(token)), 200)["cars"][0]["id"]
    return name, token, car


def wait_log(srv, text, timeout=20):
    path = os.path.join(srv.tmp, "server.log")
    deadline = time.time() + timeout
    while time.time() < deadline:
        log = open(path).read()
        if text in log:
            return log
        time.sleep(0.1)
    raise AssertionError("%r not in the log: %s" % (text, open(path).read()[-2000:]))


# ---- tests ------------------------------------------------------------------

def test_handler_hooks_in_order_with_state(tmp):
    """init, join_attempt, join, ready, loop, leave, terminate run in order
    on one state table that lasts the room's life; the loop messages, kicks
    (refused afterwards from the state), relabels and starts the race."""
    srv = Server(tmp, extra=("--scripts", scripts_with(tmp, HANDLER_LOBBY)))
    try:
        a, ta, car_a = user_with_car(srv, "alice")
        b, tb, car_b = user_with_car(srv, "bob")
        k, tk, car_k = user_with_car(srv, "kicker")
        rid = expect(srv.http.post("/api/races", headers=auth(ta), json={
            "generator": "forest", "seed": 5, "rules": "quick", "max_cars": 3, "ai_fill": False}), 201)["race"]["id"]

        def join(ws, car):
            return ws.send(json.dumps({"type": "join_race", "race_id": rid, "car_id": car}))

        async def run():
            async with connect(srv, ta) as wa, connect(srv, tb) as wb, connect(srv, tk) as wk:
                for w in (wa, wb, wk):
                    await w.recv()
                await join(wa, car_a)
                lb = await until(wa, is_type("lobby"))
                check(lb["label"] == "warming up", str(lb))
                await join(wk, car_k)
                e = await until(wk, is_type("error"))
                check(e["code"] == "kicked" and e["message"] == "no kickers here", str(e))
                lb = await until(wa, lambda m: m["type"] == "lobby" and len(m["players"]) == 1)
                check(lb["players"][0]["user"]["username"] == a, str(lb))
                await join(wk, car_k)
                e = await until(wk, is_type("error"))
                check(e["code"] == "kicked_before", str(e))
                await join(wb, car_b)
                await until(wa, lambda m: m["type"] == "lobby" and len(m["players"]) == 2)
                await wa.send(json.dumps({"type": "ready"}))
                await until(wa, lambda m: m["type"] == "lobby" and m["players"][0]["ready"])
                await wb.send(json.dumps({"type": "ready"}))
                # The loop starts it after its own 1 s countdown, relabelled.
                seen = []
                start = await until(wa, is_type("race_start"), seen=seen)
                check(any(m["type"] == "lobby" and m["label"] == "starting" for m in seen), str(seen))
                msgs = [m["text"] for m in seen if m["type"] == "lobby_message"]
                check(msgs and all(m["race_id"] == rid for m in seen if m["type"] == "lobby_message"))
                want = ("open|init,attempt:alice,join:alice,attempt:kicker,join:kicker,"
                        "leave:kicker:open:kicked,attempt:bob,join:bob,ready:alice,ready:bob,go@")
                check(msgs[-1].startswith(want), "%s\nwant %s" % (msgs[-1], want))
                check(start["countdown"] > 0 and len(start["cars"]) == 2, str(start)[:500])
                # The loop goes on in the race, with the race's tick.
                m = await until(wa, lambda m: m["type"] == "lobby_message" and "race_seen" in m["text"])
                check(m["text"].split("|")[0] in ("countdown", "running"), m["text"])
                await until(wb, lambda m: m["type"] == "game_state" and m["race_info"]["phase"] == "running")
                await wb.send(json.dumps({"type": "leave"}))
                await until(wa, lambda m: m["type"] == "lobby_message" and "leave:bob:running:left" in m["text"])
                await until(wa, is_type("race_end"), timeout=40)

        asyncio.run(run())
        log = wait_log(srv, "TERMINATE finished ")
        line = [l for l in log.splitlines() if "TERMINATE finished " in l][0]
        check(line.endswith(",race_seen,leave:bob:running:left"), line)
        check("bob's car: ai" in log, log[-2000:])
        # the loop is not every tick: about 4 a second over the room's life
        n_loops = int(line.split("go@")[1].split(",")[0])
        check(1 <= n_loops <= 40, line)
    finally:
        check(srv.stop() == 0)


def test_failing_and_huge_hooks(tmp):
    """A hook that errors is logged with lobby.lua's line and the room does
    what the built-in lobby would; a loop that grows its state without end
    hits the 8 MiB cap with a clear error, and the server and the room go on
    (the race starts when all are ready, and ends)."""
    srv = Server(tmp, extra=("--scripts", scripts_with(tmp, FAILING_LOBBY)))
    try:
        _, ta, car_a = user_with_car(srv)
        rid = expect(srv.http.post("/api/races", headers=auth(ta), json={
            "generator": "forest", "rules": "quick", "max_cars": 2}), 201)["race"]["id"]

        async def run():
            async with connect(srv, ta) as wa:
                await wa.recv()
                await wa.send(json.dumps({"type": "join_race", "race_id": rid, "car_id": car_a}))
                await until(wa, is_type("lobby"))
                wait_log(srv, "lobby.lua:4: join bug")
                log = wait_log(srv, "memory cap of 8192 KiB exceeded", timeout=30)
                check("lobby.lua:6:" in log.split("memory cap of 8192 KiB exceeded")[0].splitlines()[-1], log[-1500:])
                await wa.send(json.dumps({"type": "ready"}))
                await until(wa, is_type("race_start"))
                await until(wa, is_type("race_end"), timeout=40)

        asyncio.run(run())
        log = open(os.path.join(tmp, "server.log")).read()
        # said once (or once per way it fails), not 10 times a second for
        # the whole race (~150 times)
        check(log.count("memory cap of 8192 KiB exceeded") <= 10, log[-3000:])
        check(expect(srv.http.get("/api/races/" + rid), 200)["race"]["status"] == "finished")
    finally:
        check(srv.stop() == 0)


def test_reconnect_on_hello_mid_race_and_geometry(tmp):
    """A player whose socket drops mid-race gets the car back just by
    connecting again: hello names the room, then lobby, race_start (with
    the stage geometry, the same as GET /api/stages) and game_state, and
    their input drives the car again; the same through an `auth` message. A
    spectator arriving mid-race gets race_start with the geometry too. A
    seat held in an open room comes back the same way, and is freed when the
    grace runs out."""
    srv = Server(tmp, extra=("--scripts", scripts_with(tmp, SHORT_GRACE_LOBBY)))
    try:
        a, ta, car_a = user_with_car(srv)
        b, tb, car_b = user_with_car(srv)
        rid = expect(srv.http.post("/api/races", headers=auth(ta), json={
            "generator": "forest", "seed": 7, "rules": "long", "max_cars": 2}), 201)["race"]["id"]
        want_geo = expect(srv.http.get("/api/stages/forest?seed=7"), 200)
        uid_b = expect(srv.http.get("/api/me", headers=auth(tb)), 200)["user"]["id"]

        def progress(state, car):
            return state["cars"][car]["progress"]

        async def resume(ws, how):
            """After a reconnect: lobby (b connected), race_start, game_state."""
            lb = await until(ws, lambda m: True)
            check(lb["type"] == "lobby" and lb["state"] in ("countdown", "running"), "%s: %s" % (how, lb))
            check([p["connected"] for p in lb["players"]] == [True, True], str(lb))
            st = await until(ws, lambda m: True)
            check(st["type"] == "race_start" and st["race_id"] == rid, "%s: %s" % (how, str(st)[:300]))
            check(st["countdown"] == 0 and st["tick"] > 0, str(st)[:300])
            check(st["stage"]["geometry"] == want_geo, "%s: geometry differs from GET /api/stages" % how)
            check([c["user"]["id"] if c["user"] else None for c in st["cars"]][1] == uid_b, str(st["cars"]))
            gs = await until(ws, lambda m: True)
            check(gs["type"] == "game_state", "%s: %s" % (how, gs))
            return gs

        async def run():
            async with connect(srv, ta) as wa:
                await wa.recv()
                wb = await connect(srv, tb)
                hello = json.loads(await wb.recv())
                check(hello["room"] is None, str(hello))
                for w, car in ((wa, car_a), (wb, car_b)):
                    await w.send(json.dumps({"type": "join_race", "race_id": rid, "car_id": car}))
                    await until(w, is_type("lobby"))
                for w in (wa, wb):
                    await w.send(json.dumps({"type": "ready"}))
                start = await until(wa, is_type("race_start"))
                # everyone at the start gets the geometry once, in race_start: the
                # race waits for the worker that makes the stage and its geometry
                check(start["stage"]["seed"] == 7)
                geo = start["stage"]["geometry"]
                big = json.dumps(start)
                check(geo == want_geo, "geometry differs from GET /api/stages")
                check(len(big) > 50000, "a small geometry proves little about big messages")
                await until(wb, lambda m: m["type"] == "game_state" and m["race_info"]["phase"] == "running")
                # b's connection dies without a close frame
                wb.transport.abort()
                await until(wa, lambda m: m["type"] == "lobby" and not m["players"][1]["connected"])
                wb2 = await connect(srv, tb)
                hello = json.loads(await wb2.recv())
                check(hello["user"]["id"] == uid_b and hello["room"] == {"race_id": rid, "state": "running"},
                      str(hello))
                gs = await resume(wb2, "cookie")
                p0 = progress(gs, 1)
                await wb2.send(json.dumps({"type": "input", "actions": {"accelerate": True}}))
                gs = await until(wb2, lambda m: m["type"] == "game_state" and progress(m, 1) > p0 + 5)
                await until(wa, lambda m: m["type"] == "lobby" and m["players"][1]["connected"])
                wb2.transport.abort()
                # a client that authenticates by message gets the seat back with the auth answer
                async with connect(srv) as wb3:
                    hello = json.loads(await wb3.recv())
                    check(hello["user"] is None and hello["room"] is None, str(hello))
                    await wb3.send(json.dumps({"type": "auth", "token": tb}))
                    au = json.loads(await wb3.recv())
                    check(au["type"] == "auth" and au["room"] == {"race_id": rid, "state": "running"}, str(au))
                    gs = await resume(wb3, "auth")
                    await wb3.send(json.dumps({"type": "input", "actions": {"accelerate": True}}))
                    p0 = progress(gs, 1)
                    await until(wb3, lambda m: m["type"] == "game_state" and progress(m, 1) > p0 + 5)
                    # a spectator arriving now gets race_start (and the geometry) before game_state
                    async with connect(srv) as spec:
                        await spec.recv()
                        await spec.send(json.dumps({"type": "spectate", "race_id": rid}))
                        check(json.loads(await spec.recv())["type"] == "lobby")
                        st = json.loads(await spec.recv())
                        check(st["type"] == "race_start" and st["stage"]["geometry"] == want_geo, str(st)[:200])
                        check(json.loads(await spec.recv())["type"] == "game_state")
                    log = open(os.path.join(tmp, "server.log")).read()
                    check("LEAVE %s" % b not in log, "b's car was given up: " + log[-1000:])
                    # both leave for good: no seat held for the next part
                    for w in (wa, wb3):
                        await w.send(json.dumps({"type": "leave"}))
                    await until(wb3, lambda m: m["type"] == "lobby")

        asyncio.run(run())
        wait_log(srv, "LEAVE %s running left" % b)

        # An open room: the seat waits through a dropped socket, comes back on hello.
        rid2 = expect(srv.http.post("/api/races", headers=auth(ta), json={
            "generator": "forest", "rules": "quick", "max_cars": 2}), 201)["race"]["id"]

        async def lobby_run():
            async with connect(srv, ta) as wa:
                await wa.recv()
                wb = await connect(srv, tb)
                await wb.recv()
                for w, car in ((wa, car_a), (wb, car_b)):
                    await w.send(json.dumps({"type": "join_race", "race_id": rid2, "car_id": car}))
                    await until(w, is_type("lobby"))
                await wb.send(json.dumps({"type": "ready"}))
                await until(wa, lambda m: m["type"] == "lobby" and m["players"][1]["ready"])
                wb.transport.abort()
                lb = await until(wa, lambda m: m["type"] == "lobby" and not m["players"][1]["connected"])
                check(lb["players"][1]["ready"] is False, "a held seat stays ready: %s" % lb)
                wb2 = await connect(srv, tb)
                hello = json.loads(await wb2.recv())
                check(hello["room"] == {"race_id": rid2, "state": "open"}, str(hello))
                lb = json.loads(await wb2.recv())
                check(lb["type"] == "lobby" and lb["race_id"] == rid2 and lb["players"][1]["connected"], str(lb))
                # the seat is theirs: ready works without joining again
                await wb2.send(json.dumps({"type": "ready"}))
                await until(wb2, lambda m: m["type"] == "lobby" and m["players"][1]["ready"])
                wb2.transport.abort()
                # past the grace (3 s) the seat is freed and lobby.lua's leave hears "timeout"
                t0 = time.time()
                lb = await until(wa, lambda m: m["type"] == "lobby" and len(m["players"]) == 1, timeout=10)
                check(time.time() - t0 > 2, "freed before the grace ran out")
                async with connect(srv, tb) as wb3:
                    check(json.loads(await wb3.recv())["room"] is None)

        asyncio.run(lobby_run())
        check("LEAVE %s open timeout" % b in open(os.path.join(tmp, "server.log")).read())
    finally:
        check(srv.stop() == 0)


def test_sigterm_race_end_and_close_frames(tmp):
    """SIGTERM mid-race: the race is recorded aborted, the player and the
    spectator hear race_end (aborted, saved), then every WebSocket (an idle
    one too) gets a close frame 1001 "server shutting down"; exit 0."""
    srv = Server(tmp, extra=("--scripts", scripts_with(tmp, SHORT_GRACE_LOBBY)))
    _, ta, car_a = user_with_car(srv)
    rid = expect(srv.http.post("/api/races", headers=auth(ta), json={
        "generator": "forest", "rules": "quick", "max_cars": 2}), 201)["race"]["id"]
    closes = {}

    async def drain(name, ws, seen):
        try:
            while True:
                seen.append(json.loads(await ws.recv()))
        except websockets.exceptions.ConnectionClosed as e:
            closes[name] = e.rcvd

    async def run():
        async with connect(srv, ta) as wa, connect(srv) as spec, connect(srv) as idle:
            for w in (wa, spec, idle):
                await w.recv()
            await spec.send(json.dumps({"type": "spectate", "race_id": rid}))
            await wa.send(json.dumps({"type": "join_race", "race_id": rid, "car_id": car_a}))
            await until(wa, is_type("lobby"))
            await wa.send(json.dumps({"type": "ready"}))
            await until(wa, lambda m: m["type"] == "game_state" and m["race_info"]["phase"] == "running")
            seen = {"a": [], "spec": [], "idle": []}
            tasks = [asyncio.ensure_future(drain(n, w, seen[n])) for n, w in (("a", wa), ("spec", spec), ("idle", idle))]
            srv.proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(asyncio.gather(*tasks), 30)
            return seen

    seen = asyncio.run(run())
    rc = srv.proc.wait(timeout=30)
    srv.stop()
    check(rc == 0, "serve exited %d" % rc)
    for name in ("a", "spec", "idle"):
        c = closes.get(name)
        check(c is not None and c.code == 1001 and c.reason == "server shutting down",
              "%s closed with %s" % (name, c))
    for name in ("a", "spec"):
        ends = [m for m in seen[name] if m["type"] == "race_end"]
        check(len(ends) == 1 and ends[0]["aborted"] is True and ends[0]["saved"] is True
              and ends[0]["race_id"] == rid, "%s: %s" % (name, ends))
        check(seen[name][-1]["type"] == "race_end", "%s: a message after race_end" % name)
    check(srv.db_query("SELECT status FROM races WHERE id = ?", rid) == [("aborted",)])


def test_stage_made_by_a_worker_failures_and_reloads(tmp):
    """A race starts only with its stage, made on a worker under the scripts
    of the moment: after a reload the next start takes the new stage (in a
    room opened before it, too) and race_start's geometry is the new one; a
    generator that now fails for the room's seed gives the players
    race_failed with its message, the room stays open and fails the same way
    again, and the start after the fix races."""
    scripts = scripts_with(tmp, SHORT_GRACE_LOBBY)
    forest = open(os.path.join(scripts, "stages", "forest.lua")).read()
    head = "local function generate(seed, p)\n"
    check(head in forest and 'name = "forest",' in forest and "width = { default = 9.5," in forest,
          "forest.lua changed shape")
    v1 = forest.replace('name = "forest",', 'name = "picky",')
    # v2: every stage changes (a wider road by default) and seed 13 fails
    v2 = v1.replace(head, head + '    if seed == 13 then error("picky: no stage for seed 13") end\n').replace(
        "width = { default = 9.5,", "width = { default = 10.5,")
    v3 = v2.replace('    if seed == 13 then error("picky: no stage for seed 13") end\n', "")
    path = os.path.join(scripts, "stages", "picky.lua")
    open(path, "w").write(v1)
    srv = Server(tmp, extra=("--scripts", scripts))
    try:
        _, ta, car_a = user_with_car(srv)
        _, tb, car_b = user_with_car(srv)
        old7 = expect(srv.http.get("/api/stages/picky?seed=7"), 200)

        def room(token, seed):
            return expect(srv.http.post("/api/races", headers=auth(token), json={
                "generator": "picky", "seed": seed, "rules": "quick", "max_cars": 1}), 201)["race"]["id"]

        def reload(text, seed, status):
            time.sleep(1.1)  # a new mtime second, so the change is seen
            open(path, "w").write(text)
            deadline = time.time() + 15
            while srv.http.get("/api/stages/picky?seed=%d" % seed).status_code != status:
                check(time.time() < deadline, "the reload was not picked up")
                time.sleep(0.2)

        bad, later = room(ta, 13), room(tb, 7)
        reload(v2, 13, 500)
        new7 = expect(srv.http.get("/api/stages/picky?seed=7"), 200)
        check(new7 != old7, "v2 left seed 7's stage as it was")

        async def join(ws, rid, car):
            await ws.recv()
            await ws.send(json.dumps({"type": "join_race", "race_id": rid, "car_id": car}))
            await until(ws, is_type("lobby"))

        async def ready_fails(ws):
            await ws.send(json.dumps({"type": "ready"}))
            deadline = time.time() + 20
            while time.time() < deadline:
                m = json.loads(await asyncio.wait_for(ws.recv(), deadline - time.time()))
                check(m["type"] != "race_start", "a race started without its stage: %s" % str(m)[:200])
                if m["type"] == "error":
                    return m
            raise AssertionError("no race_failed")

        async def race_on(ws, want, what):
            await ws.send(json.dumps({"type": "ready"}))
            st = await until(ws, is_type("race_start"))
            check(st["stage"]["geometry"] == want, "%s: race_start's geometry is not the new stage" % what)
            await until(ws, is_type("game_state"))

        async def first_part():
            async with connect(srv, ta) as wa, connect(srv, tb) as wb:
                await join(wa, bad, car_a)
                for _ in range(2):
                    e = await ready_fails(wa)
                    check(e["code"] == "race_failed" and "no stage for seed 13" in e["message"], str(e))
                race = expect(srv.http.get("/api/races/" + bad), 200)["race"]
                check(race["status"] == "open", str(race)[:300])
                await join(wb, later, car_b)
                await race_on(wb, new7, "a room opened before the reload")

        asyncio.run(first_part())
        reload(v3, 13, 200)
        new13 = expect(srv.http.get("/api/stages/picky?seed=13"), 200)

        async def second_part():
            async with connect(srv, ta) as wa:
                await join(wa, bad, car_a)
                await race_on(wa, new13, "after the fix")

        asyncio.run(second_part())
    finally:
        check(srv.stop() == 0)

TESTS = [test_handler_hooks_in_order_with_state, test_failing_and_huge_hooks,
         test_reconnect_on_hello_mid_race_and_geometry, test_sigterm_race_end_and_close_frames,
         test_stage_made_by_a_worker_failures_and_reloads]


def main():
    return ts.run_own_tests(TESTS)


if __name__ == "__main__":
    sys.exit(main())
