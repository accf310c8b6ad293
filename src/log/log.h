// The durable log: the facade other modules include. One format serves the embedded engine's
// write-ahead log and the ClickHouse-mode spool; records are opaque payloads (callers put
// serialized column blocks in them) identified by dense LSNs.
//
//   LogWriter (log/writer.h): group-commit appends, segment rotation, trimming.
//   Recover (log/reader.h):   replays a log directory, telling a torn tail from corruption.
//
// Typical use:
//   TH_ASSIGN_OR_RETURN(RecoveryResult r, log::Recover(env, dir, applied_lsn + 1, apply));
//   TH_ASSIGN_OR_RETURN(auto writer, log::LogWriter::Open(env, dir, r.next_lsn, options));
//   TH_ASSIGN_OR_RETURN(uint64_t lsn, writer->Append(serialized_block));  // durable now
//   ... once everything up to `lsn` is durable elsewhere: writer->TrimUpTo(lsn);
//
// The on-disk format is in log/writer.h and docs/formats/log.md.
#pragma once

#include "log/reader.h"
#include "log/writer.h"
