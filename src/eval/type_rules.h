// Type rules of the expression evaluator: the extra types that only exist inside expressions
// (Nothing, intervals, tuples of constants), ClickHouse's least-supertype rule used by if /
// multiIf / coalesce, the type of a numeric literal, and the ClickHouse-shaped error builders
// the function families share. Private to src/eval. Pure functions over immutable types;
// thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "types/data_type.h"
#include "types/value.h"

namespace trackhouse::eval {

// ClickHouse codes used here that src/common does not list (yet).
inline constexpr int kChIllegalDivision = 153;        // ILLEGAL_DIVISION
inline constexpr int kChNoCommonType = 386;           // NO_COMMON_TYPE
inline constexpr int kChCannotInsertNull = 349;       // CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN
inline constexpr int kChUnknownQueryParameter = 456;  // UNKNOWN_QUERY_PARAMETER
inline constexpr int kChBadTypeOfField = 169;         // BAD_TYPE_OF_FIELD

// Nothing: the type of the NULL literal's nested value (physically UInt8, never read).
const types::DataTypePtr& NothingType();
// Nullable(Nothing): the type of the NULL literal.
const types::DataTypePtr& NullLiteralType();
bool IsNothing(const types::DataType& type);
// True for Nullable(Nothing).
bool IsNullLiteralType(const types::DataType& type);

// Interval types (IntervalSecond .. IntervalYear): physically Int64, usable as plus/minus
// arguments with dates and times and as results of toIntervalX().
enum class IntervalKind : uint8_t { kSecond, kMinute, kHour, kDay, kWeek, kMonth, kQuarter, kYear };
const types::DataTypePtr& IntervalType(IntervalKind kind);
// Whether `type` is an interval type; sets *kind.
bool IsInterval(const types::DataType& type, IntervalKind* kind = nullptr);
std::string_view IntervalKindName(IntervalKind kind);  // "Day"

// Tuple types only describe constant tuples and the left side of IN; no column holds them.
types::DataTypePtr TupleType(const std::vector<types::DataTypePtr>& elements);
bool IsTuple(const types::DataType& type);

// The DataType ClickHouse gives a numeric literal: the smallest UInt/Int that holds it, or
// Float64.
types::DataTypePtr LiteralNumberType(const types::Value& v);

// A type with LowCardinality removed (String for LowCardinality(String)); FixedString stays.
types::DataTypePtr StripLowCardinality(const types::DataTypePtr& type);
// Nullable(T) -> T; others unchanged.
types::DataTypePtr RemoveNullable(const types::DataTypePtr& type);
// T -> Nullable(T) unless it already is Nullable.
types::DataTypePtr MakeNullable(const types::DataTypePtr& type);

// ClickHouse's getLeastSupertype: the type all of `types` convert to, for if / multiIf /
// coalesce / least / greatest and IN. NO_COMMON_TYPE when there is none.
Result<types::DataTypePtr> LeastSupertype(const std::vector<types::DataTypePtr>& types);

// Integer bit width (8..64) of an integer type id.
int IntegerBits(types::TypeId id);
// Int8..Int64 / UInt8..UInt64 for a width in bits (8, 16, 32, 64).
types::DataTypePtr IntegerType(bool is_signed, int bits);

// "Illegal type X of argument N of function f" (ILLEGAL_TYPE_OF_ARGUMENT). `arg_no` is 1-based;
// 0 omits the position.
Status IllegalArgType(std::string_view function, const types::DataType& type, size_t arg_no = 0,
                      std::string_view hint = "");
// "Number of arguments for function f doesn't match: passed N, should be M"
Status ArgCountMismatch(std::string_view function, size_t passed, std::string_view expected);

// Checks argument counts; returns the mismatch error or OK.
Status CheckArgCount(std::string_view function, size_t passed, size_t min, size_t max);

}  // namespace trackhouse::eval
