// The ClickHouse-mode store against a real ClickHouse (Debian's 18.16, started once for the
// suite): rows arrive exactly once, one part per partition batch, Buffer tables deliver to their
// destination, spooled rows survive a ClickHouse outage and a store restart, a SIGKILL between
// sending a batch and journaling its outcome neither duplicates nor loses rows (fail points in a
// child process), dead letters and their replay, the spool budget and Idempotency-Keys.
//
// The crash tests run this binary again as a child (argv[1] == "--child"), with
// TRACKHOUSE_FAIL_POINTS set only in the child's environment.
#include "delivery/delivery.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "clickhouse/test_server.h"
#include "common/clock.h"
#include "common/metrics.h"
#include "delivery/deadletter.h"
#include "types/column.h"
#include "types/data_type.h"

namespace trackhouse::delivery {
namespace {

constexpr int64_t kJan2024 = 1704067200;  // 2024-01-01 00:00:00 UTC
constexpr int64_t kFeb2024 = 1706745600;  // 2024-02-01 00:00:00 UTC

// Rows for a table of columns (id UInt64, created_at DateTime, name String), built against
// `schema`: ids [first, first+n), created_at alternating January and February when `two_months`.
types::Block Rows(const storage::TableSchema& schema, uint64_t first, uint64_t n, bool two_months) {
  types::Block b;
  for (const auto& c : schema.columns) {
    auto col = types::MakeColumn(c.type);
    for (uint64_t i = 0; i < n; ++i) {
      const uint64_t id = first + i;
      if (c.name == "id") {
        col->AppendValue(types::Value::UInt(id));
      } else if (c.name == "created_at") {
        col->AppendValue(types::Value::UInt(((two_months && id % 2 == 1) ? kFeb2024 : kJan2024) +
                                            static_cast<int64_t>(id)));
      } else {
        col->AppendValue(types::Value::String(fmt::format("{}", id * 11)));
      }
    }
    b.Add(c.name, c.type, std::move(col));
  }
  return b;
}

DeliveryOptions StoreOptions(const std::string& dir, const clickhouse::ClientOptions& ch) {
  DeliveryOptions o;
  o.data_dir = dir;
  o.clickhouse = ch;
  o.batch_max_age_ms = 60 * 60 * 1000;  // batches close on FlushAll in these tests
  o.retry_min_ms = 20;
  o.retry_max_ms = 200;
  o.node_id = "delivery-test";
  return o;
}

class DeliveryTest : public clickhouse::ClickHouseSuite {
 protected:
  void SetUp() override {
    ClickHouseSuite::SetUp();
    char tmpl[] = "/tmp/th-delivery-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    data_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(data_, ec);
  }

  static std::string Query(const std::string& sql) {
    clickhouse::Client client(Options());
    auto r = client.Query(sql);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
    std::string out = r.ok() ? *r : "";
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }

  static void CreateEvents(const std::string& table) {
    Query("DROP TABLE IF EXISTS " + table);
    Query("CREATE TABLE " + table +
          " (id UInt64, created_at DateTime, name String) ENGINE = MergeTree "
          "PARTITION BY toYYYYMM(created_at) ORDER BY id");
  }

  std::unique_ptr<DeliveryStore> Open(DeliveryOptions o) {
    auto store = OpenDeliveryStore(std::move(o));
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    if (!store.ok()) return nullptr;
    EXPECT_TRUE((*store)->Start().ok());
    return std::move(store).value();
  }
  std::unique_ptr<DeliveryStore> Open() { return Open(StoreOptions(data_, Options())); }

  // Unknown outcomes resolved so far, either way.
  static int64_t UnknownOutcomes() {
    return metrics::ValueOf("trackhouse_delivery_unknown_outcomes_total",
                            {{"result", "delivered"}}) +
           metrics::ValueOf("trackhouse_delivery_unknown_outcomes_total", {{"result", "resent"}});
  }

  // Makes sends time out after 1 s and freezes ClickHouse (SIGSTOP) right before the second
  // batch's send; *resume thaws it 2.5 s later (join it).
  static void FreezeOnSecondSend(DeliveryOptions* o, std::thread* resume) {
    o->clickhouse.request_timeout = std::chrono::milliseconds(1000);
    auto sends = std::make_shared<std::atomic<int>>(0);
    o->before_send = [sends, resume](const std::string&) {
      if (++*sends != 2) return;
      server_->Pause();
      *resume = std::thread([] {
        std::this_thread::sleep_for(std::chrono::milliseconds(2500));
        server_->Resume();
      });
    };
  }

  std::string data_;
};

TEST_F(DeliveryTest, RowsArriveOnceAndEachPartitionBatchIsOnePart) {
  CreateEvents("d_once");
  auto store = Open();
  ASSERT_NE(store, nullptr);
  auto schema = store->GetTable("default", "d_once");
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  uint64_t rows = 0;
  for (int i = 0; i < 5; ++i) {
    auto r = store->Insert(**schema, Rows(**schema, rows, 100, true));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    rows += 100;
  }
  ASSERT_TRUE(store->FlushAll().ok());
  EXPECT_EQ(Query("SELECT count(), uniqExact(id), min(id), max(id) FROM d_once"),
            "500\t500\t0\t499");
  // Five inserts, two partitions: one batch, one part, per partition.
  EXPECT_EQ(Query("SELECT partition, count() FROM system.parts WHERE database = 'default' AND "
                  "table = 'd_once' AND active GROUP BY partition ORDER BY partition"),
            "202401\t1\n202402\t1");
  DeliveryReport report = store->Report();
  EXPECT_TRUE(report.reachable);
  EXPECT_EQ(report.backlog_rows, 0u);
  EXPECT_EQ(report.server_version.substr(0, 5), "18.16");
  ASSERT_EQ(report.tables.size(), 1u);
  EXPECT_EQ(report.tables[0].mechanism, "block_number");
  // The one-writer claim is in ClickHouse.
  EXPECT_EQ(Query("SELECT count() FROM trackhouse_writers WHERE table = 'd_once' AND node = "
                  "'delivery-test'"),
            "1");
  EXPECT_TRUE(store->Scan("default", "d_once", {}).status().code() == StatusCode::kNotSupported);
  ASSERT_TRUE(store->Stop().ok());
}

// Many batches: checkpoints trim journal and spool segments, and a restart reads only what is
// left, neither losing nor repeating rows.
TEST_F(DeliveryTest, CheckpointsTrimTheLogsAndRestartsRepeatNothing) {
  CreateEvents("d_many");
  DeliveryOptions o = StoreOptions(data_, Options());
  o.batch_max_rows = 10;
  o.log_segment_bytes = 4096;
  auto count_segments = [&](const std::string& sub) {
    size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator(data_ + "/" + sub)) {
      if (e.path().extension() == ".log") ++n;
    }
    return n;
  };
  uint64_t rows = 0;
  for (int round = 0; round < 3; ++round) {
    auto store = Open(o);
    ASSERT_NE(store, nullptr);
    auto schema = store->GetTable("default", "d_many");
    ASSERT_TRUE(schema.ok());
    for (int i = 0; i < 60; ++i) {
      ASSERT_TRUE(store->Insert(**schema, Rows(**schema, rows, 10, false)).ok());
      rows += 10;
    }
    ASSERT_TRUE(store->FlushAll().ok());
    EXPECT_EQ(store->Report().backlog_rows, 0u);
    ASSERT_TRUE(store->Stop().ok());
    EXPECT_EQ(Query("SELECT count(), uniqExact(id) FROM d_many"),
              fmt::format("{}\t{}", rows, rows));
  }
  // 180 spool records of a few hundred bytes and 360 journal records went into 4 KiB segments
  // (dozens of them); what is delivered is trimmed.
  EXPECT_LE(count_segments("spool"), 3u);
  EXPECT_LE(count_segments("journal"), 3u);
  auto store = Open(o);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Report().backlog_rows, 0u);
  ASSERT_TRUE(store->Stop().ok());
  EXPECT_EQ(Query("SELECT count() FROM d_many"), std::to_string(rows));
}

// The block-number protocol needs one writer per table: a table another node claimed recently
// (its heartbeat in trackhouse_writers) is not delivered to, and /ready says who has it.
TEST_F(DeliveryTest, ATableClaimedByAnotherNodeIsNotDeliveredTo) {
  CreateEvents("d_claimed");
  auto store = Open();
  ASSERT_NE(store, nullptr);
  Query("INSERT INTO trackhouse_writers VALUES ('default', 'd_claimed', 'other-node', now())");
  auto schema = store->GetTable("default", "d_claimed");
  ASSERT_TRUE(schema.ok());
  auto r = store->Insert(**schema, Rows(**schema, 0, 10, false));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(store->WaitForDelivery(r->lsn, 300).code(), StatusCode::kTimeout);  // not flushed
  Status flushed;
  std::thread flush([&] { flushed = store->FlushAll(); });
  // The sender meets the claim (a retry), and the readiness check names the other node.
  bool refused = false;
  for (int i = 0; i < 500 && !refused; ++i) {
    for (const auto& c : store->CheckReadiness()) {
      if (c.name == "delivery_single_writer" && !c.ok &&
          c.detail.find("other-node") != std::string::npos) {
        refused = true;
      }
    }
    if (!refused) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(refused);
  EXPECT_EQ(Query("SELECT count() FROM d_claimed"), "0");
  ASSERT_TRUE(store->Stop().ok());  // ends the flush's wait
  flush.join();
  EXPECT_FALSE(flushed.ok());
}

TEST_F(DeliveryTest, TablesWithoutPartsAreDeliveredAtLeastOnce) {
  Query("DROP TABLE IF EXISTS d_log");
  Query("CREATE TABLE d_log (id UInt64, created_at DateTime, name String) ENGINE = Log");
  auto store = Open();
  ASSERT_NE(store, nullptr);
  auto schema = store->GetTable("default", "d_log");
  ASSERT_TRUE(schema.ok());
  ASSERT_TRUE(store->Insert(**schema, Rows(**schema, 0, 25, false)).ok());
  ASSERT_TRUE(store->FlushAll().ok());
  EXPECT_EQ(Query("SELECT count(), uniqExact(id) FROM d_log"), "25\t25");
  ASSERT_EQ(store->Report().tables.size(), 1u);
  EXPECT_EQ(store->Report().tables[0].mechanism, "at_least_once");
  ASSERT_TRUE(store->Stop().ok());
}

TEST_F(DeliveryTest, BufferTableRowsGoToTheDestination) {
  CreateEvents("d_buf_dest");
  Query("DROP TABLE IF EXISTS d_buf");
  // A Buffer that would keep rows for 10 minutes: only a direct delivery shows them now.
  Query(
      "CREATE TABLE d_buf AS d_buf_dest ENGINE = Buffer(default, d_buf_dest, 1, 600, 600, "
      "1000000, 1000000, 100000000, 100000000)");
  auto store = Open();
  ASSERT_NE(store, nullptr);
  auto schema = store->GetTable("default", "d_buf");
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  EXPECT_TRUE((*schema)->is_buffer());
  ASSERT_TRUE(store->Insert(**schema, Rows(**schema, 0, 40, false)).ok());
  ASSERT_TRUE(store->FlushAll().ok());
  EXPECT_EQ(Query("SELECT count() FROM d_buf_dest"), "40");
  EXPECT_EQ(store->Report().tables.at(0).table, "d_buf_dest");
  ASSERT_TRUE(store->Stop().ok());
}

TEST_F(DeliveryTest, SpooledRowsSurviveAClickHouseOutageAndAStoreRestart) {
  CreateEvents("d_outage");
  {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    auto schema = store->GetTable("default", "d_outage");
    ASSERT_TRUE(schema.ok());
    ASSERT_TRUE(store->Insert(**schema, Rows(**schema, 0, 10, true)).ok());
    ASSERT_TRUE(store->FlushAll().ok());
    server_->Kill();
    // Accepted while ClickHouse is down (the schema is cached), then the store stops.
    ASSERT_TRUE(store->Insert(**schema, Rows(**schema, 10, 25, true)).ok());
    auto waited = store->WaitForDelivery(UINT64_MAX, 300);
    EXPECT_EQ(waited.code(), StatusCode::kTimeout);
    DeliveryReport report = store->Report();
    EXPECT_EQ(report.backlog_rows, 25u);
    EXPECT_FALSE(report.reachable);
    EXPECT_GT(report.lag_micros, 0);
    EXPECT_EQ(metrics::ValueOf("trackhouse_delivery_backlog_rows"), 25);
    std::vector<storage::ReadinessCheck> checks = store->CheckReadiness();
    ASSERT_FALSE(checks.empty());
    EXPECT_EQ(checks[0].name, "clickhouse_reachable");
    EXPECT_FALSE(checks[0].ok);
    ASSERT_TRUE(store->Stop().ok());
  }
  {
    // Restarted while ClickHouse is still down: the table's definition comes from the schema
    // cache (DATA/schemas), and rows are accepted.
    auto store = Open();
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->Report().backlog_rows, 25u);
    auto schema = store->GetTable("default", "d_outage");
    ASSERT_TRUE(schema.ok()) << schema.status().ToString();
    ASSERT_TRUE(store->Insert(**schema, Rows(**schema, 35, 5, true)).ok());
    EXPECT_EQ(store->GetTable("default", "d_unknown").status().code(), StatusCode::kUnavailable);
    ASSERT_TRUE(store->Stop().ok());
  }
  ASSERT_TRUE(server_->Restart(&error_)) << error_;
  EXPECT_EQ(Query("SELECT count() FROM d_outage"), "10");
  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Report().backlog_rows, 30u);
  ASSERT_TRUE(store->FlushAll().ok());
  EXPECT_EQ(Query("SELECT count(), uniqExact(id) FROM d_outage"), "40\t40");
  ASSERT_TRUE(store->Stop().ok());
}

TEST_F(DeliveryTest, ClickHouseKilledAndRestartedUnderARunningStore) {
  CreateEvents("d_killed");
  auto store = Open();
  ASSERT_NE(store, nullptr);
  auto schema = store->GetTable("default", "d_killed");
  ASSERT_TRUE(schema.ok());
  ASSERT_TRUE(store->Insert(**schema, Rows(**schema, 0, 20, true)).ok());
  ASSERT_TRUE(store->FlushAll().ok());
  server_->Kill();
  const int64_t retries_before = metrics::ValueOf("trackhouse_delivery_retries_total");
  ASSERT_TRUE(store->Insert(**schema, Rows(**schema, 20, 30, true)).ok());
  // The flush meets a dead ClickHouse and backs off until it is back.
  Status flushed;
  std::thread flush([&] { flushed = store->FlushAll(); });
  while (metrics::ValueOf("trackhouse_delivery_retries_total") == retries_before) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(server_->Restart(&error_)) << error_;  // same ports, same data
  flush.join();
  ASSERT_TRUE(flushed.ok()) << flushed.ToString();
  EXPECT_EQ(Query("SELECT count(), uniqExact(id) FROM d_killed"), "50\t50");
  ASSERT_TRUE(store->Stop().ok());
}

// ClickHouse stops answering (SIGSTOP) while a batch is sent: the send times out with an unknown
// outcome; once ClickHouse answers again the batch is resolved (the INSERT killed or finished,
// then its block number decides) and its rows are in the table once.
TEST_F(DeliveryTest, SendTimingOutOnAFrozenClickHouseIsResolvedExactlyOnce) {
  CreateEvents("d_frozen");
  DeliveryOptions o = StoreOptions(data_, Options());
  std::thread resume;
  FreezeOnSecondSend(&o, &resume);
  auto store = Open(o);
  ASSERT_NE(store, nullptr);
  auto schema = store->GetTable("default", "d_frozen");
  ASSERT_TRUE(schema.ok());
  ASSERT_TRUE(store->Insert(**schema, Rows(**schema, 0, 10, false)).ok());
  ASSERT_TRUE(store->FlushAll().ok());  // the mechanism and the claim are settled
  const int64_t unknown_before = UnknownOutcomes();
  ASSERT_TRUE(store->Insert(**schema, Rows(**schema, 10, 40, false)).ok());
  Status flushed = store->FlushAll();
  ASSERT_TRUE(resume.joinable());
  resume.join();
  ASSERT_TRUE(flushed.ok()) << flushed.ToString();
  EXPECT_EQ(Query("SELECT count(), uniqExact(id) FROM d_frozen"), "50\t50");
  EXPECT_EQ(UnknownOutcomes(), unknown_before + 1);
  ASSERT_TRUE(store->Stop().ok());
}

// Batches of one table queue behind a batch in flight: while ClickHouse is frozen during the
// second batch's send, the preparer takes and encodes the next one. The frozen send's unknown
// outcome is resolved first, and the prepared batches follow: every row arrives once, one
// part per batch.
TEST_F(DeliveryTest, BatchesPreparedBehindAFrozenSendArriveExactlyOnce) {
  CreateEvents("d_prepared");
  Query("SYSTEM STOP MERGES d_prepared");
  DeliveryOptions o = StoreOptions(data_, Options());
  o.batch_max_rows = 10;
  std::thread resume;
  FreezeOnSecondSend(&o, &resume);
  auto store = Open(o);
  ASSERT_NE(store, nullptr);
  auto schema = store->GetTable("default", "d_prepared");
  ASSERT_TRUE(schema.ok());
  ASSERT_TRUE(store->Insert(**schema, Rows(**schema, 0, 10, false)).ok());
  ASSERT_TRUE(store->FlushAll().ok());
  const int64_t unknown_before = UnknownOutcomes();
  // Four batches of ten (one spool record each).
  for (uint64_t first = 10; first < 50; first += 10) {
    ASSERT_TRUE(store->Insert(**schema, Rows(**schema, first, 10, false)).ok());
  }
  Status flushed = store->FlushAll();
  ASSERT_TRUE(resume.joinable());
  resume.join();
  ASSERT_TRUE(flushed.ok()) << flushed.ToString();
  EXPECT_EQ(store->Report().backlog_rows, 0u);
  EXPECT_EQ(Query("SELECT count(), uniqExact(id), min(id), max(id) FROM d_prepared"),
            "50\t50\t0\t49");
  EXPECT_EQ(Query("SELECT count() FROM system.parts WHERE database = 'default' AND "
                  "table = 'd_prepared' AND active"),
            "5");
  EXPECT_EQ(UnknownOutcomes(), unknown_before + 1);
  ASSERT_TRUE(store->Stop().ok());
}

// Runs this binary as a child that inserts `rows` rows into `table` through a store in `dir`
// and flushes, with `fail_point` armed; returns how the child ended (expects SIGKILL).
int RunCrashingChild(const std::string& dir, const std::string& table, uint64_t rows,
                     const std::string& fail_point, uint16_t port) {
  pid_t pid = fork();
  if (pid == 0) {
    std::string fp = "TRACKHOUSE_FAIL_POINTS=" + fail_point;
    std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
    std::string port_s = std::to_string(port), rows_s = std::to_string(rows);
    std::vector<char*> argv = {self.data(),
                               const_cast<char*>("--child"),
                               const_cast<char*>(dir.c_str()),
                               const_cast<char*>(table.c_str()),
                               rows_s.data(),
                               port_s.data(),
                               nullptr};
    std::vector<char*> envp = {fp.data(), nullptr};
    execve(self.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

int ChildMain(int argc, char** argv) {
  if (argc < 6) return 2;
  clickhouse::ClientOptions ch;
  ch.port = static_cast<uint16_t>(std::stoi(argv[5]));
  DeliveryOptions o = StoreOptions(argv[2], ch);
  auto store = OpenDeliveryStore(o);
  if (!store.ok() || !(*store)->Start().ok()) return 3;
  auto schema = (*store)->GetTable("default", argv[3]);
  if (!schema.ok()) return 4;
  if (!(*store)->Insert(**schema, Rows(**schema, 0, std::stoull(argv[4]), true)).ok()) return 5;
  (void)(*store)->FlushAll();  // the fail point kills the process in here
  return 6;
}

TEST_F(DeliveryTest, CrashAfterClickHouseCommittedIsNotResent) {
  CreateEvents("d_after_send");
  int status =
      RunCrashingChild(data_, "d_after_send", 300, "delivery_after_send", server_->http_port());
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  // Both partitions' batches may or may not have been sent; the first one was.
  const std::string before = Query("SELECT count() FROM d_after_send");
  EXPECT_NE(before, "0");
  const int64_t delivered_before =
      metrics::ValueOf("trackhouse_delivery_unknown_outcomes_total", {{"result", "delivered"}});
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->FlushAll().ok());
  EXPECT_EQ(Query("SELECT count(), uniqExact(id) FROM d_after_send"), "300\t300");
  EXPECT_EQ(
      metrics::ValueOf("trackhouse_delivery_unknown_outcomes_total", {{"result", "delivered"}}),
      delivered_before + 1);
  ASSERT_TRUE(store->Stop().ok());
}

TEST_F(DeliveryTest, CrashBeforeTheSendIsResentOnce) {
  CreateEvents("d_before_send");
  int status =
      RunCrashingChild(data_, "d_before_send", 300, "delivery_before_send", server_->http_port());
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  EXPECT_EQ(Query("SELECT count() FROM d_before_send"), "0");
  const int64_t resent_before =
      metrics::ValueOf("trackhouse_delivery_unknown_outcomes_total", {{"result", "resent"}});
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->FlushAll().ok());
  EXPECT_EQ(Query("SELECT count(), uniqExact(id) FROM d_before_send"), "300\t300");
  EXPECT_EQ(metrics::ValueOf("trackhouse_delivery_unknown_outcomes_total", {{"result", "resent"}}),
            resent_before + 1);
  // Restarting again changes nothing: everything is journaled as delivered.
  ASSERT_TRUE(store->Stop().ok());
  store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Report().backlog_rows, 0u);
  ASSERT_TRUE(store->FlushAll().ok());
  EXPECT_EQ(Query("SELECT count() FROM d_before_send"), "300");
  ASSERT_TRUE(store->Stop().ok());
}

TEST_F(DeliveryTest, CrashBetweenStageAndAttachIsResentOnce) {
  CreateEvents("d_after_stage");
  int status =
      RunCrashingChild(data_, "d_after_stage", 300, "delivery_after_stage", server_->http_port());
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  EXPECT_EQ(Query("SELECT count() FROM d_after_stage"), "0");
  // The stage table holds the batch's rows.
  EXPECT_EQ(Query("SELECT count() FROM system.tables WHERE "
                  "name = '_trackhouse_stage_1_d_after_stage'"),
            "1");
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->FlushAll().ok());
  EXPECT_EQ(Query("SELECT count(), uniqExact(id) FROM d_after_stage"), "300\t300");
  // The fence dropped the stage; the resent batch's own stage is gone too.
  EXPECT_EQ(Query("SELECT count() FROM system.tables WHERE name LIKE '%stage%d_after_stage'"), "0");
  ASSERT_TRUE(store->Stop().ok());
}

TEST_F(DeliveryTest, SchemaChangeDeadLettersTheBatchWithoutBlockingAndReplayDelivers) {
  CreateEvents("d_dead");
  CreateEvents("d_alive");
  auto store = Open();
  ASSERT_NE(store, nullptr);
  auto dead = store->GetTable("default", "d_dead");
  auto alive = store->GetTable("default", "d_alive");
  ASSERT_TRUE(dead.ok() && alive.ok());
  auto dead_insert = store->Insert(**dead, Rows(**dead, 0, 20, false));
  ASSERT_TRUE(dead_insert.ok());
  // The column changes type in ClickHouse while the rows wait in the spool.
  Query("ALTER TABLE d_dead MODIFY COLUMN name UInt64");
  ASSERT_TRUE(store->Insert(**alive, Rows(**alive, 0, 30, false)).ok());
  ASSERT_TRUE(store->FlushAll().ok());
  EXPECT_EQ(Query("SELECT count() FROM d_dead"), "0");
  EXPECT_EQ(Query("SELECT count() FROM d_alive"), "30");
  // wait_for_delivery on those rows hears that they became a dead letter.
  Status waited = store->WaitForDelivery(dead_insert->lsn, 1000);
  EXPECT_EQ(waited.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(waited.clickhouse_code(), 53);
  EXPECT_NE(waited.message().find("dead letter"), std::string::npos) << waited.ToString();
  DeliveryReport report = store->Report();
  EXPECT_EQ(report.dead_letters, 1u);
  EXPECT_EQ(report.backlog_rows, 0u);
  auto letters = ListDeadLetters(env::Env::Posix(), data_ + "/deadletter");
  ASSERT_TRUE(letters.ok()) << letters.status().ToString();
  ASSERT_EQ(letters->size(), 1u);
  EXPECT_EQ((*letters)[0].letter.table, "d_dead");
  EXPECT_EQ((*letters)[0].letter.rows, 20u);
  EXPECT_EQ((*letters)[0].letter.server_code, 53);
  // Replay: the text the names hold ("0", "11", ...) converts into the new UInt64 column.
  clickhouse::Client client(Options());
  Status replayed =
      ReplayDeadLetter(env::Env::Posix(), client, store->capabilities(), (*letters)[0].path);
  ASSERT_TRUE(replayed.ok()) << replayed.ToString();
  EXPECT_EQ(Query("SELECT count(), sum(name) FROM d_dead"), "20\t2090");
  EXPECT_FALSE(std::filesystem::exists((*letters)[0].path));
  ASSERT_TRUE(store->Stop().ok());
}

TEST_F(DeliveryTest, FullSpoolBudgetRefusesUntilDelivered) {
  CreateEvents("d_budget");
  DeliveryOptions o = StoreOptions(data_, Options());
  o.spool_max_bytes = 2000;
  auto store = Open(o);
  ASSERT_NE(store, nullptr);
  auto schema = store->GetTable("default", "d_budget");
  ASSERT_TRUE(schema.ok());
  ASSERT_TRUE(store->Insert(**schema, Rows(**schema, 0, 100, false)).ok());
  auto refused = store->Insert(**schema, Rows(**schema, 100, 100, false));
  EXPECT_EQ(refused.status().code(), StatusCode::kResourceExhausted);
  ASSERT_TRUE(store->FlushAll().ok());
  ASSERT_TRUE(store->Insert(**schema, Rows(**schema, 100, 100, false)).ok());
  ASSERT_TRUE(store->FlushAll().ok());
  EXPECT_EQ(Query("SELECT count() FROM d_budget"), "200");
  ASSERT_TRUE(store->Stop().ok());
}

TEST_F(DeliveryTest, IdempotencyKeySurvivesRestart) {
  CreateEvents("d_keys");
  storage::IdempotencyRecord key{"key-1", "{\"accepted\":5}", Clock::Real()->NowMicros()};
  {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    auto schema = store->GetTable("default", "d_keys");
    ASSERT_TRUE(schema.ok());
    ASSERT_TRUE(store->InsertIdempotent(**schema, Rows(**schema, 0, 5, false), key).ok());
    EXPECT_EQ(store->InsertIdempotent(**schema, Rows(**schema, 0, 5, false), key).status().code(),
              StatusCode::kAlreadyExists);
    ASSERT_TRUE(store->FlushAll().ok());
    ASSERT_TRUE(store->Stop().ok());  // checkpoints: the spool is trimmed, the key kept
  }
  auto store = Open();
  ASSERT_NE(store, nullptr);
  auto found = store->FindIdempotencyKey("key-1");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->answer, key.answer);
  auto schema = store->GetTable("default", "d_keys");
  ASSERT_TRUE(schema.ok());
  EXPECT_EQ(store->InsertIdempotent(**schema, Rows(**schema, 0, 5, false), key).status().code(),
            StatusCode::kAlreadyExists);
  ASSERT_TRUE(store->FlushAll().ok());
  EXPECT_EQ(Query("SELECT count() FROM d_keys"), "5");
  ASSERT_TRUE(store->Stop().ok());
}

}  // namespace
}  // namespace trackhouse::delivery

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "--child") {
    return trackhouse::delivery::ChildMain(argc, argv);
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
