#!/usr/bin/env bash
# The tracking benchmark's load, run briefly by ctest to check correctness only (no timing is
# asserted: figures come from bench/track/run.sh). Starts `trackhouse serve` on a free loopback
# port in a temporary directory with default durability, creates the guide's table, then runs
# track_bench's three loads for one second each: single events closed loop, single events at a
# fixed rate, 100-row NDJSON batches. Each load must end without a single failed request, and
# afterwards the table must hold exactly the rows the generator saw acknowledged: none lost,
# none twice. Then the server is SIGKILLed under the closed-loop load (single events over
# keep-alive connections, served by the io threads) and restarted on its data: every row
# acknowledged before the kill must be there, and at most one more per connection (a request
# whose rows were stored but whose answer the kill cut off).
#
# Usage: smoke_test.sh path/to/trackhouse path/to/track_bench
set -euo pipefail
export LC_ALL=C

TRACKHOUSE="${1:?usage: smoke_test.sh path/to/trackhouse path/to/track_bench}"
GEN="${2:?usage: smoke_test.sh path/to/trackhouse path/to/track_bench}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/th_track_smoke.XXXXXX")"
PID=""
cleanup() {
  if [[ -n "$PID" ]] && kill -0 "$PID" 2>/dev/null; then kill -KILL "$PID" 2>/dev/null; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
start_server() {
  "$TRACKHOUSE" serve --data "$WORK/data" --listen "127.0.0.1:$PORT" >>"$WORK/server.log" 2>&1 &
  PID=$!
  for i in $(seq 1 300); do
    curl -sf "http://127.0.0.1:$PORT/ping" >/dev/null 2>&1 && break
    if ! kill -0 "$PID" 2>/dev/null || [[ $i -eq 300 ]]; then
      echo "FAIL: trackhouse serve did not start"
      tail -n 20 "$WORK/server.log"
      exit 1
    fi
    sleep 0.1
  done
}
start_server
q() { curl -sS --fail-with-body "http://127.0.0.1:$PORT/" --data-binary "$1"; }
q "CREATE TABLE entityMetricEvents (entityType LowCardinality(String), entityId Int32,
  userId Int32, metricType LowCardinality(String), metricValue Int32,
  createdAt DateTime64(3) DEFAULT now64())
  ENGINE = MergeTree() ORDER BY (entityType, entityId, createdAt)"

acknowledged=0
load() {  # load NAME ARGS...: one generator run; adds its acknowledged rows
  local name="$1"
  shift
  local line
  if ! line="$("$GEN" --port "$PORT" --seconds 1 "$@")"; then
    echo "FAIL: $name: the generator saw failed requests: $line"
    exit 1
  fi
  local rows
  rows="$(sed -n 's/.*"rows_acknowledged":\([0-9]*\).*/\1/p' <<<"$line")"
  if [[ -z "$rows" || "$rows" -eq 0 ]]; then
    echo "FAIL: $name: no acknowledged rows: $line"
    exit 1
  fi
  echo "PASS: $name: $rows rows acknowledged ($line)"
  acknowledged=$((acknowledged + rows))
}
load "single events, closed loop" --mode max --connections 16
load "single events, fixed rate" --mode rate --rate 500 --connections 8
load "100-row batches" --mode max --connections 2 --rows 100

stored="$(q 'SELECT count() FROM entityMetricEvents')"
if [[ "$stored" -ne "$acknowledged" ]]; then
  echo "FAIL: $acknowledged rows acknowledged, $stored stored"
  exit 1
fi
echo "PASS: the table holds exactly the $stored acknowledged rows"

# SIGKILL under load: the generator fails (the connections drop) but reports what it saw
# acknowledged before.
KILL_CONNECTIONS=16
"$GEN" --port "$PORT" --seconds 3 --mode max --connections "$KILL_CONNECTIONS" \
  >"$WORK/kill_load.json" 2>/dev/null &
GEN_PID=$!
sleep 1.3
kill -KILL "$PID"
wait "$PID" 2>/dev/null || true
PID=""
wait "$GEN_PID" || true
line="$(cat "$WORK/kill_load.json")"
killed_acks="$(sed -n 's/.*"rows_acknowledged":\([0-9]*\).*/\1/p' <<<"$line")"
if [[ -z "$killed_acks" || "$killed_acks" -eq 0 ]]; then
  echo "FAIL: no rows acknowledged before the SIGKILL: $line"
  exit 1
fi
start_server
stored="$(q 'SELECT count() FROM entityMetricEvents')"
at_least=$((acknowledged + killed_acks))
at_most=$((at_least + KILL_CONNECTIONS))
if [[ "$stored" -lt "$at_least" || "$stored" -gt "$at_most" ]]; then
  echo "FAIL: after the SIGKILL: $at_least rows acknowledged, $stored stored (at most $at_most)"
  exit 1
fi
echo "PASS: after a SIGKILL under load ($killed_acks rows acknowledged in it) the restarted server holds $stored rows: every acknowledged one"
kill -TERM "$PID"
wait "$PID" || { echo "FAIL: trackhouse serve did not stop cleanly"; exit 1; }
PID=""
