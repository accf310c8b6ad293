#include "server/http_error.h"

#include <fmt/format.h>

#include "common/error_codes.h"
#include "server/version.h"

namespace trackhouse::server {
namespace {

// ClickHouse error codes that exceptionCodeToHTTPStatus() does not need names for in
// error_codes.h; listed here with their numbers from ClickHouse's ErrorCodes.cpp.
constexpr int kCannotParseQuotedString = 26;
constexpr int kUnknownElementInAst = 37;
constexpr int kUnknownDirectionOfSorting = 64;
constexpr int kUnknownTypeOfQuery = 78;
constexpr int kUnknownDatabaseEngine = 336;
constexpr int kSocketTimeout = 209;
constexpr int kHttpLengthRequired = 381;
constexpr int kThereIsNoColumnReal = 8;

int DefaultClickHouseCode(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument:
      return ch::kBadArguments;
    case StatusCode::kNotFound:
      return ch::kBadArguments;
    case StatusCode::kAlreadyExists:
      return ch::kTableAlreadyExists;
    case StatusCode::kCorruption:
      return ch::kCorruptedData;
    case StatusCode::kIOError:
      return ch::kCannotWriteToFile;
    case StatusCode::kUnavailable:
      return ch::kServerOverloaded;
    case StatusCode::kResourceExhausted:
      return ch::kMemoryLimitExceeded;
    case StatusCode::kNotSupported:
      return ch::kNotImplemented;
    case StatusCode::kTimeout:
      return ch::kTimeoutExceeded;
    case StatusCode::kAborted:
      return ch::kQueryWasCancelled;
    case StatusCode::kInternal:
      return ch::kLogicalError;
    case StatusCode::kOk:
      break;
  }
  return ch::kLogicalError;
}

// ClickHouse's exceptionCodeToHTTPStatus (src/Server/HTTP/exceptionCodeToHTTPStatus.cpp).
int ClickHouseHttpStatus(int c) {
  if (c == ch::kRequiredPassword) return 401;
  if (c == ch::kUnknownUser || c == ch::kWrongPassword || c == ch::kAuthenticationFailed ||
      c == ch::kAccessDenied) {
    return 403;
  }
  switch (c) {
    case ch::kBadArguments:
    case ch::kCannotParseText:
    case ch::kCannotParseEscapeSequence:
    case kCannotParseQuotedString:
    case ch::kCannotParseDate:
    case ch::kCannotParseDateTime:
    case ch::kCannotParseNumber:
    case ch::kCannotParseInputAssertionFailed:
    case ch::kDuplicateColumn:
    case ch::kIllegalColumn:
    case kUnknownElementInAst:
    case kThereIsNoColumnReal:
    case ch::kSyntaxError:
    case ch::kIncorrectData:
    case ch::kTypeMismatch:
    case ch::kValueIsOutOfRangeOfDataType:
      return 400;
    case ch::kUnknownTable:
    case ch::kUnknownFunction:
    case ch::kUnknownIdentifier:
    case ch::kUnknownType:
    case ch::kUnknownStorage:
    case ch::kUnknownDatabase:
    case ch::kUnknownSetting:
    case kUnknownDirectionOfSorting:
    case ch::kUnknownAggregateFunction:
    case ch::kUnknownFormat:
    case kUnknownDatabaseEngine:
    case kUnknownTypeOfQuery:
      return 404;
    case ch::kNotImplemented:
      return 501;
    case kSocketTimeout:
    case ch::kCannotOpenFile:
      return 503;
    case kHttpLengthRequired:
      return 411;
    case ch::kQueryIsTooLarge:
      return 413;
    case ch::kTimeoutExceeded:
      return 408;
    default:
      break;
  }
  return 500;
}

}  // namespace

std::string FormatClickHouseException(int clickhouse_code, std::string_view message) {
  std::string out = fmt::format("Code: {}. DB::Exception: {}", clickhouse_code, message);
  if (!message.empty() && message.back() != '.') out += '.';
  fmt::format_to(std::back_inserter(out), " ({}) (version {} (trackhouse))",
                 ch::ErrorCodeName(clickhouse_code), kVersion);
  return out;
}

HttpError ToHttpError(const Status& status) {
  HttpError e;
  e.clickhouse_code = status.clickhouse_code() != 0 ? status.clickhouse_code()
                                                    : DefaultClickHouseCode(status.code());
  // A query over its own limits (memory, rows) is not overload: retrying it would fail again.
  bool query_limit = e.clickhouse_code == ch::kMemoryLimitExceeded ||
                     e.clickhouse_code == ch::kTooManyRowsOrBytes ||
                     e.clickhouse_code == ch::kTooManyRows;
  if ((status.code() == StatusCode::kResourceExhausted && !query_limit) ||
      status.code() == StatusCode::kUnavailable) {
    e.http_status = 503;
    e.retry_after_seconds = 1;
  } else {
    e.http_status = ClickHouseHttpStatus(e.clickhouse_code);
  }
  e.message = status.message();
  if (e.clickhouse_code == ch::kNotEnoughSpace &&
      e.message.find("disk is full") == std::string::npos) {
    e.message = "the disk is full: " + e.message;
  }
  e.body = FormatClickHouseException(e.clickhouse_code, e.message) + "\n";
  return e;
}

}  // namespace trackhouse::server
