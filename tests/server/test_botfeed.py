#!/usr/bin/env python3
"""A bot's private feed over the WebSocket, end to end: a real `coderally
serve`, two coders racing their bots, a spectator. The owner of a bot that
prints, draws and raises gets `bot_log` lines, the `bot_error` with its line,
tick and cause, and `bot_draw` drawings, on the socket that joined and on a
second socket of theirs that spectates; the other coder and an anonymous
spectator get none of it. A bot that prints far more than the per-second
cap (until the sandbox's log cap stops it) has lines dropped and counted,
and its owner's feed stays under the cap.

usage: test_botfeed.py CODERALLY_BINARY
"""
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time

import test_server as ts
from test_server import QUICK_RULES, Server, auth, check, expect, register

import websockets  # noqa: E402  (test_server put .deps on sys.path)

CAP = 64 * 1024  # BOTFEED_BYTES_PER_S
RAISE_LINE = 12  # the line of `1 / 0` in NOISY below (1-based)
NOISY = '''class Bot:
    def __init__(self):
        self.n = 0

    def on_tick(self, state):
        self.n += 1
        x = state["x"]
        y = state["y"]
        print("tick", self.n, "at", round(x, 1), round(y, 1))
        if self.n == 30:
            print("about to divide")
            return 1 / 0
        if 30 < self.n <= 40:
            return {"throttle": 1.0, "steer": 0.0}
        return {"throttle": 1.0, "steer": 0.0,
                "debug": [("line", x, y, x + 5.0, y, 0xff0000),
                          ("circle", x, y, 2.5, 0x00ff00),
                          ("text", x, y + 2.0, "n=" + str(self.n))]}
'''
LOUD = '''class Bot:
    def on_tick(self, state):
        for i in range(20):
            print("loud line", i, "x" * 200)
        return {"throttle": 1.0}
'''


def main():
    ts.BIN = os.path.abspath(sys.argv[1])
    check(NOISY.splitlines()[RAISE_LINE - 1].strip() == "return 1 / 0", "RAISE_LINE is off")
    ok = False
    with tempfile.TemporaryDirectory() as tmp:
        scripts = os.path.join(tmp, "scripts")
        subprocess.run(["cp", "-r", os.path.join(ts.ROOT, "scripts"), scripts], check=True)
        open(os.path.join(scripts, "rules", "quick.lua"), "w").write(QUICK_RULES)
        srv = Server(tmp, extra=("--scripts", scripts, "--set", "LADDER_CPU_SHARE=0"))
        try:
            _, ta = register(srv)
            _, tb = register(srv)
            car_a = expect(srv.http.get("/api/garage", headers=auth(ta)), 200)["cars"][0]["id"]
            car_b = expect(srv.http.get("/api/garage", headers=auth(tb)), 200)["cars"][0]["id"]
            bot_a = expect(srv.http.post("/api/bots", headers=auth(ta),
                                         json={"name": "noisy", "code": NOISY}), 201)["bot"]["id"]
            bot_b = expect(srv.http.post("/api/bots", headers=auth(tb),
                                         json={"name": "loud", "code": LOUD}), 201)["bot"]["id"]
            rid = expect(srv.http.post("/api/races", headers=auth(ta), json={
                "generator": "forest", "seed": 3, "rules": "quick", "max_cars": 3,
                "ai_fill": True}), 201)["race"]["id"]
            got = asyncio.run(race(srv, rid, ta, tb, car_a, car_b, bot_a, bot_b))
            check_feeds(got)
            ok = True
        finally:
            rc = srv.stop()
            log = open(os.path.join(tmp, "server.log")).read()
            if rc != 0 or "AddressSanitizer" in log or "runtime error" in log:
                ok = False
                print("serve exited %d" % rc)
            if not ok:
                print(log[-4000:])
    print("ok" if ok else "FAIL")
    return 0 if ok else 1


async def race(srv, rid, ta, tb, car_a, car_b, bot_a, bot_b):
    url = "ws://127.0.0.1:%d/ws" % srv.port

    def conn(t):
        return websockets.connect(url, subprotocols=["coderally.v1"], max_size=None,
                                  extra_headers={"Cookie": "cr_session=" + t} if t else None)

    got = {k: [] for k in ("a", "a_watch", "b", "anon")}
    start = {}

    async def reader(name, ws):
        # Every message with its arrival time, until race_end.
        while True:
            raw = await ws.recv()
            m = json.loads(raw)
            got[name].append((time.time(), len(raw), m))
            if m["type"] == "race_start":
                start[name] = m
            if m["type"] == "race_end":
                return
            if m["type"] == "error" and m.get("code") == "race_failed":
                raise AssertionError("race_failed: %s" % m["message"])

    async def until(ws, kind):
        while True:
            m = json.loads(await asyncio.wait_for(ws.recv(), 30))
            if m["type"] == kind:
                return m

    async with conn(ta) as wa, conn(ta) as wa2, conn(tb) as wb, conn(None) as wn:
        for w in (wa, wa2, wb, wn):
            await until(w, "hello")
        for w in (wa2, wn):  # the owner's second tab, and a stranger, watch
            await w.send(json.dumps({"type": "spectate", "race_id": rid}))
            await until(w, "lobby")
        await wa.send(json.dumps({"type": "join_race", "race_id": rid, "car_id": car_a, "bot_id": bot_a}))
        await until(wa, "lobby")
        await wb.send(json.dumps({"type": "join_race", "race_id": rid, "car_id": car_b, "bot_id": bot_b}))
        await until(wb, "lobby")
        await wa.send(json.dumps({"type": "ready"}))
        await wb.send(json.dumps({"type": "ready"}))
        await asyncio.wait_for(asyncio.gather(reader("a", wa), reader("a_watch", wa2), reader("b", wb),
                                              reader("anon", wn)), 90)
    got["start"] = start["a"]
    return got


def feed(msgs, kinds=("bot_log", "bot_error", "bot_draw")):
    return [(t, n, m) for t, n, m in msgs if m["type"] in kinds]


def check_feeds(got):
    cars = got["start"]["cars"]
    check([c["kind"] for c in cars] == ["bot", "bot", "ai"], str(cars))
    mine, theirs = 0, 1
    # The stranger gets none of it; each coder only their own car's.
    check(not feed(got["anon"]), "a spectator got bot output: %s" % feed(got["anon"])[:2])
    for who, car in (("a", mine), ("a_watch", mine), ("b", theirs)):
        f = feed(got[who])
        check(f, "%s got no bot feed" % who)
        other = [m for _, _, m in f if m["car"] != car]
        check(not other, "%s got another coder's bot output: %s" % (who, other[:1]))

    for who in ("a", "a_watch"):
        msgs = [m for _, _, m in feed(got[who])]
        lines = [ln for m in msgs if m["type"] == "bot_log" for ln in m["lines"]]
        check(any(ln.startswith("tick 1 at ") for ln in lines), "%s: no first log line: %s" % (who, lines[:3]))
        check("about to divide" in lines, "%s: no print before the error" % who)
        errors = [m for m in msgs if m["type"] == "bot_error"]
        check(errors, "%s: no bot_error" % who)
        e = errors[0]
        check(e["line"] == RAISE_LINE, "%s: error line %s, want %d: %s" % (who, e["line"], RAISE_LINE, e))
        check(e["cause"] == "ZeroDivisionError: division by zero", str(e))
        check(e["index"] == 0 and e["count"] >= 1 and "line %d" % RAISE_LINE in e["message"], str(e))
        # The 30th on_tick: bot ticks every 3rd race tick, after the countdown.
        check(isinstance(e["tick"], int) and e["tick"] >= 29 * 3, str(e))
        draws = [m for m in msgs if m["type"] == "bot_draw"]
        check(len(draws) >= 10, "%s: %d bot_draw messages" % (who, len(draws)))
        d = draws[0]["drawings"]
        check([x["kind"] for x in d] == ["line", "circle", "text"], str(d))
        check(d[0]["rgb"] == 0xFF0000 and abs(d[0]["c"] - d[0]["a"] - 5.0) < 1e-3, str(d[0]))
        check(d[1]["rgb"] == 0x00FF00 and abs(d[1]["c"] - 2.5) < 1e-6, str(d[1]))
        check(d[2]["text"].startswith("n=") and d[2]["rgb"] == 0xFFFFFF, str(d[2]))
        ticks = [m["tick"] for m in draws]
        check(ticks == sorted(ticks) and len(set(ticks)) == len(ticks), "draw ticks not increasing")
        # The error tick's reply and the ten after it have no drawings: the
        # overlay is told to clear (ten, so the 20 Hz feed is sure to see it
        # whatever the phase of the bot's ticks against the snapshots').
        check(any(m["drawings"] == [] for m in draws), "no empty bot_draw after the error")

    # The loud bot: far over the cap; lines dropped and counted, bytes capped.
    f = feed(got["b"], ("bot_log", "bot_draw"))
    logs = [m for _, _, m in f if m["type"] == "bot_log"]
    dropped = sum(m["dropped"] for m in logs)
    sent = sum(len(m["lines"]) for m in logs)
    check(dropped > 0 and sent > 0, "loud bot: %d lines sent, %d dropped" % (sent, dropped))
    span = f[-1][0] - f[0][0]
    total = sum(n for _, n, _ in f)
    check(total <= CAP * (span + 2), "loud bot: %d bytes in %.1f s over the cap" % (total, span))
    print("feeds: a %d msgs, loud bot %d lines sent, %d dropped, %d bytes in %.1f s" % (
        len(feed(got["a"])), sent, dropped, total, span))


if __name__ == "__main__":
    sys.exit(main())
