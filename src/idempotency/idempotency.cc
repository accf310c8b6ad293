#include "idempotency/idempotency.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "common/coding.h"
#include "common/crc32c.h"
#include "common/metrics.h"

namespace trackhouse::idempotency {
namespace {

constexpr std::string_view kMagic = "THIDEMP1";
constexpr uint32_t kVersion = 1;

metrics::Counter& Evicted() {
  static metrics::Counter& c = metrics::GetCounter(
      "trackhouse_idempotency_evicted_total",
      "Idempotency-Keys forgotten before their window ended because max_idempotency_keys were "
      "held");
  return c;
}

metrics::Gauge& Held() {
  static metrics::Gauge& g =
      metrics::GetGauge("trackhouse_idempotency_keys", "Idempotency-Keys held (within the window)");
  return g;
}

}  // namespace

IdempotencyIndex::IdempotencyIndex(env::Env* env, std::string dir, int64_t window_micros,
                                   size_t max_keys)
    : env_(env),
      dir_(std::move(dir)),
      path_(env::JoinPath(dir_, "idempotency")),
      window_micros_(window_micros),
      max_keys_(max_keys) {}

std::string IdempotencyIndex::Encode(uint64_t covered_lsn,
                                     const std::deque<storage::IdempotencyRecord>& records) {
  std::string out(kMagic);
  PutFixed32(&out, kVersion);
  PutFixed64(&out, covered_lsn);
  PutFixed32(&out, static_cast<uint32_t>(records.size()));
  for (const auto& r : records) {
    PutFixed64(&out, static_cast<uint64_t>(r.time_micros));
    PutLengthPrefixed(&out, r.key);
    PutLengthPrefixed(&out, r.answer);
  }
  PutFixed32(&out, crc32c::Value(out));
  return out;
}

Result<uint64_t> IdempotencyIndex::Load(int64_t now_micros) {
  if (!env_->FileExists(path_)) return uint64_t{0};
  std::string data;
  TH_RETURN_IF_ERROR(env_->ReadFileToString(path_, &data));
  auto corrupt = [&](std::string_view what, size_t offset) {
    return Status::Corruption(fmt::format("idempotency snapshot {}: {} at offset {} ({} bytes)",
                                          path_, what, offset, data.size()));
  };
  const size_t fixed = kMagic.size() + 4 + 8 + 4 + 4;
  if (data.size() < fixed || std::string_view(data).substr(0, kMagic.size()) != kMagic) {
    return corrupt("bad magic or too short", 0);
  }
  uint32_t stored_crc = DecodeFixed32(data.data() + data.size() - 4);
  if (crc32c::Value(data.data(), data.size() - 4) != stored_crc) {
    return corrupt("checksum mismatch", data.size() - 4);
  }
  std::string_view in(data.data() + kMagic.size(), data.size() - kMagic.size() - 4);
  uint32_t version = 0, count = 0;
  uint64_t covered = 0;
  GetFixed32(&in, &version);
  if (version != kVersion) {
    return Status::NotSupported(fmt::format(
        "idempotency snapshot {}: version {} is newer than this build", path_, version));
  }
  GetFixed64(&in, &covered);
  GetFixed32(&in, &count);
  std::lock_guard lock(mu_);
  saved_covered_ = covered;
  for (uint32_t i = 0; i < count; ++i) {
    uint64_t time = 0;
    std::string_view key, answer;
    if (!GetFixed64(&in, &time) || !GetLengthPrefixed(&in, &key) ||
        !GetLengthPrefixed(&in, &answer)) {
      return corrupt(fmt::format("entry {} of {} is cut short", i, count),
                     data.size() - 4 - in.size());
    }
    if (by_key_.count(std::string(key)) != 0) continue;
    by_key_.emplace(std::string(key), front_seq_ + order_.size());
    order_.push_back({std::string(key), std::string(answer), static_cast<int64_t>(time)});
  }
  ExpireLocked(now_micros);
  return covered;
}

std::optional<storage::IdempotencyRecord> IdempotencyIndex::Find(std::string_view key,
                                                                 int64_t now_micros) const {
  std::lock_guard lock(mu_);
  auto it = by_key_.find(std::string(key));
  if (it == by_key_.end()) return std::nullopt;
  const storage::IdempotencyRecord& r = order_[it->second - front_seq_];
  if (r.time_micros + window_micros_ < now_micros) return std::nullopt;
  return r;
}

void IdempotencyIndex::Add(const storage::IdempotencyRecord& record, int64_t now_micros) {
  std::lock_guard lock(mu_);
  if (by_key_.count(record.key) != 0) return;
  by_key_.emplace(record.key, front_seq_ + order_.size());
  order_.push_back(record);
  dirty_ = true;
  ExpireLocked(now_micros);
}

void IdempotencyIndex::ExpireLocked(int64_t now_micros) {
  while (!order_.empty() &&
         (order_.size() > max_keys_ || order_.front().time_micros + window_micros_ < now_micros)) {
    if (order_.size() > max_keys_) Evicted().Add();
    by_key_.erase(order_.front().key);
    order_.pop_front();
    ++front_seq_;
    dirty_ = true;
  }
  Held().Set(static_cast<int64_t>(order_.size()));
}

Status IdempotencyIndex::Save(uint64_t covered_lsn, int64_t now_micros) {
  std::string data;
  {
    std::lock_guard lock(mu_);
    ExpireLocked(now_micros);
    // Also rewritten when only the coverage moved: recovery then reads the log from there on,
    // not from records long trimmed.
    if (!dirty_ && covered_lsn <= saved_covered_) return Status::OK();
    data = Encode(covered_lsn, order_);
    dirty_ = false;
  }
  // Atomic replace: a crash leaves the old snapshot or the new one, never a torn file.
  const std::string tmp = path_ + ".tmp";
  Status s = env_->WriteStringToFileSync(tmp, data);
  if (s.ok()) s = env_->RenameFile(tmp, path_);
  if (s.ok()) s = env_->SyncDir(dir_);
  std::lock_guard lock(mu_);
  if (s.ok()) {
    saved_covered_ = std::max(saved_covered_, covered_lsn);
  } else {
    dirty_ = true;
  }
  return s;
}

size_t IdempotencyIndex::size() const {
  std::lock_guard lock(mu_);
  return order_.size();
}

}  // namespace trackhouse::idempotency
