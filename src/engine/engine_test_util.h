// Helpers shared by the engine module's tests. Header-only; no state.
#pragma once

#include <string>

#include "common/status.h"
#include "sql/parser.h"
#include "storage/storage.h"

namespace trackhouse::engine {

// Parses and executes one DDL statement in database `default`.
inline Status ExecuteDdlText(storage::Storage* storage, const std::string& sql) {
  auto stmt = sql::ParseStatement(sql);
  if (!stmt.ok()) return stmt.status();
  return storage->ExecuteDdl(**stmt, sql, "default");
}

}  // namespace trackhouse::engine
