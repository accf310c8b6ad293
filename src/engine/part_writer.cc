#include "engine/part_writer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>

#include "common/coding.h"
#include "common/metrics.h"

namespace trackhouse::engine {

using types::Column;
using types::ColumnFixedString;
using types::ColumnLowCardinality;
using types::ColumnNullable;
using types::ColumnString;
using types::ColumnVector;
using types::TypeId;
using types::Value;

namespace {

// Appends to the file in large writes: frames accumulate in buf_ and go out 1 MiB at a time.
constexpr size_t kFlushBytes = 1 << 20;

metrics::Counter& WriteErrors() {
  static metrics::Counter& c = metrics::GetCounter(
      "trackhouse_part_write_errors_total", "Part writes that failed (nothing was published)");
  return c;
}

using MinMax = std::optional<std::pair<Value, Value>>;

template <typename T>
Value ToValue(T v) {
  if constexpr (std::is_floating_point_v<T>) {
    return Value::Float(v);
  } else if constexpr (std::is_signed_v<T>) {
    return Value::Int(v);
  } else {
    return Value::UInt(v);
  }
}

template <typename T>
MinMax VectorMinMax(const T* v, size_t n, const uint8_t* nulls) {
  if (nulls == nullptr && !std::is_floating_point_v<T>) {
    if (n == 0) return std::nullopt;
    T mn = v[0], mx = v[0];
    for (size_t i = 1; i < n; ++i) {  // branch-free: vectorizes
      mn = v[i] < mn ? v[i] : mn;
      mx = v[i] > mx ? v[i] : mx;
    }
    return std::make_pair(ToValue(mn), ToValue(mx));
  }
  bool any = false;
  T mn{}, mx{};
  for (size_t i = 0; i < n; ++i) {
    if (nulls != nullptr && nulls[i]) continue;
    T x = v[i];
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isnan(x)) continue;
    }
    if (!any) {
      mn = mx = x;
      any = true;
    } else {
      mn = x < mn ? x : mn;
      mx = x > mx ? x : mx;
    }
  }
  if (!any) return std::nullopt;
  return std::make_pair(ToValue(mn), ToValue(mx));
}

// Min/max of a column ignoring NULLs and NaNs; nullopt when there is no such value or when the
// column is a String/FixedString and `strings` is false.
MinMax ComputeMinMax(const Column& column, const PartDictionary* dict, bool strings) {
  const Column* col = &column;
  const uint8_t* nulls = nullptr;
  if (col->type()->is_nullable()) {
    const auto& n = static_cast<const ColumnNullable&>(*col);
    nulls = n.null_map().data();
    col = &n.nested();
  }
  const size_t rows = col->size();
  switch (col->type()->id()) {
    case TypeId::kLowCardinality: {
      if (dict == nullptr || dict->values.empty()) return std::nullopt;
      auto [mn, mx] = std::minmax_element(dict->values.begin(), dict->values.end());
      return std::make_pair(Value::String(*mn), Value::String(*mx));
    }
    case TypeId::kString:
    case TypeId::kFixedString: {
      if (!strings) return std::nullopt;
      std::optional<std::string_view> mn, mx;
      for (size_t i = 0; i < rows; ++i) {
        if (nulls != nullptr && nulls[i]) continue;
        std::string_view v = col->type()->id() == TypeId::kString
                                 ? static_cast<const ColumnString&>(*col).View(i)
                                 : static_cast<const ColumnFixedString&>(*col).View(i);
        if (!mn || v < *mn) mn = v;
        if (!mx || v > *mx) mx = v;
      }
      if (!mn) return std::nullopt;
      return std::make_pair(Value::String(std::string(*mn)), Value::String(std::string(*mx)));
    }
    default:
      return types::DispatchVector(col->type()->id(), [&](auto* tag) -> MinMax {
        using T = std::remove_pointer_t<decltype(tag)>;
        return VectorMinMax(static_cast<const ColumnVector<T>&>(*col).data().data(), rows, nulls);
      });
  }
}

// One step of the sortedness check: for every row i whose key so far equals row i-1's
// (undecided[i] != 0), compares the two rows on this key column; clears undecided[i] where
// row i-1 < row i. Returns the first row that sorts before its predecessor, or 0.
template <typename T>
size_t CompareAdjacent(const T* v, size_t rows, uint8_t* undecided) {
  for (size_t i = 1; i < rows; ++i) {
    if (!undecided[i]) continue;
    if (v[i - 1] > v[i]) return i;
    undecided[i] = v[i - 1] == v[i];
  }
  return 0;
}

size_t CompareAdjacentColumn(const Column& col, uint8_t* undecided) {
  const size_t rows = col.size();
  const TypeId id = col.type()->id();
  if (id == TypeId::kLowCardinality) {
    // Compare the rank of each row's string in the sorted dictionary.
    const auto& lc = static_cast<const ColumnLowCardinality&>(col);
    const auto& dict = lc.dictionary();
    std::vector<uint32_t> order(dict.size());
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](uint32_t a, uint32_t b) { return dict[a] < dict[b]; });
    std::vector<uint32_t> rank(dict.size());
    for (uint32_t r = 0; r < order.size(); ++r) rank[order[r]] = r;
    std::vector<uint32_t> ranks(rows);
    for (size_t i = 0; i < rows; ++i) ranks[i] = rank[lc.indices()[i]];
    return CompareAdjacent(ranks.data(), rows, undecided);
  }
  if (id != TypeId::kString && id != TypeId::kFixedString && id != TypeId::kNullable &&
      !col.type()->is_float()) {
    return types::DispatchVector(id, [&](auto* tag) {
      using T = std::remove_pointer_t<decltype(tag)>;
      return CompareAdjacent(static_cast<const ColumnVector<T>&>(col).data().data(), rows,
                             undecided);
    });
  }
  for (size_t i = 1; i < rows; ++i) {  // the general (virtual) path: NULLs, NaNs, strings
    if (!undecided[i]) continue;
    int c = col.CompareAt(i - 1, col, i);
    if (c > 0) return i;
    undecided[i] = c == 0;
  }
  return 0;
}

Status CheckSorted(const types::Block& block, const std::vector<const Column*>& key) {
  std::vector<uint8_t> undecided(block.rows(), 1);
  for (size_t k = 0; k < key.size(); ++k) {
    size_t bad = CompareAdjacentColumn(*key[k], undecided.data());
    if (bad != 0) {
      return Status::InvalidArgument(fmt::format(
          "block is not sorted by the sort key: row {} sorts before row {} (key column {})", bad,
          bad - 1, k));
    }
  }
  return Status::OK();
}

class PartFileWriter {
 public:
  PartFileWriter(env::Env* env, std::string dir, const types::Block& block,
                 const PartWriteOptions& options)
      : env_(env), dir_(std::move(dir)), block_(block), options_(options) {}

  Status Run(PartMeta* meta);

 private:
  Status WriteColumn(const types::NamedColumn& nc, PartMeta* meta);
  Status WritePrimaryIndex(PartMeta* meta);
  // Appends frames_ to the file once it holds kFlushBytes (or always when `force`).
  Status FlushFrames(env::WritableFile* file, bool force);

  env::Env* const env_;
  const std::string dir_;
  const types::Block& block_;
  const PartWriteOptions& options_;
  GranuleEncoder encoder_;
  std::string payload_;  // uncompressed payload of the current granule
  std::string frames_;   // compressed frames not yet appended to the file
};

Status PartFileWriter::FlushFrames(env::WritableFile* file, bool force) {
  if (frames_.empty() || (!force && frames_.size() < kFlushBytes)) return Status::OK();
  Status s = file->Append(frames_);
  frames_.clear();
  return s;
}

Status PartFileWriter::WriteColumn(const types::NamedColumn& nc, PartMeta* meta) {
  const Column& column = *nc.column;
  const size_t rows = column.size();
  const size_t granularity = options_.granularity;
  std::optional<PartDictionary> dict;
  if (column.type()->id() == TypeId::kLowCardinality) {
    dict = BuildPartDictionary(static_cast<const ColumnLowCardinality&>(column));
  }
  const PartDictionary* d = dict ? &*dict : nullptr;
  Transform transform;
  auto forced = options_.transforms.find(nc.name);
  if (forced != options_.transforms.end()) {
    transform = HasIntegerStream(*column.type()) ? forced->second : Transform::kPlain;
  } else {
    transform = encoder_.ChooseTransform(column, granularity, d);
  }

  const std::string path = env::JoinPath(dir_, ColumnDataFileName(nc.name));
  TH_ASSIGN_OR_RETURN(std::unique_ptr<env::WritableFile> file, env_->NewWritableFile(path));
  const size_t granules = (rows + granularity - 1) / granularity;
  std::vector<uint64_t> marks;
  marks.reserve(granules + 1);
  uint64_t offset = 0;
  frames_.clear();
  if (d != nullptr) {
    payload_.clear();
    EncodeDictionary(d->values, &payload_);
    TH_RETURN_IF_ERROR(Compress(options_.codec, payload_, &frames_, options_.compression_level));
  }
  for (size_t g = 0; g < granules; ++g) {
    marks.push_back(offset + frames_.size());
    size_t begin = g * granularity;
    payload_.clear();
    encoder_.Encode(column, begin, std::min(granularity, rows - begin), transform, d, &payload_);
    TH_RETURN_IF_ERROR(Compress(options_.codec, payload_, &frames_, options_.compression_level));
    if (frames_.size() >= kFlushBytes) {
      offset += frames_.size();
      TH_RETURN_IF_ERROR(FlushFrames(file.get(), true));
    }
  }
  offset += frames_.size();
  marks.push_back(offset);
  TH_RETURN_IF_ERROR(FlushFrames(file.get(), true));
  TH_RETURN_IF_ERROR(file->Sync());
  TH_RETURN_IF_ERROR(file->Close());

  std::string body;
  PutFixed64(&body, marks.size());
  for (uint64_t m : marks) PutFixed64(&body, m);
  std::string marks_file;
  AppendEnvelope(kMarksMagic, body, &marks_file);
  TH_RETURN_IF_ERROR(
      env_->WriteStringToFileSync(env::JoinPath(dir_, ColumnMarksFileName(nc.name)), marks_file));

  meta->columns.emplace_back(nc.name, nc.type->name());
  meta->column_bytes[nc.name] = offset;
  meta->column_transforms[nc.name] = transform;
  const bool is_key = std::find(options_.sort_key.begin(), options_.sort_key.end(), nc.name) !=
                      options_.sort_key.end();
  const bool asked = std::find(options_.minmax_columns.begin(), options_.minmax_columns.end(),
                               nc.name) != options_.minmax_columns.end();
  MinMax mm = ComputeMinMax(column, d, is_key || asked);
  if (mm) meta->column_minmax[nc.name] = std::move(*mm);
  return Status::OK();
}

Status PartFileWriter::WritePrimaryIndex(PartMeta* meta) {
  const size_t rows = block_.rows();
  const size_t granularity = options_.granularity;
  types::Permutation boundary;
  for (size_t r = 0; r < rows; r += granularity) {
    boundary.push_back(static_cast<uint32_t>(r));
    boundary.push_back(static_cast<uint32_t>(std::min(r + granularity, rows) - 1));
  }
  std::string body;
  PutVarint64(&body, boundary.size());
  PutVarint64(&body, options_.sort_key.size());
  std::string data;
  for (const auto& name : options_.sort_key) {
    const types::NamedColumn* nc = block_.Get(name);
    types::ColumnPtr col;
    if (nc->type->id() == TypeId::kLowCardinality) {
      // Permute would copy the whole dictionary; the index needs only the boundary values.
      const auto& src = static_cast<const ColumnLowCardinality&>(*nc->column);
      auto lc = std::make_shared<ColumnLowCardinality>(nc->type);
      for (uint32_t r : boundary) lc->Append(src.View(r));
      col = std::move(lc);
    } else {
      col = nc->column->Permute(boundary);
    }
    data.clear();
    col->Serialize(&data);
    PutLengthPrefixed(&body, name);
    PutLengthPrefixed(&body, nc->type->name());
    PutLengthPrefixed(&body, data);
  }
  std::string file;
  AppendEnvelope(kIndexMagic, body, &file);
  meta->primary_index_bytes = file.size();
  return env_->WriteStringToFileSync(env::JoinPath(dir_, std::string(kPrimaryIndexFileName)), file);
}

Status PartFileWriter::Run(PartMeta* meta) {
  meta->format_version = kPartFormatVersion;
  meta->partition_id = options_.partition_id;
  meta->rows = block_.rows();
  meta->granularity = options_.granularity;
  meta->min_block = options_.min_block;
  meta->max_block = options_.max_block;
  meta->level = options_.level;
  meta->sort_key = options_.sort_key;
  meta->ttl_min = options_.ttl_min;
  meta->ttl_max = options_.ttl_max;
  meta->codec = options_.codec;
  for (const auto& nc : block_.columns()) TH_RETURN_IF_ERROR(WriteColumn(nc, meta));
  for (const auto& name : options_.sort_key) {
    auto it = meta->column_minmax.find(name);
    meta->key_minmax.push_back(it != meta->column_minmax.end() ? it->second
                                                               : std::make_pair(Value(), Value()));
  }
  TH_RETURN_IF_ERROR(WritePrimaryIndex(meta));
  return env_->WriteStringToFileSync(env::JoinPath(dir_, std::string(kMetaFileName)),
                                     EncodePartMeta(*meta));
}

Status Validate(const types::Block& block, const PartWriteOptions& options) {
  TH_RETURN_IF_ERROR(block.Validate());
  if (block.empty()) return Status::InvalidArgument("cannot write a part with no rows");
  if (block.rows() > UINT32_MAX) {
    return Status::InvalidArgument(
        fmt::format("a part holds at most {} rows, the block has {}", UINT32_MAX, block.rows()));
  }
  if (options.granularity == 0 || options.granularity > (1u << 30)) {
    return Status::InvalidArgument(
        fmt::format("index granularity {} is out of range", options.granularity));
  }
  if (options.codec > Codec::kZSTD) return Status::InvalidArgument("unknown codec");
  std::set<std::string_view> names;
  for (const auto& c : block.columns()) {
    if (!names.insert(c.name).second) {
      return Status::InvalidArgument(fmt::format("duplicate column {} in block", c.name),
                                     ch::kDuplicateColumn);
    }
  }
  std::vector<const Column*> key;
  for (const auto& k : options.sort_key) {
    const types::NamedColumn* nc = block.Get(k);
    if (nc == nullptr) {
      return Status::InvalidArgument(fmt::format("sort key column {} is not in the block", k),
                                     ch::kThereIsNoColumn);
    }
    key.push_back(nc->column.get());
  }
  if (options.verify_sorted) TH_RETURN_IF_ERROR(CheckSorted(block, key));
  return Status::OK();
}

}  // namespace

Result<PartMeta> WritePart(env::Env* env, const std::string& dir_final,
                           const types::Block& sorted_block, const PartWriteOptions& options) {
  TH_RETURN_IF_ERROR(Validate(sorted_block, options));
  if (env->FileExists(dir_final)) {
    return Status::AlreadyExists(fmt::format("part directory {} already exists", dir_final));
  }
  const std::string tmp = TempPartDir(dir_final);
  const std::string parent = env::DirName(dir_final);
  PartMeta meta;
  Status s = env->RemoveDirRecursively(tmp);
  if (s.ok()) s = env->CreateDir(tmp);
  if (s.ok()) s = PartFileWriter(env, tmp, sorted_block, options).Run(&meta);
  if (s.ok()) s = env->SyncDir(tmp);
  if (s.ok()) s = env->RenameFile(tmp, dir_final);
  if (s.ok()) {
    s = env->SyncDir(parent);
    if (!s.ok()) {
      // Not durably published: take it back so that the caller's view (failed) holds.
      env->RemoveDirRecursively(dir_final).IgnoreError();
    }
  }
  if (!s.ok()) {
    WriteErrors().Add();
    env->RemoveDirRecursively(tmp).IgnoreError();
    return s.WithContext(fmt::format("writing part {}", dir_final));
  }
  return meta;
}

}  // namespace trackhouse::engine
