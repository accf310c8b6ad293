#include "sql/ast.h"

#include <utility>

namespace trackhouse::sql {

Expr::Expr() = default;
Expr::~Expr() = default;
Expr::Expr(Expr&&) noexcept = default;
Expr& Expr::operator=(Expr&&) noexcept = default;

Statement::~Statement() = default;

namespace {

ExprPtr MakeLiteral(LiteralKind kind, size_t pos) {
  auto e = std::make_unique<Expr>();
  e->kind = ExprKind::kLiteral;
  e->literal_kind = kind;
  e->pos = pos;
  return e;
}

ExprList CloneList(const ExprList& list) {
  ExprList out;
  out.reserve(list.size());
  for (const auto& e : list) out.push_back(e ? CloneExpr(*e) : nullptr);
  return out;
}

ExprPtr CloneOrNull(const ExprPtr& e) { return e ? CloneExpr(*e) : nullptr; }

std::vector<Setting> CloneSettings(const std::vector<Setting>& settings) {
  std::vector<Setting> out;
  for (const auto& s : settings) out.push_back(Setting{s.pos, s.name, CloneOrNull(s.value)});
  return out;
}

std::unique_ptr<SelectQuery> CloneSelectQuery(const SelectQuery& q) {
  auto out = std::make_unique<SelectQuery>();
  out->pos = q.pos;
  for (const auto& w : q.with) out->with.push_back(WithItem{CloneOrNull(w.expr), w.is_cte});
  out->distinct = q.distinct;
  out->columns = CloneList(q.columns);
  if (q.from) {
    auto t = std::make_unique<TableExpr>();
    t->kind = q.from->kind;
    t->pos = q.from->pos;
    t->database = q.from->database;
    t->table = q.from->table;
    if (q.from->subquery) t->subquery = CloneSelectUnion(*q.from->subquery);
    t->function = CloneOrNull(q.from->function);
    t->alias = q.from->alias;
    t->final = q.from->final;
    out->from = std::move(t);
  }
  out->prewhere = CloneOrNull(q.prewhere);
  out->where = CloneOrNull(q.where);
  out->group_by = CloneList(q.group_by);
  out->group_by_with_totals = q.group_by_with_totals;
  out->having = CloneOrNull(q.having);
  for (const auto& o : q.order_by) {
    OrderByItem item;
    item.pos = o.pos;
    item.expr = CloneOrNull(o.expr);
    item.descending = o.descending;
    item.nulls = o.nulls;
    item.collation = o.collation;
    item.with_fill = o.with_fill;
    item.fill_from = CloneOrNull(o.fill_from);
    item.fill_to = CloneOrNull(o.fill_to);
    item.fill_step = CloneOrNull(o.fill_step);
    out->order_by.push_back(std::move(item));
  }
  out->limit_by_length = CloneOrNull(q.limit_by_length);
  out->limit_by_offset = CloneOrNull(q.limit_by_offset);
  out->limit_by = CloneList(q.limit_by);
  out->limit_length = CloneOrNull(q.limit_length);
  out->limit_offset = CloneOrNull(q.limit_offset);
  out->settings = CloneSettings(q.settings);
  return out;
}

}  // namespace

ExprPtr MakeNullLiteral(size_t pos) { return MakeLiteral(LiteralKind::kNull, pos); }

ExprPtr MakeUInt64Literal(uint64_t value, size_t pos) {
  auto e = MakeLiteral(LiteralKind::kUInt64, pos);
  e->uint_value = value;
  return e;
}

ExprPtr MakeInt64Literal(int64_t value, size_t pos) {
  auto e = MakeLiteral(LiteralKind::kInt64, pos);
  e->int_value = value;
  return e;
}

ExprPtr MakeFloat64Literal(double value, size_t pos) {
  auto e = MakeLiteral(LiteralKind::kFloat64, pos);
  e->float_value = value;
  return e;
}

ExprPtr MakeStringLiteral(std::string value, size_t pos) {
  auto e = MakeLiteral(LiteralKind::kString, pos);
  e->string_value = std::move(value);
  return e;
}

ExprPtr MakeBoolLiteral(bool value, size_t pos) {
  auto e = MakeLiteral(LiteralKind::kBool, pos);
  e->bool_value = value;
  return e;
}

ExprPtr MakeIdentifier(std::vector<std::string> parts, size_t pos) {
  auto e = std::make_unique<Expr>();
  e->kind = ExprKind::kIdentifier;
  e->parts = std::move(parts);
  e->pos = pos;
  return e;
}

ExprPtr MakeFunction(std::string name, ExprList args, size_t pos) {
  auto e = std::make_unique<Expr>();
  e->kind = ExprKind::kFunction;
  e->name = std::move(name);
  e->args = std::move(args);
  e->pos = pos;
  return e;
}

ExprPtr CloneExpr(const Expr& expr) {
  auto e = std::make_unique<Expr>();
  e->kind = expr.kind;
  e->pos = expr.pos;
  e->alias = expr.alias;
  e->literal_kind = expr.literal_kind;
  e->uint_value = expr.uint_value;
  e->int_value = expr.int_value;
  e->float_value = expr.float_value;
  e->bool_value = expr.bool_value;
  e->string_value = expr.string_value;
  e->parts = expr.parts;
  e->name = expr.name;
  e->type = expr.type;
  e->args = CloneList(expr.args);
  e->params = CloneList(expr.params);
  e->has_params = expr.has_params;
  e->distinct = expr.distinct;
  e->lambda_params = expr.lambda_params;
  if (expr.subquery) e->subquery = CloneSelectUnion(*expr.subquery);
  return e;
}

std::unique_ptr<SelectUnion> CloneSelectUnion(const SelectUnion& query) {
  auto out = std::make_unique<SelectUnion>();
  out->pos = query.pos;
  for (const auto& s : query.selects) out->selects.push_back(CloneSelectQuery(*s));
  return out;
}

std::string_view StatementKindName(StatementKind kind) {
  switch (kind) {
    case StatementKind::kSelect:
      return "SELECT";
    case StatementKind::kInsert:
      return "INSERT";
    case StatementKind::kCreateDatabase:
      return "CREATE DATABASE";
    case StatementKind::kCreateTable:
      return "CREATE TABLE";
    case StatementKind::kDropTable:
      return "DROP TABLE";
    case StatementKind::kDropDatabase:
      return "DROP DATABASE";
    case StatementKind::kTruncateTable:
      return "TRUNCATE TABLE";
    case StatementKind::kRenameTable:
      return "RENAME TABLE";
    case StatementKind::kAlterTable:
      return "ALTER TABLE";
    case StatementKind::kOptimize:
      return "OPTIMIZE TABLE";
    case StatementKind::kShowTables:
      return "SHOW TABLES";
    case StatementKind::kShowDatabases:
      return "SHOW DATABASES";
    case StatementKind::kShowCreateTable:
      return "SHOW CREATE TABLE";
    case StatementKind::kDescribe:
      return "DESCRIBE TABLE";
    case StatementKind::kExists:
      return "EXISTS";
    case StatementKind::kUse:
      return "USE";
    case StatementKind::kSet:
      return "SET";
    case StatementKind::kSystem:
      return "SYSTEM";
    case StatementKind::kKillQuery:
      return "KILL QUERY";
  }
  return "UNKNOWN";
}

std::string_view ColumnDefaultKindName(ColumnDefaultKind kind) {
  switch (kind) {
    case ColumnDefaultKind::kNone:
      return "";
    case ColumnDefaultKind::kDefault:
      return "DEFAULT";
    case ColumnDefaultKind::kMaterialized:
      return "MATERIALIZED";
    case ColumnDefaultKind::kAlias:
      return "ALIAS";
    case ColumnDefaultKind::kEphemeral:
      return "EPHEMERAL";
  }
  return "";
}

bool IsDdlStatement(StatementKind kind) {
  switch (kind) {
    case StatementKind::kCreateDatabase:
    case StatementKind::kCreateTable:
    case StatementKind::kDropTable:
    case StatementKind::kDropDatabase:
    case StatementKind::kTruncateTable:
    case StatementKind::kRenameTable:
    case StatementKind::kAlterTable:
    case StatementKind::kOptimize:
      return true;
    default:
      return false;
  }
}

}  // namespace trackhouse::sql
