// Interval units: the mapping between `INTERVAL n UNIT` and ClickHouse's toIntervalUnit(n)
// functions, shared by the parser and the formatter. Pure functions, thread-safe.
#pragma once

#include <string_view>

namespace trackhouse::sql {

// "DAY", "days", "Day" -> "toIntervalDay"; "" if `unit` is not an interval unit. Units:
// NANOSECOND MICROSECOND MILLISECOND SECOND MINUTE HOUR DAY WEEK MONTH QUARTER YEAR, singular
// or plural, any case.
std::string_view IntervalFunctionForUnit(std::string_view unit);

// "toIntervalDay" -> "DAY"; "" if `function` is not an interval function.
std::string_view IntervalUnitForFunction(std::string_view function);

}  // namespace trackhouse::sql
