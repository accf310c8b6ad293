#include "query/sources.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <mutex>

#include "common/error_codes.h"
#include "query/rewrite.h"
#include "sql/format.h"
#include "sql/parser.h"
#include "storage/storage.h"

namespace trackhouse::query {
namespace {

using types::DataType;
using types::TypeId;


Result<types::Block> Project(const types::Block& from, const std::vector<std::string>& needed) {
  types::Block out;
  for (const auto& n : needed) {
    const types::NamedColumn* c = from.Get(n);
    if (c == nullptr) {
      return Status::InvalidArgument(fmt::format("Missing column {}", n), ch::kUnknownIdentifier);
    }
    out.Add(c->name, c->type, c->column);
  }
  if (needed.empty()) AddRowCountColumn(&out, from.rows());
  return out;
}

class MemoryBlockSource final : public BlockSource {
 public:
  explicit MemoryBlockSource(std::vector<types::Block> blocks) : blocks_(std::move(blocks)) {}
  bool Next(types::Block* block) override {
    while (true) {
      size_t i = next_.fetch_add(1);
      if (i >= blocks_.size()) return false;
      if (blocks_[i].rows() == 0) continue;
      *block = std::move(blocks_[i]);
      return true;
    }
  }
  Status status() const override { return Status::OK(); }

 private:
  std::vector<types::Block> blocks_;
  std::atomic<size_t> next_{0};
};

class MemorySourcePlan final : public SourcePlan {
 public:
  MemorySourcePlan(std::vector<eval::InputColumn> columns, std::vector<types::Block> blocks)
      : columns_(std::move(columns)), blocks_(std::move(blocks)) {}
  const std::vector<eval::InputColumn>& columns() const override { return columns_; }
  Result<std::unique_ptr<BlockSource>> Open(const std::vector<std::string>& needed,
                                            const sql::Expr*, bool final) override {
    if (final) {
      return Status::InvalidArgument("FINAL is only for tables of the storage",
                                     ch::kIllegalFinal);
    }
    std::vector<types::Block> out;
    for (const auto& b : blocks_) {
      TH_ASSIGN_OR_RETURN(types::Block p, Project(b, needed));
      out.push_back(std::move(p));
    }
    return std::unique_ptr<BlockSource>(std::make_unique<MemoryBlockSource>(std::move(out)));
  }

 private:
  std::vector<eval::InputColumn> columns_;
  std::vector<types::Block> blocks_;
};

class ScanBlockSource final : public BlockSource {
 public:
  explicit ScanBlockSource(std::unique_ptr<storage::ScanSource> scan) : scan_(std::move(scan)) {}
  bool Next(types::Block* block) override { return scan_->NextBlock(block); }
  Status status() const override { return scan_->status(); }

 private:
  std::unique_ptr<storage::ScanSource> scan_;
};

class TableSourcePlan final : public SourcePlan {
 public:
  TableSourcePlan(QueryContext* ctx, std::string db, std::string table,
                  std::vector<eval::InputColumn> columns)
      : ctx_(ctx), db_(std::move(db)), table_(std::move(table)), columns_(std::move(columns)) {}
  const std::vector<eval::InputColumn>& columns() const override { return columns_; }
  Result<std::unique_ptr<BlockSource>> Open(const std::vector<std::string>& needed,
                                            const sql::Expr* prune_filter, bool final) override {
    storage::ScanRequest req;
    req.columns = needed;
    req.prune_filter = prune_filter;
    req.now_micros = ctx_->now_micros();
    req.final = final;
    TH_ASSIGN_OR_RETURN(auto scan, ctx_->storage()->Scan(db_, table_, req));
    return std::unique_ptr<BlockSource>(std::make_unique<ScanBlockSource>(std::move(scan)));
  }

 private:
  QueryContext* ctx_;
  std::string db_, table_;
  std::vector<eval::InputColumn> columns_;
};

// numbers(N) / numbers(offset, N): UInt64 `number`, generated block by block.
class NumbersSource final : public BlockSource {
 public:
  NumbersSource(uint64_t offset, uint64_t count, bool want)
      : offset_(offset), count_(count), want_(want) {}
  bool Next(types::Block* block) override {
    constexpr uint64_t kBlock = 65536;
    uint64_t start = next_.fetch_add(kBlock);
    if (start >= count_) return false;
    uint64_t n = std::min(kBlock, count_ - start);
    auto t = DataType::Get(TypeId::kUInt64);
    types::Block b;
    if (want_) {
      auto col = std::make_shared<types::ColumnVector<uint64_t>>(t);
      col->data().resize(n);
      for (uint64_t i = 0; i < n; ++i) col->data()[i] = offset_ + start + i;
      b.Add("number", t, col);
    } else {
      AddRowCountColumn(&b, n);
    }
    *block = std::move(b);
    return true;
  }
  Status status() const override { return Status::OK(); }

 private:
  uint64_t offset_, count_;
  bool want_;
  std::atomic<uint64_t> next_{0};
};

class NumbersPlan final : public SourcePlan {
 public:
  NumbersPlan(uint64_t offset, uint64_t count) : offset_(offset), count_(count) {
    columns_.push_back({"number", DataType::Get(TypeId::kUInt64)});
  }
  const std::vector<eval::InputColumn>& columns() const override { return columns_; }
  Result<std::unique_ptr<BlockSource>> Open(const std::vector<std::string>& needed,
                                            const sql::Expr*, bool) override {
    return std::unique_ptr<BlockSource>(
        std::make_unique<NumbersSource>(offset_, count_, !needed.empty()));
  }

 private:
  uint64_t offset_, count_;
  std::vector<eval::InputColumn> columns_;
};

// ---- system tables ----

struct BlockBuilder {
  types::Block block;
  void Col(const std::string& name, const types::DataTypePtr& type) {
    block.Add(name, type, types::MakeColumn(type));
  }
  types::Column& At(size_t i) { return *block.at(i).column; }
};

types::DataTypePtr Str() { return DataType::Get(TypeId::kString); }
types::DataTypePtr U64() { return DataType::Get(TypeId::kUInt64); }
types::DataTypePtr U8() { return DataType::Get(TypeId::kUInt8); }

struct TableKeys {
  std::string partition_key, sorting_key, primary_key, engine_full;
};

TableKeys KeysOf(const storage::TableSchema& s) {
  TableKeys k;
  auto parsed = sql::ParseStatement(s.create_sql);
  if (!parsed.ok()) return k;
  const auto* c = (*parsed)->As<sql::CreateTableStmt>();
  if (c == nullptr) return k;
  auto keys = [](const sql::ExprPtr& e) -> std::string {
    if (!e) return "";
    if (e->IsFunction("tuple")) {
      std::string out;
      for (size_t i = 0; i < e->args.size(); ++i) {
        if (i) out += ", ";
        out += sql::FormatExpr(*e->args[i]);
      }
      return out;
    }
    return sql::FormatExpr(*e);
  };
  k.partition_key = keys(c->partition_by);
  k.sorting_key = keys(c->order_by);
  k.primary_key = c->primary_key ? keys(c->primary_key) : k.sorting_key;
  size_t at = s.create_sql.find("ENGINE = ");
  if (at != std::string::npos) k.engine_full = s.create_sql.substr(at + 9);
  return k;
}

Result<std::vector<storage::TableSchemaPtr>> AllTables(storage::Storage* storage) {
  std::vector<storage::TableSchemaPtr> out;
  TH_ASSIGN_OR_RETURN(auto dbs, storage->ListDatabases());
  for (const auto& db : dbs) {
    TH_ASSIGN_OR_RETURN(auto tables, storage->ListTables(db));
    for (const auto& t : tables) {
      auto schema = storage->GetTable(db, t);
      if (!schema.ok()) continue;  // dropped meanwhile
      out.push_back(*schema);
    }
  }
  return out;
}

const char* const kSystemTables[] = {"databases", "tables", "columns", "parts", "one"};

}  // namespace

Result<types::Block> SystemTable(const std::string& name, QueryContext* ctx) {
  storage::Storage* st = ctx->storage();
  BlockBuilder b;
  if (name == "one") {
    b.Col("dummy", U8());
    b.At(0).AppendValue(types::Value::UInt(0));
    return b.block;
  }
  if (name == "databases") {
    b.Col("name", Str());
    b.Col("engine", Str());
    TH_ASSIGN_OR_RETURN(auto dbs, st->ListDatabases());
    dbs.push_back("system");
    std::sort(dbs.begin(), dbs.end());
    for (const auto& d : dbs) {
      b.At(0).AppendValue(types::Value::String(d));
      b.At(1).AppendValue(types::Value::String(d == "system" ? "Memory" : "Atomic"));
    }
    return b.block;
  }
  if (name == "tables") {
    for (const char* c : {"database", "name", "engine", "engine_full", "create_table_query",
                          "partition_key", "sorting_key", "primary_key"}) {
      b.Col(c, Str());
    }
    b.Col("is_temporary", U8());
    b.Col("total_rows", DataType::Nullable(U64()));
    b.Col("total_bytes", DataType::Nullable(U64()));
    TH_ASSIGN_OR_RETURN(auto tables, AllTables(st));
    for (const auto& s : tables) {
      TableKeys k = KeysOf(*s);
      uint64_t rows = 0, bytes = 0;
      if (auto parts = st->ListParts(s->database, s->name); parts.ok()) {
        for (const auto& p : *parts) {
          rows += p.rows;
          bytes += p.bytes_on_disk;
        }
      }
      size_t i = 0;
      for (const std::string* v :
           std::initializer_list<const std::string*>{&s->database, &s->name, &s->engine,
                                                     &k.engine_full, &s->create_sql,
                                                     &k.partition_key, &k.sorting_key,
                                                     &k.primary_key}) {
        b.At(i++).AppendValue(types::Value::String(*v));
      }
      b.At(i++).AppendValue(types::Value::UInt(0));
      if (s->is_buffer()) {
        b.At(i++).AppendValue(types::Value());
        b.At(i++).AppendValue(types::Value());
      } else {
        b.At(i++).AppendValue(types::Value::UInt(rows));
        b.At(i++).AppendValue(types::Value::UInt(bytes));
      }
    }
    for (const char* t : kSystemTables) {
      size_t i = 0;
      for (const char* v : {"system", t, "SystemTable", "SystemTable", "", "", "", ""}) {
        b.At(i++).AppendValue(types::Value::String(v));
      }
      b.At(i++).AppendValue(types::Value::UInt(0));
      b.At(i++).AppendValue(types::Value());
      b.At(i++).AppendValue(types::Value());
    }
    return b.block;
  }
  if (name == "columns") {
    for (const char* c : {"database", "table", "name", "type"}) b.Col(c, Str());
    b.Col("position", U64());
    for (const char* c : {"default_kind", "default_expression", "comment"}) b.Col(c, Str());
    for (const char* c : {"is_in_partition_key", "is_in_sorting_key", "is_in_primary_key"}) {
      b.Col(c, U8());
    }
    TH_ASSIGN_OR_RETURN(auto tables, AllTables(st));
    for (const auto& s : tables) {
      TableKeys k = KeysOf(*s);
      auto in = [](const std::string& list, const std::string& col) {
        size_t start = 0;
        while (start <= list.size()) {
          size_t end = list.find(", ", start);
          if (end == std::string::npos) end = list.size();
          if (list.compare(start, end - start, col) == 0) return true;
          start = end + 2;
        }
        return false;
      };
      uint64_t pos = 0;
      for (const auto& c : s->columns) {
        size_t i = 0;
        for (const std::string* v : std::initializer_list<const std::string*>{
                 &s->database, &s->name, &c.name, &c.type->name()}) {
          b.At(i++).AppendValue(types::Value::String(*v));
        }
        b.At(i++).AppendValue(types::Value::UInt(++pos));
        b.At(i++).AppendValue(types::Value::String(std::string(storage::DefaultKindName(c.default_kind))));
        b.At(i++).AppendValue(types::Value::String(c.default_expr));
        b.At(i++).AppendValue(types::Value::String(""));
        b.At(i++).AppendValue(types::Value::UInt(in(k.partition_key, c.name)));
        b.At(i++).AppendValue(types::Value::UInt(in(k.sorting_key, c.name)));
        b.At(i++).AppendValue(types::Value::UInt(in(k.primary_key, c.name)));
      }
    }
    return b.block;
  }
  if (name == "parts") {
    for (const char* c : {"database", "table", "partition", "partition_id", "name"}) {
      b.Col(c, Str());
    }
    b.Col("active", U8());
    for (const char* c : {"rows", "bytes_on_disk", "min_block_number", "max_block_number"}) {
      b.Col(c, U64());
    }
    b.Col("level", DataType::Get(TypeId::kUInt32));
    TH_ASSIGN_OR_RETURN(auto tables, AllTables(st));
    for (const auto& s : tables) {
      if (s->is_buffer()) continue;
      TH_ASSIGN_OR_RETURN(auto parts, st->ListParts(s->database, s->name));
      for (const auto& p : parts) {
        size_t i = 0;
        for (const std::string* v : std::initializer_list<const std::string*>{
                 &s->database, &s->name, &p.partition, &p.partition, &p.name}) {
          b.At(i++).AppendValue(types::Value::String(*v));
        }
        b.At(i++).AppendValue(types::Value::UInt(1));
        for (uint64_t v : {p.rows, p.bytes_on_disk, p.min_block, p.max_block}) {
          b.At(i++).AppendValue(types::Value::UInt(v));
        }
        b.At(i++).AppendValue(types::Value::UInt(p.level));
      }
    }
    return b.block;
  }
  return Status::NotFound(fmt::format("Table system.{} does not exist", name), ch::kUnknownTable);
}

void AddRowCountColumn(types::Block* block, size_t rows) {
  auto t = DataType::Get(TypeId::kUInt8);
  block->Add(kRowCountColumn, t, types::MakeConstColumn(t, types::Value::UInt(0), rows));
}

std::unique_ptr<SourcePlan> MakeMemorySource(std::vector<eval::InputColumn> columns,
                                             std::vector<types::Block> blocks) {
  return std::make_unique<MemorySourcePlan>(std::move(columns), std::move(blocks));
}

Result<std::unique_ptr<SourcePlan>> MakeSourcePlan(const sql::TableExpr* from, QueryContext* ctx,
                                                   const SubqueryRunner& run_subquery) {
  auto from_block = [](types::Block block) {
    std::vector<eval::InputColumn> cols;
    for (const auto& c : block.columns()) cols.push_back({c.name, c.type});
    std::vector<types::Block> blocks;
    blocks.push_back(std::move(block));
    return std::unique_ptr<SourcePlan>(
        std::make_unique<MemorySourcePlan>(std::move(cols), std::move(blocks)));
  };
  if (from == nullptr) {
    TH_ASSIGN_OR_RETURN(types::Block one, SystemTable("one", ctx));
    return from_block(std::move(one));
  }
  switch (from->kind) {
    case sql::TableExpr::Kind::kSubquery:
      return run_subquery(*from->subquery);
    case sql::TableExpr::Kind::kFunction: {
      const sql::Expr& f = *from->function;
      if (f.name != "numbers") {
        return Status::NotSupported(
            fmt::format("Unknown table function {}: trackhouse supports numbers()", f.name),
            ch::kUnknownFunction);
      }
      if (f.args.empty() || f.args.size() > 2) {
        return Status::InvalidArgument("Table function 'numbers' requires 1 or 2 arguments",
                                       ch::kNumberOfArgumentsDoesntMatch);
      }
      uint64_t offset = 0;
      TH_ASSIGN_OR_RETURN(uint64_t count, ConstantUInt(*f.args.back(), ctx->eval(), "numbers() count"));
      if (f.args.size() == 2) {
        TH_ASSIGN_OR_RETURN(offset, ConstantUInt(*f.args[0], ctx->eval(), "numbers() offset"));
      }
      return std::unique_ptr<SourcePlan>(std::make_unique<NumbersPlan>(offset, count));
    }
    case sql::TableExpr::Kind::kTable:
      break;
  }
  std::string db = from->database.empty() ? ctx->database() : from->database;
  if (db == "system") {
    TH_ASSIGN_OR_RETURN(types::Block b, SystemTable(from->table, ctx));
    return from_block(std::move(b));
  }
  TH_ASSIGN_OR_RETURN(storage::TableSchemaPtr schema, ctx->storage()->GetTable(db, from->table));
  std::vector<eval::InputColumn> cols;
  for (const auto& c : schema->columns) {
    if (c.default_kind == storage::DefaultKind::kAlias ||
        c.default_kind == storage::DefaultKind::kEphemeral) {
      continue;
    }
    cols.push_back({c.name, c.type});
  }
  return std::unique_ptr<SourcePlan>(
      std::make_unique<TableSourcePlan>(ctx, db, from->table, std::move(cols)));
}

}  // namespace trackhouse::query
