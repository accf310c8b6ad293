#include "env/env.h"

#include <cerrno>
#include <limits>
#include <system_error>

#include "common/metrics.h"
#include "env/io_error.h"

namespace trackhouse::env {

WritableFile::~WritableFile() = default;
RandomAccessFile::~RandomAccessFile() = default;
FileLock::~FileLock() = default;
Env::~Env() = default;

Result<uint64_t> Env::FreeBytes(const std::string& path) {
  return std::numeric_limits<uint64_t>::max();
}

Status ErrnoStatus(std::string_view op, std::string_view path, int err) {
  std::string msg;
  msg.reserve(op.size() + path.size() + 40);
  msg.append(op).append(" ").append(path).append(": ");
  msg.append(std::generic_category().message(err));
  if (err == ENOENT) return Status::NotFound(std::move(msg), ch::kFileDoesntExist);
  static metrics::Counter& io_errors = metrics::GetCounter(
      "trackhouse_env_io_errors_total", "File-system operations that failed (except not-found)");
  io_errors.Add();
  if (err == ENOSPC || err == EDQUOT) {
    return Status::ResourceExhausted(std::move(msg), ch::kNotEnoughSpace);
  }
  int code = ch::kCannotWriteToFile;
  if (op == "open" || op == "opendir") code = ch::kCannotOpenFile;
  if (op == "fsync" || op == "fdatasync") code = ch::kCannotFsync;
  return Status::IOError(std::move(msg), code);
}

std::string JoinPath(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  if (b.empty()) return std::string(a);
  while (a.size() > 1 && a.back() == '/') a.remove_suffix(1);
  while (!b.empty() && b.front() == '/') b.remove_prefix(1);
  std::string out(a);
  if (out.back() != '/') out.push_back('/');
  out.append(b);
  return out;
}

std::string DirName(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

Status CreateDirsDurably(Env* env, const std::string& path) {
  std::vector<std::string> missing;  // deepest first
  for (std::string p = path; p != "/" && p != "." && !env->IsDirectory(p); p = DirName(p)) {
    missing.push_back(p);
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    TH_RETURN_IF_ERROR(env->CreateDir(*it));
    TH_RETURN_IF_ERROR(env->SyncDir(DirName(*it)));
  }
  return Status::OK();
}

}  // namespace trackhouse::env
