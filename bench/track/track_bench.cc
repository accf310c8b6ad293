// track_bench: the load generator of the tracking benchmark (bench/track/run.sh,
// docs/BENCHMARKS.md). It posts events to a server on loopback over keep-alive connections, one
// connection per thread, for a bounded time, and prints one JSON line of results:
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
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "bench/query/http_connection.h"

namespace trackhouse::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Flags {
  uint16_t port = 0;
  std::string name = "server";
  std::string target = "/track/entityMetricEvents";
  std::string mode = "max";
  int connections = 64;
  double seconds = 10;
  double rate = 0;  // requests per second, mode rate
  int rows = 1;
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
    } else if (a == "--seconds") {
      f->seconds = std::atof(next().c_str());
    } else if (a == "--rate") {
      f->rate = std::atof(next().c_str());
    } else if (a == "--rows") {
      f->rows = std::atoi(next().c_str());
    } else {
      std::fprintf(stderr, "track_bench: unknown argument %s\n", a.c_str());
      return false;
    }
  }
  if (f->port == 0 || f->connections < 1 || f->rows < 1 || f->seconds <= 0 ||
      (f->mode != "max" && f->mode != "rate") || (f->mode == "rate" && f->rate <= 0)) {
    std::fprintf(stderr,
                 "usage: track_bench --port P [--name N] [--target PATH] [--mode max|rate] "
                 "[--rate REQ_PER_S] [--connections 64] [--seconds 10] [--rows 1]\n");
    return false;
  }
  return true;
}

// The body of request `n` of connection `c`: `rows` events, distinct user ids.
std::string Body(int c, uint64_t n, int rows) {
  std::string body;
  static constexpr const char* kTypes[] = {"View", "View", "View", "Download", "Like"};
  for (int r = 0; r < rows; ++r) {
    uint64_t id = (static_cast<uint64_t>(c) << 40) + n * static_cast<uint64_t>(rows) + r;
    body += fmt::format(
        "{{\"entityType\":\"Model\",\"entityId\":{},\"userId\":{},\"metricType\":\"{}\","
        "\"metricValue\":1}}\n",
        id % 100000, id % 1000000, kTypes[id % 5]);
  }
  return body;
}

struct Worker {
  uint64_t requests = 0;
  uint64_t errors = 0;
  std::string first_error;
  std::vector<double> latency_ms;
};

int Run(const Flags& f) {
  std::vector<Worker> workers(f.connections);
  std::vector<std::thread> threads;
  const auto start = Clock::now() + std::chrono::milliseconds(200);  // all connected by then
  const auto end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(f.seconds));
  const double interval_s = f.mode == "rate" ? f.connections / f.rate : 0;
  for (int c = 0; c < f.connections; ++c) {
    threads.emplace_back([&, c] {
      Worker& w = workers[c];
      auto conn = HttpConnection::Open(f.port, 10000);
      if (!conn.ok()) {
        w.errors = 1;
        w.first_error = conn.status().ToString();
        return;
      }
      std::this_thread::sleep_until(start);
      // Connections start their schedules evenly spread over one interval.
      auto next = start + std::chrono::duration_cast<Clock::duration>(
                              std::chrono::duration<double>(interval_s * c / f.connections));
      for (uint64_t n = 0;; ++n) {
        std::string body = Body(c, n, f.rows);
        if (f.mode == "rate") {
          if (next >= end) break;
          std::this_thread::sleep_until(next);
        } else if (Clock::now() >= end) {
          break;
        }
        auto sent = f.mode == "rate" ? next : Clock::now();
        auto r = (*conn)->Post(f.target, body);
        auto done = Clock::now();
        ++w.requests;
        if (!r.ok() || r->status != 200) {
          ++w.errors;
          if (w.first_error.empty()) {
            w.first_error = r.ok() ? fmt::format("HTTP {}: {}", r->status, r->body.substr(0, 200))
                                   : r.status().ToString();
          }
        }
        w.latency_ms.push_back(std::chrono::duration<double, std::milli>(done - sent).count());
        if (f.mode == "rate") {
          next += std::chrono::duration_cast<Clock::duration>(
              std::chrono::duration<double>(interval_s));
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  uint64_t requests = 0, errors = 0;
  std::vector<double> all;
  std::string first_error;
  for (auto& w : workers) {
    requests += w.requests;
    errors += w.errors;
    if (first_error.empty()) first_error = w.first_error;
    all.insert(all.end(), w.latency_ms.begin(), w.latency_ms.end());
  }
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) {
    if (all.empty()) return 0.0;
    size_t i = std::min(all.size() - 1, static_cast<size_t>(p * static_cast<double>(all.size())));
    return all[i];
  };
  double rps = static_cast<double>(requests) / f.seconds;
  std::printf(
      "{\"bench\":\"track\",\"server\":\"%s\",\"mode\":\"%s\",\"connections\":%d,\"rows\":%d,"
      "\"seconds\":%.1f,\"target_rate\":%.0f,\"requests\":%llu,\"errors\":%llu,"
      "\"requests_per_s\":%.0f,\"rows_per_s\":%.0f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,"
      "\"p999_ms\":%.3f,\"max_ms\":%.3f}\n",
      f.name.c_str(), f.mode.c_str(), f.connections, f.rows, f.seconds, f.rate,
      static_cast<unsigned long long>(requests), static_cast<unsigned long long>(errors), rps,
      rps * f.rows, pct(0.5), pct(0.99), pct(0.999), all.empty() ? 0.0 : all.back());
  if (errors > 0) {
    std::fprintf(stderr, "track_bench: %llu of %llu requests failed; first: %s\n",
                 static_cast<unsigned long long>(errors), static_cast<unsigned long long>(requests),
                 first_error.c_str());
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
