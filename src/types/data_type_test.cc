#include "types/data_type.h"

#include <gtest/gtest.h>

namespace trackhouse::types {
namespace {

TEST(DataTypeTest, ParsesGuideTypes) {
  for (const char* t :
       {"LowCardinality(String)", "Int32", "DateTime64(3)", "UInt32", "String", "DateTime",
        "Nullable(Int64)", "FixedString(16)", "Bool", "Date", "Float64", "UInt8"}) {
    auto r = ParseDataType(t);
    ASSERT_TRUE(r.ok()) << t << ": " << r.status().ToString();
    EXPECT_EQ((*r)->name(), t);
  }
}

TEST(DataTypeTest, NormalizesSpacingAndAliases) {
  EXPECT_EQ((*ParseDataType(" Nullable( Int32 ) "))->name(), "Nullable(Int32)");
  EXPECT_EQ((*ParseDataType("DateTime64(3, 'UTC')"))->name(), "DateTime64(3)");
  EXPECT_EQ((*ParseDataType("BIGINT"))->name(), "Int64");
}

TEST(DataTypeTest, UnknownTypeNamesIt) {
  auto r = ParseDataType("Strin");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().clickhouse_code(), ch::kUnknownType);
  EXPECT_NE(r.status().message().find("Strin"), std::string::npos);
  EXPECT_FALSE(ParseDataType("DateTime64(12)").ok());
  EXPECT_FALSE(ParseDataType("FixedString(0)").ok());
  EXPECT_FALSE(ParseDataType("Nullable(Nullable(Int8))").ok());
  EXPECT_FALSE(ParseDataType("Tuple(String)").ok());
  EXPECT_FALSE(ParseDataType("Int32(").ok());
}

TEST(DataTypeTest, ParsesNestedArrays) {
  auto r = ParseDataType("Array( Array(Nullable(String)) )");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const DataTypePtr& t = *r;
  EXPECT_EQ(t->name(), "Array(Array(Nullable(String)))");
  EXPECT_TRUE(t->is_array());
  EXPECT_FALSE(t->is_integer());
  EXPECT_FALSE(t->is_numeric());
  EXPECT_FALSE(t->is_time());
  EXPECT_EQ(t->value_width(), 0u);
  ASSERT_TRUE(t->nested()->is_array());
  EXPECT_EQ(t->nested()->nested()->name(), "Nullable(String)");
  EXPECT_TRUE(
      DataType::Array(DataType::Get(TypeId::kUInt8))->Equals(**ParseDataType("Array(UInt8)")));
  // Array(LowCardinality(String)) keeps the dictionary-encoded element type.
  EXPECT_EQ((*ParseDataType("Array(LowCardinality(String))"))->nested()->id(),
            TypeId::kLowCardinality);
}

TEST(DataTypeTest, RejectsMisplacedArrays) {
  EXPECT_EQ(ParseDataType("Nullable(Array(Int8))").status().clickhouse_code(),
            ch::kIllegalTypeOfArgument);
  EXPECT_EQ(ParseDataType("LowCardinality(Array(String))").status().clickhouse_code(),
            ch::kIllegalTypeOfArgument);
  EXPECT_EQ(ParseDataType("Array()").status().clickhouse_code(), ch::kNumberOfArgumentsDoesntMatch);
  EXPECT_EQ(ParseDataType("Array(Strin)").status().clickhouse_code(), ch::kUnknownType);
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "Array(";
  deep += "UInt8";
  deep.append(100000, ')');
  EXPECT_EQ(ParseDataType(deep).status().clickhouse_code(), ch::kUnknownType);
}

}  // namespace
}  // namespace trackhouse::types
