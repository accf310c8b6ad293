#!/usr/bin/env bash
# The ingest benchmark of docs/BENCHMARKS.md, end to end:
#   1. builds ingest_bench in a Release tree (build-bench/);
#   2. runs it with createdAt DateTime64(3) (durable insert, bytes/row, recovery) and with
#      DateTime (durable insert, bytes/row: the type ClickHouse 18.16 has);
#   3. runs bench/clickhouse_ingest.sh on the same rows;
#   4. prints a summary table with trackhouse / ClickHouse ratios.
# Logs and JSON lines are kept in $OUT (default build-bench/ingest-results/).
#
# usage: bench/run_ingest.sh        environment: ROWS (10000000), THREADS (2),
#                                   RECOVERY_ROWS (5000000), JOBS (2, ninja -j),
#                                   BENCH_DIR (/tmp/trackhouse-bench), OUT
set -euo pipefail
export LC_ALL=C

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$ROOT/build-bench"
ROWS="${ROWS:-10000000}"
THREADS="${THREADS:-2}"
RECOVERY_ROWS="${RECOVERY_ROWS:-5000000}"
JOBS="${JOBS:-2}"
BENCH_DIR="${BENCH_DIR:-/tmp/trackhouse-bench}"
OUT="${OUT:-$BUILD/ingest-results}"

cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$BUILD" -j"$JOBS" ingest_bench
BENCH="$BUILD/bench/ingest_bench"
mkdir -p "$OUT"

cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
ram="$(awk '/MemTotal/ { printf "%.1f GiB RAM", $2 / 1048576 }' /proc/meminfo)"
echo "== machine: $(nproc) cores, $cpu, $ram"

echo "== trackhouse, createdAt DateTime64(3)"
"$BENCH" --rows "$ROWS" --threads "$THREADS" --recovery-rows "$RECOVERY_ROWS" \
  --dir "$BENCH_DIR" | tee "$OUT/trackhouse_datetime64.txt"
echo "== trackhouse, createdAt DateTime"
"$BENCH" --rows "$ROWS" --threads "$THREADS" --datetime --phases insert,size \
  --dir "$BENCH_DIR" | tee "$OUT/trackhouse_datetime.txt"
echo "== ClickHouse"
"$ROOT/bench/clickhouse_ingest.sh" --rows "$ROWS" --bench "$BENCH" | tee "$OUT/clickhouse.txt"

# field FILE KEY: a value from the JSON line (the last line) of FILE.
field() {
  tail -n 1 "$1" | sed -n "s/.*\"$2\":\"\{0,1\}\([^,\"}]*\).*/\1/p"
}
T64="$OUT/trackhouse_datetime64.txt"
T32="$OUT/trackhouse_datetime.txt"
CH="$OUT/clickhouse.txt"
vars=(
  rows="$ROWS" threads="$THREADS"
  ins64="$(field "$T64" insert_rows_per_s)" ins32="$(field "$T32" insert_rows_per_s)"
  tot64="$(field "$T64" insert_seconds)" only64="$(field "$T64" insert_only_seconds)"
  flush64="$(field "$T64" final_flush_seconds)"
  bpr64="$(field "$T64" bytes_per_row)" bpr32="$(field "$T32" bytes_per_row)"
  rec="$(field "$T64" recovery_cold_rows_per_s)"
  recms="$(field "$T64" recovery_cold_ms_per_million_rows)"
  recw="$(field "$T64" recovery_warm_rows_per_s)"
  recwms="$(field "$T64" recovery_warm_ms_per_million_rows)"
  sps="$(field "$T64" log_syncs_per_s)" spsi="$(field "$T64" log_syncs_per_s_inserting)"
  rps="$(field "$T64" rows_per_sync)" parts="$(field "$T64" max_parts_in_partition)"
  rss="$(field "$T64" peak_rss_bytes)"
  chjson="$(field "$CH" jsoneachrow_rows_per_s)" chrb="$(field "$CH" rowbinary_rows_per_s)"
  chbpr="$(field "$CH" bytes_per_row)" chbytes="$(field "$CH" bytes_on_disk)"
  chver="$(field "$CH" clickhouse_version)"
)
awk_args=()
for v in "${vars[@]}"; do awk_args+=(-v "$v"); done

awk "${awk_args[@]}" '
function row(a, b, c, d, e, f) { printf "| %s | %s | %s | %s | %s | %s |\n", a, b, c, d, e, f }
function yes(cond) { return cond ? "yes" : "no" }
BEGIN {
  printf "\n== summary: %d rows; trackhouse durable insert with %d threads; " \
         "ClickHouse %s over HTTP\n\n", rows, threads, chver
  row("figure", "trackhouse", "ClickHouse", "ratio (trackhouse / ClickHouse)", "target", "met")
  row("---", "---", "---", "---", "---", "---")
  row("insert, M rows/s (DateTime64(3) / DateTime)",
      sprintf("%.3f / %.3f", ins64 / 1e6, ins32 / 1e6),
      sprintf("%.3f JSONEachRow, %.3f RowBinary", chjson / 1e6, chrb / 1e6),
      sprintf("%.2fx JSONEachRow, %.2fx RowBinary (DateTime64); %.2fx, %.2fx (DateTime)",
              ins64 / chjson, ins64 / chrb, ins32 / chjson, ins32 / chrb),
      ">= 3 M rows/s durable", yes(ins64 >= 3e6 && ins32 >= 3e6))
  row("bytes on disk per row after OPTIMIZE FINAL, DateTime", sprintf("%.3f", bpr32),
      sprintf("%.3f (%.1f MiB)", chbpr, chbytes / 1048576), sprintf("%.3f", bpr32 / chbpr),
      "<= ClickHouse", yes(bpr32 <= chbpr))
  row("bytes on disk per row, DateTime64(3)", sprintf("%.3f", bpr64),
      sprintf("(no DateTime64 in %s)", chver), sprintf("%.3f vs DateTime there", bpr64 / chbpr),
      "-", "-")
  row("recovery (log replay), M rows/s: log cold / warm in page cache",
      sprintf("%.3f (%.0f ms per million rows) / %.3f (%.0f ms)", rec / 1e6, recms, recw / 1e6,
              recwms),
      "-", "-", ">= 5 M rows/s", yes(rec >= 5e6 && recw >= 5e6))
  row("DateTime64 run: time in inserts / in the final FlushAll",
      sprintf("%.3f s / %.3f s of %.3f s", only64, flush64, tot64), "-", "-", "-", "-")
  row("log syncs/s (whole load / while inserting), rows per sync",
      sprintf("%.1f / %.1f, %.0f", sps, spsi, rps), "-", "-", "-", "-")
  row("max active parts per partition during load", parts, "-", "-", "< 50", yes(parts < 50))
  row("peak RSS during load (incl. prebuilt blocks)", sprintf("%.0f MiB", rss / 1048576),
      "-", "-", "bounded", "-")
}' | tee "$OUT/summary.md"
