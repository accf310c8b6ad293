#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test with ctest (its summary is printed),
# after the fuzzers in CI (below). The exit code is ctest's, or the fuzz run's when ctest
# passed. Extra arguments go to ctest (e.g. -R server_test).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/setup.sh
source scripts/setup.sh
th_setup
# In CI (CI=true) or with FUZZ=1: build the libFuzzer targets with clang and run each for
# FUZZ_SECONDS (default 60) before the unit tests; a developer's run skips it. A failed fuzz
# run fails the script, and is said before ctest's summary, which stays last.
fuzz_status=0
if [[ "${CI:-}" == "true" || "${FUZZ:-0}" == "1" ]]; then
  fuzz_start=$(date +%s)
  ./fuzz/run.sh || fuzz_status=$?
  echo "test: fuzzing took $(($(date +%s) - fuzz_start)) s"
  if [[ $fuzz_status -ne 0 ]]; then
    echo "test: FUZZING FAILED (fuzz/run.sh exit $fuzz_status): see the crash inputs above"
  fi
fi
set +e
ctest --test-dir "$BUILD_DIR" --output-on-failure -j2 "$@"
status=$?
if [[ $status -eq 0 ]]; then status=$fuzz_status; fi
exit $status
