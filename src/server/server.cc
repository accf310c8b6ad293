#include "server/server.h"

#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "common/logging.h"
#include "common/metrics.h"
#include "server/http_metrics.h"
#include "server/router.h"
#include "server/tls.h"
#include "server/worker_pool.h"

namespace trackhouse::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct ServerMetrics {
  metrics::Counter& requests = metrics::GetCounter(
      "trackhouse_http_requests_total", "HTTP requests received (complete request headers)");
  metrics::Counter& errors = metrics::GetCounter("trackhouse_http_errors_total",
                                                 "HTTP responses with status 400 or above");
  metrics::Counter& bad_requests = metrics::GetCounter(
      "trackhouse_http_bad_requests_total",
      "Malformed HTTP requests: bad request line/headers, oversized headers, broken chunking");
  metrics::Counter& timeouts = metrics::GetCounter(
      "trackhouse_http_timeouts_total",
      "Requests abandoned because the client stopped sending or receiving, or was too slow "
      "(io_timeout_ms, header_timeout_ms, min_body_bytes_per_second)");
  metrics::Counter& header_timeouts = metrics::GetCounter(
      "trackhouse_http_header_timeouts_total",
      "Requests answered 408 because their request line and headers did not arrive within "
      "header_timeout_ms (slow or stalled clients)");
  metrics::Counter& slow_bodies =
      metrics::GetCounter("trackhouse_http_slow_bodies_total",
                          "Request bodies cut off (408) because they arrived slower than "
                          "min_body_bytes_per_second");
  metrics::Counter& tls_handshake_errors = metrics::GetCounter(
      "trackhouse_http_tls_handshake_errors_total",
      "TLS connections closed because the handshake failed (e.g. plain HTTP sent to the TLS "
      "port) or did not finish within header_timeout_ms");
  metrics::Counter& cors_preflights = metrics::GetCounter(
      "trackhouse_http_cors_preflights_total",
      "CORS preflight requests (OPTIONS with Access-Control-Request-Method) answered 204");
  metrics::Counter& cors_rejected = metrics::GetCounter(
      "trackhouse_http_cors_rejected_total",
      "CORS preflight requests refused with 403 because their Origin is not in cors_origins");
  metrics::Counter& connections_total =
      metrics::GetCounter("trackhouse_http_connections_accepted_total", "TCP connections accepted");
  metrics::Counter& connections_rejected =
      metrics::GetCounter("trackhouse_http_connections_rejected_total",
                          "Connections refused with 503 because max_connections were open");
  metrics::Counter& requests_rejected = metrics::GetCounter(
      "trackhouse_http_requests_rejected_total",
      "Requests refused with 503 because max_concurrent_requests were in service");
  metrics::Counter& inline_requests = metrics::GetCounter(
      "trackhouse_http_inline_requests_total",
      "Requests served by the io thread that read them, without a worker: small POST /track "
      "requests that arrived whole (serve_track_inline)");
  metrics::Counter& accept_errors = metrics::GetCounter(
      "trackhouse_http_accept_errors_total", "Errors accepting connections (e.g. out of fds)");
  metrics::Counter& write_errors = metrics::GetCounter(
      "trackhouse_http_write_errors_total", "Responses that could not be written to the client");
  metrics::Counter& forced_closes = metrics::GetCounter(
      "trackhouse_http_stop_forced_closes_total",
      "Connections shut down by Stop() because their request outlived stop_timeout_ms");
  metrics::Gauge& open_connections =
      metrics::GetGauge("trackhouse_http_open_connections", "Open HTTP connections");
  metrics::Gauge& active_requests =
      metrics::GetGauge("trackhouse_http_active_requests", "HTTP requests being served");
};

ServerMetrics& M() {
  static ServerMetrics* m = new ServerMetrics();
  return *m;
}

using SteadyClock = std::chrono::steady_clock;

// Most bytes a connection's strand reads ahead of a request before handing it to a worker.
constexpr size_t kInlineReadBytes = 64 * 1024;

// A Beast SyncReadStream/SyncWriteStream over a connected socket's descriptor, in clear or
// through the connection's TlsSession. Every wait for the socket ends after `timeout_ms`
// without progress, so a silent peer cannot hold a worker thread forever; a deadline
// (SetDeadline: the request line and headers) and a minimum read rate (RequireReadRate: the
// body) end waits earlier. Each ends the operation with beast::error::timeout and says which
// bound it was. Used by one thread at a time.
class TimedFdStream {
 public:
  TimedFdStream(int fd, int timeout_ms, TlsSession* tls)
      : fd_(fd), timeout_ms_(timeout_ms), tls_(tls) {}

  // Waits end at `deadline` too (deadline_passed()).
  void SetDeadline(SteadyClock::time_point deadline) { deadline_ = deadline; }
  void ClearDeadline() { deadline_.reset(); }
  bool deadline_passed() const { return deadline_passed_; }

  // From now on the time spent waiting for bytes to read may reach `grace_ms`, and beyond it
  // one second per `bytes_per_second` bytes read (`already`: bytes received before); a read
  // that would wait longer fails (too_slow()). 0 bytes per second: no bound.
  void RequireReadRate(uint64_t bytes_per_second, int grace_ms, uint64_t already) {
    min_rate_ = bytes_per_second;
    grace_ms_ = grace_ms;
    rate_bytes_ = already;
    waited_ = {};
  }
  bool too_slow() const { return too_slow_; }
  // Bytes read and milliseconds spent waiting for them since RequireReadRate.
  uint64_t rate_bytes() const { return rate_bytes_; }
  int64_t waited_ms() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(waited_).count();
  }

  // The server side of the TLS handshake (nothing in clear).
  void Handshake(beast::error_code& ec) {
    ec = {};
    if (tls_ == nullptr) return;
    while (true) {
      TlsStep step = tls_->Handshake();
      if (step == TlsStep::kDone) return;
      if (step == TlsStep::kClosed || step == TlsStep::kFailed) {
        ec = step == TlsStep::kClosed ? beast::error_code(asio::error::eof)
                                      : beast::error_code(asio::error::connection_reset);
        return;
      }
      if (!Wait(step == TlsStep::kWantWrite ? POLLOUT : POLLIN, /*reading=*/false, ec)) return;
    }
  }

  template <class MutableBufferSequence>
  size_t read_some(const MutableBufferSequence& buffers, beast::error_code& ec) {
    for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers);
         ++it) {
      asio::mutable_buffer b = *it;
      if (b.size() != 0) return Io(b.data(), b.size(), /*write=*/false, ec);
    }
    ec = {};
    return 0;
  }
  template <class MutableBufferSequence>
  size_t read_some(const MutableBufferSequence& buffers) {
    beast::error_code ec;
    size_t n = read_some(buffers, ec);
    if (ec) throw beast::system_error(ec);  // never used by trackhouse (error_code overloads)
    return n;
  }
  template <class ConstBufferSequence>
  size_t write_some(const ConstBufferSequence& buffers, beast::error_code& ec) {
    for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers);
         ++it) {
      asio::const_buffer b = *it;
      if (b.size() != 0) return Io(const_cast<void*>(b.data()), b.size(), /*write=*/true, ec);
    }
    ec = {};
    return 0;
  }
  template <class ConstBufferSequence>
  size_t write_some(const ConstBufferSequence& buffers) {
    beast::error_code ec;
    size_t n = write_some(buffers, ec);
    if (ec) throw beast::system_error(ec);  // never used by trackhouse (error_code overloads)
    return n;
  }

 private:
  size_t Io(void* data, size_t size, bool write, beast::error_code& ec) {
    ec = {};
    while (true) {
      short wait_for = write ? POLLOUT : POLLIN;
      if (tls_ != nullptr) {
        size_t n = 0;
        TlsStep step = write ? tls_->Write(data, size, &n) : tls_->Read(data, size, &n);
        if (step == TlsStep::kDone) return Moved(n, write);
        if (step == TlsStep::kClosed) {
          ec = write ? beast::error_code(asio::error::broken_pipe)
                     : beast::error_code(asio::error::eof);
          return 0;
        }
        if (step == TlsStep::kFailed) {
          ec = asio::error::connection_reset;
          return 0;
        }
        wait_for = step == TlsStep::kWantWrite ? POLLOUT : POLLIN;
      } else {
        ssize_t n = write ? ::send(fd_, data, size, MSG_DONTWAIT | MSG_NOSIGNAL)
                          : ::recv(fd_, data, size, MSG_DONTWAIT);
        if (n > 0) return Moved(static_cast<size_t>(n), write);
        if (n == 0 && !write) {
          ec = asio::error::eof;
          return 0;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
          ec = beast::error_code(errno, boost::system::system_category());
          return 0;
        }
      }
      if (!Wait(wait_for, /*reading=*/!write, ec)) return 0;
    }
  }

  size_t Moved(size_t n, bool write) {
    if (!write) rate_bytes_ += n;
    return n;
  }

  enum class Bound { kIo, kDeadline, kRate };

  // Waits until the socket is ready for `events`; false (ec set) at a bound or on an error.
  bool Wait(short events, bool reading, beast::error_code& ec) {
    SteadyClock::time_point start = SteadyClock::now();
    int64_t wait_ms = timeout_ms_;
    Bound bound = Bound::kIo;
    if (deadline_) {
      // Rounded up: a wait never ends just before the deadline only to wait 0 ms again.
      int64_t left = std::chrono::ceil<std::chrono::milliseconds>(*deadline_ - start).count();
      if (left < wait_ms) {
        wait_ms = left;
        bound = Bound::kDeadline;
      }
    }
    bool rated = reading && min_rate_ > 0;
    if (rated) {
      int64_t allowed = std::max<int64_t>(grace_ms_, rate_bytes_ * 1000 / min_rate_);
      int64_t left = allowed - waited_ms();
      if (left < wait_ms) {
        wait_ms = left;
        bound = Bound::kRate;
      }
    }
    if (wait_ms <= 0) return Expire(bound, ec);
    pollfd p{fd_, events, 0};
    int r = ::poll(&p, 1, static_cast<int>(wait_ms));
    int poll_errno = errno;
    if (rated) waited_ += SteadyClock::now() - start;
    if (r == 0) return Expire(bound, ec);
    if (r < 0 && poll_errno != EINTR) {
      ec = beast::error_code(poll_errno, boost::system::system_category());
      return false;
    }
    return true;
  }

  bool Expire(Bound bound, beast::error_code& ec) {
    if (bound == Bound::kDeadline) deadline_passed_ = true;
    if (bound == Bound::kRate) too_slow_ = true;
    ec = beast::error::timeout;
    return false;
  }

  int fd_;
  int timeout_ms_;
  TlsSession* tls_;  // null: clear text
  std::optional<SteadyClock::time_point> deadline_;
  bool deadline_passed_ = false;
  uint64_t min_rate_ = 0;  // 0: reads have no minimum rate
  int64_t grace_ms_ = 0;
  uint64_t rate_bytes_ = 0;
  SteadyClock::duration waited_{};
  bool too_slow_ = false;
};

// Pulls the body of the request being served out of the Beast parser in chunks.
class ParserBodyReader final : public BodyReader {
 public:
  ParserBodyReader(TimedFdStream* stream, beast::flat_buffer* buffer,
                   http::request_parser<http::buffer_body>* parser, bool expect_continue,
                   size_t chunk_bytes, uint64_t min_bytes_per_second, int grace_ms)
      : stream_(stream),
        buffer_(buffer),
        parser_(parser),
        expect_continue_(expect_continue),
        chunk_bytes_(chunk_bytes),
        min_bytes_per_second_(min_bytes_per_second),
        grace_ms_(grace_ms) {}

  Result<std::string_view> Next(size_t max_bytes) override {
    if (!status_.ok()) return status_;
    if (done()) return std::string_view();
    if (!rate_started_) {
      // The body's clock starts when the handler first asks for it; what came with the
      // headers counts as received.
      rate_started_ = true;
      stream_->RequireReadRate(min_bytes_per_second_, grace_ms_, buffer_->size());
    }
    beast::error_code ec;
    if (expect_continue_ && !sent_continue_) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      asio::write(*stream_, asio::buffer(kContinue.data(), kContinue.size()), ec);
      sent_continue_ = true;
      if (ec) return Fail(ec);
    }
    size_t want = std::max<size_t>(1, std::min(max_bytes, chunk_bytes_));
    if (!parser_->chunked() && parser_->content_length()) {
      // A body of known length is read straight from the socket into the chunk, in reads as
      // large as the chunk, instead of through the parser's 64 KiB buffer and a second copy.
      // The bytes after it (a pipelined request) stay in buffer_ for the next request.
      if (!length_known_) {
        length_known_ = true;
        remaining_ = *parser_->content_length();
      }
      size_t n = std::min<uint64_t>(want, remaining_);
      // The chunk is only as large as the body needs (a single event is a few hundred bytes).
      if (chunk_.size() < n) chunk_.resize(n);
      if (buffer_->size() > 0) {
        n = std::min(n, buffer_->size());
        std::memcpy(chunk_.data(), buffer_->data().data(), n);
        buffer_->consume(n);
      } else {
        n = stream_->read_some(asio::buffer(chunk_.data(), n), ec);
        if (ec == asio::error::eof) ec = http::error::partial_message;
        if (ec) return Fail(ec);
      }
      remaining_ -= n;
      bytes_read_ += n;
      return std::string_view(chunk_.data(), n);
    }
    if (chunk_.size() < want) chunk_.resize(want);
    while (true) {
      auto& body = parser_->get().body();
      body.data = chunk_.data();
      body.size = want;
      http::read(*stream_, *buffer_, *parser_, ec);
      if (ec == http::error::need_buffer) ec = {};
      if (ec) return Fail(ec);
      size_t n = want - parser_->get().body().size;
      if (n > 0 || parser_->is_done()) {
        bytes_read_ += n;
        return std::string_view(chunk_.data(), n);
      }
    }
  }
  uint64_t bytes_read() const override { return bytes_read_; }
  bool done() const override { return length_known_ ? remaining_ == 0 : parser_->is_done(); }

  // The body could not be read: the connection cannot be reused.
  bool failed() const { return !status_.ok(); }
  bool malformed() const { return malformed_; }
  bool timed_out() const { return timed_out_; }
  // The body arrived slower than min_body_bytes_per_second (timed_out() too).
  bool too_slow() const { return too_slow_; }

 private:
  Status Fail(const beast::error_code& ec) {
    if (ec == beast::error::timeout && stream_->too_slow()) {
      timed_out_ = true;
      too_slow_ = true;
      status_ = Status::Timeout(
          fmt::format("the request body arrives too slowly: {} bytes in {} ms of waiting, below "
                      "min_body_bytes_per_second ({})",
                      stream_->rate_bytes(), stream_->waited_ms(), min_bytes_per_second_));
    } else if (ec == beast::error::timeout) {
      timed_out_ = true;
      status_ = Status::Timeout("timed out waiting for the request body");
    } else if (ec == http::error::partial_message || ec == http::error::end_of_stream ||
               ec == asio::error::eof || ec.category() == boost::system::system_category()) {
      status_ = Status::IOError("the connection ended before the request body did: " + ec.message(),
                                ch::kCannotReadAllData);
    } else {
      malformed_ = true;
      status_ = Status::InvalidArgument("malformed HTTP request body: " + ec.message());
    }
    return status_;
  }

  TimedFdStream* stream_;
  beast::flat_buffer* buffer_;
  http::request_parser<http::buffer_body>* parser_;
  bool expect_continue_;
  bool sent_continue_ = false;
  size_t chunk_bytes_;
  uint64_t min_bytes_per_second_;
  int grace_ms_;
  bool rate_started_ = false;
  std::vector<char> chunk_;
  bool length_known_ = false;  // reading a Content-Length body directly (Next)
  uint64_t remaining_ = 0;     // its bytes not read yet
  uint64_t bytes_read_ = 0;
  bool malformed_ = false;
  bool timed_out_ = false;
  bool too_slow_ = false;
  Status status_;
};

// Writes a small fixed response without blocking (best effort) on a socket about to close.
void SendAndClose(tcp::socket& socket, int status, std::string_view reason, std::string_view body) {
  std::string msg = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: {}\r\n"
      "Retry-After: 1\r\nConnection: close\r\n\r\n{}",
      status, reason, body.size(), body);
  ssize_t n = ::send(socket.native_handle(), msg.data(), msg.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  (void)n;  // best effort: the peer may already be gone
  beast::error_code ec;
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
}

// CORS, answered by the transport so that it covers every route.
constexpr std::string_view kCorsExposeHeaders =
    "Retry-After, X-ClickHouse-Query-Id, X-ClickHouse-Summary";
constexpr std::string_view kCorsAllowMethods = "POST, GET, OPTIONS";
constexpr std::string_view kCorsAllowHeaders =
    "Content-Type, Authorization, Idempotency-Key, X-Trackhouse-Token";
constexpr std::string_view kCorsMaxAgeSeconds = "600";

// The Access-Control-Allow-Origin of a request from `origin`: the origin itself when it is
// listed (case-insensitively, a trailing '/' of a listed origin ignored), "*" when any origin
// is; nullopt when it is not allowed.
std::optional<std::string> CorsAllowedOrigin(const std::vector<std::string>& listed,
                                             std::string_view origin) {
  bool any = false;
  for (std::string_view entry : listed) {
    if (entry.size() > 1 && entry.back() == '/') entry.remove_suffix(1);
    if (entry == "*") {
      any = true;
    } else if (beast::iequals(entry, origin)) {
      return std::string(origin);
    }
  }
  if (any) return std::string("*");
  return std::nullopt;
}

// The answer to a preflight (OPTIONS with Access-Control-Request-Method): 204 with what the
// browser may send for an allowed origin, 403 otherwise.
HttpResponse CorsPreflight(const std::optional<std::string>& allowed, std::string_view origin) {
  HttpResponse r;
  r.headers.emplace_back("Vary", "Origin");
  if (!allowed) {
    M().cors_rejected.Add();
    r.status = 403;
    r.body = fmt::format("CORS: origin {} is not allowed (cors_origins)\n", origin);
    return r;
  }
  M().cors_preflights.Add();
  r.status = 204;
  r.headers.emplace_back("Access-Control-Allow-Origin", *allowed);
  r.headers.emplace_back("Access-Control-Allow-Methods", std::string(kCorsAllowMethods));
  r.headers.emplace_back("Access-Control-Allow-Headers", std::string(kCorsAllowHeaders));
  r.headers.emplace_back("Access-Control-Max-Age", std::string(kCorsMaxAgeSeconds));
  return r;
}

struct ServerCore;

RouterOptions MakeRouterOptions(const ServerOptions& o) {
  RouterOptions r;
  r.storage_mode = o.storage_mode;
  r.max_query_bytes = o.max_query_bytes;
  r.read_chunk_bytes = o.read_chunk_bytes;
  r.ingest = o.ingest;
  r.users = o.users;
  r.sessions = o.sessions;
  r.display_name = o.display_name;
  r.track = o.track;
  r.access = o.access;
  return r;
}

// One client connection. Between requests it waits on its strand (io threads) for the next
// request's first bytes; a request is then served on a worker thread, during which no
// asynchronous operation is pending on the socket. `waiting_` is touched only on the strand;
// `closed_` and the descriptor's shutdown/close only under `fd_mu_`. The TLS session (if any)
// is used by whoever owns the connection at the time: the worker serving a request, or the
// strand between requests.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // `tls`: the connection's TLS session over `socket`; null for clear text.
  Connection(ServerCore* server, uint64_t id, tcp::socket socket, std::unique_ptr<TlsSession> tls)
      : server_(server),
        id_(id),
        socket_(std::move(socket)),
        idle_timer_(socket_.get_executor()),
        tls_(std::move(tls)) {
    beast::error_code ec;
    auto ep = socket_.remote_endpoint(ec);
    if (!ec) remote_ = fmt::format("{}:{}", ep.address().to_string(), ep.port());
  }

  uint64_t id() const { return id_; }
  // From any thread: starts waiting for the first request (on the connection's strand).
  void Start() {
    auto self = shared_from_this();
    asio::dispatch(socket_.get_executor(), [self] { self->StartWait(); });
  }
  // On the strand: waits for the next request (or serves buffered pipelined bytes).
  void StartWait();
  // From any thread: closes an idle connection (on its strand).
  void CloseIfIdle();
  // From any thread: shuts the socket down so that a worker blocked on it returns.
  void ForceShutdown() {
    std::lock_guard lock(fd_mu_);
    if (!closed_) ::shutdown(socket_.native_handle(), SHUT_RDWR);
  }

  // What a response needs from its request once the handler is done with it.
  struct AnswerContext {
    HttpRoute route;
    std::string method, path;
    bool cors = false;
    std::optional<std::string> origin;  // the allowed origin, when cors
    bool keep_alive = false;            // the request allows another on the connection
  };
  // From any thread, once: sends the deferred answer of the request in service (see
  // Responder), as far as the socket takes it without waiting; the worker sends the rest
  // before it reads the next request.
  void SendDeferred(HttpResponse response, const AnswerContext& context);

 private:
  class DeferredAnswer;

  // Adds the CORS headers, counts the response and logs it (debug).
  void Finish(HttpResponse* response, const AnswerContext& context);
  // Waits (up to io_timeout_ms) until a deferred answer has been handed to the socket, then
  // sends what the socket did not take (with `stream`, unless null). False if the connection
  // must close: the answer said so, could not be sent, or never came.
  bool AwaitDeferredAnswer(TimedFdStream* stream);
  // Arms the keep-alive timer to fire `after` from now (strand only).
  void ArmIdleTimer(SteadyClock::duration after);
  // On the strand, when the connection has bytes to read: serves what it can here
  // (ServeInline), and hands the connection to a worker (Dispatch) for the rest.
  void OnReadable();
  // Reads what the socket holds without waiting (at most kInlineReadBytes in the buffer);
  // false if the peer closed the connection or it failed.
  bool ReadAvailable();
  // Whether the previous request's answer has left whole, so that the next request may be
  // served on the strand.
  bool AnswerSettled();
  // Whether a deferred answer has not been handed to the socket yet.
  bool AnswerPending();
  enum class Inline { kServed, kWorker, kClose };
  // Serves the request at the front of buffer_ on the strand if it is a small /track request
  // that is there whole (kServed); kWorker if a worker must serve it (incomplete, large,
  // another route, ...); kClose if the connection must close.
  Inline ServeInline();
  void Dispatch();
  void Serve();
  // Serves one request (after the TLS handshake on a new TLS connection); true if the
  // connection may carry another.
  bool ServeOne(TimedFdStream& stream);
  // Serves the request whose header `parser` has read. On a worker (`on_strand` false) the
  // answer is written before this returns unless the handler defers it; on the strand
  // (ServeInline: the body is in buffer_, nothing waits) every answer is sent as a deferred
  // one is (SendDeferred). True if the connection may carry another request.
  bool ServeParsed(TimedFdStream& stream, http::request_parser<http::buffer_body>& parser,
                   bool on_strand);
  // After an answer: whether the next request arrives within keep_alive_linger_us (the
  // worker waits for it if the linger budget allows).
  bool NextRequestArrives();
  // The transport's own answer to a request whose headers did not arrive whole and in time.
  void AnswerBadHeader(TimedFdStream& stream, const beast::error_code& ec);
  // Writes `response`; for a HEAD request only its header (with the body's Content-Length).
  void WriteResponse(TimedFdStream& stream, const HttpResponse& response, bool head,
                     bool keep_alive, bool* ok);
  void Close();

  ServerCore* const server_;
  const uint64_t id_;
  tcp::socket socket_;
  asio::steady_timer idle_timer_;
  const std::unique_ptr<TlsSession> tls_;
  beast::flat_buffer buffer_;
  std::string remote_;
  bool waiting_ = false;  // strand only
  // Strand only: the idle timer has a wait pending; when the connection last started waiting.
  bool timer_armed_ = false;
  SteadyClock::time_point idle_since_;
  std::mutex fd_mu_;
  bool closed_ = false;  // GUARDED_BY(fd_mu_)
  std::mutex answer_mu_;
  std::condition_variable answer_cv_;
  bool answer_pending_ = false;  // GUARDED_BY(answer_mu_): a deferred answer is not sent yet
  bool answer_close_ = false;    // GUARDED_BY(answer_mu_): close after it
  std::string answer_unsent_;    // GUARDED_BY(answer_mu_): its bytes the socket did not take
};

// The Responder of a request on a clear-text connection.
class Connection::DeferredAnswer final : public Responder {
 public:
  DeferredAnswer(std::shared_ptr<Connection> connection, AnswerContext context)
      : connection_(std::move(connection)), context_(std::move(context)) {}
  void Respond(HttpResponse response) override {
    connection_->SendDeferred(std::move(response), context_);
  }

 private:
  const std::shared_ptr<Connection> connection_;
  const AnswerContext context_;
};

// A whole HTTP/1.1 response, header and body (for a HEAD request only the header, with the
// body's Content-Length), as one string: written in one go, it leaves in one TCP segment
// (with TCP_NODELAY, each segment wakes the client).
std::string SerializeResponse(const HttpResponse& r, bool keep_alive, uint32_t keep_alive_s,
                              bool head) {
  std::string out = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: {}\r\n", r.status,
      std::string_view(http::obsolete_reason(static_cast<http::status>(r.status))), r.content_type);
  for (const auto& [name, value] : r.headers)
    fmt::format_to(std::back_inserter(out), "{}: {}\r\n", name, value);
  if (keep_alive) {
    fmt::format_to(std::back_inserter(out), "Keep-Alive: timeout={}\r\n", keep_alive_s);
  } else {
    out += "Connection: close\r\n";
  }
  fmt::format_to(std::back_inserter(out), "Content-Length: {}\r\n\r\n", r.body.size());
  if (!head) out += r.body;
  return out;
}

// The server's shared state (Server::Impl).
struct ServerCore {
  ServerCore(ServerOptions o, storage::Storage* storage, query::QueryHandler* query_handler)
      : options(std::move(o)),
        router(MakeRouterOptions(options), storage, query_handler),
        pool(std::max<uint32_t>(1, options.max_concurrent_requests)) {}

  void DoAccept();
  void OnAccept(tcp::socket socket);
  void Unregister(uint64_t id) {
    std::lock_guard lock(mu);
    if (conns.erase(id) > 0) M().open_connections.Add(-1);
    cv.notify_all();
  }
  void BeginBusy() {
    busy.fetch_add(1);
    M().active_requests.Add(1);
  }
  void EndBusy() {
    M().active_requests.Add(-1);
    // Only Stop() waits for busy to reach 0 (after setting `stopping`): either it sees the
    // count this leaves, or this sees `stopping` and wakes it.
    if (busy.fetch_sub(1) == 1 && stopping.load()) {
      std::lock_guard lock(mu);
      cv.notify_all();
    }
  }
  std::vector<std::shared_ptr<Connection>> Snapshot() {
    std::lock_guard lock(mu);
    std::vector<std::shared_ptr<Connection>> out;
    for (auto& [id, c] : conns) out.push_back(c);
    return out;
  }

  // Declared first: destroyed last, after every socket and timer bound to it.
  asio::io_context ioc;
  ServerOptions options;
  Router router;
  WorkerPool pool;
  std::unique_ptr<TlsContext> tls;  // set by Start() when TLS is configured
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  tcp::acceptor acceptor{ioc};
  std::vector<std::thread> io_threads;
  std::atomic<bool> stopping{false};
  std::atomic<uint32_t> lingering{0};  // workers in Connection::NextRequestArrives
  uint16_t bound_port = 0;
  std::string bound_host;

  std::mutex mu;
  std::condition_variable cv;
  std::map<uint64_t, std::shared_ptr<Connection>> conns;  // GUARDED_BY(mu)
  uint64_t next_id = 1;                                   // GUARDED_BY(mu)
  std::atomic<int> busy{0};  // requests in service (workers, and answers still to come)
  bool started = false;      // GUARDED_BY(mu)
  bool stopped = false;      // GUARDED_BY(mu)
};

void Connection::StartWait() {
  if (server_->stopping.load()) {
    Close();
    return;
  }
  // A pipelined request may already be buffered, by the parser or inside the TLS session
  // (then the socket may have nothing more to read).
  if (buffer_.size() > 0 || (tls_ != nullptr && tls_->HasPending())) {
    OnReadable();
    return;
  }
  waiting_ = true;
  idle_since_ = SteadyClock::now();
  // The idle timer is armed once and checks, when it fires, how long the connection has been
  // waiting: re-arming it for each request would cost a timer update per request.
  if (!timer_armed_)
    ArmIdleTimer(std::chrono::milliseconds(server_->options.keep_alive_timeout_ms));
  auto self = shared_from_this();
  socket_.async_wait(tcp::socket::wait_read, [self](const beast::error_code& ec) {
    if (!self->waiting_) return;  // closed by the idle timer or Stop()
    self->waiting_ = false;
    if (ec) {
      self->Close();
      return;
    }
    self->OnReadable();
  });
}

void Connection::ArmIdleTimer(SteadyClock::duration after) {
  timer_armed_ = true;
  auto self = shared_from_this();
  idle_timer_.expires_after(after);
  idle_timer_.async_wait([self](const beast::error_code& ec) {
    self->timer_armed_ = false;
    // Cancelled (closed), or a request is in service: the next wait arms the timer again.
    if (ec || !self->waiting_) return;
    const auto timeout = std::chrono::milliseconds(self->server_->options.keep_alive_timeout_ms);
    const auto idle = SteadyClock::now() - self->idle_since_;
    if (idle < timeout) {
      self->ArmIdleTimer(timeout - idle);
      return;
    }
    if (self->AnswerPending()) {
      // The answer to a request served on the strand waits for a (slow) log sync: the
      // connection is not idle.
      self->ArmIdleTimer(timeout);
      return;
    }
    self->waiting_ = false;
    self->Close();
  });
}

void Connection::CloseIfIdle() {
  auto self = shared_from_this();
  asio::post(socket_.get_executor(), [self] {
    // A connection whose answer is still to come is closed by Stop's second pass, once every
    // request in service has been answered.
    if (!self->waiting_ || self->AnswerPending()) return;
    self->waiting_ = false;
    self->idle_timer_.cancel();
    self->Close();
  });
}

bool Connection::AnswerSettled() {
  std::lock_guard lock(answer_mu_);
  return !answer_pending_ && answer_unsent_.empty() && !answer_close_;
}

bool Connection::AnswerPending() {
  std::lock_guard lock(answer_mu_);
  return answer_pending_;
}

bool Connection::ReadAvailable() {
  while (buffer_.size() < kInlineReadBytes) {
    const size_t want = beast::read_size(buffer_, kInlineReadBytes - buffer_.size());
    auto space = buffer_.prepare(want);
    ssize_t n = ::recv(socket_.native_handle(), space.data(), space.size(), MSG_DONTWAIT);
    if (n > 0) {
      buffer_.commit(static_cast<size_t>(n));
      if (static_cast<size_t>(n) < want) return true;  // the socket is drained
      continue;
    }
    if (n == 0) return false;  // the peer closed
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK;
  }
  return true;
}

void Connection::OnReadable() {
  // TLS connections, and requests while the previous answer is still on its way (pipelining),
  // are served by workers, which may wait.
  if (tls_ != nullptr || !server_->options.serve_track_inline) {
    Dispatch();
    return;
  }
  while (true) {
    if (server_->stopping.load()) {
      if (AnswerSettled()) {
        Close();
      } else {
        Dispatch();  // the worker sends the answer, then closes
      }
      return;
    }
    if (!AnswerSettled()) {
      // The client sent its next request before the answer to the last one went out: a worker
      // waits for that answer and sends it first.
      Dispatch();
      return;
    }
    if (!ReadAvailable()) {
      // Closed by the peer (or failed): a worker answers a request it left whole before.
      if (buffer_.size() > 0) {
        Dispatch();
      } else {
        Close();
      }
      return;
    }
    if (buffer_.size() == 0) {  // woken without bytes
      StartWait();
      return;
    }
    switch (ServeInline()) {
      case Inline::kWorker:
        Dispatch();
        return;
      case Inline::kClose:
        Dispatch();  // the worker waits for the answer, sends it, then closes
        return;
      case Inline::kServed:
        if (buffer_.size() > 0) continue;  // pipelined: served once the answer is out
        StartWait();
        return;
    }
  }
}

Connection::Inline Connection::ServeInline() {
  http::request_parser<http::buffer_body> parser;
  parser.header_limit(server_->options.max_request_header_bytes);
  parser.body_limit(boost::none);
  parser.eager(false);
  beast::error_code ec;
  const size_t used = parser.put(buffer_.data(), ec);
  // Incomplete or malformed headers go to a worker, which waits for the rest (bounded by
  // header_timeout_ms) or answers the error.
  if (ec || !parser.is_header_done()) return Inline::kWorker;
  const auto& header = parser.get();
  const auto length = parser.content_length();
  const bool eligible = header.method() == http::verb::post && !parser.chunked() &&
                        length.has_value() && *length <= server_->options.inline_max_body_bytes &&
                        buffer_.size() - used >= *length && header[http::field::expect].empty() &&
                        header.target().starts_with("/track/") &&
                        // wait_for_delivery=1 commits waiting for the log's sync (then waits
                        // for the delivery on a thread of its own): a worker does that
                        // waiting, not the io thread.
                        header.target().find("wait_for_delivery") == std::string_view::npos;
  if (!eligible) return Inline::kWorker;
  M().inline_requests.Add();
  buffer_.consume(used);
  // No read or write below waits: the body is in buffer_ and answers are sent as far as the
  // socket takes them (the rest by the worker that serves the next request).
  TimedFdStream stream(socket_.native_handle(), static_cast<int>(server_->options.io_timeout_ms),
                       nullptr);
  return ServeParsed(stream, parser, /*on_strand=*/true) ? Inline::kServed : Inline::kClose;
}

void Connection::Dispatch() {
  server_->BeginBusy();
  auto self = shared_from_this();
  if (!server_->pool.TrySubmit([self] { self->Serve(); })) {
    server_->EndBusy();
    M().requests_rejected.Add();
    M().errors.Add();
    std::lock_guard lock(fd_mu_);
    if (!closed_ && tls_ != nullptr) {
      // No clear-text answer can reach a TLS client, and an encrypted one may block.
      closed_ = true;
      beast::error_code ec;
      socket_.shutdown(tcp::socket::shutdown_both, ec);
      socket_.close(ec);
    } else if (!closed_) {
      closed_ = true;
      SendAndClose(socket_, 503, "Service Unavailable",
                   fmt::format("trackhouse is serving max_concurrent_requests ({}) requests; "
                               "retry later\n",
                               server_->options.max_concurrent_requests));
    }
    server_->Unregister(id_);
  }
}

void Connection::Serve() {
  bool keep = true;
  do {
    TimedFdStream stream(socket_.native_handle(), static_cast<int>(server_->options.io_timeout_ms),
                         tls_.get());
    keep = AwaitDeferredAnswer(&stream) && ServeOne(stream);
  } while (keep && !server_->stopping.load() && NextRequestArrives());
  if (keep && !server_->stopping.load()) {
    auto self = shared_from_this();
    asio::post(socket_.get_executor(), [self] { self->StartWait(); });
  } else {
    AwaitDeferredAnswer(nullptr);  // a deferred answer still goes out before the close
    Close();
  }
  server_->EndBusy();
}

bool Connection::AwaitDeferredAnswer(TimedFdStream* stream) {
  std::unique_lock lock(answer_mu_);
  if (!answer_pending_ && answer_unsent_.empty() && !answer_close_) return true;  // the usual
  if (!answer_cv_.wait_for(lock, std::chrono::milliseconds(server_->options.io_timeout_ms),
                           [&] { return !answer_pending_; })) {
    return false;
  }
  std::string rest = std::move(answer_unsent_);
  answer_unsent_.clear();
  const bool close = answer_close_;
  answer_close_ = false;
  lock.unlock();
  if (!rest.empty() && stream != nullptr) {
    beast::error_code ec;
    asio::write(*stream, asio::buffer(rest), ec);
    if (ec) {
      M().write_errors.Add();
      return false;
    }
  }
  return !close;
}

void Connection::SendDeferred(HttpResponse response, const AnswerContext& context) {
  Finish(&response, context);
  const bool keep_alive = context.keep_alive && !response.close && !server_->stopping.load();
  std::string bytes =
      SerializeResponse(response, keep_alive, server_->options.keep_alive_timeout_ms / 1000,
                        /*head=*/false);
  size_t sent = 0;
  bool failed = false;
  {
    // answer_mu_ is held across the send, so that a request that arrives because its client
    // read this answer finds the answer settled (and is served on the strand).
    std::lock_guard lock(answer_mu_);
    {
      std::lock_guard fd_lock(fd_mu_);
      if (closed_) {
        failed = true;
      } else {
        while (sent < bytes.size()) {
          ssize_t n = ::send(socket_.native_handle(), bytes.data() + sent, bytes.size() - sent,
                             MSG_DONTWAIT | MSG_NOSIGNAL);
          if (n > 0) {
            sent += static_cast<size_t>(n);
          } else if (n < 0 && errno == EINTR) {
            continue;
          } else {
            failed = !(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
            break;  // full: the worker sends the rest
          }
        }
      }
    }
    if (!failed) answer_unsent_.assign(bytes, sent, std::string::npos);
    answer_close_ = failed || !keep_alive;
    answer_pending_ = false;
  }
  if (failed) M().write_errors.Add();
  answer_cv_.notify_all();
  server_->EndBusy();
}

void Connection::Finish(HttpResponse* response, const AnswerContext& context) {
  if (context.cors) {
    response->headers.emplace_back("Vary", "Origin");
    if (context.origin) {
      response->headers.emplace_back("Access-Control-Allow-Origin", *context.origin);
      response->headers.emplace_back("Access-Control-Expose-Headers",
                                     std::string(kCorsExposeHeaders));
    }
  }
  if (response->status >= 400) M().errors.Add();
  CountHttpResponse(context.route, response->status);
  // The path only: the target's URL arguments may carry a key (?key=, ?password=).
  if (logging::Enabled(logging::Level::kDebug)) {
    logging::Debug("http_request", {{"remote", remote_},
                                    {"method", context.method},
                                    {"path", context.path},
                                    {"route", HttpRouteName(context.route)},
                                    {"status", response->status}});
  }
}

bool Connection::NextRequestArrives() {
  if (buffer_.size() > 0 || (tls_ != nullptr && tls_->HasPending())) return true;  // pipelined
  const ServerOptions& options = server_->options;
  if (options.keep_alive_linger_us == 0) return false;
  // At most half the workers linger, so that requests on other connections always find one.
  if (server_->lingering.fetch_add(1) >= options.max_concurrent_requests / 2) {
    server_->lingering.fetch_sub(1);
    return false;
  }
  pollfd readable{socket_.native_handle(), POLLIN, 0};
  int n = 0;
  // In slices of at most 10 ms, so that Stop() never waits for a lingering worker.
  for (int64_t left_us = options.keep_alive_linger_us; left_us > 0 && n == 0;) {
    const int64_t slice_us = std::min<int64_t>(left_us, 10'000);
    timespec slice{0, static_cast<long>(slice_us * 1000)};
    n = ::ppoll(&readable, 1, &slice, nullptr);
    left_us -= slice_us;
    if (server_->stopping.load()) break;
  }
  server_->lingering.fetch_sub(1);
  // A closed or failed socket goes back to the io threads, which close it.
  return n == 1 && (readable.revents & POLLIN) != 0 &&
         (readable.revents & (POLLERR | POLLHUP)) == 0;
}

bool Connection::ServeOne(TimedFdStream& stream) {
  // The TLS handshake (on a new connection) must finish, and the request line and headers must
  // arrive, within header_timeout_ms however slowly their bytes trickle in: one deadline for
  // both when the request follows the handshake at once, a fresh one when it starts later.
  if (server_->options.header_timeout_ms != 0) {
    stream.SetDeadline(SteadyClock::now() +
                       std::chrono::milliseconds(server_->options.header_timeout_ms));
  }
  beast::error_code ec;
  if (tls_ != nullptr && !tls_->handshake_done()) {
    stream.Handshake(ec);
    if (ec) {
      // A peer that closes without a word (a port probe) is no error; anything else is, e.g.
      // a plain-HTTP request sent to the TLS port.
      if (ec != asio::error::eof) {
        M().tls_handshake_errors.Add();
        logging::Debug("tls_handshake_failed",
                       {{"remote", remote_},
                        {"error", stream.deadline_passed() ? std::string("header_timeout_ms passed")
                                                           : tls_->error()}});
      }
      return false;
    }
    // A client may open a connection before it has a request to send (browsers preconnect):
    // until its request starts, it waits like an idle keep-alive connection, holding no worker.
    pollfd readable{socket_.native_handle(), POLLIN, 0};
    if (!tls_->HasPending() && ::poll(&readable, 1, 0) == 0) return true;
  }
  http::request_parser<http::buffer_body> parser;
  parser.header_limit(server_->options.max_request_header_bytes);
  parser.body_limit(boost::none);  // bodies stream; the insert path bounds what it holds
  http::read_header(stream, buffer_, parser, ec);
  stream.ClearDeadline();
  if (ec) {
    if (ec == http::error::end_of_stream || ec == asio::error::eof) return false;  // peer closed
    if (ec.category() == boost::system::system_category()) return false;           // reset etc.
    AnswerBadHeader(stream, ec);
    return false;
  }
  return ServeParsed(stream, parser, /*on_strand=*/false);
}

bool Connection::ServeParsed(TimedFdStream& stream, http::request_parser<http::buffer_body>& parser,
                             bool on_strand) {
  M().requests.Add();

  const auto& header = parser.get();
  HttpRequest request;
  request.method = std::string(header.method_string());
  request.target = std::string(header.target());
  ParseTarget(request.target, &request.path, &request.params);
  for (const auto& field : header) {
    request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  request.remote = remote_;
  request.has_body = parser.chunked() || (parser.content_length() && *parser.content_length() > 0);
  bool expect_continue =
      beast::iequals(header[http::field::expect], "100-continue") && request.has_body;
  bool keep_alive = parser.keep_alive();

  const ServerOptions& options = server_->options;
  ParserBodyReader body(&stream, &buffer_, &parser, expect_continue, options.read_chunk_bytes,
                        options.min_body_bytes_per_second, static_cast<int>(options.io_timeout_ms));
  std::string_view origin = request.Header("Origin");
  AnswerContext context;
  context.route = RouteOf(request);
  context.method = request.method;
  context.path = request.path;
  context.cors = !options.cors_origins.empty() && !origin.empty();
  if (context.cors) context.origin = CorsAllowedOrigin(options.cors_origins, origin);
  context.keep_alive = keep_alive;
  HttpResponse response;
  // In clear text a handler may answer later (once its rows are durable) while this thread
  // goes on; the request stays in service (busy) until then.
  const bool may_defer = tls_ == nullptr && header.method() != http::verb::head;
  if (may_defer) {
    {
      std::lock_guard lock(answer_mu_);
      answer_pending_ = true;
    }
    server_->BeginBusy();
  }
  if (context.cors && request.method == "OPTIONS" &&
      !request.Header("Access-Control-Request-Method").empty()) {
    response = CorsPreflight(context.origin, origin);
    context.cors = false;  // the preflight answer has its own headers
  } else {
    if (may_defer)
      request.responder = std::make_shared<DeferredAnswer>(shared_from_this(), context);
    response = server_->router.Handle(request, &body);
    if (response.deferred) {
      return keep_alive && body.done() && !body.failed() && !server_->stopping.load();
    }
  }
  if (body.malformed()) {
    M().bad_requests.Add();
    response.status = 400;
  }
  if (body.too_slow()) {
    M().slow_bodies.Add();
    response.status = 408;
  }
  if (body.timed_out()) M().timeouts.Add();

  // The connection can carry another request only if this one's body was read to its end.
  bool reusable =
      keep_alive && !response.close && body.done() && !body.failed() && !server_->stopping.load();
  if (on_strand) {
    // Sent as a deferred answer is: without waiting, the rest by the next worker.
    response.close = !reusable;
    SendDeferred(std::move(response), context);
    return reusable;
  }
  if (may_defer) {
    {
      std::lock_guard lock(answer_mu_);
      answer_pending_ = false;
    }
    server_->EndBusy();
  }
  Finish(&response, context);
  // A peer that is gone or silent gets no answer; a malformed or too slow body gets one.
  if (body.failed() && !body.malformed() && !body.too_slow()) return false;
  bool ok = false;
  WriteResponse(stream, response, header.method() == http::verb::head, reusable, &ok);
  return reusable && ok;
}

void Connection::AnswerBadHeader(TimedFdStream& stream, const beast::error_code& ec) {
  M().requests.Add();
  M().errors.Add();
  HttpResponse bad;
  if (ec == beast::error::timeout) {
    // A slow or stalled client (slowloris): told so, then cut off.
    M().timeouts.Add();
    M().header_timeouts.Add();
    bad.status = 408;
    bad.body = fmt::format(
        "Request timeout: the request line and headers did not arrive within "
        "header_timeout_ms ({} ms)\n",
        server_->options.header_timeout_ms);
  } else {
    M().bad_requests.Add();
    bad.status = 400;
    bad.body = ec == http::error::header_limit
                   ? fmt::format(
                         "Bad HTTP request: the request line and headers exceed "
                         "max_request_header_bytes ({} bytes)\n",
                         server_->options.max_request_header_bytes)
                   : fmt::format("Bad HTTP request: {}\n", ec.message());
  }
  CountHttpResponse(HttpRoute::kUnparsed, bad.status);
  bool ok;
  WriteResponse(stream, bad, /*head=*/false, /*keep_alive=*/false, &ok);
}

void Connection::WriteResponse(TimedFdStream& stream, const HttpResponse& response, bool head,
                               bool keep_alive, bool* ok) {
  const std::string bytes =
      SerializeResponse(response, keep_alive, server_->options.keep_alive_timeout_ms / 1000, head);
  beast::error_code ec;
  asio::write(stream, asio::buffer(bytes), ec);
  *ok = !ec;
  if (ec) {
    M().write_errors.Add();
    if (ec == beast::error::timeout) M().timeouts.Add();
  }
}

void Connection::Close() {
  {
    std::lock_guard lock(fd_mu_);
    if (!closed_) {
      closed_ = true;
      if (tls_ != nullptr) tls_->Shutdown();
      beast::error_code ec;
      socket_.shutdown(tcp::socket::shutdown_both, ec);
      socket_.close(ec);
    }
  }
  // The idle timer's pending wait holds the connection: end it now rather than at its expiry.
  auto self = shared_from_this();
  asio::post(socket_.get_executor(), [self] { self->idle_timer_.cancel(); });
  server_->Unregister(id_);
}

void ServerCore::DoAccept() {
  acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (stopping.load() || ec == asio::error::operation_aborted) return;
    if (ec) {
      M().accept_errors.Add();
      logging::Warn("accept_failed", {{"error", ec.message()}});
      // Out of descriptors and the like: try again shortly rather than spinning.
      auto timer = std::make_shared<asio::steady_timer>(ioc, std::chrono::milliseconds(50));
      timer->async_wait([this, timer](const beast::error_code&) {
        if (!stopping.load()) DoAccept();
      });
      return;
    }
    OnAccept(std::move(socket));
    DoAccept();
  });
}

void ServerCore::OnAccept(tcp::socket socket) {
  M().connections_total.Add();
  // Replies are written whole; without TCP_NODELAY a keep-alive client's next reply waits for
  // the delayed ACK of the previous one (about 40 ms).
  beast::error_code nodelay_ec;
  socket.set_option(tcp::no_delay(true), nodelay_ec);
  std::unique_ptr<TlsSession> session;
  if (tls != nullptr) {
    session = tls->NewSession(socket.native_handle());
    if (session == nullptr) {
      M().tls_handshake_errors.Add();
      logging::Warn("tls_session_failed",
                    {{"error", "cannot start a TLS session (out of memory?); connection closed"}});
      beast::error_code ec;
      socket.close(ec);
      return;
    }
  }
  std::shared_ptr<Connection> conn;
  {
    std::lock_guard lock(mu);
    if (conns.size() < options.max_connections) {
      uint64_t id = next_id++;
      conn = std::make_shared<Connection>(this, id, std::move(socket), std::move(session));
      conns.emplace(id, conn);
      M().open_connections.Add(1);
    }
  }
  if (!conn) {
    M().connections_rejected.Add();
    M().errors.Add();
    if (tls != nullptr) {  // a clear-text answer means nothing to a TLS client
      beast::error_code ec;
      socket.close(ec);
      return;
    }
    SendAndClose(socket, 503, "Service Unavailable",
                 fmt::format("trackhouse has max_connections ({}) connections open; retry "
                             "later\n",
                             options.max_connections));
    return;
  }
  conn->Start();
}

}  // namespace

struct Server::Impl : ServerCore {
  using ServerCore::ServerCore;
};

Server::Server(ServerOptions options, storage::Storage* storage, query::QueryHandler* query_handler)
    : impl_(std::make_unique<Impl>(std::move(options), storage, query_handler)) {}

Server::~Server() { Stop().IgnoreError(); }

Status Server::Start() {
  Impl& s = *impl_;
  {
    std::lock_guard lock(s.mu);
    if (s.started) return Status::Internal("Server::Start called twice");
    s.started = true;
  }
  if (!s.options.tls_cert_file.empty() || !s.options.tls_key_file.empty()) {
    auto tls = TlsContext::Load(s.options.tls_cert_file, s.options.tls_key_file);
    if (!tls.ok()) return tls.status();
    s.tls = std::move(tls).value();
  }
  beast::error_code ec;
  std::string host = s.options.host == "localhost" ? "127.0.0.1" : s.options.host;
  auto address = asio::ip::make_address(host, ec);
  if (ec) {
    return Status::InvalidArgument(
        fmt::format("cannot listen on '{}': not an IP address ({})", s.options.host, ec.message()));
  }
  tcp::endpoint endpoint(address, s.options.port);
  std::string where = fmt::format("{}:{}", s.options.host, s.options.port);
  s.acceptor.open(endpoint.protocol(), ec);
  if (!ec) s.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor.bind(endpoint, ec);
  if (!ec) s.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    metrics::GetCounter("trackhouse_http_listen_errors_total", "Failures to bind/listen").Add();
    beast::error_code ignored;
    s.acceptor.close(ignored);
    return Status::IOError(fmt::format("cannot listen on {}: {}", where, ec.message()),
                           ch::kCannotOpenFile);
  }
  s.bound_port = s.acceptor.local_endpoint().port();
  s.bound_host = host;
  s.work.emplace(asio::make_work_guard(s.ioc));
  s.DoAccept();
  uint32_t n = s.options.io_threads != 0 ? s.options.io_threads
                                         : std::max(1u, std::thread::hardware_concurrency());
  for (uint32_t i = 0; i < n; ++i) {
    s.io_threads.emplace_back([&s] { s.ioc.run(); });
  }
  return Status::OK();
}

Status Server::Stop() {
  Impl& s = *impl_;
  {
    std::lock_guard lock(s.mu);
    if (!s.started || s.stopped) return Status::OK();
    s.stopped = true;
  }
  s.stopping.store(true);
  asio::post(s.ioc, [&s] {
    beast::error_code ec;
    s.acceptor.close(ec);
  });
  // Idle connections go at once; requests in service get stop_timeout_ms to finish.
  for (auto& c : s.Snapshot()) c->CloseIfIdle();
  bool drained;
  {
    std::unique_lock lock(s.mu);
    drained = s.cv.wait_for(lock, std::chrono::milliseconds(s.options.stop_timeout_ms),
                            [&] { return s.busy == 0; });
  }
  if (!drained) {
    auto conns = s.Snapshot();
    logging::Warn("stop_timeout_closing_connections",
                  {{"connections", conns.size()}, {"stop_timeout_ms", s.options.stop_timeout_ms}});
    for (auto& c : conns) {
      M().forced_closes.Add();
      c->ForceShutdown();
    }
    std::unique_lock lock(s.mu);
    s.cv.wait(lock, [&] { return s.busy == 0; });
  }
  // Connections that finished a request meanwhile went back to waiting: close them too.
  for (auto& c : s.Snapshot()) c->CloseIfIdle();
  {
    std::unique_lock lock(s.mu);
    s.cv.wait_for(lock, std::chrono::seconds(5), [&] { return s.conns.empty(); });
  }
  s.pool.Shutdown();
  s.work.reset();
  s.ioc.stop();
  for (auto& t : s.io_threads) t.join();
  s.io_threads.clear();
  {
    std::lock_guard lock(s.mu);
    M().open_connections.Add(-static_cast<int64_t>(s.conns.size()));
    s.conns.clear();
  }
  // Run (and so release) whatever handlers are still queued.
  s.ioc.restart();
  s.ioc.poll();
  return Status::OK();
}

uint16_t Server::port() const { return impl_->bound_port; }

std::string Server::url() const {
  const std::string& h = impl_->bound_host;
  bool v6 = h.find(':') != std::string::npos;
  return fmt::format("{}://{}{}{}:{}", impl_->tls != nullptr ? "https" : "http", v6 ? "[" : "", h,
                     v6 ? "]" : "", impl_->bound_port);
}

}  // namespace trackhouse::server
