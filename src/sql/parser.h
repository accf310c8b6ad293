// The sql module's facade: parse trackhouse's ClickHouse SQL dialect into the AST (ast.h).
//
// A hand-written recursive-descent parser with precedence climbing, modelled on ClickHouse's
// grammar. docs/sql.md lists what is accepted and what is rejected as unsupported.
//
// Errors are Status values, never exceptions:
//  - malformed input: InvalidArgument with ch::kSyntaxError and a ClickHouse-shaped message,
//    `Syntax error: failed at position 23 (line 1, col 23) ('FROM'): FROM t. Expected one of:
//    ...` (positions are 1-based byte offsets; "(end of query)" when the input ran out);
//  - recognized but unsupported syntax (JOIN, window functions, CREATE VIEW, ...): NotSupported
//    with ch::kNotImplemented, e.g. "JOIN is not supported by trackhouse (position 30)";
//  - nesting deeper than kMaxParseDepth: InvalidArgument ch::kSyntaxError, "Maximum parse depth
//    exceeded ...".
// The parser never crashes and its time and stack are bounded by the input length and the
// depth limit, whatever bytes it is given.
//
// All functions are thread-safe (no shared state). The returned trees own their data; `text`
// need not outlive them (InsertStmt::data_offset points into the caller's text).
#pragma once

#include <string_view>
#include <vector>

#include "common/status.h"
#include "sql/ast.h"

namespace trackhouse::sql {

// Deepest nesting of expressions, subqueries and types the parser accepts.
inline constexpr int kMaxParseDepth = 1000;

// Parses exactly one statement (an optional trailing ';' is allowed). For INSERT ... FORMAT fmt
// and INSERT ... VALUES the statement ends where the data begins: InsertStmt::data_offset is
// the byte offset in `text` of the first data byte (for FORMAT after the format name and one
// following whitespace character if present; for VALUES the first '(' after VALUES) and the
// data is not parsed here.
Result<StatementPtr> ParseStatement(std::string_view text);

// Splits a script (a migration file) into statements on ';' outside strings, comments and
// quoted identifiers and parses each. Positions, error messages and InsertStmt data offsets
// refer to the whole script. Empty statements (only whitespace or comments) are skipped.
Result<std::vector<StatementPtr>> ParseScript(std::string_view text);

// Parses one standalone expression (DEFAULT expressions kept as text, tests). An alias
// (`expr AS name`) is allowed.
Result<ExprPtr> ParseExpression(std::string_view text);

// Parses and normalizes a data type: "Nullable( Int32 )" -> "Nullable(Int32)",
// "DateTime64(3,'UTC')" -> "DateTime64(3, 'UTC')". Syntax only; the types module decides
// which types exist.
Result<std::string> ParseTypeText(std::string_view text);

}  // namespace trackhouse::sql
