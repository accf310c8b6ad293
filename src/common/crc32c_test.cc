#include "common/crc32c.h"

#include <gtest/gtest.h>

#include <string>

namespace trackhouse::crc32c {
namespace {

TEST(Crc32cTest, KnownVectors) {
  // RFC 3720 B.4 test vectors.
  std::string zeros(32, '\0');
  EXPECT_EQ(Value(zeros), 0x8a9136aau);
  std::string ones(32, '\xff');
  EXPECT_EQ(Value(ones), 0x62a8ab43u);
  EXPECT_EQ(Value("123456789"), 0xe3069283u);
}

TEST(Crc32cTest, ExtendEqualsWhole) {
  std::string s = "hello world, this is trackhouse";
  EXPECT_EQ(Extend(Value(s.data(), 5), s.data() + 5, s.size() - 5), Value(s));
}

TEST(Crc32cTest, MaskRoundTrips) {
  uint32_t c = Value("foo");
  EXPECT_NE(Mask(c), c);
  EXPECT_EQ(Unmask(Mask(c)), c);
}

}  // namespace
}  // namespace trackhouse::crc32c
