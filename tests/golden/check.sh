#!/usr/bin/env bash
# Golden hashes: the stage hash of each shipped generator for several seeds
# and parameter sets, and a recorded AI race (its replay and final hash).
# They were recorded on one machine; the engine's math is its own
# (util/dmath) and script iteration is ordered, so every machine must
# reproduce them bit for bit. Any drift fails.
#
#   check.sh CODERALLY            compare (what `make test` runs)
#   check.sh CODERALLY --update   re-record after a deliberate change to the
#                                 engine, a generator or the rules; commit
#                                 the new files with that change and say why
set -euo pipefail
CR=$1
MODE=${2:-check}
HERE=$(cd "$(dirname "$0")" && pwd)
SCRIPTS=$HERE/../../scripts
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail=0

stage_line() { # GENERATOR SEED [KEY=VALUE...] -> "GENERATOR SEED [KEY=VALUE...] HASH"
    local gen=$1 seed=$2
    shift 2
    local args=() p
    for p in "$@"; do args+=(--param "$p"); done
    local out
    out=$("$CR" stage --scripts "$SCRIPTS" --generator "$gen" --seed "$seed" "${args[@]}") || {
        echo "FAIL: coderally stage $gen $seed $*" >&2
        return 1
    }
    local hash
    hash=$(sed -n 's/.*hash \([0-9a-f]\{16\}\).*/\1/p' <<<"$out" | head -1)
    echo "$gen $seed${*:+ $*} $hash"
}

race_hash() { # GENERATOR SEED AI REPLAY -> hash
    "$CR" race --scripts "$SCRIPTS" --generator "$1" --seed "$2" --ai "$3" --replay "$4" --json |
        sed -n 's/.*"hash": "\([0-9a-f]\{16\}\)".*/\1/p'
}

: >"$TMP/stages.txt"
while read -r kind rest; do
    case "$kind" in
        stage) stage_line $rest >>"$TMP/stages.txt" || fail=1 ;;
        race)
            set -- $rest
            echo "$1 $2 $3 $(race_hash "$1" "$2" "$3" "$TMP/race.replay")" >"$TMP/race.txt"
            ;;
    esac
done < <(grep -v '^#' "$HERE/cases.txt" | grep -v '^$')

if [ "$MODE" = --update ]; then
    cp "$TMP/stages.txt" "$TMP/race.txt" "$TMP/race.replay" "$HERE/"
    echo "re-recorded $(wc -l <"$HERE/stages.txt") stage hashes and the race in $HERE"
    exit $fail
fi

if diff -u "$HERE/stages.txt" "$TMP/stages.txt"; then
    echo "ok: $(wc -l <"$HERE/stages.txt") stage hashes match"
else
    echo "FAIL: stage hashes drifted (diff above: - recorded, + now)"
    fail=1
fi
if diff -u "$HERE/race.txt" "$TMP/race.txt"; then
    echo "ok: race hash matches ($(cat "$HERE/race.txt"))"
else
    echo "FAIL: the recorded race now ends in another state"
    fail=1
fi
# The recorded replay re-simulates to every hash it holds.
if "$CR" replay verify --scripts "$SCRIPTS" "$HERE/race.replay"; then
    echo "ok: recorded replay verifies"
else
    echo "FAIL: the recorded replay does not verify"
    fail=1
fi
exit $fail
