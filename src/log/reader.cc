#include "log/reader.h"

#include <lz4.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "common/coding.h"
#include "common/crc32c.h"
#include "common/metrics.h"
#include "log/format.h"

namespace trackhouse::log {
namespace {

using format::kRecordHeaderSize;
using format::kSegmentHeaderSize;

metrics::Counter& TornTailCounter() {
  static metrics::Counter& c = metrics::GetCounter(
      "trackhouse_log_torn_tail_total", "Log segments that ended in a torn tail on recovery");
  return c;
}

std::string Str(uint64_t v) { return std::to_string(v); }

// Checks the record at data[pos]: complete, sane fields, checksum. On failure says why in
// *why (when not null).
bool CheckRecord(std::string_view data, size_t pos, format::RecordHeader* h, std::string* why) {
  const size_t left = data.size() - pos;
  if (left < kRecordHeaderSize) {
    if (why)
      *why = "incomplete record header: " + Str(left) + " of " + Str(kRecordHeaderSize) + " bytes";
    return false;
  }
  const char* p = data.data() + pos;
  *h = format::DecodeRecordHeader(p);
  if ((h->flags & ~format::kKnownFlags) != 0) {
    if (why) *why = "unknown record flags " + Str(h->flags);
    return false;
  }
  if (h->raw_length > format::kMaxPayloadBytes ||
      (!(h->flags & format::kFlagLz4) && h->raw_length != h->length)) {
    if (why)
      *why = "inconsistent lengths: stored " + Str(h->length) + ", raw " + Str(h->raw_length);
    return false;
  }
  if (h->length > left - kRecordHeaderSize) {
    if (why) {
      *why = "incomplete record: header claims " + Str(h->length) + " payload bytes, " +
             Str(left - kRecordHeaderSize) + " remain";
    }
    return false;
  }
  const uint32_t payload_crc = crc32c::Value(p + kRecordHeaderSize, h->length);
  if (format::RecordCrc(payload_crc, p) != h->masked_crc) {
    if (why) *why = "checksum mismatch over " + Str(kRecordHeaderSize + h->length) + " bytes";
    return false;
  }
  return true;
}

// Decides what follows the bad record at data[bad_pos], whose LSN should have been `expected`:
// OK if it is a torn tail (only garbage or records of the bad record's own write group
// follow), Corruption if a record of a later write group follows.
Status CheckTornTail(const std::string& path, std::string_view data, size_t bad_pos,
                     uint64_t expected, uint64_t segment_first, const std::string& why) {
  const uint64_t max_records = (data.size() - bad_pos) / kRecordHeaderSize;
  size_t pos = bad_pos + 1;
  while (pos + kRecordHeaderSize <= data.size()) {
    // Cheap filters first: a plausible LSN, then the full check.
    const uint64_t lsn = DecodeFixed64(data.data() + pos + 8);
    format::RecordHeader h;
    if (lsn < expected || lsn - expected > max_records || !CheckRecord(data, pos, &h, nullptr) ||
        h.group_pos > lsn - segment_first) {
      ++pos;
      continue;
    }
    if (lsn - h.group_pos > expected) {
      return Status::Corruption("log segment " + path + ": bad record at offset " + Str(bad_pos) +
                                " (" + why + "; segment is " + Str(data.size()) +
                                " bytes) is followed by a valid record of a later "
                                "write group at offset " +
                                Str(pos) + " (LSN " + Str(lsn) + ", " + Str(h.length) +
                                " bytes; expected LSN " + Str(expected) + ")");
    }
    pos += kRecordHeaderSize + h.length;  // same unacknowledged group: part of the torn tail
  }
  return Status::OK();
}

struct Segment {
  uint64_t first_lsn;
  std::string name;
};

class Recovery {
 public:
  Recovery(env::Env* env, const std::string& dir, uint64_t from_lsn, const RecordFn& fn)
      : env_(env), dir_(dir), from_lsn_(std::max<uint64_t>(from_lsn, 1)), fn_(fn) {}

  Result<RecoveryResult> Run() {
    RecoveryResult result;
    if (!env_->FileExists(dir_)) {
      result.next_lsn = result.oldest_lsn = from_lsn_;
      return result;
    }
    TH_ASSIGN_OR_RETURN(std::vector<Segment> segments, ListSegments());
    // Segment i holds LSNs [first_i, first_{i+1}); skip those wholly before from_lsn.
    size_t start = 0;
    while (start + 1 < segments.size() && segments[start + 1].first_lsn <= from_lsn_) ++start;
    expected_ = segments.empty() ? 1 : segments[start].first_lsn;
    for (size_t i = start; i < segments.size(); ++i) {
      TH_RETURN_IF_ERROR(ReadSegment(segments[i], i + 1 == segments.size(), &result));
    }
    result.next_lsn = std::max(expected_, from_lsn_);
    result.oldest_lsn = segments.empty() ? result.next_lsn : segments[start].first_lsn;
    return result;
  }

 private:
  Result<std::vector<Segment>> ListSegments() {
    TH_ASSIGN_OR_RETURN(std::vector<std::string> names, env_->GetChildren(dir_));
    std::vector<Segment> segments;
    for (std::string& name : names) {
      uint64_t first = 0;
      if (format::ParseSegmentFileName(name, &first)) segments.push_back({first, std::move(name)});
    }
    std::sort(segments.begin(), segments.end(),
              [](const Segment& a, const Segment& b) { return a.first_lsn < b.first_lsn; });
    return segments;
  }

  Status ReadSegment(const Segment& seg, bool is_last, RecoveryResult* result) {
    const std::string path = env::JoinPath(dir_, seg.name);
    TH_ASSIGN_OR_RETURN(auto file, env_->NewRandomAccessFile(path));
    TH_RETURN_IF_ERROR(file->Read(0, file->Size(), &data_));
    const std::string_view data = data_;

    if (seg.first_lsn != expected_) {
      return Status::Corruption("log segment " + path + " starts at LSN " + Str(seg.first_lsn) +
                                " but the previous segment ends before LSN " + Str(expected_) +
                                (seg.first_lsn > expected_ ? " (records missing)" : " (overlap)"));
    }
    Status header = CheckSegmentHeader(path, data, seg.first_lsn);
    if (!header.ok()) {
      // A writer syncs a new segment's header before anything else, so only a crash during
      // that can leave the newest segment shorter than its header.
      if (!is_last || data.size() > kSegmentHeaderSize ||
          header.code() != StatusCode::kCorruption) {
        return header;
      }
      result->torn_tail_bytes += data.size();
      TornTailCounter().Add();
      return Status::OK();
    }

    size_t pos = kSegmentHeaderSize;
    while (pos < data.size()) {
      format::RecordHeader h;
      std::string why;
      if (!CheckRecord(data, pos, &h, &why)) {
        TH_RETURN_IF_ERROR(CheckTornTail(path, data, pos, expected_, seg.first_lsn, why));
        result->torn_tail_bytes += data.size() - pos;
        TornTailCounter().Add();
        return Status::OK();
      }
      if (h.lsn != expected_) {
        return Status::Corruption("log segment " + path + ": record at offset " + Str(pos) + " (" +
                                  Str(h.length) + " bytes) has LSN " + Str(h.lsn) + ", expected " +
                                  Str(expected_));
      }
      if (h.lsn >= from_lsn_) {
        std::string_view payload = data.substr(pos + kRecordHeaderSize, h.length);
        if (h.flags & format::kFlagLz4) {
          TH_ASSIGN_OR_RETURN(payload, Decompress(path, pos, h, payload));
        }
        TH_RETURN_IF_ERROR(fn_(h.lsn, payload));
        ++result->records;
        result->bytes += payload.size();
      }
      ++expected_;
      pos += kRecordHeaderSize + h.length;
    }
    return Status::OK();
  }

  static Status CheckSegmentHeader(const std::string& path, std::string_view data,
                                   uint64_t first_lsn) {
    if (data.size() < kSegmentHeaderSize) {
      return Status::Corruption("log segment " + path + ": " + Str(data.size()) +
                                " bytes, too short for its " + Str(kSegmentHeaderSize) +
                                "-byte header");
    }
    const char* p = data.data();
    if (std::memcmp(p, format::kSegmentMagic, sizeof(format::kSegmentMagic)) != 0 ||
        crc32c::Mask(crc32c::Value(p, 28)) != DecodeFixed32(p + 28)) {
      return Status::Corruption("log segment " + path + ": bad segment header (magic or " +
                                "checksum) at offset 0, " + Str(kSegmentHeaderSize) + " bytes");
    }
    if (uint32_t version = DecodeFixed32(p + 8); version != format::kFormatVersion) {
      return Status::NotSupported("log segment " + path + ": format version " + Str(version) +
                                  ", this build reads version " + Str(format::kFormatVersion));
    }
    if (uint64_t header_lsn = DecodeFixed64(p + 16); header_lsn != first_lsn) {
      return Status::Corruption("log segment " + path + ": header says first LSN " +
                                Str(header_lsn) + " but the file name says " + Str(first_lsn));
    }
    return Status::OK();
  }

  Result<std::string_view> Decompress(const std::string& path, size_t pos,
                                      const format::RecordHeader& h, std::string_view stored) {
    if (h.raw_length > raw_capacity_) {
      raw_capacity_ = std::max<size_t>(h.raw_length, raw_capacity_ * 2);
      raw_ = std::make_unique_for_overwrite<char[]>(raw_capacity_);
    }
    int n = LZ4_decompress_safe(stored.data(), raw_.get(), static_cast<int>(stored.size()),
                                static_cast<int>(h.raw_length));
    if (n < 0 || static_cast<uint32_t>(n) != h.raw_length) {
      return Status::Corruption("log segment " + path + ": record at offset " + Str(pos) +
                                " (LSN " + Str(h.lsn) + "): LZ4 payload of " + Str(h.length) +
                                " bytes does not decompress to its " + Str(h.raw_length) +
                                " bytes");
    }
    return std::string_view(raw_.get(), h.raw_length);
  }

  env::Env* const env_;
  const std::string& dir_;
  const uint64_t from_lsn_;
  const RecordFn& fn_;
  uint64_t expected_ = 1;        // the LSN the next record must have
  std::string data_;             // the segment being read, reused
  std::unique_ptr<char[]> raw_;  // decompression buffer, reused
  size_t raw_capacity_ = 0;
};

}  // namespace

Result<RecoveryResult> Recover(env::Env* env, const std::string& dir, uint64_t from_lsn,
                               const RecordFn& fn) {
  return Recovery(env, dir, from_lsn, fn).Run();
}

}  // namespace trackhouse::log
