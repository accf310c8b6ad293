#include "query/rewrite.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/error_codes.h"
#include "eval/expression.h"
#include "query/aggregate.h"
#include "sql/format.h"

namespace trackhouse::query {
namespace {

sql::ExprPtr ShallowCopy(const sql::Expr& e) {
  auto c = std::make_unique<sql::Expr>();
  c->kind = e.kind;
  c->pos = e.pos;
  c->alias = e.alias;
  c->literal_kind = e.literal_kind;
  c->uint_value = e.uint_value;
  c->int_value = e.int_value;
  c->float_value = e.float_value;
  c->bool_value = e.bool_value;
  c->string_value = e.string_value;
  c->parts = e.parts;
  c->name = e.name;
  c->type = e.type;
  c->has_params = e.has_params;
  c->distinct = e.distinct;
  c->lambda_params = e.lambda_params;
  if (e.subquery) c->subquery = sql::CloneSelectUnion(*e.subquery);
  return c;
}

struct Inliner {
  const AliasMap& aliases;
  std::vector<std::string> expanding;

  Result<sql::ExprPtr> Inline(const sql::Expr& e) {
    return RewriteExpr(e, [this](const sql::Expr& n, bool* replaced) -> Result<sql::ExprPtr> {
      if (n.kind != sql::ExprKind::kIdentifier || n.parts.size() != 1) return sql::ExprPtr();
      const std::string& name = n.parts[0];
      auto it = aliases.find(name);
      if (it == aliases.end()) return sql::ExprPtr();
      if (std::find(expanding.begin(), expanding.end(), name) != expanding.end()) {
        // `x + 1 AS x`: inside its own definition the name is the column. A longer cycle
        // through other aliases has no column to fall back on in ClickHouse either; the binder
        // reports the missing column if there is none.
        if (expanding.back() == name) return sql::ExprPtr();
        return Status::InvalidArgument(fmt::format("Cyclic aliases for {}", name),
                                       ch::kCyclicAliases);
      }
      const sql::Expr* target = it->second;
      // The alias's own node: `expr AS name` refers to expr.
      if (target == &n) return sql::ExprPtr();
      expanding.push_back(name);
      auto out = Inline(*target);
      expanding.pop_back();
      if (!out.ok()) return out.status();
      (*out)->alias.clear();
      *replaced = true;
      return out;
    });
  }
};

}  // namespace

std::string ExprKey(const sql::Expr& e) { return sql::ExprColumnName(e); }

Result<sql::ExprPtr> RewriteExpr(const sql::Expr& e, const ExprRewriter& fn) {
  bool replaced = false;
  TH_ASSIGN_OR_RETURN(sql::ExprPtr r, fn(e, &replaced));
  if (replaced) return r;
  sql::ExprPtr c = ShallowCopy(e);
  c->alias.clear();
  for (const auto& a : e.args) {
    TH_ASSIGN_OR_RETURN(sql::ExprPtr x, RewriteExpr(*a, fn));
    c->args.push_back(std::move(x));
  }
  for (const auto& p : e.params) c->params.push_back(sql::CloneExpr(*p));
  return c;
}

Status CollectAliases(const sql::Expr& e, AliasMap* aliases) {
  if (!e.alias.empty()) {
    auto [it, inserted] = aliases->emplace(e.alias, &e);
    if (!inserted && it->second != &e && ExprKey(*it->second) != ExprKey(e)) {
      return Status::InvalidArgument(
          fmt::format("Different expressions with the same alias {}:\n{}\nand\n{}", e.alias,
                      ExprKey(*it->second), ExprKey(e)),
          ch::kMultipleExpressionsForAlias);
    }
  }
  if (e.kind == sql::ExprKind::kLambda) return Status::OK();
  for (const auto& a : e.args) TH_RETURN_IF_ERROR(CollectAliases(*a, aliases));
  return Status::OK();
}

Result<sql::ExprPtr> InlineAliases(const sql::Expr& e, const AliasMap& aliases) {
  Inliner inliner{aliases, {}};
  // The top node's own alias is the output name: inline below it, not the node itself.
  return inliner.Inline(e);
}

bool IsAggregateCall(const sql::Expr& e) {
  return e.kind == sql::ExprKind::kFunction && IsAggregateFunctionName(e.name);
}

bool ContainsAggregate(const sql::Expr& e) {
  if (IsAggregateCall(e)) return true;
  if (e.kind == sql::ExprKind::kLambda) return false;
  for (const auto& a : e.args) {
    if (ContainsAggregate(*a)) return true;
  }
  return false;
}

Status CollectAggregates(const sql::Expr& e, std::vector<const sql::Expr*>* out) {
  if (IsAggregateCall(e)) {
    for (const auto& a : e.args) {
      if (ContainsAggregate(*a)) {
        return Status::InvalidArgument(
            fmt::format("Aggregate function {} is found inside another aggregate function in "
                        "query",
                        ExprKey(*a)),
            ch::kIllegalAggregation);
      }
    }
    out->push_back(&e);
    return Status::OK();
  }
  if (e.kind == sql::ExprKind::kLambda) return Status::OK();
  for (const auto& a : e.args) TH_RETURN_IF_ERROR(CollectAggregates(*a, out));
  return Status::OK();
}

Result<uint64_t> ConstantUInt(const sql::Expr& e, const eval::EvalContext& ctx,
                              std::string_view what) {
  auto compiled = eval::Compile(e, {});
  if (!compiled.ok()) return compiled.status();
  if (!(*compiled)->is_constant()) {
    return Status::InvalidArgument(fmt::format("{} must be a constant expression", what),
                                   ch::kBadArguments);
  }
  TH_ASSIGN_OR_RETURN(types::Value v, (*compiled)->EvaluateConstant(ctx));
  if ((v.kind() == types::Value::Kind::kInt && v.int_value() < 0) ||
      (v.kind() != types::Value::Kind::kInt && v.kind() != types::Value::Kind::kUInt)) {
    return Status::InvalidArgument(
        fmt::format("{} must be a non-negative integer, got {}", what, v.ToString()),
        ch::kBadArguments);
  }
  return v.AsUInt();
}

}  // namespace trackhouse::query
