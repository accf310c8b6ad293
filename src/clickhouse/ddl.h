// RunDdl: passes a DDL statement (CREATE/DROP/ALTER/TRUNCATE/RENAME/OPTIMIZE ...) through to
// ClickHouse in ClickHouse mode, adapted to what the server supports (Capabilities) and, with a
// cluster, sent ON CLUSTER. The ClickHouse-mode store (src/delivery) calls it from
// Storage::ExecuteDdl and then forgets the schemas it cached.
//
// Thread-safety: a free function; the Client serializes its own requests.
#pragma once

#include <string>
#include <string_view>

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

}  // namespace trackhouse::clickhouse
