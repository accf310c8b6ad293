#include <gtest/gtest.h>

#include "eval/test_util.h"

namespace trackhouse::eval {
namespace {

using testing::Eval;
using testing::EvalOne;
using testing::MakeBlock;
using testing::TypeOf;
using V = std::vector<std::string>;

const std::string kDoc = R"('{"a": "hello", "b": [-100, 200.0, 300]}')";

std::string J(const std::string& fn, const std::string& path) {
  return EvalOne(fn + "(" + kDoc + (path.empty() ? "" : ", " + path) + ")");
}

TEST(JsonFunctionsTest, DocumentationExamples) {
  EXPECT_EQ(J("JSONHas", "'b'"), "1");
  EXPECT_EQ(J("JSONHas", "'b', 4"), "0");
  EXPECT_EQ(J("JSONLength", "'b'"), "3");
  EXPECT_EQ(J("JSONLength", ""), "2");
  EXPECT_EQ(J("JSONExtractString", "'a'"), "hello");
  EXPECT_EQ(J("JSONExtractString", "1"), "hello");
  EXPECT_EQ(J("JSONExtractInt", "'b', 1"), "-100");
  EXPECT_EQ(J("JSONExtractFloat", "'b', 2"), "200");
  EXPECT_EQ(J("JSONExtractUInt", "'b', -1"), "300");
  EXPECT_EQ(J("JSONExtractRaw", "'b'"), "[-100,200,300]");
  EXPECT_EQ(J("isValidJSON", ""), "1");
  EXPECT_EQ(EvalOne("isValidJSON('not a json')"), "0");
  EXPECT_EQ(EvalOne(R"(JSONExtractString('{"abc":"\\n\\u0000"}', 'abc'))"), std::string("\n\0", 2));
  EXPECT_EQ(EvalOne(R"(JSONExtractString('{"abc":"\\u263a"}', 'abc'))"), "☺");
  EXPECT_EQ(EvalOne(R"(JSONExtractString('{"abc":"\\u263"}', 'abc'))"), "");
  EXPECT_EQ(EvalOne(R"(JSONExtractString('{"abc":"hello}', 'abc'))"), "");
  EXPECT_EQ(EvalOne(R"(JSONExtractBool('{"passed": true}', 'passed'))"), "1");
}

TEST(JsonFunctionsTest, MissingPathsWrongKindsAndInvalidJsonGiveDefaults) {
  EXPECT_EQ(J("JSONExtractString", "'b'"), "");
  EXPECT_EQ(J("JSONExtractInt", "'a'"), "0");
  EXPECT_EQ(J("JSONExtractUInt", "'b', 1"), "0");
  EXPECT_EQ(J("JSONExtractInt", "'b', 0"), "0");
  EXPECT_EQ(J("JSONExtractRaw", "'zzz'"), "");
  EXPECT_EQ(EvalOne("JSONExtractInt('{bad', 'a')"), "0");
  EXPECT_EQ(EvalOne("JSONExtractRaw('{\"a\": {\"x\": \"1/2\", \"y\": [true, null]}}', 'a')"),
            R"({"x":"1\/2","y":[true,null]})");
  EXPECT_EQ(TypeOf("JSONExtractInt('{}', 'a')"), "Int64");
  EXPECT_EQ(TypeOf("JSONExtractFloat('{}', 'a')"), "Float64");
  EXPECT_EQ(TypeOf("JSONExtractBool('{}', 'a')"), "UInt8");
}

TEST(JsonFunctionsTest, MetadataColumn) {
  types::Block b = MakeBlock(
      {{"metadata",
        "String",
        {R"({"plan": "pro", "seats": 5, "tags": ["a", "b"]})", R"({"plan": "free"})", "oops"}}});
  EXPECT_EQ(Eval("JSONExtractString(metadata, 'plan')", b), (V{"pro", "free", ""}));
  EXPECT_EQ(Eval("JSONExtractInt(metadata, 'seats')", b), (V{"5", "0", "0"}));
  EXPECT_EQ(Eval("JSONExtractString(metadata, 'tags', -1)", b), (V{"b", "", ""}));
  EXPECT_EQ(Eval("JSONHas(metadata, 'seats')", b), (V{"1", "0", "0"}));
}

}  // namespace
}  // namespace trackhouse::eval
