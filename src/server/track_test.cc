// POST /track/<table> through the real server and engine on a free loopback port: body shapes,
// validation and all-or-nothing, partial=1, actor context, limits, content types, gzip.
#include "server/track.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/metrics.h"
#include "query/query.h"
#include "server/access_test_util.h"
#include "server/compression.h"
#include "server/test_client.h"

namespace trackhouse::server {
namespace {

constexpr std::string_view kWriteKey = "write-key-0123456789abcdef";
constexpr std::string_view kEventsOnlyKey = "events-only-0123456789abcdef";
constexpr std::string_view kReadKey = "read-key-0123456789abcdef";
constexpr std::string_view kAdminKey = "admin-key-0123456789abcdef";
constexpr std::string_view kSlowKey = "slow-key-0123456789abcdef";
constexpr std::string_view kSecret = "track-test-secret-of-32-characters";

using test_util::Key;

AccessOptions Keys() {
  AccessOptions a;
  a.keys = {Key("web", kWriteKey, KeyRole::kWrite),
            Key("beacon", kEventsOnlyKey, KeyRole::kWrite, {"events"}),
            Key("dashboard", kReadKey, KeyRole::kRead), Key("ops", kAdminKey, KeyRole::kAdmin)};
  ApiKey slow = Key("slow", kSlowKey, KeyRole::kWrite);
  slow.rate_per_second = 0.001;  // a token per 1000 s: the burst is all there is
  slow.burst = 2;
  a.keys.push_back(slow);
  a.jwt_secret = std::string(kSecret);
  return a;
}

class TrackTest : public ServerFixture {
 protected:
  void SetUp() override {}  // each test starts the server with its own options

  void Start(TrackOptions track = TrackOptions(), AccessOptions access = AccessOptions(),
             ServerOptions options = ServerOptions()) {
    options.track = std::move(track);
    options.access = std::move(access);
    StartAll(options, &forward_);
    engine_ = std::make_unique<query::QueryEngine>(storage_.get(), query::QueryEngineOptions());
    forward_.target = engine_.get();
    std::string admin =
        options.access.keys.empty()
            ? ""
            : fmt::format("X-ClickHouse-User: ops\r\nX-ClickHouse-Key: {}\r\n", kAdminKey);
    Response r = Post(
        "CREATE TABLE events (entityType LowCardinality(String), entityId Int32, "
        "userId Int32, metricType LowCardinality(String), metricValue Int32 DEFAULT 1, "
        "createdAt DateTime64(3) DEFAULT now64()) "
        "ENGINE = MergeTree ORDER BY (entityType, entityId, createdAt)",
        "", admin);
    ASSERT_EQ(r.status, 200) << r.body;
  }

  void TearDown() override {
    StopAll();
    engine_.reset();
  }

  Response Track(std::string_view target, std::string_view body,
                 std::string_view content_type = "application/json",
                 std::string_view extra_headers = "") {
    Client c(port_);
    return c.Request("POST", target, body,
                     fmt::format("Content-Type: {}\r\n{}", content_type, extra_headers));
  }

  ForwardingHandler forward_;
  std::unique_ptr<query::QueryEngine> engine_;
};

TEST_F(TrackTest, OneObjectAnArrayAndNdjsonAreStoredAndAcknowledged) {
  Start();
  Response one = Track("/track/events",
                       R"({"entityType":"Model","entityId":1,"userId":7,"metricType":"View"})");
  EXPECT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(one.body, "{\"accepted\":1}\n");
  EXPECT_EQ(one.Header("Content-Type"), "application/json");
  Response array = Track("/track/events",
                         R"([{"entityType":"Model","entityId":2,"userId":7,"metricType":"View"},
                             {"entityType":"Image","entityId":3,"userId":8,"metricType":"Like"}])");
  EXPECT_EQ(array.status, 200) << array.body;
  EXPECT_EQ(array.body, "{\"accepted\":2}\n");
  Response ndjson =
      Track("/track/default.events",
            "{\"entityType\":\"Post\",\"entityId\":4,\"userId\":1,\"metricType\":\"Share\"}\n"
            "{\"entityType\":\"Post\",\"entityId\":5,\"userId\":1,\"metricType\":\"Share\"}\n"
            "{\"entityType\":\"Post\",\"entityId\":6,\"userId\":1,\"metricType\":\"Share\"}\n",
            "application/x-ndjson");
  EXPECT_EQ(ndjson.status, 200) << ndjson.body;
  EXPECT_EQ(ndjson.body, "{\"accepted\":3}\n");
  Response beacon = Track("/track/events",
                          R"({"entityType":"Model","entityId":9,"userId":2,"metricType":"View"})",
                          "text/plain;charset=UTF-8");
  EXPECT_EQ(beacon.status, 200) << beacon.body;
  EXPECT_EQ(CountRows("events"), 7u);
}

TEST_F(TrackTest, PipelinedRequestsAreAnsweredInOrderOnceDurable) {
  Start();
  // /track answers once the rows are synced, from the thread that synced them, while the
  // worker goes on: answers must still leave in request order.
  std::string three =
      "{\"entityType\":\"Post\",\"entityId\":1,\"userId\":1,\"metricType\":\"View\"}\n"
      "{\"entityType\":\"Post\",\"entityId\":2,\"userId\":1,\"metricType\":\"View\"}\n"
      "{\"entityType\":\"Post\",\"entityId\":3,\"userId\":1,\"metricType\":\"View\"}\n";
  std::string one = R"({"entityType":"Post","entityId":4,"userId":1,"metricType":"View"})";
  std::string bad = R"({"entityType":"Post","entityId":"x"})";
  Client c(port_);
  auto post = [](std::string_view body) {
    return fmt::format(
        "POST /track/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: {}\r\n\r\n{}",
        body.size(), body);
  };
  c.Send(post(three) + post(bad) + post(one) + "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n");
  Response first = c.Read();
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.body, "{\"accepted\":3}\n");
  EXPECT_EQ(c.Read().status, 400);
  Response third = c.Read();
  EXPECT_EQ(third.status, 200);
  EXPECT_EQ(third.body, "{\"accepted\":1}\n");
  Response ping = c.Read();
  EXPECT_EQ(ping.status, 200);
  EXPECT_EQ(ping.body, "Ok.\n");
  EXPECT_EQ(CountRows("events"), 4u);
}

// Small requests that arrive whole are served by the io thread that read them; the table may
// change between two of them on one connection, and each is shaped for the table as it is.
TEST_F(TrackTest, SmallRequestsAreServedInlineAndFollowTheTableDefinition) {
  Start();
  const int64_t inline_before = metrics::ValueOf("trackhouse_http_inline_requests_total");
  Client c(port_);
  auto post = [&](std::string_view body) {
    return c.Request("POST", "/track/events", body, "Content-Type: application/json\r\n");
  };
  Response first = post(R"({"entityType":"Model","entityId":1,"metricType":"View"})");
  EXPECT_EQ(first.status, 200) << first.body;
  ASSERT_EQ(Post("ALTER TABLE events ADD COLUMN source String DEFAULT 'web'").status, 200);
  Response given = post(R"({"entityType":"Model","entityId":2,"source":"app"})");
  EXPECT_EQ(given.status, 200) << given.body;
  Response defaulted = post(R"({"entityType":"Model","entityId":3})");
  EXPECT_EQ(defaulted.status, 200) << defaulted.body;
  // An answer that is not deferred (bad rows) leaves from the io thread too; the connection
  // goes on.
  Response bad = post(R"({"entityId":4,"colour":"red"})");
  EXPECT_EQ(bad.status, 400) << bad.body;
  Response after = post(R"({"entityId":5})");
  EXPECT_EQ(after.status, 200) << after.body;
  EXPECT_EQ(metrics::ValueOf("trackhouse_http_inline_requests_total") - inline_before, 5);

  storage::ScanRequest req;
  req.columns = {"entityId", "source"};
  auto scan = storage_->Scan("default", "events", req);
  ASSERT_TRUE(scan.ok());
  std::map<int64_t, std::string> source_of;
  types::Block b;
  while ((*scan)->NextBlock(&b)) {
    for (size_t i = 0; i < b.rows(); ++i) {
      source_of[b.at(0).column->GetValue(i).AsInt()] = b.at(1).column->GetValue(i).string_value();
    }
  }
  EXPECT_EQ(source_of,
            (std::map<int64_t, std::string>{{1, "web"}, {2, "app"}, {3, "web"}, {5, "web"}}));
}

// Small requests sent back to back without waiting for answers: the first is served on the io
// thread, the ones behind its unsent answer by a worker that waits for it; the answers come in
// request order, each once its rows are durable.
TEST_F(TrackTest, PipelinedSmallRequestsAreAnsweredInOrderWhateverServesThem) {
  Start();
  const int64_t inline_before = metrics::ValueOf("trackhouse_http_inline_requests_total");
  Client c(port_);
  std::string all;
  constexpr int kRequests = 20;
  for (int i = 0; i < kRequests; ++i) {
    // Every third request has a bad row (400, answered at once), the others one or two rows.
    std::string body =
        i % 3 == 2   ? fmt::format(R"({{"entityType":"Post","entityId":"bad{}"}})", i)
        : i % 3 == 1 ? fmt::format("{{\"entityId\":{}}}\n{{\"entityId\":{}}}\n", 1000 + i, 2000 + i)
                     : fmt::format(R"({{"entityId":{}}})", 1000 + i);
    all += fmt::format(
        "POST /track/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n"
        "Content-Length: {}\r\n\r\n{}",
        body.size(), body);
  }
  c.Send(all);
  uint64_t stored = 0;
  for (int i = 0; i < kRequests; ++i) {
    Response r = c.Read();
    SCOPED_TRACE(fmt::format("answer {}", i));
    if (i % 3 == 2) {
      EXPECT_EQ(r.status, 400) << r.body;
      continue;
    }
    const int rows = i % 3 == 1 ? 2 : 1;
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body, fmt::format("{{\"accepted\":{}}}\n", rows));
    stored += rows;
  }
  EXPECT_EQ(CountRows("events"), stored);
  EXPECT_GE(metrics::ValueOf("trackhouse_http_inline_requests_total") - inline_before, 1);
  // The connection goes on, served on the io thread again once nothing is outstanding.
  Response next = c.Request("POST", "/track/events", R"({"entityId":1})");
  EXPECT_EQ(next.status, 200) << next.body;
}

// The keep-alive timeout counts from a connection's last request, also when its requests are
// served inline.
TEST_F(TrackTest, AConnectionIsClosedAfterKeepAliveTimeoutOfIdlenessNotOfAge) {
  ServerOptions options;
  options.keep_alive_timeout_ms = 1000;
  Start(TrackOptions(), AccessOptions(), options);
  Client c(port_);
  const std::string row = R"({"entityType":"Model","entityId":1})";
  ASSERT_EQ(c.Request("POST", "/track/events", row).status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  ASSERT_EQ(c.Request("POST", "/track/events", row).status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  // 1.2 s after the first request, 0.6 s after the last: still open.
  Response third = c.Request("POST", "/track/events", row);
  EXPECT_EQ(third.status, 200) << third.body;
  EXPECT_TRUE(c.Closed(5000));
  EXPECT_EQ(CountRows("events"), 3u);
}

// Requests the io thread does not serve itself (a body that comes after its header, a body
// over the inline size) go to a worker; a request asking to close is answered, then closed.
TEST_F(TrackTest, RequestsNotServedInlineAndClosingRequestsAreAnswered) {
  Start();
  Client c(port_);
  const std::string row = R"({"entityType":"Model","entityId":1})";
  c.Send(
      fmt::format("POST /track/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  "Content-Length: {}\r\n\r\n",
                  row.size()));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  c.Send(row);
  Response late = c.Read();
  EXPECT_EQ(late.status, 200) << late.body;
  std::string large;
  int rows = 0;
  while (large.size() <= 20 * 1024) {
    large += fmt::format("{{\"entityType\":\"Model\",\"entityId\":{}}}\n", 100 + rows);
    ++rows;
  }
  Response big =
      c.Request("POST", "/track/events", large, "Content-Type: application/x-ndjson\r\n");
  EXPECT_EQ(big.status, 200) << big.body;
  EXPECT_EQ(big.body, fmt::format("{{\"accepted\":{}}}\n", rows));
  Response closing = c.Request("POST", "/track/events", row,
                               "Content-Type: application/json\r\nConnection: close\r\n");
  EXPECT_EQ(closing.status, 200) << closing.body;
  EXPECT_EQ(closing.Header("Connection"), "close");
  EXPECT_TRUE(c.Closed());
  EXPECT_EQ(CountRows("events"), static_cast<uint64_t>(rows + 2));
}

TEST_F(TrackTest, BadRowsAreListedAndNothingIsStored) {
  Start();
  int64_t rejected_before = metrics::ValueOf("trackhouse_track_rows_rejected_total");
  Response r = Track("/track/events",
                     "{\"entityType\":\"Model\",\"entityId\":1,\"metricType\":\"View\"}\n"
                     "{\"entityType\":\"Model\",\"entityId\":\"many\",\"metricType\":\"View\"}\n"
                     "{\"entityType\":\"Model\",\"entityId\":3,\"metricType\":\"View\"}\n"
                     "{\"entityType\":\"Model\",\"entityId\":3000000000}\n"
                     "{\"entityType\":\"Model\",\"colour\":\"red\"}\n",
                     "application/x-ndjson");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("\"code\":\"BAD_ROWS\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("3 of 5 rows cannot be stored; nothing was stored"), std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("{\"index\":1,\"column\":\"entityId\",\"reason\":"), std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("{\"index\":3,\"column\":\"entityId\",\"reason\":"), std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("out of range"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("{\"index\":4,\"column\":\"\",\"reason\":\"Unknown field found while "
                        "parsing JSONEachRow format: colour\"}"),
            std::string::npos)
      << r.body;
  EXPECT_EQ(CountRows("events"), 0u);
  EXPECT_EQ(metrics::ValueOf("trackhouse_track_rows_rejected_total") - rejected_before, 3);
}

TEST_F(TrackTest, PartialStoresTheGoodRowsAndListsTheBadOnes) {
  Start();
  Response r = Track("/track/events?partial=1",
                     R"([{"entityType":"Model","entityId":1},
                         {"entityType":"Model","entityId":[1]},
                         {"entityType":"Model","entityId":2}])");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"accepted\":2,\"rejected\":[{\"index\":1,\"column\":\"entityId\""),
            std::string::npos)
      << r.body;
  EXPECT_EQ(CountRows("events"), 2u);
}

TEST_F(TrackTest, UnknownKeysAreSkippedWhenTheRequestOrTheConfigSaysSo) {
  TrackOptions options;
  options.skip_unknown_fields_tables = {"default.events"};
  Start(options);
  Response r = Track("/track/events", R"({"entityType":"Model","entityId":1,"extra":true})");
  EXPECT_EQ(r.status, 200) << r.body;
  Response by_url = Track("/track/events?input_format_skip_unknown_fields=1",
                          R"({"entityType":"Model","entityId":2,"extra":true})");
  EXPECT_EQ(by_url.status, 200) << by_url.body;
  EXPECT_EQ(CountRows("events"), 2u);
}

TEST_F(TrackTest, ActorColumnsComeFromTheRequestUnlessTheRowSetsThem) {
  Start();
  Response ddl = Post(
      "CREATE TABLE visits (page String, userId String DEFAULT 'nobody', ip String, "
      "userAgent String) ENGINE = MergeTree ORDER BY page");
  ASSERT_EQ(ddl.status, 200) << ddl.body;
  Response r = Track("/track/visits",
                     "{\"page\":\"/a\"}\n"
                     "{\"page\":\"/b\",\"ip\":\"203.0.113.9\",\"userAgent\":\"app-server\"}\n",
                     "application/x-ndjson", "User-Agent: test-browser/1.0\r\n");
  ASSERT_EQ(r.status, 200) << r.body;
  storage::ScanRequest req;
  req.columns = {"page", "userId", "ip", "userAgent"};
  auto scan = storage_->Scan("default", "visits", req);
  ASSERT_TRUE(scan.ok());
  std::map<std::string, std::vector<std::string>> rows;
  types::Block b;
  while ((*scan)->NextBlock(&b)) {
    for (size_t i = 0; i < b.rows(); ++i) {
      rows[b.at(0).column->GetValue(i).string_value()] = {
          b.at(1).column->GetValue(i).string_value(), b.at(2).column->GetValue(i).string_value(),
          b.at(3).column->GetValue(i).string_value()};
    }
  }
  ASSERT_EQ(rows.size(), 2u);
  // No token: the user id keeps its DEFAULT; the address and agent are the request's.
  EXPECT_EQ(rows["/a"], (std::vector<std::string>{"nobody", "127.0.0.1", "test-browser/1.0"}));
  EXPECT_EQ(rows["/b"], (std::vector<std::string>{"nobody", "203.0.113.9", "app-server"}));
}

TEST_F(TrackTest, LimitsAnswer413NamingTheLimit) {
  TrackOptions options;
  options.max_body_bytes = 1000;
  options.max_rows = 3;
  options.max_string_bytes = 10;
  Start(options);
  std::string big = R"({"entityType":")" + std::string(2000, 'x') + R"("})";
  Response body = Track("/track/events", big);
  EXPECT_EQ(body.status, 413);
  EXPECT_NE(body.body.find("max_body_bytes (1000 bytes)"), std::string::npos) << body.body;
  Response rows = Track("/track/events", R"([{"entityId":1},{"entityId":2},{"entityId":3},
                                            {"entityId":4}])");
  EXPECT_EQ(rows.status, 413);
  EXPECT_NE(rows.body.find("4 rows, more than max_rows (3)"), std::string::npos) << rows.body;
  Response str = Track("/track/events", R"({"entityType":"abcdefghijklmnop"})");
  EXPECT_EQ(str.status, 400);
  EXPECT_NE(str.body.find("longer than max_string_bytes (10)"), std::string::npos) << str.body;
  EXPECT_EQ(CountRows("events"), 0u);
}

TEST_F(TrackTest, WrongMethodTypeTableOrBodyAreClearErrors) {
  Start();
  Client c(port_);
  Response get = c.Request("GET", "/track/events");
  EXPECT_EQ(get.status, 405);
  EXPECT_EQ(get.Header("Allow"), "POST, OPTIONS");
  Response type = Track("/track/events", "{}", "application/xml");
  EXPECT_EQ(type.status, 415);
  EXPECT_NE(type.body.find("Content-Type application\\/xml is not taken"), std::string::npos)
      << type.body;
  Response table = Track("/track/nope", R"({"a":1})");
  EXPECT_EQ(table.status, 404);
  EXPECT_NE(table.body.find("\"code\":\"UNKNOWN_TABLE\""), std::string::npos) << table.body;
  Response empty = Track("/track/events", "  ");
  EXPECT_EQ(empty.status, 400);
  EXPECT_NE(empty.body.find("no rows"), std::string::npos) << empty.body;
  Response broken = Track("/track/events", R"({"entityId":1}{"entityId":)");
  EXPECT_EQ(broken.status, 400);
  EXPECT_NE(broken.body.find("\"code\":\"BAD_REQUEST\""), std::string::npos) << broken.body;
  Response scalar = Track("/track/events", "[1,2]");
  EXPECT_EQ(scalar.status, 400);
  EXPECT_EQ(CountRows("events"), 0u);
}

TEST_F(TrackTest, GzipBodiesAreInflated) {
  Start();
  auto packed = CompressBody(
      "{\"entityType\":\"Model\",\"entityId\":1}\n{\"entityType\":\"Model\",\"entityId\":2}\n",
      ContentEncoding::kGzip, 6);
  ASSERT_TRUE(packed.ok());
  Response r =
      Track("/track/events", *packed, "application/x-ndjson", "Content-Encoding: gzip\r\n");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(CountRows("events"), 2u);
}

TEST_F(TrackTest, ARetryWithTheSameIdempotencyKeyGetsTheFirstAnswerAndStoresNothing) {
  Start();
  const std::string rows =
      "{\"entityType\":\"Model\",\"entityId\":1}\n{\"entityType\":\"Model\",\"entityId\":2}\n";
  Response first =
      Track("/track/events", rows, "application/x-ndjson", "Idempotency-Key: batch-1\r\n");
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.Header("Idempotency-Replayed"), "");
  Response retry =
      Track("/track/events", rows, "application/x-ndjson", "Idempotency-Key: batch-1\r\n");
  EXPECT_EQ(retry.status, 200) << retry.body;
  EXPECT_EQ(retry.body, first.body);
  EXPECT_EQ(retry.Header("Idempotency-Replayed"), "true");
  Response other =
      Track("/track/events", rows, "application/x-ndjson", "Idempotency-Key: batch-2\r\n");
  EXPECT_EQ(other.status, 200) << other.body;
  EXPECT_EQ(other.Header("Idempotency-Replayed"), "");
  EXPECT_EQ(CountRows("events"), 4u);
  // The same key on another table is another request.
  ASSERT_EQ(Post("CREATE TABLE other (entityId Int32) ENGINE = MergeTree ORDER BY entityId").status,
            200);
  Response elsewhere = Track("/track/other", R"({"entityId":1})", "application/json",
                             "Idempotency-Key: batch-1\r\n");
  EXPECT_EQ(elsewhere.Header("Idempotency-Replayed"), "");
  EXPECT_EQ(CountRows("other"), 1u);
  Response bad = Track("/track/events", rows, "application/x-ndjson",
                       "Idempotency-Key: " + std::string(129, 'k') + "\r\n");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("Idempotency-Key must be 1 to 128 visible ASCII characters"),
            std::string::npos)
      << bad.body;
  EXPECT_EQ(CountRows("events"), 4u);
}

TEST_F(TrackTest, WithKeysTrackNeedsAWriteKeyForTheTable) {
  Start(TrackOptions(), Keys());
  const std::string row = R"({"entityType":"Model","entityId":1})";
  Response none = Track("/track/events", row);
  EXPECT_EQ(none.status, 401);
  EXPECT_NE(none.body.find("\"code\":\"UNAUTHORIZED\""), std::string::npos) << none.body;
  Response wrong = Track("/track/events", row, "application/json",
                         "Authorization: Bearer write-key-0123456789abcdeX\r\n");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.body.find("write-key"), std::string::npos) << "a key is never echoed";
  Response bearer = Track("/track/events", row, "application/json",
                          fmt::format("Authorization: Bearer {}\r\n", kWriteKey));
  EXPECT_EQ(bearer.status, 200) << bearer.body;
  Response beacon = Track(fmt::format("/track/events?key={}", kEventsOnlyKey), row, "text/plain");
  EXPECT_EQ(beacon.status, 200) << beacon.body;
  Response ddl = Post("CREATE TABLE other (a Int32) ENGINE = MergeTree ORDER BY a", "",
                      fmt::format("X-ClickHouse-User: ops\r\nX-ClickHouse-Key: {}\r\n", kAdminKey));
  ASSERT_EQ(ddl.status, 200) << ddl.body;
  Response elsewhere = Track(fmt::format("/track/other?key={}", kEventsOnlyKey), R"({"a":1})");
  EXPECT_EQ(elsewhere.status, 403);
  EXPECT_NE(elsewhere.body.find("key 'beacon' may not write to default.other"), std::string::npos)
      << elsewhere.body;
  Response reader = Track("/track/events", row, "application/json",
                          fmt::format("Authorization: Bearer {}\r\n", kReadKey));
  EXPECT_EQ(reader.status, 403);
  EXPECT_EQ(CountRows("events"), 2u);
}

TEST_F(TrackTest, WithKeysOnlyPingAndHealthAreOpen) {
  Start(TrackOptions(), Keys());
  Client c(port_);
  EXPECT_EQ(c.Request("GET", "/ping").status, 200);
  EXPECT_EQ(c.Request("GET", "/health").status, 200);
  Client m(port_);
  EXPECT_EQ(m.Request("GET", "/metrics").status, 401);
  Client r(port_);
  EXPECT_EQ(r.Request("GET", fmt::format("/metrics?key={}", kReadKey)).status, 200);
  Response anonymous = Post("SELECT 1");
  EXPECT_EQ(anonymous.status, 403);
  EXPECT_EQ(anonymous.Header("X-ClickHouse-Exception-Code"), "516");
}

TEST_F(TrackTest, OnTheClickHouseInterfaceTheKeyIsThePasswordAndItsRoleDecides) {
  Start(TrackOptions(), Keys());
  auto as = [&](std::string_view key) {
    return fmt::format("X-ClickHouse-User: app\r\nX-ClickHouse-Key: {}\r\n", key);
  };
  Client basic(port_);
  Response read =
      basic.Request("POST", "/?query=" + Encode("EXISTS TABLE events"), "",
                    "Authorization: Basic "
                    "ZGFzaGJvYXJkOnJlYWQta2V5LTAxMjM0NTY3ODlhYmNkZWY=\r\n");  // dashboard:<read
                                                                              // key>
  EXPECT_EQ(read.status, 200) << read.body;
  Client by_arg(port_);
  Response arg = by_arg.Request(
      "POST", fmt::format("/?password={}&query={}", kReadKey, Encode("EXISTS TABLE events")));
  EXPECT_EQ(arg.status, 200) << arg.body;
  Response insert =
      Post("INSERT INTO events (entityId) FORMAT JSONEachRow", R"({"entityId":5})", as(kReadKey));
  EXPECT_EQ(insert.status, 403);
  EXPECT_EQ(insert.Header("X-ClickHouse-Exception-Code"), "497");
  EXPECT_NE(insert.body.find("key 'dashboard' may not insert into default.events"),
            std::string::npos)
      << insert.body;
  Response write = Post("INSERT INTO events (entityId) FORMAT JSONEachRow", R"({"entityId":5})",
                        as(kEventsOnlyKey));
  EXPECT_EQ(write.status, 200) << write.body;
  Response ddl = Post("DROP TABLE events", "", as(kWriteKey));
  EXPECT_EQ(ddl.status, 403);
  EXPECT_EQ(CountRows("events"), 1u);
}

TEST_F(TrackTest, RateLimitedKeysGet429WithRetryAfter) {
  Start(TrackOptions(), Keys());
  const std::string auth = fmt::format("Authorization: Bearer {}\r\n", kSlowKey);
  const std::string row = R"({"entityId":1})";
  EXPECT_EQ(Track("/track/events", row, "application/json", auth).status, 200);
  EXPECT_EQ(Track("/track/events", row, "application/json", auth).status, 200);
  Response limited = Track("/track/events", row, "application/json", auth);
  EXPECT_EQ(limited.status, 429);
  EXPECT_GE(std::stoi(limited.Header("Retry-After")), 900);
  EXPECT_NE(limited.body.find("\"code\":\"RATE_LIMITED\""), std::string::npos) << limited.body;
  EXPECT_EQ(CountRows("events"), 2u);
}

TEST_F(TrackTest, UserIdComesFromASignedTokenOrATrustedProxy) {
  AccessOptions access;
  access.jwt_secret = std::string(kSecret);
  access.trusted_proxies = {"127.0.0.1"};
  access.trusted_user_header = "X-User-Id";
  Start(TrackOptions(), access);
  const std::string row = R"({"entityType":"Model","entityId":1})";
  std::string token = test_util::SignedToken(R"({"sub":"42"})", kSecret);
  Response by_token = Track("/track/events", row, "application/json",
                            fmt::format("X-Trackhouse-Token: {}\r\n", token));
  EXPECT_EQ(by_token.status, 200) << by_token.body;
  Response by_arg =
      Track(fmt::format("/track/events?token={}", token), R"({"entityType":"Model","entityId":2})");
  EXPECT_EQ(by_arg.status, 200) << by_arg.body;
  Response by_proxy = Track("/track/events", R"({"entityType":"Model","entityId":3})",
                            "application/json", "X-User-Id: 77\r\n");
  EXPECT_EQ(by_proxy.status, 200) << by_proxy.body;
  Response row_wins = Track("/track/events", R"({"entityType":"Model","entityId":4,"userId":5})",
                            "application/json", fmt::format("X-Trackhouse-Token: {}\r\n", token));
  EXPECT_EQ(row_wins.status, 200) << row_wins.body;
  std::string forged = test_util::SignedToken(R"({"sub":"1"})", "another-secret-of-32-characters");
  Response bad = Track("/track/events", row, "application/json",
                       fmt::format("X-Trackhouse-Token: {}\r\n", forged));
  EXPECT_EQ(bad.status, 401);
  EXPECT_NE(bad.body.find("token signature does not match"), std::string::npos) << bad.body;

  storage::ScanRequest req;
  req.columns = {"entityId", "userId"};
  auto scan = storage_->Scan("default", "events", req);
  ASSERT_TRUE(scan.ok());
  std::map<int64_t, int64_t> user_of;
  types::Block b;
  while ((*scan)->NextBlock(&b)) {
    for (size_t i = 0; i < b.rows(); ++i) {
      user_of[b.at(0).column->GetValue(i).AsInt()] = b.at(1).column->GetValue(i).AsInt();
    }
  }
  EXPECT_EQ(user_of, (std::map<int64_t, int64_t>{{1, 42}, {2, 42}, {3, 77}, {4, 5}}));
}

}  // namespace
}  // namespace trackhouse::server
