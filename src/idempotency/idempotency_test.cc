// The Idempotency-Key snapshot file: round trip, and damage reported as Corruption naming the
// file rather than keys silently lost.
#include "idempotency/idempotency.h"

#include <gtest/gtest.h>

#include <memory>

#include "env/mem_env.h"

namespace trackhouse::idempotency {
namespace {

constexpr int64_t kNow = 1'800'000'000ll * 1000000;

TEST(IdempotencyIndexTest, SnapshotRoundTripsKeysAnswersAndCoverage) {
  std::unique_ptr<env::Env> mem = env::NewMemEnv();
  env::Env& env = *mem;
  ASSERT_TRUE(env.CreateDirs("/d").ok());
  {
    IdempotencyIndex index(&env, "/d", 3600ll * 1000000, 100);
    index.Add({"k1", "{\"accepted\":1}", kNow}, kNow);
    index.Add({"k2", "{\"accepted\":2}", kNow + 1}, kNow);
    ASSERT_TRUE(index.Save(42, kNow).ok());
  }
  IdempotencyIndex loaded(&env, "/d", 3600ll * 1000000, 100);
  auto covered = loaded.Load(kNow);
  ASSERT_TRUE(covered.ok()) << covered.status().ToString();
  EXPECT_EQ(*covered, 42u);
  ASSERT_TRUE(loaded.Find("k2", kNow).has_value());
  EXPECT_EQ(loaded.Find("k2", kNow)->answer, "{\"accepted\":2}");
  EXPECT_EQ(loaded.size(), 2u);
}

TEST(IdempotencyIndexTest, EveryDamagedByteIsCorruptionNamingTheFile) {
  std::unique_ptr<env::Env> mem = env::NewMemEnv();
  env::Env& env = *mem;
  ASSERT_TRUE(env.CreateDirs("/d").ok());
  std::string good = IdempotencyIndex::Encode(7, {{"key", "answer", kNow}});
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] ^= 0x20;
    ASSERT_TRUE(env.WriteStringToFileSync("/d/idempotency", bad).ok());
    IdempotencyIndex index(&env, "/d", 3600ll * 1000000, 100);
    auto r = index.Load(kNow);
    ASSERT_FALSE(r.ok()) << "byte " << i;
    EXPECT_NE(r.status().message().find("/d/idempotency"), std::string::npos);
  }
  ASSERT_TRUE(env.WriteStringToFileSync("/d/idempotency", good.substr(0, good.size() - 3)).ok());
  IdempotencyIndex truncated(&env, "/d", 3600ll * 1000000, 100);
  EXPECT_EQ(truncated.Load(kNow).status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace trackhouse::idempotency
