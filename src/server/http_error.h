// The one mapping from a Status to an HTTP error response, as ClickHouse's HTTP interface
// reports errors: status code chosen from the ClickHouse error code (ClickHouse's
// exceptionCodeToHTTPStatus), header `X-ClickHouse-Exception-Code: N`, and a text body
//
//   Code: 60. DB::Exception: Table default.x does not exist. (UNKNOWN_TABLE) (version 0.1.0 ...)
//
// Pure functions; thread-safe.
#pragma once

#include <string>

#include "common/status.h"

namespace trackhouse::server {

struct HttpError {
  // HTTP status code: 400, 404, 500, 501, 503...
  int http_status = 500;
  // The ClickHouse error code sent in X-ClickHouse-Exception-Code (never 0).
  int clickhouse_code = 0;
  // The status's message as the client should read it: a full disk (NOT_ENOUGH_SPACE) says
  // so first ("the disk is full: ..."), whatever file operation met it. /track reports it in
  // its JSON error; `body` is built from it.
  std::string message;
  // The response body, ending in '\n'.
  std::string body;
  // Seconds for a Retry-After header; 0 = no header. Set for push-back (overload) errors.
  int retry_after_seconds = 0;
};

// Maps a non-OK Status to the response that reports it. A status without a ClickHouse code
// gets one derived from its StatusCode (e.g. ResourceExhausted -> MEMORY_LIMIT_EXCEEDED).
// Overload errors (kResourceExhausted, kUnavailable) are 503 with Retry-After, following the
// design's push-back rule -- except a query over its own limits (MEMORY_LIMIT_EXCEEDED,
// TOO_MANY_ROWS[_OR_BYTES]), which a retry would not fix; every other status maps exactly as
// ClickHouse maps its code. A full disk (ResourceExhausted, NOT_ENOUGH_SPACE) is such push-back:
// the store takes writes again by itself once space is freed.
HttpError ToHttpError(const Status& status);

// "Code: N. DB::Exception: <message>. (NAME) (version V (trackhouse))" without a newline.
std::string FormatClickHouseException(int clickhouse_code, std::string_view message);

}  // namespace trackhouse::server
