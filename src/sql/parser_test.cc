#include "sql/parser.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>

#include "sql/format.h"

namespace trackhouse::sql {
namespace {

StatementPtr Parse(std::string_view sql) {
  auto r = ParseStatement(sql);
  EXPECT_TRUE(r.ok()) << r.status().ToString() << "\n  in: " << sql;
  return r.ok() ? std::move(r).value() : nullptr;
}

template <typename T>
std::unique_ptr<T> ParseAs(std::string_view sql) {
  StatementPtr stmt = Parse(sql);
  if (!stmt) return nullptr;
  EXPECT_EQ(stmt->kind, T::kKind) << sql;
  if (stmt->kind != T::kKind) return nullptr;
  return std::unique_ptr<T>(static_cast<T*>(stmt.release()));
}

// The ClickHouse column name of an expression: its canonical function-call form, which shows
// exactly how the parser grouped operators.
std::string Tree(std::string_view expr) {
  auto r = ParseExpression(expr);
  if (!r.ok()) return "ERROR: " + r.status().message();
  return ExprColumnName(**r);
}

Status Error(std::string_view sql) {
  auto r = ParseStatement(sql);
  EXPECT_FALSE(r.ok()) << sql;
  return r.ok() ? Status::OK() : r.status();
}

const SelectQuery& OnlySelect(const SelectStmt& stmt) {
  EXPECT_EQ(stmt.query->selects.size(), 1u);
  return *stmt.query->selects[0];
}

// ---------------------------------------------------------------------------------------------
// The metrics guide and the design document, verbatim

constexpr std::string_view kGuideDdl = R"sql(CREATE TABLE entityMetricEvents (
  entityType LowCardinality(String),
  entityId   Int32,
  userId     Int32,
  metricType LowCardinality(String),
  metricValue Int32,
  createdAt  DateTime64(3)
) ENGINE = MergeTree()
ORDER BY (entityType, entityId, createdAt);

CREATE TABLE my_feature_events (
  feature_id UInt32,
  user_id UInt32,
  action LowCardinality(String),
  metadata String,  -- JSON for flexible data
  created_at DateTime DEFAULT now()
) ENGINE = MergeTree()
PARTITION BY toYYYYMM(created_at)
ORDER BY (feature_id, created_at)
TTL created_at + INTERVAL 90 DAY;  -- Auto-cleanup old data

CREATE TABLE my_events_buffer AS my_events
ENGINE = Buffer(
  default,        -- database
  my_events,      -- destination table
  16,             -- num_layers
  10, 100,        -- min/max seconds
  10000, 1000000, -- min/max rows
  10000000, 100000000  -- min/max bytes
);
)sql";

constexpr std::string_view kDesignDdl = R"sql(
   CREATE TABLE entityMetricEvents (
     entityType LowCardinality(String), entityId Int32, userId Int32,
     metricType LowCardinality(String), metricValue Int32, createdAt DateTime64(3)
   ) ENGINE = MergeTree() ORDER BY (entityType, entityId, createdAt);

   CREATE TABLE my_feature_events (
     feature_id UInt32, user_id UInt32, action LowCardinality(String),
     metadata String, created_at DateTime DEFAULT now()
   ) ENGINE = MergeTree() PARTITION BY toYYYYMM(created_at)
   ORDER BY (feature_id, created_at) TTL created_at + INTERVAL 90 DAY;

   -- after creating a MergeTree table my_events:
   CREATE TABLE my_events_buffer AS my_events ENGINE = Buffer(default, my_events, 16,
     10, 100, 10000, 1000000, 10000000, 100000000);
)sql";

constexpr std::string_view kGuideTopEntities = R"sql(
    SELECT
      entityId,
      countIf(metricType = 'View') as views,
      countIf(metricType = 'Download') as downloads
    FROM entityMetricEvents
    WHERE entityType = 'Model'
      AND createdAt > now() - INTERVAL 7 DAY
    GROUP BY entityId
    ORDER BY views DESC
    LIMIT 100
  )sql";

constexpr std::string_view kGuideTimeSeries = R"sql(
    SELECT
      toDate(createdAt) as date,
      count() as events
    FROM entityMetricEvents
    WHERE entityType = 'Model' AND entityId = {modelId:UInt32}
    GROUP BY date
    ORDER BY date
  )sql";

void CheckGuideDdl(std::string_view script) {
  auto r = ParseScript(script);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 3u);

  const auto* events = (*r)[0]->As<CreateTableStmt>();
  ASSERT_NE(events, nullptr);
  EXPECT_EQ(events->table, "entityMetricEvents");
  EXPECT_EQ(events->database, "");
  ASSERT_EQ(events->columns.size(), 6u);
  std::vector<std::pair<std::string, std::string>> columns;
  for (const auto& c : events->columns) columns.emplace_back(c.name, c.type);
  EXPECT_EQ(columns, (std::vector<std::pair<std::string, std::string>>{
                         {"entityType", "LowCardinality(String)"},
                         {"entityId", "Int32"},
                         {"userId", "Int32"},
                         {"metricType", "LowCardinality(String)"},
                         {"metricValue", "Int32"},
                         {"createdAt", "DateTime64(3)"}}));
  ASSERT_TRUE(events->engine.has_value());
  EXPECT_EQ(events->engine->name, "MergeTree");
  EXPECT_TRUE(events->engine->args.empty());
  ASSERT_NE(events->order_by, nullptr);
  EXPECT_EQ(ExprColumnName(*events->order_by), "tuple(entityType, entityId, createdAt)");
  EXPECT_EQ(events->partition_by, nullptr);
  EXPECT_TRUE(events->ttl.empty());

  const auto* feature = (*r)[1]->As<CreateTableStmt>();
  ASSERT_NE(feature, nullptr);
  EXPECT_EQ(feature->table, "my_feature_events");
  ASSERT_EQ(feature->columns.size(), 5u);
  EXPECT_EQ(feature->columns[3].name, "metadata");
  EXPECT_EQ(feature->columns[3].type, "String");
  const ColumnDef& created = feature->columns[4];
  EXPECT_EQ(created.type, "DateTime");
  EXPECT_EQ(created.default_kind, ColumnDefaultKind::kDefault);
  ASSERT_NE(created.default_expr, nullptr);
  EXPECT_EQ(ExprColumnName(*created.default_expr), "now()");
  ASSERT_NE(feature->partition_by, nullptr);
  EXPECT_EQ(ExprColumnName(*feature->partition_by), "toYYYYMM(created_at)");
  EXPECT_EQ(ExprColumnName(*feature->order_by), "tuple(feature_id, created_at)");
  ASSERT_EQ(feature->ttl.size(), 1u);
  EXPECT_EQ(ExprColumnName(*feature->ttl[0].expr), "plus(created_at, toIntervalDay(90))");
  EXPECT_EQ(feature->ttl[0].action, TtlElement::Action::kDelete);

  const auto* buffer = (*r)[2]->As<CreateTableStmt>();
  ASSERT_NE(buffer, nullptr);
  EXPECT_EQ(buffer->table, "my_events_buffer");
  EXPECT_TRUE(buffer->columns.empty());
  EXPECT_EQ(buffer->as_table, "my_events");
  EXPECT_EQ(buffer->as_database, "");
  ASSERT_TRUE(buffer->engine.has_value());
  EXPECT_EQ(buffer->engine->name, "Buffer");
  ASSERT_EQ(buffer->engine->args.size(), 9u);
  EXPECT_EQ(buffer->engine->args[0]->kind, ExprKind::kIdentifier);
  EXPECT_EQ(buffer->engine->args[0]->parts, std::vector<std::string>{"default"});
  EXPECT_EQ(buffer->engine->args[1]->parts, std::vector<std::string>{"my_events"});
  std::vector<uint64_t> numbers;
  for (size_t i = 2; i < 9; ++i) {
    ASSERT_TRUE(buffer->engine->args[i]->IsLiteral(LiteralKind::kUInt64));
    numbers.push_back(buffer->engine->args[i]->uint_value);
  }
  EXPECT_EQ(numbers, (std::vector<uint64_t>{16, 10, 100, 10000, 1000000, 10000000, 100000000}));
}

TEST(ParserTest, GuideDdlParsesVerbatim) { CheckGuideDdl(kGuideDdl); }

TEST(ParserTest, DesignDdlParsesVerbatim) { CheckGuideDdl(kDesignDdl); }

TEST(ParserTest, GuideTopEntitiesQueryParsesVerbatim) {
  auto stmt = ParseAs<SelectStmt>(kGuideTopEntities);
  ASSERT_NE(stmt, nullptr);
  const SelectQuery& q = OnlySelect(*stmt);
  ASSERT_EQ(q.columns.size(), 3u);
  EXPECT_EQ(ExprColumnName(*q.columns[0]), "entityId");
  EXPECT_EQ(ExprColumnName(*q.columns[1]), "countIf(equals(metricType, 'View'))");
  EXPECT_EQ(q.columns[1]->alias, "views");
  EXPECT_EQ(ExprColumnName(*q.columns[2]), "countIf(equals(metricType, 'Download'))");
  EXPECT_EQ(q.columns[2]->alias, "downloads");
  ASSERT_NE(q.from, nullptr);
  EXPECT_EQ(q.from->kind, TableExpr::Kind::kTable);
  EXPECT_EQ(q.from->table, "entityMetricEvents");
  ASSERT_NE(q.where, nullptr);
  EXPECT_EQ(ExprColumnName(*q.where),
            "and(equals(entityType, 'Model'), greater(createdAt, minus(now(), "
            "toIntervalDay(7))))");
  ASSERT_EQ(q.group_by.size(), 1u);
  EXPECT_EQ(ExprColumnName(*q.group_by[0]), "entityId");
  ASSERT_EQ(q.order_by.size(), 1u);
  EXPECT_EQ(ExprColumnName(*q.order_by[0].expr), "views");
  EXPECT_TRUE(q.order_by[0].descending);
  ASSERT_NE(q.limit_length, nullptr);
  EXPECT_EQ(q.limit_length->uint_value, 100u);
  EXPECT_EQ(q.limit_offset, nullptr);
}

TEST(ParserTest, GuideTimeSeriesQueryParsesVerbatim) {
  auto stmt = ParseAs<SelectStmt>(kGuideTimeSeries);
  ASSERT_NE(stmt, nullptr);
  const SelectQuery& q = OnlySelect(*stmt);
  ASSERT_EQ(q.columns.size(), 2u);
  EXPECT_EQ(ExprColumnName(*q.columns[0]), "toDate(createdAt)");
  EXPECT_EQ(q.columns[0]->alias, "date");
  EXPECT_EQ(ExprColumnName(*q.columns[1]), "count()");
  EXPECT_EQ(q.columns[1]->alias, "events");
  const Expr& where = *q.where;
  ASSERT_TRUE(where.IsFunction("and"));
  ASSERT_EQ(where.args.size(), 2u);
  const Expr& param = *where.args[1]->args[1];
  EXPECT_EQ(param.kind, ExprKind::kParameter);
  EXPECT_EQ(param.name, "modelId");
  EXPECT_EQ(param.type, "UInt32");
  EXPECT_EQ(ExprColumnName(*q.group_by[0]), "date");
  EXPECT_EQ(ExprColumnName(*q.order_by[0].expr), "date");
  EXPECT_FALSE(q.order_by[0].descending);
}

TEST(ParserTest, GuideQueriesParseAsOneScript) {
  std::string script = std::string(kGuideTopEntities) + ";\n" + std::string(kGuideTimeSeries);
  auto r = ParseScript(script);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->size(), 2u);
}

// ---------------------------------------------------------------------------------------------
// Expressions: precedence and normalization

TEST(ParserTest, ArithmeticPrecedence) {
  EXPECT_EQ(Tree("1 + 2 * 3"), "plus(1, multiply(2, 3))");
  EXPECT_EQ(Tree("(1 + 2) * 3"), "multiply(plus(1, 2), 3)");
  EXPECT_EQ(Tree("a - b - c"), "minus(minus(a, b), c)");
  EXPECT_EQ(Tree("a / b % c"), "modulo(divide(a, b), c)");
  EXPECT_EQ(Tree("a DIV b MOD c"), "modulo(intDiv(a, b), c)");
  EXPECT_EQ(Tree("-a * b"), "multiply(negate(a), b)");
  EXPECT_EQ(Tree("-a[1]"), "negate(arrayElement(a, 1))");
  EXPECT_EQ(Tree("- - a"), "negate(negate(a))");
  EXPECT_EQ(Tree("a + b || c"), "concat(plus(a, b), c)");
  EXPECT_EQ(Tree("a || b || c"), "concat(concat(a, b), c)");
}

TEST(ParserTest, LogicalAndComparisonPrecedence) {
  EXPECT_EQ(Tree("a OR b AND c"), "or(a, and(b, c))");
  EXPECT_EQ(Tree("a AND b AND c"), "and(a, b, c)");
  EXPECT_EQ(Tree("a OR b OR c"), "or(a, b, c)");
  EXPECT_EQ(Tree("a AND (b AND c)"), "and(a, and(b, c))");
  EXPECT_EQ(Tree("NOT a = b"), "not(equals(a, b))");
  EXPECT_EQ(Tree("NOT a AND b"), "and(not(a), b)");
  EXPECT_EQ(Tree("NOT NOT a"), "not(not(a))");
  EXPECT_EQ(Tree("a = b AND c != d"), "and(equals(a, b), notEquals(c, d))");
  EXPECT_EQ(Tree("a || b = c"), "equals(concat(a, b), c)");
  EXPECT_EQ(Tree("a + 1 > b * 2"), "greater(plus(a, 1), multiply(b, 2))");
  EXPECT_EQ(Tree("a = b = c"), "equals(equals(a, b), c)");
}

TEST(ParserTest, ComparisonOperatorsMapToClickHouseFunctions) {
  EXPECT_EQ(Tree("a = b"), "equals(a, b)");
  EXPECT_EQ(Tree("a == b"), "equals(a, b)");
  EXPECT_EQ(Tree("a != b"), "notEquals(a, b)");
  EXPECT_EQ(Tree("a <> b"), "notEquals(a, b)");
  EXPECT_EQ(Tree("a < b"), "less(a, b)");
  EXPECT_EQ(Tree("a <= b"), "lessOrEquals(a, b)");
  EXPECT_EQ(Tree("a > b"), "greater(a, b)");
  EXPECT_EQ(Tree("a >= b"), "greaterOrEquals(a, b)");
  EXPECT_EQ(Tree("a LIKE 'x%'"), "like(a, 'x%')");
  EXPECT_EQ(Tree("a NOT LIKE 'x%'"), "notLike(a, 'x%')");
  EXPECT_EQ(Tree("a ILIKE 'x%'"), "ilike(a, 'x%')");
  EXPECT_EQ(Tree("a NOT ILIKE 'x%'"), "notILike(a, 'x%')");
  EXPECT_EQ(Tree("a IS NULL"), "isNull(a)");
  EXPECT_EQ(Tree("a IS NOT NULL"), "isNotNull(a)");
  EXPECT_EQ(Tree("a + 1 IS NULL"), "isNull(plus(a, 1))");
}

TEST(ParserTest, BetweenExpandsToComparisons) {
  EXPECT_EQ(Tree("x BETWEEN 1 AND 10"), "and(greaterOrEquals(x, 1), lessOrEquals(x, 10))");
  EXPECT_EQ(Tree("x NOT BETWEEN 1 AND 10"), "or(less(x, 1), greater(x, 10))");
  EXPECT_EQ(Tree("x BETWEEN 1 AND 10 AND y"),
            "and(and(greaterOrEquals(x, 1), lessOrEquals(x, 10)), y)");
  EXPECT_EQ(Tree("x + 1 BETWEEN a - 1 AND a + 1"),
            "and(greaterOrEquals(plus(x, 1), minus(a, 1)), lessOrEquals(plus(x, 1), plus(a, 1)))");
}

TEST(ParserTest, InTakesListsSubqueriesAndParameters) {
  EXPECT_EQ(Tree("x IN (1, 2, 3)"), "in(x, (1, 2, 3))");
  EXPECT_EQ(Tree("x NOT IN ('a', 'b')"), "notIn(x, ('a', 'b'))");
  EXPECT_EQ(Tree("x IN (a, 1)"), "in(x, tuple(a, 1))");
  EXPECT_EQ(Tree("x IN {ids:Array(UInt32)}"), "in(x, {ids:Array(UInt32)})");
  EXPECT_EQ(Tree("x IN ids"), "in(x, ids)");
  auto e = ParseExpression("x IN (1)");
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE((*e)->args[1]->IsFunction("tuple"));  // a one-element list is still a list
  auto sub = ParseExpression("x NOT IN (SELECT id FROM t)");
  ASSERT_TRUE(sub.ok());
  EXPECT_TRUE((*sub)->IsFunction("notIn"));
  EXPECT_EQ((*sub)->args[1]->kind, ExprKind::kSubquery);
  EXPECT_EQ(Tree("x IN (1, 2) AND y"), "and(in(x, (1, 2)), y)");
}

TEST(ParserTest, TernaryIfAndCase) {
  EXPECT_EQ(Tree("a ? b : c"), "if(a, b, c)");
  EXPECT_EQ(Tree("a ? b : c ? d : e"), "if(a, b, if(c, d, e))");
  EXPECT_EQ(Tree("a OR b ? 1 : 2"), "if(or(a, b), 1, 2)");
  EXPECT_EQ(Tree("CASE WHEN a THEN 1 WHEN b THEN 2 ELSE 3 END"), "multiIf(a, 1, b, 2, 3)");
  EXPECT_EQ(Tree("CASE WHEN a THEN 1 END"), "multiIf(a, 1, NULL)");
  EXPECT_EQ(Tree("CASE x WHEN 1 THEN 'a' WHEN 2 THEN 'b' END"),
            "caseWithExpression(x, 1, 'a', 2, 'b', NULL)");
}

TEST(ParserTest, IntervalsBecomeToIntervalFunctions) {
  EXPECT_EQ(Tree("INTERVAL 90 DAY"), "toIntervalDay(90)");
  EXPECT_EQ(Tree("INTERVAL 2 weeks"), "toIntervalWeek(2)");
  EXPECT_EQ(Tree("INTERVAL 1 second"), "toIntervalSecond(1)");
  EXPECT_EQ(Tree("INTERVAL '1 day'"), "toIntervalDay(1)");
  EXPECT_EQ(Tree("INTERVAL x HOUR"), "toIntervalHour(x)");
  EXPECT_EQ(Tree("INTERVAL -3 MONTH"), "toIntervalMonth(-3)");
  EXPECT_EQ(Tree("now() - INTERVAL 7 DAY"), "minus(now(), toIntervalDay(7))");
  for (const char* unit : {"MINUTE", "QUARTER", "YEAR", "YEARS", "MILLISECOND"}) {
    EXPECT_EQ(Tree(std::string("INTERVAL 1 ") + unit).rfind("toInterval", 0), 0u) << unit;
  }
  EXPECT_EQ(Tree("interval"), "interval");  // still a column name when alone
  EXPECT_EQ(Tree("interval + 1"), "plus(interval, 1)");
}

TEST(ParserTest, ArraysTuplesAndElementAccess) {
  EXPECT_EQ(Tree("[1, 2]"), "[1, 2]");
  EXPECT_EQ(Tree("[a, 1]"), "array(a, 1)");
  EXPECT_EQ(Tree("[]"), "array()");
  EXPECT_EQ(Tree("(a, b)"), "tuple(a, b)");
  EXPECT_EQ(Tree("(a,)"), "tuple(a)");
  EXPECT_EQ(Tree("()"), "tuple()");
  EXPECT_EQ(Tree("(a)"), "a");
  EXPECT_EQ(Tree("arr[1]"), "arrayElement(arr, 1)");
  EXPECT_EQ(Tree("arr[1][2]"), "arrayElement(arrayElement(arr, 1), 2)");
  EXPECT_EQ(Tree("t.1"), "tupleElement(t, 1)");
  EXPECT_EQ(Tree("t.1.2"), "tupleElement(tupleElement(t, 1), 2)");
  EXPECT_EQ(Tree("f(x).2"), "tupleElement(f(x), 2)");
  EXPECT_EQ(Tree("f(x).name"), "tupleElement(f(x), 'name')");
}

TEST(ParserTest, CastsKeepTheTypeAsText) {
  EXPECT_EQ(Tree("CAST(x AS UInt8)"), "CAST(x, 'UInt8')");
  EXPECT_EQ(Tree("cast(x as Nullable( Int32 ))"), "CAST(x, 'Nullable(Int32)')");
  EXPECT_EQ(Tree("x::DateTime64(3,'UTC')"), "CAST(x, 'DateTime64(3, \\'UTC\\')')");
  EXPECT_EQ(Tree("CAST(x, 'String')"), "CAST(x, 'String')");
  EXPECT_EQ(Tree("a + b::Int64"), "plus(a, CAST(b, 'Int64'))");
}

TEST(ParserTest, ExtractAndTypedLiterals) {
  EXPECT_EQ(Tree("EXTRACT(DAY FROM d)"), "toDayOfMonth(d)");
  EXPECT_EQ(Tree("extract(year from d)"), "toYear(d)");
  EXPECT_EQ(Tree("extract(s, '[0-9]+')"), "extract(s, '[0-9]+')");
  EXPECT_EQ(Tree("DATE '2024-01-01'"), "toDate('2024-01-01')");
  EXPECT_EQ(Tree("TIMESTAMP '2024-01-01 00:00:00'"), "toDateTime('2024-01-01 00:00:00')");
}

TEST(ParserTest, FunctionCallsParametricDistinctAndCountStar) {
  EXPECT_EQ(Tree("count(*)"), "count()");
  EXPECT_EQ(Tree("count()"), "count()");
  EXPECT_EQ(Tree("count(DISTINCT userId)"), "countDistinct(userId)");
  EXPECT_EQ(Tree("quantile(0.9)(x)"), "quantile(0.9)(x)");
  EXPECT_EQ(Tree("quantiles(0.5, 0.99)(x)"), "quantiles(0.5, 0.99)(x)");
  EXPECT_EQ(Tree("countIf(metricType = 'View')"), "countIf(equals(metricType, 'View'))");
  EXPECT_EQ(Tree("toStartOfDay(createdAt)"), "toStartOfDay(createdAt)");
  auto e = ParseExpression("quantile(0.9)(x)");
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE((*e)->has_params);
  ASSERT_EQ((*e)->params.size(), 1u);
  EXPECT_TRUE((*e)->params[0]->IsLiteral(LiteralKind::kFloat64));
  auto d = ParseExpression("count(DISTINCT x)");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ((*d)->name, "count");
  EXPECT_TRUE((*d)->distinct);
}

TEST(ParserTest, Lambdas) {
  EXPECT_EQ(Tree("x -> x + 1"), "lambda(tuple(x), plus(x, 1))");
  EXPECT_EQ(Tree("arrayMap(x -> x * 2, arr)"), "arrayMap(lambda(tuple(x), multiply(x, 2)), arr)");
  EXPECT_EQ(Tree("arrayFilter((a, b) -> a > b, xs, ys)"),
            "arrayFilter(lambda(tuple(a, b), greater(a, b)), xs, ys)");
  auto e = ParseExpression("(a, b) -> a");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)->kind, ExprKind::kLambda);
  EXPECT_EQ((*e)->lambda_params, (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(ParseExpression("1 -> 2").ok());
}

TEST(ParserTest, LiteralKindsAndValues) {
  auto lit = [](std::string_view text) {
    auto r = ParseExpression(text);
    EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
    return r.ok() ? std::move(r).value() : MakeNullLiteral(0);
  };
  EXPECT_TRUE(lit("NULL")->IsLiteral(LiteralKind::kNull));
  EXPECT_TRUE(lit("null")->IsLiteral(LiteralKind::kNull));
  EXPECT_TRUE(lit("true")->IsLiteral(LiteralKind::kBool));
  EXPECT_TRUE(lit("true")->bool_value);
  EXPECT_FALSE(lit("FALSE")->bool_value);
  EXPECT_EQ(lit("42")->uint_value, 42u);
  EXPECT_EQ(lit("0xFF")->uint_value, 255u);
  EXPECT_EQ(lit("0b101")->uint_value, 5u);
  EXPECT_EQ(lit("18446744073709551615")->uint_value, 18446744073709551615ull);
  EXPECT_TRUE(lit("18446744073709551616")->IsLiteral(LiteralKind::kFloat64));
  EXPECT_TRUE(lit("-5")->IsLiteral(LiteralKind::kInt64));
  EXPECT_EQ(lit("-5")->int_value, -5);
  EXPECT_EQ(lit("- 5")->int_value, -5);
  EXPECT_EQ(lit("-9223372036854775808")->int_value, INT64_MIN);
  EXPECT_TRUE(lit("-9223372036854775809")->IsLiteral(LiteralKind::kFloat64));
  EXPECT_TRUE(lit("-(5)")->IsFunction("negate"));
  EXPECT_DOUBLE_EQ(lit("1.5")->float_value, 1.5);
  EXPECT_DOUBLE_EQ(lit("-2.5e3")->float_value, -2500);
  EXPECT_DOUBLE_EQ(lit(".5")->float_value, 0.5);
  EXPECT_TRUE(std::isinf(lit("inf")->float_value));
  EXPECT_TRUE(std::isinf(lit("-inf")->float_value));
  EXPECT_LT(lit("-inf")->float_value, 0);
  EXPECT_TRUE(std::isnan(lit("nan")->float_value));
  EXPECT_EQ(lit("'a\\'b'")->string_value, "a'b");
  EXPECT_EQ(lit("'x'")->pos, 0u);
}

TEST(ParserTest, IdentifiersAsterisksAndParameters) {
  auto e = ParseExpression("db.t.`my col`");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)->kind, ExprKind::kIdentifier);
  EXPECT_EQ((*e)->parts, (std::vector<std::string>{"db", "t", "my col"}));
  auto star = ParseExpression("t.*");
  ASSERT_TRUE(star.ok());
  EXPECT_EQ((*star)->kind, ExprKind::kAsterisk);
  EXPECT_EQ((*star)->parts, std::vector<std::string>{"t"});
  auto p = ParseExpression("{ids:Array(Nullable(String))}");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ((*p)->kind, ExprKind::kParameter);
  EXPECT_EQ((*p)->name, "ids");
  EXPECT_EQ((*p)->type, "Array(Nullable(String))");
  auto dq = ParseExpression("\"Mixed Case\"");
  ASSERT_TRUE(dq.ok());
  EXPECT_EQ((*dq)->parts, std::vector<std::string>{"Mixed Case"});
}

TEST(ParserTest, ExpressionPositionsAreByteOffsets) {
  auto e = ParseExpression("a + f(b, 'c')");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)->pos, 0u);
  const Expr& f = *(*e)->args[1];
  EXPECT_EQ(f.pos, 4u);
  EXPECT_EQ(f.args[0]->pos, 6u);
  EXPECT_EQ(f.args[1]->pos, 9u);
}

TEST(ParserTest, AliasesExplicitAndImplicit) {
  auto stmt = ParseAs<SelectStmt>("SELECT a AS x, b y, c `z z`, d, (e AS f) + 1 AS g FROM t");
  ASSERT_NE(stmt, nullptr);
  const auto& cols = OnlySelect(*stmt).columns;
  ASSERT_EQ(cols.size(), 5u);
  EXPECT_EQ(cols[0]->alias, "x");
  EXPECT_EQ(cols[1]->alias, "y");
  EXPECT_EQ(cols[2]->alias, "z z");
  EXPECT_EQ(cols[3]->alias, "");
  EXPECT_EQ(cols[4]->alias, "g");
  EXPECT_EQ(cols[4]->args[0]->alias, "f");
  auto e = ParseExpression("count() AS events");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)->alias, "events");
}

TEST(ParserTest, KeywordsAreNotTakenAsImplicitAliases) {
  auto stmt = ParseAs<SelectStmt>("SELECT views FROM t ORDER BY views DESC");
  ASSERT_NE(stmt, nullptr);
  EXPECT_EQ(OnlySelect(*stmt).columns[0]->alias, "");
  auto t = ParseAs<SelectStmt>("SELECT x FROM t FINAL WHERE x");
  ASSERT_NE(t, nullptr);
  EXPECT_TRUE(OnlySelect(*t).from->final);
  EXPECT_EQ(OnlySelect(*t).from->alias, "");
}

TEST(ParserTest, SomeKeywordsStayUsableAsColumnNames) {
  auto stmt = ParseAs<SelectStmt>(
      "SELECT start, end, format, values, limit, offset, date, default, final AS f FROM "
      "sessions WHERE end > start ORDER BY end LIMIT 5 OFFSET 1 FORMAT JSON");
  ASSERT_NE(stmt, nullptr);
  const SelectQuery& q = OnlySelect(*stmt);
  std::vector<std::string> names;
  for (const auto& c : q.columns) names.push_back(ExprColumnName(*c));
  EXPECT_EQ(names, (std::vector<std::string>{"start", "end", "format", "values", "limit", "offset",
                                             "date", "default", "final"}));
  EXPECT_EQ(q.limit_length->uint_value, 5u);
  EXPECT_EQ(stmt->format, "JSON");
  EXPECT_EQ(Tree("CASE WHEN end THEN end ELSE end END"), "multiIf(end, end, end)");
  EXPECT_EQ(Tree("format('{}', x)"), "format('{}', x)");
}

TEST(ParserTest, TypeTextIsNormalized) {
  auto type = [](std::string_view t) {
    auto r = ParseTypeText(t);
    return r.ok() ? *r : "ERROR: " + r.status().message();
  };
  EXPECT_EQ(type("Int32"), "Int32");
  EXPECT_EQ(type("LowCardinality( String )"), "LowCardinality(String)");
  EXPECT_EQ(type("Nullable(Int32)"), "Nullable(Int32)");
  EXPECT_EQ(type("DateTime64(3)"), "DateTime64(3)");
  EXPECT_EQ(type("DateTime64(3,'UTC')"), "DateTime64(3, 'UTC')");
  EXPECT_EQ(type("DateTime('UTC')"), "DateTime('UTC')");
  EXPECT_EQ(type("FixedString(16)"), "FixedString(16)");
  EXPECT_EQ(type("Decimal(10,2)"), "Decimal(10, 2)");
  EXPECT_EQ(type("Array(Array(String))"), "Array(Array(String))");
  EXPECT_EQ(type("Tuple(a Int32,b String)"), "Tuple(a Int32, b String)");
  EXPECT_EQ(type("Tuple(`my col` Nullable(Int8))"), "Tuple(`my col` Nullable(Int8))");
  EXPECT_EQ(type("Map(String,UInt64)"), "Map(String, UInt64)");
  EXPECT_EQ(type("Enum8('a'=1,'b' = -2)"), "Enum8('a' = 1, 'b' = -2)");
  EXPECT_EQ(type("AggregateFunction(quantiles(0.5,0.9), UInt64)"),
            "AggregateFunction(quantiles(0.5, 0.9), UInt64)");
  EXPECT_EQ(type("Nested(a UInt32, b Array(String))"), "Nested(a UInt32, b Array(String))");
  EXPECT_EQ(type("Array("),
            "ERROR: Syntax error: failed at position 7 (line 1, col 7) (end of "
            "query). Expected one of: type, number, string literal");
  EXPECT_NE(type("Int32 x").rfind("ERROR", 0), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// SELECT clauses

TEST(ParserTest, SelectWithEveryClause) {
  auto stmt = ParseAs<SelectStmt>(
      "WITH 10 AS n SELECT DISTINCT a, count() c FROM db.events AS e FINAL PREWHERE a > 0 "
      "WHERE b < n GROUP BY a WITH TOTALS HAVING c > 1 ORDER BY c DESC NULLS FIRST, a ASC "
      "COLLATE 'en' LIMIT 2 BY a LIMIT 10 OFFSET 20 SETTINGS max_threads = 4 FORMAT JSON");
  ASSERT_NE(stmt, nullptr);
  const SelectQuery& q = OnlySelect(*stmt);
  ASSERT_EQ(q.with.size(), 1u);
  EXPECT_EQ(q.with[0].expr->alias, "n");
  EXPECT_FALSE(q.with[0].is_cte);
  EXPECT_TRUE(q.distinct);
  EXPECT_EQ(q.columns[1]->alias, "c");
  EXPECT_EQ(q.from->database, "db");
  EXPECT_EQ(q.from->table, "events");
  EXPECT_EQ(q.from->alias, "e");
  EXPECT_TRUE(q.from->final);
  EXPECT_EQ(ExprColumnName(*q.prewhere), "greater(a, 0)");
  EXPECT_EQ(ExprColumnName(*q.where), "less(b, n)");
  EXPECT_TRUE(q.group_by_with_totals);
  EXPECT_EQ(ExprColumnName(*q.having), "greater(c, 1)");
  ASSERT_EQ(q.order_by.size(), 2u);
  EXPECT_TRUE(q.order_by[0].descending);
  EXPECT_EQ(q.order_by[0].nulls, OrderByItem::Nulls::kFirst);
  EXPECT_FALSE(q.order_by[1].descending);
  EXPECT_EQ(q.order_by[1].collation, "en");
  EXPECT_EQ(q.limit_by_length->uint_value, 2u);
  ASSERT_EQ(q.limit_by.size(), 1u);
  EXPECT_EQ(q.limit_length->uint_value, 10u);
  EXPECT_EQ(q.limit_offset->uint_value, 20u);
  ASSERT_EQ(q.settings.size(), 1u);
  EXPECT_EQ(q.settings[0].name, "max_threads");
  EXPECT_EQ(q.settings[0].value->uint_value, 4u);
  EXPECT_EQ(stmt->format, "JSON");
}

TEST(ParserTest, LimitForms) {
  auto comma = ParseAs<SelectStmt>("SELECT 1 LIMIT 5, 10");
  ASSERT_NE(comma, nullptr);
  EXPECT_EQ(OnlySelect(*comma).limit_offset->uint_value, 5u);
  EXPECT_EQ(OnlySelect(*comma).limit_length->uint_value, 10u);
  auto offset_only = ParseAs<SelectStmt>("SELECT 1 OFFSET 3");
  ASSERT_NE(offset_only, nullptr);
  EXPECT_EQ(OnlySelect(*offset_only).limit_length, nullptr);
  EXPECT_EQ(OnlySelect(*offset_only).limit_offset->uint_value, 3u);
  auto by_offset = ParseAs<SelectStmt>("SELECT 1 LIMIT 1, 2 BY x");
  ASSERT_NE(by_offset, nullptr);
  EXPECT_EQ(OnlySelect(*by_offset).limit_by_offset->uint_value, 1u);
  EXPECT_EQ(OnlySelect(*by_offset).limit_length, nullptr);
}

TEST(ParserTest, OrderByWithFill) {
  auto stmt = ParseAs<SelectStmt>(
      "SELECT d FROM t ORDER BY d WITH FILL FROM toDate('2024-01-01') TO today() STEP 1");
  ASSERT_NE(stmt, nullptr);
  const OrderByItem& o = OnlySelect(*stmt).order_by[0];
  EXPECT_TRUE(o.with_fill);
  EXPECT_EQ(ExprColumnName(*o.fill_from), "toDate('2024-01-01')");
  EXPECT_EQ(ExprColumnName(*o.fill_to), "today()");
  EXPECT_EQ(o.fill_step->uint_value, 1u);
}

TEST(ParserTest, FromSubqueryAndTableFunction) {
  auto sub = ParseAs<SelectStmt>("SELECT x FROM (SELECT 1 AS x) s");
  ASSERT_NE(sub, nullptr);
  const TableExpr& from = *OnlySelect(*sub).from;
  EXPECT_EQ(from.kind, TableExpr::Kind::kSubquery);
  EXPECT_EQ(from.alias, "s");
  ASSERT_NE(from.subquery, nullptr);
  auto fn = ParseAs<SelectStmt>("SELECT number FROM numbers(10)");
  ASSERT_NE(fn, nullptr);
  const TableExpr& f = *OnlySelect(*fn).from;
  EXPECT_EQ(f.kind, TableExpr::Kind::kFunction);
  EXPECT_EQ(ExprColumnName(*f.function), "numbers(10)");
}

TEST(ParserTest, WithCommonTableExpression) {
  auto stmt = ParseAs<SelectStmt>("WITH recent AS (SELECT 1 AS x) SELECT x FROM recent");
  ASSERT_NE(stmt, nullptr);
  const WithItem& w = OnlySelect(*stmt).with[0];
  EXPECT_TRUE(w.is_cte);
  EXPECT_EQ(w.expr->kind, ExprKind::kSubquery);
  EXPECT_EQ(w.expr->alias, "recent");
}

TEST(ParserTest, UnionAllFlattensIntoOneList) {
  auto stmt = ParseAs<SelectStmt>(
      "SELECT 1 UNION ALL SELECT 2 UNION ALL (SELECT 3 UNION ALL "
      "SELECT 4)");
  ASSERT_NE(stmt, nullptr);
  EXPECT_EQ(stmt->query->selects.size(), 4u);
  auto paren = ParseAs<SelectStmt>("(SELECT 1)");
  ASSERT_NE(paren, nullptr);
  EXPECT_EQ(paren->query->selects.size(), 1u);
}

TEST(ParserTest, ScalarSubqueryInExpression) {
  auto e = ParseExpression("(SELECT max(x) FROM t) + 1");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_TRUE((*e)->IsFunction("plus"));
  EXPECT_EQ((*e)->args[0]->kind, ExprKind::kSubquery);
}

TEST(ParserTest, FormatAndSettingsAfterFormat) {
  auto stmt = ParseAs<SelectStmt>("SELECT 1 FORMAT JSONEachRow SETTINGS a = 1, b = 'x'");
  ASSERT_NE(stmt, nullptr);
  EXPECT_EQ(stmt->format, "JSONEachRow");
  ASSERT_EQ(stmt->settings.size(), 2u);
  EXPECT_EQ(stmt->settings[1].value->string_value, "x");
}

// ---------------------------------------------------------------------------------------------
// INSERT

TEST(ParserTest, InsertFormatDataStartsAfterOneWhitespace) {
  std::string sql = "INSERT INTO t FORMAT JSONEachRow\n{\"a\":1}";
  auto stmt = ParseAs<InsertStmt>(sql);
  ASSERT_NE(stmt, nullptr);
  EXPECT_EQ(stmt->table, "t");
  EXPECT_EQ(stmt->source, InsertStmt::Source::kFormat);
  EXPECT_EQ(stmt->data_format, "JSONEachRow");
  EXPECT_EQ(stmt->data_offset, sql.find('{'));
  EXPECT_EQ(stmt->data_end, sql.size());
  EXPECT_EQ(sql.substr(stmt->data_offset), "{\"a\":1}");
}

TEST(ParserTest, InsertFormatDataKeepsSecondWhitespace) {
  std::string sql = "INSERT INTO t FORMAT TSV  1\t2";
  auto stmt = ParseAs<InsertStmt>(sql);
  ASSERT_NE(stmt, nullptr);
  EXPECT_EQ(sql.substr(stmt->data_offset), " 1\t2");
}

TEST(ParserTest, InsertFormatDataIsNeverTokenized) {
  // Data that is not SQL at all: unbalanced quotes, stray characters.
  std::string sql = "INSERT INTO t FORMAT CSV\nO'Brien,1\n|!@#\n";
  auto stmt = ParseAs<InsertStmt>(sql);
  ASSERT_NE(stmt, nullptr);
  EXPECT_EQ(sql.substr(stmt->data_offset), "O'Brien,1\n|!@#\n");
}

TEST(ParserTest, InsertValuesDataStartsAtFirstParen) {
  std::string sql = "INSERT INTO t (a,b) VALUES (1,2)";
  auto stmt = ParseAs<InsertStmt>(sql);
  ASSERT_NE(stmt, nullptr);
  EXPECT_EQ(stmt->columns, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(stmt->source, InsertStmt::Source::kValues);
  EXPECT_EQ(stmt->data_offset, sql.find("(1"));
  EXPECT_EQ(sql.substr(stmt->data_offset, stmt->data_end - stmt->data_offset), "(1,2)");
}

TEST(ParserTest, InsertValuesTrailingSemicolonIsNotData) {
  std::string sql = "INSERT INTO db.t VALUES (1, 'a;b') ;  \n";
  auto stmt = ParseAs<InsertStmt>(sql);
  ASSERT_NE(stmt, nullptr);
  EXPECT_EQ(stmt->database, "db");
  EXPECT_EQ(sql.substr(stmt->data_offset, stmt->data_end - stmt->data_offset), "(1, 'a;b') ");
}

TEST(ParserTest, InsertValuesWithoutDataPointsAtTheEnd) {
  std::string sql = "INSERT INTO t VALUES";
  auto stmt = ParseAs<InsertStmt>(sql);
  ASSERT_NE(stmt, nullptr);
  EXPECT_EQ(stmt->data_offset, sql.size());
  EXPECT_EQ(stmt->data_end, sql.size());
}

TEST(ParserTest, InsertSelectAndSettings) {
  auto sel = ParseAs<InsertStmt>("INSERT INTO TABLE t (a) SELECT number FROM numbers(3)");
  ASSERT_NE(sel, nullptr);
  EXPECT_EQ(sel->source, InsertStmt::Source::kSelect);
  ASSERT_NE(sel->select, nullptr);
  auto settings = ParseAs<InsertStmt>("INSERT INTO t SETTINGS async_insert = 1 FORMAT CSV\n1");
  ASSERT_NE(settings, nullptr);
  ASSERT_EQ(settings->settings.size(), 1u);
  EXPECT_EQ(settings->settings[0].name, "async_insert");
  auto paren = ParseAs<InsertStmt>("INSERT INTO t (SELECT 1)");
  ASSERT_NE(paren, nullptr);
  EXPECT_EQ(paren->source, InsertStmt::Source::kSelect);
}

TEST(ParserTest, InsertDataInScriptEndsAtSemicolon) {
  std::string script =
      "CREATE TABLE t (a Int32) ENGINE = Memory;\nINSERT INTO t VALUES (1), (2);\n"
      "SELECT 1";
  auto r = ParseScript(script);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 3u);
  const auto* insert = (*r)[1]->As<InsertStmt>();
  ASSERT_NE(insert, nullptr);
  EXPECT_EQ(script.substr(insert->data_offset, insert->data_end - insert->data_offset), "(1), (2)");
}

// ---------------------------------------------------------------------------------------------
// DDL and other statements

TEST(ParserTest, CreateTableWithEveryColumnFeature) {
  auto stmt = ParseAs<CreateTableStmt>(
      "CREATE TABLE IF NOT EXISTS db.t (a Int32 NULL, b String DEFAULT 'x' COMMENT 'c' "
      "CODEC(ZSTD(1), LZ4), c Date MATERIALIZED toDate(d), d DateTime ALIAS now(), e UInt8 "
      "EPHEMERAL, f DateTime TTL f + INTERVAL 1 DAY, g DEFAULT 1, PRIMARY KEY a) "
      "ENGINE = ReplacingMergeTree(d) PARTITION BY toYYYYMM(d) ORDER BY (a, b) SAMPLE BY a "
      "TTL d + INTERVAL 1 MONTH DELETE, d + INTERVAL 1 WEEK WHERE a = 1 "
      "SETTINGS index_granularity = 8192 COMMENT 'events'");
  ASSERT_NE(stmt, nullptr);
  EXPECT_TRUE(stmt->if_not_exists);
  EXPECT_EQ(stmt->database, "db");
  ASSERT_EQ(stmt->columns.size(), 7u);
  EXPECT_EQ(stmt->columns[0].type, "Nullable(Int32)");
  const ColumnDef& b = stmt->columns[1];
  EXPECT_EQ(b.default_kind, ColumnDefaultKind::kDefault);
  EXPECT_EQ(b.comment, "c");
  ASSERT_EQ(b.codecs.size(), 2u);
  EXPECT_EQ(ExprColumnName(*b.codecs[0]), "ZSTD(1)");
  EXPECT_EQ(ExprColumnName(*b.codecs[1]), "LZ4");
  EXPECT_EQ(stmt->columns[2].default_kind, ColumnDefaultKind::kMaterialized);
  EXPECT_EQ(stmt->columns[3].default_kind, ColumnDefaultKind::kAlias);
  EXPECT_EQ(stmt->columns[4].default_kind, ColumnDefaultKind::kEphemeral);
  EXPECT_EQ(stmt->columns[4].default_expr, nullptr);
  ASSERT_NE(stmt->columns[5].ttl, nullptr);
  EXPECT_EQ(stmt->columns[6].type, "");
  EXPECT_EQ(ExprColumnName(*stmt->primary_key), "a");
  EXPECT_EQ(stmt->engine->name, "ReplacingMergeTree");
  ASSERT_EQ(stmt->engine->args.size(), 1u);
  EXPECT_EQ(ExprColumnName(*stmt->sample_by), "a");
  ASSERT_EQ(stmt->ttl.size(), 2u);
  EXPECT_EQ(ExprColumnName(*stmt->ttl[1].where), "equals(a, 1)");
  ASSERT_EQ(stmt->settings.size(), 1u);
  EXPECT_EQ(stmt->settings[0].value->uint_value, 8192u);
  EXPECT_EQ(stmt->comment, "events");
}

TEST(ParserTest, CreateTableOrderByTupleAndAsSelect) {
  auto empty_key = ParseAs<CreateTableStmt>(
      "CREATE TABLE t (a Int32) ENGINE = MergeTree "
      "ORDER BY tuple()");
  ASSERT_NE(empty_key, nullptr);
  EXPECT_EQ(ExprColumnName(*empty_key->order_by), "tuple()");
  EXPECT_TRUE(empty_key->engine->args.empty());
  auto as_select = ParseAs<CreateTableStmt>("CREATE TABLE t ENGINE = Memory AS SELECT 1 AS x");
  ASSERT_NE(as_select, nullptr);
  ASSERT_NE(as_select->as_select, nullptr);
  auto as_other = ParseAs<CreateTableStmt>("CREATE TABLE t AS db.other");
  ASSERT_NE(as_other, nullptr);
  EXPECT_EQ(as_other->as_database, "db");
  EXPECT_EQ(as_other->as_table, "other");
  EXPECT_FALSE(as_other->engine.has_value());
}

TEST(ParserTest, CreateDatabase) {
  auto stmt = ParseAs<CreateDatabaseStmt>(
      "CREATE DATABASE IF NOT EXISTS analytics ENGINE = "
      "Atomic COMMENT 'x'");
  ASSERT_NE(stmt, nullptr);
  EXPECT_TRUE(stmt->if_not_exists);
  EXPECT_EQ(stmt->name, "analytics");
  EXPECT_EQ(stmt->engine->name, "Atomic");
  EXPECT_EQ(stmt->comment, "x");
}

TEST(ParserTest, DropTruncateRename) {
  auto drop = ParseAs<DropTableStmt>("DROP TABLE IF EXISTS db.t SYNC");
  ASSERT_NE(drop, nullptr);
  EXPECT_TRUE(drop->if_exists);
  EXPECT_EQ(drop->database, "db");
  EXPECT_EQ(drop->table, "t");
  EXPECT_TRUE(drop->sync);
  auto drop_db = ParseAs<DropDatabaseStmt>("DROP DATABASE IF EXISTS analytics");
  ASSERT_NE(drop_db, nullptr);
  EXPECT_EQ(drop_db->name, "analytics");
  auto truncate = ParseAs<TruncateTableStmt>("TRUNCATE TABLE IF EXISTS t");
  ASSERT_NE(truncate, nullptr);
  EXPECT_TRUE(truncate->if_exists);
  auto bare = ParseAs<TruncateTableStmt>("TRUNCATE t");
  ASSERT_NE(bare, nullptr);
  EXPECT_EQ(bare->table, "t");
  auto rename = ParseAs<RenameTableStmt>("RENAME TABLE a TO b, db.c TO db2.d");
  ASSERT_NE(rename, nullptr);
  ASSERT_EQ(rename->renames.size(), 2u);
  EXPECT_EQ(rename->renames[1].from_database, "db");
  EXPECT_EQ(rename->renames[1].to_database, "db2");
  EXPECT_EQ(rename->renames[1].to_table, "d");
}

TEST(ParserTest, AlterTableCommands) {
  auto stmt = ParseAs<AlterTableStmt>(
      "ALTER TABLE db.t ADD COLUMN IF NOT EXISTS x Int32 DEFAULT 0 AFTER y, "
      "ADD COLUMN f String FIRST, DROP COLUMN IF EXISTS z, MODIFY COLUMN w Nullable(String), "
      "RENAME COLUMN a TO b, COMMENT COLUMN c 'note', MODIFY TTL d + INTERVAL 1 DAY, "
      "REMOVE TTL, DROP PARTITION 202401, DROP PARTITION ID 'all_1', DELETE WHERE x = 1, "
      "UPDATE a = a + 1, b = 'x' WHERE c > 0, MODIFY SETTING ttl_only_drop_parts = 1, "
      "RESET SETTING a, b, MODIFY COMMENT 'table'");
  ASSERT_NE(stmt, nullptr);
  EXPECT_EQ(stmt->database, "db");
  const auto& c = stmt->commands;
  ASSERT_EQ(c.size(), 15u);
  EXPECT_EQ(c[0].kind, AlterCommandKind::kAddColumn);
  EXPECT_TRUE(c[0].if_not_exists);
  EXPECT_EQ(c[0].column.name, "x");
  EXPECT_EQ(c[0].column.type, "Int32");
  EXPECT_EQ(c[0].after, "y");
  EXPECT_TRUE(c[1].first);
  EXPECT_EQ(c[2].kind, AlterCommandKind::kDropColumn);
  EXPECT_TRUE(c[2].if_exists);
  EXPECT_EQ(c[2].column_name, "z");
  EXPECT_EQ(c[3].kind, AlterCommandKind::kModifyColumn);
  EXPECT_EQ(c[3].column.type, "Nullable(String)");
  EXPECT_EQ(c[4].kind, AlterCommandKind::kRenameColumn);
  EXPECT_EQ(c[4].new_name, "b");
  EXPECT_EQ(c[5].kind, AlterCommandKind::kCommentColumn);
  EXPECT_EQ(c[5].comment, "note");
  EXPECT_EQ(c[6].kind, AlterCommandKind::kModifyTtl);
  EXPECT_EQ(c[6].ttl.size(), 1u);
  EXPECT_EQ(c[7].kind, AlterCommandKind::kRemoveTtl);
  EXPECT_EQ(c[8].kind, AlterCommandKind::kDropPartition);
  EXPECT_EQ(c[8].partition->uint_value, 202401u);
  EXPECT_EQ(c[9].partition_id, "all_1");
  EXPECT_EQ(c[10].kind, AlterCommandKind::kDelete);
  EXPECT_EQ(ExprColumnName(*c[10].predicate), "equals(x, 1)");
  EXPECT_EQ(c[11].kind, AlterCommandKind::kUpdate);
  ASSERT_EQ(c[11].assignments.size(), 2u);
  EXPECT_EQ(c[11].assignments[1].column, "b");
  EXPECT_EQ(c[12].kind, AlterCommandKind::kModifySetting);
  EXPECT_EQ(c[12].settings[0].name, "ttl_only_drop_parts");
  EXPECT_EQ(c[13].kind, AlterCommandKind::kResetSetting);
  EXPECT_EQ(c[13].setting_names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(c[14].kind, AlterCommandKind::kModifyComment);
}

TEST(ParserTest, AlterDropPartitionTakesAnyLiteral) {
  auto stmt =
      ParseAs<AlterTableStmt>("ALTER TABLE t DROP PARTITION '2024-01-01', DROP PARTITION (1, 'a')");
  ASSERT_NE(stmt, nullptr);
  EXPECT_EQ(stmt->commands[0].partition->string_value, "2024-01-01");
  EXPECT_TRUE(stmt->commands[1].partition->IsFunction("tuple"));
}

TEST(ParserTest, Optimize) {
  auto stmt = ParseAs<OptimizeStmt>("OPTIMIZE TABLE db.t PARTITION 202401 FINAL DEDUPLICATE");
  ASSERT_NE(stmt, nullptr);
  EXPECT_EQ(stmt->table, "t");
  EXPECT_EQ(stmt->partition->uint_value, 202401u);
  EXPECT_TRUE(stmt->final);
  EXPECT_TRUE(stmt->deduplicate);
  auto plain = ParseAs<OptimizeStmt>("OPTIMIZE TABLE t");
  ASSERT_NE(plain, nullptr);
  EXPECT_FALSE(plain->final);
}

TEST(ParserTest, ShowStatements) {
  auto tables = ParseAs<ShowTablesStmt>("SHOW TABLES FROM db NOT LIKE 'tmp%' LIMIT 5 FORMAT JSON");
  ASSERT_NE(tables, nullptr);
  EXPECT_EQ(tables->database, "db");
  EXPECT_TRUE(tables->filter.present);
  EXPECT_TRUE(tables->filter.negated);
  EXPECT_EQ(tables->filter.pattern, "tmp%");
  EXPECT_EQ(tables->limit->uint_value, 5u);
  EXPECT_EQ(tables->format, "JSON");
  auto in = ParseAs<ShowTablesStmt>("SHOW TABLES IN db ILIKE 'x'");
  ASSERT_NE(in, nullptr);
  EXPECT_TRUE(in->filter.case_insensitive);
  auto dbs = ParseAs<ShowDatabasesStmt>("SHOW DATABASES");
  ASSERT_NE(dbs, nullptr);
  EXPECT_FALSE(dbs->filter.present);
  auto create = ParseAs<ShowCreateTableStmt>("SHOW CREATE TABLE db.t");
  ASSERT_NE(create, nullptr);
  EXPECT_EQ(create->database, "db");
  EXPECT_EQ(create->table, "t");
  auto short_form = ParseAs<ShowCreateTableStmt>("SHOW CREATE t");
  ASSERT_NE(short_form, nullptr);
  EXPECT_EQ(short_form->table, "t");
}

TEST(ParserTest, DescribeExistsUse) {
  for (const char* sql : {"DESC t", "DESCRIBE t", "DESCRIBE TABLE t"}) {
    auto d = ParseAs<DescribeStmt>(sql);
    ASSERT_NE(d, nullptr) << sql;
    EXPECT_EQ(d->table, "t");
  }
  auto fmt = ParseAs<DescribeStmt>("DESCRIBE TABLE db.t FORMAT TSV");
  ASSERT_NE(fmt, nullptr);
  EXPECT_EQ(fmt->format, "TSV");
  auto exists = ParseAs<ExistsStmt>("EXISTS TABLE db.t");
  ASSERT_NE(exists, nullptr);
  EXPECT_FALSE(exists->is_database);
  EXPECT_EQ(exists->table, "t");
  auto bare = ParseAs<ExistsStmt>("EXISTS t");
  ASSERT_NE(bare, nullptr);
  EXPECT_EQ(bare->table, "t");
  auto db = ParseAs<ExistsStmt>("EXISTS DATABASE analytics");
  ASSERT_NE(db, nullptr);
  EXPECT_TRUE(db->is_database);
  EXPECT_EQ(db->database, "analytics");
  auto use = ParseAs<UseStmt>("USE analytics");
  ASSERT_NE(use, nullptr);
  EXPECT_EQ(use->database, "analytics");
}

TEST(ParserTest, SetSystemKill) {
  auto set = ParseAs<SetStmt>("SET max_threads = 8, s = 'x', f = -1.5, on = true, a = [1, 2]");
  ASSERT_NE(set, nullptr);
  ASSERT_EQ(set->settings.size(), 5u);
  EXPECT_EQ(set->settings[2].value->float_value, -1.5);
  EXPECT_TRUE(set->settings[3].value->bool_value);
  EXPECT_TRUE(set->settings[4].value->IsFunction("array"));
  auto system = ParseAs<SystemStmt>("SYSTEM FLUSH LOGS");
  ASSERT_NE(system, nullptr);
  EXPECT_EQ(system->words, (std::vector<std::string>{"FLUSH", "LOGS"}));
  auto stop = ParseAs<SystemStmt>("SYSTEM STOP MERGES db.t");
  ASSERT_NE(stop, nullptr);
  EXPECT_EQ(stop->words, (std::vector<std::string>{"STOP", "MERGES", "db.t"}));
  auto kill = ParseAs<KillQueryStmt>("KILL QUERY WHERE query_id = 'abc' SYNC");
  ASSERT_NE(kill, nullptr);
  EXPECT_EQ(kill->mode, "SYNC");
  EXPECT_EQ(ExprColumnName(*kill->where), "equals(query_id, 'abc')");
}

TEST(ParserTest, StatementSettingsAreCaptured) {
  auto drop = ParseAs<DropTableStmt>("DROP TABLE t SETTINGS a = 1");
  ASSERT_NE(drop, nullptr);
  ASSERT_EQ(drop->settings.size(), 1u);
  auto alter = ParseAs<AlterTableStmt>("ALTER TABLE t DELETE WHERE 1 SETTINGS mutations_sync = 2");
  ASSERT_NE(alter, nullptr);
  EXPECT_EQ(alter->settings[0].name, "mutations_sync");
  auto show = ParseAs<ShowTablesStmt>("SHOW TABLES SETTINGS a = 1");
  ASSERT_NE(show, nullptr);
  EXPECT_EQ(show->settings.size(), 1u);
}

TEST(ParserTest, KeywordsAreCaseInsensitive) {
  auto stmt = ParseAs<SelectStmt>("select a from t where a = 1 group by a order by a desc limit 1");
  ASSERT_NE(stmt, nullptr);
  EXPECT_TRUE(OnlySelect(*stmt).order_by[0].descending);
  EXPECT_NE(Parse("create table T (X int32) engine = memory"), nullptr);
}

TEST(ParserTest, TrailingSemicolonIsAllowed) {
  EXPECT_NE(Parse("SELECT 1;"), nullptr);
  EXPECT_NE(Parse("SELECT 1 ; -- done\n"), nullptr);
}

TEST(ParserTest, StatementPositions) {
  auto r = ParseScript("SELECT 1;\n  SELECT 2");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0]->pos, 0u);
  EXPECT_EQ((*r)[1]->pos, 12u);
}

// ---------------------------------------------------------------------------------------------
// Scripts

TEST(ParserTest, ScriptSplitsOnlyOnRealSemicolons) {
  auto r = ParseScript(
      "-- migration 001; not a split\n"
      "SELECT 'a;b', `c;d` FROM t; /* ; */\n"
      ";;  \n"
      "SELECT \"x;y\" # comment;\n"
      ";");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->size(), 2u);
}

TEST(ParserTest, EmptyScriptHasNoStatements) {
  auto r = ParseScript("  -- nothing here\n /* at all */ ;");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
}

TEST(ParserTest, ScriptErrorsPointIntoTheWholeScript) {
  auto r = ParseScript("SELECT 1;\nSELECT 2;\nSELECT FROM t;");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "Syntax error: failed at position 28 (line 3, col 8) ('FROM'): FROM t. Expected "
            "expression");
}

// ---------------------------------------------------------------------------------------------
// Errors

TEST(ParserTest, TrailingCommaInColumnListFailsAtTheParen) {
  Status s = Error("CREATE TABLE t (a Int32,) ENGINE");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.clickhouse_code(), ch::kSyntaxError);
  EXPECT_EQ(s.message(),
            "Syntax error: failed at position 25 (line 1, col 25) (')'): ) ENGINE. Expected "
            "column declaration");
}

TEST(ParserTest, SelectFromWithoutColumns) {
  Status s = Error("SELECT FROM");
  EXPECT_EQ(s.clickhouse_code(), ch::kSyntaxError);
  EXPECT_EQ(s.message(),
            "Syntax error: failed at position 8 (line 1, col 8) ('FROM'): FROM. Expected "
            "expression");
}

TEST(ParserTest, UnterminatedStringNamesTheProblem) {
  Status s = Error("SELECT 'abc");
  EXPECT_EQ(s.message(),
            "Syntax error: failed at position 8 (line 1, col 8) (''abc'): 'abc. Unterminated "
            "string literal");
}

TEST(ParserTest, UnbalancedParensReportEndOfQuery) {
  Status s = Error("SELECT (1 + 2");
  EXPECT_EQ(s.message(),
            "Syntax error: failed at position 14 (line 1, col 14) (end of query). Expected one "
            "of: ',', ')'");
  Status extra = Error("SELECT 1 + 2)");
  EXPECT_EQ(extra.message(),
            "Syntax error: failed at position 13 (line 1, col 13) (')'): ). Expected end of "
            "query");
  Status bracket = Error("SELECT a[1");
  EXPECT_NE(bracket.message().find("Expected ']'"), std::string::npos);
}

TEST(ParserTest, ErrorsReportLineAndColumn) {
  Status s = Error("SELECT a\nFROM t\nWHERE x =\n  AND y");
  EXPECT_EQ(s.message(),
            "Syntax error: failed at position 29 (line 4, col 3) ('AND'): AND y. Expected "
            "expression");
}

TEST(ParserTest, LongSnippetsAreCut) {
  Status s = Error("SELECT 1 2 " + std::string(200, 'x'));
  EXPECT_LT(s.message().size(), 200u);
  EXPECT_NE(s.message().find("..."), std::string::npos);
}

TEST(ParserTest, UnknownStatementListsAlternatives) {
  Status s = Error("SELEC 1");
  EXPECT_NE(s.message().find("Expected one of: SELECT, WITH, INSERT"), std::string::npos);
}

TEST(ParserTest, EmptyQueryIsAnError) {
  Status s = Error("  -- nothing\n");
  EXPECT_EQ(s.message(), "Empty query");
  EXPECT_EQ(s.clickhouse_code(), ch::kEmptyQuery);
}

TEST(ParserTest, MultipleStatementsAreRejected) {
  Status s = Error("SELECT 1; SELECT 2");
  EXPECT_NE(s.message().find("Multi-statements are not allowed"), std::string::npos);
  EXPECT_EQ(s.clickhouse_code(), ch::kSyntaxError);
}

TEST(ParserTest, MalformedInputsFailWithSyntaxErrors) {
  for (const char* sql : {
           "SELECT",
           "SELECT 1 +",
           "SELECT a FROM",
           "SELECT a FROM t WHERE",
           "SELECT a FROM t GROUP",
           "SELECT f(",
           "SELECT f(1,",
           "SELECT [1, 2",
           "SELECT CASE WHEN 1 THEN 2",
           "SELECT CASE END",
           "SELECT {x:UInt8",
           "SELECT {x}",
           "SELECT CAST(x AS)",
           "SELECT x::",
           "SELECT 1 ? 2",
           "SELECT a BETWEEN 1",
           "SELECT a IS 1",
           "SELECT a NOT 1",
           "SELECT INTERVAL 1 FORTNIGHT",
           "SELECT INTERVAL 'soon'",
           "SELECT 0xFFFFFFFFFFFFFFFFFF",
           "INSERT t VALUES",
           "INSERT INTO t",
           "INSERT INTO t (a VALUES (1)",
           "INSERT INTO t VALUES 1",
           "CREATE TABLE t",
           "CREATE TABLE t ()",
           "CREATE TABLE t (a)",
           "CREATE TABLE t (a Int32) ENGINE = MergeTree ORDER BY",
           "CREATE TABLE t (a Int32) ENGINE = MergeTree ENGINE = Log",
           "CREATE TABLE t (a Array(Int32) ENGINE = Memory",
           "CREATE TABLE t (a Int32 DEFAULT) ENGINE = Memory",
           "CREATE TABLE t (a Int32 DEFAULT 1 DEFAULT 2) ENGINE = Memory",
           "ALTER TABLE t",
           "ALTER TABLE t ADD COLUMN",
           "ALTER TABLE t DELETE x = 1",
           "DROP",
           "DROP TABLE",
           "SHOW",
           "SET",
           "SET a",
           "USE",
           "RENAME TABLE a",
           "OPTIMIZE t",
           "SYSTEM",
           "KILL QUERY",
       }) {
    auto r = ParseStatement(sql);
    ASSERT_FALSE(r.ok()) << sql;
    EXPECT_EQ(r.status().clickhouse_code(), ch::kSyntaxError)
        << sql << ": " << r.status().ToString();
    EXPECT_EQ(r.status().message().rfind("Syntax error", 0), 0u) << r.status().message();
  }
}

TEST(ParserTest, UnsupportedSyntaxIsNotImplemented) {
  struct Case {
    const char* sql;
    const char* message;
  };
  for (const Case& c : std::vector<Case>{
           {"SELECT a FROM t JOIN u ON t.id = u.id",
            "JOIN is not supported by trackhouse (position 17)"},
           {"SELECT a FROM t LEFT JOIN u USING id", "JOIN is not supported by trackhouse"},
           {"SELECT a FROM t, u", "JOIN (comma-separated tables) is not supported"},
           {"SELECT a FROM t ARRAY JOIN arr", "ARRAY JOIN is not supported"},
           {"SELECT a FROM t LEFT ARRAY JOIN arr", "ARRAY JOIN is not supported"},
           {"SELECT sum(x) OVER (PARTITION BY y) FROM t", "Window function (OVER)"},
           {"SELECT x FROM t WINDOW w AS (ORDER BY x)", "WINDOW clause"},
           {"CREATE VIEW v AS SELECT 1", "CREATE VIEW is not supported"},
           {"CREATE MATERIALIZED VIEW v TO t AS SELECT 1", "CREATE MATERIALIZED VIEW"},
           {"CREATE DICTIONARY d (id UInt64) PRIMARY KEY id", "CREATE DICTIONARY"},
           {"CREATE TABLE t (a Int32) ENGINE = MergeTree ORDER BY a TTL d TO DISK 'cold'",
            "TTL TO DISK"},
           {"CREATE TABLE t (a Int32, INDEX i a TYPE minmax GRANULARITY 1) ENGINE = Log",
            "INDEX in CREATE TABLE"},
           {"CREATE TABLE t ON CLUSTER c (a Int32) ENGINE = Log", "ON CLUSTER"},
           {"SELECT 1 UNION SELECT 2", "UNION without ALL"},
           {"SELECT 1 UNION DISTINCT SELECT 2", "UNION DISTINCT"},
           {"SELECT 1 EXCEPT SELECT 2", "EXCEPT"},
           {"SELECT * EXCEPT (a) FROM t", "Column transformers"},
           {"SELECT a FROM t SAMPLE 0.1", "SAMPLE"},
           {"SELECT a FROM t GROUP BY a WITH ROLLUP", "WITH ROLLUP"},
           {"SELECT x GLOBAL IN (1)", "GLOBAL IN"},
           {"SELECT 1 INTO OUTFILE 'x'", "INTO OUTFILE"},
           {"EXPLAIN SELECT 1", "EXPLAIN statement"},
           {"ALTER TABLE t ADD INDEX i a TYPE minmax", "ALTER TABLE ... ADD INDEX"},
           {"ALTER TABLE t DETACH PARTITION 1", "ALTER TABLE ... DETACH PARTITION"},
           {"DROP VIEW v", "DROP VIEW"},
           {"INSERT INTO FUNCTION remote('h', t) VALUES (1)", "INSERT INTO FUNCTION"},
           {"SHOW PROCESSLIST", "SHOW PROCESSLIST"},
           {"OPTIMIZE TABLE t DEDUPLICATE BY a", "DEDUPLICATE BY"},
       }) {
    auto r = ParseStatement(c.sql);
    ASSERT_FALSE(r.ok()) << c.sql;
    EXPECT_EQ(r.status().code(), StatusCode::kNotSupported)
        << c.sql << ": " << r.status().ToString();
    EXPECT_EQ(r.status().clickhouse_code(), ch::kNotImplemented) << c.sql;
    EXPECT_NE(r.status().message().find(c.message), std::string::npos)
        << c.sql << ": " << r.status().message();
  }
}

// ---------------------------------------------------------------------------------------------
// Robustness

TEST(ParserTest, DeepParenthesesFailWithoutCrashing) {
  std::string sql = "SELECT " + std::string(100000, '(') + "1" + std::string(100000, ')');
  auto r = ParseStatement(sql);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("Maximum parse depth exceeded"), std::string::npos)
      << r.status().message();
  EXPECT_EQ(r.status().clickhouse_code(), ch::kSyntaxError);
}

TEST(ParserTest, EveryKindOfDeepNestingFails) {
  std::vector<std::string> inputs;
  auto repeat = [](std::string_view s, size_t times) {
    std::string out;
    out.reserve(s.size() * times);
    for (size_t i = 0; i < times; ++i) out += s;
    return out;
  };
  inputs.push_back("SELECT " + repeat("[", 100000));
  inputs.push_back("SELECT " + repeat("f(", 100000));
  inputs.push_back("SELECT " + repeat("NOT ", 100000) + "1");
  inputs.push_back("SELECT " + repeat("- ", 100000) + "x");
  inputs.push_back("SELECT " + repeat("1 + ", 100000) + "1");
  inputs.push_back("SELECT " + repeat("a ? b : ", 100000) + "c");
  inputs.push_back("SELECT " + repeat("x -> ", 100000) + "x");
  inputs.push_back("SELECT " + repeat("CASE WHEN ", 100000));
  inputs.push_back("SELECT " + repeat("(SELECT ", 100000));
  inputs.push_back("SELECT x" + repeat("[1]", 100000));
  inputs.push_back("SELECT x" + repeat("::Int8", 100000));
  inputs.push_back("SELECT " + repeat("INTERVAL (", 100000) + "1");
  inputs.push_back("SELECT CAST(x AS " + repeat("Array(", 100000));
  inputs.push_back("SELECT " + repeat("x IN ", 100000) + "y");
  inputs.push_back("SELECT " + repeat("1 = ", 100000) + "1");
  for (const auto& sql : inputs) {
    auto r = ParseStatement(sql);
    ASSERT_FALSE(r.ok()) << sql.substr(0, 30);
    EXPECT_NE(r.status().message().find("Maximum parse depth exceeded"), std::string::npos)
        << sql.substr(0, 30) << ": " << r.status().message().substr(0, 200);
  }
}

TEST(ParserTest, NestingWithinTheLimitParses) {
  std::string sql = "SELECT " + std::string(100, '(') + "1" + std::string(100, ')');
  EXPECT_NE(Parse(sql), nullptr);
  std::string flat = "SELECT 1";
  for (int i = 0; i < 5000; ++i) flat += " AND 1";  // n-ary chains do not nest
  EXPECT_NE(Parse(flat), nullptr);
  std::string list = "SELECT x IN (";
  for (int i = 0; i < 10000; ++i) list += std::to_string(i) + ", ";
  list += "0)";
  EXPECT_NE(Parse(list), nullptr);
}

TEST(ParserTest, RandomGarbageNeverCrashes) {
  std::mt19937 rng(20240501);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> len(0, 64);
  for (int i = 0; i < 10000; ++i) {
    std::string s;
    int n = len(rng);
    for (int j = 0; j < n; ++j) s.push_back(static_cast<char>(byte(rng)));
    auto r = ParseStatement(s);
    if (!r.ok()) {
      EXPECT_FALSE(r.status().message().empty());
    }
    auto script = ParseScript(s);
    auto expr = ParseExpression(s);
    (void)script.ok();
    (void)expr.ok();
  }
}

TEST(ParserTest, RandomTokenSoupNeverCrashes) {
  static const char* kPieces[] = {"SELECT ",
                                  "FROM ",
                                  "WHERE ",
                                  "(",
                                  ")",
                                  "[",
                                  "]",
                                  "{",
                                  "}",
                                  ",",
                                  "'s'",
                                  "1",
                                  "-",
                                  "+",
                                  "*",
                                  "x",
                                  "t.",
                                  "AS ",
                                  "AND ",
                                  "OR ",
                                  "NOT ",
                                  "IN ",
                                  "BETWEEN ",
                                  "IS ",
                                  "NULL ",
                                  "CASE ",
                                  "WHEN ",
                                  "THEN ",
                                  "ELSE ",
                                  "END ",
                                  "INTERVAL ",
                                  "DAY ",
                                  "::",
                                  "?",
                                  ":",
                                  "->",
                                  "CAST(",
                                  "GROUP BY ",
                                  "ORDER BY ",
                                  "LIMIT ",
                                  "UNION ALL ",
                                  "WITH ",
                                  "INSERT INTO ",
                                  "VALUES ",
                                  "FORMAT ",
                                  "CREATE TABLE ",
                                  "ENGINE = ",
                                  "TTL ",
                                  "ALTER TABLE ",
                                  "DROP ",
                                  "COLUMN ",
                                  ";",
                                  "count(",
                                  "DISTINCT ",
                                  "x:UInt8",
                                  ".1",
                                  "0x",
                                  "1e",
                                  "`q`",
                                  "\"d\"",
                                  "SETTINGS ",
                                  "a = ",
                                  "PARTITION BY ",
                                  "DEFAULT ",
                                  "Nullable(",
                                  "Int32",
                                  "LIKE "};
  std::mt19937 rng(7);
  std::uniform_int_distribution<size_t> pick(0, std::size(kPieces) - 1);
  std::uniform_int_distribution<int> len(1, 40);
  for (int i = 0; i < 10000; ++i) {
    std::string s;
    int n = len(rng);
    for (int j = 0; j < n; ++j) s += kPieces[pick(rng)];
    auto r = ParseStatement(s);
    if (r.ok()) {
      // Whatever parses must format to something that parses back the same.
      std::string once = FormatStatement(**r);
      auto again = ParseStatement(once);
      if (!(*r)->As<InsertStmt>() ||
          (*r)->As<InsertStmt>()->source == InsertStmt::Source::kSelect) {
        ASSERT_TRUE(again.ok()) << s << "\n=> " << once << "\n" << again.status().ToString();
        EXPECT_EQ(FormatStatement(**again), once) << s;
      }
    }
    (void)ParseScript(s).ok();
  }
}

}  // namespace
}  // namespace trackhouse::sql
