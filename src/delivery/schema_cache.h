// The schema cache: what the ClickHouse-mode store last read from ClickHouse about each table it
// took rows for (its definition, a Buffer's destination or a Distributed table's local table,
// the cluster's shard weights), kept in DATA/schemas so that a trackhouse restarted while
// ClickHouse is unreachable still accepts rows for those tables (docs/formats/spool.md,
// "Schema cache"). Pure encoding and decoding; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "clickhouse/schema.h"
#include "common/status.h"

namespace trackhouse::delivery {

struct RemoteDefinition {
  clickhouse::RemoteTable table;
  // The table rows really go to: a Buffer's destination, or a Distributed table's local table.
  std::optional<clickhouse::RemoteTable> dest;
  // For a Distributed table sharded by a column: the weights of its cluster's shards, in order.
  std::vector<uint64_t> shard_weights;
};

void EncodeRemoteDefinition(const RemoteDefinition& def, std::string* out);
Result<RemoteDefinition> DecodeRemoteDefinition(std::string_view data, std::string_view source);

// The file: magic "THSCHEM1", u32 version 1, varint count, count x string (an encoded
// definition), u32 CRC32C of everything before it.
std::string EncodeSchemaFile(const std::vector<std::string>& definitions);
Result<std::vector<std::string>> DecodeSchemaFile(std::string_view data, std::string_view path);

}  // namespace trackhouse::delivery
