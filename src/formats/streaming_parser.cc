#include "formats/streaming_parser.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <utility>

namespace trackhouse::formats {
namespace {

// A buffer grown past this is released once it is empty again.
constexpr size_t kKeepCapacity = 4 * StreamingParser::kSliceBytes;

metrics::Counter& BytesCounter() {
  static metrics::Counter& c =
      metrics::GetCounter("trackhouse_input_bytes_total", "Bytes fed to the input-format parsers");
  return c;
}

metrics::Counter& ErrorsCounter() {
  static metrics::Counter& c = metrics::GetCounter("trackhouse_input_parse_errors_total",
                                                   "Inputs rejected by an input-format parser");
  return c;
}

}  // namespace

void PaddedBuffer::Append(const char* p, size_t n) {
  if (n == 0) return;
  if (begin_ > 0) {
    std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ + n + kPadding > capacity_) {
    size_t cap = std::max(capacity_ * 2, end_ + n + kPadding);
    std::unique_ptr<char[]> bigger(new char[cap]);
    if (end_ > 0) std::memcpy(bigger.get(), buf_.get(), end_);
    buf_ = std::move(bigger);
    capacity_ = cap;
  }
  std::memcpy(buf_.get() + end_, p, n);
  end_ += n;
  std::memset(buf_.get() + end_, 0, kPadding);
}

void PaddedBuffer::Consume(size_t n) {
  begin_ += n;
  if (begin_ == end_) {
    begin_ = end_ = 0;
    if (capacity_ > kKeepCapacity) {
      buf_.reset();
      capacity_ = 0;
    }
  }
}

StreamingParser::StreamingParser(std::string_view format, bool skip_bom)
    : format_(format), skip_bom_(skip_bom) {
  std::string name = "trackhouse_input_parse_errors_";
  for (char c : format) name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  name += "_total";
  format_errors_ = &metrics::GetCounter(
      name, fmt::format("Inputs rejected by the {} input-format parser", format));
}

Status StreamingParser::Init(std::vector<InputColumn> columns, const InputOptions& options) {
  options_ = options;
  if (options_.max_row_bytes == 0) options_.max_row_bytes = 1;
  TH_RETURN_IF_ERROR(builder_.Init(std::move(columns), options_));
  return Start();
}

Status StreamingParser::Feed(std::string_view chunk) {
  if (!error_.ok()) return error_;
  if (finished_) return Status::Internal("InputParser::Feed called after Finish");
  BytesCounter().Add(static_cast<int64_t>(chunk.size()));
  while (!chunk.empty()) {
    size_t n = std::min(chunk.size(), kSliceBytes);
    buf_.Append(chunk.data(), n);
    chunk.remove_prefix(n);
    TH_RETURN_IF_ERROR(ParseBuffered(false));
  }
  return Status::OK();
}

Status StreamingParser::Finish() {
  if (!error_.ok()) return error_;
  if (finished_) return Status::OK();
  finished_ = true;
  TH_RETURN_IF_ERROR(ParseBuffered(true));
  builder_.Flush();
  return Status::OK();
}

Status StreamingParser::ParseBuffered(bool eof) {
  if (at_start_ && skip_bom_) {
    static constexpr std::string_view kBom = "\xEF\xBB\xBF";
    std::string_view head(buf_.data(), std::min(buf_.size(), kBom.size()));
    if (head.size() < kBom.size() && !eof && kBom.substr(0, head.size()) == head) {
      return Status::OK();  // wait for enough bytes to tell
    }
    if (head == kBom) buf_.Consume(kBom.size());
    at_start_ = false;
  }
  Result<size_t> consumed = Parse(buf_.data(), buf_.size(), eof);
  if (!consumed.ok()) return Fail(consumed.status());
  buf_.Consume(*consumed);
  if (!eof && buf_.size() > options_.max_row_bytes) return Fail(RowTooLarge());
  return Status::OK();
}

Status StreamingParser::RowTooLarge() const {
  return Status::InvalidArgument(
      fmt::format("Cannot parse input: row {} is larger than max_row_bytes ({} bytes)",
                  builder_.current_row_number(), options_.max_row_bytes),
      ch::kIncorrectData);
}

Status StreamingParser::Fail(Status st) {
  builder_.AbortRow();
  ErrorsCounter().Add(1);
  format_errors_->Add(1);
  error_ = std::move(st);
  return error_;
}

}  // namespace trackhouse::formats
