// Tests of WritePart (part_writer.h) and Part (part_reader.h): round trips of every type,
// partial reads, pruning against a brute-force filter, atomic publish under crashes, and
// corruption detection.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <random>
#include <set>
#include <thread>

#include "common/crc32c.h"
#include "engine/part_format.h"
#include "engine/part_reader.h"
#include "engine/part_writer.h"
#include "env/fault_injection_env.h"
#include "env/mem_env.h"
#include "types/block.h"

namespace trackhouse::engine {
namespace {

using types::Block;
using types::ColumnPtr;
using types::DataType;
using types::DataTypePtr;
using types::TypeId;
using types::Value;

DataTypePtr Type(std::string_view text) { return *types::ParseDataType(text); }

// Sorts a block by the named key columns (stable).
Block SortBlock(const Block& block, const std::vector<std::string>& key) {
  std::vector<const types::Column*> cols;
  for (const auto& k : key) cols.push_back(block.Get(k)->column.get());
  types::Permutation perm(block.rows());
  for (size_t i = 0; i < perm.size(); ++i) perm[i] = static_cast<uint32_t>(i);
  std::stable_sort(perm.begin(), perm.end(), [&](uint32_t a, uint32_t b) {
    for (const auto* c : cols) {
      int r = c->CompareAt(a, *c, b);
      if (r != 0) return r < 0;
    }
    return false;
  });
  return block.Permute(perm);
}

// A block with a column of every supported type, random values, sorted by (lc, i32, dt).
Block AllTypesBlock(size_t rows, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const char* kTypes[][2] = {
      {"i8", "Int8"},
      {"i16", "Int16"},
      {"i32", "Int32"},
      {"i64", "Int64"},
      {"u8", "UInt8"},
      {"u16", "UInt16"},
      {"u32", "UInt32"},
      {"u64", "UInt64"},
      {"f32", "Float32"},
      {"f64", "Float64"},
      {"s", "String"},
      {"fs", "FixedString(5)"},
      {"lc", "LowCardinality(String)"},
      {"d", "Date"},
      {"dt", "DateTime"},
      {"dt64", "DateTime64(3)"},
      {"b", "Bool"},
      {"n_i32", "Nullable(Int32)"},
      {"n_s", "Nullable(String)"},
      {"n_f64", "Nullable(Float64)"},
      {"n_fs", "Nullable(FixedString(3))"},
      {"weird name.with/chars", "UInt16"},
  };
  Block block;
  for (const auto& [name, type_text] : kTypes) {
    DataTypePtr type = Type(type_text);
    ColumnPtr col = types::MakeColumn(type);
    for (size_t r = 0; r < rows; ++r) {
      uint64_t x = rng();
      const DataType& t = type->Unwrapped();
      if (type->is_nullable() && x % 5 == 0) {
        col->AppendValue(Value());
        continue;
      }
      switch (t.id()) {
        case TypeId::kString:
          col->AppendValue(Value::String(std::string(x % 12, static_cast<char>('a' + x % 26))));
          break;
        case TypeId::kFixedString:
          col->AppendValue(Value::String(std::string(x % (t.fixed_size() + 1), 'q')));
          break;
        case TypeId::kLowCardinality: {
          static const char* kVals[] = {"Model", "Image", "Post", "Article", "", "Comment"};
          col->AppendValue(Value::String(kVals[x % 6]));
          break;
        }
        case TypeId::kFloat32:
        case TypeId::kFloat64:
          col->AppendValue(Value::Float(x % 7 == 0 ? -0.0 : static_cast<double>(x % 100000) / 7));
          break;
        case TypeId::kBool:
          col->AppendValue(Value::UInt(x & 1));
          break;
        case TypeId::kDate:
          col->AppendValue(Value::UInt(19000 + x % 400));
          break;
        case TypeId::kDateTime:
          col->AppendValue(Value::UInt(1700000000 + x % 100000));
          break;
        default:
          if (std::string_view(name) == "i32") {
            col->AppendValue(Value::Int(static_cast<int64_t>(x % 50)));  // repeats: runs in key
          } else if (t.is_signed()) {
            col->AppendValue(Value::Int(static_cast<int64_t>(x)));
          } else {
            col->AppendValue(Value::UInt(x));
          }
      }
    }
    block.Add(name, type, col);
  }
  return SortBlock(block, {"lc", "i32", "dt"});
}

PartWriteOptions DefaultOptions(uint32_t granularity = 64) {
  PartWriteOptions o;
  o.partition_id = "202401";
  o.sort_key = {"lc", "i32", "dt"};
  o.granularity = granularity;
  o.min_block = 3;
  o.max_block = 7;
  o.level = 1;
  return o;
}

void ExpectColumnsEqual(const types::Column& want, size_t want_begin, const types::Column& got,
                        const std::string& name) {
  for (size_t r = 0; r < got.size(); ++r) {
    Value a = want.GetValue(want_begin + r), b = got.GetValue(r);
    bool both_nan = a.kind() == Value::Kind::kFloat && b.kind() == Value::Kind::kFloat &&
                    std::isnan(a.float_value()) && std::isnan(b.float_value());
    ASSERT_TRUE(both_nan || (a == b && a.kind() == b.kind()))
        << name << " row " << want_begin + r << ": want " << a.ToString() << " got "
        << b.ToString();
  }
}

void ExpectBlockMatches(const Part& part, const Block& block, size_t g_begin, size_t g_end) {
  std::vector<std::string> names;
  for (const auto& c : block.columns()) names.push_back(c.name);
  auto read = part.ReadBlock(names, g_begin, g_end);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  size_t first = part.GranuleFirstRow(g_begin);
  size_t expect_rows = g_begin == g_end ? 0 : part.RangeRows({{g_begin, g_end}});
  ASSERT_EQ(read->rows(), expect_rows);
  for (size_t i = 0; i < block.num_columns(); ++i) {
    EXPECT_TRUE(read->at(i).type->Equals(*block.at(i).type));
    ExpectColumnsEqual(*block.at(i).column, first, *read->at(i).column, block.at(i).name);
  }
}

// ---------------- round trips ----------------

TEST(PartTest, EveryTypeRoundTripsForManyGranularities) {
  auto env = env::NewMemEnv();
  ASSERT_TRUE(env->CreateDirs("/t").ok());
  int n = 0;
  for (uint32_t granularity : {1u, 7u, 64u, 8192u}) {
    for (size_t rows : {1ul, 63ul, 64ul, 1000ul}) {
      Block block = AllTypesBlock(rows, rows * 31 + granularity);
      for (Codec codec : {Codec::kLZ4, Codec::kZSTD, Codec::kNone}) {
        std::string dir = "/t/p" + std::to_string(n++);
        PartWriteOptions o = DefaultOptions(granularity);
        o.codec = codec;
        auto meta = WritePart(env.get(), dir, block, o);
        ASSERT_TRUE(meta.ok()) << meta.status().ToString();
        auto part = Part::Open(env.get(), dir);
        ASSERT_TRUE(part.ok()) << part.status().ToString();
        EXPECT_EQ((*part)->rows(), rows);
        EXPECT_EQ((*part)->num_granules(), (rows + granularity - 1) / granularity);
        ExpectBlockMatches(**part, block, 0, (*part)->num_granules());
      }
    }
  }
}

TEST(PartTest, EveryForcedTransformRoundTrips) {
  auto env = env::NewMemEnv();
  Block block = AllTypesBlock(500, 77);
  int n = 0;
  for (Transform t : {Transform::kPlain, Transform::kPack, Transform::kDeltaPack}) {
    PartWriteOptions o = DefaultOptions(50);
    for (const auto& c : block.columns()) o.transforms[c.name] = t;
    std::string dir = "/p" + std::to_string(n++);
    ASSERT_TRUE(WritePart(env.get(), dir, block, o).ok());
    auto part = Part::Open(env.get(), dir);
    ASSERT_TRUE(part.ok()) << part.status().ToString();
    ExpectBlockMatches(**part, block, 0, (*part)->num_granules());
  }
}

TEST(PartTest, PartialGranuleRangesReadExactlyTheirRows) {
  auto env = env::NewMemEnv();
  Block block = AllTypesBlock(1000, 5);
  ASSERT_TRUE(WritePart(env.get(), "/p", block, DefaultOptions(64)).ok());
  auto part = *Part::Open(env.get(), "/p");
  ASSERT_EQ(part->num_granules(), 16u);
  EXPECT_EQ(part->GranuleRows(15), 1000u - 15 * 64);
  for (auto [b, e] :
       std::vector<std::pair<size_t, size_t>>{{0, 1}, {3, 4}, {15, 16}, {2, 9}, {10, 16}, {7, 7}}) {
    ExpectBlockMatches(*part, block, b, e);
  }
  EXPECT_EQ(part->ReadColumn("i32", 3, 17).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(part->ReadColumn("i32", 5, 4).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(part->ReadColumn("nope", 0, 1).status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(part->HasColumn("nope"));
  EXPECT_TRUE(part->HasColumn("weird name.with/chars"));
  EXPECT_TRUE(env->FileExists("/p/weird%20name%2Ewith%2Fchars.bin"));
}

TEST(PartTest, ConcurrentReadersSeeTheSameRows) {
  auto env = env::NewMemEnv();
  Block block = AllTypesBlock(3000, 9);
  ASSERT_TRUE(WritePart(env.get(), "/p", block, DefaultOptions(100)).ok());
  auto part = *Part::Open(env.get(), "/p");
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (size_t g = t; g < part->num_granules(); g += 2) {
        auto col = part->ReadColumn("lc", g, g + 1);
        if (!col.ok() || (*col)->GetValue(0) != block.Get("lc")->column->GetValue(g * 100)) {
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(PartTest, MetaRecordsOptionsStatisticsAndSizes) {
  auto env = env::NewMemEnv();
  Block block = AllTypesBlock(777, 3);
  PartWriteOptions o = DefaultOptions(100);
  o.minmax_columns = {"s"};
  o.ttl_min = 1700000000;
  o.ttl_max = 1700086400;
  o.codec = Codec::kZSTD;
  auto written = WritePart(env.get(), "/p", block, o);
  ASSERT_TRUE(written.ok());
  auto part = *Part::Open(env.get(), "/p");
  const PartMeta& m = part->meta();
  EXPECT_EQ(m.format_version, kPartFormatVersion);
  EXPECT_EQ(m.partition_id, "202401");
  EXPECT_EQ(m.rows, 777u);
  EXPECT_EQ(m.granularity, 100u);
  EXPECT_EQ(m.min_block, 3u);
  EXPECT_EQ(m.max_block, 7u);
  EXPECT_EQ(m.level, 1u);
  EXPECT_EQ(m.codec, Codec::kZSTD);
  EXPECT_EQ(m.ttl_min, 1700000000);
  EXPECT_EQ(m.ttl_max, 1700086400);
  EXPECT_EQ(m.sort_key, o.sort_key);
  ASSERT_EQ(m.columns.size(), block.num_columns());
  EXPECT_EQ(m.columns[17], (std::pair<std::string, std::string>{"n_i32", "Nullable(Int32)"}));
  // Statistics against brute force.
  for (const auto& c : block.columns()) {
    auto it = m.column_minmax.find(c.name);
    bool expected = c.type->Unwrapped().id() != TypeId::kString &&
                    c.type->Unwrapped().id() != TypeId::kFixedString;
    if (c.name == "s") expected = true;
    ASSERT_EQ(it != m.column_minmax.end(), expected) << c.name;
    if (!expected) continue;
    Value mn, mx;
    for (size_t r = 0; r < block.rows(); ++r) {
      Value v = c.column->GetValue(r);
      if (v.is_null()) continue;
      if (mn.is_null() || v < mn) mn = v;
      if (mx.is_null() || mx < v) mx = v;
    }
    EXPECT_EQ(it->second.first, mn) << c.name;
    EXPECT_EQ(it->second.second, mx) << c.name;
  }
  ASSERT_EQ(m.key_minmax.size(), 3u);
  EXPECT_EQ(m.key_minmax[1], m.column_minmax.at("i32"));
  uint64_t total = m.primary_index_bytes;
  for (const auto& [name, bytes] : m.column_bytes) total += bytes;
  EXPECT_GT(part->BytesOnDisk(), total);
  EXPECT_EQ(written->column_bytes, m.column_bytes);
}

TEST(PartTest, MayContainUsesMinMax) {
  auto env = env::NewMemEnv();
  Block block = AllTypesBlock(300, 4);
  ASSERT_TRUE(WritePart(env.get(), "/p", block, DefaultOptions()).ok());
  auto part = *Part::Open(env.get(), "/p");
  const auto& [mn, mx] = part->meta().column_minmax.at("dt");
  EXPECT_TRUE(part->MayContain("dt", mn, mn));
  EXPECT_TRUE(part->MayContain("dt", Value(), Value()));
  EXPECT_FALSE(part->MayContain("dt", Value::UInt(mx.uint_value() + 1), Value()));
  EXPECT_FALSE(part->MayContain("dt", Value(), Value::UInt(mn.uint_value() - 1)));
  EXPECT_TRUE(part->MayContain("dt", Value::UInt(0), Value::UInt(mn.uint_value())));
  EXPECT_FALSE(part->MayContain("lc", Value::String("Zebra"), Value::String("Zoo")));
  EXPECT_TRUE(part->MayContain("lc", Value::String("Model"), Value::String("Model")));
  EXPECT_TRUE(part->MayContain("s", Value::String("x"), Value::String("y")));  // no stats
  EXPECT_TRUE(part->MayContain("added_later", Value::Int(1), Value::Int(2)));
}

// ---------------- pruning ----------------

// Brute force: does row r of the block satisfy the box?
bool RowMatches(const Block& block, const std::vector<std::string>& key, const KeyRange& range,
                size_t r) {
  for (size_t k = 0; k < range.columns.size() && k < key.size(); ++k) {
    if (!range.columns[k].Contains(block.Get(key[k])->column->GetValue(r))) return false;
  }
  return true;
}

KeyColumnBound RandomBound(std::mt19937_64& rng, const std::function<Value()>& value) {
  KeyColumnBound b;
  switch (rng() % 5) {
    case 0:
      return KeyColumnBound::Any();
    case 1:
      return KeyColumnBound::Exact(value());
    default:
      if (rng() % 3 != 0) {
        b.lower = value();
        b.lower_inclusive = rng() % 2;
      }
      if (rng() % 3 != 0) {
        b.upper = value();
        b.upper_inclusive = rng() % 2;
      }
      return b;
  }
}

void CheckPruningNeverMisses(const Block& block, const std::vector<std::string>& key,
                             uint32_t granularity, uint64_t seed,
                             const std::vector<std::function<Value(std::mt19937_64&)>>& gens,
                             size_t* selected_total, size_t* needed_total) {
  auto env = env::NewMemEnv();
  PartWriteOptions o;
  o.sort_key = key;
  o.granularity = granularity;
  ASSERT_TRUE(WritePart(env.get(), "/p", block, o).ok());
  auto part = *Part::Open(env.get(), "/p");
  std::mt19937_64 rng(seed);
  for (int iter = 0; iter < 400; ++iter) {
    KeyRange range;
    size_t depth = rng() % (key.size() + 1);
    for (size_t k = 0; k < depth; ++k) {
      range.columns.push_back(RandomBound(rng, [&] { return gens[k](rng); }));
    }
    GranuleRanges sel = part->SelectGranules(range);
    std::vector<bool> selected(part->num_granules(), false);
    for (size_t i = 0; i < sel.size(); ++i) {
      ASSERT_LT(sel[i].first, sel[i].second);
      if (i > 0) {
        ASSERT_LT(sel[i - 1].second, sel[i].first);  // ascending, non-adjacent
      }
      for (size_t g = sel[i].first; g < sel[i].second; ++g) selected[g] = true;
    }
    std::set<size_t> needed;
    for (size_t r = 0; r < block.rows(); ++r) {
      if (RowMatches(block, key, range, r)) {
        size_t g = r / granularity;
        needed.insert(g);
        ASSERT_TRUE(selected[g]) << "iteration " << iter << ": row " << r << " in granule " << g
                                 << " matches but the granule was pruned";
      }
    }
    *selected_total += part->RangeRows(sel) / granularity;
    *needed_total += needed.size();
  }
}

TEST(PartTest, SelectGranulesNeverMissesAMatchingRowOnRandomRanges) {
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    std::mt19937_64 rng(seed);
    const size_t rows = 2000 + rng() % 3000;
    const std::vector<std::string> kinds = {"Article", "Image", "Model", "Post"};
    auto a = types::MakeColumn(Type("LowCardinality(String)"));
    auto b = types::MakeColumn(Type("Int32"));
    auto c = types::MakeColumn(Type("DateTime"));
    for (size_t r = 0; r < rows; ++r) {
      a->AppendValue(Value::String(kinds[rng() % (seed % 2 ? 4 : 2)]));
      b->AppendValue(Value::Int(static_cast<int64_t>(rng() % 60) - 10));
      c->AppendValue(Value::UInt(1000 + rng() % 500));
    }
    Block block;
    block.Add("entityType", a->type(), a);
    block.Add("entityId", b->type(), b);
    block.Add("createdAt", c->type(), c);
    std::vector<std::string> key = {"entityType", "entityId", "createdAt"};
    block = SortBlock(block, key);
    std::vector<std::function<Value(std::mt19937_64&)>> gens = {
        [&](std::mt19937_64& g) {
          static const char* k[] = {"Article", "Image", "Model", "Post", "A", "Zzz", ""};
          return Value::String(k[g() % 7]);
        },
        [](std::mt19937_64& g) { return Value::Int(static_cast<int64_t>(g() % 70) - 15); },
        [](std::mt19937_64& g) { return Value::UInt(990 + g() % 520); },
    };
    size_t selected = 0, needed = 0;
    for (uint32_t gran : {1u, 16u, 100u}) {
      CheckPruningNeverMisses(block, key, gran, seed * 7 + gran, gens, &selected, &needed);
    }
    EXPECT_LE(needed, selected);
  }
}

TEST(PartTest, SelectGranulesIsConservativeWithNaNAndNegativeZeroKeys) {
  std::mt19937_64 rng(17);
  auto f = types::MakeColumn(Type("Float64"));
  auto i = types::MakeColumn(Type("Int64"));
  for (int r = 0; r < 3000; ++r) {
    uint64_t x = rng();
    double v = x % 13 == 0 ? std::nan("") : x % 11 == 0 ? -0.0 : static_cast<double>(x % 40) - 20;
    f->AppendValue(Value::Float(v));
    i->AppendValue(Value::Int(static_cast<int64_t>(rng() % 100)));
  }
  Block block;
  block.Add("f", f->type(), f);
  block.Add("i", i->type(), i);
  std::vector<std::string> key = {"f", "i"};
  block = SortBlock(block, key);
  std::vector<std::function<Value(std::mt19937_64&)>> gens = {
      [](std::mt19937_64& g) {
        return g() % 10 == 0 ? Value::Float(0.0) : Value::Float(static_cast<double>(g() % 44) - 22);
      },
      [](std::mt19937_64& g) { return Value::Int(static_cast<int64_t>(g() % 110)); },
  };
  size_t selected = 0, needed = 0;
  CheckPruningNeverMisses(block, key, 32, 3, gens, &selected, &needed);
}

TEST(PartTest, SelectGranulesPrunesByExactPrefixAndByLaterColumnsAlone) {
  // 100 entities x 1000 rows, createdAt ascending within each entity.
  auto e = types::MakeColumn(Type("Int32"));
  auto t = types::MakeColumn(Type("DateTime"));
  for (int id = 0; id < 100; ++id) {
    for (int r = 0; r < 1000; ++r) {
      e->AppendValue(Value::Int(id));
      t->AppendValue(Value::UInt(10000 + r * 10));
    }
  }
  Block block;
  block.Add("entityId", e->type(), e);
  block.Add("createdAt", t->type(), t);
  auto env = env::NewMemEnv();
  PartWriteOptions o;
  o.sort_key = {"entityId", "createdAt"};
  o.granularity = 100;
  ASSERT_TRUE(WritePart(env.get(), "/p", block, o).ok());
  auto part = *Part::Open(env.get(), "/p");
  // entityId = 42: its 1000 rows are granules 420..429.
  GranuleRanges r = part->SelectGranules({{KeyColumnBound::Exact(Value::Int(42))}});
  EXPECT_EQ(r, (GranuleRanges{{420, 430}}));
  // entityId = 42 AND createdAt >= 10000 + 550 * 10: rows 550.. of the entity.
  r = part->SelectGranules(
      {{KeyColumnBound::Exact(Value::Int(42)), KeyColumnBound::AtLeast(Value::UInt(15500))}});
  EXPECT_EQ(r, (GranuleRanges{{425, 430}}));
  // createdAt < 10100 alone: the first granule of every entity.
  r = part->SelectGranules({{KeyColumnBound::Any(), KeyColumnBound::LessThan(Value::UInt(10100))}});
  EXPECT_EQ(r.size(), 100u);
  EXPECT_EQ(part->RangeRows(r), 100u * 100);
  // Nothing matches.
  EXPECT_TRUE(part->SelectGranules({{KeyColumnBound::Exact(Value::Int(1000))}}).empty());
  EXPECT_TRUE(part->SelectGranules({{KeyColumnBound::GreaterThan(Value::Int(99))}}).empty());
  // Everything.
  EXPECT_EQ(part->SelectGranules({}), (GranuleRanges{{0, 1000}}));
}

TEST(PartTest, PartWithoutSortKeyKeepsInsertionOrderAndSelectsEverything) {
  auto env = env::NewMemEnv();
  Block block = AllTypesBlock(250, 8);
  PartWriteOptions o;
  o.granularity = 100;  // no sort key: ORDER BY tuple()
  ASSERT_TRUE(WritePart(env.get(), "/p", block, o).ok());
  auto part = *Part::Open(env.get(), "/p");
  EXPECT_TRUE(part->meta().sort_key.empty());
  EXPECT_EQ(part->SelectGranules({}), (GranuleRanges{{0, 3}}));
  EXPECT_EQ(part->SelectGranules({{KeyColumnBound::Exact(Value::Int(1))}}),
            (GranuleRanges{{0, 3}}));
  ExpectBlockMatches(*part, block, 0, 3);
}

// ---------------- atomic publish ----------------

// An Env over a FaultInjectionEnv that crashes it at the N-th mutating operation (creating,
// appending to, syncing or closing a file, creating/removing/renaming entries, syncing a
// directory); that operation and every later one then fail with IOError.
class CrashAtEnv final : public env::Env {
 public:
  CrashAtEnv(env::FaultInjectionEnv* base, int64_t crash_at) : base_(base), left_(crash_at) {}
  int64_t steps() const { return steps_; }
  bool crashed() const { return crashed_; }

  Status Step() {
    if (crashed_) return Status::IOError("crashed");
    ++steps_;
    if (left_-- == 0) {
      base_->Crash();
      crashed_ = true;
      return Status::IOError("crashed");
    }
    return Status::OK();
  }

  class File final : public env::WritableFile {
   public:
    File(CrashAtEnv* env, std::unique_ptr<env::WritableFile> f) : env_(env), f_(std::move(f)) {}
    Status Append(std::string_view d) override {
      TH_RETURN_IF_ERROR(env_->Step());
      return f_->Append(d);
    }
    Status Flush() override { return f_->Flush(); }
    Status Sync() override {
      TH_RETURN_IF_ERROR(env_->Step());
      return f_->Sync();
    }
    Status Close() override {
      TH_RETURN_IF_ERROR(env_->Step());
      return f_->Close();
    }
    uint64_t Size() const override { return f_->Size(); }

   private:
    CrashAtEnv* env_;
    std::unique_ptr<env::WritableFile> f_;
  };

  Result<std::unique_ptr<env::WritableFile>> NewWritableFile(const std::string& p) override {
    TH_RETURN_IF_ERROR(Step());
    TH_ASSIGN_OR_RETURN(auto f, base_->NewWritableFile(p));
    return std::unique_ptr<env::WritableFile>(new File(this, std::move(f)));
  }
  Result<std::unique_ptr<env::WritableFile>> NewAppendableFile(const std::string& p) override {
    TH_RETURN_IF_ERROR(Step());
    TH_ASSIGN_OR_RETURN(auto f, base_->NewAppendableFile(p));
    return std::unique_ptr<env::WritableFile>(new File(this, std::move(f)));
  }
  Result<std::unique_ptr<env::RandomAccessFile>> NewRandomAccessFile(
      const std::string& p) override {
    return base_->NewRandomAccessFile(p);
  }
  Status ReadFileToString(const std::string& p, std::string* out) override {
    return base_->ReadFileToString(p, out);
  }
  Status WriteStringToFileSync(const std::string& p, std::string_view d) override {
    TH_RETURN_IF_ERROR(Step());
    return base_->WriteStringToFileSync(p, d);
  }
  bool FileExists(const std::string& p) override { return base_->FileExists(p); }
  Result<std::vector<std::string>> GetChildren(const std::string& d) override {
    return base_->GetChildren(d);
  }
  Status CreateDir(const std::string& p) override {
    TH_RETURN_IF_ERROR(Step());
    return base_->CreateDir(p);
  }
  Status CreateDirs(const std::string& p) override {
    TH_RETURN_IF_ERROR(Step());
    return base_->CreateDirs(p);
  }
  Status RemoveFile(const std::string& p) override {
    TH_RETURN_IF_ERROR(Step());
    return base_->RemoveFile(p);
  }
  Status RemoveDirRecursively(const std::string& p) override {
    TH_RETURN_IF_ERROR(Step());
    return base_->RemoveDirRecursively(p);
  }
  Status RenameFile(const std::string& a, const std::string& b) override {
    TH_RETURN_IF_ERROR(Step());
    return base_->RenameFile(a, b);
  }
  Status SyncDir(const std::string& d) override {
    TH_RETURN_IF_ERROR(Step());
    return base_->SyncDir(d);
  }
  Status TruncateFile(const std::string& p, uint64_t n) override {
    TH_RETURN_IF_ERROR(Step());
    return base_->TruncateFile(p, n);
  }
  Result<uint64_t> GetFileSize(const std::string& p) override { return base_->GetFileSize(p); }
  bool IsDirectory(const std::string& p) override { return base_->IsDirectory(p); }
  Result<std::unique_ptr<env::FileLock>> LockFile(const std::string& p) override {
    return base_->LockFile(p);
  }

 private:
  env::FaultInjectionEnv* base_;
  int64_t left_;
  int64_t steps_ = 0;
  bool crashed_ = false;
};

TEST(PartTest, CrashAtAnyStepLeavesEitherNoPartOrTheWholePart) {
  Block block = AllTypesBlock(300, 12);
  PartWriteOptions o = DefaultOptions(64);
  // Count the steps of an uninterrupted write.
  int64_t total;
  {
    env::FaultInjectionEnv base;
    ASSERT_TRUE(base.CreateDirs("/data/t").ok());
    ASSERT_TRUE(base.SyncDir("/data").ok());
    CrashAtEnv env(&base, -1);
    ASSERT_TRUE(WritePart(&env, "/data/t/all_1_1_0", block, o).ok());
    total = env.steps();
  }
  ASSERT_GT(total, 50);
  int whole = 0, none = 0;
  for (int64_t n = 0; n <= total; ++n) {
    env::FaultInjectionEnv base;
    ASSERT_TRUE(base.CreateDirs("/data/t").ok());
    ASSERT_TRUE(base.SyncDir("/").ok());
    ASSERT_TRUE(base.SyncDir("/data").ok());
    CrashAtEnv env(&base, n);
    Status s = WritePart(&env, "/data/t/all_1_1_0", block, o).status();
    if (!env.crashed()) {  // n == total: the write finished before the crash point
      ASSERT_TRUE(s.ok());
      base.Crash();
    } else {
      ASSERT_FALSE(s.ok());
    }
    if (base.FileExists("/data/t/all_1_1_0")) {
      auto part = Part::Open(&base, "/data/t/all_1_1_0");
      ASSERT_TRUE(part.ok()) << "crash at step " << n << ": " << part.status().ToString();
      ExpectBlockMatches(**part, block, 0, (*part)->num_granules());
      ++whole;
    } else {
      ++none;
    }
    // A retry after the crash succeeds (the leftover temporary directory is replaced).
    if (!base.FileExists("/data/t/all_1_1_0")) {
      ASSERT_TRUE(WritePart(&base, "/data/t/all_1_1_0", block, o).ok()) << "step " << n;
    }
  }
  EXPECT_GE(whole, 1);  // crashing after the parent directory sync keeps the part
  EXPECT_GE(none, total - 2);
}

TEST(PartTest, FailedSyncPublishesNothing) {
  env::FaultInjectionEnv base;
  ASSERT_TRUE(base.CreateDirs("/d").ok());
  base.SetSyncError(true);
  Status s = WritePart(&base, "/d/p", AllTypesBlock(100, 1), DefaultOptions()).status();
  EXPECT_EQ(s.code(), StatusCode::kIOError);
  EXPECT_NE(s.message().find("writing part /d/p"), std::string::npos) << s.message();
  EXPECT_FALSE(base.FileExists("/d/p"));
  EXPECT_FALSE(base.FileExists("/d/tmp_p"));
}

TEST(PartTest, WriteRejectsBadInput) {
  auto env = env::NewMemEnv();
  Block block = AllTypesBlock(100, 1);
  ASSERT_TRUE(WritePart(env.get(), "/p", block, DefaultOptions()).ok());
  EXPECT_EQ(WritePart(env.get(), "/p", block, DefaultOptions()).status().code(),
            StatusCode::kAlreadyExists);
  PartWriteOptions o = DefaultOptions();
  o.sort_key = {"i64"};  // random: not sorted
  Status s = WritePart(env.get(), "/q", block, o).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("not sorted"), std::string::npos) << s.message();
  o.sort_key = {"missing"};
  EXPECT_EQ(WritePart(env.get(), "/q", block, o).status().code(), StatusCode::kInvalidArgument);
  o = DefaultOptions();
  o.granularity = 0;
  EXPECT_EQ(WritePart(env.get(), "/q", block, o).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(WritePart(env.get(), "/q", block.CloneEmpty(), DefaultOptions()).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(env->FileExists("/q"));
  EXPECT_EQ(Part::Open(env.get(), "/q").status().code(), StatusCode::kNotFound);
}

TEST(PartTest, WritesAndReadsOnThePosixEnv) {
  auto root = std::filesystem::temp_directory_path() /
              ("part_test_" + std::to_string(::getpid()) + "_" + std::to_string(std::rand()));
  env::Env* env = env::Env::Posix();
  ASSERT_TRUE(env->CreateDirs(root.string()).ok());
  Block block = AllTypesBlock(5000, 2);
  std::string dir = (root / "202401_1_1_0").string();
  ASSERT_TRUE(WritePart(env, dir, block, DefaultOptions(1000)).ok());
  auto part = Part::Open(env, dir);
  ASSERT_TRUE(part.ok()) << part.status().ToString();
  ExpectBlockMatches(**part, block, 0, (*part)->num_granules());
  ExpectBlockMatches(**part, block, 2, 4);
  EXPECT_FALSE(env->FileExists((root / "tmp_202401_1_1_0").string()));
  ASSERT_TRUE(env->RemoveDirRecursively(root.string()).ok());
}

// ---------------- corruption ----------------

class PartCorruptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = env::NewMemEnv();
    block_ = AllTypesBlock(700, 21);
    ASSERT_TRUE(WritePart(env_.get(), "/p", block_, DefaultOptions(100)).ok());
    files_ = *env_->GetChildren("/p");
    std::sort(files_.begin(), files_.end());
  }

  std::string Read(const std::string& name) {
    std::string data;
    EXPECT_TRUE(env_->ReadFileToString("/p/" + name, &data).ok());
    return data;
  }
  void Write(const std::string& name, const std::string& data) {
    ASSERT_TRUE(env_->WriteStringToFileSync("/p/" + name, data).ok());
  }

  // Opens the part and reads every column in full; the first error.
  Status OpenAndReadAll() {
    auto part = Part::Open(env_.get(), "/p");
    if (!part.ok()) return part.status();
    for (const auto& c : block_.columns()) {
      auto col = (*part)->ReadColumn(c.name, 0, (*part)->num_granules());
      if (!col.ok()) return col.status();
    }
    return Status::OK();
  }

  std::unique_ptr<env::Env> env_;
  Block block_;
  std::vector<std::string> files_;
};

TEST_F(PartCorruptionTest, FlippedByteInColumnFileIsCorruptionNamingFileAndOffset) {
  std::string data = Read("u64.bin");
  auto marks = (*Part::Open(env_.get(), "/p"))->meta().column_bytes.at("u64");
  ASSERT_EQ(data.size(), marks);
  size_t at = data.size() / 2;
  data[at] = static_cast<char>(data[at] ^ 1);
  Write("u64.bin", data);
  auto part = Part::Open(env_.get(), "/p");  // sizes still match: Open succeeds
  ASSERT_TRUE(part.ok()) << part.status().ToString();
  Status s = (*part)->ReadColumn("u64", 0, (*part)->num_granules()).status();
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("/p/u64.bin"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("offset"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("checksum"), std::string::npos) << s.message();
  // Other columns are still readable.
  EXPECT_TRUE((*part)->ReadColumn("u32", 0, (*part)->num_granules()).ok());
}

TEST_F(PartCorruptionTest, FlippedByteInMarksFileIsCorruptionOnOpen) {
  std::string data = Read("i32.mrk");
  data[30] = static_cast<char>(data[30] ^ 0x10);
  Write("i32.mrk", data);
  Status s = Part::Open(env_.get(), "/p").status();
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("/p/i32.mrk"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("checksum mismatch at offset"), std::string::npos) << s.message();
}

TEST_F(PartCorruptionTest, FlippedByteInMetaIsCorruptionOnOpen) {
  std::string data = Read("part.meta");
  data[20] = static_cast<char>(data[20] ^ 0x80);
  Write("part.meta", data);
  Status s = Part::Open(env_.get(), "/p").status();
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("/p/part.meta"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("offset"), std::string::npos) << s.message();
}

TEST_F(PartCorruptionTest, TruncatedFilesAreCorruptionNamingSizes) {
  for (const auto& name : files_) {
    std::string data = Read(name);
    Write(name, data.substr(0, data.size() - 1));
    Status s = Part::Open(env_.get(), "/p").status();
    EXPECT_EQ(s.code(), StatusCode::kCorruption) << name;
    EXPECT_NE(s.message().find("/p/" + name), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(std::to_string(data.size() - 1)), std::string::npos) << s.message();
    Write(name, data);
  }
  EXPECT_TRUE(OpenAndReadAll().ok());
}

TEST_F(PartCorruptionTest, MissingFileIsCorruption) {
  for (const auto& name : files_) {
    if (name == "part.meta") continue;
    std::string data = Read(name);
    ASSERT_TRUE(env_->RemoveFile("/p/" + name).ok());
    Status s = Part::Open(env_.get(), "/p").status();
    EXPECT_EQ(s.code(), StatusCode::kCorruption) << name;
    EXPECT_NE(s.message().find("/p/" + name), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("missing"), std::string::npos) << s.message();
    Write(name, data);
  }
  EXPECT_TRUE(OpenAndReadAll().ok());
}

TEST_F(PartCorruptionTest, FlippingEveryNthByteOfEveryFileIsAlwaysDetected) {
  size_t checked = 0;
  for (const auto& name : files_) {
    const std::string original = Read(name);
    const size_t step = std::max<size_t>(1, original.size() / 150);
    for (size_t at = 0; at < original.size(); at += step) {
      for (uint8_t mask : {0x01, 0xff}) {
        std::string bad = original;
        bad[at] = static_cast<char>(bad[at] ^ mask);
        Write(name, bad);
        Status s = OpenAndReadAll();
        EXPECT_EQ(s.code(), StatusCode::kCorruption)
            << name << " byte " << at << " ^ " << int{mask} << ": " << s.ToString();
        ++checked;
      }
    }
    Write(name, original);
  }
  EXPECT_GT(checked, 1000u);
  EXPECT_TRUE(OpenAndReadAll().ok());
}

TEST_F(PartCorruptionTest, NewerFormatVersionIsNotSupported) {
  std::string data = Read("part.meta");
  PartMeta meta = *DecodePartMeta(data, "m");
  // Re-wrap the same body under version kPartFormatVersion + 1.
  std::string body =
      data.substr(kEnvelopeHeaderSize, data.size() - kEnvelopeHeaderSize - kEnvelopeTrailerSize);
  std::string file;
  AppendEnvelope(kMetaMagic, body, &file);
  file[4] = static_cast<char>(kPartFormatVersion + 1);
  uint32_t crc = crc32c::Mask(crc32c::Value(file.data(), file.size() - 4));
  std::memcpy(file.data() + file.size() - 4, &crc, 4);
  Write("part.meta", file);
  Status s = Part::Open(env_.get(), "/p").status();
  EXPECT_EQ(s.code(), StatusCode::kNotSupported) << s.ToString();
  EXPECT_EQ(meta.rows, 700u);
}

TEST(PartFormatTest, NamesAreEscapedAndTempDirIsASibling) {
  EXPECT_EQ(EscapeColumnName("entityType"), "entityType");
  EXPECT_EQ(EscapeColumnName("a.b/c d%"), "a%2Eb%2Fc%20d%25");
  EXPECT_EQ(ColumnDataFileName("x"), "x.bin");
  EXPECT_EQ(ColumnMarksFileName("x"), "x.mrk");
  EXPECT_EQ(TempPartDir("/data/t/all_1_1_0"), "/data/t/tmp_all_1_1_0");
  EXPECT_EQ(TempPartDir("/data/t/all_1_1_0/"), "/data/t/tmp_all_1_1_0");
  EXPECT_EQ(TempPartDir("/p"), "/tmp_p");
  EXPECT_EQ(TempPartDir("p"), "tmp_p");
  EXPECT_EQ(PartName("202401", 1, 5, 2), "202401_1_5_2");
}

}  // namespace
}  // namespace trackhouse::engine
