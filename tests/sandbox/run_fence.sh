#!/usr/bin/env bash
# The OS fence on its own: each snippet in DIR runs with FULL Python builtins
# inside a locked-down worker (coderally-botd --fence-test). Each must fail
# to escape: no "ESCAPED" line, the canary's secret never printed, and the
# worker ends as the snippet's "# expect-end:" line says (default: exit 0).
set -u
botd=$1 dir=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
secret="CANARY-$RANDOM$RANDOM$RANDOM"
echo "$secret" > "$tmp/secret.txt"
pass=0 fail=0
for f in "$dir"/*.py; do
    name=$(basename "$f")
    want=$(sed -n 's/^# expect-end: //p' "$f")
    want=${want:-exit 0}
    out=$("$botd" --fence-test "$f" "$tmp/secret.txt" 2>&1)
    ok=1
    grep -q ESCAPED <<<"$out" && ok=0
    grep -q "$secret" <<<"$out" && ok=0
    grep -qx "END $want" <<<"$out" || ok=0
    if [ $ok = 1 ]; then
        echo "ok   fence $name"; pass=$((pass + 1))
    else
        echo "FAIL fence $name (want END $want)"; echo "$out" | head -20; fail=$((fail + 1))
    fi
done
echo "$pass passed, $fail failed"
[ $fail = 0 ]
