#include "server/session.h"

#include <gtest/gtest.h>

namespace trackhouse::server {
namespace {

TEST(SessionStoreTest, KeepsStateBetweenLeases) {
  ManualClock clock(0);
  SessionStore store({}, &clock);
  {
    auto lease = store.Acquire("default", "s1", 60, false);
    ASSERT_TRUE(lease.ok()) << lease.status().ToString();
    lease->state()->database = "db1";
    lease->state()->Set("max_threads", "2");
    lease->state()->Set("max_threads", "3");
  }
  auto lease = store.Acquire("default", "s1", 60, true);
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ(lease->state()->database, "db1");
  ASSERT_EQ(lease->state()->settings.size(), 1u);
  EXPECT_EQ(lease->state()->settings[0].second, "3");
}

TEST(SessionStoreTest, ConcurrentUseIsLocked) {
  ManualClock clock(0);
  SessionStore store({}, &clock);
  auto first = store.Acquire("default", "s1", 60, false);
  ASSERT_TRUE(first.ok());
  auto second = store.Acquire("default", "s1", 60, false);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().clickhouse_code(), ch::kSessionIsLocked);
  EXPECT_EQ(second.status().message(), "Session s1 is locked by a concurrent client");
  // Another user's session of the same name is a different session.
  EXPECT_TRUE(store.Acquire("alice", "s1", 60, false).ok());
}

TEST(SessionStoreTest, ExpiresAfterTimeoutFromLastUse) {
  ManualClock clock(0);
  SessionStore store({}, &clock);
  ASSERT_TRUE(store.Acquire("default", "s1", 10, false).ok());
  clock.Advance(9'000'000);
  ASSERT_TRUE(store.Acquire("default", "s1", 10, true).ok());  // renewed to t=19s
  clock.Advance(9'000'000);
  EXPECT_TRUE(store.Acquire("default", "s1", 10, true).ok());  // renewed to t=28s
  clock.Advance(11'000'000);
  auto gone = store.Acquire("default", "s1", 10, true);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.status().clickhouse_code(), ch::kSessionNotFound);
  EXPECT_EQ(store.size(), 0u);
}

TEST(SessionStoreTest, BoundedNumberOfSessions) {
  ManualClock clock(0);
  SessionOptions options;
  options.max_sessions = 2;
  SessionStore store(options, &clock);
  ASSERT_TRUE(store.Acquire("u", "a", 5, false).ok());
  ASSERT_TRUE(store.Acquire("u", "b", 50, false).ok());
  auto full = store.Acquire("u", "c", 5, false);
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.status().code(), StatusCode::kResourceExhausted);
  clock.Advance(6'000'000);  // "a" expired: room again
  EXPECT_TRUE(store.Acquire("u", "c", 5, false).ok());
  EXPECT_EQ(store.size(), 2u);
}

TEST(SessionStoreTest, ParsesTimeoutAsClickHouse) {
  ManualClock clock(0);
  SessionStore store({}, &clock);
  EXPECT_EQ(*store.ParseTimeout(nullptr), 60u);
  std::string v = "120";
  EXPECT_EQ(*store.ParseTimeout(&v), 120u);
  v = "abc";
  auto bad = store.ParseTimeout(&v);
  EXPECT_EQ(bad.status().clickhouse_code(), ch::kInvalidSessionTimeout);
  EXPECT_EQ(bad.status().message(), "Invalid session timeout: 'abc'");
  v = "100000";
  bad = store.ParseTimeout(&v);
  EXPECT_EQ(bad.status().clickhouse_code(), ch::kInvalidSessionTimeout);
  EXPECT_NE(bad.status().message().find("larger than max_session_timeout: 3600"),
            std::string::npos);
}

}  // namespace
}  // namespace trackhouse::server
