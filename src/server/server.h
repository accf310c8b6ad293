// Server: trackhouse's HTTP/1.1 server (Boost.Beast on Asio). It serves
//   GET /ping, GET /            "Ok.\n" (as ClickHouse)
//   GET /health                 JSON status with storage mode and uptime
//   GET /metrics                Prometheus text of every counter in common/metrics.h
//   /?query=...  (GET, POST)    the ClickHouse HTTP interface: INSERT (streamed), DDL, and,
//                               through a QueryHandler, everything else
// docs/http-api.md describes the routes and their errors.
//
// Transport: `io_threads` threads run the acceptor and wait (asynchronously) for idle
// keep-alive connections to send a request. A small /track request that has arrived whole is
// served right there (serve_track_inline): the handler only parses it and queues its rows for
// the log, so nothing on the io thread waits; its answer leaves from the thread that synced
// the rows. Any other request is served on a worker thread
// (created on demand, at most `max_concurrent_requests`, reused) with blocking reads and
// writes bounded by `io_timeout_ms`, so a handler can stream a request body of any size in
// bounded memory. After answering, the worker waits up to `keep_alive_linger_us` for the
// connection's next request itself (at most half the workers do), so a busy keep-alive client
// costs no hand-offs between threads. On clear-text connections a handler may answer later
// (HttpRequest::responder): POST /track queues its rows for the log and is answered by the
// thread that synced them, while the worker goes on to wait for the connection's next
// request; answers still leave in request order. Keep-alive, chunked bodies and
// `Expect: 100-continue` are supported.
// Bounds: `max_connections` open connections (the next one gets 503 and is closed),
// `max_concurrent_requests` requests in service on workers (the next one gets 503 +
// Retry-After; a connection has at most one request served inline at a time),
// `max_request_header_bytes` of request line + headers (400 beyond), `header_timeout_ms` for
// a TLS handshake, and for a request line and headers together (408 beyond: slowloris), and
// `min_body_bytes_per_second` for a body that trickles in (408 beyond).
//
// TLS (tls_cert_file + tls_key_file, OpenSSL, TLS 1.2 or later): the handshake is done on the
// worker; a connection then waits for its first request, and between requests, as a clear
// one does (asynchronously, up to keep_alive_timeout_ms). CORS (cors_origins) is answered here, for
// every route: allowed origins get Access-Control-* headers and preflights are answered 204 (403
// for other origins) without reaching the router.
//
// The Server does not own the storage or the query handler; both must outlive it.
// Start()/Stop() may be called from any thread, once each; port() after Start().
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "ingest/ingest.h"
#include "query/query.h"
#include "server/access.h"
#include "server/auth.h"
#include "server/session.h"
#include "server/track_options.h"
#include "storage/storage.h"

namespace trackhouse::server {

struct ServerOptions {
  // Address to listen on: an IPv4/IPv6 literal or "localhost". Default loopback only.
  std::string host = "127.0.0.1";
  // TCP port; 0 picks a free port (tests), reported by Server::port(). Default 8124.
  uint16_t port = 8124;
  // Threads running the acceptor and idle-connection waits; 0 = hardware cores.
  uint32_t io_threads = 0;
  // Most requests served at once (worker threads); the next request gets 503. Default 256.
  uint32_t max_concurrent_requests = 256;
  // Most open connections; a new connection beyond it gets 503 and is closed. Default 4096.
  uint32_t max_connections = 4096;
  // Largest request line + header block; larger requests get 400. Default 64 KiB.
  uint32_t max_request_header_bytes = 64 * 1024;
  // Largest query text (URL `query` argument plus the start of the body that holds the
  // statement), as ClickHouse's max_query_size. Default 256 KiB.
  uint32_t max_query_bytes = 256 * 1024;
  // How long an idle keep-alive connection stays open waiting for its next request. Default 10 s.
  uint32_t keep_alive_timeout_ms = 10000;
  // After answering, a worker keeps waiting this long for the connection's next request
  // itself before handing the connection back to the io threads, while fewer than half of
  // max_concurrent_requests workers are doing so: a busy keep-alive client (an app server
  // posting events) is then served without two thread hand-offs per request. 0 = never.
  // Default 5 ms.
  uint32_t keep_alive_linger_us = 5000;
  // Small POST /track requests (a Content-Length body of at most inline_max_body_bytes, no
  // `Expect`) on clear-text connections that arrive whole are served by the io thread that saw
  // them (their answers come from the log's thread once durable), without a hand-off to a
  // worker; any other request, or one whose bytes are not all there, goes to a worker.
  // false = every request goes to a worker. Default true, 16 KiB.
  bool serve_track_inline = true;
  uint32_t inline_max_body_bytes = 16 * 1024;
  // Longest wait for a single read or write to make progress while serving a request
  // (a client that stops sending its body). Default 60 s.
  uint32_t io_timeout_ms = 60000;
  // Body bytes handed to the insert path per read. Default 1 MiB.
  uint32_t read_chunk_bytes = 1 << 20;
  // Stop(): how long in-flight requests may take to finish before their connections are shut
  // down. Default 30 s.
  uint32_t stop_timeout_ms = 30000;
  // Reported by /health: "embedded" or "clickhouse".
  std::string storage_mode = "embedded";
  // Defaults of the insert path (max_insert_block_size, ...); URL settings override them.
  ingest::IngestOptions ingest;
  // Users of the ClickHouse interface ([[server.users]]); empty = the single user `default`
  // with an empty password (what ClickHouse clients send when not told otherwise).
  std::vector<UserEntry> users;
  // `session_id` sessions: how many, default and largest session_timeout.
  SessionOptions sessions;
  // X-ClickHouse-Server-Display-Name; empty = the host name.
  std::string display_name;
  // API keys, end-user tokens, trusted proxies.
  AccessOptions access;
  // POST /track/<table>.
  TrackOptions track;
  // TLS on the listener: PEM certificate chain and private key files; both empty = plain HTTP.
  std::string tls_cert_file;
  std::string tls_key_file;
  // Origins ("https://example.com") whose browsers may call /track (CORS); "*" = any origin.
  // Empty = no CORS headers.
  std::vector<std::string> cors_origins;
  // Longest time a client may take to send a request line and headers (slow clients are cut
  // off, 408), counted from the first byte of the request. A new TLS connection's handshake
  // gets as long (one that does not finish in time closes the connection). 0 = no bound but
  // io_timeout_ms per read. Default 10 s.
  uint32_t header_timeout_ms = 10000;
  // Slowest request body accepted, averaged over the time spent waiting for its bytes: once
  // io_timeout_ms of waiting have passed, a body that has not kept this rate is cut off (408),
  // so a client sending a byte every few seconds cannot hold a worker for long. 0 = no
  // minimum (only io_timeout_ms per read). Default 1024.
  uint64_t min_body_bytes_per_second = 1024;
};

class Server {
 public:
  // `storage` is required; `query_handler` may be null (non-INSERT, non-DDL statements then
  // fail with NOT_IMPLEMENTED).
  Server(ServerOptions options, storage::Storage* storage, query::QueryHandler* query_handler);
  ~Server();  // Stops if still running.
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts serving. IOError (with the address) if the address cannot be bound;
  // InvalidArgument naming the file if the TLS certificate or key cannot be read or parsed,
  // or do not belong together (or only one of them is set).
  Status Start();
  // Stops accepting, lets in-flight requests finish (up to stop_timeout_ms, then shuts their
  // connections down), closes idle connections and joins every thread. Idempotent.
  Status Stop();

  // The bound port (useful with port 0). 0 before Start().
  uint16_t port() const;
  // "http://host:port" ("https://..." with TLS).
  std::string url() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace trackhouse::server
