#include "types/column.h"

#include <gtest/gtest.h>

#include <optional>

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

// Rows: [1, 2], [], [NULL, 3], [1, 2, 0].
std::shared_ptr<ColumnArray> SampleArray() {
  auto col = std::static_pointer_cast<ColumnArray>(MakeColumn(T("Array(Nullable(Int32))")));
  auto& data = static_cast<ColumnNullable&>(col->data());
  auto append = [&](std::vector<std::optional<int32_t>> row) {
    for (auto v : row) {
      if (v) {
        data.AppendValue(Value::Int(*v));
      } else {
        data.AppendNull();
      }
    }
    col->FinishRow();
  };
  append({1, 2});
  append({});
  append({std::nullopt, 3});
  append({1, 2, 0});
  return col;
}

std::string Text(const Value& v) { return v.ToString(); }

TEST(ColumnArrayTest, BuildsRowsFromOffsets) {
  auto col = SampleArray();
  ASSERT_EQ(col->size(), 4u);
  EXPECT_EQ(col->offsets(), (std::vector<uint64_t>{2, 2, 4, 7}));
  EXPECT_EQ(col->data().size(), 7u);
  EXPECT_EQ(Text(col->GetValue(0)), "[1, 2]");
  EXPECT_EQ(Text(col->GetValue(1)), "[]");
  EXPECT_EQ(Text(col->GetValue(2)), "[NULL, 3]");
  EXPECT_EQ(col->GetValue(3).kind(), Value::Kind::kArray);
  EXPECT_EQ(col->GetValue(3).array_value().size(), 3u);
  // Offsets (8 bytes a row) plus the Nullable(Int32) elements (1 + 4 bytes each).
  EXPECT_EQ(col->DataBytes(), 4u * 8 + 7u * 5);
}

TEST(ColumnArrayTest, AppendValueDefaultRangeAndTruncate) {
  auto src = SampleArray();
  ColumnPtr col = MakeColumn(T("Array(Nullable(Int32))"));
  col->AppendValue(src->GetValue(3));
  col->AppendDefault();
  col->AppendRange(*src, 1, 2);
  ASSERT_EQ(col->size(), 4u);
  EXPECT_EQ(Text(col->GetValue(0)), "[1, 2, 0]");
  EXPECT_EQ(Text(col->GetValue(1)), "[]");
  EXPECT_EQ(Text(col->GetValue(2)), "[]");
  EXPECT_EQ(Text(col->GetValue(3)), "[NULL, 3]");
  col->Truncate(1);
  EXPECT_EQ(col->size(), 1u);
  EXPECT_EQ(static_cast<ColumnArray&>(*col).data().size(), 3u);
  col->AppendValue(Value::Array({Value::Int(9)}));
  EXPECT_EQ(Text(col->GetValue(1)), "[9]");
}

TEST(ColumnArrayTest, ComparesLexicographicallyAndHashesByContent) {
  auto col = SampleArray();
  EXPECT_LT(col->CompareAt(0, *col, 3), 0);  // [1,2] is a prefix of [1,2,0]
  EXPECT_GT(col->CompareAt(3, *col, 0), 0);
  EXPECT_LT(col->CompareAt(1, *col, 0), 0);  // [] first
  EXPECT_LT(col->CompareAt(2, *col, 0), 0);  // NULL sorts before 1
  EXPECT_EQ(col->CompareAt(0, *col, 0), 0);
  auto copy = col->Permute({0, 0});
  EXPECT_EQ(col->HashAt(0, 7), copy->HashAt(1, 7));
  EXPECT_NE(col->HashAt(0, 7), col->HashAt(3, 7));
  // The same elements split differently into rows hash differently.
  EXPECT_NE(col->HashAt(1, 7), col->HashAt(0, 7));
  EXPECT_EQ(col->GetValue(0).Compare(col->GetValue(3)), -1);
  EXPECT_EQ(col->GetValue(2).Compare(col->GetValue(0)), -1);
}

TEST(ColumnArrayTest, PermuteAndFilterMoveElementsWithRows) {
  auto col = SampleArray();
  ColumnPtr p = col->Permute({3, 1, 0, 3});
  ASSERT_EQ(p->size(), 4u);
  EXPECT_EQ(Text(p->GetValue(0)), "[1, 2, 0]");
  EXPECT_EQ(Text(p->GetValue(1)), "[]");
  EXPECT_EQ(Text(p->GetValue(2)), "[1, 2]");
  EXPECT_EQ(Text(p->GetValue(3)), "[1, 2, 0]");
  ColumnPtr f = col->Filter({0, 1, 1, 0});
  ASSERT_EQ(f->size(), 2u);
  EXPECT_EQ(Text(f->GetValue(0)), "[]");
  EXPECT_EQ(Text(f->GetValue(1)), "[NULL, 3]");
  EXPECT_EQ(static_cast<const ColumnArray&>(*f).data().size(), 2u);
  EXPECT_EQ(col->CloneEmpty()->type()->name(), "Array(Nullable(Int32))");
}

TEST(ColumnArrayTest, NestedArraysSerializeAndRoundTrip) {
  ColumnPtr col = MakeColumn(T("Array(Array(String))"));
  col->AppendValue(
      Value::Array({Value::Array({Value::String("a"), Value::String("")}), Value::Array({})}));
  col->AppendDefault();
  col->AppendValue(Value::Array({Value::Array({Value::String("bc")})}));
  std::string bytes;
  col->Serialize(&bytes);
  ColumnPtr back = col->CloneEmpty();
  std::string_view in = bytes;
  ASSERT_TRUE(back->Deserialize(&in, 3).ok());
  EXPECT_TRUE(in.empty());
  ASSERT_EQ(back->size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(col->CompareAt(i, *back, i), 0) << i;
  EXPECT_EQ(Text(back->GetValue(0)), "[['a', ''], []]");
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    ColumnPtr partial = col->CloneEmpty();
    std::string_view short_in = std::string_view(bytes).substr(0, cut);
    EXPECT_FALSE(partial->Deserialize(&short_in, 3).ok()) << cut;
  }
}

TEST(ColumnArrayTest, BlockCodecCarriesArrayColumns) {
  Block b;
  auto col = SampleArray();
  b.Add("a", col->type(), col);
  std::string bytes;
  SerializeBlock(b, &bytes);
  auto r = DeserializeBlock(bytes);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->rows(), 4u);
  EXPECT_EQ(r->at(0).type->name(), "Array(Nullable(Int32))");
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(col->CompareAt(i, *r->at(0).column, i), 0);
}

TEST(ColumnArrayTest, ConstColumnRepeatsTheArray) {
  ColumnPtr c = MakeConstColumn(T("Array(UInt8)"), Value::Array({Value::UInt(4)}), 3);
  ASSERT_EQ(c->size(), 3u);
  EXPECT_EQ(Text(c->GetValue(2)), "[4]");
}

}  // namespace
}  // namespace trackhouse::types
