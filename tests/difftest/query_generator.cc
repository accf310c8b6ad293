#include "tests/difftest/query_generator.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <utility>

namespace trackhouse::difftest {

// A value an expression may refer to: a column of the source (a table column, or an output
// of a subquery in FROM), or a GROUP BY key.
struct QueryGenerator::Item {
  Item() = default;
  Item(std::string sql_text, Kind k) : sql(std::move(sql_text)), kind(k) {}
  // A table column; `exact` as exact_type.
  static Item Column(const ColumnInfo& c, std::string exact) {
    Item item(c.name, c.kind);
    item.unique = c.unique;
    item.tie_free = c.tie_free;
    item.exact_type = std::move(exact);
    item.samples = &c.samples;
    item.low_cardinality = c.low_cardinality;
    return item;
  }

  std::string sql;
  Kind kind = Kind::kInt;
  bool unique = false;    // one value per row
  bool tie_free = false;  // round() never meets a tie
  // A LowCardinality column, or an output of a subquery (which may be computed from one).
  bool low_cardinality = false;
  // "Int32" or "String" for columns whose type is exactly known (IN (SELECT ...) needs it).
  std::string exact_type;
  const std::vector<std::string>* samples = nullptr;
};

struct QueryGenerator::Scope {
  std::vector<Item> items;
};

struct QueryGenerator::Source {
  std::string sql;  // what follows FROM
  Scope scope;
};

namespace {

constexpr int kExprDepth = 2;

// No '': 18.16 compares a constant string with the constant '' wrongly ('web' <= '' is 1).
const std::vector<std::string> kStringLiterals = {
    "'Model'",  "'View'", "'Download'", "'Image'",    "'web'",      "'pro'",       "'Café'",
    "'it\\'s'", "'%'",    "'x'",        "'/model/1'", "'Entity 7'", "'Checkpoint'"};
const std::vector<std::string> kLikePatterns = {
    "'%o%'",         "'Mo%'",   "'%e'",
    "'_ie%'",        "'%/%/%'", "'%Caf%'",
    "'%\\'%'",       "'%pro%'", "'%\"source\":\"web\"%'",
    "'%ok\":true%'", "'%__%'",  "'View'",
    "'%a_e%'",       "'%1_'",   "'/model/%'",
    "'%v2'",         "'%Ent%'", "'%\"n\":1%'"};
const std::vector<std::string> kAffixes = {
    "'/model'",  "'Mo'",       "'e'",  "'}'", "'{\"source\"'",
    "'/post/1'", "'Entity 1'", "'v2'", "''",  "'iew'"};
const std::vector<std::string> kNeedles = {"'o'", "'\"plan\"'", "'/'",  "'é'", "'e'",
                                           "'_'", "'zz'",       "'Mo'", "'1'"};
const std::vector<std::string> kDateUnits = {"'day'", "'week'", "'month'", "'quarter'", "'year'"};
const std::vector<std::string> kTimeUnits = {"'second'", "'minute'", "'hour'", "'day'",
                                             "'week'",   "'month'",  "'year'"};
const std::vector<std::string> kQuantileLevels = {"0.5", "0.25", "0.9", "0.1", "0.75", "0"};
const std::vector<std::string> kFormats = {"TabSeparatedWithNames",
                                           "TabSeparatedWithNames",
                                           "TabSeparatedWithNames",
                                           "TabSeparated",
                                           "TSVWithNames",
                                           "CSVWithNames",
                                           "CSV"};

constexpr int64_t kFirstDay = 19675;  // 2023-11-13: literals span the data and beyond

}  // namespace

std::string QueryGenerator::Call(const UnaryFunction& f, const Scope& scope, int depth) {
  Kind arg = f.date_or_time && rng_.Chance(0.5) ? Kind::kDateTime : f.arg;
  Use(f.name);
  return std::string(f.name) + "(" + Expr(arg, scope, depth) + ")";
}

std::string QueryGenerator::KeyExpr(Kind kind, const Scope& scope) {
  // A key without a column is constant: 18.16 makes one group of an empty input then (current
  // ClickHouse none) and keeps the constant in the totals row.
  for (int attempt = 0; attempt < 10; ++attempt) {
    std::map<std::string, int> before = coverage_;
    std::string expr = Expr(kind, scope, attempt < 5 && rng_.Chance(0.5) ? 1 : 0);
    for (const Item& item : scope.items) {
      for (size_t at = expr.find(item.sql); at != std::string::npos;
           at = expr.find(item.sql, at + 1)) {
        auto is_name = [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
        };
        size_t end = at + item.sql.size();
        bool starts = at == 0 || !is_name(expr[at - 1]);
        bool ends = end == expr.size() || !is_name(expr[end]);
        if (starts && ends && (at == 0 || expr[at - 1] != '\'')) return expr;
      }
    }
    coverage_ = std::move(before);
  }
  const Item* item = PickItem(kind, scope);
  if (item == nullptr) item = &rng_.Pick(scope.items);
  Use("column");
  return item->sql;
}

QueryGenerator::Scope QueryGenerator::WithoutLowCardinality(const Scope& scope) {
  Scope plain;
  for (const Item& item : scope.items) {
    if (!item.low_cardinality) plain.items.push_back(item);
  }
  return plain;
}

const std::vector<std::string>& RequiredConstructs() {
  static const std::vector<std::string> kList = {
      // clauses
      "SELECT", "DISTINCT", "FROM table", "FROM db.table", "FINAL", "WHERE", "GROUP BY",
      "WITH TOTALS", "HAVING", "ORDER BY ASC", "ORDER BY DESC", "LIMIT", "LIMIT OFFSET", "LIMIT BY",
      "SETTINGS", "FORMAT", "subquery in FROM", "IN (SELECT)", "INSERT INTO t SELECT",
      // expressions
      "literal", "column", "alias reused", "+", "-", "*", "/", "%", "=", "!=", "<", "<=", ">",
      ">=", "AND", "OR", "NOT", "IN list", "NOT IN list", "BETWEEN", "LIKE", "NOT LIKE", "IS NULL",
      "IS NOT NULL", "CASE", "if", "multiIf", "INTERVAL",
      // functions
      "now", "today", "yesterday", "toDate", "toDateTime", "toStartOfMinute", "toStartOfFiveMinute",
      "toStartOfFifteenMinutes", "toStartOfHour", "toStartOfDay", "toStartOfMonth",
      "toStartOfQuarter", "toStartOfYear", "toMonday", "toYYYYMM", "toYYYYMMDD", "toHour",
      "toDayOfWeek", "dateDiff", "toString", "toInt32", "toInt64", "toUInt32", "toUInt64",
      "toFloat64", "round", "floor", "abs", "least", "greatest", "length", "lower", "upper",
      "concat", "substring", "position", "startsWith", "endsWith", "coalesce", "ifNull",
      // aggregates
      "count()", "count(x)", "countIf", "sum", "sumIf", "avg", "avgIf", "min", "max", "minIf",
      "maxIf", "any", "anyLast", "argMin", "argMax", "uniq", "uniqExact", "uniqIf", "quantile",
      "quantiles", "groupArray", "-If (other)"};
  return kList;
}

const std::vector<std::string>& ConstructsMissingIn1816() {
  static const std::vector<std::string> kList = {
      "ORDER BY ... WITH FILL", "ILIKE",         "now64",
      "toDateTime64",           "toStartOfWeek", "JSONExtractString/Int/Float/Bool/Raw",
      "{name:Type} parameters"};
  return kList;
}

QueryGenerator::QueryGenerator(uint64_t seed, const Dataset* data)
    : rng_(seed ^ 0x5851F42D4C957F2Dull), data_(data) {}

const QueryGenerator::Item* QueryGenerator::PickItem(Kind kind, const Scope& scope) {
  std::vector<const Item*> fit;
  for (const Item& item : scope.items) {
    if (item.kind == kind) fit.push_back(&item);
  }
  return fit.empty() ? nullptr : fit[rng_.Below(fit.size())];
}

std::string QueryGenerator::Literal(Kind kind) {
  Use("literal");
  switch (kind) {
    case Kind::kInt:
      return std::to_string(rng_.Range(-20, 300));
    case Kind::kUInt:
    case Kind::kBool:
      return std::to_string(rng_.Range(0, 1000));
    case Kind::kFloat: {
      int64_t eighths = rng_.Range(-400, 800);
      std::string s = std::to_string(eighths / 8) + "." + std::to_string(eighths % 8 * 125);
      if (eighths < 0 && eighths / 8 == 0) s = "-" + s;
      if (s.find(".-") != std::string::npos) s.erase(s.find(".-") + 1, 1);
      return s;
    }
    case Kind::kString:
      return rng_.Pick(kStringLiterals);
    case Kind::kDate:
      Use("toDate");
      return "toDate('" + FormatDate(kFirstDay + rng_.Range(0, 280)) + "')";
    case Kind::kDateTime:
      Use("toDateTime");
      return "toDateTime('" +
             FormatDateTime((kFirstDay + rng_.Range(0, 280)) * 86400 + rng_.Range(0, 86399)) + "')";
    case Kind::kNullableInt:
      return "CASE WHEN " + BoolExpr(Scope{}, 0) + " THEN " + Literal(Kind::kInt) + " END";
  }
  return "0";
}

std::string QueryGenerator::Leaf(Kind kind, const Scope& scope) {
  const Item* item = PickItem(kind, scope);
  if (item != nullptr && rng_.Chance(0.85)) {
    Use("column");
    return item->sql;
  }
  if (kind == Kind::kNullableInt) Use("CASE");
  return Literal(kind);
}

std::string QueryGenerator::ValueFor(const Item& item) {
  if (item.samples != nullptr && !item.samples->empty() && rng_.Chance(0.8)) {
    Use("literal");
    return rng_.Pick(*item.samples);
  }
  Kind kind = item.kind == Kind::kNullableInt ? Kind::kInt : item.kind;
  if ((kind == Kind::kDate || kind == Kind::kDateTime) && rng_.Chance(0.5)) {
    // A string literal, converted by the comparison.
    Use("literal");
    std::string text = Literal(kind);
    --coverage_[kind == Kind::kDate ? "toDate" : "toDateTime"];
    return text.substr(text.find('\''), text.rfind('\'') - text.find('\'') + 1);
  }
  return Literal(kind);
}

std::string QueryGenerator::Expr(Kind kind, const Scope& scope, int depth) {
  if (depth <= 0 || rng_.Chance(0.3)) return Leaf(kind, scope);
  switch (kind) {
    case Kind::kInt:
      return IntExpr(scope, depth);
    case Kind::kUInt:
      return UIntExpr(scope, depth);
    case Kind::kFloat:
      return FloatExpr(scope, depth);
    case Kind::kString:
      return StringExpr(scope, depth);
    case Kind::kDate:
      return DateExpr(scope, depth);
    case Kind::kDateTime:
      return DateTimeExpr(scope, depth);
    case Kind::kNullableInt:
      return NullableExpr(scope, depth);
    case Kind::kBool:
      return BoolExpr(scope, depth);
  }
  return Leaf(kind, scope);
}

std::string QueryGenerator::IntExpr(const Scope& s, int depth) {
  const int d = depth - 1;
  switch (rng_.Below(15)) {
    case 0:
      Use("+");
      return "(" + Expr(Kind::kInt, s, d) + " + " + Expr(Kind::kInt, s, d) + ")";
    case 1:
      Use("-");
      return "(" + Expr(Kind::kInt, s, d) + " - " + Expr(Kind::kInt, s, d) + ")";
    case 2:
      Use("*");
      return "(" + Expr(Kind::kInt, s, d) + " * " + std::to_string(rng_.Range(-3, 12)) + ")";
    case 3:
      Use("%");
      return "(" + Expr(Kind::kInt, s, d) + " % " + std::to_string(rng_.Range(2, 13)) + ")";
    case 4: {
      const char* f = rng_.Chance(0.5) ? "least" : "greatest";
      Use(f);
      return std::string(f) + "(" + Expr(Kind::kInt, s, d) + ", " + Expr(Kind::kInt, s, d) + ")";
    }
    case 5:
      Use("toInt32");
      return "toInt32(" + (rng_.Chance(0.5) ? BoundedFloat(s) : Expr(Kind::kUInt, s, d)) + ")";
    case 6:
      Use("toInt64");
      return "toInt64(" + (rng_.Chance(0.5) ? BoundedFloat(s) : Expr(Kind::kUInt, s, d)) + ")";
    case 7: {
      std::string unit = rng_.Chance(0.5) ? rng_.Pick(kDateUnits) : rng_.Pick(kTimeUnits);
      bool dates = unit == "'quarter'" || rng_.Chance(0.4);
      Kind k = dates ? Kind::kDate : Kind::kDateTime;
      Use("dateDiff");
      return "dateDiff(" + unit + ", " + Expr(k, s, d) + ", " + Expr(k, s, d) + ")";
    }
    case 8:
    case 9:
      return Conditional(Kind::kInt, s, depth);
    case 10: {
      const char* f = rng_.Chance(0.5) ? "coalesce" : "ifNull";
      Use(f);
      return std::string(f) + "(" + Expr(Kind::kNullableInt, s, d) + ", " + Expr(Kind::kInt, s, d) +
             ")";
    }
    case 11:
      return ClockInvariant(Kind::kInt, s);
    case 12:
      Use("-");
      return "(" + Expr(Kind::kUInt, s, d) + " - " + Expr(Kind::kUInt, s, d) + ")";
    case 13:
      Use("-");
      return "(" + Expr(Kind::kInt, s, d) + " - " + Expr(Kind::kUInt, s, d) + ")";
    default:
      Use("*");
      return "(" + Expr(Kind::kInt, s, d) + " * " + Expr(Kind::kInt, s, 0) + ")";
  }
}

std::string QueryGenerator::UIntExpr(const Scope& s, int depth) {
  static const std::vector<UnaryFunction> kFunctions = {
      {"length", Kind::kString},          {"toUInt64", Kind::kInt},
      {"toUInt32", Kind::kInt},           {"abs", Kind::kInt},
      {"toYYYYMM", Kind::kDate, true},    {"toYYYYMMDD", Kind::kDate, true},
      {"toDayOfWeek", Kind::kDate, true}, {"toHour", Kind::kDateTime},
      {"toUInt64", Kind::kUInt},          {"toUInt32", Kind::kUInt}};
  const int d = depth - 1;
  size_t choice = rng_.Below(kFunctions.size() + 5);
  if (choice < kFunctions.size()) return Call(kFunctions[choice], s, d);
  switch (choice - kFunctions.size()) {
    case 0:
      Use("position");
      return "position(" + Expr(Kind::kString, s, d) + ", " + rng_.Pick(kNeedles) + ")";
    case 1:
      switch (rng_.Below(3)) {
        case 0:
          Use("+");
          return "(" + Expr(Kind::kUInt, s, d) + " + " + Expr(Kind::kUInt, s, d) + ")";
        case 1:
          Use("*");
          return "(" + Expr(Kind::kUInt, s, d) + " * " + std::to_string(rng_.Range(0, 12)) + ")";
        default:
          Use("%");
          return "(" + Expr(Kind::kUInt, s, d) + " % " + std::to_string(rng_.Range(2, 13)) + ")";
      }
    case 2: {
      const char* f = rng_.Chance(0.5) ? "least" : "greatest";
      Use(f);
      return std::string(f) + "(" + Expr(Kind::kUInt, s, d) + ", " + Expr(Kind::kUInt, s, d) + ")";
    }
    case 3:
      return Conditional(Kind::kUInt, s, depth);
    default:
      return "(" + BoolExpr(s, d) + ")";
  }
}

std::string QueryGenerator::FloatExpr(const Scope& s, int depth) {
  const int d = depth - 1;
  switch (rng_.Below(11)) {
    case 0: {
      Kind other = rng_.Chance(0.5) ? Kind::kFloat : Kind::kInt;
      Use("+");
      return "(" + Expr(Kind::kFloat, s, d) + " + " + Expr(other, s, d) + ")";
    }
    case 1: {
      Kind other = rng_.Chance(0.5) ? Kind::kFloat : Kind::kInt;
      Use("-");
      return "(" + Expr(Kind::kFloat, s, d) + " - " + Expr(other, s, d) + ")";
    }
    case 2:
      Use("*");
      return "(" + Expr(Kind::kFloat, s, d) + " * " + Literal(Kind::kFloat) + ")";
    case 3: {
      std::string num = Expr(rng_.Chance(0.5) ? Kind::kInt : Kind::kFloat, s, d);
      std::string den;
      if (rng_.Chance(0.5)) {
        static const std::vector<std::string> kDivisors = {"4", "3", "7", "2.5", "1000"};
        den = rng_.Pick(kDivisors);
      } else {
        Use("abs");
        Use("+");
        den = "(abs(" + Expr(Kind::kInt, s, d) + ") + 1)";
      }
      Use("/");
      return "(" + num + " / " + den + ")";
    }
    case 4: {
      return Call({"toFloat64", Kind::kInt}, s, d);
    }
    case 5: {
      // Only values without ties: odd multiples of 1/1024 (times an odd number) or n / 7.
      std::vector<const Item*> tie_free;
      for (const Item& item : s.items) {
        if (item.tie_free) tie_free.push_back(&item);
      }
      std::string arg;
      if (!tie_free.empty() && rng_.Chance(0.8)) {
        Use("column");
        arg = rng_.Pick(tie_free)->sql;
        if (rng_.Chance(0.3)) {
          Use("*");
          arg = "(" + arg + " * " + std::to_string(rng_.Chance(0.5) ? 3 : -5) + ")";
        }
      } else {
        Use("toFloat64");
        Use("/");
        arg = "(toFloat64(" + Expr(Kind::kInt, s, d) + ") / 7)";
      }
      Use("round");
      int64_t places = rng_.Range(-1, 2);
      return "round(" + arg + (places < 0 ? "" : ", " + std::to_string(places)) + ")";
    }
    case 6: {
      Use("floor");
      int64_t places = rng_.Range(-1, 2);
      return "floor(" + Expr(Kind::kFloat, s, d) +
             (places < 0 ? "" : ", " + std::to_string(places)) + ")";
    }
    case 7:
      return Call({"abs", Kind::kFloat}, s, d);
    case 8: {
      const char* f = rng_.Chance(0.5) ? "least" : "greatest";
      Use(f);
      return std::string(f) + "(" + Expr(Kind::kFloat, s, d) + ", " + Expr(Kind::kFloat, s, d) +
             ")";
    }
    default:
      return Conditional(Kind::kFloat, s, depth);
  }
}

std::string QueryGenerator::BoundedFloat(const Scope& s) {
  const Item* item = nullptr;
  for (const Item& candidate : s.items) {
    if (candidate.tie_free && rng_.Chance(0.7)) item = &candidate;
  }
  std::string value = item != nullptr ? (Use("column"), item->sql) : Literal(Kind::kFloat);
  switch (rng_.Below(3)) {
    case 0:
      Use("/");
      return "(" + value + " / 3)";
    case 1:
      Use("*");
      return "(" + value + " * " + Literal(Kind::kFloat) + ")";
    default:
      return value;
  }
}

std::string QueryGenerator::StringExpr(const Scope& s, int depth) {
  static const std::vector<UnaryFunction> kFunctions = {
      {"lower", Kind::kString},  {"upper", Kind::kString},   {"toString", Kind::kInt},
      {"toString", Kind::kUInt}, {"toString", Kind::kFloat}, {"toString", Kind::kDate, true}};
  const int d = depth - 1;
  size_t choice = rng_.Below(kFunctions.size() + 4);
  if (choice < kFunctions.size()) return Call(kFunctions[choice], s, d);
  switch (choice - kFunctions.size()) {
    case 0: {
      Use("concat");
      std::string out = "concat(" + Expr(Kind::kString, s, d) + ", " + Expr(Kind::kString, s, d);
      if (rng_.Chance(0.4)) out += ", " + Expr(Kind::kString, s, d);
      return out + ")";
    }
    case 1: {
      Use("substring");
      std::string out =
          "substring(" + Expr(Kind::kString, s, d) + ", " + std::to_string(rng_.Range(1, 7));
      if (rng_.Chance(0.8)) out += ", " + std::to_string(rng_.Range(1, 8));
      return out + ")";
    }
    default:
      return Conditional(Kind::kString, s, depth);
  }
}

std::string QueryGenerator::DateExpr(const Scope& s, int depth) {
  static const std::vector<UnaryFunction> kFunctions = {{"toDate", Kind::kDateTime},
                                                        {"toMonday", Kind::kDate, true},
                                                        {"toStartOfMonth", Kind::kDate, true},
                                                        {"toStartOfQuarter", Kind::kDate, true},
                                                        {"toStartOfYear", Kind::kDate, true}};
  const int d = depth - 1;
  size_t choice = rng_.Below(kFunctions.size() + 2);
  if (choice < kFunctions.size()) return Call(kFunctions[choice], s, d);
  if (choice == kFunctions.size()) {
    bool plus = rng_.Chance(0.5);
    Use(plus ? "+" : "-");
    return "(" + Expr(Kind::kDate, s, d) + (plus ? " + " : " - ") + Interval(true) + ")";
  }
  return Conditional(Kind::kDate, s, depth);
}

std::string QueryGenerator::DateTimeExpr(const Scope& s, int depth) {
  static const std::vector<UnaryFunction> kFunctions = {
      {"toDateTime", Kind::kDate},
      {"toStartOfMinute", Kind::kDateTime},
      {"toStartOfFiveMinute", Kind::kDateTime},
      {"toStartOfFifteenMinutes", Kind::kDateTime},
      {"toStartOfHour", Kind::kDateTime},
      {"toStartOfDay", Kind::kDateTime}};
  const int d = depth - 1;
  size_t choice = rng_.Below(kFunctions.size() + 3);
  if (choice < kFunctions.size()) return Call(kFunctions[choice], s, d);
  if (choice < kFunctions.size() + 2) {
    bool plus = rng_.Chance(0.5);
    Use(plus ? "+" : "-");
    return "(" + Expr(Kind::kDateTime, s, d) + (plus ? " + " : " - ") + Interval(false) + ")";
  }
  return Conditional(Kind::kDateTime, s, depth);
}

std::string QueryGenerator::NullableExpr(const Scope& s, int depth) {
  const int d = depth - 1;
  const Item* nullable = PickItem(Kind::kNullableInt, s);
  switch (rng_.Below(nullable ? 4 : 2)) {
    case 0:
      Use("CASE");
      return "CASE WHEN " + BoolExpr(s, d) + " THEN " + Expr(Kind::kInt, s, d) + " END";
    case 1:
      Use("if");
      return "if(" + BoolExpr(s, d) + ", " + Expr(Kind::kNullableInt, s, d) + ", NULL)";
    case 2:
      Use("column");
      Use("+");
      return "(" + nullable->sql + " + " + Expr(Kind::kInt, s, d) + ")";
    default:
      Use("column");
      Use("*");
      return "(" + nullable->sql + " * " + std::to_string(rng_.Range(-2, 5)) + ")";
  }
}

std::string QueryGenerator::Interval(bool date_only) {
  static const std::vector<std::string> kDateUnitsSql = {"DAY", "WEEK", "MONTH", "YEAR"};
  static const std::vector<std::string> kAllUnits = {"SECOND", "MINUTE", "HOUR", "DAY",
                                                     "WEEK",   "MONTH",  "YEAR"};
  Use("INTERVAL");
  return "INTERVAL " + std::to_string(rng_.Range(1, 40)) + " " +
         rng_.Pick(date_only ? kDateUnitsSql : kAllUnits);
}

std::string QueryGenerator::Conditional(Kind kind, const Scope& s, int depth) {
  const int d = depth - 1;
  switch (rng_.Below(4)) {
    case 0:
      Use("if");
      return "if(" + BoolExpr(s, d) + ", " + Expr(kind, s, d) + ", " + Expr(kind, s, d) + ")";
    case 1: {
      Use("multiIf");
      return "multiIf(" + BoolExpr(s, d) + ", " + Expr(kind, s, d) + ", " + BoolExpr(s, d) + ", " +
             Expr(kind, s, d) + ", " + Expr(kind, s, d) + ")";
    }
    case 2: {
      Use("CASE");
      std::string out = "CASE WHEN " + BoolExpr(s, d) + " THEN " + Expr(kind, s, d);
      if (rng_.Chance(0.5)) out += " WHEN " + BoolExpr(s, d) + " THEN " + Expr(kind, s, d);
      return out + " ELSE " + Expr(kind, s, d) + " END";
    }
    default: {
      // CASE x WHEN v1 THEN r1 ... ELSE r END with x a column, vi distinct values from it and
      // the results literals of one type: 18.16 turns it into transform(), which wants
      // constant results, gives its result the type of r1.. (so r must not be wider), and
      // takes the last of equal vi (SQL, and current ClickHouse, the first).
      if (kind != Kind::kInt && kind != Kind::kUInt && kind != Kind::kFloat &&
          kind != Kind::kString) {
        return Conditional(kind, s, depth);
      }
      static const std::vector<Kind> kSubjects = {Kind::kInt, Kind::kString};
      const Item* subject = PickItem(rng_.Pick(kSubjects), s);
      if (subject == nullptr) subject = PickItem(Kind::kString, s);
      if (subject == nullptr) return Conditional(kind, s, depth);
      auto result = [&] {
        if (kind == Kind::kFloat || kind == Kind::kString) return Literal(kind);
        Use("literal");
        return std::to_string(rng_.Range(0, 250));
      };
      Use("CASE");
      Use("column");
      std::string out = "CASE " + subject->sql;
      std::vector<std::string> values;
      int64_t whens = rng_.Range(1, 3);
      for (int64_t i = 0; i < whens; ++i) {
        std::string value = ValueFor(*subject);
        if (std::find(values.begin(), values.end(), value) != values.end()) continue;
        values.push_back(value);
        out += " WHEN " + value + " THEN " + result();
      }
      return out + " ELSE " + result() + " END";
    }
  }
}

std::string QueryGenerator::ClockInvariant(Kind kind, const Scope& s) {
  // All data lies in 2024: the clock can only move these results on a machine whose clock is
  // before 2024 or after 2070.
  if (kind == Kind::kBool) {
    switch (rng_.Below(4)) {
      case 0:
        Use("now");
        Use("<");
        return "(" + Expr(Kind::kDateTime, s, 1) + " < now())";
      case 1:
        Use("today");
        Use("<=");
        return "(" + Expr(Kind::kDate, s, 1) + " <= today())";
      case 2:
        Use("yesterday");
        Use(">");
        return "(yesterday() > " + Expr(Kind::kDate, s, 1) + ")";
      default:
        Use("now");
        Use(">");
        Use("-");
        Use("INTERVAL");
        return "(" + Expr(Kind::kDateTime, s, 1) + " > now() - INTERVAL 50 YEAR)";
    }
  }
  // dateDiff(u, x, NOW) - dateDiff(u, fixed, NOW) == dateDiff(u, x, fixed), whatever NOW is.
  Use("dateDiff");
  Use("dateDiff");
  Use("-");
  switch (rng_.Below(4)) {
    case 0: {
      Use("now");
      Use("toDateTime");
      std::string unit = rng_.Pick(kTimeUnits);
      return "(dateDiff(" + unit + ", " + Expr(Kind::kDateTime, s, 1) + ", now()) - dateDiff(" +
             unit + ", toDateTime('2024-01-01 00:00:00'), now()))";
    }
    case 1:
    case 2: {
      const char* clock = rng_.Chance(0.5) ? "today" : "yesterday";
      Use(clock);
      Use("toDate");
      std::string unit = rng_.Pick(kDateUnits);
      return "(dateDiff(" + unit + ", " + Expr(Kind::kDate, s, 1) + ", " + clock +
             "()) - dateDiff(" + unit + ", toDate('2024-03-01'), " + clock + "()))";
    }
    default:
      Use("today");
      Use("yesterday");
      return "(today() - yesterday())";
  }
}

std::string QueryGenerator::Comparison(const Scope& s, int depth) {
  static const std::vector<Kind> kKinds = {Kind::kInt,   Kind::kInt,     Kind::kUInt,
                                           Kind::kFloat, Kind::kString,  Kind::kString,
                                           Kind::kDate,  Kind::kDateTime};
  static const std::vector<std::string> kOps = {"=", "!=", "<", "<=", ">", ">="};
  Kind kind = rng_.Pick(kKinds);
  const std::string& op = rng_.Pick(kOps);
  Use(op);
  const Item* item = PickItem(kind, s);
  if (item != nullptr && rng_.Chance(0.6)) {
    Use("column");
    return item->sql + " " + op + " " + ValueFor(*item);
  }
  return Expr(kind, s, depth) + " " + op + " " +
         (rng_.Chance(0.6) ? Literal(kind) : Expr(kind, s, depth));
}

std::string QueryGenerator::InSubquery(const Scope& s) {
  // 18.16 wants the same type on both sides: Int32 with Int32, strings with strings.
  std::vector<const Item*> candidates;
  for (const Item& item : s.items) {
    if (!item.exact_type.empty()) candidates.push_back(&item);
  }
  if (candidates.empty()) return Comparison(s, 0);
  const Item& lhs = *rng_.Pick(candidates);
  std::vector<std::pair<const TableInfo*, const ColumnInfo*>> rhs;
  for (const TableInfo& table : data_->tables) {
    for (const ColumnInfo& column : table.columns) {
      bool is_int = column.kind == Kind::kInt && column.name != "version";
      bool is_string = column.kind == Kind::kString;
      if ((lhs.exact_type == "Int32" && is_int) || (lhs.exact_type == "String" && is_string)) {
        rhs.emplace_back(&table, &column);
      }
    }
  }
  auto [table, column] = rng_.Pick(rhs);
  Scope inner;
  for (const ColumnInfo& c : table->columns) {
    inner.items.push_back(Item::Column(c, ""));
  }
  Use("IN (SELECT)");
  Use("column");
  Use("column");
  std::string sub = "SELECT " + column->name + " FROM " + table->name;
  if (table->needs_final) {
    Use("FINAL");
    sub += " FINAL";
  }
  Use("WHERE");
  sub += " WHERE " + BoolExpr(inner, 1);
  bool negate = rng_.Chance(0.25);
  if (negate) Use("NOT");
  return (negate ? "NOT (" : "(") + lhs.sql + " IN (" + sub + "))";
}

std::string QueryGenerator::BoolExpr(const Scope& s, int depth) {
  const int d = depth - 1;
  // Without depth left: the forms whose operands are leaves.
  static const std::vector<int> kFlat = {0, 1, 6, 7, 8, 9, 10};
  int choice = depth <= 0 ? rng_.Pick(kFlat) : static_cast<int>(rng_.Below(15));
  switch (choice) {
    case 0:
    case 1:
    case 2:
      return Comparison(s, std::max(d, 0));
    case 3:
      Use("AND");
      return "(" + BoolExpr(s, d) + " AND " + BoolExpr(s, d) + ")";
    case 4:
      Use("OR");
      return "(" + BoolExpr(s, d) + " OR " + BoolExpr(s, d) + ")";
    case 5:
      Use("NOT");
      return "NOT (" + BoolExpr(s, d) + ")";
    case 6: {
      static const std::vector<Kind> kKinds = {Kind::kInt, Kind::kUInt, Kind::kString, Kind::kDate};
      Kind kind = rng_.Pick(kKinds);
      const Item* item = PickItem(kind, s);
      std::string lhs;
      Item value_source("", kind);
      if (item != nullptr && rng_.Chance(0.7)) {
        Use("column");
        lhs = item->sql;
        value_source = *item;
      } else {
        lhs = Expr(kind, s, std::max(d, 0));
      }
      bool negate = rng_.Chance(0.35);
      Use(negate ? "NOT IN list" : "IN list");
      std::string out = lhs + (negate ? " NOT IN (" : " IN (");
      int64_t n = rng_.Range(1, 5);
      for (int64_t i = 0; i < n; ++i) out += (i ? ", " : "") + ValueFor(value_source);
      return out + ")";
    }
    case 7: {
      static const std::vector<Kind> kKinds = {Kind::kInt,  Kind::kFloat,    Kind::kString,
                                               Kind::kDate, Kind::kDateTime, Kind::kUInt};
      Kind kind = rng_.Pick(kKinds);
      const Item* item = PickItem(kind, s);
      Item value_source("", kind);
      std::string lhs;
      if (item != nullptr && rng_.Chance(0.7)) {
        Use("column");
        lhs = item->sql;
        value_source = *item;
      } else {
        lhs = Expr(kind, s, std::max(d, 0));
      }
      std::string lo = ValueFor(value_source), hi = ValueFor(value_source);
      char* end_lo = nullptr;
      char* end_hi = nullptr;
      double lo_num = std::strtod(lo.c_str(), &end_lo);
      double hi_num = std::strtod(hi.c_str(), &end_hi);
      bool numeric = *end_lo == '\0' && *end_hi == '\0';
      if (numeric ? lo_num > hi_num : lo > hi) std::swap(lo, hi);
      Use("BETWEEN");
      if (rng_.Chance(0.2)) {
        Use("NOT");
        return "NOT (" + lhs + " BETWEEN " + lo + " AND " + hi + ")";
      }
      return lhs + " BETWEEN " + lo + " AND " + hi;
    }
    case 8: {
      bool negate = rng_.Chance(0.3);
      Use(negate ? "NOT LIKE" : "LIKE");
      return Expr(Kind::kString, s, std::max(d, 0)) + (negate ? " NOT LIKE " : " LIKE ") +
             rng_.Pick(kLikePatterns);
    }
    case 9: {
      bool negate = rng_.Chance(0.5);
      Use(negate ? "IS NOT NULL" : "IS NULL");
      return Expr(Kind::kNullableInt, s, std::max(d, 0)) + (negate ? " IS NOT NULL" : " IS NULL");
    }
    case 10: {
      const char* f = rng_.Chance(0.5) ? "startsWith" : "endsWith";
      Use(f);
      return std::string(f) + "(" + Expr(Kind::kString, s, std::max(d, 0)) + ", " +
             rng_.Pick(kAffixes) + ")";
    }
    case 11:
      if (depth < 2 || no_in_subquery_) return Comparison(s, d);
      return InSubquery(s);
    case 12:
      return ClockInvariant(Kind::kBool, s);
    default:
      return Comparison(s, std::max(d, 0));
  }
}

std::string QueryGenerator::Aggregate(const Scope& s, const Scope& keys, Kind* kind,
                                      bool* integral) {
  *integral = false;
  // 18.16 rejects aggregates over a Nullable value computed from a LowCardinality column
  // ("Illegal type Nullable(UInt8) of argument for aggregate function sum"): Nullable
  // arguments are built without those columns.
  const Scope plain = WithoutLowCardinality(s);
  const Item* unique = nullptr;
  for (const Item& item : s.items) {
    if (item.unique) unique = &item;
  }
  auto number = [&]() { return Expr(rng_.Chance(0.5) ? Kind::kInt : Kind::kFloat, s, 1); };
  // quantile of no values: nan for floats; for integers 0 in 18.16, nan in current ClickHouse
  // (its documentation of quantile) and trackhouse. Integers only where a group has rows.
  auto quantile_arg = [&]() {
    return Expr(groups_have_rows_ && rng_.Chance(0.5) ? Kind::kInt : Kind::kFloat, s, 1);
  };
  auto cond = [&]() { return BoolExpr(s, 1); };
  for (;;) {
    switch (rng_.Below(22)) {
      case 0:
        Use("count()");
        *kind = Kind::kUInt;
        *integral = true;
        return "count()";
      case 1: {
        static const std::vector<Kind> kAny = {Kind::kInt, Kind::kNullableInt, Kind::kString,
                                               Kind::kNullableInt};
        Use("count(x)");
        *kind = Kind::kUInt;
        *integral = true;
        Kind k = rng_.Pick(kAny);
        return "count(" + Expr(k, k == Kind::kNullableInt ? plain : s, 1) + ")";
      }
      case 2:
        Use("countIf");
        *kind = Kind::kUInt;
        *integral = true;
        return "countIf(" + cond() + ")";
      case 3: {
        static const std::vector<Kind> kKinds = {Kind::kInt, Kind::kUInt, Kind::kFloat,
                                                 Kind::kNullableInt};
        *kind = rng_.Pick(kKinds);
        *integral = *kind == Kind::kInt || *kind == Kind::kUInt;
        Use("sum");
        return "sum(" + Expr(*kind, *kind == Kind::kNullableInt ? plain : s, 1) + ")";
      }
      case 4: {
        *kind = rng_.Chance(0.5) ? Kind::kInt : Kind::kFloat;
        *integral = *kind == Kind::kInt;
        Use("sumIf");
        return "sumIf(" + Expr(*kind, s, 1) + ", " + cond() + ")";
      }
      case 5: {
        *kind = Kind::kFloat;
        Use("avg");
        if (rng_.Chance(0.2)) return "avg(" + Expr(Kind::kNullableInt, plain, 1) + ")";
        return "avg(" + number() + ")";
      }
      case 6:
        Use("avgIf");
        *kind = Kind::kFloat;
        return "avgIf(" + number() + ", " + cond() + ")";
      case 7:
      case 8: {
        static const std::vector<Kind> kKinds = {Kind::kInt,        Kind::kUInt, Kind::kFloat,
                                                 Kind::kString,     Kind::kDate, Kind::kDateTime,
                                                 Kind::kNullableInt};
        *kind = rng_.Pick(kKinds);
        *integral = *kind == Kind::kInt || *kind == Kind::kUInt;
        const char* f = rng_.Chance(0.5) ? "min" : "max";
        Use(f);
        return std::string(f) + "(" + Expr(*kind, *kind == Kind::kNullableInt ? plain : s, 1) + ")";
      }
      case 9: {
        static const std::vector<Kind> kKinds = {Kind::kInt, Kind::kFloat, Kind::kString,
                                                 Kind::kDateTime};
        *kind = rng_.Pick(kKinds);
        *integral = *kind == Kind::kInt;
        const char* f = rng_.Chance(0.5) ? "minIf" : "maxIf";
        Use(f);
        return std::string(f) + "(" + Expr(*kind, s, 1) + ", " + cond() + ")";
      }
      case 10:
      case 11: {
        if (keys.items.empty()) continue;
        static const std::vector<Kind> kKinds = {Kind::kInt, Kind::kUInt, Kind::kString,
                                                 Kind::kDate, Kind::kDateTime};
        *kind = rng_.Pick(kKinds);
        const char* f = rng_.Chance(0.5) ? "any" : "anyLast";
        Use(f);
        return std::string(f) + "(" + Expr(*kind, keys, 1) + ")";
      }
      case 12:
      case 13: {
        if (unique == nullptr) continue;
        static const std::vector<Kind> kKinds = {Kind::kInt,  Kind::kFloat,    Kind::kString,
                                                 Kind::kDate, Kind::kDateTime, Kind::kNullableInt};
        *kind = rng_.Pick(kKinds);
        const char* f = rng_.Chance(0.5) ? "argMin" : "argMax";
        Use(f);
        Use("column");
        return std::string(f) + "(" + Expr(*kind, *kind == Kind::kNullableInt ? plain : s, 1) +
               ", " + unique->sql + ")";
      }
      case 14:
      case 15: {
        // No Nullable arguments: 18.16 returns NULL for a group without values, ClickHouse
        // since 20.5 (pull request 11661) and trackhouse 0.
        static const std::vector<Kind> kKinds = {Kind::kInt, Kind::kString, Kind::kFloat,
                                                 Kind::kDate, Kind::kDateTime};
        const char* f = rng_.Chance(0.5) ? "uniq" : "uniqExact";
        Use(f);
        *kind = Kind::kUInt;
        *integral = true;
        return std::string(f) + "(" + Expr(rng_.Pick(kKinds), s, 1) + ")";
      }
      case 16: {
        Use("uniqIf");
        *kind = Kind::kUInt;
        *integral = true;
        return "uniqIf(" + Expr(rng_.Chance(0.5) ? Kind::kInt : Kind::kString, s, 1) + ", " +
               cond() + ")";
      }
      case 17: {
        Use("quantile");
        *kind = Kind::kFloat;
        return "quantile(" + rng_.Pick(kQuantileLevels) + ")(" + quantile_arg() + ")";
      }
      case 18: {
        Use("quantiles");
        *kind = Kind::kBool;  // an array: output only
        std::string a = rng_.Pick(kQuantileLevels), b = rng_.Pick(kQuantileLevels);
        return "quantiles(" + a + ", " + b + ")(" + quantile_arg() + ")";
      }
      case 19: {
        if (keys.items.empty()) continue;
        static const std::vector<Kind> kKinds = {Kind::kInt, Kind::kString, Kind::kDate};
        *kind = Kind::kBool;  // an array: output only
        Use("groupArray");
        return "groupArray(" + std::to_string(rng_.Range(1, 4)) + ")(" +
               Expr(rng_.Pick(kKinds), keys, 1) + ")";
      }
      case 20: {
        // The -If combinator on other aggregates.
        switch (rng_.Below(5)) {
          case 0:
            Use("-If (other)");
            *kind = Kind::kUInt;
            *integral = true;
            return "uniqExactIf(" + Expr(Kind::kString, s, 1) + ", " + cond() + ")";
          case 1:
            Use("-If (other)");
            *kind = Kind::kFloat;
            return "quantileIf(" + rng_.Pick(kQuantileLevels) + ")(" + Expr(Kind::kFloat, s, 1) +
                   ", " + cond() + ")";
          case 2:
            if (unique == nullptr) continue;
            Use("-If (other)");
            *kind = Kind::kInt;
            return std::string(rng_.Chance(0.5) ? "argMinIf(" : "argMaxIf(") +
                   Expr(Kind::kInt, s, 1) + ", " + unique->sql + ", " + cond() + ")";
          case 3:
            if (keys.items.empty()) continue;
            Use("-If (other)");
            *kind = Kind::kString;
            return "anyIf(" + Expr(Kind::kString, keys, 1) + ", " + cond() + ")";
          default:
            if (keys.items.empty()) continue;
            Use("-If (other)");
            *kind = Kind::kBool;
            return "groupArrayIf(" + std::to_string(rng_.Range(1, 3)) + ")(" +
                   Expr(Kind::kInt, keys, 1) + ", " + cond() + ")";
        }
      }
      default: {
        *kind = Kind::kUInt;
        *integral = true;
        Use("countIf");
        return "countIf(" + cond() + ")";
      }
    }
  }
}

QueryGenerator::Source QueryGenerator::TableSource() {
  Source source;
  const TableInfo& table = data_->tables[rng_.Chance(0.7) ? 0 : 1];
  if (rng_.Chance(0.2)) {
    Use("FROM db.table");
    source.sql = "default." + table.name;
  } else {
    Use("FROM table");
    source.sql = table.name;
  }
  if (table.needs_final) {
    Use("FINAL");
    source.sql += " FINAL";
  }
  for (const ColumnInfo& c : table.columns) {
    std::string exact;
    if (c.kind == Kind::kInt && c.name != "version") exact = "Int32";
    if (c.kind == Kind::kString) exact = "String";
    source.scope.items.push_back(Item::Column(c, exact));
  }
  return source;
}

QueryGenerator::Source QueryGenerator::PickSource(int depth) {
  if (depth > 0 && rng_.Chance(0.22)) {
    Source inner_source = PickSource(depth - 1);
    Source source;
    std::string inner = rng_.Chance(0.6) ? ProjectionQuery(inner_source, true, &source.scope)
                                         : AggregateQuery(inner_source, true, &source.scope);
    Use("subquery in FROM");
    source.sql = "(" + inner + ")";
    // Computed outputs (no samples) may carry LowCardinality from the columns they read.
    for (Item& item : source.scope.items) {
      if (item.samples == nullptr) item.low_cardinality = true;
    }
    return source;
  }
  return TableSource();
}

std::string QueryGenerator::OrderAndLimit(const std::vector<std::string>& order_keys,
                                          const std::vector<std::string>& limit_by) {
  std::string out = " ORDER BY ";
  for (size_t i = 0; i < order_keys.size(); ++i) {
    out += (i ? ", " : "") + order_keys[i];
    if (rng_.Chance(0.4)) {
      Use("ORDER BY DESC");
      out += " DESC";
    } else if (rng_.Chance(0.5)) {
      Use("ORDER BY ASC");
      out += " ASC";
    }
  }
  bool limit_by_used = !limit_by.empty() && rng_.Chance(0.18);
  if (limit_by_used) {
    Use("LIMIT BY");
    out += " LIMIT " + std::to_string(rng_.Range(1, 3)) + " BY " + rng_.Pick(limit_by);
  }
  if (rng_.Chance(0.7)) {
    Use("LIMIT");
    std::string count = std::to_string(rng_.Range(1, 40));
    if (rng_.Chance(0.3)) {
      std::string offset = std::to_string(rng_.Range(1, 25));
      // 18.16 does not parse OFFSET after LIMIT BY; `LIMIT m, n` means the same.
      if (limit_by_used) {
        out += " LIMIT " + offset + ", " + count;
      } else {
        Use("LIMIT OFFSET");
        out += " LIMIT " + count + " OFFSET " + offset;
      }
    } else {
      out += " LIMIT " + count;
    }
  }
  return out;
}

std::string QueryGenerator::ProjectionQuery(const Source& source, bool inner, Scope* outputs) {
  // 18.16's DISTINCT may keep duplicates of values computed from LowCardinality columns: with
  // DISTINCT, the outputs are computed from the other columns.
  const Scope plain = WithoutLowCardinality(source.scope);
  const bool distinct = !inner && !plain.items.empty() && rng_.Chance(0.2);
  const Scope& s = distinct ? plain : source.scope;
  const Scope& where_scope = source.scope;
  static const std::vector<Kind> kKinds = {Kind::kInt,      Kind::kUInt,        Kind::kFloat,
                                           Kind::kString,   Kind::kString,      Kind::kDate,
                                           Kind::kDateTime, Kind::kNullableInt, Kind::kBool};
  Use("SELECT");
  std::string select = "SELECT ";
  if (distinct) {
    Use("DISTINCT");
    select += "DISTINCT ";
  }
  // 18.16's DISTINCT also keeps duplicates of IN (SELECT ...) results.
  no_in_subquery_ = distinct;
  Scope visible = s;  // the source's columns, then this SELECT's aliases
  std::vector<std::string> names;
  int64_t n = rng_.Range(1, 4);
  for (int64_t i = 0; i < n; ++i) {
    Item out;
    if (rng_.Chance(0.25) && !s.items.empty()) {
      // A bare column, named by itself.
      out = rng_.Pick(s.items);
      if (std::find(names.begin(), names.end(), out.sql) != names.end()) continue;
      Use("column");
      select += (names.empty() ? "" : ", ") + out.sql;
    } else {
      Kind kind = rng_.Pick(kKinds);
      std::string expr;
      bool reuse = visible.items.size() > s.items.size() && rng_.Chance(0.3);
      if (reuse) {
        Scope aliases;
        for (size_t j = s.items.size(); j < visible.items.size(); ++j) {
          aliases.items.push_back(visible.items[j]);
        }
        // An expression over an earlier alias of this SELECT.
        const Item& prior = rng_.Pick(aliases.items);
        kind = prior.kind == Kind::kBool ? Kind::kUInt : prior.kind;
        Scope only{{prior}};
        only.items.back().kind = kind;
        Use("alias reused");
        expr = Expr(kind, only, 1);
        if (expr.find(prior.sql) == std::string::npos) {
          Use("+");
          expr = kind == Kind::kString ? "concat(" + prior.sql + ", " + expr + ")"
                                       : "(" + prior.sql + " + " + expr + ")";
          if (kind == Kind::kString) Use("concat");
          if (kind == Kind::kDate || kind == Kind::kDateTime) {
            expr = "(" + prior.sql + " + " + Interval(kind == Kind::kDate) + ")";
          }
        }
      } else {
        expr = Expr(kind, s, kExprDepth);
      }
      out = Item(NewAlias(inner ? "s" : "c"), kind == Kind::kBool ? Kind::kUInt : kind);
      select += (names.empty() ? "" : ", ") + expr + " AS " + out.sql;
      visible.items.push_back(out);
    }
    names.push_back(out.sql);
    outputs->items.push_back(out);
  }
  if (names.empty()) {
    // Every pick was a repeated column: fall back to one expression.
    Item out(NewAlias(inner ? "s" : "c"), Kind::kInt);
    select += Expr(Kind::kInt, s, kExprDepth) + " AS " + out.sql;
    names.push_back(out.sql);
    outputs->items.push_back(out);
  }
  no_in_subquery_ = false;
  std::string sql = select + " FROM " + source.sql;
  if (rng_.Chance(0.7)) {
    Use("WHERE");
    sql += " WHERE " + BoolExpr(where_scope, kExprDepth);
  }
  if (!inner) {
    std::vector<std::string> limit_by = names;
    sql += OrderAndLimit(names, limit_by);
  } else if (rng_.Chance(0.2)) {
    // A top-N subquery: a total order makes the N rows well defined.
    sql += OrderAndLimit(names, {});
  }
  return sql;
}

std::string QueryGenerator::AggregateQuery(const Source& source, bool inner, Scope* outputs) {
  const Scope plain = WithoutLowCardinality(source.scope);
  const bool distinct = !inner && !plain.items.empty() && rng_.Chance(0.05);
  const Scope& s = distinct ? plain : source.scope;
  static const std::vector<Kind> kKeyKinds = {Kind::kInt,        Kind::kUInt, Kind::kString,
                                              Kind::kString,     Kind::kDate, Kind::kDateTime,
                                              Kind::kNullableInt};
  Use("SELECT");
  Use("GROUP BY");
  std::string select = "SELECT ";
  if (distinct) {
    Use("DISTINCT");
    select += "DISTINCT ";
  }
  no_in_subquery_ = distinct;
  Scope keys;
  std::vector<std::string> key_names, group_by, integral_aggs;
  int64_t key_count = rng_.Range(1, 2);
  for (int64_t i = 0; i < key_count; ++i) {
    Kind kind = rng_.Pick(kKeyKinds);
    // 18.16 loses the group of a NULL key computed from a LowCardinality column.
    if (kind == Kind::kNullableInt && plain.items.empty()) kind = Kind::kInt;
    std::string expr = KeyExpr(kind, kind == Kind::kNullableInt ? plain : s);
    if (std::find(group_by.begin(), group_by.end(), expr) != group_by.end()) continue;
    bool bare = false;
    for (const Item& item : s.items) bare = bare || item.sql == expr;
    std::string name = expr;
    if (!bare || rng_.Chance(0.3)) {
      name = NewAlias("k");
      select += (key_names.empty() ? "" : ", ") + expr + " AS " + name;
    } else {
      select += (key_names.empty() ? "" : ", ") + expr;
    }
    Item key(expr, kind);
    for (const Item& item : s.items) {
      if (item.sql == expr) key = item;
    }
    keys.items.push_back(key);
    group_by.push_back(rng_.Chance(0.5) ? name : expr);
    key_names.push_back(name);
    Item out = key;
    out.sql = name;
    out.unique = key_count == 1;
    out.tie_free = key.tie_free;
    outputs->items.push_back(out);
  }
  // The totals row aggregates all groups at once, where values of the keys are not constant:
  // with TOTALS, no any/anyLast/groupArray (which see only `keys`).
  const bool with_totals = !inner && rng_.Chance(0.2);
  groups_have_rows_ = !with_totals;  // the totals row may aggregate no rows
  const Scope no_keys;
  const Scope& constant_keys = with_totals ? no_keys : keys;
  int64_t agg_count = rng_.Range(1, 4);
  std::vector<Item> numeric_aggs;
  for (int64_t i = 0; i < agg_count; ++i) {
    std::string name = NewAlias("a");
    if (!numeric_aggs.empty() && rng_.Chance(0.2)) {
      const Item& prior = rng_.Pick(numeric_aggs);
      Use("alias reused");
      std::string expr;
      switch (rng_.Below(3)) {
        case 0:
          Use("*");
          expr = "(" + prior.sql + " * 2)";
          break;
        case 1:
          Use("+");
          expr = "(" + prior.sql + " + " + std::to_string(rng_.Range(1, 9)) + ")";
          break;
        default:
          Use("/");
          Use("+");
          expr = "(" + prior.sql + " / (count() + 1))";
          Use("count()");
          break;
      }
      select += ", " + expr + " AS " + name;
      outputs->items.push_back(
          Item(name, expr.find('/') != std::string::npos ? Kind::kFloat : prior.kind));
      continue;
    }
    Kind kind;
    bool integral;
    std::string agg = Aggregate(s, constant_keys, &kind, &integral);
    select += ", " + agg + " AS " + name;
    if (kind != Kind::kBool) outputs->items.push_back(Item(name, kind));
    if (integral) integral_aggs.push_back(name);
    if (kind == Kind::kInt || kind == Kind::kFloat) numeric_aggs.push_back(Item(name, kind));
  }
  groups_have_rows_ = false;
  no_in_subquery_ = false;
  std::string sql = select + " FROM " + source.sql;
  if (rng_.Chance(0.5)) {
    Use("WHERE");
    sql += " WHERE " + BoolExpr(s, kExprDepth);
  }
  sql += " GROUP BY ";
  for (size_t i = 0; i < group_by.size(); ++i) sql += (i ? ", " : "") + group_by[i];
  if (with_totals) {
    Use("WITH TOTALS");
    sql += " WITH TOTALS";
  }
  if (rng_.Chance(0.3)) {
    Use("HAVING");
    Kind kind;
    bool integral;
    std::map<std::string, int> before = coverage_;
    std::string agg = Aggregate(s, constant_keys, &kind, &integral);
    std::string cond;
    if (kind == Kind::kBool || kind == Kind::kString || kind == Kind::kDate ||
        kind == Kind::kDateTime || kind == Kind::kNullableInt) {
      coverage_ = std::move(before);  // the aggregate is not used
      Use("count()");
      Use(">=");
      cond = "count() >= " + std::to_string(rng_.Range(1, 12));
    } else {
      static const std::vector<std::string> kOps = {">", ">=", "<", "!="};
      const std::string& op = rng_.Pick(kOps);
      Use(op);
      cond = agg + " " + op + " " + std::to_string(rng_.Range(0, 40));
    }
    if (!integral_aggs.empty() && rng_.Chance(0.3)) {
      Use("AND");
      Use(">");
      Use("alias reused");
      cond = "(" + cond + " AND " + rng_.Pick(integral_aggs) + " > 1)";
    }
    sql += " HAVING " + cond;
  }
  if (!inner || rng_.Chance(0.2)) {
    std::vector<std::string> order = key_names;
    if (!integral_aggs.empty() && rng_.Chance(0.35)) {
      order.insert(order.begin(), rng_.Pick(integral_aggs));
    }
    sql += OrderAndLimit(order, inner ? std::vector<std::string>{} : key_names);
  }
  return sql;
}

std::string QueryGenerator::GlobalAggregateQuery(const Source& source) {
  Use("SELECT");
  std::string sql = "SELECT ";
  int64_t n = rng_.Range(1, 4);
  Scope no_keys;
  for (int64_t i = 0; i < n; ++i) {
    Kind kind;
    bool integral;
    sql += (i ? ", " : "") + Aggregate(source.scope, no_keys, &kind, &integral) + " AS " +
           NewAlias("a");
  }
  sql += " FROM " + source.sql;
  if (rng_.Chance(0.6)) {
    Use("WHERE");
    sql += " WHERE " + BoolExpr(source.scope, kExprDepth);
  }
  return sql;
}

std::string QueryGenerator::InsertSelect() {
  // scratch (k String, n Int64, f Float64, d Date); a column list in any order, or none.
  static const std::vector<std::vector<std::string>> kColumnLists = {
      {}, {"k", "n", "f", "d"}, {"n", "k"}, {"k", "f", "d"}, {"d", "k", "n"}};
  const std::vector<std::string>& list = rng_.Pick(kColumnLists);
  std::vector<std::string> columns = list.empty() ? kColumnLists[1] : list;
  Source source = PickSource(0);
  const Scope& s = source.scope;
  bool grouped = rng_.Chance(0.5);
  std::string key = KeyExpr(Kind::kString, s);
  std::string select = "SELECT ";
  for (size_t i = 0; i < columns.size(); ++i) {
    const std::string& c = columns[i];
    std::string expr;
    if (c == "k") {
      expr = key;
    } else if (!grouped) {
      expr = Expr(c == "n" ? Kind::kInt : c == "f" ? Kind::kFloat : Kind::kDate, s, 1);
    } else if (c == "n") {
      Use("count()");
      expr = rng_.Chance(0.5) ? "count()" : (Use("sum"), "sum(" + Expr(Kind::kInt, s, 1) + ")");
    } else if (c == "f") {
      Use("avg");
      expr = "avg(" + Expr(Kind::kFloat, s, 1) + ")";
    } else {
      const char* f = rng_.Chance(0.5) ? "min" : "max";
      Use(f);
      expr = std::string(f) + "(" + Expr(Kind::kDate, s, 1) + ")";
    }
    select += (i ? ", " : "") + expr;
  }
  std::string sql = "INSERT INTO scratch";
  if (!list.empty()) {
    sql += " (";
    for (size_t i = 0; i < list.size(); ++i) sql += (i ? ", " : "") + list[i];
    sql += ")";
  }
  Use("SELECT");
  sql += " " + select + " FROM " + source.sql;
  if (rng_.Chance(0.6)) {
    Use("WHERE");
    sql += " WHERE " + BoolExpr(s, 1);
  }
  if (grouped) {
    Use("GROUP BY");
    sql += " GROUP BY " + key;
  }
  return sql;
}

GeneratedQuery QueryGenerator::Next() {
  alias_counter_ = 0;
  GeneratedQuery query;
  if (rng_.Chance(0.05)) {
    Use("INSERT INTO t SELECT");
    query.setup = {"TRUNCATE TABLE scratch", InsertSelect()};
    query.sql = "SELECT k, n, f, d FROM scratch ORDER BY k, n, f, d FORMAT TabSeparatedWithNames";
    return query;
  }
  Source source = PickSource(1);
  Scope outputs;
  std::string sql;
  switch (rng_.Weighted({40, 42, 18})) {
    case 0:
      sql = ProjectionQuery(source, false, &outputs);
      break;
    case 1:
      sql = AggregateQuery(source, false, &outputs);
      break;
    default:
      sql = GlobalAggregateQuery(source);
      break;
  }
  if (rng_.Chance(0.15)) {
    Use("SETTINGS");
    sql += " SETTINGS max_threads = " + std::to_string(rng_.Range(1, 4));
  }
  Use("FORMAT");
  query.sql = sql + " FORMAT " + rng_.Pick(kFormats);
  return query;
}

}  // namespace trackhouse::difftest
