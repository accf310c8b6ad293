// Process-wide metrics, exported on /metrics in Prometheus text format (docs/metrics.md lists
// every metric trackhouse exports).
//
// Four kinds, each registered once by name in a Registry (the first registration's help text
// wins; registering a name again with another kind or other label names is a programmer bug and
// aborts):
//   - Counter and Gauge: an int64 updated lock-free.
//   - Histogram: fixed bucket upper bounds given at registration; Observe() is lock-free.
//   - Collected gauge: a callback run at render time that reads values from state (parts per
//     table, memtable bytes); registration returns a handle whose destruction unregisters it.
// Counters, gauges and histograms come in labeled families: Family<M>::With(label values)
// returns the series for those values, created on first use and valid for the registry's
// lifetime (the default registry lives for the whole process). A family holds at most
// kMaxSeriesPerFamily series, so that user-controlled label values (table names) cannot grow
// memory without bound; further label values share one series whose labels are all "other" and
// bump trackhouse_metrics_label_overflow_total.
//
// Every failure path bumps a counter here. Thread-safe: registration and With() take a mutex
// (With() does not allocate when the series exists; callers with fixed labels keep the returned
// reference); Counter::Add, Gauge::Set/Add and Histogram::Observe are lock-free.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

// Counts observations into buckets with fixed upper bounds (inclusive, as Prometheus's `le`),
// plus an implicit +Inf bucket, and sums the observed values.
class Histogram {
 public:
  // bounds: strictly ascending, finite.
  explicit Histogram(std::vector<double> bounds);

  void Observe(double v);

  const std::vector<double>& bounds() const { return bounds_; }
  // Observations that fell into bucket i (not cumulative); i == bounds().size() is +Inf.
  int64_t bucket(size_t i) const { return buckets_[i].load(std::memory_order_relaxed); }
  // The number of observations (the sum of the buckets, so always consistent with them).
  int64_t count() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  const std::vector<double> bounds_;
  const std::unique_ptr<std::atomic<int64_t>[]> buckets_;  // bounds_.size() + 1
  std::atomic<double> sum_{0};
};

// Latency bucket bounds in seconds, from 100 µs to 2.5 s.
inline const std::vector<double> kLatencySecondsBuckets = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};

inline constexpr size_t kMaxSeriesPerFamily = 1000;

// The series of one metric, one per tuple of label values. Created by a Registry.
template <typename M>
class Family {
 public:
  Family(std::string name, std::vector<std::string> label_names, std::vector<double> bounds,
         Counter* overflow);
  Family(const Family&) = delete;
  Family& operator=(const Family&) = delete;

  // The series for these label values, one per label name in registration order.
  M& With(std::initializer_list<std::string_view> values) {
    return With(std::span<const std::string_view>(values.begin(), values.size()));
  }
  M& With(std::span<const std::string_view> values);

  // The series for these label values if it exists, else nullptr; never creates one.
  const M* Find(std::span<const std::string_view> values) const;

  const std::string& name() const { return name_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

  // Calls fn(label values, series) for every series, in label-value order.
  void ForEach(const std::function<void(const std::vector<std::string>&, const M&)>& fn) const;

 private:
  // Orders label-value tuples; transparent so that With() looks up a span without copying it.
  struct Less {
    using is_transparent = void;
    bool operator()(const std::vector<std::string>& a, const std::vector<std::string>& b) const;
    bool operator()(const std::vector<std::string>& a, std::span<const std::string_view> b) const;
    bool operator()(std::span<const std::string_view> a, const std::vector<std::string>& b) const;
  };

  const std::string name_;
  const std::vector<std::string> label_names_;
  const std::vector<double> bounds_;  // histograms only
  Counter* const overflow_;           // trackhouse_metrics_label_overflow_total
  mutable std::mutex mu_;
  // At most kMaxSeriesPerFamily series, plus the all-"other" one once the family is full.
  std::map<std::vector<std::string>, std::unique_ptr<M>, Less> series_;  // GUARDED_BY(mu_)
};

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

// One value of a collected gauge: label values (one per label name) and the value.
struct Sample {
  std::vector<std::string> label_values;
  int64_t value = 0;
};
using Collector = std::function<std::vector<Sample>()>;

// Label name/value pairs naming one series, in any order (for ValueOf and the like).
using Labels = std::vector<std::pair<std::string, std::string>>;

class Registry;

// Unregisters its collector when destroyed. Movable; a default-constructed handle holds nothing.
class CollectorHandle {
 public:
  CollectorHandle() = default;
  CollectorHandle(Registry* registry, uint64_t id) : registry_(registry), id_(id) {}
  CollectorHandle(CollectorHandle&& other) noexcept;
  CollectorHandle& operator=(CollectorHandle&& other) noexcept;
  ~CollectorHandle() { Reset(); }

  // Unregisters now; waits for a render that is running the collector to finish with it.
  void Reset();

 private:
  Registry* registry_ = nullptr;
  uint64_t id_ = 0;
};

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // The process-wide registry behind the free functions below; never destroyed.
  static Registry& Default();

  // Names follow Prometheus: "trackhouse_log_syncs_total"; label names are identifiers.
  CounterFamily& GetCounterFamily(std::string_view name, std::string_view help,
                                  std::vector<std::string> label_names);
  GaugeFamily& GetGaugeFamily(std::string_view name, std::string_view help,
                              std::vector<std::string> label_names);
  HistogramFamily& GetHistogramFamily(std::string_view name, std::string_view help,
                                      std::vector<std::string> label_names,
                                      std::vector<double> bounds);

  // fn runs at render time (and in ValueOf), outside the registry's lock but under the
  // collectors' lock, so it must not register metrics or collectors; it may take the caller's
  // own locks as long as the handle is not destroyed under them. Several collectors may share a
  // name (two engines open in one process): samples with equal label values are summed.
  [[nodiscard]] CollectorHandle RegisterCollectedGauge(std::string_view name, std::string_view help,
                                                       std::vector<std::string> label_names,
                                                       Collector fn);
  void Unregister(uint64_t collector_id);

  // Every metric in Prometheus text exposition format, sorted by name, series sorted by labels.
  std::string RenderPrometheus() const;

  // For tests: the value of a counter, gauge or collected gauge series (0 if none), and the
  // count and sum of a histogram series.
  int64_t ValueOf(std::string_view name, const Labels& labels = {}) const;
  int64_t HistogramCount(std::string_view name, const Labels& labels = {}) const;
  double HistogramSum(std::string_view name, const Labels& labels = {}) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The same on Registry::Default().
Counter& GetCounter(std::string_view name, std::string_view help);
Gauge& GetGauge(std::string_view name, std::string_view help);
Histogram& GetHistogram(std::string_view name, std::string_view help, std::vector<double> bounds);
CounterFamily& GetCounterFamily(std::string_view name, std::string_view help,
                                std::vector<std::string> label_names);
GaugeFamily& GetGaugeFamily(std::string_view name, std::string_view help,
                            std::vector<std::string> label_names);
HistogramFamily& GetHistogramFamily(std::string_view name, std::string_view help,
                                    std::vector<std::string> label_names,
                                    std::vector<double> bounds);
[[nodiscard]] CollectorHandle RegisterCollectedGauge(std::string_view name, std::string_view help,
                                                     std::vector<std::string> label_names,
                                                     Collector fn);
std::string RenderPrometheus();
int64_t ValueOf(std::string_view name, const Labels& labels = {});
int64_t HistogramCount(std::string_view name, const Labels& labels = {});
double HistogramSum(std::string_view name, const Labels& labels = {});

}  // namespace trackhouse::metrics
