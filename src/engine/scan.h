// The embedded engine's ScanSource: reads a table snapshot (its active parts, then its
// memtable blocks) block by block, pruning parts and granules with the parts' min/max
// statistics and sparse primary index when the request carries a filter.
//
// The snapshot is cut into work units (up to 8 granules of one part, or one memtable block);
// NextBlock claims the next unit atomically and decodes it on the calling thread, so several
// query threads reading one source decode in parallel.
//
// With FINAL the source reads each partition whole, sorts it by the sorting key and applies
// the engine's collapsing rules (ReplacingMergeTree, SummingMergeTree) as a merge would, then
// returns one block per partition.
#pragma once

#include <memory>

#include "engine/table.h"
#include "storage/storage.h"

namespace trackhouse::engine {

std::unique_ptr<storage::ScanSource> MakeScanSource(const Table& table, Table::Snapshot snapshot,
                                                    const storage::ScanRequest& request);

}  // namespace trackhouse::engine
