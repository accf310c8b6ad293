#include "types/datetime.h"

#include <fmt/format.h>

#include <charconv>
#include <utility>

namespace trackhouse::types {

// Howard Hinnant's days_from_civil / civil_from_days algorithms.
int64_t DaysFromCivil(int32_t y, uint32_t m, uint32_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const uint32_t yoe = static_cast<uint32_t>(y - era * 400);
  const uint32_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const uint32_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

CivilDate CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const uint32_t doe = static_cast<uint32_t>(z - era * 146097);
  const uint32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const uint32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const uint32_t mp = (5 * doy + 2) / 153;
  const uint32_t d = doy - (153 * mp + 2) / 5 + 1;
  const uint32_t m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<int32_t>(y + (m <= 2)), m, d};
}

int64_t Pow10(uint32_t p) {
  static constexpr int64_t kPow[] = {1,      10,      100,      1000,      10000,
                                     100000, 1000000, 10000000, 100000000, 1000000000};
  return kPow[p];
}

namespace {

bool Digits(std::string_view s, size_t pos, size_t n, uint32_t* out) {
  if (pos + n > s.size()) return false;
  uint32_t v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    char c = s[i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

uint32_t DaysInMonth(int32_t y, uint32_t m) {
  static constexpr uint32_t kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

// Parses YYYY-MM-DD at the front of s; returns chars consumed or 0.
size_t ParseDatePrefix(std::string_view s, int64_t* days) {
  uint32_t y, m, d;
  if (!Digits(s, 0, 4, &y) || s.size() < 10 || s[4] != '-' || !Digits(s, 5, 2, &m) || s[7] != '-' ||
      !Digits(s, 8, 2, &d)) {
    return 0;
  }
  if (m < 1 || m > 12 || d < 1 || d > DaysInMonth(static_cast<int32_t>(y), m)) return 0;
  *days = DaysFromCivil(static_cast<int32_t>(y), m, d);
  return 10;
}

// Quotient rounded down and the non-negative remainder (for any x, also INT64_MIN).
std::pair<int64_t, int64_t> FloorDivMod(int64_t x, int64_t divisor) {
  int64_t q = x / divisor;
  int64_t r = x % divisor;
  if (r < 0) {
    --q;
    r += divisor;
  }
  return {q, r};
}

}  // namespace

std::optional<int64_t> ParseDateText(std::string_view s) {
  int64_t days;
  if (ParseDatePrefix(s, &days) != 10 || s.size() != 10) return std::nullopt;
  return days;
}

std::optional<int64_t> ParseDateTimeText(std::string_view s, uint32_t precision) {
  if (s.empty()) return std::nullopt;
  // A bare number: Unix time (seconds; ticks for DateTime64 with precision > 0), or
  // seconds with a fraction.
  bool numeric = true;
  for (char c : s) numeric &= (c >= '0' && c <= '9') || c == '.' || c == '-';
  if (numeric && (s.size() < 10 || s[4] != '-')) {
    size_t dot = s.find('.');
    int64_t whole = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + (dot == s.npos ? s.size() : dot), whole);
    if (ec != std::errc() || p != s.data() + (dot == s.npos ? s.size() : dot)) return std::nullopt;
    if (dot == s.npos) return whole;  // ticks (or seconds when precision is 0)
    // Seconds with a fraction, in ticks; a value beyond Int64 ticks is not a time.
    int64_t ticks;
    if (__builtin_mul_overflow(whole, Pow10(precision), &ticks)) return std::nullopt;
    uint32_t digit_scale = precision;
    for (size_t i = dot + 1; i < s.size() && digit_scale > 0; ++i, --digit_scale) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      int64_t digit = (s[i] - '0') * Pow10(digit_scale - 1) * (s[0] == '-' ? -1 : 1);
      if (__builtin_add_overflow(ticks, digit, &ticks)) return std::nullopt;
    }
    return ticks;
  }
  int64_t days;
  size_t pos = ParseDatePrefix(s, &days);
  if (pos == 0) return std::nullopt;
  int64_t secs = days * 86400;
  int64_t frac = 0;
  if (pos < s.size()) {
    if (s[pos] != ' ' && s[pos] != 'T') return std::nullopt;
    uint32_t hh, mm, ss;
    if (!Digits(s, pos + 1, 2, &hh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !Digits(s, pos + 4, 2, &mm)) {
      return std::nullopt;
    }
    pos += 6;
    ss = 0;
    if (pos < s.size() && s[pos] == ':') {
      if (!Digits(s, pos + 1, 2, &ss)) return std::nullopt;
      pos += 3;
    }
    if (hh > 23 || mm > 59 || ss > 59) return std::nullopt;
    secs += hh * 3600 + mm * 60 + ss;
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      uint32_t scale = precision;
      size_t start = pos;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        if (scale > 0) frac += (s[pos] - '0') * Pow10(--scale);
        ++pos;
      }
      if (pos == start) return std::nullopt;
    }
    if (pos < s.size()) {
      if (s[pos] == 'Z' && pos + 1 == s.size()) {
        ++pos;
      } else if ((s[pos] == '+' || s[pos] == '-') && s.size() - pos == 6 && s[pos + 3] == ':') {
        uint32_t oh, om;
        if (!Digits(s, pos + 1, 2, &oh) || !Digits(s, pos + 4, 2, &om)) return std::nullopt;
        int64_t off = oh * 3600 + om * 60;
        secs -= s[pos] == '+' ? off : -off;
        pos = s.size();
      } else {
        return std::nullopt;
      }
    }
  }
  return secs * Pow10(precision) + frac;
}

std::string FormatDate(int64_t days) {
  CivilDate c = CivilFromDays(days);
  return fmt::format("{:04}-{:02}-{:02}", c.year, c.month, c.day);
}

std::string FormatDateTime(int64_t seconds) {
  auto [days, rem] = FloorDivMod(seconds, 86400);
  CivilDate c = CivilFromDays(days);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", c.year, c.month, c.day, rem / 3600,
                     (rem / 60) % 60, rem % 60);
}

std::string FormatDateTime64(int64_t ticks, uint32_t precision) {
  int64_t scale = Pow10(precision);
  auto [secs, frac] = FloorDivMod(ticks, scale);
  std::string out = FormatDateTime(secs);
  if (precision > 0) out += fmt::format(".{:0{}}", frac, precision);
  return out;
}

}  // namespace trackhouse::types
