#include "common/metrics.h"

#include <map>
#include <memory>
#include <mutex>

namespace trackhouse::metrics {
namespace {

struct Entry {
  std::string help;
  bool is_counter;
  std::unique_ptr<Counter> counter;
  std::unique_ptr<Gauge> gauge;
};

struct Registry {
  std::mutex mu;
  std::map<std::string, Entry, std::less<>> entries;
};

Registry& GetRegistry() {
  static Registry* r = new Registry();  // never destroyed: references outlive static dtors
  return *r;
}

}  // namespace

Counter& GetCounter(std::string_view name, std::string_view help) {
  Registry& r = GetRegistry();
  std::lock_guard lock(r.mu);
  auto it = r.entries.find(name);
  if (it == r.entries.end()) {
    Entry e{std::string(help), true, std::make_unique<Counter>(), nullptr};
    it = r.entries.emplace(std::string(name), std::move(e)).first;
  }
  return *it->second.counter;
}

Gauge& GetGauge(std::string_view name, std::string_view help) {
  Registry& r = GetRegistry();
  std::lock_guard lock(r.mu);
  auto it = r.entries.find(name);
  if (it == r.entries.end()) {
    Entry e{std::string(help), false, nullptr, std::make_unique<Gauge>()};
    it = r.entries.emplace(std::string(name), std::move(e)).first;
  }
  return *it->second.gauge;
}

std::string RenderPrometheus() {
  Registry& r = GetRegistry();
  std::lock_guard lock(r.mu);
  std::string out;
  for (const auto& [name, e] : r.entries) {
    out += "# HELP " + name + " " + e.help + "\n";
    out += "# TYPE " + name + (e.is_counter ? " counter\n" : " gauge\n");
    int64_t v = e.is_counter ? e.counter->value() : e.gauge->value();
    out += name + " " + std::to_string(v) + "\n";
  }
  return out;
}

int64_t ValueOf(std::string_view name) {
  Registry& r = GetRegistry();
  std::lock_guard lock(r.mu);
  auto it = r.entries.find(name);
  if (it == r.entries.end()) return 0;
  return it->second.is_counter ? it->second.counter->value() : it->second.gauge->value();
}

}  // namespace trackhouse::metrics
