#!/usr/bin/env bash
# ClickHouse side of the ingest benchmark (docs/BENCHMARKS.md).
#
# Starts Debian's clickhouse-server (18.16) on free loopback ports with its own temporary
# directory, loads the rows ingest_bench generates (the same seed and rows as trackhouse's
# run, createdAt as DateTime) over HTTP with curl -- once as JSONEachRow, once as RowBinary,
# each as one streamed request into a fresh table -- and measures rows/s for each. After each
# load it runs OPTIMIZE TABLE ... FINAL and reads the table's size from system.parts. The
# server and the directory are removed on exit.
#
# usage: bench/clickhouse_ingest.sh [--rows N] [--bench PATH/TO/ingest_bench] [--seed N]
# Prints labelled lines and, last, one JSON line with the figures.
set -euo pipefail
export LC_ALL=C

ROWS=10000000
BENCH=""
SEED=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rows) ROWS="$2"; shift 2 ;;
    --bench) BENCH="$2"; shift 2 ;;
    --seed) SEED="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "clickhouse_ingest.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="${BENCH:-$ROOT/build-bench/bench/ingest_bench}"
if [[ ! -x "$BENCH" ]]; then
  echo "clickhouse_ingest.sh: $BENCH not built (run bench/run_ingest.sh)" >&2
  exit 1
fi

for tool in curl python3 awk; do
  command -v "$tool" >/dev/null || { echo "clickhouse_ingest.sh: needs $tool" >&2; exit 1; }
done
# shellcheck source=bench/clickhouse_server.sh
source "$ROOT/bench/clickhouse_server.sh"

WORK="$(mktemp -d /tmp/trackhouse-ch.XXXXXX)"
cleanup() {
  ch_stop
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ch_start "$WORK"
URL="$CH_URL"
SETTINGS="$CH_SETTINGS"
q() {  # q SQL: runs a statement, prints its result
  ch_q "$1"
}
VERSION="$(q 'SELECT version()')"
TABLE=entityMetricEvents
DDL="CREATE TABLE $TABLE (entityType LowCardinality(String), entityId Int32, userId Int32,
  metricType LowCardinality(String), metricValue Int32, createdAt DateTime)
  ENGINE = MergeTree() ORDER BY (entityType, entityId, createdAt)"

SEED_ARG=()
[[ -n "$SEED" ]] && SEED_ARG=(--seed "$SEED")
echo "generating $ROWS rows (DateTime) for ClickHouse $VERSION..." >&2
"$BENCH" --rows "$ROWS" "${SEED_ARG[@]}" --emit-jsoneachrow "$WORK/rows.json" \
  --emit-rowbinary "$WORK/rows.bin" >&2

now() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
rate() { awk -v r="$1" -v s="$2" 'BEGIN { printf "%.0f", r / s }'; }

# load FORMAT FILE: fresh table, one streamed INSERT; sets LOAD_SECONDS, LOAD_RATE.
load() {
  local format="$1" file="$2"
  q "DROP TABLE IF EXISTS $TABLE"
  q "$DDL"
  local t0 t1
  t0="$(now)"
  curl -sS --fail-with-body -X POST -T "$file" \
    "${URL}?${SETTINGS}&query=INSERT%20INTO%20$TABLE%20FORMAT%20$format"
  t1="$(now)"
  local count
  count="$(q "SELECT count() FROM $TABLE")"
  if [[ "$count" != "$ROWS" ]]; then
    echo "clickhouse_ingest.sh: $format load stored $count rows of $ROWS" >&2
    exit 1
  fi
  LOAD_SECONDS="$(elapsed "$t0" "$t1")"
  LOAD_RATE="$(rate "$ROWS" "$LOAD_SECONDS")"
}

# optimize: OPTIMIZE FINAL until one active part is left (a background merge holding some
# parts makes OPTIMIZE a no-op); sets OPT_SECONDS, BYTES, BYTES_PER_ROW, COLUMNS.
optimize() {
  local t0 t1 parts
  t0="$(now)"
  for _ in $(seq 1 100); do
    q "OPTIMIZE TABLE $TABLE FINAL"
    parts="$(q "SELECT count() FROM system.parts
      WHERE active AND database = 'default' AND table = '$TABLE'")"
    [[ "$parts" == 1 ]] && break
    sleep 0.2
  done
  t1="$(now)"
  OPT_SECONDS="$(elapsed "$t0" "$t1")"
  read -r BYTES PART_ROWS < <(q "SELECT sum(bytes_on_disk), sum(rows) FROM system.parts
    WHERE active AND database = 'default' AND table = '$TABLE'")
  BYTES_PER_ROW="$(awk -v b="$BYTES" -v r="$PART_ROWS" 'BEGIN { printf "%.3f", b / r }')"
  COLUMNS="$(q "SELECT name, round(data_compressed_bytes / $ROWS, 3) FROM system.columns
    WHERE database = 'default' AND table = '$TABLE' FORMAT TSV" |
    awk '{ printf " %s=%s", $1, $2 }')"
}

mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
mrows() { awk -v r="$1" 'BEGIN { printf "%.3f", r / 1e6 }'; }
# report_load FORMAT FILE / report_size: the labelled lines.
report_load() {
  printf '  %-28s %s s, %s M rows/s (%s MiB body)\n' "$1 insert" "$LOAD_SECONDS" \
    "$(mrows "$LOAD_RATE")" "$(mib "$(stat -c %s "$2")")"
}
report_size() {
  printf '  %-28s %s bytes (%s MiB), %s bytes/row (OPTIMIZE %s s)\n' "after OPTIMIZE FINAL" \
    "$BYTES" "$(mib "$BYTES")" "$BYTES_PER_ROW" "$OPT_SECONDS"
}

echo "ClickHouse $VERSION ingest over HTTP (one streamed request per format, $ROWS rows):"
load JSONEachRow "$WORK/rows.json"
report_load JSONEachRow "$WORK/rows.json"
JSON_SECONDS="$LOAD_SECONDS" JSON_RATE="$LOAD_RATE"
optimize
report_size
JSON_BYTES="$BYTES"

load RowBinary "$WORK/rows.bin"
report_load RowBinary "$WORK/rows.bin"
RB_SECONDS="$LOAD_SECONDS" RB_RATE="$LOAD_RATE"
optimize
report_size
echo "  bytes per row by column     $COLUMNS"
echo "  (ClickHouse does not fsync inserted parts: its insert figures are not durable ones)"

printf '{"bench":"clickhouse_ingest","clickhouse_version":"%s","rows":%s,' "$VERSION" "$ROWS"
printf '"jsoneachrow_seconds":%s,"jsoneachrow_rows_per_s":%s,' "$JSON_SECONDS" "$JSON_RATE"
printf '"rowbinary_seconds":%s,"rowbinary_rows_per_s":%s,' "$RB_SECONDS" "$RB_RATE"
printf '"bytes_on_disk":%s,"bytes_per_row":%s,"bytes_on_disk_after_json":%s}\n' \
  "$BYTES" "$BYTES_PER_ROW" "$JSON_BYTES"
