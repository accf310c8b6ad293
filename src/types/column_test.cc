#include "types/column.h"

#include <gtest/gtest.h>

#include "types/block.h"
#include "types/block_codec.h"

namespace trackhouse::types {
namespace {

DataTypePtr T(const char* name) { return *ParseDataType(name); }

Block SampleBlock() {
  Block b;
  auto lc = MakeColumn(T("LowCardinality(String)"));
  auto id = MakeColumn(T("Int32"));
  auto s = MakeColumn(T("String"));
  auto n = MakeColumn(T("Nullable(UInt64)"));
  auto f = MakeColumn(T("FixedString(3)"));
  const char* kinds[] = {"Model", "Image", "Model", "Post"};
  for (int i = 0; i < 4; ++i) {
    lc->AppendValue(Value::String(kinds[i]));
    id->AppendValue(Value::Int(10 - i));
    s->AppendValue(Value::String(std::string(i, 'x')));
    if (i % 2)
      n->AppendValue(Value());
    else
      n->AppendValue(Value::UInt(i * 100));
    f->AppendValue(Value::String("ab"));
  }
  b.Add("entityType", T("LowCardinality(String)"), lc);
  b.Add("entityId", T("Int32"), id);
  b.Add("s", T("String"), s);
  b.Add("n", T("Nullable(UInt64)"), n);
  b.Add("f", T("FixedString(3)"), f);
  return b;
}

TEST(ColumnTest, BlockCodecRoundTrips) {
  Block b = SampleBlock();
  ASSERT_TRUE(b.Validate().ok());
  std::string bytes;
  SerializeBlock(b, &bytes);
  auto r = DeserializeBlock(bytes);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->rows(), 4u);
  for (size_t c = 0; c < b.num_columns(); ++c) {
    for (size_t i = 0; i < 4; ++i) {
      EXPECT_EQ(b.at(c).column->CompareAt(i, *r->at(c).column, i), 0) << c << " " << i;
    }
  }
  EXPECT_TRUE(r->at(3).column->GetValue(1).is_null());
}

TEST(ColumnTest, TruncatedCodecBytesAreCorruption) {
  std::string bytes;
  SerializeBlock(SampleBlock(), &bytes);
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    auto r = DeserializeBlock(std::string_view(bytes).substr(0, cut));
    EXPECT_FALSE(r.ok()) << cut;
  }
}

TEST(ColumnTest, PermuteFilterAndCompare) {
  Block b = SampleBlock();
  Block p = b.Permute({3, 2, 1, 0});
  EXPECT_EQ(p.at(1).column->GetValue(0).int_value(), 7);
  EXPECT_EQ(p.at(0).column->GetValue(0).string_value(), "Post");
  Block f = b.Filter({1, 0, 1, 0});
  ASSERT_EQ(f.rows(), 2u);
  EXPECT_EQ(f.at(0).column->GetValue(1).string_value(), "Model");
  EXPECT_EQ(b.at(0).column->CompareAt(0, *b.at(0).column, 2), 0);
  EXPECT_LT(b.at(0).column->CompareAt(1, *b.at(0).column, 0), 0);  // Image < Model
  EXPECT_LT(b.at(3).column->CompareAt(1, *b.at(3).column, 0), 0);  // NULL first
}

TEST(ColumnTest, LowCardinalityAppendRangeRemapsDictionaries) {
  auto a = std::make_shared<ColumnLowCardinality>(T("LowCardinality(String)"));
  auto b = std::make_shared<ColumnLowCardinality>(T("LowCardinality(String)"));
  a->Append("x");
  b->Append("y");
  b->Append("x");
  a->AppendRange(*b, 0, 2);
  ASSERT_EQ(a->size(), 3u);
  EXPECT_EQ(a->View(1), "y");
  EXPECT_EQ(a->View(2), "x");
  EXPECT_EQ(a->dictionary().size(), 2u);
  EXPECT_EQ(a->indices()[0], a->indices()[2]);
}

TEST(ColumnTest, DataBytesCountsValuesNotCapacity) {
  Block b = SampleBlock();
  // LowCardinality 4 x 4, Int32 4 x 4, String (0+1+2+3 chars + 4 offsets x 8),
  // Nullable(UInt64) (4 null-map bytes + 4 x 8), FixedString(3) 4 x 3.
  EXPECT_EQ(b.DataBytes(), 16u + 16u + (6u + 32u) + (4u + 32u) + 12u);
  b.at(1).column->Reserve(1 << 20);
  EXPECT_EQ(b.DataBytes(), 16u + 16u + (6u + 32u) + (4u + 32u) + 12u);
}

TEST(ColumnTest, ConcatAndSlice) {
  Block b = SampleBlock();
  Block c = Concat({b, b});
  EXPECT_EQ(c.rows(), 8u);
  Block s = c.Slice(3, 3);
  EXPECT_EQ(s.rows(), 3u);
  EXPECT_EQ(s.at(1).column->GetValue(0).int_value(), 7);
  EXPECT_EQ(s.at(2).column->GetValue(0).string_value(), "xxx");
}

}  // namespace
}  // namespace trackhouse::types
