// Tracker: callers queue rows under mu_; one sender thread forms batches (one table each),
// sends them with retries and resolves them. Every row carries a seq (increasing in the order
// rows were tracked); Flush waits until no row at or below its seq is unresolved.
#include "trackhouse/tracker.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "client/http_client.h"
#include "client/json_text.h"
#include "client/spool.h"

namespace trackhouse {

using client::HttpAnswer;
using client::Result;
using client::SeqRanges;
using client::Spool;
using client::SpoolContents;
using client::Status;
using Clock = std::chrono::steady_clock;

namespace {

// Largest request body the tracker forms (the server's default limit is 8 MiB); a single
// larger row is still sent alone.
constexpr size_t kMaxBatchBytes = 4u << 20;
// The spool is rewritten once it is this large and four times the live rows' bytes.
constexpr uint64_t kCompactSpoolBytes = 8u << 20;

struct Row {
  uint64_t seq = 0;
  std::string json;
  Clock::time_point queued_at;
};

struct Batch {
  std::string table;
  std::string key;
  std::vector<Row> rows;
  uint64_t bytes = 0;
};

bool ValidTableName(std::string_view t) {
  if (t.empty() || t.size() > 255 || t.front() == '.' || t.back() == '.') return false;
  return std::all_of(t.begin(), t.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

Status ValidateOptions(const TrackerOptions& o) {
  std::string_view e = o.endpoint;
  if (!e.starts_with("http://") && !e.starts_with("https://")) {
    return Status::InvalidArgument("endpoint must be http://host:port or https://host:port, got '" +
                                   o.endpoint + "'");
  }
  if (o.batch_rows == 0) return Status::InvalidArgument("batch_rows must be at least 1");
  if (o.max_queued_rows == 0 || o.max_queued_bytes == 0) {
    return Status::InvalidArgument("max_queued_rows and max_queued_bytes must be at least 1");
  }
  if (o.jitter < 0 || o.jitter > 1) return Status::InvalidArgument("jitter must be in [0, 1]");
  if (o.request_timeout.count() <= 0) {
    return Status::InvalidArgument("request_timeout must be positive");
  }
  if (o.initial_backoff.count() < 0 || o.max_backoff < o.initial_backoff) {
    return Status::InvalidArgument("backoff must satisfy 0 <= initial_backoff <= max_backoff");
  }
  if (!ValidTableName(o.entity_metric_table)) {
    return Status::InvalidArgument("entity_metric_table '" + o.entity_metric_table +
                                   "' is not a table name");
  }
  return Status::OK();
}

// Retried: no answer, 408, 429 and 5xx. Everything else that is not 2xx is final.
bool Retryable(const HttpAnswer& a) {
  return a.status == 0 || a.status == 408 || a.status == 429 || a.status >= 500;
}

}  // namespace

struct Tracker::Impl {
  explicit Impl(TrackerOptions o) : options(std::move(o)), rng(std::random_device()()) {
    while (options.endpoint.ends_with('/')) options.endpoint.pop_back();
    if (!options.key.empty()) base_headers.push_back("Authorization: Bearer " + options.key);
    if (!options.user_token.empty()) {
      base_headers.push_back("X-Trackhouse-Token: " + options.user_token);
    }
    base_headers.push_back("Content-Type: application/x-ndjson");
  }

  // Queues recovered rows: batches first (sent as they were), then the rest.
  void Recover(SpoolContents contents) {
    std::map<uint64_t, size_t> index;  // seq -> position in contents.rows
    for (size_t i = 0; i < contents.rows.size(); ++i) index[contents.rows[i].seq] = i;
    std::vector<bool> batched(contents.rows.size(), false);
    Clock::time_point now = Clock::now();
    for (client::SpoolBatch& sb : contents.batches) {
      Batch b;
      b.key = sb.key;
      for (uint64_t seq : sb.seqs) {
        size_t i = index[seq];
        batched[i] = true;
        client::SpoolRow& r = contents.rows[i];
        b.table = r.table;
        b.bytes += r.json.size();
        b.rows.push_back(Row{seq, std::move(r.json), now});
      }
      Account(b.rows.size(), b.bytes);
      recovered_batches.push_back(std::move(b));
    }
    for (size_t i = 0; i < contents.rows.size(); ++i) {
      if (batched[i]) continue;
      client::SpoolRow& r = contents.rows[i];
      Account(1, r.json.size());
      queues[r.table].push_back(Row{r.seq, std::move(r.json), now});
    }
    next_seq = contents.max_seq + 1;
    flush_upto = contents.max_seq;  // send them without waiting for linger
  }

  void Account(uint64_t rows, uint64_t bytes) {
    queued_rows += rows;
    queued_bytes += bytes;
    stats.tracked += rows;
    stats.recovered += rows;
  }

  Status Track(std::string_view table, const Event& row) {
    if (!row.error().empty()) return Status::InvalidArgument("invalid event: " + row.error());
    if (!ValidTableName(table)) {
      return Status::InvalidArgument("'" + std::string(table) + "' is not a table name");
    }
    std::string json = "{" + row.fields_;
    if (!options.time_field.empty() && !row.Has(options.time_field)) {
      if (!row.fields_.empty()) json += ',';
      client::AppendJsonString(options.time_field, &json);
      json += ':';
      client::AppendJsonString(client::FormatUtcMillis(std::chrono::system_clock::now()), &json);
    }
    json += '}';
    if (json.size() > options.max_queued_bytes) {
      return Status::InvalidArgument("row of " + std::to_string(json.size()) +
                                     " bytes is larger than max_queued_bytes");
    }

    std::unique_lock lock(mu);
    if (stopping) return Status::Unavailable("tracker is stopped");
    if (!spool_error.ok()) return spool_error;
    auto full = [&] {
      return queued_rows + 1 > options.max_queued_rows ||
             queued_bytes + json.size() > options.max_queued_bytes;
    };
    if (full()) {
      ++stats.full;
      if (options.when_full == WhenFull::kFail) {
        return Status::ResourceExhausted("tracker queue is full (" + std::to_string(queued_rows) +
                                         " rows, " + std::to_string(queued_bytes) + " bytes)");
      }
      space_cv.wait_for(lock, options.block_timeout, [&] { return stopping || !full(); });
      if (stopping) return Status::Unavailable("tracker is stopped");
      if (full()) {
        return Status::ResourceExhausted("tracker queue stayed full for " +
                                         std::to_string(options.block_timeout.count()) + " ms");
      }
    }
    uint64_t seq = next_seq++;
    if (spool) {
      Status st = spool->AppendRow(seq, table, json);
      if (st.ok() && options.spool_sync == SpoolSync::kPerCall) st = spool->Sync();
      if (!st.ok()) return st;
      ++stats.spooled;
    }
    auto it = queues.find(table);
    if (it == queues.end()) it = queues.emplace(std::string(table), std::deque<Row>()).first;
    queued_rows += 1;
    queued_bytes += json.size();
    ++stats.tracked;
    it->second.push_back(Row{seq, std::move(json), Clock::now()});
    // The sender needs to know of a table's first row (its linger deadline) and a full batch.
    if (it->second.size() == 1 || it->second.size() % options.batch_rows == 0) {
      sender_cv.notify_one();
    }
    return Status::OK();
  }

  // The smallest seq not yet resolved; UINT64_MAX for none. Under mu.
  uint64_t MinUnresolved() const {
    uint64_t m = in_flight_min_seq;
    for (const auto& [table, q] : queues) {
      if (!q.empty()) m = std::min(m, q.front().seq);
    }
    for (const Batch& b : recovered_batches) m = std::min(m, b.rows.front().seq);
    return m;
  }

  Status Flush(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu);
    uint64_t target = next_seq - 1;
    if (MinUnresolved() > target) return Status::OK();
    if (sender_done) return Status::Unavailable("tracker is stopped");
    flush_upto = std::max(flush_upto, target);
    sender_cv.notify_one();
    if (!space_cv.wait_for(lock, timeout,
                           [&] { return MinUnresolved() > target || sender_done; })) {
      return Status::Timeout("rows still unacknowledged after " + std::to_string(timeout.count()) +
                             " ms");
    }
    if (MinUnresolved() <= target) return Status::Unavailable("tracker is stopped");
    return Status::OK();
  }

  std::string NewKey() {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string key;
    for (int i = 0; i < 2; ++i) {
      uint64_t v = rng();
      for (int b = 0; b < 16; ++b, v >>= 4) key.push_back(kHex[v & 15]);
    }
    return key;
  }

  // Takes the next batch to send into *batch; false when the sender should exit. Under mu.
  bool NextBatch(std::unique_lock<std::mutex>& lock, Batch* batch) {
    while (true) {
      if (stop_sender) return false;
      if (!recovered_batches.empty()) {
        *batch = std::move(recovered_batches.front());
        recovered_batches.pop_front();
        in_flight_min_seq = batch->rows.front().seq;
        return true;
      }
      Clock::time_point now = Clock::now();
      Clock::time_point wake = Clock::time_point::max();
      for (auto& [table, q] : queues) {
        if (q.empty()) continue;
        Clock::time_point due = q.front().queued_at + options.linger;
        if (q.size() >= options.batch_rows || due <= now || q.front().seq <= flush_upto) {
          FormBatch(table, &q, batch);
          return true;
        }
        wake = std::min(wake, due);
      }
      if (wake == Clock::time_point::max()) {
        sender_cv.wait(lock);
      } else {
        sender_cv.wait_until(lock, wake);
      }
    }
  }

  void FormBatch(const std::string& table, std::deque<Row>* q, Batch* batch) {
    batch->table = table;
    batch->key = NewKey();
    while (!q->empty() && batch->rows.size() < options.batch_rows &&
           (batch->rows.empty() || batch->bytes + q->front().json.size() <= kMaxBatchBytes)) {
      batch->bytes += q->front().json.size();
      batch->rows.push_back(std::move(q->front()));
      q->pop_front();
    }
    in_flight_min_seq = batch->rows.front().seq;
    if (spool) {
      // Record the batch's key, so that a restart sends these rows again under it; with
      // kPerBatch this sync also makes the rows themselves durable.
      Status st = spool->AppendBatch(batch->key, Seqs(*batch));
      if (st.ok()) st = spool->Sync();
      if (!st.ok()) spool_error = st;
    }
  }

  static SeqRanges Seqs(const Batch& b) {
    SeqRanges r;
    for (const Row& row : b.rows) client::AddSeq(&r, row.seq);
    return r;
  }

  std::chrono::milliseconds Backoff(uint32_t retry, const HttpAnswer& a) {
    double wait = static_cast<double>(options.initial_backoff.count());
    for (uint32_t i = 1; i < retry && wait < options.max_backoff.count(); ++i) wait *= 2;
    wait = std::min(wait, static_cast<double>(options.max_backoff.count()));
    wait *= 1.0 - options.jitter * std::uniform_real_distribution<double>(0, 1)(rng);
    auto ms = std::chrono::milliseconds(static_cast<int64_t>(wait));
    if ((a.status == 429 || a.status == 503) && a.retry_after) {
      ms = std::max(ms,
                    std::min<std::chrono::milliseconds>(*a.retry_after, options.max_retry_after));
    }
    return ms;
  }

  enum class Outcome { kAcknowledged, kRejected, kGivenUp, kStopped };

  // Sends the batch until it is acknowledged, rejected, out of attempts or the tracker stops.
  Outcome Send(const Batch& batch, HttpAnswer* answer) {
    std::string body;
    body.reserve(batch.bytes + batch.rows.size());
    for (const Row& r : batch.rows) {
      body += r.json;
      body += '\n';
    }
    std::vector<std::string> headers = base_headers;
    headers.push_back("Idempotency-Key: " + batch.key);
    std::string url = options.endpoint + "/track/" + batch.table;
    for (uint32_t attempt = 1;; ++attempt) {
      {
        std::lock_guard lock(mu);
        ++stats.requests;
        if (attempt == 1) {
          stats.sent += batch.rows.size();
        } else {
          ++stats.retried;
        }
      }
      *answer = http.Post(url, headers, body, options.request_timeout);
      if (answer->status >= 200 && answer->status < 300) return Outcome::kAcknowledged;
      if (!Retryable(*answer)) return Outcome::kRejected;
      if (options.max_attempts != 0 && attempt >= options.max_attempts) return Outcome::kGivenUp;
      std::unique_lock lock(mu);
      if (sender_cv.wait_for(lock, Backoff(attempt, *answer), [&] { return stop_sender; })) {
        return Outcome::kStopped;
      }
    }
  }

  static std::string Describe(const HttpAnswer& a) {
    if (a.status == 0) return "no answer: " + a.error;
    return "HTTP " + std::to_string(a.status) + ": " + a.body;
  }

  // What the error callback hears of a batch that was not acknowledged; none if it was, or if
  // the tracker stopped with a spool (the rows stay there for the next run).
  std::optional<BatchError> ErrorOf(const Batch& batch, Outcome outcome, const HttpAnswer& a) {
    Status status;
    switch (outcome) {
      case Outcome::kAcknowledged:
        return std::nullopt;
      case Outcome::kRejected:
        status = Status::Rejected("server refused the batch: " + Describe(a));
        break;
      case Outcome::kGivenUp:
        status =
            Status::Unavailable("batch not delivered after " +
                                std::to_string(options.max_attempts) + " attempts: " + Describe(a));
        break;
      case Outcome::kStopped:
        if (spool) return std::nullopt;
        status = Status::Unavailable("tracker stopped before the batch was delivered" +
                                     (a.status == 0 && a.error.empty() ? "" : ": " + Describe(a)));
        break;
    }
    BatchError e;
    e.table = batch.table;
    e.status = std::move(status);
    e.http_status = a.status;
    e.response_body = a.body;
    e.idempotency_key = batch.key;
    for (const Row& r : batch.rows) e.rows.push_back(r.json);
    return e;
  }

  // Reports the batch's error (before it counts as resolved, so that Flush returns after the
  // callback ran).
  void Report(const Batch& batch, Outcome outcome, const HttpAnswer& a) {
    if (!options.error_callback) return;
    if (std::optional<BatchError> e = ErrorOf(batch, outcome, a)) options.error_callback(*e);
  }

  // The batch is no longer queued; counts it, records it in the spool. Under mu.
  void Resolve(const Batch& batch, Outcome outcome) {
    queued_rows -= batch.rows.size();
    queued_bytes -= batch.bytes;
    in_flight_min_seq = UINT64_MAX;
    uint64_t n = batch.rows.size();
    switch (outcome) {
      case Outcome::kAcknowledged:
        stats.acknowledged += n;
        break;
      case Outcome::kRejected:
        stats.rejected += n;
        break;
      case Outcome::kGivenUp:
        stats.failed += n;
        break;
      case Outcome::kStopped:
        stats.failed += spool ? 0 : n;
        break;
    }
    if (spool && outcome != Outcome::kStopped) MaintainSpool(Seqs(batch));
    space_cv.notify_all();
  }

  void SenderLoop() {
    while (true) {
      Batch batch;
      {
        std::unique_lock lock(mu);
        if (!NextBatch(lock, &batch)) break;
      }
      HttpAnswer answer;
      Outcome outcome = Send(batch, &answer);
      Report(batch, outcome, answer);
      std::lock_guard lock(mu);
      Resolve(batch, outcome);
    }
    // Rows never sent: kept in the spool for the next run, or reported.
    std::vector<Batch> unsent;
    {
      std::lock_guard lock(mu);
      for (auto& [table, q] : queues) {
        while (!q.empty()) {
          Batch& b = unsent.emplace_back();
          b.table = table;
          b.key = NewKey();
          while (!q.empty() && b.rows.size() < options.batch_rows) {
            b.bytes += q.front().json.size();
            b.rows.push_back(std::move(q.front()));
            q.pop_front();
          }
        }
      }
      for (Batch& b : recovered_batches) unsent.push_back(std::move(b));
      recovered_batches.clear();
    }
    for (const Batch& b : unsent) Report(b, Outcome::kStopped, HttpAnswer());
    std::lock_guard lock(mu);
    for (const Batch& b : unsent) Resolve(b, Outcome::kStopped);
    sender_done = true;
    space_cv.notify_all();
  }

  // After a batch is resolved: records it in the spool, and keeps the file small. Under mu.
  void MaintainSpool(const SeqRanges& seqs) {
    Status st;
    if (queued_rows == 0) {
      st = spool->Clear();
    } else if (spool->size() > kCompactSpoolBytes && spool->size() > 4 * queued_bytes) {
      std::vector<client::SpoolRow> rows;
      std::vector<std::pair<std::string, SeqRanges>> batches;
      for (const Batch& b : recovered_batches) {
        for (const Row& r : b.rows) rows.push_back({r.seq, b.table, r.json});
        batches.emplace_back(b.key, Seqs(b));
      }
      for (const auto& [table, q] : queues) {
        for (const Row& r : q) rows.push_back({r.seq, table, r.json});
      }
      std::sort(rows.begin(), rows.end(),
                [](const client::SpoolRow& a, const client::SpoolRow& b) { return a.seq < b.seq; });
      st = spool->Rewrite(rows, batches);
    } else {
      st = spool->AppendResolved(seqs);
    }
    if (!st.ok()) spool_error = st;
  }

  TrackerOptions options;
  std::vector<std::string> base_headers;
  client::HttpClient http;       // sender thread only
  std::mt19937_64 rng;           // under mu (keys, jitter)
  std::unique_ptr<Spool> spool;  // under mu

  mutable std::mutex mu;
  std::condition_variable sender_cv;  // new rows, flush, stop
  std::condition_variable space_cv;   // rows resolved, stopping
  std::map<std::string, std::deque<Row>, std::less<>> queues;
  std::deque<Batch> recovered_batches;
  uint64_t in_flight_min_seq = UINT64_MAX;
  uint64_t next_seq = 1;
  uint64_t flush_upto = 0;
  uint64_t queued_rows = 0;
  uint64_t queued_bytes = 0;
  bool stopping = false;
  bool stop_sender = false;
  bool sender_done = false;
  Status spool_error;
  TrackerStats stats;

  std::thread sender;
  std::mutex stop_mu;
  bool stopped = false;
  Status stop_status;
};

Tracker::Tracker(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<Tracker>> Tracker::Open(TrackerOptions options) {
  if (Status st = ValidateOptions(options); !st.ok()) return st;
  auto impl = std::make_unique<Impl>(std::move(options));
  if (!impl->options.spool_path.empty()) {
    SpoolContents contents;
    auto spool = Spool::Open(impl->options.spool_path, &contents);
    if (!spool.ok()) return spool.status();
    impl->spool = std::move(spool).value();
    impl->Recover(std::move(contents));
  }
  Impl* raw = impl.get();
  raw->sender = std::thread([raw] { raw->SenderLoop(); });
  return std::unique_ptr<Tracker>(new Tracker(std::move(impl)));
}

Tracker::~Tracker() { Stop().IgnoreError(); }

Status Tracker::Track(std::string_view table, const Event& row) { return impl_->Track(table, row); }

Status Tracker::EntityMetric(const EntityMetricEvent& e) {
  Event row;
  row.Set("entityType", e.entity_type).Set("entityId", e.entity_id);
  if (e.user_id) row.Set("userId", *e.user_id);
  row.Set("metricType", e.metric_type).Set("metricValue", e.metric_value);
  return impl_->Track(impl_->options.entity_metric_table, row);
}

Status Tracker::Flush(std::chrono::milliseconds timeout) { return impl_->Flush(timeout); }

Status Tracker::Stop() {
  std::lock_guard stop_lock(impl_->stop_mu);
  if (impl_->stopped) return impl_->stop_status;
  impl_->stopped = true;
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
    impl_->space_cv.notify_all();
  }
  impl_->stop_status = impl_->Flush(impl_->options.stop_timeout);
  {
    std::lock_guard lock(impl_->mu);
    impl_->stop_sender = true;
    impl_->sender_cv.notify_all();
  }
  impl_->sender.join();
  return impl_->stop_status;
}

TrackerStats Tracker::stats() const {
  std::lock_guard lock(impl_->mu);
  TrackerStats s = impl_->stats;
  s.queued = impl_->queued_rows;
  s.queued_bytes = impl_->queued_bytes;
  return s;
}

}  // namespace trackhouse
