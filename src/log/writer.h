// LogWriter: appends opaque payload records to the durable log (the embedded engine's WAL, and
// the ClickHouse-mode spool) with group commit, and trims segments the caller no longer needs.
//
// A log is a directory of segment files, each named by the LSN of its first record
// ("00000000000000000001.log"; names sort by LSN) plus a LOCK file held by the open writer.
// A writer appends to one segment and rotates to a new one past LogOptions::segment_bytes.
// Every record gets an LSN: dense, increasing, never reused. Format (docs/formats/log.md has the
// full rules; all integers little-endian):
//
//   segment file := segment header (32 bytes), then records back to back
//
//   segment header:
//   +----------------+-----------+-----------+---------------+-----------+-------------+
//   | magic "THLOGSEG" | version | flags (0) | first LSN     | reserved  | masked CRC  |
//   | 8 bytes        | u32 = 1   | u32       | u64           | u32 (0)   | u32         |
//   +----------------+-----------+-----------+---------------+-----------+-------------+
//     CRC32C over bytes [0, 28)
//
//   record := 28-byte header, then `length` bytes of stored payload:
//   +------------+----------+---------+-------------+-----------+----------+----------------+
//   | masked CRC | length   | LSN     | raw length  | group pos | flags    | stored payload |
//   | u32        | u32      | u64     | u32         | u32       | u32      | length bytes   |
//   +------------+----------+---------+-------------+-----------+----------+----------------+
//     CRC32C over the stored payload, then the header bytes [4, 28); masked (crc32c::Mask).
//     flags bit 0: the stored payload is an LZ4 block of `raw length` bytes (otherwise raw
//     length == length). Other bits are zero. group pos: how many records precede this one in
//     the same write+sync (its LSN minus the group's first LSN); recovery uses it to tell a
//     torn last group from corruption.
//
// Durability: Append returns an LSN only after the record's bytes are written and fdatasync'ed
// (with LogOptions::sync), and a new segment's file and directory entry are synced before any
// record goes into it.
//
// A full disk (ENOSPC, EDQUOT) is not fatal: the group that met it fails with ResourceExhausted,
// its bytes are cut off the segment again (truncate and sync, which need no free space), and
// later appends try again, at most one group per LogOptions::disk_full_retry_ms while the disk
// stays full (the others fail at once). Any other write or sync error is sticky.
//
// Thread-safety: thread-safe. Many threads may call Append concurrently; one of them (the
// leader) writes the queued records of all in one append and one sync (group commit).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "env/env.h"

namespace trackhouse::log {

struct LogOptions {
  // Rotate to a new segment file once the current one holds at least this many bytes. Default
  // 64 MiB. A segment can exceed it by one write group.
  uint64_t segment_bytes = 64 << 20;
  // LZ4-compress payloads of 256 bytes or more when that saves at least 1/8. Default true.
  bool compress = true;
  // fdatasync before Append returns. Default true. Off, an acknowledged record survives a
  // process crash but not a power loss (benchmarks only).
  bool sync = true;
  // A group commit writes at most this many bytes in one go (a single larger record is written
  // alone). Default 64 MiB.
  size_t max_group_bytes = 64 << 20;
  // After a group failed on a full disk, appends within this many milliseconds fail at once
  // with the same status instead of trying to write. Default 200.
  uint32_t disk_full_retry_ms = 200;
};

class LogWriter {
 public:
  using AppendCallback = std::function<void(Result<uint64_t>)>;

  // Statistics since Open, for benchmarks and /metrics.
  struct Stats {
    uint64_t syncs = 0;          // fdatasyncs of segment files
    uint64_t records = 0;        // records acknowledged
    uint64_t bytes = 0;          // bytes written to segment files (headers included)
    uint64_t payload_bytes = 0;  // payload bytes acknowledged, before compression
    uint64_t groups = 0;         // write groups (one write each)
  };

  // Opens the log in `dir` (creating it durably) for appending after recovery; `next_lsn` is
  // the LSN the next record gets: RecoveryResult::next_lsn, or 1 for a new log. Always starts a
  // NEW segment named by next_lsn, so a torn tail of an old segment stays untouched (a file of
  // that same name can only hold a torn, record-less segment, and is replaced). Takes the
  // LOCK file in `dir`: Unavailable if another writer has the log open. InvalidArgument if a
  // segment in `dir` starts beyond next_lsn.
  static Result<std::unique_ptr<LogWriter>> Open(env::Env* env, std::string dir, uint64_t next_lsn,
                                                 LogOptions options);

  // Closes (see Close) and releases the LOCK.
  ~LogWriter();

  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  // Appends one record (one atomic unit) and returns its LSN once it is durable. Concurrent
  // callers queue; the one at the head becomes the leader, writes every queued record (up to
  // max_group_bytes) with one append and one sync, and wakes the others with their LSNs. LSNs
  // follow queue order, dense from next_lsn. A failed write or sync fails every record of the
  // group and the writer then refuses every further Append with that error, since the file's
  // state is unknown: reopen the log (Recover + Open) to continue. Payloads over 1 GiB are
  // InvalidArgument; after Close, Unavailable.
  Result<uint64_t> Append(std::string_view payload);

  // Append without waiting: queues `payload` and returns at once; `done` gets the record's LSN
  // once it is durable, or the error. `done` runs on the thread that wrote the group (a
  // writer thread the log starts on first use, or a concurrent Append caller), after the
  // group is synced and before the callers of Append in the same group are woken; it must be
  // quick and must not call Append. It runs at once, on this thread, if the record is refused
  // up front (payload too large, log closed, failed, or full). Records of Append and
  // AppendAsync share one queue and one LSN order.
  void AppendAsync(std::string payload, AppendCallback done);

  // Deletes (oldest first, then SyncDir) the segments whose records all have LSN <= upto_lsn.
  // Never deletes the current segment.
  Status TrimUpTo(uint64_t upto_lsn);

  // Stops taking appends (they return Unavailable), waits for queued ones (and the callbacks
  // of AppendAsync), stops the writer thread, syncs and closes the current segment. Returns the
  // writer's sticky error if a write had failed. Idempotent.
  Status Close();

  // The LSN the next acknowledged record will get.
  uint64_t next_lsn() const;
  // OK while appends can succeed; the sticky error after a failed write or sync, Unavailable
  // after Close; ResourceExhausted while the disk is full (from a failed group until one
  // succeeds, unless the file system reports free space again).
  Status health() const;
  Stats stats() const;

 private:
  struct PendingRecord;  // one queued Append; lives on the caller's stack

  LogWriter(env::Env* env, std::string dir, uint64_t next_lsn, LogOptions options,
            std::unique_ptr<env::FileLock> lock, std::vector<uint64_t> segments);

  // Creates segment `first_lsn`, writes and syncs its header, syncs the directory, makes it
  // current. Called by Open and by the leader.
  Status StartSegment(uint64_t first_lsn);
  // InvalidArgument if a payload of `size` bytes is over the limit.
  Status CheckPayload(size_t size) const;
  // Whether an append may queue now: not closed, failed or (within disk_full_retry_ms) full.
  Status Admit() REQUIRES(mu_);
  // Writes the group at the head of the queue (the caller's record, or the writer thread's
  // AppendAsync records), completes its records, hands the lead on, runs the callbacks and
  // wakes the callers. Called with `lock` held; returns with it released.
  void LeadGroup(std::unique_lock<std::mutex>& lock);
  // The writer thread: leads whenever the head of the queue is an AppendAsync record.
  void WriterThreadLoop();
  // file->Sync(), counted in stats and metrics.
  Status SyncFile(env::WritableFile* file);
  // Writes and syncs `group`, whose first record gets `first_lsn`. Leader only, without mu_.
  Status WriteGroup(const std::vector<PendingRecord*>& group, uint64_t first_lsn);
  // After a group failed on a full disk: cuts the current segment back to its last good group
  // (truncate, reopen, sync), or starts segment `next_lsn` again if a rotation failed. Leader
  // only, without mu_.
  Status CutFailedGroup(uint64_t next_lsn);

  env::Env* const env_;
  const std::string dir_;
  const LogOptions options_;

  mutable std::mutex mu_;
  std::deque<std::shared_ptr<PendingRecord>> queue_ GUARDED_BY(mu_);  // front() is the leader
  std::condition_variable drained_cv_;       // signalled when queue_ is empty and nothing completes
  std::condition_variable async_cv_;         // wakes the writer thread
  bool async_head_ GUARDED_BY(mu_) = false;  // the head is AppendAsync's: the writer thread leads
  bool writer_stop_ GUARDED_BY(mu_) = false;  // Close: the writer thread ends
  int completing_ GUARDED_BY(mu_) = 0;        // leaders running callbacks and wake-ups
  std::thread writer_thread_;                 // started by the first AppendAsync
  uint64_t next_lsn_ GUARDED_BY(mu_);
  Status error_ GUARDED_BY(mu_);  // sticky: the first failed write or sync
  // Set while the disk is full (the last group failed with ResourceExhausted), with the time
  // before which appends fail at once.
  Status disk_full_ GUARDED_BY(mu_);
  std::chrono::steady_clock::time_point disk_full_retry_at_ GUARDED_BY(mu_);
  bool closed_ GUARDED_BY(mu_) = false;
  std::vector<uint64_t> segments_ GUARDED_BY(mu_);  // first LSNs, ascending; back() is current
  Stats stats_ GUARDED_BY(mu_);                     // except syncs, counted in syncs_
  std::atomic<uint64_t> syncs_{0};

  // Used only by the leader (the Append at queue_.front()), or by Open/Close when no Append
  // is queued, so they need no lock.
  std::unique_ptr<env::WritableFile> file_;
  std::string file_path_;    // of file_
  uint64_t good_size_ = 0;   // file_'s size after its last successful group (or its header)
  bool cut_needed_ = false;  // a failed group's bytes may still be in file_ (CutFailedGroup)
  std::string group_buf_;    // the encoded group being written
  std::unique_ptr<env::FileLock> lock_;
};

}  // namespace trackhouse::log
