// Capabilities: what the ClickHouse server at the other end supports, so that the ClickHouse
// storage mode adapts to old servers (Debian's 18.16) instead of failing on them. Derived from
// `SELECT version()` by the thresholds below, then confirmed against the server itself where
// ClickHouse can be asked cheaply (DetectCapabilities). Plain values; thread-safe once made.
//
//   capability                      from   why
//   datetime64                      20.1   the DateTime64 type first shipped in 20.1
//   ttl                             19.6   column and table TTL for MergeTree first shipped in 19.6
//   http_query_parameters           19.11  {name:Type} with param_<name>; 18.16 takes param_x for a
//                                          setting and answers "Unknown setting" (code 115)
//   low_cardinality_needs_setting   <19.1  18.x has LowCardinality behind
//                                          allow_experimental_low_cardinality_type=1
//   insert_deduplication_token      22.2   the insert_deduplication_token setting came in 22.2
//   non_replicated_deduplication_window 20.12 the MergeTree setting that turns on deduplication
//                                          (and with it insert_deduplication_token) for tables
//                                          without replication
// The version thresholds are the releases that introduced each feature; DetectCapabilities
// overrides them with what the server reports (system.settings, system.merge_tree_settings,
// system.data_type_families, a parameterized probe), which is authoritative.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "clickhouse/client.h"
#include "common/status.h"

namespace trackhouse::clickhouse {

// A ClickHouse version: "18.16.1" or "23.8.2.7" (missing parts are 0).
struct ServerVersion {
  uint32_t major = 0, minor = 0, patch = 0, build = 0;

  // Parses version() output; surrounding whitespace is ignored, and a suffix after the numbers
  // ("21.8.15.7-lts", "22.3.2.1 (official build)") too. InvalidArgument when it does not start
  // with "<major>.<minor>".
  static Result<ServerVersion> Parse(std::string_view text);

  // True when this version is major.minor or later.
  bool AtLeast(uint32_t major_at_least, uint32_t minor_at_least) const {
    return major > major_at_least || (major == major_at_least && minor >= minor_at_least);
  }
  std::string ToString() const;  // "18.16.1" (build only when not 0)
  bool operator==(const ServerVersion&) const = default;
};

struct Capabilities {
  ServerVersion version;
  bool datetime64 = false;
  bool ttl = false;
  bool http_query_parameters = false;
  bool low_cardinality_needs_setting = false;
  bool insert_deduplication_token = false;
  bool non_replicated_deduplication_window = false;

  // The capabilities the thresholds above give for `version`.
  static Capabilities ForVersion(const ServerVersion& version);

  // Settings to send with DDL and inserts so that tables with LowCardinality columns work:
  // allow_experimental_low_cardinality_type=1 when needed, otherwise none.
  Settings RequiredSettings() const;

  // One line per adaptation trackhouse makes for this server, for logs and `trackhouse doctor`:
  // "no DateTime64 (before 20.1): DateTime64 columns are created as DateTime", ...
  std::vector<std::string> Adaptations() const;
};

// Asks the server for version() and confirms each capability with the server's own tables and
// a {name:Type} probe. Errors are the client's (Unavailable when unreachable).
Result<Capabilities> DetectCapabilities(Client& client);

}  // namespace trackhouse::clickhouse
