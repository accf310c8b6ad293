#include "sql/keywords.h"

#include <algorithm>
#include <iterator>

namespace trackhouse::sql {
namespace {

// Upper case.
constexpr std::string_view kClauseKeywords[] = {
    "ALL",    "AS",    "ASC",      "BETWEEN", "BY",        "DESC",     "DISTINCT", "ELSE",
    "EXCEPT", "FROM",  "GROUP",    "HAVING",  "INTERSECT", "INTO",     "IS",       "JOIN",
    "ON",     "ORDER", "PREWHERE", "QUALIFY", "SELECT",    "SETTINGS", "THEN",     "UNION",
    "USING",  "WHEN",  "WHERE",    "WINDOW",  "WITH",
};

constexpr std::string_view kOperatorKeywords[] = {
    "AND", "ILIKE", "IN", "LIKE", "OR",
};

// Plausible column names (`end`, `format`, `values`, ...) that are keywords only where an
// expression may end.
constexpr std::string_view kOtherRestrictedAliases[] = {
    "END",     "FORMAT",      "LIMIT",     "OFFSET", "VALUES",     "ALIAS",        "ANTI",
    "ANY",     "ARRAY",       "ASCENDING", "ASOF",   "CASE",       "CODEC",        "COLLATE",
    "COMMENT", "CROSS",       "DEFAULT",   "DELETE", "DESCENDING", "DIV",          "EPHEMERAL",
    "FALSE",   "FETCH",       "FILL",      "FILTER", "FINAL",      "FULL",         "GLOBAL",
    "INNER",   "INTERPOLATE", "INTERVAL",  "LEFT",   "LOCAL",      "MATERIALIZED", "MOD",
    "NOT",     "NULL",        "NULLS",     "OUTER",  "OVER",       "PARTITION",    "PASTE",
    "PRIMARY", "RIGHT",       "SAMPLE",    "SEMI",   "STEP",       "TO",           "TOTALS",
    "TRUE",    "TTL",
};

constexpr std::string_view kColumnModifiers[] = {
    "AFTER",     "ALIAS", "AUTO_INCREMENT", "CODEC",      "COLLATE", "COMMENT", "DEFAULT",
    "EPHEMERAL", "FIRST", "MATERIALIZED",   "MODIFY",     "NOT",     "NULL",    "PRIMARY",
    "REMOVE",    "RESET", "SETTINGS",       "STATISTICS", "TTL",
};

// Words that parse as something other than an identifier in an expression.
constexpr std::string_view kSpecialWords[] = {
    "CASE", "FALSE", "INF", "INFINITY", "INTERVAL", "NAN", "NOT", "NULL", "TRUE",
};

std::string Upper(std::string_view word) {
  std::string out(word);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

template <size_t N>
bool Contains(const std::string_view (&words)[N], std::string_view upper) {
  return std::find(std::begin(words), std::end(words), upper) != std::end(words);
}

}  // namespace

bool IsPlainWord(std::string_view name) {
  if (name.empty()) return false;
  char c0 = name[0];
  if (!((c0 >= 'a' && c0 <= 'z') || (c0 >= 'A' && c0 <= 'Z') || c0 == '_')) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) {
      return false;
    }
  }
  return true;
}

bool IsClauseKeyword(std::string_view word) {
  if (word.size() > 12) return false;
  return Contains(kClauseKeywords, Upper(word));
}

bool IsReservedInExpression(std::string_view word) {
  if (word.size() > 12) return false;
  std::string upper = Upper(word);
  return Contains(kClauseKeywords, upper) || Contains(kOperatorKeywords, upper);
}

bool IsColumnModifierKeyword(std::string_view word) {
  if (word.size() > 14) return false;
  return Contains(kColumnModifiers, Upper(word));
}

bool IsRestrictedAlias(std::string_view word) {
  if (word.size() > 12) return false;
  std::string upper = Upper(word);
  return Contains(kClauseKeywords, upper) || Contains(kOperatorKeywords, upper) ||
         Contains(kOtherRestrictedAliases, upper);
}

std::string QuoteIdentifierIfNeeded(std::string_view name) {
  if (IsPlainWord(name) && !IsReservedInExpression(name) &&
      !(name.size() <= 8 && Contains(kSpecialWords, Upper(name)))) {
    return std::string(name);
  }
  return QuoteIdentifier(name);
}

std::string QuoteIdentifier(std::string_view name) {
  std::string out;
  out.reserve(name.size() + 2);
  out.push_back('`');
  for (char c : name) {
    if (c == '`' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('`');
  return out;
}

std::string QuoteString(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size() + 2);
  out.push_back('\'');
  for (char c : value) {
    switch (c) {
      case '\'':
        out += "\\'";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\0':
        out += "\\0";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default: {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) {
          out += "\\x";
          out.push_back(kHex[u >> 4]);
          out.push_back(kHex[u & 0xf]);
        } else {
          out.push_back(c);
        }
      }
    }
  }
  out.push_back('\'');
  return out;
}

}  // namespace trackhouse::sql
