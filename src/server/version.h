// The trackhouse version, reported by `trackhouse version`, /health and in ClickHouse-style error
// bodies ("(version 0.1.0 (trackhouse))"). A constant; thread-safe.
#pragma once

#include <string_view>

namespace trackhouse::server {

inline constexpr std::string_view kVersion = "0.1.0";

}  // namespace trackhouse::server
