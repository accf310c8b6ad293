// WritePart: writes one sorted Block as an immutable part directory and publishes it
// atomically. The format is specified in docs/formats/part.md; the record diagrams follow.
//
// Every multi-byte integer is little-endian; "varint" is LEB128 (common/coding.h); "lp" is a
// varint length followed by that many bytes.
//
// <c>.bin -- column data: a sequence of compressed frames (engine/compression.h), one per
// granule, preceded for LowCardinality columns by one dictionary frame:
//
//   +------------------------+------------------+------------------+-----+------------------+
//   | [dictionary frame]     | granule 0 frame  | granule 1 frame  | ... | granule G-1 frame|
//   | LowCardinality only    |                  |                  |     |                  |
//   +------------------------+------------------+------------------+-----+------------------+
//   ^0                       ^mark[0]           ^mark[1]                                ^mark[G]
//
//   frame = codec u8 | compressed_size u32 | uncompressed_size u32 | crc32c u32 | payload
//
//   The uncompressed payload of a granule frame (part_encoding.h) is, by column type:
//     integer-like, kPlain:      rows x fixed-width little-endian values
//     integer-like, kPack:       varint base | miniblocks
//     integer-like, kDeltaPack:  varint first | varint base | miniblocks
//       miniblock (32 values):   width u8 (bit 7: own reference) | [varint ref - base] |
//                                ceil(32 x width / 8) bytes of bit-packed (key - ref)
//     Float32/Float64:           rows x IEEE-754 values
//     String:                    rows x varint length | all characters
//     FixedString(N):            rows x N bytes
//     LowCardinality(String):    the rows' dictionary indices as an integer-like stream
//     Nullable(T):               ceil(rows / 8) bytes null bitmap (bit i = row i is NULL) |
//                                T's payload (NULL rows hold T's default)
//   The dictionary frame's payload: varint count | count x lp string.
//
// Checksummed envelope shared by <c>.mrk, primary.idx and part.meta:
//
//   +-----------+-------------+-----------------+-------------------+--------------------+
//   | magic u32 | version u32 | body_length u64 | body              | crc32c u32 masked  |
//   +-----------+-------------+-----------------+-------------------+--------------------+
//   0           4             8                 16                  16 + body_length
//   (the CRC covers every byte before it)
//
// <c>.mrk body ("THMK"):  count u64 (= G + 1) | count x offset u64 into <c>.bin
//   mark[g] is where granule g's frame starts; mark[G] is the size of <c>.bin.
//
// primary.idx body ("THPI"):  varint rows (= 2G) | varint K |
//   K x ( lp key column name | lp type text | lp Column::Serialize of `rows` values )
//   Rows 2g and 2g + 1 are the sort keys of the first and the last row of granule g.
//
// part.meta body ("THPM"):
//   lp partition_id | varint rows | varint granularity | varint min_block | varint max_block |
//   varint level | codec u8 |
//   varint C | C x ( lp name | lp type text | transform u8 | varint bytes of <c>.bin ) |
//   varint K | K x ( lp sort-key column | value min | value max ) |
//   varint M | M x ( lp column | value min | value max ) |
//   varint zigzag ttl_min | varint zigzag ttl_max | varint bytes of primary.idx
//   value = kind u8 (0 NULL, 1 Int, 2 UInt, 3 Float, 4 String) | zigzag varint | varint |
//           fixed64 IEEE-754 bits | lp bytes
//
// Publish protocol: every file is written in "<parent>/tmp_<name>", fsynced and closed; the
// temporary directory is fsynced, renamed to "<parent>/<name>" and the parent is fsynced. A
// crash leaves either no "<name>" or the whole part; a leftover "tmp_*" is garbage.
//
// Thread-safety: WritePart is a free function with no shared state; concurrent calls must use
// distinct directories.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/compression.h"
#include "engine/part_encoding.h"
#include "engine/part_format.h"
#include "env/env.h"
#include "types/block.h"

namespace trackhouse::engine {

struct PartWriteOptions {
  // Partition of every row of the block ("all" for an unpartitioned table).
  std::string partition_id = "all";
  // Names of the ORDER BY columns, in key order; the block must be sorted by them.
  std::vector<std::string> sort_key;
  // Block-number range and merge level, recorded in the meta (ClickHouse part naming).
  uint64_t min_block = 0;
  uint64_t max_block = 0;
  uint32_t level = 0;
  // Rows per granule (ClickHouse's index_granularity). Default 8192.
  uint32_t granularity = kDefaultGranularity;
  // Codec of every frame. Default LZ4.
  Codec codec = Codec::kLZ4;
  // ZSTD level; 0 means kDefaultZstdLevel.
  int compression_level = 0;
  // Further columns to record min/max for (e.g. a String partition or TTL column). Integer,
  // float, time, LowCardinality and sort-key columns always get one.
  std::vector<std::string> minmax_columns;
  // Min/max of the table's TTL expression over the block (unix seconds), 0 if none.
  int64_t ttl_min = 0;
  int64_t ttl_max = 0;
  // Checks that the block is sorted by sort_key (InvalidArgument naming the first row out of
  // order). Costs a few ns per row. Default on.
  bool verify_sorted = true;
  // Forces a transform per column instead of the automatic choice (tests and benchmarks).
  std::map<std::string, Transform> transforms;
};

// Writes `sorted_block` as the part directory `dir_final` (whose parent must exist) and returns
// its meta. InvalidArgument for an empty block, a bad option, a sort-key column that does not
// exist or an unsorted block; AlreadyExists if `dir_final` exists; otherwise the Env's errors.
// On failure nothing is published and the temporary directory is removed (best effort).
Result<PartMeta> WritePart(env::Env* env, const std::string& dir_final,
                           const types::Block& sorted_block, const PartWriteOptions& options);

}  // namespace trackhouse::engine
