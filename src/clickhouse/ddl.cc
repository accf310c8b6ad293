#include "clickhouse/ddl.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <set>
#include <utility>

#include "clickhouse/schema.h"
#include "clickhouse/ttl.h"
#include "common/logging.h"
#include "sql/format.h"
#include "sql/parser.h"

namespace trackhouse::clickhouse {
namespace {

using sql::AlterCommandKind;
using sql::StatementKind;

// `type` (normalized type text) with every DateTime64(p[, tz]) replaced by DateTime([tz]).
// Quoted parts (Enum names) are copied as they are.
std::string WithoutDateTime64(std::string_view type, bool* changed) {
  static constexpr std::string_view kWord = "DateTime64";
  std::string out;
  size_t i = 0;
  while (i < type.size()) {
    char c = type[i];
    if (c == '\'') {  // a quoted part, copied whole
      size_t j = i + 1;
      while (j < type.size() && type[j] != '\'') j += type[j] == '\\' ? 2 : 1;
      j = std::min(j + 1, type.size());
      out.append(type.substr(i, j - i));
      i = j;
      continue;
    }
    bool word_start = i == 0 || !(std::isalnum(static_cast<unsigned char>(type[i - 1])) ||
                                  type[i - 1] == '_');
    if (!word_start || type.substr(i, kWord.size()) != kWord) {
      out.push_back(c);
      ++i;
      continue;
    }
    size_t after = i + kWord.size();
    size_t end = after;
    std::vector<std::string> args;
    if (after < type.size() && type[after] == '(') {
      int depth = 0;
      for (end = after; end < type.size(); ++end) {
        if (type[end] == '\'') {
          ++end;
          while (end < type.size() && type[end] != '\'') end += type[end] == '\\' ? 2 : 1;
          continue;
        }
        if (type[end] == '(') ++depth;
        if (type[end] == ')' && --depth == 0) break;
      }
      end = std::min(end + 1, type.size());
      args = EngineArguments(type.substr(i, end - i));
    }
    out += args.size() > 1 ? "DateTime(" + QuoteString(args[1]) + ")" : "DateTime";
    *changed = true;
    i = end;
  }
  return out;
}

// `type` with every LowCardinality(T) replaced by T. Quoted parts (Enum names) are copied as
// they are.
std::string WithoutLowCardinality(std::string_view type, bool* changed) {
  static constexpr std::string_view kWord = "LowCardinality(";
  std::string out;
  std::vector<int> closes;  // depths whose ')' belongs to a removed LowCardinality(
  int depth = 0;
  for (size_t i = 0; i < type.size(); ++i) {
    char c = type[i];
    if (c == '\'') {
      size_t j = i + 1;
      while (j < type.size() && type[j] != '\'') j += type[j] == '\\' ? 2 : 1;
      j = std::min(j + 1, type.size());
      out.append(type.substr(i, j - i));
      i = j - 1;
      continue;
    }
    bool word_start = i == 0 || !(std::isalnum(static_cast<unsigned char>(type[i - 1])) ||
                                  type[i - 1] == '_');
    if (word_start && type.substr(i, kWord.size()) == kWord) {
      closes.push_back(++depth);
      i += kWord.size() - 1;
      *changed = true;
      continue;
    }
    if (c == '(') ++depth;
    if (c == ')') {
      if (!closes.empty() && closes.back() == depth) {
        closes.pop_back();
        --depth;
        continue;
      }
      --depth;
    }
    out.push_back(c);
  }
  return out;
}

// The expression with DateTime64 functions and CAST types replaced by their DateTime forms:
// now64(...) -> now(), toDateTime64(x, p[, tz]) -> toDateTime(x[, tz]), CAST(x, 'DateTime64(3)')
// -> CAST(x, 'DateTime').
void AdaptExprWithoutDateTime64(sql::Expr* e, bool* changed) {
  if (e == nullptr) return;
  if (e->kind == sql::ExprKind::kFunction) {
    if (e->name == "now64") {
      e->name = "now";
      e->args.clear();
      *changed = true;
    } else if (e->name == "toDateTime64" && e->args.size() >= 2) {
      e->name = "toDateTime";
      e->args.erase(e->args.begin() + 1);
      *changed = true;
    } else if (e->name == "CAST" && e->args.size() == 2 &&
               e->args[1]->IsLiteral(sql::LiteralKind::kString)) {
      e->args[1]->string_value = WithoutDateTime64(e->args[1]->string_value, changed);
    }
  }
  for (auto& a : e->args) AdaptExprWithoutDateTime64(a.get(), changed);
  for (auto& p : e->params) AdaptExprWithoutDateTime64(p.get(), changed);
}

// The TTL elements as one expression: the first one at which a row expires. Elements with a
// WHERE are left out (reported in *skipped).
std::string CombinedTtl(const std::vector<sql::TtlElement>& ttl, std::vector<std::string>* skipped) {
  std::string combined;
  for (const auto& t : ttl) {
    if (t.where) {
      skipped->push_back(sql::FormatExpr(*t.expr) + " WHERE " + sql::FormatExpr(*t.where));
      continue;
    }
    std::string e = sql::FormatExpr(*t.expr);
    combined = combined.empty() ? e : fmt::format("least({}, {})", combined, e);
  }
  return combined;
}

// How `database`.`table` prints in the formatter's statements.
std::string FormattedName(const std::string& database, const std::string& table) {
  sql::DropTableStmt d;
  d.database = database;
  d.table = table;
  return sql::FormatStatement(d).substr(std::string_view("DROP TABLE ").size());
}

std::string FormattedDatabase(const std::string& name) {
  sql::DropDatabaseStmt d;
  d.name = name;
  return sql::FormatStatement(d).substr(std::string_view("DROP DATABASE ").size());
}

// The statement printed by the formatter, sent ON CLUSTER `cluster`.
Result<std::string> FormatOnCluster(const sql::Statement& stmt, const std::string& cluster) {
  std::string text = sql::FormatStatement(stmt);
  const std::string on = " ON CLUSTER " + QuoteIdentifier(cluster);
  std::string head;
  switch (stmt.kind) {
    case StatementKind::kCreateTable: {
      const auto& s = *stmt.As<sql::CreateTableStmt>();
      head = std::string("CREATE TABLE ") + (s.if_not_exists ? "IF NOT EXISTS " : "") +
             FormattedName(s.database, s.table);
      break;
    }
    case StatementKind::kDropTable: {
      const auto& s = *stmt.As<sql::DropTableStmt>();
      head = std::string("DROP TABLE ") + (s.if_exists ? "IF EXISTS " : "") +
             FormattedName(s.database, s.table);
      break;
    }
    case StatementKind::kTruncateTable: {
      const auto& s = *stmt.As<sql::TruncateTableStmt>();
      head = std::string("TRUNCATE TABLE ") + (s.if_exists ? "IF EXISTS " : "") +
             FormattedName(s.database, s.table);
      break;
    }
    case StatementKind::kAlterTable: {
      const auto& s = *stmt.As<sql::AlterTableStmt>();
      head = "ALTER TABLE " + FormattedName(s.database, s.table);
      break;
    }
    case StatementKind::kOptimize: {
      const auto& s = *stmt.As<sql::OptimizeStmt>();
      head = "OPTIMIZE TABLE " + FormattedName(s.database, s.table);
      break;
    }
    case StatementKind::kCreateDatabase: {
      const auto& s = *stmt.As<sql::CreateDatabaseStmt>();
      head = std::string("CREATE DATABASE ") + (s.if_not_exists ? "IF NOT EXISTS " : "") +
             FormattedDatabase(s.name);
      break;
    }
    case StatementKind::kDropDatabase: {
      const auto& s = *stmt.As<sql::DropDatabaseStmt>();
      head = std::string("DROP DATABASE ") + (s.if_exists ? "IF EXISTS " : "") +
             FormattedDatabase(s.name);
      break;
    }
    case StatementKind::kRenameTable:
      return text + on;
    default:
      return Status::NotSupported(fmt::format("{} cannot be sent ON CLUSTER by trackhouse",
                                              sql::StatementKindName(stmt.kind)));
  }
  if (!text.starts_with(head)) {
    return Status::Internal(fmt::format("cannot place ON CLUSTER in '{}'", text.substr(0, 80)));
  }
  return text.insert(head.size(), on);
}

// Adapts one parsed statement to the server; records what it did in *plan.
class Adapter {
 public:
  Adapter(const Capabilities& caps, bool strip_low_cardinality, DdlPlan* plan)
      : caps_(caps), strip_low_cardinality_(strip_low_cardinality), plan_(plan) {}

  void Note(std::string line) {
    if (record_) plan_->adaptations.push_back(std::move(line));
  }
  // Only the first of several copies of one statement reports its adaptations.
  void set_record(bool record) { record_ = record; }

  // Column type, DEFAULT and TTL. Returns whether anything changed.
  bool Column(sql::ColumnDef* c) {
    bool changed = false;
    if (!caps_.datetime64) {
      bool type_changed = false;
      std::string type = WithoutDateTime64(c->type, &type_changed);
      if (type_changed) {
        Note(fmt::format("column {} {} is created as {} ({} has no DateTime64)", c->name, c->type,
                         type, Server()));
        c->type = std::move(type);
        changed = true;
      }
      bool default_changed = false;
      AdaptExprWithoutDateTime64(c->default_expr.get(), &default_changed);
      if (default_changed) {
        Note(fmt::format("column {}: DateTime64 functions of its {} expression use DateTime",
                         c->name, sql::ColumnDefaultKindName(c->default_kind)));
        changed = true;
      }
    }
    if (strip_low_cardinality_) {
      bool type_changed = false;
      std::string type = WithoutLowCardinality(c->type, &type_changed);
      if (type_changed) {
        Note(fmt::format("column {} {} is created as {}: {} runs ON CLUSTER DDL with the "
                         "servers' profile, which does not set "
                         "allow_experimental_low_cardinality_type=1 (set it there to keep "
                         "LowCardinality)",
                         c->name, c->type, type, Server()));
        c->type = std::move(type);
        changed = true;
      }
    }
    if (!caps_.ttl && c->ttl) {
      Note(fmt::format("column {}: its TTL {} is removed and not enforced ({} has no TTL)",
                       c->name, sql::FormatExpr(*c->ttl), Server()));
      c->ttl.reset();
      changed = true;
    }
    return changed;
  }

  // A key or TTL expression.
  bool Expr(sql::ExprPtr& e) {
    if (caps_.datetime64 || !e) return false;
    bool changed = false;
    AdaptExprWithoutDateTime64(e.get(), &changed);
    return changed;
  }

  // The table TTL, removed and returned as one expression when the server has no TTL ("" when
  // it has or there is none to record).
  std::string TakeTtl(std::vector<sql::TtlElement>* ttl, bool* changed) {
    if (caps_.ttl || ttl->empty()) return "";
    for (auto& t : *ttl) {
      *changed |= Expr(t.expr);
    }
    std::vector<std::string> skipped;
    std::string combined = CombinedTtl(*ttl, &skipped);
    for (const auto& s : skipped) {
      Note(fmt::format("TTL {} is removed and not enforced (a TTL with WHERE cannot drop whole "
                       "partitions)",
                       s));
    }
    if (!combined.empty()) {
      Note(fmt::format("TTL {} is removed; trackhouse drops expired partitions itself ({} has "
                       "no TTL)",
                       combined, Server()));
    }
    ttl->clear();
    *changed = true;
    return combined;
  }

 private:
  std::string Server() const { return "ClickHouse " + caps_.version.ToString(); }

  const Capabilities& caps_;
  const bool strip_low_cardinality_;
  DdlPlan* plan_;
  bool record_ = true;
};

bool IsColumnCommand(AlterCommandKind kind) {
  return kind == AlterCommandKind::kAddColumn || kind == AlterCommandKind::kDropColumn ||
         kind == AlterCommandKind::kModifyColumn || kind == AlterCommandKind::kRenameColumn ||
         kind == AlterCommandKind::kCommentColumn;
}

Result<sql::StatementPtr> Reparse(std::string_view sql) {
  auto parsed = sql::ParseStatement(sql);
  if (!parsed.ok()) return parsed.status().WithContext("cannot adapt the DDL statement");
  return parsed;
}

Status PlanCreateTable(const Capabilities& caps, const std::string& cluster, std::string_view sql,
                       const std::string& database, bool strip_low_cardinality, DdlPlan* plan) {
  TH_ASSIGN_OR_RETURN(sql::StatementPtr parsed, Reparse(sql));
  auto* c = parsed->As<sql::CreateTableStmt>();
  const std::string db = c->database.empty() ? database : c->database;
  const std::string table = c->table;
  plan->table = db + "." + table;
  Adapter adapter(caps, strip_low_cardinality, plan);
  bool changed = false;
  for (auto& col : c->columns) changed |= adapter.Column(&col);
  changed |= adapter.Expr(c->partition_by);
  changed |= adapter.Expr(c->order_by);
  changed |= adapter.Expr(c->primary_key);
  changed |= adapter.Expr(c->sample_by);
  std::string ttl = adapter.TakeTtl(&c->ttl, &changed);

  bool split = !cluster.empty() && c->engine && c->engine->name.ends_with("MergeTree");
  if (!ttl.empty()) {
    plan->ttl.push_back({db, split ? table + std::string(kLocalSuffix) : table, ttl});
  }
  if (cluster.empty()) {
    plan->statements.push_back(changed ? sql::FormatStatement(*c) : std::string(sql));
    return Status::OK();
  }
  c->database = db;
  if (!c->as_table.empty() && c->as_database.empty()) c->as_database = db;
  if (!split) {
    TH_ASSIGN_OR_RETURN(std::string text, FormatOnCluster(*c, cluster));
    plan->statements.push_back(std::move(text));
    return Status::OK();
  }
  const std::string local = table + std::string(kLocalSuffix);
  c->table = local;
  TH_ASSIGN_OR_RETURN(std::string local_text, FormatOnCluster(*c, cluster));
  plan->statements.push_back(std::move(local_text));
  plan->statements.push_back(fmt::format(
      "CREATE TABLE {}{} ON CLUSTER {} AS {} ENGINE = Distributed({}, {}, {}, rand())",
      c->if_not_exists ? "IF NOT EXISTS " : "", FormattedName(db, table),
      QuoteIdentifier(cluster), FormattedName(db, local), QuoteString(cluster), QuoteString(db),
      QuoteString(local)));
  return Status::OK();
}

Status PlanAlterTable(const Capabilities& caps, const std::string& cluster, std::string_view sql,
                      const std::string& database, bool has_local, bool strip_low_cardinality,
                      DdlPlan* plan) {
  // One copy per target: the local tables take every command, the Distributed table only the
  // column commands.
  const int copies = !cluster.empty() && has_local ? 2 : 1;
  for (int copy = 0; copy < copies; ++copy) {
    TH_ASSIGN_OR_RETURN(sql::StatementPtr parsed, Reparse(sql));
    auto* a = parsed->As<sql::AlterTableStmt>();
    const std::string db = a->database.empty() ? database : a->database;
    const std::string table = a->table;
    plan->table = db + "." + table;
    Adapter adapter(caps, strip_low_cardinality, plan);
    adapter.set_record(copy == 0);
    const bool distributed_copy = copy == 1;
    const std::string target = copies == 2 && !distributed_copy
                                   ? table + std::string(kLocalSuffix)
                                   : table;
    bool changed = false;
    std::vector<sql::AlterCommand> kept;
    for (auto& cmd : a->commands) {
      if (distributed_copy && !IsColumnCommand(cmd.kind)) continue;
      if (cmd.kind == AlterCommandKind::kAddColumn ||
          cmd.kind == AlterCommandKind::kModifyColumn) {
        changed |= adapter.Column(&cmd.column);
      }
      if (!caps.ttl && cmd.kind == AlterCommandKind::kModifyTtl) {
        std::string ttl = adapter.TakeTtl(&cmd.ttl, &changed);
        if (copy == 0) plan->ttl.push_back({db, target, ttl});
        continue;
      }
      if (!caps.ttl && cmd.kind == AlterCommandKind::kRemoveTtl) {
        adapter.Note("REMOVE TTL: trackhouse stops dropping expired partitions");
        if (copy == 0) plan->ttl.push_back({db, target, ""});
        changed = true;
        continue;
      }
      if (cmd.kind == AlterCommandKind::kModifyTtl) {
        for (auto& t : cmd.ttl) changed |= adapter.Expr(t.expr);
      }
      kept.push_back(std::move(cmd));
    }
    if (distributed_copy) changed = true;
    if (kept.empty()) continue;
    a->commands = std::move(kept);
    if (cluster.empty()) {
      plan->statements.push_back(changed ? sql::FormatStatement(*a) : std::string(sql));
      continue;
    }
    a->database = db;
    a->table = target;
    TH_ASSIGN_OR_RETURN(std::string text, FormatOnCluster(*a, cluster));
    plan->statements.push_back(std::move(text));
  }
  return Status::OK();
}

// DROP/TRUNCATE/OPTIMIZE of a table, database statements and RENAME: only the cluster changes
// them (and DROP forgets a recorded TTL).
Status PlanOther(const Capabilities& caps, const std::string& cluster,
                 const sql::Statement& stmt, std::string_view sql, const std::string& database,
                 bool has_local, DdlPlan* plan) {
  std::string* db_field = nullptr;
  std::string* table_field = nullptr;
  TH_ASSIGN_OR_RETURN(sql::StatementPtr parsed, Reparse(sql));
  if (auto* d = parsed->As<sql::DropTableStmt>()) {
    db_field = &d->database;
    table_field = &d->table;
  } else if (auto* t = parsed->As<sql::TruncateTableStmt>()) {
    db_field = &t->database;
    table_field = &t->table;
  } else if (auto* o = parsed->As<sql::OptimizeStmt>()) {
    db_field = &o->database;
    table_field = &o->table;
  }
  if (table_field != nullptr) {
    if (db_field->empty()) *db_field = database;
    plan->table = *db_field + "." + *table_field;
  }
  if (!caps.ttl && stmt.kind == StatementKind::kDropTable) {
    plan->ttl.push_back({*db_field, *table_field, ""});
    if (!cluster.empty() && has_local) {
      plan->ttl.push_back({*db_field, *table_field + std::string(kLocalSuffix), ""});
    }
  }
  if (cluster.empty()) {
    plan->statements.emplace_back(sql);
    return Status::OK();
  }
  const bool drop = stmt.kind == StatementKind::kDropTable;
  if (table_field != nullptr && has_local && !drop) {
    *table_field += kLocalSuffix;  // TRUNCATE and OPTIMIZE act on the shards' data
  }
  TH_ASSIGN_OR_RETURN(std::string text, FormatOnCluster(*parsed, cluster));
  plan->statements.push_back(std::move(text));
  if (drop && has_local) {
    *table_field += kLocalSuffix;
    TH_ASSIGN_OR_RETURN(std::string local_text, FormatOnCluster(*parsed, cluster));
    plan->statements.push_back(std::move(local_text));
  }
  return Status::OK();
}

// The table a cluster statement names, when it acts on one that may have local tables.
bool NamedTable(const sql::Statement& stmt, const std::string& database, std::string* db,
                std::string* table) {
  auto take = [&](const std::string& d, const std::string& t) {
    *db = d.empty() ? database : d;
    *table = t;
    return true;
  };
  if (const auto* s = stmt.As<sql::DropTableStmt>()) return take(s->database, s->table);
  if (const auto* s = stmt.As<sql::TruncateTableStmt>()) return take(s->database, s->table);
  if (const auto* s = stmt.As<sql::OptimizeStmt>()) return take(s->database, s->table);
  if (const auto* s = stmt.As<sql::AlterTableStmt>()) return take(s->database, s->table);
  return false;
}

// Logs each adaptation once per table (a statement retried or repeated logs nothing new).
void LogOnce(const DdlPlan& plan) {
  static std::mutex mu;
  static std::set<std::string>* logged = new std::set<std::string>();
  for (const auto& line : plan.adaptations) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!logged->insert(plan.table + "\n" + line).second) continue;
    }
    logging::Info("clickhouse_adaptation", {{"table", plan.table}, {"adaptation", line}});
  }
}

}  // namespace

Result<DdlPlan> PlanDdl(const Capabilities& capabilities, const std::string& cluster,
                        const sql::Statement& stmt, std::string_view sql,
                        const std::string& database, bool has_local_table,
                        bool strip_low_cardinality) {
  DdlPlan plan;
  switch (stmt.kind) {
    case StatementKind::kCreateTable:
      TH_RETURN_IF_ERROR(PlanCreateTable(capabilities, cluster, sql, database,
                                         strip_low_cardinality, &plan));
      break;
    case StatementKind::kAlterTable:
      TH_RETURN_IF_ERROR(PlanAlterTable(capabilities, cluster, sql, database, has_local_table,
                                        strip_low_cardinality, &plan));
      break;
    default:
      TH_RETURN_IF_ERROR(
          PlanOther(capabilities, cluster, stmt, sql, database, has_local_table, &plan));
  }
  return plan;
}

Status RunDdl(const DdlContext& context, const sql::Statement& stmt, std::string_view sql,
              const std::string& database) {
  RequestOptions request;
  request.database = database;
  request.settings = context.capabilities->RequiredSettings();
  bool has_local = false;
  std::string db, table;
  if (!context.cluster.empty() && NamedTable(stmt, database, &db, &table)) {
    TH_ASSIGN_OR_RETURN(
        std::string count,
        context.client->Query(fmt::format(
            "SELECT count() FROM system.tables WHERE database = {} AND name = {} FORMAT "
            "TabSeparated",
            QuoteString(db), QuoteString(table + std::string(kLocalSuffix)))));
    has_local = count != "0\n";
  }
  // ClickHouse runs ON CLUSTER DDL with each server's profile, not the request's settings: on
  // 18.x LowCardinality columns then need the profile to allow them, or become their type.
  bool strip_low_cardinality = false;
  if (!context.cluster.empty() && context.capabilities->low_cardinality_needs_setting &&
      sql.find("LowCardinality") != std::string_view::npos) {
    TH_ASSIGN_OR_RETURN(std::string allowed,
                        context.client->Query("SELECT value FROM system.settings WHERE name = "
                                              "'allow_experimental_low_cardinality_type' FORMAT "
                                              "TabSeparated"));
    strip_low_cardinality = allowed != "1\n";
  }
  TH_ASSIGN_OR_RETURN(DdlPlan plan, PlanDdl(*context.capabilities, context.cluster, stmt, sql,
                                            database, has_local, strip_low_cardinality));
  for (const std::string& text : plan.statements) {
    TH_RETURN_IF_ERROR(context.client->Query(text, request).status());
  }
  LogOnce(plan);
  if (!context.capabilities->ttl) {
    if (const auto* rename = stmt.As<sql::RenameTableStmt>()) {
      for (const auto& r : rename->renames) {
        Status moved = MoveTtl(*context.client, r.from_database.empty() ? database : r.from_database,
                               r.from_table, r.to_database.empty() ? database : r.to_database,
                               r.to_table);
        if (!moved.ok()) {
          return moved.WithContext(fmt::format("the tables were renamed, but the TTL trackhouse "
                                               "enforces for {} could not follow",
                                               r.from_table));
        }
      }
    }
  }
  for (const auto& record : plan.ttl) {
    Status st = RecordTtl(*context.client, record.database, record.table, record.expr);
    if (!st.ok()) {
      return st.WithContext(fmt::format("the statement ran, but trackhouse could not record the "
                                        "TTL of {}.{} it enforces itself",
                                        record.database, record.table));
    }
  }
  return Status::OK();
}

}  // namespace trackhouse::clickhouse
