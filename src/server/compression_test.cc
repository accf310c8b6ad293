#include "server/compression.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <random>

#include "common/metrics.h"

namespace trackhouse::server {
namespace {

// Hands out a string in chunks of at most `chunk` bytes.
class StringBodyReader final : public BodyReader {
 public:
  StringBodyReader(std::string data, size_t chunk) : data_(std::move(data)), chunk_(chunk) {}
  Result<std::string_view> Next(size_t max_bytes) override {
    size_t n = std::min({max_bytes, chunk_, data_.size() - pos_});
    std::string_view out(data_.data() + pos_, n);
    pos_ += n;
    return out;
  }
  uint64_t bytes_read() const override { return pos_; }
  bool done() const override { return pos_ == data_.size(); }

 private:
  std::string data_;
  size_t chunk_;
  size_t pos_ = 0;
};

std::string Inflate(std::string compressed, ContentEncoding enc, size_t in_chunk, size_t out_chunk,
                    Status* status) {
  StringBodyReader raw(std::move(compressed), in_chunk);
  InflatingBodyReader reader(&raw, enc, in_chunk);
  std::string out;
  while (!reader.done()) {
    auto chunk = reader.Next(out_chunk);
    if (!chunk.ok()) {
      *status = chunk.status();
      return out;
    }
    if (chunk->empty()) break;
    EXPECT_LE(chunk->size(), out_chunk);
    out.append(chunk->data(), chunk->size());
  }
  EXPECT_TRUE(reader.done());
  EXPECT_EQ(reader.bytes_read(), out.size());
  *status = Status::OK();
  return out;
}

std::string RandomText(size_t n) {
  std::mt19937 rng(7);
  std::string s;
  for (size_t i = 0; i < n; ++i) s.push_back(static_cast<char>('a' + rng() % 7));
  return s;
}

TEST(CompressionTest, ParsesContentEncoding) {
  EXPECT_EQ(*ParseContentEncoding(""), ContentEncoding::kIdentity);
  EXPECT_EQ(*ParseContentEncoding("identity"), ContentEncoding::kIdentity);
  EXPECT_EQ(*ParseContentEncoding("GZIP"), ContentEncoding::kGzip);
  EXPECT_EQ(*ParseContentEncoding("x-gzip"), ContentEncoding::kGzip);
  EXPECT_EQ(*ParseContentEncoding(" deflate "), ContentEncoding::kDeflate);
  auto br = ParseContentEncoding("br");
  ASSERT_FALSE(br.ok());
  EXPECT_EQ(br.status().clickhouse_code(), ch::kNotImplemented);
  EXPECT_NE(br.status().message().find("'br'"), std::string::npos);
}

TEST(CompressionTest, ChoosesResponseEncoding) {
  EXPECT_EQ(ChooseResponseEncoding("gzip, deflate, br"), ContentEncoding::kGzip);
  EXPECT_EQ(ChooseResponseEncoding("deflate"), ContentEncoding::kDeflate);
  EXPECT_EQ(ChooseResponseEncoding("br"), ContentEncoding::kIdentity);
  EXPECT_EQ(ChooseResponseEncoding(""), ContentEncoding::kIdentity);
}

TEST(CompressionTest, RoundTripsInSmallChunks) {
  std::string text = RandomText(300000);
  for (ContentEncoding enc : {ContentEncoding::kGzip, ContentEncoding::kDeflate}) {
    auto packed = CompressBody(text, enc, 3);
    ASSERT_TRUE(packed.ok());
    EXPECT_LT(packed->size(), text.size());
    for (size_t in_chunk : {1ul, 7ul, 4096ul, 1ul << 20}) {
      Status st;
      std::string out = Inflate(*packed, enc, in_chunk, 1000, &st);
      ASSERT_TRUE(st.ok()) << st.ToString();
      EXPECT_EQ(out, text) << in_chunk;
    }
  }
}

TEST(CompressionTest, ReadsConcatenatedGzipMembers) {
  auto a = CompressBody("first\n", ContentEncoding::kGzip, 1);
  auto b = CompressBody("second\n", ContentEncoding::kGzip, 9);
  Status st;
  EXPECT_EQ(Inflate(*a + *b, ContentEncoding::kGzip, 3, 100, &st), "first\nsecond\n");
  EXPECT_TRUE(st.ok()) << st.ToString();
}

TEST(CompressionTest, EmptyBodyIsEmpty) {
  Status st;
  EXPECT_EQ(Inflate("", ContentEncoding::kGzip, 10, 10, &st), "");
  EXPECT_TRUE(st.ok());
}

TEST(CompressionTest, CorruptAndTruncatedDataAreZlibErrors) {
  int64_t before = metrics::ValueOf("trackhouse_http_decompress_errors_total");
  Status st;
  Inflate("this is not gzip", ContentEncoding::kGzip, 100, 100, &st);
  EXPECT_EQ(st.clickhouse_code(), ch::kZlibInflateFailed);
  EXPECT_NE(st.message().find("inflate failed"), std::string::npos) << st.message();

  std::string packed = *CompressBody(RandomText(5000), ContentEncoding::kGzip, 3);
  Inflate(packed.substr(0, packed.size() / 2), ContentEncoding::kGzip, 64, 100, &st);
  EXPECT_EQ(st.clickhouse_code(), ch::kZlibInflateFailed);
  EXPECT_NE(st.message().find("truncated"), std::string::npos) << st.message();

  std::string flipped = packed;
  flipped[flipped.size() / 2] ^= 0x55;
  flipped[flipped.size() / 2 + 1] ^= 0x55;
  Inflate(flipped, ContentEncoding::kGzip, 64, 100000, &st);
  EXPECT_EQ(st.clickhouse_code(), ch::kZlibInflateFailed);
  EXPECT_EQ(metrics::ValueOf("trackhouse_http_decompress_errors_total"), before + 3);
}

}  // namespace
}  // namespace trackhouse::server
