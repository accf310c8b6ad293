// The Pretty family of output formats (private to src/formats; MakeOutputFormat is the public
// entry): Unicode box-drawn tables for humans, as current ClickHouse prints them without colour
// (over HTTP ClickHouse never colours). See docs/formats/output-formats.md for the layout rules.
// One table per block (MonoBlock: one table for the whole result); a Pretty format holds the
// rows of a MonoBlock result until Finish. Not thread-safe: one per response.
#pragma once

#include <memory>
#include <string_view>

#include "formats/output_format.h"

namespace trackhouse::formats {

// The Pretty format called `name` (Pretty, PrettyCompact, PrettySpace, each optionally followed
// by NoEscapes and/or MonoBlock), or null when `name` is not one of them.
std::unique_ptr<OutputFormat> MakePrettyFormat(std::string_view name, const OutputOptions& options);

}  // namespace trackhouse::formats
