// The ClickHouse-mode store (delivery.h). How it works, in short (docs/clickhouse-mode.md has
// the whole protocol):
//
//   insert -> split by the destination's partition -> one spool record (AppendAsync, group
//   commit) -> acknowledged; its slices join the pending queue of (table, partition, layout).
//   sender thread -> closes a batch from one queue (rows/bytes/age) -> journals it (DATA/journal)
//   -> sends it as one RowBinary INSERT -> journals the outcome -> the spool records whose
//   every slice is delivered (or dead-lettered) are trimmed after a checkpoint.
//
// Per destination table one batch at a time is in flight; a batch whose outcome is unknown is
// resolved (block numbers, or resent with the same token / bytes) before the table's next one.
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <tuple>

#include "clickhouse/ddl.h"
#include "clickhouse/errors.h"
#include "clickhouse/schema.h"
#include "common/clock.h"
#include "common/crc32c.h"
#include "common/error_codes.h"
#include "common/fail_point.h"
#include "common/logging.h"
#include "common/metrics.h"
#include "delivery/deadletter.h"
#include "delivery/delivery.h"
#include "delivery/records.h"
#include "delivery/schema_cache.h"
#include "eval/expression.h"
#include "idempotency/idempotency.h"
#include "log/log.h"
#include "sql/parser.h"

namespace trackhouse::delivery {
namespace {

using clickhouse::QuoteIdentifier;
using clickhouse::QuoteString;
using clickhouse::QueryRows;

constexpr int kQueryWithSameIdIsAlreadyRunning = 216;
// A claim in trackhouse_writers older than this is stale (its node is gone).
constexpr int kClaimStaleSeconds = 60;
constexpr int64_t kHeartbeatMicros = 15ll * 1000 * 1000;
constexpr int64_t kPingCacheMicros = 3ll * 1000 * 1000;
constexpr uint64_t kCheckpointEveryRecords = 64;

metrics::CounterFamily& BatchesTotal() {
  static auto& f = metrics::GetCounterFamily(
      "trackhouse_delivery_batches_total",
      "Batches the ClickHouse-mode store finished, by outcome (delivered, dead_lettered)",
      {"outcome"});
  return f;
}
metrics::Counter& RowsDelivered() {
  static auto& c = metrics::GetCounter("trackhouse_delivery_rows_total",
                                       "Rows ClickHouse confirmed (ClickHouse mode)");
  return c;
}
metrics::Counter& Retries() {
  static auto& c = metrics::GetCounter(
      "trackhouse_delivery_retries_total",
      "Batch sends and outcome checks that failed retryably and were retried after a backoff");
  return c;
}
metrics::CounterFamily& UnknownOutcomes() {
  static auto& f = metrics::GetCounterFamily(
      "trackhouse_delivery_unknown_outcomes_total",
      "Batches whose send had an unknown outcome, by resolution (delivered: ClickHouse had "
      "them; resent: it had not, or the mechanism deduplicates a resend)",
      {"result"});
  return f;
}
metrics::Counter& DeadLettersTotal() {
  static auto& c = metrics::GetCounter("trackhouse_delivery_dead_letters_total",
                                       "Batches ClickHouse refused as invalid, written to "
                                       "DATA/deadletter");
  return c;
}
metrics::Counter& Refused() {
  static auto& c = metrics::GetCounter(
      "trackhouse_delivery_inserts_refused_total",
      "Inserts refused by the ClickHouse-mode store (spool budget full, spool unwritable)");
  return c;
}

std::string QualifiedName(const std::string& db, const std::string& table) {
  return db + "." + table;
}

// Failures after which a batch's outcome is unknown, or that say nothing about the batch itself
// (credentials, a query id still running): retried, never dead-lettered.
bool RetryForDelivery(const Status& s) {
  if (clickhouse::IsRetryable(s)) return true;
  switch (s.clickhouse_code()) {
    case ch::kUnknownUser:
    case ch::kWrongPassword:
    case ch::kRequiredPassword:
    case ch::kAuthenticationFailed:
    case ch::kAccessDenied:
    case kQueryWithSameIdIsAlreadyRunning:
      return true;
    default:
      return s.code() == StatusCode::kInternal;
  }
}

bool IsMergeTreeFamily(const std::string& engine) {
  return engine.find("MergeTree") != std::string::npos;
}

// A table as GetTable returns it, with what delivery needs to route its rows.
struct TableInfo {
  storage::TableSchemaPtr schema;
  clickhouse::EngineInfo engine;
  std::string dest_database, dest_table;  // the table itself, a Buffer's destination, or a
                                          // Distributed table's shard-local table
  std::string dest_cluster;               // the Distributed table's cluster (sharded); or ""
  clickhouse::EngineInfo dest_engine;
  std::shared_ptr<const eval::CompiledExpr> partition_expr;  // of the destination; may be null
  // Sharded by a plain unsigned integer column: its name, and the shard (position in shard
  // order) of each of the sum-of-weights slots, as the Distributed table places a row
  // (value % total weight). Empty: batches go to the shards in turn.
  std::string shard_column;
  std::vector<uint32_t> shard_of_slot;
};
using TableInfoPtr = std::shared_ptr<const TableInfo>;

// Separates a slice's partition label from the shard it must go to (tables sharded by a column).
constexpr char kShardSeparator = '\x1f';

// One partition's rows of one spool record, waiting for delivery.
struct Slice {
  uint64_t lsn = 0;
  int64_t accepted_micros = 0;
  uint64_t bytes = 0;  // its share of the record's spool bytes
  std::shared_ptr<const types::Block> block;
};

// (destination database, table, partition, layout)
using GroupKey = std::tuple<std::string, std::string, std::string, std::string>;
using TableKey = std::pair<std::string, std::string>;

struct Group {
  std::deque<Slice> slices;
  uint64_t rows = 0, bytes = 0;
};

// A batch journaled and not yet finished.
struct InFlight {
  BatchRecord record;
  std::vector<Slice> slices;
  types::Block block;
  uint64_t bytes = 0;    // the slices' spool bytes
  bool unknown = false;  // sent (or perhaps sent) without a known outcome
  bool sent_ok = false;  // ClickHouse confirmed; the done record is still to be written
  // `block` encoded and compressed ahead by the preparer; nullptr: encoded when sent.
  std::shared_ptr<const clickhouse::EncodedInsert> encoded;
};

// A table's next batch, taken from its group while the table's batch is in flight and encoded
// on the preparer thread meanwhile, so that trackhouse's own work on a batch (concatenating,
// RowBinary, gzip) overlaps ClickHouse's on the previous one. It is journaled only when sent.
struct Prepared {
  GroupKey group;
  std::vector<Slice> slices;  // in LSN order, out of the group
  uint64_t rows = 0, bytes = 0;
  bool ready = false;  // block and encoded are set (encoded stays nullptr if encoding failed)
  types::Block block;
  std::shared_ptr<const clickhouse::EncodedInsert> encoded;
};

// How a destination is delivered to: worked out by the sender without mu_ on a copy, then
// stored back whole.
struct Routing {
  bool mechanism_known = false;
  Mechanism mechanism = Mechanism::kBlockNumber;
  std::string engine;
  // The one-writer claim (kBlockNumber): ok once checked, refreshed by heartbeats.
  bool claim_ok = false;
  std::string claim_error;
  int64_t claim_checked_micros = 0;  // monotonic
  // Stage tables left behind (a CREATE that arrived after its fence) were dropped.
  bool stages_cleaned = false;
};

struct DestState {
  std::string database, table;
  std::string cluster;      // sharded over this cluster's shards; "" for the --clickhouse server
  uint64_t next_shard = 0;  // round robin over the shards, per batch
  Routing routing;
  int64_t retry_at_micros = 0;  // monotonic
  uint32_t delay_ms = 0;
  std::string last_error;
  std::optional<InFlight> inflight;
  std::shared_ptr<Prepared> next;  // the next batch, being encoded or ready (nullptr: none)
  uint64_t dead_letters = 0;
};

class DeliveryStoreImpl final : public DeliveryStore {
 public:
  explicit DeliveryStoreImpl(DeliveryOptions options)
      : options_(std::move(options)),
        env_(options_.env != nullptr ? options_.env : env::Env::Posix()),
        clock_(Clock::Real()),
        query_client_(options_.clickhouse),
        send_client_(options_.clickhouse),
        rng_(std::random_device{}()) {
    caps_ptr_.store(&unknown_caps_);
  }

  ~DeliveryStoreImpl() override { (void)Stop(); }

  Status Open();

  Status Start() override {
    std::lock_guard lock(mu_);
    if (started_) return Status::OK();
    started_ = true;
    accepting_ = true;
    sender_ = std::thread([this] { SenderLoop(); });
    preparer_ = std::thread([this] { PreparerLoop(); });
    return Status::OK();
  }

  Status Stop() override {
    {
      std::lock_guard lock(mu_);
      if (stopped_) return Status::OK();
      stopped_ = true;
      accepting_ = false;
    }
    cv_.notify_all();
    delivered_cv_.notify_all();
    if (sender_.joinable()) sender_.join();
    if (preparer_.joinable()) preparer_.join();
    collectors_.clear();
    Status s;
    if (spool_) s = spool_->Close();
    if (journal_) {
      Status j = journal_->Close();
      if (s.ok()) s = j;
    }
    return s;
  }

  Status ExecuteDdl(const sql::Statement& stmt, std::string_view sql,
                    const std::string& current_database) override {
    clickhouse::DdlContext ctx;
    ctx.client = &query_client_;
    ctx.capabilities = &capabilities();
    ctx.cluster = options_.cluster;
    Status s = clickhouse::RunDdl(ctx, stmt, sql, current_database);
    ForgetSchemas();
    return s;
  }

  Result<std::vector<std::string>> ListDatabases() override {
    TH_ASSIGN_OR_RETURN(
        auto rows, QueryRows(query_client_, "SELECT name FROM system.databases ORDER BY name"));
    std::vector<std::string> out;
    for (auto& r : rows) out.push_back(std::move(r[0]));
    return out;
  }

  Result<std::vector<std::string>> ListTables(const std::string& database) override {
    TH_ASSIGN_OR_RETURN(
        auto rows, QueryRows(query_client_, "SELECT name FROM system.tables WHERE database = " +
                                                QuoteString(database) + " ORDER BY name"));
    if (rows.empty()) {
      TH_ASSIGN_OR_RETURN(
          auto dbs, QueryRows(query_client_, "SELECT name FROM system.databases WHERE name = " +
                                                 QuoteString(database)));
      if (dbs.empty()) {
        return Status::NotFound(fmt::format("Database {} doesn't exist", database),
                                ch::kUnknownDatabase);
      }
    }
    std::vector<std::string> out;
    for (auto& r : rows) out.push_back(std::move(r[0]));
    return out;
  }

  Result<storage::TableSchemaPtr> GetTable(const std::string& database,
                                           const std::string& table) override {
    TH_ASSIGN_OR_RETURN(TableInfoPtr info, Lookup(database, table, /*refresh=*/false));
    return info->schema;
  }

  Result<storage::InsertResult> Insert(const storage::TableSchema& schema,
                                       const types::Block& block) override {
    return InsertWait(schema, block, nullptr);
  }
  Result<storage::InsertResult> InsertIdempotent(
      const storage::TableSchema& schema, const types::Block& block,
      const storage::IdempotencyRecord& record) override {
    return InsertWait(schema, block, &record);
  }
  Status InsertAsync(const storage::TableSchema& schema, const types::Block& block,
                     const storage::IdempotencyRecord* record, InsertCallback done) override;

  Status WaitForDelivery(uint64_t lsn, int64_t timeout_ms) override {
    std::unique_lock lock(mu_);
    bool ok = delivered_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                                     [&] { return HandledUptoLocked() >= lsn || stopped_; });
    if (ok && HandledUptoLocked() >= lsn) {
      auto dead = dead_lsns_.find(lsn);
      if (dead == dead_lsns_.end()) return Status::OK();
      return Status::InvalidArgument(
          fmt::format("ClickHouse refused the rows of spool LSN {}; they are kept as a dead "
                      "letter ({}): {}",
                      lsn, dead->second.first, dead->second.second.message()),
          dead->second.second.clickhouse_code());
    }
    return Status::Timeout(
        fmt::format("rows up to spool LSN {} are not yet confirmed by ClickHouse after {} ms; "
                    "they stay accepted and will be delivered",
                    lsn, timeout_ms),
        ch::kTimeoutExceeded);
  }

  std::vector<storage::ReadinessCheck> CheckReadiness() override;

  std::optional<storage::IdempotencyRecord> FindIdempotencyKey(std::string_view key) override {
    return keys_->Find(key, clock_->NowMicros());
  }

  Result<std::vector<storage::PartInfo>> ListParts(const std::string& database,
                                                   const std::string& table) override {
    return Status::NotSupported(
        fmt::format("ListParts({}.{}): in ClickHouse mode the parts are ClickHouse's; ask it "
                    "(SELECT ... FROM system.parts passes through)",
                    database, table));
  }
  Result<std::unique_ptr<storage::ScanSource>> Scan(const std::string& database,
                                                    const std::string& table,
                                                    const storage::ScanRequest&) override {
    return Status::NotSupported(fmt::format(
        "Scan({}.{}): in ClickHouse mode queries pass through to ClickHouse; the store does not "
        "read rows",
        database, table));
  }

  // Sends every pending row now and waits until ClickHouse confirmed everything accepted so far.
  Status FlushAll() override {
    uint64_t upto = 0;
    {
      std::lock_guard lock(mu_);
      upto =
          std::max(registered_upto_, registered_beyond_.empty() ? 0 : *registered_beyond_.rbegin());
      flush_upto_ = std::max(flush_upto_, upto);
    }
    cv_.notify_all();
    return WaitForDelivery(upto, 2 * 60 * 1000);
  }

  DeliveryReport Report() override;
  // /ping, answered from a cache younger than kPingCacheMicros.
  Status PingCached();
  // The backlog, lag and dead-letter figures of a report (no request to ClickHouse).
  void FillBacklog(DeliveryReport* r);
  DeliveryReport Backlog() {
    DeliveryReport r;
    FillBacklog(&r);
    return r;
  }
  const clickhouse::Capabilities& capabilities() const override { return *caps_ptr_.load(); }
  const clickhouse::ClientOptions& clickhouse_options() const override {
    return options_.clickhouse;
  }

 private:
  Result<storage::InsertResult> InsertWait(const storage::TableSchema& schema,
                                           const types::Block& block,
                                           const storage::IdempotencyRecord* record) {
    std::promise<Result<storage::InsertResult>> promise;
    auto future = promise.get_future();
    TH_RETURN_IF_ERROR(InsertAsync(schema, block, record, [&](Result<storage::InsertResult> r) {
      promise.set_value(std::move(r));
    }));
    return future.get();
  }

  // Schemas.
  Result<TableInfoPtr> Lookup(const std::string& database, const std::string& table, bool refresh);
  Result<RemoteDefinition> FetchDefinition(const std::string& database, const std::string& table);
  TableInfoPtr BuildInfo(const RemoteDefinition& def);
  // Writes saved_definitions_ to DATA/schemas (temporary file, synced, renamed).
  void SaveSchemaCacheLocked();
  void ForgetSchemas() {
    std::lock_guard lock(schema_mu_);
    schemas_.clear();
    std::lock_guard l2(mu_);
    for (auto& [k, d] : dests_) d.routing.mechanism_known = false;
  }

  // Splits `block` by the destination's partition expression.
  Result<std::vector<SpoolSlice>> Split(const TableInfo& info, const types::Block& block);

  // Registers a durable spool record's slices (insert callback and recovery). mu_ held.
  // Slices in skip_slices are already finished or owned by an open batch; `owned` of them are
  // the latter (they keep the record open).
  void RegisterLocked(uint64_t lsn, const SpoolRecord& record, uint64_t bytes,
                      const std::set<size_t>& skip_slices, uint32_t owned);
  // Every spool record up to the returned LSN is handled. mu_ held.
  uint64_t HandledUptoLocked() const {
    if (!records_.empty()) return std::min(records_.begin()->first - 1, registered_upto_);
    return registered_upto_;
  }
  // A slice of record `lsn` is finished; releases the record when it was its last one.
  void SliceDoneLocked(uint64_t lsn);

  // Connection and capabilities; false while ClickHouse cannot be reached.
  bool EnsureConnected();
  // `log_adaptations`: also one line per adaptation (when ClickHouse was first reached after the
  // start; at the start `serve` logs them itself).
  void SetCapabilities(clickhouse::Capabilities caps, bool log_adaptations) {
    std::lock_guard lock(caps_mu_);
    if (caps_) return;
    caps_ = std::make_unique<clickhouse::Capabilities>(std::move(caps));
    caps_ptr_.store(caps_.get());
    logging::Info("clickhouse_connected", {{"endpoint", options_.clickhouse.Endpoint()},
                                           {"version", caps_->version.ToString()}});
    if (!log_adaptations) return;
    for (const auto& a : caps_->Adaptations()) {
      logging::Info("clickhouse_adaptation", {{"adaptation", a}});
    }
  }
  bool connected() const { return caps_ptr_.load() != &unknown_caps_; }

  // Sender.
  void SenderLoop();
  // One round: resolves or sends at most one batch per table. Returns whether it did anything.
  bool SendRound();
  // Chooses and logs the mechanism of table `key`. Without mu_.
  Status ChooseMechanism(const TableKey& key, Routing* routing);
  // The one-writer claim for kBlockNumber tables. Without mu_.
  Status CheckClaim(const TableKey& key, Routing* routing);
  // <database of the URL>.trackhouse_writers, where nodes claim their tables; created when the
  // store first reaches ClickHouse.
  std::string WritersTable() const;
  Status CreateWritersTable();
  // Puts `slices` back at the front of their group (in order). mu_ held.
  void RequeueLocked(const GroupKey& group, const std::vector<Slice>& slices);
  // Journals and sends a new batch for dest made of `slices`. Without mu_; `dest` is the
  // sender's.
  // `prepared`: the batch's block and encoding, made ahead by the preparer (or nullptr).
  void SendNew(const TableKey& key, std::vector<Slice> slices, const std::string& partition,
               const std::string& layout, std::shared_ptr<Prepared> prepared);
  // Whether group `g` (not empty) holds a batch to send now: full, old enough, or flushed. mu_.
  bool BatchDueLocked(const Group& g, int64_t now) const;
  // Takes the group's next batch (its first slices, up to the batch limits) out of it. mu_.
  std::vector<Slice> TakeBatchLocked(Group& g, uint64_t* rows, uint64_t* bytes);
  // Preparer thread: while a table's batch is in flight, takes the table's next due batch out
  // of its group into DestState::next and encodes it, for SendRound to send once the table is
  // free.
  void PreparerLoop();
  // Sends dest's in-flight batch (after it was journaled) and finishes it when the outcome is
  // known.
  void SendInFlight(const TableKey& key);
  // Resolves dest's in-flight batch whose outcome is unknown.
  void Resolve(const TableKey& key);
  // Retries the DROP of stage tables whose drop failed after their batch was delivered.
  void DropLeftoverStages() {
    std::vector<std::pair<std::string, std::string>> stages;
    {
      std::lock_guard lock(mu_);
      stages.swap(stages_to_drop_);
    }
    for (auto& [shard, stage] : stages) {
      if (!CheckClient(shard).Query("DROP TABLE IF EXISTS " + stage).ok()) {
        std::lock_guard lock(mu_);
        stages_to_drop_.emplace_back(shard, stage);
      }
    }
  }
  // The block-number protocol's send: the batch into a stage table of its own, then its parts
  // into the table with ATTACH PARTITION ... FROM, then the stage dropped.
  // Drops the stage tables of table `key` (none of its batches is in flight).
  void DropStages(clickhouse::Client& client, const TableKey& key);
  void SendStaged(const TableKey& key, const BatchRecord& rec, const types::Block& block,
                  const clickhouse::EncodedInsert* encoded, clickhouse::RequestOptions req);
  void Finish(const TableKey& key, BatchOutcome outcome);
  void DeadLetterBatch(const TableKey& key, const Status& error);
  void Backoff(const TableKey& key, const Status& error);
  Result<int64_t> BlockMark(clickhouse::Client& client, const std::string& db,
                            const std::string& table);
  // The shards of `cluster` as HTTP addresses ("" for the --clickhouse server), first replica
  // of each, from system.clusters (cached). Sender only.
  Result<std::vector<std::string>> Shards(const std::string& cluster);
  // The client that sends batches to `shard`, and the one that asks it about them.
  clickhouse::Client& SendClient(const std::string& shard);
  clickhouse::Client& CheckClient(const std::string& shard);
  // Whether `block` (the rows of `rec`) still fits the table's current columns and types.
  Status CheckLayout(const BatchRecord& rec, const types::Block& block);
  Status AppendJournal(const JournalRecord& record);
  // Writes a checkpoint and trims journal and spool when due.
  void MaybeCheckpoint(bool force);

  const DeliveryOptions options_;
  env::Env* const env_;
  Clock* const clock_;
  std::string node_id_, node_tag_;
  clickhouse::Client query_client_;  // schemas, DDL, checks: any thread
  clickhouse::Client send_client_;   // inserts: the sender thread
  // Sender only: clients of other shards, by "host:port"; shard lists by cluster.
  std::map<std::string, std::unique_ptr<clickhouse::Client>> shard_clients_;
  std::map<std::string, std::vector<std::string>> shards_;
  // Stage tables (shard, quoted name) of delivered batches whose DROP failed; retried.
  std::vector<std::pair<std::string, std::string>> stages_to_drop_;

  std::mutex caps_mu_;
  const clickhouse::Capabilities unknown_caps_;
  std::unique_ptr<clickhouse::Capabilities> caps_;
  std::atomic<const clickhouse::Capabilities*> caps_ptr_{nullptr};

  std::mutex schema_mu_;
  std::map<TableKey, TableInfoPtr> schemas_;
  // Encoded RemoteDefinitions, as in DATA/schemas: the fallback while ClickHouse is unreachable.
  std::map<TableKey, std::string> saved_definitions_;
  std::string schema_cache_path_;

  std::unique_ptr<log::LogWriter> spool_;
  std::unique_ptr<log::LogWriter> journal_;
  std::unique_ptr<idempotency::IdempotencyIndex> keys_;

  std::mutex mu_;
  std::condition_variable cv_;            // wakes the sender
  std::condition_variable delivered_cv_;  // WaitForDelivery
  bool started_ = false, stopped_ = false, accepting_ = false;
  std::thread sender_;
  std::thread preparer_;  // encodes each busy table's next batch (PreparerLoop)
  uint64_t reserved_bytes_ = 0;  // undelivered spool bytes, including inserts being appended
  struct RecordState {
    uint32_t open_slices = 0;
    uint64_t bytes = 0, rows = 0;
    int64_t accepted_micros = 0;
  };
  std::map<uint64_t, RecordState> records_;  // undelivered spool records by LSN
  // Every spool LSN up to registered_upto_ is registered (in records_ or finished). Appends of
  // different write groups may finish (run their callbacks) out of order; the LSNs registered
  // beyond a gap wait in registered_beyond_. Nothing beyond registered_upto_ counts as handled,
  // so a checkpoint never skips a record whose callback has not run yet.
  uint64_t registered_upto_ = 0;
  std::set<uint64_t> registered_beyond_;
  uint64_t flush_upto_ = 0;
  std::map<GroupKey, Group> groups_;
  std::map<TableKey, DestState> dests_;
  // Journaled batches naming a spool LSN above the last checkpoint's spool_handled_upto.
  std::map<uint64_t, std::pair<BatchRecord, std::optional<BatchOutcome>>> batches_;
  uint64_t next_batch_id_ = 1;
  uint64_t journal_since_checkpoint_ = 0;
  uint64_t checkpointed_upto_ = 0;
  std::map<TableKey, uint64_t> dead_letter_counts_;  // from DATA/deadletter
  // Spool LSNs of dead-lettered rows since the start: dead-letter file name and the refusal.
  static constexpr size_t kMaxDeadLsns = 100000;
  std::map<uint64_t, std::pair<std::string, Status>> dead_lsns_;
  // Cached reachability for /ready.
  int64_t ping_checked_micros_ = 0;
  Status ping_status_ = Status::Unavailable("not checked yet");
  std::mt19937_64 rng_;  // sender only
  std::vector<metrics::CollectorHandle> collectors_;
};

// The definitions of the table, of where its rows go, and the shard weights, as ClickHouse
// has them now.
Result<RemoteDefinition> DeliveryStoreImpl::FetchDefinition(const std::string& database,
                                                            const std::string& table) {
  RemoteDefinition def;
  TH_ASSIGN_OR_RETURN(def.table, clickhouse::FetchTableSchema(query_client_, database, table));
  const clickhouse::EngineInfo& engine = def.table.engine;
  const bool sharded = engine.distributed && !options_.cluster.empty();
  if (engine.buffer || sharded) {
    const std::string& db = sharded ? engine.remote_database : engine.buffer_database;
    auto dest = clickhouse::FetchTableSchema(query_client_, db.empty() ? database : db,
                                             sharded ? engine.remote_table : engine.buffer_table);
    if (!dest.ok()) {
      return dest.status().WithContext(fmt::format("the {} of {} table {}",
                                                   sharded ? "local table" : "destination",
                                                   engine.name, QualifiedName(database, table)));
    }
    def.dest = std::move(dest).value();
  }
  if (sharded) {
    TH_ASSIGN_OR_RETURN(auto rows, QueryRows(query_client_,
                                             "SELECT shard_weight FROM system.clusters WHERE "
                                             "cluster = " +
                                                 QuoteString(engine.cluster) +
                                                 " AND replica_num = 1 ORDER BY shard_num"));
    for (const auto& r : rows) def.shard_weights.push_back(std::stoull(r.at(0)));
  }
  return def;
}

TableInfoPtr DeliveryStoreImpl::BuildInfo(const RemoteDefinition& def) {
  const clickhouse::RemoteTable& remote = def.table;
  auto info = std::make_shared<TableInfo>();
  info->schema = std::make_shared<const storage::TableSchema>(remote.schema);
  info->engine = remote.engine;
  info->dest_database = remote.schema.database;
  info->dest_table = remote.schema.name;
  info->dest_engine = remote.engine;
  std::vector<storage::ColumnDef> dest_columns = remote.schema.columns;
  const bool sharded = remote.engine.distributed && !options_.cluster.empty();
  if (def.dest) {
    // Rows for a Buffer go straight to its destination: a Buffer loses them if ClickHouse dies.
    // Rows for a Distributed table go straight to one shard's local table per batch: the
    // Distributed table would forward them later, from its own queue.
    info->dest_database = def.dest->schema.database;
    info->dest_table = def.dest->schema.name;
    if (sharded) info->dest_cluster = remote.engine.cluster;
    info->dest_engine = def.dest->engine;
    dest_columns = def.dest->schema.columns;
  }
  if (sharded) {
    std::string key = remote.engine.sharding_key;
    if (key.size() > 2 && key.front() == '`' && key.back() == '`')
      key = key.substr(1, key.size() - 2);
    const storage::ColumnDef* col = nullptr;
    for (const auto& c : dest_columns) {
      if (c.name == key) col = &c;
    }
    if (col != nullptr && col->type->is_integer() && !col->type->is_signed()) {
      for (size_t shard = 0; shard < def.shard_weights.size(); ++shard) {
        for (uint64_t w = 0; w < def.shard_weights[shard]; ++w) {
          info->shard_of_slot.push_back(static_cast<uint32_t>(shard));
        }
      }
      if (!info->shard_of_slot.empty()) info->shard_column = key;
    }
  }
  if (!info->dest_engine.partition_key.empty()) {
    std::vector<eval::InputColumn> inputs;
    for (const auto& c : dest_columns) inputs.push_back({c.name, c.type});
    auto expr = sql::ParseExpression(info->dest_engine.partition_key);
    Result<std::unique_ptr<eval::CompiledExpr>> compiled =
        expr.ok() ? eval::Compile(**expr, inputs)
                  : Result<std::unique_ptr<eval::CompiledExpr>>(expr.status());
    if (compiled.ok()) {
      info->partition_expr = std::move(compiled).value();
    } else {
      logging::Warn("delivery_partition_key_unsupported",
                    {{"table", QualifiedName(info->dest_database, info->dest_table)},
                     {"partition_key", info->dest_engine.partition_key},
                     {"error", compiled.status().message()}});
    }
  }
  return info;
}

Result<TableInfoPtr> DeliveryStoreImpl::Lookup(const std::string& database,
                                               const std::string& table, bool refresh) {
  TableKey key(database, table);
  if (!refresh) {
    std::lock_guard lock(schema_mu_);
    auto it = schemas_.find(key);
    if (it != schemas_.end()) return it->second;
  }
  auto def = FetchDefinition(database, table);
  std::lock_guard lock(schema_mu_);
  if (!def.ok()) {
    auto saved = saved_definitions_.find(key);
    if (!RetryForDelivery(def.status()) || saved == saved_definitions_.end()) {
      return def.status();
    }
    // ClickHouse cannot be asked: the definition it last gave (DATA/schemas) takes the rows.
    auto decoded = DecodeRemoteDefinition(saved->second, schema_cache_path_);
    if (!decoded.ok()) return def.status();
    auto it = schemas_.find(key);
    if (it != schemas_.end()) return it->second;
    logging::Warn("delivery_schema_from_cache",
                  {{"table", QualifiedName(database, table)}, {"error", def.status().ToString()}});
    TableInfoPtr info = BuildInfo(*decoded);
    schemas_[key] = info;
    return info;
  }
  TableInfoPtr info = BuildInfo(*def);
  schemas_[key] = info;
  std::string encoded;
  EncodeRemoteDefinition(*def, &encoded);
  std::string& saved = saved_definitions_[key];
  if (saved != encoded) {
    saved = std::move(encoded);
    SaveSchemaCacheLocked();
  }
  return info;
}

void DeliveryStoreImpl::SaveSchemaCacheLocked() {
  std::vector<std::string> entries;
  for (const auto& [k, e] : saved_definitions_) entries.push_back(e);
  const std::string tmp = schema_cache_path_ + ".tmp";
  Status s = env_->WriteStringToFileSync(tmp, EncodeSchemaFile(entries));
  if (s.ok()) s = env_->RenameFile(tmp, schema_cache_path_);
  if (!s.ok()) logging::Warn("delivery_schema_cache_write_failed", {{"error", s.ToString()}});
}

Result<std::vector<SpoolSlice>> DeliveryStoreImpl::Split(const TableInfo& info,
                                                         const types::Block& block) {
  std::vector<SpoolSlice> out;
  types::ColumnPtr partition, shard_key;
  if (info.partition_expr) {
    eval::EvalContext ctx;
    ctx.now_micros = clock_->NowMicros();
    auto col = info.partition_expr->Evaluate(block, ctx);
    if (!col.ok()) {
      return col.status().WithContext(
          fmt::format("computing the partition ({}) of rows for {}", info.dest_engine.partition_key,
                      QualifiedName(info.dest_database, info.dest_table)));
    }
    partition = std::move(col).value();
  }
  if (!info.shard_column.empty()) {
    const types::NamedColumn* c = block.Get(info.shard_column);
    if (c != nullptr) shard_key = c->column;
  }
  if (!partition && !shard_key) {
    out.push_back({"", block});
    return out;
  }
  std::map<std::string, types::Permutation> rows;
  std::string label;
  for (size_t i = 0; i < block.rows(); ++i) {
    // Values repeat in long runs: format only when the row differs from the previous one.
    const bool same = i > 0 && (!partition || partition->CompareAt(i, *partition, i - 1) == 0) &&
                      (!shard_key || shard_key->CompareAt(i, *shard_key, i - 1) == 0);
    if (!same) {
      label = partition ? partition->GetValue(i).ToString() : "";
      if (shard_key) {
        const uint64_t slot = shard_key->GetValue(i).AsUInt() % info.shard_of_slot.size();
        label += kShardSeparator + std::to_string(info.shard_of_slot[slot]);
      }
    }
    rows[label].push_back(static_cast<uint32_t>(i));
  }
  if (rows.size() <= 1) {
    out.push_back({rows.empty() ? "" : rows.begin()->first, block});
    return out;
  }
  for (auto& [id, perm] : rows) out.push_back({id, block.Permute(perm)});
  return out;
}

bool SameColumns(const storage::TableSchema& a, const storage::TableSchema& b) {
  if (a.columns.size() != b.columns.size()) return false;
  for (size_t i = 0; i < a.columns.size(); ++i) {
    if (a.columns[i].name != b.columns[i].name ||
        a.columns[i].type->name() != b.columns[i].type->name()) {
      return false;
    }
  }
  return true;
}

Status DeliveryStoreImpl::InsertAsync(const storage::TableSchema& schema, const types::Block& block,
                                      const storage::IdempotencyRecord* record,
                                      InsertCallback done) {
  {
    std::lock_guard lock(mu_);
    if (!accepting_) return Status::Unavailable("the ClickHouse-mode store is not running");
  }
  TH_ASSIGN_OR_RETURN(TableInfoPtr info, Lookup(schema.database, schema.name, false));
  if (!SameColumns(*info->schema, schema)) {
    TH_ASSIGN_OR_RETURN(info, Lookup(schema.database, schema.name, true));
    if (!SameColumns(*info->schema, schema)) {
      return Status::Aborted(
          fmt::format("table {} changed in ClickHouse while the insert was "
                      "prepared; retry it",
                      QualifiedName(schema.database, schema.name)));
    }
  }
  if (record != nullptr && keys_->Find(record->key, clock_->NowMicros())) {
    return Status::AlreadyExists(
        fmt::format("Idempotency-Key '{}' is already stored", record->key));
  }
  SpoolRecord rec;
  rec.database = info->dest_database;
  rec.table = info->dest_table;
  rec.cluster = info->dest_cluster;
  rec.accepted_micros = clock_->NowMicros();
  if (record != nullptr) rec.key = *record;
  TH_ASSIGN_OR_RETURN(rec.slices, Split(*info, block));
  std::string payload;
  EncodeSpoolRecord(rec, &payload);
  const uint64_t bytes = payload.size();
  TH_RETURN_IF_ERROR(spool_->health());
  {
    std::lock_guard lock(mu_);
    if (reserved_bytes_ + bytes > options_.spool_max_bytes && reserved_bytes_ > 0) {
      Refused().Add();
      return Status::ResourceExhausted(
          fmt::format("the spool holds {} undelivered bytes (limit spool_max_bytes {}): "
                      "ClickHouse is not keeping up or not reachable",
                      reserved_bytes_, options_.spool_max_bytes),
          ch::kMemoryLimitExceeded);
    }
    reserved_bytes_ += bytes;
  }
  auto shared = std::make_shared<SpoolRecord>(std::move(rec));
  const uint64_t rows = block.rows();
  spool_->AppendAsync(std::move(payload),
                      [this, shared, bytes, rows, done = std::move(done)](Result<uint64_t> lsn) {
                        if (!lsn.ok()) {
                          {
                            std::lock_guard lock(mu_);
                            reserved_bytes_ -= bytes;
                          }
                          Refused().Add();
                          done(lsn.status());
                          return;
                        }
                        if (shared->key) keys_->Add(*shared->key, clock_->NowMicros());
                        {
                          std::lock_guard lock(mu_);
                          RegisterLocked(*lsn, *shared, bytes, {}, 0);
                        }
                        cv_.notify_all();
                        done(storage::InsertResult{rows, *lsn});
                      });
  return Status::OK();
}

void DeliveryStoreImpl::RegisterLocked(uint64_t lsn, const SpoolRecord& record, uint64_t bytes,
                                       const std::set<size_t>& skip_slices, uint32_t owned) {
  if (lsn == registered_upto_ + 1) {
    registered_upto_ = lsn;
    while (!registered_beyond_.empty() && *registered_beyond_.begin() == registered_upto_ + 1) {
      registered_upto_ = *registered_beyond_.begin();
      registered_beyond_.erase(registered_beyond_.begin());
    }
  } else if (lsn > registered_upto_) {
    registered_beyond_.insert(lsn);
  }
  RecordState st;
  st.open_slices = owned;
  st.bytes = bytes;
  st.accepted_micros = record.accepted_micros;
  const size_t n = record.slices.size();
  for (size_t i = 0; i < n; ++i) {
    if (skip_slices.count(i)) continue;
    const auto& s = record.slices[i];
    Slice slice;
    slice.lsn = lsn;
    slice.accepted_micros = record.accepted_micros;
    slice.bytes = bytes / n;
    slice.block = std::make_shared<const types::Block>(s.block);
    auto& g = groups_[GroupKey(record.database, record.table, s.partition, BlockLayout(s.block))];
    g.rows += s.block.rows();
    g.bytes += slice.bytes;
    g.slices.push_back(std::move(slice));
    ++st.open_slices;
    st.rows += s.block.rows();
  }
  if (st.open_slices == 0) {
    reserved_bytes_ -= std::min(reserved_bytes_, bytes);
    return;
  }
  records_[lsn] = st;
  auto& d = dests_[TableKey(record.database, record.table)];
  d.database = record.database;
  d.table = record.table;
  d.cluster = record.cluster;
}

void DeliveryStoreImpl::RequeueLocked(const GroupKey& group, const std::vector<Slice>& slices) {
  auto& g = groups_[group];
  for (auto it = slices.rbegin(); it != slices.rend(); ++it) {
    g.rows += it->block->rows();
    g.bytes += it->bytes;
    g.slices.push_front(*it);
  }
}

void DeliveryStoreImpl::SliceDoneLocked(uint64_t lsn) {
  auto it = records_.find(lsn);
  if (it == records_.end()) return;
  if (--it->second.open_slices == 0) {
    reserved_bytes_ -= std::min(reserved_bytes_, it->second.bytes);
    records_.erase(it);
  }
}

bool DeliveryStoreImpl::EnsureConnected() {
  if (connected()) return true;
  auto caps = clickhouse::DetectCapabilities(query_client_);
  if (!caps.ok()) return false;
  SetCapabilities(*caps, /*log_adaptations=*/true);
  (void)CreateWritersTable();  // CheckClaim tries again
  return true;
}

Status DeliveryStoreImpl::ChooseMechanism(const TableKey& key, Routing* routing) {
  TH_ASSIGN_OR_RETURN(TableInfoPtr info, Lookup(key.first, key.second, true));
  const auto& engine = info->engine;
  const auto& caps = capabilities();
  std::string reason;
  Mechanism m = Mechanism::kBlockNumber;
  const bool has_window =
      engine.full.find("non_replicated_deduplication_window") != std::string::npos &&
      engine.full.find("non_replicated_deduplication_window = 0") == std::string::npos;
  if (caps.insert_deduplication_token && engine.replicated) {
    m = Mechanism::kDeduplicationToken;
    reason = "the server has insert_deduplication_token and the table is replicated";
  } else if (caps.insert_deduplication_token && IsMergeTreeFamily(engine.name) && has_window) {
    m = Mechanism::kDeduplicationToken;
    reason =
        "the server has insert_deduplication_token and the table sets "
        "non_replicated_deduplication_window";
  } else if (caps.insert_deduplication_token && caps.non_replicated_deduplication_window &&
             IsMergeTreeFamily(engine.name) && options_.set_deduplication_window) {
    Status s =
        query_client_
            .Query("ALTER TABLE " + QuoteIdentifier(key.first) + "." + QuoteIdentifier(key.second) +
                   " MODIFY SETTING non_replicated_deduplication_window = 1000")
            .status();
    if (s.ok()) {
      m = Mechanism::kDeduplicationToken;
      reason =
          "set non_replicated_deduplication_window = 1000 on the table (allowed by "
          "set_deduplication_window)";
    } else {
      reason = "setting non_replicated_deduplication_window failed (" + s.message() +
               "); falling back to block numbers";
    }
  } else if (engine.replicated) {
    m = Mechanism::kBlockHash;
    reason = "replicated table: ClickHouse drops a resent byte-identical block";
  } else if (IsMergeTreeFamily(engine.name)) {
    reason = caps.insert_deduplication_token
                 ? "plain MergeTree without non_replicated_deduplication_window"
                 : "the server has no insert_deduplication_token (before 22.2)";
  } else {
    m = Mechanism::kAtLeastOnce;
    reason = "engine " + engine.name +
             " has no parts or block numbers: a batch with an unknown outcome is resent, so "
             "delivery is at-least-once";
  }
  routing->mechanism = m;
  routing->mechanism_known = true;
  routing->engine = engine.name;
  logging::Info("delivery_mechanism", {{"table", QualifiedName(key.first, key.second)},
                                       {"engine", engine.name},
                                       {"mechanism", MechanismName(m)},
                                       {"reason", reason}});
  if (m == Mechanism::kBlockNumber) {
    logging::Info("delivery_single_writer",
                  {{"table", QualifiedName(key.first, key.second)},
                   {"node", node_id_},
                   {"detail",
                    "exactly-once by block numbers needs this trackhouse to be the "
                    "table's only writer; claimed in trackhouse_writers"}});
  }
  return Status::OK();
}

Status DeliveryStoreImpl::CheckClaim(const TableKey& key, Routing* routing) {
  const int64_t now = clock_->MonotonicMicros();
  if (routing->claim_checked_micros != 0 &&
      now - routing->claim_checked_micros < kHeartbeatMicros) {
    return routing->claim_ok ? Status::OK() : Status::Unavailable(routing->claim_error);
  }
  const std::string writers = WritersTable();
  Status s = CreateWritersTable();
  if (!s.ok()) return s;
  auto rows = QueryRows(query_client_, "SELECT node, toString(max(heartbeat)) FROM " + writers +
                                           " WHERE database = " + QuoteString(key.first) +
                                           " AND table = " + QuoteString(key.second) +
                                           " AND node != " + QuoteString(node_id_) +
                                           " GROUP BY node HAVING max(heartbeat) > now() - " +
                                           std::to_string(kClaimStaleSeconds));
  if (!rows.ok()) return rows.status();
  routing->claim_checked_micros = now;
  if (!rows->empty()) {
    routing->claim_ok = false;
    routing->claim_error = fmt::format(
        "table {} is claimed by another trackhouse node '{}' (heartbeat {} UTC in {}): "
        "block-number "
        "delivery needs one writer per table; not delivering to it",
        QualifiedName(key.first, key.second), (*rows)[0][0],
        (*rows)[0].size() > 1 ? (*rows)[0][1] : "", writers);
    logging::Error("delivery_writer_conflict", {{"detail", routing->claim_error}});
    return Status::Unavailable(routing->claim_error);
  }
  s = query_client_
          .Query("INSERT INTO " + writers + " VALUES (" + QuoteString(key.first) + ", " +
                 QuoteString(key.second) + ", " + QuoteString(node_id_) + ", now())")
          .status();
  if (!s.ok()) return s;
  routing->claim_ok = true;
  routing->claim_error.clear();
  return Status::OK();
}

std::string DeliveryStoreImpl::WritersTable() const {
  return QuoteIdentifier(options_.clickhouse.database) + ".trackhouse_writers";
}

Status DeliveryStoreImpl::CreateWritersTable() {
  return query_client_
      .Query("CREATE TABLE IF NOT EXISTS " + WritersTable() +
             " (database String, table String, node String, heartbeat DateTime) "
             "ENGINE = ReplacingMergeTree(heartbeat) ORDER BY (database, table, node)")
      .status();
}

Result<std::vector<std::string>> DeliveryStoreImpl::Shards(const std::string& cluster) {
  auto it = shards_.find(cluster);
  if (it != shards_.end()) return it->second;
  TH_ASSIGN_OR_RETURN(
      auto rows, QueryRows(query_client_,
                           "SELECT host_name, host_address, port, is_local "
                           "FROM system.clusters WHERE cluster = " +
                               QuoteString(cluster) + " AND replica_num = 1 ORDER BY shard_num"));
  if (rows.empty()) {
    return Status::NotFound(
        fmt::format("ClickHouse knows no cluster '{}' (system.clusters)", cluster));
  }
  std::vector<std::string> out;
  for (const auto& r : rows) {
    if (r.size() < 4) return Status::Internal("system.clusters gave a short row");
    if (r[3] == "1") {
      out.push_back("");
      continue;
    }
    auto named = options_.shard_http_addresses.find(r[0] + ":" + r[2]);
    if (named == options_.shard_http_addresses.end()) {
      named = options_.shard_http_addresses.find(r[1] + ":" + r[2]);
    }
    out.push_back(named != options_.shard_http_addresses.end()
                      ? named->second
                      : r[1] + ":" + std::to_string(options_.clickhouse.port));
  }
  logging::Info("delivery_cluster_shards",
                {{"cluster", cluster}, {"shards", static_cast<uint64_t>(out.size())}});
  shards_[cluster] = out;
  return out;
}

clickhouse::Client& DeliveryStoreImpl::SendClient(const std::string& shard) {
  return shard.empty() ? send_client_ : CheckClient(shard);
}

clickhouse::Client& DeliveryStoreImpl::CheckClient(const std::string& shard) {
  if (shard.empty()) return query_client_;
  auto& c = shard_clients_[shard];
  if (!c) {
    clickhouse::ClientOptions o = options_.clickhouse;
    const size_t colon = shard.rfind(':');
    o.host = shard.substr(0, colon);
    if (o.host.size() > 2 && o.host.front() == '[') o.host = o.host.substr(1, o.host.size() - 2);
    o.port = static_cast<uint16_t>(std::stoi(shard.substr(colon + 1)));
    c = std::make_unique<clickhouse::Client>(o);
  }
  return *c;
}

Result<int64_t> DeliveryStoreImpl::BlockMark(clickhouse::Client& client, const std::string& db,
                                             const std::string& table) {
  TH_ASSIGN_OR_RETURN(auto rows,
                      QueryRows(client,
                                "SELECT count(), max(max_block_number) FROM "
                                "system.parts WHERE database = " +
                                    QuoteString(db) + " AND table = " + QuoteString(table)));
  if (rows.empty() || rows[0].size() < 2) {
    return Status::Internal("system.parts gave no answer for " + QualifiedName(db, table));
  }
  if (rows[0][0] == "0") return int64_t{-1};
  return static_cast<int64_t>(std::stoll(rows[0][1]));
}

Status DeliveryStoreImpl::AppendJournal(const JournalRecord& record) {
  std::string payload;
  EncodeJournalRecord(record, &payload);
  TH_ASSIGN_OR_RETURN(uint64_t lsn, journal_->Append(payload));
  (void)lsn;
  std::lock_guard lock(mu_);
  ++journal_since_checkpoint_;
  if (record.kind == JournalRecord::kBatch) {
    batches_[record.batch.id] = {record.batch, std::nullopt};
  } else if (record.kind == JournalRecord::kDone) {
    auto it = batches_.find(record.done_id);
    if (it != batches_.end()) it->second.second = record.outcome;
  }
  return Status::OK();
}

void DeliveryStoreImpl::MaybeCheckpoint(bool force) {
  JournalRecord cp;
  cp.kind = JournalRecord::kCheckpoint;
  {
    std::lock_guard lock(mu_);
    const uint64_t handled = HandledUptoLocked();
    if (!force && journal_since_checkpoint_ < kCheckpointEveryRecords) return;
    if (!force && handled == checkpointed_upto_ &&
        journal_since_checkpoint_ < 4 * kCheckpointEveryRecords)
      return;
    cp.spool_handled_upto = handled;
    cp.next_batch_id = next_batch_id_;
    std::erase_if(batches_, [&](const auto& b) {
      return b.second.first.lsns.empty() || b.second.first.lsns.back() <= handled;
    });
    for (const auto& [id, b] : batches_) cp.batches.push_back(b);
  }
  // Keys of the records about to be trimmed go to the snapshot first.
  Status s = keys_->Save(cp.spool_handled_upto, clock_->NowMicros());
  std::string payload;
  EncodeJournalRecord(cp, &payload);
  Result<uint64_t> lsn = s.ok() ? journal_->Append(payload) : Result<uint64_t>(s);
  if (!lsn.ok()) {
    logging::Warn("delivery_checkpoint_failed", {{"error", lsn.status().ToString()}});
    return;
  }
  {
    std::lock_guard lock(mu_);
    journal_since_checkpoint_ = 0;
    checkpointed_upto_ = cp.spool_handled_upto;
  }
  Status t = journal_->TrimUpTo(*lsn - 1);
  if (t.ok() && cp.spool_handled_upto > 0) t = spool_->TrimUpTo(cp.spool_handled_upto);
  if (!t.ok()) logging::Warn("delivery_trim_failed", {{"error", t.ToString()}});
}

void DeliveryStoreImpl::Backoff(const TableKey& key, const Status& error) {
  Retries().Add();
  std::lock_guard lock(mu_);
  auto& d = dests_[key];
  d.delay_ms = d.delay_ms == 0 ? options_.retry_min_ms
                               : std::min<uint32_t>(d.delay_ms * 2, options_.retry_max_ms);
  // Full jitter over the upper half: [delay/2, delay].
  std::uniform_int_distribution<uint32_t> jitter(d.delay_ms / 2, d.delay_ms);
  d.retry_at_micros = clock_->MonotonicMicros() + int64_t{jitter(rng_)} * 1000;
  if (d.last_error != error.ToString()) {
    logging::Warn("delivery_retry", {{"table", QualifiedName(key.first, key.second)},
                                     {"error", error.ToString()},
                                     {"delay_ms", d.delay_ms}});
  }
  d.last_error = error.ToString();
}

void DeliveryStoreImpl::Finish(const TableKey& key, BatchOutcome outcome) {
  InFlight f;
  {
    std::lock_guard lock(mu_);
    f = std::move(*dests_[key].inflight);
  }
  JournalRecord done;
  done.kind = JournalRecord::kDone;
  done.done_id = f.record.id;
  done.outcome = outcome;
  Status s = AppendJournal(done);
  if (!s.ok()) {
    // The outcome is known but not journaled: keep the batch; a restart resolves it again.
    std::lock_guard lock(mu_);
    dests_[key].inflight = std::move(f);
    if (outcome == BatchOutcome::kDelivered) dests_[key].inflight->sent_ok = true;
    logging::Error("delivery_journal_failed", {{"error", s.ToString()}});
    return;
  }
  {
    std::lock_guard lock(mu_);
    auto& d = dests_[key];
    d.inflight.reset();
    if (outcome != BatchOutcome::kSuperseded) {
      // A superseded batch failed somehow: its resend keeps the backoff.
      d.delay_ms = 0;
      d.retry_at_micros = 0;
      d.last_error.clear();
    }
    if (outcome != BatchOutcome::kSuperseded) {
      for (const auto& sl : f.slices) SliceDoneLocked(sl.lsn);
    }
    if (outcome == BatchOutcome::kSuperseded) {
      // The same rows go again, first in line.
      RequeueLocked(
          GroupKey(f.record.database, f.record.table, f.record.partition, f.record.layout),
          f.slices);
    }
  }
  if (outcome == BatchOutcome::kDelivered) {
    BatchesTotal().With({"delivered"}).Add();
    RowsDelivered().Add(static_cast<int64_t>(f.record.rows));
  } else if (outcome == BatchOutcome::kDeadLettered) {
    BatchesTotal().With({"dead_lettered"}).Add();
  }
  delivered_cv_.notify_all();
  MaybeCheckpoint(false);
}

void DeliveryStoreImpl::DeadLetterBatch(const TableKey& key, const Status& error) {
  DeadLetter letter;
  {
    std::lock_guard lock(mu_);
    const InFlight& f = *dests_[key].inflight;
    letter.database = f.record.database;
    letter.table = f.record.table;
    letter.partition = f.record.partition;
    letter.batch_id = f.record.id;
    letter.lsns = f.record.lsns;
    letter.block = f.block;
    letter.rows = f.block.rows();
  }
  letter.server_code = error.clickhouse_code();
  letter.server_message = error.message();
  letter.time_micros = clock_->NowMicros();
  Status s = WriteDeadLetter(env_, options_.data_dir + "/deadletter", letter).status();
  if (!s.ok()) {
    logging::Error("delivery_dead_letter_write_failed", {{"error", s.ToString()}});
    Backoff(key, s);
    return;
  }
  DeadLettersTotal().Add();
  logging::Error("delivery_dead_letter", {{"table", QualifiedName(key.first, key.second)},
                                          {"rows", letter.rows},
                                          {"error", error.ToString()}});
  {
    std::lock_guard lock(mu_);
    ++dests_[key].dead_letters;
    // WaitForDelivery tells a waiting request that its rows became a dead letter (for the most
    // recent kMaxDeadLsns records).
    for (uint64_t lsn : letter.lsns) dead_lsns_[lsn] = {DeadLetterFileName(letter), error};
    while (dead_lsns_.size() > kMaxDeadLsns) dead_lsns_.erase(dead_lsns_.begin());
  }
  Finish(key, BatchOutcome::kDeadLettered);
}

Status DeliveryStoreImpl::CheckLayout(const BatchRecord& rec, const types::Block& block) {
  TH_ASSIGN_OR_RETURN(TableInfoPtr info, Lookup(rec.database, rec.table, true));
  for (const auto& c : block.columns()) {
    const storage::ColumnDef* def = info->schema->FindColumn(c.name);
    if (def == nullptr) {
      return Status::InvalidArgument(
          fmt::format("No such column {} in table {} (the spooled rows have it; the table no "
                      "longer does)",
                      c.name, QualifiedName(rec.database, rec.table)),
          ch::kNoSuchColumnInTable);
    }
    if (def->type->name() != c.type->name()) {
      return Status::InvalidArgument(
          fmt::format("Type mismatch for column {} of table {}: the table has {}, the spooled "
                      "rows have {}",
                      c.name, QualifiedName(rec.database, rec.table), def->type->name(),
                      c.type->name()),
          ch::kTypeMismatch);
    }
  }
  return Status::OK();
}

void DeliveryStoreImpl::SendInFlight(const TableKey& key) {
  BatchRecord rec;
  const types::Block* block = nullptr;
  std::shared_ptr<const clickhouse::EncodedInsert> encoded;
  {
    std::lock_guard lock(mu_);
    rec = dests_[key].inflight->record;
    block = &dests_[key].inflight->block;  // only the sender changes it
    encoded = dests_[key].inflight->encoded;
  }
  clickhouse::RequestOptions req;
  req.settings = capabilities().RequiredSettings();
  // One block, so ClickHouse commits the batch as one part (one partition per batch).
  req.settings.emplace_back("max_insert_block_size",
                            std::to_string(std::max<uint64_t>(rec.rows, 1048576)));
  if (rec.mechanism == Mechanism::kDeduplicationToken) {
    req.settings.emplace_back("insert_deduplication_token", rec.token);
  }
  req.query_id = rec.query_id;
  // RowBinary carries no types: rows whose layout no longer matches the table would be misread,
  // so the table's current columns are checked first.
  Status valid = CheckLayout(rec, *block);
  if (!valid.ok()) {
    if (RetryForDelivery(valid)) return Backoff(key, valid);
    return DeadLetterBatch(key, valid);
  }
  if (FailPointHit("delivery_before_send")) ::raise(SIGKILL);
  if (options_.before_send) options_.before_send(rec.query_id);
  if (rec.mechanism == Mechanism::kBlockNumber) {
    return SendStaged(key, rec, *block, encoded.get(), req);
  }
  clickhouse::InsertTarget target;
  target.database = rec.database;
  target.table = rec.table;
  Status s = encoded ? SendClient(rec.shard).InsertEncoded(target, *encoded, req)
                     : SendClient(rec.shard).InsertBlock(target, *block, req);
  if (FailPointHit("delivery_after_send")) ::raise(SIGKILL);
  if (s.ok()) {
    Finish(key, BatchOutcome::kDelivered);
    return;
  }
  if (RetryForDelivery(s)) {
    {
      std::lock_guard lock(mu_);
      dests_[key].inflight->unknown = true;
    }
    Backoff(key, s);
    return;
  }
  DeadLetterBatch(key, s);
}

std::string StageTable(const BatchRecord& rec) {
  // Unique per batch (never reused), and recognizable in SHOW TABLES.
  std::string name = fmt::format("_trackhouse_stage_{}_{}", rec.id, rec.table);
  if (name.size() > 180) name.resize(180);
  return name;
}

void DeliveryStoreImpl::DropStages(clickhouse::Client& client, const TableKey& key) {
  auto rows = QueryRows(client, "SELECT name FROM system.tables WHERE database = " +
                                    QuoteString(key.first) + " AND name LIKE '%trackhouse%stage%'");
  if (!rows.ok()) return;
  const std::string prefix = "_trackhouse_stage_", suffix = "_" + key.second;
  for (const auto& r : *rows) {
    const std::string& name = r.at(0);
    if (name.size() <= prefix.size() + suffix.size() ||
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
      continue;
    }
    const std::string id = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
    if (id.find_first_not_of("0123456789") != std::string::npos) continue;
    Status s = client
                   .Query("DROP TABLE IF EXISTS " + QuoteIdentifier(key.first) + "." +
                          QuoteIdentifier(name))
                   .status();
    logging::Info("delivery_stage_left_over",
                  {{"table", QualifiedName(key.first, name)}, {"dropped", s.ok()}});
  }
}

void DeliveryStoreImpl::SendStaged(const TableKey& key, const BatchRecord& rec,
                                   const types::Block& block,
                                   const clickhouse::EncodedInsert* encoded,
                                   clickhouse::RequestOptions req) {
  clickhouse::Client& client = SendClient(rec.shard);
  const std::string table = QuoteIdentifier(rec.database) + "." + QuoteIdentifier(rec.table);
  const std::string stage_name = StageTable(rec);
  const std::string stage = QuoteIdentifier(rec.database) + "." + QuoteIdentifier(stage_name);
  clickhouse::RequestOptions ddl;
  ddl.settings = capabilities().RequiredSettings();
  // Any failure from here on leaves the batch's fate to Resolve, which fences the stage first.
  auto unknown = [&](const Status& error) {
    {
      std::lock_guard lock(mu_);
      dests_[key].inflight->unknown = true;
    }
    Backoff(key, error);
  };
  auto invalid = [&](const Status& error) {
    (void)client.Query("DROP TABLE IF EXISTS " + stage, ddl);
    DeadLetterBatch(key, error);
  };
  // 1. A stage table of the table's structure and partitioning, used for this batch only.
  Status s = client.Query("CREATE TABLE " + stage + " AS " + table, ddl).status();
  if (s.code() == StatusCode::kAlreadyExists) {
    s = client.Query("DROP TABLE " + stage, ddl).status();
    if (s.ok()) s = client.Query("CREATE TABLE " + stage + " AS " + table, ddl).status();
  }
  // Only a table that is gone makes the batch invalid here; anything else (rights to create
  // tables, a full disk) is the server's state and is retried.
  if (!s.ok()) return s.code() == StatusCode::kNotFound ? invalid(s) : unknown(s);
  // 2. The rows into the stage: one block, one part.
  clickhouse::InsertTarget target;
  target.database = rec.database;
  target.table = stage_name;
  s = encoded != nullptr ? client.InsertEncoded(target, *encoded, req)
                         : client.InsertBlock(target, block, req);
  if (!s.ok()) return RetryForDelivery(s) ? unknown(s) : invalid(s);
  if (FailPointHit("delivery_after_stage")) ::raise(SIGKILL);
  // 3. The stage's parts into the table: ATTACH PARTITION ... FROM gives them new block numbers
  // of the table, all at once per partition.
  auto partitions =
      QueryRows(client,
                "SELECT DISTINCT partition_id FROM system.parts WHERE "
                "database = " +
                    QuoteString(rec.database) + " AND table = " + QuoteString(stage_name) +
                    " AND active ORDER BY partition_id");
  if (!partitions.ok()) return unknown(partitions.status());
  for (const auto& p : *partitions) {
    s = client
            .Query("ALTER TABLE " + table + " ATTACH PARTITION ID " + QuoteString(p.at(0)) +
                       " FROM " + stage,
                   ddl)
            .status();
    if (!s.ok()) {
      // The rows were fine (the stage took them): whatever failed (the table changed since the
      // stage was made, rights, a partition already in), the fence and the block numbers tell
      // what arrived, and a resend checks the rows against the table again.
      return unknown(s);
    }
  }
  if (FailPointHit("delivery_after_send")) ::raise(SIGKILL);
  // 4. The stage goes; its rows are the table's now.
  s = client.Query("DROP TABLE IF EXISTS " + stage, ddl).status();
  if (!s.ok()) {
    logging::Warn("delivery_stage_drop_failed", {{"table", stage_name}, {"error", s.ToString()}});
    std::lock_guard lock(mu_);
    stages_to_drop_.emplace_back(rec.shard, stage);
  }
  Finish(key, BatchOutcome::kDelivered);
}

void DeliveryStoreImpl::Resolve(const TableKey& key) {
  BatchRecord rec;
  {
    std::lock_guard lock(mu_);
    auto& f = *dests_[key].inflight;
    if (f.sent_ok) {
      rec.id = 0;
    } else {
      rec = f.record;
    }
  }
  if (rec.id == 0) {
    Finish(key, BatchOutcome::kDelivered);
    return;
  }
  if (rec.mechanism != Mechanism::kBlockNumber) {
    // The token, or the identical bytes, make ClickHouse drop a copy it already has (at least
    // once: nothing does).
    UnknownOutcomes().With({"resent"}).Add();
    logging::Info(
        "delivery_unknown_outcome",
        {{"table", QualifiedName(key.first, key.second)},
         {"batch", rec.id},
         {"resolution", rec.mechanism == Mechanism::kAtLeastOnce ? "resent (at least once)"
                                                                 : "resent (deduplicated)"}});
    {
      std::lock_guard lock(mu_);
      dests_[key].inflight->unknown = false;
    }
    SendInFlight(key);
    return;
  }
  // Block numbers. First the fence: dropping the batch's stage table waits for a running
  // INSERT into it or ATTACH from it, and makes any such request still on its way fail.
  // Afterwards nothing of this batch can reach the table any more, and its parts tell.
  clickhouse::RequestOptions ddl;
  ddl.settings = capabilities().RequiredSettings();
  Status fence = CheckClient(rec.shard)
                     .Query("DROP TABLE IF EXISTS " + QuoteIdentifier(rec.database) + "." +
                                QuoteIdentifier(StageTable(rec)),
                            ddl)
                     .status();
  if (!fence.ok()) return Backoff(key, fence);
  auto mark = BlockMark(CheckClient(rec.shard), rec.database, rec.table);
  if (!mark.ok()) return Backoff(key, mark.status());
  if (*mark > rec.block_mark) {
    UnknownOutcomes().With({"delivered"}).Add();
    logging::Info("delivery_unknown_outcome",
                  {{"table", QualifiedName(key.first, key.second)},
                   {"batch", rec.id},
                   {"resolution", "delivered"},
                   {"detail", fmt::format("a part with block number {} > {} exists", *mark,
                                          rec.block_mark)}});
    Finish(key, BatchOutcome::kDelivered);
    return;
  }
  UnknownOutcomes().With({"resent"}).Add();
  logging::Info("delivery_unknown_outcome",
                {{"table", QualifiedName(key.first, key.second)},
                 {"batch", rec.id},
                 {"resolution", "not delivered; resent"},
                 {"detail", fmt::format("no part above block number {}", rec.block_mark)}});
  Finish(key, BatchOutcome::kSuperseded);
}

void DeliveryStoreImpl::SendNew(const TableKey& key, std::vector<Slice> slices,
                                const std::string& partition, const std::string& layout,
                                std::shared_ptr<Prepared> prepared) {
  Routing routing;
  std::string cluster;
  uint64_t shard_index = 0;
  {
    std::lock_guard lock(mu_);
    auto& d = dests_[key];
    routing = d.routing;
    cluster = d.cluster;
    shard_index = d.next_shard++;
  }
  auto store_routing = [&] {
    std::lock_guard lock(mu_);
    dests_[key].routing = routing;
  };
  auto give_back = [&](const Status& error) {
    {
      std::lock_guard lock(mu_);
      RequeueLocked(GroupKey(key.first, key.second, partition, layout), slices);
    }
    Backoff(key, error);
  };
  if (!routing.mechanism_known) {
    Status s = ChooseMechanism(key, &routing);
    if (!s.ok()) {
      // The table is gone or unreadable: the batch will tell (dead letter) unless unreachable.
      if (RetryForDelivery(s)) return give_back(s);
      routing.mechanism_known = true;
      routing.mechanism = Mechanism::kBlockNumber;
    }
  }
  std::string shard;
  if (!cluster.empty()) {
    auto shards = Shards(cluster);
    if (!shards.ok()) return give_back(shards.status());
    // A slice placed by the sharding column names its shard; others go to the shards in turn.
    const size_t sep = partition.rfind(kShardSeparator);
    if (sep != std::string::npos) shard_index = std::stoull(partition.substr(sep + 1));
    shard = (*shards)[shard_index % shards->size()];
  }
  int64_t mark = -1;
  if (routing.mechanism == Mechanism::kBlockNumber) {
    Status c = CheckClaim(key, &routing);
    store_routing();
    if (!c.ok()) return give_back(c);
    if (!routing.stages_cleaned) {
      // No batch of this table is in flight, so any stage table of it is left over.
      DropStages(CheckClient(shard), key);
      routing.stages_cleaned = true;
      store_routing();
    }
    auto m = BlockMark(CheckClient(shard), key.first, key.second);
    if (!m.ok()) return give_back(m.status());
    mark = *m;
  } else {
    store_routing();
  }
  InFlight f;
  f.record.database = key.first;
  f.record.table = key.second;
  f.record.partition = partition;
  f.record.layout = layout;
  f.record.mechanism = routing.mechanism;
  f.record.block_mark = mark;
  f.record.shard = shard;
  if (prepared) {
    f.block = std::move(prepared->block);
    f.encoded = std::move(prepared->encoded);
  } else {
    f.block = slices.front().block->CloneEmpty();
    for (const auto& s : slices) f.block.Append(*s.block);
  }
  for (const auto& s : slices) {
    f.record.lsns.push_back(s.lsn);
    f.bytes += s.bytes;
  }
  f.record.rows = f.block.rows();
  f.slices = std::move(slices);
  {
    std::lock_guard lock(mu_);
    f.record.id = next_batch_id_++;
  }
  f.record.query_id = fmt::format("trackhouse-{}-{}", node_tag_, f.record.id);
  if (f.record.mechanism == Mechanism::kDeduplicationToken) f.record.token = f.record.query_id;
  JournalRecord jr;
  jr.kind = JournalRecord::kBatch;
  jr.batch = f.record;
  Status s = AppendJournal(jr);
  if (!s.ok()) {
    slices = std::move(f.slices);
    logging::Error("delivery_journal_failed", {{"error", s.ToString()}});
    return give_back(s);
  }
  {
    std::lock_guard lock(mu_);
    dests_[key].inflight = std::move(f);
  }
  cv_.notify_all();  // the preparer may take the table's next batch now
  SendInFlight(key);
}

bool DeliveryStoreImpl::SendRound() {
  const int64_t now_mono = clock_->MonotonicMicros();
  const int64_t now = clock_->NowMicros();
  std::vector<TableKey> resolve, resend;
  struct Pick {
    TableKey table;
    GroupKey group;
    std::vector<Slice> slices;
    std::shared_ptr<Prepared> prepared;
  };
  std::vector<Pick> picks;
  {
    std::lock_guard lock(mu_);
    std::set<TableKey> busy;
    for (auto& [key, d] : dests_) {
      if (!d.inflight && d.next) {
        // The table's next batch was taken while its previous one was in flight: it goes
        // first, once encoded.
        busy.insert(key);
        if (!d.next->ready || d.retry_at_micros > now_mono) continue;
        Pick p{key, d.next->group, std::move(d.next->slices), std::move(d.next)};
        d.next.reset();
        picks.push_back(std::move(p));
        continue;
      }
      if (!d.inflight) continue;
      busy.insert(key);
      if (d.retry_at_micros > now_mono) continue;
      if (d.inflight->unknown || d.inflight->sent_ok) {
        resolve.push_back(key);
      } else {
        resend.push_back(key);
      }
    }
    for (auto& [gk, g] : groups_) {
      if (g.slices.empty()) continue;
      TableKey tk(std::get<0>(gk), std::get<1>(gk));
      if (busy.count(tk)) continue;
      const auto& d = dests_[tk];
      if (d.retry_at_micros > now_mono) continue;
      if (!BatchDueLocked(g, now)) continue;
      uint64_t rows = 0, bytes = 0;
      Pick p{tk, gk, TakeBatchLocked(g, &rows, &bytes), nullptr};
      busy.insert(tk);
      picks.push_back(std::move(p));
    }
  }
  for (const auto& key : resolve) Resolve(key);
  for (const auto& key : resend) SendInFlight(key);
  for (auto& p : picks) {
    SendNew(p.table, std::move(p.slices), std::get<2>(p.group), std::get<3>(p.group),
            std::move(p.prepared));
  }
  return !resolve.empty() || !resend.empty() || !picks.empty();
}

bool DeliveryStoreImpl::BatchDueLocked(const Group& g, int64_t now) const {
  const int64_t max_age = int64_t{options_.batch_max_age_ms} * 1000;
  const bool full = g.rows >= options_.batch_max_rows || g.bytes >= options_.batch_max_bytes;
  const bool old = now - g.slices.front().accepted_micros >= max_age;
  const bool flush = g.slices.front().lsn <= flush_upto_ || stopped_;
  return full || old || flush;
}

std::vector<Slice> DeliveryStoreImpl::TakeBatchLocked(Group& g, uint64_t* rows, uint64_t* bytes) {
  std::vector<Slice> out;
  *rows = 0;
  *bytes = 0;
  while (!g.slices.empty() &&
         (out.empty() || (*rows < options_.batch_max_rows && *bytes < options_.batch_max_bytes))) {
    Slice s = std::move(g.slices.front());
    g.slices.pop_front();
    *rows += s.block->rows();
    *bytes += s.bytes;
    out.push_back(std::move(s));
  }
  g.rows -= *rows;
  g.bytes -= *bytes;
  return out;
}

void DeliveryStoreImpl::PreparerLoop() {
  while (true) {
    std::shared_ptr<Prepared> p;
    {
      std::unique_lock lock(mu_);
      if (stopped_) break;
      const int64_t now = clock_->NowMicros();
      for (auto& [gk, g] : groups_) {
        if (g.slices.empty()) continue;
        auto d = dests_.find(TableKey(std::get<0>(gk), std::get<1>(gk)));
        // Only behind a batch in flight: a free table's batch is the sender's to take.
        if (d == dests_.end() || !d->second.inflight || d->second.next) continue;
        if (!BatchDueLocked(g, now)) continue;
        p = std::make_shared<Prepared>();
        p->group = gk;
        p->slices = TakeBatchLocked(g, &p->rows, &p->bytes);
        d->second.next = p;
        break;
      }
      if (!p) {
        cv_.wait_for(lock, std::chrono::milliseconds(10));
        continue;
      }
    }
    // The slices are the preparer's alone until `ready`; the sender leaves a table whose next
    // batch is not ready alone.
    types::Block block = p->slices.front().block->CloneEmpty();
    for (const auto& s : p->slices) block.Append(*s.block);
    auto encoded = clickhouse::EncodeInsertBlock(options_.clickhouse, block);
    if (!encoded.ok()) {
      logging::Warn("delivery_prepare_failed", {{"error", encoded.status().ToString()}});
    }
    {
      std::lock_guard lock(mu_);
      p->block = std::move(block);
      if (encoded.ok()) {
        p->encoded = std::make_shared<const clickhouse::EncodedInsert>(std::move(*encoded));
      }
      p->ready = true;
    }
    cv_.notify_all();
  }
}

void DeliveryStoreImpl::SenderLoop() {
  int64_t last_checkpoint = clock_->MonotonicMicros();
  while (true) {
    {
      std::lock_guard lock(mu_);
      if (stopped_) break;
    }
    bool did = false;
    if (EnsureConnected()) {
      did = SendRound();
      DropLeftoverStages();
    }
    if (clock_->MonotonicMicros() - last_checkpoint > 2 * 1000 * 1000) {
      MaybeCheckpoint(false);
      last_checkpoint = clock_->MonotonicMicros();
    }
    if (did) continue;
    std::unique_lock lock(mu_);
    if (stopped_) break;
    cv_.wait_for(lock, std::chrono::milliseconds(connected() ? 50 : options_.retry_min_ms * 5));
  }
  MaybeCheckpoint(true);
}

std::vector<storage::ReadinessCheck> DeliveryStoreImpl::CheckReadiness() {
  std::vector<storage::ReadinessCheck> out;
  const Status ping = PingCached();
  out.push_back({"clickhouse_reachable", ping.ok(),
                 ping.ok() ? options_.clickhouse.Endpoint() : ping.ToString()});
  Status health = spool_->health();
  out.push_back({"spool_writable", health.ok(), health.ok() ? "" : health.ToString()});
  DeliveryReport r;
  FillBacklog(&r);
  std::lock_guard lock(mu_);
  const bool room = reserved_bytes_ < options_.spool_max_bytes;
  out.push_back({"spool_budget", room,
                 fmt::format("{} undelivered rows, {} of {} bytes, lag {} ms", r.backlog_rows,
                             reserved_bytes_, options_.spool_max_bytes, r.lag_micros / 1000)});
  std::string conflicts;
  for (const auto& [k, d] : dests_) {
    if (!d.routing.claim_error.empty()) {
      conflicts += (conflicts.empty() ? "" : "; ") + d.routing.claim_error;
    }
  }
  out.push_back({"delivery_single_writer", conflicts.empty(), conflicts});
  return out;
}

Status DeliveryStoreImpl::PingCached() {
  const int64_t now = clock_->MonotonicMicros();
  {
    std::lock_guard lock(mu_);
    if (ping_checked_micros_ != 0 && now - ping_checked_micros_ < kPingCacheMicros) {
      return ping_status_;
    }
  }
  Status ping = query_client_.Ping();
  std::lock_guard lock(mu_);
  ping_status_ = ping;
  ping_checked_micros_ = now;
  return ping;
}

DeliveryReport DeliveryStoreImpl::Report() {
  DeliveryReport r;
  const Status ping = PingCached();
  r.reachable = ping.ok();
  if (!ping.ok()) r.reachability_error = ping.ToString();
  if (connected()) {
    r.server_version = capabilities().version.ToString();
    r.adaptations = capabilities().Adaptations();
  }
  FillBacklog(&r);
  return r;
}

void DeliveryStoreImpl::FillBacklog(DeliveryReport* out) {
  DeliveryReport& r = *out;
  const int64_t now = clock_->NowMicros();
  std::lock_guard lock(mu_);
  std::map<TableKey, TableDelivery> tables;
  for (const auto& [k, d] : dests_) {
    auto& t = tables[k];
    t.database = k.first;
    t.table = k.second;
    t.mechanism = d.routing.mechanism_known ? std::string(MechanismName(d.routing.mechanism)) : "";
    t.dead_letters = d.dead_letters;
  }
  for (const auto& [k, n] : dead_letter_counts_) {
    auto& t = tables[k];
    t.database = k.first;
    t.table = k.second;
    t.dead_letters += n;
  }
  // Per group and per batch in flight: sums kept as slices come and go, and the oldest slice
  // at the front (slices queue in LSN order), so a report costs no walk over the rows.
  auto count = [&](const TableKey& k, uint64_t rows, uint64_t bytes, int64_t oldest) {
    auto& t = tables[k];
    t.backlog_rows += rows;
    t.backlog_bytes += bytes;
    if (t.oldest_undelivered_micros == 0 || oldest < t.oldest_undelivered_micros) {
      t.oldest_undelivered_micros = oldest;
    }
  };
  for (const auto& [gk, g] : groups_) {
    if (g.slices.empty()) continue;
    count(TableKey(std::get<0>(gk), std::get<1>(gk)), g.rows, g.bytes,
          g.slices.front().accepted_micros);
  }
  for (const auto& [k, d] : dests_) {
    if (d.inflight && !d.inflight->slices.empty()) {
      count(k, d.inflight->record.rows, d.inflight->bytes,
            d.inflight->slices.front().accepted_micros);
    }
    if (d.next && !d.next->slices.empty()) {
      count(k, d.next->rows, d.next->bytes, d.next->slices.front().accepted_micros);
    }
  }
  int64_t oldest = 0;
  for (auto& [k, t] : tables) {
    r.backlog_rows += t.backlog_rows;
    r.backlog_bytes += t.backlog_bytes;
    r.dead_letters += t.dead_letters;
    if (t.oldest_undelivered_micros != 0 && (oldest == 0 || t.oldest_undelivered_micros < oldest)) {
      oldest = t.oldest_undelivered_micros;
    }
    r.tables.push_back(t);
  }
  r.lag_micros = oldest == 0 ? 0 : std::max<int64_t>(0, now - oldest);
}

Status DeliveryStoreImpl::Open() {
  if (options_.data_dir.empty())
    return Status::InvalidArgument("DeliveryOptions.data_dir is empty");
  const std::string spool_dir = options_.data_dir + "/spool";
  const std::string journal_dir = options_.data_dir + "/journal";
  const std::string keys_dir = options_.data_dir + "/keys";
  for (const auto& d :
       {options_.data_dir, spool_dir, journal_dir, keys_dir, options_.data_dir + "/deadletter"}) {
    TH_RETURN_IF_ERROR(env_->CreateDirs(d));
  }
  schema_cache_path_ = options_.data_dir + "/schemas";
  if (env_->FileExists(schema_cache_path_)) {
    std::string data;
    Status s = env_->ReadFileToString(schema_cache_path_, &data);
    auto entries =
        s.ok() ? DecodeSchemaFile(data, schema_cache_path_) : Result<std::vector<std::string>>(s);
    if (!entries.ok()) {
      // A cache only: ClickHouse has the definitions.
      logging::Warn("delivery_schema_cache_unreadable", {{"error", entries.status().ToString()}});
    } else {
      for (auto& e : *entries) {
        auto def = DecodeRemoteDefinition(e, schema_cache_path_);
        if (!def.ok()) continue;
        saved_definitions_[TableKey(def->table.schema.database, def->table.schema.name)] =
            std::move(e);
      }
    }
  }
  node_id_ = options_.node_id;
  if (node_id_.empty()) {
    char host[256] = {};
    gethostname(host, sizeof(host) - 1);
    node_id_ = std::string(host) + ":" + options_.data_dir;
  }
  for (char c : node_id_) {
    node_tag_ += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  }
  if (node_tag_.size() > 40) {
    node_tag_ = node_tag_.substr(0, 24) +
                fmt::format("{:08x}", crc32c::Value(node_id_.data(), node_id_.size()));
  }

  // Journal: batches and their outcomes.
  std::map<uint64_t, std::pair<BatchRecord, std::optional<BatchOutcome>>> batches;
  uint64_t handled_upto = 0, next_batch_id = 1;
  TH_ASSIGN_OR_RETURN(
      log::RecoveryResult jr,
      log::Recover(env_, journal_dir, 1, [&](uint64_t lsn, std::string_view payload) -> Status {
        TH_ASSIGN_OR_RETURN(
            JournalRecord r,
            DecodeJournalRecord(payload, fmt::format("{} LSN {}", journal_dir, lsn)));
        switch (r.kind) {
          case JournalRecord::kBatch:
            next_batch_id = std::max(next_batch_id, r.batch.id + 1);
            batches[r.batch.id] = {std::move(r.batch), std::nullopt};
            break;
          case JournalRecord::kDone: {
            auto it = batches.find(r.done_id);
            if (it != batches.end()) it->second.second = r.outcome;
            break;
          }
          case JournalRecord::kCheckpoint:
            handled_upto = std::max(handled_upto, r.spool_handled_upto);
            next_batch_id = std::max(next_batch_id, r.next_batch_id);
            for (auto& [b, o] : r.batches) {
              auto& slot = batches[b.id];
              if (!slot.second) slot = {std::move(b), o};
            }
            break;
        }
        return Status::OK();
      }));
  std::erase_if(batches, [&](const auto& b) {
    return b.second.first.lsns.empty() || b.second.first.lsns.back() <= handled_upto;
  });
  // Which batch owns each slice: (lsn, table, partition, layout) -> batch id; finished batches
  // (delivered, dead-lettered) win over an open one; superseded ones own nothing.
  using SliceKey = std::tuple<uint64_t, std::string, std::string, std::string, std::string>;
  std::map<SliceKey, uint64_t> finished, open;
  std::map<TableKey, uint64_t> open_by_table;
  for (const auto& [id, b] : batches) {
    if (b.second == BatchOutcome::kSuperseded) continue;
    auto& target = b.second ? finished : open;
    for (uint64_t lsn : b.first.lsns) {
      target[SliceKey(lsn, b.first.database, b.first.table, b.first.partition, b.first.layout)] =
          id;
    }
    if (!b.second) {
      TableKey tk(b.first.database, b.first.table);
      if (open_by_table.count(tk)) {
        return Status::Corruption(fmt::format("{}: two open batches ({} and {}) for table {}",
                                              journal_dir, open_by_table[tk], id,
                                              QualifiedName(tk.first, tk.second)));
      }
      open_by_table[tk] = id;
    }
  }

  // Idempotency keys: the snapshot, then the spool's records.
  const int64_t now = clock_->NowMicros();
  keys_ = std::make_unique<idempotency::IdempotencyIndex>(
      env_, keys_dir, options_.idempotency_window_micros, options_.max_idempotency_keys);
  TH_ASSIGN_OR_RETURN(const uint64_t keys_covered, keys_->Load(now));
  const uint64_t from = std::min(handled_upto, keys_covered) + 1;

  std::map<uint64_t, std::vector<Slice>> open_slices;  // batch id -> its slices, in LSN order
  TH_ASSIGN_OR_RETURN(
      log::RecoveryResult sr,
      log::Recover(env_, spool_dir, from, [&](uint64_t lsn, std::string_view payload) -> Status {
        TH_ASSIGN_OR_RETURN(SpoolRecord r,
                            DecodeSpoolRecord(payload, fmt::format("{} LSN {}", spool_dir, lsn)));
        if (r.key) keys_->Add(*r.key, now);
        if (lsn <= handled_upto) return Status::OK();
        std::set<size_t> skip;
        uint32_t owned = 0;
        for (size_t i = 0; i < r.slices.size(); ++i) {
          SliceKey k(lsn, r.database, r.table, r.slices[i].partition,
                     BlockLayout(r.slices[i].block));
          if (finished.count(k)) {
            skip.insert(i);
            continue;
          }
          auto o = open.find(k);
          if (o != open.end()) {
            skip.insert(i);
            ++owned;
            Slice s;
            s.lsn = lsn;
            s.accepted_micros = r.accepted_micros;
            s.bytes = payload.size() / r.slices.size();
            s.block = std::make_shared<const types::Block>(r.slices[i].block);
            open_slices[o->second].push_back(std::move(s));
          }
        }
        reserved_bytes_ += payload.size();
        RegisterLocked(lsn, r, payload.size(), skip, owned);
        if (owned > 0) {
          auto& d = dests_[TableKey(r.database, r.table)];
          d.database = r.database;
          d.table = r.table;
          d.cluster = r.cluster;
        }
        return Status::OK();
      }));
  if (sr.oldest_lsn > from && sr.records > 0) {
    return Status::Corruption(
        fmt::format("{}: the spool starts at LSN {} but records from LSN {} are still needed",
                    spool_dir, sr.oldest_lsn, from));
  }
  registered_upto_ = std::max(registered_upto_, sr.next_lsn - 1);
  registered_beyond_.clear();
  // An open batch none of whose slices is pending any more owns nothing: it counts as
  // superseded (the next checkpoint says so), so that it never stands beside a later one.
  for (auto& [id, b] : batches) {
    if (!b.second && open_slices.count(id) == 0) b.second = BatchOutcome::kSuperseded;
  }
  // Open batches, rebuilt from their spool records in LSN order, resolved first by the sender.
  for (auto& [id, slices] : open_slices) {
    const BatchRecord& rec = batches[id].first;
    InFlight f;
    f.record = rec;
    f.unknown = true;
    f.block = slices.front().block->CloneEmpty();
    for (const auto& s : slices) {
      f.block.Append(*s.block);
      f.bytes += s.bytes;
    }
    if (f.block.rows() != rec.rows) {
      return Status::Corruption(
          fmt::format("{}: batch {} of {} had {} rows, its spool records now give {}", journal_dir,
                      id, QualifiedName(rec.database, rec.table), rec.rows, f.block.rows()));
    }
    f.slices = std::move(slices);
    auto& d = dests_[TableKey(rec.database, rec.table)];
    d.database = rec.database;
    d.table = rec.table;
    d.inflight = std::move(f);
    logging::Info("delivery_recovered_batch", {{"table", QualifiedName(rec.database, rec.table)},
                                               {"batch", id},
                                               {"rows", rec.rows},
                                               {"mechanism", MechanismName(rec.mechanism)}});
  }
  batches_ = std::move(batches);
  next_batch_id_ = next_batch_id;
  checkpointed_upto_ = handled_upto;

  log::LogOptions lo;
  lo.sync = options_.sync;
  lo.segment_bytes = options_.log_segment_bytes;
  TH_ASSIGN_OR_RETURN(spool_, log::LogWriter::Open(env_, spool_dir, sr.next_lsn, lo));
  TH_ASSIGN_OR_RETURN(journal_, log::LogWriter::Open(env_, journal_dir, jr.next_lsn, lo));

  // Dead letters already on disk.
  TH_ASSIGN_OR_RETURN(auto letters, ListDeadLetters(env_, options_.data_dir + "/deadletter"));
  for (const auto& l : letters) ++dead_letter_counts_[TableKey(l.letter.database, l.letter.table)];

  logging::Info("delivery_spool_recovered", {{"spool", spool_dir},
                                             {"undelivered_records", records_.size()},
                                             {"undelivered_bytes", reserved_bytes_},
                                             {"open_batches", open_slices.size()},
                                             {"dead_letters", letters.size()}});

  // A checkpoint now lets the segments recovery no longer needs go.
  MaybeCheckpoint(true);

  auto caps = clickhouse::DetectCapabilities(query_client_);
  if (caps.ok()) {
    SetCapabilities(*caps, /*log_adaptations=*/false);
    (void)CreateWritersTable();
  } else {
    logging::Warn("clickhouse_unreachable", {{"endpoint", options_.clickhouse.Endpoint()},
                                             {"error", caps.status().ToString()},
                                             {"detail",
                                              "rows are spooled and delivered once it "
                                              "is reachable"}});
  }

  collectors_.push_back(metrics::RegisterCollectedGauge(
      "trackhouse_delivery_backlog_rows", "Rows accepted and not yet confirmed by ClickHouse", {},
      [this] {
        return std::vector<metrics::Sample>{{{}, static_cast<int64_t>(Backlog().backlog_rows)}};
      }));
  collectors_.push_back(metrics::RegisterCollectedGauge(
      "trackhouse_delivery_backlog_bytes",
      "Spool bytes of rows not yet confirmed by ClickHouse (bounded by spool_max_bytes)", {},
      [this] {
        return std::vector<metrics::Sample>{{{}, static_cast<int64_t>(Backlog().backlog_bytes)}};
      }));
  collectors_.push_back(metrics::RegisterCollectedGauge(
      "trackhouse_delivery_lag_milliseconds",
      "Age of the oldest row not yet confirmed by ClickHouse (0 when none)", {}, [this] {
        return std::vector<metrics::Sample>{{{}, Backlog().lag_micros / 1000}};
      }));
  collectors_.push_back(metrics::RegisterCollectedGauge(
      "trackhouse_delivery_dead_letter_files", "Dead-letter files in DATA/deadletter, by table",
      {"table"}, [this] {
        std::vector<metrics::Sample> out;
        for (const auto& t : Backlog().tables) {
          if (t.dead_letters > 0) {
            out.push_back(
                {{QualifiedName(t.database, t.table)}, static_cast<int64_t>(t.dead_letters)});
          }
        }
        return out;
      }));
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<DeliveryStore>> OpenDeliveryStore(DeliveryOptions options) {
  auto store = std::make_unique<DeliveryStoreImpl>(std::move(options));
  TH_RETURN_IF_ERROR(store->Open());
  return std::unique_ptr<DeliveryStore>(std::move(store));
}

}  // namespace trackhouse::delivery
