#include <gtest/gtest.h>

#include "eval/test_util.h"

namespace trackhouse::eval {
namespace {

using testing::Eval;
using testing::EvalOne;
using testing::MakeBlock;
using testing::TypeOf;
using V = std::vector<std::string>;

TEST(MathFunctionsTest, RoundingDocumentationExamples) {
  EXPECT_EQ(EvalOne("ceil(123.45, 1)"), "123.5");
  EXPECT_EQ(EvalOne("ceil(123.45, -1)"), "130");
  EXPECT_EQ(EvalOne("floor(123.45, 1)"), "123.4");
  EXPECT_EQ(EvalOne("floor(123.45, -1)"), "120");
  EXPECT_EQ(EvalOne("truncate(123.499, 1)"), "123.4");
  EXPECT_EQ(EvalOne("round(3.14159, 2)"), "3.14");
}

TEST(MathFunctionsTest, RoundUsesBankersRoundingForFloats) {
  EXPECT_EQ(EvalOne("round(2.5)"), "2");
  EXPECT_EQ(EvalOne("round(3.5)"), "4");
  EXPECT_EQ(EvalOne("round(-2.5)"), "-2");
  EXPECT_EQ(EvalOne("round(0.5)"), "0");
  EXPECT_EQ(EvalOne("floor(-1.5)"), "-2");
  EXPECT_EQ(EvalOne("ceil(-1.5)"), "-1");
  EXPECT_EQ(EvalOne("round(1234, -2)"), "1200");
  EXPECT_EQ(EvalOne("floor(-15, -1)"), "-20");
  EXPECT_EQ(EvalOne("ceil(11, -1)"), "20");
  EXPECT_EQ(TypeOf("round(toFloat32(1.5))"), "Float32");
  EXPECT_EQ(TypeOf("round(toInt16(15), -1)"), "Int16");
}

TEST(MathFunctionsTest, AbsLeastGreatestAndFloatMath) {
  EXPECT_EQ(EvalOne("abs(-3)"), "3");
  EXPECT_EQ(TypeOf("abs(toInt8(-3))"), "UInt8");
  EXPECT_EQ(EvalOne("abs(toInt8(-128))"), "128");
  EXPECT_EQ(EvalOne("abs(-1.5)"), "1.5");
  EXPECT_EQ(EvalOne("least(1, 2)"), "1");
  EXPECT_EQ(EvalOne("greatest(1.5, 2)"), "2");
  EXPECT_EQ(EvalOne("greatest('a', 'b')"), "b");
  EXPECT_EQ(TypeOf("least(1, -1)"), "Int16");
  EXPECT_EQ(EvalOne("sqrt(16)"), "4");
  EXPECT_EQ(EvalOne("pow(2, 10)"), "1024");
  EXPECT_EQ(EvalOne("exp(0)"), "1");
  EXPECT_EQ(EvalOne("log(1)"), "0");
  EXPECT_EQ(EvalOne("log10(1000)"), "3");
  EXPECT_EQ(EvalOne("pi()"), "3.141592653589793");
  types::Block b = MakeBlock({{"x", "Nullable(Float64)", {"4", "\\N"}}});
  EXPECT_EQ(Eval("sqrt(x)", b), (V{"2", "\\N"}));
}

}  // namespace
}  // namespace trackhouse::eval
