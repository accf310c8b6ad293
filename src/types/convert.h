// Conversions between Values, text and column types, with ClickHouse's rules and clear errors.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "types/column.h"
#include "types/data_type.h"
#include "types/value.h"

namespace trackhouse::types {

// Converts a value (from a literal, JSON or an expression) into `type`'s physical
// representation: numbers are range-checked (a value that does not fit is InvalidArgument with
// ch::kValueIsOutOfRangeOfDataType naming value and type), strings are parsed for numeric,
// Date and DateTime types, numbers are accepted for time types (Unix time; see datetime.h).
// NULL converts to NULL for Nullable types and is an error otherwise.
Result<Value> ConvertValue(const Value& v, const DataType& type);

// Parses the text form of a value of `type` (TSV-style, unquoted): "42", "2024-01-31 10:00:00",
// "abc", "\N" or "NULL" for a Nullable's NULL. Errors name the text and the type. Array text is
// not parsed here (NotSupported).
Result<Value> ParseValueText(std::string_view text, const DataType& type);

// Appends the text form of a physical value of `type` (no quoting or escaping): numbers,
// "2024-01-31", "2024-01-31 10:00:00.123", strings as is, NULL as "\N". An array is written as
// ClickHouse writes it in text: "[1,2]", "['a','b\'c']", "['2024-01-31']", "[NULL,1]" (elements in
// quoted form, see AppendQuotedValueText).
void FormatValueText(const Value& v, const DataType& type, std::string* out);
std::string FormatValueText(const Value& v, const DataType& type);

// Appends the quoted text form ClickHouse uses inside arrays and for Values/SQL literals:
// numbers and booleans as in FormatValueText, strings, dates and date-times in single quotes
// with AppendEscapedText's escapes, NULL as "NULL", arrays as in FormatValueText.
void AppendQuotedValueText(const Value& v, const DataType& type, std::string* out);

// Appends s with ClickHouse's backslash escapes: \b \f \n \r \t \0 \' \\ (the TabSeparated
// escaping, and the body of a single-quoted string).
void AppendEscapedText(std::string_view s, std::string* out);

// The default value of a type when a column is omitted: 0, '', epoch, NULL.
Value DefaultValue(const DataType& type);

// The Value kind used to hold the physical representation of a (non-Nullable) type.
Value::Kind PhysicalKind(const DataType& type);

}  // namespace trackhouse::types
