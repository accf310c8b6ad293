#!/usr/bin/env bash
# Shared set-up of run.sh and test.sh: installs the Debian bookworm packages trackhouse needs
# (only those missing; `apt-get update` only when something is missing), the npm packages of the
# client compatibility suite (tests/compat/node) and of clients/js (`npm ci` only when a lock file
# changed), then configures and builds build/ with Ninja (RelWithDebInfo). Idempotent: a second
# run only rebuilds what changed.
#
# Usage: scripts/setup.sh            (or `source scripts/setup.sh` from another script)
# Environment: BUILD_DIR (default build), BUILD_TYPE (default RelWithDebInfo),
#              JOBS (default: number of cores, at most 2 on a 2-core machine).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}"
JOBS="${JOBS:-$(nproc)}"

PACKAGES=(
  build-essential cmake ninja-build ccache g++ pkg-config
  libboost1.81-dev libsimdjson-dev libfmt-dev libspdlog-dev libcli11-dev libtomlplusplus-dev
  libcurl4-openssl-dev libssl-dev liblz4-dev libzstd-dev libxxhash-dev
  libgtest-dev libgmock-dev libbenchmark-dev zlib1g-dev
  clang libclang-rt-14-dev
  clickhouse-server clickhouse-client curl python3
  zookeeper  # ClickHouse's distributed DDL in the cluster tests (tests/clickhouse_cluster_test)
)
# Node.js and npm run tests/compat/node. A machine may have them from elsewhere already (a nodejs
# package that bundles npm and conflicts with Debian's npm): apt is asked only for what is missing.
command -v node >/dev/null 2>&1 || PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)

th_missing_packages() {
  local missing=()
  local p
  for p in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  echo "${missing[@]:-}"
}

th_install() {
  local missing
  missing="$(th_missing_packages)"
  if [[ -z "$missing" ]]; then
    echo "setup: all ${#PACKAGES[@]} packages are installed"
    return 0
  fi
  echo "setup: installing: $missing"
  local sudo=""
  if [[ "$(id -u)" != "0" ]]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update
  # shellcheck disable=SC2086
  $sudo apt-get install -y --no-install-recommends $missing
}

# `npm ci` in tests/compat/node (or the folder given) when node_modules is missing or
# package-lock.json changed since the last install (its hash is kept in
# node_modules/.trackhouse-lock-sha256).
th_node_deps() {
  local dir="${1:-$ROOT/tests/compat/node}"
  local stamp="$dir/node_modules/.trackhouse-lock-sha256"
  local want
  want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    return 0
  fi
  echo "setup: npm ci in ${dir#"$ROOT"/}"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$want" >"$stamp"
}

# `npm ci` in clients/js: the TypeScript compiler that builds @trackhouse/tracker for its tests.
th_client_js_deps() {
  th_node_deps "$ROOT/clients/js"
}

th_build() {
  local args=(-S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE")
  if [[ ! -f "$BUILD_DIR/build.ninja" ]]; then
    echo "setup: configuring $BUILD_DIR ($BUILD_TYPE)"
    cmake "${args[@]}"
  fi
  echo "setup: building with $JOBS jobs"
  cmake --build "$BUILD_DIR" -j "$JOBS"
}

th_setup() {
  th_install
  th_node_deps
  th_client_js_deps
  th_build
}

# Run directly: do the whole set-up.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  th_setup
fi
