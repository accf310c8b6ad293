// Private to the aggregate functions (aggregate*.cc): the building blocks every function uses.
//
//   readers      typed views of an argument column, chosen when the function is made, so the
//                per-row loops are templated on the physical type (no virtual call per row)
//   StatefulAggregate / RowwiseAggregate
//                the state plumbing (size, Create/Destroy) and, for functions that add one
//                row at a time, the batch loops
//   Make*        the function families; each validates its own arguments and parameters and
//                receives argument types without Nullable (the Null adaptor in aggregate.cc
//                strips NULL rows before they get here)
//
// Everything here is immutable once made and thread-safe in the sense of aggregate.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "common/status.h"
#include "query/aggregate.h"
#include "types/column.h"
#include "types/data_type.h"
#include "types/value.h"

namespace trackhouse::query::agg {

// ClickHouse's intHash64 (the MurmurHash3 finalizer), which uniq applies to its keys.
inline uint64_t IntHash64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

// ---- readers: row i of an argument column, by physical representation ----

template <typename T>
struct NumReader {
  using ValueType = T;
  explicit NumReader(const types::Column& c)
      : data(static_cast<const types::ColumnVector<T>&>(c).data().data()) {}
  T operator[](size_t i) const { return data[i]; }
  const T* data;
};

struct StringReader {
  using ValueType = std::string_view;
  explicit StringReader(const types::Column& c)
      : column(static_cast<const types::ColumnString*>(&c)) {}
  std::string_view operator[](size_t i) const { return column->View(i); }
  const types::ColumnString* column;
};

struct FixedStringReader {
  using ValueType = std::string_view;
  explicit FixedStringReader(const types::Column& c)
      : column(static_cast<const types::ColumnFixedString*>(&c)) {}
  std::string_view operator[](size_t i) const { return column->View(i); }
  const types::ColumnFixedString* column;
};

struct LowCardinalityReader {
  using ValueType = std::string_view;
  explicit LowCardinalityReader(const types::Column& c)
      : column(static_cast<const types::ColumnLowCardinality*>(&c)),
        indices(column->indices().data()) {}
  std::string_view operator[](size_t i) const { return column->dictionary()[indices[i]]; }
  const types::ColumnLowCardinality* column;
  const uint32_t* indices;
};

template <typename R>
inline constexpr bool kIsStringReader = std::is_same_v<typename R::ValueType, std::string_view>;

template <typename R>
struct ReaderTag {
  using type = R;
};

// Calls fn(ReaderTag<R>{}) with the reader for `type` (not Nullable, not Array): numbers, Bool,
// times, String, FixedString, LowCardinality(String). Other types are ILLEGAL_TYPE_OF_ARGUMENT
// for aggregate function `fn_name`.
template <typename Fn>
Result<AggregateFunctionPtr> WithReader(const types::DataType& type, std::string_view fn_name,
                                        Fn&& fn);

// Like WithReader, but numbers and Bool only.
template <typename Fn>
Result<AggregateFunctionPtr> WithNumericReader(const types::DataType& type,
                                               std::string_view fn_name, Fn&& fn);

Status IllegalArgumentType(const types::DataType& type, std::string_view fn_name);

// ---- writing results ----

template <typename T>
void AppendNumber(types::Column* to, T v) {
  static_cast<types::ColumnVector<T>*>(to)->push_back(v);
}
// Appends to a String or FixedString column (a FixedString value is already N bytes).
void AppendString(types::Column* to, std::string_view s);

// The result type for values read from `arg` (LowCardinality(String) gives String).
types::DataTypePtr ValueResultType(const types::DataTypePtr& arg);

// ---- state plumbing ----

template <typename State>
class StatefulAggregate : public AggregateFunction {
 public:
  size_t state_size() const override { return sizeof(State); }
  size_t state_align() const override { return alignof(State); }
  void Create(char* place) const override { new (place) State(); }
  void Destroy(char* place) const noexcept override { St(place).~State(); }
  bool has_trivial_destructor() const override { return std::is_trivially_destructible_v<State>; }

 protected:
  using AggregateFunction::AggregateFunction;
  static State& St(char* place) { return *std::launder(reinterpret_cast<State*>(place)); }
  static const State& St(const char* place) {
    return *std::launder(reinterpret_cast<const State*>(place));
  }
};

// For functions that add one row at a time. Derived provides
//   Readers MakeReaders(const types::Column* const* args) const;
//   void-or-Status AddRow(State&, const Readers&, size_t row) const;
//   void-or-Status MergeState(State&, const State&) const;
//   void InsertState(const State&, types::Column* to) const;
template <typename Derived, typename State>
class RowwiseAggregate : public StatefulAggregate<State> {
 public:
  Status AddBatch(size_t rows, char* const* places, size_t offset, const types::Column* const* args,
                  const uint8_t* mask) const override {
    const Derived& self = static_cast<const Derived&>(*this);
    auto readers = self.MakeReaders(args);
    for (size_t i = 0; i < rows; ++i) {
      if (mask && !mask[i]) continue;
      TH_RETURN_IF_ERROR(Call(self, this->St(places[i] + offset), readers, i));
    }
    return Status::OK();
  }
  Status AddBatchSinglePlace(size_t rows, char* place, const types::Column* const* args,
                             const uint8_t* mask) const override {
    const Derived& self = static_cast<const Derived&>(*this);
    auto readers = self.MakeReaders(args);
    State& state = this->St(place);
    for (size_t i = 0; i < rows; ++i) {
      if (mask && !mask[i]) continue;
      TH_RETURN_IF_ERROR(Call(self, state, readers, i));
    }
    return Status::OK();
  }
  Status Merge(char* place, const char* rhs) const override {
    const Derived& self = static_cast<const Derived&>(*this);
    if constexpr (std::is_same_v<decltype(self.MergeState(this->St(place), this->St(rhs))),
                                 Status>) {
      return self.MergeState(this->St(place), this->St(rhs));
    } else {
      self.MergeState(this->St(place), this->St(rhs));
      return Status::OK();
    }
  }
  void InsertResult(const char* place, types::Column* to) const override {
    static_cast<const Derived&>(*this).InsertState(this->St(place), to);
  }

 protected:
  using StatefulAggregate<State>::StatefulAggregate;

 private:
  template <typename Readers>
  static Status Call(const Derived& self, State& state, const Readers& readers, size_t i) {
    if constexpr (std::is_same_v<decltype(self.AddRow(state, readers, i)), Status>) {
      return self.AddRow(state, readers, i);
    } else {
      self.AddRow(state, readers, i);
      return Status::OK();
    }
  }
};

// ---- argument and parameter checks (ClickHouse's messages) ----

Status RequireArgumentCount(std::string_view fn_name, size_t passed, size_t expected);
Status RequireNoParameters(std::string_view fn_name, const std::vector<types::Value>& params);

// ---- the families (argument types without Nullable) ----

enum class BaseFunction : uint8_t {
  kCount,
  kSum,
  kAvg,
  kMin,
  kMax,
  kAny,
  kAnyLast,
  kArgMin,
  kArgMax,
  kUniq,
  kUniqExact,
  kQuantile,
  kQuantiles,
  kGroupArray,
};

using ArgTypes = std::vector<types::DataTypePtr>;
using Params = std::vector<types::Value>;

Result<AggregateFunctionPtr> MakeCount(const Params& params, const ArgTypes& args);
Result<AggregateFunctionPtr> MakeSumOrAvg(BaseFunction fn, const Params& params,
                                          const ArgTypes& args);
// min, max, any, anyLast.
Result<AggregateFunctionPtr> MakeExtreme(BaseFunction fn, const Params& params,
                                         const ArgTypes& args);
Result<AggregateFunctionPtr> MakeArgExtreme(BaseFunction fn, const Params& params,
                                            const ArgTypes& args);
Result<AggregateFunctionPtr> MakeUniq(BaseFunction fn, const Params& params, const ArgTypes& args);
// quantile, median, quantiles; `name` is what the query called it.
Result<AggregateFunctionPtr> MakeQuantile(BaseFunction fn, std::string_view name,
                                          const Params& params, const ArgTypes& args);
Result<AggregateFunctionPtr> MakeGroupArray(const Params& params, const ArgTypes& args,
                                            const AggregateOptions& options);

// ---- implementation of the reader dispatch ----

template <typename Fn>
Result<AggregateFunctionPtr> WithNumericReader(const types::DataType& type,
                                               std::string_view fn_name, Fn&& fn) {
  using types::TypeId;
  switch (type.id()) {
    case TypeId::kInt8:
      return fn(ReaderTag<NumReader<int8_t>>{});
    case TypeId::kInt16:
      return fn(ReaderTag<NumReader<int16_t>>{});
    case TypeId::kInt32:
      return fn(ReaderTag<NumReader<int32_t>>{});
    case TypeId::kInt64:
      return fn(ReaderTag<NumReader<int64_t>>{});
    case TypeId::kUInt8:
    case TypeId::kBool:
      return fn(ReaderTag<NumReader<uint8_t>>{});
    case TypeId::kUInt16:
      return fn(ReaderTag<NumReader<uint16_t>>{});
    case TypeId::kUInt32:
      return fn(ReaderTag<NumReader<uint32_t>>{});
    case TypeId::kUInt64:
      return fn(ReaderTag<NumReader<uint64_t>>{});
    case TypeId::kFloat32:
      return fn(ReaderTag<NumReader<float>>{});
    case TypeId::kFloat64:
      return fn(ReaderTag<NumReader<double>>{});
    default:
      return IllegalArgumentType(type, fn_name);
  }
}

template <typename Fn>
Result<AggregateFunctionPtr> WithReader(const types::DataType& type, std::string_view fn_name,
                                        Fn&& fn) {
  using types::TypeId;
  switch (type.id()) {
    case TypeId::kDate:
      return fn(ReaderTag<NumReader<uint16_t>>{});
    case TypeId::kDateTime:
      return fn(ReaderTag<NumReader<uint32_t>>{});
    case TypeId::kDateTime64:
      return fn(ReaderTag<NumReader<int64_t>>{});
    case TypeId::kString:
      return fn(ReaderTag<StringReader>{});
    case TypeId::kFixedString:
      return fn(ReaderTag<FixedStringReader>{});
    case TypeId::kLowCardinality:
      return fn(ReaderTag<LowCardinalityReader>{});
    default:
      return WithNumericReader(type, fn_name, std::forward<Fn>(fn));
  }
}

}  // namespace trackhouse::query::agg
