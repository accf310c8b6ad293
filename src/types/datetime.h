// Calendar arithmetic and the text forms of Date, DateTime and DateTime64, all in UTC.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace trackhouse::types {

struct CivilDate {
  int32_t year;
  uint32_t month;  // 1..12
  uint32_t day;    // 1..31
};

// Days since 1970-01-01 of a proleptic Gregorian date, and back.
int64_t DaysFromCivil(int32_t y, uint32_t m, uint32_t d);
CivilDate CivilFromDays(int64_t days);

// 10^p for p in 0..9.
int64_t Pow10(uint32_t p);

// Parses "YYYY-MM-DD" into days. nullopt if malformed.
std::optional<int64_t> ParseDateText(std::string_view s);
// Parses a date-time into ticks of 10^-precision seconds since the epoch, UTC. Accepts
// "YYYY-MM-DD hh:mm:ss[.fraction]", the same with 'T' as separator, an optional 'Z' or
// "+hh:mm"/"-hh:mm" offset, a bare "YYYY-MM-DD" (midnight), and a bare integer (a Unix time in
// seconds for precision 0; for precision p > 0 ClickHouse reads a bare integer as ticks).
// Extra fraction digits are truncated. nullopt if malformed.
std::optional<int64_t> ParseDateTimeText(std::string_view s, uint32_t precision);

// "2024-01-31"
std::string FormatDate(int64_t days);
// "2024-01-31 23:59:59"
std::string FormatDateTime(int64_t seconds);
// "2024-01-31 23:59:59.123" (precision digits; precision 0 prints no fraction)
std::string FormatDateTime64(int64_t ticks, uint32_t precision);

}  // namespace trackhouse::types
