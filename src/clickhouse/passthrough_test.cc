#include "clickhouse/passthrough.h"

#include <gtest/gtest.h>

#include <string>

#include "clickhouse/test_server.h"
#include "common/error_codes.h"
#include "sql/parser.h"

namespace trackhouse::clickhouse {
namespace {

Capabilities Caps(bool http_params) {
  Capabilities c = Capabilities::ForVersion({18, 16, 1, 0});
  c.http_query_parameters = http_params;
  return c;
}

// A request for `text`, whose parsed statement *stmt keeps.
query::QueryRequest RequestFor(std::string_view text, sql::StatementPtr* stmt) {
  auto parsed = sql::ParseStatement(text);
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  if (parsed.ok()) *stmt = std::move(parsed).value();
  query::QueryRequest request;
  request.statement = stmt->get();
  request.sql = text;
  return request;
}

TEST(PassthroughPrepareTest, BindsParametersForOldServersAndPassesThemToNewOnes) {
  sql::StatementPtr stmt;
  query::QueryRequest request = RequestFor("SELECT {id:UInt32}, {s:String}", &stmt);
  request.settings = {{"param_id", "7"}, {"param_s", "a\\'b"}, {"max_threads", "2"}};

    std::string text;
  RequestOptions options;
  ASSERT_TRUE(PassthroughQueryHandler::Prepare(request, Caps(false), &text, &options).ok());
  EXPECT_EQ(text, "SELECT 7, 'a\\'b'");
  EXPECT_TRUE(options.params.empty());
  EXPECT_EQ(options.settings,
            (Settings{{"allow_experimental_low_cardinality_type", "1"}, {"max_threads", "2"}}));

    text.clear();
  options = {};
  ASSERT_TRUE(PassthroughQueryHandler::Prepare(request, Caps(true), &text, &options).ok());
  EXPECT_EQ(text, request.sql);
  EXPECT_EQ(options.params, (Settings{{"id", "7"}, {"s", "a\\'b"}}));
}

TEST(PassthroughPrepareTest, ReadonlyTransportSettingsDatabaseAndFormat) {
  sql::StatementPtr stmt;
  query::QueryRequest request = RequestFor("SELECT 1", &stmt);
  request.readonly = true;
  request.database = "metrics";
  request.query_id = "q-1";
  request.default_format = "JSONEachRow";
  request.settings = {{"enable_http_compression", "1"}, {"http_zlib_compression_level", "5"}};
  std::string text;
  RequestOptions options;
  ASSERT_TRUE(PassthroughQueryHandler::Prepare(request, Caps(false), &text, &options).ok());
  EXPECT_EQ(options.settings,
            (Settings{{"allow_experimental_low_cardinality_type", "1"}, {"readonly", "2"}}));
  EXPECT_EQ(options.database, "metrics");
  EXPECT_EQ(options.query_id, "q-1");
  EXPECT_EQ(options.format, "JSONEachRow");

  // A readonly level the request names itself is kept, after the required settings (none may
  // follow readonly=1).
  request.settings = {{"readonly", "1"}};
  options = {};
  ASSERT_TRUE(PassthroughQueryHandler::Prepare(request, Caps(false), &text, &options).ok());
  EXPECT_EQ(options.settings,
            (Settings{{"allow_experimental_low_cardinality_type", "1"}, {"readonly", "1"}}));
  // readonly=0 does not make a read-only request writable.
  request.settings = {{"readonly", "0"}};
  options = {};
  ASSERT_TRUE(PassthroughQueryHandler::Prepare(request, Caps(false), &text, &options).ok());
  EXPECT_EQ(options.settings,
            (Settings{{"allow_experimental_low_cardinality_type", "1"}, {"readonly", "2"}}));
}

class PassthroughServerTest : public ClickHouseSuite {
 protected:
  static void SetUpTestSuite() {
    ClickHouseSuite::SetUpTestSuite();
    if (!server_) return;
    Client client(Options());
    for (const char* ddl :
         {"CREATE DATABASE metrics",
          "CREATE TABLE metrics.events (id UInt32, name String) ENGINE = MergeTree ORDER BY id",
          "CREATE TABLE metrics.copies (id UInt32, name String) ENGINE = MergeTree ORDER BY id",
          "INSERT INTO metrics.events VALUES (1, 'a'), (2, 'b\\tc'), (3, 'it''s')"}) {
      Status st = client.Query(ddl).status();
      if (!st.ok()) error_ = st.ToString();
    }
  }

  Result<query::QueryResult> Run(const std::string& text, Settings settings = {},
                                 std::string database = "metrics", bool readonly = false,
                                 std::string default_format = "") {
    text_ = text;
    query::QueryRequest request = RequestFor(text_, &stmt_);
    if (stmt_ == nullptr) return Status::InvalidArgument("unparsable test statement");
    request.settings = std::move(settings);
    request.database = std::move(database);
    request.readonly = readonly;
    request.default_format = std::move(default_format);
    request.query_id = "passthrough-test";
    return handler_->Execute(request);
  }

  void SetUp() override {
    ClickHouseSuite::SetUp();
    // Capabilities unknown: the handler detects them on its first request.
    handler_ = std::make_unique<PassthroughQueryHandler>(PassthroughOptions{Options(), {}, 2});
  }

  std::unique_ptr<PassthroughQueryHandler> handler_;
  sql::StatementPtr stmt_;
  std::string text_;
};

TEST_F(PassthroughServerTest, SelectsInTheRequestedFormats) {
  auto tsv = Run("SELECT id, name FROM events ORDER BY id");
  ASSERT_TRUE(tsv.ok()) << tsv.status().ToString();
  EXPECT_EQ(tsv->body, "1\ta\n2\tb\\tc\n3\tit\\'s\n");
  EXPECT_EQ(tsv->format, "TabSeparated");
  EXPECT_EQ(tsv->content_type, "text/tab-separated-values; charset=UTF-8");

  auto json = Run("SELECT id FROM events WHERE id = 1 FORMAT JSONEachRow");
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  EXPECT_EQ(json->body, "{\"id\":1}\n");
  EXPECT_EQ(json->format, "JSONEachRow");

  auto by_default = Run("SELECT name FROM events WHERE id = 3", {}, "metrics", false, "CSV");
  ASSERT_TRUE(by_default.ok()) << by_default.status().ToString();
  EXPECT_EQ(by_default->body, "\"it's\"\n");
  EXPECT_EQ(by_default->format, "CSV");
  EXPECT_EQ(by_default->content_type, "text/csv; charset=UTF-8; header=absent");
}

TEST_F(PassthroughServerTest, DetectsTheServersCapabilitiesOnItsFirstRequest) {
  EXPECT_EQ(handler_->capabilities().version.major, 0u);
  ASSERT_TRUE(Run("SELECT 1").ok());
  Capabilities detected = handler_->capabilities();
  EXPECT_EQ(detected.version.major, 18u);
  EXPECT_FALSE(detected.http_query_parameters);
}

TEST_F(PassthroughServerTest, BindsParametersOnTheOldServer) {
  auto r = Run("SELECT id FROM events WHERE name = {n:String} OR id = {id:UInt32} ORDER BY id",
               {{"param_n", "b\\tc"}, {"param_id", "3"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "2\n3\n");
  auto missing = Run("SELECT {id:UInt32}");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().clickhouse_code(), ch::kUnknownQueryParameter);
  auto injection = Run("SELECT count() FROM events WHERE id = {id:UInt32}",
                       {{"param_id", "1 OR 1 = 1"}});
  ASSERT_FALSE(injection.ok());
  EXPECT_EQ(injection.status().clickhouse_code(), ch::kBadQueryParameter);
}

TEST_F(PassthroughServerTest, ServerErrorsKeepTheirCodes) {
  auto unknown_table = Run("SELECT * FROM nowhere");
  ASSERT_FALSE(unknown_table.ok());
  EXPECT_EQ(unknown_table.status().clickhouse_code(), 60);
  auto unknown_db = Run("SELECT 1", {}, "no_such_db");
  ASSERT_FALSE(unknown_db.ok());
  EXPECT_EQ(unknown_db.status().clickhouse_code(), 81);
  auto unknown_column = Run("SELECT nope FROM events");
  ASSERT_FALSE(unknown_column.ok());
  EXPECT_EQ(unknown_column.status().clickhouse_code(), 47);
}

TEST_F(PassthroughServerTest, SettingsGoToClickHouse) {
  auto limited = Run("SELECT id FROM events", {{"max_result_rows", "1"}});
  ASSERT_FALSE(limited.ok());
  EXPECT_EQ(limited.status().clickhouse_code(), ch::kTooManyRowsOrBytes);
  auto ok = Run("SELECT id FROM events ORDER BY id LIMIT 1", {{"max_threads", "1"}});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->body, "1\n");
}

TEST_F(PassthroughServerTest, ShowDescribeExistsAndSystemTables) {
  auto tables = Run("SHOW TABLES");
  ASSERT_TRUE(tables.ok()) << tables.status().ToString();
  EXPECT_EQ(tables->body, "copies\nevents\n");
  auto describe = Run("DESCRIBE TABLE events");
  ASSERT_TRUE(describe.ok()) << describe.status().ToString();
  EXPECT_EQ(describe->body.substr(0, 11), "id\tUInt32\t\t");
  auto exists = Run("EXISTS TABLE events");
  ASSERT_TRUE(exists.ok()) << exists.status().ToString();
  EXPECT_EQ(exists->body, "1\n");
  auto system = Run("SELECT name FROM system.tables WHERE database = currentDatabase() "
                    "AND name = 'events'");
  ASSERT_TRUE(system.ok()) << system.status().ToString();
  EXPECT_EQ(system->body, "events\n");
}

TEST_F(PassthroughServerTest, ReadonlyOneFromTheRequestStillReads) {
  auto r = Run("SELECT count() FROM events", {{"readonly", "1"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "3\n");
  auto refused = Run("INSERT INTO copies SELECT 8, 'y'", {{"readonly", "1"}});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().clickhouse_code(), ch::kReadonly);
}

TEST_F(PassthroughServerTest, ReadonlyRequestsCannotWrite) {
  auto refused = Run("INSERT INTO copies SELECT 9, 'x'", {}, "metrics", /*readonly=*/true);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().clickhouse_code(), ch::kReadonly);
  auto lifted = Run("INSERT INTO copies SELECT 9, 'x'", {{"readonly", "0"}}, "metrics",
                    /*readonly=*/true);
  ASSERT_FALSE(lifted.ok());
  EXPECT_EQ(lifted.status().clickhouse_code(), ch::kReadonly);
  auto count = Run("SELECT count() FROM copies WHERE id = 9");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(count->body, "0\n");

  auto copied = Run("INSERT INTO copies SELECT 9, 'x'");
  ASSERT_TRUE(copied.ok()) << copied.status().ToString();
  auto after = Run("SELECT count() FROM copies WHERE id = 9");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->body, "1\n");
}

}  // namespace
}  // namespace trackhouse::clickhouse
