// QueryHandler: the hook through which the HTTP interface runs statements that are neither
// INSERT nor DDL (SELECT, SHOW, DESCRIBE, EXISTS, ...). The query engine implements it; until
// one is installed the server answers such statements with NOT_IMPLEMENTED (HTTP 501).
//
// Implementations are thread-safe: the server calls Execute from many threads at once.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "sql/ast.h"

namespace trackhouse::server {

struct QueryRequest {
  // The statement, parsed; `sql` is its text (query parameter + body, as ClickHouse joins them).
  const sql::Statement* statement = nullptr;
  std::string_view sql;
  std::string query_id;
  // The current database (`database=` URL argument, default "default").
  std::string database;
  // URL arguments that are not reserved HTTP-interface arguments: settings such as
  // max_result_rows, and `param_<name>` values for {name:Type} parameters.
  std::vector<std::pair<std::string, std::string>> settings;
  // `default_format` URL argument or X-ClickHouse-Format header; empty when not given.
  std::string default_format;
  // GET requests are read-only (ClickHouse's readonly=2).
  bool readonly = false;
  // Current time for now() and friends, microseconds since the epoch.
  int64_t now_micros = 0;
};

struct QueryResult {
  std::string content_type = "text/tab-separated-values; charset=UTF-8";
  // The formatted result (the next issue may turn this into a stream).
  std::string body;
  // X-ClickHouse-Format value; empty for none.
  std::string format;
  uint64_t read_rows = 0;
  uint64_t read_bytes = 0;
  uint64_t result_rows = 0;
  uint64_t result_bytes = 0;
};

class QueryHandler {
 public:
  virtual ~QueryHandler() = default;
  // Runs the statement. Errors carry ClickHouse codes, reported as the HTTP interface does.
  virtual Result<QueryResult> Execute(const QueryRequest& request) = 0;
};

}  // namespace trackhouse::server
