#include "clickhouse/client.h"

#include <gtest/gtest.h>

#include <chrono>

#include "clickhouse/capabilities.h"
#include "clickhouse/errors.h"
#include "clickhouse/test_server.h"
#include "common/error_codes.h"
#include "types/column.h"

namespace trackhouse::clickhouse {
namespace {

TEST(ClientOptionsTest, ParsesEveryPartOfAUrl) {
  Result<ClientOptions> o = ClientOptions::FromUrl("http://writer:s%40cret@db.example:9123/metrics");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_FALSE(o->https);
  EXPECT_EQ(o->host, "db.example");
  EXPECT_EQ(o->port, 9123);
  EXPECT_EQ(o->user, "writer");
  EXPECT_EQ(o->password, "s@cret");
  EXPECT_EQ(o->database, "metrics");
  EXPECT_EQ(o->Endpoint(), "http://db.example:9123");
}

TEST(ClientOptionsTest, DefaultsPortUserAndDatabaseByScheme) {
  Result<ClientOptions> plain = ClientOptions::FromUrl("http://127.0.0.1");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->port, 8123);
  EXPECT_EQ(plain->user, "default");
  EXPECT_EQ(plain->password, "");
  EXPECT_EQ(plain->database, "default");
  Result<ClientOptions> tls = ClientOptions::FromUrl("HTTPS://ch.internal/");
  ASSERT_TRUE(tls.ok());
  EXPECT_TRUE(tls->https);
  EXPECT_EQ(tls->port, 8443);
  EXPECT_EQ(tls->database, "default");
}

TEST(ClientOptionsTest, AcceptsBracketedIpv6Hosts) {
  Result<ClientOptions> o = ClientOptions::FromUrl("http://u@[::1]:8124/db");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->host, "::1");
  EXPECT_EQ(o->port, 8124);
  EXPECT_EQ(o->user, "u");
  EXPECT_EQ(o->Endpoint(), "http://[::1]:8124");
}

TEST(ClientOptionsTest, RejectsMalformedUrls) {
  for (const char* bad :
       {"ftp://host", "host:8123", "http://", "http://host:0", "http://host:70000",
        "http://host:port", "http://host/a/b", "http://host/?x=1", "http://[::1", "http://:pw@host",
        "http://u:p%zz@host"}) {
    Result<ClientOptions> o = ClientOptions::FromUrl(bad);
    EXPECT_FALSE(o.ok()) << bad;
    if (!o.ok()) {
      EXPECT_EQ(o.status().code(), StatusCode::kInvalidArgument) << bad;
    }
  }
}

TEST(QuotingTest, EscapesIdentifiersAndStrings) {
  EXPECT_EQ(QuoteIdentifier("events"), "`events`");
  EXPECT_EQ(QuoteIdentifier("a`b\\c"), "`a\\`b\\\\c`");
  EXPECT_EQ(QuoteString("it's"), "'it\\'s'");
  EXPECT_EQ(QuoteString("a\\b\nc\td"), "'a\\\\b\\nc\\td'");
  EXPECT_EQ(QuoteString(std::string("\0\x01", 2)), "'\\0\\x01'");
}

TEST(ClientTransportTest, StoppedServerIsUnavailableWithinTheConnectTimeout) {
  ClientOptions o;
  o.port = difftest::FreeLoopbackPort();  // nothing listens there
  ASSERT_NE(o.port, 0);
  o.connect_timeout = std::chrono::milliseconds(1000);
  Client client(o);
  auto start = std::chrono::steady_clock::now();
  Status ping = client.Ping();
  Result<std::string> query = client.Query("SELECT 1");
  Status insert = client.Insert({"", "t", {}, "TabSeparated"}, "1\n");
  auto elapsed = std::chrono::steady_clock::now() - start;
  for (const Status& s : {ping, query.status(), insert}) {
    EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
    EXPECT_EQ(s.clickhouse_code(), kNetworkError);
    EXPECT_NE(s.message().find("cannot connect to ClickHouse at http://127.0.0.1:"),
              std::string::npos)
        << s.message();
    EXPECT_TRUE(IsRetryable(s));
  }
  EXPECT_LT(elapsed, std::chrono::milliseconds(3000));
}

// The guide's table, with DateTime (18.16 has no DateTime64).
constexpr const char* kGuideTable =
    "CREATE TABLE entityMetricEvents (entityType LowCardinality(String), entityId Int32, "
    "userId Int32, metricType LowCardinality(String), metricValue Int32, "
    "createdAt DateTime DEFAULT now()) "
    "ENGINE = MergeTree() ORDER BY (entityType, entityId, createdAt)";

types::Block GuideRows(int rows) {
  auto lc = types::DataType::LowCardinalityString();
  auto i32 = types::DataType::Get(types::TypeId::kInt32);
  types::ColumnPtr entity_type = types::MakeColumn(lc), entity_id = types::MakeColumn(i32),
                   user_id = types::MakeColumn(i32), metric_type = types::MakeColumn(lc),
                   metric_value = types::MakeColumn(i32);
  for (int i = 0; i < rows; ++i) {
    entity_type->AppendValue(types::Value::String(i % 3 == 0 ? "article" : "video\t'x'"));
    entity_id->AppendValue(types::Value::Int(i));
    user_id->AppendValue(types::Value::Int(-i));
    metric_type->AppendValue(types::Value::String(i % 2 == 0 ? "view" : "like"));
    metric_value->AppendValue(types::Value::Int(i * 10));
  }
  types::Block block;
  block.Add("entityType", lc, entity_type);
  block.Add("entityId", i32, entity_id);
  block.Add("userId", i32, user_id);
  block.Add("metricType", lc, metric_type);
  block.Add("metricValue", i32, metric_value);
  return block;
}

// The rows GuideRows(rows) makes, as SELECT ... ORDER BY entityId FORMAT TabSeparated shows them.
std::string GuideRowsTsv(int rows) {
  std::string out;
  for (int i = 0; i < rows; ++i) {
    out += std::string(i % 3 == 0 ? "article" : "video\\t\\'x\\'") + "\t" + std::to_string(i) +
           "\t" + std::to_string(-i) + "\t" + (i % 2 == 0 ? "view" : "like") + "\t" +
           std::to_string(i * 10) + "\n";
  }
  return out;
}

class ClientTest : public ClickHouseSuite {
 protected:
  // Creates the guide's table under `name` with the settings 18.16 needs.
  static Status CreateGuideTable(Client& client, const std::string& name) {
    Result<Capabilities> caps = DetectCapabilities(client);
    if (!caps.ok()) return caps.status();
    RequestOptions r;
    r.settings = caps->RequiredSettings();
    std::string ddl = kGuideTable;
    ddl.replace(ddl.find("entityMetricEvents"), 18, name);
    return client.Query(ddl, r).status();
  }
};

TEST_F(ClientTest, PingAnswersOk) {
  Client client(Options());
  Status s = client.Ping();
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_F(ClientTest, QueryReturnsTheBodyInTheRequestedFormatWithSettings) {
  Client client(Options());
  Result<std::string> tsv = client.Query("SELECT 1 AS x, 'a\\tb' AS s");
  ASSERT_TRUE(tsv.ok()) << tsv.status().ToString();
  EXPECT_EQ(*tsv, "1\ta\\tb\n");
  RequestOptions r;
  r.format = "JSONEachRow";
  r.settings = {{"max_threads", "3"}};
  Result<std::string> json =
      client.Query("SELECT value FROM system.settings WHERE name = 'max_threads'", r);
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  EXPECT_EQ(*json, "{\"value\":\"3\"}\n");
}

TEST_F(ClientTest, QuerySendsTheQueryIdAndDatabase) {
  Client client(Options());
  ASSERT_TRUE(client.Query("CREATE DATABASE IF NOT EXISTS other").ok());
  RequestOptions r;
  r.query_id = "trackhouse-test-query-id";
  r.database = "other";
  Result<std::string> seen = client.Query(
      "SELECT query_id, currentDatabase() FROM system.processes WHERE query_id = "
      "'trackhouse-test-query-id'",
      r);
  ASSERT_TRUE(seen.ok()) << seen.status().ToString();
  EXPECT_EQ(*seen, "trackhouse-test-query-id\tother\n");
}

TEST_F(ClientTest, ResponsesCanBeCompressed) {
  ClientOptions o = Options();
  o.compress_responses = true;
  Client client(o);
  Result<std::string> r = client.Query("SELECT count(), sum(number) FROM numbers(100000)");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "100000\t4999950000\n");
}

TEST_F(ClientTest, SyntaxErrorCarriesClickHouseCode62) {
  Client client(Options());
  Result<std::string> r = client.Query("SELEC 1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().clickhouse_code(), ch::kSyntaxError);
  EXPECT_EQ(r.status().message().rfind("Syntax error: failed at position 1", 0), 0u)
      << r.status().message();
  EXPECT_EQ(r.status().message().find("e.what()"), std::string::npos);
}

TEST_F(ClientTest, UnknownTableIsNotFoundWithClickHouseCode60) {
  Client client(Options());
  Result<std::string> r = client.Query("SELECT * FROM no_such_table");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(r.status().clickhouse_code(), ch::kUnknownTable);
  EXPECT_EQ(r.status().message(), "Table default.no_such_table doesn't exist.");
  Status insert = client.InsertBlock({"", "no_such_table", {}}, GuideRows(1));
  EXPECT_EQ(insert.code(), StatusCode::kNotFound) << insert.ToString();
  EXPECT_EQ(insert.clickhouse_code(), ch::kUnknownTable);
}

TEST_F(ClientTest, ExceptionWhileRowsStreamIsAnError) {
  Client client(Options());
  RequestOptions r;
  r.settings = {{"max_block_size", "1"}};
  Result<std::string> q =
      client.Query("SELECT throwIf(number = 50000) FROM numbers(100000)", r);
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(q.status().clickhouse_code(), 395);  // FUNCTION_THROW_IF_VALUE_IS_NON_ZERO
}

TEST_F(ClientTest, CredentialsTravelInHeaders) {
  ClientOptions o = Options();
  o.user = "nobody";
  Client client(o);
  Result<std::string> r = client.Query("SELECT 1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().clickhouse_code(), ch::kUnknownUser);
  EXPECT_NE(r.status().message().find("nobody"), std::string::npos) << r.status().message();
}

TEST_F(ClientTest, InsertedBlockReadsBackWithEveryCompression) {
  Client setup(Options());
  for (Compression compression : {Compression::kGzip, Compression::kDeflate, Compression::kNone}) {
    std::string table = "guide_" + std::to_string(static_cast<int>(compression));
    ASSERT_TRUE(CreateGuideTable(setup, table).ok());
    ClientOptions o = Options();
    o.compression = compression;
    Client client(o);
    constexpr int kRows = 2000;
    Status s = client.InsertBlock({"default", table, {}}, GuideRows(kRows));
    ASSERT_TRUE(s.ok()) << s.ToString();
    Result<std::string> back = client.Query(
        "SELECT entityType, entityId, userId, metricType, metricValue FROM " + table +
        " ORDER BY entityId");
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, GuideRowsTsv(kRows)) << "compression " << static_cast<int>(compression);
    // createdAt took its DEFAULT now().
    Result<std::string> defaults = client.Query(
        "SELECT countIf(createdAt > now() - 3600) FROM " + table);
    ASSERT_TRUE(defaults.ok());
    EXPECT_EQ(*defaults, std::to_string(kRows) + "\n");
  }
}

TEST_F(ClientTest, InsertOfMismatchedColumnsIsRejectedWithTheServersCode) {
  Client client(Options());
  ASSERT_TRUE(CreateGuideTable(client, "mismatch").ok());
  types::Block block = GuideRows(3);
  block.at(1).name = "noSuchColumn";
  Status s = client.InsertBlock({"", "mismatch", {}}, block);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_EQ(s.clickhouse_code(), ch::kNoSuchColumnInTable) << s.ToString();
  EXPECT_FALSE(IsRetryable(s));
}

TEST_F(ClientTest, SlowQueryIsUnavailableAfterTheRequestTimeout) {
  ClientOptions o = Options();
  o.request_timeout = std::chrono::milliseconds(500);
  Client client(o);
  auto start = std::chrono::steady_clock::now();
  Result<std::string> r = client.Query("SELECT sleep(3)");
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
  EXPECT_EQ(r.status().clickhouse_code(), kSocketTimeout);
  EXPECT_LT(elapsed, std::chrono::milliseconds(2500));
  // The same client works again afterwards.
  Status ping = client.Ping();
  EXPECT_TRUE(ping.ok()) << ping.ToString();
}

TEST_F(ClientTest, TlsHandshakeFailureIsUnavailable) {
  ClientOptions o = Options();
  o.https = true;  // the server speaks plain HTTP on this port
  Client client(o);
  Status s = client.Ping();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  // The plain server either answers the ClientHello with garbage (NETWORK_ERROR) or waits for a
  // request until the connect timeout ends the handshake (SOCKET_TIMEOUT).
  EXPECT_TRUE(s.clickhouse_code() == kNetworkError || s.clickhouse_code() == kSocketTimeout)
      << s.ToString();
  EXPECT_NE(s.message().find("https://127.0.0.1:"), std::string::npos) << s.message();
}

TEST_F(ClientTest, ResponseLargerThanTheLimitIsResourceExhausted) {
  ClientOptions o = Options();
  o.max_response_bytes = 1000;
  Client client(o);
  Result<std::string> r = client.Query("SELECT number FROM numbers(100000)");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted) << r.status().ToString();
  Result<std::string> small = client.Query("SELECT 1");
  EXPECT_TRUE(small.ok()) << small.status().ToString();
}

}  // namespace
}  // namespace trackhouse::clickhouse
