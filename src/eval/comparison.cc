// equals, notEquals, less, greater, lessOrEquals, greaterOrEquals.
//
// Both sides are brought to a common "domain" type: numbers to a type that holds both exactly
// (64-bit mixed-sign and float/64-bit-integer pairs compare through long double, which holds
// every Int64, UInt64 and Float64 exactly), dates and times to the finer of the two, a string
// compared with a date or number to that type (parsed). A constant compared with an integer
// column is narrowed to the column's own type when it fits, so `col = 5` runs one tight loop
// over the column's data.
#include <fmt/format.h>

#include <cstring>
#include <limits>

#include "eval/column_util.h"
#include "eval/conversion.h"
#include "eval/type_rules.h"

namespace trackhouse::eval {
namespace {

using types::ColumnPtr;
using types::DataType;
using types::DataTypePtr;
using types::TypeId;
using types::Value;

enum class Cmp { kEq, kNe, kLt, kLe };

template <Cmp C>
struct CmpOp {
  template <typename X>
  uint8_t operator()(X a, X b) const {
    if constexpr (C == Cmp::kEq)
      return a == b;
    else if constexpr (C == Cmp::kNe)
      return a != b;
    else if constexpr (C == Cmp::kLt)
      return a < b;
    else
      return a <= b;
  }
};

const DataTypePtr& UInt8Type() {
  static const DataTypePtr t = DataType::Get(TypeId::kUInt8);
  return t;
}

template <typename X>
ColumnPtr CompareSame(Cmp c, const X* a, bool ac, const X* b, bool bc, size_t rows) {
  auto out = NewVector<uint8_t>(UInt8Type(), rows);
  uint8_t* dst = out->data().data();
  switch (c) {
    case Cmp::kEq:
      BinaryLoop(a, ac, b, bc, dst, rows, CmpOp<Cmp::kEq>());
      break;
    case Cmp::kNe:
      BinaryLoop(a, ac, b, bc, dst, rows, CmpOp<Cmp::kNe>());
      break;
    case Cmp::kLt:
      BinaryLoop(a, ac, b, bc, dst, rows, CmpOp<Cmp::kLt>());
      break;
    case Cmp::kLe:
      BinaryLoop(a, ac, b, bc, dst, rows, CmpOp<Cmp::kLe>());
      break;
  }
  return out;
}

ColumnPtr ConstResult(uint8_t v, size_t rows) {
  auto out = NewVector<uint8_t>(UInt8Type(), rows);
  std::memset(out->data().data(), v, rows);
  return out;
}

// ---------------------------------------------------------------- strings

template <typename F>
ColumnPtr CompareStrings(const Datum& a, const Datum& b, size_t rows, F cmp) {
  auto out = NewVector<uint8_t>(UInt8Type(), rows);
  uint8_t* dst = out->data().data();
  if (!a.is_const && b.is_const) {
    std::string_view y = StrAt(b, 0);
    const auto& s = Str(a);
    for (size_t i = 0; i < rows; ++i) dst[i] = cmp(s.View(i), y);
  } else if (a.is_const && !b.is_const) {
    std::string_view x = StrAt(a, 0);
    const auto& s = Str(b);
    for (size_t i = 0; i < rows; ++i) dst[i] = cmp(x, s.View(i));
  } else {
    for (size_t i = 0; i < rows; ++i) dst[i] = cmp(StrAt(a, i), StrAt(b, i));
  }
  return out;
}

ColumnPtr CompareStringDatums(Cmp c, const Datum& a, const Datum& b, size_t rows) {
  switch (c) {
    case Cmp::kEq:
      return CompareStrings(a, b, rows, [](std::string_view x, std::string_view y) -> uint8_t {
        return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size()) == 0;
      });
    case Cmp::kNe:
      return CompareStrings(a, b, rows, [](std::string_view x, std::string_view y) -> uint8_t {
        return x.size() != y.size() || std::memcmp(x.data(), y.data(), x.size()) != 0;
      });
    case Cmp::kLt:
      return CompareStrings(
          a, b, rows, [](std::string_view x, std::string_view y) -> uint8_t { return x < y; });
    case Cmp::kLe:
      return CompareStrings(
          a, b, rows, [](std::string_view x, std::string_view y) -> uint8_t { return x <= y; });
  }
  return nullptr;
}

// ---------------------------------------------------------------- numbers

// Reads any numeric Datum as long double (exact for every Int64, UInt64 and Float64).
std::vector<long double> AsLongDouble(const Datum& d, size_t rows) {
  size_t n = d.is_const ? 1 : rows;
  std::vector<long double> out(n);
  DispatchNumeric(*d.column->type(), [&](auto* tag) {
    using X = std::remove_pointer_t<decltype(tag)>;
    const X* p = Data<X>(d);
    for (size_t i = 0; i < n; ++i) out[i] = static_cast<long double>(p[i]);
  });
  return out;
}

struct Domain {
  DataTypePtr type;          // both sides are cast to this type
  bool long_double = false;  // compare through long double instead
};

int Bits(const DataType& t) { return IntegerBits(t.id()); }

// The domain of two plain numbers (Bool counts as UInt8).
Domain NumericDomain(const DataTypePtr& a, const DataTypePtr& b) {
  if (a->Equals(*b)) return {a};
  bool af = a->is_float(), bf = b->is_float();
  if (af && bf) return {DataType::Get(TypeId::kFloat64)};
  if (af || bf) {
    const DataType& i = af ? *b : *a;
    if (Bits(i) <= 32) return {DataType::Get(TypeId::kFloat64)};
    return {nullptr, true};
  }
  bool as = a->is_signed(), bs = b->is_signed();
  int ab = Bits(*a), bb = Bits(*b);
  if (as == bs) return {IntegerType(as, std::max(ab, bb))};
  int s = as ? ab : bb, u = as ? bb : ab;
  if (u < s) return {IntegerType(true, s)};
  if (u < 64) return {IntegerType(true, u * 2)};
  return {nullptr, true};
}

// The physical numeric type that stands for a time type when compared with a number.
DataTypePtr AsNumber(const DataTypePtr& t) {
  switch (t->id()) {
    case TypeId::kDate:
      return DataType::Get(TypeId::kUInt16);
    case TypeId::kDateTime:
      return DataType::Get(TypeId::kUInt32);
    case TypeId::kDateTime64:
      return DataType::Get(TypeId::kInt64);
    case TypeId::kBool:
      return DataType::Get(TypeId::kUInt8);
    default:
      return t;
  }
}

Result<Domain> ChooseDomain(std::string_view name, const DataTypePtr& a, const DataTypePtr& b) {
  auto illegal = [&]() {
    return Status::InvalidArgument(fmt::format("Illegal types of arguments ({}, {}) of function {}",
                                               a->name(), b->name(), name),
                                   ch::kIllegalTypeOfArgument);
  };
  for (const auto* t : {&a, &b}) {
    if (IsTuple(**t) || IsInterval(**t)) return illegal();
  }
  bool as = a->is_string_like(), bs = b->is_string_like();
  if (as && bs) return Domain{DataType::Get(TypeId::kString)};
  if (as || bs) {
    const DataTypePtr& other = as ? b : a;
    if (other->is_time() || other->is_numeric()) return Domain{other};
    return illegal();
  }
  bool at = a->is_time(), bt = b->is_time();
  if (at && bt) {
    TH_ASSIGN_OR_RETURN(DataTypePtr t, LeastSupertype({a, b}));
    return Domain{t};
  }
  if (at || bt) {
    // A date or time against a number: compare the physical values.
    if (at && bt) return illegal();
    const DataTypePtr& time = at ? a : b;
    const DataTypePtr& num = at ? b : a;
    if (!num->is_numeric()) return illegal();
    Domain d = NumericDomain(AsNumber(time), AsNumber(num));
    return d;
  }
  if (!a->is_numeric() || !b->is_numeric()) return illegal();
  return NumericDomain(AsNumber(a), AsNumber(b));
}

// If `vec` is a non-constant plain integer column and `cst` a constant whose value (in the
// domain) fits its type, compares in the column's type. Returns null when not applicable.
ColumnPtr TryNarrowedCompare(Cmp c, const Datum& vec, const Datum& cst, bool vec_is_left,
                             size_t rows) {
  // Plain integers, and Date / DateTime compared with a number (the domain then holds their
  // physical values unchanged).
  const DataType& vt = *vec.column->type();
  bool integral = vt.is_integer() || vt.id() == TypeId::kDate || vt.id() == TypeId::kDateTime;
  if (!integral || cst.column->type()->is_float()) return nullptr;
  Value v = ConstValue(cst);
  if (v.is_null()) return nullptr;
  return DispatchNumeric(vt, [&](auto* tag) -> ColumnPtr {
    using X = std::remove_pointer_t<decltype(tag)>;
    // Range check of the constant against X.
    bool below = false, above = false;
    X x{};
    if (v.kind() == Value::Kind::kInt) {
      int64_t i = v.int_value();
      if (i < 0 && std::is_unsigned_v<X>)
        below = true;
      else if (static_cast<__int128>(i) < static_cast<__int128>(std::numeric_limits<X>::min()))
        below = true;
      else if (static_cast<__int128>(i) > static_cast<__int128>(std::numeric_limits<X>::max()))
        above = true;
      else
        x = static_cast<X>(i);
    } else if (v.kind() == Value::Kind::kUInt) {
      uint64_t u = v.uint_value();
      if (static_cast<__int128>(u) > static_cast<__int128>(std::numeric_limits<X>::max()))
        above = true;
      else
        x = static_cast<X>(u);
    } else {
      return nullptr;
    }
    if (below || above) {
      // Every row compares the same way: column values are all inside X's range.
      bool col_less = above;  // column value < constant
      uint8_t r = 0;
      switch (c) {
        case Cmp::kEq:
          r = 0;
          break;
        case Cmp::kNe:
          r = 1;
          break;
        case Cmp::kLt:
          r = vec_is_left ? col_less : !col_less;
          break;
        case Cmp::kLe:
          r = vec_is_left ? col_less : !col_less;
          break;
      }
      return ConstResult(r, rows);
    }
    const X* p = Data<X>(vec);
    return vec_is_left ? CompareSame<X>(c, p, false, &x, true, rows)
                       : CompareSame<X>(c, &x, true, p, false, rows);
  });
}

FunctionFactory Comparison(Cmp c, bool swap) {
  return [c, swap](std::string_view name,
                   const std::vector<ArgSpec>& args) -> Result<BoundFunction> {
    TH_RETURN_IF_ERROR(CheckArgCount(name, args.size(), 2, 2));
    TH_ASSIGN_OR_RETURN(Domain dom, ChooseDomain(name, args[0].type, args[1].type));
    bool string_domain = dom.type && dom.type->id() == TypeId::kString;
    std::string fn(name);
    return BoundFunction{
        UInt8Type(),
        [=](const std::vector<Datum>& in, const KernelContext& ctx) -> Result<ColumnPtr> {
          const Datum& l = swap ? in[1] : in[0];
          const Datum& r = swap ? in[0] : in[1];
          size_t rows = ctx.rows;
          if (string_domain) return CompareStringDatums(c, l, r, rows);
          CastOptions o;
          o.function = fn;
          if (dom.long_double) {
            std::vector<long double> x = AsLongDouble(l, rows), y = AsLongDouble(r, rows);
            return CompareSame<long double>(c, x.data(), l.is_const, y.data(), r.is_const, rows);
          }
          // Narrow a constant into an integer column's own type when the domain is integral.
          if (dom.type->is_integer() && l.is_const != r.is_const) {
            const Datum& vec = l.is_const ? r : l;
            const Datum& cst = l.is_const ? l : r;
            if (!vec.column->type()->Equals(*dom.type)) {
              TH_ASSIGN_OR_RETURN(Datum cd, CastDatum(cst, dom.type, o));
              ColumnPtr res = TryNarrowedCompare(c, vec, cd, !l.is_const, rows);
              if (res) return res;
            }
          }
          o.skip_rows = ctx.null_rows;
          TH_ASSIGN_OR_RETURN(Datum x, CastDatum(l, dom.type, o));
          TH_ASSIGN_OR_RETURN(Datum y, CastDatum(r, dom.type, o));
          return DispatchNumeric(*dom.type, [&](auto* tag) -> ColumnPtr {
            using X = std::remove_pointer_t<decltype(tag)>;
            return CompareSame<X>(c, Data<X>(x), x.is_const, Data<X>(y), y.is_const, rows);
          });
        }};
  };
}

}  // namespace

void RegisterComparisonFunctions(FunctionRegistry* r) {
  r->Register("equals", Comparison(Cmp::kEq, false));
  r->Register("notEquals", Comparison(Cmp::kNe, false));
  r->Register("less", Comparison(Cmp::kLt, false));
  r->Register("lessOrEquals", Comparison(Cmp::kLe, false));
  r->Register("greater", Comparison(Cmp::kLt, true));
  r->Register("greaterOrEquals", Comparison(Cmp::kLe, true));
}

}  // namespace trackhouse::eval
