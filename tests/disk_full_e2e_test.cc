// End-to-end disk full: the real trackhouse binary on a 4 MiB tmpfs takes /track events until
// a ballast file fills the file system; from then on /track answers 503 with Retry-After and says
// the disk is full, and /ready reports it; a flush of the rows in memory fails without leaving
// files. Once the ballast is deleted the same process takes events again and becomes ready
// without a restart. After a SIGKILL and a restart every acknowledged event is stored exactly
// once, and no refused one at all.
//
// Mounting needs privilege: without it (EPERM) the test is skipped.
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/http_client.h"
#include "tests/server_process.h"

namespace trackhouse {
namespace {

using testing::HttpRequest;
using testing::HttpResponse;
using testing::ServerProcess;
using testing::UrlEncode;

constexpr char kDdl[] =
    "CREATE TABLE pageViews (id Int32, path String) ENGINE = MergeTree() ORDER BY id";
constexpr int kBatch = 20;  // events per POST /track

class DiskFullE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("trackhouse-diskfull-");
    ASSERT_FALSE(dir_.empty());
    mnt_ = dir_ + "/mnt";
    ASSERT_EQ(::mkdir(mnt_.c_str(), 0755), 0) << std::strerror(errno);
    if (::mount("tmpfs", mnt_.c_str(), "tmpfs", 0, "size=4m") != 0) {
      const int err = errno;
      if (err == EPERM) GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(err);
      FAIL() << "mount -t tmpfs " << mnt_ << ": " << std::strerror(err);
    }
    mounted_ = true;
  }

  void TearDown() override {
    server_.Kill();
    if (mounted_ && ::umount2(mnt_.c_str(), MNT_DETACH) != 0) {
      ADD_FAILURE() << "umount " << mnt_ << ": " << std::strerror(errno);
    }
    if (!dir_.empty()) testing::RemoveTree(dir_);
  }

  void StartServer() {
    std::string err;
    ASSERT_TRUE(server_.Start(TRACKHOUSE_BINARY, mnt_ + "/data", {"--config", config_}, &err))
        << err;
  }

  // POSTs the events with ids [first, first + kBatch) to /track and files their ids by answer.
  HttpResponse PostBatch(int32_t first) {
    std::string body;
    for (int32_t id = first; id < first + kBatch; ++id) {
      body +=
          "{\"id\":" + std::to_string(id) + ",\"path\":\"/p/" + std::to_string(id % 101) + "\"}\n";
    }
    HttpResponse r = HttpRequest(server_.port(), "POST", "/track/pageViews",
                                 {{"Content-Type", "application/x-ndjson"}}, body, 5000);
    std::set<int32_t>& ids = r.status == 200 ? acked_ : r.status == 503 ? refused_ : unknown_;
    for (int32_t id = first; id < first + kBatch; ++id) ids.insert(id);
    return r;
  }

  // Posts batches from *next on until one is answered `status` (for at most 5 s); the last
  // answer.
  HttpResponse PostUntil(int status, int32_t* next) {
    HttpResponse r;
    Within(std::chrono::seconds(5), [&] {
      r = PostBatch(*next);
      *next += kBatch;
      return r.status == status;
    });
    return r;
  }

  // Fills what is left of the file system with a ballast file.
  void FillWithBallast() {
    int fd = ::open(ballast().c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT_GE(fd, 0) << std::strerror(errno);
    const std::string chunk(4096, 'b');
    ssize_t n;
    while ((n = ::write(fd, chunk.data(), chunk.size())) > 0) {
    }
    const int err = errno;
    ::close(fd);
    ASSERT_EQ(n, -1);
    ASSERT_EQ(err, ENOSPC) << std::strerror(err);
  }

  std::string ballast() const { return mnt_ + "/ballast"; }

  // Paths of unfinished part writes (tmp_*) under the data directory.
  std::vector<std::string> LeftoverPartFiles() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::recursive_directory_iterator(mnt_ + "/data", ec)) {
      if (e.path().filename().string().rfind("tmp_", 0) == 0) out.push_back(e.path().string());
    }
    return out;
  }

  // Polls (bounded) until `done` holds; false on timeout.
  template <typename Pred>
  static bool Within(std::chrono::milliseconds limit, Pred done) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
  }

  std::string dir_, mnt_, config_;
  bool mounted_ = false;
  ServerProcess server_;
  std::set<int32_t> acked_, refused_, unknown_;
};

TEST_F(DiskFullE2eTest, TrackAnswers503WhileTheDiskIsFullAndRecoversWithoutLosingAnEvent) {
  config_ = dir_ + "/trackhouse.toml";
  {
    FILE* f = std::fopen(config_.c_str(), "w");
    ASSERT_NE(f, nullptr);
    // Small log segments and parts, so that flushes and trims run while the disk is full.
    std::fputs(
        "[engine]\nlog_segment_bytes = 262144\nflush_rows = 1000\nflush_check_interval_ms = 20\n",
        f);
    std::fclose(f);
  }
  StartServer();
  ASSERT_EQ(HttpRequest(server_.port(), "POST", "/", kDdl).status, 200);
  int32_t next = 1;
  for (int i = 0; i < 10; ++i, next += kBatch) ASSERT_EQ(PostBatch(next).status, 200);

  FillWithBallast();
  HttpResponse full = PostUntil(503, &next);
  ASSERT_EQ(full.status, 503) << "/track never answered 503 on a full disk: " << full.body;
  EXPECT_NE(full.headers.find("Retry-After:"), std::string::npos) << full.headers;
  EXPECT_NE(full.body.find("disk is full"), std::string::npos) << full.body;
  // The ClickHouse interface says the same.
  HttpResponse insert = HttpRequest(
      server_.port(), "POST", "/?query=" + UrlEncode("INSERT INTO pageViews FORMAT JSONEachRow"),
      "{\"id\":-1,\"path\":\"/\"}\n");
  EXPECT_EQ(insert.status, 503) << insert.body;
  EXPECT_NE(insert.headers.find("Retry-After:"), std::string::npos) << insert.headers;
  EXPECT_NE(insert.body.find("NOT_ENOUGH_SPACE"), std::string::npos) << insert.body;
  // A flush of the rows in memory fails too (OPTIMIZE flushes first), and leaves no files.
  HttpResponse optimize =
      HttpRequest(server_.port(), "POST", "/", "OPTIMIZE TABLE pageViews FINAL");
  EXPECT_EQ(optimize.status, 503) << optimize.body;
  EXPECT_NE(optimize.body.find("NOT_ENOUGH_SPACE"), std::string::npos) << optimize.body;
  EXPECT_EQ(LeftoverPartFiles(), std::vector<std::string>{});
  HttpResponse ready = HttpRequest(server_.port(), "GET", "/ready", "");
  EXPECT_EQ(ready.status, 503) << ready.body;
  EXPECT_NE(ready.body.find("\"ready\":false"), std::string::npos) << ready.body;
  EXPECT_NE(ready.body.find("disk full"), std::string::npos) << ready.body;

  // Space returns: the same process takes events again and becomes ready.
  ASSERT_EQ(::unlink(ballast().c_str()), 0) << std::strerror(errno);
  HttpResponse back = PostUntil(200, &next);
  ASSERT_EQ(back.status, 200) << "/track did not accept events again: " << back.body;
  ASSERT_TRUE(Within(std::chrono::seconds(10),
                     [&] {
                       ready = HttpRequest(server_.port(), "GET", "/ready", "");
                       return ready.status == 200;
                     }))
      << "/ready did not recover: " << ready.body;
  for (int i = 0; i < 10; ++i, next += kBatch) ASSERT_EQ(PostBatch(next).status, 200);

  server_.Kill();
  StartServer();
  HttpResponse stored =
      HttpRequest(server_.port(), "GET",
                  "/?query=" + UrlEncode("SELECT id FROM pageViews FORMAT TabSeparated"), "");
  ASSERT_EQ(stored.status, 200) << stored.body;
  std::multiset<int32_t> ids;
  std::istringstream lines(stored.body);
  for (std::string line; std::getline(lines, line);) ids.insert(std::stoi(line));
  std::printf("%zu events acknowledged, %zu refused with 503, %zu stored\n", acked_.size(),
              refused_.size(), ids.size());
  for (int32_t id : acked_) ASSERT_EQ(ids.count(id), 1u) << "acknowledged event " << id;
  for (int32_t id : refused_) ASSERT_EQ(ids.count(id), 0u) << "refused event " << id << " stored";
  for (int32_t id : ids) {
    ASSERT_TRUE(acked_.count(id) || unknown_.count(id)) << "event " << id << " was never sent";
  }
  EXPECT_EQ(server_.Terminate(10000), 0);
}

}  // namespace
}  // namespace trackhouse
