#include "delivery/records.h"

#include <fmt/format.h>

#include "common/coding.h"
#include "common/crc32c.h"
#include "delivery/codec.h"
#include "types/block_codec.h"

namespace trackhouse::delivery {
namespace {

constexpr uint8_t kSpoolInsert = 1;
constexpr uint8_t kFlagKey = 1;
constexpr std::string_view kDeadLetterMagic = "THDEADL1";
constexpr uint32_t kDeadLetterVersion = 1;

using codec::GetI64;
using codec::GetString;
using codec::GetU8;
using codec::PutI64;

// LSNs as runs: count, then per run the gap from the previous run's end and the run's length.
void PutLsns(std::string* out, const std::vector<uint64_t>& lsns) {
  std::vector<std::pair<uint64_t, uint64_t>> runs;  // first, length
  for (uint64_t lsn : lsns) {
    if (!runs.empty() && runs.back().first + runs.back().second == lsn) {
      ++runs.back().second;
    } else {
      runs.emplace_back(lsn, 1);
    }
  }
  PutVarint64(out, runs.size());
  uint64_t prev_end = 0;
  for (const auto& [first, length] : runs) {
    PutVarint64(out, first - prev_end);
    PutVarint64(out, length);
    prev_end = first + length;
  }
}
bool GetLsns(std::string_view* in, std::vector<uint64_t>* lsns) {
  uint64_t runs = 0;
  if (!GetVarint64(in, &runs) || runs > in->size()) return false;
  uint64_t prev_end = 0;
  for (uint64_t r = 0; r < runs; ++r) {
    uint64_t gap = 0, length = 0;
    if (!GetVarint64(in, &gap) || !GetVarint64(in, &length)) return false;
    if (length == 0 || length > (1ull << 32) || (r > 0 && gap == 0)) return false;
    uint64_t first = prev_end + gap;
    for (uint64_t i = 0; i < length; ++i) lsns->push_back(first + i);
    prev_end = first + length;
  }
  return true;
}

void PutBatch(std::string* out, const BatchRecord& b) {
  PutVarint64(out, b.id);
  PutLengthPrefixed(out, b.database);
  PutLengthPrefixed(out, b.table);
  PutLengthPrefixed(out, b.partition);
  PutLengthPrefixed(out, b.layout);
  out->push_back(static_cast<char>(b.mechanism));
  PutI64(out, b.block_mark);
  PutLengthPrefixed(out, b.query_id);
  PutLengthPrefixed(out, b.token);
  PutLengthPrefixed(out, b.shard);
  PutVarint64(out, b.rows);
  PutLsns(out, b.lsns);
}
bool GetBatch(std::string_view* in, BatchRecord* b) {
  uint8_t mechanism = 0;
  if (!GetVarint64(in, &b->id) || !GetString(in, &b->database) || !GetString(in, &b->table) ||
      !GetString(in, &b->partition) || !GetString(in, &b->layout) || !GetU8(in, &mechanism) ||
      !GetI64(in, &b->block_mark) || !GetString(in, &b->query_id) || !GetString(in, &b->token) ||
      !GetString(in, &b->shard) || !GetVarint64(in, &b->rows) || !GetLsns(in, &b->lsns)) {
    return false;
  }
  if (mechanism < 1 || mechanism > 4) return false;
  b->mechanism = static_cast<Mechanism>(mechanism);
  return true;
}
bool ValidOutcome(uint8_t v) { return v >= 1 && v <= 3; }

}  // namespace

std::string_view MechanismName(Mechanism m) {
  switch (m) {
    case Mechanism::kDeduplicationToken:
      return "insert_deduplication_token";
    case Mechanism::kBlockHash:
      return "replicated_block_hash";
    case Mechanism::kBlockNumber:
      return "block_number";
    case Mechanism::kAtLeastOnce:
      return "at_least_once";
  }
  return "unknown";
}

std::string BlockLayout(const types::Block& block) {
  std::string out;
  for (const auto& c : block.columns()) {
    if (!out.empty()) out += ", ";
    out += c.name;
    out += ' ';
    out += c.type->name();
  }
  return out;
}

void EncodeSpoolRecord(const SpoolRecord& record, std::string* out) {
  out->push_back(static_cast<char>(kSpoolInsert));
  out->push_back(static_cast<char>(record.key ? kFlagKey : 0));
  PutI64(out, record.accepted_micros);
  PutLengthPrefixed(out, record.database);
  PutLengthPrefixed(out, record.table);
  PutLengthPrefixed(out, record.cluster);
  if (record.key) {
    PutLengthPrefixed(out, record.key->key);
    PutLengthPrefixed(out, record.key->answer);
    PutI64(out, record.key->time_micros);
  }
  PutVarint64(out, record.slices.size());
  std::string block;
  for (const auto& s : record.slices) {
    PutLengthPrefixed(out, s.partition);
    block.clear();
    types::SerializeBlock(s.block, &block);
    PutLengthPrefixed(out, block);
  }
}

Result<SpoolRecord> DecodeSpoolRecord(std::string_view payload, std::string_view source) {
  auto bad = [&](std::string_view what) {
    return Status::Corruption(fmt::format("{}: spool record is damaged: {}", source, what));
  };
  std::string_view in = payload;
  uint8_t kind = 0, flags = 0;
  if (!GetU8(&in, &kind) || !GetU8(&in, &flags)) return bad("shorter than its header");
  if (kind != kSpoolInsert) return bad(fmt::format("unknown kind {}", kind));
  if ((flags & ~kFlagKey) != 0) return bad(fmt::format("unknown flags {:#x}", flags));
  SpoolRecord r;
  if (!GetI64(&in, &r.accepted_micros) || !GetString(&in, &r.database) ||
      !GetString(&in, &r.table) || !GetString(&in, &r.cluster)) {
    return bad("header cut short");
  }
  if (flags & kFlagKey) {
    storage::IdempotencyRecord key;
    if (!GetString(&in, &key.key) || !GetString(&in, &key.answer) ||
        !GetI64(&in, &key.time_micros)) {
      return bad("Idempotency-Key cut short");
    }
    r.key = std::move(key);
  }
  uint64_t slices = 0;
  if (!GetVarint64(&in, &slices) || slices > in.size()) return bad("slice count");
  for (uint64_t i = 0; i < slices; ++i) {
    SpoolSlice s;
    std::string_view block;
    if (!GetString(&in, &s.partition) || !GetLengthPrefixed(&in, &block)) {
      return bad(fmt::format("slice {} cut short", i));
    }
    auto decoded = types::DeserializeBlock(block);
    if (!decoded.ok()) return bad(fmt::format("slice {}: {}", i, decoded.status().message()));
    s.block = std::move(decoded).value();
    r.slices.push_back(std::move(s));
  }
  if (!in.empty()) return bad(fmt::format("{} bytes after the last slice", in.size()));
  return r;
}

void EncodeJournalRecord(const JournalRecord& record, std::string* out) {
  out->push_back(static_cast<char>(record.kind));
  switch (record.kind) {
    case JournalRecord::kBatch:
      PutBatch(out, record.batch);
      break;
    case JournalRecord::kDone:
      PutVarint64(out, record.done_id);
      out->push_back(static_cast<char>(record.outcome));
      break;
    case JournalRecord::kCheckpoint:
      PutVarint64(out, record.spool_handled_upto);
      PutVarint64(out, record.next_batch_id);
      PutVarint64(out, record.batches.size());
      for (const auto& [batch, outcome] : record.batches) {
        out->push_back(static_cast<char>(outcome ? static_cast<uint8_t>(*outcome) : 0));
        PutBatch(out, batch);
      }
      break;
  }
}

Result<JournalRecord> DecodeJournalRecord(std::string_view payload, std::string_view source) {
  auto bad = [&](std::string_view what) {
    return Status::Corruption(fmt::format("{}: journal record is damaged: {}", source, what));
  };
  std::string_view in = payload;
  uint8_t kind = 0;
  if (!GetU8(&in, &kind)) return bad("empty");
  JournalRecord r;
  switch (kind) {
    case JournalRecord::kBatch:
      r.kind = JournalRecord::kBatch;
      if (!GetBatch(&in, &r.batch)) return bad("batch cut short or invalid");
      break;
    case JournalRecord::kDone: {
      r.kind = JournalRecord::kDone;
      uint8_t outcome = 0;
      if (!GetVarint64(&in, &r.done_id) || !GetU8(&in, &outcome) || !ValidOutcome(outcome)) {
        return bad("outcome cut short or invalid");
      }
      r.outcome = static_cast<BatchOutcome>(outcome);
      break;
    }
    case JournalRecord::kCheckpoint: {
      r.kind = JournalRecord::kCheckpoint;
      uint64_t n = 0;
      if (!GetVarint64(&in, &r.spool_handled_upto) || !GetVarint64(&in, &r.next_batch_id) ||
          !GetVarint64(&in, &n) || n > in.size()) {
        return bad("checkpoint header");
      }
      for (uint64_t i = 0; i < n; ++i) {
        uint8_t outcome = 0;
        BatchRecord b;
        if (!GetU8(&in, &outcome) || (outcome != 0 && !ValidOutcome(outcome)) ||
            !GetBatch(&in, &b)) {
          return bad(fmt::format("checkpoint batch {} cut short or invalid", i));
        }
        std::optional<BatchOutcome> o;
        if (outcome != 0) o = static_cast<BatchOutcome>(outcome);
        r.batches.emplace_back(std::move(b), o);
      }
      break;
    }
    default:
      return bad(fmt::format("unknown kind {}", kind));
  }
  if (!in.empty()) return bad(fmt::format("{} bytes after its end", in.size()));
  return r;
}

std::string EncodeDeadLetter(const DeadLetter& letter) {
  std::string out(kDeadLetterMagic);
  PutFixed32(&out, kDeadLetterVersion);
  std::string header;
  PutLengthPrefixed(&header, letter.database);
  PutLengthPrefixed(&header, letter.table);
  PutLengthPrefixed(&header, letter.partition);
  PutI64(&header, letter.server_code);
  PutLengthPrefixed(&header, letter.server_message);
  PutI64(&header, letter.time_micros);
  PutVarint64(&header, letter.batch_id);
  PutVarint64(&header, letter.block.rows());
  PutLsns(&header, letter.lsns);
  PutLengthPrefixed(&out, header);
  std::string block;
  types::SerializeBlock(letter.block, &block);
  PutLengthPrefixed(&out, block);
  PutFixed32(&out, crc32c::Value(out.data(), out.size()));
  return out;
}

Result<DeadLetter> DecodeDeadLetter(std::string_view data, std::string_view path) {
  auto bad = [&](std::string_view what) {
    return Status::Corruption(fmt::format("dead letter {} is damaged: {}", path, what));
  };
  if (data.size() < kDeadLetterMagic.size() + 8 || data.substr(0, 8) != kDeadLetterMagic) {
    return bad("not a trackhouse dead-letter file (magic THDEADL1)");
  }
  const uint32_t stored = DecodeFixed32(data.data() + data.size() - 4);
  if (crc32c::Value(data.data(), data.size() - 4) != stored) return bad("checksum mismatch");
  std::string_view in = data.substr(8, data.size() - 12);
  uint32_t version = 0;
  if (!GetFixed32(&in, &version)) return bad("no version");
  if (version != kDeadLetterVersion) {
    return Status::NotSupported(
        fmt::format("dead letter {} has format version {}, this trackhouse reads {}", path, version,
                    kDeadLetterVersion));
  }
  std::string_view header, block;
  if (!GetLengthPrefixed(&in, &header) || !GetLengthPrefixed(&in, &block) || !in.empty()) {
    return bad("sections cut short");
  }
  DeadLetter d;
  int64_t code = 0;
  if (!GetString(&header, &d.database) || !GetString(&header, &d.table) ||
      !GetString(&header, &d.partition) || !GetI64(&header, &code) ||
      !GetString(&header, &d.server_message) || !GetI64(&header, &d.time_micros) ||
      !GetVarint64(&header, &d.batch_id) || !GetVarint64(&header, &d.rows) ||
      !GetLsns(&header, &d.lsns) || !header.empty()) {
    return bad("header cut short");
  }
  d.server_code = static_cast<int>(code);
  auto decoded = types::DeserializeBlock(block);
  if (!decoded.ok()) return bad(decoded.status().message());
  d.block = std::move(decoded).value();
  if (d.block.rows() != d.rows) {
    return bad(fmt::format("header says {} rows, block holds {}", d.rows, d.block.rows()));
  }
  return d;
}

}  // namespace trackhouse::delivery
