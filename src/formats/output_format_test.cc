#include "formats/output_format.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "types/column.h"
#include "types/datetime.h"
#include "types/value.h"

namespace trackhouse::formats {
namespace {

using types::Value;

// Date 2024-01-31 as days, and 2024-01-31 10:00:00 as seconds.
const int64_t kDay = types::DaysFromCivil(2024, 1, 31);
const int64_t kSecond = kDay * 86400 + 10 * 3600;

// "a<TAB>b<LF>c"d'\e/é": every character some format must escape, plus UTF-8.
const char kTricky[] = "a\tb\nc\"d'\\e/\xC3\xA9";

struct ColumnSpec {
  std::string name;
  std::string type;
  std::vector<Value> values;
};

types::Block MakeBlock(const std::vector<ColumnSpec>& specs) {
  types::Block block;
  for (const auto& s : specs) {
    auto type = types::ParseDataType(s.type);
    EXPECT_TRUE(type.ok()) << s.type;
    auto col = types::MakeColumn(*type);
    for (const auto& v : s.values) col->AppendValue(v);
    block.Add(s.name, *type, col);
  }
  return block;
}

// Two rows covering every type the formats render.
types::Block AllTypesBlock() {
  return MakeBlock({
      {"i32", "Int32", {Value::Int(1), Value::Int(-5)}},
      {"u64", "UInt64", {Value::UInt(18446744073709551615ull), Value::UInt(0)}},
      {"f64", "Float64", {Value::Float(0.1), Value::Float(1e20)}},
      {"s", "String", {Value::String(kTricky), Value::String("")}},
      {"lc", "LowCardinality(String)", {Value::String("x"), Value::String("y")}},
      {"n", "Nullable(Int32)", {Value(), Value::Int(7)}},
      {"d", "Date", {Value::UInt(kDay), Value::UInt(0)}},
      {"dt", "DateTime", {Value::UInt(kSecond), Value::UInt(0)}},
      {"dt64", "DateTime64(3)", {Value::Int(kSecond * 1000 + 123), Value::Int(0)}},
      {"b", "Bool", {Value::UInt(1), Value::UInt(0)}},
  });
}

// inf, -inf and nan in one row.
types::Block SpecialFloatsBlock() {
  return MakeBlock({
      {"a", "Float64", {Value::Float(INFINITY)}},
      {"b", "Float64", {Value::Float(-INFINITY)}},
      {"c", "Float32", {Value::Float(NAN)}},
  });
}

// Runs a whole response: Begin, one Write per block, Finish.
std::string Render(std::string_view format, const std::vector<types::Block>& blocks,
                   OutputOptions options = {}, OutputFormat::Stats stats = {}) {
  auto f = MakeOutputFormat(format, options);
  EXPECT_TRUE(f.ok()) << format;
  if (!f.ok()) return "";
  std::vector<std::string> names;
  std::vector<types::DataTypePtr> types;
  for (const auto& c : blocks[0].columns()) {
    names.push_back(c.name);
    types.push_back(c.type);
  }
  std::string out;
  (*f)->Begin(names, types, &out);
  for (const auto& b : blocks) (*f)->Write(b, &out);
  (*f)->Finish(stats, &out);
  return out;
}

const char kTsvRows[] =
    "1\t18446744073709551615\t0.1\ta\\tb\\nc\"d\\'\\\\e/\xC3\xA9\tx\t\\N\t2024-01-31\t"
    "2024-01-31 10:00:00\t2024-01-31 10:00:00.123\ttrue\n"
    "-5\t0\t100000000000000000000\t\ty\t7\t1970-01-01\t1970-01-01 00:00:00\t"
    "1970-01-01 00:00:00.000\tfalse\n";
const char kTsvNames[] = "i32\tu64\tf64\ts\tlc\tn\td\tdt\tdt64\tb\n";
const char kTsvTypes[] =
    "Int32\tUInt64\tFloat64\tString\tLowCardinality(String)\tNullable(Int32)\tDate\tDateTime\t"
    "DateTime64(3)\tBool\n";

TEST(OutputFormatTest, UnknownFormatIsAnError) {
  auto f = MakeOutputFormat("Foo", {});
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().message(), "Unknown output format Foo");
  EXPECT_EQ(f.status().clickhouse_code(), ch::kUnknownFormat);
  EXPECT_FALSE(MakeOutputFormat("json", {}).ok());  // names are case-sensitive
}

TEST(OutputFormatTest, ContentTypes) {
  auto ct = [](std::string_view name) {
    return std::string(MakeOutputFormat(name, {}).value()->content_type());
  };
  EXPECT_EQ(ct("TSV"), "text/tab-separated-values; charset=UTF-8");
  EXPECT_EQ(ct("TabSeparatedWithNamesAndTypes"), "text/tab-separated-values; charset=UTF-8");
  EXPECT_EQ(ct("CSV"), "text/csv; charset=UTF-8; header=absent");
  EXPECT_EQ(ct("CSVWithNames"), "text/csv; charset=UTF-8; header=present");
  EXPECT_EQ(ct("JSONEachRow"), "application/x-ndjson; charset=UTF-8");
  EXPECT_EQ(ct("JSON"), "application/json; charset=UTF-8");
  EXPECT_EQ(ct("JSONCompact"), "application/json; charset=UTF-8");
}

TEST(OutputFloatTest, ShortestRoundTripLikeClickHouse) {
  auto f = [](double x, bool f32 = false) {
    std::string s;
    AppendClickHouseFloat(x, f32, &s);
    return s;
  };
  EXPECT_EQ(f(0.1), "0.1");
  EXPECT_EQ(f(1e20), "100000000000000000000");
  EXPECT_EQ(f(-2.5), "-2.5");
  EXPECT_EQ(f(3), "3");
  EXPECT_EQ(f(123.456), "123.456");
  EXPECT_EQ(f(0.000001), "0.000001");
  EXPECT_EQ(f(1e-7), "1e-7");
  EXPECT_EQ(f(1e100), "1e100");
  EXPECT_EQ(f(0.1, true), "0.1");  // Float32: shortest digits of the float, not the double
  EXPECT_EQ(f(INFINITY), "inf");
  EXPECT_EQ(f(-INFINITY), "-inf");
  EXPECT_EQ(f(NAN), "nan");
}

TEST(OutputTabSeparatedTest, RendersEveryType) {
  EXPECT_EQ(Render("TabSeparated", {AllTypesBlock()}), kTsvRows);
  EXPECT_EQ(Render("TSV", {AllTypesBlock()}), kTsvRows);
  EXPECT_EQ(Render("TSV", {SpecialFloatsBlock()}), "inf\t-inf\tnan\n");
}

TEST(OutputTabSeparatedTest, WithNamesAndTypes) {
  EXPECT_EQ(Render("TabSeparatedWithNames", {AllTypesBlock()}), std::string(kTsvNames) + kTsvRows);
  EXPECT_EQ(Render("TSVWithNamesAndTypes", {AllTypesBlock()}),
            std::string(kTsvNames) + kTsvTypes + kTsvRows);
}

TEST(OutputTabSeparatedTest, SeveralBlocksAndEscapedHeader) {
  auto block = MakeBlock({{"a\tb", "Int32", {Value::Int(1)}}});
  EXPECT_EQ(Render("TSVWithNames", {block, block}), "a\\tb\n1\n1\n");
}

TEST(OutputJsonEachRowTest, RendersEveryType) {
  const char kExpected[] =
      "{\"i32\":1,\"u64\":\"18446744073709551615\",\"f64\":0.1,"
      "\"s\":\"a\\tb\\nc\\\"d'\\\\e\\/\xC3\xA9\",\"lc\":\"x\",\"n\":null,\"d\":\"2024-01-31\","
      "\"dt\":\"2024-01-31 10:00:00\",\"dt64\":\"2024-01-31 10:00:00.123\",\"b\":true}\n"
      "{\"i32\":-5,\"u64\":\"0\",\"f64\":100000000000000000000,\"s\":\"\",\"lc\":\"y\","
      "\"n\":7,\"d\":\"1970-01-01\",\"dt\":\"1970-01-01 00:00:00\","
      "\"dt64\":\"1970-01-01 00:00:00.000\",\"b\":false}\n";
  EXPECT_EQ(Render("JSONEachRow", {AllTypesBlock()}), kExpected);
  EXPECT_EQ(Render("JSONEachRow", {SpecialFloatsBlock()}), "{\"a\":null,\"b\":null,\"c\":null}\n");
}

TEST(OutputJsonEachRowTest, OptionsAndControlCharacters) {
  auto block =
      MakeBlock({{"u", "UInt64", {Value::UInt(5)}},
                 {"i", "Int64", {Value::Int(-5)}},
                 {"f", "Float64", {Value::Float(-INFINITY)}},
                 {"s", "String", {Value::String(std::string("\x01\x1f\0z\xE2\x80\xA8", 7))}}});
  OutputOptions options;
  options.quote_64bit_integers = false;
  options.quote_denormals = true;
  EXPECT_EQ(Render("JSONEachRow", {block}, options),
            "{\"u\":5,\"i\":-5,\"f\":\"-inf\",\"s\":\"\\u0001\\u001F\\u0000z\\u2028\"}\n");
  EXPECT_EQ(Render("JSONEachRow", {block}),
            "{\"u\":\"5\",\"i\":\"-5\",\"f\":null,\"s\":\"\\u0001\\u001F\\u0000z\\u2028\"}\n");
}

TEST(OutputJsonCompactEachRowTest, RendersEveryType) {
  const char kExpected[] =
      "[1, \"18446744073709551615\", 0.1, \"a\\tb\\nc\\\"d'\\\\e\\/\xC3\xA9\", \"x\", null, "
      "\"2024-01-31\", \"2024-01-31 10:00:00\", \"2024-01-31 10:00:00.123\", true]\n"
      "[-5, \"0\", 100000000000000000000, \"\", \"y\", 7, \"1970-01-01\", "
      "\"1970-01-01 00:00:00\", \"1970-01-01 00:00:00.000\", false]\n";
  EXPECT_EQ(Render("JSONCompactEachRow", {AllTypesBlock()}), kExpected);
  EXPECT_EQ(Render("JSONCompactEachRow", {SpecialFloatsBlock()}), "[null, null, null]\n");
}

const char kCsvRows[] =
    "1,18446744073709551615,0.1,\"a\tb\nc\"\"d'\\e/\xC3\xA9\",\"x\",\\N,\"2024-01-31\","
    "\"2024-01-31 10:00:00\",\"2024-01-31 10:00:00.123\",true\n"
    "-5,0,100000000000000000000,\"\",\"y\",7,\"1970-01-01\",\"1970-01-01 00:00:00\","
    "\"1970-01-01 00:00:00.000\",false\n";

TEST(OutputCsvTest, RendersEveryType) {
  EXPECT_EQ(Render("CSV", {AllTypesBlock()}), kCsvRows);
  EXPECT_EQ(Render("CSV", {SpecialFloatsBlock()}), "inf,-inf,nan\n");
}

TEST(OutputCsvTest, WithNames) {
  EXPECT_EQ(
      Render("CSVWithNames", {AllTypesBlock()}),
      std::string("\"i32\",\"u64\",\"f64\",\"s\",\"lc\",\"n\",\"d\",\"dt\",\"dt64\",\"b\"\n") +
          kCsvRows);
}

const char kJsonMeta[] =
    "{\n"
    "\t\"meta\":\n"
    "\t[\n"
    "\t\t{\n\t\t\t\"name\": \"i32\",\n\t\t\t\"type\": \"Int32\"\n\t\t},\n"
    "\t\t{\n\t\t\t\"name\": \"u64\",\n\t\t\t\"type\": \"UInt64\"\n\t\t},\n"
    "\t\t{\n\t\t\t\"name\": \"f64\",\n\t\t\t\"type\": \"Float64\"\n\t\t},\n"
    "\t\t{\n\t\t\t\"name\": \"s\",\n\t\t\t\"type\": \"String\"\n\t\t},\n"
    "\t\t{\n\t\t\t\"name\": \"lc\",\n\t\t\t\"type\": \"LowCardinality(String)\"\n\t\t},\n"
    "\t\t{\n\t\t\t\"name\": \"n\",\n\t\t\t\"type\": \"Nullable(Int32)\"\n\t\t},\n"
    "\t\t{\n\t\t\t\"name\": \"d\",\n\t\t\t\"type\": \"Date\"\n\t\t},\n"
    "\t\t{\n\t\t\t\"name\": \"dt\",\n\t\t\t\"type\": \"DateTime\"\n\t\t},\n"
    "\t\t{\n\t\t\t\"name\": \"dt64\",\n\t\t\t\"type\": \"DateTime64(3)\"\n\t\t},\n"
    "\t\t{\n\t\t\t\"name\": \"b\",\n\t\t\t\"type\": \"Bool\"\n\t\t}\n"
    "\t],\n"
    "\n"
    "\t\"data\":\n"
    "\t[\n";

const char kJsonStats[] =
    "\t\"rows\": 2,\n"
    "\n"
    "\t\"statistics\":\n"
    "\t{\n"
    "\t\t\"elapsed\": 0.001234,\n"
    "\t\t\"rows_read\": 10,\n"
    "\t\t\"bytes_read\": 400\n"
    "\t}\n"
    "}\n";

OutputFormat::Stats SomeStats() {
  OutputFormat::Stats s;
  s.rows = 2;
  s.elapsed_s = 0.001234;
  s.rows_read = 10;
  s.bytes_read = 400;
  return s;
}

TEST(OutputJsonTest, RendersMetaDataRowsAndStatistics) {
  const char kData[] =
      "\t\t{\n"
      "\t\t\t\"i32\": 1,\n"
      "\t\t\t\"u64\": \"18446744073709551615\",\n"
      "\t\t\t\"f64\": 0.1,\n"
      "\t\t\t\"s\": \"a\\tb\\nc\\\"d'\\\\e\\/\xC3\xA9\",\n"
      "\t\t\t\"lc\": \"x\",\n"
      "\t\t\t\"n\": null,\n"
      "\t\t\t\"d\": \"2024-01-31\",\n"
      "\t\t\t\"dt\": \"2024-01-31 10:00:00\",\n"
      "\t\t\t\"dt64\": \"2024-01-31 10:00:00.123\",\n"
      "\t\t\t\"b\": true\n"
      "\t\t},\n"
      "\t\t{\n"
      "\t\t\t\"i32\": -5,\n"
      "\t\t\t\"u64\": \"0\",\n"
      "\t\t\t\"f64\": 100000000000000000000,\n"
      "\t\t\t\"s\": \"\",\n"
      "\t\t\t\"lc\": \"y\",\n"
      "\t\t\t\"n\": 7,\n"
      "\t\t\t\"d\": \"1970-01-01\",\n"
      "\t\t\t\"dt\": \"1970-01-01 00:00:00\",\n"
      "\t\t\t\"dt64\": \"1970-01-01 00:00:00.000\",\n"
      "\t\t\t\"b\": false\n"
      "\t\t}\n"
      "\t],\n"
      "\n";
  EXPECT_EQ(Render("JSON", {AllTypesBlock()}, {}, SomeStats()),
            std::string(kJsonMeta) + kData + kJsonStats);
  // Rows split over blocks render the same.
  types::Block all = AllTypesBlock();
  EXPECT_EQ(Render("JSON", {all.Slice(0, 1), all.Slice(1, 1)}, {}, SomeStats()),
            std::string(kJsonMeta) + kData + kJsonStats);
}

TEST(OutputJsonTest, EmptyResult) {
  auto block = MakeBlock({{"a", "Int32", {}}});
  EXPECT_EQ(Render("JSON", {block}),
            "{\n\t\"meta\":\n\t[\n\t\t{\n\t\t\t\"name\": \"a\",\n\t\t\t\"type\": \"Int32\"\n\t\t}\n"
            "\t],\n\n\t\"data\":\n\t[\n\n\t],\n\n\t\"rows\": 0,\n\n\t\"statistics\":\n\t{\n"
            "\t\t\"elapsed\": 0,\n\t\t\"rows_read\": 0,\n\t\t\"bytes_read\": 0\n\t}\n}\n");
}

TEST(OutputJsonCompactTest, RendersMetaDataRowsAndStatistics) {
  const char kData[] =
      "\t\t[1, \"18446744073709551615\", 0.1, \"a\\tb\\nc\\\"d'\\\\e\\/\xC3\xA9\", \"x\", null, "
      "\"2024-01-31\", \"2024-01-31 10:00:00\", \"2024-01-31 10:00:00.123\", true],\n"
      "\t\t[-5, \"0\", 100000000000000000000, \"\", \"y\", 7, \"1970-01-01\", "
      "\"1970-01-01 00:00:00\", \"1970-01-01 00:00:00.000\", false]\n"
      "\t],\n"
      "\n";
  EXPECT_EQ(Render("JSONCompact", {AllTypesBlock()}, {}, SomeStats()),
            std::string(kJsonMeta) + kData + kJsonStats);
  EXPECT_NE(Render("JSONCompact", {SpecialFloatsBlock()}).find("\t[\n\t\t[null, null, null]\n\t],"),
            std::string::npos);
}

TEST(OutputPrettyCompactTest, DrawsBoxWithAlignedColumnsAndRowNumbers) {
  auto block = MakeBlock({{"x", "Int32", {Value::Int(1), Value::Int(-25)}},
                          {"s", "String", {Value::String("ab"), Value::String("\xC3\xA9")}},
                          {"n", "Nullable(Int32)", {Value(), Value::Int(3)}}});
  EXPECT_EQ(Render("PrettyCompact", {block}),
            "   \u250c\u2500\u2500\u2500x\u2500\u252c\u2500s\u2500\u2500\u252c\u2500\u2500\u2500"
            "\u2500n\u2500\u2510\n"
            "1. \u2502   1 \u2502 ab \u2502 \u1d3a\u1d41\u1d38\u1d38 \u2502\n"
            "2. \u2502 -25 \u2502 \xC3\xA9  \u2502    3 \u2502\n"
            "   \u2514\u2500\u2500\u2500\u2500\u2500\u2534\u2500\u2500\u2500\u2500\u2534\u2500"
            "\u2500\u2500\u2500\u2500\u2500\u2518\n");
  OutputOptions no_numbers;
  no_numbers.pretty_row_numbers = false;
  auto one = MakeBlock({{"a", "String", {Value::String("x\ty")}}});
  EXPECT_EQ(Render("PrettyCompact", {one}, no_numbers),
            "\u250c\u2500a\u2500\u2500\u2500\u2500\u2510\n"
            "\u2502 x\\ty \u2502\n"
            "\u2514\u2500\u2500\u2500\u2500\u2500\u2500\u2518\n");
}

}  // namespace
}  // namespace trackhouse::formats
