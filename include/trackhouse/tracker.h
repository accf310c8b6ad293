// trackhouse::Tracker: the C++ client library of trackhouse. An application tracks events
// (rows of JSON fields) into trackhouse tables; the tracker queues them in bounded memory
// (and, optionally, in a local spool file), batches them per table and sends each batch as
// NDJSON to the server's `POST /track/<table>` on one background thread, retrying with backoff
// until the server acknowledges the batch.
//
//   trackhouse::TrackerOptions options;
//   options.endpoint = "http://127.0.0.1:8124";
//   auto tracker = trackhouse::Tracker::Open(options);        // Result<unique_ptr<Tracker>>
//   if (!tracker.ok()) { ... tracker.status().ToString() ... }
//   (*tracker)->EntityMetric({.entity_type = "Model", .entity_id = 42, .metric_type = "View"});
//   (*tracker)->Track("my_feature_events",
//                     trackhouse::Event().Set("feature_id", 7).Set("action", "open"));
//   (*tracker)->Flush(std::chrono::seconds(5));               // wait for acknowledgement
//
// Guarantees:
// - Track() never does network I/O on the caller's thread; it serialises the row, appends it
//   to the spool file when one is configured, and queues it.
// - Memory is bounded (max_queued_rows, max_queued_bytes). When the queue is full, Track()
//   blocks for a bounded time or fails at once (WhenFull); it never drops an event silently.
// - Every batch carries an Idempotency-Key (random 128-bit hex), the same on each retry, so a
//   batch whose answer was lost is stored once by the server.
// - A batch the server rejects for good (400, 404, 413, ...) is not retried: it is handed to
//   the error callback with the server's answer and its rows, and counted in
//   TrackerStats::rejected.
// - With a spool, events not yet acknowledged survive a restart of the application: the next
//   Tracker opened on the same spool file sends them (docs/formats/client-spool.md).
//
// Thread-safety: every method of Tracker may be called from any number of threads at once.
// Event and EntityMetricEvent are plain values (not thread-safe; copy them freely).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "trackhouse/client_status.h"

namespace trackhouse {

// One row: a JSON object of named scalar fields, built with Set(). Field order is kept.
//
//   trackhouse::Event e;
//   e.Set("feature_id", 7).Set("action", "open").Set("score", 0.5).SetNull("metadata");
//
// Setting the same field twice, a non-finite double or text that is not valid UTF-8 makes the
// event invalid: Tracker::Track() then returns InvalidArgument naming the field.
class Event {
 public:
  Event() = default;

  // Text (escaped as a JSON string).
  Event& Set(std::string_view name, std::string_view value);
  Event& Set(std::string_view name, const char* value) {
    return Set(name, std::string_view(value));
  }
  Event& Set(std::string_view name, const std::string& value) {
    return Set(name, std::string_view(value));
  }
  // Integers of any width and signedness (not bool, which has its own overload).
  template <typename I>
  requires(std::is_integral_v<I> && !std::is_same_v<I, bool> &&
           !std::is_same_v<I, char>) Event& Set(std::string_view name, I value) {
    if constexpr (std::is_signed_v<I>) {
      return SetInt(name, static_cast<int64_t>(value));
    } else {
      return SetUInt(name, static_cast<uint64_t>(value));
    }
  }
  Event& Set(std::string_view name, double value);
  Event& Set(std::string_view name, float value) { return Set(name, static_cast<double>(value)); }
  Event& Set(std::string_view name, bool value);
  // JSON null: the column takes its DEFAULT (or NULL for a Nullable column).
  Event& SetNull(std::string_view name);

  // True if a field of that name has been set.
  bool Has(std::string_view name) const;
  // The number of fields set.
  size_t size() const { return names_.size(); }
  // The first problem found while building (empty when the event is valid).
  const std::string& error() const { return error_; }
  // The object as compact JSON text: {"a":1,"b":"x"}.
  std::string ToJson() const { return "{" + fields_ + "}"; }

 private:
  friend class Tracker;
  Event& SetInt(std::string_view name, int64_t value);
  Event& SetUInt(std::string_view name, uint64_t value);
  // Appends `"name":` (and the separator) if the name is new; false (error recorded) if not.
  bool AddName(std::string_view name);

  std::string fields_;              // the object's members, without the braces
  std::vector<std::string> names_;  // in the order set
  std::string error_;
};

// The event of the metrics guide: one count (or amount) of a metric of an entity, stored in
// the table `TrackerOptions::entity_metric_table` (default entityMetricEvents) as the JSON
// fields entityType, entityId, metricType, metricValue and (when set) userId.
struct EntityMetricEvent {
  // The kind of entity: "Model", "Image", "Article", ...
  std::string entity_type;
  // The entity's id.
  int32_t entity_id = 0;
  // What happened: "View", "Download", "Like", "Dislike", "Comment", "Share", ...
  std::string metric_type;
  // How much; default 1.
  int32_t metric_value = 1;
  // The acting user; unset = left to the server (the end user of TrackerOptions::user_token,
  // else the column's DEFAULT).
  std::optional<int32_t> user_id;
};

// A batch the server refused for good, or that could not be delivered (see error_callback).
struct BatchError {
  // The table the batch was for.
  std::string table;
  // Rejected: the server's verdict (400, 401, 403, 404, 413, 415, ...). Unavailable: retries
  // exhausted (max_attempts) or the tracker stopped, without a spool, before delivery.
  client::Status status;
  // The HTTP status of the last answer; 0 when there was none (connection failed).
  int http_status = 0;
  // The body of the last answer (the server's JSON error, naming rows and columns), at most
  // 64 KiB.
  std::string response_body;
  // The batch's Idempotency-Key.
  std::string idempotency_key;
  // The rows of the batch, one JSON object each, in the order they were tracked; row i is
  // `index` i of the server's error.
  std::vector<std::string> rows;
};

// What Track() does when the queue is full (max_queued_rows or max_queued_bytes).
enum class WhenFull : uint8_t {
  // Wait until there is room, up to TrackerOptions::block_timeout; then ResourceExhausted.
  kBlock,
  // Return ResourceExhausted at once.
  kFail,
};

// When the spool file is fsync'ed (the bytes are written to the file by Track() in both cases,
// so they survive a crash of the application; the sync makes them survive power loss).
enum class SpoolSync : uint8_t {
  // Before each batch is sent (by the sender thread). Track() does no fsync.
  kPerBatch,
  // Before each Track() returns.
  kPerCall,
};

struct TrackerOptions {
  // The server: "http://host:port" (a path prefix is allowed: "http://host/trackhouse").
  // Required.
  std::string endpoint;
  // API key, sent as `Authorization: Bearer <key>`; empty = none (a server without keys).
  std::string key;
  // End-user token (the application's JWT for the acting user), sent as X-Trackhouse-Token;
  // the server fills the table's user column from it. Empty = none.
  std::string user_token;

  // Rows per request (one table per request): a table's queue is sent once it holds this many
  // rows. Default 500.
  uint32_t batch_rows = 500;
  // Longest a tracked row waits for its batch to fill before it is sent anyway. Default 1 s.
  std::chrono::milliseconds linger{1000};

  // Memory bound: rows tracked and not yet acknowledged (or rejected). Default 100,000.
  uint64_t max_queued_rows = 100000;
  // Memory bound: bytes of those rows' JSON text. Default 64 MiB.
  uint64_t max_queued_bytes = 64ull << 20;
  // What Track() does when a bound is reached. Default kBlock.
  WhenFull when_full = WhenFull::kBlock;
  // kBlock: longest Track() waits for room. Default 1 s.
  std::chrono::milliseconds block_timeout{1000};

  // Retries of a batch after a connection failure, a timeout, 408, 429 or 5xx.
  // Most attempts per batch (the first included); 0 = retry until the server acknowledges or
  // the tracker stops. A batch that runs out of attempts goes to the error callback. Default 0.
  uint32_t max_attempts = 0;
  // Wait before the first retry; doubled for each further retry. Default 100 ms.
  std::chrono::milliseconds initial_backoff{100};
  // Longest wait between attempts. Default 10 s.
  std::chrono::milliseconds max_backoff{10000};
  // Share of each wait that is randomised (0 = none, 1 = anywhere from 0 to the full wait), so
  // that many clients do not retry in step. Default 0.2.
  double jitter = 0.2;
  // A `Retry-After` of a 429 or 503 is honoured (the wait is at least that long), up to this
  // bound. Default 60 s.
  std::chrono::milliseconds max_retry_after{60000};

  // Longest one request may take, connecting included. Default 10 s.
  std::chrono::milliseconds request_timeout{10000};
  // Stop() (and the destructor): longest it waits for queued rows to be acknowledged. Default 5 s.
  std::chrono::milliseconds stop_timeout{5000};

  // Local spool file; empty = none (queued rows live in memory only). Rows are appended when
  // tracked and removed once acknowledged; rows left by a previous run are sent first. One
  // Tracker per file (it is locked). Format: docs/formats/client-spool.md.
  std::string spool_path;
  // When the spool is fsync'ed. Default kPerBatch.
  SpoolSync spool_sync = SpoolSync::kPerBatch;

  // Field stamped with the time of the Track() call, unless the row sets it: UTC text
  // "YYYY-MM-DD hh:mm:ss.sss" (a DateTime64(3) or DateTime column reads it). Empty = no stamp.
  // Default "createdAt".
  std::string time_field = "createdAt";
  // Table of EntityMetric(); "t" or "db.t". Default "entityMetricEvents".
  std::string entity_metric_table = "entityMetricEvents";

  // Called on the sender thread for every batch the server rejects for good, and for batches
  // given up (BatchError::status says which), before their rows count as resolved (so a
  // Flush() covering them returns after the call). Must not call Flush() or Stop(); Track()
  // from it gets no room freed while it runs. May be empty:
  // such batches are then only counted (TrackerStats::rejected, TrackerStats::failed).
  std::function<void(const BatchError&)> error_callback;
};

// Counters since Open(); rows unless named otherwise.
struct TrackerStats {
  uint64_t tracked = 0;       // accepted by Track() / EntityMetric() (and recovered from the spool)
  uint64_t queued = 0;        // waiting or in flight now (not yet acknowledged or rejected)
  uint64_t queued_bytes = 0;  // their JSON bytes
  uint64_t sent = 0;          // sent in a request (each row once, however often retried)
  uint64_t acknowledged = 0;  // acknowledged by the server (200)
  uint64_t rejected = 0;      // refused by the server for good (error callback)
  uint64_t failed = 0;        // given up: attempts exhausted, or unsent at Stop() without spool
  uint64_t spooled = 0;       // appended to the spool file
  uint64_t recovered = 0;     // read back from the spool at Open()
  uint64_t full = 0;          // Track() calls that found the queue full (waited or failed)
  uint64_t requests = 0;      // HTTP requests made (attempts)
  uint64_t retried = 0;       // attempts that were retries
};

class Tracker {
 public:
  // Validates the options, opens (and locks) the spool if any, queues the rows it holds, and
  // starts the sender thread. InvalidArgument for bad options; IOError / Corruption (naming the
  // file and offset) for a spool that cannot be opened or read.
  static client::Result<std::unique_ptr<Tracker>> Open(TrackerOptions options);

  // Stop().
  ~Tracker();
  Tracker(const Tracker&) = delete;
  Tracker& operator=(const Tracker&) = delete;

  // Queues one row for `table` ("t" or "db.t"), stamped with TrackerOptions::time_field unless
  // it sets that field. InvalidArgument: an invalid event or table name. ResourceExhausted: the
  // queue is full (at once with kFail, after block_timeout with kBlock). Unavailable: after
  // Stop(). IOError: the spool could not be written (the row is not queued).
  client::Status Track(std::string_view table, const Event& row);

  // Track(entity_metric_table, the event's fields).
  client::Status EntityMetric(const EntityMetricEvent& event);

  // Sends every row queued before the call without waiting for linger, and returns OK once
  // each is resolved: acknowledged by the server, or rejected (and reported to the error
  // callback). Timeout if that takes longer than `timeout`.
  client::Status Flush(std::chrono::milliseconds timeout);

  // Refuses new rows, flushes for up to stop_timeout, then stops the sender thread (a request
  // in flight finishes first, bounded by request_timeout). Rows still unacknowledged stay in the
  // spool for the next run; without a spool they go to the error callback (TrackerStats::failed).
  // Returns the status of that flush (Timeout if rows were left); calling it again returns the
  // same status.
  client::Status Stop();

  // A snapshot of the counters.
  TrackerStats stats() const;

 private:
  struct Impl;
  explicit Tracker(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace trackhouse
