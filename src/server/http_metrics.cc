#include "server/http_metrics.h"

#include <array>
#include <atomic>
#include <string>

#include "common/error_codes.h"
#include "common/metrics.h"

namespace trackhouse::server {
namespace {

constexpr std::array<std::string_view, kHttpRouteCount> kRouteNames = {
    "ping", "health", "ready", "metrics", "track", "query", "not_found", "unparsed"};

metrics::CounterFamily& Responses() {
  static metrics::CounterFamily& f = metrics::GetCounterFamily(
      "trackhouse_http_responses_total", "HTTP responses sent, by route and status code",
      {"route", "status"});
  return f;
}

// Each (route, status) series, looked up in the family once; statuses 100-599.
constexpr int kMinStatus = 100;
constexpr int kMaxStatus = 599;
std::atomic<metrics::Counter*> response_cache[kHttpRouteCount][kMaxStatus - kMinStatus + 1];

}  // namespace

std::string_view HttpRouteName(HttpRoute route) { return kRouteNames[static_cast<int>(route)]; }

HttpRoute RouteOf(const HttpRequest& request) {
  const std::string& path = request.path;
  if (path == "/ping") return HttpRoute::kPing;
  if (path == "/health") return HttpRoute::kHealth;
  if (path == "/ready") return HttpRoute::kReady;
  if (path == "/metrics") return HttpRoute::kMetrics;
  if (path == "/" || path.empty()) return HttpRoute::kQuery;
  if (path.starts_with("/track/")) return HttpRoute::kTrack;
  return HttpRoute::kNotFound;
}

void CountHttpResponse(HttpRoute route, int status) {
  const int r = static_cast<int>(route);
  if (status < kMinStatus || status > kMaxStatus) {
    Responses().With({HttpRouteName(route), std::to_string(status)}).Add();
    return;
  }
  std::atomic<metrics::Counter*>& slot = response_cache[r][status - kMinStatus];
  metrics::Counter* c = slot.load(std::memory_order_acquire);
  if (c == nullptr) {
    // Racing threads get the same series from the family; either store is fine.
    c = &Responses().With({HttpRouteName(route), std::to_string(status)});
    slot.store(c, std::memory_order_release);
  }
  c->Add();
}

BackpressureReason BackpressureReasonOf(const Status& status) {
  if (status.clickhouse_code() == ch::kQuotaExceeded) return BackpressureReason::kRateLimit;
  if (status.clickhouse_code() == ch::kNotEnoughSpace) return BackpressureReason::kDiskFull;
  if (status.code() == StatusCode::kUnavailable) return BackpressureReason::kUnavailable;
  if (status.clickhouse_code() == ch::kServerOverloaded) return BackpressureReason::kMemory;
  return BackpressureReason::kLog;
}

void CountBackpressure(BackpressureReason reason) {
  static metrics::CounterFamily& f = metrics::GetCounterFamily(
      "trackhouse_backpressure_rejections_total",
      "Requests refused to push back (503 or 429 with Retry-After), by reason", {"reason"});
  static metrics::Counter* const by_reason[] = {&f.With({"memory"}), &f.With({"log"}),
                                                &f.With({"disk_full"}), &f.With({"unavailable"}),
                                                &f.With({"rate_limit"})};
  by_reason[static_cast<int>(reason)]->Add();
}

}  // namespace trackhouse::server
