// FunctionRegistry: the table of scalar functions the evaluator knows, by ClickHouse name.
//
// A function is registered with a factory. At compile time the factory receives the argument
// types (and, for arguments known while compiling, their values), checks them with
// ClickHouse-shaped errors and returns a BoundFunction: the result type and a kernel. At run
// time the kernel receives one Datum per argument and computes a whole column at once.
//
// The evaluator (expression.cc) wraps every kernel in the default behaviours unless the
// function opts out:
//   - NULLs: a function with default NULL handling never sees Nullable arguments. It is bound
//     with the nested types, runs on the nested columns, and its result is made Nullable with
//     the union of the arguments' null maps. A NULL literal argument makes the result NULL.
//   - LowCardinality / FixedString: arguments of these types are presented as String (the
//     factory sees type String; the kernel sees a ColumnString). A LowCardinality argument whose
//     other arguments are constants is evaluated once per dictionary entry and the result is
//     gathered through the row indices (so `lc = 'View'` compares strings once per distinct
//     value).
//   - Constants: a Datum marked is_const holds one row standing for every row. Kernels treat
//     such arguments as scalars; when all arguments are constant the kernel runs for one row.
//
// The registry is built once (on first use) and is immutable afterwards: thread-safe.
// Kernels are immutable and must be safe to call from many threads at once.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "types/column.h"
#include "types/data_type.h"
#include "types/value.h"

namespace trackhouse::eval {

struct EvalContext;

// A column-at-a-time value: `column` has the block's row count, or exactly one row when
// `is_const` (the value of every row).
struct Datum {
  types::ColumnPtr column;
  bool is_const = false;
};

// What the compiler knows about one argument.
struct ArgSpec {
  types::DataTypePtr type;
  // The argument does not depend on input columns (it may still depend on now() or a query
  // parameter, whose values are only known at Evaluate).
  bool is_const = false;
  // Its value when known while compiling (literals and folded constant expressions), in the
  // physical representation of `type`.
  std::optional<types::Value> value;
  // For a tuple argument (IN's right side, tuple(...) of constants): its elements.
  std::vector<ArgSpec> elements;
};

// Per-call inputs of a kernel besides its arguments.
struct KernelContext {
  size_t rows = 0;                    // rows to produce (1 when all arguments are constant)
  const EvalContext* eval = nullptr;  // now(), query parameters
  // Rows whose result will be NULL anyway (default NULL handling), or null: kernels that can
  // fail on a value (division by zero, unparsable text) skip validation on those rows.
  const uint8_t* null_rows = nullptr;
};

using KernelFn = std::function<Result<types::ColumnPtr>(const std::vector<Datum>& args,
                                                        const KernelContext& ctx)>;

struct BoundFunction {
  types::DataTypePtr result_type;
  KernelFn kernel;
};

// Checks and binds one call. `name` is the name as registered (useful for shared factories).
using FunctionFactory =
    std::function<Result<BoundFunction>(std::string_view name, const std::vector<ArgSpec>& args)>;

struct FunctionTraits {
  bool default_nulls = true;            // see above
  bool default_low_cardinality = true;  // see above
  // Deterministic and free of context: calls over constants are folded while compiling.
  // False for now(), today() and the like (constant per statement, taken from EvalContext).
  bool foldable = true;
  bool case_insensitive = false;  // the name also matches ignoring ASCII case
};

class FunctionRegistry {
 public:
  struct Entry {
    std::string name;
    FunctionFactory factory;
    FunctionTraits traits;
  };

  // The process-wide registry with every built-in function.
  static const FunctionRegistry& Instance();

  // The entry for `name` (exact match first, then case-insensitive names), or null.
  const Entry* Find(std::string_view name) const;
  // All registered names, sorted (for docs and tests).
  std::vector<std::string> Names() const;

  void Register(std::string name, FunctionFactory factory, FunctionTraits traits = {});
  // Registers `alias` for the already registered `target`.
  void Alias(std::string alias, std::string_view target, bool case_insensitive = false);

 private:
  std::map<std::string, std::shared_ptr<const Entry>, std::less<>> exact_;
  std::map<std::string, std::shared_ptr<const Entry>, std::less<>> lower_;
};

// Registration hooks, one per function family (each in its own .cc file).
void RegisterArithmeticFunctions(FunctionRegistry* r);
void RegisterComparisonFunctions(FunctionRegistry* r);
void RegisterLogicalFunctions(FunctionRegistry* r);
void RegisterConditionalFunctions(FunctionRegistry* r);
void RegisterConversionFunctions(FunctionRegistry* r);
void RegisterDateTimeFunctions(FunctionRegistry* r);
void RegisterStringFunctions(FunctionRegistry* r);
void RegisterJsonFunctions(FunctionRegistry* r);
void RegisterMathFunctions(FunctionRegistry* r);
void RegisterSetFunctions(FunctionRegistry* r);

}  // namespace trackhouse::eval
