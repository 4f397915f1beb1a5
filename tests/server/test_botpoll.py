#!/usr/bin/env python3
"""The race bots' sockets in the server's event loop, end to end: a real
`coderally serve` races rooms of three saved bots -- one that drives, one
whose worker dies on every tick (revived until it is disabled), one whose
Bot() raises (its car is retired) -- plus AI fill, once with the zygote
SIGKILLed mid-race. Every race must finish, the good bot must drive, and
after each race the server's open fd count must come back to what it was
before the first (no worker or zygote socket left behind, in the loop or
out of it). A WebSocket client cannot use the bots' internal protocol name.

usage: test_botpoll.py CODERALLY_BINARY
"""
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

import test_server as ts
from test_server import Server, auth, check, expect, register

import websockets  # noqa: E402  (on sys.path through test_server)

DIES = """class Bot:
    def __init__(self):
        self.hoard = []
    def on_tick(self, state):
        while True:
            self.hoard.append([0] * 2000000)
"""
NEVER_STARTS = """class Bot:
    def __init__(self):
        raise ValueError("this bot never starts")
    def on_tick(self, state):
        return {}
"""
RACES = int(os.environ.get("BOTPOLL_RACES", "2"))


def fds_of(pid):
    d = "/proc/%d/fd" % pid
    out = {}
    for n in os.listdir(d):
        try:
            out[int(n)] = os.readlink(os.path.join(d, n))
        except OSError:
            pass
    return out


def children(pid):
    out = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            stat = open("/proc/%s/stat" % p).read()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            out.append(int(p))
    return out


def race_zygote(server_pid):
    """The zygote with workers under it: the races' (the bot checker's has
    none between saves)."""
    for z in children(server_pid):
        try:
            cmd = open("/proc/%d/cmdline" % z).read()
        except OSError:
            continue
        if "--zygote" in cmd and children(z):
            return z
    return None


def race(srv, players, kill_zygote=False):
    tok0 = players[0][0]
    rid = expect(srv.http.post("/api/races", headers=auth(tok0), json={
        "generator": "forest", "seed": 11, "rules": "quick", "max_cars": 4, "ai_fill": True}),
        201)["race"]["id"]
    url = "ws://127.0.0.1:%d/ws" % srv.port

    async def drain_until(ws, kind, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = json.loads(await asyncio.wait_for(ws.recv(), deadline - time.time()))
            if m["type"] == kind:
                return m
            if m["type"] == "error" and m["code"] == "race_failed":
                raise AssertionError("race_failed: %s" % m["message"])
        raise AssertionError("no %s" % kind)

    async def run():
        socks = []
        try:
            for tok, _, _ in players:
                socks.append(await websockets.connect(url, subprotocols=["coderally.v1"],
                                                      extra_headers={"Cookie": "cr_session=" + tok},
                                                      close_timeout=2))
                await socks[-1].recv()
            for w, (_, car, bot) in zip(socks, players):
                await w.send(json.dumps({"type": "join_race", "race_id": rid, "car_id": car, "bot_id": bot}))
                await drain_until(w, "lobby")
            for w in socks:
                await w.send(json.dumps({"type": "ready"}))
            t_ready = time.time()
            start = await drain_until(socks[0], "race_start")
            print("  race_start %.1f s after ready" % (time.time() - t_ready), flush=True)
            killed = None
            if kill_zygote:
                # Mid-race: the good bot's worker dies with its zygote and is
                # revived from the next one.
                await asyncio.sleep(2.5)
                killed = race_zygote(srv.proc.pid)
                check(killed, "no race zygote with workers found")
                os.kill(killed, signal.SIGKILL)
            last = None
            while True:
                m = json.loads(await asyncio.wait_for(socks[0].recv(), 60))
                if m["type"] == "game_state":
                    if os.environ.get("BOTPOLL_DEBUG") and (not last or last["race_info"]["phase"] != m["race_info"]["phase"]):
                        print("  %.1f %s" % (time.time() - t_ready, m["race_info"]["phase"]), flush=True)
                    last = m
                elif os.environ.get("BOTPOLL_DEBUG"):
                    print("  %.1f %s" % (time.time() - t_ready, m["type"]), flush=True)
                if m["type"] == "race_end":
                    return start, m, last, killed
        finally:
            # Unread game_states are queued on the other sockets: close them
            # together and without the slow close handshake wait.
            await asyncio.gather(*(w.close() for w in socks))

    return rid, asyncio.run(run())


def settle(pid, baseline, what, timeout=20):
    """Waits for the server's fds to come back to baseline; fails with the
    difference."""
    deadline = time.time() + timeout
    while True:
        now = fds_of(pid)
        if len(now) <= len(baseline):
            return now
        if time.time() > deadline:
            extra = sorted(set(now.values()) - set(baseline.values()))
            raise AssertionError("%s: %d fds open, %d before the first race; new: %s" % (
                what, len(now), len(baseline), extra[:20]))
        time.sleep(0.2)


def test_internal_protocol_refused(srv):
    async def run():
        try:
            ws = await websockets.connect("ws://127.0.0.1:%d/ws" % srv.port,
                                          subprotocols=["coderally-bots"])
        except (websockets.exceptions.InvalidHandshake, OSError, EOFError):
            return True
        try:
            await asyncio.wait_for(ws.recv(), 5)
        except (websockets.exceptions.ConnectionClosed, asyncio.TimeoutError):
            return ws.subprotocol != "coderally-bots"
        return ws.subprotocol != "coderally-bots"
    check(asyncio.run(run()), "a client got the bots' internal protocol")


def main():
    ts.BIN = os.path.abspath(sys.argv[1])
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        scripts = os.path.join(tmp, "scripts")
        subprocess.run(["cp", "-r", os.path.join(ts.ROOT, "scripts"), scripts], check=True)
        open(os.path.join(scripts, "rules", "quick.lua"), "w").write(ts.QUICK_RULES)
        srv = Server(tmp, extra=("--scripts", scripts, "--set", "LADDER_CPU_SHARE=0"))
        try:
            players = []
            for code in (ts.TEMPLATE, DIES, NEVER_STARTS):
                _, tok = register(srv)
                car = expect(srv.http.get("/api/garage", headers=auth(tok)), 200)["cars"][0]["id"]
                bot = expect(srv.http.post("/api/bots", headers=auth(tok), json={"name": "b", "code": code}),
                             201)["bot"]["id"]
                players.append((tok, car, bot))
            test_internal_protocol_refused(srv)
            baseline = settle(srv.proc.pid, fds_of(srv.proc.pid), "before")
            print("fds before the first race: %d" % len(baseline), flush=True)
            for i in range(RACES):
                kill = i == 1
                t0 = time.time()
                rid, (start, end, last, killed) = race(srv, players, kill_zygote=kill)
                t1 = time.time()
                kinds = [c["kind"] for c in start["cars"]]
                check(kinds == ["bot", "bot", "bot", "ai"], str(kinds))
                check(not end["aborted"] and len(end["results"]) == 4, str(end)[:500])
                race_rec = expect(srv.http.get("/api/races/" + rid), 200)["race"]
                check(race_rec["status"] == "finished", str(race_rec)[:300])
                # the good bot drove; the one that never started did not
                cars = last["cars"]
                check(cars[0]["progress"] > 20, "the good bot did not drive: %s" % cars[0])
                check(cars[2]["flags"] & 16 and cars[2]["checkpoints"] == 0,
                      "the bot that never started was not retired: %s" % cars[2])
                now = settle(srv.proc.pid, baseline, "after race %d" % (i + 1))
                print("race %d%s: finished in %.1f s; fds back to %d after %.1f s" % (
                    i + 1, " (zygote %d killed mid-race)" % killed if killed else "", t1 - t0, len(now),
                    time.time() - t1), flush=True)
            log = open(os.path.join(tmp, "server.log")).read()
            check("zygote lost" in log, "the zygote kill was not noticed")
        except Exception:
            import traceback
            traceback.print_exc()
            failed = True
        finally:
            rc = srv.stop()
            log = open(os.path.join(tmp, "server.log")).read()
            if rc != 0:
                failed = True
                print("FAIL serve exited %d on SIGTERM" % rc)
            if "ERROR: AddressSanitizer" in log or "runtime error" in log or "LeakSanitizer" in log:
                failed = True
                print("FAIL sanitizer report in server.log")
            for line in log.splitlines():
                if line.startswith("[server] bots:") or line.startswith("[server] race"):
                    print(line)
            if failed:
                print(log[-4000:])
    print("FAIL" if failed else "ok")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
