#!/usr/bin/env python3
"""Rate limits of `coderally serve` end to end (docs/API.md "Rate limits"):
logins per address (attempts from other addresses are not charged), a
locked account stays locked however many other usernames an attacker sprays
at the table that holds the windows, and the WebSocket message limit lets a
steady 30 messages a second through for longer than its burst allowance;
logins in flight count against their account before they are answered.

Other loopback addresses (127.0.0.2, ...) are used as clients' source
addresses so the server sees distinct peers.

usage: test_ratelimit.py CODERALLY_BINARY [TEST_NAME ...]
"""
import asyncio
import json
import sys
import threading
import time

import test_server as ts
from test_server import Server, check, expect, register

import httpx  # noqa: E402  (test_server put .deps on the path)
import websockets  # noqa: E402
import websockets.exceptions  # noqa: E402


def client_from(srv, address):
    """An HTTP client to srv whose connections come from `address`."""
    return httpx.Client(base_url=srv.url, timeout=30,
                        transport=httpx.HTTPTransport(local_address=address))


def login(http, name, password):
    return http.post("/api/auth/login", json={"username": name, "password": password})


def test_login_limit_per_address(tmp):
    """30 login attempts per address per minute, successful ones included;
    the 31st is refused (429 with Retry-After) even with the right password;
    the same account logs in from another address meanwhile."""
    srv = Server(tmp)
    other = client_from(srv, "127.0.0.2")
    try:
        name, _ = register(srv)
        for i in range(15):
            expect(login(srv.http, "nobody%d" % i, "wrong horse"), 401, "bad_credentials")
            expect(login(srv.http, name, "correct horse"), 200)
        r = login(srv.http, name, "correct horse")
        expect(r, 429, "rate_limited")
        check(1 <= int(r.headers["retry-after"]) <= 60, r.headers.get("retry-after"))
        expect(login(srv.http, "nobody99", "wrong horse"), 429, "rate_limited")
        # another address is not charged with these attempts
        expect(login(other, name, "correct horse"), 200)
        # nor is the account: 15 successes and no failures lock nothing
        expect(login(other, name, "wrong horse"), 401, "bad_credentials")
        expect(login(other, name, "correct horse"), 200)
    finally:
        other.close()
        check(srv.stop() == 0)


def test_parallel_logins_count_before_their_answers(tmp):
    """20 wrong passwords for one account sent at once: a login counts
    against its account from its arrival, so exactly 10 are checked (401)
    and 10 refused (429) although none had been answered when most arrived;
    then the right password is refused too."""
    srv = Server(tmp)
    try:
        name, _ = register(srv)
        statuses = []
        lock = threading.Lock()
        go = threading.Barrier(20)

        def attempt():
            with httpx.Client(base_url=srv.url, timeout=60) as c:
                go.wait()
                r = login(c, name, "wrong horse")
            with lock:
                statuses.append(r.status_code)

        threads = [threading.Thread(target=attempt) for _ in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        check(sorted(statuses) == [401] * 10 + [429] * 10, str(sorted(statuses)))
        expect(login(srv.http, name, "correct horse"), 429, "rate_limited")
    finally:
        check(srv.stop() == 0)


def test_spraying_usernames_keeps_an_account_locked(tmp):
    """A table capped at 32 slots (24 windows): an account locked by 10
    failures stays locked while failed logins under 32 other usernames from
    four more addresses fill the table. Past the cap, new usernames share one
    window, so they are refused too (conservative) rather than unlocked; other
    classes (registration) keep working."""
    srv = Server(tmp, extra=("--register-limit", "40", "--set", "LADDER_CPU_SHARE=0",
                             "--rate-slots", "32"))
    sprayers = [client_from(srv, "127.0.0.%d" % a) for a in range(2, 6)]
    newcomer = client_from(srv, "127.0.0.9")
    try:
        victim, _ = register(srv)
        bystander, _ = register(srv)
        for _ in range(10):
            expect(login(srv.http, victim, "wrong horse"), 401, "bad_credentials")
        r = login(srv.http, victim, "correct horse")
        expect(r, 429, "rate_limited")
        first_retry = int(r.headers["retry-after"])
        statuses = []
        for i in range(32):
            r = sprayers[i % 4].post("/api/auth/login", json={"username": "spray%d" % i, "password": "wrong horse"})
            check(r.status_code in (401, 429), "spray %d: %d %s" % (i, r.status_code, r.text[:200]))
            statuses.append(r.status_code)
        # the table really filled: the last usernames shared the overflow window
        # (3 windows before, 4 addresses and 17 usernames fill the 24; 10 more
        # fill the overflow window, which then refuses)
        check(statuses[:17] == [401] * 17 and statuses[-1] == 429, str(statuses))
        r = login(srv.http, victim, "correct horse")
        expect(r, 429, "rate_limited")
        check(0 < int(r.headers["retry-after"]) <= first_retry, r.headers.get("retry-after"))
        # a victim's mixed-case name is the same account and the same lock
        expect(login(srv.http, victim.upper(), "correct horse"), 429, "rate_limited")
        # an account with no window of its own falls in the full class: refused
        expect(login(srv.http, bystander, "correct horse"), 429, "rate_limited")
        # registration is another class: a new address can still register
        expect(newcomer.post("/api/auth/register", json={"username": "newcomer", "password": "correct horse"}), 201)
    finally:
        for c in sprayers + [newcomer]:
            c.close()
        check(srv.stop() == 0)


def test_websocket_rate_refills(tmp):
    """60 messages a second: a steady 30 a second for 3 s (90 messages, more
    than one second's allowance) is all answered and the socket stays open;
    a burst of 100 then closes it with 1008 after an error rate_limited."""
    srv = Server(tmp)
    url = "ws://127.0.0.1:%d/ws" % srv.port

    async def run():
        async with websockets.connect(url, subprotocols=["coderally.v1"]) as ws:
            await ws.recv()  # hello
            start = time.monotonic()
            for i in range(90):
                await asyncio.sleep(max(0.0, start + i / 30 - time.monotonic()))
                await ws.send(json.dumps({"type": "ready"}))
                e = json.loads(await asyncio.wait_for(ws.recv(), 10))
                check(e["type"] == "error" and e["code"] == "not_in_race", "message %d: %s" % (i, e))
            check(time.monotonic() - start >= 2.9, "the steady phase ran too fast")
            codes = []
            try:
                for _ in range(100):
                    await ws.send(json.dumps({"type": "ready"}))
                while True:
                    codes.append(json.loads(await asyncio.wait_for(ws.recv(), 10)).get("code"))
            except websockets.exceptions.ConnectionClosed as e:
                check(e.rcvd and e.rcvd.code == 1008 and "rate_limited" in codes,
                      "closed with %s after %s" % (e.rcvd, codes))

    try:
        asyncio.run(run())
    finally:
        check(srv.stop() == 0)


TESTS = [test_login_limit_per_address, test_parallel_logins_count_before_their_answers,
         test_spraying_usernames_keeps_an_account_locked,
         test_websocket_rate_refills]


def main():
    return ts.run_own_tests(TESTS)


if __name__ == "__main__":
    sys.exit(main())
