// The embedded engine's ScanSource: reads a table snapshot (its active parts, then its
// memtable blocks) block by block, pruning parts and granules with the parts' min/max
// statistics and sparse primary index when the request carries a filter.
#pragma once

#include <memory>

#include "engine/table.h"
#include "storage/storage.h"

namespace trackhouse::engine {

std::unique_ptr<storage::ScanSource> MakeScanSource(Table::Snapshot snapshot,
                                                    const storage::ScanRequest& request);

}  // namespace trackhouse::engine
