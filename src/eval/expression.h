// The eval module's facade: compiles a SQL expression (sql::Expr) against a set of input
// columns into a typed, immutable CompiledExpr, and evaluates it over whole Blocks at once.
//
// Compile binds identifiers to input columns, resolves functions in the FunctionRegistry
// (ClickHouse names, semantics and result types; see docs/functions.md), checks argument
// counts and types, infers the result type and folds constant subexpressions. Errors are
// ClickHouse-shaped Statuses: unknown column -> ch::kUnknownIdentifier ("Missing columns:
// 'x' while processing query: ..."), unknown function -> ch::kUnknownFunction ("Unknown
// function foo"), wrong argument count -> ch::kNumberOfArgumentsDoesntMatch, wrong argument
// type -> ch::kIllegalTypeOfArgument.
//
// Evaluation is vectorized: each function runs one loop over whole column arrays, constants
// are scalars (never materialized per row until the final result), and a LowCardinality
// column compared with constants is evaluated once per dictionary entry.
//
// Aggregate functions are not evaluated here: the query engine handles aggregate calls and
// compiles their arguments with Compile.
//
// Thread-safety: Compile is thread-safe. A CompiledExpr is immutable; Evaluate and
// EvaluateConstant are const and may run concurrently from many threads.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "types/block.h"
#include "types/column.h"
#include "types/data_type.h"
#include "types/value.h"

namespace trackhouse::sql {
struct Expr;
}  // namespace trackhouse::sql

namespace trackhouse::eval {

// A column the expression may reference, by name.
struct InputColumn {
  std::string name;
  types::DataTypePtr type;
};

// Per-statement inputs of evaluation.
struct EvalContext {
  // now() / now64() / today() / yesterday() are constant for one statement: this moment, in
  // microseconds since the epoch (UTC).
  int64_t now_micros = 0;
  // Values of {name:Type} query parameters: raw strings as given in param_<name> (converted
  // to Type on use); typed Values are converted too. May be null when there are none.
  const std::map<std::string, types::Value>* params = nullptr;
};

namespace internal {
struct Node;
}  // namespace internal

// A compiled expression. Immutable after Compile.
class CompiledExpr {
 public:
  ~CompiledExpr();
  CompiledExpr(const CompiledExpr&) = delete;
  CompiledExpr& operator=(const CompiledExpr&) = delete;

  // The result type (ClickHouse's rules).
  const types::DataTypePtr& type() const;
  // True when the expression references no column (its value may still depend on now() or on
  // query parameters, known at Evaluate).
  bool is_constant() const;

  // Evaluates over `input` (a Block having at least the referenced columns, looked up by
  // name, with the types given to Compile) and returns a column of input.rows() rows, also
  // for constant expressions. Runtime errors (division by zero in intDiv, unparsable text in
  // a conversion, a missing query parameter) are returned as Statuses.
  Result<types::ColumnPtr> Evaluate(const types::Block& input, const EvalContext& ctx) const;
  // Evaluates over `rows` rows of `input` (rows may exceed input.rows() only for constant
  // expressions; pass input.rows() otherwise).
  Result<types::ColumnPtr> Evaluate(const types::Block& input, size_t rows,
                                    const EvalContext& ctx) const;

  // For constant expressions: the value, in the physical representation of type() (NULL for a
  // NULL result). InvalidArgument if the expression references columns.
  Result<types::Value> EvaluateConstant(const EvalContext& ctx) const;

  // Names of the input columns the expression reads, each once, in first-use order.
  std::vector<std::string> ReferencedColumns() const;

 private:
  friend Result<std::unique_ptr<CompiledExpr>> Compile(const sql::Expr& expr,
                                                       const std::vector<InputColumn>& input);
  explicit CompiledExpr(std::unique_ptr<internal::Node> root);

  std::unique_ptr<internal::Node> root_;
};

// Compiles `expr` against `input`. See the top of this file for the errors.
Result<std::unique_ptr<CompiledExpr>> Compile(const sql::Expr& expr,
                                              const std::vector<InputColumn>& input);

// For multi-column keys (ORDER BY (a, b), PARTITION BY (x, toYYYYMM(d))): compiles each
// element of a tuple(...) expression, or `expr` alone when it is not a tuple.
Result<std::vector<std::unique_ptr<CompiledExpr>>> CompileTupleElements(
    const sql::Expr& expr, const std::vector<InputColumn>& input);

// Converts `column` to `type` with CAST semantics: a DEFAULT expression's value into its
// column's type, INSERT ... SELECT results into the target columns. Returns `column` itself
// when the types are equal.
Result<types::ColumnPtr> ConvertColumn(const types::ColumnPtr& column,
                                       const types::DataTypePtr& type);

// Whether `name` is a scalar function the evaluator knows (ClickHouse's case rules apply).
bool IsKnownFunction(std::string_view name);

}  // namespace trackhouse::eval
