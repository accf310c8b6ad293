#include <gtest/gtest.h>

#include "eval/test_util.h"

namespace trackhouse::eval {
namespace {

using testing::ErrorOf;
using testing::Eval;
using testing::EvalOne;
using testing::MakeBlock;
using testing::TypeOf;
using V = std::vector<std::string>;

TEST(LogicalTest, TwoValuedLogic) {
  EXPECT_EQ(EvalOne("1 AND 0"), "0");
  EXPECT_EQ(EvalOne("1 AND 2"), "1");
  EXPECT_EQ(EvalOne("0 OR 5"), "1");
  EXPECT_EQ(EvalOne("NOT 0"), "1");
  EXPECT_EQ(EvalOne("NOT 3"), "0");
  EXPECT_EQ(EvalOne("xor(1, 1)"), "0");
  EXPECT_EQ(EvalOne("xor(1, 0)"), "1");
  EXPECT_EQ(TypeOf("1 AND 0"), "UInt8");
}

TEST(LogicalTest, ThreeValuedLogicOnNulls) {
  EXPECT_EQ(EvalOne("NULL AND 0"), "0");
  EXPECT_EQ(EvalOne("NULL AND 1"), "\\N");
  EXPECT_EQ(EvalOne("NULL OR 1"), "1");
  EXPECT_EQ(EvalOne("NULL OR 0"), "\\N");
  EXPECT_EQ(EvalOne("NOT NULL"), "\\N");
  types::Block b = MakeBlock(
      {{"x", "Nullable(UInt8)", {"1", "0", "\\N", "\\N"}}, {"y", "UInt8", {"1", "1", "0", "1"}}});
  EXPECT_EQ(Eval("x AND y", b), (V{"1", "0", "0", "\\N"}));
  EXPECT_EQ(Eval("x OR y", b), (V{"1", "1", "\\N", "1"}));
  EXPECT_EQ(TypeOf("x AND y", b), "Nullable(UInt8)");
  EXPECT_EQ(Eval("x AND y AND 1", b), (V{"1", "0", "0", "\\N"}));
}

TEST(ConditionalTest, IfUsesSupertype) {
  EXPECT_EQ(EvalOne("if(1, 'a', 'b')"), "a");
  EXPECT_EQ(EvalOne("if(0, 1, -1)"), "-1");
  EXPECT_EQ(TypeOf("if(0, 1, -1)"), "Int16");
  EXPECT_EQ(TypeOf("if(1, 1, 2.5)"), "Float64");
  EXPECT_EQ(TypeOf("if(1, 1, NULL)"), "Nullable(UInt8)");
  EXPECT_EQ(EvalOne("if(NULL, 1, 2)"), "2");
  EXPECT_EQ(EvalOne("1 ? 'yes' : 'no'"), "yes");
  types::Block b = MakeBlock({{"x", "Int32", {"1", "5", "-3"}}});
  EXPECT_EQ(Eval("if(x > 1, x, NULL)", b), (V{"\\N", "5", "\\N"}));
  EXPECT_EQ(Eval("if(x > 0, 'pos', 'neg')", b), (V{"pos", "pos", "neg"}));
  EXPECT_EQ(ErrorOf("if(1, 'a', 1)").clickhouse_code(), 386);
}

TEST(ConditionalTest, MultiIfAndCase) {
  types::Block b = MakeBlock({{"x", "Int32", {"1", "2", "3"}}});
  EXPECT_EQ(Eval("multiIf(x = 1, 'one', x = 2, 'two', 'many')", b), (V{"one", "two", "many"}));
  EXPECT_EQ(Eval("CASE WHEN x = 1 THEN 'one' ELSE 'other' END", b), (V{"one", "other", "other"}));
  EXPECT_EQ(Eval("CASE x WHEN 1 THEN 'one' WHEN 3 THEN 'three' END", b),
            (V{"one", "\\N", "three"}));
  EXPECT_EQ(TypeOf("CASE x WHEN 1 THEN 'one' END", b), "Nullable(String)");
}

TEST(ConditionalTest, NullFunctions) {
  EXPECT_EQ(EvalOne("coalesce(NULL, 1)"), "1");
  EXPECT_EQ(EvalOne("coalesce(NULL, NULL)"), "\\N");
  EXPECT_EQ(EvalOne("ifNull(NULL, 'x')"), "x");
  EXPECT_EQ(EvalOne("nullIf(1, 1)"), "\\N");
  EXPECT_EQ(EvalOne("nullIf(1, 2)"), "1");
  EXPECT_EQ(EvalOne("isNull(NULL)"), "1");
  EXPECT_EQ(EvalOne("isNotNull(1)"), "1");
  types::Block b =
      MakeBlock({{"x", "Nullable(Int32)", {"1", "\\N"}}, {"y", "Nullable(Int64)", {"\\N", "\\N"}}});
  EXPECT_EQ(Eval("coalesce(x, 0)", b), (V{"1", "0"}));
  EXPECT_EQ(TypeOf("coalesce(x, 0)", b), "Int32");
  EXPECT_EQ(Eval("coalesce(y, x)", b), (V{"1", "\\N"}));
  EXPECT_EQ(TypeOf("coalesce(y, x)", b), "Nullable(Int64)");
  EXPECT_EQ(Eval("x IS NULL", b), (V{"0", "1"}));
  EXPECT_EQ(Eval("x IS NOT NULL", b), (V{"1", "0"}));
  EXPECT_EQ(Eval("assumeNotNull(x)", b), (V{"1", "0"}));
  EXPECT_EQ(TypeOf("assumeNotNull(x)", b), "Int32");
}

}  // namespace
}  // namespace trackhouse::eval
