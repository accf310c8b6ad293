// HttpClient: the Tracker's blocking HTTP/1.1 client (libcurl). One easy handle whose
// connection is kept alive and reused across requests. Not thread-safe: the sender thread
// owns it.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trackhouse::client {

struct HttpAnswer {
  // HTTP status; 0 when no answer arrived (connection refused or lost, timeout).
  int status = 0;
  // The answer's body, at most 64 KiB of it.
  std::string body;
  // Retry-After, when the answer had one in seconds.
  std::optional<std::chrono::seconds> retry_after;
  // Why no answer arrived (status 0).
  std::string error;
};

class HttpClient {
 public:
  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // POSTs `body` to `url` with the given header lines ("Name: value"); the whole exchange,
  // connecting included, is bounded by `timeout`.
  HttpAnswer Post(const std::string& url, const std::vector<std::string>& headers,
                  std::string_view body, std::chrono::milliseconds timeout);

 private:
  void* curl_;  // CURL*
};

}  // namespace trackhouse::client
