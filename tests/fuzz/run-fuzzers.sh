#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds the libFuzzer targets with clang (ASan + UBSan + libFuzzer) in a
# build dir of their own and fuzzes each for SECONDS (default 60), then
# merges the inputs that reached new coverage into tests/fuzz/corpus/<target>.
#
#   tests/fuzz/run-fuzzers.sh [SECONDS] [TARGET...]
#
# Environment: HVK_FUZZ_BUILD (build dir, default SRCDIR/build-fuzz),
# HVK_FUZZ_JOBS (parallel fuzzing jobs per target, default 1), CC (default
# clang).  Crashes land in BUILD/fuzz-artifacts/<target>/, logs in
# BUILD/fuzz-logs/<target>.log (and .merge); the script exits 1 if any
# target failed.  Columns: executions, seconds, edges covered (cov),
# features (ft), corpus files after the merge.
# Needs clang and its runtimes (Debian: clang, libclang-rt-14-dev).
set -eu

srcdir=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-60}
[ $# -gt 0 ] && shift
targets=${*:-config device params verity qmp state}
build=${HVK_FUZZ_BUILD:-$srcdir/build-fuzz}
jobs=${HVK_FUZZ_JOBS:-1}

if [ ! -f "$build/build.ninja" ]; then
  CC=${CC:-clang} meson setup "$build" "$srcdir" \
    -Dfuzzing=true -De2e=false \
    -Db_sanitize=address,undefined -Db_lundef=false \
    -Dc_args=-fsanitize=fuzzer-no-link -Dc_link_args=-fsanitize=fuzzer-no-link
fi
set --
for t in $targets; do
  set -- "$@" "tests/fuzz/fuzz-$t"
done
ninja -C "$build" "$@"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$srcdir/tests/fuzz/lsan.supp}
# GSlice (GLib 2.74) hides leaked JsonNodes, GLists... from LSan; run with
# G_SLICE=always-malloc to see them (see README.md for what that reports).
export HVKIT_PLUGIN_SYSTEM_PATH=
export HVKIT_PLUGIN_PATH=

status=0
printf '%-8s %10s %8s %8s %8s %6s  %s\n' target execs seconds cov ft corpus result
for t in $targets; do
  corpus=$srcdir/tests/fuzz/corpus/$t
  new=$build/fuzz-new/$t
  artifacts=$build/fuzz-artifacts/$t/
  log=$build/fuzz-logs/$t.log
  mkdir -p "$new" "$artifacts" "$(dirname "$log")"
  result=ok
  parallel=
  [ "$jobs" -gt 1 ] && parallel="-jobs=$jobs -workers=$jobs"
  # New inputs go to $new (the first dir); the committed corpus is read only.
  # shellcheck disable=SC2086
  if ! (cd "$build" && "$build/tests/fuzz/fuzz-$t" -max_total_time="$seconds" -timeout=10 \
         -rss_limit_mb=2048 -max_len=8192 $parallel \
         -print_final_stats=1 -artifact_prefix="$artifacts" \
         "$new" "$corpus") >"$log" 2>&1; then
    result="FAILED (see $log, $artifacts)"
    status=1
  fi
  if [ "$jobs" -gt 1 ]; then cat "$build"/fuzz-*.log >>"$log" 2>/dev/null && rm -f "$build"/fuzz-*.log; fi
  # Keep only the inputs that add coverage to the committed corpus.
  "$build/tests/fuzz/fuzz-$t" -merge=1 -max_len=8192 "$corpus" "$new" >"$log.merge" 2>&1 || true
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | awk '{s+=$1} END {print s+0}')
  line=$(grep -E '^#[0-9]+.*(DONE|INITED|NEW|REDUCE|pulse)' "$log" | tail -1)
  cov=$(echo "$line" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
  ft=$(echo "$line" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
  printf '%-8s %10s %8s %8s %8s %6s  %s\n' "$t" "$execs" "$seconds" "${cov:-?}" "${ft:-?}" \
    "$(ls "$corpus" | wc -l)" "$result"
done
exit $status
