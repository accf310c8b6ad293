// track_bench: the load generator of the tracking benchmark (bench/track/run.sh,
// docs/BENCHMARKS.md). It posts events to a server on loopback over keep-alive connections for a
// bounded time and prints one JSON line of results:
//
//   --mode max    every connection sends its next request as soon as the last was answered
//                 (closed loop): the most requests per second the server and this generator
//                 reach together on this machine;
//   --mode rate   requests at a fixed total rate (--rate), spread over the connections, each
//                 on its schedule; latency is measured from the scheduled send time, so a slow
//                 answer counts against every request queued behind it (no coordinated
//                 omission);
//
// Each request carries --rows events as NDJSON (1: a single event per request). --target is the
// path and query: "/track/entityMetricEvents" for trackhouse, or
// "/?query=INSERT%20INTO%20...%20FORMAT%20JSONEachRow" for ClickHouse. Any answer but 200 is
// counted as an error and reported; the run fails if there are errors.
//
// Like wrk, the generator drives all its connections from a few threads (--threads, default 1)
// with non-blocking sockets and epoll, so that on a small machine it leaves the cores to the
// server instead of spending them on a thread switch per request.
#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace trackhouse::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Flags {
  uint16_t port = 0;
  std::string name = "server";
  std::string target = "/track/entityMetricEvents";
  std::string mode = "max";
  int connections = 64;
  int threads = 1;
  double seconds = 10;
  double rate = 0;  // requests per second, mode rate
  int rows = 1;
  bool get = false;
};

bool ParseFlags(int argc, char** argv, Flags* f) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--port") {
      f->port = static_cast<uint16_t>(std::atoi(next().c_str()));
    } else if (a == "--name") {
      f->name = next();
    } else if (a == "--target") {
      f->target = next();
    } else if (a == "--mode") {
      f->mode = next();
    } else if (a == "--connections") {
      f->connections = std::atoi(next().c_str());
    } else if (a == "--threads") {
      f->threads = std::atoi(next().c_str());
    } else if (a == "--seconds") {
      f->seconds = std::atof(next().c_str());
    } else if (a == "--rate") {
      f->rate = std::atof(next().c_str());
    } else if (a == "--get") {  // GET requests without a body (the transport's own cost)
      f->get = true;
    } else if (a == "--rows") {
      f->rows = std::atoi(next().c_str());
    } else {
      std::fprintf(stderr, "track_bench: unknown argument %s\n", a.c_str());
      return false;
    }
  }
  if (f->port == 0 || f->connections < 1 || f->threads < 1 || f->rows < 1 || f->seconds <= 0 ||
      (f->mode != "max" && f->mode != "rate") || (f->mode == "rate" && f->rate <= 0)) {
    std::fprintf(stderr,
                 "usage: track_bench --port P [--name N] [--target PATH] [--mode max|rate] "
                 "[--rate REQ_PER_S] [--connections 64] [--threads 1] [--seconds 10] "
                 "[--rows 1]\n");
    return false;
  }
  f->threads = std::min(f->threads, f->connections);
  return true;
}

// The body of request `n` of connection `c`: `rows` events, distinct user ids.
void AppendBody(int c, uint64_t n, int rows, std::string* body) {
  static constexpr const char* kTypes[] = {"View", "View", "View", "Download", "Like"};
  for (int r = 0; r < rows; ++r) {
    uint64_t id = (static_cast<uint64_t>(c) << 40) + n * static_cast<uint64_t>(rows) + r;
    fmt::format_to(std::back_inserter(*body),
                   "{{\"entityType\":\"Model\",\"entityId\":{},\"userId\":{},\"metricType\":\"{}\","
                   "\"metricValue\":1}}\n",
                   id % 100000, id % 1000000, kTypes[id % 5]);
  }
}

// One keep-alive connection: at most one request in flight.
struct Conn {
  int fd = -1;
  int index = 0;    // over all threads, for the event ids
  uint64_t n = 0;   // requests sent
  std::string out;  // the request being sent
  size_t sent = 0;
  std::string in;  // the answer being read
  bool busy = false;
  Clock::time_point scheduled;  // when the request in flight was due (rate) or sent (max)
  Clock::time_point next;       // rate mode: when the next request is due
};

struct Results {
  uint64_t requests = 0;  // answered
  uint64_t errors = 0;
  uint64_t rows_acknowledged = 0;
  std::string first_error;
  std::vector<double> latency_ms;
};

// The length of a whole HTTP answer at the front of `in` and its status, or 0 if more bytes are
// needed. Bodies come with Content-Length or chunked (ClickHouse chunks its answers).
size_t WholeAnswer(const std::string& in, int* status, std::string* error) {
  size_t end = in.find("\r\n\r\n");
  if (end == std::string::npos) return 0;
  if (in.compare(0, 9, "HTTP/1.1 ") != 0 || in.size() < 12) {
    *error = "not an HTTP/1.1 answer: " + in.substr(0, 40);
    return std::string::npos;
  }
  *status = std::atoi(in.c_str() + 9);
  size_t length = 0;
  bool chunked = false;
  for (size_t pos = in.find("\r\n") + 2; pos < end;) {
    size_t eol = in.find("\r\n", pos);
    if (eol - pos > 15 && strncasecmp(in.data() + pos, "content-length:", 15) == 0) {
      length = std::strtoull(in.c_str() + pos + 15, nullptr, 10);
    } else if (eol - pos > 18 && strncasecmp(in.data() + pos, "transfer-encoding:", 18) == 0) {
      chunked = in.find("chunked", pos) < eol;
    }
    pos = eol + 2;
  }
  if (!chunked) {
    size_t total = end + 4 + length;
    return in.size() >= total ? total : 0;
  }
  // Chunks: a hex size line, the bytes, CRLF; the last has size 0 and ends with an empty line.
  for (size_t pos = end + 4;;) {
    size_t eol = in.find("\r\n", pos);
    if (eol == std::string::npos) return 0;
    size_t size = std::strtoull(in.c_str() + pos, nullptr, 16);
    if (size == 0) {
      size_t last = in.find("\r\n\r\n", eol);  // after any trailer fields
      return last == std::string::npos ? 0 : last + 4;
    }
    pos = eol + 2 + size + 2;
    if (pos > in.size()) return 0;
  }
}

class Loop {
 public:
  Loop(const Flags& f, Clock::time_point start, Clock::time_point end)
      : f_(f), start_(start), end_(end), ep_(epoll_create1(EPOLL_CLOEXEC)) {}
  ~Loop() {
    for (Conn& c : conns_) {
      if (c.fd >= 0) ::close(c.fd);
    }
    ::close(ep_);
  }

  bool Connect(int index, double interval_s) {
    Conn c;
    c.index = index;
    c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(f_.port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (c.fd < 0 || ::connect(c.fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      results_.errors = 1;
      results_.first_error = fmt::format("connect to port {}: {}", f_.port, std::strerror(errno));
      return false;
    }
    int one = 1;
    ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    ::fcntl(c.fd, F_SETFL, O_NONBLOCK);
    // Connections start their schedules evenly spread over one interval.
    c.next = start_ + std::chrono::duration_cast<Clock::duration>(
                          std::chrono::duration<double>(interval_s * index / f_.connections));
    conns_.push_back(std::move(c));
    return true;
  }

  void Run(double interval_s) {
    interval_ =
        std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(interval_s));
    for (size_t i = 0; i < conns_.size(); ++i) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = i;
      epoll_ctl(ep_, EPOLL_CTL_ADD, conns_[i].fd, &ev);
    }
    std::this_thread::sleep_until(start_);
    std::vector<epoll_event> events(conns_.size());
    while (true) {
      Clock::time_point now = Clock::now();
      // Send what is due; stop sending at the end and finish once nothing is in flight.
      bool in_flight = false;
      Clock::time_point wake = end_;
      for (Conn& c : conns_) {
        if (!c.busy && now < end_ && (f_.mode == "max" || c.next <= now)) Send(c, now);
        if (c.busy) in_flight = true;
        if (!c.busy && f_.mode == "rate") wake = std::min(wake, c.next);
      }
      if (!in_flight && now >= end_) break;
      if (in_flight && now >= end_ + std::chrono::seconds(10)) {
        Fail("answers still missing 10 s after the end");
        break;
      }
      // Sleep until the next request is due (rate mode, or nothing in flight), at most 1 s.
      Clock::duration wait = std::chrono::seconds(1);
      if (f_.mode == "rate" || !in_flight) {
        wait = std::min<Clock::duration>(wait, std::max<Clock::duration>(wake - now, {}));
      }
      timespec timeout{};
      auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(wait).count();
      timeout.tv_sec = ns / 1'000'000'000;
      timeout.tv_nsec = ns % 1'000'000'000;
      int n = epoll_pwait2(ep_, events.data(), static_cast<int>(events.size()), &timeout, nullptr);
      for (int i = 0; i < n; ++i) Receive(conns_[events[i].data.u64]);
      if (fatal_) break;
    }
  }

  Results& results() { return results_; }

 private:
  void Fail(const std::string& what) {
    ++results_.errors;
    if (results_.first_error.empty()) results_.first_error = what;
  }

  void Send(Conn& c, Clock::time_point now) {
    std::string body;
    if (!f_.get) AppendBody(c.index, c.n++, f_.rows, &body);
    c.out.clear();
    if (f_.get)
      fmt::format_to(std::back_inserter(c.out), "GET {} HTTP/1.1\r\nHost: x\r\n\r\n", f_.target);
    else
      fmt::format_to(std::back_inserter(c.out),
                     "POST {} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-ndjson\r\n"
                     "Content-Length: {}\r\n\r\n",
                     f_.target, body.size());
    c.out += body;
    c.sent = 0;
    c.busy = true;
    c.scheduled = f_.mode == "rate" ? c.next : now;
    if (f_.mode == "rate") c.next += interval_;
    while (c.sent < c.out.size()) {
      ssize_t w = ::send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
      if (w > 0) {
        c.sent += static_cast<size_t>(w);
      } else if (w < 0 && errno == EINTR) {
        continue;
      } else if (w < 0 && errno == EAGAIN) {
        // Rare for these sizes: finish the send blocking-wise, bounded by the server reading.
        pollfd p{c.fd, POLLOUT, 0};
        ::poll(&p, 1, 1000);
      } else {
        Fail(fmt::format("send: {}", std::strerror(errno)));
        fatal_ = true;
        return;
      }
    }
  }

  void Receive(Conn& c) {
    char buf[16384];
    while (true) {
      ssize_t r = ::recv(c.fd, buf, sizeof(buf), 0);
      if (r > 0) {
        c.in.append(buf, static_cast<size_t>(r));
        continue;
      }
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && errno == EAGAIN) break;
      Fail(r == 0 ? "the server closed a connection"
                  : fmt::format("recv: {}", std::strerror(errno)));
      fatal_ = true;
      return;
    }
    while (c.busy) {
      int status = 0;
      std::string error;
      size_t len = WholeAnswer(c.in, &status, &error);
      if (len == std::string::npos) {
        Fail(error);
        fatal_ = true;
        return;
      }
      if (len == 0) return;
      auto done = Clock::now();
      ++results_.requests;
      if (status == 200) {
        results_.rows_acknowledged += static_cast<uint64_t>(f_.rows);
      } else {
        size_t body = c.in.find("\r\n\r\n") + 4;
        Fail(fmt::format("HTTP {}: {}", status,
                         c.in.substr(body, std::min<size_t>(200, len - body))));
      }
      results_.latency_ms.push_back(
          std::chrono::duration<double, std::milli>(done - c.scheduled).count());
      c.in.erase(0, len);
      c.busy = false;
    }
  }

  const Flags& f_;
  const Clock::time_point start_, end_;
  Clock::duration interval_{};
  const int ep_;
  std::vector<Conn> conns_;
  Results results_;
  bool fatal_ = false;
};

int Run(const Flags& f) {
  const auto start = Clock::now() + std::chrono::milliseconds(300);  // all connected by then
  const auto end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(f.seconds));
  // Each connection sends every interval_s in rate mode.
  const double interval_s = f.mode == "rate" ? f.connections / f.rate : 0;
  std::vector<std::unique_ptr<Loop>> loops;
  for (int t = 0; t < f.threads; ++t) loops.push_back(std::make_unique<Loop>(f, start, end));
  bool connected = true;
  for (int c = 0; c < f.connections && connected; ++c) {
    connected = loops[c % f.threads]->Connect(c, interval_s);
  }
  std::vector<std::thread> threads;
  if (connected) {
    for (auto& loop : loops) threads.emplace_back([&loop, interval_s] { loop->Run(interval_s); });
  }
  for (auto& t : threads) t.join();

  Results all;
  for (auto& loop : loops) {
    Results& r = loop->results();
    all.requests += r.requests;
    all.errors += r.errors;
    all.rows_acknowledged += r.rows_acknowledged;
    if (all.first_error.empty()) all.first_error = r.first_error;
    all.latency_ms.insert(all.latency_ms.end(), r.latency_ms.begin(), r.latency_ms.end());
  }
  std::sort(all.latency_ms.begin(), all.latency_ms.end());
  auto pct = [&](double p) {
    if (all.latency_ms.empty()) return 0.0;
    size_t i = std::min(all.latency_ms.size() - 1,
                        static_cast<size_t>(p * static_cast<double>(all.latency_ms.size())));
    return all.latency_ms[i];
  };
  double rps = static_cast<double>(all.requests) / f.seconds;
  std::printf(
      "{\"bench\":\"track\",\"server\":\"%s\",\"mode\":\"%s\",\"connections\":%d,\"rows\":%d,"
      "\"seconds\":%.1f,\"target_rate\":%.0f,\"requests\":%llu,\"errors\":%llu,"
      "\"rows_acknowledged\":%llu,\"requests_per_s\":%.0f,\"rows_per_s\":%.0f,\"p50_ms\":%.3f,"
      "\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f}\n",
      f.name.c_str(), f.mode.c_str(), f.connections, f.rows, f.seconds, f.rate,
      static_cast<unsigned long long>(all.requests), static_cast<unsigned long long>(all.errors),
      static_cast<unsigned long long>(all.rows_acknowledged), rps, rps * f.rows, pct(0.5),
      pct(0.99), pct(0.999), all.latency_ms.empty() ? 0.0 : all.latency_ms.back());
  if (all.errors > 0) {
    std::fprintf(stderr, "track_bench: %llu of %llu requests failed; first: %s\n",
                 static_cast<unsigned long long>(all.errors),
                 static_cast<unsigned long long>(all.requests), all.first_error.c_str());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace trackhouse::bench

int main(int argc, char** argv) {
  trackhouse::bench::Flags f;
  if (!trackhouse::bench::ParseFlags(argc, argv, &f)) return 2;
  return trackhouse::bench::Run(f);
}
