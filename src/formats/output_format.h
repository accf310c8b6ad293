// Output formats: render query results (types::Block batches) as the bytes ClickHouse's HTTP
// interface sends for `SELECT ... FORMAT <fmt>`.
//
//   auto fmt = MakeOutputFormat("JSON", {});
//   (*fmt)->Begin(names, types, &out);       // header: WithNames rows, JSON "meta", ...
//   for (block : result) (*fmt)->Write(block, &out);   // stream `out`, then clear it
//   (*fmt)->WriteTotals(totals, &out);       // only for GROUP BY ... WITH TOTALS
//   (*fmt)->Finish(stats, &out);             // trailer: JSON "rows", "statistics", ...
//
// Supported formats (names are case-sensitive, as in ClickHouse):
//   TabSeparated (TSV), TabSeparatedRaw (TSVRaw), TabSeparatedWithNames (TSVWithNames),
//   TabSeparatedWithNamesAndTypes (TSVWithNamesAndTypes), CSV, CSVWithNames,
//   CSVWithNamesAndTypes, JSON, JSONCompact, JSONEachRow (JSONLines, NDJSON), JSONCompactEachRow,
//   Pretty, PrettyCompact, PrettySpace, each Pretty also as ...NoEscapes, ...MonoBlock and
//   ...NoEscapesMonoBlock, RowBinary, RowBinaryWithNames, RowBinaryWithNamesAndTypes.
//
// Value rendering follows ClickHouse's defaults; docs/formats/output-formats.md has the full
// rules per format. In short:
//   numbers     42, 0.1, 100000000000000000000 (floats: shortest round-trip digits)
//   inf / nan   inf, -inf, nan in text formats; null in JSON (output_format_json_quote_denormals=0)
//   Int64/UInt64 in JSON formats as strings (output_format_json_quote_64bit_integers=1)
//   Bool        true / false
//   Date etc.   2024-01-31, 2024-01-31 10:00:00, 2024-01-31 10:00:00.123 (quoted in CSV/JSON)
//   NULL        \N in TSV and CSV, null in JSON, ᴺᵁᴸᴸ in Pretty
//   strings     TSV: \b \f \r \n \t \0 \' \\ escaped; CSV: always "quoted" with "" doubled;
//               JSON: \" \\ \/ \b \f \n \r \t, other bytes < 0x20 as \u00XX, U+2028/9 escaped;
//               Pretty: as is, control characters shown as Unicode control pictures
//   arrays      text formats: [1,2,'a\'b',NULL] (elements quoted as SQL literals); JSON: [1,"a"]
//   RowBinary   little-endian fixed width, strings and arrays prefixed by a LEB128 length
//
// An OutputFormat holds only its small per-response state (row counter, "first row" flag; the
// MonoBlock Pretty formats also hold the rows until Finish); all bytes go to the `out` string of
// each call. Not thread-safe: use one per response.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "types/block.h"
#include "types/data_type.h"

namespace trackhouse::formats {

struct OutputOptions {
  // ClickHouse's output_format_json_quote_64bit_integers (default 1): in JSON formats, Int64 and
  // UInt64 values are written as strings ("123") so JavaScript clients do not lose precision.
  bool quote_64bit_integers = true;
  // ClickHouse's output_format_json_quote_denormals (default 0): in JSON formats, inf/-inf/nan
  // floats are written as null; when true as the strings "inf", "-inf", "nan".
  bool quote_denormals = false;
  // ClickHouse's output_format_pretty_row_numbers (default 1 in current ClickHouse): Pretty
  // formats prefix each row with its 1-based number ("1. ").
  bool pretty_row_numbers = true;
  // ClickHouse's output_format_pretty_max_rows (default 10000): Pretty formats show at most this
  // many rows, then "Showed N out of M rows.".
  uint64_t pretty_max_rows = 10000;
};

class OutputFormat {  // one per response; not thread-safe
 public:
  virtual ~OutputFormat() = default;

  // Called once with the result's column names and types (same order as every block's
  // columns). Appends the format's header, if any, to *out.
  virtual void Begin(const std::vector<std::string>& names,
                     const std::vector<types::DataTypePtr>& types, std::string* out) = 0;

  // Appends the rows of `block`, whose columns match Begin's names and types. The caller streams
  // *out to the client and may clear it between calls.
  virtual void Write(const types::Block& block, std::string* out) = 0;

  // Appends the totals row of GROUP BY ... WITH TOTALS (a one-row block with the result's
  // columns), after all Write calls. Formats without totals (JSONEachRow, JSONCompactEachRow,
  // RowBinary) ignore it, as ClickHouse does.
  virtual void WriteTotals(const types::Block& totals, std::string* out) = 0;

  struct Stats {
    uint64_t rows = 0;  // rows in the result (the formats count the rows written themselves)
    double elapsed_s = 0;
    uint64_t rows_read = 0;
    uint64_t bytes_read = 0;
    // Set when the query had a LIMIT: the rows there would have been without it (JSON formats
    // write it as "rows_before_limit_at_least").
    std::optional<uint64_t> rows_before_limit_at_least;
  };
  // Appends the format's trailer, if any (JSON: "rows" and "statistics"; Pretty: the row-limit
  // note).
  virtual void Finish(const Stats& stats, std::string* out) = 0;

  // The HTTP Content-Type ClickHouse sends for this format.
  virtual std::string_view content_type() const = 0;
};

// Creates the output format named `name` (see the list above). An unknown name is
// InvalidArgument with ch::kUnknownFormat: "Unknown output format Foo".
Result<std::unique_ptr<OutputFormat>> MakeOutputFormat(std::string_view name,
                                                       OutputOptions options);

// Appends a float the way ClickHouse's text formats print it: shortest round-trip digits,
// integers without a fraction, fixed notation for moderate magnitudes, otherwise "1e-7" style;
// inf, -inf, nan. Exposed for tests and other writers.
void AppendClickHouseFloat(double x, bool is_float32, std::string* out);

// Appends `s` as a JSON string literal (quoted, escaped as ClickHouse's JSON formats escape).
// `validate_utf8`: replace invalid UTF-8 by U+FFFD, one per run of bad bytes.
void AppendJsonString(std::string_view s, bool validate_utf8, std::string* out);

}  // namespace trackhouse::formats
