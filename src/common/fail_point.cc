#include "common/fail_point.h"

#include <cstdlib>
#include <string>
#include <vector>

namespace trackhouse {
namespace {

std::vector<std::string> ArmedFailPoints() {
  std::vector<std::string> names;
  const char* v = std::getenv("TRACKHOUSE_FAIL_POINTS");
  if (v == nullptr) return names;
  std::string_view list(v);
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view name = list.substr(0, comma);
    if (!name.empty()) names.emplace_back(name);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return names;
}

}  // namespace

bool FailPointHit(std::string_view name) {
  static const std::vector<std::string> armed = ArmedFailPoints();
  for (const auto& a : armed) {
    if (a == name) return true;
  }
  return false;
}

}  // namespace trackhouse
