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

TEST(ComparisonTest, NumbersCompareExactlyAcrossSignedness) {
  EXPECT_EQ(EvalOne("toInt8(-1) < toUInt64(1)"), "1");
  EXPECT_EQ(EvalOne("toUInt64(18446744073709551615) > toInt64(-1)"), "1");
  EXPECT_EQ(EvalOne("toUInt64(18446744073709551615) = toFloat64(18446744073709551615)"), "0");
  EXPECT_EQ(EvalOne("toInt64(9007199254740993) = toFloat64(9007199254740992)"), "0");
  EXPECT_EQ(EvalOne("toUInt32(4294967295) = toInt32(-1)"), "0");
  EXPECT_EQ(EvalOne("1 = 1.0"), "1");
  EXPECT_EQ(EvalOne("2 >= 3"), "0");
  EXPECT_EQ(EvalOne("nan = nan"), "0");
  EXPECT_EQ(EvalOne("nan != nan"), "1");
  EXPECT_EQ(TypeOf("1 < 2"), "UInt8");
}

TEST(ComparisonTest, ColumnAgainstConstantOutsideItsRange) {
  types::Block b = MakeBlock({{"x", "UInt8", {"0", "200", "255"}}});
  EXPECT_EQ(Eval("x < 300", b), (V{"1", "1", "1"}));
  EXPECT_EQ(Eval("x = 300", b), (V{"0", "0", "0"}));
  EXPECT_EQ(Eval("x > -1", b), (V{"1", "1", "1"}));
  EXPECT_EQ(Eval("-1 < x", b), (V{"1", "1", "1"}));
  EXPECT_EQ(Eval("x >= 200", b), (V{"0", "1", "1"}));
  EXPECT_EQ(Eval("300 > x", b), (V{"1", "1", "1"}));
}

TEST(ComparisonTest, Strings) {
  EXPECT_EQ(EvalOne("'abc' < 'abd'"), "1");
  EXPECT_EQ(EvalOne("'abc' = 'abc'"), "1");
  EXPECT_EQ(EvalOne("'' < 'a'"), "1");
  types::Block b =
      MakeBlock({{"s", "String", {"a", "b", "c"}}, {"f", "FixedString(2)", {"a", "b", "c"}}});
  EXPECT_EQ(Eval("s >= 'b'", b), (V{"0", "1", "1"}));
  EXPECT_EQ(Eval("'b' = s", b), (V{"0", "1", "0"}));
  EXPECT_EQ(Eval("s = s", b), (V{"1", "1", "1"}));
}

TEST(ComparisonTest, DatesAndTimesAgainstStrings) {
  types::Block b =
      MakeBlock({{"t", "DateTime", {"2024-01-01 00:00:00", "2024-06-01 12:00:00"}},
                 {"d", "Date", {"2024-01-01", "2024-06-01"}},
                 {"t64", "DateTime64(3)", {"2024-01-01 00:00:00.500", "2024-06-01 12:00:00.000"}}});
  EXPECT_EQ(Eval("t > '2024-03-01 00:00:00'", b), (V{"0", "1"}));
  EXPECT_EQ(Eval("d = '2024-06-01'", b), (V{"0", "1"}));
  EXPECT_EQ(Eval("d = t", b), (V{"1", "0"}));
  EXPECT_EQ(Eval("t64 > t", b), (V{"1", "0"}));
  EXPECT_EQ(Eval("t64 > '2024-01-01 00:00:00.499'", b), (V{"1", "1"}));
  EXPECT_EQ(Eval("t = '2024-06-01 12:00:00'", b), (V{"0", "1"}));
  EXPECT_EQ(ErrorOf("now() > 'not a time'").clickhouse_code(), ch::kCannotParseDateTime);
}

TEST(ComparisonTest, NullableComparisonsAreNullable) {
  types::Block b = MakeBlock({{"x", "Nullable(Int32)", {"1", "\\N"}}});
  EXPECT_EQ(Eval("x = 1", b), (V{"1", "\\N"}));
  EXPECT_EQ(TypeOf("x = 1", b), "Nullable(UInt8)");
  EXPECT_EQ(EvalOne("NULL = 1"), "\\N");
}

TEST(ComparisonTest, IncomparableTypes) {
  EXPECT_EQ(ErrorOf("now() = INTERVAL 1 DAY").clickhouse_code(), ch::kIllegalTypeOfArgument);
}

TEST(ComparisonTest, InAndNotIn) {
  EXPECT_EQ(EvalOne("1 IN (1, 2)"), "1");
  EXPECT_EQ(EvalOne("3 IN (1, 2)"), "0");
  EXPECT_EQ(EvalOne("3 NOT IN (1, 2)"), "1");
  EXPECT_EQ(EvalOne("'a' IN ('a', 'b')"), "1");
  EXPECT_EQ(EvalOne("NULL IN (1, 2)"), "0");
  EXPECT_EQ(EvalOne("(1, 'a') IN ((1, 'a'), (2, 'b'))"), "1");
  EXPECT_EQ(EvalOne("(1, 'b') IN ((1, 'a'), (2, 'b'))"), "0");
  types::Block b = MakeBlock({{"x", "UInt8", {"1", "44", "200"}},
                              {"d", "Date", {"2024-01-01", "2024-01-02", "2024-01-03"}},
                              {"n", "Nullable(String)", {"a", "\\N", "c"}}});
  EXPECT_EQ(Eval("x IN (1, 300, 200)", b), (V{"1", "0", "1"}));
  EXPECT_EQ(Eval("x NOT IN (1, 300, 200)", b), (V{"0", "1", "0"}));
  EXPECT_EQ(Eval("d IN ('2024-01-02', '2024-01-03')", b), (V{"0", "1", "1"}));
  EXPECT_EQ(Eval("n IN ('a', 'b')", b), (V{"1", "0", "0"}));
  EXPECT_EQ(Eval("x IN (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 200)", b), (V{"1", "0", "1"}));
}

}  // namespace
}  // namespace trackhouse::eval
