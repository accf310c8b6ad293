// The row-level rules that merges, flushes and mutations apply to a table's rows:
// ReplacingMergeTree and SummingMergeTree collapsing, TTL expiry, and reading a part's columns
// as the table has them now (columns added by ALTER after the part was written read as their
// default). Pure functions over blocks; thread-safe.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "engine/part_reader.h"
#include "engine/table_def.h"
#include "types/block.h"

namespace trackhouse::engine {

// Collapses runs of rows with equal sort keys in a block sorted by def.sort_key:
// ReplacingMergeTree keeps the row with the highest version column (the last one on ties or
// without a version column); SummingMergeTree sums the summed columns and keeps the first
// row's other values. Other engines: the block unchanged.
Result<types::Block> CollapseSorted(const TableDef& def, const types::Block& sorted);

// Removes the rows whose TTL expression is at or before now.
Result<types::Block> FilterExpired(const TableDef& def, const types::Block& block,
                                   int64_t now_micros);

// (min, max) of the TTL expression over the block, in Unix seconds; (INT64_MAX, INT64_MAX)
// for an empty block.
Result<std::pair<int64_t, int64_t>> TtlRange(const TableDef& def, const types::Block& block,
                                             int64_t now_micros);

// Reads the named columns of granules [g0, g1) of a part, in the table's current types; a
// column the part does not have (added later) is filled with its default.
Result<types::Block> ReadPartColumns(const Part& part, const TableDef& def,
                                     const std::vector<std::string>& names, size_t g0, size_t g1);

// Fills a column of `rows` rows with the column's DEFAULT (evaluated against `block` when it
// refers to other columns) or the type's default value.
Result<types::ColumnPtr> DefaultColumn(const storage::ColumnDef& column, const TableDef& def,
                                       const types::Block& block, size_t rows, int64_t now_micros);

// Rebuilds `block` (from a log record, a Buffer's schema, or a memtable block written before
// an ALTER) as a block of `def`'s columns: matched by name, converted if the type changed,
// missing ones filled with their DEFAULT or the type's default.
Result<types::Block> AdaptBlockToTable(const types::Block& block, const TableDef& def,
                                       int64_t now_micros);

}  // namespace trackhouse::engine
