// Formatter: turns AST back into ClickHouse SQL, and names result columns the way ClickHouse
// does.
//
// The output is valid, re-parseable SQL, and formatting is a fixed point of parsing:
// Format(Parse(Format(Parse(x)))) == Format(Parse(x)). Operators print in infix form with
// only the parentheses precedence needs (`a + b * c`, `(a + b) * c`), toIntervalDay(90) prints
// as `INTERVAL 90 DAY`, multiIf as `CASE WHEN ... END`, identifiers are backquoted when they
// are not plain words or could be read as keywords, strings are quoted with escapes.
//
// FormatStatement of a CreateTableStmt is what SHOW CREATE TABLE prints and what the catalog
// stores, in ClickHouse's layout (one column per line, one clause per line); every other
// statement prints on one line. INSERT prints only its header (up to FORMAT name / VALUES);
// the data is not part of the AST.
//
// Pure functions of their input; thread-safe.
#pragma once

#include <string>

#include "sql/ast.h"

namespace trackhouse::sql {

// The expression as SQL, including its alias (`count() AS events`).
std::string FormatExpr(const Expr& expr);

// The statement as SQL, without a trailing ';'.
std::string FormatStatement(const Statement& stmt);

// A SELECT (union) as SQL, without FORMAT.
std::string FormatSelect(const SelectUnion& query);

// The column name ClickHouse gives an unaliased expression in a result: functions as
// name(args) with operators spelled as their functions, literals as SQL literals, identifiers
// unquoted. `countIf(metricType = 'View')` -> "countIf(equals(metricType, 'View'))",
// `count(*)` -> "count()", `now() - INTERVAL 7 DAY` -> "minus(now(), toIntervalDay(7))",
// `count(DISTINCT x)` -> "countDistinct(x)", `[1, 2]` -> "[1, 2]". The expression's own alias is
// ignored (callers use it when set). A query parameter is named "{name:Type}"; ClickHouse
// names the substituted value `_CAST(value, 'Type')`, which only the binder can know.
std::string ExprColumnName(const Expr& expr);

}  // namespace trackhouse::sql
