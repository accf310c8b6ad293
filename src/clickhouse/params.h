// Query parameters bound into the SQL text, for ClickHouse servers without HTTP query parameters
// (before 19.11, such as Debian's 18.16, which takes `param_x` for an unknown setting).
//
//   Settings params = {{"modelId", "42"}, {"name", "O\\'Brien\\tjr"}};
//   auto sql = BindParameters("SELECT * FROM t WHERE id = {modelId:UInt32} AND n = {name:String}",
//                             params);
//   // "SELECT * FROM t WHERE id = 42 AND n = 'O\'Brien\tjr'"
//
// Placeholders `{name:Type}` are found with the sql lexer, so braces inside string literals,
// quoted identifiers and comments are left alone; everything outside the placeholders is copied
// byte for byte. Each value is what the client sent as `param_<name>`: the text form of the type
// with TabSeparated escaping, as ClickHouse reads it (`it\'s`, `a\\b`, `\n`; `\N` is NULL). The
// value is decoded and validated against its type and written back as a literal that trackhouse
// quotes itself, so no value can change the statement around it:
//
//   String                     'text' with ', \ and control bytes escaped
//   FixedString(N)             toFixedString('text', N); longer than N bytes is an error
//   (U)Int8..256, Float32/64   the number, range-checked; a negative one in parentheses
//   Bool                       1 or 0 (true/false/1/0)
//   Date, Date32               toDate('YYYY-MM-DD')
//   DateTime[('tz')]           toDateTime('YYYY-MM-DD hh:mm:ss'[, 'tz']), or of Unix seconds
//   DateTime64(p[, 'tz'])      toDateTime64('YYYY-MM-DD hh:mm:ss[.fff]', p[, 'tz'])
//   UUID                       toUUID('8-4-4-4-12 hex')
//   Enum8/Enum16(...)          the name as a string
//   Nullable(T)                NULL for \N, else as T
//   LowCardinality(T)          as T
//   Array(T)                   [e1, e2]: elements in quoted form (['a','b'], [1,2], [NULL]),
//                              each validated as T; an empty one is CAST([] AS Array(T))
//   Tuple(T1, T2, ...)         tuple(e1, e2): elements in quoted form ((1,'a')), each as its
//                              type (named elements too), exactly as many as the type has
//   Identifier                 `name` back-quoted (db.table: `db`.`table`)
//   anything else (Decimal,    CAST('text' AS Type): the server parses the quoted text
//   Map, IPv4, ...)
//
// Errors, worded as ClickHouse words them and naming the parameter: a placeholder without a
// value is InvalidArgument with UNKNOWN_QUERY_PARAMETER (456), a value that is not of its type
// InvalidArgument with BAD_QUERY_PARAMETER (457).
//
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "clickhouse/client.h"
#include "common/status.h"

namespace trackhouse::clickhouse {

// Replaces every {name:Type} placeholder of `sql` by the literal for params[name] (names
// without the `param_` prefix; the last value of a name wins). Values of names no placeholder
// uses are ignored.
Result<std::string> BindParameters(std::string_view sql, const Settings& params);

// The literal for one parameter: `value` (as sent, TabSeparated-escaped) read as `type` (type
// text as written in the placeholder). `name` is for error messages.
Result<std::string> ParameterLiteral(std::string_view name, std::string_view type,
                                     std::string_view value);

// Whether `sql` has a {name:Type} placeholder outside strings, quoted identifiers and comments.
bool HasParameters(std::string_view sql);

}  // namespace trackhouse::clickhouse
