#include "apps/trackhouse/app_config.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <charconv>
#include <functional>
#include <limits>
#include <map>

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

Status ApplySection(const toml::table& table, const std::string& file, const std::string& section,
                    const std::map<std::string, Setter>& setters) {
  for (const auto& [key, node] : table) {
    std::string name(key.str());
    std::string where = fmt::format("{}: [{}] {}", file, section, name);
    auto it = setters.find(name);
    if (it == setters.end()) {
      std::string known;
      for (const auto& [k, s] : setters) known += (known.empty() ? "" : ", ") + k;
      return Status::InvalidArgument(
          fmt::format("{}: unknown key (known keys of [{}]: {})", where, section, known));
    }
    TH_RETURN_IF_ERROR(it->second(node, where));
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
        {"io_timeout_ms", UInt(&s.io_timeout_ms)},
        {"read_chunk_bytes", UInt(&s.read_chunk_bytes)},
        {"stop_timeout_ms", UInt(&s.stop_timeout_ms)},
        {"users", Users(&s.users)},
        {"max_sessions", UInt(&s.sessions.max_sessions)},
        {"default_session_timeout", UInt(&s.sessions.default_timeout_s)},
        {"max_session_timeout", UInt(&s.sessions.max_timeout_s)},
        {"display_name", String(&s.display_name)}}},
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
        {"ttl_check_interval_ms", Int64(&e.ttl_check_interval_ms)},
        {"flush_check_interval_ms", Int64(&e.flush_check_interval_ms)},
        {"test_pause_ms", Int64(&e.test_pause_ms)}}},
      {"client", {{"url", String(&config->client_url)}}},
      {"log", {{"level", String(&config->log_level)}}},
  };

  for (const auto& [key, node] : root) {
    std::string name(key.str());
    auto it = sections.find(name);
    if (it == sections.end()) {
      return Status::InvalidArgument(fmt::format(
          "{}: unknown section [{}] (known: client, engine, insert, log, query, server, storage)",
          path, name));
    }
    const toml::table* table = node.as_table();
    if (table == nullptr) {
      return Status::InvalidArgument(fmt::format("{}: '{}' must be a [section]", path, name));
    }
    TH_RETURN_IF_ERROR(ApplySection(*table, path, name, it->second));
  }
  if (config->storage_mode != "embedded") {
    return Status::InvalidArgument(
        fmt::format("{}: [storage] mode = \"{}\" is not supported yet (only \"embedded\")", path,
                    config->storage_mode));
  }
  return Status::OK();
}

}  // namespace trackhouse::app
