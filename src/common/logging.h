// Structured logs: each line is one event, a name (`flush_failed`) plus key/value fields,
// written to stderr in one of two formats (docs/logs.md lists every event and its fields):
//
//   text: 2026-11-25T05:00:00.123Z ERROR flush_failed table=default.events retry_ms=200
//   json: {"ts":"2026-11-25T05:00:00.123Z","level":"error","event":"flush_failed",...}
//
// Text values are written bare when they are plain (letters, digits, `._-:/@+,`...), otherwise
// double-quoted with `"`, `\` and control characters escaped, so one event is always one line.
// JSON values are escaped as JSON strings (invalid UTF-8 becomes U+FFFD).
//
// Secrets never belong in a field; as a second line of defence the renderer replaces the value
// of any field whose name says it holds one (`key`, `*_key`, `password`, `token`, `secret`,
// `authorization`, `cookie`, in any case) by "[redacted]".
//
// Owns the process-wide logger (spdlog is the backend; it writes whole lines under its lock).
// Thread-safe: Configure() may run at any time (usually once at startup); Log() from any
// thread. A disabled level costs one atomic load: fields are views, formatted only if written.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "common/status.h"

namespace trackhouse::logging {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };
enum class Format { kText, kJson };

// "debug", "info", "warn", "error", "off"; also "trace" (= debug), "warning" (= warn) and
// "critical" (= error), the names [log] level accepted before. InvalidArgument otherwise.
Result<Level> ParseLevel(std::string_view name);
// "text" or "json"; InvalidArgument otherwise.
Result<Format> ParseFormat(std::string_view name);
// "debug", "info", "warn", "error", "off".
std::string_view LevelName(Level level);

// One field's value: a string (viewed, not copied: it must outlive the Log call, which a
// temporary in the call's argument list does), an integer, a double or a bool.
class Value {
 public:
  Value(std::string_view s) : v_(s) {}                      // NOLINT(google-explicit-constructor)
  Value(const char* s) : v_(std::string_view(s)) {}         // NOLINT(google-explicit-constructor)
  Value(const std::string& s) : v_(std::string_view(s)) {}  // NOLINT(google-explicit-constructor)
  Value(bool b) : v_(b) {}                                  // NOLINT(google-explicit-constructor)
  template <typename T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool> && std::is_signed_v<T>) Value(T i)
      : v_(static_cast<int64_t>(i)) {}  // NOLINT(google-explicit-constructor)
  template <typename T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool> && std::is_unsigned_v<T>) Value(T u)
      : v_(static_cast<uint64_t>(u)) {}  // NOLINT(google-explicit-constructor)
  Value(double d) : v_(d) {}             // NOLINT(google-explicit-constructor)

  const std::variant<std::string_view, int64_t, uint64_t, double, bool>& get() const { return v_; }

 private:
  std::variant<std::string_view, int64_t, uint64_t, double, bool> v_;
};

struct Field {
  std::string_view key;  // an identifier: lower_snake_case
  Value value;
};
using Fields = std::initializer_list<Field>;

// Sets the lowest level written and the format. Defaults: info, text.
void Configure(Level level, Format format);
Level CurrentLevel();
Format CurrentFormat();
// Whether an event at `level` would be written (to skip building costly fields).
bool Enabled(Level level);

// Writes `event` with `fields` (in order) if `level` is enabled, stamped with the wall clock.
void Log(Level level, std::string_view event, Fields fields = {});
inline void Debug(std::string_view event, Fields fields = {}) { Log(Level::kDebug, event, fields); }
inline void Info(std::string_view event, Fields fields = {}) { Log(Level::kInfo, event, fields); }
inline void Warn(std::string_view event, Fields fields = {}) { Log(Level::kWarn, event, fields); }
inline void Error(std::string_view event, Fields fields = {}) { Log(Level::kError, event, fields); }

// The line (without its newline) that Log writes for an event at `time_micros` (UTC).
std::string Render(Format format, int64_t time_micros, Level level, std::string_view event,
                   Fields fields);

// While alive, written lines (without newlines) are kept here instead of going to stderr, for
// tests that check which events a component logs. At most one at a time (a programmer bug
// otherwise; aborts). Thread-safe.
class CaptureForTesting {
 public:
  CaptureForTesting();
  ~CaptureForTesting();
  CaptureForTesting(const CaptureForTesting&) = delete;
  CaptureForTesting& operator=(const CaptureForTesting&) = delete;

  std::vector<std::string> lines() const;
  // Whether a captured line is event `event` (in either format).
  bool Contains(std::string_view event) const;

  void Append(std::string line);  // called by Log

 private:
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
};

}  // namespace trackhouse::logging
