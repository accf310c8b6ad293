#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

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

std::vector<InputColumn> Mixed() {
  return {Col("id", "UInt32"), Col("s", "String"), Col("n", "Nullable(Int16)"),
          Col("t", "DateTime", /*track_omitted=*/true, Value::UInt(86400))};
}

TEST(TabSeparatedTest, ParsesEscapedFieldsAndNulls) {
  EXPECT_EQ(ParseOk("TabSeparated", Mixed(),
                    "1\ta\\tb\\nc\\\\d\t\\N\t2024-01-01 00:00:00\n"
                    "2\tline\\\nbreak\t-5\t\\N\n"
                    "3\t\\x41\\'\\%\t7\t1704067200"),
            "1|a\tb\nc\\d|\\N|2024-01-01 00:00:00 omitted=0\n"
            "2|line\nbreak|-5|1970-01-02 00:00:00 omitted=1\n"
            "3|A'\\%|7|2024-01-01 00:00:00 omitted=0\n");
  EXPECT_EQ(ParseOk("TSV", {Col("a", "Int8")}, "1\n2\n"), "1\n2\n");
}

TEST(TabSeparatedTest, EmptyNumberIsZeroAndEmptyLineIsARow) {
  EXPECT_EQ(ParseOk("TabSeparated", {Col("a", "Int32"), Col("f", "Float64"), Col("s", "String")},
                    "\t\t\n"),
            "0|0|\n");
  EXPECT_EQ(ParseOk("TabSeparated", {Col("s", "String")}, "a\n\nb\n"), "a\n\nb\n");
  Status st = ParseError("TabSeparated", {Col("a", "Int32"), Col("b", "Int32")}, "1\t2\n\n");
  EXPECT_EQ(st.message(), "Cannot parse input: row 2: expected 2 fields, found 1");
}

TEST(TabSeparatedTest, FieldCountAndValueErrorsNameRowAndColumn) {
  std::vector<InputColumn> cols = {Col("a", "Int32"), Col("b", "String")};
  Status st = ParseError("TabSeparated", cols, "1\tx\n2\ty\tz\n");
  EXPECT_EQ(st.message(), "Cannot parse input: row 2: expected 2 fields, found 3");
  EXPECT_EQ(st.clickhouse_code(), ch::kIncorrectNumberOfColumns);
  st = ParseError("TabSeparated", cols, "1\tx\n2\ty\nabc\tz\n");
  EXPECT_EQ(st.message(), "Cannot parse input: row 3, column 'a': Cannot parse 'abc' as Int32");
  st = ParseError("TabSeparated", cols, "3000000000\tx\n");
  EXPECT_EQ(st.clickhouse_code(), ch::kValueIsOutOfRangeOfDataType);
  // CRLF line ends: the \r stays in the last field (a String keeps it, a number fails).
  EXPECT_EQ(ParseOk("TabSeparated", cols, "1\tx\r\n"), "1|x\r\n");
  st = ParseError("TabSeparated", {Col("b", "String"), Col("a", "Int32")}, "x\t1\r\n");
  EXPECT_NE(st.message().find("carriage return"), std::string::npos) << st.message();
  st = ParseError("TabSeparated", cols, "1\t\\x4\n");
  EXPECT_EQ(st.clickhouse_code(), ch::kCannotParseEscapeSequence);
}

TEST(TabSeparatedTest, NullForNonNullableIsTheDefault) {
  EXPECT_EQ(ParseOk("TabSeparated", {Col("a", "Int32", true, Value::Int(5)), Col("s", "String")},
                    "\\N\t\\N\n"),
            "5| omitted=1\n");
}

TEST(TabSeparatedWithNamesTest, HeaderMapsNamesToColumns) {
  std::vector<InputColumn> cols = {Col("a", "Int32", true), Col("b", "String", true),
                                   Col("c", "UInt8", true, Value::UInt(9))};
  EXPECT_EQ(ParseOk("TabSeparatedWithNames", cols, "b\ta\nx\t1\ny\t2\n"),
            "1|x|9 omitted=001\n2|y|9 omitted=001\n");
  EXPECT_EQ(ParseOk("TSVWithNames", cols, "c\n3\n"), "0||3 omitted=110\n");
  EXPECT_EQ(ParseOk("TSVWithNames", cols, ""), "");
  EXPECT_EQ(ParseOk("TSVWithNames", cols, "a\tb\n"), "");
  Status st = ParseError("TSVWithNames", cols, "a\tzz\n1\t2\n");
  EXPECT_EQ(st.message(),
            "Cannot parse input: header: Unknown field found while parsing TabSeparatedWithNames "
            "format: zz");
  EXPECT_EQ(st.clickhouse_code(), ch::kNoSuchColumnInTable);
  st = ParseError("TSVWithNames", cols, "a\ta\n1\t2\n");
  EXPECT_EQ(st.clickhouse_code(), ch::kIncorrectData);
  InputOptions opts;
  opts.skip_unknown_fields = true;
  EXPECT_EQ(ParseOk("TSVWithNames", cols, "zz\ta\nignored\t4\n", opts), "4||9 omitted=011\n");
  st = ParseError("TSVWithNames", cols, "a\tb\n1\tx\n2\n");
  EXPECT_EQ(st.message(), "Cannot parse input: row 2: expected 2 fields, found 1");
}

TEST(CsvTest, ParsesQuotedAndUnquotedFields) {
  EXPECT_EQ(ParseOk("CSV", Mixed(),
                    "1,abc,-3,2024-01-01 00:00:00\n"
                    "2,\"x,\"\"y\"\"\nz\",\\N,\"2024-01-02 00:00:00\"\r\n"
                    "  3 ,  padded  ,\"5\",\n"
                    "4,\"\",,1704067200"),
            "1|abc|-3|2024-01-01 00:00:00 omitted=0\n"
            "2|x,\"y\"\nz|\\N|2024-01-02 00:00:00 omitted=0\n"
            "3|padded|5|1970-01-02 00:00:00 omitted=1\n"
            "4||\\N|2024-01-01 00:00:00 omitted=0\n");
}

TEST(CsvTest, LineEndingsLfCrLfAndCr) {
  EXPECT_EQ(ParseOk("CSV", {Col("a", "Int32"), Col("s", "String")}, "1,a\r\n2,b\r3,c\n4,d"),
            "1|a\n2|b\n3|c\n4|d\n");
}

TEST(CsvTest, EmptyUnquotedFieldIsTheDefaultAndNullIsBackslashN) {
  std::vector<InputColumn> cols = {Col("a", "Int32", true, Value::Int(7)),
                                   Col("s", "String", true, Value::String("d")),
                                   Col("n", "Nullable(String)", true)};
  EXPECT_EQ(ParseOk("CSV", cols, ",,\n\\N,\\N,\\N\n1,\"\",\"\\N\"\n1,NULL,NULL\n"),
            "7|d|\\N omitted=111\n7|d|\\N omitted=110\n1||\\N omitted=000\n1|NULL|NULL "
            "omitted=000\n");
}

TEST(CsvTest, ErrorsNameRowAndColumn) {
  std::vector<InputColumn> cols = {Col("a", "Int32"), Col("s", "String")};
  Status st = ParseError("CSV", cols, "1,a\n2,\"b\"x\n");
  EXPECT_EQ(st.message(),
            "Cannot parse input: row 2: expected ',' or the end of the row after quoted field 2");
  st = ParseError("CSV", cols, "1,a\n2,\"open\n");
  EXPECT_EQ(st.message(),
            "Cannot parse input: row 2: unexpected end of input inside a quoted field");
  st = ParseError("CSV", cols, "1,a\n2,b,c\n");
  EXPECT_EQ(st.message(), "Cannot parse input: row 2: expected 2 fields, found 3");
  st = ParseError("CSV", cols, "1,a\nx,b\n");
  EXPECT_EQ(st.message(), "Cannot parse input: row 2, column 'a': Cannot parse 'x' as Int32");
  st = ParseError("CSV", cols, "1.5,a\n");
  EXPECT_EQ(st.message(),
            "Cannot parse input: row 1, column 'a': Value 1.5 is out of range for type Int32");
}

TEST(CsvWithNamesTest, HeaderMayBeQuoted) {
  std::vector<InputColumn> cols = {Col("a", "Int32"), Col("b c", "String")};
  EXPECT_EQ(ParseOk("CSVWithNames", cols, "\"b c\",a\r\n\"x\",1\r\ny,2"), "1|x\n2|y\n");
  Status st = ParseError("CSVWithNames", cols, "a,nope\n1,2\n");
  EXPECT_EQ(st.clickhouse_code(), ch::kNoSuchColumnInTable);
}

TEST(TextFormatsTest, ByteOrderMarkIsSkipped) {
  EXPECT_EQ(ParseOk("CSVWithNames", {Col("a", "Int32")},
                    "\xEF\xBB\xBF"
                    "a\n1\n"),
            "1\n");
  EXPECT_EQ(ParseOk("TabSeparated", {Col("a", "String")}, "\xEF\xBB\xBFx\n"), "x\n");
}

TEST(TextFormatsTest, SplittingAtEveryByteBoundaryGivesIdenticalBlocks) {
  InputOptions opts;
  opts.max_block_rows = 2;
  std::vector<InputColumn> cols = {Col("a", "Nullable(Int32)"), Col("s", "String", true)};
  ExpectSplitInvariant("TabSeparated", cols, "1\ta\\\nb\n\\N\tx\\\\\n3\t\\t\n-4\t\r", opts);
  ExpectSplitInvariant("TSVWithNames", cols, "s\ta\nq\t1\n\\N\t2", opts);
  ExpectSplitInvariant("CSV", cols, "1,\"a\r\nb\"\r\n,\"x\"\"y\"\r3, z \n\\N,\n5,\"", opts);
  ExpectSplitInvariant("CSVWithNames", cols, "\"s\",a\r\n\"q\",1\rr,2\r", opts);
}

TEST(TextFormatsTest, BlocksAreCutAtMaxBlockRows) {
  std::string input;
  for (int i = 0; i < 9; ++i) input += std::to_string(i) + ",x\n";
  Parsed p = ParseChunks("CSV", {Col("a", "Int32"), Col("s", "String")}, Chunks(input, 4),
                         {.max_block_rows = 4});
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  ASSERT_EQ(p.blocks.size(), 3u);
  EXPECT_EQ(p.blocks[1].first_row, 4u);
  EXPECT_EQ(p.blocks[2].block.rows(), 1u);
}

TEST(TextFormatsTest, RowLargerThanMaxRowBytesIsAnError) {
  InputOptions opts;
  opts.max_row_bytes = 50;
  std::string big(80, 'x');
  for (const char* format : {"TabSeparated", "CSV"}) {
    Status st = ParseError(format, {Col("s", "String")}, "a\n" + big + "\n", opts);
    EXPECT_EQ(st.message(), "Cannot parse input: row 2 is larger than max_row_bytes (50 bytes)");
    Parsed p = ParseChunks(format, {Col("s", "String")}, Chunks("a\n" + big + big, 10), opts);
    EXPECT_FALSE(p.status.ok());
  }
}

TEST(TextFormatsTest, FuzzedInputNeverCrashes) {
  std::vector<InputColumn> cols = {Col("a", "Int32"), Col("s", "String"), Col("t", "DateTime"),
                                   Col("n", "Nullable(UInt8)")};
  const char* seeds[] = {"a\ts\tt\tn\n1\tx\\ty\t2024-01-01 00:00:00\t\\N\n-2\t\\\\\t0\t3\n",
                         "a,s,t,n\r\n1,\"x,\"\"y\",2024-01-01 00:00:00,\\N\n-2,,0,3\r"};
  const char* formats[][2] = {{"TabSeparated", "TSVWithNames"}, {"CSV", "CSVWithNames"}};
  const char kAlphabet[] = "\t,\"\\\n\r 0123456789axN-:\xff";
  std::mt19937 rng(4242);
  for (int iter = 0; iter < 6000; ++iter) {
    int which = iter % 2;
    std::string input = seeds[which];
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
    const char* format = formats[which][iter / 2 % 2];
    Parsed p = ParseChunks(format, cols, Chunks(input, 1 + rng() % 20), {.max_block_rows = 2});
    if (!p.status.ok()) {
      EXPECT_EQ(p.status.message().rfind("Cannot parse input: ", 0), 0u) << p.status.message();
    }
    for (const auto& b : p.blocks) ASSERT_TRUE(b.block.Validate().ok());
  }
}

}  // namespace
}  // namespace trackhouse::formats
