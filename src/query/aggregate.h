// Aggregate functions: ClickHouse's aggregate functions over column batches.
//
// A function's state lives in memory the caller owns (state_size() bytes aligned to
// state_align()), so a hash table can keep one state per group in an arena and the executor
// can merge per-thread states. The life of a state:
//
//   fn->Create(place);
//   fn->AddBatch(rows, places, offset, args, mask);   // any number of times
//   fn->Merge(place, other_place);                    // combine partial states
//   fn->InsertResult(place, result_column);           // appends one value
//   fn->Destroy(place);                               // unless has_trivial_destructor()
//
// Names, parameters, argument and result types, NULL handling and combinators follow
// ClickHouse (see docs/functions.md, "Aggregate functions"):
//   count(), count(x), sum, avg, min, max, any, anyLast, argMin, argMax, uniq, uniqExact,
//   quantile(level)(x), quantiles(l1, l2, ...)(x), groupArray[(max_size)](x), and the -If
//   combinator on every one of them (countIf(cond), sumIf(x, cond), uniqIf(x, cond), ...).
// Nullable arguments: rows where an argument is NULL are skipped; count(x) counts non-NULL x;
// the result of functions other than count and uniq* is Nullable and NULL when no row was
// added (ClickHouse's -Null adaptor).
//
// Thread-safety: an AggregateFunction is immutable and shared; its methods may run
// concurrently on distinct states. A state is used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "types/column.h"
#include "types/data_type.h"
#include "types/value.h"

namespace trackhouse::query {

class AggregateFunction {
 public:
  virtual ~AggregateFunction() = default;

  const types::DataTypePtr& result_type() const { return result_type_; }

  virtual size_t state_size() const = 0;
  virtual size_t state_align() const = 0;
  // Constructs an empty state at `place`.
  virtual void Create(char* place) const = 0;
  virtual void Destroy(char* place) const noexcept = 0;
  // True when Destroy does nothing (the caller may then skip it).
  virtual bool has_trivial_destructor() const = 0;

  // Adds rows [0, rows) of the argument columns (each of `rows` rows, with the argument types
  // the function was made for; never constant). Row i goes to the state at places[i] + offset.
  // When `mask` is not null only rows with mask[i] != 0 are added. Errors: a bounded state
  // that would grow beyond its limit (groupArray), reported with ClickHouse's code.
  virtual Status AddBatch(size_t rows, char* const* places, size_t offset,
                          const types::Column* const* args, const uint8_t* mask) const = 0;
  // Adds rows [0, rows) to the one state at `place` (aggregation without GROUP BY).
  virtual Status AddBatchSinglePlace(size_t rows, char* place, const types::Column* const* args,
                                     const uint8_t* mask) const = 0;
  // True when the result depends only on how many rows were added (count()), so a caller that
  // knows a group's row count may call AddRowCount instead of passing the rows.
  virtual bool counts_rows_only() const { return false; }
  // Adds `rows` rows to the state at `place`; only for functions with counts_rows_only().
  virtual void AddRowCount(char* place, uint64_t rows) const {}
  // Merges the state at `rhs` into the state at `place`.
  virtual Status Merge(char* place, const char* rhs) const = 0;
  // Appends the state's value to `to`, a column of result_type().
  virtual void InsertResult(const char* place, types::Column* to) const = 0;
  // Heap bytes a state holds beyond state_size() (hash sets, arrays), for max_memory_usage.
  virtual size_t HeapBytes(const char* place) const { return 0; }

 protected:
  explicit AggregateFunction(types::DataTypePtr result_type)
      : result_type_(std::move(result_type)) {}

 private:
  types::DataTypePtr result_type_;
};
using AggregateFunctionPtr = std::shared_ptr<const AggregateFunction>;

struct AggregateOptions {
  // Upper bound on the elements of one groupArray state (also when groupArray(N) asks for
  // more); exceeding it is TOO_LARGE_ARRAY_SIZE.
  uint64_t max_group_array_size = 1 << 20;
};

// Makes the aggregate function `name` (ClickHouse's spelling and case rules; combinators
// resolved from the suffix) for parameters `params` (the literal values of `f(params)(args)`)
// and argument types. Errors: unknown name -> UNKNOWN_AGGREGATE_FUNCTION; wrong argument
// count -> NUMBER_OF_ARGUMENTS_DOESNT_MATCH; unsupported argument type ->
// ILLEGAL_TYPE_OF_ARGUMENT; bad parameters -> BAD_ARGUMENTS.
Result<AggregateFunctionPtr> MakeAggregateFunction(std::string_view name,
                                                   const std::vector<types::Value>& params,
                                                   const std::vector<types::DataTypePtr>& arg_types,
                                                   const AggregateOptions& options);

// Whether `name` names an aggregate function (with or without combinators).
bool IsAggregateFunctionName(std::string_view name);

}  // namespace trackhouse::query
