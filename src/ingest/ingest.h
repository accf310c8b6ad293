// ingest: the one path every write takes (the ClickHouse HTTP interface's INSERT now; POST
// /track and the C++ client later). An InsertStream turns the bytes of one INSERT's data into
// blocks shaped exactly like the target table and stores them through storage::Storage.
//
// What it does with the table's columns, as ClickHouse does:
//  - with an explicit column list, only those columns are read from the data; the others take
//    their DEFAULT expression, or the type's default value;
//  - a column the data omits (JSONEachRow key missing) takes its DEFAULT too: constant
//    DEFAULTs (literals, now(), now64(), ...) are evaluated once per insert; non-constant ones
//    (DEFAULT toDate(ts)) per block, for the rows that omitted the column;
//  - MATERIALIZED columns are always computed and cannot be inserted; ALIAS and EPHEMERAL
//    columns are not stored.
// Rows are stored in blocks of up to max_insert_block_size rows; each block is one
// storage->Insert, all-or-nothing (also across a crash). A failed insert keeps the blocks
// committed before the failure (as ClickHouse does), and rows_written() says how many.
//
// An InsertStream is used by one thread at a time. It holds the table schema it was opened
// with; the storage must outlive it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "formats/input_format.h"
#include "sql/ast.h"
#include "storage/storage.h"
#include "types/block.h"
#include "types/value.h"

namespace trackhouse::ingest {

struct IngestOptions {
  // Rows per stored block (ClickHouse's max_insert_block_size). Default 1,048,576.
  size_t max_insert_block_size = 1048576;
  // Ignore unknown keys/columns in the data instead of failing (ClickHouse's
  // input_format_skip_unknown_fields). Default false.
  bool skip_unknown_fields = false;
  // Longest single row (one JSON object, one line) the parser accepts before failing the
  // insert, so that a body without row separators cannot grow memory without limit.
  // Default 64 MiB.
  size_t max_row_bytes = 64ull << 20;
  // Longest string value, bytes; longer is an error for its row. 0 = unbounded.
  size_t max_string_bytes = 0;
  // JSON formats: skip rows that cannot be stored and describe them here instead of failing
  // (formats::InputOptions::row_errors). Not owned.
  formats::RowErrors* row_errors = nullptr;
  // Values for rows that omit these columns, used instead of the column's DEFAULT (POST
  // /track's actor context: userId, ip, userAgent from the request). Columns the table does
  // not have, or that the insert does not read, are ignored; values are converted to the
  // column's type (an error names the column).
  std::vector<std::pair<std::string, types::Value>> omitted_values;
  // Hold every block until Commit() instead of storing blocks as they fill; Commit stores them
  // as one block, so the whole insert is all-or-nothing, also across a crash. The caller
  // bounds the rows (POST /track's max_rows).
  bool staged = false;
};

class InsertStream {
 public:
  // Resolves the table (`stmt.database` or `database`), checks the column list and builds the
  // parser for `format` (the statement's format: "JSONEachRow", "Values", ...). Errors:
  // unknown table (ch::kUnknownTable, "Table default.x does not exist."), unknown column
  // (ch::kNoSuchColumnInTable), a MATERIALIZED/ALIAS column in the list, an unknown format.
  // `now_micros` is the time for DEFAULT now()/now64().
  static Result<std::unique_ptr<InsertStream>> Open(
      storage::Storage* storage, const std::string& database, const sql::InsertStmt& stmt,
      std::string_view format, const IngestOptions& options, int64_t now_micros);

  virtual ~InsertStream() = default;

  // Parses the next bytes of data (any split: a chunk may end mid-row) and stores every full
  // block. On error the stream is failed: later calls return the same error.
  virtual Status Feed(std::string_view chunk) = 0;
  // Stores rows that are already typed (INSERT ... SELECT): the block's columns are the
  // insert's columns by position, converted to the columns' types with CAST semantics; the
  // other columns get their DEFAULTs as for parsed data. NUMBER_OF_COLUMNS_DOESNT_MATCH when
  // the counts differ.
  virtual Status FeedBlock(const types::Block& block) = 0;
  // Ends the data: parses what is left and stores the last block. An insert with no rows
  // succeeds and stores nothing.
  virtual Status Finish() = 0;

  // Staged streams: rows parsed and waiting for Commit().
  virtual uint64_t rows_staged() const = 0;
  // Staged streams, after Finish(): stores every staged row in one storage insert, with
  // `idempotency` (if not null) in the same durable record (storage::InsertIdempotent;
  // AlreadyExists if its key is stored already, and then nothing is).
  virtual Status Commit(const storage::IdempotencyRecord* idempotency) = 0;
  // Commit without waiting for the disk (storage::InsertAsync): an error found up front is
  // returned and `done` is not called; otherwise `done` gets the outcome once the rows are
  // durable, possibly on another thread and after this stream is gone (it touches nothing of
  // the stream). rows_written() does not count rows committed this way.
  virtual Status CommitAsync(const storage::IdempotencyRecord* idempotency,
                             std::function<void(Status)> done) = 0;

  // Rows and (in-memory) bytes stored so far, also after an error.
  virtual uint64_t rows_written() const = 0;
  virtual uint64_t bytes_written() const = 0;
  // The table, "db.name".
  virtual const std::string& table_name() const = 0;
};

}  // namespace trackhouse::ingest
