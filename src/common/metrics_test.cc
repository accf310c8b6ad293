#include "common/metrics.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace trackhouse::metrics {
namespace {

// The lines of `text` that start with `prefix`, joined with newlines.
std::string LinesStartingWith(const std::string& text, const std::string& prefix) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + pos, end - pos);
    if (line.starts_with(prefix)) {
      out += line;
      out += '\n';
    }
    pos = end + 1;
  }
  return out;
}

TEST(MetricsTest, RendersCountersGaugesAndLabeledFamiliesSortedByNameAndLabels) {
  Registry r;
  r.GetCounterFamily("t_requests_total", "Requests", {"route", "status"})
      .With({"track", "200"})
      .Add(3);
  r.GetCounterFamily("t_requests_total", "ignored", {"route", "status"})
      .With({"ping", "200"})
      .Add();
  r.GetCounterFamily("t_plain_total", "Plain", {}).With(std::span<const std::string_view>()).Add(7);
  r.GetGaugeFamily("t_depth", "Depth", {"table"}).With({"b"}).Set(-2);
  r.GetGaugeFamily("t_depth", "Depth", {"table"}).With({"a"}).Set(5);

  EXPECT_EQ(r.RenderPrometheus(),
            "# HELP t_depth Depth\n"
            "# TYPE t_depth gauge\n"
            "t_depth{table=\"a\"} 5\n"
            "t_depth{table=\"b\"} -2\n"
            "# HELP t_plain_total Plain\n"
            "# TYPE t_plain_total counter\n"
            "t_plain_total 7\n"
            "# HELP t_requests_total Requests\n"
            "# TYPE t_requests_total counter\n"
            "t_requests_total{route=\"ping\",status=\"200\"} 1\n"
            "t_requests_total{route=\"track\",status=\"200\"} 3\n"
            "# HELP trackhouse_metrics_label_overflow_total Label values folded into the "
            "\"other\" series because a metric family held its maximum number of series\n"
            "# TYPE trackhouse_metrics_label_overflow_total counter\n"
            "trackhouse_metrics_label_overflow_total 0\n");
}

TEST(MetricsTest, WithReturnsTheSameSeriesForTheSameLabelValues) {
  Registry r;
  CounterFamily& f = r.GetCounterFamily("t_total", "T", {"a", "b"});
  Counter& c1 = f.With({"x", "y"});
  std::string x = "x";
  Counter& c2 = f.With({x, std::string("y")});
  EXPECT_EQ(&c1, &c2);
  EXPECT_NE(&c1, &f.With({"y", "x"}));
  EXPECT_EQ(&f, &r.GetCounterFamily("t_total", "T", {"a", "b"}));
}

TEST(MetricsTest, LabelValuesAndHelpAreEscaped) {
  Registry r;
  r.GetCounterFamily("t_total", "Back\\slash and\nnewline \"quoted\"", {"table"})
      .With({"a\\b\"c\nd"})
      .Add();
  std::string text = r.RenderPrometheus();
  EXPECT_EQ(LinesStartingWith(text, "# HELP t_total"),
            "# HELP t_total Back\\\\slash and\\nnewline \"quoted\"\n");
  EXPECT_EQ(LinesStartingWith(text, "t_total"), "t_total{table=\"a\\\\b\\\"c\\nd\"} 1\n");
}

TEST(MetricsTest, LabelCombinationsBeyondTheBoundShareTheOtherSeries) {
  Registry r;
  CounterFamily& f = r.GetCounterFamily("t_rows_total", "Rows", {"table", "reason"});
  for (size_t i = 0; i < kMaxSeriesPerFamily; ++i) f.With({"t" + std::to_string(i), "ok"}).Add();
  f.With({"extra1", "ok"}).Add(2);
  f.With({"extra2", "bad"}).Add(3);
  f.With({"t0", "ok"}).Add();  // existing series keep working

  EXPECT_EQ(r.ValueOf("t_rows_total", {{"table", "other"}, {"reason", "other"}}), 5);
  EXPECT_EQ(r.ValueOf("t_rows_total", {{"table", "t0"}, {"reason", "ok"}}), 2);
  EXPECT_EQ(r.ValueOf("t_rows_total", {{"table", "extra1"}, {"reason", "ok"}}), 0);
  EXPECT_EQ(r.ValueOf("trackhouse_metrics_label_overflow_total"), 2);
  std::string text = r.RenderPrometheus();
  EXPECT_NE(text.find("t_rows_total{table=\"other\",reason=\"other\"} 5\n"), std::string::npos);
  EXPECT_EQ(text.find("extra"), std::string::npos);
}

TEST(MetricsTest, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  Registry r;
  HistogramFamily& f =
      r.GetHistogramFamily("t_latency_seconds", "Latency", {"kind"}, {0.1, 1, 2.5});
  Histogram& h = f.With({"select"});
  h.Observe(0.05);
  h.Observe(0.1);  // bounds are inclusive
  h.Observe(0.5);
  h.Observe(3);
  h.Observe(100);

  EXPECT_EQ(LinesStartingWith(r.RenderPrometheus(), "t_latency_seconds"),
            "t_latency_seconds_bucket{kind=\"select\",le=\"0.1\"} 2\n"
            "t_latency_seconds_bucket{kind=\"select\",le=\"1\"} 3\n"
            "t_latency_seconds_bucket{kind=\"select\",le=\"2.5\"} 3\n"
            "t_latency_seconds_bucket{kind=\"select\",le=\"+Inf\"} 5\n"
            "t_latency_seconds_sum{kind=\"select\"} 103.65\n"
            "t_latency_seconds_count{kind=\"select\"} 5\n");
  EXPECT_EQ(r.HistogramCount("t_latency_seconds", {{"kind", "select"}}), 5);
  EXPECT_DOUBLE_EQ(r.HistogramSum("t_latency_seconds", {{"kind", "select"}}), 103.65);
  EXPECT_EQ(r.HistogramCount("t_latency_seconds", {{"kind", "insert"}}), 0);
}

TEST(MetricsTest, UnlabeledHistogramRendersOnlyTheLeLabel) {
  Registry r;
  r.GetHistogramFamily("t_sync_seconds", "Sync", {}, {0.001})
      .With(std::span<const std::string_view>())
      .Observe(0.5);
  EXPECT_EQ(LinesStartingWith(r.RenderPrometheus(), "t_sync_seconds"),
            "t_sync_seconds_bucket{le=\"0.001\"} 0\n"
            "t_sync_seconds_bucket{le=\"+Inf\"} 1\n"
            "t_sync_seconds_sum 0.5\n"
            "t_sync_seconds_count 1\n");
}

TEST(MetricsTest, CollectedGaugeIsReadAtRenderTimeAndUnregisteredByItsHandle) {
  Registry r;
  int64_t parts = 3;
  CollectorHandle first = r.RegisterCollectedGauge("t_parts", "Parts", {"table"}, [&] {
    return std::vector<Sample>{{{"events"}, parts}, {{"clicks"}, 1}};
  });
  {
    CollectorHandle second = r.RegisterCollectedGauge("t_parts", "Parts", {"table"}, [] {
      return std::vector<Sample>{{{"events"}, 10}};
    });
    EXPECT_EQ(LinesStartingWith(r.RenderPrometheus(), "t_parts"),
              "t_parts{table=\"clicks\"} 1\n"
              "t_parts{table=\"events\"} 13\n");
  }
  parts = 4;
  EXPECT_EQ(r.ValueOf("t_parts", {{"table", "events"}}), 4);
  first.Reset();
  EXPECT_EQ(r.ValueOf("t_parts", {{"table", "events"}}), 0);
  EXPECT_EQ(LinesStartingWith(r.RenderPrometheus(), "t_parts"), "");
  EXPECT_NE(r.RenderPrometheus().find("# TYPE t_parts gauge\n"), std::string::npos);
}

TEST(MetricsTest, CollectorHandleMoveUnregistersOnce) {
  Registry r;
  CollectorHandle a = r.RegisterCollectedGauge("t_g", "G", {}, [] {
    return std::vector<Sample>{{{}, 1}};
  });
  CollectorHandle b = std::move(a);
  a.Reset();  // moved-from: holds nothing
  EXPECT_EQ(r.ValueOf("t_g"), 1);
  b = CollectorHandle();
  EXPECT_EQ(r.ValueOf("t_g"), 0);
}

TEST(MetricsTest, ValueOfMatchesLabelsInAnyOrderAndIgnoresUnknownSeries) {
  Registry r;
  r.GetCounterFamily("t_total", "T", {"route", "status"}).With({"track", "200"}).Add(4);
  EXPECT_EQ(r.ValueOf("t_total", {{"status", "200"}, {"route", "track"}}), 4);
  EXPECT_EQ(r.ValueOf("t_total", {{"route", "track"}}), 0);
  EXPECT_EQ(r.ValueOf("t_total", {{"route", "track"}, {"status", "500"}}), 0);
  EXPECT_EQ(r.ValueOf("t_missing_total"), 0);
  // Looking a series up does not create it.
  EXPECT_EQ(r.RenderPrometheus().find("status=\"500\""), std::string::npos);
}

TEST(MetricsTest, DefaultRegistryKeepsUnlabeledCountersByName) {
  Counter& c = GetCounter("trackhouse_test_metrics_default_total", "For metrics_test");
  int64_t before = ValueOf("trackhouse_test_metrics_default_total");
  c.Add(2);
  EXPECT_EQ(&c, &GetCounter("trackhouse_test_metrics_default_total", "ignored"));
  EXPECT_EQ(ValueOf("trackhouse_test_metrics_default_total"), before + 2);
  EXPECT_NE(RenderPrometheus().find("trackhouse_test_metrics_default_total " +
                                    std::to_string(before + 2) + "\n"),
            std::string::npos);
}

TEST(MetricsTest, ConcurrentAddsAndObservesAreAllCounted) {
  Registry r;
  CounterFamily& f = r.GetCounterFamily("t_total", "T", {"thread"});
  HistogramFamily& hf = r.GetHistogramFamily("t_seconds", "S", {}, kLatencySecondsBuckets);
  constexpr int kThreads = 8;
  constexpr int kIterations = 10000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string mine = std::to_string(t % 2);
      for (int i = 0; i < kIterations; ++i) {
        f.With({mine}).Add();
        hf.With(std::span<const std::string_view>()).Observe(0.001);
      }
      // Rendering concurrently with updates must be safe too.
      EXPECT_FALSE(r.RenderPrometheus().empty());
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(r.ValueOf("t_total", {{"thread", "0"}}), kThreads / 2 * kIterations);
  EXPECT_EQ(r.ValueOf("t_total", {{"thread", "1"}}), kThreads / 2 * kIterations);
  EXPECT_EQ(r.HistogramCount("t_seconds"), kThreads * kIterations);
  EXPECT_NEAR(r.HistogramSum("t_seconds"), kThreads * kIterations * 0.001, 1e-6);
}

TEST(MetricsDeathTest, RegisteringANameAgainAsAnotherKindAborts) {
  Registry r;
  r.GetCounterFamily("t_total", "T", {});
  EXPECT_DEATH(r.GetGaugeFamily("t_total", "T", {}), "another kind");
  EXPECT_DEATH(r.GetCounterFamily("t_total", "T", {"x"}), "other labels");
}

}  // namespace
}  // namespace trackhouse::metrics
