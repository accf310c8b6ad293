#include "apps/trackhouse/clickhouse_mode.h"

#include <curl/curl.h>
#include <fmt/format.h>
#include <simdjson.h>

#include <chrono>
#include <mutex>
#include <string_view>
#include <utility>

#include "formats/output_format.h"
#include "server/version.h"

namespace trackhouse::app {
namespace {

std::string Json(std::string_view s) {
  std::string out;
  formats::AppendJsonString(s, /*validate_utf8=*/true, &out);
  return out;
}

clickhouse::PassthroughOptions PassthroughFor(delivery::DeliveryStore* store) {
  clickhouse::PassthroughOptions o;
  o.client = store->clickhouse_options();
  o.capabilities = store->capabilities();
  return o;
}

size_t Append(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

// GET `url`; the body and HTTP status, or Unavailable when the server cannot be reached.
Result<std::pair<long, std::string>> HttpGet(const std::string& url, const std::string& key) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return Status::Internal("curl_easy_init failed");
  std::string body;
  curl_slist* headers = nullptr;
  std::string auth = "Authorization: Bearer " + key;
  if (!key.empty()) headers = curl_slist_append(headers, auth.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 30000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) {
    return Status::Unavailable(fmt::format("cannot reach {}: {}", url, curl_easy_strerror(rc)));
  }
  return std::make_pair(status, std::move(body));
}

std::string_view Str(simdjson::dom::element e, const char* field) {
  std::string_view v;
  if (e[field].get(v) != simdjson::SUCCESS) return {};
  return v;
}

uint64_t UInt(simdjson::dom::element e, const char* field) {
  uint64_t v = 0;
  if (e[field].get(v) != simdjson::SUCCESS) return 0;
  return v;
}

}  // namespace

std::string DoctorJson(delivery::DeliveryStore& store, const std::string& cluster) {
  delivery::DeliveryReport report = store.Report();
  // Reachability as of now: a ping of its own (the store's view dates from its last request).
  clickhouse::ClientOptions ping_options = store.clickhouse_options();
  ping_options.connect_timeout = std::chrono::milliseconds(1000);
  ping_options.request_timeout = std::chrono::milliseconds(2000);
  clickhouse::Client ping_client(ping_options);
  Status ping = ping_client.Ping();
  report.reachable = ping.ok();
  if (!ping.ok()) report.reachability_error = ping.message();
  std::vector<std::string> adaptations = report.adaptations;
  if (report.server_version.empty() && store.capabilities().version.major != 0) {
    report.server_version = store.capabilities().version.ToString();
  }
  // The server's own, once its version is known (not before ClickHouse was first reached).
  if (adaptations.empty() && store.capabilities().version.major != 0) {
    adaptations = store.capabilities().Adaptations();
  }
  std::string out = fmt::format("{{\"mode\":\"clickhouse\",\"version\":{},", Json(server::kVersion));
  out += fmt::format(
      "\"clickhouse\":{{\"url\":{},\"cluster\":{},\"reachable\":{},\"error\":{},"
      "\"server_version\":{}}},",
      Json(store.clickhouse_options().Endpoint()), Json(cluster),
      report.reachable ? "true" : "false", Json(report.reachability_error),
      Json(report.server_version));
  out += "\"adaptations\":[";
  for (size_t i = 0; i < adaptations.size(); ++i) {
    if (i > 0) out += ",";
    out += Json(adaptations[i]);
  }
  out += fmt::format("],\"backlog\":{{\"rows\":{},\"bytes\":{},\"lag_seconds\":{:.3f}}},",
                     report.backlog_rows, report.backlog_bytes, report.lag_micros / 1e6);
  out += fmt::format("\"dead_letters\":{},\"tables\":[", report.dead_letters);
  for (size_t i = 0; i < report.tables.size(); ++i) {
    const delivery::TableDelivery& t = report.tables[i];
    if (i > 0) out += ",";
    out += fmt::format(
        "{{\"database\":{},\"table\":{},\"mechanism\":{},\"backlog_rows\":{},"
        "\"backlog_bytes\":{},\"dead_letters\":{}}}",
        Json(t.database), Json(t.table), Json(t.mechanism), t.backlog_rows, t.backlog_bytes,
        t.dead_letters);
  }
  out += "]}";
  return out;
}

ClickHouseModeHandler::ClickHouseModeHandler(delivery::DeliveryStore* store, std::string cluster)
    : store_(store), cluster_(std::move(cluster)), passthrough_(PassthroughFor(store)) {}

Result<query::QueryResult> ClickHouseModeHandler::Execute(const query::QueryRequest& request) {
  return passthrough_.Execute(request);
}

std::string ClickHouseModeHandler::DoctorJson() { return app::DoctorJson(*store_, cluster_); }

int RunDoctor(const std::string& url, const std::string& key, std::FILE* out, std::FILE* err) {
  std::string base = url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  auto got = HttpGet(base + "/doctor", key);
  if (!got.ok()) {
    fmt::print(err, "trackhouse doctor: {}\n", got.status().message());
    return 1;
  }
  const auto& [status, body] = *got;
  if (status != 200) {
    fmt::print(err, "trackhouse doctor: {} answered HTTP {}: {}\n", base, status, body);
    return 1;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(body).get(doc) != simdjson::SUCCESS || !doc.is_object()) {
    fmt::print(err, "trackhouse doctor: {} answered something that is not a report: {}\n", base,
               body.substr(0, 200));
    return 1;
  }
  fmt::print(out, "server:         {} (trackhouse {})\n", base, Str(doc, "version"));
  fmt::print(out, "mode:           {}\n", Str(doc, "mode"));
  if (Str(doc, "mode") != "clickhouse") return 0;

  simdjson::dom::element ch;
  bool reachable = false;
  if (doc["clickhouse"].get(ch) == simdjson::SUCCESS) {
    if (ch["reachable"].get(reachable) != simdjson::SUCCESS) reachable = false;
    std::string_view cluster = Str(ch, "cluster");
    fmt::print(out, "ClickHouse:     {}{} -- {}\n", Str(ch, "url"),
               cluster.empty() ? "" : fmt::format(" (cluster {})", cluster),
               reachable ? "reachable" : fmt::format("NOT reachable: {}", Str(ch, "error")));
    std::string_view version = Str(ch, "server_version");
    fmt::print(out, "server version: {}\n", version.empty() ? "unknown" : version);
  }
  simdjson::dom::array adaptations;
  if (doc["adaptations"].get(adaptations) == simdjson::SUCCESS) {
    fmt::print(out, "adaptations:    {}\n", adaptations.size() == 0 ? "none" : "");
    for (simdjson::dom::element a : adaptations) {
      std::string_view line;
      if (a.get(line) == simdjson::SUCCESS) fmt::print(out, "  - {}\n", line);
    }
  }
  simdjson::dom::element backlog;
  if (doc["backlog"].get(backlog) == simdjson::SUCCESS) {
    double lag = 0;
    if (backlog["lag_seconds"].get(lag) != simdjson::SUCCESS) lag = 0;
    fmt::print(out, "spool backlog:  {} rows, {} bytes, oldest undelivered {:.3f} s ago\n",
               UInt(backlog, "rows"), UInt(backlog, "bytes"), lag);
  }
  fmt::print(out, "dead letters:   {}\n", UInt(doc, "dead_letters"));
  simdjson::dom::array tables;
  if (doc["tables"].get(tables) == simdjson::SUCCESS) {
    fmt::print(out, "tables:         {}\n", tables.size() == 0 ? "none written yet" : "");
    for (simdjson::dom::element t : tables) {
      fmt::print(out, "  {}.{}: exactly once by {}; backlog {} rows, {} bytes; {} dead letters\n",
                 Str(t, "database"), Str(t, "table"), Str(t, "mechanism"),
                 UInt(t, "backlog_rows"), UInt(t, "backlog_bytes"), UInt(t, "dead_letters"));
    }
  }
  if (!reachable) {
    fmt::print(err, "trackhouse doctor: the server does not reach ClickHouse\n");
    return 1;
  }
  return 0;
}

}  // namespace trackhouse::app
