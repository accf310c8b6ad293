#include "types/column.h"

#include <fmt/format.h>
#include <xxhash.h>

#include "common/coding.h"

namespace trackhouse::types {
namespace {

Status Short(std::string_view what, size_t need, size_t have) {
  return Status::Corruption(
      fmt::format("{} column data is short: need {} bytes, have {}", what, need, have));
}

}  // namespace

size_t CountSelected(const std::vector<uint8_t>& mask) {
  size_t n = 0;
  for (uint8_t m : mask) n += m != 0;
  return n;
}

// ---------------- ColumnVector ----------------

template <typename T>
void ColumnVector<T>::AppendValue(const Value& v) {
  if constexpr (std::is_floating_point_v<T>) {
    data_.push_back(static_cast<T>(v.AsFloat()));
  } else if constexpr (std::is_signed_v<T>) {
    data_.push_back(static_cast<T>(v.AsInt()));
  } else {
    data_.push_back(static_cast<T>(v.AsUInt()));
  }
}

template <typename T>
Value ColumnVector<T>::GetValue(size_t row) const {
  if constexpr (std::is_floating_point_v<T>) {
    return Value::Float(data_[row]);
  } else if constexpr (std::is_signed_v<T>) {
    return Value::Int(data_[row]);
  } else {
    return Value::UInt(data_[row]);
  }
}

template <typename T>
uint64_t ColumnVector<T>::HashAt(size_t row, uint64_t seed) const {
  return XXH3_64bits_withSeed(&data_[row], sizeof(T), seed);
}

template <typename T>
ColumnPtr ColumnVector<T>::Permute(const Permutation& perm) const {
  auto out = std::make_shared<ColumnVector<T>>(type());
  out->data_.resize(perm.size());
  T* dst = out->data_.data();
  const T* src = data_.data();
  for (size_t i = 0; i < perm.size(); ++i) dst[i] = src[perm[i]];
  return out;
}

template <typename T>
ColumnPtr ColumnVector<T>::Filter(const std::vector<uint8_t>& mask, size_t kept) const {
  auto out = std::make_shared<ColumnVector<T>>(type());
  // One spare slot: the branchless loop also writes each unselected row one past the last kept.
  out->data_.resize(kept + 1);
  T* dst = out->data_.data();
  for (size_t i = 0; i < data_.size(); ++i) {
    *dst = data_[i];
    dst += mask[i] != 0;
  }
  out->data_.pop_back();
  return out;
}

template <typename T>
Status ColumnVector<T>::Deserialize(std::string_view* in, size_t rows) {
  size_t need = rows * sizeof(T);
  if (in->size() < need) return Short(type()->name(), need, in->size());
  size_t old = data_.size();
  data_.resize(old + rows);
  std::memcpy(data_.data() + old, in->data(), need);
  in->remove_prefix(need);
  return Status::OK();
}

template class ColumnVector<int8_t>;
template class ColumnVector<int16_t>;
template class ColumnVector<int32_t>;
template class ColumnVector<int64_t>;
template class ColumnVector<uint8_t>;
template class ColumnVector<uint16_t>;
template class ColumnVector<uint32_t>;
template class ColumnVector<uint64_t>;
template class ColumnVector<float>;
template class ColumnVector<double>;

// ---------------- ColumnString ----------------

void ColumnString::AppendValue(const Value& v) {
  if (v.kind() == Value::Kind::kString) {
    Append(v.string_value());
  } else {
    AppendDefault();
  }
}

void ColumnString::AppendRange(const Column& src, size_t start, size_t count) {
  if (count == 0) return;
  const auto& s = static_cast<const ColumnString&>(src);
  uint64_t begin = start == 0 ? 0 : s.offsets_[start - 1];
  uint64_t end = s.offsets_[start + count - 1];
  uint64_t base = chars_.size();
  chars_.append(s.chars_, begin, end - begin);
  for (size_t i = 0; i < count; ++i) offsets_.push_back(s.offsets_[start + i] - begin + base);
}

void ColumnString::Truncate(size_t n) {
  offsets_.resize(n);
  chars_.resize(n == 0 ? 0 : offsets_[n - 1]);
}

int ColumnString::CompareAt(size_t a, const Column& other, size_t b) const {
  int c = View(a).compare(static_cast<const ColumnString&>(other).View(b));
  return (c > 0) - (c < 0);
}

uint64_t ColumnString::HashAt(size_t row, uint64_t seed) const {
  std::string_view v = View(row);
  return XXH3_64bits_withSeed(v.data(), v.size(), seed);
}

ColumnPtr ColumnString::Permute(const Permutation& perm) const {
  auto out = std::make_shared<ColumnString>(type());
  out->offsets_.reserve(perm.size());
  size_t total = 0;
  for (uint32_t r : perm) total += View(r).size();
  out->chars_.reserve(total);
  for (uint32_t r : perm) out->Append(View(r));
  return out;
}

ColumnPtr ColumnString::Filter(const std::vector<uint8_t>& mask, size_t kept) const {
  auto out = std::make_shared<ColumnString>(type());
  out->offsets_.reserve(kept);
  for (size_t i = 0; i < size(); ++i) {
    if (mask[i]) out->Append(View(i));
  }
  return out;
}

// Layout: varint length of each row, then all characters.
void ColumnString::Serialize(std::string* out) const {
  uint64_t prev = 0;
  for (uint64_t off : offsets_) {
    PutVarint64(out, off - prev);
    prev = off;
  }
  out->append(chars_);
}

Status ColumnString::Deserialize(std::string_view* in, size_t rows) {
  size_t old_rows = offsets_.size();
  uint64_t total = 0;
  offsets_.reserve(old_rows + rows);
  uint64_t base = chars_.size();
  for (size_t i = 0; i < rows; ++i) {
    uint64_t len;
    if (!GetVarint64(in, &len) || len > in->size() || total + len > in->size()) {
      offsets_.resize(old_rows);
      return Status::Corruption(fmt::format("String column: bad length of row {}", i));
    }
    total += len;
    offsets_.push_back(base + total);
  }
  if (in->size() < total) {
    offsets_.resize(old_rows);
    return Short("String", total, in->size());
  }
  chars_.append(in->data(), total);
  in->remove_prefix(total);
  return Status::OK();
}

// ---------------- ColumnFixedString ----------------

Status ColumnFixedString::Append(std::string_view s) {
  if (s.size() > n_) {
    return Status::InvalidArgument(
        fmt::format("Too large value for FixedString({}): {} bytes", n_, s.size()),
        ch::kTooLargeStringSize);
  }
  chars_.append(s);
  chars_.append(n_ - s.size(), '\0');
  return Status::OK();
}

void ColumnFixedString::AppendValue(const Value& v) {
  if (v.kind() == Value::Kind::kString) {
    std::string_view s = v.string_value();
    chars_.append(s.substr(0, n_));
    chars_.append(n_ - std::min<size_t>(n_, s.size()), '\0');
  } else {
    AppendDefault();
  }
}

int ColumnFixedString::CompareAt(size_t a, const Column& other, size_t b) const {
  int c = std::memcmp(chars_.data() + a * n_,
                      static_cast<const ColumnFixedString&>(other).chars_.data() + b * n_, n_);
  return (c > 0) - (c < 0);
}

uint64_t ColumnFixedString::HashAt(size_t row, uint64_t seed) const {
  return XXH3_64bits_withSeed(chars_.data() + row * n_, n_, seed);
}

ColumnPtr ColumnFixedString::Permute(const Permutation& perm) const {
  auto out = std::make_shared<ColumnFixedString>(type());
  out->chars_.reserve(perm.size() * n_);
  for (uint32_t r : perm) out->chars_.append(chars_, r * size_t{n_}, n_);
  return out;
}

ColumnPtr ColumnFixedString::Filter(const std::vector<uint8_t>& mask, size_t /*kept*/) const {
  auto out = std::make_shared<ColumnFixedString>(type());
  for (size_t i = 0; i < size(); ++i) {
    if (mask[i]) out->chars_.append(chars_, i * n_, n_);
  }
  return out;
}

Status ColumnFixedString::Deserialize(std::string_view* in, size_t rows) {
  size_t need = rows * n_;
  if (in->size() < need) return Short(type()->name(), need, in->size());
  chars_.append(in->data(), need);
  in->remove_prefix(need);
  return Status::OK();
}

// ---------------- ColumnLowCardinality ----------------

uint32_t ColumnLowCardinality::Intern(std::string_view s) {
  auto it = index_.find(s);
  if (it != index_.end()) return it->second;
  uint32_t id = static_cast<uint32_t>(dict_.size());
  dict_.emplace_back(s);
  index_.emplace(std::string_view(dict_.back()), id);
  return id;
}

size_t ColumnLowCardinality::ByteSize() const {
  size_t n = indices_.capacity() * 4 + index_.size() * 48;
  for (const auto& s : dict_) n += s.capacity() + 32;
  return n;
}

void ColumnLowCardinality::AppendValue(const Value& v) {
  Append(v.kind() == Value::Kind::kString ? std::string_view(v.string_value())
                                          : std::string_view());
}

void ColumnLowCardinality::AppendRange(const Column& src, size_t start, size_t count) {
  const auto& s = static_cast<const ColumnLowCardinality&>(src);
  if (&s == this) {
    for (size_t i = 0; i < count; ++i) indices_.push_back(indices_[start + i]);
    return;
  }
  // Map the source dictionary lazily: only entries that are used.
  std::vector<uint32_t> remap(s.dict_.size(), UINT32_MAX);
  indices_.reserve(indices_.size() + count);
  for (size_t i = start; i < start + count; ++i) {
    uint32_t si = s.indices_[i];
    if (remap[si] == UINT32_MAX) remap[si] = Intern(s.dict_[si]);
    indices_.push_back(remap[si]);
  }
}

int ColumnLowCardinality::CompareAt(size_t a, const Column& other, size_t b) const {
  const auto& o = static_cast<const ColumnLowCardinality&>(other);
  if (&o == this && indices_[a] == indices_[b]) return 0;
  int c = View(a).compare(o.View(b));
  return (c > 0) - (c < 0);
}

uint64_t ColumnLowCardinality::HashAt(size_t row, uint64_t seed) const {
  std::string_view v = View(row);
  return XXH3_64bits_withSeed(v.data(), v.size(), seed);
}

ColumnPtr ColumnLowCardinality::Permute(const Permutation& perm) const {
  auto out = std::make_shared<ColumnLowCardinality>(type());
  for (const auto& s : dict_) out->Intern(s);
  out->indices_.resize(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) out->indices_[i] = indices_[perm[i]];
  return out;
}

ColumnPtr ColumnLowCardinality::Filter(const std::vector<uint8_t>& mask, size_t kept) const {
  auto out = std::make_shared<ColumnLowCardinality>(type());
  for (const auto& s : dict_) out->Intern(s);
  // Branchless, with one spare slot as in ColumnVector::Filter.
  out->indices_.resize(kept + 1);
  uint32_t* dst = out->indices_.data();
  for (size_t i = 0; i < indices_.size(); ++i) {
    *dst = indices_[i];
    dst += mask[i] != 0;
  }
  out->indices_.pop_back();
  return out;
}

// Layout: varint dictionary size, each entry length-prefixed, then one index per row in the
// narrowest width that holds the dictionary size (1, 2 or 4 bytes).
void ColumnLowCardinality::Serialize(std::string* out) const {
  PutVarint64(out, dict_.size());
  for (const auto& s : dict_) PutLengthPrefixed(out, s);
  size_t width = dict_.size() <= 0x100 ? 1 : dict_.size() <= 0x10000 ? 2 : 4;
  size_t base = out->size();
  out->resize(base + indices_.size() * width);
  char* p = out->data() + base;
  for (uint32_t idx : indices_) {
    std::memcpy(p, &idx, width);  // little-endian: the low bytes come first
    p += width;
  }
}

Status ColumnLowCardinality::Deserialize(std::string_view* in, size_t rows) {
  uint64_t n;
  if (!GetVarint64(in, &n) || n > in->size()) {
    return Status::Corruption("LowCardinality column: bad dictionary size");
  }
  std::vector<uint32_t> remap(n);
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view s;
    if (!GetLengthPrefixed(in, &s)) {
      return Status::Corruption(fmt::format("LowCardinality column: bad dictionary entry {}", i));
    }
    remap[i] = Intern(s);
  }
  size_t width = n <= 0x100 ? 1 : n <= 0x10000 ? 2 : 4;
  if (in->size() < rows * width) return Short("LowCardinality", rows * width, in->size());
  indices_.reserve(indices_.size() + rows);
  const char* p = in->data();
  for (size_t i = 0; i < rows; ++i, p += width) {
    uint32_t idx = 0;
    std::memcpy(&idx, p, width);
    if (idx >= n) {
      return Status::Corruption(fmt::format(
          "LowCardinality column: index {} of row {} past dictionary size {}", idx, i, n));
    }
    indices_.push_back(remap[idx]);
  }
  in->remove_prefix(rows * width);
  return Status::OK();
}

// ---------------- ColumnNullable ----------------

void ColumnNullable::AppendValue(const Value& v) {
  if (v.is_null()) {
    AppendNull();
  } else {
    nested_->AppendValue(v);
    null_map_.push_back(0);
  }
}

void ColumnNullable::AppendRange(const Column& src, size_t start, size_t count) {
  const auto& s = static_cast<const ColumnNullable&>(src);
  null_map_.insert(null_map_.end(), s.null_map_.begin() + start,
                   s.null_map_.begin() + start + count);
  nested_->AppendRange(*s.nested_, start, count);
}

int ColumnNullable::CompareAt(size_t a, const Column& other, size_t b) const {
  const auto& o = static_cast<const ColumnNullable&>(other);
  bool an = null_map_[a], bn = o.null_map_[b];
  if (an || bn) return bn - an;  // NULL first
  return nested_->CompareAt(a, *o.nested_, b);
}

uint64_t ColumnNullable::HashAt(size_t row, uint64_t seed) const {
  return null_map_[row] ? XXH3_64bits_withSeed("\0", 1, seed) : nested_->HashAt(row, seed);
}

ColumnPtr ColumnNullable::Permute(const Permutation& perm) const {
  auto out = std::make_shared<ColumnNullable>(type(), nested_->Permute(perm));
  out->null_map_.resize(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) out->null_map_[i] = null_map_[perm[i]];
  return out;
}

ColumnPtr ColumnNullable::Filter(const std::vector<uint8_t>& mask, size_t kept) const {
  auto out = std::make_shared<ColumnNullable>(type(), nested_->Filter(mask, kept));
  for (size_t i = 0; i < null_map_.size(); ++i) {
    if (mask[i]) out->null_map_.push_back(null_map_[i]);
  }
  return out;
}

ColumnPtr ColumnNullable::CloneEmpty() const {
  return std::make_shared<ColumnNullable>(type(), nested_->CloneEmpty());
}

void ColumnNullable::Serialize(std::string* out) const {
  out->append(reinterpret_cast<const char*>(null_map_.data()), null_map_.size());
  nested_->Serialize(out);
}

Status ColumnNullable::Deserialize(std::string_view* in, size_t rows) {
  if (in->size() < rows) return Short(type()->name(), rows, in->size());
  null_map_.insert(null_map_.end(), in->data(), in->data() + rows);
  in->remove_prefix(rows);
  return nested_->Deserialize(in, rows);
}

// ---------------- ColumnArray ----------------

void ColumnArray::AppendValue(const Value& v) {
  if (v.kind() == Value::Kind::kArray) {
    for (const Value& e : v.array_value()) data_->AppendValue(e);
  }
  FinishRow();
}

void ColumnArray::AppendRange(const Column& src, size_t start, size_t count) {
  if (count == 0) return;
  const auto& s = static_cast<const ColumnArray&>(src);
  uint64_t begin = s.RowBegin(start);
  uint64_t end = s.offsets_[start + count - 1];
  uint64_t base = data_->size();
  data_->AppendRange(*s.data_, begin, end - begin);
  for (size_t i = 0; i < count; ++i) offsets_.push_back(s.offsets_[start + i] - begin + base);
}

void ColumnArray::Truncate(size_t n) {
  offsets_.resize(n);
  data_->Truncate(n == 0 ? 0 : offsets_[n - 1]);
}

Value ColumnArray::GetValue(size_t row) const {
  std::vector<Value> elements;
  elements.reserve(RowSize(row));
  for (uint64_t i = RowBegin(row); i < offsets_[row]; ++i) elements.push_back(data_->GetValue(i));
  return Value::Array(std::move(elements));
}

int ColumnArray::CompareAt(size_t a, const Column& other, size_t b) const {
  const auto& o = static_cast<const ColumnArray&>(other);
  uint64_t na = RowSize(a), nb = o.RowSize(b);
  uint64_t ia = RowBegin(a), ib = o.RowBegin(b);
  for (uint64_t i = 0; i < na && i < nb; ++i) {
    if (int c = data_->CompareAt(ia + i, *o.data_, ib + i)) return c;
  }
  return (na > nb) - (na < nb);
}

uint64_t ColumnArray::HashAt(size_t row, uint64_t seed) const {
  uint64_t n = RowSize(row);
  uint64_t h = XXH3_64bits_withSeed(&n, sizeof(n), seed);
  for (uint64_t i = RowBegin(row); i < offsets_[row]; ++i) h = data_->HashAt(i, h);
  return h;
}

ColumnPtr ColumnArray::Permute(const Permutation& perm) const {
  Permutation elements;
  auto out = std::make_shared<ColumnArray>(type(), nullptr);
  out->offsets_.reserve(perm.size());
  for (uint32_t r : perm) {
    for (uint64_t i = RowBegin(r); i < offsets_[r]; ++i) {
      elements.push_back(static_cast<uint32_t>(i));
    }
    out->offsets_.push_back(elements.size());
  }
  out->data_ = data_->Permute(elements);
  return out;
}

ColumnPtr ColumnArray::Filter(const std::vector<uint8_t>& mask, size_t /*kept*/) const {
  std::vector<uint8_t> element_mask(data_->size());
  auto out = std::make_shared<ColumnArray>(type(), nullptr);
  uint64_t elements = 0;
  for (size_t r = 0; r < offsets_.size(); ++r) {
    if (!mask[r]) continue;
    for (uint64_t i = RowBegin(r); i < offsets_[r]; ++i) element_mask[i] = 1;
    elements += RowSize(r);
    out->offsets_.push_back(elements);
  }
  out->data_ = data_->Filter(element_mask, elements);
  return out;
}

ColumnPtr ColumnArray::CloneEmpty() const {
  return std::make_shared<ColumnArray>(type(), data_->CloneEmpty());
}

void ColumnArray::Serialize(std::string* out) const {
  for (size_t r = 0; r < offsets_.size(); ++r) PutVarint64(out, RowSize(r));
  data_->Serialize(out);
}

Status ColumnArray::Deserialize(std::string_view* in, size_t rows) {
  size_t old_rows = offsets_.size();
  uint64_t base = data_->size();
  uint64_t total = 0;
  offsets_.reserve(old_rows + rows);
  for (size_t i = 0; i < rows; ++i) {
    uint64_t n;
    // Every element takes at least one byte except in fixed-width-0 columns, which do not
    // exist, so a count past the remaining bytes is corrupt.
    if (!GetVarint64(in, &n) || n > in->size() || total + n > in->size()) {
      offsets_.resize(old_rows);
      return Status::Corruption(
          fmt::format("{} column: bad element count of row {}", type()->name(), i));
    }
    total += n;
    offsets_.push_back(base + total);
  }
  Status s = data_->Deserialize(in, total);
  if (!s.ok()) {
    offsets_.resize(old_rows);
    data_->Truncate(base);
  }
  return s;
}

// ---------------- factories ----------------

ColumnPtr MakeColumn(const DataTypePtr& type) {
  switch (type->id()) {
    case TypeId::kString:
      return std::make_shared<ColumnString>(type);
    case TypeId::kFixedString:
      return std::make_shared<ColumnFixedString>(type);
    case TypeId::kLowCardinality:
      return std::make_shared<ColumnLowCardinality>(type);
    case TypeId::kNullable:
      return std::make_shared<ColumnNullable>(type, MakeColumn(type->nested()));
    case TypeId::kArray:
      return std::make_shared<ColumnArray>(type, MakeColumn(type->nested()));
    default:
      return DispatchVector(type->id(), [&](auto* tag) -> ColumnPtr {
        using T = std::remove_pointer_t<decltype(tag)>;
        return std::make_shared<ColumnVector<T>>(type);
      });
  }
}

ColumnPtr MakeConstColumn(const DataTypePtr& type, const Value& value, size_t rows) {
  ColumnPtr col = MakeColumn(type);
  col->Reserve(rows);
  if (rows == 0) return col;
  col->AppendValue(value);
  if (type->id() == TypeId::kLowCardinality) {
    auto& lc = static_cast<ColumnLowCardinality&>(*col);
    lc.indices().resize(rows, lc.indices()[0]);
    return col;
  }
  for (size_t i = 1; i < rows; ++i) col->AppendValue(value);
  return col;
}

}  // namespace trackhouse::types
