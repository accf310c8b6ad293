#include "server/auth.h"

#include <gtest/gtest.h>

namespace trackhouse::server {
namespace {

HttpRequest Request(std::vector<std::pair<std::string, std::string>> params,
                    std::vector<std::pair<std::string, std::string>> headers) {
  HttpRequest r;
  r.method = "POST";
  r.path = "/";
  r.params = std::move(params);
  r.headers = std::move(headers);
  return r;
}

constexpr std::string_view kFailedDefault =
    "default: Authentication failed: password is incorrect, or there is no user with such name";

TEST(AuthTest, NoCredentialsIsDefaultUserWithEmptyPassword) {
  Authenticator auth({});
  auto user = auth.Authenticate(Request({}, {}));
  ASSERT_TRUE(user.ok()) << user.status().ToString();
  EXPECT_EQ(*user, "default");
}

TEST(AuthTest, DefaultUserRejectsAPassword) {
  Authenticator auth({});
  auto user = auth.Authenticate(Request({{"password", "secret"}}, {}));
  ASSERT_FALSE(user.ok());
  EXPECT_EQ(user.status().clickhouse_code(), ch::kAuthenticationFailed);
  EXPECT_EQ(user.status().message(), kFailedDefault);
  EXPECT_EQ(user.status().message().find("secret"), std::string::npos);
}

TEST(AuthTest, ConfiguredUsersByEveryForm) {
  Authenticator auth({{"alice", "s3cret"}, {"bob", ""}});
  // Headers.
  auto u = auth.Authenticate(
      Request({}, {{"X-ClickHouse-User", "alice"}, {"X-ClickHouse-Key", "s3cret"}}));
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(*u, "alice");
  // Basic auth: "alice:s3cret".
  u = auth.Authenticate(Request({}, {{"Authorization", "Basic YWxpY2U6czNjcmV0"}}));
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(*u, "alice");
  // URL arguments.
  u = auth.Authenticate(Request({{"user", "bob"}}, {}));
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(*u, "bob");
  // With users configured, `default` is not one of them.
  u = auth.Authenticate(Request({}, {}));
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.status().message(), kFailedDefault);
}

TEST(AuthTest, WrongPasswordAndUnknownUserLookTheSame) {
  Authenticator auth(std::vector<UserEntry>{{"alice", "s3cret"}});
  auto wrong = auth.Authenticate(Request({{"user", "alice"}, {"password", "nope"}}, {}));
  auto unknown = auth.Authenticate(Request({{"user", "mallory"}, {"password", "s3cret"}}, {}));
  ASSERT_FALSE(wrong.ok());
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(wrong.status().message(),
            "alice: Authentication failed: password is incorrect, or there is no user with such "
            "name");
  EXPECT_EQ(unknown.status().clickhouse_code(), ch::kAuthenticationFailed);
  // A prefix of the password is not the password.
  EXPECT_FALSE(auth.Authenticate(Request({{"user", "alice"}, {"password", "s3cre"}}, {})).ok());
  EXPECT_FALSE(auth.Authenticate(Request({{"user", "alice"}, {"password", "s3crett"}}, {})).ok());
}

TEST(AuthTest, MixingFormsIsRefused) {
  Authenticator auth({});
  auto r = auth.Authenticate(Request({{"user", "default"}}, {{"X-ClickHouse-User", "default"}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "Invalid authentication: it is not allowed to use X-ClickHouse HTTP headers and "
            "authentication via parameters simultaneously");
  r = auth.Authenticate(
      Request({}, {{"X-ClickHouse-User", "default"}, {"Authorization", "Basic ZGVmYXVsdDo="}}));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("Authorization HTTP header"), std::string::npos);
  r = auth.Authenticate(Request({{"password", ""}}, {{"Authorization", "Basic ZGVmYXVsdDo="}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().clickhouse_code(), ch::kAuthenticationFailed);
}

TEST(AuthTest, MalformedAuthorization) {
  Authenticator auth({});
  auto r = auth.Authenticate(Request({}, {{"Authorization", "Bearer abc"}}));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("'Bearer' HTTP Authorization scheme is not supported"),
            std::string::npos);
  EXPECT_FALSE(auth.Authenticate(Request({}, {{"Authorization", "Basic !!!"}})).ok());
  // "default:" decodes fine: the default user with an empty password.
  EXPECT_TRUE(auth.Authenticate(Request({}, {{"Authorization", "Basic ZGVmYXVsdDo="}})).ok());
  EXPECT_FALSE(auth.Authenticate(Request({}, {{"X-ClickHouse-Key", "x"}})).ok());
}

TEST(AuthTest, Base64) {
  EXPECT_EQ(*DecodeBase64("YWxpY2U6czNjcmV0"), "alice:s3cret");
  EXPECT_EQ(*DecodeBase64("YQ=="), "a");
  EXPECT_EQ(*DecodeBase64("YQ"), "a");
  EXPECT_FALSE(DecodeBase64("Y").ok());
  EXPECT_FALSE(DecodeBase64("a$b").ok());
}

}  // namespace
}  // namespace trackhouse::server
