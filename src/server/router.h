// Router: the server's request handler. It answers the operational routes (/ping, /health,
// /metrics) and implements the ClickHouse HTTP interface on `/` (docs/http-api.md):
//
//  - credentials (X-ClickHouse-User/Key headers, basic auth or user/password arguments) are
//    checked first, by the Authenticator (server/auth.h);
//  - the statement is the `query` URL argument, a newline, then the request body, exactly as
//    ClickHouse joins them; only the first max_query_bytes are parsed as the statement, the
//    rest of an INSERT's body is its data and streams into ingest::InsertStream chunk by chunk
//    (inflated on the fly when sent with Content-Encoding gzip/deflate);
//  - URL arguments that are not reserved are ClickHouse settings, validated up front
//    (query/settings.h) and passed on; `param_<name>` are {name:Type} parameters;
//  - `session_id` keeps SET and USE between requests (server/session.h);
//  - INSERT, DDL need POST and readonly = 0 (otherwise READONLY, code 164); SET and USE are
//    answered here; other statements go to the QueryHandler, or fail with NOT_IMPLEMENTED when
//    none is installed;
//  - `wait_for_delivery=1` on an INSERT or a POST /track answers only once the storage has the
//    rows in their final store (storage::Storage::WaitForDelivery: ClickHouse confirmed them in
//    ClickHouse mode), waiting at most `wait_for_delivery_timeout_ms` (default 30000);
//  - GET /doctor (an admin key when keys are configured) reports the store as JSON: the query
//    handler's DoctorJson() when it is a DoctorSource (ClickHouse mode), else the mode's name;
//  - every reply carries X-ClickHouse-Query-Id (the `query_id` argument or a fresh UUID),
//    X-ClickHouse-Summary, X-ClickHouse-Timezone and X-ClickHouse-Server-Display-Name; errors
//    are ClickHouse-shaped (server/http_error.h) and counted per code on /metrics; bodies are
//    gzip/deflate-compressed with enable_http_compression=1 and a matching Accept-Encoding.
//
// Thread-safe: Handle() is called from many worker threads at once. Does not own the storage
// or the query handler.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/thread_annotations.h"
#include "ingest/ingest.h"
#include "query/query.h"
#include "query/settings.h"
#include "server/access.h"
#include "server/auth.h"
#include "server/http.h"
#include "server/session.h"
#include "server/track.h"
#include "server/track_options.h"
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
  // input_format_skip_unknown_fields settings override them per request.
  ingest::IngestOptions ingest;
  // Users allowed in; empty = the single user `default` with an empty password.
  std::vector<UserEntry> users;
  // Bounds and timeouts of `session_id` sessions.
  SessionOptions sessions;
  // X-ClickHouse-Server-Display-Name; empty = the host name.
  std::string display_name;
  // Time source for now() defaults, /health uptime and session expiry; nullptr = real clock.
  Clock* clock = nullptr;
  // POST /track/<table>.
  TrackOptions track;
  // API keys, end-user tokens, trusted proxies (docs/http-api.md, "Keys and access").
  AccessOptions access;
};

// Implemented by the query handler of a mode with more to say on GET /doctor than its name (the
// ClickHouse mode: reachability, server version, adaptations, spool backlog, each table's
// exactly-once mechanism). Thread-safe.
class DoctorSource {
 public:
  virtual ~DoctorSource() = default;
  // A JSON object.
  virtual std::string DoctorJson() = 0;
};

// Implemented by a query handler that runs statement text itself (the ClickHouse mode's
// pass-through): a read that trackhouse's parser refuses (JOIN, window functions, ...) -- a
// statement starting with SELECT, WITH, SHOW, DESCRIBE, DESC, EXISTS or EXPLAIN -- is then
// handed to it as an unparsed SELECT (no query, the text's last FORMAT) to run read-only.
class UnparsedReadHandler {
 public:
  virtual ~UnparsedReadHandler() = default;
};

class Router final : public HttpHandler {
 public:
  Router(RouterOptions options, storage::Storage* storage, query::QueryHandler* query_handler);
  // Waits for the answers of wait_for_delivery requests still waiting (each bounded by its
  // timeout).
  ~Router() override;

  HttpResponse Handle(const HttpRequest& request, BodyReader* body) override;

 private:
  struct Context;

  HttpResponse HandleHealth();
  HttpResponse HandleReady();
  HttpResponse HandleDoctor();
  // The stand-in statement of a read the parser refused, when the query handler is an
  // UnparsedReadHandler; nullptr otherwise.
  sql::StatementPtr UnparsedRead(std::string_view text) const;
  HttpResponse HandleTrack(const HttpRequest& request, BodyReader* body);
  // wait_for_delivery on /track: `r` with X-Trackhouse-Delivery, 202 when not delivered.
  static void MarkDelivery(const Status& delivered, HttpResponse* r);
  // Waits on a thread of its own until the rows up to `lsn` are delivered (or timeout_ms
  // passed), then answers `r` through `responder`.
  void StartDeliveryWait(std::shared_ptr<Responder> responder, HttpResponse r, uint64_t lsn,
                         int64_t timeout_ms);
  // With keys configured: the key a /track or /metrics request presents, or the refusal
  // (401 without a known key, 429 over its rate limit).
  Result<const ApiKey*> CheckKey(std::string_view presented, HttpResponse* refusal);
  // Whether the request's key may run `stmt` (its role, its tables); ACCESS_DENIED if not.
  Status Authorize(const sql::Statement& stmt, const Context& ctx) const;
  HttpResponse HandleClickHouse(const HttpRequest& request, BodyReader* raw_body);
  // Credentials, session, database and settings of a request.
  Status Prepare(const HttpRequest& request, Context* ctx);
  Status ExecuteSet(const sql::Statement& stmt, Context* ctx);
  Status ExecuteUse(const sql::Statement& stmt, Context* ctx);

  const RouterOptions options_;
  storage::Storage* const storage_;
  query::QueryHandler* const query_handler_;
  Clock* const clock_;
  const int64_t start_micros_;
  const std::string display_name_;
  const Authenticator auth_;
  SessionStore sessions_;
  const AccessControl access_;
  TrackHandler track_;
  // wait_for_delivery threads still running (~Router waits for them).
  std::mutex waiters_mu_;
  std::condition_variable waiters_cv_;
  int waiters_ GUARDED_BY(waiters_mu_) = 0;
};

// A random (version 4) UUID in its text form, for query ids.
std::string GenerateUuid();

}  // namespace trackhouse::server
