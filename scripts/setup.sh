#!/usr/bin/env bash
# Shared set-up of run.sh and test.sh: installs the Debian bookworm packages trackhouse needs
# (only those missing; `apt-get update` only when something is missing), then configures and
# builds build/ with Ninja (RelWithDebInfo). Idempotent: a second run only rebuilds what changed.
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
  libcurl4-openssl-dev liblz4-dev libzstd-dev libxxhash-dev
  libgtest-dev libgmock-dev libbenchmark-dev zlib1g-dev
  clang libclang-rt-14-dev
  clickhouse-server clickhouse-client curl python3
)

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
  th_build
}

# Run directly: do the whole set-up.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  th_setup
fi
