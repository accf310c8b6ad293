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

namespace trackhouse::server {
namespace {

struct Response {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  std::string Header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (strcasecmp(k.c_str(), std::string(name).c_str()) == 0) return v;
    }
    return "";
  }
};

// A minimal blocking HTTP/1.1 client over one TCP connection.
class Client {
 public:
  explicit Client(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connected() const { return connected_; }

  void Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      data.remove_prefix(static_cast<size_t>(n));
    }
  }

  // Reads one response (Content-Length framed, as the server always sends); status 0 if the
  // connection closed first.
  // `head`: the response to a HEAD request (headers only).
  Response Read(int timeout_ms = 10000, bool head_only = false) {
    Response r;
    size_t header_end;
    while ((header_end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill(timeout_ms)) return r;
    }
    std::string head = buf_.substr(0, header_end);
    buf_.erase(0, header_end + 4);
    size_t line_end = head.find("\r\n");
    std::string status_line = head.substr(0, line_end);
    r.status = std::atoi(status_line.substr(9, 3).c_str());
    size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    size_t content_length = 0;
    while (pos < head.size()) {
      size_t e = head.find("\r\n", pos);
      if (e == std::string::npos) e = head.size();
      std::string line = head.substr(pos, e - pos);
      size_t colon = line.find(':');
      std::string name = line.substr(0, colon);
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      if (strcasecmp(name.c_str(), "Content-Length") == 0) content_length = std::stoul(value);
      r.headers.emplace_back(name, value);
      pos = e + 2;
    }
    if (r.status == 100 || head_only) return r;
    while (buf_.size() < content_length) {
      if (!Fill(timeout_ms)) break;
    }
    r.body = buf_.substr(0, content_length);
    buf_.erase(0, std::min(content_length, buf_.size()));
    return r;
  }

  // True if the server closed the connection (EOF) within the timeout.
  bool Closed(int timeout_ms = 5000) {
    while (true) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, timeout_ms) <= 0) return false;
      char c[4096];
      ssize_t n = ::recv(fd_, c, sizeof(c), 0);
      if (n <= 0) return true;
      buf_.append(c, static_cast<size_t>(n));
    }
  }

  Response Request(std::string_view method, std::string_view target, std::string_view body = "",
                   std::string_view extra_headers = "") {
    Send(fmt::format("{} {} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n{}\r\n{}", method,
                     target, body.size(), extra_headers, body));
    return Read();
  }

 private:
  bool Fill(int timeout_ms) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    char c[65536];
    ssize_t n = ::recv(fd_, c, sizeof(c), 0);
    if (n <= 0) return false;
    buf_.append(c, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buf_;
};

std::string Encode(std::string_view s) { return UrlEncode(s); }

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override { StartAll(ServerOptions()); }
  void TearDown() override { StopAll(); }

  void StartAll(ServerOptions options) {
    dir_ = std::filesystem::temp_directory_path() /
           fmt::format("server_test_{}_{}", ::getpid(), counter_++);
    std::filesystem::remove_all(dir_);
    engine::EngineOptions eo;
    eo.data_dir = dir_.string();
    eo.merge_threads = 0;
    auto storage = engine::OpenEngine(eo);
    ASSERT_TRUE(storage.ok()) << storage.status().ToString();
    storage_ = std::move(storage).value();
    options.host = "127.0.0.1";
    options.port = 0;
    options.io_threads = 2;
    server_ = std::make_unique<Server>(options, storage_.get(), nullptr);
    Status st = server_->Start();
    ASSERT_TRUE(st.ok()) << st.ToString();
    port_ = server_->port();
    ASSERT_NE(port_, 0);
  }

  void StopAll() {
    if (server_) {
      EXPECT_TRUE(server_->Stop().ok());
    }
    server_.reset();
    if (storage_) {
      EXPECT_TRUE(storage_->Stop().ok());
    }
    storage_.reset();
    std::filesystem::remove_all(dir_);
  }

  Response Post(std::string_view query, std::string_view body = "", std::string_view extra = "") {
    Client c(port_);
    std::string target = query.empty() ? "/" : "/?query=" + Encode(query);
    return c.Request("POST", target, body, extra);
  }

  uint64_t CountRows(const std::string& table) {
    storage::ScanRequest req;
    auto schema = storage_->GetTable("default", table);
    EXPECT_TRUE(schema.ok());
    req.columns = {(*schema)->columns[0].name};
    auto scan = storage_->Scan("default", table, req);
    EXPECT_TRUE(scan.ok()) << scan.status().ToString();
    uint64_t n = 0;
    types::Block b;
    while ((*scan)->NextBlock(&b)) n += b.rows();
    EXPECT_TRUE((*scan)->status().ok());
    return n;
  }

  void CreateEvents() {
    Response r = Post(
        "CREATE TABLE events (id UInt32, name String, value Int32 DEFAULT 7, "
        "created_at DateTime DEFAULT now()) ENGINE = MergeTree ORDER BY id");
    ASSERT_EQ(r.status, 200) << r.body;
  }

  static inline int counter_ = 0;
  std::filesystem::path dir_;
  std::unique_ptr<storage::Storage> storage_;
  std::unique_ptr<Server> server_;
  uint16_t port_ = 0;
};

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
