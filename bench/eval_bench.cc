// Throughput of the guide's hot predicates and expressions in the vectorized evaluator
// (src/eval), over 10 million generated rows evaluated in 64Ki-row batches, as the query engine
// feeds them. Google Benchmark; not a test.
//
//   build/bench/eval_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "eval/expression.h"
#include "sql/parser.h"
#include "types/block.h"
#include "types/column.h"

namespace trackhouse {
namespace {

constexpr size_t kRows = 10'000'000;
constexpr size_t kBatch = 65536;
// 2023-11-14 22:13:20 UTC, the end of the generated 30 days.
constexpr int64_t kNowMicros = 1700000000ll * 1000000;

const char* const kExpressions[] = {
    "metricType = 'View'",
    "createdAt > now() - INTERVAL 7 DAY",
    "createdAt64 > now() - INTERVAL 7 DAY",
    "metricType = 'View' AND createdAt > now() - INTERVAL 7 DAY",
    "toDate(createdAt64)",
    "toYYYYMM(createdAt)",
};

const std::vector<types::Block>& Batches() {
  static const std::vector<types::Block> batches = [] {
    const char* kinds[] = {"View", "Download", "Like", "Dislike", "Comment", "Share"};
    auto lc =
        std::make_shared<types::ColumnLowCardinality>(types::DataType::LowCardinalityString());
    auto dt = std::make_shared<types::ColumnVector<uint32_t>>(
        types::DataType::Get(types::TypeId::kDateTime));
    auto dt64 = std::make_shared<types::ColumnVector<int64_t>>(types::DataType::DateTime64(3));
    uint64_t x = 88172645463325252ull;  // xorshift: the same rows every run
    for (size_t i = 0; i < kRows; ++i) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      lc->Append(kinds[x % 6]);
      uint32_t t = 1700000000u - static_cast<uint32_t>(x % (30 * 86400));
      dt->push_back(t);
      dt64->push_back(int64_t{t} * 1000 + static_cast<int64_t>(x % 1000));
    }
    types::Block block;
    block.Add("metricType", lc->type(), lc);
    block.Add("createdAt", dt->type(), dt);
    block.Add("createdAt64", dt64->type(), dt64);
    std::vector<types::Block> out;
    for (size_t start = 0; start < kRows; start += kBatch) {
      out.push_back(block.Slice(start, std::min(kBatch, kRows - start)));
    }
    return out;
  }();
  return batches;
}

void BM_Expression(benchmark::State& state) {
  const char* text = kExpressions[state.range(0)];
  state.SetLabel(text);
  const auto& batches = Batches();
  std::vector<eval::InputColumn> inputs;
  for (const auto& c : batches[0].columns()) inputs.push_back({c.name, c.type});
  auto parsed = sql::ParseExpression(text);
  if (!parsed.ok()) {
    state.SkipWithError(parsed.status().ToString().c_str());
    return;
  }
  auto compiled = eval::Compile(**parsed, inputs);
  if (!compiled.ok()) {
    state.SkipWithError(compiled.status().ToString().c_str());
    return;
  }
  eval::EvalContext ctx;
  ctx.now_micros = kNowMicros;
  for (auto _ : state) {
    for (const auto& b : batches) {
      auto col = (*compiled)->Evaluate(b, ctx);
      if (!col.ok()) {
        state.SkipWithError(col.status().ToString().c_str());
        return;
      }
      benchmark::DoNotOptimize(col->get());
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * kRows);
}
BENCHMARK(BM_Expression)->DenseRange(0, std::size(kExpressions) - 1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace trackhouse

BENCHMARK_MAIN();
