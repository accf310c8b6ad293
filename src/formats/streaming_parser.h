// StreamingParser: the chunk buffering every input format shares (private to src/formats).
//
// Feed() appends the chunk (in slices of at most kSliceBytes) to a padded buffer holding only
// the not-yet-parsed bytes, and asks the format's Parse() to consume whole rows from its front;
// the unconsumed rest (an incomplete row) stays buffered for the next chunk, up to
// max_row_bytes. After an error every call returns that error. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/metrics.h"
#include "common/status.h"
#include "formats/block_builder.h"
#include "formats/input_format.h"

namespace trackhouse::formats {

// A growable byte buffer whose contents are always followed by kPadding readable zero bytes
// (simdjson reads up to 64 bytes past the end of a document). Owns its memory.
class PaddedBuffer {
 public:
  static constexpr size_t kPadding = 64;

  PaddedBuffer() = default;
  PaddedBuffer(const PaddedBuffer&) = delete;
  PaddedBuffer& operator=(const PaddedBuffer&) = delete;

  const char* data() const { return buf_.get() + begin_; }
  size_t size() const { return end_ - begin_; }
  // Appends n bytes (moving the unconsumed bytes to the front first).
  void Append(const char* p, size_t n);
  // Drops the first n unconsumed bytes.
  void Consume(size_t n);

 private:
  std::unique_ptr<char[]> buf_;
  size_t capacity_ = 0;  // bytes allocated, including padding
  size_t begin_ = 0;
  size_t end_ = 0;
};

class StreamingParser : public InputParser {
 public:
  // Feed() parses at most this many new bytes at a time, bounding the buffer.
  static constexpr size_t kSliceBytes = 1 << 20;

  Status Feed(std::string_view chunk) final;
  Status Finish() final;
  bool HasBlock() const final { return builder_.HasBlock(); }
  ParsedBlock TakeBlock() final { return builder_.TakeBlock(); }
  uint64_t rows_parsed() const final { return builder_.total_rows(); }

  // Validates the columns and options; MakeInputParser calls it once before use.
  Status Init(std::vector<InputColumn> columns, const InputOptions& options);

 protected:
  // `format` is the canonical format name used in errors ("JSONEachRow"); `skip_bom` skips a
  // UTF-8 byte-order mark at the start of the input (text formats).
  StreamingParser(std::string_view format, bool skip_bom);

  // Parses whole rows from the front of data[0, size) into builder_ and returns how many bytes
  // it consumed (whole rows and the separators after them). The bytes [size, size + kPadding)
  // are readable zeros. Without `eof` the unconsumed bytes are passed again, followed by more,
  // in the next call (so a format may remember scan positions relative to the unconsumed
  // start); with `eof` the input ends here: consume everything or return an error.
  virtual Result<size_t> Parse(const char* data, size_t size, bool eof) = 0;
  // Called by Init() after the builder is ready (e.g. to index columns).
  virtual Status Start() { return Status::OK(); }

  // "Cannot parse input: row N is larger than max_row_bytes (M bytes)".
  Status RowTooLarge() const;
  const InputOptions& options() const { return options_; }
  std::string_view format() const { return format_; }

  BlockBuilder builder_;

 private:
  Status ParseBuffered(bool eof);
  Status Fail(Status st);

  std::string format_;
  bool skip_bom_;
  bool at_start_ = true;  // no byte of the input consumed yet (BOM check pending)
  bool finished_ = false;
  Status error_;
  InputOptions options_;
  PaddedBuffer buf_;
  metrics::Counter* format_errors_ = nullptr;
};

}  // namespace trackhouse::formats
