// JSONEachRow and JSONCompactEachRow.
//
// A byte scanner finds where each row (a balanced {...} or [...], aware of strings and escapes)
// ends, resuming across chunks; every complete row is then parsed in place with simdjson's
// On-Demand API (error-code mode: SIMDJSON_EXCEPTIONS=0 for this target) straight into the
// column builders.
#include <fmt/format.h>
#include <simdjson.h>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "formats/format_parsers.h"

namespace trackhouse::formats {
namespace {

namespace od = simdjson::ondemand;

bool IsJsonSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

std::string_view TrimRight(std::string_view s) {
  while (!s.empty() && IsJsonSpace(s.back())) s.remove_suffix(1);
  return s;
}

// "'x'" for a printable byte, "byte 0x01" otherwise.
std::string DescribeByte(char c) {
  auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) return fmt::format("'{}'", c);
  return fmt::format("byte 0x{:02x}", u);
}

std::string MalformedJsonText(simdjson::error_code e) {
  return fmt::format("malformed JSON: {}", simdjson::error_message(e));
}

Status MalformedJson(simdjson::error_code e) {
  return Status::InvalidArgument(MalformedJsonText(e), ch::kCannotParseInputAssertionFailed);
}

class JsonRowsParser final : public StreamingParser {
 public:
  explicit JsonRowsParser(bool compact)
      : StreamingParser(compact ? "JSONCompactEachRow" : "JSONEachRow", /*skip_bom=*/true),
        compact_(compact) {}

 protected:
  Result<size_t> Parse(const char* data, size_t size, bool eof) override;

 private:
  enum class Top : uint8_t {
    kStart,        // nothing but whitespace seen yet
    kStream,       // rows one after another
    kArray,        // inside a top-level [ ... ] of rows (JSONEachRow only)
    kArrayClosed,  // after the closing ] of the top-level array
  };

  // Advances *pos through the current row; true when its closing bracket was consumed.
  bool ScanRow(const char* data, size_t size, size_t* pos);
  Status ParseRow(const char* p, size_t len, size_t capacity);
  Status ParseObjectRow(od::document& doc);
  Status ParseArrayRow(od::document& doc);
  // Writes one JSON value into column `col`; errors without row context.
  Status ReadValue(size_t col, od::value& v);
  Status ReadBigNumber(size_t col, od::value& v);
  int Lookup(std::string_view key, size_t expected) const {
    if (expected < builder_.num_columns() && builder_.column(expected).name == key) {
      return static_cast<int>(expected);
    }
    return builder_.Find(key);
  }
  Status Syntax(std::string_view message) const {
    return builder_.RowError(ch::kCannotParseInputAssertionFailed, message);
  }
  // The errors of one row: the error of the whole parse, with the parts a RowError records.
  Status BadRow(int clickhouse_code, std::string_view message) {
    bad_column_.clear();
    bad_reason_ = message;
    return builder_.RowError(clickhouse_code, message);
  }
  Status BadValue(size_t col, const Status& cause) {
    bad_column_ = builder_.column(col).name;
    bad_reason_ = cause.message();
    return builder_.ColumnError(col, cause);
  }
  Status BadSyntax(std::string_view message) {
    return BadRow(ch::kCannotParseInputAssertionFailed, message);
  }

  const bool compact_;
  od::parser parser_;
  // A padded copy of the row being parsed, when it cannot be parsed in place (ParseRow).
  std::string row_copy_;
  // Rows seen, skipped ones included (the index of a RowError).
  uint64_t rows_seen_ = 0;
  // What was wrong with the last bad row (BadRow, BadValue).
  std::string bad_column_;
  std::string bad_reason_;
  Top top_ = Top::kStart;
  // Scan state of the row being read, positions relative to the unconsumed input.
  bool in_row_ = false;
  bool in_string_ = false;
  bool escape_ = false;
  uint32_t depth_ = 0;
  size_t row_start_ = 0;
  size_t scan_pos_ = 0;
};

#if defined(__SSE2__)
// Bit i set where block[i] is a quote, a backslash or one of { } [ ].
inline uint32_t SpecialMask(const char* block) {
  __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block));
  __m128i folded = _mm_or_si128(v, _mm_set1_epi8(0x20));  // [ -> {, ] -> }
  __m128i m = _mm_or_si128(
      _mm_or_si128(_mm_cmpeq_epi8(folded, _mm_set1_epi8('{')),
                   _mm_cmpeq_epi8(folded, _mm_set1_epi8('}'))),
      _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
  return static_cast<uint32_t>(_mm_movemask_epi8(m));
}
#else
inline uint32_t SpecialMask(const char* block) {
  uint32_t m = 0;
  for (int i = 0; i < 16; ++i) {
    char c = block[i];
    bool special = c == '"' || c == '\\' || c == '{' || c == '}' || c == '[' || c == ']';
    m |= static_cast<uint32_t>(special) << i;
  }
  return m;
}
#endif

// Finds the end of the current row 16 bytes at a time: only the structural bytes (quotes,
// backslashes, brackets) are looked at one by one. Reads up to 15 bytes past `size`, which the
// padding makes safe (padding bytes are zeros, never special).
bool JsonRowsParser::ScanRow(const char* data, size_t size, size_t* pos) {
  const char* const end = data + size;
  const char* p = data + *pos;
  uint32_t depth = depth_;
  bool in_string = in_string_;
  bool skip_next = escape_;  // the byte at p is escaped (previous chunk ended with a backslash)
  escape_ = false;
  while (p < end) {
    uint32_t mask = SpecialMask(p);
    if (skip_next) {
      mask &= ~1u;
      skip_next = false;
    }
    while (mask != 0) {
      int i = std::countr_zero(mask);
      mask &= mask - 1;
      const char* q = p + i;
      if (q >= end) break;
      char c = *q;
      if (in_string) {
        if (c == '"') {
          in_string = false;
        } else if (c == '\\') {
          if (q + 1 == end) {
            escape_ = true;
          } else if (i == 15) {
            skip_next = true;
          } else {
            mask &= ~(1u << (i + 1));
          }
        }
      } else if (c == '"') {
        in_string = true;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) {
          depth_ = 0;
          in_string_ = false;
          *pos = static_cast<size_t>(q + 1 - data);
          return true;
        }
      }
    }
    p += 16;
  }
  depth_ = depth;
  in_string_ = in_string;
  *pos = size;
  return false;
}

Result<size_t> JsonRowsParser::Parse(const char* data, size_t size, bool eof) {
  const char open = compact_ ? '[' : '{';
  size_t pos = scan_pos_;
  while (true) {
    if (!in_row_) {
      while (pos < size && (IsJsonSpace(data[pos]) || data[pos] == ',')) ++pos;
      if (pos == size) break;
      char c = data[pos];
      if (top_ == Top::kStart) {
        top_ = Top::kStream;
        if (!compact_ && c == '[') {
          top_ = Top::kArray;
          ++pos;
          continue;
        }
      }
      if (top_ == Top::kArray && c == ']') {
        top_ = Top::kArrayClosed;
        ++pos;
        continue;
      }
      if (top_ == Top::kArrayClosed) {
        return Syntax(fmt::format("unexpected {} after the closing ']' of the top-level array",
                                  DescribeByte(c)));
      }
      if (c != open) {
        return Syntax(
            fmt::format("expected '{}' at the start of a row, found {}", open, DescribeByte(c)));
      }
      in_row_ = true;
      in_string_ = false;
      escape_ = false;
      depth_ = 1;
      row_start_ = pos;
      ++pos;
    }
    if (!ScanRow(data, size, &pos)) break;
    size_t len = pos - row_start_;
    if (len > options().max_row_bytes) return RowTooLarge();
    TH_RETURN_IF_ERROR(
        ParseRow(data + row_start_, len, size - row_start_ + PaddedBuffer::kPadding));
    in_row_ = false;
  }
  if (eof) {
    if (in_row_) {
      return Syntax(compact_ ? "unexpected end of input inside a JSON array"
                             : "unexpected end of input inside a JSON object");
    }
    if (top_ == Top::kArray) {
      return Syntax("unexpected end of input: the top-level JSON array is not closed with ']'");
    }
  }
  size_t consumed = in_row_ ? row_start_ : pos;
  if (in_row_) row_start_ -= consumed;
  scan_pos_ = pos - consumed;
  return consumed;
}

Status JsonRowsParser::ParseRow(const char* p, size_t len, size_t capacity) {
  builder_.BeginRow();
  // On a malformed row simdjson may read the byte just past the document as one more token: a
  // following '}' made {"a":1:2} parse, a ',' changed the error. Unless that byte is one
  // simdjson cannot take for a token (whitespace or the padding's zero, as at the end of a
  // chunk), the row is parsed from a copy followed by zeros, so the outcome never depends on
  // the next row or on where the chunk ended.
  if (p[len] != '\0' && !IsJsonSpace(p[len])) {
    row_copy_.assign(p, len);
    row_copy_.append(PaddedBuffer::kPadding, '\0');
    p = row_copy_.data();
    capacity = row_copy_.size();
  }
  const uint64_t index = rows_seen_++;
  od::document doc;
  Status st;
  // Small rows (the usual: a /track event) go through one parser per thread, whose buffers
  // outlive the request, instead of allocating this parser's buffers for every request; the
  // document never leaves this call. Large rows use the parser's own (freed with it).
  static constexpr size_t kSharedParserRowBytes = 64 * 1024;
  thread_local od::parser shared_parser;
  od::parser& parser = len <= kSharedParserRowBytes ? shared_parser : parser_;
  if (auto e = parser.iterate(p, len, capacity).get(doc)) {
    st = BadSyntax(MalformedJsonText(e));
  } else {
    st = compact_ ? ParseArrayRow(doc) : ParseObjectRow(doc);
  }
  RowErrors* errors = options().row_errors;
  if (!st.ok() && errors != nullptr) {
    // The row's extent is known (ScanRow found its closing bracket): skip it, note why.
    builder_.AbortRow();
    if (errors->rows.size() < errors->max_recorded) {
      errors->rows.push_back({index, bad_column_, bad_reason_});
    }
    ++errors->count;
    return Status::OK();
  }
  if (!st.ok()) return st;
  builder_.FinishRow();
  return Status::OK();
}

Status JsonRowsParser::ParseObjectRow(od::document& doc) {
  od::object obj;
  if (auto e = doc.get_object().get(obj)) return BadSyntax(MalformedJsonText(e));
  size_t expected = 0;
  for (auto field_result : obj) {
    // Used in place: copying simdjson's small structs costs store-forwarding stalls here.
    if (auto e = field_result.error()) return BadSyntax(MalformedJsonText(e));
    od::field& field = field_result.value_unsafe();
    // The key in place when it has no escapes (almost always), else unescaped by simdjson.
    const char* raw_key = field.key().raw();
    const char* key_end = raw_key;
    while (*key_end != '"' && *key_end != '\\') ++key_end;
    std::string_view key(raw_key, static_cast<size_t>(key_end - raw_key));
    if (*key_end == '\\') {
      if (auto e = field.unescaped_key().get(key)) return BadSyntax(MalformedJsonText(e));
    }
    int col = Lookup(key, expected);
    if (col < 0) {
      if (options().skip_unknown_fields) continue;
      return BadRow(
          ch::kIncorrectData,
          fmt::format("Unknown field found while parsing JSONEachRow format: {}", key));
    }
    if (builder_.IsSet(col)) {
      return BadRow(
          ch::kIncorrectData,
          fmt::format("Duplicate field found while parsing JSONEachRow format: {}", key));
    }
    Status st = ReadValue(col, field.value());
    if (!st.ok()) return BadValue(col, st);
    expected = col + 1;
  }
  return Status::OK();
}

Status JsonRowsParser::ParseArrayRow(od::document& doc) {
  od::array arr;
  if (auto e = doc.get_array().get(arr)) return BadSyntax(MalformedJsonText(e));
  size_t n = builder_.num_columns();
  size_t col = 0;
  for (auto elem_result : arr) {
    if (auto e = elem_result.error()) return BadSyntax(MalformedJsonText(e));
    od::value& value = elem_result.value_unsafe();
    if (col == n) {
      return BadRow(ch::kIncorrectNumberOfColumns,
                               fmt::format("more than {} values in the row", n));
    }
    Status st = ReadValue(col, value);
    if (!st.ok()) return BadValue(col, st);
    ++col;
  }
  if (col != n) {
    return BadRow(ch::kIncorrectNumberOfColumns,
                             fmt::format("expected {} values, found {}", n, col));
  }
  return Status::OK();
}

Status JsonRowsParser::ReadValue(size_t col, od::value& v) {
  od::json_type type;
  if (auto e = v.type().get(type)) return MalformedJson(e);
  switch (type) {
    case od::json_type::string: {
      // Without escapes the string is used in place (the value is skipped by the next field
      // access); with escapes simdjson unescapes it.
      std::string_view token = TrimRight(v.raw_json_token());
      if (token.size() >= 2 && token.back() == '"' &&
          std::memchr(token.data() + 1, '\\', token.size() - 2) == nullptr) {
        return builder_.WriteString(col, token.substr(1, token.size() - 2));
      }
      std::string_view s;
      if (auto e = v.get_string().get(s)) return MalformedJson(e);
      return builder_.WriteString(col, s);
    }
    case od::json_type::number: {
      if (builder_.is_string_like(col)) {
        // input_format_json_read_numbers_as_strings: the number's text as written.
        return builder_.WriteString(col, TrimRight(v.raw_json_token()));
      }
      od::number n;
      if (v.get_number().get(n) != simdjson::SUCCESS) return ReadBigNumber(col, v);
      switch (n.get_number_type()) {
        case od::number_type::signed_integer:
          return builder_.WriteInt(col, n.get_int64());
        case od::number_type::unsigned_integer:
          return builder_.WriteUInt(col, n.get_uint64());
        default:
          return builder_.WriteDouble(col, n.get_double());
      }
    }
    case od::json_type::boolean: {
      bool b;
      if (auto e = v.get_bool().get(b)) return MalformedJson(e);
      return builder_.WriteBool(col, b);
    }
    case od::json_type::null: {
      bool is_null = false;
      if (auto e = v.is_null().get(is_null)) return MalformedJson(e);
      if (!is_null) return MalformedJson(simdjson::N_ATOM_ERROR);
      builder_.WriteNull(col);
      return Status::OK();
    }
    case od::json_type::object:
    case od::json_type::array: {
      const char* what = type == od::json_type::object ? "object" : "array";
      if (!builder_.is_string_like(col)) {
        return Status::InvalidArgument(fmt::format("a JSON {} cannot be parsed as {}", what,
                                                   builder_.column(col).type->name()),
                                       ch::kCannotParseText);
      }
      // input_format_json_read_objects_as_strings / _arrays_as_strings: the raw JSON text.
      std::string_view raw;
      simdjson::error_code e;
      if (type == od::json_type::object) {
        od::object o;
        e = v.get_object().get(o);
        if (!e) e = o.raw_json().get(raw);
      } else {
        od::array a;
        e = v.get_array().get(a);
        if (!e) e = a.raw_json().get(raw);
      }
      if (e) return MalformedJson(e);
      return builder_.WriteString(col, TrimRight(raw));
    }
  }
  return MalformedJson(simdjson::INCORRECT_TYPE);
}

// Whether `s` follows the JSON number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
// Sets *integer when it has neither fraction nor exponent.
bool IsJsonNumber(std::string_view s, bool* integer) {
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i > start;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (i < s.size() && s[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  *integer = true;
  if (i < s.size() && s[i] == '.') {
    ++i;
    *integer = false;
    if (!digits()) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    *integer = false;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

// A number simdjson rejects: malformed, or beyond 64 bits (e.g. 30 digits). Float columns take
// a big number as a double; every other type reports it out of range.
Status JsonRowsParser::ReadBigNumber(size_t col, od::value& v) {
  std::string_view raw = TrimRight(v.raw_json_token());
  bool integer = false;
  if (!IsJsonNumber(raw, &integer)) return MalformedJson(simdjson::NUMBER_ERROR);
  const ColumnWriter& w = builder_.writer(col);
  if (w.kind == WriterKind::kFloat32 || w.kind == WriterKind::kFloat64) {
    double d = 0;
    auto [ptr, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), d);
    if (ec == std::errc::result_out_of_range) d = raw[0] == '-' ? -HUGE_VAL : HUGE_VAL;
    return builder_.WriteDouble(col, d);
  }
  return Status::InvalidArgument(
      fmt::format("Value {} is out of range for type {}", raw.substr(0, 100), w.type->name()),
      ch::kValueIsOutOfRangeOfDataType);
}

}  // namespace

std::unique_ptr<StreamingParser> NewJsonEachRowParser() {
  return std::make_unique<JsonRowsParser>(/*compact=*/false);
}

std::unique_ptr<StreamingParser> NewJsonCompactEachRowParser() {
  return std::make_unique<JsonRowsParser>(/*compact=*/true);
}

}  // namespace trackhouse::formats
