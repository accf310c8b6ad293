// The HTTP server against the real embedded engine, on a free port: routes, the ClickHouse
// HTTP interface (INSERT streaming, DDL, errors), keep-alive, chunked bodies, 100-continue,
// malformed requests and the connection bound.
#include "server/server.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "common/metrics.h"
#include "engine/engine.h"
#include "server/http.h"
#include "server/test_client.h"

namespace trackhouse::server {
namespace {

using ServerTest = ServerFixture;

TEST_F(ServerTest, PingAndRootAnswerOk) {
  Client c(port_);
  Response r = c.Request("GET", "/ping");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "Ok.\n");
  r = c.Request("GET", "/");  // same keep-alive connection
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "Ok.\n");
}

TEST_F(ServerTest, HeadGetsHeadersOnly) {
  Client c(port_);
  c.Send("HEAD /ping HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string expected_length = "4";
  Response r = c.Read(10000, /*head=*/true);  // Content-Length 4, but no body follows
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("Content-Length"), expected_length);
  // The connection is still in sync: the next response is read correctly.
  c.Send("GET /ping HTTP/1.1\r\nHost: x\r\n\r\n");
  Response next = c.Read();
  EXPECT_EQ(next.status, 200);
  EXPECT_EQ(next.body, "Ok.\n");
}

TEST_F(ServerTest, HealthReportsStorageModeAndUptime) {
  Client c(port_);
  Response r = c.Request("GET", "/health");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"status\":\"ok\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"storage\":\"embedded\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"uptime_seconds\":"), std::string::npos) << r.body;
  EXPECT_NE(r.Header("Content-Type").find("application/json"), std::string::npos);
}

TEST_F(ServerTest, MetricsRendersPrometheusText) {
  Client c(port_);
  c.Request("GET", "/ping");
  Response r = c.Request("GET", "/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("# TYPE trackhouse_http_requests_total counter"), std::string::npos);
  EXPECT_NE(r.body.find("trackhouse_http_bad_requests_total"), std::string::npos);
}

TEST_F(ServerTest, ReadyReportsEachCheckAndTurns503WhenTheStoreCannotWrite) {
  Client c(port_);
  Response r = c.Request("GET", "/ready");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("Content-Type"), "application/json");
  EXPECT_NE(r.body.find("{\"ready\":true,\"checks\":{\"engine_open\":{\"ok\":true},"
                        "\"log_writable\":{\"ok\":true},\"disk\":{\"ok\":true},"
                        "\"memory_budget\":{\"ok\":true,"),
            std::string::npos)
      << r.body;
  // The store stops (as on shutdown): the server is up but not ready.
  ASSERT_TRUE(storage_->Stop().ok());
  Client after(port_);
  Response down = after.Request("GET", "/ready");
  EXPECT_EQ(down.status, 503) << down.body;
  EXPECT_EQ(down.Header("Retry-After"), "1");
  EXPECT_NE(down.body.find("\"ready\":false"), std::string::npos) << down.body;
  EXPECT_NE(down.body.find("\"engine_open\":{\"ok\":false,\"detail\":\"the engine is stopped\"}"),
            std::string::npos)
      << down.body;
}

TEST_F(ServerTest, UnknownPathIs404) {
  Client c(port_);
  Response r = c.Request("GET", "/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("There is no handle /nope"), std::string::npos);
}

TEST_F(ServerTest, InsertJsonEachRowWithQueryInUrl) {
  CreateEvents();
  Response r = Post("INSERT INTO events FORMAT JSONEachRow",
                    "{\"id\":1,\"name\":\"a\",\"value\":5}\n{\"id\":2,\"name\":\"b\"}\n"
                    "{\"id\":3,\"name\":\"c\",\"value\":-1}\n");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "");
  EXPECT_NE(r.Header("X-ClickHouse-Summary").find("\"written_rows\":\"3\""), std::string::npos)
      << r.Header("X-ClickHouse-Summary");
  EXPECT_EQ(CountRows("events"), 3u);
}

TEST_F(ServerTest, InsertWithStatementAtStartOfBody) {
  CreateEvents();
  Response r = Post("",
                    "INSERT INTO events FORMAT JSONEachRow\n{\"id\":1,\"name\":\"a\"}\n"
                    "{\"id\":2,\"name\":\"b\"}");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(CountRows("events"), 2u);
}

TEST_F(ServerTest, InsertWithExplicitColumnsFillsDefaults) {
  CreateEvents();
  Response r =
      Post("INSERT INTO events (id, name) FORMAT JSONEachRow", "{\"id\":1,\"name\":\"a\"}\n");
  ASSERT_EQ(r.status, 200) << r.body;
  storage::ScanRequest req;
  req.columns = {"value", "created_at"};
  auto scan = storage_->Scan("default", "events", req);
  ASSERT_TRUE(scan.ok());
  types::Block b;
  ASSERT_TRUE((*scan)->NextBlock(&b));
  ASSERT_EQ(b.rows(), 1u);
  EXPECT_EQ(b.at(0).column->GetValue(0).AsInt(), 7);
  EXPECT_GT(b.at(1).column->GetValue(0).AsUInt(), 1600000000u);  // now()
}

TEST_F(ServerTest, DatabaseArgumentSelectsTheDatabase) {
  ASSERT_EQ(Post("CREATE DATABASE analytics").status, 200);
  Client c(port_);
  Response r =
      c.Request("POST", "/?database=analytics&query=" +
                            Encode("CREATE TABLE t (x UInt8) ENGINE = MergeTree ORDER BY x"));
  ASSERT_EQ(r.status, 200) << r.body;
  r = c.Request("POST", "/?database=analytics&query=" + Encode("INSERT INTO t FORMAT JSONEachRow"),
                "{\"x\":1}\n");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(storage_->GetTable("analytics", "t").ok());
}

TEST_F(ServerTest, UnknownTableIs404WithClickHouseError) {
  Response r = Post("INSERT INTO nope FORMAT JSONEachRow", "{\"a\":1}\n");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.Header("X-ClickHouse-Exception-Code"), "60");
  EXPECT_EQ(r.body.rfind("Code: 60. DB::Exception: Table default.nope does not exist. "
                         "(UNKNOWN_TABLE)",
                         0),
            0u)
      << r.body;
}

TEST_F(ServerTest, UnknownColumnInList) {
  CreateEvents();
  Response r = Post("INSERT INTO events (id, bogus) FORMAT JSONEachRow", "{\"id\":1}\n");
  EXPECT_EQ(r.Header("X-ClickHouse-Exception-Code"), "16") << r.body;
  EXPECT_NE(r.body.find("No such column bogus in table default.events"), std::string::npos);
}

TEST_F(ServerTest, SyntaxErrorIs400) {
  Response r = Post("CREATE TABLEE x");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Header("X-ClickHouse-Exception-Code"), "62");
  EXPECT_NE(r.body.find("(SYNTAX_ERROR)"), std::string::npos) << r.body;
}

TEST_F(ServerTest, EmptyQueryIsAnError) {
  Response r = Post("", "");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("Empty query"), std::string::npos);
}

TEST_F(ServerTest, GetIsReadOnly) {
  CreateEvents();
  Client c(port_);
  Response r = c.Request("GET", "/?query=" + Encode("INSERT INTO events FORMAT JSONEachRow"));
  EXPECT_EQ(r.Header("X-ClickHouse-Exception-Code"), "164");
  EXPECT_NE(r.body.find("Cannot execute query in readonly mode"), std::string::npos);
  r = c.Request("GET", "/?query=" + Encode("DROP TABLE events"));
  EXPECT_EQ(r.Header("X-ClickHouse-Exception-Code"), "164");
  EXPECT_TRUE(storage_->GetTable("default", "events").ok());
}

TEST_F(ServerTest, SelectIsNotImplementedYet) {
  Client c(port_);
  Response r = c.Request("GET", "/?query=" + Encode("SELECT 1"));
  EXPECT_EQ(r.status, 501);
  EXPECT_EQ(r.Header("X-ClickHouse-Exception-Code"), "48");
  EXPECT_NE(r.body.find("NOT_IMPLEMENTED"), std::string::npos);
}

TEST_F(ServerTest, QueryIdIsEchoedOrGenerated) {
  Client c(port_);
  Response r = c.Request("POST", "/?query_id=abc-123&query=" + Encode("CREATE DATABASE d1"));
  EXPECT_EQ(r.Header("X-ClickHouse-Query-Id"), "abc-123");
  r = c.Request("POST", "/?query=" + Encode("CREATE DATABASE d2"));
  std::string id = r.Header("X-ClickHouse-Query-Id");
  EXPECT_EQ(id.size(), 36u) << id;
  EXPECT_EQ(id[14], '4');
}

TEST_F(ServerTest, ChunkedBodyIsStreamedInBlocks) {
  CreateEvents();
  Client c(port_);
  std::string target = "/?max_insert_block_size=2&query=" +
                       Encode("INSERT INTO events (id, name) FORMAT JSONEachRow");
  c.Send(fmt::format("POST {} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", target));
  for (int i = 0; i < 5; ++i) {
    std::string row = fmt::format("{{\"id\":{},\"name\":\"n{}\"}}\n", i, i);
    // Split each row over two chunks.
    std::string a = row.substr(0, 5), b = row.substr(5);
    c.Send(fmt::format("{:x}\r\n{}\r\n{:x}\r\n{}\r\n", a.size(), a, b.size(), b));
  }
  c.Send("0\r\n\r\n");
  Response r = c.Read();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(CountRows("events"), 5u);
}

TEST_F(ServerTest, ExpectContinueIsHonoured) {
  CreateEvents();
  Client c(port_);
  std::string body = "{\"id\":1,\"name\":\"a\"}\n";
  c.Send(
      fmt::format("POST /?query={} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n"
                  "Expect: 100-continue\r\n\r\n",
                  Encode("INSERT INTO events FORMAT JSONEachRow"), body.size()));
  Response cont = c.Read();
  ASSERT_EQ(cont.status, 100);
  c.Send(body);
  Response r = c.Read();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(CountRows("events"), 1u);
}

TEST_F(ServerTest, FailedInsertKeepsCommittedBlocks) {
  CreateEvents();
  std::string body;
  for (int i = 0; i < 4; ++i) body += fmt::format("{{\"id\":{},\"name\":\"x\"}}\n", i);
  body += "{\"id\":\"not a number\",\"name\":\"x\"}\n";
  Client c(port_);
  Response r = c.Request(
      "POST", "/?max_insert_block_size=2&query=" + Encode("INSERT INTO events FORMAT JSONEachRow"),
      body);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.Header("X-ClickHouse-Summary").find("\"written_rows\":\"4\""), std::string::npos)
      << r.Header("X-ClickHouse-Summary");
  EXPECT_EQ(CountRows("events"), 4u);
}

TEST_F(ServerTest, ManyRowsAcrossManyChunks) {
  CreateEvents();
  std::string body;
  const int kRows = 50000;
  for (int i = 0; i < kRows; ++i) {
    body += fmt::format("{{\"id\":{},\"name\":\"name-{}\",\"value\":{}}}\n", i, i, i % 100);
  }
  Client c(port_);
  Response r = c.Request(
      "POST",
      "/?max_insert_block_size=7000&query=" + Encode("INSERT INTO events FORMAT JSONEachRow"),
      body);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(CountRows("events"), static_cast<uint64_t>(kRows));
}

TEST_F(ServerTest, MalformedRequestIs400AndCounted) {
  int64_t before = metrics::ValueOf("trackhouse_http_bad_requests_total");
  Client c(port_);
  c.Send("THIS IS NOT HTTP\r\n\r\n");
  Response r = c.Read();
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(c.Closed());
  EXPECT_GT(metrics::ValueOf("trackhouse_http_bad_requests_total"), before);
}

TEST_F(ServerTest, OversizedHeaderIs400) {
  Client c(port_);
  std::string big(100 * 1024, 'a');
  c.Send("GET /ping HTTP/1.1\r\nHost: x\r\nX-Big: " + big + "\r\n\r\n");
  Response r = c.Read();
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("max_request_header_bytes"), std::string::npos) << r.body;
}

TEST_F(ServerTest, BrokenChunkingIs400) {
  CreateEvents();
  int64_t before = metrics::ValueOf("trackhouse_http_bad_requests_total");
  Client c(port_);
  c.Send(
      fmt::format("POST /?query={} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "zz\r\nhello\r\n0\r\n\r\n",
                  Encode("INSERT INTO events FORMAT JSONEachRow")));
  Response r = c.Read();
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_GT(metrics::ValueOf("trackhouse_http_bad_requests_total"), before);
  EXPECT_EQ(CountRows("events"), 0u);
}

// A body of known length is read straight from the socket; the bytes after it are the next
// request's and must be left for it, also when both arrive in one segment.
TEST_F(ServerTest, PipelinedRequestsAfterABodyAreEachServed) {
  CreateEvents();
  std::string target = "/?query=" + Encode("INSERT INTO events FORMAT JSONEachRow");
  std::string body1 = "{\"id\":1,\"name\":\"a\"}\n{\"id\":2,\"name\":\"b\"}\n";
  std::string body2 = "{\"id\":3,\"name\":\"c\"}\n";
  Client c(port_);
  c.Send(
      fmt::format("POST {0} HTTP/1.1\r\nHost: x\r\nContent-Length: {1}\r\n\r\n{2}"
                  "POST {0} HTTP/1.1\r\nHost: x\r\nContent-Length: {3}\r\n\r\n{4}"
                  "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n",
                  target, body1.size(), body1, body2.size(), body2));
  EXPECT_EQ(c.Read().status, 200);
  EXPECT_EQ(c.Read().status, 200);
  Response ping = c.Read();
  EXPECT_EQ(ping.status, 200);
  EXPECT_EQ(ping.body, "Ok.\n");
  EXPECT_EQ(CountRows("events"), 3u);
}

TEST_F(ServerTest, ServerSurvivesClientsThatVanish) {
  CreateEvents();
  {
    Client c(port_);
    c.Send(
        fmt::format("POST /?query={} HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"
                    "{{\"id\":1,",
                    Encode("INSERT INTO events FORMAT JSONEachRow")));
  }  // closed mid-body
  Client c(port_);
  Response r = c.Request("GET", "/ping");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(CountRows("events"), 0u);
}

TEST_F(ServerTest, ConnectionsBeyondTheBoundGet503) {
  StopAll();
  ServerOptions o;
  o.max_connections = 1;
  StartAll(o);
  Client first(port_);
  ASSERT_EQ(first.Request("GET", "/ping").status, 200);  // first is now open and idle
  Client second(port_);
  Response r = second.Read();
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.Header("Retry-After"), "1");
}

TEST_F(ServerTest, LingeringWorkersLeaveHalfThePoolToOtherConnections) {
  StopAll();
  ServerOptions o;
  o.max_concurrent_requests = 8;
  o.keep_alive_linger_us = 30'000'000;  // longer than the test: a lingering worker stays so
  StartAll(o);
  // Four connections whose workers now wait for their next requests: half the pool.
  std::vector<std::unique_ptr<Client>> lingering;
  for (int i = 0; i < 4; ++i) {
    lingering.push_back(std::make_unique<Client>(port_));
    ASSERT_EQ(lingering.back()->Request("GET", "/ping").status, 200) << i;
  }
  // Eight more connections, all kept open, are served by the other half, whose workers go
  // back to the pool after each answer instead of lingering (if they lingered, the pool would
  // be full by the fifth and the rest would get 503).
  std::vector<std::unique_ptr<Client>> others;
  for (int i = 0; i < 8; ++i) {
    others.push_back(std::make_unique<Client>(port_));
    EXPECT_EQ(others.back()->Request("GET", "/ping").status, 200) << i;
  }
  // The lingering workers serve their connections' next requests.
  for (auto& c : lingering) EXPECT_EQ(c->Request("GET", "/ping").status, 200);
  // A lingering worker does not hold Stop() up (it would wait stop_timeout_ms, 30 s).
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(server_->Stop().ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST_F(ServerTest, IdleKeepAliveConnectionsAreClosed) {
  StopAll();
  ServerOptions o;
  o.keep_alive_timeout_ms = 200;
  StartAll(o);
  Client c(port_);
  ASSERT_EQ(c.Request("GET", "/ping").status, 200);
  EXPECT_TRUE(c.Closed(5000));
}

TEST_F(ServerTest, StopClosesIdleConnectionsPromptly) {
  Client c(port_);
  ASSERT_EQ(c.Request("GET", "/ping").status, 200);
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(server_->Stop().ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_TRUE(c.Closed());
}

TEST_F(ServerTest, StopLetsAnInFlightInsertFinish) {
  CreateEvents();
  int64_t requests_before = metrics::ValueOf("trackhouse_http_requests_total");
  Client c(port_);
  std::string body = "{\"id\":1,\"name\":\"a\"}\n{\"id\":2,\"name\":\"b\"}\n";
  c.Send(fmt::format("POST /?query={} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{}",
                     Encode("INSERT INTO events FORMAT JSONEachRow"), body.size(),
                     body.substr(0, 10)));
  // Wait until the server has read the request's headers: the request is in service.
  for (int i = 0; i < 2000 && metrics::ValueOf("trackhouse_http_requests_total") == requests_before;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_GT(metrics::ValueOf("trackhouse_http_requests_total"), requests_before);
  std::thread stopper([&] { EXPECT_TRUE(server_->Stop().ok()); });
  // Not synchronization: only makes it likely that Stop() is already waiting for the request
  // when the rest of the body arrives; the expectations hold either way.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  c.Send(body.substr(10));
  Response r = c.Read();
  stopper.join();
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("Connection"), "close");
  EXPECT_EQ(CountRows("events"), 2u);
}

}  // namespace
}  // namespace trackhouse::server
