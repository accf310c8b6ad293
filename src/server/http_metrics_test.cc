#include "server/http_metrics.h"

#include <gtest/gtest.h>

#include "common/error_codes.h"
#include "common/metrics.h"

namespace trackhouse::server {
namespace {

HttpRequest WithPath(std::string path) {
  HttpRequest r;
  r.path = std::move(path);
  return r;
}

TEST(HttpMetricsTest, RouteOfNamesEveryPathTheRouterServes) {
  EXPECT_EQ(HttpRouteName(RouteOf(WithPath("/ping"))), "ping");
  EXPECT_EQ(HttpRouteName(RouteOf(WithPath("/health"))), "health");
  EXPECT_EQ(HttpRouteName(RouteOf(WithPath("/ready"))), "ready");
  EXPECT_EQ(HttpRouteName(RouteOf(WithPath("/metrics"))), "metrics");
  EXPECT_EQ(HttpRouteName(RouteOf(WithPath("/track/events"))), "track");
  EXPECT_EQ(HttpRouteName(RouteOf(WithPath("/"))), "query");
  EXPECT_EQ(HttpRouteName(RouteOf(WithPath(""))), "query");
  EXPECT_EQ(HttpRouteName(RouteOf(WithPath("/track"))), "not_found");
  EXPECT_EQ(HttpRouteName(RouteOf(WithPath("/play"))), "not_found");
  EXPECT_EQ(HttpRouteName(HttpRoute::kUnparsed), "unparsed");
}

TEST(HttpMetricsTest, ResponsesAreCountedByRouteAndStatusIncludingOddStatuses) {
  const metrics::Labels ok = {{"route", "ping"}, {"status", "200"}};
  const metrics::Labels odd = {{"route", "not_found"}, {"status", "999"}};
  int64_t ok_before = metrics::ValueOf("trackhouse_http_responses_total", ok);
  int64_t odd_before = metrics::ValueOf("trackhouse_http_responses_total", odd);
  CountHttpResponse(HttpRoute::kPing, 200);
  CountHttpResponse(HttpRoute::kPing, 200);
  CountHttpResponse(HttpRoute::kNotFound, 999);
  EXPECT_EQ(metrics::ValueOf("trackhouse_http_responses_total", ok), ok_before + 2);
  EXPECT_EQ(metrics::ValueOf("trackhouse_http_responses_total", odd), odd_before + 1);
}

TEST(HttpMetricsTest, PushBackStatusesAreClassifiedByReason) {
  EXPECT_EQ(BackpressureReasonOf(Status::ResourceExhausted("disk", ch::kNotEnoughSpace)),
            BackpressureReason::kDiskFull);
  EXPECT_EQ(BackpressureReasonOf(Status::ResourceExhausted("flushing", ch::kServerOverloaded)),
            BackpressureReason::kMemory);
  EXPECT_EQ(BackpressureReasonOf(Status::ResourceExhausted("rate", ch::kQuotaExceeded)),
            BackpressureReason::kRateLimit);
  EXPECT_EQ(BackpressureReasonOf(Status::Unavailable("the log is closed")),
            BackpressureReason::kUnavailable);
  EXPECT_EQ(BackpressureReasonOf(Status::ResourceExhausted("log queue full", 0)),
            BackpressureReason::kLog);

  const metrics::Labels disk = {{"reason", "disk_full"}};
  int64_t before = metrics::ValueOf("trackhouse_backpressure_rejections_total", disk);
  CountBackpressure(BackpressureReason::kDiskFull);
  EXPECT_EQ(metrics::ValueOf("trackhouse_backpressure_rejections_total", disk), before + 1);
}

}  // namespace
}  // namespace trackhouse::server
