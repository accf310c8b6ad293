// TrackHandler: POST /track/<table>, where web applications send events (docs/http-api.md,
// "Tracking events"). One request is one JSON object, a JSON array of objects, or NDJSON; its
// rows are validated against the table's columns and stored in one storage insert, so a
// request is all-or-nothing, also across a crash. The reply comes once the rows are in the
// durable log and synced:
//
//   200 {"accepted": n}                               stored
//   200 {"accepted": n, "rejected": [...]}            ?partial=1: good rows stored, bad listed
//   400 {"error": {"code": "BAD_ROWS", "message": ..., "rows": [{"index", "column", "reason"}]}}
//   413 body or row count over the limits, 415 unsupported Content-Type, 404 unknown table,
//   409 + Retry-After: a request with the same Idempotency-Key is being served right now
//   503 + Retry-After when the store pushes back (log or memory budget full, disk full).
//
// Idempotency: a request with an `Idempotency-Key` header (up to 128 visible ASCII characters)
// stores the key, scoped to its table, and its answer in the same log record as its rows; a
// retry with the same key gets the first answer again (header `Idempotency-Replayed: true`)
// and stores nothing. Keys survive crashes and restarts (the engine's IdempotencyIndex) for
// the storage's window.
//
// Actor context: where the table has the configured userId / ip / userAgent columns and a row
// omits them, they are filled from the request (TrackActor), not from their DEFAULT.
//
// Thread-safe: Handle() is called from many worker threads at once. Does not own the storage.
#pragma once

#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/thread_annotations.h"
#include "server/http.h"
#include "server/track_options.h"
#include "storage/storage.h"

namespace trackhouse::server {

// Who sent a request, for the table's actor columns.
struct TrackActor {
  std::optional<std::string> user_id;  // from a verified token or a trusted proxy's header
  std::string ip;                      // the client's address
  std::string user_agent;              // the User-Agent header
};

// The table a /track path names, parsed once by the router (for the key's access check) and
// handed to TrackHandler. Views into the request's path.
struct TrackTable {
  // `path` is what follows "/track/": "t" (database `default`) or "db.t".
  static TrackTable Parse(std::string_view path);

  // Whether the path names a table at all: neither name empty, no '/' in the table's.
  bool valid() const;

  std::string_view path;      // as sent, for error messages
  std::string_view database;  // "default" when the path has no dot
  std::string_view table;
};

class TrackHandler {
 public:
  TrackHandler(TrackOptions options, storage::Storage* storage, Clock* clock);

  // `table`: the table the path names; an invalid one is answered 404 UNKNOWN_TABLE.
  HttpResponse Handle(const HttpRequest& request, BodyReader* body, const TrackTable& table,
                      const TrackActor& actor);

 private:
  const TrackOptions options_;
  storage::Storage* const storage_;
  Clock* const clock_;
  // Idempotency-Keys of the requests being served, so that a concurrent retry waits its turn;
  // an InFlightSlot (track.cc) holds one for its request.
  class InFlightSlot;
  std::mutex in_flight_mu_;
  std::set<std::string> in_flight_ GUARDED_BY(in_flight_mu_);
};

// The JSON error body of /track and its status: {"error": {"code": ..., "message": ...}}.
HttpResponse TrackError(int http_status, std::string_view code, std::string_view message);

}  // namespace trackhouse::server
