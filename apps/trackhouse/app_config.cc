#include "apps/trackhouse/app_config.h"

#include <fmt/format.h>
#include <strings.h>
#include <toml++/toml.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <optional>

namespace trackhouse::app {
namespace {

// One settable key: applies a TOML node or returns what was expected.
using Setter = std::function<Status(const toml::node&, const std::string& where)>;

template <typename T>
Setter UInt(T* field) {
  return [field](const toml::node& n, const std::string& where) -> Status {
    auto v = n.value<int64_t>();
    if (!n.is_integer() || !v || *v < 0 ||
        static_cast<uint64_t>(*v) > std::numeric_limits<T>::max()) {
      return Status::InvalidArgument(
          fmt::format("{}: expected an integer from 0 to {}", where,
                      static_cast<uint64_t>(std::numeric_limits<T>::max())));
    }
    *field = static_cast<T>(*v);
    return Status::OK();
  };
}

Setter Int64(int64_t* field) {
  return [field](const toml::node& n, const std::string& where) -> Status {
    if (!n.is_integer()) return Status::InvalidArgument(where + ": expected an integer");
    *field = *n.value<int64_t>();
    return Status::OK();
  };
}

Setter Bool(bool* field) {
  return [field](const toml::node& n, const std::string& where) -> Status {
    if (!n.is_boolean()) return Status::InvalidArgument(where + ": expected true or false");
    *field = *n.value<bool>();
    return Status::OK();
  };
}

Setter String(std::string* field) {
  return [field](const toml::node& n, const std::string& where) -> Status {
    if (!n.is_string()) return Status::InvalidArgument(where + ": expected a string");
    *field = *n.value<std::string>();
    return Status::OK();
  };
}

// [query] max_execution_time: seconds (integer or fractional), kept in milliseconds.
Setter Seconds(uint64_t* field_ms) {
  return [field_ms](const toml::node& n, const std::string& where) -> Status {
    double v = 0;
    if (n.is_integer()) {
      v = static_cast<double>(*n.value<int64_t>());
    } else if (n.is_floating_point()) {
      v = *n.value<double>();
    } else {
      return Status::InvalidArgument(where + ": expected a number of seconds");
    }
    if (!(v >= 0) || v > 1e12) {
      return Status::InvalidArgument(where + ": expected a non-negative number of seconds");
    }
    *field_ms = static_cast<uint64_t>(v * 1000 + 0.5);
    return Status::OK();
  };
}

// Milliseconds as a non-negative integer.
Setter Millis(std::chrono::milliseconds* field) {
  return [field](const toml::node& n, const std::string& where) -> Status {
    auto v = n.value<int64_t>();
    if (!n.is_integer() || !v || *v < 0) {
      return Status::InvalidArgument(where + ": expected a number of milliseconds >= 0");
    }
    *field = std::chrono::milliseconds(*v);
    return Status::OK();
  };
}

// An inline table of strings: { "a" = "b", ... }.
Setter StringMap(std::map<std::string, std::string>* field) {
  return [field](const toml::node& n, const std::string& where) -> Status {
    const toml::table* table = n.as_table();
    if (table == nullptr) return Status::InvalidArgument(where + ": expected a table of strings");
    std::map<std::string, std::string> values;
    for (const auto& [key, value] : *table) {
      if (!value.is_string()) {
        return Status::InvalidArgument(where + "." + std::string(key.str()) +
                                       ": expected a string");
      }
      values[std::string(key.str())] = *value.value<std::string>();
    }
    *field = std::move(values);
    return Status::OK();
  };
}

// An array of strings.
Setter Strings(std::vector<std::string>* field) {
  return [field](const toml::node& n, const std::string& where) -> Status {
    const toml::array* array = n.as_array();
    std::vector<std::string> values;
    for (size_t i = 0; array != nullptr && i < array->size(); ++i) {
      const toml::node& item = *array->get(i);
      if (!item.is_string()) break;
      values.push_back(*item.value<std::string>());
    }
    if (array == nullptr || values.size() != array->size()) {
      return Status::InvalidArgument(where + ": expected an array of strings");
    }
    *field = std::move(values);
    return Status::OK();
  };
}

// [[keys]] rate_per_second, burst: a non-negative number (integer or fractional).
Setter NonNegative(double* field) {
  return [field](const toml::node& n, const std::string& where) -> Status {
    std::optional<double> v = n.is_number() ? n.value<double>() : std::nullopt;
    if (!v || !(*v >= 0) || std::isinf(*v)) {
      return Status::InvalidArgument(where + ": expected a number >= 0");
    }
    *field = *v;
    return Status::OK();
  };
}

Setter Role(server::KeyRole* field) {
  return [field](const toml::node& n, const std::string& where) -> Status {
    std::optional<std::string> v = n.value<std::string>();
    if (n.is_string() && *v == "write") {
      *field = server::KeyRole::kWrite;
    } else if (n.is_string() && *v == "read") {
      *field = server::KeyRole::kRead;
    } else if (n.is_string() && *v == "admin") {
      *field = server::KeyRole::kAdmin;
    } else {
      return Status::InvalidArgument(where + ": expected \"write\", \"read\" or \"admin\"");
    }
    return Status::OK();
  };
}

// [[server.users]]: an array of tables, each with `name` and `password`.
Setter Users(std::vector<server::UserEntry>* users) {
  return [users](const toml::node& n, const std::string& where) -> Status {
    const toml::array* array = n.as_array();
    if (array == nullptr || !array->is_array_of_tables()) {
      return Status::InvalidArgument(where +
                                     ": expected [[server.users]] tables with name and password");
    }
    users->clear();
    for (const toml::node& item : *array) {
      const toml::table& t = *item.as_table();
      server::UserEntry user;
      for (const auto& [key, value] : t) {
        std::string k(key.str());
        if ((k != "name" && k != "password") || !value.is_string()) {
          return Status::InvalidArgument(fmt::format(
              "{}: unknown key or non-string value '{}' (a user has name and password)", where, k));
        }
        (k == "name" ? user.name : user.password) = *value.value<std::string>();
      }
      if (user.name.empty()) return Status::InvalidArgument(where + ": a user needs a name");
      for (const auto& other : *users) {
        if (other.name == user.name) {
          return Status::InvalidArgument(
              fmt::format("{}: user '{}' is defined twice", where, user.name));
        }
      }
      users->push_back(std::move(user));
    }
    return Status::OK();
  };
}

// Applies the keys of one table; `section` is how errors name it ("[server]", "[[keys]] #2").
Status ApplySection(const toml::table& table, const std::string& file, const std::string& section,
                    const std::map<std::string, Setter>& setters) {
  for (const auto& [key, node] : table) {
    std::string name(key.str());
    std::string where = fmt::format("{}: {} {}", file, section, name);
    auto it = setters.find(name);
    if (it == setters.end()) {
      std::string known;
      for (const auto& [k, s] : setters) known += (known.empty() ? "" : ", ") + k;
      return Status::InvalidArgument(
          fmt::format("{}: unknown key (known keys of {}: {})", where, section, known));
    }
    TH_RETURN_IF_ERROR(it->second(node, where));
  }
  return Status::OK();
}

// Keys shorter than this are refused: they could be guessed.
constexpr size_t kMinKeyLength = 16;

// [[keys]]: an array of tables, each one API key (server::ApiKey). Keys are secrets: errors
// name the entry by its position and name, never by its key.
Status LoadKeys(const toml::node& node, const std::string& file,
                std::vector<server::ApiKey>* keys) {
  const toml::array* array = node.as_array();
  if (array == nullptr || !array->is_array_of_tables()) {
    return Status::InvalidArgument(
        file +
        ": keys: expected [[keys]] tables with name, key, role, tables, rate_per_second, "
        "burst");
  }
  keys->clear();
  for (size_t i = 0; i < array->size(); ++i) {
    server::ApiKey key;
    std::string section = fmt::format("[[keys]] #{}", i + 1);
    const std::map<std::string, Setter> setters = {
        {"name", String(&key.name)},
        {"key", String(&key.key)},
        {"role", Role(&key.role)},
        {"tables", Strings(&key.tables)},
        {"rate_per_second", NonNegative(&key.rate_per_second)},
        {"burst", NonNegative(&key.burst)}};
    TH_RETURN_IF_ERROR(ApplySection(*array->get(i)->as_table(), file, section, setters));
    std::string where = fmt::format("{}: {}", file, section);
    if (key.name.empty())
      return Status::InvalidArgument(where + " name: expected a non-empty name");
    if (key.key.size() < kMinKeyLength) {
      return Status::InvalidArgument(fmt::format(
          "{} key: expected at least {} characters, got {} (a short key can be guessed; make one "
          "with `openssl rand -hex 24`)",
          where, kMinKeyLength, key.key.size()));
    }
    if (key.burst > 0 && key.burst < 1) {
      return Status::InvalidArgument(where + " burst: expected 0 (= the rate) or at least 1");
    }
    for (size_t j = 0; j < keys->size(); ++j) {
      const server::ApiKey& other = (*keys)[j];
      if (other.name == key.name) {
        return Status::InvalidArgument(
            fmt::format("{} name: '{}' is also the name of [[keys]] #{}", where, key.name, j + 1));
      }
      if (other.key == key.key) {
        return Status::InvalidArgument(
            fmt::format("{} key: the same key as [[keys]] #{} ('{}')", where, j + 1, other.name));
      }
    }
    keys->push_back(std::move(key));
  }
  return Status::OK();
}

// A [server] cors_origins entry: "*" or an origin as browsers send it ("https://example.com",
// "http://localhost:3000"): scheme and host, no path (one trailing '/' is tolerated: the server
// ignores it).
bool IsOrigin(std::string_view origin) {
  if (origin == "*") return true;
  if (origin.ends_with('/')) origin.remove_suffix(1);
  size_t scheme_end = origin.find("://");
  if (scheme_end == std::string_view::npos) return false;
  std::string scheme(origin.substr(0, scheme_end));
  std::string_view host = origin.substr(scheme_end + 3);
  return (strcasecmp(scheme.c_str(), "http") == 0 || strcasecmp(scheme.c_str(), "https") == 0) &&
         !host.empty() && host.find_first_of("/?#* ") == std::string_view::npos;
}

// Checks that hold between keys, once the whole file is read.
Status ValidateServer(const server::ServerOptions& s, const std::string& file) {
  Status proxies = server::ValidateProxyList(s.access.trusted_proxies);
  if (!proxies.ok()) {
    return Status::InvalidArgument(
        fmt::format("{}: [auth] trusted_proxies: {}", file, proxies.message()));
  }
  if (s.access.jwt_leeway_seconds < 0) {
    return Status::InvalidArgument(
        file + ": [auth] jwt_leeway_seconds: expected a number of seconds >= 0");
  }
  for (const std::string& origin : s.cors_origins) {
    if (!IsOrigin(origin)) {
      return Status::InvalidArgument(
          fmt::format("{}: [server] cors_origins: '{}' is not an origin (expected \"*\" or "
                      "scheme://host[:port] "
                      "without a path, e.g. \"https://example.com\")",
                      file, origin));
    }
  }
  return Status::OK();
}

}  // namespace

Status ParseListen(std::string_view listen, std::string* host, uint16_t* port) {
  size_t colon = listen.rfind(':');
  if (colon == std::string_view::npos) {
    return Status::InvalidArgument(fmt::format(
        "invalid listen address '{}': expected HOST:PORT, e.g. 127.0.0.1:8124", listen));
  }
  std::string_view h = listen.substr(0, colon);
  std::string_view p = listen.substr(colon + 1);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (h.empty()) h = "0.0.0.0";
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
  if (p.empty() || ec != std::errc() || ptr != p.data() + p.size() || value > 65535) {
    return Status::InvalidArgument(
        fmt::format("invalid port in listen address '{}': expected 0..65535", listen));
  }
  *host = std::string(h);
  *port = static_cast<uint16_t>(value);
  return Status::OK();
}

Status LoadConfigFile(const std::string& path, AppConfig* config) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return Status::InvalidArgument(
        fmt::format("{}:{}:{}: {}", path, where.line, where.column, e.description()));
  } catch (const std::exception& e) {
    return Status::IOError(fmt::format("cannot read config file {}: {}", path, e.what()));
  }

  server::ServerOptions& s = config->server;
  engine::EngineOptions& e = config->engine;
  query::QueryEngineOptions& q = config->query;
  const std::map<std::string, std::map<std::string, Setter>> sections = {
      {"server",
       {{"listen", String(&config->listen)},
        {"io_threads", UInt(&s.io_threads)},
        {"max_connections", UInt(&s.max_connections)},
        {"max_concurrent_requests", UInt(&s.max_concurrent_requests)},
        {"max_request_header_bytes", UInt(&s.max_request_header_bytes)},
        {"max_query_bytes", UInt(&s.max_query_bytes)},
        {"keep_alive_timeout_ms", UInt(&s.keep_alive_timeout_ms)},
        {"keep_alive_linger_us", UInt(&s.keep_alive_linger_us)},
        {"io_timeout_ms", UInt(&s.io_timeout_ms)},
        {"read_chunk_bytes", UInt(&s.read_chunk_bytes)},
        {"stop_timeout_ms", UInt(&s.stop_timeout_ms)},
        {"users", Users(&s.users)},
        {"max_sessions", UInt(&s.sessions.max_sessions)},
        {"default_session_timeout", UInt(&s.sessions.default_timeout_s)},
        {"max_session_timeout", UInt(&s.sessions.max_timeout_s)},
        {"display_name", String(&s.display_name)},
        {"tls_cert", String(&s.tls_cert_file)},
        {"tls_key", String(&s.tls_key_file)},
        {"cors_origins", Strings(&s.cors_origins)},
        {"header_timeout_ms", UInt(&s.header_timeout_ms)},
        {"min_body_bytes_per_second", UInt(&s.min_body_bytes_per_second)}}},
      {"auth",
       {{"jwt_secret", String(&s.access.jwt_secret)},
        {"jwt_leeway_seconds", Int64(&s.access.jwt_leeway_seconds)},
        {"trusted_proxies", Strings(&s.access.trusted_proxies)},
        {"trusted_user_header", String(&s.access.trusted_user_header)}}},
      {"track",
       {{"max_body_bytes", UInt(&s.track.max_body_bytes)},
        {"max_rows", UInt(&s.track.max_rows)},
        {"max_string_bytes", UInt(&s.track.max_string_bytes)},
        {"user_id_column", String(&s.track.user_id_column)},
        {"ip_column", String(&s.track.ip_column)},
        {"user_agent_column", String(&s.track.user_agent_column)},
        {"skip_unknown_fields_tables", Strings(&s.track.skip_unknown_fields_tables)},
        {"idempotency_window_seconds", UInt(&s.track.idempotency_window_seconds)}}},
      {"query",
       {{"max_threads", UInt(&q.max_threads)},
        {"max_execution_time", Seconds(&q.max_execution_time_ms)},
        {"max_memory_usage", UInt(&q.max_memory_usage)},
        {"max_result_rows", UInt(&q.max_result_rows)},
        {"max_result_bytes", UInt(&q.max_result_bytes)},
        {"max_group_array_size", UInt(&q.max_group_array_size)}}},
      {"insert",
       {{"max_insert_block_size", UInt(&s.ingest.max_insert_block_size)},
        {"skip_unknown_fields", Bool(&s.ingest.skip_unknown_fields)},
        {"max_row_bytes", UInt(&s.ingest.max_row_bytes)}}},
      {"storage", {{"data", String(&config->data_dir)}, {"mode", String(&config->storage_mode)}}},
      {"engine",
       {{"sync", Bool(&e.sync)},
        {"log_compress", Bool(&e.log_compress)},
        {"log_segment_bytes", UInt(&e.log_segment_bytes)},
        {"flush_rows", UInt(&e.flush_rows)},
        {"flush_bytes", UInt(&e.flush_bytes)},
        {"flush_age_ms", Int64(&e.flush_age_ms)},
        {"memtable_budget_bytes", UInt(&e.memtable_budget_bytes)},
        {"index_granularity", UInt(&e.index_granularity)},
        {"codec", String(&e.codec)},
        {"merge_min_parts", UInt(&e.merge_min_parts)},
        {"merge_max_parts", UInt(&e.merge_max_parts)},
        {"merge_max_rows", UInt(&e.merge_max_rows)},
        {"merge_threads", UInt(&e.merge_threads)},
        {"max_idempotency_keys", UInt(&e.max_idempotency_keys)},
        {"ttl_check_interval_ms", Int64(&e.ttl_check_interval_ms)},
        {"flush_check_interval_ms", Int64(&e.flush_check_interval_ms)},
        {"test_pause_ms", Int64(&e.test_pause_ms)}}},
      {"clickhouse",
       {{"url", String(&config->clickhouse_url)},
        {"cluster", String(&config->delivery.cluster)},
        {"tls_ca_file", String(&config->delivery.clickhouse.tls_ca_file)},
        {"tls_verify", Bool(&config->delivery.clickhouse.tls_verify)},
        {"batch_max_rows", UInt(&config->delivery.batch_max_rows)},
        {"batch_max_bytes", UInt(&config->delivery.batch_max_bytes)},
        {"batch_max_age_ms", UInt(&config->delivery.batch_max_age_ms)},
        {"spool_max_bytes", UInt(&config->delivery.spool_max_bytes)},
        {"set_deduplication_window", Bool(&config->delivery.set_deduplication_window)},
        {"sync", Bool(&config->delivery.sync)},
        {"request_timeout_ms", Millis(&config->delivery.clickhouse.request_timeout)},
        {"connect_timeout_ms", Millis(&config->delivery.clickhouse.connect_timeout)},
        {"retry_min_ms", UInt(&config->delivery.retry_min_ms)},
        {"retry_max_ms", UInt(&config->delivery.retry_max_ms)},
        {"shard_http_addresses", StringMap(&config->delivery.shard_http_addresses)},
        {"ttl_check_interval_ms", UInt(&config->ttl_check_interval_ms)}}},
      {"client", {{"url", String(&config->client_url)}}},
      {"log", {{"level", String(&config->log_level)}, {"format", String(&config->log_format)}}},
  };

  for (const auto& [key, node] : root) {
    std::string name(key.str());
    if (name == "keys") {
      TH_RETURN_IF_ERROR(LoadKeys(node, path, &s.access.keys));
      continue;
    }
    auto it = sections.find(name);
    if (it == sections.end()) {
      return Status::InvalidArgument(
          fmt::format("{}: unknown section [{}] (known: auth, clickhouse, client, engine, insert, "
                      "[[keys]], log, query, server, storage, track)",
                      path, name));
    }
    const toml::table* table = node.as_table();
    if (table == nullptr) {
      return Status::InvalidArgument(fmt::format("{}: '{}' must be a [section]", path, name));
    }
    TH_RETURN_IF_ERROR(ApplySection(*table, path, "[" + name + "]", it->second));
  }
  TH_RETURN_IF_ERROR(ValidateServer(s, path));
  if (!config->clickhouse_url.empty() && config->storage_mode == "embedded") {
    config->storage_mode = "clickhouse";
  }
  if (config->storage_mode != "embedded" && config->storage_mode != "clickhouse") {
    return Status::InvalidArgument(fmt::format(
        "{}: [storage] mode = \"{}\": expected \"embedded\" or \"clickhouse\"", path,
        config->storage_mode));
  }
  if (config->storage_mode == "clickhouse" && config->clickhouse_url.empty()) {
    return Status::InvalidArgument(fmt::format(
        "{}: [storage] mode = \"clickhouse\" needs [clickhouse] url (e.g. "
        "\"http://127.0.0.1:8123\")",
        path));
  }
  if (!config->clickhouse_url.empty()) {
    auto url = clickhouse::ClientOptions::FromUrl(config->clickhouse_url);
    if (!url.ok()) {
      return Status::InvalidArgument(
          fmt::format("{}: [clickhouse] url: {}", path, url.status().message()));
    }
  }
  if (config->delivery.batch_max_rows == 0 || config->delivery.batch_max_bytes == 0) {
    return Status::InvalidArgument(
        path + ": [clickhouse] batch_max_rows and batch_max_bytes must be at least 1");
  }
  return Status::OK();
}

}  // namespace trackhouse::app
