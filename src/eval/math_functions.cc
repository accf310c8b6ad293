// abs, round / floor / ceil / trunc (with an optional number of decimal places), least,
// greatest, and Float64 math: sqrt, cbrt, exp, exp2, exp10, log, log2, log10, sin, cos, tan,
// asin, acos, atan, pow, pi, e.
//
// round() rounds floats half to even (nearbyint), integers with a negative precision half
// away from zero, as ClickHouse does; every rounding function keeps its argument's type.
#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <numbers>

#include "eval/column_util.h"
#include "eval/conversion.h"
#include "eval/type_rules.h"

namespace trackhouse::eval {
namespace {

using types::ColumnPtr;
using types::DataType;
using types::DataTypePtr;
using types::TypeId;

const DataTypePtr& Float64Type() {
  static const DataTypePtr t = DataType::Get(TypeId::kFloat64);
  return t;
}

bool IsPlainNumber(const DataType& t) { return t.is_numeric() && !IsInterval(t) && !IsNothing(t); }

// ------------------------------------------------------------ abs

Result<BoundFunction> BindAbs(std::string_view name, const std::vector<ArgSpec>& args) {
  TH_RETURN_IF_ERROR(CheckArgCount(name, args.size(), 1, 1));
  const DataTypePtr& t = args[0].type;
  if (!IsPlainNumber(*t)) return IllegalArgType(name, *t, 1);
  DataTypePtr result = t;
  if (t->is_integer() && t->is_signed()) result = IntegerType(false, IntegerBits(t->id()));
  if (t->id() == TypeId::kBool) result = DataType::Get(TypeId::kUInt8);
  return BoundFunction{
      result,
      [result](const std::vector<Datum>& in, const KernelContext& ctx) -> Result<ColumnPtr> {
        const Datum& x = in[0];
        return DispatchNumeric(*x.column->type(), [&](auto* tag) -> ColumnPtr {
          using A = std::remove_pointer_t<decltype(tag)>;
          return DispatchNumeric(*result, [&](auto* rtag) -> ColumnPtr {
            using R = std::remove_pointer_t<decltype(rtag)>;
            auto out = NewVector<R>(result, ctx.rows);
            UnaryLoop(Data<A>(x), x.is_const, out->data().data(), ctx.rows, [](A v) -> R {
              if constexpr (std::is_floating_point_v<A>) {
                return static_cast<R>(std::fabs(v));
              } else if constexpr (std::is_signed_v<A>) {
                using U = std::make_unsigned_t<A>;
                return static_cast<R>(v < 0 ? static_cast<U>(0 - static_cast<U>(v))
                                            : static_cast<U>(v));
              } else {
                return static_cast<R>(v);
              }
            });
            return out;
          });
        });
      }};
}

// ------------------------------------------------------------ rounding

enum class Rounding { kRound, kFloor, kCeil, kTrunc };

double RoundFloat(Rounding mode, double v) {
  switch (mode) {
    case Rounding::kRound:
      return std::nearbyint(v);
    case Rounding::kFloor:
      return std::floor(v);
    case Rounding::kCeil:
      return std::ceil(v);
    case Rounding::kTrunc:
      return std::trunc(v);
  }
  return v;
}

// Rounds an integer to a multiple of `scale` (10^-N for N < 0).
template <typename X>
X RoundInteger(Rounding mode, X x, int64_t scale) {
  using W = std::conditional_t<std::is_signed_v<X>, int64_t, uint64_t>;
  W v = static_cast<W>(x), s = static_cast<W>(scale);
  W q = v / s, r = v % s;  // truncated toward zero
  W down = q * s;          // toward zero
  bool negative = false;
  if constexpr (std::is_signed_v<X>) negative = v < 0;
  switch (mode) {
    case Rounding::kTrunc:
      return static_cast<X>(down);
    case Rounding::kFloor:
      return static_cast<X>(negative && r != 0 ? down - s : down);
    case Rounding::kCeil:
      return static_cast<X>(!negative && r != 0 ? down + s : down);
    case Rounding::kRound: {
      W abs_r = negative ? static_cast<W>(0 - r) : r;
      if (abs_r * 2 >= s) return static_cast<X>(negative ? down - s : down + s);
      return static_cast<X>(down);
    }
  }
  return x;
}

FunctionFactory RoundFn(Rounding mode) {
  return [mode](std::string_view name, const std::vector<ArgSpec>& args) -> Result<BoundFunction> {
    TH_RETURN_IF_ERROR(CheckArgCount(name, args.size(), 1, 2));
    const DataTypePtr& t = args[0].type;
    if (!IsPlainNumber(*t)) return IllegalArgType(name, *t, 1);
    int64_t digits = 0;
    if (args.size() == 2) {
      auto d = ConstInt(args[1]);
      if (!d || !args[1].type->is_integer()) {
        return IllegalArgType(name, *args[1].type, 2, "Must be a constant integer");
      }
      digits = *d;
      if (digits > 10000 || digits < -10000) {
        return Status::InvalidArgument("Too large scale argument for rounding function",
                                       ch::kArgumentOutOfBound);
      }
    }
    DataTypePtr result = t->id() == TypeId::kBool ? DataType::Get(TypeId::kUInt8) : t;
    return BoundFunction{result,
                         [mode, digits, result](const std::vector<Datum>& in,
                                                const KernelContext& ctx) -> Result<ColumnPtr> {
                           TH_ASSIGN_OR_RETURN(Datum x, CastDatum(in[0], result));
                           return DispatchNumeric(*result, [&](auto* tag) -> ColumnPtr {
                             using X = std::remove_pointer_t<decltype(tag)>;
                             auto out = NewVector<X>(result, ctx.rows);
                             X* dst = out->data().data();
                             const X* p = Data<X>(x);
                             size_t n = x.is_const ? 1 : ctx.rows;
                             if constexpr (std::is_floating_point_v<X>) {
                               double scale = std::pow(
                                   10.0, static_cast<double>(digits < 0 ? -digits : digits));
                               for (size_t i = 0; i < n; ++i) {
                                 double v = p[i];
                                 double r;
                                 if (digits == 0)
                                   r = RoundFloat(mode, v);
                                 else if (digits > 0)
                                   r = RoundFloat(mode, v * scale) / scale;
                                 else
                                   r = RoundFloat(mode, v / scale) * scale;
                                 dst[i] = static_cast<X>(std::isfinite(r) ? r : v);
                               }
                             } else {
                               if (digits >= 0) {
                                 std::memcpy(dst, p, n * sizeof(X));
                               } else if (-digits >= 19) {
                                 for (size_t i = 0; i < n; ++i) dst[i] = 0;
                               } else {
                                 int64_t scale = 1;
                                 for (int64_t k = 0; k < -digits; ++k) scale *= 10;
                                 for (size_t i = 0; i < n; ++i)
                                   dst[i] = RoundInteger<X>(mode, p[i], scale);
                               }
                             }
                             if (x.is_const) {
                               for (size_t i = 1; i < ctx.rows; ++i) dst[i] = dst[0];
                             }
                             return out;
                           });
                         }};
  };
}

// ------------------------------------------------------------ least / greatest

FunctionFactory LeastGreatest(bool least) {
  return [least](std::string_view name, const std::vector<ArgSpec>& args) -> Result<BoundFunction> {
    TH_RETURN_IF_ERROR(CheckArgCount(name, args.size(), 2, SIZE_MAX));
    std::vector<DataTypePtr> types;
    for (const auto& a : args) types.push_back(a.type);
    auto st = LeastSupertype(types);
    if (!st.ok()) return st.status().WithContext(fmt::format("In function {}", name));
    DataTypePtr result = *st;
    if (IsTuple(*result) || IsInterval(*result)) return IllegalArgType(name, *result, 1);
    return BoundFunction{result,
                         [least, result](const std::vector<Datum>& in,
                                         const KernelContext& ctx) -> Result<ColumnPtr> {
                           std::vector<Datum> cast;
                           for (const Datum& d : in) {
                             TH_ASSIGN_OR_RETURN(Datum c, CastDatum(d, result));
                             cast.push_back(std::move(c));
                           }
                           size_t rows = ctx.rows;
                           if (result->id() == TypeId::kString) {
                             auto out = std::make_shared<types::ColumnString>(result);
                             for (size_t i = 0; i < rows; ++i) {
                               std::string_view best = StrAt(cast[0], i);
                               for (size_t k = 1; k < cast.size(); ++k) {
                                 std::string_view v = StrAt(cast[k], i);
                                 if (least ? v < best : v > best) best = v;
                               }
                               out->Append(best);
                             }
                             return ColumnPtr(out);
                           }
                           return DispatchNumeric(*result, [&](auto* tag) -> ColumnPtr {
                             using X = std::remove_pointer_t<decltype(tag)>;
                             auto out = NewVector<X>(result, rows);
                             X* dst = out->data().data();
                             ColumnPtr first = Materialize(cast[0], rows);
                             std::memcpy(dst, static_cast<const Vec<X>&>(*first).data().data(),
                                         rows * sizeof(X));
                             for (size_t k = 1; k < cast.size(); ++k) {
                               const X* p = Data<X>(cast[k]);
                               size_t s = cast[k].is_const ? 0 : 1;
                               if (least) {
                                 for (size_t i = 0; i < rows; ++i)
                                   dst[i] = p[i * s] < dst[i] ? p[i * s] : dst[i];
                               } else {
                                 for (size_t i = 0; i < rows; ++i)
                                   dst[i] = p[i * s] > dst[i] ? p[i * s] : dst[i];
                               }
                             }
                             return out;
                           });
                         }};
  };
}

// ------------------------------------------------------------ Float64 math

using MathFn = double (*)(double);

FunctionFactory Unary(MathFn f) {
  return [f](std::string_view name, const std::vector<ArgSpec>& args) -> Result<BoundFunction> {
    TH_RETURN_IF_ERROR(CheckArgCount(name, args.size(), 1, 1));
    if (!IsPlainNumber(*args[0].type)) return IllegalArgType(name, *args[0].type, 1);
    return BoundFunction{
        Float64Type(),
        [f](const std::vector<Datum>& in, const KernelContext& ctx) -> Result<ColumnPtr> {
          TH_ASSIGN_OR_RETURN(Datum x, CastDatum(in[0], Float64Type()));
          auto out = NewVector<double>(Float64Type(), ctx.rows);
          UnaryLoop(Data<double>(x), x.is_const, out->data().data(), ctx.rows, f);
          return ColumnPtr(out);
        }};
  };
}

Result<BoundFunction> BindPow(std::string_view name, const std::vector<ArgSpec>& args) {
  TH_RETURN_IF_ERROR(CheckArgCount(name, args.size(), 2, 2));
  for (size_t i = 0; i < 2; ++i) {
    if (!IsPlainNumber(*args[i].type)) return IllegalArgType(name, *args[i].type, i + 1);
  }
  return BoundFunction{
      Float64Type(),
      [](const std::vector<Datum>& in, const KernelContext& ctx) -> Result<ColumnPtr> {
        TH_ASSIGN_OR_RETURN(Datum x, CastDatum(in[0], Float64Type()));
        TH_ASSIGN_OR_RETURN(Datum y, CastDatum(in[1], Float64Type()));
        auto out = NewVector<double>(Float64Type(), ctx.rows);
        BinaryLoop(Data<double>(x), x.is_const, Data<double>(y), y.is_const, out->data().data(),
                   ctx.rows, [](double a, double b) { return std::pow(a, b); });
        return ColumnPtr(out);
      }};
}

FunctionFactory Constant(double v) {
  return [v](std::string_view name, const std::vector<ArgSpec>& args) -> Result<BoundFunction> {
    TH_RETURN_IF_ERROR(CheckArgCount(name, args.size(), 0, 0));
    return BoundFunction{
        Float64Type(),
        [v](const std::vector<Datum>&, const KernelContext& ctx) -> Result<ColumnPtr> {
          return types::MakeConstColumn(Float64Type(), types::Value::Float(v), ctx.rows);
        }};
  };
}

double Exp10(double x) { return std::pow(10.0, x); }

}  // namespace

void RegisterMathFunctions(FunctionRegistry* r) {
  FunctionTraits ci{.case_insensitive = true};
  r->Register("abs", BindAbs, ci);
  r->Register("round", RoundFn(Rounding::kRound), ci);
  r->Register("floor", RoundFn(Rounding::kFloor), ci);
  r->Register("ceil", RoundFn(Rounding::kCeil), ci);
  r->Alias("ceiling", "ceil", true);
  r->Register("trunc", RoundFn(Rounding::kTrunc), ci);
  r->Alias("truncate", "trunc", true);
  r->Register("least", LeastGreatest(true), ci);
  r->Register("greatest", LeastGreatest(false), ci);
  struct Named {
    const char* name;
    MathFn fn;
  };
  static const Named kUnary[] = {
      {"sqrt", [](double x) { return std::sqrt(x); }},
      {"cbrt", [](double x) { return std::cbrt(x); }},
      {"exp", [](double x) { return std::exp(x); }},
      {"exp2", [](double x) { return std::exp2(x); }},
      {"exp10", Exp10},
      {"log", [](double x) { return std::log(x); }},
      {"log2", [](double x) { return std::log2(x); }},
      {"log10", [](double x) { return std::log10(x); }},
      {"sin", [](double x) { return std::sin(x); }},
      {"cos", [](double x) { return std::cos(x); }},
      {"tan", [](double x) { return std::tan(x); }},
      {"asin", [](double x) { return std::asin(x); }},
      {"acos", [](double x) { return std::acos(x); }},
      {"atan", [](double x) { return std::atan(x); }},
  };
  for (const auto& u : kUnary) r->Register(u.name, Unary(u.fn), ci);
  r->Alias("ln", "log", true);
  r->Register("pow", BindPow, ci);
  r->Alias("power", "pow", true);
  r->Register("pi", Constant(std::numbers::pi), ci);
  r->Register("e", Constant(std::numbers::e));
}

}  // namespace trackhouse::eval
