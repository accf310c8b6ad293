#include "query/settings.h"

#include <fmt/format.h>
#include <strings.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace trackhouse::query {
namespace {

// How a setting's value is written, which decides how it is validated (as ClickHouse's
// SettingField* types parse them).
enum class Kind : uint8_t {
  kBool,                  // 0, 1, true, false (any case)
  kUInt,                  // unsigned integer, optional size suffix: 10k, 1M, 2Gi
  kInt,                   // signed integer
  kFloat,                 // floating point number
  kSeconds,               // non-negative number of seconds, fractional allowed
  kMilliseconds,          // unsigned integer of milliseconds
  kMaxThreads,            // unsigned integer or 'auto' / 'auto(N)'
  kOverflowMode,          // throw | break
  kGroupByOverflowMode,   // throw | break | any
  kDateTimeInputFormat,   // basic | best_effort | best_effort_us
  kDateTimeOutputFormat,  // simple | iso | unix_timestamp
  kChar,                  // exactly one character (or empty)
  kString,                // any text
};

struct KnownSetting {
  std::string_view name;
  Kind kind;
};

// ClickHouse settings that clients send or that analytics queries use, sorted by name (checked
// by a test). trackhouse applies the ones QuerySettings has fields for and validates the value
// of every other one before ignoring it.
constexpr KnownSetting kKnownSettings[] = {
    {"add_http_cors_header", Kind::kBool},
    {"aggregate_functions_null_for_empty", Kind::kBool},
    {"allow_ddl", Kind::kBool},
    {"allow_experimental_analyzer", Kind::kBool},
    {"allow_experimental_object_type", Kind::kBool},
    {"allow_introspection_functions", Kind::kBool},
    {"allow_suspicious_low_cardinality_types", Kind::kBool},
    {"alter_sync", Kind::kUInt},
    {"async_insert", Kind::kBool},
    {"async_insert_busy_timeout_ms", Kind::kMilliseconds},
    {"async_insert_max_data_size", Kind::kUInt},
    {"cancel_http_readonly_queries_on_client_close", Kind::kBool},
    {"compile_expressions", Kind::kBool},
    {"connect_timeout", Kind::kSeconds},
    {"count_distinct_implementation", Kind::kString},
    {"date_time_input_format", Kind::kDateTimeInputFormat},
    {"date_time_output_format", Kind::kDateTimeOutputFormat},
    {"distinct_overflow_mode", Kind::kOverflowMode},
    {"enable_http_compression", Kind::kBool},
    {"enable_optimize_predicate_expression", Kind::kBool},
    {"enable_positional_arguments", Kind::kBool},
    {"extremes", Kind::kBool},
    {"final", Kind::kBool},
    {"force_index_by_date", Kind::kBool},
    {"force_primary_key", Kind::kBool},
    {"format_csv_allow_double_quotes", Kind::kBool},
    {"format_csv_allow_single_quotes", Kind::kBool},
    {"format_csv_delimiter", Kind::kChar},
    {"group_by_overflow_mode", Kind::kGroupByOverflowMode},
    {"group_by_two_level_threshold", Kind::kUInt},
    {"group_by_two_level_threshold_bytes", Kind::kUInt},
    {"http_connection_timeout", Kind::kSeconds},
    {"http_headers_progress_interval_ms", Kind::kUInt},
    {"http_max_field_name_size", Kind::kUInt},
    {"http_max_field_value_size", Kind::kUInt},
    {"http_receive_timeout", Kind::kSeconds},
    {"http_response_buffer_size", Kind::kUInt},
    {"http_send_timeout", Kind::kSeconds},
    {"http_wait_end_of_query", Kind::kBool},
    {"http_zlib_compression_level", Kind::kInt},
    {"input_format_allow_errors_num", Kind::kUInt},
    {"input_format_allow_errors_ratio", Kind::kFloat},
    {"input_format_csv_empty_as_default", Kind::kBool},
    {"input_format_defaults_for_omitted_fields", Kind::kBool},
    {"input_format_import_nested_json", Kind::kBool},
    {"input_format_null_as_default", Kind::kBool},
    {"input_format_skip_unknown_fields", Kind::kBool},
    {"input_format_tsv_empty_as_default", Kind::kBool},
    {"input_format_with_names_use_header", Kind::kBool},
    {"input_format_with_types_use_header", Kind::kBool},
    {"insert_deduplicate", Kind::kBool},
    {"insert_deduplication_token", Kind::kString},
    {"insert_null_as_default", Kind::kBool},
    {"insert_quorum", Kind::kUInt},
    {"insert_quorum_timeout", Kind::kMilliseconds},
    {"interactive_delay", Kind::kUInt},
    {"join_algorithm", Kind::kString},
    {"join_overflow_mode", Kind::kOverflowMode},
    {"join_use_nulls", Kind::kBool},
    {"joined_subquery_requires_alias", Kind::kBool},
    {"load_balancing", Kind::kString},
    {"lock_acquire_timeout", Kind::kSeconds},
    {"log_comment", Kind::kString},
    {"log_queries", Kind::kBool},
    {"log_query_threads", Kind::kBool},
    {"max_ast_depth", Kind::kUInt},
    {"max_ast_elements", Kind::kUInt},
    {"max_block_size", Kind::kUInt},
    {"max_bytes_before_external_group_by", Kind::kUInt},
    {"max_bytes_before_external_sort", Kind::kUInt},
    {"max_bytes_in_distinct", Kind::kUInt},
    {"max_bytes_in_join", Kind::kUInt},
    {"max_bytes_in_set", Kind::kUInt},
    {"max_bytes_to_read", Kind::kUInt},
    {"max_bytes_to_sort", Kind::kUInt},
    {"max_columns_to_read", Kind::kUInt},
    {"max_concurrent_queries_for_user", Kind::kUInt},
    {"max_execution_speed", Kind::kUInt},
    {"max_execution_time", Kind::kSeconds},
    {"max_expanded_ast_elements", Kind::kUInt},
    {"max_final_threads", Kind::kMaxThreads},
    {"max_insert_block_size", Kind::kUInt},
    {"max_insert_threads", Kind::kUInt},
    {"max_memory_usage", Kind::kUInt},
    {"max_memory_usage_for_user", Kind::kUInt},
    {"max_network_bandwidth", Kind::kUInt},
    {"max_parser_depth", Kind::kUInt},
    {"max_partitions_per_insert_block", Kind::kUInt},
    {"max_query_size", Kind::kUInt},
    {"max_result_bytes", Kind::kUInt},
    {"max_result_rows", Kind::kUInt},
    {"max_rows_in_distinct", Kind::kUInt},
    {"max_rows_in_join", Kind::kUInt},
    {"max_rows_in_set", Kind::kUInt},
    {"max_rows_to_group_by", Kind::kUInt},
    {"max_rows_to_read", Kind::kUInt},
    {"max_rows_to_sort", Kind::kUInt},
    {"max_subquery_depth", Kind::kUInt},
    {"max_temporary_columns", Kind::kUInt},
    {"max_threads", Kind::kMaxThreads},
    {"min_execution_speed", Kind::kUInt},
    {"min_insert_block_size_bytes", Kind::kUInt},
    {"min_insert_block_size_rows", Kind::kUInt},
    {"mutations_sync", Kind::kUInt},
    {"optimize_aggregation_in_order", Kind::kBool},
    {"optimize_read_in_order", Kind::kBool},
    {"output_format_csv_crlf_end_of_line", Kind::kBool},
    {"output_format_decimal_trailing_zeros", Kind::kBool},
    {"output_format_json_array_of_rows", Kind::kBool},
    {"output_format_json_escape_forward_slashes", Kind::kBool},
    {"output_format_json_named_tuples_as_objects", Kind::kBool},
    {"output_format_json_quote_64bit_floats", Kind::kBool},
    {"output_format_json_quote_64bit_integers", Kind::kBool},
    {"output_format_json_quote_decimals", Kind::kBool},
    {"output_format_json_quote_denormals", Kind::kBool},
    {"output_format_pretty_color", Kind::kString},
    {"output_format_pretty_max_column_pad_width", Kind::kUInt},
    {"output_format_pretty_max_rows", Kind::kUInt},
    {"output_format_pretty_max_value_width", Kind::kUInt},
    {"output_format_pretty_row_numbers", Kind::kBool},
    {"output_format_write_statistics", Kind::kBool},
    {"prefer_column_name_to_alias", Kind::kBool},
    {"preferred_block_size_bytes", Kind::kUInt},
    {"priority", Kind::kUInt},
    {"query_cache_ttl", Kind::kSeconds},
    {"read_overflow_mode", Kind::kOverflowMode},
    {"readonly", Kind::kUInt},
    {"receive_timeout", Kind::kSeconds},
    {"result_overflow_mode", Kind::kOverflowMode},
    {"send_logs_level", Kind::kString},
    {"send_progress_in_http_headers", Kind::kBool},
    {"send_timeout", Kind::kSeconds},
    {"session_timezone", Kind::kString},
    {"set_overflow_mode", Kind::kOverflowMode},
    {"sort_overflow_mode", Kind::kOverflowMode},
    {"timeout_before_checking_execution_speed", Kind::kSeconds},
    {"timeout_overflow_mode", Kind::kOverflowMode},
    {"totals_mode", Kind::kString},
    {"transfer_overflow_mode", Kind::kOverflowMode},
    {"use_query_cache", Kind::kBool},
    {"use_uncompressed_cache", Kind::kBool},
    {"wait_for_async_insert", Kind::kBool},
    {"wait_for_async_insert_timeout", Kind::kSeconds},
    {"workload", Kind::kString},
};

constexpr std::string_view kParamPrefix = "param_";

const KnownSetting* FindSetting(std::string_view name) {
  auto it = std::lower_bound(std::begin(kKnownSettings), std::end(kKnownSettings), name,
                             [](const KnownSetting& s, std::string_view n) { return s.name < n; });
  if (it == std::end(kKnownSettings) || it->name != name) return nullptr;
  return &*it;
}

Status CannotParse(std::string_view name, std::string_view value, std::string_view what, int code) {
  return Status::InvalidArgument(fmt::format("{}: while setting '{}' to '{}'", what, name, value),
                                 code);
}

// ClickHouse's parseWithSizeSuffix: digits, then optionally k/K, M, G, T (powers of 1000) or
// Ki, Mi, Gi, Ti (powers of 1024), then the end.
Result<uint64_t> ParseUInt(std::string_view name, std::string_view value) {
  if (!value.empty() && value.front() == '-') {
    return CannotParse(name, value, "Unsigned type must not contain '-' symbol",
                       ch::kCannotParseNumber);
  }
  std::string_view digits = value;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec == std::errc::result_out_of_range) {
    return CannotParse(name, value, "Cannot parse number: it is too large for UInt64",
                       ch::kCannotParseNumber);
  }
  if (ec != std::errc() || ptr == digits.data()) {
    return CannotParse(name, value,
                       fmt::format("Cannot parse input: expected a number before: '{}'", value),
                       ch::kCannotParseInputAssertionFailed);
  }
  std::string_view rest(ptr, digits.data() + digits.size() - ptr);
  if (!rest.empty()) {
    int power = 0;
    uint64_t base = 0;
    switch (rest.front()) {
      case 'k':
      case 'K':
        base = 1000, power = 10;
        break;
      case 'M':
        base = 1000000, power = 20;
        break;
      case 'G':
        base = 1000000000, power = 30;
        break;
      case 'T':
        base = 1000000000000ULL, power = 40;
        break;
      default:
        break;
    }
    uint64_t factor = 0;
    if (base != 0 && rest.size() == 1) {
      factor = base;
    } else if (base != 0 && rest.size() == 2 && rest[1] == 'i') {
      factor = uint64_t{1} << power;
    }
    if (factor == 0) {
      return CannotParse(name, value,
                         fmt::format("Cannot parse input: expected 'eof' before: '{}'", rest),
                         ch::kCannotParseInputAssertionFailed);
    }
    if (v > std::numeric_limits<uint64_t>::max() / factor) {
      return CannotParse(name, value, "Cannot parse number: it is too large for UInt64",
                         ch::kCannotParseNumber);
    }
    v *= factor;
  }
  return v;
}

Result<int64_t> ParseInt(std::string_view name, std::string_view value) {
  int64_t v = 0;
  std::string_view digits = value;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc() || ptr != digits.data() + digits.size() || digits.empty()) {
    return CannotParse(name, value,
                       fmt::format("Cannot parse input: expected an integer before: '{}'", value),
                       ch::kCannotParseInputAssertionFailed);
  }
  return v;
}

Result<double> ParseFloat(std::string_view name, std::string_view value) {
  std::string text(value);
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size()) {
    return CannotParse(name, value,
                       fmt::format("Cannot parse input: expected a number before: '{}'", value),
                       ch::kCannotParseInputAssertionFailed);
  }
  return v;
}

Result<bool> ParseBool(std::string_view name, std::string_view value) {
  auto is = [&](std::string_view word) {
    return value.size() == word.size() && strncasecmp(value.data(), word.data(), word.size()) == 0;
  };
  if (value == "1" || is("true")) return true;
  if (value == "0" || is("false")) return false;
  return CannotParse(name, value, fmt::format("Cannot parse bool from string '{}'", value),
                     ch::kCannotParseBool);
}

// Seconds as ClickHouse's SettingFieldSeconds: a non-negative finite number, to milliseconds.
Result<uint64_t> ParseSecondsAsMs(std::string_view name, std::string_view value) {
  TH_ASSIGN_OR_RETURN(double s, ParseFloat(name, value));
  if (std::signbit(s) || !std::isfinite(s) || s * 1000 > 9.2e18) {
    return CannotParse(name, value,
                       fmt::format("A setting's value in seconds must be a positive normal "
                                   "floating point number. Got {}",
                                   value),
                       ch::kCannotParseNumber);
  }
  return static_cast<uint64_t>(std::llround(s * 1000));
}

Result<uint64_t> ParseMaxThreads(std::string_view name, std::string_view value) {
  if (value.substr(0, 4) == "auto") return uint64_t{0};
  return ParseUInt(name, value);
}

Status CheckEnum(std::string_view name, std::string_view value, std::string_view type_name,
                 std::initializer_list<std::string_view> allowed, int code) {
  for (auto a : allowed) {
    if (value == a) return Status::OK();
  }
  std::string list;
  for (auto a : allowed) list += fmt::format("{}'{}'", list.empty() ? "" : ", ", a);
  return Status::InvalidArgument(
      fmt::format("Unexpected value of {}: '{}'. Must be one of [{}]: while setting '{}'",
                  type_name, value, list, name),
      code);
}

// Checks that `value` is valid for a setting of kind `kind`.
Status Validate(std::string_view name, Kind kind, std::string_view value) {
  switch (kind) {
    case Kind::kBool:
      return ParseBool(name, value).status();
    case Kind::kUInt:
      return ParseUInt(name, value).status();
    case Kind::kInt:
      return ParseInt(name, value).status();
    case Kind::kFloat:
      return ParseFloat(name, value).status();
    case Kind::kSeconds:
      return ParseSecondsAsMs(name, value).status();
    case Kind::kMilliseconds:
      return ParseUInt(name, value).status();
    case Kind::kMaxThreads:
      return ParseMaxThreads(name, value).status();
    case Kind::kOverflowMode:
      return CheckEnum(name, value, "OverflowMode", {"throw", "break"}, ch::kUnknownOverflowMode);
    case Kind::kGroupByOverflowMode:
      return CheckEnum(name, value, "OverflowModeGroupBy", {"throw", "break", "any"},
                       ch::kUnknownOverflowMode);
    case Kind::kDateTimeInputFormat:
      return CheckEnum(name, value, "DateTimeInputFormat",
                       {"basic", "best_effort", "best_effort_us"}, ch::kBadArguments);
    case Kind::kDateTimeOutputFormat:
      return CheckEnum(name, value, "DateTimeOutputFormat", {"simple", "iso", "unix_timestamp"},
                       ch::kBadArguments);
    case Kind::kChar:
      if (value.size() > 1) {
        return Status::InvalidArgument(
            fmt::format("A setting's value string has to be an exactly one character long: "
                        "while setting '{}'",
                        name),
            ch::kBadArguments);
      }
      return Status::OK();
    case Kind::kString:
      return Status::OK();
  }
  return Status::OK();
}

}  // namespace

bool IsKnownSetting(std::string_view name) { return FindSetting(name) != nullptr; }

Result<std::string> SettingValueText(const sql::Setting& setting) {
  const sql::Expr* e = setting.value.get();
  if (e != nullptr && e->kind == sql::ExprKind::kLiteral) {
    switch (e->literal_kind) {
      case sql::LiteralKind::kUInt64:
        return std::to_string(e->uint_value);
      case sql::LiteralKind::kInt64:
        return std::to_string(e->int_value);
      case sql::LiteralKind::kFloat64:
        return fmt::format("{}", e->float_value);
      case sql::LiteralKind::kString:
        return e->string_value;
      case sql::LiteralKind::kBool:
        return std::string(e->bool_value ? "1" : "0");
      case sql::LiteralKind::kNull:
        break;
    }
  }
  return Status::InvalidArgument(
      fmt::format("The value of setting {} must be a number or a string literal", setting.name),
      ch::kBadArguments);
}

Status ApplySetting(std::string_view name, std::string_view value, QuerySettings* settings) {
  if (name.substr(0, kParamPrefix.size()) == kParamPrefix && name.size() > kParamPrefix.size()) {
    settings->params[std::string(name.substr(kParamPrefix.size()))] = std::string(value);
    return Status::OK();
  }
  const KnownSetting* known = FindSetting(name);
  if (known == nullptr) {
    return Status::InvalidArgument(
        fmt::format("Setting {} is neither a builtin setting nor started with the prefix "
                    "'custom_' registered for user-defined settings",
                    name),
        ch::kUnknownSetting);
  }
  TH_RETURN_IF_ERROR(Validate(name, known->kind, value));

  QuerySettings& s = *settings;
  auto flag = [&](bool* field) { *field = *ParseBool(name, value); };
  auto uint = [&](uint64_t* field) { *field = *ParseUInt(name, value); };
  if (name == "max_threads") {
    uint64_t v = *ParseMaxThreads(name, value);
    s.max_threads = static_cast<uint32_t>(std::min<uint64_t>(v, UINT32_MAX));
  } else if (name == "max_execution_time") {
    s.max_execution_time_ms = *ParseSecondsAsMs(name, value);
  } else if (name == "max_memory_usage") {
    uint(&s.max_memory_usage);
  } else if (name == "max_result_rows") {
    uint(&s.max_result_rows);
  } else if (name == "max_result_bytes") {
    uint(&s.max_result_bytes);
  } else if (name == "result_overflow_mode") {
    s.result_overflow_mode_break = value == "break";
  } else if (name == "output_format_json_quote_64bit_integers") {
    flag(&s.output_format_json_quote_64bit_integers);
  } else if (name == "output_format_json_quote_denormals") {
    flag(&s.output_format_json_quote_denormals);
  } else if (name == "output_format_pretty_row_numbers") {
    flag(&s.output_format_pretty_row_numbers);
  } else if (name == "input_format_skip_unknown_fields") {
    flag(&s.input_format_skip_unknown_fields);
  } else if (name == "max_insert_block_size") {
    uint(&s.max_insert_block_size);
  } else if (name == "readonly") {
    uint64_t v = *ParseUInt(name, value);
    s.readonly = static_cast<uint32_t>(std::min<uint64_t>(v, 2));
  } else if (name == "enable_http_compression") {
    flag(&s.enable_http_compression);
  } else if (name == "http_zlib_compression_level") {
    int64_t v = *ParseInt(name, value);
    if (v < 1 || v > 9) {
      return Status::InvalidArgument(
          fmt::format("Invalid value {} of setting http_zlib_compression_level: must be 1..9", v),
          ch::kBadArguments);
    }
    s.http_zlib_compression_level = static_cast<int>(v);
  }
  return Status::OK();
}

std::vector<std::string_view> KnownSettingNames() {
  std::vector<std::string_view> out;
  out.reserve(std::size(kKnownSettings));
  for (const auto& k : kKnownSettings) out.push_back(k.name);
  return out;
}

}  // namespace trackhouse::query
