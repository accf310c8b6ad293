#include "server/session.h"

#include <fmt/format.h>

#include <charconv>

#include "common/metrics.h"

namespace trackhouse::server {
namespace {

struct SessionMetrics {
  metrics::Counter& created =
      metrics::GetCounter("trackhouse_http_sessions_created_total", "HTTP sessions created");
  metrics::Counter& expired = metrics::GetCounter("trackhouse_http_sessions_expired_total",
                                                  "HTTP sessions dropped after session_timeout");
  metrics::Counter& locked = metrics::GetCounter(
      "trackhouse_http_sessions_locked_total",
      "Requests refused because their session was in use by another request (373)");
  metrics::Counter& full =
      metrics::GetCounter("trackhouse_http_sessions_full_total",
                          "New sessions refused because max_sessions sessions were open (503)");
  metrics::Gauge& open = metrics::GetGauge("trackhouse_http_sessions", "HTTP sessions held");
};

SessionMetrics& M() {
  static SessionMetrics* m = new SessionMetrics();
  return *m;
}

}  // namespace

void SessionState::Set(std::string_view name, std::string_view value) {
  for (auto& [n, v] : settings) {
    if (n == name) {
      v = std::string(value);
      return;
    }
  }
  settings.emplace_back(std::string(name), std::string(value));
}

SessionStore::SessionStore(SessionOptions options, Clock* clock)
    : options_(options), clock_(clock) {}

SessionStore::~SessionStore() {
  std::lock_guard lock(mu_);
  M().open.Add(-static_cast<int64_t>(sessions_.size()));
}

Result<uint32_t> SessionStore::ParseTimeout(const std::string* text) const {
  if (text == nullptr) return options_.default_timeout_s;
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (text->empty() || ec != std::errc() || ptr != text->data() + text->size()) {
    return Status::InvalidArgument(fmt::format("Invalid session timeout: '{}'", *text),
                                   ch::kInvalidSessionTimeout);
  }
  if (v > options_.max_timeout_s) {
    return Status::InvalidArgument(
        fmt::format("Session timeout '{}' is larger than max_session_timeout: {}. Maximum "
                    "session timeout could be modified in configuration file",
                    *text, options_.max_timeout_s),
        ch::kInvalidSessionTimeout);
  }
  return static_cast<uint32_t>(v);
}

void SessionStore::SweepLocked(int64_t now) {
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (!it->second->in_use && it->second->expires_micros <= now) {
      it = sessions_.erase(it);
      M().expired.Add();
      M().open.Add(-1);
    } else {
      ++it;
    }
  }
}

Result<SessionStore::Lease> SessionStore::Acquire(std::string_view user, std::string_view id,
                                                  uint32_t timeout_s, bool check) {
  std::string key = fmt::format("{}\n{}", user, id);
  int64_t now = clock_->MonotonicMicros();
  std::lock_guard lock(mu_);
  SweepLocked(now);
  auto it = sessions_.find(key);
  if (it == sessions_.end()) {
    if (check) {
      return Status::NotFound(fmt::format("Session {} not found", id), ch::kSessionNotFound);
    }
    if (sessions_.size() >= options_.max_sessions) {
      M().full.Add();
      return Status::ResourceExhausted(
          fmt::format("Too many HTTP sessions: max_sessions ({}) are open; retry when some "
                      "expire (session_timeout) or send queries without session_id",
                      options_.max_sessions),
          ch::kServerOverloaded);
    }
    it = sessions_.emplace(key, std::make_unique<Entry>()).first;
    M().created.Add();
    M().open.Add(1);
  } else if (it->second->in_use) {
    M().locked.Add();
    return Status::InvalidArgument(fmt::format("Session {} is locked by a concurrent client", id),
                                   ch::kSessionIsLocked);
  }
  it->second->in_use = true;
  Lease lease;
  lease.store_ = this;
  lease.key_ = std::move(key);
  lease.state_ = &it->second->state;
  lease.timeout_s_ = timeout_s;
  return lease;
}

void SessionStore::Release(const std::string& key, uint32_t timeout_s) {
  int64_t now = clock_->MonotonicMicros();
  std::lock_guard lock(mu_);
  auto it = sessions_.find(key);
  if (it == sessions_.end()) return;
  it->second->in_use = false;
  it->second->expires_micros = now + int64_t{timeout_s} * 1000000;
}

size_t SessionStore::size() const {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

SessionStore::Lease::Lease(Lease&& other) noexcept { *this = std::move(other); }

SessionStore::Lease& SessionStore::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    Release();
    store_ = other.store_;
    key_ = std::move(other.key_);
    state_ = other.state_;
    timeout_s_ = other.timeout_s_;
    other.store_ = nullptr;
    other.state_ = nullptr;
  }
  return *this;
}

SessionStore::Lease::~Lease() { Release(); }

void SessionStore::Lease::Release() {
  if (store_ == nullptr) return;
  store_->Release(key_, timeout_s_);
  store_ = nullptr;
  state_ = nullptr;
}

}  // namespace trackhouse::server
