#include "common/fail_point.h"

#include <cstdlib>
#include <string>

namespace trackhouse {

bool FailPointHit(std::string_view name) {
  static const std::string armed = [] {
    const char* v = std::getenv("TRACKHOUSE_FAIL_POINTS");
    return v == nullptr ? std::string() : "," + std::string(v) + ",";
  }();
  if (armed.empty()) return false;
  return armed.find("," + std::string(name) + ",") != std::string::npos;
}

}  // namespace trackhouse
