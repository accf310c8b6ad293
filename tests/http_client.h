// A minimal blocking HTTP/1.1 client over loopback for end-to-end tests: one request per
// connection (Connection: close). Not for production use; thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace trackhouse::testing {

struct HttpResponse {
  int status = 0;  // 0: could not connect or the connection broke
  std::string headers;
  std::string body;
};

HttpResponse HttpRequest(uint16_t port, const std::string& method, const std::string& target,
                         const std::string& body, int timeout_ms = 10000);
// The same with extra request headers (name, value).
HttpResponse HttpRequest(uint16_t port, const std::string& method, const std::string& target,
                         const std::vector<std::pair<std::string, std::string>>& headers,
                         const std::string& body, int timeout_ms = 10000);

// Percent-encodes a string for a URL query argument.
std::string UrlEncode(const std::string& s);

}  // namespace trackhouse::testing
