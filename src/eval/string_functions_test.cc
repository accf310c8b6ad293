#include <gtest/gtest.h>

#include "eval/test_util.h"

namespace trackhouse::eval {
namespace {

using testing::ErrorOf;
using testing::Eval;
using testing::EvalOne;
using testing::MakeBlock;
using testing::TypeOf;
using V = std::vector<std::string>;

TEST(StringFunctionsTest, Basics) {
  EXPECT_EQ(EvalOne("length('hello')"), "5");
  EXPECT_EQ(TypeOf("length('hello')"), "UInt64");
  EXPECT_EQ(EvalOne("lengthUTF8('☺x')"), "2");
  EXPECT_EQ(EvalOne("empty('')"), "1");
  EXPECT_EQ(EvalOne("notEmpty('')"), "0");
  EXPECT_EQ(EvalOne("lower('ABC')"), "abc");
  EXPECT_EQ(EvalOne("upper('abc')"), "ABC");
  EXPECT_EQ(EvalOne("reverse('abc')"), "cba");
  EXPECT_EQ(EvalOne("concat('a', 'b', 'c')"), "abc");
  EXPECT_EQ(EvalOne("'a' || 'b'"), "ab");
  EXPECT_EQ(EvalOne("concat('id-', 42)"), "id-42");
  EXPECT_EQ(EvalOne("trimBoth('  a b  ')"), "a b");
  EXPECT_EQ(EvalOne("trimLeft('  a ')"), "a ");
  EXPECT_EQ(EvalOne("trimRight('  a ')"), "  a");
  EXPECT_EQ(EvalOne("replaceAll('aXbXc', 'X', '-')"), "a-b-c");
  EXPECT_EQ(EvalOne("replaceOne('aXbXc', 'X', '-')"), "a-bXc");
  EXPECT_EQ(EvalOne("repeat('ab', 3)"), "ababab");
  EXPECT_EQ(ErrorOf("concat('a')").clickhouse_code(), ch::kNumberOfArgumentsDoesntMatch);
}

TEST(StringFunctionsTest, SubstringFollowsClickHouseOffsets) {
  EXPECT_EQ(EvalOne("substring('database', 5)"), "base");
  EXPECT_EQ(EvalOne("substring('database', 5, 1)"), "b");
  EXPECT_EQ(EvalOne("substr('Hello', -3)"), "llo");
  EXPECT_EQ(EvalOne("substring('Hello', 0)"), "");
  EXPECT_EQ(EvalOne("substring('Hello', 2, -1)"), "ell");
  EXPECT_EQ(EvalOne("substring('Hello', 10)"), "");
  EXPECT_EQ(EvalOne("substring('abc', -5, 3)"), "a");
  EXPECT_EQ(EvalOne("substring('Hello', -2, 1)"), "l");
}

TEST(StringFunctionsTest, SearchFunctions) {
  EXPECT_EQ(EvalOne("position('Hello, world!', '!')"), "13");
  EXPECT_EQ(EvalOne("position('abc', 'z')"), "0");
  EXPECT_EQ(EvalOne("position('abc', '')"), "1");
  EXPECT_EQ(EvalOne("positionCaseInsensitive('Hello', 'LL')"), "3");
  EXPECT_EQ(EvalOne("startsWith('Hello', 'He')"), "1");
  EXPECT_EQ(EvalOne("endsWith('Hello', 'He')"), "0");
}

TEST(StringFunctionsTest, LikePatterns) {
  EXPECT_EQ(EvalOne("'hello' LIKE 'h%'"), "1");
  EXPECT_EQ(EvalOne("'hello' LIKE '%llo'"), "1");
  EXPECT_EQ(EvalOne("'hello' LIKE '%ell%'"), "1");
  EXPECT_EQ(EvalOne("'hello' LIKE 'h_llo'"), "1");
  EXPECT_EQ(EvalOne("'hello' LIKE 'H%'"), "0");
  EXPECT_EQ(EvalOne("'hello' ILIKE 'H%'"), "1");
  EXPECT_EQ(EvalOne("'hello' NOT LIKE 'h%'"), "0");
  EXPECT_EQ(EvalOne("'hello' NOT ILIKE 'X%'"), "1");
  EXPECT_EQ(EvalOne("'100%' LIKE '100\\\\%'"), "1");
  EXPECT_EQ(EvalOne("'1000' LIKE '100\\\\%'"), "0");
  EXPECT_EQ(EvalOne("'a_c' LIKE 'a\\\\_c'"), "1");
  EXPECT_EQ(EvalOne("'abc' LIKE 'a\\\\_c'"), "0");
  EXPECT_EQ(EvalOne("'' LIKE ''"), "1");
  EXPECT_EQ(EvalOne("'abc' LIKE '%'"), "1");
  EXPECT_EQ(EvalOne("'aXbYc' LIKE 'a%b%c'"), "1");
  EXPECT_EQ(EvalOne("'aXcYb' LIKE 'a%b%c'"), "0");
  EXPECT_EQ(EvalOne("'☺b' LIKE '_b'"), "1");
  EXPECT_EQ(EvalOne("'a\nb' LIKE 'a%b'"), "1");
  types::Block b = MakeBlock({{"s", "String", {"Model", "Image", "model"}},
                              {"p", "String", {"M%", "%g_", "x"}},
                              {"lc", "LowCardinality(String)", {"Model", "Image", "model"}}});
  EXPECT_EQ(Eval("s LIKE p", b), (V{"1", "1", "0"}));
  EXPECT_EQ(Eval("lc ILIKE 'mod%'", b), (V{"1", "0", "1"}));
}

TEST(StringFunctionsTest, LowCardinalityAndFixedStringArguments) {
  types::Block b = MakeBlock({{"lc", "LowCardinality(String)", {"View", "Like", "View"}},
                              {"f", "FixedString(4)", {"ab", "abcd", ""}}});
  EXPECT_EQ(Eval("length(lc)", b), (V{"4", "4", "4"}));
  EXPECT_EQ(Eval("lower(lc)", b), (V{"view", "like", "view"}));
  EXPECT_EQ(Eval("length(f)", b), (V{"4", "4", "4"}));
  EXPECT_EQ(Eval("concat(lc, '!')", b), (V{"View!", "Like!", "View!"}));
}

}  // namespace
}  // namespace trackhouse::eval
