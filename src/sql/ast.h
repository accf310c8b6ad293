// AST: the parsed form of trackhouse's ClickHouse SQL dialect.
//
// Plain structs owned through std::unique_ptr; a tree owns all of its children. Every node
// carries `pos`, the byte offset in the parsed text where it starts (for error messages).
//
// Expressions are one struct, Expr, with a kind. They are normalized the way ClickHouse
// normalizes them: operators become calls of ClickHouse's functions (`a + b` is
// plus(a, b), `x BETWEEN a AND b` is and(greaterOrEquals(x, a), lessOrEquals(x, b)),
// `INTERVAL 7 DAY` is toIntervalDay(7), `[1, 2]` is array(1, 2), `CAST(x AS T)` and `x::T`
// are CAST(x, 'T')), so later stages evaluate one uniform shape. Data types are kept as their
// normalized canonical text ("LowCardinality(String)", "DateTime64(3, 'UTC')"); the types
// module parses them.
//
// Statements derive from Statement and carry a StatementKind; switch on `kind` and use
// `As<T>()` to get the concrete struct.
//
// Nothing here is synchronized: a tree is built by one thread and may then be read (not
// written) by many.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trackhouse::sql {

struct Expr;
struct SelectUnion;
using ExprPtr = std::unique_ptr<Expr>;
using ExprList = std::vector<ExprPtr>;

// ---------------------------------------------------------------------------------------------
// Expressions
// ---------------------------------------------------------------------------------------------

enum class ExprKind : uint8_t {
  kLiteral,     // NULL, 1, -5, 1.5, 'text', true
  kIdentifier,  // col, t.col, db.t.col (parts)
  kAsterisk,    // * or t.* (parts holds the qualifier)
  kParameter,   // {name:Type} (name, type)
  kFunction,    // name(args), name(params)(args), count(DISTINCT x); also every operator
  kSubquery,    // (SELECT ...) (subquery)
  kLambda,      // x -> body, (x, y) -> body (lambda_params; args[0] is the body)
};

enum class LiteralKind : uint8_t {
  kNull,
  kUInt64,   // non-negative integers
  kInt64,    // negative integers (`-5` is folded into one literal)
  kFloat64,  // 1.5, 1e3, inf, nan, integers too large for 64 bits
  kString,
  kBool,  // true, false
};

struct Expr {
  Expr();
  ~Expr();
  Expr(Expr&&) noexcept;
  Expr& operator=(Expr&&) noexcept;

  ExprKind kind = ExprKind::kLiteral;
  size_t pos = 0;     // byte offset where the expression starts
  std::string alias;  // from `expr AS name` (or an implicit `expr name`); empty if none

  // kLiteral: the kind selects which value field is meaningful.
  LiteralKind literal_kind = LiteralKind::kNull;
  uint64_t uint_value = 0;
  int64_t int_value = 0;
  double float_value = 0;
  bool bool_value = false;
  std::string string_value;  // decoded bytes of a string literal

  // kIdentifier: the dotted parts, decoded ("db", "t", "col"). kAsterisk: the qualifier of
  // `t.*` (empty for a bare `*`).
  std::vector<std::string> parts;

  // kFunction: the function name as written ("countIf", "plus"). kParameter: the name.
  std::string name;
  // kParameter: the normalized type text ("UInt32", "Array(String)").
  std::string type;

  // kFunction: the arguments. kLambda: exactly one element, the body.
  ExprList args;
  // kFunction: the parameters of a parametric aggregate, `quantile(0.9)(x)`; has_params
  // tells `f()(x)` from `f(x)`.
  ExprList params;
  bool has_params = false;
  // kFunction: `count(DISTINCT x)`.
  bool distinct = false;

  // kLambda: parameter names, `(x, y) -> ...`.
  std::vector<std::string> lambda_params;

  // kSubquery: the query.
  std::unique_ptr<SelectUnion> subquery;

  bool IsFunction(std::string_view function_name) const {
    return kind == ExprKind::kFunction && name == function_name;
  }
  bool IsLiteral(LiteralKind k) const { return kind == ExprKind::kLiteral && literal_kind == k; }
};

ExprPtr MakeNullLiteral(size_t pos);
ExprPtr MakeUInt64Literal(uint64_t value, size_t pos);
ExprPtr MakeInt64Literal(int64_t value, size_t pos);
ExprPtr MakeFloat64Literal(double value, size_t pos);
ExprPtr MakeStringLiteral(std::string value, size_t pos);
ExprPtr MakeBoolLiteral(bool value, size_t pos);
ExprPtr MakeIdentifier(std::vector<std::string> parts, size_t pos);
ExprPtr MakeFunction(std::string name, ExprList args, size_t pos);

// Deep copies.
ExprPtr CloneExpr(const Expr& expr);
std::unique_ptr<SelectUnion> CloneSelectUnion(const SelectUnion& query);

// ---------------------------------------------------------------------------------------------
// SELECT
// ---------------------------------------------------------------------------------------------

// `name = value` in a SETTINGS clause or a SET statement. The value is a literal expression.
struct Setting {
  size_t pos = 0;
  std::string name;
  ExprPtr value;
};

// One element of WITH: `expr AS name` (is_cte false) or `name AS (SELECT ...)` (is_cte true,
// expr is a kSubquery). The name is expr->alias in both forms.
struct WithItem {
  ExprPtr expr;
  bool is_cte = false;
};

// The source of FROM.
struct TableExpr {
  enum class Kind : uint8_t {
    kTable,     // [database.]table
    kSubquery,  // (SELECT ...)
    kFunction,  // a table function call such as numbers(10)
  };
  Kind kind = Kind::kTable;
  size_t pos = 0;
  std::string database;                   // kTable: empty for the current database
  std::string table;                      // kTable
  std::unique_ptr<SelectUnion> subquery;  // kSubquery
  ExprPtr function;                       // kFunction: a kFunction expression
  std::string alias;                      // `AS x` or implicit `x`; empty if none
  bool final = false;                     // FINAL
};

struct OrderByItem {
  enum class Nulls : uint8_t { kDefault, kFirst, kLast };
  size_t pos = 0;
  ExprPtr expr;
  bool descending = false;
  Nulls nulls = Nulls::kDefault;
  std::string collation;  // COLLATE 'x'; empty if none
  bool with_fill = false;
  ExprPtr fill_from;  // WITH FILL FROM e; null if absent
  ExprPtr fill_to;    // WITH FILL TO e
  ExprPtr fill_step;  // WITH FILL STEP e
};

// One SELECT block. Clauses that are absent are null/empty.
struct SelectQuery {
  size_t pos = 0;
  std::vector<WithItem> with;
  bool distinct = false;
  ExprList columns;  // the select list, aliases on the expressions
  std::unique_ptr<TableExpr> from;
  ExprPtr prewhere;
  ExprPtr where;
  ExprList group_by;
  bool group_by_with_totals = false;
  ExprPtr having;
  std::vector<OrderByItem> order_by;
  // LIMIT [offset,] length BY exprs (applied before the plain LIMIT).
  ExprPtr limit_by_length;
  ExprPtr limit_by_offset;
  ExprList limit_by;
  // LIMIT [offset,] length / LIMIT length OFFSET offset / OFFSET offset.
  ExprPtr limit_length;
  ExprPtr limit_offset;
  std::vector<Setting> settings;  // SETTINGS at the end of this block
};

// SELECT ... UNION ALL SELECT ...; a single SELECT is a union of one.
struct SelectUnion {
  size_t pos = 0;
  std::vector<std::unique_ptr<SelectQuery>> selects;
};

// ---------------------------------------------------------------------------------------------
// Statements
// ---------------------------------------------------------------------------------------------

enum class StatementKind : uint8_t {
  kSelect,
  kInsert,
  kCreateDatabase,
  kCreateTable,
  kDropTable,
  kDropDatabase,
  kTruncateTable,
  kRenameTable,
  kAlterTable,
  kOptimize,
  kShowTables,
  kShowDatabases,
  kShowCreateTable,
  kDescribe,
  kExists,
  kUse,
  kSet,
  kSystem,
  kKillQuery,
};

std::string_view StatementKindName(StatementKind kind);

// True for statements that change definitions or data layout (CREATE, DROP, TRUNCATE, RENAME,
// ALTER, OPTIMIZE): what a storage's ExecuteDdl runs.
bool IsDdlStatement(StatementKind kind);

struct Statement {
  virtual ~Statement();

  const StatementKind kind;
  size_t pos = 0;
  // FORMAT name of a statement that returns rows (SELECT, SHOW, DESCRIBE, EXISTS, KILL);
  // empty if none. (INSERT's input format is InsertStmt::data_format.)
  std::string format;
  // The statement's SETTINGS: for SET the assignments; for CREATE TABLE the engine's SETTINGS;
  // for INSERT the SETTINGS before the data; otherwise a trailing SETTINGS clause (for SELECT
  // only one written after FORMAT; one before FORMAT belongs to the last SelectQuery).
  std::vector<Setting> settings;

  template <typename T>
  T* As() {
    return kind == T::kKind ? static_cast<T*>(this) : nullptr;
  }
  template <typename T>
  const T* As() const {
    return kind == T::kKind ? static_cast<const T*>(this) : nullptr;
  }

 protected:
  explicit Statement(StatementKind k) : kind(k) {}
};
using StatementPtr = std::unique_ptr<Statement>;

struct SelectStmt final : Statement {
  static constexpr StatementKind kKind = StatementKind::kSelect;
  SelectStmt() : Statement(kKind) {}
  std::unique_ptr<SelectUnion> query;
};

struct InsertStmt final : Statement {
  static constexpr StatementKind kKind = StatementKind::kInsert;
  enum class Source : uint8_t {
    kFormat,  // INSERT ... FORMAT name <data>
    kValues,  // INSERT ... VALUES <data>
    kSelect,  // INSERT ... SELECT ...
  };
  InsertStmt() : Statement(kKind) {}
  std::string database;  // empty for the current database
  std::string table;
  std::vector<std::string> columns;  // empty: all columns in table order
  Source source = Source::kValues;
  std::string data_format;  // kFormat: the format name as written; kValues: "Values"
  // kFormat/kValues: the inline data is text[data_offset, data_end) of the parsed text; the
  // parser does not read it. For FORMAT it starts after the format name and one whitespace
  // character; for VALUES at the first '(' (== data_end when no data follows). ParseStatement
  // ends it at the end of the text (for VALUES less trailing whitespace and one ';');
  // ParseScript at the ';' that ends the statement.
  size_t data_offset = 0;
  size_t data_end = 0;
  std::unique_ptr<SelectUnion> select;  // kSelect
};

struct EngineDef {
  size_t pos = 0;
  std::string name;  // "MergeTree", "Buffer", ...
  ExprList args;     // `default` in Buffer(default, t, ...) is an identifier argument
};

struct CreateDatabaseStmt final : Statement {
  static constexpr StatementKind kKind = StatementKind::kCreateDatabase;
  CreateDatabaseStmt() : Statement(kKind) {}
  bool if_not_exists = false;
  std::string name;
  std::optional<EngineDef> engine;  // kept, not interpreted
  std::string comment;
};

enum class ColumnDefaultKind : uint8_t { kNone, kDefault, kMaterialized, kAlias, kEphemeral };

std::string_view ColumnDefaultKindName(ColumnDefaultKind kind);  // "DEFAULT", ...

struct ColumnDef {
  size_t pos = 0;
  std::string name;
  // Normalized type text, "Nullable(Int32)"; `T NULL` is stored as Nullable(T). Empty when the
  // type is omitted (`x DEFAULT 1`, or MODIFY COLUMN without a type).
  std::string type;
  ColumnDefaultKind default_kind = ColumnDefaultKind::kNone;
  ExprPtr default_expr;  // null for kNone and for a bare EPHEMERAL
  ExprList codecs;       // CODEC(ZSTD(1), LZ4): function or identifier expressions
  std::string comment;   // empty if none
  ExprPtr ttl;           // column TTL; null if none
};

struct TtlElement {
  enum class Action : uint8_t { kDelete };
  size_t pos = 0;
  ExprPtr expr;
  Action action = Action::kDelete;
  ExprPtr where;  // TTL expr DELETE WHERE cond; null if absent
};

struct CreateTableStmt final : Statement {
  static constexpr StatementKind kKind = StatementKind::kCreateTable;
  CreateTableStmt() : Statement(kKind) {}
  bool if_not_exists = false;
  std::string database;  // empty for the current database
  std::string table;
  std::vector<ColumnDef> columns;  // empty with AS other / AS SELECT
  std::string as_database;         // CREATE TABLE t AS [db.]other: copy other's structure
  std::string as_table;            // empty if no AS table
  std::optional<EngineDef> engine;
  ExprPtr partition_by;
  ExprPtr order_by;  // `(a, b)` is tuple(a, b); `tuple()` for no key
  ExprPtr primary_key;
  ExprPtr sample_by;
  std::vector<TtlElement> ttl;
  std::string comment;                     // table COMMENT; empty if none
  std::unique_ptr<SelectUnion> as_select;  // CREATE TABLE ... AS SELECT
  // Statement::settings holds the engine's SETTINGS (index_granularity = 8192, ...).
};

struct DropTableStmt final : Statement {
  static constexpr StatementKind kKind = StatementKind::kDropTable;
  DropTableStmt() : Statement(kKind) {}
  bool if_exists = false;
  std::string database;
  std::string table;
  bool sync = false;  // SYNC / NO DELAY
};

struct DropDatabaseStmt final : Statement {
  static constexpr StatementKind kKind = StatementKind::kDropDatabase;
  DropDatabaseStmt() : Statement(kKind) {}
  bool if_exists = false;
  std::string name;
  bool sync = false;
};

struct TruncateTableStmt final : Statement {
  static constexpr StatementKind kKind = StatementKind::kTruncateTable;
  TruncateTableStmt() : Statement(kKind) {}
  bool if_exists = false;
  std::string database;
  std::string table;
};

struct RenameTableStmt final : Statement {
  static constexpr StatementKind kKind = StatementKind::kRenameTable;
  struct Pair {
    std::string from_database, from_table;
    std::string to_database, to_table;
  };
  RenameTableStmt() : Statement(kKind) {}
  std::vector<Pair> renames;
};

struct Assignment {  // `column = expr` in ALTER TABLE ... UPDATE
  size_t pos = 0;
  std::string column;
  ExprPtr value;
};

enum class AlterCommandKind : uint8_t {
  kAddColumn,      // column, if_not_exists, after / first
  kDropColumn,     // column_name, if_exists
  kModifyColumn,   // column (type may be empty), if_exists, after / first
  kRenameColumn,   // column_name -> new_name, if_exists
  kCommentColumn,  // column_name, comment, if_exists
  kModifyTtl,      // ttl
  kRemoveTtl,
  kDropPartition,  // partition or partition_id
  kDelete,         // predicate
  kUpdate,         // assignments, predicate
  kModifySetting,  // settings
  kResetSetting,   // setting_names
  kModifyComment,  // comment
};

struct AlterCommand {
  AlterCommandKind kind = AlterCommandKind::kAddColumn;
  size_t pos = 0;
  bool if_exists = false;
  bool if_not_exists = false;
  ColumnDef column;
  std::string column_name;
  std::string new_name;
  std::string after;   // AFTER name; empty if none
  bool first = false;  // FIRST
  std::vector<TtlElement> ttl;
  ExprPtr partition;         // DROP PARTITION expr
  std::string partition_id;  // DROP PARTITION ID 'x' (partition is then null)
  ExprPtr predicate;
  std::vector<Assignment> assignments;
  std::vector<Setting> settings;
  std::vector<std::string> setting_names;
  std::string comment;
};

struct AlterTableStmt final : Statement {
  static constexpr StatementKind kKind = StatementKind::kAlterTable;
  AlterTableStmt() : Statement(kKind) {}
  std::string database;
  std::string table;
  std::vector<AlterCommand> commands;  // at least one
};

struct OptimizeStmt final : Statement {
  static constexpr StatementKind kKind = StatementKind::kOptimize;
  OptimizeStmt() : Statement(kKind) {}
  std::string database;
  std::string table;
  ExprPtr partition;         // PARTITION expr; null if absent
  std::string partition_id;  // PARTITION ID 'x'
  bool final = false;
  bool deduplicate = false;
};

// [NOT] LIKE / ILIKE filter of SHOW TABLES / SHOW DATABASES.
struct ShowFilter {
  bool present = false;
  bool negated = false;
  bool case_insensitive = false;  // ILIKE
  std::string pattern;
};

struct ShowTablesStmt final : Statement {
  static constexpr StatementKind kKind = StatementKind::kShowTables;
  ShowTablesStmt() : Statement(kKind) {}
  std::string database;  // FROM / IN db; empty for the current database
  ShowFilter filter;
  ExprPtr limit;  // LIMIT n; null if absent
};

struct ShowDatabasesStmt final : Statement {
  static constexpr StatementKind kKind = StatementKind::kShowDatabases;
  ShowDatabasesStmt() : Statement(kKind) {}
  ShowFilter filter;
  ExprPtr limit;
};

struct ShowCreateTableStmt final : Statement {
  static constexpr StatementKind kKind = StatementKind::kShowCreateTable;
  ShowCreateTableStmt() : Statement(kKind) {}
  std::string database;
  std::string table;
};

struct DescribeStmt final : Statement {
  static constexpr StatementKind kKind = StatementKind::kDescribe;
  DescribeStmt() : Statement(kKind) {}
  std::string database;
  std::string table;
};

struct ExistsStmt final : Statement {
  static constexpr StatementKind kKind = StatementKind::kExists;
  ExistsStmt() : Statement(kKind) {}
  bool is_database = false;  // EXISTS DATABASE db (name in `database`, `table` empty)
  std::string database;
  std::string table;
};

struct UseStmt final : Statement {
  static constexpr StatementKind kKind = StatementKind::kUse;
  UseStmt() : Statement(kKind) {}
  std::string database;
};

// SET a = 1, b = 'x': the assignments are Statement::settings.
struct SetStmt final : Statement {
  static constexpr StatementKind kKind = StatementKind::kSet;
  SetStmt() : Statement(kKind) {}
};

// SYSTEM FLUSH LOGS, SYSTEM STOP MERGES db.t, ...: the words as written (quotes kept, dotted
// names joined: "db.t"); the server decides which it supports.
struct SystemStmt final : Statement {
  static constexpr StatementKind kKind = StatementKind::kSystem;
  SystemStmt() : Statement(kKind) {}
  std::vector<std::string> words;
};

struct KillQueryStmt final : Statement {
  static constexpr StatementKind kKind = StatementKind::kKillQuery;
  KillQueryStmt() : Statement(kKind) {}
  ExprPtr where;
  std::string mode;  // "SYNC", "ASYNC", "TEST" or empty
};

}  // namespace trackhouse::sql
