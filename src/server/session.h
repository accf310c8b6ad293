// SessionStore: ClickHouse HTTP sessions (`session_id` URL argument). A session keeps what
// `SET name = value` and `USE db` statements change, for the next requests that carry the same
// session_id (and the same user). It expires `session_timeout` seconds (default 60, at most
// max_timeout_s) after its last request ended. One request at a time may use a session: a
// second concurrent one fails with SESSION_IS_LOCKED (373), as in ClickHouse. The number of
// sessions is bounded (expired ones are dropped first); beyond it a new session is refused
// with a retryable 503.
//
// Thread-safe. A Lease is used by the one thread serving its request.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "common/thread_annotations.h"

namespace trackhouse::server {

struct SessionOptions {
  // Most sessions kept at once. Default 1000.
  uint32_t max_sessions = 1000;
  // session_timeout when the request does not give one, seconds. Default 60 (ClickHouse's
  // default_session_timeout).
  uint32_t default_timeout_s = 60;
  // Largest session_timeout a request may ask for, seconds. Default 3600 (ClickHouse's
  // max_session_timeout).
  uint32_t max_timeout_s = 3600;
};

// What a session remembers between requests.
struct SessionState {
  // The current database (`USE db`); empty = the server's default.
  std::string database;
  // `SET` assignments in the order made, one entry per name (a later SET replaces it).
  std::vector<std::pair<std::string, std::string>> settings;

  void Set(std::string_view name, std::string_view value);
};

class SessionStore {
 public:
  // `clock` (not owned) must outlive the store.
  SessionStore(SessionOptions options, Clock* clock);
  ~SessionStore();

  // Exclusive use of one session until destroyed.
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    ~Lease();

    bool valid() const { return store_ != nullptr; }
    SessionState* state() const { return state_; }

   private:
    friend class SessionStore;
    SessionStore* store_ = nullptr;
    std::string key_;
    SessionState* state_ = nullptr;
    uint32_t timeout_s_ = 0;
    void Release();
  };

  // Parses the session_timeout URL argument (nullptr = absent), as ClickHouse does:
  // INVALID_SESSION_TIMEOUT (374) for text that is not a number or exceeds max_timeout_s.
  Result<uint32_t> ParseTimeout(const std::string* text) const;

  // Takes session `id` of `user`, creating it unless `check` (session_check=1), in which case a
  // missing session is SESSION_NOT_FOUND (372). SESSION_IS_LOCKED (373) if in use.
  Result<Lease> Acquire(std::string_view user, std::string_view id, uint32_t timeout_s, bool check);

  // Sessions held (in use or idle, not yet swept).
  size_t size() const;

 private:
  struct Entry {
    SessionState state;
    bool in_use = false;
    int64_t expires_micros = 0;
  };

  void SweepLocked(int64_t now) REQUIRES(mu_);
  void Release(const std::string& key, uint32_t timeout_s);

  const SessionOptions options_;
  Clock* const clock_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Entry>> sessions_ GUARDED_BY(mu_);
};

}  // namespace trackhouse::server
