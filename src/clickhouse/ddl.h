// RunDdl: passes a DDL statement (CREATE/DROP/ALTER/TRUNCATE/RENAME/OPTIMIZE ...) through to
// ClickHouse in ClickHouse mode, adapted to what the server supports (Capabilities) and, with a
// cluster, sent ON CLUSTER. The ClickHouse-mode store (src/delivery) calls it from
// Storage::ExecuteDdl and then forgets the schemas it cached.
//
// Adaptations (docs/clickhouse-mode.md, "Version adaptations"), made on the parsed statement and
// printed back with the sql formatter; a statement that needs none is sent as written:
//   - no DateTime64 (before 20.1): DateTime64(p[, tz]) column types become DateTime([tz]), also
//     inside Nullable/Array/LowCardinality; in DEFAULT and key expressions now64(...) becomes
//     now() and toDateTime64(x, p[, tz]) toDateTime(x[, tz]);
//   - no TTL (before 19.6): the table's TTL clause (CREATE TABLE, ALTER ... MODIFY TTL) is
//     removed and recorded for trackhouse's TtlEnforcer (clickhouse/ttl.h), which drops
//     expired partitions itself; REMOVE TTL and DROP TABLE forget it, RENAME TABLE moves it; a
//     column TTL is removed (not enforced: ClickHouse cannot drop a column's values a partition
//     at a time);
//   - LowCardinality on 18.x: every statement carries allow_experimental_low_cardinality_type=1
//     (Capabilities::RequiredSettings). ON CLUSTER DDL runs with each server's profile instead of
//     the request's settings, so with a cluster of 18.x servers whose profile does not set it,
//     LowCardinality(T) columns are created as T (enable it in the profile to keep them).
// Each adaptation is logged once per table (event clickhouse_adaptation).
//
// Cluster (DdlContext::cluster set): every statement goes ON CLUSTER; `CREATE TABLE t (...)
// ENGINE = <any>MergeTree ...` becomes the local table `t_local` ON CLUSTER plus
// `t` ON CLUSTER AS t_local ENGINE = Distributed(cluster, db, t_local, rand()), which reads
// from every shard (trackhouse writes to the shards' local tables itself). On such a pair, DROP
// drops both; ALTER's column commands go to t_local and then to t, its other commands
// (partitions, mutations, settings, TTL) to t_local only; TRUNCATE and OPTIMIZE go to t_local.
//
// Thread-safety: free functions; the Client serializes its own requests.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "clickhouse/capabilities.h"
#include "clickhouse/client.h"
#include "common/status.h"
#include "sql/ast.h"

namespace trackhouse::clickhouse {

struct DdlContext {
  Client* client = nullptr;
  const Capabilities* capabilities = nullptr;
  // --clickhouse-cluster: empty for a single server.
  std::string cluster;
};

// Sends `stmt` (whose text is `sql`) with `database` as the current database. Errors are the
// server's, with their ClickHouse codes.
Status RunDdl(const DdlContext& context, const sql::Statement& stmt, std::string_view sql,
              const std::string& database);

// What RunDdl sends for one statement. Exposed for tests.
struct DdlPlan {
  // The statements, in order (none when all that was asked is recorded by trackhouse).
  std::vector<std::string> statements;
  // The adaptations made, one line each ("entityMetricEvents: column createdAt DateTime64(3)
  // is created as DateTime (ClickHouse 18.16.1 has no DateTime64)").
  std::vector<std::string> adaptations;
  // The table whose adaptations these are ("db.t"), for the log.
  std::string table;
  // TTL trackhouse enforces itself: set (expr non-empty) or forget (empty) for database.table.
  struct TtlRecord {
    std::string database, table, expr;
  };
  std::vector<TtlRecord> ttl;
};

// The plan for `stmt` (text `sql`): `has_local_table` says whether, in cluster mode, the named
// table is a Distributed table over `<table>_local` (RunDdl asks system.tables);
// `strip_low_cardinality` that LowCardinality(T) columns are to be created as T (RunDdl: a
// cluster of 18.x servers whose profile does not allow LowCardinality).
Result<DdlPlan> PlanDdl(const Capabilities& capabilities, const std::string& cluster,
                        const sql::Statement& stmt, std::string_view sql,
                        const std::string& database, bool has_local_table,
                        bool strip_low_cardinality = false);

// The suffix of the local tables behind a cluster's Distributed tables.
inline constexpr std::string_view kLocalSuffix = "_local";

}  // namespace trackhouse::clickhouse
