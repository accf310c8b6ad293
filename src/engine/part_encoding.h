// Column encodings used inside part files: how the rows of one granule of one column become the
// uncompressed payload of a compressed frame (engine/compression.h), and back. Private to the
// engine's part code (part_writer / part_reader); the byte layouts are documented in
// docs/formats/part.md ("Granule payloads").
//
// Integer-like columns (Int*, UInt*, Bool, Date, DateTime, DateTime64, the indices of a
// LowCardinality column, and the nested values of Nullable of those) are written as an integer
// stream with one of three transforms, chosen per column per part and recorded in the part meta:
//
//   kPlain      the values as little-endian fixed-width integers (Column::Serialize).
//   kPack       frame-of-reference bit packing: values minus a reference, in the fewest bits,
//               in miniblocks of kMiniblockRows values that each pick their own bit width.
//   kDeltaPack  differences between consecutive values (wrapping, so lossless for every type),
//               then packed as above. Sorted key and time columns become runs of small numbers.
//
// Floats, String and FixedString are written in their Column::Serialize form; the frame codec
// (LZ4/ZSTD) does the rest. A LowCardinality column has one dictionary per part (the
// column file's first frame) and per-granule indices into it.
//
// All functions are pure or operate on caller-owned state; a GranuleEncoder holds scratch
// buffers and is not thread-safe (use one per thread). Decoders never trust their input: any
// malformed payload is Corruption, never a crash or an out-of-bounds read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "types/column.h"
#include "types/data_type.h"

namespace trackhouse::engine {

// Per-column transform of the integer stream, persisted in the part meta. Never renumber.
enum class Transform : uint8_t {
  kPlain = 0,
  kPack = 1,
  kDeltaPack = 2,
};

// Values per bit-packing miniblock (each has a 1-byte width header).
inline constexpr size_t kMiniblockRows = 32;

// "plain", "pack", "delta_pack".
std::string_view TransformName(Transform t);
bool IsValidTransform(uint8_t t);

// True if `type` is written as an integer stream (see above), so that kPack/kDeltaPack apply.
bool HasIntegerStream(const types::DataType& type);

// A LowCardinality column's dictionary for one part: the distinct strings the column's rows
// use, most frequent first (small indices pack into fewer bits), ties by byte order.
struct PartDictionary {
  std::vector<std::string> values;
  // remap[i]: position in `values` of the column's own dictionary entry i (UINT32_MAX: unused).
  std::vector<uint32_t> remap;
};
PartDictionary BuildPartDictionary(const types::ColumnLowCardinality& column);
// Dictionary payload: varint count, then each value length-prefixed (varint + bytes).
void EncodeDictionary(const std::vector<std::string>& values, std::string* out);
Status DecodeDictionary(std::string_view payload, std::vector<std::string>* values);

// Encodes granules of one column. Holds scratch buffers; reuse it across granules and columns.
class GranuleEncoder {
 public:
  // Picks the transform for `column` (all its rows, granules of `granularity` rows): the
  // smallest estimated packed size over up to 16 evenly spaced granules; kPack on ties. Columns
  // without an integer stream get kPlain.
  Transform ChooseTransform(const types::Column& column, size_t granularity,
                            const PartDictionary* dict);

  // Appends the payload of rows [begin, begin + count) of `column` to *out. `dict` is the part
  // dictionary of a LowCardinality column (nullptr otherwise).
  void Encode(const types::Column& column, size_t begin, size_t count, Transform transform,
              const PartDictionary* dict, std::string* out);

 private:
  template <typename T>
  void EncodeVector(const T* values, size_t count, Transform transform, std::string* out);
  void EncodeStream(Transform transform, std::string* out);
  size_t EstimateStream(Transform transform);

  std::vector<uint64_t> keys_;  // the integer stream of the current granule, as u64 keys
  std::vector<uint32_t> indices_;
};

// Makes `dict` (a part dictionary) the dictionary of the empty LowCardinality `column`, in
// order, so that granules decode their indices without remapping. False, leaving a column
// that remaps, if the column already had values or `dict` repeats a value (a corrupt part).
bool SeedDictionary(const std::vector<std::string>& dict, types::ColumnLowCardinality* column);

// Appends `rows` rows decoded from `payload` (one granule) to *column, whose type must be the
// type the payload was written for. `dict` is the part dictionary of a LowCardinality column;
// `dict_in_column` says SeedDictionary(dict, column) succeeded, so indices are kept as stored
// (otherwise each is remapped through the column's dictionary).
// Corruption (naming the sizes) if the payload is malformed or has trailing bytes.
Status DecodeGranule(std::string_view payload, size_t rows, Transform transform,
                     const std::vector<std::string>* dict, bool dict_in_column,
                     types::Column* column);

}  // namespace trackhouse::engine
