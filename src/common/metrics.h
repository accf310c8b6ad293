// Process-wide named counters and gauges, exported on /metrics in Prometheus text format.
//
// Every failure path bumps a counter here. Counters are registered once by name (the first
// registration's help text wins) and live for the whole process; the returned references stay
// valid forever. Registration takes a lock; Add/Set are lock-free. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace trackhouse::metrics {

class Counter {
 public:
  void Add(int64_t n = 1) { v_.fetch_add(n, std::memory_order_relaxed); }
  int64_t value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> v_{0};
};

class Gauge {
 public:
  void Set(int64_t v) { v_.store(v, std::memory_order_relaxed); }
  void Add(int64_t n) { v_.fetch_add(n, std::memory_order_relaxed); }
  int64_t value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> v_{0};
};

// Names follow Prometheus: "trackhouse_log_syncs_total".
Counter& GetCounter(std::string_view name, std::string_view help);
Gauge& GetGauge(std::string_view name, std::string_view help);

// All registered metrics in Prometheus text exposition format, sorted by name.
std::string RenderPrometheus();

// The current value of a registered counter or gauge, 0 if none has that name (for tests).
int64_t ValueOf(std::string_view name);

}  // namespace trackhouse::metrics
