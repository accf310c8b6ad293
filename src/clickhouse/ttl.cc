#include "clickhouse/ttl.h"

#include <fmt/format.h>

#include <vector>

#include "clickhouse/ddl.h"
#include "common/clock.h"
#include "common/logging.h"

namespace trackhouse::clickhouse {
namespace {

constexpr std::string_view kCreateTtlTable =
    "CREATE TABLE IF NOT EXISTS default.trackhouse_ttl (database String, table String, ttl "
    "String, version UInt64) ENGINE = ReplacingMergeTree(version) ORDER BY (database, table)";

std::string Qualified(std::string_view database, std::string_view table) {
  return QuoteIdentifier(database) + "." + QuoteIdentifier(table);
}

}  // namespace

Status RecordTtl(Client& client, std::string_view database, std::string_view table,
                 std::string_view expr) {
  if (expr.empty()) {
    // Forgetting: write nothing for a table that never had a TTL recorded.
    Result<std::string> had = client.Query(fmt::format(
        "SELECT count() FROM default.trackhouse_ttl WHERE database = {} AND table = {} FORMAT "
        "TabSeparated",
        QuoteString(database), QuoteString(table)));
    if (!had.ok()) {
      return had.status().clickhouse_code() == ch::kUnknownTable ? Status::OK() : had.status();
    }
    if (*had == "0\n") return Status::OK();
  }
  TH_RETURN_IF_ERROR(client.Query(kCreateTtlTable).status());
  std::string insert = fmt::format(
      "INSERT INTO default.trackhouse_ttl (database, table, ttl, version) VALUES ({}, {}, {}, {})",
      QuoteString(database), QuoteString(table), QuoteString(expr), Clock::Real()->NowMicros());
  return client.Query(insert).status();
}

Status MoveTtl(Client& client, std::string_view from_database, std::string_view from_table,
               std::string_view to_database, std::string_view to_table) {
  Result<std::string> current = client.Query(fmt::format(
      "SELECT argMax(ttl, version) FROM default.trackhouse_ttl WHERE database = {} AND table = "
      "{} FORMAT TabSeparated",
      QuoteString(from_database), QuoteString(from_table)));
  if (!current.ok()) {
    return current.status().clickhouse_code() == ch::kUnknownTable ? Status::OK()
                                                                   : current.status();
  }
  auto rows = ParseTabSeparated(*current);
  if (rows.empty() || rows[0].empty() || rows[0][0].empty()) return Status::OK();
  TH_RETURN_IF_ERROR(RecordTtl(client, to_database, to_table, rows[0][0]));
  return RecordTtl(client, from_database, from_table, "");
}

TtlEnforcer::TtlEnforcer(TtlEnforcerOptions options) : options_(std::move(options)) {}

TtlEnforcer::~TtlEnforcer() { Stop(); }

void TtlEnforcer::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void TtlEnforcer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void TtlEnforcer::Loop() {
  while (true) {
    Result<uint64_t> dropped = RunOnce();
    if (!dropped.ok()) {
      logging::Warn("clickhouse_ttl_round_failed", {{"error", dropped.status().ToString()}});
    }
    std::unique_lock<std::mutex> lock(mu_);
    if (cv_.wait_for(lock, options_.interval, [this] { return stop_; })) return;
  }
}

Result<uint64_t> TtlEnforcer::RunOnce() {
  Client client(options_.client);
  Result<std::string> listed = client.Query(
      "SELECT database, table, argMax(ttl, version) FROM default.trackhouse_ttl GROUP BY "
      "database, table FORMAT TabSeparated");
  if (!listed.ok()) {
    // No table yet: nothing was ever recorded.
    if (listed.status().clickhouse_code() == ch::kUnknownTable) return uint64_t{0};
    return listed.status();
  }
  uint64_t dropped = 0;
  for (const auto& row : ParseTabSeparated(*listed)) {
    if (row.size() != 3 || row[2].empty()) continue;
    Result<uint64_t> n = EnforceTable(client, row[0], row[1], row[2]);
    if (!n.ok()) {
      if (n.status().clickhouse_code() == ch::kUnknownTable) continue;
      logging::Warn("clickhouse_ttl_failed", {{"table", row[0] + "." + row[1]},
                                              {"error", n.status().ToString()}});
      continue;
    }
    dropped += *n;
  }
  return dropped;
}

Result<uint64_t> TtlEnforcer::EnforceTable(Client& client, const std::string& database,
                                           const std::string& table, const std::string& expr) {
  TH_ASSIGN_OR_RETURN(
      std::string key_text,
      client.Query(fmt::format("SELECT partition_key FROM system.tables WHERE database = {} AND "
                               "name = {} FORMAT TabSeparated",
                               QuoteString(database), QuoteString(table))));
  auto keys = ParseTabSeparated(key_text);
  if (keys.empty()) {
    return Status::NotFound(fmt::format("Table {}.{} doesn't exist", database, table),
                            ch::kUnknownTable);
  }
  const std::string key = keys[0].empty() ? "" : keys[0][0];
  if (key.empty() || key == "tuple()") {
    std::lock_guard<std::mutex> lock(mu_);
    if (warned_.insert(database + "." + table).second) {
      logging::Warn("clickhouse_ttl_not_enforced",
                    {{"table", database + "." + table},
                     {"ttl", expr},
                     {"detail", "the table has no PARTITION BY, so expired rows cannot be "
                                "dropped a partition at a time"}});
    }
    return uint64_t{0};
  }
  TH_ASSIGN_OR_RETURN(
      std::string parts_text,
      client.Query(fmt::format("SELECT DISTINCT partition FROM system.parts WHERE database = {} "
                               "AND table = {} AND active FORMAT TabSeparated",
                               QuoteString(database), QuoteString(table))));
  // With a cluster the recorded table is a shard's local table: whether a partition has expired
  // is asked of the Distributed table over all shards, since the partition is dropped on all.
  std::string checked = table;
  if (!options_.cluster.empty() && table.ends_with(kLocalSuffix)) {
    checked = table.substr(0, table.size() - kLocalSuffix.size());
  }
  uint64_t dropped = 0;
  for (const auto& part : ParseTabSeparated(parts_text)) {
    if (part.empty() || part[0].empty()) continue;
    const std::string& partition = part[0];
    TH_ASSIGN_OR_RETURN(
        std::string verdict,
        client.Query(fmt::format("SELECT count() > 0 AND max({}) <= now() FROM {} WHERE ({}) = "
                                 "{} FORMAT TabSeparated",
                                 expr, Qualified(database, checked), key, partition)));
    if (verdict != "1\n") continue;
    std::string on_cluster =
        options_.cluster.empty() ? "" : " ON CLUSTER " + QuoteIdentifier(options_.cluster);
    TH_RETURN_IF_ERROR(client
                           .Query(fmt::format("ALTER TABLE {}{} DROP PARTITION {}",
                                              Qualified(database, table), on_cluster, partition))
                           .status());
    logging::Info("clickhouse_ttl_partition_dropped",
                  {{"table", database + "." + table}, {"partition", partition}, {"ttl", expr}});
    ++dropped;
  }
  return dropped;
}

}  // namespace trackhouse::clickhouse
