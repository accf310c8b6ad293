#include <gtest/gtest.h>

#include "eval/test_util.h"
#include "eval/type_rules.h"

namespace trackhouse::eval {
namespace {

using testing::ErrorOf;
using testing::Eval;
using testing::EvalOne;
using testing::MakeBlock;
using testing::TypeOf;
using V = std::vector<std::string>;

TEST(ArithmeticTest, ResultTypesFollowClickHouse) {
  EXPECT_EQ(TypeOf("toUInt8(1) + toUInt8(2)"), "UInt16");
  EXPECT_EQ(TypeOf("toInt32(1) + toInt32(2)"), "Int64");
  EXPECT_EQ(TypeOf("toUInt8(1) - toUInt8(2)"), "Int16");
  EXPECT_EQ(TypeOf("toUInt64(1) - toUInt64(2)"), "Int64");
  EXPECT_EQ(TypeOf("toInt8(1) * toUInt16(2)"), "Int32");
  EXPECT_EQ(TypeOf("toFloat32(1) + toUInt8(2)"), "Float64");
  EXPECT_EQ(TypeOf("1 / 2"), "Float64");
  EXPECT_EQ(TypeOf("intDiv(toInt32(7), toUInt8(2))"), "Int32");
  EXPECT_EQ(TypeOf("intDiv(toUInt16(7), toUInt64(2))"), "UInt16");
  EXPECT_EQ(TypeOf("toInt32(7) % toUInt8(2)"), "Int8");
  EXPECT_EQ(TypeOf("-toUInt8(1)"), "Int16");
  EXPECT_EQ(TypeOf("-toInt32(1)"), "Int32");
}

TEST(ArithmeticTest, ValuesAndWrapAround) {
  EXPECT_EQ(EvalOne("1 + 2"), "3");
  EXPECT_EQ(EvalOne("1 - 2"), "-1");
  EXPECT_EQ(EvalOne("toUInt8(255) + toUInt8(1)"), "256");
  EXPECT_EQ(EvalOne("toInt64(9223372036854775807) + 1"), "-9223372036854775808");
  EXPECT_EQ(EvalOne("toUInt64(18446744073709551615) + 1"), "0");
  EXPECT_EQ(EvalOne("toInt64(4294967296) * 4294967296"), "0");
  EXPECT_EQ(EvalOne("10 / 4"), "2.5");
  EXPECT_EQ(EvalOne("intDiv(10, 3)"), "3");
  EXPECT_EQ(EvalOne("intDiv(-7, 2)"), "-3");
  EXPECT_EQ(EvalOne("10 % 3"), "1");
  EXPECT_EQ(EvalOne("-7 % 3"), "-1");
  EXPECT_EQ(EvalOne("intDivOrZero(1, 0)"), "0");
  EXPECT_EQ(EvalOne("moduloOrZero(1, 0)"), "0");
  EXPECT_EQ(EvalOne("negate(5)"), "-5");
}

TEST(ArithmeticTest, DivisionByZero) {
  EXPECT_EQ(EvalOne("1 / 0"), "inf");
  EXPECT_EQ(EvalOne("-1 / 0"), "-inf");
  EXPECT_EQ(EvalOne("0 / 0"), "nan");
  Status st = ErrorOf("intDiv(1, 0)");
  EXPECT_EQ(st.clickhouse_code(), kChIllegalDivision);
  EXPECT_EQ(st.message(), "Division by zero");
  EXPECT_EQ(ErrorOf("5 % 0").clickhouse_code(), kChIllegalDivision);
  types::Block b = MakeBlock({{"x", "Int32", {"10", "20"}}, {"y", "Int32", {"2", "0"}}});
  EXPECT_EQ(Eval("intDiv(x, y)", b), (V{"ERROR: Division by zero"}));
}

TEST(ArithmeticTest, ColumnsAndConstants) {
  types::Block b = MakeBlock({{"x", "Int32", {"1", "-2", "3"}}, {"y", "UInt8", {"4", "5", "6"}}});
  EXPECT_EQ(Eval("x + y", b), (V{"5", "3", "9"}));
  EXPECT_EQ(Eval("x * 2", b), (V{"2", "-4", "6"}));
  EXPECT_EQ(Eval("100 - y", b), (V{"96", "95", "94"}));
  EXPECT_EQ(Eval("y / 2", b), (V{"2", "2.5", "3"}));
}

TEST(ArithmeticTest, NullPropagates) {
  types::Block b =
      MakeBlock({{"x", "Nullable(Int32)", {"1", "\\N", "3"}}, {"y", "Int32", {"1", "0", "0"}}});
  EXPECT_EQ(Eval("x + 1", b), (V{"2", "\\N", "4"}));
  EXPECT_EQ(TypeOf("x + 1", b), "Nullable(Int64)");
  EXPECT_EQ(EvalOne("1 + NULL"), "\\N");
  EXPECT_EQ(TypeOf("1 + NULL"), "Nullable(Nothing)");
  // A NULL divisor row is not a division by zero.
  types::Block d = MakeBlock({{"n", "Nullable(Int32)", {"2", "\\N"}}});
  EXPECT_EQ(Eval("intDiv(10, n)", d), (V{"5", "\\N"}));
}

TEST(ArithmeticTest, DateAndTimeArithmetic) {
  EXPECT_EQ(EvalOne("toDate('2024-01-31') + 1"), "2024-02-01");
  EXPECT_EQ(EvalOne("toDate('2024-03-01') - toDate('2024-02-01')"), "29");
  EXPECT_EQ(TypeOf("toDate('2024-03-01') - toDate('2024-02-01')"), "Int32");
  EXPECT_EQ(EvalOne("toDateTime('2024-01-01 00:00:00') + 60"), "2024-01-01 00:01:00");
  EXPECT_EQ(EvalOne("toDate('2024-01-31') + INTERVAL 1 MONTH"), "2024-02-29");
  EXPECT_EQ(EvalOne("toDate('2024-02-29') + INTERVAL 1 YEAR"), "2025-02-28");
  EXPECT_EQ(EvalOne("toDate('2024-05-31') - INTERVAL 1 QUARTER"), "2024-02-29");
  EXPECT_EQ(EvalOne("toDateTime('2024-01-01 10:00:00') - INTERVAL 1 HOUR"), "2024-01-01 09:00:00");
  EXPECT_EQ(EvalOne("toDate('2024-01-01') + INTERVAL 1 HOUR"), "2024-01-01 01:00:00");
  EXPECT_EQ(TypeOf("toDate('2024-01-01') + INTERVAL 1 HOUR"), "DateTime");
  EXPECT_EQ(EvalOne("INTERVAL 2 WEEK + toDate('2024-01-01')"), "2024-01-15");
  EXPECT_EQ(EvalOne("toDateTime64('2024-01-31 12:00:00.250', 3) + INTERVAL 1 MONTH"),
            "2024-02-29 12:00:00.250");
  EXPECT_EQ(EvalOne("toDateTime64('2024-01-01 00:00:00.000', 3) - INTERVAL 1 SECOND"),
            "2023-12-31 23:59:59.000");
  EXPECT_EQ(ErrorOf("toDate('2024-01-01') * 2").clickhouse_code(), ch::kIllegalTypeOfArgument);
}

}  // namespace
}  // namespace trackhouse::eval
