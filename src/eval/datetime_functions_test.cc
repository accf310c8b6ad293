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

TEST(DateTimeFunctionsTest, Parts) {
  EXPECT_EQ(EvalOne("toYear(toDate('2024-02-29'))"), "2024");
  EXPECT_EQ(EvalOne("toQuarter(toDate('2024-05-15'))"), "2");
  EXPECT_EQ(EvalOne("toMonth(toDate('2024-02-29'))"), "2");
  EXPECT_EQ(EvalOne("toDayOfMonth(toDate('2024-02-29'))"), "29");
  EXPECT_EQ(EvalOne("toDayOfYear(toDate('2024-12-31'))"), "366");
  EXPECT_EQ(EvalOne("toDayOfWeek(toDate('2024-01-01'))"), "1");
  EXPECT_EQ(EvalOne("toDayOfWeek(toDate('2023-12-31'))"), "7");
  EXPECT_EQ(EvalOne("toHour(toDateTime('2024-02-29 10:11:12'))"), "10");
  EXPECT_EQ(EvalOne("toMinute(toDateTime('2024-02-29 10:11:12'))"), "11");
  EXPECT_EQ(EvalOne("toSecond(toDateTime('2024-02-29 10:11:12'))"), "12");
  EXPECT_EQ(EvalOne("toYYYYMM(toDateTime('2024-02-29 10:11:12'))"), "202402");
  EXPECT_EQ(EvalOne("toYYYYMMDD(toDate('2024-02-29'))"), "20240229");
  EXPECT_EQ(EvalOne("toYYYYMMDDhhmmss(toDateTime('2024-02-29 10:11:12'))"), "20240229101112");
  EXPECT_EQ(EvalOne("toUnixTimestamp(toDateTime('2017-11-05 08:07:47'))"), "1509869267");
  EXPECT_EQ(EvalOne("toUnixTimestamp('2017-11-05 08:07:47')"), "1509869267");
  EXPECT_EQ(TypeOf("toYear(now())"), "UInt16");
  EXPECT_EQ(TypeOf("toMonth(now())"), "UInt8");
  EXPECT_EQ(TypeOf("toUnixTimestamp(now())"), "UInt32");
  EXPECT_EQ(ErrorOf("toHour(toDate('2024-01-01'))").clickhouse_code(), ch::kIllegalTypeOfArgument);
}

TEST(DateTimeFunctionsTest, StartOfPeriods) {
  EXPECT_EQ(EvalOne("toMonday(toDate('2024-01-03'))"), "2024-01-01");
  EXPECT_EQ(EvalOne("toStartOfWeek(toDate('2024-01-03'))"), "2023-12-31");
  EXPECT_EQ(EvalOne("toStartOfWeek(toDate('2024-01-03'), 1)"), "2024-01-01");
  EXPECT_EQ(EvalOne("toStartOfWeek(toDate('2023-12-31'))"), "2023-12-31");
  EXPECT_EQ(EvalOne("toStartOfMonth(toDate('2024-02-29'))"), "2024-02-01");
  EXPECT_EQ(EvalOne("toStartOfQuarter(toDate('2024-05-15'))"), "2024-04-01");
  EXPECT_EQ(EvalOne("toStartOfYear(toDateTime('2024-05-15 10:00:00'))"), "2024-01-01");
  const char* t = "toDateTime('2024-02-29 10:11:12')";
  EXPECT_EQ(EvalOne(std::string("toStartOfDay(") + t + ")"), "2024-02-29 00:00:00");
  EXPECT_EQ(EvalOne(std::string("toStartOfHour(") + t + ")"), "2024-02-29 10:00:00");
  EXPECT_EQ(EvalOne(std::string("toStartOfMinute(") + t + ")"), "2024-02-29 10:11:00");
  EXPECT_EQ(EvalOne(std::string("toStartOfFiveMinutes(") + t + ")"), "2024-02-29 10:10:00");
  EXPECT_EQ(EvalOne(std::string("toStartOfFiveMinute(") + t + ")"), "2024-02-29 10:10:00");
  EXPECT_EQ(EvalOne(std::string("toStartOfFifteenMinutes(") + t + ")"), "2024-02-29 10:00:00");
  EXPECT_EQ(EvalOne("toStartOfMinute(toDateTime64('2023-04-21 10:20:30.5300', 8))"),
            "2023-04-21 10:20:00");
  EXPECT_EQ(TypeOf("toStartOfHour(now64())"), "DateTime");
  EXPECT_EQ(TypeOf("toMonday(now())"), "Date");
}

TEST(DateTimeFunctionsTest, DateDiffCountsBoundaries) {
  EXPECT_EQ(EvalOne("dateDiff('hour', toDateTime('2018-01-01 22:00:00'), "
                    "toDateTime('2018-01-02 23:00:00'))"),
            "25");
  EXPECT_EQ(EvalOne("dateDiff('day', toDateTime('2024-01-01 23:59:59'), "
                    "toDateTime('2024-01-02 00:00:00'))"),
            "1");
  EXPECT_EQ(EvalOne("dateDiff('month', toDate('2024-01-31'), toDate('2024-02-01'))"), "1");
  EXPECT_EQ(EvalOne("dateDiff('year', toDate('2023-12-31'), toDate('2024-01-01'))"), "1");
  EXPECT_EQ(EvalOne("dateDiff('week', toDate('2024-01-07'), toDate('2024-01-08'))"), "1");
  EXPECT_EQ(EvalOne("dateDiff('week', toDate('2024-01-01'), toDate('2024-01-07'))"), "0");
  EXPECT_EQ(EvalOne("dateDiff('second', toDateTime('2024-01-01 00:00:00'), "
                    "toDateTime('2024-01-01 00:01:00'))"),
            "60");
  EXPECT_EQ(EvalOne("dateDiff('d', toDate('2024-01-10'), toDate('2024-01-01'))"), "-9");
  EXPECT_EQ(TypeOf("dateDiff('day', now(), now())"), "Int64");
  EXPECT_EQ(ErrorOf("dateDiff('fortnight', now(), now())").clickhouse_code(), ch::kBadArguments);
}

TEST(DateTimeFunctionsTest, AddAndSubtract) {
  EXPECT_EQ(EvalOne("addMonths(toDate('2024-01-31'), 1)"), "2024-02-29");
  EXPECT_EQ(EvalOne("addYears(toDate('2024-02-29'), 1)"), "2025-02-28");
  EXPECT_EQ(EvalOne("subtractDays(toDate('2024-03-01'), 1)"), "2024-02-29");
  EXPECT_EQ(EvalOne("addHours(toDateTime('2024-01-01 23:00:00'), 2)"), "2024-01-02 01:00:00");
  EXPECT_EQ(EvalOne("addWeeks(toDate('2024-01-01'), 1)"), "2024-01-08");
  EXPECT_EQ(EvalOne("toIntervalDay(3)"), "3");
  types::Block b = MakeBlock({{"t", "DateTime", {"2024-01-31 10:00:00", "2024-03-31 00:00:00"}},
                              {"n", "Int32", {"1", "-1"}}});
  EXPECT_EQ(Eval("addMonths(t, n)", b), (V{"2024-02-29 10:00:00", "2024-02-29 00:00:00"}));
  EXPECT_EQ(Eval("t - INTERVAL n DAY", b), (V{"2024-01-30 10:00:00", "2024-04-01 00:00:00"}));
}

}  // namespace
}  // namespace trackhouse::eval
