// Type conversion with ClickHouse's CAST semantics, shared by CAST / toX() and by the other
// function families that bring arguments to a common type (comparisons, if, IN). Numbers
// convert with C++ static_cast semantics (wrap-around, truncation toward zero), strings are
// parsed, dates and times convert through their UTC physical values, everything formats to
// String as ClickHouse prints it. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "eval/function_registry.h"
#include "types/column.h"
#include "types/data_type.h"

namespace trackhouse::eval {

enum class CastMode : uint8_t {
  kThrow,   // unparsable text / NULL into non-Nullable: an error
  kOrZero,  // ... gives the type's default value
  kOrNull,  // ... gives NULL (the target type must be Nullable)
};

struct CastOptions {
  CastMode mode = CastMode::kThrow;
  std::string_view function = "CAST";  // for error messages
  // Rows not to validate (their result is discarded, e.g. NULL rows); may be null.
  const uint8_t* skip_rows = nullptr;
};

// Converts all rows of `col` (of its own type()) to `to`. Returns `col` itself when the types
// are equal.
Result<types::ColumnPtr> CastColumn(const types::ColumnPtr& col, const types::DataTypePtr& to,
                                    const CastOptions& options = {});
// The same for a Datum (a constant stays constant).
Result<Datum> CastDatum(const Datum& d, const types::DataTypePtr& to,
                        const CastOptions& options = {});

// Whether values of `from` can be converted to `to` (compile-time check); the ClickHouse error
// otherwise.
Status CheckCastable(const types::DataType& from, const types::DataType& to,
                     std::string_view function);

// Converts a compile-time constant (physical value of `from`) to `to`.
Result<types::Value> CastValue(const types::Value& v, const types::DataTypePtr& from,
                               const types::DataTypePtr& to);

// Appends a float as ClickHouse prints it: shortest round-trip digits, plain notation for
// decimal exponents in [-6, 21), otherwise d.ddde[-]N; "inf", "-inf", "nan".
void FormatFloat64(double v, std::string* out);
void FormatFloat32(float v, std::string* out);

}  // namespace trackhouse::eval
