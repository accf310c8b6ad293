// trackhouse: the command-line entry point.
//
//   trackhouse serve   [--data DIR] [--listen HOST:PORT] [--config FILE]
//                      [--clickhouse URL [--clickhouse-cluster NAME]]
//                      [--tls-cert FILE --tls-key FILE] [--insecure] [--log-format text|json]
//   trackhouse migrate (--data DIR | --url URL) [--config FILE] MIGRATIONS_DIR
//   trackhouse query   (--data DIR | --url URL) [--config FILE] [--format NAME] [SQL]
//   trackhouse doctor  --url URL [--key KEY] [--config FILE]
//   trackhouse deadletter list   --data DIR [--config FILE]
//   trackhouse deadletter replay --data DIR --clickhouse URL [--config FILE] [FILE...]
//   trackhouse version
//
// serve runs the embedded store in --data DIR, or with --clickhouse (or [clickhouse] url) the
// ClickHouse mode: a spool in DIR delivering to ClickHouse, reads and DDL passed through.
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
#include "apps/trackhouse/clickhouse_mode.h"
#include "apps/trackhouse/deadletter.h"
#include "apps/trackhouse/migrate.h"
#include "apps/trackhouse/sql_target.h"
#include "common/error_codes.h"
#include "clickhouse/ttl.h"
#include "common/logging.h"
#include "delivery/delivery.h"
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
  // serve: the ClickHouse mode's server URL and cluster (override [clickhouse] url, cluster).
  std::string clickhouse;
  std::string clickhouse_cluster;
  // doctor: the API key to present (an admin key, when the server has keys).
  std::string key;
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
  if (!flags.clickhouse.empty()) {
    TH_RETURN_IF_ERROR(clickhouse::ClientOptions::FromUrl(flags.clickhouse)
                           .status()
                           .WithContext("--clickhouse"));
    config->clickhouse_url = flags.clickhouse;
    config->storage_mode = "clickhouse";
  }
  if (!flags.clickhouse_cluster.empty()) {
    if (config->clickhouse_url.empty()) {
      return Status::InvalidArgument(
          "--clickhouse-cluster needs --clickhouse URL (or [clickhouse] url)");
    }
    config->delivery.cluster = flags.clickhouse_cluster;
  }
  TH_RETURN_IF_ERROR(ParseListen(config->listen, &config->server.host, &config->server.port));
  config->server.storage_mode = config->storage_mode;
  if (!flags.log_format.empty()) config->log_format = flags.log_format;
  TH_ASSIGN_OR_RETURN(logging::Level level, logging::ParseLevel(config->log_level));
  TH_ASSIGN_OR_RETURN(logging::Format format, logging::ParseFormat(config->log_format));
  logging::Configure(level, format);
  return Status::OK();
}

// --url flag, else --data flag, else [storage] data, else [client] url. In ClickHouse mode the
// store is ClickHouse, reached through a running server: --url or [client] url.
Result<std::unique_ptr<SqlTarget>> OpenTarget(const Flags& flags, const AppConfig& config) {
  if (!flags.url.empty()) return MakeRemoteTarget(flags.url);
  if (config.storage_mode == "clickhouse") {
    if (!config.client_url.empty()) return MakeRemoteTarget(config.client_url);
    return Status::InvalidArgument(fmt::format(
        "in ClickHouse mode ([clickhouse] url) statements go through the running server: give "
        "--url http://{}:{} (or [client] url); --data is its spool, not a store",
        config.server.host == "0.0.0.0" ? "127.0.0.1" : config.server.host, config.server.port));
  }
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

  // The store and the query handler of the mode.
  std::unique_ptr<storage::Storage> storage;
  std::unique_ptr<query::QueryHandler> handler;
  delivery::DeliveryStore* delivery_store = nullptr;
  std::unique_ptr<clickhouse::TtlEnforcer> ttl_enforcer;
  std::string described;  // what the startup line says about the store
  if (config.storage_mode == "clickhouse") {
    delivery::DeliveryOptions options = config.delivery;
    auto url = clickhouse::ClientOptions::FromUrl(config.clickhouse_url);
    if (!url.ok()) {
      PrintError("serve", url.status().WithContext("[clickhouse] url"));
      return 2;
    }
    options.clickhouse = *url;
    options.clickhouse.tls_ca_file = config.delivery.clickhouse.tls_ca_file;
    options.clickhouse.tls_verify = config.delivery.clickhouse.tls_verify;
    options.clickhouse.request_timeout = config.delivery.clickhouse.request_timeout;
    options.clickhouse.connect_timeout = config.delivery.clickhouse.connect_timeout;
    options.data_dir = config.data_dir;
    options.idempotency_window_micros =
        static_cast<int64_t>(config.server.track.idempotency_window_seconds) * 1000000;
    auto opened = delivery::OpenDeliveryStore(options);
    if (!opened.ok()) {
      PrintError("serve", opened.status().WithContext("cannot open the ClickHouse mode's spool in " +
                                                      config.data_dir));
      return 1;
    }
    delivery_store = opened->get();
    st = delivery_store->Start();
    if (!st.ok()) {
      PrintError("serve", st);
      return 1;
    }
    storage = std::move(opened).value();
    handler = std::make_unique<ClickHouseModeHandler>(delivery_store, options.cluster);
    clickhouse::TtlEnforcerOptions ttl;
    ttl.client = delivery_store->clickhouse_options();
    ttl.cluster = options.cluster;
    ttl.interval = std::chrono::milliseconds(config.ttl_check_interval_ms);
    ttl_enforcer = std::make_unique<clickhouse::TtlEnforcer>(ttl);
    described = fmt::format("clickhouse mode: {}{}, spool {}", options.clickhouse.Endpoint(),
                            options.cluster.empty() ? "" : ", cluster " + options.cluster,
                            config.data_dir);
  } else {
    engine::EngineOptions engine_options = config.engine;
    engine_options.data_dir = config.data_dir;
    engine_options.idempotency_window_micros =
        static_cast<int64_t>(config.server.track.idempotency_window_seconds) * 1000000;
    auto opened = engine::OpenEngine(engine_options);
    if (!opened.ok()) {
      if (opened.status().code() == StatusCode::kUnavailable) {
        PrintError("serve", Status::Unavailable(fmt::format(
                                "data directory {} is in use by another trackhouse process (is a "
                                "server already running on it?)",
                                config.data_dir)));
      } else {
        PrintError("serve",
                   opened.status().WithContext("cannot open data directory " + config.data_dir));
      }
      return 1;
    }
    storage = std::move(opened).value();
    handler = std::make_unique<query::QueryEngine>(storage.get(), config.query);
    described = fmt::format("embedded, data {}", config.data_dir);
  }
  server::Server server(config.server, storage.get(), handler.get());
  st = server.Start();
  if (!st.ok()) {
    PrintError("serve", st);
    storage->Stop().IgnoreError();
    return 1;
  }
  if (ttl_enforcer) ttl_enforcer->Start();
  fmt::print("trackhouse listening on {} ({})\n", server.url(), described);
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
  if (delivery_store != nullptr) {
    const clickhouse::Capabilities& caps = delivery_store->capabilities();
    logging::Info("clickhouse_mode", {{"clickhouse", delivery_store->clickhouse_options().Endpoint()},
                                      {"cluster", config.delivery.cluster},
                                      {"server_version", caps.version.ToString()}});
    for (const std::string& a : caps.Adaptations()) {
      logging::Info("clickhouse_adaptation", {{"adaptation", a}});
    }
  }

  int sig = 0;
  sigwait(&signals, &sig);
  logging::Info("server_stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  Status stop_server = server.Stop();
  if (ttl_enforcer) ttl_enforcer->Stop();
  Status stop_storage = storage->Stop();
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

int Doctor(const Flags& flags) {
  AppConfig config;
  Status st = BuildConfig(flags, &config);
  if (!st.ok()) {
    PrintError("doctor", st);
    return 2;
  }
  std::string url = !flags.url.empty() ? flags.url : config.client_url;
  if (url.empty()) {
    PrintError("doctor", Status::InvalidArgument("say which server: --url http://HOST:PORT"));
    return 2;
  }
  return RunDoctor(url, flags.key, stdout, stderr);
}

int DeadLetter(const Flags& flags, DeadLetterCommand command) {
  AppConfig config;
  Status st = BuildConfig(flags, &config);
  if (!st.ok()) {
    PrintError("deadletter", st);
    return 2;
  }
  command.data_dir = config.data_dir.empty() ? std::string(kDefaultData) : config.data_dir;
  command.clickhouse_url = config.clickhouse_url;
  return RunDeadLetter(command, stdout, stderr);
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
  serve->add_option("--data", flags.data,
                    "Data directory: the embedded store, or the ClickHouse mode's spool "
                    "(default ./data)");
  serve->add_option("--clickhouse", flags.clickhouse,
                    "ClickHouse mode: deliver to the ClickHouse server at "
                    "http[s]://[user:pass@]host[:port][/db] (the spool lives in --data)");
  serve->add_option("--clickhouse-cluster", flags.clickhouse_cluster,
                    "ClickHouse mode: DDL goes ON CLUSTER NAME and tables are Distributed over "
                    "<table>_local");
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

  CLI::App* doctor = app.add_subcommand(
      "doctor",
      "Ask a running server how its store is doing: the mode and, in ClickHouse mode, whether "
      "ClickHouse is reachable, its version, the adaptations made for it, the spool backlog and "
      "each table's exactly-once mechanism (exit code 1 when ClickHouse is not reachable)");
  doctor->add_option("--url", flags.url, "URL of the running trackhouse server (default: [client] url)");
  doctor->add_option("--key", flags.key, "API key to present (an admin key, when keys are configured)");
  add_config(doctor);

  DeadLetterCommand dead_letter;
  CLI::App* deadletter = app.add_subcommand(
      "deadletter",
      "The ClickHouse mode's dead letters (batches ClickHouse refused as invalid) in "
      "DATA/deadletter: list them, or replay them to ClickHouse");
  deadletter->require_subcommand(1);
  CLI::App* dl_list = deadletter->add_subcommand("list", "One line per dead-letter file: table, "
                                                         "rows, the server's error, file");
  CLI::App* dl_replay = deadletter->add_subcommand(
      "replay", "Send the rows of every dead-letter file (or of the FILEs named) to ClickHouse "
                "and delete each file ClickHouse confirmed");
  for (CLI::App* sub : {dl_list, dl_replay}) {
    sub->add_option("--data", flags.data, "Data directory of the ClickHouse mode");
    add_config(sub);
  }
  dl_replay->add_option("--clickhouse", flags.clickhouse,
                        "The ClickHouse server (default: [clickhouse] url)");
  dl_replay->add_option("FILE", dead_letter.files, "Dead-letter files to replay (default: all)");

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
  if (doctor->parsed()) return Doctor(flags);
  if (deadletter->parsed()) {
    dead_letter.action = dl_list->parsed() ? "list" : "replay";
    return DeadLetter(flags, dead_letter);
  }
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
