// QueryContext: the per-statement state every stage of a query shares -- the storage, the
// current database, the settings, the evaluation context (now(), query parameters), the
// deadline of max_execution_time, the memory budget of max_memory_usage and the read
// statistics. One per statement (subqueries share their parent's). Thread-safe: query threads
// update the counters concurrently.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <string>

#include "common/status.h"
#include "eval/expression.h"
#include "query/settings.h"
#include "types/value.h"

namespace trackhouse::storage {
class Storage;
}  // namespace trackhouse::storage

namespace trackhouse::query {

class QueryContext {
 public:
  QueryContext(storage::Storage* storage, std::string database, QuerySettings settings,
               int64_t now_micros);
  QueryContext(const QueryContext&) = delete;
  QueryContext& operator=(const QueryContext&) = delete;

  storage::Storage* storage() const { return storage_; }
  const std::string& database() const { return database_; }
  const QuerySettings& settings() const { return settings_; }
  const eval::EvalContext& eval() const { return eval_; }
  int64_t now_micros() const { return eval_.now_micros; }
  // Threads a query stage may use (max_threads, or the hardware cores).
  uint32_t threads() const;

  // TIMEOUT_EXCEEDED once max_execution_time has passed since the statement started.
  Status CheckDeadline() const;

  // Accounts `bytes` more of query state (hash tables, buffered blocks); MEMORY_LIMIT_EXCEEDED
  // if that would pass max_memory_usage (the bytes are then not accounted). Release gives them
  // back.
  Status Reserve(int64_t bytes);
  void Release(int64_t bytes) { memory_.fetch_sub(bytes, std::memory_order_relaxed); }
  int64_t memory_used() const { return memory_.load(std::memory_order_relaxed); }

  void AddRead(uint64_t rows, uint64_t bytes) {
    rows_read_.fetch_add(rows, std::memory_order_relaxed);
    bytes_read_.fetch_add(bytes, std::memory_order_relaxed);
  }
  uint64_t rows_read() const { return rows_read_.load(); }
  uint64_t bytes_read() const { return bytes_read_.load(); }

  // Nesting depth of subqueries being planned (bounded, so hostile SQL cannot recurse deeply).
  int depth = 0;

 private:
  storage::Storage* const storage_;
  const std::string database_;
  const QuerySettings settings_;
  std::map<std::string, types::Value> params_;
  eval::EvalContext eval_;
  const int64_t start_mono_micros_;
  std::atomic<int64_t> memory_{0};
  std::atomic<uint64_t> rows_read_{0};
  std::atomic<uint64_t> bytes_read_{0};
};

// Accounts memory in a QueryContext for as long as it lives, growing as its owner grows.
class MemoryReservation {
 public:
  explicit MemoryReservation(QueryContext* ctx) : ctx_(ctx) {}
  ~MemoryReservation() { ctx_->Release(bytes_); }
  MemoryReservation(const MemoryReservation&) = delete;
  MemoryReservation& operator=(const MemoryReservation&) = delete;
  // Sets the accounted size to `bytes` (reserving the growth, releasing a shrink).
  Status Resize(int64_t bytes);
  int64_t bytes() const { return bytes_; }

 private:
  QueryContext* ctx_;
  int64_t bytes_ = 0;
};

}  // namespace trackhouse::query
