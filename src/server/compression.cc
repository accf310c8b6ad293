#include "server/compression.h"

#include <fmt/format.h>
#include <strings.h>
#include <zlib.h>

#include "common/metrics.h"

namespace trackhouse::server {
namespace {

constexpr int kGzipWindowBits = 15 + 16;
constexpr int kZlibWindowBits = 15;

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

metrics::Counter& DecompressErrors() {
  static metrics::Counter& c = metrics::GetCounter(
      "trackhouse_http_decompress_errors_total",
      "Request bodies whose gzip/deflate data was corrupt or truncated (ZLIB_INFLATE_FAILED)");
  return c;
}

}  // namespace

Result<ContentEncoding> ParseContentEncoding(std::string_view header) {
  std::string_view v = Trim(header);
  if (v.empty() || EqualsNoCase(v, "identity")) return ContentEncoding::kIdentity;
  if (EqualsNoCase(v, "gzip") || EqualsNoCase(v, "x-gzip")) return ContentEncoding::kGzip;
  if (EqualsNoCase(v, "deflate")) return ContentEncoding::kDeflate;
  return Status::NotSupported(fmt::format(
      "Unknown compression method '{}'. Only 'none', 'gzip' and 'deflate' are supported as "
      "Content-Encoding of a request body",
      v));
}

ContentEncoding ChooseResponseEncoding(std::string_view accept_encoding) {
  // As ClickHouse: a substring match over the list, most preferred first.
  std::string lower(accept_encoding);
  for (char& c : lower) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  if (lower.find("gzip") != std::string::npos) return ContentEncoding::kGzip;
  if (lower.find("deflate") != std::string::npos) return ContentEncoding::kDeflate;
  return ContentEncoding::kIdentity;
}

std::string_view ContentEncodingName(ContentEncoding encoding) {
  switch (encoding) {
    case ContentEncoding::kGzip:
      return "gzip";
    case ContentEncoding::kDeflate:
      return "deflate";
    case ContentEncoding::kIdentity:
      break;
  }
  return "";
}

Result<std::string> CompressBody(std::string_view data, ContentEncoding encoding, int level) {
  if (encoding == ContentEncoding::kIdentity) return std::string(data);
  z_stream zs{};
  int bits = encoding == ContentEncoding::kGzip ? kGzipWindowBits : kZlibWindowBits;
  if (deflateInit2(&zs, level, Z_DEFLATED, bits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return Status::Internal("deflateInit2 failed");
  }
  std::string out;
  out.resize(deflateBound(&zs, data.size()) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  size_t produced = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return Status::Internal(fmt::format("deflate failed: {}", zError(rc)));
  out.resize(produced);
  return out;
}

InflatingBodyReader::InflatingBodyReader(BodyReader* raw, ContentEncoding encoding,
                                         size_t input_chunk_bytes)
    : raw_(raw), encoding_(encoding), input_chunk_bytes_(std::max<size_t>(1, input_chunk_bytes)) {
  auto* zs = new z_stream{};
  int bits = encoding_ == ContentEncoding::kGzip ? kGzipWindowBits : kZlibWindowBits;
  if (inflateInit2(zs, bits) != Z_OK) {
    status_ = Status::Internal("inflateInit2 failed");
  }
  stream_ = zs;
}

InflatingBodyReader::~InflatingBodyReader() {
  auto* zs = static_cast<z_stream*>(stream_);
  inflateEnd(zs);
  delete zs;
}

Status InflatingBodyReader::Fail(std::string message) {
  DecompressErrors().Add();
  status_ = Status(StatusCode::kInvalidArgument, std::move(message), ch::kZlibInflateFailed);
  return status_;
}

Result<std::string_view> InflatingBodyReader::Next(size_t max_bytes) {
  if (!status_.ok()) return status_;
  if (finished_) return std::string_view();
  auto* zs = static_cast<z_stream*>(stream_);
  size_t want = std::max<size_t>(1, max_bytes);
  if (out_.size() < want) out_.resize(want);
  zs->next_out = reinterpret_cast<Bytef*>(out_.data());
  zs->avail_out = static_cast<uInt>(want);
  while (zs->avail_out == want) {  // until something is produced or the body ends
    if (zs->avail_in == 0 && !raw_eof_) {
      auto chunk = raw_->Next(input_chunk_bytes_);
      if (!chunk.ok()) {
        status_ = chunk.status();
        return status_;
      }
      if (chunk->empty()) {
        raw_eof_ = true;
      } else {
        any_input_ = true;
        zs->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(chunk->data()));
        zs->avail_in = static_cast<uInt>(chunk->size());
      }
    }
    if (zs->avail_in == 0 && raw_eof_) {
      if (member_ended_ || !any_input_) {
        finished_ = true;
        break;
      }
      return Fail(fmt::format(
          "inflate failed: the {} data ends early (truncated body?) after {} compressed bytes",
          ContentEncodingName(encoding_), raw_->bytes_read()));
    }
    if (member_ended_) {  // more data after a complete member: the next gzip member
      inflateReset(zs);
      member_ended_ = false;
    }
    int rc = inflate(zs, Z_NO_FLUSH);
    if (rc == Z_STREAM_END) {
      member_ended_ = true;
    } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
      return Fail(fmt::format("inflate failed: {} (after {} compressed bytes)",
                              zs->msg != nullptr ? zs->msg : zError(rc), raw_->bytes_read()));
    }
  }
  size_t n = want - zs->avail_out;
  bytes_out_ += n;
  if (member_ended_ && zs->avail_in == 0 && raw_->done()) finished_ = true;
  return std::string_view(out_.data(), n);
}

}  // namespace trackhouse::server
