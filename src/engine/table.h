// Table: one MergeTree-family table of the embedded engine -- its memtable, its active parts
// and the background work on them (flush, merge, TTL, mutations).
//
// Directory store/<id>/ holds one directory per part, named
//   <partition>_<min block>_<max block>_<level>_<mutation>
// and a `state` file (docs/formats/catalog.md) that commits flushes: a flush writes its parts
// with block numbers >= state.next_block, then rewrites `state` with the new next_block and
// the highest log sequence number the flush covered (persisted_lsn). On load, parts not yet
// committed by `state` and parts covered by a merged or mutated part are removed, so a crash at
// any point leaves each row exactly once: in a committed part or in the log after
// persisted_lsn.
//
// Thread-safety: all public methods are thread-safe. Readers take a Snapshot (a consistent
// set of parts and memtable blocks) and never block writers. Maintenance (flush, merge publish,
// mutations, DDL) is serialized by maintenance_mu_.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/rw_mutex.h"
#include "common/thread_annotations.h"
#include "engine/engine.h"
#include "engine/memtable.h"
#include "engine/part_reader.h"
#include "engine/table_def.h"
#include "env/env.h"

namespace trackhouse::engine {

using PartPtr = std::shared_ptr<const Part>;

// A part with its name fields decoded.
struct ActivePart {
  PartPtr part;
  std::string dir_name;
  std::string partition;
  uint64_t min_block = 0, max_block = 0;
  uint32_t level = 0;
  uint64_t mutation = 0;
  uint64_t rows = 0;
};

// The partition id of a value of the partition expression: dates as YYYYMMDD, numbers in
// decimal, strings as themselves when made of [A-Za-z0-9-], otherwise a hex hash.
std::string PartitionIdOf(const types::Value& v, const types::DataType& type);

class Table {
 public:
  // `commit_mu` is the engine's lock that inserts hold shared across log append + memtable add;
  // a flush takes it exclusively for the instant it swaps memtables.
  Table(TableDefPtr def, std::string dir, env::Env* env, Clock* clock, const EngineOptions& options,
        WriterPriorityMutex* commit_mu);

  // Creates the directory (new table) or loads its parts and state (existing table).
  Status Create();
  Status Load();

  TableDefPtr def() const;
  // Replaces the definition (ALTER); the caller has flushed the memtable first.
  void SetDef(TableDefPtr def);

  // The last log sequence number already in this table's parts: log records at or below it
  // are skipped on recovery.
  uint64_t persisted_lsn() const { return persisted_lsn_.load(); }

  // Adds rows already durable in the log (insert path and recovery). Caller holds commit_mu
  // shared (or runs single-threaded recovery).
  void AddToMemTable(const types::Block& block, uint64_t lsn);

  struct Snapshot {
    TableDefPtr def;
    std::vector<ActivePart> parts;
    std::vector<BlockPtr> memory;  // memtable (and a memtable being flushed)
  };
  Snapshot GetSnapshot() const;

  // Flush policy check; returns true if the memtable should be flushed now.
  bool ShouldFlush(int64_t now_monotonic_micros, const BufferParams* buffer) const;
  MemTable::Stats memtable_stats() const;
  // Bytes of rows held in memory: the memtable and a memtable being flushed.
  uint64_t MemoryBytes() const;
  // Lowest log sequence number still only in memory (0 if none).
  uint64_t MinUnflushedLsn() const;

  // Writes the memtable into parts and commits them. On failure (a full disk: ENOSPC is
  // ResourceExhausted) the parts it wrote are removed and its rows go back into the memtable,
  // still readable and still in the log, for a later flush to try again.
  Status Flush();
  // Picks and runs one merge if the merge policy wants one; sets *merged.
  Status MaybeMerge(bool* merged);
  // Merges everything in each partition into one part (OPTIMIZE ... FINAL), or one merge
  // round (OPTIMIZE without FINAL).
  Status Optimize(bool final);
  // Drops whole parts whose rows all expired and rewrites parts with some expired rows.
  Status ApplyTtl();

  // DDL operations; each flushes the memtable first.
  Status Truncate();
  Status DropPartition(const std::string& partition_id);
  Status DeleteWhere(const sql::Expr& condition);
  // Removes the table's directory (DROP TABLE).
  Status Destroy();

  // Splits a block by partition id.
  Result<std::map<std::string, types::Block>> SplitByPartition(const types::Block& block,
                                                               const TableDef& def) const;

  // Largest number of active parts in one partition, and active parts overall.
  size_t MaxPartsInPartition() const;
  size_t ActivePartCount() const;
  uint64_t flushes() const { return flushes_.load(); }
  uint64_t merges() const { return merges_.load(); }

 private:
  struct Version {
    std::vector<ActivePart> parts;  // sorted by (partition, min_block)
  };

  // Writes the state file (a temporary file, renamed over `state`, then the directory synced).
  // *replaced, if given, tells whether the new state took the old one's place, which it may
  // have done even when the directory sync after the rename failed.
  Status WriteState(bool* replaced = nullptr) REQUIRES(maintenance_mu_);
  Status LoadState();
  // Sorts, applies engine rules (when `collapse`) and TTL (when `apply_ttl`), writes one part.
  Result<ActivePart> WriteSortedPart(const TableDef& def, types::Block block,
                                     const std::string& partition, uint64_t min_block,
                                     uint64_t max_block, uint32_t level, uint64_t mutation,
                                     bool collapse, bool apply_ttl,
                                     const std::vector<size_t>* run_starts = nullptr);
  Status FlushLocked() REQUIRES(maintenance_mu_);
  // Merges the given adjacent parts of one partition.
  Status MergeParts(const std::vector<ActivePart>& sources);
  // Replaces `removed` by `added` in the active set, if all of `removed` are still active.
  bool ReplaceParts(const std::vector<ActivePart>& removed, const std::vector<ActivePart>& added);
  void RemovePartDirs(const std::vector<ActivePart>& parts);
  // Removes parts a failed flush wrote before its commit point (their block numbers are
  // reused by the next flush, so they must go even when a rename cannot be made).
  void RemoveUncommittedParts(const std::vector<ActivePart>& parts);
  Result<types::Block> ReadWholePart(const TableDef& def, const ActivePart& part) const;
  Result<std::pair<int64_t, int64_t>> PartTtlRange(const TableDef& def, const ActivePart& p);

  const std::string dir_;
  env::Env* const env_;
  Clock* const clock_;
  const EngineOptions& options_;
  WriterPriorityMutex* const commit_mu_;

  mutable std::mutex def_mu_;
  TableDefPtr def_ GUARDED_BY(def_mu_);

  std::shared_ptr<MemTable> memtable_;  // swapped under commit_mu_ exclusive
  std::shared_ptr<MemTable> flushing_;  // being written to parts; still readable
  mutable std::mutex version_mu_;       // guards version_, memtable_, flushing_ ptrs
  std::shared_ptr<const Version> version_ GUARDED_BY(version_mu_);

  std::mutex maintenance_mu_;  // flush, merge publish, mutations, DDL
  std::atomic<uint64_t> persisted_lsn_{0};
  uint64_t next_block_ GUARDED_BY(maintenance_mu_) = 1;
  uint64_t next_mutation_ GUARDED_BY(maintenance_mu_) = 1;
  std::mutex merge_select_mu_;           // one merge selection at a time
  std::map<std::string, bool> merging_;  // part dir names being merged (merge_select_mu_)
  std::mutex ttl_mu_;
  std::map<std::string, std::pair<int64_t, int64_t>> ttl_cache_;  // part dir -> (min, max)
  std::string ttl_cache_expr_;

  std::atomic<uint64_t> flushes_{0};
  std::atomic<uint64_t> merges_{0};
};

}  // namespace trackhouse::engine
