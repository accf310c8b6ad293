// Lexer: splits ClickHouse SQL text into tokens, one at a time.
//
// Tokens follow ClickHouse's lexer: bare words (keywords and identifiers are not told apart
// here; keywords are matched case-insensitively by the parser), `backquoted` and "double
// quoted" identifiers, numbers (decimal, 0x hex, 0b binary, fractions, exponents; `inf` and
// `nan` are bare words), '...' strings with backslash escapes and '' doubling, operators and
// punctuation. Whitespace and comments (`-- ...`, `#! ...`, `# ...`, nested `/* ... */`) are
// skipped. A query parameter `{name:Type}` arrives as `{`, name, `:`, type tokens, `}`; the
// parser assembles it.
//
// The lexer never throws and never reads outside its range. Malformed input (an unterminated
// string or comment, a number glued to letters, a stray character) yields one kError token
// whose `error` says what is wrong; the lexer then returns kEnd forever.
//
// A Lexer holds a view of the text it was given (the caller keeps the text alive) and is not
// thread-safe; Token is a plain value whose `text` views the same buffer.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace trackhouse::sql {

enum class TokenKind : unsigned char {
  kBareWord,          // identifier or keyword: [A-Za-z_][A-Za-z0-9_]* (bytes >= 0x80 allowed)
  kQuotedIdentifier,  // `name` or "name"; decode with DecodeQuoted()
  kNumber,            // 123, 1.5, 1e-3, .5, 0xFF, 0b101
  kString,            // 'text'; decode with DecodeQuoted()
  kOpenParen,         // (
  kCloseParen,        // )
  kOpenBracket,       // [
  kCloseBracket,      // ]
  kOpenBrace,         // {
  kCloseBrace,        // }
  kComma,             // ,
  kSemicolon,         // ;
  kDot,               // .
  kAsterisk,          // *
  kPlus,              // +
  kMinus,             // -
  kSlash,             // /
  kPercent,           // %
  kConcat,            // ||
  kEquals,            // = or ==
  kNotEquals,         // != or <>
  kLess,              // <
  kLessOrEquals,      // <=
  kGreater,           // >
  kGreaterOrEquals,   // >=
  kQuestion,          // ?
  kColon,             // :
  kDoubleColon,       // ::
  kArrow,             // ->
  kEnd,               // end of input (or of the lexer's range)
  kError,             // malformed input; Token::error says why
};

// A short human name for a token kind ("identifier", "string literal", "'('", ...).
std::string_view TokenKindName(TokenKind kind);

struct Token {
  TokenKind kind = TokenKind::kEnd;
  size_t begin = 0;        // byte offset of the first byte in the lexer's text
  size_t end = 0;          // byte offset one past the last byte
  std::string_view text;   // the token's bytes as written (quotes included)
  const char* error = "";  // for kError: what is wrong ("Unterminated string literal", ...)

  bool Is(TokenKind k) const { return kind == k; }
  // True for a bare word equal to `keyword` ignoring ASCII case (`keyword` is upper case).
  bool IsKeyword(std::string_view keyword) const;
};

class Lexer {
 public:
  // Lexes text[begin, end); offsets in tokens are offsets into `text`.
  explicit Lexer(std::string_view text, size_t begin = 0, size_t end = std::string_view::npos);

  // The next token. After kEnd or kError every call returns kEnd at the end of the range.
  Token Next();

  // Offset of the first byte not yet consumed.
  size_t offset() const { return pos_; }

 private:
  Token Make(TokenKind kind, size_t begin, size_t end);
  Token MakeError(size_t begin, size_t end, const char* error);
  // Skips whitespace and comments; returns false (with *error set) on an unterminated comment.
  bool SkipTrivia(const char** error);
  Token LexNumber(size_t begin);
  Token LexQuoted(size_t begin, char quote);

  std::string_view text_;
  size_t pos_;
  size_t end_;
  bool done_ = false;
  TokenKind prev_ = TokenKind::kEnd;  // last token returned, decides whether ".5" is a number
};

// Decodes a quoted token (kString or kQuotedIdentifier, quotes included): removes the quotes,
// turns doubled quotes into one and resolves backslash escapes: \n \t \r \0 \b \f \a \v,
// \xHH, and a backslash before \ ' " ` stands for that character. An unknown escape such as
// `\%` keeps its backslash, as ClickHouse does, so LIKE patterns work.
std::string DecodeQuoted(std::string_view token_text);

}  // namespace trackhouse::sql
