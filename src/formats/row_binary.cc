// RowBinary: rows of values in column order with no separators, in ClickHouse's binary
// encoding: fixed-width numbers little-endian (Bool as UInt8, Date as UInt16 days, DateTime as
// UInt32 seconds, DateTime64 as Int64 ticks); String and LowCardinality(String) as an unsigned
// LEB128 byte length then the bytes; FixedString(N) as exactly N bytes; Nullable(T) as a 0x00
// byte then T, or 0x01 for NULL.
//
// A row whose bytes have not all arrived is decoded again from its start on the next chunk
// (strings are not copied until complete), so a row costs O(row) per chunk it spans.
#include <fmt/format.h>

#include <bit>
#include <cstring>
#include <type_traits>

#include "formats/format_parsers.h"

namespace trackhouse::formats {
namespace {

static_assert(std::endian::native == std::endian::little,
              "RowBinary decoding assumes a little-endian host");

class RowBinaryParser final : public StreamingParser {
 public:
  RowBinaryParser() : StreamingParser("RowBinary", /*skip_bom=*/false) {}

 protected:
  Result<size_t> Parse(const char* data, size_t size, bool eof) override;

 private:
  // Outcome of decoding one value.
  enum class Read : uint8_t { kDone, kNeedMore };
  // Decodes column `col`'s value at data[*pos...]; on kNeedMore, *need is how many more bytes
  // (at least) the value needs.
  Result<Read> ReadValue(size_t col, const char* data, size_t size, size_t* pos, size_t* need);
  template <typename T>
  Read ReadFixed(size_t col, const char* data, size_t size, size_t* pos, size_t* need) {
    if (size - *pos < sizeof(T)) {
      *need = sizeof(T) - (size - *pos);
      return Read::kNeedMore;
    }
    T v;
    std::memcpy(&v, data + *pos, sizeof(T));
    *pos += sizeof(T);
    if constexpr (std::is_same_v<T, uint8_t>) {
      if (builder_.writer(col).kind == WriterKind::kBool) v = v != 0;
    }
    builder_.WriteRaw<T>(col, v);
    return Read::kDone;
  }
};

Result<size_t> RowBinaryParser::Parse(const char* data, size_t size, bool eof) {
  size_t pos = 0;
  const size_t n = builder_.num_columns();
  while (pos < size) {
    size_t row_start = pos;
    builder_.BeginRow();
    for (size_t col = 0; col < n; ++col) {
      size_t need = 0;
      Result<Read> r = ReadValue(col, data, size, &pos, &need);
      if (!r.ok()) return builder_.ColumnError(col, r.status());
      if (*r == Read::kDone) continue;
      builder_.AbortRow();
      if (!eof) return row_start;  // wait for the rest of the row
      return builder_.ColumnError(
          col, Status::InvalidArgument(
                   fmt::format("unexpected end of data: the value needs {} more bytes", need),
                   ch::kCannotReadAllData));
    }
    if (pos - row_start > options().max_row_bytes) return RowTooLarge();
    builder_.FinishRow();
  }
  return pos;
}

Result<RowBinaryParser::Read> RowBinaryParser::ReadValue(size_t col, const char* data, size_t size,
                                                         size_t* pos, size_t* need) {
  const ColumnWriter& w = builder_.writer(col);
  size_t p = *pos;
  if (w.nullable != nullptr) {
    if (p == size) {
      *need = 1;
      return Read::kNeedMore;
    }
    auto marker = static_cast<uint8_t>(data[p]);
    if (marker == 1) {
      builder_.WriteNull(col);
      *pos = p + 1;
      return Read::kDone;
    }
    if (marker != 0) {
      return Status::InvalidArgument(
          fmt::format("bad Nullable marker byte {} (expected 0 or 1)", marker), ch::kIncorrectData);
    }
    ++p;
  }
  Read r = Read::kDone;
  switch (w.kind) {
    case WriterKind::kInt8:
      r = ReadFixed<int8_t>(col, data, size, &p, need);
      break;
    case WriterKind::kInt16:
      r = ReadFixed<int16_t>(col, data, size, &p, need);
      break;
    case WriterKind::kInt32:
      r = ReadFixed<int32_t>(col, data, size, &p, need);
      break;
    case WriterKind::kInt64:
    case WriterKind::kDateTime64:
      r = ReadFixed<int64_t>(col, data, size, &p, need);
      break;
    case WriterKind::kUInt8:
    case WriterKind::kBool:
      r = ReadFixed<uint8_t>(col, data, size, &p, need);
      break;
    case WriterKind::kUInt16:
    case WriterKind::kDate:
      r = ReadFixed<uint16_t>(col, data, size, &p, need);
      break;
    case WriterKind::kUInt32:
    case WriterKind::kDateTime:
      r = ReadFixed<uint32_t>(col, data, size, &p, need);
      break;
    case WriterKind::kUInt64:
      r = ReadFixed<uint64_t>(col, data, size, &p, need);
      break;
    case WriterKind::kFloat32:
      r = ReadFixed<float>(col, data, size, &p, need);
      break;
    case WriterKind::kFloat64:
      r = ReadFixed<double>(col, data, size, &p, need);
      break;
    case WriterKind::kNullable:
      return Status::Internal("RowBinary: a column writer's type is never Nullable");
    case WriterKind::kArray:
      return Status::Internal("RowBinary: tables have no Array columns");
    case WriterKind::kString:
    case WriterKind::kLowCardinality:
    case WriterKind::kFixedString: {
      size_t len = 0;
      if (w.kind == WriterKind::kFixedString) {
        len = w.type->fixed_size();
      } else {
        uint64_t v = 0;
        for (int shift = 0;; shift += 7) {
          if (p == size) {
            *need = 1;
            return Read::kNeedMore;
          }
          auto byte = static_cast<uint8_t>(data[p++]);
          if (shift == 63 && byte > 1) {
            return Status::InvalidArgument("string length (LEB128) does not fit in 64 bits",
                                           ch::kIncorrectData);
          }
          v |= static_cast<uint64_t>(byte & 0x7f) << shift;
          if ((byte & 0x80) == 0) break;
        }
        if (v > options().max_row_bytes) {
          return Status::InvalidArgument(
              fmt::format("string of {} bytes is larger than max_row_bytes ({} bytes)", v,
                          options().max_row_bytes),
              ch::kTooLargeStringSize);
        }
        len = static_cast<size_t>(v);
      }
      if (size - p < len) {
        *need = len - (size - p);
        return Read::kNeedMore;
      }
      Status st = builder_.WriteString(col, std::string_view(data + p, len));
      if (!st.ok()) return st;
      p += len;
      break;
    }
  }
  if (r == Read::kDone) *pos = p;
  return r;
}

}  // namespace

std::unique_ptr<StreamingParser> NewRowBinaryParser() {
  return std::make_unique<RowBinaryParser>();
}

}  // namespace trackhouse::formats
