// MemTable: the rows of one table that are in the log but not yet in on-disk parts.
//
// Inserted blocks are kept as immutable chunks; small inserts are coalesced into an active
// chunk of up to `chunk_rows` rows so that a stream of one-row inserts does not become a
// million tiny blocks. Readers take a Snapshot (the sealed chunks by reference plus a copy of
// the active one) and never block writers for longer than that copy.
// Thread-safe: all methods lock an internal mutex.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "common/thread_annotations.h"
#include "types/block.h"

namespace trackhouse::engine {

using BlockPtr = std::shared_ptr<const types::Block>;

class MemTable {
 public:
  // `now_micros` is a monotonic time used for age-based flush decisions.
  explicit MemTable(size_t chunk_rows = 65536) : chunk_rows_(chunk_rows) {}

  // Adds a block (the table's columns in table order) written to the log at `lsn`.
  void Add(const types::Block& block, uint64_t lsn, int64_t now_micros);

  struct Stats {
    uint64_t rows = 0;
    uint64_t bytes = 0;
    uint64_t min_lsn = 0;  // 0 when empty
    uint64_t max_lsn = 0;
    int64_t first_insert_micros = 0;
  };
  Stats stats() const;
  bool empty() const { return stats().rows == 0; }

  // The rows now in the memtable, as immutable blocks.
  std::vector<BlockPtr> Snapshot() const;

  // Puts the rows of `older` (a memtable swapped out earlier whose flush failed) in front of
  // this one's, keeping LSN bounds and age exact.
  void AbsorbOlder(const MemTable& older);

 private:
  void SealActiveLocked() REQUIRES(mu_);

  const size_t chunk_rows_;
  mutable std::mutex mu_;
  std::vector<BlockPtr> sealed_ GUARDED_BY(mu_);
  std::unique_ptr<types::Block> active_ GUARDED_BY(mu_);
  Stats stats_ GUARDED_BY(mu_);
};

}  // namespace trackhouse::engine
