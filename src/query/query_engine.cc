#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "common/clock.h"
#include "common/error_codes.h"
#include "common/metrics.h"
#include "eval/expression.h"
#include "formats/output_format.h"
#include "ingest/ingest.h"
#include "query/context.h"
#include "query/query.h"
#include "query/rewrite.h"
#include "query/select.h"
#include "query/settings.h"
#include "query/sources.h"
#include "sql/ast.h"
#include "sql/format.h"
#include "storage/storage.h"

namespace trackhouse::query {
namespace {

using types::Block;
using types::DataType;
using types::TypeId;

struct QueryMetrics {
  metrics::Counter& selects = metrics::GetCounter("trackhouse_queries_total",
                                                  "Statements run by the query engine");
  metrics::Counter& errors = metrics::GetCounter("trackhouse_query_errors_total",
                                                 "Statements of the query engine that failed");
  metrics::Counter& limit_errors = metrics::GetCounter(
      "trackhouse_query_limit_errors_total",
      "Queries stopped by max_execution_time, max_memory_usage or max_result_rows");
  metrics::Counter& rows_read = metrics::GetCounter("trackhouse_query_read_rows_total",
                                                    "Rows read by queries");
  metrics::Counter& micros = metrics::GetCounter("trackhouse_query_duration_microseconds_total",
                                                 "Time spent running queries");
};
QueryMetrics& M() {
  static QueryMetrics m;
  return m;
}

std::string_view StatementKindLabel(const sql::Statement* stmt) {
  if (stmt == nullptr) return "other";
  if (stmt->kind == sql::StatementKind::kSelect) return "select";
  if (stmt->kind == sql::StatementKind::kInsert) return "insert";
  if (sql::IsDdlStatement(stmt->kind)) return "ddl";
  return "other";
}

void Record(const sql::Statement* stmt, bool ok, double seconds) {
  static metrics::CounterFamily& statements = metrics::GetCounterFamily(
      "trackhouse_query_statements_total", "Statements run, by kind and outcome (ok, error)",
      {"kind", "outcome"});
  static metrics::HistogramFamily& latency = metrics::GetHistogramFamily(
      "trackhouse_query_duration_seconds", "Time to run a statement, by kind", {"kind"},
      metrics::kLatencySecondsBuckets);
  std::string_view kind = StatementKindLabel(stmt);
  statements.With({kind, ok ? "ok" : "error"}).Add();
  latency.With({kind}).Observe(seconds);
}

// Records the statement of one Execute call however it returns.
struct ExecuteRecorder {
  const sql::Statement* stmt;
  int64_t start_micros;
  bool ok = true;
  ~ExecuteRecorder() { Record(stmt, ok, (Clock::Real()->MonotonicMicros() - start_micros) / 1e6); }
};

types::DataTypePtr Str() { return DataType::Get(TypeId::kString); }

// A one-block output of string columns.
struct TextTable {
  QueryOutput out;
  TextTable(std::vector<std::string> names, std::vector<types::DataTypePtr> types) {
    Block b;
    for (size_t i = 0; i < names.size(); ++i) b.Add(names[i], types[i], types::MakeColumn(types[i]));
    out.names = std::move(names);
    out.types = std::move(types);
    out.blocks.push_back(std::move(b));
  }
  void Row(const std::vector<types::Value>& values) {
    for (size_t i = 0; i < values.size(); ++i) out.blocks[0].at(i).column->AppendValue(values[i]);
  }
};

// ClickHouse's formatReadableQuantity: "3.00", "12.50 thousand", "1.20 million".
std::string ReadableQuantity(double v) {
  static const char* const kUnits[] = {"", " thousand", " million", " billion", " trillion",
                                       " quadrillion"};
  size_t i = 0;
  while (v >= 1000 && i + 1 < std::size(kUnits)) {
    v /= 1000;
    ++i;
  }
  return fmt::format("{:.2f}{}", v, kUnits[i]);
}

// ClickHouse's formatReadableSizeWithBinarySuffix: "512.00 B", "1.50 KiB", "3.00 MiB".
std::string ReadableSize(double v) {
  static const char* const kUnits[] = {" B", " KiB", " MiB", " GiB", " TiB", " PiB"};
  size_t i = 0;
  while (v >= 1024 && i + 1 < std::size(kUnits)) {
    v /= 1024;
    ++i;
  }
  return fmt::format("{:.2f}{}", v, kUnits[i]);
}

std::string SettingText(const sql::Expr& e) {
  if (e.kind != sql::ExprKind::kLiteral) return sql::FormatExpr(e);
  switch (e.literal_kind) {
    case sql::LiteralKind::kString:
      return e.string_value;
    case sql::LiteralKind::kBool:
      return e.bool_value ? "1" : "0";
    case sql::LiteralKind::kUInt64:
      return std::to_string(e.uint_value);
    case sql::LiteralKind::kInt64:
      return std::to_string(e.int_value);
    default:
      return sql::FormatExpr(e);
  }
}

Status ApplyStatementSettings(const std::vector<sql::Setting>& list, QuerySettings* s) {
  for (const auto& setting : list) {
    TH_RETURN_IF_ERROR(ApplySetting(setting.name, SettingText(*setting.value), s));
  }
  return Status::OK();
}

// [NOT] LIKE / ILIKE of SHOW TABLES / DATABASES, evaluated with the SQL functions.
Result<std::vector<std::string>> FilterNames(std::vector<std::string> names,
                                             const sql::ShowFilter& filter) {
  if (!filter.present || names.empty()) return names;
  Block b;
  auto col = types::MakeColumn(Str());
  for (const auto& n : names) col->AppendValue(types::Value::String(n));
  b.Add("name", Str(), col);
  sql::ExprList args;
  args.push_back(sql::MakeIdentifier({"name"}, 0));
  args.push_back(sql::MakeStringLiteral(filter.pattern, 0));
  std::string fn = filter.case_insensitive ? "ilike" : "like";
  if (filter.negated) fn = filter.case_insensitive ? "notILike" : "notLike";
  sql::ExprPtr e = sql::MakeFunction(fn, std::move(args), 0);
  TH_ASSIGN_OR_RETURN(auto compiled, eval::Compile(*e, {{"name", Str()}}));
  TH_ASSIGN_OR_RETURN(auto result, compiled->Evaluate(b, eval::EvalContext{}));
  std::vector<std::string> out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (result->GetValue(i).AsUInt() != 0) out.push_back(names[i]);
  }
  return out;
}

// The one-column `name` result of SHOW TABLES / SHOW DATABASES, cut to LIMIT n.
Result<QueryOutput> NameList(std::vector<std::string> names, const sql::Expr* limit,
                             const QueryContext& ctx) {
  if (limit != nullptr) {
    TH_ASSIGN_OR_RETURN(uint64_t n, ConstantUInt(*limit, ctx.eval(), "LIMIT"));
    if (n < names.size()) names.resize(n);
  }
  TextTable t({"name"}, {Str()});
  for (const auto& n : names) t.Row({types::Value::String(n)});
  return std::move(t.out);
}

}  // namespace

struct QueryEngine::Impl {
  storage::Storage* storage;
  QueryEngineOptions options;

  QuerySettings Defaults() const {
    QuerySettings s;
    s.max_threads = options.max_threads;
    s.max_execution_time_ms = options.max_execution_time_ms;
    s.max_memory_usage = options.max_memory_usage;
    s.max_result_rows = options.max_result_rows;
    s.max_result_bytes = options.max_result_bytes;
    s.max_group_array_size = options.max_group_array_size;
    return s;
  }

  Result<QueryOutput> Run(const sql::Statement& stmt, std::string_view sql, QueryContext* ctx,
                          QueryResult* result);
  Result<QueryOutput> ShowTables(const sql::ShowTablesStmt& s, QueryContext* ctx);
  Result<QueryOutput> ShowDatabases(const sql::ShowDatabasesStmt& s, QueryContext* ctx);
  Result<QueryOutput> Describe(const std::string& db, const std::string& table);
  Result<QueryOutput> InsertSelect(const sql::InsertStmt& s, QueryContext* ctx,
                                   QueryResult* result);
};

QueryEngine::QueryEngine(storage::Storage* storage, QueryEngineOptions options)
    : impl_(std::make_unique<Impl>(Impl{storage, options})) {}
QueryEngine::~QueryEngine() = default;

Result<QueryOutput> QueryEngine::Impl::ShowTables(const sql::ShowTablesStmt& s,
                                                  QueryContext* ctx) {
  std::string db = s.database.empty() ? ctx->database() : s.database;
  std::vector<std::string> names;
  if (db == "system") {
    TH_ASSIGN_OR_RETURN(Block tables, SystemTable("tables", ctx));
    const auto* d = tables.Get("database");
    const auto* n = tables.Get("name");
    for (size_t i = 0; i < tables.rows(); ++i) {
      if (d->column->GetValue(i).string_value() == "system") {
        names.push_back(n->column->GetValue(i).string_value());
      }
    }
  } else {
    TH_ASSIGN_OR_RETURN(names, storage->ListTables(db));
  }
  std::sort(names.begin(), names.end());
  TH_ASSIGN_OR_RETURN(names, FilterNames(std::move(names), s.filter));
  return NameList(std::move(names), s.limit.get(), *ctx);
}

Result<QueryOutput> QueryEngine::Impl::ShowDatabases(const sql::ShowDatabasesStmt& s,
                                                     QueryContext* ctx) {
  TH_ASSIGN_OR_RETURN(std::vector<std::string> names, storage->ListDatabases());
  names.push_back("system");
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  TH_ASSIGN_OR_RETURN(names, FilterNames(std::move(names), s.filter));
  return NameList(std::move(names), s.limit.get(), *ctx);
}

Result<QueryOutput> QueryEngine::Impl::Describe(const std::string& db, const std::string& table) {
  TextTable t({"name", "type", "default_type", "default_expression", "comment",
               "codec_expression", "ttl_expression"},
              std::vector<types::DataTypePtr>(7, Str()));
  TH_ASSIGN_OR_RETURN(storage::TableSchemaPtr schema, storage->GetTable(db, table));
  for (const auto& c : schema->columns) {
    t.Row({types::Value::String(c.name), types::Value::String(c.type->name()),
           types::Value::String(std::string(storage::DefaultKindName(c.default_kind))),
           types::Value::String(c.default_expr),
           types::Value::String(""), types::Value::String(""), types::Value::String("")});
  }
  return std::move(t.out);
}

Result<QueryOutput> QueryEngine::Impl::InsertSelect(const sql::InsertStmt& s, QueryContext* ctx,
                                                    QueryResult* result) {
  ingest::IngestOptions opts;
  opts.max_insert_block_size = ctx->settings().max_insert_block_size;
  TH_ASSIGN_OR_RETURN(auto stream, ingest::InsertStream::Open(storage, ctx->database(), s,
                                                              "Values", opts, ctx->now_micros()));
  TH_ASSIGN_OR_RETURN(QueryOutput out, ExecuteSelect(*s.select, ctx));
  for (const auto& b : out.blocks) {
    if (b.rows() == 0) continue;
    TH_RETURN_IF_ERROR(stream->FeedBlock(b));
  }
  TH_RETURN_IF_ERROR(stream->Finish());
  result->written_rows = stream->rows_written();
  result->written_bytes = stream->bytes_written();
  return QueryOutput{};
}

Result<QueryOutput> QueryEngine::Impl::Run(const sql::Statement& stmt, std::string_view sql,
                                           QueryContext* ctx, QueryResult* result) {
  switch (stmt.kind) {
    case sql::StatementKind::kSelect:
      return ExecuteSelect(*stmt.As<sql::SelectStmt>()->query, ctx);
    case sql::StatementKind::kShowTables:
      return ShowTables(*stmt.As<sql::ShowTablesStmt>(), ctx);
    case sql::StatementKind::kShowDatabases:
      return ShowDatabases(*stmt.As<sql::ShowDatabasesStmt>(), ctx);
    case sql::StatementKind::kDescribe: {
      const auto& d = *stmt.As<sql::DescribeStmt>();
      return Describe(d.database.empty() ? ctx->database() : d.database, d.table);
    }
    case sql::StatementKind::kExists: {
      const auto& e = *stmt.As<sql::ExistsStmt>();
      bool exists = false;
      if (e.is_database) {
        TH_ASSIGN_OR_RETURN(auto dbs, storage->ListDatabases());
        exists = e.database == "system" ||
                 std::find(dbs.begin(), dbs.end(), e.database) != dbs.end();
      } else {
        std::string db = e.database.empty() ? ctx->database() : e.database;
        if (db == "system") {
          exists = SystemTable(e.table, ctx).ok();
        } else {
          exists = storage->GetTable(db, e.table).ok();
        }
      }
      TextTable t({"result"}, {DataType::Get(TypeId::kUInt8)});
      t.Row({types::Value::UInt(exists ? 1 : 0)});
      return std::move(t.out);
    }
    case sql::StatementKind::kShowCreateTable: {
      const auto& s = *stmt.As<sql::ShowCreateTableStmt>();
      std::string db = s.database.empty() ? ctx->database() : s.database;
      auto schema = storage->GetTable(db, s.table);
      if (!schema.ok()) {
        return Status::NotFound(
            fmt::format("Table `{}` doesn't exist: {}", s.table, schema.status().message()),
            ch::kCannotGetCreateTableQuery);
      }
      TextTable t({"statement"}, {Str()});
      t.Row({types::Value::String((*schema)->create_sql)});
      return std::move(t.out);
    }
    case sql::StatementKind::kInsert: {
      const auto& s = *stmt.As<sql::InsertStmt>();
      if (s.source != sql::InsertStmt::Source::kSelect) {
        return Status::InvalidArgument("INSERT with inline data goes through the insert path",
                                       ch::kLogicalError);
      }
      if (ctx->settings().readonly) {
        return Status::InvalidArgument("Cannot execute query in readonly mode", ch::kReadonly);
      }
      return InsertSelect(s, ctx, result);
    }
    case sql::StatementKind::kUse:
    case sql::StatementKind::kSet:
      return QueryOutput{};
    default:
      break;
  }
  if (sql::IsDdlStatement(stmt.kind)) {
    if (ctx->settings().readonly) {
      return Status::InvalidArgument("Cannot execute query in readonly mode", ch::kReadonly);
    }
    TH_RETURN_IF_ERROR(storage->ExecuteDdl(stmt, sql, ctx->database()));
    return QueryOutput{};
  }
  return Status::NotSupported(
      fmt::format("{} statements are not supported", sql::StatementKindName(stmt.kind)),
      ch::kNotImplemented);
}

Result<QueryResult> QueryEngine::Execute(const QueryRequest& request) {
  int64_t start = Clock::Real()->MonotonicMicros();
  M().selects.Add();
  ExecuteRecorder recorder{request.statement, start};
  auto fail = [&recorder](const Status& s) -> Result<QueryResult> {
    recorder.ok = false;
    M().errors.Add();
    int code = s.clickhouse_code();
    if (code == ch::kTimeoutExceeded || code == ch::kMemoryLimitExceeded ||
        code == ch::kTooManyRowsOrBytes) {
      M().limit_errors.Add();
    }
    return s;
  };
  if (request.statement == nullptr) return fail(Status::InvalidArgument("no statement"));
  const sql::Statement& stmt = *request.statement;
  QuerySettings settings = impl_->Defaults();
  settings.readonly = request.readonly ? 2 : 0;
  for (const auto& [name, value] : request.settings) {
    Status st = ApplySetting(name, value, &settings);
    if (!st.ok()) return fail(st);
  }
  if (const auto* sel = stmt.As<sql::SelectStmt>(); sel != nullptr && !sel->query->selects.empty()) {
    Status st = ApplyStatementSettings(sel->query->selects.back()->settings, &settings);
    if (!st.ok()) return fail(st);
  }
  if (stmt.kind != sql::StatementKind::kSet && stmt.kind != sql::StatementKind::kCreateTable &&
      stmt.kind != sql::StatementKind::kInsert) {
    Status st = ApplyStatementSettings(stmt.settings, &settings);
    if (!st.ok()) return fail(st);
  }
  std::string database = request.database.empty() ? "default" : request.database;
  if (database != "system" && database != "default") {
    auto dbs = impl_->storage->ListDatabases();
    if (!dbs.ok()) return fail(dbs.status());
    if (std::find(dbs->begin(), dbs->end(), database) == dbs->end()) {
      return fail(Status::NotFound(fmt::format("Database {} does not exist", database),
                                   ch::kUnknownDatabase));
    }
  }
  QueryContext ctx(impl_->storage, database, settings, request.now_micros);
  QueryResult result;
  auto out = impl_->Run(stmt, request.sql, &ctx, &result);
  if (!out.ok()) return fail(out.status());
  result.read_rows = ctx.rows_read();
  result.read_bytes = ctx.bytes_read();
  M().rows_read.Add(static_cast<int64_t>(ctx.rows_read()));

  bool returns_rows = stmt.kind == sql::StatementKind::kSelect ||
                      stmt.kind == sql::StatementKind::kShowTables ||
                      stmt.kind == sql::StatementKind::kShowDatabases ||
                      stmt.kind == sql::StatementKind::kDescribe ||
                      stmt.kind == sql::StatementKind::kExists ||
                      stmt.kind == sql::StatementKind::kShowCreateTable;
  if (!returns_rows) {
    result.content_type = "text/plain; charset=UTF-8";
    M().micros.Add(Clock::Real()->MonotonicMicros() - start);
    return result;
  }

  // max_result_rows / max_result_bytes.
  uint64_t rows = out->rows();
  uint64_t bytes = 0;
  for (const auto& b : out->blocks) bytes += b.DataBytes();
  bool over_rows = settings.max_result_rows > 0 && rows > settings.max_result_rows;
  bool over_bytes = settings.max_result_bytes > 0 && bytes > settings.max_result_bytes;
  if (over_rows || over_bytes) {
    if (!settings.result_overflow_mode_break) {
      return fail(Status::ResourceExhausted(
          over_rows ? fmt::format("Limit for result exceeded, max rows: {}, current rows: {}",
                                  ReadableQuantity(settings.max_result_rows),
                                  ReadableQuantity(rows))
                    : fmt::format("Limit for result exceeded, max bytes: {}, current bytes: {}",
                                  ReadableSize(settings.max_result_bytes), ReadableSize(bytes)),
          ch::kTooManyRowsOrBytes));
    }
    // break: the first blocks within the limit (as ClickHouse, whole blocks).
    uint64_t kept = 0, kept_bytes = 0;
    std::vector<Block> blocks;
    for (auto& b : out->blocks) {
      if ((settings.max_result_rows > 0 && kept >= settings.max_result_rows) ||
          (settings.max_result_bytes > 0 && kept_bytes >= settings.max_result_bytes)) {
        break;
      }
      size_t take = b.rows();
      if (settings.max_result_rows > 0) {
        take = std::min<uint64_t>(take, settings.max_result_rows - kept);
      }
      kept += take;
      kept_bytes += b.DataBytes();
      blocks.push_back(take == b.rows() ? std::move(b) : b.Slice(0, take));
    }
    out->blocks = std::move(blocks);
  }

  std::string format = stmt.format;
  if (format.empty()) format = request.default_format;
  if (format.empty()) format = "TabSeparated";
  formats::OutputOptions options;
  options.quote_64bit_integers = settings.output_format_json_quote_64bit_integers;
  options.quote_denormals = settings.output_format_json_quote_denormals;
  options.pretty_row_numbers = settings.output_format_pretty_row_numbers;
  auto fmt_or = formats::MakeOutputFormat(format, options);
  if (!fmt_or.ok()) return fail(fmt_or.status());
  formats::OutputFormat& f = **fmt_or;
  f.Begin(out->names, out->types, &result.body);
  for (const auto& b : out->blocks) {
    if (b.rows() == 0) continue;
    result.result_rows += b.rows();
    result.result_bytes += b.DataBytes();
    f.Write(b, &result.body);
  }
  if (out->totals) f.WriteTotals(*out->totals, &result.body);
  formats::OutputFormat::Stats stats;
  stats.rows = result.result_rows;
  stats.rows_before_limit_at_least = out->rows_before_limit;
  stats.rows_read = result.read_rows;
  stats.bytes_read = result.read_bytes;
  stats.elapsed_s = (Clock::Real()->MonotonicMicros() - start) / 1e6;
  f.Finish(stats, &result.body);
  result.content_type = std::string(f.content_type());
  result.format = format;
  M().micros.Add(Clock::Real()->MonotonicMicros() - start);
  return result;
}

void RecordStatement(const sql::Statement& stmt, bool ok, double seconds) {
  Record(&stmt, ok, seconds);
}

}  // namespace trackhouse::query
