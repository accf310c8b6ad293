// The transport's own rules, against the real engine on a free port: CORS headers and
// preflights (cors_origins), request line and headers cut off at header_timeout_ms (slowloris),
// and request bodies cut off below min_body_bytes_per_second.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <poll.h>

#include <chrono>
#include <string>
#include <thread>

#include "common/metrics.h"
#include "server/server.h"
#include "server/test_client.h"

namespace trackhouse::server {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kApp = "https://app.example";

class CorsTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerOptions o;
    o.cors_origins = {std::string(kApp), "https://other.example/"};
    StartAll(o);
  }
  static std::string OriginHeader(std::string_view origin) {
    return fmt::format("Origin: {}\r\n", origin);
  }
  static std::string PreflightHeaders(std::string_view origin) {
    return OriginHeader(origin) +
           "Access-Control-Request-Method: POST\r\n"
           "Access-Control-Request-Headers: content-type, x-trackhouse-token\r\n";
  }
};

TEST_F(CorsTest, ListedOriginGetsAllowOriginAndExposedHeaders) {
  Response r = Send("GET", "/ping", "", OriginHeader(kApp));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("Access-Control-Allow-Origin"), kApp);
  EXPECT_EQ(r.Header("Vary"), "Origin");
  EXPECT_EQ(r.Header("Access-Control-Expose-Headers"),
            "Retry-After, X-ClickHouse-Query-Id, X-ClickHouse-Summary");
}

TEST_F(CorsTest, ListedOriginMatchesWithoutCaseOrTrailingSlash) {
  Response r = Send("GET", "/ping", "", OriginHeader("https://OTHER.example"));
  EXPECT_EQ(r.Header("Access-Control-Allow-Origin"), "https://OTHER.example");
}

TEST_F(CorsTest, UnlistedOriginGetsNoAllowOrigin) {
  Response r = Send("GET", "/ping", "", OriginHeader("https://evil.example"));
  EXPECT_EQ(r.status, 200);  // the browser, not the server, withholds the answer
  EXPECT_EQ(r.Header("Access-Control-Allow-Origin"), "");
  EXPECT_EQ(r.Header("Access-Control-Expose-Headers"), "");
}

TEST_F(CorsTest, RequestWithoutOriginIsUnchanged) {
  Response r = Send("GET", "/ping");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("Access-Control-Allow-Origin"), "");
  EXPECT_EQ(r.Header("Vary"), "");
}

// Errors of any route carry the headers too, so that a page can read why it failed.
TEST_F(CorsTest, ErrorAnswersOfEveryRouteCarryTheHeaders) {
  Response r = Send("POST", "/track/events", "{\"a\":1}", OriginHeader(kApp));
  EXPECT_GE(r.status, 400);
  EXPECT_EQ(r.Header("Access-Control-Allow-Origin"), kApp);
  r = Send("POST", "/?query=" + Encode("INSERT INTO nope FORMAT JSONEachRow"), "{\"a\":1}\n",
           OriginHeader(kApp));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.Header("Access-Control-Allow-Origin"), kApp);
  EXPECT_NE(r.Header("X-ClickHouse-Query-Id"), "");
}

TEST_F(CorsTest, PreflightFromListedOriginIs204AndKeepsTheConnection) {
  int64_t before = metrics::ValueOf("trackhouse_http_cors_preflights_total");
  Client c(port_);
  Response r = c.Request("OPTIONS", "/track/events", "", PreflightHeaders(kApp));
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.Header("Access-Control-Allow-Origin"), kApp);
  EXPECT_EQ(r.Header("Access-Control-Allow-Methods"), "POST, GET, OPTIONS");
  EXPECT_EQ(r.Header("Access-Control-Allow-Headers"),
            "Content-Type, Authorization, Idempotency-Key, X-Trackhouse-Token");
  EXPECT_EQ(r.Header("Access-Control-Max-Age"), "600");
  EXPECT_EQ(r.Header("Vary"), "Origin");
  EXPECT_EQ(r.body, "");
  EXPECT_GT(metrics::ValueOf("trackhouse_http_cors_preflights_total"), before);
  Response next = c.Request("GET", "/ping");
  EXPECT_EQ(next.status, 200);
  EXPECT_EQ(next.body, "Ok.\n");
}

TEST_F(CorsTest, PreflightFromUnlistedOriginIs403) {
  int64_t before = metrics::ValueOf("trackhouse_http_cors_rejected_total");
  Response r = Send("OPTIONS", "/track/events", "", PreflightHeaders("https://evil.example"));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.Header("Access-Control-Allow-Origin"), "");
  EXPECT_EQ(r.Header("Access-Control-Allow-Methods"), "");
  EXPECT_NE(r.body.find("https://evil.example"), std::string::npos) << r.body;
  EXPECT_GT(metrics::ValueOf("trackhouse_http_cors_rejected_total"), before);
}

TEST_F(CorsTest, WildcardAllowsAnyOrigin) {
  StopAll();
  ServerOptions o;
  o.cors_origins = {"*"};
  StartAll(o);
  Response r = Send("GET", "/ping", "", OriginHeader("https://anyone.example"));
  EXPECT_EQ(r.Header("Access-Control-Allow-Origin"), "*");
  r = Send("OPTIONS", "/track/events", "", PreflightHeaders("https://anyone.example"));
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.Header("Access-Control-Allow-Origin"), "*");
}

using NoCorsTest = ServerFixture;

TEST_F(NoCorsTest, WithoutCorsOriginsNothingIsAdded) {
  Response r = Send("GET", "/ping", "", "Origin: https://app.example\r\n");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("Access-Control-Allow-Origin"), "");
  EXPECT_EQ(r.Header("Vary"), "");
  // A preflight is not the transport's business then: the router answers it as any request.
  r = Send("OPTIONS", "/ping", "",
           "Origin: https://app.example\r\nAccess-Control-Request-Method: POST\r\n");
  EXPECT_NE(r.status, 204);
  EXPECT_EQ(r.Header("Access-Control-Allow-Methods"), "");
}

class SlowClientTest : public ServerFixture {
 protected:
  void SetUp() override {}  // each test starts the server with its own bounds

  // Sends `data` a byte at a time, `gap_ms` apart, until the server closes the connection
  // (its answer, if any, stays readable with Read()); true if it did before the end.
  static bool TrickleUntilClosed(Client& c, std::string_view data, int gap_ms) {
    for (char ch : data) {
      c.Send(std::string_view(&ch, 1));
      if (c.Closed(gap_ms)) return true;
    }
    return false;
  }
};

TEST_F(SlowClientTest, TrickledHeadersGet408AtTheHeaderTimeout) {
  ServerOptions o;
  o.header_timeout_ms = 300;  // io_timeout_ms stays 60 s: no single read is slow
  StartAll(o);
  int64_t before = metrics::ValueOf("trackhouse_http_header_timeouts_total");
  Client c(port_);
  std::string request = "GET /ping HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(500, 'a');
  auto start = Clock::now();
  ASSERT_TRUE(TrickleUntilClosed(c, request, 20));
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
  Response r = c.Read(1000);
  EXPECT_EQ(r.status, 408);
  EXPECT_NE(r.body.find("header_timeout_ms (300 ms)"), std::string::npos) << r.body;
  EXPECT_EQ(r.Header("Connection"), "close");
  EXPECT_GT(metrics::ValueOf("trackhouse_http_header_timeouts_total"), before);
  Response metrics_page = Send("GET", "/metrics");
  EXPECT_NE(metrics_page.body.find("# HELP trackhouse_http_header_timeouts_total"),
            std::string::npos);
}

TEST_F(SlowClientTest, StalledHeadersGet408) {
  ServerOptions o;
  o.header_timeout_ms = 300;
  StartAll(o);
  Client c(port_);
  c.Send("POST /?query=SELECT HTTP/1.1\r\nHost: x\r\n");
  EXPECT_TRUE(c.Closed(5000));
  EXPECT_EQ(c.Read(1000).status, 408);
}

// The header clock starts with a request's first bytes, not with the connection: an idle
// keep-alive connection is bounded by keep_alive_timeout_ms only.
TEST_F(SlowClientTest, IdleKeepAliveLongerThanTheHeaderTimeoutIsServed) {
  ServerOptions o;
  o.header_timeout_ms = 200;
  StartAll(o);
  Client c(port_);
  ASSERT_EQ(c.Request("GET", "/ping").status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // idle, not synchronization
  Response r = c.Request("GET", "/ping");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "Ok.\n");
}

TEST_F(SlowClientTest, HeaderTimeoutZeroLeavesOnlyTheIoTimeout) {
  ServerOptions o;
  o.header_timeout_ms = 0;
  StartAll(o);
  Client c(port_);
  Response r = c.Request("GET", "/ping");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "Ok.\n");
}

TEST_F(SlowClientTest, BodyBelowTheMinimumRateIs408) {
  ServerOptions o;
  o.io_timeout_ms = 500;  // a byte every 20 ms never trips it
  o.min_body_bytes_per_second = 1024;
  StartAll(o);
  CreateEvents();
  int64_t before = metrics::ValueOf("trackhouse_http_slow_bodies_total");
  Client c(port_);
  c.Send(fmt::format("POST /?query={} HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n",
                     Encode("INSERT INTO events (id, name) FORMAT JSONEachRow")));
  std::string body = "{\"id\":1,\"name\":\"" + std::string(1000, 'a');
  auto start = Clock::now();
  ASSERT_TRUE(TrickleUntilClosed(c, body, 20));  // about 50 bytes/s
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
  Response r = c.Read(1000);
  EXPECT_EQ(r.status, 408);
  EXPECT_NE(r.body.find("min_body_bytes_per_second (1024)"), std::string::npos) << r.body;
  EXPECT_GT(metrics::ValueOf("trackhouse_http_slow_bodies_total"), before);
  EXPECT_EQ(CountRows("events"), 0u);
}

TEST_F(SlowClientTest, BodyAboveTheMinimumRateIsAccepted) {
  ServerOptions o;
  o.io_timeout_ms = 500;
  o.min_body_bytes_per_second = 1024;
  StartAll(o);
  CreateEvents();
  std::string body;
  int rows = 0;
  for (; body.size() < 6000; ++rows) {
    body += fmt::format("{{\"id\":{},\"name\":\"row-{}\"}}\n", rows, rows);
  }
  Client c(port_);
  c.Send(fmt::format("POST /?query={} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
                     Encode("INSERT INTO events (id, name) FORMAT JSONEachRow"), body.size()));
  // About 6000 bytes/s for a second: longer than the 500 ms grace, well above the minimum.
  for (size_t at = 0; at < body.size(); at += 600) {
    if (at > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));  // pacing
    c.Send(std::string_view(body).substr(at, 600));
  }
  Response r = c.Read();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(CountRows("events"), static_cast<uint64_t>(rows));
}

}  // namespace
}  // namespace trackhouse::server
