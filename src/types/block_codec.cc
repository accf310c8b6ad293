#include "types/block_codec.h"

#include <fmt/format.h>

#include "common/coding.h"

namespace trackhouse::types {

void SerializeBlock(const Block& block, std::string* out) {
  PutVarint64(out, 1);
  PutVarint64(out, block.num_columns());
  PutVarint64(out, block.rows());
  std::string col;
  for (const auto& c : block.columns()) {
    PutLengthPrefixed(out, c.name);
    PutLengthPrefixed(out, c.type->name());
    col.clear();
    c.column->Serialize(&col);
    PutLengthPrefixed(out, col);
  }
}

Result<Block> DeserializeBlock(std::string_view in) {
  uint64_t version, ncols, rows;
  if (!GetVarint64(&in, &version) || version != 1) {
    return Status::Corruption("block: unknown format version");
  }
  if (!GetVarint64(&in, &ncols) || !GetVarint64(&in, &rows) || ncols > 100000) {
    return Status::Corruption("block: bad header");
  }
  Block block;
  for (uint64_t i = 0; i < ncols; ++i) {
    std::string_view name, type_text, data;
    if (!GetLengthPrefixed(&in, &name) || !GetLengthPrefixed(&in, &type_text) ||
        !GetLengthPrefixed(&in, &data)) {
      return Status::Corruption(fmt::format("block: column {} header is truncated", i));
    }
    auto type = ParseDataType(type_text);
    if (!type.ok()) {
      return Status::Corruption(
          fmt::format("block: column {} has bad type: {}", name, type.status().message()));
    }
    ColumnPtr col = MakeColumn(*type);
    Status s = col->Deserialize(&data, rows);
    if (!s.ok()) return Status::Corruption(fmt::format("block: column {}: {}", name, s.message()));
    if (!data.empty()) {
      return Status::Corruption(
          fmt::format("block: column {} has {} trailing bytes", name, data.size()));
    }
    block.Add(std::string(name), *type, std::move(col));
  }
  if (!in.empty()) return Status::Corruption(fmt::format("block: {} trailing bytes", in.size()));
  return block;
}

}  // namespace trackhouse::types
