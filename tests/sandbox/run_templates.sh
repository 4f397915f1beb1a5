#!/usr/bin/env bash
# Every starter template finishes every shipped generator's stage (two
# seeds) with no bot error or timeout, next to a built-in AI; a template
# race replays to the same hash; --bot-log writes the log; `bot check`
# passes the templates and lists a bad file's problems with line numbers.
set -u
coderally=$1 root=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
result() {
    if [ "$1" = 0 ]; then echo "ok   $2"; pass=$((pass + 1)); else echo "FAIL $2"; fail=$((fail + 1)); fi
}
check_json() {
    python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
bots = [r for r in d["results"] if r["kind"] == "bot"]
assert bots, "no bot in the results"
for r in bots:
    assert r["time_s"] is not None and not r["dnf"], "bot did not finish"
    assert r["bot"]["errors"] == 0 and r["bot"]["timeouts"] == 0, r["bot"]
    assert r["bot"]["calls"] > 100, r["bot"]
print(d["hash"])
' "$1"
}
for t in "$root"/botsandbox/templates/*.py; do
    tn=$(basename "$t" .py)
    "$coderally" bot check "$t" >/dev/null
    result $? "bot check $tn"
    for g in "$root"/scripts/stages/*.lua; do
        gn=$(basename "$g" .lua)
        for seed in 1 2; do
            "$coderally" race --generator "$gn" --seed "$seed" --ai 1 --bot "$t" --json \
                >"$tmp/r.json" 2>"$tmp/err" && check_json "$tmp/r.json" >"$tmp/h1" 2>>"$tmp/err"
            rc=$?
            [ $rc = 0 ] || cat "$tmp/err"
            result $rc "template $tn finishes $gn seed $seed"
        done
    done
done
# Determinism: the same race twice gives the same final hash.
t="$root/botsandbox/templates/checkpoint_follower.py"
"$coderally" race --generator forest --seed 5 --ai 1 --bot "$t" --bot "$t" --json >"$tmp/a.json" &&
"$coderally" race --generator forest --seed 5 --ai 1 --bot "$t" --bot "$t" --json >"$tmp/b.json" &&
[ "$(check_json "$tmp/a.json")" = "$(check_json "$tmp/b.json")" ]
result $? "a race of template bots replays to the same hash"
# Logs.
printf 'class Bot:\n    def on_tick(self, state):\n        print("hello", state["tick"])\n        return {"throttle": 1.0}\n' >"$tmp/hello.py"
"$coderally" race --generator forest --seed 1 --bot "$tmp/hello.py" --bot-log "$tmp/logs" >/dev/null 2>&1
grep -q "^hello " "$tmp"/logs/*.log
result $? "--bot-log writes the bot's prints"
# bot check on a bad file: problems with line numbers, non-zero exit.
printf 'import os\nclass Bot:\n    def on_tick(self, state):\n        return state.__class__\n' >"$tmp/bad.py"
out=$("$coderally" bot check "$tmp/bad.py")
rc=$?
[ $rc != 0 ] && grep -q "bad.py:1: import of \"os\"" <<<"$out" && grep -q "bad.py:4: " <<<"$out"
result $? "bot check lists problems as FILE:LINE: message"
echo "$pass passed, $fail failed"
[ $fail = 0 ]
