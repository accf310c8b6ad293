#include "engine/catalog.h"

#include <fmt/format.h>

#include "common/crc32c.h"

namespace trackhouse::engine {

std::string EscapeName(std::string_view name) {
  std::string out;
  for (unsigned char c : name) {
    if (std::isalnum(c) || c == '_' || c == '-') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string UnescapeName(std::string_view name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '%' && i + 2 < name.size()) {
      out.push_back(static_cast<char>(std::stoi(std::string(name.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(name[i]);
    }
  }
  return out;
}

Status WriteTableFile(env::Env* env, const std::string& metadata_dir, const TableFile& f) {
  std::string dir = env::JoinPath(metadata_dir, EscapeName(f.database));
  std::string path = env::JoinPath(dir, EscapeName(f.table) + ".sql");
  std::string body = f.create_sql + "\n";
  std::string data = fmt::format("-- trackhouse table v1 id={:016x} crc={:08x}\n", f.id,
                                 crc32c::Mask(crc32c::Value(body))) +
                     body;
  TH_RETURN_IF_ERROR(env->WriteStringToFileSync(path + ".tmp", data));
  TH_RETURN_IF_ERROR(env->RenameFile(path + ".tmp", path));
  return env->SyncDir(dir);
}

Result<TableFile> ReadTableFile(env::Env* env, const std::string& path) {
  std::string data;
  TH_RETURN_IF_ERROR(env->ReadFileToString(path, &data));
  size_t nl = data.find('\n');
  unsigned long long id = 0;
  unsigned int crc = 0;
  if (nl == std::string::npos ||
      std::sscanf(data.substr(0, nl).c_str(), "-- trackhouse table v1 id=%llx crc=%x", &id, &crc) !=
          2) {
    return Status::Corruption(
        fmt::format("{}: bad header line at offset 0 (file is {} bytes)", path, data.size()));
  }
  std::string body = data.substr(nl + 1);
  if (crc32c::Unmask(crc) != crc32c::Value(body)) {
    return Status::Corruption(
        fmt::format("{}: checksum mismatch over bytes {}..{}", path, nl + 1, data.size()));
  }
  TableFile f;
  f.id = id;
  while (!body.empty() && body.back() == '\n') body.pop_back();
  f.create_sql = std::move(body);
  return f;
}

Status RemoveTableFile(env::Env* env, const std::string& metadata_dir, const std::string& db,
                       const std::string& table) {
  std::string dir = env::JoinPath(metadata_dir, EscapeName(db));
  TH_RETURN_IF_ERROR(env->RemoveFile(env::JoinPath(dir, EscapeName(table) + ".sql")));
  return env->SyncDir(dir);
}

}  // namespace trackhouse::engine
