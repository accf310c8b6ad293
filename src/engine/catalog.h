// Catalog files: how the engine stores databases and table definitions on disk.
//
//   metadata/<db>/              one directory per database
//   metadata/<db>/<table>.sql   one file per table:
//       line 1: "-- trackhouse table v1 id=<16 hex digits> crc=<8 hex digits>"
//       rest:   the CREATE TABLE statement (the table as it is now)
//   The crc is the masked CRC32C of everything after line 1. Files are replaced atomically
//   (write to <name>.tmp, sync, rename, sync the directory).
//
// Names are escaped for the file system: bytes other than [A-Za-z0-9_-] become %XX.
// Pure functions over an Env; thread-safe as the Env is.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "env/env.h"

namespace trackhouse::engine {

std::string EscapeName(std::string_view name);
std::string UnescapeName(std::string_view name);

struct TableFile {
  std::string database;
  std::string table;
  uint64_t id = 0;
  std::string create_sql;
};

// Writes metadata/<db>/<table>.sql atomically and durably.
Status WriteTableFile(env::Env* env, const std::string& metadata_dir, const TableFile& file);
// Reads and verifies one table file; Corruption names the file.
Result<TableFile> ReadTableFile(env::Env* env, const std::string& path);
// Removes a table's file durably.
Status RemoveTableFile(env::Env* env, const std::string& metadata_dir, const std::string& db,
                       const std::string& table);

}  // namespace trackhouse::engine
