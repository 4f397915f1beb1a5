#!/usr/bin/env bash
# bot_coders.sh - what a bot coder sees from `coderally race` and
# `coderally tournament` (issue 9): bot errors on stderr once each with a
# count, errors in the log past the print cap, a CPU timeout naming its line,
# DNF reasons in --json, one log per car, --memory across races with the
# stage's identity, tournaments on 2 jobs and the paired comparison.
# Usage: bot_coders.sh PATH/TO/coderally
set -u
CR="$1"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }
py() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# --- errors: a division by zero on every tick -------------------------------
cat >"$TMP/div.py" <<'EOF'
class Bot:
    def on_tick(self, state):
        x = 0
        return {"throttle": 1 / x}
EOF
"$CR" race --seed 2 --ai 1 --bot "$TMP/div.py" --json >"$TMP/div.json" 2>"$TMP/div.err"
errors=$(py 'd["results"][[r["name"] for r in d["results"]].index("div")]["bot"]["errors"]' <"$TMP/div.json")
check "error every tick counted in --json" '[ "$errors" -gt 100 ]'
check "first occurrence printed once (bot, tick, line, cause)" \
  '[ "$(grep -c "^div (car 1): tick 0: on_tick: line 4 in on_tick: ZeroDivisionError" "$TMP/div.err")" = 1 ]'
check "repeats counted in one summary line" \
  'grep -q "ZeroDivisionError: division by zero (tick 0), $((errors - 1)) more like it" "$TMP/div.err" &&
   [ "$(grep -c ZeroDivisionError "$TMP/div.err")" = 2 ]'
check "--json lists the distinct error with its count" \
  '[ "$(py "[(e[\"first_tick\"], e[\"count\"]) for r in d[\"results\"] if \"bot\" in r for e in r[\"bot\"][\"error_list\"]]" <"$TMP/div.json")" = "[(0, $errors)]" ]'
keys=$(py '",".join(k for k in ("late","skipped","unavailable") if all(k in r["bot"] for r in d["results"] if "bot" in r))' <"$TMP/div.json")
check "--json has late, skipped, unavailable per bot" '[ "$keys" = "late,skipped,unavailable" ]'

# --- a bot that prints ~11 MB still has its error in the log -----------------
cat >"$TMP/chatty.py" <<'EOF'
class Bot:
    def __init__(self):
        self.n = 0
    def on_tick(self, state):
        self.n += 1
        print("x" * 10000)
        if self.n == 1100:
            return {"throttle": 1 / 0}
        return {"throttle": 0.0}
EOF
"$CR" race --seed 2 --ai 1 --bot "$TMP/chatty.py" --bot-log "$TMP/chatty" >/dev/null 2>&1
log="$TMP/chatty/car1-chatty.log"
check "print cap reached in the log" 'grep -q "log truncated" "$log"'
check "the error is in the log past the cap" \
  'sed -n "/log truncated/,\$p" "$log" | grep -q "1 times: on_tick: line 8 in on_tick: ZeroDivisionError"'

# --- a CPU timeout names the line that was running ---------------------------
cat >"$TMP/spin.py" <<'EOF'
class Bot:
    def __init__(self):
        self.t = 0
    def spin(self):
        n = 0
        while True:
            n += 1
    def on_tick(self, state):
        self.t += 1
        if self.t == 3:
            self.spin()
        return {}
EOF
"$CR" race --seed 2 --ai 1 --bot "$TMP/spin.py" >/dev/null 2>"$TMP/spin.err"
check "timeout names its line" 'grep -qE "^spin \(car 1\): tick [0-9]+: on_tick: CPU budget of [0-9.]+ ms exceeded at line [67] in spin$" "$TMP/spin.err"'

# --- DNF reasons and one log per car -----------------------------------------
mkdir -p "$TMP/a" "$TMP/b"
printf 'class Bot:\n    def on_tick(self, state):\n        return {}\n' >"$TMP/a/my_bot.py"
printf 'class Bot:\n    def __init__(self):\n        x = (\n' >"$TMP/b/my_bot.py"
"$CR" race --seed 3 --ai 1 --bot "$TMP/a/my_bot.py" --bot "$TMP/b/my_bot.py" --bot-log "$TMP/logs" \
  --json >"$TMP/dnf.json" 2>"$TMP/dnf.err"
check "race goes on when a bot does not load" '[ $? = 0 ] || [ -s "$TMP/dnf.json" ]'
reasons=$(py '";".join("%s|%s|%s" % (r["name"], r["dnf_reason"], r["dnf_detail"]) for r in d["results"])' <"$TMP/dnf.json")
check "DNF reason: stalled" 'grep -q "my_bot|stalled|None" <<<"$reasons"'
check "DNF reason: retired, bot failed to load with its line" \
  'grep -q "my_bot|retired|bot failed to load: line 3: SyntaxError" <<<"$reasons"'
check "finisher has no DNF reason" 'grep -q "AI 1|None|None" <<<"$reasons"'
check "load failure on stderr" 'grep -q "my_bot (car 2): did not load" "$TMP/dnf.err"'
check "same-name bots get separate logs" '[ -f "$TMP/logs/car1-my_bot.log" ] && [ -f "$TMP/logs/car2-my_bot.log" ] &&
  grep -q SyntaxError "$TMP/logs/car2-my_bot.log" && ! grep -q SyntaxError "$TMP/logs/car1-my_bot.log"'
"$CR" race --seed 3 --ai 1 --bot "$TMP/a/my_bot.py" --bot "$TMP/b/my_bot.py" >"$TMP/dnf.txt" 2>/dev/null
check "table shows the DNF reason" 'grep -q "retired: bot failed to load: line 3" "$TMP/dnf.txt" && grep -q "stalled" "$TMP/dnf.txt"'

# --- memory across races, kept per stage --------------------------------------
cat >"$TMP/mem.py" <<'EOF'
class Bot:
    def __init__(self):
        self.memory["runs"] = self.memory.get("runs", 0) + 1
        self.memory["stage"] = self.stage
    def on_tick(self, state):
        return {"throttle": 0.5}
EOF
M="$TMP/memory.json"
"$CR" race --seed 4 --ai 1 --bot "$TMP/mem.py" --memory "$M" >/dev/null 2>&1
check "memory saved after the first race" '[ "$(py "d[\"mem\"][\"runs\"]" <"$M")" = 1 ]'
"$CR" race --seed 4 --ai 1 --bot "$TMP/mem.py" --memory "$M" --json >"$TMP/mem.json" 2>/dev/null
check "memory loaded and counter incremented" '[ "$(py "d[\"mem\"][\"runs\"]" <"$M")" = 2 ]'
hash=$("$CR" stage --generator forest --seed 4 --json | py 'd["hash"]')
stage=$(py '"%s %s %s" % (d["mem"]["stage"]["generator"], d["mem"]["stage"]["seed"], d["mem"]["stage"]["params"])' <"$M")
shash=$(py 'd["mem"]["stage"]["hash"]' <"$M")
check "self.stage carries generator, seed, params" '[ "$stage" = "forest 4 {}" ]'
check "self.stage hash is the stage hash" '[ ${#shash} = 16 ] && [ "$shash" = "$hash" ]'
"$CR" race --seed 5 --ai 1 --bot "$TMP/mem.py" --memory "$M" >/dev/null 2>&1
check "another stage, another hash" '[ "$(py "d[\"mem\"][\"stage\"][\"hash\"]" <"$M")" != "$shash" ] && [ "$(py "d[\"mem\"][\"runs\"]" <"$M")" = 3 ]'
cp "$M" "$TMP/mem.before"
printf '{"mem": {"runs": 1}, ' >"$TMP/bad.json"
cp "$TMP/bad.json" "$TMP/bad.before"
"$CR" race --seed 4 --ai 1 --bot "$TMP/mem.py" --memory "$TMP/bad.json" >/dev/null 2>"$TMP/bad.err"
rc=$?
check "bad memory JSON: clear error, exit 1, nothing changed" \
  '[ $rc = 1 ] && grep -q "not valid JSON" "$TMP/bad.err" && cmp -s "$TMP/bad.json" "$TMP/bad.before"'
echo '{"mem": [1]}' >"$TMP/bad2.json"
"$CR" race --seed 4 --ai 1 --bot "$TMP/mem.py" --memory "$TMP/bad2.json" >/dev/null 2>"$TMP/bad2.err"
check "memory entry not an object refused" '[ $? = 1 ] && grep -q "must be an object" "$TMP/bad2.err"'
check "no temporary file left" '[ -z "$(ls "$TMP" | grep "memory.json.tmp")" ]'

# --- tournaments ---------------------------------------------------------------
T="$ROOT/botsandbox/templates/checkpoint_follower.py"
"$CR" tournament --bot "$T" --seeds 1..3 --jobs 2 --ai 1 --generator forest --generator mountain \
  --json >"$TMP/t.json" 2>"$TMP/t.err"
rc=$?
check "tournament runs on 2 jobs" '[ $rc = 0 ] && [ "$(py "d[\"races\"], d[\"jobs\"], d[\"failed\"]" <"$TMP/t.json")" = "6 2 0" ]'
check "summary reports late replies and timeouts" '[ "$(py "all(k in r for r in d[\"summary\"] for k in (\"errors\", \"timeouts\", \"late\"))" <"$TMP/t.json")" = True ]'
check "summary per generator" '[ "$(py "[(r[\"generator\"], r[\"races\"]) for r in d[\"summary\"]]" <"$TMP/t.json")" = "[('"'"'forest'"'"', 3), ('"'"'mountain'"'"', 3)]" ]'
check "finish rate, mean position, mean time" \
  '[ "$(py "all(0 <= r[\"finish_rate\"] <= 1 and 1 <= r[\"mean_position\"] <= 2 and (r[\"mean_time_s\"] or 1) > 0 for r in d[\"summary\"])" <"$TMP/t.json")" = True ]'
check "progress lines off a terminal" 'grep -q "^tournament: 6/6 races$" "$TMP/t.err"'
"$CR" tournament --bot "$T" --seeds 1..3 --jobs 1 --ai 1 --generator forest --generator mountain \
  --json >"$TMP/t1.json" 2>/dev/null
# Races are deterministic unless a bot was late or ran out of CPU (a loaded
# machine under ASan): then, and only then, may the two runs differ.
same=$(python3 - "$TMP/t.json" "$TMP/t1.json" <<'PY'
import json, sys
a, b = (json.load(open(p))["summary"] for p in sys.argv[1:3])
key = lambda rows: [(r["generator"], r["races"], r["finished"], r["mean_position"], r["mean_time_s"]) for r in rows]
noisy = any(r["late"] or r["timeouts"] for r in a + b)
print("yes" if key(a) == key(b) or noisy else "no")
PY
)
check "same summary on 1 job (unless a bot was late)" '[ "$same" = yes ]'

mkdir -p "$TMP/slow"
sed 's/"throttle": 1.0/"throttle": 0.6/' "$T" >"$TMP/slow/checkpoint_follower.py"
"$CR" tournament --compare "$T" "$TMP/slow/checkpoint_follower.py" --seeds 1..4 --jobs 2 --ai 1 \
  --json >"$TMP/c.json" 2>/dev/null
check "comparison finds the slower bot" \
  '[ "$(py "d[\"compare\"][\"significant\"], d[\"compare\"][\"mean_diff_s\"] < 0, d[\"compare\"][\"ci95\"][1] < 0, d[\"compare\"][\"a_wins\"]" <"$TMP/c.json")" = "True True True 4" ]'
check "verdict names the faster one with the interval" \
  'py "d[\"compare\"][\"verdict\"]" <"$TMP/c.json" | grep -qE "^templates/checkpoint_follower.py is faster by [0-9.]+ s per stage \(95% CI [0-9.]+-[0-9.]+\), 4 of 4 seeds"'
"$CR" tournament --compare "$T" "$T" --seeds 1..3 --jobs 2 --ai 1 >"$TMP/same.txt" 2>/dev/null
check "a bot against itself: no significant difference" 'grep -q "^no significant difference" "$TMP/same.txt"'

# --- bad flags -----------------------------------------------------------------
expect2() {
  local name="$1" pattern="$2"
  shift 2
  local out
  out="$("$@" 2>&1)"
  local rc=$?
  if [ $rc = 2 ] && grep -qE -- "$pattern" <<<"$out"; then ok "$name"; else bad "$name (exit $rc): $out"; fi
}
expect2 "tournament: no bots" "nothing to race" "$CR" tournament
expect2 "tournament: --jobs 0" "--jobs" "$CR" tournament --bot "$T" --jobs 0
expect2 "tournament: empty seed range" "range is empty" "$CR" tournament --bot "$T" --seeds 5..1
expect2 "tournament: bad seeds" "--seeds" "$CR" tournament --bot "$T" --seeds x..3
expect2 "tournament: --compare needs two" "two bot files" "$CR" tournament --compare "$T"
expect2 "tournament: --bot with --compare" "do not mix" "$CR" tournament --bot "$T" --compare "$T" "$T"
expect2 "tournament: unknown flag" "unknown option" "$CR" tournament --bot "$T" --fast
expect2 "race: --memory without bots" "needs at least one --bot" "$CR" race --memory "$TMP/x.json"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
