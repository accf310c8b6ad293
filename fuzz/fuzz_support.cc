#include "fuzz/fuzz_support.h"

#include <cstdio>
#include <cstdlib>

#include "types/convert.h"
#include "types/data_type.h"

namespace trackhouse::fuzz {
namespace {

formats::InputColumn Column(std::string name, std::string_view type, bool track_omitted = false,
                            std::optional<types::Value> default_value = std::nullopt) {
  auto parsed = types::ParseDataType(type);
  Check(parsed.ok(), "schema type", type);
  return formats::InputColumn{std::move(name), *parsed, std::move(default_value), track_omitted};
}

}  // namespace

const std::vector<formats::InputColumn>& SchemaColumns() {
  static const std::vector<formats::InputColumn> columns = {
      Column("id", "UInt64"),
      Column("entityType", "LowCardinality(String)"),
      Column("entityId", "Int32", /*track_omitted=*/true),
      Column("small", "Int8"),
      Column("name", "String", false, types::Value::String("unnamed")),
      Column("score", "Nullable(Int64)"),
      Column("note", "Nullable(String)"),
      Column("ratio", "Float64"),
      Column("flag", "Bool"),
      Column("day", "Date"),
      Column("at", "DateTime"),
      Column("createdAt", "DateTime64(3)", /*track_omitted=*/true),
      Column("code", "FixedString(4)"),
  };
  return columns;
}

void AppendRowsText(const formats::ParsedBlock& parsed, std::string* out) {
  const types::Block& block = parsed.block;
  for (size_t r = 0; r < block.rows(); ++r) {
    for (size_t c = 0; c < block.num_columns(); ++c) {
      if (c > 0) out->push_back('|');
      types::FormatValueText(block.at(c).column->GetValue(r), *block.at(c).type, out);
    }
    out->append(" omitted=");
    for (const auto& mask : parsed.omitted) {
      if (!mask.empty()) out->push_back(mask[r] ? '1' : '0');
    }
    out->push_back('\n');
  }
}

uint64_t HashBytes(std::string_view bytes) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

void Check(bool condition, std::string_view what, std::string_view detail) {
  if (condition) return;
  std::fprintf(stderr, "fuzz oracle failed: %.*s\n%.*s\n", static_cast<int>(what.size()),
               what.data(), static_cast<int>(detail.size()), detail.data());
  std::abort();
}

}  // namespace trackhouse::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  trackhouse::fuzz::FuzzOne(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
