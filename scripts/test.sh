#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test with ctest (its summary is printed).
# The exit code is ctest's. Extra arguments go to ctest (e.g. -R server_test).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/setup.sh
source scripts/setup.sh
th_setup
set +e
ctest --test-dir "$BUILD_DIR" --output-on-failure -j2 "$@"
status=$?
exit $status
