// DDL: CREATE TABLE / DATABASE, DROP, TRUNCATE, RENAME, ALTER TABLE, OPTIMIZE.
#include <string>
#include <utility>

#include "sql/keywords.h"
#include "sql/parser_impl.h"

namespace trackhouse::sql {
namespace {

bool IsNameToken(const Token& t) {
  return t.Is(TokenKind::kBareWord) || t.Is(TokenKind::kQuotedIdentifier);
}

bool IsColumnModifier(const Token& t) {
  return t.Is(TokenKind::kBareWord) && IsColumnModifierKeyword(t.text);
}

}  // namespace

// True if the tokens at `ahead` begin an ALTER command (`DROP COLUMN`, `MODIFY TTL`, ...): a
// ',' before them separates commands, not list elements.
bool Parser::StartsAlterCommand(size_t ahead) {
  static constexpr std::string_view kWords[] = {
      "ADD",      "DROP",  "MODIFY",  "RENAME",      "COMMENT", "REMOVE", "DELETE",
      "UPDATE",   "RESET", "CLEAR",   "MATERIALIZE", "ATTACH",  "DETACH", "FREEZE",
      "UNFREEZE", "MOVE",  "REPLACE", "FETCH",       "APPLY"};
  const Token t = Peek(ahead);
  const Token n = Peek(ahead + 1);
  if (!n.Is(TokenKind::kBareWord) && !(t.IsKeyword("DELETE") && n.IsKeyword("WHERE"))) {
    return false;
  }
  for (std::string_view w : kWords) {
    if (t.IsKeyword(w)) return true;
  }
  return false;
}

namespace {

Status Duplicate(std::string_view clause, size_t pos) {
  return Status::InvalidArgument("Syntax error: duplicate " + std::string(clause) +
                                     " clause at position " + std::to_string(pos + 1),
                                 ch::kSyntaxError);
}

}  // namespace

Result<StatementPtr> Parser::ParseCreate() {
  size_t pos = Offset();
  TH_RETURN_IF_ERROR(ExpectKeyword("CREATE"));
  if (PeekKeyword("OR") && PeekKeyword("REPLACE", 1)) {
    return Unsupported("CREATE OR REPLACE", Offset());
  }
  if (PeekKeyword("TEMPORARY")) return Unsupported("CREATE TEMPORARY TABLE", Offset());
  if (AcceptKeyword("TABLE")) return ParseCreateTable(pos);
  if (AcceptKeyword("DATABASE")) return ParseCreateDatabase(pos);
  static constexpr std::string_view kOther[] = {
      "VIEW",  "MATERIALIZED", "LIVE",   "WINDOW",   "DICTIONARY", "FUNCTION", "USER", "ROLE",
      "QUOTA", "ROW",          "POLICY", "SETTINGS", "PROFILE",    "NAMED",    "INDEX"};
  for (std::string_view word : kOther) {
    if (!PeekKeyword(word)) continue;
    std::string what = "CREATE " + std::string(word);
    if (word == "MATERIALIZED" || word == "LIVE" || word == "WINDOW") what += " VIEW";
    return Unsupported(what, Offset());
  }
  return SyntaxError("one of: TABLE, DATABASE");
}

Result<StatementPtr> Parser::ParseCreateTable(size_t pos) {
  auto stmt = std::make_unique<CreateTableStmt>();
  stmt->pos = pos;
  stmt->if_not_exists = AcceptKeywords({"IF", "NOT", "EXISTS"});
  TH_RETURN_IF_ERROR(ParseQualifiedName(&stmt->database, &stmt->table, "table name"));
  if (PeekKeyword("ON") && PeekKeyword("CLUSTER", 1)) return Unsupported("ON CLUSTER", Offset());
  if (PeekKeyword("UUID")) return Unsupported("UUID in CREATE TABLE", Offset());

  if (Peek().Is(TokenKind::kOpenParen) && !PeekSelectStart()) {
    Next();
    do {
      const Token t = Peek();
      if (t.Is(TokenKind::kCloseParen)) return SyntaxError("column declaration");
      bool element = t.IsKeyword("INDEX") || t.IsKeyword("CONSTRAINT") ||
                     t.IsKeyword("PROJECTION") || t.IsKeyword("STATISTICS");
      if (element && IsNameToken(Peek(1)) && !Peek(2).Is(TokenKind::kComma) &&
          !Peek(2).Is(TokenKind::kCloseParen)) {
        return Unsupported(std::string(t.text) + " in CREATE TABLE", t.begin);
      }
      if (t.IsKeyword("PRIMARY") && PeekKeyword("KEY", 1)) {
        Next();
        Next();
        if (stmt->primary_key) return Duplicate("PRIMARY KEY", t.begin);
        TH_ASSIGN_OR_RETURN(stmt->primary_key, ParseExpr());
        continue;
      }
      ColumnDef column;
      TH_RETURN_IF_ERROR(ParseColumnDef(&column, /*type_optional=*/false));
      stmt->columns.push_back(std::move(column));
    } while (Accept(TokenKind::kComma));
    TH_RETURN_IF_ERROR(Expect(TokenKind::kCloseParen));
  }

  if (stmt->columns.empty() && PeekKeyword("AS") && !PeekSelectStart(1)) {
    Next();
    if (IsNameToken(Peek()) && Peek(1).Is(TokenKind::kOpenParen)) {
      return Unsupported("CREATE TABLE AS table function", Offset());
    }
    TH_RETURN_IF_ERROR(ParseQualifiedName(&stmt->as_database, &stmt->as_table, "table name"));
  }

  while (true) {
    const Token t = Peek();
    if (t.IsKeyword("ENGINE")) {
      if (stmt->engine) return Duplicate("ENGINE", t.begin);
      Next();
      Accept(TokenKind::kEquals);
      TH_ASSIGN_OR_RETURN(EngineDef engine, ParseEngine());
      stmt->engine = std::move(engine);
    } else if (AcceptKeywords({"PARTITION", "BY"})) {
      if (stmt->partition_by) return Duplicate("PARTITION BY", t.begin);
      TH_ASSIGN_OR_RETURN(stmt->partition_by, ParseExpr());
    } else if (AcceptKeywords({"ORDER", "BY"})) {
      if (stmt->order_by) return Duplicate("ORDER BY", t.begin);
      TH_ASSIGN_OR_RETURN(stmt->order_by, ParseExpr());
    } else if (AcceptKeywords({"PRIMARY", "KEY"})) {
      if (stmt->primary_key) return Duplicate("PRIMARY KEY", t.begin);
      TH_ASSIGN_OR_RETURN(stmt->primary_key, ParseExpr());
    } else if (AcceptKeywords({"SAMPLE", "BY"})) {
      if (stmt->sample_by) return Duplicate("SAMPLE BY", t.begin);
      TH_ASSIGN_OR_RETURN(stmt->sample_by, ParseExpr());
    } else if (AcceptKeyword("TTL")) {
      if (!stmt->ttl.empty()) return Duplicate("TTL", t.begin);
      TH_ASSIGN_OR_RETURN(stmt->ttl, ParseTtlList());
    } else if (AcceptKeyword("SETTINGS")) {
      if (!stmt->settings.empty()) return Duplicate("SETTINGS", t.begin);
      TH_ASSIGN_OR_RETURN(stmt->settings, ParseSettingList());
    } else if (AcceptKeyword("COMMENT")) {
      if (!stmt->comment.empty()) return Duplicate("COMMENT", t.begin);
      TH_ASSIGN_OR_RETURN(stmt->comment, ParseStringLiteral());
    } else if (t.IsKeyword("EMPTY") && PeekKeyword("AS", 1)) {
      return Unsupported("CREATE TABLE ... EMPTY AS", t.begin);
    } else if (t.IsKeyword("AS")) {
      Next();
      if (!PeekSelectStart()) return SyntaxError("one of: SELECT, WITH");
      TH_ASSIGN_OR_RETURN(stmt->as_select, ParseSelectUnion());
      break;
    } else {
      break;
    }
  }
  if (stmt->columns.empty() && stmt->as_table.empty() && !stmt->as_select) {
    return SyntaxError("one of: column list, AS table, AS SELECT");
  }
  return StatementPtr(std::move(stmt));
}

Result<StatementPtr> Parser::ParseCreateDatabase(size_t pos) {
  auto stmt = std::make_unique<CreateDatabaseStmt>();
  stmt->pos = pos;
  stmt->if_not_exists = AcceptKeywords({"IF", "NOT", "EXISTS"});
  TH_ASSIGN_OR_RETURN(stmt->name, ParseName("database name"));
  if (PeekKeyword("ON") && PeekKeyword("CLUSTER", 1)) return Unsupported("ON CLUSTER", Offset());
  if (AcceptKeyword("ENGINE")) {
    Accept(TokenKind::kEquals);
    TH_ASSIGN_OR_RETURN(EngineDef engine, ParseEngine());
    stmt->engine = std::move(engine);
  }
  if (AcceptKeyword("COMMENT")) {
    TH_ASSIGN_OR_RETURN(stmt->comment, ParseStringLiteral());
  }
  return StatementPtr(std::move(stmt));
}

Result<EngineDef> Parser::ParseEngine() {
  EngineDef engine;
  engine.pos = Offset();
  TH_ASSIGN_OR_RETURN(engine.name, ParseName("engine name"));
  if (Accept(TokenKind::kOpenParen)) {
    if (!Accept(TokenKind::kCloseParen)) {
      TH_ASSIGN_OR_RETURN(engine.args, ParseExprList(/*allow_alias=*/false));
      TH_RETURN_IF_ERROR(Expect(TokenKind::kCloseParen));
    }
  }
  return engine;
}

Status Parser::ParseColumnDef(ColumnDef* column, bool type_optional) {
  column->pos = Offset();
  TH_ASSIGN_OR_RETURN(column->name, ParseName("column name"));
  const Token t = Peek();
  bool default_next = t.IsKeyword("DEFAULT") || t.IsKeyword("MATERIALIZED") ||
                      t.IsKeyword("ALIAS") || t.IsKeyword("EPHEMERAL");
  if (type_optional ? (t.Is(TokenKind::kBareWord) && !IsColumnModifier(t)) : !default_next) {
    TH_ASSIGN_OR_RETURN(column->type, ParseType());
  }
  bool nullable = false;
  while (true) {
    const Token m = Peek();
    if (m.IsKeyword("NULL")) {
      Next();
      if (column->type.empty()) return SyntaxErrorAt(m, "type before NULL");
      if (!nullable) column->type = "Nullable(" + column->type + ")";
      nullable = true;
    } else if (m.IsKeyword("NOT") && PeekKeyword("NULL", 1)) {
      Next();
      Next();
    } else if (m.IsKeyword("DEFAULT") || m.IsKeyword("MATERIALIZED") || m.IsKeyword("ALIAS") ||
               m.IsKeyword("EPHEMERAL")) {
      if (column->default_kind != ColumnDefaultKind::kNone) return Duplicate("DEFAULT", m.begin);
      Next();
      column->default_kind = m.IsKeyword("DEFAULT")        ? ColumnDefaultKind::kDefault
                             : m.IsKeyword("MATERIALIZED") ? ColumnDefaultKind::kMaterialized
                             : m.IsKeyword("ALIAS")        ? ColumnDefaultKind::kAlias
                                                           : ColumnDefaultKind::kEphemeral;
      const Token n = Peek();
      bool bare_ephemeral = column->default_kind == ColumnDefaultKind::kEphemeral &&
                            (n.Is(TokenKind::kComma) || n.Is(TokenKind::kCloseParen) ||
                             n.Is(TokenKind::kEnd) || IsColumnModifier(n));
      if (!bare_ephemeral) {
        TH_ASSIGN_OR_RETURN(column->default_expr, ParseExpr());
      }
    } else if (m.IsKeyword("COMMENT")) {
      Next();
      TH_ASSIGN_OR_RETURN(column->comment, ParseStringLiteral());
    } else if (m.IsKeyword("CODEC")) {
      if (!column->codecs.empty()) return Duplicate("CODEC", m.begin);
      Next();
      TH_RETURN_IF_ERROR(Expect(TokenKind::kOpenParen));
      TH_ASSIGN_OR_RETURN(column->codecs, ParseExprList(/*allow_alias=*/false));
      TH_RETURN_IF_ERROR(Expect(TokenKind::kCloseParen));
    } else if (m.IsKeyword("TTL")) {
      if (column->ttl) return Duplicate("TTL", m.begin);
      Next();
      TH_ASSIGN_OR_RETURN(column->ttl, ParseExpr());
    } else if (m.IsKeyword("PRIMARY") && PeekKeyword("KEY", 1)) {
      return Unsupported("PRIMARY KEY in a column declaration", m.begin);
    } else if (m.IsKeyword("STATISTICS") || m.IsKeyword("COLLATE") ||
               m.IsKeyword("AUTO_INCREMENT") ||
               (m.IsKeyword("SETTINGS") && Peek(1).Is(TokenKind::kOpenParen))) {
      return Unsupported(std::string(m.text) + " in a column declaration", m.begin);
    } else {
      break;
    }
  }
  if (!type_optional && column->type.empty() && column->default_kind == ColumnDefaultKind::kNone) {
    return SyntaxError("type");
  }
  return Status::OK();
}

Result<std::vector<TtlElement>> Parser::ParseTtlList() {
  std::vector<TtlElement> out;
  while (true) {
    TtlElement e;
    e.pos = Offset();
    TH_ASSIGN_OR_RETURN(e.expr, ParseExpr());
    if (AcceptKeyword("DELETE")) {
      e.action = TtlElement::Action::kDelete;
    } else if (PeekKeyword("TO") && (PeekKeyword("DISK", 1) || PeekKeyword("VOLUME", 1))) {
      return Unsupported("TTL TO " + std::string(Peek(1).text), Offset());
    } else if (PeekKeyword("RECOMPRESS")) {
      return Unsupported("TTL RECOMPRESS", Offset());
    } else if (PeekKeyword("GROUP") && PeekKeyword("BY", 1)) {
      return Unsupported("TTL GROUP BY", Offset());
    }
    if (AcceptKeyword("WHERE")) {
      TH_ASSIGN_OR_RETURN(e.where, ParseExpr());
    }
    out.push_back(std::move(e));
    if (!Peek().Is(TokenKind::kComma) || StartsAlterCommand(1)) return out;
    Next();
  }
}

Result<StatementPtr> Parser::ParseDrop() {
  size_t pos = Offset();
  TH_RETURN_IF_ERROR(ExpectKeyword("DROP"));
  if (AcceptKeyword("TABLE")) {
    auto stmt = std::make_unique<DropTableStmt>();
    stmt->pos = pos;
    stmt->if_exists = AcceptKeywords({"IF", "EXISTS"});
    TH_RETURN_IF_ERROR(ParseQualifiedName(&stmt->database, &stmt->table, "table name"));
    if (PeekKeyword("ON") && PeekKeyword("CLUSTER", 1)) {
      return Unsupported("ON CLUSTER", Offset());
    }
    stmt->sync = AcceptKeyword("SYNC") || AcceptKeywords({"NO", "DELAY"});
    return StatementPtr(std::move(stmt));
  }
  if (AcceptKeyword("DATABASE")) {
    auto stmt = std::make_unique<DropDatabaseStmt>();
    stmt->pos = pos;
    stmt->if_exists = AcceptKeywords({"IF", "EXISTS"});
    TH_ASSIGN_OR_RETURN(stmt->name, ParseName("database name"));
    if (PeekKeyword("ON") && PeekKeyword("CLUSTER", 1)) {
      return Unsupported("ON CLUSTER", Offset());
    }
    stmt->sync = AcceptKeyword("SYNC") || AcceptKeywords({"NO", "DELAY"});
    return StatementPtr(std::move(stmt));
  }
  static constexpr std::string_view kOther[] = {
      "VIEW",    "DICTIONARY", "FUNCTION", "USER",      "ROLE", "QUOTA",   "POLICY",
      "PROFILE", "INDEX",      "NAMED",    "TEMPORARY", "ROW",  "SETTINGS"};
  for (std::string_view word : kOther) {
    if (PeekKeyword(word)) return Unsupported("DROP " + std::string(word), Offset());
  }
  return SyntaxError("one of: TABLE, DATABASE");
}

Result<StatementPtr> Parser::ParseTruncate() {
  auto stmt = std::make_unique<TruncateTableStmt>();
  stmt->pos = Offset();
  TH_RETURN_IF_ERROR(ExpectKeyword("TRUNCATE"));
  if (PeekKeyword("TEMPORARY")) return Unsupported("TRUNCATE TEMPORARY TABLE", Offset());
  if (PeekKeyword("ALL") && PeekKeyword("TABLES", 1)) {
    return Unsupported("TRUNCATE ALL TABLES", Offset());
  }
  if (PeekKeyword("TABLE") && IsNameToken(Peek(1))) Next();
  stmt->if_exists = AcceptKeywords({"IF", "EXISTS"});
  TH_RETURN_IF_ERROR(ParseQualifiedName(&stmt->database, &stmt->table, "table name"));
  if (PeekKeyword("ON") && PeekKeyword("CLUSTER", 1)) return Unsupported("ON CLUSTER", Offset());
  return StatementPtr(std::move(stmt));
}

Result<StatementPtr> Parser::ParseRename() {
  auto stmt = std::make_unique<RenameTableStmt>();
  stmt->pos = Offset();
  TH_RETURN_IF_ERROR(ExpectKeyword("RENAME"));
  if (PeekKeyword("DATABASE") || PeekKeyword("DICTIONARY")) {
    return Unsupported("RENAME " + std::string(Peek().text), Offset());
  }
  TH_RETURN_IF_ERROR(ExpectKeyword("TABLE"));
  do {
    RenameTableStmt::Pair pair;
    TH_RETURN_IF_ERROR(ParseQualifiedName(&pair.from_database, &pair.from_table, "table name"));
    TH_RETURN_IF_ERROR(ExpectKeyword("TO"));
    TH_RETURN_IF_ERROR(ParseQualifiedName(&pair.to_database, &pair.to_table, "table name"));
    stmt->renames.push_back(std::move(pair));
  } while (Accept(TokenKind::kComma));
  if (PeekKeyword("ON") && PeekKeyword("CLUSTER", 1)) return Unsupported("ON CLUSTER", Offset());
  return StatementPtr(std::move(stmt));
}

Result<StatementPtr> Parser::ParseAlter() {
  auto stmt = std::make_unique<AlterTableStmt>();
  stmt->pos = Offset();
  TH_RETURN_IF_ERROR(ExpectKeyword("ALTER"));
  if (!AcceptKeyword("TABLE")) {
    if (Peek().Is(TokenKind::kBareWord)) {
      return Unsupported("ALTER " + std::string(Peek().text), Offset());
    }
    return SyntaxError("TABLE");
  }
  TH_RETURN_IF_ERROR(ParseQualifiedName(&stmt->database, &stmt->table, "table name"));
  if (PeekKeyword("ON") && PeekKeyword("CLUSTER", 1)) return Unsupported("ON CLUSTER", Offset());
  do {
    AlterCommand command;
    TH_RETURN_IF_ERROR(ParseAlterCommand(&command));
    stmt->commands.push_back(std::move(command));
  } while (Accept(TokenKind::kComma));
  return StatementPtr(std::move(stmt));
}

Status Parser::ParseAlterCommand(AlterCommand* c) {
  c->pos = Offset();
  auto placement = [this, c]() -> Status {
    if (AcceptKeyword("AFTER")) {
      TH_ASSIGN_OR_RETURN(c->after, ParseName("column name"));
    } else if (AcceptKeyword("FIRST")) {
      c->first = true;
    }
    return Status::OK();
  };
  if (AcceptKeywords({"ADD", "COLUMN"})) {
    c->kind = AlterCommandKind::kAddColumn;
    c->if_not_exists = AcceptKeywords({"IF", "NOT", "EXISTS"});
    TH_RETURN_IF_ERROR(ParseColumnDef(&c->column, /*type_optional=*/false));
    return placement();
  }
  if (AcceptKeywords({"DROP", "COLUMN"})) {
    c->kind = AlterCommandKind::kDropColumn;
    c->if_exists = AcceptKeywords({"IF", "EXISTS"});
    TH_ASSIGN_OR_RETURN(c->column_name, ParseName("column name"));
    return Status::OK();
  }
  if (AcceptKeywords({"MODIFY", "COLUMN"})) {
    c->kind = AlterCommandKind::kModifyColumn;
    c->if_exists = AcceptKeywords({"IF", "EXISTS"});
    TH_RETURN_IF_ERROR(ParseColumnDef(&c->column, /*type_optional=*/true));
    if (PeekKeyword("REMOVE") || PeekKeyword("MODIFY") || PeekKeyword("RESET")) {
      return Unsupported("MODIFY COLUMN ... " + std::string(Peek().text), Offset());
    }
    return placement();
  }
  if (AcceptKeywords({"RENAME", "COLUMN"})) {
    c->kind = AlterCommandKind::kRenameColumn;
    c->if_exists = AcceptKeywords({"IF", "EXISTS"});
    TH_ASSIGN_OR_RETURN(c->column_name, ParseName("column name"));
    TH_RETURN_IF_ERROR(ExpectKeyword("TO"));
    TH_ASSIGN_OR_RETURN(c->new_name, ParseName("column name"));
    return Status::OK();
  }
  if (AcceptKeywords({"COMMENT", "COLUMN"})) {
    c->kind = AlterCommandKind::kCommentColumn;
    c->if_exists = AcceptKeywords({"IF", "EXISTS"});
    TH_ASSIGN_OR_RETURN(c->column_name, ParseName("column name"));
    TH_ASSIGN_OR_RETURN(c->comment, ParseStringLiteral());
    return Status::OK();
  }
  if (AcceptKeywords({"MODIFY", "TTL"})) {
    c->kind = AlterCommandKind::kModifyTtl;
    TH_ASSIGN_OR_RETURN(c->ttl, ParseTtlList());
    return Status::OK();
  }
  if (AcceptKeywords({"REMOVE", "TTL"})) {
    c->kind = AlterCommandKind::kRemoveTtl;
    return Status::OK();
  }
  if (AcceptKeywords({"DROP", "PARTITION"})) {
    c->kind = AlterCommandKind::kDropPartition;
    return ParsePartition(&c->partition, &c->partition_id);
  }
  if (AcceptKeyword("DELETE")) {
    c->kind = AlterCommandKind::kDelete;
    if (PeekKeyword("IN") && PeekKeyword("PARTITION", 1)) {
      return Unsupported("DELETE IN PARTITION", Offset());
    }
    TH_RETURN_IF_ERROR(ExpectKeyword("WHERE"));
    TH_ASSIGN_OR_RETURN(c->predicate, ParseExpr());
    return Status::OK();
  }
  if (AcceptKeyword("UPDATE")) {
    c->kind = AlterCommandKind::kUpdate;
    while (true) {
      Assignment a;
      a.pos = Offset();
      TH_ASSIGN_OR_RETURN(a.column, ParseName("column name"));
      TH_RETURN_IF_ERROR(Expect(TokenKind::kEquals));
      TH_ASSIGN_OR_RETURN(a.value, ParseExpr());
      c->assignments.push_back(std::move(a));
      if (!Peek().Is(TokenKind::kComma) || !IsNameToken(Peek(1)) ||
          !Peek(2).Is(TokenKind::kEquals)) {
        break;
      }
      Next();
    }
    if (PeekKeyword("IN") && PeekKeyword("PARTITION", 1)) {
      return Unsupported("UPDATE IN PARTITION", Offset());
    }
    TH_RETURN_IF_ERROR(ExpectKeyword("WHERE"));
    TH_ASSIGN_OR_RETURN(c->predicate, ParseExpr());
    return Status::OK();
  }
  if (AcceptKeywords({"MODIFY", "SETTING"})) {
    c->kind = AlterCommandKind::kModifySetting;
    TH_ASSIGN_OR_RETURN(c->settings, ParseSettingList());
    return Status::OK();
  }
  if (AcceptKeywords({"RESET", "SETTING"})) {
    c->kind = AlterCommandKind::kResetSetting;
    TH_ASSIGN_OR_RETURN(std::string name, ParseName("setting name"));
    c->setting_names.push_back(std::move(name));
    // A ',' may also start the next ALTER command (`RESET SETTING a, DROP COLUMN b`).
    while (Peek().Is(TokenKind::kComma) && IsNameToken(Peek(1)) &&
           !Peek(2).Is(TokenKind::kBareWord) && !Peek(2).Is(TokenKind::kOpenParen)) {
      Next();
      TH_ASSIGN_OR_RETURN(std::string more, ParseName("setting name"));
      c->setting_names.push_back(std::move(more));
    }
    return Status::OK();
  }
  if (AcceptKeywords({"MODIFY", "COMMENT"})) {
    c->kind = AlterCommandKind::kModifyComment;
    TH_ASSIGN_OR_RETURN(c->comment, ParseStringLiteral());
    return Status::OK();
  }
  if (Peek().Is(TokenKind::kBareWord)) {
    std::string what = "ALTER TABLE ... " + std::string(Peek().text);
    if (Peek(1).Is(TokenKind::kBareWord)) what += " " + std::string(Peek(1).text);
    return Unsupported(what, Offset());
  }
  return SyntaxError("ALTER command");
}

Status Parser::ParsePartition(ExprPtr* partition, std::string* partition_id) {
  if (PeekKeyword("ID") && Peek(1).Is(TokenKind::kString)) {
    Next();
    TH_ASSIGN_OR_RETURN(*partition_id, ParseStringLiteral());
    return Status::OK();
  }
  if (PeekKeyword("ALL")) return Unsupported("PARTITION ALL", Offset());
  TH_ASSIGN_OR_RETURN(*partition, ParseExpr());
  return Status::OK();
}

Result<StatementPtr> Parser::ParseOptimize() {
  auto stmt = std::make_unique<OptimizeStmt>();
  stmt->pos = Offset();
  TH_RETURN_IF_ERROR(ExpectKeyword("OPTIMIZE"));
  TH_RETURN_IF_ERROR(ExpectKeyword("TABLE"));
  TH_RETURN_IF_ERROR(ParseQualifiedName(&stmt->database, &stmt->table, "table name"));
  if (PeekKeyword("ON") && PeekKeyword("CLUSTER", 1)) return Unsupported("ON CLUSTER", Offset());
  if (AcceptKeyword("PARTITION")) {
    TH_RETURN_IF_ERROR(ParsePartition(&stmt->partition, &stmt->partition_id));
  }
  stmt->final = AcceptKeyword("FINAL");
  if (AcceptKeyword("DEDUPLICATE")) {
    stmt->deduplicate = true;
    if (PeekKeyword("BY")) return Unsupported("DEDUPLICATE BY", Offset());
  }
  if (PeekKeyword("CLEANUP")) return Unsupported("OPTIMIZE ... CLEANUP", Offset());
  return StatementPtr(std::move(stmt));
}

}  // namespace trackhouse::sql
