#include "clickhouse/params.h"

#include <gtest/gtest.h>

#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "clickhouse/test_server.h"
#include "common/error_codes.h"
#include "sql/lexer.h"

namespace trackhouse::clickhouse {
namespace {

// `s` as a client sends it in param_<name>: TabSeparated escaping.
std::string TsvEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\0': out += "\\0"; break;
      case '\'': out += "\\'"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string Hex(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

// Strings meant to break out of a literal or the statement around it.
std::vector<std::string> HostileStrings() {
  return {"plain",
          "it's",
          "''",
          "\\",
          "ends with a backslash \\",
          "\\' OR 1 = 1 --",
          "'; DROP TABLE t; --",
          "line\nbreak",
          "tab\there",
          "cr\rlf\r\n",
          "{x:String}",
          "{",
          "}",
          "-- not a comment",
          "/* not a comment */",
          "# hash",
          "`backquoted`",
          "\"double\"",
          "unicode: \xc3\xa9\xe2\x82\xac \xf0\x9f\x98\x80 \xe4\xb8\xad\xe6\x96\x87",
          std::string("nul\0inside", 10),
          "\\0 written out",
          "\\N",
          "\x01\x02\x1f\x7f",
          "\xff\xfe invalid utf-8",
          "%41 percent",
          "",
          std::string(5000, '\'')};
}

TEST(ParamsTest, BindsTheGuidesQuery) {
  auto sql = BindParameters(
      "SELECT toDate(createdAt) AS date, count() AS events FROM entityMetricEvents "
      "WHERE entityType = 'Model' AND entityId = {modelId:UInt32} GROUP BY date",
      {{"modelId", "42"}});
  ASSERT_TRUE(sql.ok()) << sql.status().ToString();
  EXPECT_EQ(*sql,
            "SELECT toDate(createdAt) AS date, count() AS events FROM entityMetricEvents "
            "WHERE entityType = 'Model' AND entityId = 42 GROUP BY date");
}

TEST(ParamsTest, LeavesBracesInStringsCommentsAndIdentifiersAlone) {
  std::string text =
      "SELECT '{a:String}', `{a:String}` -- {a:String}\n/* {a:String} */ FROM t WHERE x = "
      "{a:String}";
  auto sql = BindParameters(text, {{"a", "v"}});
  ASSERT_TRUE(sql.ok()) << sql.status().ToString();
  EXPECT_EQ(*sql,
            "SELECT '{a:String}', `{a:String}` -- {a:String}\n/* {a:String} */ FROM t WHERE x = "
            "'v'");
  EXPECT_FALSE(HasParameters("SELECT '{a:String}' -- {b:UInt8}"));
  EXPECT_TRUE(HasParameters("SELECT {b:UInt8}"));
  // Not a placeholder: a lambda-free map-like brace without a name and colon is copied.
  auto other = BindParameters("SELECT {1:2}", {});
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(*other, "SELECT {1:2}");
}

TEST(ParamsTest, MissingParameterIsUnknownQueryParameterNamingIt) {
  auto sql = BindParameters("SELECT {a:UInt8} + {missing:UInt8}", {{"a", "1"}});
  ASSERT_FALSE(sql.ok());
  EXPECT_EQ(sql.status().clickhouse_code(), ch::kUnknownQueryParameter);
  EXPECT_NE(sql.status().message().find("missing"), std::string::npos);
}

TEST(ParamsTest, ValuesNotOfTheirTypeAreBadQueryParameterNamingIt) {
  struct Case {
    const char* type;
    const char* value;
  };
  for (const Case& c : std::vector<Case>{{"UInt32", "42 OR 1 = 1"},
                                         {"UInt32", "-1"},
                                         {"UInt8", "256"},
                                         {"Int8", "-129"},
                                         {"Int64", "9223372036854775808"},
                                         {"UInt64", "18446744073709551616"},
                                         {"Float64", "1e"},
                                         {"Float64", "1.5; DROP"},
                                         {"Date", "2024-02-30"},
                                         {"Date", "2024-1-1"},
                                         {"DateTime", "2024-01-01 25:00:00"},
                                         {"DateTime", "now()"},
                                         {"UUID", "not-a-uuid"},
                                         {"FixedString(2)", "abc"},
                                         {"Bool", "yes"},
                                         {"Array(UInt8)", "[1, 2"},
                                         {"Array(UInt8)", "[1] OR 1"},
                                         {"Array(UInt8)", "['x']"},
                                         {"Array(String)", "[NULL]"},
                                         {"Tuple(UInt8, String)", "(1)"},
                                         {"Tuple(UInt8, String)", "(1, 'a', 2)"},
                                         {"Tuple(UInt8)", "(300)"},
                                         {"Nullable(UInt8)", "NULL"}}) {
    auto literal = ParameterLiteral("p", c.type, c.value);
    EXPECT_FALSE(literal.ok()) << c.type << " " << c.value << " -> " << *literal;
    if (!literal.ok()) {
      EXPECT_EQ(literal.status().clickhouse_code(), ch::kBadQueryParameter) << c.value;
      EXPECT_NE(literal.status().message().find("'p'"), std::string::npos);
    }
  }
}

TEST(ParamsTest, WritesTypedLiterals) {
  struct Case {
    const char* type;
    const char* value;
    const char* literal;
  };
  for (const Case& c : std::vector<Case>{
           {"UInt32", "42", "42"},
           {"UInt32", "007", "7"},
           {"Int32", "-5", "(-5)"},
           {"Int64", "-9223372036854775808", "(-9223372036854775808)"},
           {"UInt64", "18446744073709551615", "18446744073709551615"},
           {"Float64", "-1.5e3", "(-1.5e3)"},
           {"Float32", ".5", "0.5"},
           {"Float64", "inf", "inf"},
           {"Bool", "true", "1"},
           {"String", "it\\'s", "'it\\'s'"},
           {"LowCardinality(String)", "View", "'View'"},
           {"FixedString(3)", "ab", "toFixedString('ab', 3)"},
           {"Date", "2024-02-29", "toDate('2024-02-29')"},
           {"DateTime", "2024-01-02 03:04:05", "toDateTime('2024-01-02 03:04:05')"},
           {"DateTime('UTC')", "1700000000", "toDateTime(1700000000, 'UTC')"},
           {"DateTime64(3)", "2024-01-02 03:04:05.678",
            "toDateTime64('2024-01-02 03:04:05.678', 3)"},
           {"Nullable(String)", "\\N", "NULL"},
           {"Nullable(UInt8)", "3", "3"},
           {"Array(String)", "['a','b\\'c']", "['a', 'b\\'c']"},
           {"Array(Int32)", "[1, -2]", "[1, (-2)]"},
           {"Array(Nullable(UInt8))", "[1,NULL]", "[1, NULL]"},
           {"Array(Array(UInt8))", "[[1],[2,3]]", "[[1], [2, 3]]"},
           {"Array(UInt8)", "[]", "CAST([] AS Array(UInt8))"},
           {"Identifier", "events", "`events`"},
           {"Identifier", "db.events", "`db`.`events`"},
           {"Identifier", "a`b; DROP", "`a\\`b; DROP`"},
           {"Decimal(9, 2)", "1.25", "CAST('1.25' AS Decimal(9, 2))"},
           {"Tuple(UInt8, String)", "(1,'a\\'b')", "tuple(1, 'a\\'b')"},
           {"Tuple(a Int32, b Array(Nullable(String)))", "(-1, ['x', NULL])",
            "tuple((-1), ['x', NULL])"},
           {"Array(Tuple(UInt8, Date))", "[(1,'2024-01-01')]",
            "[tuple(1, toDate('2024-01-01'))]"}}) {
    auto literal = ParameterLiteral("p", c.type, c.value);
    ASSERT_TRUE(literal.ok()) << c.type << " " << c.value << ": " << literal.status().ToString();
    EXPECT_EQ(*literal, c.literal) << c.type << " " << c.value;
  }
}

TEST(ParamsTest, KeepsTokensApart) {
  auto sql = BindParameters("SELECT 1-{n:Int32}", {{"n", "-1"}});
  ASSERT_TRUE(sql.ok());
  EXPECT_EQ(*sql, "SELECT 1- (-1)");  // never "1--1", which would start a comment
}

TEST(ParamsTest, ArbitraryBytesNeverEscapeTheirLiteral) {
  // Random values for every kind of type: each either binds to a literal that lexes as the
  // tokens of one expression (nothing after it, no comment) or is refused naming the parameter.
  std::mt19937 rng(12345);
  const char* types[] = {"String", "UInt32", "Int64", "Float64", "Date", "DateTime",
                         "Array(String)", "Array(Int8)", "Tuple(String, UInt8)",
                         "Nullable(String)", "FixedString(4)", "Identifier"};
  const std::string alphabet = std::string("'\\\"`{}[](),:;-/*#\n\t 0123456789abcN.e+") +
                               std::string(1, '\0') + "\xc3\xa9";
  int bound = 0, refused = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string value;
    int length = static_cast<int>(rng() % 12);
    for (int j = 0; j < length; ++j) value.push_back(alphabet[rng() % alphabet.size()]);
    const char* type = types[rng() % std::size(types)];
    auto sql = BindParameters(std::string("SELECT {p:") + type + "} AS x", {{"p", value}});
    if (!sql.ok()) {
      EXPECT_EQ(sql.status().clickhouse_code(), ch::kBadQueryParameter) << type << " " << value;
      ++refused;
      continue;
    }
    ++bound;
    // The statement still ends with the alias: the literal closed everything it opened.
    ASSERT_GE(sql->size(), 5u);
    EXPECT_EQ(sql->substr(sql->size() - 5), " AS x") << type << " [" << value << "]: " << *sql;
    EXPECT_FALSE(HasParameters(*sql)) << *sql;
    sql::Lexer lexer(*sql);
    int tokens = 0;
    sql::Token last;
    for (sql::Token t = lexer.Next(); !t.Is(sql::TokenKind::kEnd); t = lexer.Next()) {
      ASSERT_FALSE(t.Is(sql::TokenKind::kError)) << type << " [" << value << "]: " << *sql;
      ASSERT_FALSE(t.Is(sql::TokenKind::kSemicolon)) << *sql;
      last = t;
      ++tokens;
    }
    EXPECT_TRUE(last.IsKeyword("X")) << *sql;
    EXPECT_GE(tokens, 4);
  }
  EXPECT_GT(bound, 500);  // both outcomes were exercised
  EXPECT_GT(refused, 500);
}

// Against the real 18.16, which has no HTTP parameters: every bound value comes back as the
// bytes it stood for.
class ParamsServerTest : public ClickHouseSuite {};

TEST_F(ParamsServerTest, HostileStringsRoundTripByteForByte) {
  Client client(Options());
  for (const std::string& s : HostileStrings()) {
    auto sql = BindParameters("SELECT hex({s:String}), length({s:String}) FORMAT TabSeparated",
                              {{"s", TsvEscape(s)}});
    ASSERT_TRUE(sql.ok()) << sql.status().ToString();
    auto out = client.Query(*sql);
    ASSERT_TRUE(out.ok()) << Hex(s) << ": " << out.status().ToString();
    EXPECT_EQ(*out, Hex(s) + "\t" + std::to_string(s.size()) + "\n") << "value hex " << Hex(s);
  }
}

TEST_F(ParamsServerTest, HostileStringsInArraysAndNullablesRoundTrip) {
  Client client(Options());
  std::string array = "[";
  std::string expected;
  std::vector<std::string> strings = HostileStrings();
  strings.resize(12);
  for (size_t i = 0; i < strings.size(); ++i) {
    if (i > 0) array += ",";
    // An array's text form has its elements in quoted form (no further escaping around it).
    array += QuoteString(strings[i]);
    expected += Hex(strings[i]) + "\n";
  }
  array += "]";
  auto sql = BindParameters("SELECT hex(arrayJoin({a:Array(String)})) FORMAT TabSeparated",
                            {{"a", array}});
  ASSERT_TRUE(sql.ok()) << sql.status().ToString();
  auto out = client.Query(*sql);
  ASSERT_TRUE(out.ok()) << out.status().ToString() << "\n" << *sql;
  EXPECT_EQ(*out, expected);

  auto null_sql = BindParameters("SELECT isNull({s:Nullable(String)}), {t:Nullable(String)}",
                                 {{"s", "\\N"}, {"t", "x\\ty"}});
  ASSERT_TRUE(null_sql.ok());
  auto nulls = client.Query(*null_sql);
  ASSERT_TRUE(nulls.ok()) << nulls.status().ToString();
  EXPECT_EQ(*nulls, "1\tx\\ty\n");
}

TEST_F(ParamsServerTest, TypedValuesKeepTheirValues) {
  Client client(Options());
  auto sql = BindParameters(
      "SELECT {a:UInt32} + 1, {b:Int64}, {c:Float64}, {d:Date}, {e:DateTime('UTC')}, "
      "toTypeName({d:Date}), toTypeName({e:DateTime('UTC')}), {f:FixedString(4)}, "
      "toTypeName({f:FixedString(4)}), {g:Array(UInt16)}, length({h:Array(String)}), "
      "{i:UUID}, 10 - {b:Int64}, {t:Tuple(UInt8, String)}.2 FORMAT TabSeparated",
      {{"a", "4294967295"},
       {"b", "-9223372036854775808"},
       {"c", "-0.25"},
       {"d", "2024-02-29"},
       {"e", "2024-01-02 03:04:05"},
       {"f", "ab"},
       {"g", "[1,65535]"},
       {"h", "[]"},
       {"i", "123e4567-e89b-12d3-a456-426614174000"},
       {"t", "(3, 'it\\'s')"}});
  ASSERT_TRUE(sql.ok()) << sql.status().ToString();
  auto out = client.Query(*sql);
  ASSERT_TRUE(out.ok()) << out.status().ToString() << "\n" << *sql;
  EXPECT_EQ(*out,
            "4294967296\t-9223372036854775808\t-0.25\t2024-02-29\t2024-01-02 03:04:05\tDate\t"
            "DateTime(\\'UTC\\')\tab\\0\\0\tFixedString(4)\t[1,65535]\t0\t"
            "123e4567-e89b-12d3-a456-426614174000\t-9223372036854775798\tit\\'s\n");
}

TEST_F(ParamsServerTest, ArraysAndLimitsTakeParameters) {
  Client client(Options());
  auto has_sql = BindParameters(
      "SELECT number FROM system.numbers WHERE has({set:Array(UInt64)}, number) OR number = "
      "{one:UInt8} LIMIT {n:UInt32} FORMAT TabSeparated",
      {{"set", "[3,5]"}, {"one", "1"}, {"n", "3"}});
  ASSERT_TRUE(has_sql.ok());
  auto out = client.Query(*has_sql);
  ASSERT_TRUE(out.ok()) << out.status().ToString() << "\n" << *has_sql;
  EXPECT_EQ(*out, "1\n3\n5\n");
}

}  // namespace
}  // namespace trackhouse::clickhouse
