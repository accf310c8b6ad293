#include "formats/input_format.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "common/metrics.h"
#include "formats/input_format_test_util.h"

namespace trackhouse::formats {
namespace {

using testing::Chunks;
using testing::Col;
using testing::ParseAll;
using testing::ParseChunks;
using testing::Parsed;
using testing::ParseOk;
using testing::RowsText;
using types::Value;

TEST(InputFormatTest, FactoryAcceptsEveryFormatName) {
  for (const char* name :
       {"JSONEachRow", "NDJSON", "JSONLines", "Values", "JSONCompactEachRow", "TabSeparated", "TSV",
        "TabSeparatedWithNames", "TSVWithNames", "CSV", "CSVWithNames", "RowBinary"}) {
    EXPECT_TRUE(MakeInputParser(name, {Col("a", "Int32")}, {}).ok()) << name;
  }
}

TEST(InputFormatTest, FactoryRejectsUnknownFormatsAndBadColumns) {
  auto unknown = MakeInputParser("Foo", {Col("a", "Int32")}, {});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().message(), "Unknown format Foo");
  EXPECT_EQ(unknown.status().clickhouse_code(), ch::kUnknownFormat);
  EXPECT_FALSE(MakeInputParser("jsoneachrow", {Col("a", "Int32")}, {}).ok());
  EXPECT_FALSE(MakeInputParser("JSONEachRow", {}, {}).ok());
  auto dup = MakeInputParser("CSV", {Col("a", "Int32"), Col("a", "String")}, {});
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().clickhouse_code(), ch::kDuplicateColumn);
  auto bad_default =
      MakeInputParser("JSONEachRow", {Col("a", "UInt8", false, Value::UInt(300))}, {});
  ASSERT_FALSE(bad_default.ok());
  EXPECT_EQ(bad_default.status().message(),
            "Default of column 'a': Value 300 is out of range for type UInt8");
}

TEST(InputFormatTest, DefaultsMayBeGivenInAnyConvertibleForm) {
  std::vector<InputColumn> cols = {Col("t", "DateTime", true, Value::String("2024-01-01 00:00:00")),
                                   Col("n", "Nullable(Int8)", true, Value()),
                                   Col("a", "Int8", true, Value())};
  EXPECT_EQ(ParseOk("JSONEachRow", cols, "{}"), "2024-01-01 00:00:00|\\N|0 omitted=111\n");
}

// One table, the same rows written in every format: every parser yields the same block.
TEST(InputFormatTest, EveryFormatYieldsTheSameRows) {
  std::vector<InputColumn> cols = {Col("entityType", "LowCardinality(String)"),
                                   Col("entityId", "Int32"), Col("createdAt", "DateTime64(3)"),
                                   Col("note", "Nullable(String)"), Col("ok", "Bool")};
  const std::string expected =
      "post|42|2024-03-01 10:00:00.250|a\tb|true\n"
      "image|-7|2024-03-02 00:00:00.000|\\N|false\n";
  struct Input {
    const char* format;
    std::string body;
  } inputs[] = {
      {"JSONEachRow",
       "{\"entityType\":\"post\",\"entityId\":42,\"createdAt\":\"2024-03-01 10:00:00.25\","
       "\"note\":\"a\\tb\",\"ok\":true}\n"
       "{\"entityType\":\"image\",\"entityId\":-7,\"createdAt\":\"2024-03-02\",\"ok\":false}\n"},
      {"JSONCompactEachRow",
       "[\"post\", 42, \"2024-03-01 10:00:00.25\", \"a\\tb\", true]\n"
       "[\"image\", -7, \"2024-03-02 00:00:00\", null, false]\n"},
      {"Values",
       "('post', 42, '2024-03-01 10:00:00.25', 'a\\tb', true), "
       "('image', -7, '2024-03-02 00:00:00', NULL, false)"},
      {"TabSeparated",
       "post\t42\t2024-03-01 10:00:00.25\ta\\tb\ttrue\n"
       "image\t-7\t2024-03-02 00:00:00\t\\N\tfalse\n"},
      {"TabSeparatedWithNames",
       "entityId\tentityType\tcreatedAt\tnote\tok\n"
       "42\tpost\t2024-03-01 10:00:00.25\ta\\tb\ttrue\n"
       "-7\timage\t2024-03-02 00:00:00\t\\N\tfalse\n"},
      {"CSV",
       "post,42,\"2024-03-01 10:00:00.25\",\"a\tb\",true\n"
       "\"image\",-7,2024-03-02 00:00:00,\\N,false\n"},
      {"CSVWithNames",
       "ok,note,createdAt,entityId,entityType\n"
       "true,\"a\tb\",2024-03-01 10:00:00.25,42,post\n"
       "false,\\N,2024-03-02 00:00:00,-7,image\n"},
  };
  for (const Input& in : inputs) {
    EXPECT_EQ(ParseOk(in.format, cols, in.body), expected) << in.format;
  }
  std::string rb;
  auto str = [&](std::string_view s) {
    rb.push_back(static_cast<char>(s.size()));
    rb.append(s);
  };
  auto fixed = [&](auto v) { rb.append(reinterpret_cast<const char*>(&v), sizeof(v)); };
  str("post"), fixed(int32_t{42}), fixed(int64_t{1709287200250}), rb.push_back(0), str("a\tb"),
      rb.push_back(1);
  str("image"), fixed(int32_t{-7}), fixed(int64_t{1709337600000}), rb.push_back(1), rb.push_back(0);
  EXPECT_EQ(ParseOk("RowBinary", cols, rb), expected);
}

TEST(InputFormatTest, FeedAfterFinishIsAnErrorAndFinishIsIdempotent) {
  auto parser = MakeInputParser("JSONEachRow", {Col("a", "Int32")}, {});
  ASSERT_TRUE(parser.ok());
  ASSERT_TRUE((*parser)->Feed("").ok());
  ASSERT_TRUE((*parser)->Feed("{\"a\":1}").ok());
  ASSERT_TRUE((*parser)->Finish().ok());
  ASSERT_TRUE((*parser)->Finish().ok());
  EXPECT_FALSE((*parser)->Feed("{\"a\":2}").ok());
  ASSERT_TRUE((*parser)->HasBlock());
  EXPECT_EQ(RowsText((*parser)->TakeBlock()), "1\n");
  EXPECT_FALSE((*parser)->HasBlock());
}

TEST(InputFormatTest, ChunksLargerThanOneSliceAreParsedWhole) {
  std::string row = "{\"s\":\"" + std::string(100, 'k') + "\"}\n";
  std::string input;
  while (input.size() < 3 * (1 << 20)) input += row;
  Parsed p = ParseAll("JSONEachRow", {Col("s", "String")}, input);
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  EXPECT_EQ(p.rows * row.size(), input.size());
}

TEST(InputFormatTest, CountersTrackRowsBytesAndErrors) {
  int64_t rows = metrics::ValueOf("trackhouse_input_rows_total");
  int64_t bytes = metrics::ValueOf("trackhouse_input_bytes_total");
  int64_t blocks = metrics::ValueOf("trackhouse_input_blocks_total");
  int64_t errors = metrics::ValueOf("trackhouse_input_parse_errors_csv_total");
  ASSERT_TRUE(ParseAll("CSV", {Col("a", "Int32")}, "1\n2\n3\n", {.max_block_rows = 2}).status.ok());
  EXPECT_EQ(metrics::ValueOf("trackhouse_input_rows_total"), rows + 3);
  EXPECT_EQ(metrics::ValueOf("trackhouse_input_bytes_total"), bytes + 6);
  EXPECT_EQ(metrics::ValueOf("trackhouse_input_blocks_total"), blocks + 2);
  EXPECT_FALSE(ParseAll("CSV", {Col("a", "Int32")}, "x\n").status.ok());
  EXPECT_EQ(metrics::ValueOf("trackhouse_input_parse_errors_csv_total"), errors + 1);
}

}  // namespace
}  // namespace trackhouse::formats
