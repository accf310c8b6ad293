#include "formats/block_builder.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "common/metrics.h"
#include "types/convert.h"

namespace trackhouse::formats {
namespace {

// Rows preallocated in a new block's columns (never more than max_block_rows): few for the
// first block, since most inputs are small (a /track request is often one event, and a
// reservation per column per request costs more than parsing the row), and more for the later
// blocks of an input already known to be large.
constexpr size_t kFirstBlockReserveRows = 8;
constexpr size_t kInitialReserveRows = 1024;
// The block's byte size is estimated against max_block_bytes at most this many rows apart
// (less when, at the average row size so far, the limit could be reached sooner).
constexpr size_t kMaxByteCheckInterval = 1024;

metrics::Counter& RowsCounter() {
  static metrics::Counter& c =
      metrics::GetCounter("trackhouse_input_rows_total",
                          "Rows parsed by the input formats (INSERT ... FORMAT, /track)");
  return c;
}

metrics::Counter& BlocksCounter() {
  static metrics::Counter& c = metrics::GetCounter("trackhouse_input_blocks_total",
                                                   "Blocks handed out by the input-format parsers");
  return c;
}

}  // namespace

Status BlockBuilder::Init(std::vector<InputColumn> columns, const InputOptions& options) {
  if (columns.empty()) return Status::InvalidArgument("An insert needs at least one column");
  specs_ = std::move(columns);
  options_ = options;
  if (options_.max_block_rows == 0) options_.max_block_rows = 1;
  by_name_.clear();
  defaults_.clear();
  for (size_t i = 0; i < specs_.size(); ++i) {
    const InputColumn& c = specs_[i];
    if (c.type == nullptr) {
      return Status::InvalidArgument(fmt::format("Column '{}' has no type", c.name));
    }
    if (!by_name_.emplace(c.name, i).second) {
      return Status::InvalidArgument(
          fmt::format("Column '{}' is listed more than once in the insert", c.name),
          ch::kDuplicateColumn);
    }
    if (!c.default_value || (c.default_value->is_null() && !c.type->is_nullable())) {
      defaults_.push_back(types::DefaultValue(*c.type));
      continue;
    }
    Result<types::Value> v = types::ConvertValue(*c.default_value, *c.type);
    if (!v.ok()) return v.status().WithContext(fmt::format("Default of column '{}'", c.name));
    defaults_.push_back(std::move(v).value());
  }
  set_.assign(specs_.size(), 0);
  omit_.assign(specs_.size(), 0);
  StartBlock();
  return Status::OK();
}

int BlockBuilder::Find(std::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? -1 : static_cast<int>(it->second);
}

void BlockBuilder::StartBlock() {
  size_t n = specs_.size();
  columns_.resize(n);
  writers_.resize(n);
  omitted_.assign(n, {});
  size_t reserve = std::min(options_.max_block_rows,
                            total_rows_ == 0 ? kFirstBlockReserveRows : kInitialReserveRows);
  for (size_t i = 0; i < n; ++i) {
    const types::DataTypePtr& type = specs_[i].type;
    columns_[i] = types::MakeColumn(type);
    columns_[i]->Reserve(reserve);
    ColumnWriter& w = writers_[i];
    w = ColumnWriter{};
    if (type->is_nullable()) {
      w.nullable = static_cast<types::ColumnNullable*>(columns_[i].get());
      w.data = &w.nullable->nested();
      w.type = type->nested().get();
    } else {
      w.data = columns_[i].get();
      w.type = type.get();
    }
    w.kind = w.type->id();  // never kNullable: w.type is unwrapped
    if (specs_[i].track_omitted) omitted_[i].reserve(reserve);
  }
  rows_ = 0;
  next_byte_check_ = 1;
  block_first_row_ = total_rows_;
  block_started_ = true;
}

Status BlockBuilder::WriteConverted(size_t i, const types::Value& v) {
  ColumnWriter& w = writers_[i];
  Result<types::Value> r = types::ConvertValue(v, *w.type);
  if (!r.ok()) return r.status();
  w.data->AppendValue(*r);
  return Written(i);
}

Status BlockBuilder::StringTooLong(size_t bytes) const {
  return Status::InvalidArgument(
      fmt::format("a string of {} bytes is longer than max_string_bytes ({})", bytes,
                  options_.max_string_bytes),
      ch::kTooLargeStringSize);
}

Status BlockBuilder::WriteStringSlow(size_t i, std::string_view s) {
  ColumnWriter& w = writers_[i];
  if (w.kind == WriterKind::kFixedString) {
    Status st = static_cast<types::ColumnFixedString*>(w.data)->Append(s);
    if (!st.ok()) return st;
    return Written(i);
  }
  Result<types::Value> r = types::ParseValueText(s, *w.type);
  if (!r.ok()) return r.status();
  w.data->AppendValue(*r);
  return Written(i);
}

Status BlockBuilder::WriteBool(size_t i, bool v) {
  if (is_string_like(i)) return WriteString(i, v ? "true" : "false");
  return WriteUInt(i, v ? 1 : 0);
}

void BlockBuilder::WriteNull(size_t i) {
  ColumnWriter& w = writers_[i];
  if (w.nullable != nullptr) {
    w.nullable->AppendNull();
    set_[i] = stamp_;
    return;
  }
  WriteDefault(i);
}

void BlockBuilder::WriteDefault(size_t i) {
  columns_[i]->AppendValue(defaults_[i]);
  set_[i] = stamp_;
  omit_[i] = stamp_;
}

Status BlockBuilder::WriteValue(size_t i, const types::Value& v) {
  if (v.is_null()) {
    WriteNull(i);
    return Status::OK();
  }
  return WriteConverted(i, v);
}

void BlockBuilder::FinishRow() {
  for (size_t i = 0; i < specs_.size(); ++i) {
    if (set_[i] != stamp_) WriteDefault(i);
    if (specs_[i].track_omitted) omitted_[i].push_back(omit_[i] == stamp_ ? 1 : 0);
  }
  ++rows_;
  ++total_rows_;
  if (rows_ >= options_.max_block_rows) {
    CutBlock();
  } else if (rows_ >= next_byte_check_) {
    size_t bytes = EstimateBytes();
    if (bytes >= options_.max_block_bytes) {
      CutBlock();
    } else {
      size_t room_rows = (options_.max_block_bytes - bytes) / (bytes / rows_ + 1);
      next_byte_check_ = rows_ + std::clamp<size_t>(room_rows / 2, 1, kMaxByteCheckInterval);
    }
  }
}

void BlockBuilder::AbortRow() {
  if (block_started_) {
    for (auto& c : columns_) {
      if (c->size() > rows_) c->Truncate(rows_);
    }
  }
  ++stamp_;  // forget what the aborted row wrote
}

void BlockBuilder::Flush() {
  if (rows_ > 0) CutBlock();
}

size_t BlockBuilder::EstimateBytes() const {
  size_t total = 0;
  for (size_t i = 0; i < writers_.size(); ++i) {
    const ColumnWriter& w = writers_[i];
    switch (w.kind) {
      case WriterKind::kString:
        total += static_cast<const types::ColumnString*>(w.data)->chars_size() + rows_ * 8;
        break;
      case WriterKind::kLowCardinality:
        total += rows_ * 4 + w.dict_bytes;
        break;
      default:
        total += rows_ * w.type->value_width();
        break;
    }
    if (w.nullable != nullptr) total += rows_;
  }
  return total;
}

void BlockBuilder::CutBlock() {
  ParsedBlock out;
  for (size_t i = 0; i < specs_.size(); ++i) {
    out.block.Add(specs_[i].name, specs_[i].type, std::move(columns_[i]));
  }
  out.omitted = std::move(omitted_);
  out.first_row = block_first_row_;
  RowsCounter().Add(static_cast<int64_t>(rows_));
  BlocksCounter().Add(1);
  ready_.push_back(std::move(out));
  // The next block starts with its first row (BeginRow). Until then the writers point at no
  // column, and a block holds no row.
  for (ColumnWriter& w : writers_) {
    w.data = nullptr;
    w.nullable = nullptr;
  }
  rows_ = 0;
  block_started_ = false;
}

ParsedBlock BlockBuilder::TakeBlock() {
  if (ready_.empty()) return ParsedBlock{};
  ParsedBlock b = std::move(ready_.front());
  ready_.pop_front();
  return b;
}

Status BlockBuilder::ColumnError(size_t i, const Status& cause) const {
  return Status(cause.code() == StatusCode::kOk ? StatusCode::kInvalidArgument : cause.code(),
                fmt::format("Cannot parse input: row {}, column '{}': {}", current_row_number(),
                            specs_[i].name, cause.message()),
                cause.clickhouse_code() != 0 ? cause.clickhouse_code() : ch::kCannotParseText);
}

Status BlockBuilder::RowError(int clickhouse_code, std::string_view message) const {
  return Status::InvalidArgument(
      fmt::format("Cannot parse input: row {}: {}", current_row_number(), message),
      clickhouse_code);
}

}  // namespace trackhouse::formats
