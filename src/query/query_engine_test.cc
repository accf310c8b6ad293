// QueryEngine over the embedded engine on an in-memory file system: each statement's result
// in TabSeparated, compared with answers worked out by hand from the inserted rows.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "common/clock.h"
#include "common/error_codes.h"
#include "engine/engine.h"
#include "env/fault_injection_env.h"
#include "ingest/ingest.h"
#include "query/query.h"
#include "sql/parser.h"

namespace trackhouse::query {
namespace {

// 2024-01-31 00:00:00 UTC.
constexpr int64_t kNow = 1706659200ll * 1000000;

class QueryEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    clock_ = std::make_unique<ManualClock>(kNow);
    engine::EngineOptions o;
    o.data_dir = "/data";
    o.env = &env_;
    o.clock = clock_.get();
    o.merge_threads = 0;
    o.flush_check_interval_ms = 3600 * 1000;
    o.ttl_check_interval_ms = 3600 * 1000 * 24;
    auto r = engine::OpenEngine(o);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    storage_ = std::move(r).value();
    QueryEngineOptions qo;
    qo.max_threads = 2;
    engine_ = std::make_unique<QueryEngine>(storage_.get(), qo);
  }
  void TearDown() override {
    engine_.reset();
    if (storage_) {
      EXPECT_TRUE(storage_->Stop().ok());
    }
  }

  // Runs one statement; INSERT with inline data goes through the insert path as the server
  // does. Returns the body, or "ERROR <code>: <message>".
  std::string Run(const std::string& sql,
                  std::vector<std::pair<std::string, std::string>> settings = {}) {
    auto parsed = sql::ParseStatement(sql);
    if (!parsed.ok()) return "ERROR " + std::to_string(parsed.status().clickhouse_code());
    const sql::Statement& stmt = **parsed;
    if (const auto* ins = stmt.As<sql::InsertStmt>();
        ins != nullptr && ins->source != sql::InsertStmt::Source::kSelect) {
      auto stream = ingest::InsertStream::Open(storage_.get(), "default", *ins, ins->data_format,
                                               {}, kNow);
      if (!stream.ok()) return "ERROR " + stream.status().ToString();
      Status st = (*stream)->Feed(std::string_view(sql).substr(ins->data_offset,
                                                               ins->data_end - ins->data_offset));
      if (st.ok()) st = (*stream)->Finish();
      return st.ok() ? "" : "ERROR " + st.ToString();
    }
    QueryRequest req;
    req.statement = &stmt;
    req.sql = sql;
    req.now_micros = kNow;
    req.settings = std::move(settings);
    auto r = engine_->Execute(req);
    if (!r.ok()) {
      return "ERROR " + std::to_string(r.status().clickhouse_code()) + ": " +
             r.status().message();
    }
    return r->body;
  }

  void Exec(const std::string& sql) {
    std::string out = Run(sql);
    ASSERT_EQ(out.rfind("ERROR", 0), std::string::npos) << sql << "\n" << out;
  }

  // The guide's table with 12 known events.
  void LoadEvents() {
    Exec(R"(CREATE TABLE entityMetricEvents (
  entityType LowCardinality(String),
  entityId   Int32,
  userId     Int32,
  metricType LowCardinality(String),
  metricValue Int32,
  createdAt  DateTime64(3)
) ENGINE = MergeTree()
ORDER BY (entityType, entityId, createdAt))");
    Exec(R"(INSERT INTO entityMetricEvents FORMAT JSONEachRow
{"entityType":"Model","entityId":1,"userId":10,"metricType":"View","metricValue":1,"createdAt":"2024-01-30 10:00:00.000"}
{"entityType":"Model","entityId":1,"userId":11,"metricType":"View","metricValue":1,"createdAt":"2024-01-30 11:00:00.000"}
{"entityType":"Model","entityId":1,"userId":10,"metricType":"Download","metricValue":1,"createdAt":"2024-01-29 09:00:00.000"}
{"entityType":"Model","entityId":2,"userId":12,"metricType":"View","metricValue":1,"createdAt":"2024-01-30 12:00:00.000"}
{"entityType":"Model","entityId":2,"userId":12,"metricType":"View","metricValue":1,"createdAt":"2024-01-28 12:00:00.000"}
{"entityType":"Model","entityId":2,"userId":13,"metricType":"View","metricValue":1,"createdAt":"2024-01-27 12:00:00.000"}
{"entityType":"Model","entityId":2,"userId":13,"metricType":"Download","metricValue":1,"createdAt":"2024-01-27 13:00:00.000"}
{"entityType":"Model","entityId":2,"userId":14,"metricType":"Download","metricValue":1,"createdAt":"2024-01-26 13:00:00.000"}
{"entityType":"Model","entityId":3,"userId":10,"metricType":"View","metricValue":1,"createdAt":"2024-01-01 00:00:00.000"}
{"entityType":"Image","entityId":1,"userId":10,"metricType":"View","metricValue":1,"createdAt":"2024-01-30 00:00:00.000"}
{"entityType":"Image","entityId":1,"userId":15,"metricType":"Like","metricValue":1,"createdAt":"2024-01-30 00:30:00.000"}
{"entityType":"Model","entityId":1,"userId":16,"metricType":"Like","metricValue":1,"createdAt":"2024-01-30 01:00:00.000"}
)");
  }

  env::FaultInjectionEnv env_;
  std::unique_ptr<ManualClock> clock_;
  std::unique_ptr<storage::Storage> storage_;
  std::unique_ptr<QueryEngine> engine_;
};

TEST_F(QueryEngineTest, GuideTopEntitiesQueryCountsByTypeOverTheLastSevenDays) {
  LoadEvents();
  // Within 7 days of 2024-01-31: Model 1 has 2 views + 1 download, Model 2 has 3 views
  // + 2 downloads (all within), Model 3's view is 30 days old.
  EXPECT_EQ(Run(R"(
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
  )"),
            "2\t3\t2\n1\t2\t1\n");
}

TEST_F(QueryEngineTest, GuideDailySeriesBindsTheTypedParameter) {
  LoadEvents();
  std::string q = R"(
    SELECT
      toDate(createdAt) as date,
      count() as events
    FROM entityMetricEvents
    WHERE entityType = 'Model' AND entityId = {modelId:UInt32}
    GROUP BY date
    ORDER BY date
  )";
  EXPECT_EQ(Run(q, {{"param_modelId", "2"}}),
            "2024-01-26\t1\n2024-01-27\t2\n2024-01-28\t1\n2024-01-30\t1\n");
  // The value is typed, never spliced into the SQL.
  EXPECT_EQ(Run(q, {{"param_modelId", "2 OR 1 = 1"}}).rfind("ERROR 457", 0), 0u);
  EXPECT_EQ(Run(q).rfind("ERROR 456", 0), 0u);  // UNKNOWN_QUERY_PARAMETER
  // Values arrive escaped as in TabSeparated, as ClickHouse clients send them.
  EXPECT_EQ(Run("SELECT length({s:String}), {s:String} = 'it\\'s'",
                {{"param_s", "it\\'s"}}),
            "4\t1\n");
  EXPECT_EQ(Run("SELECT length({s:String})", {{"param_s", "a\\nb\\\\"}}), "4\n");
}

TEST_F(QueryEngineTest, AggregatesWithoutGroupByAndOverEmptyInput) {
  LoadEvents();
  EXPECT_EQ(Run("SELECT count(), sum(metricValue), min(entityId), max(entityId), "
                "uniqExact(userId) FROM entityMetricEvents"),
            "12\t12\t1\t3\t7\n");
  EXPECT_EQ(Run("SELECT count(), sum(entityId) FROM entityMetricEvents WHERE entityId > 100"),
            "0\t0\n");
  EXPECT_EQ(Run("SELECT entityId, count() FROM entityMetricEvents WHERE entityId > 100 "
                "GROUP BY entityId"),
            "");
  EXPECT_EQ(Run("SELECT count(DISTINCT entityType) FROM entityMetricEvents"), "2\n");
}

TEST_F(QueryEngineTest, GroupByHavingOrderByLimitAndTotals) {
  LoadEvents();
  EXPECT_EQ(Run("SELECT metricType, count() AS c FROM entityMetricEvents GROUP BY metricType "
                "HAVING c > 2 ORDER BY c DESC"),
            "View\t7\nDownload\t3\n");
  EXPECT_EQ(Run("SELECT metricType, count() AS c FROM entityMetricEvents GROUP BY metricType "
                "WITH TOTALS ORDER BY metricType"),
            "Download\t3\nLike\t2\nView\t7\n\n\t12\n");
  EXPECT_EQ(Run("SELECT entityType, entityId, count() FROM entityMetricEvents "
                "GROUP BY entityType, entityId ORDER BY entityType, entityId LIMIT 2 OFFSET 1"),
            "Model\t1\t4\nModel\t2\t5\n");
  // Positional GROUP BY / ORDER BY.
  EXPECT_EQ(Run("SELECT metricType, count() FROM entityMetricEvents GROUP BY 1 ORDER BY 2, 1"),
            "Like\t2\nDownload\t3\nView\t7\n");
}

TEST_F(QueryEngineTest, DistinctLimitByAndAliasesUsedAcrossClauses) {
  LoadEvents();
  EXPECT_EQ(Run("SELECT DISTINCT entityType FROM entityMetricEvents ORDER BY entityType"),
            "Image\nModel\n");
  // Newest event per entity (LIMIT 1 BY).
  EXPECT_EQ(Run("SELECT entityId, metricType FROM entityMetricEvents WHERE entityType = 'Model' "
                "ORDER BY entityId, createdAt DESC LIMIT 1 BY entityId"),
            "1\tView\n2\tView\n3\tView\n");
  EXPECT_EQ(Run("SELECT entityId * 10 AS x, x + 1 AS y FROM entityMetricEvents "
                "WHERE y > 25 ORDER BY x DESC LIMIT 1"),
            "30\t31\n");
}

TEST_F(QueryEngineTest, SubqueriesInFromAndIn) {
  LoadEvents();
  EXPECT_EQ(Run("SELECT count() FROM (SELECT entityId FROM entityMetricEvents "
                "WHERE metricType = 'Download')"),
            "3\n");
  EXPECT_EQ(Run("SELECT DISTINCT userId FROM entityMetricEvents WHERE entityId IN "
                "(SELECT entityId FROM entityMetricEvents WHERE metricType = 'Like' AND "
                "entityType = 'Image') AND entityType = 'Image' ORDER BY userId"),
            "10\n15\n");
  EXPECT_EQ(Run("SELECT count() FROM entityMetricEvents WHERE userId NOT IN (SELECT userId "
                "FROM entityMetricEvents WHERE metricType = 'View')"),
            "3\n");
  EXPECT_EQ(Run("SELECT (SELECT max(entityId) FROM entityMetricEvents) + 1"), "4\n");
}

TEST_F(QueryEngineTest, InsertSelectFillsDefaultsAndConverts) {
  LoadEvents();
  Exec("CREATE TABLE daily (day Date, entityId UInt32, views UInt64, note String DEFAULT 'x') "
       "ENGINE = SummingMergeTree ORDER BY (day, entityId)");
  Exec("INSERT INTO daily (day, entityId, views) SELECT toDate(createdAt), entityId, count() "
       "FROM entityMetricEvents WHERE metricType = 'View' AND entityType = 'Model' "
       "GROUP BY 1, 2");
  EXPECT_EQ(Run("SELECT day, entityId, views, note FROM daily ORDER BY day, entityId"),
            "2024-01-01\t3\t1\tx\n2024-01-27\t2\t1\tx\n2024-01-28\t2\t1\tx\n"
            "2024-01-30\t1\t2\tx\n2024-01-30\t2\t1\tx\n");
  // A second copy, then FINAL sums the duplicates at read time.
  Exec("INSERT INTO daily SELECT day, entityId, views, note FROM daily WHERE entityId = 1");
  EXPECT_EQ(Run("SELECT day, entityId, views FROM daily FINAL WHERE entityId = 1"),
            "2024-01-30\t1\t4\n");
  EXPECT_EQ(Run("SELECT * FROM entityMetricEvents FINAL").rfind("ERROR 181", 0), 0u);
}

TEST_F(QueryEngineTest, ShowDescribeExistsAndSystemTables) {
  LoadEvents();
  EXPECT_EQ(Run("SHOW TABLES"), "entityMetricEvents\n");
  EXPECT_EQ(Run("SHOW DATABASES"), "default\nsystem\n");
  EXPECT_EQ(Run("EXISTS TABLE entityMetricEvents"), "1\n");
  EXPECT_EQ(Run("EXISTS TABLE nope"), "0\n");
  EXPECT_EQ(Run("DESCRIBE TABLE entityMetricEvents"),
            "entityType\tLowCardinality(String)\t\t\t\t\t\n"
            "entityId\tInt32\t\t\t\t\t\n"
            "userId\tInt32\t\t\t\t\t\n"
            "metricType\tLowCardinality(String)\t\t\t\t\t\n"
            "metricValue\tInt32\t\t\t\t\t\n"
            "createdAt\tDateTime64(3)\t\t\t\t\t\n");
  EXPECT_EQ(Run("SELECT name, type FROM system.columns WHERE table = 'entityMetricEvents' "
                "AND is_in_sorting_key ORDER BY position"),
            "entityType\tLowCardinality(String)\nentityId\tInt32\ncreatedAt\tDateTime64(3)\n");
  EXPECT_EQ(Run("SELECT name, engine, sorting_key FROM system.tables WHERE database = "
                "currentDatabase()"),
            "entityMetricEvents\tMergeTree\tentityType, entityId, createdAt\n");
  ASSERT_TRUE(storage_->FlushAll().ok());
  EXPECT_EQ(Run("SELECT sum(rows), count() > 0 FROM system.parts WHERE table = "
                "'entityMetricEvents' AND active"),
            "12\t1\n");
  EXPECT_EQ(Run("SHOW CREATE TABLE entityMetricEvents").rfind("CREATE TABLE", 0), 0u);
}

TEST_F(QueryEngineTest, WithFillAddsTheMissingDays) {
  LoadEvents();
  EXPECT_EQ(Run("SELECT toDate(createdAt) AS d, count() FROM entityMetricEvents "
                "WHERE entityId = 2 AND entityType = 'Model' GROUP BY d "
                "ORDER BY d WITH FILL FROM toDate('2024-01-25') TO toDate('2024-01-31')"),
            "2024-01-25\t0\n2024-01-26\t1\n2024-01-27\t2\n2024-01-28\t1\n2024-01-29\t0\n"
            "2024-01-30\t1\n");
}

TEST_F(QueryEngineTest, LimitsStopQueriesWithClearErrors) {
  std::string r = Run("SELECT number FROM numbers(1000)", {{"max_result_rows", "10"}});
  EXPECT_EQ(r.rfind("ERROR 396", 0), 0u) << r;
  EXPECT_EQ(Run("SELECT count() FROM numbers(1000)", {{"max_result_rows", "10"}}), "1000\n");
  r = Run("SELECT number % 100000 AS k, groupArray(number) FROM numbers(2000000) GROUP BY k",
          {{"max_memory_usage", "1000000"}});
  EXPECT_EQ(r.rfind("ERROR 241", 0), 0u) << r;
  r = Run("SELECT count() FROM numbers(10000000000) WHERE number % 7 = 3",
          {{"max_execution_time", "0.2"}});
  EXPECT_EQ(r.rfind("ERROR 159", 0), 0u) << r;
  r = Run("SELECT number FROM numbers(100)",
          {{"max_result_rows", "10"}, {"result_overflow_mode", "break"}});
  EXPECT_EQ(std::count(r.begin(), r.end(), '\n'), 10) << r;
}

TEST_F(QueryEngineTest, BadQueriesGetClickHouseErrors) {
  LoadEvents();
  EXPECT_EQ(Run("SELECT nope FROM entityMetricEvents").rfind("ERROR 47", 0), 0u);
  EXPECT_EQ(Run("SELECT entityId FROM missing").rfind("ERROR 60", 0), 0u);
  EXPECT_EQ(Run("SELECT foo(entityId) FROM entityMetricEvents").rfind("ERROR 46", 0), 0u);
  EXPECT_EQ(Run("SELECT entityId, count() FROM entityMetricEvents GROUP BY metricType")
                .rfind("ERROR 215", 0),
            0u);
  EXPECT_EQ(Run("SELECT count() FROM entityMetricEvents WHERE count() > 1").rfind("ERROR 184", 0),
            0u);
  EXPECT_EQ(Run("SELECT 1 FORMAT Nope").rfind("ERROR 73", 0), 0u);
}

TEST_F(QueryEngineTest, UnionAllAndNumbers) {
  EXPECT_EQ(Run("SELECT number FROM numbers(3) UNION ALL SELECT number + 10 FROM numbers(2)"),
            "0\n1\n2\n10\n11\n");
  EXPECT_EQ(Run("SELECT sum(number), avg(number) FROM numbers(1000000)"),
            "499999500000\t499999.5\n");
}

}  // namespace
}  // namespace trackhouse::query
