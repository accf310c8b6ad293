// CRC32C (Castagnoli), used by every checksummed on-disk format. Uses the SSE4.2 instruction
// when the CPU has it, a table otherwise. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace trackhouse::crc32c {

// CRC32C of data, continuing from `init` (the CRC of the bytes before it).
uint32_t Extend(uint32_t init, const char* data, size_t n);
inline uint32_t Value(const char* data, size_t n) { return Extend(0, data, n); }
inline uint32_t Value(std::string_view s) { return Extend(0, s.data(), s.size()); }

// Masked form stored on disk, so that a CRC of data containing CRCs stays strong.
inline uint32_t Mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }
inline uint32_t Unmask(uint32_t m) {
  uint32_t rot = m - 0xa282ead8u;
  return (rot >> 17) | (rot << 15);
}

}  // namespace trackhouse::crc32c
