#include "env/fault_injection_env.h"

#include <algorithm>
#include <cerrno>
#include <limits>
#include <thread>

#include "env/io_error.h"

namespace trackhouse::env {

struct FaultInjectionEnv::Node {
  explicit Node(bool dir) : is_dir(dir) {}
  const bool is_dir;
  // Files.
  std::string data;
  uint64_t synced_size = 0;  // what survives Crash()
  // Directories.
  std::map<std::string, NodePtr> entries;
  std::map<std::string, NodePtr> durable;  // entries at the last SyncDir; restored by Crash()
};

namespace {

Status Injected(std::string_view op, std::string_view path, int err) {
  return ErrnoStatus(op, path, err).WithContext("injected fault");
}

Status StaleHandle(std::string_view op, std::string_view path) {
  return ErrnoStatus(op, path, EIO).WithContext("file handle invalidated by Crash()");
}

}  // namespace

class FaultInjectionEnv::MemWritableFile final : public WritableFile {
 public:
  MemWritableFile(FaultInjectionEnv* env, std::string path, NodePtr node, uint64_t epoch)
      : env_(env),
        path_(std::move(path)),
        node_(std::move(node)),
        epoch_(epoch),
        size_(node_->data.size()) {}

  Status Append(std::string_view data) override {
    std::lock_guard lock(env_->mu_);
    TH_RETURN_IF_ERROR(Check("append"));
    size_t before = node_->data.size();
    Status s = env_->AppendLocked(node_.get(), path_, data);
    size_ += node_->data.size() - before;
    return s;
  }

  Status Flush() override {
    std::lock_guard lock(env_->mu_);
    return Check("write");
  }

  Status Sync() override {
    std::unique_lock lock(env_->mu_);
    TH_RETURN_IF_ERROR(Check("fdatasync"));
    if (auto delay = env_->sync_delay_; delay.count() > 0) {
      lock.unlock();
      std::this_thread::sleep_for(delay);  // simulated disk latency, not synchronization
      lock.lock();
      TH_RETURN_IF_ERROR(Check("fdatasync"));
    }
    return env_->SyncLocked(node_.get(), path_);
  }

  Status Close() override {
    std::lock_guard lock(env_->mu_);
    TH_RETURN_IF_ERROR(Check("close"));
    closed_ = true;
    return Status::OK();
  }

  uint64_t Size() const override { return size_; }

 private:
  Status Check(std::string_view op) const REQUIRES(env_->mu_) {
    if (closed_) return Status::IOError(std::string(op) + " " + path_ + ": file is closed");
    if (epoch_ != env_->epoch_) return StaleHandle(op, path_);
    return Status::OK();
  }

  FaultInjectionEnv* const env_;
  const std::string path_;
  const NodePtr node_;
  const uint64_t epoch_;
  uint64_t size_;
  bool closed_ = false;
};

class FaultInjectionEnv::MemRandomAccessFile final : public RandomAccessFile {
 public:
  MemRandomAccessFile(FaultInjectionEnv* env, std::string path, NodePtr node, uint64_t epoch)
      : env_(env),
        path_(std::move(path)),
        node_(std::move(node)),
        epoch_(epoch),
        size_(node_->data.size()) {}

  Status Read(uint64_t offset, size_t n, std::string* scratch) const override {
    std::lock_guard lock(env_->mu_);
    if (epoch_ != env_->epoch_) {
      scratch->clear();
      return StaleHandle("pread", path_);
    }
    const std::string& data = node_->data;
    if (offset >= data.size()) {
      scratch->clear();
    } else {
      scratch->assign(data, offset, std::min<uint64_t>(n, data.size() - offset));
    }
    return Status::OK();
  }

  uint64_t Size() const override { return size_; }

 private:
  FaultInjectionEnv* const env_;
  const std::string path_;
  const NodePtr node_;
  const uint64_t epoch_;
  const uint64_t size_;
};

class FaultInjectionEnv::MemFileLock final : public FileLock {
 public:
  MemFileLock(FaultInjectionEnv* env, std::string key, uint64_t epoch)
      : env_(env), key_(std::move(key)), epoch_(epoch) {}
  ~MemFileLock() override {
    std::lock_guard lock(env_->mu_);
    if (epoch_ == env_->epoch_) env_->locked_.erase(key_);  // Crash() already dropped older ones
  }

 private:
  FaultInjectionEnv* const env_;
  const std::string key_;
  const uint64_t epoch_;
};

FaultInjectionEnv::FaultInjectionEnv() : root_(std::make_shared<Node>(true)) {}
FaultInjectionEnv::~FaultInjectionEnv() = default;

void FaultInjectionEnv::Crash() {
  std::lock_guard lock(mu_);
  RestoreDurable(root_.get());
  ++epoch_;
  locked_.clear();
}

void FaultInjectionEnv::RestoreDurable(Node* dir) {
  dir->entries = dir->durable;
  for (auto& [name, child] : dir->entries) {
    if (child->is_dir) {
      RestoreDurable(child.get());
    } else {
      child->data.resize(child->synced_size);
    }
  }
}

void FaultInjectionEnv::FailWritesAfter(int64_t n_bytes, int err) {
  std::lock_guard lock(mu_);
  write_budget_ = n_bytes;
  write_budget_errno_ = err;
}

void FaultInjectionEnv::SetSyncError(bool fail) {
  std::lock_guard lock(mu_);
  sync_error_ = fail;
}

void FaultInjectionEnv::SetSyncDelay(std::chrono::microseconds delay) {
  std::lock_guard lock(mu_);
  sync_delay_ = delay;
}

void FaultInjectionEnv::SetNoSpace(bool no_space) {
  std::lock_guard lock(mu_);
  no_space_ = no_space;
}

int64_t FaultInjectionEnv::syncs() const {
  std::lock_guard lock(mu_);
  return syncs_;
}

int64_t FaultInjectionEnv::dir_syncs() const {
  std::lock_guard lock(mu_);
  return dir_syncs_;
}

std::vector<std::string> FaultInjectionEnv::Split(const std::string& path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string_view part(path.data() + i, j - i);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.emplace_back(part);
    }
    i = j + 1;
  }
  return parts;
}

FaultInjectionEnv::NodePtr FaultInjectionEnv::Lookup(const std::string& path, int* err) {
  NodePtr node = root_;
  for (const std::string& part : Split(path)) {
    if (!node->is_dir) {
      *err = ENOTDIR;
      return nullptr;
    }
    auto it = node->entries.find(part);
    if (it == node->entries.end()) {
      *err = ENOENT;
      return nullptr;
    }
    node = it->second;
  }
  return node;
}

FaultInjectionEnv::NodePtr FaultInjectionEnv::LookupParent(const std::string& path,
                                                           std::string* name, int* err) {
  std::vector<std::string> parts = Split(path);
  if (parts.empty()) {  // the root has no parent
    *err = EBUSY;
    return nullptr;
  }
  *name = parts.back();
  NodePtr dir = root_;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    auto it = dir->entries.find(parts[i]);
    if (it == dir->entries.end()) {
      *err = ENOENT;
      return nullptr;
    }
    dir = it->second;
    if (!dir->is_dir) {
      *err = ENOTDIR;
      return nullptr;
    }
  }
  return dir;
}

Status FaultInjectionEnv::AppendLocked(Node* file, const std::string& path, std::string_view data) {
  if (no_space_) return Injected("append", path, ENOSPC);
  if (write_budget_ >= 0 && data.size() > static_cast<uint64_t>(write_budget_)) {
    file->data.append(data.substr(0, write_budget_));  // a torn write
    write_budget_ = 0;
    return Injected("append", path, write_budget_errno_);
  }
  file->data.append(data);
  if (write_budget_ >= 0) write_budget_ -= static_cast<int64_t>(data.size());
  return Status::OK();
}

Status FaultInjectionEnv::SyncLocked(Node* file, const std::string& path) {
  if (sync_error_) return Injected("fdatasync", path, EIO);
  file->synced_size = file->data.size();
  ++syncs_;
  return Status::OK();
}

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::OpenWritable(const std::string& path,
                                                                      bool truncate) {
  std::lock_guard lock(mu_);
  int err = 0;
  std::string name;
  NodePtr dir = LookupParent(path, &name, &err);
  if (dir == nullptr) return ErrnoStatus("open", path, err == EBUSY ? EISDIR : err);
  NodePtr& node = dir->entries[name];
  if (node == nullptr) {
    node = std::make_shared<Node>(false);
  } else if (node->is_dir) {
    return ErrnoStatus("open", path, EISDIR);
  } else if (truncate) {
    node->data.clear();
    node->synced_size = 0;
  }
  return std::unique_ptr<WritableFile>(new MemWritableFile(this, path, node, epoch_));
}

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::NewWritableFile(const std::string& path) {
  return OpenWritable(path, /*truncate=*/true);
}

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::NewAppendableFile(
    const std::string& path) {
  return OpenWritable(path, /*truncate=*/false);
}

Result<std::unique_ptr<RandomAccessFile>> FaultInjectionEnv::NewRandomAccessFile(
    const std::string& path) {
  std::lock_guard lock(mu_);
  int err = 0;
  NodePtr node = Lookup(path, &err);
  if (node == nullptr) return ErrnoStatus("open", path, err);
  if (node->is_dir) return ErrnoStatus("open", path, EISDIR);
  return std::unique_ptr<RandomAccessFile>(new MemRandomAccessFile(this, path, node, epoch_));
}

Status FaultInjectionEnv::ReadFileToString(const std::string& path, std::string* out) {
  std::lock_guard lock(mu_);
  int err = 0;
  NodePtr node = Lookup(path, &err);
  if (node == nullptr) return ErrnoStatus("open", path, err);
  if (node->is_dir) return ErrnoStatus("read", path, EISDIR);
  *out = node->data;
  return Status::OK();
}

Status FaultInjectionEnv::WriteStringToFileSync(const std::string& path, std::string_view data) {
  TH_ASSIGN_OR_RETURN(auto file, NewWritableFile(path));
  TH_RETURN_IF_ERROR(file->Append(data));
  TH_RETURN_IF_ERROR(file->Sync());
  return file->Close();
}

bool FaultInjectionEnv::FileExists(const std::string& path) {
  std::lock_guard lock(mu_);
  int err = 0;
  return Lookup(path, &err) != nullptr;
}

Result<std::vector<std::string>> FaultInjectionEnv::GetChildren(const std::string& dir) {
  std::lock_guard lock(mu_);
  int err = 0;
  NodePtr node = Lookup(dir, &err);
  if (node == nullptr) return ErrnoStatus("opendir", dir, err);
  if (!node->is_dir) return ErrnoStatus("opendir", dir, ENOTDIR);
  std::vector<std::string> names;
  names.reserve(node->entries.size());
  for (const auto& [name, child] : node->entries) names.push_back(name);
  return names;
}

Status FaultInjectionEnv::CreateDirLocked(const std::string& path) {
  int err = 0;
  std::string name;
  NodePtr dir = LookupParent(path, &name, &err);
  if (dir == nullptr) return err == EBUSY ? Status::OK() : ErrnoStatus("mkdir", path, err);
  NodePtr& node = dir->entries[name];
  if (node == nullptr) {
    node = std::make_shared<Node>(true);
  } else if (!node->is_dir) {
    return ErrnoStatus("mkdir", path, EEXIST);
  }
  return Status::OK();
}

Status FaultInjectionEnv::CreateDir(const std::string& path) {
  std::lock_guard lock(mu_);
  return CreateDirLocked(path);
}

Status FaultInjectionEnv::CreateDirs(const std::string& path) {
  std::lock_guard lock(mu_);
  std::string prefix;
  for (const std::string& part : Split(path)) {
    prefix = JoinPath(prefix.empty() ? "/" : prefix, part);
    TH_RETURN_IF_ERROR(CreateDirLocked(prefix));
  }
  return Status::OK();
}

Status FaultInjectionEnv::RemoveFile(const std::string& path) {
  std::lock_guard lock(mu_);
  int err = 0;
  std::string name;
  NodePtr dir = LookupParent(path, &name, &err);
  if (dir == nullptr) return ErrnoStatus("unlink", path, err == EBUSY ? EISDIR : err);
  auto it = dir->entries.find(name);
  if (it == dir->entries.end()) return ErrnoStatus("unlink", path, ENOENT);
  if (it->second->is_dir) return ErrnoStatus("unlink", path, EISDIR);
  dir->entries.erase(it);
  return Status::OK();
}

Status FaultInjectionEnv::RemoveDirRecursively(const std::string& path) {
  std::lock_guard lock(mu_);
  int err = 0;
  std::string name;
  NodePtr dir = LookupParent(path, &name, &err);
  if (dir == nullptr) {
    if (err == EBUSY) return ErrnoStatus("rmdir", path, EBUSY);
    return Status::OK();  // missing
  }
  // Detaching the subtree is enough: its nodes stay intact in case a Crash() brings it back.
  dir->entries.erase(name);
  return Status::OK();
}

Status FaultInjectionEnv::RenameFile(const std::string& from, const std::string& to) {
  std::lock_guard lock(mu_);
  const std::string what = from + " -> " + to;
  int err = 0;
  std::string from_name, to_name;
  NodePtr from_dir = LookupParent(from, &from_name, &err);
  if (from_dir == nullptr) return ErrnoStatus("rename", what, err);
  NodePtr to_dir = LookupParent(to, &to_name, &err);
  if (to_dir == nullptr) return ErrnoStatus("rename", what, err);
  auto src = from_dir->entries.find(from_name);
  if (src == from_dir->entries.end()) return ErrnoStatus("rename", what, ENOENT);
  NodePtr node = src->second;
  auto dst = to_dir->entries.find(to_name);
  if (dst != to_dir->entries.end()) {
    if (dst->second == node) return Status::OK();  // same file
    if (dst->second->is_dir && !node->is_dir) return ErrnoStatus("rename", what, EISDIR);
    if (!dst->second->is_dir && node->is_dir) return ErrnoStatus("rename", what, ENOTDIR);
    if (dst->second->is_dir && !dst->second->entries.empty()) {
      return ErrnoStatus("rename", what, ENOTEMPTY);
    }
  }
  if (node->is_dir) {  // a directory cannot move below itself
    std::vector<std::string> a = Split(from), b = Split(to);
    if (b.size() > a.size() && std::equal(a.begin(), a.end(), b.begin())) {
      return ErrnoStatus("rename", what, EINVAL);
    }
  }
  from_dir->entries.erase(src);
  to_dir->entries[to_name] = std::move(node);
  return Status::OK();
}

Status FaultInjectionEnv::SyncDir(const std::string& dir) {
  std::lock_guard lock(mu_);
  int err = 0;
  NodePtr node = Lookup(dir, &err);
  if (node == nullptr) return ErrnoStatus("open", dir, err);
  if (!node->is_dir) return ErrnoStatus("open", dir, ENOTDIR);
  if (sync_error_) return Injected("fsync", dir, EIO);
  node->durable = node->entries;
  ++dir_syncs_;
  return Status::OK();
}

Status FaultInjectionEnv::TruncateFile(const std::string& path, uint64_t size) {
  std::lock_guard lock(mu_);
  int err = 0;
  NodePtr node = Lookup(path, &err);
  if (node == nullptr) return ErrnoStatus("truncate", path, err);
  if (node->is_dir) return ErrnoStatus("truncate", path, EISDIR);
  node->data.resize(size);
  node->synced_size = std::min(node->synced_size, size);
  return Status::OK();
}

Result<uint64_t> FaultInjectionEnv::GetFileSize(const std::string& path) {
  std::lock_guard lock(mu_);
  int err = 0;
  NodePtr node = Lookup(path, &err);
  if (node == nullptr) return ErrnoStatus("stat", path, err);
  if (node->is_dir) return ErrnoStatus("stat", path, EISDIR);
  return static_cast<uint64_t>(node->data.size());
}

Result<uint64_t> FaultInjectionEnv::FreeBytes(const std::string& path) {
  std::lock_guard lock(mu_);
  return no_space_ ? uint64_t{0} : std::numeric_limits<uint64_t>::max();
}

bool FaultInjectionEnv::IsDirectory(const std::string& path) {
  std::lock_guard lock(mu_);
  int err = 0;
  NodePtr node = Lookup(path, &err);
  return node != nullptr && node->is_dir;
}

Result<std::unique_ptr<FileLock>> FaultInjectionEnv::LockFile(const std::string& path) {
  std::lock_guard lock(mu_);
  int err = 0;
  std::string name;
  NodePtr dir = LookupParent(path, &name, &err);
  if (dir == nullptr) return ErrnoStatus("open", path, err == EBUSY ? EISDIR : err);
  NodePtr& node = dir->entries[name];
  if (node == nullptr) node = std::make_shared<Node>(false);
  if (node->is_dir) return ErrnoStatus("open", path, EISDIR);
  std::string key;
  for (const std::string& part : Split(path)) key.append("/").append(part);
  if (!locked_.insert(key).second) {
    return Status::Unavailable("lock " + path + ": already held by another process or lock");
  }
  return std::unique_ptr<FileLock>(new MemFileLock(this, key, epoch_));
}

}  // namespace trackhouse::env
