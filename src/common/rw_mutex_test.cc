#include "common/rw_mutex.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <shared_mutex>
#include <thread>
#include <vector>

namespace trackhouse {
namespace {

TEST(WriterPriorityMutexTest, WriterGetsInDespiteOverlappingReaders) {
  WriterPriorityMutex mu;
  std::atomic<bool> stop{false};
  std::atomic<int> reads{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 4; ++i) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        std::shared_lock l(mu);
        reads.fetch_add(1);
        std::this_thread::sleep_for(std::chrono::microseconds(500));
      }
    });
  }
  // Wait until the readers are running, so that they overlap the writers below.
  while (reads.load() < 8) std::this_thread::yield();
  // Readers overlap all the time; each writer must still get in promptly.
  for (int w = 0; w < 20; ++w) {
    auto t0 = std::chrono::steady_clock::now();
    { std::unique_lock l(mu); }
    auto waited = std::chrono::steady_clock::now() - t0;
    EXPECT_LT(waited, std::chrono::milliseconds(500));
  }
  stop = true;
  for (auto& t : readers) t.join();
}

TEST(WriterPriorityMutexTest, ExcludesReadersWhileHeld) {
  WriterPriorityMutex mu;
  int value = 0;
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int k = 0; k < 10000; ++k) {
        std::unique_lock l(mu);
        ++value;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(value, 40000);
}

}  // namespace
}  // namespace trackhouse
