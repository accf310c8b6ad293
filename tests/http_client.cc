#include "tests/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace trackhouse::testing {

std::string UrlEncode(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

HttpResponse HttpRequest(uint16_t port, const std::string& method, const std::string& target,
                         const std::string& body, int timeout_ms) {
  return HttpRequest(port, method, target, {}, body, timeout_ms);
}

HttpResponse HttpRequest(uint16_t port, const std::string& method, const std::string& target,
                         const std::vector<std::pair<std::string, std::string>>& headers,
                         const std::string& body, int timeout_ms) {
  HttpResponse resp;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return resp;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return resp;
  }
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& [name, value] : headers) req += name + ": " + value + "\r\n";
  req += "Connection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  size_t sent = 0;
  while (sent < req.size()) {
    ssize_t n = send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      close(fd);
      return resp;
    }
    sent += static_cast<size_t>(n);
  }
  std::string raw;
  char buf[65536];
  while (true) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) break;
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    raw.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  size_t hdr_end = raw.find("\r\n\r\n");
  if (raw.compare(0, 5, "HTTP/") != 0 || hdr_end == std::string::npos) return resp;
  resp.status = std::atoi(raw.c_str() + raw.find(' ') + 1);
  resp.headers = raw.substr(0, hdr_end);
  std::string rest = raw.substr(hdr_end + 4);
  if (resp.headers.find("chunked") != std::string::npos) {
    size_t pos = 0;
    while (pos < rest.size()) {
      size_t eol = rest.find("\r\n", pos);
      if (eol == std::string::npos) break;
      size_t len = std::strtoul(rest.c_str() + pos, nullptr, 16);
      if (len == 0) break;
      resp.body += rest.substr(eol + 2, len);
      pos = eol + 2 + len + 2;
    }
  } else {
    resp.body = rest;
  }
  return resp;
}

}  // namespace trackhouse::testing
