#include "delivery/deadletter.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/crc32c.h"
#include "formats/output_format.h"

namespace trackhouse::delivery {
namespace {

constexpr std::string_view kSuffix = ".thdl";

std::string SafeName(std::string_view s) {
  std::string out;
  for (char c : s) {
    out += (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-') ? c : '_';
  }
  return out;
}

uint32_t Fingerprint(const DeadLetter& letter) {
  std::string id = letter.database + '\n' + letter.table + '\n' + letter.partition + '\n';
  for (uint64_t lsn : letter.lsns) id += std::to_string(lsn) + ',';
  return crc32c::Value(id);
}

}  // namespace

std::string DeadLetterFileName(const DeadLetter& letter) {
  return fmt::format("{}.{}.{:020}.{:08x}{}", SafeName(letter.database), SafeName(letter.table),
                     letter.lsns.empty() ? 0 : letter.lsns.front(), Fingerprint(letter), kSuffix);
}

Result<std::string> WriteDeadLetter(env::Env* env, const std::string& dir,
                                    const DeadLetter& letter) {
  TH_RETURN_IF_ERROR(env->CreateDirs(dir));
  const std::string path = dir + "/" + DeadLetterFileName(letter);
  const std::string tmp = path + ".tmp";
  TH_RETURN_IF_ERROR(env->WriteStringToFileSync(tmp, EncodeDeadLetter(letter)));
  TH_RETURN_IF_ERROR(env->RenameFile(tmp, path));
  TH_RETURN_IF_ERROR(env->SyncDir(dir));
  return path;
}

Result<DeadLetterFile> ReadDeadLetter(env::Env* env, const std::string& path) {
  std::string data;
  TH_RETURN_IF_ERROR(env->ReadFileToString(path, &data));
  TH_ASSIGN_OR_RETURN(DeadLetter letter, DecodeDeadLetter(data, path));
  return DeadLetterFile{path, std::move(letter)};
}

Result<std::vector<DeadLetterFile>> ListDeadLetters(env::Env* env, const std::string& dir) {
  std::vector<DeadLetterFile> out;
  if (!env->FileExists(dir)) return out;
  TH_ASSIGN_OR_RETURN(std::vector<std::string> names, env->GetChildren(dir));
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    if (name.size() <= kSuffix.size() ||
        name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0) {
      continue;
    }
    TH_ASSIGN_OR_RETURN(DeadLetterFile f, ReadDeadLetter(env, dir + "/" + name));
    out.push_back(std::move(f));
  }
  return out;
}

Status ReplayDeadLetter(env::Env* env, clickhouse::Client& client,
                        const clickhouse::Capabilities& capabilities, const std::string& path) {
  TH_ASSIGN_OR_RETURN(DeadLetterFile f, ReadDeadLetter(env, path));
  const types::Block& block = f.letter.block;
  clickhouse::InsertTarget target;
  target.database = f.letter.database;
  target.table = f.letter.table;
  target.format = "TabSeparated";
  std::vector<types::DataTypePtr> types;
  for (const auto& c : block.columns()) {
    target.columns.push_back(c.name);
    types.push_back(c.type);
  }
  TH_ASSIGN_OR_RETURN(auto format, formats::MakeOutputFormat("TabSeparated", {}));
  std::string body;
  format->Begin(target.columns, types, &body);
  format->Write(block, &body);
  clickhouse::RequestOptions req;
  req.settings = capabilities.RequiredSettings();
  req.settings.emplace_back("max_insert_block_size",
                            std::to_string(std::max<uint64_t>(block.rows(), 1048576)));
  if (capabilities.insert_deduplication_token) {
    req.settings.emplace_back("insert_deduplication_token",
                              fmt::format("trackhouse-deadletter-{:08x}", Fingerprint(f.letter)));
  }
  Status s = client.Insert(target, body, req);
  if (!s.ok()) {
    return s.WithContext(fmt::format("replaying {} ({} rows into {}.{})", path, block.rows(),
                                     f.letter.database, f.letter.table));
  }
  TH_RETURN_IF_ERROR(env->RemoveFile(path));
  const size_t slash = path.rfind('/');
  return env->SyncDir(slash == std::string::npos ? "." : path.substr(0, slash));
}

}  // namespace trackhouse::delivery
