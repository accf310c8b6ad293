// The aggregate function factory: name resolution with ClickHouse's case rules and the -If
// combinator, and the two adaptors that sit between the executor and a function's core:
//   IfAdaptor    countIf(cond), sumIf(x, cond): rows whose condition is 0 are left out
//   NullAdaptor  Nullable arguments: rows where any of them is NULL are left out, the core sees
//                the nested (non-Nullable) columns, and the result is NULL when no row was added
// Both turn their condition into a row mask and hand the batch on, so the core's tight loops
// see at most one mask.
#include "query/aggregate.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <utility>

#include "query/aggregate_internal.h"

namespace trackhouse::query {
namespace agg {

Status IllegalArgumentType(const types::DataType& type, std::string_view fn_name) {
  return Status::InvalidArgument(
      fmt::format("Illegal type {} of argument for aggregate function {}", type.name(), fn_name),
      ch::kIllegalTypeOfArgument);
}

void AppendString(types::Column* to, std::string_view s) {
  if (to->type()->id() == types::TypeId::kFixedString) {
    // The value came from a column of the same FixedString(N), so it fits.
    static_cast<types::ColumnFixedString*>(to)->Append(s).IgnoreError();
  } else {
    static_cast<types::ColumnString*>(to)->Append(s);
  }
}

types::DataTypePtr ValueResultType(const types::DataTypePtr& arg) {
  if (arg->id() == types::TypeId::kLowCardinality) {
    return types::DataType::Get(types::TypeId::kString);
  }
  return arg;
}

Status RequireArgumentCount(std::string_view fn_name, size_t passed, size_t expected) {
  if (passed == expected) return Status::OK();
  return Status::InvalidArgument(fmt::format("Aggregate function {} require {}", fn_name,
                                             expected == 1 ? "single argument" : "two arguments"),
                                 ch::kNumberOfArgumentsDoesntMatch);
}

Status RequireNoParameters(std::string_view fn_name, const std::vector<types::Value>& params) {
  if (params.empty()) return Status::OK();
  return Status::InvalidArgument(
      fmt::format("Aggregate function {} cannot have parameters", fn_name));
}

namespace {

// A scratch row mask per adaptor nesting level and thread (adaptors nest: Null(If(If(f)))).
uint8_t* ScratchMask(size_t level, size_t rows) {
  thread_local std::vector<std::vector<uint8_t>> masks;
  if (masks.size() <= level) masks.resize(level + 1);
  auto& m = masks[level];
  if (m.size() < rows) m.resize(rows);
  return m.data();
}

void InitMask(uint8_t* out, const uint8_t* mask, size_t rows) {
  if (mask) {
    for (size_t i = 0; i < rows; ++i) out[i] = mask[i] != 0;
  } else {
    std::fill(out, out + rows, uint8_t{1});
  }
}

// Forwards the state plumbing to a nested function whose state sits at `nested_offset`.
class AdaptorBase : public AggregateFunction {
 public:
  AdaptorBase(types::DataTypePtr result_type, AggregateFunctionPtr nested, size_t nested_offset,
              size_t level)
      : AggregateFunction(std::move(result_type)),
        nested_(std::move(nested)),
        nested_offset_(nested_offset),
        level_(level) {}

  size_t state_size() const override { return nested_offset_ + nested_->state_size(); }
  size_t state_align() const override { return nested_->state_align(); }
  void Create(char* place) const override {
    std::fill(place, place + nested_offset_, char{0});
    nested_->Create(place + nested_offset_);
  }
  void Destroy(char* place) const noexcept override { nested_->Destroy(place + nested_offset_); }
  bool has_trivial_destructor() const override { return nested_->has_trivial_destructor(); }
  size_t HeapBytes(const char* place) const override {
    return nested_->HeapBytes(place + nested_offset_);
  }

 protected:
  AggregateFunctionPtr nested_;
  size_t nested_offset_;
  size_t level_;  // index of this adaptor's scratch mask
};

class IfAdaptor final : public AdaptorBase {
 public:
  IfAdaptor(AggregateFunctionPtr nested, size_t num_args, size_t level)
      : AdaptorBase(nested->result_type(), nested, 0, level), cond_index_(num_args - 1) {}

  Status AddBatch(size_t rows, char* const* places, size_t offset, const types::Column* const* args,
                  const uint8_t* mask) const override {
    return nested_->AddBatch(rows, places, offset, args, Combine(rows, args, mask));
  }
  Status AddBatchSinglePlace(size_t rows, char* place, const types::Column* const* args,
                             const uint8_t* mask) const override {
    return nested_->AddBatchSinglePlace(rows, place, args, Combine(rows, args, mask));
  }
  Status Merge(char* place, const char* rhs) const override { return nested_->Merge(place, rhs); }
  void InsertResult(const char* place, types::Column* to) const override {
    nested_->InsertResult(place, to);
  }

 private:
  const uint8_t* Combine(size_t rows, const types::Column* const* args, const uint8_t* mask) const {
    const uint8_t* cond =
        static_cast<const types::ColumnVector<uint8_t>&>(*args[cond_index_]).data().data();
    uint8_t* out = ScratchMask(level_, rows);
    if (mask) {
      for (size_t i = 0; i < rows; ++i) out[i] = (mask[i] != 0) & (cond[i] != 0);
    } else {
      for (size_t i = 0; i < rows; ++i) out[i] = cond[i] != 0;
    }
    return out;
  }

  size_t cond_index_;
};

class NullAdaptor final : public AdaptorBase {
 public:
  // `nullable[i]`: whether argument i is Nullable. With `result_nullable` the state starts with
  // a byte that says whether any row was added, and the result is NULL while it is 0.
  NullAdaptor(AggregateFunctionPtr nested, std::vector<bool> nullable, bool result_nullable,
              size_t level)
      : AdaptorBase(result_nullable ? types::DataType::Nullable(nested->result_type())
                                    : nested->result_type(),
                    nested, result_nullable ? nested->state_align() : 0, level),
        nullable_(std::move(nullable)),
        result_nullable_(result_nullable) {}

  Status AddBatch(size_t rows, char* const* places, size_t offset, const types::Column* const* args,
                  const uint8_t* mask) const override {
    std::vector<const types::Column*> nested_args;
    const uint8_t* m = Strip(rows, args, mask, &nested_args);
    TH_RETURN_IF_ERROR(
        nested_->AddBatch(rows, places, offset + nested_offset_, nested_args.data(), m));
    if (result_nullable_) {
      for (size_t i = 0; i < rows; ++i) {
        if (m[i]) places[i][offset] = 1;
      }
    }
    return Status::OK();
  }
  Status AddBatchSinglePlace(size_t rows, char* place, const types::Column* const* args,
                             const uint8_t* mask) const override {
    std::vector<const types::Column*> nested_args;
    const uint8_t* m = Strip(rows, args, mask, &nested_args);
    TH_RETURN_IF_ERROR(
        nested_->AddBatchSinglePlace(rows, place + nested_offset_, nested_args.data(), m));
    if (result_nullable_) {
      uint8_t any = 0;
      for (size_t i = 0; i < rows; ++i) any |= m[i];
      place[0] |= static_cast<char>(any);
    }
    return Status::OK();
  }
  Status Merge(char* place, const char* rhs) const override {
    if (result_nullable_) place[0] |= rhs[0];
    return nested_->Merge(place + nested_offset_, rhs + nested_offset_);
  }
  void InsertResult(const char* place, types::Column* to) const override {
    if (!result_nullable_) return nested_->InsertResult(place + nested_offset_, to);
    auto* column = static_cast<types::ColumnNullable*>(to);
    if (place[0] == 0) {
      column->AppendNull();
      return;
    }
    nested_->InsertResult(place + nested_offset_, &column->nested());
    column->AppendNotNullMark();
  }

 private:
  // Fills *nested_args with the arguments' nested columns and returns the mask of rows where
  // none is NULL (and `mask` allows).
  const uint8_t* Strip(size_t rows, const types::Column* const* args, const uint8_t* mask,
                       std::vector<const types::Column*>* nested_args) const {
    uint8_t* out = ScratchMask(level_, rows);
    InitMask(out, mask, rows);
    nested_args->resize(nullable_.size());
    for (size_t a = 0; a < nullable_.size(); ++a) {
      if (!nullable_[a]) {
        (*nested_args)[a] = args[a];
        continue;
      }
      const auto& column = static_cast<const types::ColumnNullable&>(*args[a]);
      (*nested_args)[a] = &column.nested();
      const uint8_t* nulls = column.null_map().data();
      for (size_t i = 0; i < rows; ++i) out[i] &= nulls[i] == 0;
    }
    return out;
  }

  std::vector<bool> nullable_;
  bool result_nullable_;
};

struct NameEntry {
  std::string_view name;
  BaseFunction fn;
  bool case_insensitive;
};

constexpr NameEntry kNames[] = {
    {"count", BaseFunction::kCount, true},
    {"sum", BaseFunction::kSum, true},
    {"avg", BaseFunction::kAvg, true},
    {"min", BaseFunction::kMin, true},
    {"max", BaseFunction::kMax, true},
    {"any", BaseFunction::kAny, false},
    {"anyLast", BaseFunction::kAnyLast, false},
    {"argMin", BaseFunction::kArgMin, false},
    {"argMax", BaseFunction::kArgMax, false},
    {"uniq", BaseFunction::kUniq, false},
    {"uniqExact", BaseFunction::kUniqExact, false},
    {"quantile", BaseFunction::kQuantile, false},
    {"median", BaseFunction::kQuantile, false},
    {"quantiles", BaseFunction::kQuantiles, false},
    {"groupArray", BaseFunction::kGroupArray, false},
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

const NameEntry* FindBase(std::string_view name) {
  for (const auto& e : kNames) {
    if (e.name == name || (e.case_insensitive && EqualsIgnoreCase(e.name, name))) return &e;
  }
  return nullptr;
}

constexpr std::string_view kIfSuffix = "If";

// "sumIf" -> "sum"; empty when `name` does not end with the -If combinator.
std::string_view StripIf(std::string_view name) {
  if (name.size() <= kIfSuffix.size() || !name.ends_with(kIfSuffix)) return {};
  return name.substr(0, name.size() - kIfSuffix.size());
}

// The function under all -If suffixes ("countIfIf" -> count).
const NameEntry* Innermost(std::string_view name) {
  while (true) {
    if (const NameEntry* e = FindBase(name)) return e;
    name = StripIf(name);
    if (name.empty()) return nullptr;
  }
}

Result<AggregateFunctionPtr> MakeBase(const NameEntry& entry, std::string_view name,
                                      const Params& params, const ArgTypes& args,
                                      const AggregateOptions& options) {
  switch (entry.fn) {
    case BaseFunction::kCount:
      return MakeCount(params, args);
    case BaseFunction::kSum:
    case BaseFunction::kAvg:
      return MakeSumOrAvg(entry.fn, params, args);
    case BaseFunction::kMin:
    case BaseFunction::kMax:
    case BaseFunction::kAny:
    case BaseFunction::kAnyLast:
      return MakeExtreme(entry.fn, params, args);
    case BaseFunction::kArgMin:
    case BaseFunction::kArgMax:
      return MakeArgExtreme(entry.fn, params, args);
    case BaseFunction::kUniq:
    case BaseFunction::kUniqExact:
      return MakeUniq(entry.fn, params, args);
    case BaseFunction::kQuantile:
    case BaseFunction::kQuantiles:
      return MakeQuantile(entry.fn, entry.name, params, args);
    case BaseFunction::kGroupArray:
      return MakeGroupArray(params, args, options);
  }
  return Status::Internal(fmt::format("aggregate function {} has no maker", name));
}

// `args` carry no Nullable. `level` numbers the adaptors from the outside in.
Result<AggregateFunctionPtr> MakeNotNull(std::string_view name, const Params& params,
                                         const ArgTypes& args, const AggregateOptions& options,
                                         size_t level) {
  if (const NameEntry* entry = FindBase(name)) return MakeBase(*entry, name, params, args, options);
  std::string_view nested_name = StripIf(name);
  if (nested_name.empty() || !IsAggregateFunctionName(nested_name)) {
    return Status::InvalidArgument(fmt::format("Unknown aggregate function {}", name),
                                   ch::kUnknownAggregateFunction);
  }
  if (args.empty()) {
    return Status::InvalidArgument(
        "Incorrect number of arguments for aggregate function with If "
        "suffix",
        ch::kNumberOfArgumentsDoesntMatch);
  }
  const types::DataType& cond = *args.back();
  if (cond.id() != types::TypeId::kUInt8 && cond.id() != types::TypeId::kBool) {
    return Status::InvalidArgument(
        fmt::format("Illegal type {} of last argument for aggregate function with If suffix",
                    cond.name()),
        ch::kIllegalTypeOfArgument);
  }
  ArgTypes nested_args(args.begin(), args.end() - 1);
  TH_ASSIGN_OR_RETURN(AggregateFunctionPtr nested,
                      MakeNotNull(nested_name, params, nested_args, options, level + 1));
  return AggregateFunctionPtr(std::make_shared<IfAdaptor>(std::move(nested), args.size(), level));
}

}  // namespace
}  // namespace agg

bool IsAggregateFunctionName(std::string_view name) { return agg::Innermost(name) != nullptr; }

Result<AggregateFunctionPtr> MakeAggregateFunction(std::string_view name,
                                                   const std::vector<types::Value>& params,
                                                   const std::vector<types::DataTypePtr>& arg_types,
                                                   const AggregateOptions& options) {
  std::vector<bool> nullable(arg_types.size());
  size_t nullable_count = 0;
  agg::ArgTypes stripped;
  stripped.reserve(arg_types.size());
  for (size_t i = 0; i < arg_types.size(); ++i) {
    nullable[i] = arg_types[i]->is_nullable();
    nullable_count += nullable[i];
    stripped.push_back(nullable[i] ? arg_types[i]->nested() : arg_types[i]);
  }
  if (nullable_count == 0) return agg::MakeNotNull(name, params, stripped, options, 0);

  TH_ASSIGN_OR_RETURN(AggregateFunctionPtr nested,
                      agg::MakeNotNull(name, params, stripped, options, 1));
  // As ClickHouse: count and uniq* give their value for "no rows" (0) rather than NULL; arrays
  // cannot be Nullable; and when the only Nullable argument is the -If condition, a NULL
  // condition is just false.
  const agg::NameEntry* base = agg::Innermost(name);
  bool returns_default = base->fn == agg::BaseFunction::kCount ||
                         base->fn == agg::BaseFunction::kUniq ||
                         base->fn == agg::BaseFunction::kUniqExact;
  bool only_condition_nullable =
      nullable_count == 1 && nullable.back() && !agg::StripIf(name).empty() && !agg::FindBase(name);
  bool result_nullable =
      !returns_default && !nested->result_type()->is_array() && !only_condition_nullable;
  return AggregateFunctionPtr(std::make_shared<agg::NullAdaptor>(
      std::move(nested), std::move(nullable), result_nullable, 0));
}

}  // namespace trackhouse::query
