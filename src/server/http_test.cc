// Pure functions of the server module: URL parsing and the Status -> HTTP error mapping.
#include "server/http.h"

#include <gtest/gtest.h>

#include "common/status.h"
#include "server/http_error.h"
#include "server/version.h"

namespace trackhouse::server {
namespace {

TEST(ParseTargetTest, DecodesPathAndArguments) {
  std::string path;
  std::vector<std::pair<std::string, std::string>> params;
  ParseTarget("/?query=INSERT%20INTO%20t+FORMAT+JSONEachRow&database=db1&flag", &path, &params);
  EXPECT_EQ(path, "/");
  ASSERT_EQ(params.size(), 3u);
  EXPECT_EQ(params[0].first, "query");
  EXPECT_EQ(params[0].second, "INSERT INTO t FORMAT JSONEachRow");
  EXPECT_EQ(params[1].second, "db1");
  EXPECT_EQ(params[2].first, "flag");
  EXPECT_EQ(params[2].second, "");
}

TEST(ParseTargetTest, KeepsMalformedEscapesLiterally) {
  EXPECT_EQ(UrlDecode("100%", true), "100%");
  EXPECT_EQ(UrlDecode("%zz%4", true), "%zz%4");
  EXPECT_EQ(UrlDecode("a+b%2Bc", true), "a b+c");
  EXPECT_EQ(UrlDecode("a+b", false), "a+b");
}

TEST(ParseTargetTest, EncodeRoundTrips) {
  std::string s = "SELECT 'a b', x+1 FROM t WHERE y = \"z\"\n";
  EXPECT_EQ(UrlDecode(UrlEncode(s), true), s);
}

TEST(HttpRequestTest, HeaderLookupIgnoresCase) {
  HttpRequest r;
  r.headers = {{"Content-Type", "text/plain"}, {"X-ClickHouse-Format", "JSON"}};
  EXPECT_EQ(r.Header("content-type"), "text/plain");
  EXPECT_EQ(r.Header("x-clickhouse-format"), "JSON");
  EXPECT_EQ(r.Header("missing"), "");
}

TEST(HttpErrorTest, FormatsLikeClickHouse) {
  HttpError e = ToHttpError(Status::NotFound("Table default.x does not exist", ch::kUnknownTable));
  EXPECT_EQ(e.http_status, 404);
  EXPECT_EQ(e.clickhouse_code, 60);
  EXPECT_EQ(e.body,
            "Code: 60. DB::Exception: Table default.x does not exist. (UNKNOWN_TABLE) "
            "(version " +
                std::string(kVersion) + " (trackhouse))\n");
}

TEST(HttpErrorTest, DoesNotDoubleTheFinalDot) {
  HttpError e = ToHttpError(Status::InvalidArgument("Syntax error: bad.", ch::kSyntaxError));
  EXPECT_EQ(e.http_status, 400);
  EXPECT_EQ(e.body.rfind("Code: 62. DB::Exception: Syntax error: bad. (SYNTAX_ERROR)", 0), 0u);
}

TEST(HttpErrorTest, MapsCodesAsClickHouse) {
  EXPECT_EQ(ToHttpError(Status::NotSupported("x")).http_status, 501);
  EXPECT_EQ(ToHttpError(Status::InvalidArgument("x", ch::kCannotParseText)).http_status, 400);
  EXPECT_EQ(ToHttpError(Status::InvalidArgument("x", ch::kUnknownFormat)).http_status, 404);
  EXPECT_EQ(ToHttpError(Status::InvalidArgument("x", ch::kReadonly)).http_status, 500);
  EXPECT_EQ(ToHttpError(Status::InvalidArgument("x", ch::kAuthenticationFailed)).http_status, 403);
  EXPECT_EQ(ToHttpError(Status::Timeout("x")).http_status, 408);
  EXPECT_EQ(ToHttpError(Status::Internal("x")).http_status, 500);
}

TEST(HttpErrorTest, OverloadIsRetryable503) {
  HttpError e = ToHttpError(Status::ResourceExhausted("memtables full", ch::kServerOverloaded));
  EXPECT_EQ(e.http_status, 503);
  EXPECT_EQ(e.retry_after_seconds, 1);
  EXPECT_EQ(e.clickhouse_code, ch::kServerOverloaded);
  EXPECT_EQ(ToHttpError(Status::Unavailable("stopping")).http_status, 503);
}

TEST(HttpErrorTest, AFullDiskIsRetryable503ThatSaysTheDiskIsFull) {
  HttpError e = ToHttpError(Status::ResourceExhausted(
      "append /data/wal/00000001.log: No space left on device", ch::kNotEnoughSpace));
  EXPECT_EQ(e.http_status, 503);
  EXPECT_EQ(e.retry_after_seconds, 1);
  EXPECT_EQ(e.clickhouse_code, ch::kNotEnoughSpace);
  EXPECT_EQ(e.message, "the disk is full: append /data/wal/00000001.log: No space left on device");
  EXPECT_EQ(e.body.rfind("Code: 243. DB::Exception: the disk is full: append", 0), 0u) << e.body;
  // A message that says so already is left alone.
  EXPECT_EQ(ToHttpError(Status::ResourceExhausted("the disk is full: retry", ch::kNotEnoughSpace))
                .message,
            "the disk is full: retry");
}

TEST(HttpErrorTest, StatusWithoutClickHouseCodeGetsOne) {
  HttpError e = ToHttpError(Status(StatusCode::kIOError, "disk on fire", 0));
  EXPECT_NE(e.clickhouse_code, 0);
  EXPECT_EQ(e.http_status, 500);
}

}  // namespace
}  // namespace trackhouse::server
