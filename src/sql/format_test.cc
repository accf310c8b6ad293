#include "sql/format.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "sql/parser.h"

namespace trackhouse::sql {
namespace {

std::string FormatSql(std::string_view sql) {
  auto r = ParseStatement(sql);
  if (!r.ok()) return "ERROR: " + r.status().ToString();
  return FormatStatement(**r);
}

std::string FormatE(std::string_view expr) {
  auto r = ParseExpression(expr);
  if (!r.ok()) return "ERROR: " + r.status().ToString();
  return FormatExpr(**r);
}

std::string Name(std::string_view expr) {
  auto r = ParseExpression(expr);
  if (!r.ok()) return "ERROR: " + r.status().ToString();
  return ExprColumnName(**r);
}

// ---------------------------------------------------------------------------------------------
// Round trips

// Statements that must survive Parse -> Format -> Parse -> Format unchanged.
const char* const kCorpus[] = {
    // The guide and design document.
    "CREATE TABLE entityMetricEvents (entityType LowCardinality(String), entityId Int32, "
    "userId Int32, metricType LowCardinality(String), metricValue Int32, createdAt "
    "DateTime64(3)) ENGINE = MergeTree() ORDER BY (entityType, entityId, createdAt)",
    "CREATE TABLE my_feature_events (feature_id UInt32, user_id UInt32, action "
    "LowCardinality(String), metadata String, created_at DateTime DEFAULT now()) ENGINE = "
    "MergeTree() PARTITION BY toYYYYMM(created_at) ORDER BY (feature_id, created_at) TTL "
    "created_at + INTERVAL 90 DAY",
    "CREATE TABLE my_events_buffer AS my_events ENGINE = Buffer(default, my_events, 16, 10, "
    "100, 10000, 1000000, 10000000, 100000000)",
    "SELECT entityId, countIf(metricType = 'View') as views, countIf(metricType = 'Download') "
    "as downloads FROM entityMetricEvents WHERE entityType = 'Model' AND createdAt > now() - "
    "INTERVAL 7 DAY GROUP BY entityId ORDER BY views DESC LIMIT 100",
    "SELECT toDate(createdAt) as date, count() as events FROM entityMetricEvents WHERE "
    "entityType = 'Model' AND entityId = {modelId:UInt32} GROUP BY date ORDER BY date",
    // SELECT
    "SELECT 1",
    "SELECT -5, - 5, -(5), -(-5), - -x, -x[1], (-5)[1]",
    "SELECT a + b * c, (a + b) * c, a - (b - c), a - b - c, a / (b * c), a % b",
    "SELECT a AND b OR c AND d, (a OR b) AND c, a AND (b AND c), NOT a AND b, NOT (a AND b)",
    "SELECT x BETWEEN 1 AND 10, x NOT BETWEEN 1 AND 2, (x BETWEEN 1 AND 2) = 1",
    "SELECT x IN (1, 2, 3), x NOT IN (SELECT id FROM t), x IN (1), x IN (), x IN arr",
    "SELECT x IN {ids:Array(UInt32)}, (a, b) IN ((1, 2), (3, 4)), x IN (1, 2) = 1",
    "SELECT a IS NULL, a IS NOT NULL, (a = b) IS NULL, a = (b IS NULL), NOT a IS NULL",
    "SELECT a LIKE 'x%', a NOT LIKE 'y', a ILIKE 'z', a NOT ILIKE 'w', a || b || c, a || (b || c)",
    "SELECT 'a\\_b\\%', 'it''s', 'tab\\there\\n\\x41\\0', '\\\\', 'é'",
    "SELECT c ? 1 : 2, if(c, 1, 2), multiIf(a, 1, 2), CASE WHEN a THEN 1 WHEN b THEN 2 ELSE 3 END",
    "SELECT CASE x WHEN 1 THEN 'a' END, CASE WHEN a THEN 1 END, caseWithExpression(x, 1, 2, 3)",
    "SELECT [1, 2, 3], [], (1, 'a'), tuple(), tuple(1), (1,), t[1], t.1, t.1.2, f(x).1",
    "SELECT arr[1][2], (1, 2).1, [1][1], 'abc'[1], f(x).name",
    "SELECT CAST(x AS Nullable(Int32)), x::String, CAST(x, 'UInt8'), cast(x as "
    "DateTime64(3,'UTC'))",
    "SELECT EXTRACT(DAY FROM d), extract(s, 'a+'), DATE '2024-01-01', TIMESTAMP '2024-01-01 "
    "00:00:00'",
    "SELECT INTERVAL 1 HOUR, INTERVAL '2 day', INTERVAL x MINUTE, INTERVAL -1 WEEKS, "
    "INTERVAL (a + 1) DAY, now() - INTERVAL '1' MONTH",
    "SELECT quantile(0.9)(x), quantiles(0.5, 0.9)(x), count(DISTINCT x), count(*), uniqExact(x)",
    "SELECT arrayMap(x -> x * 2, arr), arrayFilter((x, y) -> x > y, a, b), arrayMap(x -> (x, 1), "
    "a)",
    "SELECT 1.5, 1e10, 1.0, .5, 0x1F, 0b101, 18446744073709551615, 18446744073709551616",
    "SELECT -9223372036854775808, inf, -inf, nan, 1e-5, 123.456e-7, 1e308, -0.0",
    "SELECT NULL, true, FALSE, 'str', `quoted col`, \"dq\", `select`, t.`from`, db.t.c, t.*, *",
    "SELECT `interval`, `NULL`, `not`, `default`, `1abc`, `a``b`, `a\\\\b`",
    "SELECT DISTINCT a FROM db.t AS x FINAL PREWHERE a > 1 WHERE b < 2 GROUP BY a WITH TOTALS "
    "HAVING count() > 1 ORDER BY a DESC NULLS LAST, b ASC NULLS FIRST LIMIT 10 OFFSET 5 "
    "SETTINGS max_threads = 4, s = 'x' FORMAT JSON",
    "SELECT a FROM t ORDER BY d WITH FILL FROM 1 TO 10 STEP 1, e COLLATE 'en' LIMIT 2 BY a "
    "LIMIT 5",
    "SELECT a FROM t LIMIT 5, 10",
    "SELECT a FROM t LIMIT 3 OFFSET 1 BY a",
    "SELECT a FROM t OFFSET 3",
    "SELECT * FROM (SELECT 1 AS a) AS sub",
    "SELECT number FROM numbers(10) n",
    "WITH 1 AS one, x AS (SELECT 2), (SELECT 3) AS three SELECT one",
    "SELECT 1 UNION ALL SELECT 2 UNION ALL (SELECT 3 UNION ALL SELECT 4)",
    "SELECT a AS b, c d, e `f`, (x AS y) + 1, f(g AS h) FROM t",
    "SELECT a DIV b, a MOD b, intDiv(a, b)",
    "SELECT interval, interval + 1 FROM t",
    "SELECT x FROM t WHERE (a, b) = (1, 2) AND NOT (x IN (1, 2))",
    "SELECT 1 FORMAT JSONEachRow SETTINGS a = 1",
    "SELECT (SELECT max(x) FROM t) + 1, x IN (SELECT 1 UNION ALL SELECT 2)",
    "SELECT in(x, y = 1), and(x), `not`(a, b), plus(1, 2, 3), negate(a, b), `select`(1)",
    "SELECT a = b = c, a < b > c, (a + b) || c, -(a + b), (NOT a) = b, f(NOT a)",
    "SELECT {p:Nullable(DateTime64(3, 'UTC'))}, {q:String}",
    "SELECT start, end, format, values, limit, offset FROM t ORDER BY end LIMIT 1",
    "SELECT CASE WHEN end THEN end ELSE end END, format('{}', x)",
    // INSERT
    "INSERT INTO t FORMAT JSONEachRow",
    "INSERT INTO db.t (a, b) VALUES",
    "INSERT INTO t SELECT * FROM s",
    "INSERT INTO t (a, `b c`, n.x) SETTINGS async_insert = 1 VALUES",
    // DDL
    "CREATE DATABASE IF NOT EXISTS analytics ENGINE = Atomic COMMENT 'x'",
    "CREATE DATABASE d",
    "CREATE TABLE IF NOT EXISTS db.t (a Int32 NULL, b String DEFAULT 'x' COMMENT 'c' "
    "CODEC(ZSTD(1), LZ4), c Date MATERIALIZED toDate(d), d DateTime ALIAS now(), e UInt8 "
    "EPHEMERAL, f Tuple(x Int32, y String), g Enum8('a' = 1, 'b' = -2), h Decimal(10,2), "
    "i Map(String, UInt64), j DateTime TTL j + INTERVAL 1 DAY, k DEFAULT 1, PRIMARY KEY (a)) "
    "ENGINE = ReplacingMergeTree(d) PARTITION BY toYYYYMM(d) ORDER BY (a, b) SAMPLE BY a "
    "TTL d + INTERVAL 1 MONTH DELETE, d + INTERVAL 1 WEEK WHERE a = 1 SETTINGS "
    "index_granularity = 8192 COMMENT 'table'",
    "CREATE TABLE t2 (x UInt8) ENGINE = Memory AS SELECT 1",
    "CREATE TABLE t3 ENGINE = MergeTree ORDER BY tuple() AS SELECT 1 AS x",
    "CREATE TABLE t4 AS SELECT 1",
    "CREATE TABLE `my table` (`select` String, `a b` Int8 EPHEMERAL 1) ENGINE = Log",
    "DROP TABLE IF EXISTS db.t SYNC",
    "DROP TABLE t SETTINGS a = 1",
    "DROP DATABASE db",
    "TRUNCATE TABLE IF EXISTS t",
    "RENAME TABLE a TO b, db.c TO db.d",
    "ALTER TABLE t ADD COLUMN IF NOT EXISTS x Int32 DEFAULT 0 AFTER y, DROP COLUMN IF EXISTS z, "
    "MODIFY COLUMN w String, MODIFY COLUMN v COMMENT 'hi', RENAME COLUMN a TO b, COMMENT "
    "COLUMN c 'cc', ADD COLUMN f UInt8 FIRST",
    "ALTER TABLE t MODIFY TTL d + INTERVAL 1 DAY, DROP COLUMN x",
    "ALTER TABLE t REMOVE TTL",
    "ALTER TABLE t DROP PARTITION 202401, DROP PARTITION '2024-01-01', DROP PARTITION (1, 'a'), "
    "DROP PARTITION ID 'abc'",
    "ALTER TABLE t DELETE WHERE x = 1 SETTINGS mutations_sync = 2",
    "ALTER TABLE t UPDATE a = a + 1, b = 'x' WHERE c > 0",
    "ALTER TABLE t MODIFY SETTING a = 1, b = 2, RESET SETTING c, d, MODIFY COMMENT 'new'",
    "OPTIMIZE TABLE db.t PARTITION 202401 FINAL DEDUPLICATE",
    "OPTIMIZE TABLE t PARTITION ID 'x'",
    // Other statements
    "SHOW TABLES",
    "SHOW TABLES FROM db NOT LIKE 'a%' LIMIT 10 FORMAT JSON",
    "SHOW DATABASES ILIKE 'x'",
    "SHOW CREATE TABLE db.t",
    "DESC t",
    "DESCRIBE TABLE db.t FORMAT TSV",
    "EXISTS t",
    "EXISTS DATABASE db",
    "USE db",
    "SET max_threads = 8, s = 'x', f = -1.5, arr = [1, 2], tup = (1, 'a'), one = (1)",
    "SYSTEM FLUSH LOGS",
    "SYSTEM STOP MERGES db.t",
    "KILL QUERY WHERE query_id = 'x' SYNC",
};

TEST(FormatTest, CorpusRoundTripsToAFixedPoint) {
  for (const char* sql : kCorpus) {
    auto first = ParseStatement(sql);
    ASSERT_TRUE(first.ok()) << sql << "\n" << first.status().ToString();
    std::string once = FormatStatement(**first);
    auto second = ParseStatement(once);
    ASSERT_TRUE(second.ok()) << sql << "\n=> " << once << "\n" << second.status().ToString();
    EXPECT_EQ(FormatStatement(**second), once) << sql;
    EXPECT_EQ((*second)->kind, (*first)->kind);
  }
  EXPECT_GE(std::size(kCorpus), 60u);
}

TEST(FormatTest, ShowCreateTableOfTheGuideTables) {
  EXPECT_EQ(FormatSql("CREATE TABLE entityMetricEvents (\n"
                      "  entityType LowCardinality(String),\n"
                      "  entityId   Int32,\n"
                      "  createdAt  DateTime64(3)\n"
                      ") ENGINE = MergeTree()\n"
                      "ORDER BY (entityType, entityId, createdAt);"),
            "CREATE TABLE entityMetricEvents\n"
            "(\n"
            "    `entityType` LowCardinality(String),\n"
            "    `entityId` Int32,\n"
            "    `createdAt` DateTime64(3)\n"
            ")\n"
            "ENGINE = MergeTree\n"
            "ORDER BY (entityType, entityId, createdAt)");
  EXPECT_EQ(FormatSql("CREATE TABLE my_feature_events (\n"
                      "  metadata String,  -- JSON for flexible data\n"
                      "  created_at DateTime DEFAULT now()\n"
                      ") ENGINE = MergeTree()\n"
                      "PARTITION BY toYYYYMM(created_at)\n"
                      "ORDER BY (feature_id, created_at)\n"
                      "TTL created_at + INTERVAL 90 DAY;  -- Auto-cleanup old data"),
            "CREATE TABLE my_feature_events\n"
            "(\n"
            "    `metadata` String,\n"
            "    `created_at` DateTime DEFAULT now()\n"
            ")\n"
            "ENGINE = MergeTree\n"
            "PARTITION BY toYYYYMM(created_at)\n"
            "ORDER BY (feature_id, created_at)\n"
            "TTL created_at + INTERVAL 90 DAY");
  EXPECT_EQ(FormatSql("CREATE TABLE my_events_buffer AS my_events\n"
                      "ENGINE = Buffer(\n"
                      "  default,        -- database\n"
                      "  my_events,      -- destination table\n"
                      "  16, 10, 100, 10000, 1000000, 10000000, 100000000)"),
            "CREATE TABLE my_events_buffer AS my_events\n"
            "ENGINE = Buffer(default, my_events, 16, 10, 100, 10000, 1000000, 10000000, "
            "100000000)");
}

TEST(FormatTest, CreateTableKeepsEveryField) {
  EXPECT_EQ(FormatSql("create table if not exists db.t (a Int32 NULL, b String default 'x' comment "
                      "'c' codec(ZSTD(1), LZ4) ttl d + interval 1 day, c UInt8 EPHEMERAL, "
                      "primary key a) engine = ReplacingMergeTree(ver) partition by toYYYYMM(d) "
                      "order by (a, b) sample by a ttl d + interval 1 month where a = 1 settings "
                      "index_granularity = 8192 comment 'events'"),
            "CREATE TABLE IF NOT EXISTS db.t\n"
            "(\n"
            "    `a` Nullable(Int32),\n"
            "    `b` String DEFAULT 'x' COMMENT 'c' CODEC(ZSTD(1), LZ4) TTL d + INTERVAL 1 DAY,\n"
            "    `c` UInt8 EPHEMERAL\n"
            ")\n"
            "ENGINE = ReplacingMergeTree(ver)\n"
            "PARTITION BY toYYYYMM(d)\n"
            "PRIMARY KEY a\n"
            "ORDER BY (a, b)\n"
            "SAMPLE BY a\n"
            "TTL d + INTERVAL 1 MONTH WHERE a = 1\n"
            "SETTINGS index_granularity = 8192\n"
            "COMMENT 'events'");
}

TEST(FormatTest, GuideQueriesFormatOnOneLine) {
  EXPECT_EQ(FormatSql("SELECT\n  entityId,\n  countIf(metricType = 'View') as views\n"
                      "FROM entityMetricEvents\nWHERE entityType = 'Model'\n"
                      "  AND createdAt > now() - INTERVAL 7 DAY\nGROUP BY entityId\n"
                      "ORDER BY views DESC\nLIMIT 100"),
            "SELECT entityId, countIf(metricType = 'View') AS views FROM entityMetricEvents "
            "WHERE entityType = 'Model' AND createdAt > now() - INTERVAL 7 DAY GROUP BY "
            "entityId ORDER BY views DESC LIMIT 100");
  EXPECT_EQ(FormatSql("SELECT toDate(createdAt) as date, count() as events FROM e WHERE "
                      "entityId = {modelId:UInt32} GROUP BY date ORDER BY date"),
            "SELECT toDate(createdAt) AS date, count() AS events FROM e WHERE entityId = "
            "{modelId:UInt32} GROUP BY date ORDER BY date");
}

TEST(FormatTest, InsertPrintsOnlyTheHeader) {
  EXPECT_EQ(FormatSql("insert into t format JSONEachRow\n{\"a\":1}"),
            "INSERT INTO t FORMAT JSONEachRow");
  EXPECT_EQ(FormatSql("INSERT INTO t (a,b) VALUES (1,2)"), "INSERT INTO t (a, b) VALUES");
}

// ---------------------------------------------------------------------------------------------
// Expressions

TEST(FormatTest, OperatorsPrintInfixWithMinimalParentheses) {
  EXPECT_EQ(FormatE("a+b*c"), "a + b * c");
  EXPECT_EQ(FormatE("(a+b)*c"), "(a + b) * c");
  EXPECT_EQ(FormatE("a-(b-c)"), "a - (b - c)");
  EXPECT_EQ(FormatE("(a-b)-c"), "a - b - c");
  EXPECT_EQ(FormatE("a AND (b OR c)"), "a AND (b OR c)");
  EXPECT_EQ(FormatE("(a AND b) OR c"), "a AND b OR c");
  EXPECT_EQ(FormatE("NOT (a = b)"), "NOT a = b");
  EXPECT_EQ(FormatE("(NOT a) = b"), "(NOT a) = b");
  EXPECT_EQ(FormatE("a = (b = c)"), "a = (b = c)");
  EXPECT_EQ(FormatE("x BETWEEN 1 AND 2"), "x >= 1 AND x <= 2");
  EXPECT_EQ(FormatE("a ? b : c"), "if(a, b, c)");
  EXPECT_EQ(FormatE("x IN (1)"), "x IN (1)");
  EXPECT_EQ(FormatE("x NOT IN (SELECT 1)"), "x NOT IN (SELECT 1)");
  EXPECT_EQ(FormatE("x IS NOT NULL"), "x IS NOT NULL");
  EXPECT_EQ(FormatE("arr[i + 1]"), "arr[i + 1]");
  EXPECT_EQ(FormatE("(a + b)[1]"), "(a + b)[1]");
  EXPECT_EQ(FormatE("(a, b)"), "(a, b)");
  EXPECT_EQ(FormatE("[a, 1]"), "[a, 1]");
  EXPECT_EQ(FormatE("x -> x + 1"), "x -> x + 1");
  EXPECT_EQ(FormatE("(x, y) -> x"), "(x, y) -> x");
}

TEST(FormatTest, NegativeNumbersAndNegation) {
  EXPECT_EQ(FormatE("-5"), "-5");
  EXPECT_EQ(FormatE("-(5)"), "-(5)");
  EXPECT_EQ(FormatE("-(-5)"), "-(-5)");
  EXPECT_EQ(FormatE("- -x"), "-(-x)");
  EXPECT_EQ(FormatE("a - -5"), "a - -5");
  EXPECT_EQ(FormatE("(-5)[1]"), "(-5)[1]");
  EXPECT_EQ(FormatE("-x[1]"), "-x[1]");
  EXPECT_EQ(FormatE("-(a + b)"), "-(a + b)");
}

TEST(FormatTest, IntervalsPrintAsIntervals) {
  EXPECT_EQ(FormatE("createdAt + INTERVAL 90 DAY"), "createdAt + INTERVAL 90 DAY");
  EXPECT_EQ(FormatE("toIntervalDay(90)"), "INTERVAL 90 DAY");
  EXPECT_EQ(FormatE("INTERVAL '1 week'"), "INTERVAL 1 WEEK");
  EXPECT_EQ(FormatE("INTERVAL (a + 1) HOUR"), "INTERVAL (a + 1) HOUR");
  EXPECT_EQ(FormatE("toIntervalDay(NULL)"), "INTERVAL (NULL) DAY");
}

TEST(FormatTest, LiteralsPrintAsClickHouseDoes) {
  EXPECT_EQ(FormatE("1.0"), "1.");
  EXPECT_EQ(FormatE("1.5"), "1.5");
  EXPECT_EQ(FormatE("1e3"), "1000.");
  EXPECT_EQ(FormatE("0xFF"), "255");
  EXPECT_EQ(FormatE("-inf"), "-inf");
  EXPECT_EQ(FormatE("NaN"), "nan");
  EXPECT_EQ(FormatE("TRUE"), "true");
  EXPECT_EQ(FormatE("null"), "NULL");
  EXPECT_EQ(FormatE("'it''s'"), "'it\\'s'");
  EXPECT_EQ(FormatE("'a\nb'"), "'a\\nb'");
  EXPECT_EQ(FormatE("'\\x01'"), "'\\x01'");
}

TEST(FormatTest, IdentifiersAreQuotedOnlyWhenNeeded) {
  EXPECT_EQ(FormatE("createdAt"), "createdAt");
  EXPECT_EQ(FormatE("`my col`"), "`my col`");
  EXPECT_EQ(FormatE("`select`"), "`select`");
  EXPECT_EQ(FormatE("`NULL`"), "`NULL`");
  EXPECT_EQ(FormatE("`interval`"), "`interval`");
  EXPECT_EQ(FormatE("\"Mixed\""), "Mixed");
  EXPECT_EQ(FormatE("`a``b`"), "`a\\`b`");
  EXPECT_EQ(FormatE("db.`t`.c"), "db.t.c");
  EXPECT_EQ(FormatE("default"), "default");
  EXPECT_EQ(FormatE("x AS `from`"), "x AS `from`");
  EXPECT_EQ(FormatE("`select`(1)"), "`select`(1)");
}

TEST(FormatTest, AliasesAreKeptAndParenthesizedInsideOperators) {
  EXPECT_EQ(FormatE("count() AS events"), "count() AS events");
  EXPECT_EQ(FormatE("(a AS b) + 1"), "(a AS b) + 1");
  EXPECT_EQ(FormatE("f(a AS b)"), "f(a AS b)");
  EXPECT_EQ(FormatE("CAST((x AS y), 'Int8')"), "CAST((x AS y), 'Int8')");
}

// ---------------------------------------------------------------------------------------------
// Column names

TEST(FormatTest, ColumnNamesFollowClickHouse) {
  EXPECT_EQ(Name("countIf(metricType = 'View')"), "countIf(equals(metricType, 'View'))");
  EXPECT_EQ(Name("count()"), "count()");
  EXPECT_EQ(Name("count(*)"), "count()");
  EXPECT_EQ(Name("toDate(createdAt)"), "toDate(createdAt)");
  EXPECT_EQ(Name("a + 1"), "plus(a, 1)");
  EXPECT_EQ(Name("now() - INTERVAL 7 DAY"), "minus(now(), toIntervalDay(7))");
  EXPECT_EQ(Name("1"), "1");
  EXPECT_EQ(Name("-1"), "-1");
  EXPECT_EQ(Name("1.5"), "1.5");
  EXPECT_EQ(Name("'abc'"), "'abc'");
  EXPECT_EQ(Name("NULL"), "NULL");
  EXPECT_EQ(Name("true"), "true");
  EXPECT_EQ(Name("t.col"), "t.col");
  EXPECT_EQ(Name("`my col`"), "my col");
  EXPECT_EQ(Name("*"), "*");
  EXPECT_EQ(Name("[1, 2]"), "[1, 2]");
  EXPECT_EQ(Name("(1, 'a')"), "(1, 'a')");
  EXPECT_EQ(Name("[x]"), "array(x)");
  EXPECT_EQ(Name("count(DISTINCT x)"), "countDistinct(x)");
  EXPECT_EQ(Name("quantile(0.5)(x)"), "quantile(0.5)(x)");
  EXPECT_EQ(Name("x -> x"), "lambda(tuple(x), x)");
  EXPECT_EQ(Name("sum(x) AS s"), "sum(x)");  // the alias is the caller's business
  EXPECT_EQ(Name("CAST(x AS UInt8)"), "CAST(x, 'UInt8')");
  EXPECT_EQ(Name("{id:UInt32}"), "{id:UInt32}");
}

// ---------------------------------------------------------------------------------------------
// Random expressions: Format must print exactly the tree it was given.

class RandomExprs {
 public:
  explicit RandomExprs(uint32_t seed) : rng_(seed) {}

  ExprPtr Gen(int depth) {
    ExprPtr e = depth <= 0 || Chance(25) ? Leaf() : Node(depth - 1);
    if (Chance(8) && e->kind != ExprKind::kLambda) e->alias = "al" + std::to_string(Pick(9));
    return e;
  }

 private:
  bool Chance(int percent) { return std::uniform_int_distribution<int>(0, 99)(rng_) < percent; }
  size_t Pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }

  ExprPtr Leaf() {
    switch (Pick(13)) {
      case 0:
        return MakeIdentifier({std::vector<std::string>{"a", "b", "x"}[Pick(3)]}, 0);
      case 1:
        return MakeIdentifier({"t", "col"}, 0);
      case 2: {
        static const char* kOdd[] = {"my col", "select", "interval", "default", "NULL",
                                     "9x",     "final",  "not",      "end",     "format",
                                     "limit",  "in",     "é"};
        return MakeIdentifier({kOdd[Pick(std::size(kOdd))]}, 0);
      }
      case 3:
        return MakeUInt64Literal(Pick(1000), 0);
      case 4:
        return MakeInt64Literal(-1 - static_cast<int64_t>(Pick(1000)), 0);
      case 5: {
        static const double kFloats[] = {1.5, -2.25, 0.0, -0.0, 1e20, 1e-7, 3.0};
        return MakeFloat64Literal(kFloats[Pick(std::size(kFloats))], 0);
      }
      case 6: {
        static const char* kStrings[] = {"x", "it's", "back\\slash", "new\nline", "", "%_"};
        return MakeStringLiteral(kStrings[Pick(std::size(kStrings))], 0);
      }
      case 7:
        return MakeNullLiteral(0);
      case 8:
        return MakeBoolLiteral(Chance(50), 0);
      case 9: {
        auto p = std::make_unique<Expr>();
        p->kind = ExprKind::kParameter;
        p->name = "p";
        p->type = "Array(UInt8)";
        return p;
      }
      case 10: {
        auto r = ParseExpression("(SELECT 1)");
        return std::move(r).value();
      }
      case 11: {
        auto star = std::make_unique<Expr>();
        star->kind = ExprKind::kAsterisk;
        if (Chance(50)) star->parts = {"t"};
        return star;
      }
      default:
        return MakeFunction("now", {}, 0);
    }
  }

  ExprList Args(size_t n, int depth) {
    ExprList out;
    for (size_t i = 0; i < n; ++i) out.push_back(Gen(depth));
    return out;
  }

  ExprPtr Node(int depth) {
    static const char* kBinary[] = {
        "plus",   "minus",     "multiply", "divide",       "modulo",      "concat",
        "equals", "notEquals", "less",     "lessOrEquals", "greater",     "greaterOrEquals",
        "like",   "notLike",   "ilike",    "notILike",     "arrayElement"};
    switch (Pick(16)) {
      case 0:
      case 1:
      case 2:
        return MakeFunction(kBinary[Pick(std::size(kBinary))], Args(2, depth), 0);
      case 3:
        return MakeFunction(Chance(50) ? "and" : "or", Args(1 + Pick(3), depth), 0);
      case 4: {
        static const char* kUnary[] = {"not", "negate", "isNull", "isNotNull"};
        return MakeFunction(kUnary[Pick(4)], Args(Chance(90) ? 1 : 2, depth), 0);
      }
      case 5: {
        ExprList args = Args(1, depth);
        if (Chance(60)) {
          args.push_back(MakeFunction("tuple", Args(Pick(3), depth), 0));
        } else {
          args.push_back(Gen(depth));
        }
        return MakeFunction(Chance(50) ? "in" : "notIn", std::move(args), 0);
      }
      case 6: {
        ExprList args = Args(1, depth);
        args.push_back(MakeUInt64Literal(1 + Pick(3), 0));
        return MakeFunction("tupleElement", std::move(args), 0);
      }
      case 7:
        return MakeFunction(Chance(50) ? "array" : "tuple", Args(Pick(4), depth), 0);
      case 8:
        return MakeFunction(Chance(50) ? "toIntervalDay" : "toIntervalHour", Args(1, depth), 0);
      case 9:
        return MakeFunction("multiIf", Args(3 + 2 * Pick(2), depth), 0);
      case 10:
        return MakeFunction("caseWithExpression", Args(4 + 2 * Pick(2), depth), 0);
      case 11: {
        static const char* kNames[] = {"if",      "f",      "concat", "and",
                                       "CAST",    "select", "cast",   "toIntervalDay",
                                       "extract", "date",   "left"};
        return MakeFunction(kNames[Pick(std::size(kNames))], Args(Pick(4), depth), 0);
      }
      case 12: {
        auto f = MakeFunction("quantile", Args(1 + Pick(2), depth), 0);
        f->params = Args(1, depth);
        f->has_params = true;
        f->distinct = Chance(30);
        return f;
      }
      case 13: {
        auto lambda = std::make_unique<Expr>();
        lambda->kind = ExprKind::kLambda;
        lambda->lambda_params =
            Chance(50) ? std::vector<std::string>{"x"} : std::vector<std::string>{"x", "y"};
        lambda->args.push_back(Gen(depth));
        ExprList args;
        args.push_back(std::move(lambda));
        args.push_back(Gen(depth));
        return MakeFunction("arrayMap", std::move(args), 0);
      }
      case 14: {
        auto f = MakeFunction("count", Args(1, depth), 0);
        f->distinct = true;
        return f;
      }
      default:
        return MakeFunction("CAST", Args(1, depth), 0);
    }
  }

  std::mt19937 rng_;
};

TEST(FormatTest, RandomExpressionTreesSurviveFormatting) {
  RandomExprs gen(12345);
  for (int i = 0; i < 20000; ++i) {
    ExprPtr e = gen.Gen(5);
    std::string text = FormatExpr(*e);
    auto parsed = ParseExpression(text);
    ASSERT_TRUE(parsed.ok()) << text << "\n" << parsed.status().ToString();
    EXPECT_EQ(ExprColumnName(**parsed), ExprColumnName(*e)) << text;
    EXPECT_EQ(FormatExpr(**parsed), text);
    if (HasFailure()) break;
  }
}

}  // namespace
}  // namespace trackhouse::sql
