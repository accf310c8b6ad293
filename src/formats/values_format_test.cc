#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "common/clock.h"
#include "formats/input_format.h"
#include "formats/input_format_test_util.h"

namespace trackhouse::formats {
namespace {

using testing::Chunks;
using testing::Col;
using testing::ExpectSplitInvariant;
using testing::ParseAll;
using testing::ParseChunks;
using testing::Parsed;
using testing::ParseError;
using testing::ParseOk;
using types::Value;

TEST(ValuesFormatTest, ParsesLiteralsIntoTypedColumns) {
  std::vector<InputColumn> cols = {Col("id", "Int32"), Col("s", "String"),
                                   Col("n", "Nullable(Float64)"),
                                   Col("lc", "LowCardinality(String)")};
  EXPECT_EQ(ParseOk("Values", cols,
                    "(1, 'a', NULL, 'x'), (2, 'b\\'c', -3.5, 'y'),\n( -7 ,'', +2e3,'x' )"),
            "1|a|\\N|x\n2|b'c|-3.5|y\n-7||2000|x\n");
}

TEST(ValuesFormatTest, RowsNeedNoCommasAndMayEndWithSemicolon) {
  EXPECT_EQ(ParseOk("Values", {Col("a", "UInt8")}, "(1)(2) ,(3);\n"), "1\n2\n3\n");
  EXPECT_EQ(ParseOk("Values", {Col("a", "UInt8")}, "  "), "");
}

TEST(ValuesFormatTest, QuotedStringEscapesFollowClickHouse) {
  EXPECT_EQ(ParseOk("Values", {Col("s", "String")},
                    R"(('tab\there'), ('nl\nx'), ('back\\slash'), ('\x41\x62'), ('it''s'), )"
                    R"(('100\%'), ('q\"'), ('a\Nb'))"),
            "tab\there\nnl\nx\nback\\slash\nAb\nit's\n100\\%\nq\"\nab\n");
  Status st = ParseError("Values", {Col("s", "String")}, R"(('bad \x4'))");
  EXPECT_EQ(st.clickhouse_code(), ch::kCannotParseEscapeSequence);
}

TEST(ValuesFormatTest, BooleansNullsAndDefaults) {
  std::vector<InputColumn> cols = {Col("b", "Bool"), Col("u", "UInt8"),
                                   Col("i", "Int32", /*track_omitted=*/true, Value::Int(9)),
                                   Col("s", "String", true, Value::String("d"))};
  EXPECT_EQ(ParseOk("Values", cols,
                    "(true, FALSE, NULL, DEFAULT), (false, true, 5, 'x'), (1, 0, default, null)"),
            "true|0|9|d omitted=11\nfalse|1|5|x omitted=00\ntrue|0|9|d omitted=11\n");
}

TEST(ValuesFormatTest, NumbersAreRangeChecked) {
  std::vector<InputColumn> cols = {Col("a", "Int32"), Col("u", "UInt64")};
  EXPECT_EQ(ParseOk("Values", cols, "(0x1F, 18446744073709551615), (-2147483648, 0b101)"),
            "31|18446744073709551615\n-2147483648|5\n");
  Status st = ParseError("Values", cols, "(1, 1), (2, 2), (3000000000, 3)");
  EXPECT_EQ(st.message(),
            "Cannot parse input: row 3, column 'a': Value 3000000000 is out of range for type "
            "Int32");
  EXPECT_EQ(st.clickhouse_code(), ch::kValueIsOutOfRangeOfDataType);
  st = ParseError("Values", cols, "(1.5, 1)");
  EXPECT_EQ(st.message(),
            "Cannot parse input: row 1, column 'a': Value 1.5 is out of range for type Int32");
  st = ParseError("Values", cols, "(1, -1)");
  EXPECT_EQ(st.clickhouse_code(), ch::kValueIsOutOfRangeOfDataType);
  st = ParseError("Values", cols, "(12abc, 1)");
  EXPECT_EQ(st.message(), "Cannot parse input: row 1, column 'a': Cannot parse number '12abc'");
}

TEST(ValuesFormatTest, StringsConvertToNumbersAndTimes) {
  std::vector<InputColumn> cols = {Col("a", "Int32"), Col("t", "DateTime"),
                                   Col("t3", "DateTime64(3)"), Col("d", "Date"),
                                   Col("s", "String")};
  EXPECT_EQ(ParseOk("Values", cols,
                    "('42', '2024-01-01 10:00:00', '2024-01-01 10:00:00.250', '2024-02-29', 42)"),
            "42|2024-01-01 10:00:00|2024-01-01 10:00:00.250|2024-02-29|42\n");
  Status st = ParseError("Values", cols, "(1, 'soon', 0, 0, '')");
  EXPECT_EQ(st.message(), "Cannot parse input: row 1, column 't': Cannot parse 'soon' as DateTime");
}

TEST(ValuesFormatTest, ConstantFunctionsAreEvaluated) {
  ManualClock clock(1704103200123456);  // 2024-01-01 10:00:00.123456 UTC
  InputOptions opts;
  opts.clock = &clock;
  std::vector<InputColumn> cols = {Col("t", "DateTime"), Col("t3", "DateTime64(3)"),
                                   Col("d", "Date"), Col("s", "String")};
  EXPECT_EQ(ParseOk("Values", cols, "(now(), now64(), today(), NOW())", opts),
            "2024-01-01 10:00:00|2024-01-01 10:00:00.123|2024-01-01|2024-01-01 10:00:00\n");
  EXPECT_EQ(ParseOk("Values", cols, "(now(), now(), now(), today())", opts),
            "2024-01-01 10:00:00|2024-01-01 10:00:00.000|2024-01-01|2024-01-01\n");
  EXPECT_EQ(ParseOk("Values", cols,
                    "(toDateTime('2024-05-01 01:02:03'), toDateTime64('2024-05-01 01:02:03.5', 3),"
                    " toDate('2024-05-01'), toString(toDate('2024-05-02')))",
                    opts),
            "2024-05-01 01:02:03|2024-05-01 01:02:03.500|2024-05-01|2024-05-02\n");
  EXPECT_EQ(ParseOk("Values", cols,
                    "(toDateTime(1714525323), toDateTime64(1714525323, 0), yesterday(), "
                    "toString(toUInt8(7)))",
                    opts),
            "2024-05-01 01:02:03|2024-05-01 01:02:03.000|2023-12-31|7\n");
  Status st = ParseError("Values", cols, "(toUInt8(300), now(), now(), '')", opts);
  EXPECT_EQ(st.clickhouse_code(), ch::kValueIsOutOfRangeOfDataType);
  EXPECT_NE(st.message().find("row 1, column 't'"), std::string::npos);
}

TEST(ValuesFormatTest, ExpressionsAreReportedAsNotSupported) {
  std::vector<InputColumn> cols = {Col("a", "Int32"), Col("x", "String")};
  Status st = ParseError("Values", cols, "(1, 'a'), (2, lower('B'))");
  EXPECT_EQ(st.code(), StatusCode::kNotSupported);
  EXPECT_EQ(st.message(), "Values: expressions are not supported at row 2, column 'x': lower('B')");
  st = ParseError("Values", cols, "(1 + 2, 'a')");
  EXPECT_EQ(st.message(), "Values: expressions are not supported at row 1, column 'a': 1 + 2");
  st = ParseError("Values", cols, "(1, [1, 2])");
  EXPECT_EQ(st.code(), StatusCode::kNotSupported);
  st = ParseError("Values", cols, "(now() - 1, 'a')");
  EXPECT_EQ(st.code(), StatusCode::kNotSupported);
  st = ParseError("Values", cols, "(-x, 'a')");
  EXPECT_EQ(st.code(), StatusCode::kNotSupported);
  // Deep nesting is refused, not recursed into.
  std::string deep = "(1, ";
  for (int i = 0; i < 100000; ++i) deep += "toString(";
  deep += "'x'" + std::string(100000, ')') + ")";
  st = ParseError("Values", cols, deep);
  EXPECT_EQ(st.code(), StatusCode::kNotSupported);
  EXPECT_EQ(ParseOk("Values", cols, "(1, toString(toString(toString('x'))))"), "1|x\n");
}

TEST(ValuesFormatTest, WrongNumberOfValuesIsAnError) {
  std::vector<InputColumn> cols = {Col("a", "Int32"), Col("b", "Int32")};
  Status st = ParseError("Values", cols, "(1, 2), (3)");
  EXPECT_EQ(st.message(), "Cannot parse input: row 2: expected 2 values, found 1");
  EXPECT_EQ(st.clickhouse_code(), ch::kIncorrectNumberOfColumns);
  st = ParseError("Values", cols, "(1, 2, 3)");
  EXPECT_EQ(st.message(), "Cannot parse input: row 1: more than 2 values in the row");
  st = ParseError("Values", cols, "()");
  EXPECT_EQ(st.message(), "Cannot parse input: row 1: expected 2 values, found 0");
  st = ParseError("Values", cols, "(1, )");
  EXPECT_EQ(st.message(), "Cannot parse input: row 1: expected a value after ','");
}

TEST(ValuesFormatTest, SyntaxErrorsNameTheRow) {
  std::vector<InputColumn> cols = {Col("a", "Int32"), Col("s", "String")};
  struct Case {
    const char* input;
    const char* message;
  } cases[] = {
      {"(1, 'a'), (2, 'b'",
       "Cannot parse input: row 2: unexpected end of input inside a row: "
       "missing ')'"},
      {"(1, 'a'), (2, 'b)",
       "Cannot parse input: row 2: unexpected end of input inside a quoted "
       "string"},
      {"(1, 'a') x (2, 'b')",
       "Cannot parse input: row 2: expected '(' at the start of a row, "
       "found 'x'"},
      {"(1, 'a'); (2, 'b')", "Cannot parse input: row 2: unexpected '(' after the final ';'"},
      {"(1, 'a'),, (2, 'b')",
       "Cannot parse input: row 2: expected '(' at the start of a row, "
       "found ','"},
  };
  for (const Case& c : cases) {
    Status st = ParseError("Values", cols, c.input);
    EXPECT_EQ(st.message(), c.message) << c.input;
    EXPECT_EQ(st.clickhouse_code(), ch::kCannotParseInputAssertionFailed);
  }
}

TEST(ValuesFormatTest, SplittingAtEveryByteBoundaryGivesIdenticalBlocks) {
  ManualClock clock(1704103200000000);
  InputOptions opts;
  opts.max_block_rows = 2;
  opts.clock = &clock;
  std::vector<InputColumn> cols = {Col("a", "Nullable(Int64)"), Col("s", "String", true)};
  ExpectSplitInvariant("Values", cols,
                       "(1, 'a\\'(b'), (NULL,'it''s)'),(toInt64('3'), toString(now())) ,(4, "
                       "DEFAULT);",
                       opts);
  ExpectSplitInvariant("Values", cols, "(1, 'x'), (2, 3, 4)", opts);
}

TEST(ValuesFormatTest, BlocksAreCutAtMaxBlockRows) {
  std::string input;
  for (int i = 0; i < 7; ++i) input += "(" + std::to_string(i) + "),";
  Parsed p = ParseChunks("Values", {Col("a", "Int32")}, Chunks(input, 5), {.max_block_rows = 3});
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  ASSERT_EQ(p.blocks.size(), 3u);
  EXPECT_EQ(p.blocks[2].first_row, 6u);
  EXPECT_EQ(p.rows, 7u);
}

TEST(ValuesFormatTest, FuzzedInputNeverCrashes) {
  std::vector<InputColumn> cols = {Col("a", "Int32"), Col("s", "String"), Col("t", "DateTime64(3)"),
                                   Col("n", "Nullable(UInt8)")};
  std::string seed =
      "(1, 'a\\'b', '2024-01-01 00:00:00', NULL), (-2, 'x''y', now64(), 3),"
      "(0x10, toString(1), toDateTime64('2024-01-01', 3), DEFAULT);";
  const char kAlphabet[] = "()',;\\ \n0123456789abxNULDEFnow-+.e\xff";
  std::mt19937 rng(777);
  for (int iter = 0; iter < 5000; ++iter) {
    std::string input = seed;
    for (int m = 0; m < 1 + static_cast<int>(rng() % 4); ++m) {
      size_t pos = rng() % (input.size() + 1);
      switch (rng() % 3) {
        case 0:
          if (pos < input.size()) input.erase(pos, 1 + rng() % 3);
          break;
        case 1:
          input.insert(pos, 1, kAlphabet[rng() % (sizeof(kAlphabet) - 1)]);
          break;
        default:
          if (pos < input.size()) input[pos] = kAlphabet[rng() % (sizeof(kAlphabet) - 1)];
      }
    }
    Parsed p = ParseChunks("Values", cols, Chunks(input, 1 + rng() % 30), {.max_block_rows = 2});
    if (!p.status.ok()) {
      bool named =
          p.status.message().rfind("Cannot parse input: row ", 0) == 0 ||
          p.status.message().rfind("Values: expressions are not supported at row ", 0) == 0;
      EXPECT_TRUE(named) << p.status.message();
    }
    for (const auto& b : p.blocks) ASSERT_TRUE(b.block.Validate().ok());
  }
}

}  // namespace
}  // namespace trackhouse::formats
