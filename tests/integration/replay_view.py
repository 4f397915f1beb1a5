#!/usr/bin/env python3
"""`coderally replay view FILE`: a local server that serves that one file at
/api/replays/local, prints the viewer's URL, stops cleanly on SIGINT and
leaves no database behind; a file that is not a replay is refused before
anything starts; a plain `coderally serve` serves no local replay.

usage: replay_view.py CODERALLY_BINARY   (the browser side is in web/e2e/run.js)
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

BIN = os.path.abspath(sys.argv[1])


def wait_url(proc, out_path):
    for _ in range(150):
        with open(out_path) as f:
            m = re.search(r"open (http://\S+)", f.read())
        if m:
            return m.group(1)
        assert proc.poll() is None, f"exited {proc.returncode}: {open(out_path).read()}"
        time.sleep(0.1)
    raise AssertionError("no URL printed in 15 s")


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def main():
    with tempfile.TemporaryDirectory() as tmp:
        rep = os.path.join(tmp, "a.replay")
        subprocess.run([BIN, "race", "--generator", "forest", "--seed", "3", "--ai", "2",
                        "--replay", rep], check=True, stdout=subprocess.DEVNULL)
        want = open(rep, "rb").read()

        out = os.path.join(tmp, "out.txt")
        with open(out, "w") as fo:
            p = subprocess.Popen([BIN, "replay", "view", rep], stdout=fo, stderr=subprocess.STDOUT)
        url = wait_url(p, out)
        assert url.endswith("/#/replays?src=local"), url
        port = int(re.search(r"localhost:(\d+)/", url).group(1))
        status, body = get(f"http://127.0.0.1:{port}/api/replays/local")
        assert status == 200 and body == want, (status, len(body), len(want))
        db = re.search(r"database ([^\s,]+)", open(out).read()).group(1)
        assert os.path.exists(db), db
        p.send_signal(signal.SIGINT)
        assert p.wait(timeout=20) == 0, open(out).read()
        assert not os.path.exists(os.path.dirname(db)), "the temporary database was left behind"

        bad = os.path.join(tmp, "bad.replay")
        open(bad, "w").write("not a replay\n")
        r = subprocess.run([BIN, "replay", "view", bad], capture_output=True, text=True, timeout=20)
        assert r.returncode == 1 and "not a valid replay" in r.stderr, (r.returncode, r.stderr)
        r = subprocess.run([BIN, "replay", "view", os.path.join(tmp, "missing.replay")],
                           capture_output=True, text=True, timeout=20)
        assert r.returncode == 1 and r.stderr, (r.returncode, r.stderr)
        r = subprocess.run([BIN, "replay", "view"], capture_output=True, text=True, timeout=20)
        assert r.returncode == 2 and "needs a replay FILE" in r.stderr, (r.returncode, r.stderr)
        r = subprocess.run([BIN, "replay", "view", rep, "--port", "70000"], capture_output=True,
                           text=True, timeout=20)
        assert r.returncode == 2, (r.returncode, r.stderr)

        # A plain server has no local replay.
        out2 = os.path.join(tmp, "out2.txt")
        with open(out2, "w") as fo:
            s = subprocess.Popen([BIN, "serve", "--port", "0", "--host", "127.0.0.1", "--db",
                                  os.path.join(tmp, "s.db")], stdout=fo, stderr=subprocess.STDOUT)
        try:
            url = wait_url(s, out2)
            port = int(re.search(r"localhost:(\d+)/", url).group(1))
            status, body = get(f"http://127.0.0.1:{port}/api/replays/local")
            assert status == 404 and b"not_found" in body, (status, body)
        finally:
            s.send_signal(signal.SIGINT)
            s.wait(timeout=20)
    print("replay view: ok")


if __name__ == "__main__":
    main()
