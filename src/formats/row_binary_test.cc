#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "formats/input_format.h"
#include "formats/input_format_test_util.h"

namespace trackhouse::formats {
namespace {

using testing::Chunks;
using testing::Col;
using testing::ExpectSplitInvariant;
using testing::ParseAll;
using testing::ParseChunks;
using testing::Parsed;
using testing::ParseError;
using testing::ParseOk;

// A RowBinary encoder for tests.
class Encoder {
 public:
  template <typename T>
  Encoder& Fixed(T v) {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    out_.append(b, sizeof(T));
    return *this;
  }
  Encoder& Leb(uint64_t v) {
    do {
      uint8_t byte = v & 0x7f;
      v >>= 7;
      out_.push_back(static_cast<char>(byte | (v ? 0x80 : 0)));
    } while (v);
    return *this;
  }
  Encoder& Str(std::string_view s) {
    Leb(s.size());
    out_.append(s);
    return *this;
  }
  Encoder& Raw(std::string_view s) {
    out_.append(s);
    return *this;
  }
  Encoder& Byte(uint8_t b) { return Fixed<uint8_t>(b); }
  const std::string& bytes() const { return out_; }

 private:
  std::string out_;
};

std::vector<InputColumn> AllTypes() {
  return {Col("i8", "Int8"),
          Col("i16", "Int16"),
          Col("i32", "Int32"),
          Col("i64", "Int64"),
          Col("u8", "UInt8"),
          Col("u16", "UInt16"),
          Col("u32", "UInt32"),
          Col("u64", "UInt64"),
          Col("f32", "Float32"),
          Col("f64", "Float64"),
          Col("b", "Bool"),
          Col("d", "Date"),
          Col("dt", "DateTime"),
          Col("dt3", "DateTime64(3)"),
          Col("s", "String"),
          Col("lc", "LowCardinality(String)"),
          Col("fs", "FixedString(3)"),
          Col("n", "Nullable(Int32)"),
          Col("ns", "Nullable(String)")};
}

void EncodeRow(Encoder& e, int k, bool nulls) {
  e.Fixed<int8_t>(-8)
      .Fixed<int16_t>(-1600)
      .Fixed<int32_t>(-320000 - k)
      .Fixed<int64_t>(-6400000000)
      .Fixed<uint8_t>(200)
      .Fixed<uint16_t>(65000)
      .Fixed<uint32_t>(4000000000u)
      .Fixed<uint64_t>(18446744073709551615ull)
      .Fixed<float>(1.5f)
      .Fixed<double>(-2.25)
      .Byte(1)
      .Fixed<uint16_t>(19723)
      .Fixed<uint32_t>(1704103200)
      .Fixed<int64_t>(1704103200123)
      .Str(std::string(k, 'x') + "s")
      .Str(k % 2 ? "post" : "image")
      .Raw(std::string("ab\0", 3));
  if (nulls) {
    e.Byte(1).Byte(1);
  } else {
    e.Byte(0).Fixed<int32_t>(k).Byte(0).Str("v");
  }
}

TEST(RowBinaryTest, DecodesEveryType) {
  Encoder e;
  EncodeRow(e, 0, false);
  EncodeRow(e, 1, true);
  using namespace std::string_literals;
  EXPECT_EQ(ParseOk("RowBinary", AllTypes(), e.bytes()),
            "-8|-1600|-320000|-6400000000|200|65000|4000000000|18446744073709551615|1.5|-2.25|"
            "true|2024-01-01|2024-01-01 10:00:00|2024-01-01 10:00:00.123|s|image|ab\0|0|v\n"
            "-8|-1600|-320001|-6400000000|200|65000|4000000000|18446744073709551615|1.5|-2.25|"
            "true|2024-01-01|2024-01-01 10:00:00|2024-01-01 10:00:00.123|xs|post|ab\0|\\N|"
            "\\N\n"s);
}

TEST(RowBinaryTest, LongStringsUseMultiByteLengths) {
  std::string s(300, 'q');
  Encoder e;
  e.Str(s).Str("");
  EXPECT_EQ(ParseOk("RowBinary", {Col("s", "String")}, e.bytes()), s + "\n\n");
}

TEST(RowBinaryTest, BoolBytesAreNormalized) {
  Encoder e;
  e.Byte(0).Byte(1).Byte(7);
  EXPECT_EQ(ParseOk("RowBinary", {Col("b", "Bool")}, e.bytes()), "false\ntrue\ntrue\n");
}

TEST(RowBinaryTest, TruncatedInputIsAnErrorNamingRowAndColumn) {
  Encoder e;
  e.Fixed<int32_t>(1).Str("a").Fixed<int32_t>(2).Raw(
      std::string("\x05"
                  "ab",
                  3));
  Status st = ParseError("RowBinary", {Col("a", "Int32"), Col("s", "String")}, e.bytes());
  EXPECT_EQ(st.message(),
            "Cannot parse input: row 2, column 's': unexpected end of data: the value needs 3 "
            "more bytes");
  EXPECT_EQ(st.clickhouse_code(), ch::kCannotReadAllData);
  st = ParseError("RowBinary", {Col("a", "Int32"), Col("s", "String")}, std::string("\x01\x00", 2));
  EXPECT_EQ(st.message(),
            "Cannot parse input: row 1, column 'a': unexpected end of data: the value needs 2 "
            "more bytes");
}

TEST(RowBinaryTest, BadNullableMarkerIsAnError) {
  Status st = ParseError("RowBinary", {Col("n", "Nullable(Int8)")}, std::string("\x00\x05\x02", 3));
  EXPECT_EQ(st.message(),
            "Cannot parse input: row 2, column 'n': bad Nullable marker byte 2 (expected 0 or 1)");
}

TEST(RowBinaryTest, OversizedStringLengthIsRejectedWithoutWaiting) {
  InputOptions opts;
  opts.max_row_bytes = 1000;
  Encoder e;
  e.Leb(1ull << 40);
  auto parser = MakeInputParser("RowBinary", {Col("s", "String")}, opts);
  ASSERT_TRUE(parser.ok());
  Status st = (*parser)->Feed(e.bytes());
  EXPECT_EQ(st.message(),
            "Cannot parse input: row 1, column 's': string of 1099511627776 bytes is larger than "
            "max_row_bytes (1000 bytes)");
  Encoder bad;
  bad.Raw(std::string(10, '\xff')).Byte(0x7f);
  EXPECT_FALSE(ParseAll("RowBinary", {Col("s", "String")}, bad.bytes()).status.ok());
}

TEST(RowBinaryTest, SplittingAtEveryByteBoundaryGivesIdenticalBlocks) {
  std::vector<InputColumn> cols = {Col("n", "Nullable(Int32)"), Col("s", "String"),
                                   Col("f", "FixedString(3)"), Col("ns", "Nullable(String)")};
  Encoder e;
  e.Byte(0).Fixed<int32_t>(5).Str("abc").Raw("xyz").Byte(1);
  e.Byte(1).Str(std::string(130, 'L')).Raw(std::string("pq\0", 3)).Byte(0).Str("v");
  e.Byte(0).Fixed<int32_t>(-1).Str("").Raw("123").Byte(0).Str("");
  ExpectSplitInvariant("RowBinary", cols, e.bytes(), {.max_block_rows = 2});
  ExpectSplitInvariant("RowBinary", cols, e.bytes() + "\x00\x01", {.max_block_rows = 2});
}

TEST(RowBinaryTest, BlocksAreCutAtMaxBlockRows) {
  Encoder e;
  for (int i = 0; i < 10; ++i) e.Fixed<uint64_t>(i);
  Parsed p =
      ParseChunks("RowBinary", {Col("u", "UInt64")}, Chunks(e.bytes(), 3), {.max_block_rows = 4});
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  ASSERT_EQ(p.blocks.size(), 3u);
  EXPECT_EQ(p.blocks[1].first_row, 4u);
  EXPECT_EQ(testing::RowsText(p.blocks[2]), "8\n9\n");
}

TEST(RowBinaryTest, RandomBytesNeverCrash) {
  std::mt19937 rng(99);
  for (int iter = 0; iter < 5000; ++iter) {
    std::string input(rng() % 200, '\0');
    for (char& c : input) c = static_cast<char>(rng() % 4 == 0 ? rng() % 3 : rng());
    Parsed p = ParseChunks("RowBinary", AllTypes(), Chunks(input, 1 + rng() % 50),
                           {.max_block_rows = 2, .max_row_bytes = 4096});
    if (!p.status.ok()) {
      EXPECT_EQ(p.status.message().rfind("Cannot parse input: row ", 0), 0u) << p.status.message();
    }
    for (const auto& b : p.blocks) ASSERT_TRUE(b.block.Validate().ok());
  }
}

}  // namespace
}  // namespace trackhouse::formats
