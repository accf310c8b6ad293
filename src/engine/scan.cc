#include "engine/scan.h"

#include <map>

#include "engine/merge_rules.h"
#include "engine/prune.h"

namespace trackhouse::engine {
namespace {

// Granules read per output block from a part (8 granules = 65,536 rows by default).
constexpr size_t kGranulesPerBlock = 8;

// With no columns requested (count()), blocks still need a row count: one UInt8 column.
void AddRowCountColumn(types::Block* block, size_t rows) {
  auto type = types::DataType::Get(types::TypeId::kUInt8);
  block->Add("_dummy", type, types::MakeConstColumn(type, types::Value::UInt(0), rows));
}

class EngineScan final : public storage::ScanSource {
 public:
  EngineScan(Table::Snapshot snapshot, const storage::ScanRequest& request)
      : snap_(std::move(snapshot)), columns_(request.columns), now_micros_(request.now_micros) {
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
      for (const auto& [col, b] : bounds) {
        may &= p.part->MayContain(col, b.lower.value_or(types::Value()),
                                  b.upper.value_or(types::Value()));
      }
      if (!may) continue;
      ++parts_selected_;
      if (bounds.empty()) {
        ranges_.push_back({&p, 0, p.part->num_granules()});
        granules_ += p.part->num_granules();
        continue;
      }
      for (const auto& [g0, g1] : p.part->SelectGranules(key)) {
        ranges_.push_back({&p, g0, g1});
        granules_ += g1 - g0;
      }
    }
  }

  bool NextBlock(types::Block* block) override {
    if (!status_.ok()) return false;
    while (range_ < ranges_.size()) {
      Range& r = ranges_[range_];
      if (r.begin >= r.end) {
        ++range_;
        continue;
      }
      size_t end = std::min(r.end, r.begin + kGranulesPerBlock);
      auto b = ReadPartColumns(*r.part->part, *snap_.def, columns_, r.begin, end);
      if (!b.ok()) {
        status_ = b.status();
        return false;
      }
      size_t rows = 0;
      for (size_t g = r.begin; g < end; ++g) rows += r.part->part->GranuleRows(g);
      r.begin = end;
      *block = std::move(b).value();
      if (columns_.empty()) AddRowCountColumn(block, rows);
      return true;
    }
    while (mem_ < snap_.memory.size()) {
      if (snap_.memory[mem_]->rows() == 0) {
        ++mem_;
        continue;
      }
      auto adapted = AdaptBlockToTable(*snap_.memory[mem_++], *snap_.def, now_micros_);
      if (!adapted.ok()) {
        status_ = adapted.status();
        return false;
      }
      const types::Block& m = *adapted;
      types::Block out;
      for (const auto& name : columns_) {
        const types::NamedColumn* c = m.Get(name);
        if (c == nullptr) {
          status_ = Status::Internal("memtable block lacks column " + name);
          return false;
        }
        out.Add(c->name, c->type, c->column);
      }
      if (columns_.empty()) AddRowCountColumn(&out, m.rows());
      *block = std::move(out);
      return true;
    }
    return false;
  }

  const Status& status() const override { return status_; }
  uint64_t parts_total() const override { return parts_total_; }
  uint64_t parts_selected() const override { return parts_selected_; }
  uint64_t granules_selected() const override { return granules_; }

 private:
  struct Range {
    const ActivePart* part;
    size_t begin, end;
  };
  Table::Snapshot snap_;
  std::vector<std::string> columns_;
  int64_t now_micros_;
  std::vector<Range> ranges_;
  size_t range_ = 0;
  size_t mem_ = 0;
  Status status_;
  uint64_t parts_total_ = 0;
  uint64_t parts_selected_ = 0;
  uint64_t granules_ = 0;
};

}  // namespace

std::unique_ptr<storage::ScanSource> MakeScanSource(Table::Snapshot snapshot,
                                                    const storage::ScanRequest& request) {
  return std::make_unique<EngineScan>(std::move(snapshot), request);
}

}  // namespace trackhouse::engine
