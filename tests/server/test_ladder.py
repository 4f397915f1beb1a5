#!/usr/bin/env python3
"""The background ladder end to end: a real `coderally serve` with three
bots saved through REST (a good one, a middling one, a deliberately bad
one); the ladder races them, the ratings come out in the right order, the
ladder races are listed like any other and their replays download and
verify with `coderally replay verify`, although the server runs under a
non-default STAGE_* setting that the verifying CLI does not get (the replay
records it), and GET /api/races/{id}/replay.json gives the very bytes of
`coderally replay export` for it.

All the ladder's races share one bot zygote: watched through /proc (the
server's children that run coderally-botd are its zygotes -- their own
children are the bot workers -- and the ladder's is the one at nice 19),
exactly one ladder zygote is ever seen, as the server's own count at exit
says too. No ladder replay file is left in /tmp or in the server's replay
folder.

usage: test_ladder.py CODERALLY_BINARY
"""
import glob
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

import test_server as ts
from test_server import Server, auth, check, expect, register

TEMPLATES = os.path.join(ts.ROOT, "botsandbox", "templates")
GOOD = open(os.path.join(TEMPLATES, "minimal.py")).read()
MIDDLING = open(os.path.join(TEMPLATES, "checkpoint_follower.py")).read()
# The minimal bot on a third of the throttle: it finishes, far behind.
BAD = GOOD.replace('"throttle": 0.0 if fast else 1.0', '"throttle": 0.0 if fast else 0.3')
RACES = 4


def proc_stat(pid):
    """(state, ppid, nice) of a process, or None once it is gone."""
    try:
        text = open("/proc/%d/stat" % pid).read()
    except OSError:
        return None
    f = text[text.rindex(")") + 2:].split()
    return f[0], int(f[1]), int(f[16])


def zygotes(server_pid):
    """{pid: (nice, live workers)} of the server's coderally-botd children."""
    procs = {}
    for p in os.listdir("/proc"):
        if p.isdigit():
            st = proc_stat(int(p))
            if st:
                procs[int(p)] = st
    out = {}
    for pid, (state, ppid, nice) in procs.items():
        if ppid != server_pid or state == "Z":
            continue
        try:
            argv = open("/proc/%d/cmdline" % pid, "rb").read().split(b"\0")
        except OSError:
            continue
        if not argv[0].endswith(b"coderally-botd"):
            continue
        workers = sum(1 for s, pp, _ in procs.values() if pp == pid and s != "Z")
        out[pid] = (nice, workers)
    return out


class ZygoteWatch(threading.Thread):
    """Samples the server's zygotes every 50 ms until stopped."""

    def __init__(self, server_pid):
        super().__init__(daemon=True)
        self.server_pid = server_pid
        self.seen = {}  # pid -> nice
        self.max_zygotes = 0
        self.max_ladder_workers = 0
        self.done = threading.Event()

    def run(self):
        while not self.done.wait(0.05):
            z = zygotes(self.server_pid)
            self.max_zygotes = max(self.max_zygotes, len(z))
            for pid, (nice, workers) in z.items():
                self.seen[pid] = nice
                if nice == 19:
                    self.max_ladder_workers = max(self.max_ladder_workers, workers)


def main():
    ts.BIN = os.path.abspath(sys.argv[1])
    check(BAD != GOOD, "the bad bot must differ from the good one")
    with tempfile.TemporaryDirectory() as tmp:
        # Flat out, so a few races take seconds; stages shorter than by
        # default, which only the replays themselves tell `replay verify`.
        srv = Server(tmp, extra=("--set", "LADDER_CPU_SHARE=1", "--set", "STAGE_MAX_LENGTH=1500"))
        ok = False
        watch = ZygoteWatch(srv.proc.pid)
        watch.start()
        rids = []
        try:
            _, token = register(srv)
            ids = {}
            for name, code in (("good", GOOD), ("middling", MIDDLING), ("bad", BAD)):
                j = expect(srv.http.post("/api/bots", headers=auth(token),
                                         json={"name": name, "code": code}), 201)
                ids[j["bot"]["id"]] = name
            deadline = time.time() + 240
            while time.time() < deadline:
                bots = expect(srv.http.get("/api/leaderboard/bots"), 200)["bots"]
                if len(bots) == 3 and min(b["races"] for b in bots) >= RACES:
                    break
                time.sleep(1)
            else:
                raise AssertionError("the ladder did not race %d times in time: %s" % (RACES, bots))
            watch.done.set()
            watch.join()
            ladder_zygotes = [p for p, nice in watch.seen.items() if nice == 19]
            print("zygotes seen (pid: nice):", watch.seen, "at most %d at once;" % watch.max_zygotes,
                  "ladder workers at most", watch.max_ladder_workers)
            # The races' zygote, the bot checker's and the ladder's: one each.
            check(len(ladder_zygotes) == 1, "ladder zygotes: %s" % watch.seen)
            check(len(watch.seen) <= 3 and watch.max_zygotes <= 3, "zygotes: %s" % watch.seen)
            check(1 <= watch.max_ladder_workers <= 3, "ladder workers: %d" % watch.max_ladder_workers)
            order = [ids[b["bot_id"]] for b in bots]
            print("leaderboard:", [(ids[b["bot_id"]], round(b["mu"], 2), round(b["sigma"], 2),
                                    b["races"]) for b in bots])
            if order.index("good") > order.index("bad"):
                # What each race said, to tell a bot's bad luck (a worker
                # killed on a loaded machine, a stage) from a rating bug.
                for r in expect(srv.http.get("/api/races?status=finished"), 200)["races"]:
                    if r["ladder"]:
                        res = expect(srv.http.get("/api/races/%s/results" % r["id"]), 200)["results"]
                        print(r["id"], r["generator"], [(ids.get(x["bot"]["id"]), x["position"], x["dnf"],
                                                         x["time"]) for x in res])
            check(order.index("good") < order.index("bad"), "good bot not above the bad: %s" % order)
            check(all(b["version"] == 1 and b["sigma"] < 25 / 3 for b in bots), str(bots))
            check(bots[0]["mu"] > 25 > bots[-1]["mu"], "ratings did not spread: %s" % bots)
            # Listed like any other race, results and replay with them.
            races = expect(srv.http.get("/api/races?status=finished"), 200)["races"]
            ladder = [r for r in races if r["ladder"]]
            rids = [r["id"] for r in ladder]
            check(len(ladder) >= RACES and all(r["replay"] and r["results"] == 3 for r in ladder),
                  str(races[:3]))
            rid = ladder[0]["id"]
            res = expect(srv.http.get("/api/races/%s/results" % rid), 200)["results"]
            check(sorted(r["bot"]["id"] for r in res) == sorted(ids), str(res))
            check(all(r["driver"] == "bot" and r["points"] == 0 for r in res), str(res))
            rep = srv.http.get("/api/races/%s/replay" % rid)
            check(rep.status_code == 200 and len(rep.content) > 100, "replay download")
            path = os.path.join(tmp, "ladder.replay")
            open(path, "wb").write(rep.content)
            v = subprocess.run([ts.BIN, "replay", "verify", path], capture_output=True, text=True)
            check(v.returncode == 0, "replay verify: %s %s" % (v.stdout, v.stderr))
            check("STAGE_MAX_LENGTH=1500" in v.stderr, "the recorded setting was not used: %s" % v.stderr)
            exp = subprocess.run([ts.BIN, "replay", "export", path], capture_output=True)
            check(exp.returncode == 0, exp.stderr)
            js = srv.http.get("/api/races/%s/replay.json" % rid)
            check(js.status_code == 200 and js.content == exp.stdout,
                  "replay.json (%d, %d bytes) differs from replay export (%d bytes)" % (
                      js.status_code, len(js.content), len(exp.stdout)))
            ok = True
        finally:
            watch.done.set()
            rc = srv.stop()
            log = open(os.path.join(tmp, "server.log")).read()
            if rc != 0 or "AddressSanitizer" in log or "runtime error" in log:
                ok = False
                print("serve exited %d" % rc)
            # The ladder's own count: one zygote for all its races.
            m = re.search(r"\[ladder\] (\d+) race\(s\) recorded, \d+ aborted; (\d+) zygote start\(s\)", log)
            if ok and not (m and int(m.group(1)) >= RACES and m.group(2) == "1"):
                ok = False
                print("the ladder's exit line is missing or says more than one zygote: %s" % (m and m.group(0)))
            # No ladder replay file anywhere: not in /tmp, and the server's
            # folder went with it.
            left = [f for rid in rids for f in glob.glob("/tmp/*%s*" % rid)]
            if ok and (left or os.path.lexists(srv.db + ".races")):
                ok = False
                print("replay files left: %s; folder there: %s" % (left, os.path.lexists(srv.db + ".races")))
            if not ok:
                print(log[-4000:])
    print("ok" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
