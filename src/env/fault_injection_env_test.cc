#include "env/fault_injection_env.h"

#include <gtest/gtest.h>

namespace trackhouse::env {
namespace {

class FaultInjectionEnvTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(CreateDirsDurably(&env_, "/db").ok()); }

  // Creates /db/<name> with `synced` synced and `unsynced` appended after, entry made durable.
  void MakeFile(const std::string& name, std::string_view synced, std::string_view unsynced) {
    auto file = env_.NewWritableFile("/db/" + name);
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE((*file)->Append(synced).ok());
    ASSERT_TRUE((*file)->Sync().ok());
    ASSERT_TRUE(env_.SyncDir("/db").ok());
    ASSERT_TRUE((*file)->Append(unsynced).ok());
    ASSERT_TRUE((*file)->Close().ok());
  }

  std::string Read(const std::string& path) {
    std::string out;
    Status s = env_.ReadFileToString(path, &out);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }

  FaultInjectionEnv env_;
};

TEST_F(FaultInjectionEnvTest, UnsyncedAppendsVanishAtCrashAndSyncedOnesStay) {
  MakeFile("f", "durable", "+lost");
  EXPECT_EQ(Read("/db/f"), "durable+lost");
  env_.Crash();
  EXPECT_EQ(Read("/db/f"), "durable");
}

TEST_F(FaultInjectionEnvTest, FileNeverSyncedIsEmptyAfterCrash) {
  MakeFile("f", "", "unsynced");
  env_.Crash();
  EXPECT_EQ(Read("/db/f"), "");
}

TEST_F(FaultInjectionEnvTest, CreatedFileWithoutSyncDirDisappearsAtCrash) {
  ASSERT_TRUE(env_.WriteStringToFileSync("/db/new", "synced content").ok());
  env_.Crash();
  EXPECT_FALSE(env_.FileExists("/db/new"));
}

TEST_F(FaultInjectionEnvTest, CreatedFileSurvivesCrashOnceItsDirIsSynced) {
  ASSERT_TRUE(env_.WriteStringToFileSync("/db/new", "synced content").ok());
  ASSERT_TRUE(env_.SyncDir("/db").ok());
  env_.Crash();
  EXPECT_EQ(Read("/db/new"), "synced content");
}

TEST_F(FaultInjectionEnvTest, RenameWithoutSyncDirRevertsAtCrash) {
  MakeFile("a", "A", "");
  MakeFile("b", "B", "");
  ASSERT_TRUE(env_.RenameFile("/db/a", "/db/b").ok());
  EXPECT_EQ(Read("/db/b"), "A");
  env_.Crash();
  EXPECT_EQ(Read("/db/a"), "A");
  EXPECT_EQ(Read("/db/b"), "B");
}

TEST_F(FaultInjectionEnvTest, RenameFollowedBySyncDirSurvivesCrash) {
  MakeFile("tmp", "content", "");
  ASSERT_TRUE(env_.RenameFile("/db/tmp", "/db/final").ok());
  ASSERT_TRUE(env_.SyncDir("/db").ok());
  env_.Crash();
  EXPECT_FALSE(env_.FileExists("/db/tmp"));
  EXPECT_EQ(Read("/db/final"), "content");
}

TEST_F(FaultInjectionEnvTest, RemovedFileWithoutSyncDirReappearsAtCrash) {
  MakeFile("f", "kept", "dropped");
  ASSERT_TRUE(env_.RemoveFile("/db/f").ok());
  EXPECT_FALSE(env_.FileExists("/db/f"));
  env_.Crash();
  EXPECT_EQ(Read("/db/f"), "kept");
}

TEST_F(FaultInjectionEnvTest, RemovedFileStaysRemovedOnceItsDirIsSynced) {
  MakeFile("f", "x", "");
  ASSERT_TRUE(env_.RemoveFile("/db/f").ok());
  ASSERT_TRUE(env_.SyncDir("/db").ok());
  env_.Crash();
  EXPECT_FALSE(env_.FileExists("/db/f"));
}

TEST_F(FaultInjectionEnvTest, NewDirectoryIsDurableOnlyWhenItsParentIsSynced) {
  ASSERT_TRUE(env_.CreateDir("/db/sub").ok());
  ASSERT_TRUE(env_.WriteStringToFileSync("/db/sub/f", "x").ok());
  ASSERT_TRUE(env_.SyncDir("/db/sub").ok());
  env_.Crash();
  EXPECT_FALSE(env_.FileExists("/db/sub"));

  ASSERT_TRUE(env_.CreateDir("/db/sub").ok());
  ASSERT_TRUE(env_.WriteStringToFileSync("/db/sub/f", "x").ok());
  ASSERT_TRUE(env_.SyncDir("/db/sub").ok());
  ASSERT_TRUE(env_.SyncDir("/db").ok());
  env_.Crash();
  EXPECT_EQ(Read("/db/sub/f"), "x");
}

TEST_F(FaultInjectionEnvTest, CreateDirsDurablyMakesTheWholeChainSurviveCrash) {
  ASSERT_TRUE(CreateDirsDurably(&env_, "/db/x/y/z").ok());
  env_.Crash();
  EXPECT_TRUE(env_.IsDirectory("/db/x/y/z"));
}

TEST_F(FaultInjectionEnvTest, OpenHandlesAreInvalidAfterCrash) {
  MakeFile("r", "data", "");
  auto writer = env_.NewAppendableFile("/db/w");
  ASSERT_TRUE(writer.ok());
  auto reader = env_.NewRandomAccessFile("/db/r");
  ASSERT_TRUE(reader.ok());
  env_.Crash();
  EXPECT_EQ((*writer)->Append("x").code(), StatusCode::kIOError);
  EXPECT_EQ((*writer)->Sync().code(), StatusCode::kIOError);
  std::string scratch;
  EXPECT_EQ((*reader)->Read(0, 4, &scratch).code(), StatusCode::kIOError);
}

TEST_F(FaultInjectionEnvTest, CrashReleasesFileLocks) {
  auto lock = env_.LockFile("/db/LOCK");
  ASSERT_TRUE(lock.ok());
  env_.Crash();
  auto again = env_.LockFile("/db/LOCK");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  lock->reset();  // the dead process's lock going away must not release the new one
  EXPECT_EQ(env_.LockFile("/db/LOCK").status().code(), StatusCode::kUnavailable);
}

TEST_F(FaultInjectionEnvTest, FailWritesAfterTearsTheCrossingAppend) {
  auto file = env_.NewWritableFile("/db/f");
  ASSERT_TRUE(file.ok());
  env_.FailWritesAfter(5);
  ASSERT_TRUE((*file)->Append("abc").ok());
  Status s = (*file)->Append("defg");
  EXPECT_EQ(s.code(), StatusCode::kIOError);
  EXPECT_NE(s.message().find("/db/f"), std::string::npos) << s.message();
  EXPECT_EQ((*file)->Size(), 5u);
  EXPECT_EQ(Read("/db/f"), "abcde");
  EXPECT_EQ((*file)->Append("h").code(), StatusCode::kIOError);
  env_.FailWritesAfter(-1);
  EXPECT_TRUE((*file)->Append("h").ok());
}

TEST_F(FaultInjectionEnvTest, SyncErrorFailsSyncAndLeavesDataUnsynced) {
  auto file = env_.NewWritableFile("/db/f");
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE(env_.SyncDir("/db").ok());
  ASSERT_TRUE((*file)->Append("data").ok());
  env_.SetSyncError(true);
  EXPECT_EQ((*file)->Sync().code(), StatusCode::kIOError);
  EXPECT_EQ(env_.SyncDir("/db").code(), StatusCode::kIOError);
  env_.Crash();
  EXPECT_EQ(Read("/db/f"), "");
}

TEST_F(FaultInjectionEnvTest, NoSpaceFailsAppendsWithResourceExhausted) {
  auto file = env_.NewWritableFile("/db/f");
  ASSERT_TRUE(file.ok());
  env_.SetNoSpace(true);
  Status s = (*file)->Append("data");
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(s.clickhouse_code(), ch::kNotEnoughSpace);
  EXPECT_EQ((*file)->Size(), 0u);
  EXPECT_EQ(env_.WriteStringToFileSync("/db/g", "x").code(), StatusCode::kResourceExhausted);
  env_.SetNoSpace(false);
  EXPECT_TRUE((*file)->Append("data").ok());
}

TEST_F(FaultInjectionEnvTest, CountsSuccessfulSyncs) {
  int64_t before = env_.syncs();
  auto file = env_.NewWritableFile("/db/f");
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE((*file)->Sync().ok());
  env_.SetSyncError(true);
  EXPECT_FALSE((*file)->Sync().ok());
  EXPECT_EQ(env_.syncs(), before + 2);
}

TEST_F(FaultInjectionEnvTest, TruncateShrinksTheDurableSize) {
  MakeFile("f", "0123456789", "");
  ASSERT_TRUE(env_.TruncateFile("/db/f", 4).ok());
  auto file = env_.NewAppendableFile("/db/f");
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("XYZ").ok());
  env_.Crash();
  EXPECT_EQ(Read("/db/f"), "0123");
}

}  // namespace
}  // namespace trackhouse::env
