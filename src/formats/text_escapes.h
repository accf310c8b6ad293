// ClickHouse's backslash escape sequences, shared by the Values (quoted strings) and
// TabSeparated (escaped fields) parsers, and the {name:Type} query parameter values that arrive
// escaped as in TabSeparated (query/, clickhouse/params). Pure functions; thread-safe.
//
// After a backslash: b f n r t 0 a v e -> the control character; xHH -> that byte; N -> nothing;
// \ ' " ` / -> the character itself; a control character (e.g. a line feed, MySQL's dump
// style) -> itself; any other character c -> backslash and c kept (ClickHouse keeps
// 'Hello 100\%' as is, for LIKE patterns).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace trackhouse::formats {

// Decodes the escape sequence starting at s[0] (the character after the backslash), appending
// the result to *out. Returns the number of characters of s consumed (>= 1), or 0 when `s` is
// empty or a \x escape lacks its two hex digits.
inline size_t DecodeEscape(std::string_view s, std::string* out) {
  if (s.empty()) return 0;
  char c = s[0];
  switch (c) {
    case 'b':
      out->push_back('\b');
      return 1;
    case 'f':
      out->push_back('\f');
      return 1;
    case 'n':
      out->push_back('\n');
      return 1;
    case 'r':
      out->push_back('\r');
      return 1;
    case 't':
      out->push_back('\t');
      return 1;
    case '0':
      out->push_back('\0');
      return 1;
    case 'a':
      out->push_back('\a');
      return 1;
    case 'v':
      out->push_back('\v');
      return 1;
    case 'e':
      out->push_back('\x1b');
      return 1;
    case 'N':
      return 1;
    case 'x': {
      auto hex = [](char h) -> int {
        if (h >= '0' && h <= '9') return h - '0';
        if (h >= 'a' && h <= 'f') return h - 'a' + 10;
        if (h >= 'A' && h <= 'F') return h - 'A' + 10;
        return -1;
      };
      if (s.size() < 3 || hex(s[1]) < 0 || hex(s[2]) < 0) return 0;
      out->push_back(static_cast<char>(hex(s[1]) * 16 + hex(s[2])));
      return 3;
    }
    case '\\':
    case '\'':
    case '"':
    case '`':
    case '/':
      out->push_back(c);
      return 1;
    default:
      if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) out->push_back('\\');
      out->push_back(c);
      return 1;
  }
}

// Decodes a whole escaped text (a {name:Type} parameter value as sent: `it\'s`, `a\\b`, `\n`):
// each backslash sequence as DecodeEscape does; a trailing lone backslash and a \x escape without
// its two hex digits are kept as written.
inline std::string DecodeEscapedText(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] != '\\' || i + 1 == v.size()) {
      out.push_back(v[i]);
      continue;
    }
    size_t used = DecodeEscape(v.substr(i + 1), &out);
    if (used == 0) {
      out.push_back(v[i]);
      continue;
    }
    i += used;
  }
  return out;
}

}  // namespace trackhouse::formats
