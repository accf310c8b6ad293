#include "query/select.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>

#include "common/error_codes.h"
#include "eval/expression.h"
#include "formats/text_escapes.h"
#include "query/aggregate.h"
#include "query/aggregator.h"
#include "query/rewrite.h"
#include "query/sources.h"
#include "query/result_ops.h"
#include "sql/format.h"

namespace trackhouse::query {
namespace {

using sql::Expr;
using sql::ExprKind;
using sql::ExprPtr;
using types::Block;
using types::ColumnPtr;

constexpr int kMaxSubqueryDepth = 32;
constexpr size_t kMaxInSetSize = 10'000'000;

std::string ItemName(size_t i) { return fmt::format("__c{}", i); }
std::string ExtraName(size_t i) { return fmt::format("__x{}", i); }
std::string KeyName(size_t i) { return fmt::format("__k{}", i); }
std::string AggName(size_t i) { return fmt::format("__a{}", i); }

// The rows of a filter result column that pass (non-zero, not NULL).
void MaskOf(const types::Column& c, std::vector<uint8_t>* mask) {
  size_t n = c.size();
  mask->assign(n, 0);
  if (c.type()->is_nullable()) {
    const auto& nc = static_cast<const types::ColumnNullable&>(c);
    MaskOf(nc.nested(), mask);
    const auto& nulls = nc.null_map();
    for (size_t i = 0; i < n; ++i) (*mask)[i] &= !nulls[i];
    return;
  }
  if (c.type()->value_width() == 0) return;  // strings never pass a filter
  types::DispatchVector(c.type()->id(), [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    const auto& d = static_cast<const types::ColumnVector<T>&>(c).data();
    for (size_t i = 0; i < n; ++i) (*mask)[i] = d[i] != T{};
  });
}

Status CheckFilterType(const types::DataType& t, std::string_view clause) {
  const types::DataType& u = t.Unwrapped();
  if (u.is_numeric() || u.id() == types::TypeId::kNullable) return Status::OK();
  return Status::InvalidArgument(
      fmt::format("Illegal type {} of column for filter. Must be UInt8 or Nullable(UInt8) ({})",
                  t.name(), clause),
      ch::kIllegalTypeOfArgument);
}

// A literal expression standing for row `row` of a subquery result column (typed: time and
// string-like values go through CAST from their text so their type survives).
ExprPtr ValueExpr(const types::Column& col, const types::Column* text, size_t row, size_t pos) {
  types::Value v = col.GetValue(row);
  if (v.is_null()) return sql::MakeNullLiteral(pos);
  const types::DataType& t = col.type()->Unwrapped();
  if (t.is_time() && text != nullptr) {
    sql::ExprList args;
    args.push_back(sql::MakeStringLiteral(text->GetValue(row).string_value(), pos));
    args.push_back(sql::MakeStringLiteral(t.name(), pos));
    return sql::MakeFunction("CAST", std::move(args), pos);
  }
  switch (v.kind()) {
    case types::Value::Kind::kInt:
      return v.int_value() < 0 ? sql::MakeInt64Literal(v.int_value(), pos)
                               : sql::MakeUInt64Literal(v.int_value(), pos);
    case types::Value::Kind::kUInt:
      return sql::MakeUInt64Literal(v.uint_value(), pos);
    case types::Value::Kind::kFloat:
      return sql::MakeFloat64Literal(v.float_value(), pos);
    case types::Value::Kind::kString:
      return sql::MakeStringLiteral(v.string_value(), pos);
    default:
      return sql::MakeNullLiteral(pos);
  }
}

// Per-column text forms for ValueExpr (null for columns that do not need them).
Result<std::vector<ColumnPtr>> TextColumns(const Block& b) {
  std::vector<ColumnPtr> out;
  for (const auto& c : b.columns()) {
    if (c.type->Unwrapped().is_time()) {
      TH_ASSIGN_OR_RETURN(ColumnPtr t, eval::ConvertColumn(
                                           c.column, types::DataType::Nullable(types::DataType::Get(
                                                         types::TypeId::kString))));
      out.push_back(std::move(t));
    } else {
      out.push_back(nullptr);
    }
  }
  return out;
}

// Parameter values arrive escaped as in TabSeparated (`it\'s`, `a\\b`, `\n`), as ClickHouse
// reads them.
std::string UnescapeParameter(std::string_view v) { return formats::DecodeEscapedText(v); }

// Functions ClickHouse knows to be injective (optimize_injective_functions_in_group_by).
bool IsInjectiveCall(const Expr& e) {
  if (e.kind != ExprKind::kFunction || e.args.size() != 1) return false;
  static const char* const kInjective[] = {
      "toString", "toInt8",    "toInt16",   "toInt32",   "toInt64",  "toUInt8", "toUInt16",
      "toUInt32", "toUInt64",  "toFloat32", "toFloat64", "negate",   "bitNot",  "reverse",
      "hex",      "base64Encode"};
  for (const char* f : kInjective) {
    if (e.name == f) return true;
  }
  return false;
}

class SelectInterpreter {
 public:
  SelectInterpreter(const sql::SelectQuery& q, QueryContext* ctx) : q_(q), ctx_(ctx) {}

  Result<QueryOutput> Run() {
    if (ctx_->depth > kMaxSubqueryDepth) {
      return Status::InvalidArgument("Too deep subqueries", ch::kTooDeepSubqueries);
    }
    TH_RETURN_IF_ERROR(PlanSource());
    TH_RETURN_IF_ERROR(PlanItems());
    TH_RETURN_IF_ERROR(PlanWhere());
    if (aggregating_) {
      TH_RETURN_IF_ERROR(PlanAggregation());
    } else {
      TH_RETURN_IF_ERROR(PlanProjection(input_));
    }
    TH_RETURN_IF_ERROR(PlanLimits());
    TH_RETURN_IF_ERROR(Execute());
    return Finish();
  }

 private:
  // ---- planning ----

  Status PlanSource() {
    if (q_.from && q_.from->kind == sql::TableExpr::Kind::kTable && !q_.with.empty()) {
      // WITH name AS (SELECT ...) referenced in FROM.
      for (const auto& w : q_.with) {
        if (w.is_cte && w.expr->alias == q_.from->table && q_.from->database.empty()) {
          TH_ASSIGN_OR_RETURN(source_, RunSubquerySource(*w.expr->subquery));
          input_ = source_->columns();
          return Status::OK();
        }
      }
    }
    auto runner = [this](const sql::SelectUnion& sub) { return RunSubquerySource(sub); };
    TH_ASSIGN_OR_RETURN(source_, MakeSourcePlan(q_.from.get(), ctx_, runner));
    input_ = source_->columns();
    return Status::OK();
  }

  Result<std::unique_ptr<SourcePlan>> RunSubquerySource(const sql::SelectUnion& sub) {
    ctx_->depth++;
    auto out = ExecuteSelect(sub, ctx_);
    ctx_->depth--;
    if (!out.ok()) return out.status();
    std::vector<eval::InputColumn> cols;
    for (size_t i = 0; i < out->names.size(); ++i) cols.push_back({out->names[i], out->types[i]});
    std::vector<Block> blocks;
    for (auto& b : out->blocks) {
      Block renamed;
      for (size_t i = 0; i < b.num_columns(); ++i) {
        renamed.Add(out->names[i], out->types[i], b.at(i).column);
      }
      blocks.push_back(std::move(renamed));
    }
    return MakeMemorySource(std::move(cols), std::move(blocks));
  }

  Status PlanItems() {
    for (const auto& e : q_.columns) {
      if (e->kind == ExprKind::kAsterisk) {
        for (const auto& c : input_) {
          if (c.name == kRowCountColumn) continue;
          Item it;
          it.owned = sql::MakeIdentifier({c.name}, e->pos);
          it.expr = it.owned.get();
          it.name = c.name;
          items_.push_back(std::move(it));
        }
        continue;
      }
      Item it;
      it.expr = e.get();
      it.name = e->alias.empty() ? sql::ExprColumnName(*e) : e->alias;
      items_.push_back(std::move(it));
    }
    if (items_.empty()) {
      return Status::InvalidArgument("Empty list of columns in SELECT query",
                                     ch::kEmptyListOfColumnsQueried);
    }
    for (const auto& w : q_.with) {
      if (!w.is_cte) TH_RETURN_IF_ERROR(CollectAliases(*w.expr, &aliases_));
    }
    for (const auto& it : items_) TH_RETURN_IF_ERROR(CollectAliases(*it.expr, &aliases_));
    for (auto& it : items_) {
      TH_ASSIGN_OR_RETURN(it.prepared, Prepare(*it.expr));
    }
    aggregating_ = !q_.group_by.empty() || q_.group_by_with_totals;
    for (const auto& it : items_) aggregating_ |= ContainsAggregate(*it.prepared);
    if (q_.having) {
      TH_ASSIGN_OR_RETURN(having_, Prepare(*q_.having));
      aggregating_ = true;
    }
    for (const auto& o : q_.order_by) {
      TH_ASSIGN_OR_RETURN(ExprPtr p, PreparePositional(*o.expr));
      aggregating_ |= ContainsAggregate(*p);
      order_.push_back(std::move(p));
    }
    for (const auto& l : q_.limit_by) {
      TH_ASSIGN_OR_RETURN(ExprPtr p, PreparePositional(*l));
      limit_by_.push_back(std::move(p));
    }
    return Status::OK();
  }

  // GROUP BY / ORDER BY / LIMIT BY n: the n-th select item (enable_positional_arguments).
  Result<ExprPtr> PreparePositional(const Expr& e) {
    if (e.IsLiteral(sql::LiteralKind::kUInt64) && e.uint_value >= 1 &&
        e.uint_value <= items_.size()) {
      return sql::CloneExpr(*items_[e.uint_value - 1].prepared);
    }
    return Prepare(e);
  }

  // Inlines aliases, binds {name:Type} parameters and currentDatabase(), and runs subqueries.
  Result<ExprPtr> Prepare(const Expr& e) {
    TH_ASSIGN_OR_RETURN(ExprPtr inlined, InlineAliases(e, aliases_));
    return Bind(*inlined);
  }

  Result<ExprPtr> Bind(const Expr& e) {
    ExprRewriter fn = [this, &fn](const Expr& n, bool* replaced) -> Result<ExprPtr> {
      if (n.kind == ExprKind::kParameter) {
        auto it = ctx_->settings().params.find(n.name);
        if (it == ctx_->settings().params.end()) {
          return Status::InvalidArgument(
              fmt::format("Substitution `{}` is not set", n.name), ch::kUnknownQueryParameter);
        }
        sql::ExprList args;
        args.push_back(sql::MakeStringLiteral(UnescapeParameter(it->second), n.pos));
        args.push_back(sql::MakeStringLiteral(n.type, n.pos));
        ExprPtr cast = sql::MakeFunction("CAST", std::move(args), n.pos);
        // The value must parse as the type completely; it is typed data, never SQL.
        auto compiled = eval::Compile(*cast, {});
        Status st = compiled.ok() ? (*compiled)->EvaluateConstant(ctx_->eval()).status()
                                  : compiled.status();
        if (!st.ok()) {
          return Status::InvalidArgument(
              fmt::format("Value {} cannot be parsed as {} for query parameter '{}': {}",
                          it->second, n.type, n.name, st.message()),
              ch::kBadQueryParameter);
        }
        *replaced = true;
        return cast;
      }
      if (n.kind == ExprKind::kFunction &&
          (n.name == "currentDatabase" || n.name == "DATABASE") && n.args.empty()) {
        *replaced = true;
        return sql::MakeStringLiteral(ctx_->database(), n.pos);
      }
      if (n.kind == ExprKind::kFunction && n.args.size() == 2 &&
          n.args[1]->kind == ExprKind::kSubquery &&
          (n.name == "in" || n.name == "notIn" || n.name == "globalIn" ||
           n.name == "globalNotIn")) {
        TH_ASSIGN_OR_RETURN(ExprPtr lhs, RewriteExpr(*n.args[0], fn));
        *replaced = true;
        return InSubquery(n, std::move(lhs));
      }
      if (n.kind == ExprKind::kSubquery) {
        *replaced = true;
        return ScalarSubquery(n);
      }
      return ExprPtr();
    };
    return RewriteExpr(e, fn);
  }

  Result<QueryOutput> RunSubquery(const sql::SelectUnion& sub) {
    ctx_->depth++;
    auto out = ExecuteSelect(sub, ctx_);
    ctx_->depth--;
    return out;
  }

  Result<ExprPtr> InSubquery(const Expr& call, ExprPtr lhs) {
    TH_ASSIGN_OR_RETURN(QueryOutput out, RunSubquery(*call.args[1]->subquery));
    size_t pos = call.pos;
    bool negated = call.name == "notIn" || call.name == "globalNotIn";
    if (out.rows() > kMaxInSetSize) {
      return Status::ResourceExhausted(
          fmt::format("IN subquery returned {} rows, more than the {} a set may hold",
                      out.rows(), kMaxInSetSize),
          ch::kSetSizeLimitExceeded);
    }
    if (out.rows() == 0) return sql::MakeUInt64Literal(negated ? 1 : 0, pos);
    sql::ExprList elements;
    for (const auto& b : out.blocks) {
      TH_ASSIGN_OR_RETURN(auto text, TextColumns(b));
      for (size_t r = 0; r < b.rows(); ++r) {
        if (b.num_columns() == 1) {
          elements.push_back(ValueExpr(*b.at(0).column, text[0].get(), r, pos));
          continue;
        }
        sql::ExprList tuple;
        for (size_t c = 0; c < b.num_columns(); ++c) {
          tuple.push_back(ValueExpr(*b.at(c).column, text[c].get(), r, pos));
        }
        elements.push_back(sql::MakeFunction("tuple", std::move(tuple), pos));
      }
    }
    sql::ExprList args;
    args.push_back(std::move(lhs));
    args.push_back(sql::MakeFunction("tuple", std::move(elements), pos));
    return sql::MakeFunction(negated ? "notIn" : "in", std::move(args), pos);
  }

  Result<ExprPtr> ScalarSubquery(const Expr& e) {
    TH_ASSIGN_OR_RETURN(QueryOutput out, RunSubquery(*e.subquery));
    if (out.names.size() != 1) {
      return Status::NotSupported("Scalar subqueries returning several columns (tuples) are "
                                  "not supported",
                                  ch::kNotImplemented);
    }
    if (out.rows() > 1) {
      return Status::InvalidArgument("Scalar subquery returned more than one row",
                                     ch::kIncorrectResultOfScalarSubquery);
    }
    for (const auto& b : out.blocks) {
      if (b.rows() == 0) continue;
      TH_ASSIGN_OR_RETURN(auto text, TextColumns(b));
      return ValueExpr(*b.at(0).column, text[0].get(), 0, e.pos);
    }
    return sql::MakeNullLiteral(e.pos);
  }

  Status PlanWhere() {
    ExprPtr cond;
    for (const Expr* part : {q_.prewhere.get(), q_.where.get()}) {
      if (part == nullptr) continue;
      TH_ASSIGN_OR_RETURN(ExprPtr p, Prepare(*part));
      if (ContainsAggregate(*p)) {
        return Status::InvalidArgument(
            fmt::format("Aggregate function {} is found in WHERE in query",
                        sql::ExprColumnName(*p)),
            ch::kIllegalAggregation);
      }
      if (!cond) {
        cond = std::move(p);
      } else {
        sql::ExprList args;
        args.push_back(std::move(cond));
        args.push_back(std::move(p));
        cond = sql::MakeFunction("and", std::move(args), 0);
      }
    }
    if (!cond) return Status::OK();
    where_ast_ = std::move(cond);
    TH_ASSIGN_OR_RETURN(where_, eval::Compile(*where_ast_, input_));
    TH_RETURN_IF_ERROR(CheckFilterType(*where_->type(), "WHERE"));
    return Status::OK();
  }

  Status PlanAggregation() {
    // Keys.
    std::map<std::string, size_t> key_index;
    std::vector<eval::InputColumn> post;
    for (const auto& g : q_.group_by) {
      TH_ASSIGN_OR_RETURN(ExprPtr p, PreparePositional(*g));
      if (ContainsAggregate(*p)) {
        return Status::InvalidArgument(
            fmt::format("Aggregate function {} is found in GROUP BY in query",
                        sql::ExprColumnName(*p)),
            ch::kIllegalAggregation);
      }
      std::string key = ExprKey(*p);
      if (key_index.count(key)) continue;
      TH_ASSIGN_OR_RETURN(auto compiled, eval::Compile(*p, input_));
      key_index[key] = keys_.size();
      post.push_back({KeyName(keys_.size()), compiled->type()});
      keys_.push_back(std::move(compiled));
      key_injective_.push_back(IsInjectiveCall(*p));
    }
    // Aggregate calls of the select list, HAVING and ORDER BY.
    std::vector<const Expr*> calls;
    for (const auto& it : items_) TH_RETURN_IF_ERROR(CollectAggregates(*it.prepared, &calls));
    if (having_) TH_RETURN_IF_ERROR(CollectAggregates(*having_, &calls));
    for (const auto& o : order_) TH_RETURN_IF_ERROR(CollectAggregates(*o, &calls));
    std::map<std::string, size_t> agg_index;
    AggregateOptions options;
    options.max_group_array_size = ctx_->settings().max_group_array_size;
    for (const Expr* c : calls) {
      std::string key = ExprKey(*c);
      if (agg_index.count(key)) continue;
      AggCall call;
      std::string name = c->name;
      if (c->distinct) {
        std::string lower = name;
        std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
        if (lower != "count") {
          return Status::NotSupported(
              fmt::format("{}(DISTINCT ...) is not supported; count(DISTINCT x) and "
                          "uniqExact(x) are",
                          name),
              ch::kNotImplemented);
        }
        name = "uniqExact";
      }
      std::vector<types::Value> params;
      for (const auto& p : c->params) {
        TH_ASSIGN_OR_RETURN(auto compiled, eval::Compile(*p, {}));
        if (!compiled->is_constant()) {
          return Status::InvalidArgument(
              fmt::format("Parameters of aggregate function {} must be constants", name),
              ch::kBadArguments);
        }
        TH_ASSIGN_OR_RETURN(types::Value v, compiled->EvaluateConstant(ctx_->eval()));
        params.push_back(std::move(v));
      }
      std::vector<types::DataTypePtr> arg_types;
      for (const auto& a : c->args) {
        if (a->kind == ExprKind::kAsterisk) continue;  // count(*)
        TH_ASSIGN_OR_RETURN(auto compiled, eval::Compile(*a, input_));
        arg_types.push_back(compiled->type());
        call.args.push_back(std::move(compiled));
      }
      TH_ASSIGN_OR_RETURN(call.fn, MakeAggregateFunction(name, params, arg_types, options));
      agg_index[key] = aggs_.size();
      post.push_back({AggName(aggs_.size()), call.fn->result_type()});
      aggs_.push_back(std::move(call));
    }
    // Everything after aggregation reads keys and aggregate results only.
    std::vector<std::string> key_texts;
    for (const auto& [k, i] : key_index) key_texts.push_back(k);
    ExprRewriter to_post = [&](const Expr& n, bool* replaced) -> Result<ExprPtr> {
      if (IsAggregateCall(n)) {
        *replaced = true;
        return sql::MakeIdentifier({AggName(agg_index.at(ExprKey(n)))}, n.pos);
      }
      if (n.kind == ExprKind::kLiteral || n.kind == ExprKind::kParameter) return ExprPtr();
      auto k = key_index.find(ExprKey(n));
      if (k != key_index.end()) {
        *replaced = true;
        return sql::MakeIdentifier({KeyName(k->second)}, n.pos);
      }
      if (n.kind == ExprKind::kFunction && !eval::IsKnownFunction(n.name)) {
        return Status::InvalidArgument(fmt::format("Unknown function {}", n.name),
                                       ch::kUnknownFunction);
      }
      if (n.kind == ExprKind::kIdentifier) {
        return Status::InvalidArgument(
            fmt::format("Column `{}` is not under aggregate function and not in GROUP BY. Have "
                        "columns: [{}]",
                        sql::ExprColumnName(n), fmt::join(key_texts, ", ")),
            ch::kNotAnAggregate);
      }
      return ExprPtr();
    };
    for (auto& it : items_) {
      TH_ASSIGN_OR_RETURN(it.prepared, RewriteExpr(*it.prepared, to_post));
    }
    if (having_) {
      TH_ASSIGN_OR_RETURN(ExprPtr h, RewriteExpr(*having_, to_post));
      TH_ASSIGN_OR_RETURN(having_compiled_, eval::Compile(*h, post));
      TH_RETURN_IF_ERROR(CheckFilterType(*having_compiled_->type(), "HAVING"));
    }
    for (auto& o : order_) {
      TH_ASSIGN_OR_RETURN(o, RewriteExpr(*o, to_post));
    }
    for (auto& l : limit_by_) {
      TH_ASSIGN_OR_RETURN(l, RewriteExpr(*l, to_post));
    }
    post_input_ = post;
    return PlanProjection(post);
  }

  // Compiles the select list, ORDER BY and LIMIT BY expressions against `input` (the source,
  // or the aggregation result).
  Status PlanProjection(const std::vector<eval::InputColumn>& input) {
    std::map<std::string, std::string> by_key;  // expression key -> output column
    for (size_t i = 0; i < items_.size(); ++i) {
      TH_ASSIGN_OR_RETURN(auto compiled, eval::Compile(*items_[i].prepared, input));
      items_[i].type = compiled->type();
      by_key.emplace(ExprKey(*items_[i].prepared), ItemName(i));
      projection_.push_back({ItemName(i), std::move(compiled)});
    }
    auto column_for = [&](const Expr& e) -> Result<std::string> {
      std::string key = ExprKey(e);
      auto it = by_key.find(key);
      if (it != by_key.end()) return it->second;
      TH_ASSIGN_OR_RETURN(auto compiled, eval::Compile(e, input));
      std::string name = ExtraName(projection_.size());
      projection_.push_back({name, std::move(compiled)});
      by_key.emplace(key, name);
      return name;
    };
    for (size_t i = 0; i < order_.size(); ++i) {
      const auto& o = q_.order_by[i];
      SortColumn s;
      TH_ASSIGN_OR_RETURN(s.column, column_for(*order_[i]));
      s.descending = o.descending;
      s.nulls_first = o.nulls == sql::OrderByItem::Nulls::kFirst;
      sort_.push_back(std::move(s));
    }
    for (const auto& l : limit_by_) {
      TH_ASSIGN_OR_RETURN(std::string c, column_for(*l));
      limit_by_columns_.push_back(std::move(c));
    }
    return Status::OK();
  }

  Status PlanLimits() {
    auto value = [&](const sql::ExprPtr& e, std::string_view what) -> Result<uint64_t> {
      TH_ASSIGN_OR_RETURN(ExprPtr p, Prepare(*e));
      return ConstantUInt(*p, ctx_->eval(), what);
    };
    if (q_.limit_length) {
      TH_ASSIGN_OR_RETURN(limit_, value(q_.limit_length, "LIMIT"));
      has_limit_ = true;
    }
    if (q_.limit_offset) {
      TH_ASSIGN_OR_RETURN(offset_, value(q_.limit_offset, "OFFSET"));
    }
    if (q_.limit_by_length) {
      TH_ASSIGN_OR_RETURN(limit_by_n_, value(q_.limit_by_length, "LIMIT BY"));
    }
    if (q_.limit_by_offset) {
      TH_ASSIGN_OR_RETURN(limit_by_offset_, value(q_.limit_by_offset, "LIMIT BY offset"));
    }
    size_t fills = 0;
    for (size_t i = 0; i < q_.order_by.size(); ++i) {
      if (!q_.order_by[i].with_fill) continue;
      if (++fills > 1 || i != 0) {
        return Status::NotSupported(
            "WITH FILL is supported on the first ORDER BY column only", ch::kNotImplemented);
      }
      TH_RETURN_IF_ERROR(PlanFill(q_.order_by[i]));
    }
    // Without ORDER BY, DISTINCT, LIMIT BY or aggregation, the scan may stop once LIMIT rows
    // (plus OFFSET) are in; with ORDER BY ... LIMIT, threads keep only their top rows.
    bool plain = !aggregating_ && !q_.distinct && limit_by_columns_.empty() && !fill_;
    if (plain && has_limit_ && sort_.empty()) early_stop_ = limit_ + offset_;
    if (plain && has_limit_ && !sort_.empty()) top_n_ = limit_ + offset_;
    return Status::OK();
  }

  Status PlanFill(const sql::OrderByItem& o) {
    FillSpec f;
    f.column = sort_[0].column;
    f.descending = o.descending;
    const types::DataType* type = nullptr;
    for (const auto& p : projection_) {
      if (p.name == f.column) type = p.expr->type().get();
    }
    if (type == nullptr || type->is_nullable() || !(type->is_numeric() || type->is_time())) {
      return Status::InvalidArgument(
          fmt::format("WITH FILL needs a column of a number, Date or DateTime type, got {}",
                      type ? type->name() : "?"),
          ch::kInvalidWithFillExpression);
    }
    f.is_float = type->is_float();
    auto bound = [&](const sql::ExprPtr& e, std::optional<double>* out) -> Status {
      if (!e) return Status::OK();
      TH_ASSIGN_OR_RETURN(ExprPtr p, Prepare(*e));
      TH_ASSIGN_OR_RETURN(auto compiled, eval::Compile(*p, {}));
      TH_ASSIGN_OR_RETURN(ColumnPtr col, compiled->Evaluate(Block(), 1, ctx_->eval()));
      auto target = projection_[0].expr->type();
      for (const auto& pr : projection_) {
        if (pr.name == f.column) target = pr.expr->type();
      }
      TH_ASSIGN_OR_RETURN(ColumnPtr conv, eval::ConvertColumn(col, target));
      *out = conv->GetValue(0).AsFloat();
      if (conv->GetValue(0).kind() == types::Value::Kind::kInt) *out = conv->GetValue(0).AsInt();
      return Status::OK();
    };
    TH_RETURN_IF_ERROR(bound(o.fill_from, &f.from));
    TH_RETURN_IF_ERROR(bound(o.fill_to, &f.to));
    f.step = 1;
    if (o.fill_step) {
      TH_ASSIGN_OR_RETURN(ExprPtr p, Prepare(*o.fill_step));
      double unit = 1;
      const Expr* n = p.get();
      static const std::pair<const char*, double> kUnits[] = {
          {"toIntervalSecond", 1},  {"toIntervalMinute", 60}, {"toIntervalHour", 3600},
          {"toIntervalDay", 86400}, {"toIntervalWeek", 604800}};
      if (n->kind == ExprKind::kFunction && n->name.rfind("toInterval", 0) == 0) {
        bool known = false;
        for (const auto& [fn, secs] : kUnits) {
          if (n->name == fn) {
            unit = secs;
            known = true;
          }
        }
        if (!known || n->args.size() != 1) {
          return Status::NotSupported(
              fmt::format("WITH FILL STEP {} is not supported", sql::FormatExpr(*n)),
              ch::kNotImplemented);
        }
        if (type->id() == types::TypeId::kDate) {
          if (unit < 86400) {
            return Status::InvalidArgument("WITH FILL STEP for a Date must be whole days",
                                           ch::kInvalidWithFillExpression);
          }
          unit /= 86400;
        } else if (type->id() == types::TypeId::kDateTime64) {
          unit *= std::pow(10.0, type->precision());
        }
        n = n->args[0].get();
      }
      TH_ASSIGN_OR_RETURN(auto compiled, eval::Compile(*n, {}));
      TH_ASSIGN_OR_RETURN(types::Value v, compiled->EvaluateConstant(ctx_->eval()));
      f.step = v.AsFloat() * unit;
      if (v.kind() == types::Value::Kind::kInt) f.step = v.AsInt() * unit;
      if (f.step == 0) {
        return Status::InvalidArgument("WITH FILL STEP value cannot be zero",
                                       ch::kInvalidWithFillExpression);
      }
    }
    if (f.descending) f.step = -std::abs(f.step);
    fill_ = std::move(f);
    return Status::OK();
  }

  // ---- execution ----

  struct ThreadState {
    explicit ThreadState(QueryContext* ctx) : memory(ctx) {}
    std::unique_ptr<Aggregator> agg;
    std::vector<Block> blocks;
    size_t rows = 0;
    int64_t bytes = 0;
    MemoryReservation memory;
  };

  Status Execute() {
    std::vector<std::string> needed;
    auto need = [&](const eval::CompiledExpr& e) {
      for (auto& c : e.ReferencedColumns()) {
        if (std::find(needed.begin(), needed.end(), c) == needed.end()) needed.push_back(c);
      }
    };
    if (aggregating_) {
      for (const auto& k : keys_) need(*k);
      for (const auto& a : aggs_) {
        for (const auto& x : a.args) need(*x);
      }
    } else {
      for (const auto& p : projection_) need(*p.expr);
    }
    after_where_.insert(needed.begin(), needed.end());
    if (where_) need(*where_);
    TH_ASSIGN_OR_RETURN(auto source,
                        source_->Open(needed, where_ast_.get(), q_.from && q_.from->final));
    size_t n_threads = std::max<size_t>(1, ctx_->threads());
    std::vector<std::unique_ptr<ThreadState>> states;
    for (size_t i = 0; i < n_threads; ++i) {
      states.push_back(std::make_unique<ThreadState>(ctx_));
      if (aggregating_) {
        std::vector<types::DataTypePtr> key_types;
        for (const auto& k : keys_) key_types.push_back(k->type());
        std::vector<AggregateFunctionPtr> fns;
        for (const auto& a : aggs_) fns.push_back(a.fn);
        states[i]->agg = std::make_unique<Aggregator>(key_types, fns, ctx_);
      }
    }
    std::atomic<bool> stop{false};
    std::atomic<size_t> produced{0};
    std::mutex err_mu;
    Status error;
    auto work = [&](ThreadState* st) {
      Status s = RunThread(source.get(), st, &stop, &produced);
      if (!s.ok()) {
        std::lock_guard<std::mutex> l(err_mu);
        if (error.ok()) error = s;
        stop = true;
      }
    };
    if (n_threads == 1) {
      work(states[0].get());
    } else {
      std::vector<std::thread> threads;
      for (size_t i = 1; i < n_threads; ++i) threads.emplace_back(work, states[i].get());
      work(states[0].get());
      for (auto& t : threads) t.join();
    }
    TH_RETURN_IF_ERROR(error);
    TH_RETURN_IF_ERROR(source->status());
    TH_RETURN_IF_ERROR(ctx_->CheckDeadline());
    if (aggregating_) {
      for (size_t i = 1; i < states.size(); ++i) {
        TH_RETURN_IF_ERROR(states[0]->agg->MergeFrom(states[i]->agg.get()));
        states[i]->agg.reset();
      }
      return FinishAggregation(states[0]->agg.get());
    }
    std::vector<Block> all;
    for (auto& st : states) {
      for (auto& b : st->blocks) all.push_back(std::move(b));
    }
    result_ = all.empty() ? EmptyProjection() : types::Concat(all);
    return Status::OK();
  }

  Status RunThread(BlockSource* source, ThreadState* st, std::atomic<bool>* stop,
                   std::atomic<size_t>* produced) {
    Block block;
    std::vector<uint8_t> mask;
    while (!stop->load(std::memory_order_relaxed) && source->Next(&block)) {
      ctx_->AddRead(block.rows(), block.DataBytes());
      TH_RETURN_IF_ERROR(ctx_->CheckDeadline());
      if (where_) {
        TH_ASSIGN_OR_RETURN(ColumnPtr cond, where_->Evaluate(block, ctx_->eval()));
        // A UInt8 condition is its own mask (filters keep rows whose byte is not 0).
        const std::vector<uint8_t>* keep = &mask;
        if (cond->type()->id() == types::TypeId::kUInt8) {
          keep = &static_cast<const types::ColumnVector<uint8_t>&>(*cond).data();
        } else {
          MaskOf(*cond, &mask);
        }
        const size_t pass = types::CountSelected(*keep);
        if (pass == 0) continue;
        // Only the columns read after WHERE are filtered.
        Block after;
        for (const auto& c : block.columns()) {
          if (after_where_.count(c.name)) after.Add(c.name, c.type, c.column);
        }
        if (after.num_columns() == 0) {
          AddRowCountColumn(&after, pass);
        } else if (pass != block.rows()) {
          after = after.Filter(*keep, pass);
        }
        block = std::move(after);
      }
      if (aggregating_) {
        std::vector<ColumnPtr> keys;
        for (const auto& k : keys_) {
          TH_ASSIGN_OR_RETURN(ColumnPtr c, k->Evaluate(block, ctx_->eval()));
          keys.push_back(std::move(c));
        }
        std::vector<std::vector<ColumnPtr>> args(aggs_.size());
        for (size_t a = 0; a < aggs_.size(); ++a) {
          for (const auto& x : aggs_[a].args) {
            TH_ASSIGN_OR_RETURN(ColumnPtr c, x->Evaluate(block, ctx_->eval()));
            args[a].push_back(std::move(c));
          }
        }
        TH_RETURN_IF_ERROR(st->agg->Add(keys, args, block.rows()));
        continue;
      }
      TH_ASSIGN_OR_RETURN(Block out, Project(block));
      projected_rows_.fetch_add(out.rows(), std::memory_order_relaxed);
      st->rows += out.rows();
      st->bytes += out.ByteSize();
      st->blocks.push_back(std::move(out));
      if (top_n_ > 0 && st->rows >= std::max<size_t>(2 * top_n_, 65536)) {
        TH_ASSIGN_OR_RETURN(Block top, TopRows(types::Concat(st->blocks), sort_, top_n_));
        st->blocks.clear();
        st->rows = top.rows();
        st->bytes = top.ByteSize();
        st->blocks.push_back(std::move(top));
      }
      TH_RETURN_IF_ERROR(st->memory.Resize(st->bytes));
      if (early_stop_ > 0 && produced->fetch_add(st->blocks.back().rows()) +
                                     st->blocks.back().rows() >=
                                 early_stop_) {
        stop->store(true);
      }
    }
    return Status::OK();
  }

  Result<Block> Project(const Block& input) const {
    Block out;
    for (const auto& p : projection_) {
      TH_ASSIGN_OR_RETURN(ColumnPtr c, p.expr->Evaluate(input, ctx_->eval()));
      out.Add(p.name, p.expr->type(), std::move(c));
    }
    return out;
  }

  Block EmptyProjection() const {
    Block out;
    for (const auto& p : projection_) {
      out.Add(p.name, p.expr->type(), types::MakeColumn(p.expr->type()));
    }
    return out;
  }

  Status FinishAggregation(Aggregator* agg) {
    std::vector<ColumnPtr> keys, results;
    TH_RETURN_IF_ERROR(agg->Finish(&keys, &results));
    Block post;
    for (size_t k = 0; k < keys.size(); ++k) post.Add(KeyName(k), keys_[k]->type(), keys[k]);
    for (size_t a = 0; a < results.size(); ++a) {
      post.Add(AggName(a), aggs_[a].fn->result_type(), results[a]);
    }
    if (post.num_columns() == 0) {
      AddRowCountColumn(&post, agg->groups());
    }
    std::vector<uint8_t> keep;
    if (having_compiled_) {
      TH_ASSIGN_OR_RETURN(ColumnPtr cond, having_compiled_->Evaluate(post, ctx_->eval()));
      MaskOf(*cond, &keep);
      post = post.Filter(keep);
    }
    if (post.rows() == 0) {
      result_ = EmptyProjection();
    } else {
      TH_ASSIGN_OR_RETURN(result_, Project(post));
    }
    if (q_.group_by_with_totals) {
      std::vector<ColumnPtr> totals;
      TH_RETURN_IF_ERROR(agg->Totals(having_compiled_ ? &keep : nullptr, &totals));
      Block row;
      for (size_t k = 0; k < keys_.size(); ++k) {
        // Keys are at their defaults; ClickHouse groups by the argument of an injective
        // function (toString(x)), so such a key shows the function of x's default.
        ColumnPtr c;
        if (key_injective_[k]) {
          Block defaults;
          for (const auto& in : input_) {
            auto col = types::MakeColumn(in.type);
            col->AppendDefault();
            defaults.Add(in.name, in.type, col);
          }
          auto v = keys_[k]->Evaluate(defaults, 1, ctx_->eval());
          if (v.ok()) c = *v;
        }
        if (!c) {
          c = types::MakeColumn(keys_[k]->type());
          c->AppendDefault();
        }
        row.Add(KeyName(k), keys_[k]->type(), c);
      }
      for (size_t a = 0; a < totals.size(); ++a) {
        row.Add(AggName(a), aggs_[a].fn->result_type(), totals[a]);
      }
      if (row.num_columns() == 0 || row.rows() == 0) {
        row = Block();
        AddRowCountColumn(&row, 1);
      }
      TH_ASSIGN_OR_RETURN(Block t, Project(row));
      totals_ = std::move(t);
    }
    return Status::OK();
  }

  Result<QueryOutput> Finish() {
    Block b = std::move(result_);
    size_t visible = items_.size();
    if (q_.distinct) b = DistinctRows(b, visible);
    if (!sort_.empty()) {
      size_t keep = 0;
      if (has_limit_ && limit_by_columns_.empty() && !fill_) keep = limit_ + offset_;
      TH_RETURN_IF_ERROR(ctx_->CheckDeadline());
      TH_ASSIGN_OR_RETURN(b, keep > 0 ? TopRows(b, sort_, keep) : SortRows(b, sort_));
    }
    if (!limit_by_columns_.empty()) {
      b = LimitBy(b, limit_by_columns_, limit_by_offset_, limit_by_n_);
    }
    if (fill_) {
      TH_ASSIGN_OR_RETURN(b, FillRows(b, *fill_));
    }
    if (has_limit_) {
      // Threads keeping only their top rows saw more than reach this point.
      out_rows_before_limit_ = top_n_ > 0 ? projected_rows_.load() : b.rows();
    }
    if (has_limit_ || offset_ > 0) {
      size_t start = std::min<size_t>(offset_, b.rows());
      size_t count = has_limit_ ? std::min<size_t>(limit_, b.rows() - start) : b.rows() - start;
      if (start != 0 || count != b.rows()) b = b.Slice(start, count);
    }
    QueryOutput out;
    if (has_limit_) out.rows_before_limit = out_rows_before_limit_;
    Block visible_block;
    for (size_t i = 0; i < visible; ++i) {
      const auto& c = b.at(i);
      visible_block.Add(c.name, c.type, c.column);
      out.names.push_back(items_[i].name);
      out.types.push_back(c.type);
    }
    out.blocks.push_back(std::move(visible_block));
    if (totals_) {
      Block t;
      for (size_t i = 0; i < visible; ++i) t.Add(totals_->at(i).name, totals_->at(i).type,
                                                 totals_->at(i).column);
      out.totals = std::move(t);
    }
    return out;
  }

  struct Item {
    const Expr* expr = nullptr;
    ExprPtr owned;  // for items expanded from *
    std::string name;
    ExprPtr prepared;
    types::DataTypePtr type;
  };
  struct AggCall {
    AggregateFunctionPtr fn;
    std::vector<std::unique_ptr<eval::CompiledExpr>> args;
  };
  struct Projected {
    std::string name;
    std::unique_ptr<eval::CompiledExpr> expr;
  };

  const sql::SelectQuery& q_;
  QueryContext* const ctx_;
  std::unique_ptr<SourcePlan> source_;
  std::vector<eval::InputColumn> input_;
  std::vector<eval::InputColumn> post_input_;
  std::vector<Item> items_;
  AliasMap aliases_;
  bool aggregating_ = false;
  ExprPtr where_ast_;
  std::unique_ptr<eval::CompiledExpr> where_;
  ExprPtr having_;
  std::unique_ptr<eval::CompiledExpr> having_compiled_;
  std::vector<ExprPtr> order_;
  std::vector<ExprPtr> limit_by_;
  std::vector<std::unique_ptr<eval::CompiledExpr>> keys_;
  std::vector<bool> key_injective_;
  std::vector<AggCall> aggs_;
  std::vector<Projected> projection_;
  std::vector<SortColumn> sort_;
  std::vector<std::string> limit_by_columns_;
  uint64_t limit_ = 0, offset_ = 0, limit_by_n_ = 0, limit_by_offset_ = 0;
  bool has_limit_ = false;
  size_t early_stop_ = 0;
  std::set<std::string> after_where_;  // source columns read after WHERE
  std::atomic<uint64_t> projected_rows_{0};
  uint64_t out_rows_before_limit_ = 0;
  size_t top_n_ = 0;
  std::optional<FillSpec> fill_;
  Block result_;
  std::optional<Block> totals_;
};

}  // namespace

Result<QueryOutput> ExecuteSelect(const sql::SelectUnion& query, QueryContext* ctx) {
  if (query.selects.empty()) return Status::InvalidArgument("Empty SELECT", ch::kSyntaxError);
  QueryOutput out;
  for (size_t i = 0; i < query.selects.size(); ++i) {
    SelectInterpreter interp(*query.selects[i], ctx);
    TH_ASSIGN_OR_RETURN(QueryOutput part, interp.Run());
    if (i == 0) {
      out = std::move(part);
      continue;
    }
    if (part.names.size() != out.names.size()) {
      return Status::InvalidArgument(
          fmt::format("Different number of columns in UNION ALL elements: {} and {}",
                      out.names.size(), part.names.size()),
          ch::kUnionAllResultStructuresMismatch);
    }
    for (auto& b : part.blocks) {
      Block converted;
      for (size_t c = 0; c < b.num_columns(); ++c) {
        TH_ASSIGN_OR_RETURN(ColumnPtr col, eval::ConvertColumn(b.at(c).column, out.types[c]));
        converted.Add(b.at(c).name, out.types[c], std::move(col));
      }
      out.blocks.push_back(std::move(converted));
    }
  }
  return out;
}

}  // namespace trackhouse::query
