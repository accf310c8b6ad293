// Test-only helpers of the server's tests: a minimal blocking HTTP/1.1 client (one TCP
// connection, requests written by hand so that tests control every header and byte) and a
// fixture running a Server over a real embedded engine. Not thread-safe.
#pragma once

#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/engine.h"
#include "query/query.h"
#include "server/http.h"
#include "server/server.h"

namespace trackhouse::server {

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

inline std::string Encode(std::string_view s) { return UrlEncode(s); }

// Hands statements to a handler installed after the server started (the engine needs the
// fixture's storage).
class ForwardingHandler final : public query::QueryHandler {
 public:
  Result<query::QueryResult> Execute(const query::QueryRequest& r) override {
    return target->Execute(r);
  }
  query::QueryHandler* target = nullptr;
};

// A real embedded engine in a temporary directory behind a Server on a free loopback port.
class ServerFixture : public ::testing::Test {
 protected:
  void SetUp() override { StartAll(ServerOptions()); }
  void TearDown() override { StopAll(); }

  void StartAll(ServerOptions options, query::QueryHandler* query_handler = nullptr) {
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
    server_ = std::make_unique<Server>(options, storage_.get(), query_handler);
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

  Response Send(std::string_view method, std::string_view target, std::string_view body = "",
                std::string_view headers = "") {
    Client c(port_);
    return c.Request(method, target, body, headers);
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

}  // namespace trackhouse::server
