// Pruning: turns a WHERE expression into per-column bounds that let a scan skip parts (by
// their min/max statistics) and granules (by the sparse primary index). Conservative: a bound
// is only derived from a conjunct `column op constant` (op one of = < <= > >=, or IN a list of
// constants) on a non-Nullable integer, date/time or string column, and is widened to
// inclusive after converting the constant to the column's type, so no matching row is skipped.
// Pure functions; thread-safe.
#pragma once

#include <map>
#include <string>

#include "engine/part_reader.h"
#include "engine/table_def.h"
#include "sql/ast.h"

namespace trackhouse::engine {

// Bounds per column name derived from `filter`.
std::map<std::string, KeyColumnBound> DeriveBounds(const sql::Expr& filter, const TableDef& def,
                                                   int64_t now_micros);

}  // namespace trackhouse::engine
