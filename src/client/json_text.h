// Small text helpers of the client library: JSON string escaping, UTF-8 validation and
// the tracker's time stamp. Stateless; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace trackhouse::client {

// True if `s` is well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool IsValidUtf8(std::string_view s);

// Appends `s` as a quoted JSON string: ", \ and control characters escaped.
void AppendJsonString(std::string_view s, std::string* out);

// "YYYY-MM-DD hh:mm:ss.sss" (UTC) of a point in time.
std::string FormatUtcMillis(std::chrono::system_clock::time_point t);

}  // namespace trackhouse::client
