#include "engine/table_def.h"

#include <fmt/format.h>

#include <set>

#include "sql/format.h"
#include "sql/parser.h"
#include "types/convert.h"

namespace trackhouse::engine {
namespace {

// A plain name from an identifier or string-literal argument (Buffer's database and table).
Result<std::string> NameArg(const sql::Expr& e, std::string_view what) {
  if (e.kind == sql::ExprKind::kIdentifier && !e.parts.empty()) return e.parts.back();
  if (e.IsLiteral(sql::LiteralKind::kString)) return e.string_value;
  return Status::InvalidArgument(
      fmt::format("Buffer: the {} argument must be a name (position {})", what, e.pos + 1),
      ch::kBadArguments);
}

Result<int64_t> IntArg(const sql::Expr& e, std::string_view what) {
  if (e.IsLiteral(sql::LiteralKind::kUInt64)) return static_cast<int64_t>(e.uint_value);
  if (e.IsLiteral(sql::LiteralKind::kFloat64)) return static_cast<int64_t>(e.float_value);
  return Status::InvalidArgument(
      fmt::format("Buffer: the {} argument must be a non-negative number (position {})", what,
                  e.pos + 1),
      ch::kBadArguments);
}

Result<std::vector<std::string>> KeyColumns(const sql::Expr* e, const storage::TableSchema& s,
                                            std::string_view clause) {
  std::vector<std::string> out;
  if (e == nullptr) return out;
  std::vector<const sql::Expr*> items;
  if (e->IsFunction("tuple")) {
    for (const auto& a : e->args) items.push_back(a.get());
  } else {
    items.push_back(e);
  }
  for (const sql::Expr* item : items) {
    if (item->kind != sql::ExprKind::kIdentifier || item->parts.size() != 1) {
      return Status::NotSupported(
          fmt::format("{} supports only column names, not the expression {} (position {})", clause,
                      sql::FormatExpr(*item), item->pos + 1));
    }
    const std::string& name = item->parts[0];
    if (s.FindColumn(name) == nullptr) {
      return Status::InvalidArgument(
          fmt::format("Missing columns: '{}' while processing {} (position {})", name, clause,
                      item->pos + 1),
          ch::kUnknownIdentifier);
    }
    out.push_back(name);
  }
  return out;
}

}  // namespace

std::vector<eval::InputColumn> TableDef::InputColumns() const {
  std::vector<eval::InputColumn> out;
  for (const auto& c : schema->columns) out.push_back({c.name, c.type});
  return out;
}

Status CompleteCreateStatement(sql::CreateTableStmt* stmt, const std::string& database,
                               const std::string& like_create_sql) {
  if (stmt->database.empty()) stmt->database = database;
  if (stmt->as_table.empty()) return Status::OK();
  TH_ASSIGN_OR_RETURN(sql::StatementPtr parsed, sql::ParseStatement(like_create_sql));
  auto* like = parsed->As<sql::CreateTableStmt>();
  if (like == nullptr) return Status::Internal("stored table definition is not CREATE TABLE");
  stmt->columns.clear();
  for (auto& c : like->columns) stmt->columns.push_back(std::move(c));
  if (!stmt->engine) {
    stmt->engine = std::move(like->engine);
    stmt->partition_by = std::move(like->partition_by);
    stmt->order_by = std::move(like->order_by);
    stmt->primary_key = std::move(like->primary_key);
    stmt->ttl = std::move(like->ttl);
    stmt->settings = std::move(like->settings);
  }
  stmt->as_database.clear();
  stmt->as_table.clear();
  return Status::OK();
}

Result<TableDefPtr> BuildTableDef(const sql::CreateTableStmt& stmt, uint64_t id,
                                  uint32_t default_granularity) {
  auto def = std::make_shared<TableDef>();
  def->id = id;
  auto schema = std::make_shared<storage::TableSchema>();
  schema->database = stmt.database;
  schema->name = stmt.table;
  if (stmt.as_select) {
    return Status::NotSupported("CREATE TABLE ... AS SELECT is not supported by trackhouse");
  }
  if (stmt.columns.empty()) {
    return Status::InvalidArgument(
        fmt::format("Table {}.{} has no columns", stmt.database, stmt.table), ch::kIncorrectQuery);
  }
  std::set<std::string> seen;
  for (const auto& c : stmt.columns) {
    if (!seen.insert(c.name).second) {
      return Status::InvalidArgument(
          fmt::format("Column {} is specified more than once (position {})", c.name, c.pos + 1),
          ch::kDuplicateColumn);
    }
    storage::ColumnDef cd;
    cd.name = c.name;
    if (c.type.empty()) {
      return Status::InvalidArgument(
          fmt::format("Column {} has no type (position {})", c.name, c.pos + 1),
          ch::kIncorrectQuery);
    }
    auto type = types::ParseDataType(c.type);
    if (!type.ok()) {
      return type.status().WithContext(fmt::format("column {} (position {})", c.name, c.pos + 1));
    }
    if ((*type)->is_array()) {
      return Status::NotSupported(fmt::format(
          "Column {} has type {}: Array columns cannot be stored in tables yet", c.name,
          (*type)->name()));
    }
    cd.type = *type;
    switch (c.default_kind) {
      case sql::ColumnDefaultKind::kNone:
        cd.default_kind = storage::DefaultKind::kNone;
        break;
      case sql::ColumnDefaultKind::kDefault:
        cd.default_kind = storage::DefaultKind::kDefault;
        break;
      case sql::ColumnDefaultKind::kMaterialized:
        cd.default_kind = storage::DefaultKind::kMaterialized;
        break;
      case sql::ColumnDefaultKind::kAlias:
        return Status::NotSupported(
            fmt::format("ALIAS columns are not supported (column {})", c.name));
      case sql::ColumnDefaultKind::kEphemeral:
        return Status::NotSupported(
            fmt::format("EPHEMERAL columns are not supported (column {})", c.name));
    }
    if (c.default_expr) cd.default_expr = sql::FormatExpr(*c.default_expr);
    if (c.ttl) {
      return Status::NotSupported(
          fmt::format("Column TTL is not supported (column {}); use a table TTL", c.name));
    }
    schema->columns.push_back(std::move(cd));
  }
  // Every DEFAULT must compile against the columns and convert to its column's type.
  std::vector<eval::InputColumn> inputs;
  for (const auto& c : schema->columns) inputs.push_back({c.name, c.type});
  for (const auto& c : stmt.columns) {
    if (!c.default_expr) continue;
    auto compiled = eval::Compile(*c.default_expr, inputs);
    if (!compiled.ok()) {
      return compiled.status().WithContext(fmt::format("DEFAULT of column {}", c.name));
    }
  }

  if (!stmt.engine) {
    return Status::InvalidArgument(
        fmt::format("Table {}.{} needs an ENGINE clause", stmt.database, stmt.table),
        ch::kIncorrectQuery);
  }
  const std::string& engine = stmt.engine->name;
  schema->engine = engine;
  if (engine == "MergeTree" || engine == "ReplacingMergeTree" || engine == "SummingMergeTree") {
    def->kind = engine == "MergeTree"            ? EngineKind::kMergeTree
                : engine == "ReplacingMergeTree" ? EngineKind::kReplacing
                                                 : EngineKind::kSumming;
    const auto& args = stmt.engine->args;
    if (def->kind == EngineKind::kMergeTree && !args.empty()) {
      return Status::InvalidArgument("MergeTree takes no arguments (use PARTITION BY/ORDER BY)",
                                     ch::kNumberOfArgumentsDoesntMatch);
    }
    if (def->kind == EngineKind::kReplacing) {
      if (args.size() > 1) {
        return Status::NotSupported("ReplacingMergeTree takes at most one argument (version)");
      }
      if (args.size() == 1) {
        TH_ASSIGN_OR_RETURN(auto cols, KeyColumns(args[0].get(), *schema, "ReplacingMergeTree"));
        def->version_column = cols.at(0);
      }
    }
    if (def->kind == EngineKind::kSumming && !args.empty()) {
      TH_ASSIGN_OR_RETURN(def->sum_columns, KeyColumns(args[0].get(), *schema, "SummingMergeTree"));
    }
    if (!stmt.order_by && !stmt.primary_key) {
      return Status::InvalidArgument(
          fmt::format("Storage {} requires ORDER BY or PRIMARY KEY", engine), ch::kBadArguments);
    }
    TH_ASSIGN_OR_RETURN(def->sort_key,
                        KeyColumns(stmt.order_by ? stmt.order_by.get() : stmt.primary_key.get(),
                                   *schema, "ORDER BY"));
    if (stmt.order_by && stmt.primary_key) {
      TH_ASSIGN_OR_RETURN(auto pk, KeyColumns(stmt.primary_key.get(), *schema, "PRIMARY KEY"));
      if (pk.size() > def->sort_key.size() ||
          !std::equal(pk.begin(), pk.end(), def->sort_key.begin())) {
        return Status::InvalidArgument("Primary key must be a prefix of the sorting key",
                                       ch::kBadArguments);
      }
    }
    if (stmt.partition_by) {
      auto compiled = eval::Compile(*stmt.partition_by, inputs);
      if (!compiled.ok()) return compiled.status().WithContext("PARTITION BY");
      def->partition_sql = sql::FormatExpr(*stmt.partition_by);
      def->partition_expr = std::move(compiled).value();
    }
    if (!stmt.ttl.empty()) {
      if (stmt.ttl.size() > 1 || stmt.ttl[0].where) {
        return Status::NotSupported("Only one TTL ... DELETE rule per table is supported");
      }
      auto compiled = eval::Compile(*stmt.ttl[0].expr, inputs);
      if (!compiled.ok()) return compiled.status().WithContext("TTL");
      if (!(*compiled)->type()->Unwrapped().is_time()) {
        return Status::InvalidArgument(
            fmt::format("TTL expression result column should have DateTime or Date type, but "
                        "has {}",
                        (*compiled)->type()->name()),
            ch::kBadArguments);
      }
      def->ttl_sql = sql::FormatExpr(*stmt.ttl[0].expr);
      def->ttl_expr = std::move(compiled).value();
    }
    def->index_granularity = default_granularity;
    for (const auto& s : stmt.settings) {
      if (s.name == "index_granularity") {
        if (!s.value || !s.value->IsLiteral(sql::LiteralKind::kUInt64) ||
            s.value->uint_value == 0 || s.value->uint_value > (1u << 24)) {
          return Status::InvalidArgument("index_granularity must be a positive integer",
                                         ch::kBadArguments);
        }
        def->index_granularity = static_cast<uint32_t>(s.value->uint_value);
      }
      // Other MergeTree settings are accepted and have no effect in trackhouse.
    }
  } else if (engine == "Buffer") {
    def->kind = EngineKind::kBuffer;
    const auto& a = stmt.engine->args;
    if (a.size() != 9) {
      return Status::InvalidArgument(
          fmt::format("Storage Buffer requires 9 parameters: database, table, num_layers, "
                      "min_time, max_time, min_rows, max_rows, min_bytes, max_bytes; got {}",
                      a.size()),
          ch::kNumberOfArgumentsDoesntMatch);
    }
    BufferParams& b = def->buffer;
    TH_ASSIGN_OR_RETURN(b.database, NameArg(*a[0], "database"));
    TH_ASSIGN_OR_RETURN(b.table, NameArg(*a[1], "table"));
    TH_ASSIGN_OR_RETURN(b.num_layers, IntArg(*a[2], "num_layers"));
    TH_ASSIGN_OR_RETURN(b.min_time_s, IntArg(*a[3], "min_time"));
    TH_ASSIGN_OR_RETURN(b.max_time_s, IntArg(*a[4], "max_time"));
    TH_ASSIGN_OR_RETURN(b.min_rows, IntArg(*a[5], "min_rows"));
    TH_ASSIGN_OR_RETURN(b.max_rows, IntArg(*a[6], "max_rows"));
    TH_ASSIGN_OR_RETURN(b.min_bytes, IntArg(*a[7], "min_bytes"));
    TH_ASSIGN_OR_RETURN(b.max_bytes, IntArg(*a[8], "max_bytes"));
    if (b.database.empty()) b.database = stmt.database;
    schema->buffer_database = b.database;
    schema->buffer_table = b.table;
    if (stmt.partition_by || stmt.order_by || !stmt.ttl.empty()) {
      return Status::InvalidArgument("Buffer tables take no PARTITION BY, ORDER BY or TTL",
                                     ch::kBadArguments);
    }
  } else {
    static const char* kKnown[] = {"Log",
                                   "TinyLog",
                                   "StripeLog",
                                   "Memory",
                                   "Null",
                                   "Distributed",
                                   "AggregatingMergeTree",
                                   "CollapsingMergeTree",
                                   "VersionedCollapsingMergeTree",
                                   "GraphiteMergeTree",
                                   "ReplicatedMergeTree",
                                   "Kafka",
                                   "Join",
                                   "Set",
                                   "File",
                                   "URL",
                                   "Dictionary",
                                   "MaterializedView"};
    for (const char* k : kKnown) {
      if (engine == k) {
        return Status::NotSupported(
            fmt::format("Engine {} is not supported by trackhouse (supported: MergeTree, "
                        "ReplacingMergeTree, SummingMergeTree, Buffer)",
                        engine),
            ch::kUnknownStorage);
      }
    }
    return Status::InvalidArgument(fmt::format("Unknown table engine {}", engine),
                                   ch::kUnknownStorage);
  }
  schema->create_sql = sql::FormatStatement(stmt);
  // As ClickHouse, SHOW CREATE TABLE of a MergeTree table names its granularity.
  if (def->kind != EngineKind::kBuffer && stmt.settings.empty()) {
    schema->create_sql += fmt::format("\nSETTINGS index_granularity = {}", def->index_granularity);
  }
  def->schema = std::move(schema);
  return TableDefPtr(std::move(def));
}

}  // namespace trackhouse::engine
