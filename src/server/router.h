// Router: the server's request handler. It answers the operational routes (/ping, /health,
// /metrics) and implements the ClickHouse HTTP interface on `/`:
//
//  - the statement is the `query` URL argument, a newline, then the request body, exactly as
//    ClickHouse joins them; only the first max_query_bytes are parsed as the statement, the
//    rest of an INSERT's body is its data and streams into ingest::InsertStream chunk by chunk;
//  - INSERT and DDL need POST (a GET is read-only: READONLY, code 164); other statements go to
//    the QueryHandler, or fail with NOT_IMPLEMENTED when none is installed;
//  - every reply carries X-ClickHouse-Query-Id (the `query_id` argument or a fresh UUID) and
//    X-ClickHouse-Summary; errors are ClickHouse-shaped (server/http_error.h).
//
// Thread-safe: Handle() is called from many worker threads at once. Does not own the storage
// or the query handler.
#pragma once

#include <cstdint>
#include <string>

#include "common/clock.h"
#include "ingest/ingest.h"
#include "server/http.h"
#include "query/query.h"
#include "storage/storage.h"

namespace trackhouse::server {

struct RouterOptions {
  // Reported by /health: "embedded" or "clickhouse".
  std::string storage_mode = "embedded";
  // Most bytes of query text (URL `query` argument + start of the body) parsed as the
  // statement (ClickHouse's max_query_size). Default 256 KiB.
  uint32_t max_query_bytes = 256 * 1024;
  // Body bytes pulled per read while streaming an INSERT. Default 1 MiB.
  uint32_t read_chunk_bytes = 1 << 20;
  // Defaults of the insert path; the max_insert_block_size and
  // input_format_skip_unknown_fields URL settings override them per request.
  ingest::IngestOptions ingest;
  // Time source for now() defaults and /health uptime; nullptr = the real clock.
  Clock* clock = nullptr;
};

class Router final : public HttpHandler {
 public:
  Router(RouterOptions options, storage::Storage* storage, query::QueryHandler* query_handler);

  HttpResponse Handle(const HttpRequest& request, BodyReader* body) override;

 private:
  HttpResponse HandleHealth();
  HttpResponse HandleClickHouse(const HttpRequest& request, BodyReader* body);

  const RouterOptions options_;
  storage::Storage* const storage_;
  query::QueryHandler* const query_handler_;
  Clock* const clock_;
  const int64_t start_micros_;
};

// A random (version 4) UUID in its text form, for query ids.
std::string GenerateUuid();

}  // namespace trackhouse::server
