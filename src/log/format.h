// Private to the log module: the on-disk layout shared by the writer and the recovery reader.
// The format is described in writer.h and docs/formats/log.md. Stateless; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace trackhouse::log::format {

inline constexpr char kSegmentMagic[8] = {'T', 'H', 'L', 'O', 'G', 'S', 'E', 'G'};
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr size_t kSegmentHeaderSize = 32;
inline constexpr size_t kRecordHeaderSize = 28;

inline constexpr uint32_t kFlagLz4 = 1;  // the stored payload is an LZ4 block
inline constexpr uint32_t kKnownFlags = kFlagLz4;

// Largest payload one record may carry (before and after compression).
inline constexpr uint64_t kMaxPayloadBytes = 1u << 30;

// Payloads at least this large are offered to LZ4; the result is kept when it is smaller by at
// least 1/8.
inline constexpr size_t kMinCompressBytes = 256;

// "00000000000000000042.log" for a segment whose first LSN is 42.
std::string SegmentFileName(uint64_t first_lsn);
// Parses a name made by SegmentFileName; false for any other file.
bool ParseSegmentFileName(std::string_view name, uint64_t* first_lsn);

void EncodeSegmentHeader(uint64_t first_lsn, char* dst);  // writes kSegmentHeaderSize bytes

struct RecordHeader {
  uint32_t masked_crc = 0;
  uint32_t length = 0;  // stored payload bytes after the header
  uint64_t lsn = 0;
  uint32_t raw_length = 0;  // payload bytes once decompressed (== length if not compressed)
  uint32_t group_pos = 0;   // records before this one in its write group
  uint32_t flags = 0;
};

void EncodeRecordHeader(const RecordHeader& h, char* dst);  // writes kRecordHeaderSize bytes
RecordHeader DecodeRecordHeader(const char* src);

// The masked CRC stored in a record header: CRC32C over the stored payload (whose plain CRC is
// `payload_crc`) followed by the header bytes [4, kRecordHeaderSize). `header` is the encoded
// header; its first 4 bytes are ignored.
uint32_t RecordCrc(uint32_t payload_crc, const char* header);

}  // namespace trackhouse::log::format
