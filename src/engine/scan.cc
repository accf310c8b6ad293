#include "engine/scan.h"

#include <atomic>
#include <map>
#include <mutex>

#include "engine/merge_rules.h"
#include "engine/prune.h"
#include "engine/sort.h"

namespace trackhouse::engine {
namespace {

// Granules read per output block from a part (8 granules = 65,536 rows by default).
constexpr size_t kGranulesPerBlock = 8;

// With no columns requested (count()), blocks still need a row count: one UInt8 column.
void AddRowCountColumn(types::Block* block, size_t rows) {
  auto type = types::DataType::Get(types::TypeId::kUInt8);
  block->Add("_dummy", type, types::MakeConstColumn(type, types::Value::UInt(0), rows));
}

types::Block Project(const types::Block& from, const std::vector<std::string>& columns,
                     Status* status) {
  types::Block out;
  for (const auto& name : columns) {
    const types::NamedColumn* c = from.Get(name);
    if (c == nullptr) {
      *status = Status::Internal("scan block lacks column " + name);
      return out;
    }
    out.Add(c->name, c->type, c->column);
  }
  if (columns.empty()) AddRowCountColumn(&out, from.rows());
  return out;
}

class EngineScan final : public storage::ScanSource {
 public:
  EngineScan(const Table& table, Table::Snapshot snapshot, const storage::ScanRequest& request)
      : table_(table),
        snap_(std::move(snapshot)),
        columns_(request.columns),
        now_micros_(request.now_micros),
        final_(request.final) {
    parts_total_ = snap_.parts.size();
    std::map<std::string, KeyColumnBound> bounds;
    if (request.prune_filter != nullptr) {
      bounds = DeriveBounds(*request.prune_filter, *snap_.def, request.now_micros);
    }
    KeyRange key;
    for (const auto& k : snap_.def->sort_key) {
      auto it = bounds.find(k);
      key.columns.push_back(it == bounds.end() ? KeyColumnBound::Any() : it->second);
    }
    for (const auto& p : snap_.parts) {
      bool may = true;
      // FINAL must see every version of a key, so it prunes by partition-wide bounds only.
      if (!final_) {
        for (const auto& [col, b] : bounds) {
          may &= p.part->MayContain(col, b.lower.value_or(types::Value()),
                                    b.upper.value_or(types::Value()));
        }
      }
      if (!may) continue;
      ++parts_selected_;
      std::vector<std::pair<size_t, size_t>> ranges;
      if (bounds.empty() || final_) {
        ranges.emplace_back(0, p.part->num_granules());
      } else {
        ranges = p.part->SelectGranules(key);
      }
      for (auto [g0, g1] : ranges) {
        granules_ += g1 - g0;
        for (size_t g = g0; g < g1; g += kGranulesPerBlock) {
          units_.push_back({&p, g, std::min(g1, g + kGranulesPerBlock), 0});
        }
      }
    }
    for (size_t i = 0; i < snap_.memory.size(); ++i) {
      if (snap_.memory[i]->rows() > 0) units_.push_back({nullptr, 0, 0, i});
    }
  }

  bool NextBlock(types::Block* block) override {
    if (final_) return NextFinalBlock(block);
    while (!failed_.load(std::memory_order_relaxed)) {
      size_t i = next_.fetch_add(1);
      if (i >= units_.size()) return false;
      auto b = ReadUnit(units_[i], columns_);
      if (!b.ok()) return Fail(b.status());
      if (b->rows() == 0) continue;
      *block = std::move(b).value();
      return true;
    }
    return false;
  }

  const Status& status() const override {
    std::lock_guard<std::mutex> l(mu_);
    return status_;
  }
  uint64_t parts_total() const override { return parts_total_; }
  uint64_t parts_selected() const override { return parts_selected_; }
  uint64_t granules_selected() const override { return granules_; }

 private:
  struct Unit {
    const ActivePart* part;  // null for a memtable block
    size_t begin, end;       // granules of `part`
    size_t memory;           // index into snap_.memory
  };

  bool Fail(const Status& s) {
    std::lock_guard<std::mutex> l(mu_);
    if (status_.ok()) status_ = s;
    failed_ = true;
    return false;
  }

  Result<types::Block> ReadUnit(const Unit& u, const std::vector<std::string>& columns) const {
    if (u.part != nullptr) {
      TH_ASSIGN_OR_RETURN(types::Block b,
                          ReadPartColumns(*u.part->part, *snap_.def, columns, u.begin, u.end));
      if (columns.empty()) {
        size_t rows = 0;
        for (size_t g = u.begin; g < u.end; ++g) rows += u.part->part->GranuleRows(g);
        AddRowCountColumn(&b, rows);
      }
      return b;
    }
    TH_ASSIGN_OR_RETURN(types::Block adapted,
                        AdaptBlockToTable(*snap_.memory[u.memory], *snap_.def, now_micros_));
    Status st;
    types::Block out = Project(adapted, columns, &st);
    TH_RETURN_IF_ERROR(st);
    return out;
  }

  // FINAL: the whole snapshot grouped by partition, each partition collapsed as a merge would.
  bool NextFinalBlock(types::Block* block) {
    std::lock_guard<std::mutex> l(final_mu_);
    if (!final_built_) {
      final_built_ = true;
      Status st = BuildFinal();
      if (!st.ok()) return Fail(st);
    }
    if (failed_) return false;
    while (final_next_ < final_blocks_.size()) {
      types::Block& b = final_blocks_[final_next_++];
      if (b.rows() == 0) continue;
      *block = std::move(b);
      return true;
    }
    return false;
  }

  Status BuildFinal() {
    std::vector<std::string> all;
    for (const auto& c : snap_.def->schema->columns) all.push_back(c.name);
    std::map<std::string, std::vector<types::Block>> by_partition;
    for (const Unit& u : units_) {
      TH_ASSIGN_OR_RETURN(types::Block b, ReadUnit(u, all));
      if (u.part != nullptr) {
        by_partition[u.part->partition].push_back(std::move(b));
        continue;
      }
      TH_ASSIGN_OR_RETURN(auto split, table_.SplitByPartition(b, *snap_.def));
      for (auto& [partition, piece] : split) by_partition[partition].push_back(std::move(piece));
    }
    for (auto& [partition, blocks] : by_partition) {
      types::Block merged = types::Concat(blocks);
      blocks.clear();
      TH_ASSIGN_OR_RETURN(types::Permutation perm,
                          SortPermutation(merged, snap_.def->sort_key));
      TH_ASSIGN_OR_RETURN(types::Block collapsed,
                          CollapseSorted(*snap_.def, merged.Permute(perm)));
      Status st;
      final_blocks_.push_back(Project(collapsed, columns_, &st));
      TH_RETURN_IF_ERROR(st);
    }
    return Status::OK();
  }

  const Table& table_;
  Table::Snapshot snap_;
  const std::vector<std::string> columns_;
  const int64_t now_micros_;
  const bool final_;
  std::vector<Unit> units_;
  std::atomic<size_t> next_{0};
  std::atomic<bool> failed_{false};
  mutable std::mutex mu_;
  Status status_;  // GUARDED_BY(mu_)
  std::mutex final_mu_;
  bool final_built_ = false;  // GUARDED_BY(final_mu_)
  std::vector<types::Block> final_blocks_;
  size_t final_next_ = 0;
  uint64_t parts_total_ = 0;
  uint64_t parts_selected_ = 0;
  uint64_t granules_ = 0;
};

}  // namespace

std::unique_ptr<storage::ScanSource> MakeScanSource(const Table& table, Table::Snapshot snapshot,
                                                    const storage::ScanRequest& request) {
  return std::make_unique<EngineScan>(table, std::move(snapshot), request);
}

}  // namespace trackhouse::engine
