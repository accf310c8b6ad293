// groupArray(x) and groupArray(max_size)(x): the values of a group in the order they were added
// (across merged partial states: this state's first, then the other's).
//
// groupArray(max_size) keeps the first max_size values and ignores the rest, as ClickHouse
// does. Independently, no state may hold more than AggregateOptions::max_group_array_size
// values: adding or merging past that bound is TOO_LARGE_ARRAY_SIZE (also for groupArray(N)
// with N above the bound).
#include <fmt/format.h>

#include <string>

#include "query/aggregate_internal.h"

namespace trackhouse::query::agg {
namespace {

using types::Column;
using types::DataType;

template <typename R>
using Stored = std::conditional_t<kIsStringReader<R>, std::string, typename R::ValueType>;

template <typename R>
class GroupArrayFunction final
    : public RowwiseAggregate<GroupArrayFunction<R>, std::vector<Stored<R>>> {
  using State = std::vector<Stored<R>>;

 public:
  // `keep`: groupArray(N)'s N, or 0 for all values; `bound`: the hard limit.
  GroupArrayFunction(types::DataTypePtr result, uint64_t keep, uint64_t bound)
      : RowwiseAggregate<GroupArrayFunction<R>, State>(std::move(result)),
        keep_(keep),
        bound_(bound) {}

  R MakeReaders(const Column* const* args) const { return R(*args[0]); }
  Status AddRow(State& s, const R& r, size_t i) const {
    if (keep_ && s.size() >= keep_) return Status::OK();
    if (s.size() >= bound_) return TooLarge();
    s.emplace_back(r[i]);
    return Status::OK();
  }
  Status MergeState(State& s, const State& rhs) const {
    size_t take = rhs.size();
    if (keep_) take = std::min<size_t>(take, keep_ > s.size() ? keep_ - s.size() : 0);
    if (s.size() + take > bound_) return TooLarge();
    s.insert(s.end(), rhs.begin(), rhs.begin() + static_cast<ptrdiff_t>(take));
    return Status::OK();
  }
  void InsertState(const State& s, Column* to) const {
    auto* array = static_cast<types::ColumnArray*>(to);
    Column* data = &array->data();
    for (const auto& v : s) {
      if constexpr (kIsStringReader<R>) {
        AppendString(data, v);
      } else {
        AppendNumber(data, v);
      }
    }
    array->FinishRow();
  }
  size_t HeapBytes(const char* place) const override {
    const State& s = this->St(place);
    size_t bytes = s.capacity() * sizeof(Stored<R>);
    if constexpr (kIsStringReader<R>) {
      for (const auto& v : s) bytes += v.capacity() > 15 ? v.capacity() : 0;
    }
    return bytes;
  }

 private:
  Status TooLarge() const {
    return Status(StatusCode::kResourceExhausted,
                  fmt::format("Too large array size: groupArray may hold at most {} elements "
                              "(max_group_array_size)",
                              bound_),
                  ch::kTooLargeArraySize);
  }

  uint64_t keep_;
  uint64_t bound_;
};

constexpr std::string_view kName = "groupArray";

}  // namespace

Result<AggregateFunctionPtr> MakeGroupArray(const Params& params, const ArgTypes& args,
                                            const AggregateOptions& options) {
  if (params.size() > 1) {
    return Status::InvalidArgument(
        "Incorrect number of parameters for aggregate function groupArray, should be 0 or 1",
        ch::kNumberOfArgumentsDoesntMatch);
  }
  uint64_t keep = 0;
  if (!params.empty()) {
    const types::Value& p = params[0];
    bool positive = (p.kind() == types::Value::Kind::kUInt && p.uint_value() > 0) ||
                    (p.kind() == types::Value::Kind::kInt && p.int_value() > 0);
    if (!positive) {
      return Status::InvalidArgument(
          "Parameter for aggregate function groupArray should be positive number");
    }
    keep = p.AsUInt();
  }
  TH_RETURN_IF_ERROR(RequireArgumentCount(kName, args.size(), 1));
  types::DataTypePtr result = DataType::Array(ValueResultType(args[0]));
  return WithReader(*args[0], kName, [&](auto tag) -> Result<AggregateFunctionPtr> {
    using R = typename decltype(tag)::type;
    return AggregateFunctionPtr(
        std::make_shared<GroupArrayFunction<R>>(result, keep, options.max_group_array_size));
  });
}

}  // namespace trackhouse::query::agg
