#include "clickhouse/ddl.h"

namespace trackhouse::clickhouse {

Status RunDdl(const DdlContext& context, const sql::Statement& stmt, std::string_view sql,
              const std::string& database) {
  (void)stmt;
  RequestOptions request;
  request.database = database;
  request.settings = context.capabilities->RequiredSettings();
  auto body = context.client->Query(sql, request);
  return body.ok() ? Status::OK() : body.status();
}

}  // namespace trackhouse::clickhouse
