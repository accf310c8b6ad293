// The ClickHouse-mode store: trackhouse keeps nothing itself but a local spool. Every accepted
// insert (/track, INSERT) is appended to the spool (a durable group-commit log in DATA/spool)
// and acknowledged once durable; a sender thread delivers the rows to ClickHouse in large
// RowBinary batches (a preparer thread encodes each table's next batch meanwhile), one table
// partition per batch, exactly once: each batch is journaled
// (DATA/journal) before it is sent, and a batch whose outcome is unknown is resolved by the
// table's mechanism (insert_deduplication_token, replicated block hashes, or on plain MergeTree
// the block-number protocol through a per-batch stage table; docs/clickhouse-mode.md,
// "Delivery"; record formats in docs/formats/spool.md). Batches ClickHouse rejects as invalid go
// to dead-letter files in DATA/deadletter (docs/formats/deadletter.md).
//
//   DeliveryOptions o;
//   o.data_dir = "/var/lib/trackhouse";
//   o.clickhouse = *clickhouse::ClientOptions::FromUrl("http://127.0.0.1:8123");
//   auto store = delivery::OpenDeliveryStore(o);   // recovers the spool, connects
//   (*store)->Start();                             // starts the senders
//
// Schemas come from ClickHouse (system.columns/system.tables), cached and refreshed after DDL.
// Reads do not go through this store: Scan and ListParts are NotSupported (queries pass through
// to ClickHouse elsewhere).
//
// Memory: undelivered rows are kept in memory until ClickHouse confirmed them, so
// spool_max_bytes bounds both the spool's undelivered bytes and that memory; beyond it inserts
// are refused with ResourceExhausted (503 + Retry-After).
//
// Thread-safety: thread-safe, as every storage::Storage.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "clickhouse/capabilities.h"
#include "clickhouse/client.h"
#include "common/status.h"
#include "env/env.h"
#include "storage/storage.h"

namespace trackhouse::delivery {

struct DeliveryOptions {
  std::string data_dir;  // spool/, journal/, keys/, deadletter/ and schemas live here
  clickhouse::ClientOptions clickhouse;  // from --clickhouse URL
  std::string cluster;                   // --clickhouse-cluster; empty = single server
  // With a cluster: the HTTP address ("host:port") of each shard replica, keyed by the
  // "host:port" (native TCP port) system.clusters gives for it. A replica not listed is
  // reached at its host_address with the --clickhouse URL's port; the local one (is_local) at
  // the --clickhouse URL itself.
  std::map<std::string, std::string> shard_http_addresses;
  // A batch is closed (and sent) at whichever comes first.
  uint64_t batch_max_rows = 100000;
  uint64_t batch_max_bytes = 16ull << 20;
  uint32_t batch_max_age_ms = 1000;
  // Undelivered bytes accepted; beyond: ResourceExhausted (503). Also the memory bound.
  uint64_t spool_max_bytes = 1ull << 30;
  bool sync = true;  // fdatasync spool before ack
  // May set non_replicated_deduplication_window on plain MergeTree tables (ALTER TABLE ...
  // MODIFY SETTING) so that insert_deduplication_token works on them.
  bool set_deduplication_window = false;
  int64_t idempotency_window_micros = 24ll * 3600 * 1000000;
  size_t max_idempotency_keys = 1000000;
  uint32_t retry_min_ms = 100, retry_max_ms = 10000;  // backoff with jitter
  env::Env* env = nullptr;                            // nullptr: the POSIX env
  // Segment size of the spool and journal logs (log::LogOptions::segment_bytes): delivered
  // records go when their whole segment is delivered.
  uint64_t log_segment_bytes = 64ull << 20;
  // Tests only: called on the sender thread right before a batch is sent (before its stage
  // table is created, or its INSERT sent), with the batch's query id (to freeze or kill
  // ClickHouse at that moment). Empty: nothing.
  std::function<void(const std::string& query_id)> before_send;
  // This node's name in trackhouse_writers (the one-writer claim); empty: host name + data dir.
  std::string node_id;
};

// Delivery state of one table, for Report().
struct TableDelivery {
  std::string database, table, mechanism;
  uint64_t backlog_rows = 0, backlog_bytes = 0;
  int64_t oldest_undelivered_micros = 0;  // when the oldest undelivered row was accepted; 0: none
  uint64_t dead_letters = 0;
};

struct DeliveryReport {
  bool reachable = false;
  std::string reachability_error;
  std::string server_version;
  std::vector<std::string> adaptations;
  std::vector<TableDelivery> tables;
  uint64_t backlog_rows = 0, backlog_bytes = 0;
  int64_t lag_micros = 0;  // age of the oldest undelivered row; 0 when none
  uint64_t dead_letters = 0;
};

class DeliveryStore : public storage::Storage {
 public:
  virtual DeliveryReport Report() = 0;  // for /ready, /metrics, `trackhouse doctor`
  // What the server supports. Detected at open, or once ClickHouse is first reached if it was
  // down then (until then: the defaults of an unknown version, i.e. nothing optional).
  virtual const clickhouse::Capabilities& capabilities() const = 0;
  virtual const clickhouse::ClientOptions& clickhouse_options() const = 0;
};

// Opens the spool (recovering it) and connects; Start() then starts delivery. ClickHouse being
// unreachable does not fail the open: rows are spooled and delivered once it is back.
Result<std::unique_ptr<DeliveryStore>> OpenDeliveryStore(DeliveryOptions options);

}  // namespace trackhouse::delivery
