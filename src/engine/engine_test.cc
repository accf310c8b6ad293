#include "engine/engine.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "engine/engine_test_util.h"
#include "env/fault_injection_env.h"
#include "env/mem_env.h"
#include "sql/parser.h"
#include "types/convert.h"

namespace trackhouse::engine {
namespace {

using types::Block;
using types::Value;

constexpr char kEntityDdl[] = R"(CREATE TABLE entityMetricEvents (
  entityType LowCardinality(String),
  entityId   Int32,
  userId     Int32,
  metricType LowCardinality(String),
  metricValue Int32,
  createdAt  DateTime64(3)
) ENGINE = MergeTree()
ORDER BY (entityType, entityId, createdAt);)";

// 2024-01-01 00:00:00 UTC in microseconds.
constexpr int64_t kJan2024 = 1704067200ll * 1000000;

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    clock_ = std::make_unique<ManualClock>(kJan2024);
    options_.data_dir = "/data";
    options_.env = &env_;
    options_.clock = clock_.get();
    options_.merge_threads = 0;  // merges run when a test asks
    options_.flush_check_interval_ms = 3600 * 1000;
    options_.ttl_check_interval_ms = 3600 * 1000 * 24;
  }

  void Open() {
    auto r = OpenEngine(options_);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    storage_ = std::move(r).value();
  }
  void Reopen() {
    ASSERT_TRUE(storage_->Stop().ok());
    storage_.reset();
    Open();
  }

  Status Ddl(const std::string& sql) { return ExecuteDdlText(storage_.get(), sql); }

  size_t TableCount() {
    auto t = storage_->ListTables("default");
    if (!t.ok()) return 0;
    return t.value().size();
  }

  storage::TableSchemaPtr Schema(const std::string& table) {
    auto s = storage_->GetTable("default", table);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : nullptr;
  }

  // Rows of entityMetricEvents: entityId = base + i, createdAt = t0 + i seconds.
  Block EntityRows(const storage::TableSchema& schema, int n, int base, int64_t t0_ms) {
    Block b;
    for (const auto& c : schema.columns) b.Add(c.name, c.type, types::MakeColumn(c.type));
    for (int i = 0; i < n; ++i) {
      for (auto& c : b.columns()) {
        if (c.name == "entityType")
          c.column->AppendValue(Value::String(i % 3 ? "Model" : "Image"));
        else if (c.name == "entityId")
          c.column->AppendValue(Value::Int(base + i));
        else if (c.name == "userId")
          c.column->AppendValue(Value::Int(i % 7));
        else if (c.name == "metricType")
          c.column->AppendValue(Value::String(i % 2 ? "View" : "Download"));
        else if (c.name == "metricValue")
          c.column->AppendValue(Value::Int(1));
        else if (c.name == "createdAt")
          c.column->AppendValue(Value::Int(t0_ms + i * 1000));
        else
          c.column->AppendValue(types::DefaultValue(*c.type));
      }
    }
    return b;
  }

  Result<storage::InsertResult> Insert(const std::string& table, const Block& b) {
    return storage_->Insert(*Schema(table), b);
  }

  // All rows of a table as text lines "v1|v2|...", sorted.
  std::multiset<std::string> Rows(const std::string& table, std::vector<std::string> cols = {}) {
    auto schema = Schema(table);
    if (cols.empty()) {
      for (const auto& c : schema->columns) cols.push_back(c.name);
    }
    storage::ScanRequest req;
    req.columns = cols;
    auto scan = storage_->Scan("default", table, req);
    EXPECT_TRUE(scan.ok()) << scan.status().ToString();
    std::multiset<std::string> out;
    Block b;
    while ((*scan)->NextBlock(&b)) {
      for (size_t r = 0; r < b.rows(); ++r) {
        std::string line;
        for (size_t c = 0; c < b.num_columns(); ++c) {
          if (c) line += "|";
          line += types::FormatValueText(b.at(c).column->GetValue(r), *b.at(c).type);
        }
        out.insert(line);
      }
    }
    EXPECT_TRUE((*scan)->status().ok()) << (*scan)->status().ToString();
    return out;
  }

  env::FaultInjectionEnv env_;
  std::unique_ptr<ManualClock> clock_;
  EngineOptions options_;
  std::unique_ptr<storage::Storage> storage_;
};

TEST_F(EngineTest, GuideDdlIsAcceptedVerbatim) {
  Open();
  ASSERT_TRUE(Ddl(kEntityDdl).ok());
  ASSERT_TRUE(Ddl(R"(CREATE TABLE my_feature_events (
  feature_id UInt32,
  user_id UInt32,
  action LowCardinality(String),
  metadata String,  -- JSON for flexible data
  created_at DateTime DEFAULT now()
) ENGINE = MergeTree()
PARTITION BY toYYYYMM(created_at)
ORDER BY (feature_id, created_at)
TTL created_at + INTERVAL 90 DAY;  -- Auto-cleanup old data)")
                  .ok());
  ASSERT_TRUE(
      Ddl("CREATE TABLE my_events (id UInt64, ts DateTime) ENGINE = MergeTree() ORDER BY ts").ok());
  Status s = Ddl(R"(CREATE TABLE my_events_buffer AS my_events
ENGINE = Buffer(
  default,        -- database
  my_events,      -- destination table
  16,             -- num_layers
  10, 100,        -- min/max seconds
  10000, 1000000, -- min/max rows
  10000000, 100000000  -- min/max bytes
);)");
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(TableCount(), 4u);
  EXPECT_EQ(Schema("my_events_buffer")->columns.size(), 2u);
  EXPECT_TRUE(Schema("my_events_buffer")->is_buffer());
  Reopen();
  EXPECT_EQ(TableCount(), 4u);
  EXPECT_EQ(Schema("my_feature_events")->columns[4].default_expr, "now()");
}

TEST_F(EngineTest, DdlErrorsCarryClickHouseCodes) {
  Open();
  ASSERT_TRUE(Ddl(kEntityDdl).ok());
  EXPECT_EQ(Ddl(kEntityDdl).clickhouse_code(), ch::kTableAlreadyExists);
  EXPECT_TRUE(Ddl(std::string(kEntityDdl).insert(12, " IF NOT EXISTS")).ok());
  EXPECT_EQ(Ddl("CREATE TABLE t (a Strin) ENGINE = MergeTree ORDER BY a").clickhouse_code(),
            ch::kUnknownType);
  EXPECT_EQ(Ddl("CREATE TABLE t (a String) ENGINE = Foo ORDER BY a").clickhouse_code(),
            ch::kUnknownStorage);
  EXPECT_EQ(Ddl("CREATE TABLE t (a String) ENGINE = MergeTree ORDER BY b").clickhouse_code(),
            ch::kUnknownIdentifier);
  EXPECT_EQ(Ddl("DROP TABLE nope").clickhouse_code(), ch::kUnknownTable);
  EXPECT_TRUE(Ddl("DROP TABLE IF EXISTS nope").ok());
  EXPECT_EQ(Ddl("CREATE TABLE nodb.t (a String) ENGINE = MergeTree ORDER BY a").clickhouse_code(),
            ch::kUnknownDatabase);
  EXPECT_FALSE(
      Ddl("CREATE TABLE b AS nope ENGINE = Buffer(default, nope, 1, 1, 1, 1, 1, 1, 1)").ok());
  EXPECT_EQ(Ddl("CREATE TABLE b2 (a String) ENGINE = Buffer(default, x, 16)").clickhouse_code(),
            ch::kNumberOfArgumentsDoesntMatch);
  // Nothing stored was lost by the failures.
  EXPECT_EQ(TableCount(), 1u);
}

TEST_F(EngineTest, InsertIsVisibleAndSurvivesRestartBeforeAndAfterFlush) {
  Open();
  ASSERT_TRUE(Ddl(kEntityDdl).ok());
  auto schema = Schema("entityMetricEvents");
  ASSERT_TRUE(Insert("entityMetricEvents", EntityRows(*schema, 100, 0, 1704067200000)).ok());
  EXPECT_EQ(Rows("entityMetricEvents").size(), 100u);
  Reopen();  // from the log
  EXPECT_EQ(Rows("entityMetricEvents").size(), 100u);
  ASSERT_TRUE(storage_->FlushAll().ok());
  ASSERT_TRUE(Insert("entityMetricEvents",
                     EntityRows(*Schema("entityMetricEvents"), 50, 1000, 1704067200000))
                  .ok());
  auto before = Rows("entityMetricEvents");
  EXPECT_EQ(before.size(), 150u);
  Reopen();  // parts + log tail
  EXPECT_EQ(Rows("entityMetricEvents"), before);
  EXPECT_EQ(GetEngineStats(storage_.get()).recovered_rows, 50u);
}

TEST_F(EngineTest, FlushSortsPartsByOrderByKey) {
  Open();
  ASSERT_TRUE(Ddl(kEntityDdl).ok());
  auto schema = Schema("entityMetricEvents");
  ASSERT_TRUE(Insert("entityMetricEvents", EntityRows(*schema, 30, 100, 1704067200000)).ok());
  ASSERT_TRUE(Insert("entityMetricEvents", EntityRows(*schema, 30, 0, 1704067200000)).ok());
  ASSERT_TRUE(storage_->FlushAll().ok());
  storage::ScanRequest req;
  req.columns = {"entityType", "entityId"};
  auto scan = storage_->Scan("default", "entityMetricEvents", req);
  ASSERT_TRUE(scan.ok());
  Block b;
  std::vector<std::pair<std::string, int64_t>> keys;
  while ((*scan)->NextBlock(&b)) {
    for (size_t r = 0; r < b.rows(); ++r) {
      keys.emplace_back(b.at(0).column->GetValue(r).string_value(),
                        b.at(1).column->GetValue(r).AsInt());
    }
  }
  ASSERT_EQ(keys.size(), 60u);
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
  EXPECT_EQ((*scan)->parts_total(), 1u);
}

TEST_F(EngineTest, ScanPrunesPartsAndGranulesByKeyAndMinMax) {
  options_.index_granularity = 16;
  Open();
  ASSERT_TRUE(Ddl(kEntityDdl).ok());
  // Two parts with disjoint entityId ranges, 64 granules each.
  ASSERT_TRUE(Insert("entityMetricEvents",
                     EntityRows(*Schema("entityMetricEvents"), 1024, 0, 1704067200000))
                  .ok());
  ASSERT_TRUE(storage_->FlushAll().ok());
  ASSERT_TRUE(Insert("entityMetricEvents",
                     EntityRows(*Schema("entityMetricEvents"), 1024, 5000, 1704067200000))
                  .ok());
  ASSERT_TRUE(storage_->FlushAll().ok());
  auto count = [&](const std::string& where, uint64_t* parts, uint64_t* granules) {
    auto expr = sql::ParseExpression(where);
    EXPECT_TRUE(expr.ok()) << where;
    storage::ScanRequest req;
    req.columns = {"entityType", "entityId"};
    req.prune_filter = expr->get();
    req.now_micros = kJan2024;
    auto scan = storage_->Scan("default", "entityMetricEvents", req);
    EXPECT_TRUE(scan.ok());
    Block b;
    size_t matching = 0;
    while ((*scan)->NextBlock(&b)) {
      for (size_t r = 0; r < b.rows(); ++r) {
        matching += b.at(0).column->GetValue(r).string_value() == "Model" &&
                    b.at(1).column->GetValue(r).AsInt() == 5010;
      }
    }
    *parts = (*scan)->parts_selected();
    *granules = (*scan)->granules_selected();
    return matching;
  };
  uint64_t parts, granules;
  EXPECT_EQ(count("entityType = 'Model' AND entityId = 5010", &parts, &granules), 1u);
  EXPECT_EQ(parts, 1u);
  EXPECT_LE(granules, 2u);
  EXPECT_EQ(count("entityId IN (5010, 5011) AND 'Model' = entityType", &parts, &granules), 1u);
  EXPECT_EQ(parts, 1u);
  EXPECT_EQ(count("entityId > 100000", &parts, &granules), 0u);
  EXPECT_EQ(parts, 0u);
  EXPECT_EQ(count("createdAt > now() - INTERVAL 7 DAY", &parts, &granules), 1u);
  EXPECT_EQ(parts, 2u);  // every row is recent: nothing pruned, nothing lost
  EXPECT_EQ(count("metricValue = 1 OR entityId = 3", &parts, &granules), 1u);
  EXPECT_EQ(granules, 128u);  // OR is not used for pruning
}

TEST_F(EngineTest, MergesKeepRowsAndReducePartCount) {
  options_.merge_min_parts = 3;
  Open();
  ASSERT_TRUE(Ddl(kEntityDdl).ok());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(Insert("entityMetricEvents",
                       EntityRows(*Schema("entityMetricEvents"), 20, i * 20, 1704067200000))
                    .ok());
    ASSERT_TRUE(storage_->FlushAll().ok());
  }
  auto before = Rows("entityMetricEvents");
  EXPECT_EQ(GetEngineStats(storage_.get()).parts_active, 5u);
  ASSERT_TRUE(Ddl("OPTIMIZE TABLE entityMetricEvents FINAL").ok());
  EXPECT_EQ(GetEngineStats(storage_.get()).parts_active, 1u);
  EXPECT_EQ(Rows("entityMetricEvents"), before);
  Reopen();
  EXPECT_EQ(GetEngineStats(storage_.get()).parts_active, 1u);
  EXPECT_EQ(Rows("entityMetricEvents"), before);
}

TEST_F(EngineTest, ReplacingAndSummingApplyTheirRulesOnMerge) {
  Open();
  ASSERT_TRUE(Ddl("CREATE TABLE r (k UInt32, v String, ver UInt32) ENGINE = "
                  "ReplacingMergeTree(ver) ORDER BY k")
                  .ok());
  ASSERT_TRUE(Ddl("CREATE TABLE s (k UInt32, n Int64, f Float64, tag String) ENGINE = "
                  "SummingMergeTree() ORDER BY k")
                  .ok());
  auto rs = Schema("r");
  auto ss = Schema("s");
  auto row = [](const storage::TableSchema& sc, std::vector<Value> vals) {
    Block b;
    for (size_t i = 0; i < sc.columns.size(); ++i) {
      auto col = types::MakeColumn(sc.columns[i].type);
      col->AppendValue(*types::ConvertValue(vals[i], *sc.columns[i].type));
      b.Add(sc.columns[i].name, sc.columns[i].type, col);
    }
    return b;
  };
  ASSERT_TRUE(
      storage_->Insert(*rs, row(*rs, {Value::UInt(1), Value::String("old"), Value::UInt(2)})).ok());
  ASSERT_TRUE(
      storage_->Insert(*rs, row(*rs, {Value::UInt(1), Value::String("newer"), Value::UInt(5)}))
          .ok());
  ASSERT_TRUE(
      storage_->Insert(*rs, row(*rs, {Value::UInt(1), Value::String("stale"), Value::UInt(3)}))
          .ok());
  ASSERT_TRUE(
      storage_->Insert(*rs, row(*rs, {Value::UInt(2), Value::String("only"), Value::UInt(1)}))
          .ok());
  ASSERT_TRUE(storage_
                  ->Insert(*ss, row(*ss, {Value::UInt(7), Value::Int(3), Value::Float(0.5),
                                          Value::String("a")}))
                  .ok());
  ASSERT_TRUE(storage_
                  ->Insert(*ss, row(*ss, {Value::UInt(7), Value::Int(4), Value::Float(1.0),
                                          Value::String("b")}))
                  .ok());
  ASSERT_TRUE(storage_
                  ->Insert(*ss, row(*ss, {Value::UInt(8), Value::Int(1), Value::Float(0),
                                          Value::String("c")}))
                  .ok());
  EXPECT_EQ(Rows("r").size(), 4u);  // before a merge, all versions are visible
  ASSERT_TRUE(Ddl("OPTIMIZE TABLE r FINAL").ok());
  ASSERT_TRUE(Ddl("OPTIMIZE TABLE s FINAL").ok());
  EXPECT_EQ(Rows("r"), (std::multiset<std::string>{"1|newer|5", "2|only|1"}));
  EXPECT_EQ(Rows("s"), (std::multiset<std::string>{"7|7|1.5|a", "8|1|0|c"}));
}

TEST_F(EngineTest, TtlRemovesExpiredRowsAndDropsExpiredParts) {
  Open();
  ASSERT_TRUE(
      Ddl("CREATE TABLE ev (id UInt32, created_at DateTime DEFAULT now()) ENGINE = MergeTree() "
          "PARTITION BY toYYYYMM(created_at) ORDER BY (id, created_at) "
          "TTL created_at + INTERVAL 90 DAY")
          .ok());
  auto sc = Schema("ev");
  auto rows = [&](std::vector<std::pair<uint32_t, std::string>> v) {
    Block b;
    auto id = types::MakeColumn(sc->columns[0].type);
    auto ts = types::MakeColumn(sc->columns[1].type);
    for (auto& [i, t] : v) {
      id->AppendValue(Value::UInt(i));
      ts->AppendValue(*types::ParseValueText(t, *sc->columns[1].type));
    }
    b.Add("id", sc->columns[0].type, id);
    b.Add("created_at", sc->columns[1].type, ts);
    return b;
  };
  // November: one part, all old. January: fresh rows.
  ASSERT_TRUE(
      storage_->Insert(*sc, rows({{1, "2023-09-01 00:00:00"}, {2, "2023-09-02 00:00:00"}})).ok());
  ASSERT_TRUE(
      storage_->Insert(*sc, rows({{3, "2023-12-30 00:00:00"}, {4, "2023-12-31 00:00:00"}})).ok());
  ASSERT_TRUE(storage_->FlushAll().ok());
  EXPECT_EQ(GetEngineStats(storage_.get()).parts_active, 2u);
  clock_->Set(kJan2024 + 60ll * 86400 * 1000000);  // March 1st: September rows expired
  ASSERT_TRUE(Ddl("ALTER TABLE ev MODIFY TTL created_at + INTERVAL 90 DAY").ok());
  EXPECT_EQ(Rows("ev", {"id"}), (std::multiset<std::string>{"3", "4"}));
  EXPECT_EQ(GetEngineStats(storage_.get()).parts_active, 1u);  // September's part dropped whole
  ASSERT_TRUE(Ddl("ALTER TABLE ev MODIFY TTL created_at + INTERVAL 1 DAY").ok());
  EXPECT_TRUE(Rows("ev").empty());
  Reopen();
  EXPECT_TRUE(Rows("ev").empty());
}

TEST_F(EngineTest, BufferRowsAreDurableAndVisibleOnceThroughBoth) {
  Open();
  ASSERT_TRUE(
      Ddl("CREATE TABLE my_events (id UInt64, ts DateTime) ENGINE = MergeTree() ORDER BY ts").ok());
  ASSERT_TRUE(Ddl("CREATE TABLE my_events_buffer AS my_events ENGINE = Buffer(default, my_events, "
                  "16, 10, 100, 10000, 1000000, 10000000, 100000000)")
                  .ok());
  auto sc = Schema("my_events_buffer");
  Block b;
  auto id = types::MakeColumn(sc->columns[0].type);
  auto ts = types::MakeColumn(sc->columns[1].type);
  for (int i = 0; i < 10; ++i) {
    id->AppendValue(Value::UInt(i));
    ts->AppendValue(Value::UInt(1704067200 + i));
  }
  b.Add("id", sc->columns[0].type, id);
  b.Add("ts", sc->columns[1].type, ts);
  ASSERT_TRUE(storage_->Insert(*sc, b).ok());
  EXPECT_EQ(Rows("my_events").size(), 10u);
  EXPECT_EQ(Rows("my_events_buffer").size(), 10u);
  Reopen();  // no flush happened: the rows come back from the log
  EXPECT_EQ(Rows("my_events").size(), 10u);
  EXPECT_EQ(Rows("my_events_buffer"), Rows("my_events"));
}

TEST_F(EngineTest, AlterAddColumnReadsDefaultForOldParts) {
  Open();
  ASSERT_TRUE(Ddl(kEntityDdl).ok());
  ASSERT_TRUE(
      Insert("entityMetricEvents", EntityRows(*Schema("entityMetricEvents"), 5, 0, 1704067200000))
          .ok());
  ASSERT_TRUE(
      Ddl("ALTER TABLE entityMetricEvents ADD COLUMN source LowCardinality(String) DEFAULT 'web'")
          .ok());
  ASSERT_TRUE(Ddl("ALTER TABLE entityMetricEvents ADD COLUMN IF NOT EXISTS source String").ok());
  EXPECT_EQ(Ddl("ALTER TABLE entityMetricEvents ADD COLUMN source String").clickhouse_code(),
            ch::kDuplicateColumn);
  ASSERT_TRUE(
      Insert("entityMetricEvents", EntityRows(*Schema("entityMetricEvents"), 2, 100, 1704067200000))
          .ok());
  auto src = Rows("entityMetricEvents", {"source"});
  EXPECT_EQ(src.count("web"), 5u);  // old part: the DEFAULT
  EXPECT_EQ(src.count(""), 2u);     // new rows built by this test with the type default
  ASSERT_TRUE(Ddl("ALTER TABLE entityMetricEvents DROP COLUMN userId").ok());
  EXPECT_EQ(Ddl("ALTER TABLE entityMetricEvents DROP COLUMN entityId").clickhouse_code(),
            ch::kIllegalColumn);
  Reopen();
  EXPECT_EQ(Schema("entityMetricEvents")->columns.size(), 6u);
  EXPECT_EQ(Rows("entityMetricEvents", {"source"}).count("web"), 5u);
}

TEST_F(EngineTest, InsertsRacingAlterAreNeitherLostNorMisshaped) {
  options_.flush_rows = 500;
  options_.flush_check_interval_ms = 1;
  Open();
  ASSERT_TRUE(Ddl(kEntityDdl).ok());
  std::atomic<int> stored{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < 2; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; !stop.load() && i < 300; ++i) {
        while (true) {
          auto schema = Schema("entityMetricEvents");
          auto r =
              storage_->Insert(*schema, EntityRows(*schema, 5, (w * 1000 + i) * 5, 1704067200000));
          if (r.ok()) {
            stored += 5;
            break;
          }
          ASSERT_EQ(r.status().code(), StatusCode::kAborted) << r.status().ToString();
        }
      }
    });
  }
  for (int k = 0; k < 4; ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ASSERT_TRUE(
        Ddl("ALTER TABLE entityMetricEvents ADD COLUMN c" + std::to_string(k) + " UInt8 DEFAULT 7")
            .ok());
  }
  stop = true;
  for (auto& t : writers) t.join();
  EXPECT_EQ(Rows("entityMetricEvents").size(), static_cast<size_t>(stored.load()));
  Reopen();
  EXPECT_EQ(Rows("entityMetricEvents").size(), static_cast<size_t>(stored.load()));
  EXPECT_EQ(Rows("entityMetricEvents", {"c3"}).size(), static_cast<size_t>(stored.load()));
}

TEST_F(EngineTest, DropPartitionDeleteWhereAndTruncate) {
  Open();
  ASSERT_TRUE(Ddl("CREATE TABLE ev (id UInt32, d Date) ENGINE = MergeTree() PARTITION BY "
                  "toYYYYMM(d) ORDER BY id")
                  .ok());
  auto sc = Schema("ev");
  Block b;
  auto id = types::MakeColumn(sc->columns[0].type);
  auto d = types::MakeColumn(sc->columns[1].type);
  for (int i = 0; i < 60; ++i) {
    id->AppendValue(Value::UInt(i));
    d->AppendValue(
        *types::ParseValueText(i < 30 ? "2024-01-15" : "2024-02-15", *sc->columns[1].type));
  }
  b.Add("id", sc->columns[0].type, id);
  b.Add("d", sc->columns[1].type, d);
  ASSERT_TRUE(storage_->Insert(*sc, b).ok());
  ASSERT_TRUE(Ddl("ALTER TABLE ev DROP PARTITION 202401").ok());
  EXPECT_EQ(Rows("ev").size(), 30u);
  ASSERT_TRUE(Ddl("ALTER TABLE ev DELETE WHERE id < 40 OR id = 59").ok());
  EXPECT_EQ(Rows("ev").size(), 19u);
  Reopen();
  EXPECT_EQ(Rows("ev").size(), 19u);
  ASSERT_TRUE(Ddl("TRUNCATE TABLE ev").ok());
  EXPECT_TRUE(Rows("ev").empty());
  Reopen();
  EXPECT_TRUE(Rows("ev").empty());
}

TEST_F(EngineTest, DataDirectoryIsHeldByOneEngine) {
  Open();
  auto second = OpenEngine(options_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find("in use"), std::string::npos);
}

TEST_F(EngineTest, CorruptedPartIsReportedWithFileName) {
  Open();
  ASSERT_TRUE(Ddl(kEntityDdl).ok());
  ASSERT_TRUE(
      Insert("entityMetricEvents", EntityRows(*Schema("entityMetricEvents"), 100, 0, 1704067200000))
          .ok());
  ASSERT_TRUE(storage_->FlushAll().ok());
  ASSERT_TRUE(storage_->Stop().ok());
  storage_.reset();
  // Flip a byte in the middle of every column file of the table's one part.
  auto stores = *env_.GetChildren("/data/store");
  ASSERT_EQ(stores.size(), 1u);
  std::string tdir = "/data/store/" + stores[0];
  std::string part;
  auto children = env_.GetChildren(tdir);
  ASSERT_TRUE(children.ok());
  for (const auto& c : *children) {
    if (env_.IsDirectory(tdir + "/" + c)) part = tdir + "/" + c;
  }
  ASSERT_FALSE(part.empty());
  std::string victim = part + "/entityId.bin";
  std::string data;
  ASSERT_TRUE(env_.ReadFileToString(victim, &data).ok());
  data[data.size() / 2] ^= 0x5a;
  ASSERT_TRUE(env_.WriteStringToFileSync(victim, data).ok());
  auto r = OpenEngine(options_);
  if (!r.ok()) {
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
    EXPECT_NE(r.status().message().find("entityId"), std::string::npos) << r.status().message();
    return;
  }
  storage_ = std::move(r).value();
  storage::ScanRequest req;
  req.columns = {"entityId"};
  auto scan = storage_->Scan("default", "entityMetricEvents", req);
  ASSERT_TRUE(scan.ok());
  Block b;
  while ((*scan)->NextBlock(&b)) {
  }
  EXPECT_EQ((*scan)->status().code(), StatusCode::kCorruption);
  EXPECT_NE((*scan)->status().message().find("entityId"), std::string::npos)
      << (*scan)->status().message();
}

TEST_F(EngineTest, CorruptedLogIsReportedWithFileAndOffset) {
  Open();
  ASSERT_TRUE(Ddl(kEntityDdl).ok());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(Insert("entityMetricEvents",
                       EntityRows(*Schema("entityMetricEvents"), 50, i * 50, 1704067200000))
                    .ok());
  }
  ASSERT_TRUE(storage_->Stop().ok());
  storage_.reset();
  auto segs = env_.GetChildren("/data/wal");
  ASSERT_TRUE(segs.ok());
  std::string seg;
  for (const auto& f : *segs) {
    if (f.ends_with(".log")) seg = "/data/wal/" + f;
  }
  ASSERT_FALSE(seg.empty());
  std::string data;
  ASSERT_TRUE(env_.ReadFileToString(seg, &data).ok());
  data[data.size() / 3] ^= 0x40;  // inside the first records, with intact records after it
  ASSERT_TRUE(env_.WriteStringToFileSync(seg, data).ok());
  auto r = OpenEngine(options_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find(seg), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("offset"), std::string::npos) << r.status().message();
}

// Power loss at a random point while inserts run: every acknowledged row is there after
// recovery, exactly once, and nothing that was never acknowledged... may be there only if its
// sync completed (then it is durable, just unacknowledged).
TEST_F(EngineTest, CrashKeepsExactlyTheAcknowledgedRows) {
  for (int round = 0; round < 6; ++round) {
    SCOPED_TRACE(round);
    env::FaultInjectionEnv env;
    options_.env = &env;
    options_.flush_rows = 200;  // flushes happen during the inserts
    options_.flush_check_interval_ms = 1;
    options_.merge_threads = 1;
    options_.merge_min_parts = 3;
    env.SetSyncDelay(std::chrono::microseconds(200));
    Open();
    ASSERT_TRUE(Ddl(kEntityDdl).ok());
    auto schema = Schema("entityMetricEvents");
    std::atomic<bool> halt{false};
    std::mutex mu;
    std::set<int> acked;
    std::vector<std::thread> writers;
    for (int w = 0; w < 4; ++w) {
      writers.emplace_back([&, w] {
        for (int i = 0; !halt.load() && i < 400; ++i) {
          int base = (w * 1000 + i) * 10;
          auto r = storage_->Insert(*schema, EntityRows(*schema, 10, base, 1704067200000));
          if (r.ok()) {
            std::lock_guard lock(mu);
            acked.insert(base);
          }
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + round * 15));
    // The machine stops: from here on nothing reaches the disk, and no more acks can happen.
    env.SetSyncError(true);
    env.FailWritesAfter(0);
    halt = true;
    for (auto& t : writers) t.join();
    storage_->Stop().IgnoreError();
    storage_.reset();
    env.Crash();
    env.SetSyncError(false);
    env.FailWritesAfter(-1);
    Open();
    std::map<int, int> got;  // batch base -> rows
    for (const auto& line : Rows("entityMetricEvents", {"entityId"})) {
      int id = std::stoi(line);
      got[id - id % 10]++;
    }
    ASSERT_FALSE(acked.empty()) << "no insert was acknowledged before the crash";
    for (int base : acked) {
      ASSERT_EQ(got[base], 10) << "acknowledged batch " << base << " lost or partial";
    }
    for (const auto& [base, n] : got) {
      EXPECT_EQ(n, 10) << "batch " << base << " partially present or duplicated";
    }
    storage_->Stop().IgnoreError();
    storage_.reset();
  }
}

}  // namespace
}  // namespace trackhouse::engine

namespace trackhouse::engine {
namespace {
TEST_F(EngineTest, CreatedTableSurvivesPowerLoss) {
  env::FaultInjectionEnv env;
  options_.env = &env;
  Open();
  ASSERT_TRUE(Ddl(kEntityDdl).ok());
  storage_->Stop().IgnoreError();
  storage_.reset();
  env.Crash();
  Open();
  EXPECT_EQ(TableCount(), 1u);
  storage_->Stop().IgnoreError();
  storage_.reset();
}

// ---- Idempotency-Keys (POST /track) ----

class EngineIdempotencyTest : public EngineTest {
 protected:
  storage::IdempotencyRecord Record(std::string key, std::string answer) {
    return {std::move(key), std::move(answer), clock_->NowMicros()};
  }
  Result<storage::InsertResult> Keyed(std::string key, int base) {
    auto schema = Schema("entityMetricEvents");
    return storage_->InsertIdempotent(*schema, EntityRows(*schema, 5, base, 1704067200000),
                                      Record(std::move(key), "{\"accepted\":5}"));
  }
};

TEST_F(EngineIdempotencyTest, AStoredKeyIsFoundAndNotStoredTwice) {
  Open();
  ASSERT_TRUE(Ddl(kEntityDdl).ok());
  EXPECT_EQ(storage_->FindIdempotencyKey("k1"), std::nullopt);
  ASSERT_TRUE(Keyed("k1", 100).ok());
  auto found = storage_->FindIdempotencyKey("k1");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->answer, "{\"accepted\":5}");
  auto again = Keyed("k1", 200);
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(Rows("entityMetricEvents", {"entityId"}).size(), 5u);
}

TEST_F(EngineIdempotencyTest, KeysSurviveACrashFromTheLogAndFromTheSnapshotAfterTrims) {
  options_.flush_rows = 1u << 30;
  options_.log_segment_bytes = 1;  // every record in its own segment: trims remove them
  Open();
  ASSERT_TRUE(Ddl(kEntityDdl).ok());
  ASSERT_TRUE(Keyed("in-log", 100).ok());
  // Crash with the key only in the log.
  storage_->Stop().IgnoreError();
  storage_.reset();
  env_.Crash();
  Open();
  ASSERT_TRUE(storage_->FindIdempotencyKey("in-log").has_value());
  // Flush: the rows go to parts and the log is trimmed; the key must come from the snapshot.
  ASSERT_TRUE(Keyed("after-restart", 200).ok());
  ASSERT_TRUE(storage_->FlushAll().ok());
  storage_->Stop().IgnoreError();
  storage_.reset();
  env_.Crash();
  Open();
  EXPECT_TRUE(storage_->FindIdempotencyKey("in-log").has_value());
  EXPECT_TRUE(storage_->FindIdempotencyKey("after-restart").has_value());
  EXPECT_EQ(Keyed("in-log", 300).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(Rows("entityMetricEvents", {"entityId"}).size(), 10u);
}

TEST_F(EngineIdempotencyTest, KeysAreForgottenAfterTheWindowOrBeyondTheBound) {
  options_.idempotency_window_micros = 60ll * 1000000;
  options_.max_idempotency_keys = 3;
  Open();
  ASSERT_TRUE(Ddl(kEntityDdl).ok());
  ASSERT_TRUE(Keyed("old", 100).ok());
  clock_->Advance(61ll * 1000000);
  EXPECT_EQ(storage_->FindIdempotencyKey("old"), std::nullopt);
  EXPECT_TRUE(Keyed("old", 200).ok()) << "past the window the key is new again";
  for (const char* k : {"a", "b", "c"}) ASSERT_TRUE(Keyed(k, 300).ok());
  EXPECT_EQ(storage_->FindIdempotencyKey("old"), std::nullopt) << "the oldest of 4 went";
  EXPECT_TRUE(storage_->FindIdempotencyKey("c").has_value());
  ASSERT_TRUE(storage_->FlushAll().ok());
  Reopen();
  EXPECT_EQ(storage_->FindIdempotencyKey("old"), std::nullopt);
  EXPECT_TRUE(storage_->FindIdempotencyKey("a").has_value());
}

}  // namespace
}  // namespace trackhouse::engine
