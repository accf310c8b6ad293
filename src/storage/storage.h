// Storage: the interface both storage modes implement -- the embedded engine (src/engine) and,
// later, the ClickHouse front door (src/clickhouse). Everything above it (ingest, the HTTP
// interface, migrate, the query engine) is written once against this interface.
//
// A Storage owns its tables. Implementations are thread-safe: inserts, DDL and reads may come
// from many threads at once. Start() must succeed before any other call; Stop() refuses new
// work, drains what is in flight, makes everything durable and returns.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "sql/ast.h"
#include "types/block.h"
#include "types/data_type.h"

namespace trackhouse::storage {

// The same kinds, in the same order, as sql::ColumnDefaultKind.
enum class DefaultKind : uint8_t { kNone, kDefault, kMaterialized, kAlias, kEphemeral };

static_assert(static_cast<int>(DefaultKind::kEphemeral) ==
              static_cast<int>(sql::ColumnDefaultKind::kEphemeral));

// "DEFAULT", "MATERIALIZED", ...; "" for kNone (DESCRIBE's default_type, system.columns).
inline std::string_view DefaultKindName(DefaultKind kind) {
  return sql::ColumnDefaultKindName(static_cast<sql::ColumnDefaultKind>(kind));
}

struct ColumnDef {
  std::string name;
  types::DataTypePtr type;
  DefaultKind default_kind = DefaultKind::kNone;
  // The DEFAULT/MATERIALIZED expression as SQL text ("now()"); empty when none.
  std::string default_expr;
};

// A table as its users defined it. Immutable once published; replaced whole by ALTER.
struct TableSchema {
  std::string database;
  std::string name;
  std::vector<ColumnDef> columns;
  // Engine name: "MergeTree", "ReplacingMergeTree", "SummingMergeTree", "Buffer".
  std::string engine;
  // For Buffer tables: the destination.
  std::string buffer_database;
  std::string buffer_table;
  // The statement that recreates the table as it is now (SHOW CREATE TABLE).
  std::string create_sql;

  const ColumnDef* FindColumn(std::string_view column) const {
    for (const auto& c : columns) {
      if (c.name == column) return &c;
    }
    return nullptr;
  }
  bool is_buffer() const { return engine == "Buffer"; }
};
using TableSchemaPtr = std::shared_ptr<const TableSchema>;

// What an insert did: rows stored, and the log sequence number that made them durable.
// An insert's Idempotency-Key (POST /track) and the answer its request got: stored with the
// rows in one log record, so a retry of the same request after a crash or a lost answer finds
// it and gets the same answer without storing the rows twice.
struct IdempotencyRecord {
  std::string key;
  std::string answer;
  int64_t time_micros = 0;  // when the rows were stored
};

// One check of GET /ready: what was checked, whether it passed, and why not.
struct ReadinessCheck {
  std::string name;  // "log_writable", "engine_open", ...
  bool ok = true;
  std::string detail;  // the error or the figures, for people
};

struct InsertResult {
  uint64_t rows = 0;
  uint64_t lsn = 0;
};

// One data part of a table, as system.parts shows it.
struct PartInfo {
  std::string partition;  // partition id ("202401", "all")
  std::string name;       // part name ("202401_1_5_2")
  uint64_t rows = 0;
  uint64_t bytes_on_disk = 0;
  uint64_t min_block = 0, max_block = 0;
  uint32_t level = 0;
  int64_t modification_time = 0;  // Unix seconds
};

// Options of one scan. Columns are the table's column names to read; the filter is an
// optional WHERE expression used only for pruning parts and granules (the caller still
// filters rows: a scan may return rows that do not match).
struct ScanRequest {
  std::vector<std::string> columns;
  const sql::Expr* prune_filter = nullptr;
  // Current time for TTL-aware pruning and now() inside prune_filter.
  int64_t now_micros = 0;
  // Apply FINAL semantics (Replacing/Summing collapse at read time).
  bool final = false;
};

// A consistent snapshot of a table's rows, read block by block. Readers never block writers.
// Thread-safe: several threads may call NextBlock() at once to read one snapshot in parallel;
// each block goes to exactly one caller, in no particular order.
class ScanSource {
 public:
  virtual ~ScanSource() = default;
  // Fills *block with the next batch of rows (the requested columns, in request order) and
  // returns true; returns false at the end. Errors (e.g. a corrupted part) are reported via
  // status() after a false return.
  virtual bool NextBlock(types::Block* block) = 0;
  virtual const Status& status() const = 0;
  // Rough statistics for EXPLAIN-like diagnostics and tests of pruning.
  virtual uint64_t parts_total() const = 0;
  virtual uint64_t parts_selected() const = 0;
  virtual uint64_t granules_selected() const = 0;
};

class Storage {
 public:
  virtual ~Storage() = default;

  virtual Status Start() = 0;
  virtual Status Stop() = 0;

  // Executes a DDL statement (CREATE DATABASE/TABLE, DROP, TRUNCATE, ALTER, OPTIMIZE). `sql`
  // is the statement's text, for modes that pass DDL through. `current_database` resolves
  // unqualified names. Errors carry ClickHouse codes (UNKNOWN_TABLE, TABLE_ALREADY_EXISTS...).
  virtual Status ExecuteDdl(const sql::Statement& stmt, std::string_view sql,
                            const std::string& current_database) = 0;

  virtual Result<std::vector<std::string>> ListDatabases() = 0;
  virtual Result<std::vector<std::string>> ListTables(const std::string& database) = 0;
  // NotFound with ch::kUnknownTable / kUnknownDatabase when absent.
  virtual Result<TableSchemaPtr> GetTable(const std::string& database,
                                          const std::string& table) = 0;

  // Stores a block durably and returns once it is: after this returns OK the rows survive
  // kill -9 and power loss and are visible to every later read. The block holds every column
  // of the table in table order with the table's types (defaults already applied; see
  // src/ingest). All-or-nothing, also across a crash. `schema` is the version the caller built
  // the block against; if the table changed since, the insert is retried by the caller.
  virtual Result<InsertResult> Insert(const TableSchema& schema, const types::Block& block) = 0;

  // Insert with an Idempotency-Key stored in the same durable record. AlreadyExists if the key
  // is already stored (nothing is inserted); NotSupported where the storage keeps no keys.
  virtual Result<InsertResult> InsertIdempotent(const TableSchema& schema,
                                                const types::Block& block,
                                                const IdempotencyRecord& record) {
    return Status::NotSupported("this storage does not keep idempotency keys");
  }
  // Called with the outcome of an InsertAsync.
  using InsertCallback = std::function<void(Result<InsertResult>)>;
  // Starts storing `block` as Insert does (as InsertIdempotent when `record` is set) without
  // waiting for the disk: an error found before the rows are queued for the log (a changed
  // table is Aborted, as for Insert) is returned here and `done` is not called; otherwise
  // `done` gets the outcome once the rows are durable and visible, possibly on another thread,
  // possibly before this returns. `done` must be quick. This default stores synchronously.
  virtual Status InsertAsync(const TableSchema& schema, const types::Block& block,
                             const IdempotencyRecord* record, InsertCallback done) {
    auto r = record != nullptr ? InsertIdempotent(schema, block, *record) : Insert(schema, block);
    if (!r.ok()) return r.status();
    done(std::move(r));
    return Status::OK();
  }
  // Waits until the rows of every insert whose InsertResult::lsn is <= `lsn` are in their final
  // store (`wait_for_delivery=1` on an INSERT or /track). The embedded engine's rows are there
  // once durable, so the default returns at once; the ClickHouse mode waits until ClickHouse
  // confirmed them. Timeout (TIMEOUT_EXCEEDED) after `timeout_ms`; the rows stay accepted.
  virtual Status WaitForDelivery(uint64_t lsn, int64_t timeout_ms) {
    (void)lsn;
    (void)timeout_ms;
    return Status::OK();
  }
  // Whether the storage can take writes now (GET /ready): each check it makes.
  virtual std::vector<ReadinessCheck> CheckReadiness() { return {}; }

  // The record stored for `key` within the storage's idempotency window, if any.
  virtual std::optional<IdempotencyRecord> FindIdempotencyKey(std::string_view key) {
    return std::nullopt;
  }

  // The table's data parts (system.parts): active parts only, in storage order.
  virtual Result<std::vector<PartInfo>> ListParts(const std::string& database,
                                                  const std::string& table) = 0;

  // Opens a snapshot scan of a table. With request.final on an engine without collapsing
  // rules (plain MergeTree): ILLEGAL_FINAL.
  virtual Result<std::unique_ptr<ScanSource>> Scan(const std::string& database,
                                                   const std::string& table,
                                                   const ScanRequest& request) = 0;

  // Makes every row inserted so far part of on-disk parts (tests and benchmarks).
  virtual Status FlushAll() = 0;
};

}  // namespace trackhouse::storage
