// Part: an open, immutable part directory (written by WritePart, format in part_writer.h and
// docs/formats/part.md), with pruning by min/max statistics and by the sparse primary index,
// and reads of whole granules of chosen columns.
//
// Open validates the meta checksum, that every column's .bin and .mrk file exists with the
// size the meta and marks promise, the marks' and primary index's checksums; it keeps the
// marks and the primary index in memory and one open RandomAccessFile per column. Reads are
// positioned reads (pread) of the byte range of the requested granules, checked frame by frame
// (CRC32C) and decoded; there is no cache. A LowCardinality column's dictionary is read on
// first use and kept.
//
// Corruption errors name the file, the offset and the sizes involved.
//
// Ownership: shared (std::shared_ptr<Part>); the Env must outlive every Part opened on it.
// Thread-safety: immutable after Open, all methods are thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "engine/part_format.h"
#include "env/env.h"
#include "types/block.h"
#include "types/column.h"
#include "types/value.h"

namespace trackhouse::engine {

// A condition on one sort-key column: lower <(=) value <(=) upper, each side optional. Values
// are in the column's physical representation (types/value.h: DateTime is UInt seconds, Date
// UInt days, DateTime64 Int ticks, LowCardinality/String a String).
struct KeyColumnBound {
  std::optional<types::Value> lower;
  bool lower_inclusive = true;
  std::optional<types::Value> upper;
  bool upper_inclusive = true;

  static KeyColumnBound Any() { return {}; }
  static KeyColumnBound Exact(types::Value v) { return {v, true, v, true}; }
  static KeyColumnBound AtLeast(types::Value v) { return {std::move(v), true, {}, true}; }
  static KeyColumnBound GreaterThan(types::Value v) { return {std::move(v), false, {}, true}; }
  static KeyColumnBound AtMost(types::Value v) { return {{}, true, std::move(v), true}; }
  static KeyColumnBound LessThan(types::Value v) { return {{}, true, std::move(v), false}; }

  // Whether v satisfies both sides (a NULL v satisfies no bound, only Any()).
  bool Contains(const types::Value& v) const;
};

// A conjunction of bounds on the leading sort-key columns: columns[i] constrains sort-key
// column i; columns past columns.size() are unconstrained. It describes a box in key space,
// e.g. for ORDER BY (entityType, entityId, createdAt):
//   entityType = 'Model' AND entityId = 42 AND createdAt > X
//     -> {Exact('Model'), Exact(42), GreaterThan(X)}
//   entityId BETWEEN 10 AND 20 (no condition on entityType)
//     -> {Any(), {10, true, 20, true}}
// Any box is valid; pruning is most effective when leading columns are exact.
struct KeyRange {
  std::vector<KeyColumnBound> columns;
};

// Half-open granule ranges [first, second).
using GranuleRanges = std::vector<std::pair<size_t, size_t>>;

class Part {
 public:
  // Opens the part in `dir`. NotFound if there is no such directory or it has no part.meta;
  // Corruption (file, offset, sizes) if any file is missing, short, long or fails its checksum;
  // NotSupported for a newer format version.
  static Result<std::shared_ptr<Part>> Open(env::Env* env, std::string dir);

  ~Part();
  Part(const Part&) = delete;
  Part& operator=(const Part&) = delete;

  const PartMeta& meta() const { return meta_; }
  const std::string& dir() const { return dir_; }
  uint64_t rows() const { return meta_.rows; }
  size_t num_granules() const { return meta_.num_granules(); }
  // Rows in granule g (< num_granules()): the granularity, or fewer for the last granule.
  size_t GranuleRows(size_t g) const { return meta_.GranuleRows(g); }
  // First row of granule g.
  uint64_t GranuleFirstRow(size_t g) const { return uint64_t{g} * meta_.granularity; }
  // Rows in the granule ranges.
  uint64_t RangeRows(const GranuleRanges& ranges) const;
  // Bytes of all the part's files.
  uint64_t BytesOnDisk() const { return bytes_on_disk_; }

  // Whether the part has the column (a column added later by ALTER ADD COLUMN has none: the
  // caller fills in defaults).
  bool HasColumn(const std::string& name) const { return FindColumn(name) != nullptr; }
  // The column's type as written, or nullptr.
  types::DataTypePtr ColumnType(const std::string& name) const;

  // Reads the rows of granules [granule_begin, granule_end) of a column. NotFound for a column
  // the part does not have, InvalidArgument for a bad range, Corruption for bad bytes.
  Result<types::ColumnPtr> ReadColumn(const std::string& name, size_t granule_begin,
                                      size_t granule_end) const;
  // The same for several columns, as a Block with the columns in the order asked for.
  Result<types::Block> ReadBlock(const std::vector<std::string>& columns, size_t granule_begin,
                                 size_t granule_end) const;

  // Granule ranges that may hold rows inside `range`, ascending and non-adjacent. Conservative:
  // a granule holding a matching row is never left out. An empty KeyRange selects everything.
  GranuleRanges SelectGranules(const KeyRange& range) const;

  // False only if no row of the part can have `column` in [lo, hi] (inclusive; a NULL lo or hi
  // is unbounded), judged by the meta's min/max. True when the part has no statistics for the
  // column (or does not have the column at all: it then holds its default).
  bool MayContain(const std::string& column, const types::Value& lo, const types::Value& hi) const;

  // The primary index: 2 * num_granules() sort keys; rows 2g and 2g + 1 are the keys of the
  // first and the last row of granule g. For tests and EXPLAIN.
  const std::vector<std::vector<types::Value>>& primary_index() const { return index_; }

 private:
  struct ColumnFile {
    std::string name;
    types::DataTypePtr type;
    Transform transform = Transform::kPlain;
    std::string data_path;
    std::unique_ptr<env::RandomAccessFile> data;
    std::vector<uint64_t> marks;  // num_granules() + 1 offsets into data
    mutable std::mutex dict_mu;
    mutable std::shared_ptr<const std::vector<std::string>> dict GUARDED_BY(dict_mu);
  };

  Part(env::Env* env, std::string dir) : env_(env), dir_(std::move(dir)) {}
  Status Load();
  Status LoadColumn(ColumnFile* column);
  Status LoadPrimaryIndex();
  const ColumnFile* FindColumn(const std::string& name) const;
  Result<std::shared_ptr<const std::vector<std::string>>> Dictionary(const ColumnFile& c) const;
  bool GranuleMayMatch(size_t g, const std::vector<KeyColumnBound>& box) const;

  env::Env* const env_;
  const std::string dir_;
  PartMeta meta_;
  std::vector<std::unique_ptr<ColumnFile>> columns_;  // in meta_.columns order
  std::vector<std::vector<types::Value>> index_;      // [2g or 2g+1][key column]
  uint64_t bytes_on_disk_ = 0;
};

}  // namespace trackhouse::engine
