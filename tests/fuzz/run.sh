#!/usr/bin/env bash
# Runs one libFuzzer target for SECONDS on its seed corpus plus the corpus it
# grew in earlier runs (kept beside the binary, never in the repository).
# FUZZ_FRESH=1 (ctest) starts from the seeds only, so a run's length does
# not grow with the corpus.
# Exits non-zero on any finding (crash, sanitizer report, leak, timeout,
# out-of-memory); the input that caused it is left in the artifacts folder.
#   run.sh FUZZER SEED_CORPUS_DIR SECONDS
set -euo pipefail
bin=$1 seeds=$2 secs=$3
name=$(basename "$bin")
if [ ! -x "$bin" ]; then
  echo "run.sh: $bin is not built; run 'make fuzz-build'" >&2
  exit 2
fi
if [ -z "$(ls -A "$seeds" 2>/dev/null)" ]; then
  echo "run.sh: no seed corpus in $seeds" >&2
  exit 2
fi
dir=$(dirname "$bin")
grown=$dir/corpus/$name
if [ "${FUZZ_FRESH:-0}" = 1 ]; then
  grown=$(mktemp -d)
  trap 'rm -rf "$grown"' EXIT
fi
artifacts=$dir/artifacts/$name
mkdir -p "$grown" "$artifacts"
# The lib's leak check runs at exit too; Python keeps its interned objects
# until then, so the marshalling target reports only leaks per input.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
echo "run.sh: $name for ${secs}s on $seeds ($(ls "$seeds" | wc -l) seeds, $(ls "$grown" | wc -l) grown)"
# Per-target libFuzzer flags, with why, in tests/fuzz/NAME.options
# (@here@ is this folder).
here=$(cd "$(dirname "$0")" && pwd)
opts=$(grep -v '^#' "$here/$name.options" 2>/dev/null || true)
opts=${opts//@here@/$here}
# A target that turns the per-input leak check off turns off the one at exit.
case "$opts" in *-detect_leaks=0*) export ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 ;; esac
status=0
# shellcheck disable=SC2086
"$bin" $opts -max_total_time="$secs" -timeout=25 -rss_limit_mb=2048 -max_len=65536 \
  -print_final_stats=1 -error_exitcode=77 -timeout_exitcode=78 \
  -artifact_prefix="$artifacts/" "$grown" "$seeds" >"$dir/$name.log" 2>&1 || status=$?
tail -n 12 "$dir/$name.log"
if [ $status -ne 0 ]; then
  echo "run.sh: $name FOUND A PROBLEM (exit $status); full log $dir/$name.log, input in $artifacts/" >&2
  grep -m 40 -A 30 "ERROR\|runtime error\|libFuzzer: " "$dir/$name.log" >&2 || true
fi
exit $status
