// The differential test of the query issue: the same generated data goes into a real
// ClickHouse (Debian's 18.16, started here on loopback with its own temporary directory) and
// into `trackhouse serve`; then at least 300 queries from a seeded grammar (query_generator.h)
// run on both, and every output must be the same (result_compare.h). The run fails on any
// difference, on any query ClickHouse itself rejects (a grammar bug), and when a construct of
// the lists was used fewer than 5 times; it prints the coverage table.
//
// Environment:
//   DIFFTEST_SEED=N            base seed (default 1816); instance i runs seed N + i
//   DIFFTEST_QUERIES=N         run at least N queries (never fewer than 300)
//   DIFFTEST_ONLY_CLICKHOUSE=1 check the grammar against ClickHouse alone (no trackhouse)
//   DIFFTEST_TWO_CLICKHOUSES=1 compare ClickHouse with a second ClickHouse that received the
//                              same rows in another order (checks that the grammar's results
//                              do not depend on storage order or parallelism)
//   DIFFTEST_VERBOSE=1         print every query
//   DIFFTEST_FAILURES=PATH     append every failing query with both outputs to PATH
//   DIFFTEST_HOLD=SECONDS      keep both servers up that long after the run (ports printed),
//                              to rerun queries by hand
//   CLICKHOUSE_SERVER=PATH     the clickhouse-server binary
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "tests/difftest/clickhouse_server.h"
#include "tests/difftest/dataset.h"
#include "tests/difftest/query_generator.h"
#include "tests/difftest/result_compare.h"
#include "tests/http_client.h"
#include "tests/server_process.h"

namespace trackhouse::difftest {
namespace {

using testing::HttpRequest;
using testing::HttpResponse;
using testing::UrlEncode;

constexpr uint64_t kDefaultSeed = 1816;
constexpr int kMinQueries = 300;
constexpr int kMaxQueries = 3000;
constexpr int kMinUses = 5;
constexpr int kEventRows = 3000;
constexpr int kRequestTimeoutMs = 30000;
constexpr size_t kFailuresShown = 12;

bool EnvFlag(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' && std::string(v) != "0";
}

uint64_t EnvNumber(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

// One server under test, reached over its HTTP interface.
struct Endpoint {
  std::string name;
  uint16_t port = 0;

  HttpResponse Run(const std::string& sql) const {
    return HttpRequest(port, "POST", "/", sql, kRequestTimeoutMs);
  }
  HttpResponse Insert(const std::string& sql, const std::string& body) const {
    return HttpRequest(port, "POST", "/?query=" + UrlEncode(sql), body, kRequestTimeoutMs);
  }
};

std::string Describe(const HttpResponse& r) {
  if (r.status == 0) return "(no response)";
  return "HTTP " + std::to_string(r.status) + ": " + r.body.substr(0, 2000);
}

std::string Clip(const std::string& text, size_t lines) {
  size_t pos = 0;
  for (size_t i = 0; i < lines && pos != std::string::npos; ++i) {
    pos = text.find('\n', pos);
    if (pos != std::string::npos) ++pos;
  }
  if (pos == std::string::npos || pos >= text.size()) return text;
  return text.substr(0, pos) + "... (" + std::to_string(text.size()) + " bytes)\n";
}

// Removes the test's directory (servers already stopped by their own destructors).
struct TempDir {
  std::string path = testing::MakeTempDir("difftest-");
  ~TempDir() {
    if (!path.empty()) testing::RemoveTree(path);
  }
};

void PrintCoverage(uint64_t seed, int queries, const std::map<std::string, int>& coverage) {
  std::printf("difftest seed %llu: %d queries; uses per construct (at least %d each):\n",
              static_cast<unsigned long long>(seed), queries, kMinUses);
  const auto& required = RequiredConstructs();
  for (size_t i = 0; i < required.size(); ++i) {
    auto it = coverage.find(required[i]);
    int uses = it == coverage.end() ? 0 : it->second;
    std::printf("  %-24s %5d%s", required[i].c_str(), uses, uses < kMinUses ? " <--" : "   ");
    if (i % 4 == 3 || i + 1 == required.size()) std::printf("\n");
  }
  std::printf("  not generated (ClickHouse 18.16 lacks them):");
  for (const std::string& c : ConstructsMissingIn1816()) std::printf(" %s;", c.c_str());
  std::printf("\n");
  std::fflush(stdout);
}

bool CoverageMet(const std::map<std::string, int>& coverage) {
  for (const std::string& c : RequiredConstructs()) {
    auto it = coverage.find(c);
    if (it == coverage.end() || it->second < kMinUses) return false;
  }
  return true;
}

// On SIGINT or SIGTERM (an interrupted run, DIFFTEST_HOLD), take trackhouse down too;
// ClickHouse dies with this process on its own (PR_SET_PDEATHSIG).
volatile pid_t trackhouse_pid = -1;

void StopChildrenAndExit(int sig) {
  if (trackhouse_pid > 0) kill(trackhouse_pid, SIGKILL);
  _exit(128 + sig);
}

class DiffTest : public ::testing::TestWithParam<int> {};

TEST_P(DiffTest, GeneratedQueriesMatchClickHouse) {
  const uint64_t seed =
      EnvNumber("DIFFTEST_SEED", kDefaultSeed) + static_cast<uint64_t>(GetParam());
  const bool only_clickhouse = EnvFlag("DIFFTEST_ONLY_CLICKHOUSE");
  const bool two_clickhouses = !only_clickhouse && EnvFlag("DIFFTEST_TWO_CLICKHOUSES");
  const bool verbose = EnvFlag("DIFFTEST_VERBOSE");
  const int min_queries =
      std::max<int>(kMinQueries, static_cast<int>(EnvNumber("DIFFTEST_QUERIES", kMinQueries)));
  const char* failures_path = std::getenv("DIFFTEST_FAILURES");
  SCOPED_TRACE("DIFFTEST_SEED=" + std::to_string(seed - static_cast<uint64_t>(GetParam())) +
               " instance " + std::to_string(GetParam()) + " (seed " + std::to_string(seed) + ")");

  TempDir dir;
  ASSERT_FALSE(dir.path.empty());
  std::string error;
  ClickHouseServer clickhouse;
  ASSERT_TRUE(clickhouse.Start(dir.path + "/clickhouse", &error)) << error;
  testing::ServerProcess trackhouse;
  ClickHouseServer second_clickhouse;
  std::vector<Endpoint> servers = {{"ClickHouse", clickhouse.http_port()}};
  if (two_clickhouses) {
    ASSERT_TRUE(second_clickhouse.Start(dir.path + "/clickhouse2", &error)) << error;
    servers.push_back({"second ClickHouse", second_clickhouse.http_port()});
  } else if (!only_clickhouse) {
    ASSERT_TRUE(trackhouse.Start(TRACKHOUSE_BINARY, dir.path + "/trackhouse", {}, &error)) << error;
    servers.push_back({"trackhouse", trackhouse.port()});
    trackhouse_pid = trackhouse.pid();
    std::signal(SIGINT, StopChildrenAndExit);
    std::signal(SIGTERM, StopChildrenAndExit);
  }

  // The same DDL and INSERT bodies into both (into a second ClickHouse with the INSERTs of
  // each table in reverse order).
  Dataset data = MakeDataset(seed, kEventRows);
  for (size_t i = 0; i < data.setup.size(); ++i) {
    for (size_t n = 0; n < servers.size(); ++n) {
      const Endpoint& server = servers[n];
      size_t at = i;
      if (two_clickhouses && n == 1 && !data.setup[i].body.empty()) {
        // The run of INSERTs into the same table that holds i, reversed.
        size_t first = i, last = i;
        while (first > 0 && data.setup[first - 1].sql == data.setup[i].sql) --first;
        while (last + 1 < data.setup.size() && data.setup[last + 1].sql == data.setup[i].sql) {
          ++last;
        }
        at = first + (last - i);
      }
      const SetupStep& step = data.setup[at];
      HttpResponse r =
          step.body.empty() ? server.Run(step.sql) : server.Insert(step.sql, step.body);
      ASSERT_EQ(r.status, 200) << server.name << " rejected setup `" << step.sql
                               << "`: " << Describe(r);
    }
  }
  for (size_t t = 0; t < data.tables.size(); ++t) {
    std::string sql =
        "SELECT count() FROM " + data.tables[t].name + (data.tables[t].needs_final ? " FINAL" : "");
    for (const Endpoint& server : servers) {
      HttpResponse r = server.Run(sql);
      ASSERT_EQ(r.status, 200) << server.name << ": " << Describe(r);
      EXPECT_EQ(r.body, std::to_string(data.final_rows[t]) + "\n") << server.name << ": " << sql;
    }
  }

  QueryGenerator generator(seed, &data);
  int queries = 0, clickhouse_rejected = 0, trackhouse_errors = 0, different = 0;
  std::vector<std::string> failures;
  std::ofstream failures_file;
  if (failures_path != nullptr && *failures_path != '\0') {
    failures_file.open(failures_path, std::ios::app);
  }
  auto fail = [&](const std::string& what, const std::string& sql, const std::string& detail) {
    std::string text = "seed " + std::to_string(seed) + ", query " + std::to_string(queries) +
                       ": " + what + "\n  " + sql + "\n" + detail;
    if (failures_file.is_open()) failures_file << text << "\n----\n";
    failures.push_back(std::move(text));
  };

  while ((queries < min_queries || !CoverageMet(generator.coverage())) && queries < kMaxQueries) {
    GeneratedQuery query = generator.Next();
    const std::string& sql = query.sql;
    ++queries;
    if (verbose) {
      for (const std::string& step : query.setup) std::printf("[%d] %s\n", queries, step.c_str());
      std::printf("[%d] %s\n", queries, sql.c_str());
    }
    bool setup_ok = true;
    for (const std::string& step : query.setup) {
      HttpResponse on_clickhouse = servers[0].Run(step);
      if (on_clickhouse.status != 200) {
        ++clickhouse_rejected;
        fail("ClickHouse rejected a generated statement (a grammar bug)", step,
             Describe(on_clickhouse));
        setup_ok = false;
        break;
      }
      if (only_clickhouse) continue;
      HttpResponse on_trackhouse = servers[1].Run(step);
      if (on_trackhouse.status != 200) {
        ++trackhouse_errors;
        fail(servers[1].name + " failed where ClickHouse succeeded", step, Describe(on_trackhouse));
        setup_ok = false;
        break;
      }
    }
    if (!setup_ok) continue;
    HttpResponse expected = servers[0].Run(sql);
    if (expected.status != 200) {
      ++clickhouse_rejected;
      fail("ClickHouse rejected a generated query (a grammar bug)", sql, Describe(expected));
      continue;
    }
    if (only_clickhouse) continue;
    HttpResponse actual = servers[1].Run(sql);
    if (actual.status != 200) {
      ++trackhouse_errors;
      fail(servers[1].name + " failed where ClickHouse answered", sql,
           " ClickHouse:\n" + Clip(expected.body, 8) + " " + servers[1].name + ": " +
               Describe(actual) + "\n");
      continue;
    }
    std::string report;
    std::string actual_text = two_clickhouses ? NormalizeClickHouse1816(actual.body) : actual.body;
    if (!OutputsMatch(NormalizeClickHouse1816(expected.body), actual_text, &report)) {
      ++different;
      fail("different results", sql, report);
    }
  }

  if (uint64_t hold = EnvNumber("DIFFTEST_HOLD", 0); hold > 0) {
    std::printf("difftest: holding for %llu s:", static_cast<unsigned long long>(hold));
    for (const Endpoint& server : servers)
      std::printf(" %s on port %u;", server.name.c_str(), server.port);
    std::printf("\n");
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::seconds(hold));
  }
  PrintCoverage(seed, queries, generator.coverage());
  std::printf(
      "difftest seed %llu: %d queries, %d rejected by ClickHouse, %d trackhouse errors, "
      "%d different results%s\n",
      static_cast<unsigned long long>(seed), queries, clickhouse_rejected, trackhouse_errors,
      different, only_clickhouse ? " (ClickHouse only)" : "");
  for (size_t i = 0; i < failures.size() && i < kFailuresShown; ++i) {
    ADD_FAILURE() << failures[i];
  }
  if (failures.size() > kFailuresShown) {
    ADD_FAILURE() << (failures.size() - kFailuresShown) << " more failures not shown"
                  << (failures_file.is_open() ? " (all are in DIFFTEST_FAILURES)" : "");
  }
  EXPECT_GE(queries, kMinQueries);
  EXPECT_TRUE(CoverageMet(generator.coverage()))
      << "some constructs were used fewer than " << kMinUses << " times (marked <--)";

  if (!only_clickhouse && !two_clickhouses) {
    trackhouse_pid = -1;
    EXPECT_EQ(trackhouse.Terminate(20000), 0) << "trackhouse did not stop cleanly";
  }
  second_clickhouse.Stop();
  clickhouse.Stop();
}

INSTANTIATE_TEST_SUITE_P(Seeds, DiffTest, ::testing::Values(0, 1, 2));

TEST(ResultCompare, NumbersWithinToleranceMatch) {
  std::string report;
  EXPECT_TRUE(OutputsMatch("a\t0.30000000000000004\n", "a\t0.3\n", &report));
  EXPECT_TRUE(OutputsMatch("[4.5,8.100000000000001]\n", "[4.5,8.1]\n", &report));
  EXPECT_TRUE(OutputsMatch("-0\n", "0\n", &report));
  EXPECT_FALSE(OutputsMatch("a\t0.31\n", "a\t0.3\n", &report));
  EXPECT_FALSE(OutputsMatch("2024-01-01\n", "2024-01-02\n", &report));
  EXPECT_FALSE(OutputsMatch("x\n", "x\ny\n", &report));
  EXPECT_NE(report.find("line 2"), std::string::npos) << report;
  EXPECT_FALSE(OutputsMatch("x\n", "x", &report));
  EXPECT_FALSE(OutputsMatch("it\\'s\n", "it's\n", &report));
}

TEST(ResultCompare, ZeroDatesOf1816ReadAsTheEpoch) {
  EXPECT_EQ(NormalizeClickHouse1816("0000-00-00\t0000-00-00 00:00:00\t2024-01-01\n"),
            "1970-01-01\t1970-01-01 00:00:00\t2024-01-01\n");
}

TEST(QueryGenerator, SameSeedGivesSameQueries) {
  Dataset data = MakeDataset(7, 200);
  QueryGenerator a(7, &data), b(7, &data), c(8, &data);
  bool any_different = false;
  for (int i = 0; i < 50; ++i) {
    std::string qa = a.Next().sql;
    EXPECT_EQ(qa, b.Next().sql);
    any_different = any_different || qa != c.Next().sql;
  }
  EXPECT_TRUE(any_different);
}

}  // namespace
}  // namespace trackhouse::difftest
