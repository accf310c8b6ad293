#include "eval/test_util.h"

#include "eval/conversion.h"
#include "sql/parser.h"
#include "types/convert.h"

namespace trackhouse::eval::testing {

types::Block MakeBlock(const std::vector<ColumnSpec>& columns) {
  types::Block block;
  for (const auto& c : columns) {
    types::DataTypePtr type = *types::ParseDataType(c.type);
    types::ColumnPtr col = types::MakeColumn(type);
    for (const auto& v : c.values) {
      Result<types::Value> value = types::ParseValueText(v, *type);
      if (!value.ok()) {
        col->AppendDefault();
        continue;
      }
      col->AppendValue(*value);
    }
    block.Add(c.name, type, col);
  }
  return block;
}

std::vector<InputColumn> InputsOf(const types::Block& block) {
  std::vector<InputColumn> out;
  for (const auto& c : block.columns()) out.push_back({c.name, c.type});
  return out;
}

Result<std::unique_ptr<CompiledExpr>> CompileText(std::string_view text,
                                                  const types::Block& block) {
  TH_ASSIGN_OR_RETURN(sql::ExprPtr expr, sql::ParseExpression(text));
  return Compile(*expr, InputsOf(block));
}

std::string FormatRow(const types::Column& column, size_t row) {
  types::Value v = column.GetValue(row);
  const types::DataType& t = column.type()->Unwrapped();
  if (!v.is_null() && t.id() == types::TypeId::kFloat64) {
    std::string s;
    FormatFloat64(v.float_value(), &s);
    return s;
  }
  if (!v.is_null() && t.id() == types::TypeId::kFloat32) {
    std::string s;
    FormatFloat32(static_cast<float>(v.float_value()), &s);
    return s;
  }
  return types::FormatValueText(v, *column.type());
}

std::vector<std::string> Eval(std::string_view text, const types::Block& block,
                              const EvalContext& ctx) {
  auto compiled = CompileText(text, block);
  if (!compiled.ok()) return {"ERROR: " + compiled.status().message()};
  auto col = (*compiled)->Evaluate(block, ctx);
  if (!col.ok()) return {"ERROR: " + col.status().message()};
  std::vector<std::string> out;
  for (size_t i = 0; i < (*col)->size(); ++i) out.push_back(FormatRow(**col, i));
  return out;
}

std::string EvalOne(std::string_view text, const EvalContext& ctx) {
  types::Block one = MakeBlock({{"_dummy", "UInt8", {"0"}}});
  std::vector<std::string> rows = Eval(text, one, ctx);
  return rows.empty() ? "" : rows[0];
}

std::string TypeOf(std::string_view text, const types::Block& block) {
  auto compiled = CompileText(text, block);
  if (!compiled.ok()) return "ERROR: " + compiled.status().message();
  return (*compiled)->type()->name();
}

Status ErrorOf(std::string_view text, const types::Block& block, const EvalContext& ctx) {
  auto compiled = CompileText(text, block);
  if (!compiled.ok()) return compiled.status();
  types::Block b = block;
  if (b.num_columns() == 0) b = MakeBlock({{"_dummy", "UInt8", {"0"}}});
  auto col = (*compiled)->Evaluate(b, ctx);
  return col.ok() ? Status::OK() : col.status();
}

}  // namespace trackhouse::eval::testing
