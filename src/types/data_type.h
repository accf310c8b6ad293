// DataType: the type of a column, parsed from ClickHouse type text ("LowCardinality(String)",
// "Nullable(Int32)", "DateTime64(3)"). Immutable and shared (DataTypePtr); thread-safe.
//
// Each type has a physical representation in memory and on disk:
//   Int8..Int64, UInt8..UInt64, Float32/64 -> the same C++ arithmetic type
//   Bool -> uint8_t (0/1); Date -> uint16_t days since 1970-01-01;
//   DateTime -> uint32_t seconds since the epoch (UTC); DateTime64(p) -> int64_t ticks of 10^-p s
//   String -> bytes; FixedString(N) -> exactly N bytes (zero padded)
//   LowCardinality(String) -> dictionary of distinct strings + per-row uint32 index
//   Nullable(T) -> T's column plus a null map (1 = NULL)
//   Array(T) -> all rows' elements in one column of T plus the end offset of each row
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace trackhouse::types {

enum class TypeId : uint8_t {
  kInt8,
  kInt16,
  kInt32,
  kInt64,
  kUInt8,
  kUInt16,
  kUInt32,
  kUInt64,
  kFloat32,
  kFloat64,
  kBool,
  kDate,
  kDateTime,
  kDateTime64,
  kString,
  kFixedString,
  kLowCardinality,
  kNullable,
  kArray,  // last: the range checks below (is_integer, is_time, ...) rely on the order above
};

class DataType;
using DataTypePtr = std::shared_ptr<const DataType>;

class DataType {
 public:
  TypeId id() const { return id_; }
  // Canonical ClickHouse text: "Nullable(Int32)", "DateTime64(3)", "FixedString(16)".
  const std::string& name() const { return name_; }
  // FixedString(N): N. Otherwise 0.
  uint32_t fixed_size() const { return fixed_size_; }
  // DateTime64(p): p (0..9). Otherwise 0.
  uint32_t precision() const { return precision_; }
  // Nullable(T) and Array(T): T. LowCardinality(String): String. Otherwise null.
  const DataTypePtr& nested() const { return nested_; }

  bool is_nullable() const { return id_ == TypeId::kNullable; }
  bool is_array() const { return id_ == TypeId::kArray; }
  bool is_integer() const { return id_ <= TypeId::kUInt64; }
  bool is_signed() const { return id_ <= TypeId::kInt64; }
  bool is_float() const { return id_ == TypeId::kFloat32 || id_ == TypeId::kFloat64; }
  bool is_numeric() const { return id_ <= TypeId::kFloat64 || id_ == TypeId::kBool; }
  bool is_string_like() const {
    return id_ == TypeId::kString || id_ == TypeId::kFixedString || id_ == TypeId::kLowCardinality;
  }
  bool is_time() const { return id_ >= TypeId::kDate && id_ <= TypeId::kDateTime64; }
  // Bytes per value for fixed-width physical types; 0 for String, LowCardinality and Array.
  size_t value_width() const;
  // The type with Nullable stripped (itself when not Nullable).
  const DataType& Unwrapped() const { return nested_ && is_nullable() ? *nested_ : *this; }

  bool Equals(const DataType& other) const { return name_ == other.name_; }

  // Shared instances of the simple types.
  static DataTypePtr Get(TypeId id);
  static DataTypePtr FixedString(uint32_t n);
  static DataTypePtr DateTime64(uint32_t precision);
  static DataTypePtr Nullable(DataTypePtr nested);
  static DataTypePtr LowCardinalityString();
  // Array(element); element may itself be an Array or a Nullable.
  static DataTypePtr Array(DataTypePtr element);

  DataType(TypeId id, std::string name, uint32_t fixed_size, uint32_t precision, DataTypePtr nested)
      : id_(id),
        name_(std::move(name)),
        fixed_size_(fixed_size),
        precision_(precision),
        nested_(std::move(nested)) {}

 private:
  TypeId id_;
  std::string name_;
  uint32_t fixed_size_;
  uint32_t precision_;
  DataTypePtr nested_;
};

// Parses ClickHouse type text. Unknown or unsupported types are InvalidArgument with
// ch::kUnknownType naming the type, e.g. "Unknown data type family: Strin".
Result<DataTypePtr> ParseDataType(std::string_view text);

}  // namespace trackhouse::types
