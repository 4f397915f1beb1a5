#!/usr/bin/env python3
"""The background ladder end to end: a real `coderally serve` with three
bots saved through REST (a good one, a middling one, a deliberately bad
one); the ladder races them, the ratings come out in the right order, the
ladder races are listed like any other and their replays download and
verify with `coderally replay verify`, although the server runs under a
non-default STAGE_* setting that the verifying CLI does not get (the replay
records it), and GET /api/races/{id}/replay.json gives the very bytes of
`coderally replay export` for it.

usage: test_ladder.py CODERALLY_BINARY
"""
import os
import subprocess
import sys
import tempfile
import time

import test_server as ts
from test_server import Server, auth, check, expect, register

TEMPLATES = os.path.join(ts.ROOT, "botsandbox", "templates")
GOOD = open(os.path.join(TEMPLATES, "minimal.py")).read()
MIDDLING = open(os.path.join(TEMPLATES, "checkpoint_follower.py")).read()
# The minimal bot on a third of the throttle: it finishes, far behind.
BAD = GOOD.replace('"throttle": 0.0 if fast else 1.0', '"throttle": 0.0 if fast else 0.3')
RACES = 4


def main():
    ts.BIN = os.path.abspath(sys.argv[1])
    check(BAD != GOOD, "the bad bot must differ from the good one")
    with tempfile.TemporaryDirectory() as tmp:
        # Flat out, so a few races take seconds; stages shorter than by
        # default, which only the replays themselves tell `replay verify`.
        srv = Server(tmp, extra=("--set", "LADDER_CPU_SHARE=1", "--set", "STAGE_MAX_LENGTH=1500"))
        ok = False
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
            order = [ids[b["bot_id"]] for b in bots]
            print("leaderboard:", [(ids[b["bot_id"]], round(b["mu"], 2), round(b["sigma"], 2),
                                    b["races"]) for b in bots])
            check(order.index("good") < order.index("bad"), "good bot not above the bad: %s" % order)
            check(all(b["version"] == 1 and b["sigma"] < 25 / 3 for b in bots), str(bots))
            check(bots[0]["mu"] > 25 > bots[-1]["mu"], "ratings did not spread: %s" % bots)
            # Listed like any other race, results and replay with them.
            races = expect(srv.http.get("/api/races?status=finished"), 200)["races"]
            ladder = [r for r in races if r["ladder"]]
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
            rc = srv.stop()
            log = open(os.path.join(tmp, "server.log")).read()
            if rc != 0 or "AddressSanitizer" in log or "runtime error" in log:
                ok = False
                print("serve exited %d" % rc)
            if not ok:
                print(log[-4000:])
    print("ok" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
