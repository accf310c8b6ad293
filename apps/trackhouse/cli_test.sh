#!/usr/bin/env bash
# End-to-end tests of the trackhouse binary: --help of every subcommand, version, migrate
# (applies once, second run applies nothing, edited file fails, bad names fail), query --data
# (SELECT in Pretty and --format, several statements, SET/USE, ClickHouse-shaped errors), the
# locked data directory message, serve + HTTP INSERT/SELECT/gzip/credentials + SIGTERM,
# query/migrate --url, doctor and wait_for_delivery in embedded mode, serve's listener flags:
# the refusal of a non-loopback address without keys, --insecure, --tls-cert/--tls-key (HTTPS
# with curl); and the ClickHouse mode against a real clickhouse-server (Debian's 18.16, started
# here on loopback): serve --clickhouse, migrate --url of the guide's tables (adapted: DateTime64,
# TTL), /track and INSERT with wait_for_delivery=1, SELECT with bound parameters, doctor,
# ClickHouse down (doctor exits 1, wait_for_delivery answers 202 pending).
#
# Usage: cli_test.sh path/to/trackhouse
set -uo pipefail

BIN="${1:?usage: cli_test.sh path/to/trackhouse}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/th_cli_test.XXXXXX")"
SERVER_PID=""
passed=0
failed=0

cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -KILL "$SERVER_PID" 2>/dev/null
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

ok() { echo "PASS: $1"; passed=$((passed + 1)); }
bad() { echo "FAIL: $1"; failed=$((failed + 1)); }
# check NAME COMMAND...: passes if the command succeeds.
check() {
  local name="$1"
  shift
  if "$@"; then ok "$name"; else bad "$name"; fi
}
contains() { grep -qF -- "$2" <<<"$1"; }

# Starts `trackhouse serve` with data dir $1 and the other arguments (default: --listen
# 127.0.0.1:0, a free loopback port); sets SERVER_PID and SERVER_URL.
start_server() {
  local data="$1"
  shift
  local log="$WORK/serve.log"
  if [[ $# -eq 0 ]]; then set -- --listen 127.0.0.1:0; fi
  "$BIN" serve --data "$data" "$@" >"$log" 2>"$WORK/serve.err" &
  SERVER_PID=$!
  SERVER_URL=""
  for _ in $(seq 1 200); do
    if grep -q "listening on" "$log" 2>/dev/null; then
      SERVER_URL="$(sed -n 's/.*listening on \(https\{0,1\}:\/\/[^ ]*\).*/\1/p' "$log" | head -1)"
      return 0
    fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then break; fi
    sleep 0.05
  done
  echo "server did not start:"; cat "$log" "$WORK/serve.err"
  return 1
}

stop_server() {
  kill -TERM "$SERVER_PID"
  wait "$SERVER_PID"
  local rc=$?
  SERVER_PID=""
  return $rc
}

# --- help and version -----------------------------------------------------------------------
for sub in serve migrate query doctor deadletter version; do
  out="$("$BIN" "$sub" --help 2>&1)"
  check "$sub --help" contains "$out" "Usage"
done
out="$("$BIN" --help 2>&1)"
check "--help lists subcommands" bash -c 'grep -q serve <<<"$1" && grep -q migrate <<<"$1" && grep -q query <<<"$1"' _ "$out"
out="$("$BIN" version)"
check "version" contains "$out" "trackhouse "
"$BIN" migrate --data "$WORK/x" --url http://127.0.0.1:1 "$WORK" >/dev/null 2>&1
check "--data and --url exclude each other" test $? -ne 0

# --- migrate --data ---------------------------------------------------------------------------
MIG="$WORK/migrations"
DATA="$WORK/data"
mkdir -p "$MIG"
cat >"$MIG/0001_init.sql" <<'EOF'
-- the guide's tables
CREATE TABLE entityMetricEvents (
  entityType LowCardinality(String), entityId Int32, userId Int32,
  metricType LowCardinality(String), metricValue Int32, createdAt DateTime64(3)
) ENGINE = MergeTree() ORDER BY (entityType, entityId, createdAt);

CREATE TABLE my_events (id UInt32, action String, created_at DateTime DEFAULT now())
ENGINE = MergeTree() ORDER BY id;
EOF
cat >"$MIG/0002_buffer.sql" <<'EOF'
CREATE TABLE my_events_buffer AS my_events ENGINE = Buffer(default, my_events, 16,
  10, 100, 10000, 1000000, 10000000, 100000000);
EOF
cat >"$MIG/0010_seed.sql" <<'EOF'
INSERT INTO my_events (id, action) VALUES (1, 'seed'), (2, 'seed');
INSERT INTO my_events (id, action) FORMAT JSONEachRow
{"id": 3, "action": "json"}
;
EOF
echo "not a migration" >"$MIG/README.txt"

out="$("$BIN" migrate --data "$DATA" "$MIG" 2>&1)"
rc=$?
check "migrate applies 3 files" test $rc -eq 0
check "migrate reports 3 applied" contains "$out" "3 migrations applied, 0 already applied"
check "migrate names each file" contains "$out" "applied 0002_buffer.sql"
out="$("$BIN" migrate --data "$DATA" "$MIG" 2>&1)"
rc=$?
check "second migrate succeeds" test $rc -eq 0
check "second migrate applies nothing" contains "$out" "0 migrations applied, 3 already applied"

cat >"$MIG/0011_more.sql" <<'EOF'
ALTER TABLE my_events ADD COLUMN IF NOT EXISTS note String;
EOF
out="$("$BIN" migrate --data "$DATA" "$MIG" 2>&1)"
check "a new file is applied alone" contains "$out" "1 migration applied, 3 already applied"

echo "-- edited" >>"$MIG/0002_buffer.sql"
out="$("$BIN" migrate --data "$DATA" "$MIG" 2>&1)"
rc=$?
check "edited migration fails" test $rc -ne 0
check "edited migration names the file" contains "$out" "0002_buffer.sql was changed after it was applied"
check "edited migration shows both checksums" bash -c '[[ "$(grep -o "xxh64:[0-9a-f]*" <<<"$1" | sort -u | wc -l)" -eq 2 ]]' _ "$out"

BADMIG="$WORK/bad_migrations"
mkdir -p "$BADMIG"
echo "CREATE DATABASE x;" >"$BADMIG/init.sql"
out="$("$BIN" migrate --data "$WORK/data_bad" "$BADMIG" 2>&1)"
rc=$?
check "file without numeric prefix fails" test $rc -ne 0
check "file without numeric prefix is named" contains "$out" "init.sql has no numeric prefix"

SYNMIG="$WORK/syntax_migrations"
mkdir -p "$SYNMIG"
printf 'CREATE DATABASE ok1;\nCREATE TABLEX broken;\n' >"$SYNMIG/0001_x.sql"
out="$("$BIN" migrate --data "$WORK/data_syn" "$SYNMIG" 2>&1)"
rc=$?
check "syntax error in a migration fails" test $rc -ne 0
check "syntax error names the file" contains "$out" "0001_x.sql"

# --- query --data -----------------------------------------------------------------------------
out="$(printf '{"id":10,"action":"stdin"}\n{"id":11,"action":"stdin"}\n' |
  "$BIN" query --data "$DATA" "INSERT INTO my_events (id, action) FORMAT JSONEachRow" 2>&1)"
check "query --data inserts rows from stdin" test $? -eq 0
out="$("$BIN" query --data "$DATA" "CREATE TABLE t2 (x UInt8) ENGINE = MergeTree ORDER BY x" 2>&1)"
check "query --data runs DDL" test $? -eq 0
out="$("$BIN" query --data "$DATA" "SELECT count() AS n FROM my_events" 2>&1)"
check "query --data runs SELECT" test $? -eq 0
check "query SELECT prints Pretty by default" bash -c 'grep -q "│ n" <<<"$1" || grep -q "┃ n" <<<"$1"' _ "$out"
out="$("$BIN" query --data "$DATA" --format TabSeparated "SELECT count() FROM my_events" 2>&1)"
check "query --format TabSeparated" test "$out" = "5"
out="$("$BIN" query --data "$DATA" --format TSV "CREATE DATABASE multi; CREATE TABLE multi.t (x UInt8) ENGINE = MergeTree ORDER BY x; USE multi; INSERT INTO t VALUES (7); SELECT x FROM t" 2>&1)"
check "query runs several statements with USE" test "$out" = "7"
out="$(printf 'SET output_format_json_quote_64bit_integers = 0;\nSELECT count() AS n FROM my_events FORMAT JSONEachRow;\n' |
  "$BIN" query --data "$DATA" 2>&1)"
check "query SET applies to later statements" test "$out" = '{"n":5}'
out="$("$BIN" query --data "$DATA" "SELECT * FROM nope" 2>&1)"
rc=$?
check "query error exits non-zero" test $rc -ne 0
check "query error is ClickHouse-shaped" contains "$out" "Code: 60. DB::Exception:"
check "query error names the code" contains "$out" "(UNKNOWN_TABLE)"
out="$(printf 'CREATE DATABASE s1;\nCREATE TABLE s1.t (x UInt8) ENGINE = MergeTree ORDER BY x;\n' |
  "$BIN" query --data "$DATA" 2>&1)"
check "query --data runs a script from stdin" test $? -eq 0
out="$("$BIN" query --data "$DATA" "INSERT INTO nope FORMAT JSONEachRow" </dev/null 2>&1)"
check "query on a missing table names it" contains "$out" "Table default.nope does not exist"

# --- config file ------------------------------------------------------------------------------
cat >"$WORK/bad.toml" <<'EOF'
[server]
lisen = "127.0.0.1:1"
EOF
out="$("$BIN" query --config "$WORK/bad.toml" --data "$DATA" "CREATE DATABASE c1" 2>&1)"
check "unknown config key is an error" contains "$out" "unknown key"
cat >"$WORK/good.toml" <<EOF
[storage]
data = "$DATA"
[insert]
max_insert_block_size = 1000
[engine]
merge_threads = 1
EOF
out="$("$BIN" query --config "$WORK/good.toml" "CREATE DATABASE c2" 2>&1)"
check "config file supplies the data dir" test $? -eq 0

# --- serve, locked data dir, HTTP, --url, SIGTERM ---------------------------------------------
if start_server "$DATA"; then
  ok "serve starts and prints its address"
  check "serve prints the mode and data dir" grep -q "(embedded, data $DATA)" "$WORK/serve.log"
  out="$(curl -sS "$SERVER_URL/ping")"
  check "GET /ping" test "$out" = "Ok."
  out="$(curl -sS "$SERVER_URL/health")"
  check "GET /health" contains "$out" '"status":"ok"'
  out="$(printf '{"id":20,"action":"http"}\n{"id":21,"action":"http"}\n' |
    curl -sS -D "$WORK/headers" --data-binary @- \
      "$SERVER_URL/?query=INSERT%20INTO%20my_events%20(id%2C%20action)%20FORMAT%20JSONEachRow")"
  check "HTTP INSERT answers 200" grep -q "200 OK" "$WORK/headers"
  check "HTTP INSERT reports written_rows" grep -q '"written_rows":"2"' "$WORK/headers"

  out="$("$BIN" migrate --data "$DATA" "$MIG" 2>&1)"
  rc=$?
  check "migrate --data on a served dir fails" test $rc -ne 0
  check "migrate --data on a served dir says use --url" contains "$out" "is in use by another trackhouse process (a running server?); use --url"
  out="$("$BIN" query --data "$DATA" "CREATE DATABASE z" 2>&1)"
  check "query --data on a served dir says use --url" contains "$out" "use --url"

  out="$("$BIN" query --url "$SERVER_URL" "CREATE TABLE viaurl (x UInt8) ENGINE = MergeTree ORDER BY x" 2>&1)"
  check "query --url runs DDL" test $? -eq 0
  out="$(printf '{"x":1}\n{"x":2}\n' | "$BIN" query --url "$SERVER_URL" "INSERT INTO viaurl FORMAT JSONEachRow" 2>&1)"
  check "query --url streams stdin" test $? -eq 0
  out="$("$BIN" query --url "$SERVER_URL" "INSERT INTO nope FORMAT JSONEachRow" </dev/null 2>&1)"
  check "query --url reports server errors" contains "$out" "UNKNOWN_TABLE"
  out="$("$BIN" query --url "$SERVER_URL" --format TSV "SELECT count() FROM viaurl" 2>&1)"
  check "query --url runs SELECT" test "$out" = "2"
  out="$(printf 'USE multi;\nSELECT x FROM t;\n' | "$BIN" query --url "$SERVER_URL" --format TSV 2>&1)"
  check "query --url keeps USE between statements (session)" test "$out" = "7"
  out="$(curl -sS "$SERVER_URL/?query=SELECT%20count()%20FROM%20viaurl")"
  check "HTTP GET SELECT" test "$out" = "2"
  out="$(curl -sS --compressed -D "$WORK/headers" "$SERVER_URL/?enable_http_compression=1&query=SELECT%20count()%20FROM%20viaurl")"
  check "HTTP gzip answer" test "$out" = "2"
  check "HTTP gzip answer has Content-Encoding" grep -qi "Content-Encoding: gzip" "$WORK/headers"
  out="$(printf '{"x":3}\n' | gzip | curl -sS -H 'Content-Encoding: gzip' --data-binary @- \
    "$SERVER_URL/?query=INSERT%20INTO%20viaurl%20FORMAT%20JSONEachRow" -D "$WORK/headers")"
  check "HTTP gzip INSERT" grep -q '"written_rows":"1"' "$WORK/headers"
  out="$(curl -sS "$SERVER_URL/?query=SELECT%201&password=x")"
  check "HTTP wrong password is 516" contains "$out" "Code: 516. DB::Exception: default: Authentication failed"
  out="$(curl -sS "$SERVER_URL/?query=SELECT%201&no_such_setting=1")"
  check "HTTP unknown setting is 115" contains "$out" "Code: 115."

  out="$("$BIN" doctor --url "$SERVER_URL" 2>&1)"
  check "doctor exits 0 (embedded)" test $? -eq 0
  check "doctor reports the embedded mode" contains "$out" "mode:           embedded"
  out="$(curl -sS -D "$WORK/headers" -H 'Content-Type: application/json' \
    --data-binary '{"id":22,"action":"track"}' "$SERVER_URL/track/my_events?wait_for_delivery=1")"
  check "/track wait_for_delivery=1 answers 200 (embedded)" grep -q "200 OK" "$WORK/headers"
  check "/track wait_for_delivery=1 says delivered" grep -qi "X-Trackhouse-Delivery: delivered" "$WORK/headers"
  out="$(printf '{"id":23,"action":"wait"}\n' | curl -sS -D "$WORK/headers" --data-binary @- \
    "$SERVER_URL/?wait_for_delivery=1&query=INSERT%20INTO%20my_events%20(id%2C%20action)%20FORMAT%20JSONEachRow")"
  check "INSERT wait_for_delivery=1 answers 200 (embedded)" grep -q "200 OK" "$WORK/headers"
  out="$(printf '{"id":24,"action":"wait"}\n' | curl -sS --data-binary @- \
    "$SERVER_URL/?wait_for_delivery=2&query=INSERT%20INTO%20my_events%20(id%2C%20action)%20FORMAT%20JSONEachRow")"
  check "wait_for_delivery takes 0 or 1" contains "$out" "wait_for_delivery must be 0 or 1"

  out="$("$BIN" migrate --url "$SERVER_URL" "$MIG" 2>&1)"
  rc=$?
  if contains "$out" "NOT_IMPLEMENTED" || contains "$out" "no query engine"; then
    check "migrate --url explains it needs the query engine" test $rc -ne 0
  else
    # A server with the query engine: the edited 0002 is detected through it too.
    check "migrate --url detects the edited file" contains "$out" "was changed after it was applied"
  fi

  if stop_server; then ok "SIGTERM stops serve with exit 0"; else bad "SIGTERM stops serve with exit 0"; fi
else
  bad "serve starts and prints its address"
fi

# The rows inserted over HTTP survived the restart-free shutdown; the dir is free again.
out="$("$BIN" query --data "$DATA" "CREATE DATABASE after_stop" 2>&1)"
check "data dir is free after the server stops" test $? -eq 0

# --- serve: listener flags -------------------------------------------------------------------
# No keys are configured: a non-loopback address is refused (exit 2) before anything starts.
out="$(timeout 20 "$BIN" serve --data "$WORK/data_open" --listen 0.0.0.0:0 2>&1)"
rc=$?
check "serve refuses a non-loopback address without keys (exit 2)" test $rc -eq 2
check "the refusal names the address" contains "$out" "refusing to listen on 0.0.0.0"
check "the refusal mentions --insecure" contains "$out" "--insecure"
out="$(timeout 20 "$BIN" serve --data "$WORK/data_open" --listen :0 2>&1)"
check "serve refuses all interfaces (:PORT) without keys" test $? -eq 2
if start_server "$WORK/data_open" --listen localhost:0; then
  ok "serve listens on localhost without keys"
  if stop_server; then ok "serve on localhost stops"; else bad "serve on localhost stops"; fi
else
  bad "serve listens on localhost without keys"
fi
# With keys configured a non-loopback address needs no --insecure.
cat >"$WORK/keys.toml" <<'EOF'
[[keys]]
name = "admin"
key = "cli-test-admin-key-0123456789"
role = "admin"
EOF
if start_server "$WORK/data_open" --config "$WORK/keys.toml" --listen 0.0.0.0:0; then
  ok "serve with keys listens on 0.0.0.0"
  port="${SERVER_URL##*:}"
  "$BIN" doctor --url "http://127.0.0.1:$port" >/dev/null 2>"$WORK/doctor.err"
  check "doctor without a key is refused when keys are configured" test $? -eq 1
  check "doctor says why" grep -q "HTTP 401" "$WORK/doctor.err"
  out="$("$BIN" doctor --url "http://127.0.0.1:$port" --key cli-test-admin-key-0123456789 2>&1)"
  check "doctor with the admin key" contains "$out" "mode:           embedded"
  if stop_server; then ok "serve with keys stops"; else bad "serve with keys stops"; fi
else
  bad "serve with keys listens on 0.0.0.0"
fi
if start_server "$WORK/data_open" --listen 0.0.0.0:0 --insecure; then
  ok "serve --insecure listens on 0.0.0.0"
  check "--insecure warns that every request is allowed" grep -q "without API keys" "$WORK/serve.err"
  out="$(curl -sS --max-time 10 "http://127.0.0.1:${SERVER_URL##*:}/ping")"
  check "serve --insecure answers" test "$out" = "Ok."
  if stop_server; then ok "serve --insecure stops"; else bad "serve --insecure stops"; fi
else
  bad "serve --insecure listens on 0.0.0.0"
fi

out="$(timeout 20 "$BIN" serve --data "$WORK/data_tls" --tls-cert "$WORK/cert.pem" 2>&1)"
rc=$?
check "--tls-cert without --tls-key is a usage error (exit 2)" test $rc -eq 2
check "--tls-cert without --tls-key says both are needed" contains "$out" "--tls-key"
out="$(timeout 20 "$BIN" serve --data "$WORK/data_tls" --listen 127.0.0.1:0 \
  --tls-cert "$WORK/no_cert.pem" --tls-key "$WORK/no_key.pem" 2>&1)"
rc=$?
check "a missing certificate file fails serve" test $rc -ne 0
check "a missing certificate file is named" contains "$out" "$WORK/no_cert.pem"

if command -v openssl >/dev/null 2>&1; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
    -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" >/dev/null 2>&1
  if start_server "$WORK/data_tls" --listen 127.0.0.1:0 --tls-cert "$WORK/cert.pem" \
    --tls-key "$WORK/key.pem"; then
    ok "serve --tls-cert/--tls-key starts"
    check "serve with TLS prints an https URL" contains "$SERVER_URL" "https://127.0.0.1:"
    out="$(curl -sS --max-time 10 --cacert "$WORK/cert.pem" "$SERVER_URL/ping")"
    check "HTTPS GET /ping" test "$out" = "Ok."
    out="$(curl -fsS --max-time 10 --cacert "$WORK/cert.pem" --data-binary 'CREATE DATABASE tls_db' "$SERVER_URL/")"
    check "HTTPS POST DDL" test $? -eq 0
    start=$SECONDS
    curl -sS --max-time 8 "http://127.0.0.1:${SERVER_URL##*:}/ping" >/dev/null 2>&1
    check "plain HTTP to the TLS port fails" test $? -ne 0
    check "plain HTTP to the TLS port is closed promptly" test $((SECONDS - start)) -lt 5
    if stop_server; then ok "serve with TLS stops"; else bad "serve with TLS stops"; fi
  else
    bad "serve --tls-cert/--tls-key starts"
  fi
else
  echo "SKIP: HTTPS cases (no openssl command)"
fi

# --- ClickHouse mode ---------------------------------------------------------------------------
# A real clickhouse-server (Debian's 18.16) on free loopback ports; skipped where it is missing.
if [[ -x /usr/sbin/clickhouse-server ]] || command -v clickhouse-server >/dev/null; then
  # shellcheck source=../../bench/clickhouse_server.sh
  source "$(dirname "$0")/../../bench/clickhouse_server.sh"
  if ch_start "$WORK/ch"; then
    ok "clickhouse-server starts"
    CH_MIG="$WORK/ch_migrations"
    mkdir -p "$CH_MIG"
    # The guide's tables (DateTime64 and LowCardinality; PARTITION BY and TTL), as the SQL
    # parser's fuzz corpus keeps them.
    GUIDE="$(dirname "$0")/../../fuzz/corpus/sql_parser_fuzzer"
    cat "$GUIDE/guide_create_entity_metric_events.sql" "$GUIDE/guide_create_feature_events.sql" \
      >"$CH_MIG/0001_guide.sql"
    if start_server "$WORK/spool" --listen 127.0.0.1:0 --clickhouse "http://127.0.0.1:$CH_HTTP_PORT"; then
      ok "serve --clickhouse starts"
      check "serve --clickhouse prints the mode" grep -qF "(clickhouse mode: http://127.0.0.1:$CH_HTTP_PORT, spool $WORK/spool)" "$WORK/serve.log"
      out="$(curl -sS "$SERVER_URL/health")"
      check "/health reports the clickhouse storage" contains "$out" '"storage":"clickhouse"'
      out="$("$BIN" migrate --url "$SERVER_URL" "$CH_MIG" 2>&1)"
      check "migrate --url through the ClickHouse mode applies the guide's tables" contains "$out" "1 migration applied, 0 already applied"
      out="$("$BIN" migrate --url "$SERVER_URL" "$CH_MIG" 2>&1)"
      check "migrate --url again applies nothing (recorded in ClickHouse)" contains "$out" "0 migrations applied, 1 already applied"
      out="$(ch_q "SELECT name FROM default.trackhouse_migrations FORMAT TSV")"
      check "the applied file is recorded in ClickHouse" test "$out" = "0001_guide.sql"
      out="$(ch_q "SELECT type FROM system.columns WHERE table = 'entityMetricEvents' AND name = 'createdAt'")"
      check "DateTime64 is adapted to DateTime on 18.16" test "$out" = "DateTime"
      out="$(ch_q "SELECT argMax(ttl, version) FROM default.trackhouse_ttl WHERE table = 'my_feature_events'")"
      check "the TTL trackhouse enforces is recorded" test "$out" = "created_at + INTERVAL 90 DAY"

      out="$(curl -sS -D "$WORK/headers" -H 'Content-Type: application/json' --data-binary \
        '[{"entityType":"Model","entityId":7,"userId":1,"metricType":"View","metricValue":1,"createdAt":"2026-01-02 03:04:05"},{"entityType":"Model","entityId":7,"userId":2,"metricType":"Download","metricValue":1,"createdAt":"2026-01-02 03:04:06"}]' \
        "$SERVER_URL/track/entityMetricEvents?wait_for_delivery=1")"
      check "/track wait_for_delivery=1 answers 200" grep -q "200 OK" "$WORK/headers"
      check "/track wait_for_delivery=1 says delivered" grep -qi "X-Trackhouse-Delivery: delivered" "$WORK/headers"
      out="$(ch_q "SELECT count() FROM entityMetricEvents")"
      check "ClickHouse has the /track rows once the answer came" test "$out" = "2"
      out="$(printf '{"entityType":"Model","entityId":8,"userId":3,"metricType":"View","metricValue":1,"createdAt":"2026-01-03 00:00:00"}\n' |
        curl -sS -D "$WORK/headers" --data-binary @- \
          "$SERVER_URL/?wait_for_delivery=1&query=INSERT%20INTO%20entityMetricEvents%20FORMAT%20JSONEachRow")"
      check "INSERT wait_for_delivery=1 answers 200" grep -q "200 OK" "$WORK/headers"
      out="$(ch_q "SELECT count() FROM entityMetricEvents")"
      check "ClickHouse has the INSERT's row once the answer came" test "$out" = "3"

      out="$(curl -sS --data-binary 'SELECT countIf(metricType = {t:String}) FROM entityMetricEvents WHERE entityId = {id:UInt32}' \
        "$SERVER_URL/?param_id=7&param_t=Download")"
      check "SELECT with parameters passes through (bound for 18.16)" test "$out" = "1"
      out="$(curl -sS --data-binary "SELECT count() FROM entityMetricEvents WHERE metricType = {t:String}" \
        "$SERVER_URL/?param_t=x%27%20OR%201%3D1%20--")"
      check "a hostile parameter stays a value" test "$out" = "0"
      out="$(curl -sS --data-binary "SELECT count() FROM entityMetricEvents AS e INNER JOIN (SELECT toInt32(7) AS entityId) AS k USING entityId FORMAT TSV" "$SERVER_URL/")"
      check "a read trackhouse's parser refuses (JOIN) passes through" test "$out" = "2"
      out="$(curl -sS --data-binary "SELECT 1 FROM entityMetricEvents AS e INNER JOIN (SELECT toInt32(7) AS entityId) AS k USING entityId FORMAT JSONEachRow" \
        -D "$WORK/headers" "$SERVER_URL/")"
      check "an unparsed read keeps its FORMAT" grep -qi "X-ClickHouse-Format: JSONEachRow" "$WORK/headers"
      out="$(curl -sS --data-binary "SELECT 1 FROM system.one ARRAY JOIN [1] AS x; INSERT INTO t VALUES (1)" "$SERVER_URL/")"
      check "an unparsed read runs read-only (or not at all)" bash -c '! grep -q "^1$" <<<"$1"' _ "$out"
      out="$(curl -sS "$SERVER_URL/?query=SELECT%20*%20FROM%20nowhere")"
      check "ClickHouse's errors keep their code" contains "$out" "Code: 60."
      out="$(curl -sS -D "$WORK/headers" "$SERVER_URL/?query=SELECT%20entityId%20FROM%20entityMetricEvents%20ORDER%20BY%20entityId%20LIMIT%201%20FORMAT%20JSONEachRow")"
      check "SELECT in a named format" test "$out" = '{"entityId":7}'
      check "X-ClickHouse-Format of a passed-through SELECT" grep -qi "X-ClickHouse-Format: JSONEachRow" "$WORK/headers"
      out="$(curl -sS "$SERVER_URL/?query=CREATE%20TABLE%20nope%20(x%20UInt8)%20ENGINE%20%3D%20Memory")"
      check "GET DDL is refused as readonly" contains "$out" "Code: 164."
      out="$(curl -sS "$SERVER_URL/?readonly=0&query=SYSTEM%20DROP%20DNS%20CACHE")"
      check "GET stays read-only for ClickHouse even with readonly=0" contains "$out" "Code: 164."

      out="$(printf 'CREATE DATABASE m2;\nUSE m2;\nCREATE TABLE t (x UInt8) ENGINE = MergeTree ORDER BY x;\nSET max_threads = 1;\nSELECT currentDatabase(), count() FROM t;\nSELECT value FROM system.settings WHERE name = %s;\n' "'max_threads'" |
        "$BIN" query --url "$SERVER_URL" --format TSV 2>&1)"
      check "query --url: DDL, USE and SET carry over to passed-through SELECTs" test "$out" = "$(printf 'm2\t0\n1')"
      out="$("$BIN" doctor --url "$SERVER_URL" 2>&1)"
      check "doctor exits 0 (ClickHouse reachable)" test $? -eq 0
      check "doctor reports the ClickHouse mode" contains "$out" "mode:           clickhouse"
      check "doctor reports reachability" contains "$out" "-- reachable"
      check "doctor reports the server version" contains "$out" "server version: 18.16"
      check "doctor lists the adaptations" contains "$out" "has no DateTime64"
      check "doctor lists the tables' mechanism" contains "$out" "default.entityMetricEvents: exactly once by"

      # ClickHouse down: rows are still accepted; a wait for their delivery ends in 202 pending.
      ch_stop
      out="$(curl -sS -D "$WORK/headers" -H 'Content-Type: application/json' --data-binary \
        '{"entityType":"Model","entityId":9,"userId":4,"metricType":"View","metricValue":1,"createdAt":"2026-01-04 00:00:00"}' \
        "$SERVER_URL/track/entityMetricEvents?wait_for_delivery=1&wait_for_delivery_timeout_ms=300")"
      check "/track with ClickHouse down answers 202" grep -q "202 Accepted" "$WORK/headers"
      check "/track with ClickHouse down says pending" grep -qi "X-Trackhouse-Delivery: pending" "$WORK/headers"
      out="$(printf '{"entityType":"Model","entityId":10,"userId":5,"metricType":"View","metricValue":1,"createdAt":"2026-01-05 00:00:00"}\n' |
        curl -sS --data-binary @- \
          "$SERVER_URL/?wait_for_delivery=1&wait_for_delivery_timeout_ms=300&query=INSERT%20INTO%20entityMetricEvents%20FORMAT%20JSONEachRow")"
      check "INSERT with ClickHouse down: TIMEOUT_EXCEEDED" contains "$out" "Code: 159."
      check "INSERT with ClickHouse down: the rows are stored" contains "$out" "rows are stored and will be delivered"
      out="$("$BIN" doctor --url "$SERVER_URL" 2>&1)"
      check "doctor exits 1 when ClickHouse is down" test $? -eq 1
      check "doctor says ClickHouse is not reachable" contains "$out" "NOT reachable"
      if stop_server; then ok "SIGTERM stops serve --clickhouse with exit 0"; else bad "SIGTERM stops serve --clickhouse with exit 0"; fi
      "$BIN" deadletter list --data "$WORK/spool" >/dev/null 2>&1
      check "deadletter list reads the spool's dead letters" test $? -eq 0
    else
      bad "serve --clickhouse starts"
    fi
    ch_stop
  else
    bad "clickhouse-server starts"
  fi
else
  echo "SKIP: ClickHouse mode (no clickhouse-server)"
fi

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
