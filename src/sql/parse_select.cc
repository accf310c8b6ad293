// SELECT: WITH, the select list, FROM (table, subquery, table function), PREWHERE, WHERE,
// GROUP BY [WITH TOTALS], HAVING, ORDER BY [WITH FILL], LIMIT BY, LIMIT/OFFSET, SETTINGS and
// UNION ALL. Joins, ARRAY JOIN, WINDOW, QUALIFY, SAMPLE and other set operations are
// recognized and rejected as unsupported.
#include <string>
#include <utility>

#include "sql/keywords.h"
#include "sql/parser_impl.h"

namespace trackhouse::sql {
namespace {

bool IsNameToken(const Token& t) {
  return t.Is(TokenKind::kBareWord) || t.Is(TokenKind::kQuotedIdentifier);
}

}  // namespace

bool Parser::PeekSelectStart(size_t ahead) {
  for (size_t i = ahead; i <= ahead + kMaxParseDepth; ++i) {
    Token t = Peek(i);
    if (t.IsKeyword("SELECT") || t.IsKeyword("WITH")) return true;
    if (!t.Is(TokenKind::kOpenParen)) return false;
  }
  return false;
}

Result<std::unique_ptr<SelectUnion>> Parser::ParseSelectUnion() {
  DepthScope depth(this);
  TH_RETURN_IF_ERROR(depth.Enter());
  auto u = std::make_unique<SelectUnion>();
  u->pos = Offset();
  while (true) {
    if (Peek().Is(TokenKind::kOpenParen)) {
      Next();
      TH_ASSIGN_OR_RETURN(std::unique_ptr<SelectUnion> inner, ParseSelectUnion());
      TH_RETURN_IF_ERROR(Expect(TokenKind::kCloseParen));
      for (auto& s : inner->selects) u->selects.push_back(std::move(s));
    } else {
      TH_ASSIGN_OR_RETURN(std::unique_ptr<SelectQuery> q, ParseSelectQuery());
      u->selects.push_back(std::move(q));
    }
    if (PeekKeyword("UNION")) {
      if (PeekKeyword("ALL", 1)) {
        Next();
        Next();
        if (!PeekSelectStart()) return SyntaxError("one of: SELECT, WITH, '('");
        continue;
      }
      if (PeekKeyword("DISTINCT", 1)) return Unsupported("UNION DISTINCT", Offset());
      return Unsupported("UNION without ALL", Offset());
    }
    if (PeekKeyword("EXCEPT") || PeekKeyword("INTERSECT")) {
      return Unsupported(std::string(Peek().text) + " (set operation)", Offset());
    }
    return u;
  }
}

Result<std::unique_ptr<SelectQuery>> Parser::ParseSelectQuery() {
  auto q = std::make_unique<SelectQuery>();
  q->pos = Offset();
  if (AcceptKeyword("WITH")) {
    if (PeekKeyword("RECURSIVE")) return Unsupported("WITH RECURSIVE", Offset());
    do {
      WithItem item;
      if (IsNameToken(Peek()) && PeekKeyword("AS", 1) && Peek(2).Is(TokenKind::kOpenParen) &&
          (PeekKeyword("SELECT", 3) || PeekKeyword("WITH", 3))) {
        TH_ASSIGN_OR_RETURN(std::string name, ParseName("name"));
        Next();  // AS
        TH_ASSIGN_OR_RETURN(item.expr, ParseParenthesized());
        item.expr->alias = std::move(name);
        item.is_cte = true;
      } else {
        TH_ASSIGN_OR_RETURN(item.expr, ParseExprWithAlias(false));
      }
      q->with.push_back(std::move(item));
    } while (Accept(TokenKind::kComma));
  }
  TH_RETURN_IF_ERROR(ExpectKeyword("SELECT"));
  if (AcceptKeyword("DISTINCT")) {
    if (PeekKeyword("ON")) return Unsupported("DISTINCT ON", Offset());
    q->distinct = true;
  } else if (PeekKeyword("ALL") && !Peek(1).Is(TokenKind::kComma) && !PeekKeyword("FROM", 1)) {
    Next();
  }
  if (PeekKeyword("TOP") && Peek(1).Is(TokenKind::kNumber)) {
    Next();
    TH_ASSIGN_OR_RETURN(q->limit_length, MakeNumber(Next(), false));
    if (PeekKeyword("WITH") && PeekKeyword("TIES", 1)) return Unsupported("WITH TIES", Offset());
  }
  do {
    TH_ASSIGN_OR_RETURN(ExprPtr column, ParseExprWithAlias(/*allow_implicit_alias=*/true));
    if (column->kind == ExprKind::kAsterisk &&
        (PeekKeyword("EXCEPT") || PeekKeyword("APPLY") || PeekKeyword("REPLACE"))) {
      return Unsupported("Column transformers (* EXCEPT / APPLY / REPLACE)", Offset());
    }
    q->columns.push_back(std::move(column));
  } while (Accept(TokenKind::kComma));

  if (AcceptKeyword("FROM")) {
    TH_ASSIGN_OR_RETURN(q->from, ParseTableExpr());
    TH_RETURN_IF_ERROR(RejectJoin());
  }
  if (AcceptKeyword("PREWHERE")) {
    TH_ASSIGN_OR_RETURN(q->prewhere, ParseExprWithAlias(false));
  }
  if (AcceptKeyword("WHERE")) {
    TH_ASSIGN_OR_RETURN(q->where, ParseExprWithAlias(false));
  }
  if (AcceptKeywords({"GROUP", "BY"})) {
    if (PeekKeyword("GROUPING") && PeekKeyword("SETS", 1)) {
      return Unsupported("GROUPING SETS", Offset());
    }
    if (PeekKeyword("ALL") && !Peek(1).Is(TokenKind::kOpenParen)) {
      return Unsupported("GROUP BY ALL", Offset());
    }
    TH_ASSIGN_OR_RETURN(q->group_by, ParseExprList(/*allow_alias=*/true));
  }
  if (PeekKeyword("WITH") && (PeekKeyword("ROLLUP", 1) || PeekKeyword("CUBE", 1))) {
    return Unsupported("GROUP BY WITH " + std::string(Peek(1).text), Offset());
  }
  if (AcceptKeywords({"WITH", "TOTALS"})) q->group_by_with_totals = true;
  if (AcceptKeyword("HAVING")) {
    TH_ASSIGN_OR_RETURN(q->having, ParseExprWithAlias(false));
  }
  if (PeekKeyword("WINDOW")) return Unsupported("WINDOW clause", Offset());
  if (PeekKeyword("QUALIFY")) return Unsupported("QUALIFY", Offset());
  if (AcceptKeywords({"ORDER", "BY"})) {
    if (PeekKeyword("ALL") && !Peek(1).Is(TokenKind::kOpenParen)) {
      return Unsupported("ORDER BY ALL", Offset());
    }
    do {
      TH_ASSIGN_OR_RETURN(OrderByItem item, ParseOrderByItem());
      q->order_by.push_back(std::move(item));
    } while (Accept(TokenKind::kComma));
    if (PeekKeyword("INTERPOLATE")) return Unsupported("INTERPOLATE", Offset());
  }

  // LIMIT [offset,] length [OFFSET offset] [BY exprs] then possibly a second, plain LIMIT.
  for (int round = 0; round < 2 && PeekKeyword("LIMIT"); ++round) {
    if (q->limit_length) return SyntaxError("LIMIT only once");
    Next();
    TH_ASSIGN_OR_RETURN(ExprPtr first, ParseExpr());
    ExprPtr length, offset;
    if (Accept(TokenKind::kComma)) {
      offset = std::move(first);
      TH_ASSIGN_OR_RETURN(length, ParseExpr());
    } else if (AcceptKeyword("OFFSET")) {
      length = std::move(first);
      TH_ASSIGN_OR_RETURN(offset, ParseExpr());
    } else {
      length = std::move(first);
    }
    if (PeekKeyword("WITH") && PeekKeyword("TIES", 1)) {
      return Unsupported("LIMIT WITH TIES", Offset());
    }
    if (round == 0 && AcceptKeyword("BY")) {
      q->limit_by_length = std::move(length);
      q->limit_by_offset = std::move(offset);
      TH_ASSIGN_OR_RETURN(q->limit_by, ParseExprList(/*allow_alias=*/true));
      continue;
    }
    q->limit_length = std::move(length);
    q->limit_offset = std::move(offset);
    break;
  }
  if (!q->limit_offset && AcceptKeyword("OFFSET")) {
    TH_ASSIGN_OR_RETURN(q->limit_offset, ParseExpr());
    if (!AcceptKeyword("ROWS")) AcceptKeyword("ROW");
    if (PeekKeyword("FETCH")) return Unsupported("FETCH", Offset());
  }
  if (AcceptKeyword("SETTINGS")) {
    TH_ASSIGN_OR_RETURN(q->settings, ParseSettingList());
  }
  return q;
}

Result<std::unique_ptr<TableExpr>> Parser::ParseTableExpr() {
  auto t = std::make_unique<TableExpr>();
  t->pos = Offset();
  const Token first = Peek();
  if (first.Is(TokenKind::kOpenParen)) {
    if (!PeekSelectStart()) return Unsupported("A parenthesized table expression", t->pos);
    Next();
    t->kind = TableExpr::Kind::kSubquery;
    TH_ASSIGN_OR_RETURN(t->subquery, ParseSelectUnion());
    TH_RETURN_IF_ERROR(Expect(TokenKind::kCloseParen));
  } else if (first.Is(TokenKind::kOpenBrace)) {
    return Unsupported("A query parameter as table name", t->pos);
  } else if (IsNameToken(first) && Peek(1).Is(TokenKind::kOpenParen)) {
    t->kind = TableExpr::Kind::kFunction;
    TH_ASSIGN_OR_RETURN(std::string name, ParseName("table function"));
    TH_ASSIGN_OR_RETURN(t->function, ParseFunctionCall(std::move(name), first.begin));
  } else if (IsNameToken(first)) {
    t->kind = TableExpr::Kind::kTable;
    TH_ASSIGN_OR_RETURN(std::string name, ParseName("table name", /*allow_reserved=*/false));
    if (Accept(TokenKind::kDot)) {
      t->database = std::move(name);
      TH_ASSIGN_OR_RETURN(t->table, ParseName("table name"));
      if (Peek().Is(TokenKind::kOpenParen)) {
        return Unsupported("A table function with a database prefix", t->pos);
      }
    } else {
      t->table = std::move(name);
    }
  } else {
    return SyntaxError("one of: table name, table function, subquery");
  }
  t->final = AcceptKeyword("FINAL");
  if (AcceptKeyword("AS")) {
    TH_ASSIGN_OR_RETURN(t->alias, ParseName("alias"));
  } else if ((Peek().Is(TokenKind::kBareWord) && !IsRestrictedAlias(Peek().text)) ||
             Peek().Is(TokenKind::kQuotedIdentifier)) {
    TH_ASSIGN_OR_RETURN(t->alias, ParseName("alias"));
  }
  if (!t->final) t->final = AcceptKeyword("FINAL");
  if (PeekKeyword("SAMPLE")) return Unsupported("SAMPLE", Offset());
  return t;
}

Status Parser::RejectJoin() {
  const Token t = Peek();
  if (t.Is(TokenKind::kComma)) return Unsupported("JOIN (comma-separated tables)", t.begin);
  if ((t.IsKeyword("ARRAY") && PeekKeyword("JOIN", 1)) ||
      (t.IsKeyword("LEFT") && PeekKeyword("ARRAY", 1) && PeekKeyword("JOIN", 2))) {
    return Unsupported("ARRAY JOIN", t.begin);
  }
  static constexpr std::string_view kJoinWords[] = {
      "JOIN", "INNER",  "LEFT",  "RIGHT", "FULL", "CROSS", "ASOF",  "SEMI",
      "ANTI", "GLOBAL", "PASTE", "ANY",   "ALL",  "OUTER", "LOCAL", "NATURAL"};
  for (std::string_view word : kJoinWords) {
    if (t.IsKeyword(word)) return Unsupported("JOIN", t.begin);
  }
  return Status::OK();
}

Result<OrderByItem> Parser::ParseOrderByItem() {
  OrderByItem item;
  item.pos = Offset();
  TH_ASSIGN_OR_RETURN(item.expr, ParseExprWithAlias(false));
  if (AcceptKeyword("DESC") || AcceptKeyword("DESCENDING")) {
    item.descending = true;
  } else if (!AcceptKeyword("ASC")) {
    AcceptKeyword("ASCENDING");
  }
  if (AcceptKeyword("NULLS")) {
    if (AcceptKeyword("FIRST")) {
      item.nulls = OrderByItem::Nulls::kFirst;
    } else if (AcceptKeyword("LAST")) {
      item.nulls = OrderByItem::Nulls::kLast;
    } else {
      return SyntaxError("one of: FIRST, LAST");
    }
  }
  if (AcceptKeyword("COLLATE")) {
    TH_ASSIGN_OR_RETURN(item.collation, ParseStringLiteral());
  }
  if (AcceptKeywords({"WITH", "FILL"})) {
    item.with_fill = true;
    if (AcceptKeyword("FROM")) {
      TH_ASSIGN_OR_RETURN(item.fill_from, ParseExpr());
    }
    if (AcceptKeyword("TO")) {
      TH_ASSIGN_OR_RETURN(item.fill_to, ParseExpr());
    }
    if (AcceptKeyword("STEP")) {
      TH_ASSIGN_OR_RETURN(item.fill_step, ParseExpr());
    }
    if (PeekKeyword("STALENESS")) return Unsupported("WITH FILL STALENESS", Offset());
  }
  return item;
}

}  // namespace trackhouse::sql
