#include "engine/memtable.h"

namespace trackhouse::engine {
namespace {

bool SameStructure(const types::Block& a, const types::Block& b) {
  if (a.num_columns() != b.num_columns()) return false;
  for (size_t i = 0; i < a.num_columns(); ++i) {
    if (a.at(i).name != b.at(i).name || !a.at(i).type->Equals(*b.at(i).type)) return false;
  }
  return true;
}

}  // namespace

void MemTable::Add(const types::Block& block, uint64_t lsn, int64_t now_micros) {
  if (block.rows() == 0) return;
  std::lock_guard lock(mu_);
  if (stats_.rows == 0) {
    stats_.min_lsn = lsn;
    stats_.first_insert_micros = now_micros;
  }
  stats_.max_lsn = std::max(stats_.max_lsn, lsn);
  stats_.min_lsn = std::min(stats_.min_lsn, lsn);
  stats_.rows += block.rows();
  stats_.bytes += block.ByteSize();
  if (block.rows() >= chunk_rows_ / 2) {
    // A large insert becomes its own chunk (shared, not copied).
    SealActiveLocked();
    sealed_.push_back(std::make_shared<types::Block>(block));
    return;
  }
  if (active_ && !SameStructure(*active_, block)) SealActiveLocked();  // an ALTER happened
  if (!active_) {
    active_ = std::make_unique<types::Block>(block.CloneEmpty());
    for (auto& c : active_->columns()) c.column->Reserve(chunk_rows_);
  }
  active_->Append(block);
  if (active_->rows() >= chunk_rows_) SealActiveLocked();
}

void MemTable::SealActiveLocked() {
  if (active_ && active_->rows() > 0)
    sealed_.push_back(std::shared_ptr<const types::Block>(std::move(active_)));
  active_.reset();
}

MemTable::Stats MemTable::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

std::vector<BlockPtr> MemTable::Snapshot() const {
  std::lock_guard lock(mu_);
  std::vector<BlockPtr> out = sealed_;
  if (active_ && active_->rows() > 0) {
    out.push_back(std::make_shared<types::Block>(active_->Slice(0, active_->rows())));
  }
  return out;
}

void MemTable::AbsorbOlder(const MemTable& older) {
  Stats o = older.stats();
  std::vector<BlockPtr> blocks = older.Snapshot();
  std::lock_guard lock(mu_);
  if (o.rows == 0) return;
  SealActiveLocked();
  blocks.insert(blocks.end(), sealed_.begin(), sealed_.end());
  sealed_ = std::move(blocks);
  if (stats_.rows == 0) {
    stats_ = o;
    return;
  }
  stats_.rows += o.rows;
  stats_.bytes += o.bytes;
  stats_.min_lsn = std::min(stats_.min_lsn, o.min_lsn);
  stats_.max_lsn = std::max(stats_.max_lsn, o.max_lsn);
  stats_.first_insert_micros = std::min(stats_.first_insert_micros, o.first_insert_micros);
}

}  // namespace trackhouse::engine
