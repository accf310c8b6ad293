// Clock: the source of "now" for DEFAULT now(), TTL and timed flushes, injectable in tests.
// SystemClock is thread-safe; ManualClock is thread-safe (atomic).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace trackhouse {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time in microseconds since the Unix epoch (UTC).
  virtual int64_t NowMicros() const = 0;
  // Monotonic time in microseconds, for intervals.
  virtual int64_t MonotonicMicros() const = 0;

  // The process-wide real clock.
  static Clock* Real();
};

class ManualClock : public Clock {
 public:
  explicit ManualClock(int64_t now_micros) : now_(now_micros) {}
  int64_t NowMicros() const override { return now_.load(); }
  int64_t MonotonicMicros() const override { return now_.load(); }
  void Advance(int64_t micros) { now_.fetch_add(micros); }
  void Set(int64_t micros) { now_.store(micros); }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace trackhouse
