#include "clickhouse/params.h"

#include <fmt/format.h>

#include <strings.h>

#include <charconv>
#include <cstring>
#include <cstdint>
#include <limits>
#include <map>
#include <vector>

#include "common/error_codes.h"
#include "clickhouse/schema.h"
#include "formats/text_escapes.h"
#include "sql/lexer.h"
#include "sql/parser.h"

namespace trackhouse::clickhouse {
namespace {

using sql::Lexer;
using sql::Token;
using sql::TokenKind;

// A data type split into its name and top-level arguments: "Array(Nullable(String))" ->
// {"Array", {"Nullable(String)"}}, "DateTime64(3, 'UTC')" -> {"DateTime64", {"3", "'UTC'"}}.
struct TypeText {
  std::string name;
  std::vector<std::string> args;
  std::string full;
};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' ||
                        s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

TypeText SplitType(std::string_view type) {
  TypeText t;
  type = Trim(type);
  t.full = std::string(type);
  size_t open = type.find('(');
  if (open == std::string_view::npos || type.back() != ')') {
    t.name = std::string(type);
    return t;
  }
  t.name = std::string(Trim(type.substr(0, open)));
  // Type arguments split as engine arguments are; a quoted one ('UTC') comes back unquoted.
  t.args = EngineArguments(type);
  return t;
}

// `s` equals `word` (lower case) ignoring ASCII case.
bool IsWord(std::string_view s, const char* word) {
  return s.size() == std::strlen(word) && strncasecmp(s.data(), word, s.size()) == 0;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsDigit(c)) return false;
  }
  return true;
}

// One parameter being bound: its name and declared type, for messages.
class Binder {
 public:
  Binder(std::string_view name, std::string_view type) : name_(name), type_(type) {}

  // The literal of a whole parameter value, as sent.
  Result<std::string> Top(const TypeText& type, std::string_view raw) {
    if (type.name == "LowCardinality" && type.args.size() == 1) {
      return Top(SplitType(type.args[0]), raw);
    }
    if (type.name == "Nullable" && type.args.size() == 1) {
      if (raw == "\\N") return std::string("NULL");
      return Top(SplitType(type.args[0]), raw);
    }
    if (type.name == "Array" && type.args.size() == 1) {
      Lexer lexer(raw);
      Token open = lexer.Next();
      if (!open.Is(TokenKind::kOpenBracket)) return Bad(raw, "an array starts with '['");
      TH_ASSIGN_OR_RETURN(std::string out, Array(SplitType(type.args[0]), &lexer, raw));
      if (!lexer.Next().Is(TokenKind::kEnd)) return Bad(raw, "text follows the array's ']'");
      return out;
    }
    if (type.name == "Tuple" && !type.args.empty()) {
      Lexer lexer(raw);
      Token open = lexer.Next();
      if (!open.Is(TokenKind::kOpenParen)) return Bad(raw, "a tuple starts with '('");
      TH_ASSIGN_OR_RETURN(std::string out, Tuple(type, &lexer, raw));
      if (!lexer.Next().Is(TokenKind::kEnd)) return Bad(raw, "text follows the tuple's ')'");
      return out;
    }
    return Scalar(type, formats::DecodeEscapedText(raw), raw);
  }

 private:
  Status Bad(std::string_view raw, std::string_view why) const {
    std::string shown(raw.substr(0, 100));
    if (raw.size() > 100) shown += "...";
    return Status::InvalidArgument(
        fmt::format("Value {} cannot be parsed as {} for query parameter '{}': {}", shown, type_,
                    name_, why),
        ch::kBadQueryParameter);
  }

  // One element in quoted form (of an array or a tuple), starting at token `t`.
  Result<std::string> Element(const TypeText& type, Token t, Lexer* lexer, std::string_view raw) {
    TypeText inner = type;
    while (inner.name == "LowCardinality" && inner.args.size() == 1) {
      inner = SplitType(inner.args[0]);
    }
    bool nullable = inner.name == "Nullable" && inner.args.size() == 1;
    TypeText value_type = nullable ? SplitType(inner.args[0]) : inner;
    while (value_type.name == "LowCardinality" && value_type.args.size() == 1) {
      value_type = SplitType(value_type.args[0]);
    }
    if (value_type.name == "Array" && value_type.args.size() == 1 &&
        t.Is(TokenKind::kOpenBracket)) {
      return Array(SplitType(value_type.args[0]), lexer, raw);
    }
    if (value_type.name == "Tuple" && !value_type.args.empty() && t.Is(TokenKind::kOpenParen)) {
      return Tuple(value_type, lexer, raw);
    }
    if (t.Is(TokenKind::kString)) return Scalar(value_type, sql::DecodeQuoted(t.text), raw);
    if (t.Is(TokenKind::kBareWord) && IsWord(t.text, "null")) {
      if (!nullable) return Bad(raw, "NULL for a type that is not Nullable");
      return std::string("NULL");
    }
    if (t.Is(TokenKind::kMinus) || t.Is(TokenKind::kPlus)) {
      Token number = lexer->Next();
      if (!number.Is(TokenKind::kNumber) && !number.Is(TokenKind::kBareWord)) {
        return Bad(raw, "a sign without a number");
      }
      return Scalar(value_type,
                    std::string(t.Is(TokenKind::kMinus) ? "-" : "") + std::string(number.text),
                    raw);
    }
    if (t.Is(TokenKind::kNumber) || t.Is(TokenKind::kBareWord)) {
      return Scalar(value_type, std::string(t.text), raw);
    }
    if (t.Is(TokenKind::kError)) return Bad(raw, t.error);
    return Bad(raw, fmt::format("unexpected {}", sql::TokenKindName(t.kind)));
  }

  // An array's elements in quoted form, after its '['; consumes the closing ']'.
  Result<std::string> Array(const TypeText& element, Lexer* lexer, std::string_view raw) {
    Token t = lexer->Next();
    if (t.Is(TokenKind::kCloseBracket)) {
      return fmt::format("CAST([] AS Array({}))", element.full);
    }
    std::string out = "[";
    while (true) {
      TH_ASSIGN_OR_RETURN(std::string item, Element(element, t, lexer, raw));
      out += item;
      Token sep = lexer->Next();
      if (sep.Is(TokenKind::kCloseBracket)) break;
      if (!sep.Is(TokenKind::kComma)) return Bad(raw, "array elements are separated by ','");
      out += ", ";
      t = lexer->Next();
    }
    return out + "]";
  }

  // A tuple's elements in quoted form, one per element type, after its '('; consumes the ')'.
  // A named element type ("a UInt8") is its type after the name.
  Result<std::string> Tuple(const TypeText& tuple, Lexer* lexer, std::string_view raw) {
    std::string out = "tuple(";
    for (size_t i = 0; i < tuple.args.size(); ++i) {
      std::string_view arg = tuple.args[i];
      if (size_t space = arg.find(' ');
          space != std::string_view::npos && arg.find('(') > space) {
        arg = Trim(arg.substr(space + 1));
      }
      TH_ASSIGN_OR_RETURN(std::string item, Element(SplitType(arg), lexer->Next(), lexer, raw));
      out += (i > 0 ? ", " : "") + item;
      Token sep = lexer->Next();
      bool last = i + 1 == tuple.args.size();
      if (last ? !sep.Is(TokenKind::kCloseParen) : !sep.Is(TokenKind::kComma)) {
        return Bad(raw, fmt::format("the tuple has {} elements", tuple.args.size()));
      }
    }
    return out + ")";
  }

  // The literal of a scalar value of `type`; `v` is the decoded text, `raw` what was sent.
  Result<std::string> Scalar(const TypeText& type, const std::string& v, std::string_view raw) {
    const std::string& n = type.name;
    if ((n == "LowCardinality" || n == "Nullable") && type.args.size() == 1) {
      return Scalar(SplitType(type.args[0]), v, raw);
    }
    if (n == "String") return QuoteString(v);
    if (n == "FixedString") {
      uint64_t size = 0;
      if (type.args.size() != 1 ||
          std::from_chars(type.args[0].data(), type.args[0].data() + type.args[0].size(), size)
                  .ec != std::errc()) {
        return Bad(raw, "FixedString needs its size");
      }
      if (v.size() > size) {
        return Bad(raw, fmt::format("{} bytes do not fit in FixedString({})", v.size(), size));
      }
      return fmt::format("toFixedString({}, {})", QuoteString(v), size);
    }
    if (n == "Int8" || n == "Int16" || n == "Int32" || n == "Int64" || n == "Int128" ||
        n == "Int256" || n == "UInt8" || n == "UInt16" || n == "UInt32" || n == "UInt64" ||
        n == "UInt128" || n == "UInt256") {
      return Integer(n, v, raw);
    }
    if (n == "Float32" || n == "Float64") return Float(v, raw);
    if (n == "Bool" || n == "Boolean") {
      if (v == "1" || IsWord(v, "true")) return std::string("1");
      if (v == "0" || IsWord(v, "false")) return std::string("0");
      return Bad(raw, "a Bool is true, false, 1 or 0");
    }
    if (n == "Date" || n == "Date32") {
      if (!IsDate(v)) return Bad(raw, "a date is written YYYY-MM-DD");
      return fmt::format("toDate({})", QuoteString(v));
    }
    if (n == "DateTime") {
      std::string tz = type.args.empty() ? "" : ", " + QuoteString(type.args[0]);
      if (AllDigits(v) && v.size() <= 10) return fmt::format("toDateTime({}{})", v, tz);
      if (!IsDateTime(v, false)) {
        return Bad(raw, "a DateTime is written YYYY-MM-DD hh:mm:ss (or as Unix seconds)");
      }
      return fmt::format("toDateTime({}{})", QuoteString(v), tz);
    }
    if (n == "DateTime64") {
      if (type.args.empty() || !AllDigits(type.args[0])) return Bad(raw, "no precision");
      std::string rest = type.args[0];
      if (type.args.size() > 1) rest += ", " + QuoteString(type.args[1]);
      if (!IsDateTime(v, true) && !IsUnixWithFraction(v)) {
        return Bad(raw, "a DateTime64 is written YYYY-MM-DD hh:mm:ss[.fraction]");
      }
      return fmt::format("toDateTime64({}, {})", QuoteString(v), rest);
    }
    if (n == "UUID") {
      if (!IsUuid(v)) return Bad(raw, "a UUID is 32 hex digits as 8-4-4-4-12");
      return fmt::format("toUUID({})", QuoteString(v));
    }
    if (n == "Enum8" || n == "Enum16" || n == "Enum") return QuoteString(v);
    if (n == "Identifier") return Identifier(v, raw);
    return fmt::format("CAST({} AS {})", QuoteString(v), type.full);
  }

  Result<std::string> Integer(const std::string& type, const std::string& v,
                              std::string_view raw) {
    bool is_signed = type[0] == 'I';
    std::string_view digits = v;
    bool negative = false;
    if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) {
      negative = digits[0] == '-';
      digits.remove_prefix(1);
    }
    if (!AllDigits(digits)) return Bad(raw, "not an integer");
    if (negative && !is_signed) return Bad(raw, "a negative value for an unsigned type");
    int bits = std::stoi(type.substr(is_signed ? 3 : 4));
    while (digits.size() > 1 && digits[0] == '0') digits.remove_prefix(1);
    if (bits > 64) {
      // Decimal digits that fit the width: 2^128 has 39, 2^256 has 78.
      size_t max_digits = bits == 128 ? 39 : 78;
      if (digits.size() > max_digits) return Bad(raw, "out of range");
      std::string text(digits);
      return negative && text != "0" ? "(-" + text + ")" : text;
    }
    uint64_t magnitude = 0;
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude);
    if (ec != std::errc() || p != digits.data() + digits.size()) return Bad(raw, "out of range");
    uint64_t max = is_signed ? (uint64_t{1} << (bits - 1)) - 1
                             : (bits == 64 ? std::numeric_limits<uint64_t>::max()
                                           : (uint64_t{1} << bits) - 1);
    if (magnitude > max + (negative ? 1 : 0)) return Bad(raw, "out of range for " + type);
    if (negative && magnitude != 0) return fmt::format("(-{})", magnitude);
    return fmt::format("{}", magnitude);
  }

  Result<std::string> Float(const std::string& v, std::string_view raw) {
    std::string_view s = v;
    bool negative = false;
    if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
      negative = s[0] == '-';
      s.remove_prefix(1);
    }
    std::string body;
    if (IsWord(s, "inf") || IsWord(s, "infinity")) {
      body = "inf";
    } else if (IsWord(s, "nan")) {
      body = "nan";
    } else {
      // digits[.digits][e[+-]digits] or .digits[...]
      size_t i = 0, int_digits = 0, frac_digits = 0;
      while (i < s.size() && IsDigit(s[i])) ++i, ++int_digits;
      if (i < s.size() && s[i] == '.') {
        ++i;
        while (i < s.size() && IsDigit(s[i])) ++i, ++frac_digits;
      }
      if (int_digits + frac_digits == 0) return Bad(raw, "not a number");
      if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
        size_t exp_digits = 0;
        while (i < s.size() && IsDigit(s[i])) ++i, ++exp_digits;
        if (exp_digits == 0) return Bad(raw, "an exponent without digits");
      }
      if (i != s.size()) return Bad(raw, "not a number");
      body = std::string(s);
      if (body[0] == '.') body = "0" + body;
      if (body.back() == '.') body += "0";
    }
    return negative ? "(-" + body + ")" : body;
  }

  Result<std::string> Identifier(const std::string& v, std::string_view raw) {
    if (v.empty()) return Bad(raw, "an empty identifier");
    // `db.table` (bare or back-quoted parts) names a qualified object; anything else is one name.
    Lexer lexer(v);
    std::vector<std::string> parts;
    bool dotted = true;
    while (true) {
      Token t = lexer.Next();
      if (t.Is(TokenKind::kBareWord)) {
        parts.emplace_back(t.text);
      } else if (t.Is(TokenKind::kQuotedIdentifier)) {
        parts.push_back(sql::DecodeQuoted(t.text));
      } else {
        dotted = false;
        break;
      }
      Token sep = lexer.Next();
      if (sep.Is(TokenKind::kEnd) && sep.begin == v.size()) break;
      if (!sep.Is(TokenKind::kDot)) {
        dotted = false;
        break;
      }
    }
    // The parts must cover the whole value exactly (no spaces or comments in between).
    if (dotted) {
      std::string rebuilt;
      for (size_t i = 0; i < parts.size(); ++i) rebuilt += (i ? "." : "") + parts[i];
      if (rebuilt != v && v.find('`') == std::string::npos && v.find('"') == std::string::npos) {
        dotted = false;
      }
    }
    if (!dotted) return QuoteIdentifier(v);
    std::string out;
    for (size_t i = 0; i < parts.size(); ++i) {
      if (i > 0) out += ".";
      out += QuoteIdentifier(parts[i]);
    }
    return out;
  }

  static bool TwoDigits(std::string_view s, size_t at, int lo, int hi) {
    if (at + 2 > s.size() || !IsDigit(s[at]) || !IsDigit(s[at + 1])) return false;
    int v = (s[at] - '0') * 10 + (s[at + 1] - '0');
    return v >= lo && v <= hi;
  }

  static bool IsDate(std::string_view s) {
    if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
    if (!AllDigits(s.substr(0, 4)) || !TwoDigits(s, 5, 1, 12)) return false;
    int year = std::stoi(std::string(s.substr(0, 4)));
    int month = (s[5] - '0') * 10 + (s[6] - '0');
    static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int max_day = kDays[month - 1];
    if (month == 2 && !(year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))) max_day = 28;
    return TwoDigits(s, 8, 1, max_day);
  }

  static bool IsDateTime(std::string_view s, bool fraction) {
    if (s.size() < 19 || !IsDate(s.substr(0, 10)) || (s[10] != ' ' && s[10] != 'T')) {
      return false;
    }
    if (s[13] != ':' || s[16] != ':' || !TwoDigits(s, 11, 0, 23) || !TwoDigits(s, 14, 0, 59) ||
        !TwoDigits(s, 17, 0, 59)) {
      return false;
    }
    if (s.size() == 19) return true;
    return fraction && s[19] == '.' && s.size() <= 29 && AllDigits(s.substr(20));
  }

  static bool IsUnixWithFraction(std::string_view s) {
    size_t dot = s.find('.');
    if (dot == std::string_view::npos) return AllDigits(s) && s.size() <= 10;
    return AllDigits(s.substr(0, dot)) && dot <= 10 && AllDigits(s.substr(dot + 1));
  }

  static bool IsUuid(std::string_view s) {
    if (s.size() != 36) return false;
    for (size_t i = 0; i < s.size(); ++i) {
      char c = s[i];
      if (i == 8 || i == 13 || i == 18 || i == 23) {
        if (c != '-') return false;
      } else if (!IsDigit(c) && !(c >= 'a' && c <= 'f') && !(c >= 'A' && c <= 'F')) {
        return false;
      }
    }
    return true;
  }

  std::string_view name_;
  std::string_view type_;
};

// One {name:Type} placeholder found in the text.
struct Placeholder {
  size_t begin = 0;  // offset of '{'
  size_t end = 0;    // one past '}'
  std::string name;
  std::string type;  // as written between ':' and '}'
};

// The placeholders of `sql`, in order. Scanning stops at a lexer error (the server will report
// the malformed text itself).
std::vector<Placeholder> FindPlaceholders(std::string_view sql) {
  std::vector<Token> tokens;
  Lexer lexer(sql);
  while (true) {
    Token t = lexer.Next();
    if (t.Is(TokenKind::kEnd) || t.Is(TokenKind::kError)) break;
    tokens.push_back(t);
  }
  std::vector<Placeholder> out;
  for (size_t i = 0; i + 3 < tokens.size(); ++i) {
    if (!tokens[i].Is(TokenKind::kOpenBrace)) continue;
    const Token& name = tokens[i + 1];
    if (!(name.Is(TokenKind::kBareWord) || name.Is(TokenKind::kQuotedIdentifier)) ||
        !tokens[i + 2].Is(TokenKind::kColon)) {
      continue;
    }
    size_t j = i + 3;
    int depth = 0;
    while (j < tokens.size()) {
      const Token& t = tokens[j];
      if (t.Is(TokenKind::kOpenParen)) ++depth;
      if (t.Is(TokenKind::kCloseParen)) --depth;
      if (t.Is(TokenKind::kOpenBrace) || t.Is(TokenKind::kSemicolon) || depth < 0) break;
      if (t.Is(TokenKind::kCloseBrace) && depth == 0) break;
      ++j;
    }
    if (j >= tokens.size() || !tokens[j].Is(TokenKind::kCloseBrace) || j == i + 3) continue;
    Placeholder p;
    p.begin = tokens[i].begin;
    p.end = tokens[j].end;
    p.name = name.Is(TokenKind::kQuotedIdentifier) ? sql::DecodeQuoted(name.text)
                                                   : std::string(name.text);
    p.type = std::string(sql.substr(tokens[i + 3].begin, tokens[j - 1].end - tokens[i + 3].begin));
    out.push_back(std::move(p));
    i = j;
  }
  return out;
}

}  // namespace

Result<std::string> ParameterLiteral(std::string_view name, std::string_view type,
                                     std::string_view value) {
  std::string normalized(Trim(type));
  if (normalized != "Identifier") {
    auto parsed = sql::ParseTypeText(normalized);
    if (!parsed.ok()) {
      return Status::InvalidArgument(
          fmt::format("Cannot parse the type {} of query parameter '{}': {}", type, name,
                      parsed.status().message()),
          ch::kBadQueryParameter);
    }
    normalized = std::move(parsed).value();
  }
  Binder binder(name, normalized);
  return binder.Top(SplitType(normalized), value);
}

Result<std::string> BindParameters(std::string_view sql, const Settings& params) {
  std::vector<Placeholder> found = FindPlaceholders(sql);
  if (found.empty()) return std::string(sql);
  std::map<std::string, std::string_view, std::less<>> values;
  for (const auto& [name, value] : params) values[name] = value;
  std::string out;
  out.reserve(sql.size() + 32 * found.size());
  size_t copied = 0;
  for (const Placeholder& p : found) {
    auto it = values.find(p.name);
    if (it == values.end()) {
      return Status::InvalidArgument(
          fmt::format("Substitution `{}` is not set (send its value as param_{})", p.name, p.name),
          ch::kUnknownQueryParameter);
    }
    TH_ASSIGN_OR_RETURN(std::string literal, ParameterLiteral(p.name, p.type, it->second));
    out.append(sql.substr(copied, p.begin - copied));
    // Apart from its neighbours, so that no token can glue to it.
    if (p.begin > 0 && out.back() != ' ' && out.back() != '(' && out.back() != '\n') {
      out.push_back(' ');
    }
    out += literal;
    if (p.end < sql.size() && sql[p.end] != ' ' && sql[p.end] != ')' && sql[p.end] != ',' &&
        sql[p.end] != '\n') {
      out.push_back(' ');
    }
    copied = p.end;
  }
  out.append(sql.substr(copied));
  return out;
}

bool HasParameters(std::string_view sql) { return !FindPlaceholders(sql).empty(); }

}  // namespace trackhouse::clickhouse
