// Sources: where a SELECT's rows come from -- a table of the storage (a parallel snapshot
// scan), the system tables (system.tables, system.columns, system.parts, system.databases,
// system.one), the numbers(N) table function, or an already computed subquery result.
//
// A SourcePlan describes the columns before anything is read; Open() starts reading the
// columns a query needs. BlockSource::Next is thread-safe: every query thread pulls from the
// same source, each block going to one thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "eval/expression.h"
#include "query/context.h"
#include "sql/ast.h"
#include "types/block.h"

namespace trackhouse::query {

class BlockSource {
 public:
  virtual ~BlockSource() = default;
  // The next block (the requested columns in order; with none requested, one placeholder
  // column giving the row count). False at the end or on error (see status()).
  virtual bool Next(types::Block* block) = 0;
  virtual Status status() const = 0;
};

class SourcePlan {
 public:
  virtual ~SourcePlan() = default;
  virtual const std::vector<eval::InputColumn>& columns() const = 0;
  // `prune_filter` (may be null) is the WHERE condition, for skipping parts and granules;
  // `final` applies FINAL.
  virtual Result<std::unique_ptr<BlockSource>> Open(const std::vector<std::string>& needed,
                                                    const sql::Expr* prune_filter,
                                                    bool final) = 0;
};

// A block with no columns still has rows (count() over a table, constants per row): it carries
// this placeholder UInt8 column, as the storage's scans do.
inline constexpr char kRowCountColumn[] = "_dummy";
void AddRowCountColumn(types::Block* block, size_t rows);

// A source over blocks already in memory (subquery results, system tables).
std::unique_ptr<SourcePlan> MakeMemorySource(std::vector<eval::InputColumn> columns,
                                             std::vector<types::Block> blocks);

// The source of a FROM clause; `from` null means system.one (SELECT without FROM).
// Subqueries in FROM are run by `run_subquery`.
using SubqueryRunner =
    std::function<Result<std::unique_ptr<SourcePlan>>(const sql::SelectUnion& query)>;
Result<std::unique_ptr<SourcePlan>> MakeSourcePlan(const sql::TableExpr* from, QueryContext* ctx,
                                                   const SubqueryRunner& run_subquery);

// system.<name> as a block, or NotFound (UNKNOWN_TABLE).
Result<types::Block> SystemTable(const std::string& name, QueryContext* ctx);

}  // namespace trackhouse::query
