// IdempotencyIndex: the Idempotency-Keys of recent inserts (POST /track), kept by the embedded
// engine and by the ClickHouse-mode store (src/delivery), each for its own log.
//
// A keyed insert's key and answer travel in the insert's own log record (kind 2, engine.cc), so
// the rows and the key are durable together. The index holds them in memory for lookups; it
// keeps a key for `window_micros` after its insert, and at most `max_keys` keys (the oldest go
// first; evictions are counted on /metrics as trackhouse_idempotency_evicted_total).
//
// Log records are trimmed once their rows are in parts, and their keys with them; before a trim
// the engine writes the index to a snapshot file (Save), naming the last log record it covers,
// and recovery loads the snapshot and replays the log records after it (Load, then Add).
//
// Snapshot file `idempotency` in the data directory (docs/formats/idempotency.md):
//
//   magic "THIDEMP1" (8) | version u32 | covered_lsn u64 | count u32 |
//   count x [ time_micros i64 | key (varint length + bytes) | answer (varint length + bytes) ] |
//   crc32c u32 of everything before it
//
// Written to a temporary file, synced, renamed over the old one, directory synced.
// Thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "env/env.h"
#include "storage/storage.h"

namespace trackhouse::idempotency {

class IdempotencyIndex {
 public:
  // The snapshot lives in `dir` (the data directory).
  IdempotencyIndex(env::Env* env, std::string dir, int64_t window_micros, size_t max_keys);

  // Reads the snapshot if there is one, dropping keys older than the window. Returns the LSN of
  // the last log record it covers (0 without a snapshot). Corruption names the file and offset.
  Result<uint64_t> Load(int64_t now_micros);

  // The record of `key`, if stored within the window.
  std::optional<storage::IdempotencyRecord> Find(std::string_view key, int64_t now_micros) const;
  // Adds a stored key (after its log record was appended, or replayed). A key already present
  // is kept as it is.
  void Add(const storage::IdempotencyRecord& record, int64_t now_micros);

  // Writes the snapshot covering log records up to `covered_lsn`, unless the last one already
  // covers them with the same keys. The caller makes sure every keyed record up to covered_lsn
  // was added.
  Status Save(uint64_t covered_lsn, int64_t now_micros);

  size_t size() const;

  // The snapshot's payload for `records` (exposed for the format tests).
  static std::string Encode(uint64_t covered_lsn,
                            const std::deque<storage::IdempotencyRecord>& records);

 private:
  void ExpireLocked(int64_t now_micros) REQUIRES(mu_);

  env::Env* const env_;
  const std::string dir_;
  const std::string path_;
  const int64_t window_micros_;
  const size_t max_keys_;
  mutable std::mutex mu_;
  // Oldest first; `by_key` points into it by position offset from `front_seq_`.
  std::deque<storage::IdempotencyRecord> order_ GUARDED_BY(mu_);
  std::unordered_map<std::string, uint64_t> by_key_ GUARDED_BY(mu_);  // key -> sequence number
  uint64_t front_seq_ GUARDED_BY(mu_) = 0;  // sequence number of order_.front()
  bool dirty_ GUARDED_BY(mu_) = false;
  uint64_t saved_covered_ GUARDED_BY(mu_) = 0;  // covered_lsn of the snapshot on disk
};

}  // namespace trackhouse::idempotency
