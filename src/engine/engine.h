// The embedded storage engine: trackhouse's own columnar store, modelled on ClickHouse's
// MergeTree, behind the storage::Storage interface.
//
// On disk, a data directory holds:
//   LOCK                         held by the one process that has the directory open
//   wal/                         the durable log (docs/formats/log.md): every insert, synced
//                                before it is acknowledged
//   metadata/<db>/<table>.sql    each table's definition (docs/formats/catalog.md)
//   store/<table id>/            the table's parts (docs/formats/part.md) and its state file
//
// Inserts are appended to the log (group commit), then added to the table's memtable, where
// reads see them at once. Background work flushes memtables into sorted, compressed parts,
// merges parts, and applies TTL. Recovery replays the log records not yet in parts.
// Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "env/env.h"
#include "storage/storage.h"

namespace trackhouse::engine {

struct EngineOptions {
  // The data directory (created if missing).
  std::string data_dir = "./data";
  // File system; nullptr means the real one (env::Env::Posix()).
  env::Env* env = nullptr;
  // Time source for DEFAULT now(), TTL and flush ages; nullptr means the real clock.
  Clock* clock = nullptr;

  // fdatasync the log before acknowledging an insert. Turning it off breaks the durability
  // promise; only benchmarks that measure its cost do it.
  bool sync = true;
  // Compress log records with LZ4.
  bool log_compress = true;
  // Log segment size before rotation.
  uint64_t log_segment_bytes = 64ull << 20;

  // A table's memtable is flushed to parts when it holds this many rows or bytes, or when its
  // oldest row is this old (whichever comes first). Buffer tables bring their own thresholds.
  uint64_t flush_rows = 1 << 20;
  uint64_t flush_bytes = 256ull << 20;
  int64_t flush_age_ms = 10000;
  // All memtables together: past this many bytes the largest is flushed early; past twice
  // this many, inserts are refused with ResourceExhausted (HTTP 503) until flushes catch up.
  uint64_t memtable_budget_bytes = 1ull << 30;

  // Rows per granule (one sparse-index mark each).
  uint32_t index_granularity = 8192;
  // Part column compression: "lz4" (default) or "zstd".
  std::string codec = "lz4";

  // Background merges: a partition with at least this many active parts gets a merge of up to
  // merge_max_parts adjacent parts, up to merge_max_rows rows.
  uint32_t merge_min_parts = 6;
  uint32_t merge_max_parts = 10;
  uint64_t merge_max_rows = 32ull << 20;
  // Number of background merge threads (0 disables merges: tests).
  uint32_t merge_threads = 1;
  // How often the TTL check runs over all parts.
  int64_t ttl_check_interval_ms = 60000;
  // How often the background flusher looks at memtables.
  int64_t flush_check_interval_ms = 100;

  // Idempotency-Keys of keyed inserts (POST /track) are remembered this long after their
  // insert, and at most this many (the oldest are forgotten first, counted on /metrics).
  int64_t idempotency_window_micros = 24ll * 3600 * 1000000;
  size_t max_idempotency_keys = 100000;

  // For crash tests only: flushes and merges pause this long after writing their parts and
  // before committing them, widening the window in which a kill hits them. 0 in production.
  int64_t test_pause_ms = 0;
};

// Opens (recovering if needed) the data directory. Fails with Unavailable if another process
// holds it. The returned storage is started (Start() already called).
Result<std::unique_ptr<storage::Storage>> OpenEngine(const EngineOptions& options);

// Statistics of the engine, for tests and benchmarks.
struct EngineStats {
  uint64_t log_syncs = 0;
  uint64_t log_records = 0;
  uint64_t log_bytes = 0;
  uint64_t flushes = 0;
  uint64_t merges = 0;
  uint64_t parts_active = 0;
  uint64_t memtable_rows = 0;
  uint64_t max_parts_in_partition = 0;
  uint64_t recovered_records = 0;
  uint64_t recovered_rows = 0;
};
// Stats of an engine opened by OpenEngine (nullopt-like zero stats for other storages).
EngineStats GetEngineStats(storage::Storage* storage);

}  // namespace trackhouse::engine
