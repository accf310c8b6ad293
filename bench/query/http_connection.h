// HttpConnection: one HTTP/1.1 keep-alive connection to a server on loopback, for the query
// benchmark (bench/query/query_bench.cc). Requests go one after another on the same socket, the
// way a ClickHouse client library sends them; responses are read whole, with Content-Length or
// chunked bodies. A connection the server closed is reopened once per request and counted in
// reconnects(), so a benchmark can show that every timed request reused its connection.
//
// Not thread-safe: one connection per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace trackhouse::bench {

struct HttpReply {
  int status = 0;
  std::string body;
};

class HttpConnection {
 public:
  // Connects to 127.0.0.1:`port`. `timeout_ms` bounds each wait for the server (connect, send,
  // every read); a request that exceeds it fails with Timeout.
  static Result<std::unique_ptr<HttpConnection>> Open(uint16_t port, int timeout_ms);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Sends `POST target` with `body` and returns the status and the whole (de-chunked) body.
  Result<HttpReply> Post(std::string_view target, std::string_view body);

  // How many times the connection had to be opened again after the first time.
  int reconnects() const { return reconnects_; }

 private:
  HttpConnection(uint16_t port, int timeout_ms) : port_(port), timeout_ms_(timeout_ms) {}

  Status Connect();
  void Close();
  Status Send(std::string_view head, std::string_view body);
  // Reads what the socket has into in_ (waiting up to timeout_ms_); EOF sets eof_.
  Status ReadMore();
  // Makes in_ hold at least `n` unread bytes from in_pos_ on.
  Status Need(size_t n);
  // Returns the next CRLF-terminated line (without the CRLF) and consumes it.
  Result<std::string> Line();
  Result<HttpReply> ReadReply();

  uint16_t port_;
  int timeout_ms_;
  int fd_ = -1;
  bool eof_ = false;
  int reconnects_ = 0;
  int opens_ = 0;
  std::string in_;
  size_t in_pos_ = 0;
};

}  // namespace trackhouse::bench
