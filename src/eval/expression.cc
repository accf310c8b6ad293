#include "eval/expression.h"

#include <emmintrin.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "eval/column_util.h"
#include "eval/conversion.h"
#include "eval/function_registry.h"
#include "eval/type_rules.h"
#include "sql/ast.h"
#include "sql/format.h"
#include "types/convert.h"

namespace trackhouse::eval {

using types::Column;
using types::ColumnPtr;
using types::DataType;
using types::DataTypePtr;
using types::TypeId;
using types::Value;

namespace internal {

struct Node {
  enum class Kind : uint8_t { kColumn, kConstant, kParam, kFunction, kTuple };
  Kind kind = Kind::kConstant;
  DataTypePtr type;
  bool is_const = false;  // references no column

  std::string column;          // kColumn
  Datum constant;              // kConstant: one row of `type`
  std::string param;           // kParam
  std::vector<ArgSpec> tuple;  // kTuple: constant elements

  // kFunction
  std::string function;
  const FunctionRegistry::Entry* entry = nullptr;
  BoundFunction bound;
  std::vector<std::unique_ptr<Node>> args;
  bool null_wrap = false;    // default NULL handling: some argument is Nullable
  bool null_result = false;  // default NULL handling with a NULL literal argument

  bool has_value() const { return kind == Kind::kConstant; }
};

}  // namespace internal

using internal::Node;
using NodePtr = std::unique_ptr<Node>;

namespace {

// ------------------------------------------------------------------ compile

const std::set<std::string, std::less<>>& AggregateNames() {
  static const auto* names = new std::set<std::string, std::less<>>{
      "count",         "countIf",
      "sum",           "sumIf",
      "avg",           "avgIf",
      "min",           "minIf",
      "max",           "maxIf",
      "any",           "anyIf",
      "anyLast",       "argMin",
      "argMax",        "uniq",
      "uniqIf",        "uniqExact",
      "uniqCombined",  "uniqHLL12",
      "groupArray",    "groupUniqArray",
      "quantile",      "quantiles",
      "quantileExact", "quantileTiming",
      "median",        "stddevPop",
      "stddevSamp",    "varPop",
      "varSamp",       "sumMap",
      "topK",          "groupBitAnd",
      "groupBitOr",    "groupBitXor",
      "sumState",      "countState",
      "uniqState",     "avgState",
      "sumMerge",      "countMerge",
      "uniqMerge",     "avgMerge",
      "minMerge",      "maxMerge",
      "argMinMerge",   "argMaxMerge",
      "anyHeavy",      "simpleLinearRegression",
  };
  return *names;
}

std::string ExprText(const sql::Expr& e) { return sql::FormatExpr(e); }

ArgSpec SpecOf(const Node& n) {
  ArgSpec s;
  s.type = n.type;
  s.is_const = n.is_const;
  if (n.kind == Node::Kind::kConstant) s.value = ConstValue(n.constant);
  if (n.kind == Node::Kind::kTuple) s.elements = n.tuple;
  return s;
}

NodePtr ConstantNode(const DataTypePtr& type, const Value& v) {
  auto n = std::make_unique<Node>();
  n->kind = Node::Kind::kConstant;
  n->type = type;
  n->is_const = true;
  n->constant = ConstDatum(type, v);
  return n;
}

class Binder {
 public:
  explicit Binder(const std::vector<InputColumn>& input) : input_(input) {}

  Result<NodePtr> Bind(const sql::Expr& e);

  // Unknown identifiers met while binding (reported together).
  const std::vector<std::string>& missing() const { return missing_; }

 private:
  Result<NodePtr> BindIdentifier(const sql::Expr& e);
  Result<NodePtr> BindLiteral(const sql::Expr& e);
  Result<NodePtr> BindFunctionExpr(const sql::Expr& e);
  Result<NodePtr> BindIn(const sql::Expr& e, const FunctionRegistry::Entry* entry);
  Result<NodePtr> BindTuple(const sql::Expr& e);
  Result<NodePtr> BindCall(std::string name, const FunctionRegistry::Entry* entry,
                           std::vector<NodePtr> args, const sql::Expr& where);

  const std::vector<InputColumn>& input_;
  std::vector<std::string> missing_;
};

Result<NodePtr> Binder::Bind(const sql::Expr& e) {
  switch (e.kind) {
    case sql::ExprKind::kLiteral:
      return BindLiteral(e);
    case sql::ExprKind::kIdentifier:
      return BindIdentifier(e);
    case sql::ExprKind::kParameter: {
      auto type = types::ParseDataType(e.type);
      if (!type.ok()) return type.status();
      auto n = std::make_unique<Node>();
      n->kind = Node::Kind::kParam;
      n->type = *type;
      n->is_const = true;
      n->param = e.name;
      return NodePtr(std::move(n));
    }
    case sql::ExprKind::kFunction:
      return BindFunctionExpr(e);
    case sql::ExprKind::kAsterisk:
      return Status::NotSupported("Asterisk is not allowed in an expression here",
                                  ch::kNotImplemented);
    case sql::ExprKind::kSubquery:
      return Status::NotSupported("Subqueries are not supported in this expression",
                                  ch::kNotImplemented);
    case sql::ExprKind::kLambda:
      return Status::NotSupported("Lambda functions are not supported", ch::kNotImplemented);
  }
  return Status::Internal("unknown expression kind");
}

Result<NodePtr> Binder::BindLiteral(const sql::Expr& e) {
  Value v;
  switch (e.literal_kind) {
    case sql::LiteralKind::kNull:
      return ConstantNode(NullLiteralType(), Value());
    case sql::LiteralKind::kUInt64:
      v = Value::UInt(e.uint_value);
      break;
    case sql::LiteralKind::kInt64:
      v = Value::Int(e.int_value);
      break;
    case sql::LiteralKind::kFloat64:
      v = Value::Float(e.float_value);
      break;
    case sql::LiteralKind::kString:
      v = Value::String(e.string_value);
      break;
    case sql::LiteralKind::kBool:
      return ConstantNode(DataType::Get(TypeId::kBool), Value::UInt(e.bool_value ? 1 : 0));
  }
  DataTypePtr t = LiteralNumberType(v);
  // The physical kind of the literal's type: non-negative Int64 literals are UInt types.
  if (v.kind() == Value::Kind::kInt && v.int_value() >= 0) {
    v = Value::UInt(static_cast<uint64_t>(v.int_value()));
  }
  return ConstantNode(t, v);
}

Result<NodePtr> Binder::BindIdentifier(const sql::Expr& e) {
  std::string full;
  for (size_t i = 0; i < e.parts.size(); ++i) {
    if (i) full += '.';
    full += e.parts[i];
  }
  const InputColumn* found = nullptr;
  for (const auto& c : input_) {
    if (c.name == full) found = &c;
  }
  if (!found && e.parts.size() > 1) {
    for (const auto& c : input_) {
      if (c.name == e.parts.back()) found = &c;
    }
  }
  if (!found) {
    if (std::find(missing_.begin(), missing_.end(), full) == missing_.end()) {
      missing_.push_back(full);
    }
    // Keep binding to report every missing column at once.
    return ConstantNode(NullLiteralType(), Value());
  }
  auto n = std::make_unique<Node>();
  n->kind = Node::Kind::kColumn;
  n->type = found->type;
  n->column = found->name;
  return NodePtr(std::move(n));
}

Result<NodePtr> Binder::BindTuple(const sql::Expr& e) {
  auto n = std::make_unique<Node>();
  n->kind = Node::Kind::kTuple;
  n->is_const = true;
  std::vector<DataTypePtr> types;
  for (const auto& a : e.args) {
    TH_ASSIGN_OR_RETURN(NodePtr x, Bind(*a));
    if (x->kind != Node::Kind::kConstant && x->kind != Node::Kind::kTuple) {
      if (!missing_.empty()) return ConstantNode(NullLiteralType(), Value());
      return Status::NotSupported(
          fmt::format("Tuples of non-constant values are only supported on the left side of IN "
                      "(in {})",
                      ExprText(e)),
          ch::kNotImplemented);
    }
    types.push_back(x->type);
    n->tuple.push_back(SpecOf(*x));
  }
  n->type = TupleType(types);
  return NodePtr(std::move(n));
}

Result<NodePtr> Binder::BindIn(const sql::Expr& e, const FunctionRegistry::Entry* entry) {
  if (e.args.size() != 2) return ArgCountMismatch(e.name, e.args.size(), "2");
  std::vector<NodePtr> args;
  const sql::Expr& left = *e.args[0];
  if (left.IsFunction("tuple") && !left.args.empty()) {
    for (const auto& a : left.args) {
      TH_ASSIGN_OR_RETURN(NodePtr x, Bind(*a));
      args.push_back(std::move(x));
    }
  } else {
    TH_ASSIGN_OR_RETURN(NodePtr x, Bind(left));
    args.push_back(std::move(x));
  }
  const sql::Expr& right = *e.args[1];
  if (right.kind == sql::ExprKind::kSubquery) {
    return Status::NotSupported("IN with a subquery must be resolved by the query engine",
                                ch::kNotImplemented);
  }
  NodePtr set;
  if (right.IsFunction("tuple")) {
    TH_ASSIGN_OR_RETURN(set, BindTuple(right));
  } else {
    TH_ASSIGN_OR_RETURN(set, Bind(right));
    if (set->kind != Node::Kind::kConstant && missing_.empty()) {
      return Status::NotSupported(
          fmt::format("Function {} supports only a set of constants on the right side", e.name),
          ch::kNotImplemented);
    }
  }
  args.push_back(std::move(set));
  return BindCall(e.name, entry, std::move(args), e);
}

Result<NodePtr> Binder::BindFunctionExpr(const sql::Expr& e) {
  const std::string& name = e.name;
  if (e.has_params || e.distinct || AggregateNames().count(name)) {
    return Status::InvalidArgument(
        fmt::format("Aggregate function {} is found in wrong place in query", ExprText(e)),
        184 /* ILLEGAL_AGGREGATION */);
  }
  if (name == "tuple") return BindTuple(e);
  const FunctionRegistry::Entry* entry = FunctionRegistry::Instance().Find(name);
  if (name == "caseWithExpression" || name == "CASE") {
    // CASE x WHEN v1 THEN r1 ... ELSE r END -> multiIf(x = v1, r1, ..., r).
    if (e.args.size() < 4 || e.args.size() % 2 != 0) {
      return ArgCountMismatch(name, e.args.size(), "an even number, at least 4");
    }
    const auto* eq = FunctionRegistry::Instance().Find("equals");
    const auto* multi_if = FunctionRegistry::Instance().Find("multiIf");
    std::vector<NodePtr> args;
    for (size_t i = 1; i + 1 < e.args.size(); i += 2) {
      std::vector<NodePtr> cmp;
      TH_ASSIGN_OR_RETURN(NodePtr x, Bind(*e.args[0]));
      TH_ASSIGN_OR_RETURN(NodePtr v, Bind(*e.args[i]));
      cmp.push_back(std::move(x));
      cmp.push_back(std::move(v));
      TH_ASSIGN_OR_RETURN(NodePtr c, BindCall("equals", eq, std::move(cmp), e));
      TH_ASSIGN_OR_RETURN(NodePtr r, Bind(*e.args[i + 1]));
      args.push_back(std::move(c));
      args.push_back(std::move(r));
    }
    TH_ASSIGN_OR_RETURN(NodePtr otherwise, Bind(*e.args.back()));
    args.push_back(std::move(otherwise));
    return BindCall("multiIf", multi_if, std::move(args), e);
  }
  if (!entry) {
    return Status::InvalidArgument(fmt::format("Unknown function {}", name), ch::kUnknownFunction);
  }
  if (entry->name == "in" || entry->name == "notIn") return BindIn(e, entry);
  std::vector<NodePtr> args;
  for (const auto& a : e.args) {
    TH_ASSIGN_OR_RETURN(NodePtr x, Bind(*a));
    args.push_back(std::move(x));
  }
  return BindCall(name, entry, std::move(args), e);
}

// Runs a bound function node over argument Datums (see Evaluate for the LowCardinality path).
Result<Datum> RunFunction(const Node& n, std::vector<Datum> args, size_t rows,
                          const EvalContext& ctx);

Result<NodePtr> Binder::BindCall(std::string name, const FunctionRegistry::Entry* entry,
                                 std::vector<NodePtr> args, const sql::Expr& where) {
  auto n = std::make_unique<Node>();
  n->kind = Node::Kind::kFunction;
  n->function = name;
  n->entry = entry;
  if (!missing_.empty()) {
    // Binding failed below; keep walking for more missing columns only.
    return ConstantNode(NullLiteralType(), Value());
  }
  const FunctionTraits& traits = entry->traits;
  std::vector<ArgSpec> specs;
  bool all_values = true;
  bool all_const = true;
  for (const auto& a : args) {
    ArgSpec s = SpecOf(*a);
    all_values &= a->kind == Node::Kind::kConstant;
    all_const &= a->is_const;
    if (traits.default_nulls) {
      if (IsNullLiteralType(*s.type)) n->null_result = true;
      if (s.type->is_nullable()) {
        n->null_wrap = true;
        s.type = s.type->nested();
        if (s.value && s.value->is_null()) s.value.reset();
      }
    }
    if (traits.default_low_cardinality &&
        (s.type->id() == TypeId::kLowCardinality || s.type->id() == TypeId::kFixedString)) {
      s.type = DataType::Get(TypeId::kString);
    }
    specs.push_back(std::move(s));
  }
  n->is_const = all_const;
  n->args = std::move(args);
  if (n->null_result) {
    n->type = NullLiteralType();
  } else {
    Result<BoundFunction> bound = entry->factory(entry->name, specs);
    if (!bound.ok()) return bound.status();
    n->bound = std::move(bound).value();
    n->type = n->null_wrap && !IsTuple(*n->bound.result_type) ? MakeNullable(n->bound.result_type)
                                                              : n->bound.result_type;
  }
  if (traits.foldable && all_values) {
    EvalContext ctx;
    std::vector<Datum> datums;
    for (const auto& a : n->args) datums.push_back(a->constant);
    Result<Datum> r = RunFunction(*n, std::move(datums), 1, ctx);
    if (!r.ok()) return r.status();
    return ConstantNode(n->type, r->column->GetValue(0));
  }
  (void)where;
  return NodePtr(std::move(n));
}

// ------------------------------------------------------------------ evaluate

// Brings String-like argument columns to ColumnString for default-LowCardinality functions.
Datum NormalizeStrings(const Datum& d) {
  const DataType& t = *d.column->type();
  if (t.id() == TypeId::kLowCardinality || t.id() == TypeId::kFixedString) {
    return Datum{ToStringColumn(d.column), d.is_const};
  }
  if (t.is_nullable() && t.nested()->id() == TypeId::kFixedString) {
    const auto& cn = static_cast<const types::ColumnNullable&>(*d.column);
    ColumnPtr nested = ToStringColumn(cn.nested_ptr());
    auto out = std::make_shared<types::ColumnNullable>(DataType::Nullable(nested->type()), nested);
    out->mutable_null_map() = cn.null_map();
    return Datum{out, d.is_const};
  }
  return d;
}

Result<Datum> RunFunction(const Node& n, std::vector<Datum> args, size_t rows,
                          const EvalContext& ctx) {
  const FunctionTraits& traits = n.entry->traits;
  bool all_const = true;
  for (const Datum& d : args) all_const &= d.is_const;
  if (all_const) rows = 1;
  if (n.null_result) return Datum{AllNullColumn(n.type, rows), all_const};
  if (traits.default_low_cardinality) {
    for (Datum& d : args) d = NormalizeStrings(d);
  }
  KernelContext kc;
  kc.rows = rows;
  kc.eval = &ctx;
  if (!n.null_wrap) {
    TH_ASSIGN_OR_RETURN(ColumnPtr c, n.bound.kernel(args, kc));
    return Datum{std::move(c), all_const};
  }
  std::vector<uint8_t> nulls(rows, 0);
  for (Datum& d : args) {
    if (!d.column->type()->is_nullable()) continue;
    MergeNullMap(d, rows, &nulls);
    d.column = static_cast<const types::ColumnNullable&>(*d.column).nested_ptr();
  }
  kc.null_rows = nulls.data();
  TH_ASSIGN_OR_RETURN(ColumnPtr c, n.bound.kernel(args, kc));
  if (c->type()->is_nullable()) {
    auto& cn = static_cast<types::ColumnNullable&>(*c);
    auto& own = cn.mutable_null_map();
    for (size_t i = 0; i < rows; ++i) own[i] |= nulls[i];
    return Datum{std::move(c), all_const};
  }
  return Datum{WrapNullable(std::move(c), std::move(nulls)), all_const};
}

// How many of p[0, n) equal k; four at a time.
size_t CountEqual(const uint32_t* p, size_t n, uint32_t k) {
  size_t i = 0, matches = 0;
#if defined(__SSE2__)
  const __m128i key = _mm_set1_epi32(static_cast<int>(k));
  while (i + 4 <= n) {
    // Lane counters of 32 bits: flushed every 2^30 rows, long before they could wrap.
    __m128i acc = _mm_setzero_si128();
    const size_t end = std::min(n - (n - i) % 4, i + (size_t{1} << 30));
    for (; i < end; i += 4) {
      __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
      acc = _mm_sub_epi32(acc, _mm_cmpeq_epi32(v, key));
    }
    alignas(16) uint32_t lanes[4];
    _mm_store_si128(reinterpret_cast<__m128i*>(lanes), acc);
    matches += size_t{lanes[0]} + lanes[1] + lanes[2] + lanes[3];
  }
#endif
  for (; i < n; ++i) matches += p[i] == k;
  return matches;
}

// Evaluates a default-LowCardinality function whose only non-constant argument is a
// LowCardinality column: once per dictionary entry, then gathered through the row indices.
Result<Datum> RunOnDictionary(const Node& n, std::vector<Datum> args, size_t lc_arg, size_t rows,
                              const EvalContext& ctx) {
  const auto& lc = static_cast<const types::ColumnLowCardinality&>(*args[lc_arg].column);
  const auto& dict = lc.dictionary();
  auto dict_col = std::make_shared<types::ColumnString>(DataType::Get(TypeId::kString));
  dict_col->Reserve(dict.size());
  for (const auto& s : dict) dict_col->Append(s);
  args[lc_arg] = Datum{dict_col, false};
  TH_ASSIGN_OR_RETURN(Datum r, RunFunction(n, std::move(args), dict.size(), ctx));
  const std::vector<uint32_t>& idx = lc.indices();
  const Column& per_entry = *r.column;
  if (per_entry.type()->id() == TypeId::kUInt8 && !IsNothing(*per_entry.type())) {
    // Predicates: one matching entry becomes an index comparison.
    const auto& v = static_cast<const Vec<uint8_t>&>(per_entry).data();
    size_t ones = 0, one_at = 0;
    bool boolean = true;
    for (size_t k = 0; k < v.size(); ++k) {
      boolean &= v[k] <= 1;
      if (v[k]) {
        ++ones;
        one_at = k;
      }
    }
    if (boolean && ones <= 1) {
      auto constant = [&](uint8_t v) {
        return Datum{types::MakeConstColumn(per_entry.type(), types::Value::UInt(v), 1), true};
      };
      if (ones == 0) return constant(0);
      const uint32_t* p = idx.data();
      const uint32_t k = static_cast<uint32_t>(one_at);
      const size_t matches = CountEqual(p, rows, k);
      // A block of one value (a sort-key prefix such as entityType, read from a key range):
      // the predicate is a constant, which AND/OR and filters then skip.
      if (matches == 0 || matches == rows) return constant(matches == rows);
      auto out = NewVector<uint8_t>(per_entry.type(), rows);
      uint8_t* __restrict dst = out->data().data();
      for (size_t i = 0; i < rows; ++i) dst[i] = p[i] == k;
      return Datum{out, false};
    }
  }
  return Datum{per_entry.Permute(idx), false};
}

Result<Datum> EvalNode(const Node& n, const types::Block& block, size_t rows,
                       const EvalContext& ctx) {
  switch (n.kind) {
    case Node::Kind::kConstant:
      return n.constant;
    case Node::Kind::kColumn: {
      const types::NamedColumn* c = block.Get(n.column);
      if (!c) {
        return Status::InvalidArgument(fmt::format("Not found column {} in block", n.column),
                                       ch::kNotFoundColumnInBlock);
      }
      if (!c->column->type()->Equals(*n.type)) {
        return Status::InvalidArgument(
            fmt::format("Column {} has type {} in block, expression was compiled for {}", n.column,
                        c->column->type()->name(), n.type->name()),
            ch::kTypeMismatch);
      }
      if (c->column->size() < rows) {
        return Status::InvalidArgument(
            fmt::format("Column {} has {} rows, expected {}", n.column, c->column->size(), rows),
            ch::kLogicalError);
      }
      return Datum{c->column, false};
    }
    case Node::Kind::kParam: {
      const Value* v = nullptr;
      if (ctx.params) {
        auto it = ctx.params->find(n.param);
        if (it != ctx.params->end()) v = &it->second;
      }
      if (!v) {
        return Status::InvalidArgument(fmt::format("Substitution `{}` is not set", n.param),
                                       kChUnknownQueryParameter);
      }
      Result<Value> pv = v->kind() == Value::Kind::kString
                             ? types::ParseValueText(v->string_value(), *n.type)
                             : types::ConvertValue(*v, *n.type);
      if (!pv.ok()) {
        return pv.status().WithContext(fmt::format("Query parameter `{}`", n.param));
      }
      return ConstDatum(n.type, *pv);
    }
    case Node::Kind::kTuple:
      return Status::NotSupported("A tuple cannot be evaluated as a column", ch::kNotImplemented);
    case Node::Kind::kFunction:
      break;
  }
  std::vector<Datum> args;
  args.reserve(n.args.size());
  size_t non_const = 0, lc_arg = 0;
  for (size_t i = 0; i < n.args.size(); ++i) {
    const Node& a = *n.args[i];
    if (a.kind == Node::Kind::kTuple) {
      args.push_back(
          Datum{types::MakeConstColumn(DataType::Get(TypeId::kUInt8), Value::UInt(0), 1), true});
      continue;
    }
    TH_ASSIGN_OR_RETURN(Datum d, EvalNode(a, block, rows, ctx));
    if (!d.is_const) {
      ++non_const;
      lc_arg = i;
    }
    args.push_back(std::move(d));
  }
  if (non_const == 1 && n.entry->traits.default_low_cardinality && !n.null_result &&
      args[lc_arg].column->type()->id() == TypeId::kLowCardinality) {
    const auto& lc = static_cast<const types::ColumnLowCardinality&>(*args[lc_arg].column);
    if (!lc.dictionary().empty() && lc.dictionary().size() <= rows && lc.size() == rows) {
      return RunOnDictionary(n, std::move(args), lc_arg, rows, ctx);
    }
  }
  return RunFunction(n, std::move(args), rows, ctx);
}

void CollectColumns(const Node& n, std::vector<std::string>* out) {
  if (n.kind == Node::Kind::kColumn) {
    if (std::find(out->begin(), out->end(), n.column) == out->end()) out->push_back(n.column);
  }
  for (const auto& a : n.args) CollectColumns(*a, out);
}

Status MissingColumns(const std::vector<std::string>& missing, const sql::Expr& root,
                      const std::vector<InputColumn>& input) {
  std::string names, source;
  for (const auto& m : missing) names += (names.empty() ? "'" : " '") + m + "'";
  for (const auto& c : input) source += (source.empty() ? "" : ", ") + c.name;
  return Status::InvalidArgument(
      fmt::format("Missing columns: {} while processing query: '{}', required columns: {}, "
                  "source columns: {}",
                  names, ExprText(root), names, source),
      ch::kUnknownIdentifier);
}

}  // namespace

// ------------------------------------------------------------------ CompiledExpr

CompiledExpr::CompiledExpr(std::unique_ptr<Node> root) : root_(std::move(root)) {}
CompiledExpr::~CompiledExpr() = default;

const DataTypePtr& CompiledExpr::type() const { return root_->type; }

bool CompiledExpr::is_constant() const { return root_->is_const; }

Result<ColumnPtr> CompiledExpr::Evaluate(const types::Block& input, const EvalContext& ctx) const {
  return Evaluate(input, input.rows(), ctx);
}

Result<ColumnPtr> CompiledExpr::Evaluate(const types::Block& input, size_t rows,
                                         const EvalContext& ctx) const {
  TH_ASSIGN_OR_RETURN(Datum d, EvalNode(*root_, input, rows, ctx));
  if (d.is_const) return Materialize(d, rows);
  return d.column;
}

Result<Value> CompiledExpr::EvaluateConstant(const EvalContext& ctx) const {
  if (!root_->is_const) {
    return Status::InvalidArgument("Expression is not constant: it references columns",
                                   ch::kBadArguments);
  }
  types::Block empty;
  TH_ASSIGN_OR_RETURN(Datum d, EvalNode(*root_, empty, 1, ctx));
  return d.column->GetValue(0);
}

std::vector<std::string> CompiledExpr::ReferencedColumns() const {
  std::vector<std::string> out;
  CollectColumns(*root_, &out);
  return out;
}

Result<std::unique_ptr<CompiledExpr>> Compile(const sql::Expr& expr,
                                              const std::vector<InputColumn>& input) {
  Binder binder(input);
  Result<NodePtr> root = binder.Bind(expr);
  if (!binder.missing().empty()) return MissingColumns(binder.missing(), expr, input);
  if (!root.ok()) return root.status();
  if ((*root)->kind == Node::Kind::kTuple) {
    return Status::NotSupported("A tuple cannot be evaluated as a column", ch::kNotImplemented);
  }
  return std::unique_ptr<CompiledExpr>(new CompiledExpr(std::move(root).value()));
}

Result<std::vector<std::unique_ptr<CompiledExpr>>> CompileTupleElements(
    const sql::Expr& expr, const std::vector<InputColumn>& input) {
  std::vector<std::unique_ptr<CompiledExpr>> out;
  if (expr.IsFunction("tuple")) {
    for (const auto& a : expr.args) {
      TH_ASSIGN_OR_RETURN(auto c, Compile(*a, input));
      out.push_back(std::move(c));
    }
  } else {
    TH_ASSIGN_OR_RETURN(auto c, Compile(expr, input));
    out.push_back(std::move(c));
  }
  return out;
}

Result<ColumnPtr> ConvertColumn(const ColumnPtr& column, const DataTypePtr& type) {
  TH_RETURN_IF_ERROR(CheckCastable(*column->type(), *type, "CAST"));
  return CastColumn(column, type);
}

bool IsKnownFunction(std::string_view name) {
  return FunctionRegistry::Instance().Find(name) != nullptr || name == "tuple" ||
         name == "caseWithExpression";
}

}  // namespace trackhouse::eval
