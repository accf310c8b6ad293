#include "sql/lexer.h"

#include <algorithm>

namespace trackhouse::sql {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHexDigit(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool IsWordStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}
bool IsWordChar(char c) { return IsWordStart(c) || IsDigit(c); }
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

int HexValue(char c) {
  if (IsDigit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

}  // namespace

std::string_view TokenKindName(TokenKind kind) {
  switch (kind) {
    case TokenKind::kBareWord:
      return "identifier";
    case TokenKind::kQuotedIdentifier:
      return "quoted identifier";
    case TokenKind::kNumber:
      return "number";
    case TokenKind::kString:
      return "string literal";
    case TokenKind::kOpenParen:
      return "'('";
    case TokenKind::kCloseParen:
      return "')'";
    case TokenKind::kOpenBracket:
      return "'['";
    case TokenKind::kCloseBracket:
      return "']'";
    case TokenKind::kOpenBrace:
      return "'{'";
    case TokenKind::kCloseBrace:
      return "'}'";
    case TokenKind::kComma:
      return "','";
    case TokenKind::kSemicolon:
      return "';'";
    case TokenKind::kDot:
      return "'.'";
    case TokenKind::kAsterisk:
      return "'*'";
    case TokenKind::kPlus:
      return "'+'";
    case TokenKind::kMinus:
      return "'-'";
    case TokenKind::kSlash:
      return "'/'";
    case TokenKind::kPercent:
      return "'%'";
    case TokenKind::kConcat:
      return "'||'";
    case TokenKind::kEquals:
      return "'='";
    case TokenKind::kNotEquals:
      return "'!='";
    case TokenKind::kLess:
      return "'<'";
    case TokenKind::kLessOrEquals:
      return "'<='";
    case TokenKind::kGreater:
      return "'>'";
    case TokenKind::kGreaterOrEquals:
      return "'>='";
    case TokenKind::kQuestion:
      return "'?'";
    case TokenKind::kColon:
      return "':'";
    case TokenKind::kDoubleColon:
      return "'::'";
    case TokenKind::kArrow:
      return "'->'";
    case TokenKind::kEnd:
      return "end of query";
    case TokenKind::kError:
      return "error";
  }
  return "token";
}

bool Token::IsKeyword(std::string_view keyword) const {
  if (kind != TokenKind::kBareWord || text.size() != keyword.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c != keyword[i]) return false;
  }
  return true;
}

Lexer::Lexer(std::string_view text, size_t begin, size_t end)
    : text_(text), pos_(std::min(begin, text.size())), end_(std::min(end, text.size())) {
  if (pos_ > end_) pos_ = end_;
}

Token Lexer::Make(TokenKind kind, size_t begin, size_t end) {
  pos_ = end;
  prev_ = kind;
  Token t;
  t.kind = kind;
  t.begin = begin;
  t.end = end;
  t.text = text_.substr(begin, end - begin);
  return t;
}

Token Lexer::MakeError(size_t begin, size_t end, const char* error) {
  Token t = Make(TokenKind::kError, begin, end);
  t.error = error;
  done_ = true;
  return t;
}

bool Lexer::SkipTrivia(const char** error) {
  while (pos_ < end_) {
    char c = text_[pos_];
    if (IsSpace(c)) {
      ++pos_;
      continue;
    }
    char n = pos_ + 1 < end_ ? text_[pos_ + 1] : '\0';
    if ((c == '-' && n == '-') || (c == '#' && (n == '!' || n == ' '))) {
      while (pos_ < end_ && text_[pos_] != '\n') ++pos_;
      continue;
    }
    if (c == '/' && n == '*') {
      size_t start = pos_;
      int nesting = 0;
      while (pos_ < end_) {
        if (text_[pos_] == '/' && pos_ + 1 < end_ && text_[pos_ + 1] == '*') {
          ++nesting;
          pos_ += 2;
        } else if (text_[pos_] == '*' && pos_ + 1 < end_ && text_[pos_ + 1] == '/') {
          pos_ += 2;
          if (--nesting == 0) break;
        } else {
          ++pos_;
        }
      }
      if (nesting != 0) {
        pos_ = start;
        *error = "Unterminated multiline comment";
        return false;
      }
      continue;
    }
    break;
  }
  return true;
}

Token Lexer::LexNumber(size_t begin) {
  size_t p = begin;
  auto at = [&](size_t i) { return i < end_ ? text_[i] : '\0'; };
  if (prev_ == TokenKind::kDot) {
    // Tuple element access `t.1.2`: integers only, so the dot stays an operator.
    while (IsDigit(at(p))) ++p;
  } else if (at(p) == '0' && (at(p + 1) == 'x' || at(p + 1) == 'X') && IsHexDigit(at(p + 2))) {
    p += 2;
    while (IsHexDigit(at(p))) ++p;
  } else if (at(p) == '0' && (at(p + 1) == 'b' || at(p + 1) == 'B') &&
             (at(p + 2) == '0' || at(p + 2) == '1')) {
    p += 2;
    while (at(p) == '0' || at(p) == '1') ++p;
  } else {
    while (IsDigit(at(p))) ++p;
    if (at(p) == '.') {
      ++p;
      while (IsDigit(at(p))) ++p;
    }
    if ((at(p) == 'e' || at(p) == 'E') &&
        (IsDigit(at(p + 1)) || ((at(p + 1) == '+' || at(p + 1) == '-') && IsDigit(at(p + 2))))) {
      p += 2;
      while (IsDigit(at(p))) ++p;
    }
  }
  if (IsWordChar(at(p))) {
    while (IsWordChar(at(p))) ++p;
    return MakeError(begin, p, "Wrong number");
  }
  return Make(TokenKind::kNumber, begin, p);
}

Token Lexer::LexQuoted(size_t begin, char quote) {
  size_t p = begin + 1;
  while (p < end_) {
    char c = text_[p];
    if (c == '\\') {
      p += 2;
      continue;
    }
    if (c == quote) {
      if (p + 1 < end_ && text_[p + 1] == quote) {
        p += 2;
        continue;
      }
      return Make(quote == '\'' ? TokenKind::kString : TokenKind::kQuotedIdentifier, begin, p + 1);
    }
    ++p;
  }
  return MakeError(
      begin, end_,
      quote == '\'' ? "Unterminated string literal" : "Unterminated quoted identifier");
}

Token Lexer::Next() {
  if (done_) return Make(TokenKind::kEnd, end_, end_);
  const char* error = nullptr;
  if (!SkipTrivia(&error)) return MakeError(pos_, end_, error);
  if (pos_ >= end_) {
    done_ = true;
    return Make(TokenKind::kEnd, end_, end_);
  }
  size_t b = pos_;
  char c = text_[b];
  char n = b + 1 < end_ ? text_[b + 1] : '\0';
  if (IsDigit(c)) return LexNumber(b);
  if (c == '.' && IsDigit(n)) {
    bool after_operand = prev_ == TokenKind::kBareWord || prev_ == TokenKind::kQuotedIdentifier ||
                         prev_ == TokenKind::kCloseParen || prev_ == TokenKind::kCloseBracket ||
                         prev_ == TokenKind::kCloseBrace || prev_ == TokenKind::kNumber ||
                         prev_ == TokenKind::kString || prev_ == TokenKind::kDot;
    if (!after_operand) return LexNumber(b);
  }
  if (IsWordStart(c)) {
    size_t p = b + 1;
    while (p < end_ && IsWordChar(text_[p])) ++p;
    return Make(TokenKind::kBareWord, b, p);
  }
  switch (c) {
    case '\'':
    case '"':
    case '`':
      return LexQuoted(b, c);
    case '(':
      return Make(TokenKind::kOpenParen, b, b + 1);
    case ')':
      return Make(TokenKind::kCloseParen, b, b + 1);
    case '[':
      return Make(TokenKind::kOpenBracket, b, b + 1);
    case ']':
      return Make(TokenKind::kCloseBracket, b, b + 1);
    case '{':
      return Make(TokenKind::kOpenBrace, b, b + 1);
    case '}':
      return Make(TokenKind::kCloseBrace, b, b + 1);
    case ',':
      return Make(TokenKind::kComma, b, b + 1);
    case ';':
      return Make(TokenKind::kSemicolon, b, b + 1);
    case '.':
      return Make(TokenKind::kDot, b, b + 1);
    case '*':
      return Make(TokenKind::kAsterisk, b, b + 1);
    case '+':
      return Make(TokenKind::kPlus, b, b + 1);
    case '-':
      if (n == '>') return Make(TokenKind::kArrow, b, b + 2);
      return Make(TokenKind::kMinus, b, b + 1);
    case '/':
      return Make(TokenKind::kSlash, b, b + 1);
    case '%':
      return Make(TokenKind::kPercent, b, b + 1);
    case '|':
      if (n == '|') return Make(TokenKind::kConcat, b, b + 2);
      return MakeError(b, b + 1, "Single '|' is not an operator, use '||'");
    case '=':
      return Make(TokenKind::kEquals, b, n == '=' ? b + 2 : b + 1);
    case '!':
      if (n == '=') return Make(TokenKind::kNotEquals, b, b + 2);
      return MakeError(b, b + 1, "Single '!' is not an operator, use '!=' or NOT");
    case '<':
      if (n == '=') return Make(TokenKind::kLessOrEquals, b, b + 2);
      if (n == '>') return Make(TokenKind::kNotEquals, b, b + 2);
      return Make(TokenKind::kLess, b, b + 1);
    case '>':
      if (n == '=') return Make(TokenKind::kGreaterOrEquals, b, b + 2);
      return Make(TokenKind::kGreater, b, b + 1);
    case '?':
      return Make(TokenKind::kQuestion, b, b + 1);
    case ':':
      if (n == ':') return Make(TokenKind::kDoubleColon, b, b + 2);
      return Make(TokenKind::kColon, b, b + 1);
    default:
      return MakeError(b, b + 1, "Unexpected character");
  }
}

std::string DecodeQuoted(std::string_view token_text) {
  std::string out;
  if (token_text.empty()) return out;
  char quote = token_text.front();
  size_t end = token_text.size();
  if (end >= 2 && token_text.back() == quote) --end;
  out.reserve(end);
  for (size_t i = 1; i < end; ++i) {
    char c = token_text[i];
    if (c == quote && i + 1 < end && token_text[i + 1] == quote) {
      out.push_back(quote);
      ++i;
      continue;
    }
    if (c != '\\' || i + 1 >= end) {
      out.push_back(c);
      continue;
    }
    char e = token_text[++i];
    switch (e) {
      case 'n':
        out.push_back('\n');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case '0':
        out.push_back('\0');
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'a':
        out.push_back('\a');
        break;
      case 'v':
        out.push_back('\v');
        break;
      case '\\':
        out.push_back('\\');
        break;
      case '\'':
        out.push_back('\'');
        break;
      case '"':
        out.push_back('"');
        break;
      case '`':
        out.push_back('`');
        break;
      case 'x':
      case 'X':
        if (i + 2 < end && IsHexDigit(token_text[i + 1]) && IsHexDigit(token_text[i + 2])) {
          out.push_back(
              static_cast<char>(HexValue(token_text[i + 1]) * 16 + HexValue(token_text[i + 2])));
          i += 2;
        } else {
          out.push_back('\\');
          out.push_back(e);
        }
        break;
      default:
        // Unknown escapes keep the backslash: 'a\_b' stays a LIKE pattern for a literal '_'.
        out.push_back('\\');
        out.push_back(e);
        break;
    }
  }
  return out;
}

}  // namespace trackhouse::sql
