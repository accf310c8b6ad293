// libFuzzer target for expression compilation and evaluation: the input is parsed as one SQL
// expression, compiled against the columns of fuzz_support.h and evaluated over a small fixed
// block (and, when constant, as a constant), with two query parameters bound.
//
// Besides ASan/UBSan findings, the oracle is that evaluation returns a column of the compiled
// type with one value per row, and that a constant expression evaluates to the same value
// both ways.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "eval/expression.h"
#include "formats/input_format.h"
#include "fuzz/fuzz_support.h"
#include "sql/parser.h"
#include "types/convert.h"

namespace trackhouse::fuzz {
namespace {

// Rows in the schema's TabSeparated form: ordinary values, NULLs, empty strings,
// extremes of the integer types.
constexpr std::string_view kRows =
    "1\tModel\t42\t-7\talpha\t100\tnote\t0.5\ttrue\t2024-01-02\t2024-01-02 03:04:05\t"
    "2024-01-02 03:04:05.678\tabcd\n"
    "18446744073709551615\tImage\t-2147483648\t-128\t\t\\N\t\\N\t-1e308\tfalse\t1970-01-01\t"
    "1970-01-01 00:00:00\t1970-01-01 00:00:00.000\t\n"
    "3\tModel\t2147483647\t127\t{\"a\":1,\"b\":[2]}\t-9223372036854775808\t\t0\t1\t2149-06-06\t"
    "2106-02-07 06:28:15\t2299-12-31 23:59:59.999\tzz\n";

const types::Block& Rows() {
  static const types::Block block = [] {
    auto parser = formats::MakeInputParser("TabSeparated", SchemaColumns(), {});
    Check(parser.ok(), "MakeInputParser", parser.status().ToString());
    Status fed = (*parser)->Feed(kRows);
    Check(fed.ok(), "fixed rows", fed.ToString());
    Status finished = (*parser)->Finish();
    Check(finished.ok(), "fixed rows", finished.ToString());
    return (*parser)->TakeBlock().block;
  }();
  return block;
}

std::vector<eval::InputColumn> EvalColumns() {
  std::vector<eval::InputColumn> out;
  for (const auto& column : SchemaColumns()) out.push_back({column.name, column.type});
  return out;
}

}  // namespace

void FuzzOne(std::string_view input) {
  static const std::vector<eval::InputColumn> columns = EvalColumns();
  static const std::map<std::string, types::Value> params = {
      {"modelId", types::Value::String("42")},
      {"name", types::Value::String("it's a \\ {name}\n")},
  };

  auto expr = sql::ParseExpression(input);
  if (!expr.ok()) return;
  auto compiled = eval::Compile(**expr, columns);
  if (!compiled.ok()) return;
  const eval::CompiledExpr& e = **compiled;

  eval::EvalContext ctx;
  ctx.now_micros = 1700000000123456;
  ctx.params = &params;
  const types::Block& rows = Rows();
  auto result = e.Evaluate(rows, ctx);
  if (!result.ok()) return;
  Check((*result)->size() == rows.rows(), "result has the wrong number of rows",
        std::string(input));
  std::string text;
  for (size_t r = 0; r < rows.rows(); ++r) {
    types::FormatValueText((*result)->GetValue(r), *e.type(), &text);
    text.push_back('\n');
  }

  if (e.is_constant()) {
    auto value = e.EvaluateConstant(ctx);
    Check(value.ok(), "constant evaluates per row but not as a constant",
          std::string(input) + "\n" + (value.ok() ? "" : value.status().ToString()));
    Check(types::FormatValueText(*value, *e.type()) ==
              types::FormatValueText((*result)->GetValue(0), *e.type()),
          "constant value differs from its column", std::string(input) + "\n" + text);
  }
}

}  // namespace trackhouse::fuzz
