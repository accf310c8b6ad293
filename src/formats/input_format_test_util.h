// Helpers shared by the input-format tests (test-only): column specs, whole-input and
// split-input parsing, and a text rendering of parsed blocks for comparisons.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "formats/input_format.h"
#include "types/convert.h"

namespace trackhouse::formats::testing {

inline types::DataTypePtr Type(std::string_view text) {
  auto t = types::ParseDataType(text);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return *t;
}

inline InputColumn Col(std::string name, std::string_view type, bool track_omitted = false,
                       std::optional<types::Value> default_value = std::nullopt) {
  return InputColumn{std::move(name), Type(type), std::move(default_value), track_omitted};
}

// The outcome of parsing a whole input.
struct Parsed {
  Status status;
  std::vector<ParsedBlock> blocks;
  uint64_t rows = 0;
};

// Feeds `chunks` one after another, then finishes; collects every block handed out.
inline Parsed ParseChunks(std::string_view format, const std::vector<InputColumn>& columns,
                          const std::vector<std::string_view>& chunks, InputOptions options = {}) {
  Parsed out;
  auto parser = MakeInputParser(format, columns, options);
  if (!parser.ok()) {
    out.status = parser.status();
    return out;
  }
  InputParser& p = **parser;
  for (std::string_view chunk : chunks) {
    out.status = p.Feed(chunk);
    while (p.HasBlock()) out.blocks.push_back(p.TakeBlock());
    if (!out.status.ok()) return out;
  }
  out.status = p.Finish();
  while (p.HasBlock()) out.blocks.push_back(p.TakeBlock());
  out.rows = p.rows_parsed();
  return out;
}

inline Parsed ParseAll(std::string_view format, const std::vector<InputColumn>& columns,
                       std::string_view input, InputOptions options = {}) {
  return ParseChunks(format, columns, {input}, options);
}

// Splits `input` into chunks of `size` bytes (the last may be shorter).
inline std::vector<std::string_view> Chunks(std::string_view input, size_t size) {
  std::vector<std::string_view> out;
  for (size_t i = 0; i < input.size(); i += size) out.push_back(input.substr(i, size));
  return out;
}

// One line per row: values in their text form joined by '|', NULL as \N; after the values,
// " omitted=" and the mask bits of the columns that track them.
inline std::string RowsText(const ParsedBlock& pb) {
  std::string out;
  const types::Block& b = pb.block;
  for (size_t r = 0; r < b.rows(); ++r) {
    for (size_t c = 0; c < b.num_columns(); ++c) {
      if (c > 0) out += '|';
      types::FormatValueText(b.at(c).column->GetValue(r), *b.at(c).type, &out);
    }
    std::string mask;
    for (const auto& m : pb.omitted) {
      if (!m.empty()) mask += m[r] ? '1' : '0';
    }
    if (!mask.empty()) out += " omitted=" + mask;
    out += '\n';
  }
  return out;
}

inline std::string RowsText(const std::vector<ParsedBlock>& blocks) {
  std::string out;
  for (const auto& b : blocks) out += RowsText(b);
  return out;
}

// Parses `input` whole and expects success; returns the rows as text.
inline std::string ParseOk(std::string_view format, const std::vector<InputColumn>& columns,
                           std::string_view input, InputOptions options = {}) {
  Parsed p = ParseAll(format, columns, input, options);
  EXPECT_TRUE(p.status.ok()) << p.status.ToString();
  for (const auto& b : p.blocks) EXPECT_TRUE(b.block.Validate().ok());
  return RowsText(p.blocks);
}

// Parses `input` whole and expects an error; returns it.
inline Status ParseError(std::string_view format, const std::vector<InputColumn>& columns,
                         std::string_view input, InputOptions options = {}) {
  Parsed p = ParseAll(format, columns, input, options);
  EXPECT_FALSE(p.status.ok()) << "parsed: " << RowsText(p.blocks);
  return p.status;
}

// Feeds the input split at every pair of byte boundaries (i, j) -- three chunks -- and
// expects the same status and rows as a whole-input parse. Keep inputs small (O(n^2) parses).
inline void ExpectSplitInvariant(std::string_view format, const std::vector<InputColumn>& columns,
                                 std::string_view input, InputOptions options = {}) {
  Parsed whole = ParseAll(format, columns, input, options);
  std::string expected = RowsText(whole.blocks);
  for (size_t i = 0; i <= input.size(); ++i) {
    for (size_t j = i; j <= input.size(); ++j) {
      Parsed split = ParseChunks(
          format, columns, {input.substr(0, i), input.substr(i, j - i), input.substr(j)}, options);
      ASSERT_EQ(split.status.ok(), whole.status.ok())
          << "split at " << i << "," << j << ": " << split.status.ToString();
      if (!whole.status.ok()) {
        ASSERT_EQ(split.status.message(), whole.status.message()) << "split at " << i << "," << j;
        continue;
      }
      ASSERT_EQ(RowsText(split.blocks), expected) << "split at " << i << "," << j;
      ASSERT_EQ(split.blocks.size(), whole.blocks.size());
      for (size_t k = 0; k < split.blocks.size(); ++k) {
        ASSERT_EQ(split.blocks[k].first_row, whole.blocks[k].first_row);
      }
    }
  }
}

}  // namespace trackhouse::formats::testing
