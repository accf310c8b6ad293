#include "log/format.h"

#include <cstring>

#include "common/coding.h"
#include "common/crc32c.h"

namespace trackhouse::log::format {

namespace {
constexpr size_t kLsnDigits = 20;  // enough for any uint64_t
constexpr std::string_view kSegmentSuffix = ".log";
}  // namespace

std::string SegmentFileName(uint64_t first_lsn) {
  std::string digits = std::to_string(first_lsn);
  return std::string(kLsnDigits - digits.size(), '0') + digits + std::string(kSegmentSuffix);
}

bool ParseSegmentFileName(std::string_view name, uint64_t* first_lsn) {
  if (name.size() != kLsnDigits + kSegmentSuffix.size() || !name.ends_with(kSegmentSuffix)) {
    return false;
  }
  uint64_t v = 0;
  for (size_t i = 0; i < kLsnDigits; ++i) {
    char c = name[i];
    if (c < '0' || c > '9') return false;
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - digit) / 10) return false;  // overflow
    v = v * 10 + digit;
  }
  *first_lsn = v;
  return true;
}

void EncodeSegmentHeader(uint64_t first_lsn, char* dst) {
  std::memcpy(dst, kSegmentMagic, 8);
  EncodeFixed32(dst + 8, kFormatVersion);
  EncodeFixed32(dst + 12, 0);  // flags, reserved
  EncodeFixed64(dst + 16, first_lsn);
  EncodeFixed32(dst + 24, 0);  // reserved
  EncodeFixed32(dst + 28, crc32c::Mask(crc32c::Value(dst, 28)));
}

void EncodeRecordHeader(const RecordHeader& h, char* dst) {
  EncodeFixed32(dst, h.masked_crc);
  EncodeFixed32(dst + 4, h.length);
  EncodeFixed64(dst + 8, h.lsn);
  EncodeFixed32(dst + 16, h.raw_length);
  EncodeFixed32(dst + 20, h.group_pos);
  EncodeFixed32(dst + 24, h.flags);
}

RecordHeader DecodeRecordHeader(const char* src) {
  RecordHeader h;
  h.masked_crc = DecodeFixed32(src);
  h.length = DecodeFixed32(src + 4);
  h.lsn = DecodeFixed64(src + 8);
  h.raw_length = DecodeFixed32(src + 16);
  h.group_pos = DecodeFixed32(src + 20);
  h.flags = DecodeFixed32(src + 24);
  return h;
}

uint32_t RecordCrc(uint32_t payload_crc, const char* header) {
  return crc32c::Mask(crc32c::Extend(payload_crc, header + 4, kRecordHeaderSize - 4));
}

}  // namespace trackhouse::log::format
