// ingest_bench: the embedded engine's ingest benchmark (issue 2, "What must be shown").
//
// Loads the entityMetricEvents shape (bench/entity_data.h) into a fresh engine and measures:
//   a. durable insert: prebuilt blocks inserted by --threads threads with Storage::Insert (log
//      fdatasync'ed, group commit), timed until every row is in on-disk parts (FlushAll
//      included), with background merges running; log syncs/s, rows per sync, peak RSS and the
//      most active parts seen in one partition (sampled every 100 ms);
//   b. bytes on disk per row after OPTIMIZE TABLE ... FINAL (part files only, not the log);
//   c. recovery: N rows left in the log only (flush thresholds out of reach), the engine closed
//      without flushing, and a new OpenEngine timed while it replays them: once with the log
//      evicted from the page cache (cold), once warm.
// Every figure is printed as a labelled line, and all of them as one JSON line at the end.
//
// With --emit-jsoneachrow FILE and/or --emit-rowbinary FILE it writes the same rows (createdAt
// as DateTime) for ClickHouse instead and measures nothing (bench/clickhouse_ingest.sh).
//
// bench/run_ingest.sh builds and runs it; docs/BENCHMARKS.md explains the figures.

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench/entity_data.h"
#include "common/status.h"
#include "engine/engine.h"
#include "env/env.h"
#include "sql/parser.h"
#include "storage/storage.h"

namespace trackhouse::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kTable[] = "entityMetricEvents";

struct Flags {
  uint64_t rows = 10'000'000;
  size_t block_rows = 100'000;
  int threads = 2;
  std::string dir = "/tmp/trackhouse-bench";
  bool datetime = false;
  uint64_t seed = EntityDataOptions{}.seed;
  uint64_t recovery_rows = 5'000'000;
  // Which measurements to run: insert (a), size (b, needs insert), recovery (c).
  bool run_insert = true;
  bool run_size = true;
  bool run_recovery = true;
  // Engine options for diagnosis (the reported figures use the defaults).
  uint32_t merge_threads = 1;
  bool sync = true;
  std::string codec = "lz4";
  uint64_t flush_rows = engine::EngineOptions{}.flush_rows;
  bool keep = false;
  // Interval of the progress lines on stderr.
  int progress_ms = 1000;
  std::string emit_json;
  std::string emit_rowbinary;
};

void Usage() {
  std::fprintf(stderr,
               "usage: ingest_bench [flags]\n"
               "  --rows N              rows to load (default 10000000)\n"
               "  --block-rows N        rows per prebuilt insert block (default 100000)\n"
               "  --threads N           inserting threads (default 2)\n"
               "  --dir DIR             scratch directory, emptied first (default "
               "/tmp/trackhouse-bench)\n"
               "  --datetime            createdAt DateTime instead of DateTime64(3)\n"
               "  --seed N              seed of the row stream\n"
               "  --recovery-rows N     rows logged for the recovery measurement (default "
               "5000000)\n"
               "  --phases LIST         comma list of insert,size,recovery (default all)\n"
               "  --merge-threads N     engine merge threads (default 1)\n"
               "  --codec lz4|zstd      part codec (default lz4)\n"
               "  --flush-rows N        engine flush_rows (default %llu)\n"
               "  --no-sync             DIAGNOSIS ONLY: no fdatasync (not a durable figure)\n"
               "  --keep                keep the data directories\n"
               "  --progress-ms N       progress line interval on stderr (default 1000)\n"
               "  --emit-jsoneachrow F  write the rows (DateTime) as JSONEachRow to F and exit\n"
               "  --emit-rowbinary F    write the rows (DateTime) as RowBinary to F and exit\n",
               static_cast<unsigned long long>(engine::EngineOptions{}.flush_rows));
}

Result<Flags> ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    bool has_value = false;
    if (auto eq = arg.find('='); eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    auto next = [&]() -> Result<std::string> {
      if (has_value) return value;
      if (i + 1 >= argc) return Status::InvalidArgument(arg + " needs a value");
      return std::string(argv[++i]);
    };
    auto number = [&]() -> Result<uint64_t> {
      TH_ASSIGN_OR_RETURN(std::string v, next());
      char* end = nullptr;
      unsigned long long n = std::strtoull(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0') {
        return Status::InvalidArgument(fmt::format("{}: not a number: {}", arg, v));
      }
      return static_cast<uint64_t>(n);
    };
    if (arg == "--rows") {
      TH_ASSIGN_OR_RETURN(f.rows, number());
    } else if (arg == "--block-rows") {
      TH_ASSIGN_OR_RETURN(uint64_t n, number());
      f.block_rows = static_cast<size_t>(n);
    } else if (arg == "--threads") {
      TH_ASSIGN_OR_RETURN(uint64_t n, number());
      f.threads = static_cast<int>(n);
    } else if (arg == "--dir") {
      TH_ASSIGN_OR_RETURN(f.dir, next());
    } else if (arg == "--datetime") {
      f.datetime = true;
    } else if (arg == "--seed") {
      TH_ASSIGN_OR_RETURN(f.seed, number());
    } else if (arg == "--recovery-rows") {
      TH_ASSIGN_OR_RETURN(f.recovery_rows, number());
    } else if (arg == "--phases") {
      TH_ASSIGN_OR_RETURN(std::string v, next());
      f.run_insert = v.find("insert") != std::string::npos;
      f.run_size = v.find("size") != std::string::npos;
      f.run_recovery = v.find("recovery") != std::string::npos;
      if (f.run_size && !f.run_insert) {
        return Status::InvalidArgument("--phases: size needs insert");
      }
    } else if (arg == "--merge-threads") {
      TH_ASSIGN_OR_RETURN(uint64_t n, number());
      f.merge_threads = static_cast<uint32_t>(n);
    } else if (arg == "--codec") {
      TH_ASSIGN_OR_RETURN(f.codec, next());
    } else if (arg == "--flush-rows") {
      TH_ASSIGN_OR_RETURN(f.flush_rows, number());
    } else if (arg == "--no-sync") {
      f.sync = false;
    } else if (arg == "--keep") {
      f.keep = true;
    } else if (arg == "--progress-ms") {
      TH_ASSIGN_OR_RETURN(uint64_t n, number());
      f.progress_ms = static_cast<int>(std::max<uint64_t>(n, 100));
    } else if (arg == "--emit-jsoneachrow") {
      TH_ASSIGN_OR_RETURN(f.emit_json, next());
    } else if (arg == "--emit-rowbinary") {
      TH_ASSIGN_OR_RETURN(f.emit_rowbinary, next());
    } else if (arg == "--help" || arg == "-h") {
      Usage();
      std::exit(0);
    } else {
      return Status::InvalidArgument("unknown flag " + arg);
    }
  }
  if (f.rows == 0 || f.block_rows == 0 || f.threads <= 0) {
    return Status::InvalidArgument("--rows, --block-rows and --threads must be positive");
  }
  return f;
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// A field of /proc/self/status in bytes ("VmHWM", "VmRSS").
uint64_t ProcStatusBytes(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, field.size() + 1, field + ":") == 0) {
      return std::strtoull(line.c_str() + field.size() + 1, nullptr, 10) * 1024;
    }
  }
  return 0;
}

// Resets VmHWM to the current RSS (Linux >= 4.0), so that each phase reports its own peak.
void ResetPeakRss() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
}

double MiB(uint64_t bytes) { return static_cast<double>(bytes) / (1 << 20); }

Status ExecuteSql(storage::Storage* storage, const std::string& sql) {
  TH_ASSIGN_OR_RETURN(sql::StatementPtr stmt, sql::ParseStatement(sql));
  return storage->ExecuteDdl(*stmt, sql, "default");
}

Result<std::unique_ptr<storage::Storage>> OpenFresh(const engine::EngineOptions& options) {
  env::Env* env = env::Env::Posix();
  if (env->FileExists(options.data_dir)) {
    TH_RETURN_IF_ERROR(env->RemoveDirRecursively(options.data_dir));
  }
  return engine::OpenEngine(options);
}

engine::EngineOptions BaseOptions(const Flags& f, const std::string& data_dir) {
  engine::EngineOptions o;
  o.data_dir = data_dir;
  o.sync = f.sync;
  o.codec = f.codec;
  o.merge_threads = f.merge_threads;
  o.flush_rows = f.flush_rows;
  return o;
}

// Inserts blocks [0, nblocks) from `threads` threads, retrying inserts refused for memory
// (ResourceExhausted: the engine pushing back while flushes catch up).
struct LoadResult {
  Status status;
  uint64_t rows = 0;
  uint64_t pushbacks = 0;
};
LoadResult Load(storage::Storage* storage, const storage::TableSchema& schema,
                const std::vector<types::Block>& blocks, size_t nblocks, int threads) {
  std::atomic<size_t> next{0};
  std::atomic<uint64_t> rows{0}, pushbacks{0};
  std::mutex mu;
  Status first_error;
  std::atomic<bool> failed{false};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      while (!failed.load()) {
        size_t i = next.fetch_add(1);
        if (i >= nblocks) return;
        while (true) {
          auto r = storage->Insert(schema, blocks[i]);
          if (r.ok()) {
            rows.fetch_add(r->rows);
            break;
          }
          if (r.status().code() == StatusCode::kResourceExhausted) {
            pushbacks.fetch_add(1);
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
            continue;
          }
          std::lock_guard lock(mu);
          if (first_error.ok()) first_error = r.status();
          failed = true;
          return;
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  return LoadResult{first_error, rows.load(), pushbacks.load()};
}

// Samples engine stats every 100 ms on its own thread while alive.
class StatsSampler {
 public:
  StatsSampler(storage::Storage* storage, int progress_ms)
      : storage_(storage), progress_ms_(progress_ms) {
    thread_ = std::thread([this] { Run(); });
  }
  ~StatsSampler() { Stop(); }
  void Stop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  uint64_t max_parts_in_partition() const { return max_parts_; }
  uint64_t max_memtable_rows() const { return max_memtable_rows_; }
  uint64_t max_rss() const { return max_rss_; }

 private:
  void Run() {
    auto start = Clock::now();
    auto last_print = start;
    std::unique_lock lock(mu_);
    while (!stop_) {
      engine::EngineStats s = engine::GetEngineStats(storage_);
      max_parts_ = std::max(max_parts_, s.max_parts_in_partition);
      max_memtable_rows_ = std::max(max_memtable_rows_, s.memtable_rows);
      uint64_t rss = ProcStatusBytes("VmRSS");
      max_rss_ = std::max(max_rss_, rss);
      auto now = Clock::now();
      if (now - last_print >= std::chrono::milliseconds(progress_ms_)) {
        last_print = now;
        std::fprintf(stderr,
                     "  [%5.1fs] log records %llu, syncs %llu, memtable rows %llu, parts %llu "
                     "(max/partition %llu), flushes %llu, merges %llu, RSS %.0f MiB\n",
                     Seconds(now - start), static_cast<unsigned long long>(s.log_records),
                     static_cast<unsigned long long>(s.log_syncs),
                     static_cast<unsigned long long>(s.memtable_rows),
                     static_cast<unsigned long long>(s.parts_active),
                     static_cast<unsigned long long>(s.max_parts_in_partition),
                     static_cast<unsigned long long>(s.flushes),
                     static_cast<unsigned long long>(s.merges), MiB(rss));
      }
      cv_.wait_for(lock, std::chrono::milliseconds(100));
    }
  }

  storage::Storage* const storage_;
  const int progress_ms_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
  uint64_t max_parts_ = 0;
  uint64_t max_memtable_rows_ = 0;
  uint64_t max_rss_ = 0;
};

// The figures, in the order they are printed; also the final JSON line.
struct Figures {
  std::vector<std::pair<std::string, std::string>> fields;
  void Add(const std::string& key, double v, const char* fmt_spec = "{:.3f}") {
    fields.emplace_back(key, fmt::format(fmt::runtime(fmt_spec), v));
  }
  void AddInt(const std::string& key, uint64_t v) { fields.emplace_back(key, std::to_string(v)); }
  void AddString(const std::string& key, const std::string& v) {
    fields.emplace_back(key, "\"" + v + "\"");
  }
  std::string Json() const {
    std::string out = "{";
    for (size_t i = 0; i < fields.size(); ++i) {
      if (i) out += ",";
      out += "\"" + fields[i].first + "\":" + fields[i].second;
    }
    return out + "}";
  }
};

// Sums the sizes of the part directories of every table under data_dir/store (not the table
// `state` files, not the log), overall and per file name.
Result<uint64_t> PartBytes(const std::string& data_dir, std::map<std::string, uint64_t>* by_file,
                           uint64_t* parts) {
  env::Env* env = env::Env::Posix();
  std::string store = env::JoinPath(data_dir, "store");
  uint64_t total = 0;
  *parts = 0;
  TH_ASSIGN_OR_RETURN(std::vector<std::string> tables, env->GetChildren(store));
  for (const auto& t : tables) {
    std::string tdir = env::JoinPath(store, t);
    if (!env->IsDirectory(tdir)) continue;
    TH_ASSIGN_OR_RETURN(std::vector<std::string> entries, env->GetChildren(tdir));
    for (const auto& p : entries) {
      std::string pdir = env::JoinPath(tdir, p);
      if (!env->IsDirectory(pdir)) continue;
      ++*parts;
      TH_ASSIGN_OR_RETURN(std::vector<std::string> files, env->GetChildren(pdir));
      for (const auto& f : files) {
        TH_ASSIGN_OR_RETURN(uint64_t size, env->GetFileSize(env::JoinPath(pdir, f)));
        total += size;
        (*by_file)[f] += size;
      }
    }
  }
  return total;
}

// Drops the (already synced) files under `dir` from the page cache, so that the next read
// comes from the device. Touches only these files' pages.
Status EvictFromPageCache(const std::string& dir) {
  env::Env* env = env::Env::Posix();
  TH_ASSIGN_OR_RETURN(std::vector<std::string> files, env->GetChildren(dir));
  for (const auto& name : files) {
    std::string path = env::JoinPath(dir, name);
    int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) continue;
    ::fdatasync(fd);
    int rc = ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
    if (rc != 0) return Status::IOError(fmt::format("posix_fadvise({}) failed: {}", path, rc));
  }
  return Status::OK();
}

// a. + b.
Status RunInsertAndSize(const Flags& f, const std::vector<types::Block>& blocks, Figures* figures) {
  engine::EngineOptions options = BaseOptions(f, env::JoinPath(f.dir, "insert"));
  TH_ASSIGN_OR_RETURN(std::unique_ptr<storage::Storage> storage, OpenFresh(options));
  TH_RETURN_IF_ERROR(ExecuteSql(storage.get(), EntityTableDdl(kTable, f.datetime)));
  TH_ASSIGN_OR_RETURN(storage::TableSchemaPtr schema, storage->GetTable("default", kTable));

  size_t nblocks = static_cast<size_t>((f.rows + f.block_rows - 1) / f.block_rows);
  uint64_t rss_before = ProcStatusBytes("VmRSS");
  ResetPeakRss();
  std::fprintf(stderr, "durable insert: %llu rows in %zu blocks, %d threads\n",
               static_cast<unsigned long long>(f.rows), nblocks, f.threads);

  auto sampler = std::make_unique<StatsSampler>(storage.get(), f.progress_ms);
  auto start = Clock::now();
  LoadResult load = Load(storage.get(), *schema, blocks, nblocks, f.threads);
  auto inserted = Clock::now();
  TH_RETURN_IF_ERROR(load.status);
  TH_RETURN_IF_ERROR(storage->FlushAll());
  auto flushed = Clock::now();
  engine::EngineStats st = engine::GetEngineStats(storage.get());
  sampler->Stop();
  uint64_t peak_rss = ProcStatusBytes("VmHWM");

  double total_s = Seconds(flushed - start);
  double insert_s = Seconds(inserted - start);
  double rows = static_cast<double>(load.rows);
  uint64_t max_parts = std::max(sampler->max_parts_in_partition(), st.max_parts_in_partition);
  std::printf("durable insert (%s, %d threads, %zu-row blocks, sync %s):\n",
              f.datetime ? "DateTime" : "DateTime64(3)", f.threads, f.block_rows,
              f.sync ? "on" : "OFF (diagnosis only)");
  std::printf("  rows                         %llu\n", static_cast<unsigned long long>(load.rows));
  std::printf("  time to all rows in parts    %.3f s (inserts %.3f s + final FlushAll %.3f s)\n",
              total_s, insert_s, Seconds(flushed - inserted));
  std::printf("  insert rate                  %.3f M rows/s  (inserts alone: %.3f M rows/s)\n",
              rows / total_s / 1e6, rows / insert_s / 1e6);
  std::printf(
      "  log syncs                    %llu (%.1f syncs/s over the whole time, %.1f/s while "
      "inserting), %.0f rows/sync, log %.1f MiB\n",
      static_cast<unsigned long long>(st.log_syncs), st.log_syncs / total_s,
      st.log_syncs / insert_s, st.log_syncs ? rows / st.log_syncs : 0.0, MiB(st.log_bytes));
  std::printf("  flushes / merges during      %llu / %llu\n",
              static_cast<unsigned long long>(st.flushes),
              static_cast<unsigned long long>(st.merges));
  std::printf("  max active parts/partition   %llu (sampled every 100 ms; limit < 50)\n",
              static_cast<unsigned long long>(max_parts));
  std::printf("  max memtable rows seen       %llu\n",
              static_cast<unsigned long long>(sampler->max_memtable_rows()));
  std::printf(
      "  peak RSS                     %.0f MiB (%.0f MiB of it prebuilt blocks and "
      "process before the load)\n",
      MiB(peak_rss), MiB(rss_before));
  std::printf("  insert pushbacks (retried)   %llu\n",
              static_cast<unsigned long long>(load.pushbacks));
  figures->AddInt("insert_rows", load.rows);
  figures->AddInt("insert_threads", static_cast<uint64_t>(f.threads));
  figures->AddInt("block_rows", f.block_rows);
  figures->Add("insert_seconds", total_s);
  figures->Add("insert_only_seconds", insert_s);
  figures->Add("final_flush_seconds", Seconds(flushed - inserted));
  figures->Add("insert_rows_per_s", rows / total_s, "{:.0f}");
  figures->AddInt("log_syncs", st.log_syncs);
  figures->Add("log_syncs_per_s", st.log_syncs / total_s, "{:.1f}");
  figures->Add("log_syncs_per_s_inserting", st.log_syncs / insert_s, "{:.1f}");
  figures->Add("rows_per_sync", st.log_syncs ? rows / st.log_syncs : 0.0, "{:.0f}");
  figures->AddInt("log_bytes", st.log_bytes);
  figures->AddInt("flushes", st.flushes);
  figures->AddInt("merges_during_insert", st.merges);
  figures->AddInt("max_parts_in_partition", max_parts);
  figures->AddInt("peak_rss_bytes", peak_rss);
  figures->AddInt("rss_before_load_bytes", rss_before);
  figures->AddInt("insert_pushbacks", load.pushbacks);
  sampler.reset();

  if (!f.run_size) return storage->Stop();

  // b. OPTIMIZE FINAL. A background merge that holds some of the parts makes OPTIMIZE skip the
  // partition, so repeat until one part is left.
  auto opt_start = Clock::now();
  int rounds = 0;
  for (; rounds < 100; ++rounds) {
    TH_RETURN_IF_ERROR(ExecuteSql(storage.get(), fmt::format("OPTIMIZE TABLE {} FINAL", kTable)));
    if (engine::GetEngineStats(storage.get()).parts_active <= 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  double opt_s = Seconds(Clock::now() - opt_start);
  engine::EngineStats after = engine::GetEngineStats(storage.get());

  // Every row must be there, once.
  storage::ScanRequest req;
  req.columns = {"metricValue"};
  TH_ASSIGN_OR_RETURN(std::unique_ptr<storage::ScanSource> scan,
                      storage->Scan("default", kTable, req));
  uint64_t scanned = 0;
  types::Block b;
  while (scan->NextBlock(&b)) scanned += b.rows();
  TH_RETURN_IF_ERROR(scan->status());
  if (scanned != load.rows) {
    return Status::Internal(
        fmt::format("scan after OPTIMIZE found {} rows, {} were inserted", scanned, load.rows));
  }

  std::map<std::string, uint64_t> by_file;
  uint64_t part_dirs = 0;
  TH_ASSIGN_OR_RETURN(uint64_t bytes, PartBytes(options.data_dir, &by_file, &part_dirs));
  std::printf("bytes on disk after OPTIMIZE FINAL (%s, codec %s):\n",
              f.datetime ? "DateTime" : "DateTime64(3)", f.codec.c_str());
  std::printf(
      "  OPTIMIZE FINAL               %.3f s (%d extra rounds), %llu active parts, "
      "%llu part dirs\n",
      opt_s, rounds, static_cast<unsigned long long>(after.parts_active),
      static_cast<unsigned long long>(part_dirs));
  std::printf("  rows scanned                 %llu\n", static_cast<unsigned long long>(scanned));
  std::printf("  part bytes                   %llu (%.1f MiB)\n",
              static_cast<unsigned long long>(bytes), MiB(bytes));
  std::printf("  bytes per row                %.3f\n", static_cast<double>(bytes) / scanned);
  std::string files;
  for (const auto& [name, size] : by_file) {
    files += fmt::format(" {}={:.3f}", name, static_cast<double>(size) / scanned);
  }
  std::printf("  bytes per row by file       %s\n", files.c_str());
  figures->Add("optimize_seconds", opt_s);
  figures->AddInt("parts_after_optimize", after.parts_active);
  figures->AddInt("part_bytes", bytes);
  figures->Add("bytes_per_row", static_cast<double>(bytes) / scanned);
  for (const auto& [name, size] : by_file) {
    figures->Add("bytes_per_row_" + name, static_cast<double>(size) / scanned);
  }
  return storage->Stop();
}

// c.
Status RunRecovery(const Flags& f, const std::vector<types::Block>& blocks, Figures* figures) {
  engine::EngineOptions options = BaseOptions(f, env::JoinPath(f.dir, "recovery"));
  // Nothing may reach a part: every row stays in the log and the memtable.
  options.flush_rows = 1ULL << 40;
  options.flush_bytes = 1ULL << 50;
  options.flush_age_ms = int64_t{1} << 50;
  options.memtable_budget_bytes = 16ULL << 30;
  uint64_t want = std::min<uint64_t>(f.recovery_rows, f.rows);
  size_t nblocks = static_cast<size_t>((want + f.block_rows - 1) / f.block_rows);
  uint64_t logged_bytes = 0;
  {
    TH_ASSIGN_OR_RETURN(std::unique_ptr<storage::Storage> storage, OpenFresh(options));
    TH_RETURN_IF_ERROR(ExecuteSql(storage.get(), EntityTableDdl(kTable, f.datetime)));
    TH_ASSIGN_OR_RETURN(storage::TableSchemaPtr schema, storage->GetTable("default", kTable));
    std::fprintf(stderr, "recovery: logging %zu blocks\n", nblocks);
    LoadResult load = Load(storage.get(), *schema, blocks, nblocks, f.threads);
    TH_RETURN_IF_ERROR(load.status);
    engine::EngineStats st = engine::GetEngineStats(storage.get());
    if (st.flushes != 0 || st.memtable_rows != load.rows) {
      return Status::Internal(fmt::format("recovery setup: {} flushes, {} memtable rows of {}",
                                          st.flushes, st.memtable_rows, load.rows));
    }
    logged_bytes = st.log_bytes;
    want = load.rows;
    // Stop() joins the background threads and closes the log; it does not flush.
    TH_RETURN_IF_ERROR(storage->Stop());
  }
  // Replay twice: first with the log evicted from the page cache (as after a power loss),
  // then warm (as after kill -9). Stop() does not flush, so the second open replays the same
  // records.
  std::printf("recovery (log replay in OpenEngine, %s):\n",
              f.datetime ? "DateTime" : "DateTime64(3)");
  for (bool cold : {true, false}) {
    if (cold) TH_RETURN_IF_ERROR(EvictFromPageCache(env::JoinPath(options.data_dir, "wal")));
    ResetPeakRss();
    uint64_t rss_before = ProcStatusBytes("VmRSS");
    auto start = Clock::now();
    TH_ASSIGN_OR_RETURN(std::unique_ptr<storage::Storage> storage, engine::OpenEngine(options));
    double open_s = Seconds(Clock::now() - start);
    engine::EngineStats st = engine::GetEngineStats(storage.get());
    uint64_t peak = ProcStatusBytes("VmHWM");
    TH_RETURN_IF_ERROR(storage->Stop());
    storage.reset();
    if (st.recovered_rows != want) {
      return Status::Internal(
          fmt::format("recovery replayed {} rows, {} were logged", st.recovered_rows, want));
    }
    double rate = static_cast<double>(st.recovered_rows) / open_s;
    double ms_per_million = open_s * 1e3 / (static_cast<double>(st.recovered_rows) / 1e6);
    const char* cache = cold ? "cold" : "warm";
    std::printf(
        "  page cache %s: %llu rows / %llu records (log %.1f MiB) in %.3f s = %.3f M "
        "rows/s (%.1f ms per million rows), peak RSS %.0f MiB (%.0f MiB before)\n",
        cache, static_cast<unsigned long long>(st.recovered_rows),
        static_cast<unsigned long long>(st.recovered_records), MiB(logged_bytes), open_s,
        rate / 1e6, ms_per_million, MiB(peak), MiB(rss_before));
    std::string key = fmt::format("recovery_{}_", cache);
    figures->Add(key + "seconds", open_s);
    figures->Add(key + "rows_per_s", rate, "{:.0f}");
    figures->Add(key + "ms_per_million_rows", ms_per_million);
    if (cold) {
      figures->AddInt("recovery_rows", st.recovered_rows);
      figures->AddInt("recovery_records", st.recovered_records);
      figures->AddInt("recovery_log_bytes", logged_bytes);
    }
  }
  return Status::OK();
}

int Main(int argc, char** argv) {
  auto flags = ParseFlags(argc, argv);
  if (!flags.ok()) {
    std::fprintf(stderr, "ingest_bench: %s\n", flags.status().ToString().c_str());
    Usage();
    return 2;
  }
  const Flags& f = *flags;

  if (!f.emit_json.empty() || !f.emit_rowbinary.empty()) {
    EntityDataOptions eo;
    eo.seed = f.seed;
    eo.datetime = true;  // ClickHouse 18.16 has no DateTime64
    std::vector<types::Block> blocks = GenerateEntityBlocks(eo, f.rows, f.block_rows);
    for (const auto& [path, write] : {std::pair{f.emit_json, &WriteJsonEachRow},
                                      std::pair{f.emit_rowbinary, &WriteRowBinary}}) {
      if (path.empty()) continue;
      Status s = write(blocks, path);
      if (!s.ok()) {
        std::fprintf(stderr, "ingest_bench: %s\n", s.ToString().c_str());
        return 1;
      }
      std::fprintf(stderr, "wrote %llu rows to %s\n", static_cast<unsigned long long>(f.rows),
                   path.c_str());
    }
    return 0;
  }

  Figures figures;
  figures.AddString("bench", "ingest");
  figures.AddString("created_at_type", f.datetime ? "DateTime" : "DateTime64(3)");
  figures.AddInt("sync", f.sync ? 1 : 0);
  figures.AddString("codec", f.codec);

  EntityDataOptions eo;
  eo.seed = f.seed;
  eo.datetime = f.datetime;
  uint64_t gen_rows = f.rows;
  auto gen_start = Clock::now();
  std::vector<types::Block> blocks = GenerateEntityBlocks(eo, gen_rows, f.block_rows);
  std::fprintf(stderr, "generated %llu rows in %zu blocks in %.2f s\n",
               static_cast<unsigned long long>(gen_rows), blocks.size(),
               Seconds(Clock::now() - gen_start));

  Status s;
  if (f.run_insert) s = RunInsertAndSize(f, blocks, &figures);
  if (s.ok() && f.run_recovery) s = RunRecovery(f, blocks, &figures);
  if (!f.keep) {
    // Only the directories this program made: --dir itself may be shared.
    env::Env* env = env::Env::Posix();
    for (const char* sub : {"insert", "recovery"}) {
      std::string d = env::JoinPath(f.dir, sub);
      if (env->FileExists(d)) env->RemoveDirRecursively(d).IgnoreError();
    }
  }
  if (!s.ok()) {
    std::fprintf(stderr, "ingest_bench: %s\n", s.ToString().c_str());
    return 1;
  }
  std::printf("%s\n", figures.Json().c_str());
  return 0;
}

}  // namespace
}  // namespace trackhouse::bench

int main(int argc, char** argv) { return trackhouse::bench::Main(argc, argv); }
