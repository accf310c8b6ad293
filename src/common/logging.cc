#include "common/logging.h"

#include <fmt/format.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <memory>

#include "common/clock.h"

namespace trackhouse::logging {
namespace {

std::atomic<Level> g_level{Level::kInfo};
std::atomic<Format> g_format{Format::kText};
// The capture, if any. Log() appends to it under g_capture_mu, so that destroying it while
// another thread logs is safe.
std::atomic<CaptureForTesting*> g_capture{nullptr};
std::mutex g_capture_mu;

// Lines are rendered whole by Render; the backend adds nothing but the newline.
spdlog::logger& Backend() {
  static auto* logger = [] {
    auto l = new spdlog::logger("trackhouse", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    l->set_pattern("%v");
    l->set_level(spdlog::level::trace);
    l->flush_on(spdlog::level::trace);
    return l;
  }();
  return *logger;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    if (x != b[i]) return false;
  }
  return true;
}

bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle) {
  for (size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    if (EqualsIgnoreCase(haystack.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

// Field names whose values are never written (see the header).
bool IsSecretName(std::string_view key) {
  if (EqualsIgnoreCase(key, "key")) return true;
  if (key.size() > 4 && EqualsIgnoreCase(key.substr(key.size() - 4), "_key")) return true;
  for (std::string_view word : {"password", "token", "secret", "authorization", "cookie"}) {
    if (ContainsIgnoreCase(key, word)) return true;
  }
  return false;
}

// The length of the valid UTF-8 sequence at s[i], or 0 when the bytes there are not one.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  size_t n;
  uint32_t cp;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  // Overlong forms, surrogates and code points past U+10FFFF are not valid UTF-8.
  if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
      (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
    return 0;
  }
  return n;
}

// Appends `s` in double quotes, with `"`, `\`, newlines, tabs and other control characters
// escaped. Bytes that are not valid UTF-8 and control characters without a short escape become
// \ufffd and \u00XX in JSON, \xNN in text.
void AppendQuoted(std::string* out, std::string_view s, Format format) {
  const bool json = format == Format::kJson;
  out->push_back('"');
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      size_t n = Utf8SequenceLength(s, i);
      if (n != 0) {
        out->append(s.substr(i, n));
        i += n;
        continue;
      }
      if (json) {
        out->append("\\ufffd");
      } else {
        fmt::format_to(std::back_inserter(*out), "\\x{:02x}", c);
      }
    } else if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    } else if (c == '\n' || c == '\r' || c == '\t') {
      out->push_back('\\');
      out->push_back(c == '\n' ? 'n' : c == '\r' ? 'r' : 't');
    } else if ((c < 0x20 || c == 0x7F) && json) {
      fmt::format_to(std::back_inserter(*out), "\\u{:04x}", c);
    } else if (c < 0x20 || c == 0x7F) {
      fmt::format_to(std::back_inserter(*out), "\\x{:02x}", c);
    } else {
      out->push_back(static_cast<char>(c));
    }
    ++i;
  }
  out->push_back('"');
}

void AppendJsonString(std::string* out, std::string_view s) { AppendQuoted(out, s, Format::kJson); }

// Characters a bare logfmt value may hold; anything else makes the value quoted.
bool IsBareChar(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("._-:/@+,[]()*%<>!?~^|&;'#$").find(static_cast<char>(c)) !=
             std::string_view::npos;
}

void AppendTextValue(std::string* out, std::string_view s) {
  bool bare = !s.empty();
  for (char c : s) bare = bare && IsBareChar(static_cast<unsigned char>(c));
  if (bare) {
    out->append(s);
  } else {
    AppendQuoted(out, s, Format::kText);
  }
}

void AppendValue(std::string* out, Format format, const Value& value) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string_view>) {
          if (format == Format::kJson) {
            AppendJsonString(out, v);
          } else {
            AppendTextValue(out, v);
          }
        } else if constexpr (std::is_same_v<T, bool>) {
          out->append(v ? "true" : "false");
        } else if constexpr (std::is_same_v<T, double>) {
          if (std::isfinite(v)) {
            fmt::format_to(std::back_inserter(*out), "{}", v);
          } else {
            out->append(format == Format::kJson ? "null" : (std::isnan(v) ? "nan" : "inf"));
          }
        } else {
          fmt::format_to(std::back_inserter(*out), "{}", v);
        }
      },
      value.get());
}

void AppendTimestamp(std::string* out, int64_t time_micros) {
  int64_t secs = time_micros >= 0 ? time_micros / 1000000 : (time_micros - 999999) / 1000000;
  int64_t millis = (time_micros - secs * 1000000) / 1000;
  time_t t = static_cast<time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  fmt::format_to(std::back_inserter(*out), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 millis);
}

}  // namespace

Result<Level> ParseLevel(std::string_view name) {
  if (name == "trace" || name == "debug") return Level::kDebug;
  if (name == "info") return Level::kInfo;
  if (name == "warn" || name == "warning") return Level::kWarn;
  if (name == "error" || name == "critical") return Level::kError;
  if (name == "off") return Level::kOff;
  return Status::InvalidArgument(
      fmt::format("unknown log level '{}' (debug, info, warn, error, off)", name));
}

Result<Format> ParseFormat(std::string_view name) {
  if (name == "text") return Format::kText;
  if (name == "json") return Format::kJson;
  return Status::InvalidArgument(fmt::format("unknown log format '{}' (text, json)", name));
}

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
    case Level::kOff:
      return "off";
  }
  return "?";
}

void Configure(Level level, Format format) {
  g_level.store(level, std::memory_order_relaxed);
  g_format.store(format, std::memory_order_relaxed);
}

Level CurrentLevel() { return g_level.load(std::memory_order_relaxed); }
Format CurrentFormat() { return g_format.load(std::memory_order_relaxed); }

bool Enabled(Level level) {
  return level != Level::kOff && level >= g_level.load(std::memory_order_relaxed);
}

std::string Render(Format format, int64_t time_micros, Level level, std::string_view event,
                   Fields fields) {
  std::string out;
  out.reserve(96 + 32 * fields.size());
  if (format == Format::kJson) {
    out.append("{\"ts\":\"");
    AppendTimestamp(&out, time_micros);
    out.append("\",\"level\":");
    AppendJsonString(&out, LevelName(level));
    out.append(",\"event\":");
    AppendJsonString(&out, event);
    for (const Field& f : fields) {
      out.push_back(',');
      AppendJsonString(&out, f.key);
      out.push_back(':');
      AppendValue(&out, format, IsSecretName(f.key) ? Value("[redacted]") : f.value);
    }
    out.push_back('}');
    return out;
  }
  AppendTimestamp(&out, time_micros);
  out.push_back(' ');
  for (char c : LevelName(level)) out.push_back(static_cast<char>(c - 'a' + 'A'));
  out.push_back(' ');
  AppendTextValue(&out, event);
  for (const Field& f : fields) {
    out.push_back(' ');
    AppendTextValue(&out, f.key);
    out.push_back('=');
    AppendValue(&out, format, IsSecretName(f.key) ? Value("[redacted]") : f.value);
  }
  return out;
}

void Log(Level level, std::string_view event, Fields fields) {
  if (!Enabled(level)) return;
  std::string line = Render(g_format.load(std::memory_order_relaxed), Clock::Real()->NowMicros(),
                            level, event, fields);
  if (g_capture.load() != nullptr) {
    std::lock_guard lock(g_capture_mu);
    if (CaptureForTesting* capture = g_capture.load(); capture != nullptr) {
      capture->Append(std::move(line));
      return;
    }
  }
  Backend().info(line);
}

CaptureForTesting::CaptureForTesting() {
  std::lock_guard lock(g_capture_mu);
  CaptureForTesting* expected = nullptr;
  if (!g_capture.compare_exchange_strong(expected, this)) std::abort();
}

CaptureForTesting::~CaptureForTesting() {
  std::lock_guard lock(g_capture_mu);
  g_capture.store(nullptr);
}

std::vector<std::string> CaptureForTesting::lines() const {
  std::lock_guard lock(mu_);
  return lines_;
}

bool CaptureForTesting::Contains(std::string_view event) const {
  std::lock_guard lock(mu_);
  for (const std::string& line : lines_) {
    std::string_view l = line;
    if (!l.empty() && l.front() == '{') {
      size_t at = l.find("\"event\":\"");
      if (at == std::string_view::npos) continue;
      l.remove_prefix(at + 9);
      if (l.substr(0, l.find('"')) == event) return true;
    } else {
      // "<ts> <LEVEL> <event> ..."
      size_t first = l.find(' ');
      size_t second = first == std::string_view::npos ? first : l.find(' ', first + 1);
      if (second == std::string_view::npos) continue;
      l.remove_prefix(second + 1);
      if (l.substr(0, l.find(' ')) == event) return true;
    }
  }
  return false;
}

void CaptureForTesting::Append(std::string line) {
  std::lock_guard lock(mu_);
  lines_.push_back(std::move(line));
}

}  // namespace trackhouse::logging
