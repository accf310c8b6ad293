#include "engine/part_reader.h"

#include <fmt/format.h>

#include <cmath>

#include "common/coding.h"
#include "common/metrics.h"
#include "engine/compression.h"

namespace trackhouse::engine {

using types::Value;

namespace {

metrics::Counter& CorruptionErrors() {
  static metrics::Counter& c = metrics::GetCounter(
      "trackhouse_part_corruption_errors_total",
      "Part files found corrupt (bad checksum, size or encoding) on open or read");
  return c;
}

Status Corrupt(std::string message) {
  CorruptionErrors().Add();
  return Status::Corruption(std::move(message));
}

// Counts corruption found by a callee and returns the status unchanged.
Status Counted(Status s) {
  if (s.code() == StatusCode::kCorruption) CorruptionErrors().Add();
  return s;
}

bool IsNaN(const Value& v) {
  return v.kind() == Value::Kind::kFloat && std::isnan(v.float_value());
}

// A bound on a NaN is no bound we can reason with: drop it (keeps pruning conservative).
KeyColumnBound Sanitize(KeyColumnBound b) {
  if (b.lower && IsNaN(*b.lower)) b.lower.reset();
  if (b.upper && IsNaN(*b.upper)) b.upper.reset();
  return b;
}

// Some value strictly between a and b (a < b) may lie inside the bound.
bool MayHaveBetween(const KeyColumnBound& b, const Value& lo, const Value& hi) {
  if (b.lower && !(*b.lower < hi)) return false;
  if (b.upper && !(lo < *b.upper)) return false;
  return true;
}
// Some value strictly above a / strictly below a may lie inside the bound.
bool MayHaveAbove(const KeyColumnBound& b, const Value& a) { return !b.upper || a < *b.upper; }
bool MayHaveBelow(const KeyColumnBound& b, const Value& a) { return !b.lower || *b.lower < a; }

// Whether the box (columns k.. of `box`) holds a tuple t >= a[k..] (lexicographically).
bool MayHaveAtOrAbove(const std::vector<KeyColumnBound>& box, const std::vector<Value>& a,
                      size_t k) {
  if (k >= box.size() || k >= a.size() || IsNaN(a[k])) return true;
  if (MayHaveAbove(box[k], a[k])) return true;
  return box[k].Contains(a[k]) && MayHaveAtOrAbove(box, a, k + 1);
}
// Whether the box holds a tuple t <= b[k..].
bool MayHaveAtOrBelow(const std::vector<KeyColumnBound>& box, const std::vector<Value>& b,
                      size_t k) {
  if (k >= box.size() || k >= b.size() || IsNaN(b[k])) return true;
  if (MayHaveBelow(box[k], b[k])) return true;
  return box[k].Contains(b[k]) && MayHaveAtOrBelow(box, b, k + 1);
}
// Whether the box holds a tuple t with a[k..] <= t <= b[k..], given a[..k) == b[..k).
bool MayIntersect(const std::vector<KeyColumnBound>& box, const std::vector<Value>& a,
                  const std::vector<Value>& b, size_t k) {
  if (k >= box.size() || k >= a.size()) return true;
  if (IsNaN(a[k]) || IsNaN(b[k])) return true;
  int c = a[k].Compare(b[k]);
  if (c == 0) return box[k].Contains(a[k]) && MayIntersect(box, a, b, k + 1);
  if (c > 0) return true;  // not sorted as promised: keep the granule
  if (MayHaveBetween(box[k], a[k], b[k])) return true;
  if (box[k].Contains(a[k]) && MayHaveAtOrAbove(box, a, k + 1)) return true;
  return box[k].Contains(b[k]) && MayHaveAtOrBelow(box, b, k + 1);
}

}  // namespace

bool KeyColumnBound::Contains(const Value& v) const {
  if (lower) {
    int c = v.Compare(*lower);
    if (v.is_null() || c < 0 || (c == 0 && !lower_inclusive)) return false;
  }
  if (upper) {
    int c = v.Compare(*upper);
    if (v.is_null() || c > 0 || (c == 0 && !upper_inclusive)) return false;
  }
  return true;
}

Part::~Part() = default;

Result<std::shared_ptr<Part>> Part::Open(env::Env* env, std::string dir) {
  if (!env->IsDirectory(dir)) {
    return Status::NotFound(fmt::format("part directory {} does not exist", dir));
  }
  std::shared_ptr<Part> part(new Part(env, std::move(dir)));
  TH_RETURN_IF_ERROR(part->Load());
  return part;
}

Status Part::Load() {
  const std::string meta_path = env::JoinPath(dir_, std::string(kMetaFileName));
  std::string data;
  Status s = env_->ReadFileToString(meta_path, &data);
  if (s.code() == StatusCode::kNotFound) {
    return Status::NotFound(fmt::format("{} is not a part: {} is missing", dir_, kMetaFileName));
  }
  TH_RETURN_IF_ERROR(s);
  auto meta = DecodePartMeta(data, meta_path);
  if (!meta.ok()) return Counted(meta.status());
  meta_ = std::move(meta).value();
  bytes_on_disk_ = data.size();
  if (meta_.rows == 0 || meta_.rows > UINT32_MAX) {
    return Corrupt(
        fmt::format("part meta {}: row count {} is out of range", meta_path, meta_.rows));
  }
  for (const auto& [name, type_text] : meta_.columns) {
    auto c = std::make_unique<ColumnFile>();
    c->name = name;
    auto type = types::ParseDataType(type_text);
    if (!type.ok()) {
      return Corrupt(fmt::format("part meta {}: column {} has a bad type '{}': {}", meta_path, name,
                                 type_text, type.status().message()));
    }
    c->type = *type;
    c->transform = meta_.column_transforms.at(name);
    TH_RETURN_IF_ERROR(LoadColumn(c.get()));
    columns_.push_back(std::move(c));
  }
  return LoadPrimaryIndex();
}

Status Part::LoadColumn(ColumnFile* c) {
  const uint64_t expect_bytes = meta_.column_bytes.at(c->name);
  c->data_path = env::JoinPath(dir_, ColumnDataFileName(c->name));
  auto file = env_->NewRandomAccessFile(c->data_path);
  if (!file.ok()) {
    if (file.status().code() == StatusCode::kNotFound) {
      return Corrupt(
          fmt::format("column file {} is missing (the part meta lists column {} "
                      "with {} bytes)",
                      c->data_path, c->name, expect_bytes));
    }
    return file.status();
  }
  c->data = std::move(file).value();
  const uint64_t size = c->data->Size();
  if (size != expect_bytes) {
    return Corrupt(
        fmt::format("column file {}: size mismatch: the part meta says {} bytes, the "
                    "file has {}",
                    c->data_path, expect_bytes, size));
  }

  const std::string marks_path = env::JoinPath(dir_, ColumnMarksFileName(c->name));
  std::string data;
  Status s = env_->ReadFileToString(marks_path, &data);
  if (s.code() == StatusCode::kNotFound) {
    return Corrupt(fmt::format("marks file {} is missing (column {})", marks_path, c->name));
  }
  TH_RETURN_IF_ERROR(s);
  auto body = OpenEnvelope(data, kMarksMagic, marks_path);
  if (!body.ok()) return Counted(body.status());
  const size_t granules = num_granules();
  std::string_view in = *body;
  uint64_t count = 0;
  GetFixed64(&in, &count);
  if (count != granules + 1 || in.size() != 8 * count) {
    return Corrupt(
        fmt::format("marks file {}: at offset {}: {} marks in {} bytes, expected {} "
                    "marks ({} granules of {} rows) in {} bytes",
                    marks_path, kEnvelopeHeaderSize, count, body->size(), granules + 1, granules,
                    meta_.granularity, 8 * (granules + 2)));
  }
  c->marks.resize(count);
  for (uint64_t i = 0; i < count; ++i) c->marks[i] = DecodeFixed64(in.data() + 8 * i);
  const bool has_dict = c->type->id() == types::TypeId::kLowCardinality;
  const uint64_t first_min = has_dict ? kFrameHeaderSize : 0;
  if ((has_dict && c->marks[0] < first_min) || (!has_dict && c->marks[0] != 0)) {
    return Corrupt(fmt::format("marks file {}: mark 0 at offset {} is {}, expected {}", marks_path,
                               kEnvelopeHeaderSize + 8, c->marks[0],
                               has_dict ? "a dictionary frame's size" : "0"));
  }
  for (size_t i = 0; i + 1 < count; ++i) {
    if (c->marks[i + 1] < c->marks[i] + kFrameHeaderSize) {
      return Corrupt(
          fmt::format("marks file {}: mark {} at offset {} is {}, not past mark {} "
                      "({}) by a frame header ({} bytes)",
                      marks_path, i + 1, kEnvelopeHeaderSize + 8 + 8 * (i + 1), c->marks[i + 1], i,
                      c->marks[i], kFrameHeaderSize));
    }
  }
  if (c->marks.back() != size) {
    return Corrupt(fmt::format(
        "marks file {}: the last mark (offset {}) is {}, column file {} "
        "has {} bytes",
        marks_path, kEnvelopeHeaderSize + 8 * count, c->marks.back(), c->data_path, size));
  }
  bytes_on_disk_ += size + data.size();
  return Status::OK();
}

Status Part::LoadPrimaryIndex() {
  const std::string path = env::JoinPath(dir_, std::string(kPrimaryIndexFileName));
  std::string data;
  Status s = env_->ReadFileToString(path, &data);
  if (s.code() == StatusCode::kNotFound) {
    return Corrupt(fmt::format("primary index file {} is missing", path));
  }
  TH_RETURN_IF_ERROR(s);
  if (data.size() != meta_.primary_index_bytes) {
    return Corrupt(
        fmt::format("primary index file {}: size mismatch: the part meta says {} "
                    "bytes, the file has {}",
                    path, meta_.primary_index_bytes, data.size()));
  }
  auto body = OpenEnvelope(data, kIndexMagic, path);
  if (!body.ok()) return Counted(body.status());
  std::string_view in = *body;
  auto offset = [&] { return static_cast<size_t>(in.data() - data.data()); };
  const size_t rows = 2 * num_granules();
  uint64_t got_rows = 0, nkeys = 0;
  if (!GetVarint64(&in, &got_rows) || !GetVarint64(&in, &nkeys) || got_rows != rows ||
      nkeys != meta_.sort_key.size()) {
    return Corrupt(
        fmt::format("primary index file {}: header at offset {} says {} rows and {} "
                    "key columns, expected {} and {}",
                    path, kEnvelopeHeaderSize, got_rows, nkeys, rows, meta_.sort_key.size()));
  }
  index_.assign(rows, std::vector<Value>(nkeys));
  for (size_t k = 0; k < nkeys; ++k) {
    const size_t at = offset();
    std::string_view name, type_text, col_data;
    if (!GetLengthPrefixed(&in, &name) || !GetLengthPrefixed(&in, &type_text) ||
        !GetLengthPrefixed(&in, &col_data)) {
      return Corrupt(
          fmt::format("primary index file {}: key column {} at offset {} is "
                      "truncated ({} bytes left)",
                      path, k, at, in.size()));
    }
    const ColumnFile* c = FindColumn(meta_.sort_key[k]);
    if (name != meta_.sort_key[k] || c == nullptr || type_text != c->type->name()) {
      return Corrupt(
          fmt::format("primary index file {}: key column {} at offset {} is {} {}, "
                      "the part meta says {}",
                      path, k, at, name, type_text, meta_.sort_key[k]));
    }
    types::ColumnPtr col = types::MakeColumn(c->type);
    size_t col_at = static_cast<size_t>(col_data.data() - data.data());
    size_t col_size = col_data.size();
    Status ds = col->Deserialize(&col_data, rows);
    if (!ds.ok() || !col_data.empty()) {
      return Corrupt(fmt::format(
          "primary index file {}: values of key column {} at offset {} "
          "({} bytes) do not hold {} rows: {}",
          path, name, col_at, col_size, rows, ds.ok() ? "trailing bytes" : ds.message()));
    }
    for (size_t r = 0; r < rows; ++r) index_[r][k] = col->GetValue(r);
  }
  if (!in.empty()) {
    return Corrupt(fmt::format("primary index file {}: {} unexpected bytes at offset {}", path,
                               in.size(), offset()));
  }
  bytes_on_disk_ += data.size();
  return Status::OK();
}

const Part::ColumnFile* Part::FindColumn(const std::string& name) const {
  for (const auto& c : columns_) {
    if (c->name == name) return c.get();
  }
  return nullptr;
}

types::DataTypePtr Part::ColumnType(const std::string& name) const {
  const ColumnFile* c = FindColumn(name);
  return c == nullptr ? nullptr : c->type;
}

uint64_t Part::RangeRows(const GranuleRanges& ranges) const {
  uint64_t n = 0;
  for (const auto& [b, e] : ranges) {
    if (b >= e) continue;
    n += GranuleFirstRow(e - 1) + GranuleRows(e - 1) - GranuleFirstRow(b);
  }
  return n;
}

Result<std::shared_ptr<const std::vector<std::string>>> Part::Dictionary(
    const ColumnFile& c) const {
  {
    std::lock_guard lock(c.dict_mu);
    if (c.dict) return c.dict;
  }
  // Read outside the lock; two racing readers both decode, the first one's result is kept.
  std::string buf;
  TH_RETURN_IF_ERROR(c.data->Read(0, c.marks[0], &buf));
  auto where = [&] {
    return fmt::format("column file {}: dictionary frame at offset 0 ({} bytes)", c.data_path,
                       c.marks[0]);
  };
  if (buf.size() != c.marks[0]) {
    return Corrupt(fmt::format("{}: short read of {} bytes", where(), buf.size()));
  }
  std::string payload;
  Status s = Decompress(buf, &payload);
  if (!s.ok()) return Counted(s.WithContext(where()));
  auto dict = std::make_shared<std::vector<std::string>>();
  s = DecodeDictionary(payload, dict.get());
  if (!s.ok()) return Counted(s.WithContext(where()));
  std::lock_guard lock(c.dict_mu);
  if (!c.dict) c.dict = std::move(dict);
  return c.dict;
}

Result<types::ColumnPtr> Part::ReadColumn(const std::string& name, size_t granule_begin,
                                          size_t granule_end) const {
  const ColumnFile* c = FindColumn(name);
  if (c == nullptr) {
    return Status::NotFound(fmt::format("part {} has no column {}", dir_, name),
                            ch::kNoSuchColumnInTable);
  }
  if (granule_begin > granule_end || granule_end > num_granules()) {
    return Status::InvalidArgument(
        fmt::format("granule range [{}, {}) is outside part {} of {} "
                    "granules",
                    granule_begin, granule_end, dir_, num_granules()));
  }
  types::ColumnPtr col = types::MakeColumn(c->type);
  if (granule_begin == granule_end) return col;
  std::shared_ptr<const std::vector<std::string>> dict;
  if (c->type->id() == types::TypeId::kLowCardinality) {
    TH_ASSIGN_OR_RETURN(dict, Dictionary(*c));
  }
  const size_t rows = GranuleFirstRow(granule_end - 1) + GranuleRows(granule_end - 1) -
                      GranuleFirstRow(granule_begin);
  col->Reserve(rows);
  // A dictionary no larger than the rows read becomes the column's own: indices then decode
  // without a remap per row. A larger one (a few rows of a big dictionary) is remapped.
  bool dict_in_column = false;
  if (dict && dict->size() <= rows) {
    dict_in_column = SeedDictionary(*dict, static_cast<types::ColumnLowCardinality*>(col.get()));
  }
  const uint64_t start = c->marks[granule_begin];
  const uint64_t length = c->marks[granule_end] - start;
  std::string buf;
  TH_RETURN_IF_ERROR(c->data->Read(start, length, &buf));
  if (buf.size() != length) {
    return Corrupt(
        fmt::format("column file {}: short read at offset {}: wanted {} bytes, got {} "
                    "(file size {})",
                    c->data_path, start, length, buf.size(), c->data->Size()));
  }
  std::string payload;
  for (size_t g = granule_begin; g < granule_end; ++g) {
    const uint64_t at = c->marks[g];
    const uint64_t size = c->marks[g + 1] - at;
    std::string_view frame(buf.data() + (at - start), size);
    payload.clear();
    Status s = Decompress(frame, &payload);
    const bool frame_ok = s.ok();
    if (frame_ok) {
      s = DecodeGranule(payload, GranuleRows(g), c->transform, dict.get(), dict_in_column,
                        col.get());
    }
    if (!s.ok()) {
      std::string decoded =  // the payload size, once the frame itself checked out
          frame_ok ? fmt::format(", {} bytes uncompressed", payload.size()) : std::string();
      return Counted(s.WithContext(
          fmt::format("column file {}: granule {} ({} rows) frame at offset {} ({} bytes{})",
                      c->data_path, g, GranuleRows(g), at, size, decoded)));
    }
  }
  return col;
}

Result<types::Block> Part::ReadBlock(const std::vector<std::string>& columns, size_t granule_begin,
                                     size_t granule_end) const {
  types::Block block;
  for (const auto& name : columns) {
    TH_ASSIGN_OR_RETURN(types::ColumnPtr col, ReadColumn(name, granule_begin, granule_end));
    block.Add(name, FindColumn(name)->type, std::move(col));
  }
  return block;
}

bool Part::GranuleMayMatch(size_t g, const std::vector<KeyColumnBound>& box) const {
  return MayIntersect(box, index_[2 * g], index_[2 * g + 1], 0);
}

GranuleRanges Part::SelectGranules(const KeyRange& range) const {
  std::vector<KeyColumnBound> box;
  for (size_t k = 0; k < range.columns.size() && k < meta_.sort_key.size(); ++k) {
    box.push_back(Sanitize(range.columns[k]));
  }
  GranuleRanges out;
  const size_t n = num_granules();
  for (size_t g = 0; g < n; ++g) {
    if (!GranuleMayMatch(g, box)) continue;
    if (!out.empty() && out.back().second == g) {
      out.back().second = g + 1;
    } else {
      out.emplace_back(g, g + 1);
    }
  }
  return out;
}

bool Part::MayContain(const std::string& column, const Value& lo, const Value& hi) const {
  if (IsNaN(lo) || IsNaN(hi)) return true;
  const std::pair<Value, Value>* mm = nullptr;
  auto it = meta_.column_minmax.find(column);
  if (it != meta_.column_minmax.end()) {
    mm = &it->second;
  } else {
    for (size_t k = 0; k < meta_.sort_key.size(); ++k) {
      if (meta_.sort_key[k] == column && k < meta_.key_minmax.size()) mm = &meta_.key_minmax[k];
    }
  }
  if (mm == nullptr || mm->first.is_null() || mm->second.is_null()) return true;
  if (!hi.is_null() && hi < mm->first) return false;
  if (!lo.is_null() && mm->second < lo) return false;
  return true;
}

}  // namespace trackhouse::engine
