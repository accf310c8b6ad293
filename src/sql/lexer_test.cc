#include "sql/lexer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace trackhouse::sql {
namespace {

std::vector<Token> Lex(std::string_view text) {
  Lexer lexer(text);
  std::vector<Token> out;
  while (true) {
    Token t = lexer.Next();
    out.push_back(t);
    if (t.Is(TokenKind::kEnd) || t.Is(TokenKind::kError)) break;
    if (out.size() > 10000) break;
  }
  return out;
}

std::vector<TokenKind> Kinds(std::string_view text) {
  std::vector<TokenKind> out;
  for (const Token& t : Lex(text)) out.push_back(t.kind);
  return out;
}

std::vector<std::string> Texts(std::string_view text) {
  std::vector<std::string> out;
  for (const Token& t : Lex(text)) {
    if (!t.Is(TokenKind::kEnd)) out.emplace_back(t.text);
  }
  return out;
}

using K = TokenKind;

TEST(LexerTest, TokenizesEveryOperatorAndPunctuation) {
  EXPECT_EQ(Kinds("+ - * / % || = == != <> < <= > >= ? : :: -> . , ( ) [ ] { } ;"),
            (std::vector<TokenKind>{
                K::kPlus,        K::kMinus,           K::kAsterisk,    K::kSlash,
                K::kPercent,     K::kConcat,          K::kEquals,      K::kEquals,
                K::kNotEquals,   K::kNotEquals,       K::kLess,        K::kLessOrEquals,
                K::kGreater,     K::kGreaterOrEquals, K::kQuestion,    K::kColon,
                K::kDoubleColon, K::kArrow,           K::kDot,         K::kComma,
                K::kOpenParen,   K::kCloseParen,      K::kOpenBracket, K::kCloseBracket,
                K::kOpenBrace,   K::kCloseBrace,      K::kSemicolon,   K::kEnd}));
}

TEST(LexerTest, OperatorsNeedNoSpaces) {
  EXPECT_EQ(Texts("a>=b<>c!=d||e->f::g"),
            (std::vector<std::string>{"a", ">=", "b", "<>", "c", "!=", "d", "||", "e", "->", "f",
                                      "::", "g"}));
}

TEST(LexerTest, KeywordsMatchCaseInsensitively) {
  auto tokens = Lex("select SeLeCt `select` selected");
  EXPECT_TRUE(tokens[0].IsKeyword("SELECT"));
  EXPECT_TRUE(tokens[1].IsKeyword("SELECT"));
  EXPECT_FALSE(tokens[2].IsKeyword("SELECT"));  // quoted identifiers are never keywords
  EXPECT_FALSE(tokens[3].IsKeyword("SELECT"));
  EXPECT_EQ(tokens[1].text, "SeLeCt");  // identifiers keep their case
}

TEST(LexerTest, NumbersInEveryForm) {
  auto tokens = Lex(".5 123 1.5 1e3 1E-3 2.5e+10 0xFF 0b101 1.");
  std::vector<std::string> texts;
  for (const Token& t : tokens) {
    if (t.Is(K::kEnd)) break;
    EXPECT_EQ(t.kind, K::kNumber) << t.text;
    texts.emplace_back(t.text);
  }
  EXPECT_EQ(texts, (std::vector<std::string>{".5", "123", "1.5", "1e3", "1E-3", "2.5e+10", "0xFF",
                                             "0b101", "1."}));
}

TEST(LexerTest, InfAndNanAreBareWords) {
  EXPECT_EQ(Kinds("inf nan"), (std::vector<TokenKind>{K::kBareWord, K::kBareWord, K::kEnd}));
}

TEST(LexerTest, TupleIndexAfterDotIsAnInteger) {
  EXPECT_EQ(Texts("t.1.2"), (std::vector<std::string>{"t", ".", "1", ".", "2"}));
  EXPECT_EQ(Texts("f(x).1"), (std::vector<std::string>{"f", "(", "x", ")", ".", "1"}));
  EXPECT_EQ(Texts("(.5)"), (std::vector<std::string>{"(", ".5", ")"}));
}

TEST(LexerTest, StringsDecodeEscapesAndDoubledQuotes) {
  auto tokens = Lex(R"('it''s' 'a\nb\t\0\\\'\x41' '')");
  ASSERT_EQ(tokens[0].kind, K::kString);
  EXPECT_EQ(DecodeQuoted(tokens[0].text), "it's");
  EXPECT_EQ(DecodeQuoted(tokens[1].text), std::string("a\nb\t\0\\'A", 8));
  EXPECT_EQ(DecodeQuoted(tokens[2].text), "");
}

TEST(LexerTest, UnknownEscapeKeepsItsBackslashForLikePatterns) {
  auto tokens = Lex(R"('100\% a\_b')");
  EXPECT_EQ(DecodeQuoted(tokens[0].text), R"(100\% a\_b)");
}

TEST(LexerTest, QuotedIdentifiersWithBothQuoteStyles) {
  auto tokens = Lex(R"(`my col` "other ""x""" `a\`b`)");
  ASSERT_EQ(tokens[0].kind, K::kQuotedIdentifier);
  ASSERT_EQ(tokens[1].kind, K::kQuotedIdentifier);
  EXPECT_EQ(DecodeQuoted(tokens[0].text), "my col");
  EXPECT_EQ(DecodeQuoted(tokens[1].text), "other \"x\"");
  EXPECT_EQ(DecodeQuoted(tokens[2].text), "a`b");
}

TEST(LexerTest, CommentsAreSkipped) {
  EXPECT_EQ(Texts("a -- line comment\n b #! shebang\n c # hash\n d /* x /* nested */ y */ e"),
            (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  EXPECT_EQ(Texts("1 - -2"), (std::vector<std::string>{"1", "-", "-", "2"}));
  EXPECT_EQ(Texts("1--2"), (std::vector<std::string>{"1"}));
}

TEST(LexerTest, TokensCarryByteOffsets) {
  auto tokens = Lex("SELECT  x,\n'é' FROM t");
  EXPECT_EQ(tokens[0].begin, 0u);
  EXPECT_EQ(tokens[0].end, 6u);
  EXPECT_EQ(tokens[1].begin, 8u);
  EXPECT_EQ(tokens[2].begin, 9u);
  EXPECT_EQ(tokens[3].begin, 11u);
  EXPECT_EQ(tokens[3].end, 15u);  // 'é' is 2 bytes + 2 quotes
  EXPECT_EQ(tokens[4].begin, 16u);
}

TEST(LexerTest, LexesOnlyItsRange) {
  std::string text = "SELECT 1; SELECT 2";
  Lexer lexer(text, 10, 16);
  Token t = lexer.Next();
  EXPECT_EQ(t.text, "SELECT");
  EXPECT_EQ(t.begin, 10u);
  EXPECT_TRUE(lexer.Next().Is(K::kEnd));
}

TEST(LexerTest, UnterminatedStringIsAnError) {
  auto tokens = Lex("SELECT 'abc");
  ASSERT_EQ(tokens.back().kind, K::kError);
  EXPECT_EQ(tokens.back().begin, 7u);
  EXPECT_STREQ(tokens.back().error, "Unterminated string literal");
}

TEST(LexerTest, UnterminatedBackslashAtEndIsAnError) {
  EXPECT_EQ(Lex("'abc\\").back().kind, K::kError);
  EXPECT_EQ(Lex("`abc").back().kind, K::kError);
}

TEST(LexerTest, UnterminatedCommentIsAnError) {
  auto tokens = Lex("a /* /* */");
  ASSERT_EQ(tokens.back().kind, K::kError);
  EXPECT_STREQ(tokens.back().error, "Unterminated multiline comment");
}

TEST(LexerTest, NumberGluedToLettersIsAnError) {
  EXPECT_EQ(Lex("12abc").back().kind, K::kError);
  EXPECT_EQ(Lex("0x").back().kind, K::kError);
  EXPECT_EQ(Lex("1e").back().kind, K::kError);
}

TEST(LexerTest, StrayCharactersAreErrors) {
  for (const char* s : {"a | b", "!a", "$x", "a @ b", "\\", "^", "~", "&"}) {
    EXPECT_EQ(Lex(s).back().kind, K::kError) << s;
  }
}

TEST(LexerTest, AfterAnErrorOnlyEndFollows) {
  Lexer lexer("'abc");
  EXPECT_TRUE(lexer.Next().Is(K::kError));
  EXPECT_TRUE(lexer.Next().Is(K::kEnd));
  EXPECT_TRUE(lexer.Next().Is(K::kEnd));
}

TEST(LexerTest, NonAsciiBytesFormWords) {
  auto tokens = Lex("SELECT größe");
  ASSERT_EQ(tokens[1].kind, K::kBareWord);
  EXPECT_EQ(tokens[1].text, "größe");
}

TEST(LexerTest, NulBytesDoNotEndTheInput) {
  std::string text("a\0b", 3);
  auto tokens = Lex(text);
  EXPECT_EQ(tokens[0].text, "a");
  EXPECT_EQ(tokens[1].kind, K::kError);
}

}  // namespace
}  // namespace trackhouse::sql
