#include "formats/output_format.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "types/column.h"
#include "types/convert.h"
#include "types/datetime.h"

namespace trackhouse::formats {
namespace {

using types::Column;
using types::DataType;
using types::TypeId;

// How a cell is quoted and escaped.
enum class Dialect { kTsv, kCsv, kJson, kPretty };

template <typename T>
void AppendInt(T v, std::string* out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, r.ptr);
}

void AppendTsvEscaped(std::string_view s, std::string* out) { types::AppendEscapedText(s, out); }

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

// ClickHouse's writeJSONString with output_format_json_escape_forward_slashes=1 (the default).
void AppendJsonString(std::string_view s, std::string* out) {
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

void AppendString(std::string_view s, Dialect d, std::string* out) {
  switch (d) {
    case Dialect::kTsv:
    case Dialect::kPretty:
      AppendTsvEscaped(s, out);
      break;
    case Dialect::kCsv:
      AppendCsvQuoted(s, out);
      break;
    case Dialect::kJson:
      AppendJsonString(s, out);
      break;
  }
}

// One column of a block, rendered cell by cell. The type switch happens once per column per
// block (MakeCell); the per-row call is a virtual call into a loop-free typed body.
class Cell {
 public:
  virtual ~Cell() = default;
  virtual void Append(size_t row, std::string* out) const = 0;
};

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
        out->push_back('"');
        AppendClickHouseFloat(v, std::is_same_v<T, float>, out);
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

// Date, DateTime, DateTime64: plain text in TSV, in double quotes in CSV and JSON.
template <typename T>
class TimeCell final : public Cell {
 public:
  TimeCell(const std::vector<T>& data, TypeId id, uint32_t precision, Dialect d)
      : data_(data),
        id_(id),
        precision_(precision),
        quote_(d == Dialect::kCsv || d == Dialect::kJson) {}
  void Append(size_t row, std::string* out) const override {
    if (quote_) out->push_back('"');
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
    if (quote_) out->push_back('"');
  }

 private:
  const std::vector<T>& data_;
  TypeId id_;
  uint32_t precision_;
  bool quote_;
};

template <typename ColumnT>
class StringCell final : public Cell {
 public:
  StringCell(const ColumnT& col, Dialect d) : col_(col), dialect_(d) {}
  void Append(size_t row, std::string* out) const override {
    AppendString(col_.View(row), dialect_, out);
  }

 private:
  const ColumnT& col_;
  Dialect dialect_;
};

class NullableCell final : public Cell {
 public:
  NullableCell(const std::vector<uint8_t>& null_map, std::unique_ptr<Cell> nested, Dialect d)
      : null_map_(null_map),
        nested_(std::move(nested)),
        null_text_(d == Dialect::kJson     ? "null"
                   : d == Dialect::kPretty ? "\u1d3a\u1d41\u1d38\u1d38"  // ᴺᵁᴸᴸ
                                           : "\\N") {}
  void Append(size_t row, std::string* out) const override {
    if (null_map_[row]) {
      out->append(null_text_);
    } else {
      nested_->Append(row, out);
    }
  }

 private:
  const std::vector<uint8_t>& null_map_;
  std::unique_ptr<Cell> nested_;
  std::string_view null_text_;
};

std::unique_ptr<Cell> MakeCell(const Column& col, const DataType& type, Dialect d,
                               const OutputOptions& o) {
  switch (type.id()) {
    case TypeId::kNullable: {
      const auto& n = static_cast<const types::ColumnNullable&>(col);
      return std::make_unique<NullableCell>(n.null_map(),
                                            MakeCell(n.nested(), *type.nested(), d, o), d);
    }
    case TypeId::kString:
      return std::make_unique<StringCell<types::ColumnString>>(
          static_cast<const types::ColumnString&>(col), d);
    case TypeId::kFixedString:
      return std::make_unique<StringCell<types::ColumnFixedString>>(
          static_cast<const types::ColumnFixedString&>(col), d);
    case TypeId::kLowCardinality:
      return std::make_unique<StringCell<types::ColumnLowCardinality>>(
          static_cast<const types::ColumnLowCardinality&>(col), d);
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

enum class Kind {
  kTsv,
  kTsvWithNames,
  kTsvWithNamesAndTypes,
  kCsv,
  kCsvWithNames,
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
    case Kind::kCsv:
    case Kind::kCsvWithNames:
      return Dialect::kCsv;
    default:
      return Dialect::kJson;
  }
}

// All the text formats: they differ only in header, row framing and trailer.
class TextOutputFormat final : public OutputFormat {
 public:
  TextOutputFormat(Kind kind, OutputOptions options)
      : kind_(kind), dialect_(DialectOf(kind)), options_(options) {}

  void Begin(const std::vector<std::string>& names, const std::vector<types::DataTypePtr>& types,
             std::string* out) override {
    json_keys_.clear();
    for (const auto& n : names) {
      std::string key;
      AppendJsonString(n, &key);
      json_keys_.push_back(std::move(key));
    }
    switch (kind_) {
      case Kind::kTsvWithNamesAndTypes:
      case Kind::kTsvWithNames:
        WriteHeaderLine(names, '\t', out);
        if (kind_ == Kind::kTsvWithNamesAndTypes) {
          std::vector<std::string> type_names;
          for (const auto& t : types) type_names.push_back(t->name());
          WriteHeaderLine(type_names, '\t', out);
        }
        break;
      case Kind::kCsvWithNames:
        WriteHeaderLine(names, ',', out);
        break;
      case Kind::kJson:
      case Kind::kJsonCompact:
        out->append("{\n\t\"meta\":\n\t[");
        for (size_t i = 0; i < names.size(); ++i) {
          out->append(i == 0 ? "\n" : ",\n");
          out->append("\t\t{\n\t\t\t\"name\": ");
          out->append(json_keys_[i]);
          out->append(",\n\t\t\t\"type\": ");
          AppendJsonString(types[i]->name(), out);
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
    std::vector<std::unique_ptr<Cell>> cells;
    cells.reserve(block.num_columns());
    for (const auto& c : block.columns()) {
      cells.push_back(MakeCell(*c.column, *c.type, dialect_, options_));
    }
    size_t n = cells.size();
    for (size_t r = 0; r < rows; ++r) {
      switch (kind_) {
        case Kind::kTsv:
        case Kind::kTsvWithNames:
        case Kind::kTsvWithNamesAndTypes:
        case Kind::kCsv:
        case Kind::kCsvWithNames: {
          char sep = dialect_ == Dialect::kTsv ? '\t' : ',';
          for (size_t c = 0; c < n; ++c) {
            if (c > 0) out->push_back(sep);
            cells[c]->Append(r, out);
          }
          out->push_back('\n');
          break;
        }
        case Kind::kJsonEachRow:
          out->push_back('{');
          for (size_t c = 0; c < n; ++c) {
            if (c > 0) out->push_back(',');
            out->append(json_keys_[c]);
            out->push_back(':');
            cells[c]->Append(r, out);
          }
          out->append("}\n");
          break;
        case Kind::kJsonCompactEachRow:
          out->push_back('[');
          for (size_t c = 0; c < n; ++c) {
            if (c > 0) out->append(", ");
            cells[c]->Append(r, out);
          }
          out->append("]\n");
          break;
        case Kind::kJson:
          if (rows_ > 0) out->append(",\n");
          out->append("\t\t{");
          for (size_t c = 0; c < n; ++c) {
            out->append(c > 0 ? ",\n\t\t\t" : "\n\t\t\t");
            out->append(json_keys_[c]);
            out->append(": ");
            cells[c]->Append(r, out);
          }
          out->append("\n\t\t}");
          break;
        case Kind::kJsonCompact:
          if (rows_ > 0) out->append(",\n");
          out->append("\t\t[");
          for (size_t c = 0; c < n; ++c) {
            if (c > 0) out->append(", ");
            cells[c]->Append(r, out);
          }
          out->push_back(']');
          break;
      }
      ++rows_;
    }
  }

  void Finish(const Stats& stats, std::string* out) override {
    if (kind_ != Kind::kJson && kind_ != Kind::kJsonCompact) return;
    out->append("\n\t],\n\n\t\"rows\": ");
    AppendInt(rows_, out);
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
      case Kind::kTsvWithNames:
      case Kind::kTsvWithNamesAndTypes:
        return "text/tab-separated-values; charset=UTF-8";
      case Kind::kCsv:
        return "text/csv; charset=UTF-8; header=absent";
      case Kind::kCsvWithNames:
        return "text/csv; charset=UTF-8; header=present";
      case Kind::kJsonEachRow:
        return "application/x-ndjson; charset=UTF-8";
      default:
        return "application/json; charset=UTF-8";
    }
  }

 private:
  void WriteHeaderLine(const std::vector<std::string>& fields, char sep, std::string* out) {
    for (size_t i = 0; i < fields.size(); ++i) {
      if (i > 0) out->push_back(sep);
      AppendString(fields[i], dialect_, out);
    }
    out->push_back('\n');
  }

  Kind kind_;
  Dialect dialect_;
  OutputOptions options_;
  std::vector<std::string> json_keys_;  // column names as JSON strings, quotes included
  uint64_t rows_ = 0;                   // rows written so far
};

// Display width of UTF-8 text: one column per code point.
size_t DisplayWidth(std::string_view s) {
  size_t w = 0;
  for (char c : s) w += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return w;
}

void AppendRepeated(std::string_view s, size_t n, std::string* out) {
  for (size_t i = 0; i < n; ++i) out->append(s);
}

// PrettyCompact as ClickHouse writes it without colour (HTTP, or a client not on a terminal):
// one box-drawn table per block, numbers right-aligned, row numbers on the left
// (output_format_pretty_row_numbers=1, the default since ClickHouse 24.x).
class PrettyCompactOutputFormat final : public OutputFormat {
 public:
  explicit PrettyCompactOutputFormat(OutputOptions options) : options_(options) {}

  void Begin(const std::vector<std::string>& names, const std::vector<types::DataTypePtr>& types,
             std::string* out) override {
    names_ = names;
    right_.clear();
    for (const auto& t : types) right_.push_back(t->Unwrapped().is_numeric());
  }

  void Write(const types::Block& block, std::string* out) override {
    size_t rows = block.rows();
    if (rows == 0) return;
    size_t n = block.num_columns();
    // Render every cell first: the column widths depend on all of them.
    std::vector<std::vector<std::string>> text(n, std::vector<std::string>(rows));
    std::vector<size_t> width(n);
    for (size_t c = 0; c < n; ++c) {
      auto cell = MakeCell(*block.at(c).column, *block.at(c).type, Dialect::kPretty, options_);
      width[c] = DisplayWidth(names_[c]);
      for (size_t r = 0; r < rows; ++r) {
        cell->Append(r, &text[c][r]);
        width[c] = std::max(width[c], DisplayWidth(text[c][r]));
      }
    }
    std::string last_number = std::to_string(rows_ + rows);
    size_t prefix = options_.pretty_row_numbers ? last_number.size() + 2 : 0;

    out->append(prefix, ' ');
    for (size_t c = 0; c < n; ++c) {
      out->append(c == 0 ? "\u250c\u2500" : "\u2500\u252c\u2500");  // ┌─  ─┬─
      size_t pad = width[c] - DisplayWidth(names_[c]);
      if (right_[c]) AppendRepeated("\u2500", pad, out);
      out->append(names_[c]);
      if (!right_[c]) AppendRepeated("\u2500", pad, out);
    }
    out->append("\u2500\u2510\n");  // ─┐
    for (size_t r = 0; r < rows; ++r) {
      if (prefix > 0) {
        std::string num = std::to_string(rows_ + r + 1) + ".";
        out->append(prefix - 1 - num.size(), ' ');
        out->append(num);
        out->push_back(' ');
      }
      for (size_t c = 0; c < n; ++c) {
        out->append(c == 0 ? "\u2502 " : " \u2502 ");  // │
        size_t pad = width[c] - DisplayWidth(text[c][r]);
        if (right_[c]) out->append(pad, ' ');
        out->append(text[c][r]);
        if (!right_[c]) out->append(pad, ' ');
      }
      out->append(" \u2502\n");
    }
    out->append(prefix, ' ');
    for (size_t c = 0; c < n; ++c) {
      out->append(c == 0 ? "\u2514\u2500" : "\u2500\u2534\u2500");  // └─  ─┴─
      AppendRepeated("\u2500", width[c], out);
    }
    out->append("\u2500\u2518\n");  // ─┘
    rows_ += rows;
  }

  void Finish(const Stats& stats, std::string* out) override {}

  std::string_view content_type() const override { return "text/plain; charset=UTF-8"; }

 private:
  OutputOptions options_;
  std::vector<std::string> names_;
  std::vector<bool> right_;  // numbers are right-aligned
  uint64_t rows_ = 0;        // rows written so far (row numbers continue across blocks)
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
      {"TabSeparatedWithNames", Kind::kTsvWithNames},
      {"TSVWithNames", Kind::kTsvWithNames},
      {"TabSeparatedWithNamesAndTypes", Kind::kTsvWithNamesAndTypes},
      {"TSVWithNamesAndTypes", Kind::kTsvWithNamesAndTypes},
      {"CSV", Kind::kCsv},
      {"CSVWithNames", Kind::kCsvWithNames},
      {"JSONEachRow", Kind::kJsonEachRow},
      {"NDJSON", Kind::kJsonEachRow},
      {"JSONLines", Kind::kJsonEachRow},
      {"JSONCompactEachRow", Kind::kJsonCompactEachRow},
      {"JSON", Kind::kJson},
      {"JSONCompact", Kind::kJsonCompact},
  };
  if (name == "PrettyCompact") {
    return std::unique_ptr<OutputFormat>(std::make_unique<PrettyCompactOutputFormat>(options));
  }
  for (const auto& f : kFormats) {
    if (f.name == name) {
      return std::unique_ptr<OutputFormat>(std::make_unique<TextOutputFormat>(f.kind, options));
    }
  }
  return Status::InvalidArgument("Unknown output format " + std::string(name), ch::kUnknownFormat);
}

}  // namespace trackhouse::formats
