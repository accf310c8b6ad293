// Dead letters: batches ClickHouse refused as invalid (a type that no longer matches, a dropped
// column or table), kept as files in DATA/deadletter so that they never block later batches and
// can be replayed once the table is fixed (`trackhouse deadletter list|replay`). File format in
// docs/formats/deadletter.md (records.h encodes it).
//
// Thread-safety: free functions over an Env; callers do not write the same file concurrently.
#pragma once

#include <string>
#include <vector>

#include "clickhouse/capabilities.h"
#include "clickhouse/client.h"
#include "common/status.h"
#include "delivery/records.h"
#include "env/env.h"

namespace trackhouse::delivery {

// A dead-letter file and its contents.
struct DeadLetterFile {
  std::string path;
  DeadLetter letter;
};

// The file name of `letter`: "<database>.<table>.<first LSN>.<fingerprint>.thdl", the same for
// the same rows (a batch dead-lettered again after a crash overwrites its own file).
std::string DeadLetterFileName(const DeadLetter& letter);

// Writes `letter` durably (temporary file, sync, rename, directory sync) into `dir`; returns
// its path.
Result<std::string> WriteDeadLetter(env::Env* env, const std::string& dir,
                                    const DeadLetter& letter);

// Reads and checks one file.
Result<DeadLetterFile> ReadDeadLetter(env::Env* env, const std::string& path);

// Every dead letter in `dir` (none when `dir` does not exist), oldest first (by name).
// Corruption of one file fails the whole list, naming it.
Result<std::vector<DeadLetterFile>> ListDeadLetters(env::Env* env, const std::string& dir);

// Sends the file's rows to its table as TabSeparated text (so that ClickHouse converts values
// into the table's current types, e.g. after a fixed MODIFY COLUMN) and deletes the file once
// ClickHouse confirmed them. Where the server has insert_deduplication_token the insert carries
// a token derived from the file, so a replay repeated after a lost answer is dropped by tables
// that deduplicate; elsewhere a replay interrupted between ClickHouse's confirmation and the
// file's deletion would insert the rows again when repeated (docs/clickhouse-mode.md).
Status ReplayDeadLetter(env::Env* env, clickhouse::Client& client,
                        const clickhouse::Capabilities& capabilities, const std::string& path);

}  // namespace trackhouse::delivery
