// Values: `(1, 'a', NULL), (2, 'b\'c', now())`.
//
// A scanner finds each row's matching ')' (aware of quoted strings, escapes and nested
// parentheses), resuming across chunks; the row is then parsed by a small literal parser:
// numbers, quoted strings, NULL, DEFAULT, true/false, and a few constant functions (now(),
// now64(), today(), yesterday(), toDate/toDateTime/toDateTime64/toString/toInt*/toUInt*/
// toFloat*/toBool of constants). Any other expression is reported as not supported.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "formats/format_parsers.h"
#include "formats/text_escapes.h"
#include "types/convert.h"
#include "types/datetime.h"

namespace trackhouse::formats {
namespace {

// Function calls nested deeper than this are not evaluated (bounds the parser's recursion).
constexpr int kMaxCallDepth = 8;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }
bool IsIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string DescribeByte(char c) {
  auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) return fmt::format("'{}'", c);
  return fmt::format("byte 0x{:02x}", u);
}

// A parsed value expression.
struct Expr {
  enum class Kind : uint8_t { kNull, kDefault, kInt, kUInt, kFloat, kBool, kString, kTyped };
  Kind kind = Kind::kNull;
  int64_t i = 0;
  uint64_t u = 0;
  double f = 0;
  bool b = false;
  std::string_view text;  // kString: the string; numbers: the literal as written
  std::string owned;      // kString with escapes: the unescaped string (then text is unused)
  bool use_owned = false;
  types::Value typed;       // kTyped: the physical value of `type`
  types::DataTypePtr type;  // kTyped: the function's result type

  std::string_view str() const { return use_owned ? std::string_view(owned) : text; }
};

using Nanos = __int128;  // DateTime64(0) reaches 2299: past int64 nanoseconds

constexpr Nanos kNanosPerSecond = 1000000000;
constexpr Nanos kNanosPerDay = kNanosPerSecond * 86400;

// Nanoseconds since the epoch of a physical time value (Date, DateTime, DateTime64).
Nanos ToNanos(const types::Value& v, const types::DataType& t) {
  switch (t.id()) {
    case types::TypeId::kDate:
      return static_cast<Nanos>(v.AsUInt()) * kNanosPerDay;
    case types::TypeId::kDateTime:
      return static_cast<Nanos>(v.AsUInt()) * kNanosPerSecond;
    default:
      return static_cast<Nanos>(v.AsInt()) * types::Pow10(9 - t.precision());
  }
}

Nanos FloorDiv(Nanos a, Nanos b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// A value of time type `t` from nanoseconds since the epoch (range-checked by ConvertValue).
types::Value FromNanos(Nanos ns, const types::DataType& t) {
  Nanos unit = t.id() == types::TypeId::kDate       ? kNanosPerDay
               : t.id() == types::TypeId::kDateTime ? kNanosPerSecond
                                                    : types::Pow10(9 - t.precision());
  Nanos v = FloorDiv(ns, unit);
  if (v > INT64_MAX || v < INT64_MIN) return types::Value::Float(static_cast<double>(v));
  return types::Value::Int(static_cast<int64_t>(v));
}

class ValuesParser final : public StreamingParser {
 public:
  ValuesParser() : StreamingParser("Values", /*skip_bom=*/true) {}

 protected:
  Result<size_t> Parse(const char* data, size_t size, bool eof) override;

 private:
  // Advances *pos through the current row; true when its closing ')' was consumed.
  bool ScanRow(const char* data, size_t size, size_t* pos);
  Status ParseRow(std::string_view row);
  // Parses one value expression at row[*i...]; `depth` counts enclosing function calls.
  Result<Expr> ParseExpr(std::string_view row, size_t* i, size_t col, int depth = 0);
  Result<Expr> ParseNumber(std::string_view row, size_t* i, size_t col);
  Result<Expr> ParseQuoted(std::string_view row, size_t* i);
  Result<Expr> CallFunction(std::string_view name, std::vector<Expr>& args, size_t col,
                            std::string_view call_text);
  // The physical value of `t` (not Nullable) that `e` converts to; NULL stays NULL.
  Result<types::Value> EvalAs(const Expr& e, const types::DataType& t);
  Status Write(size_t col, const Expr& e);
  Status Unsupported(size_t col, std::string_view text) const;
  Status Syntax(std::string_view message) const {
    return builder_.RowError(ch::kCannotParseInputAssertionFailed, message);
  }
  Nanos NowNanos();

  // Scan state, positions relative to the unconsumed input.
  bool in_row_ = false;
  bool in_quote_ = false;
  bool escape_ = false;
  bool comma_allowed_ = false;  // right after a row
  bool ended_ = false;          // after the final ';'
  uint32_t depth_ = 0;
  size_t row_start_ = 0;
  size_t scan_pos_ = 0;
  std::optional<Nanos> now_nanos_;  // now() is evaluated once per insert, as in ClickHouse
};

bool ValuesParser::ScanRow(const char* data, size_t size, size_t* pos) {
  const char* p = data + *pos;
  const char* end = data + size;
  for (; p < end; ++p) {
    char c = *p;
    if (in_quote_) {
      if (escape_) {
        escape_ = false;
      } else if (c == '\\') {
        escape_ = true;
      } else if (c == '\'') {
        in_quote_ = false;
      }
      continue;
    }
    if (c == '\'') {
      in_quote_ = true;
    } else if (c == '(') {
      ++depth_;
    } else if (c == ')') {
      if (--depth_ == 0) {
        *pos = static_cast<size_t>(p + 1 - data);
        return true;
      }
    }
  }
  *pos = size;
  return false;
}

Result<size_t> ValuesParser::Parse(const char* data, size_t size, bool eof) {
  size_t pos = scan_pos_;
  while (true) {
    if (!in_row_) {
      while (pos < size && IsSpace(data[pos])) ++pos;
      if (pos == size) break;
      char c = data[pos];
      if (ended_) return Syntax(fmt::format("unexpected {} after the final ';'", DescribeByte(c)));
      if (c == ',' && comma_allowed_) {
        comma_allowed_ = false;
        ++pos;
        continue;
      }
      if (c == ';') {
        ended_ = true;
        ++pos;
        continue;
      }
      if (c != '(') {
        return Syntax(fmt::format("expected '(' at the start of a row, found {}", DescribeByte(c)));
      }
      in_row_ = true;
      in_quote_ = false;
      escape_ = false;
      depth_ = 1;
      row_start_ = pos;
      ++pos;
    }
    if (!ScanRow(data, size, &pos)) break;
    size_t len = pos - row_start_;
    if (len > options().max_row_bytes) return RowTooLarge();
    TH_RETURN_IF_ERROR(ParseRow(std::string_view(data + row_start_ + 1, len - 2)));
    in_row_ = false;
    comma_allowed_ = true;
  }
  if (eof && in_row_) {
    return Syntax(in_quote_ ? "unexpected end of input inside a quoted string"
                            : "unexpected end of input inside a row: missing ')'");
  }
  size_t consumed = in_row_ ? row_start_ : pos;
  if (in_row_) row_start_ -= consumed;
  scan_pos_ = pos - consumed;
  return consumed;
}

Status ValuesParser::ParseRow(std::string_view row) {
  builder_.BeginRow();
  size_t n = builder_.num_columns();
  size_t i = 0;
  size_t col = 0;
  while (i < row.size() && IsSpace(row[i])) ++i;
  while (i < row.size()) {
    if (col == n) {
      return builder_.RowError(ch::kIncorrectNumberOfColumns,
                               fmt::format("more than {} values in the row", n));
    }
    size_t value_start = i;
    Result<Expr> e = ParseExpr(row, &i, col);
    if (!e.ok()) return e.status();
    while (i < row.size() && IsSpace(row[i])) ++i;
    if (i < row.size() && row[i] != ',') return Unsupported(col, row.substr(value_start));
    TH_RETURN_IF_ERROR(Write(col, *e));
    ++col;
    if (i < row.size()) {
      ++i;  // ','
      while (i < row.size() && IsSpace(row[i])) ++i;
      if (i == row.size()) return Syntax("expected a value after ','");
    }
  }
  if (col != n) {
    return builder_.RowError(ch::kIncorrectNumberOfColumns,
                             fmt::format("expected {} values, found {}", n, col));
  }
  builder_.FinishRow();
  return Status::OK();
}

Status ValuesParser::Unsupported(size_t col, std::string_view text) const {
  size_t end = text.find(',');
  std::string_view snippet = text.substr(0, std::min<size_t>(end, 60));
  return Status::NotSupported(
      fmt::format("Values: expressions are not supported at row {}, column '{}': {}",
                  builder_.current_row_number(), builder_.column(col).name, snippet),
      ch::kNotImplemented);
}

Result<Expr> ValuesParser::ParseExpr(std::string_view row, size_t* i, size_t col, int depth) {
  if (*i >= row.size()) return Syntax("expected a value");
  if (depth > kMaxCallDepth) return Unsupported(col, row.substr(*i));
  char c = row[*i];
  if (c == '\'') return ParseQuoted(row, i);
  if (std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '+' || c == '.') {
    return ParseNumber(row, i, col);
  }
  if (!IsIdentStart(c)) return Unsupported(col, row.substr(*i));
  size_t start = *i;
  while (*i < row.size() && IsIdentChar(row[*i])) ++*i;
  std::string_view name = row.substr(start, *i - start);
  size_t j = *i;
  while (j < row.size() && IsSpace(row[j])) ++j;
  if (j < row.size() && row[j] == '(') {
    // A function call with constant arguments.
    *i = j + 1;
    std::vector<Expr> args;
    while (*i < row.size() && IsSpace(row[*i])) ++*i;
    if (*i < row.size() && row[*i] == ')') {
      ++*i;
    } else {
      while (true) {
        while (*i < row.size() && IsSpace(row[*i])) ++*i;
        Result<Expr> arg = ParseExpr(row, i, col, depth + 1);
        if (!arg.ok()) return arg.status();
        args.push_back(std::move(arg).value());
        while (*i < row.size() && IsSpace(row[*i])) ++*i;
        if (*i < row.size() && row[*i] == ',') {
          ++*i;
          continue;
        }
        if (*i < row.size() && row[*i] == ')') {
          ++*i;
          break;
        }
        return Unsupported(col, row.substr(start));
      }
    }
    return CallFunction(name, args, col, row.substr(start, *i - start));
  }
  Expr e;
  if (EqualsNoCase(name, "NULL")) {
    e.kind = Expr::Kind::kNull;
  } else if (EqualsNoCase(name, "DEFAULT")) {
    e.kind = Expr::Kind::kDefault;
  } else if (EqualsNoCase(name, "true") || EqualsNoCase(name, "false")) {
    e.kind = Expr::Kind::kBool;
    e.b = EqualsNoCase(name, "true");
    e.text = e.b ? "true" : "false";
  } else if (EqualsNoCase(name, "inf") || EqualsNoCase(name, "nan")) {
    e.kind = Expr::Kind::kFloat;
    e.f = EqualsNoCase(name, "inf") ? HUGE_VAL : NAN;
    e.text = name;
  } else {
    return Unsupported(col, row.substr(start));
  }
  return e;
}

Result<Expr> ValuesParser::ParseNumber(std::string_view row, size_t* i, size_t col) {
  size_t start = *i;
  size_t p = *i;
  bool negative = false;
  if (row[p] == '-' || row[p] == '+') negative = row[p++] == '-';
  size_t digits_start = p;
  bool hex = row.size() - p > 2 && row[p] == '0' && (row[p + 1] == 'x' || row[p + 1] == 'X');
  while (p < row.size()) {
    char c = row[p];
    bool exponent_sign = !hex && (c == '+' || c == '-') && (row[p - 1] == 'e' || row[p - 1] == 'E');
    if (!IsIdentChar(c) && c != '.' && !exponent_sign) break;
    ++p;
  }
  *i = p;
  std::string_view digits = row.substr(digits_start, p - digits_start);
  Expr e;
  e.text = row.substr(start, p - start);
  if (digits.empty()) return Unsupported(col, row.substr(start));
  bool numeric_start = std::isdigit(static_cast<unsigned char>(digits[0])) || digits[0] == '.';
  if (EqualsNoCase(digits, "inf") || EqualsNoCase(digits, "nan")) {
    e.kind = Expr::Kind::kFloat;
    e.f = EqualsNoCase(digits, "inf") ? HUGE_VAL : NAN;
    if (negative) e.f = -e.f;
    return e;
  }
  if (!numeric_start) return Unsupported(col, row.substr(start));
  uint64_t u = 0;
  const char* first = digits.data();
  const char* last = digits.data() + digits.size();
  int base = 10;
  if (hex) {
    first += 2;
    base = 16;
  } else if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'b' || digits[1] == 'B')) {
    first += 2;
    base = 2;
  }
  auto [ptr, ec] = std::from_chars(first, last, u, base);
  if (ec == std::errc() && ptr == last && first != last) {
    if (!negative) {
      e.kind = Expr::Kind::kUInt;
      e.u = u;
      return e;
    }
    if (u <= static_cast<uint64_t>(INT64_MAX) + 1) {
      e.kind = Expr::Kind::kInt;
      e.i = static_cast<int64_t>(0 - u);
      return e;
    }
  }
  if (base == 10) {
    double d = 0;
    auto [fptr, fec] = std::from_chars(digits.data(), last, d);
    if ((fec == std::errc() || fec == std::errc::result_out_of_range) && fptr == last) {
      if (fec == std::errc::result_out_of_range && std::fabs(d) > 1) d = HUGE_VAL;
      e.kind = Expr::Kind::kFloat;
      e.f = negative ? -d : d;
      return e;
    }
  }
  return builder_.ColumnError(
      col, Status::InvalidArgument(fmt::format("Cannot parse number '{}'", e.text.substr(0, 60)),
                                   ch::kCannotParseNumber));
}

Result<Expr> ValuesParser::ParseQuoted(std::string_view row, size_t* i) {
  size_t p = *i + 1;
  size_t start = p;
  Expr e;
  e.kind = Expr::Kind::kString;
  // Fast path: no escapes and no doubled quotes.
  while (p < row.size() && row[p] != '\'' && row[p] != '\\') ++p;
  if (p < row.size() && row[p] == '\'' && (p + 1 == row.size() || row[p + 1] != '\'')) {
    e.text = row.substr(start, p - start);
    *i = p + 1;
    return e;
  }
  e.owned.assign(row.data() + start, p - start);
  while (p < row.size()) {
    char c = row[p];
    if (c == '\\') {
      size_t used = DecodeEscape(row.substr(p + 1), &e.owned);
      if (used == 0) {
        return builder_.RowError(ch::kCannotParseEscapeSequence,
                                 "bad escape sequence in a quoted string");
      }
      p += 1 + used;
    } else if (c == '\'') {
      if (p + 1 < row.size() && row[p + 1] == '\'') {
        e.owned.push_back('\'');
        p += 2;
      } else {
        e.use_owned = true;
        *i = p + 1;
        return e;
      }
    } else {
      e.owned.push_back(c);
      ++p;
    }
  }
  return Syntax("unterminated quoted string");
}

Nanos ValuesParser::NowNanos() {
  if (!now_nanos_) {
    const Clock* clock = options().clock != nullptr ? options().clock : Clock::Real();
    now_nanos_ = static_cast<Nanos>(clock->NowMicros()) * 1000;
  }
  return *now_nanos_;
}

Result<Expr> ValuesParser::CallFunction(std::string_view name, std::vector<Expr>& args, size_t col,
                                        std::string_view call_text) {
  using types::DataType;
  using types::TypeId;
  Expr e;
  e.kind = Expr::Kind::kTyped;
  auto bad_args = [&] {
    return builder_.ColumnError(
        col, Status::InvalidArgument(
                 fmt::format("Wrong number or kind of arguments in {}", call_text.substr(0, 60)),
                 ch::kNumberOfArgumentsDoesntMatch));
  };
  // Current time functions.
  if (EqualsNoCase(name, "now") || EqualsNoCase(name, "today") || EqualsNoCase(name, "yesterday")) {
    if (!args.empty()) return bad_args();
    Nanos ns = NowNanos();
    if (EqualsNoCase(name, "now")) {
      e.type = DataType::Get(TypeId::kDateTime);
    } else {
      e.type = DataType::Get(TypeId::kDate);
      if (EqualsNoCase(name, "yesterday")) ns -= kNanosPerDay;
    }
    e.typed = FromNanos(ns, *e.type);
    return e;
  }
  if (name == "now64") {
    uint32_t p = 3;
    if (args.size() > 1) return bad_args();
    if (args.size() == 1) {
      if (args[0].kind != Expr::Kind::kUInt || args[0].u > 9) return bad_args();
      p = static_cast<uint32_t>(args[0].u);
    }
    e.type = DataType::DateTime64(p);
    e.typed = FromNanos(NowNanos(), *e.type);
    return e;
  }
  // Conversions of one constant.
  static const struct {
    const char* name;
    TypeId id;
  } kCasts[] = {
      {"toInt8", TypeId::kInt8},         {"toInt16", TypeId::kInt16},
      {"toInt32", TypeId::kInt32},       {"toInt64", TypeId::kInt64},
      {"toUInt8", TypeId::kUInt8},       {"toUInt16", TypeId::kUInt16},
      {"toUInt32", TypeId::kUInt32},     {"toUInt64", TypeId::kUInt64},
      {"toFloat32", TypeId::kFloat32},   {"toFloat64", TypeId::kFloat64},
      {"toBool", TypeId::kBool},         {"toDate", TypeId::kDate},
      {"toDateTime", TypeId::kDateTime}, {"toString", TypeId::kString},
  };
  for (const auto& cast : kCasts) {
    if (name != cast.name) continue;
    if (args.size() != 1) return bad_args();
    e.type = DataType::Get(cast.id);
  }
  if (name == "toDateTime64") {
    if (args.size() != 2 || args[1].kind != Expr::Kind::kUInt || args[1].u > 9) return bad_args();
    e.type = DataType::DateTime64(static_cast<uint32_t>(args[1].u));
  }
  if (e.type == nullptr) return Unsupported(col, call_text);
  Result<types::Value> v = EvalAs(args[0], *e.type);
  if (!v.ok()) return builder_.ColumnError(col, v.status());
  e.typed = std::move(v).value();
  return e;
}

Result<types::Value> ValuesParser::EvalAs(const Expr& e, const types::DataType& t) {
  using types::Value;
  switch (e.kind) {
    case Expr::Kind::kNull:
    case Expr::Kind::kDefault:
      return Value();
    case Expr::Kind::kTyped: {
      if (e.typed.is_null()) return Value();
      if (e.type->is_time() && t.is_time()) {
        return types::ConvertValue(FromNanos(ToNanos(e.typed, *e.type), t), t);
      }
      if (t.is_string_like() || (e.type->is_time() && !t.is_numeric())) {
        return types::ConvertValue(Value::String(types::FormatValueText(e.typed, *e.type)), t);
      }
      return types::ConvertValue(e.typed, t);
    }
    case Expr::Kind::kString:
      return types::ConvertValue(Value::String(std::string(e.str())), t);
    case Expr::Kind::kInt:
      return types::ConvertValue(Value::Int(e.i), t);
    case Expr::Kind::kUInt:
      return types::ConvertValue(Value::UInt(e.u), t);
    case Expr::Kind::kFloat:
      return types::ConvertValue(Value::Float(e.f), t);
    case Expr::Kind::kBool:
      if (t.is_string_like()) return Value::String(e.b ? "true" : "false");
      return types::ConvertValue(Value::UInt(e.b ? 1 : 0), t);
  }
  return Value();
}

Status ValuesParser::Write(size_t col, const Expr& e) {
  Status st;
  switch (e.kind) {
    case Expr::Kind::kNull:
      builder_.WriteNull(col);
      return Status::OK();
    case Expr::Kind::kDefault:
      builder_.WriteDefault(col);
      return Status::OK();
    case Expr::Kind::kString:
      st = builder_.WriteString(col, e.str());
      break;
    case Expr::Kind::kBool:
      st = builder_.WriteBool(col, e.b);
      break;
    case Expr::Kind::kInt:
    case Expr::Kind::kUInt:
    case Expr::Kind::kFloat:
      if (builder_.is_string_like(col)) {
        st = builder_.WriteString(col, e.text);
      } else if (e.kind == Expr::Kind::kInt) {
        st = builder_.WriteInt(col, e.i);
      } else if (e.kind == Expr::Kind::kUInt) {
        st = builder_.WriteUInt(col, e.u);
      } else {
        st = builder_.WriteDouble(col, e.f);
      }
      break;
    case Expr::Kind::kTyped: {
      Result<types::Value> v = EvalAs(e, *builder_.writer(col).type);
      st = v.ok() ? builder_.WriteValue(col, *v) : v.status();
      break;
    }
  }
  if (!st.ok()) return builder_.ColumnError(col, st);
  return Status::OK();
}

}  // namespace

std::unique_ptr<StreamingParser> NewValuesParser() { return std::make_unique<ValuesParser>(); }

}  // namespace trackhouse::formats
