// The query module's facade: runs the statements that read (SELECT, SHOW, DESCRIBE, EXISTS,
// SHOW CREATE, system tables) and INSERT ... SELECT / OPTIMIZE against a storage::Storage, and
// renders their results in a ClickHouse output format.
//
//   query::QueryEngine engine(&storage, {});
//   query::QueryRequest req;  req.statement = &stmt;  req.sql = text;  ...
//   auto result = engine.Execute(req);   // body in the requested FORMAT, with statistics
//
// QueryHandler is the interface the HTTP interface (src/server) and `trackhouse query` call; the
// embedded mode implements it with QueryEngine (planner and vectorized executor over the
// engine's scans), the ClickHouse mode with a pass-through to the ClickHouse server.
//
// Errors are ClickHouse-shaped Statuses carrying ClickHouse codes: unsupported syntax or
// functions name what is unsupported (NOT_IMPLEMENTED / UNKNOWN_FUNCTION ...), exceeded limits
// name the limit (TIMEOUT_EXCEEDED, MEMORY_LIMIT_EXCEEDED, TOO_MANY_ROWS_OR_BYTES).
//
// Implementations are thread-safe: Execute is called from many threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "sql/ast.h"

namespace trackhouse::storage {
class Storage;
}  // namespace trackhouse::storage

namespace trackhouse::query {

struct QueryRequest {
  // The statement, parsed; `sql` is its text (query parameter + body, as ClickHouse joins them).
  const sql::Statement* statement = nullptr;
  std::string_view sql;
  std::string query_id;
  // The current database (`database=` URL argument, default "default").
  std::string database = "default";
  // URL arguments that are not reserved HTTP-interface arguments: settings such as
  // max_result_rows, and `param_<name>` values for {name:Type} parameters (name with the
  // `param_` prefix, value as given).
  std::vector<std::pair<std::string, std::string>> settings;
  // `default_format` URL argument or X-ClickHouse-Format header; empty when not given
  // (TabSeparated, as ClickHouse).
  std::string default_format;
  // GET requests are read-only (ClickHouse's readonly=2).
  bool readonly = false;
  // Current time for now() and friends, microseconds since the epoch.
  int64_t now_micros = 0;
};

struct QueryResult {
  std::string content_type = "text/tab-separated-values; charset=UTF-8";
  // The formatted result.
  std::string body;
  // X-ClickHouse-Format value; empty for none.
  std::string format;
  uint64_t read_rows = 0;
  uint64_t read_bytes = 0;
  uint64_t result_rows = 0;
  uint64_t result_bytes = 0;
  // For INSERT ... SELECT: rows and bytes written.
  uint64_t written_rows = 0;
  uint64_t written_bytes = 0;
};

class QueryHandler {
 public:
  virtual ~QueryHandler() = default;
  // Runs the statement. Errors carry ClickHouse codes, reported as the HTTP interface does.
  virtual Result<QueryResult> Execute(const QueryRequest& request) = 0;
};

// Counts a finished statement on /metrics: trackhouse_query_statements_total{kind, outcome} and
// the latency histogram trackhouse_query_duration_seconds{kind}, where kind is select, insert,
// ddl or other and outcome ok or error. QueryEngine::Execute records the statements it runs;
// the HTTP interface records those it runs itself (INSERT with data, DDL, SET, USE).
void RecordStatement(const sql::Statement& stmt, bool ok, double seconds);

struct QueryEngineOptions {
  // Defaults of ClickHouse's query settings; per-query settings override them.
  uint32_t max_threads = 0;              // 0 = hardware cores
  uint64_t max_execution_time_ms = 0;    // 0 = unlimited
  uint64_t max_memory_usage = 10ull << 30;  // bytes held by one query's state (10 GiB)
  uint64_t max_result_rows = 0;          // 0 = unlimited
  uint64_t max_result_bytes = 0;         // 0 = unlimited
  // Largest groupArray a query may build per group (ClickHouse's groupArray(N) bounds it too).
  uint64_t max_group_array_size = 1 << 20;
};

// The embedded mode's query engine. Does not own the storage, which must outlive it.
class QueryEngine final : public QueryHandler {
 public:
  QueryEngine(storage::Storage* storage, QueryEngineOptions options);
  ~QueryEngine() override;

  Result<QueryResult> Execute(const QueryRequest& request) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace trackhouse::query
