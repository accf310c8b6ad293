#include "eval/conversion.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <limits>

#include "eval/column_util.h"
#include "eval/type_rules.h"
#include "types/convert.h"
#include "types/datetime.h"

namespace trackhouse::eval {

using types::Column;
using types::ColumnPtr;
using types::DataType;
using types::DataTypePtr;
using types::TypeId;
using types::Value;

// ---------------------------------------------------------------- float text

namespace {

// Writes `digits` (no dot) with decimal exponent `e` (value = d.ddd x 10^e) as ClickHouse does.
void WriteShortest(std::string_view digits, int e, bool negative, std::string* out) {
  if (negative) out->push_back('-');
  int n = static_cast<int>(digits.size());
  if (e >= -6 && e < 21) {
    int point = e + 1;  // digits before the decimal point
    if (point <= 0) {
      out->append("0.");
      out->append(static_cast<size_t>(-point), '0');
      out->append(digits);
    } else if (point >= n) {
      out->append(digits);
      out->append(static_cast<size_t>(point - n), '0');
    } else {
      out->append(digits.substr(0, point));
      out->push_back('.');
      out->append(digits.substr(point));
    }
    return;
  }
  out->push_back(digits[0]);
  if (n > 1) {
    out->push_back('.');
    out->append(digits.substr(1));
  }
  out->push_back('e');
  out->append(std::to_string(e));
}

template <typename F>
void FormatFloatImpl(F v, std::string* out) {
  if (std::isnan(v)) {
    out->append("nan");
    return;
  }
  if (std::isinf(v)) {
    out->append(v > 0 ? "inf" : "-inf");
    return;
  }
  if (v == 0) {
    out->append(std::signbit(v) ? "-0" : "0");
    return;
  }
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  std::string_view s(buf, p - buf);
  bool negative = false;
  if (s[0] == '-') {
    negative = true;
    s.remove_prefix(1);
  }
  size_t epos = s.find('e');
  std::string_view mant = s.substr(0, epos);
  int e = std::atoi(std::string(s.substr(epos + 1)).c_str());
  std::string digits;
  for (char c : mant) {
    if (c != '.') digits.push_back(c);
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  WriteShortest(digits, e, negative, out);
}

}  // namespace

void FormatFloat64(double v, std::string* out) { FormatFloatImpl(v, out); }
void FormatFloat32(float v, std::string* out) { FormatFloatImpl(v, out); }

// ---------------------------------------------------------------- helpers

namespace {

enum class Cat : uint8_t {
  kNumber,
  kBool,
  kDate,
  kDateTime,
  kDateTime64,
  kString,
  kNothing,
  kOther
};

Cat CategoryOf(const DataType& t) {
  if (IsNothing(t)) return Cat::kNothing;
  if (IsTuple(t)) return Cat::kOther;
  switch (t.id()) {
    case TypeId::kBool:
      return Cat::kBool;
    case TypeId::kDate:
      return Cat::kDate;
    case TypeId::kDateTime:
      return Cat::kDateTime;
    case TypeId::kDateTime64:
      return Cat::kDateTime64;
    case TypeId::kString:
    case TypeId::kFixedString:
    case TypeId::kLowCardinality:
      return Cat::kString;
    case TypeId::kNullable:
      return Cat::kOther;
    default:
      return Cat::kNumber;
  }
}

// static_cast without undefined behaviour for out-of-range floats (x86 semantics: the
// "integer indefinite" value, then truncation to the target width).
template <typename To, typename From>
inline To NumCast(From v) {
  if constexpr (std::is_floating_point_v<From> && std::is_integral_v<To>) {
    if (v >= -9.2233720368547758e18 && v < 9.2233720368547758e18) {
      return static_cast<To>(static_cast<int64_t>(v));
    }
    if constexpr (std::is_same_v<To, uint64_t>) {
      if (v >= 0 && v < 1.8446744073709552e19) return static_cast<To>(v);
    }
    return static_cast<To>(std::numeric_limits<int64_t>::min());
  } else {
    return static_cast<To>(v);
  }
}

inline int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

Status NullIntoNonNullable(std::string_view function) {
  return Status::InvalidArgument(
      fmt::format("Cannot convert NULL value to non-Nullable type (in function {})", function),
      kChCannotInsertNull);
}

Status ParseError(std::string_view text, const DataType& to, std::string_view function, int code) {
  std::string msg = fmt::format("Cannot parse string '{}' as {}", text.substr(0, 200), to.name());
  if (to.is_numeric() || to.is_time()) {
    msg += fmt::format(
        ": syntax error. Note: there are to{}OrZero and to{}OrNull functions, which returns "
        "zero/NULL instead of throwing exception",
        to.name().substr(0, to.name().find('(')), to.name().substr(0, to.name().find('(')));
  }
  (void)function;
  return Status::InvalidArgument(std::move(msg), code);
}

bool Skip(const CastOptions& o, size_t i) { return o.skip_rows && o.skip_rows[i]; }

// String -> any parseable type, row by row.
Result<ColumnPtr> ParseStrings(const ColumnPtr& src, const DataTypePtr& to, const CastOptions& o,
                               std::vector<uint8_t>* fail) {
  const auto& s = static_cast<const types::ColumnString&>(*src);
  size_t n = s.size();
  ColumnPtr out = types::MakeColumn(to);
  out->Reserve(n);
  if (fail) fail->assign(n, 0);
  for (size_t i = 0; i < n; ++i) {
    if (Skip(o, i)) {
      out->AppendDefault();
      continue;
    }
    std::string_view text = s.View(i);
    Result<Value> v = types::ParseValueText(text, *to);
    if (v.ok() && !v->is_null()) {
      out->AppendValue(*v);
      continue;
    }
    if (o.mode == CastMode::kThrow) {
      int code = v.ok() ? ch::kCannotParseText : v.status().clickhouse_code();
      if (code == ch::kValueIsOutOfRangeOfDataType || code == ch::kCannotParseNumber) {
        code = ch::kCannotParseText;
      }
      return ParseError(text, *to, o.function, code);
    }
    out->AppendDefault();
    if (fail) (*fail)[i] = 1;
  }
  return out;
}

template <typename U>
ColumnPtr NumbersToNumbers(const Column& src, const DataTypePtr& to) {
  size_t n = src.size();
  auto out = NewVector<U>(to, n);
  U* dst = out->data().data();
  const DataType& from = *src.type();
  if (from.id() == TypeId::kDateTime64) {
    const int64_t* in = static_cast<const Vec<int64_t>&>(src).data().data();
    int64_t scale = types::Pow10(from.precision());
    if constexpr (std::is_floating_point_v<U>) {
      for (size_t i = 0; i < n; ++i) dst[i] = static_cast<U>(static_cast<double>(in[i]) / scale);
    } else {
      for (size_t i = 0; i < n; ++i) dst[i] = static_cast<U>(in[i] / scale);
    }
    return out;
  }
  DispatchNumeric(from, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    const T* in = static_cast<const Vec<T>&>(src).data().data();
    if (to->id() == TypeId::kBool) {
      for (size_t i = 0; i < n; ++i) dst[i] = in[i] != 0;
    } else {
      for (size_t i = 0; i < n; ++i) dst[i] = NumCast<U>(in[i]);
    }
  });
  return out;
}

// Reads any numeric/time column row as int64 "time units" of the source, with its category.
ColumnPtr ToDate(const Column& src, const DataTypePtr& to) {
  size_t n = src.size();
  auto out = NewVector<uint16_t>(to, n);
  uint16_t* dst = out->data().data();
  const DataType& from = *src.type();
  switch (CategoryOf(from)) {
    case Cat::kDateTime: {
      const uint32_t* in = static_cast<const Vec<uint32_t>&>(src).data().data();
      for (size_t i = 0; i < n; ++i) dst[i] = static_cast<uint16_t>(in[i] / 86400);
      break;
    }
    case Cat::kDateTime64: {
      const int64_t* in = static_cast<const Vec<int64_t>&>(src).data().data();
      int64_t scale = types::Pow10(from.precision()) * 86400;
      for (size_t i = 0; i < n; ++i) dst[i] = static_cast<uint16_t>(FloorDiv(in[i], scale));
      break;
    }
    default:
      // A number below 65536 is a day number, a larger one a Unix time.
      DispatchNumeric(from, [&](auto* tag) {
        using T = std::remove_pointer_t<decltype(tag)>;
        const T* in = static_cast<const Vec<T>&>(src).data().data();
        for (size_t i = 0; i < n; ++i) {
          int64_t x = NumCast<int64_t>(in[i]);
          if (x < 0) x = 0;
          dst[i] = static_cast<uint16_t>(x <= 65535 ? x : x / 86400);
        }
      });
  }
  return out;
}

ColumnPtr ToDateTime(const Column& src, const DataTypePtr& to) {
  size_t n = src.size();
  auto out = NewVector<uint32_t>(to, n);
  uint32_t* dst = out->data().data();
  const DataType& from = *src.type();
  switch (CategoryOf(from)) {
    case Cat::kDate: {
      const uint16_t* in = static_cast<const Vec<uint16_t>&>(src).data().data();
      for (size_t i = 0; i < n; ++i) dst[i] = static_cast<uint32_t>(in[i]) * 86400u;
      break;
    }
    case Cat::kDateTime64: {
      const int64_t* in = static_cast<const Vec<int64_t>&>(src).data().data();
      int64_t scale = types::Pow10(from.precision());
      for (size_t i = 0; i < n; ++i) dst[i] = static_cast<uint32_t>(FloorDiv(in[i], scale));
      break;
    }
    default:
      DispatchNumeric(from, [&](auto* tag) {
        using T = std::remove_pointer_t<decltype(tag)>;
        const T* in = static_cast<const Vec<T>&>(src).data().data();
        for (size_t i = 0; i < n; ++i) dst[i] = NumCast<uint32_t>(in[i]);
      });
  }
  return out;
}

ColumnPtr ToDateTime64(const Column& src, const DataTypePtr& to) {
  size_t n = src.size();
  auto out = NewVector<int64_t>(to, n);
  int64_t* dst = out->data().data();
  const DataType& from = *src.type();
  int64_t scale = types::Pow10(to->precision());
  switch (CategoryOf(from)) {
    case Cat::kDate: {
      const uint16_t* in = static_cast<const Vec<uint16_t>&>(src).data().data();
      for (size_t i = 0; i < n; ++i) dst[i] = static_cast<int64_t>(in[i]) * 86400 * scale;
      break;
    }
    case Cat::kDateTime: {
      const uint32_t* in = static_cast<const Vec<uint32_t>&>(src).data().data();
      for (size_t i = 0; i < n; ++i) dst[i] = static_cast<int64_t>(in[i]) * scale;
      break;
    }
    case Cat::kDateTime64: {
      const int64_t* in = static_cast<const Vec<int64_t>&>(src).data().data();
      uint32_t p = from.precision(), q = to->precision();
      if (q >= p) {
        int64_t m = types::Pow10(q - p);
        for (size_t i = 0; i < n; ++i) dst[i] = in[i] * m;
      } else {
        int64_t d = types::Pow10(p - q);
        for (size_t i = 0; i < n; ++i) dst[i] = FloorDiv(in[i], d);
      }
      break;
    }
    default:
      DispatchNumeric(from, [&](auto* tag) {
        using T = std::remove_pointer_t<decltype(tag)>;
        const T* in = static_cast<const Vec<T>&>(src).data().data();
        if constexpr (std::is_floating_point_v<T>) {
          for (size_t i = 0; i < n; ++i) {
            dst[i] = NumCast<int64_t>(static_cast<double>(in[i]) * static_cast<double>(scale));
          }
        } else {
          for (size_t i = 0; i < n; ++i) {
            dst[i] =
                static_cast<int64_t>(static_cast<uint64_t>(in[i]) * static_cast<uint64_t>(scale));
          }
        }
      });
  }
  return out;
}

ColumnPtr ToStrings(const Column& src) {
  static const DataTypePtr kString = DataType::Get(TypeId::kString);
  size_t n = src.size();
  auto out = std::make_shared<types::ColumnString>(kString);
  out->Reserve(n);
  const DataType& from = *src.type();
  std::string buf;
  switch (CategoryOf(from)) {
    case Cat::kDate: {
      const uint16_t* in = static_cast<const Vec<uint16_t>&>(src).data().data();
      for (size_t i = 0; i < n; ++i) out->Append(types::FormatDate(in[i]));
      return out;
    }
    case Cat::kDateTime: {
      const uint32_t* in = static_cast<const Vec<uint32_t>&>(src).data().data();
      for (size_t i = 0; i < n; ++i) out->Append(types::FormatDateTime(in[i]));
      return out;
    }
    case Cat::kDateTime64: {
      const int64_t* in = static_cast<const Vec<int64_t>&>(src).data().data();
      for (size_t i = 0; i < n; ++i) out->Append(types::FormatDateTime64(in[i], from.precision()));
      return out;
    }
    case Cat::kBool: {
      const uint8_t* in = static_cast<const Vec<uint8_t>&>(src).data().data();
      for (size_t i = 0; i < n; ++i) out->Append(in[i] ? "true" : "false");
      return out;
    }
    case Cat::kNothing: {
      for (size_t i = 0; i < n; ++i) out->AppendDefault();
      return out;
    }
    default:
      break;
  }
  DispatchNumeric(from, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    const T* in = static_cast<const Vec<T>&>(src).data().data();
    for (size_t i = 0; i < n; ++i) {
      buf.clear();
      if constexpr (std::is_same_v<T, double>) {
        FormatFloat64(in[i], &buf);
      } else if constexpr (std::is_same_v<T, float>) {
        FormatFloat32(in[i], &buf);
      } else {
        char tmp[24];
        auto [p, ec] = std::to_chars(tmp, tmp + sizeof(tmp), in[i]);
        buf.assign(tmp, p);
      }
      out->Append(buf);
    }
  });
  return out;
}

// Conversion between non-Nullable types.
Result<ColumnPtr> CastCore(ColumnPtr src, const DataTypePtr& to, const CastOptions& o,
                           std::vector<uint8_t>* fail) {
  if (src->type()->Equals(*to)) return src;
  TypeId from_id = src->type()->id();
  if (from_id == TypeId::kLowCardinality || from_id == TypeId::kFixedString) {
    src = ToStringColumn(src);
    if (to->id() == TypeId::kString) return src;
  }
  const DataType& from = *src->type();
  size_t n = src->size();
  if (to->id() == TypeId::kLowCardinality) {
    TH_ASSIGN_OR_RETURN(ColumnPtr s, CastCore(src, DataType::Get(TypeId::kString), o, fail));
    const auto& str = static_cast<const types::ColumnString&>(*s);
    auto out = std::make_shared<types::ColumnLowCardinality>(to);
    out->Reserve(n);
    for (size_t i = 0; i < n; ++i) out->Append(str.View(i));
    return ColumnPtr(out);
  }
  if (to->id() == TypeId::kFixedString) {
    TH_ASSIGN_OR_RETURN(ColumnPtr s, CastCore(src, DataType::Get(TypeId::kString), o, fail));
    const auto& str = static_cast<const types::ColumnString&>(*s);
    auto out = std::make_shared<types::ColumnFixedString>(to);
    out->Reserve(n);
    if (fail && fail->size() != n) fail->assign(n, 0);
    for (size_t i = 0; i < n; ++i) {
      Status st = out->Append(str.View(i));
      if (st.ok()) continue;
      if (o.mode == CastMode::kThrow && !Skip(o, i)) return st;
      out->AppendDefault();
      if (fail) (*fail)[i] = 1;
    }
    return ColumnPtr(out);
  }
  Cat fc = CategoryOf(from);
  if (fc == Cat::kNothing) return types::MakeConstColumn(to, types::DefaultValue(*to), n);
  if (fc == Cat::kString) {
    if (to->id() == TypeId::kString) return src;
    return ParseStrings(src, to, o, fail);
  }
  if (fc == Cat::kOther) {
    return Status::InvalidArgument(
        fmt::format("Conversion from {} to {} is not supported", from.name(), to->name()),
        ch::kCannotConvertType);
  }
  switch (CategoryOf(*to)) {
    case Cat::kString:
      return ToStrings(*src);
    case Cat::kDate:
      return ToDate(*src, to);
    case Cat::kDateTime:
      return ToDateTime(*src, to);
    case Cat::kDateTime64:
      return ToDateTime64(*src, to);
    case Cat::kNumber:
    case Cat::kBool:
      return DispatchNumeric(*to, [&](auto* tag) -> ColumnPtr {
        using U = std::remove_pointer_t<decltype(tag)>;
        return NumbersToNumbers<U>(*src, to);
      });
    default:
      break;
  }
  return Status::InvalidArgument(
      fmt::format("Conversion from {} to {} is not supported", from.name(), to->name()),
      ch::kCannotConvertType);
}

}  // namespace

Result<ColumnPtr> CastColumn(const ColumnPtr& col, const DataTypePtr& to,
                             const CastOptions& options) {
  const DataTypePtr& from = col->type();
  if (from->Equals(*to)) return col;
  size_t n = col->size();
  if (to->is_nullable()) {
    std::vector<uint8_t> nulls(n, 0);
    ColumnPtr src = col;
    if (from->is_nullable()) {
      const auto& cn = static_cast<const types::ColumnNullable&>(*col);
      nulls = cn.null_map();
      src = cn.nested_ptr();
    }
    if (IsNothing(*src->type())) return AllNullColumn(to, n);
    std::vector<uint8_t> skip = nulls;
    if (options.skip_rows) {
      for (size_t i = 0; i < n; ++i) skip[i] |= options.skip_rows[i];
    }
    CastOptions o = options;
    o.skip_rows = skip.data();
    std::vector<uint8_t> fail;
    TH_ASSIGN_OR_RETURN(
        ColumnPtr nested,
        CastCore(src, to->nested(), o, options.mode == CastMode::kOrNull ? &fail : nullptr));
    if (!fail.empty()) {
      for (size_t i = 0; i < n; ++i) nulls[i] |= fail[i];
    }
    auto out = std::make_shared<types::ColumnNullable>(to, std::move(nested));
    out->mutable_null_map() = std::move(nulls);
    return ColumnPtr(out);
  }
  if (from->is_nullable()) {
    const auto& cn = static_cast<const types::ColumnNullable&>(*col);
    std::vector<uint8_t> skip = cn.null_map();
    for (size_t i = 0; i < n; ++i) {
      bool skipped = options.skip_rows && options.skip_rows[i];
      if (skip[i] && !skipped && options.mode == CastMode::kThrow) {
        return NullIntoNonNullable(options.function);
      }
      skip[i] |= skipped;
    }
    if (IsNothing(*cn.nested().type())) {
      return types::MakeConstColumn(to, types::DefaultValue(*to), n);
    }
    CastOptions o = options;
    o.skip_rows = skip.data();
    return CastCore(cn.nested_ptr(), to, o, nullptr);
  }
  return CastCore(col, to, options, nullptr);
}

Result<Datum> CastDatum(const Datum& d, const DataTypePtr& to, const CastOptions& options) {
  if (d.column->type()->Equals(*to)) return d;
  CastOptions o = options;
  if (d.is_const) o.skip_rows = nullptr;  // a constant's skip flag is per-row; not applicable
  TH_ASSIGN_OR_RETURN(ColumnPtr c, CastColumn(d.column, to, o));
  return Datum{std::move(c), d.is_const};
}

Status CheckCastable(const DataType& from_in, const DataType& to_in, std::string_view function) {
  const DataType& from = from_in.Unwrapped();
  const DataType& to = to_in.Unwrapped();
  Cat fc = CategoryOf(from), tc = CategoryOf(to);
  bool ok = true;
  if (fc == Cat::kOther || tc == Cat::kOther || tc == Cat::kNothing) ok = false;
  if (IsInterval(to) && !IsInterval(from)) ok = false;
  if (from_in.is_nullable() && IsNothing(from) && !to_in.is_nullable()) {
    return Status::InvalidArgument(
        fmt::format("Cannot convert NULL to a non-Nullable type {} (in function {})", to_in.name(),
                    function),
        kChCannotInsertNull);
  }
  if (fc == Cat::kNothing) ok = true;
  if (!ok) {
    return Status::InvalidArgument(
        fmt::format("Conversion from {} to {} is not supported", from_in.name(), to_in.name()),
        ch::kCannotConvertType);
  }
  return Status::OK();
}

Result<Value> CastValue(const Value& v, const DataTypePtr& from, const DataTypePtr& to) {
  ColumnPtr c = types::MakeConstColumn(from, v, 1);
  TH_ASSIGN_OR_RETURN(ColumnPtr out, CastColumn(c, to));
  return out->GetValue(0);
}

// ---------------------------------------------------------------- functions

namespace {

DataTypePtr T(TypeId id) { return DataType::Get(id); }

Status CheckConvertible(std::string_view fn, const ArgSpec& a, const DataType& to) {
  Status st = CheckCastable(*a.type, to, fn);
  if (!st.ok()) return IllegalArgType(fn, *a.type, 1);
  return Status::OK();
}

// toInt8(x) .. toFloat64(x), toDate, toDateTime, toString, toBool and the OrZero / OrNull
// variants: one argument, plus an optional time zone ('UTC' only) where ClickHouse takes one.
FunctionFactory ConvertTo(DataTypePtr to, CastMode mode, bool takes_tz) {
  return [to, mode, takes_tz](std::string_view name,
                              const std::vector<ArgSpec>& args) -> Result<BoundFunction> {
    TH_RETURN_IF_ERROR(CheckArgCount(name, args.size(), 1, takes_tz ? 2 : 1));
    if (args.size() == 2) {
      auto tz = ConstString(args[1]);
      if (!tz) return IllegalArgType(name, *args[1].type, 2, "Time zone must be a constant string");
      if (*tz != "UTC" && *tz != "Etc/UTC") {
        return Status::NotSupported(
            fmt::format("Time zone '{}' is not supported: trackhouse works in UTC", *tz),
            ch::kBadArguments);
      }
    }
    TH_RETURN_IF_ERROR(CheckConvertible(name, args[0], *to));
    if (mode != CastMode::kThrow && !args[0].type->is_string_like()) {
      // ClickHouse's OrZero/OrNull take strings; numbers convert as usual.
    }
    DataTypePtr result = mode == CastMode::kOrNull ? MakeNullable(to) : to;
    std::string fn(name);
    return BoundFunction{result,
                         [result, mode, fn](const std::vector<Datum>& a,
                                            const KernelContext& ctx) -> Result<ColumnPtr> {
                           CastOptions o;
                           o.mode = mode;
                           o.function = fn;
                           o.skip_rows = a[0].is_const ? nullptr : ctx.null_rows;
                           TH_ASSIGN_OR_RETURN(ColumnPtr c, CastColumn(a[0].column, result, o));
                           return Materialize(Datum{c, a[0].is_const}, ctx.rows);
                         }};
  };
}

Result<BoundFunction> BindCast(std::string_view name, const std::vector<ArgSpec>& args) {
  TH_RETURN_IF_ERROR(CheckArgCount(name, args.size(), 2, 2));
  auto type_text = ConstString(args[1]);
  if (!type_text) {
    return Status::InvalidArgument(
        fmt::format("Second argument to {} must be a constant string describing type", name),
        ch::kIllegalTypeOfArgument);
  }
  TH_ASSIGN_OR_RETURN(DataTypePtr to, types::ParseDataType(*type_text));
  TH_RETURN_IF_ERROR(CheckCastable(*args[0].type, *to, name));
  return BoundFunction{
      to, [to](const std::vector<Datum>& a, const KernelContext& ctx) -> Result<ColumnPtr> {
        TH_ASSIGN_OR_RETURN(ColumnPtr c, CastColumn(a[0].column, to));
        return Materialize(Datum{c, a[0].is_const}, ctx.rows);
      }};
}

Result<BoundFunction> BindToDateTime64(std::string_view name, const std::vector<ArgSpec>& args) {
  TH_RETURN_IF_ERROR(CheckArgCount(name, args.size(), 2, 3));
  auto p = ConstInt(args[1]);
  if (!p) return IllegalArgType(name, *args[1].type, 2, "Precision must be a constant integer");
  if (*p < 0 || *p > 9) {
    return Status::InvalidArgument(
        fmt::format("Precision {} is out of range for DateTime64 (0 to 9)", *p),
        ch::kArgumentOutOfBound);
  }
  std::vector<ArgSpec> rest = {args[0]};
  if (args.size() == 3) rest.push_back(args[2]);
  return ConvertTo(DataType::DateTime64(static_cast<uint32_t>(*p)), CastMode::kThrow, true)(name,
                                                                                            rest);
}

Result<BoundFunction> BindToFixedString(std::string_view name, const std::vector<ArgSpec>& args) {
  TH_RETURN_IF_ERROR(CheckArgCount(name, args.size(), 2, 2));
  auto n = ConstInt(args[1]);
  if (!n || *n <= 0) return IllegalArgType(name, *args[1].type, 2, "N must be a positive constant");
  if (!args[0].type->is_string_like()) return IllegalArgType(name, *args[0].type, 1);
  DataTypePtr to = DataType::FixedString(static_cast<uint32_t>(*n));
  return BoundFunction{
      to, [to](const std::vector<Datum>& a, const KernelContext& ctx) -> Result<ColumnPtr> {
        TH_ASSIGN_OR_RETURN(ColumnPtr c, CastColumn(a[0].column, to));
        return Materialize(Datum{c, a[0].is_const}, ctx.rows);
      }};
}

Result<BoundFunction> BindToTypeName(std::string_view name, const std::vector<ArgSpec>& args) {
  TH_RETURN_IF_ERROR(CheckArgCount(name, args.size(), 1, 1));
  DataTypePtr s = T(TypeId::kString);
  std::string type_name = args[0].type->name();
  return BoundFunction{
      s, [s, type_name](const std::vector<Datum>&, const KernelContext& ctx) -> Result<ColumnPtr> {
        return types::MakeConstColumn(s, Value::String(type_name), ctx.rows);
      }};
}

Result<BoundFunction> BindToLowCardinality(std::string_view name,
                                           const std::vector<ArgSpec>& args) {
  TH_RETURN_IF_ERROR(CheckArgCount(name, args.size(), 1, 1));
  DataTypePtr arg = args[0].type;
  if (!arg->is_string_like())
    return BoundFunction{arg, [](const std::vector<Datum>& a, const KernelContext& ctx) {
                           return Result<ColumnPtr>(Materialize(a[0], ctx.rows));
                         }};
  DataTypePtr to = DataType::LowCardinalityString();
  return BoundFunction{
      to, [to](const std::vector<Datum>& a, const KernelContext& ctx) -> Result<ColumnPtr> {
        return CastColumn(Materialize(a[0], ctx.rows), to);
      }};
}

}  // namespace

void RegisterConversionFunctions(FunctionRegistry* r) {
  struct Target {
    const char* name;
    TypeId id;
  };
  static constexpr Target kTargets[] = {
      {"Int8", TypeId::kInt8},       {"Int16", TypeId::kInt16},   {"Int32", TypeId::kInt32},
      {"Int64", TypeId::kInt64},     {"UInt8", TypeId::kUInt8},   {"UInt16", TypeId::kUInt16},
      {"UInt32", TypeId::kUInt32},   {"UInt64", TypeId::kUInt64}, {"Float32", TypeId::kFloat32},
      {"Float64", TypeId::kFloat64}, {"Date", TypeId::kDate},     {"DateTime", TypeId::kDateTime},
  };
  for (const auto& t : kTargets) {
    std::string base = std::string("to") + t.name;
    bool tz = t.id == TypeId::kDateTime || t.id == TypeId::kDate;
    r->Register(base, ConvertTo(T(t.id), CastMode::kThrow, tz));
    r->Register(base + "OrZero", ConvertTo(T(t.id), CastMode::kOrZero, tz));
    r->Register(base + "OrNull", ConvertTo(T(t.id), CastMode::kOrNull, tz),
                FunctionTraits{.default_nulls = true});
  }
  r->Register("toBool", ConvertTo(T(TypeId::kBool), CastMode::kThrow, false));
  r->Register("toString", ConvertTo(T(TypeId::kString), CastMode::kThrow, true));
  r->Register("toDateTime64", BindToDateTime64);
  r->Register("toFixedString", BindToFixedString);
  r->Register("CAST", BindCast, FunctionTraits{.default_nulls = false, .case_insensitive = true});
  r->Register("toTypeName", BindToTypeName,
              FunctionTraits{.default_nulls = false, .default_low_cardinality = false});
  r->Register("toLowCardinality", BindToLowCardinality);
}

}  // namespace trackhouse::eval
