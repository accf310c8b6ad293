#include "engine/engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <future>
#include <map>
#include <random>
#include <shared_mutex>
#include <thread>

#include "common/coding.h"
#include "common/logging.h"
#include "common/metrics.h"
#include "common/thread_annotations.h"
#include "engine/catalog.h"
#include "idempotency/idempotency.h"
#include "engine/merge_rules.h"
#include "engine/scan.h"
#include "engine/table.h"
#include "engine/table_def.h"
#include "log/log.h"
#include "sql/format.h"
#include "sql/parser.h"
#include "types/block_codec.h"
#include "types/convert.h"

namespace trackhouse::engine {
namespace {

constexpr uint8_t kInsertRecord = 1;
// An insert with its Idempotency-Key: [2][table id u64][key][answer][time i64][block], key and
// answer length-prefixed (docs/formats/log.md).
constexpr uint8_t kKeyedInsertRecord = 2;

metrics::Counter& InsertRows() {
  static auto& c = metrics::GetCounter("trackhouse_engine_inserted_rows_total",
                                       "Rows made durable by the embedded engine");
  return c;
}
metrics::Counter& InsertRejected() {
  static auto& c = metrics::GetCounter("trackhouse_engine_inserts_rejected_total",
                                       "Inserts refused (memory budget, log errors, schema)");
  return c;
}
metrics::Counter& Backpressure() {
  static auto& c =
      metrics::GetCounter("trackhouse_engine_backpressure_total",
                          "Inserts refused because memtables exceeded twice their memory budget");
  return c;
}

metrics::Counter& DiskFullErrors() {
  static auto& c = metrics::GetCounter(
      "trackhouse_engine_disk_full_total",
      "Background flushes and merges that failed because the disk was full (retried later)");
  return c;
}

// ENOSPC or EDQUOT, as the Env reports them (env/io_error.h).
bool IsDiskFull(const Status& s) {
  return s.code() == StatusCode::kResourceExhausted && s.clickhouse_code() == ch::kNotEnoughSpace;
}

// When a table's failing background work (flush, merge) may run again: the first retry after
// kMinMicros, each further failure doubling the wait up to kMaxMicros; a success resets it.
struct RetryBackoff {
  static constexpr int64_t kMinMicros = 200 * 1000;
  static constexpr int64_t kMaxMicros = 5 * 1000 * 1000;

  int64_t next_micros = 0;   // no attempt before this (monotonic clock)
  int64_t delay_micros = 0;  // 0 while the work is not failing
  bool disk_full = false;    // the last failure was a full disk

  bool Ready(int64_t now) const { return now >= next_micros; }
  void Failed(const Status& s, int64_t now) {
    delay_micros = delay_micros == 0 ? kMinMicros : std::min(2 * delay_micros, kMaxMicros);
    next_micros = now + delay_micros;
    disk_full = IsDiskFull(s);
    if (disk_full) DiskFullErrors().Add();
  }
};

// Drops the backoffs of tables that are gone (DROP TABLE) from `retry`.
template <typename Entries>
void ForgetDroppedTables(const Entries& entries, std::map<uint64_t, RetryBackoff>* retry) {
  std::erase_if(*retry, [&](const auto& r) {
    return std::none_of(entries.begin(), entries.end(),
                        [&](const auto& e) { return e.def->id == r.first; });
  });
}

// "database.table", as logs name a table.
std::string QualifiedName(const TableDef& def) {
  return def.schema->database + "." + def.schema->name;
}

Status UnknownTable(const std::string& db, const std::string& t) {
  return Status::NotFound(fmt::format("Table {}.{} does not exist.", db, t), ch::kUnknownTable);
}
Status UnknownDatabase(const std::string& db) {
  return Status::NotFound(fmt::format("Database {} does not exist.", db), ch::kUnknownDatabase);
}

uint64_t NewTableId() {
  static std::mutex mu;
  static std::mt19937_64 rng(std::random_device{}() ^
                             static_cast<uint64_t>(Clock::Real()->NowMicros()));
  std::lock_guard lock(mu);
  uint64_t id = 0;
  while (id == 0) id = rng();
  return id;
}

sql::ColumnDef CloneColumnDef(const sql::ColumnDef& c) {
  sql::ColumnDef out;
  out.pos = c.pos;
  out.name = c.name;
  out.type = c.type;
  out.default_kind = c.default_kind;
  if (c.default_expr) out.default_expr = sql::CloneExpr(*c.default_expr);
  for (const auto& codec : c.codecs) out.codecs.push_back(sql::CloneExpr(*codec));
  out.comment = c.comment;
  if (c.ttl) out.ttl = sql::CloneExpr(*c.ttl);
  return out;
}

class Engine final : public storage::Storage {
 public:
  explicit Engine(EngineOptions options) : options_(std::move(options)) {
    env_ = options_.env ? options_.env : env::Env::Posix();
    clock_ = options_.clock ? options_.clock : Clock::Real();
  }
  ~Engine() override { Stop().IgnoreError(); }

  Status Open();
  Status Start() override { return Status::OK(); }
  Status Stop() override;
  Status ExecuteDdl(const sql::Statement& stmt, std::string_view sql,
                    const std::string& current_database) override;
  Result<std::vector<std::string>> ListDatabases() override;
  Result<std::vector<std::string>> ListTables(const std::string& database) override;
  Result<storage::TableSchemaPtr> GetTable(const std::string& database,
                                           const std::string& table) override;
  Result<storage::InsertResult> InsertIdempotent(
      const storage::TableSchema& schema, const types::Block& block,
      const storage::IdempotencyRecord& record) override {
    return InsertWith(schema, block, &record);
  }
  std::vector<storage::ReadinessCheck> CheckReadiness() override;
  std::optional<storage::IdempotencyRecord> FindIdempotencyKey(std::string_view key) override {
    return keys_->Find(key, clock_->NowMicros());
  }
  Result<storage::InsertResult> Insert(const storage::TableSchema& schema,
                                       const types::Block& block) override;
  Status InsertAsync(const storage::TableSchema& schema, const types::Block& block,
                     const storage::IdempotencyRecord* record, InsertCallback done) override;
  Result<std::unique_ptr<storage::ScanSource>> Scan(const std::string& database,
                                                    const std::string& table,
                                                    const storage::ScanRequest& request) override;
  Result<std::vector<storage::PartInfo>> ListParts(const std::string& database,
                                                   const std::string& table) override;
  Status FlushAll() override;

  EngineStats stats() const;

 private:
  struct Entry {
    TableDefPtr def;
    std::shared_ptr<Table> table;  // null for Buffer tables
  };

  std::string metadata_dir() const { return env::JoinPath(options_.data_dir, "metadata"); }
  std::string store_dir(uint64_t id) const {
    return env::JoinPath(env::JoinPath(options_.data_dir, "store"), fmt::format("{:016x}", id));
  }

  Status LoadCatalog();
  Status Recover();
  Result<Entry> Lookup(const std::string& db, const std::string& table) const;
  // The MergeTree table that stores a table's rows (itself, or a Buffer's destination).
  Result<Entry> StorageOf(const Entry& e) const;

  Status CreateDatabase(const sql::CreateDatabaseStmt& s);
  Status CreateTable(const sql::CreateTableStmt& s, const std::string& current_db);
  Status DropTable(const std::string& db, const std::string& table, bool if_exists);
  Status DropDatabase(const sql::DropDatabaseStmt& s);
  Status Alter(const sql::AlterTableStmt& s, const std::string& current_db);
  // Replaces a table's definition by one built from `stmt` (ALTER).
  Status Redefine(const std::string& db, const std::string& name, const Entry& e,
                  sql::CreateTableStmt& stmt);

  void FlusherLoop();
  void MergerLoop();
  Status TrimLog();
  // Insert, with the record of a keyed insert or nullptr: InsertAsync, waited for.
  Result<storage::InsertResult> InsertWith(const storage::TableSchema& schema,
                                           const types::Block& block,
                                           const storage::IdempotencyRecord* record);
  uint64_t TotalMemtableBytes() const;
  std::vector<Entry> AllEntries() const;

  EngineOptions options_;
  env::Env* env_ = nullptr;
  Clock* clock_ = nullptr;
  std::unique_ptr<env::FileLock> lock_;
  std::unique_ptr<log::LogWriter> log_;
  std::unique_ptr<idempotency::IdempotencyIndex> keys_;

  // Inserts hold this shared from log append to memtable add; flush swaps and log trims take
  // it exclusively.
  WriterPriorityMutex commit_mu_;

  mutable std::shared_mutex catalog_mu_;
  std::map<std::string, std::map<std::string, Entry>> catalog_ GUARDED_BY(catalog_mu_);
  std::mutex ddl_mu_;  // one DDL statement at a time

  std::mutex bg_mu_;
  std::condition_variable bg_cv_;
  bool stopping_ GUARDED_BY(bg_mu_) = false;
  bool flush_wanted_ GUARDED_BY(bg_mu_) = false;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopped_{false};
  int64_t last_ttl_check_ = 0;
  // Set by the flusher while a table's memtable cannot be flushed because the disk is full.
  std::atomic<bool> flush_disk_full_{false};
  // Set by an insert refused over the memory budget, cleared by the flusher once memory is back
  // under it: the start and end of back-pressure are each logged once.
  std::atomic<bool> backpressure_{false};

  // The durable log's state (log_->health()) as the flusher saw it last.
  enum class LogState { kWritable, kDiskFull, kFailed };
  // Logs a change of the log's state since *last (a full disk, a write error, recovery).
  void NoteLogHealth(LogState* last);

  std::atomic<uint64_t> recovered_records_{0};
  std::atomic<uint64_t> recovered_rows_{0};

  // Per-table gauges on /metrics (parts, memtable rows and bytes), read at render time;
  // unregistered by Stop() before the tables go away.
  void RegisterCollectors();
  std::vector<metrics::CollectorHandle> collectors_;
};

Status Engine::Open() {
  TH_RETURN_IF_ERROR(env::CreateDirsDurably(env_, options_.data_dir));
  auto lock = env_->LockFile(env::JoinPath(options_.data_dir, "LOCK"));
  if (!lock.ok()) {
    return Status::Unavailable(
        fmt::format("data directory {} is in use by another trackhouse process ({})",
                    options_.data_dir, lock.status().message()));
  }
  lock_ = std::move(lock).value();
  TH_RETURN_IF_ERROR(env::CreateDirsDurably(env_, env::JoinPath(metadata_dir(), "default")));
  TH_RETURN_IF_ERROR(env::CreateDirsDurably(env_, env::JoinPath(options_.data_dir, "store")));
  TH_RETURN_IF_ERROR(LoadCatalog());
  TH_RETURN_IF_ERROR(Recover());
  threads_.emplace_back([this] { FlusherLoop(); });
  for (uint32_t i = 0; i < options_.merge_threads; ++i) {
    threads_.emplace_back([this] { MergerLoop(); });
  }
  RegisterCollectors();
  return Status::OK();
}

Status Engine::LoadCatalog() {
  TH_ASSIGN_OR_RETURN(std::vector<std::string> dbs, env_->GetChildren(metadata_dir()));
  std::map<uint64_t, bool> live_ids;
  std::unique_lock lock(catalog_mu_);
  for (const auto& db_dir : dbs) {
    std::string dpath = env::JoinPath(metadata_dir(), db_dir);
    if (!env_->IsDirectory(dpath)) continue;
    std::string db = UnescapeName(db_dir);
    auto& tables = catalog_[db];
    TH_ASSIGN_OR_RETURN(std::vector<std::string> files, env_->GetChildren(dpath));
    for (const auto& f : files) {
      std::string path = env::JoinPath(dpath, f);
      if (f.size() > 4 && f.ends_with(".tmp")) {
        TH_RETURN_IF_ERROR(env_->RemoveFile(path));
        continue;
      }
      if (f.size() < 5 || !f.ends_with(".sql")) continue;
      TH_ASSIGN_OR_RETURN(TableFile tf, ReadTableFile(env_, path));
      auto parsed = sql::ParseStatement(tf.create_sql);
      if (!parsed.ok()) return parsed.status().WithContext(path);
      auto* create = (*parsed)->As<sql::CreateTableStmt>();
      if (create == nullptr) return Status::Corruption(path + ": not a CREATE TABLE statement");
      auto def = BuildTableDef(*create, tf.id, options_.index_granularity);
      if (!def.ok()) return def.status().WithContext(path);
      Entry e;
      e.def = *def;
      if (!e.def->is_buffer()) {
        e.table =
            std::make_shared<Table>(e.def, store_dir(tf.id), env_, clock_, options_, &commit_mu_);
        if (!env_->FileExists(store_dir(tf.id))) {
          TH_RETURN_IF_ERROR(e.table->Create());
        } else {
          TH_RETURN_IF_ERROR(e.table->Load());
        }
        live_ids[tf.id] = true;
      }
      tables[UnescapeName(f.substr(0, f.size() - 4))] = std::move(e);
    }
  }
  // Store directories whose table file is gone (a DROP or CREATE interrupted by a crash).
  std::string store = env::JoinPath(options_.data_dir, "store");
  TH_ASSIGN_OR_RETURN(std::vector<std::string> stores, env_->GetChildren(store));
  for (const auto& s : stores) {
    uint64_t id = std::strtoull(s.c_str(), nullptr, 16);
    if (!live_ids.count(id)) {
      TH_RETURN_IF_ERROR(env_->RemoveDirRecursively(env::JoinPath(store, s)));
    }
  }
  return Status::OK();
}

Status Engine::Recover() {
  std::map<uint64_t, std::shared_ptr<Table>> by_id;
  uint64_t from = UINT64_MAX;
  {
    std::shared_lock lock(catalog_mu_);
    for (const auto& [db, tables] : catalog_) {
      for (const auto& [name, e] : tables) {
        if (e.table) {
          by_id[e.def->id] = e.table;
          from = std::min(from, e.table->persisted_lsn() + 1);
        }
      }
    }
  }
  if (from == UINT64_MAX) from = 1;
  int64_t now = clock_->NowMicros();
  keys_ = std::make_unique<idempotency::IdempotencyIndex>(
      env_, options_.data_dir, options_.idempotency_window_micros, options_.max_idempotency_keys);
  // Keys of records up to keys_covered are in the snapshot; later ones come from the log.
  TH_ASSIGN_OR_RETURN(const uint64_t keys_covered, keys_->Load(now));
  const uint64_t tables_from = from;
  from = std::min(from, keys_covered + 1);
  std::string wal = env::JoinPath(options_.data_dir, "wal");
  auto rec = log::Recover(env_, wal, from, [&](uint64_t lsn, std::string_view payload) -> Status {
    const uint8_t kind = payload.empty() ? 0 : static_cast<uint8_t>(payload[0]);
    if (payload.size() < 9 || (kind != kInsertRecord && kind != kKeyedInsertRecord)) {
      return Status::Corruption(
          fmt::format("{}: log record {} has an unknown kind or is short ({} bytes)", wal, lsn,
                      payload.size()));
    }
    uint64_t id = DecodeFixed64(payload.data() + 1);
    std::string_view rest = payload.substr(9);
    if (kind == kKeyedInsertRecord) {
      std::string_view key, answer;
      uint64_t time = 0;
      if (!GetLengthPrefixed(&rest, &key) || !GetLengthPrefixed(&rest, &answer) ||
          !GetFixed64(&rest, &time)) {
        return Status::Corruption(
            fmt::format("{}: log record {}: its Idempotency-Key header is cut short", wal, lsn));
      }
      if (lsn > keys_covered) {
        keys_->Add({std::string(key), std::string(answer), static_cast<int64_t>(time)}, now);
      }
    }
    auto it = by_id.find(id);
    if (it == by_id.end() || lsn <= it->second->persisted_lsn()) return Status::OK();
    auto block = types::DeserializeBlock(rest);
    if (!block.ok()) {
      return block.status().WithContext(fmt::format("{}: log record {}", wal, lsn));
    }
    TH_ASSIGN_OR_RETURN(types::Block adapted, AdaptBlockToTable(*block, *it->second->def(), now));
    it->second->AddToMemTable(adapted, lsn);
    recovered_records_.fetch_add(1);
    recovered_rows_.fetch_add(adapted.rows());
    return Status::OK();
  });
  if (!rec.ok()) return rec.status();
  log::LogOptions lo;
  lo.sync = options_.sync;
  lo.compress = options_.log_compress;
  lo.segment_bytes = options_.log_segment_bytes;
  if (rec->records > 0 && rec->oldest_lsn > tables_from) {
    return Status::Corruption(
        fmt::format("{}: the log starts at record {} but the tables need it from record {}", wal,
                    rec->oldest_lsn, tables_from));
  }
  TH_ASSIGN_OR_RETURN(log_, log::LogWriter::Open(env_, wal, std::max(rec->next_lsn, from), lo));
  return Status::OK();
}

Status Engine::Stop() {
  collectors_.clear();  // waits for a /metrics render that is reading the tables
  if (stopped_.exchange(true)) return Status::OK();
  {
    std::lock_guard lock(bg_mu_);
    stopping_ = true;
  }
  bg_cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
  Status s;
  if (log_) s = log_->Close();
  return s;
}

std::vector<Engine::Entry> Engine::AllEntries() const {
  std::vector<Entry> out;
  std::shared_lock lock(catalog_mu_);
  for (const auto& [db, tables] : catalog_) {
    for (const auto& [name, e] : tables) out.push_back(e);
  }
  return out;
}

uint64_t Engine::TotalMemtableBytes() const {
  uint64_t total = 0;
  for (const auto& e : AllEntries()) {
    if (e.table) total += e.table->MemoryBytes();
  }
  return total;
}

Result<Engine::Entry> Engine::Lookup(const std::string& db, const std::string& table) const {
  std::shared_lock lock(catalog_mu_);
  auto d = catalog_.find(db);
  if (d == catalog_.end()) return UnknownDatabase(db);
  auto t = d->second.find(table);
  if (t == d->second.end()) return UnknownTable(db, table);
  return t->second;
}

Result<Engine::Entry> Engine::StorageOf(const Entry& e) const {
  if (!e.def->is_buffer()) return e;
  TH_ASSIGN_OR_RETURN(Entry dest, Lookup(e.def->buffer.database, e.def->buffer.table));
  if (dest.def->is_buffer()) {
    return Status::InvalidArgument(
        fmt::format("Buffer {} points at another Buffer table {}.{}", e.def->schema->name,
                    e.def->buffer.database, e.def->buffer.table),
        ch::kBadArguments);
  }
  return dest;
}

Result<storage::InsertResult> Engine::Insert(const storage::TableSchema& schema,
                                             const types::Block& block) {
  return InsertWith(schema, block, nullptr);
}

Result<storage::InsertResult> Engine::InsertWith(const storage::TableSchema& schema,
                                                 const types::Block& block,
                                                 const storage::IdempotencyRecord* record) {
  std::promise<Result<storage::InsertResult>> outcome;
  TH_RETURN_IF_ERROR(InsertAsync(schema, block, record, [&](Result<storage::InsertResult> r) {
    outcome.set_value(std::move(r));
  }));
  return outcome.get_future().get();
}

Status Engine::InsertAsync(const storage::TableSchema& schema, const types::Block& block,
                           const storage::IdempotencyRecord* record, InsertCallback done) {
  TH_ASSIGN_OR_RETURN(Entry e, Lookup(schema.database, schema.name));
  if (e.def->schema->create_sql != schema.create_sql) {
    InsertRejected().Add();
    return Status::Aborted(fmt::format("Table {}.{} changed while the insert was running; retry it",
                                       schema.database, schema.name),
                           ch::kTypeMismatch);
  }
  TH_ASSIGN_OR_RETURN(Entry target, StorageOf(e));
  if (block.rows() == 0) {
    done(storage::InsertResult{});
    return Status::OK();
  }
  TH_RETURN_IF_ERROR(block.Validate());
  types::Block rows = block;
  if (target.def != e.def) {
    TH_ASSIGN_OR_RETURN(rows, AdaptBlockToTable(block, *target.def, clock_->NowMicros()));
  }
  if (TotalMemtableBytes() > 2 * options_.memtable_budget_bytes) {
    Backpressure().Add();
    InsertRejected().Add();
    if (!backpressure_.exchange(true)) {
      logging::Warn("backpressure_started",
                    {{"reason", flush_disk_full_.load() ? "disk_full" : "memory_budget"},
                     {"memtable_bytes", TotalMemtableBytes()},
                     {"limit_bytes", 2 * options_.memtable_budget_bytes}});
    }
    {
      std::lock_guard lock(bg_mu_);
      flush_wanted_ = true;
    }
    bg_cv_.notify_all();
    if (flush_disk_full_.load()) {
      return Status::ResourceExhausted(
          "the disk is full: rows waiting in memory cannot be written to disk, so trackhouse "
          "cannot take more rows until space is freed; retry later",
          ch::kNotEnoughSpace);
    }
    return Status::ResourceExhausted(
        "trackhouse is flushing memtables to disk and cannot take more rows right now; retry "
        "shortly",
        ch::kServerOverloaded);
  }
  std::string payload;
  payload.reserve(rows.ByteSize() / 2 + 64);
  payload.push_back(static_cast<char>(record != nullptr ? kKeyedInsertRecord : kInsertRecord));
  PutFixed64(&payload, target.def->id);
  if (record != nullptr) {
    PutLengthPrefixed(&payload, record->key);
    PutLengthPrefixed(&payload, record->answer);
    PutFixed64(&payload, static_cast<uint64_t>(record->time_micros));
  }
  types::SerializeBlock(rows, &payload);
  // The commit lock is held (shared) from here until the rows are in the memtable, which the
  // log's callback does on the thread that synced them: ALTER and memtable swaps take it
  // exclusively, so no insert is between its log record and its memtable add meanwhile.
  // (WriterPriorityMutex may be released on another thread than the one that took it.)
  commit_mu_.lock_shared();
  // ALTER swaps definitions under the commit lock: the rows must still have the shape the
  // memtable holds, or the insert is retried against the new definition.
  if (target.table->def() != target.def) {
    commit_mu_.unlock_shared();
    InsertRejected().Add();
    return Status::Aborted(fmt::format("Table {}.{} changed while the insert was running; retry it",
                                       schema.database, schema.name),
                           ch::kTypeMismatch);
  }
  if (record != nullptr && keys_->Find(record->key, clock_->NowMicros())) {
    commit_mu_.unlock_shared();
    return Status::AlreadyExists(fmt::format("Idempotency-Key {} is already stored", record->key));
  }
  std::optional<storage::IdempotencyRecord> key;
  if (record != nullptr) key = *record;
  const bool is_buffer = e.def->is_buffer();
  BufferParams buffer = is_buffer ? e.def->buffer : BufferParams{};
  log_->AppendAsync(
      std::move(payload), [this, table = target.table, rows = std::move(rows), key = std::move(key),
                           is_buffer, buffer, done = std::move(done)](Result<uint64_t> r) {
        if (!r.ok()) {
          commit_mu_.unlock_shared();
          InsertRejected().Add();
          done(r.status());
          return;
        }
        table->AddToMemTable(rows, *r);
        if (key) keys_->Add(*key, clock_->NowMicros());
        commit_mu_.unlock_shared();
        InsertRows().Add(static_cast<int64_t>(rows.rows()));
        if (table->ShouldFlush(clock_->MonotonicMicros(), is_buffer ? &buffer : nullptr)) {
          {
            std::lock_guard lock(bg_mu_);
            flush_wanted_ = true;
          }
          bg_cv_.notify_all();
        }
        done(storage::InsertResult{rows.rows(), *r});
      });
  return Status::OK();
}

std::vector<storage::ReadinessCheck> Engine::CheckReadiness() {
  std::vector<storage::ReadinessCheck> checks;
  checks.push_back(
      {"engine_open", !stopped_.load(), stopped_.load() ? "the engine is stopped" : ""});
  Status log = log_ ? log_->health() : Status::Unavailable("the log is not open");
  checks.push_back({"log_writable", log.ok(), log.ok() ? "" : log.ToString()});
  // A full disk stops both the log and the flushes; either clears by itself once space is freed.
  std::string disk;
  if (IsDiskFull(log)) {
    disk = "disk full: the log cannot be written (" + log.message() + ")";
  } else if (flush_disk_full_.load()) {
    disk = "disk full: rows in memory cannot be flushed to parts";
  }
  checks.push_back({"disk", disk.empty(), disk});
  const uint64_t held = TotalMemtableBytes(), limit = 2 * options_.memtable_budget_bytes;
  checks.push_back(
      {"memory_budget", held <= limit,
       fmt::format("{} bytes of rows waiting for disk, inserts pause above {}", held, limit)});
  return checks;
}

Status Engine::TrimLog() {
  uint64_t upto;
  uint64_t covered;
  {
    std::unique_lock commit(commit_mu_);
    covered = log_->next_lsn() - 1;  // every keyed record up to here is in keys_
    upto = covered;
    for (const auto& e : AllEntries()) {
      if (!e.table) continue;
      uint64_t m = e.table->MinUnflushedLsn();
      if (m != 0) upto = std::min(upto, m - 1);
    }
  }
  // The keys of the records about to go must outlive them.
  TH_RETURN_IF_ERROR(keys_->Save(covered, clock_->NowMicros()));
  return log_->TrimUpTo(upto);
}

void Engine::NoteLogHealth(LogState* last) {
  if (!log_) return;
  Status health = log_->health();
  LogState now = health.ok()          ? LogState::kWritable
                 : IsDiskFull(health) ? LogState::kDiskFull
                                      : LogState::kFailed;
  if (now == *last) return;
  switch (now) {
    case LogState::kDiskFull:
      logging::Warn("log_disk_full", {{"error", health.ToString()}});
      break;
    case LogState::kFailed:
      logging::Error("log_failed", {{"error", health.ToString()}});
      break;
    case LogState::kWritable:
      logging::Info("log_disk_recovered");
      break;
  }
  *last = now;
}

void Engine::FlusherLoop() {
  // Tables whose last flush failed, by table id (only this thread touches it).
  std::map<uint64_t, RetryBackoff> retry;
  LogState log_state = LogState::kWritable;  // as last logged
  while (true) {
    {
      std::unique_lock lock(bg_mu_);
      bg_cv_.wait_for(lock, std::chrono::milliseconds(options_.flush_check_interval_ms),
                      [this]() REQUIRES(bg_mu_) { return stopping_ || flush_wanted_; });
      if (stopping_) return;
      flush_wanted_ = false;
    }
    std::vector<Entry> entries = AllEntries();
    // Buffer thresholds, by destination table id (the tightest Buffer wins).
    std::map<uint64_t, const BufferParams*> buffers;
    std::map<std::string, uint64_t> ids;
    for (const auto& e : entries) {
      if (e.table) ids[e.def->schema->database + "." + e.def->schema->name] = e.def->id;
    }
    for (const auto& e : entries) {
      if (!e.def->is_buffer()) continue;
      auto it = ids.find(e.def->buffer.database + "." + e.def->buffer.table);
      if (it != ids.end() && !buffers.count(it->second)) buffers[it->second] = &e.def->buffer;
    }
    int64_t now = clock_->MonotonicMicros();
    // A failed flush leaves its rows in the memtable (and the log): it is tried again after a
    // backoff rather than on every round, so that a full disk is not hammered.
    auto try_flush = [&](const Entry& e) {
      Status s = e.table->Flush();
      if (s.ok()) {
        retry.erase(e.def->id);
        return true;
      }
      RetryBackoff& b = retry[e.def->id];
      b.Failed(s, now);
      logging::Error("flush_failed", {{"table", QualifiedName(*e.def)},
                                      {"error", s.ToString()},
                                      {"retry_ms", b.delay_micros / 1000}});
      return false;
    };
    auto backing_off = [&](const Entry& e) {
      auto it = retry.find(e.def->id);
      return it != retry.end() && !it->second.Ready(now);
    };
    bool flushed = false;
    for (const auto& e : entries) {
      if (!e.table) continue;
      auto b = buffers.find(e.def->id);
      if (e.table->ShouldFlush(now, b == buffers.end() ? nullptr : b->second)) {
        if (!backing_off(e)) flushed |= try_flush(e);
      } else if (e.table->memtable_stats().rows == 0) {
        retry.erase(e.def->id);  // emptied otherwise (a DDL flush, TRUNCATE)
      }
    }
    // Over the memory budget: flush the largest memtables until under it.
    while (TotalMemtableBytes() > options_.memtable_budget_bytes) {
      Entry largest;
      uint64_t most = 0;
      for (const auto& e : entries) {
        if (!e.table || backing_off(e)) continue;
        uint64_t b = e.table->memtable_stats().bytes;
        if (b > most) {
          most = b;
          largest = e;
        }
      }
      if (!largest.table || !try_flush(largest)) break;
      flushed = true;
    }
    ForgetDroppedTables(entries, &retry);
    const bool disk_full =
        std::any_of(retry.begin(), retry.end(), [](const auto& r) { return r.second.disk_full; });
    if (flush_disk_full_.exchange(disk_full) != disk_full) {
      if (disk_full) {
        logging::Warn("flush_disk_full", {{"tables_failing", retry.size()}});
      } else {
        logging::Info("flush_disk_recovered");
      }
    }
    NoteLogHealth(&log_state);
    if (backpressure_.load() && TotalMemtableBytes() <= 2 * options_.memtable_budget_bytes &&
        backpressure_.exchange(false)) {
      logging::Info("backpressure_stopped", {{"memtable_bytes", TotalMemtableBytes()}});
    }
    if (flushed) {
      Status s = TrimLog();
      if (!s.ok()) logging::Error("log_trim_failed", {{"error", s.ToString()}});
      bg_cv_.notify_all();  // wake the mergers
    }
    int64_t wall = clock_->MonotonicMicros();
    if (wall - last_ttl_check_ >= options_.ttl_check_interval_ms * 1000) {
      last_ttl_check_ = wall;
      for (const auto& e : entries) {
        if (!e.table) continue;
        Status s = e.table->ApplyTtl();
        if (!s.ok()) {
          logging::Error("ttl_failed", {{"table", QualifiedName(*e.def)}, {"error", s.ToString()}});
        }
      }
    }
  }
}

void Engine::MergerLoop() {
  // Tables whose last merge failed, by table id (this thread's own).
  std::map<uint64_t, RetryBackoff> retry;
  while (true) {
    bool any = false;
    const std::vector<Entry> entries = AllEntries();
    ForgetDroppedTables(entries, &retry);
    for (const auto& e : entries) {
      if (!e.table) continue;
      {
        std::lock_guard lock(bg_mu_);
        if (stopping_) return;
      }
      const int64_t now = clock_->MonotonicMicros();
      auto r = retry.find(e.def->id);
      if (r != retry.end() && !r->second.Ready(now)) continue;
      bool merged = false;
      Status s = e.table->MaybeMerge(&merged);
      if (s.ok()) {
        if (r != retry.end()) retry.erase(r);
      } else {
        RetryBackoff& b = retry[e.def->id];
        b.Failed(s, now);
        logging::Error("merge_failed", {{"table", QualifiedName(*e.def)},
                                        {"error", s.ToString()},
                                        {"retry_ms", b.delay_micros / 1000}});
      }
      any |= merged;
    }
    std::unique_lock lock(bg_mu_);
    if (stopping_) return;
    if (!any) bg_cv_.wait_for(lock, std::chrono::milliseconds(200));
  }
}

Status Engine::FlushAll() {
  for (const auto& e : AllEntries()) {
    if (e.table) TH_RETURN_IF_ERROR(e.table->Flush());
  }
  return TrimLog();
}

Result<std::vector<std::string>> Engine::ListDatabases() {
  std::shared_lock lock(catalog_mu_);
  std::vector<std::string> out;
  for (const auto& [db, t] : catalog_) out.push_back(db);
  return out;
}

Result<std::vector<std::string>> Engine::ListTables(const std::string& database) {
  std::shared_lock lock(catalog_mu_);
  auto d = catalog_.find(database);
  if (d == catalog_.end()) return UnknownDatabase(database);
  std::vector<std::string> out;
  for (const auto& [name, e] : d->second) out.push_back(name);
  return out;
}

Result<storage::TableSchemaPtr> Engine::GetTable(const std::string& database,
                                                 const std::string& table) {
  TH_ASSIGN_OR_RETURN(Entry e, Lookup(database, table));
  return e.def->schema;
}

Result<std::unique_ptr<storage::ScanSource>> Engine::Scan(const std::string& database,
                                                          const std::string& table,
                                                          const storage::ScanRequest& request) {
  TH_ASSIGN_OR_RETURN(Entry e, Lookup(database, table));
  TH_ASSIGN_OR_RETURN(Entry target, StorageOf(e));
  for (const auto& c : request.columns) {
    if (target.def->schema->FindColumn(c) == nullptr) {
      return Status::InvalidArgument(
          fmt::format("There is no column {} in table {}.{}", c, database, table),
          ch::kNoSuchColumnInTable);
    }
  }
  if (request.final && target.def->kind == EngineKind::kMergeTree) {
    return Status::InvalidArgument(
        fmt::format("Storage MergeTree doesn't support FINAL (table {}.{})", database, table),
        ch::kIllegalFinal);
  }
  return MakeScanSource(*target.table, target.table->GetSnapshot(), request);
}

Result<std::vector<storage::PartInfo>> Engine::ListParts(const std::string& database,
                                                         const std::string& table) {
  TH_ASSIGN_OR_RETURN(Entry e, Lookup(database, table));
  std::vector<storage::PartInfo> out;
  if (e.table == nullptr) return out;  // a Buffer table stores its rows in its destination
  for (const ActivePart& p : e.table->GetSnapshot().parts) {
    storage::PartInfo info;
    info.partition = p.partition;
    info.name = p.dir_name;
    info.rows = p.rows;
    info.bytes_on_disk = p.part->BytesOnDisk();
    info.min_block = p.min_block;
    info.max_block = p.max_block;
    info.level = p.level;
    out.push_back(std::move(info));
  }
  return out;
}

EngineStats Engine::stats() const {
  EngineStats s;
  if (log_) {
    auto ls = log_->stats();
    s.log_syncs = ls.syncs;
    s.log_records = ls.records;
    s.log_bytes = ls.bytes;
  }
  for (const auto& e : AllEntries()) {
    if (!e.table) continue;
    s.flushes += e.table->flushes();
    s.merges += e.table->merges();
    s.parts_active += e.table->ActivePartCount();
    s.memtable_rows += e.table->memtable_stats().rows;
    s.max_parts_in_partition =
        std::max<uint64_t>(s.max_parts_in_partition, e.table->MaxPartsInPartition());
  }
  s.recovered_records = recovered_records_.load();
  s.recovered_rows = recovered_rows_.load();
  return s;
}

void Engine::RegisterCollectors() {
  // One sample per MergeTree table (Buffer tables hold no rows of their own).
  auto per_table = [this](uint64_t (*value)(const Table&)) {
    return [this, value] {
      std::vector<metrics::Sample> out;
      for (const auto& e : AllEntries()) {
        if (!e.table) continue;
        out.push_back({{e.def->schema->database + "." + e.def->schema->name},
                       static_cast<int64_t>(value(*e.table))});
      }
      return out;
    };
  };
  collectors_.push_back(metrics::RegisterCollectedGauge(
      "trackhouse_engine_table_parts", "Active parts, by table", {"table"},
      per_table([](const Table& t) -> uint64_t { return t.ActivePartCount(); })));
  collectors_.push_back(metrics::RegisterCollectedGauge(
      "trackhouse_engine_table_max_parts_in_partition",
      "Most active parts in one partition, by table (merges keep it low)", {"table"},
      per_table([](const Table& t) -> uint64_t { return t.MaxPartsInPartition(); })));
  collectors_.push_back(metrics::RegisterCollectedGauge(
      "trackhouse_engine_table_memtable_rows", "Rows in the memtable (not yet in parts), by table",
      {"table"}, per_table([](const Table& t) { return t.memtable_stats().rows; })));
  collectors_.push_back(metrics::RegisterCollectedGauge(
      "trackhouse_engine_table_memtable_bytes",
      "Bytes of rows in the memtable (not yet in parts), by table", {"table"},
      per_table([](const Table& t) { return t.memtable_stats().bytes; })));
}

// ---------------------------------------------------------------------------------------------
// DDL

Status Engine::ExecuteDdl(const sql::Statement& stmt, std::string_view sql,
                          const std::string& current_database) {
  std::lock_guard ddl(ddl_mu_);
  auto db_of = [&](const std::string& d) { return d.empty() ? current_database : d; };
  switch (stmt.kind) {
    case sql::StatementKind::kCreateDatabase:
      return CreateDatabase(*stmt.As<sql::CreateDatabaseStmt>());
    case sql::StatementKind::kCreateTable:
      return CreateTable(*stmt.As<sql::CreateTableStmt>(), current_database);
    case sql::StatementKind::kDropTable: {
      const auto& s = *stmt.As<sql::DropTableStmt>();
      return DropTable(db_of(s.database), s.table, s.if_exists);
    }
    case sql::StatementKind::kDropDatabase:
      return DropDatabase(*stmt.As<sql::DropDatabaseStmt>());
    case sql::StatementKind::kTruncateTable: {
      const auto& s = *stmt.As<sql::TruncateTableStmt>();
      auto e = Lookup(db_of(s.database), s.table);
      if (!e.ok())
        return s.if_exists && e.status().code() == StatusCode::kNotFound ? Status::OK()
                                                                         : e.status();
      // A Buffer table holds no rows of its own in trackhouse: they are in its destination.
      if (!e->table) return Status::OK();
      return e->table->Truncate();
    }
    case sql::StatementKind::kAlterTable:
      return Alter(*stmt.As<sql::AlterTableStmt>(), current_database);
    case sql::StatementKind::kOptimize: {
      const auto& s = *stmt.As<sql::OptimizeStmt>();
      TH_ASSIGN_OR_RETURN(Entry e, Lookup(db_of(s.database), s.table));
      TH_ASSIGN_OR_RETURN(Entry target, StorageOf(e));
      Status st = target.table->Optimize(s.final);
      if (st.ok()) st = TrimLog();
      return st;
    }
    default:
      return Status::NotSupported(fmt::format("{} is not a DDL statement the storage executes",
                                              sql::StatementKindName(stmt.kind)));
  }
}

Status Engine::CreateDatabase(const sql::CreateDatabaseStmt& s) {
  {
    std::shared_lock lock(catalog_mu_);
    if (catalog_.count(s.name)) {
      if (s.if_not_exists) return Status::OK();
      return Status::AlreadyExists(fmt::format("Database {} already exists.", s.name),
                                   ch::kDatabaseAlreadyExists);
    }
  }
  if (s.name.empty()) return Status::InvalidArgument("Database name is empty", ch::kBadArguments);
  TH_RETURN_IF_ERROR(
      env::CreateDirsDurably(env_, env::JoinPath(metadata_dir(), EscapeName(s.name))));
  std::unique_lock lock(catalog_mu_);
  catalog_[s.name];
  return Status::OK();
}

Status Engine::CreateTable(const sql::CreateTableStmt& s, const std::string& current_db) {
  std::string db = s.database.empty() ? current_db : s.database;
  {
    std::shared_lock lock(catalog_mu_);
    auto d = catalog_.find(db);
    if (d == catalog_.end()) return UnknownDatabase(db);
    if (d->second.count(s.table)) {
      if (s.if_not_exists) return Status::OK();
      return Status::AlreadyExists(fmt::format("Table {}.{} already exists.", db, s.table),
                                   ch::kTableAlreadyExists);
    }
  }
  // Work on a copy: the statement is completed (database, AS other) before it is stored.
  TH_ASSIGN_OR_RETURN(sql::StatementPtr copy, sql::ParseStatement(sql::FormatStatement(s)));
  auto* stmt = copy->As<sql::CreateTableStmt>();
  std::string like_sql;
  if (!stmt->as_table.empty()) {
    std::string like_db = stmt->as_database.empty() ? current_db : stmt->as_database;
    TH_ASSIGN_OR_RETURN(Entry like, Lookup(like_db, stmt->as_table));
    like_sql = like.def->schema->create_sql;
  }
  TH_RETURN_IF_ERROR(CompleteCreateStatement(stmt, db, like_sql));
  stmt->if_not_exists = false;
  uint64_t id = NewTableId();
  TH_ASSIGN_OR_RETURN(TableDefPtr def, BuildTableDef(*stmt, id, options_.index_granularity));
  Entry e;
  e.def = def;
  if (!def->is_buffer()) {
    e.table = std::make_shared<Table>(def, store_dir(id), env_, clock_, options_, &commit_mu_);
    TH_RETURN_IF_ERROR(e.table->Create());
  }
  TH_RETURN_IF_ERROR(
      WriteTableFile(env_, metadata_dir(), TableFile{db, s.table, id, def->schema->create_sql}));
  std::unique_lock lock(catalog_mu_);
  catalog_[db][s.table] = std::move(e);
  return Status::OK();
}

Status Engine::DropTable(const std::string& db, const std::string& table, bool if_exists) {
  auto e = Lookup(db, table);
  if (!e.ok()) {
    if (if_exists && e.status().code() == StatusCode::kNotFound) return Status::OK();
    return e.status();
  }
  TH_RETURN_IF_ERROR(RemoveTableFile(env_, metadata_dir(), db, table));
  {
    std::unique_lock lock(catalog_mu_);
    catalog_[db].erase(table);
  }
  if (e->table) TH_RETURN_IF_ERROR(e->table->Destroy());
  return Status::OK();
}

Status Engine::DropDatabase(const sql::DropDatabaseStmt& s) {
  std::vector<std::string> tables;
  {
    std::shared_lock lock(catalog_mu_);
    auto d = catalog_.find(s.name);
    if (d == catalog_.end()) return s.if_exists ? Status::OK() : UnknownDatabase(s.name);
    for (const auto& [name, e] : d->second) tables.push_back(name);
  }
  if (s.name == "default") {
    return Status::InvalidArgument("Database default cannot be dropped", ch::kBadArguments);
  }
  for (const auto& t : tables) TH_RETURN_IF_ERROR(DropTable(s.name, t, true));
  TH_RETURN_IF_ERROR(env_->RemoveDirRecursively(env::JoinPath(metadata_dir(), EscapeName(s.name))));
  TH_RETURN_IF_ERROR(env_->SyncDir(metadata_dir()));
  std::unique_lock lock(catalog_mu_);
  catalog_.erase(s.name);
  return Status::OK();
}

Status Engine::Redefine(const std::string& db, const std::string& name, const Entry& e,
                        sql::CreateTableStmt& stmt) {
  TH_ASSIGN_OR_RETURN(TableDefPtr def, BuildTableDef(stmt, e.def->id, options_.index_granularity));
  if (e.table) TH_RETURN_IF_ERROR(e.table->Flush());
  TH_RETURN_IF_ERROR(WriteTableFile(env_, metadata_dir(),
                                    TableFile{db, name, e.def->id, def->schema->create_sql}));
  // Swap with no insert in flight: inserts built against the old schema are then refused.
  std::unique_lock commit(commit_mu_);
  if (e.table) e.table->SetDef(def);
  std::unique_lock lock(catalog_mu_);
  catalog_[db][name].def = def;
  return Status::OK();
}

Status Engine::Alter(const sql::AlterTableStmt& s, const std::string& current_db) {
  std::string db = s.database.empty() ? current_db : s.database;
  for (const auto& cmd : s.commands) {
    TH_ASSIGN_OR_RETURN(Entry e, Lookup(db, s.table));
    TH_ASSIGN_OR_RETURN(sql::StatementPtr parsed, sql::ParseStatement(e.def->schema->create_sql));
    auto& create = *parsed->As<sql::CreateTableStmt>();
    auto find_col = [&](const std::string& n) {
      for (size_t i = 0; i < create.columns.size(); ++i) {
        if (create.columns[i].name == n) return static_cast<int>(i);
      }
      return -1;
    };
    switch (cmd.kind) {
      case sql::AlterCommandKind::kAddColumn: {
        if (find_col(cmd.column.name) >= 0) {
          if (cmd.if_not_exists) break;
          return Status::InvalidArgument(
              fmt::format("Cannot add column {}: column with this name already exists",
                          cmd.column.name),
              ch::kDuplicateColumn);
        }
        sql::ColumnDef col = CloneColumnDef(cmd.column);
        size_t at = create.columns.size();
        if (cmd.first) at = 0;
        if (!cmd.after.empty()) {
          int i = find_col(cmd.after);
          if (i < 0) {
            return Status::InvalidArgument(
                fmt::format("Wrong column name. Cannot find column {} to insert after", cmd.after),
                ch::kNoSuchColumnInTable);
          }
          at = static_cast<size_t>(i) + 1;
        }
        create.columns.insert(create.columns.begin() + at, std::move(col));
        TH_RETURN_IF_ERROR(Redefine(db, s.table, e, create));
        break;
      }
      case sql::AlterCommandKind::kDropColumn: {
        int i = find_col(cmd.column_name);
        if (i < 0) {
          if (cmd.if_exists) break;
          return Status::InvalidArgument(
              fmt::format("Wrong column name. Cannot find column {} to drop", cmd.column_name),
              ch::kNoSuchColumnInTable);
        }
        const auto& key = e.def->sort_key;
        bool used = std::find(key.begin(), key.end(), cmd.column_name) != key.end();
        for (const auto* expr : {e.def->partition_expr.get(), e.def->ttl_expr.get()}) {
          if (expr == nullptr) continue;
          for (const auto& r : expr->ReferencedColumns()) used |= r == cmd.column_name;
        }
        if (used || e.def->version_column == cmd.column_name) {
          return Status::InvalidArgument(
              fmt::format("Trying to ALTER DROP key column {} (used in the sorting key, "
                          "partition key, TTL or engine)",
                          cmd.column_name),
              ch::kIllegalColumn);
        }
        if (create.columns.size() == 1) {
          return Status::InvalidArgument("Cannot drop the only column of a table",
                                         ch::kBadArguments);
        }
        create.columns.erase(create.columns.begin() + i);
        TH_RETURN_IF_ERROR(Redefine(db, s.table, e, create));
        break;
      }
      case sql::AlterCommandKind::kModifyTtl:
      case sql::AlterCommandKind::kRemoveTtl: {
        if (e.def->is_buffer())
          return Status::InvalidArgument("Buffer tables have no TTL", ch::kBadArguments);
        create.ttl.clear();
        if (cmd.kind == sql::AlterCommandKind::kModifyTtl) {
          for (const auto& t : cmd.ttl) {
            sql::TtlElement el;
            el.pos = t.pos;
            el.expr = sql::CloneExpr(*t.expr);
            el.action = t.action;
            if (t.where) el.where = sql::CloneExpr(*t.where);
            create.ttl.push_back(std::move(el));
          }
        }
        TH_RETURN_IF_ERROR(Redefine(db, s.table, e, create));
        // Apply the new rule now rather than at the next periodic check.
        TH_ASSIGN_OR_RETURN(Entry now, Lookup(db, s.table));
        TH_RETURN_IF_ERROR(now.table->ApplyTtl());
        break;
      }
      case sql::AlterCommandKind::kDropPartition: {
        if (!e.table)
          return Status::InvalidArgument("Buffer tables have no partitions", ch::kBadArguments);
        std::string id = cmd.partition_id;
        if (cmd.partition) {
          TH_ASSIGN_OR_RETURN(auto compiled, eval::Compile(*cmd.partition, {}));
          eval::EvalContext ctx;
          ctx.now_micros = clock_->NowMicros();
          TH_ASSIGN_OR_RETURN(types::Value v, compiled->EvaluateConstant(ctx));
          if (e.def->partition_expr) {
            const auto& ptype = *e.def->partition_expr->type();
            auto conv = types::ConvertValue(v, ptype);
            id = PartitionIdOf(conv.ok() ? *conv : v, conv.ok() ? ptype : *compiled->type());
          } else {
            id = PartitionIdOf(v, *compiled->type());
          }
        }
        TH_RETURN_IF_ERROR(e.table->DropPartition(id));
        TH_RETURN_IF_ERROR(TrimLog());
        break;
      }
      case sql::AlterCommandKind::kDelete: {
        if (!e.table)
          return Status::InvalidArgument("Run ALTER DELETE on the Buffer's destination table",
                                         ch::kBadArguments);
        TH_RETURN_IF_ERROR(e.table->DeleteWhere(*cmd.predicate));
        TH_RETURN_IF_ERROR(TrimLog());
        break;
      }
      case sql::AlterCommandKind::kModifySetting:
      case sql::AlterCommandKind::kResetSetting:
      case sql::AlterCommandKind::kModifyComment:
      case sql::AlterCommandKind::kCommentColumn:
        break;  // accepted; no effect on the embedded engine
      default:
        return Status::NotSupported(
            fmt::format("This ALTER command is not supported by trackhouse (position {}); "
                        "supported: ADD COLUMN, DROP COLUMN, MODIFY TTL, REMOVE TTL, DROP "
                        "PARTITION, DELETE WHERE",
                        cmd.pos + 1));
    }
  }
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<storage::Storage>> OpenEngine(const EngineOptions& options) {
  auto engine = std::make_unique<Engine>(options);
  TH_RETURN_IF_ERROR(engine->Open());
  return std::unique_ptr<storage::Storage>(std::move(engine));
}

EngineStats GetEngineStats(storage::Storage* storage) {
  auto* e = dynamic_cast<Engine*>(storage);
  return e ? e->stats() : EngineStats{};
}

}  // namespace trackhouse::engine
