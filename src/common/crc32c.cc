#include "common/crc32c.h"

#include <nmmintrin.h>

#include <cstring>

namespace trackhouse::crc32c {
namespace {

struct Table {
  uint32_t t[256];
  Table() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
      t[i] = c;
    }
  }
};

bool HaveSse42() { return __builtin_cpu_supports("sse4.2"); }

__attribute__((target("sse4.2"))) uint32_t ExtendHw(uint32_t crc, const char* p, size_t n) {
  uint64_t c = crc;
  while (n >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    c = _mm_crc32_u64(c, v);
    p += 8;
    n -= 8;
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  while (n--) c32 = _mm_crc32_u8(c32, static_cast<uint8_t>(*p++));
  return c32;
}

uint32_t ExtendSw(uint32_t crc, const char* p, size_t n) {
  static const Table table;
  while (n--) crc = table.t[(crc ^ static_cast<uint8_t>(*p++)) & 0xff] ^ (crc >> 8);
  return crc;
}

}  // namespace

uint32_t Extend(uint32_t init, const char* data, size_t n) {
  static const bool hw = HaveSse42();
  uint32_t crc = ~init;
  crc = hw ? ExtendHw(crc, data, n) : ExtendSw(crc, data, n);
  return ~crc;
}

}  // namespace trackhouse::crc32c
