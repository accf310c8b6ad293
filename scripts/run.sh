#!/usr/bin/env bash
# Installs what is missing, builds, and starts trackhouse in embedded mode with its data in
# ./data, listening on 127.0.0.1:8124 (override: ./scripts/run.sh --listen 0.0.0.0:8124 ...;
# every argument is passed to `trackhouse serve`). Stop it with Ctrl-C (SIGINT) or SIGTERM.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/setup.sh
source scripts/setup.sh
th_setup
exec "$BUILD_DIR/trackhouse" serve --data ./data "$@"
