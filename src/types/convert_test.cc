#include "types/convert.h"

#include <gtest/gtest.h>

#include <cmath>

namespace trackhouse::types {
namespace {

DataTypePtr T(const char* name) { return *ParseDataType(name); }

TEST(ConvertTest, RangeChecksIntegers) {
  EXPECT_EQ(ConvertValue(Value::Int(-5), *T("Int8"))->int_value(), -5);
  auto r = ConvertValue(Value::UInt(3000000000), *T("Int32"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().clickhouse_code(), ch::kValueIsOutOfRangeOfDataType);
  EXPECT_NE(r.status().message().find("Int32"), std::string::npos);
  EXPECT_FALSE(ConvertValue(Value::Int(-1), *T("UInt32")).ok());
  EXPECT_FALSE(ConvertValue(Value::Float(1.5), *T("Int32")).ok());
  EXPECT_EQ(ConvertValue(Value::Float(7.0), *T("UInt8"))->uint_value(), 7u);
}

// Found by fuzz/format_tab_separated_fuzzer: 2^64 (the text 18446744073709551616, which only
// fits a double) passed the UInt64 range check and its conversion was undefined behaviour;
// likewise 2^63 for Int64.
// Found by format_tab_separated_with_names_fuzzer: a Date read from the lowest Int64 as a Unix
// time negated it while rounding down to a day.
TEST(ConvertTest, DateFromTheLowestUnixTimeIsOutOfRange) {
  auto r = ParseValueText("-9223372036854775808", *T("Date"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().clickhouse_code(), ch::kValueIsOutOfRangeOfDataType);
  auto before_epoch = ParseValueText("-86400000001", *T("Date"));
  EXPECT_FALSE(before_epoch.ok());
}

TEST(ConvertTest, FloatsAtTheTopOf64BitRangesAreOutOfRange) {
  for (auto [text, type] : {std::pair{"18446744073709551616", "UInt64"},
                            std::pair{"9223372036854775808.0", "Int64"},
                            std::pair{"4294967296.0", "UInt32"}}) {
    auto r = ParseValueText(text, *T(type));
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().clickhouse_code(), ch::kValueIsOutOfRangeOfDataType) << text;
  }
  EXPECT_FALSE(ConvertValue(Value::Float(18446744073709551616.0), *T("UInt64")).ok());
  EXPECT_FALSE(ConvertValue(Value::Float(9223372036854775808.0), *T("Int64")).ok());
  // The largest doubles below those bounds (2^64 - 2^11, 2^63 - 2^10) and the lowest Int64
  // convert exactly.
  EXPECT_EQ(ConvertValue(Value::Float(18446744073709549568.0), *T("UInt64"))->uint_value(),
            18446744073709549568u);
  EXPECT_EQ(ConvertValue(Value::Float(9223372036854774784.0), *T("Int64"))->int_value(),
            9223372036854774784);
  EXPECT_EQ(ConvertValue(Value::Float(-9223372036854775808.0), *T("Int64"))->int_value(),
            INT64_MIN);
}

TEST(ConvertTest, StringsParseIntoTimeAndNumbers) {
  EXPECT_EQ(ConvertValue(Value::String("2024-01-01 00:00:01"), *T("DateTime"))->uint_value(),
            1704067201u);
  EXPECT_EQ(ConvertValue(Value::String("2024-01-01 00:00:01.5"), *T("DateTime64(3)"))->int_value(),
            1704067201500);
  EXPECT_EQ(ConvertValue(Value::String("42"), *T("Int32"))->int_value(), 42);
  EXPECT_FALSE(ConvertValue(Value::String("4x2"), *T("Int32")).ok());
  EXPECT_FALSE(ConvertValue(Value::String("not a date"), *T("Date")).ok());
}

TEST(ConvertTest, NullOnlyForNullable) {
  EXPECT_TRUE(ConvertValue(Value(), *T("Nullable(Int32)"))->is_null());
  EXPECT_FALSE(ConvertValue(Value(), *T("Int32")).ok());
}

TEST(ConvertTest, FormatsText) {
  EXPECT_EQ(FormatValueText(Value::UInt(1704067201), *T("DateTime")), "2024-01-01 00:00:01");
  EXPECT_EQ(FormatValueText(Value::Int(1704067201500), *T("DateTime64(3)")),
            "2024-01-01 00:00:01.500");
  EXPECT_EQ(FormatValueText(Value(), *T("Nullable(String)")), "\\N");
  EXPECT_EQ(FormatValueText(Value::UInt(1), *T("Bool")), "true");
}

TEST(ConvertTest, FixedStringTooLong) {
  EXPECT_FALSE(ConvertValue(Value::String("abcdef"), *T("FixedString(4)")).ok());
  EXPECT_TRUE(ConvertValue(Value::String("abcd"), *T("FixedString(4)")).ok());
}

TEST(ConvertTest, ArraysConvertElementWise) {
  auto r = ConvertValue(Value::Array({Value::Int(1), Value::String("2"), Value()}),
                        *T("Array(Nullable(UInt8))"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->ToString(), "[1, 2, NULL]");
  EXPECT_EQ(r->array_value()[0].kind(), Value::Kind::kUInt);
  auto bad = ConvertValue(Value::Array({Value::Int(300)}), *T("Array(UInt8)"));
  EXPECT_EQ(bad.status().clickhouse_code(), ch::kValueIsOutOfRangeOfDataType);
  EXPECT_EQ(ConvertValue(Value::Array({}), *T("Int32")).status().clickhouse_code(),
            ch::kCannotConvertType);
  EXPECT_EQ(ConvertValue(Value::Int(1), *T("Array(Int32)")).status().clickhouse_code(),
            ch::kCannotConvertType);
  EXPECT_EQ(PhysicalKind(*T("Array(Int32)")), Value::Kind::kArray);
  EXPECT_EQ(DefaultValue(*T("Array(Int32)")).ToString(), "[]");
}

TEST(ConvertTest, ArrayTextQuotesElementsAsClickHouse) {
  Value v = Value::Array({Value::String("a'b\\c\n"), Value(), Value::String("")});
  EXPECT_EQ(FormatValueText(v, *T("Array(Nullable(String))")), "['a\\'b\\\\c\\n',NULL,'']");
  Value dates = Value::Array({Value::UInt(19753)});
  EXPECT_EQ(FormatValueText(dates, *T("Array(Date)")), "['2024-01-31']");
  Value nested =
      Value::Array({Value::Array({Value::Float(1.5), Value::Float(-INFINITY)}), Value::Array({})});
  EXPECT_EQ(FormatValueText(nested, *T("Array(Array(Float64))")), "[[1.5,-inf],[]]");
  Value flags = Value::Array({Value::UInt(1), Value::UInt(0)});
  EXPECT_EQ(FormatValueText(flags, *T("Array(Bool)")), "[true,false]");
  EXPECT_EQ(ParseValueText("[1]", *T("Array(Int32)")).status().clickhouse_code(),
            ch::kNotImplemented);
}

}  // namespace
}  // namespace trackhouse::types
