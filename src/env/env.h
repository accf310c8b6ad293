// Env: the file-system interface. Every file trackhouse reads or writes goes through an Env, so
// that tests can swap the real POSIX file system for an in-memory one (env/mem_env.h) or for one
// that models power loss (env/fault_injection_env.h).
//
// Errors name the operation, the path and the errno text ("open /x/y: No such file or
// directory"). A missing file or directory is NotFound; a full disk (ENOSPC, EDQUOT) is
// ResourceExhausted with ClickHouse code NOT_ENOUGH_SPACE; everything else is IOError. Every
// failed system call (or injected fault) other than a not-found bumps the counter
// trackhouse_env_io_errors_total.
//
// Ownership: an Env hands out files as unique_ptrs; the caller owns them and must destroy them
// before the Env. Env::Posix() lives for the whole process.
// Thread-safety: Env and RandomAccessFile are thread-safe; a WritableFile has one writer.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace trackhouse::env {

// A file open for sequential appends. Not thread-safe: one writer at a time.
class WritableFile {
 public:
  virtual ~WritableFile();

  // Appends data. It may stay buffered in user space until Flush, Sync or Close.
  virtual Status Append(std::string_view data) = 0;
  // Hands buffered bytes to the OS: they survive a process crash, not a power loss.
  virtual Status Flush() = 0;
  // Flush, then fdatasync: the bytes appended so far survive a power loss once this returns OK.
  // It does not make the file's directory entry durable; that is Env::SyncDir's job.
  virtual Status Sync() = 0;
  // Flush, then close (no sync). Further calls fail. The destructor closes a file not closed.
  virtual Status Close() = 0;
  // Bytes in the file: its size when opened plus every byte appended since.
  virtual uint64_t Size() const = 0;
};

// A file open for positional reads. Thread-safe (pread).
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile();

  // Reads up to n bytes at offset into *scratch (resized to the bytes read). The read is short
  // only at end of file; at or past the end it returns OK with an empty *scratch.
  virtual Status Read(uint64_t offset, size_t n, std::string* scratch) const = 0;
  // The file's size when it was opened.
  virtual uint64_t Size() const = 0;
};

// A held lock on a file (see Env::LockFile); released on destruction.
class FileLock {
 public:
  virtual ~FileLock();
};

class Env {
 public:
  virtual ~Env();

  // The process-wide POSIX Env (never destroyed).
  static Env* Posix();

  // Creates `path`, truncating it if it exists.
  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) = 0;
  // Opens `path` for appending at its end, creating it if missing.
  virtual Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) = 0;
  virtual Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) = 0;

  // Replaces *out with the whole content of `path`.
  virtual Status ReadFileToString(const std::string& path, std::string* out) = 0;
  // Creates/truncates `path`, writes data, syncs and closes it. The directory entry is not
  // synced: for an atomic durable replace write a temp file, RenameFile, then SyncDir.
  virtual Status WriteStringToFileSync(const std::string& path, std::string_view data) = 0;

  virtual bool FileExists(const std::string& path) = 0;
  // The names (not paths) of the entries in `dir`, without "." and "..", in no set order.
  virtual Result<std::vector<std::string>> GetChildren(const std::string& dir) = 0;
  // Creates a directory; OK if it already exists as a directory.
  virtual Status CreateDir(const std::string& path) = 0;
  // Creates a directory and any missing parents (mkdir -p).
  virtual Status CreateDirs(const std::string& path) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  // Removes a file or a directory tree; OK if `path` does not exist.
  virtual Status RemoveDirRecursively(const std::string& path) = 0;
  // Atomically replaces `to` with `from` (rename(2)).
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  // Makes the creations, renames and removals of entries in `dir` durable (fsync on the dir).
  virtual Status SyncDir(const std::string& dir) = 0;
  virtual Status TruncateFile(const std::string& path, uint64_t size) = 0;
  virtual Result<uint64_t> GetFileSize(const std::string& path) = 0;
  virtual bool IsDirectory(const std::string& path) = 0;
  // Bytes an unprivileged writer may still add on the file system holding `path` (statvfs
  // f_bavail on POSIX); the default, for file systems without a bound, is UINT64_MAX.
  virtual Result<uint64_t> FreeBytes(const std::string& path);

  // Takes an exclusive advisory lock on `path` (created if missing; flock LOCK_EX|LOCK_NB on
  // POSIX), held until the returned FileLock is destroyed. Unavailable if another process, or
  // another FileLock in this process, holds it. The lock file is never removed.
  virtual Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) = 0;
};

// Joins two path parts with exactly one '/' between them ("a" + "b" = "a/b", "a/" + "b" =
// "a/b"); an empty part yields the other.
std::string JoinPath(std::string_view a, std::string_view b);

// The directory part of a path: "/a/b" -> "/a", "/a" -> "/", "a" -> ".". Trailing '/' ignored.
std::string DirName(std::string_view path);

// mkdir -p that survives power loss: creates each missing directory of `path` from the top
// down and SyncDirs its parent, so that the whole chain of new directories is durable.
Status CreateDirsDurably(Env* env, const std::string& path);

}  // namespace trackhouse::env
