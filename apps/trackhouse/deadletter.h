// `trackhouse deadletter list|replay`: the dead letters of a ClickHouse-mode data directory
// (DATA/deadletter, docs/formats/deadletter.md), batches ClickHouse refused as invalid.
//
//   trackhouse deadletter list   --data DIR
//   trackhouse deadletter replay --data DIR --clickhouse URL [FILE...]
//
// list prints one line per file: table, rows, the server's error (code and message), file.
// replay sends each file's rows (all files, or the named ones: a name in DATA/deadletter or a
// path) to its table and deletes the file once ClickHouse confirmed them; the rows travel as
// TabSeparated text, so ClickHouse converts them into the table's current column types. How a
// replay avoids duplicates: docs/clickhouse-mode.md ("Dead letters").
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace trackhouse::app {

struct DeadLetterCommand {
  std::string action;              // "list" or "replay"
  std::string data_dir;            // the data directory (its deadletter/ subdirectory is read)
  std::string clickhouse_url;      // replay: http[s]://[user[:password]@]host[:port][/database]
  std::vector<std::string> files;  // replay: files to replay; empty: every file
};

// Runs the command, printing to `out` and errors to `err`. Returns the process exit code: 0 on
// success, 1 when a file could not be read or replayed (the others are still handled), 2 for a
// bad command line.
int RunDeadLetter(const DeadLetterCommand& command, std::FILE* out, std::FILE* err);

}  // namespace trackhouse::app
