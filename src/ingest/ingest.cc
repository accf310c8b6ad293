#include "ingest/ingest.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <vector>

#include "common/metrics.h"
#include "eval/conversion.h"
#include "eval/expression.h"
#include "formats/input_format.h"
#include "sql/parser.h"
#include "types/convert.h"

namespace trackhouse::ingest {
namespace {

struct IngestMetrics {
  metrics::Counter& blocks =
      metrics::GetCounter("trackhouse_ingest_blocks_total",
                          "Blocks stored by the insert path (one Storage::Insert each)");
  metrics::Counter& rows = metrics::GetCounter("trackhouse_ingest_rows_total",
                                               "Rows stored by the insert path (every source)");
  metrics::Counter& open_errors = metrics::GetCounter(
      "trackhouse_ingest_open_errors_total",
      "Inserts refused before any data: unknown table/column/format, bad column list");
  metrics::Counter& parse_errors = metrics::GetCounter(
      "trackhouse_ingest_parse_errors_total", "Inserts failed on malformed or invalid rows");
  metrics::Counter& default_errors =
      metrics::GetCounter("trackhouse_ingest_default_errors_total",
                          "Inserts failed evaluating a DEFAULT/MATERIALIZED expression");
  metrics::Counter& storage_errors = metrics::GetCounter(
      "trackhouse_ingest_storage_errors_total", "Blocks the storage refused or failed to store");
  metrics::Counter& schema_retries = metrics::GetCounter(
      "trackhouse_ingest_schema_retries_total",
      "Blocks re-shaped and retried because the table was altered during the insert");
  metrics::CounterFamily& table_rows = metrics::GetCounterFamily(
      "trackhouse_ingest_table_rows_total",
      "Rows stored by the insert path (every source), by table", {"table"});
};

IngestMetrics& M() {
  static IngestMetrics* m = new IngestMetrics();
  return *m;
}

// The column names an expression reads (the last part of a possibly qualified identifier).
void CollectIdentifiers(const sql::Expr& e, std::set<std::string>* out) {
  if (e.kind == sql::ExprKind::kIdentifier && !e.parts.empty()) out->insert(e.parts.back());
  for (const auto& a : e.args) {
    if (a) CollectIdentifiers(*a, out);
  }
  for (const auto& p : e.params) {
    if (p) CollectIdentifiers(*p, out);
  }
}

bool IsStored(storage::DefaultKind kind) {
  return kind == storage::DefaultKind::kNone || kind == storage::DefaultKind::kDefault ||
         kind == storage::DefaultKind::kMaterialized;
}

// A DEFAULT/MATERIALIZED expression compiled against exactly the columns it reads, in `deps`
// order: Evaluate is given a block of those columns in that order. Depends only on the table's
// definition, so an InsertPlan shares it between inserts (CompiledExpr is immutable).
struct DefaultExpr {
  std::shared_ptr<const eval::CompiledExpr> compiled;
  std::vector<std::string> deps;
  // Reads no column: one value per insert (it may still read now()), see ConstantDefault.
  bool constant() const { return deps.empty(); }
};

Result<DefaultExpr> CompileDefault(const storage::ColumnDef& column,
                                   const storage::TableSchema& schema) {
  auto parsed = sql::ParseExpression(column.default_expr);
  if (!parsed.ok()) {
    return parsed.status().WithContext(fmt::format("DEFAULT of column {}", column.name));
  }
  std::set<std::string> names;
  CollectIdentifiers(**parsed, &names);
  DefaultExpr out;
  std::vector<eval::InputColumn> inputs;
  for (const auto& c : schema.columns) {  // table order: deterministic
    if (names.count(c.name) != 0) {
      out.deps.push_back(c.name);
      inputs.push_back({c.name, c.type});
    }
  }
  auto compiled = eval::Compile(**parsed, inputs);
  if (!compiled.ok()) {
    return compiled.status().WithContext(fmt::format("DEFAULT of column {}", column.name));
  }
  out.compiled = std::move(compiled).value();
  return out;
}

// The value of a constant DEFAULT (DefaultExpr::constant) for an insert at `now_micros`,
// converted to the column's type.
Result<types::Value> ConstantDefault(const DefaultExpr& expr, const storage::ColumnDef& column,
                                     int64_t now_micros) {
  eval::EvalContext ctx;
  ctx.now_micros = now_micros;
  auto v = expr.compiled->EvaluateConstant(ctx);
  if (!v.ok()) return v.status().WithContext(fmt::format("DEFAULT of column {}", column.name));
  if (expr.compiled->type()->Equals(*column.type)) return std::move(v).value();
  types::ColumnPtr one = types::MakeConstColumn(expr.compiled->type(), *v, 1);
  auto cast = eval::CastColumn(one, column.type);
  if (!cast.ok()) {
    return cast.status().WithContext(fmt::format("DEFAULT of column {}", column.name));
  }
  return (*cast)->GetValue(0);
}

// What an insert into one table definition needs before its first row, worked out once and
// shared by every insert with the same shape (InsertPlanCache): which columns the data
// provides, their compiled DEFAULTs, the derived columns and the order they are computed in.
// Immutable once built.
struct InsertPlan {
  // A column the parser reads. When `fill` is set, rows that omitted the value get it from
  // this (non-constant) DEFAULT, evaluated per block; `constant`: a constant DEFAULT,
  // evaluated per insert as the parser's default value.
  struct ParsedColumn {
    const storage::ColumnDef* def = nullptr;
    std::optional<DefaultExpr> fill;
    std::optional<DefaultExpr> constant;
    bool given = false;  // IngestOptions::omitted_values has a value for it
  };
  // A stored column the data does not provide: MATERIALIZED, or left out of the column list.
  struct DerivedColumn {
    const storage::ColumnDef* def = nullptr;
    std::optional<DefaultExpr> expr;  // none: the type's default value
  };
  // One step of the per-block evaluation, in dependency order.
  struct Step {
    bool parsed = false;  // fill omitted rows of parsed[index], else compute derived[index]
    size_t index = 0;
  };

  // The shape: the definition, the statement's column list and the columns with values
  // given per insert (omitted_values).
  storage::TableSchemaPtr schema;
  std::vector<std::string> columns;
  std::vector<std::string> given;
  std::string table_name;                  // "db.name"
  metrics::Counter* table_rows = nullptr;  // its series of trackhouse_ingest_table_rows_total

  std::vector<ParsedColumn> parsed;
  std::vector<DerivedColumn> derived;
  std::vector<Step> steps;
  // No step, and the parsed columns are the stored columns in table order: a parsed block is
  // stored as it is.
  bool parsed_is_stored = false;

  bool Fits(const storage::TableSchemaPtr& s, const std::vector<std::string>& cols,
            const std::vector<std::string>& given_names) const {
    const bool same_table =
        s == schema || (!s->create_sql.empty() && s->create_sql == schema->create_sql &&
                        s->database == schema->database && s->name == schema->name);
    return same_table && cols == columns && given_names == given;
  }
};
using InsertPlanPtr = std::shared_ptr<const InsertPlan>;

Result<InsertPlanPtr> BuildPlan(storage::TableSchemaPtr table, std::vector<std::string> columns,
                                std::vector<std::string> given) {
  auto plan = std::make_shared<InsertPlan>();
  plan->schema = std::move(table);
  plan->columns = std::move(columns);
  plan->given = std::move(given);
  const storage::TableSchema& schema = *plan->schema;
  plan->table_name = schema.database + "." + schema.name;
  plan->table_rows = &M().table_rows.With({plan->table_name});
  const std::string& table_name = plan->table_name;

  // Which columns the data provides.
  std::vector<const storage::ColumnDef*> provided;
  if (plan->columns.empty()) {
    for (const auto& c : schema.columns) {
      if (c.default_kind == storage::DefaultKind::kNone ||
          c.default_kind == storage::DefaultKind::kDefault) {
        provided.push_back(&c);
      }
    }
  } else {
    std::set<std::string> seen;
    for (const auto& name : plan->columns) {
      const storage::ColumnDef* c = schema.FindColumn(name);
      if (c == nullptr) {
        return Status::InvalidArgument(
            fmt::format("No such column {} in table {}", name, table_name),
            ch::kNoSuchColumnInTable);
      }
      if (!seen.insert(name).second) {
        return Status::InvalidArgument(
            fmt::format("Column {} is specified more than once in the INSERT column list", name),
            ch::kDuplicateColumn);
      }
      if (c->default_kind == storage::DefaultKind::kMaterialized ||
          c->default_kind == storage::DefaultKind::kAlias) {
        return Status::InvalidArgument(
            fmt::format("Cannot insert column {}, because it is {} column", name,
                        c->default_kind == storage::DefaultKind::kAlias ? "ALIAS" : "MATERIALIZED"),
            ch::kIllegalColumn);
      }
      provided.push_back(c);
    }
  }

  for (const storage::ColumnDef* c : provided) {
    InsertPlan::ParsedColumn pc;
    pc.def = c;
    pc.given = std::find(plan->given.begin(), plan->given.end(), c->name) != plan->given.end();
    if (!pc.given && c->default_kind == storage::DefaultKind::kDefault &&
        !c->default_expr.empty()) {
      TH_ASSIGN_OR_RETURN(DefaultExpr d, CompileDefault(*c, schema));
      if (d.constant()) {
        pc.constant = std::move(d);
      } else {
        pc.fill = std::move(d);
      }
    }
    plan->parsed.push_back(std::move(pc));
  }
  std::set<std::string> provided_names;
  for (const auto* c : provided) provided_names.insert(c->name);
  for (const auto& c : schema.columns) {
    if (!IsStored(c.default_kind) || provided_names.count(c.name) != 0) continue;
    InsertPlan::DerivedColumn dc;
    dc.def = &c;
    if (!c.default_expr.empty() && c.default_kind != storage::DefaultKind::kNone) {
      TH_ASSIGN_OR_RETURN(DefaultExpr d, CompileDefault(c, schema));
      dc.expr = std::move(d);
    }
    plan->derived.push_back(std::move(dc));
  }

  // Order the per-block steps so that every expression sees final values of what it reads.
  std::set<std::string> ready;
  for (const auto& pc : plan->parsed) {
    if (!pc.fill) ready.insert(pc.def->name);
  }
  std::vector<InsertPlan::Step> pending;
  for (size_t i = 0; i < plan->parsed.size(); ++i) {
    if (plan->parsed[i].fill) pending.push_back({true, i});
  }
  for (size_t i = 0; i < plan->derived.size(); ++i) pending.push_back({false, i});
  auto def_of = [&](const InsertPlan::Step& step) {
    return step.parsed ? plan->parsed[step.index].def : plan->derived[step.index].def;
  };
  while (!pending.empty()) {
    bool progress = false;
    for (auto it = pending.begin(); it != pending.end();) {
      const std::optional<DefaultExpr>& e =
          it->parsed ? plan->parsed[it->index].fill : plan->derived[it->index].expr;
      const storage::ColumnDef* def = def_of(*it);
      bool can = true;
      if (e) {
        for (const auto& d : e->deps) {
          if (d != def->name && ready.count(d) == 0) can = false;
        }
      }
      if (can) {
        plan->steps.push_back(*it);
        ready.insert(def->name);
        it = pending.erase(it);
        progress = true;
      } else {
        ++it;
      }
    }
    if (!progress) {
      return Status::InvalidArgument(
          fmt::format("Cyclic DEFAULT expressions in table {} (column {})", table_name,
                      def_of(pending.front())->name),
          ch::kIncorrectQuery);
    }
  }
  size_t stored = 0;
  bool in_order = plan->steps.empty();
  for (const auto& c : schema.columns) {
    if (!IsStored(c.default_kind)) continue;
    in_order = in_order && stored < plan->parsed.size() && plan->parsed[stored].def == &c;
    ++stored;
  }
  plan->parsed_is_stored = in_order && stored == plan->parsed.size();
  return InsertPlanPtr(std::move(plan));
}

// Recently used plans, shared by every thread: an insert into a table whose definition has
// not changed since (same TableSchema, or the same CREATE statement) reuses its plan instead
// of compiling the DEFAULTs again. ALTER publishes a new definition, so a plan never outlives
// the definition it was built for; the oldest plans go beyond kMaxPlans (their definitions with
// them).
class InsertPlanCache {
 public:
  static InsertPlanCache& Get() {
    static InsertPlanCache* cache = new InsertPlanCache();
    return *cache;
  }

  Result<InsertPlanPtr> Find(const storage::TableSchemaPtr& table,
                             const std::vector<std::string>& columns,
                             const std::vector<std::string>& given) {
    {
      std::lock_guard lock(mu_);
      for (size_t i = 0; i < plans_.size(); ++i) {
        if (!plans_[i]->Fits(table, columns, given)) continue;
        InsertPlanPtr plan = plans_[i];
        if (i + 1 != plans_.size()) {  // most recently used last
          plans_.erase(plans_.begin() + static_cast<ptrdiff_t>(i));
          plans_.push_back(plan);
        }
        return plan;
      }
    }
    TH_ASSIGN_OR_RETURN(InsertPlanPtr plan, BuildPlan(table, columns, given));
    std::lock_guard lock(mu_);
    // An older definition of the same table will not be asked for again.
    std::erase_if(plans_, [&](const InsertPlanPtr& p) {
      return p->schema->database == table->database && p->schema->name == table->name &&
             p->columns == columns && p->given == given;
    });
    if (plans_.size() >= kMaxPlans) plans_.erase(plans_.begin());
    plans_.push_back(plan);
    return plan;
  }

 private:
  static constexpr size_t kMaxPlans = 64;
  std::mutex mu_;
  std::vector<InsertPlanPtr> plans_;  // GUARDED_BY(mu_), least recently used first
};

// Counts a stored block of `rows` rows on /metrics (also from a storage callback).
void CountStored(uint64_t rows, metrics::Counter* table_rows) {
  M().blocks.Add();
  M().rows.Add(static_cast<int64_t>(rows));
  table_rows->Add(static_cast<int64_t>(rows));
}

class InsertStreamImpl final : public InsertStream {
 public:
  Status Init(storage::Storage* storage, const std::string& database, const sql::InsertStmt& stmt,
              std::string_view format, const IngestOptions& options, int64_t now_micros);

  Status Feed(std::string_view chunk) override {
    if (!status_.ok()) return status_;
    if (finished_) return status_ = Status::Internal("InsertStream::Feed after Finish");
    return status_ = AfterParse(parser_->Feed(chunk));
  }

  Status Finish() override {
    if (!status_.ok()) return status_;
    if (finished_) return status_;
    finished_ = true;
    return status_ = AfterParse(parser_->Finish());
  }

  Status FeedBlock(const types::Block& block) override {
    if (!status_.ok()) return status_;
    if (block.num_columns() != plan_->parsed.size()) {
      return status_ = Status::InvalidArgument(
                 fmt::format("Number of columns doesn't match: the query returns {} columns, "
                             "the insert into {} takes {}",
                             block.num_columns(), table_name(), plan_->parsed.size()),
                 ch::kNumberOfColumnsDoesntMatch);
    }
    formats::ParsedBlock parsed;
    for (size_t i = 0; i < plan_->parsed.size(); ++i) {
      const storage::ColumnDef& def = *plan_->parsed[i].def;
      auto cast = eval::CastColumn(block.at(i).column, def.type);
      if (!cast.ok()) {
        return status_ = cast.status().WithContext(fmt::format("column {}", def.name));
      }
      parsed.block.Add(def.name, def.type, std::move(cast).value());
    }
    auto shaped = Shape(std::move(parsed));
    if (!shaped.ok()) return status_ = shaped.status();
    return status_ = Store(std::move(shaped).value());
  }

  uint64_t rows_staged() const override { return staged_rows_; }
  Status Commit(const storage::IdempotencyRecord* idempotency) override {
    if (!status_.ok()) return status_;
    if (!staged_ || !finished_) return Status::Internal("InsertStream::Commit before Finish");
    if (held_.empty()) return Status::OK();
    types::Block all = held_.size() == 1 ? std::move(held_[0]) : types::Concat(held_);
    held_.clear();
    staged_rows_ = 0;
    return status_ = Store(std::move(all), idempotency);
  }
  Status CommitAsync(const storage::IdempotencyRecord* idempotency,
                     std::function<void(Status)> done) override {
    if (!status_.ok()) return status_;
    if (!staged_ || !finished_) return Status::Internal("InsertStream::CommitAsync before Finish");
    if (held_.empty()) {
      done(Status::OK());
      return Status::OK();
    }
    types::Block all = held_.size() == 1 ? std::move(held_[0]) : types::Concat(held_);
    held_.clear();
    staged_rows_ = 0;
    return status_ = Store(std::move(all), idempotency, std::move(done));
  }

  uint64_t rows_written() const override { return rows_; }
  uint64_t bytes_written() const override { return bytes_; }
  const std::string& table_name() const override { return plan_->table_name; }

 private:
  // Stores the blocks the parser completed. Blocks completed before a parse error are stored
  // too (rows before the bad one, as ClickHouse keeps them); the parse error is returned.
  Status AfterParse(const Status& parsed) {
    Status drained = Drain();
    if (!parsed.ok()) {
      M().parse_errors.Add();
      return parsed;
    }
    return drained;
  }
  Status Drain();
  Result<types::Block> Shape(formats::ParsedBlock parsed);
  // `constant`: the value of a constant `expr` for this insert (ConstantDefault).
  Result<types::ColumnPtr> EvaluateDefault(const DefaultExpr& expr,
                                           const std::optional<types::Value>& constant,
                                           const storage::ColumnDef& column,
                                           const std::map<std::string, types::NamedColumn>& have,
                                           size_t rows);
  // Stores `block`; with `done`, without waiting (storage::InsertAsync): `done` then gets the
  // outcome unless an error is returned.
  Status Store(types::Block block, const storage::IdempotencyRecord* idempotency = nullptr,
               std::function<void(Status)> done = nullptr);
  Result<types::Block> AdaptToSchema(const types::Block& block, const storage::TableSchema& schema);

  storage::Storage* storage_ = nullptr;
  // The definition blocks are shaped for (Open time), and the one they are stored with (the
  // same unless the table was altered during the insert).
  storage::TableSchemaPtr schema_;
  storage::TableSchemaPtr target_schema_;
  InsertPlanPtr plan_;  // for schema_
  // This insert's values of the derived columns' constant DEFAULTs (plan_->derived order).
  std::vector<std::optional<types::Value>> derived_constants_;
  int64_t now_micros_ = 0;
  std::unique_ptr<formats::InputParser> parser_;
  Status status_;
  bool finished_ = false;
  bool staged_ = false;
  std::vector<types::Block> held_;  // staged blocks, shaped, waiting for Commit
  uint64_t staged_rows_ = 0;
  uint64_t rows_ = 0;
  uint64_t bytes_ = 0;
};

Status InsertStreamImpl::Init(storage::Storage* storage, const std::string& database,
                              const sql::InsertStmt& stmt, std::string_view format,
                              const IngestOptions& options, int64_t now_micros) {
  storage_ = storage;
  now_micros_ = now_micros;
  const std::string& db = stmt.database.empty() ? database : stmt.database;
  auto table = storage->GetTable(db, stmt.table);
  if (!table.ok()) {
    if (table.status().clickhouse_code() == ch::kUnknownTable) {
      return Status::NotFound(fmt::format("Table {}.{} does not exist", db, stmt.table),
                              ch::kUnknownTable);
    }
    return table.status();
  }
  std::vector<std::string> given;
  given.reserve(options.omitted_values.size());
  for (const auto& [name, value] : options.omitted_values) given.push_back(name);
  TH_ASSIGN_OR_RETURN(plan_, InsertPlanCache::Get().Find(*table, stmt.columns, given));
  schema_ = plan_->schema;
  target_schema_ = schema_;

  // This insert's default values: the ones given with it, and the constant DEFAULTs at its time.
  std::vector<formats::InputColumn> inputs;
  inputs.reserve(plan_->parsed.size());
  for (const InsertPlan::ParsedColumn& pc : plan_->parsed) {
    const storage::ColumnDef* c = pc.def;
    formats::InputColumn in;
    in.name = c->name;
    in.type = c->type;
    in.track_omitted = pc.fill.has_value();
    if (pc.given) {
      auto given_value = std::find_if(options.omitted_values.begin(), options.omitted_values.end(),
                                      [&](const auto& ov) { return ov.first == c->name; });
      auto v = types::ConvertValue(given_value->second, *c->type);
      if (!v.ok()) return v.status().WithContext(fmt::format("column {}", c->name));
      in.default_value = std::move(v).value();
    } else if (pc.constant) {
      TH_ASSIGN_OR_RETURN(in.default_value, ConstantDefault(*pc.constant, *c, now_micros));
    }
    inputs.push_back(std::move(in));
  }
  derived_constants_.resize(plan_->derived.size());
  for (size_t i = 0; i < plan_->derived.size(); ++i) {
    const InsertPlan::DerivedColumn& dc = plan_->derived[i];
    if (dc.expr && dc.expr->constant()) {
      TH_ASSIGN_OR_RETURN(derived_constants_[i], ConstantDefault(*dc.expr, *dc.def, now_micros));
    }
  }

  formats::InputOptions parser_options;
  parser_options.max_block_rows = std::max<size_t>(1, options.max_insert_block_size);
  parser_options.skip_unknown_fields = options.skip_unknown_fields;
  parser_options.max_row_bytes = options.max_row_bytes;
  parser_options.max_string_bytes = options.max_string_bytes;
  parser_options.row_errors = options.row_errors;
  staged_ = options.staged;
  auto parser = formats::MakeInputParser(format, std::move(inputs), parser_options);
  if (!parser.ok()) return parser.status();
  parser_ = std::move(parser).value();
  return Status::OK();
}

Status InsertStreamImpl::Drain() {
  while (parser_->HasBlock()) {
    TH_ASSIGN_OR_RETURN(types::Block block, Shape(parser_->TakeBlock()));
    if (staged_) {
      staged_rows_ += block.rows();
      held_.push_back(std::move(block));
      continue;
    }
    TH_RETURN_IF_ERROR(Store(std::move(block)));
  }
  return Status::OK();
}

Result<types::ColumnPtr> InsertStreamImpl::EvaluateDefault(
    const DefaultExpr& expr, const std::optional<types::Value>& constant,
    const storage::ColumnDef& column, const std::map<std::string, types::NamedColumn>& have,
    size_t rows) {
  if (constant) return types::MakeConstColumn(column.type, *constant, rows);
  types::Block input;
  for (const auto& d : expr.deps) {
    auto it = have.find(d);
    if (it == have.end()) {
      return Status::Internal(
          fmt::format("DEFAULT of {} reads {} before it is computed", column.name, d));
    }
    input.Add(it->second.name, it->second.type, it->second.column);
  }
  eval::EvalContext ctx;
  ctx.now_micros = now_micros_;
  auto col = expr.compiled->Evaluate(input, ctx);
  if (!col.ok()) {
    M().default_errors.Add();
    return col.status().WithContext(fmt::format("DEFAULT of column {}", column.name));
  }
  auto cast = eval::CastColumn(*col, column.type);
  if (!cast.ok()) {
    M().default_errors.Add();
    return cast.status().WithContext(fmt::format("DEFAULT of column {}", column.name));
  }
  return std::move(cast).value();
}

Result<types::Block> InsertStreamImpl::Shape(formats::ParsedBlock parsed) {
  if (plan_->parsed_is_stored) return std::move(parsed.block);
  const size_t rows = parsed.block.rows();
  std::map<std::string, types::NamedColumn> have;
  for (size_t i = 0; i < parsed.block.num_columns(); ++i) {
    const auto& c = parsed.block.at(i);
    have[c.name] = c;
  }
  for (const InsertPlan::Step& step : plan_->steps) {
    if (step.parsed) {
      const InsertPlan::ParsedColumn& pc = plan_->parsed[step.index];
      const std::vector<uint8_t>& omitted =
          step.index < parsed.omitted.size() ? parsed.omitted[step.index] : std::vector<uint8_t>();
      size_t n = 0;
      for (uint8_t o : omitted) n += o != 0;
      if (n == 0) continue;
      TH_ASSIGN_OR_RETURN(types::ColumnPtr def,
                          EvaluateDefault(*pc.fill, std::nullopt, *pc.def, have, rows));
      types::NamedColumn& target = have[pc.def->name];
      if (n == rows) {
        target.column = def;
        continue;
      }
      types::ColumnPtr merged = types::MakeColumn(pc.def->type);
      merged->Reserve(rows);
      for (size_t r = 0; r < rows; ++r) {
        merged->AppendFrom(omitted[r] ? *def : *target.column, r);
      }
      target.column = merged;
    } else {
      const InsertPlan::DerivedColumn& dc = plan_->derived[step.index];
      types::ColumnPtr col;
      if (dc.expr) {
        TH_ASSIGN_OR_RETURN(
            col, EvaluateDefault(*dc.expr, derived_constants_[step.index], *dc.def, have, rows));
      } else {
        col = types::MakeConstColumn(dc.def->type, types::DefaultValue(*dc.def->type), rows);
      }
      have[dc.def->name] = types::NamedColumn{dc.def->name, dc.def->type, col};
    }
  }
  types::Block out;
  for (const auto& c : schema_->columns) {
    if (!IsStored(c.default_kind)) continue;
    auto it = have.find(c.name);
    if (it == have.end()) {
      return Status::Internal(fmt::format("column {} of {} was not built", c.name, table_name()));
    }
    out.Add(c.name, c.type, it->second.column);
  }
  return out;
}

Result<types::Block> InsertStreamImpl::AdaptToSchema(const types::Block& block,
                                                     const storage::TableSchema& schema) {
  std::map<std::string, types::NamedColumn> have;
  for (const auto& c : block.columns()) have[c.name] = c;
  types::Block out;
  for (const auto& c : schema.columns) {
    if (!IsStored(c.default_kind)) continue;
    auto it = have.find(c.name);
    if (it != have.end()) {
      TH_ASSIGN_OR_RETURN(types::ColumnPtr col, eval::CastColumn(it->second.column, c.type));
      out.Add(c.name, c.type, col);
      continue;
    }
    types::ColumnPtr col;
    if (!c.default_expr.empty() && c.default_kind != storage::DefaultKind::kNone) {
      TH_ASSIGN_OR_RETURN(DefaultExpr d, CompileDefault(c, schema));
      std::optional<types::Value> constant;
      if (d.constant()) {
        TH_ASSIGN_OR_RETURN(constant, ConstantDefault(d, c, now_micros_));
      }
      TH_ASSIGN_OR_RETURN(col, EvaluateDefault(d, constant, c, have, block.rows()));
    } else {
      col = types::MakeConstColumn(c.type, types::DefaultValue(*c.type), block.rows());
    }
    out.Add(c.name, c.type, col);
  }
  return out;
}

Status InsertStreamImpl::Store(types::Block block, const storage::IdempotencyRecord* idempotency,
                               std::function<void(Status)> done) {
  if (block.rows() == 0) return Status::OK();
  if (target_schema_ != schema_) {
    auto adapted = AdaptToSchema(block, *target_schema_);
    if (!adapted.ok()) {
      M().storage_errors.Add();
      return adapted.status().WithContext(
          fmt::format("table {} changed during the insert", table_name()));
    }
    block = std::move(adapted).value();
  }
  const bool async = done != nullptr;
  auto insert = [&]() -> Result<storage::InsertResult> {
    if (async) {
      // The counters are process-wide: the callback may outlive this stream.
      metrics::Counter* table_rows = plan_->table_rows;
      TH_RETURN_IF_ERROR(storage_->InsertAsync(*target_schema_, block, idempotency,
                                               [done, table_rows](Result<storage::InsertResult> r) {
                                                 if (!r.ok()) {
                                                   M().storage_errors.Add();
                                                   done(r.status());
                                                   return;
                                                 }
                                                 CountStored(r->rows, table_rows);
                                                 done(Status::OK());
                                               }));
      return storage::InsertResult{};
    }
    return idempotency != nullptr ? storage_->InsertIdempotent(*target_schema_, block, *idempotency)
                                  : storage_->Insert(*target_schema_, block);
  };
  auto result = insert();
  // The table was altered (ALTER ADD/DROP COLUMN) while this insert ran: re-shape the block
  // for the new definition and try again; later blocks are re-shaped the same way.
  for (int attempt = 0;
       !result.ok() && result.status().code() == StatusCode::kAborted && attempt < 3; ++attempt) {
    M().schema_retries.Add();
    auto fresh = storage_->GetTable(schema_->database, schema_->name);
    if (!fresh.ok()) {
      M().storage_errors.Add();
      return fresh.status();
    }
    auto adapted = AdaptToSchema(block, **fresh);
    if (!adapted.ok()) {
      M().storage_errors.Add();
      return adapted.status().WithContext(
          fmt::format("table {} changed during the insert", table_name()));
    }
    target_schema_ = *fresh;
    block = std::move(adapted).value();
    result = insert();
  }
  if (!result.ok()) {
    M().storage_errors.Add();
    return result.status();
  }
  if (async) return Status::OK();  // counted by the callback
  rows_ += block.rows();
  bytes_ += block.DataBytes();
  CountStored(block.rows(), plan_->table_rows);
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<InsertStream>> InsertStream::Open(
    storage::Storage* storage, const std::string& database, const sql::InsertStmt& stmt,
    std::string_view format, const IngestOptions& options, int64_t now_micros) {
  auto stream = std::make_unique<InsertStreamImpl>();
  Status st = stream->Init(storage, database, stmt, format, options, now_micros);
  if (!st.ok()) {
    M().open_errors.Add();
    return st;
  }
  return std::unique_ptr<InsertStream>(std::move(stream));
}

}  // namespace trackhouse::ingest
