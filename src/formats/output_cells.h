// Cells: how one column of a result block is rendered as text, value by value, in the quoting
// and escaping dialect of an output format (private to src/formats; used by output_format.cc and
// pretty_format.cc). The type switch happens once per column per block (MakeCell); the per-row
// call is a virtual call into a loop-free typed body. A Cell refers to its column: it must not
// outlive the block. Not thread-safe; cheap to create.
#pragma once

#include <charconv>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "formats/output_format.h"
#include "types/column.h"

namespace trackhouse::formats {

// How a cell is quoted and escaped.
enum class Dialect {
  kTsv,     // TabSeparated: backslash escapes, NULL as \N
  kTsvRaw,  // TabSeparatedRaw: no escaping at all
  kCsv,     // strings and dates in "double quotes", "" doubled, NULL as \N
  kJson,    // JSON values, NULL as null
  kPretty,  // as is (control characters are replaced by the Pretty layout), NULL as ᴺᵁᴸᴸ
  kQuoted,  // SQL literal, for array elements in text formats: 'a\'b', '2024-01-31', NULL
};

class Cell {
 public:
  virtual ~Cell() = default;
  virtual void Append(size_t row, std::string* out) const = 0;
};

// `validate_utf8` (JSON dialect only): replace invalid UTF-8 in strings by U+FFFD, one per run of
// bad bytes, as ClickHouse's JSON and JSONCompact formats do.
std::unique_ptr<Cell> MakeCell(const types::Column& column, const types::DataType& type,
                               Dialect dialect, const OutputOptions& options,
                               bool validate_utf8 = false);

// String quoting of the CSV dialect, for header lines (names, types) and the cells (JSON's,
// AppendJsonString, is in output_format.h; TSV escaping is types::AppendEscapedText).
void AppendCsvQuoted(std::string_view s, std::string* out);

template <typename T>
void AppendInt(T v, std::string* out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, r.ptr);
}

}  // namespace trackhouse::formats
