#include "clickhouse/capabilities.h"

#include <gtest/gtest.h>

#include "clickhouse/test_server.h"
#include "common/error_codes.h"

namespace trackhouse::clickhouse {
namespace {

TEST(ServerVersionTest, ParsesThreeAndFourPartVersions) {
  Result<ServerVersion> old = ServerVersion::Parse("18.16.1\n");
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_EQ(*old, (ServerVersion{18, 16, 1, 0}));
  EXPECT_EQ(old->ToString(), "18.16.1");
  Result<ServerVersion> current = ServerVersion::Parse("23.8.2.7");
  ASSERT_TRUE(current.ok());
  EXPECT_EQ(*current, (ServerVersion{23, 8, 2, 7}));
  EXPECT_EQ(current->ToString(), "23.8.2.7");
}

TEST(ServerVersionTest, IgnoresSuffixesAndAcceptsTwoParts) {
  EXPECT_EQ(*ServerVersion::Parse("21.8.15.7-lts"), (ServerVersion{21, 8, 15, 7}));
  EXPECT_EQ(*ServerVersion::Parse(" 22.3.2.1 (official build)"), (ServerVersion{22, 3, 2, 1}));
  EXPECT_EQ(*ServerVersion::Parse("24.1"), (ServerVersion{24, 1, 0, 0}));
}

TEST(ServerVersionTest, RejectsTextThatIsNotAVersion) {
  for (const char* bad : {"", "eighteen", "18", "18.", ".16.1", "v18.16.1"}) {
    Result<ServerVersion> v = ServerVersion::Parse(bad);
    EXPECT_FALSE(v.ok()) << bad;
    if (!v.ok()) {
      EXPECT_EQ(v.status().code(), StatusCode::kInvalidArgument);
    }
  }
}

TEST(ServerVersionTest, ComparesMajorThenMinor) {
  ServerVersion v{19, 6, 0, 0};
  EXPECT_TRUE(v.AtLeast(19, 6));
  EXPECT_TRUE(v.AtLeast(19, 5));
  EXPECT_TRUE(v.AtLeast(18, 16));
  EXPECT_FALSE(v.AtLeast(19, 7));
  EXPECT_FALSE(v.AtLeast(20, 1));
}

TEST(CapabilitiesTest, Debian18_16LacksDateTime64TtlParametersAndDeduplicationTokens) {
  Capabilities c = Capabilities::ForVersion({18, 16, 1, 0});
  EXPECT_FALSE(c.datetime64);
  EXPECT_FALSE(c.ttl);
  EXPECT_FALSE(c.http_query_parameters);
  EXPECT_TRUE(c.low_cardinality_needs_setting);
  EXPECT_FALSE(c.insert_deduplication_token);
  EXPECT_FALSE(c.non_replicated_deduplication_window);
  EXPECT_EQ(c.RequiredSettings(),
            (Settings{{"allow_experimental_low_cardinality_type", "1"}}));
  EXPECT_EQ(c.Adaptations().size(), 5u);
}

TEST(CapabilitiesTest, EachFeatureStartsAtItsRelease) {
  EXPECT_FALSE(Capabilities::ForVersion({19, 5, 0, 0}).ttl);
  EXPECT_TRUE(Capabilities::ForVersion({19, 6, 0, 0}).ttl);
  EXPECT_FALSE(Capabilities::ForVersion({19, 10, 0, 0}).http_query_parameters);
  EXPECT_TRUE(Capabilities::ForVersion({19, 11, 0, 0}).http_query_parameters);
  EXPECT_FALSE(Capabilities::ForVersion({19, 17, 0, 0}).datetime64);
  EXPECT_TRUE(Capabilities::ForVersion({20, 1, 0, 0}).datetime64);
  EXPECT_TRUE(Capabilities::ForVersion({18, 14, 0, 0}).low_cardinality_needs_setting);
  EXPECT_FALSE(Capabilities::ForVersion({19, 1, 0, 0}).low_cardinality_needs_setting);
  EXPECT_FALSE(Capabilities::ForVersion({20, 11, 0, 0}).non_replicated_deduplication_window);
  EXPECT_TRUE(Capabilities::ForVersion({20, 12, 0, 0}).non_replicated_deduplication_window);
  EXPECT_FALSE(Capabilities::ForVersion({22, 1, 0, 0}).insert_deduplication_token);
  EXPECT_TRUE(Capabilities::ForVersion({22, 2, 0, 0}).insert_deduplication_token);
}

TEST(CapabilitiesTest, CurrentServersNeedNoAdaptation) {
  Capabilities c = Capabilities::ForVersion({23, 8, 2, 7});
  EXPECT_TRUE(c.datetime64 && c.ttl && c.http_query_parameters && c.insert_deduplication_token &&
              c.non_replicated_deduplication_window);
  EXPECT_FALSE(c.low_cardinality_needs_setting);
  EXPECT_TRUE(c.RequiredSettings().empty());
  EXPECT_TRUE(c.Adaptations().empty());
}

class DetectCapabilitiesTest : public ClickHouseSuite {};

TEST_F(DetectCapabilitiesTest, DebianServerIs18_16WithItsLimits) {
  Client client(Options());
  Result<Capabilities> c = DetectCapabilities(client);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->version.major, 18u);
  EXPECT_EQ(c->version.minor, 16u);
  EXPECT_FALSE(c->datetime64);
  EXPECT_FALSE(c->ttl);
  EXPECT_FALSE(c->http_query_parameters);
  EXPECT_TRUE(c->low_cardinality_needs_setting);
  EXPECT_FALSE(c->insert_deduplication_token);
  EXPECT_FALSE(c->non_replicated_deduplication_window);
}

TEST_F(DetectCapabilitiesTest, RequiredSettingsLetLowCardinalityTablesBeCreated) {
  Client client(Options());
  Result<Capabilities> c = DetectCapabilities(client);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const std::string ddl =
      "CREATE TABLE lc_probe (k LowCardinality(String)) ENGINE = MergeTree ORDER BY tuple()";
  Result<std::string> without = client.Query(ddl);
  ASSERT_FALSE(without.ok());
  EXPECT_EQ(without.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(without.status().message().find("allow_experimental_low_cardinality_type"),
            std::string::npos)
      << without.status().message();
  RequestOptions with;
  with.settings = c->RequiredSettings();
  Result<std::string> created = client.Query(ddl, with);
  EXPECT_TRUE(created.ok()) << created.status().ToString();
}

}  // namespace
}  // namespace trackhouse::clickhouse
