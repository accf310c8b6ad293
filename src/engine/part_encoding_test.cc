// Tests of the compression frame (compression.h) and of the granule encodings
// (part_encoding.h).
#include "engine/part_encoding.h"

#include <gtest/gtest.h>

#include <limits>
#include <random>

#include "engine/compression.h"
#include "types/column.h"

namespace trackhouse::engine {
namespace {

using types::ColumnPtr;
using types::DataType;
using types::TypeId;

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

// ---------------- compression frames ----------------

TEST(CompressionTest, EveryCodecRoundTripsEmptySmallLargeAndRandomInput) {
  std::string repetitive;
  for (int i = 0; i < 100000; ++i) repetitive += "event" + std::to_string(i % 17);
  const std::string inputs[] = {"", "x", "hello hello hello hello", repetitive,
                                RandomBytes(70000, 1)};
  for (Codec codec : {Codec::kNone, Codec::kLZ4, Codec::kZSTD}) {
    for (const auto& in : inputs) {
      std::string framed;
      ASSERT_TRUE(Compress(codec, in, &framed).ok());
      auto size = FrameSize(framed);
      ASSERT_TRUE(size.ok());
      EXPECT_EQ(*size, framed.size());
      std::string out = "prefix";
      ASSERT_TRUE(Decompress(framed, &out).ok()) << CodecName(codec) << " " << in.size();
      EXPECT_EQ(out, "prefix" + in);
    }
  }
}

TEST(CompressionTest, CompressAppendsFramesBackToBack) {
  std::string stream;
  ASSERT_TRUE(Compress(Codec::kLZ4, std::string(1000, 'a'), &stream).ok());
  size_t first = stream.size();
  ASSERT_TRUE(Compress(Codec::kZSTD, std::string(1000, 'b'), &stream).ok());
  std::string a, b;
  ASSERT_TRUE(Decompress(std::string_view(stream).substr(0, first), &a).ok());
  ASSERT_TRUE(Decompress(std::string_view(stream).substr(first), &b).ok());
  EXPECT_EQ(a, std::string(1000, 'a'));
  EXPECT_EQ(b, std::string(1000, 'b'));
}

TEST(CompressionTest, IncompressibleInputIsStoredUncompressed) {
  std::string framed;
  ASSERT_TRUE(Compress(Codec::kLZ4, RandomBytes(4096, 2), &framed).ok());
  EXPECT_EQ(static_cast<Codec>(framed[0]), Codec::kNone);
  EXPECT_EQ(framed.size(), kFrameHeaderSize + 4096);
}

TEST(CompressionTest, EveryFlippedByteIsCorruption) {
  std::string in;
  for (int i = 0; i < 2000; ++i) in += std::to_string(i * 7 % 101);
  for (Codec codec : {Codec::kNone, Codec::kLZ4, Codec::kZSTD}) {
    std::string framed;
    ASSERT_TRUE(Compress(codec, in, &framed).ok());
    for (size_t i = 0; i < framed.size(); ++i) {
      std::string bad = framed;
      bad[i] = static_cast<char>(bad[i] ^ 0x41);
      std::string out;
      Status s = Decompress(bad, &out);
      EXPECT_EQ(s.code(), StatusCode::kCorruption) << CodecName(codec) << " byte " << i;
    }
  }
}

TEST(CompressionTest, TruncatedOrPaddedFrameIsCorruptionNamingSizes) {
  std::string framed;
  ASSERT_TRUE(Compress(Codec::kLZ4, std::string(5000, 'z'), &framed).ok());
  std::string out;
  Status s = Decompress(std::string_view(framed).substr(0, framed.size() - 1), &out);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("truncated"), std::string::npos) << s.message();
  s = Decompress(framed + "x", &out);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("trailing"), std::string::npos) << s.message();
  s = Decompress(std::string_view(framed).substr(0, 5), &out);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
}

TEST(CompressionTest, ParseCodecIsCaseInsensitive) {
  EXPECT_EQ(*ParseCodec("lz4"), Codec::kLZ4);
  EXPECT_EQ(*ParseCodec("ZSTD"), Codec::kZSTD);
  EXPECT_EQ(*ParseCodec("None"), Codec::kNone);
  EXPECT_FALSE(ParseCodec("gzip").ok());
}

// ---------------- integer streams ----------------

template <typename T>
ColumnPtr VectorColumn(TypeId id, const std::vector<T>& values) {
  ColumnPtr col = types::MakeColumn(DataType::Get(id));
  static_cast<types::ColumnVector<T>&>(*col).data() = values;
  return col;
}

template <typename T>
void ExpectRoundTrip(TypeId id, const std::vector<T>& values) {
  ColumnPtr col = VectorColumn(id, values);
  GranuleEncoder enc;
  for (Transform t : {Transform::kPlain, Transform::kPack, Transform::kDeltaPack}) {
    std::string payload;
    enc.Encode(*col, 0, values.size(), t, nullptr, &payload);
    ColumnPtr back = types::MakeColumn(DataType::Get(id));
    Status s = DecodeGranule(payload, values.size(), t, nullptr, false, back.get());
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(static_cast<types::ColumnVector<T>&>(*back).data(), values)
        << "transform " << TransformName(t);
  }
}

template <typename T>
std::vector<T> EdgeValues(uint64_t seed) {
  using L = std::numeric_limits<T>;
  std::vector<T> v = {L::min(), L::max(), 0, 1, L::min(), L::max(), L::max(), 0};
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 300; ++i) v.push_back(static_cast<T>(rng()));
  for (int i = 0; i < 100; ++i) v.push_back(static_cast<T>(i));  // sorted run
  for (int i = 0; i < 77; ++i) v.push_back(static_cast<T>(42));  // constant run
  return v;
}

TEST(PartEncodingTest, EveryIntegerTypeRoundTripsEdgeAndRandomValuesUnderEveryTransform) {
  ExpectRoundTrip<int8_t>(TypeId::kInt8, EdgeValues<int8_t>(1));
  ExpectRoundTrip<int16_t>(TypeId::kInt16, EdgeValues<int16_t>(2));
  ExpectRoundTrip<int32_t>(TypeId::kInt32, EdgeValues<int32_t>(3));
  ExpectRoundTrip<int64_t>(TypeId::kInt64, EdgeValues<int64_t>(4));
  ExpectRoundTrip<uint8_t>(TypeId::kUInt8, EdgeValues<uint8_t>(5));
  ExpectRoundTrip<uint16_t>(TypeId::kUInt16, EdgeValues<uint16_t>(6));
  ExpectRoundTrip<uint32_t>(TypeId::kUInt32, EdgeValues<uint32_t>(7));
  ExpectRoundTrip<uint64_t>(TypeId::kUInt64, EdgeValues<uint64_t>(8));
  ExpectRoundTrip<int64_t>(TypeId::kDateTime64, EdgeValues<int64_t>(9));
}

TEST(PartEncodingTest, EveryBitWidthAndRowCountRoundTrips) {
  std::mt19937_64 rng(11);
  for (int width = 0; width <= 64; ++width) {
    for (size_t rows : {1, 31, 32, 33, 64, 100}) {
      std::vector<uint64_t> v(rows);
      for (auto& x : v) {
        x = width == 0 ? 0 : width == 64 ? rng() : rng() & ((uint64_t{1} << width) - 1);
      }
      ExpectRoundTrip<uint64_t>(TypeId::kUInt64, v);
    }
  }
}

// 32-bit columns take their own path for full miniblocks of up to 56 bits (unpacked straight
// into the column, differences summed four at a time): every width, rising and falling runs.
TEST(PartEncodingTest, ThirtyTwoBitColumnsRoundTripAtEveryWidth) {
  std::mt19937_64 rng(13);
  for (int width = 0; width <= 33; ++width) {
    const uint64_t mask = width == 0 ? 0 : (uint64_t{1} << std::min(width, 32)) - 1;
    // Odd rows follow a run that rises and falls: its differences to the even rows' values
    // take up to 34 bits.
    std::vector<uint32_t> u(3 * kMiniblockRows + 5);
    std::vector<int32_t> i32(u.size());
    uint32_t run = static_cast<uint32_t>(rng());
    for (size_t i = 0; i < u.size(); ++i) {
      u[i] = static_cast<uint32_t>(rng() & mask);
      uint32_t step = static_cast<uint32_t>(rng() & 0xff);
      run += (i / 40) % 2 == 0 ? step : -step;
      i32[i] = static_cast<int32_t>(i % 2 == 0 ? u[i] : run);
    }
    ExpectRoundTrip<uint32_t>(TypeId::kUInt32, u);
    ExpectRoundTrip<int32_t>(TypeId::kInt32, i32);
    ExpectRoundTrip<uint32_t>(TypeId::kDateTime, u);
  }
}

TEST(PartEncodingTest, SortedColumnPacksToFewBitsPerRow) {
  std::vector<uint32_t> sorted(8192);
  for (size_t i = 0; i < sorted.size(); ++i) sorted[i] = 1700000000 + static_cast<uint32_t>(i * 3);
  ColumnPtr col = VectorColumn(TypeId::kDateTime, sorted);
  GranuleEncoder enc;
  EXPECT_EQ(enc.ChooseTransform(*col, 8192, nullptr), Transform::kDeltaPack);
  std::string payload;
  enc.Encode(*col, 0, sorted.size(), Transform::kDeltaPack, nullptr, &payload);
  EXPECT_LT(payload.size(), sorted.size() / 4);  // constant delta: ~1 byte per 32 rows
}

TEST(PartEncodingTest, RandomColumnPrefersFrameOfReference) {
  std::mt19937 rng(3);
  std::vector<int32_t> v(20000);
  for (auto& x : v) x = static_cast<int32_t>(rng() % 5000000) + 1;
  ColumnPtr col = VectorColumn(TypeId::kInt32, v);
  GranuleEncoder enc;
  EXPECT_EQ(enc.ChooseTransform(*col, 8192, nullptr), Transform::kPack);
  std::string payload;
  enc.Encode(*col, 0, 8192, Transform::kPack, nullptr, &payload);
  EXPECT_LE(payload.size(), 8192 * 23 / 8 + 8192 / 32 + 16);  // 23 bits per value + headers
}

TEST(PartEncodingTest, LowCardinalityUsesAFrequencyOrderedPartDictionary) {
  auto col = std::make_shared<types::ColumnLowCardinality>(DataType::LowCardinalityString());
  col->Intern("unused");
  for (int i = 0; i < 1000; ++i) col->Append(i % 10 == 0 ? "Download" : "View");
  PartDictionary dict = BuildPartDictionary(*col);
  ASSERT_EQ(dict.values, (std::vector<std::string>{"View", "Download"}));
  GranuleEncoder enc;
  std::string payload;
  enc.Encode(*col, 100, 500, Transform::kPack, &dict, &payload);
  // Remapped into a column with its own dictionary, and stored as they are into a column
  // seeded with the part dictionary.
  ColumnPtr back = types::MakeColumn(DataType::LowCardinalityString());
  auto& back_lc = static_cast<types::ColumnLowCardinality&>(*back);
  back_lc.Intern("Download");
  ASSERT_TRUE(DecodeGranule(payload, 500, Transform::kPack, &dict.values, false, back.get()).ok());
  EXPECT_FALSE(SeedDictionary(dict.values, &back_lc));
  auto seeded = std::make_shared<types::ColumnLowCardinality>(DataType::LowCardinalityString());
  ASSERT_TRUE(SeedDictionary(dict.values, seeded.get()));
  ASSERT_TRUE(DecodeGranule(payload, 500, Transform::kPack, &dict.values, true, seeded.get()).ok());
  for (size_t i = 0; i < 500; ++i) {
    EXPECT_EQ(back->GetValue(i), col->GetValue(100 + i));
    EXPECT_EQ(seeded->GetValue(i), col->GetValue(100 + i));
  }
  auto repeats = std::make_shared<types::ColumnLowCardinality>(DataType::LowCardinalityString());
  EXPECT_FALSE(SeedDictionary({"a", "b", "a"}, repeats.get()));
  std::string d;
  EncodeDictionary(dict.values, &d);
  std::vector<std::string> decoded;
  ASSERT_TRUE(DecodeDictionary(d, &decoded).ok());
  EXPECT_EQ(decoded, dict.values);
}

TEST(PartEncodingTest, MalformedPayloadsAreCorruptionNeverACrash) {
  std::mt19937_64 rng(5);
  const TypeId ids[] = {TypeId::kInt32, TypeId::kUInt64, TypeId::kString, TypeId::kLowCardinality,
                        TypeId::kFloat64};
  std::vector<std::string> dict = {"a", "b", "c"};
  for (int iter = 0; iter < 3000; ++iter) {
    std::string payload = RandomBytes(rng() % 64, rng());
    for (TypeId id : ids) {
      for (Transform t : {Transform::kPlain, Transform::kPack, Transform::kDeltaPack}) {
        ColumnPtr col = types::MakeColumn(DataType::Get(id));
        Status s = DecodeGranule(payload, 1 + rng() % 100, t, &dict, iter % 2 == 0, col.get());
        if (!s.ok()) {
          EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
        }
      }
    }
    ColumnPtr nullable = types::MakeColumn(DataType::Nullable(DataType::Get(TypeId::kInt16)));
    Status s =
        DecodeGranule(payload, 1 + rng() % 100, Transform::kPack, nullptr, false, nullable.get());
    if (!s.ok()) {
      EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
    }
  }
}

}  // namespace
}  // namespace trackhouse::engine
