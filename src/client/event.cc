// Event: JSON text of one row, built field by field.
#include <charconv>
#include <cmath>
#include <cstdio>

#include "client/json_text.h"
#include "trackhouse/tracker.h"

namespace trackhouse {

bool Event::AddName(std::string_view name) {
  if (!error_.empty()) return false;
  if (name.empty()) {
    error_ = "a field has an empty name";
    return false;
  }
  if (Has(name)) {
    error_ = "field '" + std::string(name) + "' is set twice";
    return false;
  }
  if (!client::IsValidUtf8(name)) {
    error_ = "a field name is not valid UTF-8";
    return false;
  }
  names_.emplace_back(name);
  if (!fields_.empty()) fields_ += ',';
  client::AppendJsonString(name, &fields_);
  fields_ += ':';
  return true;
}

bool Event::Has(std::string_view name) const {
  for (const std::string& n : names_) {
    if (n == name) return true;
  }
  return false;
}

Event& Event::Set(std::string_view name, std::string_view value) {
  if (!client::IsValidUtf8(value)) {
    if (error_.empty()) error_ = "field '" + std::string(name) + "' is not valid UTF-8";
    return *this;
  }
  if (AddName(name)) client::AppendJsonString(value, &fields_);
  return *this;
}

Event& Event::SetInt(std::string_view name, int64_t value) {
  if (AddName(name)) fields_ += std::to_string(value);
  return *this;
}

Event& Event::SetUInt(std::string_view name, uint64_t value) {
  if (AddName(name)) fields_ += std::to_string(value);
  return *this;
}

Event& Event::Set(std::string_view name, double value) {
  if (!std::isfinite(value)) {
    if (error_.empty()) error_ = "field '" + std::string(name) + "' is not a finite number";
    return *this;
  }
  if (!AddName(name)) return *this;
  char buf[32];
  // Shortest text that reads back as the same double.
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  fields_.append(buf, end);
  return *this;
}

Event& Event::Set(std::string_view name, bool value) {
  if (AddName(name)) fields_ += value ? "true" : "false";
  return *this;
}

Event& Event::SetNull(std::string_view name) {
  if (AddName(name)) fields_ += "null";
  return *this;
}

}  // namespace trackhouse
