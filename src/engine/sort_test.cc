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

namespace trackhouse::engine {
namespace {

// Pre-sorted runs (what a merge concatenates) are merged stably, for any number of runs.
TEST(SortTest, MergesPresortedRunsStably) {
  std::mt19937 rng(11);
  for (int runs : {1, 2, 3, 5, 8}) {
    types::Block b;
    auto key = types::MakeColumn(*types::ParseDataType("Int32"));
    auto tag = types::MakeColumn(*types::ParseDataType("UInt32"));
    std::vector<size_t> starts;
    uint32_t row = 0;
    for (int r = 0; r < runs; ++r) {
      starts.push_back(row);
      int n = 50 + static_cast<int>(rng() % 100);
      std::vector<int> vals(n);
      for (int& v : vals) v = static_cast<int>(rng() % 40);
      std::sort(vals.begin(), vals.end());
      for (int v : vals) {
        key->AppendValue(types::Value::Int(v));
        tag->AppendValue(types::Value::UInt(row++));
      }
    }
    b.Add("k", key->type(), key);
    b.Add("tag", tag->type(), tag);
    auto merged = SortPermutation(b, {"k"}, &starts);
    auto sorted = SortPermutation(b, {"k"});
    ASSERT_TRUE(merged.ok() && sorted.ok());
    EXPECT_EQ(*merged, *sorted) << runs << " runs";
  }
}

TEST(SortTest, LargeSortsUseTwoThreadsAndStayStable) {
  std::mt19937 rng(5);
  types::Block b;
  auto a = types::MakeColumn(*types::ParseDataType("UInt16"));
  auto c = types::MakeColumn(*types::ParseDataType("Int64"));
  const size_t n = 300000;
  for (size_t i = 0; i < n; ++i) {
    a->AppendValue(types::Value::UInt(rng() % 100));
    c->AppendValue(types::Value::Int(static_cast<int64_t>(rng() % 1000) - 500));
  }
  b.Add("a", a->type(), a);
  b.Add("c", c->type(), c);
  auto perm = SortPermutation(b, {"a", "c"});
  ASSERT_TRUE(perm.ok());
  for (size_t r = 1; r < n; ++r) {
    int cmp = a->CompareAt((*perm)[r - 1], *a, (*perm)[r]);
    if (cmp == 0) cmp = c->CompareAt((*perm)[r - 1], *c, (*perm)[r]);
    ASSERT_LE(cmp, 0) << r;
    if (cmp == 0) {
      ASSERT_LT((*perm)[r - 1], (*perm)[r]) << "not stable at " << r;
    }
  }
}

}  // namespace
}  // namespace trackhouse::engine
