#include "common/logging.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>
#include <string>

namespace trackhouse::logging {
namespace {

// 2026-11-25T05:00:00.123Z
constexpr int64_t kTime = 1795582800123000;

// Parses a JSON line into an object; fails the test if it is not one.
simdjson::dom::object ParseObject(simdjson::dom::parser& parser, const std::string& line) {
  simdjson::dom::object object;
  EXPECT_EQ(parser.parse(simdjson::padded_string(line)).get(object), simdjson::SUCCESS) << line;
  return object;
}

std::string_view StringField(simdjson::dom::object& object, std::string_view key) {
  std::string_view value;
  EXPECT_EQ(object[key].get(value), simdjson::SUCCESS) << key;
  return value;
}

TEST(LoggingTest, TextLineHasTimestampLevelEventAndBareFields) {
  std::string line = Render(Format::kText, kTime, Level::kWarn, "flush_failed",
                            {{"table", "default.events"}, {"retry_ms", 200}, {"disk_full", true}});
  EXPECT_EQ(line,
            "2026-11-25T05:00:00.123Z WARN flush_failed table=default.events retry_ms=200 "
            "disk_full=true");
}

TEST(LoggingTest, TextValuesWithSpacesQuotesOrNewlinesAreQuotedAndEscaped) {
  std::string line = Render(Format::kText, kTime, Level::kError, "flush_failed",
                            {{"error", "IO error: \"a\\b\"\nnext line\tand\r"},
                             {"empty", ""},
                             {"eq", "a=b"},
                             {"bell", std::string_view("\x07", 1)}});
  EXPECT_EQ(line,
            "2026-11-25T05:00:00.123Z ERROR flush_failed "
            "error=\"IO error: \\\"a\\\\b\\\"\\nnext line\\tand\\r\" empty=\"\" eq=\"a=b\" "
            "bell=\"\\x07\"");
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(LoggingTest, TextKeepsValidUtf8AndEscapesInvalidBytes) {
  std::string line = Render(Format::kText, kTime, Level::kInfo, "e", {{"v", "caf\xc3\xa9 \xff"}});
  EXPECT_EQ(line, "2026-11-25T05:00:00.123Z INFO e v=\"caf\xc3\xa9 \\xff\"");
}

TEST(LoggingTest, JsonLineIsOneObjectWithTsLevelEventAndTypedFields) {
  std::string line = Render(Format::kJson, kTime, Level::kInfo, "server_started",
                            {{"listen", "http://127.0.0.1:8124"},
                             {"tls", false},
                             {"keys", size_t{3}},
                             {"delta", -5},
                             {"ratio", 0.5}});
  EXPECT_EQ(line,
            "{\"ts\":\"2026-11-25T05:00:00.123Z\",\"level\":\"info\",\"event\":\"server_started\","
            "\"listen\":\"http://127.0.0.1:8124\",\"tls\":false,\"keys\":3,\"delta\":-5,"
            "\"ratio\":0.5}");
  simdjson::dom::parser parser;
  simdjson::dom::object object = ParseObject(parser, line);
  EXPECT_EQ(StringField(object, "event"), "server_started");
  uint64_t keys = 0;
  EXPECT_EQ(object["keys"].get(keys), simdjson::SUCCESS);
  EXPECT_EQ(keys, 3u);
}

TEST(LoggingTest, JsonEscapesQuotesBackslashesControlCharactersAndInvalidUtf8) {
  const std::string raw = std::string("say \"hi\"\\\n\t\r") + '\x01' + "caf\xc3\xa9" + '\xc3';
  std::string line = Render(Format::kJson, kTime, Level::kError, "merge_failed",
                            {{"error", raw}, {"nan", std::nan("")}});
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_NE(line.find(R"("error":"say \"hi\"\\\n\t\r\u0001café\ufffd")"), std::string::npos)
      << line;
  simdjson::dom::parser parser;
  simdjson::dom::object object = ParseObject(parser, line);
  EXPECT_EQ(StringField(object, "error"),
            "say \"hi\"\\\n\t\r\x01"
            "caf\xc3\xa9\xef\xbf\xbd");
  EXPECT_TRUE(object["nan"].is_null());
  EXPECT_EQ(StringField(object, "level"), "error");
}

TEST(LoggingTest, FieldsNamedLikeSecretsAreRedactedInBothFormats) {
  for (Format format : {Format::kText, Format::kJson}) {
    std::string line = Render(format, kTime, Level::kInfo, "e",
                              {{"key", "k-secret-1"},
                               {"api_key", "k-secret-2"},
                               {"Password", "k-secret-3"},
                               {"jwt_token", "k-secret-4"},
                               {"Authorization", "Bearer k-secret-5"},
                               {"jwt_secret", "k-secret-6"},
                               {"keys", 2}});
    EXPECT_EQ(line.find("k-secret"), std::string::npos) << line;
    EXPECT_NE(line.find("[redacted]"), std::string::npos) << line;
    EXPECT_NE(line.find("keys"), std::string::npos) << "a count of keys is no secret: " << line;
  }
}

TEST(LoggingTest, TimestampsBeforeTheEpochAndAtSecondBoundariesRenderInUtc) {
  EXPECT_EQ(Render(Format::kText, 0, Level::kInfo, "e", {}), "1970-01-01T00:00:00.000Z INFO e");
  EXPECT_EQ(Render(Format::kText, -1000, Level::kInfo, "e", {}), "1969-12-31T23:59:59.999Z INFO e");
}

TEST(LoggingTest, LevelsBelowTheConfiguredOneAreNotWritten) {
  CaptureForTesting capture;
  Configure(Level::kWarn, Format::kText);
  Debug("debug_event");
  Info("info_event");
  Warn("warn_event", {{"n", 1}});
  Error("error_event");
  Configure(Level::kOff, Format::kText);
  Error("off_event");
  Configure(Level::kInfo, Format::kText);
  EXPECT_FALSE(capture.Contains("debug_event"));
  EXPECT_FALSE(capture.Contains("info_event"));
  EXPECT_TRUE(capture.Contains("warn_event"));
  EXPECT_TRUE(capture.Contains("error_event"));
  EXPECT_FALSE(capture.Contains("off_event"));
  ASSERT_EQ(capture.lines().size(), 2u);
  EXPECT_NE(capture.lines()[0].find(" WARN warn_event n=1"), std::string::npos)
      << capture.lines()[0];
}

TEST(LoggingTest, ConfiguredJsonFormatAppliesToLoggedLines) {
  CaptureForTesting capture;
  Configure(Level::kDebug, Format::kJson);
  Debug("json_event", {{"a", "b"}});
  Configure(Level::kInfo, Format::kText);
  ASSERT_EQ(capture.lines().size(), 1u);
  EXPECT_TRUE(capture.Contains("json_event"));
  simdjson::dom::parser parser;
  simdjson::dom::object object = ParseObject(parser, capture.lines()[0]);
  EXPECT_EQ(StringField(object, "level"), "debug");
  EXPECT_EQ(StringField(object, "a"), "b");
}

TEST(LoggingTest, ParsesLevelAndFormatNames) {
  EXPECT_EQ(*ParseLevel("debug"), Level::kDebug);
  EXPECT_EQ(*ParseLevel("trace"), Level::kDebug);
  EXPECT_EQ(*ParseLevel("info"), Level::kInfo);
  EXPECT_EQ(*ParseLevel("warn"), Level::kWarn);
  EXPECT_EQ(*ParseLevel("critical"), Level::kError);
  EXPECT_EQ(*ParseLevel("off"), Level::kOff);
  EXPECT_FALSE(ParseLevel("verbose").ok());
  EXPECT_EQ(*ParseFormat("json"), Format::kJson);
  EXPECT_EQ(*ParseFormat("text"), Format::kText);
  Result<Format> bad = ParseFormat("xml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("text, json"), std::string::npos);
}

}  // namespace
}  // namespace trackhouse::logging
