#include "server/router.h"

#include <fmt/format.h>

#include <charconv>
#include <random>

#include "common/metrics.h"
#include "server/http_error.h"
#include "server/version.h"
#include "sql/parser.h"

namespace trackhouse::server {
namespace {

struct RouterMetrics {
  metrics::Counter& not_found = metrics::GetCounter(
      "trackhouse_http_not_found_total", "Requests for a path that has no handler (404)");
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
      "quota_key",      "default_database"};
  for (auto r : kReserved) {
    if (name == r) return true;
  }
  return false;
}

Result<uint64_t> ParseUnsignedSetting(std::string_view name, std::string_view value) {
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc() || ptr != value.data() + value.size()) {
    return Status::InvalidArgument(
        fmt::format("Invalid value '{}' of setting {}: expected an unsigned integer", value, name),
        ch::kCannotParseNumber);
  }
  return v;
}

Result<bool> ParseBoolSetting(std::string_view name, std::string_view value) {
  if (value == "1" || value == "true" || value == "True" || value == "TRUE") return true;
  if (value == "0" || value == "false" || value == "False" || value == "FALSE") return false;
  return Status::InvalidArgument(
      fmt::format("Invalid value '{}' of setting {}: expected 0, 1, true or false", value, name),
      ch::kCannotParseText);
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
        "\"written_bytes\":\"{}\",\"total_rows_to_read\":\"0\",\"result_rows\":\"{}\","
        "\"result_bytes\":\"{}\",\"elapsed_ns\":\"{}\"}}",
        read_rows, read_bytes, written_rows, written_bytes, result_rows, result_bytes, elapsed_ns);
  }
};

HttpResponse ErrorResponse(const Status& status) {
  HttpError e = ToHttpError(status);
  HttpResponse r;
  r.status = e.http_status;
  r.body = std::move(e.body);
  r.headers.emplace_back("X-ClickHouse-Exception-Code", std::to_string(e.clickhouse_code));
  if (e.retry_after_seconds > 0) {
    r.headers.emplace_back("Retry-After", std::to_string(e.retry_after_seconds));
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
      start_micros_(clock_->MonotonicMicros()) {}

HttpResponse Router::Handle(const HttpRequest& request, BodyReader* body) {
  const std::string& path = request.path;
  bool get_like = request.method == "GET" || request.method == "HEAD";
  if (path == "/ping" || path == "/health" || path == "/metrics") {
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

HttpResponse Router::HandleClickHouse(const HttpRequest& request, BodyReader* body) {
  const int64_t start = clock_->MonotonicMicros();
  M().queries.Add();
  Summary summary;
  std::string query_id;
  if (const std::string* id = request.Param("query_id"); id != nullptr && !id->empty()) {
    query_id = *id;
  } else {
    query_id = GenerateUuid();
  }

  // Everything below reports through `fail`, which shapes a ClickHouse error.
  auto finish = [&](HttpResponse r) {
    summary.elapsed_ns = (clock_->MonotonicMicros() - start) * 1000;
    r.headers.emplace_back("X-ClickHouse-Query-Id", query_id);
    r.headers.emplace_back("X-ClickHouse-Timezone", "UTC");
    r.headers.emplace_back("X-ClickHouse-Summary", summary.ToJson());
    return r;
  };
  auto fail = [&](const Status& status) {
    M().query_errors.Add();
    if (status.clickhouse_code() == ch::kSyntaxError) M().syntax_errors.Add();
    if (status.clickhouse_code() == ch::kNotImplemented) M().not_implemented.Add();
    return finish(ErrorResponse(status));
  };

  // Database and settings.
  std::string database = "default";
  if (auto h = request.Header("X-ClickHouse-Database"); !h.empty()) database = std::string(h);
  if (const std::string* db = request.Param("database"); db != nullptr && !db->empty()) {
    database = *db;
  }
  ingest::IngestOptions ingest_options = options_.ingest;
  std::vector<std::pair<std::string, std::string>> settings;
  for (const auto& [name, value] : request.params) {
    if (IsReservedParam(name)) continue;
    if (name == "max_insert_block_size") {
      auto v = ParseUnsignedSetting(name, value);
      if (!v.ok()) return fail(v.status());
      if (*v == 0) {
        return fail(Status::InvalidArgument("Setting max_insert_block_size must be positive"));
      }
      ingest_options.max_insert_block_size = *v;
    } else if (name == "input_format_skip_unknown_fields") {
      auto v = ParseBoolSetting(name, value);
      if (!v.ok()) return fail(v.status());
      ingest_options.skip_unknown_fields = *v;
    }
    settings.emplace_back(name, value);
  }
  if (auto enc = request.Header("Content-Encoding"); !enc.empty() && enc != "identity") {
    return fail(Status::NotSupported(fmt::format(
        "Content-Encoding '{}' is not supported yet: send the body uncompressed", enc)));
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
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) {
    return fail(Status::InvalidArgument("Empty query", ch::kSyntaxError));
  }

  auto parsed = sql::ParseStatement(text);
  if (!parsed.ok()) {
    if (!body->done()) {
      return fail(Status::InvalidArgument(
          fmt::format("{} (only the first max_query_size = {} bytes of the query are parsed)",
                      parsed.status().message(), options_.max_query_bytes),
          parsed.status().clickhouse_code()));
    }
    return fail(parsed.status());
  }
  const sql::Statement& stmt = **parsed;
  bool readonly = request.method == "GET";

  if (const auto* insert = stmt.As<sql::InsertStmt>();
      insert != nullptr && insert->source != sql::InsertStmt::Source::kSelect) {
    M().inserts.Add();
    if (readonly) {
      M().readonly_errors.Add();
      M().insert_errors.Add();
      return fail(Status(StatusCode::kInvalidArgument,
                         "Cannot execute query in readonly mode. For queries over HTTP, method "
                         "GET implies readonly. You should use method POST for modifying queries",
                         ch::kReadonly));
    }
    auto stream = ingest::InsertStream::Open(storage_, database, *insert, insert->data_format,
                                             ingest_options, clock_->NowMicros());
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
        body->done() ? std::min(std::max(insert->data_end, data_begin), text.size()) : text.size();
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
    return report(st);
  }

  if (!body->done()) {
    return fail(Status::InvalidArgument(
        fmt::format("Query is too large: only INSERT may be followed by data, and the query "
                    "exceeds max_query_size = {} bytes",
                    options_.max_query_bytes),
        ch::kSyntaxError));
  }

  if (sql::IsDdlStatement(stmt.kind)) {
    M().ddl.Add();
    if (readonly) {
      M().readonly_errors.Add();
      M().ddl_errors.Add();
      return fail(Status(StatusCode::kInvalidArgument,
                         "Cannot execute query in readonly mode. For queries over HTTP, method "
                         "GET implies readonly. You should use method POST for modifying queries",
                         ch::kReadonly));
    }
    std::string_view sql_text(text);
    size_t last = sql_text.find_last_not_of(" \t\r\n;");
    if (last != std::string_view::npos && last >= first) {
      sql_text = sql_text.substr(first, last + 1 - first);
    }
    Status st = storage_->ExecuteDdl(stmt, sql_text, database);
    if (!st.ok()) {
      M().ddl_errors.Add();
      return fail(st);
    }
    return finish(HttpResponse{});
  }

  if (query_handler_ == nullptr) {
    return fail(Status::NotSupported(
        fmt::format("{} is not available yet: this trackhouse server has no query engine (it takes "
                    "INSERT and DDL statements only)",
                    sql::StatementKindName(stmt.kind))));
  }
  query::QueryRequest qr;
  qr.statement = &stmt;
  qr.sql = text;
  qr.query_id = query_id;
  qr.database = database;
  qr.settings = std::move(settings);
  if (const std::string* f = request.Param("default_format")) qr.default_format = *f;
  if (auto f = request.Header("X-ClickHouse-Format"); !f.empty()) qr.default_format = f;
  qr.readonly = readonly;
  qr.now_micros = clock_->NowMicros();
  auto result = query_handler_->Execute(qr);
  if (!result.ok()) return fail(result.status());
  summary.read_rows = result->read_rows;
  summary.read_bytes = result->read_bytes;
  summary.result_rows = result->result_rows;
  summary.result_bytes = result->result_bytes;
  HttpResponse r;
  r.content_type = result->content_type;
  r.body = std::move(result->body);
  if (!result->format.empty()) r.headers.emplace_back("X-ClickHouse-Format", result->format);
  return finish(std::move(r));
}

}  // namespace trackhouse::server
