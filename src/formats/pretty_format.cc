#include "formats/pretty_format.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "formats/output_cells.h"
#include "types/column.h"

namespace trackhouse::formats {
namespace {

// Fixed values of ClickHouse's Pretty settings that trackhouse does not expose.
constexpr size_t kMaxColumnPadWidth = 250;   // output_format_pretty_max_column_pad_width
constexpr size_t kNameCutTo = 24;            // output_format_pretty_max_column_name_width_cut_to
constexpr size_t kNameMinCharsToCut = 4;     // ..._max_column_name_width_min_chars_to_cut
constexpr size_t kFooterMinRows = 50;        // ..._display_footer_column_names_min_rows
constexpr double kNumberTipThreshold = 1e6;  // ..._single_large_number_tip_threshold

enum class Style { kFull, kCompact, kSpace };

// ---- display width (ClickHouse's UTF8::computeWidth) ----

// East Asian wide and fullwidth code points take two terminal columns.
bool IsWide(uint32_t c) {
  return (c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0x303E) ||
         (c >= 0x3041 && c <= 0x33FF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xA000 && c <= 0xA4CF) ||
         (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) ||
         (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
         (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x1F300 && c <= 0x1F64F) ||
         (c >= 0x1F900 && c <= 0x1F9FF) || (c >= 0x20000 && c <= 0x3FFFD);
}

// Combining marks and other zero-width code points.
bool IsZeroWidth(uint32_t c) {
  return c < 0x20 || c == 0x7F || (c >= 0x80 && c < 0xA0) || (c >= 0x300 && c <= 0x36F) ||
         (c >= 0x1AB0 && c <= 0x1AFF) || (c >= 0x1DC0 && c <= 0x1DFF) ||
         (c >= 0x200B && c <= 0x200F) || (c >= 0x20D0 && c <= 0x20FF) ||
         (c >= 0xFE20 && c <= 0xFE2F) || c == 0xFEFF;
}

// Terminal columns `s` takes when it starts `prefix` columns into the line: a tab advances to
// the next multiple of 8, ANSI escape sequences and invalid UTF-8 take none.
size_t DisplayWidth(std::string_view s, size_t prefix) {
  size_t width = 0;
  bool in_escape = false;
  for (size_t i = 0; i < s.size();) {
    auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      ++i;
      if (in_escape) {
        if (b >= 0x40 && b <= 0x7E && static_cast<unsigned char>(s[i - 2]) != 0x1B) {
          in_escape = false;  // the final byte of a CSI sequence
        }
      } else if (b == 0x1B) {
        in_escape = true;
      } else if (b == '\t') {
        width += 8 - (prefix + width) % 8;
      } else if (b >= 0x20 && b != 0x7F) {
        ++width;
      }
      continue;
    }
    size_t len = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
    if (len == 1 || i + len > s.size()) {
      ++i;  // a stray byte
      continue;
    }
    uint32_t c = b & (0x7F >> len);
    for (size_t k = 1; k < len; ++k) c = (c << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    i += len;
    width += IsZeroWidth(c) ? 0 : IsWide(c) ? 2 : 1;
  }
  return width;
}

// The byte length of the longest prefix of `s` that fits in `limit` columns (no tabs expected).
size_t BytesBeforeWidth(std::string_view s, size_t limit) {
  size_t i = 0;
  while (i < s.size()) {
    size_t j = i + 1;
    while (j < s.size() && (static_cast<unsigned char>(s[j]) & 0xC0) == 0x80) ++j;
    if (DisplayWidth(s.substr(0, j), 0) > limit) break;
    i = j;
  }
  return i;
}

// Control characters (C0 and DEL) as their Unicode control pictures (U+2400..U+2421), so that
// they stay visible and do not break the table. Values keep tab, line feed and ESC (`keep_layout`);
// column names replace those too.
std::string ControlPictures(std::string_view s, bool keep_layout) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    auto b = static_cast<unsigned char>(ch);
    bool control = b < 0x20 || b == 0x7F;
    if (control && !(keep_layout && (b == '\t' || b == '\n' || b == 0x1B))) {
      out.push_back('\xE2');
      out.push_back('\x90');
      out.push_back(static_cast<char>(0x80 + (b == 0x7F ? 0x21 : b)));
    } else {
      out.push_back(ch);
    }
  }
  return out;
}

bool IsIdentifier(std::string_view s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

// A column name longer than the column (at least kNameCutTo wide) by more than
// kNameMinCharsToCut loses its middle to "⋯", unless it is a plain identifier.
std::pair<std::string, size_t> TruncateName(const std::string& name, size_t cut_to) {
  size_t width = DisplayWidth(name, 0);
  if (width <= cut_to + kNameMinCharsToCut || IsIdentifier(name)) return {name, width};
  size_t head = BytesBeforeWidth(name, cut_to / 2);
  size_t tail = BytesBeforeWidth(name, width - (cut_to - 1) / 2);
  return {name.substr(0, head) + "\u22ef" + name.substr(tail), cut_to};
}

// "1.23 million": ClickHouse's formatReadableQuantity with two decimals.
std::string ReadableQuantity(double v) {
  static const char* kUnits[] = {"",         " thousand", " million",
                                 " billion", " trillion", " quadrillion"};
  size_t i = 0;
  for (; i + 1 < std::size(kUnits) && std::fabs(v) >= 1000; ++i) v /= 1000;
  return fmt::format("{:.2f}{}", v, kUnits[i]);
}

bool AlignsRight(const types::DataType& type) {
  const types::DataType& t = type.Unwrapped();
  return t.is_numeric() || t.is_time();
}

struct Grid {
  std::string_view left, fill, mid, right;
};
// Border lines of the full style: header top, below the header, between rows, bottom, and the
// footer's top and bottom when the column names repeat below the rows.
constexpr Grid kHeaderTop{"\u250f", "\u2501", "\u2533", "\u2513"};     // ┏━┳━┓
constexpr Grid kHeaderBottom{"\u2521", "\u2501", "\u2547", "\u2529"};  // ┡━╇━┩
constexpr Grid kRowSeparator{"\u251c", "\u2500", "\u253c", "\u2524"};  // ├─┼─┤
constexpr Grid kBottom{"\u2514", "\u2500", "\u2534", "\u2518"};        // └─┴─┘
constexpr Grid kFooterTop{"\u2522", "\u2501", "\u2548", "\u252a"};     // ┢━╈━┪
constexpr Grid kFooterBottom{"\u2517", "\u2501", "\u253b", "\u251b"};  // ┗━┻━┛
constexpr Grid kCompactTop{"\u250c", "\u2500", "\u252c", "\u2510"};    // ┌─┬─┐

class PrettyOutputFormat final : public OutputFormat {
 public:
  PrettyOutputFormat(Style style, bool mono_block, OutputOptions options)
      : style_(style), mono_block_(mono_block), options_(options) {}

  void Begin(const std::vector<std::string>& names, const std::vector<types::DataTypePtr>& types,
             std::string* out) override {
    names_.clear();
    right_.clear();
    for (const auto& n : names) names_.push_back(ControlPictures(n, false));
    for (const auto& t : types) right_.push_back(AlignsRight(*t));
    number_tip_ = types.size() == 1 && types[0]->Unwrapped().is_numeric() &&
                  types[0]->Unwrapped().id() != types::TypeId::kBool;
  }

  void Write(const types::Block& block, std::string* out) override {
    if (block.rows() == 0) return;
    if (mono_block_) {
      pending_.push_back(block);
      return;
    }
    WriteTable(block, out);
  }

  void WriteTotals(const types::Block& totals, std::string* out) override {
    FlushMonoBlock(out);
    total_rows_ = 0;
    out->append("\nTotals:\n");
    WriteTable(totals, out);
  }

  void Finish(const Stats& stats, std::string* out) override {
    FlushMonoBlock(out);
    if (total_rows_ >= options_.pretty_max_rows) {
      if (style_ == Style::kSpace) out->push_back('\n');
      out->append(fmt::format("Showed {} out of {} rows.\n", displayed_rows_, total_rows_));
    }
  }

  std::string_view content_type() const override { return "text/plain; charset=UTF-8"; }

 private:
  void FlushMonoBlock(std::string* out) {
    if (pending_.empty()) return;
    types::Block all = types::Concat(pending_);
    pending_.clear();
    WriteTable(all, out);
  }

  // A chunk of more than pretty_max_rows rows shows its first and last rows around a filler.
  bool CutInTheMiddle(size_t row, size_t rows) const {
    size_t max = options_.pretty_max_rows;
    return rows > max && !(row < (max + 1) / 2 || row >= rows - max / 2);
  }

  // A border line: left_blank, then `g` with each column `width + 2` fill characters wide.
  std::string Border(const Grid& g, const std::vector<size_t>& widths) const {
    std::string line = left_blank_;
    line.append(g.left);
    for (size_t i = 0; i < widths.size(); ++i) {
      if (i != 0) line.append(g.mid);
      for (size_t k = 0; k < widths[i] + 2; ++k) line.append(g.fill);
    }
    line.append(g.right);
    line.push_back('\n');
    return line;
  }

  void WriteNames(bool top, const std::vector<std::string>& names,
                  const std::vector<size_t>& name_widths, const std::vector<size_t>& widths,
                  std::string* out) const {
    const Grid& compact = top ? kCompactTop : kBottom;
    out->append(left_blank_);
    switch (style_) {
      case Style::kFull:
        out->append("\u2503 ");  // ┃
        break;
      case Style::kCompact:
        out->append(compact.left);
        out->append("\u2500");
        break;
      case Style::kSpace:
        out->push_back(' ');
        break;
    }
    for (size_t i = 0; i < names.size(); ++i) {
      if (i != 0) {
        if (style_ == Style::kFull) {
          out->append(" \u2503 ");
        } else if (style_ == Style::kCompact) {
          out->append("\u2500");
          out->append(compact.mid);
          out->append("\u2500");
        } else {
          out->append("   ");
        }
      }
      std::string_view pad_char = style_ == Style::kCompact ? "\u2500" : " ";
      size_t pad = widths[i] > name_widths[i] ? widths[i] - name_widths[i] : 0;
      if (!right_[i]) out->append(names[i]);
      for (size_t k = 0; k < pad; ++k) out->append(pad_char);
      if (right_[i]) out->append(names[i]);
    }
    if (style_ == Style::kFull) {
      out->append(" \u2503");
    } else if (style_ == Style::kCompact) {
      out->append("\u2500");
      out->append(compact.right);
    }
    out->push_back('\n');
  }

  void WriteTable(const types::Block& block, std::string* out) {
    size_t rows = block.rows();
    size_t n = block.num_columns();
    if (total_rows_ >= options_.pretty_max_rows) {
      total_rows_ += rows;
      return;
    }
    size_t max_rows = options_.pretty_max_rows;
    size_t row_number_width = std::to_string(rows + total_rows_).size() + 2;  // "N. "
    left_blank_.assign(options_.pretty_row_numbers ? row_number_width : 0, ' ');
    size_t value_prefix = row_number_width + (style_ == Style::kSpace ? 1 : 2);

    // Render every displayed cell: the column widths depend on all of them.
    std::vector<std::vector<std::string>> text(n);
    std::vector<size_t> widths(n, 0);  // padded width of each column
    std::vector<std::string> names(n);
    std::vector<size_t> name_widths(n);
    size_t prefix = value_prefix;
    for (size_t c = 0; c < n; ++c) {
      auto cell = MakeCell(*block.at(c).column, *block.at(c).type, Dialect::kPretty, options_);
      for (size_t r = 0; r < rows; ++r) {
        if (CutInTheMiddle(r, rows)) continue;
        std::string value;
        cell->Append(r, &value);
        value = ControlPictures(value, true);
        size_t start = 0;
        while (start <= value.size()) {
          size_t end = std::min(value.find('\n', start), value.size());
          size_t w = DisplayWidth(std::string_view(value).substr(start, end - start), prefix);
          widths[c] = std::max(widths[c], std::min(kMaxColumnPadWidth, w));
          start = end + 1;
        }
        text[c].push_back(std::move(value));
        if (text[c].size() == max_rows) break;
      }
      std::tie(names[c], name_widths[c]) = TruncateName(names_[c], std::max(widths[c], kNameCutTo));
      name_widths[c] = std::min(kMaxColumnPadWidth, name_widths[c]);
      widths[c] = std::max(widths[c], name_widths[c]);
      prefix += widths[c] + 3;
    }

    std::string rows_separator;
    if (style_ == Style::kFull) {
      out->append(Border(kHeaderTop, widths));
      rows_separator = Border(kRowSeparator, widths);
    }
    WriteNames(true, names, name_widths, widths, out);
    if (style_ == Style::kFull) out->append(Border(kHeaderBottom, widths));
    if (style_ == Style::kSpace) out->push_back('\n');

    bool filler_written = false;
    size_t displayed = 0;  // index into text[c]
    for (size_t r = 0; r < rows && displayed_rows_ < max_rows; ++r) {
      if (CutInTheMiddle(r, rows)) {
        if (!filler_written) {
          out->append(rows_separator);
          WriteFiller(widths, out);
          filler_written = true;
        }
        continue;
      }
      if (r != 0) out->append(rows_separator);
      WriteRow(block, r, rows, displayed, text, widths, value_prefix, row_number_width, out);
      ++displayed;
      ++displayed_rows_;
    }

    if (rows >= kFooterMinRows) {
      if (style_ == Style::kFull) out->append(Border(kFooterTop, widths));
      if (style_ == Style::kSpace) out->push_back('\n');
      WriteNames(false, names, name_widths, widths, out);
      if (style_ == Style::kFull) out->append(Border(kFooterBottom, widths));
      if (style_ == Style::kSpace) out->push_back('\n');
    } else if (style_ != Style::kSpace) {
      out->append(Border(kBottom, widths));
    }
    total_rows_ += rows;
  }

  //    ─ ─ ─ ─   (where the middle rows of a long chunk are left out)
  void WriteFiller(const std::vector<size_t>& widths, std::string* out) const {
    size_t size = 0;
    for (size_t w : widths) size += w + 3;
    size = style_ == Style::kSpace ? size - 2 : size + 1;
    out->append(left_blank_);
    for (size_t i = 0; i < size; ++i) out->append(i % 2 ? " " : "\u2500");
    out->push_back('\n');
  }

  // One row, over several lines when a value contains line feeds: a value continued on the
  // next line ends with ↴ and resumes after ↳.
  void WriteRow(const types::Block& block, size_t r, size_t rows, size_t displayed,
                const std::vector<std::vector<std::string>>& text,
                const std::vector<size_t>& widths, size_t value_prefix, size_t row_number_width,
                std::string* out) const {
    size_t n = widths.size();
    std::vector<size_t> offset(n, 0);
    bool first_line = true;
    while (true) {
      if (options_.pretty_row_numbers) {
        if (first_line) {
          std::string number = std::to_string(r + 1 + total_rows_) + ". ";
          out->append(row_number_width - number.size(), ' ');
          out->append(number);
        } else {
          out->append(left_blank_);
        }
      }
      first_line = false;
      bool all_printed = true;
      for (size_t c = 0; c < n; ++c) {
        if (style_ != Style::kSpace) {
          out->append("\u2502");  // │
        } else if (c != 0) {
          out->push_back(' ');
        }
        const std::string& value = text[c][displayed];
        size_t& start = offset[c];
        bool continuation = start > 0 && start < value.size();
        std::string_view fragment;
        size_t width = 0;
        if (start < value.size()) {
          size_t end = std::min(value.find('\n', start), value.size());
          fragment = std::string_view(value).substr(start, end - start);
          width = DisplayWidth(fragment, value_prefix);
          start = end;
        }
        out->append(continuation ? "\u21b3" : " ");  // ↳
        size_t pad = widths[c] > width ? widths[c] - width : 0;
        if (right_[c]) out->append(pad, ' ');
        out->append(fragment);
        if (!right_[c]) out->append(pad, ' ');
        out->append(start != value.size() ? "\u21b4" : " ");  // ↴
        if (start < value.size()) ++start;
        if (start != value.size()) all_printed = false;
      }
      if (style_ != Style::kSpace) out->append("\u2502");
      if (number_tip_ && rows == 1) AppendNumberTip(block, r, out);
      out->push_back('\n');
      if (all_printed) break;
    }
  }

  // " -- 1.23 million" after a result that is a single large number.
  void AppendNumberTip(const types::Block& block, size_t r, std::string* out) const {
    types::Value v = block.at(0).column->GetValue(r);
    if (v.is_null()) return;
    double x = v.AsFloat();
    double a = std::fabs(x);
    if (!std::isfinite(x) || a <= kNumberTipThreshold || (a > 1e17 && a < 1.844675e19)) return;
    out->append(" -- ");
    out->append(ReadableQuantity(x));
  }

  Style style_;
  bool mono_block_;
  OutputOptions options_;
  std::vector<std::string> names_;     // control characters already replaced
  std::vector<bool> right_;            // numbers and times are right-aligned
  bool number_tip_ = false;            // one numeric column: large single values get a tip
  std::string left_blank_;             // the row-number gutter of the current table
  uint64_t total_rows_ = 0;            // rows before the current table (row numbers continue)
  uint64_t displayed_rows_ = 0;        // rows shown, up to pretty_max_rows
  std::vector<types::Block> pending_;  // MonoBlock: the rows until Finish
};

}  // namespace

std::unique_ptr<OutputFormat> MakePrettyFormat(std::string_view name,
                                               const OutputOptions& options) {
  if (!name.starts_with("Pretty")) return nullptr;
  std::string_view rest = name.substr(6);
  Style style = Style::kFull;
  if (rest.starts_with("Compact")) {
    style = Style::kCompact;
    rest.remove_prefix(7);
  } else if (rest.starts_with("Space")) {
    style = Style::kSpace;
    rest.remove_prefix(5);
  }
  // NoEscapes only turns colour off, and trackhouse never colours.
  if (rest.starts_with("NoEscapes")) rest.remove_prefix(9);
  bool mono_block = rest == "MonoBlock";
  if (!rest.empty() && !mono_block) return nullptr;
  return std::make_unique<PrettyOutputFormat>(style, mono_block, options);
}

}  // namespace trackhouse::formats
