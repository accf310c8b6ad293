#include "engine/merge_rules.h"

#include <fmt/format.h>

#include "engine/sort.h"
#include "sql/parser.h"
#include "types/convert.h"
#include "types/datetime.h"

namespace trackhouse::engine {
namespace {

bool IsSummable(const types::DataType& t) {
  const types::DataType& u = t.Unwrapped();
  return (u.is_numeric() && u.id() != types::TypeId::kBool) && !t.is_nullable();
}

// Adds row `src` of column c into the accumulated value at row `dst` of out (same type).
template <typename T>
void AddInto(types::ColumnVector<T>& out, size_t dst, const types::ColumnVector<T>& in,
             size_t src) {
  out.data()[dst] = static_cast<T>(out.data()[dst] + in.data()[src]);
}

// Seconds since the epoch of a TTL value (DateTime, DateTime64 or Date).
int64_t TtlSeconds(const types::Column& col, const types::DataType& type, size_t row) {
  types::Value v = col.GetValue(row);
  if (v.is_null()) return INT64_MAX;  // NULL never expires
  switch (type.Unwrapped().id()) {
    case types::TypeId::kDate:
      return static_cast<int64_t>(v.AsUInt()) * 86400;
    case types::TypeId::kDateTime64: {
      int64_t scale = types::Pow10(type.Unwrapped().precision());
      int64_t t = v.AsInt();
      return t >= 0 ? t / scale : -((-t + scale - 1) / scale);
    }
    default:
      return v.AsInt();
  }
}

}  // namespace

Result<types::Block> CollapseSorted(const TableDef& def, const types::Block& sorted) {
  if (def.kind != EngineKind::kReplacing && def.kind != EngineKind::kSumming) return sorted;
  size_t n = sorted.rows();
  if (n < 2) return sorted;
  std::vector<const types::Column*> key;
  for (const auto& k : def.sort_key) key.push_back(sorted.Get(k)->column.get());
  if (def.kind == EngineKind::kReplacing) {
    const types::Column* ver =
        def.version_column.empty() ? nullptr : sorted.Get(def.version_column)->column.get();
    types::Permutation keep;
    size_t start = 0;
    while (start < n) {
      size_t end = start + 1;
      while (end < n && KeysEqual(key, start, end)) ++end;
      size_t best = end - 1;  // the last inserted wins without a version column
      if (ver != nullptr) {
        best = start;
        for (size_t i = start + 1; i < end; ++i) {
          if (ver->CompareAt(i, *ver, best) >= 0) best = i;  // ties: the later row
        }
      }
      keep.push_back(static_cast<uint32_t>(best));
      start = end;
    }
    return sorted.Permute(keep);
  }
  // Summing: first row of each run, with the summed columns accumulated.
  std::vector<bool> summed(sorted.num_columns(), false);
  for (size_t c = 0; c < sorted.num_columns(); ++c) {
    const auto& col = sorted.at(c);
    bool in_key =
        std::find(def.sort_key.begin(), def.sort_key.end(), col.name) != def.sort_key.end();
    bool listed = def.sum_columns.empty() ||
                  std::find(def.sum_columns.begin(), def.sum_columns.end(), col.name) !=
                      def.sum_columns.end();
    summed[c] = !in_key && listed && IsSummable(*col.type);
  }
  types::Permutation firsts;
  std::vector<std::pair<size_t, size_t>> runs;
  size_t start = 0;
  while (start < n) {
    size_t end = start + 1;
    while (end < n && KeysEqual(key, start, end)) ++end;
    firsts.push_back(static_cast<uint32_t>(start));
    runs.emplace_back(start, end);
    start = end;
  }
  types::Block out = sorted.Permute(firsts);
  for (size_t c = 0; c < sorted.num_columns(); ++c) {
    if (!summed[c]) continue;
    const types::Column& in = *sorted.at(c).column;
    types::Column& acc = *out.at(c).column;
    types::DispatchVector(in.type()->id(), [&](auto* tag) {
      using T = std::remove_pointer_t<decltype(tag)>;
      auto& a = static_cast<types::ColumnVector<T>&>(acc);
      const auto& s = static_cast<const types::ColumnVector<T>&>(in);
      for (size_t r = 0; r < runs.size(); ++r) {
        for (size_t i = runs[r].first + 1; i < runs[r].second; ++i) AddInto(a, r, s, i);
      }
    });
  }
  return out;
}

Result<types::Block> FilterExpired(const TableDef& def, const types::Block& block,
                                   int64_t now_micros) {
  if (!def.ttl_expr || block.rows() == 0) return block;
  eval::EvalContext ctx;
  ctx.now_micros = now_micros;
  TH_ASSIGN_OR_RETURN(types::ColumnPtr ttl, def.ttl_expr->Evaluate(block, ctx));
  int64_t now_s = now_micros / 1000000;
  std::vector<uint8_t> keep(block.rows());
  size_t kept = 0;
  for (size_t i = 0; i < block.rows(); ++i) {
    keep[i] = TtlSeconds(*ttl, *def.ttl_expr->type(), i) > now_s;
    kept += keep[i];
  }
  if (kept == block.rows()) return block;
  return block.Filter(keep);
}

Result<std::pair<int64_t, int64_t>> TtlRange(const TableDef& def, const types::Block& block,
                                             int64_t now_micros) {
  if (!def.ttl_expr || block.rows() == 0) return std::make_pair(INT64_MAX, INT64_MAX);
  eval::EvalContext ctx;
  ctx.now_micros = now_micros;
  TH_ASSIGN_OR_RETURN(types::ColumnPtr ttl, def.ttl_expr->Evaluate(block, ctx));
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (size_t i = 0; i < block.rows(); ++i) {
    int64_t s = TtlSeconds(*ttl, *def.ttl_expr->type(), i);
    lo = std::min(lo, s);
    hi = std::max(hi, s);
  }
  return std::make_pair(lo, hi);
}

Result<types::ColumnPtr> DefaultColumn(const storage::ColumnDef& column, const TableDef& def,
                                       const types::Block& block, size_t rows, int64_t now_micros) {
  if (column.default_expr.empty()) {
    return types::MakeConstColumn(column.type, types::DefaultValue(*column.type), rows);
  }
  TH_ASSIGN_OR_RETURN(sql::ExprPtr expr, sql::ParseExpression(column.default_expr));
  std::vector<eval::InputColumn> inputs;
  for (const auto& c : block.columns()) inputs.push_back({c.name, c.type});
  TH_ASSIGN_OR_RETURN(auto compiled, eval::Compile(*expr, inputs));
  eval::EvalContext ctx;
  ctx.now_micros = now_micros;
  types::Block input = block;
  if (input.num_columns() == 0) {
    // A constant default over no columns: evaluate once.
    TH_ASSIGN_OR_RETURN(types::Value v, compiled->EvaluateConstant(ctx));
    TH_ASSIGN_OR_RETURN(types::Value conv, types::ConvertValue(v, *column.type));
    return types::MakeConstColumn(column.type, conv, rows);
  }
  TH_ASSIGN_OR_RETURN(types::ColumnPtr col, compiled->Evaluate(input, ctx));
  if (col->type()->Equals(*column.type)) return col;
  types::ColumnPtr out = types::MakeColumn(column.type);
  out->Reserve(rows);
  for (size_t i = 0; i < rows; ++i) {
    TH_ASSIGN_OR_RETURN(types::Value v, types::ConvertValue(col->GetValue(i), *column.type));
    out->AppendValue(v);
  }
  return out;
}

namespace {

// The named table columns, in that order, taken from `block` by name: as they are when the
// type matches, converted value by value when the block has an older type of the column (a
// part or log record from before an ALTER), and filled with the column's DEFAULT when the
// block does not have it. `rows` is the row count (a block with no columns has none).
Result<types::Block> ProjectColumns(const types::Block& block, const TableDef& def,
                                    const std::vector<std::string>& names, size_t rows,
                                    int64_t now_micros) {
  types::Block out;
  for (const auto& n : names) {
    const storage::ColumnDef* cd = def.schema->FindColumn(n);
    if (cd == nullptr) {
      return Status::Internal(fmt::format("column {} is not in table {}", n, def.schema->name));
    }
    const types::NamedColumn* got = block.Get(n);
    if (got != nullptr && got->type->Equals(*cd->type)) {
      out.Add(n, cd->type, got->column);
    } else if (got != nullptr) {
      types::ColumnPtr conv = types::MakeColumn(cd->type);
      conv->Reserve(rows);
      for (size_t i = 0; i < rows; ++i) {
        TH_ASSIGN_OR_RETURN(types::Value v,
                            types::ConvertValue(got->column->GetValue(i), *cd->type));
        conv->AppendValue(v);
      }
      out.Add(n, cd->type, std::move(conv));
    } else {
      TH_ASSIGN_OR_RETURN(types::ColumnPtr d, DefaultColumn(*cd, def, block, rows, now_micros));
      out.Add(n, cd->type, std::move(d));
    }
  }
  return out;
}

}  // namespace

Result<types::Block> ReadPartColumns(const Part& part, const TableDef& def,
                                     const std::vector<std::string>& names, size_t g0, size_t g1) {
  std::vector<std::string> present;
  for (const auto& n : names) {
    if (part.HasColumn(n)) present.push_back(n);
  }
  TH_ASSIGN_OR_RETURN(types::Block raw, part.ReadBlock(present, g0, g1));
  size_t rows = raw.rows();
  if (present.empty()) {
    rows = 0;
    for (size_t g = g0; g < g1; ++g) rows += part.GranuleRows(g);
  }
  return ProjectColumns(raw, def, names, rows, /*now_micros=*/0);
}

Result<types::Block> AdaptBlockToTable(const types::Block& block, const TableDef& def,
                                       int64_t now_micros) {
  const auto& cols = def.schema->columns;
  bool same = block.num_columns() == cols.size();
  for (size_t i = 0; same && i < cols.size(); ++i) {
    same = block.at(i).name == cols[i].name && block.at(i).type->Equals(*cols[i].type);
  }
  if (same) return block;
  std::vector<std::string> names;
  for (const auto& c : cols) names.push_back(c.name);
  return ProjectColumns(block, def, names, block.rows(), now_micros);
}

}  // namespace trackhouse::engine
