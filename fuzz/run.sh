#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (build-fuzz/, -DTRACKHOUSE_FUZZ=ON) and runs each one
# for FUZZ_SECONDS over a copy of its committed seed corpus (fuzz/corpus/<target>/). New
# corpus entries go to the scratch copy only, never into the repository. Exits non-zero if
# any target crashed (ASan/UBSan report, failed oracle, leak, timeout or out-of-memory), after
# printing each crash input's path and its base64, so a CI log is enough to reproduce it:
#   base64 -d > crash.bin <<< '...'; build-fuzz/fuzz/<target> crash.bin
#
# Usage: fuzz/run.sh [target...]        (default: every target)
# Environment: FUZZ_SECONDS (default 60) per target; FUZZ_SEED (default 1; 0 = random);
#              FUZZ_BUILD_DIR (default build-fuzz);
#              FUZZ_WORK_DIR (default: a new temporary directory, kept when a target fails);
#              FUZZ_BUILD_ONLY=1 to stop after the build; JOBS (default: number of cores).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}"
SECONDS_PER_TARGET="${FUZZ_SECONDS:-60}"
JOBS="${JOBS:-$(nproc)}"

ALL_TARGETS=(
  sql_parser_fuzzer sql_expr_fuzzer
  format_json_each_row_fuzzer format_json_compact_each_row_fuzzer
  format_tab_separated_fuzzer format_tab_separated_with_names_fuzzer
  format_csv_fuzzer format_csv_with_names_fuzzer
  format_values_fuzzer format_row_binary_fuzzer
)
if [[ $# -gt 0 ]]; then TARGETS=("$@"); else TARGETS=("${ALL_TARGETS[@]}"); fi

build_start=$(date +%s)
if [[ ! -f "$BUILD_DIR/build.ninja" ]]; then
  echo "fuzz: configuring $BUILD_DIR with clang"
  CC=clang CXX=clang++ cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DTRACKHOUSE_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
echo "fuzz: building ${#TARGETS[@]} targets with $JOBS jobs"
cmake --build "$BUILD_DIR" -j "$JOBS" --target "${TARGETS[@]}"
echo "fuzz: build took $(($(date +%s) - build_start)) s"
if [[ "${FUZZ_BUILD_ONLY:-0}" == "1" ]]; then exit 0; fi

WORK="${FUZZ_WORK_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/trackhouse-fuzz.XXXXXX")}"
mkdir -p "$WORK"

# UB aborts (the build also uses -fno-sanitize-recover); leaks are crashes.
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

failed=()
summary=()
for target in "${TARGETS[@]}"; do
  seeds="$ROOT/fuzz/corpus/$target"
  if [[ ! -d "$seeds" ]]; then
    echo "fuzz: no seed corpus $seeds" >&2
    failed+=("$target")
    continue
  fi
  dir="$WORK/$target"
  rm -rf "$dir"
  mkdir -p "$dir/artifacts"
  cp -r "$seeds" "$dir/corpus"
  # A fixed seed (FUZZ_SEED, default 1) makes a run repeatable: CI explores the same inputs
  # each time, and a crash it reports reproduces. FUZZ_SEED=0 picks a random seed.
  args=(-max_total_time="$SECONDS_PER_TARGET" -timeout=25 -rss_limit_mb=2560 -max_len=8192
        -seed="${FUZZ_SEED:-1}" -print_final_stats=1 -artifact_prefix="$dir/artifacts/")
  if [[ "$target" == sql_* ]]; then args+=(-dict="$ROOT/fuzz/sql.dict"); fi
  echo "fuzz: $target for ${SECONDS_PER_TARGET} s ($(find "$seeds" -type f | wc -l) seeds)"
  set +e
  "$BUILD_DIR/fuzz/$target" "${args[@]}" "$dir/corpus" >"$dir/log" 2>&1
  rc=$?
  set -e
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
  if [[ $rc -eq 0 ]]; then
    summary+=("$(printf '  %-40s ok      %10s runs' "$target" "${runs:-?}")")
    continue
  fi
  failed+=("$target")
  summary+=("$(printf '  %-40s FAILED  (exit %d)' "$target" "$rc")")
  echo "fuzz: $target FAILED (exit $rc); its report ($dir/log):"
  # From the first line of the sanitizer's or the oracle's report on; else the log's end.
  report=$(awk '/^==[0-9]+==|^fuzz oracle failed|runtime error:|^ALARM:|out-of-memory|^INFO: a leak/ {p = 1} p' "$dir/log")
  if [[ -z "$report" ]]; then report=$(grep -v -e '^#[0-9]' -e 'NEW_FUNC' "$dir/log" | tail -60); fi
  printf '%s\n' "$report" | head -150
  shopt -s nullglob
  for crash in "$dir"/artifacts/*; do
    echo "fuzz: crash input $crash ($(stat -c %s "$crash") bytes), base64:"
    base64 -w 0 "$crash"
    echo
  done
  shopt -u nullglob
done

echo "fuzz: summary (${SECONDS_PER_TARGET} s per target, work dir $WORK)"
printf '%s\n' "${summary[@]}"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz: ${#failed[@]} target(s) failed: ${failed[*]}"
  exit 1
fi
if [[ -z "${FUZZ_WORK_DIR:-}" ]]; then rm -rf "$WORK"; fi
echo "fuzz: all ${#TARGETS[@]} targets passed"
