// The on-disk format of an immutable part: file names, constants, the part metadata (PartMeta)
// and the checksummed envelope shared by the part's small files. docs/formats/part.md is the
// full specification; part_writer.h has the record diagrams.
//
// A part directory holds, for a table with columns c1..cn:
//
//   part.meta      PartMeta (this header), checksummed
//   primary.idx    the sort-key values at each granule boundary, checksummed
//   <c>.bin        column c: one compressed frame per granule (LowCardinality: a dictionary
//                  frame first)
//   <c>.mrk        column c: the byte offset of each granule's frame in <c>.bin, checksummed
//
// where <c> is the column name escaped for file systems (EscapeColumnName).
//
// Pure functions and plain structs; thread-safe.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "engine/compression.h"
#include "engine/part_encoding.h"
#include "types/value.h"

namespace trackhouse::engine {

// Version of the part format written by this code; readers accept 1..kPartFormatVersion.
inline constexpr uint32_t kPartFormatVersion = 1;
// Rows per granule unless the table says otherwise (ClickHouse's index_granularity).
inline constexpr uint32_t kDefaultGranularity = 8192;

// Magic numbers of the checksummed files (little-endian u32 of the ASCII letters).
inline constexpr uint32_t kMetaMagic = 0x4d504854;   // "THPM"
inline constexpr uint32_t kMarksMagic = 0x4b4d4854;  // "THMK"
inline constexpr uint32_t kIndexMagic = 0x49504854;  // "THPI"

inline constexpr std::string_view kMetaFileName = "part.meta";
inline constexpr std::string_view kPrimaryIndexFileName = "primary.idx";
inline constexpr std::string_view kDataFileSuffix = ".bin";
inline constexpr std::string_view kMarksFileSuffix = ".mrk";
// A part is written in a sibling directory named kTempPartPrefix + <final name> and renamed
// into place; directories with this prefix are leftovers of interrupted writes, safe to delete.
inline constexpr std::string_view kTempPartPrefix = "tmp_";

// Column name -> file-name stem: [A-Za-z0-9_] are kept, every other byte becomes %XX
// (uppercase hex), so any name maps to a distinct, portable file name ("a.b" -> "a%2Eb").
std::string EscapeColumnName(std::string_view name);
std::string ColumnDataFileName(std::string_view column);   // "<escaped>.bin"
std::string ColumnMarksFileName(std::string_view column);  // "<escaped>.mrk"
// The temporary directory WritePart uses for `dir_final`: "<parent>/tmp_<basename>".
std::string TempPartDir(std::string_view dir_final);

// ClickHouse-style part name "<partition_id>_<min_block>_<max_block>_<level>", e.g.
// "202401_1_5_1". Callers name part directories with it (the format does not require it).
std::string PartName(std::string_view partition_id, uint64_t min_block, uint64_t max_block,
                     uint32_t level);

// Metadata of one part, persisted as part.meta. All min/max values are in the column's physical
// representation (types/value.h). A min/max pair whose min is NULL means "unknown" (for
// example a column holding only NULLs); readers must then assume any value may be present.
struct PartMeta {
  uint32_t format_version = kPartFormatVersion;
  std::string partition_id;  // e.g. "202401", "20240131", "all"
  uint64_t rows = 0;
  uint32_t granularity = kDefaultGranularity;  // rows per granule; the last may be shorter
  uint64_t min_block = 0, max_block = 0;       // block-number range (ClickHouse part naming)
  uint32_t level = 0;                          // merge depth: 0 for a freshly inserted part
  // name, type text, in table order at write time.
  std::vector<std::pair<std::string, std::string>> columns;
  // Column names of the ORDER BY key (expressions are materialized as columns by the caller).
  std::vector<std::string> sort_key;
  // min/max per sort-key column (same order as sort_key), NULLs ignored.
  std::vector<std::pair<types::Value, types::Value>> key_minmax;
  // min/max of every integer, float, time and LowCardinality column, of the sort-key columns,
  // and of any other column the writer was asked for; NULLs (and NaNs) ignored.
  std::map<std::string, std::pair<types::Value, types::Value>> column_minmax;
  int64_t ttl_min = 0, ttl_max = 0;  // min/max of the TTL expression (unix seconds), 0 if none
  Codec codec = Codec::kLZ4;         // codec the writer asked for (frames may be kNone)
  std::map<std::string, uint64_t> column_bytes;        // bytes of <c>.bin per column
  std::map<std::string, Transform> column_transforms;  // integer-stream transform per column
  uint64_t primary_index_bytes = 0;                    // bytes of primary.idx

  size_t num_granules() const {
    return granularity == 0 ? 0 : static_cast<size_t>((rows + granularity - 1) / granularity);
  }
  // Rows in granule g (< num_granules()).
  size_t GranuleRows(size_t g) const {
    uint64_t begin = static_cast<uint64_t>(g) * granularity;
    return static_cast<size_t>(std::min<uint64_t>(granularity, rows - begin));
  }
  // Index in `columns`, or -1.
  int FindColumn(std::string_view name) const;
};

// part.meta bytes for `meta` (a checksummed envelope around the encoded fields).
std::string EncodePartMeta(const PartMeta& meta);
// Parses part.meta read from `path` (used in error messages). Corruption names the path, the
// offset and the sizes; NotSupported for a newer format version.
Result<PartMeta> DecodePartMeta(std::string_view data, const std::string& path);

// Sizes of the fixed parts of the checksummed envelope: magic u32, version u32, body length
// u64 before the body, masked CRC32C u32 after it.
inline constexpr size_t kEnvelopeHeaderSize = 16;
inline constexpr size_t kEnvelopeTrailerSize = 4;

// Appends an envelope holding `body` to *out:
//   magic u32 | version u32 | body_length u64 | body | crc32c u32 (masked, over all before it)
void AppendEnvelope(uint32_t magic, std::string_view body, std::string* out);
// Checks the envelope of a whole file (`data`, read from `path`) and returns its body.
// Corruption names the path, the offset and the sizes; NotSupported for a version newer than
// kPartFormatVersion.
Result<std::string_view> OpenEnvelope(std::string_view data, uint32_t magic,
                                      const std::string& path);

// Value <-> bytes, used by part.meta: kind u8, then Int: zigzag varint, UInt: varint,
// Float: IEEE-754 bits as fixed64, String: length-prefixed bytes, NULL: nothing,
// Array: varint element count, then each element as a Value.
void PutValue(std::string* out, const types::Value& v);
bool GetValue(std::string_view* in, types::Value* v);

}  // namespace trackhouse::engine
