#include "sql/format.h"

#include <charconv>
#include <cmath>
#include <string_view>

#include "sql/interval.h"
#include "sql/keywords.h"

namespace trackhouse::sql {
namespace {

// Precedence levels, lowest first. An operand whose level is below what its position needs is
// printed in parentheses.
enum Prec : int {
  kAliased = 0,  // `expr AS name` binds loosest of all
  kLambda = 1,
  kOr = 3,
  kAnd = 4,
  kNot = 5,
  kCompare = 6,
  kConcat = 7,
  kAdditive = 8,
  kMultiplicative = 9,
  kUnary = 10,
  kPostfix = 11,
  kPrimary = 12,
};

struct BinaryOp {
  std::string_view function;
  std::string_view text;
  int prec;
};

constexpr BinaryOp kBinaryOps[] = {
    {"plus", " + ", kAdditive},
    {"minus", " - ", kAdditive},
    {"multiply", " * ", kMultiplicative},
    {"divide", " / ", kMultiplicative},
    {"modulo", " % ", kMultiplicative},
    {"concat", " || ", kConcat},
    {"equals", " = ", kCompare},
    {"notEquals", " != ", kCompare},
    {"less", " < ", kCompare},
    {"lessOrEquals", " <= ", kCompare},
    {"greater", " > ", kCompare},
    {"greaterOrEquals", " >= ", kCompare},
    {"like", " LIKE ", kCompare},
    {"notLike", " NOT LIKE ", kCompare},
    {"ilike", " ILIKE ", kCompare},
    {"notILike", " NOT ILIKE ", kCompare},
};

// How a function call is printed.
enum class Form {
  kCall,          // name(args)
  kBinary,        // a + b
  kIn,            // a IN (...)
  kNary,          // a AND b AND c
  kNot,           // NOT a
  kNegate,        // -a
  kIsNull,        // a IS [NOT] NULL
  kArrayElement,  // a[i]
  kTupleElement,  // a.1
  kArray,         // [a, b]
  kTuple,         // (a, b)
  kInterval,      // INTERVAL n DAY
  kCase,          // CASE WHEN c THEN v ... ELSE e END (multiIf)
  kCaseOperand,   // CASE x WHEN a THEN b ... ELSE e END (caseWithExpression)
};

struct FormInfo {
  Form form = Form::kCall;
  int prec = kPrimary;
  const BinaryOp* op = nullptr;
};

bool IsPlain(const Expr& e) { return e.alias.empty(); }

bool IsNumericLiteral(const Expr& e) {
  return e.kind == ExprKind::kLiteral &&
         (e.literal_kind == LiteralKind::kUInt64 || e.literal_kind == LiteralKind::kInt64 ||
          e.literal_kind == LiteralKind::kFloat64);
}

int Precedence(const Expr& e);
FormInfo GetForm(const Expr& e);

// True if `e` printed at `min_prec` would start with '(' (which would change how IN reads
// its right-hand side).
bool StartsWithParen(const Expr& e, int min_prec) {
  if (Precedence(e) < min_prec) return true;
  if (e.kind == ExprKind::kSubquery) return true;
  if (e.kind != ExprKind::kFunction) return false;
  FormInfo f = GetForm(e);
  switch (f.form) {
    case Form::kTuple:
      return true;
    case Form::kBinary:
    case Form::kIn:
    case Form::kIsNull:
    case Form::kNary:
    case Form::kArrayElement:
      return StartsWithParen(*e.args[0], f.form == Form::kArrayElement ? kPostfix : f.prec);
    case Form::kTupleElement:
      return e.args[0]->kind == ExprKind::kLiteral || e.args[0]->kind == ExprKind::kAsterisk ||
             StartsWithParen(*e.args[0], kPostfix);
    default:
      return false;
  }
}

// Whether in(x, rhs) can print as `x IN rhs` and read back the same.
bool InRhsPrintable(const Expr& rhs) {
  if (!IsPlain(rhs)) return false;
  if (rhs.kind == ExprKind::kSubquery) return true;
  if (rhs.IsFunction("tuple") && !rhs.has_params && !rhs.distinct) return true;
  return !StartsWithParen(rhs, kConcat);
}

FormInfo GetForm(const Expr& e) {
  FormInfo info;
  if (e.kind != ExprKind::kFunction || e.has_params || e.distinct) return info;
  const std::string& n = e.name;
  size_t argc = e.args.size();
  if (argc == 2) {
    for (const BinaryOp& op : kBinaryOps) {
      if (n == op.function) return {Form::kBinary, op.prec, &op};
    }
    if (n == "in" || n == "notIn") {
      if (InRhsPrintable(*e.args[1])) return {Form::kIn, kCompare, nullptr};
      return info;
    }
    if (n == "arrayElement") return {Form::kArrayElement, kPostfix, nullptr};
    if (n == "tupleElement" && e.args[1]->IsLiteral(LiteralKind::kUInt64) && IsPlain(*e.args[1])) {
      return {Form::kTupleElement, kPostfix, nullptr};
    }
  }
  if (argc >= 2 && (n == "and" || n == "or")) {
    return {Form::kNary, n == "and" ? kAnd : kOr, nullptr};
  }
  if (argc == 1) {
    if (n == "not") return {Form::kNot, kNot, nullptr};
    if (n == "negate") return {Form::kNegate, kUnary, nullptr};
    if (n == "isNull" || n == "isNotNull") return {Form::kIsNull, kCompare, nullptr};
    if (!IntervalUnitForFunction(n).empty()) return {Form::kInterval, kPrimary, nullptr};
  }
  if (n == "array") return {Form::kArray, kPrimary, nullptr};
  if (n == "tuple" && argc >= 2) return {Form::kTuple, kPrimary, nullptr};
  if (n == "multiIf" && argc >= 3 && argc % 2 == 1) return {Form::kCase, kPrimary, nullptr};
  if (n == "caseWithExpression" && argc >= 4 && argc % 2 == 0) {
    return {Form::kCaseOperand, kPrimary, nullptr};
  }
  return info;
}

int Precedence(const Expr& e) {
  if (!e.alias.empty()) return kAliased;
  switch (e.kind) {
    case ExprKind::kLiteral:
      if (e.literal_kind == LiteralKind::kInt64 && e.int_value < 0) return kUnary;
      if (e.literal_kind == LiteralKind::kFloat64 && std::signbit(e.float_value) &&
          !std::isnan(e.float_value)) {
        return kUnary;
      }
      return kPrimary;
    case ExprKind::kLambda:
      return kLambda;
    case ExprKind::kFunction:
      return GetForm(e).prec;
    default:
      return kPrimary;
  }
}

std::string FormatFloat(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  char buf[64];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), d);
  std::string out(buf, ec == std::errc() ? ptr : buf);
  // Keep it a float when read back: "1" -> "1." (as ClickHouse prints it).
  if (out.find_first_of(".e") == std::string::npos) out += '.';
  return out;
}

std::string FormatLiteral(const Expr& e) {
  switch (e.literal_kind) {
    case LiteralKind::kNull:
      return "NULL";
    case LiteralKind::kUInt64:
      return std::to_string(e.uint_value);
    case LiteralKind::kInt64:
      return std::to_string(e.int_value);
    case LiteralKind::kFloat64:
      return FormatFloat(e.float_value);
    case LiteralKind::kString:
      return QuoteString(e.string_value);
    case LiteralKind::kBool:
      return e.bool_value ? "true" : "false";
  }
  return "NULL";
}

std::string FormatName(std::string_view name) { return QuoteIdentifierIfNeeded(name); }

std::string FormatFunctionName(std::string_view name) {
  // Words the parser reads as something other than a call when followed by '('.
  static constexpr std::string_view kSpecial[] = {"NOT",  "CASE",  "NULL",
                                                  "TRUE", "FALSE", "INTERVAL"};
  std::string upper(name);
  for (char& c : upper) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  bool quote = !IsPlainWord(name) || IsClauseKeyword(name) ||
               (upper == "CAST" && name != "CAST");  // CAST( always reads back as "CAST"
  for (std::string_view s : kSpecial) quote = quote || upper == s;
  return quote ? QuoteIdentifier(name) : std::string(name);
}

std::string FormatDottedName(const std::vector<std::string>& parts) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += '.';
    out += FormatName(parts[i]);
  }
  return out;
}

std::string FormatQualified(const std::string& database, const std::string& name) {
  if (database.empty()) return FormatName(name);
  return FormatName(database) + "." + FormatName(name);
}

std::string FormatExprAt(const Expr& e, int min_prec);

class Writer {
 public:
  std::string& out() { return out_; }

  // `e` with parentheses when its precedence is below min_prec.
  void WriteExpr(const sql::Expr& e, int min_prec) {
    bool parens = Precedence(e) < min_prec;
    if (parens) out_ += '(';
    WriteBody(e);
    if (!e.alias.empty()) {
      out_ += " AS ";
      out_ += FormatName(e.alias);
    }
    if (parens) out_ += ')';
  }

  void WriteList(const ExprList& list, int min_prec) {
    for (size_t i = 0; i < list.size(); ++i) {
      if (i) out_ += ", ";
      WriteExpr(*list[i], min_prec);
    }
  }

  void WriteSelect(const SelectUnion& u);
  void WriteSelectBlock(const SelectQuery& q);
  void WriteSettings(const std::vector<Setting>& settings);
  void WriteSettingValue(const sql::Expr& e);
  void WriteColumn(const ColumnDef& c);
  void WriteTtl(const std::vector<TtlElement>& ttl);
  void WriteEngine(const EngineDef& engine);
  void WriteStatement(const sql::Statement& stmt);
  void WriteTail(const sql::Statement& stmt, bool with_settings);

 private:
  void WriteBody(const sql::Expr& e);
  void WriteFunction(const sql::Expr& e);
  void WriteCall(const sql::Expr& e);
  void WriteIntervalOperand(const sql::Expr& e);

  std::string out_;
};

void Writer::WriteBody(const sql::Expr& e) {
  switch (e.kind) {
    case ExprKind::kLiteral:
      out_ += FormatLiteral(e);
      return;
    case ExprKind::kIdentifier:
      out_ += FormatDottedName(e.parts);
      return;
    case ExprKind::kAsterisk:
      if (!e.parts.empty()) out_ += FormatDottedName(e.parts) + ".";
      out_ += '*';
      return;
    case ExprKind::kParameter:
      out_ += '{';
      out_ += FormatName(e.name);
      out_ += ':';
      out_ += e.type;
      out_ += '}';
      return;
    case ExprKind::kSubquery:
      out_ += '(';
      if (e.subquery) WriteSelect(*e.subquery);
      out_ += ')';
      return;
    case ExprKind::kLambda:
      if (e.lambda_params.size() == 1) {
        out_ += FormatName(e.lambda_params[0]);
      } else {
        out_ += '(';
        for (size_t i = 0; i < e.lambda_params.size(); ++i) {
          if (i) out_ += ", ";
          out_ += FormatName(e.lambda_params[i]);
        }
        out_ += ')';
      }
      out_ += " -> ";
      if (!e.args.empty()) WriteExpr(*e.args[0], kLambda);
      return;
    case ExprKind::kFunction:
      WriteFunction(e);
      return;
  }
}

void Writer::WriteCall(const sql::Expr& e) {
  // CAST( always reads back through CAST's own syntax, which needs a plain first argument.
  bool odd_cast = e.name == "CAST" && (e.args.empty() || e.has_params || e.distinct);
  out_ += odd_cast ? QuoteIdentifier(e.name) : FormatFunctionName(e.name);
  if (e.has_params) {
    out_ += '(';
    WriteList(e.params, kLambda);
    out_ += ')';
  }
  out_ += '(';
  if (e.distinct) out_ += "DISTINCT ";
  if (e.name == "CAST" && !e.args.empty()) {
    // `CAST(x AS y, ...)` would read as CAST(x AS <type y>): keep an alias in parentheses.
    WriteExpr(*e.args[0], kLambda);
    for (size_t i = 1; i < e.args.size(); ++i) {
      out_ += ", ";
      WriteExpr(*e.args[i], kAliased);
    }
  } else {
    WriteList(e.args, kAliased);
  }
  out_ += ')';
}

void Writer::WriteIntervalOperand(const sql::Expr& e) {
  // Operands that read back unambiguously after INTERVAL; anything else goes in parentheses.
  bool bare = false;
  if (e.alias.empty()) {
    if (e.kind == ExprKind::kLiteral) {
      bare = IsNumericLiteral(e) || e.literal_kind == LiteralKind::kString;
    } else if (e.kind == ExprKind::kParameter) {
      bare = true;
    } else if (e.kind == ExprKind::kIdentifier && !e.parts.empty()) {
      // INTERVAL reads as an operator only before a word that cannot follow an expression.
      bare = FormatName(e.parts[0]).front() == '`' || !IsRestrictedAlias(e.parts[0]);
    } else if (e.kind == ExprKind::kFunction && GetForm(e).form == Form::kCall) {
      bare = FormatFunctionName(e.name).front() == '`' || !IsRestrictedAlias(e.name);
    }
  }
  if (bare) {
    WriteExpr(e, kUnary);
  } else {
    out_ += '(';
    WriteExpr(e, kAliased);
    out_ += ')';
  }
}

void Writer::WriteFunction(const sql::Expr& e) {
  FormInfo f = GetForm(e);
  const ExprList& a = e.args;
  switch (f.form) {
    case Form::kCall:
      WriteCall(e);
      return;
    case Form::kBinary:
      WriteExpr(*a[0], f.prec);
      out_ += f.op->text;
      WriteExpr(*a[1], f.prec + 1);
      return;
    case Form::kIn: {
      WriteExpr(*a[0], kCompare);
      out_ += e.name == "in" ? " IN " : " NOT IN ";
      const sql::Expr& rhs = *a[1];
      if (rhs.IsFunction("tuple") && !rhs.has_params && !rhs.distinct) {
        out_ += '(';
        WriteList(rhs.args, kAliased);
        out_ += ')';
      } else {
        WriteExpr(rhs, kConcat);
      }
      return;
    }
    case Form::kNary:
      for (size_t i = 0; i < a.size(); ++i) {
        if (i) out_ += f.prec == kAnd ? " AND " : " OR ";
        WriteExpr(*a[i], f.prec + 1);
      }
      return;
    case Form::kNot:
      out_ += "NOT ";
      WriteExpr(*a[0], kNot);
      return;
    case Form::kNegate: {
      const sql::Expr& arg = *a[0];
      // -(5) is not the literal -5, and --x would start a comment.
      bool wrap = IsPlain(arg) && (IsNumericLiteral(arg) || arg.IsFunction("negate"));
      out_ += '-';
      if (wrap) {
        out_ += '(';
        WriteExpr(arg, kAliased);
        out_ += ')';
      } else {
        WriteExpr(arg, kUnary);
      }
      return;
    }
    case Form::kIsNull:
      WriteExpr(*a[0], kCompare);
      out_ += e.name == "isNull" ? " IS NULL" : " IS NOT NULL";
      return;
    case Form::kArrayElement:
      WriteExpr(*a[0], kPostfix);
      out_ += '[';
      WriteExpr(*a[1], kLambda);
      out_ += ']';
      return;
    case Form::kTupleElement:
      // `5.1` and `*.1` would lex as numbers: parenthesize such bases.
      if ((a[0]->kind == ExprKind::kLiteral || a[0]->kind == ExprKind::kAsterisk) &&
          IsPlain(*a[0])) {
        out_ += '(';
        WriteExpr(*a[0], kAliased);
        out_ += ')';
      } else {
        WriteExpr(*a[0], kPostfix);
      }
      out_ += '.';
      out_ += std::to_string(a[1]->uint_value);
      return;
    case Form::kArray:
      out_ += '[';
      WriteList(a, kAliased);
      out_ += ']';
      return;
    case Form::kTuple:
      out_ += '(';
      WriteList(a, kAliased);
      out_ += ')';
      return;
    case Form::kInterval:
      out_ += "INTERVAL ";
      WriteIntervalOperand(*a[0]);
      out_ += ' ';
      out_ += IntervalUnitForFunction(e.name);
      return;
    case Form::kCase:
    case Form::kCaseOperand: {
      out_ += "CASE";
      size_t i = 0;
      if (f.form == Form::kCaseOperand) {
        out_ += ' ';
        WriteExpr(*a[0], kLambda);
        i = 1;
      }
      for (; i + 1 < a.size(); i += 2) {
        out_ += " WHEN ";
        WriteExpr(*a[i], kLambda);
        out_ += " THEN ";
        WriteExpr(*a[i + 1], kLambda);
      }
      out_ += " ELSE ";
      WriteExpr(*a.back(), kLambda);
      out_ += " END";
      return;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// SELECT

void Writer::WriteSelect(const SelectUnion& u) {
  for (size_t i = 0; i < u.selects.size(); ++i) {
    if (i) out_ += " UNION ALL ";
    WriteSelectBlock(*u.selects[i]);
  }
}

void Writer::WriteSelectBlock(const SelectQuery& q) {
  if (!q.with.empty()) {
    out_ += "WITH ";
    for (size_t i = 0; i < q.with.size(); ++i) {
      if (i) out_ += ", ";
      const WithItem& w = q.with[i];
      if (w.is_cte && w.expr->kind == ExprKind::kSubquery) {
        out_ += FormatName(w.expr->alias);
        out_ += " AS (";
        if (w.expr->subquery) WriteSelect(*w.expr->subquery);
        out_ += ')';
      } else {
        WriteExpr(*w.expr, kAliased);
      }
    }
    out_ += ' ';
  }
  out_ += "SELECT ";
  if (q.distinct) out_ += "DISTINCT ";
  WriteList(q.columns, kAliased);
  if (q.from) {
    const TableExpr& t = *q.from;
    out_ += " FROM ";
    switch (t.kind) {
      case TableExpr::Kind::kTable:
        out_ += FormatQualified(t.database, t.table);
        break;
      case TableExpr::Kind::kSubquery:
        out_ += '(';
        if (t.subquery) WriteSelect(*t.subquery);
        out_ += ')';
        break;
      case TableExpr::Kind::kFunction:
        if (t.function) WriteCall(*t.function);
        break;
    }
    if (!t.alias.empty()) out_ += " AS " + FormatName(t.alias);
    if (t.final) out_ += " FINAL";
  }
  if (q.prewhere) {
    out_ += " PREWHERE ";
    WriteExpr(*q.prewhere, kAliased);
  }
  if (q.where) {
    out_ += " WHERE ";
    WriteExpr(*q.where, kAliased);
  }
  if (!q.group_by.empty()) {
    out_ += " GROUP BY ";
    WriteList(q.group_by, kAliased);
  }
  if (q.group_by_with_totals) out_ += " WITH TOTALS";
  if (q.having) {
    out_ += " HAVING ";
    WriteExpr(*q.having, kAliased);
  }
  if (!q.order_by.empty()) {
    out_ += " ORDER BY ";
    for (size_t i = 0; i < q.order_by.size(); ++i) {
      const OrderByItem& o = q.order_by[i];
      if (i) out_ += ", ";
      WriteExpr(*o.expr, kAliased);
      if (o.descending) out_ += " DESC";
      if (o.nulls == OrderByItem::Nulls::kFirst) out_ += " NULLS FIRST";
      if (o.nulls == OrderByItem::Nulls::kLast) out_ += " NULLS LAST";
      if (!o.collation.empty()) out_ += " COLLATE " + QuoteString(o.collation);
      if (o.with_fill) {
        out_ += " WITH FILL";
        if (o.fill_from) {
          out_ += " FROM ";
          WriteExpr(*o.fill_from, kLambda);
        }
        if (o.fill_to) {
          out_ += " TO ";
          WriteExpr(*o.fill_to, kLambda);
        }
        if (o.fill_step) {
          out_ += " STEP ";
          WriteExpr(*o.fill_step, kLambda);
        }
      }
    }
  }
  if (q.limit_by_length) {
    out_ += " LIMIT ";
    WriteExpr(*q.limit_by_length, kLambda);
    if (q.limit_by_offset) {
      out_ += " OFFSET ";
      WriteExpr(*q.limit_by_offset, kLambda);
    }
    out_ += " BY ";
    WriteList(q.limit_by, kAliased);
  }
  if (q.limit_length) {
    out_ += " LIMIT ";
    WriteExpr(*q.limit_length, kLambda);
  }
  if (q.limit_offset) {
    out_ += " OFFSET ";
    WriteExpr(*q.limit_offset, kLambda);
  }
  if (!q.settings.empty()) {
    out_ += " SETTINGS ";
    WriteSettings(q.settings);
  }
}

void Writer::WriteSettings(const std::vector<Setting>& settings) {
  for (size_t i = 0; i < settings.size(); ++i) {
    if (i) out_ += ", ";
    out_ += FormatName(settings[i].name);
    out_ += " = ";
    if (settings[i].value) WriteSettingValue(*settings[i].value);
  }
}

void Writer::WriteSettingValue(const sql::Expr& e) {
  // Mirrors Parser::ParseLiteralValue: literals, [..] and (..) of literals.
  if (e.IsFunction("array") || e.IsFunction("tuple")) {
    bool array = e.name == "array";
    out_ += array ? '[' : '(';
    for (size_t i = 0; i < e.args.size(); ++i) {
      if (i) out_ += ", ";
      WriteSettingValue(*e.args[i]);
    }
    out_ += array ? ']' : ')';
    return;
  }
  if (e.kind == ExprKind::kLiteral) {
    out_ += FormatLiteral(e);
  } else {
    WriteExpr(e, kAliased);
  }
}

// ---------------------------------------------------------------------------------------------
// Statements

void Writer::WriteColumn(const ColumnDef& c) {
  out_ += QuoteIdentifier(c.name);
  if (!c.type.empty()) {
    out_ += ' ';
    out_ += c.type;
  }
  if (c.default_kind != ColumnDefaultKind::kNone) {
    out_ += ' ';
    out_ += ColumnDefaultKindName(c.default_kind);
    if (c.default_expr) {
      out_ += ' ';
      // After a bare EPHEMERAL a modifier word (`EPHEMERAL default`) would read as the next
      // modifier; parenthesize such an expression.
      std::string expr = FormatExprAt(*c.default_expr, kLambda);
      std::string_view first_word(expr);
      first_word = first_word.substr(0, first_word.find_first_of(" ()[],.:'`{"));
      if (c.default_kind == ColumnDefaultKind::kEphemeral && IsColumnModifierKeyword(first_word)) {
        expr = "(" + expr + ")";
      }
      out_ += expr;
    }
  }
  if (!c.comment.empty()) out_ += " COMMENT " + QuoteString(c.comment);
  if (!c.codecs.empty()) {
    out_ += " CODEC(";
    WriteList(c.codecs, kLambda);
    out_ += ')';
  }
  if (c.ttl) {
    out_ += " TTL ";
    WriteExpr(*c.ttl, kLambda);
  }
}

void Writer::WriteTtl(const std::vector<TtlElement>& ttl) {
  for (size_t i = 0; i < ttl.size(); ++i) {
    if (i) out_ += ", ";
    WriteExpr(*ttl[i].expr, kLambda);
    if (ttl[i].where) {
      out_ += " WHERE ";
      WriteExpr(*ttl[i].where, kLambda);
    }
  }
}

void Writer::WriteEngine(const EngineDef& engine) {
  out_ += "ENGINE = ";
  out_ += FormatName(engine.name);
  if (!engine.args.empty()) {
    out_ += '(';
    WriteList(engine.args, kLambda);
    out_ += ')';
  }
}

void Writer::WriteTail(const sql::Statement& stmt, bool with_settings) {
  if (!stmt.format.empty()) out_ += " FORMAT " + FormatName(stmt.format);
  if (with_settings && !stmt.settings.empty()) {
    out_ += " SETTINGS ";
    WriteSettings(stmt.settings);
  }
}

void Writer::WriteStatement(const sql::Statement& stmt) {
  switch (stmt.kind) {
    case StatementKind::kSelect: {
      const auto& s = *stmt.As<SelectStmt>();
      if (s.query) WriteSelect(*s.query);
      WriteTail(stmt, true);
      return;
    }
    case StatementKind::kInsert: {
      const auto& s = *stmt.As<InsertStmt>();
      out_ += "INSERT INTO " + FormatQualified(s.database, s.table);
      if (!s.columns.empty()) {
        out_ += " (";
        for (size_t i = 0; i < s.columns.size(); ++i) {
          if (i) out_ += ", ";
          // Dotted (Nested) column names print part by part.
          std::string_view name = s.columns[i];
          std::vector<std::string> parts;
          size_t start = 0;
          while (true) {
            size_t dot = name.find('.', start);
            parts.emplace_back(name.substr(start, dot - start));
            if (dot == std::string_view::npos) break;
            start = dot + 1;
          }
          bool ok = true;
          for (const auto& p : parts) ok = ok && !p.empty();
          out_ += ok ? FormatDottedName(parts) : QuoteIdentifier(name);
        }
        out_ += ')';
      }
      if (!s.settings.empty()) {
        out_ += " SETTINGS ";
        WriteSettings(s.settings);
      }
      switch (s.source) {
        case InsertStmt::Source::kFormat:
          out_ += " FORMAT " + FormatName(s.data_format);
          break;
        case InsertStmt::Source::kValues:
          out_ += " VALUES";
          break;
        case InsertStmt::Source::kSelect:
          out_ += ' ';
          if (s.select) WriteSelect(*s.select);
          break;
      }
      return;
    }
    case StatementKind::kCreateDatabase: {
      const auto& s = *stmt.As<CreateDatabaseStmt>();
      out_ += "CREATE DATABASE ";
      if (s.if_not_exists) out_ += "IF NOT EXISTS ";
      out_ += FormatName(s.name);
      if (s.engine) {
        out_ += ' ';
        WriteEngine(*s.engine);
      }
      if (!s.comment.empty()) out_ += " COMMENT " + QuoteString(s.comment);
      return;
    }
    case StatementKind::kCreateTable: {
      const auto& s = *stmt.As<CreateTableStmt>();
      out_ += "CREATE TABLE ";
      if (s.if_not_exists) out_ += "IF NOT EXISTS ";
      out_ += FormatQualified(s.database, s.table);
      if (!s.columns.empty()) {
        out_ += "\n(\n";
        for (size_t i = 0; i < s.columns.size(); ++i) {
          out_ += "    ";
          WriteColumn(s.columns[i]);
          out_ += i + 1 < s.columns.size() ? ",\n" : "\n";
        }
        out_ += ')';
      }
      if (!s.as_table.empty()) out_ += " AS " + FormatQualified(s.as_database, s.as_table);
      if (s.engine) {
        out_ += '\n';
        WriteEngine(*s.engine);
      }
      auto clause = [this](const char* name, const ExprPtr& e) {
        if (!e) return;
        out_ += '\n';
        out_ += name;
        out_ += ' ';
        WriteExpr(*e, kLambda);
      };
      clause("PARTITION BY", s.partition_by);
      clause("PRIMARY KEY", s.primary_key);
      clause("ORDER BY", s.order_by);
      clause("SAMPLE BY", s.sample_by);
      if (!s.ttl.empty()) {
        out_ += "\nTTL ";
        WriteTtl(s.ttl);
      }
      if (!s.settings.empty()) {
        out_ += "\nSETTINGS ";
        WriteSettings(s.settings);
      }
      if (!s.comment.empty()) out_ += "\nCOMMENT " + QuoteString(s.comment);
      if (s.as_select) {
        out_ += "\nAS ";
        WriteSelect(*s.as_select);
      }
      return;
    }
    case StatementKind::kDropTable: {
      const auto& s = *stmt.As<DropTableStmt>();
      out_ += "DROP TABLE ";
      if (s.if_exists) out_ += "IF EXISTS ";
      out_ += FormatQualified(s.database, s.table);
      if (s.sync) out_ += " SYNC";
      WriteTail(stmt, true);
      return;
    }
    case StatementKind::kDropDatabase: {
      const auto& s = *stmt.As<DropDatabaseStmt>();
      out_ += "DROP DATABASE ";
      if (s.if_exists) out_ += "IF EXISTS ";
      out_ += FormatName(s.name);
      if (s.sync) out_ += " SYNC";
      WriteTail(stmt, true);
      return;
    }
    case StatementKind::kTruncateTable: {
      const auto& s = *stmt.As<TruncateTableStmt>();
      out_ += "TRUNCATE TABLE ";
      if (s.if_exists) out_ += "IF EXISTS ";
      out_ += FormatQualified(s.database, s.table);
      WriteTail(stmt, true);
      return;
    }
    case StatementKind::kRenameTable: {
      const auto& s = *stmt.As<RenameTableStmt>();
      out_ += "RENAME TABLE ";
      for (size_t i = 0; i < s.renames.size(); ++i) {
        const auto& r = s.renames[i];
        if (i) out_ += ", ";
        out_ += FormatQualified(r.from_database, r.from_table) + " TO " +
                FormatQualified(r.to_database, r.to_table);
      }
      WriteTail(stmt, true);
      return;
    }
    case StatementKind::kAlterTable: {
      const auto& s = *stmt.As<AlterTableStmt>();
      out_ += "ALTER TABLE " + FormatQualified(s.database, s.table) + " ";
      for (size_t i = 0; i < s.commands.size(); ++i) {
        const AlterCommand& c = s.commands[i];
        if (i) out_ += ", ";
        auto placement = [this, &c] {
          if (!c.after.empty()) out_ += " AFTER " + FormatName(c.after);
          if (c.first) out_ += " FIRST";
        };
        switch (c.kind) {
          case AlterCommandKind::kAddColumn:
            out_ += "ADD COLUMN ";
            if (c.if_not_exists) out_ += "IF NOT EXISTS ";
            WriteColumn(c.column);
            placement();
            break;
          case AlterCommandKind::kDropColumn:
            out_ += "DROP COLUMN ";
            if (c.if_exists) out_ += "IF EXISTS ";
            out_ += FormatName(c.column_name);
            break;
          case AlterCommandKind::kModifyColumn:
            out_ += "MODIFY COLUMN ";
            if (c.if_exists) out_ += "IF EXISTS ";
            WriteColumn(c.column);
            placement();
            break;
          case AlterCommandKind::kRenameColumn:
            out_ += "RENAME COLUMN ";
            if (c.if_exists) out_ += "IF EXISTS ";
            out_ += FormatName(c.column_name) + " TO " + FormatName(c.new_name);
            break;
          case AlterCommandKind::kCommentColumn:
            out_ += "COMMENT COLUMN ";
            if (c.if_exists) out_ += "IF EXISTS ";
            out_ += FormatName(c.column_name) + " " + QuoteString(c.comment);
            break;
          case AlterCommandKind::kModifyTtl:
            out_ += "MODIFY TTL ";
            WriteTtl(c.ttl);
            break;
          case AlterCommandKind::kRemoveTtl:
            out_ += "REMOVE TTL";
            break;
          case AlterCommandKind::kDropPartition:
            out_ += "DROP PARTITION ";
            if (c.partition) {
              WriteExpr(*c.partition, kLambda);
            } else {
              out_ += "ID " + QuoteString(c.partition_id);
            }
            break;
          case AlterCommandKind::kDelete:
            out_ += "DELETE WHERE ";
            if (c.predicate) WriteExpr(*c.predicate, kLambda);
            break;
          case AlterCommandKind::kUpdate:
            out_ += "UPDATE ";
            for (size_t j = 0; j < c.assignments.size(); ++j) {
              if (j) out_ += ", ";
              out_ += FormatName(c.assignments[j].column) + " = ";
              WriteExpr(*c.assignments[j].value, kLambda);
            }
            out_ += " WHERE ";
            if (c.predicate) WriteExpr(*c.predicate, kLambda);
            break;
          case AlterCommandKind::kModifySetting:
            out_ += "MODIFY SETTING ";
            WriteSettings(c.settings);
            break;
          case AlterCommandKind::kResetSetting:
            out_ += "RESET SETTING ";
            for (size_t j = 0; j < c.setting_names.size(); ++j) {
              if (j) out_ += ", ";
              out_ += FormatName(c.setting_names[j]);
            }
            break;
          case AlterCommandKind::kModifyComment:
            out_ += "MODIFY COMMENT " + QuoteString(c.comment);
            break;
        }
      }
      WriteTail(stmt, true);
      return;
    }
    case StatementKind::kOptimize: {
      const auto& s = *stmt.As<OptimizeStmt>();
      out_ += "OPTIMIZE TABLE " + FormatQualified(s.database, s.table);
      if (s.partition) {
        out_ += " PARTITION ";
        WriteExpr(*s.partition, kLambda);
      } else if (!s.partition_id.empty()) {
        out_ += " PARTITION ID " + QuoteString(s.partition_id);
      }
      if (s.final) out_ += " FINAL";
      if (s.deduplicate) out_ += " DEDUPLICATE";
      WriteTail(stmt, true);
      return;
    }
    case StatementKind::kShowTables:
    case StatementKind::kShowDatabases: {
      const ShowFilter* filter;
      const ExprPtr* limit;
      if (const auto* s = stmt.As<ShowTablesStmt>()) {
        out_ += "SHOW TABLES";
        if (!s->database.empty()) out_ += " FROM " + FormatName(s->database);
        filter = &s->filter;
        limit = &s->limit;
      } else {
        const auto* d = stmt.As<ShowDatabasesStmt>();
        out_ += "SHOW DATABASES";
        filter = &d->filter;
        limit = &d->limit;
      }
      if (filter->present) {
        out_ += filter->negated ? " NOT" : "";
        out_ += filter->case_insensitive ? " ILIKE " : " LIKE ";
        out_ += QuoteString(filter->pattern);
      }
      if (*limit) {
        out_ += " LIMIT ";
        WriteExpr(**limit, kLambda);
      }
      WriteTail(stmt, true);
      return;
    }
    case StatementKind::kShowCreateTable: {
      const auto& s = *stmt.As<ShowCreateTableStmt>();
      out_ += "SHOW CREATE TABLE " + FormatQualified(s.database, s.table);
      WriteTail(stmt, true);
      return;
    }
    case StatementKind::kDescribe: {
      const auto& s = *stmt.As<DescribeStmt>();
      out_ += "DESCRIBE TABLE " + FormatQualified(s.database, s.table);
      WriteTail(stmt, true);
      return;
    }
    case StatementKind::kExists: {
      const auto& s = *stmt.As<ExistsStmt>();
      if (s.is_database) {
        out_ += "EXISTS DATABASE " + FormatName(s.database);
      } else {
        out_ += "EXISTS TABLE " + FormatQualified(s.database, s.table);
      }
      WriteTail(stmt, true);
      return;
    }
    case StatementKind::kUse:
      out_ += "USE " + FormatName(stmt.As<UseStmt>()->database);
      return;
    case StatementKind::kSet:
      out_ += "SET ";
      WriteSettings(stmt.settings);
      return;
    case StatementKind::kSystem: {
      out_ += "SYSTEM";
      for (const auto& w : stmt.As<SystemStmt>()->words) out_ += " " + w;
      return;
    }
    case StatementKind::kKillQuery: {
      const auto& s = *stmt.As<KillQueryStmt>();
      out_ += "KILL QUERY WHERE ";
      if (s.where) WriteExpr(*s.where, kLambda);
      if (!s.mode.empty()) out_ += " " + s.mode;
      WriteTail(stmt, true);
      return;
    }
  }
}

std::string FormatExprAt(const Expr& e, int min_prec) {
  Writer w;
  w.WriteExpr(e, min_prec);
  return std::move(w.out());
}

// ---------------------------------------------------------------------------------------------
// Column names

// Whether array/tuple `e` is made only of literals, so ClickHouse names it as a literal.
bool IsLiteralCollection(const sql::Expr& e) {
  if (e.kind == ExprKind::kLiteral) return true;
  if (e.kind != ExprKind::kFunction || e.has_params || e.distinct) return false;
  if (e.name != "array" && e.name != "tuple") return false;
  if (e.args.empty()) return false;
  for (const auto& a : e.args) {
    if (!IsLiteralCollection(*a)) return false;
  }
  return true;
}

void AppendColumnName(const sql::Expr& e, std::string* out) {
  switch (e.kind) {
    case ExprKind::kLiteral:
      *out += FormatLiteral(e);
      return;
    case ExprKind::kIdentifier:
      for (size_t i = 0; i < e.parts.size(); ++i) {
        if (i) *out += '.';
        *out += e.parts[i];
      }
      return;
    case ExprKind::kAsterisk:
      for (const auto& p : e.parts) *out += p + ".";
      *out += '*';
      return;
    case ExprKind::kParameter:
      *out += "{" + e.name + ":" + e.type + "}";
      return;
    case ExprKind::kSubquery:
      *out += FormatExpr(e);
      return;
    case ExprKind::kLambda:
      *out += "lambda(tuple(";
      for (size_t i = 0; i < e.lambda_params.size(); ++i) {
        if (i) *out += ", ";
        *out += e.lambda_params[i];
      }
      *out += "), ";
      if (!e.args.empty()) AppendColumnName(*e.args[0], out);
      *out += ')';
      return;
    case ExprKind::kFunction:
      break;
  }
  if (IsLiteralCollection(e)) {
    bool array = e.name == "array";
    *out += array ? '[' : '(';
    for (size_t i = 0; i < e.args.size(); ++i) {
      if (i) *out += ", ";
      AppendColumnName(*e.args[i], out);
    }
    *out += array ? ']' : ')';
    return;
  }
  *out += e.name;
  if (e.distinct) *out += "Distinct";
  if (e.has_params) {
    *out += '(';
    for (size_t i = 0; i < e.params.size(); ++i) {
      if (i) *out += ", ";
      AppendColumnName(*e.params[i], out);
    }
    *out += ')';
  }
  *out += '(';
  for (size_t i = 0; i < e.args.size(); ++i) {
    if (i) *out += ", ";
    AppendColumnName(*e.args[i], out);
  }
  *out += ')';
}

}  // namespace

std::string FormatExpr(const Expr& expr) {
  Writer w;
  w.WriteExpr(expr, kAliased);
  return std::move(w.out());
}

std::string FormatStatement(const Statement& stmt) {
  Writer w;
  w.WriteStatement(stmt);
  return std::move(w.out());
}

std::string FormatSelect(const SelectUnion& query) {
  Writer w;
  w.WriteSelect(query);
  return std::move(w.out());
}

std::string ExprColumnName(const Expr& expr) {
  std::string out;
  AppendColumnName(expr, &out);
  return out;
}

}  // namespace trackhouse::sql
