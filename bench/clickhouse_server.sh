# Sourced by the benchmark scripts (clickhouse_ingest.sh, query/run.sh, track/run.sh,
# clickhouse_mode/run.sh): starts Debian's clickhouse-server (18.16) on free loopback ports with
# its own directory, and stops it; and starts `trackhouse serve` the same way.
#
#   ch_start DIR   writes DIR/config.xml and DIR/users.xml (loopback only, UTC, no query log),
#                  starts the server with DIR as its data, tmp and log directory, waits for
#                  /ping; sets CH_PID, CH_HTTP_PORT, CH_URL (http://127.0.0.1:PORT/).
#   ch_stop        stops it (bench_stop_pid). Safe to call twice.
#   ch_q SQL       runs one statement over HTTP and prints its result (CH_SETTINGS in the URL).
#   th_start DIR [SERVE-ARGS...]
#                  starts "$TRACKHOUSE" serve --data DIR on a free loopback port (log in
#                  DIR.log), waits for /ping; sets TH_PID and TH_PORT. Stop it with
#                  bench_stop_pid "$TH_PID".
#   th_q SQL       runs one statement on that trackhouse and prints its result.
#
# CH_SETTINGS holds allow_experimental_low_cardinality_type=1, which 18.16 needs before it
# creates LowCardinality columns. Needs curl and python3 (for the free ports).

CH_PID=""
CH_HTTP_PORT=""
CH_URL=""
CH_SETTINGS="allow_experimental_low_cardinality_type=1"

ch_start() {
  local dir="$1" server=/usr/sbin/clickhouse-server
  if [[ ! -x "$server" ]] && command -v clickhouse-server >/dev/null; then
    server="$(command -v clickhouse-server)"
  fi
  if [[ ! -x "$server" ]]; then
    echo "clickhouse-server missing; installing Debian's package" >&2
    apt-get install -y clickhouse-server clickhouse-client >&2
    server=/usr/sbin/clickhouse-server
  fi
  local tcp_port
  # Two free loopback ports (bound and released; the server takes them a moment later).
  read -r CH_HTTP_PORT tcp_port < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])
for s in socks: s.close()')

  mkdir -p "$dir/data" "$dir/tmp" "$dir/user_files" "$dir/format_schemas" "$dir/log"
  cat > "$dir/config.xml" <<EOF
<?xml version="1.0"?>
<yandex>
    <logger>
        <level>information</level>
        <log>$dir/log/server.log</log>
        <errorlog>$dir/log/server.err.log</errorlog>
        <size>100M</size>
        <count>1</count>
    </logger>
    <http_port>$CH_HTTP_PORT</http_port>
    <tcp_port>$tcp_port</tcp_port>
    <listen_host>127.0.0.1</listen_host>
    <path>$dir/data/</path>
    <tmp_path>$dir/tmp/</tmp_path>
    <user_files_path>$dir/user_files/</user_files_path>
    <format_schema_path>$dir/format_schemas/</format_schema_path>
    <users_config>$dir/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mark_cache_size>5368709120</mark_cache_size>
    <mlock_executable>false</mlock_executable>
</yandex>
EOF
  cat > "$dir/users.xml" <<EOF
<?xml version="1.0"?>
<yandex>
    <profiles><default></default></profiles>
    <users>
        <default>
            <password></password>
            <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas><default></default></quotas>
</yandex>
EOF

  "$server" --config-file="$dir/config.xml" >"$dir/log/stdout" 2>&1 &
  CH_PID=$!
  CH_URL="http://127.0.0.1:$CH_HTTP_PORT/"
  local i
  for i in $(seq 1 600); do
    if curl -sf "${CH_URL}ping" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$CH_PID" 2>/dev/null || [[ $i -eq 600 ]]; then
      echo "clickhouse-server did not start; its logs:" >&2
      tail -n 30 "$dir/log/stdout" "$dir/log/server.err.log" >&2 2>/dev/null || true
      return 1
    fi
    sleep 0.1
  done
}

# bench_stop_pid PID: SIGTERM, up to 60 s for a clean stop, then SIGKILL; reaps the child.
bench_stop_pid() {
  local pid="$1" _
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
}

ch_stop() {
  bench_stop_pid "$CH_PID"
  CH_PID=""
}

ch_q() {
  curl -sS --fail-with-body "${CH_URL}?${CH_SETTINGS}" --data-binary "$1"
}

th_start() {
  local dir="$1" i
  shift
  TH_PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  "$TRACKHOUSE" serve --data "$dir" --listen "127.0.0.1:$TH_PORT" "$@" >"$dir.log" 2>&1 &
  TH_PID=$!
  for i in $(seq 1 300); do
    curl -sf "http://127.0.0.1:$TH_PORT/ping" >/dev/null 2>&1 && return 0
    if ! kill -0 "$TH_PID" 2>/dev/null || [[ $i -eq 300 ]]; then
      echo "trackhouse serve did not start" >&2
      tail -n 20 "$dir.log" >&2
      return 1
    fi
    sleep 0.1
  done
}

th_q() {
  curl -sS --fail-with-body "http://127.0.0.1:$TH_PORT/" --data-binary "$1"
}
