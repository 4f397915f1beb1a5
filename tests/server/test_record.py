#!/usr/bin/env python3
"""A finished race's record is never lost, end to end against a real
`coderally serve`: a bot its owner deletes mid-race (DELETE /api/bots/{id})
costs nobody their result, points, memory or the replay; a flood of
expensive anonymous REST requests that keeps the fast lane's queue full
neither stops a race from starting nor drops its record, and race_end's
`saved` is the truth.

usage: test_record.py CODERALLY_BINARY [TEST_NAME ...]
"""
import asyncio
import json
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import time

import test_server as ts
from test_server import Server, auth, check, expect, register

import httpx  # noqa: E402  (test_server put .deps on the path)
import websockets  # noqa: E402


def quick_server(tmp):
    """A server whose scripts have the tests' 10 s rules/quick.lua."""
    scripts = os.path.join(tmp, "scripts")
    subprocess.run(["cp", "-r", os.path.join(ts.ROOT, "scripts"), scripts], check=True)
    open(os.path.join(scripts, "rules", "quick.lua"), "w").write(ts.QUICK_RULES)
    return Server(tmp, extra=("--scripts", scripts, "--set", "LADDER_CPU_SHARE=0"))


def player(srv, with_bot):
    name, tok = register(srv)
    car = expect(srv.http.get("/api/garage", headers=auth(tok)), 200)["cars"][0]["id"]
    bot = None
    if with_bot:
        bot = expect(srv.http.post("/api/bots", headers=auth(tok), json={"name": "b", "code": ts.TEMPLATE}),
                     201)["bot"]["id"]
    return {"name": name, "token": tok, "car": car, "bot": bot}


def points_of(srv, p):
    return expect(srv.http.get("/api/me", headers=auth(p["token"])), 200)["user"]["points"]


async def next_of(ws, kind, timeout=30):
    deadline = time.time() + timeout
    while True:
        left = deadline - time.time()
        if left <= 0:
            raise AssertionError("no %s" % kind)
        m = json.loads(await asyncio.wait_for(ws.recv(), left))
        if m["type"] == kind:
            return m
        if m["type"] == "error" and m["code"] in ("race_failed", "busy"):
            raise AssertionError("%s: %s" % (m["code"], m["message"]))


async def join_all(srv, rid, players):
    """Sockets for players, each joined to rid (not ready yet)."""
    url = "ws://127.0.0.1:%d/ws" % srv.port
    socks = []
    for p in players:
        # No keepalive pings: a flood in the same event loop may delay the
        # pong past its timeout.
        w = await websockets.connect(url, subprotocols=["coderally.v1"], ping_interval=None,
                                     extra_headers={"Cookie": "cr_session=" + p["token"]}, close_timeout=2)
        await w.recv()
        await w.send(json.dumps({"type": "join_race", "race_id": rid, "car_id": p["car"], "bot_id": p["bot"]}))
        await next_of(w, "lobby")
        socks.append(w)
    return socks


def test_bot_deleted_mid_race(tmp):
    """Two bots race with AI fill; once the race runs, one owner deletes
    their bot over REST. race_end says saved: true, and every result, the
    points, the other bot's memory and rating and the replay are in the API
    and the database; the deleted bot's row keeps its driver, owner and
    version with no bot id, and nothing of it is left elsewhere."""
    srv = quick_server(tmp)
    try:
        gone, kept = player(srv, True), player(srv, True)
        before = {p["name"]: points_of(srv, p) for p in (gone, kept)}
        rid = expect(srv.http.post("/api/races", headers=auth(gone["token"]), json={
            "generator": "forest", "seed": 5, "rules": "quick", "max_cars": 3, "ai_fill": True}),
            201)["race"]["id"]

        async def run():
            socks = await join_all(srv, rid, [gone, kept])
            try:
                for w in socks:
                    await w.send(json.dumps({"type": "ready"}))
                start = await next_of(socks[0], "race_start")
                check([c["kind"] for c in start["cars"]] == ["bot", "bot", "ai"], str(start["cars"]))
                # Mid-race: once it runs (bots loaded, countdown over; the
                # time limit is 10 s), through its owner's REST.
                while True:
                    state = await next_of(socks[0], "game_state")
                    if state["race_info"]["phase"] == "running":
                        break
                t_running = time.time()
                async with httpx.AsyncClient(base_url=srv.url, timeout=30) as c:
                    r = await c.delete("/api/bots/%d" % gone["bot"], headers=auth(gone["token"]))
                    check(r.status_code == 204, "delete: %d %s" % (r.status_code, r.text))
                    r = await c.get("/api/bots/%d" % gone["bot"], headers=auth(gone["token"]))
                    check(r.status_code == 404, "the bot is still there: %d" % r.status_code)
                check(time.time() - t_running < 5, "the delete took %.1f s" % (time.time() - t_running))
                return await next_of(socks[1], "race_end", timeout=60)
            finally:
                await asyncio.gather(*(w.close() for w in socks))

        end = asyncio.run(run())
        check(not end["aborted"] and end["saved"] is True, "race_end: %s" % str(end)[:500])
        check(len(end["results"]) == 3, str(end["results"]))
        race = expect(srv.http.get("/api/races/" + rid), 200)["race"]
        check(race["status"] == "finished" and race["replay"] and len(race["results"]) == 3, str(race)[:500])
        rows = {r["user"]["username"]: r for r in race["results"] if r["user"]}
        check(set(rows) == {gone["name"], kept["name"]}, str(race["results"]))
        check(rows[gone["name"]]["driver"] == "bot" and rows[gone["name"]]["bot"] is None,
              "the deleted bot's row: %s" % rows[gone["name"]])
        check(rows[kept["name"]]["bot"] == {"id": kept["bot"], "version": 1}, str(rows[kept["name"]]))
        results = expect(srv.http.get("/api/races/%s/results" % rid), 200)
        check(results["status"] == "finished" and results["results"] == race["results"], str(results)[:500])
        for p in (gone, kept):
            got = points_of(srv, p)
            check(got == before[p["name"]] + rows[p["name"]]["points"] and rows[p["name"]]["points"] > 0,
                  "points of %s: %d, was %d, won %d" % (p["name"], got, before[p["name"]], rows[p["name"]]["points"]))
        check(srv.http.get("/api/races/%s/replay" % rid).status_code == 200, "no replay")
        # The database: every row, the deleted bot's with its version and a
        # NULL id; the kept bot's memory and rating; nothing of the deleted one.
        db = srv.db_query("SELECT driver, user_id IS NOT NULL, bot_id, bot_version FROM race_results "
                          "WHERE race_id = ? ORDER BY driver, bot_id", rid)
        check(len(db) == 3 and db[0][0] == "ai", str(db))
        check(sorted(r[2] for r in db if r[0] == "bot" and r[2] is not None) == [kept["bot"]], str(db))
        check([r for r in db if r[0] == "bot" and r[2] is None and r[3] == 1 and r[1]], str(db))
        check(srv.db_query("SELECT status, replay IS NOT NULL FROM races WHERE id = ?", rid) == [("finished", 1)])
        check(srv.db_query("SELECT COUNT(*) FROM bot_state WHERE bot_id = ?", kept["bot"]) == [(1,)],
              "the kept bot's memory was not saved")
        for table in ("bots WHERE id", "bot_versions WHERE bot_id", "bot_state WHERE bot_id",
                      "bot_ratings WHERE bot_id"):
            check(srv.db_query("SELECT COUNT(*) FROM %s = ?" % table, gone["bot"]) == [(0,)],
                  "the deleted bot is still in " + table)
        board = expect(srv.http.get("/api/leaderboard/bots"), 200)["bots"]
        check([b["bot_id"] for b in board] == [kept["bot"]], str(board))
        # A new bot never gets the deleted one's id.
        fresh = player(srv, True)
        check(fresh["bot"] > gone["bot"] and fresh["bot"] > kept["bot"], "bot id %d reused" % fresh["bot"])
    finally:
        check(srv.stop() == 0)


FLOOD_CLIENTS = 400  # far more than the fast lane's queue (256) and threads hold
FLOOD_PATH = "/api/rules/standard?generator=forest&seed=%d"


def flood(port, stop, out_path):
    """In a process of its own (a flood in the test's event loop starves its
    WebSocket reader): FLOOD_CLIENTS keep-alive connections each sending one
    stage-generating GET after another, with a pause after a 503. Writes
    "busy TIME" for each 503 and "ok N" at the end to out_path."""
    busy, ok = [], [0]

    async def client(k):
        seed = 1000 + k * 1000000
        conn = None
        while not stop.is_set():
            try:
                if conn is None:
                    conn = await asyncio.open_connection("127.0.0.1", port)
                reader, writer = conn
                seed += 1
                writer.write(b"GET " + (FLOOD_PATH % seed).encode() + b" HTTP/1.1\r\nHost: t\r\n\r\n")
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
                m = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
                await reader.readexactly(int(m.group(1)) if m else 0)
                if re.search(rb"(?i)\r\nconnection: *close", head):
                    writer.close()
                    conn = None
                if status == 503:
                    busy.append(time.time())
                    await asyncio.sleep(0.2)
                elif status == 200:
                    ok[0] += 1
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                conn = None
                await asyncio.sleep(0.2)

    async def run():
        tasks = [asyncio.ensure_future(client(k)) for k in range(FLOOD_CLIENTS)]
        while not stop.is_set():
            await asyncio.sleep(0.1)
        await asyncio.wait(tasks, timeout=2)
        for t in tasks:
            t.cancel()

    asyncio.run(run())
    with open(out_path, "w") as f:
        f.write("".join("busy %f\n" % t for t in busy) + "ok %d\n" % ok[0])


def test_race_record_under_rest_flood(tmp):
    """Hundreds of concurrent anonymous GET /api/rules/standard?generator=
    forest&seed=N (a stage generated for each, on the fast lane) keep its
    queue full (some answered 503 busy around the race's end) while a race
    starts and ends: race_end says saved: true, and the database has the
    race started and finished with its results, points and replay. On the
    old code (these jobs refused by a full queue) the race stayed open
    while race_end said saved: true."""
    srv = quick_server(tmp)
    # spawn: the flood starts from inside the test's running event loop.
    mp = multiprocessing.get_context("spawn")
    stop = mp.Event()
    out_path = os.path.join(tmp, "flood.txt")
    flooder = None
    try:
        me = player(srv, False)
        before = points_of(srv, me)
        rid = expect(srv.http.post("/api/races", headers=auth(me["token"]), json={
            "generator": "forest", "seed": 9, "rules": "quick", "max_cars": 2, "ai_fill": True}),
            201)["race"]["id"]

        async def run():
            nonlocal flooder
            # Joined first: a join is resolved on the fast lane too.
            socks = await join_all(srv, rid, [me])
            flooder = mp.Process(target=flood, args=(srv.port, stop, out_path))
            flooder.start()
            try:
                # Until the queue is full: the first 503 (a request of ours
                # answered busy).
                t0 = time.time()
                while time.time() - t0 < 30:
                    try:
                        # Taken into the queue: not full yet (the answer
                        # would come after the requests ahead of it).
                        r = srv.http.get("/api/rules/standard?generator=forest&seed=1", timeout=1)
                        if r.status_code == 503:
                            break
                    except httpx.TimeoutException:
                        pass
                    await asyncio.sleep(0.2)
                else:
                    raise AssertionError("the flood never filled the fast lane's queue")
                await socks[0].send(json.dumps({"type": "ready"}))
                await next_of(socks[0], "race_start", timeout=30)
                end = await next_of(socks[0], "race_end", timeout=90)
                t_end = time.time()
                # Keep it up a moment: the record is written meanwhile.
                await asyncio.sleep(1)
                return end, t_end
            finally:
                await socks[0].close()

        end, t_end = asyncio.run(run())
        stop.set()
        flooder.join(30)
        lines = open(out_path).read().split()
        busy_at = [float(lines[i + 1]) for i in range(0, len(lines), 2) if lines[i] == "busy"]
        ok = int(lines[-1])
        near = [t for t in busy_at if abs(t - t_end) < 1.0]
        print("  flood: %d answered, %d refused busy (%d within 1 s of race_end)" % (ok, len(busy_at), len(near)))
        check(near, "the queue was not full around the race's end: the test proves nothing")
        check(not end["aborted"] and end["saved"] is True, "race_end: %s" % str(end)[:500])
        # The record, read from the database: the lane still holds a full
        # queue of stage generations (about 200 ms each under ASan), so the
        # API would answer only once they have run.
        check(srv.db_query("SELECT status, started_at IS NOT NULL, replay IS NOT NULL FROM races WHERE id = ?",
                           rid) == [("finished", 1, 1)], "the race's record is not in the database")
        rows = srv.db_query("SELECT x.driver, x.points_earned, u.username, u.points FROM race_results x "
                            "LEFT JOIN users u ON u.id = x.user_id WHERE x.race_id = ? ORDER BY x.position", rid)
        check(len(rows) == 2 and sorted(r[0] for r in rows) == ["ai", "human"], str(rows))
        mine = next(r for r in rows if r[2] == me["name"])
        told = next(r for r in end["results"] if r["user"] and r["user"]["username"] == me["name"])
        check(mine[1] == told["points"] > 0 and mine[3] == before + mine[1], "points: %s vs %s" % (rows, told))
        log = open(os.path.join(tmp, "server.log")).read()
        check("could not record" not in log and "not marked running" not in log, log[-2000:])
    finally:
        stop.set()
        if flooder and flooder.is_alive():
            flooder.terminate()
        # SIGKILL: a SIGTERM drain would first run every queued request
        # (tens of seconds of stage generation under ASan); the shutdown
        # path has tests of its own.
        srv.stop(signal.SIGKILL)


TESTS = [test_bot_deleted_mid_race, test_race_record_under_rest_flood]


def main():
    return ts.run_own_tests(TESTS)


if __name__ == "__main__":
    sys.exit(main())
