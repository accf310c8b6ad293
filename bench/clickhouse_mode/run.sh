#!/usr/bin/env bash
# The ClickHouse-mode benchmark of docs/BENCHMARKS.md (issue 5), end to end, on this machine:
#   1. builds trackhouse and track_bench in the Release tree (build-bench/);
#   2. starts Debian's clickhouse-server on free loopback ports in a temporary directory;
#   3. baseline: the generator posts NDJSON batches straight into ClickHouse
#      (INSERT ... FORMAT JSONEachRow into the guide's MergeTree table) for the step's duration;
#   4. starts `trackhouse serve --clickhouse` in front of the same server (default durability:
#      every acknowledged batch fdatasync'ed in the spool) and creates the same table through it
#      (the guide's DDL; trackhouse adapts DateTime64 for 18.16);
#   5. posts the same batches to /track at a fixed rate (ClickHouse's JSONEachRow rate times
#      RATE_FACTOR), then as fast as trackhouse accepts them (closed loop), each for the same
#      duration, while
#      sampling trackhouse's delivery lag (the age of the oldest row not yet confirmed by
#      ClickHouse) every 100 ms; after each, waits until ClickHouse holds every acknowledged row,
#      checks that it holds no more, and reports the end-to-end rate: acknowledged rows / (load
#      time + time to drain the spool);
#   6. prints one JSON line per step (also in $OUT/results.jsonl).
# Generator, trackhouse and ClickHouse share the machine's two cores.
#
# usage: bench/clickhouse_mode/run.sh
# environment: SECONDS_PER_STEP (20), ROWS_PER_REQUEST (10000), CONNECTIONS (4), SKIP_BUILD=1,
#              BUILD (build-bench; a tree already configured when SKIP_BUILD=1), RATE_FACTOR (1.0:
#              the fixed-rate step offers this multiple of ClickHouse's JSONEachRow rate),
#              JOBS (2), OUT (build-bench/clickhouse-mode-results)
set -euo pipefail
export LC_ALL=C

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BUILD="${BUILD:-$ROOT/build-bench}"
STEP="${SECONDS_PER_STEP:-20}"
ROWS="${ROWS_PER_REQUEST:-10000}"
CONNECTIONS="${CONNECTIONS:-4}"
RATE_FACTOR="${RATE_FACTOR:-1.0}"
JOBS="${JOBS:-2}"
OUT="${OUT:-$BUILD/clickhouse-mode-results}"

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
WORK="$(mktemp -d /tmp/trackhouse-chmode.XXXXXX)"
TH_PID=""
SAMPLER_PID=""
cleanup() {
  [[ -n "$SAMPLER_PID" ]] && kill "$SAMPLER_PID" 2>/dev/null || true
  bench_stop_pid "$TH_PID"
  ch_stop
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_s() { python3 -c 'import time; print(f"{time.monotonic():.3f}")'; }
urlq() { python3 -c 'import urllib.parse,sys; print(urllib.parse.quote(sys.argv[1]))' "$1"; }

echo "== machine: $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
mkdir -p "$WORK/clickhouse"
ch_start "$WORK/clickhouse"
CH_VERSION="$(ch_q 'SELECT version()')"

# The guide's table as ClickHouse 18.16 takes it (no DateTime64 before 20.1), for the baseline.
ch_q "CREATE TABLE entityMetricEvents_direct (entityType LowCardinality(String), entityId Int32,
  userId Int32, metricType LowCardinality(String), metricValue Int32,
  createdAt DateTime DEFAULT now())
  ENGINE = MergeTree() ORDER BY (entityType, entityId, createdAt)"

echo "== ClickHouse $CH_VERSION: $ROWS-row JSONEachRow INSERTs, $CONNECTIONS connections, ${STEP}s"
"$GEN" --name clickhouse-jsoneachrow --port "$CH_HTTP_PORT" --seconds "$STEP" \
  --connections "$CONNECTIONS" --rows "$ROWS" --mode max \
  --target "/?$CH_SETTINGS&query=$(urlq 'INSERT INTO entityMetricEvents_direct FORMAT JSONEachRow')" |
  tee -a "$RESULTS"
ch_q "OPTIMIZE TABLE entityMetricEvents_direct FINAL" >/dev/null

th_start "$WORK/trackhouse" --clickhouse "http://127.0.0.1:$CH_HTTP_PORT/default"
# The guide's DDL verbatim: trackhouse adapts DateTime64 for 18.16 and passes it through.
th_q "CREATE TABLE entityMetricEvents (entityType LowCardinality(String), entityId Int32,
  userId Int32, metricType LowCardinality(String), metricValue Int32,
  createdAt DateTime64(3) DEFAULT now64())
  ENGINE = MergeTree() ORDER BY (entityType, entityId, createdAt)"

# One trackhouse step: the generator's load for the step's duration while a sampler reads the
# delivery lag (trackhouse_delivery_lag_milliseconds: the age of the oldest row ClickHouse has not
# confirmed) every 100 ms; then wait until ClickHouse holds every acknowledged row and check it
# holds no more. The end-to-end rate counts the time to drain the spool after the load.
step() {  # step NAME GENERATOR-ARGS...
  local name="$1"
  shift
  local before line acked count t0 t_load t_done sampler
  before="$(ch_q 'SELECT count() FROM entityMetricEvents')"
  (
    while true; do
      curl -sS "http://127.0.0.1:$TH_PORT/metrics" 2>/dev/null |
        awk '$1 == "trackhouse_delivery_lag_milliseconds" { print $2 / 1000 }'
      sleep 0.1
    done
  ) >"$WORK/lag.txt" &
  SAMPLER_PID=$!
  t0="$(now_s)"
  line="$("$GEN" --name "$name" --port "$TH_PORT" --seconds "$STEP" --connections "$CONNECTIONS" \
    --rows "$ROWS" --target /track/entityMetricEvents "$@")"
  t_load="$(now_s)"
  echo "$line" | tee -a "$RESULTS"
  acked="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["rows_acknowledged"])' "$line")"
  for _ in $(seq 1 1800); do
    count="$(ch_q 'SELECT count() FROM entityMetricEvents')"
    [[ "$((count - before))" -ge "$acked" ]] && break
    sleep 0.1
  done
  t_done="$(now_s)"
  sleep 0.3  # one more lag sample after the drain
  kill "$SAMPLER_PID" 2>/dev/null || true
  wait "$SAMPLER_PID" 2>/dev/null || true
  SAMPLER_PID=""
  python3 - "$name" "$acked" "$((count - before))" "$t0" "$t_load" "$t_done" "$WORK/lag.txt" <<'PY' | tee -a "$RESULTS"
import json, sys
name, acked, delivered = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
t0, t_load, t_done = map(float, sys.argv[4:7])
lags = sorted(float(x) for x in open(sys.argv[7]).read().split() if x)
def pct(p):
    return lags[min(len(lags) - 1, int(p * len(lags)))] if lags else None
print(json.dumps({
    "bench": "clickhouse_mode_end_to_end", "step": name,
    "rows_acknowledged": acked, "rows_delivered": delivered, "exactly_once": acked == delivered,
    "load_s": round(t_load - t0, 3), "drain_s": round(t_done - t_load, 3),
    "end_to_end_rows_per_s": round(acked / (t_done - t0)),
    "lag_samples": len(lags), "lag_p50_s": pct(0.50), "lag_p99_s": pct(0.99),
    "lag_max_s": lags[-1] if lags else None,
}))
PY
  [[ "$((count - before))" -eq "$acked" ]] || {
    echo "ClickHouse got $((count - before)) rows, $acked were acknowledged" >&2
    exit 1
  }
}

# The rate ClickHouse took JSONEachRow at, offered to trackhouse at a fixed rate: does delivery
# keep up, and how far behind is it?
ch_rows_per_s="$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["rows_per_s"])' "$RESULTS")"
rate="$(python3 -c "print(max(1, round($RATE_FACTOR * $ch_rows_per_s / $ROWS)))")"
echo "== trackhouse --clickhouse: $rate requests/s of $ROWS rows ($RATE_FACTOR x ClickHouse's JSONEachRow rate) to /track, $CONNECTIONS connections, ${STEP}s"
step trackhouse-fixed-rate --mode rate --rate "$rate"
echo "== trackhouse --clickhouse: $ROWS-row NDJSON batches to /track as fast as accepted, $CONNECTIONS connections, ${STEP}s"
step trackhouse-closed-loop --mode max
echo "{\"bench\":\"clickhouse_mode_parts\",\"active_parts\":$(ch_q "SELECT count() FROM system.parts WHERE table = 'entityMetricEvents' AND active")}" | tee -a "$RESULTS"
echo "== results in $RESULTS"
