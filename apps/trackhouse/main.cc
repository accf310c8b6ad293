// trackhouse: the command-line entry point.
//
//   trackhouse serve   [--data DIR] [--listen HOST:PORT] [--config FILE]
//                      [--tls-cert FILE --tls-key FILE] [--insecure] [--log-format text|json]
//   trackhouse migrate (--data DIR | --url URL) [--config FILE] MIGRATIONS_DIR
//   trackhouse query   (--data DIR | --url URL) [--config FILE] [--format NAME] [SQL]
//   trackhouse version
//
// Exceptions of CLI11 are handled here, at the edge; everything below reports Status.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>

#include "apps/trackhouse/app_config.h"
#include "apps/trackhouse/migrate.h"
#include "apps/trackhouse/sql_target.h"
#include "common/error_codes.h"
#include "common/logging.h"
#include "engine/engine.h"
#include "query/query.h"
#include "server/http_error.h"
#include "server/server.h"
#include "server/version.h"
#include "sql/parser.h"

namespace trackhouse::app {
namespace {

constexpr std::string_view kDefaultData = "./data";

// Flags shared by the subcommands; empty = not given.
struct Flags {
  std::string config;
  std::string data;
  std::string url;
  std::string listen;
  std::string format;
  // serve: TLS certificate chain and key (PEM), and whether an open non-loopback listener
  // without API keys is wanted.
  std::string tls_cert;
  std::string tls_key;
  bool insecure = false;
  // serve: text or json (overrides [log] format).
  std::string log_format;
};

void PrintError(std::string_view command, const Status& st) {
  std::string text = st.message();
  // Name the ClickHouse error (UNKNOWN_TABLE, ...) unless the text is already a server's
  // "Code: N. DB::Exception: ..." or the code is the generic BAD_ARGUMENTS.
  if (st.clickhouse_code() != 0 && st.clickhouse_code() != ch::kBadArguments &&
      text.find("Code: ") == std::string::npos) {
    text += fmt::format(" ({})", ch::ErrorCodeName(st.clickhouse_code()));
  }
  fmt::print(stderr, "trackhouse {}: {}\n", command, text);
}

// A statement's error as ClickHouse prints it: "Code: 60. DB::Exception: ... (UNKNOWN_TABLE)
// (version ...)", after the place in the script; a server's error body is already so shaped.
void PrintQueryError(const Status& st) {
  if (st.clickhouse_code() == 0 || st.message().find("Code: ") != std::string::npos) {
    PrintError("query", st);
    return;
  }
  fmt::print(stderr, "{}\n", server::FormatClickHouseException(st.clickhouse_code(), st.message()));
}

// The config file (if any), then the flags on top.
Status BuildConfig(const Flags& flags, AppConfig* config) {
  if (!flags.config.empty()) TH_RETURN_IF_ERROR(LoadConfigFile(flags.config, config));
  if (!flags.data.empty()) config->data_dir = flags.data;
  if (!flags.listen.empty()) config->listen = flags.listen;
  TH_RETURN_IF_ERROR(ParseListen(config->listen, &config->server.host, &config->server.port));
  config->server.storage_mode = config->storage_mode;
  if (!flags.log_format.empty()) config->log_format = flags.log_format;
  TH_ASSIGN_OR_RETURN(logging::Level level, logging::ParseLevel(config->log_level));
  TH_ASSIGN_OR_RETURN(logging::Format format, logging::ParseFormat(config->log_format));
  logging::Configure(level, format);
  return Status::OK();
}

// --url flag, else --data flag, else [storage] data, else [client] url.
Result<std::unique_ptr<SqlTarget>> OpenTarget(const Flags& flags, const AppConfig& config) {
  if (!flags.url.empty()) return MakeRemoteTarget(flags.url);
  if (!config.data_dir.empty()) return OpenLocalTarget(config);
  if (!config.client_url.empty()) return MakeRemoteTarget(config.client_url);
  return Status::InvalidArgument(
      "say where the store is: --data DIR (the embedded store, no server running on it) or "
      "--url URL (a running server)");
}

// Whether `host` (a listen address) is reachable only from this machine: 127.0.0.0/8, ::1
// (also as ::ffff:127.x.x.x) or "localhost".
bool IsLoopback(const std::string& host) {
  if (host == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) != 1) return false;
  if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
  return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
}

// serve's own checks and flags on top of the configuration.
Status ApplyServeFlags(const Flags& flags, AppConfig* config) {
  server::ServerOptions& s = config->server;
  if (!flags.tls_cert.empty()) s.tls_cert_file = flags.tls_cert;
  if (!flags.tls_key.empty()) s.tls_key_file = flags.tls_key;
  if (s.tls_cert_file.empty() != s.tls_key_file.empty()) {
    return Status::InvalidArgument(
        "TLS needs both a certificate and a private key: give --tls-cert and --tls-key (or "
        "[server] tls_cert and tls_key) together");
  }
  if (s.access.keys.empty() && !IsLoopback(s.host)) {
    if (!flags.insecure) {
      return Status::InvalidArgument(fmt::format(
          "refusing to listen on {}: no API keys are configured, so anyone who can reach this "
          "address could read and write every table. Configure keys ([[keys]] in the config "
          "file), listen on a loopback address (127.0.0.1, ::1, localhost), or pass --insecure "
          "to serve without keys anyway",
          s.host));
    }
    logging::Warn("insecure_listener",
                  {{"host", s.host},
                   {"detail", "--insecure: listening without API keys; every request is allowed"}});
  }
  return Status::OK();
}

int Serve(const Flags& flags) {
  AppConfig config;
  Status st = BuildConfig(flags, &config);
  if (st.ok()) st = ApplyServeFlags(flags, &config);
  if (!st.ok()) {
    PrintError("serve", st);
    return 2;
  }
  if (config.data_dir.empty()) config.data_dir = std::string(kDefaultData);

  // Block the stop signals in every thread (threads inherit the mask); main waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  engine::EngineOptions engine_options = config.engine;
  engine_options.data_dir = config.data_dir;
  engine_options.idempotency_window_micros =
      static_cast<int64_t>(config.server.track.idempotency_window_seconds) * 1000000;
  auto storage = engine::OpenEngine(engine_options);
  if (!storage.ok()) {
    if (storage.status().code() == StatusCode::kUnavailable) {
      PrintError("serve", Status::Unavailable(fmt::format(
                              "data directory {} is in use by another trackhouse process (is a "
                              "server already running on it?)",
                              config.data_dir)));
    } else {
      PrintError("serve",
                 storage.status().WithContext("cannot open data directory " + config.data_dir));
    }
    return 1;
  }
  // Declared after the storage and before the server: destroyed after the server stops.
  query::QueryEngine engine(storage->get(), config.query);
  server::Server server(config.server, storage->get(), &engine);
  st = server.Start();
  if (!st.ok()) {
    PrintError("serve", st);
    (*storage)->Stop().IgnoreError();
    return 1;
  }
  fmt::print("trackhouse listening on {} ({}, data {})\n", server.url(), config.storage_mode,
             config.data_dir);
  std::fflush(stdout);
  // Counts only: keys, user passwords and the JWT secret are never logged.
  logging::Info("server_started", {{"version", server::kVersion},
                                   {"listen", server.url()},
                                   {"tls", !config.server.tls_cert_file.empty()},
                                   {"storage_mode", config.storage_mode},
                                   {"data_dir", config.data_dir},
                                   {"api_keys", config.server.access.keys.size()},
                                   {"users", config.server.users.size()},
                                   {"jwt", !config.server.access.jwt_secret.empty()}});

  int sig = 0;
  sigwait(&signals, &sig);
  logging::Info("server_stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  Status stop_server = server.Stop();
  Status stop_storage = (*storage)->Stop();
  if (!stop_server.ok()) PrintError("serve", stop_server);
  if (!stop_storage.ok()) {
    PrintError("serve", stop_storage);
    return 1;
  }
  logging::Info("server_stopped");
  return 0;
}

int Migrate(const Flags& flags, const std::string& dir) {
  AppConfig config;
  Status st = BuildConfig(flags, &config);
  if (!st.ok()) {
    PrintError("migrate", st);
    return 2;
  }
  auto target = OpenTarget(flags, config);
  if (!target.ok()) {
    PrintError("migrate", target.status());
    return 1;
  }
  auto report = RunMigrations(target->get(), dir, stdout);
  Status closed = (*target)->Close();
  if (!report.ok()) {
    PrintError("migrate", report.status());
    return 1;
  }
  if (!closed.ok()) {
    PrintError("migrate", closed);
    return 1;
  }
  return 0;
}

int Query(const Flags& flags, const std::string& sql_arg, bool has_sql) {
  AppConfig config;
  Status st = BuildConfig(flags, &config);
  if (!st.ok()) {
    PrintError("query", st);
    return 2;
  }
  auto target = OpenTarget(flags, config);
  if (!target.ok()) {
    PrintError("query", target.status());
    return 1;
  }
  SqlTarget& t = **target;
  t.set_output_format(flags.format.empty() ? "Pretty" : flags.format);
  // One INSERT without inline data: the rows come from stdin (like clickhouse-client --query).
  const sql::InsertStmt* stdin_insert = nullptr;
  sql::StatementPtr single;
  if (has_sql) {
    auto stmt = sql::ParseStatement(sql_arg);
    if (stmt.ok()) {
      single = std::move(stmt).value();
      const auto* insert = single->As<sql::InsertStmt>();
      if (insert != nullptr && insert->source != sql::InsertStmt::Source::kSelect &&
          sql_arg.find_first_not_of(" \t\r\n;", std::min(insert->data_offset, sql_arg.size())) ==
              std::string::npos) {
        stdin_insert = insert;
      }
    }
  }
  if (stdin_insert != nullptr) {
    if (isatty(STDIN_FILENO)) {
      st = Status::InvalidArgument(
          "the INSERT has no data: pipe the rows to stdin, e.g. `trackhouse query ... "
          "'INSERT INTO t FORMAT JSONEachRow' < rows.ndjson`");
    } else {
      st = t.ExecuteInsertFrom(*stdin_insert, sql_arg, stdin);
    }
  } else {
    // The argument or stdin: one or more statements separated by ';'.
    std::string script = sql_arg;
    if (!has_sql) {
      script.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    }
    int ran = 0;
    st = RunScript(&t, script, has_sql ? "query" : "stdin", &ran);
  }
  Status closed = t.Close();
  if (!st.ok()) {
    PrintQueryError(st);
    return 1;
  }
  if (!closed.ok()) {
    PrintError("query", closed);
    return 1;
  }
  return 0;
}

int Main(int argc, char** argv) {
  CLI::App app{"trackhouse: an event-tracking and metrics server that speaks ClickHouse"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("trackhouse ") + std::string(server::kVersion));

  Flags flags;
  auto add_config = [&](CLI::App* sub) {
    sub->add_option("--config", flags.config,
                    "TOML config file (see docs/config.md); flags "
                    "override its values")
        ->check(CLI::ExistingFile);
  };

  CLI::App* serve = app.add_subcommand(
      "serve", "Run the HTTP server (ClickHouse HTTP interface, /ping, /health, /metrics)");
  serve->add_option("--data", flags.data, "Data directory of the embedded store (default ./data)");
  serve->add_option("--listen", flags.listen,
                    "Address to listen on, HOST:PORT (default "
                    "127.0.0.1:8124; port 0 picks a free port)");
  // Checked in Serve (exit code 2 when only one is given; Start names an unreadable file).
  serve->add_option("--tls-cert", flags.tls_cert,
                    "Serve HTTPS with this PEM certificate chain (needs --tls-key)");
  serve->add_option("--tls-key", flags.tls_key,
                    "Unencrypted PEM private key of --tls-cert (needs --tls-cert)");
  serve->add_flag("--insecure", flags.insecure,
                  "Allow listening on a non-loopback address without API keys (every request "
                  "is then allowed)");
  serve->add_option("--log-format", flags.log_format,
                    "Log lines as text (default) or json, one event per line on stderr "
                    "(overrides [log] format)");
  add_config(serve);

  std::string migrations_dir;
  CLI::App* migrate = app.add_subcommand(
      "migrate", "Apply the numbered .sql files of MIGRATIONS_DIR that were not applied yet");
  auto* m_data = migrate->add_option("--data", flags.data,
                                     "Data directory of the embedded store (no server running)");
  auto* m_url = migrate->add_option("--url", flags.url,
                                    "URL of a running trackhouse server, e.g. "
                                    "http://127.0.0.1:8124");
  m_data->excludes(m_url);
  migrate->add_option("MIGRATIONS_DIR", migrations_dir, "Folder of 0001_name.sql files")
      ->required();
  add_config(migrate);

  std::string sql_text;
  CLI::App* query = app.add_subcommand(
      "query",
      "Run SQL: SELECT and the other ClickHouse statements (results in Pretty unless --format "
      "or FORMAT says otherwise), DDL, INSERT with its rows inline or on stdin. Several "
      "statements may be separated by ';'. Without SQL, runs the statements read from stdin");
  auto* q_data = query->add_option("--data", flags.data,
                                   "Data directory of the embedded store (no server running)");
  auto* q_url = query->add_option("--url", flags.url,
                                  "URL of a running trackhouse server, e.g. "
                                  "http://127.0.0.1:8124");
  q_data->excludes(q_url);
  query->add_option("--format", flags.format,
                    "Output format of results that name no FORMAT (default Pretty; e.g. "
                    "TabSeparated, CSV, JSONEachRow, PrettyCompact)");
  auto* q_sql = query->add_option("SQL", sql_text, "The statements (default: read from stdin)");
  add_config(query);

  CLI::App* version = app.add_subcommand("version", "Print the version");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  if (version->parsed()) {
    fmt::print("trackhouse {}\n", server::kVersion);
    return 0;
  }
  if (serve->parsed()) return Serve(flags);
  if (migrate->parsed()) return Migrate(flags, migrations_dir);
  if (query->parsed()) return Query(flags, sql_text, q_sql->count() > 0);
  return 2;
}

}  // namespace
}  // namespace trackhouse::app

int main(int argc, char** argv) {
  // Scans allocate and free column buffers of a few hundred KiB per block on every query
  // thread. glibc's defaults hand such buffers back to the kernel (trim, mmap) and fault them
  // in again, zeroed, for the next block: a tenth of a scan's time. Fixed thresholds keep them
  // in the process; buffers above 32 MiB still come from and go back to the kernel.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  return trackhouse::app::Main(argc, argv);
}
