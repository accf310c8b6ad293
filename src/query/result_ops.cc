#include "query/result_ops.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_map>
#include <unordered_set>

#include "common/error_codes.h"

namespace trackhouse::query {
namespace {

// One ORDER BY column prepared for comparisons.
struct SortKey {
  const types::Column* values = nullptr;       // the column, or its nested one if Nullable
  const std::vector<uint8_t>* nulls = nullptr;  // null map, or null
  std::vector<uint8_t> nan;                     // per row, for float columns
  int dir = 1;
  bool nulls_first = false;

  // 0 for a value, 1 for NaN, 2 for NULL.
  int Special(size_t r) const {
    if (nulls != nullptr && (*nulls)[r]) return 2;
    if (!nan.empty() && nan[r]) return 1;
    return 0;
  }
  int Compare(size_t a, size_t b) const {
    int sa = Special(a), sb = Special(b);
    if (sa != 0 || sb != 0) {
      if (sa == sb) return 0;
      int r = sa < sb ? -1 : 1;
      return nulls_first ? -r : r;
    }
    return values->CompareAt(a, *values, b) * dir;
  }
};

Result<std::vector<SortKey>> MakeKeys(const types::Block& block, const std::vector<SortColumn>& by) {
  std::vector<SortKey> keys;
  for (const auto& s : by) {
    const types::NamedColumn* c = block.Get(s.column);
    if (c == nullptr) return Status::Internal("sort column " + s.column + " is missing");
    SortKey k;
    k.values = c->column.get();
    if (c->type->is_nullable()) {
      const auto& n = static_cast<const types::ColumnNullable&>(*c->column);
      k.values = &n.nested();
      k.nulls = &n.null_map();
    }
    const types::DataType& t = *k.values->type();
    if (t.is_float()) {
      k.nan.resize(k.values->size());
      types::DispatchVector(t.id(), [&](auto* tag) {
        using T = std::remove_pointer_t<decltype(tag)>;
        const auto& d = static_cast<const types::ColumnVector<T>&>(*k.values).data();
        for (size_t i = 0; i < d.size(); ++i) k.nan[i] = std::isnan(static_cast<double>(d[i]));
      });
    }
    k.dir = s.descending ? -1 : 1;
    k.nulls_first = s.nulls_first;
    keys.push_back(std::move(k));
  }
  return keys;
}

struct RowLess {
  const std::vector<SortKey>* keys;
  bool operator()(uint32_t a, uint32_t b) const {
    for (const auto& k : *keys) {
      int c = k.Compare(a, b);
      if (c != 0) return c < 0;
    }
    return a < b;
  }
};

types::Value PhysicalValue(const types::DataType& t, double v) {
  if (t.is_float()) return types::Value::Float(v);
  if (t.is_signed() || t.id() == types::TypeId::kDateTime64) {
    return types::Value::Int(static_cast<int64_t>(v));
  }
  return types::Value::UInt(static_cast<uint64_t>(v));
}

}  // namespace

// Appends the bytes identifying row `row` of `c` to *out (types with equal values give equal
// bytes, and the encoding is prefix-free so keys of several columns concatenate safely).
void AppendKeyBytes(const types::Column& c, size_t row, std::string* out) {
  switch (c.type()->id()) {
    case types::TypeId::kNullable: {
      const auto& n = static_cast<const types::ColumnNullable&>(c);
      bool null = n.IsNull(row);
      out->push_back(null ? 1 : 0);
      if (!null) AppendKeyBytes(n.nested(), row, out);
      return;
    }
    case types::TypeId::kString:
    case types::TypeId::kFixedString:
    case types::TypeId::kLowCardinality: {
      std::string_view v;
      if (auto* s = dynamic_cast<const types::ColumnString*>(&c)) {
        v = s->View(row);
      } else if (auto* f = dynamic_cast<const types::ColumnFixedString*>(&c)) {
        v = f->View(row);
      } else {
        v = static_cast<const types::ColumnLowCardinality&>(c).View(row);
      }
      uint32_t len = static_cast<uint32_t>(v.size());
      out->append(reinterpret_cast<const char*>(&len), 4);
      out->append(v);
      return;
    }
    default:
      break;
  }
  if (c.type()->value_width() > 0) {
    types::DispatchVector(c.type()->id(), [&](auto* tag) {
      using T = std::remove_pointer_t<decltype(tag)>;
      T v = static_cast<const types::ColumnVector<T>&>(c).data()[row];
      out->append(reinterpret_cast<const char*>(&v), sizeof(T));
    });
    return;
  }
  // Other types (arrays): their serialized form, length-prefixed.
  std::string tmp;
  c.Permute({static_cast<uint32_t>(row)})->Serialize(&tmp);
  uint32_t len = static_cast<uint32_t>(tmp.size());
  out->append(reinterpret_cast<const char*>(&len), 4);
  out->append(tmp);
}

Result<types::Block> SortRows(const types::Block& block, const std::vector<SortColumn>& by) {
  return TopRows(block, by, block.rows());
}

Result<types::Block> TopRows(const types::Block& block, const std::vector<SortColumn>& by,
                             size_t n) {
  TH_ASSIGN_OR_RETURN(std::vector<SortKey> keys, MakeKeys(block, by));
  types::Permutation perm(block.rows());
  std::iota(perm.begin(), perm.end(), 0);
  RowLess less{&keys};
  if (n < perm.size()) {
    std::partial_sort(perm.begin(), perm.begin() + n, perm.end(), less);
    perm.resize(n);
  } else {
    std::sort(perm.begin(), perm.end(), less);
  }
  return block.Permute(perm);
}

types::Block DistinctRows(const types::Block& block, size_t columns) {
  std::unordered_set<std::string> seen;
  std::vector<uint8_t> keep(block.rows(), 0);
  std::string key;
  for (size_t r = 0; r < block.rows(); ++r) {
    key.clear();
    for (size_t c = 0; c < columns; ++c) AppendKeyBytes(*block.at(c).column, r, &key);
    keep[r] = seen.insert(key).second;
  }
  return block.Filter(keep);
}

types::Block LimitBy(const types::Block& block, const std::vector<std::string>& columns,
                     uint64_t offset, uint64_t n) {
  std::unordered_map<std::string, uint64_t> seen;
  std::vector<uint8_t> keep(block.rows(), 0);
  std::vector<const types::Column*> cols;
  for (const auto& name : columns) cols.push_back(block.Get(name)->column.get());
  std::string key;
  for (size_t r = 0; r < block.rows(); ++r) {
    key.clear();
    for (const auto* c : cols) AppendKeyBytes(*c, r, &key);
    uint64_t i = seen[key]++;
    keep[r] = i >= offset && i - offset < n;
  }
  return block.Filter(keep);
}

Result<types::Block> FillRows(const types::Block& block, const FillSpec& fill) {
  int ci = block.Find(fill.column);
  if (ci < 0) return Status::Internal("fill column is missing");
  const types::Column& col = *block.at(ci).column;
  const types::DataType& type = *block.at(ci).type;
  types::Block out = block.CloneEmpty();
  constexpr size_t kMaxFilledRows = 10'000'000;
  size_t added = 0;
  auto before = [&](double a, double b) { return fill.descending ? a > b : a < b; };
  auto add_filled = [&](double v) -> Status {
    if (++added > kMaxFilledRows) {
      return Status::ResourceExhausted(
          fmt::format("WITH FILL would add more than {} rows", kMaxFilledRows),
          ch::kTooManyRowsOrBytes);
    }
    for (size_t c = 0; c < out.num_columns(); ++c) {
      if (static_cast<int>(c) == ci) {
        out.at(c).column->AppendValue(PhysicalValue(type, v));
      } else {
        out.at(c).column->AppendDefault();
      }
    }
    return Status::OK();
  };
  std::optional<double> next = fill.from;
  for (size_t r = 0; r < block.rows(); ++r) {
    types::Value value = col.GetValue(r);
    double v = value.kind() == types::Value::Kind::kInt ? value.AsInt() : value.AsFloat();
    if (next) {
      // Gaps are filled only inside [FROM, TO).
      for (double x = *next; before(x, v) && (!fill.to || before(x, *fill.to)); x += fill.step) {
        TH_RETURN_IF_ERROR(add_filled(x));
      }
    }
    for (size_t c = 0; c < out.num_columns(); ++c) out.at(c).column->AppendFrom(*block.at(c).column, r);
    double after = v + fill.step;
    if (!next || !before(after, *next)) next = after;
  }
  if (fill.to && next) {
    for (double x = *next; before(x, *fill.to); x += fill.step) TH_RETURN_IF_ERROR(add_filled(x));
  } else if (fill.to && fill.from && block.rows() == 0) {
    for (double x = *fill.from; before(x, *fill.to); x += fill.step) {
      TH_RETURN_IF_ERROR(add_filled(x));
    }
  }
  return out;
}

}  // namespace trackhouse::query
