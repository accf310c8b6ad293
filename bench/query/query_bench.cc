// query_bench: the HTTP side of the query benchmark (issue 3, "What must be shown";
// docs/BENCHMARKS.md). It talks to trackhouse and ClickHouse the same way: one HTTP/1.1
// keep-alive connection per server, the same SQL text, the same FORMAT, max_threads=2.
//
//   --emit-data FILE        writes the benchmark rows (bench/entity_data.h, createdAt DateTime
//                           over --span-days days) as JSONEachRow and exits; every system is
//                           loaded from this one file.
//   --ingest FILE           loads FILE into each --server's (empty) table in batches of
//                           --batch-rows rows, each batch one `INSERT ... FORMAT JSONEachRow`
//                           request, and measures rows/s from the first request to the last
//                           reply; then checks the table's row count.
//   --queries FILE          for each query of FILE (queries_clickhouse.sql): asks every server
//                           for its answer (FORMAT TabSeparated) and compares them, sorted, with
//                           the first server's; then times --warmup + --runs runs per server
//                           with FORMAT --format and reports the median. A server whose answer
//                           differs (or that fails) is not timed on that query.
//
// Every figure is printed as a labelled line and appended as a JSON line to --results.
// bench/query/run.sh starts the servers and runs this; see it for the whole procedure.

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "bench/entity_data.h"
#include "bench/query/http_connection.h"
#include "common/status.h"
#include "tests/http_client.h"

namespace trackhouse::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Server {
  std::string name;
  uint16_t port = 0;
};

struct Flags {
  std::string emit_data;
  uint64_t rows = 10'000'000;
  uint64_t seed = EntityDataOptions{}.seed;
  int span_days = 180;

  std::vector<Server> servers;
  std::string table = "entityMetricEvents";
  std::string ingest;
  uint64_t batch_rows = 100'000;

  std::string queries;
  std::string only;  // comma-separated query names; empty: all
  int warmup = 3;
  int runs = 21;
  std::string format = "JSONEachRow";
  std::string settings = "max_threads=2";
  std::string answers_dir;
  std::string mismatch_log;

  std::string results;
  int timeout_ms = 600'000;
};

void Usage() {
  std::fprintf(
      stderr,
      "usage: query_bench --emit-data FILE [--rows N] [--seed N] [--span-days N]\n"
      "       query_bench --server NAME=PORT... (--ingest FILE | --queries FILE) [options]\n"
      "  --rows N             rows to generate (10000000)\n"
      "  --span-days N        createdAt spans N days before 2026-11-01 UTC (180)\n"
      "  --server NAME=PORT   a server on 127.0.0.1 (repeatable; the first is the reference)\n"
      "  --table T            table name (entityMetricEvents)\n"
      "  --batch-rows N       rows per INSERT request (100000)\n"
      "  --only Q1,Q3         run only these queries\n"
      "  --warmup N           untimed runs per query and server (3)\n"
      "  --runs N             timed runs per query and server (21)\n"
      "  --format F           output format of the timed runs (JSONEachRow)\n"
      "  --settings S         URL settings of every request (max_threads=2)\n"
      "  --answers-dir D      write each server's answers to D/SERVER/Qn.tsv\n"
      "  --mismatch-log F     append differing answers to F (markdown)\n"
      "  --results F          append the figures to F as JSON lines\n"
      "  --timeout-ms N       per-wait bound on each request (600000)\n");
}

Result<Flags> ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&]() -> Result<std::string> {
      if (i + 1 >= argc) return Status::InvalidArgument(arg + " needs a value");
      return std::string(argv[++i]);
    };
    auto number = [&]() -> Result<uint64_t> {
      TH_ASSIGN_OR_RETURN(std::string v, next());
      char* end = nullptr;
      uint64_t n = std::strtoull(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0') return Status::InvalidArgument(arg + ": not a number: " + v);
      return n;
    };
    if (arg == "--emit-data") {
      TH_ASSIGN_OR_RETURN(f.emit_data, next());
    } else if (arg == "--rows") {
      TH_ASSIGN_OR_RETURN(f.rows, number());
    } else if (arg == "--seed") {
      TH_ASSIGN_OR_RETURN(f.seed, number());
    } else if (arg == "--span-days") {
      TH_ASSIGN_OR_RETURN(uint64_t n, number());
      f.span_days = static_cast<int>(n);
    } else if (arg == "--server") {
      TH_ASSIGN_OR_RETURN(std::string v, next());
      size_t eq = v.find('=');
      int port = eq == std::string::npos ? 0 : std::atoi(v.c_str() + eq + 1);
      if (eq == 0 || port <= 0 || port > 65535) {
        return Status::InvalidArgument("--server wants NAME=PORT, got " + v);
      }
      f.servers.push_back(Server{v.substr(0, eq), static_cast<uint16_t>(port)});
    } else if (arg == "--table") {
      TH_ASSIGN_OR_RETURN(f.table, next());
    } else if (arg == "--ingest") {
      TH_ASSIGN_OR_RETURN(f.ingest, next());
    } else if (arg == "--batch-rows") {
      TH_ASSIGN_OR_RETURN(f.batch_rows, number());
    } else if (arg == "--queries") {
      TH_ASSIGN_OR_RETURN(f.queries, next());
    } else if (arg == "--only") {
      TH_ASSIGN_OR_RETURN(f.only, next());
    } else if (arg == "--warmup") {
      TH_ASSIGN_OR_RETURN(uint64_t n, number());
      f.warmup = static_cast<int>(n);
    } else if (arg == "--runs") {
      TH_ASSIGN_OR_RETURN(uint64_t n, number());
      f.runs = static_cast<int>(n);
    } else if (arg == "--format") {
      TH_ASSIGN_OR_RETURN(f.format, next());
    } else if (arg == "--settings") {
      TH_ASSIGN_OR_RETURN(f.settings, next());
    } else if (arg == "--answers-dir") {
      TH_ASSIGN_OR_RETURN(f.answers_dir, next());
    } else if (arg == "--mismatch-log") {
      TH_ASSIGN_OR_RETURN(f.mismatch_log, next());
    } else if (arg == "--results") {
      TH_ASSIGN_OR_RETURN(f.results, next());
    } else if (arg == "--timeout-ms") {
      TH_ASSIGN_OR_RETURN(uint64_t n, number());
      f.timeout_ms = static_cast<int>(n);
    } else if (arg == "-h" || arg == "--help") {
      Usage();
      std::exit(0);
    } else {
      return Status::InvalidArgument("unknown argument " + arg);
    }
  }
  if (f.emit_data.empty()) {
    if (f.servers.empty()) return Status::InvalidArgument("no --server given");
    if (f.ingest.empty() == f.queries.empty()) {
      return Status::InvalidArgument("give one of --emit-data, --ingest, --queries");
    }
  }
  if (f.runs < 1 || f.batch_rows == 0) {
    return Status::InvalidArgument("--runs and --batch-rows must be positive");
  }
  return f;
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20) {
      out += fmt::format("\\u{:04x}", c);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out + "\"";
}

// Appends JSON lines to --results (if given).
class Results {
 public:
  explicit Results(const std::string& path) {
    if (!path.empty()) out_.open(path, std::ios::app);
  }
  void Add(const std::string& json_line) {
    if (out_.is_open()) out_ << json_line << '\n' << std::flush;
  }

 private:
  std::ofstream out_;
};

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// The first line of a server's error body (ClickHouse puts a stack trace after it).
std::string FirstLine(const std::string& body) {
  std::string line = body.substr(0, body.find('\n'));
  return line.size() > 300 ? line.substr(0, 300) + "..." : line;
}

struct Query {
  std::string name;   // Q1
  std::string title;  // what it computes
  std::string sql;
};

// Parses the query file: a query starts at "-- Qn: title" and runs to the next one; other
// comment lines and blank lines are dropped.
Result<std::vector<Query>> ParseQueries(const std::string& text) {
  std::vector<Query> queries;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("-- Q", 0) == 0 && line.find(':') != std::string::npos) {
      size_t colon = line.find(':');
      queries.push_back(Query{line.substr(3, colon - 3), line.substr(colon + 2), ""});
      continue;
    }
    if (line.rfind("--", 0) == 0 || queries.empty()) continue;
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    queries.back().sql += line + "\n";
  }
  for (auto& q : queries) {
    while (!q.sql.empty() && (q.sql.back() == '\n' || q.sql.back() == ';')) q.sql.pop_back();
    if (q.sql.empty()) return Status::InvalidArgument("query " + q.name + " has no SQL");
  }
  if (queries.empty()) return Status::InvalidArgument("no \"-- Qn: title\" queries found");
  return queries;
}

std::vector<std::string> SortedLines(const std::string& body) {
  std::vector<std::string> lines;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  std::sort(lines.begin(), lines.end());
  return lines;
}

Status EmitData(const Flags& f) {
  EntityDataOptions eo;
  eo.seed = f.seed;
  eo.datetime = true;  // ClickHouse 18.16 has no DateTime64
  eo.span_seconds = static_cast<int64_t>(f.span_days) * 86400;
  auto start = Clock::now();
  std::vector<types::Block> blocks = GenerateEntityBlocks(eo, f.rows, 100'000);
  TH_RETURN_IF_ERROR(WriteJsonEachRow(blocks, f.emit_data));
  std::printf("wrote %llu rows (createdAt DateTime over %d days) to %s in %.1f s\n",
              static_cast<unsigned long long>(f.rows), f.span_days, f.emit_data.c_str(),
              Ms(Clock::now() - start) / 1e3);
  return Status::OK();
}

Result<std::unique_ptr<HttpConnection>> Connect(const Flags& f, const Server& s) {
  Result<std::unique_ptr<HttpConnection>> c = HttpConnection::Open(s.port, f.timeout_ms);
  if (!c.ok()) return Status::Unavailable(s.name + ": " + c.status().message());
  return c;
}

// Runs `sql` on one connection and returns the body of a 200 reply (or the error).
Result<std::string> Run(HttpConnection* conn, const Flags& f, const Server& s,
                        const std::string& sql) {
  TH_ASSIGN_OR_RETURN(HttpReply r, conn->Post("/?" + f.settings, sql));
  if (r.status != 200) {
    return Status::InvalidArgument(
        fmt::format("{} answered HTTP {}: {}", s.name, r.status, FirstLine(r.body)));
  }
  return std::move(r.body);
}

Status Ingest(const Flags& f, Results* results) {
  TH_ASSIGN_OR_RETURN(std::string data, ReadFile(f.ingest));
  // Batch boundaries: every batch_rows-th newline.
  std::vector<std::string_view> batches;
  uint64_t rows = 0;
  size_t begin = 0, pos = 0;
  while (pos < data.size()) {
    size_t nl = data.find('\n', pos);
    pos = nl == std::string::npos ? data.size() : nl + 1;
    if (++rows % f.batch_rows == 0 || pos == data.size()) {
      batches.emplace_back(data.data() + begin, pos - begin);
      begin = pos;
    }
  }
  std::string target = fmt::format("/?{}&query={}", f.settings,
                                   testing::UrlEncode("INSERT INTO " + f.table + " FORMAT JSONEachRow"));
  for (const Server& s : f.servers) {
    TH_ASSIGN_OR_RETURN(std::unique_ptr<HttpConnection> conn, Connect(f, s));
    std::vector<double> batch_ms;
    auto start = Clock::now();
    for (std::string_view b : batches) {
      auto t0 = Clock::now();
      TH_ASSIGN_OR_RETURN(HttpReply r, conn->Post(target, b));
      batch_ms.push_back(Ms(Clock::now() - t0));
      if (r.status != 200) {
        return Status::InvalidArgument(fmt::format("{}: batch {} answered HTTP {}: {}", s.name,
                                                   batch_ms.size(), r.status, FirstLine(r.body)));
      }
    }
    double seconds = Ms(Clock::now() - start) / 1e3;
    double rate = static_cast<double>(rows) / seconds;
    std::printf(
        "ingest %-11s %llu rows in %zu batches of %llu: %.3f s, %.3f M rows/s "
        "(batch median %.1f ms, max %.1f ms; %d reconnects)\n",
        s.name.c_str(), static_cast<unsigned long long>(rows), batches.size(),
        static_cast<unsigned long long>(f.batch_rows), seconds, rate / 1e6, Median(batch_ms),
        *std::max_element(batch_ms.begin(), batch_ms.end()), conn->reconnects());
    std::fflush(stdout);
    // The table must hold every row (it was empty before).
    Result<std::string> count =
        Run(conn.get(), f, s, "SELECT count() FROM " + f.table + " FORMAT TabSeparated");
    if (!count.ok()) return count.status();
    uint64_t stored = std::strtoull(count->c_str(), nullptr, 10);
    if (stored != rows) {
      return Status::Internal(fmt::format("{}: {} rows stored of {} sent", s.name, stored, rows));
    }
    results->Add(fmt::format(
        "{{\"bench\":\"ingest\",\"server\":{},\"rows\":{},\"batches\":{},\"batch_rows\":{},"
        "\"bytes\":{},\"seconds\":{:.4f},\"rows_per_s\":{:.0f},\"batch_ms_median\":{:.3f},"
        "\"batch_ms_max\":{:.3f},\"reconnects\":{}}}",
        JsonString(s.name), rows, batches.size(), f.batch_rows, data.size(), seconds, rate,
        Median(batch_ms), *std::max_element(batch_ms.begin(), batch_ms.end()),
        conn->reconnects()));
  }
  return Status::OK();
}

void WriteAnswer(const Flags& f, const Server& s, const Query& q, const std::string& body) {
  if (f.answers_dir.empty()) return;
  std::string dir = f.answers_dir + "/" + s.name;
  std::string cmd = "mkdir -p '" + dir + "'";
  if (std::system(cmd.c_str()) != 0) return;
  std::ofstream(dir + "/" + q.name + ".tsv", std::ios::binary) << body;
}

void LogMismatch(const Flags& f, const Query& q, const Server& ref, const std::string& ref_body,
                 const Server& s, const std::string& body) {
  if (f.mismatch_log.empty()) return;
  std::vector<std::string> a = SortedLines(ref_body), b = SortedLines(body);
  std::vector<std::string> only_a, only_b;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(only_a));
  std::set_difference(b.begin(), b.end(), a.begin(), a.end(), std::back_inserter(only_b));
  auto lines = [](const std::vector<std::string>& v) {
    std::string out;
    for (size_t i = 0; i < v.size() && i < 20; ++i) out += v[i] + "\n";
    if (v.size() > 20) out += fmt::format("... ({} more)\n", v.size() - 20);
    return out;
  };
  std::ofstream out(f.mismatch_log, std::ios::app);
  out << fmt::format(
      "## {} ({}): {} differs from {}\n\n```sql\n{}\n```\n\n{} rows from {}, {} from {}. "
      "Rows only in {}'s answer (sorted, at most 20):\n\n```\n{}```\n\nRows only in {}'s:\n\n"
      "```\n{}```\n\n",
      q.name, q.title, s.name, ref.name, q.sql, a.size(), ref.name, b.size(), s.name, ref.name,
      lines(only_a), s.name, lines(only_b));
}

Status Queries(const Flags& f, Results* results) {
  TH_ASSIGN_OR_RETURN(std::string text, ReadFile(f.queries));
  TH_ASSIGN_OR_RETURN(std::vector<Query> queries, ParseQueries(text));
  std::vector<std::unique_ptr<HttpConnection>> conns;
  for (const Server& s : f.servers) {
    TH_ASSIGN_OR_RETURN(std::unique_ptr<HttpConnection> c, Connect(f, s));
    conns.push_back(std::move(c));
  }
  int failures = 0;
  for (const Query& q : queries) {
    if (!f.only.empty() && ("," + f.only + ",").find("," + q.name + ",") == std::string::npos) {
      continue;
    }
    // 1. Answers, compared (sorted) with the reference server's.
    std::vector<std::string> verdict(f.servers.size(), "ok");
    std::vector<std::string> error(f.servers.size());
    std::string ref_body;
    std::vector<std::string> ref_sorted;
    for (size_t i = 0; i < f.servers.size(); ++i) {
      Result<std::string> body = Run(conns[i].get(), f, f.servers[i], q.sql + "\nFORMAT TabSeparated");
      if (!body.ok()) {
        verdict[i] = "error";
        error[i] = body.status().message();
        continue;
      }
      WriteAnswer(f, f.servers[i], q, *body);
      if (i == 0) {
        ref_body = *body;
        ref_sorted = SortedLines(*body);
      } else if (verdict[0] != "ok") {
        verdict[i] = "unchecked";
        error[i] = "the reference failed";
      } else if (SortedLines(*body) != ref_sorted) {
        verdict[i] = "wrong";
        error[i] = fmt::format("answer differs from {}'s", f.servers[0].name);
        LogMismatch(f, q, f.servers[0], ref_body, f.servers[i], *body);
      }
    }
    // 2. Timing: warm-up runs, then timed runs, one server after the other.
    for (size_t i = 0; i < f.servers.size(); ++i) {
      const Server& s = f.servers[i];
      std::vector<double> ms;
      size_t bytes = 0;
      if (verdict[i] == "ok") {
        std::string sql = q.sql + "\nFORMAT " + f.format;
        for (int r = 0; r < f.warmup + f.runs; ++r) {
          auto t0 = Clock::now();
          Result<std::string> body = Run(conns[i].get(), f, s, sql);
          double t = Ms(Clock::now() - t0);
          if (!body.ok()) {
            verdict[i] = "error";
            error[i] = body.status().message();
            break;
          }
          bytes = body->size();
          if (r >= f.warmup) ms.push_back(t);
        }
      }
      if (verdict[i] != "ok") {
        ++failures;
        std::printf("%s %-11s %s: %s\n", q.name.c_str(), s.name.c_str(), verdict[i].c_str(),
                    error[i].c_str());
        results->Add(fmt::format(
            "{{\"bench\":\"query\",\"server\":{},\"query\":{},\"title\":{},\"status\":{},"
            "\"error\":{}}}",
            JsonString(s.name), JsonString(q.name), JsonString(q.title), JsonString(verdict[i]),
            JsonString(error[i])));
        continue;
      }
      double median = Median(ms);
      double min = *std::min_element(ms.begin(), ms.end());
      double max = *std::max_element(ms.begin(), ms.end());
      std::printf("%s %-11s median %8.2f ms (min %.2f, max %.2f; %d runs after %d warm-up; "
                  "%zu answer rows, %zu bytes %s; %d reconnects)\n",
                  q.name.c_str(), s.name.c_str(), median, min, max, f.runs, f.warmup,
                  ref_sorted.size(), bytes, f.format.c_str(), conns[i]->reconnects());
      std::fflush(stdout);
      results->Add(fmt::format(
          "{{\"bench\":\"query\",\"server\":{},\"query\":{},\"title\":{},\"status\":\"ok\","
          "\"median_ms\":{:.3f},\"min_ms\":{:.3f},\"max_ms\":{:.3f},\"runs\":{},\"warmup\":{},"
          "\"answer_rows\":{},\"bytes\":{},\"format\":{},\"reconnects\":{}}}",
          JsonString(s.name), JsonString(q.name), JsonString(q.title), median, min, max, f.runs,
          f.warmup, ref_sorted.size(), bytes, JsonString(f.format), conns[i]->reconnects()));
    }
  }
  if (failures > 0) {
    return Status::Internal(fmt::format("{} query runs failed or gave a different answer", failures));
  }
  return Status::OK();
}

int Main(int argc, char** argv) {
  Result<Flags> flags = ParseFlags(argc, argv);
  if (!flags.ok()) {
    std::fprintf(stderr, "query_bench: %s\n", flags.status().message().c_str());
    Usage();
    return 2;
  }
  Results results(flags->results);
  Status s;
  if (!flags->emit_data.empty()) {
    s = EmitData(*flags);
  } else if (!flags->ingest.empty()) {
    s = Ingest(*flags, &results);
  } else {
    s = Queries(*flags, &results);
  }
  if (!s.ok()) {
    std::fprintf(stderr, "query_bench: %s\n", s.message().c_str());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace trackhouse::bench

int main(int argc, char** argv) { return trackhouse::bench::Main(argc, argv); }
