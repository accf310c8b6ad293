// Value: one scalar, for literals, DEFAULTs, min/max statistics and the slow (row-at-a-time)
// paths. Holds the physical representation of its column type: DateTime is seconds (kUInt),
// Date is days (kUInt), DateTime64 is ticks (kInt), Bool is 0/1 (kUInt); an Array(T) value is
// the list of its elements, each in T's representation (kArray). Copyable, not shared.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace trackhouse::types {

class Value {
 public:
  // Kinds follow the order of the alternatives in v_.
  enum class Kind : uint8_t { kNull, kInt, kUInt, kFloat, kString, kArray };

  Value() = default;  // NULL
  static Value Int(int64_t v) { return Value(v); }
  static Value UInt(uint64_t v) { return Value(v); }
  static Value Float(double v) { return Value(v); }
  static Value String(std::string v) { return Value(std::move(v)); }
  static Value Array(std::vector<Value> elements) { return Value(std::move(elements)); }

  Kind kind() const { return static_cast<Kind>(v_.index()); }
  bool is_null() const { return kind() == Kind::kNull; }
  int64_t int_value() const { return std::get<int64_t>(v_); }
  uint64_t uint_value() const { return std::get<uint64_t>(v_); }
  double float_value() const { return std::get<double>(v_); }
  const std::string& string_value() const { return std::get<std::string>(v_); }
  const std::vector<Value>& array_value() const { return std::get<std::vector<Value>>(v_); }

  // Numeric views with C conversion semantics (strings, arrays and NULL give 0).
  int64_t AsInt() const;
  uint64_t AsUInt() const;
  double AsFloat() const;

  // Total order used for min/max statistics: NULL first, numbers compared numerically across
  // kinds, strings bytewise, arrays lexicographically by element (a prefix sorts first);
  // numbers before strings before arrays.
  int Compare(const Value& other) const;
  bool operator==(const Value& other) const { return Compare(other) == 0; }
  bool operator<(const Value& other) const { return Compare(other) < 0; }

  // Debug text: NULL, 42, 4.5, 'abc', [1, 'a'].
  std::string ToString() const;

 private:
  explicit Value(int64_t v) : v_(v) {}
  explicit Value(uint64_t v) : v_(v) {}
  explicit Value(double v) : v_(v) {}
  explicit Value(std::string v) : v_(std::move(v)) {}
  explicit Value(std::vector<Value> v) : v_(std::move(v)) {}

  std::variant<std::monostate, int64_t, uint64_t, double, std::string, std::vector<Value>> v_;
};

}  // namespace trackhouse::types
