#!/usr/bin/env bash
# A reproducer of a known, open finding (tests/fuzz/pending/TARGET/FILE) in
# code another change owns. Passes while the input still makes the fuzzer
# report; fails once it runs clean, so the fix is noticed and the file moves
# into the corpus, where it guards against the bug coming back.
#   pending.sh FUZZER FILE
set -uo pipefail
bin=$1 file=$2
name=$(basename "$bin")
if [ ! -x "$bin" ]; then
  echo "pending.sh: $bin is not built; run 'make fuzz-build'" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
opts=$(grep -v '^#' "$here/$name.options" 2>/dev/null || true)
opts=${opts//@here@/$here}
# A target that turns the per-input leak check off turns off the one at exit.
case "$opts" in *-detect_leaks=0*) export ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 ;; esac
# shellcheck disable=SC2086
"$bin" $opts -timeout=10 -error_exitcode=77 -timeout_exitcode=78 "$file" >/dev/null 2>&1
status=$?
if [ $status -eq 0 ]; then
  echo "pending.sh: $file no longer reproduces: the bug is fixed." >&2
  echo "  git mv $file tests/fuzz/corpus/$name/" >&2
  exit 1
fi
echo "pending.sh: $file still reproduces (exit $status): known, see docs/FUZZING.md"
