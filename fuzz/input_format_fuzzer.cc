// libFuzzer target for one streaming input format (TH_FUZZ_FORMAT, set per binary by
// fuzz/CMakeLists.txt), parsing into the fixed table of fuzz_support.h.
//
// Each input is parsed three ways: in one chunk, in chunks split at points derived from the
// input's hash, and (for short inputs) one byte at a time. Besides ASan/UBSan findings, the
// oracle is that streaming does not change the outcome: the same status and the same rows
// whatever the chunking. Small blocks (3 rows) make block cutting part of every run.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "formats/input_format.h"
#include "fuzz/fuzz_support.h"

namespace trackhouse::fuzz {
namespace {

struct Outcome {
  Status status;
  std::string rows;
  uint64_t rows_parsed = 0;
};

Outcome Parse(std::string_view input, const std::vector<std::string_view>& chunks,
              const formats::InputOptions& options) {
  Outcome out;
  auto parser = formats::MakeInputParser(TH_FUZZ_FORMAT, SchemaColumns(), options);
  Check(parser.ok(), "MakeInputParser", parser.status().ToString());
  formats::InputParser& p = **parser;
  auto drain = [&] {
    while (p.HasBlock()) {
      formats::ParsedBlock block = p.TakeBlock();
      Check(block.block.rows() > 0, "empty block handed out", input);
      AppendRowsText(block, &out.rows);
    }
  };
  for (std::string_view chunk : chunks) {
    out.status = p.Feed(chunk);
    drain();
    if (!out.status.ok()) {
      // Unusable after an error: every later call repeats it.
      Check(p.Feed("1") == out.status && p.Finish() == out.status, "sticky error",
            out.status.ToString());
      out.rows_parsed = p.rows_parsed();
      return out;
    }
  }
  out.status = p.Finish();
  drain();
  out.rows_parsed = p.rows_parsed();
  return out;
}

void CheckSame(const Outcome& a, const Outcome& b, std::string_view how) {
  std::string detail = std::string(how) + "\nstatus one chunk: " + a.status.ToString() +
                       "\nstatus split:     " + b.status.ToString() + "\nrows one chunk:\n" +
                       a.rows + "rows split:\n" + b.rows;
  Check(a.status == b.status, "chunking changed the status", detail);
  if (a.status.ok()) {
    Check(a.rows == b.rows, "chunking changed the rows", detail);
    Check(a.rows_parsed == b.rows_parsed, "chunking changed rows_parsed", detail);
  }
}

}  // namespace

void FuzzOne(std::string_view input) {
  static ManualClock clock(1700000000123456);
  const uint64_t hash = HashBytes(input);

  formats::InputOptions options;
  options.max_block_rows = 3;
  options.skip_unknown_fields = (hash & 1) != 0;
  options.clock = &clock;

  Outcome whole = Parse(input, {input}, options);

  std::vector<std::string_view> chunks;
  uint64_t state = hash | 1;
  for (size_t pos = 0; pos < input.size();) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    size_t len = 1 + (state >> 33) % 16;
    chunks.push_back(input.substr(pos, len));
    pos += len;
  }
  CheckSame(whole, Parse(input, chunks, options), "random chunks");

  if (input.size() <= 512) {
    chunks.clear();
    for (size_t i = 0; i < input.size(); ++i) chunks.push_back(input.substr(i, 1));
    CheckSame(whole, Parse(input, chunks, options), "one byte per chunk");
  }
}

}  // namespace trackhouse::fuzz
