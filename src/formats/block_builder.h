// BlockBuilder: the column builders every input format writes into (private to src/formats).
//
// It owns the current block's columns, the per-column defaults and "omitted" masks, and the
// queue of completed blocks. A format parser writes one row at a time:
//
//   builder.BeginRow();
//   builder.WriteInt(2, 42);          // any order; each column at most once
//   builder.WriteString(0, "post");   // columns not written get their default
//   builder.FinishRow();              // may complete a block (max_block_rows / max_block_bytes)
//
// or AbortRow() after an error. Write* conversions follow types::ConvertValue (range-checked
// numbers, strings parsed for numeric and time columns) and return errors without row context;
// ColumnError()/RowError() add "Cannot parse input: row N, column 'x': ".
// Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/status.h"
#include "formats/input_format.h"
#include "types/column.h"
#include "types/data_type.h"
#include "types/value.h"

namespace trackhouse::formats {

// The kind of a column's (non-NULL) values, for the switch in the write paths: the type id of
// the column type without Nullable.
using WriterKind = types::TypeId;

// How to write into one column of the current block.
struct ColumnWriter {
  WriterKind kind;
  const types::DataType* type = nullptr;      // the column type without Nullable
  types::Column* data = nullptr;              // receives non-NULL values (nested if Nullable)
  types::ColumnNullable* nullable = nullptr;  // the column itself when Nullable, else null
  size_t dict_bytes = 0;                      // LowCardinality: bytes of dictionary entries
};

class BlockBuilder {
 public:
  BlockBuilder() = default;
  BlockBuilder(const BlockBuilder&) = delete;
  BlockBuilder& operator=(const BlockBuilder&) = delete;

  // Validates the columns (at least one, unique names, defaults that fit) and starts a block.
  Status Init(std::vector<InputColumn> columns, const InputOptions& options);

  size_t num_columns() const { return specs_.size(); }
  const InputColumn& column(size_t i) const { return specs_[i]; }
  const ColumnWriter& writer(size_t i) const { return writers_[i]; }
  // Index of the column named exactly `name`, or -1.
  int Find(std::string_view name) const;
  bool is_string_like(size_t i) const { return writers_[i].type->is_string_like(); }

  // ---- one row ----
  void BeginRow() {
    if (!block_started_) StartBlock();
    ++stamp_;
  }
  // Whether column i already has a value in the current row.
  bool IsSet(size_t i) const { return set_[i] == stamp_; }

  Status WriteInt(size_t i, int64_t v);
  Status WriteUInt(size_t i, uint64_t v);
  Status WriteDouble(size_t i, double v);
  Status WriteBool(size_t i, bool v);
  // String-like columns store `s`; other columns parse it as text (types::ParseValueText of the
  // non-Nullable type: "42", "2024-01-01 10:00:00", "true").
  Status WriteString(size_t i, std::string_view s);
  // Appends a value already in the physical representation of column i, whose values are held
  // in a ColumnVector<T> (see types::DispatchVector); no conversion or check.
  template <typename T>
  void WriteRaw(size_t i, T v) {
    static_cast<types::ColumnVector<T>*>(writers_[i].data)->push_back(v);
    MarkWritten(i);
  }
  // NULL: a Nullable column stores NULL; any other column gets its default and the value
  // counts as omitted (ClickHouse's input_format_null_as_default=1).
  void WriteNull(size_t i);
  // The column's default value; counts as omitted.
  void WriteDefault(size_t i);
  // A Value with types::ConvertValue semantics (NULL as in WriteNull).
  Status WriteValue(size_t i, const types::Value& v);

  // Ends the row: columns without a value get their default. May complete a block.
  void FinishRow();
  // Drops the values written since BeginRow (after an error).
  void AbortRow();
  // Completes the current block if it has rows (end of input).
  void Flush();

  // 1-based number, in the whole input, of the row being parsed.
  uint64_t current_row_number() const { return total_rows_ + 1; }
  // Complete rows in the whole input.
  uint64_t total_rows() const { return total_rows_; }

  // "Cannot parse input: row N, column 'x': <cause>" with the cause's ClickHouse code.
  Status ColumnError(size_t i, const Status& cause) const;
  // "Cannot parse input: row N: <message>".
  Status RowError(int clickhouse_code, std::string_view message) const;

  bool HasBlock() const { return !ready_.empty(); }
  ParsedBlock TakeBlock();

 private:
  Status StringTooLong(size_t bytes) const;
  // Appends v to a ColumnVector<T> if it fits T; false (nothing appended) if not.
  template <typename T, typename V>
  static bool PushInteger(types::Column* c, V v) {
    if (!std::in_range<T>(v)) return false;
    static_cast<types::ColumnVector<T>*>(c)->push_back(static_cast<T>(v));
    return true;
  }
  // WriteInt and WriteUInt: an integer into an integer or Float64 column without conversion
  // when it fits, through Value conversion (range errors, other types) when not.
  template <typename V>
  Status WriteInteger(size_t i, V v);

  // Marks column i written with a non-NULL value.
  void MarkWritten(size_t i) {
    ColumnWriter& w = writers_[i];
    if (w.nullable != nullptr) w.nullable->AppendNotNullMark();
    set_[i] = stamp_;
  }
  Status Written(size_t i) {
    MarkWritten(i);
    return Status::OK();
  }
  // The general path: convert `v` with types::ConvertValue, then append.
  Status WriteConverted(size_t i, const types::Value& v);
  Status WriteStringSlow(size_t i, std::string_view s);
  void StartBlock();
  void CutBlock();
  size_t EstimateBytes() const;

  std::vector<InputColumn> specs_;
  InputOptions options_;
  std::vector<types::Value> defaults_;                    // physical default of each column
  std::unordered_map<std::string_view, size_t> by_name_;  // views into specs_[i].name

  // Current block.
  std::vector<types::ColumnPtr> columns_;
  std::vector<ColumnWriter> writers_;
  std::vector<std::vector<uint8_t>> omitted_;
  // The current block's columns exist: a block is started by the first row after a cut, so
  // that the last cut of an input (often its only one) leaves no empty block behind.
  bool block_started_ = false;
  size_t rows_ = 0;             // complete rows in the current block
  size_t next_byte_check_ = 1;  // rows_ at which to estimate the block's bytes next
  uint64_t block_first_row_ = 0;

  // Per-row bookkeeping: set_[i] == stamp_ if column i has a value in this row; omit_[i] ==
  // stamp_ if that value is a default (omitted).
  uint64_t stamp_ = 0;
  std::vector<uint64_t> set_;
  std::vector<uint64_t> omit_;

  uint64_t total_rows_ = 0;
  std::deque<ParsedBlock> ready_;
};

// ---- inline fast paths ----

template <typename V>
inline Status BlockBuilder::WriteInteger(size_t i, V v) {
  ColumnWriter& w = writers_[i];
  bool ok = false;
  switch (w.kind) {
    case WriterKind::kInt8:
      ok = PushInteger<int8_t>(w.data, v);
      break;
    case WriterKind::kInt16:
      ok = PushInteger<int16_t>(w.data, v);
      break;
    case WriterKind::kInt32:
      ok = PushInteger<int32_t>(w.data, v);
      break;
    case WriterKind::kInt64:
      ok = PushInteger<int64_t>(w.data, v);
      break;
    case WriterKind::kUInt8:
      ok = PushInteger<uint8_t>(w.data, v);
      break;
    case WriterKind::kUInt16:
      ok = PushInteger<uint16_t>(w.data, v);
      break;
    case WriterKind::kUInt32:
      ok = PushInteger<uint32_t>(w.data, v);
      break;
    case WriterKind::kUInt64:
      ok = PushInteger<uint64_t>(w.data, v);
      break;
    case WriterKind::kFloat64:
      static_cast<types::ColumnVector<double>*>(w.data)->push_back(static_cast<double>(v));
      ok = true;
      break;
    default:
      break;
  }
  if (ok) return Written(i);
  if constexpr (std::is_signed_v<V>) {
    return WriteConverted(i, types::Value::Int(v));
  } else {
    return WriteConverted(i, types::Value::UInt(v));
  }
}

inline Status BlockBuilder::WriteInt(size_t i, int64_t v) { return WriteInteger(i, v); }

inline Status BlockBuilder::WriteUInt(size_t i, uint64_t v) { return WriteInteger(i, v); }

inline Status BlockBuilder::WriteDouble(size_t i, double v) {
  ColumnWriter& w = writers_[i];
  if (w.kind == WriterKind::kFloat64) {
    static_cast<types::ColumnVector<double>*>(w.data)->push_back(v);
    return Written(i);
  }
  if (w.kind == WriterKind::kFloat32) {
    static_cast<types::ColumnVector<float>*>(w.data)->push_back(static_cast<float>(v));
    return Written(i);
  }
  return WriteConverted(i, types::Value::Float(v));
}

inline Status BlockBuilder::WriteString(size_t i, std::string_view s) {
  ColumnWriter& w = writers_[i];
  if (options_.max_string_bytes != 0 && s.size() > options_.max_string_bytes &&
      w.type->is_string_like()) {
    return StringTooLong(s.size());
  }
  switch (w.kind) {
    case WriterKind::kString:
      static_cast<types::ColumnString*>(w.data)->Append(s);
      return Written(i);
    case WriterKind::kLowCardinality: {
      auto* lc = static_cast<types::ColumnLowCardinality*>(w.data);
      size_t before = lc->dictionary().size();
      lc->Append(s);
      if (lc->dictionary().size() != before) w.dict_bytes += s.size() + 48;
      return Written(i);
    }
    default:
      return WriteStringSlow(i, s);
  }
}

}  // namespace trackhouse::formats
