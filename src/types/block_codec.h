// Self-describing binary form of a Block, used as the payload of log records and anywhere a
// block must travel as bytes. Layout (all varints are LEB128, see common/coding.h):
//
//   varint  format version (1)
//   varint  number of columns C
//   varint  number of rows R
//   C times:
//     varint+bytes  column name
//     varint+bytes  type text (e.g. "LowCardinality(String)")
//     varint        byte length L of the column data
//     L bytes       column data (Column::Serialize of R rows)
//
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "types/block.h"

namespace trackhouse::types {

void SerializeBlock(const Block& block, std::string* out);
// Corruption (naming the column and sizes) if the bytes are not a whole, valid block.
Result<Block> DeserializeBlock(std::string_view data);

}  // namespace trackhouse::types
