// Status and Result<T>: how every module reports failure across its boundary.
//
// A Status is a small value: a code from a fixed set, an optional ClickHouse error code (what
// the HTTP interface reports as `Code: N. DB::Exception: ...`) and a message. An OK status
// carries no allocation. Result<T> holds either a T or a non-OK Status. Both are
// [[nodiscard]]: a status that is ignored on purpose is spelled `status.IgnoreError()`.
// Values are immutable once made and safe to copy between threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "common/error_codes.h"

namespace trackhouse {

enum class StatusCode : uint8_t {
  kOk = 0,
  kInvalidArgument,    // bad input from a caller: SQL, rows, options
  kNotFound,           // a table, database, file or key that does not exist
  kAlreadyExists,      // creating what is already there
  kCorruption,         // on-disk bytes that fail their checksum or format
  kIOError,            // the operating system refused a read, write or sync
  kUnavailable,        // temporarily unable (shutting down, peer down): retry later
  kResourceExhausted,  // a bound was hit (memory, queue, disk): push back, retry later
  kNotSupported,       // valid but unsupported syntax or feature
  kTimeout,            // a deadline passed
  kAborted,            // the operation was cancelled
  kInternal,           // a bug: an invariant did not hold
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message, int clickhouse_code = 0)
      : code_(code), clickhouse_code_(clickhouse_code), message_(std::move(message)) {}

  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string msg, int ch = ch::kBadArguments) {
    return {StatusCode::kInvalidArgument, std::move(msg), ch};
  }
  static Status NotFound(std::string msg, int ch = 0) {
    return {StatusCode::kNotFound, std::move(msg), ch};
  }
  static Status AlreadyExists(std::string msg, int ch = 0) {
    return {StatusCode::kAlreadyExists, std::move(msg), ch};
  }
  static Status Corruption(std::string msg, int ch = ch::kCorruptedData) {
    return {StatusCode::kCorruption, std::move(msg), ch};
  }
  static Status IOError(std::string msg, int ch = ch::kCannotWriteToFile) {
    return {StatusCode::kIOError, std::move(msg), ch};
  }
  static Status Unavailable(std::string msg, int ch = 0) {
    return {StatusCode::kUnavailable, std::move(msg), ch};
  }
  static Status ResourceExhausted(std::string msg, int ch = ch::kMemoryLimitExceeded) {
    return {StatusCode::kResourceExhausted, std::move(msg), ch};
  }
  static Status NotSupported(std::string msg, int ch = ch::kNotImplemented) {
    return {StatusCode::kNotSupported, std::move(msg), ch};
  }
  static Status Timeout(std::string msg, int ch = ch::kTimeoutExceeded) {
    return {StatusCode::kTimeout, std::move(msg), ch};
  }
  static Status Aborted(std::string msg, int ch = ch::kQueryWasCancelled) {
    return {StatusCode::kAborted, std::move(msg), ch};
  }
  static Status Internal(std::string msg, int ch = ch::kLogicalError) {
    return {StatusCode::kInternal, std::move(msg), ch};
  }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  // The ClickHouse error code reported to ClickHouse clients; 0 when none applies.
  int clickhouse_code() const { return clickhouse_code_; }
  const std::string& message() const { return message_; }

  // "InvalidArgument: message" (or "OK").
  std::string ToString() const;

  // Returns a copy whose message is `context + ": " + message()`.
  Status WithContext(std::string_view context) const;

  // Marks a status as deliberately ignored.
  void IgnoreError() const {}

  bool operator==(const Status& other) const = default;

 private:
  StatusCode code_ = StatusCode::kOk;
  int clickhouse_code_ = 0;
  std::string message_;
};

// Result<T>: a T, or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT: must not be OK

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace trackhouse

#define TH_CONCAT_IMPL(a, b) a##b
#define TH_CONCAT(a, b) TH_CONCAT_IMPL(a, b)

// Returns from the enclosing function if `expr` (a Status) is not OK.
#define TH_RETURN_IF_ERROR(expr)          \
  do {                                    \
    ::trackhouse::Status _th_st = (expr); \
    if (!_th_st.ok()) return _th_st;      \
  } while (0)

// `TH_ASSIGN_OR_RETURN(auto x, ResultExpr())`: binds the value or returns the status.
#define TH_ASSIGN_OR_RETURN(lhs, expr) \
  TH_ASSIGN_OR_RETURN_IMPL(TH_CONCAT(_th_res_, __LINE__), lhs, expr)
#define TH_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()
