CREATE TABLE my_feature_events (
  feature_id UInt32,
  user_id UInt32,
  action LowCardinality(String),
  metadata String,  -- JSON for flexible data
  created_at DateTime DEFAULT now()
) ENGINE = MergeTree()
PARTITION BY toYYYYMM(created_at)
ORDER BY (feature_id, created_at)
TTL created_at + INTERVAL 90 DAY;  -- Auto-cleanup old data
