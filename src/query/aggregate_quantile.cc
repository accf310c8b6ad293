// quantile(level)(x), median(x), quantiles(l1, ...)(x): ClickHouse's reservoir sampler.
//
// A state keeps a uniform sample of at most 8192 of the values added (Algorithm R, with
// ClickHouse's generator: pcg32_fast seeded with 123456), so the result is exact while a group
// has at most 8192 values, and for larger groups matches ClickHouse when the rows arrive in the
// same order. A quantile is read from the sorted sample by linear interpolation between the two
// neighbouring values at position level * (n - 1). NaN values are skipped. Numbers give
// Float64; Date, DateTime and DateTime64 give their own type (the interpolated value truncated).
// With no values the result is nan (numbers) or the zero date/time.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "query/aggregate_internal.h"

namespace trackhouse::query::agg {
namespace {

using types::Column;
using types::DataType;
using types::TypeId;

constexpr size_t kSampleCount = 8192;
constexpr uint64_t kSeed = 123456;

// pcg32_fast (PCG's 64-bit multiplicative generator with the xsh-rs output), as ClickHouse
// uses for its sampler; the state after seeding with s is s | 3.
class Pcg32Fast {
 public:
  explicit Pcg32Fast(uint64_t seed) : state_(seed | 3) {}
  static constexpr uint64_t kMax = 0xffffffffULL;

  uint32_t Next() {
    uint64_t old = state_;
    state_ = old * 6364136223846793005ULL;
    uint32_t shift = static_cast<uint32_t>(old >> 61);
    old ^= old >> 22;
    return static_cast<uint32_t>(old >> (22 + shift));
  }

 private:
  uint64_t state_;
};

template <typename T>
struct Reservoir {
  std::vector<T> samples;
  uint64_t total = 0;
  Pcg32Fast rng{kSeed};

  uint64_t Random(uint64_t limit) {
    if (limit <= Pcg32Fast::kMax) return Next32() % static_cast<uint32_t>(limit);
    uint64_t high = Next32();
    uint64_t low = Next32();
    return (high * (Pcg32Fast::kMax + 1) + low) % limit;
  }
  uint32_t Next32() { return rng.Next(); }

  void Insert(T v) {
    if constexpr (std::is_floating_point_v<T>) {
      if (v != v) return;
    }
    ++total;
    if (samples.size() < kSampleCount) {
      samples.push_back(v);
      return;
    }
    uint64_t r = Random(total);
    if (r < kSampleCount) samples[r] = v;
  }

  void Merge(const Reservoir& b) {
    if (b.total <= kSampleCount) {
      for (T v : b.samples) Insert(v);
    } else if (total <= kSampleCount) {
      std::vector<T> mine = std::move(samples);
      samples = b.samples;
      total = b.total;
      for (T v : mine) Insert(v);
    } else {
      for (size_t i = 1; i < samples.size(); ++i) std::swap(samples[i], samples[Random(i + 1)]);
      total += b.total;
      for (size_t i = 0; i < kSampleCount; ++i) {
        if (Random(total) < b.total) samples[i] = b.samples[i];
      }
    }
  }
};

// The interpolated quantile of a sorted, non-empty sample.
template <typename T>
double Interpolate(const std::vector<T>& sorted, double level) {
  double last = static_cast<double>(sorted.size() - 1);
  double index = std::max(0.0, std::min(last, level * last));
  size_t left = static_cast<size_t>(index);
  if (left + 1 == sorted.size()) return static_cast<double>(sorted[left]);
  double left_coef = static_cast<double>(left + 1) - index;
  double right_coef = index - static_cast<double>(left);
  return static_cast<double>(sorted[left]) * left_coef +
         static_cast<double>(sorted[left + 1]) * right_coef;
}

// kTime: the argument is a Date/DateTime/DateTime64 and the result has its type.
template <typename T, bool kTime>
class QuantileFunction final : public RowwiseAggregate<QuantileFunction<T, kTime>, Reservoir<T>> {
  using State = Reservoir<T>;

 public:
  QuantileFunction(types::DataTypePtr result, std::vector<double> levels, bool array)
      : RowwiseAggregate<QuantileFunction<T, kTime>, State>(std::move(result)),
        levels_(std::move(levels)),
        array_(array) {}

  NumReader<T> MakeReaders(const Column* const* args) const { return NumReader<T>(*args[0]); }
  void AddRow(State& s, const NumReader<T>& r, size_t i) const { s.Insert(r[i]); }
  void MergeState(State& s, const State& rhs) const { s.Merge(rhs); }
  void InsertState(const State& s, Column* to) const {
    std::vector<T> sorted = s.samples;
    std::sort(sorted.begin(), sorted.end());
    Column* out = array_ ? &static_cast<types::ColumnArray*>(to)->data() : to;
    for (double level : levels_) {
      if constexpr (kTime) {
        AppendNumber<T>(out, sorted.empty() ? T{} : static_cast<T>(Interpolate(sorted, level)));
      } else {
        AppendNumber<double>(out, sorted.empty() ? std::numeric_limits<double>::quiet_NaN()
                                                 : Interpolate(sorted, level));
      }
    }
    if (array_) static_cast<types::ColumnArray*>(to)->FinishRow();
  }
  size_t HeapBytes(const char* place) const override {
    return this->St(place).samples.capacity() * sizeof(T);
  }

 private:
  std::vector<double> levels_;
  bool array_;  // quantiles: one Array row of all levels
};

Result<double> Level(std::string_view name, const types::Value& v) {
  double level;
  switch (v.kind()) {
    case types::Value::Kind::kInt:
    case types::Value::Kind::kUInt:
    case types::Value::Kind::kFloat:
      level = v.AsFloat();
      break;
    default:
      return Status::InvalidArgument(
          fmt::format("Parameter of aggregate function {} must be a number, got {}", name,
                      v.ToString()),
          ch::kCannotConvertType);
  }
  if (!(level >= 0 && level <= 1)) {
    return Status::InvalidArgument("Quantile level is out of range [0..1]");
  }
  return level;
}

}  // namespace

Result<AggregateFunctionPtr> MakeQuantile(BaseFunction fn, std::string_view name,
                                          const Params& params, const ArgTypes& args) {
  bool array = fn == BaseFunction::kQuantiles;
  std::vector<double> levels;
  if (array) {
    if (params.empty()) {
      return Status::InvalidArgument("Parameters list to aggregate functions cannot be empty");
    }
  } else if (params.size() > 1) {
    return Status::InvalidArgument(
        fmt::format("Aggregate function {} require one parameter or less", name),
        ch::kNumberOfArgumentsDoesntMatch);
  }
  for (const auto& p : params) {
    TH_ASSIGN_OR_RETURN(double level, Level(name, p));
    levels.push_back(level);
  }
  if (levels.empty()) levels.push_back(0.5);
  TH_RETURN_IF_ERROR(RequireArgumentCount(name, args.size(), 1));

  const types::DataTypePtr& arg = args[0];
  auto wrap = [&](types::DataTypePtr t) { return array ? DataType::Array(std::move(t)) : t; };
  auto make_time = [&](auto* tag) -> Result<AggregateFunctionPtr> {
    using T = std::remove_pointer_t<decltype(tag)>;
    return AggregateFunctionPtr(
        std::make_shared<QuantileFunction<T, true>>(wrap(arg), std::move(levels), array));
  };
  switch (arg->id()) {
    case TypeId::kDate:
      return make_time(static_cast<uint16_t*>(nullptr));
    case TypeId::kDateTime:
      return make_time(static_cast<uint32_t*>(nullptr));
    case TypeId::kDateTime64:
      return make_time(static_cast<int64_t*>(nullptr));
    default:
      break;
  }
  return WithNumericReader(*arg, name, [&](auto tag) -> Result<AggregateFunctionPtr> {
    using T = typename decltype(tag)::type::ValueType;
    return AggregateFunctionPtr(std::make_shared<QuantileFunction<T, false>>(
        wrap(DataType::Get(TypeId::kFloat64)), std::move(levels), array));
  });
}

}  // namespace trackhouse::query::agg
