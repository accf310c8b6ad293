// Metrics of the HTTP server shared by the connection loop, the router and the /track handler
// (docs/metrics.md): responses by route and status, and push-back refusals by reason.
//
// Owns nothing but process-wide metric series. Thread-safe; counting a response is lock-free
// once its (route, status) series has been used.
#pragma once

#include <string_view>

#include "common/status.h"
#include "server/http.h"

namespace trackhouse::server {

// What a request asked for, as the `route` label of trackhouse_http_responses_total.
enum class HttpRoute {
  kPing,      // /ping
  kHealth,    // /health
  kReady,     // /ready
  kMetrics,   // /metrics
  kTrack,     // /track/<table>
  kQuery,     // / (the ClickHouse HTTP interface)
  kNotFound,  // any other path
  kUnparsed,  // a request line or header that could not be read (400, 408)
};
inline constexpr int kHttpRouteCount = 8;

std::string_view HttpRouteName(HttpRoute route);
// The route of a request, from its path (as the Router dispatches it).
HttpRoute RouteOf(const HttpRequest& request);

// Counts a response as it is sent: trackhouse_http_responses_total{route, status}.
void CountHttpResponse(HttpRoute route, int status);

// Why work was refused to push back on the client (the `reason` label of
// trackhouse_backpressure_rejections_total).
enum class BackpressureReason {
  kMemory,       // memtables over their budget (rows waiting for disk)
  kLog,          // the durable log refused the append
  kDiskFull,     // ENOSPC / EDQUOT on the log or on a flush
  kUnavailable,  // the store is stopping or not open
  kRateLimit,    // a key over its rate limit (429)
};

// The reason a push-back status (503 or 429 with Retry-After, server/http_error.h) refused work.
BackpressureReason BackpressureReasonOf(const Status& status);
void CountBackpressure(BackpressureReason reason);

}  // namespace trackhouse::server
