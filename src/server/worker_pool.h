// WorkerPool: threads that serve requests, created on demand up to a maximum and reused.
// TrySubmit never queues work behind busy threads: if no thread is idle and the pool is at its
// maximum it refuses, so that the caller can push back (503) instead of waiting without bound.
// Thread-safe.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "common/thread_annotations.h"

namespace trackhouse::server {

class WorkerPool {
 public:
  explicit WorkerPool(size_t max_threads) : max_threads_(max_threads) {}
  ~WorkerPool() { Shutdown(); }
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Runs fn on an idle or new thread; false if every thread is busy and the pool is full, or
  // the pool is shut down.
  bool TrySubmit(std::function<void()> fn);
  // Runs what was submitted, then joins every thread. Idempotent.
  void Shutdown();

 private:
  void Loop();

  const size_t max_threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_ GUARDED_BY(mu_);
  // Threads waiting for a task that no TrySubmit has claimed yet.
  size_t idle_ GUARDED_BY(mu_) = 0;
  bool shutdown_ GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_ GUARDED_BY(mu_);
};

}  // namespace trackhouse::server
