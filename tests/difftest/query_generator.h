// The differential test's query generator: a seeded grammar of ClickHouse SELECT queries over
// the Dataset's tables whose results do not depend on how a server executes them, so that
// ClickHouse 18.16 and trackhouse must print the same rows.
//
// How results are kept deterministic:
//   - every query either returns one row (aggregates without GROUP BY) or ends with ORDER BY
//     over all its output columns (rows that tie are then identical), or over its GROUP BY keys
//     (unique per row); LIMIT, OFFSET and LIMIT BY therefore pick the same rows everywhere;
//   - any/anyLast/groupArray only see values that are constant within their group (functions
//     of the GROUP BY keys); argMin/argMax order by a column whose values are unique;
//   - uniq sees far fewer values than its exact threshold, quantile fewer than its reservoir;
//   - now(), today() and yesterday() only appear where the result cannot depend on the clock
//     (all data lies in the first half of 2024): `createdAt < now()`, or a dateDiff to now()
//     minus a dateDiff from a literal to now();
//   - round() only sees values without ties (ClickHouse 18.16 rounds halves away from zero,
//     current ClickHouse to even), divisions never divide by zero;
//   - floats never come from UInt64 values (which reach 2^64 after toUInt64 of a negative
//     number, where sums in another order lose different digits), and float-to-integer
//     conversions only see floats well inside the target's range;
//   - avg and quantile see signed integers and floats only (18.16 sums avg's integers in a
//     64-bit integer, which wraps for UInt64 values near 2^64).
//
// Every output column is named by an alias (c0, a1, k0, ...) or is a bare column: both
// ClickHouse versions and trackhouse name those the same way, so the header lines of
// TabSeparatedWithNames are compared too.
//
// Each construct of the query issue's lists counts its uses (Coverage); a construct that
// ClickHouse 18.16 lacks is never generated (see ConstructsMissingIn1816()).
// Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tests/difftest/dataset.h"
#include "tests/difftest/rng.h"

namespace trackhouse::difftest {

// The constructs every run must use at least kMinUses times each.
const std::vector<std::string>& RequiredConstructs();
// Constructs of the lists that ClickHouse 18.16 does not have (not generated).
const std::vector<std::string>& ConstructsMissingIn1816();

// One generated test: `setup` statements (run on both servers, both must succeed), then `sql`,
// whose outputs are compared. Only INSERT ... SELECT has setup statements: it fills the
// scratch table, and `sql` reads it back.
struct GeneratedQuery {
  std::vector<std::string> setup;
  std::string sql;
};

class QueryGenerator {
 public:
  QueryGenerator(uint64_t seed, const Dataset* data);

  // The next query, ending in FORMAT <a TabSeparated or CSV format>.
  GeneratedQuery Next();

  // Uses per construct name so far.
  const std::map<std::string, int>& coverage() const { return coverage_; }

 private:
  struct Item;
  struct Scope;
  struct Output;
  struct Source;

  void Use(const std::string& construct) { ++coverage_[construct]; }
  static Scope WithoutLowCardinality(const Scope& scope);

  // Row-level expressions of the given kind over the scope, nested up to `depth` levels.
  std::string Expr(Kind kind, const Scope& scope, int depth);
  std::string Leaf(Kind kind, const Scope& scope);
  // A GROUP BY key: an expression of the kind that reads at least one column of the scope.
  std::string KeyExpr(Kind kind, const Scope& scope);
  // A function of one argument; with date_or_time, `arg` (kDate) may also be a DateTime.
  struct UnaryFunction {
    const char* name;
    Kind arg;
    bool date_or_time = false;
  };
  // f(<expression of f's argument kind>), counted as a use of f.
  std::string Call(const UnaryFunction& f, const Scope& scope, int depth);
  std::string Literal(Kind kind);
  std::string IntExpr(const Scope& scope, int depth);
  std::string UIntExpr(const Scope& scope, int depth);
  std::string FloatExpr(const Scope& scope, int depth);
  // A Float64 well inside Int32's range (for toInt32/toInt64: out-of-range conversions are
  // undefined).
  std::string BoundedFloat(const Scope& scope);
  std::string StringExpr(const Scope& scope, int depth);
  std::string DateExpr(const Scope& scope, int depth);
  std::string DateTimeExpr(const Scope& scope, int depth);
  std::string NullableExpr(const Scope& scope, int depth);
  std::string BoolExpr(const Scope& scope, int depth);
  std::string Conditional(Kind kind, const Scope& scope, int depth);
  std::string Comparison(const Scope& scope, int depth);
  std::string ClockInvariant(Kind kind, const Scope& scope);
  std::string Interval(bool date_only);
  std::string InSubquery(const Scope& scope);
  // A literal that compares well with the item: a value sampled from its column when known.
  std::string ValueFor(const Item& item);
  const Item* PickItem(Kind kind, const Scope& scope);

  // Aggregate expressions; `keys` holds the GROUP BY expressions (for any, anyLast and
  // groupArray, which only see values constant within a group). `integral` is set when the
  // result is an exact integer that can lead the ORDER BY.
  std::string Aggregate(const Scope& scope, const Scope& keys, Kind* kind, bool* integral);

  Source PickSource(int depth);
  Source TableSource();
  std::string ProjectionQuery(const Source& source, bool inner, Scope* outputs);
  std::string AggregateQuery(const Source& source, bool inner, Scope* outputs);
  std::string GlobalAggregateQuery(const Source& source);
  // INSERT INTO scratch [(columns)] SELECT ...
  std::string InsertSelect();
  std::string OrderAndLimit(const std::vector<std::string>& order_keys,
                            const std::vector<std::string>& limit_by_candidates);

  std::string NewAlias(const char* prefix) { return prefix + std::to_string(alias_counter_++); }

  Rng rng_;
  const Dataset* data_;
  std::map<std::string, int> coverage_;
  int alias_counter_ = 0;
  // Set while generating the aggregates of a GROUP BY without TOTALS (each sees rows).
  bool groups_have_rows_ = false;
  // Set while generating the outputs of a SELECT DISTINCT.
  bool no_in_subquery_ = false;
};

}  // namespace trackhouse::difftest
