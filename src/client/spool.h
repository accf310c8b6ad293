// Spool: the Tracker's local file of rows not yet acknowledged by the server, so that they
// survive a restart of the application. docs/formats/client-spool.md describes the format;
// in short (integers little-endian, CRCs CRC32C stored masked as in the durable log):
//
//   file header (20 bytes)
//     0  8  magic "THSPOOL\0"
//     8  4  format version = 1
//    12  4  flags = 0 (reserved)
//    16  4  masked CRC32C of bytes [0, 16)
//   records, back to back
//     0  4  masked CRC32C of bytes [4, 9 + length)
//     4  4  length of the payload
//     8  1  type: 1 = row, 2 = batch, 3 = resolved
//     9  length payload
//   row payload:      seq (fixed64), table (varint length + bytes), JSON object (the rest)
//   batch payload:    Idempotency-Key (varint length + bytes), ranges
//   resolved payload: ranges
//   ranges:           count (varint), then per range first seq, last seq (varint each)
//
// A row is live until a resolved record covers its seq. A batch record names the rows the
// tracker put in one request and its Idempotency-Key, so that after a restart the same rows
// are sent again under the same key (the server then stores them once).
//
// The file is locked (flock) while open. A record cut short at the end of the file (a write
// the crash interrupted) ends the file: it is cut off on open. A complete record whose CRC or
// contents do not check is Corruption naming the file, the offset and the sizes.
//
// Not thread-safe: the Tracker calls it under its mutex.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "trackhouse/client_status.h"

namespace trackhouse::client {

// Inclusive ranges of seqs [first, last].
using SeqRanges = std::vector<std::pair<uint64_t, uint64_t>>;

// Adds `seq` to ranges kept in increasing order of appends (merges with the last range).
void AddSeq(SeqRanges* ranges, uint64_t seq);

struct SpoolRow {
  uint64_t seq = 0;
  std::string table;
  std::string json;
};

struct SpoolBatch {
  std::string key;
  // Seqs of its live rows, increasing.
  std::vector<uint64_t> seqs;
};

// What a spool holds when it is opened: the live rows (increasing seq) and the batches that
// were formed from some of them.
struct SpoolContents {
  std::vector<SpoolRow> rows;
  std::vector<SpoolBatch> batches;
  // The largest seq ever written (0 for none): new rows take larger seqs.
  uint64_t max_seq = 0;
};

class Spool {
 public:
  // Opens or creates the file, locks it and reads what it holds into *contents. IOError if the
  // file cannot be opened or is locked by another tracker; Corruption for a damaged record.
  static Result<std::unique_ptr<Spool>> Open(const std::string& path, SpoolContents* contents);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  Status AppendRow(uint64_t seq, std::string_view table, std::string_view json);
  Status AppendBatch(std::string_view key, const SeqRanges& seqs);
  Status AppendResolved(const SeqRanges& seqs);
  // fsync.
  Status Sync();
  // Nothing is live any more: cuts the file back to its header.
  Status Clear();
  // Replaces the file by one holding only `rows` and `batches` (written to path + ".tmp",
  // synced, renamed over the file).
  Status Rewrite(const std::vector<SpoolRow>& rows,
                 const std::vector<std::pair<std::string, SeqRanges>>& batches);
  // The file's size in bytes.
  uint64_t size() const { return size_; }

 private:
  Spool(std::string path, int fd, uint64_t size) : path_(std::move(path)), fd_(fd), size_(size) {}
  Status AppendRecord(uint8_t type, std::string_view payload);

  std::string path_;
  int fd_;
  uint64_t size_;  // bytes of whole records; appends go here
};

}  // namespace trackhouse::client
