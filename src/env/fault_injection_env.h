// FaultInjectionEnv: an in-memory file system that models what survives a power loss, plus
// knobs that inject I/O errors and a full disk. Crash tests run a component on it, call Crash()
// at any moment, reopen the component on the same env and must find everything it acknowledged.
//
// The model (what Crash() keeps):
//  - File content. Every file keeps its bytes and its *synced size*: the size at its last
//    successful WritableFile::Sync (or WriteStringToFileSync). Crash() truncates every file to
//    its synced size; bytes appended since are lost, bytes synced are kept. Appends go straight
//    to the file (there is no user-space buffer), so Flush is a no-op and a reader sees
//    appended bytes at once, as it would through a real OS page cache.
//  - TruncateFile, and the truncation by NewWritableFile, shrink the synced size at once (to
//    min(synced size, new size)); bytes a TruncateFile adds are zeros and not yet synced.
//  - Directory entries. Every directory keeps its current entries and its *durable* entries:
//    the entries it had at its last successful SyncDir (empty when created). Crash() resets
//    every directory to its durable entries, so since that directory's last SyncDir
//      * a created file or directory disappears,
//      * a removed file or directory reappears (with its synced content),
//      * a rename is undone (the source name is back, the target has its old file or is gone).
//    A rename between two directories is durable only once both are synced. A directory's own
//    existence is an entry of its parent: it becomes durable when the parent is synced.
//    Syncing a file never makes its directory entry durable.
//  - The root "/" always exists. Relative paths are resolved against "/".
//  - Crash() also invalidates every open WritableFile and RandomAccessFile (further calls
//    return IOError) and releases every FileLock, as a reboot would.
//
// It is stricter than most real file systems (ext4 often keeps more), never more lenient: what
// survives Crash() here is what POSIX promises to survive a power loss.
//
// NewMemEnv() (env/mem_env.h) is this class with no fault ever injected.
//
// Ownership: files and locks it hands out refer to the env, which must outlive them.
// Thread-safety: thread-safe; one mutex serializes every operation, including Crash().
#pragma once

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/thread_annotations.h"
#include "env/env.h"

namespace trackhouse::env {

class FaultInjectionEnv final : public Env {
 public:
  FaultInjectionEnv();
  ~FaultInjectionEnv() override;

  // Simulates a power loss and reboot, as described above.
  void Crash();

  // After n_bytes more bytes have been appended (over all files, counted from this call),
  // appends fail with IOError; an append that crosses the limit writes its first bytes up to
  // the limit (a torn write) before failing. A negative value disables the fault (default).
  // `err` is the errno reported: EIO by default, ENOSPC for a disk that fills up mid-write.
  void FailWritesAfter(int64_t n_bytes, int err = EIO);
  // When set, WritableFile::Sync and SyncDir fail with IOError and make nothing durable.
  void SetSyncError(bool fail);
  // When set, appends (and WriteStringToFileSync) write nothing and fail with
  // ResourceExhausted (NOT_ENOUGH_SPACE), like ENOSPC.
  void SetNoSpace(bool no_space);

  // Each WritableFile::Sync takes this long (without holding the env's lock), to model disk
  // latency, e.g. so that concurrent log appends form commit groups. Default 0.
  void SetSyncDelay(std::chrono::microseconds delay);

  // Successful WritableFile::Sync calls (including WriteStringToFileSync) since construction.
  int64_t syncs() const;
  // Successful SyncDir calls since construction.
  int64_t dir_syncs() const;

  // Env.
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override;
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override;
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override;
  Status ReadFileToString(const std::string& path, std::string* out) override;
  Status WriteStringToFileSync(const std::string& path, std::string_view data) override;
  bool FileExists(const std::string& path) override;
  Result<std::vector<std::string>> GetChildren(const std::string& dir) override;
  Status CreateDir(const std::string& path) override;
  Status CreateDirs(const std::string& path) override;
  Status RemoveFile(const std::string& path) override;
  Status RemoveDirRecursively(const std::string& path) override;
  Status RenameFile(const std::string& from, const std::string& to) override;
  Status SyncDir(const std::string& dir) override;
  Status TruncateFile(const std::string& path, uint64_t size) override;
  Result<uint64_t> GetFileSize(const std::string& path) override;
  bool IsDirectory(const std::string& path) override;
  // 0 while SetNoSpace(true) is in force, UINT64_MAX otherwise.
  Result<uint64_t> FreeBytes(const std::string& path) override;
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override;

 private:
  struct Node;  // a file or a directory
  using NodePtr = std::shared_ptr<Node>;
  class MemWritableFile;
  class MemRandomAccessFile;
  class MemFileLock;

  // Splits a path into its components ("/a//b/" -> {"a", "b"}).
  static std::vector<std::string> Split(const std::string& path);
  // The node at `path`, or nullptr with *err set to ENOENT / ENOTDIR.
  NodePtr Lookup(const std::string& path, int* err) REQUIRES(mu_);
  // The directory that holds `path`'s last component, and that component's name.
  NodePtr LookupParent(const std::string& path, std::string* name, int* err) REQUIRES(mu_);
  Result<std::unique_ptr<WritableFile>> OpenWritable(const std::string& path, bool truncate);
  Status CreateDirLocked(const std::string& path) REQUIRES(mu_);
  // Appends to a file, applying the fault knobs.
  Status AppendLocked(Node* file, const std::string& path, std::string_view data) REQUIRES(mu_);
  Status SyncLocked(Node* file, const std::string& path) REQUIRES(mu_);
  void RestoreDurable(Node* dir) REQUIRES(mu_);

  mutable std::mutex mu_;
  NodePtr root_ GUARDED_BY(mu_);
  uint64_t epoch_ GUARDED_BY(mu_) = 0;  // bumped by Crash(); handles of older epochs are dead
  std::set<std::string> locked_ GUARDED_BY(mu_);  // paths with a live FileLock
  int64_t write_budget_ GUARDED_BY(mu_) = -1;     // bytes appendable before failing; <0: no limit
  int write_budget_errno_ GUARDED_BY(mu_) = EIO;  // what a write past write_budget_ reports
  bool sync_error_ GUARDED_BY(mu_) = false;
  bool no_space_ GUARDED_BY(mu_) = false;
  std::chrono::microseconds sync_delay_ GUARDED_BY(mu_){0};
  int64_t syncs_ GUARDED_BY(mu_) = 0;
  int64_t dir_syncs_ GUARDED_BY(mu_) = 0;
};

}  // namespace trackhouse::env
