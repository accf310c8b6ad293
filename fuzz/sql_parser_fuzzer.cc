// libFuzzer target for the SQL front end: ParseStatement, ParseScript, ParseExpression and
// ParseTypeText on arbitrary bytes.
//
// Besides ASan/UBSan findings, the oracle is the formatter's contract (sql/format.h): whatever
// parses formats to SQL that parses again, and formatting that is a fixed point. Result column
// names (ExprColumnName) are computed for every select-list expression on the way.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_support.h"
#include "sql/ast.h"
#include "sql/format.h"
#include "sql/parser.h"

namespace trackhouse::fuzz {
namespace {

void NameColumns(const sql::SelectUnion& query) {
  for (const auto& select : query.selects) {
    for (const auto& column : select->columns) {
      std::string name = sql::ExprColumnName(*column);
      Check(!name.empty(), "empty column name", sql::FormatExpr(*column));
    }
  }
}

void CheckStatementRoundTrip(const sql::Statement& stmt, std::string_view input) {
  if (const auto* select = stmt.As<sql::SelectStmt>()) NameColumns(*select->query);
  const std::string first = sql::FormatStatement(stmt);
  auto reparsed = sql::ParseStatement(first);
  Check(reparsed.ok(), "formatted statement does not parse",
        std::string(input) + "\nformatted: " + first + "\nerror: " + reparsed.status().ToString());
  Check((*reparsed)->kind == stmt.kind, "statement kind changed", first);
  const std::string second = sql::FormatStatement(**reparsed);
  Check(first == second, "formatting is not a fixed point",
        std::string(input) + "\nfirst:  " + first + "\nsecond: " + second);
}

}  // namespace

void FuzzOne(std::string_view input) {
  if (auto stmt = sql::ParseStatement(input); stmt.ok()) {
    CheckStatementRoundTrip(**stmt, input);
  }

  if (auto script = sql::ParseScript(input); script.ok()) {
    for (const auto& stmt : *script) CheckStatementRoundTrip(*stmt, input);
  }

  if (auto expr = sql::ParseExpression(input); expr.ok()) {
    sql::ExprColumnName(**expr);
    const std::string first = sql::FormatExpr(**expr);
    auto reparsed = sql::ParseExpression(first);
    Check(
        reparsed.ok(), "formatted expression does not parse",
        std::string(input) + "\nformatted: " + first + "\nerror: " + reparsed.status().ToString());
    const std::string second = sql::FormatExpr(**reparsed);
    Check(first == second, "expression formatting is not a fixed point",
          std::string(input) + "\nfirst:  " + first + "\nsecond: " + second);
  }

  if (auto type = sql::ParseTypeText(input); type.ok()) {
    auto again = sql::ParseTypeText(*type);
    Check(again.ok() && *again == *type, "type text is not normalized", *type);
  }
}

}  // namespace trackhouse::fuzz
