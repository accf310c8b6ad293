// Test helpers for the eval module: build small Blocks from text values, compile expression
// text against them and read results back as ClickHouse-style text. Test-only.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "eval/expression.h"
#include "types/block.h"

namespace trackhouse::eval::testing {

struct ColumnSpec {
  std::string name;
  std::string type;                 // ClickHouse type text
  std::vector<std::string> values;  // text forms; "\\N" is NULL
};

types::Block MakeBlock(const std::vector<ColumnSpec>& columns);

std::vector<InputColumn> InputsOf(const types::Block& block);

// Parses and compiles `text` against the block's columns.
Result<std::unique_ptr<CompiledExpr>> CompileText(std::string_view text, const types::Block& block);

// Text of every row of `text` evaluated over `block` (NULL is "\N", floats as ClickHouse
// prints them), or {"ERROR: <message>"}.
std::vector<std::string> Eval(std::string_view text, const types::Block& block,
                              const EvalContext& ctx = {});

// Text of a constant expression's value (evaluated over a block of one row), or
// "ERROR: <message>".
std::string EvalOne(std::string_view text, const EvalContext& ctx = {});

// The result type name of `text` over `block`, or "ERROR: <message>".
std::string TypeOf(std::string_view text, const types::Block& block = {});

// The compile-or-evaluate error of `text`, or OK.
Status ErrorOf(std::string_view text, const types::Block& block = {}, const EvalContext& ctx = {});

// Formats one row of a column like ClickHouse's TSV output.
std::string FormatRow(const types::Column& column, size_t row);

}  // namespace trackhouse::eval::testing
