#include "engine/compression.h"

#include <fmt/format.h>
#include <lz4.h>
#include <zstd.h>

#include <cctype>
#include <memory>

#include "common/coding.h"
#include "common/crc32c.h"

namespace trackhouse::engine {
namespace {

struct ZstdCCtxDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct ZstdDCtxDeleter {
  void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
};

// One context per thread: creating a context allocates megabytes.
ZSTD_CCtx* ThreadCCtx() {
  thread_local std::unique_ptr<ZSTD_CCtx, ZstdCCtxDeleter> ctx(ZSTD_createCCtx());
  return ctx.get();
}
ZSTD_DCtx* ThreadDCtx() {
  thread_local std::unique_ptr<ZSTD_DCtx, ZstdDCtxDeleter> ctx(ZSTD_createDCtx());
  return ctx.get();
}

bool KnownCodec(uint8_t c) { return c <= static_cast<uint8_t>(Codec::kZSTD); }

uint32_t FrameCrc(const char* header, std::string_view payload) {
  uint32_t crc = crc32c::Value(header, 9);
  return crc32c::Mask(crc32c::Extend(crc, payload.data(), payload.size()));
}

// Writes the header for a payload already placed at out[base + kFrameHeaderSize, ...).
void FinishFrame(std::string* out, size_t base, Codec codec, uint32_t compressed,
                 uint32_t uncompressed) {
  char* h = out->data() + base;
  h[0] = static_cast<char>(codec);
  EncodeFixed32(h + 1, compressed);
  EncodeFixed32(h + 5, uncompressed);
  std::string_view payload(h + kFrameHeaderSize, compressed);
  EncodeFixed32(h + 9, FrameCrc(h, payload));
}

void AppendStored(std::string_view in, std::string* out, size_t base) {
  out->resize(base + kFrameHeaderSize);
  out->append(in);
  uint32_t n = static_cast<uint32_t>(in.size());
  FinishFrame(out, base, Codec::kNone, n, n);
}

}  // namespace

std::string_view CodecName(Codec codec) {
  switch (codec) {
    case Codec::kNone:
      return "NONE";
    case Codec::kLZ4:
      return "LZ4";
    case Codec::kZSTD:
      return "ZSTD";
  }
  return "UNKNOWN";
}

Result<Codec> ParseCodec(std::string_view name) {
  std::string upper(name);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper == "NONE") return Codec::kNone;
  if (upper == "LZ4") return Codec::kLZ4;
  if (upper == "ZSTD") return Codec::kZSTD;
  return Status::InvalidArgument(fmt::format("Unknown compression codec: {}", name));
}

Status Compress(Codec codec, std::string_view in, std::string* out, int level) {
  if (in.size() > kMaxFrameUncompressedSize) {
    return Status::InvalidArgument(fmt::format("compression frame of {} bytes exceeds the limit {}",
                                               in.size(), kMaxFrameUncompressedSize));
  }
  const size_t base = out->size();
  if (codec == Codec::kNone || in.empty()) {
    AppendStored(in, out, base);
    return Status::OK();
  }
  const int n = static_cast<int>(in.size());
  size_t produced = 0;
  if (codec == Codec::kLZ4) {
    int bound = LZ4_compressBound(n);
    out->resize(base + kFrameHeaderSize + bound);
    int r = LZ4_compress_default(in.data(), out->data() + base + kFrameHeaderSize, n, bound);
    produced = r > 0 ? static_cast<size_t>(r) : in.size();  // 0: failed, store instead
  } else if (codec == Codec::kZSTD) {
    size_t bound = ZSTD_compressBound(in.size());
    out->resize(base + kFrameHeaderSize + bound);
    size_t r = ZSTD_compressCCtx(ThreadCCtx(), out->data() + base + kFrameHeaderSize, bound,
                                 in.data(), in.size(), level == 0 ? kDefaultZstdLevel : level);
    produced = ZSTD_isError(r) ? in.size() : r;
  } else {
    out->resize(base);
    return Status::InvalidArgument(
        fmt::format("Unknown compression codec {}", static_cast<int>(codec)));
  }
  if (produced >= in.size()) {  // not worth it: store the input as is
    out->resize(base);
    AppendStored(in, out, base);
    return Status::OK();
  }
  out->resize(base + kFrameHeaderSize + produced);
  FinishFrame(out, base, codec, static_cast<uint32_t>(produced), static_cast<uint32_t>(n));
  return Status::OK();
}

Status DecodeFrameHeader(std::string_view data, Codec* codec, uint32_t* compressed_size,
                         uint32_t* uncompressed_size) {
  if (data.size() < kFrameHeaderSize) {
    return Status::Corruption(fmt::format("compressed frame header is truncated: {} of {} bytes",
                                          data.size(), kFrameHeaderSize));
  }
  uint8_t c = static_cast<uint8_t>(data[0]);
  if (!KnownCodec(c)) {
    return Status::Corruption(fmt::format("compressed frame has unknown codec {}", c));
  }
  uint32_t comp = DecodeFixed32(data.data() + 1);
  uint32_t uncomp = DecodeFixed32(data.data() + 5);
  if (uncomp > kMaxFrameUncompressedSize ||
      (static_cast<Codec>(c) == Codec::kNone && comp != uncomp)) {
    return Status::Corruption(fmt::format(
        "compressed frame has bad sizes: codec {}, compressed {} bytes, uncompressed {} bytes",
        CodecName(static_cast<Codec>(c)), comp, uncomp));
  }
  *codec = static_cast<Codec>(c);
  *compressed_size = comp;
  *uncompressed_size = uncomp;
  return Status::OK();
}

Result<size_t> FrameSize(std::string_view data) {
  Codec codec;
  uint32_t comp, uncomp;
  TH_RETURN_IF_ERROR(DecodeFrameHeader(data, &codec, &comp, &uncomp));
  return kFrameHeaderSize + static_cast<size_t>(comp);
}

Status Decompress(std::string_view framed, std::string* out) {
  Codec codec;
  uint32_t comp, uncomp;
  TH_RETURN_IF_ERROR(DecodeFrameHeader(framed, &codec, &comp, &uncomp));
  size_t have = framed.size() - kFrameHeaderSize;
  if (have != comp) {
    return Status::Corruption(
        fmt::format("compressed frame {}: header says {} payload bytes, "
                    "have {}",
                    have < comp ? "is truncated" : "has trailing bytes", comp, have));
  }
  std::string_view payload = framed.substr(kFrameHeaderSize);
  uint32_t stored = DecodeFixed32(framed.data() + 9);
  uint32_t actual = FrameCrc(framed.data(), payload);
  if (stored != actual) {
    return Status::Corruption(
        fmt::format("compressed frame checksum mismatch: stored {:#010x}, computed {:#010x} "
                    "over {} payload bytes",
                    stored, actual, comp));
  }
  const size_t base = out->size();
  if (codec == Codec::kNone) {
    out->append(payload);
    return Status::OK();
  }
  out->resize(base + uncomp);
  char* dst = out->data() + base;
  size_t got = 0;
  bool failed = false;
  if (codec == Codec::kLZ4) {
    int r =
        LZ4_decompress_safe(payload.data(), dst, static_cast<int>(comp), static_cast<int>(uncomp));
    failed = r < 0;
    got = failed ? 0 : static_cast<size_t>(r);
  } else {
    size_t r = ZSTD_decompressDCtx(ThreadDCtx(), dst, uncomp, payload.data(), comp);
    failed = ZSTD_isError(r);
    got = failed ? 0 : r;
  }
  if (failed || got != uncomp) {
    out->resize(base);
    return Status::Corruption(fmt::format(
        "compressed frame does not decompress ({}): {} payload bytes gave {}, "
        "header says {}",
        CodecName(codec), comp, failed ? std::string("an error") : std::to_string(got), uncomp));
  }
  return Status::OK();
}

}  // namespace trackhouse::engine
