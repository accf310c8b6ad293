#include "engine/sort.h"

#include <gtest/gtest.h>

#include <random>

#include "types/convert.h"

namespace trackhouse::engine {
namespace {

TEST(SortTest, MatchesComparisonSortOnMixedKeys) {
  std::mt19937 rng(7);
  types::Block b;
  auto lc = types::MakeColumn(*types::ParseDataType("LowCardinality(String)"));
  auto i32 = types::MakeColumn(*types::ParseDataType("Int32"));
  auto dt = types::MakeColumn(*types::ParseDataType("DateTime64(3)"));
  auto s = types::MakeColumn(*types::ParseDataType("String"));
  const char* kinds[] = {"Post", "Model", "Image", "Article"};
  for (int i = 0; i < 5000; ++i) {
    lc->AppendValue(types::Value::String(kinds[rng() % 4]));
    i32->AppendValue(types::Value::Int(static_cast<int>(rng() % 200) - 100));
    dt->AppendValue(types::Value::Int(static_cast<int64_t>(rng() % 50) - 25));
    s->AppendValue(types::Value::String(std::string(rng() % 3, 'a' + rng() % 3)));
  }
  b.Add("t", lc->type(), lc);
  b.Add("id", i32->type(), i32);
  b.Add("ts", dt->type(), dt);
  b.Add("s", s->type(), s);
  for (const std::vector<std::string>& key :
       {std::vector<std::string>{"t", "id", "ts"}, {"id"}, {"s", "id"}, {"t", "id", "ts", "s"}}) {
    auto perm = SortPermutation(b, key);
    ASSERT_TRUE(perm.ok());
    types::Block sorted = b.Permute(*perm);
    for (size_t r = 1; r < sorted.rows(); ++r) {
      int cmp = 0;
      for (const auto& k : key) {
        const auto& c = *sorted.Get(k)->column;
        cmp = c.CompareAt(r - 1, c, r);
        if (cmp != 0) break;
      }
      ASSERT_LE(cmp, 0) << "row " << r;
      if (cmp == 0) {
        ASSERT_LT((*perm)[r - 1], (*perm)[r]) << "not stable at row " << r;
      }
    }
  }
}

}  // namespace
}  // namespace trackhouse::engine
