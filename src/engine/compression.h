// Block compression with a small self-describing, checksummed frame. Parts store every granule
// of every column as one frame; the durable log may use the same frames for its payloads.
//
// Frame layout (13-byte header, all integers little-endian):
//
//   +-------+-----------------+-------------------+------------+---------------------------+
//   | codec | compressed_size | uncompressed_size | crc32c     | payload                   |
//   | u8    | u32             | u32               | u32 masked | compressed_size bytes     |
//   +-------+-----------------+-------------------+------------+---------------------------+
//   0       1                 5                   9            13
//
//   codec            Codec below. kNone: the payload is the input itself.
//   compressed_size  bytes of payload.
//   uncompressed_size bytes the payload decompresses to (== compressed_size for kNone).
//   crc32c           crc32c::Mask(CRC32C of header bytes [0, 9) followed by the payload), so a
//                    flipped bit anywhere in the frame, sizes included, is detected.
//
// Compress falls back to kNone for a frame whose compressed form would not be smaller than its
// input (random data costs 13 bytes of header and no decompression on read).
//
// Pure functions; thread-safe (ZSTD keeps one compression context per thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace trackhouse::engine {

// On-disk codec identifiers: never renumber.
enum class Codec : uint8_t {
  kNone = 0,
  kLZ4 = 1,   // LZ4 block format, default acceleration: ~0.5-1 GB/s compress, ~3 GB/s decompress
  kZSTD = 2,  // Zstandard, level chosen per call (kDefaultZstdLevel)
};

// Bytes in a frame header.
inline constexpr size_t kFrameHeaderSize = 13;
// A frame never holds more than this many uncompressed bytes (guards allocations on corrupt
// input that passes the checksum by chance, and keeps sizes in u32).
inline constexpr uint32_t kMaxFrameUncompressedSize = 1u << 30;
// Level used for kZSTD when the caller passes level 0. Level 1 is ~3x faster than level 3 on
// packed part data and within a few percent of its size (see docs/formats/part.md).
inline constexpr int kDefaultZstdLevel = 1;

// "NONE", "LZ4", "ZSTD".
std::string_view CodecName(Codec codec);
// Parses a codec name, case-insensitively ("lz4", "ZSTD", "none"); InvalidArgument otherwise.
Result<Codec> ParseCodec(std::string_view name);

// Appends one frame holding `in` to *out. `level` applies to kZSTD only (0: kDefaultZstdLevel).
// InvalidArgument if `in` is larger than kMaxFrameUncompressedSize or the codec is unknown.
Status Compress(Codec codec, std::string_view in, std::string* out, int level = 0);

// Decodes the frame header at the front of `data` (which may hold more bytes after the frame)
// into *codec, *compressed_size and *uncompressed_size. Corruption if `data` is shorter than a
// header, the codec is unknown or the sizes are out of range. Does not check the CRC.
Status DecodeFrameHeader(std::string_view data, Codec* codec, uint32_t* compressed_size,
                         uint32_t* uncompressed_size);

// Total bytes (header + payload) of the frame at the front of `data`, from its header.
Result<size_t> FrameSize(std::string_view data);

// Verifies and decompresses exactly one frame (`framed` must hold the whole frame and nothing
// more) and appends the uncompressed bytes to *out. Corruption names the sizes involved:
// truncated frame, trailing bytes, checksum mismatch (stored vs computed), bad codec, or a
// payload that does not decompress to uncompressed_size bytes. Callers add the file and offset
// (Status::WithContext).
Status Decompress(std::string_view framed, std::string* out);

}  // namespace trackhouse::engine
