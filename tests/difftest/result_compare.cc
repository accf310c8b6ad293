#include "tests/difftest/result_compare.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <vector>

namespace trackhouse::difftest {
namespace {

struct Token {
  std::string text;
  bool number = false;
};

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

// Splits a line into numbers (-?digits[.digits][e[+-]digits], inf, nan) and the text between.
std::vector<Token> Tokenize(const std::string& line) {
  std::vector<Token> tokens;
  size_t i = 0;
  auto is_digit = [&](size_t at) {
    return at < line.size() && std::isdigit(static_cast<unsigned char>(line[at]));
  };
  while (i < line.size()) {
    size_t start = i;
    if (line[i] == '-' && is_digit(i + 1)) ++i;
    if (is_digit(i)) {
      while (is_digit(i)) ++i;
      if (i < line.size() && line[i] == '.' && is_digit(i + 1)) {
        ++i;
        while (is_digit(i)) ++i;
      }
      if (i < line.size() && (line[i] == 'e' || line[i] == 'E')) {
        size_t e = i + 1;
        if (e < line.size() && (line[e] == '+' || line[e] == '-')) ++e;
        if (is_digit(e)) {
          i = e;
          while (is_digit(i)) ++i;
        }
      }
      tokens.push_back({line.substr(start, i - start), true});
      continue;
    }
    i = start + 1;
    if (!tokens.empty() && !tokens.back().number) {
      tokens.back().text.push_back(line[start]);
    } else {
      tokens.push_back({line.substr(start, 1), false});
    }
  }
  return tokens;
}

bool NumbersClose(const std::string& a, const std::string& b) {
  double x = std::strtod(a.c_str(), nullptr);
  double y = std::strtod(b.c_str(), nullptr);
  double scale = std::max(std::fabs(x), std::fabs(y));
  return std::fabs(x - y) <= std::max(1e-9 * scale, 1e-12);
}

bool LinesMatch(const std::string& a, const std::string& b) {
  if (a == b) return true;
  std::vector<Token> ta = Tokenize(a), tb = Tokenize(b);
  if (ta.size() != tb.size()) return false;
  for (size_t i = 0; i < ta.size(); ++i) {
    if (ta[i].text == tb[i].text) continue;
    if (!ta[i].number || !tb[i].number || !NumbersClose(ta[i].text, tb[i].text)) return false;
  }
  return true;
}

std::string Excerpt(const std::vector<std::string>& lines, size_t at) {
  std::string out;
  size_t from = at >= 2 ? at - 2 : 0;
  size_t to = std::min(lines.size(), at + 3);
  for (size_t i = from; i < to; ++i) {
    out += (i == at ? "  > " : "    ") + std::to_string(i + 1) + ": " + lines[i] + "\n";
  }
  if (at >= lines.size()) out += "  > " + std::to_string(at + 1) + ": (no line)\n";
  return out;
}

}  // namespace

std::string NormalizeClickHouse1816(std::string output) {
  static const std::string kZeroDate = "0000-00-00";
  for (size_t at = output.find(kZeroDate); at != std::string::npos;
       at = output.find(kZeroDate, at + kZeroDate.size())) {
    output.replace(at, kZeroDate.size(), "1970-01-01");
  }
  return output;
}

bool OutputsMatch(const std::string& clickhouse, const std::string& trackhouse,
                  std::string* report) {
  std::vector<std::string> a = SplitLines(clickhouse), b = SplitLines(trackhouse);
  size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    if (i < a.size() && i < b.size() && LinesMatch(a[i], b[i])) continue;
    *report = "first difference at line " + std::to_string(i + 1) + " (ClickHouse " +
              std::to_string(a.size()) + " lines, trackhouse " + std::to_string(b.size()) +
              " lines)\n ClickHouse:\n" + Excerpt(a, i) + " trackhouse:\n" + Excerpt(b, i);
    return false;
  }
  bool a_ends = !clickhouse.empty() && clickhouse.back() == '\n';
  bool b_ends = !trackhouse.empty() && trackhouse.back() == '\n';
  if (a_ends != b_ends) {
    *report = std::string("the outputs differ in their final newline (ClickHouse ") +
              (a_ends ? "has" : "has not") + " one)\n";
    return false;
  }
  return true;
}

}  // namespace trackhouse::difftest
