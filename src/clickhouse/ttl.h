// TTL on ClickHouse servers without it (before 19.6, such as Debian's 18.16): RunDdl removes
// the TTL clause from CREATE TABLE and ALTER TABLE ... MODIFY TTL and records the table's TTL
// expression in ClickHouse itself, in `default.trackhouse_ttl`; a TtlEnforcer, which
// `trackhouse serve` runs in ClickHouse mode, then drops the partitions whose every row has
// expired:
//
//   for each table in trackhouse_ttl, each active partition p (system.parts):
//     SELECT count(), max(<ttl>) <= now() FROM db.t WHERE <partition key> = p
//     all expired -> ALTER TABLE db.t [ON CLUSTER c] DROP PARTITION p
//
// A partition holding one row that has not expired stays whole: rows expire a partition at a
// time, so a table whose PARTITION BY is coarser than its TTL keeps rows longer than the TTL
// says (up to one partition's span). A table without PARTITION BY cannot be trimmed so; that
// is logged once. Several TTL elements combine with least(): a row expires at the first.
// With a cluster the recorded tables are the shards' local tables (t_local): a partition is
// dropped ON CLUSTER once the Distributed table t says every row of it, on every shard, has
// expired; the partitions looked at are those the server trackhouse talks to has (a partition
// only other shards hold waits until this one has it too).
//
// trackhouse_ttl (database String, table String, ttl String, version UInt64) is a
// ReplacingMergeTree(version) ordered by (database, table); the newest version of a table's row
// wins, and an empty ttl means the TTL was removed (REMOVE TTL, DROP TABLE); RENAME TABLE moves
// the record to the new name.
//
// Thread-safety: RecordTtl is a free function; a TtlEnforcer's methods may be called from any
// thread, and it runs its rounds on a thread of its own between Start and Stop.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>

#include "clickhouse/client.h"
#include "common/status.h"
#include "common/thread_annotations.h"

namespace trackhouse::clickhouse {

inline constexpr std::string_view kTtlTable = "trackhouse_ttl";

// Records `expr` (SQL text of the TTL expression, e.g. "created_at + INTERVAL 90 DAY") as the TTL
// trackhouse enforces for database.table; an empty `expr` forgets it. Creates trackhouse_ttl
// when needed. Errors are the client's.
Status RecordTtl(Client& client, std::string_view database, std::string_view table,
                 std::string_view expr);

// RENAME TABLE: the TTL recorded for from_database.from_table (if any) moves to
// to_database.to_table. Errors are the client's.
Status MoveTtl(Client& client, std::string_view from_database, std::string_view from_table,
               std::string_view to_database, std::string_view to_table);

struct TtlEnforcerOptions {
  ClientOptions client;
  // --clickhouse-cluster: partitions are dropped ON CLUSTER (the recorded tables are the local
  // ones).
  std::string cluster;
  // Time between rounds.
  std::chrono::milliseconds interval{std::chrono::minutes(10)};
};

class TtlEnforcer {
 public:
  explicit TtlEnforcer(TtlEnforcerOptions options);
  ~TtlEnforcer();  // stops the thread
  TtlEnforcer(const TtlEnforcer&) = delete;
  TtlEnforcer& operator=(const TtlEnforcer&) = delete;

  // Starts the background rounds (the first right away). Idempotent.
  void Start();
  // Stops them, waiting for a round in progress. Idempotent.
  void Stop();

  // One round over every recorded table: returns how many partitions it dropped. A table that
  // fails (dropped meanwhile, ClickHouse down) is logged and the others still run; the first
  // error is returned after the round when nothing could be done at all.
  Result<uint64_t> RunOnce();

 private:
  void Loop();
  Result<uint64_t> EnforceTable(Client& client, const std::string& database,
                                const std::string& table, const std::string& expr);

  const TtlEnforcerOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ GUARDED_BY(mu_) = false;
  std::thread thread_;
  // Tables already logged as not enforceable (no PARTITION BY), so the log says it once.
  std::set<std::string> warned_ GUARDED_BY(mu_);
};

}  // namespace trackhouse::clickhouse
