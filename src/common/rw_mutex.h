// WriterPriorityMutex: a shared/exclusive lock in which a waiting exclusive locker holds back
// new shared lockers, so it gets in as soon as the current shared holders leave.
//
// std::shared_mutex on glibc prefers readers: a stream of overlapping shared holders (inserts
// waiting on a log sync) can keep an exclusive locker (a memtable swap) out indefinitely.
// Meets the SharedMutex requirements (usable with std::shared_lock / std::unique_lock).
// Thread-safe.
#pragma once

#include <condition_variable>
#include <mutex>

namespace trackhouse {

class WriterPriorityMutex {
 public:
  void lock() {
    std::unique_lock l(mu_);
    ++writers_waiting_;
    cv_.wait(l, [this] { return !writer_active_ && readers_ == 0; });
    --writers_waiting_;
    writer_active_ = true;
  }
  void unlock() {
    std::lock_guard l(mu_);
    writer_active_ = false;
    cv_.notify_all();
  }
  void lock_shared() {
    std::unique_lock l(mu_);
    cv_.wait(l, [this] { return !writer_active_ && writers_waiting_ == 0; });
    ++readers_;
  }
  void unlock_shared() {
    std::lock_guard l(mu_);
    if (--readers_ == 0) cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int readers_ = 0;
  int writers_waiting_ = 0;
  bool writer_active_ = false;
};

}  // namespace trackhouse
