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
                   OutputOptions options = {}, OutputFormat::Stats stats = {},
                   const types::Block* totals = nullptr) {
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
  if (totals) (*f)->WriteTotals(*totals, &out);
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
  // Pretty writes strings unescaped (current ClickHouse docs: "Rows are not escaped in any of
  // the Pretty formats"); the tab advances to the next multiple of 8 from the line start.
  EXPECT_EQ(Render("PrettyCompact", {one}, no_numbers),
            "\u250c\u2500a\u2500\u2500\u2500\u2500\u2510\n"
            "\u2502 x\ty \u2502\n"
            "\u2514\u2500\u2500\u2500\u2500\u2500\u2500\u2518\n");
}

// ---- Expected outputs below were taken from a real clickhouse-server 18.16 over HTTP
// (curl '...?query=SELECT ... FORMAT <fmt>'), except where a comment says current ClickHouse's
// documentation or behaviour differs. ----

// SELECT [toFloat64(1)/0, 0.5] AS a, [NULL, 'x'] AS b, [toDateTime('2024-01-01 00:00:00')] AS c,
//        [[1,2],[3]] AS d, [] AS e, ['a\tb\nc'] AS f
types::Block ArraysBlock() {
  auto arr = [](std::vector<Value> v) { return Value::Array(std::move(v)); };
  return MakeBlock({
      {"a", "Array(Float64)", {arr({Value::Float(INFINITY), Value::Float(0.5)})}},
      {"b", "Array(Nullable(String))", {arr({Value(), Value::String("x")})}},
      {"c", "Array(DateTime)", {arr({Value::UInt(1704067200)})}},
      {"d",
       "Array(Array(UInt8))",
       {arr({arr({Value::UInt(1), Value::UInt(2)}), arr({Value::UInt(3)})})}},
      {"e", "Array(UInt8)", {arr({})}},
      {"f", "Array(String)", {arr({Value::String("a\tb\nc")})}},
  });
}

TEST(OutputArrayTest, TextFormatsQuoteElementsAsLiterals) {
  EXPECT_EQ(Render("TSV", {ArraysBlock()}),
            "[inf,0.5]\t[NULL,'x']\t['2024-01-01 00:00:00']\t[[1,2],[3]]\t[]\t['a\\tb\\nc']\n");
  EXPECT_EQ(Render("CSV", {ArraysBlock()}),
            "\"[inf,0.5]\",\"[NULL,'x']\",\"['2024-01-01 00:00:00']\",\"[[1,2],[3]]\",\"[]\","
            "\"['a\\tb\\nc']\"\n");
  // ['a''b\\c', 'x/y"']: the array text escapes ' and \; CSV then doubles the ".
  auto quotes = MakeBlock(
      {{"s", "Array(String)", {Value::Array({Value::String("a'b\\c"), Value::String("x/y\"")})}}});
  EXPECT_EQ(Render("TSV", {quotes}), "['a\\'b\\\\c','x/y\"']\n");
  EXPECT_EQ(Render("CSV", {quotes}), "\"['a\\'b\\\\c','x/y\"\"']\"\n");
  OutputOptions no_numbers;
  no_numbers.pretty_row_numbers = false;
  EXPECT_EQ(
      Render("PrettyCompactNoEscapes", {ArraysBlock()}, no_numbers),
      "┌─a─────────┬─b──────────┬─c───────────────────────┬─d───────────┬─e──┬─f───────────┐\n"
      "│ [inf,0.5] │ [NULL,'x'] │ ['2024-01-01 00:00:00'] │ [[1,2],[3]] │ [] │ ['a\\tb\\nc'] │\n"
      "└───────────┴────────────┴─────────────────────────┴─────────────┴────┴─────────────┘\n");
}

TEST(OutputArrayTest, JsonFormatsWriteJsonArrays) {
  EXPECT_EQ(Render("JSONEachRow", {ArraysBlock()}),
            "{\"a\":[null,0.5],\"b\":[null,\"x\"],\"c\":[\"2024-01-01 00:00:00\"],"
            "\"d\":[[1,2],[3]],\"e\":[],\"f\":[\"a\\tb\\nc\"]}\n");
  // 64-bit integers inside arrays follow output_format_json_quote_64bit_integers too.
  auto i64 = MakeBlock({{"e", "Array(Int64)", {Value::Array({Value::Int(7)})}}});
  EXPECT_EQ(Render("JSONEachRow", {i64}), "{\"e\":[\"7\"]}\n");
  OutputOptions unquoted;
  unquoted.quote_64bit_integers = false;
  EXPECT_EQ(Render("JSONEachRow", {i64}, unquoted), "{\"e\":[7]}\n");
  EXPECT_EQ(Render("JSONCompactEachRow", {i64}), "[[\"7\"]]\n");
}

TEST(OutputJsonEachRowTest, QuotedDenormalsKeepTheSign) {
  // SELECT toFloat64(1)/0 AS a, -toFloat64(1)/0 AS b, toFloat32(0)/0 AS c, toInt64(5) AS d
  // with output_format_json_quote_denormals=1, output_format_json_quote_64bit_integers=0.
  auto block = MakeBlock({{"a", "Float64", {Value::Float(INFINITY)}},
                          {"b", "Float64", {Value::Float(-INFINITY)}},
                          {"c", "Float32", {Value::Float(std::copysign(NAN, -1.0))}},
                          {"d", "Int64", {Value::Int(5)}}});
  OutputOptions options;
  options.quote_denormals = true;
  options.quote_64bit_integers = false;
  EXPECT_EQ(Render("JSONEachRow", {block}, options),
            "{\"a\":\"inf\",\"b\":\"-inf\",\"c\":\"-nan\",\"d\":5}\n");
}

// SELECT number % 2 AS k, count() AS c FROM numbers(5) GROUP BY k WITH TOTALS ORDER BY k
struct TotalsCase {
  types::Block rows = MakeBlock({{"k", "UInt8", {Value::UInt(0), Value::UInt(1)}},
                                 {"c", "UInt64", {Value::UInt(3), Value::UInt(2)}}});
  types::Block totals =
      MakeBlock({{"k", "UInt8", {Value::UInt(0)}}, {"c", "UInt64", {Value::UInt(5)}}});
  std::string Render(std::string_view format, OutputOptions options = {}) const {
    OutputFormat::Stats stats = SomeStats();
    stats.rows_before_limit_at_least = 2;
    return formats::Render(format, {rows}, options, stats, &totals);
  }
};

TEST(OutputTotalsTest, TextFormatsAppendTheTotalsRowAfterAnEmptyLine) {
  TotalsCase t;
  EXPECT_EQ(t.Render("TabSeparated"), "0\t3\n1\t2\n\n0\t5\n");
  EXPECT_EQ(t.Render("TabSeparatedWithNames"), "k\tc\n0\t3\n1\t2\n\n0\t5\n");
  EXPECT_EQ(t.Render("CSV"), "0,3\n1,2\n\n0,5\n");
  EXPECT_EQ(t.Render("JSONEachRow"), "{\"k\":0,\"c\":\"3\"}\n{\"k\":1,\"c\":\"2\"}\n");
  EXPECT_EQ(t.Render("JSONCompactEachRow"), "[0, \"3\"]\n[1, \"2\"]\n");
  EXPECT_EQ(t.Render("RowBinary"), std::string("\0\3\0\0\0\0\0\0\0\1\2\0\0\0\0\0\0\0", 18));
}

TEST(OutputTotalsTest, JsonHasTotalsAndRowsBeforeLimit) {
  TotalsCase t;
  std::string json = t.Render("JSON");
  const char kTail[] =
      "\t\t{\n\t\t\t\"k\": 1,\n\t\t\t\"c\": \"2\"\n\t\t}\n"
      "\t],\n\n"
      "\t\"totals\":\n\t{\n\t\t\"k\": 0,\n\t\t\"c\": \"5\"\n\t},\n\n"
      "\t\"rows\": 2,\n\n"
      "\t\"rows_before_limit_at_least\": 2,\n\n"
      "\t\"statistics\":\n";
  EXPECT_NE(json.find(kTail), std::string::npos) << json;
  // 18.16 writes JSONCompact totals as [0,"5"]; current ClickHouse separates them with ", " as
  // in its data rows.
  std::string compact = t.Render("JSONCompact");
  EXPECT_NE(compact.find("\t\t[1, \"2\"]\n\t],\n\n\t\"totals\": [0, \"5\"],\n\n\t\"rows\": 2,\n\n"
                         "\t\"rows_before_limit_at_least\": 2,\n"),
            std::string::npos)
      << compact;
  // Without a LIMIT the query leaves rows_before_limit_at_least unset and it is not written
  // (current docs; 18.16 also wrote it for GROUP BY without LIMIT).
  EXPECT_EQ(Render("JSON", {t.rows}).find("rows_before_limit"), std::string::npos);
}

TEST(OutputTotalsTest, PrettyDrawsATotalsTable) {
  TotalsCase t;
  OutputOptions no_numbers;
  no_numbers.pretty_row_numbers = false;
  // 18.16 without its header colouring (current ClickHouse colours only on a terminal).
  EXPECT_EQ(t.Render("PrettyCompact", no_numbers),
            "┌─k─┬─c─┐\n│ 0 │ 3 │\n│ 1 │ 2 │\n└───┴───┘\n\nTotals:\n┌─k─┬─c─┐\n│ 0 │ 5 │\n"
            "└───┴───┘\n");
  EXPECT_EQ(t.Render("Pretty", no_numbers),
            "┏━━━┳━━━┓\n┃ k ┃ c ┃\n┡━━━╇━━━┩\n│ 0 │ 3 │\n├───┼───┤\n│ 1 │ 2 │\n└───┴───┘\n"
            "\nTotals:\n┏━━━┳━━━┓\n┃ k ┃ c ┃\n┡━━━╇━━━┩\n│ 0 │ 5 │\n└───┴───┘\n");
  // Current default: numbered rows; the totals table numbers from 1 again.
  EXPECT_EQ(t.Render("PrettyCompactMonoBlock"),
            "   ┌─k─┬─c─┐\n1. │ 0 │ 3 │\n2. │ 1 │ 2 │\n   └───┴───┘\n\nTotals:\n"
            "   ┌─k─┬─c─┐\n1. │ 0 │ 5 │\n   └───┴───┘\n");
}

TEST(OutputJsonTest, JsonReplacesInvalidUtf8ButEachRowPassesItThrough) {
  // SELECT unhex('61FF62C3E2828263E282ACF09F9880ED9FBFEDA080C0AFF4908080') AS s: a stray byte,
  // a truncated sequence, valid 3- and 4-byte sequences, then a surrogate, an overlong form and
  // a code point past U+10FFFF in a row (one replacement for the run).
  const std::string bytes =
      "a\xFF"
      "b\xC3\xE2\x82\x82"
      "c\xE2\x82\xAC\xF0\x9F\x98\x80\xED\x9F\xBF"
      "\xED\xA0\x80\xC0\xAF\xF4\x90\x80\x80";
  auto block = MakeBlock({{"s", "String", {Value::String(bytes)}}});
  std::string json = Render("JSON", {block});
  EXPECT_NE(json.find("\"s\": \"a\xEF\xBF\xBD"
                      "b\xEF\xBF\xBD\xE2\x82\x82"
                      "c\xE2\x82\xAC"
                      "\xF0\x9F\x98\x80\xED\x9F\xBF\xEF\xBF\xBD\"\n"),
            std::string::npos);
  EXPECT_EQ(Render("JSONEachRow", {block}), "{\"s\":\"" + bytes + "\"}\n");
}

TEST(OutputRowBinaryTest, EncodesEveryTypeLikeClickHouse) {
  // SELECT toInt32(-2) AS i, toUInt64(300) AS u, toFloat64(0.5) AS f, 'ab' AS s,
  //   toFixedString('x', 2) AS fs, toNullable(toInt8(3)) AS n, CAST(NULL AS Nullable(Int8)) AS nn,
  //   toDate('2024-01-31') AS d, toDateTime('2024-01-31 10:00:00') AS dt,
  //   toLowCardinality('lc') AS lc, [1, 2] AS a, [[toNullable('x'), NULL]] AS aa FORMAT RowBinary
  auto block = MakeBlock({
      {"i", "Int32", {Value::Int(-2)}},
      {"u", "UInt64", {Value::UInt(300)}},
      {"f", "Float64", {Value::Float(0.5)}},
      {"s", "String", {Value::String("ab")}},
      {"fs", "FixedString(2)", {Value::String("x")}},
      {"n", "Nullable(Int8)", {Value::Int(3)}},
      {"nn", "Nullable(Int8)", {Value()}},
      {"d", "Date", {Value::UInt(kDay)}},
      {"dt", "DateTime", {Value::UInt(kSecond)}},
      {"lc", "LowCardinality(String)", {Value::String("lc")}},
      {"a", "Array(UInt8)", {Value::Array({Value::UInt(1), Value::UInt(2)})}},
      {"aa",
       "Array(Array(Nullable(String)))",
       {Value::Array({Value::Array({Value::String("x"), Value()})})}},
  });
  const unsigned char kExpected[] = {0xfe, 0xff, 0xff, 0xff, 0x2c, 0x01, 0x00, 0x00, 0x00, 0x00,
                                     0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xe0, 0x3f,
                                     0x02, 0x61, 0x62, 0x78, 0x00, 0x00, 0x03, 0x01, 0x29, 0x4d,
                                     0x20, 0x1a, 0xba, 0x65, 0x02, 0x6c, 0x63, 0x02, 0x01, 0x02,
                                     0x01, 0x02, 0x00, 0x01, 0x78, 0x01};
  std::string expected(reinterpret_cast<const char*>(kExpected), sizeof(kExpected));
  EXPECT_EQ(Render("RowBinary", {block}), expected);
  // RowBinaryWithNamesAndTypes (not in 18.16; as documented): column count, names, types.
  std::string header = Render("RowBinaryWithNamesAndTypes", {block.Slice(0, 0)});
  EXPECT_EQ(header.substr(0, 4), std::string("\x0c\x01i\x01", 4));
  EXPECT_NE(header.find("\x05Int32\x06UInt64"), std::string::npos);
  EXPECT_EQ(header.substr(header.size() - 31),
            "\x1e"
            "Array(Array(Nullable(String)))");
  EXPECT_EQ(Render("RowBinaryWithNames", {block}).substr(0, 3), std::string("\x0c\x01i", 3));
  EXPECT_EQ(MakeOutputFormat("RowBinary", {}).value()->content_type(), "application/octet-stream");
}

// ---- Pretty: current ClickHouse layout (row numbers, footer, row limit, control pictures,
// multi-line values, number tip), derived from its documentation and Pretty writer. ----

TEST(OutputPrettyTest, FullGridWithRowNumbers) {
  auto block = MakeBlock({{"x", "Int32", {Value::Int(1), Value::Int(-25)}},
                          {"s", "String", {Value::String("ab"), Value::String("日本")}}});
  EXPECT_EQ(Render("Pretty", {block}),
            "   ┏━━━━━┳━━━━━━┓\n"
            "   ┃   x ┃ s    ┃\n"
            "   ┡━━━━━╇━━━━━━┩\n"
            "1. │   1 │ ab   │\n"
            "   ├─────┼──────┤\n"
            "2. │ -25 │ 日本 │\n"
            "   └─────┴──────┘\n");
  EXPECT_EQ(Render("PrettySpace", {block}),
            "      x   s   \n"
            "\n"
            "1.    1   ab   \n"
            "2.  -25   日本 \n");
}

TEST(OutputPrettyTest, ControlCharactersAndLineFeeds) {
  // NUL becomes ␀ in values and names; a line feed in a value continues the cell on the next
  // line (↴ ... ↳); in a name it is a picture too.
  auto block = MakeBlock({{"a\nb", "String", {Value::String(std::string("x\0y\nzz", 6))}}});
  OutputOptions no_numbers;
  no_numbers.pretty_row_numbers = false;
  EXPECT_EQ(Render("PrettyCompact", {block}, no_numbers),
            "┌─a␊b─┐\n"
            "│ x␀y↴│\n"
            "│↳zz  │\n"
            "└─────┘\n");
}

TEST(OutputPrettyTest, RowNumbersContinueAcrossBlocksAndFooterRepeatsNames) {
  std::vector<Value> values;
  for (int i = 0; i < 50; ++i) values.push_back(Value::Int(i));
  auto block = MakeBlock({{"v", "Int32", values}});
  std::string out = Render("PrettyCompact", {block, block.Slice(0, 1)});
  // 50 rows: the names repeat below them.
  EXPECT_NE(out.find("50. │ 49 │\n    └──v─┘\n"), std::string::npos) << out;
  // The next block numbers on from 51 with a gutter as wide as its last number.
  EXPECT_NE(out.find("    ┌─v─┐\n51. │ 0 │\n    └───┘\n"), std::string::npos) << out;
}

TEST(OutputPrettyTest, RowLimitCutsTheMiddleAndSaysHowManyRowsThereWere) {
  std::vector<Value> values;
  for (int i = 0; i < 7; ++i) values.push_back(Value::Int(i));
  auto block = MakeBlock({{"v", "Int32", values}});
  OutputOptions options;
  options.pretty_max_rows = 4;
  options.pretty_row_numbers = false;
  EXPECT_EQ(Render("PrettyCompact", {block}, options),
            "┌─v─┐\n"
            "│ 0 │\n"
            "│ 1 │\n"
            "─ ─ ─\n"
            "│ 5 │\n"
            "│ 6 │\n"
            "└───┘\n"
            "Showed 4 out of 7 rows.\n");
  // Blocks after the limit are counted, not shown.
  EXPECT_EQ(Render("PrettyCompact", {block.Slice(0, 4), block.Slice(4, 3)}, options),
            "┌─v─┐\n│ 0 │\n│ 1 │\n│ 2 │\n│ 3 │\n└───┘\nShowed 4 out of 7 rows.\n");
}

TEST(OutputPrettyTest, SingleLargeNumberGetsAReadableTip) {
  auto big = MakeBlock({{"count()", "UInt64", {Value::UInt(1234567)}}});
  EXPECT_EQ(Render("PrettyCompact", {big}),
            "   ┌─count()─┐\n1. │ 1234567 │ -- 1.23 million\n   └─────────┘\n");
  auto small = MakeBlock({{"c", "UInt64", {Value::UInt(999999)}}});
  EXPECT_EQ(Render("PrettyCompact", {small}).find("--"), std::string::npos);
}

TEST(OutputPrettyTest, LongNonIdentifierNamesLoseTheirMiddle) {
  auto block = MakeBlock({{"countIf(metricType = 'downloads', x)", "UInt8", {Value::UInt(1)}}});
  OutputOptions no_numbers;
  no_numbers.pretty_row_numbers = false;
  // Cut to 24 columns: 12 from the start, "⋯", 11 from the end.
  EXPECT_EQ(Render("PrettyCompact", {block}, no_numbers),
            "┌─countIf(metr⋯nloads', x)─┐\n"
            "│                        1 │\n"
            "└──────────────────────────┘\n");
}

TEST(OutputFormatTest, FormatFamilyNames) {
  for (const char* name :
       {"TSVRaw", "TabSeparatedRaw", "CSVWithNamesAndTypes", "Pretty", "PrettyNoEscapes",
        "PrettyMonoBlock", "PrettyNoEscapesMonoBlock", "PrettyCompactNoEscapes",
        "PrettyCompactMonoBlock", "PrettySpace", "PrettySpaceNoEscapes", "RowBinaryWithNames"}) {
    EXPECT_TRUE(MakeOutputFormat(name, {}).ok()) << name;
  }
  EXPECT_FALSE(MakeOutputFormat("PrettyFoo", {}).ok());
  EXPECT_FALSE(MakeOutputFormat("PrettyMonoBlockNoEscapes", {}).ok());
  EXPECT_EQ(MakeOutputFormat("Pretty", {}).value()->content_type(), "text/plain; charset=UTF-8");
  auto raw = MakeBlock({{"s", "String", {Value::String("a\tb")}}});
  EXPECT_EQ(Render("TSVRaw", {raw}), "a\tb\n");
  EXPECT_EQ(Render("CSVWithNamesAndTypes", {raw}), "\"s\"\n\"String\"\n\"a\tb\"\n");
}

}  // namespace
}  // namespace trackhouse::formats
