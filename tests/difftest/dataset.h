// The differential test's data: two tables shaped like the metrics guide's entityMetricEvents
// (DateTime instead of DateTime64, which ClickHouse 18.16 lacks) and an entity dimension table,
// generated deterministically from a seed. The same DDL and the same INSERT bodies go to
// ClickHouse and to trackhouse.
//
//   entityMetricEvents  MergeTree, PARTITION BY toYYYYMM(createdAt),
//                       ORDER BY (entityType, entityId, createdAt); a few thousand rows
//   entities            ReplacingMergeTree(version) ORDER BY entityId, inserted twice so that
//                       some keys have two versions (read with FINAL only: without it the
//                       result would depend on when each server merges)
//
// Values are chosen so that results are exact on both sides: Float64 columns hold odd
// multiples of 1/1024 (sums are exact in any order and round() never meets a tie), eventId is
// unique (a tie-free argument for argMin/argMax), and every timestamp lies in the first half
// of 2024, long before the test's now().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace trackhouse::difftest {

// The value kinds the query generator reasons about. kInt is any signed integer, or an
// unsigned one narrower than 64 bits (ClickHouse finds a common type for those with signed
// integers); kUInt is UInt64, which has no common type with signed integers.
enum class Kind { kInt, kUInt, kFloat, kString, kDate, kDateTime, kNullableInt, kBool };

struct ColumnInfo {
  std::string name;
  Kind kind;
  // Each row has its own value (usable as argMin/argMax's ordering argument).
  bool unique = false;
  // A Float64 whose values are odd multiples of 1/1024: round(x, 0..2) never meets a tie.
  bool tie_free = false;
  // LowCardinality(String).
  bool low_cardinality = false;
  // SQL literals of values that occur in the column (sampled rows).
  std::vector<std::string> samples;
};

struct TableInfo {
  std::string name;
  std::vector<ColumnInfo> columns;
  // A ReplacingMergeTree: always read with FINAL.
  bool needs_final = false;
};

// One request to send to both servers: an SQL statement, with `body` as the data of an INSERT
// (sent as the POST body, the statement in the URL) when not empty.
struct SetupStep {
  std::string sql;
  std::string body;
};

struct Dataset {
  std::vector<SetupStep> setup;
  std::vector<TableInfo> tables;
  // Rows per table, in the order of `tables`, counting every version of a replaced key once.
  std::vector<uint64_t> final_rows;
};

Dataset MakeDataset(uint64_t seed, int event_rows);

// SQL literal helpers shared with the query generator.
std::string SqlString(const std::string& s);
std::string FormatDate(int64_t days_since_epoch);
std::string FormatDateTime(int64_t seconds_since_epoch);

}  // namespace trackhouse::difftest
