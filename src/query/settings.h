// QuerySettings: the ClickHouse settings a query runs with, from three places applied in order:
// the server's defaults, the request (URL arguments of the HTTP interface), and the statement's
// own SETTINGS clause. Names and value syntax follow ClickHouse:
//   max_threads=2, max_execution_time=1.5 (seconds), max_memory_usage=1000000,
//   max_result_rows / max_result_bytes + result_overflow_mode=throw|break,
//   output_format_json_quote_64bit_integers=0|1, output_format_json_quote_denormals,
//   input_format_skip_unknown_fields, max_insert_block_size, readonly, ...
// A setting ClickHouse knows but trackhouse has no use for (send_progress_in_http_headers,
// wait_end_of_query, ...) is accepted and ignored; a name ClickHouse does not know is
// UNKNOWN_SETTING, and a bad value for a known one is CANNOT_PARSE_* / BAD_ARGUMENTS, as in
// ClickHouse. `param_<name>` arguments are query parameters for {name:Type}, kept as text.
//
// Plain value type; not synchronized.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "sql/ast.h"

namespace trackhouse::query {

struct QuerySettings {
  uint32_t max_threads = 0;            // 0 = hardware cores
  uint64_t max_execution_time_ms = 0;  // 0 = unlimited
  uint64_t max_memory_usage = 10ull << 30;
  uint64_t max_result_rows = 0;  // 0 = unlimited
  uint64_t max_result_bytes = 0;
  bool result_overflow_mode_break = false;  // result_overflow_mode=break: truncate, no error
  bool output_format_json_quote_64bit_integers = true;
  bool output_format_json_quote_denormals = false;
  bool output_format_pretty_row_numbers = true;
  bool input_format_skip_unknown_fields = false;
  uint64_t max_insert_block_size = 1048576;
  uint32_t readonly = 0;                // 0, 1 or 2 as in ClickHouse
  bool enable_http_compression = false;  // gzip responses when the client accepts them
  int http_zlib_compression_level = 3;   // 1..9, for gzip/deflate responses
  uint64_t max_group_array_size = 1 << 20;
  // {name:Type} parameter values by name (without the `param_` prefix), as text.
  std::map<std::string, std::string> params;
};

// Applies one `name=value` setting (URL argument or SETTINGS clause element; values as text,
// a SETTINGS string literal unquoted). `param_<name>` stores a query parameter. Errors as
// described at the top of this file, naming the setting.
Status ApplySetting(std::string_view name, std::string_view value, QuerySettings* settings);

// The value of a SET / SETTINGS assignment as the text a URL argument would carry: numbers in
// decimal, strings unquoted, true/false as 1/0. BAD_ARGUMENTS for anything but a literal.
Result<std::string> SettingValueText(const sql::Setting& setting);

// Whether `name` is a setting ClickHouse knows (whether or not trackhouse uses it).
bool IsKnownSetting(std::string_view name);

// Every name IsKnownSetting accepts, sorted (for docs and tests).
std::vector<std::string_view> KnownSettingNames();

}  // namespace trackhouse::query
