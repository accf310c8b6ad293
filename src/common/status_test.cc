#include "common/status.h"

#include <gtest/gtest.h>

namespace trackhouse {
namespace {

Result<int> Half(int x) {
  if (x % 2) return Status::InvalidArgument("odd");
  return x / 2;
}

Status UseHalf(int x, int* out) {
  TH_ASSIGN_OR_RETURN(*out, Half(x));
  return Status::OK();
}

TEST(StatusTest, OkHasNoMessage) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, CarriesClickHouseCode) {
  Status s = Status::InvalidArgument("bad", ch::kSyntaxError);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.clickhouse_code(), 62);
  EXPECT_EQ(ch::ErrorCodeName(s.clickhouse_code()), "SYNTAX_ERROR");
  EXPECT_EQ(s.WithContext("row 3").message(), "row 3: bad");
}

TEST(StatusTest, AssignOrReturnPropagates) {
  int v = 0;
  EXPECT_TRUE(UseHalf(8, &v).ok());
  EXPECT_EQ(v, 4);
  Status s = UseHalf(7, &v);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "odd");
}

}  // namespace
}  // namespace trackhouse
