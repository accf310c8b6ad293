#include "apps/trackhouse/sql_target.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "apps/trackhouse/remote_client.h"
#include "common/clock.h"
#include "common/metrics.h"
#include "engine/engine.h"
#include "ingest/ingest.h"
#include "query/settings.h"
#include "server/router.h"

namespace trackhouse::app {
namespace {

constexpr std::string_view kDatabase = "default";

class LocalTarget final : public SqlTarget {
 public:
  LocalTarget(std::unique_ptr<storage::Storage> storage, std::string data_dir,
              ingest::IngestOptions ingest, query::QueryEngineOptions query_options)
      : storage_(std::move(storage)),
        engine_(std::make_unique<query::QueryEngine>(storage_.get(), query_options)),
        data_dir_(std::move(data_dir)),
        ingest_(ingest) {}
  ~LocalTarget() override { Close().IgnoreError(); }

  Status Execute(const sql::Statement& stmt, std::string_view text,
                 std::string_view inline_data) override {
    if (sql::IsDdlStatement(stmt.kind)) return storage_->ExecuteDdl(stmt, text, database_);
    if (stmt.kind == sql::StatementKind::kUse) return Use(*stmt.As<sql::UseStmt>());
    if (stmt.kind == sql::StatementKind::kSet) return Set(stmt);
    const auto* insert = stmt.As<sql::InsertStmt>();
    if (insert == nullptr || insert->source == sql::InsertStmt::Source::kSelect) {
      return Query(stmt, text);
    }
    TH_ASSIGN_OR_RETURN(auto stream, Open(*insert));
    TH_RETURN_IF_ERROR(stream->Feed(inline_data));
    return stream->Finish();
  }

  Status ExecuteInsertFrom(const sql::InsertStmt& stmt, std::string_view text,
                           std::FILE* in) override {
    if (stmt.source == sql::InsertStmt::Source::kSelect) return Query(stmt, text);
    TH_ASSIGN_OR_RETURN(auto stream, Open(stmt));
    std::vector<char> buffer(1 << 20);
    while (true) {
      size_t n = std::fread(buffer.data(), 1, buffer.size(), in);
      if (n > 0) TH_RETURN_IF_ERROR(stream->Feed(std::string_view(buffer.data(), n)));
      if (n < buffer.size()) {
        if (std::ferror(in)) return Status::IOError("error reading the INSERT data from stdin");
        break;
      }
    }
    return stream->Finish();
  }

  Result<std::map<std::string, std::string>> ReadMigrations() override {
    storage::ScanRequest request;
    request.columns = {"name", "checksum"};
    request.now_micros = Clock::Real()->NowMicros();
    TH_ASSIGN_OR_RETURN(
        auto scan, storage_->Scan(std::string(kDatabase), std::string(kMigrationsTable), request));
    std::map<std::string, std::string> out;
    types::Block block;
    while (scan->NextBlock(&block)) {
      if (block.num_columns() < 2) continue;
      for (size_t row = 0; row < block.rows(); ++row) {
        types::Value name = block.at(0).column->GetValue(row);
        types::Value sum = block.at(1).column->GetValue(row);
        if (name.kind() != types::Value::Kind::kString ||
            sum.kind() != types::Value::Kind::kString) {
          return Status::Corruption("trackhouse_migrations has unexpected column types");
        }
        out[name.string_value()] = sum.string_value();
      }
    }
    TH_RETURN_IF_ERROR(scan->status());
    return out;
  }

  Status Close() override {
    if (!storage_) return Status::OK();
    engine_.reset();
    Status st = storage_->Stop();
    storage_.reset();
    return st;
  }

  std::string Describe() const override { return "data directory " + data_dir_; }

 private:
  Result<std::unique_ptr<ingest::InsertStream>> Open(const sql::InsertStmt& stmt) {
    ingest::IngestOptions options = ingest_;
    options.max_insert_block_size = settings_.max_insert_block_size;
    options.skip_unknown_fields = settings_.input_format_skip_unknown_fields;
    return ingest::InsertStream::Open(storage_.get(), database_, stmt, stmt.data_format, options,
                                      Clock::Real()->NowMicros());
  }

  // Statements that return rows (and INSERT ... SELECT, OPTIMIZE ...) go to the query engine.
  Status Query(const sql::Statement& stmt, std::string_view text) {
    query::QueryRequest request;
    request.statement = &stmt;
    request.sql = text;
    request.database = database_;
    request.settings = setting_args_;
    request.default_format = output_format_;
    request.now_micros = Clock::Real()->NowMicros();
    TH_ASSIGN_OR_RETURN(query::QueryResult result, engine_->Execute(request));
    std::fwrite(result.body.data(), 1, result.body.size(), stdout);
    std::fflush(stdout);
    return Status::OK();
  }

  Status Use(const sql::UseStmt& use) {
    TH_ASSIGN_OR_RETURN(auto databases, storage_->ListDatabases());
    if (std::find(databases.begin(), databases.end(), use.database) == databases.end()) {
      return Status::NotFound(fmt::format("Database {} does not exist", use.database),
                              ch::kUnknownDatabase);
    }
    database_ = use.database;
    return Status::OK();
  }

  Status Set(const sql::Statement& stmt) {
    query::QuerySettings check = settings_;
    std::vector<std::pair<std::string, std::string>> values;
    for (const sql::Setting& s : stmt.settings) {
      TH_ASSIGN_OR_RETURN(std::string text, query::SettingValueText(s));
      TH_RETURN_IF_ERROR(query::ApplySetting(s.name, text, &check));
      values.emplace_back(s.name, std::move(text));
    }
    settings_ = check;
    for (auto& v : values) setting_args_.push_back(std::move(v));
    return Status::OK();
  }

  std::unique_ptr<storage::Storage> storage_;
  std::unique_ptr<query::QueryEngine> engine_;
  std::string data_dir_;
  ingest::IngestOptions ingest_;
  // What USE and SET changed, for the statements that follow.
  std::string database_ = std::string(kDatabase);
  query::QuerySettings settings_ = DefaultSettings(ingest_);
  std::vector<std::pair<std::string, std::string>> setting_args_;

  static query::QuerySettings DefaultSettings(const ingest::IngestOptions& ingest) {
    query::QuerySettings s;
    s.max_insert_block_size = ingest.max_insert_block_size;
    s.input_format_skip_unknown_fields = ingest.skip_unknown_fields;
    return s;
  }
};

class RemoteTarget final : public SqlTarget {
 public:
  // Statements of one command share an HTTP session, so that SET and USE carry over.
  explicit RemoteTarget(const std::string& url) : client_(url, "") {
    client_.SetParam("session_id", "trackhouse-cli-" + server::GenerateUuid());
  }

  Status Execute(const sql::Statement& stmt, std::string_view text,
                 std::string_view inline_data) override {
    client_.SetParam("default_format", output_format_);
    TH_ASSIGN_OR_RETURN(RemoteResult r, client_.Post("", text));
    TH_RETURN_IF_ERROR(RemoteClient::ToStatus(r));
    if (!r.body.empty() && stmt.kind != sql::StatementKind::kInsert &&
        !sql::IsDdlStatement(stmt.kind)) {
      std::fwrite(r.body.data(), 1, r.body.size(), stdout);
      std::fflush(stdout);
    }
    return Status::OK();
  }

  Status ExecuteInsertFrom(const sql::InsertStmt& stmt, std::string_view text,
                           std::FILE* in) override {
    TH_ASSIGN_OR_RETURN(RemoteResult r, client_.PostStream(text, in));
    return RemoteClient::ToStatus(r);
  }

  Result<std::map<std::string, std::string>> ReadMigrations() override {
    TH_ASSIGN_OR_RETURN(
        RemoteResult r,
        client_.Post(
            fmt::format("SELECT name, checksum FROM {} FORMAT TabSeparated", kMigrationsTable),
            ""));
    if (r.http_status == 501 || r.exception_code == ch::kNotImplemented) {
      return Status::NotSupported(fmt::format(
          "migrate --url needs a server that can run SELECT (to read {}), and {} answered "
          "NOT_IMPLEMENTED: it has no query engine yet. Stop the server and run `trackhouse "
          "migrate --data DIR` instead",
          kMigrationsTable, client_.url()));
    }
    TH_RETURN_IF_ERROR(RemoteClient::ToStatus(r));
    std::map<std::string, std::string> out;
    std::string_view body = r.body;
    while (!body.empty()) {
      size_t nl = body.find('\n');
      std::string_view line = body.substr(0, nl);
      body = nl == std::string_view::npos ? std::string_view() : body.substr(nl + 1);
      if (line.empty()) continue;
      size_t tab = line.find('\t');
      if (tab == std::string_view::npos) {
        return Status::Corruption(
            fmt::format("unexpected line from {}: '{}'", client_.url(), line));
      }
      // Migration names and hex checksums contain nothing TabSeparated escapes.
      out[std::string(line.substr(0, tab))] = std::string(line.substr(tab + 1));
    }
    return out;
  }

  Status Close() override { return Status::OK(); }
  std::string Describe() const override { return "server " + client_.url(); }

  void set_wait_for_delivery(bool wait) override {
    if (wait || waited_) client_.SetParam("wait_for_delivery", wait ? "1" : "0");
    waited_ |= wait;
  }

 private:
  RemoteClient client_;
  bool waited_ = false;  // wait_for_delivery was sent (and is now sent with every request)
};

}  // namespace

Result<std::unique_ptr<SqlTarget>> OpenLocalTarget(const AppConfig& config) {
  engine::EngineOptions options = config.engine;
  options.data_dir = config.data_dir;
  auto storage = engine::OpenEngine(options);
  if (!storage.ok()) {
    if (storage.status().code() == StatusCode::kUnavailable) {
      metrics::GetCounter("trackhouse_cli_data_dir_busy_total",
                          "CLI commands refused because another process holds the data dir")
          .Add();
      std::string host = config.server.host == "0.0.0.0" ? "127.0.0.1" : config.server.host;
      return Status::Unavailable(fmt::format(
          "data directory {} is in use by another trackhouse process (a running server?); use "
          "--url http://{}:{} to go through it",
          config.data_dir, host, config.server.port));
    }
    return storage.status().WithContext("cannot open data directory " + config.data_dir);
  }
  return std::unique_ptr<SqlTarget>(std::make_unique<LocalTarget>(
      std::move(storage).value(), config.data_dir, config.server.ingest, config.query));
}

std::unique_ptr<SqlTarget> MakeRemoteTarget(const std::string& url) {
  return std::make_unique<RemoteTarget>(url);
}

}  // namespace trackhouse::app
