// Constructors of the concrete input-format parsers behind MakeInputParser (private to
// src/formats). Each returns an uninitialized parser: call StreamingParser::Init before use.
// The parsers are not thread-safe (one per request).
#pragma once

#include <memory>

#include "formats/streaming_parser.h"

namespace trackhouse::formats {

// JSONEachRow / NDJSON / JSONLines: one JSON object per row (json_each_row.cc).
std::unique_ptr<StreamingParser> NewJsonEachRowParser();
// JSONCompactEachRow: one JSON array of values per row, in column order (json_each_row.cc).
std::unique_ptr<StreamingParser> NewJsonCompactEachRowParser();
// Values: (v1, v2, ...), (...) with SQL literals (values_format.cc).
std::unique_ptr<StreamingParser> NewValuesParser();
// TabSeparated / TabSeparatedWithNames (text_formats.cc).
std::unique_ptr<StreamingParser> NewTabSeparatedParser(bool with_names);
// CSV / CSVWithNames (text_formats.cc).
std::unique_ptr<StreamingParser> NewCsvParser(bool with_names);
// RowBinary (row_binary.cc).
std::unique_ptr<StreamingParser> NewRowBinaryParser();

}  // namespace trackhouse::formats
