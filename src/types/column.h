// Column: the values of one column for a run of rows, in their physical representation
// (see data_type.h). Columns are built by appending and are then treated as immutable and
// shared (ColumnPtr = shared_ptr) between the memtable, snapshots and readers. A Column is not
// thread-safe while it is being appended to; an immutable one may be read from many threads.
//
//   ColumnVector<T>       numbers, Bool, Date, DateTime, DateTime64
//   ColumnString          offsets + one character buffer
//   ColumnFixedString     N bytes per row
//   ColumnLowCardinality  dictionary of distinct strings + uint32 index per row
//   ColumnNullable        nested column + null map
//   ColumnArray           all rows' elements in one data column + end offset of each row
#pragma once

#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "types/data_type.h"
#include "types/value.h"

namespace trackhouse::types {

class Column;
using ColumnPtr = std::shared_ptr<Column>;
// A row permutation or row selection.
using Permutation = std::vector<uint32_t>;

// The number of rows a filter mask keeps: its bytes that are not 0.
size_t CountSelected(const std::vector<uint8_t>& mask);

class Column {
 public:
  explicit Column(DataTypePtr type) : type_(std::move(type)) {}
  virtual ~Column() = default;
  Column(const Column&) = delete;
  Column& operator=(const Column&) = delete;

  const DataTypePtr& type() const { return type_; }
  virtual size_t size() const = 0;
  // Approximate bytes of memory held.
  virtual size_t ByteSize() const = 0;
  // Bytes of the values themselves (what ClickHouse reports as written/read bytes).
  virtual size_t DataBytes() const = 0;
  virtual void Reserve(size_t rows) = 0;

  // Appends the type's default value (0, '', 1970-01-01, NULL for Nullable).
  virtual void AppendDefault() = 0;
  // Appends a value already in this column's physical representation (see ConvertValue);
  // a NULL appends the default for non-Nullable columns.
  virtual void AppendValue(const Value& v) = 0;
  // Appends rows [start, start+count) of `src`, which must have the same type.
  virtual void AppendRange(const Column& src, size_t start, size_t count) = 0;
  void AppendFrom(const Column& src, size_t row) { AppendRange(src, row, 1); }
  // Removes rows from `new_size` on (undoing appends of a rejected row).
  virtual void Truncate(size_t new_size) = 0;

  virtual Value GetValue(size_t row) const = 0;
  // Three-way comparison of row a of this column with row b of `other` (same type). NULLs sort
  // first, NaN last.
  virtual int CompareAt(size_t a, const Column& other, size_t b) const = 0;
  // Adds row's value to a running hash.
  virtual uint64_t HashAt(size_t row, uint64_t seed) const = 0;

  // A new column with rows in `perm` order (perm may select a subset and repeat rows).
  virtual ColumnPtr Permute(const Permutation& perm) const = 0;
  // A new column with the rows where mask[i] != 0. The second form is for callers that have
  // counted the kept rows already: `kept` must be CountSelected(mask).
  ColumnPtr Filter(const std::vector<uint8_t>& mask) const {
    return Filter(mask, CountSelected(mask));
  }
  virtual ColumnPtr Filter(const std::vector<uint8_t>& mask, size_t kept) const = 0;
  // An empty column of the same type.
  virtual ColumnPtr CloneEmpty() const = 0;

  // Compact binary form of all rows (used by the log and part files; see block_codec.h).
  virtual void Serialize(std::string* out) const = 0;
  // Appends `rows` rows read from the front of *in; Corruption if the bytes are short or bad.
  virtual Status Deserialize(std::string_view* in, size_t rows) = 0;

 private:
  DataTypePtr type_;
};

template <typename T>
class ColumnVector final : public Column {
 public:
  using ValueType = T;
  explicit ColumnVector(DataTypePtr type) : Column(std::move(type)) {}

  size_t size() const override { return data_.size(); }
  size_t ByteSize() const override { return data_.capacity() * sizeof(T); }
  size_t DataBytes() const override { return data_.size() * sizeof(T); }
  void Reserve(size_t rows) override { data_.reserve(rows); }
  void AppendDefault() override { data_.push_back(T{}); }
  void AppendValue(const Value& v) override;
  void AppendRange(const Column& src, size_t start, size_t count) override {
    const auto& s = static_cast<const ColumnVector<T>&>(src).data_;
    data_.insert(data_.end(), s.begin() + start, s.begin() + start + count);
  }
  void Truncate(size_t n) override { data_.resize(n); }
  Value GetValue(size_t row) const override;
  int CompareAt(size_t a, const Column& other, size_t b) const override {
    T x = data_[a], y = static_cast<const ColumnVector<T>&>(other).data_[b];
    if constexpr (std::is_floating_point_v<T>) {
      bool xn = x != x, yn = y != y;
      if (xn || yn) return xn - yn;
    }
    return (x > y) - (x < y);
  }
  uint64_t HashAt(size_t row, uint64_t seed) const override;
  ColumnPtr Permute(const Permutation& perm) const override;
  using Column::Filter;
  ColumnPtr Filter(const std::vector<uint8_t>& mask, size_t kept) const override;
  ColumnPtr CloneEmpty() const override { return std::make_shared<ColumnVector<T>>(type()); }
  void Serialize(std::string* out) const override {
    out->append(reinterpret_cast<const char*>(data_.data()), data_.size() * sizeof(T));
  }
  Status Deserialize(std::string_view* in, size_t rows) override;

  std::vector<T>& data() { return data_; }
  const std::vector<T>& data() const { return data_; }
  void push_back(T v) { data_.push_back(v); }

 private:
  std::vector<T> data_;
};

class ColumnString final : public Column {
 public:
  explicit ColumnString(DataTypePtr type) : Column(std::move(type)) {}

  size_t size() const override { return offsets_.size(); }
  size_t ByteSize() const override { return chars_.capacity() + offsets_.capacity() * 8; }
  size_t DataBytes() const override { return chars_.size() + offsets_.size() * 8; }
  void Reserve(size_t rows) override { offsets_.reserve(rows); }
  void AppendDefault() override { offsets_.push_back(chars_.size()); }
  void AppendValue(const Value& v) override;
  void AppendRange(const Column& src, size_t start, size_t count) override;
  void Truncate(size_t n) override;
  Value GetValue(size_t row) const override { return Value::String(std::string(View(row))); }
  int CompareAt(size_t a, const Column& other, size_t b) const override;
  uint64_t HashAt(size_t row, uint64_t seed) const override;
  ColumnPtr Permute(const Permutation& perm) const override;
  using Column::Filter;
  ColumnPtr Filter(const std::vector<uint8_t>& mask, size_t kept) const override;
  ColumnPtr CloneEmpty() const override { return std::make_shared<ColumnString>(type()); }
  void Serialize(std::string* out) const override;
  Status Deserialize(std::string_view* in, size_t rows) override;

  std::string_view View(size_t row) const {
    uint64_t begin = row == 0 ? 0 : offsets_[row - 1];
    return std::string_view(chars_.data() + begin, offsets_[row] - begin);
  }
  void Append(std::string_view s) {
    chars_.append(s);
    offsets_.push_back(chars_.size());
  }
  size_t chars_size() const { return chars_.size(); }

 private:
  std::string chars_;
  std::vector<uint64_t> offsets_;  // end offset of each row in chars_
};

class ColumnFixedString final : public Column {
 public:
  explicit ColumnFixedString(DataTypePtr type) : Column(type), n_(type->fixed_size()) {}

  size_t size() const override { return chars_.size() / n_; }
  size_t ByteSize() const override { return chars_.capacity(); }
  size_t DataBytes() const override { return chars_.size(); }
  void Reserve(size_t rows) override { chars_.reserve(rows * n_); }
  void AppendDefault() override { chars_.append(n_, '\0'); }
  void AppendValue(const Value& v) override;
  void AppendRange(const Column& src, size_t start, size_t count) override {
    const auto& s = static_cast<const ColumnFixedString&>(src).chars_;
    chars_.append(s, start * n_, count * n_);
  }
  void Truncate(size_t n) override { chars_.resize(n * n_); }
  Value GetValue(size_t row) const override { return Value::String(std::string(View(row))); }
  int CompareAt(size_t a, const Column& other, size_t b) const override;
  uint64_t HashAt(size_t row, uint64_t seed) const override;
  ColumnPtr Permute(const Permutation& perm) const override;
  using Column::Filter;
  ColumnPtr Filter(const std::vector<uint8_t>& mask, size_t kept) const override;
  ColumnPtr CloneEmpty() const override { return std::make_shared<ColumnFixedString>(type()); }
  void Serialize(std::string* out) const override { out->append(chars_); }
  Status Deserialize(std::string_view* in, size_t rows) override;

  std::string_view View(size_t row) const { return std::string_view(chars_).substr(row * n_, n_); }
  // Appends s, zero padded; InvalidArgument if longer than N.
  Status Append(std::string_view s);

 private:
  uint32_t n_;
  std::string chars_;
};

class ColumnLowCardinality final : public Column {
 public:
  explicit ColumnLowCardinality(DataTypePtr type) : Column(std::move(type)) {}

  size_t size() const override { return indices_.size(); }
  size_t ByteSize() const override;
  size_t DataBytes() const override { return indices_.size() * sizeof(uint32_t); }
  void Reserve(size_t rows) override { indices_.reserve(rows); }
  void AppendDefault() override { Append(std::string_view()); }
  void AppendValue(const Value& v) override;
  void AppendRange(const Column& src, size_t start, size_t count) override;
  void Truncate(size_t n) override { indices_.resize(n); }
  Value GetValue(size_t row) const override { return Value::String(std::string(View(row))); }
  int CompareAt(size_t a, const Column& other, size_t b) const override;
  uint64_t HashAt(size_t row, uint64_t seed) const override;
  ColumnPtr Permute(const Permutation& perm) const override;
  using Column::Filter;
  ColumnPtr Filter(const std::vector<uint8_t>& mask, size_t kept) const override;
  ColumnPtr CloneEmpty() const override { return std::make_shared<ColumnLowCardinality>(type()); }
  void Serialize(std::string* out) const override;
  Status Deserialize(std::string_view* in, size_t rows) override;

  std::string_view View(size_t row) const { return dict_[indices_[row]]; }
  void Append(std::string_view s) { indices_.push_back(Intern(s)); }
  // Index of s in the dictionary, adding it if new.
  uint32_t Intern(std::string_view s);
  const std::deque<std::string>& dictionary() const { return dict_; }
  const std::vector<uint32_t>& indices() const { return indices_; }
  std::vector<uint32_t>& indices() { return indices_; }

 private:
  std::deque<std::string> dict_;  // deque: element addresses stay stable for index_ keys
  std::unordered_map<std::string_view, uint32_t> index_;
  std::vector<uint32_t> indices_;
};

class ColumnNullable final : public Column {
 public:
  ColumnNullable(DataTypePtr type, ColumnPtr nested)
      : Column(std::move(type)), nested_(std::move(nested)) {}

  size_t size() const override { return null_map_.size(); }
  size_t ByteSize() const override { return null_map_.capacity() + nested_->ByteSize(); }
  size_t DataBytes() const override { return null_map_.size() + nested_->DataBytes(); }
  void Reserve(size_t rows) override {
    null_map_.reserve(rows);
    nested_->Reserve(rows);
  }
  void AppendDefault() override { AppendNull(); }
  void AppendValue(const Value& v) override;
  void AppendRange(const Column& src, size_t start, size_t count) override;
  void Truncate(size_t n) override {
    null_map_.resize(n);
    nested_->Truncate(n);
  }
  Value GetValue(size_t row) const override {
    return null_map_[row] ? Value() : nested_->GetValue(row);
  }
  int CompareAt(size_t a, const Column& other, size_t b) const override;
  uint64_t HashAt(size_t row, uint64_t seed) const override;
  ColumnPtr Permute(const Permutation& perm) const override;
  using Column::Filter;
  ColumnPtr Filter(const std::vector<uint8_t>& mask, size_t kept) const override;
  ColumnPtr CloneEmpty() const override;
  void Serialize(std::string* out) const override;
  Status Deserialize(std::string_view* in, size_t rows) override;

  void AppendNull() {
    null_map_.push_back(1);
    nested_->AppendDefault();
  }
  // Marks the row just appended to nested() as not NULL.
  void AppendNotNullMark() { null_map_.push_back(0); }
  bool IsNull(size_t row) const { return null_map_[row] != 0; }
  Column& nested() { return *nested_; }
  const Column& nested() const { return *nested_; }
  const ColumnPtr& nested_ptr() const { return nested_; }
  const std::vector<uint8_t>& null_map() const { return null_map_; }
  // For builders that fill nested() in bulk: the null map must end up with nested()'s size.
  std::vector<uint8_t>& mutable_null_map() { return null_map_; }

 private:
  ColumnPtr nested_;
  std::vector<uint8_t> null_map_;
};

// Array(T): the elements of every row, in order, in one column of T (data()), and for each row
// the offset in data() just past its last element. Row i holds data() rows
// [offsets()[i-1], offsets()[i]) (from 0 for the first row). A builder appends a row's elements
// to data() and then calls FinishRow().
class ColumnArray final : public Column {
 public:
  ColumnArray(DataTypePtr type, ColumnPtr data) : Column(std::move(type)), data_(std::move(data)) {}

  size_t size() const override { return offsets_.size(); }
  size_t ByteSize() const override { return offsets_.capacity() * 8 + data_->ByteSize(); }
  size_t DataBytes() const override { return offsets_.size() * 8 + data_->DataBytes(); }
  void Reserve(size_t rows) override { offsets_.reserve(rows); }
  // The default is the empty array.
  void AppendDefault() override { FinishRow(); }
  // Appends the elements of a kArray value (each in T's physical representation); any other
  // value appends an empty array.
  void AppendValue(const Value& v) override;
  void AppendRange(const Column& src, size_t start, size_t count) override;
  void Truncate(size_t n) override;
  Value GetValue(size_t row) const override;
  // Lexicographic by element; an array sorts before the longer arrays it is a prefix of.
  int CompareAt(size_t a, const Column& other, size_t b) const override;
  uint64_t HashAt(size_t row, uint64_t seed) const override;
  ColumnPtr Permute(const Permutation& perm) const override;
  using Column::Filter;
  ColumnPtr Filter(const std::vector<uint8_t>& mask, size_t kept) const override;
  ColumnPtr CloneEmpty() const override;
  // Layout: varint element count of each row, then the data column's own serialization.
  void Serialize(std::string* out) const override;
  Status Deserialize(std::string_view* in, size_t rows) override;

  // Ends the current row: it holds the elements appended to data() since the previous row.
  void FinishRow() { offsets_.push_back(data_->size()); }
  Column& data() { return *data_; }
  const Column& data() const { return *data_; }
  const ColumnPtr& data_ptr() const { return data_; }
  const std::vector<uint64_t>& offsets() const { return offsets_; }
  // First element of `row` in data(); the row ends at offsets()[row].
  uint64_t RowBegin(size_t row) const { return row == 0 ? 0 : offsets_[row - 1]; }
  uint64_t RowSize(size_t row) const { return offsets_[row] - RowBegin(row); }

 private:
  ColumnPtr data_;
  std::vector<uint64_t> offsets_;  // end offset of each row in data_
};

// A new empty column for `type`.
ColumnPtr MakeColumn(const DataTypePtr& type);

// Calls fn(ColumnVector<T>&) with the right T for a numeric/time column type, returning what fn
// returns. The column must be a ColumnVector.
template <typename Fn>
decltype(auto) DispatchVector(TypeId id, Fn&& fn);

// A column holding `rows` copies of `value` (already in the type's physical representation).
ColumnPtr MakeConstColumn(const DataTypePtr& type, const Value& value, size_t rows);

// ---- implementation of the dispatch helper ----
template <typename Fn>
decltype(auto) DispatchVector(TypeId id, Fn&& fn) {
  switch (id) {
    case TypeId::kInt8:
      return fn(static_cast<int8_t*>(nullptr));
    case TypeId::kInt16:
      return fn(static_cast<int16_t*>(nullptr));
    case TypeId::kInt32:
      return fn(static_cast<int32_t*>(nullptr));
    case TypeId::kInt64:
    case TypeId::kDateTime64:
      return fn(static_cast<int64_t*>(nullptr));
    case TypeId::kUInt8:
    case TypeId::kBool:
      return fn(static_cast<uint8_t*>(nullptr));
    case TypeId::kUInt16:
    case TypeId::kDate:
      return fn(static_cast<uint16_t*>(nullptr));
    case TypeId::kUInt32:
    case TypeId::kDateTime:
      return fn(static_cast<uint32_t*>(nullptr));
    case TypeId::kUInt64:
      return fn(static_cast<uint64_t*>(nullptr));
    case TypeId::kFloat32:
      return fn(static_cast<float*>(nullptr));
    default:
      return fn(static_cast<double*>(nullptr));
  }
}

}  // namespace trackhouse::types
