// Test support: the tables of the metrics guide that the ClickHouse mode's tests create (the
// guide's DDL as written: LowCardinality, DateTime64, PARTITION BY, TTL). Tests only.
#pragma once

namespace trackhouse::clickhouse {

inline constexpr const char* kEntityMetricEvents = R"(CREATE TABLE entityMetricEvents (
  entityType LowCardinality(String),
  entityId   Int32,
  userId     Int32,
  metricType LowCardinality(String),
  metricValue Int32,
  createdAt  DateTime64(3)
) ENGINE = MergeTree()
ORDER BY (entityType, entityId, createdAt))";

inline constexpr const char* kFeatureEvents = R"(CREATE TABLE my_feature_events (
  feature_id UInt32,
  user_id UInt32,
  action LowCardinality(String),
  metadata String,  -- JSON for flexible data
  created_at DateTime DEFAULT now()
) ENGINE = MergeTree()
PARTITION BY toYYYYMM(created_at)
ORDER BY (feature_id, created_at)
TTL created_at + INTERVAL 90 DAY)";

}  // namespace trackhouse::clickhouse
