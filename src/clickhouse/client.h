// Client: a ClickHouse HTTP client (libcurl) for the ClickHouse storage mode -- queries, DDL,
// inserts of encoded rows (RowBinary, compressed), and /ping. Every failure is a Status:
// ClickHouse's exceptions keep their code (see clickhouse/errors.h for the mapping), and a
// server that cannot be reached, times out or cuts the connection is Unavailable (retryable).
//
//   auto options = ClientOptions::FromUrl("http://writer:secret@127.0.0.1:8123/metrics");
//   Client client(*options);
//   TH_RETURN_IF_ERROR(client.Ping());
//   Result<std::string> v = client.Query("SELECT version()");          // "18.16.1\n"
//   Status s = client.InsertBlock({"", "events", {}}, block);           // RowBinary, gzip
//
// Credentials travel in the X-ClickHouse-User / X-ClickHouse-Key headers, never in the URL;
// settings and {name:Type} parameters travel as URL parameters. A Client owns one libcurl handle
// and its keep-alive connection. Thread-safe: calls are serialized by an internal mutex, so one
// request is in flight per Client at a time; use one Client per sending thread for parallelism.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "types/block.h"

namespace trackhouse::clickhouse {

// Name/value pairs sent in order: ClickHouse settings, or query parameters.
using Settings = std::vector<std::pair<std::string, std::string>>;

// How request bodies (inserted rows) are compressed, as HTTP Content-Encoding. ClickHouse 18.16
// accepts gzip and deflate (zlib); it answers "Unknown Content-Encoding" (code 89) to br, zstd,
// lz4 and others, which only newer servers accept, so those are not offered.
enum class Compression : uint8_t { kNone, kGzip, kDeflate };

struct ClientOptions {
  // Where ClickHouse listens. https selects TLS. Defaults: http, 127.0.0.1, 8123 (8443 with
  // https when parsed from a URL without a port).
  bool https = false;
  std::string host = "127.0.0.1";  // a name, IPv4, or IPv6 without brackets
  uint16_t port = 8123;
  // Credentials, sent as X-ClickHouse-User / X-ClickHouse-Key. Default: "default", no password.
  std::string user = "default";
  std::string password;
  // The database of unqualified names (sent as `database=`). Default "default".
  std::string database = "default";
  // Time allowed to establish the TCP (and TLS) connection. Default 2 s.
  std::chrono::milliseconds connect_timeout{2000};
  // Time allowed for a whole request, connection included. Default 60 s.
  std::chrono::milliseconds request_timeout{60000};
  // TLS: a PEM file of trusted CAs (empty: the system's), and whether the server's certificate
  // and host name are verified (default true; false only for tests).
  std::string tls_ca_file;
  bool tls_verify = true;
  // Compression of insert bodies (default gzip) and its zlib level 1..9 (default 3).
  Compression compression = Compression::kGzip;
  int compression_level = 3;
  // Ask ClickHouse to gzip responses (enable_http_compression=1). Default false: results on
  // loopback and LAN are cheaper uncompressed.
  bool compress_responses = false;
  // A response body larger than this fails with ResourceExhausted. Default 256 MiB.
  uint64_t max_response_bytes = 256ull << 20;

  // Parses `http[s]://[user[:password]@]host[:port][/database]` (user, password and database
  // percent-decoded; IPv6 hosts in brackets). Other fields keep their defaults. A malformed URL is
  // InvalidArgument naming what is wrong.
  static Result<ClientOptions> FromUrl(std::string_view url);
  // "http://host:port" (no credentials): for messages and logs.
  std::string Endpoint() const;
};

// Per-request options.
struct RequestOptions {
  Settings settings;       // ClickHouse settings, e.g. {"max_execution_time", "10"}
  Settings params;         // {name:Type} query parameters, sent as param_<name> (>= 19.11)
  std::string query_id;    // sent as query_id when not empty
  std::string database;    // overrides ClientOptions::database when not empty
  std::string format;      // default_format: the result format when the SQL names none
};

// The target of an insert: `INSERT INTO database.table (columns) FORMAT format`.
struct InsertTarget {
  std::string database;  // empty: the request's or the client's database
  std::string table;
  std::vector<std::string> columns;  // empty: all columns in table order
  std::string format = "RowBinary";
};

// The body of an InsertBlock, encoded (RowBinary) and compressed ahead of sending, e.g. on
// another thread while the client is busy with an earlier request.
struct EncodedInsert {
  std::vector<std::string> columns;  // the block's column names
  std::string body;                  // RowBinary rows, compressed as `encoding`
  std::string encoding;              // Content-Encoding: "gzip", "deflate" or "" (none)
};

// Encodes `block` as InsertBlock does with a client of these options. Needs no connection and
// touches no Client, so it may run on any thread.
Result<EncodedInsert> EncodeInsertBlock(const ClientOptions& options, const types::Block& block);

class Client {
 public:
  explicit Client(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const ClientOptions& options() const { return options_; }

  // GET /ping: OK when the server answers "Ok.".
  Status Ping();

  // Runs one statement (SELECT, DDL, ...) and returns the whole response body in the statement's
  // FORMAT (or request.format, or TabSeparated). The server is asked to finish the query before
  // answering (wait_end_of_query=1), so an error half way is an error, not a truncated body.
  Result<std::string> Query(std::string_view sql, const RequestOptions& request = {});

  // Posts `body`, rows already encoded in target.format, compressed as options().compression.
  // OK means ClickHouse committed the rows. A retryable failure (IsRetryable) after the body was
  // sent leaves it unknown whether ClickHouse committed them.
  Status Insert(const InsertTarget& target, std::string_view body,
                const RequestOptions& request = {});

  // Inserts `block` as RowBinary into the columns named by the block's columns (target.columns
  // and target.format are ignored). The block's types must be the table's column types.
  Status InsertBlock(const InsertTarget& target, const types::Block& block,
                     const RequestOptions& request = {});

  // Posts rows EncodeInsertBlock prepared into target.database.table (target.columns and
  // target.format are ignored), with the same outcome semantics as Insert.
  Status InsertEncoded(const InsertTarget& target, const EncodedInsert& insert,
                       const RequestOptions& request = {});

 private:
  struct Response;
  struct Handle;
  // Sends one request; `url_params` already encoded. `post` false: GET. `encoding` names the
  // body's Content-Encoding ("" when none).
  Result<Response> Perform(bool post, const std::string& url_params, std::string_view body,
                           std::string_view encoding);
  std::string UrlParams(const RequestOptions& request) const;
  // Posts an INSERT of `body` (already compressed as `encoding`, "" when not).
  Status PostInsert(const InsertTarget& target, std::string_view body, std::string_view encoding,
                    const RequestOptions& request);

  const ClientOptions options_;
  std::mutex mu_;
  std::unique_ptr<Handle> handle_ GUARDED_BY(mu_);
};

// The rows of a TabSeparated body (ClickHouse's answer in FORMAT TabSeparated), each split into
// its fields with the escaping undone.
std::vector<std::vector<std::string>> ParseTabSeparated(std::string_view body);
// Runs `sql` with FORMAT TabSeparated appended and returns ParseTabSeparated of the answer.
Result<std::vector<std::vector<std::string>>> QueryRows(Client& client, std::string_view sql,
                                                        const RequestOptions& request = {});

// `name` as a ClickHouse identifier in back quotes, with ` and \ escaped: `my events`.
std::string QuoteIdentifier(std::string_view name);
// `s` as a ClickHouse string literal in single quotes, with ', \ and control bytes escaped.
std::string QuoteString(std::string_view s);

}  // namespace trackhouse::clickhouse
