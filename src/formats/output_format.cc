#include "formats/output_format.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "common/coding.h"
#include "formats/output_cells.h"
#include "formats/pretty_format.h"
#include "types/column.h"
#include "types/convert.h"
#include "types/datetime.h"

namespace trackhouse::formats {

using types::Column;
using types::DataType;
using types::TypeId;

// ---------------- string quoting ----------------

void AppendCsvQuoted(std::string_view s, std::string* out) {
  out->push_back('"');
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '"') continue;
    out->append(s.data() + start, i + 1 - start);  // the quote, then its double below
    out->push_back('"');
    start = i + 1;
  }
  out->append(s.data() + start, s.size() - start);
  out->push_back('"');
}

namespace {

// Whether bytes[0..len) is one well-formed UTF-8 sequence (no overlong forms, no surrogates,
// nothing past U+10FFFF).
bool IsLegalUtf8(const unsigned char* bytes, size_t len) {
  unsigned char lead = bytes[0];
  if (len == 1) return lead < 0x80;
  for (size_t i = 2; i < len; ++i) {
    if (bytes[i] < 0x80 || bytes[i] > 0xBF) return false;
  }
  unsigned char second = bytes[1];
  if (second > 0xBF) return false;
  switch (lead) {
    case 0xE0:
      if (second < 0xA0) return false;
      break;
    case 0xED:
      if (second > 0x9F) return false;
      break;
    case 0xF0:
      if (second < 0x90) return false;
      break;
    case 0xF4:
      if (second > 0x8F) return false;
      break;
    default:
      if (second < 0x80) return false;
  }
  return lead >= 0xC2 && lead <= 0xF4;
}

// The length a UTF-8 lead byte announces (continuation bytes count as 1, 0xF8.. as 5 or 6).
size_t Utf8SequenceLength(unsigned char lead) {
  if (lead < 0xC0) return 1;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  if (lead < 0xF8) return 4;
  return lead < 0xFC ? 5 : 6;
}

// s with every invalid UTF-8 byte replaced by U+FFFD; consecutive bad bytes give one
// replacement (ClickHouse's WriteBufferValidUTF8 with grouped replacements).
std::string ValidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 3);
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t i = 0;
  bool just_replaced = false;
  while (i < s.size()) {
    size_t len = Utf8SequenceLength(p[i]);
    if (len <= 4 && i + len <= s.size() && IsLegalUtf8(p + i, len)) {
      out.append(s.data() + i, len);
      i += len;
      just_replaced = false;
      continue;
    }
    if (!just_replaced) out.append("\xEF\xBF\xBD");
    just_replaced = true;
    ++i;
  }
  return out;
}

bool IsAscii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

}  // namespace

// ClickHouse's writeJSONString with output_format_json_escape_forward_slashes=1 (the default).
void AppendJsonString(std::string_view s, bool validate_utf8, std::string* out) {
  std::string valid;
  if (validate_utf8 && !IsAscii(s)) {
    valid = ValidUtf8(s);
    s = valid;
  }
  out->push_back('"');
  size_t start = 0;
  auto flush = [&](size_t i) { out->append(s.data() + start, i - start); };
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    const char* esc = nullptr;
    switch (c) {
      case '"':
        esc = "\\\"";
        break;
      case '\\':
        esc = "\\\\";
        break;
      case '/':
        esc = "\\/";
        break;
      case '\b':
        esc = "\\b";
        break;
      case '\f':
        esc = "\\f";
        break;
      case '\n':
        esc = "\\n";
        break;
      case '\r':
        esc = "\\r";
        break;
      case '\t':
        esc = "\\t";
        break;
      default:
        break;
    }
    if (esc != nullptr) {
      flush(i);
      out->append(esc);
      start = i + 1;
    } else if (c < 0x20) {
      flush(i);
      static constexpr char kHex[] = "0123456789ABCDEF";
      out->append("\\u00");
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 0xF]);
      start = i + 1;
    } else if (c == 0xE2 && i + 2 < s.size() && s[i + 1] == '\x80' &&
               (s[i + 2] == '\xA8' || s[i + 2] == '\xA9')) {
      // U+2028/U+2029 are not allowed unescaped in JavaScript string literals.
      flush(i);
      out->append(s[i + 2] == '\xA8' ? "\\u2028" : "\\u2029");
      i += 2;
      start = i + 1;
    }
  }
  flush(s.size());
  out->push_back('"');
}

// ---------------- cells ----------------

namespace {

void AppendString(std::string_view s, Dialect d, bool validate_utf8, std::string* out) {
  switch (d) {
    case Dialect::kTsv:
      types::AppendEscapedText(s, out);
      break;
    case Dialect::kTsvRaw:
    case Dialect::kPretty:
      out->append(s);
      break;
    case Dialect::kCsv:
      AppendCsvQuoted(s, out);
      break;
    case Dialect::kJson:
      AppendJsonString(s, validate_utf8, out);
      break;
    case Dialect::kQuoted:
      out->push_back('\'');
      types::AppendEscapedText(s, out);
      out->push_back('\'');
      break;
  }
}

template <typename T>
class NumberCell final : public Cell {
 public:
  NumberCell(const std::vector<T>& data, Dialect d, const OutputOptions& o)
      : data_(data),
        json_(d == Dialect::kJson),
        quote_(json_ && o.quote_64bit_integers && sizeof(T) == 8 && std::is_integral_v<T>),
        quote_denormals_(o.quote_denormals) {}

  void Append(size_t row, std::string* out) const override {
    T v = data_[row];
    if constexpr (std::is_floating_point_v<T>) {
      if (json_ && !std::isfinite(v)) {
        if (!quote_denormals_) {
          out->append("null");
          return;
        }
        // Quoted denormals keep the sign, NaN's included: 0/0 is "-nan" on x86.
        out->push_back('"');
        if (std::signbit(v)) out->push_back('-');
        out->append(std::isnan(v) ? "nan" : "inf");
        out->push_back('"');
        return;
      }
      AppendClickHouseFloat(v, std::is_same_v<T, float>, out);
    } else {
      if (quote_) out->push_back('"');
      AppendInt(v, out);
      if (quote_) out->push_back('"');
    }
  }

 private:
  const std::vector<T>& data_;
  bool json_;
  bool quote_;
  bool quote_denormals_;
};

class BoolCell final : public Cell {
 public:
  explicit BoolCell(const std::vector<uint8_t>& data) : data_(data) {}
  void Append(size_t row, std::string* out) const override {
    out->append(data_[row] ? "true" : "false");
  }

 private:
  const std::vector<uint8_t>& data_;
};

// Date, DateTime, DateTime64: plain in TSV and Pretty, "quoted" in CSV and JSON, 'quoted' as an
// array element.
template <typename T>
class TimeCell final : public Cell {
 public:
  TimeCell(const std::vector<T>& data, TypeId id, uint32_t precision, Dialect d)
      : data_(data),
        id_(id),
        precision_(precision),
        quote_(d == Dialect::kCsv || d == Dialect::kJson ? '"'
               : d == Dialect::kQuoted                   ? '\''
                                                         : '\0') {}
  void Append(size_t row, std::string* out) const override {
    if (quote_) out->push_back(quote_);
    switch (id_) {
      case TypeId::kDate:
        out->append(types::FormatDate(data_[row]));
        break;
      case TypeId::kDateTime:
        out->append(types::FormatDateTime(data_[row]));
        break;
      default:
        out->append(types::FormatDateTime64(data_[row], precision_));
        break;
    }
    if (quote_) out->push_back(quote_);
  }

 private:
  const std::vector<T>& data_;
  TypeId id_;
  uint32_t precision_;
  char quote_;
};

template <typename ColumnT>
class StringCell final : public Cell {
 public:
  StringCell(const ColumnT& col, Dialect d, bool validate_utf8)
      : col_(col), dialect_(d), validate_utf8_(validate_utf8) {}
  void Append(size_t row, std::string* out) const override {
    AppendString(col_.View(row), dialect_, validate_utf8_, out);
  }

 private:
  const ColumnT& col_;
  Dialect dialect_;
  bool validate_utf8_;
};

class NullableCell final : public Cell {
 public:
  NullableCell(const std::vector<uint8_t>& null_map, std::unique_ptr<Cell> nested, Dialect d)
      : null_map_(null_map), nested_(std::move(nested)), null_text_(NullText(d)) {}
  void Append(size_t row, std::string* out) const override {
    if (null_map_[row]) {
      out->append(null_text_);
    } else {
      nested_->Append(row, out);
    }
  }

 private:
  static std::string_view NullText(Dialect d) {
    switch (d) {
      case Dialect::kJson:
        return "null";
      case Dialect::kPretty:
        return "\u1d3a\u1d41\u1d38\u1d38";  // ᴺᵁᴸᴸ
      case Dialect::kQuoted:
        return "NULL";
      default:
        return "\\N";
    }
  }

  const std::vector<uint8_t>& null_map_;
  std::unique_ptr<Cell> nested_;
  std::string_view null_text_;
};

// Array(T): [e1,e2] with the elements in JSON in JSON formats and as SQL literals elsewhere; CSV
// puts the whole text in double quotes.
class ArrayCell final : public Cell {
 public:
  ArrayCell(const types::ColumnArray& col, std::unique_ptr<Cell> element, Dialect d)
      : col_(col), element_(std::move(element)), csv_(d == Dialect::kCsv) {}
  void Append(size_t row, std::string* out) const override {
    if (!csv_) {
      AppendElements(row, out);
      return;
    }
    std::string text;
    AppendElements(row, &text);
    AppendCsvQuoted(text, out);
  }

 private:
  void AppendElements(size_t row, std::string* out) const {
    out->push_back('[');
    for (uint64_t i = col_.RowBegin(row); i < col_.offsets()[row]; ++i) {
      if (i != col_.RowBegin(row)) out->push_back(',');
      element_->Append(i, out);
    }
    out->push_back(']');
  }

  const types::ColumnArray& col_;
  std::unique_ptr<Cell> element_;
  bool csv_;
};

}  // namespace

std::unique_ptr<Cell> MakeCell(const Column& col, const DataType& type, Dialect d,
                               const OutputOptions& o, bool validate_utf8) {
  switch (type.id()) {
    case TypeId::kNullable: {
      const auto& n = static_cast<const types::ColumnNullable&>(col);
      return std::make_unique<NullableCell>(
          n.null_map(), MakeCell(n.nested(), *type.nested(), d, o, validate_utf8), d);
    }
    case TypeId::kArray: {
      const auto& a = static_cast<const types::ColumnArray&>(col);
      Dialect element = d == Dialect::kJson ? Dialect::kJson : Dialect::kQuoted;
      return std::make_unique<ArrayCell>(
          a, MakeCell(a.data(), *type.nested(), element, o, validate_utf8), d);
    }
    case TypeId::kString:
      return std::make_unique<StringCell<types::ColumnString>>(
          static_cast<const types::ColumnString&>(col), d, validate_utf8);
    case TypeId::kFixedString:
      return std::make_unique<StringCell<types::ColumnFixedString>>(
          static_cast<const types::ColumnFixedString&>(col), d, validate_utf8);
    case TypeId::kLowCardinality:
      return std::make_unique<StringCell<types::ColumnLowCardinality>>(
          static_cast<const types::ColumnLowCardinality&>(col), d, validate_utf8);
    case TypeId::kBool:
      return std::make_unique<BoolCell>(
          static_cast<const types::ColumnVector<uint8_t>&>(col).data());
    case TypeId::kDate:
    case TypeId::kDateTime:
    case TypeId::kDateTime64:
      return types::DispatchVector(type.id(), [&](auto* tag) -> std::unique_ptr<Cell> {
        using T = std::remove_pointer_t<decltype(tag)>;
        return std::make_unique<TimeCell<T>>(static_cast<const types::ColumnVector<T>&>(col).data(),
                                             type.id(), type.precision(), d);
      });
    default:
      return types::DispatchVector(type.id(), [&](auto* tag) -> std::unique_ptr<Cell> {
        using T = std::remove_pointer_t<decltype(tag)>;
        return std::make_unique<NumberCell<T>>(
            static_cast<const types::ColumnVector<T>&>(col).data(), d, o);
      });
  }
}

namespace {

// ---------------- TabSeparated, CSV and JSON ----------------

enum class Kind {
  kTsv,
  kTsvRaw,
  kTsvWithNames,
  kTsvWithNamesAndTypes,
  kCsv,
  kCsvWithNames,
  kCsvWithNamesAndTypes,
  kJsonEachRow,
  kJsonCompactEachRow,
  kJson,
  kJsonCompact,
};

Dialect DialectOf(Kind k) {
  switch (k) {
    case Kind::kTsv:
    case Kind::kTsvWithNames:
    case Kind::kTsvWithNamesAndTypes:
      return Dialect::kTsv;
    case Kind::kTsvRaw:
      return Dialect::kTsvRaw;
    case Kind::kCsv:
    case Kind::kCsvWithNames:
    case Kind::kCsvWithNamesAndTypes:
      return Dialect::kCsv;
    default:
      return Dialect::kJson;
  }
}

// All the text formats: they differ only in header, row framing, totals and trailer.
class TextOutputFormat final : public OutputFormat {
 public:
  TextOutputFormat(Kind kind, OutputOptions options)
      : kind_(kind),
        dialect_(DialectOf(kind)),
        options_(options),
        // JSON and JSONCompact always emit valid UTF-8; the EachRow formats pass bytes through
        // (output_format_json_validate_utf8=0).
        validate_utf8_(kind == Kind::kJson || kind == Kind::kJsonCompact) {}

  void Begin(const std::vector<std::string>& names, const std::vector<types::DataTypePtr>& types,
             std::string* out) override {
    json_keys_.clear();
    for (const auto& n : names) {
      std::string key;
      AppendJsonString(n, validate_utf8_, &key);
      json_keys_.push_back(std::move(key));
    }
    std::vector<std::string> type_names;
    for (const auto& t : types) type_names.push_back(t->name());
    switch (kind_) {
      case Kind::kTsvWithNames:
      case Kind::kCsvWithNames:
        WriteHeaderLine(names, out);
        break;
      case Kind::kTsvWithNamesAndTypes:
      case Kind::kCsvWithNamesAndTypes:
        WriteHeaderLine(names, out);
        WriteHeaderLine(type_names, out);
        break;
      case Kind::kJson:
      case Kind::kJsonCompact:
        out->append("{\n\t\"meta\":\n\t[");
        for (size_t i = 0; i < names.size(); ++i) {
          out->append(i == 0 ? "\n" : ",\n");
          out->append("\t\t{\n\t\t\t\"name\": ");
          out->append(json_keys_[i]);
          out->append(",\n\t\t\t\"type\": ");
          AppendJsonString(type_names[i], false, out);
          out->append("\n\t\t}");
        }
        out->append("\n\t],\n\n\t\"data\":\n\t[\n");
        break;
      default:
        break;
    }
  }

  void Write(const types::Block& block, std::string* out) override {
    size_t rows = block.rows();
    if (rows == 0) return;
    std::vector<std::unique_ptr<Cell>> cells = MakeCells(block);
    for (size_t r = 0; r < rows; ++r) {
      switch (kind_) {
        case Kind::kJsonEachRow:
          out->push_back('{');
          for (size_t c = 0; c < cells.size(); ++c) {
            if (c > 0) out->push_back(',');
            out->append(json_keys_[c]);
            out->push_back(':');
            cells[c]->Append(r, out);
          }
          out->append("}\n");
          break;
        case Kind::kJsonCompactEachRow:
          WriteCompactRow(cells, r, out);
          out->push_back('\n');
          break;
        case Kind::kJson:
          if (rows_ > 0) out->append(",\n");
          out->append("\t\t{");
          WriteObjectFields(cells, r, "\n\t\t\t", out);
          out->append("\n\t\t}");
          break;
        case Kind::kJsonCompact:
          if (rows_ > 0) out->append(",\n");
          out->append("\t\t");
          WriteCompactRow(cells, r, out);
          break;
        default:
          WriteSeparatedRow(cells, r, out);
          break;
      }
      ++rows_;
    }
  }

  void WriteTotals(const types::Block& totals, std::string* out) override {
    if (totals.rows() == 0) return;
    std::vector<std::unique_ptr<Cell>> cells = MakeCells(totals);
    switch (kind_) {
      case Kind::kJsonEachRow:
      case Kind::kJsonCompactEachRow:
        return;  // ClickHouse writes no totals in these formats
      case Kind::kJson:
        // Ends "data" here; Finish then continues after the totals.
        out->append("\n\t],\n\n\t\"totals\":\n\t{");
        WriteObjectFields(cells, 0, "\n\t\t", out);
        out->append("\n\t}");
        break;
      case Kind::kJsonCompact:
        out->append("\n\t],\n\n\t\"totals\": ");
        WriteCompactRow(cells, 0, out);
        break;
      default:
        out->push_back('\n');
        WriteSeparatedRow(cells, 0, out);
        return;
    }
    totals_written_ = true;
  }

  void Finish(const Stats& stats, std::string* out) override {
    if (kind_ != Kind::kJson && kind_ != Kind::kJsonCompact) return;
    out->append(totals_written_ ? ",\n\n\t\"rows\": " : "\n\t],\n\n\t\"rows\": ");
    AppendInt(rows_, out);
    if (stats.rows_before_limit_at_least) {
      out->append(",\n\n\t\"rows_before_limit_at_least\": ");
      AppendInt(*stats.rows_before_limit_at_least, out);
    }
    out->append(",\n\n\t\"statistics\":\n\t{\n\t\t\"elapsed\": ");
    AppendClickHouseFloat(stats.elapsed_s, false, out);
    out->append(",\n\t\t\"rows_read\": ");
    AppendInt(stats.rows_read, out);
    out->append(",\n\t\t\"bytes_read\": ");
    AppendInt(stats.bytes_read, out);
    out->append("\n\t}\n}\n");
  }

  std::string_view content_type() const override {
    switch (kind_) {
      case Kind::kTsv:
      case Kind::kTsvRaw:
      case Kind::kTsvWithNames:
      case Kind::kTsvWithNamesAndTypes:
        return "text/tab-separated-values; charset=UTF-8";
      case Kind::kCsv:
        return "text/csv; charset=UTF-8; header=absent";
      case Kind::kCsvWithNames:
      case Kind::kCsvWithNamesAndTypes:
        return "text/csv; charset=UTF-8; header=present";
      case Kind::kJsonEachRow:
        return "application/x-ndjson; charset=UTF-8";
      default:
        return "application/json; charset=UTF-8";
    }
  }

 private:
  std::vector<std::unique_ptr<Cell>> MakeCells(const types::Block& block) const {
    std::vector<std::unique_ptr<Cell>> cells;
    cells.reserve(block.num_columns());
    for (const auto& c : block.columns()) {
      cells.push_back(MakeCell(*c.column, *c.type, dialect_, options_, validate_utf8_));
    }
    return cells;
  }

  void WriteSeparatedRow(const std::vector<std::unique_ptr<Cell>>& cells, size_t r,
                         std::string* out) const {
    char sep = dialect_ == Dialect::kCsv ? ',' : '\t';
    for (size_t c = 0; c < cells.size(); ++c) {
      if (c > 0) out->push_back(sep);
      cells[c]->Append(r, out);
    }
    out->push_back('\n');
  }

  // [v1, v2, ...]
  static void WriteCompactRow(const std::vector<std::unique_ptr<Cell>>& cells, size_t r,
                              std::string* out) {
    out->push_back('[');
    for (size_t c = 0; c < cells.size(); ++c) {
      if (c > 0) out->append(", ");
      cells[c]->Append(r, out);
    }
    out->push_back(']');
  }

  // "k1": v1,<indent>"k2": v2 (each field preceded by `indent`).
  void WriteObjectFields(const std::vector<std::unique_ptr<Cell>>& cells, size_t r,
                         std::string_view indent, std::string* out) const {
    for (size_t c = 0; c < cells.size(); ++c) {
      if (c > 0) out->push_back(',');
      out->append(indent);
      out->append(json_keys_[c]);
      out->append(": ");
      cells[c]->Append(r, out);
    }
  }

  void WriteHeaderLine(const std::vector<std::string>& fields, std::string* out) const {
    for (size_t i = 0; i < fields.size(); ++i) {
      if (i > 0) out->push_back(dialect_ == Dialect::kCsv ? ',' : '\t');
      AppendString(fields[i], dialect_, false, out);
    }
    out->push_back('\n');
  }

  Kind kind_;
  Dialect dialect_;
  OutputOptions options_;
  bool validate_utf8_;
  std::vector<std::string> json_keys_;  // column names as JSON strings, quotes included
  uint64_t rows_ = 0;                   // rows written so far
  bool totals_written_ = false;         // JSON: "data" was closed by WriteTotals
};

// ---------------- RowBinary ----------------

// Appends rows [0, rows) of `col` in RowBinary encoding, row by row into per-row buffers would
// be slow; instead each column appends its value for one row (Append) in turn.
class BinaryCell {
 public:
  virtual ~BinaryCell() = default;
  virtual void Append(size_t row, std::string* out) const = 0;
};

template <typename T>
class BinaryFixedCell final : public BinaryCell {
 public:
  explicit BinaryFixedCell(const std::vector<T>& data) : data_(data) {}
  void Append(size_t row, std::string* out) const override {
    out->append(reinterpret_cast<const char*>(&data_[row]), sizeof(T));  // little-endian host
  }

 private:
  const std::vector<T>& data_;
};

template <typename ColumnT>
class BinaryStringCell final : public BinaryCell {
 public:
  explicit BinaryStringCell(const ColumnT& col) : col_(col) {}
  void Append(size_t row, std::string* out) const override {
    std::string_view s = col_.View(row);
    PutVarint64(out, s.size());
    out->append(s);
  }

 private:
  const ColumnT& col_;
};

class BinaryFixedStringCell final : public BinaryCell {
 public:
  explicit BinaryFixedStringCell(const types::ColumnFixedString& col) : col_(col) {}
  void Append(size_t row, std::string* out) const override { out->append(col_.View(row)); }

 private:
  const types::ColumnFixedString& col_;
};

class BinaryNullableCell final : public BinaryCell {
 public:
  BinaryNullableCell(const std::vector<uint8_t>& null_map, std::unique_ptr<BinaryCell> nested)
      : null_map_(null_map), nested_(std::move(nested)) {}
  void Append(size_t row, std::string* out) const override {
    out->push_back(null_map_[row] ? 1 : 0);
    if (!null_map_[row]) nested_->Append(row, out);
  }

 private:
  const std::vector<uint8_t>& null_map_;
  std::unique_ptr<BinaryCell> nested_;
};

class BinaryArrayCell final : public BinaryCell {
 public:
  BinaryArrayCell(const types::ColumnArray& col, std::unique_ptr<BinaryCell> element)
      : col_(col), element_(std::move(element)) {}
  void Append(size_t row, std::string* out) const override {
    PutVarint64(out, col_.RowSize(row));
    for (uint64_t i = col_.RowBegin(row); i < col_.offsets()[row]; ++i) element_->Append(i, out);
  }

 private:
  const types::ColumnArray& col_;
  std::unique_ptr<BinaryCell> element_;
};

std::unique_ptr<BinaryCell> MakeBinaryCell(const Column& col, const DataType& type) {
  switch (type.id()) {
    case TypeId::kNullable: {
      const auto& n = static_cast<const types::ColumnNullable&>(col);
      return std::make_unique<BinaryNullableCell>(n.null_map(),
                                                  MakeBinaryCell(n.nested(), *type.nested()));
    }
    case TypeId::kArray: {
      const auto& a = static_cast<const types::ColumnArray&>(col);
      return std::make_unique<BinaryArrayCell>(a, MakeBinaryCell(a.data(), *type.nested()));
    }
    case TypeId::kString:
      return std::make_unique<BinaryStringCell<types::ColumnString>>(
          static_cast<const types::ColumnString&>(col));
    case TypeId::kLowCardinality:
      return std::make_unique<BinaryStringCell<types::ColumnLowCardinality>>(
          static_cast<const types::ColumnLowCardinality&>(col));
    case TypeId::kFixedString:
      return std::make_unique<BinaryFixedStringCell>(
          static_cast<const types::ColumnFixedString&>(col));
    default:
      return types::DispatchVector(type.id(), [&](auto* tag) -> std::unique_ptr<BinaryCell> {
        using T = std::remove_pointer_t<decltype(tag)>;
        return std::make_unique<BinaryFixedCell<T>>(
            static_cast<const types::ColumnVector<T>&>(col).data());
      });
  }
}

// RowBinary[WithNames[AndTypes]]: the header is the column count (LEB128), then the names, then
// the type names, each as a length-prefixed string.
class RowBinaryOutputFormat final : public OutputFormat {
 public:
  RowBinaryOutputFormat(bool with_names, bool with_types)
      : with_names_(with_names), with_types_(with_types) {}

  void Begin(const std::vector<std::string>& names, const std::vector<types::DataTypePtr>& types,
             std::string* out) override {
    if (!with_names_) return;
    PutVarint64(out, names.size());
    for (const auto& n : names) PutLengthPrefixed(out, n);
    if (!with_types_) return;
    for (const auto& t : types) PutLengthPrefixed(out, t->name());
  }

  void Write(const types::Block& block, std::string* out) override {
    std::vector<std::unique_ptr<BinaryCell>> cells;
    for (const auto& c : block.columns()) cells.push_back(MakeBinaryCell(*c.column, *c.type));
    for (size_t r = 0; r < block.rows(); ++r) {
      for (const auto& cell : cells) cell->Append(r, out);
    }
  }

  void WriteTotals(const types::Block&, std::string*) override {}  // not in RowBinary
  void Finish(const Stats&, std::string*) override {}
  std::string_view content_type() const override { return "application/octet-stream"; }

 private:
  bool with_names_;
  bool with_types_;
};

}  // namespace

void AppendClickHouseFloat(double x, bool is_float32, std::string* out) {
  if (std::isnan(x)) {
    out->append("nan");
    return;
  }
  if (std::isinf(x)) {
    out->append(x > 0 ? "inf" : "-inf");
    return;
  }
  // Integers print as integers (ClickHouse's itoa fast path for |x| < 2^63).
  if (x == std::trunc(x) && std::fabs(x) < 9223372036854775808.0) {
    AppendInt(static_cast<int64_t>(x), out);
    return;
  }
  // Shortest round-trip digits, taken from the scientific form "d[.ddd]e[+-]XX".
  char buf[64];
  std::to_chars_result r =
      is_float32 ? std::to_chars(buf, buf + sizeof(buf), static_cast<float>(x),
                                 std::chars_format::scientific)
                 : std::to_chars(buf, buf + sizeof(buf), x, std::chars_format::scientific);
  std::string_view sci(buf, r.ptr - buf);
  bool negative = !sci.empty() && sci[0] == '-';
  if (negative) sci.remove_prefix(1);
  size_t e_pos = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e_pos)) {
    if (c != '.') digits.push_back(c);
  }
  int exp = 0;
  std::string_view exp_text = sci.substr(e_pos + 1);
  if (!exp_text.empty() && exp_text[0] == '+') exp_text.remove_prefix(1);
  std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exp);

  if (negative) out->push_back('-');
  int n = static_cast<int>(digits.size());
  // Fixed notation for moderate magnitudes (ClickHouse prints 3.4028235e38 in full).
  if (exp >= -6 && exp < 39) {
    if (exp >= n - 1) {
      out->append(digits);
      out->append(exp - (n - 1), '0');
    } else if (exp >= 0) {
      out->append(digits, 0, exp + 1);
      out->push_back('.');
      out->append(digits, exp + 1);
    } else {
      out->append("0.");
      out->append(-exp - 1, '0');
      out->append(digits);
    }
    return;
  }
  out->push_back(digits[0]);
  if (n > 1) {
    out->push_back('.');
    out->append(digits, 1);
  }
  out->push_back('e');
  AppendInt(exp, out);
}

Result<std::unique_ptr<OutputFormat>> MakeOutputFormat(std::string_view name,
                                                       OutputOptions options) {
  struct Entry {
    std::string_view name;
    Kind kind;
  };
  static constexpr Entry kFormats[] = {
      {"TabSeparated", Kind::kTsv},
      {"TSV", Kind::kTsv},
      {"TabSeparatedRaw", Kind::kTsvRaw},
      {"TSVRaw", Kind::kTsvRaw},
      {"TabSeparatedWithNames", Kind::kTsvWithNames},
      {"TSVWithNames", Kind::kTsvWithNames},
      {"TabSeparatedWithNamesAndTypes", Kind::kTsvWithNamesAndTypes},
      {"TSVWithNamesAndTypes", Kind::kTsvWithNamesAndTypes},
      {"CSV", Kind::kCsv},
      {"CSVWithNames", Kind::kCsvWithNames},
      {"CSVWithNamesAndTypes", Kind::kCsvWithNamesAndTypes},
      {"JSONEachRow", Kind::kJsonEachRow},
      {"NDJSON", Kind::kJsonEachRow},
      {"JSONLines", Kind::kJsonEachRow},
      {"JSONCompactEachRow", Kind::kJsonCompactEachRow},
      {"JSON", Kind::kJson},
      {"JSONCompact", Kind::kJsonCompact},
  };
  for (const auto& f : kFormats) {
    if (f.name == name) {
      return std::unique_ptr<OutputFormat>(std::make_unique<TextOutputFormat>(f.kind, options));
    }
  }
  if (name == "RowBinary" || name == "RowBinaryWithNames" || name == "RowBinaryWithNamesAndTypes") {
    return std::unique_ptr<OutputFormat>(std::make_unique<RowBinaryOutputFormat>(
        name != "RowBinary", name == "RowBinaryWithNamesAndTypes"));
  }
  if (auto pretty = MakePrettyFormat(name, options)) return pretty;
  return Status::InvalidArgument("Unknown output format " + std::string(name), ch::kUnknownFormat);
}

}  // namespace trackhouse::formats
