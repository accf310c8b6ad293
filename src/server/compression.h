// HTTP body compression for the ClickHouse HTTP interface (zlib).
//
//  - Request bodies sent with `Content-Encoding: gzip` (or `x-gzip`) or `deflate` (the zlib
//    format, as ClickHouse reads it) are inflated on the fly by InflatingBodyReader, chunk by
//    chunk, so a compressed INSERT streams in bounded memory like a plain one. Concatenated
//    gzip members are read one after another. Corrupt or truncated data is
//    ZLIB_INFLATE_FAILED (354), as in ClickHouse.
//  - Responses are compressed (CompressBody) when the request enables
//    `enable_http_compression=1` and sends `Accept-Encoding` naming gzip or deflate.
//
// An InflatingBodyReader belongs to the thread serving its request; the functions are pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "server/http.h"

namespace trackhouse::server {

enum class ContentEncoding : uint8_t { kIdentity, kGzip, kDeflate };

// The value of a Content-Encoding header ("" and "identity" are kIdentity). Anything else is
// NOT_IMPLEMENTED naming the encodings trackhouse takes.
Result<ContentEncoding> ParseContentEncoding(std::string_view header);

// The response encoding for an Accept-Encoding header: gzip if named, else deflate if named,
// else identity.
ContentEncoding ChooseResponseEncoding(std::string_view accept_encoding);

// "gzip" / "deflate" for the Content-Encoding header; "" for identity.
std::string_view ContentEncodingName(ContentEncoding encoding);

// `data` compressed in `encoding` at zlib `level` (1..9).
Result<std::string> CompressBody(std::string_view data, ContentEncoding encoding, int level);

// A BodyReader that inflates another one. `raw` must outlive it.
class InflatingBodyReader final : public BodyReader {
 public:
  // `input_chunk_bytes`: compressed bytes pulled from `raw` per read.
  InflatingBodyReader(BodyReader* raw, ContentEncoding encoding, size_t input_chunk_bytes);
  ~InflatingBodyReader() override;
  InflatingBodyReader(const InflatingBodyReader&) = delete;
  InflatingBodyReader& operator=(const InflatingBodyReader&) = delete;

  Result<std::string_view> Next(size_t max_bytes) override;
  // Decompressed bytes returned so far.
  uint64_t bytes_read() const override { return bytes_out_; }
  bool done() const override { return finished_; }

  // Compressed bytes consumed so far.
  uint64_t compressed_bytes() const { return raw_->bytes_read(); }

 private:
  Status Fail(std::string message);

  BodyReader* raw_;
  const ContentEncoding encoding_;
  const size_t input_chunk_bytes_;
  void* stream_ = nullptr;  // z_stream*
  std::string out_;
  uint64_t bytes_out_ = 0;
  bool raw_eof_ = false;
  bool member_ended_ = false;  // the last gzip member / zlib stream ended cleanly
  bool any_input_ = false;
  bool finished_ = false;
  Status status_;
};

}  // namespace trackhouse::server
