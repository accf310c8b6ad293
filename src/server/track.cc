#include "server/track.h"

#include <fmt/format.h>
#include <signal.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <optional>
#include <utility>

#include "common/error_codes.h"
#include "common/fail_point.h"
#include "common/metrics.h"
#include "formats/input_format.h"
#include "formats/output_format.h"
#include "ingest/ingest.h"
#include "server/compression.h"
#include "server/http_error.h"
#include "server/http_metrics.h"
#include "sql/ast.h"

namespace trackhouse::server {
namespace {

struct TrackMetrics {
  metrics::Counter& requests =
      metrics::GetCounter("trackhouse_track_requests_total", "POST /track requests");
  metrics::Counter& accepted =
      metrics::GetCounter("trackhouse_track_rows_accepted_total", "Rows stored through /track");
  metrics::Counter& rejected = metrics::GetCounter(
      "trackhouse_track_rows_rejected_total", "Rows /track refused (bad values, unknown keys)");
  metrics::Counter& bad_requests = metrics::GetCounter(
      "trackhouse_track_bad_requests_total",
      "/track requests refused whole: malformed body, unknown table, bad rows without partial=1");
  metrics::Counter& too_large = metrics::GetCounter(
      "trackhouse_track_too_large_total", "/track requests over max_body_bytes or max_rows (413)");
  metrics::Counter& pushed_back = metrics::GetCounter(
      "trackhouse_track_backpressure_total",
      "/track requests answered 503 because the store pushed back (log, memory or disk full)");
  metrics::Counter& bytes =
      metrics::GetCounter("trackhouse_track_body_bytes_total", "/track body bytes read");
  metrics::Counter& replayed = metrics::GetCounter(
      "trackhouse_track_idempotent_replays_total",
      "/track retries answered with the stored answer of their Idempotency-Key");
  metrics::CounterFamily& refused =
      metrics::GetCounterFamily("trackhouse_track_refused_total",
                                "/track requests refused, by the error code answered", {"code"});
  metrics::CounterFamily& table_rows = metrics::GetCounterFamily(
      "trackhouse_track_table_rows_total",
      "Rows received by /track, by table and outcome (accepted, or why they were not stored)",
      {"table", "outcome"});
  metrics::CounterFamily& table_bytes = metrics::GetCounterFamily(
      "trackhouse_track_table_body_bytes_total", "/track body bytes read, by table", {"table"});
};

TrackMetrics& M() {
  static TrackMetrics* m = new TrackMetrics();
  return *m;
}

std::string RowsJson(const formats::RowErrors& errors) {
  std::string out = "[";
  for (size_t i = 0; i < errors.rows.size(); ++i) {
    const formats::RowError& e = errors.rows[i];
    if (i > 0) out.push_back(',');
    out += fmt::format("{{\"index\":{},\"column\":", e.index);
    formats::AppendJsonString(e.column, /*validate_utf8=*/true, &out);
    out += ",\"reason\":";
    formats::AppendJsonString(e.reason, /*validate_utf8=*/true, &out);
    out.push_back('}');
  }
  out.push_back(']');
  return out;
}

HttpResponse JsonResponse(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  r.body.push_back('\n');
  return r;
}

// The media type of a Content-Type header, lower-cased, without parameters.
std::string MediaType(std::string_view header) {
  std::string_view t = header.substr(0, header.find(';'));
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) t.remove_prefix(1);
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.remove_suffix(1);
  std::string out(t);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool Truthy(const std::string* v) { return v != nullptr && (*v == "1" || *v == "true"); }

// A failed store: push-back statuses are 503 with Retry-After, others 500.
HttpResponse StoreError(const Status& s) {
  HttpError e = ToHttpError(s);
  if (e.retry_after_seconds > 0) {
    M().pushed_back.Add();
    M().refused.With({"UNAVAILABLE"}).Add();
    CountBackpressure(BackpressureReasonOf(s));
    HttpResponse r = TrackError(503, "UNAVAILABLE", e.message);
    r.headers.emplace_back("Retry-After", std::to_string(e.retry_after_seconds));
    return r;
  }
  M().refused.With({"INTERNAL"}).Add();
  return TrackError(e.http_status >= 500 ? e.http_status : 500, "INTERNAL", e.message);
}

// The answer once the staged rows' commit ended with `committed` (OK: `answer`), counted for
// `table` ("db.name"); the same whether the commit was waited for or answered later.
HttpResponse CommitAnswer(const Status& committed, std::string answer, uint64_t accepted,
                          const std::string& table) {
  if (!committed.ok()) {
    const bool pushed_back = ToHttpError(committed).retry_after_seconds > 0;
    M().table_rows.With({table, pushed_back ? "backpressure" : "error"})
        .Add(static_cast<int64_t>(accepted));
    return StoreError(committed);
  }
  M().accepted.Add(static_cast<int64_t>(accepted));
  M().table_rows.With({table, "accepted"}).Add(static_cast<int64_t>(accepted));
  if (FailPointHit("track_after_commit")) ::raise(SIGKILL);  // crash tests: durable, unanswered
  return JsonResponse(200, std::move(answer));
}

}  // namespace

HttpResponse TrackError(int http_status, std::string_view code, std::string_view message) {
  std::string body = "{\"error\":{\"code\":";
  formats::AppendJsonString(code, /*validate_utf8=*/true, &body);
  body += ",\"message\":";
  formats::AppendJsonString(message, /*validate_utf8=*/true, &body);
  body += "}}";
  return JsonResponse(http_status, std::move(body));
}

// Holds an Idempotency-Key in in_flight_ from a successful Take() until destroyed, so that a
// request with the same key meanwhile is answered 409.
class TrackHandler::InFlightSlot {
 public:
  explicit InFlightSlot(TrackHandler* handler) : handler_(handler) {}
  InFlightSlot(const InFlightSlot&) = delete;
  InFlightSlot& operator=(const InFlightSlot&) = delete;
  ~InFlightSlot() {
    if (key_.empty()) return;
    std::lock_guard lock(handler_->in_flight_mu_);
    handler_->in_flight_.erase(key_);
  }

  // False when a request with `key` is being served.
  bool Take(const std::string& key) {
    std::lock_guard lock(handler_->in_flight_mu_);
    if (!handler_->in_flight_.insert(key).second) return false;
    key_ = key;
    return true;
  }

 private:
  TrackHandler* const handler_;
  std::string key_;
};

TrackTable TrackTable::Parse(std::string_view path) {
  size_t dot = path.find('.');
  if (dot == std::string_view::npos) return {path, "default", path};
  return {path, path.substr(0, dot), path.substr(dot + 1)};
}

bool TrackTable::valid() const {
  return !database.empty() && !table.empty() && table.find('/') == std::string_view::npos;
}

TrackHandler::TrackHandler(TrackOptions options, storage::Storage* storage, Clock* clock)
    : options_(std::move(options)), storage_(storage), clock_(clock) {}

HttpResponse TrackHandler::Handle(const HttpRequest& request, BodyReader* raw_body,
                                  const TrackTable& table, const TrackActor& actor) {
  M().requests.Add();
  const int64_t now_micros = clock_->NowMicros();
  auto bad = [&](int status, std::string_view code, std::string_view message) {
    M().bad_requests.Add();
    M().refused.With({code}).Add();
    HttpResponse r = TrackError(status, code, message);
    r.close = !raw_body->done();  // an unread body cannot be skipped: the connection ends
    return r;
  };
  if (request.method != "POST") {
    HttpResponse r = bad(405, "METHOD_NOT_ALLOWED", "/track takes POST");
    r.headers.emplace_back("Allow", "POST, OPTIONS");
    return r;
  }
  const std::string media = MediaType(request.Header("Content-Type"));
  if (!media.empty() && media != "application/json" && media != "application/x-ndjson" &&
      media != "text/plain") {
    return bad(415, "UNSUPPORTED_MEDIA_TYPE",
               fmt::format("Content-Type {} is not taken: send application/json, "
                           "application/x-ndjson or text/plain",
                           media));
  }

  if (!table.valid()) {
    return bad(404, "UNKNOWN_TABLE",
               fmt::format("'{}' is not a table name: POST /track/<table>", table.path));
  }
  sql::InsertStmt stmt;
  stmt.database = std::string(table.database);
  stmt.table = std::string(table.table);
  auto schema = storage_->GetTable(stmt.database, stmt.table);
  if (!schema.ok()) {
    if (schema.status().code() == StatusCode::kNotFound) {
      return bad(404, "UNKNOWN_TABLE",
                 fmt::format("Table {}.{} does not exist", stmt.database, stmt.table));
    }
    return StoreError(schema.status());
  }
  stmt.source = sql::InsertStmt::Source::kFormat;
  stmt.data_format = "JSONEachRow";

  // Idempotency-Key: a stored one answers again; one being served answers 409.
  std::string idempotency_key;
  auto replay_stored = [&]() -> std::optional<HttpResponse> {
    auto stored = storage_->FindIdempotencyKey(idempotency_key);
    if (!stored) return std::nullopt;
    M().replayed.Add();
    HttpResponse r = JsonResponse(200, stored->answer);
    r.headers.emplace_back("Idempotency-Replayed", "true");
    r.close = !raw_body->done();
    return r;
  };
  // Shared with a deferred answer's callback, which may outlive this call.
  auto in_flight = std::make_shared<InFlightSlot>(this);
  if (std::string_view key = request.Header("Idempotency-Key"); !key.empty()) {
    bool visible = std::all_of(key.begin(), key.end(), [](char c) { return c > 0x20 && c < 0x7f; });
    if (key.size() > 128 || !visible) {
      return bad(400, "BAD_REQUEST", "Idempotency-Key must be 1 to 128 visible ASCII characters");
    }
    idempotency_key = fmt::format("{}.{}/{}", stmt.database, stmt.table, key);
    if (auto replayed = replay_stored()) return std::move(*replayed);
    if (!in_flight->Take(idempotency_key)) {
      HttpResponse r = bad(409, "CONFLICT",
                           "a request with this Idempotency-Key is being served; retry shortly");
      r.headers.emplace_back("Retry-After", "1");
      return r;
    }
  }

  formats::RowErrors errors;
  ingest::IngestOptions io;
  io.max_insert_block_size = options_.max_rows + 1;
  io.max_row_bytes = options_.max_body_bytes;
  io.max_string_bytes = options_.max_string_bytes;
  io.row_errors = &errors;
  io.staged = true;
  const std::string qualified = stmt.database + "." + stmt.table;
  io.skip_unknown_fields =
      Truthy(request.Param("input_format_skip_unknown_fields")) ||
      std::any_of(options_.skip_unknown_fields_tables.begin(),
                  options_.skip_unknown_fields_tables.end(), [&](const std::string& t) {
                    return t == qualified || (stmt.database == "default" && t == stmt.table);
                  });
  auto table_rows = [&](std::string_view outcome, uint64_t n) {
    if (n > 0) M().table_rows.With({qualified, outcome}).Add(static_cast<int64_t>(n));
  };
  metrics::Counter& table_bytes = M().table_bytes.With({qualified});
  // Actor context for the columns the table has.
  auto actor_column = [&](const std::string& column, const std::optional<std::string>& value) {
    if (!column.empty() && value && (*schema)->FindColumn(column) != nullptr) {
      io.omitted_values.emplace_back(column, types::Value::String(*value));
    }
  };
  actor_column(options_.user_id_column, actor.user_id);
  actor_column(options_.ip_column,
               actor.ip.empty() ? std::nullopt : std::optional<std::string>(actor.ip));
  actor_column(options_.user_agent_column, actor.user_agent.empty()
                                               ? std::nullopt
                                               : std::optional<std::string>(actor.user_agent));

  auto opened =
      ingest::InsertStream::Open(storage_, stmt.database, stmt, "JSONEachRow", io, now_micros);
  if (!opened.ok()) return bad(400, "BAD_REQUEST", opened.status().message());
  ingest::InsertStream& stream = **opened;

  auto encoding = ParseContentEncoding(request.Header("Content-Encoding"));
  if (!encoding.ok()) return bad(415, "UNSUPPORTED_MEDIA_TYPE", encoding.status().message());
  std::optional<InflatingBodyReader> inflating;
  BodyReader* body = raw_body;
  if (*encoding != ContentEncoding::kIdentity) {
    inflating.emplace(raw_body, *encoding, 64 * 1024);
    body = &*inflating;
  }
  while (true) {
    auto chunk = body->Next(256 * 1024);
    if (!chunk.ok()) {
      HttpResponse r = bad(400, "BAD_REQUEST", chunk.status().message());
      r.close = true;
      return r;
    }
    if (chunk->empty()) break;
    M().bytes.Add(static_cast<int64_t>(chunk->size()));
    table_bytes.Add(static_cast<int64_t>(chunk->size()));
    if (body->bytes_read() > options_.max_body_bytes) {
      M().too_large.Add();
      M().refused.With({"PAYLOAD_TOO_LARGE"}).Add();
      HttpResponse r = TrackError(413, "PAYLOAD_TOO_LARGE",
                                  fmt::format("the body is larger than max_body_bytes ({} bytes)",
                                              options_.max_body_bytes));
      r.close = !raw_body->done();
      return r;
    }
    Status fed = stream.Feed(*chunk);
    if (!fed.ok()) return bad(400, "BAD_REQUEST", fed.message());
  }
  Status finished = stream.Finish();
  if (!finished.ok()) return bad(400, "BAD_REQUEST", finished.message());

  const uint64_t rows = stream.rows_staged() + errors.count;
  if (rows > options_.max_rows) {
    M().too_large.Add();
    M().refused.With({"PAYLOAD_TOO_LARGE"}).Add();
    table_rows("too_large", rows);
    return TrackError(
        413, "PAYLOAD_TOO_LARGE",
        fmt::format("the request holds {} rows, more than max_rows ({})", rows, options_.max_rows));
  }
  if (rows == 0) return bad(400, "BAD_REQUEST", "the body holds no rows");
  const bool partial = Truthy(request.Param("partial"));
  if (errors.count > 0) M().rejected.Add(static_cast<int64_t>(errors.count));
  table_rows("bad_row", errors.count);
  if (errors.count > 0 && !partial) {
    M().bad_requests.Add();
    M().refused.With({"BAD_ROWS"}).Add();
    table_rows("batch_refused", stream.rows_staged());
    std::string body_json = "{\"error\":{\"code\":\"BAD_ROWS\",\"message\":";
    formats::AppendJsonString(
        fmt::format("{} of {} rows cannot be stored; nothing was stored{}", errors.count, rows,
                    errors.count > errors.rows.size()
                        ? fmt::format(" (the first {} are listed)", errors.rows.size())
                        : ""),
        /*validate_utf8=*/true, &body_json);
    body_json += ",\"rows\":" + RowsJson(errors) + "}}";
    return JsonResponse(400, std::move(body_json));
  }
  const uint64_t accepted = stream.rows_staged();
  std::string answer = fmt::format("{{\"accepted\":{}", accepted);
  if (partial) answer += ",\"rejected\":" + RowsJson(errors);
  answer.push_back('}');
  std::optional<storage::IdempotencyRecord> record;
  if (!idempotency_key.empty())
    record = storage::IdempotencyRecord{idempotency_key, answer, now_micros};
  Status committed;
  if (request.responder != nullptr) {
    // Answered once the rows are durable, from the thread that synced them; this worker goes
    // on to the connection's next request meanwhile.
    // `in_flight` keeps the Idempotency-Key's slot until then.
    auto answered = [in_flight, responder = request.responder, answer, accepted,
                     qualified](const Status& s) {
      responder->Respond(CommitAnswer(s, answer, accepted, qualified));
    };
    committed = stream.CommitAsync(record ? &*record : nullptr, std::move(answered));
    if (committed.ok()) {
      HttpResponse deferred;
      deferred.deferred = true;
      return deferred;
    }
  } else {
    committed = stream.Commit(record ? &*record : nullptr);
  }
  if (committed.code() == StatusCode::kAlreadyExists && record) {
    // The lookup above came before we took the slot, so a request with the same key that still
    // held it then may have stored the key in between: answer as it was stored.
    if (auto replayed = replay_stored()) return std::move(*replayed);
  }
  return CommitAnswer(committed, std::move(answer), accepted, qualified);
}

}  // namespace trackhouse::server
