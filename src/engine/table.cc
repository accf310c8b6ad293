#include "engine/table.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <numeric>
#include <set>
#include <thread>

#include "common/coding.h"
#include "common/crc32c.h"
#include "common/metrics.h"
#include "engine/merge_rules.h"
#include "engine/part_writer.h"
#include "engine/sort.h"
#include "types/convert.h"
#include "types/datetime.h"

namespace trackhouse::engine {
namespace {

constexpr char kStateFile[] = "state";
constexpr char kStateMagic[] = "THSTATE1";

metrics::Counter& FlushCounter() {
  static auto& c = metrics::GetCounter("trackhouse_engine_flushes_total", "Memtable flushes");
  return c;
}
metrics::Counter& MergeCounter() {
  static auto& c = metrics::GetCounter("trackhouse_engine_merges_total", "Part merges");
  return c;
}
metrics::Gauge& FlushesRunning() {
  static auto& g =
      metrics::GetGauge("trackhouse_engine_flushes_running", "Memtable flushes in progress");
  return g;
}
metrics::Gauge& MergesRunning() {
  static auto& g = metrics::GetGauge("trackhouse_engine_merges_running", "Merges in progress");
  return g;
}

// Increments a gauge for the lifetime of the scope.
class GaugeScope {
 public:
  explicit GaugeScope(metrics::Gauge& g) : g_(g) { g_.Add(1); }
  ~GaugeScope() { g_.Add(-1); }

 private:
  metrics::Gauge& g_;
};

metrics::Counter& MaintenanceErrors() {
  static auto& c = metrics::GetCounter("trackhouse_engine_background_errors_total",
                                       "Failed background flushes, merges and TTL runs");
  return c;
}

std::string PartDirName(const std::string& partition, uint64_t min_block, uint64_t max_block,
                        uint32_t level, uint64_t mutation) {
  return fmt::format("{}_{}_{}_{}_{}", partition, min_block, max_block, level, mutation);
}

// Parses "<partition>_<min>_<max>_<level>_<mutation>"; partition ids contain no '_'.
bool ParsePartDirName(const std::string& name, ActivePart* out) {
  std::vector<std::string> f;
  size_t start = 0;
  for (size_t i = 0; i <= name.size(); ++i) {
    if (i == name.size() || name[i] == '_') {
      f.push_back(name.substr(start, i - start));
      start = i + 1;
    }
  }
  if (f.size() != 5 || f[0].empty()) return false;
  try {
    out->partition = f[0];
    out->min_block = std::stoull(f[1]);
    out->max_block = std::stoull(f[2]);
    out->level = static_cast<uint32_t>(std::stoul(f[3]));
    out->mutation = std::stoull(f[4]);
  } catch (...) {
    return false;
  }
  out->dir_name = name;
  return out->min_block <= out->max_block;
}

// True if a makes b redundant: a's block range contains b's and a is a later result (a merge
// over a wider range, or a later mutation of the same range).
bool Covers(const ActivePart& a, const ActivePart& b) {
  if (a.partition != b.partition || &a == &b) return false;
  if (a.min_block > b.min_block || a.max_block < b.max_block) return false;
  bool same_range = a.min_block == b.min_block && a.max_block == b.max_block;
  if (!same_range) return true;
  return a.level > b.level || (a.level == b.level && a.mutation > b.mutation);
}

}  // namespace

// Partition id text of a partition-expression value: dates as YYYYMMDD, numbers in decimal,
// strings as themselves when made of [A-Za-z0-9-], else a hex hash.
std::string PartitionIdOf(const types::Value& v, const types::DataType& type) {
  const types::DataType& t = type.Unwrapped();
  if (v.is_null()) return "null";
  if (t.id() == types::TypeId::kDate) {
    types::CivilDate c = types::CivilFromDays(static_cast<int64_t>(v.AsUInt()));
    return fmt::format("{:04}{:02}{:02}", c.year, c.month, c.day);
  }
  if (t.id() == types::TypeId::kDateTime) return std::to_string(v.AsUInt());
  if (v.kind() == types::Value::Kind::kString) {
    const std::string& s = v.string_value();
    bool plain = !s.empty() && s.size() <= 64;
    for (char c : s) plain &= std::isalnum(static_cast<unsigned char>(c)) || c == '-';
    if (plain) return s;
    return fmt::format("{:08x}", crc32c::Value(s));
  }
  if (v.kind() == types::Value::Kind::kFloat) return fmt::format("{}", v.float_value());
  std::string s = v.ToString();
  for (char& c : s) {
    if (c == '_') c = '-';
  }
  return s;
}

Table::Table(TableDefPtr def, std::string dir, env::Env* env, Clock* clock,
             const EngineOptions& options, WriterPriorityMutex* commit_mu)
    : dir_(std::move(dir)),
      env_(env),
      clock_(clock),
      options_(options),
      commit_mu_(commit_mu),
      def_(std::move(def)),
      memtable_(std::make_shared<MemTable>()),
      version_(std::make_shared<Version>()) {}

TableDefPtr Table::def() const {
  std::lock_guard lock(def_mu_);
  return def_;
}

void Table::SetDef(TableDefPtr def) {
  std::lock_guard lock(def_mu_);
  def_ = std::move(def);
}

Status Table::Create() {
  TH_RETURN_IF_ERROR(env::CreateDirsDurably(env_, dir_));
  std::lock_guard lock(maintenance_mu_);
  return WriteState();
}

// state file: magic "THSTATE1" | fixed64 persisted_lsn | fixed64 next_block |
// fixed64 next_mutation | fixed32 masked crc32c of the preceding bytes.
Status Table::WriteState(bool* replaced) {
  if (replaced != nullptr) *replaced = false;
  std::string data(kStateMagic);
  PutFixed64(&data, persisted_lsn_.load());
  PutFixed64(&data, next_block_);
  PutFixed64(&data, next_mutation_);
  PutFixed32(&data, crc32c::Mask(crc32c::Value(data)));
  std::string tmp = env::JoinPath(dir_, "state.tmp");
  Status s = env_->WriteStringToFileSync(tmp, data);
  if (!s.ok()) {
    // A full disk may have left part of it; Load removes it too.
    env_->RemoveFile(tmp).IgnoreError();
    return s;
  }
  TH_RETURN_IF_ERROR(env_->RenameFile(tmp, env::JoinPath(dir_, kStateFile)));
  if (replaced != nullptr) *replaced = true;
  return env_->SyncDir(dir_);
}

Status Table::LoadState() {
  std::string path = env::JoinPath(dir_, kStateFile);
  std::string data;
  TH_RETURN_IF_ERROR(env_->ReadFileToString(path, &data));
  constexpr size_t kSize = 8 + 8 * 3 + 4;
  if (data.size() != kSize || data.compare(0, 8, kStateMagic) != 0) {
    return Status::Corruption(
        fmt::format("{}: bad table state file: {} bytes, expected {}", path, data.size(), kSize));
  }
  uint32_t crc = crc32c::Unmask(DecodeFixed32(data.data() + kSize - 4));
  if (crc != crc32c::Value(data.data(), kSize - 4)) {
    return Status::Corruption(fmt::format("{}: checksum mismatch at offset {}", path, kSize - 4));
  }
  persisted_lsn_ = DecodeFixed64(data.data() + 8);
  std::lock_guard lock(maintenance_mu_);
  next_block_ = DecodeFixed64(data.data() + 16);
  next_mutation_ = DecodeFixed64(data.data() + 24);
  return Status::OK();
}

Status Table::Load() {
  TH_RETURN_IF_ERROR(LoadState());
  TH_ASSIGN_OR_RETURN(std::vector<std::string> children, env_->GetChildren(dir_));
  std::vector<ActivePart> found;
  uint64_t next_block;
  {
    std::lock_guard lock(maintenance_mu_);
    next_block = next_block_;
  }
  for (const auto& name : children) {
    std::string path = env::JoinPath(dir_, name);
    if (name == kStateFile) continue;
    if (name.rfind("tmp_", 0) == 0 || name.rfind("delete_", 0) == 0 || name == "state.tmp") {
      // Leftovers of an interrupted write or removal.
      if (env_->IsDirectory(path)) {
        TH_RETURN_IF_ERROR(env_->RemoveDirRecursively(path));
      } else {
        TH_RETURN_IF_ERROR(env_->RemoveFile(path));
      }
      continue;
    }
    ActivePart p;
    if (!env_->IsDirectory(path) || !ParsePartDirName(name, &p)) continue;
    if (p.max_block >= next_block) {
      // Written by a flush that did not commit: its rows are still in the log.
      TH_RETURN_IF_ERROR(env_->RemoveDirRecursively(path));
      continue;
    }
    found.push_back(std::move(p));
  }
  // Drop parts covered by a merged or mutated part.
  std::vector<ActivePart> active;
  for (const auto& p : found) {
    bool covered = false;
    for (const auto& q : found) covered |= Covers(q, p);
    if (covered) {
      TH_RETURN_IF_ERROR(env_->RemoveDirRecursively(env::JoinPath(dir_, p.dir_name)));
    } else {
      active.push_back(p);
    }
  }
  for (auto& p : active) {
    auto part = Part::Open(env_, env::JoinPath(dir_, p.dir_name));
    if (!part.ok()) return part.status();
    p.part = std::move(part).value();
    p.rows = p.part->meta().rows;
  }
  std::sort(active.begin(), active.end(), [](const ActivePart& a, const ActivePart& b) {
    return std::tie(a.partition, a.min_block) < std::tie(b.partition, b.min_block);
  });
  auto v = std::make_shared<Version>();
  v->parts = std::move(active);
  std::lock_guard lock(version_mu_);
  version_ = std::move(v);
  return Status::OK();
}

void Table::AddToMemTable(const types::Block& block, uint64_t lsn) {
  std::shared_ptr<MemTable> mt;
  {
    std::lock_guard lock(version_mu_);
    mt = memtable_;
  }
  mt->Add(block, lsn, clock_->MonotonicMicros());
}

Table::Snapshot Table::GetSnapshot() const {
  Snapshot s;
  s.def = def();
  std::shared_ptr<MemTable> mt, fl;
  {
    std::lock_guard lock(version_mu_);
    s.parts = version_->parts;
    mt = memtable_;
    fl = flushing_;
  }
  // A flushed memtable's rows appear in parts only after flushing_ is cleared in the same
  // version swap, so each row is seen once.
  if (fl) {
    auto b = fl->Snapshot();
    s.memory.insert(s.memory.end(), b.begin(), b.end());
  }
  auto b = mt->Snapshot();
  s.memory.insert(s.memory.end(), b.begin(), b.end());
  return s;
}

MemTable::Stats Table::memtable_stats() const {
  std::lock_guard lock(version_mu_);
  return memtable_->stats();
}

uint64_t Table::MemoryBytes() const {
  std::lock_guard lock(version_mu_);
  return memtable_->stats().bytes + (flushing_ ? flushing_->stats().bytes : 0);
}

uint64_t Table::MinUnflushedLsn() const {
  std::lock_guard lock(version_mu_);
  uint64_t m = memtable_->stats().min_lsn;
  if (flushing_) {
    uint64_t f = flushing_->stats().min_lsn;
    if (f != 0 && (m == 0 || f < m)) m = f;
  }
  return m;
}

bool Table::ShouldFlush(int64_t now, const BufferParams* buffer) const {
  MemTable::Stats st = memtable_stats();
  if (st.rows == 0) return false;
  int64_t age_ms = (now - st.first_insert_micros) / 1000;
  if (buffer != nullptr) {
    // ClickHouse's rule: flush when all minimums are reached or any maximum is.
    bool all_min = age_ms >= buffer->min_time_s * 1000 &&
                   st.rows >= static_cast<uint64_t>(buffer->min_rows) &&
                   st.bytes >= static_cast<uint64_t>(buffer->min_bytes);
    bool any_max = age_ms >= buffer->max_time_s * 1000 ||
                   st.rows >= static_cast<uint64_t>(buffer->max_rows) ||
                   st.bytes >= static_cast<uint64_t>(buffer->max_bytes);
    // The engine's own bounds still apply, so memory stays bounded.
    return all_min || any_max || st.rows >= options_.flush_rows || st.bytes >= options_.flush_bytes;
  }
  return st.rows >= options_.flush_rows || st.bytes >= options_.flush_bytes ||
         age_ms >= options_.flush_age_ms;
}

Result<std::map<std::string, types::Block>> Table::SplitByPartition(const types::Block& block,
                                                                    const TableDef& def) const {
  std::map<std::string, types::Block> out;
  if (!def.partition_expr) {
    out.emplace("all", block);
    return out;
  }
  eval::EvalContext ctx;
  ctx.now_micros = clock_->NowMicros();
  TH_ASSIGN_OR_RETURN(types::ColumnPtr col, def.partition_expr->Evaluate(block, ctx));
  const types::DataType& type = *def.partition_expr->type();
  std::map<std::string, types::Permutation> rows;
  // Partition values repeat in long runs: compare with the previous row before formatting.
  std::string prev_id;
  for (size_t i = 0; i < block.rows(); ++i) {
    if (i == 0 || col->CompareAt(i, *col, i - 1) != 0) {
      prev_id = PartitionIdOf(col->GetValue(i), type);
    }
    rows[prev_id].push_back(static_cast<uint32_t>(i));
  }
  if (rows.size() == 1) {
    out.emplace(rows.begin()->first, block);
    return out;
  }
  for (auto& [id, perm] : rows) out.emplace(id, block.Permute(perm));
  return out;
}

Result<ActivePart> Table::WriteSortedPart(const TableDef& def, types::Block block,
                                          const std::string& partition, uint64_t min_block,
                                          uint64_t max_block, uint32_t level, uint64_t mutation,
                                          bool collapse, bool apply_ttl,
                                          const std::vector<size_t>* run_starts) {
  TH_ASSIGN_OR_RETURN(types::Permutation perm, SortPermutation(block, def.sort_key, run_starts));
  block = block.Permute(perm);
  if (collapse && (def.kind == EngineKind::kReplacing || def.kind == EngineKind::kSumming)) {
    TH_ASSIGN_OR_RETURN(block, CollapseSorted(def, block));
  }
  if (apply_ttl && def.ttl_expr) {
    TH_ASSIGN_OR_RETURN(block, FilterExpired(def, block, clock_->NowMicros()));
  }
  ActivePart ap;
  ap.partition = partition;
  ap.min_block = min_block;
  ap.max_block = max_block;
  ap.level = level;
  ap.mutation = mutation;
  ap.dir_name = PartDirName(partition, min_block, max_block, level, mutation);
  ap.rows = block.rows();
  if (block.rows() == 0) return ap;  // nothing to write: the range simply has no rows left
  PartWriteOptions wo;
  wo.partition_id = partition;
  wo.sort_key = def.sort_key;
  wo.min_block = min_block;
  wo.max_block = max_block;
  wo.level = level;
  wo.granularity = def.index_granularity;
  wo.codec = options_.codec == "zstd" ? Codec::kZSTD : Codec::kLZ4;
  std::string path = env::JoinPath(dir_, ap.dir_name);
  auto meta = WritePart(env_, path, block, wo);
  if (!meta.ok()) return meta.status();
  TH_ASSIGN_OR_RETURN(auto part, Part::Open(env_, path));
  ap.part = std::move(part);
  return ap;
}

Status Table::Flush() {
  std::lock_guard lock(maintenance_mu_);
  return FlushLocked();
}

Status Table::FlushLocked() {
  // Swap the memtable while no insert is between its log append and its memtable add, so the
  // swapped-out memtable holds every record up to its max LSN.
  std::shared_ptr<MemTable> imm;
  {
    std::unique_lock commit(*commit_mu_);
    std::lock_guard lock(version_mu_);
    if (memtable_->empty()) return Status::OK();
    imm = memtable_;
    flushing_ = imm;
    memtable_ = std::make_shared<MemTable>();
  }
  auto fail = [&](const Status& s) {
    // Put the rows back in front so that reads and a later flush still see them.
    std::lock_guard lock(version_mu_);
    memtable_->AbsorbOlder(*imm);
    flushing_.reset();
    MaintenanceErrors().Add();
    return s;
  };
  GaugeScope running(FlushesRunning());
  MemTable::Stats st = imm->stats();
  TableDefPtr d = def();
  // The memtable is written as parts of about flush_rows rows each: a memtable that grew
  // while a flush ran becomes several cache-sized sorts rather than one huge one, and the
  // pieces are sorted and written on two threads. Merges combine the parts later.
  struct Piece {
    std::string partition;
    types::Block block;
  };
  std::vector<Piece> pieces;
  {
    std::vector<BlockPtr> mem = imm->Snapshot();
    size_t i = 0;
    while (i < mem.size()) {
      std::vector<types::Block> chunk;
      size_t rows = 0;
      while (i < mem.size() && (chunk.empty() || rows + mem[i]->rows() <= options_.flush_rows)) {
        rows += mem[i]->rows();
        // Rows inserted just before an ALTER have the old columns.
        auto adapted = AdaptBlockToTable(*mem[i++], *d, clock_->NowMicros());
        if (!adapted.ok()) return fail(adapted.status());
        chunk.push_back(std::move(adapted).value());
      }
      auto split = SplitByPartition(types::Concat(chunk), *d);
      if (!split.ok()) return fail(split.status());
      for (auto& [partition, block] : *split) pieces.push_back({partition, std::move(block)});
    }
  }
  uint64_t block_no = next_block_;
  std::vector<Result<ActivePart>> written(pieces.size(), Status::Aborted("not written"));
  std::atomic<size_t> next_piece{0};
  auto worker = [&] {
    for (size_t k = next_piece++; k < pieces.size(); k = next_piece++) {
      written[k] = WriteSortedPart(*d, std::move(pieces[k].block), pieces[k].partition,
                                   block_no + k, block_no + k, 0, 0,
                                   // As ClickHouse's optimize_on_insert: a new part is
                                   // already collapsed by Replacing/Summing rules.
                                   /*collapse=*/true, /*apply_ttl=*/false);
    }
  };
  if (pieces.size() > 1) {
    std::thread helper(worker);
    worker();
    helper.join();
  } else {
    worker();
  }
  block_no += pieces.size();
  std::vector<ActivePart> added;
  Status write_status;
  for (auto& w : written) {
    if (!w.ok()) {
      if (write_status.ok()) write_status = w.status();
    } else if (w->rows > 0) {
      added.push_back(std::move(w).value());
    }
  }
  if (!write_status.ok()) {
    RemoveUncommittedParts(added);
    return fail(write_status);
  }
  if (options_.test_pause_ms > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(options_.test_pause_ms));
  }
  uint64_t old_next = next_block_;
  uint64_t old_lsn = persisted_lsn_.load();
  next_block_ = block_no;
  persisted_lsn_ = std::max(old_lsn, st.max_lsn);
  bool replaced = false;
  Status s = WriteState(&replaced);  // the commit point
  if (!s.ok() && !replaced) {
    // The old state still stands: the parts are not committed and the rows stay in the log.
    next_block_ = old_next;
    persisted_lsn_ = old_lsn;
    RemoveUncommittedParts(added);
    return fail(s);
  }
  // From here the new state names the parts (only the directory sync may have failed, which
  // the next state write repeats): removing them now could lose rows, so they are published.
  {
    std::lock_guard lock(version_mu_);
    auto v = std::make_shared<Version>(*version_);
    v->parts.insert(v->parts.end(), added.begin(), added.end());
    std::sort(v->parts.begin(), v->parts.end(), [](const ActivePart& a, const ActivePart& b) {
      return std::tie(a.partition, a.min_block) < std::tie(b.partition, b.min_block);
    });
    version_ = std::move(v);
    flushing_.reset();
  }
  if (!s.ok()) {
    MaintenanceErrors().Add();
    return s;
  }
  flushes_.fetch_add(1);
  FlushCounter().Add();
  return Status::OK();
}

bool Table::ReplaceParts(const std::vector<ActivePart>& removed,
                         const std::vector<ActivePart>& added) {
  std::lock_guard lock(version_mu_);
  std::set<std::string> gone;
  for (const auto& r : removed) gone.insert(r.dir_name);
  size_t present = 0;
  for (const auto& p : version_->parts) present += gone.count(p.dir_name);
  if (present != gone.size()) return false;
  auto v = std::make_shared<Version>();
  for (const auto& p : version_->parts) {
    if (!gone.count(p.dir_name)) v->parts.push_back(p);
  }
  for (const auto& a : added) {
    if (a.rows > 0) v->parts.push_back(a);
  }
  std::sort(v->parts.begin(), v->parts.end(), [](const ActivePart& a, const ActivePart& b) {
    return std::tie(a.partition, a.min_block) < std::tie(b.partition, b.min_block);
  });
  version_ = std::move(v);
  return true;
}

void Table::RemovePartDirs(const std::vector<ActivePart>& parts) {
  for (const auto& p : parts) {
    std::string from = env::JoinPath(dir_, p.dir_name);
    if (!env_->FileExists(from)) continue;
    // Rename first (atomic), so a crash mid-removal leaves a "delete_" leftover, not a
    // half-removed part that looks active.
    std::string to = env::JoinPath(dir_, "delete_" + p.dir_name);
    if (env_->RenameFile(from, to).ok()) {
      env_->SyncDir(dir_).IgnoreError();
      env_->RemoveDirRecursively(to).IgnoreError();
    }
  }
}

void Table::RemoveUncommittedParts(const std::vector<ActivePart>& parts) {
  // No state names these parts, so a crash halfway through leaves what Load removes anyway;
  // removing them without the rename of RemovePartDirs needs no directory space.
  for (const auto& p : parts) {
    env_->RemoveDirRecursively(env::JoinPath(dir_, p.dir_name)).IgnoreError();
  }
}

Result<types::Block> Table::ReadWholePart(const TableDef& def, const ActivePart& p) const {
  std::vector<std::string> names;
  for (const auto& c : def.schema->columns) names.push_back(c.name);
  return ReadPartColumns(*p.part, def, names, 0, p.part->num_granules());
}

Status Table::MergeParts(const std::vector<ActivePart>& sources) {
  GaugeScope running(MergesRunning());
  TableDefPtr d = def();
  std::vector<types::Block> blocks;
  std::vector<size_t> run_starts;  // each source part is sorted: merge, don't re-sort
  size_t rows = 0;
  uint32_t level = 0;
  uint64_t mutation = 0;
  for (const auto& p : sources) {
    TH_ASSIGN_OR_RETURN(types::Block b, ReadWholePart(*d, p));
    run_starts.push_back(rows);
    rows += b.rows();
    blocks.push_back(std::move(b));
    level = std::max(level, p.level);
    mutation = std::max(mutation, p.mutation);
  }
  types::Block all = types::Concat(blocks);
  blocks.clear();
  TH_ASSIGN_OR_RETURN(
      ActivePart merged,
      WriteSortedPart(*d, std::move(all), sources.front().partition, sources.front().min_block,
                      sources.back().max_block, level + 1, mutation, /*collapse=*/true,
                      /*apply_ttl=*/true, &run_starts));
  if (options_.test_pause_ms > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(options_.test_pause_ms));
  }
  std::lock_guard lock(maintenance_mu_);
  if (!ReplaceParts(sources, {merged})) {
    // A mutation or DDL changed the sources meanwhile: the merge result is stale.
    RemovePartDirs({merged});
    return Status::OK();
  }
  RemovePartDirs(sources);
  merges_.fetch_add(1);
  MergeCounter().Add();
  return Status::OK();
}

Status Table::MaybeMerge(bool* merged) {
  *merged = false;
  std::vector<ActivePart> pick;
  {
    std::lock_guard sel(merge_select_mu_);
    std::shared_ptr<const Version> v;
    {
      std::lock_guard lock(version_mu_);
      v = version_;
    }
    // Per partition: the window of adjacent parts (by block range) with the fewest rows.
    size_t i = 0;
    uint64_t best_rows = UINT64_MAX;
    while (i < v->parts.size()) {
      size_t j = i;
      while (j < v->parts.size() && v->parts[j].partition == v->parts[i].partition) ++j;
      size_t n = j - i;
      if (n >= options_.merge_min_parts) {
        size_t w = std::min<size_t>(options_.merge_max_parts, n);
        for (size_t s = i; s + w <= j; ++s) {
          uint64_t rows = 0;
          bool busy = false;
          for (size_t k = s; k < s + w; ++k) {
            rows += v->parts[k].rows;
            busy |= merging_.count(v->parts[k].dir_name) > 0;
          }
          if (!busy && rows < best_rows && rows <= options_.merge_max_rows) {
            best_rows = rows;
            pick.assign(v->parts.begin() + s, v->parts.begin() + s + w);
          }
        }
      }
      i = j;
    }
    if (pick.empty()) return Status::OK();
    for (const auto& p : pick) merging_[p.dir_name] = true;
  }
  Status s = MergeParts(pick);
  {
    std::lock_guard sel(merge_select_mu_);
    for (const auto& p : pick) merging_.erase(p.dir_name);
  }
  if (!s.ok()) {
    MaintenanceErrors().Add();
    return s;
  }
  *merged = true;
  return Status::OK();
}

Status Table::Optimize(bool final) {
  TH_RETURN_IF_ERROR(Flush());
  // FINAL: each partition is merged into one part once. Without FINAL, as ClickHouse: one
  // merge, of the first partition that has several parts (up to merge_max_parts of them). A
  // partition whose parts a background merge holds is retried after that merge publishes.
  std::set<std::string> done;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(10);
  while (true) {
    std::shared_ptr<const Version> v;
    {
      std::lock_guard lock(version_mu_);
      v = version_;
    }
    std::map<std::string, std::vector<ActivePart>> by_partition;
    for (const auto& p : v->parts) by_partition[p.partition].push_back(p);
    bool busy_seen = false;
    for (auto& [partition, parts] : by_partition) {
      if (done.count(partition)) continue;
      // FINAL also rewrites a single part so that collapsing rules and TTL apply to it.
      bool needs = parts.size() > 1 ||
                   (final && (def()->kind != EngineKind::kMergeTree || def()->ttl_expr));
      if (!final && parts.size() > options_.merge_max_parts) parts.resize(options_.merge_max_parts);
      if (!needs) {
        done.insert(partition);
        continue;
      }
      {
        std::lock_guard sel(merge_select_mu_);
        bool busy = false;
        for (const auto& p : parts) busy |= merging_.count(p.dir_name) > 0;
        if (busy) {
          busy_seen = true;
          continue;
        }
        for (const auto& p : parts) merging_[p.dir_name] = true;
      }
      Status s = MergeParts(parts);
      {
        std::lock_guard sel(merge_select_mu_);
        for (const auto& p : parts) merging_.erase(p.dir_name);
      }
      TH_RETURN_IF_ERROR(s);
      done.insert(partition);
      if (!final) return Status::OK();
    }
    if (!busy_seen) return Status::OK();
    if (std::chrono::steady_clock::now() > deadline) {
      return Status::Timeout("OPTIMIZE FINAL: background merges kept the parts busy");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

Result<std::pair<int64_t, int64_t>> Table::PartTtlRange(const TableDef& def, const ActivePart& p) {
  {
    std::lock_guard lock(ttl_mu_);
    if (ttl_cache_expr_ != def.ttl_sql) {
      ttl_cache_.clear();
      ttl_cache_expr_ = def.ttl_sql;
    }
    auto it = ttl_cache_.find(p.dir_name);
    if (it != ttl_cache_.end()) return it->second;
  }
  std::vector<std::string> cols = def.ttl_expr->ReferencedColumns();
  TH_ASSIGN_OR_RETURN(types::Block b,
                      ReadPartColumns(*p.part, def, cols, 0, p.part->num_granules()));
  TH_ASSIGN_OR_RETURN(auto range, TtlRange(def, b, clock_->NowMicros()));
  std::lock_guard lock(ttl_mu_);
  ttl_cache_[p.dir_name] = range;
  return range;
}

Status Table::ApplyTtl() {
  TableDefPtr d = def();
  if (!d->ttl_expr) return Status::OK();
  std::shared_ptr<const Version> v;
  {
    std::lock_guard lock(version_mu_);
    v = version_;
  }
  int64_t now_s = clock_->NowMicros() / 1000000;
  for (const auto& p : v->parts) {
    {
      std::lock_guard sel(merge_select_mu_);
      if (merging_.count(p.dir_name)) continue;
    }
    TH_ASSIGN_OR_RETURN(auto range, PartTtlRange(*d, p));
    if (range.first > now_s) continue;  // nothing expired
    std::lock_guard lock(maintenance_mu_);
    if (range.second <= now_s) {
      // Every row expired: drop the part whole.
      if (ReplaceParts({p}, {})) RemovePartDirs({p});
      continue;
    }
    TH_ASSIGN_OR_RETURN(types::Block b, ReadWholePart(*d, p));
    uint64_t mutation = next_mutation_++;
    TH_RETURN_IF_ERROR(WriteState());
    TH_ASSIGN_OR_RETURN(ActivePart np,
                        WriteSortedPart(*d, std::move(b), p.partition, p.min_block, p.max_block,
                                        p.level, mutation, false, /*apply_ttl=*/true));
    if (ReplaceParts({p}, {np})) {
      RemovePartDirs({p});
    } else {
      RemovePartDirs({np});
    }
  }
  return Status::OK();
}

Status Table::Truncate() {
  std::lock_guard lock(maintenance_mu_);
  {
    // Everything in memory up to now is discarded: mark it persisted so recovery skips it.
    std::unique_lock commit(*commit_mu_);
    std::lock_guard vl(version_mu_);
    persisted_lsn_ = std::max(persisted_lsn_.load(), memtable_->stats().max_lsn);
    memtable_ = std::make_shared<MemTable>();
  }
  std::shared_ptr<const Version> v;
  {
    std::lock_guard vl(version_mu_);
    v = version_;
  }
  TH_RETURN_IF_ERROR(WriteState());
  {
    std::lock_guard vl(version_mu_);
    version_ = std::make_shared<Version>();
  }
  RemovePartDirs(v->parts);
  return Status::OK();
}

Status Table::DropPartition(const std::string& partition_id) {
  std::lock_guard lock(maintenance_mu_);
  TH_RETURN_IF_ERROR(FlushLocked());
  std::vector<ActivePart> drop;
  {
    std::lock_guard vl(version_mu_);
    for (const auto& p : version_->parts) {
      if (p.partition == partition_id) drop.push_back(p);
    }
  }
  if (drop.empty()) return Status::OK();
  if (ReplaceParts(drop, {})) RemovePartDirs(drop);
  return Status::OK();
}

Status Table::DeleteWhere(const sql::Expr& condition) {
  TableDefPtr d = def();
  TH_ASSIGN_OR_RETURN(auto cond, eval::Compile(condition, d->InputColumns()));
  std::lock_guard lock(maintenance_mu_);
  TH_RETURN_IF_ERROR(FlushLocked());
  std::shared_ptr<const Version> v;
  {
    std::lock_guard vl(version_mu_);
    v = version_;
  }
  eval::EvalContext ctx;
  ctx.now_micros = clock_->NowMicros();
  uint64_t mutation = next_mutation_++;
  TH_RETURN_IF_ERROR(WriteState());
  for (const auto& p : v->parts) {
    TH_ASSIGN_OR_RETURN(types::Block b, ReadWholePart(*d, p));
    TH_ASSIGN_OR_RETURN(types::ColumnPtr match, cond->Evaluate(b, ctx));
    std::vector<uint8_t> keep(b.rows());
    size_t kept = 0;
    for (size_t i = 0; i < b.rows(); ++i) {
      types::Value m = match->GetValue(i);
      keep[i] = !(!m.is_null() && m.AsUInt() != 0);
      kept += keep[i];
    }
    if (kept == b.rows()) continue;
    types::Block rest = b.Filter(keep);
    // Wait for a merge that is using this part to finish or abandon; merges check the active
    // set before publishing, so replacing the part here makes their result stale.
    TH_ASSIGN_OR_RETURN(ActivePart np,
                        WriteSortedPart(*d, std::move(rest), p.partition, p.min_block, p.max_block,
                                        p.level, mutation, false, false));
    if (ReplaceParts({p}, {np})) {
      RemovePartDirs({p});
    } else {
      RemovePartDirs({np});
      return Status::Aborted("part changed during ALTER DELETE; run it again");
    }
  }
  return Status::OK();
}

Status Table::Destroy() {
  std::lock_guard lock(maintenance_mu_);
  {
    std::lock_guard vl(version_mu_);
    version_ = std::make_shared<Version>();
  }
  return env_->RemoveDirRecursively(dir_);
}

size_t Table::MaxPartsInPartition() const {
  std::lock_guard lock(version_mu_);
  std::map<std::string, size_t> n;
  size_t m = 0;
  for (const auto& p : version_->parts) m = std::max(m, ++n[p.partition]);
  return m;
}

size_t Table::ActivePartCount() const {
  std::lock_guard lock(version_mu_);
  return version_->parts.size();
}

}  // namespace trackhouse::engine
