#!/usr/bin/env bash
# The tracking benchmark of docs/BENCHMARKS.md (issue 4), end to end, on this machine:
#   1. builds trackhouse and track_bench in a Release tree (build-bench/);
#   2. starts `trackhouse serve` (default durability: every acknowledged request fdatasync'ed)
#      and Debian's clickhouse-server on free loopback ports, each in a temporary directory;
#   3. trackhouse: single-event POST /track requests over keep-alive connections as fast as
#      they are answered (closed loop; the server's CPU time per request and the mean
#      fdatasync time too), then at half that rate (fixed rate, latency from the scheduled send
#      time), then closed loop over WIDE_CONNECTIONS, then 1,000-row NDJSON batches; rows per
#      log sync from /metrics;
#   4. ClickHouse, same generator and rows: single-row INSERTs into a Buffer table, 1,000-row
#      INSERTs into the MergeTree table, then single-row INSERTs into it;
#   5. prints one JSON line per step (also in $OUT/results.jsonl).
# The load generator runs on the same two cores as the server, as the issue asks.
#
# usage: bench/track/run.sh
# environment: SECONDS_PER_STEP (10), CONNECTIONS (64), WIDE_CONNECTIONS (256), SKIP_BUILD=1,
#              JOBS (2), OUT (build-bench/track-results)
set -euo pipefail
export LC_ALL=C

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BUILD="$ROOT/build-bench"
STEP="${SECONDS_PER_STEP:-10}"
CONNECTIONS="${CONNECTIONS:-64}"
WIDE_CONNECTIONS="${WIDE_CONNECTIONS:-256}"
JOBS="${JOBS:-2}"
OUT="${OUT:-$BUILD/track-results}"

if [[ -z "${SKIP_BUILD:-}" ]]; then
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  ninja -C "$BUILD" -j"$JOBS" trackhouse track_bench
fi
TRACKHOUSE="$BUILD/trackhouse"
GEN="$BUILD/bench/track_bench"
rm -rf "$OUT"
mkdir -p "$OUT"
RESULTS="$OUT/results.jsonl"

# shellcheck source=bench/clickhouse_server.sh
source "$ROOT/bench/clickhouse_server.sh"
WORK="$(mktemp -d /tmp/trackhouse-track.XXXXXX)"
TH_PID=""
cleanup() {
  bench_stop_pid "$TH_PID"
  ch_stop
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== machine: $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
th_start "$WORK/trackhouse"
th_metric() { curl -sS "http://127.0.0.1:$TH_PORT/metrics" | awk -v n="$1" '$1 == n { print $2 }'; }
th_q "CREATE TABLE entityMetricEvents (entityType LowCardinality(String), entityId Int32,
  userId Int32, metricType LowCardinality(String), metricValue Int32,
  createdAt DateTime64(3) DEFAULT now64())
  ENGINE = MergeTree() ORDER BY (entityType, entityId, createdAt)"

mkdir -p "$WORK/clickhouse"
ch_start "$WORK/clickhouse"
# 18.16 takes LowCardinality only with its experimental setting, given with the statement.
curl -sS --fail-with-body \
  "http://127.0.0.1:$CH_HTTP_PORT/?allow_experimental_low_cardinality_type=1" --data-binary \
  "CREATE TABLE entityMetricEvents (entityType LowCardinality(String), entityId Int32,
  userId Int32, metricType LowCardinality(String), metricValue Int32,
  createdAt DateTime DEFAULT now())
  ENGINE = MergeTree() ORDER BY (entityType, entityId, createdAt)"
ch_q "CREATE TABLE entityMetricEvents_buffer AS entityMetricEvents
  ENGINE = Buffer(default, entityMetricEvents, 16, 10, 100, 10000, 1000000, 10000000, 100000000)"
echo "== trackhouse $("$TRACKHOUSE" --version) on $TH_PORT; ClickHouse $(ch_q 'SELECT version()') on $CH_HTTP_PORT"

run() {  # run NAME PORT TARGET ARGS...: one generator step, its JSON line kept
  local name="$1" port="$2" target="$3"
  shift 3
  "$GEN" --name "$name" --port "$port" --target "$target" --seconds "$STEP" "$@" | tee -a "$RESULTS"
}
TRACK=/track/entityMetricEvents
CH_INSERT="/?query=$(python3 -c 'import urllib.parse,sys; print(urllib.parse.quote(sys.argv[1]))' \
  'INSERT INTO entityMetricEvents FORMAT JSONEachRow')"
CH_BUFFER="/?query=$(python3 -c 'import urllib.parse,sys; print(urllib.parse.quote(sys.argv[1]))' \
  'INSERT INTO entityMetricEvents_buffer FORMAT JSONEachRow')"

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }  # user + system, clock ticks
echo "== trackhouse: single events, closed loop, $CONNECTIONS connections"
syncs0="$(th_metric trackhouse_log_syncs_total)"
records0="$(th_metric trackhouse_log_records_total)"
sync_s0="$(th_metric trackhouse_log_sync_duration_seconds_sum)"
cpu0="$(cpu_ticks "$TH_PID")"
line="$(run trackhouse "$TH_PORT" "$TRACK" --mode max --connections "$CONNECTIONS")"
cpu1="$(cpu_ticks "$TH_PID")"
syncs1="$(th_metric trackhouse_log_syncs_total)"
records1="$(th_metric trackhouse_log_records_total)"
sync_s1="$(th_metric trackhouse_log_sync_duration_seconds_sum)"
# The closed loop's rate is bounded by the connections over the time a request waits for its
# sync (about two fdatasyncs): the mean fdatasync time says how busy the disk was.
sync_ms="$(python3 -c 'import sys; print(round((float(sys.argv[2]) - float(sys.argv[1])) * 1000 / max(1, int(sys.argv[3])), 3))' \
  "$sync_s0" "$sync_s1" "$((syncs1 - syncs0))")"
echo "{\"bench\":\"track_syncs\",\"server\":\"trackhouse\",\"syncs\":$((syncs1 - syncs0)),\"records\":$((records1 - records0)),\"fdatasync_ms_mean\":$sync_ms}" | tee -a "$RESULTS"
# The server's CPU time per request of the closed-loop step (the generator's is not in it).
python3 -c 'import json,sys
line, ticks, hz = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
print(json.dumps({"bench": "track_cpu", "server": "trackhouse", "cpu_seconds": ticks / hz,
                  "cpu_us_per_request": round(ticks / hz * 1e6 / max(1, line["requests"]), 1)},
                 separators=(",", ":")))' "$line" "$((cpu1 - cpu0))" "$(getconf CLK_TCK)" |
  tee -a "$RESULTS"
max_rps="$(python3 -c 'import json,sys; print(int(json.loads(sys.argv[1])["requests_per_s"]))' "$line")"
half=$((max_rps / 2))
echo "== trackhouse: single events at a fixed $half requests/s (half the closed-loop rate)"
run trackhouse "$TH_PORT" "$TRACK" --mode rate --rate "$half" --connections "$CONNECTIONS"
# With more connections a group commit carries more requests, so the rate depends less on how
# long an fdatasync takes on this (shared) disk and more on the CPU.
echo "== trackhouse: single events, closed loop, $WIDE_CONNECTIONS connections"
syncs0="$(th_metric trackhouse_log_syncs_total)"
run trackhouse "$TH_PORT" "$TRACK" --mode max --connections "$WIDE_CONNECTIONS"
syncs1="$(th_metric trackhouse_log_syncs_total)"
echo "{\"bench\":\"track_syncs\",\"server\":\"trackhouse-wide\",\"syncs\":$((syncs1 - syncs0))}" | tee -a "$RESULTS"
echo "== trackhouse: 1,000-row NDJSON batches, 4 connections"
syncs0="$(th_metric trackhouse_log_syncs_total)"
run trackhouse "$TH_PORT" "$TRACK" --mode max --connections 4 --rows 1000
syncs1="$(th_metric trackhouse_log_syncs_total)"
echo "{\"bench\":\"track_syncs\",\"server\":\"trackhouse-batches\",\"syncs\":$((syncs1 - syncs0))}" | tee -a "$RESULTS"

echo "== ClickHouse: single-row INSERTs into a Buffer table, closed loop, $CONNECTIONS connections"
run clickhouse-buffer "$CH_HTTP_PORT" "$CH_BUFFER" --mode max --connections "$CONNECTIONS"
echo "== ClickHouse: 1,000-row INSERTs into the MergeTree table, 4 connections"
run clickhouse-mergetree "$CH_HTTP_PORT" "$CH_INSERT" --mode max --connections 4 --rows 1000
# Last: thousands of one-row parts slow every later insert into the table.
echo "== ClickHouse: single-row INSERTs into the MergeTree table, $CONNECTIONS connections"
run clickhouse-mergetree "$CH_HTTP_PORT" "$CH_INSERT" --mode max --connections "$CONNECTIONS" || true
echo "== results in $RESULTS"
