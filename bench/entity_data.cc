#include "bench/entity_data.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

#include "types/column.h"
#include "types/datetime.h"

namespace trackhouse::bench {
namespace {

constexpr uint32_t kMaxEntityId = 1000000;
constexpr uint32_t kMaxUserId = 5000000;
constexpr double kZipfExponent = 1.1;

// A categorical distribution: values with weights in percent (summing to 100).
struct Category {
  const char* value;
  uint32_t percent;
};
constexpr Category kEntityTypes[] = {{"Model", 60},  {"Image", 25},     {"Post", 7},
                                     {"Article", 4}, {"Collection", 3}, {"Comment", 1}};
constexpr Category kMetricTypes[] = {{"View", 80},   {"Download", 10}, {"Like", 5},
                                     {"Dislike", 2}, {"Comment", 2},   {"Share", 1}};

template <size_t N>
uint32_t PickCategory(const Category (&cats)[N], uint64_t percentile) {
  uint32_t acc = 0;
  for (size_t i = 0; i < N; ++i) {
    acc += cats[i].percent;
    if (percentile < acc) return static_cast<uint32_t>(i);
  }
  return N - 1;
}

template <size_t N>
types::ColumnPtr NewCategoryColumn(const Category (&cats)[N], size_t rows) {
  auto col = std::make_shared<types::ColumnLowCardinality>(types::DataType::LowCardinalityString());
  // Intern in declaration order so that dictionary index == category index.
  for (const auto& c : cats) col->Intern(c.value);
  col->Reserve(rows);
  return col;
}

class File {
 public:
  static Result<std::unique_ptr<File>> Create(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) {
      return Status::IOError(fmt::format("cannot create {}: {}", path, std::strerror(errno)));
    }
    return std::unique_ptr<File>(new File(path, f));
  }
  ~File() {
    if (f_ != nullptr) std::fclose(f_);
  }
  Status Write(const std::string& data) {
    if (std::fwrite(data.data(), 1, data.size(), f_) != data.size()) {
      return Status::IOError(fmt::format("write to {} failed: {}", path_, std::strerror(errno)));
    }
    return Status::OK();
  }
  Status Close() {
    int rc = std::fclose(f_);
    f_ = nullptr;
    if (rc != 0) {
      return Status::IOError(fmt::format("close of {} failed: {}", path_, std::strerror(errno)));
    }
    return Status::OK();
  }

 private:
  File(std::string path, std::FILE* f) : path_(std::move(path)), f_(f) {}
  std::string path_;
  std::FILE* f_;
};

// The createdAt value of `row` in seconds, whichever type the column has.
int64_t CreatedAtSeconds(const types::Column& col, size_t row) {
  if (col.type()->id() == types::TypeId::kDateTime) {
    return static_cast<const types::ColumnVector<uint32_t>&>(col).data()[row];
  }
  int64_t ticks = static_cast<const types::ColumnVector<int64_t>&>(col).data()[row];
  int64_t scale = types::Pow10(col.type()->precision());
  return ticks >= 0 ? ticks / scale : -((-ticks + scale - 1) / scale);
}

struct Columns {
  const types::ColumnLowCardinality* entity_type;
  const std::vector<int32_t>* entity_id;
  const std::vector<int32_t>* user_id;
  const types::ColumnLowCardinality* metric_type;
  const std::vector<int32_t>* metric_value;
  const types::Column* created_at;
};

Columns ColumnsOf(const types::Block& b) {
  auto ints = [&](size_t i) {
    return &static_cast<const types::ColumnVector<int32_t>&>(*b.at(i).column).data();
  };
  return Columns{static_cast<const types::ColumnLowCardinality*>(b.at(0).column.get()),
                 ints(1),
                 ints(2),
                 static_cast<const types::ColumnLowCardinality*>(b.at(3).column.get()),
                 ints(4),
                 b.at(5).column.get()};
}

void PutLe32(std::string* out, uint32_t v) {
  char buf[4];
  for (int i = 0; i < 4; ++i) buf[i] = static_cast<char>(v >> (8 * i));
  out->append(buf, 4);
}

}  // namespace

std::string EntityTableDdl(const std::string& table, bool datetime) {
  return fmt::format(
      "CREATE TABLE {} (entityType LowCardinality(String), entityId Int32, userId Int32, "
      "metricType LowCardinality(String), metricValue Int32, createdAt {}) "
      "ENGINE = MergeTree() ORDER BY (entityType, entityId, createdAt)",
      table, datetime ? "DateTime" : "DateTime64(3)");
}

EntityDataGenerator::EntityDataGenerator(const EntityDataOptions& options)
    : options_(options), state_(options.seed) {
  std::vector<double> weights(kMaxEntityId);
  double total = 0;
  for (uint32_t k = 1; k <= kMaxEntityId; ++k) {
    weights[k - 1] = std::pow(static_cast<double>(k), -kZipfExponent);
    total += weights[k - 1];
  }
  zipf_cdf_.resize(kMaxEntityId);
  double acc = 0;
  for (uint32_t k = 0; k < kMaxEntityId; ++k) {
    acc += weights[k];
    zipf_cdf_[k] = static_cast<uint64_t>(acc / total * 9007199254740992.0);  // 2^53
  }
  zipf_cdf_.back() = 1ULL << 53;
}

uint64_t EntityDataGenerator::NextRandom() {
  // splitmix64
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

uint64_t EntityDataGenerator::Below(uint64_t n) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(NextRandom()) * n) >> 64);
}

types::Block EntityDataGenerator::NextBlock(size_t rows) {
  auto entity_type = NewCategoryColumn(kEntityTypes, rows);
  auto metric_type = NewCategoryColumn(kMetricTypes, rows);
  types::DataTypePtr int32 = types::DataType::Get(types::TypeId::kInt32);
  auto entity_id = std::make_shared<types::ColumnVector<int32_t>>(int32);
  auto user_id = std::make_shared<types::ColumnVector<int32_t>>(int32);
  auto metric_value = std::make_shared<types::ColumnVector<int32_t>>(int32);
  types::DataTypePtr time_type = options_.datetime ? types::DataType::Get(types::TypeId::kDateTime)
                                                   : types::DataType::DateTime64(3);
  auto created32 = std::make_shared<types::ColumnVector<uint32_t>>(time_type);
  auto created64 = std::make_shared<types::ColumnVector<int64_t>>(time_type);

  auto& et = static_cast<types::ColumnLowCardinality&>(*entity_type).indices();
  auto& mt = static_cast<types::ColumnLowCardinality&>(*metric_type).indices();
  auto& eid = entity_id->data();
  auto& uid = user_id->data();
  auto& mv = metric_value->data();
  eid.reserve(rows);
  uid.reserve(rows);
  mv.reserve(rows);
  if (options_.datetime) {
    created32->data().reserve(rows);
  } else {
    created64->data().reserve(rows);
  }
  const int64_t start_ms = (kEntityTimeEndSeconds - options_.span_seconds) * 1000;
  for (size_t i = 0; i < rows; ++i) {
    et.push_back(PickCategory(kEntityTypes, Below(100)));
    uint64_t u = NextRandom() >> 11;
    auto it = std::upper_bound(zipf_cdf_.begin(), zipf_cdf_.end(), u);
    eid.push_back(static_cast<int32_t>(it - zipf_cdf_.begin()) + 1);
    uid.push_back(static_cast<int32_t>(Below(kMaxUserId)) + 1);
    mt.push_back(PickCategory(kMetricTypes, Below(100)));
    mv.push_back(Below(100) < 95 ? 1 : static_cast<int32_t>(Below(9)) + 2);
    int64_t ms = start_ms + static_cast<int64_t>(Below(options_.span_seconds * 1000));
    if (options_.datetime) {
      created32->data().push_back(static_cast<uint32_t>(ms / 1000));
    } else {
      created64->data().push_back(ms);
    }
  }
  types::Block block;
  block.Add("entityType", types::DataType::LowCardinalityString(), std::move(entity_type));
  block.Add("entityId", int32, std::move(entity_id));
  block.Add("userId", int32, std::move(user_id));
  block.Add("metricType", types::DataType::LowCardinalityString(), std::move(metric_type));
  block.Add("metricValue", int32, std::move(metric_value));
  if (options_.datetime) {
    block.Add("createdAt", time_type, std::move(created32));
  } else {
    block.Add("createdAt", time_type, std::move(created64));
  }
  return block;
}

std::vector<types::Block> GenerateEntityBlocks(const EntityDataOptions& options, uint64_t rows,
                                               size_t block_rows) {
  EntityDataGenerator gen(options);
  std::vector<types::Block> blocks;
  blocks.reserve(static_cast<size_t>((rows + block_rows - 1) / block_rows));
  for (uint64_t done = 0; done < rows;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(block_rows, rows - done));
    blocks.push_back(gen.NextBlock(n));
    done += n;
  }
  return blocks;
}

Status WriteJsonEachRow(const std::vector<types::Block>& blocks, const std::string& path) {
  TH_ASSIGN_OR_RETURN(std::unique_ptr<File> file, File::Create(path));
  std::string buf;
  for (const auto& b : blocks) {
    Columns c = ColumnsOf(b);
    buf.clear();
    for (size_t i = 0; i < b.rows(); ++i) {
      fmt::format_to(std::back_inserter(buf),
                     "{{\"entityType\":\"{}\",\"entityId\":{},\"userId\":{},\"metricType\":\"{}\","
                     "\"metricValue\":{},\"createdAt\":\"{}\"}}\n",
                     c.entity_type->View(i), (*c.entity_id)[i], (*c.user_id)[i],
                     c.metric_type->View(i), (*c.metric_value)[i],
                     types::FormatDateTime(CreatedAtSeconds(*c.created_at, i)));
    }
    TH_RETURN_IF_ERROR(file->Write(buf));
  }
  return file->Close();
}

Status WriteRowBinary(const std::vector<types::Block>& blocks, const std::string& path) {
  TH_ASSIGN_OR_RETURN(std::unique_ptr<File> file, File::Create(path));
  std::string buf;
  auto put_string = [&buf](std::string_view s) {
    buf.push_back(static_cast<char>(s.size()));  // every value is shorter than 128 bytes
    buf.append(s);
  };
  for (const auto& b : blocks) {
    Columns c = ColumnsOf(b);
    buf.clear();
    for (size_t i = 0; i < b.rows(); ++i) {
      put_string(c.entity_type->View(i));
      PutLe32(&buf, static_cast<uint32_t>((*c.entity_id)[i]));
      PutLe32(&buf, static_cast<uint32_t>((*c.user_id)[i]));
      put_string(c.metric_type->View(i));
      PutLe32(&buf, static_cast<uint32_t>((*c.metric_value)[i]));
      PutLe32(&buf, static_cast<uint32_t>(CreatedAtSeconds(*c.created_at, i)));
    }
    TH_RETURN_IF_ERROR(file->Write(buf));
  }
  return file->Close();
}

}  // namespace trackhouse::bench
