// Reading a table's definition from ClickHouse: its columns from system.columns and its engine
// from system.tables, as the storage::TableSchema the rest of trackhouse validates rows against,
// plus what the ClickHouse mode needs to know about the engine (a Buffer's destination, a
// Distributed table's cluster and local table, replication). Stateless functions; thread-safe
// as far as the Client is.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "clickhouse/client.h"
#include "common/status.h"
#include "storage/storage.h"

namespace trackhouse::clickhouse {

// What system.tables says about a table's engine.
struct EngineInfo {
  std::string name;  // "MergeTree", "ReplicatedMergeTree", "Buffer", "Distributed", ...
  std::string full;  // engine_full: "MergeTree ORDER BY a SETTINGS index_granularity = 8192"
  std::string partition_key;  // "toYYYYMM(created_at)"; "" when none
  std::string sorting_key;    // "entityType, entityId, createdAt"
  // Replicated*MergeTree: ClickHouse deduplicates identical blocks itself.
  bool replicated = false;
  // Buffer(database, table, ...): where ClickHouse flushes the buffered rows.
  bool buffer = false;
  std::string buffer_database, buffer_table;
  // Distributed(cluster, database, table[, sharding_key]): the local tables behind it.
  bool distributed = false;
  std::string cluster, remote_database, remote_table, sharding_key;
};

struct RemoteTable {
  // Columns in table order with parsed types, defaults as SQL text; engine, Buffer destination
  // and create_sql filled in.
  storage::TableSchema schema;
  EngineInfo engine;
};

// Reads database.table's definition. NotFound with ch::kUnknownTable when ClickHouse has no such
// table; the type parser's Status (InvalidArgument or NotSupported), naming the column, when a
// column's type is one trackhouse cannot represent; the client's Status when ClickHouse cannot
// be asked.
Result<RemoteTable> FetchTableSchema(Client& client, std::string_view database,
                                     std::string_view table);

// The EngineInfo of system.tables' engine, engine_full, partition_key and sorting_key. Exposed
// for tests.
EngineInfo ParseEngineInfo(std::string engine, std::string engine_full, std::string partition_key,
                           std::string sorting_key);

// Splits the top-level arguments of an engine clause: "Buffer(default, 'e', 16, f(1, 2))" ->
// {"default", "e", "16", "f(1, 2)"}; quotes ('x', `x`) are removed from plain quoted arguments.
// Exposed for tests.
std::vector<std::string> EngineArguments(std::string_view engine_full);

}  // namespace trackhouse::clickhouse
