// Parser plumbing (tokens, errors, names, settings), statement dispatch, INSERT and the small
// statements (SHOW, DESCRIBE, EXISTS, USE, SET, SYSTEM, KILL), and the facade of parser.h.
#include "sql/parser.h"

#include <algorithm>
#include <string>
#include <utility>

#include "sql/keywords.h"
#include "sql/parser_impl.h"

namespace trackhouse::sql {
namespace {

constexpr size_t kSnippetBytes = 40;

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// At most `max` bytes of `s`, not splitting a UTF-8 sequence, newlines shown as spaces.
std::string Excerpt(std::string_view s, size_t max) {
  bool cut = s.size() > max;
  if (cut) {
    size_t n = max;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    s = s.substr(0, n);
  }
  std::string out(s);
  for (char& c : out) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  if (cut) out += "...";
  return out;
}

}  // namespace

Parser::Parser(std::string_view text, size_t begin, size_t end)
    : text_(text),
      end_(std::min(end, text.size())),
      lexer_(text, begin, end),
      stack_base_(reinterpret_cast<uintptr_t>(__builtin_frame_address(0))) {}

// ---------------------------------------------------------------------------------------------
// Tokens

Token Parser::Peek(size_t ahead) {
  while (tokens_.size() <= next_ + ahead) {
    if (!tokens_.empty() && (tokens_.back().Is(TokenKind::kEnd))) {
      return tokens_.back();
    }
    tokens_.push_back(lexer_.Next());
  }
  return tokens_[next_ + ahead];
}

Token Parser::Next() {
  Token t = Peek();
  if (!t.Is(TokenKind::kEnd) && !t.Is(TokenKind::kError)) ++next_;
  return t;
}

bool Parser::Accept(TokenKind kind) {
  if (!Peek().Is(kind)) return false;
  Next();
  return true;
}

bool Parser::AcceptKeyword(std::string_view keyword) {
  if (!Peek().IsKeyword(keyword)) return false;
  Next();
  return true;
}

bool Parser::AcceptKeywords(std::initializer_list<std::string_view> keywords) {
  size_t i = 0;
  for (std::string_view k : keywords) {
    if (!Peek(i).IsKeyword(k)) return false;
    ++i;
  }
  for (; i > 0; --i) Next();
  return true;
}

bool Parser::PeekKeyword(std::string_view keyword, size_t ahead) {
  return Peek(ahead).IsKeyword(keyword);
}

Status Parser::Expect(TokenKind kind) {
  if (Accept(kind)) return Status::OK();
  return SyntaxError(TokenKindName(kind));
}

Status Parser::ExpectKeyword(std::string_view keyword) {
  if (AcceptKeyword(keyword)) return Status::OK();
  return SyntaxError(keyword);
}

// ---------------------------------------------------------------------------------------------
// Errors

std::pair<size_t, size_t> Parser::LineCol(size_t offset) const {
  offset = std::min(offset, text_.size());
  std::string_view before = text_.substr(0, offset);
  size_t line = 1 + static_cast<size_t>(std::count(before.begin(), before.end(), '\n'));
  size_t last_nl = before.rfind('\n');
  size_t col = last_nl == std::string_view::npos ? offset + 1 : offset - last_nl;
  return {line, col};
}

Status Parser::SyntaxError(std::string_view expected) { return SyntaxErrorAt(Peek(), expected); }

Status Parser::SyntaxErrorAt(const Token& token, std::string_view expected) {
  auto [line, col] = LineCol(token.begin);
  std::string msg = "Syntax error: failed at position " + std::to_string(token.begin + 1) +
                    " (line " + std::to_string(line) + ", col " + std::to_string(col) + ")";
  if (token.Is(TokenKind::kEnd)) {
    msg += " (end of query)";
  } else {
    msg += " ('" + Excerpt(token.text, kSnippetBytes) + "'): ";
    msg += Excerpt(text_.substr(token.begin, end_ - std::min(token.begin, end_)), kSnippetBytes);
  }
  if (token.Is(TokenKind::kError)) {
    msg += ". ";
    msg += token.error;
  } else {
    msg += ". Expected ";
    msg += expected;
  }
  return Status::InvalidArgument(std::move(msg), ch::kSyntaxError);
}

Status Parser::Unsupported(std::string_view what, size_t pos) {
  return Status::NotSupported(std::string(what) + " is not supported by trackhouse (position " +
                                  std::to_string(pos + 1) + ")",
                              ch::kNotImplemented);
}

Status DepthScope::Enter() {
  ++entered_;
  uintptr_t here = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  uintptr_t used = parser_->stack_base_ > here ? parser_->stack_base_ - here : 0;
  if (++parser_->depth_ <= kMaxParseDepth && used <= kMaxParseStackBytes) return Status::OK();
  size_t offset = parser_->Peek().begin;
  auto [line, col] = parser_->LineCol(offset);
  return Status::InvalidArgument("Syntax error: Maximum parse depth exceeded (" +
                                     std::to_string(kMaxParseDepth) + ") at position " +
                                     std::to_string(offset + 1) + " (line " + std::to_string(line) +
                                     ", col " + std::to_string(col) + ")",
                                 ch::kSyntaxError);
}

// ---------------------------------------------------------------------------------------------
// Names, literals, settings

Result<std::string> Parser::ParseName(std::string_view what, bool allow_reserved) {
  const Token& t = Peek();
  if (t.Is(TokenKind::kBareWord)) {
    if (!allow_reserved && IsReservedInExpression(t.text)) return SyntaxError(what);
    return std::string(Next().text);
  }
  if (t.Is(TokenKind::kQuotedIdentifier)) {
    std::string name = DecodeQuoted(t.text);
    if (name.empty()) return SyntaxError("non-empty identifier");
    Next();
    return name;
  }
  return SyntaxError(what);
}

Status Parser::ParseQualifiedName(std::string* database, std::string* name, std::string_view what) {
  TH_ASSIGN_OR_RETURN(std::string first, ParseName(what));
  if (Accept(TokenKind::kDot)) {
    TH_ASSIGN_OR_RETURN(*name, ParseName(what));
    *database = std::move(first);
  } else {
    database->clear();
    *name = std::move(first);
  }
  return Status::OK();
}

Result<std::string> Parser::ParseStringLiteral() {
  if (!Peek().Is(TokenKind::kString)) return SyntaxError("string literal");
  return DecodeQuoted(Next().text);
}

Result<ExprPtr> Parser::ParseLiteralValue() {
  DepthScope depth(this);
  TH_RETURN_IF_ERROR(depth.Enter());
  const Token t = Peek();
  if (t.Is(TokenKind::kMinus) && Peek(1).Is(TokenKind::kNumber)) {
    Next();
    return MakeNumber(Next(), /*negative=*/true);
  }
  if (t.Is(TokenKind::kNumber)) return MakeNumber(Next(), /*negative=*/false);
  if (t.Is(TokenKind::kString)) return MakeStringLiteral(DecodeQuoted(Next().text), t.begin);
  if (t.IsKeyword("NULL")) {
    Next();
    return MakeNullLiteral(t.begin);
  }
  if (t.IsKeyword("TRUE") || t.IsKeyword("FALSE")) {
    Next();
    return MakeBoolLiteral(t.IsKeyword("TRUE"), t.begin);
  }
  if (t.Is(TokenKind::kOpenBracket) || t.Is(TokenKind::kOpenParen)) {
    bool array = t.Is(TokenKind::kOpenBracket);
    TokenKind close = array ? TokenKind::kCloseBracket : TokenKind::kCloseParen;
    Next();
    ExprList items;
    if (!Peek().Is(close)) {
      do {
        TH_ASSIGN_OR_RETURN(ExprPtr item, ParseLiteralValue());
        items.push_back(std::move(item));
      } while (Accept(TokenKind::kComma));
    }
    TH_RETURN_IF_ERROR(Expect(close));
    return MakeFunction(array ? "array" : "tuple", std::move(items), t.begin);
  }
  return SyntaxError("literal");
}

Result<std::vector<Setting>> Parser::ParseSettingList() {
  std::vector<Setting> out;
  while (true) {
    Setting s;
    s.pos = Offset();
    TH_ASSIGN_OR_RETURN(s.name, ParseName("setting name"));
    TH_RETURN_IF_ERROR(Expect(TokenKind::kEquals));
    TH_ASSIGN_OR_RETURN(s.value, ParseLiteralValue());
    out.push_back(std::move(s));
    // A ',' not followed by `name =` belongs to the enclosing list (ALTER commands).
    bool more = Peek().Is(TokenKind::kComma) &&
                (Peek(1).Is(TokenKind::kBareWord) || Peek(1).Is(TokenKind::kQuotedIdentifier)) &&
                Peek(2).Is(TokenKind::kEquals);
    if (!more) return out;
    Next();
  }
}

// ---------------------------------------------------------------------------------------------
// Statements

Result<StatementPtr> Parser::ParseStatementToEnd(bool in_script) {
  if (Peek().Is(TokenKind::kEnd) ||
      (Peek().Is(TokenKind::kSemicolon) && Peek(1).Is(TokenKind::kEnd))) {
    return Status::InvalidArgument("Empty query", ch::kEmptyQuery);
  }
  TH_ASSIGN_OR_RETURN(StatementPtr stmt, ParseStatementBody(in_script));
  if (const auto* insert = stmt->As<InsertStmt>();
      insert && insert->source != InsertStmt::Source::kSelect) {
    return stmt;  // the data follows; it is not SQL
  }
  TH_RETURN_IF_ERROR(ExpectEndOfStatement());
  return stmt;
}

Status Parser::ExpectEndOfStatement() {
  if (Accept(TokenKind::kSemicolon) && !Peek().Is(TokenKind::kEnd)) {
    Status s = SyntaxError("end of query");
    return Status::InvalidArgument("Syntax error (Multi-statements are not allowed)" +
                                       s.message().substr(std::string_view("Syntax error").size()),
                                   ch::kSyntaxError);
  }
  if (!Peek().Is(TokenKind::kEnd)) return SyntaxError("end of query");
  return Status::OK();
}

Result<StatementPtr> Parser::ParseStatementBody(bool in_script) {
  const Token t = Peek();
  if (PeekSelectStart()) {
    auto stmt = std::make_unique<SelectStmt>();
    stmt->pos = t.begin;
    TH_ASSIGN_OR_RETURN(stmt->query, ParseSelectUnion());
    TH_RETURN_IF_ERROR(ParseOutputTail(stmt.get(), /*allow_format=*/true));
    return StatementPtr(std::move(stmt));
  }
  if (t.IsKeyword("INSERT")) return ParseInsert(in_script);
  if (t.IsKeyword("CREATE")) return ParseCreate();
  if (t.IsKeyword("USE")) return ParseUse();
  if (t.IsKeyword("SET")) return ParseSet();
  if (t.IsKeyword("SYSTEM")) return ParseSystem();
  TH_ASSIGN_OR_RETURN(StatementPtr stmt, ParseCommand());
  // Statements that return rows take FORMAT; all of these take a trailing SETTINGS.
  bool allow_format =
      stmt->kind == StatementKind::kShowTables || stmt->kind == StatementKind::kShowDatabases ||
      stmt->kind == StatementKind::kShowCreateTable || stmt->kind == StatementKind::kDescribe ||
      stmt->kind == StatementKind::kExists || stmt->kind == StatementKind::kKillQuery;
  TH_RETURN_IF_ERROR(ParseOutputTail(stmt.get(), allow_format));
  return stmt;
}

Result<StatementPtr> Parser::ParseCommand() {
  const Token t = Peek();
  if (t.IsKeyword("DROP")) return ParseDrop();
  if (t.IsKeyword("TRUNCATE")) return ParseTruncate();
  if (t.IsKeyword("RENAME")) return ParseRename();
  if (t.IsKeyword("ALTER")) return ParseAlter();
  if (t.IsKeyword("OPTIMIZE")) return ParseOptimize();
  if (t.IsKeyword("SHOW")) return ParseShow();
  if (t.IsKeyword("DESC") || t.IsKeyword("DESCRIBE")) return ParseDescribe();
  if (t.IsKeyword("EXISTS")) return ParseExists();
  if (t.IsKeyword("KILL")) return ParseKill();
  static constexpr std::string_view kUnsupported[] = {
      "ATTACH", "DETACH",  "EXPLAIN", "GRANT",  "REVOKE",  "CHECK", "WATCH",  "EXCHANGE", "UNDROP",
      "BACKUP", "RESTORE", "DELETE",  "UPDATE", "REPLACE", "BEGIN", "COMMIT", "ROLLBACK", "MOVE"};
  for (std::string_view word : kUnsupported) {
    if (t.IsKeyword(word)) return Unsupported(std::string(word) + " statement", t.begin);
  }
  return SyntaxError(
      "one of: SELECT, WITH, INSERT, CREATE, ALTER, DROP, TRUNCATE, RENAME, OPTIMIZE, SHOW, "
      "DESCRIBE, EXISTS, USE, SET, SYSTEM, KILL");
}

Status Parser::ParseOutputTail(Statement* stmt, bool allow_format) {
  bool seen_settings = !stmt->settings.empty();
  while (true) {
    if (allow_format && stmt->format.empty() && PeekKeyword("FORMAT")) {
      Next();
      TH_ASSIGN_OR_RETURN(stmt->format, ParseName("format name"));
    } else if (!seen_settings && PeekKeyword("SETTINGS")) {
      Next();
      TH_ASSIGN_OR_RETURN(stmt->settings, ParseSettingList());
      seen_settings = true;
    } else if (PeekKeyword("INTO") && PeekKeyword("OUTFILE", 1)) {
      return Unsupported("INTO OUTFILE", Offset());
    } else {
      return Status::OK();
    }
  }
}

Result<StatementPtr> Parser::ParseInsert(bool in_script) {
  auto stmt = std::make_unique<InsertStmt>();
  stmt->pos = Offset();
  TH_RETURN_IF_ERROR(ExpectKeyword("INSERT"));
  TH_RETURN_IF_ERROR(ExpectKeyword("INTO"));
  if (PeekKeyword("FUNCTION")) return Unsupported("INSERT INTO FUNCTION", Offset());
  if (PeekKeyword("TABLE") && !Peek(1).Is(TokenKind::kOpenParen) && !PeekKeyword("VALUES", 1) &&
      !PeekKeyword("FORMAT", 1) && !PeekKeyword("SELECT", 1)) {
    Next();
  }
  TH_RETURN_IF_ERROR(ParseQualifiedName(&stmt->database, &stmt->table, "table name"));
  if (Peek().Is(TokenKind::kOpenParen) && !PeekSelectStart()) {
    Next();
    do {
      TH_ASSIGN_OR_RETURN(std::string column, ParseName("column name"));
      while (Accept(TokenKind::kDot)) {
        TH_ASSIGN_OR_RETURN(std::string part, ParseName("column name"));
        column += "." + part;
      }
      stmt->columns.push_back(std::move(column));
    } while (Accept(TokenKind::kComma));
    TH_RETURN_IF_ERROR(Expect(TokenKind::kCloseParen));
  }
  if (AcceptKeyword("SETTINGS")) {
    TH_ASSIGN_OR_RETURN(stmt->settings, ParseSettingList());
  }
  if (AcceptKeyword("VALUES")) {
    stmt->source = InsertStmt::Source::kValues;
    stmt->data_format = "Values";
    const Token& t = Peek();
    if (t.Is(TokenKind::kOpenParen)) {
      stmt->data_offset = t.begin;
    } else if (t.Is(TokenKind::kEnd) ||
               (t.Is(TokenKind::kSemicolon) && Peek(1).Is(TokenKind::kEnd))) {
      stmt->data_offset = t.begin;
    } else {
      return SyntaxError("'('");
    }
    size_t data_end = end_;
    if (!in_script) {
      while (data_end > stmt->data_offset && IsSpace(text_[data_end - 1])) --data_end;
      if (data_end > stmt->data_offset && text_[data_end - 1] == ';') --data_end;
    }
    stmt->data_end = std::max(data_end, stmt->data_offset);
    return StatementPtr(std::move(stmt));
  }
  if (AcceptKeyword("FORMAT")) {
    stmt->source = InsertStmt::Source::kFormat;
    const Token name = Peek();
    if (!name.Is(TokenKind::kBareWord) && !name.Is(TokenKind::kQuotedIdentifier)) {
      return SyntaxError("format name");
    }
    TH_ASSIGN_OR_RETURN(stmt->data_format, ParseName("format name"));
    size_t offset = name.end;
    if (offset < end_ && IsSpace(text_[offset])) ++offset;
    stmt->data_offset = offset;
    stmt->data_end = end_;
    return StatementPtr(std::move(stmt));
  }
  if (PeekSelectStart()) {
    stmt->source = InsertStmt::Source::kSelect;
    TH_ASSIGN_OR_RETURN(stmt->select, ParseSelectUnion());
    return StatementPtr(std::move(stmt));
  }
  return SyntaxError("one of: VALUES, FORMAT, SELECT, WITH, '(', SETTINGS");
}

Result<StatementPtr> Parser::ParseShow() {
  size_t pos = Offset();
  TH_RETURN_IF_ERROR(ExpectKeyword("SHOW"));
  auto parse_filter = [this](ShowFilter* filter) -> Status {
    size_t ahead = PeekKeyword("NOT") ? 1 : 0;
    if (!PeekKeyword("LIKE", ahead) && !PeekKeyword("ILIKE", ahead)) return Status::OK();
    filter->present = true;
    filter->negated = AcceptKeyword("NOT");
    filter->case_insensitive = PeekKeyword("ILIKE");
    Next();
    TH_ASSIGN_OR_RETURN(filter->pattern, ParseStringLiteral());
    return Status::OK();
  };
  if (AcceptKeyword("TABLES")) {
    auto stmt = std::make_unique<ShowTablesStmt>();
    stmt->pos = pos;
    if (AcceptKeyword("FROM") || AcceptKeyword("IN")) {
      TH_ASSIGN_OR_RETURN(stmt->database, ParseName("database name"));
    }
    TH_RETURN_IF_ERROR(parse_filter(&stmt->filter));
    if (AcceptKeyword("LIMIT")) {
      TH_ASSIGN_OR_RETURN(stmt->limit, ParseExpr());
    }
    return StatementPtr(std::move(stmt));
  }
  if (AcceptKeyword("DATABASES")) {
    auto stmt = std::make_unique<ShowDatabasesStmt>();
    stmt->pos = pos;
    TH_RETURN_IF_ERROR(parse_filter(&stmt->filter));
    if (AcceptKeyword("LIMIT")) {
      TH_ASSIGN_OR_RETURN(stmt->limit, ParseExpr());
    }
    return StatementPtr(std::move(stmt));
  }
  if (AcceptKeyword("CREATE")) {
    static constexpr std::string_view kOther[] = {"DATABASE", "VIEW",  "DICTIONARY", "USER",
                                                  "ROLE",     "QUOTA", "POLICY",     "PROFILE"};
    const Token& kw = Peek();
    bool named = Peek(1).Is(TokenKind::kBareWord) || Peek(1).Is(TokenKind::kQuotedIdentifier);
    for (std::string_view word : kOther) {
      if (named && kw.IsKeyword(word)) {
        return Unsupported("SHOW CREATE " + std::string(word), kw.begin);
      }
    }
    if (PeekKeyword("TEMPORARY")) return Unsupported("SHOW CREATE TEMPORARY TABLE", Offset());
    if (PeekKeyword("TABLE") &&
        (Peek(1).Is(TokenKind::kBareWord) || Peek(1).Is(TokenKind::kQuotedIdentifier))) {
      Next();
    }
    auto stmt = std::make_unique<ShowCreateTableStmt>();
    stmt->pos = pos;
    TH_RETURN_IF_ERROR(ParseQualifiedName(&stmt->database, &stmt->table, "table name"));
    return StatementPtr(std::move(stmt));
  }
  if (Peek().Is(TokenKind::kBareWord)) {
    return Unsupported("SHOW " + std::string(Peek().text), Offset());
  }
  return SyntaxError("one of: TABLES, DATABASES, CREATE");
}

Result<StatementPtr> Parser::ParseDescribe() {
  auto stmt = std::make_unique<DescribeStmt>();
  stmt->pos = Offset();
  Next();  // DESC / DESCRIBE
  if (PeekKeyword("TABLE") &&
      (Peek(1).Is(TokenKind::kBareWord) || Peek(1).Is(TokenKind::kQuotedIdentifier))) {
    Next();
  }
  if (Peek().Is(TokenKind::kOpenParen)) return Unsupported("DESCRIBE of a query", Offset());
  TH_RETURN_IF_ERROR(ParseQualifiedName(&stmt->database, &stmt->table, "table name"));
  if (Peek().Is(TokenKind::kOpenParen)) {
    return Unsupported("DESCRIBE of a table function", Offset());
  }
  return StatementPtr(std::move(stmt));
}

Result<StatementPtr> Parser::ParseExists() {
  auto stmt = std::make_unique<ExistsStmt>();
  stmt->pos = Offset();
  TH_RETURN_IF_ERROR(ExpectKeyword("EXISTS"));
  bool named = Peek(1).Is(TokenKind::kBareWord) || Peek(1).Is(TokenKind::kQuotedIdentifier);
  if (named && (PeekKeyword("VIEW") || PeekKeyword("DICTIONARY") || PeekKeyword("TEMPORARY"))) {
    return Unsupported("EXISTS " + std::string(Peek().text), Offset());
  }
  if (named && PeekKeyword("DATABASE")) {
    Next();
    stmt->is_database = true;
    TH_ASSIGN_OR_RETURN(stmt->database, ParseName("database name"));
    return StatementPtr(std::move(stmt));
  }
  if (named && PeekKeyword("TABLE")) Next();
  TH_RETURN_IF_ERROR(ParseQualifiedName(&stmt->database, &stmt->table, "table name"));
  return StatementPtr(std::move(stmt));
}

Result<StatementPtr> Parser::ParseUse() {
  auto stmt = std::make_unique<UseStmt>();
  stmt->pos = Offset();
  TH_RETURN_IF_ERROR(ExpectKeyword("USE"));
  TH_ASSIGN_OR_RETURN(stmt->database, ParseName("database name"));
  return StatementPtr(std::move(stmt));
}

Result<StatementPtr> Parser::ParseSet() {
  auto stmt = std::make_unique<SetStmt>();
  stmt->pos = Offset();
  TH_RETURN_IF_ERROR(ExpectKeyword("SET"));
  if ((PeekKeyword("ROLE") || PeekKeyword("DEFAULT")) && !Peek(1).Is(TokenKind::kEquals)) {
    return Unsupported("SET " + std::string(Peek().text), Offset());
  }
  TH_ASSIGN_OR_RETURN(stmt->settings, ParseSettingList());
  return StatementPtr(std::move(stmt));
}

Result<StatementPtr> Parser::ParseSystem() {
  auto stmt = std::make_unique<SystemStmt>();
  stmt->pos = Offset();
  TH_RETURN_IF_ERROR(ExpectKeyword("SYSTEM"));
  auto is_name = [](const Token& t) {
    return t.Is(TokenKind::kBareWord) || t.Is(TokenKind::kQuotedIdentifier);
  };
  while (true) {
    const Token t = Peek();
    if (t.Is(TokenKind::kString) || t.Is(TokenKind::kNumber)) {
      stmt->words.emplace_back(Next().text);
    } else if (is_name(t)) {
      std::string word(Next().text);
      // A dotted name, `db.t`, is one word.
      while (Peek().Is(TokenKind::kDot) && is_name(Peek(1))) {
        Next();
        word += '.';
        word += Next().text;
      }
      stmt->words.push_back(std::move(word));
    } else {
      break;
    }
  }
  if (stmt->words.empty()) return SyntaxError("identifier");
  return StatementPtr(std::move(stmt));
}

Result<StatementPtr> Parser::ParseKill() {
  auto stmt = std::make_unique<KillQueryStmt>();
  stmt->pos = Offset();
  TH_RETURN_IF_ERROR(ExpectKeyword("KILL"));
  if (!PeekKeyword("QUERY")) {
    if (Peek().Is(TokenKind::kBareWord)) {
      return Unsupported("KILL " + std::string(Peek().text), Offset());
    }
    return SyntaxError("QUERY");
  }
  Next();
  if (PeekKeyword("ON")) return Unsupported("ON CLUSTER", Offset());
  TH_RETURN_IF_ERROR(ExpectKeyword("WHERE"));
  TH_ASSIGN_OR_RETURN(stmt->where, ParseExpr());
  for (std::string_view mode : {"SYNC", "ASYNC", "TEST"}) {
    if (AcceptKeyword(mode)) {
      stmt->mode = std::string(mode);
      break;
    }
  }
  return StatementPtr(std::move(stmt));
}

Result<ExprPtr> Parser::ParseExpressionToEnd() {
  if (Peek().Is(TokenKind::kEnd)) return SyntaxError("expression");
  TH_ASSIGN_OR_RETURN(ExprPtr e, ParseExprWithAlias(/*allow_implicit_alias=*/false));
  if (!Peek().Is(TokenKind::kEnd)) return SyntaxError("end of expression");
  return e;
}

Result<std::string> Parser::ParseTypeToEnd() {
  TH_ASSIGN_OR_RETURN(std::string type, ParseType());
  if (!Peek().Is(TokenKind::kEnd)) return SyntaxError("end of type");
  return type;
}

// ---------------------------------------------------------------------------------------------
// Facade

Result<StatementPtr> ParseStatement(std::string_view text) {
  Parser parser(text, 0, text.size());
  return parser.ParseStatementToEnd(/*in_script=*/false);
}

Result<std::vector<StatementPtr>> ParseScript(std::string_view text) {
  // Split on ';' tokens: the lexer already skips strings, comments and quoted identifiers.
  // A lexer error ends splitting; the rest is one piece whose parse reports the error.
  std::vector<std::pair<size_t, size_t>> pieces;
  Lexer lexer(text);
  size_t piece_begin = 0;
  bool has_tokens = false;
  while (true) {
    Token t = lexer.Next();
    if (t.Is(TokenKind::kEnd) || t.Is(TokenKind::kError)) {
      if (has_tokens || t.Is(TokenKind::kError)) pieces.emplace_back(piece_begin, text.size());
      break;
    }
    if (t.Is(TokenKind::kSemicolon)) {
      if (has_tokens) pieces.emplace_back(piece_begin, t.begin);
      piece_begin = t.end;
      has_tokens = false;
    } else {
      has_tokens = true;
    }
  }
  std::vector<StatementPtr> out;
  for (auto [begin, end] : pieces) {
    Parser parser(text, begin, end);
    TH_ASSIGN_OR_RETURN(StatementPtr stmt, parser.ParseStatementToEnd(/*in_script=*/true));
    out.push_back(std::move(stmt));
  }
  return out;
}

Result<ExprPtr> ParseExpression(std::string_view text) {
  Parser parser(text, 0, text.size());
  return parser.ParseExpressionToEnd();
}

Result<std::string> ParseTypeText(std::string_view text) {
  Parser parser(text, 0, text.size());
  return parser.ParseTypeToEnd();
}

}  // namespace trackhouse::sql
