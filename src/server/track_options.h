// Options of POST /track/<table> (docs/http-api.md, "Tracking events"; docs/config.md, [track]).
// Plain values, set once from the configuration.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace trackhouse::server {

struct TrackOptions {
  // Largest request body, bytes (after gzip/deflate decoding); larger: 413. Default 8 MiB.
  uint64_t max_body_bytes = 8ull << 20;
  // Most rows in one request; more: 413. Default 10,000.
  uint64_t max_rows = 10000;
  // Longest string value of any column, bytes; longer: the row is rejected (400). Default 64 KiB.
  uint64_t max_string_bytes = 64 * 1024;
  // Columns filled from the request when the table has them and a row omits them.
  std::string user_id_column = "userId";
  std::string ip_column = "ip";
  std::string user_agent_column = "userAgent";
  // Tables ("t" or "db.t") whose unknown JSON keys are skipped rather than rejected, as if
  // every request said input_format_skip_unknown_fields=1.
  std::vector<std::string> skip_unknown_fields_tables;
  // How long a stored Idempotency-Key answers retries with the first answer, seconds.
  // Default 24 h.
  uint64_t idempotency_window_seconds = 24 * 3600;
};

}  // namespace trackhouse::server
