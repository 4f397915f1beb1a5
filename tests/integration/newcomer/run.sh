#!/usr/bin/env bash
# The newcomer's bot, generator, surface and rules still work as the docs
# say (see README.md here). Usage: run.sh CODERALLY LUA5.4 CRHOST_DIR
set -euo pipefail
B=$1 LUA=$2 CRHOST_DIR=$3
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# The modder's folder: a copy of the shipped scripts plus the new files.
cp -r "$ROOT/scripts" "$TMP/scripts"
cp -r "$HERE/scripts/." "$TMP/scripts/"
S=$TMP/scripts

"$B" bot check "$HERE/newbie.py" >/dev/null || fail "bot check refuses newbie.py"
"$B" stage --list --scripts "$S" | grep -q '^dunes ' || fail "stage --list does not show dunes"
"$B" stage --generator dunes --seed 3 --json --scripts "$S" >"$TMP/stage.json"
python3 - "$TMP/stage.json" <<'PY' || fail "dunes stage has no sand or no surface table entry"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["generator"] == "dunes" and d["surfaces"]["sand"] > 0, d["surfaces"]
assert [s["name"] for s in d["surface_table"]][-1] == "sand", d["surface_table"]
PY
LUA_CPATH="$CRHOST_DIR/?.so;;" "$LUA" "$ROOT/tests/lua/stage_check.lua" "$S/stages/dunes.lua" 8 \
    >"$TMP/check.txt" 2>&1 || { cat "$TMP/check.txt"; fail "stage_check refuses dunes"; }

# This test backs "the docs are enough", not the bot's speed: the Debug
# build runs the worker under ASan, several times slower than Release, so the
# bot gets 5x the shipped CPU budget per tick rather than timing out on a
# loaded machine.
for g in forest coast mountain dunes; do
    for seed in 1 2 3 4 5; do
        rules=()
        [ "$g" = dunes ] && rules=(--rules clean)
        "$B" race --generator "$g" --seed "$seed" --ai 1 --bot "$HERE/newbie.py" "${rules[@]}" \
            --scripts "$S" --set BOT_EXECUTION_TIMEOUT_MS=50 --bot-log "$TMP/log-$g-$seed" \
            --json >"$TMP/r.json" ||
            fail "race $g seed $seed"
        python3 - "$TMP/r.json" "$g" "$seed" <<'PY' || fail "newbie did not finish $g seed $seed"
import json, sys
d = json.load(open(sys.argv[1]))
bot = [r for r in d["results"] if r["kind"] == "bot"][0]
st = bot["bot"]
assert not bot["dnf"] and bot["time_s"] is not None, bot
assert bot["checkpoints"] == d["checkpoints"], bot
assert st["errors"] == 0 and st["timeouts"] == 0 and st["restarts"] == 0, st
assert st["memory"]["runs"] == 1 and st["memory"]["best"] > 0, st["memory"]
if sys.argv[2] == "dunes":
    assert d["rules"] == "clean", d["rules"]
    pts = sorted(r["points"] for r in d["results"])
    assert pts == [18, 25], pts
PY
        grep -q '^finish ' "$TMP/log-$g-$seed/car1-newbie.log" || fail "no on_finish print in the log"
    done
done
grep -q 'unknown surface sand' "$TMP/log-dunes-1/car1-newbie.log" || fail "the bot never saw sand"
echo "newcomer: ok"
