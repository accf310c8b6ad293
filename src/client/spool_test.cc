#include "client/spool.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "client/json_text.h"

namespace trackhouse::client {
namespace {

class SpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("spool_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "events.spool").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Spool> OpenOk(SpoolContents* c) {
    auto s = Spool::Open(path_, c);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  std::string ReadFile() {
    std::ifstream in(path_, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }
  // A spool holding the rows 1 and 2 of table t.
  void WriteTwoRows() {
    SpoolContents c;
    auto s = OpenOk(&c);
    ASSERT_TRUE(s->AppendRow(1, "t", R"({"a":1})").ok());
    ASSERT_TRUE(s->AppendRow(2, "t", R"({"a":2})").ok());
  }

  // The code of Open's failure (kOk if it opened).
  StatusCode OpenError() {
    SpoolContents c;
    auto s = Spool::Open(path_, &c);
    return s.status().code();
  }
  void WriteFile(const std::string& data) {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out << data;
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(SpoolTest, RowsNotResolvedAreReadBackInOrder) {
  {
    SpoolContents c;
    auto s = OpenOk(&c);
    EXPECT_TRUE(c.rows.empty());
    ASSERT_TRUE(s->AppendRow(1, "a", R"({"x":1})").ok());
    ASSERT_TRUE(s->AppendRow(2, "b", R"({"x":2})").ok());
    ASSERT_TRUE(s->AppendRow(3, "a", R"({"x":3})").ok());
    ASSERT_TRUE(s->AppendResolved({{2, 2}}).ok());
  }
  SpoolContents c;
  auto s = OpenOk(&c);
  ASSERT_EQ(c.rows.size(), 2u);
  EXPECT_EQ(c.rows[0].seq, 1u);
  EXPECT_EQ(c.rows[0].table, "a");
  EXPECT_EQ(c.rows[0].json, R"({"x":1})");
  EXPECT_EQ(c.rows[1].seq, 3u);
  EXPECT_EQ(c.max_seq, 3u);
  EXPECT_TRUE(c.batches.empty());
}

TEST_F(SpoolTest, BatchKeepsItsKeyAndOnlyLiveRows) {
  {
    SpoolContents c;
    auto s = OpenOk(&c);
    for (uint64_t seq = 1; seq <= 4; ++seq) ASSERT_TRUE(s->AppendRow(seq, "t", "{}").ok());
    ASSERT_TRUE(s->AppendBatch("k1", {{1, 2}}).ok());
    ASSERT_TRUE(s->AppendBatch("k2", {{3, 4}}).ok());
    ASSERT_TRUE(s->AppendResolved({{1, 2}}).ok());
  }
  SpoolContents c;
  auto s = OpenOk(&c);
  ASSERT_EQ(c.batches.size(), 1u);
  EXPECT_EQ(c.batches[0].key, "k2");
  EXPECT_EQ(c.batches[0].seqs, (std::vector<uint64_t>{3, 4}));
  EXPECT_EQ(c.rows.size(), 2u);
}

TEST_F(SpoolTest, TornTailIsCutOffAndAppendsContinueAfterIt) {
  WriteTwoRows();
  std::string data = ReadFile();
  WriteFile(data.substr(0, data.size() - 3));  // the last record cut short
  {
    SpoolContents c;
    auto s = OpenOk(&c);
    ASSERT_EQ(c.rows.size(), 1u);
    EXPECT_EQ(c.rows[0].seq, 1u);
    ASSERT_TRUE(s->AppendRow(5, "t", R"({"a":5})").ok());
  }
  SpoolContents c;
  auto s = OpenOk(&c);
  ASSERT_EQ(c.rows.size(), 2u);
  EXPECT_EQ(c.rows[1].seq, 5u);
}

TEST_F(SpoolTest, DamagedRecordIsCorruptionNamingFileAndOffset) {
  WriteTwoRows();
  std::string data = ReadFile();
  data[20 + 9 + 9] ^= 0x40;  // a byte of the first record's payload
  WriteFile(data);
  SpoolContents c;
  auto s = Spool::Open(path_, &c);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kCorruption);
  EXPECT_NE(s.status().message().find(path_), std::string::npos) << s.status().message();
  EXPECT_NE(s.status().message().find("offset 20"), std::string::npos) << s.status().message();
}

TEST_F(SpoolTest, ForeignFileIsRejected) {
  WriteFile("this is not a spool file at all");
  EXPECT_EQ(OpenError(), StatusCode::kCorruption);
}

TEST_F(SpoolTest, SecondOpenOfTheSameFileFails) {
  SpoolContents c;
  auto s = OpenOk(&c);
  EXPECT_EQ(OpenError(), StatusCode::kIOError);
}

TEST_F(SpoolTest, ClearAndRewriteKeepOnlyWhatIsLive) {
  {
    SpoolContents c;
    auto s = OpenOk(&c);
    ASSERT_TRUE(s->AppendRow(1, "t", "{}").ok());
    ASSERT_TRUE(s->Clear().ok());
    EXPECT_EQ(s->size(), 20u);
    ASSERT_TRUE(s->AppendRow(7, "t", R"({"a":7})").ok());
    ASSERT_TRUE(s->AppendRow(8, "u", R"({"a":8})").ok());
    ASSERT_TRUE(s->Rewrite({{8, "u", R"({"a":8})"}}, {{"key8", {{8, 8}}}}).ok());
    ASSERT_TRUE(s->AppendRow(9, "t", R"({"a":9})").ok());
  }
  EXPECT_FALSE(std::filesystem::exists(path_ + ".tmp"));
  SpoolContents c;
  auto s = OpenOk(&c);
  ASSERT_EQ(c.rows.size(), 2u);
  EXPECT_EQ(c.rows[0].seq, 8u);
  EXPECT_EQ(c.rows[1].seq, 9u);
  ASSERT_EQ(c.batches.size(), 1u);
  EXPECT_EQ(c.batches[0].key, "key8");
}

TEST(JsonTextTest, EscapesAndValidates) {
  std::string out;
  AppendJsonString("a\"b\\c\n\x01", &out);
  EXPECT_EQ(out, R"("a\"b\\c\n\u0001")");
  EXPECT_TRUE(IsValidUtf8("h\xc3\xa9llo \xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));  // surrogate
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));      // cut short
  EXPECT_EQ(FormatUtcMillis(
                std::chrono::system_clock::time_point(std::chrono::milliseconds(1700000000123))),
            "2023-11-14 22:13:20.123");
}

}  // namespace
}  // namespace trackhouse::client
