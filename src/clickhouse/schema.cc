#include "clickhouse/schema.h"

#include <memory>

#include "common/error_codes.h"
#include "formats/text_escapes.h"
#include "types/data_type.h"

namespace trackhouse::clickhouse {
namespace {

storage::DefaultKind ParseDefaultKind(std::string_view kind) {
  if (kind == "DEFAULT") return storage::DefaultKind::kDefault;
  if (kind == "MATERIALIZED") return storage::DefaultKind::kMaterialized;
  if (kind == "ALIAS") return storage::DefaultKind::kAlias;
  if (kind == "EPHEMERAL") return storage::DefaultKind::kEphemeral;
  return storage::DefaultKind::kNone;
}

std::string Unquote(std::string_view arg) {
  if (arg.size() >= 2 && (arg.front() == '\'' || arg.front() == '`') && arg.back() == arg.front()) {
    return formats::DecodeEscapedText(arg.substr(1, arg.size() - 2));
  }
  return std::string(arg);
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

}  // namespace

std::vector<std::string> EngineArguments(std::string_view engine_full) {
  std::vector<std::string> args;
  size_t open = engine_full.find('(');
  if (open == std::string_view::npos) return args;
  int depth = 0;
  char quote = 0;
  size_t start = open + 1;
  for (size_t i = open + 1; i < engine_full.size(); ++i) {
    char c = engine_full[i];
    if (quote != 0) {
      if (c == '\\') {
        ++i;
      } else if (c == quote) {
        quote = 0;
      }
      continue;
    }
    if (c == '\'' || c == '`' || c == '"') {
      quote = c;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')' && depth > 0) {
      --depth;
    } else if ((c == ',' || c == ')') && depth == 0) {
      std::string_view arg = Trim(engine_full.substr(start, i - start));
      if (!arg.empty() || c == ',') args.push_back(Unquote(arg));
      start = i + 1;
      if (c == ')') break;
    }
  }
  return args;
}

EngineInfo ParseEngineInfo(std::string engine, std::string engine_full, std::string partition_key,
                           std::string sorting_key) {
  EngineInfo e;
  e.name = std::move(engine);
  e.full = std::move(engine_full);
  e.partition_key = std::move(partition_key);
  e.sorting_key = std::move(sorting_key);
  e.replicated = e.name.rfind("Replicated", 0) == 0;
  std::vector<std::string> args = EngineArguments(e.full);
  if (e.name == "Buffer" && args.size() >= 2) {
    e.buffer = true;
    e.buffer_database = args[0];
    e.buffer_table = args[1];
  }
  if (e.name == "Distributed" && args.size() >= 3) {
    e.distributed = true;
    e.cluster = args[0];
    e.remote_database = args[1];
    e.remote_table = args[2];
    if (args.size() >= 4) e.sharding_key = args[3];
  }
  return e;
}

Result<RemoteTable> FetchTableSchema(Client& client, std::string_view database,
                                     std::string_view table) {
  const std::string where =
      "database = " + QuoteString(database) + " AND " + "table = " + QuoteString(table);
  // system.columns lists a table's columns in table order (ClickHouse 18.16 has no `position`
  // column to sort by).
  TH_ASSIGN_OR_RETURN(std::string columns_tsv,
                      client.Query("SELECT name, type, default_kind, default_expression FROM "
                                   "system.columns WHERE " + where + " FORMAT TabSeparated"));
  TH_ASSIGN_OR_RETURN(
      std::string table_tsv,
      client.Query("SELECT engine, engine_full, partition_key, sorting_key, create_table_query "
                   "FROM system.tables WHERE database = " + QuoteString(database) +
                   " AND name = " + QuoteString(table) + " FORMAT TabSeparated"));
  std::vector<std::vector<std::string>> table_rows = ParseTabSeparated(table_tsv);
  const std::string qualified = std::string(database) + "." + std::string(table);
  if (table_rows.empty()) {
    return Status::NotFound("Table " + qualified + " doesn't exist", ch::kUnknownTable);
  }
  const std::vector<std::string>& t = table_rows.front();
  if (t.size() != 5) {
    return Status::Internal("unexpected system.tables row for " + qualified);
  }

  RemoteTable out;
  out.engine = ParseEngineInfo(t[0], t[1], t[2], t[3]);
  const EngineInfo& e = out.engine;
  storage::TableSchema& s = out.schema;
  s.database = std::string(database);
  s.name = std::string(table);
  s.engine = e.name;
  s.buffer_database = e.buffer_database;
  s.buffer_table = e.buffer_table;
  s.create_sql = t[4];
  for (const std::vector<std::string>& row : ParseTabSeparated(columns_tsv)) {
    if (row.size() != 4) return Status::Internal("unexpected system.columns row for " + qualified);
    Result<types::DataTypePtr> type = types::ParseDataType(row[1]);
    if (!type.ok()) {
      return type.status().WithContext("column " + row[0] + " of " + qualified);
    }
    s.columns.push_back({row[0], *type, ParseDefaultKind(row[2]), row[3]});
  }
  if (s.columns.empty()) {
    return Status::NotFound("Table " + qualified + " doesn't exist", ch::kUnknownTable);
  }
  return out;
}

}  // namespace trackhouse::clickhouse
