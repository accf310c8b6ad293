// The row operations a SELECT applies to its result after projection: ORDER BY (full sort or
// top-N), DISTINCT, LIMIT BY and WITH FILL, over a Block whose columns are addressed by name.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "types/block.h"

namespace trackhouse::query {

struct SortColumn {
  std::string column;
  bool descending = false;
  // NULLS FIRST; by default NULLs (and then NaNs) sort after every value, in both directions,
  // as in ClickHouse.
  bool nulls_first = false;
};

// The rows sorted by the columns (ties keep their input order).
Result<types::Block> SortRows(const types::Block& block, const std::vector<SortColumn>& by);
// The first `n` rows of that order (a partial sort).
Result<types::Block> TopRows(const types::Block& block, const std::vector<SortColumn>& by,
                             size_t n);

// The first occurrence of every distinct combination of the first `columns` columns.
types::Block DistinctRows(const types::Block& block, size_t columns);

// LIMIT [offset,] n BY columns: of each combination of the named columns' values, the rows
// numbered [offset, offset + n) in block order.
types::Block LimitBy(const types::Block& block, const std::vector<std::string>& columns,
                     uint64_t offset, uint64_t n);

// ORDER BY column WITH FILL [FROM from] [TO to] [STEP step]: the sorted rows with a row
// inserted for every missing value (other columns at their defaults). Values and step are in
// the column's physical units (days for Date, seconds for DateTime, ticks for DateTime64).
struct FillSpec {
  std::string column;
  bool descending = false;
  bool is_float = false;
  std::optional<double> from, to;
  double step = 1;
};
Result<types::Block> FillRows(const types::Block& block, const FillSpec& fill);

// Appends bytes identifying row `row` of `column` (equal values, equal bytes; prefix-free, so
// several columns concatenate into one key).
void AppendKeyBytes(const types::Column& column, size_t row, std::string* out);

}  // namespace trackhouse::query
