#include "server/router.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <memory>
#include <optional>
#include <random>
#include <thread>

#include "common/metrics.h"
#include "formats/output_format.h"
#include "server/compression.h"
#include "server/http_error.h"
#include "server/http_metrics.h"
#include "server/version.h"
#include "sql/lexer.h"
#include "sql/parser.h"

namespace trackhouse::server {
namespace {

struct RouterMetrics {
  metrics::Counter& not_found = metrics::GetCounter(
      "trackhouse_http_not_found_total", "Requests for a path that has no handler (404)");
  metrics::Counter& key_failures = metrics::GetCounter(
      "trackhouse_http_key_failures_total",
      "Requests refused for a missing or unknown API key, or a bad end-user token");
  metrics::Counter& access_denied = metrics::GetCounter(
      "trackhouse_http_access_denied_total",
      "Requests whose key's role or table list does not allow what they asked (403)");
  metrics::Counter& not_ready = metrics::GetCounter("trackhouse_http_not_ready_total",
                                                    "GET /ready answers that were not ready (503)");
  metrics::Counter& rate_limited = metrics::GetCounter(
      "trackhouse_http_rate_limited_total", "Requests refused by a key's rate limit (429)");
  metrics::Counter& queries = metrics::GetCounter(
      "trackhouse_http_queries_total", "Statements received over the ClickHouse HTTP interface");
  metrics::Counter& query_errors = metrics::GetCounter(
      "trackhouse_http_query_errors_total",
      "Statements over the ClickHouse HTTP interface that failed (any error code)");
  metrics::Counter& syntax_errors =
      metrics::GetCounter("trackhouse_http_syntax_errors_total", "Statements that failed to parse");
  metrics::Counter& readonly_errors = metrics::GetCounter("trackhouse_http_readonly_errors_total",
                                                          "INSERT or DDL sent with GET (READONLY)");
  metrics::Counter& not_implemented = metrics::GetCounter(
      "trackhouse_http_not_implemented_total",
      "Statements refused with NOT_IMPLEMENTED (no query engine, unsupported feature)");
  metrics::Counter& inserts = metrics::GetCounter("trackhouse_insert_requests_total",
                                                  "INSERT statements received over HTTP");
  metrics::Counter& insert_errors = metrics::GetCounter("trackhouse_insert_errors_total",
                                                        "INSERT statements over HTTP that failed");
  metrics::Counter& insert_rows =
      metrics::GetCounter("trackhouse_insert_rows_total", "Rows stored by INSERTs over HTTP");
  metrics::Counter& insert_body_bytes = metrics::GetCounter(
      "trackhouse_insert_body_bytes_total", "Bytes of INSERT data received over HTTP");
  metrics::Counter& insert_partial = metrics::GetCounter(
      "trackhouse_insert_partial_total",
      "Failed INSERTs that had already committed some blocks (those rows stay stored)");
  metrics::Counter& ddl = metrics::GetCounter("trackhouse_ddl_total", "DDL statements executed");
  metrics::Counter& ddl_errors =
      metrics::GetCounter("trackhouse_ddl_errors_total", "DDL statements that failed");
  metrics::Counter& health_failures =
      metrics::GetCounter("trackhouse_health_failures_total", "/health answers that were not ok");
};

RouterMetrics& M() {
  static RouterMetrics* m = new RouterMetrics();
  return *m;
}

constexpr std::string_view kOk = "Ok.\n";

// URL arguments the ClickHouse HTTP interface reserves (not settings).
bool IsReservedParam(std::string_view name) {
  static constexpr std::string_view kReserved[] = {
      "query",          "database",        "query_id",          "user",       "password",
      "default_format", "compress",        "decompress",        "session_id", "session_timeout",
      "session_check",  "buffer_size",     "wait_end_of_query", "role",       "stacktrace",
      "quota_key",      "default_database", "wait_for_delivery", "wait_for_delivery_timeout_ms"};
  for (auto r : kReserved) {
    if (name == r) return true;
  }
  return false;
}

// What one statement over the ClickHouse interface reports in X-ClickHouse-Summary.
struct Summary {
  uint64_t read_rows = 0;
  uint64_t read_bytes = 0;
  uint64_t written_rows = 0;
  uint64_t written_bytes = 0;
  uint64_t result_rows = 0;
  uint64_t result_bytes = 0;
  int64_t elapsed_ns = 0;

  std::string ToJson() const {
    return fmt::format(
        "{{\"read_rows\":\"{}\",\"read_bytes\":\"{}\",\"written_rows\":\"{}\","
        "\"written_bytes\":\"{}\",\"total_rows_to_read\":\"{}\",\"result_rows\":\"{}\","
        "\"result_bytes\":\"{}\",\"elapsed_ns\":\"{}\"}}",
        read_rows, read_bytes, written_rows, written_bytes, read_rows, result_rows, result_bytes,
        elapsed_ns);
  }
};

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == 0) return "trackhouse";
  return buf;
}

// Counts an error on /metrics under its ClickHouse name:
// trackhouse_http_exceptions_unknown_table_total, ...
void CountErrorCode(int code) {
  std::string name(ch::ErrorCodeName(code));
  for (char& c : name) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  metrics::GetCounter(fmt::format("trackhouse_http_exceptions_{}_total", name),
                      fmt::format("Statements over the ClickHouse HTTP interface that failed with "
                                  "ClickHouse error code {}",
                                  code))
      .Add();
}

// Retry-After for a wait of `seconds`: whole seconds, at least 1.
int64_t RetryAfterSeconds(double seconds) {
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(seconds)));
}

// The storage an insert asking for wait_for_delivery=1 writes through: everything goes to the
// real storage, and the highest LSN of the inserts made through it is kept for WaitForDelivery.
// One per request; the LSN cell outlives it for callbacks that run late.
class LsnCapture final : public storage::Storage {
 public:
  explicit LsnCapture(storage::Storage* base)
      : base_(base), lsn_(std::make_shared<std::atomic<uint64_t>>(0)) {}

  uint64_t lsn() const { return lsn_->load(); }

  Status Start() override { return base_->Start(); }
  Status Stop() override { return base_->Stop(); }
  Status ExecuteDdl(const sql::Statement& stmt, std::string_view sql,
                    const std::string& current_database) override {
    return base_->ExecuteDdl(stmt, sql, current_database);
  }
  Result<std::vector<std::string>> ListDatabases() override { return base_->ListDatabases(); }
  Result<std::vector<std::string>> ListTables(const std::string& database) override {
    return base_->ListTables(database);
  }
  Result<storage::TableSchemaPtr> GetTable(const std::string& database,
                                           const std::string& table) override {
    return base_->GetTable(database, table);
  }
  Result<storage::InsertResult> Insert(const storage::TableSchema& schema,
                                       const types::Block& block) override {
    return Keep(base_->Insert(schema, block));
  }
  Result<storage::InsertResult> InsertIdempotent(
      const storage::TableSchema& schema, const types::Block& block,
      const storage::IdempotencyRecord& record) override {
    return Keep(base_->InsertIdempotent(schema, block, record));
  }
  Status InsertAsync(const storage::TableSchema& schema, const types::Block& block,
                     const storage::IdempotencyRecord* record, InsertCallback done) override {
    return base_->InsertAsync(
        schema, block, record,
        [lsn = lsn_, done = std::move(done)](Result<storage::InsertResult> r) {
          if (r.ok()) Raise(*lsn, r->lsn);
          done(std::move(r));
        });
  }
  Status WaitForDelivery(uint64_t lsn, int64_t timeout_ms) override {
    return base_->WaitForDelivery(lsn, timeout_ms);
  }
  std::vector<storage::ReadinessCheck> CheckReadiness() override {
    return base_->CheckReadiness();
  }
  std::optional<storage::IdempotencyRecord> FindIdempotencyKey(std::string_view key) override {
    return base_->FindIdempotencyKey(key);
  }
  Result<std::vector<storage::PartInfo>> ListParts(const std::string& database,
                                                   const std::string& table) override {
    return base_->ListParts(database, table);
  }
  Result<std::unique_ptr<storage::ScanSource>> Scan(const std::string& database,
                                                    const std::string& table,
                                                    const storage::ScanRequest& request) override {
    return base_->Scan(database, table, request);
  }
  Status FlushAll() override { return base_->FlushAll(); }

 private:
  static void Raise(std::atomic<uint64_t>& cell, uint64_t lsn) {
    uint64_t seen = cell.load();
    while (lsn > seen && !cell.compare_exchange_weak(seen, lsn)) {
    }
  }
  Result<storage::InsertResult> Keep(Result<storage::InsertResult> r) {
    if (r.ok()) Raise(*lsn_, r->lsn);
    return r;
  }

  storage::Storage* const base_;
  std::shared_ptr<std::atomic<uint64_t>> lsn_;
};

constexpr int64_t kDefaultDeliveryWaitMs = 30000;
// /track requests waiting for delivery at once, each on a thread of its own; more are answered
// 202 (pending) at once.
constexpr int kMaxDeliveryWaits = 256;

// wait_for_delivery=1: the timeout to wait with (wait_for_delivery_timeout_ms, default 30 s), or
// nullopt when the request does not ask to wait.
Result<std::optional<int64_t>> DeliveryWait(const HttpRequest& request) {
  const std::string* wait = request.Param("wait_for_delivery");
  if (wait == nullptr || *wait == "0" || *wait == "false") return std::optional<int64_t>();
  if (*wait != "1" && *wait != "true") {
    return Status::InvalidArgument(
        fmt::format("wait_for_delivery must be 0 or 1, not '{}'", *wait), ch::kBadArguments);
  }
  int64_t timeout = kDefaultDeliveryWaitMs;
  if (const std::string* t = request.Param("wait_for_delivery_timeout_ms"); t != nullptr) {
    auto [p, ec] = std::from_chars(t->data(), t->data() + t->size(), timeout);
    if (ec != std::errc() || p != t->data() + t->size() || timeout < 0) {
      return Status::InvalidArgument(
          fmt::format("wait_for_delivery_timeout_ms must be a number of milliseconds, not '{}'",
                      *t),
          ch::kBadArguments);
    }
  }
  return std::optional<int64_t>(timeout);
}

// The error of a wait for delivery that did not end well: the rows are stored all the same.
Status DeliveryWaitFailed(const Status& status, uint64_t rows) {
  return Status(status.code(),
                fmt::format("the {} rows are stored and will be delivered, but their delivery "
                            "was not confirmed: {}",
                            rows, status.message()),
                status.clickhouse_code() != 0 ? status.clickhouse_code() : ch::kTimeoutExceeded);
}

HttpResponse ErrorResponse(const Status& status, int* clickhouse_code) {
  HttpError e = ToHttpError(status);
  *clickhouse_code = e.clickhouse_code;
  HttpResponse r;
  r.status = e.http_status;
  r.body = std::move(e.body);
  r.headers.emplace_back("X-ClickHouse-Exception-Code", std::to_string(e.clickhouse_code));
  if (e.retry_after_seconds > 0) {
    r.headers.emplace_back("Retry-After", std::to_string(e.retry_after_seconds));
    CountBackpressure(BackpressureReasonOf(status));
  }
  return r;
}

}  // namespace

std::string GenerateUuid() {
  thread_local std::mt19937_64 rng([] {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }());
  uint64_t hi = rng(), lo = rng();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 1
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xffff,
                     hi & 0xffff, lo >> 48, lo & 0xffffffffffffULL);
}

Router::Router(RouterOptions options, storage::Storage* storage, query::QueryHandler* query_handler)
    : options_(std::move(options)),
      storage_(storage),
      query_handler_(query_handler),
      clock_(options_.clock != nullptr ? options_.clock : Clock::Real()),
      start_micros_(clock_->MonotonicMicros()),
      display_name_(options_.display_name.empty() ? HostName() : options_.display_name),
      auth_(options_.users),
      sessions_(options_.sessions, clock_),
      access_(options_.access),
      track_(options_.track, storage, clock_) {}

HttpResponse Router::Handle(const HttpRequest& request, BodyReader* body) {
  const std::string& path = request.path;
  bool get_like = request.method == "GET" || request.method == "HEAD";
  if (path == "/ping" || path == "/health" || path == "/metrics" || path == "/ready") {
    if (!get_like) {
      HttpResponse r;
      r.status = 405;
      r.headers.emplace_back("Allow", "GET, HEAD");
      r.body = fmt::format("{} accepts GET and HEAD only\n", path);
      return r;
    }
    if (path == "/ping") {
      HttpResponse r;
      r.body = std::string(kOk);
      return r;
    }
    if (path == "/health") return HandleHealth();
    if (access_.keys_configured()) {
      HttpResponse refusal;
      auto key = CheckKey(AccessControl::PresentedKey(request), &refusal);
      if (!key.ok()) return refusal;
      if (!access_.MayRead(**key)) {
        return TrackError(403, "FORBIDDEN",
                          fmt::format("key '{}' may not read {}", (*key)->name, path));
      }
    }
    if (path == "/ready") return HandleReady();
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = metrics::RenderPrometheus();
    return r;
  }
  if (path == "/" || path.empty()) {
    // ClickHouse answers a bare GET / like /ping.
    if (get_like && request.Param("query") == nullptr && !request.has_body) {
      HttpResponse r;
      r.body = std::string(kOk);
      return r;
    }
    return HandleClickHouse(request, body);
  }
  if (path.starts_with("/track/")) return HandleTrack(request, body);
  if (path == "/doctor") {
    if (!get_like) {
      HttpResponse r;
      r.status = 405;
      r.headers.emplace_back("Allow", "GET, HEAD");
      r.body = "/doctor accepts GET and HEAD only\n";
      return r;
    }
    if (access_.keys_configured()) {
      HttpResponse refusal;
      auto key = CheckKey(AccessControl::PresentedKey(request), &refusal);
      if (!key.ok()) return refusal;
      if (!access_.MayAdminister(**key)) {
        M().access_denied.Add();
        return TrackError(403, "FORBIDDEN",
                          fmt::format("key '{}' may not read /doctor (an admin key may)",
                                      (*key)->name));
      }
    }
    return HandleDoctor();
  }
  M().not_found.Add();
  HttpResponse r;
  r.status = 404;
  r.body = fmt::format(
      "There is no handle {}\n\nUse / or /ping for health checks, /health for status, /metrics "
      "for Prometheus metrics.\nSend queries with POST / (statement in the body or in the "
      "query argument) or GET /?query=...\n",
      path);
  return r;
}

HttpResponse Router::HandleTrack(const HttpRequest& request, BodyReader* body) {
  const TrackTable table = TrackTable::Parse(std::string_view(request.path).substr(7));
  if (access_.keys_configured()) {
    HttpResponse refusal;
    auto key = CheckKey(AccessControl::PresentedKey(request), &refusal);
    if (!key.ok()) return refusal;
    if (!access_.MayWrite(**key, table.database, table.table)) {
      M().access_denied.Add();
      HttpResponse r = TrackError(403, "FORBIDDEN",
                                  fmt::format("key '{}' may not write to {}.{}", (*key)->name,
                                              table.database, table.table));
      r.close = !body->done();
      return r;
    }
  }
  TrackActor actor;
  actor.ip = access_.ClientIp(request);
  actor.user_agent = std::string(request.Header("User-Agent"));
  std::string_view token = request.Header("X-Trackhouse-Token");
  if (token.empty()) {
    if (const std::string* t = request.Param("token"); t != nullptr) token = *t;
  }
  if (!token.empty()) {
    auto user = access_.UserFromToken(token, clock_->NowMicros() / 1000000);
    if (!user.ok()) {
      M().key_failures.Add();
      HttpResponse r = TrackError(401, "UNAUTHORIZED", user.status().message());
      r.close = !body->done();
      return r;
    }
    actor.user_id = std::move(user).value();
  } else {
    actor.user_id = access_.TrustedUser(request);
  }
  auto wait = DeliveryWait(request);
  if (!wait.ok()) {
    HttpResponse r = TrackError(400, "BAD_REQUEST", wait.status().message());
    r.close = !body->done();
    return r;
  }
  if (!*wait) return track_.Handle(request, body, table, actor);
  // wait_for_delivery=1: stored through an LSN capture by a handler of this request's own,
  // committing on this thread, then answered once delivered (200, X-Trackhouse-Delivery:
  // delivered) or when the wait ends without (202, pending: the rows stay stored and are
  // delivered later). Idempotency-Keys still hold: the store refuses a key stored twice. A
  // replayed answer (nothing stored now) is sent as it is.
  HttpRequest waiting = request;
  waiting.responder = nullptr;
  LsnCapture capture(storage_);
  TrackHandler handler(options_.track, &capture, clock_);
  HttpResponse r = handler.Handle(waiting, body, table, actor);
  if (r.status != 200 || capture.lsn() == 0) return r;
  if (request.responder == nullptr) {
    MarkDelivery(storage_->WaitForDelivery(capture.lsn(), **wait), &r);
    return r;
  }
  // The wait may be long: it happens on a thread of its own, which answers through the
  // responder, so that neither a worker nor an io thread (small /track requests are served
  // on one) is held.
  StartDeliveryWait(request.responder, std::move(r), capture.lsn(), **wait);
  HttpResponse deferred;
  deferred.deferred = true;
  return deferred;
}

void Router::MarkDelivery(const Status& delivered, HttpResponse* r) {
  r->headers.emplace_back("X-Trackhouse-Delivery", delivered.ok() ? "delivered" : "pending");
  if (!delivered.ok()) r->status = 202;
}

void Router::StartDeliveryWait(std::shared_ptr<Responder> responder, HttpResponse r, uint64_t lsn,
                               int64_t timeout_ms) {
  bool room = false;
  {
    std::lock_guard<std::mutex> lock(waiters_mu_);
    room = waiters_ < kMaxDeliveryWaits;
    if (room) ++waiters_;
  }
  if (!room) {
    // Bounded like everything else: past the limit the rows (stored already) are answered as
    // pending at once instead of starting another thread.
    MarkDelivery(Status::ResourceExhausted("too many requests waiting for delivery"), &r);
    responder->Respond(std::move(r));
    return;
  }
  std::thread([this, responder = std::move(responder), r = std::move(r), lsn,
               timeout_ms]() mutable {
    MarkDelivery(storage_->WaitForDelivery(lsn, timeout_ms), &r);
    responder->Respond(std::move(r));
    std::lock_guard<std::mutex> lock(waiters_mu_);
    if (--waiters_ == 0) waiters_cv_.notify_all();
  }).detach();
}

Router::~Router() {
  // Waits for delivery are bounded by their timeouts.
  std::unique_lock<std::mutex> lock(waiters_mu_);
  waiters_cv_.wait(lock, [this] { return waiters_ == 0; });
}

Result<const ApiKey*> Router::CheckKey(std::string_view presented, HttpResponse* refusal) {
  const ApiKey* key = access_.FindKey(presented);
  if (key == nullptr) {
    M().key_failures.Add();
    *refusal = TrackError(401, "UNAUTHORIZED",
                          presented.empty() ? "this server needs a key: send Authorization: "
                                              "Bearer <key> (or ?key=<key>)"
                                            : "the key is not a configured key");
    refusal->headers.emplace_back("WWW-Authenticate", "Bearer");
    refusal->close = true;
    return Status::InvalidArgument("no valid key", ch::kAuthenticationFailed);
  }
  if (auto wait = access_.TakeToken(*key, clock_->NowMicros()); wait) {
    M().rate_limited.Add();
    CountBackpressure(BackpressureReason::kRateLimit);
    *refusal = TrackError(429, "RATE_LIMITED",
                          fmt::format("key '{}' is over its rate limit ({} requests per second)",
                                      key->name, key->rate_per_second));
    refusal->headers.emplace_back("Retry-After", std::to_string(RetryAfterSeconds(*wait)));
    refusal->close = true;
    return Status::ResourceExhausted("rate limited", ch::kQuotaExceeded);
  }
  return key;
}

HttpResponse Router::HandleReady() {
  std::vector<storage::ReadinessCheck> checks = storage_->CheckReadiness();
  bool ready = true;
  std::string body = "{\"ready\":";
  std::string items;
  for (const auto& c : checks) {
    ready &= c.ok;
    if (!items.empty()) items.push_back(',');
    formats::AppendJsonString(c.name, true, &items);
    items += fmt::format(":{{\"ok\":{}", c.ok ? "true" : "false");
    if (!c.detail.empty()) {
      items += ",\"detail\":";
      formats::AppendJsonString(c.detail, true, &items);
    }
    items.push_back('}');
  }
  body += fmt::format("{},\"checks\":{{{}}}}}\n", ready ? "true" : "false", items);
  if (!ready) M().not_ready.Add();
  HttpResponse r;
  r.status = ready ? 200 : 503;
  r.content_type = "application/json";
  r.body = std::move(body);
  if (!ready) r.headers.emplace_back("Retry-After", "1");
  return r;
}

HttpResponse Router::HandleDoctor() {
  HttpResponse r;
  r.content_type = "application/json; charset=UTF-8";
  if (auto* source = dynamic_cast<DoctorSource*>(query_handler_); source != nullptr) {
    r.body = source->DoctorJson() + "\n";
    return r;
  }
  std::string mode;
  formats::AppendJsonString(options_.storage_mode, true, &mode);
  r.body = fmt::format("{{\"mode\":{},\"version\":\"{}\"}}\n", mode, kVersion);
  return r;
}

sql::StatementPtr Router::UnparsedRead(std::string_view text) const {
  if (dynamic_cast<const UnparsedReadHandler*>(query_handler_) == nullptr) return nullptr;
  sql::Lexer lexer(text);
  sql::Token first = lexer.Next();
  static constexpr std::string_view kReads[] = {"SELECT", "WITH",   "SHOW",   "DESCRIBE",
                                                "DESC",   "EXISTS", "EXPLAIN"};
  bool read = false;
  for (std::string_view word : kReads) read |= first.IsKeyword(word);
  if (!read) return nullptr;
  auto stmt = std::make_unique<sql::SelectStmt>();
  // The result format: the last `FORMAT name` of the text, as ClickHouse takes it.
  sql::Token prev = first;
  for (sql::Token t = lexer.Next(); !t.Is(sql::TokenKind::kEnd) && !t.Is(sql::TokenKind::kError);
       t = lexer.Next()) {
    if (prev.IsKeyword("FORMAT") && t.Is(sql::TokenKind::kBareWord)) stmt->format = t.text;
    prev = t;
  }
  return stmt;
}

HttpResponse Router::HandleHealth() {
  int64_t uptime_s = (clock_->MonotonicMicros() - start_micros_) / 1000000;
  auto dbs = storage_->ListDatabases();
  HttpResponse r;
  r.content_type = "application/json; charset=UTF-8";
  if (!dbs.ok()) {
    M().health_failures.Add();
    r.status = 503;
    std::string msg = dbs.status().message();
    std::string escaped;
    for (char c : msg) {
      if (c == '"' || c == '\\') escaped.push_back('\\');
      if (static_cast<unsigned char>(c) < 0x20) {
        escaped += fmt::format("\\u{:04x}", c);
        continue;
      }
      escaped.push_back(c);
    }
    r.body = fmt::format(
        "{{\"status\":\"unavailable\",\"version\":\"{}\",\"storage\":\"{}\",\"uptime_seconds\":{},"
        "\"error\":\"{}\"}}\n",
        kVersion, options_.storage_mode, uptime_s, escaped);
    return r;
  }
  r.body = fmt::format(
      "{{\"status\":\"ok\",\"version\":\"{}\",\"storage\":\"{}\",\"uptime_seconds\":{},"
      "\"databases\":{}}}\n",
      kVersion, options_.storage_mode, uptime_s, dbs->size());
  return r;
}

// What Prepare() works out about a request over the ClickHouse interface.
struct Router::Context {
  std::string user;
  // The key the request presented when keys are configured; nullptr otherwise.
  const ApiKey* key = nullptr;
  // The current database of the statement.
  std::string database = "default";
  // Session settings, then the URL's settings, validated; passed to the query engine.
  std::vector<std::pair<std::string, std::string>> setting_args;
  query::QuerySettings settings;
  // ClickHouse's readonly level: 2 for GET (reads and SET allowed), else the setting.
  uint32_t readonly = 0;
  bool get = false;
  SessionStore::Lease session;
  ContentEncoding response_encoding = ContentEncoding::kIdentity;
};

namespace {

Status ReadonlyError(bool get) {
  return Status(StatusCode::kInvalidArgument,
                get ? "Cannot execute query in readonly mode. For queries over HTTP, method GET "
                      "implies readonly. You should use method POST for modifying queries"
                    : "Cannot execute query in readonly mode",
                ch::kReadonly);
}

bool IsTrue(const std::string* v) { return v != nullptr && (*v == "1" || *v == "true"); }

}  // namespace

Status Router::Prepare(const HttpRequest& request, Context* ctx) {
  if (access_.keys_configured()) {
    // The key takes the password's place, in any of the three credential forms.
    TH_ASSIGN_OR_RETURN(Credentials c, Authenticator::ReadCredentials(request));
    ctx->key = access_.FindKey(c.password);
    if (ctx->key == nullptr) {
      M().key_failures.Add();
      return Status::InvalidArgument(
          fmt::format("{}: Authentication failed: the password is not a configured key", c.user),
          ch::kAuthenticationFailed);
    }
    ctx->user = std::move(c.user);
  } else {
    TH_ASSIGN_OR_RETURN(ctx->user, auth_.Authenticate(request));
  }

  if (const std::string* id = request.Param("session_id"); id != nullptr && !id->empty()) {
    TH_ASSIGN_OR_RETURN(uint32_t timeout, sessions_.ParseTimeout(request.Param("session_timeout")));
    TH_ASSIGN_OR_RETURN(ctx->session, sessions_.Acquire(ctx->user, *id, timeout,
                                                        IsTrue(request.Param("session_check"))));
  }
  if (IsTrue(request.Param("compress")) || IsTrue(request.Param("decompress"))) {
    return Status::NotSupported(
        "The compress=1 / decompress=1 URL arguments (ClickHouse's native compressed block "
        "format) are not supported: use Content-Encoding: gzip for request bodies, and "
        "enable_http_compression=1 with Accept-Encoding: gzip for responses");
  }

  // Database: the `database` argument, else the header, else the session's (USE), else default.
  if (ctx->session.valid() && !ctx->session.state()->database.empty()) {
    ctx->database = ctx->session.state()->database;
  }
  if (auto h = request.Header("X-ClickHouse-Database"); !h.empty()) ctx->database = h;
  if (const std::string* db = request.Param("database"); db != nullptr && !db->empty()) {
    ctx->database = *db;
  }

  // Settings: the server's insert defaults, the session's SETs, then the URL's settings.
  ctx->settings.max_insert_block_size = options_.ingest.max_insert_block_size;
  ctx->settings.input_format_skip_unknown_fields = options_.ingest.skip_unknown_fields;
  if (ctx->session.valid()) {
    for (const auto& [name, value] : ctx->session.state()->settings) {
      TH_RETURN_IF_ERROR(query::ApplySetting(name, value, &ctx->settings));
      ctx->setting_args.emplace_back(name, value);
    }
  }
  for (const auto& [name, value] : request.params) {
    if (IsReservedParam(name)) continue;
    TH_RETURN_IF_ERROR(query::ApplySetting(name, value, &ctx->settings));
    ctx->setting_args.emplace_back(name, value);
  }
  if (ctx->settings.max_insert_block_size == 0) {
    return Status::InvalidArgument("Setting max_insert_block_size must be positive");
  }
  ctx->get = request.method == "GET" || request.method == "HEAD";
  ctx->readonly = ctx->get ? 2 : ctx->settings.readonly;
  if (ctx->settings.enable_http_compression) {
    ctx->response_encoding = ChooseResponseEncoding(request.Header("Accept-Encoding"));
  }
  return Status::OK();
}

Status Router::ExecuteSet(const sql::Statement& stmt, Context* ctx) {
  // Validated against a copy: a SET with one bad assignment changes nothing.
  query::QuerySettings check = ctx->settings;
  std::vector<std::pair<std::string, std::string>> values;
  for (const sql::Setting& s : stmt.settings) {
    if (ctx->readonly == 1) {
      return Status(StatusCode::kInvalidArgument,
                    fmt::format("Cannot modify '{}' setting in readonly mode", s.name),
                    ch::kReadonly);
    }
    TH_ASSIGN_OR_RETURN(std::string text, query::SettingValueText(s));
    TH_RETURN_IF_ERROR(query::ApplySetting(s.name, text, &check));
    values.emplace_back(s.name, std::move(text));
  }
  // Without a session a SET lasts for this request only, as in ClickHouse.
  if (ctx->session.valid()) {
    for (const auto& [name, value] : values) ctx->session.state()->Set(name, value);
  }
  return Status::OK();
}

Status Router::ExecuteUse(const sql::Statement& stmt, Context* ctx) {
  const auto* use = stmt.As<sql::UseStmt>();
  TH_ASSIGN_OR_RETURN(auto databases, storage_->ListDatabases());
  if (std::find(databases.begin(), databases.end(), use->database) == databases.end()) {
    return Status::NotFound(fmt::format("Database {} does not exist", use->database),
                            ch::kUnknownDatabase);
  }
  if (ctx->session.valid()) ctx->session.state()->database = use->database;
  return Status::OK();
}

HttpResponse Router::HandleClickHouse(const HttpRequest& request, BodyReader* raw_body) {
  const int64_t start = clock_->MonotonicMicros();
  M().queries.Add();
  Summary summary;
  std::string query_id;
  if (const std::string* id = request.Param("query_id"); id != nullptr && !id->empty()) {
    query_id = *id;
  } else {
    query_id = GenerateUuid();
  }
  Context ctx;
  // A statement run here rather than by the query handler (which records its own).
  const sql::Statement* run_here = nullptr;

  // Everything below reports through `finish` (and `fail`, which shapes a ClickHouse error).
  auto finish = [&](HttpResponse r) {
    summary.elapsed_ns = (clock_->MonotonicMicros() - start) * 1000;
    if (run_here != nullptr) {
      query::RecordStatement(*run_here, r.status < 400, summary.elapsed_ns / 1e9);
    }
    r.headers.emplace_back("X-ClickHouse-Query-Id", query_id);
    r.headers.emplace_back("X-ClickHouse-Timezone", "UTC");
    r.headers.emplace_back("X-ClickHouse-Server-Display-Name", display_name_);
    r.headers.emplace_back("X-ClickHouse-Summary", summary.ToJson());
    if (ctx.response_encoding != ContentEncoding::kIdentity && !r.body.empty()) {
      auto packed =
          CompressBody(r.body, ctx.response_encoding, ctx.settings.http_zlib_compression_level);
      if (packed.ok()) {
        r.body = std::move(packed).value();
        r.headers.emplace_back("Content-Encoding",
                               std::string(ContentEncodingName(ctx.response_encoding)));
      }
    }
    return r;
  };
  auto fail = [&](const Status& status) {
    M().query_errors.Add();
    int code = 0;
    HttpResponse r = ErrorResponse(status, &code);
    CountErrorCode(code);
    if (code == ch::kSyntaxError) M().syntax_errors.Add();
    if (code == ch::kNotImplemented) M().not_implemented.Add();
    if (code == ch::kReadonly) M().readonly_errors.Add();
    return finish(std::move(r));
  };

  if (Status st = Prepare(request, &ctx); !st.ok()) return fail(st);
  if (ctx.key != nullptr) {
    if (auto wait = access_.TakeToken(*ctx.key, clock_->NowMicros()); wait) {
      M().rate_limited.Add();
      HttpResponse r = fail(Status::ResourceExhausted(
          fmt::format("key '{}' is over its rate limit ({} requests per second)", ctx.key->name,
                      ctx.key->rate_per_second),
          ch::kQuotaExceeded));
      r.status = 429;
      r.headers.emplace_back("Retry-After", std::to_string(RetryAfterSeconds(*wait)));
      return r;
    }
  }

  // The body, inflated on the fly when compressed.
  auto encoding = ParseContentEncoding(request.Header("Content-Encoding"));
  if (!encoding.ok()) return fail(encoding.status());
  std::optional<InflatingBodyReader> inflating;
  BodyReader* body = raw_body;
  if (*encoding != ContentEncoding::kIdentity && request.has_body) {
    inflating.emplace(raw_body, *encoding, options_.read_chunk_bytes);
    body = &*inflating;
  }

  // The statement text: the query argument, a newline, then the start of the body.
  std::string text;
  if (const std::string* q = request.Param("query"); q != nullptr && !q->empty()) {
    text = *q;
    text += '\n';
  }
  if (text.size() > options_.max_query_bytes) {
    return fail(Status::InvalidArgument(fmt::format("Query is too large ({}). max_query_size = {}",
                                                    text.size(), options_.max_query_bytes),
                                        ch::kSyntaxError));
  }
  while (request.has_body && !body->done() && text.size() < options_.max_query_bytes) {
    auto chunk = body->Next(options_.max_query_bytes - text.size());
    if (!chunk.ok()) return fail(chunk.status());
    if (chunk->empty()) break;
    text.append(chunk->data(), chunk->size());
  }
  bool body_done = !request.has_body || body->done();
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) {
    return fail(Status::InvalidArgument("Empty query", ch::kSyntaxError));
  }

  auto parsed = sql::ParseStatement(text);
  // A read trackhouse cannot parse, for a query handler that runs such text itself.
  sql::StatementPtr unparsed_read;
  if (!parsed.ok() && body_done) unparsed_read = UnparsedRead(text);
  if (!parsed.ok() && unparsed_read == nullptr) {
    if (!body_done) {
      return fail(Status::InvalidArgument(
          fmt::format("{} (only the first max_query_size = {} bytes of the query are parsed)",
                      parsed.status().message(), options_.max_query_bytes),
          parsed.status().clickhouse_code()));
    }
    return fail(parsed.status());
  }
  const sql::Statement& stmt = unparsed_read != nullptr ? *unparsed_read : **parsed;
  if (Status st = Authorize(stmt, ctx); !st.ok()) return fail(st);

  if (const auto* insert = stmt.As<sql::InsertStmt>();
      insert != nullptr && insert->source != sql::InsertStmt::Source::kSelect) {
    run_here = &stmt;
    M().inserts.Add();
    if (ctx.readonly > 0) {
      M().insert_errors.Add();
      return fail(ReadonlyError(ctx.get));
    }
    ingest::IngestOptions ingest_options = options_.ingest;
    ingest_options.max_insert_block_size = ctx.settings.max_insert_block_size;
    ingest_options.skip_unknown_fields = ctx.settings.input_format_skip_unknown_fields;
    auto wait = DeliveryWait(request);
    if (!wait.ok()) {
      M().insert_errors.Add();
      return fail(wait.status());
    }
    // wait_for_delivery=1: the insert goes through an LSN capture, waited for after Finish.
    std::optional<LsnCapture> capture;
    if (*wait) capture.emplace(storage_);
    auto stream = ingest::InsertStream::Open(capture ? &*capture : storage_, ctx.database,
                                             *insert, insert->data_format, ingest_options,
                                             clock_->NowMicros());
    if (!stream.ok()) {
      M().insert_errors.Add();
      return fail(stream.status());
    }
    ingest::InsertStream& s = **stream;
    auto report = [&](const Status& st) {
      summary.written_rows = s.rows_written();
      summary.written_bytes = s.bytes_written();
      M().insert_rows.Add(static_cast<int64_t>(s.rows_written()));
      if (!st.ok()) {
        M().insert_errors.Add();
        if (s.rows_written() > 0) M().insert_partial.Add();
        return fail(st);
      }
      return finish(HttpResponse{});
    };
    // Inline data: what follows the statement in the text read so far. When the whole body is
    // in `text`, the statement's own data end applies (VALUES less a trailing ';').
    size_t data_begin = std::min(insert->data_offset, text.size());
    size_t data_end =
        body_done ? std::min(std::max(insert->data_end, data_begin), text.size()) : text.size();
    std::string_view inline_data(text.data() + data_begin, data_end - data_begin);
    M().insert_body_bytes.Add(static_cast<int64_t>(inline_data.size()));
    Status st = s.Feed(inline_data);
    text.clear();
    text.shrink_to_fit();
    while (st.ok() && request.has_body && !body->done()) {
      auto chunk = body->Next(options_.read_chunk_bytes);
      if (!chunk.ok()) {
        st = chunk.status();
        break;
      }
      if (chunk->empty()) break;
      M().insert_body_bytes.Add(static_cast<int64_t>(chunk->size()));
      st = s.Feed(*chunk);
    }
    if (st.ok()) st = s.Finish();
    if (st.ok() && capture && capture->lsn() > 0) {
      Status delivered = storage_->WaitForDelivery(capture->lsn(), **wait);
      if (!delivered.ok()) st = DeliveryWaitFailed(delivered, s.rows_written());
    }
    return report(st);
  }

  if (!body_done) {
    return fail(Status::InvalidArgument(
        fmt::format("Query is too large: only INSERT may be followed by data, and the query "
                    "exceeds max_query_size = {} bytes",
                    options_.max_query_bytes),
        ch::kSyntaxError));
  }

  if (sql::IsDdlStatement(stmt.kind)) {
    run_here = &stmt;
    M().ddl.Add();
    if (ctx.readonly > 0) {
      M().ddl_errors.Add();
      return fail(ReadonlyError(ctx.get));
    }
    std::string_view sql_text(text);
    size_t last = sql_text.find_last_not_of(" \t\r\n;");
    if (last != std::string_view::npos && last >= first) {
      sql_text = sql_text.substr(first, last + 1 - first);
    }
    Status st = storage_->ExecuteDdl(stmt, sql_text, ctx.database);
    if (!st.ok()) {
      M().ddl_errors.Add();
      return fail(st);
    }
    return finish(HttpResponse{});
  }
  if (stmt.kind == sql::StatementKind::kSet || stmt.kind == sql::StatementKind::kUse) {
    run_here = &stmt;
    Status st =
        stmt.kind == sql::StatementKind::kSet ? ExecuteSet(stmt, &ctx) : ExecuteUse(stmt, &ctx);
    if (!st.ok()) return fail(st);
    return finish(HttpResponse{});
  }

  if (stmt.kind == sql::StatementKind::kInsert && ctx.readonly > 0) {  // INSERT ... SELECT
    return fail(ReadonlyError(ctx.get));
  }
  if (query_handler_ == nullptr) {
    return fail(Status::NotSupported(
        fmt::format("{} is not available: this trackhouse server has no query engine (it takes "
                    "INSERT and DDL statements only)",
                    sql::StatementKindName(stmt.kind))));
  }
  query::QueryRequest qr;
  qr.statement = &stmt;
  qr.sql = text;
  qr.query_id = query_id;
  qr.database = ctx.database;
  qr.settings = std::move(ctx.setting_args);
  if (auto f = request.Header("X-ClickHouse-Format"); !f.empty()) qr.default_format = f;
  if (const std::string* f = request.Param("default_format"); f != nullptr && !f->empty()) {
    qr.default_format = *f;
  }
  // An unparsed read runs read-only whatever the request: its kind was only guessed.
  qr.readonly = ctx.readonly > 0 || unparsed_read != nullptr;
  qr.now_micros = clock_->NowMicros();
  auto result = query_handler_->Execute(qr);
  if (!result.ok()) return fail(result.status());
  summary.read_rows = result->read_rows;
  summary.read_bytes = result->read_bytes;
  summary.written_rows = result->written_rows;
  summary.written_bytes = result->written_bytes;
  summary.result_rows = result->result_rows;
  summary.result_bytes = result->result_bytes;
  HttpResponse r;
  r.content_type = result->content_type;
  r.body = std::move(result->body);
  if (!result->format.empty()) r.headers.emplace_back("X-ClickHouse-Format", result->format);
  return finish(std::move(r));
}

Status Router::Authorize(const sql::Statement& stmt, const Context& ctx) const {
  if (ctx.key == nullptr) return Status::OK();
  const ApiKey& key = *ctx.key;
  auto denied = [&](std::string_view what) {
    M().access_denied.Add();
    return Status::InvalidArgument(
        fmt::format("{}: Not enough privileges: key '{}' may not {}", ctx.user, key.name, what),
        ch::kAccessDenied);
  };
  switch (stmt.kind) {
    case sql::StatementKind::kUse:
    case sql::StatementKind::kSet:
      return Status::OK();
    case sql::StatementKind::kSelect:
    case sql::StatementKind::kShowTables:
    case sql::StatementKind::kShowDatabases:
    case sql::StatementKind::kShowCreateTable:
    case sql::StatementKind::kDescribe:
    case sql::StatementKind::kExists:
      return access_.MayRead(key) ? Status::OK() : denied("read");
    case sql::StatementKind::kInsert: {
      const auto& insert = static_cast<const sql::InsertStmt&>(stmt);
      const std::string& db = insert.database.empty() ? ctx.database : insert.database;
      if (!access_.MayWrite(key, db, insert.table)) {
        return denied(fmt::format("insert into {}.{}", db, insert.table));
      }
      if (insert.source == sql::InsertStmt::Source::kSelect && !access_.MayRead(key)) {
        return denied("read (INSERT ... SELECT)");
      }
      return Status::OK();
    }
    default:
      return access_.MayAdminister(key)
                 ? Status::OK()
                 : denied(fmt::format("run {}", sql::StatementKindName(stmt.kind)));
  }
}

}  // namespace trackhouse::server
