#include "log/log.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "common/coding.h"
#include "common/crc32c.h"
#include "common/metrics.h"
#include "env/fault_injection_env.h"
#include "log/format.h"

namespace trackhouse::log {
namespace {

using Records = std::vector<std::pair<uint64_t, std::string>>;

std::string RandomBytes(std::mt19937_64* rng, size_t n) {
  std::string s(n + 8, '\0');
  for (size_t i = 0; i < n; i += 8) EncodeFixed64(&s[i], (*rng)());
  s.resize(n);
  return s;
}

// Text-like bytes that LZ4 shrinks well.
std::string Compressible(size_t n, int seed) {
  std::string s;
  while (s.size() < n) s += "entityType=video,entityId=" + std::to_string(seed++ % 97) + ";";
  s.resize(n);
  return s;
}

LogOptions Options(uint64_t segment_bytes = 64 << 20, bool compress = true) {
  LogOptions o;
  o.segment_bytes = segment_bytes;
  o.compress = compress;
  return o;
}

class LogTest : public ::testing::Test {
 protected:
  const std::string dir_ = "/db/wal";

  std::unique_ptr<LogWriter> Open(uint64_t next_lsn = 1, LogOptions options = Options()) {
    auto w = LogWriter::Open(&env_, dir_, next_lsn, options);
    EXPECT_TRUE(w.ok()) << w.status().ToString();
    return w.ok() ? std::move(w).value() : nullptr;
  }

  uint64_t Append(LogWriter* w, std::string_view payload) {
    auto lsn = w->Append(payload);
    EXPECT_TRUE(lsn.ok()) << lsn.status().ToString();
    return lsn.ok() ? *lsn : 0;
  }

  // Recovers everything from from_lsn; fails the test on error.
  Records RecoverAll(uint64_t from_lsn = 1, RecoveryResult* result = nullptr) {
    Records out;
    auto r = Recover(&env_, dir_, from_lsn, [&](uint64_t lsn, std::string_view payload) {
      out.emplace_back(lsn, std::string(payload));
      return Status::OK();
    });
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (r.ok() && result != nullptr) *result = *r;
    return out;
  }

  Status RecoverStatus(uint64_t from_lsn = 1) {
    auto r =
        Recover(&env_, dir_, from_lsn, [](uint64_t, std::string_view) { return Status::OK(); });
    return r.status();
  }

  std::string SegmentPath(uint64_t first_lsn) {
    return env::JoinPath(dir_, format::SegmentFileName(first_lsn));
  }

  std::vector<std::string> Segments() {
    auto children = env_.GetChildren(dir_);
    EXPECT_TRUE(children.ok());
    std::vector<std::string> names;
    for (const auto& n : *children) {
      if (n.ends_with(".log")) names.push_back(n);
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  std::string ReadFile(const std::string& path) {
    std::string s;
    EXPECT_TRUE(env_.ReadFileToString(path, &s).ok());
    return s;
  }
  void WriteFile(const std::string& path, std::string_view data) {
    ASSERT_TRUE(env_.WriteStringToFileSync(path, data).ok());
  }

  env::FaultInjectionEnv env_;
};

TEST(SegmentFileNameTest, NamesSortByFirstLsn) {
  EXPECT_EQ(format::SegmentFileName(1), "00000000000000000001.log");
  EXPECT_LT(format::SegmentFileName(9), format::SegmentFileName(10));
  uint64_t lsn = 0;
  EXPECT_TRUE(format::ParseSegmentFileName("18446744073709551615.log", &lsn));
  EXPECT_EQ(lsn, UINT64_MAX);
  EXPECT_FALSE(format::ParseSegmentFileName("18446744073709551616.log", &lsn));
  EXPECT_FALSE(format::ParseSegmentFileName("0000000000000000001.log", &lsn));
  EXPECT_FALSE(format::ParseSegmentFileName("0000000000000000000x.log", &lsn));
  EXPECT_FALSE(format::ParseSegmentFileName("LOCK", &lsn));
}

TEST_F(LogTest, MissingOrEmptyLogRecoversToLsnOne) {
  RecoveryResult r;
  EXPECT_TRUE(RecoverAll(1, &r).empty());
  EXPECT_EQ(r.next_lsn, 1u);
  EXPECT_EQ(r.oldest_lsn, 1u);
  auto w = Open();
  ASSERT_TRUE(w->Close().ok());
  EXPECT_TRUE(RecoverAll(1, &r).empty());
  EXPECT_EQ(r.next_lsn, 1u);
}

TEST_F(LogTest, ManyRecordsIncludingLargeAndCompressibleRoundTrip) {
  std::mt19937_64 rng(42);
  Records written;
  auto w = Open(1, Options(/*segment_bytes=*/1 << 20));
  for (int i = 0; i < 400; ++i) {
    // Empty, tiny, around the 256-byte compression threshold, medium, and every 40th a large
    // one (3 MiB random or 5 MiB compressible), random and compressible alternating.
    const bool large = i % 40 >= 38;
    const size_t sizes[] = {0, 1, 255, 256, 777, 5000, 10000, 100};
    const size_t n = large ? (i % 2 ? 5 << 20 : 3 << 20) : sizes[i % 8];
    std::string payload = i % 2 ? Compressible(n, i) : RandomBytes(&rng, n);
    written.emplace_back(Append(w.get(), payload), payload);
  }
  ASSERT_TRUE(w->Close().ok());
  EXPECT_GT(Segments().size(), 3u);  // rotated

  RecoveryResult r;
  Records recovered = RecoverAll(1, &r);
  ASSERT_EQ(recovered.size(), written.size());
  for (size_t i = 0; i < written.size(); ++i) {
    EXPECT_EQ(recovered[i].first, i + 1);
    EXPECT_EQ(written[i].first, i + 1);
    EXPECT_TRUE(recovered[i].second == written[i].second) << "record " << i + 1;
  }
  EXPECT_EQ(r.next_lsn, 401u);
  EXPECT_EQ(r.records, 400u);
  EXPECT_EQ(r.torn_tail_bytes, 0u);

  Records tail = RecoverAll(390);
  ASSERT_EQ(tail.size(), 11u);
  EXPECT_EQ(tail.front().first, 390u);
}

TEST_F(LogTest, CompressiblePayloadsAreStoredCompressedWhenEnabled) {
  const std::string payload = Compressible(1 << 20, 0);
  auto w = Open(1, Options(64 << 20, /*compress=*/true));
  Append(w.get(), payload);
  EXPECT_LT(w->stats().bytes, payload.size() / 4);
  EXPECT_EQ(w->stats().payload_bytes, payload.size());
  ASSERT_TRUE(w->Close().ok());
  w.reset();
  ASSERT_TRUE(env_.RemoveDirRecursively(dir_).ok());

  w = Open(1, Options(64 << 20, /*compress=*/false));
  Append(w.get(), payload);
  EXPECT_GT(w->stats().bytes, payload.size());
  ASSERT_TRUE(w->Close().ok());
  ASSERT_EQ(RecoverAll().at(0).second, payload);
}

TEST_F(LogTest, ConcurrentAppendersGetDenseUniqueLsnsAndAllRecordsRecover) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 300;
  auto w = Open(1, Options(/*segment_bytes=*/64 << 10));
  std::mutex mu;
  std::map<uint64_t, std::string> acked;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string payload = "thread " + std::to_string(t) + " record " + std::to_string(i);
        if (i % 10 == 0) payload += Compressible(2000, i);
        auto lsn = w->Append(payload);
        ASSERT_TRUE(lsn.ok()) << lsn.status().ToString();
        std::lock_guard lock(mu);
        EXPECT_TRUE(acked.emplace(*lsn, payload).second) << "duplicate LSN " << *lsn;
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(acked.size(), size_t{kThreads * kPerThread});
  EXPECT_EQ(acked.begin()->first, 1u);
  EXPECT_EQ(acked.rbegin()->first, uint64_t{kThreads * kPerThread});  // dense
  EXPECT_EQ(w->next_lsn(), uint64_t{kThreads * kPerThread + 1});
  ASSERT_TRUE(w->Close().ok());

  Records recovered = RecoverAll();
  ASSERT_EQ(recovered.size(), acked.size());
  for (const auto& [lsn, payload] : recovered) EXPECT_EQ(acked.at(lsn), payload);
}

TEST_F(LogTest, GroupCommitSyncsOnceForManyConcurrentRecords) {
  env_.SetSyncDelay(std::chrono::microseconds(500));  // a disk that takes 0.5 ms per fdatasync
  auto w = Open();
  const int64_t syncs_before = env_.syncs();
  constexpr int kThreads = 8;
  constexpr int kPerThread = 100;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) ASSERT_TRUE(w->Append("payload").ok());
    });
  }
  for (auto& th : threads) th.join();
  const int64_t syncs = env_.syncs() - syncs_before;
  LogWriter::Stats stats = w->stats();
  EXPECT_EQ(stats.records, uint64_t{kThreads * kPerThread});
  EXPECT_EQ(stats.syncs, uint64_t(syncs) + 1);  // +1: the segment header at Open
  EXPECT_LT(syncs, kThreads * kPerThread / 2) << "groups did not form";
  EXPECT_EQ(stats.groups, uint64_t(syncs));  // one write and one sync per group
}

TEST_F(LogTest, GroupsRespectMaxGroupBytes) {
  env_.SetSyncDelay(std::chrono::microseconds(200));
  LogOptions options = Options(64 << 20, /*compress=*/false);
  options.max_group_bytes = 3000;  // at most two 1000-byte records per group
  auto w = Open(1, options);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) ASSERT_TRUE(w->Append(std::string(1000, 'x')).ok());
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_GE(w->stats().groups, 100u);
  ASSERT_TRUE(w->Close().ok());
  EXPECT_EQ(RecoverAll().size(), 200u);
}

TEST_F(LogTest, TruncatedTailAtEveryOffsetOfLastRecordIsIgnored) {
  std::mt19937_64 rng(7);
  auto w = Open();
  for (int i = 0; i < 4; ++i) Append(w.get(), RandomBytes(&rng, 50));
  const uint64_t good_size = env_.GetFileSize(SegmentPath(1)).value();
  Append(w.get(), RandomBytes(&rng, 300));
  ASSERT_TRUE(w->Close().ok());
  const std::string full = ReadFile(SegmentPath(1));
  ASSERT_EQ(full.size(), good_size + format::kRecordHeaderSize + 300);
  ASSERT_EQ(RecoverAll().size(), 5u);

  for (uint64_t cut = good_size; cut < full.size(); ++cut) {
    WriteFile(SegmentPath(1), std::string_view(full).substr(0, cut));
    RecoveryResult r;
    Records recovered = RecoverAll(1, &r);
    ASSERT_EQ(recovered.size(), 4u) << "cut at " << cut;
    EXPECT_EQ(r.next_lsn, 5u);
    EXPECT_EQ(r.torn_tail_bytes, cut - good_size);
  }
}

TEST_F(LogTest, TornTailIsCounted) {
  auto w = Open();
  Append(w.get(), "one");
  Append(w.get(), "two");
  ASSERT_TRUE(w->Close().ok());
  std::string seg = ReadFile(SegmentPath(1));
  WriteFile(SegmentPath(1), seg.substr(0, seg.size() - 1));
  const int64_t before = metrics::ValueOf("trackhouse_log_torn_tail_total");
  EXPECT_EQ(RecoverAll().size(), 1u);
  EXPECT_EQ(metrics::ValueOf("trackhouse_log_torn_tail_total"), before + 1);
}

TEST_F(LogTest, FlippedByteInMiddleRecordIsCorruptionNamingFileAndOffset) {
  auto w = Open(1, Options(64 << 20, /*compress=*/false));
  for (int i = 0; i < 10; ++i) Append(w.get(), std::string(100, static_cast<char>('a' + i)));
  ASSERT_TRUE(w->Close().ok());
  std::string seg = ReadFile(SegmentPath(1));
  const size_t record5 = format::kSegmentHeaderSize + 4 * (format::kRecordHeaderSize + 100);
  seg[record5 + format::kRecordHeaderSize + 50] ^= 0x01;
  WriteFile(SegmentPath(1), seg);

  std::vector<uint64_t> seen;
  auto r = Recover(&env_, dir_, 1, [&](uint64_t lsn, std::string_view) {
    seen.push_back(lsn);
    return Status::OK();
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  const std::string& msg = r.status().message();
  EXPECT_NE(msg.find(SegmentPath(1)), std::string::npos) << msg;
  EXPECT_NE(msg.find("offset " + std::to_string(record5)), std::string::npos) << msg;
  EXPECT_NE(msg.find("checksum mismatch"), std::string::npos) << msg;
  EXPECT_EQ(seen, (std::vector<uint64_t>{1, 2, 3, 4}));
}

// Encodes a record as the writer does (uncompressed).
std::string EncodeRecord(uint64_t lsn, uint32_t group_pos, std::string_view payload) {
  format::RecordHeader h;
  h.length = h.raw_length = static_cast<uint32_t>(payload.size());
  h.lsn = lsn;
  h.group_pos = group_pos;
  char header[format::kRecordHeaderSize];
  format::EncodeRecordHeader(h, header);
  EncodeFixed32(header, format::RecordCrc(crc32c::Value(payload), header));
  return std::string(header, sizeof(header)) + std::string(payload);
}

TEST_F(LogTest, BadRecordFollowedOnlyByItsOwnWriteGroupIsATornTail) {
  // A power loss during one write+sync may persist its pages out of order: record 3 torn,
  // record 4 of the same group intact. None of them was acknowledged.
  auto w = Open();
  w.reset();
  std::string seg = ReadFile(SegmentPath(1));  // the header
  seg += EncodeRecord(1, 0, "first group");
  seg += EncodeRecord(2, 0, "second group, record 0");
  const size_t torn_at = seg.size();
  std::string torn = EncodeRecord(3, 1, "second group, record 1");
  torn[torn.size() - 3] = 0;  // a page that never made it
  seg += torn;
  seg += EncodeRecord(4, 2, "second group, record 2");
  WriteFile(SegmentPath(1), seg);

  RecoveryResult r;
  Records recovered = RecoverAll(1, &r);
  ASSERT_EQ(recovered.size(), 2u);
  EXPECT_EQ(r.next_lsn, 3u);
  EXPECT_EQ(r.torn_tail_bytes, seg.size() - torn_at);

  // The same damage followed by a record of a later group is corruption.
  seg += EncodeRecord(5, 0, "third group");
  WriteFile(SegmentPath(1), seg);
  Status s = RecoverStatus();
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("offset " + std::to_string(torn_at)), std::string::npos)
      << s.message();
}

TEST_F(LogTest, BadSegmentHeaderIsCorruption) {
  auto w = Open();
  Append(w.get(), "record");
  ASSERT_TRUE(w->Close().ok());
  std::string seg = ReadFile(SegmentPath(1));
  seg[3] ^= 0x20;
  WriteFile(SegmentPath(1), seg);
  Status s = RecoverStatus();
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find(SegmentPath(1)), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("offset 0"), std::string::npos) << s.message();
}

TEST_F(LogTest, NewestSegmentShorterThanItsHeaderIsATornTail) {
  auto w = Open();
  Append(w.get(), "record");
  ASSERT_TRUE(w->Close().ok());
  WriteFile(SegmentPath(2), "THLOG");  // a crash while creating segment 2
  RecoveryResult r;
  EXPECT_EQ(RecoverAll(1, &r).size(), 1u);
  EXPECT_EQ(r.next_lsn, 2u);
  EXPECT_EQ(r.torn_tail_bytes, 5u);
  // The next writer replaces it.
  w = Open(r.next_lsn);
  EXPECT_EQ(Append(w.get(), "next"), 2u);
  ASSERT_TRUE(w->Close().ok());
  EXPECT_EQ(RecoverAll().size(), 2u);
}

TEST_F(LogTest, LsnGapBetweenSegmentsIsCorruption) {
  auto w = Open(1, Options(/*segment_bytes=*/1));  // one record per segment
  for (int i = 0; i < 3; ++i) Append(w.get(), "record " + std::to_string(i));
  ASSERT_TRUE(w->Close().ok());
  ASSERT_EQ(Segments().size(), 3u);
  ASSERT_TRUE(env_.RemoveFile(SegmentPath(2)).ok());
  Status s = RecoverStatus();
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find(SegmentPath(3)), std::string::npos) << s.message();
  // Records before from_lsn are not needed, so a gap there does not matter.
  EXPECT_EQ(RecoverAll(3).size(), 1u);
}

TEST_F(LogTest, TrimUpToRemovesOnlyFullyCoveredSegments) {
  auto w = Open(1, Options(/*segment_bytes=*/1));  // one record per segment
  for (int i = 1; i <= 5; ++i) Append(w.get(), "record " + std::to_string(i));
  ASSERT_EQ(Segments().size(), 5u);

  ASSERT_TRUE(w->TrimUpTo(0).ok());
  EXPECT_EQ(Segments().size(), 5u);
  ASSERT_TRUE(w->TrimUpTo(3).ok());  // segments 1, 2, 3 hold only LSNs <= 3
  EXPECT_EQ(Segments(),
            (std::vector<std::string>{format::SegmentFileName(4), format::SegmentFileName(5)}));
  ASSERT_TRUE(w->TrimUpTo(100).ok());  // never the current segment
  EXPECT_EQ(Segments(), (std::vector<std::string>{format::SegmentFileName(5)}));
  EXPECT_EQ(Append(w.get(), "record 6"), 6u);
  ASSERT_TRUE(w->Close().ok());

  RecoveryResult r;
  Records recovered = RecoverAll(1, &r);
  ASSERT_EQ(recovered.size(), 2u);
  EXPECT_EQ(recovered[0], (std::pair<uint64_t, std::string>{5, "record 5"}));
  EXPECT_EQ(r.oldest_lsn, 5u);  // records 1..4 are gone
  EXPECT_EQ(r.next_lsn, 7u);
}

TEST_F(LogTest, TrimIsDurableAcrossCrash) {
  auto w = Open(1, Options(/*segment_bytes=*/1));
  for (int i = 1; i <= 3; ++i) Append(w.get(), "r");
  ASSERT_TRUE(w->TrimUpTo(2).ok());
  env_.Crash();
  w.reset();
  EXPECT_EQ(Segments(), (std::vector<std::string>{format::SegmentFileName(3)}));
}

TEST_F(LogTest, ReopeningAfterRecoveryContinuesLsns) {
  auto w = Open();
  for (int i = 0; i < 3; ++i) Append(w.get(), "first run");
  ASSERT_TRUE(w->Close().ok());
  w.reset();

  RecoveryResult r;
  RecoverAll(1, &r);
  ASSERT_EQ(r.next_lsn, 4u);
  w = Open(r.next_lsn);
  EXPECT_EQ(w->next_lsn(), 4u);
  EXPECT_EQ(Append(w.get(), "second run"), 4u);
  EXPECT_EQ(Append(w.get(), "second run"), 5u);
  ASSERT_TRUE(w->Close().ok());
  EXPECT_EQ(Segments().size(), 2u);  // a new segment, the old one untouched

  Records recovered = RecoverAll();
  ASSERT_EQ(recovered.size(), 5u);
  for (size_t i = 0; i < recovered.size(); ++i) EXPECT_EQ(recovered[i].first, i + 1);
}

TEST_F(LogTest, RecoveryNeverReturnsAnLsnBelowFromLsn) {
  auto w = Open();
  Append(w.get(), "a");
  ASSERT_TRUE(w->Close().ok());
  RecoveryResult r;
  EXPECT_TRUE(RecoverAll(10, &r).empty());
  EXPECT_EQ(r.next_lsn, 10u);
}

TEST_F(LogTest, OpenRefusesNextLsnBehindExistingSegments) {
  auto w = Open(10);
  ASSERT_TRUE(w->Close().ok());
  w.reset();
  auto again = LogWriter::Open(&env_, dir_, 5, Options());
  EXPECT_EQ(again.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(LogTest, SecondWriterOnTheSameLogIsUnavailable) {
  auto w = Open();
  auto second = LogWriter::Open(&env_, dir_, 1, Options());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
}

TEST_F(LogTest, AppendAfterCloseIsUnavailable) {
  auto w = Open();
  Append(w.get(), "x");
  ASSERT_TRUE(w->Close().ok());
  EXPECT_TRUE(w->Close().ok());
  EXPECT_EQ(w->Append("y").status().code(), StatusCode::kUnavailable);
}

TEST_F(LogTest, EveryAcknowledgedAppendSurvivesCrash) {
  for (int round = 0; round < 20; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    env::FaultInjectionEnv env;
    // Odd rounds give the disk latency, so that the crash hits multi-record groups.
    env.SetSyncDelay(std::chrono::microseconds(round % 2 ? 200 : 0));
    std::map<uint64_t, std::string> acked;
    std::mutex mu;
    {
      auto w = LogWriter::Open(&env, dir_, 1, Options(/*segment_bytes=*/4096));
      ASSERT_TRUE(w.ok());
      std::atomic<int> acks{0};
      // A real process dies at the crash; these threads stop appending instead (an append in
      // flight may rotate onto a segment created after the crash and so still succeed).
      std::atomic<bool> crashed{false};
      std::vector<std::thread> threads;
      for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
          for (int i = 0; !crashed.load(); ++i) {
            std::string payload = std::to_string(t) + ":" + std::to_string(i) +
                                  std::string(static_cast<size_t>(i * 37 % 700), 'p');
            auto lsn = (*w)->Append(payload);
            if (!lsn.ok()) return;  // the crash
            std::lock_guard lock(mu);
            acked[*lsn] = payload;
            ++acks;
          }
        });
      }
      while (acks.load() < 10 + round * 15) std::this_thread::yield();
      crashed = true;
      env.Crash();
      for (auto& th : threads) th.join();
    }
    auto rec = Recover(&env, dir_, 1, [&](uint64_t lsn, std::string_view payload) {
      auto it = acked.find(lsn);
      if (it != acked.end() && it->second != payload) return Status::Internal("payload differs");
      acked.erase(lsn);
      return Status::OK();
    });
    ASSERT_TRUE(rec.ok()) << rec.status().ToString();
    EXPECT_TRUE(acked.empty()) << acked.size() << " acknowledged records lost, first LSN "
                               << acked.begin()->first;
    // The log is usable again.
    auto w = LogWriter::Open(&env, dir_, rec->next_lsn, Options());
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    EXPECT_EQ((*w)->Append("after crash").value(), rec->next_lsn);
  }
}

TEST_F(LogTest, SyncErrorFailsTheAppendAndEveryLaterOne) {
  auto w = Open();
  EXPECT_EQ(Append(w.get(), "ok"), 1u);
  const int64_t errors = metrics::ValueOf("trackhouse_log_write_errors_total");
  env_.SetSyncError(true);
  EXPECT_EQ(w->Append("fails").status().code(), StatusCode::kIOError);
  env_.SetSyncError(false);
  EXPECT_EQ(w->Append("refused").status().code(), StatusCode::kIOError);
  EXPECT_EQ(w->next_lsn(), 2u);
  EXPECT_EQ(metrics::ValueOf("trackhouse_log_write_errors_total"), errors + 1);
  EXPECT_FALSE(w->Close().ok());
  w.reset();
  env_.Crash();
  Records recovered = RecoverAll();
  ASSERT_EQ(recovered.size(), 1u);
  EXPECT_EQ(recovered[0].second, "ok");
}

TEST_F(LogTest, DiskFullIsResourceExhaustedAndNothingIsAcknowledged) {
  LogOptions options = Options();
  options.disk_full_retry_ms = 60'000;  // no second attempt within this test
  auto w = Open(1, options);
  EXPECT_EQ(Append(w.get(), "ok"), 1u);
  const int64_t refusals = metrics::ValueOf("trackhouse_log_disk_full_refusals_total");
  env_.SetNoSpace(true);
  auto lsn = w->Append("no room");
  ASSERT_FALSE(lsn.ok());
  EXPECT_EQ(lsn.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(lsn.status().clickhouse_code(), ch::kNotEnoughSpace);
  EXPECT_EQ(w->next_lsn(), 2u);
  EXPECT_EQ(w->health().code(), StatusCode::kResourceExhausted);
  // Within disk_full_retry_ms appends fail at once, even though space is back...
  env_.SetNoSpace(false);
  EXPECT_EQ(w->Append("refused at once").status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(metrics::ValueOf("trackhouse_log_disk_full_refusals_total"), refusals + 1);
  // ...but the writer is not broken: health() sees the room again.
  EXPECT_TRUE(w->health().ok());
  w.reset();
  EXPECT_EQ(RecoverAll().size(), 1u);
}

// Collects AppendAsync outcomes; Wait() returns once `n` callbacks ran.
class AsyncOutcomes {
 public:
  LogWriter::AppendCallback Callback(std::string payload) {
    return [this, payload = std::move(payload)](Result<uint64_t> r) {
      std::lock_guard lock(mu_);
      if (r.ok()) {
        lsns_.emplace_back(*r, payload);
      } else {
        errors_.push_back(r.status());
      }
      cv_.notify_all();
    };
  }
  void Wait(size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return lsns_.size() + errors_.size() >= n; });
  }
  Records lsns() {
    std::lock_guard lock(mu_);
    Records r = lsns_;
    std::sort(r.begin(), r.end());
    return r;
  }
  std::vector<Status> errors() {
    std::lock_guard lock(mu_);
    return errors_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  Records lsns_;
  std::vector<Status> errors_;
};

TEST_F(LogTest, AsyncAndWaitingAppendsShareOneDenseLsnOrderAndSurviveACrash) {
  env_.SetSyncDelay(std::chrono::microseconds(300));     // so that appends form groups
  auto w = Open(1, Options(/*segment_bytes=*/4 << 10));  // and segments rotate
  AsyncOutcomes async;
  constexpr int kThreads = 4, kEach = 150;
  std::mutex waited_mu;
  Records waited;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        std::string payload = fmt::format("t{}-{}", t, i);
        if ((t + i) % 2 == 0) {
          w->AppendAsync(payload, async.Callback(payload));
        } else {
          auto lsn = w->Append(payload);
          ASSERT_TRUE(lsn.ok()) << lsn.status().ToString();
          std::lock_guard lock(waited_mu);
          waited.emplace_back(*lsn, payload);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  async.Wait(kThreads * kEach / 2);
  EXPECT_TRUE(async.errors().empty());
  Records all = async.lsns();
  all.insert(all.end(), waited.begin(), waited.end());
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), static_cast<size_t>(kThreads * kEach));
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].first, i + 1);  // dense, unique
  // Every acknowledged record is durable when its callback runs: a power loss now keeps all.
  env_.Crash();
  w.reset();
  EXPECT_EQ(RecoverAll(), all);
}

TEST_F(LogTest, AsyncAppendRefusedUpFrontAnswersAtOnce) {
  LogOptions options = Options();
  options.disk_full_retry_ms = 60'000;
  auto w = Open(1, options);
  AsyncOutcomes outcomes;
  env_.SetNoSpace(true);
  w->AppendAsync("no room", outcomes.Callback("no room"));
  outcomes.Wait(1);                                         // failed by the writer thread's group
  w->AppendAsync("refused", outcomes.Callback("refused"));  // within disk_full_retry_ms
  ASSERT_EQ(outcomes.errors().size(), 2u);  // the callback ran before AppendAsync returned
  EXPECT_EQ(outcomes.errors()[0].code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(outcomes.errors()[1].code(), StatusCode::kResourceExhausted);
  env_.SetNoSpace(false);
  ASSERT_TRUE(w->Close().ok());
  w->AppendAsync("closed", outcomes.Callback("closed"));
  ASSERT_EQ(outcomes.errors().size(), 3u);
  EXPECT_EQ(outcomes.errors()[2].code(), StatusCode::kUnavailable);
  EXPECT_TRUE(outcomes.lsns().empty());
}

TEST_F(LogTest, SyncLatencyAndGroupSizesAreExported) {
  const int64_t syncs = metrics::HistogramCount("trackhouse_log_sync_duration_seconds", {});
  const int64_t groups = metrics::HistogramCount("trackhouse_log_group_records", {});
  const double records = metrics::HistogramSum("trackhouse_log_group_records", {});
  auto w = Open();
  const int64_t syncs_after_open =
      metrics::HistogramCount("trackhouse_log_sync_duration_seconds", {});
  EXPECT_GT(syncs_after_open, syncs);  // the new segment's header
  Append(w.get(), "a");
  Append(w.get(), "b");
  EXPECT_EQ(metrics::HistogramCount("trackhouse_log_sync_duration_seconds", {}),
            syncs_after_open + 2);
  EXPECT_EQ(metrics::HistogramCount("trackhouse_log_group_records", {}), groups + 2);
  EXPECT_EQ(metrics::HistogramSum("trackhouse_log_group_records", {}), records + 2);
}

TEST_F(LogTest, WriterGoesOnByItselfOnceTheDiskHasRoomAgain) {
  LogOptions options = Options(64 << 20, /*compress=*/false);
  options.disk_full_retry_ms = 0;
  auto w = Open(1, options);
  EXPECT_EQ(Append(w.get(), "before"), 1u);
  // The disk fills up in the middle of a group: part of it reaches the file.
  env_.FailWritesAfter(40, ENOSPC);
  auto torn = w->Append(std::string(300, 't'));
  EXPECT_EQ(torn.status().code(), StatusCode::kResourceExhausted);
  env_.FailWritesAfter(-1);
  env_.SetNoSpace(true);
  EXPECT_EQ(w->Append("still full").status().code(), StatusCode::kResourceExhausted);
  env_.SetNoSpace(false);
  EXPECT_EQ(Append(w.get(), "after"), 2u);  // the failed groups took no LSN
  EXPECT_TRUE(w->health().ok());
  w.reset();
  env_.Crash();
  RecoveryResult r;
  Records recovered = RecoverAll(1, &r);
  ASSERT_EQ(recovered.size(), 2u);
  EXPECT_EQ(recovered[0].second, "before");
  EXPECT_EQ(recovered[1].second, "after");
  EXPECT_EQ(r.torn_tail_bytes, 0u);  // the torn group was cut off, not left for recovery
}

TEST_F(LogTest, ADiskFullDuringRotationStartsTheNewSegmentAgain) {
  LogOptions options = Options(/*segment_bytes=*/1, /*compress=*/false);  // rotate every group
  options.disk_full_retry_ms = 0;
  auto w = Open(1, options);
  EXPECT_EQ(Append(w.get(), "one"), 1u);
  env_.FailWritesAfter(10, ENOSPC);  // the new segment's header is cut short
  EXPECT_EQ(w->Append("two").status().code(), StatusCode::kResourceExhausted);
  env_.FailWritesAfter(-1);
  EXPECT_EQ(Append(w.get(), "two again"), 2u);
  EXPECT_EQ(Append(w.get(), "three"), 3u);
  w.reset();
  env_.Crash();
  Records recovered = RecoverAll();
  ASSERT_EQ(recovered.size(), 3u);
  EXPECT_EQ(recovered[1].second, "two again");
  EXPECT_EQ(recovered[2].second, "three");
}

TEST_F(LogTest, TornWriteFailsTheAppendAndRecoveryDropsIt) {
  auto w = Open();
  Append(w.get(), "ok");
  env_.FailWritesAfter(10);  // the next group is cut after 10 bytes
  EXPECT_EQ(w->Append(std::string(500, 'z')).status().code(), StatusCode::kIOError);
  env_.FailWritesAfter(-1);
  w.reset();
  RecoveryResult r;
  EXPECT_EQ(RecoverAll(1, &r).size(), 1u);
  EXPECT_EQ(r.torn_tail_bytes, 10u);
  EXPECT_EQ(r.next_lsn, 2u);
}

TEST_F(LogTest, OversizedPayloadIsInvalidArgument) {
  auto w = Open();
  // Reserved, never-touched address space: the payload is rejected before it is read.
  const size_t n = format::kMaxPayloadBytes + 1;
  void* huge = ::mmap(nullptr, n, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  ASSERT_NE(huge, MAP_FAILED);
  auto lsn = w->Append(std::string_view(static_cast<const char*>(huge), n));
  ::munmap(huge, n);
  EXPECT_EQ(lsn.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Append(w.get(), "fine"), 1u);
}

TEST(PosixLogTest, RecordsRoundTripThroughRealFiles) {
  std::string tmpl = env::JoinPath(::testing::TempDir(), "trackhouse_log_test.XXXXXX");
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  env::Env* env = env::Env::Posix();
  const std::string dir = env::JoinPath(tmpl, "wal");
  {
    auto w = LogWriter::Open(env, dir, 1, Options(/*segment_bytes=*/8 << 10));
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 50; ++i) {
          ASSERT_TRUE((*w)->Append(Compressible(100 + 50 * i, t)).ok());
        }
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_LE((*w)->stats().groups, 200u);
    ASSERT_TRUE((*w)->Close().ok());
  }
  uint64_t count = 0;
  auto r = Recover(env, dir, 1, [&](uint64_t lsn, std::string_view payload) {
    ++count;
    return lsn == count ? Status::OK() : Status::Internal("LSN out of order");
  });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(count, 200u);
  EXPECT_EQ(r->next_lsn, 201u);
  EXPECT_TRUE(env->RemoveDirRecursively(tmpl).ok());
}

}  // namespace
}  // namespace trackhouse::log
