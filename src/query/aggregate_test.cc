// Aggregate functions: result types and values as ClickHouse gives them (the expected numbers
// below were read from a ClickHouse server), the -If combinator, Nullable arguments, empty
// input, merging partial states, and the bounds of groupArray and uniq.
#include "query/aggregate.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "query/aggregate_internal.h"

namespace trackhouse::query {
namespace {

using types::Column;
using types::ColumnPtr;
using types::DataType;
using types::DataTypePtr;
using types::TypeId;
using types::Value;

DataTypePtr T(std::string_view name) { return types::ParseDataType(name).value(); }

template <typename V>
ColumnPtr Numbers(std::string_view type, const std::vector<V>& values) {
  ColumnPtr c = types::MakeColumn(T(type));
  for (V v : values) {
    types::DispatchVector(c->type()->id(), [&](auto* tag) {
      using P = std::remove_pointer_t<decltype(tag)>;
      static_cast<types::ColumnVector<P>&>(*c).push_back(static_cast<P>(v));
    });
  }
  return c;
}

ColumnPtr Strings(std::string_view type, const std::vector<std::string>& values) {
  ColumnPtr c = types::MakeColumn(T(type));
  for (const auto& v : values) c->AppendValue(Value::String(v));
  return c;
}

// A Nullable column: row i is NULL where nulls[i], else nested's row i.
ColumnPtr WithNulls(const ColumnPtr& nested, const std::vector<uint8_t>& nulls) {
  ColumnPtr fresh = nested->CloneEmpty();
  auto out = std::make_shared<types::ColumnNullable>(DataType::Nullable(nested->type()), fresh);
  for (size_t i = 0; i < nulls.size(); ++i) {
    out->nested().AppendFrom(*nested, i);
    out->mutable_null_map().push_back(nulls[i]);
  }
  return out;
}

// Owns one aggregate state.
class State {
 public:
  explicit State(AggregateFunctionPtr fn)
      : fn_(std::move(fn)), buf_(fn_->state_size() + fn_->state_align()) {
    size_t a = fn_->state_align();
    place_ = buf_.data() + (a - reinterpret_cast<uintptr_t>(buf_.data()) % a) % a;
    fn_->Create(place_);
  }
  ~State() { fn_->Destroy(place_); }
  char* place() { return place_; }

 private:
  AggregateFunctionPtr fn_;
  std::vector<char> buf_;
  char* place_;
};

struct Outcome {
  std::string type;
  Value value;
};

AggregateFunctionPtr Make(std::string_view name, const std::vector<ColumnPtr>& args,
                          std::vector<Value> params = {}, AggregateOptions options = {}) {
  std::vector<DataTypePtr> types;
  for (const auto& a : args) types.push_back(a->type());
  auto fn = MakeAggregateFunction(name, params, types, options);
  EXPECT_TRUE(fn.ok()) << name << ": " << fn.status().ToString();
  return fn.ok() ? fn.value() : nullptr;
}

std::vector<const Column*> Raw(const std::vector<ColumnPtr>& args) {
  std::vector<const Column*> raw;
  for (const auto& a : args) raw.push_back(a.get());
  return raw;
}

Value Result(const AggregateFunction& fn, const char* place) {
  ColumnPtr out = types::MakeColumn(fn.result_type());
  fn.InsertResult(place, out.get());
  EXPECT_EQ(out->size(), 1u);
  return out->GetValue(0);
}

// Aggregates all rows of `args` into one state (no GROUP BY).
Outcome Agg(std::string_view name, const std::vector<ColumnPtr>& args,
            std::vector<Value> params = {}) {
  AggregateFunctionPtr fn = Make(name, args, std::move(params));
  if (!fn) return {};
  State s(fn);
  size_t rows = args.empty() ? 0 : args[0]->size();
  EXPECT_TRUE(fn->AddBatchSinglePlace(rows, s.place(), Raw(args).data(), nullptr).ok());
  return {fn->result_type()->name(), Result(*fn, s.place())};
}

// Aggregates rows into `parts` states (row i into state i % parts, through AddBatch), merges
// them into a fresh state and returns the merged result.
Value AggMerged(std::string_view name, const std::vector<ColumnPtr>& args, size_t parts,
                std::vector<Value> params = {}) {
  AggregateFunctionPtr fn = Make(name, args, std::move(params));
  std::vector<std::unique_ptr<State>> states;
  for (size_t p = 0; p < parts; ++p) states.push_back(std::make_unique<State>(fn));
  size_t rows = args[0]->size();
  std::vector<char*> places(rows);
  for (size_t i = 0; i < rows; ++i) places[i] = states[i % parts]->place();
  EXPECT_TRUE(fn->AddBatch(rows, places.data(), 0, Raw(args).data(), nullptr).ok());
  State total(fn);
  for (auto& s : states) EXPECT_TRUE(fn->Merge(total.place(), s->place()).ok());
  return Result(*fn, total.place());
}

std::vector<int64_t> Iota(int64_t n, int64_t from = 0) {
  std::vector<int64_t> v(n);
  std::iota(v.begin(), v.end(), from);
  return v;
}

std::vector<double> AsDoubles(const Value& array) {
  std::vector<double> out;
  for (const auto& e : array.array_value()) out.push_back(e.AsFloat());
  return out;
}

// ClickHouse's SQL function intHash64, to generate the same data as `intHash64(number)` there.
uint64_t SqlIntHash64(uint64_t x) { return agg::IntHash64(x ^ 0x4CF2D2BAAE6DA887ULL); }

// ---------------- result types ----------------

TEST(AggregateTypes, NumericArgumentsGiveClickHouseResultTypes) {
  struct Case {
    const char* arg;
    const char* sum;
  };
  for (Case c : {Case{"Int8", "Int64"}, Case{"Int16", "Int64"}, Case{"Int32", "Int64"},
                 Case{"Int64", "Int64"}, Case{"UInt8", "UInt64"}, Case{"UInt16", "UInt64"},
                 Case{"UInt32", "UInt64"}, Case{"UInt64", "UInt64"}, Case{"Float32", "Float64"},
                 Case{"Float64", "Float64"}}) {
    SCOPED_TRACE(c.arg);
    ColumnPtr x = Numbers(c.arg, Iota(10));
    ColumnPtr cond = Numbers("UInt8", std::vector<int>{0, 0, 1, 1, 1, 1, 1, 1, 1, 1});
    EXPECT_EQ(Agg("sum", {x}).type, c.sum);
    EXPECT_EQ(Agg("sum", {x}).value.AsFloat(), 45);
    EXPECT_EQ(Agg("sumIf", {x, cond}).type, c.sum);
    EXPECT_EQ(Agg("avg", {x}).type, "Float64");
    EXPECT_EQ(Agg("avg", {x}).value.AsFloat(), 4.5);
    for (const char* same : {"min", "max", "any", "anyLast"}) {
      EXPECT_EQ(Agg(same, {x}).type, c.arg) << same;
    }
    EXPECT_EQ(Agg("argMin", {x, x}).type, c.arg);
    EXPECT_EQ(Agg("uniq", {x}).type, "UInt64");
    EXPECT_EQ(Agg("uniqExact", {x}).type, "UInt64");
    EXPECT_EQ(Agg("count", {x}).type, "UInt64");
    // Current ClickHouse: quantile of any number is Float64 (18.16 kept UInt16/UInt32).
    EXPECT_EQ(Agg("quantile", {x}).type, "Float64");
    EXPECT_EQ(Agg("quantile", {x}).value.AsFloat(), 4.5);
    EXPECT_EQ(Agg("quantiles", {x}, {Value::Float(0.1), Value::Float(0.5)}).type, "Array(Float64)");
    EXPECT_EQ(Agg("groupArray", {x}).type, std::string("Array(") + c.arg + ")");
  }
}

TEST(AggregateTypes, TimeAndStringArgumentsKeepTheirType) {
  ColumnPtr date = Numbers("Date", Iota(10, 18262));  // 2020-01-01 ...
  EXPECT_EQ(Agg("min", {date}).type, "Date");
  EXPECT_EQ(Agg("min", {date}).value.AsUInt(), 18262u);
  EXPECT_EQ(Agg("max", {date}).value.AsUInt(), 18271u);
  EXPECT_EQ(Agg("anyLast", {date}).value.AsUInt(), 18271u);
  EXPECT_EQ(Agg("groupArray", {date}).type, "Array(Date)");
  // median of 10 days is day 4.5, truncated: 2020-01-05.
  EXPECT_EQ(Agg("quantile", {date}).type, "Date");
  EXPECT_EQ(Agg("quantile", {date}).value.AsUInt(), 18266u);
  Outcome qs = Agg("quantiles", {date}, {Value::Float(0.2), Value::Float(0.5)});
  EXPECT_EQ(qs.type, "Array(Date)");
  EXPECT_EQ(AsDoubles(qs.value), (std::vector<double>{18263, 18266}));

  std::vector<int64_t> seconds;
  for (int64_t i = 0; i < 10; ++i) seconds.push_back(1577836800 + 7 * i);
  ColumnPtr dt = Numbers("DateTime", seconds);
  EXPECT_EQ(Agg("quantile", {dt}).type, "DateTime");
  EXPECT_EQ(Agg("quantile", {dt}).value.AsUInt(), 1577836800u + 31);  // 00:00:31
  EXPECT_EQ(AsDoubles(Agg("quantiles", {dt}, {Value::Float(0.2)}).value),
            (std::vector<double>{1577836800.0 + 12}));
  EXPECT_EQ(Agg("max", {dt}).type, "DateTime");

  std::vector<std::string> words;
  for (int i = 0; i < 10; ++i) words.push_back(std::to_string(i));
  for (const char* type : {"String", "LowCardinality(String)"}) {
    SCOPED_TRACE(type);
    ColumnPtr s = Strings(type, words);
    EXPECT_EQ(Agg("min", {s}).type, "String");
    EXPECT_EQ(Agg("min", {s}).value.string_value(), "0");
    EXPECT_EQ(Agg("max", {s}).value.string_value(), "9");
    EXPECT_EQ(Agg("any", {s}).value.string_value(), "0");
    EXPECT_EQ(Agg("anyLast", {s}).value.string_value(), "9");
    EXPECT_EQ(Agg("argMax", {s, Numbers("UInt64", Iota(10))}).value.string_value(), "9");
    EXPECT_EQ(Agg("argMax", {Numbers("UInt64", Iota(10)), s}).value.AsUInt(), 9u);
    EXPECT_EQ(Agg("uniq", {s}).value.AsUInt(), 10u);
    EXPECT_EQ(Agg("uniqExact", {s}).value.AsUInt(), 10u);
    Outcome arr = Agg("groupArray", {s});
    EXPECT_EQ(arr.type, "Array(String)");
    ASSERT_EQ(arr.value.array_value().size(), 10u);
    EXPECT_EQ(arr.value.array_value()[3].string_value(), "3");
  }
  ColumnPtr fixed = Strings("FixedString(3)", words);
  EXPECT_EQ(Agg("max", {fixed}).type, "FixedString(3)");
  EXPECT_EQ(Agg("max", {fixed}).value.string_value(), std::string("9\0\0", 3));
  EXPECT_EQ(Agg("groupArray", {fixed}).type, "Array(FixedString(3))");
}

TEST(AggregateTypes, IllegalArgumentsAreRejectedWithClickHouseCodes) {
  auto code = [](std::string_view name, std::vector<std::string_view> arg_types,
                 std::vector<Value> params = {}) {
    std::vector<DataTypePtr> types;
    for (auto t : arg_types) types.push_back(T(t));
    auto fn = MakeAggregateFunction(name, params, types, {});
    return fn.ok() ? 0 : fn.status().clickhouse_code();
  };
  EXPECT_EQ(code("sum", {"Date"}), ch::kIllegalTypeOfArgument);
  EXPECT_EQ(code("avg", {"String"}), ch::kIllegalTypeOfArgument);
  EXPECT_EQ(code("quantile", {"String"}), ch::kIllegalTypeOfArgument);
  EXPECT_EQ(code("sum", {}), ch::kNumberOfArgumentsDoesntMatch);
  EXPECT_EQ(code("sum", {"Int32", "Int32"}), ch::kNumberOfArgumentsDoesntMatch);
  EXPECT_EQ(code("argMin", {"Int32"}), ch::kNumberOfArgumentsDoesntMatch);
  EXPECT_EQ(code("uniq", {}), ch::kNumberOfArgumentsDoesntMatch);
  EXPECT_EQ(code("countIf", {}), ch::kNumberOfArgumentsDoesntMatch);
  EXPECT_EQ(code("countIf", {"Int32"}), ch::kIllegalTypeOfArgument);
  EXPECT_EQ(code("sumIf", {"Int32", "UInt16"}), ch::kIllegalTypeOfArgument);
  EXPECT_EQ(code("foo", {"Int32"}), ch::kUnknownAggregateFunction);
  EXPECT_EQ(code("fooIf", {"Int32", "UInt8"}), ch::kUnknownAggregateFunction);
  EXPECT_EQ(code("sum", {"Int32"}, {Value::UInt(1)}), ch::kBadArguments);
  EXPECT_EQ(code("quantile", {"Int32"}, {Value::Float(1.5)}), ch::kBadArguments);
  EXPECT_EQ(code("quantile", {"Int32"}, {Value::String("a")}), ch::kCannotConvertType);
  EXPECT_EQ(code("quantile", {"Int32"}, {Value::Float(0.5), Value::Float(0.6)}),
            ch::kNumberOfArgumentsDoesntMatch);
  EXPECT_EQ(code("quantiles", {"Int32"}), ch::kBadArguments);
  EXPECT_EQ(code("groupArray", {"Int32"}, {Value::UInt(0)}), ch::kBadArguments);
  EXPECT_EQ(code("groupArray", {"Int32"}, {Value::Int(-1)}), ch::kBadArguments);
  EXPECT_EQ(code("groupArray", {"Int32"}, {Value::Float(1.5)}), ch::kBadArguments);
  EXPECT_EQ(code("groupArray", {"Int32"}, {Value::UInt(3), Value::UInt(4)}),
            ch::kNumberOfArgumentsDoesntMatch);
  // count takes any number of arguments (rows where none is NULL); uniq takes tuples.
  EXPECT_EQ(code("count", {"Int32", "String"}), 0);
  EXPECT_EQ(code("uniq", {"Int32", "String"}), 0);
}

TEST(AggregateNames, CaseRulesAndCombinatorsFollowClickHouse) {
  for (const char* ci : {"count", "COUNT", "Sum", "SUM", "avg", "AVG", "Min", "MAX"}) {
    EXPECT_TRUE(IsAggregateFunctionName(ci)) << ci;
  }
  for (const char* cs : {"Any", "UNIQ", "QUANTILE", "ARGMAX", "Median", "sumif", "countIF",
                         "groupArrayif", "If", "x", "sumIff"}) {
    EXPECT_FALSE(IsAggregateFunctionName(cs)) << cs;
  }
  for (const char* name : {"any", "anyLast", "argMin", "argMax", "uniq", "uniqExact", "quantile",
                           "median", "quantiles", "groupArray", "countIf", "sumIf", "uniqIf",
                           "argMaxIf", "quantilesIf", "groupArrayIf", "countIfIf", "SUMIf"}) {
    EXPECT_TRUE(IsAggregateFunctionName(name)) << name;
  }
  ColumnPtr x = Numbers("Int32", Iota(10));
  ColumnPtr even = Numbers("UInt8", std::vector<int>{1, 0, 1, 0, 1, 0, 1, 0, 1, 0});
  ColumnPtr big = Numbers("UInt8", std::vector<int>{0, 0, 0, 0, 0, 2, 2, 2, 2, 2});
  EXPECT_EQ(Agg("SUM", {x}).value.AsInt(), 45);
  EXPECT_EQ(Agg("countIfIf", {even, big}).value.AsUInt(), 2u);  // 6 and 8
  EXPECT_EQ(Agg("sumIfIf", {x, even, big}).value.AsInt(), 14);
  EXPECT_EQ(Agg("median", {x}, {Value::Float(0.9)}).value.AsFloat(), 8.1);
}

// ---------------- values ----------------

TEST(AggregateValues, QuantileInterpolatesLikeClickHouse) {
  std::vector<int64_t> squares;
  for (int64_t i = 0; i < 10; ++i) squares.push_back(i * i);
  ColumnPtr x = Numbers("Int64", squares);
  std::vector<Value> levels;
  for (double l : {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.99}) {
    levels.push_back(Value::Float(l));
  }
  // ClickHouse: quantiles(0.1, ..., 0.99)(x*x) over x in 0..9.
  std::vector<double> expected{0.9,
                               3.4000000000000004,
                               7.499999999999998,
                               13.200000000000001,
                               20.5,
                               29.399999999999995,
                               39.9,
                               52,
                               65.69999999999999,
                               79.47};
  EXPECT_EQ(AsDoubles(Agg("quantiles", {x}, levels).value), expected);
  EXPECT_EQ(Agg("quantile", {x}, {Value::Float(0.25)}).value.AsFloat(), 5.25);
  EXPECT_EQ(AsDoubles(Agg("quantiles", {Numbers("Int32", Iota(10))},
                          {Value::UInt(1), Value::Float(0.25), Value::UInt(0)})
                          .value),
            (std::vector<double>{9, 2.25, 0}));
}

TEST(AggregateValues, QuantileAboveTheSampleSizeMatchesClickHouse) {
  // SELECT quantile(x), quantile(0.1)(x), quantiles(0.01, 0.5, 0.99)(x) FROM (SELECT
  // toInt64(intHash64(number) % 1000003) AS x FROM numbers(100000)) in ClickHouse.
  std::vector<int64_t> v;
  for (uint64_t i = 0; i < 100000; ++i)
    v.push_back(static_cast<int64_t>(SqlIntHash64(i) % 1000003));
  ColumnPtr x = Numbers("Int64", v);
  EXPECT_EQ(Agg("quantile", {x}).value.AsFloat(), 505979.5);
  EXPECT_EQ(Agg("quantile", {x}, {Value::Float(0.1)}).value.AsFloat(), 98451.5);
  EXPECT_EQ(
      AsDoubles(
          Agg("quantiles", {x}, {Value::Float(0.01), Value::Float(0.5), Value::Float(0.99)}).value),
      (std::vector<double>{10202.83, 505979.5, 989714.5}));
  // uniq above its exact range and uniqExact on the same data.
  EXPECT_EQ(Agg("uniq", {x}).value.AsUInt(), 95447u);
  EXPECT_EQ(Agg("uniqExact", {x}).value.AsUInt(), 95158u);
}

TEST(AggregateValues, FloatsSkipNaNInQuantileAndKeepItInMinMax) {
  // x/7 with NaN at rows 0, 3, 6, 9.
  std::vector<double> v;
  for (int i = 0; i < 10; ++i) v.push_back(i % 3 == 0 ? std::nan("") : i / 7.0);
  ColumnPtr f = Numbers("Float64", v);
  EXPECT_DOUBLE_EQ(Agg("quantile", {f}).value.AsFloat(), 0.6428571428571428);
  EXPECT_TRUE(std::isnan(Agg("min", {f}).value.AsFloat()));
  EXPECT_TRUE(std::isnan(Agg("max", {f}).value.AsFloat()));
  // uniqExact counts every NaN (7 distinct + 3 more NaN rows), uniq hashes their bits.
  EXPECT_EQ(Agg("uniqExact", {f}).value.AsUInt(), 10u);
  EXPECT_EQ(Agg("uniq", {f}).value.AsUInt(), 7u);
  ColumnPtr zeros = Numbers("Float64", std::vector<double>{0.0, -0.0, 1.0});
  EXPECT_EQ(Agg("uniqExact", {zeros}).value.AsUInt(), 2u);
}

TEST(AggregateValues, SumWrapsAroundAndAvgDividesInDouble) {
  std::vector<int64_t> v;
  for (int64_t i = 0; i < 10; ++i) v.push_back(static_cast<int8_t>(i * 30));
  EXPECT_EQ(Agg("sum", {Numbers("Int8", v)}).value.AsInt(), 70);
  std::vector<uint64_t> big;
  for (uint64_t i = 0; i < 10; ++i) big.push_back(i * 1000000000000000000ULL);
  EXPECT_EQ(Agg("sum", {Numbers("UInt64", big)}).value.AsUInt(), 8106511852580896768ULL);
  std::vector<uint64_t> bigger;
  for (uint64_t i = 0; i < 10; ++i) bigger.push_back(i * 3000000000000000000ULL);
  EXPECT_EQ(Agg("avg", {Numbers("UInt64", bigger)}).value.AsFloat(), 587279148403313900.0);
}

TEST(AggregateValues, ArgMinArgMaxKeepTheFirstExtreme) {
  ColumnPtr x = Numbers("Int32", Iota(10));
  std::vector<int64_t> mod;
  for (int64_t i = 0; i < 10; ++i) mod.push_back(i % 3);
  ColumnPtr m = Numbers("Int32", mod);
  EXPECT_EQ(Agg("argMin", {x, m}).value.AsInt(), 0);
  EXPECT_EQ(Agg("argMax", {x, m}).value.AsInt(), 2);
  EXPECT_EQ(AggMerged("argMax", {x, m}, 3).AsInt(), 2);
}

// ---------------- NULLs, -If, empty input ----------------

// x = 0..9 as Int32 with NULL where x % 3 == 0 (ClickHouse: if(number % 3 = 0, NULL, x)).
ColumnPtr NullableX() {
  std::vector<uint8_t> nulls;
  for (int i = 0; i < 10; ++i) nulls.push_back(i % 3 == 0);
  return WithNulls(Numbers("Int32", Iota(10)), nulls);
}

TEST(AggregateNulls, NullRowsAreSkippedAndResultsAreNullable) {
  ColumnPtr n = NullableX();
  ColumnPtr number = Numbers("UInt64", Iota(10));
  ColumnPtr gt4 = Numbers("UInt8", std::vector<int>{0, 0, 0, 0, 0, 1, 1, 1, 1, 1});
  struct Case {
    const char* fn;
    std::vector<ColumnPtr> args;
    const char* type;
    double value;
  };
  std::vector<Case> cases = {
      {"count", {n}, "UInt64", 6},
      {"sum", {n}, "Nullable(Int64)", 27},
      {"avg", {n}, "Nullable(Float64)", 4.5},
      {"min", {n}, "Nullable(Int32)", 1},
      {"max", {n}, "Nullable(Int32)", 8},
      {"any", {n}, "Nullable(Int32)", 1},
      {"anyLast", {n}, "Nullable(Int32)", 8},
      {"quantile", {n}, "Nullable(Float64)", 4.5},
      {"argMin", {n, number}, "Nullable(Int32)", 1},
      {"argMax", {number, n}, "Nullable(UInt64)", 8},
      {"sumIf", {n, gt4}, "Nullable(Int64)", 20},
      // Current ClickHouse: count and uniq* stay UInt64 on Nullable arguments.
      {"uniq", {n}, "UInt64", 6},
      {"uniqExact", {n}, "UInt64", 6},
      {"countIf", {n, gt4}, "UInt64", 3},
      {"uniqIf", {n, gt4}, "UInt64", 3},
  };
  for (const auto& c : cases) {
    Outcome o = Agg(c.fn, c.args);
    EXPECT_EQ(o.type, c.type) << c.fn;
    EXPECT_EQ(o.value.AsFloat(), c.value) << c.fn;
    EXPECT_EQ(AggMerged(c.fn, c.args, 3).AsFloat(), c.value) << c.fn << " merged";
  }
  Outcome arr = Agg("groupArray", {n});
  EXPECT_EQ(arr.type, "Array(Int32)");
  EXPECT_EQ(AsDoubles(arr.value), (std::vector<double>{1, 2, 4, 5, 7, 8}));
  EXPECT_EQ(AsDoubles(Agg("groupArrayIf", {n, gt4}).value), (std::vector<double>{5, 7, 8}));
  EXPECT_EQ(Agg("quantiles", {n}, {Value::Float(0.5)}).type, "Array(Float64)");
}

TEST(AggregateNulls, AllNullGivesNullExceptCountAndUniq) {
  ColumnPtr n = WithNulls(Numbers("Int32", Iota(4)), {1, 1, 1, 1});
  for (const char* fn : {"sum", "avg", "min", "max", "any", "anyLast", "quantile"}) {
    EXPECT_TRUE(Agg(fn, {n}).value.is_null()) << fn;
  }
  EXPECT_EQ(Agg("count", {n}).value.AsUInt(), 0u);
  EXPECT_EQ(Agg("uniq", {n}).value.AsUInt(), 0u);
  EXPECT_EQ(Agg("uniqExact", {n}).value.AsUInt(), 0u);
  EXPECT_TRUE(Agg("groupArray", {n}).value.array_value().empty());
  ColumnPtr strings = WithNulls(Strings("String", {"a", "b"}), {1, 1});
  EXPECT_EQ(Agg("max", {strings}).type, "Nullable(String)");
  EXPECT_TRUE(Agg("max", {strings}).value.is_null());
}

TEST(AggregateNulls, NullConditionIsFalseAndAloneKeepsTheResultNotNullable) {
  // c = NULL where number % 3 == 0, else number % 2 == 0.
  std::vector<int> even;
  for (int i = 0; i < 10; ++i) even.push_back(i % 2 == 0);
  std::vector<uint8_t> nulls;
  for (int i = 0; i < 10; ++i) nulls.push_back(i % 3 == 0);
  ColumnPtr c = WithNulls(Numbers("UInt8", even), nulls);
  ColumnPtr x = Numbers("Int32", Iota(10));
  EXPECT_EQ(Agg("countIf", {c}).value.AsUInt(), 3u);  // 2, 4, 8
  EXPECT_EQ(Agg("countIf", {c}).type, "UInt64");
  EXPECT_EQ(Agg("sumIf", {x, c}).value.AsInt(), 14);
  EXPECT_EQ(Agg("sumIf", {x, c}).type, "Int64");
  EXPECT_EQ(Agg("avgIf", {x, c}).value.AsFloat(), 14.0 / 3);
  EXPECT_EQ(Agg("minIf", {x, c}).value.AsInt(), 2);
  EXPECT_EQ(AsDoubles(Agg("groupArrayIf", {x, c}).value), (std::vector<double>{2, 4, 8}));
  EXPECT_EQ(Agg("count", {c}).value.AsUInt(), 6u);
  // Nullable value and Nullable condition: NULL rows of either are skipped.
  ColumnPtr n = WithNulls(Numbers("Int32", Iota(10)), {1, 0, 0, 0, 1, 0, 0, 0, 1, 0});
  Outcome both = Agg("sumIf", {n, c});
  EXPECT_EQ(both.type, "Nullable(Int64)");
  EXPECT_EQ(both.value.AsInt(), 2);
}

TEST(AggregateEmpty, NoRowsGiveClickHouseDefaults) {
  ColumnPtr x = Numbers("Int32", std::vector<int>{});
  ColumnPtr s = Strings("String", {});
  ColumnPtr d = Numbers("Date", std::vector<int>{});
  ColumnPtr cond = Numbers("UInt8", std::vector<int>{});
  EXPECT_EQ(Agg("count", {}).value.AsUInt(), 0u);
  EXPECT_EQ(Agg("count", {x}).value.AsUInt(), 0u);
  EXPECT_EQ(Agg("sum", {x}).value.AsInt(), 0);
  EXPECT_TRUE(std::isnan(Agg("avg", {x}).value.AsFloat()));
  EXPECT_TRUE(std::isnan(Agg("avgIf", {x, cond}).value.AsFloat()));
  for (const char* fn : {"min", "max", "any", "anyLast"}) {
    EXPECT_EQ(Agg(fn, {x}).value.AsInt(), 0) << fn;
    EXPECT_EQ(Agg(fn, {s}).value.string_value(), "") << fn;
  }
  EXPECT_EQ(Agg("argMax", {s, x}).value.string_value(), "");
  EXPECT_EQ(Agg("uniq", {x}).value.AsUInt(), 0u);
  EXPECT_EQ(Agg("uniqExact", {s}).value.AsUInt(), 0u);
  EXPECT_TRUE(std::isnan(Agg("quantile", {x}).value.AsFloat()));
  EXPECT_EQ(Agg("quantile", {d}).value.AsUInt(), 0u);
  Value qs = Agg("quantiles", {x}, {Value::Float(0.5), Value::Float(0.9)}).value;
  ASSERT_EQ(qs.array_value().size(), 2u);
  EXPECT_TRUE(std::isnan(qs.array_value()[1].AsFloat()));
  EXPECT_TRUE(Agg("groupArray", {x}).value.array_value().empty());
  EXPECT_EQ(Agg("min", {Strings("FixedString(2)", {})}).value.string_value(), std::string(2, '\0'));
}

TEST(AggregateIf, MaskAndConditionCombine) {
  // Nullable without NULLs: the Null adaptor sits on top of the -If one.
  ColumnPtr x = WithNulls(Numbers("Int64", Iota(10)), std::vector<uint8_t>(10, 0));
  ColumnPtr cond = Numbers("UInt8", std::vector<int>{1, 1, 1, 1, 1, 0, 0, 0, 0, 7});
  std::vector<uint8_t> mask{0, 1, 0, 1, 0, 1, 0, 1, 0, 1};
  for (const char* fn : {"sumIf", "countIf", "avgIf", "maxIf", "uniqExactIf"}) {
    std::vector<ColumnPtr> args{x, cond};
    if (std::string_view(fn) == "countIf") args = {cond};
    AggregateFunctionPtr f = Make(fn, args);
    State single(f);
    ASSERT_TRUE(f->AddBatchSinglePlace(10, single.place(), Raw(args).data(), mask.data()).ok());
    // The same through AddBatch with every row on one place, at an offset inside a bigger row.
    std::vector<char> buf(64 + f->state_size() + f->state_align());
    size_t align = f->state_align();
    char* base = buf.data() + (align - reinterpret_cast<uintptr_t>(buf.data()) % align) % align;
    size_t offset = (16 + align - 1) / align * align;
    f->Create(base + offset);
    // Rows the mask leaves out have no state.
    std::vector<char*> places(10);
    for (size_t i = 0; i < 10; ++i) places[i] = mask[i] ? base : nullptr;
    ASSERT_TRUE(f->AddBatch(10, places.data(), offset, Raw(args).data(), mask.data()).ok());
    Value a = Result(*f, single.place());
    Value b = Result(*f, base + offset);
    f->Destroy(base + offset);
    EXPECT_EQ(a, b) << fn;
    // Rows 1, 3 and 9 pass both the mask and the condition.
    std::string_view name = fn;
    double expected = name == "sumIf" ? 13 : name == "avgIf" ? 13.0 / 3 : name == "maxIf" ? 9 : 3;
    EXPECT_DOUBLE_EQ(a.AsFloat(), expected) << fn;
  }
}

// ---------------- merging ----------------

TEST(AggregateMerge, PartialStatesMergeToTheSingleStateResult) {
  std::mt19937_64 rng(7);
  std::vector<int64_t> ints;
  std::vector<std::string> strings;
  for (int i = 0; i < 20000; ++i) {
    ints.push_back(static_cast<int64_t>(rng() % 5000) - 2500);
    strings.push_back("s" + std::to_string(rng() % 3000));
  }
  ColumnPtr x = Numbers("Int32", ints);
  ColumnPtr s = Strings("LowCardinality(String)", strings);
  ColumnPtr f = Numbers("Float64", ints);
  for (const char* fn : {"count", "sum", "avg", "min", "max", "uniq", "uniqExact"}) {
    for (const auto& col : {x, f}) {
      if (std::string_view(fn) == "avg" || std::string_view(fn) == "sum") {
        // Float sums may round differently in another order; integers must be equal.
        if (col == f) continue;
      }
      EXPECT_EQ(AggMerged(fn, {col}, 4), Agg(fn, {col}).value) << fn << " " << col->type()->name();
    }
  }
  for (const char* fn : {"min", "max", "uniq", "uniqExact"}) {
    EXPECT_EQ(AggMerged(fn, {s}, 3), Agg(fn, {s}).value) << fn;
  }
  EXPECT_EQ(AggMerged("argMin", {s, x}, 5), Agg("argMin", {s, x}).value);
  EXPECT_EQ(AggMerged("argMax", {x, s}, 5), Agg("argMax", {x, s}).value);
  EXPECT_EQ(AggMerged("uniq", {x, s}, 5), Agg("uniq", {x, s}).value);
  EXPECT_EQ(AggMerged("uniqExact", {x, s}, 5), Agg("uniqExact", {x, s}).value);
  // Groups of at most 8192 values: quantiles are exact whatever the split.
  std::vector<Value> levels{Value::Float(0.1), Value::Float(0.5), Value::Float(0.99)};
  ColumnPtr small = Numbers("Int32", std::vector<int64_t>(ints.begin(), ints.begin() + 8000));
  EXPECT_EQ(AggMerged("quantiles", {small}, 3, levels), Agg("quantiles", {small}, levels).value);
  // groupArray: each part's values in order, parts in merge order.
  ColumnPtr few = Numbers("Int32", Iota(6));
  EXPECT_EQ(AsDoubles(AggMerged("groupArray", {few}, 2)), (std::vector<double>{0, 2, 4, 1, 3, 5}));
  EXPECT_EQ(AsDoubles(AggMerged("groupArray", {few}, 2, {Value::UInt(4)})),
            (std::vector<double>{0, 2, 4, 1}));
}

TEST(AggregateMerge, LargeQuantileMergeStaysClose) {
  std::vector<int64_t> v;
  for (int64_t i = 0; i < 200000; ++i) v.push_back(static_cast<int64_t>(SqlIntHash64(i) % 1000000));
  ColumnPtr x = Numbers("Int64", v);
  // Uniform on [0, 1e6): a sample of 8192 puts the median within a few percent.
  EXPECT_NEAR(AggMerged("quantile", {x}, 4).AsFloat(), 500000, 30000);
  EXPECT_NEAR(Agg("quantile", {x}).value.AsFloat(), 500000, 30000);
}

// ---------------- bounds ----------------

TEST(AggregateBounds, GroupArrayBeyondItsBoundIsTooLargeArraySize) {
  AggregateOptions options;
  options.max_group_array_size = 5;
  ColumnPtr x = Numbers("Int32", Iota(6));
  std::vector<const Column*> args{x.get()};
  {
    auto fn = MakeAggregateFunction("groupArray", {}, {x->type()}, options).value();
    State s(fn);
    Status st = fn->AddBatchSinglePlace(6, s.place(), args.data(), nullptr);
    EXPECT_EQ(st.clickhouse_code(), ch::kTooLargeArraySize);
    State ok(fn);
    EXPECT_TRUE(fn->AddBatchSinglePlace(5, ok.place(), args.data(), nullptr).ok());
    State other(fn);
    EXPECT_TRUE(fn->AddBatchSinglePlace(1, other.place(), args.data(), nullptr).ok());
    EXPECT_EQ(fn->Merge(ok.place(), other.place()).clickhouse_code(), ch::kTooLargeArraySize);
  }
  {
    // groupArray(3) keeps the first 3 values: no error.
    auto fn = MakeAggregateFunction("groupArray", {Value::UInt(3)}, {x->type()}, options).value();
    State s(fn);
    EXPECT_TRUE(fn->AddBatchSinglePlace(6, s.place(), args.data(), nullptr).ok());
    EXPECT_EQ(AsDoubles(Result(*fn, s.place())), (std::vector<double>{0, 1, 2}));
  }
  {
    // groupArray(100) asks for more than the bound: still bounded.
    auto fn = MakeAggregateFunction("groupArray", {Value::UInt(100)}, {x->type()}, options).value();
    State s(fn);
    EXPECT_EQ(fn->AddBatchSinglePlace(6, s.place(), args.data(), nullptr).clickhouse_code(),
              ch::kTooLargeArraySize);
  }
  {
    // Through -If and Nullable adaptors the error still surfaces.
    ColumnPtr cond = Numbers("UInt8", std::vector<int>(6, 1));
    auto fn = MakeAggregateFunction("groupArrayIf", {}, {x->type(), cond->type()}, options).value();
    State s(fn);
    std::vector<const Column*> two{x.get(), cond.get()};
    EXPECT_EQ(fn->AddBatchSinglePlace(6, s.place(), two.data(), nullptr).clickhouse_code(),
              ch::kTooLargeArraySize);
  }
}

TEST(AggregateBounds, UniqIsExactBelowItsThresholdAndMatchesClickHouseAbove) {
  // Exact up to 65536 distinct values (barring 32-bit hash collisions, none here).
  for (int64_t n : {1, 100, 10000, 65536}) {
    EXPECT_EQ(Agg("uniq", {Numbers("UInt64", Iota(n))}).value.AsUInt(), static_cast<uint64_t>(n));
  }
  // ClickHouse: SELECT uniq(number), uniq(toInt32(number)), uniq(toFloat64(number)),
  // uniq(toDate(number % 40000)) FROM numbers(300000).
  EXPECT_EQ(Agg("uniq", {Numbers("UInt64", Iota(300000))}).value.AsUInt(), 301753u);
  EXPECT_EQ(Agg("uniq", {Numbers("Int32", Iota(300000))}).value.AsUInt(), 301753u);
  EXPECT_EQ(Agg("uniq", {Numbers("Float64", Iota(300000))}).value.AsUInt(), 300984u);
  std::vector<int64_t> days;
  for (int64_t i = 0; i < 300000; ++i) days.push_back(i % 40000);
  EXPECT_EQ(Agg("uniq", {Numbers("Date", days)}).value.AsUInt(), 40000u);
  // ClickHouse: SELECT uniq(number * 7) FROM numbers(1000000) -> 994741.
  std::vector<int64_t> sevens;
  for (int64_t i = 0; i < 1000000; ++i) sevens.push_back(i * 7);
  ColumnPtr x = Numbers("UInt64", sevens);
  EXPECT_EQ(Agg("uniq", {x}).value.AsUInt(), 994741u);
  EXPECT_EQ(AggMerged("uniq", {x}, 4).AsUInt(), 994741u);
  EXPECT_EQ(Agg("uniqExact", {x}).value.AsUInt(), 1000000u);
  // Strings hash differently from ClickHouse above the threshold, within the error bound.
  std::vector<std::string> words;
  for (int i = 0; i < 1000000; ++i) words.push_back("user-" + std::to_string(i));
  ColumnPtr s = Strings("String", words);
  EXPECT_NEAR(Agg("uniq", {s}).value.AsFloat(), 1e6, 2e4);
  EXPECT_NEAR(AggMerged("uniq", {s}, 3).AsFloat(), 1e6, 2e4);
  EXPECT_EQ(Agg("uniqExact", {s}).value.AsUInt(), 1000000u);
}

TEST(AggregateState, HeapBytesGrowWithTheState) {
  ColumnPtr x = Numbers("Int64", Iota(100000));
  for (const char* fn : {"uniqExact", "uniq", "groupArray", "quantile"}) {
    AggregateFunctionPtr f = Make(fn, {x});
    State s(f);
    size_t before = f->HeapBytes(s.place());
    std::vector<const Column*> args{x.get()};
    ASSERT_TRUE(f->AddBatchSinglePlace(100000, s.place(), args.data(), nullptr).ok());
    EXPECT_GT(f->HeapBytes(s.place()), before + 1000) << fn;
    EXPECT_FALSE(f->has_trivial_destructor()) << fn;
  }
  EXPECT_TRUE(Make("sum", {x})->has_trivial_destructor());
  EXPECT_TRUE(Make("countIf", {Numbers("UInt8", std::vector<int>{1})})->has_trivial_destructor());
}

}  // namespace
}  // namespace trackhouse::query
