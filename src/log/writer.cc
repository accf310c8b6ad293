#include "log/writer.h"

#include <lz4.h>

#include <algorithm>

#include "common/coding.h"
#include "common/crc32c.h"
#include "common/metrics.h"
#include "log/format.h"

namespace trackhouse::log {
namespace {

struct Counters {
  metrics::Counter& syncs =
      metrics::GetCounter("trackhouse_log_syncs_total", "fdatasyncs of log segment files");
  metrics::Counter& records =
      metrics::GetCounter("trackhouse_log_records_total", "Log records acknowledged");
  metrics::Counter& bytes =
      metrics::GetCounter("trackhouse_log_bytes_total", "Bytes written to log segment files");
  metrics::Counter& write_errors = metrics::GetCounter(
      "trackhouse_log_write_errors_total", "Log write groups that failed to write or sync");
  metrics::Counter& disk_full = metrics::GetCounter(
      "trackhouse_log_disk_full_total",
      "Log write groups that failed because the disk was full (each is retried later)");
  metrics::Counter& disk_full_refusals = metrics::GetCounter(
      "trackhouse_log_disk_full_refusals_total",
      "Appends refused at once while the disk was full, between write attempts");
  metrics::Histogram& sync_seconds = metrics::GetHistogram(
      "trackhouse_log_sync_duration_seconds", "Time one fdatasync of a log segment took",
      metrics::kLatencySecondsBuckets);
  metrics::Histogram& group_records = metrics::GetHistogram(
      "trackhouse_log_group_records", "Records written and synced together by one group commit",
      {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000});
  metrics::Gauge& queue_depth = metrics::GetGauge(
      "trackhouse_log_queue_depth", "Appends queued when the last group commit started");
};

Counters& GetCounters() {
  static Counters* counters = new Counters();
  return *counters;
}

// The group buffer is released after a group larger than this, so that one huge group does not
// pin its memory for the writer's lifetime.
constexpr size_t kKeepGroupBufferBytes = 8 << 20;

// While the disk is full, health() reports OK again once the file system has this much room.
constexpr uint64_t kDiskRoomBytes = 1 << 20;

}  // namespace

struct LogWriter::PendingRecord {
  // Compresses and checksums the payload on the caller's thread, before it queues.
  PendingRecord(std::string_view payload, bool compress)
      : stored(payload), raw_length(static_cast<uint32_t>(payload.size())) {
    Encode(compress);
  }
  // Keeps the payload (AppendAsync: the caller does not wait for the write).
  PendingRecord(std::string payload, bool compress)
      : owned(std::move(payload)), stored(owned), raw_length(static_cast<uint32_t>(owned.size())) {
    Encode(compress);
  }

  void Encode(bool compress) {
    std::string_view payload = stored;
    if (compress && payload.size() >= format::kMinCompressBytes) {
      const int n = static_cast<int>(payload.size());
      const int bound = LZ4_compressBound(n);
      compressed = std::make_unique_for_overwrite<char[]>(bound);
      int c = LZ4_compress_default(payload.data(), compressed.get(), n, bound);
      if (c > 0 && c <= n - n / 8) {
        stored = std::string_view(compressed.get(), c);
        flags = format::kFlagLz4;
      } else {
        compressed.reset();
      }
    }
    payload_crc = crc32c::Value(stored);
  }

  size_t encoded_size() const { return format::kRecordHeaderSize + stored.size(); }

  std::string owned;        // the payload, when the record owns it
  std::string_view stored;  // the bytes after the header: the payload or its LZ4 form
  std::unique_ptr<char[]> compressed;
  uint32_t raw_length;
  uint32_t flags = 0;
  uint32_t payload_crc = 0;  // CRC32C of `stored`

  bool async = false;       // queued by AppendAsync
  AppendCallback callback;  // AppendAsync's, until it has run

  // Guarded by the writer's mu_.
  std::condition_variable cv;  // signalled when done or when this record reaches the head
  bool done = false;
  Status status;
  uint64_t lsn = 0;
};

LogWriter::LogWriter(env::Env* env, std::string dir, uint64_t next_lsn, LogOptions options,
                     std::unique_ptr<env::FileLock> lock, std::vector<uint64_t> segments)
    : env_(env),
      dir_(std::move(dir)),
      options_(options),
      next_lsn_(next_lsn),
      segments_(std::move(segments)),
      lock_(std::move(lock)) {}

LogWriter::~LogWriter() { Close().IgnoreError(); }

Result<std::unique_ptr<LogWriter>> LogWriter::Open(env::Env* env, std::string dir,
                                                   uint64_t next_lsn, LogOptions options) {
  if (next_lsn == 0) return Status::InvalidArgument("log " + dir + ": next_lsn must be >= 1");
  if (options.segment_bytes == 0 || options.max_group_bytes == 0) {
    return Status::InvalidArgument("log " + dir +
                                   ": segment_bytes and max_group_bytes must be > 0");
  }
  TH_RETURN_IF_ERROR(env::CreateDirsDurably(env, dir));
  TH_ASSIGN_OR_RETURN(auto lock, env->LockFile(env::JoinPath(dir, "LOCK")));
  TH_ASSIGN_OR_RETURN(auto children, env->GetChildren(dir));
  std::vector<uint64_t> segments;
  for (const std::string& name : children) {
    uint64_t first = 0;
    if (!format::ParseSegmentFileName(name, &first)) continue;
    if (first > next_lsn) {
      return Status::InvalidArgument("log " + dir + ": segment " + name +
                                     " starts beyond next_lsn " + std::to_string(next_lsn) +
                                     "; open the log at the LSN recovery returned");
    }
    if (first < next_lsn) segments.push_back(first);  // one equal to next_lsn is replaced
  }
  std::sort(segments.begin(), segments.end());
  std::unique_ptr<LogWriter> writer(
      new LogWriter(env, std::move(dir), next_lsn, options, std::move(lock), std::move(segments)));
  TH_RETURN_IF_ERROR(writer->StartSegment(next_lsn));
  return writer;
}

Status LogWriter::SyncFile(env::WritableFile* file) {
  const auto start = std::chrono::steady_clock::now();
  TH_RETURN_IF_ERROR(file->Sync());
  GetCounters().sync_seconds.Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  syncs_.fetch_add(1, std::memory_order_relaxed);
  GetCounters().syncs.Add();
  return Status::OK();
}

Status LogWriter::StartSegment(uint64_t first_lsn) {
  const std::string path = env::JoinPath(dir_, format::SegmentFileName(first_lsn));
  TH_ASSIGN_OR_RETURN(auto file, env_->NewWritableFile(path));
  char header[format::kSegmentHeaderSize];
  format::EncodeSegmentHeader(first_lsn, header);
  TH_RETURN_IF_ERROR(file->Append(std::string_view(header, sizeof(header))));
  TH_RETURN_IF_ERROR(SyncFile(file.get()));
  TH_RETURN_IF_ERROR(env_->SyncDir(dir_));  // the segment's name must survive before its records
  // Only a whole, synced segment becomes current: if any step failed, file_ stays null and the
  // next group starts the segment again (NewWritableFile truncates the half-made one).
  file_ = std::move(file);
  file_path_ = path;
  good_size_ = file_->Size();
  std::lock_guard lock(mu_);
  segments_.push_back(first_lsn);
  stats_.bytes += sizeof(header);
  GetCounters().bytes.Add(sizeof(header));
  return Status::OK();
}

Status LogWriter::WriteGroup(const std::vector<PendingRecord*>& group, uint64_t first_lsn) {
  const uint64_t size = file_->Size();
  if (size > format::kSegmentHeaderSize && size >= options_.segment_bytes) {
    // Sync the old segment even without options_.sync, so no later segment can outlive its tail.
    TH_RETURN_IF_ERROR(SyncFile(file_.get()));
    Status s = file_->Close();
    file_.reset();
    TH_RETURN_IF_ERROR(s);
    TH_RETURN_IF_ERROR(StartSegment(first_lsn));
  }

  size_t total = 0;
  for (const PendingRecord* r : group) total += r->encoded_size();
  group_buf_.clear();
  group_buf_.reserve(total);
  char header[format::kRecordHeaderSize];
  for (size_t i = 0; i < group.size(); ++i) {
    const PendingRecord& r = *group[i];
    format::RecordHeader h;
    h.length = static_cast<uint32_t>(r.stored.size());
    h.lsn = first_lsn + i;
    h.raw_length = r.raw_length;
    h.group_pos = static_cast<uint32_t>(i);
    h.flags = r.flags;
    format::EncodeRecordHeader(h, header);
    EncodeFixed32(header, format::RecordCrc(r.payload_crc, header));
    group_buf_.append(header, sizeof(header)).append(r.stored);
  }
  Status s = file_->Append(group_buf_);
  if (s.ok()) s = options_.sync ? SyncFile(file_.get()) : file_->Flush();
  if (group_buf_.capacity() > kKeepGroupBufferBytes) std::string().swap(group_buf_);
  if (s.ok()) good_size_ = file_->Size();
  return s;
}

Status LogWriter::CutFailedGroup(uint64_t next_lsn) {
  if (file_ == nullptr) return StartSegment(next_lsn);  // a rotation failed half way
  // The failed group may be partly or wholly in the file (or in the file's buffer): recovery
  // must never find it, since its appends were answered with an error.
  file_->Close().IgnoreError();  // nothing is buffered after a failed append or flush
  file_.reset();
  TH_RETURN_IF_ERROR(env_->TruncateFile(file_path_, good_size_));
  TH_ASSIGN_OR_RETURN(auto file, env_->NewAppendableFile(file_path_));
  TH_RETURN_IF_ERROR(SyncFile(file.get()));
  file_ = std::move(file);
  return Status::OK();
}

Status LogWriter::CheckPayload(size_t size) const {
  if (size <= format::kMaxPayloadBytes) return Status::OK();
  return Status::InvalidArgument("log " + dir_ + ": record of " + std::to_string(size) +
                                 " bytes exceeds the " + std::to_string(format::kMaxPayloadBytes) +
                                 "-byte limit");
}

Status LogWriter::Admit() {
  if (closed_) return Status::Unavailable("log " + dir_ + " is closed");
  if (!error_.ok()) return error_;
  if (!disk_full_.ok() && std::chrono::steady_clock::now() < disk_full_retry_at_) {
    GetCounters().disk_full_refusals.Add();
    return disk_full_;
  }
  return Status::OK();
}

Result<uint64_t> LogWriter::Append(std::string_view payload) {
  TH_RETURN_IF_ERROR(CheckPayload(payload.size()));
  // Shared with the leader, which wakes this caller after releasing mu_ (a waiter woken under
  // the lock would at once block on it again) and so must keep the record alive until then.
  auto shared = std::make_shared<PendingRecord>(payload, options_.compress);
  PendingRecord& rec = *shared;

  std::unique_lock lock(mu_);
  TH_RETURN_IF_ERROR(Admit());
  queue_.push_back(shared);
  rec.cv.wait(lock, [&] { return rec.done || queue_.front().get() == &rec; });
  if (!rec.done) LeadGroup(lock);  // at the head of the queue: lead; returns unlocked
  if (!rec.status.ok()) return rec.status;
  return rec.lsn;
}

void LogWriter::AppendAsync(std::string payload, AppendCallback done) {
  if (Status s = CheckPayload(payload.size()); !s.ok()) {
    done(s);
    return;
  }
  auto rec = std::make_shared<PendingRecord>(std::move(payload), options_.compress);
  rec->async = true;
  rec->callback = std::move(done);
  std::unique_lock lock(mu_);
  if (Status s = Admit(); !s.ok()) {
    lock.unlock();
    rec->callback(s);
    return;
  }
  queue_.push_back(rec);
  // The writer thread leads whenever the head is an AppendAsync record, also when a leader
  // hands it the lead: it must exist before the first such record can reach the head.
  if (!writer_thread_.joinable()) writer_thread_ = std::thread([this] { WriterThreadLoop(); });
  if (queue_.size() == 1) {
    // No leader is writing and no caller waits to lead.
    async_head_ = true;
    async_cv_.notify_one();
  }
}

void LogWriter::WriterThreadLoop() {
  std::unique_lock lock(mu_);
  while (true) {
    async_cv_.wait(lock, [&] { return async_head_ || writer_stop_; });
    if (async_head_) {
      async_head_ = false;
      LeadGroup(lock);
      lock.lock();
      continue;
    }
    return;  // writer_stop_, nothing to lead
  }
}

void LogWriter::LeadGroup(std::unique_lock<std::mutex>& lock) {
  // queue_.front() is this leader's: take it and those queued behind it (up to max_group_bytes).
  std::vector<PendingRecord*> group;
  size_t group_bytes = 0;
  for (const auto& r : queue_) {
    if (!group.empty() && group_bytes + r->encoded_size() > options_.max_group_bytes) break;
    group.push_back(r.get());
    group_bytes += r->encoded_size();
  }
  const uint64_t first_lsn = next_lsn_;
  GetCounters().queue_depth.Set(static_cast<int64_t>(queue_.size()));
  lock.unlock();  // others may queue while the group is written
  Status s = cut_needed_ ? CutFailedGroup(first_lsn) : Status::OK();
  if (s.ok()) {
    cut_needed_ = false;
    s = WriteGroup(group, first_lsn);
  }
  if (s.code() == StatusCode::kResourceExhausted) {
    // The disk filled up: this group fails, but the writer goes on once its bytes are cut off.
    // A cut needs no free space; if it fails anyway, the next leader tries it again.
    cut_needed_ = true;
    Status cut = CutFailedGroup(first_lsn);
    if (cut.ok()) {
      cut_needed_ = false;
    } else if (cut.code() != StatusCode::kResourceExhausted) {
      s = cut;  // the segment's state is unknown: sticky
    }
  }
  lock.lock();

  // Completed records, woken (or their callbacks run) once mu_ is released.
  std::vector<std::shared_ptr<PendingRecord>> finished;
  finished.reserve(group.size());
  if (s.ok()) {
    disk_full_ = Status::OK();
    next_lsn_ += group.size();
    stats_.records += group.size();
    stats_.bytes += group_bytes;
    stats_.groups += 1;
    GetCounters().group_records.Observe(static_cast<double>(group.size()));
    GetCounters().records.Add(static_cast<int64_t>(group.size()));
    GetCounters().bytes.Add(static_cast<int64_t>(group_bytes));
    for (size_t i = 0; i < group.size(); ++i) {
      std::shared_ptr<PendingRecord> r = std::move(queue_.front());
      queue_.pop_front();
      stats_.payload_bytes += r->raw_length;
      r->lsn = first_lsn + i;
      r->done = true;
      finished.push_back(std::move(r));
    }
  } else {
    // Fail this group and everything queued behind it (they would meet the same fate). On a
    // full disk the writer retries after disk_full_retry_ms; otherwise the file's state is
    // unknown and the error is sticky.
    GetCounters().write_errors.Add();
    if (s.code() == StatusCode::kResourceExhausted) {
      GetCounters().disk_full.Add();
      disk_full_ = s;
      disk_full_retry_at_ =
          std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.disk_full_retry_ms);
    } else {
      error_ = s;
    }
    while (!queue_.empty()) {
      std::shared_ptr<PendingRecord> r = std::move(queue_.front());
      queue_.pop_front();
      r->status = s;
      r->done = true;
      finished.push_back(std::move(r));
    }
  }
  // Hand the lead on: to the caller waiting at the new head, or to the writer thread when the
  // head is an AppendAsync record.
  std::shared_ptr<PendingRecord> next_leader;
  if (!queue_.empty()) {
    if (queue_.front()->async) {
      async_head_ = true;
      async_cv_.notify_one();
    } else {
      next_leader = queue_.front();
    }
  }
  ++completing_;
  lock.unlock();
  // Callbacks first, in LSN order, then the waiting callers: a caller woken here may act on
  // the assumption that every record before its own has been fully handled.
  for (const auto& r : finished) {
    if (!r->callback) continue;
    r->callback(r->status.ok() ? Result<uint64_t>(r->lsn) : Result<uint64_t>(r->status));
    r->callback = nullptr;  // what it holds goes now, not with the last reference
  }
  for (const auto& r : finished) {
    if (!r->async) r->cv.notify_one();
  }
  if (next_leader) next_leader->cv.notify_one();
  lock.lock();
  if (--completing_ == 0 && queue_.empty()) drained_cv_.notify_all();
  lock.unlock();
}

Status LogWriter::TrimUpTo(uint64_t upto_lsn) {
  std::vector<uint64_t> doomed;
  {
    std::lock_guard lock(mu_);
    size_t n = 0;
    // Segment n holds LSNs [segments_[n], segments_[n + 1]); the last one is never trimmed.
    while (n + 1 < segments_.size() && segments_[n + 1] - 1 <= upto_lsn) ++n;
    doomed.assign(segments_.begin(), segments_.begin() + n);
    segments_.erase(segments_.begin(), segments_.begin() + n);
  }
  for (size_t i = 0; i < doomed.size(); ++i) {
    Status s = env_->RemoveFile(env::JoinPath(dir_, format::SegmentFileName(doomed[i])));
    if (!s.ok() && s.code() != StatusCode::kNotFound) {
      std::lock_guard lock(mu_);  // keep the rest for a later trim
      segments_.insert(segments_.begin(), doomed.begin() + i, doomed.end());
      return s;
    }
  }
  return doomed.empty() ? Status::OK() : env_->SyncDir(dir_);
}

Status LogWriter::Close() {
  std::unique_lock lock(mu_);
  if (closed_) return error_;
  closed_ = true;
  drained_cv_.wait(lock, [&] { return queue_.empty() && completing_ == 0; });
  writer_stop_ = true;
  async_cv_.notify_all();
  Status s = error_;
  const uint64_t next_lsn = next_lsn_;
  lock.unlock();
  if (writer_thread_.joinable()) writer_thread_.join();
  if (cut_needed_) {
    // Best effort: a failed group left in the segment would be replayed by recovery.
    if (CutFailedGroup(next_lsn).ok()) cut_needed_ = false;
  }
  if (file_ != nullptr) {
    if (s.ok()) s = SyncFile(file_.get());
    Status c = file_->Close();
    if (s.ok()) s = c;
    file_.reset();
  }
  lock_.reset();
  lock.lock();
  if (error_.ok()) error_ = s;
  return s;
}

Status LogWriter::health() const {
  std::unique_lock lock(mu_);
  if (!error_.ok()) return error_;
  if (closed_) return Status::Unavailable("the log is closed");
  if (disk_full_.ok()) return Status::OK();
  Status full = disk_full_;
  lock.unlock();
  // Room again: the next append will write (and clear the state if it succeeds).
  auto free = env_->FreeBytes(dir_);
  if (free.ok() && *free >= kDiskRoomBytes) return Status::OK();
  return full;
}

uint64_t LogWriter::next_lsn() const {
  std::lock_guard lock(mu_);
  return next_lsn_;
}

LogWriter::Stats LogWriter::stats() const {
  std::lock_guard lock(mu_);
  Stats s = stats_;
  s.syncs = syncs_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace trackhouse::log
