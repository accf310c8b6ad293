// Compares the output of one query from ClickHouse and from trackhouse. Text in the
// TabSeparated and CSV families is compared line by line; where two lines differ, they are
// split into number and non-number tokens and numbers are equal within a relative 1e-9 (an
// absolute 1e-12 near zero), so that floating-point sums taken in another order, quantile
// interpolation and the last digit of a division do not count as differences. Everything
// else must match byte for byte.
#pragma once

#include <string>

namespace trackhouse::difftest {

// True when the outputs match; otherwise *report shows the first differing line of each side
// with a few lines of context.
bool OutputsMatch(const std::string& clickhouse, const std::string& trackhouse,
                  std::string* report);

// Where ClickHouse 18.16's output differs from current ClickHouse's documented behaviour,
// which trackhouse follows, rewrites 18.16's output into the current form:
//   - the zero Date and DateTime (a default value: WITH TOTALS key columns, min/max over no
//     rows) print as 0000-00-00 [00:00:00] in 18.16 and as 1970-01-01 [00:00:00] since
//     ClickHouse 20.7 (ClickHouse pull request 12442).
std::string NormalizeClickHouse1816(std::string output);

}  // namespace trackhouse::difftest
