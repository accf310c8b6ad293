// The ClickHouse HTTP interface end to end (real server and engine, a fake query handler that
// records what reaches it): settings and parameters, read-only GET, sessions, gzip in both
// directions, credentials, response headers and error counting.
#include <gtest/gtest.h>
#include <zlib.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "common/metrics.h"
#include "server/compression.h"
#include "server/test_client.h"

namespace trackhouse::server {
namespace {

// What the handler saw of the last statement.
struct Seen {
  std::string sql;
  sql::StatementKind kind = sql::StatementKind::kSelect;
  std::string database;
  std::vector<std::pair<std::string, std::string>> settings;
  std::string default_format;
  std::string query_id;
  bool readonly = false;
  int calls = 0;

  std::string Setting(std::string_view name) const {
    std::string v = "<absent>";
    for (const auto& [n, value] : settings) {
      if (n == name) v = value;
    }
    return v;
  }
};

class FakeQueryHandler final : public query::QueryHandler {
 public:
  Result<query::QueryResult> Execute(const query::QueryRequest& r) override {
    std::unique_lock lock(mu_);
    seen_.sql = std::string(r.sql);
    seen_.kind = r.statement->kind;
    seen_.database = r.database;
    seen_.settings = r.settings;
    seen_.default_format = r.default_format;
    seen_.query_id = r.query_id;
    seen_.readonly = r.readonly;
    ++seen_.calls;
    if (block_) {
      entered_ = true;
      cv_.notify_all();
      cv_.wait(lock, [&] { return !block_; });
    }
    if (!error_.ok()) return error_;
    query::QueryResult result;
    result.body = body_;
    result.format = r.default_format.empty() ? "TabSeparated" : r.default_format;
    result.read_rows = 10;
    result.read_bytes = 80;
    result.result_rows = 2;
    result.result_bytes = body_.size();
    return result;
  }

  Seen seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }
  void set_body(std::string body) {
    std::lock_guard lock(mu_);
    body_ = std::move(body);
  }
  void set_error(Status error) {
    std::lock_guard lock(mu_);
    error_ = std::move(error);
  }
  void Block() {
    std::lock_guard lock(mu_);
    block_ = true;
    entered_ = false;
  }
  void WaitEntered() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return entered_; });
  }
  void Unblock() {
    std::lock_guard lock(mu_);
    block_ = false;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  Seen seen_;
  std::string body_ = "1\tone\n2\ttwo\n";
  Status error_;
  bool block_ = false;
  bool entered_ = false;
};

std::string Gunzip(std::string_view data) {
  z_stream zs{};
  EXPECT_EQ(inflateInit2(&zs, 15 + 32), Z_OK);
  std::string out(1 << 20, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  inflateEnd(&zs);
  return out;
}

class ClickHouseHttpTest : public ServerFixture {
 protected:
  void SetUp() override { StartWithUsers({}); }

  void StartWithUsers(std::vector<UserEntry> users) {
    ServerOptions options;
    options.display_name = "test-server";
    options.users = std::move(users);
    StartAll(options, &handler_);
  }

  FakeQueryHandler handler_;
};

TEST_F(ClickHouseHttpTest, SelectReachesTheEngineWithHeaders) {
  Response r = Send("GET", "/?query=" + Encode("SELECT 1") + "&query_id=q-1");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "1\tone\n2\ttwo\n");
  EXPECT_EQ(r.Header("X-ClickHouse-Query-Id"), "q-1");
  EXPECT_EQ(r.Header("X-ClickHouse-Format"), "TabSeparated");
  EXPECT_EQ(r.Header("X-ClickHouse-Timezone"), "UTC");
  EXPECT_EQ(r.Header("X-ClickHouse-Server-Display-Name"), "test-server");
  std::string summary = r.Header("X-ClickHouse-Summary");
  EXPECT_NE(summary.find("\"read_rows\":\"10\""), std::string::npos) << summary;
  EXPECT_NE(summary.find("\"read_bytes\":\"80\""), std::string::npos) << summary;
  EXPECT_NE(summary.find("\"total_rows_to_read\":\"10\""), std::string::npos) << summary;
  EXPECT_NE(summary.find("\"result_rows\":\"2\""), std::string::npos) << summary;
  EXPECT_NE(summary.find("\"written_rows\":\"0\""), std::string::npos) << summary;
  Seen seen = handler_.seen();
  EXPECT_EQ(seen.query_id, "q-1");
  EXPECT_TRUE(seen.readonly);
  EXPECT_EQ(seen.database, "default");
}

TEST_F(ClickHouseHttpTest, QueryInUrlAndBodyAreJoinedByNewline) {
  Response r = Send("POST", "/?query=" + Encode("SELECT 1,"), "2 FORMAT JSON");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(handler_.seen().sql, "SELECT 1,\n2 FORMAT JSON");
  EXPECT_FALSE(handler_.seen().readonly);
  r = Send("POST", "/", "SHOW TABLES");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(handler_.seen().sql, "SHOW TABLES");
  EXPECT_EQ(handler_.seen().kind, sql::StatementKind::kShowTables);
}

TEST_F(ClickHouseHttpTest, SettingsAndParamsArePassedOnReservedArgumentsAreNot) {
  std::string hostile = "it's {x} \\ \n\xc3\xa9";
  Response r = Send("POST", "/?query=" + Encode("SELECT {name:String}") +
                                "&max_result_rows=5&param_name=" + Encode(hostile) +
                                "&database=db1&default_format=JSON&query_id=x&wait_end_of_query=1"
                                "&send_progress_in_http_headers=1&user=default");
  ASSERT_EQ(r.status, 200) << r.body;
  Seen seen = handler_.seen();
  EXPECT_EQ(seen.Setting("max_result_rows"), "5");
  EXPECT_EQ(seen.Setting("param_name"), hostile);
  EXPECT_EQ(seen.Setting("send_progress_in_http_headers"), "1");
  EXPECT_EQ(seen.settings.size(), 3u);
  EXPECT_EQ(seen.database, "db1");
  EXPECT_EQ(seen.default_format, "JSON");
  EXPECT_EQ(seen.sql, "SELECT {name:String}\n");
  EXPECT_EQ(r.Header("X-ClickHouse-Format"), "JSON");
}

TEST_F(ClickHouseHttpTest, DatabaseAndFormatHeaders) {
  Response r = Send("POST", "/?query=" + Encode("SELECT 1"), "",
                    "X-ClickHouse-Database: db2\r\nX-ClickHouse-Format: CSV\r\n");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(handler_.seen().database, "db2");
  EXPECT_EQ(handler_.seen().default_format, "CSV");
}

TEST_F(ClickHouseHttpTest, UnknownSettingIsRejectedUpFront) {
  int64_t before = metrics::ValueOf("trackhouse_http_exceptions_unknown_setting_total");
  Response r = Send("GET", "/?query=" + Encode("SELECT 1") + "&max_threadz=2");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.Header("X-ClickHouse-Exception-Code"), "115");
  EXPECT_EQ(r.body.rfind("Code: 115. DB::Exception: Setting max_threadz is neither a builtin "
                         "setting nor started with the prefix 'custom_' registered for "
                         "user-defined settings. (UNKNOWN_SETTING)",
                         0),
            0u)
      << r.body;
  EXPECT_EQ(handler_.seen().calls, 0);
  EXPECT_EQ(metrics::ValueOf("trackhouse_http_exceptions_unknown_setting_total"), before + 1);
  r = Send("GET", "/?query=" + Encode("SELECT 1") + "&enable_http_compression=maybe");
  EXPECT_EQ(r.Header("X-ClickHouse-Exception-Code"), "467");
  EXPECT_NE(r.body.find("Cannot parse bool from string 'maybe'"), std::string::npos) << r.body;
}

TEST_F(ClickHouseHttpTest, ReadOnlyRules) {
  CreateEvents();
  Response r = Send("GET", "/?query=" + Encode("INSERT INTO events SELECT 1, 'a'"));
  EXPECT_EQ(r.Header("X-ClickHouse-Exception-Code"), "164");
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(r.body.find("method GET implies readonly"), std::string::npos) << r.body;
  // readonly=1 as a setting: writes and SET refused, reads allowed.
  r = Send("POST", "/?readonly=1&query=" + Encode("INSERT INTO events FORMAT JSONEachRow"),
           "{\"id\":1}\n");
  EXPECT_EQ(r.Header("X-ClickHouse-Exception-Code"), "164");
  EXPECT_EQ(r.body.find("method GET"), std::string::npos) << r.body;
  r = Send("POST", "/?readonly=1&query=" + Encode("SET max_threads = 1"));
  EXPECT_EQ(r.Header("X-ClickHouse-Exception-Code"), "164");
  EXPECT_NE(r.body.find("Cannot modify 'max_threads' setting in readonly mode"), std::string::npos);
  r = Send("POST", "/?readonly=1&query=" + Encode("SELECT 1"));
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(handler_.seen().readonly);
  // GET allows SET (readonly=2) and reads.
  r = Send("GET", "/?query=" + Encode("SET max_threads = 1"));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(CountRows("events"), 0u);
}

TEST_F(ClickHouseHttpTest, SessionsKeepSetAndUse) {
  ASSERT_EQ(Send("POST", "/?query=" + Encode("CREATE DATABASE analytics")).status, 200);
  Response r = Send(
      "POST", "/?session_id=s1&query=" + Encode("SET max_threads = 3, "
                                                "output_format_json_quote_64bit_integers = 0"));
  ASSERT_EQ(r.status, 200) << r.body;
  r = Send("POST", "/?session_id=s1&query=" + Encode("USE analytics"));
  ASSERT_EQ(r.status, 200) << r.body;
  r = Send("POST", "/?session_id=s1&max_threads=4&query=" + Encode("SELECT 1"));
  ASSERT_EQ(r.status, 200) << r.body;
  Seen seen = handler_.seen();
  EXPECT_EQ(seen.database, "analytics");
  EXPECT_EQ(seen.Setting("output_format_json_quote_64bit_integers"), "0");
  EXPECT_EQ(seen.Setting("max_threads"), "4");  // the URL's value comes last and wins
  // Another session, and no session at all, see none of it.
  r = Send("POST", "/?session_id=s2&query=" + Encode("SELECT 1"));
  EXPECT_EQ(handler_.seen().database, "default");
  EXPECT_EQ(handler_.seen().settings.size(), 0u);
  // Without a session, SET and USE succeed without lasting effect.
  EXPECT_EQ(Send("POST", "/?query=" + Encode("USE analytics")).status, 200);
  EXPECT_EQ(Send("POST", "/?query=" + Encode("SET max_threads = 2")).status, 200);
  Send("POST", "/?query=" + Encode("SELECT 1"));
  EXPECT_EQ(handler_.seen().database, "default");
  EXPECT_EQ(handler_.seen().settings.size(), 0u);
  // Errors as ClickHouse.
  r = Send("POST", "/?session_id=s1&query=" + Encode("USE nowhere"));
  EXPECT_EQ(r.Header("X-ClickHouse-Exception-Code"), "81");
  EXPECT_NE(r.body.find("Database nowhere does not exist"), std::string::npos);
  r = Send("POST", "/?session_id=s1&query=" + Encode("SET max_threadz = 1"));
  EXPECT_EQ(r.Header("X-ClickHouse-Exception-Code"), "115");
  r = Send("POST", "/?session_id=s9&session_check=1&query=" + Encode("SELECT 1"));
  EXPECT_EQ(r.Header("X-ClickHouse-Exception-Code"), "372");
  r = Send("POST", "/?session_id=s1&session_timeout=99999&query=" + Encode("SELECT 1"));
  EXPECT_EQ(r.Header("X-ClickHouse-Exception-Code"), "374");
}

TEST_F(ClickHouseHttpTest, SessionUsedByTwoRequestsAtOnceIsLocked) {
  handler_.Block();
  Response first;
  std::thread t([&] { first = Send("POST", "/?session_id=busy&query=" + Encode("SELECT 1")); });
  handler_.WaitEntered();
  Response second = Send("POST", "/?session_id=busy&query=" + Encode("SELECT 2"));
  handler_.Unblock();
  t.join();
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(second.Header("X-ClickHouse-Exception-Code"), "373");
  EXPECT_NE(second.body.find("Session busy is locked by a concurrent client"), std::string::npos);
  // Once the first request is done the session is free again.
  EXPECT_EQ(Send("POST", "/?session_id=busy&query=" + Encode("SELECT 3")).status, 200);
}

TEST_F(ClickHouseHttpTest, GzipRequestBodyIsInflatedWhileStreaming) {
  CreateEvents();
  std::string rows;
  for (int i = 0; i < 20000; ++i) rows += fmt::format("{{\"id\":{},\"name\":\"n{}\"}}\n", i, i);
  auto packed =
      CompressBody("INSERT INTO events FORMAT JSONEachRow\n" + rows, ContentEncoding::kGzip, 6);
  ASSERT_TRUE(packed.ok());
  Response r = Send("POST", "/?max_insert_block_size=1000", *packed, "Content-Encoding: gzip\r\n");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(CountRows("events"), 20000u);
  // deflate (zlib format) with the statement in the URL.
  packed = CompressBody("{\"id\":1,\"name\":\"x\"}\n", ContentEncoding::kDeflate, 6);
  r = Send("POST", "/?query=" + Encode("INSERT INTO events FORMAT JSONEachRow"), *packed,
           "Content-Encoding: deflate\r\n");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(CountRows("events"), 20001u);
  // A compressed query.
  packed = CompressBody("SELECT 42", ContentEncoding::kGzip, 6);
  r = Send("POST", "/", *packed, "Content-Encoding: gzip\r\n");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(handler_.seen().sql, "SELECT 42");
}

TEST_F(ClickHouseHttpTest, CorruptGzipIsAClickHouseError) {
  CreateEvents();
  int64_t before = metrics::ValueOf("trackhouse_http_decompress_errors_total");
  Response r = Send("POST", "/?query=" + Encode("INSERT INTO events FORMAT JSONEachRow"),
                    "definitely not gzip", "Content-Encoding: gzip\r\n");
  EXPECT_EQ(r.Header("X-ClickHouse-Exception-Code"), "354");
  EXPECT_NE(r.body.find("inflate failed"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("(ZLIB_INFLATE_FAILED)"), std::string::npos) << r.body;
  EXPECT_EQ(metrics::ValueOf("trackhouse_http_decompress_errors_total"), before + 1);
  r = Send("POST", "/?query=" + Encode("SELECT 1"), "x", "Content-Encoding: br\r\n");
  EXPECT_EQ(r.status, 501);
  EXPECT_NE(r.body.find("Unknown compression method 'br'"), std::string::npos) << r.body;
  r = Send("POST", "/?compress=1&query=" + Encode("SELECT 1"));
  EXPECT_EQ(r.status, 501);
}

TEST_F(ClickHouseHttpTest, ResponsesAreCompressedWhenEnabledAndAccepted) {
  std::string big(100000, 'z');
  handler_.set_body(big);
  Response r = Send("GET", "/?enable_http_compression=1&query=" + Encode("SELECT 1"), "",
                    "Accept-Encoding: gzip, deflate\r\n");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("Content-Encoding"), "gzip");
  EXPECT_LT(r.body.size(), big.size() / 10);
  EXPECT_EQ(Gunzip(r.body), big);
  r = Send("GET", "/?enable_http_compression=1&query=" + Encode("SELECT 1"), "",
           "Accept-Encoding: deflate\r\n");
  EXPECT_EQ(r.Header("Content-Encoding"), "deflate");
  EXPECT_EQ(Gunzip(r.body), big);
  // Not enabled, or not accepted: plain.
  r = Send("GET", "/?query=" + Encode("SELECT 1"), "", "Accept-Encoding: gzip\r\n");
  EXPECT_EQ(r.Header("Content-Encoding"), "");
  EXPECT_EQ(r.body, big);
  r = Send("GET", "/?enable_http_compression=1&query=" + Encode("SELECT 1"));
  EXPECT_EQ(r.Header("Content-Encoding"), "");
  EXPECT_EQ(r.body, big);
}

TEST_F(ClickHouseHttpTest, EngineErrorsAreShapedAndCountedByCode) {
  handler_.set_error(Status::InvalidArgument("Limit for result exceeded, max rows: 1.00",
                                             ch::kTooManyRowsOrBytes));
  int64_t before = metrics::ValueOf("trackhouse_http_exceptions_too_many_rows_or_bytes_total");
  Response r = Send("GET", "/?query=" + Encode("SELECT 1") + "&max_result_rows=1");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.Header("X-ClickHouse-Exception-Code"), "396");
  EXPECT_EQ(r.body.rfind("Code: 396. DB::Exception: Limit for result exceeded, max rows: 1.00. "
                         "(TOO_MANY_ROWS_OR_BYTES) (version ",
                         0),
            0u)
      << r.body;
  EXPECT_EQ(r.body.back(), '\n');
  EXPECT_EQ(metrics::ValueOf("trackhouse_http_exceptions_too_many_rows_or_bytes_total"),
            before + 1);
  handler_.set_error(Status::Timeout("Timeout exceeded: elapsed 1.5 seconds, maximum: 1"));
  r = Send("GET", "/?query=" + Encode("SELECT 1"));
  EXPECT_EQ(r.status, 408);
  EXPECT_EQ(r.Header("X-ClickHouse-Exception-Code"), "159");
  handler_.set_error(Status::ResourceExhausted("Memory limit (for query) exceeded"));
  r = Send("GET", "/?query=" + Encode("SELECT 1"));
  EXPECT_EQ(r.status, 500);  // a query over its limit is not overload: no 503 retry
  EXPECT_EQ(r.Header("Retry-After"), "");
}

class ClickHouseHttpAuthTest : public ClickHouseHttpTest {
 protected:
  void SetUp() override { StartWithUsers({{"alice", "s3cret"}, {"default", ""}}); }
};

TEST_F(ClickHouseHttpAuthTest, CredentialsAreChecked) {
  std::string q = "/?query=" + Encode("SELECT 1");
  EXPECT_EQ(Send("GET", q).status, 200);  // default, empty password
  EXPECT_EQ(Send("GET", q + "&user=alice&password=s3cret").status, 200);
  EXPECT_EQ(Send("GET", q, "", "X-ClickHouse-User: alice\r\nX-ClickHouse-Key: s3cret\r\n").status,
            200);
  EXPECT_EQ(Send("GET", q, "", "Authorization: Basic YWxpY2U6czNjcmV0\r\n").status, 200);

  int64_t before = metrics::ValueOf("trackhouse_http_auth_failures_total");
  Response r = Send("GET", q + "&user=alice&password=wrong");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.Header("X-ClickHouse-Exception-Code"), "516");
  EXPECT_EQ(r.body.rfind("Code: 516. DB::Exception: alice: Authentication failed: password is "
                         "incorrect, or there is no user with such name. (AUTHENTICATION_FAILED)",
                         0),
            0u)
      << r.body;
  EXPECT_EQ(r.body.find("wrong"), std::string::npos);
  r = Send("GET", q + "&user=alice", "", "X-ClickHouse-User: alice\r\n");
  EXPECT_EQ(r.Header("X-ClickHouse-Exception-Code"), "516");
  EXPECT_NE(r.body.find("not allowed to use X-ClickHouse HTTP headers and authentication via "
                        "parameters simultaneously"),
            std::string::npos);
  EXPECT_EQ(metrics::ValueOf("trackhouse_http_auth_failures_total"), before + 2);
  // Operational routes need no credentials.
  EXPECT_EQ(Send("GET", "/ping").status, 200);
}

}  // namespace
}  // namespace trackhouse::server

namespace trackhouse::server {
namespace {

class ClickHouseHttpEngineTest : public ServerFixture {
 protected:
  void SetUp() override {
    StartAll(ServerOptions(), &forward_);
    engine_ = std::make_unique<query::QueryEngine>(storage_.get(), query::QueryEngineOptions());
    forward_.target = engine_.get();
    ASSERT_EQ(
        Post("CREATE TABLE ev (id UInt64, name String) ENGINE = MergeTree ORDER BY id").status,
        200);
    ASSERT_EQ(
        Post("INSERT INTO ev FORMAT JSONEachRow",
             "{\"id\":1,\"name\":\"plain\"}\n{\"id\":2,\"name\":\"it's {x} \\\\ \\n \\u00e9\"}\n")
            .status,
        200);
  }
  void TearDown() override {
    StopAll();
    engine_.reset();
  }

  ForwardingHandler forward_;
  std::unique_ptr<query::QueryEngine> engine_;
};

TEST_F(ClickHouseHttpEngineTest, ParametersAreBoundNotSpliced) {
  std::string hostile = "it's {x} \\ \n \xc3\xa9";
  Response r = Send("GET", "/?query=" + Encode("SELECT id FROM ev WHERE name = {n:String}") +
                               "&param_n=" + Encode(hostile) + "&default_format=JSONEachRow");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "{\"id\":\"2\"}\n");
  EXPECT_EQ(r.Header("X-ClickHouse-Format"), "JSONEachRow");
  EXPECT_NE(r.Header("X-ClickHouse-Summary").find("\"result_rows\":\"1\""), std::string::npos);
  // A parameter that tries to close the string changes nothing.
  r = Send("GET", "/?query=" + Encode("SELECT count() FROM ev WHERE name = {n:String}") +
                      "&param_n=" + Encode("x' OR 1=1 OR name='y"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "0\n");
}

TEST_F(ClickHouseHttpEngineTest, SettingsReachTheEngine) {
  Response r = Send("GET", "/?query=" + Encode("SELECT id FROM ev ORDER BY id FORMAT JSONEachRow") +
                               "&output_format_json_quote_64bit_integers=0");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "{\"id\":1}\n{\"id\":2}\n");
  r = Send("GET", "/?query=" + Encode("SELECT id FROM ev") + "&max_result_rows=1");
  EXPECT_EQ(r.Header("X-ClickHouse-Exception-Code"), "396") << r.body;
  // The same through a session's SET.
  ASSERT_EQ(Send("POST", "/?session_id=e&query=" +
                             Encode("SET output_format_json_quote_64bit_integers = 0"))
                .status,
            200);
  r = Send("POST",
           "/?session_id=e&query=" + Encode("SELECT max(id) AS m FROM ev FORMAT JSONEachRow"));
  EXPECT_EQ(r.body, "{\"m\":2}\n");
}

TEST_F(ClickHouseHttpEngineTest, CompressedQueryAndAnswer) {
  auto packed = CompressBody("SELECT name FROM ev WHERE id = 1", ContentEncoding::kGzip, 5);
  Response r = Send("POST", "/?enable_http_compression=1", *packed,
                    "Content-Encoding: gzip\r\nAccept-Encoding: gzip\r\n");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("Content-Encoding"), "gzip");
  EXPECT_EQ(Gunzip(r.body), "plain\n");
}

}  // namespace
}  // namespace trackhouse::server
