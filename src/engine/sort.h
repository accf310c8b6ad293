// Sorting rows of a Block by a key (the table's ORDER BY columns), the step every flush and
// merge takes before writing a part. Key columns are first encoded into order-preserving
// 64-bit words (integers, dates, floats, LowCardinality ranks), so the sort compares plain
// integers; String and FixedString keys fall back to column comparison. Thread-safe (pure).
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "types/block.h"

namespace trackhouse::engine {

// The permutation that sorts `block` by the named key columns (ascending, stable). An empty
// key gives the identity. `run_starts`, when given, lists the first rows of runs that are
// already sorted (the parts a merge concatenated, starting with 0): the runs are then merged
// in linear passes instead of sorted. Large sorts use two threads.
Result<types::Permutation> SortPermutation(const types::Block& block,
                                           const std::vector<std::string>& key,
                                           const std::vector<size_t>* run_starts = nullptr);

// True if rows a and b of the block have equal values in every key column.
bool KeysEqual(const std::vector<const types::Column*>& key_columns, size_t a, size_t b);

}  // namespace trackhouse::engine
