#include "clickhouse/errors.h"

#include <cctype>

#include "common/error_codes.h"

namespace trackhouse::clickhouse {
namespace {

constexpr std::string_view kCodePrefix = "Code: ";
constexpr std::string_view kExceptionMarker = "DB::Exception: ";

bool IsUpperName(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!(std::isupper(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
          c == '_')) {
      return false;
    }
  }
  return true;
}

std::string_view TrimRight(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// "msg, e.what() = DB::Exception" (18.x) -> "msg"; "msg (UNKNOWN_TABLE) (version 23.8.2.7 (official
// build))" -> "msg".
std::string_view CleanMessage(std::string_view msg) {
  msg = TrimRight(msg);
  if (size_t p = msg.rfind(", e.what() = "); p != std::string_view::npos) msg = msg.substr(0, p);
  if (size_t p = msg.rfind(" (version "); p != std::string_view::npos) msg = msg.substr(0, p);
  msg = TrimRight(msg);
  if (!msg.empty() && msg.back() == ')') {
    size_t open = msg.rfind(" (");
    if (open != std::string_view::npos &&
        IsUpperName(msg.substr(open + 2, msg.size() - open - 3))) {
      msg = msg.substr(0, open);
    }
  }
  return TrimRight(msg);
}

}  // namespace

std::optional<ServerException> ParseServerException(std::string_view body) {
  size_t pos = 0;
  while ((pos = body.find(kCodePrefix, pos)) != std::string_view::npos) {
    size_t start = pos;
    pos += kCodePrefix.size();
    if (start != 0 && body[start - 1] != '\n') continue;  // not at a line start: data, not an error
    size_t digits = pos;
    int code = 0;
    while (digits < body.size() && std::isdigit(static_cast<unsigned char>(body[digits])) &&
           digits - pos < 9) {
      code = code * 10 + (body[digits] - '0');
      ++digits;
    }
    if (digits == pos) continue;
    std::string_view rest = body.substr(digits);
    size_t line_end = rest.find("\n");
    size_t marker = rest.find(kExceptionMarker);
    std::string_view message;
    if (marker != std::string_view::npos && (line_end == std::string_view::npos || marker < line_end)) {
      message = rest.substr(marker + kExceptionMarker.size());
    } else {
      // "Code: N. message" without the DB::Exception marker.
      message = rest;
      while (!message.empty() && (message.front() == '.' || message.front() == ',' ||
                                  message.front() == ' ')) {
        message.remove_prefix(1);
      }
    }
    return ServerException{code, std::string(CleanMessage(message))};
  }
  return std::nullopt;
}

Status StatusFromServerCode(int code, std::string message) {
  switch (code) {
    case ch::kUnknownTable:
    case ch::kUnknownDatabase:
      return Status::NotFound(std::move(message), code);
    case ch::kTableAlreadyExists:
    case ch::kDatabaseAlreadyExists:
      return Status::AlreadyExists(std::move(message), code);
    case ch::kTimeoutExceeded:
    case kSocketTimeout:
      return Status::Timeout(std::move(message), code);
    case ch::kServerOverloaded:  // TOO_MANY_SIMULTANEOUS_QUERIES
    case ch::kTooManyParts:
    case ch::kTableIsReadOnly:  // a replica that lost ZooKeeper
    case kNetworkError:
    case kNoZooKeeper:
    case kTooFewLiveReplicas:
    case kUnknownStatusOfInsert:
    case kKeeperException:
      return Status::Unavailable(std::move(message), code);
    case ch::kMemoryLimitExceeded:
    case ch::kNotEnoughSpace:
    case ch::kQuotaExceeded:
      return Status::ResourceExhausted(std::move(message), code);
    case ch::kQueryWasCancelled:
      return Status::Aborted(std::move(message), code);
    case ch::kNotImplemented:
      return Status::NotSupported(std::move(message), code);
    case ch::kLogicalError:
      return Status::Internal(std::move(message), code);
    default:
      return Status::InvalidArgument(std::move(message), code);
  }
}

Status StatusFromHttpError(long http_status, std::string_view body, int header_code) {
  std::optional<ServerException> e = ParseServerException(body);
  if (header_code > 0) {
    return StatusFromServerCode(header_code, e ? std::move(e->message)
                                               : std::string(CleanMessage(body)));
  }
  if (e) return StatusFromServerCode(e->code, std::move(e->message));
  std::string text = "ClickHouse answered HTTP " + std::to_string(http_status);
  std::string_view excerpt = TrimRight(body.substr(0, 200));
  if (!excerpt.empty()) text += ": " + std::string(excerpt);
  if (http_status >= 500 || http_status == 429) return Status::Unavailable(std::move(text));
  return Status::InvalidArgument(std::move(text), 0);
}

bool IsRetryable(const Status& status) {
  switch (status.code()) {
    case StatusCode::kUnavailable:
    case StatusCode::kTimeout:
    case StatusCode::kResourceExhausted:
      return true;
    default:
      return false;
  }
}

}  // namespace trackhouse::clickhouse
