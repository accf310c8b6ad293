#include "clickhouse/passthrough.h"

#include <string>
#include <string_view>
#include <utility>

#include "clickhouse/params.h"
#include "common/clock.h"
#include "formats/output_format.h"

namespace trackhouse::clickhouse {
namespace {

constexpr std::string_view kParamPrefix = "param_";

// Statements whose answer is rows in a format.
bool ReturnsRows(sql::StatementKind kind) {
  switch (kind) {
    case sql::StatementKind::kSelect:
    case sql::StatementKind::kShowTables:
    case sql::StatementKind::kShowDatabases:
    case sql::StatementKind::kShowCreateTable:
    case sql::StatementKind::kDescribe:
    case sql::StatementKind::kExists:
    case sql::StatementKind::kKillQuery:
      return true;
    default:
      return false;
  }
}

// Settings that shape trackhouse's own HTTP answer, not the query.
bool IsTransportSetting(std::string_view name) {
  return name == "enable_http_compression" || name == "http_zlib_compression_level";
}

}  // namespace

PassthroughQueryHandler::PassthroughQueryHandler(PassthroughOptions options)
    : options_(std::move(options)),
      capabilities_(options_.capabilities),
      known_(options_.capabilities.version.major != 0) {}

Capabilities PassthroughQueryHandler::capabilities() {
  std::lock_guard<std::mutex> lock(mu_);
  return capabilities_;
}

void PassthroughQueryHandler::DetectOnce(Client& client) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (known_) return;
  }
  Result<Capabilities> detected = DetectCapabilities(client);
  if (!detected.ok()) return;  // still unreachable: the next request tries again
  std::lock_guard<std::mutex> lock(mu_);
  capabilities_ = *detected;
  known_ = true;
}

PassthroughQueryHandler::~PassthroughQueryHandler() = default;

Status PassthroughQueryHandler::Prepare(const query::QueryRequest& request,
                                        const Capabilities& capabilities, std::string* sql,
                                        RequestOptions* options) {
  // Settings apply in order, and none may follow a readonly=1: the server's required settings
  // come first (unless the request sets them itself), then the request's, then readonly=2.
  Settings params;
  Settings given;
  bool has_readonly = false;
  for (const auto& [name, value] : request.settings) {
    if (name.size() > kParamPrefix.size() && name.starts_with(kParamPrefix)) {
      params.emplace_back(name.substr(kParamPrefix.size()), value);
      continue;
    }
    if (IsTransportSetting(name)) continue;
    if (name == "readonly") {
      // A read-only request stays read-only: readonly=0 (which a GET may carry) does not lift it.
      if (request.readonly && (value == "0" || value == "false")) continue;
      has_readonly = true;
    }
    given.emplace_back(name, value);
  }
  for (const auto& s : capabilities.RequiredSettings()) {
    bool set = false;
    for (const auto& g : given) set |= g.first == s.first;
    if (!set) options->settings.push_back(s);
  }
  options->settings.insert(options->settings.end(), given.begin(), given.end());
  if (request.readonly && !has_readonly) options->settings.emplace_back("readonly", "2");
  if (capabilities.http_query_parameters) {
    options->params = std::move(params);
    *sql = std::string(request.sql);
  } else {
    TH_ASSIGN_OR_RETURN(*sql, BindParameters(request.sql, params));
  }
  options->database = request.database;
  options->query_id = request.query_id;
  if (request.statement != nullptr && request.statement->format.empty()) {
    options->format = request.default_format;
  }
  return Status::OK();
}

std::unique_ptr<Client> PassthroughQueryHandler::Borrow() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      std::unique_ptr<Client> c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
  }
  return std::make_unique<Client>(options_.client);
}

void PassthroughQueryHandler::Return(std::unique_ptr<Client> client) {
  std::lock_guard<std::mutex> lock(mu_);
  if (idle_.size() < options_.max_idle_clients) idle_.push_back(std::move(client));
}

Result<query::QueryResult> PassthroughQueryHandler::Execute(const query::QueryRequest& request) {
  if (request.statement == nullptr) {
    return Status::InvalidArgument("PassthroughQueryHandler::Execute needs the parsed statement");
  }
  const sql::Statement& stmt = *request.statement;
  const int64_t start = Clock::Real()->MonotonicMicros();
  auto record = [&](bool ok) {
    query::RecordStatement(stmt, ok, (Clock::Real()->MonotonicMicros() - start) / 1e6);
  };
  std::unique_ptr<Client> client = Borrow();
  DetectOnce(*client);
  std::string text;
  RequestOptions options;
  if (Status st = Prepare(request, capabilities(), &text, &options); !st.ok()) {
    Return(std::move(client));
    record(false);
    return st;
  }
  Result<std::string> body = client->Query(text, options);
  Return(std::move(client));
  if (!body.ok()) {
    record(false);
    return body.status();
  }
  record(true);

  query::QueryResult result;
  result.body = std::move(body).value();
  if (!ReturnsRows(stmt.kind)) {
    result.content_type = "text/plain; charset=UTF-8";
    return result;
  }
  std::string format = stmt.format;
  if (format.empty()) format = request.default_format;
  if (format.empty()) format = "TabSeparated";
  auto f = formats::MakeOutputFormat(format, {});
  result.content_type =
      f.ok() ? std::string((*f)->content_type()) : std::string("text/plain; charset=UTF-8");
  result.format = format;
  result.result_bytes = result.body.size();
  return result;
}

}  // namespace trackhouse::clickhouse
