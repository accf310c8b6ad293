// Migrations: `trackhouse migrate` applies the numbered .sql files of a folder (0001_init.sql,
// 0002_buffer.sql, ...) once each, in numeric order, several statements per file, and records
// each applied file (name, checksum, applied_at) in default.trackhouse_migrations -- in the
// store the target writes to: the embedded engine, or through a ClickHouse-mode server in
// ClickHouse itself, where the DDL is adapted to the server (clickhouse/ddl.h) and the record is
// inserted with wait_for_delivery=1 so that the next run sees it. A second run
// applies nothing; a file edited after it was applied is an error naming the file and both
// checksums (nothing is applied then).
//
// Functions; not thread-safe with respect to the target they are given.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "apps/trackhouse/sql_target.h"
#include "common/status.h"

namespace trackhouse::app {

struct MigrationFile {
  uint64_t number = 0;  // the numeric prefix, 1 for 0001_init.sql
  std::string name;     // "0001_init.sql"
  std::string path;
  std::string contents;
  std::string checksum;  // MigrationChecksum(contents)
};

// The .sql files of `dir`, sorted by number. Other files and folders are ignored. A .sql file
// without a numeric prefix, or two files with the same number, are InvalidArgument.
Result<std::vector<MigrationFile>> LoadMigrationDir(const std::string& dir);

// "xxh64:" + 16 hex digits of XXH64(contents, seed 0).
std::string MigrationChecksum(std::string_view contents);

struct MigrateReport {
  int applied = 0;
  int already_applied = 0;
};

// Applies the pending migrations of `dir` through `target`, printing one line per applied file
// and a summary ("2 migrations applied, 1 already applied") to `out`.
Result<MigrateReport> RunMigrations(SqlTarget* target, const std::string& dir, std::FILE* out);

// Runs every statement of `script` (split by sql::ParseScript) through `target`. Errors name
// the statement's number and line, prefixed by `what` (e.g. the file name).
Status RunScript(SqlTarget* target, std::string_view script, std::string_view what,
                 int* statements_run);

}  // namespace trackhouse::app
