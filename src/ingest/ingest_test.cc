// InsertStream against the real embedded engine: table shapes, DEFAULT/MATERIALIZED handling,
// block cutting, errors, and that a failed insert keeps the blocks it committed.
#include "ingest/ingest.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "engine/engine.h"
#include "sql/parser.h"
#include "types/convert.h"

namespace trackhouse::ingest {
namespace {

constexpr int64_t kNow = 1700000000LL * 1000000;  // 2023-11-14 22:13:20 UTC

class IngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / fmt::format("ingest_test_{}", ::getpid());
    std::filesystem::remove_all(dir_);
    engine::EngineOptions eo;
    eo.data_dir = dir_.string();
    eo.merge_threads = 0;
    auto storage = engine::OpenEngine(eo);
    ASSERT_TRUE(storage.ok()) << storage.status().ToString();
    storage_ = std::move(storage).value();
  }
  void TearDown() override {
    if (storage_) {
      EXPECT_TRUE(storage_->Stop().ok());
    }
    std::filesystem::remove_all(dir_);
  }

  void Ddl(std::string_view sql) {
    auto stmt = sql::ParseStatement(sql);
    ASSERT_TRUE(stmt.ok()) << stmt.status().ToString();
    Status st = storage_->ExecuteDdl(**stmt, sql, "default");
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  // Opens an insert for `statement` (INSERT ... FORMAT x, no data).
  Result<std::unique_ptr<InsertStream>> Open(std::string_view statement, IngestOptions options = {},
                                             int64_t now = kNow) {
    auto stmt = sql::ParseStatement(statement);
    if (!stmt.ok()) return stmt.status();
    stmts_.push_back(std::move(stmt).value());
    const auto* insert = stmts_.back()->As<sql::InsertStmt>();
    if (insert == nullptr) return Status::InvalidArgument("not an INSERT");
    return InsertStream::Open(storage_.get(), "default", *insert, insert->data_format, options,
                              now);
  }

  // All rows of `columns` of a table, as text "a|b" per row, sorted.
  std::vector<std::string> Rows(const std::string& table, std::vector<std::string> columns) {
    storage::ScanRequest req;
    req.columns = columns;
    auto scan = storage_->Scan("default", table, req);
    EXPECT_TRUE(scan.ok()) << scan.status().ToString();
    std::vector<std::string> out;
    types::Block b;
    while ((*scan)->NextBlock(&b)) {
      for (size_t r = 0; r < b.rows(); ++r) {
        std::string row;
        for (size_t c = 0; c < b.num_columns(); ++c) {
          if (c > 0) row += "|";
          row += types::FormatValueText(b.at(c).column->GetValue(r), *b.at(c).type);
        }
        out.push_back(row);
      }
    }
    EXPECT_TRUE((*scan)->status().ok());
    std::sort(out.begin(), out.end());  // in-memory rows come in insert order
    return out;
  }

  std::filesystem::path dir_;
  std::unique_ptr<storage::Storage> storage_;
  std::vector<sql::StatementPtr> stmts_;
};

TEST_F(IngestTest, InsertsRowsInTableOrder) {
  Ddl("CREATE TABLE t (id UInt32, name String, v Int64) ENGINE = MergeTree ORDER BY id");
  auto s = Open("INSERT INTO t FORMAT JSONEachRow");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_TRUE(
      (*s)->Feed("{\"v\":-5,\"id\":2,\"name\":\"b\"}\n{\"id\":1,\"name\":\"a\",\"v\":3}\n").ok());
  ASSERT_TRUE((*s)->Finish().ok());
  EXPECT_EQ((*s)->rows_written(), 2u);
  EXPECT_GT((*s)->bytes_written(), 0u);
  EXPECT_EQ((*s)->table_name(), "default.t");
  EXPECT_EQ(Rows("t", {"id", "name", "v"}), (std::vector<std::string>{"1|a|3", "2|b|-5"}));
}

TEST_F(IngestTest, ConstantDefaultsAreEvaluatedOncePerInsert) {
  Ddl("CREATE TABLE t (id UInt32, ts DateTime DEFAULT now(), ms DateTime64(3) DEFAULT now64(), "
      "k String DEFAULT 'x', n Int32) ENGINE = MergeTree ORDER BY id");
  auto s = Open("INSERT INTO t FORMAT JSONEachRow");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_TRUE((*s)->Feed("{\"id\":1}\n{\"id\":2,\"k\":\"y\",\"n\":4}\n").ok());
  ASSERT_TRUE((*s)->Finish().ok());
  EXPECT_EQ(Rows("t", {"id", "ts", "ms", "k", "n"}),
            (std::vector<std::string>{"1|2023-11-14 22:13:20|2023-11-14 22:13:20.000|x|0",
                                      "2|2023-11-14 22:13:20|2023-11-14 22:13:20.000|y|4"}));
}

// Inserts into an unchanged table share one plan (compiled DEFAULTs): what must differ between
// them still does, and a new definition (ALTER) is followed at once.
TEST_F(IngestTest, SharedPlansFollowTheTableAndEachInsertsTimeAndValues) {
  Ddl("CREATE TABLE t (id UInt32, ts DateTime DEFAULT now(), who String) ENGINE = MergeTree "
      "ORDER BY id");
  auto insert = [&](std::string_view rows, int64_t now, std::string who = "") -> Status {
    IngestOptions o;
    if (!who.empty()) o.omitted_values.emplace_back("who", types::Value::String(who));
    auto s = Open("INSERT INTO t FORMAT JSONEachRow", o, now);
    if (!s.ok()) return s.status();
    TH_RETURN_IF_ERROR((*s)->Feed(rows));
    return (*s)->Finish();
  };
  const int64_t hour = 3600LL * 1000000;
  ASSERT_TRUE(insert("{\"id\":1}", kNow, "ann").ok());
  ASSERT_TRUE(insert("{\"id\":2}", kNow + hour, "bob").ok());
  ASSERT_TRUE(insert("{\"id\":3,\"who\":\"own\"}", kNow + 2 * hour, "cid").ok());
  EXPECT_EQ(Rows("t", {"id", "ts", "who"}),
            (std::vector<std::string>{"1|2023-11-14 22:13:20|ann", "2|2023-11-14 23:13:20|bob",
                                      "3|2023-11-15 00:13:20|own"}));

  Ddl("ALTER TABLE t ADD COLUMN k String DEFAULT 'new'");
  ASSERT_TRUE(insert("{\"id\":4}\n{\"id\":5,\"k\":\"given\"}", kNow).ok());
  EXPECT_EQ(Rows("t", {"id", "k"}),
            (std::vector<std::string>{"1|new", "2|new", "3|new", "4|new", "5|given"}));
  Ddl("ALTER TABLE t DROP COLUMN k");
  Status dropped = insert("{\"id\":6,\"k\":\"x\"}", kNow);
  EXPECT_FALSE(dropped.ok());
  EXPECT_NE(dropped.message().find("k"), std::string::npos) << dropped.ToString();
  ASSERT_TRUE(insert("{\"id\":7}", kNow).ok());
  EXPECT_EQ(Rows("t", {"id"}).size(), 6u);
  // Another table of the same name later is another definition.
  Ddl("DROP TABLE t");
  Ddl("CREATE TABLE t (id UInt32, ts DateTime DEFAULT toDateTime(1000000000)) ENGINE = MergeTree "
      "ORDER BY id");
  ASSERT_TRUE(insert("{\"id\":8}", kNow).ok());
  EXPECT_EQ(Rows("t", {"id", "ts"}), (std::vector<std::string>{"8|2001-09-09 01:46:40"}));
}

TEST_F(IngestTest, NonConstantDefaultsFillOnlyOmittedRows) {
  Ddl("CREATE TABLE t (id UInt32, ts DateTime, d Date DEFAULT toDate(ts)) ENGINE = MergeTree "
      "ORDER BY id");
  auto s = Open("INSERT INTO t FORMAT JSONEachRow");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_TRUE((*s)->Feed("{\"id\":1,\"ts\":\"2024-03-05 10:00:00\"}\n"
                         "{\"id\":2,\"ts\":\"2024-03-05 10:00:00\",\"d\":\"2020-01-01\"}\n")
                  .ok());
  ASSERT_TRUE((*s)->Finish().ok());
  EXPECT_EQ(Rows("t", {"id", "d"}), (std::vector<std::string>{"1|2024-03-05", "2|2020-01-01"}));
}

TEST_F(IngestTest, ColumnListLeavesOthersToTheirDefaults) {
  Ddl("CREATE TABLE t (id UInt32, name String, v Int32 DEFAULT id * 10, w UInt8) "
      "ENGINE = MergeTree ORDER BY id");
  auto s = Open("INSERT INTO t (id, name) FORMAT JSONEachRow");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_TRUE((*s)->Feed("{\"id\":3,\"name\":\"c\"}").ok());
  ASSERT_TRUE((*s)->Finish().ok());
  EXPECT_EQ(Rows("t", {"id", "name", "v", "w"}), (std::vector<std::string>{"3|c|30|0"}));
}

TEST_F(IngestTest, MaterializedColumnsAreComputedAndNotInsertable) {
  Ddl("CREATE TABLE t (id UInt32, double_id UInt64 MATERIALIZED id * 2) ENGINE = MergeTree "
      "ORDER BY id");
  auto s = Open("INSERT INTO t FORMAT JSONEachRow");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_TRUE((*s)->Feed("{\"id\":21}\n").ok());
  ASSERT_TRUE((*s)->Finish().ok());
  EXPECT_EQ(Rows("t", {"id", "double_id"}), (std::vector<std::string>{"21|42"}));

  auto bad = Open("INSERT INTO t (id, double_id) FORMAT JSONEachRow");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().clickhouse_code(), ch::kIllegalColumn);
}

TEST_F(IngestTest, UnknownTableAndColumnsAreClickHouseErrors) {
  auto s = Open("INSERT INTO missing FORMAT JSONEachRow");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().clickhouse_code(), ch::kUnknownTable);
  EXPECT_EQ(s.status().message(), "Table default.missing does not exist");

  Ddl("CREATE TABLE t (id UInt32) ENGINE = MergeTree ORDER BY id");
  s = Open("INSERT INTO t (id, nope) FORMAT JSONEachRow");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().clickhouse_code(), ch::kNoSuchColumnInTable);
  EXPECT_EQ(s.status().message(), "No such column nope in table default.t");

  s = Open("INSERT INTO t (id, id) FORMAT JSONEachRow");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().clickhouse_code(), ch::kDuplicateColumn);

  s = Open("INSERT INTO t FORMAT NoSuchFormat");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().clickhouse_code(), ch::kUnknownFormat);
}

TEST_F(IngestTest, RowsAreStoredInBlocksOfMaxInsertBlockSize) {
  Ddl("CREATE TABLE t (id UInt32) ENGINE = MergeTree ORDER BY id");
  IngestOptions o;
  o.max_insert_block_size = 3;
  auto s = Open("INSERT INTO t FORMAT JSONEachRow", o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  std::string seven;
  for (int i = 0; i < 7; ++i) seven += fmt::format("{{\"id\":{}}}\n", i);
  ASSERT_TRUE((*s)->Feed(seven).ok());
  EXPECT_EQ((*s)->rows_written(), 6u);  // two full blocks; the 7th row waits
  ASSERT_TRUE((*s)->Finish().ok());
  EXPECT_EQ((*s)->rows_written(), 7u);
  EXPECT_EQ(Rows("t", {"id"}).size(), 7u);
}

TEST_F(IngestTest, AFailedInsertKeepsTheBlocksItCommitted) {
  Ddl("CREATE TABLE t (id UInt32) ENGINE = MergeTree ORDER BY id");
  IngestOptions o;
  o.max_insert_block_size = 2;
  auto s = Open("INSERT INTO t FORMAT JSONEachRow", o);
  ASSERT_TRUE(s.ok());
  Status st = (*s)->Feed("{\"id\":1}\n{\"id\":2}\n{\"id\":3}\n{\"id\":-4}\n{\"id\":5}\n");
  if (st.ok()) st = (*s)->Finish();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ((*s)->rows_written(), 2u);
  EXPECT_EQ(Rows("t", {"id"}), (std::vector<std::string>{"1", "2"}));
  // The stream stays failed.
  EXPECT_FALSE((*s)->Feed("{\"id\":6}\n").ok());
  EXPECT_FALSE((*s)->Finish().ok());
}

TEST_F(IngestTest, ChunksMaySplitRowsAnywhere) {
  Ddl("CREATE TABLE t (id UInt32, s String) ENGINE = MergeTree ORDER BY id");
  auto s = Open("INSERT INTO t FORMAT JSONEachRow");
  ASSERT_TRUE(s.ok());
  std::string data = "{\"id\":1,\"s\":\"hello\"}\n{\"id\":2,\"s\":\"w\\u00f6rld\"}\n";
  for (char c : data) ASSERT_TRUE((*s)->Feed(std::string_view(&c, 1)).ok());
  ASSERT_TRUE((*s)->Finish().ok());
  EXPECT_EQ(Rows("t", {"id", "s"}), (std::vector<std::string>{"1|hello", "2|w\xc3\xb6rld"}));
}

TEST_F(IngestTest, EmptyInsertStoresNothing) {
  Ddl("CREATE TABLE t (id UInt32) ENGINE = MergeTree ORDER BY id");
  auto s = Open("INSERT INTO t FORMAT JSONEachRow");
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE((*s)->Finish().ok());
  EXPECT_EQ((*s)->rows_written(), 0u);
  EXPECT_TRUE(Rows("t", {"id"}).empty());
}

TEST_F(IngestTest, BufferTableRowsReachTheDestination) {
  Ddl("CREATE TABLE dest (id UInt32, at DateTime DEFAULT now()) ENGINE = MergeTree ORDER BY id");
  Ddl("CREATE TABLE buf AS dest ENGINE = Buffer(default, dest, 16, 10, 100, 10000, 1000000, "
      "10000000, 100000000)");
  auto s = Open("INSERT INTO buf (id) FORMAT JSONEachRow");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_TRUE((*s)->Feed("{\"id\":9}\n").ok());
  ASSERT_TRUE((*s)->Finish().ok());
  EXPECT_EQ(Rows("dest", {"id"}), (std::vector<std::string>{"9"}));
}

}  // namespace
}  // namespace trackhouse::ingest
