// Parser: the recursive-descent parser behind parser.h. Private to the sql module.
//
// One Parser parses text[begin, end) of a larger text (a statement of a script); all positions
// are offsets into the whole text, so errors point at the right line of a migration file.
// Tokens are pulled from the Lexer lazily, so INSERT ... FORMAT data after the statement is
// never tokenized. The implementation is split by grammar area: parse_expr.cc (expressions,
// types), parse_select.cc (SELECT), parse_ddl.cc (CREATE, ALTER, DROP, ...), parser.cc
// (statement dispatch, INSERT, SHOW and the other small statements, the facade).
//
// A Parser is single-use and not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "sql/ast.h"
#include "sql/lexer.h"
#include "sql/parser.h"

namespace trackhouse::sql {

// Levels of the binary operators, loosest first (ParseBinary).
enum BinaryPrecedence : int {
  kPrecOr = 1,
  kPrecAnd,
  kPrecNot,
  kPrecCompare,
  kPrecConcat,
  kPrecAdditive,
  kPrecMultiplicative,
};

// A binary operator at the cursor: its level, the function it becomes and how many keyword
// tokens spell it (`NOT LIKE` is two). prec 0 means no operator.
struct InfixOperator {
  enum Special : unsigned char { kPlain, kIs, kIn, kBetween, kGlobalIn };
  int prec = 0;
  std::string_view function;
  Special special = kPlain;
  int tokens = 1;
  bool negated = false;  // NOT BETWEEN
};

class Parser {
 public:
  Parser(std::string_view text, size_t begin, size_t end);

  // One statement, an optional ';', then the end of the range. `in_script` sets how INSERT data
  // ends (see InsertStmt::data_end).
  Result<StatementPtr> ParseStatementToEnd(bool in_script);
  // One expression with an optional alias, then the end of the range.
  Result<ExprPtr> ParseExpressionToEnd();
  // One type, then the end of the range.
  Result<std::string> ParseTypeToEnd();

 private:
  friend class DepthScope;

  // ---- tokens (parser.cc)
  // Tokens are returned by value: the buffer may grow (and move) on any later Peek.
  Token Peek(size_t ahead = 0);
  Token Next();
  bool Accept(TokenKind kind);
  bool AcceptKeyword(std::string_view keyword);
  // Accepts a sequence of keywords only if all of them are next ("ORDER", "BY").
  bool AcceptKeywords(std::initializer_list<std::string_view> keywords);
  bool PeekKeyword(std::string_view keyword, size_t ahead = 0);
  Status Expect(TokenKind kind);
  Status ExpectKeyword(std::string_view keyword);
  size_t Offset() { return Peek().begin; }

  // ---- errors (parser.cc)
  // "Syntax error: failed at position ... Expected <expected>" at the next token.
  Status SyntaxError(std::string_view expected);
  Status SyntaxErrorAt(const Token& token, std::string_view expected);
  // "<what> is not supported by trackhouse (position N)".
  Status Unsupported(std::string_view what, size_t pos);
  // Line and column (1-based) of a byte offset.
  std::pair<size_t, size_t> LineCol(size_t offset) const;

  // ---- names (parser.cc)
  // A bare word or quoted identifier. Bare words that are reserved in expressions are refused
  // unless allow_reserved.
  Result<std::string> ParseName(std::string_view what, bool allow_reserved = true);
  // [database.]name
  Status ParseQualifiedName(std::string* database, std::string* name, std::string_view what);
  Result<std::string> ParseStringLiteral();
  // SETTINGS body: name = literal [, ...]
  Result<std::vector<Setting>> ParseSettingList();
  // A literal value for SETTINGS / SET: number (optionally negative), string, NULL, true/false,
  // or an array/tuple of those.
  Result<ExprPtr> ParseLiteralValue();

  // ---- statements (parser.cc)
  Result<StatementPtr> ParseStatementBody(bool in_script);
  // DROP, TRUNCATE, RENAME, ALTER, OPTIMIZE, SHOW, DESCRIBE, EXISTS, KILL (before their tail).
  Result<StatementPtr> ParseCommand();
  Result<StatementPtr> ParseInsert(bool in_script);
  Result<StatementPtr> ParseShow();
  Result<StatementPtr> ParseDescribe();
  Result<StatementPtr> ParseExists();
  Result<StatementPtr> ParseUse();
  Result<StatementPtr> ParseSet();
  Result<StatementPtr> ParseSystem();
  Result<StatementPtr> ParseKill();
  // [FORMAT name] [SETTINGS ...] after a statement; FORMAT only when allow_format.
  Status ParseOutputTail(Statement* stmt, bool allow_format);
  Status ExpectEndOfStatement();

  // ---- DDL (parse_ddl.cc)
  Result<StatementPtr> ParseCreate();
  Result<StatementPtr> ParseCreateTable(size_t pos);
  Result<StatementPtr> ParseCreateDatabase(size_t pos);
  Result<StatementPtr> ParseDrop();
  Result<StatementPtr> ParseTruncate();
  Result<StatementPtr> ParseRename();
  Result<StatementPtr> ParseAlter();
  Result<StatementPtr> ParseOptimize();
  // A column declaration; the type is optional when a default follows or when type_optional.
  Status ParseColumnDef(ColumnDef* column, bool type_optional);
  Result<EngineDef> ParseEngine();
  Result<std::vector<TtlElement>> ParseTtlList();
  Status ParseAlterCommand(AlterCommand* command);
  // PARTITION expr | PARTITION ID 'x' (after the PARTITION keyword).
  Status ParsePartition(ExprPtr* partition, std::string* partition_id);
  bool StartsAlterCommand(size_t ahead);

  // ---- SELECT (parse_select.cc)
  // SELECT ... [UNION ALL ...]; the current token is SELECT, WITH or '('.
  Result<std::unique_ptr<SelectUnion>> ParseSelectUnion();
  Result<std::unique_ptr<SelectQuery>> ParseSelectQuery();
  Result<std::unique_ptr<TableExpr>> ParseTableExpr();
  Result<OrderByItem> ParseOrderByItem();
  bool PeekSelectStart(size_t ahead = 0);
  // Rejects JOIN-like syntax following a FROM source.
  Status RejectJoin();

  // ---- expressions (parse_expr.cc)
  Result<ExprPtr> ParseExpr();
  Result<ExprPtr> ParseExprWithAlias(bool allow_implicit_alias);
  Result<ExprList> ParseExprList(bool allow_alias);
  Result<ExprPtr> ParseTernary();
  // Precedence climbing over the binary operators whose level is at least min_prec, with
  // prefix NOT at its own level.
  Result<ExprPtr> ParseBinary(int min_prec);
  InfixOperator PeekInfix();
  // The right-hand side of `op` (just consumed) and the node joining it to lhs.
  Result<ExprPtr> ParseInfixOperand(const InfixOperator& op, ExprPtr lhs);
  Result<ExprPtr> ParseUnary();
  Result<ExprPtr> ParsePostfix();
  // One of `[i]`, `::Type`, `.N`, `.name` applied to e.
  Result<ExprPtr> ParsePostfixOperator(ExprPtr e);
  Result<ExprPtr> ParsePrimary();
  // A primary expression starting with a word: literal words, CASE, CAST, INTERVAL, ...,
  // function calls and identifiers.
  Result<ExprPtr> ParseWordPrimary();
  Result<ExprPtr> ParseParenthesized();
  Result<ExprPtr> ParseInRhs();
  Result<ExprPtr> ParseArray();
  Result<ExprPtr> ParseQueryParameter();
  Result<ExprPtr> ParseCase();
  Result<ExprPtr> ParseFunctionCall(std::string name, size_t pos);
  Result<ExprPtr> ParseCastCall(size_t pos);
  Result<ExprPtr> ParseExtractCall(size_t pos);
  // INTERVAL <operand> <unit> | INTERVAL 'n unit'; nullptr (and nothing consumed) when the
  // tokens after INTERVAL do not form an interval, so `interval` can be a column name.
  Result<ExprPtr> TryParseInterval();
  Result<ExprPtr> MakeNumber(const Token& token, bool negative);
  Result<std::string> ParseType();

  std::string_view text_;
  size_t end_;
  Lexer lexer_;
  std::vector<Token> tokens_;  // lexed so far
  size_t next_ = 0;            // index of the next unconsumed token in tokens_
  int depth_ = 0;
  uintptr_t stack_base_;  // frame address when the parser was made; the stack grows down
};

// Most stack a parse may use, whatever the depth count says: sanitizer builds have much larger
// frames, and the parser may run on threads with small stacks.
inline constexpr uintptr_t kMaxParseStackBytes = uintptr_t{2} << 20;

// RAII nesting counter: each Enter() adds one level until the scope ends; Enter() fails once
// the parser is deeper than kMaxParseDepth.
class DepthScope {
 public:
  explicit DepthScope(Parser* parser) : parser_(parser) {}
  ~DepthScope() { parser_->depth_ -= entered_; }
  DepthScope(const DepthScope&) = delete;
  DepthScope& operator=(const DepthScope&) = delete;

  Status Enter();

 private:
  Parser* parser_;
  int entered_ = 0;
};

}  // namespace trackhouse::sql
