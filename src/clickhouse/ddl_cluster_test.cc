// RunDdl and the TTL enforcer with --clickhouse-cluster, against a real two-shard cluster
// (Debian's ZooKeeper and two clickhouse-server 18.16 processes on loopback,
// tests/difftest/clickhouse_server.h): the guide's tables become <table>_local on both shards
// plus a Distributed <table>, adapted for 18.16; ALTER and DROP reach both; expired partitions
// are dropped on both shards.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "clickhouse/ddl.h"
#include "clickhouse/test_guide.h"
#include "clickhouse/ttl.h"
#include "sql/parser.h"
#include "tests/difftest/clickhouse_server.h"
#include "tests/server_process.h"

namespace trackhouse::clickhouse {
namespace {

using difftest::ClickHouseCluster;
using difftest::ClickHouseServer;

class DdlClusterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = testing::MakeTempDir("th-ddl-cluster-");
    cluster_ = std::make_unique<ClickHouseCluster>("th_ddl");
    cluster_->set_low_cardinality_in_profile(false);  // as a fresh 18.16
    if (dir_.empty() || !cluster_->Start(dir_, 2, &error_)) {
      if (error_.empty()) error_ = "mkdtemp failed";
      cluster_.reset();
    }
  }

  static void TearDownTestSuite() {
    cluster_.reset();
    if (!dir_.empty()) testing::RemoveTree(dir_);
  }

  void SetUp() override {
    ASSERT_TRUE(cluster_ != nullptr) << "cluster did not start: " << error_;
    ClientOptions o;
    o.port = cluster_->shard(0).http_port();
    o.request_timeout = std::chrono::milliseconds(60000);
    client_ = std::make_unique<Client>(o);
    auto caps = DetectCapabilities(*client_);
    ASSERT_TRUE(caps.ok()) << caps.status().ToString();
    caps_ = *caps;
  }

  Status Run(std::string_view text) {
    auto stmt = sql::ParseStatement(text);
    if (!stmt.ok()) return stmt.status();
    DdlContext context{client_.get(), &caps_, cluster_->name()};
    return RunDdl(context, **stmt, text, "default");
  }

  static std::string Must(ClickHouseServer& server, const std::string& sql) {
    testing::HttpResponse r = server.Query(sql);
    EXPECT_EQ(r.status, 200) << sql << "\n" << r.body;
    return r.body;
  }

  static inline std::unique_ptr<ClickHouseCluster> cluster_;
  static inline std::string dir_;
  static inline std::string error_;
  std::unique_ptr<Client> client_;
  Capabilities caps_;
};

TEST_F(DdlClusterTest, TablesAreLocalOnEveryShardBehindADistributedTable) {
  Status created = Run(kEntityMetricEvents);
  ASSERT_TRUE(created.ok()) << created.ToString();
  for (size_t i = 0; i < 2; ++i) {
    ClickHouseServer& s = cluster_->shard(i);
    EXPECT_EQ(Must(s, "SELECT name, engine FROM system.tables WHERE database = 'default' AND "
                      "name LIKE 'entityMetricEvents%' ORDER BY name FORMAT TSV"),
              "entityMetricEvents\tDistributed\nentityMetricEvents_local\tMergeTree\n")
        << "shard " << i + 1;
    EXPECT_EQ(Must(s, "SELECT type FROM system.columns WHERE table = 'entityMetricEvents_local' "
                      "AND name = 'createdAt'"),
              "DateTime\n");
    // ON CLUSTER DDL runs with the profile, which (as on a fresh 18.16) does not allow
    // LowCardinality: the column is a String.
    EXPECT_EQ(Must(s, "SELECT type FROM system.columns WHERE table = 'entityMetricEvents_local' "
                      "AND name = 'entityType'"),
              "String\n");
  }
  Must(cluster_->shard(0),
       "INSERT INTO entityMetricEvents_local VALUES ('Model', 1, 1, 'View', 1, '2026-01-01 "
       "00:00:00')");
  Must(cluster_->shard(1),
       "INSERT INTO entityMetricEvents_local VALUES ('Model', 2, 1, 'View', 1, '2026-01-01 "
       "00:00:00'), ('Model', 3, 1, 'View', 1, '2026-01-01 00:00:00')");
  auto total = client_->Query("SELECT count() FROM entityMetricEvents");
  ASSERT_TRUE(total.ok()) << total.status().ToString();
  EXPECT_EQ(*total, "3\n");

  // ALTER's column commands reach the local tables and the Distributed one on both shards.
  Status alter = Run("ALTER TABLE entityMetricEvents ADD COLUMN seenAt DateTime64(3)");
  ASSERT_TRUE(alter.ok()) << alter.ToString();
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(Must(cluster_->shard(i),
                   "SELECT table, type FROM system.columns WHERE name = 'seenAt' ORDER BY table "
                   "FORMAT TSV"),
              "entityMetricEvents\tDateTime\nentityMetricEvents_local\tDateTime\n");
  }

  // DROP drops both tables everywhere.
  Status drop = Run("DROP TABLE entityMetricEvents");
  ASSERT_TRUE(drop.ok()) << drop.ToString();
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(Must(cluster_->shard(i), "SELECT count() FROM system.tables WHERE name LIKE "
                                       "'entityMetricEvents%'"),
              "0\n");
  }
}

TEST_F(DdlClusterTest, ExpiredPartitionsAreDroppedOnEveryShard) {
  Status create = Run(
      "CREATE TABLE feature_events (feature_id UInt32, created_at DateTime) ENGINE = "
      "MergeTree() PARTITION BY toYYYYMM(created_at) ORDER BY feature_id TTL created_at + "
      "INTERVAL 90 DAY");
  ASSERT_TRUE(create.ok()) << create.ToString();
  auto recorded = client_->Query(
      "SELECT table, argMax(ttl, version) FROM default.trackhouse_ttl WHERE table LIKE "
      "'feature_events%' GROUP BY table FORMAT TSV");
  ASSERT_TRUE(recorded.ok());
  EXPECT_EQ(*recorded, "feature_events_local\tcreated_at + INTERVAL 90 DAY\n");
  // 2020-01 on both shards: expired. This month: fresh.
  Must(cluster_->shard(0),
       "INSERT INTO feature_events_local VALUES (1, '2020-01-05 00:00:00'), (2, now())");
  Must(cluster_->shard(1), "INSERT INTO feature_events_local VALUES (3, '2020-01-06 00:00:00')");

  TtlEnforcerOptions options;
  options.client = client_->options();
  options.cluster = cluster_->name();
  TtlEnforcer enforcer(options);
  auto dropped = enforcer.RunOnce();
  ASSERT_TRUE(dropped.ok()) << dropped.status().ToString();
  EXPECT_EQ(*dropped, 1u);
  EXPECT_EQ(Must(cluster_->shard(0), "SELECT feature_id FROM feature_events_local"), "2\n");
  EXPECT_EQ(Must(cluster_->shard(1), "SELECT count() FROM feature_events_local"), "0\n");
}

}  // namespace
}  // namespace trackhouse::clickhouse
