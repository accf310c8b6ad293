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

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')," \
  "$(awk '/MemTotal/ { printf "%.1f GiB RAM", $2 / 1048576 }' /proc/meminfo)"

echo "== trackhouse, createdAt DateTime64(3)"
"$BENCH" --rows "$ROWS" --threads "$THREADS" --recovery-rows "$RECOVERY_ROWS" \
  --dir "$BENCH_DIR" | tee "$OUT/trackhouse_datetime64.txt"
echo "== trackhouse, createdAt DateTime"
"$BENCH" --rows "$ROWS" --threads "$THREADS" --datetime --phases insert,size \
  --dir "$BENCH_DIR" | tee "$OUT/trackhouse_datetime.txt"
echo "== ClickHouse"
"$ROOT/bench/clickhouse_ingest.sh" --rows "$ROWS" --bench "$BENCH" | tee "$OUT/clickhouse.txt"

# field FILE KEY: a number from the JSON line (the last line) of FILE.
field() {
  tail -n 1 "$1" | sed -n "s/.*\"$2\":\"\{0,1\}\([^,\"}]*\).*/\1/p"
}
T64="$OUT/trackhouse_datetime64.txt"
T32="$OUT/trackhouse_datetime.txt"
CH="$OUT/clickhouse.txt"
ins64="$(field "$T64" insert_rows_per_s)"
ins32="$(field "$T32" insert_rows_per_s)"
bpr64="$(field "$T64" bytes_per_row)"
bpr32="$(field "$T32" bytes_per_row)"
rec="$(field "$T64" recovery_cold_rows_per_s)"
recms="$(field "$T64" recovery_cold_ms_per_million_rows)"
recw="$(field "$T64" recovery_warm_rows_per_s)"
recwms="$(field "$T64" recovery_warm_ms_per_million_rows)"
sps="$(field "$T64" log_syncs_per_s)"
spsi="$(field "$T64" log_syncs_per_s_inserting)"
flush64="$(field "$T64" final_flush_seconds)"
only64="$(field "$T64" insert_only_seconds)"
tot64="$(field "$T64" insert_seconds)"
rps="$(field "$T64" rows_per_sync)"
parts="$(field "$T64" max_parts_in_partition)"
rss="$(field "$T64" peak_rss_bytes)"
chjson="$(field "$CH" jsoneachrow_rows_per_s)"
chrb="$(field "$CH" rowbinary_rows_per_s)"
chbpr="$(field "$CH" bytes_per_row)"
chbytes="$(field "$CH" bytes_on_disk)"
chver="$(tail -n 1 "$CH" | sed -n 's/.*"clickhouse_version":"\([^"]*\)".*/\1/p')"

awk -v rows="$ROWS" -v threads="$THREADS" -v ins64="$ins64" -v ins32="$ins32" \
    -v bpr64="$bpr64" -v bpr32="$bpr32" -v rec="$rec" -v recms="$recms" -v recw="$recw" -v recwms="$recwms" -v sps="$sps" \
    -v rps="$rps" -v spsi="$spsi" -v flush64="$flush64" -v only64="$only64" -v tot64="$tot64" -v parts="$parts" -v rss="$rss" -v chjson="$chjson" -v chrb="$chrb" \
    -v chbpr="$chbpr" -v chbytes="$chbytes" -v chver="$chver" 'BEGIN {
  printf "\n== summary: %d rows; trackhouse durable insert with %d threads; ClickHouse %s over HTTP\n\n", rows, threads, chver
  printf "| figure | trackhouse | ClickHouse | ratio (trackhouse / ClickHouse) | target | met |\n"
  printf "|---|---|---|---|---|---|\n"
  printf "| insert, M rows/s (DateTime64(3) / DateTime) | %.3f / %.3f | %.3f JSONEachRow, %.3f RowBinary | %.2fx JSONEachRow, %.2fx RowBinary (DateTime64); %.2fx, %.2fx (DateTime) | >= 3 M rows/s durable | %s |\n", \
    ins64/1e6, ins32/1e6, chjson/1e6, chrb/1e6, ins64/chjson, ins64/chrb, ins32/chjson, ins32/chrb, \
    (ins64 >= 3e6 && ins32 >= 3e6) ? "yes" : "no"
  printf "| bytes on disk per row after OPTIMIZE FINAL, DateTime | %.3f | %.3f (%.1f MiB) | %.3f | <= ClickHouse | %s |\n", \
    bpr32, chbpr, chbytes/1048576, bpr32/chbpr, (bpr32 <= chbpr) ? "yes" : "no"
  printf "| bytes on disk per row, DateTime64(3) | %.3f | (no DateTime64 in %s) | %.3f vs DateTime there | - | - |\n", \
    bpr64, chver, bpr64/chbpr
  printf "| recovery (log replay), M rows/s: log cold / warm in page cache | %.3f (%.0f ms per million rows) / %.3f (%.0f ms) | - | - | >= 5 M rows/s | %s |\n", \
    rec/1e6, recms, recw/1e6, recwms, (rec >= 5e6 && recw >= 5e6) ? "yes" : "no"
  printf "| DateTime64 run: time in inserts / in the final FlushAll | %.3f s / %.3f s of %.3f s | - | - | - | - |\n", only64, flush64, tot64
  printf "| log syncs/s (whole load / while inserting), rows per sync | %.1f / %.1f, %.0f | - | - | - | - |\n", sps, spsi, rps
  printf "| max active parts per partition during load | %d | - | - | < 50 | %s |\n", parts, (parts < 50) ? "yes" : "no"
  printf "| peak RSS during load (incl. prebuilt blocks) | %.0f MiB | - | - | bounded | - |\n", rss/1048576
}' | tee "$OUT/summary.md"
