// RemoteClient: talks to a running trackhouse (or ClickHouse) server over its ClickHouse HTTP
// interface with libcurl: POST /?query=<statement> with an optional body (inline data or a
// stream such as stdin). Used by `migrate --url` and `query --url`.
//
// One RemoteClient per thread (a libcurl easy handle is not thread-safe).
#pragma once

#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace trackhouse::app {

struct RemoteResult {
  long http_status = 0;
  std::string body;
  // X-ClickHouse-Exception-Code, 0 when absent.
  int exception_code = 0;
};

class RemoteClient {
 public:
  // `url`: "http://host:port" (a trailing '/' is fine). `database` is sent as `database=`
  // unless empty (the server's default, or the session's after USE).
  RemoteClient(std::string url, std::string database);
  ~RemoteClient();
  RemoteClient(const RemoteClient&) = delete;
  RemoteClient& operator=(const RemoteClient&) = delete;

  // POSTs `query` in the URL and `body` as the body. Unavailable if the server cannot be
  // reached; any HTTP answer (also an error) is a RemoteResult.
  Result<RemoteResult> Post(std::string_view query, std::string_view body);
  // The same with the body streamed from `in` (chunked transfer) until EOF.
  Result<RemoteResult> PostStream(std::string_view query, std::FILE* in);

  // Sends URL argument `name`=`value` with every request from now on (replacing an earlier
  // value): session_id, default_format, settings.
  void SetParam(std::string name, std::string value);

  // A non-2xx answer as a Status carrying the server's ClickHouse code and body text.
  static Status ToStatus(const RemoteResult& result);

  const std::string& url() const { return url_; }

 private:
  Result<RemoteResult> Perform(std::string_view query, std::string_view body, std::FILE* in);

  std::string url_;
  std::string database_;
  std::vector<std::pair<std::string, std::string>> params_;
  void* curl_ = nullptr;  // CURL*
};

}  // namespace trackhouse::app
