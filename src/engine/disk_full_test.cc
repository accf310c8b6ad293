// The embedded engine on a full disk (ENOSPC, modelled by FaultInjectionEnv::SetNoSpace):
// flushes and merges fail without losing or duplicating a row and without leaving files, inserts
// are refused once the rows held in memory pass their budget, /ready reports the full disk, and
// the background work resumes by itself once space returns.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/error_codes.h"
#include "common/logging.h"
#include "common/metrics.h"
#include "engine/engine.h"
#include "engine/engine_test_util.h"
#include "env/fault_injection_env.h"
#include "types/convert.h"

namespace trackhouse::engine {
namespace {

constexpr char kDdl[] =
    "CREATE TABLE events (id UInt64, name String) ENGINE = MergeTree() ORDER BY id";
constexpr int64_t kJan2024 = 1704067200ll * 1000000;

class DiskFullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.data_dir = "/data";
    options_.env = &env_;
    options_.clock = &clock_;
    options_.merge_threads = 0;
    // The flusher runs only when asked (an insert over a threshold or refused for memory).
    options_.flush_check_interval_ms = 3600 * 1000;
    options_.ttl_check_interval_ms = 3600 * 1000;
  }
  void TearDown() override {
    if (storage_) storage_->Stop().IgnoreError();
  }

  void Open() {
    auto r = OpenEngine(options_);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    storage_ = std::move(r).value();
  }
  // Power loss: every unsynced byte and directory entry is gone, then the engine starts again.
  void CrashAndReopen() {
    env_.Crash();
    storage_->Stop().IgnoreError();
    storage_.reset();
    Open();
  }

  Status Ddl(const std::string& sql) { return ExecuteDdlText(storage_.get(), sql); }

  // Inserts rows with ids [first, first + n); on success adds them to acked_.
  Status Insert(uint64_t first, int n) {
    auto schema = storage_->GetTable("default", "events");
    if (!schema.ok()) return schema.status();
    types::Block b;
    for (const auto& c : (*schema)->columns) b.Add(c.name, c.type, types::MakeColumn(c.type));
    for (int i = 0; i < n; ++i) {
      b.at(0).column->AppendValue(types::Value::UInt(first + i));
      b.at(1).column->AppendValue(types::Value::String("event-" + std::to_string(first + i)));
    }
    auto r = storage_->Insert(**schema, b);
    if (!r.ok()) return r.status();
    for (int i = 0; i < n; ++i) acked_.insert(first + i);
    return Status::OK();
  }

  // Every stored id; a duplicate fails the test.
  std::set<uint64_t> StoredIds() {
    storage::ScanRequest req;
    req.columns = {"id"};
    auto scan = storage_->Scan("default", "events", req);
    EXPECT_TRUE(scan.ok()) << scan.status().ToString();
    std::set<uint64_t> ids;
    if (!scan.ok()) return ids;
    types::Block b;
    while ((*scan)->NextBlock(&b)) {
      for (size_t r = 0; r < b.rows(); ++r) {
        uint64_t id = b.at(0).column->GetValue(r).AsUInt();
        EXPECT_TRUE(ids.insert(id).second) << "id " << id << " is stored twice";
      }
    }
    EXPECT_TRUE((*scan)->status().ok()) << (*scan)->status().ToString();
    return ids;
  }

  // The files of the table's store directory.
  std::vector<std::string> StoreFiles() {
    auto stores = env_.GetChildren("/data/store");
    EXPECT_TRUE(stores.ok() && stores->size() == 1);
    if (!stores.ok() || stores->size() != 1) return {};
    auto files = env_.GetChildren("/data/store/" + stores->front());
    EXPECT_TRUE(files.ok()) << files.status().ToString();
    return files.ok() ? *files : std::vector<std::string>{};
  }

  storage::ReadinessCheck Check(const std::string& name) {
    for (const auto& c : storage_->CheckReadiness()) {
      if (c.name == name) return c;
    }
    ADD_FAILURE() << "no readiness check " << name;
    return {};
  }

  // Waits (bounded) for the background flusher to bring `done` about.
  template <typename Pred>
  bool Eventually(Pred done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
  }

  // Retries inserting n rows from *next (moving it on) until one insert is accepted; false if
  // none is.
  bool InsertSucceedsEventually(uint64_t* next, int n) {
    return Eventually([&] {
      Status s = Insert(*next, n);
      *next += n;
      return s.ok();
    });
  }

  static int64_t DiskFullErrors() {
    return metrics::GetCounter("trackhouse_engine_disk_full_total", "").value();
  }

  env::FaultInjectionEnv env_;
  ManualClock clock_{kJan2024};
  EngineOptions options_;
  std::unique_ptr<storage::Storage> storage_;
  std::set<uint64_t> acked_;
};

TEST_F(DiskFullTest, AFlushOnAFullDiskKeepsItsRowsAndLeavesNoPartFiles) {
  Open();
  ASSERT_TRUE(Ddl(kDdl).ok());
  for (uint64_t first : {0, 100, 200}) ASSERT_TRUE(Insert(first, 100).ok());

  env_.SetNoSpace(true);
  Status flush = storage_->FlushAll();
  EXPECT_EQ(flush.code(), StatusCode::kResourceExhausted) << flush.ToString();
  EXPECT_EQ(flush.clickhouse_code(), ch::kNotEnoughSpace) << flush.ToString();
  EXPECT_EQ(StoredIds(), acked_) << "the rows of the failed flush must stay readable";
  EXPECT_EQ(StoreFiles(), std::vector<std::string>{"state"}) << "half-written part files";
  EXPECT_EQ(GetEngineStats(storage_.get()).memtable_rows, 300u);
  Status insert = Insert(1000, 10);
  EXPECT_EQ(insert.code(), StatusCode::kResourceExhausted) << insert.ToString();

  env_.SetNoSpace(false);
  CrashAndReopen();
  EXPECT_EQ(StoredIds(), acked_);
  ASSERT_TRUE(storage_->FlushAll().ok());
  EXPECT_EQ(GetEngineStats(storage_.get()).parts_active, 1u);
  CrashAndReopen();
  EXPECT_EQ(StoredIds(), acked_);
}

TEST_F(DiskFullTest, BackgroundFlushesFailWhileTheDiskIsFullAndResumeByThemselves) {
  options_.flush_age_ms = 1000;
  options_.flush_check_interval_ms = 2;
  Open();
  ASSERT_TRUE(Ddl(kDdl).ok());
  ASSERT_TRUE(Insert(0, 200).ok());
  const int64_t errors_before = DiskFullErrors();

  env_.SetNoSpace(true);
  clock_.Advance(2 * 1000 * 1000);  // the rows are now old enough to be flushed
  ASSERT_TRUE(Eventually([&] { return !Check("disk").ok; })) << "the flush never failed";
  EXPECT_NE(Check("disk").detail.find("disk full"), std::string::npos) << Check("disk").detail;
  EXPECT_GT(DiskFullErrors(), errors_before);
  EXPECT_EQ(StoredIds(), acked_);
  EXPECT_EQ(GetEngineStats(storage_.get()).flushes, 0u);

  // The retry waits for its backoff (the manual clock stands still), then succeeds.
  env_.SetNoSpace(false);
  clock_.Advance(300 * 1000);
  ASSERT_TRUE(Eventually([&] { return GetEngineStats(storage_.get()).memtable_rows == 0; }))
      << "the flush did not resume";
  EXPECT_TRUE(Eventually([&] { return Check("disk").ok; })) << Check("disk").detail;
  EXPECT_EQ(GetEngineStats(storage_.get()).parts_active, 1u);
  EXPECT_EQ(StoreFiles().size(), 2u) << "state and one part";
  CrashAndReopen();
  EXPECT_EQ(StoredIds(), acked_);
}

TEST_F(DiskFullTest, InsertsBeyondTheMemoryBudgetAreRefusedWhileFlushesFail) {
  logging::CaptureForTesting logs;  // back-pressure and the full disk are logged as they change
  options_.memtable_budget_bytes = 16 << 10;
  Open();
  ASSERT_TRUE(Ddl(kDdl).ok());
  uint64_t next = 0;
  // Fill memory past twice its budget; nothing asks the flusher to run meanwhile.
  while (Check("memory_budget").ok) {
    ASSERT_TRUE(Insert(next, 100).ok());
    next += 100;
  }

  env_.SetNoSpace(true);
  Status refused = Insert(next, 100);  // refused before the log, and wakes the flusher
  next += 100;
  EXPECT_EQ(refused.code(), StatusCode::kResourceExhausted) << refused.ToString();
  EXPECT_TRUE(logs.Contains("backpressure_started"));
  ASSERT_TRUE(Eventually([&] { return !Check("disk").ok; })) << "the flush never failed";
  EXPECT_TRUE(Eventually([&] { return logs.Contains("flush_disk_full"); }));
  EXPECT_TRUE(logs.Contains("flush_failed"));
  refused = Insert(next, 100);
  next += 100;
  EXPECT_EQ(refused.code(), StatusCode::kResourceExhausted) << refused.ToString();
  EXPECT_EQ(refused.clickhouse_code(), ch::kNotEnoughSpace) << refused.ToString();
  EXPECT_NE(refused.message().find("disk is full"), std::string::npos) << refused.ToString();
  EXPECT_EQ(StoredIds(), acked_);

  // Space returns: a refused insert wakes the flusher, whose retry frees memory.
  env_.SetNoSpace(false);
  clock_.Advance(300 * 1000);
  ASSERT_TRUE(InsertSucceedsEventually(&next, 100)) << "inserts were never accepted again";
  EXPECT_TRUE(Eventually([&] { return logs.Contains("flush_disk_recovered"); }));
  EXPECT_TRUE(Eventually([&] { return logs.Contains("backpressure_stopped"); }));
  EXPECT_GE(GetEngineStats(storage_.get()).parts_active, 1u);
  EXPECT_TRUE(Check("disk").ok) << Check("disk").detail;
  CrashAndReopen();
  EXPECT_EQ(StoredIds(), acked_) << "an acknowledged row is missing or a refused one stored";
}

TEST_F(DiskFullTest, FullAndRecoveredLogIsLoggedOnceEach) {
  logging::CaptureForTesting logs;
  options_.flush_check_interval_ms = 2;  // the flusher looks at the log's health every round
  Open();
  ASSERT_TRUE(Ddl(kDdl).ok());
  ASSERT_TRUE(Insert(0, 10).ok());

  env_.SetNoSpace(true);
  EXPECT_FALSE(Insert(10, 10).ok());
  ASSERT_TRUE(Eventually([&] { return logs.Contains("log_disk_full"); }));
  EXPECT_FALSE(logs.Contains("log_disk_recovered"));

  env_.SetNoSpace(false);
  uint64_t next = 20;
  ASSERT_TRUE(InsertSucceedsEventually(&next, 10)) << "inserts were never accepted again";
  ASSERT_TRUE(Eventually([&] { return logs.Contains("log_disk_recovered"); }));
  EXPECT_FALSE(logs.Contains("log_failed"));
  int full = 0;
  for (const auto& line : logs.lines()) full += line.find(" log_disk_full ") != std::string::npos;
  EXPECT_EQ(full, 1) << "one line per change of state, not one per round";
}

TEST_F(DiskFullTest, AMergeOnAFullDiskLeavesItsPartsAndNoFiles) {
  Open();
  ASSERT_TRUE(Ddl(kDdl).ok());
  for (uint64_t first : {0, 100, 200}) {
    ASSERT_TRUE(Insert(first, 100).ok());
    ASSERT_TRUE(storage_->FlushAll().ok());
  }
  const std::vector<std::string> files = StoreFiles();
  ASSERT_EQ(files.size(), 4u) << "state and three parts";

  env_.SetNoSpace(true);
  Status merge = Ddl("OPTIMIZE TABLE events FINAL");
  EXPECT_EQ(merge.code(), StatusCode::kResourceExhausted) << merge.ToString();
  EXPECT_EQ(StoreFiles(), files);
  EXPECT_EQ(StoredIds(), acked_);

  env_.SetNoSpace(false);
  ASSERT_TRUE(Ddl("OPTIMIZE TABLE events FINAL").ok());
  EXPECT_EQ(GetEngineStats(storage_.get()).parts_active, 1u);
  CrashAndReopen();
  EXPECT_EQ(StoredIds(), acked_);
}

}  // namespace
}  // namespace trackhouse::engine
