// End-to-end: the real trackhouse binary, with API keys, a ClickHouse-interface user and a JWT
// secret configured and debug logging on, answers requests that carry keys, passwords and
// end-user tokens in every way a client may send them (Authorization: Bearer, ?key=, basic
// auth, X-ClickHouse-Key, ?password=, X-Trackhouse-Token, ?token=), good ones and wrong ones.
// Its logs (stderr) must contain none of them, and in the JSON format every line must be a JSON
// object with ts, level and event.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "server/access_test_util.h"
#include "tests/http_client.h"
#include "tests/server_process.h"

namespace trackhouse {
namespace {

using testing::HttpRequest;
using testing::HttpResponse;
using testing::ServerProcess;

constexpr char kAdminKey[] = "adm-SECRET-7f3a9c1e5b2d4680";
constexpr char kWriteKey[] = "wrt-SECRET-1b4d7e0a3c6f9258";
constexpr char kReadKey[] = "rd-SECRET-9e8d7c6b5a493827";
constexpr char kWrongKey[] = "bad-SECRET-0000111122223333";
constexpr char kUserPassword[] = "pw-SECRET-correct-horse";
constexpr char kWrongPassword[] = "pw-SECRET-wrong-battery";
constexpr char kJwtSecret[] = "jwt-SECRET-shared-with-the-app";

// HTTP basic auth: standard base64 (with padding) of "user:password".
std::string BasicAuth(const std::string& user, const std::string& password) {
  std::string b64 = server::test_util::Base64Url(user + ":" + password);
  for (char& c : b64) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (b64.size() % 4 != 0) b64.push_back('=');
  return "Basic " + b64;
}

class LogsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("trackhouse-logs-");
    ASSERT_FALSE(dir_.empty());
    good_token_ = server::test_util::SignedToken(R"({"sub":"user-42"})", kJwtSecret);
    forged_token_ =
        server::test_util::SignedToken(R"({"sub":"user-43"})", "not-the-SECRET-of-this-server");
  }
  void TearDown() override { testing::RemoveTree(dir_); }

  // Writes the config with [log] format = `config_format`, runs the server with `extra`
  // flags, makes the requests and stops it; returns everything it wrote.
  std::string RunServer(const std::string& config_format, const std::vector<std::string>& extra) {
    std::string config = dir_ + "/trackhouse.toml";
    std::ofstream(config) << "[log]\nlevel = \"debug\"\nformat = \"" << config_format << "\"\n"
                          << "[auth]\njwt_secret = \"" << kJwtSecret << "\"\n"
                          << "[[server.users]]\nname = \"analytics\"\npassword = \""
                          << kUserPassword << "\"\n"
                          << "[[keys]]\nname = \"admin\"\nkey = \"" << kAdminKey
                          << "\"\nrole = \"admin\"\n"
                          << "[[keys]]\nname = \"web\"\nkey = \"" << kWriteKey
                          << "\"\nrole = \"write\"\n"
                          << "[[keys]]\nname = \"dashboard\"\nkey = \"" << kReadKey
                          << "\"\nrole = \"read\"\n";
    std::vector<std::string> args = {"--config", config};
    args.insert(args.end(), extra.begin(), extra.end());
    ServerProcess server;
    std::string error;
    if (!server.Start(TRACKHOUSE_BINARY, dir_ + "/data-" + config_format, args, &error)) {
      ADD_FAILURE() << "the server did not start: " << error;
      return "";
    }
    MakeRequests(server.port());
    EXPECT_EQ(server.Terminate(30000), 0);
    EXPECT_TRUE(server.WaitForOutputEnd(30000));
    return server.output();
  }

  void MakeRequests(uint16_t port) {
    using Headers = std::vector<std::pair<std::string, std::string>>;
    const std::string bearer_write = std::string("Bearer ") + kWriteKey;
    const Headers json = {{"Content-Type", "application/json"}};
    const std::string row = R"({"name":"view"})";
    struct Case {
      std::string what;
      std::string method, target;
      Headers headers;
      std::string body;
      int status;  // 0: any answer
    };
    const Case cases[] = {
        {"DDL with X-ClickHouse-Key", "POST", "/",
         Headers{{"X-ClickHouse-User", "admin"}, {"X-ClickHouse-Key", kAdminKey}},
         "CREATE TABLE IF NOT EXISTS events (name String, userId String) ENGINE = MergeTree "
         "ORDER BY name",
         200},
        {"/track with a Bearer key and a token header", "POST", "/track/events",
         Headers{{"Authorization", bearer_write},
                 {"X-Trackhouse-Token", good_token_},
                 {"Content-Type", "application/json"}},
         row, 200},
        {"/track with ?key= and ?token=", "POST",
         std::string("/track/events?key=") + kWriteKey + "&token=" + good_token_, json, row, 200},
        {"/track with a wrong Bearer key", "POST", "/track/events",
         Headers{{"Authorization", std::string("Bearer ") + kWrongKey},
                 {"Content-Type", "application/json"}},
         row, 401},
        {"/track with a wrong ?key=", "POST", std::string("/track/events?key=") + kWrongKey, json,
         row, 401},
        {"/track with a forged token", "POST", "/track/events",
         Headers{{"Authorization", bearer_write},
                 {"X-Trackhouse-Token", forged_token_},
                 {"Content-Type", "application/json"}},
         row, 401},
        {"SELECT with basic auth", "GET", "/?query=SELECT%20count()%20FROM%20events",
         Headers{{"Authorization", BasicAuth("dashboard", kReadKey)}}, "", 200},
        {"SELECT with a wrong basic-auth password", "GET", "/?query=SELECT%201",
         Headers{{"Authorization", BasicAuth("dashboard", kWrongKey)}}, "", 403},
        {"SELECT with ?password=", "GET",
         std::string("/?user=dashboard&password=") + kReadKey + "&query=SELECT%201", Headers{}, "",
         200},
        {"a user's wrong ?password=", "GET",
         std::string("/?user=analytics&password=") + kWrongPassword + "&query=SELECT%201",
         Headers{}, "", 403},
        {"a user's ?password=", "GET",
         std::string("/?user=analytics&password=") + kUserPassword + "&query=SELECT%201", Headers{},
         "", 0},
        {"/metrics with a Bearer key", "GET", "/metrics",
         Headers{{"Authorization", std::string("Bearer ") + kReadKey}}, "", 200},
    };
    for (const Case& c : cases) {
      HttpResponse r = HttpRequest(port, c.method, c.target, c.headers, c.body);
      EXPECT_NE(r.status, 0) << c.what;
      if (c.status != 0) {
        EXPECT_EQ(r.status, c.status) << c.what << ": " << r.body;
      }
    }
  }

  // Fails the test for every secret that appears in `logs`.
  void ExpectNoSecrets(const std::string& logs) {
    const std::vector<std::string> secrets = {
        kAdminKey,
        kWriteKey,
        kReadKey,
        kWrongKey,
        kUserPassword,
        kWrongPassword,
        kJwtSecret,
        good_token_,
        forged_token_,
        good_token_.substr(good_token_.rfind('.') + 1),
        forged_token_.substr(forged_token_.rfind('.') + 1),
        BasicAuth("dashboard", kReadKey).substr(6),
        BasicAuth("dashboard", kWrongKey).substr(6),
        "SECRET",
    };
    for (const std::string& secret : secrets) {
      EXPECT_EQ(logs.find(secret), std::string::npos) << "a secret is logged: " << secret;
    }
  }

  std::string dir_;
  std::string good_token_;
  std::string forged_token_;
};

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

TEST_F(LogsE2eTest, TextLogsAtDebugNameTheRequestsButNoKeyPasswordOrToken) {
  std::string logs = RunServer("text", {});
  ASSERT_FALSE(logs.empty());
  ExpectNoSecrets(logs);
  // The requests were logged (debug access log), and startup and shutdown.
  EXPECT_NE(logs.find("DEBUG http_request "), std::string::npos) << logs;
  EXPECT_NE(logs.find("path=/track/events"), std::string::npos) << logs;
  EXPECT_NE(logs.find("status=401"), std::string::npos) << logs;
  EXPECT_NE(logs.find("INFO server_started "), std::string::npos) << logs;
  EXPECT_NE(logs.find(" api_keys=3 "), std::string::npos) << logs;
  EXPECT_NE(logs.find("INFO server_stopping signal=SIGTERM"), std::string::npos) << logs;
  EXPECT_NE(logs.find("INFO server_stopped"), std::string::npos) << logs;
}

TEST_F(LogsE2eTest, JsonLogsAreOneObjectPerLineWithTsLevelEventAndNoSecrets) {
  // The flag overrides the config's format.
  std::string logs = RunServer("text", {"--log-format", "json"});
  ASSERT_FALSE(logs.empty());
  ExpectNoSecrets(logs);
  std::vector<std::string> lines = Lines(logs);
  ASSERT_GE(lines.size(), 2u) << logs;
  // The first line is the address on stdout; every other one is a log event.
  EXPECT_EQ(lines[0].rfind("trackhouse listening on ", 0), 0u) << lines[0];
  simdjson::dom::parser parser;
  std::vector<std::string> events;
  for (size_t i = 1; i < lines.size(); ++i) {
    simdjson::dom::object object;
    ASSERT_EQ(parser.parse(simdjson::padded_string(lines[i])).get(object), simdjson::SUCCESS)
        << "not a JSON object: " << lines[i];
    std::string_view ts, level, event;
    EXPECT_EQ(object["ts"].get(ts), simdjson::SUCCESS) << lines[i];
    EXPECT_EQ(object["level"].get(level), simdjson::SUCCESS) << lines[i];
    EXPECT_EQ(object["event"].get(event), simdjson::SUCCESS) << lines[i];
    EXPECT_EQ(ts.size(), std::string_view("2026-11-25T05:00:00.123Z").size()) << lines[i];
    EXPECT_TRUE(level == "debug" || level == "info" || level == "warn" || level == "error")
        << lines[i];
    events.emplace_back(event);
    if (event == "server_started") {
      uint64_t keys = 0;
      EXPECT_EQ(object["api_keys"].get(keys), simdjson::SUCCESS) << lines[i];
      EXPECT_EQ(keys, 3u);
      bool tls = true;
      EXPECT_EQ(object["tls"].get(tls), simdjson::SUCCESS) << lines[i];
      EXPECT_FALSE(tls);
    }
  }
  auto count = [&](const std::string& name) {
    return std::count(events.begin(), events.end(), name);
  };
  EXPECT_EQ(count("server_started"), 1);
  EXPECT_GE(count("http_request"), 12);
  EXPECT_EQ(count("server_stopping"), 1);
  EXPECT_EQ(count("server_stopped"), 1);
}

}  // namespace
}  // namespace trackhouse
