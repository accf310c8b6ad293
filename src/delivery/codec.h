// Small decoding helpers shared by the delivery module's record formats (records.cc,
// schema_cache.cc), on top of common/coding.h. Each returns false when `in` is too short and
// then leaves the output unspecified. Internal to src/delivery.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/coding.h"

namespace trackhouse::delivery::codec {

inline void PutI64(std::string* out, int64_t v) { PutFixed64(out, static_cast<uint64_t>(v)); }

inline bool GetI64(std::string_view* in, int64_t* v) {
  uint64_t u = 0;
  if (!GetFixed64(in, &u)) return false;
  *v = static_cast<int64_t>(u);
  return true;
}

inline bool GetString(std::string_view* in, std::string* out) {
  std::string_view v;
  if (!GetLengthPrefixed(in, &v)) return false;
  out->assign(v);
  return true;
}

inline bool GetU8(std::string_view* in, uint8_t* v) {
  if (in->empty()) return false;
  *v = static_cast<uint8_t>((*in)[0]);
  in->remove_prefix(1);
  return true;
}

}  // namespace trackhouse::delivery::codec
