#include "eval/conversion.h"

#include <gtest/gtest.h>

#include "eval/expression.h"
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

std::string F64(double v) {
  std::string s;
  FormatFloat64(v, &s);
  return s;
}

TEST(ConversionTest, FloatsFormatLikeClickHouse) {
  EXPECT_EQ(F64(1.5), "1.5");
  EXPECT_EQ(F64(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(F64(1e20), "100000000000000000000");
  EXPECT_EQ(F64(1e21), "1e21");
  EXPECT_EQ(F64(1e-6), "0.000001");
  EXPECT_EQ(F64(1e-7), "1e-7");
  EXPECT_EQ(F64(1.25e-7), "1.25e-7");
  EXPECT_EQ(F64(-123.0), "-123");
  EXPECT_EQ(F64(0), "0");
  EXPECT_EQ(EvalOne("toString(toFloat32(0.1))"), "0.1");
  EXPECT_EQ(EvalOne("toString(1 / 3)"), "0.3333333333333333");
}

TEST(ConversionTest, NumbersWrapAndTruncate) {
  EXPECT_EQ(EvalOne("toUInt8(300)"), "44");
  EXPECT_EQ(EvalOne("CAST(-1 AS UInt8)"), "255");
  EXPECT_EQ(EvalOne("toInt32(1.9)"), "1");
  EXPECT_EQ(EvalOne("toInt32(-1.9)"), "-1");
  EXPECT_EQ(EvalOne("toFloat64(3)"), "3");
  EXPECT_EQ(EvalOne("CAST(1 AS Nullable(Int32))"), "1");
  EXPECT_EQ(TypeOf("CAST(1 AS Nullable(Int32))"), "Nullable(Int32)");
  EXPECT_EQ(TypeOf("1::Int64"), "Int64");
}

TEST(ConversionTest, StringsParse) {
  EXPECT_EQ(EvalOne("toUInt8('12')"), "12");
  EXPECT_EQ(EvalOne("toInt64('-5')"), "-5");
  EXPECT_EQ(EvalOne("toFloat64('1.5')"), "1.5");
  Status st = ErrorOf("toUInt8('abc')");
  EXPECT_EQ(st.clickhouse_code(), ch::kCannotParseText);
  EXPECT_NE(st.message().find("Cannot parse string 'abc' as UInt8"), std::string::npos);
  EXPECT_EQ(EvalOne("toUInt8OrZero('abc')"), "0");
  EXPECT_EQ(EvalOne("toUInt8OrNull('abc')"), "\\N");
  EXPECT_EQ(TypeOf("toUInt8OrNull('abc')"), "Nullable(UInt8)");
  EXPECT_EQ(EvalOne("toInt32OrNull('7')"), "7");
  EXPECT_EQ(EvalOne("toDate('2024-01-15')"), "2024-01-15");
  EXPECT_EQ(EvalOne("toDateTime('2024-01-15 10:20:30')"), "2024-01-15 10:20:30");
  EXPECT_EQ(EvalOne("toDateTime64('2024-01-15 10:20:30.123', 3)"), "2024-01-15 10:20:30.123");
  EXPECT_EQ(EvalOne("toDate('2024-01-15 10:20:30')"), "2024-01-15");
  EXPECT_EQ(ErrorOf("toDate('nope')").clickhouse_code(), ch::kCannotParseDate);
}

TEST(ConversionTest, DatesAndTimesConvert) {
  EXPECT_EQ(EvalOne("toDate(toDateTime('2024-01-15 23:59:59'))"), "2024-01-15");
  EXPECT_EQ(EvalOne("toDateTime(toDate('2024-01-15'))"), "2024-01-15 00:00:00");
  EXPECT_EQ(EvalOne("toDateTime(toDateTime64('2024-01-15 10:00:00.999', 3))"),
            "2024-01-15 10:00:00");
  EXPECT_EQ(EvalOne("toDateTime64(toDateTime('2024-01-15 10:00:00'), 3)"),
            "2024-01-15 10:00:00.000");
  EXPECT_EQ(EvalOne("toDateTime64(1.5, 3)"), "1970-01-01 00:00:01.500");
  EXPECT_EQ(EvalOne("toInt32(toDate('1970-01-02'))"), "1");
  EXPECT_EQ(EvalOne("toUInt32(toDateTime('2017-11-05 08:07:47'))"), "1509869267");
  EXPECT_EQ(EvalOne("toDate(19737)"), "2024-01-15");
  EXPECT_EQ(EvalOne("toDate(1705276800)"), "2024-01-15");
  EXPECT_EQ(EvalOne("toDateTime(1509869267)"), "2017-11-05 08:07:47");
  EXPECT_EQ(EvalOne("toString(toDate('2024-01-15'))"), "2024-01-15");
  EXPECT_EQ(EvalOne("toDateTime('2024-01-15 10:20:30', 'UTC')"), "2024-01-15 10:20:30");
  EXPECT_EQ(ErrorOf("toDateTime('2024-01-15 10:20:30', 'Europe/Moscow')").code(),
            StatusCode::kNotSupported);
}

TEST(ConversionTest, NullsAndNullable) {
  types::Block b = MakeBlock({{"s", "Nullable(String)", {"1", "\\N"}}});
  EXPECT_EQ(Eval("toInt32(s)", b), (V{"1", "\\N"}));
  EXPECT_EQ(TypeOf("toInt32(s)", b), "Nullable(Int32)");
  EXPECT_EQ(Eval("CAST(s AS Nullable(UInt8))", b), (V{"1", "\\N"}));
  EXPECT_EQ(Eval("CAST(s AS UInt8)", b)[0].rfind("ERROR: Cannot convert NULL", 0), 0u);
}

TEST(ConversionTest, StringTypesAndTypeNames) {
  EXPECT_EQ(EvalOne("toFixedString('ab', 3)"), std::string("ab\0", 3));
  EXPECT_EQ(ErrorOf("toFixedString('abcd', 3)").clickhouse_code(), ch::kTooLargeStringSize);
  EXPECT_EQ(EvalOne("toTypeName(1)"), "UInt8");
  EXPECT_EQ(EvalOne("toTypeName(-1)"), "Int8");
  EXPECT_EQ(EvalOne("toTypeName(256)"), "UInt16");
  EXPECT_EQ(EvalOne("toTypeName(1.5)"), "Float64");
  EXPECT_EQ(EvalOne("toTypeName(NULL)"), "Nullable(Nothing)");
  EXPECT_EQ(EvalOne("toTypeName(INTERVAL 1 DAY)"), "IntervalDay");
  types::Block b = MakeBlock({{"lc", "LowCardinality(String)", {"x"}}});
  EXPECT_EQ(Eval("toTypeName(lc)", b), (V{"LowCardinality(String)"}));
  EXPECT_EQ(Eval("toString(lc)", b), (V{"x"}));
  EXPECT_EQ(TypeOf("CAST('a' AS LowCardinality(String))"), "LowCardinality(String)");
  EXPECT_EQ(ErrorOf("CAST(1 AS Strin)").clickhouse_code(), ch::kUnknownType);
}

}  // namespace
}  // namespace trackhouse::eval

namespace trackhouse::eval {
namespace {

TEST(ConversionTest, ConvertColumnBringsDefaultsToTheColumnType) {
  types::Block b = testing::MakeBlock({{"x", "UInt8", {"1", "2"}}});
  auto out = ConvertColumn(b.at(0).column, *types::ParseDataType("Nullable(Int32)"));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)->type()->name(), "Nullable(Int32)");
  EXPECT_EQ(testing::FormatRow(**out, 1), "2");
  auto bad = ConvertColumn(b.at(0).column, TupleType({b.at(0).type}));
  EXPECT_FALSE(bad.ok());
}

}  // namespace
}  // namespace trackhouse::eval
