// Block: a batch of rows as named, typed columns of equal length -- the one in-memory unit that
// flows from parsers to the log, the engine, the ClickHouse writer and query results. A Block
// shares its columns (ColumnPtr); treat a block's columns as immutable once it is published.
// Not thread-safe for mutation.
#pragma once

#include <string>
#include <vector>

#include "types/column.h"
#include "types/data_type.h"

namespace trackhouse::types {

struct NamedColumn {
  std::string name;
  DataTypePtr type;
  ColumnPtr column;
};

class Block {
 public:
  Block() = default;
  explicit Block(std::vector<NamedColumn> columns) : columns_(std::move(columns)) {}

  size_t rows() const { return columns_.empty() ? 0 : columns_[0].column->size(); }
  size_t num_columns() const { return columns_.size(); }
  bool empty() const { return rows() == 0; }

  const NamedColumn& at(size_t i) const { return columns_[i]; }
  NamedColumn& at(size_t i) { return columns_[i]; }
  const std::vector<NamedColumn>& columns() const { return columns_; }
  std::vector<NamedColumn>& columns() { return columns_; }

  // Position of the column named `name`, or -1.
  int Find(std::string_view name) const;
  const NamedColumn* Get(std::string_view name) const {
    int i = Find(name);
    return i < 0 ? nullptr : &columns_[i];
  }

  void Add(std::string name, DataTypePtr type, ColumnPtr column) {
    columns_.push_back({std::move(name), std::move(type), std::move(column)});
  }

  // Approximate memory held by the columns.
  size_t ByteSize() const;
  // Bytes of the values (Column::DataBytes summed).
  size_t DataBytes() const;

  // An empty block with the same names and types.
  Block CloneEmpty() const;
  // A block of the rows in perm order / where mask is set. The second Filter is for callers
  // that have counted the kept rows already: `kept` must be CountSelected(mask).
  Block Permute(const Permutation& perm) const;
  Block Filter(const std::vector<uint8_t>& mask) const;
  Block Filter(const std::vector<uint8_t>& mask, size_t kept) const;
  // Rows [start, start+count) as a new block (copies).
  Block Slice(size_t start, size_t count) const;
  // Appends all rows of `other`, which must have the same names and types in the same order.
  void Append(const Block& other);

  // Checks that every column has the same number of rows and its declared type.
  Status Validate() const;

 private:
  std::vector<NamedColumn> columns_;
};

// Concatenates blocks with identical structure.
Block Concat(const std::vector<Block>& blocks);

}  // namespace trackhouse::types
