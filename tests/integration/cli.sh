#!/usr/bin/env bash
# cli.sh - the coderally binary as users run it: races, JSON, stages, SVG,
# replays and their verification, and clear errors with non-zero exits for
# bad input. Usage: cli.sh PATH/TO/coderally [RELEASE_BUILD_DIR]
set -u
CR="$1"
RELEASE="${2:-}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }

# expect NAME STATUS PATTERN -- command...: exit status and stderr/stdout
expect() {
  local name="$1" want="$2" pattern="$3"
  shift 4
  local out
  out="$("$@" 2>&1)"
  local got=$?
  if [ "$got" -ne "$want" ]; then
    bad "$name (exit $got, wanted $want): $(echo "$out" | head -3)"
  elif [ -n "$pattern" ] && ! grep -qE -- "$pattern" <<<"$out"; then
    bad "$name (output lacks /$pattern/): $(echo "$out" | head -3)"
  else
    ok "$name"
  fi
}

json_field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# --- races -----------------------------------------------------------------
expect "race table" 0 "^1 +AI" -- "$CR" race --generator forest --seed 2 --ai 3
out="$("$CR" race --generator mountain --seed 4 --ai 4 --json)"
if [ "$(json_field 'len(d["results"])' <<<"$out")" = 4 ] &&
   [ "$(json_field 'd["generator"]+str(d["seed"])' <<<"$out")" = mountain4 ] &&
   [ "$(json_field 'all(r["kind"]=="ai" and r["dnf"] is False and r["time_s"]>0 for r in d["results"])' <<<"$out")" = True ] &&
   [ "$(json_field '[r["position"] for r in d["results"]]' <<<"$out")" = "[1, 2, 3, 4]" ]; then
  ok "race --json has the documented fields"
else
  bad "race --json: $out"
fi
# Times ascend with position.
if [ "$(json_field 'all(a["time_s"]<=b["time_s"] for a,b in zip(d["results"],d["results"][1:]))' <<<"$out")" = True ]; then
  ok "results ordered by time"
else
  bad "results ordered by time"
fi
# Same seed, same race.
h1="$("$CR" race --generator coast --seed 9 --ai 5 --json | json_field 'd["hash"]')"
h2="$("$CR" race --generator coast --seed 9 --ai 5 --json | json_field 'd["hash"]')"
[ "$h1" = "$h2" ] && ok "same seed, same hash" || bad "same seed, same hash ($h1 vs $h2)"
# Debug and Release builds give bit-identical races.
if [ -n "$RELEASE" ] && [ -x "$RELEASE/coderally" ]; then
  for g in forest coast mountain; do
    a="$("$CR" race --generator $g --seed 3 --ai 8 --json | json_field 'd["hash"]')"
    b="$("$RELEASE/coderally" race --generator $g --seed 3 --ai 8 --json | json_field 'd["hash"]')"
    [ "$a" = "$b" ] && ok "debug == release ($g)" || bad "debug != release ($g): $a vs $b"
  done
else
  bad "no release build given for the debug/release determinism check"
fi

# --- bad input -----------------------------------------------------------------
expect "unknown option" 2 "unknown option '--fast'" -- "$CR" race --fast
expect "missing value" 2 "needs a value" -- "$CR" race --seed
expect "bad seed" 2 "--seed must be a whole number" -- "$CR" race --seed -4
expect "seed not a number" 2 "--seed must be" -- "$CR" race --seed 12abc
expect "too many cars" 2 "--ai must be a whole number in 0..16" -- "$CR" race --ai 17
expect "too many bots+ai" 2 "1 to 16 cars" -- "$CR" race --ai 16 --bot x.py
expect "no cars" 2 "1 to 16 cars" -- "$CR" race --ai 0
expect "unknown generator" 1 "no stage generator 'moon'.*known: coast, forest, mountain" -- "$CR" race --generator moon
expect "unknown car" 1 "unknown car type 'tank'" -- "$CR" race --car tank --ai 1
expect "unknown rules" 1 "no rule set 'chaos'" -- "$CR" race --rules chaos --ai 1
expect "unknown param" 1 "has no parameter 'bogus'" -- "$CR" race --param bogus=1 --ai 1
expect "param out of range" 1 "must be a number in" -- "$CR" stage --generator forest --param corners=100000
expect "bad --set" 2 "takes KEY=VALUE" -- "$CR" race --set NOVALUE
expect "unknown setting" 1 "unknown setting 'TURBO'" -- "$CR" race --set TURBO=1
expect "fixed setting" 1 "fixed at 60" -- "$CR" race --set TICK_RATE=120
expect "env override" 1 "STAGE_MAX_LENGTH must be a number" -- env CODERALLY_STAGE_MAX_LENGTH=long "$CR" stage --list
expect "unknown command" 2 "unknown command" -- "$CR" fly
expect "bad scripts dir" 1 "config.lua" -- "$CR" stage --list --scripts "$TMP/nothing"
expect "bot-log without bots" 2 "needs at least one --bot" -- "$CR" race --bot-log "$TMP"

# --- a modder's own scripts --------------------------------------------------
cp -r "$ROOT/scripts" "$TMP/mod"
cat > "$TMP/mod/stages/broken.lua" <<'LUA'
return { name = "broken", version = "1",
  generate = function(seed, params)
    return { points = {}, checkpoints = {} }
  end,
  this is not lua
LUA
expect "stage --list names generators" 0 "coast.*" -- "$CR" stage --list --scripts "$TMP/mod"
expect "stage --list flags a broken one" 0 "broken +BROKEN: .*broken.lua:5" -- "$CR" stage --list --scripts "$TMP/mod"
expect "broken generator refused" 1 "broken.lua:5" -- "$CR" stage --generator broken --scripts "$TMP/mod"
cat > "$TMP/mod/stages/tiny.lua" <<'LUA'
return { name = "tiny", version = "1", description = "too short",
  generate = function(seed, params)
    local pts = {}
    for i = 0, 100 do pts[#pts + 1] = { x = i * 2, y = 0, width = 12, surface = "asphalt" } end
    return { points = pts, checkpoints = { 50 } }
  end }
LUA
expect "invalid stage named" 1 "tiny.lua:2: generate\(seed=1\) returned an invalid stage: stage length 200.0" -- "$CR" stage --generator tiny --scripts "$TMP/mod"
expect "stage --list prints parameters" 0 "--param corners=18 +\(6\.\.30\) +number of corners" -- "$CR" stage --list --scripts "$TMP/mod"
# Tables whose every metamethod errors, returned where the host reads them.
EVIL='local function boom() error("metamethod ran") end
local evil = setmetatable({}, {__index = boom, __newindex = boom, __len = boom, __pairs = boom,
  __eq = boom, __tostring = boom, __concat = boom, __call = boom})'
printf '%s\nreturn evil\n' "$EVIL" > "$TMP/mod/stages/evil.lua"
expect "stage --list survives an evil generator" 0 "evil +BROKEN: stages/evil.lua: field 'name' must be a string" -- "$CR" stage --list --scripts "$TMP/mod"
expect "stage --list lists the others" 0 "forest +v1" -- "$CR" stage --list --scripts "$TMP/mod"
printf '%s\nreturn { name = "evil", countdown_s = 0, time_limit_s = 60, on_checkpoint = function() return evil end }\n' "$EVIL" > "$TMP/mod/rules/evil.lua"
expect "evil rules abort the race with file:line" 1 "rules/evil.lua:4: on_checkpoint must return a penalty" -- "$CR" race --rules evil --ai 1 --scripts "$TMP/mod"
printf 'return { name = "oops", countdown_s = 0, time_limit_s = 60 }\n' > "$TMP/mod/rules/named.lua"
expect "rules name must match its file" 1 "rules/named.lua: name 'oops' must match the file name 'named'" -- "$CR" race --rules named --ai 1 --scripts "$TMP/mod"
cat > "$TMP/mod/stages/bomb.lua" <<'LUA'
return { name = "bomb", version = "1",
  generate = function()
    return string.find(string.rep("a", 30000), ".-.-.-.-b")
  end }
LUA
expect "pattern bomb fails fast" 1 "stages/bomb.lua:3: string.find on 30000 bytes .*instruction budget" -- "$CR" stage --generator bomb --scripts "$TMP/mod"
rm -f "$TMP/mod/stages/evil.lua" "$TMP/mod/stages/bomb.lua"

# stage --watch: renders, reports a broken edit once and keeps the picture,
# picks up a good edit, and stops cleanly on SIGINT.
cp -r "$ROOT/scripts" "$TMP/w"
"$CR" stage --watch forest --svg "$TMP/w.svg" --scripts "$TMP/w" > "$TMP/watch.out" 2>&1 &
wpid=$!
wait_for() { # PATTERN: up to 30 s for the watcher's output to show it
  for _ in $(seq 150); do grep -qE -- "$1" "$TMP/watch.out" && return 0; sleep 0.2; done
  return 1
}
wait_for "^watching" || bad "watch starts: $(cat "$TMP/watch.out")"
echo 'return {' > "$TMP/w/stages/forest.lua"
wait_for "kept the last good scripts" && ok "watch reports a broken edit" || bad "watch reports a broken edit: $(cat "$TMP/watch.out")"
grep -q "stages/forest.lua:2:" "$TMP/watch.out" && ok "watch names file and line" || bad "watch names file and line"
sed 's/width = { default = 9.5/width = { default = 10.5/' "$ROOT/scripts/stages/forest.lua" > "$TMP/w/stages/forest.lua"
wait_for "^reloaded" && ok "watch picks up a good edit" || bad "watch picks up a good edit: $(cat "$TMP/watch.out")"
for _ in $(seq 150); do [ "$(grep -c '^wrote' "$TMP/watch.out")" -ge 2 ] && break; sleep 0.2; done
kill -INT "$wpid"
wait "$wpid"
wst=$?
[ "$wst" -eq 0 ] && grep -q "^stopped" "$TMP/watch.out" && ok "watch stops on SIGINT" || bad "watch stops on SIGINT (exit $wst)"
[ "$(grep -c '^wrote' "$TMP/watch.out")" -eq 2 ] && [ "$(grep '^wrote' "$TMP/watch.out" | cut -d' ' -f8 | sort -u | wc -l)" -eq 2 ] &&
  ok "watch rendered twice, differently" || bad "watch rendered twice, differently: $(cat "$TMP/watch.out")"
expect "watch needs --svg" 2 "--watch NAME takes --svg" -- "$CR" stage --watch forest
echo 'return { name = "bad", countdown_s = 3, time_limit_s = function() error("no limit for you") end }' > "$TMP/mod/rules/bad.lua"
expect "broken rules refused" 1 "bad.lua:1: no limit for you" -- "$CR" race --rules bad --ai 1 --scripts "$TMP/mod"
echo 'return {' > "$TMP/mod/config.lua"
expect "broken config refused" 1 "config.lua" -- "$CR" race --ai 1 --scripts "$TMP/mod"

# --- stages and SVG -------------------------------------------------------------
for g in forest coast mountain; do
  expect "stage $g svg" 0 "wrote" -- "$CR" stage --generator $g --seed 11 --svg "$TMP/$g.svg"
  if grep -q "</svg>" "$TMP/$g.svg" && grep -q "FINISH" "$TMP/$g.svg" &&
     python3 -c "import xml.dom.minidom,sys; xml.dom.minidom.parse(sys.argv[1])" "$TMP/$g.svg"; then
    ok "stage $g svg is well-formed XML"
  else
    bad "stage $g svg is well-formed XML"
  fi
done
expect "stage json" 0 '"length": ' -- "$CR" stage --generator coast --seed 2 --json
expect "svg to a bad path" 1 "No such file" -- "$CR" stage --generator coast --svg /nonexistent/x.svg

# --- replays ---------------------------------------------------------------------
expect "race with replay" 0 "" -- "$CR" race --generator forest --seed 5 --ai 4 --replay "$TMP/r.replay"
expect "replay verify" 0 "OK, [0-9]+ hashes" -- "$CR" replay verify "$TMP/r.replay"
expect "replay info" 0 "generator forest v1, seed 5" -- "$CR" replay info "$TMP/r.replay"
lines="$("$CR" replay export "$TMP/r.replay" --every 60 | wc -l)"
[ "$lines" -gt 10 ] && ok "replay export" || bad "replay export ($lines lines)"
# Flip one input byte well into the race: verification names a tick.
python3 - "$TMP/r.replay" "$TMP/t.replay" <<'PY'
import sys
data = bytearray(open(sys.argv[1], 'rb').read())
# Find an input record ('I', tick u32, car, throttle, brake, steer, flags)
# past tick 1200 and change its steering.
i = data.find(b'I', 200)
while i >= 0:
    tick = int.from_bytes(data[i+1:i+5], 'little')
    if 1200 < tick < 100000 and data[i+5] < 16:
        data[i+8] = (data[i+8] + 60) % 256
        break
    i = data.find(b'I', i + 1)
open(sys.argv[2], 'wb').write(data)
PY
expect "tampered replay mismatch" 3 "MISMATCH at tick [0-9]+" -- "$CR" replay verify "$TMP/t.replay"
head -c 100 "$TMP/r.replay" > "$TMP/cut.replay"
expect "truncated replay" 1 "not a valid replay" -- "$CR" replay verify "$TMP/cut.replay"
expect "missing replay" 1 "No such file" -- "$CR" replay verify "$TMP/none.replay"
# A generator that changed since the recording is detected.
cp -r "$ROOT/scripts" "$TMP/mod2"
sed -i 's/^    generate = generate,/    generate = function(seed, params) return generate(seed + 1, params) end,/' \
  "$TMP/mod2/stages/forest.lua"
"$CR" race --generator forest --seed 5 --ai 2 --replay "$TMP/m.replay" >/dev/null 2>&1
expect "changed generator refused" 1 "the stage differs from the recorded one" -- \
  "$CR" replay verify "$TMP/m.replay" --scripts "$TMP/mod2"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
