#!/usr/bin/env bash
# Surfaces as data, end to end through the real binary and the sandbox: a
# scripts copy adds `sand` in surfaces.lua and a generator that lays it;
# rally.surfaces names it; `stage --json` lists the table, the SVG draws sand's colour, a bot sees
# the name "sand" (its own surface and the pace notes) and predict() runs
# sand's physics; an AI finishes on it; a replay recorded with the sand
# table verifies, and stops verifying once surfaces.lua changes.
# Usage: run_surfaces.sh PATH/TO/coderally REPO_ROOT
set -u
coderally=$1 root=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
result() {
    if [ "$1" = 0 ]; then echo "ok   $2"; pass=$((pass + 1)); else echo "FAIL $2"; fail=$((fail + 1)); fi
}

cp -r "$root/scripts" "$tmp/s"
sed -i 's/^}$/    surface { name = "sand", grip = 0.80, drag = 0.04, top_speed = 0.60, colour = "#e0c070" },\n}/' \
    "$tmp/s/surfaces.lua"
cat >"$tmp/s/stages/sandy.lua" <<'LUA'
return {
    name = "sandy", version = "1", description = "A gentle curve; sand after the grid.",
    params = {},
    generate = function(seed, p)
        assert(#rally.surfaces == 4 and rally.surfaces[4] == "sand", "rally.surfaces lacks sand")
        local pts, x, y, h = {}, 0, 0, 0
        for i = 0, 700 do
            pts[#pts + 1] = { x = x, y = y, width = 14, surface = i < 60 and "asphalt" or "sand" }
            if i > 200 and i < 260 then h = h + 0.01 end
            x, y = x + 2 * math.cos(h), y + 2 * math.sin(h)
        end
        return { points = pts, checkpoints = { 300, 500 } }
    end,
}
LUA

"$coderally" stage --generator sandy --seed 1 --json --scripts "$tmp/s" >"$tmp/st.json" 2>"$tmp/err"
python3 - "$tmp/st.json" <<'PY' 2>>"$tmp/err"
import json, sys
d = json.load(open(sys.argv[1]))
names = [s["name"] for s in d["surface_table"]]
assert names == ["asphalt", "gravel", "ice", "offroad", "sand"], names
sand = d["surface_table"][4]
assert (sand["grip"], sand["drag"], sand["top_speed"], sand["colour"]) == (0.8, 0.04, 0.6, "#e0c070"), sand
assert [s["verge"] for s in d["surface_table"]] == [False, False, False, True, False]
assert d["surfaces"]["sand"] > 1000 and d["surfaces"]["asphalt"] < 200, d["surfaces"]
PY
rc=$?
[ $rc = 0 ] || cat "$tmp/err"
result $rc "stage --json lists the table with sand"

"$coderally" stage --generator sandy --seed 1 --svg "$tmp/sandy.svg" --scripts "$tmp/s" >/dev/null 2>&1 &&
    grep -q 'stroke="#e0c070"' "$tmp/sandy.svg"
result $? "the SVG draws sand in its colour"

cat >"$tmp/sandbot.py" <<'PY'
import coderally

class Bot:
    def __init__(self):
        self.seen = {}
        self.noted = {}
        self.predicted = False
        print("SURFACES", ",".join(coderally.SURFACES))

    def on_tick(self, state):
        s = state["surface"]
        if s not in self.seen:
            self.seen[s] = 1
            print("surface", s)
        for n in state["pace"]:
            if n["surface"] not in self.noted:
                self.noted[n["surface"]] = 1
                print("pace note surface", n["surface"])
        if s == "sand" and not self.predicted and state["speed"] > 5:
            self.predicted = True
            p = coderally.predict(state, {"throttle": 1.0}, 600)
            print("predicted surface", p["surface"], "speed", round(p["speed"], 1))
            q = dict(state)
            q["surface"] = "asphalt"
            a = coderally.predict(q, {"throttle": 1.0}, 600)
            print("sand slower", p["speed"] < 0.7 * a["speed"])
        return {"throttle": 1.0, "steer": 0.0}
PY
"$coderally" race --generator sandy --seed 1 --ai 1 --bot "$tmp/sandbot.py" --bot-log "$tmp/logs" \
    --scripts "$tmp/s" --replay "$tmp/sand.replay" --json >"$tmp/r.json" 2>"$tmp/err"
rc=$?
log=$(cat "$tmp"/logs/*.log 2>/dev/null)
[ $rc = 0 ] && grep -q "^surface sand" <<<"$log" && grep -q "^surface asphalt" <<<"$log" &&
    grep -q "^pace note surface sand" <<<"$log" &&
    grep -q "^SURFACES asphalt,gravel,ice,offroad,sand$" <<<"$log"
rc=$?
[ $rc = 0 ] || { cat "$tmp/err"; echo "$log" | head; }
result $rc "a bot sees the name sand"
grep -q "^predicted surface sand" <<<"$log" && grep -q "^sand slower True" <<<"$log"
result $? "predict() on sand uses sand's physics"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
ai = [r for r in d["results"] if r["kind"] == "ai"]
assert ai and ai[0]["time_s"] is not None and not ai[0]["dnf"], ai
' "$tmp/r.json" 2>>"$tmp/err"
result $? "the AI finishes on sand"

"$coderally" replay verify "$tmp/sand.replay" --scripts "$tmp/s" >/dev/null 2>&1
result $? "a replay with the sand table verifies"
sand_hash=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["surfaces_hash"])' "$tmp/st.json")
"$coderally" replay info "$tmp/sand.replay" | grep -q "surfaces $sand_hash\$"
result $? "replay info shows the recorded surfaces hash"
sed -i 's/top_speed = 0.60/top_speed = 0.62/' "$tmp/s/surfaces.lua"
out=$("$coderally" replay verify "$tmp/sand.replay" --scripts "$tmp/s" 2>&1)
[ $? = 1 ] && grep -q "surfaces.lua changed since the recording" <<<"$out"
result $? "a changed surfaces.lua is detected by replay verify"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
