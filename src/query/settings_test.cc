#include "query/settings.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace trackhouse::query {
namespace {

TEST(SettingsTest, KnownNamesAreSortedAndUnique) {
  auto names = KnownSettingNames();
  ASSERT_FALSE(names.empty());
  EXPECT_TRUE(std::adjacent_find(names.begin(), names.end(),
                                 [](auto a, auto b) { return a >= b; }) == names.end());
  for (auto n : names) EXPECT_TRUE(IsKnownSetting(n)) << n;
}

TEST(SettingsTest, OfficialClientSettingsAreKnown) {
  for (std::string_view n :
       {"enable_http_compression", "send_progress_in_http_headers",
        "http_headers_progress_interval_ms", "output_format_json_quote_64bit_integers",
        "date_time_input_format", "max_execution_time", "readonly", "max_threads"}) {
    EXPECT_TRUE(IsKnownSetting(n)) << n;
  }
  EXPECT_FALSE(IsKnownSetting("max_threadz"));
  EXPECT_FALSE(IsKnownSetting(""));
}

TEST(SettingsTest, AppliesTypedValues) {
  QuerySettings s;
  ASSERT_TRUE(ApplySetting("max_threads", "2", &s).ok());
  EXPECT_EQ(s.max_threads, 2u);
  ASSERT_TRUE(ApplySetting("max_threads", "auto", &s).ok());
  EXPECT_EQ(s.max_threads, 0u);
  ASSERT_TRUE(ApplySetting("max_execution_time", "1.5", &s).ok());
  EXPECT_EQ(s.max_execution_time_ms, 1500u);
  ASSERT_TRUE(ApplySetting("max_memory_usage", "10Gi", &s).ok());
  EXPECT_EQ(s.max_memory_usage, 10ull << 30);
  ASSERT_TRUE(ApplySetting("max_result_rows", "10k", &s).ok());
  EXPECT_EQ(s.max_result_rows, 10000u);
  ASSERT_TRUE(ApplySetting("result_overflow_mode", "break", &s).ok());
  EXPECT_TRUE(s.result_overflow_mode_break);
  ASSERT_TRUE(ApplySetting("output_format_json_quote_64bit_integers", "false", &s).ok());
  EXPECT_FALSE(s.output_format_json_quote_64bit_integers);
  ASSERT_TRUE(ApplySetting("input_format_skip_unknown_fields", "TRUE", &s).ok());
  EXPECT_TRUE(s.input_format_skip_unknown_fields);
  ASSERT_TRUE(ApplySetting("enable_http_compression", "1", &s).ok());
  EXPECT_TRUE(s.enable_http_compression);
  ASSERT_TRUE(ApplySetting("readonly", "2", &s).ok());
  EXPECT_EQ(s.readonly, 2u);
  ASSERT_TRUE(ApplySetting("http_zlib_compression_level", "6", &s).ok());
  EXPECT_EQ(s.http_zlib_compression_level, 6);
}

TEST(SettingsTest, KnownButUnusedSettingsAreValidatedThenIgnored) {
  QuerySettings s;
  EXPECT_TRUE(ApplySetting("send_progress_in_http_headers", "1", &s).ok());
  EXPECT_TRUE(ApplySetting("http_headers_progress_interval_ms", "120000", &s).ok());
  EXPECT_TRUE(ApplySetting("date_time_input_format", "best_effort", &s).ok());
  Status bad = ApplySetting("send_progress_in_http_headers", "yes", &s);
  EXPECT_EQ(bad.clickhouse_code(), ch::kCannotParseBool);
  EXPECT_NE(bad.message().find("Cannot parse bool from string 'yes'"), std::string::npos);
  bad = ApplySetting("date_time_input_format", "fancy", &s);
  EXPECT_EQ(bad.clickhouse_code(), ch::kBadArguments);
  EXPECT_NE(bad.message().find("fancy"), std::string::npos);
}

TEST(SettingsTest, UnknownSettingIsClickHouseError) {
  QuerySettings s;
  Status st = ApplySetting("max_threadz", "2", &s);
  EXPECT_EQ(st.clickhouse_code(), ch::kUnknownSetting);
  EXPECT_EQ(st.message(),
            "Setting max_threadz is neither a builtin setting nor started with the prefix "
            "'custom_' registered for user-defined settings");
}

TEST(SettingsTest, BadNumbersNameTheSetting) {
  QuerySettings s;
  Status st = ApplySetting("max_result_rows", "-1", &s);
  EXPECT_EQ(st.clickhouse_code(), ch::kCannotParseNumber);
  EXPECT_NE(st.message().find("Unsigned type must not contain '-' symbol"), std::string::npos);
  EXPECT_NE(st.message().find("max_result_rows"), std::string::npos);
  st = ApplySetting("max_result_rows", "abc", &s);
  EXPECT_EQ(st.clickhouse_code(), ch::kCannotParseInputAssertionFailed);
  st = ApplySetting("max_result_rows", "10MB", &s);
  EXPECT_EQ(st.clickhouse_code(), ch::kCannotParseInputAssertionFailed);
  st = ApplySetting("max_result_rows", "99999999999999999999", &s);
  EXPECT_EQ(st.clickhouse_code(), ch::kCannotParseNumber);
  st = ApplySetting("max_execution_time", "-3", &s);
  EXPECT_EQ(st.clickhouse_code(), ch::kCannotParseNumber);
  st = ApplySetting("result_overflow_mode", "any", &s);
  EXPECT_EQ(st.clickhouse_code(), ch::kUnknownOverflowMode);
  EXPECT_TRUE(ApplySetting("group_by_overflow_mode", "any", &s).ok());
  st = ApplySetting("format_csv_delimiter", ";;", &s);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(s.max_result_rows, 0u);  // failed settings leave the value alone
}

TEST(SettingsTest, ParamsAreKeptAsText) {
  QuerySettings s;
  ASSERT_TRUE(ApplySetting("param_modelId", "42", &s).ok());
  ASSERT_TRUE(ApplySetting("param_name", "it's {a}\n\\", &s).ok());
  EXPECT_EQ(s.params.at("modelId"), "42");
  EXPECT_EQ(s.params.at("name"), "it's {a}\n\\");
  // `param_` alone is not a parameter.
  EXPECT_EQ(ApplySetting("param_", "1", &s).clickhouse_code(), ch::kUnknownSetting);
}

}  // namespace
}  // namespace trackhouse::query
