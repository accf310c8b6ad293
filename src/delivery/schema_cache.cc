#include "delivery/schema_cache.h"

#include <fmt/format.h>

#include "common/coding.h"
#include "common/crc32c.h"
#include "delivery/codec.h"
#include "types/data_type.h"

namespace trackhouse::delivery {
namespace {

constexpr std::string_view kMagic = "THSCHEM1";
constexpr uint32_t kVersion = 1;

using codec::GetString;

bool GetBool(std::string_view* in, bool* b) {
  uint8_t v = 0;
  if (!codec::GetU8(in, &v)) return false;
  *b = v != 0;
  return true;
}

void PutTable(const clickhouse::RemoteTable& t, std::string* out) {
  const storage::TableSchema& s = t.schema;
  for (const std::string* f :
       {&s.database, &s.name, &s.engine, &s.buffer_database, &s.buffer_table, &s.create_sql}) {
    PutLengthPrefixed(out, *f);
  }
  PutVarint64(out, s.columns.size());
  for (const auto& c : s.columns) {
    PutLengthPrefixed(out, c.name);
    PutLengthPrefixed(out, c.type->name());
    out->push_back(static_cast<char>(c.default_kind));
    PutLengthPrefixed(out, c.default_expr);
  }
  const clickhouse::EngineInfo& e = t.engine;
  for (const std::string* f :
       {&e.name, &e.full, &e.partition_key, &e.sorting_key, &e.buffer_database, &e.buffer_table,
        &e.cluster, &e.remote_database, &e.remote_table, &e.sharding_key}) {
    PutLengthPrefixed(out, *f);
  }
  for (bool b : {e.replicated, e.buffer, e.distributed}) out->push_back(b ? 1 : 0);
}

Status GetTable(std::string_view* in, clickhouse::RemoteTable* t, std::string_view source) {
  auto bad = [&](std::string_view what) {
    return Status::Corruption(fmt::format("{}: schema cache entry is damaged: {}", source, what));
  };
  storage::TableSchema& s = t->schema;
  for (std::string* f :
       {&s.database, &s.name, &s.engine, &s.buffer_database, &s.buffer_table, &s.create_sql}) {
    if (!GetString(in, f)) return bad("table fields cut short");
  }
  uint64_t n = 0;
  if (!GetVarint64(in, &n) || n > in->size()) return bad("column count");
  for (uint64_t i = 0; i < n; ++i) {
    storage::ColumnDef c;
    std::string type;
    if (!GetString(in, &c.name) || !GetString(in, &type) || in->empty()) {
      return bad("column cut short");
    }
    const uint8_t kind = static_cast<uint8_t>((*in)[0]);
    in->remove_prefix(1);
    if (kind > static_cast<uint8_t>(storage::DefaultKind::kEphemeral) ||
        !GetString(in, &c.default_expr)) {
      return bad("column default");
    }
    c.default_kind = static_cast<storage::DefaultKind>(kind);
    auto parsed = types::ParseDataType(type);
    if (!parsed.ok()) return bad(fmt::format("column {}: {}", c.name, parsed.status().message()));
    c.type = std::move(parsed).value();
    s.columns.push_back(std::move(c));
  }
  clickhouse::EngineInfo& e = t->engine;
  for (std::string* f :
       {&e.name, &e.full, &e.partition_key, &e.sorting_key, &e.buffer_database, &e.buffer_table,
        &e.cluster, &e.remote_database, &e.remote_table, &e.sharding_key}) {
    if (!GetString(in, f)) return bad("engine fields cut short");
  }
  if (!GetBool(in, &e.replicated) || !GetBool(in, &e.buffer) || !GetBool(in, &e.distributed)) {
    return bad("engine flags cut short");
  }
  return Status::OK();
}

}  // namespace

void EncodeRemoteDefinition(const RemoteDefinition& def, std::string* out) {
  PutTable(def.table, out);
  out->push_back(def.dest ? 1 : 0);
  if (def.dest) PutTable(*def.dest, out);
  PutVarint64(out, def.shard_weights.size());
  for (uint64_t w : def.shard_weights) PutVarint64(out, w);
}

Result<RemoteDefinition> DecodeRemoteDefinition(std::string_view data, std::string_view source) {
  RemoteDefinition def;
  std::string_view in = data;
  TH_RETURN_IF_ERROR(GetTable(&in, &def.table, source));
  bool has_dest = false;
  if (!GetBool(&in, &has_dest)) {
    return Status::Corruption(fmt::format("{}: schema cache entry is cut short", source));
  }
  if (has_dest) {
    def.dest.emplace();
    TH_RETURN_IF_ERROR(GetTable(&in, &*def.dest, source));
  }
  uint64_t n = 0;
  if (!GetVarint64(&in, &n) || n > in.size()) {
    return Status::Corruption(fmt::format("{}: schema cache shard weights", source));
  }
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t w = 0;
    if (!GetVarint64(&in, &w)) {
      return Status::Corruption(fmt::format("{}: schema cache shard weights", source));
    }
    def.shard_weights.push_back(w);
  }
  if (!in.empty()) {
    return Status::Corruption(
        fmt::format("{}: {} bytes after a schema cache entry", source, in.size()));
  }
  return def;
}

std::string EncodeSchemaFile(const std::vector<std::string>& definitions) {
  std::string out(kMagic);
  PutFixed32(&out, kVersion);
  PutVarint64(&out, definitions.size());
  for (const auto& d : definitions) PutLengthPrefixed(&out, d);
  PutFixed32(&out, crc32c::Value(out.data(), out.size()));
  return out;
}

Result<std::vector<std::string>> DecodeSchemaFile(std::string_view data, std::string_view path) {
  auto bad = [&](std::string_view what) {
    return Status::Corruption(fmt::format("schema cache {} is damaged: {}", path, what));
  };
  if (data.size() < kMagic.size() + 8 || data.substr(0, kMagic.size()) != kMagic) {
    return bad("no THSCHEM1 magic");
  }
  if (crc32c::Value(data.data(), data.size() - 4) != DecodeFixed32(data.data() + data.size() - 4)) {
    return bad("checksum mismatch");
  }
  std::string_view in = data.substr(kMagic.size(), data.size() - kMagic.size() - 4);
  uint32_t version = 0;
  uint64_t n = 0;
  if (!GetFixed32(&in, &version) || version != kVersion) return bad("unknown version");
  if (!GetVarint64(&in, &n) || n > in.size()) return bad("entry count");
  std::vector<std::string> out;
  for (uint64_t i = 0; i < n; ++i) {
    std::string entry;
    if (!GetString(&in, &entry)) return bad("entry cut short");
    out.push_back(std::move(entry));
  }
  if (!in.empty()) return bad("bytes after the last entry");
  return out;
}

}  // namespace trackhouse::delivery
