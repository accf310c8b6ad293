// Runs the data-driven SQL test files (tests/sql/README.md) over the ClickHouse HTTP interface.
// Each file is one gtest test: it gets a fresh `trackhouse serve` on a free loopback port and
// an empty temporary data directory, and its blocks run in order against it. A failing block
// reports file:line, the statement and a diff of expected and actual output; the file goes on
// with its next block.
//
//   sql_cases_test [FILE.test ...]     the given files, or every file under the cases directory
//
// Environment:
//   SQL_TEST_SERVER=127.0.0.1:PORT  run against that server instead of starting trackhouse
//                                   (e.g. a ClickHouse, or trackhouse in another storage mode)
//   SQL_TEST_LABELS=a,b             the run's labels for skipif/onlyif (default: trackhouse)
//   SQL_TEST_REWRITE=1              write actual outputs into the files' query blocks (to
//                                   record a reference server's answers; review the diff)
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <set>
#include <sstream>

#include "tests/http_client.h"
#include "tests/server_process.h"
#include "tests/sql/test_file.h"

namespace trackhouse::sqltest {
namespace {

using testing::HttpRequest;
using testing::HttpResponse;
using testing::UrlEncode;

struct RunConfig {
  uint16_t external_port = 0;  // 0: start trackhouse per file
  std::set<std::string> labels;
  bool rewrite = false;
};

RunConfig ConfigFromEnvironment() {
  RunConfig c;
  if (const char* s = std::getenv("SQL_TEST_SERVER"); s != nullptr && *s != '\0') {
    std::string v = s;
    c.external_port = static_cast<uint16_t>(std::atoi(v.substr(v.rfind(':') + 1).c_str()));
  }
  std::string labels = "trackhouse";
  if (const char* s = std::getenv("SQL_TEST_LABELS"); s != nullptr && *s != '\0') labels = s;
  std::stringstream ss(labels);
  std::string label;
  while (std::getline(ss, label, ',')) c.labels.insert(label);
  const char* rw = std::getenv("SQL_TEST_REWRITE");
  c.rewrite = rw != nullptr && std::string(rw) == "1";
  return c;
}

// gzip-compresses (windowBits 31) or decompresses (gzip or zlib, windowBits 47) `in`.
bool Gzip(const std::string& in, bool compress, std::string* out) {
  z_stream z{};
  int rc =
      compress ? deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) : inflateInit2(&z, 47);
  if (rc != Z_OK) return false;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  char buf[65536];
  out->clear();
  do {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof(buf);
    rc = compress ? deflate(&z, Z_FINISH) : inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) break;
    out->append(buf, sizeof(buf) - z.avail_out);
  } while (rc != Z_STREAM_END);
  compress ? deflateEnd(&z) : inflateEnd(&z);
  return rc == Z_STREAM_END;
}

// The value of response header `name` (case-insensitive), or nullopt.
std::optional<std::string> Header(const std::string& headers, const std::string& name) {
  std::stringstream ss(headers);
  std::string line;
  auto lower = [](std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
  };
  while (std::getline(ss, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t colon = line.find(':');
    if (colon == std::string::npos || lower(line.substr(0, colon)) != lower(name)) continue;
    size_t v = line.find_first_not_of(' ', colon + 1);
    return v == std::string::npos ? "" : line.substr(v);
  }
  return std::nullopt;
}

std::vector<std::string> SplitLines(const std::string& s) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < s.size()) {
    size_t nl = s.find('\n', start);
    if (nl == std::string::npos) {
      lines.push_back(s.substr(start) + "\\ (no newline at end)");
      break;
    }
    lines.push_back(s.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

// A line diff of `expected` and `actual` ('-' expected only, '+' actual only, ' ' both), by
// longest common subsequence (outputs here are small).
std::string LineDiff(const std::string& expected, const std::string& actual) {
  auto a = SplitLines(expected), b = SplitLines(actual);
  std::vector<std::vector<int>> lcs(a.size() + 1, std::vector<int>(b.size() + 1, 0));
  for (size_t i = a.size(); i-- > 0;) {
    for (size_t j = b.size(); j-- > 0;) {
      lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  std::string out = "--- expected\n+++ actual\n";
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (i < a.size() && j < b.size() && a[i] == b[j]) {
      out += " " + a[i++] + "\n";
      ++j;
    } else if (j < b.size() && (i == a.size() || lcs[i][j + 1] >= lcs[i + 1][j])) {
      out += "+" + b[j++] + "\n";
    } else {
      out += "-" + a[i++] + "\n";
    }
  }
  return out;
}

class FileRunner {
 public:
  FileRunner(const RunConfig& config, const TestFile& file, uint16_t port)
      : config_(config), file_(file), port_(port) {}

  // Runs every block; failures are reported to gtest. Returns the outputs of query blocks for
  // rewriting.
  std::vector<std::pair<size_t, std::string>> Run() {
    std::vector<std::pair<size_t, std::string>> outputs;
    for (size_t i = 0; i < file_.blocks.size(); ++i) {
      const Block& b = file_.blocks[i];
      if (!Selected(b)) continue;
      std::string output;
      if (RunBlock(b, &output) && b.kind == Block::Kind::kQuery) outputs.emplace_back(i, output);
    }
    return outputs;
  }

 private:
  bool Selected(const Block& b) const {
    for (const auto& l : b.skip_if) {
      if (config_.labels.count(l) != 0) return false;
    }
    for (const auto& l : b.only_if) {
      if (config_.labels.count(l) == 0) return false;
    }
    return true;
  }

  void Fail(const Block& b, const std::string& what) {
    std::string sql = b.query_arg ? "query=" + *b.query_arg + "\nbody:\n" + b.text : b.text;
    ADD_FAILURE_AT(file_.path.c_str(), b.line)
        << file_.path << ":" << b.line << ": " << what << "\n"
        << sql;
  }

  // Sends the block's request; false (reported) when the exchange itself failed.
  bool Send(const Block& b, HttpResponse* resp) {
    std::string target = b.path;
    std::vector<std::string> args;
    std::string body = b.text;
    if (b.body_hex) {
      std::string error;
      if (!DecodeHex(b.text, &body, &error)) {
        Fail(b, "bad hex body: " + error);
        return false;
      }
    }
    if (b.query_arg) {
      args.push_back("query=" + UrlEncode(*b.query_arg));
    } else if (b.method == "GET" && !body.empty()) {
      if (body.back() == '\n') body.pop_back();
      args.push_back("query=" + UrlEncode(body));
      body.clear();
    }
    for (const auto& [name, value] : b.url_args) args.push_back(name + "=" + UrlEncode(value));
    for (size_t i = 0; i < args.size(); ++i) target += (i == 0 ? "?" : "&") + args[i];
    auto headers = b.headers;
    if (b.gzip_request) {
      std::string packed;
      if (!Gzip(body, true, &packed)) {
        Fail(b, "cannot gzip the request body");
        return false;
      }
      body = std::move(packed);
      headers.emplace_back("Content-Encoding", "gzip");
    }
    if (b.accept_gzip) headers.emplace_back("Accept-Encoding", "gzip");
    *resp = HttpRequest(port_, b.method, target, headers, body, 60000);
    if (resp->status == 0) {
      Fail(b, "no HTTP response (server down or timed out)");
      return false;
    }
    if (b.accept_gzip) {
      if (Header(resp->headers, "Content-Encoding").value_or("") != "gzip") {
        Fail(b, "response is not gzip-compressed; headers:\n" + resp->headers);
        return false;
      }
      std::string plain;
      if (!Gzip(resp->body, false, &plain)) {
        Fail(b, "response body is not valid gzip");
        return false;
      }
      resp->body = std::move(plain);
    }
    return true;
  }

  bool RunBlock(const Block& b, std::string* output) {
    HttpResponse resp;
    if (!Send(b, &resp)) return false;
    std::string status_line = "HTTP " + std::to_string(resp.status);
    switch (b.kind) {
      case Block::Kind::kStatementOk:
        if (resp.status != 200) Fail(b, "statement failed: " + status_line + "\n" + resp.body);
        return resp.status == 200;
      case Block::Kind::kStatementError:
        CheckError(b, resp);
        return true;
      case Block::Kind::kQuery:
        break;
    }
    for (const auto& h : b.show_headers) {
      *output += h + ": " + Header(resp.headers, h).value_or("<missing>") + "\n";
    }
    *output += resp.body;
    if (b.mask) *output = std::regex_replace(*output, std::regex(*b.mask), "<masked>");
    std::string expected, error;
    if (!ExpectedBytes(b, &expected, &error)) {
      Fail(b, "bad expected output: " + error);
      return true;
    }
    if (resp.status != b.status) {
      Fail(b, status_line + ", expected " + std::to_string(b.status) + "\n" + resp.body);
      return false;
    }
    if (*output != expected) {
      Fail(b, "output differs\n" +
                  (b.hex ? LineDiff(HexLines(expected, 16) + "\n", HexLines(*output, 16) + "\n")
                         : LineDiff(expected, *output)));
    }
    return true;
  }

  // A ClickHouse-shaped error: 4xx/5xx, X-ClickHouse-Exception-Code, a body that starts with
  // "Code: N. DB::Exception: " and holds every expected fragment.
  void CheckError(const Block& b, const HttpResponse& resp) {
    std::string code = std::to_string(b.error_code);
    std::string prefix = "Code: " + code + ". DB::Exception: ";
    std::string problems;
    if (resp.status < 400) problems += "HTTP status " + std::to_string(resp.status) + "\n";
    auto header = Header(resp.headers, "X-ClickHouse-Exception-Code");
    if (header.value_or("") != code) {
      problems += "X-ClickHouse-Exception-Code: " + header.value_or("<missing>") + ", expected " +
                  code + "\n";
    }
    if (resp.body.compare(0, prefix.size(), prefix) != 0) {
      problems += "body does not start with '" + prefix + "'\n";
    }
    for (const auto& fragment : b.expected) {
      if (resp.body.find(fragment) == std::string::npos) {
        problems += "body lacks '" + fragment + "'\n";
      }
    }
    if (!problems.empty()) Fail(b, "error differs:\n" + problems + "actual body:\n" + resp.body);
  }

  const RunConfig& config_;
  const TestFile& file_;
  uint16_t port_;
};

class SqlFileTest : public ::testing::Test {
 public:
  explicit SqlFileTest(std::string path) : path_(std::move(path)) {}

  void TestBody() override {
    RunConfig config = ConfigFromEnvironment();
    TestFile file;
    std::string error;
    ASSERT_TRUE(ParseTestFile(path_, &file, &error)) << error;
    testing::ServerProcess server;
    std::string dir;
    uint16_t port = config.external_port;
    if (port == 0) {
      dir = testing::MakeTempDir("trackhouse-sqltest-");
      ASSERT_FALSE(dir.empty());
      ASSERT_TRUE(server.Start(TRACKHOUSE_BINARY, dir + "/data", {}, &error))
          << "cannot start " << TRACKHOUSE_BINARY << ":\n"
          << error;
      port = server.port();
    }
    auto outputs = FileRunner(config, file, port).Run();
    if (config.rewrite) {
      EXPECT_TRUE(RewriteTestFile(file, outputs, &error)) << error;
    }
    if (!dir.empty()) {
      server.Kill();
      testing::RemoveTree(dir);
    }
  }

 private:
  std::string path_;
};

// The test's name: the file's path under the cases directory, '/' and '.' as '_'.
std::string TestName(const std::string& path) {
  std::string rel = path;
  std::string root = std::string(SQL_TEST_CASES_DIR) + "/";
  if (rel.compare(0, root.size(), root) == 0) rel = rel.substr(root.size());
  if (rel.size() > 5 && rel.compare(rel.size() - 5, 5, ".test") == 0) rel.resize(rel.size() - 5);
  for (char& c : rel) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return rel;
}

}  // namespace
}  // namespace trackhouse::sqltest

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) files.push_back(std::filesystem::absolute(argv[i]).string());
  if (files.empty()) {
    for (const auto& e : std::filesystem::recursive_directory_iterator(SQL_TEST_CASES_DIR)) {
      if (e.is_regular_file() && e.path().extension() == ".test") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
  }
  for (const auto& f : files) {
    ::testing::RegisterTest(
        "SqlFile", trackhouse::sqltest::TestName(f).c_str(), nullptr, nullptr, f.c_str(), 1,
        [f]() -> ::testing::Test* { return new trackhouse::sqltest::SqlFileTest(f); });
  }
  return RUN_ALL_TESTS();
}
