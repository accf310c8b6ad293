#include "apps/trackhouse/sql_target.h"

#include <fmt/format.h>

#include <vector>

#include "apps/trackhouse/remote_client.h"
#include "common/clock.h"
#include "common/metrics.h"
#include "engine/engine.h"
#include "ingest/ingest.h"

namespace trackhouse::app {
namespace {

constexpr std::string_view kDatabase = "default";

Status NoQueryEngine(const sql::Statement& stmt) {
  return Status::NotSupported(fmt::format(
      "{} is not available yet: trackhouse has no query engine (only INSERT and DDL run)",
      sql::StatementKindName(stmt.kind)));
}

class LocalTarget final : public SqlTarget {
 public:
  LocalTarget(std::unique_ptr<storage::Storage> storage, std::string data_dir,
              ingest::IngestOptions ingest)
      : storage_(std::move(storage)), data_dir_(std::move(data_dir)), ingest_(ingest) {}
  ~LocalTarget() override { Close().IgnoreError(); }

  Status Execute(const sql::Statement& stmt, std::string_view text,
                 std::string_view inline_data) override {
    if (sql::IsDdlStatement(stmt.kind))
      return storage_->ExecuteDdl(stmt, text, std::string(kDatabase));
    const auto* insert = stmt.As<sql::InsertStmt>();
    if (insert == nullptr || insert->source == sql::InsertStmt::Source::kSelect) {
      return NoQueryEngine(stmt);
    }
    TH_ASSIGN_OR_RETURN(auto stream, Open(*insert));
    TH_RETURN_IF_ERROR(stream->Feed(inline_data));
    return stream->Finish();
  }

  Status ExecuteInsertFrom(const sql::InsertStmt& stmt, std::string_view text,
                           std::FILE* in) override {
    if (stmt.source == sql::InsertStmt::Source::kSelect) return NoQueryEngine(stmt);
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
    Status st = storage_->Stop();
    storage_.reset();
    return st;
  }

  std::string Describe() const override { return "data directory " + data_dir_; }

 private:
  Result<std::unique_ptr<ingest::InsertStream>> Open(const sql::InsertStmt& stmt) {
    return ingest::InsertStream::Open(storage_.get(), std::string(kDatabase), stmt,
                                      stmt.data_format, ingest_, Clock::Real()->NowMicros());
  }

  std::unique_ptr<storage::Storage> storage_;
  std::string data_dir_;
  ingest::IngestOptions ingest_;
};

class RemoteTarget final : public SqlTarget {
 public:
  explicit RemoteTarget(const std::string& url) : client_(url, std::string(kDatabase)) {}

  Status Execute(const sql::Statement& stmt, std::string_view text,
                 std::string_view inline_data) override {
    TH_ASSIGN_OR_RETURN(RemoteResult r, client_.Post("", text));
    TH_RETURN_IF_ERROR(RemoteClient::ToStatus(r));
    if (!r.body.empty() && stmt.kind != sql::StatementKind::kInsert &&
        !sql::IsDdlStatement(stmt.kind)) {
      std::fwrite(r.body.data(), 1, r.body.size(), stdout);
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

 private:
  RemoteClient client_;
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
      std::move(storage).value(), config.data_dir, config.server.ingest));
}

std::unique_ptr<SqlTarget> MakeRemoteTarget(const std::string& url) {
  return std::make_unique<RemoteTarget>(url);
}

}  // namespace trackhouse::app
