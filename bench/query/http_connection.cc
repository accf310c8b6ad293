#include "bench/query/http_connection.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <strings.h>

namespace trackhouse::bench {
namespace {

// Case-insensitive "does header line `line` have name `name`", returning its trimmed value.
bool HeaderValue(std::string_view line, std::string_view name, std::string_view* value) {
  if (line.size() <= name.size() || line[name.size()] != ':') return false;
  if (strncasecmp(line.data(), name.data(), name.size()) != 0) return false;
  std::string_view v = line.substr(name.size() + 1);
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  *value = v;
  return true;
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

Result<std::unique_ptr<HttpConnection>> HttpConnection::Open(uint16_t port, int timeout_ms) {
  std::unique_ptr<HttpConnection> c(new HttpConnection(port, timeout_ms));
  TH_RETURN_IF_ERROR(c->Connect());
  return c;
}

HttpConnection::~HttpConnection() { Close(); }

void HttpConnection::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  in_.clear();
  in_pos_ = 0;
  eof_ = false;
}

Status HttpConnection::Connect() {
  Close();
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return Status::IOError(fmt::format("socket: {}", std::strerror(errno)));
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port_);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    Status s = Status::Unavailable(
        fmt::format("connect to 127.0.0.1:{}: {}", port_, std::strerror(errno)));
    Close();
    return s;
  }
  if (opens_++ > 0) ++reconnects_;
  return Status::OK();
}

Status HttpConnection::Send(std::string_view head, std::string_view body) {
  iovec iov[2] = {{const_cast<char*>(head.data()), head.size()},
                  {const_cast<char*>(body.data()), body.size()}};
  int idx = 0;
  while (idx < 2) {
    if (iov[idx].iov_len == 0) {
      ++idx;
      continue;
    }
    pollfd p{fd_, POLLOUT, 0};
    int pr = ::poll(&p, 1, timeout_ms_);
    if (pr == 0) return Status::Timeout(fmt::format("send to port {} timed out", port_));
    msghdr msg{};
    msg.msg_iov = &iov[idx];
    msg.msg_iovlen = static_cast<size_t>(2 - idx);
    ssize_t n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return Status::Unavailable(fmt::format("send to port {}: {}", port_, std::strerror(errno)));
    }
    size_t left = static_cast<size_t>(n);
    while (idx < 2 && left >= iov[idx].iov_len) {
      left -= iov[idx].iov_len;
      iov[idx].iov_len = 0;
      ++idx;
    }
    if (idx < 2) {
      iov[idx].iov_base = static_cast<char*>(iov[idx].iov_base) + left;
      iov[idx].iov_len -= left;
    }
  }
  return Status::OK();
}

Status HttpConnection::ReadMore() {
  if (in_pos_ > 0 && in_pos_ == in_.size()) {
    in_.clear();
    in_pos_ = 0;
  }
  pollfd p{fd_, POLLIN, 0};
  int pr = ::poll(&p, 1, timeout_ms_);
  if (pr == 0) {
    return Status::Timeout(
        fmt::format("no answer from port {} within {} ms", port_, timeout_ms_));
  }
  size_t old = in_.size();
  in_.resize(old + (1 << 16));
  ssize_t n;
  do {
    n = ::recv(fd_, in_.data() + old, 1 << 16, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    in_.resize(old);
    return Status::Unavailable(fmt::format("recv from port {}: {}", port_, std::strerror(errno)));
  }
  in_.resize(old + static_cast<size_t>(n));
  if (n == 0) eof_ = true;
  return Status::OK();
}

Status HttpConnection::Need(size_t n) {
  while (in_.size() - in_pos_ < n) {
    if (eof_) return Status::Unavailable(fmt::format("port {} closed mid-response", port_));
    TH_RETURN_IF_ERROR(ReadMore());
  }
  return Status::OK();
}

Result<std::string> HttpConnection::Line() {
  size_t scanned = in_pos_;
  while (true) {
    size_t eol = in_.find("\r\n", scanned);
    if (eol != std::string::npos) {
      std::string line = in_.substr(in_pos_, eol - in_pos_);
      in_pos_ = eol + 2;
      return line;
    }
    scanned = in_.size() > in_pos_ ? in_.size() - 1 : in_pos_;
    if (eof_) return Status::Unavailable(fmt::format("port {} closed mid-response", port_));
    // ReadMore may move the unread bytes to the front of in_.
    size_t offset = scanned - in_pos_;
    TH_RETURN_IF_ERROR(ReadMore());
    scanned = in_pos_ + offset;
  }
}

Result<HttpReply> HttpConnection::ReadReply() {
  HttpReply reply;
  TH_ASSIGN_OR_RETURN(std::string status_line, Line());
  if (status_line.compare(0, 5, "HTTP/") != 0 || status_line.size() < 12) {
    return Status::Corruption(fmt::format("bad status line from port {}: {}", port_, status_line));
  }
  bool http10 = status_line.compare(0, 8, "HTTP/1.0") == 0;
  reply.status = std::atoi(status_line.c_str() + 9);
  bool chunked = false;
  bool close_after = http10;
  int64_t length = -1;
  while (true) {
    TH_ASSIGN_OR_RETURN(std::string line, Line());
    if (line.empty()) break;
    std::string_view v;
    if (HeaderValue(line, "Content-Length", &v)) {
      length = std::strtoll(std::string(v).c_str(), nullptr, 10);
    } else if (HeaderValue(line, "Transfer-Encoding", &v)) {
      chunked = EqualsNoCase(v, "chunked");
    } else if (HeaderValue(line, "Connection", &v)) {
      close_after = EqualsNoCase(v, "close");
    }
  }
  if (chunked) {
    while (true) {
      TH_ASSIGN_OR_RETURN(std::string size_line, Line());
      size_t size = std::strtoull(size_line.c_str(), nullptr, 16);
      if (size == 0) {
        while (true) {  // trailer fields, then the empty line
          TH_ASSIGN_OR_RETURN(std::string trailer, Line());
          if (trailer.empty()) break;
        }
        break;
      }
      TH_RETURN_IF_ERROR(Need(size + 2));
      reply.body.append(in_, in_pos_, size);
      in_pos_ += size + 2;
    }
  } else if (length >= 0) {
    TH_RETURN_IF_ERROR(Need(static_cast<size_t>(length)));
    reply.body.assign(in_, in_pos_, static_cast<size_t>(length));
    in_pos_ += static_cast<size_t>(length);
  } else {  // the body ends with the connection
    while (!eof_) TH_RETURN_IF_ERROR(ReadMore());
    reply.body.assign(in_, in_pos_);
    in_pos_ = in_.size();
    close_after = true;
  }
  if (close_after) Close();
  return reply;
}

Result<HttpReply> HttpConnection::Post(std::string_view target, std::string_view body) {
  std::string head = fmt::format(
      "POST {} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: keep-alive\r\n"
      "Content-Length: {}\r\n\r\n",
      target, port_, body.size());
  // A kept-alive connection the server has closed in between fails at the send or before the
  // first byte of the reply: then the request is sent once more on a new connection.
  for (int attempt = 0;; ++attempt) {
    if (fd_ < 0) TH_RETURN_IF_ERROR(Connect());
    bool fresh = in_.size() == in_pos_;
    Status sent = Send(head, body);
    if (sent.ok()) {
      Result<HttpReply> reply = ReadReply();
      if (reply.ok() || attempt > 0 || !fresh || !eof_ || in_.size() != in_pos_) return reply;
    } else if (attempt > 0 || sent.code() == StatusCode::kTimeout) {
      return sent;
    }
    Close();
  }
}

}  // namespace trackhouse::bench
