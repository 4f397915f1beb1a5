#!/usr/bin/env python3
"""End-to-end tests of `coderally serve`: a real server on a free port with a
fresh database, driven through a real HTTP client (httpx) and a real
WebSocket client (websockets), both pinned in tests/server/requirements.txt.

usage: test_server.py CODERALLY_BINARY [TEST_NAME ...]
"""
import asyncio
import http.cookiejar
import json
import math
import os
import re
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, ".deps", "server-tests"))

import httpx  # noqa: E402
import websockets  # noqa: E402
import websockets.exceptions  # noqa: E402

BIN = None
TEMPLATE = open(os.path.join(ROOT, "botsandbox", "templates", "checkpoint_follower.py")).read()
BAD_BOT = "import os\nclass Bot:\n    def on_tick(self, s):\n        return {}\n"


class Server:
    """A `coderally serve` process on a free port with its own database."""

    def __init__(self, tmp, db=None, web=None, extra=("--register-limit", "40", "--set", "LADDER_CPU_SHARE=0")):
        self.tmp = tmp
        self.db = db or os.path.join(tmp, "coderally.db")
        web = web or os.path.join(tmp, "no-web")
        self.log = open(os.path.join(tmp, "server.log"), "a")
        self.proc = subprocess.Popen(
            [BIN, "serve", "--port", "0", "--db", self.db, "--web", web, *extra],
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        if "localhost:" not in line:
            self.proc.kill()
            raise RuntimeError("server did not start: %r (see %s/server.log)" % (line, tmp))
        self.port = int(line.split("localhost:")[1].split("/")[0])
        self.url = "http://127.0.0.1:%d" % self.port
        # No cookie jar: every request says explicitly how it authenticates.
        jar = http.cookiejar.CookieJar(policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        self.http = httpx.Client(base_url=self.url, timeout=30, cookies=jar)

    def stop(self, sig=signal.SIGTERM):
        self.http.close()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        rc = self.proc.wait(timeout=30)
        self.proc.stdout.close()
        self.log.close()
        return rc

    def db_query(self, sql, *args):
        con = sqlite3.connect(self.db)
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()


# ---- helpers --------------------------------------------------------------

def check(cond, msg="check failed"):
    if not cond:
        raise AssertionError(msg)


def expect(r, status, code=None):
    body = r.text
    check(r.status_code == status, "%s %s: want %d, got %d: %s" % (
        r.request.method, r.request.url.path, status, r.status_code, body[:300]))
    if code is not None:
        err = r.json().get("error", {})
        check(err.get("code") == code, "want error code %s, got %s" % (code, body[:300]))
        check(isinstance(err.get("message"), str) and err["message"], "error without message")
    return r.json() if r.headers.get("content-type", "").startswith("application/json") and body else None


NAMES = iter("user%d" % i for i in range(1000))


def register(srv, name=None, password="correct horse"):
    name = name or next(NAMES)
    j = expect(srv.http.post("/api/auth/register", json={"username": name, "password": password}), 201)
    return name, j["token"]


def auth(token):
    return {"Authorization": "Bearer " + token}


async def lobby_of(ws):
    """The next `lobby` or `error` message on ws (others are skipped)."""
    while True:
        m = json.loads(await asyncio.wait_for(ws.recv(), 20))
        if m["type"] in ("lobby", "error"):
            return m


def raw_request(srv, text):
    """Sends bytes exactly as given (no client normalisation); returns the reply."""
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s:
        s.sendall(text.encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
            if b"\r\n\r\n" in data:
                head, _, rest = data.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                if len(rest) >= length:
                    break
        return data.decode("latin-1")


# ---- tests ------------------------------------------------------------------

def test_health_and_unknown_routes(srv):
    j = expect(srv.http.get("/api/health"), 200)
    check(j["ok"] is True and j["protocol"] == 1 and j["schema"] >= 1)
    expect(srv.http.get("/api/nope"), 404, "not_found")
    expect(srv.http.delete("/api/health"), 405, "method_not_allowed")
    expect(srv.http.get("/api/auth/login"), 405, "method_not_allowed")


def test_static_files_mime_and_no_traversal(srv):
    r = srv.http.get("/")
    check(r.status_code == 200 and "text/html" in r.headers["content-type"])
    check("index page" in r.text, r.text[:200])
    r = srv.http.get("/assets/app.js")
    check(r.status_code == 200 and r.headers["content-type"].startswith("text/javascript"))
    r = srv.http.get("/assets/app.wasm")
    check(r.status_code == 200 and r.headers["content-type"] == "application/wasm")
    r = srv.http.get("/style.css")
    check(r.status_code == 200 and r.headers["content-type"].startswith("text/css"))
    # a client-side route falls back to index.html; a missing asset is a 404
    check("index page" in srv.http.get("/garage").text)
    expect(srv.http.get("/assets/missing.js"), 404)
    for path in ["/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt",
                 "/..%2fsecret.txt", "/assets/%2e%2e/%2e%2e/secret.txt", "/link-out/secret.txt"]:
        reply = raw_request(srv, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path)
        check("TOP SECRET" not in reply, "traversal through %s: %s" % (path, reply[:200]))


def test_register_login_me_logout(srv):
    name = "Ada_" + secrets.token_hex(3)
    r = srv.http.post("/api/auth/register", json={"username": name, "password": "correct horse"})
    j = expect(r, 201)
    check(j["user"]["username"] == name and j["user"]["points"] == 1000)
    cookie = r.headers["set-cookie"]
    for part in ["cr_session=", "HttpOnly", "SameSite=Lax", "Path=/"]:
        check(part in cookie, "cookie lacks %s: %s" % (part, cookie))
    # the same name in another case is taken
    expect(srv.http.post("/api/auth/register", json={"username": name.lower(), "password": "x" * 9}),
           409, "username_taken")
    # login: right, then the same answer for a wrong password and an unknown user
    j = expect(srv.http.post("/api/auth/login", json={"username": name, "password": "correct horse"}), 200)
    token = j["token"]
    check(len(token) == 96 and j["expires_at"] > time.time())
    wrong = srv.http.post("/api/auth/login", json={"username": name, "password": "wrong horse"})
    unknown = srv.http.post("/api/auth/login", json={"username": "nobody_here", "password": "wrong horse"})
    expect(wrong, 401, "bad_credentials")
    expect(unknown, 401, "bad_credentials")
    check(wrong.text == unknown.text, "login errors differ: %s vs %s" % (wrong.text, unknown.text))
    # me by bearer and by cookie (a fresh client, only the cookie)
    j = expect(srv.http.get("/api/me", headers=auth(token)), 200)
    check(j["user"]["username"] == name)
    with httpx.Client(base_url=srv.url, cookies={"cr_session": token}) as c:
        check(expect(c.get("/api/me"), 200)["user"]["username"] == name)
    # logout ends that session only
    r = srv.http.post("/api/auth/logout", headers=auth(token))
    check(r.status_code == 204 and "Max-Age=0" in r.headers.get("set-cookie", ""))
    expect(srv.http.get("/api/me", headers=auth(token)), 401, "unauthorized")
    expect(srv.http.post("/api/auth/logout", headers=auth(token)), 401, "unauthorized")


def test_bad_registrations_change_nothing(srv):
    before = srv.db_query("SELECT COUNT(*) FROM users")[0][0]
    bad = [
        {"username": "ab", "password": "long enough"},
        {"username": "has space", "password": "long enough"},
        {"username": "_lead", "password": "long enough"},
        {"username": "émile", "password": "long enough"},
        {"username": "x" * 25, "password": "long enough"},
        {"username": 12345, "password": "long enough"},
        {"username": ["a"], "password": "long enough"},
        {"username": "okname"},
        {"username": "okname", "password": "short"},
        {"username": "okname", "password": "x" * 129},
        {"username": "okname", "password": 12345678},
        {},
    ]
    for body in bad:
        expect(srv.http.post("/api/auth/register", json=body), 400, "bad_field")
    for raw in [b"{", b"not json", b"[1,2]", b"\"str\"", b"{\"username\": \"a\", \"username\": \"b\"}",
                b"\xff\xfe{}",
                b"{\"username\": \"okname\\u0000x\", \"password\": \"long enough\"}"]:
        expect(srv.http.post("/api/auth/register", content=raw,
                             headers={"Content-Type": "application/json"}), 400, "bad_json")
    r = srv.http.post("/api/auth/register", content=b"{\"username\": \"" + b"a" * 10000 + b"\"}",
                      headers={"Content-Type": "application/json"})
    expect(r, 413, "body_too_large")
    def chunks():
        yield b'{"username": "chunky", '
        yield b'"password": "long enough"}'
    expect(srv.http.post("/api/auth/register", content=chunks(),
                         headers={"Content-Type": "application/json"}), 411, "length_required")
    after = srv.db_query("SELECT COUNT(*) FROM users")[0][0]
    check(before == after, "a rejected registration added a user")


def test_forged_malformed_and_expired_tokens(srv):
    name, token = register(srv)
    forged = token[:32] + secrets.token_hex(32)   # a real selector, a wrong secret
    for t in [forged, secrets.token_hex(48), "short", "z" * 96, token + "00", token[:95] + "g"]:
        expect(srv.http.get("/api/me", headers=auth(t)), 401, "unauthorized")
    expect(srv.http.get("/api/me"), 401, "unauthorized")
    expect(srv.http.get("/api/me", headers={"Authorization": "Basic " + token}), 401, "unauthorized")
    expect(srv.http.get("/api/me", headers=auth(token)), 200)
    con = sqlite3.connect(srv.db)
    con.execute("UPDATE sessions SET expires_at = 1 WHERE selector = ?", (token[:32],))
    con.commit()
    con.close()
    j = expect(srv.http.get("/api/me", headers=auth(token)), 401, "unauthorized")
    check("expired" in j["error"]["message"])


def test_bots_versions_checks_and_ownership(srv):
    _, token = register(srv)
    _, other = register(srv)
    h, ho = auth(token), auth(other)
    j = expect(srv.http.post("/api/bots", headers=h, json={"name": "follower", "code": TEMPLATE}), 201)
    bot = j["bot"]
    check(bot["version"] == 1 and "code" not in bot)
    bid = bot["id"]
    # a bad bot is not saved, and its problems come with lines
    before = srv.db_query("SELECT COUNT(*) FROM bots")[0][0]
    j = expect(srv.http.post("/api/bots", headers=h, json={"name": "bad", "code": BAD_BOT}), 422, "bot_rejected")
    probs = j["error"]["problems"]
    check(probs and probs[0]["line"] == 1 and "os" in probs[0]["message"], str(probs))
    check(srv.db_query("SELECT COUNT(*) FROM bots")[0][0] == before)
    # list / read
    bots = expect(srv.http.get("/api/bots", headers=h), 200)["bots"]
    check([b["id"] for b in bots] == [bid])
    j = expect(srv.http.get("/api/bots/%d" % bid, headers=h), 200)
    check(j["bot"]["code"] == TEMPLATE)
    # update: a new version; a bad update changes nothing
    v2 = TEMPLATE + "\n# v2\n"
    j = expect(srv.http.put("/api/bots/%d" % bid, headers=h, json={"code": v2}), 200)
    check(j["bot"]["version"] == 2 and j["bot"]["name"] == "follower")
    j = expect(srv.http.put("/api/bots/%d" % bid, headers=h, json={"code": BAD_BOT, "name": "zzz"}),
               422, "bot_rejected")
    j = expect(srv.http.get("/api/bots/%d" % bid, headers=h), 200)["bot"]
    check(j["version"] == 2 and j["code"] == v2 and j["name"] == "follower")
    vs = expect(srv.http.get("/api/bots/%d/versions" % bid, headers=h), 200)["versions"]
    check([v["version"] for v in vs] == [1, 2])
    j = expect(srv.http.get("/api/bots/%d/versions/1" % bid, headers=h), 200)["version"]
    check(j["code"] == TEMPLATE and j["version"] == 1)
    expect(srv.http.get("/api/bots/%d/versions/3" % bid, headers=h), 404, "not_found")
    # someone else: every route is a 404 and nothing changes
    for r in [srv.http.get("/api/bots/%d" % bid, headers=ho),
              srv.http.put("/api/bots/%d" % bid, headers=ho, json={"code": TEMPLATE}),
              srv.http.delete("/api/bots/%d" % bid, headers=ho),
              srv.http.get("/api/bots/%d/versions" % bid, headers=ho),
              srv.http.get("/api/bots/%d/versions/1" % bid, headers=ho)]:
        expect(r, 404, "not_found")
    check(expect(srv.http.get("/api/bots", headers=ho), 200)["bots"] == [])
    # no login, bad ids, bad fields, huge code
    expect(srv.http.get("/api/bots"), 401, "unauthorized")
    for path in ["/api/bots/abc", "/api/bots/-1", "/api/bots/0", "/api/bots/99999999999999999999"]:
        expect(srv.http.get(path, headers=h), 404, "not_found")
    for body in [{"name": "", "code": TEMPLATE}, {"name": "n", "code": ""}, {"name": "n"},
                 {"name": 5, "code": TEMPLATE}, {"name": "n", "code": ["x"]}, {"name": "x" * 41, "code": "x"}]:
        expect(srv.http.post("/api/bots", headers=h, json=body), 400, "bad_field")
    expect(srv.http.post("/api/bots", headers=h, json={"name": "big", "code": "#" * (300 * 1024)}),
           413, "body_too_large")
    expect(srv.http.post("/api/bots", headers=h, json={"name": "big", "code": "#" * (210 * 1024)}),
           400, "bad_field")
    check(expect(srv.http.get("/api/bots/%d" % bid, headers=h), 200)["bot"]["version"] == 2)
    # delete
    r = srv.http.delete("/api/bots/%d" % bid, headers=h)
    check(r.status_code == 204)
    expect(srv.http.get("/api/bots/%d" % bid, headers=h), 404, "not_found")
    check(srv.db_query("SELECT COUNT(*) FROM bot_versions WHERE bot_id = ?", bid)[0][0] == 0)


def test_stages_generators_geometry_and_svg(srv):
    gens = expect(srv.http.get("/api/stages/generators"), 200)["generators"]
    names = [g["name"] for g in gens]
    check({"coast", "forest", "mountain"} <= set(names), str(names))
    for g in gens:
        check(g["error"] is None and g["description"] and g["params"], str(g))
        for p in g["params"]:
            check(set(p) == {"name", "default", "min", "max", "description"}, str(p))
            check(p["min"] <= p["default"] <= p["max"], str(p))
    mountain = {p["name"]: p for p in next(g for g in gens if g["name"] == "mountain")["params"]}
    check(mountain["hairpins"]["min"] == 2 and mountain["hairpins"]["max"] == 8, str(mountain))
    j = expect(srv.http.get("/api/stages/mountain", params={"seed": 7}), 200)
    n = len(j["centre"])
    check(n > 10 and j["generator"] == "mountain" and j["seed"] == 7 and len(j["hash"]) == 16)
    check(len(j["left"]) == n and len(j["right"]) == n and len(j["width"]) == n)
    check(len(j["walls"]["left"]) == n and len(j["walls"]["right"]) == n)
    check(len(j["surfaces"]) == n - 1 and set(j["surfaces"]) <= {"asphalt", "gravel", "ice"})
    # the centre line is exact (a client compiles the same stage from it),
    # not rounded to millimetres
    check(any(abs(x * 1000 - round(x * 1000)) > 1e-6 for x, _ in j["centre"]), "centre points rounded")
    check(j["checkpoints"] and all(len(c["left"]) == 2 and len(c["right"]) == 2 for c in j["checkpoints"]))
    check([c["index"] for c in j["checkpoints"]] == list(range(len(j["checkpoints"]))))
    check(len(j["start"]["grid"]) == 8, "grid of MAX_CONCURRENT_PLAYERS cars")
    check(j["finish"]["point"] == n - 1)
    # each road edge is half the width from the centre line
    for i in range(0, n, 7):
        cx, cy = j["centre"][i]
        lx, ly = j["left"][i]
        d = ((lx - cx) ** 2 + (ly - cy) ** 2) ** 0.5
        check(abs(d - j["width"][i] / 2) < 0.01, "edge %d at %.3f from centre, width %.3f" % (i, d, j["width"][i]))
    # the same seed gives the same stage; another seed another
    check(expect(srv.http.get("/api/stages/mountain?seed=7"), 200)["hash"] == j["hash"])
    check(expect(srv.http.get("/api/stages/mountain?seed=8"), 200)["hash"] != j["hash"])
    # a declared parameter within range is used; bad ones are 400s
    j2 = expect(srv.http.get("/api/stages/mountain?seed=7&hairpins=2"), 200)
    check(j2["hash"] != j["hash"])
    for q in ["seed=abc", "seed=-1", "seed=", "seed=9007199254740992", "seed=18446744073709551615",
              "seed=99999999999999999999999", "hairpins=99", "hairpins=x", "nosuch=1"]:
        expect(srv.http.get("/api/stages/mountain?" + q), 400, "bad_field")
    expect(srv.http.get("/api/stages/nosuch"), 404, "not_found")
    r = srv.http.get("/api/stages/mountain.svg?seed=7")
    check(r.status_code == 200 and r.headers["content-type"] == "image/svg+xml")
    check("<svg" in r.text[:500])


def test_concurrent_purchases_never_overspend(srv):
    _, token = register(srv)
    h = auth(token)
    g = expect(srv.http.get("/api/garage", headers=h), 200)
    car, up = g["cars"][0]["id"], g["upgrades"]
    stats = ["top_speed", "acceleration", "grip", "braking", "handling"]
    answers = []

    def buy(stat):
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            for _ in range(3):
                r = c.post("/api/garage/cars/%d/upgrade" % car, headers=h, json={"stat": stat})
                answers.append((stat, r.status_code, r.json()))

    threads = [threading.Thread(target=buy, args=(s,)) for s in stats for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(all(code in (200, 402, 409) for _, code, _ in answers), str([a[:2] for a in answers]))
    final = expect(srv.http.get("/api/garage", headers=h), 200)
    levels = final["cars"][0]["levels"]
    spent = sum(sum(up[s]["costs"][:lv]) for s, lv in levels.items())
    check(final["points"] == 1000 - spent >= 0, "points %d, spent %d" % (final["points"], spent))
    bought = sum(1 for _, code, _ in answers if code == 200)
    check(bought == sum(levels.values()), "%d purchases acknowledged, %d levels" % (bought, sum(levels.values())))
    # no two acknowledged purchases left the same balance: each paid once
    balances = [j["points"] for _, code, j in answers if code == 200]
    check(len(balances) == len(set(balances)), "balances repeat: %s" % balances)


def test_leaderboard_players(srv):
    rows = expect(srv.http.get("/api/leaderboard/players"), 200)["players"]
    check(rows and [r["rank"] for r in rows] == list(range(1, len(rows) + 1)))
    pts = [r["points"] for r in rows]
    check(pts == sorted(pts, reverse=True))
    check(all(set(r) == {"rank", "username", "points", "races", "wins"} for r in rows))
    check(len(expect(srv.http.get("/api/leaderboard/players?limit=1"), 200)["players"]) == 1)
    for q in ["0", "101", "x", "", "-5"]:
        expect(srv.http.get("/api/leaderboard/players?limit=" + q), 400, "bad_field")


def test_garage(srv):
    _, token = register(srv)
    _, other = register(srv)
    h = auth(token)
    g = expect(srv.http.get("/api/garage", headers=h), 200)
    check(g["points"] == 1000 and len(g["cars"]) == 1)
    car = g["cars"][0]
    check(car["car_type"] == "hatch" and all(v == 0 for v in car["levels"].values()))
    up = g["upgrades"]
    check(up["grip"]["max_level"] == len(up["grip"]["costs"]) >= 1)
    check(car["next_costs"]["grip"] == up["grip"]["costs"][0])
    types = {t["car_type"]: t for t in g["car_types"]}
    check(types["hatch"]["owned"] and not types["coupe"]["owned"])
    # buy one grip level: the level and the points move together
    cost = up["grip"]["costs"][0]
    j = expect(srv.http.post("/api/garage/cars/%d/upgrade" % car["id"], headers=h, json={"stat": "grip"}), 200)
    check(j["points"] == 1000 - cost and j["car"]["levels"]["grip"] == 1)
    check(j["car"]["stats"]["grip"] > car["stats"]["grip"])
    # refused: bad stat, someone else's car, not enough points, max level
    for body in [{"stat": "wings"}, {"stat": 3}, {}]:
        expect(srv.http.post("/api/garage/cars/%d/upgrade" % car["id"], headers=h, json=body), 400, "bad_field")
    other_car = expect(srv.http.get("/api/garage", headers=auth(other)), 200)["cars"][0]["id"]
    expect(srv.http.post("/api/garage/cars/%d/upgrade" % other_car, headers=h, json={"stat": "grip"}),
           404, "not_found")
    expect(srv.http.post("/api/garage/unlock", headers=h, json={"car_type": "raider"}), 402, "not_enough_points")
    expect(srv.http.post("/api/garage/unlock", headers=h, json={"car_type": "hatch"}), 409, "already_unlocked")
    expect(srv.http.post("/api/garage/unlock", headers=h, json={"car_type": "nosuch"}), 400, "bad_field")
    g2 = expect(srv.http.get("/api/garage", headers=h), 200)
    check(g2["points"] == 1000 - cost and len(g2["cars"]) == 1 and g2["cars"][0]["levels"]["grip"] == 1)
    check(expect(srv.http.get("/api/garage", headers=auth(other)), 200)["cars"][0]["levels"]["grip"] == 0)
    # spend down to the max level of the cheapest stat, or until points run out
    stat = min(up, key=lambda s: sum(up[s]["costs"]))
    points = g2["points"]
    while True:
        lvl = expect(srv.http.get("/api/garage", headers=h), 200)["cars"][0]["levels"][stat]
        r = srv.http.post("/api/garage/cars/%d/upgrade" % car["id"], headers=h, json={"stat": stat})
        if lvl == up[stat]["max_level"]:
            expect(r, 409, "max_level")
            break
        if points < up[stat]["costs"][lvl]:
            expect(r, 402, "not_enough_points")
            break
        points = expect(r, 200)["points"]
    final = expect(srv.http.get("/api/garage", headers=h), 200)
    check(final["points"] == points)
    spent = sum(sum(up[s]["costs"][:lv]) for s, lv in final["cars"][0]["levels"].items())
    check(final["points"] == 1000 - spent, "points and levels disagree")


def test_races_read_routes(srv):
    # Rooms are not built yet, so the races are put in the database as the
    # race end will write them; the routes read them back.
    name, token = register(srv)
    uid = expect(srv.http.get("/api/me", headers=auth(token)), 200)["user"]["id"]
    con = sqlite3.connect(srv.db)
    con.execute("INSERT INTO races(id, generator, seed, params_json, rules, status, started_at, "
                "finished_at, replay) VALUES ('fin1', 'forest', 3, '{\"length\": 1500}', "
                "'standard', 'finished', 10, 20, ?)", (b"CRRP\x00\x01binary",))
    con.execute("INSERT INTO races(id, generator, seed, rules, status) VALUES "
                "('open1', 'coast', 4, 'standard', 'open')")
    con.execute("INSERT INTO race_results(race_id, user_id, driver, position, stage_time, "
                "dnf, points_earned) VALUES ('fin1', ?, 'human', 1, 61.5, 0, 25)", (uid,))
    con.execute("INSERT INTO race_results(race_id, driver, position, dnf, points_earned) "
                "VALUES ('fin1', 'ai', 2, 1, 0)")
    con.commit()
    con.close()
    races = expect(srv.http.get("/api/races"), 200)["races"]
    ids = [r["id"] for r in races]
    check("fin1" in ids and "open1" in ids, str(ids))
    only = expect(srv.http.get("/api/races?status=open"), 200)["races"]
    check([r["id"] for r in only] == ["open1"])
    expect(srv.http.get("/api/races?status=weird"), 400, "bad_field")
    r = expect(srv.http.get("/api/races/fin1"), 200)["race"]
    check(r["status"] == "finished" and r["params"] == {"length": 1500} and r["replay"] is True)
    check(r["started_at"] == 10 and r["finished_at"] == 20 and len(r["results"]) == 2)
    res = expect(srv.http.get("/api/races/fin1/results"), 200)["results"]
    check(res[0]["user"] == {"id": uid, "username": name} and res[0]["time"] == 61.5)
    check(res[1]["user"] is None and res[1]["dnf"] is True and res[1]["time"] is None)
    rp = srv.http.get("/api/races/fin1/replay")
    check(rp.status_code == 200 and rp.content == b"CRRP\x00\x01binary")
    check(rp.headers["content-type"] == "application/octet-stream")
    check("race-fin1.replay" in rp.headers["content-disposition"])
    expect(srv.http.get("/api/races/open1/replay"), 404, "not_found")
    for bad in ["nosuch", "x" * 40, "a%20b", "..", "fin1'--"]:
        expect(srv.http.get("/api/races/" + bad), 404)
    lb = {p["username"]: p for p in expect(srv.http.get("/api/leaderboard/players?limit=100"), 200)["players"]}
    check(lb[name]["races"] == 1 and lb[name]["wins"] == 1)
    # bot ratings as a race end writes them (sorted by mu - 3 sigma)
    bid = expect(srv.http.post("/api/bots", headers=auth(token), json={"name": "rated", "code": TEMPLATE}), 201)["bot"]["id"]
    con = sqlite3.connect(srv.db)
    con.execute("INSERT INTO bot_ratings(bot_id, version, mu, sigma, races) VALUES (?, 1, 30, 2, 5)", (bid,))
    con.execute("INSERT INTO bot_ratings(bot_id, version, mu, sigma, races) VALUES (?, 2, 35, 8, 1)", (bid,))
    con.commit()
    con.close()
    bots = expect(srv.http.get("/api/leaderboard/bots"), 200)["bots"]
    mine = [b for b in bots if b["bot_id"] == bid]
    check([b["version"] for b in mine] == [1, 2], str(mine))
    check(mine[0]["rating"] == 24 and mine[0]["owner"] == name and mine[0]["name"] == "rated" and mine[0]["races"] == 5)
    check([b["rank"] for b in bots] == list(range(1, len(bots) + 1)))
    for q in ["0", "101", "x"]:
        expect(srv.http.get("/api/leaderboard/bots?limit=" + q), 400, "bad_field")


def test_websocket_handshake_and_errors(srv):
    url = "ws://127.0.0.1:%d/ws" % srv.port
    name, token = register(srv)
    uid = expect(srv.http.get("/api/me", headers=auth(token)), 200)["user"]["id"]
    _, other = register(srv)
    my_car = expect(srv.http.get("/api/garage", headers=auth(token)), 200)["cars"][0]["id"]
    other_car = expect(srv.http.get("/api/garage", headers=auth(other)), 200)["cars"][0]["id"]
    my_bot = expect(srv.http.post("/api/bots", headers=auth(token),
                                  json={"name": "b", "code": TEMPLATE}), 201)["bot"]["id"]
    other_bot = expect(srv.http.post("/api/bots", headers=auth(other),
                                     json={"name": "b", "code": TEMPLATE}), 201)["bot"]["id"]

    async def run():
        async with websockets.connect(url, subprotocols=["coderally.v1"]) as ws:
            hello = json.loads(await ws.recv())
            check(hello == {"type": "hello", "protocol": 1, "user": None, "room": None}, str(hello))
            for msg, code in [({"type": "warp"}, "unknown_type"), ("not json", "bad_json"),
                              ([1], "bad_json"), ({"type": 5}, "bad_field"),
                              ({"type": "join_race", "race_id": "x", "car_id": 1, "bot_id": None},
                               "unauthorized"),
                              ({"type": "input", "actions": {"accelerate": True}}, "not_in_race"),
                              ({"type": "ready"}, "not_in_race"), ({"type": "leave"}, "not_in_race"),
                              ({"type": "spectate", "race_id": "nope"}, "not_found"),
                              ({"type": "spectate", "race_id": 5}, "bad_field")]:
                await ws.send(msg if isinstance(msg, str) else json.dumps(msg))
                e = json.loads(await ws.recv())
                check(e["type"] == "error" and e["code"] == code and e["message"], str(e))
        # a message over 4 KiB closes the socket with 1009
        async with websockets.connect(url, subprotocols=["coderally.v1"], max_size=None) as ws:
            await ws.recv()
            await ws.send(json.dumps({"type": "input", "pad": "x" * 5000}))
            try:
                while True:
                    await ws.recv()
            except websockets.exceptions.ConnectionClosed as e:
                check(e.rcvd and e.rcvd.code == 1009, "closed with %s" % e.rcvd)
        # more than 60 messages in a second closes with 1008
        async with websockets.connect(url, subprotocols=["coderally.v1"]) as ws:
            await ws.recv()
            codes = []
            try:
                # a burst well over the limit
                for _ in range(100):
                    await ws.send(json.dumps({"type": "ready"}))
                while True:
                    codes.append(json.loads(await ws.recv()).get("code"))
            except websockets.exceptions.ConnectionClosed as e:
                # the server waits for the burst to end before it closes, so
                # the error and the close frame both arrive
                check(e.rcvd and e.rcvd.code == 1008 and "rate_limited" in codes,
                      "closed with %s after %s" % (e.rcvd, codes))
            check(codes.count("not_available") < 100, "every message of the burst answered")
        # refused at the handshake: no protocol, another protocol, a foreign Origin, another path
        for kw, u in [({}, url), ({"subprotocols": ["coderally.v0"]}, url),
                      ({"subprotocols": ["coderally.v1"], "origin": "http://evil.example"}, url),
                      ({"subprotocols": ["coderally.v1"]}, url.replace("/ws", "/other"))]:
            try:
                async with websockets.connect(u, **kw) as ws:
                    await ws.recv()
                raise AssertionError("handshake accepted with %s %s" % (kw, u))
            except (websockets.exceptions.InvalidHandshake, websockets.exceptions.ConnectionClosed):
                pass
        # the right Origin is fine
        async with websockets.connect(url, subprotocols=["coderally.v1"],
                                      origin="http://127.0.0.1:%d" % srv.port) as ws:
            check(json.loads(await ws.recv())["type"] == "hello")
        # the session cookie at the upgrade names the user in the hello
        async with websockets.connect(url, subprotocols=["coderally.v1"],
                                      extra_headers={"Cookie": "cr_session=" + token}) as ws:
            hello = json.loads(await ws.recv())
            check(hello["user"] == {"id": uid, "username": name}, str(hello))
        # a forged cookie is no user; an auth message with a token is
        async with websockets.connect(url, subprotocols=["coderally.v1"],
                                      extra_headers={"Cookie": "cr_session=" + "ab" * 48}) as ws:
            check(json.loads(await ws.recv())["user"] is None)
            await ws.send(json.dumps({"type": "auth", "token": "ab" * 48}))
            e = json.loads(await ws.recv())
            check(e["type"] == "error" and e["code"] == "unauthorized", str(e))
            await ws.send(json.dumps({"type": "auth", "token": 5}))
            check(json.loads(await ws.recv())["code"] == "bad_field")
            await ws.send(json.dumps({"type": "auth", "token": token}))
            a = json.loads(await ws.recv())
            check(a == {"type": "auth", "user": {"id": uid, "username": name}, "room": None}, str(a))
            # joins: only your own car and bot; ids are checked before the race
            for msg, code, text in [
                ({"car_id": my_car}, "not_found", "no such race"),
                ({"car_id": my_car, "bot_id": my_bot}, "not_found", "no such race"),
                ({"car_id": other_car}, "not_found", "not one of yours"),
                ({"car_id": my_car, "bot_id": other_bot}, "not_found", "not one of yours"),
                ({"car_id": "1"}, "bad_field", "car_id"),
                ({"car_id": -3}, "bad_field", "car_id"),
                ({"car_id": my_car, "bot_id": 1.5}, "bad_field", "bot_id"),
                ({"car_id": my_car, "race_id": "../x"}, "bad_field", "race_id"),
                ({"car_id": my_car, "race_id": "x" * 33}, "bad_field", "race_id")]:
                body = {"type": "join_race", "race_id": "r1", "bot_id": None}
                body.update(msg)
                await ws.send(json.dumps(body))
                e = json.loads(await ws.recv())
                check(e["type"] == "error" and e["code"] == code and text in e["message"],
                      "%s -> %s" % (msg, e))
            # inputs: the six actions as booleans, nothing else (never positions)
            for msg in [{"actions": {"accelerate": 1}}, {"actions": {"fly": True}},
                        {"actions": [True]}, {"actions": {"accelerate": True}, "x": 10.0},
                        {"actions": {}, "position": [1, 2]}, {"actions": {}, "tick": -1}]:
                body = {"type": "input"}
                body.update(msg)
                await ws.send(json.dumps(body))
                e = json.loads(await ws.recv())
                check(e["type"] == "error" and e["code"] == "bad_field", "%s -> %s" % (msg, e))

    asyncio.run(run())


def test_rooms_create_and_lobby(srv):
    name_a, ta = register(srv)
    name_b, tb = register(srv)
    ha, hb = auth(ta), auth(tb)
    car_a = expect(srv.http.get("/api/garage", headers=ha), 200)["cars"][0]["id"]
    car_b = expect(srv.http.get("/api/garage", headers=hb), 200)["cars"][0]["id"]
    bot_b = expect(srv.http.post("/api/bots", headers=hb, json={"name": "b", "code": TEMPLATE}), 201)["bot"]["id"]
    open_before = len(expect(srv.http.get("/api/races?status=open"), 200)["races"])
    for body in [{"generator": "nosuch"}, {"generator": "forest", "seed": -1},
                 {"generator": "forest", "seed": 2**53}, {"generator": "forest", "seed": 2**63 - 1},
                 {"generator": "forest", "seed": "7"}, {"generator": "forest", "max_cars": 0},
                 {"generator": "forest", "max_cars": 9}, {"generator": "forest", "ai_fill": "yes"},
                 {"generator": "forest", "params": {"length": 99999}},
                 {"generator": "forest", "params": {"nosuch": 1}},
                 {"generator": "forest", "params": {"length": "long"}},
                 {"generator": "forest", "rules": "../../etc/passwd"},
                 {"generator": "forest", "rules": "nosuch"}, {}]:
        expect(srv.http.post("/api/races", headers=ha, json=body), 400, "bad_field")
    expect(srv.http.post("/api/races", json={"generator": "forest"}), 401, "unauthorized")
    check(len(expect(srv.http.get("/api/races?status=open"), 200)["races"]) == open_before,
          "a refused room was stored")
    race = expect(srv.http.post("/api/races", headers=ha, json={"generator": "forest", "seed": 3,
                                                               "max_cars": 2, "ai_fill": True}), 201)["race"]
    rid = race["id"]
    check(race["status"] == "open" and race["seed"] == 3 and race["max_cars"] == 2)
    check(rid in [r["id"] for r in expect(srv.http.get("/api/races?status=open"), 200)["races"]])
    small = expect(srv.http.post("/api/races", headers=ha, json={"generator": "coast", "max_cars": 1}), 201)["race"]
    check(isinstance(small["seed"], int))
    url = "ws://127.0.0.1:%d/ws" % srv.port

    async def lobby(ws):
        while True:
            m = json.loads(await ws.recv())
            if m["type"] == "lobby":
                return m
            raise AssertionError("expected lobby, got %s" % m)

    async def run():
        conn = lambda t: websockets.connect(url, subprotocols=["coderally.v1"],
                                            extra_headers={"Cookie": "cr_session=" + t})
        async with conn(ta) as wa, conn(tb) as wb, websockets.connect(url, subprotocols=["coderally.v1"]) as ws_spec:
            for w in (wa, wb, ws_spec):
                check(json.loads(await w.recv())["type"] == "hello")
            await ws_spec.send(json.dumps({"type": "spectate", "race_id": rid}))
            lb = await lobby(ws_spec)
            check(lb["race_id"] == rid and lb["state"] == "open" and lb["players"] == [] and lb["spectators"] == 1)
            await wa.send(json.dumps({"type": "join_race", "race_id": rid, "car_id": car_a, "bot_id": None}))
            la = await lobby(wa)
            check(await lobby(ws_spec) == la)
            check([p["user"]["username"] for p in la["players"]] == [name_a] and la["players"][0]["kind"] == "human")
            # b may not use a's car; b joins with own car and bot
            await wb.send(json.dumps({"type": "join_race", "race_id": rid, "car_id": car_a, "bot_id": None}))
            e = json.loads(await wb.recv())
            check(e["code"] == "not_found", str(e))
            await wb.send(json.dumps({"type": "join_race", "race_id": rid, "car_id": car_b, "bot_id": bot_b}))
            lb = await lobby(wb)
            check(await lobby(wa) == lb and await lobby(ws_spec) == lb)
            check([p["kind"] for p in lb["players"]] == ["human", "bot"] and lb["players"][1]["bot_id"] == bot_b)
            # ready flags are shared; a leave frees the slot
            await wa.send(json.dumps({"type": "ready"}))
            lb = await lobby(wb)
            check(lb["players"][0]["ready"] is True and lb["players"][1]["ready"] is False)
            await lobby(wa)
            await lobby(ws_spec)
            await wa.send(json.dumps({"type": "ready", "ready": "yes"}))
            check(json.loads(await wa.recv())["code"] == "bad_field")
            await wa.send(json.dumps({"type": "input", "actions": {"accelerate": True}}))
            check(json.loads(await wa.recv())["code"] == "not_running")
            await wa.send(json.dumps({"type": "leave"}))
            lb = await lobby(wb)
            check([p["user"]["username"] for p in lb["players"]] == [name_b])
            await lobby(ws_spec)
            await wa.send(json.dumps({"type": "leave"}))
            check(json.loads(await wa.recv())["code"] == "not_in_race")
            # a full room
            await wa.send(json.dumps({"type": "join_race", "race_id": small["id"], "car_id": car_a}))
            check((await lobby(wa))["players"][0]["user"]["username"] == name_a)
            await wb.send(json.dumps({"type": "join_race", "race_id": small["id"], "car_id": car_b}))
            m = json.loads(await wb.recv())
            check(m["type"] == "error" and m["code"] == "room_full", str(m))
            # refused, b is still in its first room
            await wb.send(json.dumps({"type": "ready"}))
            lb = await lobby(wb)
            check(lb["race_id"] == rid and lb["players"][0]["ready"] is True)
            check(await lobby(ws_spec) == lb)
            # closing a socket holds its seat in an open room for the grace
            # (lobby.lua's grace_s; tests/server/test_lobby.py sees it freed)
        async with websockets.connect(url, subprotocols=["coderally.v1"]) as ws_spec:
            await ws_spec.recv()
            await ws_spec.send(json.dumps({"type": "spectate", "race_id": small["id"]}))
            ps = (await lobby(ws_spec))["players"]
            check([(p["user"]["username"], p["connected"], p["ready"]) for p in ps] == [(name_a, False, False)], str(ps))

    asyncio.run(run())


def test_login_rate_limit_per_account(srv):
    name, _ = register(srv)
    for _ in range(10):
        expect(srv.http.post("/api/auth/login", json={"username": name, "password": "wrong horse"}),
               401, "bad_credentials")
    r = srv.http.post("/api/auth/login", json={"username": name, "password": "correct horse"})
    expect(r, 429, "rate_limited")
    check(int(r.headers["retry-after"]) > 0)
    # other accounts are not locked by it
    other, _ = register(srv)
    expect(srv.http.post("/api/auth/login", json={"username": other, "password": "correct horse"}), 200)


def test_registration_rate_limit_per_address(srv):
    # must run last against this server: it uses up the address's allowance
    # (40 per 10 minutes here; every attempt counts, even a rejected one)
    seen = None
    for i in range(41):
        r = srv.http.post("/api/auth/register", json={"username": "x", "password": "x" * 10})
        if r.status_code == 429:
            seen = r
            break
        expect(r, 400, "bad_field")
    check(seen is not None, "no 429 after 41 registrations")
    expect(seen, 429, "rate_limited")
    check(int(seen.headers["retry-after"]) > 0)
    r = srv.http.post("/api/auth/register", json={"username": "validname", "password": "x" * 10})
    expect(r, 429, "rate_limited")
    check(srv.db_query("SELECT COUNT(*) FROM users WHERE username = 'validname'")[0][0] == 0)


# ---- crash and shutdown tests (their own servers) ---------------------------

def test_no_web_build_page_and_sigterm(tmp):
    srv = Server(tmp)
    try:
        r = srv.http.get("/")
        check(r.status_code == 200 and "text/html" in r.headers["content-type"])
        check("npm run build" in r.text, r.text[:300])
        _, token = register(srv)
        rid = expect(srv.http.post("/api/races", headers=auth(token), json={"generator": "forest"}), 201)["race"]["id"]
    finally:
        check(srv.stop() == 0, "serve did not exit 0 on SIGTERM")
    # the open room ended with the server and says so; the database is whole
    check(srv.db_query("SELECT status FROM races WHERE id = ?", rid) == [("aborted",)])
    check(srv.db_query("PRAGMA integrity_check") == [("ok",)])
    check(srv.db_query("SELECT COUNT(*) FROM users")[0][0] == 1)


def test_kill9_during_bot_saves_and_purchases(tmp):
    db = os.path.join(tmp, "crash.db")
    srv = Server(tmp, db=db)
    _, token = register(srv)
    h = auth(token)
    bid = expect(srv.http.post("/api/bots", headers=h, json={"name": "b", "code": TEMPLATE}), 201)["bot"]["id"]
    garage = srv.http.get("/api/garage", headers=h)
    has_garage = garage.status_code == 200
    car = garage.json()["cars"][0]["id"] if has_garage else None
    acked = {"versions": [], "purchases": 0}
    stop = threading.Event()

    def saver():
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            i = 0
            while not stop.is_set():
                i += 1
                try:
                    r = c.put("/api/bots/%d" % bid, headers=h, json={"code": TEMPLATE + "\n# save %d\n" % i})
                except httpx.HTTPError:
                    return
                if r.status_code == 200:
                    acked["versions"].append((r.json()["bot"]["version"], i))

    def buyer():
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            while not stop.is_set():
                for stat in ["braking", "handling", "grip", "top_speed"]:
                    try:
                        r = c.post("/api/garage/cars/%d/upgrade" % car, headers=h, json={"stat": stat})
                    except httpx.HTTPError:
                        return
                    if r.status_code == 200:
                        acked["purchases"] += 1

    threads = [threading.Thread(target=saver), threading.Thread(target=saver)]
    if has_garage:
        threads.append(threading.Thread(target=buyer))
    for t in threads:
        t.start()
    deadline = time.time() + 20
    while len(acked["versions"]) < 3 and time.time() < deadline:
        time.sleep(0.05)
    srv.proc.kill()  # SIGKILL mid-stream
    srv.proc.wait()
    stop.set()
    for t in threads:
        t.join()
    check(len(acked["versions"]) >= 3, "too few saves before the kill")
    srv.http.close()
    srv.proc.stdout.close()
    srv.log.close()

    con = sqlite3.connect(db)
    check(con.execute("PRAGMA integrity_check").fetchone()[0] == "ok")
    con.close()
    srv2 = Server(tmp, db=db)   # starts cleanly on the crashed database
    try:
        bot = expect(srv2.http.get("/api/bots/%d" % bid, headers=h), 200)["bot"]
        vs = [v["version"] for v in expect(srv2.http.get("/api/bots/%d/versions" % bid, headers=h), 200)["versions"]]
        # every acknowledged save is there, versions have no holes, and the
        # bot's code is its latest version's
        check(vs == list(range(1, len(vs) + 1)), "versions with holes: %s" % vs)
        for v, i in acked["versions"]:
            code = expect(srv2.http.get("/api/bots/%d/versions/%d" % (bid, v), headers=h), 200)["version"]["code"]
            check(code.endswith("# save %d\n" % i), "acknowledged save %d lost" % i)
        check(bot["version"] == vs[-1])
        latest = expect(srv2.http.get("/api/bots/%d/versions/%d" % (bid, vs[-1]), headers=h), 200)["version"]["code"]
        check(bot["code"] == latest)
        if has_garage:
            g = expect(srv2.http.get("/api/garage", headers=h), 200)
            up = g["upgrades"]
            spent = sum(sum(up[s]["costs"][:lv]) for s, lv in g["cars"][0]["levels"].items())
            check(g["points"] == 1000 - spent, "a purchase is half there: points %d, spent %d" % (g["points"], spent))
            check(sum(g["cars"][0]["levels"].values()) >= acked["purchases"], "an acknowledged purchase was lost")
    finally:
        check(srv2.stop() == 0)


def finish_short_race(srv, token):
    """A race of the user's car alone under the quick rules (a scripts copy
    with QUICK_RULES): it starts, runs, and ends when the player leaves.
    Returns its id once it is recorded as finished."""
    car = expect(srv.http.get("/api/garage", headers=auth(token)), 200)["cars"][0]["id"]
    rid = expect(srv.http.post("/api/races", headers=auth(token), json={
        "generator": "forest", "seed": 4, "rules": "quick", "max_cars": 1, "ai_fill": False}), 201)["race"]["id"]

    async def run():
        async with websockets.connect("ws://127.0.0.1:%d/ws" % srv.port, subprotocols=["coderally.v1"],
                                      extra_headers={"Cookie": "cr_session=" + token}) as ws:
            await ws.recv()
            await ws.send(json.dumps({"type": "join_race", "race_id": rid, "car_id": car}))
            await ws.send(json.dumps({"type": "ready"}))
            while True:
                m = json.loads(await asyncio.wait_for(ws.recv(), 20))
                check(m["type"] != "error", str(m))
                if m["type"] == "game_state" and m["race_info"]["phase"] == "running":
                    break
            await ws.send(json.dumps({"type": "leave"}))

    asyncio.run(run())
    deadline = time.time() + 20
    while expect(srv.http.get("/api/races/" + rid), 200)["race"]["status"] != "finished":
        check(time.time() < deadline, "the short race was not recorded")
        time.sleep(0.1)
    return rid


def documented_routes():
    """Every route of the server's table (api.c) as (method, regex of its
    path), and the text of docs/API.md's sh examples."""
    table = open(os.path.join(ROOT, "cengine", "server", "api.c")).read()
    routes = []
    for method, path in re.findall(r'\{HTTP_([A-Z]+), "(/api/[^"]*)"', table):
        rx = re.escape(path).replace(re.escape("{}"), r"[^/\s\"?]+")
        routes.append((method, path, re.compile(r"\$H" + rx + r"(?=[\s\"?]|$)")))
    return routes


def test_docs_curl_examples(tmp):
    """docs/API.md has a curl example for every route of the server, and
    every example, in order, works against a server where a race has
    finished (so the race detail, results and replay ones run too): each
    answers 2xx, but for the one the docs say answers 402, and none is
    skipped."""
    text = open(os.path.join(ROOT, "docs", "API.md")).read()
    blocks = []
    for part in text.split("```sh\n")[1:]:
        blocks.append(part.split("```")[0])
    check(blocks and "make run" in blocks[0])
    # one line per command: continuation lines joined
    commands = [c for b in blocks[1:] for c in b.replace("\\\n", " ").splitlines() if "curl " in c]
    for method, path, rx in documented_routes():
        if path == "/api/replays/local":
            continue  # served only under `coderally replay view` (404 elsewhere); documented there
        ok = any(rx.search(c) and (("-X " + method) in c) == (method != "GET") for c in commands)
        check(ok, "docs/API.md has no curl example for %s %s" % (method, path))
    scripts = os.path.join(tmp, "scripts")
    subprocess.run(["cp", "-r", os.path.join(ROOT, "scripts"), scripts], check=True)
    open(os.path.join(scripts, "rules", "quick.lua"), "w").write(QUICK_RULES)
    srv = Server(tmp, extra=("--scripts", scripts, "--set", "LADDER_CPU_SHARE=0"))
    try:
        _, token = register(srv)
        rid = finish_short_race(srv, token)
        os.symlink(os.path.join(ROOT, "botsandbox"), os.path.join(tmp, "botsandbox"))
        script = ["set -e", "H=http://localhost:%d" % srv.port,
                  "curl() { command curl -w '%{stderr}HTTP %{http_code} %{url_effective}\\n' \"$@\"; }"]
        script += blocks[1:]
        r = subprocess.run(["bash", "-c", "\n".join(script)], cwd=tmp, capture_output=True,
                           text=True, timeout=120)
        check(r.returncode == 0, "examples failed: %s %s" % (r.stdout[-500:], r.stderr[-500:]))
        codes = [l.split() for l in r.stderr.splitlines() if l.startswith("HTTP ")]
        # every call runs: those guarded by `[ -z "$RACE" ] ||` too
        n_curl = sum(b.count("curl ") for b in blocks[1:])
        check(len(codes) == n_curl, "%d curl calls, %d answered: %s" % (n_curl, len(codes), r.stderr[-2000:]))
        for _, code, url in codes:
            ok = code.startswith("2") or (code == "402" and url.endswith("/api/garage/unlock"))
            check(ok, "%s answered %s (%s)" % (url, code, r.stdout[-300:]))
        check(any(url.endswith("/api/races/%s/replay" % rid) for _, _, url in codes), "the race examples did not run")
        check(os.path.getsize(os.path.join(tmp, "stage.svg")) > 1000)
        check(open(os.path.join(tmp, "race.replay"), "rb").read() == srv.http.get("/api/races/%s/replay" % rid).content)
        check(os.path.getsize(os.path.join(tmp, "race.jsonl")) > 100)
    finally:
        check(srv.stop() == 0)


def test_scripts_reload_good_and_broken_edits(tmp):
    """Edits under scripts/ are picked up while serving; a broken one is
    reported with its file and line and the last good version stays."""
    scripts = os.path.join(tmp, "scripts")
    subprocess.run(["cp", "-r", os.path.join(ROOT, "scripts"), scripts], check=True)
    up = os.path.join(scripts, "upgrades.lua")
    original = open(up).read()
    check("costs = { 250, 400, 600, 900 }" in original, "upgrades.lua changed shape")
    srv = Server(tmp, extra=("--scripts", scripts))
    try:
        _, token = register(srv)
        h = auth(token)

        def grip_costs():
            return expect(srv.http.get("/api/garage", headers=h), 200)["upgrades"]["grip"]["costs"]

        def wait_for(pred, what):
            deadline = time.time() + 15
            while time.time() < deadline:
                if pred():
                    return
                time.sleep(0.2)
            raise AssertionError("timed out waiting for " + what)

        check(grip_costs() == [250, 400, 600, 900])
        time.sleep(1.1)  # a new mtime second, so the change is seen
        open(up, "w").write(original.replace("costs = { 250, 400, 600, 900 }", "costs = { 111, 400, 600, 900 }"))
        wait_for(lambda: grip_costs()[0] == 111, "the good edit")
        time.sleep(1.1)
        open(up, "w").write(original.replace("local upgrades = {", "local upgrades = {{ broken", 1))
        log = os.path.join(tmp, "server.log")
        wait_for(lambda: "upgrades.lua:" in open(log).read(), "the broken edit to be reported")
        check(grip_costs()[0] == 111, "a broken edit replaced the last good scripts")
        time.sleep(1.1)
        open(up, "w").write(original)
        wait_for(lambda: grip_costs()[0] == 250, "the fix")
        check(open(log).read().count("keeping the last good version") == 1, "the broken edit was reported more than once")
    finally:
        check(srv.stop() == 0)


QUICK_RULES = '''-- A short race for the tests: 1 s countdown, 10 s limit (the shortest allowed).
return {
    name = "quick",
    countdown_s = 1,
    time_limit_s = function(stage) return 10 end,
    stall_limit_s = 0,
    points = function(results)
        local out = {}
        for i, r in ipairs(results) do out[i] = r.finished and 10 or (r.position == 1 and 3 or 1) end
        return out
    end,
}
'''


E2E_RULES = '''-- The end-to-end race: a 1 s countdown, 20 s at most, half a second of
-- penalty at every checkpoint (so game_state's penalties can be checked)
-- and points that tell finishers from the rest.
return {
    name = "e2e",
    countdown_s = 1,
    time_limit_s = function(stage) return 20 end,
    stall_limit_s = 0,
    on_checkpoint = function(ev) return 0.5 end,
    points = function(results)
        local out = {}
        for i, r in ipairs(results) do out[i] = r.finished and (20 - r.position) or 1 end
        return out
    end,
}
'''
# A template bot that also notes the top speed its car really has in the race.
SPY_LINE = '        self.memory["top_speed"] = state["top_speed"]\n'


def login_only(srv, role):
    """Registers, then logs in and ends the registration's session: the
    caller goes on with the login's token, also as its cookie."""
    name = "%s_%s" % (role, secrets.token_hex(3))
    reg = expect(srv.http.post("/api/auth/register", json={"username": name, "password": "correct horse"}),
                 201)["token"]
    r = srv.http.post("/api/auth/login", json={"username": name, "password": "correct horse"})
    token = expect(r, 200)["token"]
    cookie = r.headers["set-cookie"].split(";")[0]
    check(token != reg and cookie == "cr_session=" + token, "login session: %s" % cookie)
    check(srv.http.post("/api/auth/logout", headers=auth(reg)).status_code == 204)
    expect(srv.http.get("/api/me", headers=auth(reg)), 401, "unauthorized")
    user = expect(srv.http.get("/api/me", headers={"Cookie": cookie}), 200)["user"]
    check(user["username"] == name and user["points"] == 1000, str(user))
    return {"name": name, "token": token, "cookie": cookie, "id": user["id"]}


def test_end_to_end_chain(tmp):
    """The issue's chain through real clients: register, log in (the login's
    session from then on), upgrade a car, save a bot from a template (a bad
    version is refused with its problems and their lines), open a room and
    race it with that bot, a second coder's bot, a keyboard car sending
    inputs and AI fill while a spectator watches (the stage geometry in
    race_start, game_state at about 20 Hz with every car's times), race_end;
    then results, points, bot memory (the upgraded top speed the bot saw),
    replay and both leaderboards, in the API and in the database."""
    scripts = os.path.join(tmp, "scripts")
    subprocess.run(["cp", "-r", os.path.join(ROOT, "scripts"), scripts], check=True)
    open(os.path.join(scripts, "rules", "e2e.lua"), "w").write(E2E_RULES)
    # coast keeps its length within the host's limits: a short stage (about
    # 300 u of asphalt), so the AI and the bots finish well within the limit.
    srv = Server(tmp, extra=("--scripts", scripts, "--set", "LADDER_CPU_SHARE=0",
                             "--set", "STAGE_MIN_LENGTH=200", "--set", "STAGE_MAX_LENGTH=320"))
    try:
        keys, coder, rival = (login_only(srv, r) for r in ("keys", "coder", "rival"))
        hk, hc, hr = auth(keys["token"]), auth(coder["token"]), auth(rival["token"])
        # The coder upgrades their car's top speed: level and points move together.
        g = expect(srv.http.get("/api/garage", headers=hc), 200)
        car_c = g["cars"][0]
        cost = g["upgrades"]["top_speed"]["costs"][0]
        j = expect(srv.http.post("/api/garage/cars/%d/upgrade" % car_c["id"], headers=hc,
                                 json={"stat": "top_speed"}), 200)
        top = j["car"]["stats"]["top_speed"]
        check(j["points"] == 1000 - cost and j["car"]["levels"]["top_speed"] == 1, str(j))
        check(top > car_c["stats"]["top_speed"], "the upgrade did not raise top_speed: %s" % j["car"])
        check(expect(srv.http.get("/api/me", headers=hc), 200)["user"]["points"] == 1000 - cost)
        check(srv.db_query("SELECT u.points, c.top_speed FROM users u JOIN cars c ON c.user_id = u.id "
                           "WHERE u.id = ?", coder["id"]) == [(1000 - cost, 1)])
        # A bot from the template; a bad version of it is refused with its line.
        code = TEMPLATE.replace("    def on_tick(self, state):\n", "    def on_tick(self, state):\n" + SPY_LINE, 1)
        check(code != TEMPLATE, "the template changed shape")
        bot_c = expect(srv.http.post("/api/bots", headers=hc, json={"name": "follower", "code": code}),
                       201)["bot"]["id"]
        bad = code.replace("        self.gates = 0\n", '        self.gates = open("gates.txt")\n')
        check(bad != code, "the template changed shape")
        bad_line = bad.splitlines().index('        self.gates = open("gates.txt")') + 1
        j = expect(srv.http.put("/api/bots/%d" % bot_c, headers=hc, json={"code": bad}), 422, "bot_rejected")
        probs = j["error"]["problems"]
        check(any(p["line"] == bad_line and "open" in p["message"] for p in probs), str(probs))
        b = expect(srv.http.get("/api/bots/%d" % bot_c, headers=hc), 200)["bot"]
        check(b["version"] == 1 and b["code"] == code and b["memory"] is None, str(b)[:300])
        minimal = open(os.path.join(ROOT, "botsandbox", "templates", "minimal.py")).read()
        bot_r = expect(srv.http.post("/api/bots", headers=hr, json={"name": "minimal", "code": minimal}),
                       201)["bot"]["id"]
        cars = {u["name"]: expect(srv.http.get("/api/garage", headers=auth(u["token"])), 200)["cars"][0]["id"]
                for u in (keys, coder, rival)}
        rid = expect(srv.http.post("/api/races", headers=hk, json={
            "generator": "coast", "seed": 5, "rules": "e2e", "max_cars": 5, "ai_fill": True}), 201)["race"]["id"]
        want_geo = expect(srv.http.get("/api/stages/coast?seed=5"), 200)
        check(want_geo["length"] < 320, "the stage is not the short one: %s" % want_geo["length"])
        url = "ws://127.0.0.1:%d/ws" % srv.port
        conn = lambda u: websockets.connect(url, subprotocols=["coderally.v1"], max_size=None,
                                            extra_headers={"Cookie": u["cookie"]} if u else None)
        seen = {"states": [], "end": None, "start": None}

        async def drain_until(ws, kind, timeout=30):
            deadline = time.time() + timeout
            while time.time() < deadline:
                m = json.loads(await asyncio.wait_for(ws.recv(), deadline - time.time()))
                if m["type"] == kind:
                    return m
                if m["type"] == "error" and m["code"] == "race_failed":
                    raise AssertionError("race_failed: %s" % m["message"])
            raise AssertionError("no %s" % kind)

        async def spectator(ws):
            while True:
                m = json.loads(await ws.recv())
                if m["type"] == "race_start":
                    seen["start"] = m
                elif m["type"] == "game_state":
                    seen["states"].append((time.time(), m))
                elif m["type"] == "race_end":
                    seen["end"] = m
                    return

        async def run():
            async with conn(keys) as wk, conn(coder) as wc, conn(rival) as wr, conn(None) as ws:
                for w, u in ((wk, keys), (wc, coder), (wr, rival), (ws, None)):
                    hello = json.loads(await w.recv())
                    check(hello["user"] == ({"id": u["id"], "username": u["name"]} if u else None), str(hello))
                await ws.send(json.dumps({"type": "spectate", "race_id": rid}))
                await drain_until(ws, "lobby")
                watcher = asyncio.ensure_future(spectator(ws))
                for w, u, bot in ((wk, keys, None), (wc, coder, bot_c), (wr, rival, bot_r)):
                    await w.send(json.dumps({"type": "join_race", "race_id": rid, "car_id": cars[u["name"]],
                                             "bot_id": bot}))
                    await drain_until(w, "lobby")
                for w in (wk, wc, wr):
                    await w.send(json.dumps({"type": "ready"}))
                start = await drain_until(wk, "race_start")
                check(start["countdown"] > 0 and len(start["cars"]) == 5, str(start)[:300])
                check([c["kind"] for c in start["cars"]] == ["human", "bot", "bot", "ai", "ai"], str(start["cars"]))
                check([c["user"]["username"] if c["user"] else None for c in start["cars"]] ==
                      [keys["name"], coder["name"], rival["name"], None, None], str(start["cars"]))
                # the coder's car is driven by its bot: their keyboard input is refused
                await wc.send(json.dumps({"type": "input", "actions": {"accelerate": True}}))
                check((await drain_until(wc, "error"))["code"] == "not_running")
                # keys drives: full throttle; a position from the client is refused
                await wk.send(json.dumps({"type": "input", "actions": {"accelerate": True, "x": 1}}))
                check((await drain_until(wk, "error"))["code"] == "bad_field")
                await wk.send(json.dumps({"type": "input", "tick": 1, "actions": {"accelerate": True}}))
                while True:
                    m = await drain_until(wk, "game_state")
                    if m["race_info"]["phase"] == "running" and m["cars"][0]["progress"] > 20:
                        break
                check(m["cars"][0]["input_tick"] == 1, str(m["cars"][0]))
                # keys leaves (the shipped lobby.lua retires the car) and
                # watches the rest: everyone gets the race_end
                await wk.send(json.dumps({"type": "leave"}))
                await wk.send(json.dumps({"type": "spectate", "race_id": rid}))
                ends = await asyncio.gather(*(drain_until(w, "race_end", timeout=60) for w in (wk, wc, wr)))
                await asyncio.wait_for(watcher, 10)
                return start, ends

        start, ends = asyncio.run(run())
        end = seen["end"]
        check(all(e == end for e in ends), "race_end differs between receivers")
        check(not end["aborted"] and end["saved"], str(end))
        res = end["results"]
        check(sorted(r["position"] for r in res) == [1, 2, 3, 4, 5], str(res))
        by_user = {r["user"]["username"]: r for r in res if r["user"]}
        check(set(by_user) == {keys["name"], coder["name"], rival["name"]}, str(res))
        k = by_user[keys["name"]]
        check(k["dnf"] and k["dnf_reason"] == "left" and k["time"] is None and k["car_id"] == cars[keys["name"]], str(k))
        check(by_user[coder["name"]]["bot_id"] == bot_c and by_user[rival["name"]]["bot_id"] == bot_r)
        for r in res:
            check(r["dnf"] == (r["time"] is None) and (r["dnf_reason"] is None) == (not r["dnf"]), str(r))
            check(r["dnf_reason"] in (None, "left", "time_limit"), str(r))
            check(r["points"] == (20 - r["position"] if not r["dnf"] else 1), str(r))
        ai = [r for r in res if r["driver"] == "ai"]
        check(len(ai) == 2 and all(not r["dnf"] for r in ai), "the AI did not finish the short stage: %s" % ai)
        # the spectator: the stage as GET /api/stages has it, game_state at about 20 Hz
        check(seen["start"]["stage"]["geometry"] == want_geo, "race_start's geometry differs from GET /api/stages")
        states = seen["states"]
        running = [t for t, m in states if m["race_info"]["phase"] == "running"]
        check(len(running) > 60, "only %d running game_state messages" % len(running))
        rate = (len(running) - 1) / (running[-1] - running[0])
        check(15 < rate < 25, "game_state at %.1f Hz" % rate)
        # every car's times: a penalty of 0.5 s a checkpoint (the rules),
        # the stage time once finished and null before
        penalised = False
        for _, m in states:
            check(len(m["cars"]) == 5, str(m["cars"]))
            for c in m["cars"]:
                check(abs(c["penalty"] - 0.5 * c["checkpoints"]) < 1e-6, "penalty: %s" % c)
                check((c["time"] is None) == (not c["flags"] & 8), "time before the finish: %s" % c)
                penalised |= c["penalty"] > 0
        check(penalised, "no car ever had a penalty")
        last = states[-1][1]
        for r in res:
            c = next(c for c in last["cars"] if c["position"] == r["position"])
            if r["dnf"]:
                check(c["time"] is None and c["flags"] & 16, "DNF car %s, result %s" % (c, r))
            else:
                check(abs(c["time"] - r["time"]) < 0.01, "game_state time %s, result %s" % (c["time"], r["time"]))
        # the record in the API: race, results, points, replay
        race = expect(srv.http.get("/api/races/" + rid), 200)["race"]
        check(race["status"] == "finished" and race["replay"] and race["max_cars"] == 5, str(race)[:300])
        api_res = expect(srv.http.get("/api/races/%s/results" % rid), 200)["results"]
        ordered = sorted(res, key=lambda r: r["position"])
        same_time = lambda a, b: (a is None and b is None) or (a is not None and b is not None and abs(a - b) < 1e-3)
        for got in (race["results"], api_res):
            check([(r["position"], r["driver"], r["dnf"], r["dnf_reason"], r["points"],
                    r["user"], r["car_id"], (r["bot"] or {}).get("id")) for r in got] ==
                  [(r["position"], r["driver"], r["dnf"], r["dnf_reason"], r["points"],
                    r["user"], r["car_id"], r["bot_id"]) for r in ordered],
                  "API results differ from race_end: %s" % got)
            check(all(same_time(a["time"], b["time"]) for a, b in zip(got, ordered)), str(got))
        pts = {}
        for u, before in ((keys, 1000), (coder, 1000 - cost), (rival, 1000)):
            pts[u["name"]] = before + by_user[u["name"]]["points"]
            check(expect(srv.http.get("/api/me", headers=auth(u["token"])), 200)["user"]["points"] == pts[u["name"]])
            check(srv.db_query("SELECT points FROM users WHERE id = ?", u["id"]) == [(pts[u["name"]],)])
        rows = srv.db_query("SELECT position, driver, user_id, bot_id, bot_version, stage_time, dnf, "
                            "points_earned, dnf_reason FROM race_results WHERE race_id = ? ORDER BY position", rid)
        check([(x[0], x[1], x[2], bool(x[6]), x[7], x[8]) for x in rows] ==
              [(r["position"], r["driver"], r["user"]["id"] if r["user"] else None, r["dnf"],
                r["points"], r["dnf_reason"]) for r in ordered], "race_results rows: %s" % rows)
        check(all(same_time(x[5], r["time"]) for x, r in zip(rows, ordered)), str(rows))
        check({(r[3], r[4]) for r in rows if r[3]} == {(bot_c, 1), (bot_r, 1)}, str(rows))
        rp = srv.http.get("/api/races/%s/replay" % rid)
        check(rp.status_code == 200 and len(rp.content) > 100)
        check(srv.db_query("SELECT length(replay) FROM races WHERE id = ?", rid) == [(len(rp.content),)])
        replay = os.path.join(tmp, "race.replay")
        open(replay, "wb").write(rp.content)
        v = subprocess.run([BIN, "replay", "verify", replay, "--scripts", scripts], capture_output=True, text=True)
        check(v.returncode == 0, "replay does not verify: %s %s" % (v.stdout, v.stderr))
        # the bot's memory, to its owner only: the race it ran, the best
        # time, and the upgraded top speed it drove with
        mem = expect(srv.http.get("/api/bots/%d" % bot_c, headers=hc), 200)["bot"]["memory"]
        check(mem["races"] == 1 and abs(mem["top_speed"] - top) < 1e-3, "memory: %s" % mem)
        mine = by_user[coder["name"]]
        if not mine["dnf"]:
            check(abs(mem["best_time"] - mine["time"]) < 0.01, "memory %s, result %s" % (mem, mine))
        db_mem = srv.db_query("SELECT state_json FROM bot_state WHERE bot_id = ?", bot_c)
        check(db_mem and json.loads(db_mem[0][0]) == mem, "bot_state %s, API %s" % (db_mem, mem))
        check(expect(srv.http.get("/api/bots/%d" % bot_r, headers=hr), 200)["bot"]["memory"] is not None)
        expect(srv.http.get("/api/bots/%d" % bot_c, headers=hr), 404, "not_found")
        check(all("memory" not in x for x in expect(srv.http.get("/api/bots", headers=hc), 200)["bots"]))
        # the leaderboards: the players by points, the two bots rated by this race
        lb = {p["username"]: p for p in expect(srv.http.get("/api/leaderboard/players?limit=100"), 200)["players"]}
        for u in (keys, coder, rival):
            p = lb[u["name"]]
            check(p["points"] == pts[u["name"]] and p["races"] == 1 and
                  p["wins"] == (by_user[u["name"]]["position"] == 1), str(p))
        bots = {(b["bot_id"], b["version"]): b for b in expect(srv.http.get("/api/leaderboard/bots"), 200)["bots"]}
        check(set(bots) == {(bot_c, 1), (bot_r, 1)}, str(bots))
        check(bots[(bot_c, 1)]["owner"] == coder["name"] and all(b["races"] == 1 for b in bots.values()), str(bots))
        rc_, rr_ = by_user[coder["name"]], by_user[rival["name"]]
        if not (rc_["dnf"] and rr_["dnf"]):  # DNFs tie
            better = bot_c if rc_["position"] < rr_["position"] else bot_r
            check(max(bots.values(), key=lambda b: b["mu"])["bot_id"] == better, "ratings against the order: %s" % bots)
        ratings = srv.db_query("SELECT bot_id, version, races FROM bot_ratings ORDER BY bot_id")
        check(ratings == sorted([(bot_c, 1, 1), (bot_r, 1, 1)]), str(ratings))
    finally:
        check(srv.stop() == 0)


LIVE_V1 = '''-- The reload test's rules, version 1.
return {
    name = "live",
    countdown_s = 1,
    time_limit_s = 30,
    stall_limit_s = 0,
    points = function(results)
        local out = {}
        for i = 1, #results do out[i] = 7 end
        return out
    end,
}
'''
LIVE_BROKEN = LIVE_V1.replace("    countdown_s = 1,", "    countdown_s = = 1,")
LIVE_V2 = LIVE_V1.replace("version 1", "version 2").replace("countdown_s = 1,", "countdown_s = 2,").replace(
    "out[i] = 7", "out[i] = 9")


def test_rules_reload_during_a_live_race(tmp):
    """A broken edit of rules/ during a live race changes nothing: the log
    names its file:line, GET /api/rules still has the last good numbers,
    the race goes on and ends scored by the rules it started with. The next
    good edit is picked up: GET /api/rules has its numbers and a new race
    runs under it."""
    check(LIVE_BROKEN.splitlines()[3] == "    countdown_s = = 1," and "= 9 end" in LIVE_V2, "LIVE_V1 changed shape")
    scripts = os.path.join(tmp, "scripts")
    subprocess.run(["cp", "-r", os.path.join(ROOT, "scripts"), scripts], check=True)
    path = os.path.join(scripts, "rules", "live.lua")
    open(path, "w").write(LIVE_V1)
    srv = Server(tmp, extra=("--scripts", scripts, "--set", "LADDER_CPU_SHARE=0"))
    log = os.path.join(tmp, "server.log")
    try:
        _, token = register(srv)
        car = expect(srv.http.get("/api/garage", headers=auth(token)), 200)["cars"][0]["id"]
        v1 = expect(srv.http.get("/api/rules/live"), 200)["rules"]
        check(v1["countdown_s"] == 1 and v1["points"][0] == 7, str(v1))
        url = "ws://127.0.0.1:%d/ws" % srv.port

        def room():
            return expect(srv.http.post("/api/races", headers=auth(token), json={
                "generator": "forest", "seed": 2, "rules": "live", "max_cars": 1, "ai_fill": False}),
                201)["race"]["id"]

        async def until(ws, pred, timeout=20):
            deadline = time.time() + timeout
            while time.time() < deadline:
                m = json.loads(await asyncio.wait_for(ws.recv(), deadline - time.time()))
                check(m["type"] != "error", str(m))
                if pred(m):
                    return m
            raise AssertionError("timed out")

        async def wait_for(pred, what, timeout=15):
            deadline = time.time() + timeout
            while not pred():
                check(time.time() < deadline, "timed out waiting for " + what)
                await asyncio.sleep(0.1)

        async def race(wp, ws, rid, during=None):
            """Races rid (the player's car alone) while ws watches; during()
            runs once it is under way, then the player leaves, which ends
            it. race_start and race_end as the spectator saw them."""
            states = []

            async def watch():
                start = await until(ws, lambda m: m["type"] == "race_start")
                m = await until(ws, lambda m: m["type"] in ("game_state", "race_end"))
                while m["type"] == "game_state":
                    states.append(m)
                    m = await until(ws, lambda m: m["type"] in ("game_state", "race_end"))
                return start, m

            await ws.send(json.dumps({"type": "spectate", "race_id": rid}))
            await until(ws, lambda m: m["type"] == "lobby")
            watcher = asyncio.ensure_future(watch())
            await wp.send(json.dumps({"type": "join_race", "race_id": rid, "car_id": car}))
            await until(wp, lambda m: m["type"] == "lobby")
            await wp.send(json.dumps({"type": "ready"}))
            await until(wp, lambda m: m["type"] == "game_state" and m["race_info"]["phase"] == "running")
            drain = asyncio.ensure_future(until(wp, lambda m: False, timeout=60))
            if during:
                await during(states)
            drain.cancel()
            await wp.send(json.dumps({"type": "leave"}))
            return await asyncio.wait_for(watcher, 20)

        async def broken_edit(states):
            await asyncio.sleep(1.1)  # a new mtime second, so the change is seen
            open(path, "w").write(LIVE_BROKEN)
            await wait_for(lambda: "keeping the last good version" in open(log).read(), "the broken edit")
            text = open(log).read()
            check("rules/live.lua:4:" in text, "the log does not name the file and line: %s" % text[-1500:])
            check(expect(srv.http.get("/api/rules/live"), 200)["rules"] == v1, "a broken edit changed the rules")
            # the race goes on: its ticks still advance
            n, tick = len(states), states[-1]["tick"]
            await wait_for(lambda: len(states) >= n + 10, "game_state after the broken edit", 10)
            check(states[-1]["tick"] > tick and states[-1]["race_info"]["phase"] == "running", str(states[-1]))

        async def run():
            async with websockets.connect(url, subprotocols=["coderally.v1"],
                                          extra_headers={"Cookie": "cr_session=" + token}) as wp, \
                    websockets.connect(url, subprotocols=["coderally.v1"], max_size=None) as ws:
                await wp.recv()
                await ws.recv()
                rid = room()
                start, end = await race(wp, ws, rid, broken_edit)
                check(abs(start["countdown"] - 1) < 0.1, str(start)[:200])
                check(not end["aborted"] and end["saved"], str(end))
                check([(r["points"], r["dnf_reason"]) for r in end["results"]] == [(7, "left")], str(end))
                # the next good edit is picked up, and a new race runs under it
                await asyncio.sleep(1.1)
                open(path, "w").write(LIVE_V2)
                await wait_for(lambda: expect(srv.http.get("/api/rules/live"), 200)["rules"]["countdown_s"] == 2,
                               "the good edit")
                v2 = expect(srv.http.get("/api/rules/live"), 200)["rules"]
                check(v2["points"][0] == 9 and v2["hash"] != v1["hash"], str(v2))
                rid2 = room()
                start, end = await race(wp, ws, rid2)
                check(abs(start["countdown"] - 2) < 0.1, "the new race did not take the new rules: %s" % str(start)[:200])
                check([(r["points"], r["dnf_reason"]) for r in end["results"]] == [(9, "left")], str(end))
                return rid

        rid = asyncio.run(run())
        check(expect(srv.http.get("/api/races/%s/results" % rid), 200)["results"][0]["points"] == 7)
        check(open(log).read().count("keeping the last good version") == 1, "the broken edit was reported more than once")
    finally:
        check(srv.stop() == 0)


# A bot that passes the check but cannot load: its Bot() raises.
NEVER_LOADS = '''class Bot:
    def __init__(self):
        secret = "my secret plan"
        raise ValueError(secret)

    def on_tick(self, state):
        return {}
'''


def test_bot_that_fails_to_load(tmp):
    """A bot that fails to load at the start has its car retired and the
    race goes on: everyone's race_end (players, another user watching, an
    anonymous spectator) and the stored results say why, `bot_load_failed`,
    and only the owner gets the error itself (bot_error, index -1, with its
    line): nobody else sees the bot's code or its message."""
    scripts = os.path.join(tmp, "scripts")
    subprocess.run(["cp", "-r", os.path.join(ROOT, "scripts"), scripts], check=True)
    open(os.path.join(scripts, "rules", "quick.lua"), "w").write(QUICK_RULES)
    srv = Server(tmp, extra=("--scripts", scripts, "--set", "LADDER_CPU_SHARE=0"))
    try:
        owner, to = register(srv)
        driver, td = register(srv)
        _, tw = register(srv)
        car_o = expect(srv.http.get("/api/garage", headers=auth(to)), 200)["cars"][0]["id"]
        car_d = expect(srv.http.get("/api/garage", headers=auth(td)), 200)["cars"][0]["id"]
        bot = expect(srv.http.post("/api/bots", headers=auth(to), json={"name": "nope", "code": NEVER_LOADS}),
                     201)["bot"]["id"]
        rid = expect(srv.http.post("/api/races", headers=auth(td), json={
            "generator": "forest", "seed": 6, "rules": "quick", "max_cars": 2, "ai_fill": False}), 201)["race"]["id"]
        url = "ws://127.0.0.1:%d/ws" % srv.port
        conn = lambda t: websockets.connect(url, subprotocols=["coderally.v1"], max_size=None,
                                            extra_headers={"Cookie": "cr_session=" + t} if t else None)

        async def until(ws, kind, seen, timeout=40):
            deadline = time.time() + timeout
            while time.time() < deadline:
                m = json.loads(await asyncio.wait_for(ws.recv(), deadline - time.time()))
                seen.append(m)
                if m["type"] == kind:
                    return m
            raise AssertionError("no " + kind)

        async def run():
            got = {k: [] for k in ("owner", "driver", "watcher", "anon")}
            async with conn(to) as wo, conn(td) as wd, conn(tw) as ww, conn(None) as wn:
                socks = {"owner": wo, "driver": wd, "watcher": ww, "anon": wn}
                for k, w in socks.items():
                    await until(w, "hello", got[k])
                for k in ("watcher", "anon"):
                    await socks[k].send(json.dumps({"type": "spectate", "race_id": rid}))
                    await until(socks[k], "lobby", got[k])
                await wd.send(json.dumps({"type": "join_race", "race_id": rid, "car_id": car_d}))
                await until(wd, "lobby", got["driver"])
                await wo.send(json.dumps({"type": "join_race", "race_id": rid, "car_id": car_o, "bot_id": bot}))
                await until(wo, "lobby", got["owner"])
                for w in (wd, wo):
                    await w.send(json.dumps({"type": "ready"}))
                await until(wd, "race_start", got["driver"])
                await wd.send(json.dumps({"type": "input", "actions": {"accelerate": True}}))
                await asyncio.gather(*(until(w, "race_end", got[k]) for k, w in socks.items()))
            return got

        got = asyncio.run(run())
        ends = [next(m for m in got[k] if m["type"] == "race_end") for k in got]
        check(all(e == ends[0] for e in ends), "race_end differs between receivers")
        end = ends[0]
        check(not end["aborted"] and end["saved"], str(end))
        res = {r["user"]["username"]: r for r in end["results"]}
        check(res[owner]["dnf"] and res[owner]["dnf_reason"] == "bot_load_failed" and res[owner]["bot_id"] == bot,
              str(end["results"]))
        # the race went on: the keyboard car drove until the time limit
        check(res[driver]["dnf_reason"] == "time_limit" and res[driver]["position"] == 1, str(end["results"]))
        states = [m for m in got["anon"] if m["type"] == "game_state"]
        running = [m for m in states if m["race_info"]["phase"] == "running"]
        # the grid is in joining order: the keyboard car 0, the bot's car 1
        check(running and running[-1]["cars"][0]["progress"] > 20, "the race did not go on")
        check(all(m["cars"][1]["flags"] & 16 for m in running), "the bot's car was not retired at the start")
        errs = [m for m in got["owner"] if m["type"] == "bot_error"]
        check(len(errs) == 1 and errs[0]["index"] == -1 and errs[0]["tick"] is None, str(errs))
        check(errs[0]["line"] == 4 and "my secret plan" in errs[0]["message"] and "ValueError" in errs[0]["cause"],
              str(errs[0]))
        for k in ("driver", "watcher", "anon"):
            text = json.dumps(got[k])
            check("bot_error" not in text and "secret" not in text and "ValueError" not in text,
                  "%s saw the bot's error" % k)
        api = {r["user"]["username"]: r for r in expect(srv.http.get("/api/races/%s/results" % rid), 200)["results"]}
        check(api[owner]["dnf_reason"] == "bot_load_failed" and api[driver]["dnf_reason"] == "time_limit", str(api))
        check(srv.db_query("SELECT dnf_reason FROM race_results WHERE race_id = ? ORDER BY position", rid) ==
              [("time_limit",), ("bot_load_failed",)])
    finally:
        check(srv.stop() == 0)


def test_dnf_reasons_of_players_who_go(tmp):
    """A car whose player dropped and stayed away past the grace is retired
    by lobby.lua and its result says `disconnected`; one whose player left
    says `left`."""
    scripts = os.path.join(tmp, "scripts")
    subprocess.run(["cp", "-r", os.path.join(ROOT, "scripts"), scripts], check=True)
    open(os.path.join(scripts, "rules", "quick.lua"), "w").write(QUICK_RULES)
    open(os.path.join(scripts, "lobby.lua"), "w").write(
        'return { grace_s = 1, init = function() return {} end,\n'
        '         leave = function(_room, _state, _p, _phase, _why) return "retire" end }\n')
    srv = Server(tmp, extra=("--scripts", scripts, "--set", "LADDER_CPU_SHARE=0"))
    try:
        name_a, ta = register(srv)
        name_b, tb = register(srv)
        cars = [expect(srv.http.get("/api/garage", headers=auth(t)), 200)["cars"][0]["id"] for t in (ta, tb)]
        rid = expect(srv.http.post("/api/races", headers=auth(ta), json={
            "generator": "forest", "seed": 8, "rules": "quick", "max_cars": 2, "ai_fill": False}), 201)["race"]["id"]
        url = "ws://127.0.0.1:%d/ws" % srv.port
        conn = lambda t: websockets.connect(url, subprotocols=["coderally.v1"], max_size=None,
                                            extra_headers={"Cookie": "cr_session=" + t} if t else None)

        async def until(ws, pred, timeout=20):
            deadline = time.time() + timeout
            while time.time() < deadline:
                m = json.loads(await asyncio.wait_for(ws.recv(), deadline - time.time()))
                check(m["type"] != "error", str(m))
                if pred(m):
                    return m
            raise AssertionError("timed out")

        async def run():
            async with conn(ta) as wa, conn(None) as ws:
                wb = await conn(tb)
                for w in (wa, wb, ws):
                    await w.recv()
                await ws.send(json.dumps({"type": "spectate", "race_id": rid}))
                await until(ws, lambda m: m["type"] == "lobby")
                # the spectator reads all along, as a client must
                watcher = asyncio.ensure_future(until(ws, lambda m: m["type"] == "race_end", timeout=40))
                for w, car in ((wa, cars[0]), (wb, cars[1])):
                    await w.send(json.dumps({"type": "join_race", "race_id": rid, "car_id": car}))
                    await until(w, lambda m: m["type"] == "lobby")
                for w in (wa, wb):
                    await w.send(json.dumps({"type": "ready"}))
                await until(wb, lambda m: m["type"] == "game_state" and m["race_info"]["phase"] == "running")
                wb.transport.abort()  # gone without a word
                # past the grace the car is retired (DNF in game_state)
                await until(wa, lambda m: m["type"] == "game_state" and m["cars"][1]["flags"] & 16, timeout=10)
                await wa.send(json.dumps({"type": "leave"}))
                return await watcher

        end = asyncio.run(run())
        got = {r["user"]["username"]: r["dnf_reason"] for r in end["results"]}
        check(got == {name_a: "left", name_b: "disconnected"}, str(end))
        api = expect(srv.http.get("/api/races/%s/results" % rid), 200)["results"]
        check({r["user"]["username"]: r["dnf_reason"] for r in api} == got, str(api))
    finally:
        check(srv.stop() == 0)


def test_kill9_mid_race(tmp):
    """SIGKILL during a live race: after a restart the race is aborted, with
    no results and no points, and the database is whole."""
    scripts = os.path.join(tmp, "scripts")
    subprocess.run(["cp", "-r", os.path.join(ROOT, "scripts"), scripts], check=True)
    open(os.path.join(scripts, "rules", "quick.lua"), "w").write(QUICK_RULES)
    db = os.path.join(tmp, "race.db")
    srv = Server(tmp, db=db, extra=("--scripts", scripts))
    name, token = register(srv)
    car = expect(srv.http.get("/api/garage", headers=auth(token)), 200)["cars"][0]["id"]
    rid = expect(srv.http.post("/api/races", headers=auth(token), json={
        "generator": "forest", "rules": "quick", "max_cars": 3}), 201)["race"]["id"]

    async def run():
        async with websockets.connect("ws://127.0.0.1:%d/ws" % srv.port, subprotocols=["coderally.v1"],
                                      extra_headers={"Cookie": "cr_session=" + token}) as ws:
            await ws.recv()
            await ws.send(json.dumps({"type": "join_race", "race_id": rid, "car_id": car}))
            # The join is resolved on a worker: a ready sent before it lands
            # is "not_in_race" and the race never starts (seen under load).
            while json.loads(await ws.recv())["type"] != "lobby":
                pass
            await ws.send(json.dumps({"type": "ready"}))
            states = 0
            while states < 30:
                m = json.loads(await ws.recv())
                states += m["type"] == "game_state"
            srv.proc.kill()
            srv.proc.wait()

    asyncio.run(run())
    srv.http.close()
    srv.proc.stdout.close()
    srv.log.close()
    srv2 = Server(tmp, db=db, extra=("--scripts", scripts))
    try:
        r = expect(srv2.http.get("/api/races/" + rid), 200)["race"]
        check(r["status"] == "aborted" and r["results"] == [] and not r["replay"], str(r))
        check(expect(srv2.http.get("/api/me", headers=auth(token)), 200)["user"]["points"] == 1000)
        check(srv2.db_query("PRAGMA integrity_check") == [("ok",)])
    finally:
        check(srv2.stop() == 0)


def test_input_ack_and_full_car_state(tmp):
    """game_state carries each car's angular velocity, nitro burn and input
    ack: a keyboard car's input_tick echoes the tick of its last applied
    input (null before any, and after one without a tick), AI cars have
    null; every car's angular_velocity is present and finite."""
    scripts = os.path.join(tmp, "scripts")
    subprocess.run(["cp", "-r", os.path.join(ROOT, "scripts"), scripts], check=True)
    open(os.path.join(scripts, "rules", "quick.lua"), "w").write(QUICK_RULES)
    srv = Server(tmp, extra=("--scripts", scripts))
    try:
        _, token = register(srv)
        car = expect(srv.http.get("/api/garage", headers=auth(token)), 200)["cars"][0]["id"]
        rid = expect(srv.http.post("/api/races", headers=auth(token), json={
            "generator": "forest", "seed": 3, "rules": "quick", "max_cars": 2, "ai_fill": True}), 201)["race"]["id"]

        async def next_state(ws):
            while True:
                m = json.loads(await asyncio.wait_for(ws.recv(), 10))
                check(m["type"] != "error", "error: %s" % m)
                if m["type"] == "game_state":
                    return m

        def check_cars(m):
            check(len(m["cars"]) == 2, str(m["cars"]))
            for c in m["cars"]:
                av = c.get("angular_velocity")
                check(isinstance(av, (int, float)) and math.isfinite(av), "angular_velocity: %s" % c)
                check(isinstance(c.get("nitro_ticks"), int) and c["nitro_ticks"] >= 0, "nitro_ticks: %s" % c)
                check("input_tick" in c, "no input_tick: %s" % c)
            check(m["cars"][1]["input_tick"] is None, "an AI car acks input: %s" % m["cars"][1])

        async def acked(ws, tick, sent):
            """Waits for the ack of tick; every ack on the way is one we sent."""
            for _ in range(40):
                m = await next_state(ws)
                check_cars(m)
                got = m["cars"][0]["input_tick"]
                check(got is None or got in sent, "input_tick %r was never sent (%s)" % (got, sent))
                if got == tick:
                    return m
            raise AssertionError("input tick %r never acknowledged" % tick)

        async def run():
            async with websockets.connect("ws://127.0.0.1:%d/ws" % srv.port, subprotocols=["coderally.v1"],
                                          extra_headers={"Cookie": "cr_session=" + token}) as ws:
                await ws.recv()
                await ws.send(json.dumps({"type": "join_race", "race_id": rid, "car_id": car}))
                while json.loads(await ws.recv())["type"] != "lobby":
                    pass
                await ws.send(json.dumps({"type": "ready"}))
                first = await next_state(ws)
                check_cars(first)
                check(first["cars"][0]["input_tick"] is None, "an ack before any input: %s" % first["cars"][0])
                sent = []
                # Ticks are the client's own numbers: echoed, not interpreted.
                for tick, actions in [(7, {"accelerate": True}), (1000003, {"accelerate": True, "turn_left": True}),
                                      (1000004, {"accelerate": True, "turn_right": True})]:
                    sent.append(tick)
                    await ws.send(json.dumps({"type": "input", "tick": tick, "actions": actions}))
                    m = await acked(ws, tick, sent)
                # Steering at speed turns the car: a non-zero angular velocity.
                turning = False
                for _ in range(30):
                    m = await next_state(ws)
                    check_cars(m)
                    check(m["cars"][0]["input_tick"] == 1000004, str(m["cars"][0]))
                    if m["race_info"]["phase"] == "running" and abs(m["cars"][0]["angular_velocity"]) > 0.01:
                        turning = True
                        break
                check(turning, "steering never showed in angular_velocity: %s" % m["cars"][0])
                # A refused input changes nothing; one without a tick clears the ack.
                await ws.send(json.dumps({"type": "input", "tick": -1, "actions": {}}))
                while True:
                    e = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    if e["type"] == "error":
                        break
                    check(e["type"] != "game_state" or e["cars"][0]["input_tick"] == 1000004, str(e))
                check(e["code"] == "bad_field", str(e))
                await ws.send(json.dumps({"type": "input", "actions": {}}))
                for _ in range(40):
                    m = await next_state(ws)
                    check_cars(m)
                    if m["cars"][0]["input_tick"] is None:
                        return
                    check(m["cars"][0]["input_tick"] == 1000004, str(m["cars"][0]))
                raise AssertionError("an input without a tick left input_tick set")

        asyncio.run(run())
    finally:
        check(srv.stop() == 0)


LOBBY_LUA = '''-- The tests' lobby: humans only, 1.5 s of grace, a car whose driver
-- is gone goes to the AI.
return {
    grace_s = 1.5,
    join_attempt = function(_room, p)
        if p.kind == "bot" then return false, "humans_only" end
        return true
    end,
    on_leave = function(_room, _p, phase)
        if phase == "open" then return "retire" end
        return "ai"
    end,
}
'''


def test_lobby_lua_and_reconnect_grace(tmp):
    """Rooms follow scripts/lobby.lua: join_attempt refuses a bot with its
    reason; a player who drops mid-race and joins again within grace_s takes
    the car back; one who does not is handed to the AI (on_leave); a broken
    lobby.lua stops the server from starting, naming the file and line."""
    scripts = os.path.join(tmp, "scripts")
    subprocess.run(["cp", "-r", os.path.join(ROOT, "scripts"), scripts], check=True)
    open(os.path.join(scripts, "rules", "quick.lua"), "w").write(QUICK_RULES)
    open(os.path.join(scripts, "lobby.lua"), "w").write(LOBBY_LUA)
    srv = Server(tmp, extra=("--scripts", scripts))
    try:
        name_a, ta = register(srv)
        name_b, tb = register(srv)
        car_a = expect(srv.http.get("/api/garage", headers=auth(ta)), 200)["cars"][0]["id"]
        car_b = expect(srv.http.get("/api/garage", headers=auth(tb)), 200)["cars"][0]["id"]
        bot_b = expect(srv.http.post("/api/bots", headers=auth(tb), json={"name": "f", "code": TEMPLATE}), 201)["bot"]["id"]
        rid = expect(srv.http.post("/api/races", headers=auth(ta), json={
            "generator": "forest", "seed": 5, "rules": "quick", "max_cars": 3}), 201)["race"]["id"]
        url = "ws://127.0.0.1:%d/ws" % srv.port
        conn = lambda t: websockets.connect(url, subprotocols=["coderally.v1"],
                                            extra_headers={"Cookie": "cr_session=" + t})

        async def until(ws, pred, timeout=20):
            deadline = time.time() + timeout
            while time.time() < deadline:
                m = json.loads(await asyncio.wait_for(ws.recv(), deadline - time.time()))
                if pred(m):
                    return m
            raise AssertionError("timed out")

        async def run():
            async with conn(ta) as wa:
                await wa.recv()
                async with conn(tb) as wb:
                    await wb.recv()
                    await wb.send(json.dumps({"type": "join_race", "race_id": rid, "car_id": car_b, "bot_id": bot_b}))
                    e = await until(wb, lambda m: m["type"] == "error")
                    check(e["code"] == "humans_only", str(e))
                    await wb.send(json.dumps({"type": "join_race", "race_id": rid, "car_id": car_b}))
                    await until(wb, lambda m: m["type"] == "lobby" and len(m["players"]) == 1)
                    await wa.send(json.dumps({"type": "join_race", "race_id": rid, "car_id": car_a}))
                    await until(wa, lambda m: m["type"] == "lobby" and len(m["players"]) == 2)
                    for w in (wa, wb):
                        await w.send(json.dumps({"type": "ready"}))
                    await until(wa, lambda m: m["type"] == "race_start")
                    await until(wb, lambda m: m["type"] == "game_state")
                # b dropped: a sees b disconnected, then b is back within the grace.
                await until(wa, lambda m: m["type"] == "lobby" and any(
                    p["user"]["username"] == name_b and not p["connected"] for p in m["players"]))
                async with conn(tb) as wb:
                    await wb.recv()
                    await wb.send(json.dumps({"type": "join_race", "race_id": rid, "car_id": car_b}))
                    await until(wb, lambda m: m["type"] == "game_state")
                    lob = await until(wa, lambda m: m["type"] == "lobby" and all(p["connected"] for p in m["players"]))
                    check(len(lob["players"]) == 2, str(lob))
                # b drops again and stays away past the grace: the AI drives.
                await asyncio.sleep(2.5)
                async with conn(tb) as wb:
                    await wb.recv()
                    await wb.send(json.dumps({"type": "join_race", "race_id": rid, "car_id": car_b}))
                    e = await until(wb, lambda m: m["type"] == "error")
                    check(e["code"] == "grace_expired", str(e))
                await until(wa, lambda m: m["type"] == "race_end", timeout=30)

        asyncio.run(run())
        log = open(os.path.join(tmp, "server.log")).read()
        check(("%s's car: ai" % name_b) in log, log[-2000:])
        check(("%s's car" % name_a) not in log, log[-2000:])
    finally:
        check(srv.stop() == 0)
    # A broken lobby.lua: the server refuses to start and says where.
    open(os.path.join(scripts, "lobby.lua"), "w").write("return {\n  grace_s = = 1 }\n")
    p = subprocess.run([BIN, "serve", "--port", "0", "--db", os.path.join(tmp, "x.db"), "--scripts", scripts],
                       capture_output=True, text=True, timeout=60)
    check(p.returncode != 0 and "lobby.lua:2:" in p.stdout + p.stderr, p.stdout + p.stderr)


def test_quick_race(tmp):
    """quick_race: with no open room, one opens with the defaults; the next
    player lands in the room with the most players that is still open and
    not full; a full room is skipped; without a login it is refused."""
    srv = Server(tmp)
    try:
        users = [register(srv) for _ in range(3)]
        cars = [expect(srv.http.get("/api/garage", headers=auth(t)), 200)["cars"][0]["id"] for _, t in users]
        small = expect(srv.http.post("/api/races", headers=auth(users[0][1]), json={
            "generator": "forest", "max_cars": 1}), 201)["race"]["id"]
        url = "ws://127.0.0.1:%d/ws" % srv.port

        async def run():
            async with websockets.connect(url, subprotocols=["coderally.v1"]) as anon:
                await anon.recv()
                await anon.send(json.dumps({"type": "quick_race", "car_id": 1}))
                e = json.loads(await anon.recv())
                check(e["type"] == "error" and e["code"] == "unauthorized", str(e))
            socks = [await websockets.connect(url, subprotocols=["coderally.v1"],
                                              extra_headers={"Cookie": "cr_session=" + t}) for _, t in users]
            for ws in socks:
                await ws.recv()
            # The 1-car room is open and has the most players once user 0 is in.
            await socks[0].send(json.dumps({"type": "quick_race", "car_id": cars[0]}))
            m0 = await lobby_of(socks[0])
            check(m0.get("race_id") == small, str(m0))
            # Full now: user 1 gets a new room with the defaults, user 2 joins it.
            await socks[1].send(json.dumps({"type": "quick_race", "car_id": cars[1]}))
            m1 = await lobby_of(socks[1])
            check(m1["type"] == "lobby" and m1["race_id"] != small and m1["ai_fill"] is True, str(m1))
            await socks[2].send(json.dumps({"type": "quick_race", "car_id": cars[2], "bot_id": None}))
            m2 = await lobby_of(socks[2])
            check(m2["type"] == "lobby" and m2["race_id"] == m1["race_id"] and len(m2["players"]) == 2, str(m2))
            for ws in socks:
                await ws.close()
            return m1["race_id"]

        rid = asyncio.run(run())
        r = expect(srv.http.get("/api/races/" + rid), 200)["race"]
        check(r["status"] == "open" and r["generator"], str(r))
    finally:
        check(srv.stop() == 0)


# ---- runner -------------------------------------------------------------------

SHARED = [test_health_and_unknown_routes, test_static_files_mime_and_no_traversal,
          test_register_login_me_logout, test_bad_registrations_change_nothing,
          test_forged_malformed_and_expired_tokens, test_bots_versions_checks_and_ownership,
          test_stages_generators_geometry_and_svg, test_garage, test_concurrent_purchases_never_overspend,
          test_leaderboard_players,
          test_races_read_routes, test_rooms_create_and_lobby,
          test_websocket_handshake_and_errors, test_login_rate_limit_per_account,
          test_registration_rate_limit_per_address]
OWN = [test_no_web_build_page_and_sigterm, test_docs_curl_examples,
       test_scripts_reload_good_and_broken_edits, test_end_to_end_chain, test_rules_reload_during_a_live_race,
       test_bot_that_fails_to_load, test_dnf_reasons_of_players_who_go,
       test_kill9_during_bot_saves_and_purchases, test_kill9_mid_race,
       test_lobby_lua_and_reconnect_grace, test_quick_race, test_input_ack_and_full_car_state]


def make_web(tmp):
    web = os.path.join(tmp, "web")
    os.makedirs(os.path.join(web, "assets"))
    open(os.path.join(web, "index.html"), "w").write("<!doctype html><p>index page</p>")
    open(os.path.join(web, "assets", "app.js"), "w").write("console.log(1)")
    open(os.path.join(web, "assets", "app.wasm"), "wb").write(b"\0asm\1\0\0\0")
    open(os.path.join(web, "style.css"), "w").write("p{}")
    open(os.path.join(tmp, "secret.txt"), "w").write("TOP SECRET")
    os.symlink(tmp, os.path.join(web, "link-out"))
    return web


def run_own_tests(tests):
    """The runner for a file of tests that each start their own server in a
    folder of their own (argv: the coderally binary, then test names to run
    only those). A failure prints the tail of that server's log; a sanitizer
    report in it fails the test too."""
    global BIN
    BIN = os.path.abspath(sys.argv[1])
    only = set(sys.argv[2:])
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for t in tests:
            if only and t.__name__ not in only:
                continue
            print("-- " + t.__name__, flush=True)
            sub = os.path.join(tmp, t.__name__)
            os.makedirs(sub)
            log_path = os.path.join(sub, "server.log")
            try:
                t(sub)
                passed += 1
                print("ok   " + t.__name__, flush=True)
            except Exception:
                failed += 1
                traceback.print_exc()
                print("FAIL " + t.__name__, flush=True)
                if os.path.exists(log_path):
                    print(open(log_path).read()[-3000:])
            log = open(log_path).read() if os.path.exists(log_path) else ""
            if "ERROR: AddressSanitizer" in log or "runtime error" in log or "LeakSanitizer" in log:
                failed += 1
                print("FAIL sanitizer report in %s:\n%s" % (log_path, log[-4000:]))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def main():
    global BIN
    BIN = os.path.abspath(sys.argv[1])
    only = set(sys.argv[2:])
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        srv = Server(tmp, web=make_web(tmp))
        try:
            for t in SHARED + OWN:
                if only and t.__name__ not in only:
                    continue
                print("-- " + t.__name__, flush=True)
                try:
                    if t in SHARED:
                        t(srv)
                    else:
                        sub = os.path.join(tmp, t.__name__)
                        os.makedirs(sub)
                        t(sub)
                    passed += 1
                    print("ok   " + t.__name__, flush=True)
                except Exception:
                    failed += 1
                    traceback.print_exc()
                    print("FAIL " + t.__name__, flush=True)
        finally:
            rc = srv.stop()
            if rc != 0:
                failed += 1
                print("FAIL serve exited %d on SIGTERM (log below)" % rc)
            log = open(os.path.join(tmp, "server.log")).read()
            for d, _, files in os.walk(tmp):
                if "server.log" not in files:
                    continue
                text = open(os.path.join(d, "server.log")).read()
                if "ERROR: AddressSanitizer" in text or "runtime error" in text or "LeakSanitizer" in text:
                    failed += 1
                    log = text
                    print("FAIL sanitizer report in %s/server.log" % d)
            if failed:
                print(log[-4000:])
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
