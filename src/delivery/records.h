// The ClickHouse-mode store's on-disk records (docs/formats/spool.md, docs/formats/deadletter.md):
//
// - spool records: the payload of one DATA/spool log record, one accepted insert: its destination
//   table, the time it was accepted, its Idempotency-Key if any, and its rows split by the
//   destination's partition (one slice per partition, each a types::SerializeBlock);
// - journal records: the payloads of DATA/journal log records: a batch (what was about to be
//   sent: table, partition, layout, spool LSNs, block-number mark, query id, token), a batch's
//   outcome, and checkpoints restating the batches still needed so that the journal can be
//   trimmed;
// - dead-letter files: a batch ClickHouse refused as invalid, with the server's answer.
//
// Pure encoding and decoding; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "storage/storage.h"
#include "types/block.h"

namespace trackhouse::delivery {

// One partition's rows of an accepted insert.
struct SpoolSlice {
  std::string partition;  // trackhouse's label of the partition value ("" when unpartitioned)
  types::Block block;
};

struct SpoolRecord {
  std::string database, table;  // the destination (a Buffer table's destination table)
  // With --clickhouse-cluster, for a Distributed table: its cluster (the destination is then the
  // shard-local table, delivered to one shard per batch); "" otherwise.
  std::string cluster;
  int64_t accepted_micros = 0;
  std::optional<storage::IdempotencyRecord> key;
  std::vector<SpoolSlice> slices;
};

void EncodeSpoolRecord(const SpoolRecord& record, std::string* out);
// `source` names the record (file and LSN) in Corruption messages.
Result<SpoolRecord> DecodeSpoolRecord(std::string_view payload, std::string_view source);

// How a table's batches are made exactly-once (docs/clickhouse-mode.md).
enum class Mechanism : uint8_t {
  kDeduplicationToken = 1,  // insert_deduplication_token = the batch's token
  kBlockHash = 2,           // Replicated*: ClickHouse drops a byte-identical block it has seen
  kBlockNumber = 3,         // the block-number protocol (trackhouse is the only writer)
  kAtLeastOnce = 4,         // engines without parts (Log, Memory, ...): resent when unknown
};
std::string_view MechanismName(Mechanism m);

// A batch as journaled before it is sent. Its rows are, in order, the slices of the spool
// records `lsns` (ascending) for table/partition whose column layout is `layout`.
struct BatchRecord {
  uint64_t id = 0;
  std::string database, table, partition, layout;
  Mechanism mechanism = Mechanism::kBlockNumber;
  // kBlockNumber: max(max_block_number) over all of the table's parts just before sending
  // (-1 when it had none).
  int64_t block_mark = -1;
  std::string query_id;
  std::string token;  // kDeduplicationToken
  // The shard the batch was sent to ("host:http_port"); "" for the --clickhouse server.
  std::string shard;
  std::vector<uint64_t> lsns;
  uint64_t rows = 0;
};

enum class BatchOutcome : uint8_t {
  kDelivered = 1,     // ClickHouse has the rows
  kDeadLettered = 2,  // refused as invalid; the rows are in a dead-letter file
  kSuperseded = 3,    // not delivered; a later batch record carries the same rows
};

struct JournalRecord {
  enum Kind : uint8_t { kBatch = 1, kDone = 2, kCheckpoint = 3 };
  Kind kind = kBatch;
  BatchRecord batch;     // kBatch
  uint64_t done_id = 0;  // kDone
  BatchOutcome outcome = BatchOutcome::kDelivered;
  // kCheckpoint: every spool record up to spool_handled_upto is delivered or dead-lettered (the
  // spool is read from the LSN after it), the next batch id, and every batch that names a spool
  // LSN above spool_handled_upto, with its outcome (nullopt: still open).
  uint64_t spool_handled_upto = 0;
  uint64_t next_batch_id = 0;
  std::vector<std::pair<BatchRecord, std::optional<BatchOutcome>>> batches;
};

void EncodeJournalRecord(const JournalRecord& record, std::string* out);
Result<JournalRecord> DecodeJournalRecord(std::string_view payload, std::string_view source);

// The column layout of a block: "name Type, name Type" (batches concatenate equal layouts only).
std::string BlockLayout(const types::Block& block);

// A dead letter: one refused batch.
struct DeadLetter {
  std::string database, table, partition;
  int server_code = 0;
  std::string server_message;
  int64_t time_micros = 0;
  uint64_t batch_id = 0;
  std::vector<uint64_t> lsns;
  uint64_t rows = 0;  // block.rows(), also in the header
  types::Block block;
};

// The file's bytes (magic, header, block, CRC32C).
std::string EncodeDeadLetter(const DeadLetter& letter);
// Corruption naming `path` when the file is damaged (checksum, sizes, row count).
Result<DeadLetter> DecodeDeadLetter(std::string_view data, std::string_view path);

}  // namespace trackhouse::delivery
