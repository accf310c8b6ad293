#include "apps/trackhouse/app_config.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace trackhouse::app {
namespace {

constexpr std::string_view kKey1 = "k1-0123456789abcdef";
constexpr std::string_view kKey2 = "k2-0123456789abcdef";

// Writes TOML files into a fresh temporary directory, removed at the end of the test.
class AppConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "th_app_config_test.XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    path_ = (dir_ / "trackhouse.toml").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Loads `toml` (written to a file) into a default AppConfig.
  Status Load(const std::string& toml, AppConfig* config) {
    std::ofstream(path_) << toml;
    return LoadConfigFile(path_, config);
  }

  // The error message of loading `toml`; fails the test when it loads.
  std::string Error(const std::string& toml) {
    AppConfig config;
    Status status = Load(toml, &config);
    EXPECT_FALSE(status.ok()) << toml;
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
    return status.message();
  }

  std::filesystem::path dir_;
  std::string path_;  // the file Load() writes
};

std::string KeyEntry(std::string_view name, std::string_view key, std::string extra = "") {
  return fmt::format("[[keys]]\nname = \"{}\"\nkey = \"{}\"\n{}\n", name, key, extra);
}

TEST_F(AppConfigTest, KeysAuthTrackAndServerAdditionsAreRead) {
  AppConfig config;
  Status status = Load(R"(
[server]
listen = "0.0.0.0:9000"
tls_cert = "/etc/trackhouse/cert.pem"
tls_key = "/etc/trackhouse/key.pem"
cors_origins = ["https://shop.example.com", "http://localhost:3000"]
header_timeout_ms = 5000
min_body_bytes_per_second = 0
keep_alive_linger_us = 0

[[keys]]
name = "web"
key = "k1-0123456789abcdef"
role = "write"
tables = ["events", "shop.orders"]
rate_per_second = 2.5
burst = 20

[[keys]]
name = "ops"
key = "k2-0123456789abcdef"
role = "admin"

[auth]
jwt_secret = "a-secret"
jwt_leeway_seconds = 5
trusted_proxies = ["10.0.0.0/8", "::1"]
trusted_user_header = "X-User-Id"

[track]
max_body_bytes = 1048576
max_rows = 500
max_string_bytes = 4096
user_id_column = "uid"
ip_column = "client_ip"
user_agent_column = "ua"
skip_unknown_fields_tables = ["events", "logs.raw"]
idempotency_window_seconds = 600
)",
                       &config);
  ASSERT_TRUE(status.ok()) << status.ToString();
  const server::ServerOptions& s = config.server;
  EXPECT_EQ(s.tls_cert_file, "/etc/trackhouse/cert.pem");
  EXPECT_EQ(s.tls_key_file, "/etc/trackhouse/key.pem");
  EXPECT_EQ(s.cors_origins,
            (std::vector<std::string>{"https://shop.example.com", "http://localhost:3000"}));
  EXPECT_EQ(s.header_timeout_ms, 5000u);
  EXPECT_EQ(s.keep_alive_linger_us, 0u);
  EXPECT_EQ(s.min_body_bytes_per_second, 0u);

  ASSERT_EQ(s.access.keys.size(), 2u);
  const server::ApiKey& web = s.access.keys[0];
  EXPECT_EQ(web.name, "web");
  EXPECT_EQ(web.key, kKey1);
  EXPECT_EQ(web.role, server::KeyRole::kWrite);
  EXPECT_EQ(web.tables, (std::vector<std::string>{"events", "shop.orders"}));
  EXPECT_DOUBLE_EQ(web.rate_per_second, 2.5);
  EXPECT_DOUBLE_EQ(web.burst, 20);
  const server::ApiKey& ops = s.access.keys[1];
  EXPECT_EQ(ops.name, "ops");
  EXPECT_EQ(ops.role, server::KeyRole::kAdmin);
  EXPECT_TRUE(ops.tables.empty());
  EXPECT_EQ(ops.rate_per_second, 0);

  EXPECT_EQ(s.access.jwt_secret, "a-secret");
  EXPECT_EQ(s.access.jwt_leeway_seconds, 5);
  EXPECT_EQ(s.access.trusted_proxies, (std::vector<std::string>{"10.0.0.0/8", "::1"}));
  EXPECT_EQ(s.access.trusted_user_header, "X-User-Id");

  EXPECT_EQ(s.track.max_body_bytes, 1048576u);
  EXPECT_EQ(s.track.max_rows, 500u);
  EXPECT_EQ(s.track.max_string_bytes, 4096u);
  EXPECT_EQ(s.track.user_id_column, "uid");
  EXPECT_EQ(s.track.ip_column, "client_ip");
  EXPECT_EQ(s.track.user_agent_column, "ua");
  EXPECT_EQ(s.track.skip_unknown_fields_tables, (std::vector<std::string>{"events", "logs.raw"}));
  EXPECT_EQ(s.track.idempotency_window_seconds, 600u);
}

TEST_F(AppConfigTest, OmittedSectionsKeepTheDefaults) {
  AppConfig config;
  Status status = Load("[server]\nlisten = \"127.0.0.1:0\"\n", &config);
  ASSERT_TRUE(status.ok()) << status.ToString();
  server::ServerOptions defaults;
  EXPECT_TRUE(config.server.access.keys.empty());
  EXPECT_EQ(config.server.access.jwt_leeway_seconds, defaults.access.jwt_leeway_seconds);
  EXPECT_EQ(config.server.track.max_rows, defaults.track.max_rows);
  EXPECT_EQ(config.server.track.user_id_column, "userId");
  EXPECT_EQ(config.server.header_timeout_ms, defaults.header_timeout_ms);
  EXPECT_TRUE(config.server.tls_cert_file.empty());
}

TEST_F(AppConfigTest, LogLevelAndFormatAreReadAndDefaultToInfoText) {
  AppConfig defaults;
  EXPECT_EQ(defaults.log_level, "info");
  EXPECT_EQ(defaults.log_format, "text");
  AppConfig config;
  Status status = Load("[log]\nlevel = \"debug\"\nformat = \"json\"\n", &config);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(config.log_level, "debug");
  EXPECT_EQ(config.log_format, "json");
}

TEST_F(AppConfigTest, ShortKeyIsRefusedWithoutShowingIt) {
  std::string message = Error(KeyEntry("web", "short-key"));
  EXPECT_EQ(message, path_ +
                         ": [[keys]] #1 key: expected at least 16 characters, got 9 (a short key "
                         "can be guessed; make one with `openssl rand -hex 24`)");
  EXPECT_EQ(Error("[[keys]]\nname = \"web\"\n"),
            path_ +
                ": [[keys]] #1 key: expected at least 16 characters, got 0 (a short key can "
                "be guessed; make one with `openssl rand -hex 24`)");
}

TEST_F(AppConfigTest, KeyNamesAndKeysMustBeUnique) {
  EXPECT_EQ(Error(KeyEntry("web", kKey1) + KeyEntry("web", kKey2)),
            path_ + ": [[keys]] #2 name: 'web' is also the name of [[keys]] #1");
  std::string message = Error(KeyEntry("web", kKey1) + KeyEntry("app", kKey1));
  EXPECT_EQ(message, path_ + ": [[keys]] #2 key: the same key as [[keys]] #1 ('web')");
  EXPECT_EQ(message.find(kKey1), std::string::npos);
  EXPECT_EQ(Error(KeyEntry("", kKey1)), path_ + ": [[keys]] #1 name: expected a non-empty name");
}

TEST_F(AppConfigTest, KeyFieldsAreChecked) {
  const std::pair<std::string, std::string> cases[] = {
      {"role = \"owner\"", "role: expected \"write\", \"read\" or \"admin\""},
      {"rate_per_second = -1", "rate_per_second: expected a number >= 0"},
      {"rate_per_second = \"10\"", "rate_per_second: expected a number >= 0"},
      {"burst = 0.5", "burst: expected 0 (= the rate) or at least 1"},
      {"tables = [\"events\", 3]", "tables: expected an array of strings"},
      {"tables = \"events\"", "tables: expected an array of strings"},
  };
  for (const auto& [line, expected] : cases) {
    EXPECT_EQ(Error(KeyEntry("web", kKey1, line)), path_ + ": [[keys]] #1 " + expected);
  }
  EXPECT_EQ(Error(KeyEntry("web", kKey1, "secret = \"x\"")),
            path_ +
                ": [[keys]] #1 secret: unknown key (known keys of [[keys]] #1: burst, key, name, "
                "rate_per_second, role, tables)");
  EXPECT_EQ(Error("keys = \"k1-0123456789abcdef\"\n"),
            path_ +
                ": keys: expected [[keys]] tables with name, key, role, tables, "
                "rate_per_second, burst");
}

TEST_F(AppConfigTest, AuthTrackAndServerValuesAreChecked) {
  EXPECT_EQ(Error("[auth]\ntrusted_proxies = [\"10.0.0.0/8\", \"10.0.0.0/40\"]\n"),
            path_ +
                ": [auth] trusted_proxies: trusted proxy '10.0.0.0/40' is not an IP address "
                "or CIDR block (e.g. 10.0.0.0/8, fd00::/8)");
  EXPECT_EQ(Error("[auth]\njwt_leeway_seconds = -1\n"),
            path_ + ": [auth] jwt_leeway_seconds: expected a number of seconds >= 0");
  EXPECT_EQ(Error("[track]\nmax_rows = -5\n"),
            path_ + ": [track] max_rows: expected an integer from 0 to 18446744073709551615");
  EXPECT_EQ(Error("[track]\nmax_row = 5\n").find(path_ + ": [track] max_row: unknown key"), 0u);
  EXPECT_EQ(Error("[server]\ncors_origins = [\"https://example.com/app\"]\n"),
            path_ +
                ": [server] cors_origins: 'https://example.com/app' is not an origin (expected "
                "\"*\" or scheme://host[:port] without a path, e.g. \"https://example.com\")");
  EXPECT_EQ(Error("[server]\nheader_timeout_ms = 1.5\n"),
            path_ + ": [server] header_timeout_ms: expected an integer from 0 to 4294967295");
  AppConfig config;
  Status status = Load(
      "[server]\ncors_origins = [\"*\", \"https://example.com/\", \"HTTP://localhost:3000\"]\n"
      "tls_cert = \"cert.pem\"\n",  // tls_key may come from --tls-key
      &config);
  EXPECT_TRUE(status.ok()) << status.ToString();
}

TEST_F(AppConfigTest, UnknownSectionListsTheKnownOnes) {
  EXPECT_EQ(Error("[authentication]\njwt_secret = \"x\"\n"),
            path_ +
                ": unknown section [authentication] (known: auth, clickhouse, client, engine, "
                "insert, [[keys]], log, query, server, storage, track)");
}

TEST_F(AppConfigTest, ClickHouseSectionSelectsTheClickHouseMode) {
  AppConfig config;
  EXPECT_EQ(config.storage_mode, "embedded");
  EXPECT_EQ(config.delivery.batch_max_rows, 100000u);  // the delivery store's defaults
  Status status = Load(R"(
[clickhouse]
url = "https://writer:secret@ch.internal:8443/metrics"
cluster = "two_shards"
tls_ca_file = "/etc/trackhouse/ca.pem"
tls_verify = false
batch_max_rows = 50000
batch_max_bytes = 8388608
batch_max_age_ms = 250
spool_max_bytes = 2147483648
set_deduplication_window = true
ttl_check_interval_ms = 60000
request_timeout_ms = 1500
connect_timeout_ms = 500
retry_min_ms = 50
retry_max_ms = 2000
shard_http_addresses = { "10.0.0.2:9000" = "10.0.0.2:8123", "10.0.0.3:9000" = "10.0.0.3:8124" }
)",
                       &config);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(config.storage_mode, "clickhouse");
  EXPECT_EQ(config.clickhouse_url, "https://writer:secret@ch.internal:8443/metrics");
  EXPECT_EQ(config.delivery.cluster, "two_shards");
  EXPECT_EQ(config.delivery.clickhouse.tls_ca_file, "/etc/trackhouse/ca.pem");
  EXPECT_FALSE(config.delivery.clickhouse.tls_verify);
  EXPECT_EQ(config.delivery.batch_max_rows, 50000u);
  EXPECT_EQ(config.delivery.batch_max_bytes, 8388608u);
  EXPECT_EQ(config.delivery.batch_max_age_ms, 250u);
  EXPECT_EQ(config.delivery.spool_max_bytes, 2147483648u);
  EXPECT_TRUE(config.delivery.set_deduplication_window);
  EXPECT_EQ(config.ttl_check_interval_ms, 60000u);
  EXPECT_EQ(config.delivery.clickhouse.request_timeout, std::chrono::milliseconds(1500));
  EXPECT_EQ(config.delivery.clickhouse.connect_timeout, std::chrono::milliseconds(500));
  EXPECT_EQ(config.delivery.retry_min_ms, 50u);
  EXPECT_EQ(config.delivery.retry_max_ms, 2000u);
  EXPECT_EQ(config.delivery.shard_http_addresses,
            (std::map<std::string, std::string>{{"10.0.0.2:9000", "10.0.0.2:8123"},
                                                {"10.0.0.3:9000", "10.0.0.3:8124"}}));
}

TEST_F(AppConfigTest, ClickHouseSectionValuesAreChecked) {
  EXPECT_EQ(Error("[clickhouse]\nurl = \"ftp://ch\"\n").find(path_ + ": [clickhouse] url: "), 0u);
  EXPECT_EQ(Error("[storage]\nmode = \"clickhouse\"\n"),
            path_ +
                ": [storage] mode = \"clickhouse\" needs [clickhouse] url (e.g. "
                "\"http://127.0.0.1:8123\")");
  EXPECT_EQ(Error("[storage]\nmode = \"cloud\"\n"),
            path_ + ": [storage] mode = \"cloud\": expected \"embedded\" or \"clickhouse\"");
  EXPECT_EQ(Error("[clickhouse]\nurl = \"http://ch:8123\"\nbatch_max_rows = 0\n"),
            path_ + ": [clickhouse] batch_max_rows and batch_max_bytes must be at least 1");
  EXPECT_EQ(Error("[clickhouse]\nbatch_max_age_ms = -1\n"),
            path_ + ": [clickhouse] batch_max_age_ms: expected an integer from 0 to 4294967295");
  EXPECT_EQ(Error("[clickhouse]\nurls = \"http://ch\"\n").find(path_ + ": [clickhouse] urls: unknown key"),
            0u);
}

}  // namespace
}  // namespace trackhouse::app
