// What the fuzz targets share: libFuzzer's entry point, which hands each input to the target's
// FuzzOne; the fixed table the input-format and expression fuzzers parse into and evaluate
// against, a mix of the column types event tables use (integers of several widths, String,
// LowCardinality(String), Nullable, Date, DateTime, DateTime64(3), FixedString, Float64,
// Bool); a text rendering of parsed blocks for comparing two parses of the same input; and the
// oracle check. Fuzzing support only; not thread-safe (libFuzzer runs one input at a time).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "formats/input_format.h"

namespace trackhouse::fuzz {

// Runs one fuzz input; defined by each target (LLVMFuzzerTestOneInput calls it).
void FuzzOne(std::string_view input);

// The columns, in table order. Two of them track omitted values and one has a non-type default,
// so the omitted-mask and default paths of the parsers run too.
const std::vector<formats::InputColumn>& SchemaColumns();

// Each row as one line: values in their text form joined by '|', then the omitted-mask bits.
// Appends to *out.
void AppendRowsText(const formats::ParsedBlock& block, std::string* out);

// FNV-1a of the bytes: a deterministic seed for choices derived from an input.
uint64_t HashBytes(std::string_view bytes);

// Crashes (abort with a message on stderr) when `condition` is false: a fuzzing oracle failed.
void Check(bool condition, std::string_view what, std::string_view detail);

}  // namespace trackhouse::fuzz
