#include "types/convert.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <limits>

#include "types/datetime.h"

namespace trackhouse::types {
namespace {

Status OutOfRange(const Value& v, const DataType& type) {
  return Status::InvalidArgument(
      fmt::format("Value {} is out of range for type {}", v.ToString(), type.name()),
      ch::kValueIsOutOfRangeOfDataType);
}

Status CannotParse(std::string_view text, const DataType& type, int code) {
  return Status::InvalidArgument(
      fmt::format("Cannot parse '{}' as {}", text.substr(0, 200), type.name()), code);
}

template <typename T>
Result<Value> IntoInteger(const Value& v, const DataType& type) {
  constexpr auto lo = std::numeric_limits<T>::min();
  constexpr auto hi = std::numeric_limits<T>::max();
  switch (v.kind()) {
    case Value::Kind::kInt: {
      int64_t x = v.int_value();
      if constexpr (std::is_signed_v<T>) {
        if (x < lo || x > hi) return OutOfRange(v, type);
        return Value::Int(x);
      } else {
        if (x < 0 || static_cast<uint64_t>(x) > hi) return OutOfRange(v, type);
        return Value::UInt(static_cast<uint64_t>(x));
      }
    }
    case Value::Kind::kUInt: {
      uint64_t x = v.uint_value();
      if (x > static_cast<uint64_t>(hi)) return OutOfRange(v, type);
      if constexpr (std::is_signed_v<T>) return Value::Int(static_cast<int64_t>(x));
      return Value::UInt(x);
    }
    case Value::Kind::kFloat: {
      double x = v.float_value();
      // hi + 1 is a power of two, exact as a double (hi itself rounds up to it for 64 bits).
      if (!std::isfinite(x) || x != std::trunc(x) || x < static_cast<double>(lo) ||
          x >= static_cast<double>(hi) + 1.0) {
        return OutOfRange(v, type);
      }
      if constexpr (std::is_signed_v<T>) return Value::Int(static_cast<int64_t>(x));
      return Value::UInt(static_cast<uint64_t>(x));
    }
    default:
      return Status::Internal("not a number");
  }
}

// Parses an integer or float literal text into a Value of the natural kind.
std::optional<Value> ParseNumber(std::string_view s) {
  if (s.empty()) return std::nullopt;
  if (s[0] == '-') {
    int64_t x;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), x);
    if (ec == std::errc() && p == s.data() + s.size()) return Value::Int(x);
  } else {
    std::string_view d = s[0] == '+' ? s.substr(1) : s;
    uint64_t x;
    auto [p, ec] = std::from_chars(d.data(), d.data() + d.size(), x);
    if (ec == std::errc() && p == d.data() + d.size()) return Value::UInt(x);
  }
  double f;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), f);
  if (ec == std::errc() && p == s.data() + s.size()) return Value::Float(f);
  if (s == "inf" || s == "+inf") return Value::Float(INFINITY);
  if (s == "-inf") return Value::Float(-INFINITY);
  if (s == "nan") return Value::Float(NAN);
  return std::nullopt;
}

}  // namespace

Value::Kind PhysicalKind(const DataType& type) {
  switch (type.id()) {
    case TypeId::kInt8:
    case TypeId::kInt16:
    case TypeId::kInt32:
    case TypeId::kInt64:
    case TypeId::kDateTime64:
      return Value::Kind::kInt;
    case TypeId::kUInt8:
    case TypeId::kUInt16:
    case TypeId::kUInt32:
    case TypeId::kUInt64:
    case TypeId::kBool:
    case TypeId::kDate:
    case TypeId::kDateTime:
      return Value::Kind::kUInt;
    case TypeId::kFloat32:
    case TypeId::kFloat64:
      return Value::Kind::kFloat;
    case TypeId::kString:
    case TypeId::kFixedString:
    case TypeId::kLowCardinality:
      return Value::Kind::kString;
    case TypeId::kNullable:
      return PhysicalKind(*type.nested());
    case TypeId::kArray:
      return Value::Kind::kArray;
  }
  return Value::Kind::kNull;
}

Value DefaultValue(const DataType& type) {
  switch (PhysicalKind(type)) {
    case Value::Kind::kInt:
      return type.is_nullable() ? Value() : Value::Int(0);
    case Value::Kind::kUInt:
      return type.is_nullable() ? Value() : Value::UInt(0);
    case Value::Kind::kFloat:
      return type.is_nullable() ? Value() : Value::Float(0);
    case Value::Kind::kString:
      return type.is_nullable() ? Value() : Value::String("");
    case Value::Kind::kArray:
      return Value::Array({});
    default:
      return Value();
  }
}

Result<Value> ConvertValue(const Value& v, const DataType& type) {
  if (v.is_null()) {
    if (type.is_nullable()) return Value();
    return Status::InvalidArgument(
        fmt::format("Cannot insert NULL into column of non-Nullable type {}", type.name()),
        ch::kTypeMismatch);
  }
  const DataType& t = type.Unwrapped();
  if (t.is_array() && v.kind() == Value::Kind::kArray) {
    std::vector<Value> elements;
    elements.reserve(v.array_value().size());
    for (const Value& e : v.array_value()) {
      TH_ASSIGN_OR_RETURN(Value x, ConvertValue(e, *t.nested()));
      elements.push_back(std::move(x));
    }
    return Value::Array(std::move(elements));
  }
  if ((v.kind() == Value::Kind::kArray) != t.is_array() && v.kind() != Value::Kind::kString) {
    return Status::InvalidArgument(
        fmt::format("Cannot convert {} to {}", v.ToString().substr(0, 200), t.name()),
        ch::kCannotConvertType);
  }
  if (v.kind() == Value::Kind::kString && t.id() != TypeId::kString &&
      t.id() != TypeId::kFixedString && t.id() != TypeId::kLowCardinality) {
    return ParseValueText(v.string_value(), t);
  }
  switch (t.id()) {
    case TypeId::kInt8:
      return IntoInteger<int8_t>(v, t);
    case TypeId::kInt16:
      return IntoInteger<int16_t>(v, t);
    case TypeId::kInt32:
      return IntoInteger<int32_t>(v, t);
    case TypeId::kInt64:
      return IntoInteger<int64_t>(v, t);
    case TypeId::kUInt8:
      return IntoInteger<uint8_t>(v, t);
    case TypeId::kUInt16:
      return IntoInteger<uint16_t>(v, t);
    case TypeId::kUInt32:
      return IntoInteger<uint32_t>(v, t);
    case TypeId::kUInt64:
      return IntoInteger<uint64_t>(v, t);
    case TypeId::kBool: {
      if (v.kind() == Value::Kind::kFloat) return Value::UInt(v.float_value() != 0);
      TH_ASSIGN_OR_RETURN(
          Value x, IntoInteger<uint64_t>(
                       v.kind() == Value::Kind::kInt && v.int_value() < 0 ? Value::UInt(1) : v, t));
      return Value::UInt(x.uint_value() != 0);
    }
    case TypeId::kFloat32:
    case TypeId::kFloat64:
      return Value::Float(v.AsFloat());
    case TypeId::kDate: {
      TH_ASSIGN_OR_RETURN(Value x, IntoInteger<uint16_t>(v, t));
      return x;
    }
    case TypeId::kDateTime: {
      TH_ASSIGN_OR_RETURN(Value x, IntoInteger<uint32_t>(v, t));
      return x;
    }
    case TypeId::kDateTime64: {
      if (v.kind() == Value::Kind::kFloat) {
        double ticks = v.float_value() * static_cast<double>(Pow10(t.precision()));
        if (!std::isfinite(ticks) || std::fabs(ticks) > 9.2e18) return OutOfRange(v, t);
        return Value::Int(static_cast<int64_t>(std::llround(ticks)));
      }
      return IntoInteger<int64_t>(v, t);
    }
    case TypeId::kString:
    case TypeId::kLowCardinality:
      return Value::String(
          FormatValueText(v, *DataType::Get(v.kind() == Value::Kind::kFloat ? TypeId::kFloat64
                                            : v.kind() == Value::Kind::kInt ? TypeId::kInt64
                                                                            : TypeId::kUInt64)));
    case TypeId::kFixedString: {
      std::string s = v.kind() == Value::Kind::kString ? v.string_value() : v.ToString();
      if (s.size() > t.fixed_size()) {
        return Status::InvalidArgument(
            fmt::format("Too large value for {}: {} bytes", t.name(), s.size()),
            ch::kTooLargeStringSize);
      }
      return Value::String(std::move(s));
    }
    case TypeId::kNullable:
    case TypeId::kArray:  // handled above
      break;
  }
  return Status::Internal("unhandled type " + type.name());
}

Result<Value> ParseValueText(std::string_view text, const DataType& type) {
  if (type.is_nullable()) {
    if (text == "\\N" || text == "NULL") return Value();
    return ParseValueText(text, *type.nested());
  }
  switch (type.id()) {
    case TypeId::kString:
    case TypeId::kLowCardinality:
      return Value::String(std::string(text));
    case TypeId::kFixedString:
      return ConvertValue(Value::String(std::string(text)), type);
    case TypeId::kDate: {
      auto d = ParseDateText(text);
      if (!d) {
        // A Unix day number or a date-time are accepted too.
        auto n = ParseNumber(text);
        if (n && n->kind() == Value::Kind::kUInt) return ConvertValue(*n, type);
        auto dt = ParseDateTimeText(text, 0);
        // Floor division without negating (the lowest Int64 has no negation).
        if (dt && text.size() > 10) d = *dt / 86400 - (*dt % 86400 < 0 ? 1 : 0);
      }
      if (!d) return CannotParse(text, type, ch::kCannotParseDate);
      if (*d < 0 || *d > 65535) return OutOfRange(Value::String(std::string(text)), type);
      return Value::UInt(static_cast<uint64_t>(*d));
    }
    case TypeId::kDateTime: {
      auto s = ParseDateTimeText(text, 0);
      if (!s) return CannotParse(text, type, ch::kCannotParseDateTime);
      if (*s < 0 || *s > 0xFFFFFFFFll) return OutOfRange(Value::String(std::string(text)), type);
      return Value::UInt(static_cast<uint64_t>(*s));
    }
    case TypeId::kDateTime64: {
      auto s = ParseDateTimeText(text, type.precision());
      if (!s) return CannotParse(text, type, ch::kCannotParseDateTime);
      return Value::Int(*s);
    }
    case TypeId::kArray:
      return Status::NotSupported(fmt::format("Parsing {} from text is not supported: '{}'",
                                              type.name(), text.substr(0, 200)),
                                  ch::kNotImplemented);
    case TypeId::kBool: {
      if (text == "true" || text == "1") return Value::UInt(1);
      if (text == "false" || text == "0") return Value::UInt(0);
      return CannotParse(text, type, ch::kCannotParseText);
    }
    default: {
      auto n = ParseNumber(text);
      if (!n) return CannotParse(text, type, ch::kCannotParseNumber);
      return ConvertValue(*n, type);
    }
  }
}

void FormatValueText(const Value& v, const DataType& type, std::string* out) {
  if (v.is_null()) {
    out->append("\\N");
    return;
  }
  const DataType& t = type.Unwrapped();
  switch (t.id()) {
    case TypeId::kDate:
      out->append(FormatDate(static_cast<int64_t>(v.AsUInt())));
      return;
    case TypeId::kDateTime:
      out->append(FormatDateTime(static_cast<int64_t>(v.AsUInt())));
      return;
    case TypeId::kDateTime64:
      out->append(FormatDateTime64(v.AsInt(), t.precision()));
      return;
    case TypeId::kBool:
      out->append(v.AsUInt() ? "true" : "false");
      return;
    case TypeId::kFloat32:
      out->append(fmt::format("{}", static_cast<float>(v.AsFloat())));
      return;
    case TypeId::kArray:
      AppendQuotedValueText(v, t, out);
      return;
    default:
      break;
  }
  switch (v.kind()) {
    case Value::Kind::kInt:
      out->append(std::to_string(v.int_value()));
      return;
    case Value::Kind::kUInt:
      out->append(std::to_string(v.uint_value()));
      return;
    case Value::Kind::kFloat: {
      double f = v.float_value();
      if (std::isnan(f))
        out->append("nan");
      else if (std::isinf(f))
        out->append(f > 0 ? "inf" : "-inf");
      else
        out->append(fmt::format("{}", f));
      return;
    }
    case Value::Kind::kString: {
      const std::string& s = v.string_value();
      if (t.id() == TypeId::kFixedString) {
        out->append(s);
        out->append(t.fixed_size() > s.size() ? t.fixed_size() - s.size() : 0, '\0');
      } else {
        out->append(s);
      }
      return;
    }
    case Value::Kind::kNull:
      out->append("\\N");
      return;
    case Value::Kind::kArray:  // not reached: Array types are formatted above
      AppendQuotedValueText(v, t, out);
      return;
  }
}

void AppendQuotedValueText(const Value& v, const DataType& type, std::string* out) {
  if (v.is_null()) {
    out->append("NULL");
    return;
  }
  const DataType& t = type.Unwrapped();
  if (v.kind() == Value::Kind::kArray) {
    const DataType& element = t.is_array() ? *t.nested() : t;
    out->push_back('[');
    bool first = true;
    for (const Value& e : v.array_value()) {
      if (!first) out->push_back(',');
      first = false;
      AppendQuotedValueText(e, element, out);
    }
    out->push_back(']');
    return;
  }
  if (t.is_string_like() || t.is_time()) {
    out->push_back('\'');
    AppendEscapedText(FormatValueText(v, t), out);
    out->push_back('\'');
    return;
  }
  FormatValueText(v, t, out);
}

void AppendEscapedText(std::string_view s, std::string* out) {
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char e;
    switch (s[i]) {
      case '\b':
        e = 'b';
        break;
      case '\f':
        e = 'f';
        break;
      case '\n':
        e = 'n';
        break;
      case '\r':
        e = 'r';
        break;
      case '\t':
        e = 't';
        break;
      case '\0':
        e = '0';
        break;
      case '\'':
        e = '\'';
        break;
      case '\\':
        e = '\\';
        break;
      default:
        continue;
    }
    out->append(s.data() + start, i - start);
    out->push_back('\\');
    out->push_back(e);
    start = i + 1;
  }
  out->append(s.data() + start, s.size() - start);
}

std::string FormatValueText(const Value& v, const DataType& type) {
  std::string s;
  FormatValueText(v, type, &s);
  return s;
}

}  // namespace trackhouse::types
