#!/usr/bin/env python3
"""The rooms as REST shows them and their limits, against a real
`coderally serve` per test: live occupancy (state, players, spectators, free
seats) in GET /api/races and GET /api/races/{id}; empty open rooms closing
after EMPTY_ROOM_TIMEOUT_S; the per-user cap on open rooms
(MAX_OPEN_ROOMS_PER_USER).

usage: test_rooms.py CODERALLY_BINARY [TEST_NAME ...]
"""
import asyncio
import json
import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import test_server as ts  # noqa: E402  (the shared Server and helpers)
from test_server import Server, auth, check, expect  # noqa: E402
from test_lobby import connect, is_type, scripts_with, until, user_with_car, wait_log  # noqa: E402
import websockets.exceptions  # noqa: E402

BASE = ("--register-limit", "40", "--set", "LADDER_CPU_SHARE=0")

# The built-in lobby with a short grace, saying when it terminates and why.
TELLING_LOBBY = r'''
return {
  grace_s = 2,
  init = function(room) return { id = room.id } end,
  terminate = function(_room, state, reason) print("TERMINATE " .. state.id .. " " .. reason) end,
}
'''

LIVE = ("state", "players", "spectators", "free_seats", "expires_at")


def detail(srv, rid):
    return expect(srv.http.get("/api/races/" + rid), 200)["race"]


def listed(srv, rid, status):
    races = expect(srv.http.get("/api/races?status=" + status), 200)["races"]
    found = [r for r in races if r["id"] == rid]
    check(len(found) == 1, "%s not in ?status=%s: %s" % (rid, status, [r["id"] for r in races]))
    return found[0]


def names(race):
    return [(p["user"]["username"], p["kind"], p["ready"], p["connected"]) for p in race["players"]]


def test_live_occupancy_in_list_and_detail(tmp):
    """An open room lists its players (kind, ready, connected, held seats
    too), spectators and free seats, in the list and the detail alike, as
    its lobby message says them; a race under way says countdown/running;
    a finished race has none of it (null)."""
    scripts = scripts_with(tmp, TELLING_LOBBY)
    srv = Server(tmp, extra=("--scripts", scripts) + BASE)
    try:
        a, ta, car_a = user_with_car(srv, "alice")
        b, tb, car_b = user_with_car(srv, "bob")
        bot_b = expect(srv.http.post("/api/bots", headers=auth(tb), json={"name": "f", "code": ts.TEMPLATE}),
                       201)["bot"]["id"]
        made = expect(srv.http.post("/api/races", headers=auth(ta), json={
            "generator": "forest", "seed": 4, "rules": "quick", "max_cars": 3, "ai_fill": False}), 201)["race"]
        rid = made["id"]
        now = time.time()
        check(made["state"] == "open" and made["players"] == [] and made["spectators"] == 0, str(made))
        check(made["free_seats"] == 3 and now + 290 <= made["expires_at"] <= now + 310, str(made))
        for r in (detail(srv, rid), listed(srv, rid, "open")):
            check(r["state"] == "open" and r["players"] == [] and r["spectators"] == 0, str(r))
            check(r["free_seats"] == 3 and r["expires_at"] >= now + 290, str(r))

        async def run():
            async with connect(srv, ta) as wa, connect(srv, tb) as wb, connect(srv) as ws:
                for w in (wa, wb, ws):
                    await w.recv()
                await ws.send(json.dumps({"type": "spectate", "race_id": rid}))
                await until(ws, is_type("lobby"))
                await wa.send(json.dumps({"type": "join_race", "race_id": rid, "car_id": car_a}))
                await until(wa, is_type("lobby"))
                await wb.send(json.dumps({"type": "join_race", "race_id": rid, "car_id": car_b, "bot_id": bot_b}))
                lb = await until(wa, lambda m: m["type"] == "lobby" and len(m["players"]) == 2)
                # The lobby message and REST say the same, in both routes.
                for r in (detail(srv, rid), listed(srv, rid, "open")):
                    check(r["state"] == "open" and r["status"] == "open", str(r))
                    check(names(r) == [(a, "human", False, True), (b, "bot", False, True)], str(r))
                    check([p["user"]["id"] for p in r["players"]] == [p["user"]["id"] for p in lb["players"]])
                    check(all(p["car_type"] == "hatch" for p in r["players"]), str(r))
                    check(r["spectators"] == 1 and r["free_seats"] == 1 and r["expires_at"] is None, str(r))
                    check(set(r["players"][0]) == {"user", "car_type", "kind", "ready", "connected"}, str(r))
                await wa.send(json.dumps({"type": "ready"}))
                await until(wb, lambda m: m["type"] == "lobby" and m["players"][0]["ready"])
                check(names(detail(srv, rid))[0] == (a, "human", True, True))
            # Everyone's socket closed: the two seats are held for the grace
            # (not ready, not connected) and still taken; nobody watches.
            deadline = time.time() + 10
            while True:
                r = detail(srv, rid)
                if r["spectators"] == 0 and not any(p["connected"] for p in r["players"]):
                    break
                check(time.time() < deadline, "the closed sockets never showed: %s" % r)
                await asyncio.sleep(0.1)
            check(names(r) == [(a, "human", False, False), (b, "bot", False, False)], str(r))
            check(r["free_seats"] == 1 and r["expires_at"] is None, str(r))
            # Past the grace the seats are free and the room is empty.
            await asyncio.sleep(2.5)
            r = detail(srv, rid)
            check(r["players"] == [] and r["free_seats"] == 3, str(r))
            check(time.time() + 290 <= r["expires_at"] <= time.time() + 301, str(r))
            # A race: countdown, then running, in the running list too.
            async with connect(srv, ta) as wa:
                await wa.recv()
                await wa.send(json.dumps({"type": "join_race", "race_id": rid, "car_id": car_a}))
                await until(wa, is_type("lobby"))
                await wa.send(json.dumps({"type": "ready"}))
                await until(wa, is_type("race_start"))
                r = detail(srv, rid)
                check(r["state"] in ("countdown", "running") and names(r) == [(a, "human", True, True)], str(r))
                await until(wa, lambda m: m["type"] == "lobby" and m["state"] == "running")
                deadline = time.time() + 10
                while listed(srv, rid, "running")["state"] != "running":
                    check(time.time() < deadline, "never running in the list")
                    await asyncio.sleep(0.1)
                await until(wa, is_type("race_end"), timeout=40)
            deadline = time.time() + 10
            while detail(srv, rid)["state"] is not None:
                check(time.time() < deadline, "a finished race still looks live")
                await asyncio.sleep(0.1)

        asyncio.run(run())
        r = detail(srv, rid)
        check(r["status"] == "finished" and all(r[k] is None for k in LIVE), str(r))
        check(all(x[k] is None for x in expect(srv.http.get("/api/races"), 200)["races"] for k in LIVE))
    finally:
        check(srv.stop() == 0)


def test_empty_open_rooms_expire(tmp):
    """With EMPTY_ROOM_TIMEOUT_S=3 an open room nobody sits in closes (its
    spectator is told, lobby.lua's terminate gets "expired", the race is
    recorded aborted, joining it is not_found); a room with a player does
    not, nor one whose seat is held, until the grace is over; a room a
    player left closes 3 s after."""
    scripts = scripts_with(tmp, TELLING_LOBBY)
    srv = Server(tmp, extra=("--scripts", scripts, "--set", "EMPTY_ROOM_TIMEOUT_S=3") + BASE)
    try:
        _, ta, car_a = user_with_car(srv)
        _, tb, car_b = user_with_car(srv)

        def room(token):
            return expect(srv.http.post("/api/races", headers=auth(token), json={
                "generator": "forest", "rules": "quick", "max_cars": 2}), 201)["race"]

        def emptied(rid):
            deadline = time.time() + 5
            while detail(srv, rid)["players"]:
                check(time.time() < deadline, "%s never emptied" % rid)
                time.sleep(0.05)
            return time.time()

        async def run():
            async with connect(srv, ta) as wa, connect(srv, tb) as wb, connect(srv) as ws:
                for w in (wa, wb, ws):
                    await w.recv()
                # Each room is made just before its player sits down.
                kept = room(ta)["id"]
                await wa.send(json.dumps({"type": "join_race", "race_id": kept, "car_id": car_a}))
                await until(wa, is_type("lobby"))
                made = room(ta)
                empty, t_made = made["id"], time.time()
                check(made["expires_at"] - t_made <= 4, str(made))
                await ws.send(json.dumps({"type": "spectate", "race_id": empty}))
                await until(ws, is_type("lobby"))
                left = room(tb)["id"]
                await wb.send(json.dumps({"type": "join_race", "race_id": left, "car_id": car_b}))
                await until(wb, is_type("lobby"))
                await wb.send(json.dumps({"type": "leave"}))
                t_left = emptied(left)
                e = await until(ws, is_type("error"), timeout=10)
                check(e["code"] == "room_closed" and "3 s" in e["message"], str(e))
                check(time.time() - t_made >= 2.9, "closed too early")
                # Joining the closed room: no such race.
                await wb.send(json.dumps({"type": "join_race", "race_id": empty, "car_id": car_b}))
                e = await until(wb, is_type("error"))
                check(e["code"] == "not_found", str(e))
                # The seat of a player whose socket drops is held for the
                # grace (2 s), then the room is empty for 3 s more.
                held = room(tb)["id"]
                async with connect(srv, tb) as wh:
                    await wh.recv()
                    await wh.send(json.dumps({"type": "join_race", "race_id": held, "car_id": car_b}))
                    await until(wh, is_type("lobby"))
                t_dropped = time.time()
                await asyncio.sleep(max(0, t_left + 3.8 - time.time()))
                check(detail(srv, left)["status"] == "aborted", str(detail(srv, left)))
                await asyncio.sleep(max(0, t_dropped + 4.2 - time.time()))
                r = detail(srv, held)
                check(r["state"] == "open" and r["players"] == [] and r["expires_at"], "held: %s" % r)
                # The occupied room stays, all along.
                r = detail(srv, kept)
                check(r["state"] == "open" and len(r["players"]) == 1 and r["expires_at"] is None, str(r))
                await wa.send(json.dumps({"type": "ready", "ready": False}))
                await until(wa, is_type("lobby"))
                return kept, empty, left, held

        kept, empty, left, held = asyncio.run(run())
        deadline = time.time() + 5
        while detail(srv, held)["status"] != "aborted":
            check(time.time() < deadline, "the held seat's room never closed")
            time.sleep(0.1)
        for rid in (empty, left, held):
            r = detail(srv, rid)
            check(r["status"] == "aborted" and r["finished_at"] and all(r[k] is None for k in LIVE), str(r))
            check(r["results"] == [], str(r))
            check(rid not in [x["id"] for x in expect(srv.http.get("/api/races?status=open"), 200)["races"]])
        check(srv.db_query("SELECT status FROM races WHERE id = ?", kept) == [("open",)])
        log = wait_log(srv, "TERMINATE %s expired" % held)
        for rid in (empty, left):
            check("TERMINATE %s expired" % rid in log, log[-2000:])
        check("TERMINATE %s" % kept not in log, log[-2000:])
    finally:
        check(srv.stop() == 0)


def test_open_rooms_per_user_cap(tmp):
    """MAX_OPEN_ROOMS_PER_USER=2: a third open room is refused (429
    too_many_rooms, nothing stored) while another user is not affected; a
    room whose race has started stops counting; six requests at once get
    exactly two rooms; a bad setting is refused at start-up."""
    scripts = scripts_with(tmp, open(os.path.join(ts.ROOT, "scripts", "lobby.lua")).read())
    srv = Server(tmp, extra=("--scripts", scripts, "--set", "MAX_OPEN_ROOMS_PER_USER=2") + BASE)
    try:
        _, ta, car_a = user_with_car(srv)
        _, tb = ts.register(srv)
        _, tc = ts.register(srv)
        body = {"generator": "forest", "rules": "quick", "max_cars": 1, "ai_fill": False}

        def rows():
            return srv.db_query("SELECT COUNT(*) FROM races")[0][0]

        first = expect(srv.http.post("/api/races", headers=auth(ta), json=body), 201)["race"]["id"]
        expect(srv.http.post("/api/races", headers=auth(ta), json=body), 201)
        before = rows()
        for _ in range(2):
            r = srv.http.post("/api/races", headers=auth(ta), json=body)
            expect(r, 429, "too_many_rooms")
            msg = r.json()["error"]["message"]
            check("2 open room" in msg and "MAX_OPEN_ROOMS_PER_USER" in msg, msg)
        check(rows() == before, "a refused room was stored")
        expect(srv.http.post("/api/races", headers=auth(tb), json=body), 201)
        # A bad request is still a 400, whatever the cap.
        expect(srv.http.post("/api/races", headers=auth(ta), json={"generator": "nosuch"}), 400, "bad_field")

        async def start_first():
            async with connect(srv, ta) as wa:
                await wa.recv()
                await wa.send(json.dumps({"type": "join_race", "race_id": first, "car_id": car_a}))
                await until(wa, is_type("lobby"))
                await wa.send(json.dumps({"type": "ready"}))
                await until(wa, is_type("race_start"))
                # Its race under way, the room no longer counts.
                expect(srv.http.post("/api/races", headers=auth(ta), json=body), 201)
                expect(srv.http.post("/api/races", headers=auth(ta), json=body), 429, "too_many_rooms")

        asyncio.run(start_first())
        # Six at once from one user: exactly two rooms.
        before = rows()
        codes = []
        lock = threading.Lock()

        def one():
            with ts.httpx.Client(base_url=srv.url, timeout=30) as c:
                code = c.post("/api/races", headers=auth(tc), json=body).status_code
            with lock:
                codes.append(code)

        threads = [threading.Thread(target=one) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        check(sorted(codes) == [201, 201, 429, 429, 429, 429], str(codes))
        check(rows() == before + 2, "%d rows for 2 rooms" % (rows() - before))
    finally:
        check(srv.stop() == 0)
    # Out-of-range settings: the server says which and does not start.
    for bad in ("MAX_OPEN_ROOMS_PER_USER=0", "EMPTY_ROOM_TIMEOUT_S=0", "EMPTY_ROOM_TIMEOUT_S=1.5"):
        sub = os.path.join(tmp, bad.replace("=", "_").replace(".", "_"))
        os.makedirs(sub)
        try:
            Server(sub, extra=("--set", bad) + BASE).stop()
            raise AssertionError("started with " + bad)
        except RuntimeError:
            pass
        log = open(os.path.join(sub, "server.log")).read()
        check(bad.split("=")[0] + " must be a whole number" in log, log[-500:])


TESTS = [test_live_occupancy_in_list_and_detail, test_empty_open_rooms_expire, test_open_rooms_per_user_cap]


def main():
    return ts.run_own_tests(TESTS)


if __name__ == "__main__":
    sys.exit(main())
