#!/usr/bin/env bash
# The query benchmark of docs/BENCHMARKS.md (issue 3), end to end, on this machine:
#   1. builds trackhouse and query_bench in a Release tree (build-bench/);
#   2. generates the rows once (query_bench --emit-data: JSONEachRow, createdAt DateTime over
#      180 days), kept in build-bench/query-data/ for later runs;
#   3. starts `trackhouse serve` and Debian's clickhouse-server on free loopback ports, each in
#      a temporary directory, creates the same table in both (createdAt DateTime: 18.16 has no
#      DateTime64);
#   4. loads each server in turn over HTTP in 100k-row JSONEachRow batches on one keep-alive
#      connection (timed), then OPTIMIZE TABLE ... FINAL until one active part is left;
#   5. checks that both servers give the same answers to Q1-Q5 (queries_clickhouse.sql), then
#      times them over one keep-alive connection each, FORMAT JSONEachRow, max_threads=2;
#   6. stops both servers, then runs DuckDB in-process (duckdb/run.mjs, `npm ci` first) on the
#      same file, in arrival order and sorted by the table key;
#   7. prints the summary table (report.py), also written to $OUT/summary.md.
#
# usage: bench/query/run.sh
# environment: ROWS (10000000), RUNS (21), WARMUP (3), JOBS (2, ninja -j), OUT
#              (build-bench/query-results), SKIP_DUCKDB=1, SKIP_BUILD=1, TRACKHOUSE (the
#              binary to serve with, default build-bench/trackhouse)
set -euo pipefail
export LC_ALL=C

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BUILD="$ROOT/build-bench"
ROWS="${ROWS:-10000000}"
RUNS="${RUNS:-21}"
WARMUP="${WARMUP:-3}"
JOBS="${JOBS:-2}"
OUT="${OUT:-$BUILD/query-results}"
TABLE=entityMetricEvents
# Every step is bounded; a step that runs longer has hung.
STEP_TIMEOUT=1800

for tool in curl python3 node npm cmake ninja; do
  command -v "$tool" >/dev/null || { echo "run.sh: needs $tool" >&2; exit 1; }
done

if [[ -z "${SKIP_BUILD:-}" ]]; then
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  ninja -C "$BUILD" -j"$JOBS" trackhouse query_bench
fi
TRACKHOUSE="${TRACKHOUSE:-$BUILD/trackhouse}"
QUERY_BENCH="$BUILD/bench/query_bench"

# Rows: generated once per row count (the generator is deterministic), again when the
# generator was rebuilt since.
DATA_DIR="$BUILD/query-data"
DATA="$DATA_DIR/rows-$ROWS.json"
mkdir -p "$DATA_DIR"
if [[ ! -s "$DATA" || "$QUERY_BENCH" -nt "$DATA" ]]; then
  "$QUERY_BENCH" --emit-data "$DATA.tmp" --rows "$ROWS"
  mv "$DATA.tmp" "$DATA"
fi

rm -rf "$OUT"
mkdir -p "$OUT"
RESULTS="$OUT/results.jsonl"
ANSWERS="$OUT/answers"

# shellcheck source=bench/clickhouse_server.sh
source "$ROOT/bench/clickhouse_server.sh"
WORK="$(mktemp -d /tmp/trackhouse-query.XXXXXX)"
TH_PID=""
th_stop() {
  bench_stop_pid "$TH_PID"
  TH_PID=""
}
cleanup() {
  th_stop
  ch_stop
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
ram="$(awk '/MemTotal/ { printf "%.1f GiB RAM", $2 / 1048576 }' /proc/meminfo)"
LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
echo "== machine: $(nproc) cores, $cpu, $ram; load average $LOAD_START"

# trackhouse: default options (durable inserts: every INSERT is fdatasync'ed before its reply).
TH_PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
mkdir -p "$WORK/trackhouse"
"$TRACKHOUSE" serve --data "$WORK/trackhouse/data" --listen "127.0.0.1:$TH_PORT" \
  >"$WORK/trackhouse/server.log" 2>&1 &
TH_PID=$!
TH_URL="http://127.0.0.1:$TH_PORT/"
for i in $(seq 1 300); do
  if curl -sf "${TH_URL}ping" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$TH_PID" 2>/dev/null || [[ $i -eq 300 ]]; then
    echo "trackhouse serve did not start:" >&2
    tail -n 30 "$WORK/trackhouse/server.log" >&2
    exit 1
  fi
  sleep 0.1
done
th_q() { curl -sS --fail-with-body "$TH_URL" --data-binary "$1"; }

mkdir -p "$WORK/clickhouse"
ch_start "$WORK/clickhouse"
CH_VERSION="$(ch_q 'SELECT version()')"
TH_VERSION="$("$TRACKHOUSE" --version)"
echo "== $TH_VERSION on port $TH_PORT; ClickHouse $CH_VERSION on port $CH_HTTP_PORT"

DDL="CREATE TABLE $TABLE (entityType LowCardinality(String), entityId Int32, userId Int32,
  metricType LowCardinality(String), metricValue Int32, createdAt DateTime)
  ENGINE = MergeTree() ORDER BY (entityType, entityId, createdAt)"
th_q "$DDL"
ch_q "$DDL"

# optimize NAME Q-FUNCTION: OPTIMIZE FINAL until one active part is left (a merge running in
# the background makes OPTIMIZE a no-op on the parts it holds); records the time.
optimize() {
  local name="$1" q="$2" parts="" t0 t1
  t0="$EPOCHREALTIME"
  for _ in $(seq 1 100); do
    "$q" "OPTIMIZE TABLE $TABLE FINAL"
    parts="$("$q" "SELECT count() FROM system.parts
      WHERE active AND database = 'default' AND table = '$TABLE'")"
    [[ "$parts" == 1 ]] && break
    sleep 0.2
  done
  t1="$EPOCHREALTIME"
  if [[ "$parts" != 1 ]]; then
    echo "run.sh: $name still has $parts active parts after OPTIMIZE FINAL" >&2
    exit 1
  fi
  local seconds
  seconds="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')"
  echo "optimize $name: OPTIMIZE TABLE $TABLE FINAL -> 1 active part in $seconds s"
  printf '{"bench":"optimize","server":"%s","seconds":%s}\n' "$name" "$seconds" >>"$RESULTS"
}

echo "== ingest: $ROWS rows from $DATA, 100k-row JSONEachRow batches, one keep-alive connection"
# One server at a time, each optimized before the next loads: no merge of one server runs
# while the other is timed.
timeout "$STEP_TIMEOUT" "$QUERY_BENCH" --server "trackhouse=$TH_PORT" --ingest "$DATA" \
  --results "$RESULTS"
optimize trackhouse th_q
timeout "$STEP_TIMEOUT" "$QUERY_BENCH" --server "clickhouse=$CH_HTTP_PORT" --ingest "$DATA" \
  --results "$RESULTS"
optimize clickhouse ch_q

echo "== queries over HTTP: answers compared, then $WARMUP warm-up + $RUNS timed runs each"
QUERIES_STATUS=0
timeout "$STEP_TIMEOUT" "$QUERY_BENCH" --server "clickhouse=$CH_HTTP_PORT" \
  --server "trackhouse=$TH_PORT" --queries "$HERE/queries_clickhouse.sql" \
  --warmup "$WARMUP" --runs "$RUNS" --answers-dir "$ANSWERS" \
  --mismatch-log "$OUT/mismatches.md" --results "$RESULTS" || QUERIES_STATUS=$?

th_stop
ch_stop

if [[ -z "${SKIP_DUCKDB:-}" ]]; then
  echo "== DuckDB in-process (@duckdb/node-api)"
  (cd "$HERE/duckdb" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  timeout "$STEP_TIMEOUT" node "$HERE/duckdb/run.mjs" --data "$DATA" --dir "$WORK/duckdb" \
    --queries "$HERE/queries_duckdb.sql" --threads 2 --warmup "$WARMUP" --runs "$RUNS" \
    --answers "$ANSWERS" --results "$RESULTS"
fi

echo "== summary"
python3 "$HERE/report.py" --results "$RESULTS" --answers "$ANSWERS" \
  --machine "$(nproc) cores, $cpu, $ram; load average $LOAD_START at the start, \
$(cut -d' ' -f1-3 /proc/loadavg) at the end" --versions "$TH_VERSION; ClickHouse $CH_VERSION" \
  | tee "$OUT/summary.md"
if [[ "$QUERIES_STATUS" != 0 ]]; then
  echo "run.sh: some queries failed or gave different answers: $OUT/mismatches.md" >&2
  exit 1
fi
