// plus, minus, multiply, divide, intDiv, intDivOrZero, modulo, moduloOrZero, negate, with
// ClickHouse's result types (NumberTraits) and wrap-around integer arithmetic; date/time
// arithmetic with integers and intervals.
#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "eval/column_util.h"
#include "eval/conversion.h"
#include "eval/datetime_functions.h"
#include "eval/type_rules.h"

namespace trackhouse::eval {
namespace {

using types::ColumnPtr;
using types::DataType;
using types::DataTypePtr;
using types::TypeId;

DataTypePtr T(TypeId id) { return DataType::Get(id); }

// Size in bytes, signedness and floatness of a numeric type, as NumberTraits sees it.
struct NumInfo {
  int size;
  bool is_signed;
  bool is_float;
};

NumInfo Info(const DataType& t) {
  switch (t.id()) {
    case TypeId::kFloat32:
      return {4, true, true};
    case TypeId::kFloat64:
      return {8, true, true};
    case TypeId::kBool:
      return {1, false, false};
    default:
      return {IntegerBits(t.id()) / 8, t.is_signed(), false};
  }
}

int NextSize(int size) { return size < 8 ? size * 2 : size; }

DataTypePtr Construct(bool is_signed, bool is_float, int size) {
  if (is_float) return T(size <= 4 ? TypeId::kFloat32 : TypeId::kFloat64);
  return IntegerType(is_signed, size * 8);
}

bool IsPlainNumber(const DataType& t) { return t.is_numeric() && !IsInterval(t) && !IsNothing(t); }

Status IllegalTypes(std::string_view fn, const DataType& a, const DataType& b) {
  return Status::InvalidArgument(
      fmt::format("Illegal types {} and {} of arguments of function {}", a.name(), b.name(), fn),
      ch::kIllegalTypeOfArgument);
}

Status DivisionByZero() { return Status::InvalidArgument("Division by zero", kChIllegalDivision); }

// Wrap-around integer arithmetic without signed-overflow UB.
template <typename X>
using Wide = std::conditional_t<sizeof(X) < 4, uint32_t, std::make_unsigned_t<X>>;

template <typename X>
struct PlusOp {
  X operator()(X a, X b) const {
    if constexpr (std::is_floating_point_v<X>)
      return a + b;
    else
      return static_cast<X>(static_cast<Wide<X>>(a) + static_cast<Wide<X>>(b));
  }
};
template <typename X>
struct MinusOp {
  X operator()(X a, X b) const {
    if constexpr (std::is_floating_point_v<X>)
      return a - b;
    else
      return static_cast<X>(static_cast<Wide<X>>(a) - static_cast<Wide<X>>(b));
  }
};
template <typename X>
struct MultiplyOp {
  X operator()(X a, X b) const {
    if constexpr (std::is_floating_point_v<X>)
      return a * b;
    else
      return static_cast<X>(static_cast<Wide<X>>(a) * static_cast<Wide<X>>(b));
  }
};

enum class Op { kPlus, kMinus, kMultiply };

// Runs a same-typed binary op on two Datums already converted to `type`.
template <template <typename> class F>
ColumnPtr RunSameType(const Datum& a, const Datum& b, const DataTypePtr& type, size_t rows) {
  return DispatchNumeric(*type, [&](auto* tag) -> ColumnPtr {
    using X = std::remove_pointer_t<decltype(tag)>;
    auto out = NewVector<X>(type, rows);
    BinaryLoop(Data<X>(a), a.is_const, Data<X>(b), b.is_const, out->data().data(), rows, F<X>());
    return out;
  });
}

// plus / minus / multiply over numbers: both sides converted to the result type.
Result<BoundFunction> BindNumericOp(Op op, const DataTypePtr& ta, const DataTypePtr& tb) {
  NumInfo a = Info(*ta), b = Info(*tb);
  bool is_float = a.is_float || b.is_float;
  int size = NextSize(std::max(a.size, b.size));
  bool is_signed = op == Op::kMinus || a.is_signed || b.is_signed;
  DataTypePtr result = Construct(is_signed, is_float, size);
  return BoundFunction{
      result,
      [op, result](const std::vector<Datum>& args, const KernelContext& ctx) -> Result<ColumnPtr> {
        TH_ASSIGN_OR_RETURN(Datum x, CastDatum(args[0], result));
        TH_ASSIGN_OR_RETURN(Datum y, CastDatum(args[1], result));
        switch (op) {
          case Op::kPlus:
            return RunSameType<PlusOp>(x, y, result, ctx.rows);
          case Op::kMinus:
            return RunSameType<MinusOp>(x, y, result, ctx.rows);
          case Op::kMultiply:
            return RunSameType<MultiplyOp>(x, y, result, ctx.rows);
        }
        return Status::Internal("bad op");
      }};
}

// Date/DateTime +/- integer: days for Date, seconds for DateTime; Date - Date and
// DateTime - DateTime are Int32.
Result<BoundFunction> BindTimeIntegerOp(std::string_view name, Op op, const DataTypePtr& ta,
                                        const DataTypePtr& tb) {
  bool a_time = ta->id() == TypeId::kDate || ta->id() == TypeId::kDateTime;
  bool b_time = tb->id() == TypeId::kDate || tb->id() == TypeId::kDateTime;
  if (op == Op::kMinus && a_time && b_time) {
    if (!ta->Equals(*tb)) return IllegalTypes(name, *ta, *tb);
    DataTypePtr result = T(TypeId::kInt32);
    return BoundFunction{
        result,
        [result](const std::vector<Datum>& args, const KernelContext& ctx) -> Result<ColumnPtr> {
          TH_ASSIGN_OR_RETURN(Datum x, CastDatum(args[0], result));
          TH_ASSIGN_OR_RETURN(Datum y, CastDatum(args[1], result));
          return RunSameType<MinusOp>(x, y, result, ctx.rows);
        }};
  }
  const DataTypePtr& time = a_time ? ta : tb;
  const DataTypePtr& other = a_time ? tb : ta;
  if (!other->is_integer() || (op == Op::kMinus && !a_time) || op == Op::kMultiply) {
    return IllegalTypes(name, *ta, *tb);
  }
  // Compute in Int64, then wrap into the time type's width, as ClickHouse does.
  DataTypePtr wide = T(TypeId::kInt64);
  DataTypePtr result = time;
  return BoundFunction{result,
                       [op, wide, result](const std::vector<Datum>& args,
                                          const KernelContext& ctx) -> Result<ColumnPtr> {
                         TH_ASSIGN_OR_RETURN(Datum x, CastDatum(args[0], wide));
                         TH_ASSIGN_OR_RETURN(Datum y, CastDatum(args[1], wide));
                         ColumnPtr r = op == Op::kPlus ? RunSameType<PlusOp>(x, y, wide, ctx.rows)
                                                       : RunSameType<MinusOp>(x, y, wide, ctx.rows);
                         const int64_t* in = static_cast<const Vec<int64_t>&>(*r).data().data();
                         return DispatchNumeric(*result, [&](auto* tag) -> ColumnPtr {
                           using X = std::remove_pointer_t<decltype(tag)>;
                           auto out = NewVector<X>(result, ctx.rows);
                           X* dst = out->data().data();
                           for (size_t i = 0; i < ctx.rows; ++i) dst[i] = static_cast<X>(in[i]);
                           return out;
                         });
                       }};
}

FunctionFactory AddSubMul(Op op) {
  return [op](std::string_view name, const std::vector<ArgSpec>& args) -> Result<BoundFunction> {
    TH_RETURN_IF_ERROR(CheckArgCount(name, args.size(), 2, 2));
    const DataTypePtr& ta = args[0].type;
    const DataTypePtr& tb = args[1].type;
    IntervalKind kind;
    if (op != Op::kMultiply) {
      if (IsInterval(*tb, &kind) && ta->is_time()) {
        return BindTimeIntervalArithmetic(name, args, 0, kind, op == Op::kMinus);
      }
      if (op == Op::kPlus && IsInterval(*ta, &kind) && tb->is_time()) {
        return BindTimeIntervalArithmetic(name, args, 1, kind, false);
      }
      if (ta->is_time() || tb->is_time()) {
        if (ta->id() == TypeId::kDateTime64 || tb->id() == TypeId::kDateTime64) {
          return IllegalTypes(name, *ta, *tb);
        }
        return BindTimeIntegerOp(name, op, ta, tb);
      }
    }
    if (!IsPlainNumber(*ta) || !IsPlainNumber(*tb)) return IllegalTypes(name, *ta, *tb);
    return BindNumericOp(op, ta, tb);
  };
}

Result<BoundFunction> BindDivide(std::string_view name, const std::vector<ArgSpec>& args) {
  TH_RETURN_IF_ERROR(CheckArgCount(name, args.size(), 2, 2));
  if (!IsPlainNumber(*args[0].type) || !IsPlainNumber(*args[1].type)) {
    return IllegalTypes(name, *args[0].type, *args[1].type);
  }
  DataTypePtr result = T(TypeId::kFloat64);
  return BoundFunction{
      result,
      [result](const std::vector<Datum>& args, const KernelContext& ctx) -> Result<ColumnPtr> {
        TH_ASSIGN_OR_RETURN(Datum x, CastDatum(args[0], result));
        TH_ASSIGN_OR_RETURN(Datum y, CastDatum(args[1], result));
        auto out = NewVector<double>(result, ctx.rows);
        BinaryLoop(Data<double>(x), x.is_const, Data<double>(y), y.is_const, out->data().data(),
                   ctx.rows, [](double p, double q) { return p / q; });
        return ColumnPtr(out);
      }};
}

// intDiv / modulo: computed in a 64-bit operation type (signed when either side is signed,
// double when either is a float), then narrowed to the ClickHouse result type.
enum class IntOp { kIntDiv, kModulo };

template <typename W>
Status CheckDivisors(const W* b, bool b_const, size_t rows, const uint8_t* skip, bool or_zero) {
  if (or_zero) return Status::OK();
  if (b_const) return b[0] == 0 ? DivisionByZero() : Status::OK();
  bool zero = false;
  for (size_t i = 0; i < rows; ++i) zero |= (b[i] == 0) & !(skip && skip[i]);
  return zero ? DivisionByZero() : Status::OK();
}

template <typename W>
W DivOrMod(IntOp op, W a, W b, W a_min) {
  if (b == 0) return 0;  // OrZero variants, or skipped rows
  if constexpr (std::is_floating_point_v<W>) {
    return op == IntOp::kIntDiv ? a / b : std::fmod(a, b);
  } else {
    if constexpr (std::is_signed_v<W>) {
      if (b == -1) return op == IntOp::kIntDiv ? static_cast<W>(0 - static_cast<uint64_t>(a)) : 0;
    }
    (void)a_min;
    return op == IntOp::kIntDiv ? a / b : a % b;
  }
}

FunctionFactory IntDivMod(IntOp op, bool or_zero) {
  return [op, or_zero](std::string_view name,
                       const std::vector<ArgSpec>& args) -> Result<BoundFunction> {
    TH_RETURN_IF_ERROR(CheckArgCount(name, args.size(), 2, 2));
    const DataTypePtr& ta = args[0].type;
    const DataTypePtr& tb = args[1].type;
    if (!IsPlainNumber(*ta) || !IsPlainNumber(*tb)) return IllegalTypes(name, *ta, *tb);
    NumInfo a = Info(*ta), b = Info(*tb);
    bool any_float = a.is_float || b.is_float;
    bool is_signed = a.is_signed || b.is_signed;
    DataTypePtr result;
    if (op == IntOp::kIntDiv) {
      result = Construct(is_signed, false, a.size);
    } else {
      result = any_float ? T(TypeId::kFloat64) : Construct(is_signed, false, b.size);
    }
    DataTypePtr wide =
        any_float ? T(TypeId::kFloat64) : T(is_signed ? TypeId::kInt64 : TypeId::kUInt64);
    // The minimal value of a signed dividend type: dividing it by -1 is an error.
    int64_t a_min = 0;
    if (!a.is_float && a.is_signed && b.is_signed) {
      a_min = a.size == 8 ? std::numeric_limits<int64_t>::min() : -(int64_t{1} << (a.size * 8 - 1));
    }
    std::string fn(name);
    return BoundFunction{
        result, [=](const std::vector<Datum>& args, const KernelContext& ctx) -> Result<ColumnPtr> {
          TH_ASSIGN_OR_RETURN(Datum x, CastDatum(args[0], wide));
          TH_ASSIGN_OR_RETURN(Datum y, CastDatum(args[1], wide));
          return DispatchNumeric(*wide, [&](auto* tag) -> Result<ColumnPtr> {
            using W = std::remove_pointer_t<decltype(tag)>;
            const W* pa = Data<W>(x);
            const W* pb = Data<W>(y);
            const uint8_t* skip = y.is_const ? nullptr : ctx.null_rows;
            TH_RETURN_IF_ERROR(CheckDivisors(pb, y.is_const, ctx.rows, skip, or_zero));
            if constexpr (std::is_signed_v<W> && !std::is_floating_point_v<W>) {
              if (a_min != 0 && op == IntOp::kIntDiv && !or_zero) {
                for (size_t i = 0; i < ctx.rows; ++i) {
                  W p = pa[x.is_const ? 0 : i], q = pb[y.is_const ? 0 : i];
                  if (q == -1 && p == a_min && !(skip && skip[i])) {
                    return Status::InvalidArgument("Division of minimal signed number by minus one",
                                                   kChIllegalDivision);
                  }
                }
              }
            }
            return DispatchNumeric(*result, [&](auto* rtag) -> Result<ColumnPtr> {
              using R = std::remove_pointer_t<decltype(rtag)>;
              auto out = NewVector<R>(result, ctx.rows);
              BinaryLoop(pa, x.is_const, pb, y.is_const, out->data().data(), ctx.rows,
                         [op, a_min](W p, W q) {
                           W r = DivOrMod<W>(op, p, q, static_cast<W>(a_min));
                           if constexpr (std::is_floating_point_v<W> && std::is_integral_v<R>) {
                             if (!(r >= -9.2233720368547758e18 && r < 9.2233720368547758e18)) {
                               return static_cast<R>(std::numeric_limits<int64_t>::min());
                             }
                             return static_cast<R>(static_cast<int64_t>(r));
                           } else {
                             return static_cast<R>(r);
                           }
                         });
              return ColumnPtr(out);
            });
          });
        }};
  };
}

Result<BoundFunction> BindNegate(std::string_view name, const std::vector<ArgSpec>& args) {
  TH_RETURN_IF_ERROR(CheckArgCount(name, args.size(), 1, 1));
  const DataTypePtr& ta = args[0].type;
  if (!IsPlainNumber(*ta)) return IllegalArgType(name, *ta, 1);
  NumInfo a = Info(*ta);
  DataTypePtr result = Construct(true, a.is_float, a.is_signed ? a.size : NextSize(a.size));
  return BoundFunction{
      result,
      [result](const std::vector<Datum>& args, const KernelContext& ctx) -> Result<ColumnPtr> {
        TH_ASSIGN_OR_RETURN(Datum x, CastDatum(args[0], result));
        return DispatchNumeric(*result, [&](auto* tag) -> ColumnPtr {
          using X = std::remove_pointer_t<decltype(tag)>;
          auto out = NewVector<X>(result, ctx.rows);
          UnaryLoop(Data<X>(x), x.is_const, out->data().data(), ctx.rows,
                    [](X v) { return MinusOp<X>()(X{0}, v); });
          return out;
        });
      }};
}

}  // namespace

void RegisterArithmeticFunctions(FunctionRegistry* r) {
  r->Register("plus", AddSubMul(Op::kPlus));
  r->Register("minus", AddSubMul(Op::kMinus));
  r->Register("multiply", AddSubMul(Op::kMultiply));
  r->Register("divide", BindDivide);
  r->Register("intDiv", IntDivMod(IntOp::kIntDiv, false));
  r->Register("intDivOrZero", IntDivMod(IntOp::kIntDiv, true));
  r->Register("modulo", IntDivMod(IntOp::kModulo, false));
  r->Alias("mod", "modulo", true);
  r->Register("moduloOrZero", IntDivMod(IntOp::kModulo, true));
  r->Register("negate", BindNegate);
}

}  // namespace trackhouse::eval
