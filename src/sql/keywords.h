// Keywords and quoting: which bare words the parser treats as keywords in expression
// positions, and how identifiers and strings are written so that they parse back unchanged.
//
// Keywords are case-insensitive; the functions take any case. All functions are pure and
// thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace trackhouse::sql {

// Words that start or structure a clause (FROM, WHERE, AS, THEN, ...): never a bare
// identifier and never a function name in an expression. (END, FORMAT, LIMIT, OFFSET and
// VALUES are not among them: they are keywords only where an expression may end, so they
// stay usable as column names.)
bool IsClauseKeyword(std::string_view word);

// Words that cannot be a bare identifier in an expression: clause keywords plus the operator
// words AND, OR, IN, LIKE, ILIKE (which may still name a function when followed by '(').
bool IsReservedInExpression(std::string_view word);

// Words that cannot be an alias written without AS (`SELECT x views` works, `SELECT x FROM`
// does not): reserved words plus words that may follow an expression (DESC, FINAL, NULLS, ...).
bool IsRestrictedAlias(std::string_view word);

// Words that end a column's type or default expression in a column declaration (DEFAULT,
// COMMENT, CODEC, TTL, NULL, AFTER, ...): never a type name.
bool IsColumnModifierKeyword(std::string_view word);

// True for [A-Za-z_][A-Za-z0-9_]*.
bool IsPlainWord(std::string_view name);

// `name` quoted with backquotes when it would not read back as the same identifier: not a
// plain word, reserved in expressions, or a word with its own meaning (NULL, TRUE, FALSE, NOT,
// CASE, INTERVAL, INF, INFINITY, NAN); otherwise unchanged.
std::string QuoteIdentifierIfNeeded(std::string_view name);

// `name` in backquotes, with backquotes and backslashes escaped.
std::string QuoteIdentifier(std::string_view name);

// `value` as a single-quoted SQL string literal with backslash escapes.
std::string QuoteString(std::string_view value);

}  // namespace trackhouse::sql
