// Expression rewriting for the planner: structural keys, alias inlining, parameter binding,
// and replacing subtrees (aggregate calls, GROUP BY keys) by references to computed columns.
// Pure functions over sql::Expr trees; thread-safe.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "eval/expression.h"
#include "sql/ast.h"

namespace trackhouse::query {

// A key that is equal for structurally equal expressions, ignoring aliases (the column name
// ClickHouse would give the expression).
std::string ExprKey(const sql::Expr& e);

// Rebuilds `e` bottom-up: `fn` sees every node before its children; when it returns a
// replacement that is used (not visited further), otherwise the node is copied and its
// arguments rebuilt. Errors from fn stop the rebuild.
using ExprRewriter = std::function<Result<sql::ExprPtr>(const sql::Expr& e, bool* replaced)>;
Result<sql::ExprPtr> RewriteExpr(const sql::Expr& e, const ExprRewriter& fn);

// Aliases of a SELECT: every `expr AS name` in the select list (also nested ones) and in WITH.
using AliasMap = std::map<std::string, const sql::Expr*>;
// Adds the aliases defined in `e`; MULTIPLE_EXPRESSIONS_FOR_ALIAS when one name is given to
// two different expressions.
Status CollectAliases(const sql::Expr& e, AliasMap* aliases);

// A copy of `e` with every reference to an alias replaced by the aliased expression (itself
// inlined), and every alias removed. A name that is both an alias and a column means the
// alias, except inside the alias's own expression (`x + 1 AS x` reads column x), as in
// ClickHouse. CYCLIC_ALIASES for `a + 1 AS b, b + 1 AS a` loops.
Result<sql::ExprPtr> InlineAliases(const sql::Expr& e, const AliasMap& aliases);

// Whether `e` contains an aggregate function call (not looking into subqueries).
bool ContainsAggregate(const sql::Expr& e);

// The aggregate calls in `e`, outermost first; ILLEGAL_AGGREGATION for an aggregate inside an
// aggregate's arguments.
Status CollectAggregates(const sql::Expr& e, std::vector<const sql::Expr*>* out);

// Whether the call is an aggregate function call (count(DISTINCT x) included).
bool IsAggregateCall(const sql::Expr& e);

// The value of a constant, non-negative integer expression (LIMIT n, numbers(n)); `what`
// names it in the BAD_ARGUMENTS error otherwise.
Result<uint64_t> ConstantUInt(const sql::Expr& e, const eval::EvalContext& ctx,
                              std::string_view what);

}  // namespace trackhouse::query
