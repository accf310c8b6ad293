#include "formats/input_format.h"

#include <fmt/format.h>

#include <utility>

#include "formats/format_parsers.h"

namespace trackhouse::formats {

Result<std::unique_ptr<InputParser>> MakeInputParser(std::string_view format,
                                                     std::vector<InputColumn> columns,
                                                     InputOptions options) {
  std::unique_ptr<StreamingParser> parser;
  if (format == "JSONEachRow" || format == "NDJSON" || format == "JSONLines") {
    parser = NewJsonEachRowParser();
  } else if (format == "JSONCompactEachRow") {
    parser = NewJsonCompactEachRowParser();
  } else if (format == "Values") {
    parser = NewValuesParser();
  } else if (format == "TabSeparated" || format == "TSV") {
    parser = NewTabSeparatedParser(/*with_names=*/false);
  } else if (format == "TabSeparatedWithNames" || format == "TSVWithNames") {
    parser = NewTabSeparatedParser(/*with_names=*/true);
  } else if (format == "CSV") {
    parser = NewCsvParser(/*with_names=*/false);
  } else if (format == "CSVWithNames") {
    parser = NewCsvParser(/*with_names=*/true);
  } else if (format == "RowBinary") {
    parser = NewRowBinaryParser();
  } else {
    return Status::InvalidArgument(fmt::format("Unknown format {}", format), ch::kUnknownFormat);
  }
  TH_RETURN_IF_ERROR(parser->Init(std::move(columns), options));
  return std::unique_ptr<InputParser>(std::move(parser));
}

}  // namespace trackhouse::formats
