// Aggregator: hash aggregation of one GROUP BY over column batches, one instance per query
// thread (per-thread state, no locks on the hot path), merged at the end.
//
//   Aggregator agg(key_types, functions, ctx);          // per thread
//   agg.Add(key_columns, arg_columns, rows);            // per filtered block
//   first.MergeFrom(&other);                             // combine threads
//   first.Finish(&keys, &results);                      // one row per group
//
// Group lookup picks its method from the key types: no keys (one state), one fixed-width
// number/date key (open addressing on the 64-bit value), one LowCardinality key (dictionary
// entries looked up once per block), anything else (keys serialized into bytes). Aggregate
// states live in an arena, one contiguous record per group. Memory (arena, keys, hash table,
// states' heap) is accounted in the QueryContext and bounded by max_memory_usage.
//
// Not thread-safe: one Aggregator per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "query/aggregate.h"
#include "query/context.h"
#include "types/block.h"
#include "types/column.h"

namespace trackhouse::query {

class Aggregator {
 public:
  Aggregator(std::vector<types::DataTypePtr> key_types,
             std::vector<AggregateFunctionPtr> functions, QueryContext* ctx);
  ~Aggregator();
  Aggregator(const Aggregator&) = delete;
  Aggregator& operator=(const Aggregator&) = delete;

  // Adds `rows` rows: keys[k] is key k's column, args[f] the argument columns of function f.
  Status Add(const std::vector<types::ColumnPtr>& keys,
             const std::vector<std::vector<types::ColumnPtr>>& args, size_t rows);

  // Moves every group of `other` into this one (merging states of equal keys).
  Status MergeFrom(Aggregator* other);

  size_t groups() const { return places_.size(); }

  // Builds the result: key columns and one column per function, one row per group (in first
  // appearance order). Without keys there is exactly one row, also for empty input.
  Status Finish(std::vector<types::ColumnPtr>* keys, std::vector<types::ColumnPtr>* results);

  // One row merging every group whose `keep` flag is set (WITH TOTALS after HAVING); null
  // `keep` merges all groups.
  Status Totals(const std::vector<uint8_t>* keep, std::vector<types::ColumnPtr>* results);

 private:
  enum class Method : uint8_t { kNone, kFixed, kLowCardinality, kSerialized };
  class FixedMap;

  Result<char*> NewGroup();
  Status MapRows(const std::vector<types::ColumnPtr>& keys, size_t rows);
  Status AddFewGroups(const types::ColumnLowCardinality& lc,
                      const std::vector<types::ColumnPtr>& keys,
                      const std::vector<std::vector<types::ColumnPtr>>& args, size_t rows);
  void AppendKeys(const std::vector<types::ColumnPtr>& keys, size_t row);
  Status Account();

  const std::vector<types::DataTypePtr> key_types_;
  const std::vector<AggregateFunctionPtr> functions_;
  Method method_ = Method::kNone;
  std::vector<size_t> offsets_;  // of each function's state in a group record
  size_t record_size_ = 0;
  size_t record_align_ = 8;
  bool trivial_destroy_ = true;

  std::vector<std::unique_ptr<char[]>> arena_;
  size_t arena_used_ = 0;  // in the last chunk
  size_t arena_bytes_ = 0;
  std::vector<char*> places_;                  // per group
  std::vector<types::ColumnPtr> key_columns_;  // per key: one row per group
  std::unique_ptr<FixedMap> fixed_;
  std::unordered_map<std::string, uint32_t> serialized_;
  std::vector<char*> row_places_;  // scratch: per row of the current block
  std::string key_buf_;
  MemoryReservation memory_;
  uint64_t adds_ = 0;
};

}  // namespace trackhouse::query
