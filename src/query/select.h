// SELECT execution: plans one SELECT (or UNION ALL of several) over a source and runs it with
// the query's threads.
//
// The pipeline of one SELECT block:
//   source (table scan with part/granule pruning, system table, subquery, numbers())
//     -> WHERE (vectorized filter)                                  [per thread]
//     -> GROUP BY hash aggregation into per-thread states, or the select list evaluated
//        per block (with a per-thread top-N when ORDER BY ... LIMIT allows)       [per thread]
//     -> merge of thread states, HAVING, WITH TOTALS, the select list
//     -> DISTINCT -> ORDER BY -> LIMIT BY -> WITH FILL -> LIMIT / OFFSET
// Aliases are usable anywhere in the same SELECT; {name:Type} parameters are bound typed;
// subqueries in FROM, in `x IN (SELECT ...)` and as scalars run first.
//
// Thread-safety: ExecuteSelect is reentrant; it uses the context's counters, which are
// thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "query/context.h"
#include "sql/ast.h"
#include "types/block.h"

namespace trackhouse::query {

// A SELECT's result: its columns' names and types, and its rows in blocks whose columns are in
// that order (block column names are internal; use `names`).
struct QueryOutput {
  std::vector<std::string> names;
  std::vector<types::DataTypePtr> types;
  std::vector<types::Block> blocks;
  // WITH TOTALS: one row of the same columns.
  std::optional<types::Block> totals;
  // With LIMIT: the rows there were before LIMIT/OFFSET (at least this many).
  std::optional<uint64_t> rows_before_limit;

  size_t rows() const {
    size_t n = 0;
    for (const auto& b : blocks) n += b.rows();
    return n;
  }
};

Result<QueryOutput> ExecuteSelect(const sql::SelectUnion& query, QueryContext* ctx);

}  // namespace trackhouse::query
