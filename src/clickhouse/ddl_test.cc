#include "clickhouse/ddl.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "clickhouse/test_guide.h"
#include "clickhouse/test_server.h"
#include "clickhouse/ttl.h"
#include "sql/parser.h"

namespace trackhouse::clickhouse {
namespace {

const Capabilities& Old() {
  static const Capabilities caps = Capabilities::ForVersion({18, 16, 1, 0});
  return caps;
}

const Capabilities& Current() {
  static const Capabilities caps = Capabilities::ForVersion({23, 8, 2, 7});
  return caps;
}

Result<DdlPlan> Plan(const Capabilities& caps, std::string_view text, std::string cluster = "",
                     bool has_local = false, bool strip_low_cardinality = false) {
  auto stmt = sql::ParseStatement(text);
  if (!stmt.ok()) return stmt.status();
  return PlanDdl(caps, cluster, **stmt, text, "default", has_local, strip_low_cardinality);
}

TEST(DdlPlanTest, CurrentServersGetTheStatementAsWritten) {
  for (const char* text : {kEntityMetricEvents, kFeatureEvents}) {
    auto plan = Plan(Current(), text);
    ASSERT_TRUE(plan.ok()) << plan.status().ToString();
    ASSERT_EQ(plan->statements.size(), 1u);
    EXPECT_EQ(plan->statements[0], text);
    EXPECT_TRUE(plan->adaptations.empty());
    EXPECT_TRUE(plan->ttl.empty());
  }
}

TEST(DdlPlanTest, DateTime64BecomesDateTimeBefore20_1) {
  auto plan = Plan(Old(), kEntityMetricEvents);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->statements.size(), 1u);
  const std::string& sql = plan->statements[0];
  EXPECT_NE(sql.find("`createdAt` DateTime\n"), std::string::npos) << sql;
  EXPECT_EQ(sql.find("DateTime64"), std::string::npos) << sql;
  EXPECT_NE(sql.find("LowCardinality(String)"), std::string::npos) << sql;
  ASSERT_EQ(plan->adaptations.size(), 1u);
  EXPECT_NE(plan->adaptations[0].find("createdAt"), std::string::npos);
  EXPECT_EQ(plan->table, "default.entityMetricEvents");

  auto nested = Plan(Old(),
                     "CREATE TABLE t (a Nullable(DateTime64(6, 'Europe/Berlin')), b "
                     "Array(DateTime64(3)), c Enum8('DateTime64' = 1), d DateTime64(3) DEFAULT "
                     "now64(3), e DateTime DEFAULT toDateTime64(now(), 3, 'UTC')) ENGINE = "
                     "MergeTree ORDER BY tuple()");
  ASSERT_TRUE(nested.ok()) << nested.status().ToString();
  const std::string& n = nested->statements[0];
  EXPECT_NE(n.find("Nullable(DateTime('Europe/Berlin'))"), std::string::npos) << n;
  EXPECT_NE(n.find("Array(DateTime)"), std::string::npos) << n;
  EXPECT_NE(n.find("Enum8('DateTime64' = 1)"), std::string::npos) << n;
  EXPECT_NE(n.find("`d` DateTime DEFAULT now()"), std::string::npos) << n;
  EXPECT_NE(n.find("toDateTime(now(), 'UTC')"), std::string::npos) << n;
}

TEST(DdlPlanTest, TtlIsRemovedAndRecordedBefore19_6) {
  auto plan = Plan(Old(), kFeatureEvents);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->statements.size(), 1u);
  EXPECT_EQ(plan->statements[0].find("TTL"), std::string::npos) << plan->statements[0];
  ASSERT_EQ(plan->ttl.size(), 1u);
  EXPECT_EQ(plan->ttl[0].database, "default");
  EXPECT_EQ(plan->ttl[0].table, "my_feature_events");
  EXPECT_EQ(plan->ttl[0].expr, "created_at + INTERVAL 90 DAY");

  auto modify = Plan(Old(), "ALTER TABLE my_feature_events MODIFY TTL created_at + INTERVAL 30 DAY");
  ASSERT_TRUE(modify.ok()) << modify.status().ToString();
  EXPECT_TRUE(modify->statements.empty());  // nothing for the server to do
  ASSERT_EQ(modify->ttl.size(), 1u);
  EXPECT_EQ(modify->ttl[0].expr, "created_at + INTERVAL 30 DAY");

  auto remove = Plan(Old(), "ALTER TABLE my_feature_events REMOVE TTL");
  ASSERT_TRUE(remove.ok());
  EXPECT_TRUE(remove->statements.empty());
  ASSERT_EQ(remove->ttl.size(), 1u);
  EXPECT_EQ(remove->ttl[0].expr, "");

  auto several = Plan(Old(),
                      "CREATE TABLE t (d DateTime, e DateTime TTL d + INTERVAL 1 DAY) ENGINE = "
                      "MergeTree PARTITION BY toDate(d) ORDER BY d TTL d + INTERVAL 1 MONTH, e + "
                      "INTERVAL 1 YEAR");
  ASSERT_TRUE(several.ok()) << several.status().ToString();
  ASSERT_EQ(several->ttl.size(), 1u);
  EXPECT_EQ(several->ttl[0].expr, "least(d + INTERVAL 1 MONTH, e + INTERVAL 1 YEAR)");
  EXPECT_EQ(several->statements[0].find("TTL"), std::string::npos) << several->statements[0];
}

TEST(DdlPlanTest, ClusterSplitsMergeTreeTablesIntoLocalAndDistributed) {
  auto plan = Plan(Current(), kEntityMetricEvents, "two_shards");
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->statements.size(), 2u);
  EXPECT_EQ(plan->statements[0].rfind(
                "CREATE TABLE default.entityMetricEvents_local ON CLUSTER `two_shards`\n(", 0),
            0u)
      << plan->statements[0];
  EXPECT_EQ(plan->statements[1],
            "CREATE TABLE default.entityMetricEvents ON CLUSTER `two_shards` AS "
            "default.entityMetricEvents_local ENGINE = Distributed('two_shards', 'default', "
            "'entityMetricEvents_local', rand())");

  auto buffer = Plan(Current(),
                     "CREATE TABLE b AS entityMetricEvents ENGINE = Buffer(default, "
                     "entityMetricEvents, 16, 10, 100, 10000, 1000000, 10000000, 100000000)",
                     "two_shards");
  ASSERT_TRUE(buffer.ok()) << buffer.status().ToString();
  ASSERT_EQ(buffer->statements.size(), 1u);
  EXPECT_EQ(buffer->statements[0].rfind("CREATE TABLE default.b ON CLUSTER `two_shards` AS default.entityMetricEvents\n", 0),
            0u)
      << buffer->statements[0];

  auto drop = Plan(Current(), "DROP TABLE IF EXISTS entityMetricEvents", "two_shards", true);
  ASSERT_TRUE(drop.ok());
  EXPECT_EQ(drop->statements,
            (std::vector<std::string>{
                "DROP TABLE IF EXISTS default.entityMetricEvents ON CLUSTER `two_shards`",
                "DROP TABLE IF EXISTS default.entityMetricEvents_local ON CLUSTER "
                "`two_shards`"}));

  auto alter = Plan(Current(),
                    "ALTER TABLE entityMetricEvents ADD COLUMN note String, DROP PARTITION "
                    "tuple()",
                    "two_shards", true);
  ASSERT_TRUE(alter.ok()) << alter.status().ToString();
  ASSERT_EQ(alter->statements.size(), 2u);
  EXPECT_EQ(alter->statements[0],
            "ALTER TABLE default.entityMetricEvents_local ON CLUSTER `two_shards` ADD COLUMN "
            "`note` String, DROP PARTITION tuple()");
  EXPECT_EQ(alter->statements[1],
            "ALTER TABLE default.entityMetricEvents ON CLUSTER `two_shards` ADD COLUMN `note` "
            "String");

  auto optimize = Plan(Current(), "OPTIMIZE TABLE entityMetricEvents FINAL", "two_shards", true);
  ASSERT_TRUE(optimize.ok());
  EXPECT_EQ(optimize->statements,
            (std::vector<std::string>{"OPTIMIZE TABLE default.entityMetricEvents_local ON "
                                      "CLUSTER `two_shards` FINAL"}));
  auto db = Plan(Current(), "CREATE DATABASE IF NOT EXISTS metrics", "two_shards");
  ASSERT_TRUE(db.ok());
  EXPECT_EQ(db->statements,
            (std::vector<std::string>{"CREATE DATABASE IF NOT EXISTS metrics ON CLUSTER `two_shards`"}));
}

TEST(DdlPlanTest, LowCardinalityIsDroppedWhenClusterDdlCannotHaveIt) {
  auto plan = Plan(Old(),
                   "CREATE TABLE t (a LowCardinality(String), b Array(LowCardinality(String)), c "
                   "LowCardinality(Nullable(String)), d Enum8('LowCardinality(' = 1)) ENGINE = "
                   "MergeTree ORDER BY tuple()",
                   "two_shards", false, /*strip_low_cardinality=*/true);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->statements.size(), 2u);
  const std::string& local = plan->statements[0];
  EXPECT_NE(local.find("`a` String,"), std::string::npos) << local;
  EXPECT_NE(local.find("`b` Array(String),"), std::string::npos) << local;
  EXPECT_NE(local.find("`c` Nullable(String),"), std::string::npos) << local;
  EXPECT_NE(local.find("`d` Enum8('LowCardinality(' = 1)"), std::string::npos) << local;
  EXPECT_EQ(plan->adaptations.size(), 3u);
  // Without the flag the types stay.
  auto kept = Plan(Old(), "CREATE TABLE t (a LowCardinality(String)) ENGINE = MergeTree ORDER BY a",
                   "two_shards");
  ASSERT_TRUE(kept.ok());
  EXPECT_NE(kept->statements[0].find("LowCardinality(String)"), std::string::npos);
}

// Against the real 18.16: the guide's tables are created, adapted, and the TTL enforced.
class DdlServerTest : public ClickHouseSuite {
 protected:
  Status Run(Client& client, const Capabilities& caps, std::string_view text) {
    auto stmt = sql::ParseStatement(text);
    if (!stmt.ok()) return stmt.status();
    DdlContext context{&client, &caps, ""};
    return RunDdl(context, **stmt, text, "default");
  }
};

TEST_F(DdlServerTest, TheGuidesTablesAreCreatedOn18_16) {
  Client client(Options());
  auto caps = DetectCapabilities(client);
  ASSERT_TRUE(caps.ok()) << caps.status().ToString();
  ASSERT_FALSE(caps->datetime64);
  ASSERT_FALSE(caps->ttl);
  ASSERT_TRUE(Run(client, *caps, kEntityMetricEvents).ok());
  ASSERT_TRUE(Run(client, *caps, kFeatureEvents).ok());
  Status buffer = Run(client, *caps,
                      "CREATE TABLE my_feature_events_buffer AS my_feature_events ENGINE = "
                      "Buffer(default, my_feature_events, 16, 10, 100, 10000, 1000000, 10000000, "
                      "100000000)");
  ASSERT_TRUE(buffer.ok()) << buffer.ToString();

  auto columns = client.Query(
      "SELECT table, name, type FROM system.columns WHERE database = 'default' AND table IN "
      "('entityMetricEvents', 'my_feature_events') ORDER BY table, name FORMAT TabSeparated");
  ASSERT_TRUE(columns.ok()) << columns.status().ToString();
  EXPECT_EQ(*columns,
            "entityMetricEvents\tcreatedAt\tDateTime\n"
            "entityMetricEvents\tentityId\tInt32\n"
            "entityMetricEvents\tentityType\tLowCardinality(String)\n"
            "entityMetricEvents\tmetricType\tLowCardinality(String)\n"
            "entityMetricEvents\tmetricValue\tInt32\n"
            "entityMetricEvents\tuserId\tInt32\n"
            "my_feature_events\taction\tLowCardinality(String)\n"
            "my_feature_events\tcreated_at\tDateTime\n"
            "my_feature_events\tfeature_id\tUInt32\n"
            "my_feature_events\tmetadata\tString\n"
            "my_feature_events\tuser_id\tUInt32\n");
  auto recorded = client.Query(
      "SELECT database, table, argMax(ttl, version) FROM default.trackhouse_ttl GROUP BY "
      "database, table FORMAT TabSeparated");
  ASSERT_TRUE(recorded.ok()) << recorded.status().ToString();
  EXPECT_EQ(*recorded, "default\tmy_feature_events\tcreated_at + INTERVAL 90 DAY\n");

  // An ALTER adding a DateTime64 column is adapted too.
  ASSERT_TRUE(Run(client, *caps, "ALTER TABLE entityMetricEvents ADD COLUMN seenAt DateTime64(3)")
                  .ok());
  auto added = client.Query(
      "SELECT type FROM system.columns WHERE table = 'entityMetricEvents' AND name = 'seenAt'");
  ASSERT_TRUE(added.ok());
  EXPECT_EQ(*added, "DateTime\n");
  // Errors keep the server's codes.
  Status exists = Run(client, *caps, kFeatureEvents);
  EXPECT_EQ(exists.clickhouse_code(), 57) << exists.ToString();
}

TEST_F(DdlServerTest, TtlEnforcerDropsWhollyExpiredPartitions) {
  Client client(Options());
  auto caps = DetectCapabilities(client);
  ASSERT_TRUE(caps.ok());
  ASSERT_TRUE(Run(client, *caps,
                  "CREATE TABLE ttl_events (id UInt32, created_at DateTime) ENGINE = MergeTree "
                  "PARTITION BY toYYYYMM(created_at) ORDER BY id TTL created_at + INTERVAL 90 DAY")
                  .ok());
  // 2020-01 and 2020-02 (two parts): expired; this month: fresh.
  ASSERT_TRUE(client
                  .Query("INSERT INTO ttl_events VALUES (1, '2020-01-05 00:00:00'), (2, "
                         "'2020-01-20 00:00:00'), (3, '2020-02-01 00:00:00')")
                  .ok());
  ASSERT_TRUE(client.Query("INSERT INTO ttl_events SELECT 4, toDateTime('2020-02-28 00:00:00')")
                  .ok());
  ASSERT_TRUE(client.Query("INSERT INTO ttl_events SELECT 5, now()").ok());
  // A partition with one row that has not expired stays whole.
  ASSERT_TRUE(Run(client, *caps,
                  "CREATE TABLE ttl_mixed (id UInt32, created_at DateTime) ENGINE = MergeTree "
                  "PARTITION BY id % 2 ORDER BY id TTL created_at + INTERVAL 1 DAY")
                  .ok());
  ASSERT_TRUE(client
                  .Query("INSERT INTO ttl_mixed SELECT number, if(number = 3, now(), now() - "
                         "INTERVAL 2 DAY) FROM system.numbers LIMIT 4")
                  .ok());

  TtlEnforcerOptions options;
  options.client = Options();
  TtlEnforcer enforcer(options);
  auto dropped = enforcer.RunOnce();
  ASSERT_TRUE(dropped.ok()) << dropped.status().ToString();
  EXPECT_EQ(*dropped, 3u);  // 202001, 202002 and ttl_mixed's partition 0
  auto left = client.Query("SELECT id FROM ttl_events ORDER BY id");
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(*left, "5\n");
  auto mixed = client.Query("SELECT id FROM ttl_mixed ORDER BY id");
  ASSERT_TRUE(mixed.ok());
  EXPECT_EQ(*mixed, "1\n3\n");
  auto again = enforcer.RunOnce();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0u);

  // A longer TTL keeps partitions that the shorter one dropped; REMOVE TTL stops enforcement.
  ASSERT_TRUE(client.Query("INSERT INTO ttl_events SELECT 6, now() - INTERVAL 400 DAY").ok());
  ASSERT_TRUE(Run(client, *caps,
                  "ALTER TABLE ttl_events MODIFY TTL created_at + INTERVAL 1000 DAY").ok());
  EXPECT_EQ(*enforcer.RunOnce(), 0u);
  ASSERT_TRUE(Run(client, *caps, "ALTER TABLE ttl_events REMOVE TTL").ok());
  ASSERT_TRUE(Run(client, *caps,
                  "ALTER TABLE ttl_events MODIFY TTL created_at + INTERVAL 1 DAY").ok());
  ASSERT_TRUE(Run(client, *caps, "ALTER TABLE ttl_events REMOVE TTL").ok());
  EXPECT_EQ(*enforcer.RunOnce(), 0u);
  auto kept = client.Query("SELECT id FROM ttl_events ORDER BY id");
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(*kept, "5\n6\n");

  // RENAME TABLE moves the record to the new name.
  ASSERT_TRUE(Run(client, *caps,
                  "ALTER TABLE ttl_events MODIFY TTL created_at + INTERVAL 7 DAY").ok());
  ASSERT_TRUE(Run(client, *caps, "RENAME TABLE ttl_events TO ttl_renamed").ok());
  auto moved = client.Query(
      "SELECT table, argMax(ttl, version) FROM default.trackhouse_ttl WHERE table IN "
      "('ttl_events', 'ttl_renamed') GROUP BY table ORDER BY table FORMAT TabSeparated");
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(*moved, "ttl_events\t\nttl_renamed\tcreated_at + INTERVAL 7 DAY\n");
  ASSERT_TRUE(Run(client, *caps, "RENAME TABLE ttl_renamed TO ttl_events").ok());

  // DROP TABLE forgets the record.
  ASSERT_TRUE(Run(client, *caps,
                  "ALTER TABLE ttl_events MODIFY TTL created_at + INTERVAL 1 DAY").ok());
  ASSERT_TRUE(Run(client, *caps, "DROP TABLE ttl_events").ok());
  auto recorded = client.Query(
      "SELECT argMax(ttl, version) FROM default.trackhouse_ttl WHERE table = 'ttl_events'");
  ASSERT_TRUE(recorded.ok());
  EXPECT_EQ(*recorded, "\n");
}

TEST_F(DdlServerTest, TtlEnforcerRunsRoundsInTheBackgroundUntilStopped) {
  Client client(Options());
  auto caps = DetectCapabilities(client);
  ASSERT_TRUE(caps.ok());
  ASSERT_TRUE(Run(client, *caps,
                  "CREATE TABLE ttl_background (id UInt32, created_at DateTime) ENGINE = "
                  "MergeTree PARTITION BY toYYYYMM(created_at) ORDER BY id TTL created_at + "
                  "INTERVAL 1 DAY")
                  .ok());
  ASSERT_TRUE(client.Query("INSERT INTO ttl_background VALUES (1, '2021-03-04 05:06:07')").ok());
  TtlEnforcerOptions options;
  options.client = Options();
  options.interval = std::chrono::milliseconds(20);
  TtlEnforcer enforcer(options);
  enforcer.Start();
  std::string count;
  for (int i = 0; i < 500 && count != "0\n"; ++i) {  // up to 10 s
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto r = client.Query("SELECT count() FROM ttl_background");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    count = *r;
  }
  enforcer.Stop();
  EXPECT_EQ(count, "0\n");
  enforcer.Stop();  // idempotent
}

}  // namespace
}  // namespace trackhouse::clickhouse
