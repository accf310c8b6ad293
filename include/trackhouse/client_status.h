// trackhouse::client::Status and Result<T>: how the public client library (tracker.h) reports
// failure. Installed with the library; depends on the standard library only.
//
// A Status is a code from a small fixed set and a message; an OK status carries no allocation.
// Result<T> holds either a T or a non-OK Status. Both are [[nodiscard]]: a status ignored on
// purpose is spelled `status.IgnoreError()`. Values are immutable once made and safe to copy
// between threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace trackhouse::client {

enum class StatusCode : uint8_t {
  kOk = 0,
  kInvalidArgument,    // bad input from the caller: options, a row, a table name
  kNotFound,           // a file or table that does not exist
  kCorruption,         // on-disk bytes (the spool) that fail their checksum or format
  kIOError,            // the operating system refused a read, write or sync
  kUnavailable,        // temporarily unable (server unreachable, tracker stopped): retry later
  kResourceExhausted,  // a bound was hit (queue full): push back, retry later
  kTimeout,            // a deadline passed
  kRejected,           // the server refused the request for good (4xx other than 408/429)
  kInternal,           // a bug: an invariant did not hold
};

// "OK", "InvalidArgument", ...
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status Corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
  static Status IOError(std::string m) { return {StatusCode::kIOError, std::move(m)}; }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status ResourceExhausted(std::string m) {
    return {StatusCode::kResourceExhausted, std::move(m)};
  }
  static Status Timeout(std::string m) { return {StatusCode::kTimeout, std::move(m)}; }
  static Status Rejected(std::string m) { return {StatusCode::kRejected, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "InvalidArgument: message" (or "OK").
  std::string ToString() const;

  // Marks a status as deliberately ignored.
  void IgnoreError() const {}

  bool operator==(const Status& other) const = default;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Result<T>: a T, or the non-OK Status that explains why there is none. value() on a failed
// Result is a programming error (std::bad_optional_access).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT: must not be OK

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { return value_.value(); }
  const T& value() const& { return value_.value(); }
  T&& value() && { return std::move(value_).value(); }
  T* operator->() { return &value_.value(); }
  const T* operator->() const { return &value_.value(); }
  T& operator*() & { return value_.value(); }
  const T& operator*() const& { return value_.value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace trackhouse::client
