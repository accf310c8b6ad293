#!/usr/bin/env bash
# The client library as an application gets it: installs the `client` component of a
# trackhouse build into a temporary prefix, builds examples/track_events against it with
# find_package(trackhouse), starts `trackhouse serve` on a free loopback port, creates the
# metrics guide's table, runs the example against the server and checks the rows arrived.
#
# Usage: run.sh BUILD_DIR SOURCE_DIR TRACKHOUSE_BINARY
set -euo pipefail

BUILD="${1:?usage: run.sh BUILD_DIR SOURCE_DIR TRACKHOUSE_BINARY}"
SRC="${2:?usage: run.sh BUILD_DIR SOURCE_DIR TRACKHOUSE_BINARY}"
BIN="${3:?usage: run.sh BUILD_DIR SOURCE_DIR TRACKHOUSE_BINARY}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/th_client_install.XXXXXX")"
SERVER_PID=""

cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

step() { echo "== $*"; }

step "install the client component into $WORK/prefix"
cmake --install "$BUILD" --component client --prefix "$WORK/prefix"
test -f "$WORK/prefix/include/trackhouse/tracker.h"
# The installed header stands alone: it includes nothing of the project's src/.
if grep -n '#include "' "$WORK/prefix/include/trackhouse/tracker.h" | grep -v '"trackhouse/'; then
  echo "tracker.h includes a header that is not installed"
  exit 1
fi

step "build examples/track_events against the installed package"
cmake -S "$SRC/examples/track_events" -B "$WORK/example" -G Ninja \
  -DCMAKE_PREFIX_PATH="$WORK/prefix" -DCMAKE_BUILD_TYPE=Release >"$WORK/configure.log" ||
  { cat "$WORK/configure.log"; exit 1; }
timeout 240 cmake --build "$WORK/example"

step "start trackhouse serve"
"$BIN" serve --data "$WORK/data" --listen 127.0.0.1:0 >"$WORK/serve.log" 2>"$WORK/serve.err" &
SERVER_PID=$!
URL=""
for _ in $(seq 1 200); do
  URL="$(sed -n 's/.*listening on \(http:\/\/[^ ]*\).*/\1/p' "$WORK/serve.log" | head -1)"
  [[ -n "$URL" ]] && break
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 0.05
done
if [[ -z "$URL" ]]; then
  echo "server did not start:"; cat "$WORK/serve.log" "$WORK/serve.err"
  exit 1
fi
echo "server at $URL"

query() { curl -sS --max-time 20 --fail-with-body "$URL/" --data-binary "$1"; }

step "create the guide's table"
query "CREATE TABLE entityMetricEvents (entityType LowCardinality(String), entityId Int32,
  userId Int32, metricType LowCardinality(String), metricValue Int32, createdAt DateTime64(3))
  ENGINE = MergeTree() ORDER BY (entityType, entityId, createdAt)"

step "run the example"
timeout 60 "$WORK/example/track_events" "$URL"

step "check the rows"
got="$(query "SELECT count(), countIf(metricType = 'View'), sum(metricValue), min(userId)
  FROM entityMetricEvents WHERE entityType = 'Model' FORMAT TabSeparated")"
expected="$(printf '5\t3\t5\t42')"
if [[ "$got" != "$expected" ]]; then
  echo "expected '$expected', got '$got'"
  exit 1
fi

step "stop the server"
kill -TERM "$SERVER_PID"
rc=0
timeout 30 tail --pid="$SERVER_PID" -f /dev/null || rc=$?
wait "$SERVER_PID" || rc=$?
SERVER_PID=""
if [[ $rc -ne 0 ]]; then
  echo "server exited with $rc"; cat "$WORK/serve.err"
  exit 1
fi
echo "PASS"
