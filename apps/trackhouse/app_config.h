// AppConfig: every setting of the trackhouse binary, read from a TOML file (`--config FILE`)
// and then overridden by command-line flags. docs/config.md documents each key.
//
//   [server]   listen, io_threads, max_connections, sessions, ... -> server::ServerOptions
//   [[server.users]] name, password                             -> ClickHouse-interface users
//   [[keys]]   name, key, role, tables, rate_per_second, burst  -> server.access.keys
//   [auth]     jwt_secret, trusted_proxies, ...                -> server.access
//   [track]    max_body_bytes, max_rows, user_id_column, ...   -> server.track
//   [query]    max_threads, max_execution_time, ...            -> query::QueryEngineOptions
//   [insert]   max_insert_block_size, skip_unknown_fields, ... -> ingest::IngestOptions
//   [storage]  data, mode                                      -> where the store lives
//   [engine]   sync, flush_rows, merge_threads, ...            -> engine::EngineOptions
//   [clickhouse] url, cluster, tls_*, batch_*, spool_max_bytes  -> the ClickHouse mode
//   [client]   url                                             -> `migrate`/`query` --url
//   [log]      level, format                                   -> common/logging.h
//
// Plain values; not thread-safe (built once in main()).
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "delivery/delivery.h"
#include "engine/engine.h"
#include "query/query.h"
#include "server/server.h"

namespace trackhouse::app {

struct AppConfig {
  // [server] (listen also sets server.host/server.port).
  std::string listen = "127.0.0.1:8124";
  server::ServerOptions server;
  // [storage]: the data directory (the embedded store, or the ClickHouse mode's spool), and the
  // storage mode: "embedded", or "clickhouse" (set by [clickhouse] url or --clickhouse).
  std::string data_dir;  // empty: not configured
  std::string storage_mode = "embedded";
  // [clickhouse]: the ClickHouse mode. `clickhouse_url` (http[s]://[user:pass@]host[:port][/db])
  // selects it; `delivery` holds cluster, batch_max_rows, batch_max_bytes, batch_max_age_ms,
  // spool_max_bytes, set_deduplication_window, and tls_ca_file / tls_verify in
  // delivery.clickhouse (main() parses the URL into the rest of delivery.clickhouse).
  std::string clickhouse_url;
  delivery::DeliveryOptions delivery;
  // How often trackhouse looks for expired partitions of tables whose TTL it enforces itself
  // (servers before 19.6).
  uint32_t ttl_check_interval_ms = 600000;
  // [engine]: the embedded engine's options (data_dir is taken from [storage] data).
  engine::EngineOptions engine;
  // [query]: defaults of the query settings (a request's settings override them).
  query::QueryEngineOptions query;
  // [client]: the server `migrate` and `query` talk to when no --data is given.
  std::string client_url;
  // [log] level: debug, info, warn, error, off (also trace = debug, critical = error).
  std::string log_level = "info";
  // [log] format: text (one logfmt-like line per event) or json (one object per line).
  std::string log_format = "text";
};

// Reads `path` (TOML) into *config. Unknown sections or keys, and values of the wrong type,
// are InvalidArgument errors naming the file, the key and what was expected, so that a typo
// never goes unnoticed. So are [[keys]] entries without a name, with a key shorter than 16
// characters, or a name or key used twice; unparsable [auth] trusted_proxies; and cors_origins
// that are not origins. Keys and secrets never appear in errors. (tls_cert and tls_key must come
// together, which main() checks once the flags are applied.)
Status LoadConfigFile(const std::string& path, AppConfig* config);

// Splits "HOST:PORT" / "[v6]:PORT" / ":PORT" (all interfaces) into host and port.
Status ParseListen(std::string_view listen, std::string* host, uint16_t* port);

}  // namespace trackhouse::app
