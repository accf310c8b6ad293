// End-to-end fault tests of the ClickHouse mode: the real trackhouse binary (`serve --clickhouse`)
// in front of Debian's clickhouse-server 18.16 (or a two-shard cluster of them), started by the
// test on loopback. Client threads post NDJSON batches to /track with a unique id per row
// (userId) while ClickHouse is SIGKILLed and kept down, trackhouse is SIGKILLed in the middle of
// delivery, or ClickHouse is frozen (SIGSTOP) for longer than trackhouse's request timeout.
// After each, once trackhouse reports an empty backlog, the table in ClickHouse must hold every
// acknowledged event exactly once, an event whose request was not acknowledged at most once,
// and nothing else. The table is the guide's plain MergeTree (docs: metrics-guide.md), which on
// 18.16 has no deduplication: trackhouse's block-number protocol is what keeps it exactly once.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/difftest/clickhouse_server.h"
#include "tests/http_client.h"
#include "tests/server_process.h"

namespace trackhouse {
namespace {

using difftest::ClickHouseCluster;
using difftest::ClickHouseServer;
using testing::HttpRequest;
using testing::ServerProcess;
using Clock = std::chrono::steady_clock;

constexpr char kTable[] = "entityMetricEvents";
// The guide's table, verbatim (trackhouse adapts DateTime64 and LowCardinality to 18.16).
constexpr char kDdl[] =
    "CREATE TABLE entityMetricEvents (\n"
    "  entityType LowCardinality(String),\n"
    "  entityId   Int32,\n"
    "  userId     Int32,\n"
    "  metricType LowCardinality(String),\n"
    "  metricValue Int32,\n"
    "  createdAt  DateTime64(3)\n"
    ") ENGINE = MergeTree()\n"
    "ORDER BY (entityType, entityId, createdAt)";

// One value of a Prometheus text exposition (summed over its label sets); -1 when absent.
int64_t Metric(const std::string& metrics, const std::string& name) {
  std::regex re("\n" + name + "(\\{[^}]*\\})? (-?[0-9]+)");
  int64_t sum = -1;
  for (std::sregex_iterator it(metrics.begin(), metrics.end(), re), end; it != end; ++it) {
    sum = (sum < 0 ? 0 : sum) + std::stoll((*it)[2]);
  }
  return sum;
}

// Client threads posting NDJSON batches of `rows_per_request` events, each with a new userId,
// to /track/entityMetricEvents of the trackhouse at port(), each thread at most
// `requests_per_second`, until Stop() or until `max_rows` ids are used. Records which ids were
// acknowledged (200) and which were sent without one.
class TrackLoad {
 public:
  TrackLoad(int threads, int rows_per_request, int requests_per_second, int32_t max_rows)
      : threads_(threads),
        rows_per_request_(rows_per_request),
        interval_(std::chrono::microseconds(1000000 / requests_per_second)),
        max_rows_(max_rows) {}
  ~TrackLoad() { Stop(); }

  void set_port(uint16_t port) { port_ = port; }
  void Start() {
    for (int i = 0; i < threads_; ++i) workers_.emplace_back([this] { Run(); });
  }
  void Stop() {
    stop_ = true;
    for (auto& t : workers_) t.join();
    workers_.clear();
  }
  size_t acked_count() const {
    std::lock_guard lock(mu_);
    return acked_.size();
  }
  std::set<int32_t> acked() const {
    std::lock_guard lock(mu_);
    return acked_;
  }
  std::set<int32_t> unacked() const {
    std::lock_guard lock(mu_);
    return unacked_;
  }
  std::string Summary() const {
    std::lock_guard lock(mu_);
    std::string s = std::to_string(acked_.size()) + " events acknowledged, " +
                    std::to_string(unacked_.size()) + " not; requests by status:";
    for (const auto& [status, n] : statuses_) {
      s += " " + std::to_string(status) + "=" + std::to_string(n);
    }
    return s;
  }

 private:
  void Run() {
    const std::vector<std::pair<std::string, std::string>> headers = {
        {"Content-Type", "application/x-ndjson"}};
    std::string target = std::string("/track/") + kTable;
    auto next = Clock::now();
    while (!stop_) {
      next = std::max(next + interval_, Clock::now() - interval_);  // no burst after a stall
      std::this_thread::sleep_until(next);
      int32_t first = next_id_.fetch_add(rows_per_request_);
      if (first + rows_per_request_ - 1 > max_rows_) break;
      std::string body;
      for (int32_t id = first; id < first + rows_per_request_; ++id) {
        body += "{\"entityType\":\"Model\",\"entityId\":" + std::to_string(id % 977) +
                ",\"userId\":" + std::to_string(id) +
                ",\"metricType\":\"View\",\"metricValue\":1,\"createdAt\":\"2026-11-01 "
                "10:00:00\"}\n";
      }
      testing::HttpResponse r = HttpRequest(port_.load(), "POST", target, headers, body, 10000);
      {
        std::lock_guard lock(mu_);
        statuses_[r.status]++;
        for (int32_t id = first; id < first + rows_per_request_; ++id) {
          (r.status == 200 ? acked_ : unacked_).insert(id);
        }
      }
    }
  }

  const int threads_, rows_per_request_;
  const Clock::duration interval_;
  const int32_t max_rows_;
  std::atomic<uint16_t> port_{0};
  std::atomic<bool> stop_{false};
  std::atomic<int32_t> next_id_{1};
  std::vector<std::thread> workers_;
  mutable std::mutex mu_;
  std::set<int32_t> acked_, unacked_;
  std::map<int, int> statuses_;
};

// Runs a query on a ClickHouse server, expecting success.
std::string Must(const ClickHouseServer& server, const std::string& sql) {
  testing::HttpResponse r = server.Query(sql);
  EXPECT_EQ(r.status, 200) << sql << "\n" << r.body;
  return r.body;
}

int64_t Count(const ClickHouseServer& server, const std::string& table) {
  testing::HttpResponse r = server.Query("SELECT count() FROM " + table, 5000);
  return r.status == 200 ? std::atoll(r.body.c_str()) : -1;
}

// Waits until `done` holds, polling every 50 ms up to timeout; false on timeout.
bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

// Polls ClickHouse's system.processes until one of trackhouse's batch INSERTs (query id
// trackhouse-...) is running there, up to timeout; false if none was seen.
bool WaitForInsertInFlight(const ClickHouseServer& server, std::chrono::milliseconds timeout) {
  return WaitFor(
      [&] {
        for (int i = 0; i < 50; ++i) {  // WaitFor polls every 50 ms: poll faster in between
          testing::HttpResponse r = server.Query(
              "SELECT count() FROM system.processes WHERE query_id LIKE 'trackhouse-%' AND "
              "query LIKE 'INSERT%'",
              2000);
          if (r.status == 200 && std::atoi(r.body.c_str()) > 0) return true;
        }
        return false;
      },
      timeout);
}

class ClickHouseModeE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("th-chmode-");
    ASSERT_FALSE(dir_.empty());
  }
  void TearDown() override {
    trackhouse_.Kill();
    if (::testing::Test::HasFailure()) {
      std::printf("trackhouse's output (last 4000 bytes):\n%s\n",
                  Tail(trackhouse_.output(), 4000).c_str());
    }
    if (std::getenv("TH_KEEP_TEST_DIR") == nullptr) testing::RemoveTree(dir_);
  }

  static std::string Tail(const std::string& s, size_t n) {
    return s.size() > n ? s.substr(s.size() - n) : s;
  }

  // Writes DIR/trackhouse.toml: small, young batches and fast retries, so that faults show
  // within seconds; `extra` is appended to the [clickhouse] section.
  std::string WriteConfig(const std::string& extra = "") {
    std::string path = dir_ + "/trackhouse.toml";
    std::ofstream f(path);
    f << "[clickhouse]\nbatch_max_rows = 20000\nbatch_max_age_ms = 200\n"
         "retry_min_ms = 50\nretry_max_ms = 500\n"
      << extra;
    return path;
  }

  void StartTrackhouse(uint16_t clickhouse_port, const std::string& cluster,
                       const std::string& config) {
    std::string error;
    ASSERT_TRUE(trackhouse_.StartClickHouseMode(TRACKHOUSE_BINARY, dir_ + "/spool",
                                                testing::ClickHouseUrl(clickhouse_port), cluster,
                                                {"--config", config}, &error))
        << error;
  }

  void CreateTable() {
    testing::HttpResponse r = HttpRequest(trackhouse_.port(), "POST", "/", kDdl, 60000);
    ASSERT_EQ(r.status, 200) << r.body;
  }

  // Starts `clickhouse` as Debian installs it (LowCardinality not enabled: trackhouse adapts),
  // trackhouse in front of it with WriteConfig(config_extra), and creates the guide's table.
  void StartSingleServer(ClickHouseServer* clickhouse, const std::string& config_extra = "") {
    clickhouse->set_low_cardinality_in_profile(false);
    std::string error;
    ASSERT_TRUE(clickhouse->Start(dir_ + "/clickhouse", &error)) << error;
    StartTrackhouse(clickhouse->http_port(), "", WriteConfig(config_extra));
    CreateTable();
  }

  // About 15,000 events/s from three client threads, at most 500,000.
  std::unique_ptr<TrackLoad> StartLoad() {
    auto load = std::make_unique<TrackLoad>(/*threads=*/3, /*rows_per_request=*/100,
                                            /*requests_per_second=*/50, /*max_rows=*/500000);
    load->set_port(trackhouse_.port());
    load->Start();
    return load;
  }

  // Waits (up to 20 s) until ClickHouse holds more rows than now.
  static bool MoreRowsArrive(const ClickHouseServer& clickhouse) {
    int64_t now = Count(clickhouse, kTable);
    return WaitFor([&] { return Count(clickhouse, kTable) > now; }, std::chrono::seconds(20));
  }

  // Once delivery goes on again, stops the load, waits for everything to be delivered and
  // checks the table. Returns the unknown outcomes this trackhouse process resolved.
  int64_t FinishAndCheck(TrackLoad* load, const ClickHouseServer& clickhouse) {
    EXPECT_TRUE(MoreRowsArrive(clickhouse)) << "delivery did not go on";
    load->Stop();
    WaitForDelivery(*load, [&] { return Count(clickhouse, kTable); });
    std::string metrics = TrackhouseMetrics();
    // A counter not yet incremented is absent (-1).
    int64_t unknown =
        std::max<int64_t>(Metric(metrics, "trackhouse_delivery_unknown_outcomes_total"), 0);
    int64_t retries = std::max<int64_t>(Metric(metrics, "trackhouse_delivery_retries_total"), 0);
    std::printf("this trackhouse resolved %lld batches with an unknown outcome, retried %lld\n",
                static_cast<long long>(unknown), static_cast<long long>(retries));
    ExpectExactlyOnce(*load, Must(clickhouse, std::string("SELECT userId FROM ") + kTable));
    return unknown;
  }

  std::string TrackhouseMetrics() {
    return HttpRequest(trackhouse_.port(), "GET", "/metrics", "", 5000).body;
  }

  // Waits (up to 60 s) until trackhouse's backlog is empty and `clickhouse_rows` reports at
  // least every acknowledged event.
  void WaitForDelivery(const TrackLoad& load, const std::function<int64_t()>& clickhouse_rows) {
    size_t acked = load.acked_count();
    bool delivered = WaitFor(
        [&] {
          return Metric(TrackhouseMetrics(), "trackhouse_delivery_backlog_rows") == 0 &&
                 clickhouse_rows() >= static_cast<int64_t>(acked);
        },
        std::chrono::seconds(60));
    EXPECT_TRUE(delivered) << "not delivered within 60 s: backlog "
                           << Metric(TrackhouseMetrics(), "trackhouse_delivery_backlog_rows")
                           << " rows, ClickHouse has " << clickhouse_rows() << " of " << acked
                           << " acknowledged";
  }

  // Every acknowledged event in `ids_tsv` (one userId a line) exactly once, every other sent
  // one at most once, and no id that was never sent.
  static void ExpectExactlyOnce(const TrackLoad& load, const std::string& ids_tsv) {
    std::map<int32_t, int> seen;
    std::istringstream in(ids_tsv);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      char* end = nullptr;
      long id = std::strtol(line.c_str(), &end, 10);
      ASSERT_TRUE(*end == '\0') << "not an id: " << line;
      seen[static_cast<int32_t>(id)]++;
    }
    std::set<int32_t> acked = load.acked(), unacked = load.unacked();
    size_t missing = 0, duplicated = 0, unknown = 0, unacked_stored = 0;
    std::string examples;
    for (int32_t id : acked) {
      auto it = seen.find(id);
      int n = it == seen.end() ? 0 : it->second;
      if (n != 1) {
        (n == 0 ? missing : duplicated)++;
        if (examples.size() < 200) {
          examples += " " + std::to_string(id) + "x" + std::to_string(n);
        }
      }
    }
    for (const auto& [id, n] : seen) {
      if (acked.count(id)) continue;
      if (!unacked.count(id)) {
        unknown++;
      } else if (n > 1) {
        duplicated++;
      } else {
        unacked_stored++;
      }
    }
    std::printf("%s; ClickHouse holds %zu distinct ids (%zu of them not acknowledged)\n",
                load.Summary().c_str(), seen.size(), unacked_stored);
    EXPECT_GT(acked.size(), 0u);
    EXPECT_EQ(missing, 0u) << "acknowledged events missing in ClickHouse (id x copies):"
                           << examples;
    EXPECT_EQ(duplicated, 0u) << "events stored more than once (id x copies):" << examples;
    EXPECT_EQ(unknown, 0u) << "ids in ClickHouse that were never sent";
  }

  std::string dir_;
  ServerProcess trackhouse_;
};

// ClickHouse is SIGKILLed under a sustained /track load and kept down for 8 s; trackhouse keeps
// acknowledging events into its spool, and delivers them once ClickHouse is back.
TEST_F(ClickHouseModeE2eTest, ClickHouseKilledAndDownForEightSecondsUnderLoad) {
  ClickHouseServer clickhouse;
  StartSingleServer(&clickhouse);
  std::unique_ptr<TrackLoad> load = StartLoad();
  // Kill it while it runs one of trackhouse's INSERTs.
  ASSERT_TRUE(MoreRowsArrive(clickhouse)) << "nothing was delivered";
  EXPECT_TRUE(WaitForInsertInFlight(clickhouse, std::chrono::seconds(20)));
  clickhouse.Kill();
  size_t acked_at_kill = load->acked_count();
  auto killed = Clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(8));  // the outage under test
  size_t acked_while_down = load->acked_count() - acked_at_kill;
  std::printf("ClickHouse down for %.1f s; %zu events acknowledged meanwhile\n",
              std::chrono::duration<double>(Clock::now() - killed).count(), acked_while_down);
  EXPECT_GT(acked_while_down, 0u) << "trackhouse stopped accepting while ClickHouse was down";
  std::string error;
  ASSERT_TRUE(clickhouse.Restart(&error)) << error;
  FinishAndCheck(load.get(), clickhouse);
}

// trackhouse is SIGKILLed in the middle of delivery and restarted on the same spool, four
// times: twice at a random moment of the load, twice while ClickHouse runs one of its INSERTs
// (ClickHouse is frozen then, and resumed after the kill, so that it commits a batch whose
// sender is dead: the restarted trackhouse must find it delivered, not send it again).
TEST_F(ClickHouseModeE2eTest, TrackhouseKilledInTheMiddleOfDelivery) {
  ClickHouseServer clickhouse;
  StartSingleServer(&clickhouse);
  std::unique_ptr<TrackLoad> load = StartLoad();
  std::mt19937 rng(20261125);
  int64_t unknown_outcomes = 0;
  for (int round = 0; round < 4; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    ASSERT_TRUE(MoreRowsArrive(clickhouse)) << "nothing was delivered";
    bool frozen = round % 2 == 1;
    if (frozen) {
      EXPECT_TRUE(WaitForInsertInFlight(clickhouse, std::chrono::seconds(20)));
      clickhouse.Pause();
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 400));
    }
    // What the process about to die resolved (the previous round's batch).
    unknown_outcomes += std::max<int64_t>(
        Metric(TrackhouseMetrics(), "trackhouse_delivery_unknown_outcomes_total"), 0);
    trackhouse_.Kill();
    if (frozen) clickhouse.Resume();
    std::string error;
    ASSERT_TRUE(trackhouse_.Restart(&error)) << error;
    load->set_port(trackhouse_.port());
  }
  unknown_outcomes += FinishAndCheck(load.get(), clickhouse);
  // The frozen rounds left a batch without an outcome for the next process to resolve.
  EXPECT_GE(unknown_outcomes, 2);
}

// ClickHouse answers nothing (SIGSTOP) for longer than trackhouse's request timeout, then
// resumes and commits what it had received: the timed-out batch is resolved, not resent.
TEST_F(ClickHouseModeE2eTest, ClickHouseSlowerThanTheRequestTimeout) {
  ClickHouseServer clickhouse;
  StartSingleServer(&clickhouse, "request_timeout_ms = 1500\n");
  std::unique_ptr<TrackLoad> load = StartLoad();
  for (int round = 0; round < 2; ++round) {
    ASSERT_TRUE(MoreRowsArrive(clickhouse)) << "nothing was delivered";
    // Frozen in the middle of one of trackhouse's INSERTs, for longer than its timeout.
    EXPECT_TRUE(WaitForInsertInFlight(clickhouse, std::chrono::seconds(20)));
    clickhouse.Pause();
    std::this_thread::sleep_for(std::chrono::seconds(4));
    clickhouse.Resume();
  }
  EXPECT_GT(FinishAndCheck(load.get(), clickhouse), 0)
      << "no INSERT timed out: the test did not make ClickHouse slow enough";
}

// A two-shard cluster (ZooKeeper and two 18.16 servers) with trackhouse in front of its first
// shard (--clickhouse-cluster).
class ClickHouseModeClusterE2eTest : public ClickHouseModeE2eTest {
 protected:
  // Starts the cluster and trackhouse, and creates the guide's table through trackhouse (ON
  // CLUSTER: entityMetricEvents_local on each shard, Distributed entityMetricEvents).
  void StartClusterAndTable() {
    // 18.16 runs an ON CLUSTER statement on each shard with the server's settings, not the
    // request's: the allow_experimental_low_cardinality_type=1 that trackhouse sends along does
    // not reach the shards, so their profile enables LowCardinality.
    cluster_.set_low_cardinality_in_profile(true);
    std::string error;
    ASSERT_TRUE(cluster_.Start(dir_ + "/cluster", 2, &error)) << error;
    // ClickHouse lists only native ports: trackhouse is told each shard's HTTP address.
    std::string addresses = "shard_http_addresses = {";
    for (size_t i = 0; i < cluster_.shards(); ++i) {
      addresses += (i ? ", " : " ") + std::string("\"127.0.0.1:") +
                   std::to_string(cluster_.shard(i).tcp_port()) + "\" = \"127.0.0.1:" +
                   std::to_string(cluster_.shard(i).http_port()) + "\"";
    }
    addresses += " }\n";
    StartTrackhouse(cluster_.shard(0).http_port(), cluster_.name(), WriteConfig(addresses));
    CreateTable();
    for (size_t i = 0; i < cluster_.shards(); ++i) {
      EXPECT_EQ(Must(cluster_.shard(i),
                     "SELECT name, engine FROM system.tables WHERE database = 'default' AND "
                     "name LIKE 'entityMetricEvents%' ORDER BY name FORMAT CSV"),
                "\"entityMetricEvents\",\"Distributed\"\n"
                "\"entityMetricEvents_local\",\"MergeTree\"\n");
    }
  }

  void TearDown() override {
    trackhouse_.Kill();
    cluster_.Stop();  // before the directory goes
    ClickHouseModeE2eTest::TearDown();
  }

  int64_t LocalRows(size_t shard) {
    return Count(cluster_.shard(shard), "entityMetricEvents_local");
  }

  // Waits (up to 30 s) until both shards' local tables hold rows.
  bool BothShardsGetRows() {
    return WaitFor([&] { return LocalRows(0) > 0 && LocalRows(1) > 0; },
                   std::chrono::seconds(30));
  }

  // After FinishAndCheck: the rows are in the local tables, on both shards, and nowhere else.
  void ExpectRowsOnBothShards() {
    int64_t local1 = LocalRows(0), local2 = LocalRows(1);
    std::printf("shard 1 holds %lld rows, shard 2 %lld\n", static_cast<long long>(local1),
                static_cast<long long>(local2));
    EXPECT_GT(local1, 0);
    EXPECT_GT(local2, 0);
    EXPECT_EQ(local1 + local2, Count(cluster_.shard(0), kTable));
    EXPECT_EQ(Count(cluster_.shard(1), kTable), Count(cluster_.shard(0), kTable));
  }

  ClickHouseCluster cluster_{"th_cluster"};
};

// A two-shard cluster: trackhouse creates the table ON CLUSTER, delivers /track events to the
// shards' local tables, and the Distributed table holds every acknowledged event exactly once.
TEST_F(ClickHouseModeClusterE2eTest, TwoShardClusterGetsEveryEventOnce) {
  StartClusterAndTable();
  std::unique_ptr<TrackLoad> load = StartLoad();
  EXPECT_TRUE(BothShardsGetRows()) << "shard rows: " << LocalRows(0) << ", " << LocalRows(1);
  FinishAndCheck(load.get(), cluster_.shard(0));
  ExpectRowsOnBothShards();
}

// The second shard is SIGKILLed while it runs one of trackhouse's INSERTs, stays down 3 s
// under load, and is started again: its batch is resolved on it, and the cluster holds every
// acknowledged event once.
TEST_F(ClickHouseModeClusterE2eTest, ShardKilledDuringAnInsertAndRestarted) {
  StartClusterAndTable();
  std::unique_ptr<TrackLoad> load = StartLoad();
  ASSERT_TRUE(BothShardsGetRows()) << "shard rows: " << LocalRows(0) << ", " << LocalRows(1);
  ClickHouseServer& shard2 = cluster_.shard(1);
  EXPECT_TRUE(WaitForInsertInFlight(shard2, std::chrono::seconds(20)));
  shard2.Kill();
  std::this_thread::sleep_for(std::chrono::seconds(3));  // the outage under test
  std::string error;
  ASSERT_TRUE(shard2.Restart(&error)) << error;
  int64_t before = LocalRows(1);
  EXPECT_TRUE(WaitFor([&] { return LocalRows(1) > before; }, std::chrono::seconds(30)))
      << "the restarted shard gets no rows";
  FinishAndCheck(load.get(), cluster_.shard(0));
  ExpectRowsOnBothShards();
}

}  // namespace
}  // namespace trackhouse
