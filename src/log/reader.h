// Recover: reads a log directory written by LogWriter (format in log/writer.h and
// docs/formats/log.md) and replays its records, telling a crash's torn tail from corruption.
//
// Ownership: reads through the caller's Env; keeps nothing after it returns.
// Thread-safety: a free function; it may run while no LogWriter has the directory open.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "env/env.h"

namespace trackhouse::log {

struct RecoveryResult {
  // The LSN to open the LogWriter at: the last intact record's LSN + 1, never below from_lsn
  // (1 for an empty or missing log).
  uint64_t next_lsn = 1;
  // The oldest LSN the log could deliver: the first LSN of the oldest segment read (next_lsn
  // if there is none). Records below it were trimmed; a caller that needs records from LSN L
  // must check oldest_lsn <= L, since recovery does not know what the caller still needs.
  uint64_t oldest_lsn = 1;
  uint64_t records = 0;          // records passed to fn
  uint64_t bytes = 0;            // payload bytes passed to fn (uncompressed)
  uint64_t torn_tail_bytes = 0;  // bytes dropped as torn tails, over all segments
};

// Called once per record, in LSN order, with the uncompressed payload. The view is valid only
// during the call. A non-OK status stops recovery and is returned as is.
using RecordFn = std::function<Status(uint64_t lsn, std::string_view payload)>;

// Reads the segments in `dir` in LSN order and calls fn(lsn, payload) for each intact record
// with lsn >= from_lsn. Segments whose records all precede from_lsn are not read at all.
//
// A torn tail ends a segment silently (counted in trackhouse_log_torn_tail_total and in
// torn_tail_bytes): an incomplete or checksum-failing record after which the segment holds
// nothing valid except records of the same write group (which was therefore never
// acknowledged), or a last segment too short to hold its header. Everything else is Corruption
// naming the file, the byte offset and the sizes involved: a bad record followed by a valid
// record of a later write group, a bad segment header, a record whose LSN is not the next one,
// or an LSN gap or overlap between the segments read. A segment of a newer format version is
// NotSupported. Pass the first LSN you need as from_lsn: segments wholly before it are then
// skipped, so a gap left among already-trimmed segments (e.g. unlinks that a crash half
// undid) does not matter; with from_lsn = 1 every segment is read and checked. fn may already have
// been called for records before the point of corruption.
//
// Speed: payloads are checked with hardware CRC32C and passed without copying unless they
// were compressed (LZ4, decompressed into a reused buffer).
Result<RecoveryResult> Recover(env::Env* env, const std::string& dir, uint64_t from_lsn,
                               const RecordFn& fn);

}  // namespace trackhouse::log
