// The data-driven SQL test file format (tests/sql/README.md describes it for authors): a file
// is a sequence of blocks, each one HTTP request to a ClickHouse-compatible server and what it
// must answer.
//
//   statement ok [options]          a statement that must succeed (HTTP 200)
//   statement error CODE [options]  a statement that must fail with ClickHouse error CODE;
//   ----                            optional: lines that must each appear in the error text
//   query [options]                 a statement whose response body must match exactly
//   ----
//   expected output, line by line
//   ====
//
// Parsing is pure (no I/O besides reading the file); not thread-safe per object.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace trackhouse::sqltest {

struct Block {
  enum class Kind { kStatementOk, kStatementError, kQuery };
  Kind kind = Kind::kQuery;
  int line = 0;        // 1-based line of the block header
  int error_code = 0;  // kStatementError
  std::string text;    // the statement (or the body, when query_arg is set)
  // Options of the header line.
  std::string method = "POST";
  std::string path = "/";
  std::optional<std::string> query_arg;                       // sent as the `query` URL argument
  std::vector<std::pair<std::string, std::string>> url_args;  // in order
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<std::string> show_headers;  // response headers printed before the body
  bool hex = false;                       // expected output is hex-encoded bytes
  bool body_hex = false;  // the block's text is hex-encoded bytes (binary input formats)
  // Regular expression (ECMAScript) whose matches in the actual output are replaced by
  // "<masked>" before comparing: for values no two runs share (elapsed times).
  std::optional<std::string> mask;
  bool gzip_request = false;
  bool accept_gzip = false;  // ask for and require a gzip-compressed response
  int status = 200;          // kQuery: the expected HTTP status
  // Expected output (kQuery, exact bytes after decoding) or the error fragments
  // (kStatementError, one per line).
  std::vector<std::string> expected;
  // Lines [expected_begin, expected_end) of the file hold `expected` (0-based; rewriting).
  int expected_begin = 0;
  int expected_end = 0;
  std::vector<std::string> skip_if;  // labels that skip the block
  std::vector<std::string> only_if;  // labels the run must have
};

struct TestFile {
  std::string path;
  std::vector<std::string> lines;  // the file, for rewriting
  std::vector<Block> blocks;
};

// Parses `path`; on a format error returns false with "path:line: message" in *error.
bool ParseTestFile(const std::string& path, TestFile* file, std::string* error);

// The bytes a kQuery block expects: the expected lines each followed by '\n', or the decoded
// hex. False with a message on bad hex.
bool ExpectedBytes(const Block& block, std::string* bytes, std::string* error);

// Decodes hex digits (whitespace between them ignored) into bytes; false with a message.
bool DecodeHex(const std::string& text, std::string* bytes, std::string* error);

// Replaces the expected lines of blocks with `actual` outputs (block index -> bytes) and writes
// the file back. Hex blocks get hex lines of 32 bytes.
bool RewriteTestFile(const TestFile& file,
                     const std::vector<std::pair<size_t, std::string>>& actual, std::string* error);

// Lower-case hex of bytes, `per_line` bytes a line (0: one line).
std::string HexLines(const std::string& bytes, size_t per_line);

}  // namespace trackhouse::sqltest
