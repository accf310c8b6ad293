// Column helpers shared by the kernels: typed access to Datums, result allocation, const
// materialization, string views over String / FixedString / LowCardinality columns, null-map
// merging and the vectorized binary loop. Private to src/eval. Stateless; thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "eval/function_registry.h"
#include "types/column.h"
#include "types/data_type.h"
#include "types/value.h"

namespace trackhouse::eval {

template <typename T>
using Vec = types::ColumnVector<T>;

// Pointer to the values of a numeric/time Datum of physical type T.
template <typename T>
const T* Data(const Datum& d) {
  return static_cast<const Vec<T>&>(*d.column).data().data();
}

// A new ColumnVector<T> of `type` with `rows` zeroed values.
template <typename T>
std::shared_ptr<Vec<T>> NewVector(const types::DataTypePtr& type, size_t rows) {
  auto col = std::make_shared<Vec<T>>(type);
  col->data().resize(rows);
  return col;
}

// Calls fn(T*) for the physical C++ type of a numeric/time type (see types::DispatchVector).
template <typename Fn>
decltype(auto) DispatchNumeric(const types::DataType& type, Fn&& fn) {
  return types::DispatchVector(type.id(), std::forward<Fn>(fn));
}

// The one value of a constant Datum.
inline types::Value ConstValue(const Datum& d) { return d.column->GetValue(0); }

// A constant Datum (one row) holding `v` (physical representation of `type`).
Datum ConstDatum(const types::DataTypePtr& type, const types::Value& v);

// A column of `rows` rows: the Datum itself when it is not constant, else its value repeated.
types::ColumnPtr Materialize(const Datum& d, size_t rows);

// A ColumnString with the values of a String, FixedString (all N bytes) or
// LowCardinality(String) column (the column itself when it already is a ColumnString).
types::ColumnPtr ToStringColumn(const types::ColumnPtr& col);

inline const types::ColumnString& Str(const Datum& d) {
  return static_cast<const types::ColumnString&>(*d.column);
}
inline std::string_view StrAt(const Datum& d, size_t row) {
  return Str(d).View(d.is_const ? 0 : row);
}

// ORs the null map of `col` (when it is a ColumnNullable) into *map (sized to `rows`; a
// constant column's single null flag applies to every row).
void MergeNullMap(const Datum& d, size_t rows, std::vector<uint8_t>* map);

// Wraps `nested` in a ColumnNullable of Nullable(nested type) with `null_map`.
types::ColumnPtr WrapNullable(types::ColumnPtr nested, std::vector<uint8_t> null_map);

// Builds a ColumnNullable result with every row NULL, of type `type` (Nullable).
types::ColumnPtr AllNullColumn(const types::DataTypePtr& type, size_t rows);

// Extracts the compile-time constant of an argument as a signed integer, or nullopt.
std::optional<int64_t> ConstInt(const ArgSpec& a);
// Extracts the compile-time string constant of an argument, or nullopt.
std::optional<std::string> ConstString(const ArgSpec& a);

// out[i] = op(a[i], b[i]) with constant sides read once (the four shapes), so the compiler
// can vectorize each loop.
template <typename A, typename B, typename R, typename Op>
inline void BinaryLoop(const A* a, bool a_const, const B* b, bool b_const, R* out, size_t n,
                       Op op) {
  if (!a_const && !b_const) {
    for (size_t i = 0; i < n; ++i) out[i] = op(a[i], b[i]);
  } else if (!a_const) {
    const B y = b[0];
    for (size_t i = 0; i < n; ++i) out[i] = op(a[i], y);
  } else if (!b_const) {
    const A x = a[0];
    for (size_t i = 0; i < n; ++i) out[i] = op(x, b[i]);
  } else {
    const R r = op(a[0], b[0]);
    for (size_t i = 0; i < n; ++i) out[i] = r;
  }
}

template <typename A, typename R, typename Op>
inline void UnaryLoop(const A* a, bool a_const, R* out, size_t n, Op op) {
  if (!a_const) {
    for (size_t i = 0; i < n; ++i) out[i] = op(a[i]);
  } else {
    const R r = op(a[0]);
    for (size_t i = 0; i < n; ++i) out[i] = r;
  }
}

}  // namespace trackhouse::eval
