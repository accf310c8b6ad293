// The ClickHouse mode's pieces of the trackhouse binary: the query handler `serve` installs
// (reads pass through to ClickHouse; GET /doctor reports the delivery store), the JSON of that
// report, and `trackhouse doctor`, which asks a running server for it and prints it.
//
//   GET /doctor ->
//   {"mode":"clickhouse","version":"0.9.0",
//    "clickhouse":{"url":"http://127.0.0.1:8123","cluster":"","reachable":true,"error":"",
//                  "server_version":"18.16.1"},
//    "adaptations":["ClickHouse 18.16.1 has no DateTime64 (from 20.1): ...", ...],
//    "backlog":{"rows":0,"bytes":0,"lag_seconds":0},"dead_letters":0,
//    "tables":[{"database":"default","table":"events","mechanism":"block_number",
//               "backlog_rows":0,"backlog_bytes":0,"dead_letters":0}]}
//
// In embedded mode the server answers {"mode":"embedded","version":...}.
//
// ClickHouseModeHandler is thread-safe (the handler and the store are).
#pragma once

#include <cstdio>
#include <string>

#include "clickhouse/passthrough.h"
#include "common/status.h"
#include "delivery/delivery.h"
#include "query/query.h"
#include "server/router.h"

namespace trackhouse::app {

// The report of `store` as the JSON object of GET /doctor.
std::string DoctorJson(delivery::DeliveryStore& store, const std::string& cluster);

// Reads, SHOW, ... pass through to ClickHouse, also reads trackhouse's parser refuses (JOIN, ...:
// ClickHouse parses them); GET /doctor reports `store`. Does not own the store, which must
// outlive it.
class ClickHouseModeHandler final : public query::QueryHandler,
                                    public server::DoctorSource,
                                    public server::UnparsedReadHandler {
 public:
  ClickHouseModeHandler(delivery::DeliveryStore* store, std::string cluster);

  Result<query::QueryResult> Execute(const query::QueryRequest& request) override;
  std::string DoctorJson() override;

 private:
  delivery::DeliveryStore* const store_;
  const std::string cluster_;
  clickhouse::PassthroughQueryHandler passthrough_;
};

// `trackhouse doctor`: GETs `url`/doctor (with `key` as a Bearer key when not empty) and prints
// the report to `out` for people. Returns the process exit code: 0 when the server answered and
// (in ClickHouse mode) reaches ClickHouse, 1 otherwise (the reason printed to `err`).
int RunDoctor(const std::string& url, const std::string& key, std::FILE* out, std::FILE* err);

}  // namespace trackhouse::app
