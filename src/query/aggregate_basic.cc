// count, sum, avg, min, max, any, anyLast, argMin, argMax.
//
// count/sum/avg have hand-written batch loops (no branch per row for integers); the others add
// one row at a time through RowwiseAggregate. Comparisons are ClickHouse's: a value replaces
// the current minimum only when strictly less (so the first of equal values wins, and a NaN
// seen first stays), strings compare bytewise.
#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "query/aggregate_internal.h"

namespace trackhouse::query::agg {
namespace {

using types::Column;
using types::DataType;
using types::TypeId;

// ---------------- count ----------------

class CountFunction final : public StatefulAggregate<uint64_t> {
 public:
  CountFunction() : StatefulAggregate(DataType::Get(TypeId::kUInt64)) {}

  Status AddBatch(size_t rows, char* const* places, size_t offset, const Column* const* args,
                  const uint8_t* mask) const override {
    if (mask) {
      // Masked rows may have no state: only selected rows touch theirs.
      for (size_t i = 0; i < rows; ++i) {
        if (mask[i]) St(places[i] + offset) += 1;
      }
    } else {
      for (size_t i = 0; i < rows; ++i) St(places[i] + offset) += 1;
    }
    return Status::OK();
  }
  Status AddBatchSinglePlace(size_t rows, char* place, const Column* const* args,
                             const uint8_t* mask) const override {
    uint64_t n = rows;
    if (mask) {
      n = 0;
      for (size_t i = 0; i < rows; ++i) n += mask[i] != 0;
    }
    St(place) += n;
    return Status::OK();
  }
  bool counts_rows_only() const override { return true; }
  void AddRowCount(char* place, uint64_t rows) const override { St(place) += rows; }
  Status Merge(char* place, const char* rhs) const override {
    St(place) += St(rhs);
    return Status::OK();
  }
  void InsertResult(const char* place, Column* to) const override {
    AppendNumber<uint64_t>(to, St(place));
  }
};

// ---------------- sum, avg ----------------

// Integers accumulate in 64 bits with wrap-around (kept unsigned so overflow is defined),
// floats in double, added in row order like ClickHouse.
template <typename T>
struct SumTraits {
  static constexpr bool kFloat = std::is_floating_point_v<T>;
  using Work = std::conditional_t<kFloat, double, uint64_t>;
  using Result = std::conditional_t<kFloat, double,
                                    std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>>;
  static TypeId ResultId() {
    return kFloat ? TypeId::kFloat64 : std::is_signed_v<T> ? TypeId::kInt64 : TypeId::kUInt64;
  }
};

template <typename T>
struct AvgState {
  typename SumTraits<T>::Work sum{};
  uint64_t count = 0;
};

// Adds the selected values of `data` to *sum (and counts them into *count when not null).
template <typename T, typename Work>
void SumInto(const T* data, size_t rows, const uint8_t* mask, Work* sum, uint64_t* count) {
  Work s = *sum;
  uint64_t n = rows;
  if (!mask) {
    for (size_t i = 0; i < rows; ++i) s += static_cast<Work>(data[i]);
  } else if constexpr (std::is_floating_point_v<Work>) {
    n = 0;
    for (size_t i = 0; i < rows; ++i) {
      if (mask[i]) {
        s += static_cast<Work>(data[i]);
        ++n;
      }
    }
  } else {
    n = 0;
    for (size_t i = 0; i < rows; ++i) {
      Work take = mask[i] != 0;
      s += static_cast<Work>(data[i]) * take;
      n += take;
    }
  }
  *sum = s;
  if (count) *count += n;
}

template <typename T>
class SumFunction final : public StatefulAggregate<typename SumTraits<T>::Work> {
  using Work = typename SumTraits<T>::Work;

 public:
  SumFunction() : StatefulAggregate<Work>(DataType::Get(SumTraits<T>::ResultId())) {}

  Status AddBatch(size_t rows, char* const* places, size_t offset, const Column* const* args,
                  const uint8_t* mask) const override {
    const T* data = NumReader<T>(*args[0]).data;
    if (!mask) {
      for (size_t i = 0; i < rows; ++i) this->St(places[i] + offset) += static_cast<Work>(data[i]);
    } else {
      // Masked rows may have no state: only selected rows touch theirs.
      for (size_t i = 0; i < rows; ++i) {
        if (mask[i]) this->St(places[i] + offset) += static_cast<Work>(data[i]);
      }
    }
    return Status::OK();
  }
  Status AddBatchSinglePlace(size_t rows, char* place, const Column* const* args,
                             const uint8_t* mask) const override {
    SumInto(NumReader<T>(*args[0]).data, rows, mask, &this->St(place), nullptr);
    return Status::OK();
  }
  Status Merge(char* place, const char* rhs) const override {
    this->St(place) += this->St(rhs);
    return Status::OK();
  }
  void InsertResult(const char* place, Column* to) const override {
    AppendNumber(to, static_cast<typename SumTraits<T>::Result>(this->St(place)));
  }
};

template <typename T>
class AvgFunction final : public StatefulAggregate<AvgState<T>> {
  using Work = typename SumTraits<T>::Work;

 public:
  AvgFunction() : StatefulAggregate<AvgState<T>>(DataType::Get(TypeId::kFloat64)) {}

  Status AddBatch(size_t rows, char* const* places, size_t offset, const Column* const* args,
                  const uint8_t* mask) const override {
    const T* data = NumReader<T>(*args[0]).data;
    for (size_t i = 0; i < rows; ++i) {
      if (mask && !mask[i]) continue;
      AvgState<T>& s = this->St(places[i] + offset);
      s.sum += static_cast<Work>(data[i]);
      ++s.count;
    }
    return Status::OK();
  }
  Status AddBatchSinglePlace(size_t rows, char* place, const Column* const* args,
                             const uint8_t* mask) const override {
    AvgState<T>& s = this->St(place);
    SumInto(NumReader<T>(*args[0]).data, rows, mask, &s.sum, &s.count);
    return Status::OK();
  }
  Status Merge(char* place, const char* rhs) const override {
    this->St(place).sum += this->St(rhs).sum;
    this->St(place).count += this->St(rhs).count;
    return Status::OK();
  }
  void InsertResult(const char* place, Column* to) const override {
    const AvgState<T>& s = this->St(place);
    double sum = static_cast<double>(static_cast<typename SumTraits<T>::Result>(s.sum));
    AppendNumber<double>(to, sum / static_cast<double>(s.count));
  }
};

// ---------------- min, max, any, anyLast ----------------

// One optional value of the argument's type.
template <typename T>
struct NumHolder {
  T value{};
  bool has = false;

  void Set(T v) {
    value = v;
    has = true;
  }
  bool ChangeIfLess(T v) {
    if (has && !(v < value)) return false;
    Set(v);
    return true;
  }
  bool ChangeIfGreater(T v) {
    if (has && !(v > value)) return false;
    Set(v);
    return true;
  }
  void Insert(Column* to) const { AppendNumber<T>(to, value); }
};

struct StringHolder {
  std::string value;
  bool has = false;

  void Set(std::string_view v) {
    value.assign(v.data(), v.size());
    has = true;
  }
  bool ChangeIfLess(std::string_view v) {
    if (has && !(v < std::string_view(value))) return false;
    Set(v);
    return true;
  }
  bool ChangeIfGreater(std::string_view v) {
    if (has && !(v > std::string_view(value))) return false;
    Set(v);
    return true;
  }
  // A FixedString column gets N zero bytes for "no value".
  void Insert(Column* to) const { AppendString(to, value); }
};

template <typename R>
using HolderFor =
    std::conditional_t<kIsStringReader<R>, StringHolder, NumHolder<typename R::ValueType>>;

template <typename H>
auto HeldValue(const H& h) {
  if constexpr (std::is_same_v<H, StringHolder>) {
    return std::string_view(h.value);
  } else {
    return h.value;
  }
}

template <typename R, BaseFunction kFn>
class ExtremeFunction final : public RowwiseAggregate<ExtremeFunction<R, kFn>, HolderFor<R>> {
  using Holder = HolderFor<R>;

 public:
  explicit ExtremeFunction(types::DataTypePtr result)
      : RowwiseAggregate<ExtremeFunction<R, kFn>, Holder>(std::move(result)) {}

  R MakeReaders(const Column* const* args) const { return R(*args[0]); }
  void AddRow(Holder& h, const R& r, size_t i) const {
    if constexpr (kFn == BaseFunction::kMin) {
      h.ChangeIfLess(r[i]);
    } else if constexpr (kFn == BaseFunction::kMax) {
      h.ChangeIfGreater(r[i]);
    } else if constexpr (kFn == BaseFunction::kAny) {
      if (!h.has) h.Set(r[i]);
    } else {
      h.Set(r[i]);
    }
  }
  void MergeState(Holder& h, const Holder& rhs) const {
    if (!rhs.has) return;
    if constexpr (kFn == BaseFunction::kMin) {
      h.ChangeIfLess(HeldValue(rhs));
    } else if constexpr (kFn == BaseFunction::kMax) {
      h.ChangeIfGreater(HeldValue(rhs));
    } else if constexpr (kFn == BaseFunction::kAny) {
      if (!h.has) h.Set(HeldValue(rhs));
    } else {
      h.Set(HeldValue(rhs));
    }
  }
  void InsertState(const Holder& h, Column* to) const { h.Insert(to); }
  size_t HeapBytes(const char* place) const override {
    if constexpr (std::is_same_v<Holder, StringHolder>) {
      return this->St(place).value.capacity();
    } else {
      return 0;
    }
  }
};

// ---------------- argMin, argMax ----------------

// The `arg` of argMin/argMax, of any type: fixed-width values as raw bytes, strings as bytes.
struct ArgHolder {
  uint64_t bits = 0;
  std::string bytes;
};

// Copies row i of the `arg` column into an ArgHolder; the column kind is resolved per batch.
class ArgReader {
 public:
  explicit ArgReader(const Column& c) : column_(&c) {
    switch (c.type()->id()) {
      case TypeId::kString:
      case TypeId::kFixedString:
      case TypeId::kLowCardinality:
        break;
      default:
        types::DispatchVector(c.type()->id(), [&](auto* tag) {
          using T = std::remove_pointer_t<decltype(tag)>;
          fixed_ = reinterpret_cast<const char*>(
              static_cast<const types::ColumnVector<T>&>(c).data().data());
          width_ = sizeof(T);
        });
    }
  }
  void CopyTo(ArgHolder& h, size_t i) const {
    if (fixed_) {
      std::memcpy(&h.bits, fixed_ + i * width_, width_);
      return;
    }
    std::string_view s;
    switch (column_->type()->id()) {
      case TypeId::kString:
        s = StringReader(*column_)[i];
        break;
      case TypeId::kFixedString:
        s = FixedStringReader(*column_)[i];
        break;
      default:
        s = LowCardinalityReader(*column_)[i];
    }
    h.bytes.assign(s.data(), s.size());
  }

 private:
  const Column* column_;
  const char* fixed_ = nullptr;
  size_t width_ = 0;
};

void InsertArg(const ArgHolder& h, Column* to) {
  TypeId id = to->type()->id();
  if (id == TypeId::kString || id == TypeId::kFixedString) return AppendString(to, h.bytes);
  types::DispatchVector(id, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    T v;
    std::memcpy(&v, &h.bits, sizeof(T));
    AppendNumber<T>(to, v);
  });
}

template <typename R>
struct ArgExtremeState {
  ArgHolder arg;
  HolderFor<R> val;
};

template <typename R, bool kMax>
class ArgExtremeFunction final
    : public RowwiseAggregate<ArgExtremeFunction<R, kMax>, ArgExtremeState<R>> {
  using State = ArgExtremeState<R>;
  struct Readers {
    ArgReader arg;
    R val;
  };

 public:
  explicit ArgExtremeFunction(types::DataTypePtr result)
      : RowwiseAggregate<ArgExtremeFunction<R, kMax>, State>(std::move(result)) {}

  Readers MakeReaders(const Column* const* args) const {
    return Readers{ArgReader(*args[0]), R(*args[1])};
  }
  void AddRow(State& s, const Readers& r, size_t i) const {
    bool changed = kMax ? s.val.ChangeIfGreater(r.val[i]) : s.val.ChangeIfLess(r.val[i]);
    if (changed) r.arg.CopyTo(s.arg, i);
  }
  void MergeState(State& s, const State& rhs) const {
    if (!rhs.val.has) return;
    bool changed =
        kMax ? s.val.ChangeIfGreater(HeldValue(rhs.val)) : s.val.ChangeIfLess(HeldValue(rhs.val));
    if (changed) s.arg = rhs.arg;
  }
  void InsertState(const State& s, Column* to) const { InsertArg(s.arg, to); }
  size_t HeapBytes(const char* place) const override {
    const State& s = this->St(place);
    size_t bytes = s.arg.bytes.capacity();
    if constexpr (kIsStringReader<R>) bytes += s.val.value.capacity();
    return bytes;
  }
};

std::string_view FunctionName(BaseFunction fn) {
  switch (fn) {
    case BaseFunction::kSum:
      return "sum";
    case BaseFunction::kAvg:
      return "avg";
    case BaseFunction::kMin:
      return "min";
    case BaseFunction::kMax:
      return "max";
    case BaseFunction::kAny:
      return "any";
    case BaseFunction::kAnyLast:
      return "anyLast";
    case BaseFunction::kArgMin:
      return "argMin";
    default:
      return "argMax";
  }
}

template <BaseFunction kFn>
Result<AggregateFunctionPtr> MakeExtremeOf(const types::DataTypePtr& arg) {
  return WithReader(*arg, FunctionName(kFn), [&](auto tag) -> Result<AggregateFunctionPtr> {
    using R = typename decltype(tag)::type;
    return AggregateFunctionPtr(std::make_shared<ExtremeFunction<R, kFn>>(ValueResultType(arg)));
  });
}

}  // namespace

Result<AggregateFunctionPtr> MakeCount(const Params& params, const ArgTypes& args) {
  TH_RETURN_IF_ERROR(RequireNoParameters("count", params));
  return AggregateFunctionPtr(std::make_shared<CountFunction>());
}

Result<AggregateFunctionPtr> MakeSumOrAvg(BaseFunction fn, const Params& params,
                                          const ArgTypes& args) {
  std::string_view name = FunctionName(fn);
  TH_RETURN_IF_ERROR(RequireNoParameters(name, params));
  TH_RETURN_IF_ERROR(RequireArgumentCount(name, args.size(), 1));
  return WithNumericReader(*args[0], name, [&](auto tag) -> Result<AggregateFunctionPtr> {
    using T = typename decltype(tag)::type::ValueType;
    if (fn == BaseFunction::kSum) return AggregateFunctionPtr(std::make_shared<SumFunction<T>>());
    return AggregateFunctionPtr(std::make_shared<AvgFunction<T>>());
  });
}

Result<AggregateFunctionPtr> MakeExtreme(BaseFunction fn, const Params& params,
                                         const ArgTypes& args) {
  std::string_view name = FunctionName(fn);
  TH_RETURN_IF_ERROR(RequireNoParameters(name, params));
  TH_RETURN_IF_ERROR(RequireArgumentCount(name, args.size(), 1));
  switch (fn) {
    case BaseFunction::kMin:
      return MakeExtremeOf<BaseFunction::kMin>(args[0]);
    case BaseFunction::kMax:
      return MakeExtremeOf<BaseFunction::kMax>(args[0]);
    case BaseFunction::kAny:
      return MakeExtremeOf<BaseFunction::kAny>(args[0]);
    default:
      return MakeExtremeOf<BaseFunction::kAnyLast>(args[0]);
  }
}

Result<AggregateFunctionPtr> MakeArgExtreme(BaseFunction fn, const Params& params,
                                            const ArgTypes& args) {
  std::string_view name = FunctionName(fn);
  TH_RETURN_IF_ERROR(RequireNoParameters(name, params));
  TH_RETURN_IF_ERROR(RequireArgumentCount(name, args.size(), 2));
  // The arg may be any type the readers know; checked here so InsertArg never sees another.
  TH_RETURN_IF_ERROR(WithReader(*args[0], name, [](auto) -> Result<AggregateFunctionPtr> {
                       return AggregateFunctionPtr();
                     }).status());
  types::DataTypePtr result = ValueResultType(args[0]);
  return WithReader(*args[1], name, [&](auto tag) -> Result<AggregateFunctionPtr> {
    using R = typename decltype(tag)::type;
    if (fn == BaseFunction::kArgMin) {
      return AggregateFunctionPtr(std::make_shared<ArgExtremeFunction<R, false>>(result));
    }
    return AggregateFunctionPtr(std::make_shared<ArgExtremeFunction<R, true>>(result));
  });
}

}  // namespace trackhouse::query::agg
