// Entity metric events for benchmarks: a deterministic, seeded generator of rows in the shape of
// the `entityMetricEvents` table (../shared/DESIGN.md), and writers that emit the same rows in
// ClickHouse input formats so that ClickHouse can be loaded with exactly the rows trackhouse was.
//
// Distributions (fixed; a given seed always yields the same rows, whatever the block size):
//   entityType   LowCardinality(String): Model 60%, Image 25%, Post 7%, Article 4%,
//                Collection 3%, Comment 1%
//   entityId     Int32, Zipf-like over 1..1,000,000 with s = 1.1 (id k has rank k: id 1 is the
//                most popular)
//   userId       Int32, uniform over 1..5,000,000
//   metricType   LowCardinality(String): View 80%, Download 10%, Like 5%, Dislike 2%,
//                Comment 2%, Share 1%
//   metricValue  Int32: 1 in 95% of rows, otherwise uniform over 2..10
//   createdAt    DateTime64(3) (milliseconds) or DateTime (the same instants truncated to
//                seconds), uniform over the 90 days (EntityDataOptions::span_seconds) before
//                2026-11-01 00:00:00 UTC, in arrival (unsorted) order
//
// The random numbers come from splitmix64 and integer arithmetic only (no <random>
// distributions, whose results differ between standard libraries), so files emitted on one
// machine match blocks generated on another.
//
// Not thread-safe: one generator per thread; the functions are pure.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "types/block.h"

namespace trackhouse::bench {

// 2026-11-01 00:00:00 UTC, and the 90 days before it that createdAt covers.
inline constexpr int64_t kEntityTimeEndSeconds = 1793491200;
inline constexpr int64_t kEntityTimeSpanSeconds = 90LL * 86400;

struct EntityDataOptions {
  // Seed of the row stream.
  uint64_t seed = 20261101;
  // createdAt as DateTime (seconds) instead of DateTime64(3).
  bool datetime = false;
  // How far before kEntityTimeEndSeconds createdAt reaches (the ingest benchmark's 90 days;
  // the query benchmark uses 180 so that its 7-, 30- and 90-day windows select a fraction).
  int64_t span_seconds = kEntityTimeSpanSeconds;
};

// The CREATE TABLE statement of the benchmark table for trackhouse (ClickHouse dialect).
std::string EntityTableDdl(const std::string& table, bool datetime);

// Generates the row stream block by block.
class EntityDataGenerator {
 public:
  explicit EntityDataGenerator(const EntityDataOptions& options);

  // The next `rows` rows of the stream as a Block with the table's columns in table order.
  types::Block NextBlock(size_t rows);

 private:
  uint64_t NextRandom();
  // Uniform in [0, n).
  uint64_t Below(uint64_t n);

  EntityDataOptions options_;
  uint64_t state_;
  // cdf_[k] = P(entityId <= k + 1), scaled to 2^53.
  std::vector<uint64_t> zipf_cdf_;
};

// Generates `rows` rows in blocks of `block_rows` rows (the last one may be shorter).
std::vector<types::Block> GenerateEntityBlocks(const EntityDataOptions& options, uint64_t rows,
                                               size_t block_rows);

// Writes blocks (with createdAt as DateTime, which is what ClickHouse 18.16 has) to `path`:
// JSONEachRow with createdAt as "YYYY-MM-DD hh:mm:ss" (UTC), or RowBinary for the column types
// (LowCardinality(String) as String, Int32, DateTime as UInt32), both little-endian.
Status WriteJsonEachRow(const std::vector<types::Block>& blocks, const std::string& path);
Status WriteRowBinary(const std::vector<types::Block>& blocks, const std::string& path);

}  // namespace trackhouse::bench
