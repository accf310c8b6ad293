#include "clickhouse/errors.h"

#include <gtest/gtest.h>

#include "common/error_codes.h"

namespace trackhouse::clickhouse {
namespace {

// Expects `body` to hold ClickHouse exception `code` with `message`.
void ExpectException(std::string_view body, int code, std::string_view message) {
  std::optional<ServerException> e = ParseServerException(body);
  ASSERT_TRUE(e.has_value()) << body;
  EXPECT_EQ(e->code, code) << body;
  EXPECT_EQ(e->message, message) << body;
}

TEST(ParseServerExceptionTest, ReadsTheWordingOf18_16) {
  ExpectException(
      "Code: 60, e.displayText() = DB::Exception: Table default.nope doesn't exist., "
      "e.what() = DB::Exception\n",
      60, "Table default.nope doesn't exist.");
}

TEST(ParseServerExceptionTest, ReadsTheWordingOfCurrentVersions) {
  ExpectException(
      "Code: 62. DB::Exception: Syntax error: failed at position 1 ('SELEC'): SELEC 1. "
      "(SYNTAX_ERROR) (version 23.8.2.7 (official build))\n",
      62, "Syntax error: failed at position 1 ('SELEC'): SELEC 1.");
}

TEST(ParseServerExceptionTest, KeepsMultiLineMessagesOf18_16) {
  ExpectException(
      "Code: 62, e.displayText() = DB::Exception: Syntax error: failed at position 1: SELEC 1\n"
      ". Expected one of: SELECT, e.what() = DB::Exception\n",
      62, "Syntax error: failed at position 1: SELEC 1\n. Expected one of: SELECT");
}

TEST(ParseServerExceptionTest, FindsAnExceptionAfterStreamedRows) {
  ExpectException(
      "1\n2\nCode: 395, e.displayText() = DB::Exception: Value passed to 'throwIf' function "
      "is non zero, e.what() = DB::Exception\n",
      395, "Value passed to 'throwIf' function is non zero");
}

TEST(ParseServerExceptionTest, IgnoresTextThatIsNotAnException) {
  EXPECT_FALSE(ParseServerException("").has_value());
  EXPECT_FALSE(ParseServerException("Bad Gateway").has_value());
  EXPECT_FALSE(ParseServerException("zip Code: 12 inside a row\n").has_value());
  EXPECT_FALSE(ParseServerException("Code: none").has_value());
}

TEST(StatusFromServerCodeTest, MapsCodeClassesToStatusCodesAndKeepsTheCode) {
  struct Case {
    int code;
    StatusCode expected;
  } cases[] = {
      {ch::kUnknownTable, StatusCode::kNotFound},
      {ch::kUnknownDatabase, StatusCode::kNotFound},
      {ch::kTableAlreadyExists, StatusCode::kAlreadyExists},
      {ch::kSyntaxError, StatusCode::kInvalidArgument},
      {ch::kTypeMismatch, StatusCode::kInvalidArgument},
      {ch::kUnknownUser, StatusCode::kInvalidArgument},
      {ch::kTimeoutExceeded, StatusCode::kTimeout},
      {ch::kTooManyParts, StatusCode::kUnavailable},
      {ch::kServerOverloaded, StatusCode::kUnavailable},
      {kNetworkError, StatusCode::kUnavailable},
      {kKeeperException, StatusCode::kUnavailable},
      {ch::kMemoryLimitExceeded, StatusCode::kResourceExhausted},
      {ch::kQueryWasCancelled, StatusCode::kAborted},
      {ch::kNotImplemented, StatusCode::kNotSupported},
      {ch::kLogicalError, StatusCode::kInternal},
  };
  for (const Case& c : cases) {
    Status s = StatusFromServerCode(c.code, "message");
    EXPECT_EQ(s.code(), c.expected) << "code " << c.code;
    EXPECT_EQ(s.clickhouse_code(), c.code);
    EXPECT_EQ(s.message(), "message");
  }
}

TEST(StatusFromHttpErrorTest, UsesTheBodysException) {
  Status s = StatusFromHttpError(
      404, "Code: 60, e.displayText() = DB::Exception: Table default.t doesn't exist., e.what() "
           "= DB::Exception\n");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.clickhouse_code(), ch::kUnknownTable);
}

TEST(StatusFromHttpErrorTest, PrefersTheExceptionCodeHeader) {
  Status s = StatusFromHttpError(500, "Code: 1. DB::Exception: x\n", ch::kTooManyParts);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.clickhouse_code(), ch::kTooManyParts);
  EXPECT_EQ(s.message(), "x");
}

TEST(StatusFromHttpErrorTest, ServerErrorsWithoutACodeAreRetryable) {
  Status s = StatusFromHttpError(502, "Bad Gateway");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "ClickHouse answered HTTP 502: Bad Gateway");
  EXPECT_TRUE(IsRetryable(s));
  EXPECT_EQ(StatusFromHttpError(503, "").code(), StatusCode::kUnavailable);
  EXPECT_EQ(StatusFromHttpError(429, "").code(), StatusCode::kUnavailable);
  Status client_error = StatusFromHttpError(400, "nonsense");
  EXPECT_EQ(client_error.code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(IsRetryable(client_error));
}

TEST(IsRetryableTest, OnlyTransientFailuresAreRetryable) {
  EXPECT_TRUE(IsRetryable(Status::Unavailable("down")));
  EXPECT_TRUE(IsRetryable(Status::Timeout("slow")));
  EXPECT_TRUE(IsRetryable(Status::ResourceExhausted("full")));
  EXPECT_FALSE(IsRetryable(Status::OK()));
  EXPECT_FALSE(IsRetryable(Status::InvalidArgument("bad row")));
  EXPECT_FALSE(IsRetryable(Status::NotFound("no table", ch::kUnknownTable)));
}

}  // namespace
}  // namespace trackhouse::clickhouse
