#include "tests/sql/test_file.h"

#include <cctype>
#include <fstream>
#include <sstream>

namespace trackhouse::sqltest {
namespace {

constexpr char kResultStart[] = "----";
constexpr char kResultEnd[] = "====";

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Splits a header line into tokens: words separated by spaces, where a `name="..."` value may
// hold spaces and the escapes \n \t \r \0 \\ \" \xHH.
bool Tokenize(const std::string& line, std::vector<std::string>* tokens, std::string* error) {
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    if (i == line.size()) break;
    std::string token;
    while (i < line.size() && line[i] != ' ') {
      if (line[i] != '"') {
        token.push_back(line[i++]);
        continue;
      }
      ++i;
      while (true) {
        if (i >= line.size()) {
          *error = "unterminated quoted value";
          return false;
        }
        char c = line[i++];
        if (c == '"') break;
        if (c != '\\') {
          token.push_back(c);
          continue;
        }
        if (i >= line.size()) {
          *error = "backslash at the end of the line";
          return false;
        }
        char e = line[i++];
        switch (e) {
          case 'n':
            token.push_back('\n');
            break;
          case 't':
            token.push_back('\t');
            break;
          case 'r':
            token.push_back('\r');
            break;
          case '0':
            token.push_back('\0');
            break;
          case '\\':
            token.push_back('\\');
            break;
          case '"':
            token.push_back('"');
            break;
          case 'x': {
            int hi = i < line.size() ? HexDigit(line[i]) : -1;
            int lo = i + 1 < line.size() ? HexDigit(line[i + 1]) : -1;
            if (hi < 0 || lo < 0) {
              *error = "\\x needs two hex digits";
              return false;
            }
            token.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
            break;
          }
          default:
            *error = std::string("unknown escape \\") + e;
            return false;
        }
      }
    }
    tokens->push_back(std::move(token));
  }
  return true;
}

bool ApplyOption(const std::string& token, Block* block, std::string* error) {
  const std::pair<const char*, bool Block::*> kFlags[] = {{"hex", &Block::hex},
                                                          {"body_hex", &Block::body_hex},
                                                          {"gzip", &Block::gzip_request},
                                                          {"accept_gzip", &Block::accept_gzip}};
  for (const auto& [name, member] : kFlags) {
    if (token == name) {
      block->*member = true;
      return true;
    }
  }
  size_t eq = token.find('=');
  if (eq == std::string::npos || eq == 0) {
    *error = "option '" + token + "' is neither a flag nor name=value";
    return false;
  }
  std::string name = token.substr(0, eq);
  std::string value = token.substr(eq + 1);
  if (name == "method") {
    block->method = value;
  } else if (name == "path") {
    block->path = value;
  } else if (name == "query") {
    block->query_arg = value;
  } else if (name == "mask") {
    block->mask = value;
  } else if (name == "status") {
    block->status = std::atoi(value.c_str());
  } else if (name == "show_headers") {
    std::stringstream ss(value);
    std::string h;
    while (std::getline(ss, h, ',')) block->show_headers.push_back(h);
  } else if (name.rfind("header:", 0) == 0) {
    block->headers.emplace_back(name.substr(7), value);
  } else {
    block->url_args.emplace_back(name, value);
  }
  return true;
}

}  // namespace

bool ParseTestFile(const std::string& path, TestFile* file, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = path + ": cannot open";
    return false;
  }
  file->path = path;
  std::string line;
  while (std::getline(in, line)) file->lines.push_back(line);
  const auto& lines = file->lines;
  auto fail = [&](size_t i, const std::string& message) {
    *error = path + ":" + std::to_string(i + 1) + ": " + message;
    return false;
  };
  std::vector<std::string> skip_if, only_if;
  size_t i = 0;
  while (i < lines.size()) {
    const std::string& header = lines[i];
    if (header.empty() || header[0] == '#') {
      ++i;
      continue;
    }
    std::vector<std::string> tokens;
    std::string token_error;
    if (!Tokenize(header, &tokens, &token_error)) return fail(i, token_error);
    if (tokens[0] == "skipif" || tokens[0] == "onlyif") {
      if (tokens.size() != 2) return fail(i, tokens[0] + " takes one label");
      (tokens[0] == "skipif" ? skip_if : only_if).push_back(tokens[1]);
      ++i;
      continue;
    }
    Block block;
    block.line = static_cast<int>(i) + 1;
    size_t first_option = 1;
    if (tokens[0] == "query") {
      block.kind = Block::Kind::kQuery;
    } else if (tokens[0] == "statement" && tokens.size() >= 2 && tokens[1] == "ok") {
      block.kind = Block::Kind::kStatementOk;
      first_option = 2;
    } else if (tokens[0] == "statement" && tokens.size() >= 3 && tokens[1] == "error") {
      block.kind = Block::Kind::kStatementError;
      block.error_code = std::atoi(tokens[2].c_str());
      if (block.error_code <= 0) return fail(i, "statement error needs a ClickHouse error code");
      first_option = 3;
    } else {
      return fail(i, "expected 'statement ok', 'statement error CODE' or 'query', got: " + header);
    }
    for (size_t t = first_option; t < tokens.size(); ++t) {
      std::string option_error;
      if (!ApplyOption(tokens[t], &block, &option_error)) return fail(i, option_error);
    }
    block.skip_if = std::move(skip_if);
    block.only_if = std::move(only_if);
    skip_if.clear();
    only_if.clear();
    ++i;
    // The statement: up to a blank line, `----` or the end of the file.
    std::string text;
    while (i < lines.size() && !lines[i].empty() && lines[i] != kResultStart) {
      text += lines[i] + "\n";
      ++i;
    }
    block.text = std::move(text);
    bool has_result = i < lines.size() && lines[i] == kResultStart;
    if (block.kind == Block::Kind::kStatementOk && has_result) {
      return fail(i, "'statement ok' has no result: use 'query' to check output");
    }
    if (block.kind == Block::Kind::kQuery && !has_result) {
      return fail(i, "'query' needs '----' and the expected output, ended by '===='");
    }
    if (has_result) {
      ++i;
      block.expected_begin = static_cast<int>(i);
      if (block.kind == Block::Kind::kQuery) {
        while (i < lines.size() && lines[i] != kResultEnd) block.expected.push_back(lines[i++]);
        if (i == lines.size()) return fail(block.line - 1, "query output not ended by '===='");
        block.expected_end = static_cast<int>(i);
        ++i;
      } else {
        while (i < lines.size() && !lines[i].empty()) block.expected.push_back(lines[i++]);
        block.expected_end = static_cast<int>(i);
      }
    }
    file->blocks.push_back(std::move(block));
  }
  if (!skip_if.empty() || !only_if.empty())
    return fail(lines.size(), "skipif/onlyif before no block");
  return true;
}

bool ExpectedBytes(const Block& block, std::string* bytes, std::string* error) {
  bytes->clear();
  if (!block.hex) {
    for (const auto& l : block.expected) *bytes += l + "\n";
    return true;
  }
  std::string text;
  for (const auto& l : block.expected) text += l + "\n";
  return DecodeHex(text, bytes, error);
}

bool DecodeHex(const std::string& text, std::string* bytes, std::string* error) {
  bytes->clear();
  std::string digits;
  for (char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c))) digits.push_back(c);
  }
  if (digits.size() % 2 != 0) {
    *error = "odd number of hex digits";
    return false;
  }
  for (size_t i = 0; i < digits.size(); i += 2) {
    int hi = HexDigit(digits[i]), lo = HexDigit(digits[i + 1]);
    if (hi < 0 || lo < 0) {
      *error = "not a hex digit in '" + digits.substr(i, 2) + "'";
      return false;
    }
    bytes->push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

std::string HexLines(const std::string& bytes, size_t per_line) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i > 0) out.push_back(per_line != 0 && i % per_line == 0 ? '\n' : ' ');
    unsigned char c = static_cast<unsigned char>(bytes[i]);
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

bool RewriteTestFile(const TestFile& file,
                     const std::vector<std::pair<size_t, std::string>>& actual,
                     std::string* error) {
  std::vector<std::string> replacement(file.lines.size());
  std::vector<bool> replaced(file.lines.size(), false);
  std::vector<int> drop(file.lines.size(), 0);
  for (const auto& [index, bytes] : actual) {
    const Block& b = file.blocks[index];
    std::string text;
    if (b.hex) {
      text = HexLines(bytes, 16) + "\n";
    } else {
      if (!bytes.empty() && bytes.back() != '\n') {
        *error = file.path + ":" + std::to_string(b.line) +
                 ": output does not end with a newline; use the hex option";
        return false;
      }
      text = bytes;
    }
    if (!text.empty()) text.pop_back();  // the last line's newline is implied by the layout
    // Lines [begin, end) are replaced by `text`, written before line `begin` (which is the
    // closing '====' when the old output was empty).
    for (int l = b.expected_begin; l < b.expected_end; ++l) drop[l] = 1;
    if (!bytes.empty()) replacement[b.expected_begin] = text + "\n";
    replaced[b.expected_begin] = true;
  }
  std::ofstream out(file.path, std::ios::binary | std::ios::trunc);
  if (!out) {
    *error = file.path + ": cannot write";
    return false;
  }
  for (size_t l = 0; l < file.lines.size(); ++l) {
    if (replaced[l]) out << replacement[l];
    if (!drop[l]) out << file.lines[l] << "\n";
  }
  return static_cast<bool>(out);
}

}  // namespace trackhouse::sqltest
