// TabSeparated[WithNames] and CSV[WithNames].
//
// Rows are found by a resumable scan (TSV: a line feed not escaped by a backslash; CSV: CR, LF
// or CRLF outside double quotes), then split into fields that are written as text into the
// column builders (types::ParseValueText rules for non-string columns). WithNames formats read
// a header row of column names first and map fields to insert columns by name.
#include <fmt/format.h>

#include <cstring>
#include <string>
#include <vector>

#include "formats/format_parsers.h"
#include "formats/text_escapes.h"

namespace trackhouse::formats {
namespace {

class DelimitedParser final : public StreamingParser {
 public:
  DelimitedParser(bool csv, bool with_names)
      : StreamingParser(csv ? (with_names ? "CSVWithNames" : "CSV")
                            : (with_names ? "TabSeparatedWithNames" : "TabSeparated"),
                        /*skip_bom=*/true),
        csv_(csv),
        with_names_(with_names) {}

 protected:
  Status Start() override;
  Result<size_t> Parse(const char* data, size_t size, bool eof) override;

 private:
  // CSV scan state between bytes of a row.
  enum class CsvState : uint8_t {
    kFieldStart,   // at the start of a field (leading spaces and tabs stay here)
    kUnquoted,     // inside an unquoted field
    kQuoted,       // inside a "quoted" field
    kQuotedQuote,  // just after a '"' inside a quoted field: "" or the closing quote
  };
  // Field flags passed to OnField.
  struct Field {
    std::string_view text;
    bool is_null = false;     // \N
    bool is_default = false;  // CSV: an empty unquoted field (input_format_csv_empty_as_default)
  };

  // Looks for the end of the row that starts at row_start, resuming at scan_pos_. On success
  // sets the end of its content and the start of the next row.
  bool FindRowEnd(const char* data, size_t size, size_t row_start, size_t* content_end,
                  size_t* next);
  bool FindTsvRowEnd(const char* data, size_t size, size_t row_start, size_t* content_end,
                     size_t* next);
  bool FindCsvRowEnd(const char* data, size_t size, size_t* content_end, size_t* next);
  // Splits a row into fields and calls on_field(index, field) for each.
  template <typename Fn>
  Status SplitTsv(std::string_view row, Fn&& on_field);
  template <typename Fn>
  Status SplitCsv(std::string_view row, Fn&& on_field);
  template <typename Fn>
  Status Split(std::string_view row, Fn&& on_field) {
    return csv_ ? SplitCsv(row, on_field) : SplitTsv(row, on_field);
  }
  Status ParseRow(std::string_view row);
  Status ParseHeader(std::string_view row);
  Status WriteField(size_t col, const Field& f);
  Status Syntax(std::string_view message) const {
    return builder_.RowError(ch::kCannotParseInputAssertionFailed, message);
  }

  const bool csv_;
  const bool with_names_;
  bool header_done_ = false;
  std::vector<int> field_to_col_;  // insert column of each field, -1 to skip it
  // Scan state of the pending row: position relative to the unconsumed input.
  size_t scan_pos_ = 0;
  CsvState csv_state_ = CsvState::kFieldStart;
  bool skip_lf_ = false;  // the previous row ended with CR: a following LF belongs to it
  std::string scratch_;   // unescaped field text
};

Status DelimitedParser::Start() {
  field_to_col_.resize(builder_.num_columns());
  for (size_t i = 0; i < field_to_col_.size(); ++i) field_to_col_[i] = static_cast<int>(i);
  header_done_ = !with_names_;
  return Status::OK();
}

bool DelimitedParser::FindRowEnd(const char* data, size_t size, size_t row_start,
                                 size_t* content_end, size_t* next) {
  if (scan_pos_ < row_start) scan_pos_ = row_start;
  return csv_ ? FindCsvRowEnd(data, size, content_end, next)
              : FindTsvRowEnd(data, size, row_start, content_end, next);
}

bool DelimitedParser::FindTsvRowEnd(const char* data, size_t size, size_t row_start,
                                    size_t* content_end, size_t* next) {
  size_t p = scan_pos_;
  while (p < size) {
    const void* nl = std::memchr(data + p, '\n', size - p);
    if (nl == nullptr) break;
    size_t q = static_cast<size_t>(static_cast<const char*>(nl) - data);
    size_t k = q;
    while (k > row_start && data[k - 1] == '\\') --k;
    if ((q - k) % 2 == 1) {  // "\<LF>": an escaped line feed inside a field
      p = q + 1;
      continue;
    }
    *content_end = q;
    *next = q + 1;
    return true;
  }
  scan_pos_ = size;
  return false;
}

bool DelimitedParser::FindCsvRowEnd(const char* data, size_t size, size_t* content_end,
                                    size_t* next) {
  CsvState state = csv_state_;
  for (size_t p = scan_pos_; p < size; ++p) {
    char c = data[p];
    switch (state) {
      case CsvState::kQuoted:
        if (c == '"') state = CsvState::kQuotedQuote;
        continue;
      case CsvState::kQuotedQuote:
        if (c == '"') {
          state = CsvState::kQuoted;
          continue;
        }
        break;
      case CsvState::kFieldStart:
        if (c == '"') {
          state = CsvState::kQuoted;
          continue;
        }
        break;
      case CsvState::kUnquoted:
        break;
    }
    if (c == ',') {
      state = CsvState::kFieldStart;
    } else if (c == '\n' || c == '\r') {
      *content_end = p;
      *next = p + 1;
      if (c == '\r') {
        if (p + 1 < size) {
          if (data[p + 1] == '\n') ++*next;
        } else {
          skip_lf_ = true;
        }
      }
      csv_state_ = CsvState::kFieldStart;
      return true;
    } else if (state != CsvState::kFieldStart || (c != ' ' && c != '\t')) {
      state = CsvState::kUnquoted;
    }
  }
  csv_state_ = state;
  scan_pos_ = size;
  return false;
}

Result<size_t> DelimitedParser::Parse(const char* data, size_t size, bool eof) {
  size_t row_start = 0;
  while (true) {
    if (skip_lf_ && row_start < size) {
      if (data[row_start] == '\n') ++row_start;
      skip_lf_ = false;
    }
    if (row_start == size) break;
    size_t content_end = 0;
    size_t next = 0;
    if (!FindRowEnd(data, size, row_start, &content_end, &next)) {
      if (!eof) break;
      if (csv_ && (csv_state_ == CsvState::kQuoted)) {
        return Syntax("unexpected end of input inside a quoted field");
      }
      content_end = next = size;  // the final row need not end with a line feed
    }
    if (content_end - row_start > options().max_row_bytes) return RowTooLarge();
    std::string_view row(data + row_start, content_end - row_start);
    TH_RETURN_IF_ERROR(header_done_ ? ParseRow(row) : ParseHeader(row));
    row_start = next;
    scan_pos_ = next;
    csv_state_ = CsvState::kFieldStart;
  }
  scan_pos_ = scan_pos_ > row_start ? scan_pos_ - row_start : 0;
  return row_start;
}

template <typename Fn>
Status DelimitedParser::SplitTsv(std::string_view row, Fn&& on_field) {
  size_t i = 0;
  for (size_t index = 0;; ++index) {
    size_t start = i;
    bool escaped = false;
    while (i < row.size() && row[i] != '\t') {
      if (row[i] == '\\') {
        escaped = true;
        i += 2;
      } else {
        ++i;
      }
    }
    if (i > row.size()) i = row.size();
    Field f;
    f.text = row.substr(start, i - start);
    if (f.text == "\\N") {
      f.is_null = true;
    } else if (escaped) {
      scratch_.clear();
      std::string_view t = f.text;
      for (size_t k = 0; k < t.size();) {
        if (t[k] != '\\') {
          scratch_.push_back(t[k++]);
          continue;
        }
        size_t used = DecodeEscape(t.substr(k + 1), &scratch_);
        if (used == 0) {
          return builder_.RowError(ch::kCannotParseEscapeSequence,
                                   fmt::format("bad escape sequence in field {}", index + 1));
        }
        k += 1 + used;
      }
      f.text = scratch_;
    }
    TH_RETURN_IF_ERROR(on_field(index, f));
    if (i >= row.size()) return Status::OK();
    ++i;  // '\t'
  }
}

template <typename Fn>
Status DelimitedParser::SplitCsv(std::string_view row, Fn&& on_field) {
  size_t i = 0;
  for (size_t index = 0;; ++index) {
    while (i < row.size() && (row[i] == ' ' || row[i] == '\t')) ++i;
    Field f;
    if (i < row.size() && row[i] == '"') {
      size_t start = ++i;
      bool doubled = false;
      while (true) {
        while (i < row.size() && row[i] != '"') ++i;
        if (i + 1 < row.size() && row[i + 1] == '"') {
          doubled = true;
          i += 2;
          continue;
        }
        break;
      }
      if (i >= row.size()) return Syntax("unexpected end of row inside a quoted field");
      f.text = row.substr(start, i - start);
      ++i;  // closing '"'
      if (doubled) {
        scratch_.clear();
        for (size_t k = 0; k < f.text.size(); ++k) {
          scratch_.push_back(f.text[k]);
          if (f.text[k] == '"') ++k;  // "" -> "
        }
        f.text = scratch_;
      }
      while (i < row.size() && (row[i] == ' ' || row[i] == '\t')) ++i;
      if (i < row.size() && row[i] != ',') {
        return Syntax(
            fmt::format("expected ',' or the end of the row after quoted field {}", index + 1));
      }
    } else {
      size_t start = i;
      while (i < row.size() && row[i] != ',') ++i;
      size_t end = i;
      while (end > start && (row[end - 1] == ' ' || row[end - 1] == '\t')) --end;
      f.text = row.substr(start, end - start);
      f.is_null = f.text == "\\N";
      f.is_default = f.text.empty();
    }
    TH_RETURN_IF_ERROR(on_field(index, f));
    if (i >= row.size()) return Status::OK();
    ++i;  // ','
  }
}

Status DelimitedParser::WriteField(size_t col, const Field& f) {
  if (f.is_null) {
    builder_.WriteNull(col);
    return Status::OK();
  }
  if (f.is_default) {
    builder_.WriteDefault(col);
    return Status::OK();
  }
  Status st;
  WriterKind kind = builder_.writer(col).kind;
  if (f.text.empty() && !csv_ && kind <= WriterKind::kFloat64) {
    st = builder_.WriteInt(col, 0);  // TabSeparated reads an empty number as zero
  } else {
    st = builder_.WriteString(col, f.text);
  }
  if (st.ok()) return st;
  Status err = builder_.ColumnError(col, st);
  if (!csv_ && !f.text.empty() && f.text.back() == '\r') {
    err = Status(err.code(),
                 err.message() +
                     " (the line ends with a carriage return: TabSeparated expects "
                     "Unix line feeds)",
                 err.clickhouse_code());
  }
  return err;
}

Status DelimitedParser::ParseRow(std::string_view row) {
  builder_.BeginRow();
  size_t expected = field_to_col_.size();
  size_t fields = 0;
  TH_RETURN_IF_ERROR(Split(row, [&](size_t index, const Field& f) -> Status {
    fields = index + 1;
    if (index >= expected) return Status::OK();  // counted, reported below
    int col = field_to_col_[index];
    if (col < 0) return Status::OK();
    return WriteField(static_cast<size_t>(col), f);
  }));
  if (fields != expected) {
    return builder_.RowError(ch::kIncorrectNumberOfColumns,
                             fmt::format("expected {} fields, found {}", expected, fields));
  }
  builder_.FinishRow();
  return Status::OK();
}

Status DelimitedParser::ParseHeader(std::string_view row) {
  std::vector<std::string> names;
  TH_RETURN_IF_ERROR(Split(row, [&](size_t, const Field& f) -> Status {
    names.emplace_back(f.is_null ? "\\N" : f.text);
    return Status::OK();
  }));
  field_to_col_.assign(names.size(), -1);
  std::vector<bool> seen(builder_.num_columns(), false);
  for (size_t i = 0; i < names.size(); ++i) {
    int col = builder_.Find(names[i]);
    if (col < 0) {
      if (options().skip_unknown_fields) continue;
      return Status::InvalidArgument(
          fmt::format("Cannot parse input: header: Unknown field found while parsing {} format: {}",
                      format(), names[i]),
          ch::kNoSuchColumnInTable);
    }
    if (seen[col]) {
      return Status::InvalidArgument(
          fmt::format("Cannot parse input: header: Duplicate field found while parsing {} "
                      "format: {}",
                      format(), names[i]),
          ch::kIncorrectData);
    }
    seen[col] = true;
    field_to_col_[i] = col;
  }
  header_done_ = true;
  return Status::OK();
}

}  // namespace

std::unique_ptr<StreamingParser> NewTabSeparatedParser(bool with_names) {
  return std::make_unique<DelimitedParser>(/*csv=*/false, with_names);
}

std::unique_ptr<StreamingParser> NewCsvParser(bool with_names) {
  return std::make_unique<DelimitedParser>(/*csv=*/true, with_names);
}

}  // namespace trackhouse::formats
