// GET /metrics through the real server and engine on a free loopback port: the labeled series
// of responses, /track rows and bytes by table, statements by kind, per-table engine gauges and
// back-pressure refusals show the traffic that was sent. Metrics are process-wide, so each check
// compares /metrics before and after, or uses a table no other test touches.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "common/metrics.h"
#include "query/query.h"
#include "server/access_test_util.h"
#include "server/test_client.h"

namespace trackhouse::server {
namespace {

// The value of one series (`name{labels}`) in a /metrics body; -1 if it is not there.
double SeriesValue(const std::string& text, const std::string& series) {
  std::string prefix = series + " ";
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    if (text.compare(pos, prefix.size(), prefix) == 0) {
      return std::stod(text.substr(pos + prefix.size(), end - pos - prefix.size()));
    }
    pos = end + 1;
  }
  return -1;
}

// 0 for a series not rendered yet (a labeled series appears on first use).
double CountOf(const std::string& text, const std::string& series) {
  double v = SeriesValue(text, series);
  return v < 0 ? 0 : v;
}

class MetricsEndpointTest : public ServerFixture {
 protected:
  void SetUp() override {}  // each test starts the server with its own options

  void Start(ServerOptions options = ServerOptions()) {
    StartAll(options, &forward_);
    engine_ = std::make_unique<query::QueryEngine>(storage_.get(), query::QueryEngineOptions());
    forward_.target = engine_.get();
  }

  void TearDown() override {
    StopAll();
    engine_.reset();
  }

  std::string Metrics(std::string_view headers = "") {
    Response r = Send("GET", "/metrics", "", headers);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    return r.body;
  }

  Response Track(std::string_view target, std::string_view body, std::string_view headers = "") {
    return Send("POST", target, body,
                fmt::format("Content-Type: application/x-ndjson\r\n{}", headers));
  }

  ForwardingHandler forward_;
  std::unique_ptr<query::QueryEngine> engine_;
};

TEST_F(MetricsEndpointTest, TrackAndQueryTrafficShowsInLabeledSeries) {
  ServerOptions options;
  options.track.max_rows = 3;
  Start(options);
  const std::string before = Metrics();

  ASSERT_EQ(Post("CREATE TABLE metrics_events (id UInt32, name String) ENGINE = MergeTree "
                 "ORDER BY id")
                .status,
            200);
  const std::string good = "{\"id\":1,\"name\":\"a\"}\n{\"id\":2,\"name\":\"b\"}\n";
  const std::string bad = "{\"id\":3,\"name\":\"c\"}\n{\"id\":\"x\"}\n{\"id\":4,\"name\":\"d\"}\n";
  const std::string partial = "{\"id\":5,\"name\":\"e\"}\n{\"id\":-1}\n";
  const std::string too_many = "{\"id\":6}\n{\"id\":7}\n{\"id\":8}\n{\"id\":9}\n";
  EXPECT_EQ(Track("/track/metrics_events", good).status, 200);
  EXPECT_EQ(Track("/track/metrics_events", bad).status, 400);
  EXPECT_EQ(Track("/track/metrics_events?partial=1", partial).status, 200);
  EXPECT_EQ(Track("/track/metrics_events", too_many).status, 413);
  EXPECT_EQ(Track("/track/metrics_no_such_table", good).status, 404);
  ASSERT_EQ(Post("INSERT INTO metrics_events FORMAT JSONEachRow", good).status, 200);
  Response select = Post("SELECT count() FROM metrics_events");
  ASSERT_EQ(select.status, 200) << select.body;
  EXPECT_EQ(select.body, "5\n");
  EXPECT_EQ(Post("SELECT * FROM metrics_no_such_table").status, 404);
  const std::string after = Metrics();

  auto delta = [&](const std::string& series) {
    return CountOf(after, series) - CountOf(before, series);
  };
  // Responses by route and status.
  EXPECT_EQ(delta(R"(trackhouse_http_responses_total{route="track",status="200"})"), 2);
  EXPECT_EQ(delta(R"(trackhouse_http_responses_total{route="track",status="400"})"), 1);
  EXPECT_EQ(delta(R"(trackhouse_http_responses_total{route="track",status="413"})"), 1);
  EXPECT_EQ(delta(R"(trackhouse_http_responses_total{route="track",status="404"})"), 1);
  EXPECT_EQ(delta(R"(trackhouse_http_responses_total{route="query",status="200"})"), 3);
  EXPECT_EQ(delta(R"(trackhouse_http_responses_total{route="query",status="404"})"), 1);
  EXPECT_EQ(delta(R"(trackhouse_http_responses_total{route="metrics",status="200"})"), 1);

  // /track rows by table and outcome, requests refused by code, body bytes by table.
  const std::string t = R"(table="default.metrics_events")";
  EXPECT_EQ(
      SeriesValue(after, "trackhouse_track_table_rows_total{" + t + R"(,outcome="accepted"})"), 3);
  EXPECT_EQ(SeriesValue(after, "trackhouse_track_table_rows_total{" + t + R"(,outcome="bad_row"})"),
            2);
  EXPECT_EQ(
      SeriesValue(after, "trackhouse_track_table_rows_total{" + t + R"(,outcome="batch_refused"})"),
      2);
  EXPECT_EQ(
      SeriesValue(after, "trackhouse_track_table_rows_total{" + t + R"(,outcome="too_large"})"), 4);
  EXPECT_EQ(SeriesValue(after, "trackhouse_track_table_body_bytes_total{" + t + "}"),
            good.size() + bad.size() + partial.size() + too_many.size());
  EXPECT_EQ(after.find("metrics_no_such_table"), std::string::npos);
  EXPECT_EQ(delta(R"(trackhouse_track_refused_total{code="BAD_ROWS"})"), 1);
  EXPECT_EQ(delta(R"(trackhouse_track_refused_total{code="PAYLOAD_TOO_LARGE"})"), 1);
  EXPECT_EQ(delta(R"(trackhouse_track_refused_total{code="UNKNOWN_TABLE"})"), 1);

  // Rows stored by table, from /track and INSERT alike.
  EXPECT_EQ(SeriesValue(after, "trackhouse_ingest_table_rows_total{" + t + "}"), 5);

  // Statements by kind and outcome, and their latency histogram.
  EXPECT_EQ(delta(R"(trackhouse_query_statements_total{kind="ddl",outcome="ok"})"), 1);
  EXPECT_EQ(delta(R"(trackhouse_query_statements_total{kind="insert",outcome="ok"})"), 1);
  EXPECT_EQ(delta(R"(trackhouse_query_statements_total{kind="select",outcome="ok"})"), 1);
  EXPECT_EQ(delta(R"(trackhouse_query_statements_total{kind="select",outcome="error"})"), 1);
  EXPECT_EQ(delta(R"(trackhouse_query_duration_seconds_count{kind="select"})"), 2);
  EXPECT_EQ(delta(R"(trackhouse_query_duration_seconds_bucket{kind="select",le="+Inf"})"), 2);
  EXPECT_GE(delta(R"(trackhouse_query_duration_seconds_sum{kind="select"})"), 0);

  // Per-table engine gauges, read from the engine when /metrics renders: the five rows wait in
  // the memtable (the fixture's engine flushes a memtable after 10 s), then a flush moves them.
  EXPECT_EQ(SeriesValue(after, "trackhouse_engine_table_memtable_rows{" + t + "}"), 5);
  EXPECT_GT(SeriesValue(after, "trackhouse_engine_table_memtable_bytes{" + t + "}"), 0);
  EXPECT_EQ(SeriesValue(after, "trackhouse_engine_table_parts{" + t + "}"), 0);
  ASSERT_TRUE(storage_->FlushAll().ok());
  const std::string flushed = Metrics();
  EXPECT_EQ(SeriesValue(flushed, "trackhouse_engine_table_parts{" + t + "}"), 1);
  EXPECT_EQ(SeriesValue(flushed, "trackhouse_engine_table_max_parts_in_partition{" + t + "}"), 1);
  EXPECT_EQ(SeriesValue(flushed, "trackhouse_engine_table_memtable_rows{" + t + "}"), 0);
  EXPECT_EQ(SeriesValue(flushed, "trackhouse_engine_table_memtable_bytes{" + t + "}"), 0);

  // Closing the engine unregisters them.
  StopAll();
  EXPECT_EQ(metrics::RenderPrometheus().find("trackhouse_engine_table_parts{" + t),
            std::string::npos);
}

constexpr std::string_view kLimitedKey = "limited-key-0123456789abcdef";

TEST_F(MetricsEndpointTest, RateLimitedRequestsCountAsBackpressure) {
  ServerOptions options;
  ApiKey limited = test_util::Key("limited", kLimitedKey, KeyRole::kAdmin);
  limited.rate_per_second = 0.001;  // a token per 1000 s: the burst is all there is
  limited.burst = 1;
  options.access.keys = {limited};
  Start(options);
  const std::string auth = fmt::format("Authorization: Bearer {}\r\n", kLimitedKey);
  const int64_t before =
      metrics::ValueOf("trackhouse_backpressure_rejections_total", {{"reason", "rate_limit"}});
  // The burst of one goes to /metrics itself; then /track is refused with 429.
  Metrics(auth);
  EXPECT_EQ(Track("/track/anything", "{}\n", auth).status, 429);
  EXPECT_EQ(Track("/track/anything", "{}\n", auth).status, 429);
  EXPECT_EQ(SeriesValue(metrics::RenderPrometheus(),
                        R"(trackhouse_backpressure_rejections_total{reason="rate_limit"})"),
            before + 2);
}

}  // namespace
}  // namespace trackhouse::server
