#include "eval/datetime_functions.h"

#include <fmt/format.h>

#include <algorithm>

#include "eval/column_util.h"
#include "eval/conversion.h"
#include "eval/expression.h"
#include "types/datetime.h"

namespace trackhouse::eval {
namespace {

using types::ColumnPtr;
using types::DataType;
using types::DataTypePtr;
using types::TypeId;
using types::Value;

DataTypePtr T(TypeId id) { return DataType::Get(id); }

inline int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}
inline int64_t FloorMod(int64_t a, int64_t b) { return a - FloorDiv(a, b) * b; }

// Civil dates of day numbers 0..65535 (every Date and DateTime), computed once.
struct DayInfo {
  uint16_t year;
  uint8_t month;
  uint8_t day;
};

const DayInfo* DayLut() {
  static const DayInfo* lut = [] {
    auto* t = new DayInfo[65536];
    for (int64_t d = 0; d < 65536; ++d) {
      types::CivilDate c = types::CivilFromDays(d);
      t[d] = {static_cast<uint16_t>(c.year), static_cast<uint8_t>(c.month),
              static_cast<uint8_t>(c.day)};
    }
    return t;
  }();
  return lut;
}

inline types::CivilDate Civil(int64_t days) {
  if (static_cast<uint64_t>(days) < 65536) {
    const DayInfo& i = DayLut()[days];
    return {i.year, i.month, i.day};
  }
  return types::CivilFromDays(days);
}

inline uint32_t DaysInMonth(int32_t y, uint32_t m) {
  static constexpr uint8_t kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

// 1 = Monday .. 7 = Sunday.
inline int DayOfWeek(int64_t days) { return static_cast<int>(FloorMod(days + 3, 7)) + 1; }

// Adds `months` to a day number, clamping the day of month like ClickHouse.
inline int64_t AddMonthsToDays(int64_t days, int64_t months) {
  types::CivilDate c = Civil(days);
  int64_t total = static_cast<int64_t>(c.year) * 12 + (c.month - 1) + months;
  int32_t y = static_cast<int32_t>(FloorDiv(total, 12));
  uint32_t m = static_cast<uint32_t>(FloorMod(total, 12)) + 1;
  uint32_t d = std::min<uint32_t>(c.day, DaysInMonth(y, m));
  return types::DaysFromCivil(y, m, d);
}

Status CheckTimeZoneArg(std::string_view name, const std::vector<ArgSpec>& args, size_t index) {
  if (args.size() <= index) return Status::OK();
  auto tz = ConstString(args[index]);
  if (!tz) {
    return IllegalArgType(name, *args[index].type, index + 1,
                          "Time zone must be a constant string");
  }
  if (*tz != "UTC" && *tz != "Etc/UTC") {
    return Status::NotSupported(
        fmt::format("Time zone '{}' is not supported: trackhouse works in UTC", *tz),
        ch::kBadArguments);
  }
  return Status::OK();
}

// How a time argument is read: as a day number or as seconds, from its physical form.
enum class Src { kDate, kDateTime, kDateTime64 };

Src SourceOf(const DataType& t) {
  return t.id() == TypeId::kDate       ? Src::kDate
         : t.id() == TypeId::kDateTime ? Src::kDateTime
                                       : Src::kDateTime64;
}

// Calls fn(i, seconds) for each row of a Date / DateTime / DateTime64 Datum.
template <typename Fn>
void ForEachSecond(const Datum& d, size_t rows, Fn&& fn) {
  const DataType& t = *d.column->type();
  size_t step = d.is_const ? 0 : 1;
  switch (SourceOf(t)) {
    case Src::kDate: {
      const uint16_t* p = Data<uint16_t>(d);
      for (size_t i = 0; i < rows; ++i) fn(i, static_cast<int64_t>(p[i * step]) * 86400);
      break;
    }
    case Src::kDateTime: {
      const uint32_t* p = Data<uint32_t>(d);
      for (size_t i = 0; i < rows; ++i) fn(i, static_cast<int64_t>(p[i * step]));
      break;
    }
    case Src::kDateTime64: {
      const int64_t* p = Data<int64_t>(d);
      int64_t scale = types::Pow10(t.precision());
      for (size_t i = 0; i < rows; ++i) fn(i, FloorDiv(p[i * step], scale));
      break;
    }
  }
}

// Calls fn(i, day_number) for each row.
template <typename Fn>
void ForEachDay(const Datum& d, size_t rows, Fn&& fn) {
  const DataType& t = *d.column->type();
  size_t step = d.is_const ? 0 : 1;
  switch (SourceOf(t)) {
    case Src::kDate: {
      const uint16_t* p = Data<uint16_t>(d);
      for (size_t i = 0; i < rows; ++i) fn(i, static_cast<int64_t>(p[i * step]));
      break;
    }
    case Src::kDateTime: {
      const uint32_t* p = Data<uint32_t>(d);
      for (size_t i = 0; i < rows; ++i) fn(i, static_cast<int64_t>(p[i * step] / 86400));
      break;
    }
    case Src::kDateTime64: {
      const int64_t* p = Data<int64_t>(d);
      int64_t scale = types::Pow10(t.precision()) * 86400;
      for (size_t i = 0; i < rows; ++i) fn(i, FloorDiv(p[i * step], scale));
      break;
    }
  }
}

// ------------------------------------------------------------ now(), today()

Result<BoundFunction> BindNow(std::string_view name, const std::vector<ArgSpec>& args) {
  TH_RETURN_IF_ERROR(CheckArgCount(name, args.size(), 0, 1));
  TH_RETURN_IF_ERROR(CheckTimeZoneArg(name, args, 0));
  DataTypePtr result = T(TypeId::kDateTime);
  return BoundFunction{
      result, [result](const std::vector<Datum>&, const KernelContext& ctx) -> Result<ColumnPtr> {
        int64_t s = FloorDiv(ctx.eval->now_micros, 1000000);
        return types::MakeConstColumn(result, Value::UInt(static_cast<uint32_t>(s)), ctx.rows);
      }};
}

Result<BoundFunction> BindNow64(std::string_view name, const std::vector<ArgSpec>& args) {
  TH_RETURN_IF_ERROR(CheckArgCount(name, args.size(), 0, 2));
  int64_t p = 3;
  if (!args.empty()) {
    auto v = ConstInt(args[0]);
    if (!v || *v < 0 || *v > 9) {
      return IllegalArgType(name, *args[0].type, 1, "Precision must be a constant from 0 to 9");
    }
    p = *v;
  }
  TH_RETURN_IF_ERROR(CheckTimeZoneArg(name, args, 1));
  DataTypePtr result = DataType::DateTime64(static_cast<uint32_t>(p));
  return BoundFunction{
      result,
      [result, p](const std::vector<Datum>&, const KernelContext& ctx) -> Result<ColumnPtr> {
        int64_t us = ctx.eval->now_micros;
        int64_t ticks = p <= 6 ? FloorDiv(us, types::Pow10(static_cast<uint32_t>(6 - p)))
                               : us * types::Pow10(static_cast<uint32_t>(p - 6));
        return types::MakeConstColumn(result, Value::Int(ticks), ctx.rows);
      }};
}

FunctionFactory BindToday(int64_t offset_days) {
  return [offset_days](std::string_view name,
                       const std::vector<ArgSpec>& args) -> Result<BoundFunction> {
    TH_RETURN_IF_ERROR(CheckArgCount(name, args.size(), 0, 0));
    DataTypePtr result = T(TypeId::kDate);
    return BoundFunction{
        result,
        [result, offset_days](const std::vector<Datum>&,
                              const KernelContext& ctx) -> Result<ColumnPtr> {
          int64_t d = FloorDiv(ctx.eval->now_micros, 86400LL * 1000000) - offset_days;
          return types::MakeConstColumn(result, Value::UInt(static_cast<uint16_t>(d)), ctx.rows);
        }};
  };
}

// ------------------------------------------------------------ extractors

enum class Part {
  kYear,
  kQuarter,
  kMonth,
  kDayOfMonth,
  kDayOfWeek,
  kDayOfYear,
  kHour,
  kMinute,
  kSecond,
  kYYYYMM,
  kYYYYMMDD,
  kYYYYMMDDhhmmss,
  kUnixTimestamp,
  kMonday,
  kStartOfMonth,
  kStartOfQuarter,
  kStartOfYear,
  kStartOfDay,
  kStartOfHour,
  kStartOfMinute,
  kStartOfFiveMinutes,
  kStartOfTenMinutes,
  kStartOfFifteenMinutes,
};

struct PartInfo {
  TypeId result;
  bool needs_time;  // uses the time of day (seconds)
  bool date_ok;     // accepts a Date argument
};

PartInfo InfoOf(Part p) {
  switch (p) {
    case Part::kYear:
      return {TypeId::kUInt16, false, true};
    case Part::kQuarter:
    case Part::kMonth:
    case Part::kDayOfMonth:
    case Part::kDayOfWeek:
      return {TypeId::kUInt8, false, true};
    case Part::kDayOfYear:
      return {TypeId::kUInt16, false, true};
    case Part::kHour:
    case Part::kMinute:
    case Part::kSecond:
      return {TypeId::kUInt8, true, false};
    case Part::kYYYYMM:
    case Part::kYYYYMMDD:
      return {TypeId::kUInt32, false, true};
    case Part::kYYYYMMDDhhmmss:
      return {TypeId::kUInt64, true, true};
    case Part::kUnixTimestamp:
      return {TypeId::kUInt32, true, true};
    case Part::kMonday:
    case Part::kStartOfMonth:
    case Part::kStartOfQuarter:
    case Part::kStartOfYear:
      return {TypeId::kDate, false, true};
    default:
      return {TypeId::kDateTime, true, true};
  }
}

template <typename R, typename Fn>
ColumnPtr ByDay(const Datum& a, size_t rows, const DataTypePtr& type, Fn f) {
  auto out = NewVector<R>(type, rows);
  R* dst = out->data().data();
  ForEachDay(a, rows, [&](size_t i, int64_t d) { dst[i] = static_cast<R>(f(d)); });
  return out;
}

template <typename R, typename Fn>
ColumnPtr BySecond(const Datum& a, size_t rows, const DataTypePtr& type, Fn f) {
  auto out = NewVector<R>(type, rows);
  R* dst = out->data().data();
  ForEachSecond(a, rows, [&](size_t i, int64_t s) { dst[i] = static_cast<R>(f(s)); });
  return out;
}

inline int64_t ClampDate(int64_t d) { return d < 0 ? 0 : d; }

ColumnPtr ExtractPart(Part part, const Datum& a, size_t rows, const DataTypePtr& type) {
  switch (part) {
    case Part::kYear:
      return ByDay<uint16_t>(a, rows, type, [](int64_t d) { return Civil(d).year; });
    case Part::kQuarter:
      return ByDay<uint8_t>(a, rows, type, [](int64_t d) { return (Civil(d).month + 2) / 3; });
    case Part::kMonth:
      return ByDay<uint8_t>(a, rows, type, [](int64_t d) { return Civil(d).month; });
    case Part::kDayOfMonth:
      return ByDay<uint8_t>(a, rows, type, [](int64_t d) { return Civil(d).day; });
    case Part::kDayOfWeek:
      return ByDay<uint8_t>(a, rows, type, DayOfWeek);
    case Part::kDayOfYear:
      return ByDay<uint16_t>(a, rows, type, [](int64_t d) {
        return d - types::DaysFromCivil(Civil(d).year, 1, 1) + 1;
      });
    case Part::kHour:
      return BySecond<uint8_t>(a, rows, type, [](int64_t s) { return FloorMod(s, 86400) / 3600; });
    case Part::kMinute:
      return BySecond<uint8_t>(a, rows, type, [](int64_t s) { return FloorMod(s, 3600) / 60; });
    case Part::kSecond:
      return BySecond<uint8_t>(a, rows, type, [](int64_t s) { return FloorMod(s, 60); });
    case Part::kYYYYMM:
      return ByDay<uint32_t>(a, rows, type, [](int64_t d) {
        types::CivilDate c = Civil(d);
        return c.year * 100 + c.month;
      });
    case Part::kYYYYMMDD:
      return ByDay<uint32_t>(a, rows, type, [](int64_t d) {
        types::CivilDate c = Civil(d);
        return c.year * 10000 + c.month * 100 + c.day;
      });
    case Part::kYYYYMMDDhhmmss:
      return BySecond<uint64_t>(a, rows, type, [](int64_t s) {
        types::CivilDate c = Civil(FloorDiv(s, 86400));
        int64_t t = FloorMod(s, 86400);
        return ((c.year * 10000ull + c.month * 100 + c.day) * 1000000ull) + (t / 3600) * 10000 +
               (t / 60 % 60) * 100 + t % 60;
      });
    case Part::kUnixTimestamp:
      return BySecond<uint32_t>(a, rows, type, [](int64_t s) { return s; });
    case Part::kMonday:
      return ByDay<uint16_t>(a, rows, type,
                             [](int64_t d) { return ClampDate(d - (DayOfWeek(d) - 1)); });
    case Part::kStartOfMonth:
      return ByDay<uint16_t>(a, rows, type, [](int64_t d) { return d - (Civil(d).day - 1); });
    case Part::kStartOfQuarter:
      return ByDay<uint16_t>(a, rows, type, [](int64_t d) {
        types::CivilDate c = Civil(d);
        return types::DaysFromCivil(c.year, (c.month - 1) / 3 * 3 + 1, 1);
      });
    case Part::kStartOfYear:
      return ByDay<uint16_t>(a, rows, type,
                             [](int64_t d) { return types::DaysFromCivil(Civil(d).year, 1, 1); });
    case Part::kStartOfDay:
      return BySecond<uint32_t>(a, rows, type, [](int64_t s) { return s - FloorMod(s, 86400); });
    case Part::kStartOfHour:
      return BySecond<uint32_t>(a, rows, type, [](int64_t s) { return s - FloorMod(s, 3600); });
    case Part::kStartOfMinute:
      return BySecond<uint32_t>(a, rows, type, [](int64_t s) { return s - FloorMod(s, 60); });
    case Part::kStartOfFiveMinutes:
      return BySecond<uint32_t>(a, rows, type, [](int64_t s) { return s - FloorMod(s, 300); });
    case Part::kStartOfTenMinutes:
      return BySecond<uint32_t>(a, rows, type, [](int64_t s) { return s - FloorMod(s, 600); });
    case Part::kStartOfFifteenMinutes:
      return BySecond<uint32_t>(a, rows, type, [](int64_t s) { return s - FloorMod(s, 900); });
  }
  return nullptr;
}

FunctionFactory Extract(Part part) {
  return [part](std::string_view name, const std::vector<ArgSpec>& args) -> Result<BoundFunction> {
    TH_RETURN_IF_ERROR(CheckArgCount(name, args.size(), 1, 2));
    TH_RETURN_IF_ERROR(CheckTimeZoneArg(name, args, 1));
    PartInfo info = InfoOf(part);
    const DataTypePtr& t = args[0].type;
    DataTypePtr arg_type = t;
    bool parse_string = false;
    if (part == Part::kUnixTimestamp && t->id() == TypeId::kString) {
      parse_string = true;
      arg_type = T(TypeId::kDateTime);
    } else if (!t->is_time() || (t->id() == TypeId::kDate && !info.date_ok)) {
      return IllegalArgType(name, *t, 1);
    }
    DataTypePtr result = T(info.result);
    return BoundFunction{
        result,
        [part, result, parse_string, arg_type](const std::vector<Datum>& a,
                                               const KernelContext& ctx) -> Result<ColumnPtr> {
          Datum x = a[0];
          if (parse_string) {
            CastOptions o;
            o.skip_rows = x.is_const ? nullptr : ctx.null_rows;
            TH_ASSIGN_OR_RETURN(x, CastDatum(x, arg_type, o));
          }
          return ExtractPart(part, x, ctx.rows, result);
        }};
  };
}

Result<BoundFunction> BindStartOfWeek(std::string_view name, const std::vector<ArgSpec>& args) {
  TH_RETURN_IF_ERROR(CheckArgCount(name, args.size(), 1, 3));
  if (!args[0].type->is_time()) return IllegalArgType(name, *args[0].type, 1);
  int64_t mode = 0;
  if (args.size() >= 2) {
    auto m = ConstInt(args[1]);
    if (!m) return IllegalArgType(name, *args[1].type, 2, "Mode must be a constant integer");
    mode = *m;
  }
  TH_RETURN_IF_ERROR(CheckTimeZoneArg(name, args, 2));
  bool monday_first = (mode & 1) != 0;
  DataTypePtr result = T(TypeId::kDate);
  return BoundFunction{result,
                       [monday_first, result](const std::vector<Datum>& a,
                                              const KernelContext& ctx) -> Result<ColumnPtr> {
                         if (monday_first)
                           return ExtractPart(Part::kMonday, a[0], ctx.rows, result);
                         return ByDay<uint16_t>(a[0], ctx.rows, result, [](int64_t d) {
                           return ClampDate(d - DayOfWeek(d) % 7);
                         });
                       }};
}

// ------------------------------------------------------------ dateDiff

enum class Unit { kSecond, kMinute, kHour, kDay, kWeek, kMonth, kQuarter, kYear };

std::optional<Unit> ParseUnit(std::string_view u) {
  struct Name {
    const char* name;
    Unit unit;
  };
  static constexpr Name kNames[] = {
      {"second", Unit::kSecond},   {"seconds", Unit::kSecond},   {"ss", Unit::kSecond},
      {"s", Unit::kSecond},        {"minute", Unit::kMinute},    {"minutes", Unit::kMinute},
      {"mi", Unit::kMinute},       {"n", Unit::kMinute},         {"hour", Unit::kHour},
      {"hours", Unit::kHour},      {"hh", Unit::kHour},          {"h", Unit::kHour},
      {"day", Unit::kDay},         {"days", Unit::kDay},         {"dd", Unit::kDay},
      {"d", Unit::kDay},           {"week", Unit::kWeek},        {"weeks", Unit::kWeek},
      {"wk", Unit::kWeek},         {"ww", Unit::kWeek},          {"month", Unit::kMonth},
      {"months", Unit::kMonth},    {"mm", Unit::kMonth},         {"m", Unit::kMonth},
      {"quarter", Unit::kQuarter}, {"quarters", Unit::kQuarter}, {"qq", Unit::kQuarter},
      {"q", Unit::kQuarter},       {"year", Unit::kYear},        {"years", Unit::kYear},
      {"yyyy", Unit::kYear},       {"yy", Unit::kYear},
  };
  std::string lower(u);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& n : kNames) {
    if (lower == n.name) return n.unit;
  }
  return std::nullopt;
}

// The "relative number" of a moment in `unit`: differences of these count boundary crossings.
inline int64_t RelativeNum(Unit unit, int64_t s) {
  switch (unit) {
    case Unit::kSecond:
      return s;
    case Unit::kMinute:
      return FloorDiv(s, 60);
    case Unit::kHour:
      return FloorDiv(s, 3600);
    case Unit::kDay:
      return FloorDiv(s, 86400);
    case Unit::kWeek:
      return FloorDiv(FloorDiv(s, 86400) + 3, 7);  // weeks start on Monday
    case Unit::kMonth: {
      types::CivilDate c = Civil(FloorDiv(s, 86400));
      return static_cast<int64_t>(c.year) * 12 + c.month - 1;
    }
    case Unit::kQuarter: {
      types::CivilDate c = Civil(FloorDiv(s, 86400));
      return static_cast<int64_t>(c.year) * 4 + (c.month - 1) / 3;
    }
    case Unit::kYear:
      return Civil(FloorDiv(s, 86400)).year;
  }
  return 0;
}

Result<BoundFunction> BindDateDiff(std::string_view name, const std::vector<ArgSpec>& args) {
  TH_RETURN_IF_ERROR(CheckArgCount(name, args.size(), 3, 4));
  auto unit_text = ConstString(args[0]);
  if (!unit_text) {
    return IllegalArgType(name, *args[0].type, 1, "First argument must be a constant string");
  }
  auto unit = ParseUnit(*unit_text);
  if (!unit) {
    return Status::InvalidArgument(
        fmt::format("Function {} does not support '{}' unit", name, *unit_text), ch::kBadArguments);
  }
  for (size_t i = 1; i <= 2; ++i) {
    if (!args[i].type->is_time()) return IllegalArgType(name, *args[i].type, i + 1);
  }
  TH_RETURN_IF_ERROR(CheckTimeZoneArg(name, args, 3));
  DataTypePtr result = T(TypeId::kInt64);
  Unit u = *unit;
  return BoundFunction{
      result,
      [u, result](const std::vector<Datum>& a, const KernelContext& ctx) -> Result<ColumnPtr> {
        std::vector<int64_t> start(ctx.rows);
        ForEachSecond(a[1], ctx.rows, [&](size_t i, int64_t s) { start[i] = RelativeNum(u, s); });
        auto out = NewVector<int64_t>(result, ctx.rows);
        int64_t* dst = out->data().data();
        ForEachSecond(a[2], ctx.rows,
                      [&](size_t i, int64_t s) { dst[i] = RelativeNum(u, s) - start[i]; });
        return ColumnPtr(out);
      }};
}

// ------------------------------------------------------------ add / subtract

// The result type of adding `kind` to `time`: Date + (hours|minutes|seconds) is DateTime.
DataTypePtr AddResultType(const DataTypePtr& time, IntervalKind kind) {
  if (time->id() == TypeId::kDate &&
      (kind == IntervalKind::kSecond || kind == IntervalKind::kMinute ||
       kind == IntervalKind::kHour)) {
    return T(TypeId::kDateTime);
  }
  return time;
}

int64_t SecondsPer(IntervalKind kind) {
  switch (kind) {
    case IntervalKind::kSecond:
      return 1;
    case IntervalKind::kMinute:
      return 60;
    case IntervalKind::kHour:
      return 3600;
    case IntervalKind::kDay:
      return 86400;
    case IntervalKind::kWeek:
      return 7 * 86400;
    default:
      return 0;
  }
}

int64_t MonthsPer(IntervalKind kind) {
  switch (kind) {
    case IntervalKind::kMonth:
      return 1;
    case IntervalKind::kQuarter:
      return 3;
    case IntervalKind::kYear:
      return 12;
    default:
      return 0;
  }
}

// Adds delta[i] units of `kind` to the time Datum `t`; result of type `result`.
ColumnPtr AddInterval(const Datum& t, const int64_t* delta, bool delta_const, IntervalKind kind,
                      const DataTypePtr& result, size_t rows) {
  const DataType& tt = *t.column->type();
  size_t ts = t.is_const ? 0 : 1, ds = delta_const ? 0 : 1;
  int64_t sec = SecondsPer(kind), months = MonthsPer(kind);
  switch (SourceOf(tt)) {
    case Src::kDate: {
      const uint16_t* p = Data<uint16_t>(t);
      if (result->id() == TypeId::kDateTime) {
        auto out = NewVector<uint32_t>(result, rows);
        uint32_t* dst = out->data().data();
        for (size_t i = 0; i < rows; ++i) {
          dst[i] = static_cast<uint32_t>(p[i * ts] * int64_t{86400} + delta[i * ds] * sec);
        }
        return out;
      }
      auto out = NewVector<uint16_t>(result, rows);
      uint16_t* dst = out->data().data();
      if (months) {
        for (size_t i = 0; i < rows; ++i) {
          dst[i] = static_cast<uint16_t>(AddMonthsToDays(p[i * ts], delta[i * ds] * months));
        }
      } else {
        int64_t days = sec / 86400;
        for (size_t i = 0; i < rows; ++i) {
          dst[i] = static_cast<uint16_t>(p[i * ts] + delta[i * ds] * days);
        }
      }
      return out;
    }
    case Src::kDateTime: {
      const uint32_t* p = Data<uint32_t>(t);
      auto out = NewVector<uint32_t>(result, rows);
      uint32_t* dst = out->data().data();
      if (months) {
        for (size_t i = 0; i < rows; ++i) {
          int64_t s = p[i * ts];
          int64_t d = s / 86400;
          dst[i] = static_cast<uint32_t>(AddMonthsToDays(d, delta[i * ds] * months) * 86400 +
                                         (s - d * 86400));
        }
      } else if (!delta_const) {
        for (size_t i = 0; i < rows; ++i) {
          dst[i] = static_cast<uint32_t>(p[i * ts] + delta[i] * sec);
        }
      } else {
        uint32_t add = static_cast<uint32_t>(delta[0] * sec);
        for (size_t i = 0; i < rows; ++i) dst[i] = p[i * ts] + add;
      }
      return out;
    }
    case Src::kDateTime64: {
      const int64_t* p = Data<int64_t>(t);
      int64_t scale = types::Pow10(tt.precision());
      auto out = NewVector<int64_t>(result, rows);
      int64_t* dst = out->data().data();
      if (months) {
        int64_t day_ticks = 86400 * scale;
        for (size_t i = 0; i < rows; ++i) {
          int64_t v = p[i * ts];
          int64_t d = FloorDiv(v, day_ticks);
          dst[i] = AddMonthsToDays(d, delta[i * ds] * months) * day_ticks + (v - d * day_ticks);
        }
      } else {
        for (size_t i = 0; i < rows; ++i) dst[i] = p[i * ts] + delta[i * ds] * sec * scale;
      }
      return out;
    }
  }
  return nullptr;
}

Result<BoundFunction> BindAdd(std::string_view name, const DataTypePtr& time, IntervalKind kind,
                              bool subtract, size_t time_arg) {
  if (!time->is_time()) return IllegalArgType(name, *time, time_arg + 1);
  DataTypePtr result = AddResultType(time, kind);
  DataTypePtr i64 = T(TypeId::kInt64);
  return BoundFunction{
      result, [=](const std::vector<Datum>& a, const KernelContext& ctx) -> Result<ColumnPtr> {
        const Datum& t = a[time_arg];
        TH_ASSIGN_OR_RETURN(Datum n, CastDatum(a[1 - time_arg], i64));
        const int64_t* delta = Data<int64_t>(n);
        std::vector<int64_t> neg;
        if (subtract) {
          size_t cnt = n.is_const ? 1 : ctx.rows;
          neg.resize(cnt);
          for (size_t i = 0; i < cnt; ++i) neg[i] = -delta[i];
          delta = neg.data();
        }
        return AddInterval(t, delta, n.is_const, kind, result, ctx.rows);
      }};
}

FunctionFactory AddFunction(IntervalKind kind, bool subtract) {
  return [kind, subtract](std::string_view name,
                          const std::vector<ArgSpec>& args) -> Result<BoundFunction> {
    TH_RETURN_IF_ERROR(CheckArgCount(name, args.size(), 2, 2));
    if (!args[1].type->is_numeric()) return IllegalArgType(name, *args[1].type, 2);
    return BindAdd(name, args[0].type, kind, subtract, 0);
  };
}

FunctionFactory ToInterval(IntervalKind kind) {
  return [kind](std::string_view name, const std::vector<ArgSpec>& args) -> Result<BoundFunction> {
    TH_RETURN_IF_ERROR(CheckArgCount(name, args.size(), 1, 1));
    if (!args[0].type->is_numeric() || IsInterval(*args[0].type)) {
      return IllegalArgType(name, *args[0].type, 1);
    }
    DataTypePtr result = IntervalType(kind);
    return BoundFunction{
        result,
        [result](const std::vector<Datum>& a, const KernelContext& ctx) -> Result<ColumnPtr> {
          TH_ASSIGN_OR_RETURN(Datum x, CastDatum(a[0], result));
          return Materialize(x, ctx.rows);
        }};
  };
}

}  // namespace

Result<BoundFunction> BindTimeIntervalArithmetic(std::string_view name,
                                                 const std::vector<ArgSpec>& args, size_t time_arg,
                                                 IntervalKind kind, bool subtract) {
  return BindAdd(name, args[time_arg].type, kind, subtract, time_arg);
}

void RegisterDateTimeFunctions(FunctionRegistry* r) {
  FunctionTraits volatile_fn{.foldable = false};
  r->Register("now", BindNow, FunctionTraits{.foldable = false, .case_insensitive = true});
  r->Alias("current_timestamp", "now", true);
  r->Register("now64", BindNow64, volatile_fn);
  r->Register("today", BindToday(0), FunctionTraits{.foldable = false, .case_insensitive = true});
  r->Alias("curdate", "today", true);
  r->Alias("current_date", "today", true);
  r->Register("yesterday", BindToday(1), volatile_fn);

  struct Named {
    const char* name;
    Part part;
  };
  static constexpr Named kParts[] = {
      {"toYear", Part::kYear},
      {"toQuarter", Part::kQuarter},
      {"toMonth", Part::kMonth},
      {"toDayOfMonth", Part::kDayOfMonth},
      {"toDayOfWeek", Part::kDayOfWeek},
      {"toDayOfYear", Part::kDayOfYear},
      {"toHour", Part::kHour},
      {"toMinute", Part::kMinute},
      {"toSecond", Part::kSecond},
      {"toYYYYMM", Part::kYYYYMM},
      {"toYYYYMMDD", Part::kYYYYMMDD},
      {"toYYYYMMDDhhmmss", Part::kYYYYMMDDhhmmss},
      {"toUnixTimestamp", Part::kUnixTimestamp},
      {"toMonday", Part::kMonday},
      {"toStartOfMonth", Part::kStartOfMonth},
      {"toStartOfQuarter", Part::kStartOfQuarter},
      {"toStartOfYear", Part::kStartOfYear},
      {"toStartOfDay", Part::kStartOfDay},
      {"toStartOfHour", Part::kStartOfHour},
      {"toStartOfMinute", Part::kStartOfMinute},
      {"toStartOfFiveMinutes", Part::kStartOfFiveMinutes},
      {"toStartOfTenMinutes", Part::kStartOfTenMinutes},
      {"toStartOfFifteenMinutes", Part::kStartOfFifteenMinutes},
  };
  for (const auto& p : kParts) r->Register(p.name, Extract(p.part));
  r->Alias("toStartOfFiveMinute", "toStartOfFiveMinutes");
  r->Alias("YEAR", "toYear", true);
  r->Alias("QUARTER", "toQuarter", true);
  r->Alias("MONTH", "toMonth", true);
  r->Alias("DAYOFMONTH", "toDayOfMonth", true);
  r->Alias("DAY", "toDayOfMonth", true);
  r->Alias("DAYOFWEEK", "toDayOfWeek", true);
  r->Alias("DAYOFYEAR", "toDayOfYear", true);
  r->Alias("HOUR", "toHour", true);
  r->Alias("MINUTE", "toMinute", true);
  r->Alias("SECOND", "toSecond", true);
  r->Register("toStartOfWeek", BindStartOfWeek);
  r->Register("dateDiff", BindDateDiff, FunctionTraits{.case_insensitive = true});
  r->Alias("date_diff", "dateDiff", true);

  struct Unit {
    const char* name;
    IntervalKind kind;
  };
  static constexpr Unit kUnits[] = {
      {"Second", IntervalKind::kSecond},   {"Minute", IntervalKind::kMinute},
      {"Hour", IntervalKind::kHour},       {"Day", IntervalKind::kDay},
      {"Week", IntervalKind::kWeek},       {"Month", IntervalKind::kMonth},
      {"Quarter", IntervalKind::kQuarter}, {"Year", IntervalKind::kYear},
  };
  for (const auto& u : kUnits) {
    std::string n = u.name;
    r->Register("add" + n + "s", AddFunction(u.kind, false));
    r->Register("subtract" + n + "s", AddFunction(u.kind, true));
    r->Register("toInterval" + n, ToInterval(u.kind));
  }
}

}  // namespace trackhouse::eval
