#include "sql/interval.h"

#include <utility>

namespace trackhouse::sql {
namespace {

constexpr std::pair<std::string_view, std::string_view> kUnits[] = {
    {"NANOSECOND", "toIntervalNanosecond"},
    {"MICROSECOND", "toIntervalMicrosecond"},
    {"MILLISECOND", "toIntervalMillisecond"},
    {"SECOND", "toIntervalSecond"},
    {"MINUTE", "toIntervalMinute"},
    {"HOUR", "toIntervalHour"},
    {"DAY", "toIntervalDay"},
    {"WEEK", "toIntervalWeek"},
    {"MONTH", "toIntervalMonth"},
    {"QUARTER", "toIntervalQuarter"},
    {"YEAR", "toIntervalYear"},
};

bool EqualsUpper(std::string_view word, std::string_view upper) {
  if (word.size() != upper.size()) return false;
  for (size_t i = 0; i < word.size(); ++i) {
    char c = word[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c != upper[i]) return false;
  }
  return true;
}

}  // namespace

std::string_view IntervalFunctionForUnit(std::string_view unit) {
  if (unit.size() > 1 && (unit.back() == 's' || unit.back() == 'S')) {
    for (auto [name, function] : kUnits) {
      if (EqualsUpper(unit.substr(0, unit.size() - 1), name)) return function;
    }
  }
  for (auto [name, function] : kUnits) {
    if (EqualsUpper(unit, name)) return function;
  }
  return {};
}

std::string_view IntervalUnitForFunction(std::string_view function) {
  for (auto [name, fn] : kUnits) {
    if (function == fn) return name;
  }
  return {};
}

}  // namespace trackhouse::sql
