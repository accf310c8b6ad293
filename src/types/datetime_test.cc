#include "types/datetime.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

namespace trackhouse::types {
namespace {

TEST(DateTimeTest, CivilRoundTrip) {
  for (int64_t d = -800000; d < 800000; d += 37) {
    CivilDate c = CivilFromDays(d);
    EXPECT_EQ(DaysFromCivil(c.year, c.month, c.day), d);
  }
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(2024, 2, 29), 19782);
}

TEST(DateTimeTest, ParsesAndFormats) {
  EXPECT_EQ(*ParseDateTimeText("2024-02-29 12:34:56", 0), 1709210096);
  EXPECT_EQ(*ParseDateTimeText("2024-02-29T12:34:56Z", 0), 1709210096);
  EXPECT_EQ(*ParseDateTimeText("2024-02-29T14:34:56+02:00", 0), 1709210096);
  EXPECT_EQ(*ParseDateTimeText("2024-02-29 12:34:56.789", 3), 1709210096789);
  EXPECT_EQ(*ParseDateTimeText("2024-02-29 12:34:56.7", 3), 1709210096700);
  EXPECT_EQ(*ParseDateTimeText("1709210096", 0), 1709210096);
  EXPECT_EQ(*ParseDateTimeText("1709210096.5", 3), 1709210096500);
  EXPECT_EQ(*ParseDateTimeText("2024-02-29", 0), 1709164800);
  EXPECT_EQ(FormatDateTime64(1709210096789, 3), "2024-02-29 12:34:56.789");
  EXPECT_EQ(FormatDateTime(0), "1970-01-01 00:00:00");
  EXPECT_EQ(FormatDate(19782), "2024-02-29");
  EXPECT_EQ(FormatDateTime64(-1, 3), "1969-12-31 23:59:59.999");
}

// Found by fuzz/format_row_binary_fuzzer: the lowest DateTime64 tick count (RowBinary can hold
// any Int64) was negated while formatting, which overflows.
TEST(DateTimeTest, FormatsExtremeTicksAndSeconds) {
  const int64_t lowest = std::numeric_limits<int64_t>::min();
  std::string text = FormatDateTime64(lowest, 3);
  EXPECT_TRUE(text.ends_with(" 16:47:04.192")) << text;
  EXPECT_TRUE(FormatDateTime(lowest).ends_with(" 08:29:52")) << FormatDateTime(lowest);
  EXPECT_TRUE(FormatDateTime64(lowest + 1, 9).ends_with(".145224193")) << lowest + 1;
  EXPECT_EQ(FormatDateTime64(-86400000, 3), "1969-12-31 00:00:00.000");
  EXPECT_EQ(FormatDateTime(-1), "1969-12-31 23:59:59");
}

// Found by the TSV and CSV fuzzers: seconds with a fraction scaled to ticks overflowed Int64.
TEST(DateTimeTest, FractionalUnixTimeBeyondInt64TicksIsNotATime) {
  EXPECT_FALSE(ParseDateTimeText("170410474836483200.5", 3));
  EXPECT_FALSE(ParseDateTimeText("-9223372036854775.809", 3));
  EXPECT_EQ(ParseDateTimeText("9223372036854775.807", 3), 9223372036854775807);
  EXPECT_EQ(ParseDateTimeText("1704103200.5", 3), 1704103200500);
}

TEST(DateTimeTest, RejectsMalformed) {
  EXPECT_FALSE(ParseDateTimeText("2024-02-30 00:00:00", 0));
  EXPECT_FALSE(ParseDateTimeText("2024-13-01", 0));
  EXPECT_FALSE(ParseDateTimeText("yesterday", 0));
  EXPECT_FALSE(ParseDateTimeText("2024-01-01 25:00:00", 0));
  EXPECT_FALSE(ParseDateTimeText("", 0));
  EXPECT_FALSE(ParseDateText("2024-1-1"));
}

}  // namespace
}  // namespace trackhouse::types
