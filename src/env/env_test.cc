// Behavioural tests run over every Env: POSIX in a temp dir, MemEnv and FaultInjectionEnv.

#include "env/env.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

#include "common/metrics.h"
#include "env/fault_injection_env.h"
#include "env/mem_env.h"

namespace trackhouse::env {
namespace {

enum class Kind { kPosix, kMem, kFaultInjection };

std::string MakeTempDir() {
  std::string tmpl = JoinPath(::testing::TempDir(), "trackhouse_env_test.XXXXXX");
  char* dir = ::mkdtemp(tmpl.data());
  EXPECT_NE(dir, nullptr);
  return tmpl;
}

class EnvTest : public ::testing::TestWithParam<Kind> {
 protected:
  void SetUp() override {
    switch (GetParam()) {
      case Kind::kPosix:
        env_ = Env::Posix();
        root_ = MakeTempDir();
        break;
      case Kind::kMem:
        owned_ = NewMemEnv();
        break;
      case Kind::kFaultInjection:
        owned_ = std::make_unique<FaultInjectionEnv>();
        break;
    }
    if (owned_ != nullptr) {
      env_ = owned_.get();
      root_ = "/tmp/env_test";
      ASSERT_TRUE(env_->CreateDirs(root_).ok());
    }
  }
  void TearDown() override {
    if (GetParam() == Kind::kPosix) {
      EXPECT_TRUE(env_->RemoveDirRecursively(root_).ok());
    }
  }

  std::string Path(std::string_view name) const { return JoinPath(root_, name); }

  void Write(const std::string& path, std::string_view data) {
    ASSERT_TRUE(env_->WriteStringToFileSync(path, data).ok());
  }
  std::string Read(const std::string& path) {
    std::string out;
    Status s = env_->ReadFileToString(path, &out);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }

  std::unique_ptr<Env> owned_;
  Env* env_ = nullptr;
  std::string root_;
};

TEST_P(EnvTest, AppendedBytesReadBackAfterClose) {
  auto file = env_->NewWritableFile(Path("f"));
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ASSERT_TRUE((*file)->Append("hello").ok());
  ASSERT_TRUE((*file)->Append(", world").ok());
  EXPECT_EQ((*file)->Size(), 12u);
  ASSERT_TRUE((*file)->Close().ok());
  EXPECT_EQ(Read(Path("f")), "hello, world");
  EXPECT_EQ(env_->GetFileSize(Path("f")).value(), 12u);
}

TEST_P(EnvTest, FlushedBytesAreVisibleToReadersBeforeClose) {
  auto file = env_->NewWritableFile(Path("f"));
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("abc").ok());
  ASSERT_TRUE((*file)->Flush().ok());
  EXPECT_EQ(Read(Path("f")), "abc");
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE((*file)->Close().ok());
}

TEST_P(EnvTest, NewWritableFileTruncatesExistingFile) {
  Write(Path("f"), "old content");
  auto file = env_->NewWritableFile(Path("f"));
  ASSERT_TRUE(file.ok());
  EXPECT_EQ((*file)->Size(), 0u);
  ASSERT_TRUE((*file)->Append("new").ok());
  ASSERT_TRUE((*file)->Close().ok());
  EXPECT_EQ(Read(Path("f")), "new");
}

TEST_P(EnvTest, AppendableFileAppendsAtEndAndCreatesMissingFile) {
  Write(Path("f"), "abc");
  auto file = env_->NewAppendableFile(Path("f"));
  ASSERT_TRUE(file.ok());
  EXPECT_EQ((*file)->Size(), 3u);
  ASSERT_TRUE((*file)->Append("def").ok());
  EXPECT_EQ((*file)->Size(), 6u);
  ASSERT_TRUE((*file)->Close().ok());
  EXPECT_EQ(Read(Path("f")), "abcdef");

  auto fresh = env_->NewAppendableFile(Path("g"));
  ASSERT_TRUE(fresh.ok());
  ASSERT_TRUE((*fresh)->Append("x").ok());
  ASSERT_TRUE((*fresh)->Close().ok());
  EXPECT_EQ(Read(Path("g")), "x");
}

TEST_P(EnvTest, SmallAndLargeAppendsKeepTheirOrder) {
  auto file = env_->NewWritableFile(Path("f"));
  ASSERT_TRUE(file.ok());
  std::string expected;
  for (int i = 0; i < 20; ++i) {
    // Sizes straddle the POSIX file's 1 MiB buffer: tiny, just under, over and far over it.
    size_t n = (i % 4 == 0)   ? 7
               : (i % 4 == 1) ? (1 << 20) - 3
               : (i % 4 == 2) ? (1 << 20) + 5
                              : 3 << 20;
    std::string chunk(n, static_cast<char>('a' + i));
    ASSERT_TRUE((*file)->Append(chunk).ok());
    expected += chunk;
  }
  EXPECT_EQ((*file)->Size(), expected.size());
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE((*file)->Close().ok());
  EXPECT_TRUE(Read(Path("f")) == expected);
}

TEST_P(EnvTest, RandomAccessReadIsShortOnlyAtEndOfFile) {
  Write(Path("f"), "0123456789");
  auto file = env_->NewRandomAccessFile(Path("f"));
  ASSERT_TRUE(file.ok());
  EXPECT_EQ((*file)->Size(), 10u);
  std::string scratch;
  ASSERT_TRUE((*file)->Read(2, 5, &scratch).ok());
  EXPECT_EQ(scratch, "23456");
  ASSERT_TRUE((*file)->Read(8, 5, &scratch).ok());
  EXPECT_EQ(scratch, "89");
  ASSERT_TRUE((*file)->Read(20, 5, &scratch).ok());
  EXPECT_EQ(scratch, "");
}

TEST_P(EnvTest, RandomAccessFileServesConcurrentReaders) {
  std::string data;
  for (int i = 0; i < 100000; ++i) data.push_back(static_cast<char>(i * 7));
  Write(Path("f"), data);
  auto file = env_->NewRandomAccessFile(Path("f"));
  ASSERT_TRUE(file.ok());
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::string scratch;
      for (uint64_t off = t; off < data.size(); off += 997) {
        if (!(*file)->Read(off, 100, &scratch).ok() || scratch != data.substr(off, 100)) {
          ++mismatches;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST_P(EnvTest, MissingFileIsNotFoundNamingPathAndErrno) {
  const std::string missing = Path("no/such/file");
  auto file = env_->NewRandomAccessFile(missing);
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(file.status().message(), "open " + missing + ": No such file or directory");
  std::string out;
  EXPECT_EQ(env_->ReadFileToString(missing, &out).code(), StatusCode::kNotFound);
  EXPECT_EQ(env_->GetFileSize(missing).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(env_->RemoveFile(Path("nope")).code(), StatusCode::kNotFound);
  EXPECT_EQ(env_->NewWritableFile(missing).status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(env_->FileExists(missing));
}

TEST_P(EnvTest, IOErrorsAreCountedButNotFoundIsNot) {
  Write(Path("file"), "x");
  int64_t before = metrics::ValueOf("trackhouse_env_io_errors_total");
  std::string out;
  EXPECT_EQ(env_->ReadFileToString(Path("missing"), &out).code(), StatusCode::kNotFound);
  EXPECT_EQ(metrics::ValueOf("trackhouse_env_io_errors_total"), before);
  Status s = env_->CreateDir(Path("file/sub"));  // a file is not a directory
  EXPECT_EQ(s.code(), StatusCode::kIOError) << s.ToString();
  EXPECT_EQ(metrics::ValueOf("trackhouse_env_io_errors_total"), before + 1);
}

TEST_P(EnvTest, GetChildrenListsNamesOnly) {
  Write(Path("a"), "1");
  Write(Path("b"), "2");
  ASSERT_TRUE(env_->CreateDir(Path("c")).ok());
  Write(Path("c/inner"), "3");
  auto children = env_->GetChildren(root_);
  ASSERT_TRUE(children.ok());
  std::sort(children->begin(), children->end());
  EXPECT_EQ(*children, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(env_->GetChildren(Path("missing")).status().code(), StatusCode::kNotFound);
}

TEST_P(EnvTest, CreateDirIsOkIfItExistsAndCreateDirsMakesParents) {
  ASSERT_TRUE(env_->CreateDir(Path("d")).ok());
  EXPECT_TRUE(env_->CreateDir(Path("d")).ok());
  EXPECT_TRUE(env_->IsDirectory(Path("d")));
  EXPECT_FALSE(env_->CreateDir(Path("x/y")).ok());  // parent missing
  ASSERT_TRUE(env_->CreateDirs(Path("x/y/z")).ok());
  EXPECT_TRUE(env_->IsDirectory(Path("x/y/z")));
  EXPECT_TRUE(env_->CreateDirs(Path("x/y/z")).ok());
  Write(Path("file"), "x");
  EXPECT_FALSE(env_->CreateDir(Path("file")).ok());
  EXPECT_FALSE(env_->IsDirectory(Path("file")));
}

TEST_P(EnvTest, CreateDirsDurablyCreatesEveryMissingLevel) {
  ASSERT_TRUE(CreateDirsDurably(env_, Path("p/q/r")).ok());
  EXPECT_TRUE(env_->IsDirectory(Path("p/q/r")));
  EXPECT_TRUE(CreateDirsDurably(env_, Path("p/q/r")).ok());
}

TEST_P(EnvTest, RemoveDirRecursivelyRemovesTreeAndIgnoresMissing) {
  ASSERT_TRUE(env_->CreateDirs(Path("t/a/b")).ok());
  Write(Path("t/a/b/f"), "x");
  Write(Path("t/g"), "y");
  ASSERT_TRUE(env_->RemoveDirRecursively(Path("t")).ok());
  EXPECT_FALSE(env_->FileExists(Path("t")));
  EXPECT_TRUE(env_->RemoveDirRecursively(Path("t")).ok());
}

TEST_P(EnvTest, RemoveFileDeletesIt) {
  Write(Path("f"), "x");
  ASSERT_TRUE(env_->RemoveFile(Path("f")).ok());
  EXPECT_FALSE(env_->FileExists(Path("f")));
}

TEST_P(EnvTest, RenameFileAtomicallyReplacesTarget) {
  Write(Path("from"), "new");
  Write(Path("to"), "old");
  ASSERT_TRUE(env_->RenameFile(Path("from"), Path("to")).ok());
  EXPECT_FALSE(env_->FileExists(Path("from")));
  EXPECT_EQ(Read(Path("to")), "new");
  EXPECT_EQ(env_->RenameFile(Path("from"), Path("to")).code(), StatusCode::kNotFound);
}

TEST_P(EnvTest, TruncateFileCutsContent) {
  Write(Path("f"), "0123456789");
  ASSERT_TRUE(env_->TruncateFile(Path("f"), 4).ok());
  EXPECT_EQ(Read(Path("f")), "0123");
  EXPECT_EQ(env_->GetFileSize(Path("f")).value(), 4u);
}

TEST_P(EnvTest, WriteStringToFileSyncReplacesContent) {
  Write(Path("f"), "first version");
  Write(Path("f"), "second");
  EXPECT_EQ(Read(Path("f")), "second");
  Write(Path("empty"), "");
  EXPECT_EQ(Read(Path("empty")), "");
  EXPECT_TRUE(env_->SyncDir(root_).ok());
}

TEST_P(EnvTest, SyncDirOfMissingDirectoryFails) {
  EXPECT_EQ(env_->SyncDir(Path("missing")).code(), StatusCode::kNotFound);
}

TEST_P(EnvTest, LockFileIsExclusiveUntilReleased) {
  auto first = env_->LockFile(Path("LOCK"));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(env_->FileExists(Path("LOCK")));
  auto second = env_->LockFile(Path("LOCK"));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find(Path("LOCK")), std::string::npos);
  first->reset();
  auto third = env_->LockFile(Path("LOCK"));
  EXPECT_TRUE(third.ok());
}

INSTANTIATE_TEST_SUITE_P(AllEnvs, EnvTest,
                         ::testing::Values(Kind::kPosix, Kind::kMem, Kind::kFaultInjection),
                         [](const ::testing::TestParamInfo<Kind>& info) {
                           switch (info.param) {
                             case Kind::kPosix:
                               return "Posix";
                             case Kind::kMem:
                               return "Mem";
                             case Kind::kFaultInjection:
                               return "FaultInjection";
                           }
                           return "Unknown";
                         });

TEST(JoinPathTest, JoinsWithExactlyOneSlash) {
  EXPECT_EQ(JoinPath("a", "b"), "a/b");
  EXPECT_EQ(JoinPath("a/", "b"), "a/b");
  EXPECT_EQ(JoinPath("a", "/b"), "a/b");
  EXPECT_EQ(JoinPath("/", "b"), "/b");
  EXPECT_EQ(JoinPath("", "b"), "b");
  EXPECT_EQ(JoinPath("a", ""), "a");
}

TEST(DirNameTest, ReturnsTheParentDirectory) {
  EXPECT_EQ(DirName("/a/b"), "/a");
  EXPECT_EQ(DirName("/a/b/"), "/a");
  EXPECT_EQ(DirName("/a"), "/");
  EXPECT_EQ(DirName("a"), ".");
  EXPECT_EQ(DirName("a/b"), "a");
}

// Waits for a forked child and returns its exit code.
int WaitForChild(pid_t pid) {
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, 0), pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(PosixEnvTest, LockFileExcludesAForkedChildProcess) {
  Env* env = Env::Posix();
  const std::string dir = MakeTempDir();
  const std::string path = JoinPath(dir, "LOCK");
  auto lock = env->LockFile(path);
  ASSERT_TRUE(lock.ok());

  // The child inherits the parent's descriptor, but its own lock attempt must still fail.
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto r = Env::Posix()->LockFile(path);
    ::_exit(r.ok() ? 1 : r.status().code() == StatusCode::kUnavailable ? 0 : 2);
  }
  EXPECT_EQ(WaitForChild(pid), 0) << "child took a lock the parent holds";

  lock->reset();
  pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) ::_exit(Env::Posix()->LockFile(path).ok() ? 0 : 1);
  EXPECT_EQ(WaitForChild(pid), 0) << "child could not take a released lock";
  EXPECT_TRUE(env->RemoveDirRecursively(dir).ok());
}

TEST(PosixEnvTest, FullDiskIsResourceExhausted) {
  if (!Env::Posix()->FileExists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  auto file = Env::Posix()->NewAppendableFile("/dev/full");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ASSERT_TRUE((*file)->Append("data").ok());  // buffered
  Status s = (*file)->Flush();
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(s.clickhouse_code(), ch::kNotEnoughSpace);
  EXPECT_EQ(s.message(), "write /dev/full: No space left on device");
}

}  // namespace
}  // namespace trackhouse::env
