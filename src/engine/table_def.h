// TableDef: a table's definition as the engine uses it -- the user's schema plus the parsed
// and compiled engine clauses (ORDER BY, PARTITION BY, TTL, engine arguments). Built from a
// CREATE TABLE statement, immutable, shared by readers and background work. Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "eval/expression.h"
#include "sql/ast.h"
#include "storage/storage.h"

namespace trackhouse::engine {

enum class EngineKind : uint8_t { kMergeTree, kReplacing, kSumming, kBuffer };

// ClickHouse's Buffer(db, table, num_layers, min_time, max_time, min_rows, max_rows,
// min_bytes, max_bytes). In trackhouse the rows are durable at once; these only decide when
// the destination's memtable becomes parts.
struct BufferParams {
  std::string database;
  std::string table;
  int64_t num_layers = 16;
  int64_t min_time_s = 10, max_time_s = 100;
  int64_t min_rows = 10000, max_rows = 1000000;
  int64_t min_bytes = 10000000, max_bytes = 100000000;
};

struct TableDef {
  uint64_t id = 0;  // unique and stable: names the table's directory and its log records
  storage::TableSchemaPtr schema;
  EngineKind kind = EngineKind::kMergeTree;

  std::vector<std::string> sort_key;  // ORDER BY columns, in order
  std::string partition_sql;          // PARTITION BY expression; empty: one partition "all"
  std::shared_ptr<const eval::CompiledExpr> partition_expr;
  std::string ttl_sql;  // TTL expression (a DateTime); empty: none
  std::shared_ptr<const eval::CompiledExpr> ttl_expr;
  std::string version_column;            // ReplacingMergeTree(ver)
  std::vector<std::string> sum_columns;  // SummingMergeTree(cols); empty: every numeric
                                         // non-key column
  BufferParams buffer;
  uint32_t index_granularity = 8192;

  bool is_buffer() const { return kind == EngineKind::kBuffer; }
  std::vector<eval::InputColumn> InputColumns() const;
};
using TableDefPtr = std::shared_ptr<const TableDef>;

// Completes a CREATE TABLE statement in place so that it stands alone: fills in the database,
// and for `CREATE TABLE t AS other` copies other's columns (and, without an ENGINE clause, its
// engine clauses) from `like_create_sql`, other's own stored statement.
Status CompleteCreateStatement(sql::CreateTableStmt* stmt, const std::string& database,
                               const std::string& like_create_sql);

// Builds a definition from a complete CREATE TABLE statement (see CompleteCreateStatement).
// Errors name the clause: unknown engine (ch::kUnknownStorage), unknown type, ORDER BY naming
// a missing column, bad Buffer arguments, a DEFAULT that does not fit its column.
Result<TableDefPtr> BuildTableDef(const sql::CreateTableStmt& stmt, uint64_t id,
                                  uint32_t default_granularity);

}  // namespace trackhouse::engine
