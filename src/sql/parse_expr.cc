// Expressions and data types. Precedence, lowest first: lambda `->`, `?:`, then the binary
// levels of ParseBinary (OR, AND, NOT, comparison = != < <= > >= LIKE ILIKE IN BETWEEN IS NULL,
// `||`, `+ -`, `* / % DIV MOD`), unary `-`, postfix (`[i]`, `.N`, `::Type`).
#include <charconv>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include "sql/interval.h"
#include "sql/keywords.h"
#include "sql/parser_impl.h"

namespace trackhouse::sql {
namespace {

ExprPtr Unary(std::string name, ExprPtr arg, size_t pos) {
  ExprList args;
  args.push_back(std::move(arg));
  return MakeFunction(std::move(name), std::move(args), pos);
}

ExprPtr Binary(std::string name, ExprPtr lhs, ExprPtr rhs) {
  size_t pos = lhs->pos;
  ExprList args;
  args.push_back(std::move(lhs));
  args.push_back(std::move(rhs));
  return MakeFunction(std::move(name), std::move(args), pos);
}

bool IsNameToken(const Token& t) {
  return t.Is(TokenKind::kBareWord) || t.Is(TokenKind::kQuotedIdentifier);
}

// inf / infinity / nan written as a bare word.
bool IsSpecialFloatWord(const Token& t) {
  return t.IsKeyword("INF") || t.IsKeyword("INFINITY") || t.IsKeyword("NAN");
}

double SpecialFloatValue(const Token& t) {
  return t.IsKeyword("NAN") ? std::numeric_limits<double>::quiet_NaN()
                            : std::numeric_limits<double>::infinity();
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

bool StartsPostfix(const Token& t) {
  return t.Is(TokenKind::kOpenBracket) || t.Is(TokenKind::kDot) || t.Is(TokenKind::kDoubleColon);
}

bool ParseUnsigned(std::string_view digits, int base, uint64_t* out) {
  if (digits.empty()) return false;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), *out, base);
  return ec == std::errc() && ptr == digits.data() + digits.size();
}

bool ParseDouble(std::string_view text, double* out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  if (ec == std::errc::result_out_of_range) {
    // Overflow or underflow: from_chars leaves *out unchanged; pick the limit.
    bool tiny =
        text.find("e-") != std::string_view::npos || text.find("E-") != std::string_view::npos;
    *out = tiny ? 0.0 : std::numeric_limits<double>::infinity();
    return true;
  }
  return ec == std::errc() && ptr == text.data() + text.size();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Entry points and the precedence ladder

Result<ExprPtr> Parser::ParseExpr() {
  DepthScope depth(this);
  TH_RETURN_IF_ERROR(depth.Enter());
  TH_ASSIGN_OR_RETURN(ExprPtr lhs, ParseTernary());
  if (!Peek().Is(TokenKind::kArrow)) return lhs;

  // `x -> ...` or `(x, y) -> ...`: the parameters were parsed as an identifier or a tuple.
  auto is_param = [](const Expr& e) {
    return e.kind == ExprKind::kIdentifier && e.parts.size() == 1 && e.alias.empty();
  };
  std::vector<std::string> params;
  if (is_param(*lhs)) {
    params.push_back(lhs->parts[0]);
  } else if (lhs->IsFunction("tuple") && lhs->alias.empty() && !lhs->args.empty()) {
    for (const auto& arg : lhs->args) {
      if (!is_param(*arg)) break;
      params.push_back(arg->parts[0]);
    }
    if (params.size() != lhs->args.size()) params.clear();
  }
  if (params.empty()) return SyntaxError("lambda parameters (identifiers) before '->'");
  Next();  // ->
  TH_ASSIGN_OR_RETURN(ExprPtr body, ParseExpr());
  auto lambda = std::make_unique<Expr>();
  lambda->kind = ExprKind::kLambda;
  lambda->pos = lhs->pos;
  lambda->lambda_params = std::move(params);
  lambda->args.push_back(std::move(body));
  return lambda;
}

Result<ExprPtr> Parser::ParseExprWithAlias(bool allow_implicit_alias) {
  TH_ASSIGN_OR_RETURN(ExprPtr e, ParseExpr());
  if (AcceptKeyword("AS")) {
    TH_ASSIGN_OR_RETURN(e->alias, ParseName("alias"));
  } else if (allow_implicit_alias && e->kind != ExprKind::kAsterisk) {
    const Token t = Peek();
    if ((t.Is(TokenKind::kBareWord) && !IsRestrictedAlias(t.text)) ||
        t.Is(TokenKind::kQuotedIdentifier)) {
      TH_ASSIGN_OR_RETURN(e->alias, ParseName("alias"));
    }
  }
  return e;
}

Result<ExprList> Parser::ParseExprList(bool allow_alias) {
  ExprList out;
  do {
    Result<ExprPtr> e = allow_alias ? ParseExprWithAlias(false) : ParseExpr();
    if (!e.ok()) return e.status();
    out.push_back(std::move(e).value());
  } while (Accept(TokenKind::kComma));
  return out;
}

Result<ExprPtr> Parser::ParseTernary() {
  TH_ASSIGN_OR_RETURN(ExprPtr cond, ParseBinary(kPrecOr));
  if (!Peek().Is(TokenKind::kQuestion)) return cond;
  DepthScope depth(this);
  TH_RETURN_IF_ERROR(depth.Enter());
  Next();
  TH_ASSIGN_OR_RETURN(ExprPtr then_branch, ParseTernary());
  TH_RETURN_IF_ERROR(Expect(TokenKind::kColon));
  TH_ASSIGN_OR_RETURN(ExprPtr else_branch, ParseTernary());
  size_t pos = cond->pos;
  ExprList args;
  args.push_back(std::move(cond));
  args.push_back(std::move(then_branch));
  args.push_back(std::move(else_branch));
  return MakeFunction("if", std::move(args), pos);
}

InfixOperator Parser::PeekInfix() {
  const Token t = Peek();
  switch (t.kind) {
    case TokenKind::kEquals:
      return {kPrecCompare, "equals"};
    case TokenKind::kNotEquals:
      return {kPrecCompare, "notEquals"};
    case TokenKind::kLess:
      return {kPrecCompare, "less"};
    case TokenKind::kLessOrEquals:
      return {kPrecCompare, "lessOrEquals"};
    case TokenKind::kGreater:
      return {kPrecCompare, "greater"};
    case TokenKind::kGreaterOrEquals:
      return {kPrecCompare, "greaterOrEquals"};
    case TokenKind::kConcat:
      return {kPrecConcat, "concat"};
    case TokenKind::kPlus:
      return {kPrecAdditive, "plus"};
    case TokenKind::kMinus:
      return {kPrecAdditive, "minus"};
    case TokenKind::kAsterisk:
      return {kPrecMultiplicative, "multiply"};
    case TokenKind::kSlash:
      return {kPrecMultiplicative, "divide"};
    case TokenKind::kPercent:
      return {kPrecMultiplicative, "modulo"};
    case TokenKind::kBareWord:
      break;
    default:
      return {};
  }
  if (t.IsKeyword("OR")) return {kPrecOr, "or"};
  if (t.IsKeyword("AND")) return {kPrecAnd, "and"};
  if (t.IsKeyword("DIV")) return {kPrecMultiplicative, "intDiv"};
  if (t.IsKeyword("MOD")) return {kPrecMultiplicative, "modulo"};
  if (t.IsKeyword("IS")) return {kPrecCompare, "", InfixOperator::kIs};
  if (t.IsKeyword("GLOBAL") &&
      (PeekKeyword("IN", 1) || (PeekKeyword("NOT", 1) && PeekKeyword("IN", 2)))) {
    return {kPrecCompare, "", InfixOperator::kGlobalIn};
  }
  // [NOT] LIKE | ILIKE | IN | BETWEEN
  bool negated = t.IsKeyword("NOT");
  size_t k = negated ? 1 : 0;
  int words = negated ? 2 : 1;
  if (PeekKeyword("LIKE", k)) {
    return {kPrecCompare, negated ? "notLike" : "like", InfixOperator::kPlain, words};
  }
  if (PeekKeyword("ILIKE", k)) {
    return {kPrecCompare, negated ? "notILike" : "ilike", InfixOperator::kPlain, words};
  }
  if (PeekKeyword("IN", k)) {
    return {kPrecCompare, negated ? "notIn" : "in", InfixOperator::kIn, words};
  }
  if (PeekKeyword("BETWEEN", k)) {
    // NOT BETWEEN is or(less, greater); BETWEEN is and(greaterOrEquals, lessOrEquals).
    return {kPrecCompare, negated ? "or" : "and", InfixOperator::kBetween, words, negated};
  }
  return {};
}

Result<ExprPtr> Parser::ParseBinary(int min_prec) {
  DepthScope depth(this);
  TH_RETURN_IF_ERROR(depth.Enter());
  ExprPtr lhs;
  if (PeekKeyword("NOT")) {
    size_t pos = Next().begin;
    TH_ASSIGN_OR_RETURN(ExprPtr operand, ParseBinary(kPrecNot));
    lhs = Unary("not", std::move(operand), pos);
  } else {
    TH_ASSIGN_OR_RETURN(lhs, ParseUnary());
  }
  bool chain = false;  // lhs is an and/or built by this loop: `a AND b AND c` is one and()
  while (true) {
    InfixOperator op = PeekInfix();
    if (op.prec == 0 || op.prec < min_prec) return lhs;
    if (op.special == InfixOperator::kGlobalIn) return Unsupported("GLOBAL IN", Offset());
    for (int i = 0; i < op.tokens; ++i) Next();
    if (op.prec == kPrecOr || op.prec == kPrecAnd) {
      TH_ASSIGN_OR_RETURN(ExprPtr rhs, ParseBinary(op.prec + 1));
      if (chain && lhs->name == op.function) {
        lhs->args.push_back(std::move(rhs));
        continue;
      }
      TH_RETURN_IF_ERROR(depth.Enter());
      lhs = Binary(std::string(op.function), std::move(lhs), std::move(rhs));
      chain = true;
      continue;
    }
    chain = false;
    // Each node built here deepens the tree: count it, so trees stay as shallow as the limit.
    TH_RETURN_IF_ERROR(depth.Enter());
    TH_ASSIGN_OR_RETURN(lhs, ParseInfixOperand(op, std::move(lhs)));
  }
}

Result<ExprPtr> Parser::ParseInfixOperand(const InfixOperator& op, ExprPtr lhs) {
  switch (op.special) {
    case InfixOperator::kIs: {
      bool negated = AcceptKeyword("NOT");
      TH_RETURN_IF_ERROR(ExpectKeyword("NULL"));
      size_t pos = lhs->pos;
      return Unary(negated ? "isNotNull" : "isNull", std::move(lhs), pos);
    }
    case InfixOperator::kIn: {
      TH_ASSIGN_OR_RETURN(ExprPtr rhs, ParseInRhs());
      return Binary(std::string(op.function), std::move(lhs), std::move(rhs));
    }
    case InfixOperator::kBetween: {
      TH_ASSIGN_OR_RETURN(ExprPtr low, ParseBinary(kPrecConcat));
      TH_RETURN_IF_ERROR(ExpectKeyword("AND"));
      TH_ASSIGN_OR_RETURN(ExprPtr high, ParseBinary(kPrecConcat));
      ExprPtr copy = CloneExpr(*lhs);
      size_t pos = lhs->pos;
      bool negated = op.negated;
      ExprList args;
      args.push_back(Binary(negated ? "less" : "greaterOrEquals", std::move(lhs), std::move(low)));
      args.push_back(
          Binary(negated ? "greater" : "lessOrEquals", std::move(copy), std::move(high)));
      return MakeFunction(std::string(op.function), std::move(args), pos);
    }
    default: {
      TH_ASSIGN_OR_RETURN(ExprPtr rhs, ParseBinary(op.prec + 1));
      return Binary(std::string(op.function), std::move(lhs), std::move(rhs));
    }
  }
}

Result<ExprPtr> Parser::ParseInRhs() {
  if (!Peek().Is(TokenKind::kOpenParen)) return ParseBinary(kPrecConcat);
  if (PeekKeyword("SELECT", 1) || PeekKeyword("WITH", 1)) return ParseParenthesized();
  size_t pos = Next().begin;
  ExprList items;
  if (!Accept(TokenKind::kCloseParen)) {
    do {
      if (Peek().Is(TokenKind::kCloseParen) && !items.empty()) break;  // `(1,)`
      TH_ASSIGN_OR_RETURN(ExprPtr item, ParseExprWithAlias(false));
      items.push_back(std::move(item));
    } while (Accept(TokenKind::kComma));
    TH_RETURN_IF_ERROR(Expect(TokenKind::kCloseParen));
  }
  return MakeFunction("tuple", std::move(items), pos);
}

Result<ExprPtr> Parser::ParseUnary() {
  if (!Peek().Is(TokenKind::kMinus)) return ParsePostfix();
  const Token& operand = Peek(1);
  bool numeric = operand.Is(TokenKind::kNumber) ||
                 (IsSpecialFloatWord(operand) && !Peek(2).Is(TokenKind::kOpenParen));
  if (numeric && !StartsPostfix(Peek(2))) {
    // `-5` is one literal, as in ClickHouse.
    size_t pos = Next().begin;
    Token number = Next();
    if (number.Is(TokenKind::kNumber)) {
      TH_ASSIGN_OR_RETURN(ExprPtr literal, MakeNumber(number, /*negative=*/true));
      literal->pos = pos;
      return literal;
    }
    double v = SpecialFloatValue(number);
    return MakeFloat64Literal(std::isnan(v) ? v : -v, pos);
  }
  DepthScope depth(this);
  TH_RETURN_IF_ERROR(depth.Enter());
  size_t pos = Next().begin;
  TH_ASSIGN_OR_RETURN(ExprPtr arg, ParseUnary());
  return Unary("negate", std::move(arg), pos);
}

Result<ExprPtr> Parser::ParsePostfix() {
  DepthScope depth(this);
  TH_ASSIGN_OR_RETURN(ExprPtr e, ParsePrimary());
  while (true) {
    const Token t = Peek();
    bool postfix =
        t.Is(TokenKind::kOpenBracket) || t.Is(TokenKind::kDoubleColon) ||
        (t.Is(TokenKind::kDot) && (Peek(1).Is(TokenKind::kNumber) || IsNameToken(Peek(1))));
    if (!postfix) return e;
    TH_RETURN_IF_ERROR(depth.Enter());
    TH_ASSIGN_OR_RETURN(e, ParsePostfixOperator(std::move(e)));
  }
}

Result<ExprPtr> Parser::ParsePostfixOperator(ExprPtr e) {
  const Token t = Next();
  if (t.Is(TokenKind::kOpenBracket)) {
    TH_ASSIGN_OR_RETURN(ExprPtr index, ParseExpr());
    TH_RETURN_IF_ERROR(Expect(TokenKind::kCloseBracket));
    return Binary("arrayElement", std::move(e), std::move(index));
  }
  if (t.Is(TokenKind::kDoubleColon)) {
    size_t pos = Offset();
    TH_ASSIGN_OR_RETURN(std::string type, ParseType());
    return Binary("CAST", std::move(e), MakeStringLiteral(std::move(type), pos));
  }
  // '.': `t.1`, or `f(x).name` (identifiers took their dotted parts already).
  if (Peek().Is(TokenKind::kNumber)) {
    Token number = Peek();
    TH_ASSIGN_OR_RETURN(ExprPtr index, MakeNumber(number, false));
    if (!index->IsLiteral(LiteralKind::kUInt64)) return SyntaxError("tuple element index");
    Next();
    return Binary("tupleElement", std::move(e), std::move(index));
  }
  size_t pos = Offset();
  TH_ASSIGN_OR_RETURN(std::string name, ParseName("tuple element name"));
  return Binary("tupleElement", std::move(e), MakeStringLiteral(std::move(name), pos));
}

// ---------------------------------------------------------------------------------------------
// Primary expressions

Result<ExprPtr> Parser::ParsePrimary() {
  const Token t = Peek();
  switch (t.kind) {
    case TokenKind::kNumber:
      Next();
      return MakeNumber(t, /*negative=*/false);
    case TokenKind::kString:
      Next();
      return MakeStringLiteral(DecodeQuoted(t.text), t.begin);
    case TokenKind::kOpenParen:
      return ParseParenthesized();
    case TokenKind::kOpenBracket:
      return ParseArray();
    case TokenKind::kOpenBrace:
      return ParseQueryParameter();
    case TokenKind::kAsterisk: {
      Next();
      auto e = std::make_unique<Expr>();
      e->kind = ExprKind::kAsterisk;
      e->pos = t.begin;
      return e;
    }
    case TokenKind::kBareWord:
    case TokenKind::kQuotedIdentifier:
      return ParseWordPrimary();
    default:
      return SyntaxError("expression");
  }
}

Result<ExprPtr> Parser::ParseWordPrimary() {
  const Token t = Peek();
  const Token after = Peek(1);
  if (t.Is(TokenKind::kBareWord)) {
    if (t.IsKeyword("NULL")) {
      Next();
      return MakeNullLiteral(t.begin);
    }
    if (t.IsKeyword("TRUE") || t.IsKeyword("FALSE")) {
      Next();
      return MakeBoolLiteral(t.IsKeyword("TRUE"), t.begin);
    }
    if (IsSpecialFloatWord(t) && !after.Is(TokenKind::kOpenParen) && !after.Is(TokenKind::kDot)) {
      Next();
      return MakeFloat64Literal(SpecialFloatValue(t), t.begin);
    }
    if (t.IsKeyword("NOT")) return ParseBinary(kPrecNot);
    if (t.IsKeyword("CASE")) return ParseCase();
    if (t.IsKeyword("CAST") && after.Is(TokenKind::kOpenParen)) return ParseCastCall(t.begin);
    if (t.IsKeyword("EXTRACT") && after.Is(TokenKind::kOpenParen)) {
      return ParseExtractCall(t.begin);
    }
    if (t.IsKeyword("INTERVAL")) {
      TH_ASSIGN_OR_RETURN(ExprPtr interval, TryParseInterval());
      if (interval) return interval;
    }
    if ((t.IsKeyword("DATE") || t.IsKeyword("TIMESTAMP")) && after.Is(TokenKind::kString)) {
      Next();
      Token s = Next();
      ExprList args;
      args.push_back(MakeStringLiteral(DecodeQuoted(s.text), s.begin));
      return MakeFunction(t.IsKeyword("DATE") ? "toDate" : "toDateTime", std::move(args), t.begin);
    }
    if (after.Is(TokenKind::kOpenParen) && !IsClauseKeyword(t.text)) {
      Next();
      return ParseFunctionCall(std::string(t.text), t.begin);
    }
    if (IsReservedInExpression(t.text)) return SyntaxError("expression");
  } else if (after.Is(TokenKind::kOpenParen)) {
    TH_ASSIGN_OR_RETURN(std::string name, ParseName("function name"));
    return ParseFunctionCall(std::move(name), t.begin);
  }

  // A possibly compound identifier, or a qualified asterisk `t.*`.
  std::vector<std::string> parts;
  TH_ASSIGN_OR_RETURN(std::string first, ParseName("identifier"));
  parts.push_back(std::move(first));
  while (Peek().Is(TokenKind::kDot)) {
    const Token& n = Peek(1);
    if (IsNameToken(n)) {
      Next();
      TH_ASSIGN_OR_RETURN(std::string part, ParseName("identifier"));
      parts.push_back(std::move(part));
    } else if (n.Is(TokenKind::kAsterisk)) {
      Next();
      Next();
      auto e = std::make_unique<Expr>();
      e->kind = ExprKind::kAsterisk;
      e->pos = t.begin;
      e->parts = std::move(parts);
      return e;
    } else {
      break;
    }
  }
  return MakeIdentifier(std::move(parts), t.begin);
}

Result<ExprPtr> Parser::ParseParenthesized() {
  size_t pos = Offset();
  if (PeekKeyword("SELECT", 1) || PeekKeyword("WITH", 1)) {
    DepthScope depth(this);
    TH_RETURN_IF_ERROR(depth.Enter());
    Next();
    auto e = std::make_unique<Expr>();
    e->kind = ExprKind::kSubquery;
    e->pos = pos;
    TH_ASSIGN_OR_RETURN(e->subquery, ParseSelectUnion());
    TH_RETURN_IF_ERROR(Expect(TokenKind::kCloseParen));
    return e;
  }
  TH_RETURN_IF_ERROR(Expect(TokenKind::kOpenParen));
  if (Accept(TokenKind::kCloseParen)) return MakeFunction("tuple", {}, pos);
  TH_ASSIGN_OR_RETURN(ExprPtr first, ParseExprWithAlias(false));
  if (Accept(TokenKind::kCloseParen)) return first;
  if (!Peek().Is(TokenKind::kComma)) return SyntaxError("one of: ',', ')'");
  ExprList items;
  items.push_back(std::move(first));
  while (Accept(TokenKind::kComma)) {
    if (Peek().Is(TokenKind::kCloseParen)) break;  // `(1,)` is a one-element tuple
    TH_ASSIGN_OR_RETURN(ExprPtr item, ParseExprWithAlias(false));
    items.push_back(std::move(item));
  }
  TH_RETURN_IF_ERROR(Expect(TokenKind::kCloseParen));
  return MakeFunction("tuple", std::move(items), pos);
}

Result<ExprPtr> Parser::ParseArray() {
  size_t pos = Offset();
  TH_RETURN_IF_ERROR(Expect(TokenKind::kOpenBracket));
  ExprList items;
  if (!Accept(TokenKind::kCloseBracket)) {
    do {
      if (Peek().Is(TokenKind::kCloseBracket) && !items.empty()) break;
      TH_ASSIGN_OR_RETURN(ExprPtr item, ParseExprWithAlias(false));
      items.push_back(std::move(item));
    } while (Accept(TokenKind::kComma));
    TH_RETURN_IF_ERROR(Expect(TokenKind::kCloseBracket));
  }
  return MakeFunction("array", std::move(items), pos);
}

Result<ExprPtr> Parser::ParseQueryParameter() {
  size_t pos = Offset();
  TH_RETURN_IF_ERROR(Expect(TokenKind::kOpenBrace));
  auto e = std::make_unique<Expr>();
  e->kind = ExprKind::kParameter;
  e->pos = pos;
  TH_ASSIGN_OR_RETURN(e->name, ParseName("query parameter name"));
  TH_RETURN_IF_ERROR(Expect(TokenKind::kColon));
  TH_ASSIGN_OR_RETURN(e->type, ParseType());
  TH_RETURN_IF_ERROR(Expect(TokenKind::kCloseBrace));
  return e;
}

Result<ExprPtr> Parser::ParseCase() {
  size_t pos = Next().begin;  // CASE
  ExprList args;
  bool has_operand = !PeekKeyword("WHEN");
  if (has_operand) {
    TH_ASSIGN_OR_RETURN(ExprPtr operand, ParseExpr());
    args.push_back(std::move(operand));
  }
  if (!PeekKeyword("WHEN")) return SyntaxError("WHEN");
  while (AcceptKeyword("WHEN")) {
    TH_ASSIGN_OR_RETURN(ExprPtr when, ParseExpr());
    TH_RETURN_IF_ERROR(ExpectKeyword("THEN"));
    TH_ASSIGN_OR_RETURN(ExprPtr then, ParseExpr());
    args.push_back(std::move(when));
    args.push_back(std::move(then));
  }
  if (AcceptKeyword("ELSE")) {
    TH_ASSIGN_OR_RETURN(ExprPtr otherwise, ParseExpr());
    args.push_back(std::move(otherwise));
  } else {
    args.push_back(MakeNullLiteral(Offset()));
  }
  TH_RETURN_IF_ERROR(ExpectKeyword("END"));
  return MakeFunction(has_operand ? "caseWithExpression" : "multiIf", std::move(args), pos);
}

Result<ExprPtr> Parser::ParseFunctionCall(std::string name, size_t pos) {
  auto f = MakeFunction(std::move(name), {}, pos);
  auto parse_args = [this](ExprList* args, bool* distinct) -> Status {
    TH_RETURN_IF_ERROR(Expect(TokenKind::kOpenParen));
    if (PeekKeyword("DISTINCT")) {
      Next();
      *distinct = true;
    } else if (PeekKeyword("ALL") && !Peek(1).Is(TokenKind::kCloseParen) &&
               !Peek(1).Is(TokenKind::kComma)) {
      Next();
    }
    if (Accept(TokenKind::kCloseParen)) return Status::OK();
    do {
      TH_ASSIGN_OR_RETURN(ExprPtr arg, ParseExprWithAlias(false));
      args->push_back(std::move(arg));
    } while (Accept(TokenKind::kComma));
    return Expect(TokenKind::kCloseParen);
  };
  TH_RETURN_IF_ERROR(parse_args(&f->args, &f->distinct));
  if (Peek().Is(TokenKind::kOpenParen)) {
    // quantile(0.9)(x): the first list was the parameters.
    if (f->distinct) return SyntaxError("arguments without DISTINCT in the parameter list");
    f->params = std::move(f->args);
    f->args.clear();
    f->has_params = true;
    TH_RETURN_IF_ERROR(parse_args(&f->args, &f->distinct));
  }
  if (PeekKeyword("OVER")) return Unsupported("Window function (OVER)", Offset());
  if (PeekKeyword("FILTER") && Peek(1).Is(TokenKind::kOpenParen)) {
    return Unsupported("Aggregate FILTER clause", Offset());
  }
  if ((PeekKeyword("RESPECT") || PeekKeyword("IGNORE")) && PeekKeyword("NULLS", 1)) {
    return Unsupported("RESPECT/IGNORE NULLS", Offset());
  }
  // count(*) is count(), as ClickHouse names it.
  if (f->args.size() == 1 && f->args[0]->kind == ExprKind::kAsterisk && f->args[0]->parts.empty() &&
      f->args[0]->alias.empty() && !f->has_params && !f->distinct &&
      EqualsIgnoreCase(f->name, "count")) {
    f->args.clear();
  }
  return f;
}

Result<ExprPtr> Parser::ParseCastCall(size_t pos) {
  Next();  // CAST
  TH_RETURN_IF_ERROR(Expect(TokenKind::kOpenParen));
  ExprList args;
  TH_ASSIGN_OR_RETURN(ExprPtr value, ParseExpr());
  args.push_back(std::move(value));
  if (AcceptKeyword("AS")) {
    size_t type_pos = Offset();
    TH_ASSIGN_OR_RETURN(std::string type, ParseType());
    args.push_back(MakeStringLiteral(std::move(type), type_pos));
  } else {
    while (Accept(TokenKind::kComma)) {
      TH_ASSIGN_OR_RETURN(ExprPtr arg, ParseExprWithAlias(false));
      args.push_back(std::move(arg));
    }
  }
  TH_RETURN_IF_ERROR(Expect(TokenKind::kCloseParen));
  return MakeFunction("CAST", std::move(args), pos);
}

Result<ExprPtr> Parser::ParseExtractCall(size_t pos) {
  static constexpr std::pair<std::string_view, std::string_view> kParts[] = {
      {"SECOND", "toSecond"}, {"MINUTE", "toMinute"},   {"HOUR", "toHour"}, {"DAY", "toDayOfMonth"},
      {"MONTH", "toMonth"},   {"QUARTER", "toQuarter"}, {"YEAR", "toYear"},
  };
  if (PeekKeyword("FROM", 3)) {
    for (auto [unit, function] : kParts) {
      if (!PeekKeyword(unit, 2)) continue;
      Next();  // EXTRACT
      Next();  // (
      Next();  // unit
      Next();  // FROM
      TH_ASSIGN_OR_RETURN(ExprPtr arg, ParseExpr());
      TH_RETURN_IF_ERROR(Expect(TokenKind::kCloseParen));
      return Unary(std::string(function), std::move(arg), pos);
    }
  }
  // extract(haystack, pattern) is also an ordinary function.
  std::string name(Next().text);
  return ParseFunctionCall(std::move(name), pos);
}

Result<ExprPtr> Parser::TryParseInterval() {
  // INTERVAL is an operator only when what follows can start its operand; otherwise it is a
  // column name (`SELECT interval FROM t`). No backtracking: parse time stays linear.
  const Token& t = Peek(1);
  bool operand = t.Is(TokenKind::kNumber) || t.Is(TokenKind::kString) ||
                 t.Is(TokenKind::kOpenParen) || t.Is(TokenKind::kMinus) ||
                 t.Is(TokenKind::kOpenBrace) || t.Is(TokenKind::kQuotedIdentifier) ||
                 (t.Is(TokenKind::kBareWord) && !IsRestrictedAlias(t.text));
  if (!operand) return ExprPtr();
  DepthScope depth(this);
  TH_RETURN_IF_ERROR(depth.Enter());
  size_t pos = Next().begin;  // INTERVAL
  TH_ASSIGN_OR_RETURN(ExprPtr value, ParseUnary());
  if (Peek().Is(TokenKind::kBareWord)) {
    std::string_view function = IntervalFunctionForUnit(Peek().text);
    if (!function.empty()) {
      Next();
      return Unary(std::string(function), std::move(value), pos);
    }
  }
  if (value->IsLiteral(LiteralKind::kString)) {
    // INTERVAL '90 day'
    std::string_view s = value->string_value;
    auto trim = [](std::string_view v) {
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
      while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
      return v;
    };
    s = trim(s);
    size_t space = s.find_first_of(" \t");
    if (space != std::string_view::npos) {
      std::string_view number = s.substr(0, space);
      std::string_view function = IntervalFunctionForUnit(trim(s.substr(space)));
      bool negative = !number.empty() && number.front() == '-';
      if (negative) number.remove_prefix(1);
      uint64_t n = 0;
      if (!function.empty() && ParseUnsigned(number, 10, &n) &&
          n <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        ExprPtr literal = negative && n > 0 ? MakeInt64Literal(-static_cast<int64_t>(n), value->pos)
                                            : MakeUInt64Literal(n, value->pos);
        return Unary(std::string(function), std::move(literal), pos);
      }
    }
    auto [line, col] = LineCol(value->pos);
    return Status::InvalidArgument(
        "Syntax error: failed at position " + std::to_string(value->pos + 1) + " (line " +
            std::to_string(line) + ", col " + std::to_string(col) + ") (" +
            QuoteString(value->string_value) + "). Expected an interval '<number> <unit>'",
        ch::kSyntaxError);
  }
  return SyntaxError("one of: SECOND, MINUTE, HOUR, DAY, WEEK, MONTH, QUARTER, YEAR");
}

Result<ExprPtr> Parser::MakeNumber(const Token& token, bool negative) {
  std::string_view text = token.text;
  uint64_t u = 0;
  double d = 0;
  bool is_float = false;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    if (!ParseUnsigned(text.substr(2), 16, &u)) {
      return SyntaxErrorAt(token, "a number that fits in 64 bits");
    }
  } else if (text.size() > 2 && text[0] == '0' && (text[1] == 'b' || text[1] == 'B')) {
    if (!ParseUnsigned(text.substr(2), 2, &u)) {
      return SyntaxErrorAt(token, "a number that fits in 64 bits");
    }
  } else if (text.find_first_of(".eE") != std::string_view::npos) {
    if (!ParseDouble(text, &d)) return SyntaxErrorAt(token, "number");
    is_float = true;
  } else if (!ParseUnsigned(text, 10, &u)) {
    // Too large for UInt64: ClickHouse reads it as Float64.
    if (!ParseDouble(text, &d)) return SyntaxErrorAt(token, "number");
    is_float = true;
  }
  if (is_float) return MakeFloat64Literal(negative ? -d : d, token.begin);
  if (!negative) return MakeUInt64Literal(u, token.begin);
  constexpr uint64_t kMinMagnitude = uint64_t{1} << 63;
  if (u < kMinMagnitude) return MakeInt64Literal(-static_cast<int64_t>(u), token.begin);
  if (u == kMinMagnitude) {
    return MakeInt64Literal(std::numeric_limits<int64_t>::min(), token.begin);
  }
  return MakeFloat64Literal(-static_cast<double>(u), token.begin);
}

// ---------------------------------------------------------------------------------------------
// Data types: Name | Name(arg, ...); arg is a number, 'string' [= number] (Enum), a nested
// type, or `name Type` (named Tuple / Nested element). Printed back with ", " separators.

Result<std::string> Parser::ParseType() {
  DepthScope depth(this);
  TH_RETURN_IF_ERROR(depth.Enter());
  if (!Peek().Is(TokenKind::kBareWord)) return SyntaxError("type");
  std::string out(Next().text);
  if (!Accept(TokenKind::kOpenParen)) return out;
  out += '(';
  if (!Accept(TokenKind::kCloseParen)) {
    bool first = true;
    do {
      if (!first) out += ", ";
      first = false;
      const Token t = Peek();
      if (t.Is(TokenKind::kNumber)) {
        out += Next().text;
      } else if (t.Is(TokenKind::kMinus) && Peek(1).Is(TokenKind::kNumber)) {
        Next();
        out += '-';
        out += Next().text;
      } else if (t.Is(TokenKind::kString)) {
        out += QuoteString(DecodeQuoted(Next().text));
        if (Accept(TokenKind::kEquals)) {
          out += " = ";
          if (Accept(TokenKind::kMinus)) out += '-';
          if (!Peek().Is(TokenKind::kNumber)) return SyntaxError("number");
          out += Next().text;
        }
      } else if (IsNameToken(t) && Peek(1).Is(TokenKind::kBareWord)) {
        TH_ASSIGN_OR_RETURN(std::string name, ParseName("element name"));
        TH_ASSIGN_OR_RETURN(std::string type, ParseType());
        out += QuoteIdentifierIfNeeded(name);
        out += ' ';
        out += type;
      } else if (t.Is(TokenKind::kBareWord)) {
        TH_ASSIGN_OR_RETURN(std::string type, ParseType());
        out += type;
      } else {
        return SyntaxError("one of: type, number, string literal");
      }
    } while (Accept(TokenKind::kComma));
    TH_RETURN_IF_ERROR(Expect(TokenKind::kCloseParen));
  }
  out += ')';
  return out;
}

}  // namespace trackhouse::sql
