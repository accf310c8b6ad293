#include "common/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace trackhouse::metrics {
namespace {

[[noreturn]] void Fatal(std::string_view what, std::string_view name) {
  std::fprintf(stderr, "metrics: %.*s: %.*s\n", static_cast<int>(what.size()), what.data(),
               static_cast<int>(name.size()), name.data());
  std::abort();
}

// Prometheus text format: label values escape backslash, double quote and newline; help text
// escapes backslash and newline.
void AppendEscaped(std::string& out, std::string_view s, bool quote) {
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

// `{a="x",b="y"` plus `extra` (already formatted, e.g. `le="0.5"`), then `}`; nothing when there
// are no labels at all.
void AppendLabels(std::string& out, const std::vector<std::string>& names,
                  const std::vector<std::string>& values, std::string_view extra = {}) {
  if (names.empty() && extra.empty()) return;
  out += '{';
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    out += names[i];
    out += "=\"";
    AppendEscaped(out, values[i], true);
    out += '"';
  }
  if (!extra.empty()) {
    if (!names.empty()) out += ',';
    out += extra;
  }
  out += '}';
}

std::string FormatDouble(double v) { return fmt::format("{}", v); }

void AppendSeries(std::string& out, std::string_view name,
                  const std::vector<std::string>& label_names,
                  const std::vector<std::string>& values, int64_t v) {
  out += name;
  AppendLabels(out, label_names, values);
  out += ' ';
  out += std::to_string(v);
  out += '\n';
}

void AppendHistogram(std::string& out, std::string_view name,
                     const std::vector<std::string>& label_names,
                     const std::vector<std::string>& values, const Histogram& h) {
  int64_t cumulative = 0;
  const std::vector<double>& bounds = h.bounds();
  for (size_t i = 0; i <= bounds.size(); ++i) {
    cumulative += h.bucket(i);
    out += name;
    out += "_bucket";
    std::string le = "le=\"" + (i < bounds.size() ? FormatDouble(bounds[i]) : "+Inf") + "\"";
    AppendLabels(out, label_names, values, le);
    out += ' ';
    out += std::to_string(cumulative);
    out += '\n';
  }
  out += name;
  out += "_sum";
  AppendLabels(out, label_names, values);
  out += ' ';
  out += FormatDouble(h.sum());
  out += '\n';
  out += name;
  out += "_count";
  AppendLabels(out, label_names, values);
  out += ' ';
  out += std::to_string(cumulative);
  out += '\n';
}

// The values of `labels` in the order of `names`, or false if they do not name exactly those.
bool OrderLabels(const std::vector<std::string>& names, const Labels& labels,
                 std::vector<std::string>* values) {
  if (labels.size() != names.size()) return false;
  values->assign(names.size(), std::string());
  std::vector<bool> seen(names.size(), false);
  for (const auto& [k, v] : labels) {
    auto it = std::find(names.begin(), names.end(), k);
    if (it == names.end()) return false;
    size_t i = static_cast<size_t>(it - names.begin());
    if (seen[i]) return false;
    seen[i] = true;
    (*values)[i] = v;
  }
  return true;
}

template <typename A, typename B>
bool LexLess(const A& a, const B& b) {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                      [](std::string_view x, std::string_view y) { return x < y; });
}

template <typename M>
std::unique_ptr<M> NewSeries(const std::vector<double>& bounds) {
  return std::make_unique<M>();
}

template <>
std::unique_ptr<Histogram> NewSeries<Histogram>(const std::vector<double>& bounds) {
  return std::make_unique<Histogram>(bounds);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Histogram

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(std::make_unique<std::atomic<int64_t>[]>(bounds_.size() + 1)) {
  for (size_t i = 1; i < bounds_.size(); ++i) {
    if (!(bounds_[i - 1] < bounds_[i])) Fatal("histogram bounds not ascending", "");
  }
}

void Histogram::Observe(double v) {
  if (std::isnan(v)) return;
  size_t i =
      static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

int64_t Histogram::count() const {
  int64_t n = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) n += bucket(i);
  return n;
}

// ---------------------------------------------------------------------------------------------
// Family

template <typename M>
bool Family<M>::Less::operator()(const std::vector<std::string>& a,
                                 const std::vector<std::string>& b) const {
  return a < b;
}
template <typename M>
bool Family<M>::Less::operator()(const std::vector<std::string>& a,
                                 std::span<const std::string_view> b) const {
  return LexLess(a, b);
}
template <typename M>
bool Family<M>::Less::operator()(std::span<const std::string_view> a,
                                 const std::vector<std::string>& b) const {
  return LexLess(a, b);
}

template <typename M>
Family<M>::Family(std::string name, std::vector<std::string> label_names,
                  std::vector<double> bounds, Counter* overflow)
    : name_(std::move(name)),
      label_names_(std::move(label_names)),
      bounds_(std::move(bounds)),
      overflow_(overflow) {}

template <typename M>
M& Family<M>::With(std::span<const std::string_view> values) {
  if (values.size() != label_names_.size()) {
    Fatal("wrong number of label values", name_);
  }
  std::lock_guard lock(mu_);
  auto it = series_.find(values);
  if (it != series_.end()) return *it->second;
  std::vector<std::string> key(values.begin(), values.end());
  if (series_.size() >= kMaxSeriesPerFamily) {
    // Full: fold into the one series whose labels are all "other" (it may already exist).
    overflow_->Add();
    key.assign(label_names_.size(), "other");
    auto [other, inserted] = series_.try_emplace(std::move(key));
    if (inserted) other->second = NewSeries<M>(bounds_);
    return *other->second;
  }
  return *series_.emplace(std::move(key), NewSeries<M>(bounds_)).first->second;
}

template <typename M>
const M* Family<M>::Find(std::span<const std::string_view> values) const {
  std::lock_guard lock(mu_);
  auto it = series_.find(values);
  return it == series_.end() ? nullptr : it->second.get();
}

template <typename M>
void Family<M>::ForEach(
    const std::function<void(const std::vector<std::string>&, const M&)>& fn) const {
  std::lock_guard lock(mu_);
  for (const auto& [values, m] : series_) fn(values, *m);
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

// ---------------------------------------------------------------------------------------------
// Registry

struct Registry::Impl {
  enum class Kind { kCounter, kGauge, kHistogram, kCollected };
  struct Entry {
    std::string help;
    Kind kind;
    std::vector<std::string> label_names;
    std::vector<double> bounds;
    std::unique_ptr<CounterFamily> counters;
    std::unique_ptr<GaugeFamily> gauges;
    std::unique_ptr<HistogramFamily> histograms;
  };
  struct CollectorEntry {
    std::string name;
    Collector fn;
  };

  // Lock order: mu before a family's lock. collectors_mu is never held with mu.
  mutable std::mutex mu;
  std::map<std::string, Entry, std::less<>> entries;  // GUARDED_BY(mu)
  Counter* overflow = nullptr;  // trackhouse_metrics_label_overflow_total, set in the ctor

  mutable std::mutex collectors_mu;               // held while a collector runs
  std::map<uint64_t, CollectorEntry> collectors;  // GUARDED_BY(collectors_mu)
  uint64_t next_collector_id = 1;                 // GUARDED_BY(collectors_mu)

  Entry& Register(std::string_view name, std::string_view help, Kind kind,
                  std::vector<std::string> label_names, std::vector<double> bounds) {
    auto it = entries.find(name);
    if (it != entries.end()) {
      Entry& e = it->second;
      if (e.kind != kind) Fatal("registered again as another kind", name);
      if (e.label_names != label_names) Fatal("registered again with other labels", name);
      if (e.bounds != bounds) Fatal("registered again with other buckets", name);
      return e;
    }
    Entry e{std::string(help), kind, label_names, bounds, nullptr, nullptr, nullptr};
    switch (kind) {
      case Kind::kCounter:
        e.counters = std::make_unique<CounterFamily>(std::string(name), std::move(label_names),
                                                     bounds, overflow);
        break;
      case Kind::kGauge:
        e.gauges = std::make_unique<GaugeFamily>(std::string(name), std::move(label_names), bounds,
                                                 overflow);
        break;
      case Kind::kHistogram:
        e.histograms = std::make_unique<HistogramFamily>(std::string(name), std::move(label_names),
                                                         bounds, overflow);
        break;
      case Kind::kCollected:
        break;
    }
    return entries.emplace(std::string(name), std::move(e)).first->second;
  }

  // The histogram series, or nullptr; series live as long as the registry.
  const Histogram* FindHistogram(std::string_view name, const Labels& labels) const {
    std::lock_guard lock(mu);
    auto it = entries.find(name);
    if (it == entries.end() || it->second.kind != Kind::kHistogram) return nullptr;
    std::vector<std::string> values;
    if (!OrderLabels(it->second.label_names, labels, &values)) return nullptr;
    std::vector<std::string_view> views(values.begin(), values.end());
    return it->second.histograms->Find(views);
  }

  // Runs every collector registered under `name` and sums samples with equal label values.
  std::map<std::vector<std::string>, int64_t> Collect(std::string_view name,
                                                      size_t label_count) const {
    std::map<std::vector<std::string>, int64_t> out;
    std::lock_guard lock(collectors_mu);
    for (const auto& [id, c] : collectors) {
      if (c.name != name) continue;
      for (Sample& s : c.fn()) {
        if (s.label_values.size() != label_count) Fatal("collector returned wrong labels", name);
        out[std::move(s.label_values)] += s.value;
      }
    }
    return out;
  }
};

Registry::Registry() : impl_(std::make_unique<Impl>()) {
  impl_->overflow =
      &GetCounterFamily("trackhouse_metrics_label_overflow_total",
                        "Label values folded into the \"other\" series because a metric family "
                        "held its maximum number of series",
                        {})
           .With(std::span<const std::string_view>());
}

Registry::~Registry() = default;

Registry& Registry::Default() {
  static Registry* r = new Registry();  // never destroyed: references outlive static dtors
  return *r;
}

CounterFamily& Registry::GetCounterFamily(std::string_view name, std::string_view help,
                                          std::vector<std::string> label_names) {
  std::lock_guard lock(impl_->mu);
  return *impl_->Register(name, help, Impl::Kind::kCounter, std::move(label_names), {}).counters;
}

GaugeFamily& Registry::GetGaugeFamily(std::string_view name, std::string_view help,
                                      std::vector<std::string> label_names) {
  std::lock_guard lock(impl_->mu);
  return *impl_->Register(name, help, Impl::Kind::kGauge, std::move(label_names), {}).gauges;
}

HistogramFamily& Registry::GetHistogramFamily(std::string_view name, std::string_view help,
                                              std::vector<std::string> label_names,
                                              std::vector<double> bounds) {
  std::lock_guard lock(impl_->mu);
  return *impl_
              ->Register(name, help, Impl::Kind::kHistogram, std::move(label_names),
                         std::move(bounds))
              .histograms;
}

CollectorHandle Registry::RegisterCollectedGauge(std::string_view name, std::string_view help,
                                                 std::vector<std::string> label_names,
                                                 Collector fn) {
  {
    std::lock_guard lock(impl_->mu);
    impl_->Register(name, help, Impl::Kind::kCollected, std::move(label_names), {});
  }
  std::lock_guard lock(impl_->collectors_mu);
  uint64_t id = impl_->next_collector_id++;
  impl_->collectors.emplace(id, Impl::CollectorEntry{std::string(name), std::move(fn)});
  return CollectorHandle(this, id);
}

void Registry::Unregister(uint64_t collector_id) {
  std::lock_guard lock(impl_->collectors_mu);
  impl_->collectors.erase(collector_id);
}

std::string Registry::RenderPrometheus() const {
  // Families are rendered under mu; collected gauges after it is released (their callbacks take
  // other components' locks, which may be held while those components register metrics).
  struct Collected {
    std::string name;
    std::string help;
    std::vector<std::string> label_names;
  };
  std::map<std::string, std::string, std::less<>> texts;  // name -> its lines
  std::vector<Collected> collected;
  {
    std::lock_guard lock(impl_->mu);
    for (const auto& entry : impl_->entries) {
      const std::string& name = entry.first;  // not a structured binding: lambdas capture it
      const Impl::Entry& e = entry.second;
      if (e.kind == Impl::Kind::kCollected) {
        collected.push_back({name, e.help, e.label_names});
        continue;
      }
      std::string& out = texts[name];
      out += "# HELP " + name + " ";
      AppendEscaped(out, e.help, false);
      out += "\n# TYPE " + name;
      switch (e.kind) {
        case Impl::Kind::kCounter:
          out += " counter\n";
          e.counters->ForEach([&](const std::vector<std::string>& values, const Counter& c) {
            AppendSeries(out, name, e.label_names, values, c.value());
          });
          break;
        case Impl::Kind::kGauge:
          out += " gauge\n";
          e.gauges->ForEach([&](const std::vector<std::string>& values, const Gauge& g) {
            AppendSeries(out, name, e.label_names, values, g.value());
          });
          break;
        case Impl::Kind::kHistogram:
          out += " histogram\n";
          e.histograms->ForEach([&](const std::vector<std::string>& values, const Histogram& h) {
            AppendHistogram(out, name, e.label_names, values, h);
          });
          break;
        case Impl::Kind::kCollected:
          break;
      }
    }
  }
  for (const Collected& c : collected) {
    std::string& out = texts[c.name];
    out += "# HELP " + c.name + " ";
    AppendEscaped(out, c.help, false);
    out += "\n# TYPE " + c.name + " gauge\n";
    for (const auto& [values, v] : impl_->Collect(c.name, c.label_names.size())) {
      AppendSeries(out, c.name, c.label_names, values, v);
    }
  }
  std::string out;
  for (const auto& [name, text] : texts) out += text;
  return out;
}

int64_t Registry::ValueOf(std::string_view name, const Labels& labels) const {
  std::vector<std::string> values;
  std::vector<std::string_view> views;
  {
    std::lock_guard lock(impl_->mu);
    auto it = impl_->entries.find(name);
    if (it == impl_->entries.end()) return 0;
    const Impl::Entry& e = it->second;
    if (!OrderLabels(e.label_names, labels, &values)) return 0;
    views.assign(values.begin(), values.end());
    switch (e.kind) {
      case Impl::Kind::kCounter: {
        const Counter* c = e.counters->Find(views);
        return c == nullptr ? 0 : c->value();
      }
      case Impl::Kind::kGauge: {
        const Gauge* g = e.gauges->Find(views);
        return g == nullptr ? 0 : g->value();
      }
      case Impl::Kind::kHistogram:
        return 0;
      case Impl::Kind::kCollected:
        break;
    }
  }
  auto samples = impl_->Collect(name, values.size());
  auto it = samples.find(values);
  return it == samples.end() ? 0 : it->second;
}

int64_t Registry::HistogramCount(std::string_view name, const Labels& labels) const {
  const Histogram* h = impl_->FindHistogram(name, labels);
  return h == nullptr ? 0 : h->count();
}

double Registry::HistogramSum(std::string_view name, const Labels& labels) const {
  const Histogram* h = impl_->FindHistogram(name, labels);
  return h == nullptr ? 0 : h->sum();
}

// ---------------------------------------------------------------------------------------------
// CollectorHandle

CollectorHandle::CollectorHandle(CollectorHandle&& other) noexcept
    : registry_(std::exchange(other.registry_, nullptr)), id_(std::exchange(other.id_, 0)) {}

CollectorHandle& CollectorHandle::operator=(CollectorHandle&& other) noexcept {
  if (this != &other) {
    Reset();
    registry_ = std::exchange(other.registry_, nullptr);
    id_ = std::exchange(other.id_, 0);
  }
  return *this;
}

void CollectorHandle::Reset() {
  if (registry_ != nullptr) registry_->Unregister(id_);
  registry_ = nullptr;
  id_ = 0;
}

// ---------------------------------------------------------------------------------------------
// The default registry

Counter& GetCounter(std::string_view name, std::string_view help) {
  return Registry::Default()
      .GetCounterFamily(name, help, {})
      .With(std::span<const std::string_view>());
}

Gauge& GetGauge(std::string_view name, std::string_view help) {
  return Registry::Default()
      .GetGaugeFamily(name, help, {})
      .With(std::span<const std::string_view>());
}

Histogram& GetHistogram(std::string_view name, std::string_view help, std::vector<double> bounds) {
  return Registry::Default()
      .GetHistogramFamily(name, help, {}, std::move(bounds))
      .With(std::span<const std::string_view>());
}

CounterFamily& GetCounterFamily(std::string_view name, std::string_view help,
                                std::vector<std::string> label_names) {
  return Registry::Default().GetCounterFamily(name, help, std::move(label_names));
}

GaugeFamily& GetGaugeFamily(std::string_view name, std::string_view help,
                            std::vector<std::string> label_names) {
  return Registry::Default().GetGaugeFamily(name, help, std::move(label_names));
}

HistogramFamily& GetHistogramFamily(std::string_view name, std::string_view help,
                                    std::vector<std::string> label_names,
                                    std::vector<double> bounds) {
  return Registry::Default().GetHistogramFamily(name, help, std::move(label_names),
                                                std::move(bounds));
}

CollectorHandle RegisterCollectedGauge(std::string_view name, std::string_view help,
                                       std::vector<std::string> label_names, Collector fn) {
  return Registry::Default().RegisterCollectedGauge(name, help, std::move(label_names),
                                                    std::move(fn));
}

std::string RenderPrometheus() { return Registry::Default().RenderPrometheus(); }

int64_t ValueOf(std::string_view name, const Labels& labels) {
  return Registry::Default().ValueOf(name, labels);
}

int64_t HistogramCount(std::string_view name, const Labels& labels) {
  return Registry::Default().HistogramCount(name, labels);
}

double HistogramSum(std::string_view name, const Labels& labels) {
  return Registry::Default().HistogramSum(name, labels);
}

}  // namespace trackhouse::metrics
