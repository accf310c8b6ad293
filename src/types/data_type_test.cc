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
  EXPECT_FALSE(ParseDataType("Array(String)").ok());
  EXPECT_FALSE(ParseDataType("Int32(").ok());
}

}  // namespace
}  // namespace trackhouse::types
