#!/usr/bin/env python3
"""Live races' replay files, end to end on a real `coderally serve`: they
are written only in the server's private folder `<db>.races/` (0700), never
in /tmp; none is left once a race has ended, and the folder goes at a clean
exit; after a kill -9 mid-race the next server removes the stale file (and
nothing else in the folder); a symlink, a file or a folder open to others at
the folder's name, or a second server on the same database, is refused
before anything changes.

usage: test_replayfiles.py CODERALLY_BINARY [TEST_NAME ...]
"""
import asyncio
import glob
import json
import os
import stat
import subprocess
import sys
import time

import test_server as ts
from test_server import QUICK_RULES, ROOT, Server, auth, check, expect, register, run_own_tests

import websockets  # noqa: E402  (on sys.path through test_server)


def quick_scripts(tmp):
    scripts = os.path.join(tmp, "scripts")
    subprocess.run(["cp", "-r", os.path.join(ROOT, "scripts"), scripts], check=True)
    open(os.path.join(scripts, "rules", "quick.lua"), "w").write(QUICK_RULES)
    return scripts


def in_tmp(rid):
    """Files directly under /tmp (and $TMPDIR) that name the race (only
    this race's: other servers may run on this machine)."""
    out = []
    for d in {"/tmp", os.environ.get("TMPDIR", "/tmp")}:
        out += glob.glob(os.path.join(d, "*%s*" % rid))
    return out


def start_race(srv, token, on_running):
    """Opens a quick room with one keyboard car, readies it, and calls
    on_running(rid) once 30 game_states have come; then, unless it returns
    False, waits for race_end and returns it."""
    car = expect(srv.http.get("/api/garage", headers=auth(token)), 200)["cars"][0]["id"]
    rid = expect(srv.http.post("/api/races", headers=auth(token), json={
        "generator": "forest", "rules": "quick", "max_cars": 2, "ai_fill": True}), 201)["race"]["id"]

    async def run():
        async with websockets.connect("ws://127.0.0.1:%d/ws" % srv.port, subprotocols=["coderally.v1"],
                                      extra_headers={"Cookie": "cr_session=" + token}) as ws:
            await ws.recv()
            await ws.send(json.dumps({"type": "join_race", "race_id": rid, "car_id": car}))
            while json.loads(await ws.recv())["type"] != "lobby":
                pass
            await ws.send(json.dumps({"type": "ready"}))
            states = 0
            while states < 30:
                m = json.loads(await asyncio.wait_for(ws.recv(), 30))
                check(m["type"] != "error", str(m))
                states += m["type"] == "game_state"
            if on_running(rid) is False:
                return None
            deadline = time.time() + 60
            while time.time() < deadline:
                m = json.loads(await asyncio.wait_for(ws.recv(), 60))
                if m["type"] == "race_end":
                    return m
            raise AssertionError("no race_end")

    return rid, asyncio.run(run())


def test_replays_only_in_the_private_folder_and_gone_after_the_race(tmp):
    srv = Server(tmp, extra=("--scripts", quick_scripts(tmp)))
    folder = srv.db + ".races"
    try:
        st = os.lstat(folder)
        check(stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o700,
              "%s: mode %o" % (folder, st.st_mode))
        check(os.listdir(folder) == [], str(os.listdir(folder)))
        _, token = register(srv)
        seen = {}

        def running(rid):
            # The replay is being written, there and nowhere else.
            seen["during"] = sorted(os.listdir(folder))
            seen["tmp"] = in_tmp(rid)

        rid, end = start_race(srv, token, running)
        check(seen["during"] == ["race-%s.replay.tmp" % rid], "during the race: %s" % seen["during"])
        check(seen["tmp"] == [], "replay files in /tmp: %s" % seen["tmp"])
        check(not end["aborted"] and end["saved"], str(end))
        # race_end goes out after the worker stored the replay and removed the file.
        check(os.listdir(folder) == [], "left after the race: %s" % os.listdir(folder))
        check(in_tmp(rid) == [], "left in /tmp: %s" % in_tmp(rid))
        race = expect(srv.http.get("/api/races/" + rid), 200)["race"]
        check(race["status"] == "finished" and race["replay"], str(race))
        rp = srv.http.get("/api/races/%s/replay" % rid)
        check(rp.status_code == 200 and rp.content.startswith(b"CRREPLAY"), "replay download")
    finally:
        check(srv.stop() == 0)
    check(not os.path.lexists(folder), "the folder outlived a clean exit")


def test_kill9_mid_race_then_the_stale_replay_is_removed(tmp):
    scripts = quick_scripts(tmp)
    srv = Server(tmp, extra=("--scripts", scripts))
    folder = srv.db + ".races"
    _, token = register(srv)
    seen = {}

    def kill(rid):
        seen["rid"] = rid
        srv.proc.kill()
        srv.proc.wait()
        return False

    start_race(srv, token, kill)
    srv.http.close()
    srv.proc.stdout.close()
    srv.log.close()
    stale = "race-%s.replay.tmp" % seen["rid"]
    check(os.listdir(folder) == [stale], "after kill -9: %s" % os.listdir(folder))
    # Something of the operator's in the folder: never the server's to remove.
    open(os.path.join(folder, "notes.txt"), "w").write("mine")
    srv2 = Server(tmp, extra=("--scripts", scripts))
    try:
        check(os.listdir(folder) == ["notes.txt"], "after the restart: %s" % os.listdir(folder))
        check(open(os.path.join(folder, "notes.txt")).read() == "mine")
        r = expect(srv2.http.get("/api/races/" + seen["rid"]), 200)["race"]
        check(r["status"] == "aborted" and not r["replay"], str(r))
    finally:
        check(srv2.stop() == 0)
    log = open(os.path.join(tmp, "server.log")).read()
    check("removed 1 replay file(s) a killed server left in " + folder in log, log[-2000:])
    check("holds 1 entry not the server's" in log, log[-2000:])
    # A folder holding a file not the server's is kept, with the file.
    check(os.listdir(folder) == ["notes.txt"], str(os.listdir(folder)))


def refused(tmp, db, want):
    """`coderally serve` on db must exit 1 at once, saying want."""
    p = subprocess.run([ts.BIN, "serve", "--port", "0", "--db", db, "--set", "LADDER_CPU_SHARE=0"],
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 1 and want in p.stderr, "rc %d: %s %s" % (p.returncode, p.stdout, p.stderr))
    check("localhost:" not in p.stdout, p.stdout)


def test_a_planted_folder_name_or_a_second_server_is_refused(tmp):
    db = os.path.join(tmp, "x.db")
    folder = db + ".races"
    victim = os.path.join(tmp, "victim")
    os.mkdir(victim, 0o700)
    open(os.path.join(victim, "race-abc.replay"), "w").write("precious")
    # A symlink to someone else's folder: not followed, nothing swept there.
    os.symlink(victim, folder)
    refused(tmp, db, "not a directory")
    check(os.path.islink(folder) and os.listdir(victim) == ["race-abc.replay"])
    check(not os.path.exists(db), "the database was made although the server refused to start")
    os.unlink(folder)
    # A folder others may enter: refused, left as it is.
    os.mkdir(folder)
    os.chmod(folder, 0o755)
    open(os.path.join(folder, "race-abc.replay"), "w").write("left")
    refused(tmp, db, "mode 755")
    check(stat.S_IMODE(os.lstat(folder).st_mode) == 0o755 and os.listdir(folder) == ["race-abc.replay"])
    check(not os.path.exists(db))
    subprocess.run(["rm", "-rf", folder], check=True)
    # A second server on the same database, while the first runs.
    srv = Server(tmp, db=db)
    try:
        open(os.path.join(folder, "race-live.replay.tmp"), "w").write("live")
        refused(tmp, db, "another coderally serve is using this database")
        check(open(os.path.join(folder, "race-live.replay.tmp")).read() == "live")
        expect(srv.http.get("/api/health"), 200)
    finally:
        check(srv.stop() == 0)
    check(not os.path.lexists(folder))


TESTS = [test_replays_only_in_the_private_folder_and_gone_after_the_race,
         test_kill9_mid_race_then_the_stale_replay_is_removed,
         test_a_planted_folder_name_or_a_second_server_is_refused]

if __name__ == "__main__":
    sys.exit(run_own_tests(TESTS))
