#include "types/value.h"

#include <fmt/format.h>

namespace trackhouse::types {

int64_t Value::AsInt() const {
  switch (kind()) {
    case Kind::kInt:
      return int_value();
    case Kind::kUInt:
      return static_cast<int64_t>(uint_value());
    case Kind::kFloat:
      return static_cast<int64_t>(float_value());
    default:
      return 0;
  }
}

uint64_t Value::AsUInt() const {
  switch (kind()) {
    case Kind::kInt:
      return static_cast<uint64_t>(int_value());
    case Kind::kUInt:
      return uint_value();
    case Kind::kFloat:
      return static_cast<uint64_t>(float_value());
    default:
      return 0;
  }
}

double Value::AsFloat() const {
  switch (kind()) {
    case Kind::kInt:
      return static_cast<double>(int_value());
    case Kind::kUInt:
      return static_cast<double>(uint_value());
    case Kind::kFloat:
      return float_value();
    default:
      return 0;
  }
}

int Value::Compare(const Value& o) const {
  Kind a = kind(), b = o.kind();
  if (a == Kind::kNull || b == Kind::kNull) return (a != Kind::kNull) - (b != Kind::kNull);
  if (a == Kind::kArray || b == Kind::kArray) {
    if (a != b) return a == Kind::kArray ? 1 : -1;
    const auto& x = array_value();
    const auto& y = o.array_value();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (int c = x[i].Compare(y[i])) return c;
    }
    return (x.size() > y.size()) - (x.size() < y.size());
  }
  if (a == Kind::kString || b == Kind::kString) {
    if (a != b) return a == Kind::kString ? 1 : -1;
    int c = string_value().compare(o.string_value());
    return (c > 0) - (c < 0);
  }
  if (a == Kind::kInt && b == Kind::kInt)
    return (int_value() > o.int_value()) - (int_value() < o.int_value());
  if (a == Kind::kUInt && b == Kind::kUInt) {
    return (uint_value() > o.uint_value()) - (uint_value() < o.uint_value());
  }
  if (a == Kind::kInt && b == Kind::kUInt) {
    if (int_value() < 0) return -1;
    uint64_t x = static_cast<uint64_t>(int_value());
    return (x > o.uint_value()) - (x < o.uint_value());
  }
  if (a == Kind::kUInt && b == Kind::kInt) return -o.Compare(*this);
  double x = AsFloat(), y = o.AsFloat();
  return (x > y) - (x < y);
}

std::string Value::ToString() const {
  switch (kind()) {
    case Kind::kNull:
      return "NULL";
    case Kind::kInt:
      return std::to_string(int_value());
    case Kind::kUInt:
      return std::to_string(uint_value());
    case Kind::kFloat:
      return fmt::format("{}", float_value());
    case Kind::kString:
      return "'" + string_value() + "'";
    case Kind::kArray: {
      std::string out = "[";
      for (const Value& e : array_value()) {
        if (out.size() > 1) out += ", ";
        out += e.ToString();
      }
      return out + "]";
    }
  }
  return "";
}

}  // namespace trackhouse::types
