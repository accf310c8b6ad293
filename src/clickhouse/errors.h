// How ClickHouse's answers become Status values: the exception text of an HTTP error body
// ("Code: 60. DB::Exception: ..." and 18.x's "Code: 60, e.displayText() = DB::Exception: ...")
// parsed into its code and message, the code mapped to a StatusCode by class, and transport
// failures (refused, timed out, cut off) mapped to Unavailable. Pure functions; thread-safe.
//
//   ClickHouse code                                    StatusCode
//   60 UNKNOWN_TABLE, 81 UNKNOWN_DATABASE              NotFound
//   57 TABLE_ALREADY_EXISTS, 82 DATABASE_ALREADY_EXISTS AlreadyExists
//   159 TIMEOUT_EXCEEDED, 209 SOCKET_TIMEOUT           Timeout        (retryable)
//   202, 252 TOO_MANY_PARTS, 210, 242, 225, 999, ...   Unavailable    (retryable)
//   241 MEMORY_LIMIT_EXCEEDED, 243, 201 QUOTA_EXCEEDED ResourceExhausted (retryable)
//   394 QUERY_WAS_CANCELLED                            Aborted
//   48 NOT_IMPLEMENTED                                 NotSupported
//   49 LOGICAL_ERROR                                   Internal
//   anything else (syntax, types, parsing, auth, ...)  InvalidArgument (the request is at fault)
// The Status always keeps the server's code (Status::clickhouse_code()).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace trackhouse::clickhouse {

// ClickHouse codes this module assigns to failures that never reached the server's query
// processing (the names are ClickHouse's own).
inline constexpr int kSocketTimeout = 209;   // SOCKET_TIMEOUT: the request timed out
inline constexpr int kNetworkError = 210;    // NETWORK_ERROR: refused, reset, cut off
inline constexpr int kNoZooKeeper = 225;     // NO_ZOOKEEPER
inline constexpr int kTooFewLiveReplicas = 285;
inline constexpr int kUnknownStatusOfInsert = 319;
inline constexpr int kKeeperException = 999;

// An exception as ClickHouse reports it.
struct ServerException {
  int code = 0;
  // The text after "DB::Exception: ", without 18.x's ", e.what() = ..." tail and newer
  // versions' " (NAME) (version ...)" suffix: "Table default.nope doesn't exist."
  std::string message;
};

// Finds "Code: N" followed by "DB::Exception: ..." in `body` (anywhere: an exception thrown
// while a result streams comes after the rows already sent). nullopt when there is none.
std::optional<ServerException> ParseServerException(std::string_view body);

// The Status for ClickHouse error `code` with `message` (see the table above); never OK.
Status StatusFromServerCode(int code, std::string message);

// The Status for an HTTP answer that is not a 200: the exception in the body when there is one
// (the header code, e.g. newer servers' X-ClickHouse-Exception-Code, wins when given and > 0),
// otherwise Unavailable for 5xx and 429 and InvalidArgument for other statuses.
Status StatusFromHttpError(long http_status, std::string_view body, int header_code = 0);

// True for failures worth retrying unchanged later: Unavailable, Timeout, ResourceExhausted.
// An INSERT that failed so may or may not have been applied (see docs/clickhouse-mode.md).
bool IsRetryable(const Status& status);

}  // namespace trackhouse::clickhouse
