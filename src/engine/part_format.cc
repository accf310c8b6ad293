#include "engine/part_format.h"

#include <fmt/format.h>

#include <bit>
#include <cstring>

#include "common/coding.h"
#include "common/crc32c.h"
#include "env/env.h"

namespace trackhouse::engine {
namespace {

uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

// Reads fields of part.meta, remembering where it is for error messages.
class MetaReader {
 public:
  MetaReader(std::string_view body, size_t body_offset, const std::string& path)
      : in_(body), size_(body.size()), base_(body_offset), path_(path) {}

  bool ok() const { return ok_; }
  size_t offset() const { return base_ + (size_ - in_.size()); }
  bool done() const { return in_.empty(); }
  size_t left() const { return in_.size(); }

  uint64_t Varint(const char* field) {
    uint64_t v = 0;
    if (ok_ && !GetVarint64(&in_, &v)) Fail(field);
    return v;
  }
  uint8_t Byte(const char* field) {
    if (!ok_) return 0;
    if (in_.empty()) {
      Fail(field);
      return 0;
    }
    uint8_t b = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return b;
  }
  std::string String(const char* field) {
    std::string_view s;
    if (ok_ && !GetLengthPrefixed(&in_, &s)) Fail(field);
    return std::string(s);
  }
  types::Value Value(const char* field) {
    types::Value v;
    if (ok_ && !GetValue(&in_, &v)) Fail(field);
    return v;
  }
  // Bounds a count read from the file by the bytes left (each element takes >= 1 byte).
  uint64_t Count(const char* field) {
    uint64_t n = Varint(field);
    if (ok_ && n > in_.size()) Fail(field);
    return ok_ ? n : 0;
  }
  void Fail(const char* field) {
    if (!ok_) return;
    ok_ = false;
    failure_ = Status::Corruption(fmt::format(
        "part meta {}: field '{}' at offset {} is malformed ({} bytes left of a {}-byte body)",
        path_, field, offset(), in_.size(), size_));
  }
  const Status& failure() const { return failure_; }

 private:
  std::string_view in_;
  size_t size_;
  size_t base_;
  const std::string& path_;
  bool ok_ = true;
  Status failure_;
};

}  // namespace

std::string EscapeColumnName(std::string_view name) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(name.size());
  for (char ch : name) {
    unsigned char c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string ColumnDataFileName(std::string_view column) {
  return EscapeColumnName(column) + std::string(kDataFileSuffix);
}

std::string ColumnMarksFileName(std::string_view column) {
  return EscapeColumnName(column) + std::string(kMarksFileSuffix);
}

std::string TempPartDir(std::string_view dir_final) {
  while (dir_final.size() > 1 && dir_final.back() == '/') dir_final.remove_suffix(1);
  size_t slash = dir_final.rfind('/');
  std::string_view base = slash == std::string_view::npos ? dir_final : dir_final.substr(slash + 1);
  std::string name = std::string(kTempPartPrefix) + std::string(base);
  if (slash == std::string_view::npos) return name;
  return env::JoinPath(dir_final.substr(0, slash == 0 ? 1 : slash), name);
}

std::string PartName(std::string_view partition_id, uint64_t min_block, uint64_t max_block,
                     uint32_t level) {
  return fmt::format("{}_{}_{}_{}", partition_id, min_block, max_block, level);
}

int PartMeta::FindColumn(std::string_view name) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].first == name) return static_cast<int>(i);
  }
  return -1;
}

void PutValue(std::string* out, const types::Value& v) {
  using Kind = types::Value::Kind;
  out->push_back(static_cast<char>(v.kind()));
  switch (v.kind()) {
    case Kind::kNull:
      break;
    case Kind::kInt:
      PutVarint64(out, ZigZag(v.int_value()));
      break;
    case Kind::kUInt:
      PutVarint64(out, v.uint_value());
      break;
    case Kind::kFloat:
      PutFixed64(out, std::bit_cast<uint64_t>(v.float_value()));
      break;
    case Kind::kString:
      PutLengthPrefixed(out, v.string_value());
      break;
    case Kind::kArray:
      PutVarint64(out, v.array_value().size());
      for (const types::Value& e : v.array_value()) PutValue(out, e);
      break;
  }
}

bool GetValue(std::string_view* in, types::Value* v) {
  using Kind = types::Value::Kind;
  if (in->empty()) return false;
  auto kind = static_cast<Kind>(static_cast<uint8_t>((*in)[0]));
  in->remove_prefix(1);
  uint64_t u;
  std::string_view s;
  switch (kind) {
    case Kind::kNull:
      *v = types::Value();
      return true;
    case Kind::kInt:
      if (!GetVarint64(in, &u)) return false;
      *v = types::Value::Int(UnZigZag(u));
      return true;
    case Kind::kUInt:
      if (!GetVarint64(in, &u)) return false;
      *v = types::Value::UInt(u);
      return true;
    case Kind::kFloat:
      if (!GetFixed64(in, &u)) return false;
      *v = types::Value::Float(std::bit_cast<double>(u));
      return true;
    case Kind::kString:
      if (!GetLengthPrefixed(in, &s)) return false;
      *v = types::Value::String(std::string(s));
      return true;
    case Kind::kArray: {
      // Each element takes at least its kind byte.
      if (!GetVarint64(in, &u) || u > in->size()) return false;
      std::vector<types::Value> elements(u);
      for (auto& e : elements) {
        if (!GetValue(in, &e)) return false;
      }
      *v = types::Value::Array(std::move(elements));
      return true;
    }
  }
  return false;
}

void AppendEnvelope(uint32_t magic, std::string_view body, std::string* out) {
  size_t base = out->size();
  PutFixed32(out, magic);
  PutFixed32(out, kPartFormatVersion);
  PutFixed64(out, body.size());
  out->append(body);
  uint32_t crc = crc32c::Value(out->data() + base, out->size() - base);
  PutFixed32(out, crc32c::Mask(crc));
}

Result<std::string_view> OpenEnvelope(std::string_view data, uint32_t magic,
                                      const std::string& path) {
  const size_t overhead = kEnvelopeHeaderSize + kEnvelopeTrailerSize;
  if (data.size() < overhead) {
    return Status::Corruption(
        fmt::format("{}: file is truncated: {} bytes, the header and "
                    "checksum alone take {}",
                    path, data.size(), overhead));
  }
  uint32_t got_magic = DecodeFixed32(data.data());
  if (got_magic != magic) {
    return Status::Corruption(fmt::format("{}: bad magic at offset 0: {:#010x}, expected {:#010x}",
                                          path, got_magic, magic));
  }
  uint64_t body = DecodeFixed64(data.data() + 8);
  if (body != data.size() - overhead) {
    return Status::Corruption(fmt::format(
        "{}: size mismatch: header at offset 8 says a {}-byte body ({} bytes in all), the file "
        "has {} bytes",
        path, body, body + overhead, data.size()));
  }
  size_t crc_at = data.size() - kEnvelopeTrailerSize;
  uint32_t stored = DecodeFixed32(data.data() + crc_at);
  uint32_t actual = crc32c::Mask(crc32c::Value(data.data(), crc_at));
  if (stored != actual) {
    return Status::Corruption(fmt::format(
        "{}: checksum mismatch at offset {}: stored {:#010x}, computed {:#010x} over {} bytes",
        path, crc_at, stored, actual, crc_at));
  }
  uint32_t version = DecodeFixed32(data.data() + 4);
  if (version == 0 || version > kPartFormatVersion) {
    return Status::NotSupported(fmt::format(
        "{}: part format version {} (at offset 4) is not supported; this build reads 1..{}", path,
        version, kPartFormatVersion));
  }
  return data.substr(kEnvelopeHeaderSize, body);
}

std::string EncodePartMeta(const PartMeta& m) {
  std::string b;
  PutLengthPrefixed(&b, m.partition_id);
  PutVarint64(&b, m.rows);
  PutVarint64(&b, m.granularity);
  PutVarint64(&b, m.min_block);
  PutVarint64(&b, m.max_block);
  PutVarint64(&b, m.level);
  b.push_back(static_cast<char>(m.codec));
  PutVarint64(&b, m.columns.size());
  for (const auto& [name, type] : m.columns) {
    PutLengthPrefixed(&b, name);
    PutLengthPrefixed(&b, type);
    auto t = m.column_transforms.find(name);
    b.push_back(static_cast<char>(t == m.column_transforms.end() ? Transform::kPlain : t->second));
    auto bytes = m.column_bytes.find(name);
    PutVarint64(&b, bytes == m.column_bytes.end() ? 0 : bytes->second);
  }
  PutVarint64(&b, m.sort_key.size());
  for (size_t i = 0; i < m.sort_key.size(); ++i) {
    PutLengthPrefixed(&b, m.sort_key[i]);
    types::Value none;
    PutValue(&b, i < m.key_minmax.size() ? m.key_minmax[i].first : none);
    PutValue(&b, i < m.key_minmax.size() ? m.key_minmax[i].second : none);
  }
  PutVarint64(&b, m.column_minmax.size());
  for (const auto& [name, mm] : m.column_minmax) {
    PutLengthPrefixed(&b, name);
    PutValue(&b, mm.first);
    PutValue(&b, mm.second);
  }
  PutVarint64(&b, ZigZag(m.ttl_min));
  PutVarint64(&b, ZigZag(m.ttl_max));
  PutVarint64(&b, m.primary_index_bytes);
  std::string out;
  AppendEnvelope(kMetaMagic, b, &out);
  return out;
}

Result<PartMeta> DecodePartMeta(std::string_view data, const std::string& path) {
  TH_ASSIGN_OR_RETURN(std::string_view body, OpenEnvelope(data, kMetaMagic, path));
  PartMeta m;
  m.format_version = DecodeFixed32(data.data() + 4);
  MetaReader r(body, kEnvelopeHeaderSize, path);
  m.partition_id = r.String("partition_id");
  m.rows = r.Varint("rows");
  uint64_t granularity = r.Varint("granularity");
  if (r.ok() && (granularity == 0 || granularity > (1u << 30))) r.Fail("granularity");
  m.granularity = static_cast<uint32_t>(granularity);
  m.min_block = r.Varint("min_block");
  m.max_block = r.Varint("max_block");
  m.level = static_cast<uint32_t>(r.Varint("level"));
  uint8_t codec = r.Byte("codec");
  if (r.ok() && codec > static_cast<uint8_t>(Codec::kZSTD)) r.Fail("codec");
  m.codec = static_cast<Codec>(codec);
  uint64_t ncols = r.Count("column count");
  for (uint64_t i = 0; i < ncols && r.ok(); ++i) {
    std::string name = r.String("column name");
    std::string type = r.String("column type");
    uint8_t t = r.Byte("column transform");
    if (r.ok() && !IsValidTransform(t)) r.Fail("column transform");
    uint64_t bytes = r.Varint("column bytes");
    if (!r.ok()) break;
    if (m.column_bytes.count(name) != 0) r.Fail("column name (duplicate)");
    m.column_transforms[name] = static_cast<Transform>(t);
    m.column_bytes[name] = bytes;
    m.columns.emplace_back(std::move(name), std::move(type));
  }
  uint64_t nkey = r.Count("sort key size");
  for (uint64_t i = 0; i < nkey && r.ok(); ++i) {
    m.sort_key.push_back(r.String("sort key column"));
    types::Value lo = r.Value("sort key min");
    types::Value hi = r.Value("sort key max");
    m.key_minmax.emplace_back(std::move(lo), std::move(hi));
  }
  uint64_t nmm = r.Count("min/max count");
  for (uint64_t i = 0; i < nmm && r.ok(); ++i) {
    std::string name = r.String("min/max column");
    types::Value lo = r.Value("min/max min");
    types::Value hi = r.Value("min/max max");
    m.column_minmax[name] = {std::move(lo), std::move(hi)};
  }
  m.ttl_min = UnZigZag(r.Varint("ttl_min"));
  m.ttl_max = UnZigZag(r.Varint("ttl_max"));
  m.primary_index_bytes = r.Varint("primary_index_bytes");
  if (!r.ok()) return r.failure();
  if (!r.done()) {
    return Status::Corruption(
        fmt::format("part meta {}: {} unexpected bytes at offset {}", path, r.left(), r.offset()));
  }
  for (const auto& k : m.sort_key) {
    if (m.FindColumn(k) < 0) {
      return Status::Corruption(
          fmt::format("part meta {}: sort key column '{}' is not a column of the part", path, k));
    }
  }
  return m;
}

}  // namespace trackhouse::engine
