#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "common/metrics.h"
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
using testing::RowsText;
using types::Value;

std::vector<InputColumn> EntityColumns() {
  return {Col("entityType", "LowCardinality(String)"),
          Col("entityId", "Int32"),
          Col("userId", "Int32"),
          Col("metricType", "LowCardinality(String)"),
          Col("metricValue", "Int32"),
          Col("createdAt", "DateTime64(3)")};
}

std::string EntityRow(int i) {
  static const char* kTypes[] = {"post", "image", "model", "article"};
  static const char* kMetrics[] = {"view", "like", "download"};
  return "{\"entityType\":\"" + std::string(kTypes[i % 4]) +
         "\",\"entityId\":" + std::to_string(1000 + i % 977) +
         ",\"userId\":" + std::to_string(50000 + i % 3331) + ",\"metricType\":\"" +
         kMetrics[i % 3] + "\",\"metricValue\":" + std::to_string(i % 5) +
         ",\"createdAt\":\"2024-03-01 10:" + std::to_string(10 + i % 50) + ":05.123\"}\n";
}

TEST(JsonEachRowTest, ParsesRowsIntoTypedColumns) {
  std::string input = EntityRow(0) + EntityRow(1);
  EXPECT_EQ(ParseOk("JSONEachRow", EntityColumns(), input),
            "post|1000|50000|view|0|2024-03-01 10:10:05.123\n"
            "image|1001|50001|like|1|2024-03-01 10:11:05.123\n");
}

TEST(JsonEachRowTest, AliasesNdjsonAndJsonLinesAreJsonEachRow) {
  for (const char* name : {"NDJSON", "JSONLines"}) {
    EXPECT_EQ(ParseOk(name, {Col("a", "Int32")}, "{\"a\":1}\n{\"a\":2}"), "1\n2\n") << name;
  }
}

TEST(JsonEachRowTest, KeysInAnyOrderAndFinalRowWithoutNewline) {
  EXPECT_EQ(ParseOk("JSONEachRow", {Col("a", "Int32"), Col("b", "String")},
                    "{\"b\":\"x\",\"a\":1}\n{\"a\":2,\"b\":\"y\"}"),
            "1|x\n2|y\n");
}

TEST(JsonEachRowTest, OmittedKeysGetDefaultsAndAreTracked) {
  std::vector<InputColumn> cols = {
      Col("a", "Int32"), Col("s", "String", /*track_omitted=*/true, Value::String("dflt")),
      Col("t", "DateTime", /*track_omitted=*/true, Value::UInt(1704067200)),
      Col("n", "Nullable(Int64)")};
  EXPECT_EQ(ParseOk("JSONEachRow", cols,
                    "{\"a\":1}\n{\"a\":2,\"s\":\"x\",\"t\":\"2024-01-02 00:00:00\",\"n\":5}\n{}"),
            "1|dflt|2024-01-01 00:00:00|\\N omitted=11\n"
            "2|x|2024-01-02 00:00:00|5 omitted=00\n"
            "0|dflt|2024-01-01 00:00:00|\\N omitted=11\n");
}

TEST(JsonEachRowTest, NullIsNullForNullableAndDefaultOtherwise) {
  std::vector<InputColumn> cols = {Col("n", "Nullable(String)"),
                                   Col("i", "Int32", true, Value::Int(7)),
                                   Col("s", "LowCardinality(String)", true)};
  EXPECT_EQ(ParseOk("JSONEachRow", cols, "{\"n\":null,\"i\":null,\"s\":null}\n{\"n\":\"v\"}"),
            "\\N|7| omitted=11\nv|7| omitted=11\n");
}

TEST(JsonEachRowTest, NumbersAreRangeChecked) {
  std::string input = EntityRow(0) + EntityRow(1) +
                      "{\"entityType\":\"post\",\"entityId\":3000000000}\n" + EntityRow(3);
  Status st = ParseError("JSONEachRow", EntityColumns(), input);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.clickhouse_code(), ch::kValueIsOutOfRangeOfDataType);
  EXPECT_EQ(st.message(),
            "Cannot parse input: row 3, column 'entityId': Value 3000000000 is out of range for "
            "type Int32");
  EXPECT_FALSE(ParseAll("JSONEachRow", {Col("u", "UInt8")}, "{\"u\":256}").status.ok());
  EXPECT_FALSE(ParseAll("JSONEachRow", {Col("u", "UInt32")}, "{\"u\":-1}").status.ok());
  EXPECT_EQ(ParseOk("JSONEachRow", {Col("u", "UInt64"), Col("i", "Int8")},
                    "{\"u\":18446744073709551615,\"i\":-128}"),
            "18446744073709551615|-128\n");
}

TEST(JsonEachRowTest, FractionalNumberIntoIntegerIsAnError) {
  Status st = ParseError("JSONEachRow", {Col("a", "Int32")}, "{\"a\":1}\n{\"a\":1.5}");
  EXPECT_EQ(st.message(),
            "Cannot parse input: row 2, column 'a': Value 1.5 is out of range for type Int32");
  EXPECT_EQ(ParseOk("JSONEachRow", {Col("a", "Int32")}, "{\"a\":7.0}{\"a\":1e3}"), "7\n1000\n");
}

TEST(JsonEachRowTest, NumbersBeyond64BitsAreOutOfRangeExceptForFloats) {
  Status st =
      ParseError("JSONEachRow", {Col("a", "Int64")}, "{\"a\":123456789012345678901234567890}");
  EXPECT_EQ(st.clickhouse_code(), ch::kValueIsOutOfRangeOfDataType);
  EXPECT_NE(st.message().find("123456789012345678901234567890"), std::string::npos);
  EXPECT_EQ(ParseOk("JSONEachRow", {Col("f", "Float64")}, "{\"f\":123456789012345678901234567890}"),
            "1.2345678901234568e+29\n");
}

TEST(JsonEachRowTest, NumericStringsAreAcceptedForNumericColumns) {
  EXPECT_EQ(ParseOk("JSONEachRow", {Col("a", "Int32"), Col("f", "Float64"), Col("u", "UInt16")},
                    "{\"a\":\"42\",\"f\":\"2.5\",\"u\":\"65535\"}"),
            "42|2.5|65535\n");
  Status st = ParseError("JSONEachRow", {Col("a", "Int32")}, "{\"a\":\"4x2\"}");
  EXPECT_EQ(st.message(), "Cannot parse input: row 1, column 'a': Cannot parse '4x2' as Int32");
  EXPECT_EQ(st.clickhouse_code(), ch::kCannotParseNumber);
}

TEST(JsonEachRowTest, TimeColumnsFromStringsAndNumbers) {
  std::vector<InputColumn> cols = {Col("dt", "DateTime"), Col("d64", "DateTime64(3)"),
                                   Col("d", "Date")};
  EXPECT_EQ(ParseOk("JSONEachRow", cols,
                    "{\"dt\":\"2024-01-01 10:00:00\",\"d64\":\"2024-01-01T10:00:00.123Z\","
                    "\"d\":\"2024-01-31\"}\n"
                    "{\"dt\":1704103200,\"d64\":1704103200123,\"d\":19753}\n"
                    "{\"dt\":\"1704103200\",\"d64\":1704103200.5,\"d\":\"2024-01-31 23:00:00\"}\n"),
            "2024-01-01 10:00:00|2024-01-01 10:00:00.123|2024-01-31\n"
            "2024-01-01 10:00:00|2024-01-01 10:00:00.123|2024-01-31\n"
            "2024-01-01 10:00:00|2024-01-01 10:00:00.500|2024-01-31\n");
  Status st = ParseError("JSONEachRow", cols, "{\"dt\":\"yesterday\"}");
  EXPECT_EQ(st.clickhouse_code(), ch::kCannotParseDateTime);
  EXPECT_EQ(st.message(),
            "Cannot parse input: row 1, column 'dt': Cannot parse 'yesterday' as DateTime");
}

// Regression: a negative fractional Unix time above -1 ("-0.5") lost its sign in
// types::ParseDateTimeText.
TEST(JsonEachRowTest, NegativeFractionalUnixTimeKeepsItsSign) {
  EXPECT_EQ(ParseOk("JSONEachRow", {Col("t", "DateTime64(3)")}, "{\"t\":\"-0.5\"}{\"t\":\"-1.5\"}"),
            "1969-12-31 23:59:59.500\n1969-12-31 23:59:58.500\n");
}

TEST(JsonEachRowTest, BoolFromTrueFalseAndNumbers) {
  EXPECT_EQ(ParseOk("JSONEachRow", {Col("b", "Bool"), Col("i", "UInt8")},
                    "{\"b\":true,\"i\":true}{\"b\":false,\"i\":false}{\"b\":1}{\"b\":0}"
                    "{\"b\":\"true\"}{\"b\":\"0\"}"),
            "true|1\nfalse|0\ntrue|0\nfalse|0\ntrue|0\nfalse|0\n");
}

TEST(JsonEachRowTest, ObjectsAndArraysIntoStringColumnsAreStoredAsRawJson) {
  EXPECT_EQ(ParseOk("JSONEachRow", {Col("metadata", "String"), Col("n", "Nullable(String)")},
                    "{\"metadata\":{\"a\": [1, {\"b\":\"}\"}], \"c\":null},\"n\":[1,2]}\n"),
            "{\"a\": [1, {\"b\":\"}\"}], \"c\":null}|[1,2]\n");
  Status st = ParseError("JSONEachRow", {Col("a", "Int32")}, "{\"a\":{\"x\":1}}");
  EXPECT_EQ(st.message(),
            "Cannot parse input: row 1, column 'a': a JSON object cannot be parsed as Int32");
  EXPECT_EQ(st.clickhouse_code(), ch::kCannotParseText);
  EXPECT_FALSE(ParseAll("JSONEachRow", {Col("a", "Nullable(Int32)")}, "{\"a\":[1]}").status.ok());
}

TEST(JsonEachRowTest, NumbersAndBoolsIntoStringColumnsKeepTheirText) {
  EXPECT_EQ(ParseOk("JSONEachRow", {Col("s", "String"), Col("l", "LowCardinality(String)")},
                    "{\"s\":1.50,\"l\":-7}{\"s\":true,\"l\":false}"),
            "1.50|-7\ntrue|false\n");
}

TEST(JsonEachRowTest, FixedStringChecksLength) {
  EXPECT_EQ(ParseOk("JSONEachRow", {Col("f", "FixedString(3)")}, "{\"f\":\"ab\"}"),
            std::string("ab\0\n", 4));
  Status st = ParseError("JSONEachRow", {Col("f", "FixedString(3)")}, "{\"f\":\"abcd\"}");
  EXPECT_EQ(st.clickhouse_code(), ch::kTooLargeStringSize);
  EXPECT_NE(st.message().find("column 'f'"), std::string::npos);
}

TEST(JsonEachRowTest, EscapesInKeysAndStrings) {
  EXPECT_EQ(ParseOk("JSONEachRow", {Col("a b", "String"), Col("q\"", "String")},
                    R"({"a\u0020b":"x\"}{\\\n\u00e9","q\"":"\ud83d\ude00"})"),
            "x\"}{\\\n\xC3\xA9|\xF0\x9F\x98\x80\n");
}

TEST(JsonEachRowTest, UnknownFieldIsAnErrorNamingIt) {
  Status st = ParseError("JSONEachRow", {Col("a", "Int32")}, "{\"a\":1}\n{\"a\":2,\"bogus\":3}");
  EXPECT_EQ(st.clickhouse_code(), ch::kIncorrectData);  // INCORRECT_DATA, as ClickHouse
  EXPECT_EQ(st.message(),
            "Cannot parse input: row 2: Unknown field found while parsing JSONEachRow format: "
            "bogus");
}

TEST(JsonEachRowTest, CollectedRowErrorsSkipBadRowsAndKeepParsing) {
  RowErrors errors;
  errors.max_recorded = 2;
  InputOptions opts;
  opts.row_errors = &errors;
  opts.max_string_bytes = 4;
  Parsed p = ParseAll("JSONEachRow", {Col("a", "Int32"), Col("s", "String")},
                      "{\"a\":1}\n{\"a\":\"x\"}\n{\"a\":2,\"s\":\"toolong\"}\n"
                      "{\"a\":3,\"b\":1}\n{\"a\":4,\"s\":\"ok\"}\n",
                      opts);
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  EXPECT_EQ(p.rows, 2u);  // rows 0 and 4; the three between are skipped
  ASSERT_EQ(p.blocks.size(), 1u);
  EXPECT_EQ(p.blocks[0].block.at(0).column->GetValue(1).AsInt(), 4);
  EXPECT_EQ(errors.count, 3u);
  ASSERT_EQ(errors.rows.size(), 2u);  // max_recorded
  EXPECT_EQ(errors.rows[0].index, 1u);
  EXPECT_EQ(errors.rows[0].column, "a");
  EXPECT_EQ(errors.rows[1].index, 2u);
  EXPECT_EQ(errors.rows[1].column, "s");
  EXPECT_EQ(errors.rows[1].reason, "a string of 7 bytes is longer than max_string_bytes (4)");
  // Losing the row framing still fails the whole parse.
  RowErrors more;
  opts.row_errors = &more;
  EXPECT_FALSE(ParseAll("JSONEachRow", {Col("a", "Int32")}, "{\"a\":1}\n{\"a\":", opts).status.ok());
}

TEST(JsonEachRowTest, SkipUnknownFieldsIgnoresThemWithAnyValue) {
  InputOptions opts;
  opts.skip_unknown_fields = true;
  EXPECT_EQ(ParseOk("JSONEachRow", {Col("a", "Int32")},
                    "{\"x\":{\"y\":[1,2,{\"z\":\"}\"}]},\"a\":1,\"w\":null}\n{\"v\":\"s\"}", opts),
            "1\n0\n");
}

TEST(JsonEachRowTest, DuplicateKeyIsAnError) {
  Status st = ParseError("JSONEachRow", {Col("a", "Int32")}, "{\"a\":1,\"a\":2}");
  EXPECT_EQ(st.clickhouse_code(), ch::kIncorrectData);
  EXPECT_EQ(st.message(),
            "Cannot parse input: row 1: Duplicate field found while parsing JSONEachRow format: a");
}

TEST(JsonEachRowTest, AcceptsCommasArraysSingleObjectsAndPrettyPrinting) {
  std::vector<InputColumn> cols = {Col("a", "Int32")};
  EXPECT_EQ(ParseOk("JSONEachRow", cols, "{\"a\":1},{\"a\":2}, {\"a\":3}\n,\n{\"a\":4}"),
            "1\n2\n3\n4\n");
  EXPECT_EQ(ParseOk("JSONEachRow", cols, " [ {\"a\":1} , {\"a\":2} ] \n"), "1\n2\n");
  EXPECT_EQ(ParseOk("JSONEachRow", cols, "[]"), "");
  EXPECT_EQ(ParseOk("JSONEachRow", cols, "{\"a\":5}"), "5\n");
  EXPECT_EQ(ParseOk("JSONEachRow", cols, "{\n  \"a\": 6\n}\n{\n  \"a\":\n 7}"), "6\n7\n");
  EXPECT_EQ(ParseOk("JSONEachRow", cols, "\xEF\xBB\xBF{\"a\":8}"), "8\n");
}

TEST(JsonEachRowTest, EmptyInputHasNoBlock) {
  Parsed p = ParseAll("JSONEachRow", {Col("a", "Int32")}, " \n\t\r\n");
  EXPECT_TRUE(p.status.ok());
  EXPECT_TRUE(p.blocks.empty());
  EXPECT_EQ(p.rows, 0u);
}

TEST(JsonEachRowTest, MalformedJsonGivesErrorsWithRowNumbers) {
  std::vector<InputColumn> cols = {Col("a", "Int32"), Col("b", "String")};
  struct Case {
    const char* input;
    const char* message_prefix;
  } cases[] = {
      {"{\"a\":1}\n{\"a\":2", "Cannot parse input: row 2: unexpected end of input inside a JSON"},
      {"{\"a\":1}\nxyz{\"a\":2}",
       "Cannot parse input: row 2: expected '{' at the start of a row, "
       "found 'x'"},
      {"{\"a\":1}\n{\"a\":}", "Cannot parse input: row 2, column 'a': malformed JSON"},
      {"{\"a\":1 \"b\":\"x\"}", "Cannot parse input: row 1: malformed JSON"},
      {"{\"a\":1,}", "Cannot parse input: row 1: malformed JSON"},
      {"{\"a\":1}\n42\n",
       "Cannot parse input: row 2: expected '{' at the start of a row, "
       "found '4'"},
      {"[{\"a\":1}] {\"a\":2}", "Cannot parse input: row 2: unexpected '{' after the closing ']'"},
      {"[{\"a\":1}",
       "Cannot parse input: row 2: unexpected end of input: the top-level JSON array"},
      {"{\"a\":1]", "Cannot parse input: row 1: malformed JSON"},
      {"{\"a\":tru}", "Cannot parse input: row 1, column 'a': malformed JSON"},
      {"{\"a\":nul}", "Cannot parse input: row 1, column 'a': malformed JSON"},
      {"{\"b\":\"\xff\"}", "Cannot parse input: row 1: malformed JSON"},
      {"{\"a\":01}", "Cannot parse input: row 1, column 'a': malformed JSON"},
      {"{\"a\":1}}", "Cannot parse input: row 2: expected '{' at the start of a row, found '}'"},
  };
  for (const Case& c : cases) {
    Status st = ParseError("JSONEachRow", cols, c.input);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << c.input;
    EXPECT_EQ(st.message().rfind(c.message_prefix, 0), 0u)
        << "input: " << c.input << "\nmessage: " << st.message();
  }
}

// Found by fuzz/format_json_each_row_fuzzer and fuzz/format_json_compact_each_row_fuzzer: a
// malformed row directly followed by a closing bracket was accepted when parsed in the same
// chunk as that bracket (simdjson read it as the row's end), so the error named the next row
// and a block could hold the malformed row; followed by a comma, its error changed.
TEST(JsonEachRowTest, MalformedRowFollowedByClosingBracketIsAnErrorInAnyChunking) {
  std::vector<InputColumn> cols = {Col("a", "Int32"), Col("b", "String")};
  for (const char* input : {"{\"b\":\"x\":\"y\"}}", "{\"b\":\"x\":}}\n{\"a\":2}"}) {
    Status st = ParseError("JSONEachRow", cols, input);
    EXPECT_EQ(st.message().rfind("Cannot parse input: row 1: malformed JSON", 0), 0u)
        << "input: " << input << "\nmessage: " << st.message();
    ExpectSplitInvariant("JSONEachRow", cols, input);
  }
  InputOptions one_row_blocks;
  one_row_blocks.max_block_rows = 1;
  Parsed p = ParseAll("JSONEachRow", cols, "{\"a\":1}\n{\"b\":\"x\":\"y\"}}", one_row_blocks);
  EXPECT_EQ(p.status.message().rfind("Cannot parse input: row 2: malformed JSON", 0), 0u)
      << p.status.ToString();
  EXPECT_EQ(p.blocks.size(), 1u);
  Status compact = ParseError("JSONCompactEachRow", cols, "[1,]]");
  EXPECT_EQ(compact.message().rfind("Cannot parse input: row 1, column 'b': malformed JSON", 0), 0u)
      << compact.message();
  ExpectSplitInvariant("JSONCompactEachRow", cols, "[1,]]");
  ExpectSplitInvariant("JSONCompactEachRow", cols, "[1, {\"k\": ]2 [$}],\n[2, \"x\"]");
}

TEST(JsonEachRowTest, ErrorsAreCountedInMetrics) {
  int64_t before = metrics::ValueOf("trackhouse_input_parse_errors_total");
  int64_t before_fmt = metrics::ValueOf("trackhouse_input_parse_errors_jsoneachrow_total");
  (void)ParseError("JSONEachRow", {Col("a", "Int32")}, "{\"a\":}");
  EXPECT_EQ(metrics::ValueOf("trackhouse_input_parse_errors_total"), before + 1);
  EXPECT_EQ(metrics::ValueOf("trackhouse_input_parse_errors_jsoneachrow_total"), before_fmt + 1);
  int64_t rows = metrics::ValueOf("trackhouse_input_rows_total");
  (void)ParseOk("JSONEachRow", {Col("a", "Int32")}, "{\"a\":1}{\"a\":2}");
  EXPECT_EQ(metrics::ValueOf("trackhouse_input_rows_total"), rows + 2);
}

TEST(JsonEachRowTest, ParserIsUnusableAfterAnError) {
  auto parser = MakeInputParser("JSONEachRow", {Col("a", "Int32")}, {});
  ASSERT_TRUE(parser.ok());
  Status st = (*parser)->Feed("{\"a\":1}\n{\"a\":\"x\"}\n");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ((*parser)->Feed("{\"a\":2}\n"), st);
  EXPECT_EQ((*parser)->Finish(), st);
  EXPECT_FALSE((*parser)->HasBlock());
  EXPECT_EQ((*parser)->rows_parsed(), 1u);
}

TEST(JsonEachRowTest, SplittingAtEveryByteBoundaryGivesIdenticalBlocks) {
  std::vector<InputColumn> cols = {Col("s", "String"), Col("a", "Nullable(Int32)"),
                                   Col("m", "String", true)};
  InputOptions opts;
  opts.max_block_rows = 2;
  ExpectSplitInvariant(
      "JSONEachRow", cols,
      "\xEF\xBB\xBF[{\"s\":\"a\\\"}\\\\\",\"a\":1},\n{\"s\":\"\\u00e9{\",\"a\":null,"
      "\"m\":{\"k\":[1,\"]\"]}}, {\"a\":-3} ,{\"m\":\"x\"}]",
      opts);
  ExpectSplitInvariant("JSONEachRow", cols, "{\"s\":\"x\"}\n{\"a\":1}\n{\"s\":", opts);
  ExpectSplitInvariant("JSONEachRow", cols, "{\"s\":\"x\"}\n{\"a\":1.5}\n", opts);
}

TEST(JsonEachRowTest, BlocksAreCutAtMaxBlockRows) {
  std::string input;
  for (int i = 0; i < 10; ++i) input += "{\"a\":" + std::to_string(i) + "}\n";
  InputOptions opts;
  opts.max_block_rows = 4;
  Parsed p = ParseChunks("JSONEachRow", {Col("a", "Int32", true)}, Chunks(input, 7), opts);
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  ASSERT_EQ(p.blocks.size(), 3u);
  EXPECT_EQ(p.blocks[0].block.rows(), 4u);
  EXPECT_EQ(p.blocks[1].block.rows(), 4u);
  EXPECT_EQ(p.blocks[2].block.rows(), 2u);
  EXPECT_EQ(p.blocks[0].first_row, 0u);
  EXPECT_EQ(p.blocks[1].first_row, 4u);
  EXPECT_EQ(p.blocks[2].first_row, 8u);
  EXPECT_EQ(p.blocks[2].omitted[0], std::vector<uint8_t>({0, 0}));
  EXPECT_EQ(RowsText(p.blocks[2]), "8 omitted=0\n9 omitted=0\n");
  EXPECT_EQ(p.rows, 10u);
}

TEST(JsonEachRowTest, FullBlocksAreHandedOutBeforeFinish) {
  auto parser = MakeInputParser("JSONEachRow", {Col("a", "Int32")}, {.max_block_rows = 2});
  ASSERT_TRUE(parser.ok());
  ASSERT_TRUE((*parser)->Feed("{\"a\":1}\n{\"a\":2}\n{\"a\":3").ok());
  ASSERT_TRUE((*parser)->HasBlock());
  EXPECT_EQ((*parser)->TakeBlock().block.rows(), 2u);
  EXPECT_FALSE((*parser)->HasBlock());
  ASSERT_TRUE((*parser)->Feed("}").ok());
  EXPECT_FALSE((*parser)->HasBlock());
  ASSERT_TRUE((*parser)->Finish().ok());
  ASSERT_TRUE((*parser)->HasBlock());
  ParsedBlock last = (*parser)->TakeBlock();
  EXPECT_EQ(last.first_row, 2u);
  EXPECT_EQ(RowsText(last), "3\n");
}

TEST(JsonEachRowTest, BlocksAreCutAtMaxBlockBytes) {
  // ~1 KB rows, 20 KB blocks: cut after about 20 rows.
  std::string input;
  for (int i = 0; i < 100; ++i) input += "{\"s\":\"" + std::string(1000, 'x') + "\"}\n";
  Parsed p = ParseAll("JSONEachRow", {Col("s", "String")}, input, {.max_block_bytes = 20000});
  ASSERT_TRUE(p.status.ok());
  ASSERT_GE(p.blocks.size(), 5u);
  size_t total = 0;
  for (const auto& b : p.blocks) {
    EXPECT_LE(b.block.rows(), 20u);
    total += b.block.rows();
  }
  EXPECT_EQ(total, 100u);
  // ~100 KB rows, 250 KB blocks: the size is checked every row near the limit.
  input.clear();
  for (int i = 0; i < 10; ++i) input += "{\"s\":\"" + std::string(100000, 'y') + "\"}\n";
  p = ParseAll("JSONEachRow", {Col("s", "String")}, input, {.max_block_bytes = 250000});
  ASSERT_TRUE(p.status.ok());
  for (const auto& b : p.blocks) EXPECT_LE(b.block.rows(), 3u);
}

TEST(JsonEachRowTest, RowLargerThanMaxRowBytesIsAnError) {
  InputOptions opts;
  opts.max_row_bytes = 100;
  std::string big = "{\"s\":\"" + std::string(200, 'y') + "\"}";
  // Complete in one chunk.
  Status st = ParseError("JSONEachRow", {Col("s", "String")}, "{\"s\":\"a\"}\n" + big, opts);
  EXPECT_EQ(st.message(), "Cannot parse input: row 2 is larger than max_row_bytes (100 bytes)");
  // Arriving in small chunks: rejected before it is complete.
  auto parser = MakeInputParser("JSONEachRow", {Col("s", "String")}, opts);
  ASSERT_TRUE(parser.ok());
  Status fed;
  size_t fed_bytes = 0;
  for (size_t i = 0; i < big.size() && fed.ok(); i += 10, fed_bytes += 10) {
    fed = (*parser)->Feed(std::string_view(big).substr(i, 10));
  }
  EXPECT_FALSE(fed.ok());
  EXPECT_LE(fed_bytes, 120u);
}

TEST(JsonEachRowTest, ManySmallFeedsOfOneLargeRowStayLinear) {
  // A 4 MB row fed 100 bytes at a time: the scanner resumes instead of rescanning.
  std::string row = "{\"s\":\"" + std::string(4 << 20, 'z') + "\"}\n";
  auto parser = MakeInputParser("JSONEachRow", {Col("s", "String")}, {});
  ASSERT_TRUE(parser.ok());
  auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < row.size(); i += 100) {
    ASSERT_TRUE((*parser)->Feed(std::string_view(row).substr(i, 100)).ok());
  }
  ASSERT_TRUE((*parser)->Finish().ok());
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(secs, 20.0);
  ASSERT_TRUE((*parser)->HasBlock());
  EXPECT_EQ((*parser)->TakeBlock().block.rows(), 1u);
}

TEST(JsonCompactEachRowTest, ParsesArraysInColumnOrder) {
  std::vector<InputColumn> cols = {Col("s", "String"), Col("a", "Int32"),
                                   Col("n", "Nullable(Float64)", true)};
  EXPECT_EQ(ParseOk("JSONCompactEachRow", cols,
                    "[\"a\", 1, null]\n[\"b\", \"2\", 2.5]\n[{\"x\":1}, 3, 4]"),
            "a|1|\\N omitted=0\nb|2|2.5 omitted=0\n{\"x\":1}|3|4 omitted=0\n");
  Status st = ParseError("JSONCompactEachRow", cols, "[\"a\", 1, null]\n[\"b\", 2]");
  EXPECT_EQ(st.message(), "Cannot parse input: row 2: expected 3 values, found 2");
  EXPECT_EQ(st.clickhouse_code(), ch::kIncorrectNumberOfColumns);
  st = ParseError("JSONCompactEachRow", cols, "[\"b\", 2, 3, 4]");
  EXPECT_EQ(st.message(), "Cannot parse input: row 1: more than 3 values in the row");
  st = ParseError("JSONCompactEachRow", cols, "{\"s\":1}");
  EXPECT_EQ(st.message(),
            "Cannot parse input: row 1: expected '[' at the start of a row, found '{'");
  st = ParseError("JSONCompactEachRow", cols, "[\"b\", 3000000000, 1]");
  EXPECT_EQ(st.message(),
            "Cannot parse input: row 1, column 'a': Value 3000000000 is out of range for type "
            "Int32");
  ExpectSplitInvariant("JSONCompactEachRow", cols, "[\"x]\", 1, null],[\"\\\"\", -2, 1e1]\n",
                       {.max_block_rows = 1});
}

// Random mutations of valid input must never crash or hang: each parse ends OK or with an
// InvalidArgument / NotSupported error that names a row.
TEST(JsonEachRowTest, FuzzedInputNeverCrashes) {
  std::vector<InputColumn> cols = {Col("entityType", "LowCardinality(String)"),
                                   Col("entityId", "Int32"),
                                   Col("m", "String"),
                                   Col("n", "Nullable(Int64)"),
                                   Col("t", "DateTime64(3)"),
                                   Col("b", "Bool"),
                                   Col("f", "FixedString(4)")};
  std::string seed =
      "[{\"entityType\":\"post\",\"entityId\":12,\"m\":{\"a\":[1,2,\"x\"]},\"n\":null,"
      "\"t\":\"2024-01-01T10:00:00.5Z\",\"b\":true,\"f\":\"ab\"},\n"
      "{\"entityId\":-3,\"m\":\"q\\\"\\\\u\",\"t\":1704103200123,\"n\":9}]\n"
      "{\"entityType\":\"x\",\"entityId\":\"7\",\"b\":0}\n";
  const char kAlphabet[] = "{}[]\",:\\ \n0123456789abeflnrstux-.+E\xff\x00";
  std::mt19937 rng(12345);
  InputOptions opts;
  opts.max_block_rows = 2;
  for (int iter = 0; iter < 10000; ++iter) {
    std::string input = seed;
    int mutations = 1 + static_cast<int>(rng() % 4);
    for (int m = 0; m < mutations; ++m) {
      size_t pos = rng() % (input.size() + 1);
      switch (rng() % 4) {
        case 0:
          if (pos < input.size()) input.erase(pos, 1 + rng() % 3);
          break;
        case 1:
          input.insert(pos, 1, kAlphabet[rng() % (sizeof(kAlphabet) - 1)]);
          break;
        case 2:
          if (pos < input.size()) input[pos] = kAlphabet[rng() % (sizeof(kAlphabet) - 1)];
          break;
        default:
          input = input.substr(0, pos);
          break;
      }
    }
    opts.skip_unknown_fields = iter % 2 == 0;
    Parsed p = ParseChunks("JSONEachRow", cols, Chunks(input, 1 + rng() % 40), opts);
    if (!p.status.ok()) {
      EXPECT_EQ(p.status.message().rfind("Cannot parse input: row ", 0), 0u) << p.status.message();
    }
    for (const auto& b : p.blocks) ASSERT_TRUE(b.block.Validate().ok());
    Parsed c = ParseChunks("JSONCompactEachRow", {Col("a", "String"), Col("b", "Int64")},
                           Chunks(input, 64), opts);
    (void)c;
  }
}

double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Not an assertion: prints the throughput of the critical path (JSONEachRow rows of the
// entityMetricEvents shape, fed in 64 KiB chunks, blocks of max_block_rows) for the record.
// CPU time of this thread is reported beside wall time: the build machine is shared.
TEST(JsonEachRowTest, ThroughputReport) {
#if defined(NDEBUG) && !defined(__SANITIZE_ADDRESS__)
  constexpr int kRows = 1000000;
#else
  constexpr int kRows = 50000;  // unoptimized or sanitized build: just exercise the path
#endif
  std::string input;
  input.reserve(kRows * 150);
  for (int i = 0; i < kRows; ++i) input += EntityRow(i);
  double best_wall = 0, best_cpu = 0;
  for (int rep = 0; rep < 3; ++rep) {
    auto parser = MakeInputParser("JSONEachRow", EntityColumns(), {});
    ASSERT_TRUE(parser.ok());
    size_t rows = 0;
    auto start = std::chrono::steady_clock::now();
    double cpu_start = ThreadCpuSeconds();
    for (size_t off = 0; off < input.size(); off += 65536) {
      ASSERT_TRUE((*parser)->Feed(std::string_view(input).substr(off, 65536)).ok());
      while ((*parser)->HasBlock()) rows += (*parser)->TakeBlock().block.rows();
    }
    ASSERT_TRUE((*parser)->Finish().ok());
    while ((*parser)->HasBlock()) rows += (*parser)->TakeBlock().block.rows();
    double cpu = ThreadCpuSeconds() - cpu_start;
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ASSERT_EQ(rows, static_cast<size_t>(kRows));
    best_wall = std::max(best_wall, kRows / wall);
    best_cpu = std::max(best_cpu, kRows / cpu);
  }
  std::printf(
      "[ throughput ] JSONEachRow: %.2f M rows/s by CPU time (%.2f M rows/s wall), %.0f MB/s, "
      "%zu bytes/row\n",
      best_cpu / 1e6, best_wall / 1e6, best_cpu * static_cast<double>(input.size()) / kRows / 1e6,
      input.size() / kRows);
}

}  // namespace
}  // namespace trackhouse::formats
