#include "engine/prune.h"

#include "eval/expression.h"

namespace trackhouse::engine {
namespace {

bool Prunable(const types::DataType& t) {
  return !t.is_nullable() && !t.is_float() &&
         (t.is_integer() || t.is_time() || t.is_string_like() || t.id() == types::TypeId::kBool);
}

// The constant's value in the column's type, or nullopt if it is not a usable constant.
std::optional<types::Value> ConstantAs(const sql::Expr& e, const types::DataTypePtr& type,
                                       int64_t now_micros) {
  auto compiled = eval::Compile(e, {});
  if (!compiled.ok() || !(*compiled)->is_constant()) return std::nullopt;
  const types::DataType& ct = (*compiled)->type()->Unwrapped();
  // Only compare like with like: numbers/times with numbers/times, strings with strings.
  bool const_string = ct.is_string_like();
  if (const_string != type->is_string_like()) return std::nullopt;
  if (ct.is_float() || ct.is_nullable()) return std::nullopt;
  eval::EvalContext ctx;
  ctx.now_micros = now_micros;
  auto col = (*compiled)->Evaluate(types::Block(), 1, ctx);
  if (!col.ok()) return std::nullopt;
  auto conv = eval::ConvertColumn(*col, type);
  if (!conv.ok() || (*conv)->size() != 1) return std::nullopt;
  types::Value v = (*conv)->GetValue(0);
  if (v.is_null()) return std::nullopt;
  return v;
}

void Intersect(KeyColumnBound* b, const KeyColumnBound& with) {
  if (with.lower && (!b->lower || b->lower->Compare(*with.lower) < 0)) b->lower = with.lower;
  if (with.upper && (!b->upper || b->upper->Compare(*with.upper) > 0)) b->upper = with.upper;
  b->lower_inclusive = b->upper_inclusive = true;
}

const storage::ColumnDef* ColumnOf(const sql::Expr& e, const TableDef& def) {
  if (e.kind != sql::ExprKind::kIdentifier || e.parts.empty()) return nullptr;
  const storage::ColumnDef* c = def.schema->FindColumn(e.parts.back());
  return c != nullptr && Prunable(*c->type) ? c : nullptr;
}

void FromConjunct(const sql::Expr& e, const TableDef& def, int64_t now,
                  std::map<std::string, KeyColumnBound>* out) {
  if (e.kind != sql::ExprKind::kFunction) return;
  if (e.name == "and") {
    for (const auto& a : e.args) FromConjunct(*a, def, now, out);
    return;
  }
  if (e.args.size() != 2) return;
  if (e.name == "in") {
    const storage::ColumnDef* c = ColumnOf(*e.args[0], def);
    const sql::Expr& list = *e.args[1];
    if (c == nullptr || !list.IsFunction("tuple") || list.args.empty()) return;
    KeyColumnBound b;
    for (const auto& item : list.args) {
      auto v = ConstantAs(*item, c->type, now);
      if (!v) return;
      if (!b.lower || v->Compare(*b.lower) < 0) b.lower = v;
      if (!b.upper || v->Compare(*b.upper) > 0) b.upper = v;
    }
    auto [it, fresh] = out->emplace(c->name, b);
    if (!fresh) Intersect(&it->second, b);
    return;
  }
  std::string op = e.name;
  const sql::Expr* col_side = e.args[0].get();
  const sql::Expr* const_side = e.args[1].get();
  if (ColumnOf(*col_side, def) == nullptr) {
    std::swap(col_side, const_side);
    // a < x  is  x > a
    if (op == "less")
      op = "greater";
    else if (op == "greater")
      op = "less";
    else if (op == "lessOrEquals")
      op = "greaterOrEquals";
    else if (op == "greaterOrEquals")
      op = "lessOrEquals";
  }
  const storage::ColumnDef* c = ColumnOf(*col_side, def);
  if (c == nullptr) return;
  if (op != "equals" && op != "less" && op != "lessOrEquals" && op != "greater" &&
      op != "greaterOrEquals") {
    return;
  }
  auto v = ConstantAs(*const_side, c->type, now);
  if (!v) return;
  KeyColumnBound b;  // inclusive bounds: see the header
  if (op == "equals") b = KeyColumnBound::Exact(*v);
  if (op == "less" || op == "lessOrEquals") b = KeyColumnBound::AtMost(*v);
  if (op == "greater" || op == "greaterOrEquals") b = KeyColumnBound::AtLeast(*v);
  auto [it, fresh] = out->emplace(c->name, b);
  if (!fresh) Intersect(&it->second, b);
}

}  // namespace

std::map<std::string, KeyColumnBound> DeriveBounds(const sql::Expr& filter, const TableDef& def,
                                                   int64_t now_micros) {
  std::map<std::string, KeyColumnBound> out;
  FromConjunct(filter, def, now_micros, &out);
  return out;
}

}  // namespace trackhouse::engine
