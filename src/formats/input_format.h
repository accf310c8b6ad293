// Streaming input-format parsers: the body of `INSERT INTO t [(cols)] FORMAT <fmt>` (ClickHouse
// HTTP interface) and of `POST /track/<table>`, parsed straight into column builders.
//
// A parser is fed the body chunk by chunk as it arrives from the socket. Every complete row is
// parsed into the current block; an incomplete trailing row is kept until the next chunk. When
// the current block reaches InputOptions::max_block_rows (or max_block_bytes) it is handed out
// through HasBlock()/TakeBlock() and the caller commits it (each block is all-or-nothing).
// Memory is bounded by the incomplete row (at most max_row_bytes) plus the blocks not yet
// taken plus the chunk being parsed: feed chunks of bounded size and drain blocks after every
// Feed to keep it so.
//
//   auto parser = MakeInputParser("JSONEachRow", columns, {});
//   while (read chunk) {
//     TH_RETURN_IF_ERROR((*parser)->Feed(chunk));
//     while ((*parser)->HasBlock()) Commit((*parser)->TakeBlock());
//   }
//   TH_RETURN_IF_ERROR((*parser)->Finish());
//   while ((*parser)->HasBlock()) Commit((*parser)->TakeBlock());
//
// Accepted syntax and error behaviour of every format: docs/formats/input-formats.md.
// A parser owns its buffered bytes and the blocks not yet taken (a taken block belongs to the
// caller). A parser is not thread-safe; use one per request.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "types/block.h"
#include "types/data_type.h"
#include "types/value.h"

namespace trackhouse::formats {

// One target column of the insert.
struct InputColumn {
  std::string name;
  types::DataTypePtr type;
  // Value for rows that omit this column, in the type's physical representation (see
  // types::ConvertValue): the evaluated DEFAULT (e.g. now() computed once per insert by the
  // caller) or the type's default. Null -> types::DefaultValue(type).
  std::optional<types::Value> default_value;
  // If true the parser records, per row, whether the value was omitted (the caller then
  // evaluates a non-constant DEFAULT expression for those rows). A value that is "omitted" in
  // this sense: a missing JSON key, a JSON null / \N / NULL / DEFAULT for a non-Nullable column
  // (ClickHouse's input_format_null_as_default=1), an empty unquoted CSV field, a column absent
  // from a WithNames header.
  bool track_omitted = false;
};

// A row the parser skipped instead of failing (InputOptions::row_errors).
struct RowError {
  uint64_t index = 0;  // 0-based position of the row in the whole input, bad rows included
  std::string column;  // the column the bad value was for; empty when not one column's fault
  std::string reason;  // what was wrong, e.g. "Value 3000000000 is out of range for Int32"
};

// Rows skipped by a parser collecting errors. All are counted; the first `max_recorded` are kept.
struct RowErrors {
  std::vector<RowError> rows;
  uint64_t count = 0;
  size_t max_recorded = 100;
};

struct InputOptions {
  // Cut a block when it holds this many rows (ClickHouse's max_insert_block_size).
  size_t max_block_rows = 1048576;
  // Also cut a block when its columns hold about this many bytes.
  size_t max_block_bytes = 256 << 20;
  // Ignore JSON keys / WithNames header names that are not insert columns
  // (ClickHouse's input_format_skip_unknown_fields). Default: they are an error.
  bool skip_unknown_fields = false;
  // A single row larger than this many bytes of input is an error (bounds memory).
  size_t max_row_bytes = 16 << 20;
  // Longest value written to a String, FixedString or LowCardinality column, bytes; a longer
  // one is an error for its row. 0 = no bound beyond max_row_bytes.
  size_t max_string_bytes = 0;
  // JSONEachRow / JSONCompactEachRow (POST /track): when set, a row that cannot be stored (a
  // value of the wrong type or out of range, an unknown or duplicate key, malformed JSON
  // inside the row's brackets, a string too long) is skipped and described here, and parsing
  // goes on. Errors that lose track of where rows begin and end (unbalanced brackets, a row
  // beyond max_row_bytes, input ending inside a row) still fail the parse. Not owned.
  RowErrors* row_errors = nullptr;
  // Source of now()/today() in the Values format. Null: Clock::Real(). Not owned.
  const Clock* clock = nullptr;
};

// A parsed block plus, for columns with track_omitted, a per-row 1/0 "omitted" mask (same
// order as columns; an empty vector for columns without track_omitted).
struct ParsedBlock {
  types::Block block;  // columns in InputColumn order, names and types as given
  std::vector<std::vector<uint8_t>> omitted;
  uint64_t first_row = 0;  // 0-based index of the block's first row in the whole input
};

class InputParser {  // not thread-safe; one per request
 public:
  virtual ~InputParser() = default;

  // Parses as much of `chunk` as forms whole rows; keeps the rest. May complete several blocks.
  // Errors are InvalidArgument with a ClickHouse code (ch::kCannotParseInputAssertionFailed,
  // kCannotParseText, kIncorrectData, kValueIsOutOfRangeOfDataType, kNoSuchColumnInTable for
  // unknown fields, ...) and a message naming the row number (1-based, in the whole input), the
  // column and the reason, e.g. "Cannot parse input: row 3, column 'entityId': Value 3000000000
  // is out of range for type Int32". Values: a function call it cannot evaluate is
  // NotSupported. After an error the parser is unusable (every later call returns the same
  // error); rows of the current (unfinished) block are discarded by the caller.
  virtual Status Feed(std::string_view chunk) = 0;

  // End of input: parses the remaining bytes (a final row need not end in a newline) and makes
  // the last partial block available. An input with no rows yields no block.
  virtual Status Finish() = 0;

  // A full block is ready (or, after Finish, the last one).
  virtual bool HasBlock() const = 0;
  // Removes and returns the oldest ready block (an empty ParsedBlock if none is ready).
  virtual ParsedBlock TakeBlock() = 0;

  // Complete rows parsed so far in the whole input (after an error, including the rows of the
  // discarded block).
  virtual uint64_t rows_parsed() const = 0;
};

// Creates a parser for a ClickHouse format name: "JSONEachRow" (aliases "NDJSON",
// "JSONLines"), "Values", "JSONCompactEachRow", "TabSeparated"/"TSV",
// "TabSeparatedWithNames"/"TSVWithNames", "CSV", "CSVWithNames", "RowBinary". Format names are
// case-sensitive, as in ClickHouse. Errors: an unknown name is InvalidArgument with
// ch::kUnknownFormat ("Unknown format Foo"); no columns, a duplicate column name or a
// default_value that does not fit its column is InvalidArgument.
Result<std::unique_ptr<InputParser>> MakeInputParser(std::string_view format,
                                                     std::vector<InputColumn> columns,
                                                     InputOptions options);

}  // namespace trackhouse::formats
