#include "clickhouse/capabilities.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>

#include "clickhouse/errors.h"

namespace trackhouse::clickhouse {

Result<ServerVersion> ServerVersion::Parse(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  ServerVersion v;
  uint32_t* parts[] = {&v.major, &v.minor, &v.patch, &v.build};
  const char* p = text.data();
  const char* end = text.data() + text.size();
  int parsed = 0;
  for (uint32_t* part : parts) {
    if (parsed > 0) {
      if (p == end || *p != '.') break;
      ++p;
    }
    auto [next, ec] = std::from_chars(p, end, *part);
    if (ec != std::errc()) break;
    p = next;
    ++parsed;
  }
  if (parsed < 2) {
    return Status::InvalidArgument("cannot parse the ClickHouse version '" +
                                   std::string(text.substr(0, 60)) + "'");
  }
  return v;
}

std::string ServerVersion::ToString() const {
  // fmt rather than std::to_string + "." chains, which GCC 12 at -O3 warns about (-Wrestrict).
  if (build != 0) return fmt::format("{}.{}.{}.{}", major, minor, patch, build);
  return fmt::format("{}.{}.{}", major, minor, patch);
}

Capabilities Capabilities::ForVersion(const ServerVersion& version) {
  Capabilities c;
  c.version = version;
  c.datetime64 = version.AtLeast(20, 1);
  c.ttl = version.AtLeast(19, 6);
  c.http_query_parameters = version.AtLeast(19, 11);
  c.low_cardinality_needs_setting = !version.AtLeast(19, 1);
  c.insert_deduplication_token = version.AtLeast(22, 2);
  c.non_replicated_deduplication_window = version.AtLeast(20, 12);
  return c;
}

Settings Capabilities::RequiredSettings() const {
  Settings s;
  if (low_cardinality_needs_setting) s.emplace_back("allow_experimental_low_cardinality_type", "1");
  return s;
}

std::vector<std::string> Capabilities::Adaptations() const {
  std::vector<std::string> out;
  const std::string v = "ClickHouse " + version.ToString();
  if (!datetime64) {
    out.push_back(v + " has no DateTime64 (from 20.1): DateTime64 columns are created as DateTime");
  }
  if (!ttl) {
    out.push_back(v + " has no TTL (from 19.6): trackhouse drops expired partitions itself");
  }
  if (!http_query_parameters) {
    out.push_back(v + " has no {name:Type} query parameters (from 19.11): trackhouse binds them");
  }
  if (low_cardinality_needs_setting) {
    out.push_back(v + " needs allow_experimental_low_cardinality_type=1 for LowCardinality");
  }
  if (!insert_deduplication_token) {
    out.push_back(v + " has no insert_deduplication_token (from 22.2): exactly-once delivery "
                      "uses block hashes or block numbers");
  }
  return out;
}

Result<Capabilities> DetectCapabilities(Client& client) {
  TH_ASSIGN_OR_RETURN(std::string version_text, client.Query("SELECT version()"));
  TH_ASSIGN_OR_RETURN(ServerVersion version, ServerVersion::Parse(version_text));
  Capabilities c = Capabilities::ForVersion(version);

  // What the server lists is authoritative: names present or absent, one per line.
  TH_ASSIGN_OR_RETURN(
      std::string listed,
      client.Query("SELECT concat('setting:', name) FROM system.settings WHERE name IN "
                   "('insert_deduplication_token', 'allow_experimental_low_cardinality_type') "
                   "UNION ALL SELECT concat('merge_tree:', name) FROM system.merge_tree_settings "
                   "WHERE name = 'non_replicated_deduplication_window' "
                   "UNION ALL SELECT concat('type:', name) FROM system.data_type_families "
                   "WHERE name = 'DateTime64' FORMAT TabSeparated"));
  auto has = [&](std::string_view line) {
    return listed.find(std::string(line) + "\n") != std::string::npos;
  };
  c.insert_deduplication_token = has("setting:insert_deduplication_token");
  c.non_replicated_deduplication_window = has("merge_tree:non_replicated_deduplication_window");
  c.datetime64 = has("type:DateTime64");
  c.low_cardinality_needs_setting =
      c.low_cardinality_needs_setting && has("setting:allow_experimental_low_cardinality_type");

  // {name:Type} parameters: a server without them rejects param_p ("Unknown setting") or the
  // braces (syntax error); either way the probe fails with InvalidArgument.
  RequestOptions probe;
  probe.params = {{"p", "7"}};
  Result<std::string> r = client.Query("SELECT {p:UInt8}", probe);
  if (r.ok()) {
    c.http_query_parameters = *r == "7\n";
  } else if (IsRetryable(r.status())) {
    return r.status();
  } else {
    c.http_query_parameters = false;
  }
  return c;
}

}  // namespace trackhouse::clickhouse
