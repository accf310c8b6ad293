#include "eval/expression.h"

#include <gtest/gtest.h>


#include "eval/test_util.h"
#include "eval/type_rules.h"
#include "sql/parser.h"

namespace trackhouse::eval {
namespace {

using testing::ErrorOf;
using testing::Eval;
using testing::EvalOne;
using testing::MakeBlock;
using testing::TypeOf;
using V = std::vector<std::string>;

// 2023-11-14 22:13:20.123456 UTC
constexpr int64_t kNow = 1700000000123456;

types::Block Events() {
  return MakeBlock({
      {"entityType", "LowCardinality(String)", {"Model", "Image", "Model", "Post"}},
      {"entityId", "Int32", {"7", "7", "42", "42"}},
      {"metricType", "LowCardinality(String)", {"View", "Download", "View", "Like"}},
      {"createdAt",
       "DateTime64(3)",
       {"2023-11-14 22:13:19.999", "2023-11-01 00:00:00.000", "2023-11-07 22:13:20.124",
        "2023-11-07 22:13:19.999"}},
      {"created_at",
       "DateTime",
       {"2024-01-31 10:00:00", "2024-02-29 23:59:59", "2023-12-31 00:00:00",
        "2024-11-05 08:07:47"}},
  });
}

TEST(ExpressionTest, GuidePredicateOnLowCardinalityComparesDictionary) {
  EXPECT_EQ(Eval("metricType = 'View'", Events()), (V{"1", "0", "1", "0"}));
  EXPECT_EQ(Eval("entityType = 'Model'", Events()), (V{"1", "0", "1", "0"}));
  EXPECT_EQ(Eval("metricType != 'View'", Events()), (V{"0", "1", "0", "1"}));
  EXPECT_EQ(Eval("metricType IN ('View', 'Like')", Events()), (V{"1", "0", "1", "1"}));
  EXPECT_EQ(TypeOf("metricType = 'View'", Events()), "UInt8");
}

// A block holding one value of a LowCardinality column (a sort-key prefix read from a key
// range) makes its predicates constants; AND with them, and the filter, still see every row.
TEST(ExpressionTest, PredicateOnASingleValuedLowCardinalityBlockIsConstant) {
  types::Block block =
      MakeBlock({{"entityType", "LowCardinality(String)", {"Model", "Model", "Model"}},
                 {"entityId", "Int32", {"1", "2", "3"}}});
  EXPECT_EQ(Eval("entityType = 'Model'", block), (V{"1", "1", "1"}));
  EXPECT_EQ(Eval("entityType = 'Image'", block), (V{"0", "0", "0"}));
  EXPECT_EQ(Eval("entityType = 'Model' AND entityId > 1", block), (V{"0", "1", "1"}));
  EXPECT_EQ(Eval("entityType = 'Image' OR entityId = 2", block), (V{"0", "1", "0"}));
  EXPECT_EQ(Eval("NOT (entityType = 'Model')", block), (V{"0", "0", "0"}));
}

TEST(ExpressionTest, LowCardinalityWithLargerDictionaryThanRowsFallsBack) {
  // A column whose dictionary holds more entries than it has rows (as after a filter).
  auto lc = std::make_shared<types::ColumnLowCardinality>(types::DataType::LowCardinalityString());
  for (const char* s : {"View", "Like", "Share"}) lc->Intern(s);
  lc->Append("Download");
  types::Block one;
  one.Add("metricType", lc->type(), lc);
  EXPECT_EQ(Eval("metricType = 'Download'", one), (V{"1"}));
  EXPECT_EQ(Eval("upper(metricType)", one), (V{"DOWNLOAD"}));
}

TEST(ExpressionTest, GuideTimeWindowOnDateTime64) {
  EvalContext ctx;
  ctx.now_micros = kNow;
  EXPECT_EQ(Eval("createdAt > now() - INTERVAL 7 DAY", Events(), ctx), (V{"1", "0", "1", "0"}));
  EXPECT_EQ(TypeOf("now() - INTERVAL 7 DAY"), "DateTime");
}

TEST(ExpressionTest, GuideToDateAndPartitionKeys) {
  EXPECT_EQ(Eval("toDate(createdAt)", Events()),
            (V{"2023-11-14", "2023-11-01", "2023-11-07", "2023-11-07"}));
  EXPECT_EQ(TypeOf("toDate(createdAt)", Events()), "Date");
  EXPECT_EQ(Eval("toYYYYMM(created_at)", Events()), (V{"202401", "202402", "202312", "202411"}));
  EXPECT_EQ(TypeOf("toYYYYMM(created_at)", Events()), "UInt32");
  EXPECT_EQ(Eval("created_at + INTERVAL 90 DAY", Events()),
            (V{"2024-04-30 10:00:00", "2024-05-29 23:59:59", "2024-03-30 00:00:00",
               "2025-02-03 08:07:47"}));
  EXPECT_EQ(TypeOf("created_at + INTERVAL 90 DAY", Events()), "DateTime");
}

TEST(ExpressionTest, GuideQueryParameter) {
  std::map<std::string, types::Value> params = {{"modelId", types::Value::String("42")}};
  EvalContext ctx;
  ctx.params = &params;
  EXPECT_EQ(Eval("entityId = {modelId:UInt32}", Events(), ctx), (V{"0", "0", "1", "1"}));
  EXPECT_EQ(Eval("entityType = 'Model' AND entityId = {modelId:UInt32}", Events(), ctx),
            (V{"0", "0", "1", "0"}));
  Status missing = ErrorOf("entityId = {modelId:UInt32}", Events());
  EXPECT_EQ(missing.clickhouse_code(), kChUnknownQueryParameter);
  EXPECT_NE(missing.message().find("modelId"), std::string::npos);
}

TEST(ExpressionTest, ConstantsFoldAndEvaluate) {
  auto e = sql::ParseExpression("1 + 2 * 3");
  ASSERT_TRUE(e.ok());
  auto c = Compile(**e, {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE((*c)->is_constant());
  EXPECT_EQ((*c)->type()->name(), "UInt32");  // 2 * 3 is UInt16, 1 + UInt16 is UInt32
  auto v = (*c)->EvaluateConstant({});
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->AsUInt(), 7u);

  auto n = sql::ParseExpression("now()");
  auto cn = Compile(**n, {});
  ASSERT_TRUE(cn.ok());
  EXPECT_TRUE((*cn)->is_constant());
  EvalContext ctx;
  ctx.now_micros = kNow;
  EXPECT_EQ((*cn)->EvaluateConstant(ctx)->AsUInt(), 1700000000u);

  // A constant over a block gives one value per row.
  auto col = (*c)->Evaluate(Events(), {});
  ASSERT_TRUE(col.ok());
  EXPECT_EQ((*col)->size(), 4u);
}

TEST(ExpressionTest, DefaultExpressionsNowAndToday) {
  EvalContext ctx;
  ctx.now_micros = kNow;
  EXPECT_EQ(EvalOne("now()", ctx), "2023-11-14 22:13:20");
  EXPECT_EQ(EvalOne("now64()", ctx), "2023-11-14 22:13:20.123");
  EXPECT_EQ(EvalOne("now64(6)", ctx), "2023-11-14 22:13:20.123456");
  EXPECT_EQ(EvalOne("today()", ctx), "2023-11-14");
  EXPECT_EQ(EvalOne("yesterday()", ctx), "2023-11-13");
  EXPECT_EQ(TypeOf("now64()"), "DateTime64(3)");
}

TEST(ExpressionTest, ReferencedColumnsInFirstUseOrder) {
  auto c = testing::CompileText("entityId + entityId > length(metricType)", Events());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)->ReferencedColumns(), (std::vector<std::string>{"entityId", "metricType"}));
  EXPECT_FALSE((*c)->is_constant());
}

TEST(ExpressionTest, UnknownFunctionIsReported) {
  Status st = ErrorOf("foo(1)");
  EXPECT_EQ(st.clickhouse_code(), ch::kUnknownFunction);
  EXPECT_EQ(st.message(), "Unknown function foo");
}

TEST(ExpressionTest, UnknownColumnIsReported) {
  Status st = ErrorOf("nope + 1", Events());
  EXPECT_EQ(st.clickhouse_code(), ch::kUnknownIdentifier);
  EXPECT_EQ(st.message().rfind("Missing columns: 'nope' while processing query:", 0), 0u)
      << st.message();
}

TEST(ExpressionTest, WrongArgumentCountIsReported) {
  Status st = ErrorOf("plus(1)");
  EXPECT_EQ(st.clickhouse_code(), ch::kNumberOfArgumentsDoesntMatch);
  EXPECT_EQ(st.message(),
            "Number of arguments for function plus doesn't match: passed 1, should be 2");
}

TEST(ExpressionTest, WrongArgumentTypeIsReported) {
  EXPECT_EQ(ErrorOf("plus('a', 1)").clickhouse_code(), ch::kIllegalTypeOfArgument);
  EXPECT_EQ(ErrorOf("toYear(1)").clickhouse_code(), ch::kIllegalTypeOfArgument);
  EXPECT_EQ(ErrorOf("length(1)").clickhouse_code(), ch::kIllegalTypeOfArgument);
}

TEST(ExpressionTest, AggregateFunctionIsRejected) {
  Status st = ErrorOf("countIf(metricType = 'View')", Events());
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("Aggregate function"), std::string::npos);
}

TEST(ExpressionTest, FunctionNamesFollowClickHouseCaseRules) {
  EXPECT_EQ(EvalOne("LOWER('AbC')"), "abc");
  EXPECT_EQ(EvalOne("cast(1 AS String)"), "1");
  EXPECT_EQ(EvalOne("Abs(-3)"), "3");
  EXPECT_EQ(ErrorOf("TOYEAR(now())").clickhouse_code(), ch::kUnknownFunction);
  EXPECT_TRUE(IsKnownFunction("toStartOfFiveMinute"));
}

TEST(ExpressionTest, CompileTupleElementsSplitsKeys) {
  auto e = sql::ParseExpression("(entityType, entityId, toDate(createdAt))");
  ASSERT_TRUE(e.ok());
  auto parts = CompileTupleElements(**e, testing::InputsOf(Events()));
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 3u);
  EXPECT_EQ((*parts)[2]->type()->name(), "Date");
}

TEST(ExpressionTest, ColumnTypeMismatchIsAnError) {
  auto c = testing::CompileText("entityId + 1", Events());
  ASSERT_TRUE(c.ok());
  types::Block other = MakeBlock({{"entityId", "String", {"x"}}});
  EXPECT_EQ((*c)->Evaluate(other, {}).status().clickhouse_code(), ch::kTypeMismatch);
}

}  // namespace
}  // namespace trackhouse::eval
