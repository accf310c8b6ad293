#include "server/access.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "server/access_test_util.h"

namespace trackhouse::server {
namespace {

using test_util::Base64Url;
using test_util::HmacSha256;

constexpr std::string_view kWriteKey = "write-key-0123456789abcdef";
constexpr std::string_view kReadKey = "read-key-0123456789abcdef";
constexpr std::string_view kAdminKey = "admin-key-0123456789abcdef";
constexpr std::string_view kSecret = "jwt-test-secret-of-32-characters";
constexpr int64_t kNow = 1'800'000'000;  // 2027-01-15

using test_util::Key;

AccessOptions WithKeys(std::vector<ApiKey> keys) {
  AccessOptions o;
  o.keys = std::move(keys);
  return o;
}

AccessOptions ThreeKeys() {
  AccessOptions o;
  o.keys = {Key("web", kWriteKey, KeyRole::kWrite, {"events", "shop.orders"}),
            Key("dashboard", kReadKey, KeyRole::kRead), Key("ops", kAdminKey, KeyRole::kAdmin)};
  return o;
}

HttpRequest Request(std::string remote, std::vector<std::pair<std::string, std::string>> headers,
                    std::vector<std::pair<std::string, std::string>> params = {}) {
  HttpRequest r;
  r.method = "POST";
  r.path = "/track/events";
  r.remote = std::move(remote);
  r.headers = std::move(headers);
  r.params = std::move(params);
  return r;
}

// ---- keys ----

TEST(AccessControlTest, FindKeyReturnsTheMatchingKey) {
  AccessControl access(ThreeKeys());
  EXPECT_TRUE(access.keys_configured());
  const ApiKey* key = access.FindKey(kReadKey);
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(key->name, "dashboard");
  key = access.FindKey(kWriteKey);
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(key->name, "web");
  key = access.FindKey(kAdminKey);
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(key->name, "ops");
  EXPECT_EQ(key, &access.options().keys[2]);
}

TEST(AccessControlTest, FindKeyRejectsNearMissesPrefixesAndEmpty) {
  AccessControl access(ThreeKeys());
  std::string last_byte_differs(kReadKey);
  last_byte_differs.back() = 'e';
  std::string first_byte_differs(kReadKey);
  first_byte_differs.front() = 'R';
  EXPECT_EQ(access.FindKey(last_byte_differs), nullptr);
  EXPECT_EQ(access.FindKey(first_byte_differs), nullptr);
  EXPECT_EQ(access.FindKey(kReadKey.substr(0, kReadKey.size() - 1)), nullptr);
  EXPECT_EQ(access.FindKey(std::string(kReadKey) + "0"), nullptr);
  EXPECT_EQ(access.FindKey(""), nullptr);
  EXPECT_EQ(access.FindKey(std::string(kReadKey) + '\0'), nullptr);
}

TEST(AccessControlTest, NoKeysConfiguredFindsNothing) {
  AccessControl access(AccessOptions{});
  EXPECT_FALSE(access.keys_configured());
  EXPECT_EQ(access.FindKey(kReadKey), nullptr);
  EXPECT_EQ(access.FindKey(""), nullptr);
}

TEST(AccessControlTest, PresentedKeyPrefersBearerThenKeyArgument) {
  EXPECT_EQ(AccessControl::PresentedKey(Request("", {{"Authorization", "Bearer abc"}})), "abc");
  EXPECT_EQ(AccessControl::PresentedKey(Request("", {{"authorization", "bearer  abc "}})), "abc");
  EXPECT_EQ(
      AccessControl::PresentedKey(Request("", {{"Authorization", "Bearer hdr"}}, {{"key", "arg"}})),
      "hdr");
  EXPECT_EQ(AccessControl::PresentedKey(Request("", {}, {{"key", "arg"}})), "arg");
  // Basic auth is not a /track key: the argument is used.
  EXPECT_EQ(
      AccessControl::PresentedKey(Request("", {{"Authorization", "Basic YTpi"}}, {{"key", "arg"}})),
      "arg");
  EXPECT_EQ(AccessControl::PresentedKey(Request("", {{"Authorization", "Bearer "}})), "");
  EXPECT_EQ(AccessControl::PresentedKey(Request("", {})), "");
}

// ---- roles ----

TEST(AccessControlTest, WriteKeyWritesOnlyItsTables) {
  AccessControl access(ThreeKeys());
  const ApiKey& web = *access.FindKey(kWriteKey);
  EXPECT_TRUE(access.MayWrite(web, "default", "events"));
  EXPECT_TRUE(access.MayWrite(web, "", "events"));       // "" = default
  EXPECT_FALSE(access.MayWrite(web, "shop", "events"));  // "events" means default.events
  EXPECT_TRUE(access.MayWrite(web, "shop", "orders"));
  EXPECT_FALSE(access.MayWrite(web, "default", "orders"));
  EXPECT_FALSE(access.MayWrite(web, "default", "Events"));  // case-sensitive
  EXPECT_FALSE(access.MayWrite(web, "default", "event"));
  EXPECT_FALSE(access.MayRead(web));
  EXPECT_FALSE(access.MayAdminister(web));
}

TEST(AccessControlTest, WriteKeyWithoutTablesWritesEveryTable) {
  AccessControl access(WithKeys({Key("any", kWriteKey, KeyRole::kWrite)}));
  const ApiKey& key = *access.FindKey(kWriteKey);
  EXPECT_TRUE(access.MayWrite(key, "default", "events"));
  EXPECT_TRUE(access.MayWrite(key, "other", "t"));
}

TEST(AccessControlTest, ReadKeyOnlyReadsAndAdminKeyMayDoEverything) {
  AccessControl access(ThreeKeys());
  const ApiKey& read = *access.FindKey(kReadKey);
  const ApiKey& admin = *access.FindKey(kAdminKey);
  EXPECT_TRUE(access.MayRead(read));
  EXPECT_FALSE(access.MayWrite(read, "default", "events"));
  EXPECT_FALSE(access.MayAdminister(read));
  EXPECT_TRUE(access.MayRead(admin));
  EXPECT_TRUE(access.MayWrite(admin, "anything", "at_all"));
  EXPECT_TRUE(access.MayAdminister(admin));
}

// ---- rate limit ----

AccessOptions LimitedKey(double rate, double burst) {
  ApiKey key = Key("limited", kWriteKey, KeyRole::kWrite);
  key.rate_per_second = rate;
  key.burst = burst;
  return WithKeys({key});
}

TEST(AccessControlTest, TokenBucketAllowsTheBurstThenRefusesWithRetryAfter) {
  AccessControl access(LimitedKey(/*rate=*/2, /*burst=*/5));
  const ApiKey& key = *access.FindKey(kWriteKey);
  int64_t t = 1'000'000;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(access.TakeToken(key, t), std::nullopt) << i;
  std::optional<double> wait = access.TakeToken(key, t);
  ASSERT_TRUE(wait.has_value());
  EXPECT_DOUBLE_EQ(*wait, 0.5);  // one token at 2/s
  // 0.2 s later 0.4 token has refilled: 0.3 s to go.
  wait = access.TakeToken(key, t + 200'000);
  ASSERT_TRUE(wait.has_value());
  EXPECT_NEAR(*wait, 0.3, 1e-9);
}

TEST(AccessControlTest, TokenBucketRefillsAtTheRateUpToTheBurst) {
  AccessControl access(LimitedKey(/*rate=*/10, /*burst=*/3));
  const ApiKey& key = *access.FindKey(kWriteKey);
  int64_t t = 0;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(access.TakeToken(key, t), std::nullopt);
  EXPECT_TRUE(access.TakeToken(key, t).has_value());
  // 100 ms = one token.
  t += 100'000;
  EXPECT_EQ(access.TakeToken(key, t), std::nullopt);
  EXPECT_TRUE(access.TakeToken(key, t).has_value());
  // An hour idle refills no more than the burst.
  t += 3600'000'000LL;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(access.TakeToken(key, t), std::nullopt);
  EXPECT_TRUE(access.TakeToken(key, t).has_value());
  // A clock that goes back refills nothing.
  EXPECT_TRUE(access.TakeToken(key, t - 1'000'000).has_value());
}

TEST(AccessControlTest, TokenBucketRetryAfterIsLongWhenTheRateIsSlow) {
  AccessControl access(LimitedKey(/*rate=*/0.1, /*burst=*/0));  // burst 0 = max(1, rate) = 1
  const ApiKey& key = *access.FindKey(kWriteKey);
  EXPECT_EQ(access.TakeToken(key, 0), std::nullopt);
  std::optional<double> wait = access.TakeToken(key, 0);
  ASSERT_TRUE(wait.has_value());
  EXPECT_NEAR(*wait, 10.0, 1e-9);
  wait = access.TakeToken(key, 4'000'000);
  ASSERT_TRUE(wait.has_value());
  EXPECT_NEAR(*wait, 6.0, 1e-9);
  EXPECT_EQ(access.TakeToken(key, 10'000'000), std::nullopt);
}

TEST(AccessControlTest, BucketsAreKeptPerKey) {
  AccessOptions options = LimitedKey(1, 1);
  ApiKey other = options.keys[0];
  other.name = "other";
  other.key = std::string(kReadKey);
  options.keys.push_back(other);
  AccessControl access(options);
  EXPECT_EQ(access.TakeToken(*access.FindKey(kWriteKey), 0), std::nullopt);
  EXPECT_TRUE(access.TakeToken(*access.FindKey(kWriteKey), 0).has_value());
  EXPECT_EQ(access.TakeToken(*access.FindKey(kReadKey), 0), std::nullopt);
  // A copy of a configured key shares its bucket (found by name).
  ApiKey copy = *access.FindKey(kReadKey);
  EXPECT_TRUE(access.TakeToken(copy, 0).has_value());
}

TEST(AccessControlTest, ConcurrentTakersShareOneBucket) {
  AccessControl access(LimitedKey(/*rate=*/1, /*burst=*/100));
  const ApiKey& key = *access.FindKey(kWriteKey);
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        if (!access.TakeToken(key, 0).has_value()) allowed.fetch_add(1);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(allowed.load(), 100);
}

TEST(AccessControlTest, UnlimitedKeysAlwaysPass) {
  AccessControl access(ThreeKeys());
  const ApiKey& key = *access.FindKey(kWriteKey);
  for (int i = 0; i < 10000; ++i) ASSERT_EQ(access.TakeToken(key, 0), std::nullopt);
}

// ---- client address ----

AccessOptions Proxies(std::vector<std::string> proxies) {
  AccessOptions o;
  o.trusted_proxies = std::move(proxies);
  o.trusted_user_header = "X-User-Id";
  return o;
}

TEST(AccessControlTest, ClientIpIsThePeerWithoutTrustedProxies) {
  AccessControl access(AccessOptions{});
  EXPECT_EQ(access.ClientIp(Request("203.0.113.7:5555", {{"X-Forwarded-For", "1.2.3.4"}})),
            "203.0.113.7");
  EXPECT_EQ(access.ClientIp(Request("[2001:db8::1]:443", {})), "2001:db8::1");
  // The server writes IPv6 peers without brackets too.
  EXPECT_EQ(access.ClientIp(Request("2001:db8::1:443", {})), "2001:db8::1");
  EXPECT_EQ(access.ClientIp(Request("::ffff:198.51.100.2:80", {})), "198.51.100.2");
  EXPECT_EQ(access.ClientIp(Request("not an address", {})), "");
}

TEST(AccessControlTest, ForwardedForIsBelievedOnlyFromTrustedProxies) {
  AccessControl access(Proxies({"10.0.0.0/8"}));
  HttpRequest via_proxy = Request("10.1.2.3:40000", {{"X-Forwarded-For", "198.51.100.9"}});
  EXPECT_EQ(access.ClientIp(via_proxy), "198.51.100.9");
  HttpRequest direct = Request("192.0.2.1:40000", {{"X-Forwarded-For", "198.51.100.9"}});
  EXPECT_EQ(access.ClientIp(direct), "192.0.2.1");
  // A trusted proxy that sends no X-Forwarded-For is the client.
  EXPECT_EQ(access.ClientIp(Request("10.1.2.3:40000", {})), "10.1.2.3");
}

TEST(AccessControlTest, ForwardedForTakesTheRightMostUntrustedHop) {
  AccessControl access(Proxies({"10.0.0.0/8", "192.168.1.1"}));
  // The client forged the first entry; 203.0.113.5 is what our first proxy saw.
  HttpRequest r =
      Request("10.0.0.2:1", {{"X-Forwarded-For", "6.6.6.6, 203.0.113.5, 192.168.1.1,10.9.9.9"}});
  EXPECT_EQ(access.ClientIp(r), "203.0.113.5");
  // Several X-Forwarded-For fields form one list, in order.
  r = Request("10.0.0.2:1",
              {{"X-Forwarded-For", "6.6.6.6, 203.0.113.5"}, {"x-forwarded-for", "10.0.0.7"}});
  EXPECT_EQ(access.ClientIp(r), "203.0.113.5");
  // Every hop trusted: the left-most.
  r = Request("10.0.0.2:1", {{"X-Forwarded-For", "10.3.3.3, 192.168.1.1"}});
  EXPECT_EQ(access.ClientIp(r), "10.3.3.3");
  // Entries with ports and brackets are addresses too.
  r = Request("10.0.0.2:1", {{"X-Forwarded-For", "203.0.113.6:1234"}});
  EXPECT_EQ(access.ClientIp(r), "203.0.113.6");
  r = Request("10.0.0.2:1", {{"X-Forwarded-For", "[2001:db8::5]:1234"}});
  EXPECT_EQ(access.ClientIp(r), "2001:db8::5");
}

TEST(AccessControlTest, MalformedForwardedForFallsBackToThePeer) {
  AccessControl access(Proxies({"10.0.0.0/8"}));
  for (std::string xff : {"unknown", "203.0.113.5, garbage", "203.0.113.5,,", "1.2.3.4.5",
                          "999.1.1.1", ",", "[::1"}) {
    EXPECT_EQ(access.ClientIp(Request("10.0.0.2:1", {{"X-Forwarded-For", xff}})), "10.0.0.2")
        << xff;
  }
  // A malformed entry left of the first untrusted hop is never read.
  EXPECT_EQ(access.ClientIp(Request("10.0.0.2:1", {{"X-Forwarded-For", "junk, 203.0.113.5"}})),
            "203.0.113.5");
}

TEST(AccessControlTest, CidrBlocksMatchIpv4AndIpv6) {
  AccessControl narrow(Proxies({"172.16.0.0/12", "2001:db8:abcd::/48", "::1", "192.0.2.128/25"}));
  AccessControl all_v4(Proxies({"0.0.0.0/0"}));
  constexpr std::string_view kForwarded = "198.51.100.1";
  struct Case {
    const AccessControl* access;
    std::string peer;
    std::string_view client;  // kForwarded when the peer is trusted
  };
  const Case cases[] = {
      {&narrow, "172.31.255.255:1", kForwarded},
      {&narrow, "172.32.0.0:1", "172.32.0.0"},
      {&narrow, "172.15.255.255:1", "172.15.255.255"},
      {&narrow, "192.0.2.200:1", kForwarded},
      {&narrow, "192.0.2.127:1", "192.0.2.127"},
      {&narrow, "[2001:db8:abcd:ffff::9]:1", kForwarded},
      {&narrow, "[2001:db8:abce::9]:1", "2001:db8:abce::9"},
      {&narrow, "[::1]:1", kForwarded},
      {&narrow, "[::2]:1", "::2"},
      // An IPv4-mapped peer matches the IPv4 block; IPv4 blocks match no other IPv6 peer.
      {&narrow, "[::ffff:172.16.0.1]:1", kForwarded},
      {&all_v4, "8.8.8.8:1", kForwarded},
      {&all_v4, "[2001:db9::1]:1", "2001:db9::1"},
  };
  for (const Case& c : cases) {
    HttpRequest r = Request(c.peer, {{"X-Forwarded-For", std::string(kForwarded)}});
    EXPECT_EQ(c.access->ClientIp(r), c.client) << c.peer;
  }
}

TEST(AccessControlTest, ValidateProxyListNamesTheBadEntry) {
  EXPECT_TRUE(
      ValidateProxyList({"10.0.0.0/8", "::1", "fd00::/8", "1.2.3.4", "::ffff:10.0.0.0/104"}).ok());
  for (std::string bad : {"10.0.0.0/33", "fd00::/129", "10.0.0/8", "10.0.0.0/", "host.example", "",
                          "10.0.0.0/-1", "::ffff:10.0.0.0/95", "10.0.0.0/8x"}) {
    Status s = ValidateProxyList({"10.0.0.1", bad});
    EXPECT_FALSE(s.ok()) << bad;
    EXPECT_NE(s.message().find("'" + bad + "'"), std::string::npos) << s.message();
  }
}

TEST(AccessControlTest, TrustedUserHeaderOnlyFromTrustedProxies) {
  AccessControl access(Proxies({"10.0.0.0/8"}));
  EXPECT_EQ(access.TrustedUser(Request("10.0.0.2:1", {{"x-user-id", "u-42"}})), "u-42");
  EXPECT_EQ(access.TrustedUser(Request("203.0.113.1:1", {{"X-User-Id", "u-42"}})), std::nullopt);
  EXPECT_EQ(access.TrustedUser(Request("10.0.0.2:1", {{"X-User-Id", ""}})), std::nullopt);
  EXPECT_EQ(access.TrustedUser(Request("10.0.0.2:1", {})), std::nullopt);
  AccessOptions no_header = Proxies({"10.0.0.0/8"});
  no_header.trusted_user_header.clear();
  EXPECT_EQ(AccessControl(no_header).TrustedUser(Request("10.0.0.2:1", {{"X-User-Id", "u"}})),
            std::nullopt);
}

// ---- end-user tokens ----

// A JWT with the given header and payload JSON, signed with HS256 under `secret`.
std::string Token(std::string_view payload, std::string_view secret = kSecret,
                  std::string_view header = R"({"alg":"HS256","typ":"JWT"})") {
  return test_util::SignedToken(payload, secret, header);
}

AccessOptions WithSecret(int64_t leeway = 30) {
  AccessOptions o;
  o.jwt_secret = std::string(kSecret);
  o.jwt_leeway_seconds = leeway;
  return o;
}

// The token's error message; fails the test if the token was accepted or the message leaks.
std::string Rejection(const AccessControl& access, const std::string& token) {
  Result<std::string> user = access.UserFromToken(token, kNow);
  if (user.ok()) return "accepted as " + *user;
  EXPECT_EQ(user.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(user.status().clickhouse_code(), ch::kAuthenticationFailed);
  EXPECT_EQ(user.status().message().find(kSecret), std::string::npos);
  if (token.size() > 8) {
    EXPECT_EQ(user.status().message().find(token), std::string::npos);
  }
  return user.status().message();
}

TEST(AccessControlTest, ValidTokenGivesItsSubject) {
  AccessControl access(WithSecret());
  Result<std::string> user = access.UserFromToken(
      Token(R"({"sub":"user-17","exp":1800000600,"nbf":1799999000,"iat":1799999000})"), kNow);
  ASSERT_TRUE(user.ok()) << user.status().ToString();
  EXPECT_EQ(*user, "user-17");
  // exp and nbf are optional.
  user = access.UserFromToken(Token(R"({"sub":"u"})"), kNow);
  ASSERT_TRUE(user.ok()) << user.status().ToString();
  EXPECT_EQ(*user, "u");
}

TEST(AccessControlTest, IntegerSubjectIsItsDecimalText) {
  AccessControl access(WithSecret());
  Result<std::string> user = access.UserFromToken(Token(R"({"sub":12345678901})"), kNow);
  ASSERT_TRUE(user.ok()) << user.status().ToString();
  EXPECT_EQ(*user, "12345678901");
  user = access.UserFromToken(Token(R"({"sub":-3})"), kNow);
  ASSERT_TRUE(user.ok()) << user.status().ToString();
  EXPECT_EQ(*user, "-3");
  user = access.UserFromToken(Token(R"({"sub":18446744073709551615})"), kNow);
  ASSERT_TRUE(user.ok()) << user.status().ToString();
  EXPECT_EQ(*user, "18446744073709551615");
}

TEST(AccessControlTest, WrongSignatureIsRejected) {
  AccessControl access(WithSecret());
  EXPECT_EQ(Rejection(access, Token(R"({"sub":"u"})", "another-secret-of-32-characters!")),
            "token signature does not match");
  // A payload changed after signing: alice's header and signature around admin's payload.
  std::string alice = Token(R"({"sub":"alice"})");
  std::string admin = Token(R"({"sub":"admin"})");
  size_t first = alice.find('.');
  size_t second = alice.rfind('.');
  std::string spliced = alice.substr(0, first) +
                        admin.substr(admin.find('.'), admin.rfind('.') - admin.find('.')) +
                        alice.substr(second);
  EXPECT_EQ(Rejection(access, spliced), "token signature does not match");
  // A signature three bytes short.
  std::string short_signature =
      alice.substr(0, second + 1) +
      Base64Url(HmacSha256(kSecret, alice.substr(0, second)).substr(0, 29));
  EXPECT_EQ(Rejection(access, short_signature), "token signature does not match");
}

TEST(AccessControlTest, AlgorithmsOtherThanHs256AreRejected) {
  AccessControl access(WithSecret());
  // alg none with an empty signature: the classic downgrade.
  std::string none = Base64Url(R"({"alg":"none"})") + "." + Base64Url(R"({"sub":"u"})") + ".";
  EXPECT_EQ(Rejection(access, none), "token algorithm 'none' is not accepted (only HS256)");
  EXPECT_EQ(Rejection(access, Token(R"({"sub":"u"})", kSecret, R"({"alg":"HS512"})")),
            "token algorithm 'HS512' is not accepted (only HS256)");
  EXPECT_EQ(Rejection(access, Token(R"({"sub":"u"})", kSecret, R"({"typ":"JWT"})")),
            "token header has no alg");
  EXPECT_EQ(Rejection(access, Token(R"({"sub":"u"})", kSecret, R"({"alg":"hs256"})")),
            "token algorithm 'hs256' is not accepted (only HS256)");
}

TEST(AccessControlTest, ExpAndNbfHoldWithinTheLeeway) {
  struct Case {
    std::string claims;
    int64_t leeway;
    std::string rejection;  // "" = accepted
  };
  const Case cases[] = {
      // Expired 10 s ago: within the leeway; 30 s ago: exactly the leeway is too late.
      {R"("exp":1799999990)", 30, ""},
      {R"("exp":1799999970)", 30, "token expired at 1799999970 (2027-01-15 07:59:30 UTC)"},
      {R"("exp":1800000000)", 0, "token expired at 1800000000 (2027-01-15 08:00:00 UTC)"},
      {R"("exp":1800000001)", 0, ""},
      {R"("exp":"tomorrow")", 30, "token exp claim is not a number"},
      // Valid from 30 s ahead: within the leeway; 31 s: not yet.
      {R"("nbf":1800000030)", 30, ""},
      {R"("nbf":1800000031)", 30, "token is not valid before 1800000031 (2027-01-15 08:00:31 UTC)"},
      {R"("nbf":1800000001)", 0, "token is not valid before 1800000001 (2027-01-15 08:00:01 UTC)"},
      // Fractional NumericDates are numbers too.
      {R"("nbf":1799999999.5)", 0, ""},
      {R"("nbf":[1])", 30, "token nbf claim is not a number"},
  };
  for (const Case& c : cases) {
    AccessControl access(WithSecret(c.leeway));
    std::string token = Token(R"({"sub":"u",)" + c.claims + "}");
    if (c.rejection.empty()) {
      Result<std::string> user = access.UserFromToken(token, kNow);
      EXPECT_TRUE(user.ok()) << c.claims << ": " << user.status().ToString();
    } else {
      EXPECT_EQ(Rejection(access, token), c.rejection) << c.claims;
    }
  }
}

TEST(AccessControlTest, TokenWithoutUsableSubIsRejected) {
  AccessControl access(WithSecret());
  EXPECT_EQ(Rejection(access, Token(R"({"exp":1800000600})")), "token has no sub claim");
  EXPECT_EQ(Rejection(access, Token(R"({"sub":null})")), "token has no sub claim");
  EXPECT_EQ(Rejection(access, Token(R"({"sub":""})")), "token sub claim is empty");
  EXPECT_EQ(Rejection(access, Token(R"({"sub":1.5})")),
            "token sub claim is neither a string nor an integer");
  EXPECT_EQ(Rejection(access, Token(R"({"sub":{"id":1}})")),
            "token sub claim is neither a string nor an integer");
}

TEST(AccessControlTest, MalformedTokensAreRejected) {
  AccessControl access(WithSecret());
  std::string good = Token(R"({"sub":"u"})");
  EXPECT_EQ(Rejection(access, "abc"), "token is not a JWT (expected header.payload.signature)");
  EXPECT_EQ(Rejection(access, good + ".x"),
            "token is not a JWT (expected header.payload.signature)");
  EXPECT_EQ(Rejection(access, ""), "token is not a JWT (expected header.payload.signature)");
  // Standard base64 characters are not base64url.
  EXPECT_EQ(Rejection(access, "ab+/" + good.substr(good.find('.'))),
            "token header is not base64url");
  EXPECT_EQ(Rejection(access, good + "="), "token signature is not base64url");
  EXPECT_EQ(Rejection(access, Token(R"({"sub":"u"})", kSecret, R"(["HS256"])")),
            "token header is not a JSON object");
  EXPECT_EQ(Rejection(access, Token(R"({"sub":"u"})", kSecret, R"({"alg":"HS256")")),
            "token header is not a JSON object");
  // A payload that is signed but not JSON.
  EXPECT_EQ(Rejection(access, Token("sub=u")), "token payload is not a JSON object");
  std::string bad_payload_b64 = Base64Url(R"({"alg":"HS256"})") + ".a!b";
  EXPECT_EQ(
      Rejection(access, bad_payload_b64 + "." + Base64Url(HmacSha256(kSecret, bad_payload_b64))),
      "token payload is not base64url");
}

TEST(AccessControlTest, TokensAreRefusedWithoutASecret) {
  AccessControl access(AccessOptions{});
  EXPECT_EQ(Rejection(access, Token(R"({"sub":"u"})", "")),
            "end-user tokens are not accepted (no [auth] jwt_secret is configured)");
}

}  // namespace
}  // namespace trackhouse::server
