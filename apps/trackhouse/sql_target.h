// SqlTarget: where `trackhouse query` and `trackhouse migrate` send statements -- the embedded
// store opened in-process (--data DIR) or a running server over HTTP (--url URL). Both run
// DDL and INSERT the same way the server does (ingest::InsertStream for rows), statements that
// return rows with the query engine (query::QueryEngine in-process, or the server's), printing
// their results to stdout, and keep `SET` and `USE` for the statements that follow (the remote
// target through an HTTP session).
//
// Not thread-safe: one command uses one target.
#pragma once

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "apps/trackhouse/app_config.h"
#include "common/status.h"
#include "sql/ast.h"

namespace trackhouse::app {

class SqlTarget {
 public:
  virtual ~SqlTarget() = default;

  // Runs one statement. `text` is the statement's text including any inline data (what a
  // server would receive); `inline_data` is the INSERT's data part of it (empty otherwise).
  // Results (SELECT, SHOW, ...) are written to stdout.
  virtual Status Execute(const sql::Statement& stmt, std::string_view text,
                         std::string_view inline_data) = 0;
  // Runs an INSERT whose data is read from `in` until EOF (streamed, bounded memory).
  virtual Status ExecuteInsertFrom(const sql::InsertStmt& stmt, std::string_view text,
                                   std::FILE* in) = 0;
  // name -> checksum of every row of default.trackhouse_migrations.
  virtual Result<std::map<std::string, std::string>> ReadMigrations() = 0;
  // Stops the store (local) and makes everything durable. Idempotent.
  virtual Status Close() = 0;
  // "data directory ./data" or "server http://...", for messages.
  virtual std::string Describe() const = 0;

  // The format of results of statements that name no FORMAT. Default Pretty.
  void set_output_format(std::string format) { output_format_ = std::move(format); }

  // Whether the INSERTs that follow wait until the rows are in their final store
  // (wait_for_delivery=1: in ClickHouse mode, until ClickHouse confirmed them), so that a
  // SELECT right after sees them. The embedded store has them once stored.
  virtual void set_wait_for_delivery(bool wait) {}

 protected:
  std::string output_format_ = "Pretty";
};

// Opens the embedded store in config.data_dir, with a query engine configured by
// config.query. If another process holds the directory, the error says so and suggests
// `--url <the configured listen address>`.
Result<std::unique_ptr<SqlTarget>> OpenLocalTarget(const AppConfig& config);

// A target that sends statements to the server at `url`.
std::unique_ptr<SqlTarget> MakeRemoteTarget(const std::string& url);

// The table that records applied migrations, and its DDL.
inline constexpr std::string_view kMigrationsTable = "trackhouse_migrations";
inline constexpr std::string_view kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS trackhouse_migrations (name String, checksum String, "
    "applied_at DateTime) ENGINE = MergeTree ORDER BY name";

}  // namespace trackhouse::app
