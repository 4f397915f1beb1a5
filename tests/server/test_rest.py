#!/usr/bin/env python3
"""REST routes of issue 7's second round, end to end against a real
`coderally serve`: POST /api/races/quick (the same chooser as the WebSocket
quick_race), GET /api/races/{id}/replay.json (byte-identical to
`coderally replay export`), GET /api/rules and /api/rules/{name} (the rules'
numbers from the engine's loader), max_cars and the rules' numbers in race
detail. Bad input of each kind is refused with its error and changes
nothing.

usage: test_rest.py CODERALLY_BINARY [TEST_NAME ...]
"""
import asyncio
import json
import os
import sqlite3
import subprocess
import sys

import test_server as ts
from test_server import Server, auth, check, expect, lobby_of, register

import websockets  # noqa: E402  (test_server put .deps on the path)


def garage_car(srv, token):
    return expect(srv.http.get("/api/garage", headers=auth(token)), 200)["cars"][0]["id"]


def race_rows(srv):
    return srv.db_query("SELECT id, status FROM races ORDER BY rowid")


def test_quick_race_rest(tmp):
    """POST /api/races/quick: refused without a login, with wrong types and
    with other users' cars and bots (no room opened); with no open room it
    opens one with the quick-race defaults (201); the next call names the
    same room (200, nothing new), and so does the WebSocket quick_race; a
    full room is skipped."""
    srv = Server(tmp)
    try:
        (_, ta), (_, tb), (_, tc) = register(srv), register(srv), register(srv)
        car_a, car_b, car_c = garage_car(srv, ta), garage_car(srv, tb), garage_car(srv, tc)
        bot_b = expect(srv.http.post("/api/bots", headers=auth(tb), json={
            "name": "b", "code": ts.TEMPLATE}), 201)["bot"]["id"]
        before = race_rows(srv)
        expect(srv.http.post("/api/races/quick", json={"car_id": car_a}), 401, "unauthorized")
        bad = [({"car_id": str(car_a)}, 400, "bad_field"), ({"car_id": 0}, 400, "bad_field"),
               ({"car_id": -3}, 400, "bad_field"), ({"car_id": 1.5}, 400, "bad_field"),
               ({}, 400, "bad_field"), ({"car_id": None}, 400, "bad_field"),
               ({"car_id": car_a, "bot_id": "x"}, 400, "bad_field"),
               ({"car_id": car_a, "bot_id": 0}, 400, "bad_field"),
               ({"car_id": car_a, "bot_id": [1]}, 400, "bad_field"),
               ({"car_id": car_b}, 404, "not_found"),                  # someone else's car
               ({"car_id": car_a, "bot_id": bot_b}, 404, "not_found"),  # someone else's bot
               ({"car_id": 999999}, 404, "not_found")]
        for body, status, code in bad:
            expect(srv.http.post("/api/races/quick", headers=auth(ta), json=body), status, code)
        expect(srv.http.post("/api/races/quick", headers={**auth(ta), "Content-Type": "application/json"},
                             content=b"{nope"), 400, "bad_json")
        expect(srv.http.post("/api/races/quick", headers={**auth(ta), "Content-Type": "application/json"},
                             content=b"[1]"), 400, "bad_json")
        check(race_rows(srv) == before, "a refused quick race changed the races: %s" % race_rows(srv))
        expect(srv.http.get("/api/races/quick"), 404)  # GET: no such race id

        # No open room: one with the defaults (as the WebSocket quick_race).
        j = expect(srv.http.post("/api/races/quick", headers=auth(ta), json={"car_id": car_a}), 201)
        room = j["race"]
        gens = expect(srv.http.get("/api/stages/generators"), 200)["generators"]
        first = next(g["name"] for g in gens if g["error"] is None)
        check(room["status"] == "open" and room["generator"] == first and room["rules"] == "standard"
              and room["max_cars"] == 8 and room["ai_fill"] is True and room["params"] == {}, str(room))
        n_rows = len(race_rows(srv))
        # The best open room now: the same one, nothing new recorded.
        j = expect(srv.http.post("/api/races/quick", headers=auth(tb),
                                 json={"car_id": car_b, "bot_id": bot_b}), 200)
        check(j["race"]["id"] == room["id"], str(j))
        check(len(race_rows(srv)) == n_rows, "a second quick race recorded a new race")
        detail = expect(srv.http.get("/api/races/" + room["id"]), 200)["race"]
        check(detail["max_cars"] == 8 and detail["ai_fill"] is True, str(detail))

        url = "ws://127.0.0.1:%d/ws" % srv.port

        async def run():
            # The WebSocket chooser agrees: user C's quick_race lands there too.
            async with websockets.connect(url, subprotocols=["coderally.v1"],
                                          extra_headers={"Cookie": "cr_session=" + tc}) as ws:
                await ws.recv()
                await ws.send(json.dumps({"type": "quick_race", "car_id": car_c}))
                m = await lobby_of(ws)
                check(m["type"] == "lobby" and m["race_id"] == room["id"], str(m))
            # A one-car room that user A fills is skipped by the next REST pick.
            small = expect(srv.http.post("/api/races", headers=auth(ta), json={
                "generator": "forest", "max_cars": 1}), 201)["race"]
            check(small["max_cars"] == 1 and small["ai_fill"] is True, str(small))
            async with websockets.connect(url, subprotocols=["coderally.v1"],
                                          extra_headers={"Cookie": "cr_session=" + ta}) as ws:
                await ws.recv()
                await ws.send(json.dumps({"type": "join_race", "race_id": small["id"], "car_id": car_a}))
                m = await lobby_of(ws)
                check(m["type"] == "lobby" and len(m["players"]) == 1, str(m))
                j = expect(srv.http.post("/api/races/quick", headers=auth(tb), json={"car_id": car_b}), 200)
                check(j["race"]["id"] == room["id"], "a full room was picked: %s" % j)

        asyncio.run(run())
    finally:
        check(srv.stop() == 0)


def record_race(tmp, name, *extra):
    """A race run by the CLI (AI only): its replay file's path."""
    path = os.path.join(tmp, name + ".replay")
    r = subprocess.run([ts.BIN, "race", "--generator", "forest", "--seed", "5", "--ai", "2",
                        "--replay", path, *extra], capture_output=True, text=True, timeout=120)
    check(r.returncode == 0, "coderally race: %s" % r.stderr[-500:])
    return path


def cli_export(path, *extra):
    r = subprocess.run([ts.BIN, "replay", "export", path, *extra], capture_output=True, timeout=120)
    check(r.returncode == 0, "replay export: %s" % r.stderr[-500:])
    return r.stdout


def put_finished(srv, race_id, replay, generator="forest", seed=5, params="{}"):
    con = sqlite3.connect(srv.db)
    con.execute("INSERT INTO races(id, generator, seed, params_json, rules, status, started_at, "
                "finished_at, replay) VALUES (?, ?, ?, ?, 'standard', 'finished', 10, 20, ?)",
                (race_id, generator, seed, params, replay))
    con.commit()
    con.close()


def test_replay_json_matches_cli_export(tmp):
    """replay.json is `coderally replay export` byte for byte (default and
    ?every=N), also for a replay recorded under a non-default STAGE_*
    setting the server does not have; unknown races, races without a
    replay, bad `every` and damaged replays get their errors."""
    plain = record_race(tmp, "plain")
    # Recorded under STAGE_MAX_LENGTH=1500: the stage differs from the
    # default one, so only the recorded setting re-generates it.
    staged = record_race(tmp, "staged", "--set", "STAGE_MAX_LENGTH=1500")
    v = subprocess.run([ts.BIN, "replay", "verify", staged], capture_output=True, text=True)
    check(v.returncode == 0 and "OK" in v.stdout, "verify without --set: %s %s" % (v.stdout, v.stderr))
    srv = Server(tmp)
    try:
        put_finished(srv, "plainrace", open(plain, "rb").read())
        put_finished(srv, "stagedrace", open(staged, "rb").read())
        put_finished(srv, "damaged", b"CRREPLAY\x03\x00\x00\x00junk")
        for rid, path in (("plainrace", plain), ("stagedrace", staged)):
            r = srv.http.get("/api/races/%s/replay.json" % rid)
            check(r.status_code == 200, "%s: %d %s" % (rid, r.status_code, r.text[:300]))
            check(r.headers["content-type"] == "application/x-ndjson", r.headers["content-type"])
            want = cli_export(path)
            check(r.content == want, "%s: the route's %d bytes differ from the CLI's %d" % (
                rid, len(r.content), len(want)))
            lines = r.content.decode().splitlines()
            first = json.loads(lines[0])
            check(first["tick"] == 3 and len(first["cars"]) == 2, lines[0])
            r60 = srv.http.get("/api/races/%s/replay.json?every=60" % rid)
            check(r60.status_code == 200 and r60.content == cli_export(path, "--every", "60"),
                  "every=60 differs")
        for q in ["0", "3601", "x", "-1", "", "1.5"]:
            expect(srv.http.get("/api/races/plainrace/replay.json?every=" + q), 400, "bad_field")
        expect(srv.http.get("/api/races/nosuch/replay.json"), 404, "not_found")
        expect(srv.http.get("/api/races/..%2f/replay.json"), 404)
        _, token = register(srv)
        open_id = expect(srv.http.post("/api/races", headers=auth(token), json={"generator": "forest"}),
                         201)["race"]["id"]
        expect(srv.http.get("/api/races/%s/replay.json" % open_id), 404, "not_found")
        expect(srv.http.get("/api/races/damaged/replay.json"), 500, "internal")
        expect(srv.http.post("/api/races/plainrace/replay.json", json={}), 405)
    finally:
        check(srv.stop() == 0)


def test_rules_numbers(tmp):
    """GET /api/rules lists the rule sets with their numbers (the
    stage-dependent time limit null); GET /api/rules/NAME?generator=...
    gives it for that stage; race detail carries the race's own."""
    srv = Server(tmp)
    try:
        rules = expect(srv.http.get("/api/rules"), 200)["rules"]
        std = next(r for r in rules if r["name"] == "standard")
        check(std["error"] is None and len(std["hash"]) == 16, str(std))
        check(std["countdown_s"] == 3 and std["countdown_ticks"] == 180, str(std))
        check(std["stall_limit_s"] == 30 and std["stall_limit_ticks"] == 1800, str(std))
        check(std["time_limit_s"] is None and std["time_limit_ticks"] is None, str(std))
        check(std["per_stage"] == ["time_limit"], str(std))
        check(std["points"] == [25, 18, 15, 12, 10, 8, 6, 4], str(std))  # 8 = MAX_CONCURRENT_PLAYERS
        geo = expect(srv.http.get("/api/stages/forest", params={"seed": 7, "length": 1800}), 200)
        one = expect(srv.http.get("/api/rules/standard", params={
            "generator": "forest", "seed": 7, "length": 1800}), 200)["rules"]
        limit = min(3600, 60 + geo["length"] / 8)  # standard.lua's time_limit_s
        check(abs(one["time_limit_s"] - limit) < 1e-3, "%s vs %s" % (one["time_limit_s"], limit))
        check(one["time_limit_ticks"] == round(limit * 60), str(one))
        check(one["stage_hash"] == geo["hash"] and one["hash"] == std["hash"], str(one))
        check(one["countdown_ticks"] == 180 and one["points"] == std["points"], str(one))
        plain = expect(srv.http.get("/api/rules/standard"), 200)["rules"]
        check(plain["time_limit_s"] is None and plain["countdown_s"] == 3, str(plain))
        for bad in ["nosuch", "Standard", "..", "x" * 100, "standard.lua"]:
            expect(srv.http.get("/api/rules/" + bad), 404, "not_found")
        for q in [{"seed": 7}, {"length": 1800}, {"generator": "nosuch"},
                  {"generator": "forest", "seed": "x"}, {"generator": "forest", "seed": -1},
                  {"generator": "forest", "length": 99999}, {"generator": "forest", "nosuch": 1}]:
            expect(srv.http.get("/api/rules/standard", params=q), 400, "bad_field")
        # Race detail: max_cars, ai_fill and the rules' numbers for its stage.
        _, token = register(srv)
        made = expect(srv.http.post("/api/races", headers=auth(token), json={
            "generator": "forest", "seed": 7, "params": {"length": 1800}, "max_cars": 4,
            "ai_fill": False}), 201)["race"]
        check(made["max_cars"] == 4 and made["ai_fill"] is False, str(made))
        d = expect(srv.http.get("/api/races/" + made["id"]), 200)["race"]
        check(d["max_cars"] == 4 and d["ai_fill"] is False, str(d))
        check(d["rules_numbers"]["time_limit_ticks"] == one["time_limit_ticks"], str(d["rules_numbers"]))
        check(d["rules_numbers"]["stage_hash"] == geo["hash"], str(d["rules_numbers"]))
        # Made once and kept with the race under the scripts' key: the next
        # GET reads them (the same JSON) instead of generating the stage again.
        kept = srv.db_query("SELECT rules_numbers, rules_numbers_key FROM races WHERE id = ?", made["id"])
        stored = json.loads(kept[0][0]) if kept[0][0] else {}
        check(list(stored) == list(d["rules_numbers"]), str(kept))  # kept at full precision
        check(all(stored[k] == v or abs(stored[k] - v) < 1e-9 for k, v in d["rules_numbers"].items()), str(kept))
        again = srv.http.get("/api/races/" + made["id"])
        check(again.json()["race"] == d, "a second GET differs: %s" % again.text[:300])
        con = sqlite3.connect(srv.db)
        con.execute("UPDATE races SET rules_numbers = '{\"kept\": 1}' WHERE id = ?", (made["id"],))
        con.commit()
        check(expect(srv.http.get("/api/races/" + made["id"]), 200)["race"]["rules_numbers"] == {"kept": 1},
              "the kept numbers were not used")
        # Kept under another key (as after an edit of the scripts is
        # reloaded): made again from the stage.
        con.execute("UPDATE races SET rules_numbers_key = rules_numbers_key + 1 WHERE id = ?", (made["id"],))
        con.commit()
        con.close()
        check(expect(srv.http.get("/api/races/" + made["id"]), 200)["race"]["rules_numbers"] == d["rules_numbers"])
        listed = expect(srv.http.get("/api/races?status=open"), 200)["races"]
        check(next(r for r in listed if r["id"] == made["id"])["max_cars"] == 4, str(listed))
        # A race recorded before max_cars was kept says null.
        con = sqlite3.connect(srv.db)
        con.execute("INSERT INTO races(id, generator, seed, rules, status) "
                    "VALUES ('old1', 'coast', 4, 'standard', 'aborted')")
        con.commit()
        con.close()
        old = expect(srv.http.get("/api/races/old1"), 200)["race"]
        check(old["max_cars"] is None and old["ai_fill"] is None and old["rules_numbers"]["countdown_ticks"] == 180,
              str(old))
    finally:
        check(srv.stop() == 0)


TESTS = [test_quick_race_rest, test_replay_json_matches_cli_export, test_rules_numbers]


def main():
    return ts.run_own_tests(TESTS)


if __name__ == "__main__":
    sys.exit(main())
