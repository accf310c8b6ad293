// The two-shard ClickHouse cluster that the ClickHouse mode's cluster tests run against
// (tests/difftest/clickhouse_server.h): Debian's ZooKeeper and two clickhouse-server 18.16
// processes on loopback. Shows that distributed DDL (ON CLUSTER) creates a table on both
// shards, that a Distributed table reads the union of the shards' local tables, and that the
// fault controls the end-to-end tests use work: a shard SIGKILLed and restarted comes back on
// the same ports with its data and takes part in distributed DDL again; a paused shard answers
// nothing until resumed.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tests/difftest/clickhouse_server.h"
#include "tests/server_process.h"

namespace trackhouse {
namespace {

using difftest::ClickHouseCluster;
using difftest::ClickHouseServer;

class ClickHouseClusterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = testing::MakeTempDir("th-chcluster-");
    cluster_ = std::make_unique<ClickHouseCluster>("th_cluster");
    auto start = std::chrono::steady_clock::now();
    if (dir_.empty() || !cluster_->Start(dir_, 2, &error_)) {
      if (error_.empty()) error_ = "mkdtemp failed";
      cluster_.reset();
      return;
    }
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("ZooKeeper and two ClickHouse shards serve after %.2f s\n", seconds);
  }

  static void TearDownTestSuite() {
    cluster_.reset();
    // TH_KEEP_TEST_DIR=1 keeps the servers' configuration, data and logs for a look.
    if (!dir_.empty() && std::getenv("TH_KEEP_TEST_DIR") == nullptr) testing::RemoveTree(dir_);
  }

  void SetUp() override { ASSERT_TRUE(cluster_ != nullptr) << "cluster did not start: " << error_; }

  // Runs sql on a shard, expecting success; returns the body.
  static std::string Must(ClickHouseServer& server, const std::string& sql) {
    testing::HttpResponse r = server.Query(sql);
    EXPECT_EQ(r.status, 200) << sql << "\n" << r.body;
    return r.body;
  }

  static std::string InsertIds(int first, int count, int shard) {
    std::string values;
    for (int id = first; id < first + count; ++id) {
      if (!values.empty()) values += ",";
      values += "(" + std::to_string(id) + "," + std::to_string(shard) + ")";
    }
    return values;
  }

  // Creates <table>_local on every shard and the Distributed <table> over them.
  static void CreateDistributed(const std::string& table) {
    ClickHouseServer& s1 = cluster_->shard(0);
    Must(s1, "CREATE TABLE " + table + "_local ON CLUSTER " + cluster_->name() +
                 " (id UInt64, shard UInt8) ENGINE = MergeTree() ORDER BY id");
    Must(s1, "CREATE TABLE " + table + " ON CLUSTER " + cluster_->name() + " AS " + table +
                 "_local ENGINE = Distributed(" + cluster_->name() + ", default, " + table +
                 "_local, rand())");
  }

  static inline std::unique_ptr<ClickHouseCluster> cluster_;
  static inline std::string dir_;
  static inline std::string error_;
};

TEST_F(ClickHouseClusterTest, ServersFormOneClusterOfTwoShards) {
  for (size_t i = 0; i < 2; ++i) {
    ClickHouseServer& s = cluster_->shard(i);
    EXPECT_EQ(Must(s, "SELECT shard_num, port FROM system.clusters WHERE cluster = '" +
                          cluster_->name() + "' ORDER BY shard_num FORMAT CSV"),
              "1," + std::to_string(cluster_->shard(0).tcp_port()) + "\n2," +
                  std::to_string(cluster_->shard(1).tcp_port()) + "\n");
    EXPECT_EQ(Must(s, "SELECT substitution FROM system.macros WHERE macro = 'shard'"),
              std::to_string(i + 1) + "\n");
    EXPECT_EQ(Must(s, "SELECT substitution FROM system.macros WHERE macro = 'replica'"),
              "r" + std::to_string(i + 1) + "\n");
    // Both see the same ZooKeeper.
    EXPECT_EQ(Must(s, "SELECT count() > 0 FROM system.zookeeper WHERE path = '/'"), "1\n");
  }
}

TEST_F(ClickHouseClusterTest, OnClusterDdlAndDistributedReadsTheUnionOfBothShards) {
  CreateDistributed("events");
  ClickHouseServer& s1 = cluster_->shard(0);
  ClickHouseServer& s2 = cluster_->shard(1);
  // The DDL ran on both shards.
  for (ClickHouseServer* s : {&s1, &s2}) {
    EXPECT_EQ(Must(*s, "SELECT name, engine FROM system.tables WHERE database = 'default' AND name LIKE 'events%' "
                       "ORDER BY name FORMAT CSV"),
              "\"events\",\"Distributed\"\n\"events_local\",\"MergeTree\"\n");
  }
  Must(s1, "INSERT INTO events_local VALUES " + InsertIds(1, 300, 1));
  Must(s2, "INSERT INTO events_local VALUES " + InsertIds(301, 200, 2));
  // Each local table holds its own rows; the Distributed table, on either shard, all of them.
  EXPECT_EQ(Must(s1, "SELECT count() FROM events_local"), "300\n");
  EXPECT_EQ(Must(s2, "SELECT count() FROM events_local"), "200\n");
  for (ClickHouseServer* s : {&s1, &s2}) {
    EXPECT_EQ(Must(*s, "SELECT count(), uniqExact(id), min(id), max(id) FROM events FORMAT CSV"),
              "500,500,1,500\n");
    EXPECT_EQ(Must(*s, "SELECT shard, count() FROM events GROUP BY shard ORDER BY shard "
                       "FORMAT CSV"),
              "1,300\n2,200\n");
  }
}

TEST_F(ClickHouseClusterTest, KilledShardRestartsOnItsPortsWithItsData) {
  CreateDistributed("kill_events");
  ClickHouseServer& s1 = cluster_->shard(0);
  ClickHouseServer& s2 = cluster_->shard(1);
  Must(s1, "INSERT INTO kill_events_local VALUES " + InsertIds(1, 10, 1));
  Must(s2, "INSERT INTO kill_events_local VALUES " + InsertIds(11, 20, 2));
  uint16_t http = s2.http_port(), tcp = s2.tcp_port();
  pid_t old_pid = s2.pid();
  s2.Kill();
  EXPECT_FALSE(s2.running());
  EXPECT_EQ(s2.Query("SELECT 1", 2000).status, 0) << "a killed server answered";
  // The Distributed table cannot read a shard that is down.
  EXPECT_NE(s1.Query("SELECT count() FROM kill_events").status, 200);

  std::string error;
  ASSERT_TRUE(s2.Restart(&error)) << error;
  EXPECT_NE(s2.pid(), old_pid);
  EXPECT_EQ(s2.http_port(), http);
  EXPECT_EQ(s2.tcp_port(), tcp);
  EXPECT_EQ(Must(s2, "SELECT count() FROM kill_events_local"), "20\n");
  EXPECT_EQ(Must(s1, "SELECT count() FROM kill_events"), "30\n");
  // Distributed DDL reaches the restarted shard.
  Must(s1, "ALTER TABLE kill_events_local ON CLUSTER " + cluster_->name() +
               " ADD COLUMN note String DEFAULT 'x'");
  EXPECT_EQ(Must(s2, "SELECT count() FROM system.columns WHERE table = 'kill_events_local' "
                     "AND name = 'note'"),
            "1\n");
}

TEST_F(ClickHouseClusterTest, PausedShardAnswersNothingUntilResumed) {
  ClickHouseServer& s2 = cluster_->shard(1);
  ASSERT_EQ(Must(s2, "SELECT 7"), "7\n");
  s2.Pause();
  auto start = std::chrono::steady_clock::now();
  testing::HttpResponse frozen = s2.Query("SELECT 8", 700);
  EXPECT_EQ(frozen.status, 0) << "a paused server answered: " << frozen.body;
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(600));
  s2.Resume();
  EXPECT_EQ(Must(s2, "SELECT 9"), "9\n");
}

// A lone server (no cluster) can be killed and restarted too, keeping its ports and data.
TEST(ClickHouseServerTest, KillAndRestartKeepPortsAndData) {
  std::string dir = testing::MakeTempDir("th-chserver-");
  ASSERT_FALSE(dir.empty());
  struct RemoveAtEnd {
    std::string path;
    ~RemoveAtEnd() { testing::RemoveTree(path); }
  } remove_at_end{dir};
  {
    ClickHouseServer server;
    std::string error;
    ASSERT_TRUE(server.Start(dir, &error)) << error;
    ASSERT_EQ(server.Query("CREATE TABLE t (id UInt32) ENGINE = MergeTree() ORDER BY id").status,
              200);
    ASSERT_EQ(server.Query("INSERT INTO t VALUES (1),(2),(3)").status, 200);
    uint16_t port = server.http_port();
    server.Kill();
    ASSERT_TRUE(server.Restart(&error)) << error;
    EXPECT_EQ(server.http_port(), port);
    testing::HttpResponse r = server.Query("SELECT sum(id) FROM t");
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body, "6\n");
  }
}

}  // namespace
}  // namespace trackhouse
