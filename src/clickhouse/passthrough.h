// PassthroughQueryHandler: the ClickHouse mode's query::QueryHandler. The HTTP interface hands
// it the statements that read (SELECT, SHOW, DESCRIBE, EXISTS, SHOW CREATE, system tables) and
// the ones ClickHouse runs by itself (INSERT ... SELECT, SYSTEM, KILL QUERY); it sends each to
// the ClickHouse server as it was written and returns ClickHouse's answer:
//
//  - the request's database, query_id and default_format go along; its settings go along as
//    ClickHouse settings, except the ones that shape trackhouse's own HTTP answer
//    (enable_http_compression, http_zlib_compression_level);
//  - {name:Type} parameters (`param_<name>` settings) go as param_<name> to servers that take
//    them (19.11 and later); for older servers (Debian's 18.16) trackhouse binds them into the
//    text itself with typed escaping (clickhouse/params.h);
//  - a read-only request (HTTP GET) runs with readonly=2 unless it names its own readonly
//    level, so ClickHouse refuses writes as it would for a GET;
//  - the body is ClickHouse's, in the statement's FORMAT (else default_format, else
//    TabSeparated); the Content-Type and X-ClickHouse-Format are those trackhouse's embedded
//    engine gives that format;
//  - ClickHouse's errors keep their codes (clickhouse/errors.h); an unreachable server is
//    Unavailable (code 210).
//
// INSERT with data and DDL do not come here: the router gives them to the storage (the
// delivery store spools inserts; its ExecuteDdl runs clickhouse::RunDdl).
//
// Thread-safe: Execute runs on many threads at once; each request borrows one Client (one
// keep-alive connection) from a pool, which keeps up to `max_idle_clients` between requests.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "clickhouse/capabilities.h"
#include "clickhouse/client.h"
#include "common/thread_annotations.h"
#include "query/query.h"

namespace trackhouse::clickhouse {

struct PassthroughOptions {
  ClientOptions client;
  // What the server supports. When not known (version 0.0: ClickHouse was down when trackhouse
  // started), the handler detects it on its first request that reaches the server and keeps it;
  // until then it binds parameters itself, which every server accepts.
  Capabilities capabilities;
  // Connections kept open between requests.
  size_t max_idle_clients = 16;
};

class PassthroughQueryHandler final : public query::QueryHandler {
 public:
  explicit PassthroughQueryHandler(PassthroughOptions options);
  ~PassthroughQueryHandler() override;

  Result<query::QueryResult> Execute(const query::QueryRequest& request) override;

  // The text and request options Execute sends for `request` with `capabilities` (parameters
  // bound or passed, settings filtered, readonly added). Exposed for tests.
  static Status Prepare(const query::QueryRequest& request, const Capabilities& capabilities,
                        std::string* sql, RequestOptions* options);

  // The capabilities requests are prepared with now.
  Capabilities capabilities();

 private:
  std::unique_ptr<Client> Borrow();
  void Return(std::unique_ptr<Client> client);
  // Detects the capabilities with `client` if they are not known yet.
  void DetectOnce(Client& client);

  const PassthroughOptions options_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Client>> idle_ GUARDED_BY(mu_);
  Capabilities capabilities_ GUARDED_BY(mu_);
  bool known_ GUARDED_BY(mu_) = false;
};

}  // namespace trackhouse::clickhouse
