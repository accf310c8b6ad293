#include "server/worker_pool.h"

namespace trackhouse::server {

bool WorkerPool::TrySubmit(std::function<void()> fn) {
  std::lock_guard lock(mu_);
  if (shutdown_) return false;
  if (idle_ > 0) {
    --idle_;
    tasks_.push_back(std::move(fn));
    cv_.notify_one();
    return true;
  }
  if (threads_.size() >= max_threads_) return false;
  threads_.emplace_back([this, fn = std::move(fn)]() mutable {
    fn();
    fn = nullptr;
    Loop();
  });
  return true;
}

void WorkerPool::Loop() {
  std::unique_lock lock(mu_);
  while (true) {
    ++idle_;
    cv_.wait(lock, [&] { return !tasks_.empty() || shutdown_; });
    if (tasks_.empty()) {  // shut down
      --idle_;
      return;
    }
    std::function<void()> task = std::move(tasks_.front());
    tasks_.pop_front();
    lock.unlock();
    task();
    task = nullptr;
    lock.lock();
  }
}

void WorkerPool::Shutdown() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    shutdown_ = true;
    threads.swap(threads_);
    cv_.notify_all();
  }
  for (auto& t : threads) t.join();
}

}  // namespace trackhouse::server
