#include "query/aggregator.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "common/error_codes.h"
#include "query/aggregate_internal.h"
#include "query/result_ops.h"

namespace trackhouse::query {
namespace {

constexpr size_t kArenaChunk = 256 * 1024;
// Dictionaries up to this size take Aggregator::AddFewGroups.
constexpr size_t kFewGroups = 8;


bool IsFixedKeyType(const types::DataType& t) {
  return !t.is_nullable() && (t.is_numeric() || t.is_time()) && t.value_width() <= 8 &&
         t.value_width() > 0;
}

}  // namespace

// Open addressing from a 64-bit key to group number + 1 (0 = empty slot).
class Aggregator::FixedMap {
 public:
  FixedMap() { Rehash(1024); }

  uint32_t* FindOrInsert(uint64_t key) {
    if ((size_ + 1) * 2 > keys_.size()) Rehash(keys_.size() * 2);
    size_t mask = keys_.size() - 1;
    size_t i = agg::IntHash64(key) & mask;
    while (true) {
      if (vals_[i] == 0) {
        keys_[i] = key;
        ++size_;
        return &vals_[i];
      }
      if (keys_[i] == key) return &vals_[i];
      i = (i + 1) & mask;
    }
  }
  size_t bytes() const { return keys_.size() * (sizeof(uint64_t) + sizeof(uint32_t)); }

 private:
  void Rehash(size_t cap) {
    std::vector<uint64_t> old_keys = std::move(keys_);
    std::vector<uint32_t> old_vals = std::move(vals_);
    keys_.assign(cap, 0);
    vals_.assign(cap, 0);
    size_t mask = cap - 1;
    for (size_t j = 0; j < old_vals.size(); ++j) {
      if (old_vals[j] == 0) continue;
      size_t i = agg::IntHash64(old_keys[j]) & mask;
      while (vals_[i] != 0) i = (i + 1) & mask;
      keys_[i] = old_keys[j];
      vals_[i] = old_vals[j];
    }
  }

  std::vector<uint64_t> keys_;
  std::vector<uint32_t> vals_;
  size_t size_ = 0;
};

Aggregator::Aggregator(std::vector<types::DataTypePtr> key_types,
                       std::vector<AggregateFunctionPtr> functions, QueryContext* ctx)
    : key_types_(std::move(key_types)),
      functions_(std::move(functions)),
      memory_(ctx) {
  for (const auto& f : functions_) {
    size_t align = std::max<size_t>(f->state_align(), 1);
    record_size_ = (record_size_ + align - 1) / align * align;
    offsets_.push_back(record_size_);
    record_size_ += f->state_size();
    record_align_ = std::max(record_align_, align);
    trivial_destroy_ &= f->has_trivial_destructor();
  }
  record_size_ = std::max<size_t>(1, (record_size_ + record_align_ - 1) / record_align_ *
                                         record_align_);
  for (const auto& t : key_types_) key_columns_.push_back(types::MakeColumn(t));
  if (key_types_.empty()) {
    method_ = Method::kNone;
  } else if (key_types_.size() == 1 && IsFixedKeyType(*key_types_[0])) {
    method_ = Method::kFixed;
    fixed_ = std::make_unique<FixedMap>();
  } else if (key_types_.size() == 1 && key_types_[0]->id() == types::TypeId::kLowCardinality) {
    method_ = Method::kLowCardinality;
  } else {
    method_ = Method::kSerialized;
  }
}

Aggregator::~Aggregator() {
  if (trivial_destroy_) return;
  for (char* p : places_) {
    for (size_t f = 0; f < functions_.size(); ++f) functions_[f]->Destroy(p + offsets_[f]);
  }
}

Result<char*> Aggregator::NewGroup() {
  if (places_.size() >= UINT32_MAX - 1) {
    return Status::ResourceExhausted("Too many groups in GROUP BY", ch::kTooManyRowsOrBytes);
  }
  if (arena_.empty() || arena_used_ + record_size_ > kArenaChunk) {
    size_t chunk = std::max(kArenaChunk, record_size_ + record_align_);
    arena_.push_back(std::make_unique<char[]>(chunk + record_align_));
    arena_bytes_ += chunk;
    arena_used_ = 0;
  }
  char* base = arena_.back().get();
  uintptr_t at = reinterpret_cast<uintptr_t>(base) + arena_used_;
  at = (at + record_align_ - 1) / record_align_ * record_align_;
  char* place = reinterpret_cast<char*>(at);
  arena_used_ = (place - base) + record_size_;
  for (size_t f = 0; f < functions_.size(); ++f) functions_[f]->Create(place + offsets_[f]);
  places_.push_back(place);
  return place;
}

void Aggregator::AppendKeys(const std::vector<types::ColumnPtr>& keys, size_t row) {
  for (size_t k = 0; k < keys.size(); ++k) key_columns_[k]->AppendFrom(*keys[k], row);
}

Status Aggregator::MapRows(const std::vector<types::ColumnPtr>& keys, size_t rows) {
  row_places_.resize(rows);
  switch (method_) {
    case Method::kNone:
      if (places_.empty()) TH_RETURN_IF_ERROR(NewGroup().status());
      std::fill(row_places_.begin(), row_places_.end(), places_[0]);
      return Status::OK();
    case Method::kFixed: {
      Status st;
      types::DispatchVector(keys[0]->type()->id(), [&](auto* tag) {
        using T = std::remove_pointer_t<decltype(tag)>;
        const auto& data = static_cast<const types::ColumnVector<T>&>(*keys[0]).data();
        uint64_t prev_key = 0;
        char* prev_place = nullptr;
        for (size_t i = 0; i < rows; ++i) {
          uint64_t k = 0;
          std::memcpy(&k, &data[i], sizeof(T));
          if (prev_place != nullptr && k == prev_key) {
            row_places_[i] = prev_place;
            continue;
          }
          uint32_t* slot = fixed_->FindOrInsert(k);
          if (*slot == 0) {
            auto place = NewGroup();
            if (!place.ok()) {
              st = place.status();
              return;
            }
            *slot = static_cast<uint32_t>(places_.size());
            AppendKeys(keys, i);
          }
          prev_key = k;
          prev_place = places_[*slot - 1];
          row_places_[i] = prev_place;
        }
      });
      return st;
    }
    case Method::kLowCardinality: {
      const auto& lc = static_cast<const types::ColumnLowCardinality&>(*keys[0]);
      const auto& dict = lc.dictionary();
      std::vector<char*> dict_place(dict.size(), nullptr);
      const auto& idx = lc.indices();
      for (size_t i = 0; i < rows; ++i) {
        char*& p = dict_place[idx[i]];
        if (p == nullptr) {
          const std::string& v = dict[idx[i]];
          auto it = serialized_.find(v);
          if (it == serialized_.end()) {
            TH_RETURN_IF_ERROR(NewGroup().status());
            it = serialized_.emplace(v, static_cast<uint32_t>(places_.size() - 1)).first;
            AppendKeys(keys, i);
          }
          p = places_[it->second];
        }
        row_places_[i] = p;
      }
      return Status::OK();
    }
    case Method::kSerialized:
      for (size_t i = 0; i < rows; ++i) {
        key_buf_.clear();
        for (const auto& k : keys) AppendKeyBytes(*k, i, &key_buf_);
        auto it = serialized_.find(key_buf_);
        if (it == serialized_.end()) {
          TH_RETURN_IF_ERROR(NewGroup().status());
          it = serialized_.emplace(key_buf_, static_cast<uint32_t>(places_.size() - 1)).first;
          AppendKeys(keys, i);
        }
        row_places_[i] = places_[it->second];
      }
      return Status::OK();
  }
  return Status::OK();
}

Status Aggregator::AddFewGroups(const types::ColumnLowCardinality& lc,
                                const std::vector<types::ColumnPtr>& keys,
                                const std::vector<std::vector<types::ColumnPtr>>& args,
                                size_t rows) {
  const auto& dict = lc.dictionary();
  const auto& idx = lc.indices();
  // Rows per dictionary entry: all that count() needs, and which entries occur at all.
  std::vector<uint64_t> rows_of(dict.size(), 0);
  for (size_t i = 0; i < rows; ++i) ++rows_of[idx[i]];
  const bool counts_only = std::all_of(functions_.begin(), functions_.end(),
                                       [](const auto& f) { return f->counts_rows_only(); });
  std::vector<uint8_t> mask;
  std::vector<const types::Column*> argp;
  for (uint32_t d = 0; d < dict.size(); ++d) {
    if (rows_of[d] == 0) continue;
    auto it = serialized_.find(dict[d]);
    if (it == serialized_.end()) {
      TH_RETURN_IF_ERROR(NewGroup().status());
      it = serialized_.emplace(dict[d], static_cast<uint32_t>(places_.size() - 1)).first;
      size_t row = std::find(idx.begin(), idx.begin() + rows, d) - idx.begin();
      AppendKeys(keys, row);
    }
    char* place = places_[it->second];
    if (counts_only) {
      for (size_t f = 0; f < functions_.size(); ++f) {
        functions_[f]->AddRowCount(place + offsets_[f], rows_of[d]);
      }
      continue;
    }
    mask.resize(rows);
    for (size_t i = 0; i < rows; ++i) mask[i] = idx[i] == d;
    for (size_t f = 0; f < functions_.size(); ++f) {
      argp.clear();
      for (const auto& a : args[f]) argp.push_back(a.get());
      TH_RETURN_IF_ERROR(functions_[f]->AddBatchSinglePlace(rows, place + offsets_[f],
                                                            argp.data(), mask.data()));
    }
  }
  return Status::OK();
}

Status Aggregator::Add(const std::vector<types::ColumnPtr>& keys,
                       const std::vector<std::vector<types::ColumnPtr>>& args, size_t rows) {
  if (rows == 0) return Status::OK();
  if (method_ == Method::kLowCardinality) {
    // A handful of distinct keys (metricType, entityType): one masked pass per key, which
    // vectorizes, instead of a state pointer per row.
    const auto& lc = static_cast<const types::ColumnLowCardinality&>(*keys[0]);
    if (lc.dictionary().size() <= kFewGroups) {
      TH_RETURN_IF_ERROR(AddFewGroups(lc, keys, args, rows));
      if (++adds_ % 8 == 0) TH_RETURN_IF_ERROR(Account());
      return Status::OK();
    }
  }
  TH_RETURN_IF_ERROR(MapRows(keys, rows));
  std::vector<const types::Column*> argp;
  for (size_t f = 0; f < functions_.size(); ++f) {
    argp.clear();
    for (const auto& a : args[f]) argp.push_back(a.get());
    if (method_ == Method::kNone) {
      TH_RETURN_IF_ERROR(
          functions_[f]->AddBatchSinglePlace(rows, places_[0] + offsets_[f], argp.data(), nullptr));
    } else {
      TH_RETURN_IF_ERROR(
          functions_[f]->AddBatch(rows, row_places_.data(), offsets_[f], argp.data(), nullptr));
    }
  }
  if (++adds_ % 8 == 0 || places_.size() > 100000) TH_RETURN_IF_ERROR(Account());
  return Status::OK();
}

Status Aggregator::Account() {
  int64_t bytes = arena_bytes_ + row_places_.capacity() * sizeof(char*) +
                  places_.capacity() * sizeof(char*) + serialized_.size() * 64;
  for (const auto& c : key_columns_) bytes += c->ByteSize();
  if (fixed_) bytes += fixed_->bytes();
  if (!trivial_destroy_) {
    for (char* p : places_) {
      for (size_t f = 0; f < functions_.size(); ++f) {
        bytes += functions_[f]->HeapBytes(p + offsets_[f]);
      }
    }
  }
  return memory_.Resize(bytes);
}

Status Aggregator::MergeFrom(Aggregator* other) {
  if (other->places_.empty()) return Status::OK();
  if (method_ == Method::kNone) {
    if (places_.empty()) TH_RETURN_IF_ERROR(NewGroup().status());
    for (size_t f = 0; f < functions_.size(); ++f) {
      TH_RETURN_IF_ERROR(
          functions_[f]->Merge(places_[0] + offsets_[f], other->places_[0] + offsets_[f]));
    }
    return Account();
  }
  size_t n = other->places_.size();
  TH_RETURN_IF_ERROR(MapRows(other->key_columns_, n));
  for (size_t g = 0; g < n; ++g) {
    for (size_t f = 0; f < functions_.size(); ++f) {
      TH_RETURN_IF_ERROR(
          functions_[f]->Merge(row_places_[g] + offsets_[f], other->places_[g] + offsets_[f]));
    }
  }
  return Account();
}

Status Aggregator::Finish(std::vector<types::ColumnPtr>* keys,
                          std::vector<types::ColumnPtr>* results) {
  if (method_ == Method::kNone && places_.empty()) TH_RETURN_IF_ERROR(NewGroup().status());
  TH_RETURN_IF_ERROR(Account());
  *keys = key_columns_;
  results->clear();
  for (size_t f = 0; f < functions_.size(); ++f) {
    types::ColumnPtr col = types::MakeColumn(functions_[f]->result_type());
    col->Reserve(places_.size());
    for (char* p : places_) functions_[f]->InsertResult(p + offsets_[f], col.get());
    results->push_back(std::move(col));
  }
  return Status::OK();
}

Status Aggregator::Totals(const std::vector<uint8_t>* keep,
                          std::vector<types::ColumnPtr>* results) {
  auto record = std::make_unique<char[]>(record_size_ + record_align_);
  uintptr_t at = reinterpret_cast<uintptr_t>(record.get());
  char* place = reinterpret_cast<char*>((at + record_align_ - 1) / record_align_ * record_align_);
  for (size_t f = 0; f < functions_.size(); ++f) functions_[f]->Create(place + offsets_[f]);
  Status st;
  for (size_t g = 0; g < places_.size() && st.ok(); ++g) {
    if (keep != nullptr && !(*keep)[g]) continue;
    for (size_t f = 0; f < functions_.size() && st.ok(); ++f) {
      st = functions_[f]->Merge(place + offsets_[f], places_[g] + offsets_[f]);
    }
  }
  results->clear();
  for (size_t f = 0; f < functions_.size(); ++f) {
    types::ColumnPtr col = types::MakeColumn(functions_[f]->result_type());
    if (st.ok()) functions_[f]->InsertResult(place + offsets_[f], col.get());
    results->push_back(std::move(col));
    functions_[f]->Destroy(place + offsets_[f]);
  }
  return st;
}

}  // namespace trackhouse::query
