#include "engine/sort.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <numeric>
#include <thread>

namespace trackhouse::engine {
namespace {

// Sorts of at least this many rows use two threads.
constexpr size_t kParallelSortRows = 1 << 18;

using types::Column;
using types::TypeId;

// Order-preserving encoding of a fixed-width value into uint64.
template <typename T>
uint64_t Encode(T v) {
  if constexpr (std::is_floating_point_v<T>) {
    double d = static_cast<double>(v);
    if (d != d) return ~0ull;  // NaN last
    uint64_t bits = std::bit_cast<uint64_t>(d);
    return (bits >> 63) ? ~bits : bits | (1ull << 63);
  } else if constexpr (std::is_signed_v<T>) {
    return static_cast<uint64_t>(static_cast<int64_t>(v)) ^ (1ull << 63);
  } else {
    return static_cast<uint64_t>(v);
  }
}

// Encodes a column into words; false if the column has no such encoding (strings).
bool EncodeColumn(const Column& col, std::vector<uint64_t>* out) {
  const types::DataType& type = *col.type();
  size_t n = col.size();
  out->resize(n);
  if (type.id() == TypeId::kLowCardinality) {
    const auto& lc = static_cast<const types::ColumnLowCardinality&>(col);
    const auto& dict = lc.dictionary();
    std::vector<uint32_t> order(dict.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(),
              [&](uint32_t a, uint32_t b) { return dict[a] < dict[b]; });
    std::vector<uint64_t> rank(dict.size());
    for (size_t r = 0; r < order.size(); ++r) rank[order[r]] = r;
    const auto& idx = lc.indices();
    for (size_t i = 0; i < n; ++i) (*out)[i] = rank[idx[i]];
    return true;
  }
  if (type.id() == TypeId::kNullable) {
    const auto& nc = static_cast<const types::ColumnNullable&>(col);
    if (!EncodeColumn(nc.nested(), out)) return false;
    // NULL first: shift non-null values up by one where possible. Values equal to ~0 would
    // collide, so fall back to comparison for 64-bit nested types.
    if (nc.nested().type()->value_width() >= 8) return false;
    for (size_t i = 0; i < n; ++i) (*out)[i] = nc.IsNull(i) ? 0 : (*out)[i] + 1;
    return true;
  }
  if (type.id() == TypeId::kString || type.id() == TypeId::kFixedString) return false;
  types::DispatchVector(type.id(), [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    const auto& data = static_cast<const types::ColumnVector<T>&>(col).data();
    for (size_t i = 0; i < n; ++i) (*out)[i] = Encode<T>(data[i]);
  });
  return true;
}

}  // namespace

Result<types::Permutation> SortPermutation(const types::Block& block,
                                           const std::vector<std::string>& key,
                                           const std::vector<size_t>* run_starts) {
  size_t n = block.rows();
  types::Permutation perm(n);
  std::iota(perm.begin(), perm.end(), 0u);
  if (key.empty() || n < 2) return perm;

  struct KeyCol {
    const Column* column;
    std::vector<uint64_t> words;
    bool encoded;
  };
  std::vector<KeyCol> cols;
  for (const auto& name : key) {
    const types::NamedColumn* c = block.Get(name);
    if (c == nullptr) {
      return Status::Internal(fmt::format("sort key column {} is missing from the block", name));
    }
    KeyCol kc{c->column.get(), {}, false};
    kc.encoded = EncodeColumn(*c->column, &kc.words);
    cols.push_back(std::move(kc));
  }

  // Fast path: a single encoded column, or two that pack into one word each... keep general:
  // compare encoded words column by column.
  bool all_encoded =
      std::all_of(cols.begin(), cols.end(), [](const KeyCol& k) { return k.encoded; });
  if (all_encoded && cols.size() == 1) {
    const uint64_t* w = cols[0].words.data();
    std::stable_sort(perm.begin(), perm.end(), [w](uint32_t a, uint32_t b) { return w[a] < w[b]; });
    return perm;
  }
  if (all_encoded && cols.size() <= 3) {
    // Sort compact (words..., row) records: contiguous memory, integer compares only. The row
    // number as the last word makes the order stable.
    struct Rec {
      uint64_t w[4];
    };
    std::vector<Rec> recs(n);
    size_t k = cols.size();
    for (size_t i = 0; i < n; ++i) {
      for (size_t c = 0; c < 3; ++c) recs[i].w[c] = c < k ? cols[c].words[i] : 0;
      recs[i].w[3] = i;
    }
    auto less = [](const Rec& a, const Rec& b) {
      if (a.w[0] != b.w[0]) return a.w[0] < b.w[0];
      if (a.w[1] != b.w[1]) return a.w[1] < b.w[1];
      if (a.w[2] != b.w[2]) return a.w[2] < b.w[2];
      return a.w[3] < b.w[3];
    };
    std::vector<size_t> runs;
    if (run_starts != nullptr && run_starts->size() > 1) {
      runs = *run_starts;
    } else if (n >= kParallelSortRows) {
      // Two halves sorted on two threads, then merged like pre-sorted runs.
      runs = {0, n / 2};
      std::thread t([&] { std::sort(recs.begin(), recs.begin() + n / 2, less); });
      std::sort(recs.begin() + n / 2, recs.end(), less);
      t.join();
    } else {
      std::sort(recs.begin(), recs.end(), less);
    }
    runs.push_back(n);
    // Merge adjacent runs pairwise until one is left: log2(runs) linear passes.
    while (runs.size() > 2) {
      std::vector<size_t> next;
      for (size_t r = 0; r + 1 < runs.size(); r += 2) {
        next.push_back(runs[r]);
        if (r + 2 < runs.size()) {
          std::inplace_merge(recs.begin() + runs[r], recs.begin() + runs[r + 1],
                             recs.begin() + runs[r + 2], less);
        }
      }
      next.push_back(n);  // with an odd number of runs the last one carried over unmerged
      runs = std::move(next);
    }
    for (size_t i = 0; i < n; ++i) perm[i] = static_cast<uint32_t>(recs[i].w[3]);
    return perm;
  }
  std::stable_sort(perm.begin(), perm.end(), [&cols](uint32_t a, uint32_t b) {
    for (const auto& k : cols) {
      if (k.encoded) {
        if (k.words[a] != k.words[b]) return k.words[a] < k.words[b];
      } else {
        int c = k.column->CompareAt(a, *k.column, b);
        if (c != 0) return c < 0;
      }
    }
    return false;
  });
  return perm;
}

bool KeysEqual(const std::vector<const types::Column*>& key_columns, size_t a, size_t b) {
  for (const Column* c : key_columns) {
    if (c->CompareAt(a, *c, b) != 0) return false;
  }
  return true;
}

}  // namespace trackhouse::engine
