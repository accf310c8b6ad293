// POST /track/<table> through the real server and engine on a free loopback port: body shapes,
// validation and all-or-nothing, partial=1, actor context, limits, content types, gzip.
#include "server/track.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>

#include "common/metrics.h"
#include "server/compression.h"
#include "server/test_client.h"

namespace trackhouse::server {
namespace {

class TrackTest : public ServerFixture {
 protected:
  void SetUp() override {}  // each test starts the server with its own options

  void Start(TrackOptions track = TrackOptions()) {
    ServerOptions options;
    options.track = std::move(track);
    StartAll(options);
    Response r = Post(
        "CREATE TABLE events (entityType LowCardinality(String), entityId Int32, "
        "userId Int32, metricType LowCardinality(String), metricValue Int32 DEFAULT 1, "
        "createdAt DateTime64(3) DEFAULT now64()) "
        "ENGINE = MergeTree ORDER BY (entityType, entityId, createdAt)");
    ASSERT_EQ(r.status, 200) << r.body;
  }

  Response Track(std::string_view target, std::string_view body,
                 std::string_view content_type = "application/json",
                 std::string_view extra_headers = "") {
    Client c(port_);
    return c.Request("POST", target, body,
                     fmt::format("Content-Type: {}\r\n{}", content_type, extra_headers));
  }
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
      rows[b.at(0).column->GetValue(i).string_value()] = {b.at(1).column->GetValue(i).string_value(),
                                                      b.at(2).column->GetValue(i).string_value(),
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
  Response r = Track("/track/events", *packed, "application/x-ndjson", "Content-Encoding: gzip\r\n");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(CountRows("events"), 2u);
}

}  // namespace
}  // namespace trackhouse::server
