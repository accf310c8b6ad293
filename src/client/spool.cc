#include "client/spool.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include "common/coding.h"
#include "common/crc32c.h"

namespace trackhouse::client {
namespace {

constexpr char kMagic[8] = {'T', 'H', 'S', 'P', 'O', 'O', 'L', '\0'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderSize = 20;
constexpr size_t kRecordHeaderSize = 9;
constexpr uint8_t kRowRecord = 1;
constexpr uint8_t kBatchRecord = 2;
constexpr uint8_t kResolvedRecord = 3;

std::string Errno(std::string_view what, const std::string& path) {
  return std::string(what) + " " + path + ": " + std::strerror(errno);
}

std::string FileHeader() {
  std::string h(kMagic, sizeof(kMagic));
  PutFixed32(&h, kVersion);
  PutFixed32(&h, 0);
  PutFixed32(&h, crc32c::Mask(crc32c::Value(h)));
  return h;
}

void PutRanges(std::string* dst, const SeqRanges& ranges) {
  PutVarint64(dst, ranges.size());
  for (const auto& [first, last] : ranges) {
    PutVarint64(dst, first);
    PutVarint64(dst, last);
  }
}

bool GetRanges(std::string_view* in, SeqRanges* ranges) {
  uint64_t n;
  if (!GetVarint64(in, &n) || n > in->size()) return false;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t first, last;
    if (!GetVarint64(in, &first) || !GetVarint64(in, &last) || first > last) return false;
    ranges->emplace_back(first, last);
  }
  return in->empty();
}

std::string EncodeRecord(uint8_t type, std::string_view payload) {
  std::string rec(kRecordHeaderSize, '\0');
  EncodeFixed32(rec.data() + 4, static_cast<uint32_t>(payload.size()));
  rec[8] = static_cast<char>(type);
  rec.append(payload);
  uint32_t crc = crc32c::Value(rec.data() + 4, rec.size() - 4);
  EncodeFixed32(rec.data(), crc32c::Mask(crc));
  return rec;
}

std::string RowPayload(uint64_t seq, std::string_view table, std::string_view json) {
  std::string p;
  PutFixed64(&p, seq);
  PutLengthPrefixed(&p, table);
  p.append(json);
  return p;
}

std::string BatchPayload(std::string_view key, const SeqRanges& seqs) {
  std::string p;
  PutLengthPrefixed(&p, key);
  PutRanges(&p, seqs);
  return p;
}

Status WriteAll(int fd, uint64_t offset, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::IOError(Errno("cannot write", path));
    data.remove_prefix(static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
  return Status::OK();
}

// Opens (creating) and locks a spool file; the fd, or IOError.
Result<int> OpenLocked(const std::string& path, int extra_flags) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | extra_flags, 0644);
  if (fd < 0) return Status::IOError(Errno("cannot open spool", path));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    Status st = Status::IOError(Errno("spool is in use by another tracker:", path));
    ::close(fd);
    return st;
  }
  return fd;
}

// Reads the records of `data` (a whole spool file) into *contents; *valid_end is where the
// readable records end (a torn tail after it is cut off by the caller).
Status ReadRecords(const std::string& path, std::string_view data, SpoolContents* contents,
                   uint64_t* valid_end) {
  auto corrupt = [&](uint64_t offset, uint64_t length, std::string_view what) {
    return Status::Corruption("spool " + path + ": record at offset " + std::to_string(offset) +
                              " (" + std::to_string(length) + " payload bytes, file " +
                              std::to_string(data.size()) + " bytes) " + std::string(what));
  };
  std::map<uint64_t, SpoolRow> live;
  std::vector<std::pair<std::string, SeqRanges>> batches;
  uint64_t offset = kHeaderSize;
  while (data.size() - offset >= kRecordHeaderSize) {
    const char* p = data.data() + offset;
    uint32_t length = DecodeFixed32(p + 4);
    if (data.size() - offset - kRecordHeaderSize < length) break;  // torn tail
    uint32_t crc = crc32c::Value(p + 4, kRecordHeaderSize - 4 + length);
    if (crc32c::Unmask(DecodeFixed32(p)) != crc) {
      return corrupt(offset, length, "fails its checksum");
    }
    std::string_view payload(p + kRecordHeaderSize, length);
    switch (static_cast<uint8_t>(p[8])) {
      case kRowRecord: {
        SpoolRow row;
        std::string_view table;
        if (!GetFixed64(&payload, &row.seq) || !GetLengthPrefixed(&payload, &table) ||
            row.seq == 0) {
          return corrupt(offset, length, "is not a valid row");
        }
        row.table = table;
        row.json = payload;
        contents->max_seq = std::max(contents->max_seq, row.seq);
        live[row.seq] = std::move(row);
        break;
      }
      case kBatchRecord: {
        std::string_view key;
        SeqRanges ranges;
        if (!GetLengthPrefixed(&payload, &key) || !GetRanges(&payload, &ranges)) {
          return corrupt(offset, length, "is not a valid batch");
        }
        batches.emplace_back(std::string(key), std::move(ranges));
        break;
      }
      case kResolvedRecord: {
        SeqRanges ranges;
        if (!GetRanges(&payload, &ranges)) return corrupt(offset, length, "is not a valid range");
        for (const auto& [first, last] : ranges) {
          live.erase(live.lower_bound(first), live.upper_bound(last));
        }
        break;
      }
      default:
        return corrupt(offset, length, "has an unknown type " + std::to_string(uint8_t(p[8])));
    }
    offset += kRecordHeaderSize + length;
  }
  *valid_end = offset;
  // A live row belongs to the first batch record that names it.
  std::set<uint64_t> claimed;
  for (auto& [key, ranges] : batches) {
    SpoolBatch batch;
    batch.key = key;
    for (const auto& [first, last] : ranges) {
      for (auto it = live.lower_bound(first); it != live.end() && it->first <= last; ++it) {
        if (claimed.insert(it->first).second) batch.seqs.push_back(it->first);
      }
    }
    if (!batch.seqs.empty()) contents->batches.push_back(std::move(batch));
  }
  for (auto& [seq, row] : live) contents->rows.push_back(std::move(row));
  return Status::OK();
}

}  // namespace

void AddSeq(SeqRanges* ranges, uint64_t seq) {
  if (!ranges->empty() && ranges->back().second + 1 == seq) {
    ranges->back().second = seq;
  } else {
    ranges->emplace_back(seq, seq);
  }
}

Result<std::unique_ptr<Spool>> Spool::Open(const std::string& path, SpoolContents* contents) {
  Result<int> fd = OpenLocked(path, 0);
  if (!fd.ok()) return fd.status();
  std::unique_ptr<Spool> spool(new Spool(path, *fd, 0));
  struct stat sb {};
  if (::fstat(*fd, &sb) != 0) return Status::IOError(Errno("cannot stat", path));
  std::string data(static_cast<size_t>(sb.st_size), '\0');
  size_t got = 0;
  while (got < data.size()) {
    ssize_t n = ::pread(*fd, data.data() + got, data.size() - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::IOError(Errno("cannot read", path));
    got += static_cast<size_t>(n);
  }
  std::string header = FileHeader();
  if (data.size() < kHeaderSize) {
    // New, or its creation was cut short: start it afresh.
    if (::ftruncate(*fd, 0) != 0) return Status::IOError(Errno("cannot truncate", path));
    if (Status st = WriteAll(*fd, 0, header, path); !st.ok()) return st;
    spool->size_ = header.size();
    return spool;
  }
  if (data.compare(0, 8, header, 0, 8) != 0) {
    return Status::Corruption("spool " + path + ": not a trackhouse spool file (bad magic)");
  }
  if (DecodeFixed32(data.data() + 8) != kVersion) {
    return Status::Corruption("spool " + path + ": unsupported format version " +
                              std::to_string(DecodeFixed32(data.data() + 8)));
  }
  if (data.compare(0, kHeaderSize, header) != 0) {
    return Status::Corruption("spool " + path + ": file header fails its checksum");
  }
  uint64_t valid_end = kHeaderSize;
  if (Status st = ReadRecords(path, data, contents, &valid_end); !st.ok()) return st;
  if (valid_end < data.size() && ::ftruncate(*fd, static_cast<off_t>(valid_end)) != 0) {
    return Status::IOError(Errno("cannot truncate", path));
  }
  spool->size_ = valid_end;
  return spool;
}

Spool::~Spool() { ::close(fd_); }

Status Spool::AppendRecord(uint8_t type, std::string_view payload) {
  std::string rec = EncodeRecord(type, payload);
  Status st = WriteAll(fd_, size_, rec, path_);
  if (!st.ok()) {
    // Do not leave half a record for the next append to follow.
    if (::ftruncate(fd_, static_cast<off_t>(size_)) != 0) {
      return Status::IOError(st.message() + "; " + Errno("cannot truncate", path_));
    }
    return st;
  }
  size_ += rec.size();
  return Status::OK();
}

Status Spool::AppendRow(uint64_t seq, std::string_view table, std::string_view json) {
  return AppendRecord(kRowRecord, RowPayload(seq, table, json));
}

Status Spool::AppendBatch(std::string_view key, const SeqRanges& seqs) {
  return AppendRecord(kBatchRecord, BatchPayload(key, seqs));
}

Status Spool::AppendResolved(const SeqRanges& seqs) {
  std::string p;
  PutRanges(&p, seqs);
  return AppendRecord(kResolvedRecord, p);
}

Status Spool::Sync() {
  if (::fdatasync(fd_) != 0) return Status::IOError(Errno("cannot sync", path_));
  return Status::OK();
}

Status Spool::Clear() {
  if (::ftruncate(fd_, static_cast<off_t>(kHeaderSize)) != 0) {
    return Status::IOError(Errno("cannot truncate", path_));
  }
  size_ = kHeaderSize;
  return Status::OK();
}

Status Spool::Rewrite(const std::vector<SpoolRow>& rows,
                      const std::vector<std::pair<std::string, SeqRanges>>& batches) {
  std::string data = FileHeader();
  for (const SpoolRow& row : rows) {
    data += EncodeRecord(kRowRecord, RowPayload(row.seq, row.table, row.json));
  }
  for (const auto& [key, seqs] : batches)
    data += EncodeRecord(kBatchRecord, BatchPayload(key, seqs));
  std::string tmp = path_ + ".tmp";
  Result<int> fd = OpenLocked(tmp, O_TRUNC);
  if (!fd.ok()) return fd.status();
  Status st = WriteAll(*fd, 0, data, tmp);
  if (st.ok() && ::fdatasync(*fd) != 0) st = Status::IOError(Errno("cannot sync", tmp));
  if (st.ok() && ::rename(tmp.c_str(), path_.c_str()) != 0) {
    st = Status::IOError(Errno("cannot rename " + tmp + " to", path_));
  }
  if (!st.ok()) {
    ::close(*fd);
    ::unlink(tmp.c_str());
    return st;
  }
  // Make the rename durable.
  std::string dir = std::filesystem::path(path_).parent_path().string();
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  ::close(fd_);
  fd_ = *fd;
  size_ = data.size();
  return Status::OK();
}

}  // namespace trackhouse::client
